/* llmsbx-engine-backend-private.h: what the engine backend's files share
 * with each other and with its subclasses, inside the static library and
 * the plugins that link it (hidden from everything else). */
#pragma once

#include "llmsbx-engine-backend.h"

G_BEGIN_DECLS

/* Where an exec's output goes (nullable), and the start of its stdout and
 * stderr (NUL-terminated), where the engine puts its runtime's message when
 * it could not start the exec: Docker on stdout, Podman on stderr. */
typedef struct
{
  LlmsbxOutputCollector *collector;
  char                   head[2][512];
  gsize                  head_length[2];
} LlmsbxEngineExecOutput;

/* llmsbx-engine-backend.c: what subclasses share */
char      *llmsbx_engine_archive_path           (const char             *sandbox_id,
                                                 const char             *sandbox_path);
gboolean   llmsbx_engine_fail_container         (GError                **error,
                                                 GError                 *local,
                                                 const char             *sandbox_id,
                                                 const char             *what);

/* llmsbx-engine-backend.c: the steps of an exec */
void       llmsbx_engine_exec_output_note       (LlmsbxEngineExecOutput *output,
                                                 LlmsbxOutputStream      stream,
                                                 const guint8           *data,
                                                 gsize                   length);
char      *llmsbx_engine_exec_create            (LlmsbxEngineBackend    *self,
                                                 LlmsbxEngineClient     *client,
                                                 const char             *sandbox_id,
                                                 LlmsbxExecRequest      *request,
                                                 gboolean                attach_stdin,
                                                 GCancellable           *cancellable,
                                                 GError                **error);
void       llmsbx_engine_exec_start_request     (const char             *exec_id,
                                                 gint64                  deadline,
                                                 LlmsbxEngineRequest    *start,
                                                 char                  **path,
                                                 GBytes                **body);
gboolean   llmsbx_engine_exec_start_failed      (LlmsbxEngineBackend    *self,
                                                 LlmsbxEngineClient     *client,
                                                 const char             *sandbox_id,
                                                 GError                 *local_error,
                                                 GCancellable           *cancellable,
                                                 GError                **error);
gboolean   llmsbx_engine_exec_conclude          (LlmsbxEngineBackend    *self,
                                                 LlmsbxEngineClient     *client,
                                                 const char             *sandbox_id,
                                                 const char             *exec_id,
                                                 gint64                  deadline,
                                                 LlmsbxEngineExecOutput *exec_output,
                                                 gboolean                probing,
                                                 int                    *exit_status,
                                                 GCancellable           *cancellable,
                                                 GError                **error);

/* llmsbx-engine-exec-stream.c */
LlmsbxExecStream *llmsbx_engine_backend_open_exec_stream (LlmsbxBackend      *backend,
                                                          const char         *sandbox_id,
                                                          LlmsbxExecRequest  *request,
                                                          GCancellable       *cancellable,
                                                          GError            **error);

/* llmsbx-engine-probe.c */
gboolean   llmsbx_engine_backend_probe          (LlmsbxBackend        *backend,
                                                 GCancellable         *cancellable,
                                                 GError              **error);

/* llmsbx-engine-sandbox-list.c */
GPtrArray *llmsbx_engine_backend_list_sandboxes (LlmsbxBackend        *backend,
                                                 const char * const   *label_selector,
                                                 GCancellable         *cancellable,
                                                 GError              **error);

G_END_DECLS
