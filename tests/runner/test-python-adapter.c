/* test-python-adapter.c: the Python adapter through the local runner:
 * stateless runs that behave like `python3 FILE`, and interactive state. */
#include "config.h"

#include "runner-test.h"

typedef RunnerFixture Fixture;

/* Runs @code in the adapter (stateless, or a cell with @stateful). */
static char *
python (Fixture            *fixture,
        const char         *code,
        gboolean            stateful,
        LlmsbxRunnerResult *result,
        char              **err)
{
  g_autoptr(LlmsbxRunnerRequest) request = runner_test_python_request (fixture->dir, code, "python", stateful);
  g_autoptr(GError) error = NULL;
  char *out;

  llmsbx_runner_result_clear (result);
  out = runner_test_run_request (fixture->test, request, result, err, &error);
  g_assert_no_error (error);
  return out;
}

/* The same code with a new interpreter (exec), for comparison. */
static char *
python_exec (Fixture            *fixture,
             const char         *code,
             LlmsbxRunnerResult *result,
             char              **err)
{
  g_autoptr(LlmsbxRunnerRequest) request = runner_test_python_request (fixture->dir, code, NULL, FALSE);
  g_autoptr(GError) error = NULL;
  char *out;

  llmsbx_runner_result_clear (result);
  out = runner_test_run_request (fixture->test, request, result, err, &error);
  g_assert_no_error (error);
  return out;
}

/* Each case's output, exit code and stderr are what `python3 FILE` gives. */
static void
test_like_the_interpreter (Fixture       *fixture,
                           gconstpointer  data)
{
  static const char * const cases[] = {
    "print('hello')",
    "import sys\nprint(__name__, sys.argv[1:], __file__ == sys.argv[0])",
    "import sys\nsys.exit(3)",
    "import sys\nsys.exit()",
    "import sys\nsys.exit('a message')",
    "raise SystemExit(None)",
    "def f():\n    raise ValueError('boom')\nf()\n",
    "x = (\n",
    "raise KeyboardInterrupt",
    "import os, signal\nos.kill(os.getpid(), signal.SIGTERM)",
    "import os\nos._exit(9)",
    "import atexit\natexit.register(print, 'at exit')\nprint('body')",
    ("import threading, time\n"
     "def late():\n    time.sleep(0.2)\n    print('thread done')\n"
     "threading.Thread(target=late).start()\nprint('main done')"),
    ("import signal\nprint(signal.getsignal(signal.SIGINT) is signal.default_int_handler,\n"
     "      signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGPIPE))"),
    "import os, sys\nprint(os.getcwd() == os.path.dirname(sys.argv[0]), os.environ.get('LLMSBX_FROM_RUNNER'))",
    "import os\nprint(sorted(os.listdir('/proc/self/fd')))",
    "import sys\nprint(sys.path[0] == __import__('os').path.dirname(__file__))",
    "import os\nprint(os.getpid() == os.getsid(0), os.getpgrp() == os.getpid())",
    "import sys\nprint(sys.stdout.name, sys.stderr.name, sys.stdin.name, sys.stdout.encoding)",
    "print(input('no prompt') if False else 'stdin is', repr(__import__('sys').stdin.read()))",
    "'''A docstring.'''\nprint(__doc__)",
    "import random\nprint(random.random() != random.random())",
    "print(open(__file__).read().count('open'))",
    "import os\nprint('lost in the buffer')\nos.closerange(0, 1024)\n",
    "import os\nprint('flushed', flush=True)\nos.closerange(0, 1024)\n",
    "class A:\n    def __del__(self):\n        print('deleted at exit')\na = A()\nprint('end of code')",
    "import sys\nclass A:\n    def __del__(self):\n        print('deleted after SystemExit')\na = A()\nsys.exit(True)",
    "import sys\nprint('to stdout')\nsys.exit(-1)",
    "import sys\nsys.stdout.write('no newline at the end')",
    "import json, sys\nprint(json.dumps({'a': [1, 2]}), file=sys.stderr)",
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_auto(LlmsbxRunnerResult) ours = { 0 };
      g_auto(LlmsbxRunnerResult) theirs = { 0 };
      g_autofree char *our_err = NULL;
      g_autofree char *their_err = NULL;
      g_autofree char *our_out = python (fixture, cases[i], FALSE, &ours, &our_err);
      g_autofree char *their_out = python_exec (fixture, cases[i], &theirs, &their_err);
      g_autoptr(GRegex) paths = g_regex_new ("code-[0-9]+\\.py", 0, 0, NULL);
      g_autofree char *our_shown = g_regex_replace_literal (paths, our_err, -1, 0, "CODE", 0, NULL);
      g_autofree char *their_shown = g_regex_replace_literal (paths, their_err, -1, 0, "CODE", 0, NULL);

      g_test_message ("case %u: %s", i, cases[i]);
      g_assert_cmpstr (our_out, ==, their_out);
      g_assert_cmpstr (our_shown, ==, their_shown);
      g_assert_cmpint (ours.exit_code, ==, theirs.exit_code);
      g_assert_cmpint (ours.signal, ==, theirs.signal);
    }
}

/* A file the code left open is flushed at exit, as the interpreter does. */
static void
test_unclosed_file (Fixture       *fixture,
                    gconstpointer  data)
{
  g_autofree char *code = g_strdup_printf ("f = open(%s, 'w')\nf.write('flushed at exit')\n", "__file__ + '.txt'");
  g_auto(LlmsbxRunnerResult) result = { 0 };
  g_autoptr(LlmsbxRunnerRequest) request = runner_test_python_request (fixture->dir, code, "python", FALSE);
  g_autoptr(GError) error = NULL;
  G_GNUC_UNUSED g_autofree char *out = runner_test_run_request (fixture->test, request, &result, NULL, &error);
  g_autofree char *written_path = g_strconcat (request->argv[1], ".txt", NULL);
  g_autofree char *written = NULL;

  g_assert_no_error (error);
  g_assert_cmpint (result.exit_code, ==, 0);
  g_assert_true (g_file_get_contents (written_path, &written, NULL, NULL));
  g_assert_cmpstr (written, ==, "flushed at exit");
}

/* The examples above, spelled out where they matter most. */
static void
test_exit_codes (Fixture       *fixture,
                 gconstpointer  data)
{
  g_auto(LlmsbxRunnerResult) result = { 0 };
  g_autofree char *err = NULL;
  g_autofree char *out = NULL;

  g_free (python (fixture, "import sys; sys.exit(42)", FALSE, &result, NULL));
  g_assert_cmpint (result.exit_code, ==, 42);
  g_free (python (fixture, "raise KeyboardInterrupt", FALSE, &result, NULL));
  g_assert_cmpint (result.exit_code, ==, 130);
  g_assert_cmpint (result.signal, ==, SIGINT);
  out = python (fixture, "def f():\n    1 / 0\nf()\n", FALSE, &result, &err);
  g_assert_cmpint (result.exit_code, ==, 1);
  /* The traceback shows the code's own lines, and none of the adapter's. */
  g_assert_nonnull (strstr (err, "line 2, in f\n    1 / 0\n"));
  g_assert_nonnull (strstr (err, "ZeroDivisionError: division by zero"));
  g_assert_null (strstr (err, "llmsbx_runner_python"));
}

/* Every run starts from the same clean state. */
static void
test_fresh_state (Fixture       *fixture,
                  gconstpointer  data)
{
  g_auto(LlmsbxRunnerResult) result = { 0 };
  g_autofree char *err = NULL;
  G_GNUC_UNUSED g_autofree char *first = python (fixture, "x = 41\nimport json\njson.marker = 1\n", FALSE,
                                                 &result, NULL);
  G_GNUC_UNUSED g_autofree char *second = python (fixture, "print(x + 1)", FALSE, &result, &err);
  g_autofree char *third = NULL;

  g_assert_cmpint (result.exit_code, ==, 1);
  g_assert_nonnull (strstr (err, "NameError: name 'x' is not defined"));
  third = python (fixture, "import json\nprint(hasattr(json, 'marker'))", FALSE, &result, NULL);
  g_assert_cmpstr (third, ==, "False\n");
}

/* Stdin, environment and live output of adapter runs. */
static void
test_stdin_and_environment (Fixture       *fixture,
                            gconstpointer  data)
{
  g_autoptr(LlmsbxRunnerRequest) request =
    runner_test_python_request (fixture->dir, "import os, sys\nprint(sys.stdin.read().upper(), os.environ['EXTRA'])",
                                "python", FALSE);
  const char *env[] = { "EXTRA=given", NULL };
  g_auto(LlmsbxRunnerResult) result = { 0 };
  g_autoptr(GError) error = NULL;
  g_autofree char *out = NULL;

  request->stdin_data = g_bytes_new_static ("from stdin", 10);
  request->env = g_strdupv ((char **) env);
  out = runner_test_run_request (fixture->test, request, &result, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (out, ==, "FROM STDIN given\n");
}

/* Timeouts kill the run and what it started, the adapter survives. */
static void
test_timeout (Fixture       *fixture,
              gconstpointer  data)
{
  g_autofree char *mark = g_strdup_printf ("1000.%u", g_random_int_range (100000, 999999));
  g_autofree char *code = g_strdup_printf ("import subprocess\n"
                                           "subprocess.Popen(['setsid', 'sleep', '%s'])\n"
                                           "subprocess.Popen(['sh', '-c', 'sleep %s &'])\n"
                                           "while True:\n    pass\n", mark, mark);
  g_autoptr(LlmsbxRunnerRequest) request = runner_test_python_request (fixture->dir, code, "python", FALSE);
  g_auto(LlmsbxRunnerResult) result = { 0 };
  g_autoptr(GError) error = NULL;
  g_autofree char *out = NULL;
  g_autofree char *after = NULL;

  request->timeout = 1;
  out = runner_test_run_request (fixture->test, request, &result, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (result.timed_out);
  g_assert_cmpint (result.exit_code, ==, 137);
  g_assert_cmpuint (runner_test_wait_processes_gone (mark), ==, 0);
  after = python (fixture, "print('next')", FALSE, &result, NULL);
  g_assert_cmpstr (after, ==, "next\n");
}

/* Code that kills its parent (the adapter) still gets its own result, and
 * the next run has a new adapter. */
static void
test_kill_parent (Fixture       *fixture,
                  gconstpointer  data)
{
  g_auto(LlmsbxRunnerResult) result = { 0 };
  g_autofree char *out = python (fixture,
                                 "import os, signal, time\nos.kill(os.getppid(), signal.SIGKILL)\n"
                                 "time.sleep(0.2)\nprint('survived')\n", FALSE, &result, NULL);
  g_autofree char *next = NULL;

  g_assert_cmpstr (out, ==, "survived\n");
  g_assert_cmpint (result.exit_code, ==, 0);
  next = python (fixture, "print('new adapter')", FALSE, &result, NULL);
  g_assert_cmpstr (next, ==, "new adapter\n");
}

/* Descriptors: only 0-2, writes elsewhere fail, closing them all is harmless. */
static void
test_descriptors (Fixture       *fixture,
                  gconstpointer  data)
{
  g_auto(LlmsbxRunnerResult) result = { 0 };
  g_autofree char *out = python (fixture,
                                 "import os\n"
                                 "bad = []\n"
                                 "for fd in range(3, 64):\n"
                                 "    try:\n"
                                 "        os.write(fd, b'forged')\n"
                                 "        bad.append(fd)\n"
                                 "    except OSError:\n"
                                 "        pass\n"
                                 "print(bad, flush=True)\n"
                                 "os.closerange(0, 1024)\n", FALSE, &result, NULL);
  g_autofree char *after = NULL;

  g_assert_cmpstr (out, ==, "[]\n");
  g_assert_cmpint (result.exit_code, ==, 0);
  after = python (fixture, "print('fine')", FALSE, &result, NULL);
  g_assert_cmpstr (after, ==, "fine\n");
}

/* The check: state persists across cells; a final expression is
 * shown like a REPL's; reset starts over. */
static void
test_interactive_state (Fixture       *fixture,
                        gconstpointer  data)
{
  g_auto(LlmsbxRunnerResult) result = { 0 };
  g_autofree char *first = python (fixture, "x = 41", TRUE, &result, NULL);
  g_autofree char *second = NULL;
  g_autofree char *shown = NULL;
  g_autofree char *none = NULL;
  g_autofree char *err = NULL;
  g_autofree char *after = NULL;
  g_autoptr(GError) error = NULL;
  gboolean lost = FALSE;

  g_assert_cmpstr (first, ==, "");
  g_assert_cmpint (result.exit_code, ==, 0);
  g_assert_cmpint (result.state, ==, LLMSBX_RUNNER_STATE_KEPT);
  g_assert_true (result.fresh_state);

  second = python (fixture, "print(x + 1)", TRUE, &result, NULL);
  g_assert_cmpstr (second, ==, "42\n");
  g_assert_false (result.fresh_state);

  shown = python (fixture, "import os\nos.chdir('/')\ny = [x, 'a']\ny", TRUE, &result, NULL);
  g_assert_cmpstr (shown, ==, "[41, 'a']\n");
  none = python (fixture, "print(os.getcwd(), _)\nNone", TRUE, &result, NULL);
  g_assert_cmpstr (none, ==, "/ [41, 'a']\n");

  /* An error in a cell is shown and the state stays. */
  g_free (python (fixture, "undefined_name", TRUE, &result, &err));
  g_assert_cmpint (result.exit_code, ==, 1);
  g_assert_nonnull (strstr (err, "NameError: name 'undefined_name' is not defined"));
  g_assert_cmpint (result.state, ==, LLMSBX_RUNNER_STATE_KEPT);
  g_clear_pointer (&err, g_free);
  g_free (python (fixture, "import sys\nsys.exit(5)", TRUE, &result, NULL));
  g_assert_cmpint (result.exit_code, ==, 5);
  g_assert_cmpint (result.state, ==, LLMSBX_RUNNER_STATE_KEPT);

  g_assert_true (llmsbx_resident_runner_reset (fixture->test->runner, "python", &lost,
                                               g_get_monotonic_time () + 10 * G_USEC_PER_SEC, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (lost);
  after = python (fixture, "print(x)", TRUE, &result, &err);
  g_assert_cmpint (result.exit_code, ==, 1);
  g_assert_true (result.fresh_state);
  g_assert_nonnull (strstr (err, "NameError: name 'x' is not defined"));
}

/* A timed-out cell that returns from its KeyboardInterrupt keeps the state;
 * what it started is killed. */
static void
test_interactive_timeout_kept (Fixture       *fixture,
                               gconstpointer  data)
{
  g_autofree char *mark = g_strdup_printf ("1000.%u", g_random_int_range (100000, 999999));
  g_autofree char *code = g_strdup_printf ("import subprocess, time\n"
                                           "subprocess.Popen(['sh', '-c', 'setsid sleep %s &'])\n"
                                           "time.sleep(100)\n", mark);
  g_autoptr(LlmsbxRunnerRequest) request = runner_test_python_request (fixture->dir, code, "python", TRUE);
  g_auto(LlmsbxRunnerResult) result = { 0 };
  g_autoptr(GError) error = NULL;
  g_autofree char *err = NULL;
  g_autofree char *out = NULL;
  g_autofree char *after = NULL;

  g_free (python (fixture, "kept = 'yes'", TRUE, &result, NULL));
  request->timeout = 1;
  out = runner_test_run_request (fixture->test, request, &result, &err, &error);
  g_assert_no_error (error);
  g_assert_true (result.timed_out);
  g_assert_cmpint (result.exit_code, ==, 130);
  g_assert_cmpint (result.state, ==, LLMSBX_RUNNER_STATE_KEPT);
  g_assert_nonnull (strstr (err, "KeyboardInterrupt"));
  g_assert_cmpuint (runner_test_wait_processes_gone (mark), ==, 0);
  after = python (fixture, "print(kept)", TRUE, &result, NULL);
  g_assert_cmpstr (after, ==, "yes\n");
}

/* A cell that will not be interrupted: the kernel is killed after the
 * grace, the result says the state is lost, the next cell starts fresh. */
static void
test_interactive_timeout_lost (Fixture       *fixture,
                               gconstpointer  data)
{
  g_autoptr(LlmsbxRunnerRequest) request =
    runner_test_python_request (fixture->dir,
                                "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass\n",
                                "python", TRUE);
  g_auto(LlmsbxRunnerResult) result = { 0 };
  g_autoptr(GError) error = NULL;
  g_autofree char *err = NULL;
  g_autofree char *out = NULL;
  g_autofree char *after = NULL;

  g_free (python (fixture, "kept = 'yes'", TRUE, &result, NULL));
  request->timeout = 0.5;
  request->grace_ms = 300;
  out = runner_test_run_request (fixture->test, request, &result, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (result.timed_out);
  g_assert_cmpint (result.state, ==, LLMSBX_RUNNER_STATE_LOST);
  g_assert_cmpint (result.exit_code, ==, 137);
  after = python (fixture, "print(kept)", TRUE, &result, &err);
  g_assert_cmpint (result.exit_code, ==, 1);
  g_assert_true (result.fresh_state);
  g_assert_nonnull (strstr (err, "NameError"));
}

/* Cancelling a cell interrupts it like a timeout: the state survives. */
static gpointer
cancel_soon (gpointer data)
{
  g_usleep (G_USEC_PER_SEC / 2);
  g_cancellable_cancel (data);
  return NULL;
}

static void
test_interactive_cancel (Fixture       *fixture,
                         gconstpointer  data)
{
  g_autoptr(LlmsbxRunnerRequest) request =
    runner_test_python_request (fixture->dir, "import time\ntime.sleep(100)", "python", TRUE);
  g_autoptr(LlmsbxOutputCollector) output = llmsbx_output_collector_new (0);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_auto(LlmsbxRunnerResult) result = { 0 };
  g_autoptr(GError) error = NULL;
  g_autofree char *after = NULL;
  GThread *thread;

  g_free (python (fixture, "kept = 'yes'", TRUE, &result, NULL));
  thread = g_thread_new ("cancel", cancel_soon, cancellable);
  g_assert_false (llmsbx_resident_runner_run (fixture->test->runner, request, output, -1, &result, cancellable,
                                              &error));
  g_thread_join (thread);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_true (result.cancelled);
  g_assert_false (result.timed_out);
  g_assert_cmpint (result.state, ==, LLMSBX_RUNNER_STATE_KEPT);
  after = python (fixture, "print(kept)", TRUE, &result, NULL);
  g_assert_cmpstr (after, ==, "yes\n");
}

/* A cell that ends its kernel (os._exit) loses the state, and says so. */
static void
test_interactive_kernel_exit (Fixture       *fixture,
                              gconstpointer  data)
{
  g_auto(LlmsbxRunnerResult) result = { 0 };
  g_autofree char *out = NULL;

  g_free (python (fixture, "z = 1", TRUE, &result, NULL));
  g_free (python (fixture, "import os\nprint('bye', flush=True)\nos._exit(3)", TRUE, &result, NULL));
  g_assert_cmpint (result.exit_code, ==, 3);
  g_assert_cmpint (result.state, ==, LLMSBX_RUNNER_STATE_LOST);
  out = python (fixture, "print('z' in dir())", TRUE, &result, NULL);
  g_assert_cmpstr (out, ==, "False\n");
  g_assert_true (result.fresh_state);
}

/* A kernel that ends between cells (a thread of an earlier cell ends it):
 * the next cell runs, in a fresh kernel, and says so. */
static void
test_interactive_kernel_dies_between_cells (Fixture       *fixture,
                                            gconstpointer  data)
{
  g_auto(LlmsbxRunnerResult) result = { 0 };
  g_autofree char *out = NULL;

  g_free (python (fixture, "import os, threading, time\nz = 1\n"
                           "threading.Thread(target=lambda: (time.sleep(0.2), os._exit(0))).start()",
                  TRUE, &result, NULL));
  g_assert_cmpint (result.state, ==, LLMSBX_RUNNER_STATE_KEPT);
  g_usleep (G_USEC_PER_SEC);
  out = python (fixture, "print('ran', 'z' in dir())", TRUE, &result, NULL);
  g_assert_cmpstr (out, ==, "ran False\n");
  g_assert_cmpint (result.exit_code, ==, 0);
  g_assert_true (result.fresh_state);
  g_assert_cmpint (result.state, ==, LLMSBX_RUNNER_STATE_KEPT);
}

/* Stateless and interactive runs mix in one runner without sharing state. */
static void
test_modes_apart (Fixture       *fixture,
                  gconstpointer  data)
{
  g_auto(LlmsbxRunnerResult) result = { 0 };
  g_autofree char *err = NULL;
  g_autofree char *cell = NULL;

  g_free (python (fixture, "shared = 1", TRUE, &result, NULL));
  g_free (python (fixture, "print(shared)", FALSE, &result, &err));
  g_assert_cmpint (result.exit_code, ==, 1);
  g_assert_cmpint (result.state, ==, LLMSBX_RUNNER_STATE_NONE);
  cell = python (fixture, "print(shared)", TRUE, &result, NULL);
  g_assert_cmpstr (cell, ==, "1\n");
}

/* A missing interpreter is a clear adapter error, not a dead runner. */
static void
test_missing_interpreter (Fixture       *fixture,
                          gconstpointer  data)
{
  g_autoptr(LlmsbxRunnerRequest) request = runner_test_python_request (fixture->dir, "print(1)", "python", FALSE);
  g_auto(LlmsbxRunnerResult) result = { 0 };
  g_autoptr(GError) error = NULL;

  g_free (request->argv[0]);
  request->argv[0] = g_strdup ("/nonexistent/python3");
  g_assert_null (runner_test_run_request (fixture->test, request, &result, NULL, &error));
  g_assert_error (error, LLMSBX_RUNNER_ERROR, LLMSBX_RUNNER_ERROR_ADAPTER);
  g_assert_false (llmsbx_resident_runner_error_is_fatal (error));
  g_assert_nonnull (strstr (error->message, "cannot start the Python adapter with '/nonexistent/python3'"));
  g_assert_true (llmsbx_resident_runner_is_usable (fixture->test->runner));
}

/* PREPARE starts the adapter ahead of the first run. */
static void
test_prepare (Fixture       *fixture,
              gconstpointer  data)
{
  const char *argv[] = { PYTHON, NULL };
  g_auto(LlmsbxRunnerResult) result = { 0 };
  g_autoptr(GError) error = NULL;
  g_autofree char *out = NULL;

  g_assert_true (llmsbx_resident_runner_prepare (fixture->test->runner, "python", argv, NULL, fixture->dir,
                                                 g_get_monotonic_time () + 30 * G_USEC_PER_SEC, NULL, &error));
  g_assert_no_error (error);
  out = python (fixture, "print('warm')", FALSE, &result, NULL);
  g_assert_cmpstr (out, ==, "warm\n");
}

/* A fork bomb in the adapter's child under a process limit. */
static void
test_fork_bomb (void)
{
  RunnerIdentity who = { runner_test_unused_uid () + 2, 64 };
  RunnerTest *test = runner_test_spawn_as (&who);
  g_autoptr(LlmsbxRunnerRequest) request =
    runner_test_python_request ("/tmp", "import os\nwhile True:\n    try:\n        os.fork()\n"
                                "    except OSError:\n        pass\n", "python", FALSE);
  g_auto(LlmsbxRunnerResult) result = { 0 };
  g_autoptr(GError) error = NULL;
  g_autofree char *out = NULL;
  g_autoptr(LlmsbxRunnerRequest) next = runner_test_python_request ("/tmp", "print('after the bomb')", "python", FALSE);

  request->timeout = 2;
  out = runner_test_run_request (test, request, &result, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (result.timed_out);
  g_assert_false (result.kill_failed);
  llmsbx_runner_result_clear (&result);
  g_free (out);
  out = runner_test_run_request (test, next, &result, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (out, ==, "after the bomb\n");
  g_unlink (request->argv[1]);
  g_unlink (next->argv[1]);
  runner_test_free (test);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) g_test_add ("/python-adapter/" path, Fixture, NULL, runner_fixture_set_up, func, runner_fixture_tear_down)
  ADD ("like-the-interpreter", test_like_the_interpreter);
  ADD ("exit-codes", test_exit_codes);
  ADD ("unclosed-file", test_unclosed_file);
  ADD ("fresh-state", test_fresh_state);
  ADD ("stdin-and-environment", test_stdin_and_environment);
  ADD ("timeout", test_timeout);
  ADD ("kill-parent", test_kill_parent);
  ADD ("descriptors", test_descriptors);
  ADD ("interactive-state", test_interactive_state);
  ADD ("interactive-timeout-kept", test_interactive_timeout_kept);
  ADD ("interactive-timeout-lost", test_interactive_timeout_lost);
  ADD ("interactive-kernel-exit", test_interactive_kernel_exit);
  ADD ("interactive-cancel", test_interactive_cancel);
  ADD ("interactive-kernel-dies-between-cells", test_interactive_kernel_dies_between_cells);
  ADD ("modes-apart", test_modes_apart);
  ADD ("missing-interpreter", test_missing_interpreter);
  ADD ("prepare", test_prepare);
#undef ADD
  g_test_add_func ("/python-adapter/fork-bomb", test_fork_bomb);

  return g_test_run ();
}
