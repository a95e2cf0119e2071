/* llmsbx-mcp-tools.h: the tools llmsbx mcp offers. */
#pragma once

#include <json-glib/json-glib.h>

#include "llmsbx-session-table.h"

G_BEGIN_DECLS

JsonNode *llmsbx_mcp_tools_list        (LlmsbxSessionTable  *table,
                                        const char          *version);
void      llmsbx_mcp_tools_call_async  (LlmsbxSessionTable  *table,
                                        const char          *owner,
                                        const char          *version,
                                        const char          *name,
                                        JsonObject          *arguments,
                                        GCancellable        *cancellable,
                                        GAsyncReadyCallback  callback,
                                        gpointer             user_data);
JsonNode *llmsbx_mcp_tools_call_finish (LlmsbxSessionTable  *table,
                                        GAsyncResult        *result,
                                        GError             **error);

G_END_DECLS
