/* llmsbx-jsonrpc.c: JSON-RPC 2.0 messages on json-glib, read as hostile input.
 *
 * Whatever arrives is bounded before it is parsed: its size, and with the
 * core's own check (llmsbx-nesting.c, compiled in), its nesting (json-glib's
 * parser recurses once per level, so a megabyte of `[` would overflow the
 * stack, also when hidden where json-glib's scanner reads strings and
 * comments JSON does not have), a second value after the first, and escapes
 * that make a NUL or invalid UTF-8 of a string. */
#include <llmsbx.h>

#include "llmsbx-jsonrpc.h"
#include "llmsbx-nesting-private.h"

G_DEFINE_QUARK (llmsbx-jsonrpc-error-quark, llmsbx_jsonrpc_error)

/**
 * llmsbx_jsonrpc_parse:
 * @data: the bytes of one message
 * @length: their length
 * @max_length: the most a message may have
 * @error: return location for a #GError in %LLMSBX_JSONRPC_ERROR
 *
 * Returns: (transfer full): the JSON value, or %NULL with
 *   %LLMSBX_JSONRPC_ERROR_INVALID_REQUEST (too large) or
 *   %LLMSBX_JSONRPC_ERROR_PARSE_ERROR (not JSON, not UTF-8, too deep, two
 *   values, a NUL or invalid UTF-8 by escapes)
 */
JsonNode *
llmsbx_jsonrpc_parse (const char  *data,
                      gsize        length,
                      gsize        max_length,
                      GError     **error)
{
  g_autoptr(JsonParser) parser = NULL;
  g_autoptr(GError) local_error = NULL;
  JsonNode *root;

  if (length > max_length)
    {
      g_set_error (error, LLMSBX_JSONRPC_ERROR, LLMSBX_JSONRPC_ERROR_INVALID_REQUEST,
                   "The message has %" G_GSIZE_FORMAT " bytes, more than the %" G_GSIZE_FORMAT
                   " this server takes", length, max_length);
      return NULL;
    }
  if (length > G_MAXSSIZE || !g_utf8_validate_len (data, length, NULL))
    {
      g_set_error_literal (error, LLMSBX_JSONRPC_ERROR, LLMSBX_JSONRPC_ERROR_PARSE_ERROR,
                           "The message is not valid UTF-8 text");
      return NULL;
    }
  if (!llmsbx_json_check (data, (gssize) length, "The message", &local_error))
    {
      /* Not JSON this server's parser may read: a parse error. */
      g_set_error_literal (error, LLMSBX_JSONRPC_ERROR, LLMSBX_JSONRPC_ERROR_PARSE_ERROR,
                           local_error->message);
      return NULL;
    }

  parser = json_parser_new_immutable ();
  if (!json_parser_load_from_data (parser, data, (gssize) length, &local_error))
    {
      g_set_error (error, LLMSBX_JSONRPC_ERROR, LLMSBX_JSONRPC_ERROR_PARSE_ERROR,
                   "The message is not JSON: %s", local_error->message);
      return NULL;
    }
  root = json_parser_get_root (parser);
  if (root == NULL)
    {
      g_set_error_literal (error, LLMSBX_JSONRPC_ERROR, LLMSBX_JSONRPC_ERROR_PARSE_ERROR,
                           "The message is empty");
      return NULL;
    }
  return json_node_ref (root);
}

/**
 * llmsbx_json_object_get_string:
 * @object: an object from a client
 * @name: a member's name
 *
 * json-glib's typed getters fail a precondition, a critical, on a member
 * of another type; whatever a client sends must not reach them.
 *
 * Returns: (transfer none) (nullable): the member when it is a string
 */
const char *
llmsbx_json_object_get_string (JsonObject *object,
                               const char *name)
{
  JsonNode *member = json_object_get_member (object, name);

  if (member == NULL || !JSON_NODE_HOLDS_VALUE (member) || json_node_get_value_type (member) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (member);
}

/* JSON-RPC allows null and fractions; MCP wants a string or an integer. */
static gboolean
is_valid_id (JsonNode *id)
{
  if (!JSON_NODE_HOLDS_VALUE (id))
    return FALSE;
  return json_node_get_value_type (id) == G_TYPE_STRING || json_node_get_value_type (id) == G_TYPE_INT64;
}

/**
 * llmsbx_jsonrpc_classify:
 * @message: one JSON value (not a batch)
 * @kind: (out): what it is
 * @method: (out) (transfer none) (nullable): the method of a request or notification
 * @id: (out) (transfer none) (nullable): its id when valid, also when the
 *   message is not, so the error can answer it
 * @error: return location for a #GError
 *
 * Returns: %TRUE for a well-formed request, notification or response;
 *   otherwise %LLMSBX_JSONRPC_ERROR_INVALID_REQUEST naming what is wrong
 */
gboolean
llmsbx_jsonrpc_classify (JsonNode           *message,
                         LlmsbxJsonrpcKind  *kind,
                         const char        **method,
                         JsonNode          **id,
                         GError            **error)
{
  JsonObject *object;
  JsonNode *member;

  *method = NULL;
  *id = NULL;

  if (!JSON_NODE_HOLDS_OBJECT (message))
    {
      g_set_error_literal (error, LLMSBX_JSONRPC_ERROR, LLMSBX_JSONRPC_ERROR_INVALID_REQUEST,
                           "A JSON-RPC message must be an object");
      return FALSE;
    }
  object = json_node_get_object (message);

  member = json_object_get_member (object, "id");
  if (member != NULL && is_valid_id (member))
    *id = member;

  if (g_strcmp0 (llmsbx_json_object_get_string (object, "jsonrpc"), "2.0") != 0)
    {
      g_set_error_literal (error, LLMSBX_JSONRPC_ERROR, LLMSBX_JSONRPC_ERROR_INVALID_REQUEST,
                           "The message lacks \"jsonrpc\": \"2.0\"");
      return FALSE;
    }

  if (member != NULL && *id == NULL)
    {
      g_set_error_literal (error, LLMSBX_JSONRPC_ERROR, LLMSBX_JSONRPC_ERROR_INVALID_REQUEST,
                           "An id must be a string or an integer");
      return FALSE;
    }

  if (json_object_has_member (object, "method"))
    {
      JsonNode *name = json_object_get_member (object, "method");

      if (!JSON_NODE_HOLDS_VALUE (name) || json_node_get_value_type (name) != G_TYPE_STRING)
        {
          g_set_error_literal (error, LLMSBX_JSONRPC_ERROR, LLMSBX_JSONRPC_ERROR_INVALID_REQUEST,
                               "A method must be a string");
          return FALSE;
        }
      *method = json_node_get_string (name);
      *kind = member != NULL ? LLMSBX_JSONRPC_REQUEST : LLMSBX_JSONRPC_NOTIFICATION;
      return TRUE;
    }

  if (member != NULL && (json_object_has_member (object, "result") || json_object_has_member (object, "error")))
    {
      *kind = LLMSBX_JSONRPC_RESPONSE;
      return TRUE;
    }

  g_set_error_literal (error, LLMSBX_JSONRPC_ERROR, LLMSBX_JSONRPC_ERROR_INVALID_REQUEST,
                       "The message is neither a request, a notification nor a response");
  return FALSE;
}

/**
 * llmsbx_jsonrpc_is_request:
 * @message: a JSON value
 * @method: a method name
 *
 * Returns: %TRUE when @message is one well-formed request for @method
 */
gboolean
llmsbx_jsonrpc_is_request (JsonNode   *message,
                           const char *method)
{
  LlmsbxJsonrpcKind kind;
  const char *name;
  JsonNode *id;

  return llmsbx_jsonrpc_classify (message, &kind, &name, &id, NULL) &&
         kind == LLMSBX_JSONRPC_REQUEST && g_str_equal (name, method);
}

/**
 * llmsbx_jsonrpc_id_key:
 * @id: a valid id
 *
 * Returns: (transfer full): a key that tells `1` from `"1"`
 */
char *
llmsbx_jsonrpc_id_key (JsonNode *id)
{
  if (json_node_get_value_type (id) == G_TYPE_STRING)
    return g_strconcat ("s:", json_node_get_string (id), NULL);
  return g_strdup_printf ("n:%" G_GINT64_FORMAT, json_node_get_int (id));
}

static JsonBuilder *
begin_reply (JsonNode *id)
{
  JsonBuilder *builder = json_builder_new_immutable ();

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "jsonrpc");
  json_builder_add_string_value (builder, "2.0");
  json_builder_set_member_name (builder, "id");
  if (id != NULL)
    json_builder_add_value (builder, json_node_copy (id));
  else
    json_builder_add_null_value (builder);
  return builder;
}

static JsonNode *
end_reply (JsonBuilder *builder)
{
  json_builder_end_object (builder);
  return json_builder_get_root (builder);
}

/**
 * llmsbx_jsonrpc_result_new:
 * @id: the request's id
 * @result: (transfer full): the result
 *
 * Returns: (transfer full): the response
 */
JsonNode *
llmsbx_jsonrpc_result_new (JsonNode *id,
                           JsonNode *result)
{
  g_autoptr(JsonBuilder) builder = begin_reply (id);

  json_builder_set_member_name (builder, "result");
  json_builder_add_value (builder, result);
  return end_reply (builder);
}

/**
 * llmsbx_jsonrpc_error_new:
 * @id: (nullable): the request's id; %NULL when it could not be read
 * @error: the failure; codes of %LLMSBX_JSONRPC_ERROR are sent as they are,
 *   any other error as an internal error
 * @data: (transfer full) (nullable): the error's data
 *
 * Returns: (transfer full): the error response
 */
JsonNode *
llmsbx_jsonrpc_error_new (JsonNode     *id,
                          const GError *error,
                          JsonNode     *data)
{
  g_autoptr(JsonBuilder) builder = begin_reply (id);
  int code = error->domain == LLMSBX_JSONRPC_ERROR ? error->code : LLMSBX_JSONRPC_ERROR_INTERNAL_ERROR;

  json_builder_set_member_name (builder, "error");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "code");
  json_builder_add_int_value (builder, code);
  json_builder_set_member_name (builder, "message");
  json_builder_add_string_value (builder, error->message);
  if (data != NULL)
    {
      json_builder_set_member_name (builder, "data");
      json_builder_add_value (builder, data);
    }
  json_builder_end_object (builder);
  return end_reply (builder);
}

/**
 * llmsbx_jsonrpc_to_string:
 * @message: a message
 * @length: (out) (optional): its length
 *
 * Returns: (transfer full): compact JSON on one line: newlines in strings
 *   are escaped, so the stdio transport can end messages with one
 */
char *
llmsbx_jsonrpc_to_string (JsonNode *message,
                          gsize    *length)
{
  g_autoptr(JsonGenerator) generator = json_generator_new ();

  json_generator_set_pretty (generator, FALSE);
  json_generator_set_root (generator, message);
  return json_generator_to_data (generator, length);
}
