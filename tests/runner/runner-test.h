/* runner-test.h: helpers of the runner tests: llmsbx-runner started locally
 * (or in a container) with pipes, driven through the host-side client. */
#pragma once

#include <errno.h>
#include <grp.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib/gstdio.h>

#include "llmsbx-resident-runner-private.h"
#include "llmsbx-runner-protocol.h"

#ifndef LLMSBX_RUNNER_DIR
#error "LLMSBX_RUNNER_DIR must name the build directory of llmsbx-runner"
#endif

#define RUNNER_PATH LLMSBX_RUNNER_DIR "/llmsbx-runner"
#define PYTHON "/usr/bin/python3"

typedef struct {
  GSubprocess          *process;
  LlmsbxResidentRunner *runner;
} RunnerTest;

/* Who runs the runner: root by default; an unprivileged uid no one else on
 * the machine uses, with a process limit, for the fork tests. */
typedef struct {
  uid_t uid;
  rlim_t nproc;
} RunnerIdentity;

G_GNUC_UNUSED static void
runner_test_child_setup (gpointer data)
{
  RunnerIdentity *who = data;

  if (who == NULL || who->uid == 0)
    return;
  if (who->nproc > 0)
    {
      struct rlimit limit = { who->nproc, who->nproc };

      if (setrlimit (RLIMIT_NPROC, &limit) < 0)
        _exit (121);
    }
  if (setgroups (0, NULL) < 0 || setgid (who->uid) < 0 || setuid (who->uid) < 0)
    _exit (122);
}

G_GNUC_UNUSED static gboolean
runner_test_exit_code (gpointer  user_data,
                       int      *exit_code)
{
  GSubprocess *process = user_data;

  if (!g_subprocess_wait (process, NULL, NULL))
    return FALSE;
  if (g_subprocess_get_if_signaled (process))
    *exit_code = 128 + g_subprocess_get_term_sig (process);
  else
    *exit_code = g_subprocess_get_exit_status (process);
  return TRUE;
}

/* Starts @argv (a runner, or a command that starts one) with pipes, and the
 * client over them; with @start, the handshake too. */
G_GNUC_UNUSED static RunnerTest *
runner_test_spawn_argv (const char * const *argv,
                        RunnerIdentity     *who,
                        gboolean            start)
{
  g_autoptr(GSubprocessLauncher) launcher =
    g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  g_autoptr(GIOStream) stream = NULL;
  g_autoptr(GError) error = NULL;
  RunnerTest *test = g_new0 (RunnerTest, 1);
  const char *empty[] = { NULL };

  g_subprocess_launcher_set_child_setup (launcher, runner_test_child_setup, who, NULL);
  /* A clean, known environment: what the runner passes on is checked. */
  g_subprocess_launcher_set_environ (launcher, (char **) empty);
  g_subprocess_launcher_setenv (launcher, "PATH", "/usr/local/bin:/usr/bin:/bin", TRUE);
  g_subprocess_launcher_setenv (launcher, "LLMSBX_FROM_RUNNER", "inherited", TRUE);
  g_subprocess_launcher_setenv (launcher, "LC_ALL", "C.UTF-8", TRUE);
  g_subprocess_launcher_set_cwd (launcher, "/");
  test->process = g_subprocess_launcher_spawnv (launcher, argv, &error);
  g_assert_no_error (error);
  stream = g_simple_io_stream_new (g_subprocess_get_stdout_pipe (test->process),
                                   g_subprocess_get_stdin_pipe (test->process));
  test->runner = llmsbx_resident_runner_new (stream, runner_test_exit_code, g_object_ref (test->process),
                                             g_object_unref);
  if (start)
    {
      llmsbx_resident_runner_start (test->runner, g_get_monotonic_time () + 20 * G_USEC_PER_SEC, NULL, &error);
      g_assert_no_error (error);
    }
  return test;
}

G_GNUC_UNUSED static RunnerTest *
runner_test_spawn_as (RunnerIdentity *who)
{
  const char *argv[] = { RUNNER_PATH, NULL };

  return runner_test_spawn_argv (argv, who, TRUE);
}

G_GNUC_UNUSED static RunnerTest *
runner_test_spawn (void)
{
  return runner_test_spawn_as (NULL);
}

/* Shuts the runner down and checks that it exits 0. */
G_GNUC_UNUSED static void
runner_test_free (RunnerTest *test)
{
  llmsbx_resident_runner_shutdown (test->runner, g_get_monotonic_time () + 10 * G_USEC_PER_SEC);
  g_clear_object (&test->runner);
  g_subprocess_wait (test->process, NULL, NULL);
  g_clear_object (&test->process);
  g_free (test);
}

/* A killed runner: no shutdown. */
G_GNUC_UNUSED static void
runner_test_free_dead (RunnerTest *test)
{
  g_clear_object (&test->runner);
  g_subprocess_force_exit (test->process);
  g_subprocess_wait (test->process, NULL, NULL);
  g_clear_object (&test->process);
  g_free (test);
}

/* Runs @request and returns its stdout (NUL-terminated, binary-safe in
 * *@out_bytes); stderr in *@err when given. */
G_GNUC_UNUSED static char *
runner_test_run_request (RunnerTest                *test,
                         const LlmsbxRunnerRequest *request,
                         LlmsbxRunnerResult        *result,
                         char                     **err,
                         GError                   **error)
{
  g_autoptr(LlmsbxOutputCollector) output = llmsbx_output_collector_new (0);
  g_autoptr(GBytes) out = NULL;
  g_autoptr(GBytes) errb = NULL;

  if (!llmsbx_resident_runner_run (test->runner, request, output, -1, result, NULL, error))
    return NULL;
  out = llmsbx_output_collector_steal_bytes (output, LLMSBX_OUTPUT_STREAM_STDOUT);
  errb = llmsbx_output_collector_steal_bytes (output, LLMSBX_OUTPUT_STREAM_STDERR);
  /* An empty GBytes may hold NULL, which g_strndup() would return. */
  if (err != NULL)
    *err = g_strndup (g_bytes_get_size (errb) ? g_bytes_get_data (errb, NULL) : "", g_bytes_get_size (errb));
  return g_strndup (g_bytes_get_size (out) ? g_bytes_get_data (out, NULL) : "", g_bytes_get_size (out));
}

/* Runs `sh -c SCRIPT` with a 30 s timeout; asserts success of the call. */
G_GNUC_UNUSED static char *
runner_test_sh (RunnerTest         *test,
                const char         *script,
                LlmsbxRunnerResult *result,
                char              **err)
{
  const char *argv[] = { "sh", "-c", script, NULL };
  g_autoptr(LlmsbxRunnerRequest) request = llmsbx_runner_request_new (argv);
  g_autoptr(GError) error = NULL;
  char *out;

  request->timeout = 30;
  out = runner_test_run_request (test, request, result, err, &error);
  g_assert_no_error (error);
  return out;
}

/* A Python request: @code in a per-run file under @dir, run by the adapter
 * (or, with @adapter NULL, by a new interpreter). */
G_GNUC_UNUSED static LlmsbxRunnerRequest *
runner_test_python_request (const char *dir,
                            const char *code,
                            const char *adapter,
                            gboolean    stateful)
{
  static guint counter;
  g_autofree char *file = g_strdup_printf ("%s/code-%u.py", dir, ++counter);
  const char *argv[] = { PYTHON, file, NULL };
  LlmsbxRunnerRequest *request = llmsbx_runner_request_new (argv);
  g_autoptr(GBytes) contents = g_bytes_new (code, strlen (code));

  llmsbx_runner_request_add_file (request, file, contents, 0644);
  request->adapter = g_strdup (adapter);
  request->stateful = stateful;
  request->workdir = g_strdup (dir);
  request->timeout = 30;
  return request;
}

/* Live processes whose command line contains @marker. */
G_GNUC_UNUSED static guint
runner_test_count_processes (const char *marker)
{
  g_autoptr(GDir) proc = g_dir_open ("/proc", 0, NULL);
  const char *name;
  guint count = 0;

  g_assert_nonnull (proc);
  while ((name = g_dir_read_name (proc)) != NULL)
    {
      g_autofree char *path = NULL;
      g_autofree char *cmdline = NULL;
      gsize length;

      if (!g_ascii_isdigit (name[0]))
        continue;
      path = g_strdup_printf ("/proc/%s/cmdline", name);
      if (!g_file_get_contents (path, &cmdline, &length, NULL) || length == 0)
        continue;
      for (gsize i = 0; i + 1 < length; i++)
        if (cmdline[i] == '\0')
          cmdline[i] = ' ';
      if (strstr (cmdline, marker) != NULL)
        count++;
    }
  return count;
}

/* Waits up to 5 s for no live process to carry @marker (killed ones may
 * take a moment to be reaped). */
G_GNUC_UNUSED static guint
runner_test_wait_processes_gone (const char *marker)
{
  guint left = 0;

  for (int i = 0; i < 100; i++)
    {
      left = runner_test_count_processes (marker);
      if (left == 0)
        break;
      g_usleep (G_USEC_PER_SEC / 20);
    }
  return left;
}

/* A runner and a scratch directory per test. */
typedef struct {
  RunnerTest *test;
  char       *dir;
} RunnerFixture;

G_GNUC_UNUSED static void
runner_fixture_set_up (RunnerFixture *fixture,
                       gconstpointer  data)
{
  fixture->test = runner_test_spawn ();
  fixture->dir = g_dir_make_tmp ("runner-test-XXXXXX", NULL);
  g_assert_nonnull (fixture->dir);
}

G_GNUC_UNUSED static void
runner_fixture_tear_down (RunnerFixture *fixture,
                          gconstpointer  data)
{
  g_autofree char *script = g_strdup_printf ("rm -rf '%s'", fixture->dir);

  runner_test_free (fixture->test);
  g_assert_true (g_spawn_command_line_sync (script, NULL, NULL, NULL, NULL));
  g_free (fixture->dir);
}

/* A uid no other process on the machine has, for RLIMIT_NPROC tests. */
G_GNUC_UNUSED static uid_t
runner_test_unused_uid (void)
{
  return 47000 + (uid_t) (getpid () % 2000);
}
