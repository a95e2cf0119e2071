/* test-node-kernel.c: interactive JavaScript cells in the runner's Node.js
 * kernel, locally (/usr/bin/node). */
#include "config.h"

#include <sys/wait.h>

#include "runner-test.h"

#define NODE "/usr/bin/node"

typedef RunnerFixture Fixture;

static LlmsbxRunnerRequest *
cell_request (Fixture    *fixture,
              const char *code)
{
  static guint counter;
  g_autofree char *file = g_strdup_printf ("%s/cell-%u.js", fixture->dir, ++counter);
  const char *argv[] = { NODE, file, NULL };
  LlmsbxRunnerRequest *request = llmsbx_runner_request_new (argv);
  g_autoptr(GBytes) contents = g_bytes_new (code, strlen (code));

  llmsbx_runner_request_add_file (request, file, contents, 0644);
  request->adapter = g_strdup ("node");
  request->stateful = TRUE;
  request->workdir = g_strdup (fixture->dir);
  request->timeout = 30;
  return request;
}

static char *
cell (Fixture            *fixture,
      const char         *code,
      LlmsbxRunnerResult *result,
      char              **err)
{
  g_autoptr(LlmsbxRunnerRequest) request = cell_request (fixture, code);
  g_autoptr(GError) error = NULL;
  char *out = runner_test_run_request (fixture->test, request, result, err, &error);

  g_assert_no_error (error);
  return out;
}

/* The check in JavaScript, and REPL-like display. */
static void
test_state (Fixture       *fixture,
            gconstpointer  data)
{
  g_auto(LlmsbxRunnerResult) result = { 0 };
  g_autofree char *first = cell (fixture, "let x = 41", &result, NULL);
  g_autofree char *second = NULL;
  g_autofree char *shown = NULL;
  g_autofree char *awaited = NULL;
  g_autofree char *cwd = NULL;
  g_autofree char *expected = NULL;

  g_assert_cmpstr (first, ==, "");
  g_assert_cmpint (result.state, ==, LLMSBX_RUNNER_STATE_KEPT);
  g_assert_true (result.fresh_state);
  second = cell (fixture, "console.log(x + 1)", &result, NULL);
  g_assert_cmpstr (second, ==, "42\n");
  g_assert_false (result.fresh_state);
  shown = cell (fixture, "function f(n) { return { n, list: [n, 'a'] } }\nf(x)", &result, NULL);
  g_assert_cmpstr (shown, ==, "{ n: 41, list: [ 41, 'a' ] }\n");
  awaited = cell (fixture, "new Promise((resolve) => setTimeout(() => resolve(f(1).n + 1), 50))", &result, NULL);
  g_assert_cmpstr (awaited, ==, "2\n");
  cwd = cell (fixture, "process.chdir('/'); require('fs').existsSync('etc')", &result, NULL);
  g_assert_cmpstr (cwd, ==, "true\n");
  g_free (cell (fixture, "console.log(process.cwd())", &result, NULL));
  expected = cell (fixture, "typeof require('os').cpus", &result, NULL);
  g_assert_cmpstr (expected, ==, "'function'\n");
}

/* An exception ends the cell (exit code 1) with the stack of the cell's own
 * frames; the state stays. */
static void
test_errors (Fixture       *fixture,
             gconstpointer  data)
{
  g_auto(LlmsbxRunnerResult) result = { 0 };
  g_autofree char *err = NULL;
  g_autofree char *after = NULL;

  g_free (cell (fixture, "const kept = 'yes'", &result, NULL));
  g_free (cell (fixture, "function f() { throw new TypeError('bad') }\nf()", &result, &err));
  g_assert_cmpint (result.exit_code, ==, 1);
  g_assert_true (g_str_has_prefix (err, "TypeError: bad\n    at f ("));
  g_assert_null (strstr (err, "llmsbx_runner_node"));
  g_assert_null (strstr (err, "node:vm"));
  g_assert_cmpint (result.state, ==, LLMSBX_RUNNER_STATE_KEPT);
  g_clear_pointer (&err, g_free);
  g_free (cell (fixture, "throw 'a string'", &result, &err));
  g_assert_cmpstr (err, ==, "Uncaught 'a string'\n");
  after = cell (fixture, "kept", &result, NULL);
  g_assert_cmpstr (after, ==, "'yes'\n");
}

/* A timed-out cell is interrupted and the state survives; what it started
 * is killed. */
static void
test_timeout_kept (Fixture       *fixture,
                   gconstpointer  data)
{
  g_autofree char *mark = g_strdup_printf ("1000.%u", g_random_int_range (100000, 999999));
  g_autofree char *code = g_strdup_printf ("require('child_process').spawn('sh', ['-c', 'setsid sleep %s &']);\n"
                                           "while (true) {}\n", mark);
  g_autoptr(LlmsbxRunnerRequest) request = cell_request (fixture, code);
  g_auto(LlmsbxRunnerResult) result = { 0 };
  g_autoptr(GError) error = NULL;
  g_autofree char *err = NULL;
  g_autofree char *after = NULL;

  g_free (cell (fixture, "var kept = 'yes'", &result, NULL));
  request->timeout = 1;
  g_free (runner_test_run_request (fixture->test, request, &result, &err, &error));
  g_assert_no_error (error);
  g_assert_true (result.timed_out);
  g_assert_cmpint (result.exit_code, ==, 130);
  g_assert_cmpint (result.state, ==, LLMSBX_RUNNER_STATE_KEPT);
  g_assert_nonnull (strstr (err, "interrupted"));
  g_assert_cmpuint (runner_test_wait_processes_gone (mark), ==, 0);
  after = cell (fixture, "kept", &result, NULL);
  g_assert_cmpstr (after, ==, "'yes'\n");
}

/* A kernel that cannot come back (it stopped itself) is killed after the
 * grace: the state is lost, and the next cell starts fresh. */
static void
test_timeout_lost (Fixture       *fixture,
                   gconstpointer  data)
{
  g_autoptr(LlmsbxRunnerRequest) request = cell_request (fixture, "process.kill(process.pid, 'SIGSTOP')");
  g_auto(LlmsbxRunnerResult) result = { 0 };
  g_autoptr(GError) error = NULL;
  g_autofree char *after = NULL;

  g_free (cell (fixture, "var kept = 'yes'", &result, NULL));
  request->timeout = 0.5;
  request->grace_ms = 300;
  g_free (runner_test_run_request (fixture->test, request, &result, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (result.timed_out);
  g_assert_cmpint (result.state, ==, LLMSBX_RUNNER_STATE_LOST);
  g_assert_cmpint (result.exit_code, ==, 137);
  after = cell (fixture, "typeof kept", &result, NULL);
  g_assert_cmpstr (after, ==, "'undefined'\n");
  g_assert_true (result.fresh_state);
}

/* process.exit() ends the kernel with its code, and the state; its output
 * up to then is the cell's. */
static void
test_exit (Fixture       *fixture,
           gconstpointer  data)
{
  g_auto(LlmsbxRunnerResult) result = { 0 };
  g_autofree char *out = NULL;
  g_autofree char *after = NULL;

  g_free (cell (fixture, "var kept = 1", &result, NULL));
  out = cell (fixture, "console.log('bye'); process.exit(3)", &result, NULL);
  g_assert_cmpstr (out, ==, "bye\n");
  g_assert_cmpint (result.exit_code, ==, 3);
  g_assert_cmpint (result.state, ==, LLMSBX_RUNNER_STATE_LOST);
  after = cell (fixture, "typeof kept", &result, NULL);
  g_assert_cmpstr (after, ==, "'undefined'\n");
}

/* RESET starts over; what the kernel printed between cells is nobody's. */
static void
test_reset_and_stray_output (Fixture       *fixture,
                             gconstpointer  data)
{
  g_auto(LlmsbxRunnerResult) result = { 0 };
  g_autoptr(GError) error = NULL;
  g_autofree char *next = NULL;
  g_autofree char *after = NULL;
  gboolean lost = FALSE;

  g_free (cell (fixture, "var kept = 1; setTimeout(() => console.log('late'), 100)", &result, NULL));
  g_usleep (G_USEC_PER_SEC / 2);
  next = cell (fixture, "console.log('next')", &result, NULL);
  g_assert_cmpstr (next, ==, "next\n");
  g_assert_true (llmsbx_resident_runner_reset (fixture->test->runner, "node", &lost,
                                               g_get_monotonic_time () + 10 * G_USEC_PER_SEC, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (lost);
  after = cell (fixture, "typeof kept", &result, NULL);
  g_assert_cmpstr (after, ==, "'undefined'\n");
  g_assert_true (result.fresh_state);
}

/* Cell code can write frames on the kernel's socket (fd 3). A STARTED that
 * names another process (here a decoy of the test's own) is refused: the
 * kernel is killed as misbehaving, and the timeout never reaches the decoy. */
static void
test_forged_started (Fixture       *fixture,
                     gconstpointer  data)
{
  const char *decoy_argv[] = { "sleep", "1000", NULL };
  g_autoptr(GError) error = NULL;
  g_autofree char *code = NULL;
  g_autoptr(LlmsbxRunnerRequest) request = NULL;
  g_auto(LlmsbxRunnerResult) result = { 0 };
  GPid decoy;
  int status;

  g_assert_true (g_spawn_async (NULL, (char **) decoy_argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD,
                                NULL, NULL, &decoy, &error));
  g_free (cell (fixture, "var kept = 1", &result, NULL));  /* request 1 */
  /* This cell is request 2 of this runner's client. */
  code = g_strdup_printf ("const b = Buffer.alloc(30);\n"
                          "b.writeUInt32BE(0x4C585246, 0); b.writeUInt8(0x42, 4); b.writeUInt32BE(2, 8);\n"
                          "b.writeUInt32BE(14, 12); b.writeUInt16BE(4, 16); b.writeUInt32BE(8, 18);\n"
                          "b.writeBigUInt64BE(%dn, 22);\n"
                          "require('fs').writeSync(3, b);\n"
                          "while (true) {}\n", (int) decoy);
  request = cell_request (fixture, code);
  request->timeout = 1;
  g_assert_null (runner_test_run_request (fixture->test, request, &result, NULL, &error));
  g_assert_error (error, LLMSBX_RUNNER_ERROR, LLMSBX_RUNNER_ERROR_ADAPTER);
  g_assert_nonnull (strstr (error->message, "the Node.js kernel sent a malformed frame"));
  g_assert_true (llmsbx_resident_runner_is_usable (fixture->test->runner));
  g_usleep (G_USEC_PER_SEC / 2);
  g_assert_cmpint (waitpid (decoy, &status, WNOHANG), ==, 0);  /* alive */
  kill (decoy, SIGKILL);
  waitpid (decoy, &status, 0);
}

/* Stateless JavaScript runs are plain programs, not the kernel's. */
static void
test_stateless_refused (Fixture       *fixture,
                        gconstpointer  data)
{
  g_autoptr(LlmsbxRunnerRequest) request = cell_request (fixture, "1");
  g_auto(LlmsbxRunnerResult) result = { 0 };
  g_autoptr(GError) error = NULL;

  request->stateful = FALSE;
  g_assert_null (runner_test_run_request (fixture->test, request, &result, NULL, &error));
  g_assert_error (error, LLMSBX_RUNNER_ERROR, LLMSBX_RUNNER_ERROR_BAD_REQUEST);
  g_assert_nonnull (strstr (error->message, "the node adapter runs interactive cells (STATEFUL) only"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) g_test_add ("/node-kernel/" path, Fixture, NULL, runner_fixture_set_up, func, runner_fixture_tear_down)
  ADD ("state", test_state);
  ADD ("errors", test_errors);
  ADD ("timeout-kept", test_timeout_kept);
  ADD ("timeout-lost", test_timeout_lost);
  ADD ("exit", test_exit);
  ADD ("reset-and-stray-output", test_reset_and_stray_output);
  ADD ("forged-started", test_forged_started);
  ADD ("stateless-refused", test_stateless_refused);
#undef ADD

  return g_test_run ();
}
