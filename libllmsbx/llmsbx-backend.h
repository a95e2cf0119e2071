/* llmsbx-backend.h: the container driver that backend plugins implement. */
#pragma once

#if !defined(LLMSBX_INSIDE) && !defined(LLMSBX_COMPILATION)
#error "Only <llmsbx.h> can be included directly."
#endif

#include <gio/gio.h>
#include "llmsbx-visibility.h"
#include "llmsbx-container-spec.h"
#include "llmsbx-exec-request.h"
#include "llmsbx-output-collector.h"
#include "llmsbx-sandbox-info.h"

G_BEGIN_DECLS

/* Defined in llmsbx-security-preset.h, which needs this header. */
typedef struct _LlmsbxSecurityPreset LlmsbxSecurityPreset;

#define LLMSBX_TYPE_BACKEND (llmsbx_backend_get_type ())
LLMSBX_AVAILABLE_IN_ALL
G_DECLARE_DERIVABLE_TYPE (LlmsbxBackend, llmsbx_backend, LLMSBX, BACKEND, GObject)

/**
 * LlmsbxBackendClass:
 * @parent_class: the parent class
 * @connect: reach the engine and agree on a protocol version. Called before any other
 *   method; must be cheap when already connected. Fails with %LLMSBX_ERROR_BACKEND_UNAVAILABLE.
 * @ensure_image: make @image available locally: use it when present, pull it otherwise.
 *   Sets @pulled to %TRUE when it had to pull. Fails with %LLMSBX_ERROR_IMAGE_NOT_FOUND.
 * @build_image: build @tag from a Dockerfile in @context_dir.
 * @remove_image: remove an image.
 * @create_sandbox: create and start a sandbox from @spec and return its id. On failure
 *   nothing it created may remain.
 * @attach_sandbox: make sure an existing sandbox is running and return its full id.
 * @exec: run @request in the sandbox, append output to @output and return the exit status.
 *   When the request's deadline passes it fails with %LLMSBX_ERROR_TIMEOUT (the process may
 *   still be running; the caller kills it). When the engine could not start the process
 *   (a missing program or working directory, a full process limit) it fails with
 *   %LLMSBX_ERROR_COMMAND_NOT_STARTED, whatever exit status the engine reported.
 *   The request's @stdin_data, when set, is written to the process's standard input.
 * @put_archive: unpack a tar archive into the existing directory @dest_dir. An entry
 *   must never replace an existing directory with a non-directory, or the reverse: such
 *   an archive fails with %G_IO_ERROR_EXISTS.
 * @get_archive: return a tar archive of @path, following @path itself when it is a symbolic link.
 * @commit: commit the sandbox's filesystem to the image @image.
 * @remove_sandbox: stop and remove a sandbox and its anonymous volumes.
 * @probe: say whether the backend is usable here, cheaply (for an engine, a ping with a
 *   short timeout), with a #GError that says why not. The registry probes backends by
 *   falling rank to choose one when a session names none. The default calls @connect.
 * @list_sandboxes: the sandboxes of this backend that carry every label of a selector
 *   (`key=value` or `key`), as #LlmsbxSandboxInfo: how leftovers are found and reaped,
 *   and how a pool finds its own. Not implemented by default.
 * @render_preset: turn the backend-neutral #LlmsbxSecurityLimits of a preset
 *   (llmsbx_security_preset_get_limits()) into this backend's settings, set on the preset
 *   with llmsbx_security_preset_set_runtime_config() (docker-py runtime configs) or
 *   llmsbx_security_preset_set_pod_manifest_fragment(). Fails with
 *   %LLMSBX_ERROR_INVALID_ARGUMENT for limits the backend cannot enforce. A backend
 *   without it gets no presets.
 * @get_archive_to_stream: write a tar archive of @path to @output as it arrives, so that
 *   no archive is held in memory whatever its size. An error of @output is returned
 *   unchanged; @output is not closed. The default implementation writes what @get_archive
 *   returns.
 *
 * Virtual methods of a backend. All are synchronous and may be called from any thread,
 * one at a time per sandbox. @render_preset needs no engine and may be called on a
 * backend that never connected.
 *
 * Contract v2 took @probe, @list_sandboxes, @render_preset and @get_archive_to_stream
 * from the padding, so plugins built before them keep working and get the defaults. The padding left is
 * meant for an attached bidirectional exec stream and for settings a backend declares
 * itself; `tests/unit/test-abi.c` pins the size of this structure.
 *
 * Since: 0.1
 */
struct _LlmsbxBackendClass
{
  GObjectClass parent_class;

  gboolean (*connect)        (LlmsbxBackend        *self,
                              GCancellable         *cancellable,
                              GError              **error);
  gboolean (*ensure_image)   (LlmsbxBackend        *self,
                              const char           *image,
                              gboolean             *pulled,
                              GCancellable         *cancellable,
                              GError              **error);
  gboolean (*build_image)    (LlmsbxBackend        *self,
                              const char           *context_dir,
                              const char           *dockerfile,
                              const char           *tag,
                              GCancellable         *cancellable,
                              GError              **error);
  gboolean (*remove_image)   (LlmsbxBackend        *self,
                              const char           *image,
                              GCancellable         *cancellable,
                              GError              **error);
  char    *(*create_sandbox) (LlmsbxBackend        *self,
                              LlmsbxContainerSpec  *spec,
                              GCancellable         *cancellable,
                              GError              **error);
  char    *(*attach_sandbox) (LlmsbxBackend        *self,
                              const char           *sandbox_id,
                              GCancellable         *cancellable,
                              GError              **error);
  gboolean (*exec)           (LlmsbxBackend        *self,
                              const char           *sandbox_id,
                              LlmsbxExecRequest    *request,
                              LlmsbxOutputCollector *output,
                              int                  *exit_status,
                              GCancellable         *cancellable,
                              GError              **error);
  gboolean (*put_archive)    (LlmsbxBackend        *self,
                              const char           *sandbox_id,
                              const char           *dest_dir,
                              GBytes               *archive,
                              GCancellable         *cancellable,
                              GError              **error);
  GBytes  *(*get_archive)    (LlmsbxBackend        *self,
                              const char           *sandbox_id,
                              const char           *path,
                              GCancellable         *cancellable,
                              GError              **error);
  gboolean (*commit)         (LlmsbxBackend        *self,
                              const char           *sandbox_id,
                              const char           *image,
                              GCancellable         *cancellable,
                              GError              **error);
  gboolean (*remove_sandbox) (LlmsbxBackend        *self,
                              const char           *sandbox_id,
                              GCancellable         *cancellable,
                              GError              **error);

  gboolean   (*probe)          (LlmsbxBackend        *self,
                                GCancellable         *cancellable,
                                GError              **error);
  GPtrArray *(*list_sandboxes) (LlmsbxBackend        *self,
                                const char * const   *label_selector,
                                GCancellable         *cancellable,
                                GError              **error);
  gboolean   (*render_preset)  (LlmsbxBackend        *self,
                                LlmsbxSecurityPreset *preset,
                                GError              **error);
  gboolean (*get_archive_to_stream) (LlmsbxBackend  *self,
                                     const char     *sandbox_id,
                                     const char     *path,
                                     GOutputStream  *output,
                                     GCancellable   *cancellable,
                                     GError        **error);

  /*< private >*/
  gpointer padding[12];
};

LLMSBX_AVAILABLE_IN_ALL
const char *llmsbx_backend_get_name          (LlmsbxBackend *self);
LLMSBX_AVAILABLE_IN_ALL
const char *llmsbx_backend_get_url           (LlmsbxBackend *self);
LLMSBX_AVAILABLE_IN_ALL
void        llmsbx_backend_set_url           (LlmsbxBackend *self,
                                              const char    *url);
LLMSBX_AVAILABLE_IN_ALL
const char *llmsbx_backend_get_tls_ca_file   (LlmsbxBackend *self);
LLMSBX_AVAILABLE_IN_ALL
const char *llmsbx_backend_get_tls_cert_file (LlmsbxBackend *self);
LLMSBX_AVAILABLE_IN_ALL
const char *llmsbx_backend_get_tls_key_file  (LlmsbxBackend *self);
LLMSBX_AVAILABLE_IN_ALL
gboolean    llmsbx_backend_get_tls_verify    (LlmsbxBackend *self);
LLMSBX_AVAILABLE_IN_ALL
double      llmsbx_backend_get_connect_timeout (LlmsbxBackend *self);
LLMSBX_AVAILABLE_IN_ALL
double      llmsbx_backend_get_request_timeout (LlmsbxBackend *self);
LLMSBX_AVAILABLE_IN_ALL
guint       llmsbx_backend_get_request_count (LlmsbxBackend *self);
LLMSBX_AVAILABLE_IN_ALL
void        llmsbx_backend_count_request     (LlmsbxBackend *self);

LLMSBX_AVAILABLE_IN_ALL
gboolean llmsbx_backend_connect        (LlmsbxBackend         *self,
                                        GCancellable          *cancellable,
                                        GError               **error);
LLMSBX_AVAILABLE_IN_ALL
gboolean llmsbx_backend_ensure_image   (LlmsbxBackend         *self,
                                        const char            *image,
                                        gboolean              *pulled,
                                        GCancellable          *cancellable,
                                        GError               **error);
LLMSBX_AVAILABLE_IN_ALL
gboolean llmsbx_backend_build_image    (LlmsbxBackend         *self,
                                        const char            *context_dir,
                                        const char            *dockerfile,
                                        const char            *tag,
                                        GCancellable          *cancellable,
                                        GError               **error);
LLMSBX_AVAILABLE_IN_ALL
gboolean llmsbx_backend_remove_image   (LlmsbxBackend         *self,
                                        const char            *image,
                                        GCancellable          *cancellable,
                                        GError               **error);
LLMSBX_AVAILABLE_IN_ALL
char    *llmsbx_backend_create_sandbox (LlmsbxBackend         *self,
                                        LlmsbxContainerSpec   *spec,
                                        GCancellable          *cancellable,
                                        GError               **error);
LLMSBX_AVAILABLE_IN_ALL
char    *llmsbx_backend_attach_sandbox (LlmsbxBackend         *self,
                                        const char            *sandbox_id,
                                        GCancellable          *cancellable,
                                        GError               **error);
LLMSBX_AVAILABLE_IN_ALL
gboolean llmsbx_backend_exec           (LlmsbxBackend         *self,
                                        const char            *sandbox_id,
                                        LlmsbxExecRequest     *request,
                                        LlmsbxOutputCollector *output,
                                        int                   *exit_status,
                                        GCancellable          *cancellable,
                                        GError               **error);
LLMSBX_AVAILABLE_IN_ALL
gboolean llmsbx_backend_put_archive    (LlmsbxBackend         *self,
                                        const char            *sandbox_id,
                                        const char            *dest_dir,
                                        GBytes                *archive,
                                        GCancellable          *cancellable,
                                        GError               **error);
LLMSBX_AVAILABLE_IN_ALL
GBytes  *llmsbx_backend_get_archive    (LlmsbxBackend         *self,
                                        const char            *sandbox_id,
                                        const char            *path,
                                        GCancellable          *cancellable,
                                        GError               **error);
LLMSBX_AVAILABLE_IN_ALL
gboolean llmsbx_backend_get_archive_to_stream (LlmsbxBackend  *self,
                                               const char     *sandbox_id,
                                               const char     *path,
                                               GOutputStream  *output,
                                               GCancellable   *cancellable,
                                               GError        **error);
LLMSBX_AVAILABLE_IN_ALL
gboolean llmsbx_backend_commit         (LlmsbxBackend         *self,
                                        const char            *sandbox_id,
                                        const char            *image,
                                        GCancellable          *cancellable,
                                        GError               **error);
LLMSBX_AVAILABLE_IN_ALL
gboolean llmsbx_backend_remove_sandbox (LlmsbxBackend         *self,
                                        const char            *sandbox_id,
                                        GCancellable          *cancellable,
                                        GError               **error);
LLMSBX_AVAILABLE_IN_ALL
gboolean llmsbx_backend_probe          (LlmsbxBackend         *self,
                                        GCancellable          *cancellable,
                                        GError               **error);
LLMSBX_AVAILABLE_IN_ALL
GPtrArray *llmsbx_backend_list_sandboxes (LlmsbxBackend       *self,
                                          const char * const  *label_selector,
                                          GCancellable        *cancellable,
                                          GError             **error);
LLMSBX_AVAILABLE_IN_ALL
gboolean llmsbx_backend_render_preset  (LlmsbxBackend         *self,
                                        LlmsbxSecurityPreset  *preset,
                                        GError               **error);

G_END_DECLS
