/* llmsbx-mcp-server.c: the Model Context Protocol on JSON-RPC, whatever carries it.
 *
 * A peer is one MCP session: the client at the other end of stdio, or one
 * Mcp-Session-Id over HTTP. It negotiates the protocol version, answers
 * ping, tools/list and tools/call, and maps notifications/cancelled onto the
 * GCancellable of the request it names, so a cancelled call kills what it
 * started and is not answered. The transports hand it parsed messages and
 * send what it replies; it owns no I/O. Its sessions are the session
 * table's, owned by the peer's owner name. */
#include "llmsbx-jsonrpc.h"
#include "llmsbx-mcp-server.h"
#include "llmsbx-mcp-tools.h"

/* Newest first: a client asking for another version gets the first. */
static const char * const supported_versions[] = { LLMSBX_MCP_LATEST_VERSION, "2025-03-26", "2024-11-05" };

static const char instructions[] =
  "Runs code in isolated sandboxes (containers without network unless the operator allows it). "
  "Use execute_code for a one-off program; use create_session, run_in_session and close_session "
  "when files must persist between runs (interpreter state does not). Close sessions you no "
  "longer need: each holds a sandbox until it is closed or expires.";

gboolean
llmsbx_mcp_version_is_supported (const char *version)
{
  for (gsize i = 0; i < G_N_ELEMENTS (supported_versions); i++)
    if (g_strcmp0 (version, supported_versions[i]) == 0)
      return TRUE;
  return FALSE;
}

/* 2025-03-26 added JSON-RPC batches and 2025-06-18 removed them; 2024-11-05
 * said nothing, so JSON-RPC 2.0's own batches apply there. */
gboolean
llmsbx_mcp_version_allows_batches (const char *version)
{
  return g_strcmp0 (version, "2025-03-26") == 0 || g_strcmp0 (version, "2024-11-05") == 0;
}

/* Revisions are dates, so they compare as strings. */
gboolean
llmsbx_mcp_version_has_structured_content (const char *version)
{
  return version != NULL && g_strcmp0 (version, "2025-06-18") >= 0;
}

/* Server ----------------------------------------------------------------- */

struct _LlmsbxMcpServer
{
  GObject parent_instance;

  LlmsbxSessionTable *table;
};

G_DEFINE_FINAL_TYPE (LlmsbxMcpServer, llmsbx_mcp_server, G_TYPE_OBJECT)

static void
llmsbx_mcp_server_finalize (GObject *object)
{
  LlmsbxMcpServer *self = LLMSBX_MCP_SERVER (object);

  g_object_unref (self->table);
  G_OBJECT_CLASS (llmsbx_mcp_server_parent_class)->finalize (object);
}

static void
llmsbx_mcp_server_class_init (LlmsbxMcpServerClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = llmsbx_mcp_server_finalize;
}

static void
llmsbx_mcp_server_init (LlmsbxMcpServer *self)
{
}

/**
 * llmsbx_mcp_server_new:
 * @table: the sandboxes of every peer
 *
 * Returns: (transfer full): a server its transports make peers of
 */
LlmsbxMcpServer *
llmsbx_mcp_server_new (LlmsbxSessionTable *table)
{
  LlmsbxMcpServer *self = g_object_new (LLMSBX_TYPE_MCP_SERVER, NULL);

  self->table = g_object_ref (table);
  return self;
}

LlmsbxSessionTable *
llmsbx_mcp_server_get_table (LlmsbxMcpServer *self)
{
  g_return_val_if_fail (LLMSBX_IS_MCP_SERVER (self), NULL);
  return self->table;
}

/* Peer ------------------------------------------------------------------- */

struct _LlmsbxMcpPeer
{
  GObject parent_instance;

  LlmsbxMcpServer *server;
  char            *owner;
  char            *version;      /* negotiated; NULL before initialize */
  gboolean         closed;
  GHashTable      *pending;      /* id key → Request in progress */
};

G_DEFINE_FINAL_TYPE (LlmsbxMcpPeer, llmsbx_mcp_peer, G_TYPE_OBJECT)

typedef struct {
  LlmsbxMcpPeer *peer;
  GTask         *task;           /* answers with the reply, or none */
  char          *key;
  JsonNode      *id;
  char          *method;
  GCancellable  *cancellable;
  gboolean       cancelled;
} Request;

typedef void (*MethodFunc) (LlmsbxMcpPeer *self,
                            JsonObject    *params,
                            Request       *request);

static void
request_free (Request *request)
{
  g_object_unref (request->peer);
  g_object_unref (request->task);
  g_free (request->key);
  json_node_unref (request->id);
  g_free (request->method);
  g_object_unref (request->cancellable);
  g_free (request);
}

/* Answers a request with @result or @error (one of them, transfer full). A
 * request the client cancelled, or of a closed peer, gets no answer. */
static void
request_return (Request  *request,
                JsonNode *result,
                GError   *error)
{
  LlmsbxMcpPeer *self = request->peer;
  JsonNode *reply = NULL;

  g_hash_table_remove (self->pending, request->key);
  if (!request->cancelled)
    reply = result ? llmsbx_jsonrpc_result_new (request->id, g_steal_pointer (&result))
                   : llmsbx_jsonrpc_error_new (request->id, error, NULL);
  g_clear_pointer (&result, json_node_unref);
  g_clear_error (&error);
  g_task_return_pointer (request->task, reply, (GDestroyNotify) json_node_unref);
  request_free (request);
}

static void
request_return_error (Request    *request,
                      int         code,
                      const char *format,
                      ...) G_GNUC_PRINTF (3, 4);

static void
request_return_error (Request    *request,
                      int         code,
                      const char *format,
                      ...)
{
  va_list args;
  GError *error;

  va_start (args, format);
  error = g_error_new_valist (LLMSBX_JSONRPC_ERROR, code, format, args);
  va_end (args);
  request_return (request, NULL, error);
}

static JsonObject *
optional_object (JsonObject *params,
                 const char *name,
                 gboolean   *ok)
{
  JsonNode *member = params ? json_object_get_member (params, name) : NULL;

  *ok = member == NULL || JSON_NODE_HOLDS_OBJECT (member);
  return member && *ok ? json_node_get_object (member) : NULL;
}

static void
handle_initialize (LlmsbxMcpPeer *self,
                   JsonObject    *params,
                   Request       *request)
{
  const char *asked = params ? llmsbx_json_object_get_string (params, "protocolVersion") : NULL;
  g_autoptr(JsonBuilder) builder = NULL;
  gboolean ok_capabilities, ok_info;

  if (self->version != NULL)
    {
      request_return_error (request, LLMSBX_JSONRPC_ERROR_INVALID_REQUEST,
                            "The session is initialized already");
      return;
    }
  optional_object (params, "capabilities", &ok_capabilities);
  optional_object (params, "clientInfo", &ok_info);
  if (asked == NULL || !ok_capabilities || !ok_info)
    {
      request_return_error (request, LLMSBX_JSONRPC_ERROR_INVALID_PARAMS,
                            "initialize needs protocolVersion (a string), and capabilities and "
                            "clientInfo must be objects");
      return;
    }

  self->version = g_strdup (llmsbx_mcp_version_is_supported (asked) ? asked : LLMSBX_MCP_LATEST_VERSION);
  g_debug ("%s: protocol %s (asked for %s)", self->owner, self->version, asked);

  builder = json_builder_new_immutable ();
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "protocolVersion");
  json_builder_add_string_value (builder, self->version);
  json_builder_set_member_name (builder, "capabilities");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "tools");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "listChanged");
  json_builder_add_boolean_value (builder, FALSE);
  json_builder_end_object (builder);
  json_builder_end_object (builder);
  json_builder_set_member_name (builder, "serverInfo");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "name");
  json_builder_add_string_value (builder, "llmsbx");
  if (llmsbx_mcp_version_has_structured_content (self->version))
    {
      json_builder_set_member_name (builder, "title");
      json_builder_add_string_value (builder, "libllmsbx sandboxes");
    }
  json_builder_set_member_name (builder, "version");
  json_builder_add_string_value (builder, LLMSBX_VERSION_S);
  json_builder_end_object (builder);
  json_builder_set_member_name (builder, "instructions");
  json_builder_add_string_value (builder, instructions);
  json_builder_end_object (builder);

  request_return (request, json_builder_get_root (builder), NULL);
}

static void
handle_ping (LlmsbxMcpPeer *self,
             JsonObject    *params,
             Request       *request)
{
  JsonNode *empty = json_node_new (JSON_NODE_OBJECT);

  json_node_take_object (empty, json_object_new ());
  request_return (request, empty, NULL);
}

static void
handle_tools_list (LlmsbxMcpPeer *self,
                   JsonObject    *params,
                   Request       *request)
{
  JsonNode *cursor = params ? json_object_get_member (params, "cursor") : NULL;
  JsonObject *result;

  /* One page holds every tool, so no cursor is ever given out. */
  if (cursor != NULL && !(JSON_NODE_HOLDS_VALUE (cursor) && json_node_get_value_type (cursor) == G_TYPE_STRING))
    {
      request_return_error (request, LLMSBX_JSONRPC_ERROR_INVALID_PARAMS, "The cursor must be a string");
      return;
    }
  result = json_object_new ();
  json_object_set_member (result, "tools",
                          llmsbx_mcp_tools_list (llmsbx_mcp_server_get_table (self->server), self->version));
  request_return (request, json_node_init_object (json_node_alloc (), result), NULL);
  json_object_unref (result);
}

static void
on_tool_called (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  Request *request = user_data;
  GError *error = NULL;
  JsonNode *called = llmsbx_mcp_tools_call_finish (LLMSBX_SESSION_TABLE (source), result, &error);

  request_return (request, called, error);
}

static void
handle_tools_call (LlmsbxMcpPeer *self,
                   JsonObject    *params,
                   Request       *request)
{
  const char *name = params ? llmsbx_json_object_get_string (params, "name") : NULL;
  JsonObject *arguments;
  gboolean ok;

  arguments = optional_object (params, "arguments", &ok);
  if (name == NULL || !ok)
    {
      request_return_error (request, LLMSBX_JSONRPC_ERROR_INVALID_PARAMS,
                            "tools/call needs a name (a string), and its arguments must be an object");
      return;
    }
  llmsbx_mcp_tools_call_async (llmsbx_mcp_server_get_table (self->server), self->owner, self->version,
                               name, arguments, request->cancellable, on_tool_called, request);
}

static const struct {
  const char *name;
  MethodFunc  func;
  gboolean    before_initialize;
} methods[] = {
  { "initialize", handle_initialize, TRUE },
  { "ping", handle_ping, TRUE },
  { "tools/list", handle_tools_list, FALSE },
  { "tools/call", handle_tools_call, FALSE },
};

static void
handle_notification (LlmsbxMcpPeer *self,
                     const char    *method,
                     JsonObject    *params)
{
  if (g_str_equal (method, "notifications/cancelled") && params != NULL)
    {
      JsonNode *id = json_object_get_member (params, "requestId");
      g_autofree char *key = NULL;
      Request *request;

      /* Unknown, finished or malformed: ignored, as the spec asks. */
      if (id == NULL || !JSON_NODE_HOLDS_VALUE (id) ||
          (json_node_get_value_type (id) != G_TYPE_STRING && json_node_get_value_type (id) != G_TYPE_INT64))
        return;
      key = llmsbx_jsonrpc_id_key (id);
      request = g_hash_table_lookup (self->pending, key);
      if (request == NULL || g_str_equal (request->method, "initialize"))
        return;
      g_debug ("%s: request %s cancelled: %s", self->owner, key,
               llmsbx_json_object_get_string (params, "reason") ?: "no reason given");
      request->cancelled = TRUE;
      g_cancellable_cancel (request->cancellable);
    }
  /* notifications/initialized changes nothing here: requests are served
   * from the initialize response on. Others are not this server's. */
}

static void
handle_one (LlmsbxMcpPeer *self,
            JsonNode      *message,
            GTask         *task)
{
  g_autoptr(GError) error = NULL;
  LlmsbxJsonrpcKind kind;
  const char *method;
  JsonNode *id;
  JsonNode *params_node;
  JsonObject *params = NULL;
  Request *request;

  if (!llmsbx_jsonrpc_classify (message, &kind, &method, &id, &error))
    {
      g_task_return_pointer (task, llmsbx_jsonrpc_error_new (id, error, NULL), (GDestroyNotify) json_node_unref);
      return;
    }

  params_node = json_object_get_member (json_node_get_object (message), "params");
  if (params_node != NULL && JSON_NODE_HOLDS_OBJECT (params_node))
    params = json_node_get_object (params_node);

  if (kind == LLMSBX_JSONRPC_RESPONSE || self->closed)
    {
      /* This server sends no requests; a closed peer answers nothing. */
      g_task_return_pointer (task, NULL, NULL);
      return;
    }
  if (kind == LLMSBX_JSONRPC_NOTIFICATION)
    {
      handle_notification (self, method, params);
      g_task_return_pointer (task, NULL, NULL);
      return;
    }

  request = g_new0 (Request, 1);
  request->peer = g_object_ref (self);
  request->task = g_object_ref (task);
  request->key = llmsbx_jsonrpc_id_key (id);
  request->id = json_node_copy (id);
  request->method = g_strdup (method);
  request->cancellable = g_cancellable_new ();

  if (g_hash_table_contains (self->pending, request->key) ||
      g_hash_table_size (self->pending) >= LLMSBX_MCP_MAX_PENDING)
    {
      /* Not registered: the request in progress keeps the id. */
      JsonNode *reply;

      if (g_hash_table_contains (self->pending, request->key))
        g_set_error (&error, LLMSBX_JSONRPC_ERROR, LLMSBX_JSONRPC_ERROR_INVALID_REQUEST,
                     "A request with this id is in progress already");
      else
        g_set_error (&error, LLMSBX_JSONRPC_ERROR, LLMSBX_JSONRPC_ERROR_SERVER_BUSY,
                     "This client has %d requests in progress, the most this server takes; "
                     "wait for an answer", LLMSBX_MCP_MAX_PENDING);
      reply = llmsbx_jsonrpc_error_new (id, error, NULL);
      g_task_return_pointer (task, reply, (GDestroyNotify) json_node_unref);
      request_free (request);
      return;
    }
  g_hash_table_insert (self->pending, request->key, request);

  if (params_node != NULL && params == NULL)
    {
      request_return_error (request, LLMSBX_JSONRPC_ERROR_INVALID_PARAMS, "The params must be an object");
      return;
    }

  for (gsize i = 0; i < G_N_ELEMENTS (methods); i++)
    if (g_str_equal (methods[i].name, method))
      {
        if (self->version == NULL && !methods[i].before_initialize)
          request_return_error (request, LLMSBX_JSONRPC_ERROR_INVALID_REQUEST,
                                "The session is not initialized: send initialize first");
        else
          methods[i].func (self, params, request);
        return;
      }

  request_return_error (request, LLMSBX_JSONRPC_ERROR_METHOD_NOT_FOUND, "Method not found: %s", method);
}

/* Batches ---------------------------------------------------------------- */

typedef struct {
  GTask     *task;
  JsonNode **replies;
  guint      n;
  guint      remaining;
} Batch;

typedef struct {
  Batch *batch;
  guint  index;
} BatchPart;

static void
on_batch_part (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  BatchPart *part = user_data;
  Batch *batch = part->batch;
  g_autoptr(JsonArray) replies = NULL;

  batch->replies[part->index] = g_task_propagate_pointer (G_TASK (result), NULL);
  g_free (part);
  if (--batch->remaining > 0)
    return;

  /* The replies in one array; none at all when every part was a notification. */
  replies = json_array_new ();
  for (guint i = 0; i < batch->n; i++)
    if (batch->replies[i] != NULL)
      json_array_add_element (replies, batch->replies[i]);
  if (json_array_get_length (replies) > 0)
    g_task_return_pointer (batch->task, json_node_init_array (json_node_alloc (), replies),
                           (GDestroyNotify) json_node_unref);
  else
    g_task_return_pointer (batch->task, NULL, NULL);

  g_object_unref (batch->task);
  g_free (batch->replies);
  g_free (batch);
}

static void
handle_batch (LlmsbxMcpPeer *self,
              JsonArray     *array,
              GTask         *task)
{
  Batch *batch;
  guint n = json_array_get_length (array);

  if (n == 0 || !llmsbx_mcp_version_allows_batches (self->version))
    {
      g_autoptr(GError) error = NULL;

      if (n == 0)
        error = g_error_new_literal (LLMSBX_JSONRPC_ERROR, LLMSBX_JSONRPC_ERROR_INVALID_REQUEST,
                                     "A batch must not be empty");
      else if (self->version == NULL)
        error = g_error_new_literal (LLMSBX_JSONRPC_ERROR, LLMSBX_JSONRPC_ERROR_INVALID_REQUEST,
                                     "initialize cannot be part of a batch");
      else
        error = g_error_new (LLMSBX_JSONRPC_ERROR, LLMSBX_JSONRPC_ERROR_INVALID_REQUEST,
                             "MCP %s has no JSON-RPC batches", self->version);
      g_task_return_pointer (task, llmsbx_jsonrpc_error_new (NULL, error, NULL), (GDestroyNotify) json_node_unref);
      return;
    }

  batch = g_new0 (Batch, 1);
  batch->task = g_object_ref (task);
  batch->n = n;
  batch->remaining = n;
  batch->replies = g_new0 (JsonNode *, n);
  for (guint i = 0; i < n; i++)
    {
      BatchPart *part = g_new0 (BatchPart, 1);
      g_autoptr(GTask) one = g_task_new (self, NULL, on_batch_part, part);

      part->batch = batch;
      part->index = i;
      handle_one (self, json_array_get_element (array, i), one);
    }
}

/* API -------------------------------------------------------------------- */

/**
 * llmsbx_mcp_peer_new:
 * @server: the server
 * @owner: the name its sessions are owned by in the server's table
 *
 * Returns: (transfer full): a peer for one MCP session
 */
LlmsbxMcpPeer *
llmsbx_mcp_peer_new (LlmsbxMcpServer *server,
                     const char      *owner)
{
  LlmsbxMcpPeer *self = g_object_new (LLMSBX_TYPE_MCP_PEER, NULL);

  self->server = g_object_ref (server);
  self->owner = g_strdup (owner);
  return self;
}

/**
 * llmsbx_mcp_peer_get_protocol_version:
 * @self: a #LlmsbxMcpPeer
 *
 * Returns: (nullable): the negotiated version, %NULL before initialize
 */
const char *
llmsbx_mcp_peer_get_protocol_version (LlmsbxMcpPeer *self)
{
  g_return_val_if_fail (LLMSBX_IS_MCP_PEER (self), NULL);
  return self->version;
}

/**
 * llmsbx_mcp_peer_handle_async:
 * @self: a #LlmsbxMcpPeer
 * @message: one parsed message: an object, or an array for a batch
 * @callback: called with what to send back
 * @user_data: data for @callback
 *
 * Handles what a client sent. Requests of one peer run concurrently; the
 * callback of each comes when it is answered.
 */
void
llmsbx_mcp_peer_handle_async (LlmsbxMcpPeer       *self,
                              JsonNode            *message,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (LLMSBX_IS_MCP_PEER (self));
  g_return_if_fail (message != NULL);

  task = g_task_new (self, NULL, callback, user_data);
  g_task_set_source_tag (task, llmsbx_mcp_peer_handle_async);

  if (JSON_NODE_HOLDS_ARRAY (message))
    handle_batch (self, json_node_get_array (message), task);
  else
    handle_one (self, message, task);
}

/**
 * llmsbx_mcp_peer_handle_finish:
 * @self: a #LlmsbxMcpPeer
 * @result: the #GAsyncResult
 *
 * Returns: (transfer full) (nullable): the reply (a response, or an array of
 *   them for a batch), or %NULL when nothing is to be sent
 */
JsonNode *
llmsbx_mcp_peer_handle_finish (LlmsbxMcpPeer *self,
                               GAsyncResult  *result)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == llmsbx_mcp_peer_handle_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), NULL);
}

/**
 * llmsbx_mcp_peer_close:
 * @self: a #LlmsbxMcpPeer
 *
 * The MCP session ends: requests in progress are cancelled (and not
 * answered), its sessions are closed and their sandboxes removed.
 */
void
llmsbx_mcp_peer_close (LlmsbxMcpPeer *self)
{
  GHashTableIter iter;
  Request *request;

  g_return_if_fail (LLMSBX_IS_MCP_PEER (self));

  if (self->closed)
    return;
  self->closed = TRUE;

  g_hash_table_iter_init (&iter, self->pending);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &request))
    {
      request->cancelled = TRUE;
      g_cancellable_cancel (request->cancellable);
    }
  llmsbx_session_table_close_owner (llmsbx_mcp_server_get_table (self->server), self->owner);
}

static void
llmsbx_mcp_peer_finalize (GObject *object)
{
  LlmsbxMcpPeer *self = LLMSBX_MCP_PEER (object);

  /* Requests hold the peer, so none is pending here. */
  g_hash_table_unref (self->pending);
  g_object_unref (self->server);
  g_free (self->owner);
  g_free (self->version);
  G_OBJECT_CLASS (llmsbx_mcp_peer_parent_class)->finalize (object);
}

static void
llmsbx_mcp_peer_class_init (LlmsbxMcpPeerClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = llmsbx_mcp_peer_finalize;
}

static void
llmsbx_mcp_peer_init (LlmsbxMcpPeer *self)
{
  self->pending = g_hash_table_new (g_str_hash, g_str_equal);
}
