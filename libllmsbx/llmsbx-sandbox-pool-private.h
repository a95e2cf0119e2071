/* llmsbx-sandbox-pool-private.h: how a session borrows a sandbox from a pool. */
#pragma once

#include "llmsbx-sandbox-pool.h"

G_BEGIN_DECLS

/* One sandbox of a pool while a session holds it. */
typedef struct _LlmsbxPoolLease LlmsbxPoolLease;

LlmsbxPoolLease *llmsbx_sandbox_pool_lease          (LlmsbxSandboxPool  *self,
                                                     GCancellable       *cancellable,
                                                     GError            **error);
void             llmsbx_sandbox_pool_return         (LlmsbxSandboxPool  *self,
                                                     LlmsbxPoolLease    *lease);
LlmsbxBackend   *llmsbx_pool_lease_get_backend      (LlmsbxPoolLease    *lease);
const char      *llmsbx_pool_lease_get_sandbox_id   (LlmsbxPoolLease    *lease);
/* The variable every exec of the lease carries, "LLMSBX_POOL_LEASE=<token>":
 * how a reset finds what the user started where the sandbox's processes
 * cannot all be told apart from others. */
const char      *llmsbx_pool_lease_get_env          (LlmsbxPoolLease    *lease);
const char      *llmsbx_sandbox_pool_get_workdir    (LlmsbxSandboxPool  *self);
const char      *llmsbx_sandbox_pool_get_image      (LlmsbxSandboxPool  *self);

G_END_DECLS
