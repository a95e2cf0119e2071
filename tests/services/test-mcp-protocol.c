/* test-mcp-protocol.c: JSON-RPC and MCP handling of llmsbx mcp, without a transport or a daemon.
 *
 * Messages go to a peer as the transports hand them over; nothing here
 * reaches a sandbox (tools/call is only sent arguments it refuses, or
 * list_languages). Hostile input is the point: what is too large, too deep,
 * malformed, or sent out of order gets the JSON-RPC error the spec names. */
#include <string.h>
#include <llmsbx.h>

#include "llmsbx-jsonrpc.h"
#include "llmsbx-mcp-server.h"

#define MAX_MESSAGE (64 * 1024)

static JsonNode *
parse (const char  *text,
       GError     **error)
{
  return llmsbx_jsonrpc_parse (text, strlen (text), MAX_MESSAGE, error);
}

/* Parser ------------------------------------------------------------------- */

static void
test_parse_bounds (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GString) deep = g_string_new (NULL);
  g_autoptr(GString) in_string = g_string_new ("{\"a\": \"");
  g_autofree char *large = g_strnfill (MAX_MESSAGE + 1, ' ');
  g_autoptr(JsonNode) node = NULL;

  /* Nesting is counted before json-glib, whose parser recurses. */
  for (guint i = 0; i < 100000; i++)
    g_string_append_c (deep, '[');
  g_assert_null (llmsbx_jsonrpc_parse (deep->str, deep->len, G_MAXSIZE, &error));
  g_assert_error (error, LLMSBX_JSONRPC_ERROR, LLMSBX_JSONRPC_ERROR_PARSE_ERROR);
  g_clear_error (&error);

  /* Brackets inside strings are text. */
  for (guint i = 0; i < 1000; i++)
    g_string_append (in_string, "[{");
  g_string_append (in_string, "\\\"]\"}");
  node = parse (in_string->str, &error);
  g_assert_no_error (error);
  g_assert_nonnull (node);
  g_clear_pointer (&node, json_node_unref);

  g_assert_null (llmsbx_jsonrpc_parse (large, strlen (large), MAX_MESSAGE, &error));
  g_assert_error (error, LLMSBX_JSONRPC_ERROR, LLMSBX_JSONRPC_ERROR_INVALID_REQUEST);
  g_clear_error (&error);

  g_assert_null (parse ("{\"code\": \"print(1)\\u0000rm -rf /\"}", &error));
  g_assert_error (error, LLMSBX_JSONRPC_ERROR, LLMSBX_JSONRPC_ERROR_PARSE_ERROR);
  g_clear_error (&error);

  /* Where json-glib's scanner reads other strings than JSON's: in single
   * quotes and in comments a '"' hides nothing from it. */
  for (const char *const *hide = (const char *const[]) { "'\"'", "/*\"*/", NULL }; *hide; hide++)
    {
      g_autoptr(GString) text = g_string_new ("[");

      g_string_append_printf (text, "%s, ", *hide);
      for (guint i = 0; i < 100000; i++)
        g_string_append_c (text, '[');
      for (guint i = 0; i < 100000; i++)
        g_string_append_c (text, ']');
      g_string_append_printf (text, ", %s]", *hide);
      g_assert_null (llmsbx_jsonrpc_parse (text->str, text->len, G_MAXSIZE, &error));
      g_assert_error (error, LLMSBX_JSONRPC_ERROR, LLMSBX_JSONRPC_ERROR_PARSE_ERROR);
      g_clear_error (&error);
    }

  /* What json-glib 1.6 would take quietly: a second value, an unpaired
   * surrogate, a NUL escape. */
  for (const char *const *text = (const char *const[]) { "{\"jsonrpc\": \"2.0\"} {}", "[\"\\ud800\"]", "[\"a\\0b\"]", NULL }; *text; text++)
    {
      g_assert_null (parse (*text, &error));
      g_assert_error (error, LLMSBX_JSONRPC_ERROR, LLMSBX_JSONRPC_ERROR_PARSE_ERROR);
      g_clear_error (&error);
    }

  g_assert_null (llmsbx_jsonrpc_parse ("{\"a\": \"\xff\"}", 9, MAX_MESSAGE, &error));
  g_assert_error (error, LLMSBX_JSONRPC_ERROR, LLMSBX_JSONRPC_ERROR_PARSE_ERROR);
  g_clear_error (&error);

  g_assert_null (llmsbx_jsonrpc_parse ("{}\0{}", 5, MAX_MESSAGE, &error));
  g_assert_error (error, LLMSBX_JSONRPC_ERROR, LLMSBX_JSONRPC_ERROR_PARSE_ERROR);
  g_clear_error (&error);

  for (const char *const *text = (const char *const[]) { "", "   ", "{", "nul", "{\"a\":}", NULL }; *text; text++)
    {
      g_assert_null (parse (*text, &error));
      g_assert_error (error, LLMSBX_JSONRPC_ERROR, LLMSBX_JSONRPC_ERROR_PARSE_ERROR);
      g_clear_error (&error);
    }
}

static void
test_classify (void)
{
  const struct {
    const char        *text;
    gboolean           valid;
    LlmsbxJsonrpcKind  kind;
    gboolean           has_id;
  } cases[] = {
    { "{\"jsonrpc\": \"2.0\", \"id\": 1, \"method\": \"ping\"}", TRUE, LLMSBX_JSONRPC_REQUEST, TRUE },
    { "{\"jsonrpc\": \"2.0\", \"id\": \"a\", \"method\": \"ping\"}", TRUE, LLMSBX_JSONRPC_REQUEST, TRUE },
    { "{\"jsonrpc\": \"2.0\", \"method\": \"notifications/x\"}", TRUE, LLMSBX_JSONRPC_NOTIFICATION, FALSE },
    { "{\"jsonrpc\": \"2.0\", \"id\": 3, \"result\": {}}", TRUE, LLMSBX_JSONRPC_RESPONSE, TRUE },
    { "{\"jsonrpc\": \"1.0\", \"id\": 1, \"method\": \"ping\"}", FALSE, 0, TRUE },
    { "{\"jsonrpc\": {}, \"id\": 1, \"method\": \"ping\"}", FALSE, 0, TRUE },
    { "{\"id\": 1, \"method\": \"ping\"}", FALSE, 0, TRUE },
    { "{\"jsonrpc\": \"2.0\", \"id\": null, \"method\": \"ping\"}", FALSE, 0, FALSE },
    { "{\"jsonrpc\": \"2.0\", \"id\": 1.5, \"method\": \"ping\"}", FALSE, 0, FALSE },
    { "{\"jsonrpc\": \"2.0\", \"id\": [1], \"method\": \"ping\"}", FALSE, 0, FALSE },
    { "{\"jsonrpc\": \"2.0\", \"id\": 1, \"method\": 7}", FALSE, 0, TRUE },
    { "{\"jsonrpc\": \"2.0\", \"id\": 1}", FALSE, 0, TRUE },
    { "[1, 2]", FALSE, 0, FALSE },
    { "\"ping\"", FALSE, 0, FALSE },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(JsonNode) node = parse (cases[i].text, NULL);
      g_autoptr(GError) error = NULL;
      LlmsbxJsonrpcKind kind;
      const char *method;
      JsonNode *id;
      gboolean ok;

      g_test_message ("%s", cases[i].text);
      g_assert_nonnull (node);
      ok = llmsbx_jsonrpc_classify (node, &kind, &method, &id, &error);
      g_assert_cmpint (ok, ==, cases[i].valid);
      if (ok)
        g_assert_cmpint (kind, ==, cases[i].kind);
      else
        g_assert_error (error, LLMSBX_JSONRPC_ERROR, LLMSBX_JSONRPC_ERROR_INVALID_REQUEST);
      g_assert_cmpint (id != NULL, ==, cases[i].has_id);
    }
}

static void
test_output_is_one_line (void)
{
  g_autoptr(GError) error = g_error_new_literal (LLMSBX_JSONRPC_ERROR, LLMSBX_JSONRPC_ERROR_INTERNAL_ERROR,
                                                 "two\nlines");
  g_autoptr(JsonNode) reply = llmsbx_jsonrpc_error_new (NULL, error, NULL);
  g_autofree char *text = llmsbx_jsonrpc_to_string (reply, NULL);

  g_assert_null (strchr (text, '\n'));
  g_assert_nonnull (strstr (text, "\"id\":null"));
}

/* Peer --------------------------------------------------------------------- */

typedef struct {
  LlmsbxSessionTable *table;
  LlmsbxMcpServer    *server;
  LlmsbxMcpPeer      *peer;
} Fixture;

static void
fixture_set_up (Fixture       *fixture,
                gconstpointer  data)
{
  fixture->table = llmsbx_session_table_new ();
  fixture->server = llmsbx_mcp_server_new (fixture->table);
  fixture->peer = llmsbx_mcp_peer_new (fixture->server, "test");
}

static void
fixture_tear_down (Fixture       *fixture,
                   gconstpointer  data)
{
  llmsbx_mcp_peer_close (fixture->peer);
  g_assert_finalize_object (fixture->peer);
  g_assert_finalize_object (fixture->server);
  g_assert_finalize_object (fixture->table);
}

static void
store_result (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  *(GAsyncResult **) user_data = g_object_ref (result);
}

/* Sends @text (one message or a batch) and returns the reply, or NULL. */
static JsonNode *
send (Fixture    *fixture,
      const char *text)
{
  g_autoptr(JsonNode) message = parse (text, NULL);
  g_autoptr(GAsyncResult) result = NULL;

  g_assert_nonnull (message);
  llmsbx_mcp_peer_handle_async (fixture->peer, message, store_result, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  return llmsbx_mcp_peer_handle_finish (fixture->peer, result);
}

static JsonObject *
object (JsonNode *node)
{
  g_assert_nonnull (node);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (node));
  return json_node_get_object (node);
}

/* The error code of a reply; 0 for a result. */
static gint64
error_code (JsonNode *reply)
{
  if (!json_object_has_member (object (reply), "error"))
    {
      g_assert_true (json_object_has_member (object (reply), "result"));
      return 0;
    }
  return json_object_get_int_member (json_object_get_object_member (object (reply), "error"), "code");
}

static void
initialize (Fixture    *fixture,
            const char *version,
            const char *expected)
{
  g_autofree char *text = g_strdup_printf ("{\"jsonrpc\": \"2.0\", \"id\": 0, \"method\": \"initialize\","
                                           " \"params\": {\"protocolVersion\": \"%s\", \"capabilities\": {},"
                                           " \"clientInfo\": {\"name\": \"test\", \"version\": \"1\"}}}", version);
  g_autoptr(JsonNode) reply = send (fixture, text);
  JsonObject *result;

  g_assert_cmpint (error_code (reply), ==, 0);
  result = json_object_get_object_member (object (reply), "result");
  g_assert_cmpstr (json_object_get_string_member (result, "protocolVersion"), ==, expected);
  g_assert_true (json_object_has_member (json_object_get_object_member (result, "capabilities"), "tools"));
  g_assert_cmpstr (llmsbx_mcp_peer_get_protocol_version (fixture->peer), ==, expected);
  g_clear_pointer (&reply, json_node_unref);
  g_assert_null (send (fixture, "{\"jsonrpc\": \"2.0\", \"method\": \"notifications/initialized\"}"));
}

static void
test_version_negotiation (Fixture       *fixture,
                          gconstpointer  data)
{
  initialize (fixture, data, strcmp (data, "1999-01-01") == 0 ? LLMSBX_MCP_LATEST_VERSION : data);
}

static void
test_before_initialize (Fixture       *fixture,
                        gconstpointer  data)
{
  g_autoptr(JsonNode) list = send (fixture, "{\"jsonrpc\": \"2.0\", \"id\": 1, \"method\": \"tools/list\"}");
  g_autoptr(JsonNode) ping = send (fixture, "{\"jsonrpc\": \"2.0\", \"id\": 2, \"method\": \"ping\"}");
  g_autoptr(JsonNode) bad = send (fixture, "{\"jsonrpc\": \"2.0\", \"id\": 3, \"method\": \"initialize\", \"params\": {}}");
  g_autoptr(JsonNode) batch = send (fixture, "[{\"jsonrpc\": \"2.0\", \"id\": 4, \"method\": \"ping\"}]");

  g_assert_cmpint (error_code (list), ==, LLMSBX_JSONRPC_ERROR_INVALID_REQUEST);
  g_assert_cmpint (error_code (ping), ==, 0);
  g_assert_cmpint (error_code (bad), ==, LLMSBX_JSONRPC_ERROR_INVALID_PARAMS);
  g_assert_cmpint (error_code (batch), ==, LLMSBX_JSONRPC_ERROR_INVALID_REQUEST);
  g_assert_true (json_object_get_null_member (object (batch), "id"));
}

static void
test_errors (Fixture       *fixture,
             gconstpointer  data)
{
  const struct {
    const char *text;
    gint64      code;
  } cases[] = {
    { "{\"jsonrpc\": \"2.0\", \"id\": 1, \"method\": \"resources/list\"}", LLMSBX_JSONRPC_ERROR_METHOD_NOT_FOUND },
    { "{\"jsonrpc\": \"2.0\", \"id\": 2, \"method\": \"tools/list\", \"params\": [1]}", LLMSBX_JSONRPC_ERROR_INVALID_PARAMS },
    { "{\"jsonrpc\": \"2.0\", \"id\": 3, \"method\": \"tools/list\", \"params\": {\"cursor\": 4}}", LLMSBX_JSONRPC_ERROR_INVALID_PARAMS },
    { "{\"jsonrpc\": \"2.0\", \"id\": 4, \"method\": \"tools/call\"}", LLMSBX_JSONRPC_ERROR_INVALID_PARAMS },
    { "{\"jsonrpc\": \"2.0\", \"id\": 5, \"method\": \"tools/call\", \"params\": {\"name\": \"rm\"}}", LLMSBX_JSONRPC_ERROR_INVALID_PARAMS },
    { "{\"jsonrpc\": \"2.0\", \"id\": 6, \"method\": \"tools/call\", \"params\": {\"name\": \"execute_code\", \"arguments\": []}}", LLMSBX_JSONRPC_ERROR_INVALID_PARAMS },
    { "{\"jsonrpc\": \"2.0\", \"id\": 7, \"method\": \"tools/call\", \"params\": {\"name\": \"execute_code\", \"arguments\": {}}}", LLMSBX_JSONRPC_ERROR_INVALID_PARAMS },
    { "{\"jsonrpc\": \"2.0\", \"id\": 8, \"method\": \"tools/call\", \"params\": {\"name\": \"execute_code\", \"arguments\": {\"code\": 42}}}", LLMSBX_JSONRPC_ERROR_INVALID_PARAMS },
    { "{\"jsonrpc\": \"2.0\", \"id\": 9, \"method\": \"tools/call\", \"params\": {\"name\": \"execute_code\", \"arguments\": {\"code\": \"1\", \"shell\": true}}}", LLMSBX_JSONRPC_ERROR_INVALID_PARAMS },
    { "{\"jsonrpc\": \"2.0\", \"id\": 10, \"method\": \"tools/call\", \"params\": {\"name\": \"execute_code\", \"arguments\": {\"code\": \"1\", \"timeout\": 0}}}", LLMSBX_JSONRPC_ERROR_INVALID_PARAMS },
    { "{\"jsonrpc\": \"2.0\", \"id\": 11, \"method\": \"tools/call\", \"params\": {\"name\": \"execute_code\", \"arguments\": {\"code\": \"1\", \"timeout\": 1e9}}}", LLMSBX_JSONRPC_ERROR_INVALID_PARAMS },
    { "{\"jsonrpc\": \"2.0\", \"id\": 12, \"method\": \"tools/call\", \"params\": {\"name\": \"execute_code\", \"arguments\": {\"code\": \"1\", \"libraries\": [\"a\", 1]}}}", LLMSBX_JSONRPC_ERROR_INVALID_PARAMS },
    { "{\"jsonrpc\": \"2.0\", \"id\": 13, \"method\": \"tools/call\", \"params\": {\"name\": \"run_in_session\", \"arguments\": {\"code\": \"1\"}}}", LLMSBX_JSONRPC_ERROR_INVALID_PARAMS },
    { "{\"jsonrpc\": \"2.0\", \"id\": 14, \"method\": \"initialize\", \"params\": {\"protocolVersion\": \"2025-06-18\"}}", LLMSBX_JSONRPC_ERROR_INVALID_REQUEST },
    { "{\"jsonrpc\": \"2.0\", \"method\": 5}", LLMSBX_JSONRPC_ERROR_INVALID_REQUEST },
    { "[]", LLMSBX_JSONRPC_ERROR_INVALID_REQUEST },
    { "[{\"jsonrpc\": \"2.0\", \"id\": 15, \"method\": \"ping\"}]", LLMSBX_JSONRPC_ERROR_INVALID_REQUEST },
  };

  initialize (fixture, "2025-06-18", "2025-06-18");
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(JsonNode) reply = send (fixture, cases[i].text);

      g_test_message ("%s", cases[i].text);
      g_assert_cmpint (error_code (reply), ==, cases[i].code);
    }
}

/* Unknown and malformed cancellations are ignored; nothing is answered. */
static void
test_cancel_unknown (Fixture       *fixture,
                     gconstpointer  data)
{
  g_autoptr(JsonNode) ping = NULL;

  initialize (fixture, "2025-06-18", "2025-06-18");
  g_assert_null (send (fixture, "{\"jsonrpc\": \"2.0\", \"method\": \"notifications/cancelled\", \"params\": {\"requestId\": 99}}"));
  g_assert_null (send (fixture, "{\"jsonrpc\": \"2.0\", \"method\": \"notifications/cancelled\", \"params\": {\"requestId\": {}}}"));
  g_assert_null (send (fixture, "{\"jsonrpc\": \"2.0\", \"method\": \"notifications/cancelled\"}"));
  g_assert_null (send (fixture, "{\"jsonrpc\": \"2.0\", \"id\": 7, \"result\": {}}"));
  ping = send (fixture, "{\"jsonrpc\": \"2.0\", \"id\": 1, \"method\": \"ping\"}");
  g_assert_cmpint (error_code (ping), ==, 0);
}

static JsonObject *
find_tool (JsonArray  *tools,
           const char *name)
{
  for (guint i = 0; i < json_array_get_length (tools); i++)
    {
      JsonObject *tool = json_array_get_object_element (tools, i);

      if (g_str_equal (json_object_get_string_member (tool, "name"), name))
        return tool;
    }
  return NULL;
}

/* What a version knows of: output schemas from 2025-06-18 only. */
static void
test_tools_by_version (Fixture       *fixture,
                       gconstpointer  data)
{
  const char *version = data;
  g_autoptr(JsonNode) reply = NULL;
  JsonArray *tools;
  JsonObject *execute;
  JsonObject *schema;
  gboolean structured = g_str_equal (version, "2025-06-18");
  const char *names[] = { "execute_code", "list_languages", "language_details",
                          "create_session", "run_in_session", "close_session" };

  initialize (fixture, version, version);
  reply = send (fixture, "{\"jsonrpc\": \"2.0\", \"id\": 1, \"method\": \"tools/list\", \"params\": {}}");
  g_assert_cmpint (error_code (reply), ==, 0);
  tools = json_object_get_array_member (json_object_get_object_member (object (reply), "result"), "tools");
  g_assert_cmpuint (json_array_get_length (tools), ==, G_N_ELEMENTS (names));
  for (gsize i = 0; i < G_N_ELEMENTS (names); i++)
    {
      JsonObject *tool = find_tool (tools, names[i]);

      g_assert_nonnull (tool);
      g_assert_cmpint (json_object_has_member (tool, "outputSchema"), ==, structured);
      g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (tool, "inputSchema"), "type"),
                       ==, "object");
    }
  execute = find_tool (tools, "execute_code");
  schema = json_object_get_object_member (execute, "inputSchema");
  g_assert_cmpstr (json_array_get_string_element (json_object_get_array_member (schema, "required"), 0), ==, "code");
  g_assert_false (json_object_get_boolean_member (schema, "additionalProperties"));
}

/* A batch of 2025-03-26 gets one array; notifications in it get nothing. */
static void
test_batch (Fixture       *fixture,
            gconstpointer  data)
{
  g_autoptr(JsonNode) reply = NULL;
  JsonArray *replies;

  initialize (fixture, "2025-03-26", "2025-03-26");
  reply = send (fixture, "[{\"jsonrpc\": \"2.0\", \"id\": 1, \"method\": \"ping\"},"
                         " {\"jsonrpc\": \"2.0\", \"method\": \"notifications/progress\"},"
                         " {\"jsonrpc\": \"2.0\", \"id\": 2, \"method\": \"nope\"},"
                         " 17]");
  g_assert_true (JSON_NODE_HOLDS_ARRAY (reply));
  replies = json_node_get_array (reply);
  g_assert_cmpuint (json_array_get_length (replies), ==, 3);
  g_assert_cmpint (error_code (json_array_get_element (replies, 0)), ==, 0);
  g_assert_cmpint (error_code (json_array_get_element (replies, 1)), ==, LLMSBX_JSONRPC_ERROR_METHOD_NOT_FOUND);
  g_assert_cmpint (error_code (json_array_get_element (replies, 2)), ==, LLMSBX_JSONRPC_ERROR_INVALID_REQUEST);
  g_clear_pointer (&reply, json_node_unref);

  g_assert_null (send (fixture, "[{\"jsonrpc\": \"2.0\", \"method\": \"notifications/progress\"}]"));
}

/* list_languages runs nothing: its result is in both forms. */
static void
test_list_languages (Fixture       *fixture,
                     gconstpointer  data)
{
  g_autoptr(JsonNode) reply = NULL;
  JsonObject *result;
  JsonArray *languages;

  initialize (fixture, "2025-06-18", "2025-06-18");
  reply = send (fixture, "{\"jsonrpc\": \"2.0\", \"id\": \"x\", \"method\": \"tools/call\","
                         " \"params\": {\"name\": \"list_languages\"}}");
  g_assert_cmpint (error_code (reply), ==, 0);
  g_assert_cmpstr (json_object_get_string_member (object (reply), "id"), ==, "x");
  result = json_object_get_object_member (object (reply), "result");
  g_assert_false (json_object_get_boolean_member (result, "isError"));
  languages = json_object_get_array_member (json_object_get_object_member (result, "structuredContent"), "languages");
  g_assert_cmpuint (json_array_get_length (languages), >=, 1);
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (json_object_get_array_member (result, "content"), 0), "type"),
                   ==, "text");
}

/* A tool that fails is a result with isError, not a protocol error. */
static void
test_tool_failure (Fixture       *fixture,
                   gconstpointer  data)
{
  g_autoptr(JsonNode) reply = NULL;
  JsonObject *result;

  initialize (fixture, "2025-06-18", "2025-06-18");
  reply = send (fixture, "{\"jsonrpc\": \"2.0\", \"id\": 1, \"method\": \"tools/call\","
                         " \"params\": {\"name\": \"language_details\", \"arguments\": {\"language\": \"cobol\"}}}");
  g_assert_cmpint (error_code (reply), ==, 0);
  result = json_object_get_object_member (object (reply), "result");
  g_assert_true (json_object_get_boolean_member (result, "isError"));
  g_assert_false (json_object_has_member (result, "structuredContent"));
  g_clear_pointer (&reply, json_node_unref);

  reply = send (fixture, "{\"jsonrpc\": \"2.0\", \"id\": 2, \"method\": \"tools/call\","
                         " \"params\": {\"name\": \"close_session\", \"arguments\": {\"session_id\": \"../1\"}}}");
  result = json_object_get_object_member (object (reply), "result");
  g_assert_true (json_object_get_boolean_member (result, "isError"));
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/mcp/jsonrpc/parse-bounds", test_parse_bounds);
  g_test_add_func ("/mcp/jsonrpc/classify", test_classify);
  g_test_add_func ("/mcp/jsonrpc/one-line", test_output_is_one_line);

#define PEER_TEST(path, func, data) \
  g_test_add (path, Fixture, data, fixture_set_up, func, fixture_tear_down)

  PEER_TEST ("/mcp/peer/version/2025-06-18", test_version_negotiation, "2025-06-18");
  PEER_TEST ("/mcp/peer/version/2025-03-26", test_version_negotiation, "2025-03-26");
  PEER_TEST ("/mcp/peer/version/2024-11-05", test_version_negotiation, "2024-11-05");
  PEER_TEST ("/mcp/peer/version/unknown", test_version_negotiation, "1999-01-01");
  PEER_TEST ("/mcp/peer/before-initialize", test_before_initialize, NULL);
  PEER_TEST ("/mcp/peer/errors", test_errors, NULL);
  PEER_TEST ("/mcp/peer/cancel-unknown", test_cancel_unknown, NULL);
  PEER_TEST ("/mcp/peer/tools/2025-06-18", test_tools_by_version, "2025-06-18");
  PEER_TEST ("/mcp/peer/tools/2024-11-05", test_tools_by_version, "2024-11-05");
  PEER_TEST ("/mcp/peer/batch", test_batch, NULL);
  PEER_TEST ("/mcp/peer/list-languages", test_list_languages, NULL);
  PEER_TEST ("/mcp/peer/tool-failure", test_tool_failure, NULL);

  return g_test_run ();
}
