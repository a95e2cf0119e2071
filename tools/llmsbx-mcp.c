/* llmsbx-mcp.c: `llmsbx mcp`, the MCP server of services/mcp on stdio or HTTP.
 *
 * Configuration comes from flags, else from LLMSBX_MCP_* environment
 * variables, else from the safe defaults of the session table (docs/mcp.md).
 * On stdio, standard output carries MCP messages only: the program's own
 * descriptor 1 is pointed at standard error, so that nothing else (a log
 * line, a library's print) can reach the client. A signal, or the end of the
 * input on stdio, cancels what runs and removes every sandbox before exit. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <glib-unix.h>
#include <gio/gunixinputstream.h>
#include <gio/gunixoutputstream.h>

#include "llmsbx-mcp-http.h"
#include "llmsbx-mcp-stdio.h"
#include "llmsbx-service-options.h"
#include "llmsbx-service-signals.h"
#include "llmsbx-tool.h"

#define DEFAULT_MAX_MESSAGE_SIZE (4 * 1024 * 1024)
#define DEFAULT_MAX_CLIENTS 64

typedef struct {
  GMainLoop          *loop;
  GCancellable       *cancellable;    /* ends the stdio session */
  LlmsbxSessionTable *table;
  LlmsbxMcpHttp      *http;
  gboolean            stopping;
  GError             *error;
} Serve;

/* Serving ----------------------------------------------------------------- */

static void
on_table_shut_down (GObject      *source,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  Serve *serve = user_data;

  llmsbx_session_table_shutdown_finish (serve->table, result, NULL);
  g_main_loop_quit (serve->loop);
}

/* Stops taking clients, then waits for every sandbox to be removed. */
static void
stop (gpointer  data,
      gpointer  unused)
{
  Serve *serve = data;

  if (serve->stopping)
    return;
  serve->stopping = TRUE;
  g_cancellable_cancel (serve->cancellable);
  if (serve->http != NULL)
    llmsbx_mcp_http_close (serve->http);
  llmsbx_session_table_shutdown_async (serve->table, on_table_shut_down, serve);
}

static void
on_stdio_done (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  Serve *serve = user_data;

  llmsbx_mcp_stdio_run_finish (LLMSBX_MCP_STDIO (source), result, &serve->error);
  stop (serve, NULL);
}

/* MCP messages get a descriptor of their own; descriptor 1 becomes a copy
 * of standard error. Writes must not block the main loop, so a pipe or
 * socket becomes non-blocking (only this descriptor's file description:
 * it is no longer anyone's standard output). */
static GOutputStream *
take_standard_output (GError **error)
{
  int fd = fcntl (STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
  struct stat st;

  if (fd < 0 || dup2 (STDERR_FILENO, STDOUT_FILENO) < 0)
    {
      int saved_errno = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                   "Could not set up standard output: %s", g_strerror (saved_errno));
      if (fd >= 0)
        close (fd);
      return NULL;
    }
  if (fstat (fd, &st) == 0 && (S_ISFIFO (st.st_mode) || S_ISSOCK (st.st_mode)))
    g_unix_set_fd_nonblocking (fd, TRUE, NULL);
  return g_unix_output_stream_new (fd, TRUE);
}

int
llmsbx_tool_mcp (int    argc,
                 char **argv)
{
  g_autoptr(LlmsbxServiceOptions) table_options = llmsbx_service_options_new ("LLMSBX_MCP_");
  g_autofree char *http_option = NULL;
  g_autofree char *token_option = NULL;
  g_auto(GStrv) origins_option = NULL;
  g_autofree char *max_message_size_option = NULL;
  g_autofree char *max_clients_option = NULL;
  const GOptionEntry entries[] = {
    { "http", 0, 0, G_OPTION_ARG_STRING, &http_option,
      "Serve Streamable HTTP on [HOST:]PORT (default host 127.0.0.1; port 0: any free port; the URL is printed) instead of stdio", "[HOST:]PORT" },
    { "token", 0, 0, G_OPTION_ARG_STRING, &token_option,
      "HTTP requests need 'Authorization: Bearer TOKEN' (prefer LLMSBX_MCP_TOKEN: flags show in ps)", "TOKEN" },
    { "allow-origin", 0, 0, G_OPTION_ARG_STRING_ARRAY, &origins_option,
      "Also take HTTP requests from this browser Origin (repeatable)", "ORIGIN" },
    { "max-message-size", 0, 0, G_OPTION_ARG_STRING, &max_message_size_option,
      "Bytes a message may have (default: 4194304)", "BYTES" },
    { "max-clients", 0, 0, G_OPTION_ARG_STRING, &max_clients_option,
      "HTTP clients (MCP sessions) at once (default: 64)", "N" },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr(GOptionContext) context = g_option_context_new (NULL);
  g_autoptr(LlmsbxSessionTable) table = NULL;
  g_autoptr(LlmsbxMcpServer) server = NULL;
  g_autoptr(LlmsbxMcpHttp) http = NULL;
  g_autoptr(LlmsbxMcpStdio) stdio = NULL;
  g_autoptr(GMainLoop) loop = NULL;
  g_autoptr(GCancellable) cancellable = NULL;
  g_autoptr(GError) error = NULL;
  const char *value;
  const char *address;
  const char *token;
  guint64 max_message_size = DEFAULT_MAX_MESSAGE_SIZE;
  guint64 max_clients = DEFAULT_MAX_CLIENTS;
  g_autoptr(LlmsbxServiceSignals) signals = NULL;
  Serve serve = { 0 };

  g_option_context_set_summary (context,
    "Serves the Model Context Protocol: LLM clients run code in sandboxes through its\n"
    "tools (execute_code, list_languages, language_details, create_session,\n"
    "run_in_session, close_session). Speaks stdio unless --http is given.");
  g_option_context_set_description (context,
    "Every flag has an environment variable, used when the flag is not given:\n"
    "LLMSBX_MCP_HTTP, LLMSBX_MCP_TOKEN, LLMSBX_MCP_ALLOW_ORIGINS (comma-separated),\n"
    "LLMSBX_MCP_BACKEND, LLMSBX_MCP_PRESET, LLMSBX_MCP_ALLOW_NETWORK,\n"
    "LLMSBX_MCP_RUNTIME_CONFIGS, LLMSBX_MCP_MAX_SANDBOXES, LLMSBX_MCP_MAX_SESSIONS,\n"
    "LLMSBX_MCP_IDLE_TIMEOUT, LLMSBX_MCP_TIMEOUT, LLMSBX_MCP_MAX_TIMEOUT,\n"
    "LLMSBX_MCP_MAX_MESSAGE_SIZE, LLMSBX_MCP_MAX_CLIENTS, LLMSBX_MCP_VERBOSE.\n"
    "Sandboxes are never committed and images never kept. See docs/mcp.md.");
  g_option_context_add_main_entries (context, entries, NULL);
  llmsbx_service_options_add_entries (table_options, context);
  if (!llmsbx_tool_parse_options (context, &argc, &argv))
    return LLMSBX_TOOL_EXIT_USAGE;
  if (argc > 1)
    return llmsbx_tool_usage_error (argv[0], "unexpected argument '%s'", argv[1]);

  /* Logs on stderr whatever their level: stdout may be the protocol's. */
  g_log_writer_default_set_use_stderr (TRUE);
  signal (SIGPIPE, SIG_IGN);

  /* MCP clients get plots as image content and sessions that keep their
   * variables (docs/mcp.md). */
  table = g_object_new (LLMSBX_TYPE_SESSION_TABLE, "interactive-sessions", TRUE, "capture-plots", TRUE, NULL);
  if (!llmsbx_service_options_apply (table_options, table, &error) ||
      !llmsbx_service_options_get_count (table_options, max_message_size_option, "MAX_MESSAGE_SIZE",
                                         G_MAXSIZE / 2, &max_message_size, &error) ||
      !llmsbx_service_options_get_count (table_options, max_clients_option, "MAX_CLIENTS",
                                         65536, &max_clients, &error))
    return llmsbx_tool_usage_error (argv[0], "%s", error->message);

  loop = g_main_loop_new (NULL, FALSE);
  cancellable = g_cancellable_new ();
  server = llmsbx_mcp_server_new (table);
  serve.loop = loop;
  serve.cancellable = cancellable;
  serve.table = table;

  address = llmsbx_service_options_get (table_options, http_option, "HTTP");
  token = llmsbx_service_options_get (table_options, token_option, "TOKEN");
  if (address != NULL)
    {
      g_autofree char *url = NULL;
      g_auto(GStrv) env_origins = NULL;

      http = llmsbx_mcp_http_new (server, max_message_size);
      llmsbx_mcp_http_set_token (http, token);
      llmsbx_mcp_http_set_max_clients (http, max_clients);
      llmsbx_mcp_http_set_client_timeout (http, llmsbx_session_table_get_idle_timeout (table));
      for (guint i = 0; origins_option != NULL && origins_option[i] != NULL; i++)
        llmsbx_mcp_http_add_allowed_origin (http, origins_option[i]);
      if (origins_option == NULL && (value = llmsbx_service_options_get (table_options, NULL, "ALLOW_ORIGINS")))
        {
          env_origins = g_strsplit (value, ",", -1);
          for (guint i = 0; env_origins[i] != NULL; i++)
            if (*g_strstrip (env_origins[i]) != '\0')
              llmsbx_mcp_http_add_allowed_origin (http, env_origins[i]);
        }
      if (!llmsbx_mcp_http_listen (http, address, &error))
        return llmsbx_tool_fail (error);

      url = llmsbx_mcp_http_get_url (http);
      if (token == NULL && !llmsbx_mcp_http_get_is_loopback (http))
        return llmsbx_tool_usage_error (argv[0], "serving %s beyond this machine needs a token "
                                        "(--token or LLMSBX_MCP_TOKEN)", url);
      /* The URL alone on stdout, for whoever started the server. */
      g_print ("%s\n", url);
      fflush (stdout);
      serve.http = http;
    }
  else
    {
      g_autoptr(GInputStream) input = g_unix_input_stream_new (STDIN_FILENO, FALSE);
      g_autoptr(GOutputStream) output = take_standard_output (&error);

      if (output == NULL)
        return llmsbx_tool_fail (error);
      if (token != NULL || origins_option != NULL)
        g_printerr ("llmsbx: warning: --token and --allow-origin apply to --http only\n");
      stdio = llmsbx_mcp_stdio_new (server, input, output, max_message_size);
      llmsbx_mcp_stdio_run_async (stdio, cancellable, on_stdio_done, &serve);
    }

  signals = llmsbx_service_signals_new ("llmsbx", stop, &serve);
  g_main_loop_run (loop);
  g_clear_pointer (&signals, llmsbx_service_signals_free);

  if (serve.error != NULL)
    {
      int status = llmsbx_tool_fail (serve.error);

      g_clear_error (&serve.error);
      return status;
    }
  /* A signal is how a server is told to stop: a clean stop is a success. */
  return EXIT_SUCCESS;
}
