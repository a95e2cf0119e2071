/* llmsbx-runtime-configs.h: reading the values of docker-py style runtime
 * configs, for the backends that map them. */
#pragma once

#if !defined(LLMSBX_INSIDE) && !defined(LLMSBX_COMPILATION)
#error "Only <llmsbx.h> can be included directly."
#endif

#include <glib.h>
#include "llmsbx-visibility.h"

G_BEGIN_DECLS

LLMSBX_AVAILABLE_IN_ALL
GVariant *llmsbx_runtime_config_unbox       (GVariant    *value);
LLMSBX_AVAILABLE_IN_ALL
gboolean  llmsbx_runtime_config_is_string   (GVariant    *v);
LLMSBX_AVAILABLE_IN_ALL
gboolean  llmsbx_runtime_config_is_dict     (GVariant    *v);
LLMSBX_AVAILABLE_IN_ALL
gboolean  llmsbx_runtime_config_is_list     (GVariant    *v);
LLMSBX_AVAILABLE_IN_ALL
gboolean  llmsbx_runtime_config_get_int64   (GVariant    *v,
                                             gint64      *out);
LLMSBX_AVAILABLE_IN_ALL
gboolean  llmsbx_runtime_config_get_boolean (GVariant    *v,
                                             gboolean    *out);
LLMSBX_AVAILABLE_IN_ALL
char     *llmsbx_runtime_config_dup_string  (GVariant    *v);
LLMSBX_AVAILABLE_IN_ALL
gboolean  llmsbx_runtime_config_parse_bytes (const char  *text,
                                             gint64      *bytes);

G_END_DECLS
