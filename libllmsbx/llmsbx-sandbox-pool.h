/* llmsbx-sandbox-pool.h: warm sandboxes handed to one user at a time. */
#pragma once

#if !defined(LLMSBX_INSIDE) && !defined(LLMSBX_COMPILATION)
#error "Only <llmsbx.h> can be included directly."
#endif

#include <gio/gio.h>
#include "llmsbx-visibility.h"
#include "llmsbx-backend.h"

G_BEGIN_DECLS

/**
 * LlmsbxPoolExhaustion:
 * @LLMSBX_POOL_EXHAUSTION_FAIL_FAST: fail at once with %LLMSBX_ERROR_LIMIT_EXCEEDED
 * @LLMSBX_POOL_EXHAUSTION_WAIT: wait for a sandbox until #LlmsbxSandboxPool:acquire-timeout
 *   passes (then %LLMSBX_ERROR_TIMEOUT) or the call is cancelled
 * @LLMSBX_POOL_EXHAUSTION_TEMPORARY: create a sandbox beyond #LlmsbxSandboxPool:max-size,
 *   destroyed when its user is done; it never joins the pool
 *
 * What llmsbx_sandbox_pool_acquire() does when all #LlmsbxSandboxPool:max-size
 * sandboxes are in use.
 *
 * Since: 0.1
 */
typedef enum {
  LLMSBX_POOL_EXHAUSTION_FAIL_FAST,
  LLMSBX_POOL_EXHAUSTION_WAIT,
  LLMSBX_POOL_EXHAUSTION_TEMPORARY,
} LlmsbxPoolExhaustion;

#define LLMSBX_TYPE_SANDBOX_POOL (llmsbx_sandbox_pool_get_type ())
LLMSBX_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (LlmsbxSandboxPool, llmsbx_sandbox_pool, LLMSBX, SANDBOX_POOL, GObject)

/* Defined in llmsbx-sandbox-session.h, which includes this header. */
typedef struct _LlmsbxSandboxSession LlmsbxSandboxSession;

LLMSBX_AVAILABLE_IN_ALL
LlmsbxSandboxPool    *llmsbx_sandbox_pool_new         (const char         *lang);
LLMSBX_AVAILABLE_IN_ALL
gboolean              llmsbx_sandbox_pool_start       (LlmsbxSandboxPool  *self,
                                                       GError            **error);
LLMSBX_AVAILABLE_IN_ALL
LlmsbxSandboxSession *llmsbx_sandbox_pool_acquire     (LlmsbxSandboxPool  *self,
                                                       GCancellable       *cancellable,
                                                       GError            **error);
LLMSBX_AVAILABLE_IN_ALL
void                  llmsbx_sandbox_pool_acquire_async  (LlmsbxSandboxPool   *self,
                                                          GCancellable        *cancellable,
                                                          GAsyncReadyCallback  callback,
                                                          gpointer             user_data);
LLMSBX_AVAILABLE_IN_ALL
LlmsbxSandboxSession *llmsbx_sandbox_pool_acquire_finish (LlmsbxSandboxPool   *self,
                                                          GAsyncResult        *result,
                                                          GError             **error);
LLMSBX_AVAILABLE_IN_ALL
gboolean              llmsbx_sandbox_pool_close       (LlmsbxSandboxPool  *self,
                                                       GCancellable       *cancellable,
                                                       GError            **error);
LLMSBX_AVAILABLE_IN_ALL
GVariant             *llmsbx_sandbox_pool_get_stats   (LlmsbxSandboxPool  *self);
LLMSBX_AVAILABLE_IN_ALL
const char           *llmsbx_sandbox_pool_get_lang    (LlmsbxSandboxPool  *self);
LLMSBX_AVAILABLE_IN_ALL
gboolean              llmsbx_sandbox_pool_get_is_closed (LlmsbxSandboxPool *self);

G_END_DECLS
