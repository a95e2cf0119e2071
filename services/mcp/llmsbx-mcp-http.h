/* llmsbx-mcp-http.h: MCP over Streamable HTTP, on libsoup's SoupServer. */
#pragma once

#include <gio/gio.h>

#include "llmsbx-mcp-server.h"

G_BEGIN_DECLS

/* The one endpoint, as the spec's examples name it. */
#define LLMSBX_MCP_HTTP_PATH "/mcp"

#define LLMSBX_TYPE_MCP_HTTP (llmsbx_mcp_http_get_type ())
G_DECLARE_FINAL_TYPE (LlmsbxMcpHttp, llmsbx_mcp_http, LLMSBX, MCP_HTTP, GObject)

LlmsbxMcpHttp *llmsbx_mcp_http_new                (LlmsbxMcpServer     *server,
                                                   gsize                max_message_size);
void           llmsbx_mcp_http_set_token          (LlmsbxMcpHttp       *self,
                                                   const char          *token);
void           llmsbx_mcp_http_add_allowed_origin (LlmsbxMcpHttp       *self,
                                                   const char          *origin);
void           llmsbx_mcp_http_set_max_clients    (LlmsbxMcpHttp       *self,
                                                   guint                max_clients);
void           llmsbx_mcp_http_set_client_timeout (LlmsbxMcpHttp       *self,
                                                   double               seconds);
gboolean       llmsbx_mcp_http_listen             (LlmsbxMcpHttp       *self,
                                                   const char          *address,
                                                   GError             **error);
gboolean       llmsbx_mcp_http_get_is_loopback    (LlmsbxMcpHttp       *self);
char          *llmsbx_mcp_http_get_url            (LlmsbxMcpHttp       *self);
void           llmsbx_mcp_http_close              (LlmsbxMcpHttp       *self);

G_END_DECLS
