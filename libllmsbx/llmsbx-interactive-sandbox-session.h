/* llmsbx-interactive-sandbox-session.h: a session whose runs share one state,
 * like the cells of a notebook. */
#pragma once

#if !defined(LLMSBX_INSIDE) && !defined(LLMSBX_COMPILATION)
#error "Only <llmsbx.h> can be included directly."
#endif

#include "llmsbx-sandbox-session.h"

G_BEGIN_DECLS

#define LLMSBX_TYPE_INTERACTIVE_SANDBOX_SESSION (llmsbx_interactive_sandbox_session_get_type ())
LLMSBX_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (LlmsbxInteractiveSandboxSession, llmsbx_interactive_sandbox_session,
                      LLMSBX, INTERACTIVE_SANDBOX_SESSION, LlmsbxSandboxSession)

LLMSBX_AVAILABLE_IN_ALL
LlmsbxInteractiveSandboxSession *llmsbx_interactive_sandbox_session_new (const char *lang);

LLMSBX_AVAILABLE_IN_ALL
gboolean llmsbx_interactive_sandbox_session_reset           (LlmsbxInteractiveSandboxSession *self,
                                                             GCancellable                    *cancellable,
                                                             GError                         **error);
LLMSBX_AVAILABLE_IN_ALL
gboolean llmsbx_interactive_sandbox_session_get_fresh_state (LlmsbxInteractiveSandboxSession *self);

G_END_DECLS
