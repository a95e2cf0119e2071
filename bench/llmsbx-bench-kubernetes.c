/* llmsbx-bench-kubernetes.c: warm run() on Kubernetes next to the raw
 * WebSocket exec floor, measured in the same run against the same test API
 * server (tests/kubernetes/kube-test-server.py, pods as Docker containers).
 *
 * floor: one exec WebSocket (v5.channel.k8s.io, the bearer token, the
 *   server's CA) running `python3 -c 'print(6*7)'` in the exec-path
 *   session's pod, read to its channel-3 Status and close;
 * ours: llmsbx_sandbox_session_run() of print(6*7) on an open session, on
 *   the exec path (`code-runner` exec) and through the resident runner.
 *
 * Rows alternate, so machine noise hits all alike; an untimed round first.
 * Requests are what the server logged per run (its admin log), so they
 * are the same count for the floor and for us. `ninja bench-kubernetes`;
 * the program takes --iterations and --mode (the server's). It needs
 * dockerd and the llmsbx/python:bookworm image. */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <json-glib/json-glib.h>
#include <libsoup/soup.h>
#include <llmsbx.h>

#include "llmsbx-bench-stats.h"

#define DEFAULT_ITERATIONS 20
#define PYTHON_CODE        "print(6*7)"

typedef struct {
  GSubprocess *process;
  JsonObject  *ready;
  SoupSession *admin;
  SoupSession *api;
  char        *token;
} Server;

static const char *
ready_string (Server     *server,
              const char *key)
{
  return json_object_get_string_member_with_default (server->ready, key, NULL);
}

static gboolean
server_start (Server      *server,
              const char  *script,
              const char  *mode,
              GError     **error)
{
  g_autoptr(GSubprocessLauncher) launcher =
    g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  g_autoptr(GDataInputStream) out = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autofree char *line = NULL;
  const char *ca;

  /* stdin a pipe: if the bench dies, the server sees EOF and removes its pods. */
  server->process = g_subprocess_launcher_spawn (launcher, error, "/usr/bin/python3", script, "--mode", mode,
                                                 "--watch-stdin", NULL);
  if (server->process == NULL)
    return FALSE;
  out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (server->process));
  line = g_data_input_stream_read_line (out, NULL, NULL, error);
  if (line == NULL)
    {
      if (error != NULL && *error == NULL)
        g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_FAILED, "the test API server did not start");
      return FALSE;
    }
  if (!json_parser_load_from_data (parser, line, -1, error))
    return FALSE;
  server->ready = json_object_ref (json_node_get_object (json_parser_get_root (parser)));
  server->admin = soup_session_new ();
  server->api = soup_session_new_with_options ("timeout", 0, "idle-timeout", 0, NULL);
  ca = ready_string (server, "ca");
  if (ca != NULL)
    {
      g_autoptr(GTlsDatabase) database = g_tls_file_database_new (ca, error);

      if (database == NULL)
        return FALSE;
      soup_session_set_tls_database (server->api, database);
    }
  if (ready_string (server, "token_file") != NULL)
    {
      if (!g_file_get_contents (ready_string (server, "token_file"), &server->token, NULL, error))
        return FALSE;
      g_strstrip (server->token);
    }
  return TRUE;
}

static void
server_stop (Server *server)
{
  if (server->process != NULL)
    {
      g_subprocess_send_signal (server->process, SIGTERM);
      g_subprocess_wait (server->process, NULL, NULL);
    }
  g_clear_object (&server->process);
  g_clear_pointer (&server->ready, json_object_unref);
  g_clear_object (&server->admin);
  g_clear_object (&server->api);
  g_clear_pointer (&server->token, g_free);
}

/* The API requests the server has logged so far (the admin endpoint never is). */
static gboolean
server_request_count (Server  *server,
                      guint   *count,
                      GError **error)
{
  g_autofree char *url = g_strconcat (ready_string (server, "admin_url"), "/log", NULL);
  g_autoptr(SoupMessage) message = soup_message_new ("GET", url);
  g_autoptr(GBytes) body = soup_session_send_and_read (server->admin, message, NULL, error);
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonArray *entries;

  if (body == NULL ||
      !json_parser_load_from_data (parser, g_bytes_get_data (body, NULL), g_bytes_get_size (body), error))
    return FALSE;
  entries = json_node_get_array (json_parser_get_root (parser));
  *count = 0;
  for (guint i = 0; i < json_array_get_length (entries); i++)
    if (json_object_has_member (json_array_get_object_element (entries, i), "method"))
      (*count)++;
  return TRUE;
}

/* ---- The floor: one raw exec WebSocket ---------------------------------- */

typedef struct {
  GMainLoop               *loop;
  SoupWebsocketConnection *ws;
  GString                 *stdout_;
  char                    *status;
  GError                  *error;
} RawExec;

static void
raw_message (SoupWebsocketConnection *ws,
             int                      type,
             GBytes                  *message,
             gpointer                 user_data)
{
  RawExec *exec = user_data;
  gsize size;
  const guint8 *data = g_bytes_get_data (message, &size);

  if (size == 0)
    return;
  if (data[0] == 1)
    g_string_append_len (exec->stdout_, (const char *) data + 1, size - 1);
  else if (data[0] == 3)
    exec->status = g_strndup ((const char *) data + 1, size - 1);
}

static void
raw_closed (SoupWebsocketConnection *ws,
            gpointer                 user_data)
{
  g_main_loop_quit (((RawExec *) user_data)->loop);
}

static void
raw_connected (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  RawExec *exec = user_data;

  exec->ws = soup_session_websocket_connect_finish (SOUP_SESSION (source), result, &exec->error);
  if (exec->ws == NULL)
    {
      g_main_loop_quit (exec->loop);
      return;
    }
  soup_websocket_connection_set_max_incoming_payload_size (exec->ws, 0);
  g_signal_connect (exec->ws, "message", G_CALLBACK (raw_message), exec);
  g_signal_connect (exec->ws, "closed", G_CALLBACK (raw_closed), exec);
}

static gboolean
floor_run (Server      *server,
           const char  *pod,
           GError     **error)
{
  static const char *protocols[] = { "v5.channel.k8s.io", NULL };
  g_autofree char *url = g_strdup_printf ("%s/api/v1/namespaces/default/pods/%s/exec?command=python3"
                                          "&command=-c&command=print%%286%%2A7%%29&stdout=true&stderr=true",
                                          ready_string (server, "url"), pod);
  g_autoptr(SoupMessage) message = soup_message_new ("GET", url);
  g_autoptr(GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  g_autoptr(GString) out = g_string_new (NULL);
  RawExec exec = { loop, NULL, out, NULL, NULL };
  gboolean ok = TRUE;

  if (server->token != NULL)
    {
      g_autofree char *bearer = g_strconcat ("Bearer ", server->token, NULL);

      soup_message_headers_replace (soup_message_get_request_headers (message), "Authorization", bearer);
    }
  soup_session_websocket_connect_async (server->api, message, NULL, (char **) protocols, G_PRIORITY_DEFAULT,
                                        NULL, raw_connected, &exec);
  g_main_loop_run (loop);
  if (exec.error != NULL)
    {
      g_propagate_error (error, exec.error);
      ok = FALSE;
    }
  else if (exec.status == NULL || strstr (exec.status, "\"Success\"") == NULL || strcmp (out->str, "42\n") != 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "the raw exec printed \"%s\", status %s", out->str,
                   exec.status ? exec.status : "(none)");
      ok = FALSE;
    }
  g_clear_object (&exec.ws);
  g_free (exec.status);
  return ok;
}

/* ---- Ours ----------------------------------------------------------------- */

static LlmsbxSandboxSession *
open_session (Server                *server,
              LlmsbxCodeRunnerMode   mode,
              GError               **error)
{
  g_autoptr(LlmsbxSandboxSession) session = NULL;
  GVariantBuilder settings;

  g_variant_builder_init (&settings, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&settings, "{sv}", "kubeconfig", g_variant_new_string (ready_string (server, "kubeconfig")));
  session = g_object_new (LLMSBX_TYPE_SANDBOX_SESSION, "lang", "python", "backend", "kubernetes",
                          "backend-settings", g_variant_builder_end (&settings),
                          "code-runner", mode, NULL);
  if (!llmsbx_sandbox_session_open (session, NULL, error))
    return NULL;
  return g_steal_pointer (&session);
}

static gboolean
ours_run (LlmsbxSandboxSession  *session,
          GError               **error)
{
  g_autoptr(LlmsbxExecutionResult) result = llmsbx_sandbox_session_run (session, PYTHON_CODE, NULL, 60, NULL,
                                                                        error);

  if (result == NULL)
    return FALSE;
  if (llmsbx_execution_result_get_exit_code (result) != 0 ||
      g_strcmp0 (llmsbx_execution_result_get_stdout (result), "42\n") != 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "run(): exit status %d, stdout \"%s\", stderr %s",
                   llmsbx_execution_result_get_exit_code (result), llmsbx_execution_result_get_stdout (result),
                   llmsbx_execution_result_get_stderr (result));
      return FALSE;
    }
  return TRUE;
}

typedef struct {
  const char           *label;
  LlmsbxSandboxSession *session;   /* NULL: the floor */
  GArray               *ms;
  guint                 requests;  /* per run, the last one's */
  char                 *failed;    /* why the row could not run */
} Row;

static gboolean
measure (Row         *row,
         Server      *server,
         const char  *pod,
         GError     **error)
{
  guint before = 0, after = 0;
  gint64 started;
  double ms;
  gboolean ok;

  if (!server_request_count (server, &before, error))
    return FALSE;
  started = g_get_monotonic_time ();
  ok = row->session ? ours_run (row->session, error) : floor_run (server, pod, error);
  ms = (g_get_monotonic_time () - started) / 1000.0;
  if (!ok)
    return FALSE;
  g_array_append_val (row->ms, ms);
  if (!server_request_count (server, &after, error))
    return FALSE;
  row->requests = after - before;
  return TRUE;
}

int
main (int    argc,
      char **argv)
{
  g_autofree char *mode = NULL;
  g_autofree char *script = NULL;
  int iterations = DEFAULT_ITERATIONS;
  const GOptionEntry entries[] = {
    { "iterations", 'n', 0, G_OPTION_ARG_INT, &iterations, "Warm runs per row (default: 20)", "N" },
    { "mode", 'm', 0, G_OPTION_ARG_STRING, &mode, "The test server's --mode (default: tls-token)", "MODE" },
    { "server", 0, 0, G_OPTION_ARG_FILENAME, &script, "kube-test-server.py", "PATH" },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr(GOptionContext) context = g_option_context_new (NULL);
  g_autoptr(GError) error = NULL;
  Server server = { 0 };
  Row rows[] = {
    { "floor: raw exec WebSocket", NULL, NULL, 0, NULL },
    { "ours: run(), exec path", NULL, NULL, 0, NULL },
    { "ours: run(), resident runner", NULL, NULL, 0, NULL },
  };
  const char *pod;
  double load_start = llmsbx_bench_load_average ();
  int status = 0;

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error) || iterations < 1)
    {
      g_printerr ("%s\n", error ? error->message : "--iterations must be at least 1");
      return 2;
    }
  if (script == NULL)
    script = g_strdup (LLMSBX_KUBE_TEST_SERVER);
  if (!server_start (&server, script, mode ? mode : "tls-token", &error))
    goto out;

  for (gsize i = 0; i < G_N_ELEMENTS (rows); i++)
    rows[i].ms = g_array_new (FALSE, FALSE, sizeof (double));
  rows[1].session = open_session (&server, LLMSBX_CODE_RUNNER_MODE_EXEC, &error);
  if (rows[1].session == NULL)
    goto out;
  pod = llmsbx_sandbox_session_get_container_id (rows[1].session);
  {
    g_autoptr(GError) resident_error = NULL;

    rows[2].session = open_session (&server, LLMSBX_CODE_RUNNER_MODE_RESIDENT, &resident_error);
    if (rows[2].session == NULL)
      rows[2].failed = g_strdup (resident_error->message);
  }

  /* One untimed round (the resident runner starts in its first run). */
  for (int n = 0; n <= iterations && error == NULL; n++)
    for (gsize i = 0; i < G_N_ELEMENTS (rows) && error == NULL; i++)
      {
        g_autoptr(GError) row_error = NULL;

        if (rows[i].failed != NULL)
          continue;
        if (!measure (&rows[i], &server, pod, &row_error))
          {
            /* Only the resident row may fail and leave the others measured. */
            if (i == 2)
              rows[i].failed = g_strdup (row_error->message);
            else
              g_propagate_error (&error, g_steal_pointer (&row_error));
          }
        else if (n == 0)
          g_array_set_size (rows[i].ms, 0);
      }
  if (error != NULL)
    goto out;

  printf ("warm run() on Kubernetes (test API server, %s), %d runs each (median), load %.1f -> %.1f\n",
          mode ? mode : "tls-token", iterations, load_start, llmsbx_bench_load_average ());
  for (gsize i = 0; i < G_N_ELEMENTS (rows); i++)
    {
      if (rows[i].failed != NULL)
        {
          printf ("  %-30s  did not run: %s\n", rows[i].label, rows[i].failed);
          continue;
        }
      printf ("  %-30s %8.1f ms  %u request%s", rows[i].label, llmsbx_bench_median (rows[i].ms), rows[i].requests,
              rows[i].requests == 1 ? "" : "s");
      if (i > 0)
        printf ("  ratio %.2fx", llmsbx_bench_median (rows[i].ms) / llmsbx_bench_median (rows[0].ms));
      printf ("\n");
    }

out:
  if (error != NULL)
    {
      g_printerr ("bench-kubernetes: %s\n", error->message);
      status = 1;
    }
  for (gsize i = 0; i < G_N_ELEMENTS (rows); i++)
    {
      g_autoptr(GError) close_error = NULL;

      if (rows[i].session != NULL && !llmsbx_sandbox_session_close (rows[i].session, NULL, &close_error))
        {
          g_printerr ("bench-kubernetes: %s\n", close_error->message);
          status = 1;
        }
      g_clear_object (&rows[i].session);
      g_clear_pointer (&rows[i].ms, g_array_unref);
      g_free (rows[i].failed);
    }
  server_stop (&server);
  return status;
}
