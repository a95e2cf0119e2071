/* llmsbx-sandbox-session.h: a sandbox that runs code, the object users hold. */
#pragma once

#if !defined(LLMSBX_INSIDE) && !defined(LLMSBX_COMPILATION)
#error "Only <llmsbx.h> can be included directly."
#endif

#include <gio/gio.h>
#include "llmsbx-visibility.h"
#include "llmsbx-backend.h"
#include "llmsbx-execution-result.h"
#include "llmsbx-language-handler.h"
#include "llmsbx-security-policy.h"
#include "llmsbx-sandbox-pool.h"

G_BEGIN_DECLS

/**
 * LLMSBX_DEFAULT_TIMEOUT:
 *
 * Seconds an execution may take when neither the run nor the session says otherwise.
 *
 * Since: 0.1
 */
#define LLMSBX_DEFAULT_TIMEOUT 30.0

/**
 * LLMSBX_DEFAULT_OUTPUT_LIMIT:
 *
 * Bytes of each output stream kept per execution by default.
 *
 * Since: 0.1
 */
#define LLMSBX_DEFAULT_OUTPUT_LIMIT (16 * 1024 * 1024)

/**
 * LLMSBX_DEFAULT_COPY_LIMIT:
 *
 * Bytes of archive a copy may move by default (1 GiB).
 *
 * Since: 0.1
 */
#define LLMSBX_DEFAULT_COPY_LIMIT (G_GUINT64_CONSTANT (1) << 30)

/**
 * LlmsbxCodeRunnerMode:
 * @LLMSBX_CODE_RUNNER_MODE_AUTO: the resident runner where it can start,
 *   else one exec per command; the verbose log says which and why
 * @LLMSBX_CODE_RUNNER_MODE_EXEC: one exec per command, as before the
 *   resident runner existed
 * @LLMSBX_CODE_RUNNER_MODE_RESIDENT: the resident runner only: a run fails
 *   when the runner cannot be started
 *
 * How a session's runs reach its sandbox (#LlmsbxSandboxSession:code-runner).
 *
 * Since: 0.1
 */
typedef enum {
  LLMSBX_CODE_RUNNER_MODE_AUTO,
  LLMSBX_CODE_RUNNER_MODE_EXEC,
  LLMSBX_CODE_RUNNER_MODE_RESIDENT,
} LlmsbxCodeRunnerMode;

#define LLMSBX_TYPE_SANDBOX_SESSION (llmsbx_sandbox_session_get_type ())
LLMSBX_AVAILABLE_IN_ALL
G_DECLARE_DERIVABLE_TYPE (LlmsbxSandboxSession, llmsbx_sandbox_session, LLMSBX, SANDBOX_SESSION, GObject)

/**
 * LlmsbxSandboxSessionClass:
 * @parent_class: the parent class
 *
 * The class of sessions. Subclasses (a session for artifacts, an interactive
 * one) set their defaults in their instance init, which runs before the
 * properties given to g_object_new() are applied, and add methods built on
 * the public API; a run is never re-implemented.
 *
 * Since: 0.1
 */
struct _LlmsbxSandboxSessionClass
{
  GObjectClass parent_class;

  /*< private >*/
  /* Taken from the padding: what a run captures besides its output (the
   * artifact session's hook). @capture is an LlmsbxArtifactCapture, private
   * to the library (llmsbx-sandbox-session-private.h); FALSE captures nothing. */
  gboolean (*capture_artifacts) (LlmsbxSandboxSession *self,
                                 gpointer              capture);

  /* Virtual methods added later take their slots from here, one per pointer. */
  gpointer padding[15];
};

LLMSBX_AVAILABLE_IN_ALL
LlmsbxSandboxSession *llmsbx_sandbox_session_new (const char *lang);

/* Configuration (all of it is also available as properties). */
LLMSBX_AVAILABLE_IN_ALL
const char *llmsbx_sandbox_session_get_lang     (LlmsbxSandboxSession *self);
LLMSBX_AVAILABLE_IN_ALL
const char *llmsbx_sandbox_session_get_backend  (LlmsbxSandboxSession *self);
LLMSBX_AVAILABLE_IN_ALL
LlmsbxBackend *llmsbx_sandbox_session_get_client (LlmsbxSandboxSession *self);
LLMSBX_AVAILABLE_IN_ALL
const char *llmsbx_sandbox_session_get_image    (LlmsbxSandboxSession *self);
LLMSBX_AVAILABLE_IN_ALL
const char *llmsbx_sandbox_session_get_commit_image (LlmsbxSandboxSession *self);
LLMSBX_AVAILABLE_IN_ALL
const char *llmsbx_sandbox_session_get_workdir  (LlmsbxSandboxSession *self);
LLMSBX_AVAILABLE_IN_ALL
const char *llmsbx_sandbox_session_get_container_id (LlmsbxSandboxSession *self);
LLMSBX_AVAILABLE_IN_ALL
gboolean    llmsbx_sandbox_session_get_is_open  (LlmsbxSandboxSession *self);
LLMSBX_AVAILABLE_IN_ALL
GVariant   *llmsbx_sandbox_session_get_runtime_configs (LlmsbxSandboxSession *self);
LLMSBX_AVAILABLE_IN_ALL
void        llmsbx_sandbox_session_set_runtime_configs (LlmsbxSandboxSession *self,
                                                        GVariant             *configs);
LLMSBX_AVAILABLE_IN_ALL
gboolean    llmsbx_sandbox_session_set_runtime_configs_json (LlmsbxSandboxSession *self,
                                                             const char           *json,
                                                             GError              **error);
LLMSBX_AVAILABLE_IN_ALL
gboolean    llmsbx_sandbox_session_set_pod_manifest_json (LlmsbxSandboxSession *self,
                                                          const char           *json,
                                                          GError              **error);
LLMSBX_AVAILABLE_IN_ALL
LlmsbxLanguageHandler *llmsbx_sandbox_session_get_language_handler (LlmsbxSandboxSession *self);
LLMSBX_AVAILABLE_IN_ALL
LlmsbxSecurityPolicy *llmsbx_sandbox_session_get_security_policy (LlmsbxSandboxSession *self);
LLMSBX_AVAILABLE_IN_ALL
void        llmsbx_sandbox_session_set_security_policy (LlmsbxSandboxSession *self,
                                                        LlmsbxSecurityPolicy *policy);

/* Lifecycle. */
LLMSBX_AVAILABLE_IN_ALL
gboolean llmsbx_sandbox_session_open         (LlmsbxSandboxSession *self,
                                              GCancellable         *cancellable,
                                              GError              **error);
LLMSBX_AVAILABLE_IN_ALL
void     llmsbx_sandbox_session_open_async   (LlmsbxSandboxSession *self,
                                              GCancellable         *cancellable,
                                              GAsyncReadyCallback   callback,
                                              gpointer              user_data);
LLMSBX_AVAILABLE_IN_ALL
gboolean llmsbx_sandbox_session_open_finish  (LlmsbxSandboxSession *self,
                                              GAsyncResult         *result,
                                              GError              **error);
LLMSBX_AVAILABLE_IN_ALL
gboolean llmsbx_sandbox_session_close        (LlmsbxSandboxSession *self,
                                              GCancellable         *cancellable,
                                              GError              **error);
LLMSBX_AVAILABLE_IN_ALL
void     llmsbx_sandbox_session_close_async  (LlmsbxSandboxSession *self,
                                              GCancellable         *cancellable,
                                              GAsyncReadyCallback   callback,
                                              gpointer              user_data);
LLMSBX_AVAILABLE_IN_ALL
gboolean llmsbx_sandbox_session_close_finish (LlmsbxSandboxSession *self,
                                              GAsyncResult         *result,
                                              GError              **error);

/* Running code. */
LLMSBX_AVAILABLE_IN_ALL
LlmsbxExecutionResult *llmsbx_sandbox_session_run          (LlmsbxSandboxSession *self,
                                                            const char           *code,
                                                            const char * const   *libraries,
                                                            double                timeout,
                                                            GCancellable         *cancellable,
                                                            GError              **error);
LLMSBX_AVAILABLE_IN_ALL
void                   llmsbx_sandbox_session_run_async    (LlmsbxSandboxSession *self,
                                                            const char           *code,
                                                            const char * const   *libraries,
                                                            double                timeout,
                                                            GCancellable         *cancellable,
                                                            GAsyncReadyCallback   callback,
                                                            gpointer              user_data);
LLMSBX_AVAILABLE_IN_ALL
LlmsbxExecutionResult *llmsbx_sandbox_session_run_finish   (LlmsbxSandboxSession *self,
                                                            GAsyncResult         *result,
                                                            GError              **error);
LLMSBX_AVAILABLE_IN_ALL
LlmsbxExecutionResult *llmsbx_sandbox_session_execute_command (LlmsbxSandboxSession *self,
                                                               const char           *command,
                                                               const char           *workdir,
                                                               GCancellable         *cancellable,
                                                               GError              **error);
LLMSBX_AVAILABLE_IN_ALL
LlmsbxExecutionResult *llmsbx_sandbox_session_execute_argv (LlmsbxSandboxSession *self,
                                                            const char * const   *argv,
                                                            const char           *workdir,
                                                            GCancellable         *cancellable,
                                                            GError              **error);
LLMSBX_AVAILABLE_IN_ALL
void                   llmsbx_sandbox_session_execute_command_async  (LlmsbxSandboxSession *self,
                                                                      const char           *command,
                                                                      const char           *workdir,
                                                                      GCancellable         *cancellable,
                                                                      GAsyncReadyCallback   callback,
                                                                      gpointer              user_data);
LLMSBX_AVAILABLE_IN_ALL
LlmsbxExecutionResult *llmsbx_sandbox_session_execute_command_finish (LlmsbxSandboxSession *self,
                                                                      GAsyncResult         *result,
                                                                      GError              **error);
LLMSBX_AVAILABLE_IN_ALL
void                   llmsbx_sandbox_session_execute_argv_async     (LlmsbxSandboxSession *self,
                                                                      const char * const   *argv,
                                                                      const char           *workdir,
                                                                      GCancellable         *cancellable,
                                                                      GAsyncReadyCallback   callback,
                                                                      gpointer              user_data);
LLMSBX_AVAILABLE_IN_ALL
LlmsbxExecutionResult *llmsbx_sandbox_session_execute_argv_finish    (LlmsbxSandboxSession *self,
                                                                      GAsyncResult         *result,
                                                                      GError              **error);
LLMSBX_AVAILABLE_IN_ALL
gboolean llmsbx_sandbox_session_is_safe (LlmsbxSandboxSession  *self,
                                         const char            *code,
                                         GPtrArray            **violations,
                                         GError               **error);
LLMSBX_AVAILABLE_IN_ALL
gboolean llmsbx_sandbox_session_install (LlmsbxSandboxSession *self,
                                         const char * const   *libraries,
                                         GCancellable         *cancellable,
                                         GError              **error);
LLMSBX_AVAILABLE_IN_ALL
void     llmsbx_sandbox_session_install_async  (LlmsbxSandboxSession *self,
                                                const char * const   *libraries,
                                                GCancellable         *cancellable,
                                                GAsyncReadyCallback   callback,
                                                gpointer              user_data);
LLMSBX_AVAILABLE_IN_ALL
gboolean llmsbx_sandbox_session_install_finish (LlmsbxSandboxSession *self,
                                                GAsyncResult         *result,
                                                GError              **error);

/* Files. */
LLMSBX_AVAILABLE_IN_ALL
gboolean llmsbx_sandbox_session_copy_to_runtime   (LlmsbxSandboxSession *self,
                                                   const char           *src,
                                                   const char           *dest,
                                                   GCancellable         *cancellable,
                                                   GError              **error);
LLMSBX_AVAILABLE_IN_ALL
gboolean llmsbx_sandbox_session_copy_from_runtime (LlmsbxSandboxSession *self,
                                                   const char           *src,
                                                   const char           *dest,
                                                   GCancellable         *cancellable,
                                                   GError              **error);
LLMSBX_AVAILABLE_IN_ALL
void     llmsbx_sandbox_session_copy_to_runtime_async    (LlmsbxSandboxSession *self,
                                                          const char           *src,
                                                          const char           *dest,
                                                          GCancellable         *cancellable,
                                                          GAsyncReadyCallback   callback,
                                                          gpointer              user_data);
LLMSBX_AVAILABLE_IN_ALL
gboolean llmsbx_sandbox_session_copy_to_runtime_finish   (LlmsbxSandboxSession *self,
                                                          GAsyncResult         *result,
                                                          GError              **error);
LLMSBX_AVAILABLE_IN_ALL
void     llmsbx_sandbox_session_copy_from_runtime_async  (LlmsbxSandboxSession *self,
                                                          const char           *src,
                                                          const char           *dest,
                                                          GCancellable         *cancellable,
                                                          GAsyncReadyCallback   callback,
                                                          gpointer              user_data);
LLMSBX_AVAILABLE_IN_ALL
gboolean llmsbx_sandbox_session_copy_from_runtime_finish (LlmsbxSandboxSession *self,
                                                          GAsyncResult         *result,
                                                          GError              **error);

G_END_DECLS
