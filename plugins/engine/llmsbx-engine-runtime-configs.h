/* llmsbx-engine-runtime-configs.h: docker-py style runtime configs → Engine API container JSON. */
#pragma once

#include <json-glib/json-glib.h>
#include <llmsbx.h>

G_BEGIN_DECLS

gboolean llmsbx_engine_runtime_configs_apply (GVariant    *runtime_configs,
                                     JsonObject  *container,
                                     GError     **error);

G_END_DECLS
