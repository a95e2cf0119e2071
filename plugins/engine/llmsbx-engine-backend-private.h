/* llmsbx-engine-backend-private.h: the engine backend's methods defined in
 * files of their own, compiled into each plugin with the class. */
#pragma once

#include "llmsbx-engine-backend.h"

G_BEGIN_DECLS

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
