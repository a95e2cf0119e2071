/* llmsbx-engine-config.h: docker-py style runtime configs → Engine API container JSON. */
#pragma once

#include <json-glib/json-glib.h>
#include <llmsbx.h>

G_BEGIN_DECLS

gboolean llmsbx_engine_config_apply (GVariant    *runtime_configs,
                                     JsonObject  *container,
                                     GError     **error);

gboolean llmsbx_engine_parse_bytes  (const char  *text,
                                     gint64      *bytes);

G_END_DECLS
