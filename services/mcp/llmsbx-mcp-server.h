/* llmsbx-mcp-server.h: the Model Context Protocol on JSON-RPC, whatever carries it. */
#pragma once

#include <json-glib/json-glib.h>

#include "llmsbx-session-table.h"

G_BEGIN_DECLS

/* The newest revision of the protocol this server speaks. */
#define LLMSBX_MCP_LATEST_VERSION "2025-06-18"

/* Requests one peer may have in progress; more are refused. */
#define LLMSBX_MCP_MAX_PENDING 16

gboolean llmsbx_mcp_version_is_supported            (const char *version);
gboolean llmsbx_mcp_version_allows_batches          (const char *version);
gboolean llmsbx_mcp_version_has_structured_content  (const char *version);

#define LLMSBX_TYPE_MCP_SERVER (llmsbx_mcp_server_get_type ())
G_DECLARE_FINAL_TYPE (LlmsbxMcpServer, llmsbx_mcp_server, LLMSBX, MCP_SERVER, GObject)

LlmsbxMcpServer    *llmsbx_mcp_server_new       (LlmsbxSessionTable *table);
LlmsbxSessionTable *llmsbx_mcp_server_get_table (LlmsbxMcpServer    *self);

#define LLMSBX_TYPE_MCP_PEER (llmsbx_mcp_peer_get_type ())
G_DECLARE_FINAL_TYPE (LlmsbxMcpPeer, llmsbx_mcp_peer, LLMSBX, MCP_PEER, GObject)

LlmsbxMcpPeer *llmsbx_mcp_peer_new                  (LlmsbxMcpServer      *server,
                                                     const char           *owner);
const char    *llmsbx_mcp_peer_get_protocol_version (LlmsbxMcpPeer        *self);
void           llmsbx_mcp_peer_handle_async         (LlmsbxMcpPeer        *self,
                                                     JsonNode             *message,
                                                     GAsyncReadyCallback   callback,
                                                     gpointer              user_data);
JsonNode      *llmsbx_mcp_peer_handle_finish        (LlmsbxMcpPeer        *self,
                                                     GAsyncResult         *result);
void           llmsbx_mcp_peer_close                (LlmsbxMcpPeer        *self);

G_END_DECLS
