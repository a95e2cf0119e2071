/* llmsbx-bench-runner.c: warm runs through llmsbx-runner over local pipes,
 * next to the floor of starting the interpreter, measured in the same run;
 * with --docker, through a real hijacked exec connection of Docker, next to
 * the Engine API's exec floor.
 *
 * Every operation prints 1 with Python and checks the output. The floor is
 * what every run costs without a runner: fork and exec of `python3 -c
 * 'print(1)'` and reading its output to the end (posix_spawn, as GLib does).
 * Ours: the same argv run by the runner (exec mode: what the runner adds to a
 * process start), `print(1)` in the Python adapter (stateless: a forked
 * child of a started interpreter), and as an interactive cell. Rounds
 * alternate floor and ours, so machine noise hits both alike. It asserts
 * nothing and exits 0 whatever the numbers.
 *
 * --docker: a container of the Python image (label
 * io.llmsbx.managed-by=libllmsbx-bench, removed at the end) gets the
 * runner by `docker cp` (PUT archive); the runner is started by an exec with
 * stdin attached over the hijacked connection (HTTP 101, protocols.md §1.9),
 * whose stdout frames a thread demultiplexes into a pipe, which is what a
 * backend's attached exec stream will be. The floor is the 3 requests of an
 * Engine-API exec of `python3 -c 'print(1)'` (create, start with its stream
 * read to the end, inspect), over the same socket. */
#define _GNU_SOURCE
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gio/gio.h>
#include <gio/gunixinputstream.h>
#include <gio/gunixoutputstream.h>
#include <gio/gunixsocketaddress.h>
#include <glib/gprintf.h>
#include <glib/gstdio.h>

#include "llmsbx-resident-runner-private.h"

#ifndef LLMSBX_RUNNER_DIR
#error "LLMSBX_RUNNER_DIR must name the build directory of llmsbx-runner"
#endif

#define DEFAULT_ITERATIONS 40
#define PYTHON "/usr/bin/python3"

extern char **environ;

static int iterations = DEFAULT_ITERATIONS;
static gboolean json;
static gboolean docker;
static char *image = NULL;

static int
compare_double (gconstpointer a,
                gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return (x > y) - (x < y);
}

typedef struct {
  const char *name;
  GArray     *samples;  /* ms */
  guint       requests; /* frames the host sends per operation */
} Row;

static double
percentile (Row    *row,
            double  p)
{
  guint n = row->samples->len;
  guint rank;

  g_array_sort (row->samples, compare_double);
  rank = (guint) (p * n + 0.999999);
  rank = CLAMP (rank, 1, n);
  return g_array_index (row->samples, double, rank - 1);
}

/* The floor: posix_spawn python3 -c 'print(1)', read stdout to its end, wait. */
static double
floor_once (void)
{
  char *argv[] = { PYTHON, "-c", "print(1)", NULL };
  posix_spawn_file_actions_t actions;
  gint64 start = g_get_monotonic_time ();
  char out[64];
  gsize got = 0;
  int pipefd[2], status;
  pid_t pid;
  gssize n;

  if (pipe2 (pipefd, O_CLOEXEC) < 0)
    g_error ("pipe: %s", g_strerror (errno));
  posix_spawn_file_actions_init (&actions);
  posix_spawn_file_actions_adddup2 (&actions, pipefd[1], 1);
  if (posix_spawn (&pid, PYTHON, &actions, NULL, argv, environ) != 0)
    g_error ("cannot start %s", PYTHON);
  posix_spawn_file_actions_destroy (&actions);
  close (pipefd[1]);
  while ((n = read (pipefd[0], out + got, sizeof out - got)) > 0)
    got += (gsize) n;
  close (pipefd[0]);
  waitpid (pid, &status, 0);
  if (got != 2 || memcmp (out, "1\n", 2) != 0 || !WIFEXITED (status) || WEXITSTATUS (status) != 0)
    g_error ("the floor printed something else than 1");
  return (g_get_monotonic_time () - start) / 1000.0;
}

static double
ours_once (LlmsbxResidentRunner      *runner,
           const LlmsbxRunnerRequest *request)
{
  g_autoptr(LlmsbxOutputCollector) output = llmsbx_output_collector_new (0);
  g_auto(LlmsbxRunnerResult) result = { 0 };
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) out = NULL;
  gint64 start = g_get_monotonic_time ();
  double ms;

  if (!llmsbx_resident_runner_run (runner, request, output, -1, &result, NULL, &error))
    g_error ("run failed: %s", error->message);
  ms = (g_get_monotonic_time () - start) / 1000.0;
  out = llmsbx_output_collector_steal_bytes (output, LLMSBX_OUTPUT_STREAM_STDOUT);
  if (result.exit_code != 0 || g_bytes_get_size (out) != 2 || memcmp (g_bytes_get_data (out, NULL), "1\n", 2) != 0)
    g_error ("the run printed something else than 1 (exit code %d)", result.exit_code);
  return ms;
}

static void
print_row (Row *row)
{
  if (!json)
    g_print ("%-44s %9.2f %9.2f %9u\n", row->name, percentile (row, 0.5), percentile (row, 0.9), row->requests);
}

/* Docker ----------------------------------------------------------------- */

#define DOCKER_SOCKET "/var/run/docker.sock"
#define DOCKER_API "/v1.41"
#define DOCKER_LABEL "io.llmsbx.managed-by=libllmsbx-bench"
#define RUNNER_IN_SANDBOX "/tmp/.llmsbx-runner-1/llmsbx-runner"

static char *container;

/* Removes the container, then stops with @message. */
static void G_GNUC_NORETURN G_GNUC_PRINTF (1, 2)
fail (const char *format,
      ...)
{
  va_list args;

  va_start (args, format);
  g_printerr ("llmsbx-bench-runner: ");
  g_vfprintf (stderr, format, args);
  g_printerr ("\n");
  va_end (args);
  if (container != NULL)
    {
      const char *rm[] = { "docker", "rm", "-f", container, NULL };

      g_spawn_sync (NULL, (char **) rm, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL,
                    NULL, NULL, NULL, NULL);
    }
  exit (1);
}

static char *
docker_cli (const char * const *argv)
{
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr(GError) error = NULL;
  int status;

  if (!g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, &err, &status, &error) ||
      !g_spawn_check_wait_status (status, NULL))
    fail ("%s %s failed: %s", argv[0], argv[1], error ? error->message : err);
  return g_strstrip (g_steal_pointer (&out));
}

static GSocketConnection *
docker_connect (void)
{
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  g_autoptr(GSocketAddress) address = g_unix_socket_address_new (DOCKER_SOCKET);
  g_autoptr(GError) error = NULL;
  GSocketConnection *connection = g_socket_client_connect (client, G_SOCKET_CONNECTABLE (address), NULL, &error);

  if (connection == NULL)
    fail ("cannot connect to %s: %s", DOCKER_SOCKET, error->message);
  return connection;
}

/* Sends one request and reads the response head. Returns the status; what
 * followed the head is in @rest. */
static guint
docker_send (GSocketConnection *connection,
             const char        *method,
             const char        *path,
             const char        *body,
             const char        *headers,
             GByteArray        *rest)
{
  g_autofree char *request = g_strdup_printf ("%s " DOCKER_API "%s HTTP/1.1\r\nHost: docker\r\n%s"
                                              "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
                                              method, path, headers, body ? strlen (body) : 0, body ? body : "");
  GOutputStream *out = g_io_stream_get_output_stream (G_IO_STREAM (connection));
  GInputStream *in = g_io_stream_get_input_stream (G_IO_STREAM (connection));
  g_autoptr(GError) error = NULL;
  guint8 chunk[4096];
  guint status = 0;

  if (!g_output_stream_write_all (out, request, strlen (request), NULL, NULL, &error))
    fail ("sending %s %s: %s", method, path, error->message);
  g_byte_array_set_size (rest, 0);
  for (;;)
    {
      gssize n = g_input_stream_read (in, chunk, sizeof chunk, NULL, &error);
      const char *end;

      if (n <= 0)
        fail ("reading the answer to %s %s: %s", method, path, error ? error->message : "end of stream");
      g_byte_array_append (rest, chunk, (guint) n);
      end = g_strstr_len ((const char *) rest->data, rest->len, "\r\n\r\n");
      if (end != NULL)
        {
          gsize head = (gsize) (end - (const char *) rest->data) + 4;

          if (sscanf ((const char *) rest->data, "HTTP/1.%*d %u", &status) != 1)
            fail ("a malformed answer to %s %s", method, path);
          g_byte_array_remove_range (rest, 0, (guint) head);
          return status;
        }
    }
}

/* One request on its own connection; the whole body. */
static GByteArray *
docker_request (const char *method,
                const char *path,
                const char *body,
                guint       expected)
{
  g_autoptr(GSocketConnection) connection = docker_connect ();
  GInputStream *in = g_io_stream_get_input_stream (G_IO_STREAM (connection));
  GByteArray *all = g_byte_array_new ();
  guint status = docker_send (connection, method, path, body, "Connection: close\r\n", all);
  guint8 chunk[65536];
  gssize n;

  while ((n = g_input_stream_read (in, chunk, sizeof chunk, NULL, NULL)) > 0)
    g_byte_array_append (all, chunk, (guint) n);
  if (status != expected)
    fail ("%s %s answered %u: %.*s", method, path, status, (int) MIN (all->len, 300), all->data);
  return all;
}

/* The value of "Key":"value" in a JSON body (or chunked bits of one). */
static char *
json_string (GByteArray *body,
             const char *key)
{
  g_autofree char *pattern = g_strdup_printf ("\"%s\":\"([^\"]+)\"", key);
  g_autoptr(GRegex) regex = g_regex_new (pattern, 0, 0, NULL);
  g_autoptr(GMatchInfo) match = NULL;
  g_autofree char *text = g_strndup ((const char *) body->data, body->len);

  if (!g_regex_match (regex, text, 0, &match))
    fail ("no %s in %s", key, text);
  return g_match_info_fetch (match, 1);
}

/* The floor: create, start (stream to its end), inspect. */
static double
docker_floor_once (void)
{
  g_autofree char *path = g_strdup_printf ("/containers/%s/exec", container);
  gint64 start = g_get_monotonic_time ();
  g_autoptr(GByteArray) created =
    docker_request ("POST", path, "{\"AttachStdout\":true,\"AttachStderr\":true,\"Tty\":false,"
                                  "\"Cmd\":[\"python3\",\"-c\",\"print(1)\"]}", 201);
  g_autofree char *id = json_string (created, "Id");
  g_autofree char *start_path = g_strdup_printf ("/exec/%s/start", id);
  g_autofree char *inspect_path = g_strdup_printf ("/exec/%s/json", id);
  g_autoptr(GByteArray) stream = docker_request ("POST", start_path, "{\"Detach\":false,\"Tty\":false}", 200);
  g_autoptr(GByteArray) inspected = docker_request ("GET", inspect_path, NULL, 200);
  double ms = (g_get_monotonic_time () - start) / 1000.0;

  /* Its stdout frames say "1\n". */
  {
    g_autoptr(GString) out = g_string_new (NULL);

    for (guint at = 0; at + 8 <= stream->len;)
      {
        guint length = ((guint) stream->data[at + 4] << 24) | ((guint) stream->data[at + 5] << 16) |
                       ((guint) stream->data[at + 6] << 8) | stream->data[at + 7];

        if (at + 8 + length > stream->len)
          break;
        if (stream->data[at] == 1)
          g_string_append_len (out, (const char *) stream->data + at + 8, length);
        at += 8 + length;
      }
    if (!g_str_equal (out->str, "1\n") ||
        g_strstr_len ((const char *) inspected->data, inspected->len, "\"ExitCode\":0") == NULL)
      fail ("the floor's exec printed something else than 1: %s", out->str);
  }
  return ms;
}

typedef struct {
  int     socket_fd;
  int     pipe_fd;
  GBytes *first;   /* stream bytes that came with the 101 */
} Demux;

/* Docker's stream frames: 8-byte header (stream, 0, 0, 0, length), payload.
 * Stdout goes to the pipe; stderr (the runner's messages) is dropped. */
static gpointer
demux_thread (gpointer data)
{
  Demux *demux = data;
  guint8 head[8];
  gsize head_len = 0, left = 0;
  int stream = 0;
  guint8 chunk[65536];
  gsize first_len;
  const guint8 *first = g_bytes_get_data (demux->first, &first_len);
  gboolean from_first = TRUE;

  for (;;)
    {
      const guint8 *p;
      gssize n;

      if (from_first)
        {
          p = first;
          n = (gssize) first_len;
          from_first = FALSE;
        }
      else
        {
          n = read (demux->socket_fd, chunk, sizeof chunk);
          if (n < 0 && errno == EINTR)
            continue;
          if (n <= 0)
            break;
          p = chunk;
        }
      while (n > 0)
        {
          if (left == 0)
            {
              gsize take = MIN ((gsize) n, sizeof head - head_len);

              memcpy (head + head_len, p, take);
              head_len += take;
              p += take;
              n -= (gssize) take;
              if (head_len == sizeof head)
                {
                  stream = head[0];
                  left = ((gsize) head[4] << 24) | ((gsize) head[5] << 16) | ((gsize) head[6] << 8) | head[7];
                  head_len = 0;
                }
              continue;
            }
          {
            gsize take = MIN ((gsize) n, left);

            if (stream == 2 && g_getenv ("LLMSBX_BENCH_DEBUG"))
              g_printerr ("runner stderr: %.*s", (int) take, p);
            if (stream == 1)
              {
                const guint8 *q = p;
                gsize todo = take;

                while (todo > 0)
                  {
                    gssize w = write (demux->pipe_fd, q, todo);

                    if (w < 0 && errno == EINTR)
                      continue;
                    if (w <= 0)
                      goto out;
                    q += w;
                    todo -= (gsize) w;
                  }
              }
            p += take;
            n -= (gssize) take;
            left -= take;
          }
        }
    }
out:
  close (demux->pipe_fd);
  g_bytes_unref (demux->first);
  g_free (demux);
  return NULL;
}

/* The runner started in the container over a hijacked exec: its stream. */
static GIOStream *
docker_attach_runner (GThread **thread)
{
  g_autofree char *path = g_strdup_printf ("/containers/%s/exec", container);
  g_autoptr(GByteArray) created =
    docker_request ("POST", path, "{\"AttachStdin\":true,\"AttachStdout\":true,\"AttachStderr\":true,"
                                  "\"Tty\":false,\"Cmd\":[\"" RUNNER_IN_SANDBOX "\"]}", 201);
  g_autofree char *id = json_string (created, "Id");
  g_autofree char *start_path = g_strdup_printf ("/exec/%s/start", id);
  g_autoptr(GSocketConnection) connection = docker_connect ();
  g_autoptr(GByteArray) rest = g_byte_array_new ();
  g_autoptr(GInputStream) input = NULL;
  g_autoptr(GOutputStream) output = NULL;
  Demux *demux = g_new0 (Demux, 1);
  int socket_fd, pipefd[2];
  guint status;

  status = docker_send (connection, "POST", start_path, "{\"Detach\":false,\"Tty\":false}",
                        "Connection: Upgrade\r\nUpgrade: tcp\r\n", rest);
  if (status != 101)
    fail ("starting the runner's exec answered %u", status);
  socket_fd = g_socket_get_fd (g_socket_connection_get_socket (connection));
  /* GSocket made it non-blocking; the demultiplexer's reads block. */
  fcntl (socket_fd, F_SETFL, fcntl (socket_fd, F_GETFL) & ~O_NONBLOCK);
  if (pipe2 (pipefd, O_CLOEXEC) < 0)
    fail ("pipe: %s", g_strerror (errno));
  demux->socket_fd = dup (socket_fd);
  demux->pipe_fd = pipefd[1];
  demux->first = g_bytes_new (rest->data, rest->len);
  *thread = g_thread_new ("demux", demux_thread, demux);
  input = g_unix_input_stream_new (pipefd[0], TRUE);
  output = g_unix_output_stream_new (dup (socket_fd), TRUE);
  return g_simple_io_stream_new (input, output);
}

static int
bench_docker (void)
{
  g_autofree char *name = image ? g_strdup (image) : g_strdup ("llmsbx/python:bookworm");
  const char *run[] = { "docker", "run", "-d", "--label", DOCKER_LABEL, "--network", "none",
                        name, "sleep", "infinity", NULL };
  g_autofree char *stage = g_dir_make_tmp ("llmsbx-bench-runner-XXXXXX", NULL);
  g_autofree char *top = g_build_filename (stage, ".llmsbx-runner-1", NULL);
  g_autofree char *copy = NULL;
  g_autofree char *target = NULL;
  g_autofree char *source = NULL;
  g_autofree char *cleanup = NULL;
  g_autoptr(GIOStream) stream = NULL;
  g_autoptr(LlmsbxResidentRunner) runner = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) code = g_bytes_new_static ("print(1)\n", 9);
  const char *exec_argv[] = { "python3", "-c", "print(1)", NULL };
  const char *adapter_argv[] = { "python3", "/sandbox/.llmsbx/code.py", NULL };
  const char *cell_argv[] = { "python3", "/sandbox/.llmsbx/cell.py", NULL };
  const char *prepare_argv[] = { "python3", NULL };
  g_autoptr(LlmsbxRunnerRequest) exec_request = llmsbx_runner_request_new (exec_argv);
  g_autoptr(LlmsbxRunnerRequest) adapter_request = llmsbx_runner_request_new (adapter_argv);
  g_autoptr(LlmsbxRunnerRequest) cell_request = llmsbx_runner_request_new (cell_argv);
  Row rows[4] = {
    { "floor: exec create+start+inspect", NULL, 3 },
    { "ours:  runner exec of python3 -c", NULL, 1 },
    { "ours:  runner, Python adapter (stateless)", NULL, 1 },
    { "ours:  runner, interactive cell", NULL, 1 },
  };
  GThread *thread = NULL;
  gint64 opened;

  /* The container, and the runner uploaded into it (PUT archive). */
  container = docker_cli (run);
  g_mkdir (top, 0755);
  copy = g_strdup_printf ("cp %s/llmsbx-runner %s/llmsbx_runner_python.py %s", LLMSBX_RUNNER_DIR, LLMSBX_RUNNER_DIR, top);
  if (!g_spawn_command_line_sync (copy, NULL, NULL, NULL, NULL))
    fail ("cannot stage the runner");
  source = g_build_filename (top, ".", NULL);
  target = g_strdup_printf ("%s:/tmp/.llmsbx-runner-1", container);
  {
    const char *cp[] = { "docker", "cp", source, target, NULL };

    g_free (docker_cli (cp));
  }
  cleanup = g_strdup_printf ("rm -r %s", stage);
  g_spawn_command_line_sync (cleanup, NULL, NULL, NULL, NULL);

  opened = g_get_monotonic_time ();
  stream = docker_attach_runner (&thread);
  runner = llmsbx_resident_runner_new (stream, NULL, NULL, NULL);
  if (!llmsbx_resident_runner_start (runner, g_get_monotonic_time () + 30 * G_USEC_PER_SEC, NULL, &error) ||
      !llmsbx_resident_runner_prepare (runner, "python", prepare_argv, NULL, "/sandbox",
                                       g_get_monotonic_time () + 30 * G_USEC_PER_SEC, NULL, &error))
    fail ("%s", error->message);
  if (!json)
    g_print ("runner started and the Python adapter prepared in %.1f ms (2 requests, then 2 frames each way)\n",
             (g_get_monotonic_time () - opened) / 1000.0);

  adapter_request->adapter = g_strdup ("python");
  adapter_request->workdir = g_strdup ("/sandbox");
  llmsbx_runner_request_add_file (adapter_request, adapter_argv[1], code, 0644);
  cell_request->adapter = g_strdup ("python");
  cell_request->stateful = TRUE;
  cell_request->workdir = g_strdup ("/sandbox");
  llmsbx_runner_request_add_file (cell_request, cell_argv[1], code, 0644);
  exec_request->workdir = g_strdup ("/sandbox");

  for (guint i = 0; i < G_N_ELEMENTS (rows); i++)
    rows[i].samples = g_array_new (FALSE, FALSE, sizeof (double));
  docker_floor_once ();
  ours_once (runner, exec_request);
  ours_once (runner, adapter_request);
  ours_once (runner, cell_request);
  for (int i = 0; i < iterations; i++)
    {
      double ms;

      ms = docker_floor_once ();
      g_array_append_val (rows[0].samples, ms);
      ms = ours_once (runner, exec_request);
      g_array_append_val (rows[1].samples, ms);
      ms = ours_once (runner, adapter_request);
      g_array_append_val (rows[2].samples, ms);
      ms = ours_once (runner, cell_request);
      g_array_append_val (rows[3].samples, ms);
    }

  if (json)
    {
      g_print ("{\"mode\": \"docker\", \"image\": \"%s\", \"iterations\": %d, \"rows\": [", name, iterations);
      for (guint i = 0; i < G_N_ELEMENTS (rows); i++)
        g_print ("%s{\"name\": \"%s\", \"median_ms\": %.3f, \"p90_ms\": %.3f, \"requests\": %u}",
                 i ? ", " : "", rows[i].name, percentile (&rows[i], 0.5), percentile (&rows[i], 0.9), rows[i].requests);
      g_print ("]}\n");
    }
  else
    {
      double floor_ms = percentile (&rows[0], 0.5);

      g_print ("llmsbx-runner bench: Docker, %s, %d iterations per row (alternating)\n\n", name, iterations);
      g_print ("%-44s %9s %9s %9s\n", "operation", "median ms", "p90 ms", "requests");
      for (guint i = 0; i < G_N_ELEMENTS (rows); i++)
        print_row (&rows[i]);
      g_print ("\n%-44s %9s %9s\n", "target", "measured", "limit");
      g_print ("%-44s %7.2f ms %6.0f ms  %s\n", "warm run() through the runner (median)", percentile (&rows[2], 0.5),
               10.0, percentile (&rows[2], 0.5) <= 10.0 ? "PASS" : "FAIL");
      g_print ("%-44s %7.2f ms %6.0f ms  %s\n", "interactive cell (median)", percentile (&rows[3], 0.5), 5.0,
               percentile (&rows[3], 0.5) <= 5.0 ? "PASS" : "FAIL");
      g_print ("%-44s %8.2fx %8.3fx  %s\n", "warm run() / exec floor", percentile (&rows[2], 0.5) / floor_ms,
               0.125, percentile (&rows[2], 0.5) / floor_ms <= 0.125 ? "PASS" : "FAIL");
    }

  llmsbx_resident_runner_shutdown (runner, g_get_monotonic_time () + 5 * G_USEC_PER_SEC);
  g_thread_join (thread);
  {
    const char *rm[] = { "docker", "rm", "-f", container, NULL };

    g_free (docker_cli (rm));
  }
  g_clear_pointer (&container, g_free);
  for (guint i = 0; i < G_N_ELEMENTS (rows); i++)
    g_array_unref (rows[i].samples);
  return 0;
}

int
main (int argc, char **argv)
{
  GOptionEntry entries[] = {
    { "iterations", 'n', 0, G_OPTION_ARG_INT, &iterations, "Timed iterations of each row (default 40)", "N" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print the results as JSON", NULL },
    { "docker", 0, 0, G_OPTION_ARG_NONE, &docker, "Through a hijacked exec of Docker, next to its exec floor", NULL },
    { "image", 0, 0, G_OPTION_ARG_STRING, &image, "Image for --docker (default llmsbx/python:bookworm)", "IMAGE" },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr(GOptionContext) context = g_option_context_new (NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GIOStream) stream = NULL;
  g_autoptr(LlmsbxResidentRunner) runner = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *file = NULL;
  g_autofree char *cell = NULL;
  const char *runner_argv[] = { LLMSBX_RUNNER_DIR "/llmsbx-runner", NULL };
  const char *exec_argv[] = { PYTHON, "-c", "print(1)", NULL };
  g_autoptr(LlmsbxRunnerRequest) exec_request = NULL;
  g_autoptr(LlmsbxRunnerRequest) adapter_request = NULL;
  g_autoptr(LlmsbxRunnerRequest) cell_request = NULL;
  g_autoptr(GBytes) code = g_bytes_new_static ("print(1)\n", 9);
  Row rows[4] = {
    { "floor: fork+exec python3 -c 'print(1)'", NULL, 0 },
    { "ours:  runner exec of the same argv", NULL, 1 },
    { "ours:  runner, Python adapter (stateless)", NULL, 1 },
    { "ours:  runner, interactive cell", NULL, 1 },
  };

  g_option_context_add_main_entries (context, entries, NULL);
  g_option_context_set_summary (context, "Warm runs through llmsbx-runner over local pipes, next to the "
                                         "interpreter's fork+exec floor.");
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("llmsbx-bench-runner: %s\n", error->message);
      return 2;
    }
  if (iterations < 1)
    iterations = 1;
  if (docker)
    return bench_docker ();

  process = g_subprocess_newv (runner_argv, G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error);
  if (process == NULL)
    g_error ("cannot start the runner: %s", error->message);
  stream = g_simple_io_stream_new (g_subprocess_get_stdout_pipe (process), g_subprocess_get_stdin_pipe (process));
  runner = llmsbx_resident_runner_new (stream, NULL, NULL, NULL);
  if (!llmsbx_resident_runner_start (runner, g_get_monotonic_time () + 10 * G_USEC_PER_SEC, NULL, &error))
    g_error ("%s", error->message);

  dir = g_dir_make_tmp ("llmsbx-bench-runner-XXXXXX", NULL);
  file = g_build_filename (dir, "code.py", NULL);
  cell = g_build_filename (dir, "cell.py", NULL);
  exec_request = llmsbx_runner_request_new (exec_argv);
  {
    const char *adapter_argv[] = { PYTHON, file, NULL };
    const char *cell_argv[] = { PYTHON, cell, NULL };

    /* Like a session's run: the code travels with the request. */
    adapter_request = llmsbx_runner_request_new (adapter_argv);
    adapter_request->adapter = g_strdup ("python");
    llmsbx_runner_request_add_file (adapter_request, file, code, 0644);
    cell_request = llmsbx_runner_request_new (cell_argv);
    cell_request->adapter = g_strdup ("python");
    cell_request->stateful = TRUE;
    llmsbx_runner_request_add_file (cell_request, cell, code, 0644);
  }

  for (guint i = 0; i < G_N_ELEMENTS (rows); i++)
    rows[i].samples = g_array_new (FALSE, FALSE, sizeof (double));

  /* One untimed round first: caches, the adapter and the kernel start. */
  floor_once ();
  ours_once (runner, exec_request);
  ours_once (runner, adapter_request);
  ours_once (runner, cell_request);
  for (int i = 0; i < iterations; i++)
    {
      double ms;

      ms = floor_once ();
      g_array_append_val (rows[0].samples, ms);
      ms = ours_once (runner, exec_request);
      g_array_append_val (rows[1].samples, ms);
      ms = floor_once ();
      g_array_append_val (rows[0].samples, ms);
      ms = ours_once (runner, adapter_request);
      g_array_append_val (rows[2].samples, ms);
      ms = floor_once ();
      g_array_append_val (rows[0].samples, ms);
      ms = ours_once (runner, cell_request);
      g_array_append_val (rows[3].samples, ms);
    }

  if (json)
    {
      g_print ("{\"iterations\": %d, \"rows\": [", iterations);
      for (guint i = 0; i < G_N_ELEMENTS (rows); i++)
        g_print ("%s{\"name\": \"%s\", \"median_ms\": %.3f, \"p90_ms\": %.3f, \"requests\": %u}",
                 i ? ", " : "", rows[i].name, percentile (&rows[i], 0.5), percentile (&rows[i], 0.9), rows[i].requests);
      g_print ("], \"ratios\": {\"exec\": %.3f, \"adapter\": %.3f, \"cell\": %.3f}}\n",
               percentile (&rows[1], 0.5) / percentile (&rows[0], 0.5),
               percentile (&rows[2], 0.5) / percentile (&rows[0], 0.5),
               percentile (&rows[3], 0.5) / percentile (&rows[0], 0.5));
    }
  else
    {
      double floor_ms = percentile (&rows[0], 0.5);

      g_print ("llmsbx-runner bench: local pipes, %s, %d iterations per row (the floor 3x, alternating)\n\n",
               PYTHON, iterations);
      g_print ("%-44s %9s %9s %9s\n", "operation", "median ms", "p90 ms", "requests");
      for (guint i = 0; i < G_N_ELEMENTS (rows); i++)
        print_row (&rows[i]);
      g_print ("\n%-44s %9s\n", "ratio of medians to the floor", "");
      for (guint i = 1; i < G_N_ELEMENTS (rows); i++)
        g_print ("%-44s %8.2fx\n", rows[i].name, percentile (&rows[i], 0.5) / floor_ms);
    }

  llmsbx_resident_runner_shutdown (runner, g_get_monotonic_time () + 5 * G_USEC_PER_SEC);
  g_subprocess_wait (process, NULL, NULL);
  g_unlink (file);
  g_unlink (cell);
  g_rmdir (dir);
  for (guint i = 0; i < G_N_ELEMENTS (rows); i++)
    g_array_unref (rows[i].samples);
  return 0;
}
