/* llmsbx-bench-runner.c: warm runs through llmsbx-runner over local pipes,
 * next to the floor of starting the interpreter, measured in the same run.
 *
 * Every operation prints 1 with Python and checks the output. The floor is
 * what every run costs without a runner: fork and exec of `python3 -c
 * 'print(1)'` and reading its output to the end (posix_spawn, as GLib does).
 * Ours: the same argv run by the runner (exec mode: what the runner adds to a
 * process start), `print(1)` in the Python adapter (stateless: a forked
 * child of a started interpreter), and as an interactive cell. Rounds
 * alternate floor and ours, so machine noise hits both alike. It asserts
 * nothing and exits 0 whatever the numbers. */
#define _GNU_SOURCE
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gio/gio.h>
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

int
main (int argc, char **argv)
{
  GOptionEntry entries[] = {
    { "iterations", 'n', 0, G_OPTION_ARG_INT, &iterations, "Timed iterations of each row (default 40)", "N" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print the results as JSON", NULL },
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
