/* llmsbx-bench-bubblewrap.c: the bubblewrap backend next to its floors and
 * to Docker, measured in one run.
 *
 * Floors: starting the interpreter on the host (fork and exec of python3,
 * what no sandbox can beat), and one bare bwrap with the same namespaces
 * over the same image tree running it (what a sandbox costs at the least).
 * Ours: a warm run() in an open bubblewrap session, and open+run+close of a
 * fresh one, and the same open+run+close on Docker. Iterations alternate so
 * machine noise hits all alike. Targets: open+run+close within 2x the bwrap
 * floor, and at least 10x faster than Docker's. */
#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <llmsbx.h>

#include "llmsbx-bench-stats.h"

#define IMAGE              "llmsbx/python:bookworm"
#define PYTHON_CODE        "print(6*7)"
#define EXPECTED_STDOUT    "42\n"
#define DEFAULT_ITERATIONS 20

#define TARGET_FLOOR_RATIO   2.0
#define TARGET_DOCKER_FACTOR 10.0

extern char **environ;

typedef struct {
  const char *label;
  GArray     *us;
  gint64      median_us;
} Series;

static void
series_add (Series *series,
            gint64  started)
{
  gint64 us = g_get_monotonic_time () - started;

  g_array_append_val (series->us, us);
}

static int
compare_int64 (gconstpointer a,
               gconstpointer b)
{
  gint64 x = *(const gint64 *) a, y = *(const gint64 *) b;

  return (x > y) - (x < y);
}

static void
series_finish (Series *series)
{
  g_autoptr(GArray) sorted = g_array_copy (series->us);
  guint n = sorted->len;
  gint64 *v = (gint64 *) sorted->data;

  g_array_sort (sorted, compare_int64);
  series->median_us = n == 0 ? 0 : n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Floors ------------------------------------------------------------------ */

/* Runs @argv, whose stdout must be EXPECTED_STDOUT. */
static gboolean
spawn_expecting_42 (const char * const  *argv,
                    GError             **error)
{
  int out[2];
  posix_spawn_file_actions_t actions;
  char buffer[64];
  gsize have = 0;
  pid_t pid;
  int status, rc;

  if (pipe (out) != 0)
    return FALSE;
  posix_spawn_file_actions_init (&actions);
  posix_spawn_file_actions_adddup2 (&actions, out[1], STDOUT_FILENO);
  posix_spawn_file_actions_addclose (&actions, out[0]);
  rc = posix_spawn (&pid, argv[0], &actions, NULL, (char **) argv, environ);
  posix_spawn_file_actions_destroy (&actions);
  close (out[1]);
  if (rc != 0)
    {
      close (out[0]);
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (rc), "Cannot run %s: %s", argv[0], g_strerror (rc));
      return FALSE;
    }
  for (gssize n; (n = read (out[0], buffer + have, sizeof buffer - 1 - have)) > 0; )
    have += n;
  buffer[have] = '\0';
  close (out[0]);
  while (waitpid (pid, &status, 0) < 0 && errno == EINTR)
    ;
  if (!WIFEXITED (status) || WEXITSTATUS (status) != 0 || strcmp (buffer, EXPECTED_STDOUT) != 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s printed \"%s\" (status %d)", argv[0], buffer, status);
      return FALSE;
    }
  return TRUE;
}

/* The image's tree in the bubblewrap store, found as the plugin finds it. */
static char *
image_rootfs (GError **error)
{
  const char *configured = g_getenv ("LLMSBX_BUBBLEWRAP_STORE");
  g_autofree char *store = configured && configured[0] == '/' ? g_strdup (configured)
                           : getuid () == 0 ? g_strdup ("/var/lib/llmsbx/bubblewrap")
                           : g_build_filename (g_get_user_data_dir (), "llmsbx", "bubblewrap", NULL);
  g_autofree char *escaped = g_uri_escape_string (IMAGE, NULL, FALSE);
  g_autofree char *tag = g_build_filename (store, "tags", escaped, NULL);
  g_autofree char *id = NULL;

  if (!g_file_get_contents (tag, &id, NULL, error))
    {
      g_prefix_error (error, "No %s in the bubblewrap store (llmsbx images build --backend bubblewrap python): ",
                      IMAGE);
      return NULL;
    }
  return g_build_filename (store, "images", g_strstrip (id), "rootfs", NULL);
}

/* Ours -------------------------------------------------------------------- */

static gboolean
run_42 (LlmsbxSandboxSession  *session,
        GError               **error)
{
  g_autoptr(LlmsbxExecutionResult) result = llmsbx_sandbox_session_run (session, PYTHON_CODE, NULL, 0, NULL, error);

  if (result == NULL)
    return FALSE;
  if (g_strcmp0 (llmsbx_execution_result_get_stdout (result), EXPECTED_STDOUT) != 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "run() printed \"%s\": %s",
                   llmsbx_execution_result_get_stdout (result), llmsbx_execution_result_get_stderr (result));
      return FALSE;
    }
  return TRUE;
}

static LlmsbxSandboxSession *
session_new (const char *backend)
{
  return g_object_new (LLMSBX_TYPE_SANDBOX_SESSION, "lang", "python", "image", IMAGE, "backend", backend, NULL);
}

static gboolean
cold_cycle (const char  *backend,
            GError     **error)
{
  g_autoptr(LlmsbxSandboxSession) session = session_new (backend);
  gboolean ok;

  if (!llmsbx_sandbox_session_open (session, NULL, error))
    return FALSE;
  ok = run_42 (session, error);
  return llmsbx_sandbox_session_close (session, NULL, ok ? error : NULL) && ok;
}

/* Main -------------------------------------------------------------------- */

static volatile sig_atomic_t interrupted;

static void
on_sigint (int signum)
{
  interrupted = 1;
}

int
main (int    argc,
      char **argv)
{
  g_autoptr(GOptionContext) context = g_option_context_new ("- the bubblewrap backend next to its floors and Docker");
  g_autoptr(GError) error = NULL;
  g_autoptr(LlmsbxSandboxSession) warm = NULL;
  g_autofree char *rootfs = NULL;
  g_autofree char *bwrap = g_find_program_in_path ("bwrap");
  int iterations = DEFAULT_ITERATIONS;
  gboolean skip_docker = FALSE;
  Series series[5] = {
    { "floor: fork+exec python3 on the host" }, { "ours:  warm run() on bubblewrap" },
    { "floor: one bwrap running python3" }, { "ours:  open+run+close on bubblewrap" },
    { "docker: open+run+close (libllmsbx)" },
  };
  const GOptionEntry entries[] = {
    { "iterations", 'n', 0, G_OPTION_ARG_INT, &iterations, "Iterations (default 20; Docker's are a quarter)", "N" },
    { "no-docker", 0, 0, G_OPTION_ARG_NONE, &skip_docker, "Leave Docker out", NULL },
    G_OPTION_ENTRY_NULL
  };
  const char *host_argv[] = { "/usr/bin/python3", "-c", PYTHON_CODE, NULL };
  double floor_ratio, warm_ratio, docker_factor = 0;
  double load_before = -1, load_after = -1;
  gboolean pass;

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error) || iterations < 1)
    {
      g_printerr ("llmsbx-bench-bubblewrap: %s\n", error ? error->message : "--iterations must be at least 1");
      return 2;
    }
  signal (SIGINT, on_sigint);
  for (guint i = 0; i < G_N_ELEMENTS (series); i++)
    series[i].us = g_array_new (FALSE, FALSE, sizeof (gint64));

  rootfs = image_rootfs (&error);
  if (rootfs == NULL || bwrap == NULL)
    {
      g_printerr ("llmsbx-bench-bubblewrap: %s\n", error ? error->message : "bwrap is not installed");
      return 1;
    }

  {
    /* The bare sandbox: the namespaces and mounts of ours, nothing else. */
    const char *bwrap_argv[] = {
      bwrap, "--unshare-user", "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-net",
      "--die-with-parent", "--new-session", "--ro-bind", rootfs, "/", "--proc", "/proc", "--dev", "/dev",
      "--tmpfs", "/tmp", "--", "/usr/bin/python3", "-c", PYTHON_CODE, NULL
    };

    warm = session_new ("bubblewrap");
    /* One untimed round of each, for the page cache. */
    if (!spawn_expecting_42 (host_argv, &error) || !spawn_expecting_42 (bwrap_argv, &error) ||
        !llmsbx_sandbox_session_open (warm, NULL, &error) || !run_42 (warm, &error) ||
        !cold_cycle ("bubblewrap", &error) || (!skip_docker && !cold_cycle ("docker", &error)))
      goto fail;

    g_printerr ("llmsbx-bench-bubblewrap: %d iterations...\n", iterations);
    load_before = llmsbx_bench_load_average ();
    for (int i = 0; i < iterations && !interrupted; i++)
      {
        gint64 started = g_get_monotonic_time ();

        if (!spawn_expecting_42 (host_argv, &error))
          goto fail;
        series_add (&series[0], started);
        started = g_get_monotonic_time ();
        if (!run_42 (warm, &error))
          goto fail;
        series_add (&series[1], started);
        started = g_get_monotonic_time ();
        if (!spawn_expecting_42 (bwrap_argv, &error))
          goto fail;
        series_add (&series[2], started);
        started = g_get_monotonic_time ();
        if (!cold_cycle ("bubblewrap", &error))
          goto fail;
        series_add (&series[3], started);
        /* Docker is slow enough that a quarter as many say as much. */
        if (!skip_docker && i % 4 == 0)
          {
            started = g_get_monotonic_time ();
            if (!cold_cycle ("docker", &error))
              goto fail;
            series_add (&series[4], started);
          }
      }
  }
  llmsbx_sandbox_session_close (warm, NULL, NULL);
  load_after = llmsbx_bench_load_average ();

  for (guint i = 0; i < G_N_ELEMENTS (series); i++)
    series_finish (&series[i]);
  warm_ratio = (double) series[1].median_us / series[0].median_us;
  floor_ratio = (double) series[3].median_us / series[2].median_us;
  if (!skip_docker)
    docker_factor = (double) series[4].median_us / series[3].median_us;

  g_print ("libllmsbx bench (bubblewrap): image %s, %d iterations, load average %.1f to %.1f\n\n", IMAGE,
           iterations, load_before, load_after);
  g_print ("%-44s %9s\n", "operation", "median ms");
  for (guint i = 0; i < G_N_ELEMENTS (series); i++)
    if (series[i].us->len > 0)
      g_print ("%-44s %9.1f\n", series[i].label, series[i].median_us / 1000.0);

  pass = floor_ratio <= TARGET_FLOOR_RATIO && (skip_docker || docker_factor >= TARGET_DOCKER_FACTOR);
  g_print ("\n%-44s %9s %9s\n", "target", "measured", "limit");
  g_print ("%-44s %8.2fx %9s\n", "warm run() / host process start", warm_ratio, "-");
  g_print ("%-44s %8.2fx  <=%5.1fx  %s\n", "open+run+close / bwrap floor", floor_ratio, TARGET_FLOOR_RATIO,
           floor_ratio <= TARGET_FLOOR_RATIO ? "PASS" : "FAIL");
  if (!skip_docker)
    g_print ("%-44s %8.1fx  >=%5.1fx  %s\n", "docker open+run+close / ours", docker_factor, TARGET_DOCKER_FACTOR,
             docker_factor >= TARGET_DOCKER_FACTOR ? "PASS" : "FAIL");
  for (guint i = 0; i < G_N_ELEMENTS (series); i++)
    g_array_unref (series[i].us);
  return pass ? 0 : 1;

fail:
  g_printerr ("llmsbx-bench-bubblewrap: %s\n", error ? error->message : "interrupted");
  if (warm != NULL)
    llmsbx_sandbox_session_close (warm, NULL, NULL);
  return 1;
}
