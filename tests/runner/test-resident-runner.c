/* test-resident-runner.c: llmsbx-runner run locally through the host-side
 * client: programs, their exit, output, stdin and limits, and hostile ones. */
#include "config.h"

#include "runner-test.h"

/* A string unique to this test run, to find processes by. */
static char *
marker (void)
{
  return g_strdup_printf ("1000.%u%u", (guint) getpid (), g_random_int_range (1000, 9999));
}

static void
test_handshake (void)
{
  RunnerTest *test = runner_test_spawn ();
  guint64 features = llmsbx_resident_runner_get_features (test->runner);

  g_assert_true (llmsbx_resident_runner_is_usable (test->runner));
  g_assert_cmpuint (llmsbx_resident_runner_get_protocol_version (test->runner), ==, LLMSBX_RUNNER_PROTOCOL_VERSION);
  g_assert_cmpstr (llmsbx_resident_runner_get_runner_version (test->runner), ==, PACKAGE_VERSION);
  g_assert_true (features & LLMSBX_RUNNER_FEATURE_SUBREAPER);
  g_assert_true (features & LLMSBX_RUNNER_FEATURE_PROC_SWEEP);
  g_assert_true (features & LLMSBX_RUNNER_FEATURE_ADAPTER_PYTHON);
  g_assert_cmpuint (llmsbx_resident_runner_get_pid (test->runner), ==,
                    g_ascii_strtoull (g_subprocess_get_identifier (test->process), NULL, 10));
  g_assert_true (llmsbx_resident_runner_ping (test->runner, g_get_monotonic_time () + 5 * G_USEC_PER_SEC,
                                              NULL, NULL));
  runner_test_free (test);
}

static void
test_exit_codes_and_signals (void)
{
  RunnerTest *test = runner_test_spawn ();
  g_auto(LlmsbxRunnerResult) result = { 0 };
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;

  out = runner_test_sh (test, "echo out; echo err >&2; exit 3", &result, &err);
  g_assert_cmpstr (out, ==, "out\n");
  g_assert_cmpstr (err, ==, "err\n");
  g_assert_cmpint (result.exit_code, ==, 3);
  g_assert_cmpint (result.signal, ==, 0);
  g_assert_false (result.timed_out);
  g_assert_null (result.failure_message);
  g_assert_cmpfloat (result.duration, >, 0);
  llmsbx_runner_result_clear (&result);
  g_clear_pointer (&out, g_free);

  out = runner_test_sh (test, "kill -TERM $$", &result, NULL);
  g_assert_cmpint (result.exit_code, ==, 143);
  g_assert_cmpint (result.signal, ==, SIGTERM);
  llmsbx_runner_result_clear (&result);
  g_clear_pointer (&out, g_free);

  /* Signals are at their defaults, whatever the runner ignores itself. */
  out = runner_test_sh (test, "grep -E '^Sig(Ign|Blk)' /proc/self/status", &result, NULL);
  g_assert_cmpstr (out, ==, "SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n");
  runner_test_free (test);
}

static void
test_environment_and_workdir (void)
{
  RunnerTest *test = runner_test_spawn ();
  const char *argv[] = { "sh", "-c", "echo \"$LLMSBX_FROM_RUNNER $ADDED $REPLACED\"; pwd", NULL };
  g_autoptr(LlmsbxRunnerRequest) request = llmsbx_runner_request_new (argv);
  const char *env[] = { "ADDED=yes", "LLMSBX_FROM_RUNNER=replaced", "REPLACED=last", NULL };
  g_auto(LlmsbxRunnerResult) result = { 0 };
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("runner-cwd-XXXXXX", NULL);
  g_autofree char *out = NULL;
  g_autofree char *expected = NULL;

  request->env = g_strdupv ((char **) env);
  request->workdir = g_strdup (dir);
  out = runner_test_run_request (test, request, &result, NULL, &error);
  g_assert_no_error (error);
  expected = g_strdup_printf ("replaced yes last\n%s\n", dir);
  g_assert_cmpstr (out, ==, expected);

  /* A missing workdir or program is the program's failure, not the runner's. */
  llmsbx_runner_result_clear (&result);
  g_clear_pointer (&out, g_free);
  g_free (request->workdir);
  request->workdir = g_strdup ("/nonexistent/dir");
  out = runner_test_run_request (test, request, &result, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (result.exit_code, ==, 126);
  g_assert_nonnull (strstr (result.failure_message, "cannot change to /nonexistent/dir"));
  g_rmdir (dir);
  runner_test_free (test);
}

static void
test_missing_program (void)
{
  RunnerTest *test = runner_test_spawn ();
  const char *argv[] = { "llmsbx-no-such-program", NULL };
  g_autoptr(LlmsbxRunnerRequest) request = llmsbx_runner_request_new (argv);
  g_auto(LlmsbxRunnerResult) result = { 0 };
  g_autoptr(GError) error = NULL;
  g_autofree char *err = NULL;
  G_GNUC_UNUSED g_autofree char *out = runner_test_run_request (test, request, &result, &err, &error);

  g_assert_no_error (error);
  g_assert_cmpint (result.exit_code, ==, 127);
  g_assert_nonnull (strstr (err, "cannot run 'llmsbx-no-such-program': No such file or directory"));
  g_assert_true (llmsbx_resident_runner_is_usable (test->runner));
  runner_test_free (test);
}

static void
test_stdin (void)
{
  RunnerTest *test = runner_test_spawn ();
  const char *argv[] = { "sh", "-c", "wc -c; read -r line </dev/null || echo eof", NULL };
  g_autoptr(LlmsbxRunnerRequest) request = llmsbx_runner_request_new (argv);
  g_auto(LlmsbxRunnerResult) result = { 0 };
  g_autoptr(GError) error = NULL;
  g_autofree char *out = NULL;
  g_autofree char *empty = NULL;
  gsize size = 3 << 20;  /* more than any pipe holds */
  guint8 *data = g_malloc (size);

  memset (data, 'x', size);
  request->stdin_data = g_bytes_new_take (data, size);
  out = runner_test_run_request (test, request, &result, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (out, ==, "3145728\neof\n");

  /* Without stdin data the program reads end of file at once. */
  llmsbx_runner_result_clear (&result);
  empty = runner_test_sh (test, "cat; echo done", &result, NULL);
  g_assert_cmpstr (empty, ==, "done\n");

  /* A program that does not read its stdin gets EPIPE, the runner nothing. */
  llmsbx_runner_result_clear (&result);
  g_clear_pointer (&out, g_free);
  g_strfreev (request->argv);
  request->argv = g_strsplit ("true", " ", -1);
  out = runner_test_run_request (test, request, &result, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (result.exit_code, ==, 0);
  runner_test_free (test);
}

/* The live function creates the file the program waits for once it saw the
 * first line: without live output the run could only time out. */
typedef struct {
  char *flag;
  guint chunks;
} LiveState;

static void
on_live_output (LlmsbxOutputStream stream,
                const guint8      *data,
                gsize              length,
                gpointer           user_data)
{
  LiveState *state = user_data;

  state->chunks++;
  if (stream == LLMSBX_OUTPUT_STREAM_STDOUT && g_strstr_len ((const char *) data, length, "first") != NULL)
    g_assert_true (g_file_set_contents (state->flag, "", 0, NULL));
}

static void
test_live_output (void)
{
  RunnerTest *test = runner_test_spawn ();
  g_autofree char *dir = g_dir_make_tmp ("runner-live-XXXXXX", NULL);
  LiveState state = { g_build_filename (dir, "seen", NULL), 0 };
  g_autofree char *script = g_strdup_printf ("echo first; while [ ! -e '%s' ]; do sleep 0.01; done; echo second",
                                             state.flag);
  const char *argv[] = { "sh", "-c", script, NULL };
  g_autoptr(LlmsbxRunnerRequest) request = llmsbx_runner_request_new (argv);
  g_autoptr(LlmsbxOutputCollector) output = llmsbx_output_collector_new (0);
  g_auto(LlmsbxRunnerResult) result = { 0 };
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) out = NULL;

  request->timeout = 20;
  llmsbx_output_collector_set_func (output, on_live_output, &state, NULL);
  g_assert_true (llmsbx_resident_runner_run (test->runner, request, output, -1, &result, NULL, &error));
  g_assert_no_error (error);
  g_assert_false (result.timed_out);
  out = llmsbx_output_collector_steal_bytes (output, LLMSBX_OUTPUT_STREAM_STDOUT);
  g_assert_cmpmem (g_bytes_get_data (out, NULL), g_bytes_get_size (out), "first\nsecond\n", 13);
  g_assert_cmpuint (state.chunks, ==, 2);
  g_unlink (state.flag);
  g_rmdir (dir);
  g_free (state.flag);
  runner_test_free (test);
}

/* Far more output than the limit on both streams: the runner sends the
 * limit, counts the rest, and the next run is unaffected. */
static void
test_output_flood (void)
{
  RunnerTest *test = runner_test_spawn ();
  const char *argv[] = { "sh", "-c", "head -c 50000000 /dev/zero; head -c 20000000 /dev/zero >&2; exit 5", NULL };
  g_autoptr(LlmsbxRunnerRequest) request = llmsbx_runner_request_new (argv);
  g_autoptr(LlmsbxOutputCollector) output = llmsbx_output_collector_new (0);
  g_auto(LlmsbxRunnerResult) result = { 0 };
  g_autoptr(GError) error = NULL;
  g_autofree char *after = NULL;

  request->output_limit = 1 << 20;
  request->timeout = 60;
  g_assert_true (llmsbx_resident_runner_run (test->runner, request, output, -1, &result, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (result.exit_code, ==, 5);
  g_assert_true (result.stdout_truncated);
  g_assert_true (result.stderr_truncated);
  g_assert_cmpuint (result.stdout_bytes, ==, 50000000);
  g_assert_cmpuint (result.stderr_bytes, ==, 20000000);
  g_assert_cmpuint (llmsbx_output_collector_get_length (output, LLMSBX_OUTPUT_STREAM_STDOUT), ==, 1 << 20);
  g_assert_cmpuint (llmsbx_output_collector_get_length (output, LLMSBX_OUTPUT_STREAM_STDERR), ==, 1 << 20);

  /* The collector's own limit applies when the request sets none. */
  {
    g_autoptr(LlmsbxOutputCollector) small = llmsbx_output_collector_new (1000);
    g_auto(LlmsbxRunnerResult) capped = { 0 };

    request->output_limit = 0;
    g_assert_true (llmsbx_resident_runner_run (test->runner, request, small, -1, &capped, NULL, &error));
    g_assert_cmpuint (llmsbx_output_collector_get_length (small, LLMSBX_OUTPUT_STREAM_STDOUT), ==, 1000);
    g_assert_true (capped.stdout_truncated);
  }

  after = runner_test_sh (test, "echo fine", &result, NULL);
  g_assert_cmpstr (after, ==, "fine\n");
  runner_test_free (test);
}

/* Every byte value, and bytes that look like the protocol's frames. */
static void
test_binary_output (void)
{
  RunnerTest *test = runner_test_spawn ();
  g_autoptr(GString) script = g_string_new ("printf '");
  const char *argv[] = { "sh", "-c", NULL, NULL };
  g_autoptr(LlmsbxRunnerRequest) request = NULL;
  g_autoptr(LlmsbxOutputCollector) output = llmsbx_output_collector_new (0);
  g_auto(LlmsbxRunnerResult) result = { 0 };
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) out = NULL;
  const guint8 *data;
  gsize size;

  for (guint i = 0; i < 256; i++)
    g_string_append_printf (script, "\\%03o", i);
  g_string_append (script, "'");
  argv[2] = script->str;
  request = llmsbx_runner_request_new (argv);
  g_assert_true (llmsbx_resident_runner_run (test->runner, request, output, -1, &result, NULL, &error));
  g_assert_no_error (error);
  out = llmsbx_output_collector_steal_bytes (output, LLMSBX_OUTPUT_STREAM_STDOUT);
  data = g_bytes_get_data (out, &size);
  g_assert_cmpuint (size, ==, 256);
  for (guint i = 0; i < 256; i++)
    g_assert_cmpuint (data[i], ==, i);
  runner_test_free (test);
}

/* A program that prints a perfect RESULT frame (exit code 0) and exits 7:
 * its bytes are its output, and the result is the real one. */
static void
test_forged_frames (void)
{
  RunnerTest *test = runner_test_spawn ();
  g_autofree char *dir = g_dir_make_tmp ("runner-forge-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "forged", NULL);
  g_autofree char *script = g_strdup_printf ("cat '%s'; cat '%s' >&2; exit 7", path, path);
  guint8 forged[LLMSBX_RUNNER_HEADER_SIZE + 2 * (LLMSBX_RUNNER_FIELD_HEADER_SIZE + 8)];
  g_autoptr(LlmsbxOutputCollector) output = llmsbx_output_collector_new (0);
  const char *argv[] = { "sh", "-c", script, NULL };
  g_autoptr(LlmsbxRunnerRequest) request = llmsbx_runner_request_new (argv);
  g_auto(LlmsbxRunnerResult) result = { 0 };
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) out = NULL;
  guint8 *p = forged;

  /* RESULT {EXIT_CODE 0, FLAGS 0}, with the id the run will have (2: the
   * first run after start is 1, this one comes second). */
  llmsbx_runner_put_u32 (p, LLMSBX_RUNNER_MAGIC);
  p[4] = LLMSBX_RUNNER_FRAME_RESULT;
  p[5] = 0;
  llmsbx_runner_put_u16 (p + 6, 0);
  llmsbx_runner_put_u32 (p + 8, 2);
  llmsbx_runner_put_u32 (p + 12, sizeof forged - LLMSBX_RUNNER_HEADER_SIZE);
  p += LLMSBX_RUNNER_HEADER_SIZE;
  llmsbx_runner_put_u16 (p, LLMSBX_RUNNER_FIELD_EXIT_CODE);
  llmsbx_runner_put_u32 (p + 2, 8);
  llmsbx_runner_put_u64 (p + 6, 0);
  p += LLMSBX_RUNNER_FIELD_HEADER_SIZE + 8;
  llmsbx_runner_put_u16 (p, LLMSBX_RUNNER_FIELD_FLAGS);
  llmsbx_runner_put_u32 (p + 2, 8);
  llmsbx_runner_put_u64 (p + 6, 0);
  g_assert_true (g_file_set_contents (path, (const char *) forged, sizeof forged, NULL));

  {
    g_auto(LlmsbxRunnerResult) first = { 0 };
    G_GNUC_UNUSED g_autofree char *warm = runner_test_sh (test, "true", &first, NULL);
  }
  g_assert_true (llmsbx_resident_runner_run (test->runner, request, output, -1, &result, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (result.exit_code, ==, 7);
  out = llmsbx_output_collector_steal_bytes (output, LLMSBX_OUTPUT_STREAM_STDOUT);
  g_assert_cmpmem (g_bytes_get_data (out, NULL), g_bytes_get_size (out), forged, sizeof forged);
  g_assert_cmpuint (llmsbx_output_collector_get_length (output, LLMSBX_OUTPUT_STREAM_STDERR), ==, sizeof forged);
  g_assert_true (llmsbx_resident_runner_is_usable (test->runner));
  g_unlink (path);
  g_rmdir (dir);
  runner_test_free (test);
}

/* The program gets descriptors 0-2 and no other: the runner's own stdin and
 * stdout (its control channel) are out of reach. */
static void
test_inherited_descriptors (void)
{
  RunnerTest *test = runner_test_spawn ();
  g_auto(LlmsbxRunnerResult) result = { 0 };
  g_autofree char *err = NULL;
  g_autofree char *fds = NULL;
  g_autofree char *out = NULL;

  fds = runner_test_sh (test, "ls /proc/self/fd | sort -n | tr '\\n' ' '", &result, NULL);
  /* ls holds one more for the directory it reads. */
  g_assert_cmpstr (fds, ==, "0 1 2 3 ");
  llmsbx_runner_result_clear (&result);

  out = runner_test_sh (test,
                        "for fd in 3 4 5 6 7 8 9; do eval \"echo forged >&$fd\" 2>/dev/null && echo \"fd $fd open\"; done;"
                        "exec 0<&- 1>&- 2>&-; exit 4",
                        &result, &err);
  g_assert_cmpstr (out, ==, "");
  g_assert_cmpint (result.exit_code, ==, 4);
  g_assert_true (llmsbx_resident_runner_is_usable (test->runner));
  runner_test_free (test);
}

/* A timeout kills the whole tree: the group, children that left it with
 * setsid, and double-forked orphans, however deep. */
static void
test_timeout_kills_tree (void)
{
  RunnerTest *test = runner_test_spawn ();
  g_autofree char *mark = marker ();
  g_autofree char *script = g_strdup_printf (
    "setsid sh -c 'sleep %s & sleep %s' &\n"
    "( setsid sleep %s & ) &\n"
    "sh -c 'sleep %s & exec setsid sleep %s' &\n"
    "trap '' TERM INT HUP\n"
    "sleep %s\n",
    mark, mark, mark, mark, mark, mark);
  const char *argv[] = { "sh", "-c", script, NULL };
  g_autoptr(LlmsbxRunnerRequest) request = llmsbx_runner_request_new (argv);
  g_autoptr(LlmsbxOutputCollector) output = llmsbx_output_collector_new (0);
  g_auto(LlmsbxRunnerResult) result = { 0 };
  g_autoptr(GError) error = NULL;
  g_autofree char *after = NULL;

  request->timeout = 1.0;
  g_assert_true (llmsbx_resident_runner_run (test->runner, request, output, -1, &result, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (result.timed_out);
  g_assert_false (result.kill_failed);
  g_assert_cmpint (result.exit_code, ==, 137);
  g_assert_cmpuint (runner_test_wait_processes_gone (mark), ==, 0);

  llmsbx_runner_result_clear (&result);
  after = runner_test_sh (test, "echo usable", &result, NULL);
  g_assert_cmpstr (after, ==, "usable\n");
  runner_test_free (test);
}

/* Background processes of a run that ended normally keep running, as after
 * an exec; a later run's timeout does not kill them; shutdown does. */
static void
test_survivors_of_earlier_runs (void)
{
  RunnerTest *test = runner_test_spawn ();
  g_autofree char *mark = marker ();
  g_autofree char *script = g_strdup_printf ("setsid sleep %s </dev/null >/dev/null 2>&1 & echo started", mark);
  g_auto(LlmsbxRunnerResult) result = { 0 };
  g_autofree char *out = runner_test_sh (test, script, &result, NULL);
  const char *argv[] = { "sleep", "100", NULL };
  g_autoptr(LlmsbxRunnerRequest) request = llmsbx_runner_request_new (argv);
  g_autoptr(GError) error = NULL;
  g_autofree char *ignored = NULL;

  g_assert_cmpstr (out, ==, "started\n");
  g_assert_cmpuint (runner_test_count_processes (mark), ==, 1);
  llmsbx_runner_result_clear (&result);
  request->timeout = 0.3;
  ignored = runner_test_run_request (test, request, &result, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (result.timed_out);
  g_assert_cmpuint (runner_test_count_processes (mark), ==, 1);
  runner_test_free (test);
  g_assert_cmpuint (runner_test_wait_processes_gone (mark), ==, 0);
}

/* Output held open by a background process ends the run after the drain
 * time, as Docker's exec stream does. */
static void
test_drain (void)
{
  RunnerTest *test = runner_test_spawn ();
  g_autofree char *mark = marker ();
  g_autofree char *script = g_strdup_printf ("sleep %s & echo bye; exit 2", mark);
  const char *argv[] = { "sh", "-c", script, NULL };
  g_autoptr(LlmsbxRunnerRequest) request = llmsbx_runner_request_new (argv);
  g_auto(LlmsbxRunnerResult) result = { 0 };
  g_autoptr(GError) error = NULL;
  g_autofree char *out = NULL;

  request->drain_ms = 200;
  request->timeout = 30;
  out = runner_test_run_request (test, request, &result, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (out, ==, "bye\n");
  g_assert_cmpint (result.exit_code, ==, 2);
  g_assert_false (result.timed_out);
  runner_test_free (test);
  g_assert_cmpuint (runner_test_wait_processes_gone (mark), ==, 0);
}

static guint
processes_of_uid (uid_t uid)
{
  g_autoptr(GDir) proc = g_dir_open ("/proc", 0, NULL);
  g_autofree char *needle = g_strdup_printf ("\nUid:\t%u\t", (guint) uid);
  const char *name;
  guint count = 0;

  while ((name = g_dir_read_name (proc)) != NULL)
    {
      g_autofree char *path = g_strdup_printf ("/proc/%s/status", name);
      g_autofree char *status = NULL;

      if (g_ascii_isdigit (name[0]) && g_file_get_contents (path, &status, NULL, NULL) &&
          strstr (status, needle) != NULL && strstr (status, "\nState:\tZ") == NULL)
        count++;
    }
  return count;
}

/* A fork bomb under a process limit: the timeout ends it (stopped first, so
 * it cannot outgrow the sweep), and the runner answered all along. */
static void
test_fork_bomb (void)
{
  RunnerIdentity who = { runner_test_unused_uid (), 64 };
  RunnerTest *test = runner_test_spawn_as (&who);
  const char *argv[] = { PYTHON, "-c",
                         "import os, time\n"
                         "while True:\n"
                         "    try:\n"
                         "        os.fork()\n"
                         "    except OSError:\n"
                         "        time.sleep(0.001)\n", NULL };
  g_autoptr(LlmsbxRunnerRequest) request = llmsbx_runner_request_new (argv);
  g_autoptr(LlmsbxOutputCollector) output = llmsbx_output_collector_new (4096);
  g_auto(LlmsbxRunnerResult) result = { 0 };
  g_autoptr(GError) error = NULL;
  g_autofree char *after = NULL;

  g_assert_cmpuint (processes_of_uid (who.uid), ==, 1);
  request->timeout = 2;
  g_assert_true (llmsbx_resident_runner_run (test->runner, request, output, -1, &result, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (result.timed_out);
  g_assert_false (result.kill_failed);
  for (int i = 0; i < 100 && processes_of_uid (who.uid) > 1; i++)
    g_usleep (G_USEC_PER_SEC / 20);
  g_assert_cmpuint (processes_of_uid (who.uid), ==, 1);  /* the runner alone */

  llmsbx_runner_result_clear (&result);
  after = runner_test_sh (test, "echo forks again", &result, NULL);
  g_assert_cmpstr (after, ==, "forks again\n");
  runner_test_free (test);
  g_assert_cmpuint (processes_of_uid (who.uid), ==, 0);
}

/* No process can be started at all (the limit is taken by the runner
 * itself): a clear, non-fatal error, and the runner keeps answering. */
static void
test_process_limit_reached (void)
{
  RunnerIdentity who = { runner_test_unused_uid () + 1, 1 };
  RunnerTest *test = runner_test_spawn_as (&who);
  const char *argv[] = { "true", NULL };
  g_autoptr(LlmsbxRunnerRequest) request = llmsbx_runner_request_new (argv);
  g_autoptr(LlmsbxOutputCollector) output = llmsbx_output_collector_new (0);
  g_auto(LlmsbxRunnerResult) result = { 0 };
  g_autoptr(GError) error = NULL;

  g_assert_false (llmsbx_resident_runner_run (test->runner, request, output, -1, &result, NULL, &error));
  g_assert_error (error, LLMSBX_RUNNER_ERROR, LLMSBX_RUNNER_ERROR_SPAWN);
  g_assert_false (llmsbx_resident_runner_error_is_fatal (error));
  g_assert_nonnull (strstr (error->message, "fork: Resource temporarily unavailable (the sandbox's process limit is reached)"));
  g_assert_true (llmsbx_resident_runner_ping (test->runner, g_get_monotonic_time () + 5 * G_USEC_PER_SEC, NULL, NULL));
  runner_test_free (test);
}

/* Code that kills its parent: TERM (and every other catchable signal) is
 * ignored; KILL cannot be, and the client says the runner died. */
static void
test_kill_parent (void)
{
  RunnerTest *test = runner_test_spawn ();
  g_auto(LlmsbxRunnerResult) result = { 0 };
  g_autofree char *out = runner_test_sh (test, "for s in TERM INT HUP QUIT USR1 USR2 ALRM PIPE; do kill -$s $PPID; done;"
                                               "echo alive", &result, NULL);
  const char *argv[] = { "sh", "-c", "kill -KILL $PPID; sleep 5", NULL };
  g_autoptr(LlmsbxRunnerRequest) request = llmsbx_runner_request_new (argv);
  g_autoptr(LlmsbxOutputCollector) output = llmsbx_output_collector_new (0);
  g_autoptr(GError) error = NULL;

  g_assert_cmpstr (out, ==, "alive\n");
  llmsbx_runner_result_clear (&result);
  request->timeout = 30;
  g_assert_false (llmsbx_resident_runner_run (test->runner, request, output, -1, &result, NULL, &error));
  g_assert_error (error, LLMSBX_RUNNER_ERROR, LLMSBX_RUNNER_ERROR_DIED);
  g_assert_true (llmsbx_resident_runner_error_is_fatal (error));
  g_assert_cmpstr (error->message, ==, "The runner exited (killed by signal 9)");
  g_assert_false (llmsbx_resident_runner_is_usable (test->runner));
  g_clear_error (&error);
  g_assert_false (llmsbx_resident_runner_ping (test->runner, 0, NULL, &error));
  g_assert_error (error, LLMSBX_RUNNER_ERROR, LLMSBX_RUNNER_ERROR_BROKEN);
  g_assert_nonnull (strstr (error->message, "killed by signal 9"));
  runner_test_free_dead (test);
}

/* Cancelling a run: the runner kills it and confirms, and stays usable. */
static gboolean
cancel_later (gpointer data)
{
  g_cancellable_cancel (data);
  return G_SOURCE_REMOVE;
}

static gpointer
cancel_thread (gpointer data)
{
  g_usleep (G_USEC_PER_SEC / 3);
  cancel_later (data);
  return NULL;
}

static void
test_cancel (void)
{
  RunnerTest *test = runner_test_spawn ();
  g_autofree char *mark = marker ();
  g_autofree char *script = g_strdup_printf ("setsid sleep %s & sleep %s", mark, mark);
  const char *argv[] = { "sh", "-c", script, NULL };
  g_autoptr(LlmsbxRunnerRequest) request = llmsbx_runner_request_new (argv);
  g_autoptr(LlmsbxOutputCollector) output = llmsbx_output_collector_new (0);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_auto(LlmsbxRunnerResult) result = { 0 };
  g_autoptr(GError) error = NULL;
  g_autofree char *after = NULL;
  GThread *thread;

  request->timeout = 60;
  thread = g_thread_new ("cancel", cancel_thread, cancellable);
  g_assert_false (llmsbx_resident_runner_run (test->runner, request, output, -1, &result, cancellable, &error));
  g_thread_join (thread);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_true (result.cancelled);
  g_assert_cmpuint (runner_test_wait_processes_gone (mark), ==, 0);
  llmsbx_runner_result_clear (&result);
  after = runner_test_sh (test, "echo next", &result, NULL);
  g_assert_cmpstr (after, ==, "next\n");
  runner_test_free (test);
}

/* Worker threads may share one client: calls are serialised, each gets
 * its own run's output. */
typedef struct {
  RunnerTest *test;
  guint       index;
  gboolean    ok;
} Worker;

static gpointer
worker_thread (gpointer data)
{
  Worker *worker = data;
  g_autofree char *script = g_strdup_printf ("for i in 1 2 3; do echo %u; sleep 0.01; done", worker->index);
  const char *argv[] = { "sh", "-c", script, NULL };
  g_autofree char *expected = g_strdup_printf ("%u\n%u\n%u\n", worker->index, worker->index, worker->index);

  worker->ok = TRUE;
  for (int round = 0; round < 5; round++)
    {
      g_autoptr(LlmsbxRunnerRequest) request = llmsbx_runner_request_new (argv);
      g_auto(LlmsbxRunnerResult) result = { 0 };
      g_autoptr(GError) error = NULL;
      g_autofree char *out = runner_test_run_request (worker->test, request, &result, NULL, &error);

      if (error != NULL || g_strcmp0 (out, expected) != 0)
        worker->ok = FALSE;
    }
  return NULL;
}

static void
test_threads (void)
{
  RunnerTest *test = runner_test_spawn ();
  Worker workers[4];
  GThread *threads[4];

  for (guint i = 0; i < G_N_ELEMENTS (workers); i++)
    {
      workers[i] = (Worker) { test, i, FALSE };
      threads[i] = g_thread_new ("worker", worker_thread, &workers[i]);
    }
  for (guint i = 0; i < G_N_ELEMENTS (workers); i++)
    {
      g_thread_join (threads[i]);
      g_assert_true (workers[i].ok);
    }
  runner_test_free (test);
}

/* Files of a request, written before the run. */
static void
test_files (void)
{
  RunnerTest *test = runner_test_spawn ();
  g_autofree char *dir = g_dir_make_tmp ("runner-files-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "sub", "deeper", "script.sh", NULL);
  const char *argv[] = { path, "arg", NULL };
  g_autoptr(LlmsbxRunnerRequest) request = llmsbx_runner_request_new (argv);
  g_autoptr(GBytes) script = g_bytes_new_static ("#!/bin/sh\necho \"ran $1\"\n", 24);
  g_auto(LlmsbxRunnerResult) result = { 0 };
  g_autoptr(GError) error = NULL;
  g_autofree char *out = NULL;
  g_autofree char *cleanup = NULL;

  llmsbx_runner_request_add_file (request, path, script, 0755);
  out = runner_test_run_request (test, request, &result, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (out, ==, "ran arg\n");

  /* A file that cannot be written is a clear, non-fatal error. */
  llmsbx_runner_result_clear (&result);
  g_ptr_array_set_size (request->files, 0);
  llmsbx_runner_request_add_file (request, "/proc/llmsbx/cannot", script, 0644);
  g_assert_null (runner_test_run_request (test, request, &result, NULL, &error));
  g_assert_error (error, LLMSBX_RUNNER_ERROR, LLMSBX_RUNNER_ERROR_FILE);
  g_assert_nonnull (strstr (error->message, "cannot write /proc/llmsbx/cannot"));
  g_clear_error (&error);

  /* A relative path is refused before anything runs. */
  g_ptr_array_set_size (request->files, 0);
  llmsbx_runner_request_add_file (request, "relative/file", script, 0644);
  g_assert_null (runner_test_run_request (test, request, &result, NULL, &error));
  g_assert_error (error, LLMSBX_RUNNER_ERROR, LLMSBX_RUNNER_ERROR_BAD_REQUEST);
  g_assert_true (llmsbx_resident_runner_is_usable (test->runner));

  llmsbx_runner_result_clear (&result);
  cleanup = g_strdup_printf ("rm -r '%s'", dir);
  g_free (runner_test_sh (test, cleanup, &result, NULL));
  runner_test_free (test);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/runner/handshake", test_handshake);
  g_test_add_func ("/runner/exit-codes-and-signals", test_exit_codes_and_signals);
  g_test_add_func ("/runner/environment-and-workdir", test_environment_and_workdir);
  g_test_add_func ("/runner/missing-program", test_missing_program);
  g_test_add_func ("/runner/stdin", test_stdin);
  g_test_add_func ("/runner/live-output", test_live_output);
  g_test_add_func ("/runner/output-flood", test_output_flood);
  g_test_add_func ("/runner/binary-output", test_binary_output);
  g_test_add_func ("/runner/forged-frames", test_forged_frames);
  g_test_add_func ("/runner/inherited-descriptors", test_inherited_descriptors);
  g_test_add_func ("/runner/timeout-kills-tree", test_timeout_kills_tree);
  g_test_add_func ("/runner/survivors-of-earlier-runs", test_survivors_of_earlier_runs);
  g_test_add_func ("/runner/drain", test_drain);
  g_test_add_func ("/runner/fork-bomb", test_fork_bomb);
  g_test_add_func ("/runner/process-limit-reached", test_process_limit_reached);
  g_test_add_func ("/runner/kill-parent", test_kill_parent);
  g_test_add_func ("/runner/cancel", test_cancel);
  g_test_add_func ("/runner/files", test_files);
  g_test_add_func ("/runner/threads", test_threads);

  return g_test_run ();
}
