/* llmsbx-jsonrpc.h: JSON-RPC 2.0 messages on json-glib, read as hostile input. */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define LLMSBX_JSONRPC_ERROR (llmsbx_jsonrpc_error_quark ())

/* The codes are JSON-RPC's own; SERVER_BUSY is of its range for servers'
 * own errors; REQUEST_CANCELLED is LSP's, for a reply that a transport must
 * send although the request was cancelled. */
typedef enum {
  LLMSBX_JSONRPC_ERROR_PARSE_ERROR       = -32700,
  LLMSBX_JSONRPC_ERROR_INVALID_REQUEST   = -32600,
  LLMSBX_JSONRPC_ERROR_METHOD_NOT_FOUND  = -32601,
  LLMSBX_JSONRPC_ERROR_INVALID_PARAMS    = -32602,
  LLMSBX_JSONRPC_ERROR_INTERNAL_ERROR    = -32603,
  LLMSBX_JSONRPC_ERROR_SERVER_BUSY       = -32000,
  LLMSBX_JSONRPC_ERROR_REQUEST_CANCELLED = -32800,
} LlmsbxJsonrpcErrorCode;

typedef enum {
  LLMSBX_JSONRPC_REQUEST,
  LLMSBX_JSONRPC_NOTIFICATION,
  LLMSBX_JSONRPC_RESPONSE,
} LlmsbxJsonrpcKind;

GQuark    llmsbx_jsonrpc_error_quark (void);

JsonNode *llmsbx_jsonrpc_parse       (const char         *data,
                                      gsize               length,
                                      gsize               max_length,
                                      GError            **error);
gboolean  llmsbx_jsonrpc_classify    (JsonNode           *message,
                                      LlmsbxJsonrpcKind  *kind,
                                      const char        **method,
                                      JsonNode          **id,
                                      GError            **error);
const char *llmsbx_json_object_get_string (JsonObject *object,
                                           const char *name);
char     *llmsbx_jsonrpc_id_key      (JsonNode           *id);
gboolean  llmsbx_jsonrpc_is_request  (JsonNode           *message,
                                      const char         *method);

JsonNode *llmsbx_jsonrpc_result_new  (JsonNode           *id,
                                      JsonNode           *result);
JsonNode *llmsbx_jsonrpc_error_new   (JsonNode           *id,
                                      const GError       *error,
                                      JsonNode           *data);
char     *llmsbx_jsonrpc_to_string   (JsonNode           *message,
                                      gsize              *length);

G_END_DECLS
