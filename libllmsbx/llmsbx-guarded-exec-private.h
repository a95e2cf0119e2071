/* llmsbx-guarded-exec-private.h: run one command in a sandbox with a deadline,
 * and kill everything it started when the deadline passes or the caller cancels. */
#pragma once

#include "llmsbx-backend.h"

G_BEGIN_DECLS

gint64   llmsbx_guarded_exec_deadline (double                 timeout);

gboolean llmsbx_guarded_exec          (LlmsbxBackend         *backend,
                                       const char            *sandbox_id,
                                       const char * const    *argv,
                                       const char * const    *env,
                                       const char            *workdir,
                                       double                 timeout,
                                       LlmsbxOutputCollector *output,
                                       int                   *exit_status,
                                       GCancellable          *cancellable,
                                       GError               **error);

gboolean llmsbx_guarded_exec_request  (LlmsbxBackend         *backend,
                                       const char            *sandbox_id,
                                       LlmsbxExecRequest     *request,
                                       double                 timeout,
                                       LlmsbxOutputCollector *output,
                                       int                   *exit_status,
                                       gboolean              *unstoppable,
                                       GCancellable          *cancellable,
                                       GError               **error);

char    *llmsbx_guarded_exec_add_token  (LlmsbxExecRequest     *request);
gboolean llmsbx_guarded_exec_kill_token (LlmsbxBackend         *backend,
                                         const char            *sandbox_id,
                                         const char            *token,
                                         GError               **error);

G_END_DECLS
