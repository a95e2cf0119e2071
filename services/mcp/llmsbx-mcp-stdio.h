/* llmsbx-mcp-stdio.h: MCP over standard input and output, one message a line. */
#pragma once

#include <gio/gio.h>

#include "llmsbx-mcp-server.h"

G_BEGIN_DECLS

#define LLMSBX_TYPE_MCP_STDIO (llmsbx_mcp_stdio_get_type ())
G_DECLARE_FINAL_TYPE (LlmsbxMcpStdio, llmsbx_mcp_stdio, LLMSBX, MCP_STDIO, GObject)

LlmsbxMcpStdio *llmsbx_mcp_stdio_new        (LlmsbxMcpServer     *server,
                                             GInputStream        *input,
                                             GOutputStream       *output,
                                             gsize                max_message_size);
void            llmsbx_mcp_stdio_run_async  (LlmsbxMcpStdio      *self,
                                             GCancellable        *cancellable,
                                             GAsyncReadyCallback  callback,
                                             gpointer             user_data);
gboolean        llmsbx_mcp_stdio_run_finish (LlmsbxMcpStdio      *self,
                                             GAsyncResult        *result,
                                             GError             **error);

G_END_DECLS
