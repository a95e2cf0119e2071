/* llmsbx-lifetime-watchdog-private.h: ends a sandbox when its session's
 * lifetime passes, even while the session is idle or busy running code. */
#pragma once

#include "llmsbx-backend.h"

G_BEGIN_DECLS

typedef struct _LlmsbxLifetimeWatchdog LlmsbxLifetimeWatchdog;

LlmsbxLifetimeWatchdog *llmsbx_lifetime_watchdog_start       (LlmsbxBackend          *backend,
                                                              const char             *sandbox_id,
                                                              gboolean                remove_sandbox,
                                                              gint64                  deadline);
gboolean                llmsbx_lifetime_watchdog_has_expired (LlmsbxLifetimeWatchdog *self);
gboolean                llmsbx_lifetime_watchdog_stop        (LlmsbxLifetimeWatchdog *self);

G_END_DECLS
