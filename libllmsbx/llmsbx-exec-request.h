/* llmsbx-exec-request.h: one command for a backend to run in a sandbox. */
#pragma once

#if !defined(LLMSBX_INSIDE) && !defined(LLMSBX_COMPILATION)
#error "Only <llmsbx.h> can be included directly."
#endif

#include <glib-object.h>
#include "llmsbx-visibility.h"

G_BEGIN_DECLS

#define LLMSBX_TYPE_EXEC_REQUEST (llmsbx_exec_request_get_type ())

/**
 * LlmsbxExecRequest:
 * @argv: (array zero-terminated=1): the exact argv; no shell is involved
 * @env: (array zero-terminated=1) (nullable): extra `KEY=VALUE` environment entries
 * @workdir: (nullable): working directory inside the sandbox
 * @user: (nullable): user to run as (`uid[:gid]` or a name); %NULL for the sandbox's user
 * @deadline: monotonic time (g_get_monotonic_time()) after which the backend gives up
 *   with %LLMSBX_ERROR_TIMEOUT; 0 for none
 * @stdin_data: (nullable): bytes the command reads on its standard input,
 *   followed by its end where the transport can say so (the engine backends
 *   over TLS cannot: the command sees the data and no end of it); %NULL for
 *   no standard input. A command that must work everywhere reads a known
 *   length. The deadline covers sending it.
 *
 * A command for llmsbx_backend_exec(). Make it with llmsbx_exec_request_new()
 * and free it with llmsbx_exec_request_free(): fields may be added at the
 * end, so plugins and applications never allocate it themselves.
 *
 * Since: 0.1
 */
typedef struct {
  char  **argv;
  char  **env;
  char   *workdir;
  char   *user;
  gint64  deadline;
  GBytes *stdin_data;
} LlmsbxExecRequest;

LLMSBX_AVAILABLE_IN_ALL
GType              llmsbx_exec_request_get_type (void) G_GNUC_CONST;
LLMSBX_AVAILABLE_IN_ALL
LlmsbxExecRequest *llmsbx_exec_request_new  (const char * const *argv);
LLMSBX_AVAILABLE_IN_ALL
LlmsbxExecRequest *llmsbx_exec_request_copy (const LlmsbxExecRequest *self);
LLMSBX_AVAILABLE_IN_ALL
void               llmsbx_exec_request_free (LlmsbxExecRequest *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (LlmsbxExecRequest, llmsbx_exec_request_free)

G_END_DECLS
