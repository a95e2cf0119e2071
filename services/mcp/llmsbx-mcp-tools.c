/* llmsbx-mcp-tools.c: the tools llmsbx mcp offers.
 *
 * Each tool is a row of a table: its arguments, from which both its JSON
 * Schema and the checks of what a client sends are made (so the two cannot
 * disagree), and a function that runs it through the session table.
 * Arguments of the wrong shape are protocol errors (-32602); a run that fails
 * (refused by the policy, timed out, a sandbox failure) is a tool result with
 * isError, which the model reads and can act on. A program that exits with a
 * status other than 0 is not a failure of the tool: its exit_code says so. */
#include <math.h>

#include "llmsbx-jsonrpc.h"
#include "llmsbx-mcp-server.h"
#include "llmsbx-mcp-tools.h"

/* Libraries one call may ask for; each is also checked by the session. */
#define MAX_LIBRARIES 64

typedef enum {
  ARG_STRING,
  ARG_STRING_ARRAY,
  ARG_TIMEOUT,
} ArgType;

typedef struct {
  const char *name;
  ArgType     type;
  gboolean    required;
  const char *description;
} ToolArg;

typedef struct {
  LlmsbxSessionTable *table;
  char               *owner;
  gboolean            structured;   /* the protocol version has structuredContent */
  JsonObject         *arguments;
  GCancellable       *cancellable;
} ToolCall;

typedef void (*ToolFunc) (GTask *task, ToolCall *call);

typedef struct {
  const char    *name;
  const char    *title;
  const char    *description;
  const ToolArg *args;
  const char    *output_schema;
  gboolean       read_only;
  ToolFunc       func;
} Tool;

/* Arguments -------------------------------------------------------------- */

#define ARG_LANGUAGE(required) \
  { "language", ARG_STRING, required, "The language of the code: python (the default), javascript, java, cpp, go, ruby or r; list_languages tells which are installed" }
#define ARG_CODE \
  { "code", ARG_STRING, TRUE, "The source code to run, as a complete program" }
#define ARG_LIBRARIES \
  { "libraries", ARG_STRING_ARRAY, FALSE, "Libraries to install with the language's package manager first (needs the network, which is off unless the server allows it)" }
#define ARG_TIMEOUT_SECONDS \
  { "timeout", ARG_TIMEOUT, FALSE, "Seconds the code may run before everything it started is killed" }
#define ARG_SESSION_ID \
  { "session_id", ARG_STRING, TRUE, "The session_id that create_session returned" }
#define ARG_END { NULL, 0, FALSE, NULL }

static const ToolArg execute_code_args[] = { ARG_LANGUAGE (FALSE), ARG_CODE, ARG_LIBRARIES, ARG_TIMEOUT_SECONDS, ARG_END };
static const ToolArg no_args[] = { ARG_END };
static const ToolArg language_args[] = { ARG_LANGUAGE (TRUE), ARG_END };
static const ToolArg create_session_args[] = { ARG_LANGUAGE (FALSE), ARG_END };
static const ToolArg run_in_session_args[] = { ARG_SESSION_ID, ARG_CODE, ARG_LIBRARIES, ARG_TIMEOUT_SECONDS, ARG_END };
static const ToolArg close_session_args[] = { ARG_SESSION_ID, ARG_END };

static const char run_output_schema[] =
  "{\"type\": \"object\", \"properties\": {"
  "\"exit_code\": {\"type\": \"integer\", \"description\": \"The program's exit status\"},"
  "\"stdout\": {\"type\": \"string\"},"
  "\"stderr\": {\"type\": \"string\"},"
  "\"truncated\": {\"type\": \"boolean\", \"description\": \"Output went past the server's limit and was cut\"},"
  "\"oom_killed\": {\"type\": \"boolean\", \"description\": \"The program ran out of memory\"},"
  "\"duration\": {\"type\": \"number\", \"description\": \"Seconds the run took\"},"
  "\"plots\": {\"type\": \"array\", \"description\": \"The plots the code made, in order; PNG, JPEG and SVG ones are image content of the result\","
  " \"items\": {\"type\": \"object\", \"properties\": {"
  "  \"format\": {\"type\": \"string\"}, \"filename\": {\"type\": \"string\"},"
  "  \"width\": {\"type\": \"integer\"}, \"height\": {\"type\": \"integer\"}, \"dpi\": {\"type\": \"number\"}},"
  "  \"required\": [\"format\", \"filename\"]}},"
  "\"plots_dropped\": {\"type\": \"boolean\", \"description\": \"The code made more plots than a result carries\"}},"
  "\"required\": [\"exit_code\", \"stdout\", \"stderr\", \"truncated\", \"oom_killed\", \"duration\"]}";

static const char languages_output_schema[] =
  "{\"type\": \"object\", \"properties\": {"
  "\"languages\": {\"type\": \"array\", \"items\": {\"type\": \"string\"}}},"
  "\"required\": [\"languages\"]}";

static const char details_output_schema[] =
  "{\"type\": \"object\", \"properties\": {"
  "\"name\": {\"type\": \"string\"},"
  "\"file_extension\": {\"type\": \"string\"},"
  "\"image\": {\"type\": \"string\"},"
  "\"libraries\": {\"type\": \"boolean\", \"description\": \"Libraries can be installed with a package manager\"},"
  "\"network\": {\"type\": \"boolean\", \"description\": \"Sandboxes have a network\"},"
  "\"preset\": {\"type\": \"string\", \"description\": \"The security preset sandboxes get\"},"
  "\"default_timeout\": {\"type\": \"number\"},"
  "\"max_timeout\": {\"type\": \"number\"}},"
  "\"required\": [\"name\", \"file_extension\", \"image\", \"libraries\", \"network\", \"preset\","
  " \"default_timeout\", \"max_timeout\"]}";

static const char session_output_schema[] =
  "{\"type\": \"object\", \"properties\": {"
  "\"session_id\": {\"type\": \"string\"},"
  "\"language\": {\"type\": \"string\"},"
  "\"idle_timeout\": {\"type\": \"number\", \"description\": \"Seconds unused after which the session is closed; 0 for never\"},"
  "\"interactive\": {\"type\": \"boolean\", \"description\": \"Variables, imports and functions persist between runs, not only files\"}},"
  "\"required\": [\"session_id\", \"language\", \"idle_timeout\", \"interactive\"]}";

static const char closed_output_schema[] =
  "{\"type\": \"object\", \"properties\": {"
  "\"session_id\": {\"type\": \"string\"},"
  "\"closed\": {\"type\": \"boolean\"}},"
  "\"required\": [\"session_id\", \"closed\"]}";

static gboolean
is_number (JsonNode *node)
{
  return JSON_NODE_HOLDS_VALUE (node) &&
         (json_node_get_value_type (node) == G_TYPE_INT64 || json_node_get_value_type (node) == G_TYPE_DOUBLE);
}

static gboolean
is_string (JsonNode *node)
{
  return JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_STRING;
}

static gboolean
check_arg (const ToolArg       *arg,
           JsonNode            *value,
           LlmsbxSessionTable  *table,
           GError             **error)
{
  switch (arg->type)
    {
    case ARG_STRING:
      if (is_string (value))
        return TRUE;
      g_set_error (error, LLMSBX_JSONRPC_ERROR, LLMSBX_JSONRPC_ERROR_INVALID_PARAMS,
                   "Argument '%s' must be a string", arg->name);
      return FALSE;

    case ARG_STRING_ARRAY:
      {
        JsonArray *array = JSON_NODE_HOLDS_ARRAY (value) ? json_node_get_array (value) : NULL;

        for (guint i = 0; array != NULL && i < json_array_get_length (array); i++)
          if (!is_string (json_array_get_element (array, i)))
            array = NULL;
        if (array == NULL)
          {
            g_set_error (error, LLMSBX_JSONRPC_ERROR, LLMSBX_JSONRPC_ERROR_INVALID_PARAMS,
                         "Argument '%s' must be an array of strings", arg->name);
            return FALSE;
          }
        if (json_array_get_length (array) > MAX_LIBRARIES)
          {
            g_set_error (error, LLMSBX_JSONRPC_ERROR, LLMSBX_JSONRPC_ERROR_INVALID_PARAMS,
                         "Argument '%s' has more than %d entries", arg->name, MAX_LIBRARIES);
            return FALSE;
          }
        return TRUE;
      }

    case ARG_TIMEOUT:
      {
        double max = llmsbx_session_table_get_max_timeout (table);
        double seconds = is_number (value) ? json_node_get_double (value) : NAN;

        if (isfinite (seconds) && seconds > 0 && seconds <= max)
          return TRUE;
        g_set_error (error, LLMSBX_JSONRPC_ERROR, LLMSBX_JSONRPC_ERROR_INVALID_PARAMS,
                     "Argument '%s' must be a number of seconds above 0 and at most %g", arg->name, max);
        return FALSE;
      }
    }
  g_assert_not_reached ();
}

/* The arguments against the tool's own table: unknown names, missing ones
 * and wrong types are the client's error, said precisely. */
static gboolean
check_arguments (const Tool          *tool,
                 JsonObject          *arguments,
                 LlmsbxSessionTable  *table,
                 GError             **error)
{
  g_autoptr(GList) names = json_object_get_members (arguments);

  for (GList *l = names; l != NULL; l = l->next)
    {
      const ToolArg *arg = tool->args;

      while (arg->name != NULL && !g_str_equal (arg->name, l->data))
        arg++;
      if (arg->name == NULL)
        {
          g_set_error (error, LLMSBX_JSONRPC_ERROR, LLMSBX_JSONRPC_ERROR_INVALID_PARAMS,
                       "Tool %s has no argument '%s'", tool->name, (const char *) l->data);
          return FALSE;
        }
      if (!check_arg (arg, json_object_get_member (arguments, arg->name), table, error))
        return FALSE;
    }

  for (const ToolArg *arg = tool->args; arg->name != NULL; arg++)
    if (arg->required && !json_object_has_member (arguments, arg->name))
      {
        g_set_error (error, LLMSBX_JSONRPC_ERROR, LLMSBX_JSONRPC_ERROR_INVALID_PARAMS,
                     "Tool %s needs the argument '%s'", tool->name, arg->name);
        return FALSE;
      }
  return TRUE;
}

static const char *
arg_string (ToolCall   *call,
            const char *name,
            const char *fallback)
{
  const char *value = llmsbx_json_object_get_string (call->arguments, name);

  return value ? value : fallback;
}

static GStrv
arg_strv (ToolCall   *call,
          const char *name)
{
  JsonNode *node = json_object_get_member (call->arguments, name);
  g_autoptr(GStrvBuilder) builder = NULL;
  JsonArray *array;

  if (node == NULL)
    return NULL;
  array = json_node_get_array (node);
  builder = g_strv_builder_new ();
  for (guint i = 0; i < json_array_get_length (array); i++)
    g_strv_builder_add (builder, json_node_get_string (json_array_get_element (array, i)));
  return g_strv_builder_end (builder);
}

static double
arg_timeout (ToolCall *call)
{
  JsonNode *node = json_object_get_member (call->arguments, "timeout");

  return node ? json_node_get_double (node) : 0;
}

/* Results ---------------------------------------------------------------- */

static void
add_text_item (JsonBuilder *builder,
               const char  *text)
{
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "type");
  json_builder_add_string_value (builder, "text");
  json_builder_set_member_name (builder, "text");
  json_builder_add_string_value (builder, text);
  json_builder_end_object (builder);
}

static void
add_text_content (JsonBuilder *builder,
                  const char  *text)
{
  json_builder_set_member_name (builder, "content");
  json_builder_begin_array (builder);
  add_text_item (builder, text);
  json_builder_end_array (builder);
}

/* The MIME type of a plot that MCP clients show as an image, else NULL
 * (PDF and HTML are listed in structuredContent only). */
static const char *
image_mime_type (LlmsbxPlotFormat format)
{
  switch (format)
    {
    case LLMSBX_PLOT_FORMAT_PNG: return "image/png";
    case LLMSBX_PLOT_FORMAT_JPEG: return "image/jpeg";
    case LLMSBX_PLOT_FORMAT_SVG: return "image/svg+xml";
    case LLMSBX_PLOT_FORMAT_PDF:
    case LLMSBX_PLOT_FORMAT_HTML:
    default: return NULL;
    }
}

/* A result with @structured as its structuredContent, and as JSON text for
 * clients of older protocol versions (the spec asks for both), then the
 * images among @plots (nullable) as image content, in the order the code
 * made them. */
static JsonNode *
tool_result_new (ToolCall  *call,
                 JsonNode  *structured,
                 GPtrArray *plots)
{
  g_autoptr(JsonBuilder) builder = json_builder_new_immutable ();
  g_autofree char *text = llmsbx_jsonrpc_to_string (structured, NULL);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "content");
  json_builder_begin_array (builder);
  add_text_item (builder, text);
  for (guint i = 0; plots != NULL && i < plots->len; i++)
    {
      LlmsbxPlotOutput *plot = g_ptr_array_index (plots, i);
      const char *mime_type = image_mime_type (llmsbx_plot_output_get_format (plot));
      g_autofree char *data = NULL;

      if (mime_type == NULL)
        continue;
      data = llmsbx_plot_output_get_content_base64 (plot);
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "type");
      json_builder_add_string_value (builder, "image");
      json_builder_set_member_name (builder, "data");
      json_builder_add_string_value (builder, data);
      json_builder_set_member_name (builder, "mimeType");
      json_builder_add_string_value (builder, mime_type);
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
  if (call->structured)
    {
      json_builder_set_member_name (builder, "structuredContent");
      json_builder_add_value (builder, json_node_ref (structured));
    }
  json_builder_set_member_name (builder, "isError");
  json_builder_add_boolean_value (builder, FALSE);
  json_builder_end_object (builder);
  json_node_unref (structured);
  return json_builder_get_root (builder);
}

static JsonNode *
tool_error_new (const char *message)
{
  g_autoptr(JsonBuilder) builder = json_builder_new_immutable ();

  json_builder_begin_object (builder);
  add_text_content (builder, message);
  json_builder_set_member_name (builder, "isError");
  json_builder_add_boolean_value (builder, TRUE);
  json_builder_end_object (builder);
  return json_builder_get_root (builder);
}

/* A failure: cancellation stays an error (the request is answered no
 * more), anything else is the tool's result. Another client's session reads
 * as none at all. */
static void
return_failure (GTask  *task,
                GError *error)
{
  g_autofree char *message = NULL;

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      g_task_return_error (task, error);
      return;
    }
  if (g_error_matches (error, LLMSBX_SERVICE_ERROR, LLMSBX_SERVICE_ERROR_ACCESS_DENIED))
    {
      error->code = LLMSBX_SERVICE_ERROR_NO_SUCH_SESSION;
      g_free (error->message);
      error->message = g_strdup ("No such session is open for this client");
    }
  message = g_strdup (error->message);
  g_error_free (error);
  g_task_return_pointer (task, tool_error_new (message), (GDestroyNotify) json_node_unref);
}

static void
return_structured (GTask    *task,
                   JsonNode *structured)
{
  ToolCall *call = g_task_get_task_data (task);

  g_task_return_pointer (task, tool_result_new (call, structured, NULL), (GDestroyNotify) json_node_unref);
}

/* The library's own JSON of a result, so every program shows the same,
 * without the plots' content: images travel as image content, once. */
static JsonNode *
execution_result_to_json (LlmsbxExecutionResult *result)
{
  g_autofree char *text = llmsbx_execution_result_to_json (result);
  JsonNode *root = json_from_string (text, NULL);
  JsonNode *member = json_object_get_member (json_node_get_object (root), "plots");
  JsonArray *plots = member != NULL && JSON_NODE_HOLDS_ARRAY (member) ? json_node_get_array (member) : NULL;

  for (guint i = 0; plots != NULL && i < json_array_get_length (plots); i++)
    json_object_remove_member (json_array_get_object_element (plots, i), "content_base64");
  return root;
}

static void
return_run (GTask                 *task,
            LlmsbxExecutionResult *result)
{
  ToolCall *call = g_task_get_task_data (task);

  g_task_return_pointer (task,
                         tool_result_new (call, execution_result_to_json (result),
                                          llmsbx_execution_result_get_plots (result)),
                         (GDestroyNotify) json_node_unref);
}

/* Tools ------------------------------------------------------------------ */

static void
on_executed (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  ToolCall *call = g_task_get_task_data (task);
  g_autoptr(LlmsbxExecutionResult) ran = NULL;
  GError *error = NULL;

  if (g_async_result_is_tagged (result, llmsbx_session_table_run_once_async))
    ran = llmsbx_session_table_run_once_finish (call->table, result, &error);
  else
    ran = llmsbx_session_table_run_finish (call->table, result, &error);

  if (ran == NULL)
    return_failure (task, error);
  else
    return_run (task, ran);
}

static gboolean
resolve_timeout (GTask    *task,
                 ToolCall *call,
                 double   *timeout)
{
  GError *error = NULL;

  if (llmsbx_session_table_resolve_timeout (call->table, arg_timeout (call), timeout, &error))
    return TRUE;
  return_failure (task, error);
  return FALSE;
}

static void
execute_code (GTask    *task,
              ToolCall *call)
{
  g_auto(GStrv) libraries = arg_strv (call, "libraries");
  double timeout;

  if (!resolve_timeout (task, call, &timeout))
    return;
  llmsbx_session_table_run_once_async (call->table, arg_string (call, "language", "python"),
                                       arg_string (call, "code", NULL), (const char * const *) libraries,
                                       timeout, call->cancellable, on_executed, g_object_ref (task));
}

static void
list_languages (GTask    *task,
                ToolCall *call)
{
  g_auto(GStrv) names = llmsbx_registry_list_languages (llmsbx_registry_get_default ());
  g_autoptr(JsonBuilder) builder = json_builder_new_immutable ();

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "languages");
  json_builder_begin_array (builder);
  for (guint i = 0; names[i] != NULL; i++)
    json_builder_add_string_value (builder, names[i]);
  json_builder_end_array (builder);
  json_builder_end_object (builder);
  return_structured (task, json_builder_get_root (builder));
}

static void
language_details (GTask    *task,
                  ToolCall *call)
{
  g_autoptr(LlmsbxLanguageHandler) handler = NULL;
  g_autoptr(LlmsbxRuntimeContext) context = NULL;
  g_autoptr(JsonBuilder) builder = NULL;
  g_autofree char *name = NULL;
  g_autofree char *extension = NULL;
  g_autofree char *image = NULL;
  const char *preset = llmsbx_session_table_get_preset (call->table);
  gboolean network = FALSE;
  GError *error = NULL;

  handler = llmsbx_registry_lookup_language (llmsbx_registry_get_default (),
                                             arg_string (call, "language", NULL), &error);
  if (handler == NULL)
    {
      return_failure (task, error);
      return;
    }
  name = llmsbx_language_handler_get_name (handler);
  extension = llmsbx_language_handler_get_file_extension (handler);
  image = llmsbx_language_handler_get_default_image (handler);
  context = llmsbx_runtime_context_new ("/sandbox", TRUE);
  g_object_get (call->table, "allow-network", &network, NULL);

  builder = json_builder_new_immutable ();
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "name");
  json_builder_add_string_value (builder, name);
  json_builder_set_member_name (builder, "file_extension");
  json_builder_add_string_value (builder, extension ? extension : "");
  json_builder_set_member_name (builder, "image");
  json_builder_add_string_value (builder, image ? image : "");
  json_builder_set_member_name (builder, "libraries");
  json_builder_add_boolean_value (builder, llmsbx_language_handler_supports_library_installation (handler, context));
  json_builder_set_member_name (builder, "network");
  json_builder_add_boolean_value (builder, network);
  json_builder_set_member_name (builder, "preset");
  json_builder_add_string_value (builder, preset ? preset : "none");
  json_builder_set_member_name (builder, "default_timeout");
  json_builder_add_double_value (builder, llmsbx_session_table_get_default_timeout (call->table));
  json_builder_set_member_name (builder, "max_timeout");
  json_builder_add_double_value (builder, llmsbx_session_table_get_max_timeout (call->table));
  json_builder_end_object (builder);
  return_structured (task, json_builder_get_root (builder));
}

static void
on_session_created (GObject      *source,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  ToolCall *call = g_task_get_task_data (task);
  g_autoptr(JsonBuilder) builder = NULL;
  g_autofree char *id_text = NULL;
  LlmsbxSandboxSession *session;
  GError *error = NULL;
  guint id;

  id = llmsbx_session_table_open_finish (call->table, result, &error);
  if (id == 0)
    {
      return_failure (task, error);
      return;
    }
  session = llmsbx_session_table_lookup (call->table, id, call->owner, NULL);
  id_text = g_strdup_printf ("%u", id);

  builder = json_builder_new_immutable ();
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "session_id");
  json_builder_add_string_value (builder, id_text);
  json_builder_set_member_name (builder, "language");
  json_builder_add_string_value (builder, session ? llmsbx_sandbox_session_get_lang (session) : "");
  json_builder_set_member_name (builder, "idle_timeout");
  json_builder_add_double_value (builder, llmsbx_session_table_get_idle_timeout (call->table));
  json_builder_set_member_name (builder, "interactive");
  json_builder_add_boolean_value (builder, LLMSBX_IS_INTERACTIVE_SANDBOX_SESSION (session));
  json_builder_end_object (builder);
  return_structured (task, json_builder_get_root (builder));
}

static void
create_session (GTask    *task,
                ToolCall *call)
{
  llmsbx_session_table_open_async (call->table, call->owner, arg_string (call, "language", "python"),
                                   call->cancellable, on_session_created, g_object_ref (task));
}

/* Ids are what create_session gave out: decimal numbers, as strings. */
static gboolean
session_id (GTask    *task,
            ToolCall *call,
            guint    *id)
{
  const char *text = arg_string (call, "session_id", "");
  guint64 value = 0;

  if (g_ascii_string_to_unsigned (text, 10, 1, G_MAXUINT, &value, NULL) && g_ascii_isdigit (text[0]))
    {
      *id = (guint) value;
      return TRUE;
    }
  return_failure (task, g_error_new_literal (LLMSBX_SERVICE_ERROR, LLMSBX_SERVICE_ERROR_NO_SUCH_SESSION,
                                             "No such session is open for this client"));
  return FALSE;
}

static void
run_in_session (GTask    *task,
                ToolCall *call)
{
  g_auto(GStrv) libraries = arg_strv (call, "libraries");
  double timeout;
  guint id;

  if (!session_id (task, call, &id) || !resolve_timeout (task, call, &timeout))
    return;
  llmsbx_session_table_run_async (call->table, id, call->owner, arg_string (call, "code", NULL),
                                  (const char * const *) libraries, timeout, call->cancellable,
                                  on_executed, g_object_ref (task));
}

static void
on_session_closed (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  ToolCall *call = g_task_get_task_data (task);
  g_autoptr(JsonBuilder) builder = NULL;
  GError *error = NULL;

  if (!llmsbx_session_table_close_finish (call->table, result, &error))
    {
      return_failure (task, error);
      return;
    }
  builder = json_builder_new_immutable ();
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "session_id");
  json_builder_add_string_value (builder, arg_string (call, "session_id", ""));
  json_builder_set_member_name (builder, "closed");
  json_builder_add_boolean_value (builder, TRUE);
  json_builder_end_object (builder);
  return_structured (task, json_builder_get_root (builder));
}

static void
close_session (GTask    *task,
               ToolCall *call)
{
  guint id;

  if (!session_id (task, call, &id))
    return;
  llmsbx_session_table_close_async (call->table, id, call->owner, on_session_closed, g_object_ref (task));
}

static const Tool tools[] = {
  { "execute_code", "Run code in a sandbox",
    "Runs a program in a new, isolated sandbox (a container without network) and returns its "
    "exit code, standard output and standard error, and as images the plots it makes "
    "(matplotlib, seaborn, plotly in Python; R graphics). Nothing persists between calls: use "
    "create_session and run_in_session to keep variables and files.",
    execute_code_args, run_output_schema, FALSE, execute_code },
  { "list_languages", "List languages",
    "Lists the languages code can be run in.",
    no_args, languages_output_schema, TRUE, list_languages },
  { "language_details", "Describe a language",
    "Describes how code of a language runs here: its file extension, image, whether libraries "
    "can be installed, the network, the security preset and the timeouts.",
    language_args, details_output_schema, TRUE, language_details },
  { "create_session", "Open a sandbox session",
    "Opens a sandbox that stays between calls: files that one run_in_session writes (in its "
    "working directory) are there for the next. In Python and JavaScript the session is "
    "interactive, like a notebook: variables, imports and functions persist too, and a final "
    "expression's value is printed (the result's interactive says so). The session closes when "
    "close_session is called or when it was unused for idle_timeout seconds.",
    create_session_args, session_output_schema, FALSE, create_session },
  { "run_in_session", "Run code in a session",
    "Runs code in a session opened with create_session and returns its exit code, standard "
    "output and standard error; files of earlier runs are still there, and in an interactive "
    "session their variables too.",
    run_in_session_args, run_output_schema, FALSE, run_in_session },
  { "close_session", "Close a session",
    "Closes a session opened with create_session and removes its sandbox and files.",
    close_session_args, closed_output_schema, FALSE, close_session },
};

static const Tool *
find_tool (const char *name)
{
  for (gsize i = 0; i < G_N_ELEMENTS (tools); i++)
    if (g_str_equal (tools[i].name, name))
      return &tools[i];
  return NULL;
}

/* Descriptions ----------------------------------------------------------- */

static void
add_input_schema (JsonBuilder        *builder,
                  const Tool         *tool,
                  LlmsbxSessionTable *table)
{
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "type");
  json_builder_add_string_value (builder, "object");
  json_builder_set_member_name (builder, "properties");
  json_builder_begin_object (builder);
  for (const ToolArg *arg = tool->args; arg->name != NULL; arg++)
    {
      json_builder_set_member_name (builder, arg->name);
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "type");
      switch (arg->type)
        {
        case ARG_STRING:
          json_builder_add_string_value (builder, "string");
          break;
        case ARG_STRING_ARRAY:
          json_builder_add_string_value (builder, "array");
          json_builder_set_member_name (builder, "items");
          json_builder_begin_object (builder);
          json_builder_set_member_name (builder, "type");
          json_builder_add_string_value (builder, "string");
          json_builder_end_object (builder);
          json_builder_set_member_name (builder, "maxItems");
          json_builder_add_int_value (builder, MAX_LIBRARIES);
          break;
        case ARG_TIMEOUT:
          json_builder_add_string_value (builder, "number");
          json_builder_set_member_name (builder, "exclusiveMinimum");
          json_builder_add_int_value (builder, 0);
          json_builder_set_member_name (builder, "maximum");
          json_builder_add_double_value (builder, llmsbx_session_table_get_max_timeout (table));
          json_builder_set_member_name (builder, "default");
          json_builder_add_double_value (builder, llmsbx_session_table_get_default_timeout (table));
          break;
        }
      json_builder_set_member_name (builder, "description");
      json_builder_add_string_value (builder, arg->description);
      json_builder_end_object (builder);
    }
  json_builder_end_object (builder);
  json_builder_set_member_name (builder, "required");
  json_builder_begin_array (builder);
  for (const ToolArg *arg = tool->args; arg->name != NULL; arg++)
    if (arg->required)
      json_builder_add_string_value (builder, arg->name);
  json_builder_end_array (builder);
  json_builder_set_member_name (builder, "additionalProperties");
  json_builder_add_boolean_value (builder, FALSE);
  json_builder_end_object (builder);
}

/**
 * llmsbx_mcp_tools_list:
 * @table: the session table the tools use
 * @version: the protocol version of the client
 *
 * Returns: (transfer full): the `tools` array of a tools/list result, with
 *   what @version knows of (titles and output schemas from 2025-06-18,
 *   annotations from 2025-03-26)
 */
JsonNode *
llmsbx_mcp_tools_list (LlmsbxSessionTable *table,
                       const char         *version)
{
  g_autoptr(JsonBuilder) builder = json_builder_new_immutable ();
  gboolean structured = llmsbx_mcp_version_has_structured_content (version);
  gboolean annotations = g_strcmp0 (version, "2025-03-26") >= 0;

  json_builder_begin_array (builder);
  for (gsize i = 0; i < G_N_ELEMENTS (tools); i++)
    {
      const Tool *tool = &tools[i];

      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "name");
      json_builder_add_string_value (builder, tool->name);
      if (structured)
        {
          json_builder_set_member_name (builder, "title");
          json_builder_add_string_value (builder, tool->title);
        }
      json_builder_set_member_name (builder, "description");
      json_builder_add_string_value (builder, tool->description);
      json_builder_set_member_name (builder, "inputSchema");
      add_input_schema (builder, tool, table);
      if (structured)
        {
          json_builder_set_member_name (builder, "outputSchema");
          json_builder_add_value (builder, json_from_string (tool->output_schema, NULL));
        }
      if (annotations)
        {
          json_builder_set_member_name (builder, "annotations");
          json_builder_begin_object (builder);
          json_builder_set_member_name (builder, "title");
          json_builder_add_string_value (builder, tool->title);
          json_builder_set_member_name (builder, "readOnlyHint");
          json_builder_add_boolean_value (builder, tool->read_only);
          json_builder_set_member_name (builder, "openWorldHint");
          json_builder_add_boolean_value (builder, FALSE);
          json_builder_end_object (builder);
        }
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
  return json_builder_get_root (builder);
}

/* Calls ------------------------------------------------------------------ */

static void
tool_call_free (gpointer data)
{
  ToolCall *call = data;

  g_object_unref (call->table);
  g_free (call->owner);
  json_object_unref (call->arguments);
  g_clear_object (&call->cancellable);
  g_free (call);
}

/**
 * llmsbx_mcp_tools_call_async:
 * @table: the session table the tools use
 * @owner: the client, owner of the sessions it opens
 * @version: its protocol version
 * @name: the tool
 * @arguments: (nullable): its arguments
 * @cancellable: (nullable): cancels the call, killing what it started
 * @callback: called with the tool's result
 * @user_data: data for @callback
 *
 * Calls a tool. The result is a CallToolResult; an unknown tool or arguments
 * the tool does not take fail with %LLMSBX_JSONRPC_ERROR_INVALID_PARAMS.
 */
void
llmsbx_mcp_tools_call_async (LlmsbxSessionTable  *table,
                             const char          *owner,
                             const char          *version,
                             const char          *name,
                             JsonObject          *arguments,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  g_autoptr(GTask) task = g_task_new (table, cancellable, callback, user_data);
  const Tool *tool = find_tool (name);
  GError *error = NULL;
  ToolCall *call;

  g_task_set_source_tag (task, llmsbx_mcp_tools_call_async);

  call = g_new0 (ToolCall, 1);
  call->table = g_object_ref (table);
  call->owner = g_strdup (owner);
  call->structured = llmsbx_mcp_version_has_structured_content (version);
  call->arguments = arguments ? json_object_ref (arguments) : json_object_new ();
  call->cancellable = cancellable ? g_object_ref (cancellable) : NULL;
  g_task_set_task_data (task, call, tool_call_free);

  if (tool == NULL)
    {
      g_task_return_new_error (task, LLMSBX_JSONRPC_ERROR, LLMSBX_JSONRPC_ERROR_INVALID_PARAMS,
                               "Unknown tool: %s", name);
      return;
    }
  if (!check_arguments (tool, call->arguments, table, &error))
    {
      g_task_return_error (task, error);
      return;
    }
  tool->func (task, call);
}

/**
 * llmsbx_mcp_tools_call_finish:
 * @table: the session table
 * @result: the #GAsyncResult
 * @error: return location for a #GError
 *
 * Returns: (transfer full): the CallToolResult, or %NULL on a protocol error
 */
JsonNode *
llmsbx_mcp_tools_call_finish (LlmsbxSessionTable  *table,
                              GAsyncResult        *result,
                              GError             **error)
{
  g_return_val_if_fail (g_task_is_valid (result, table), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == llmsbx_mcp_tools_call_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}
