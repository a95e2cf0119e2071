/* test-sandbox-session.c: the session's orchestration on the fake backend of
 * tests/lib, with no daemon: the default backend, policy refusals, timeouts
 * and their kill, output caps, errors, cleanup when open fails, live output
 * and its threads, closing when what timed out cannot be stopped, copies,
 * a subclass's defaults.
 * Code runs as host processes (Python from the host), so it is only ever
 * harmless code. */
#include <errno.h>
#include <signal.h>
#include <string.h>

#include <glib/gstdio.h>
#include <llmsbx.h>

#include "llmsbx-fake-backend.h"

#define IMAGE "llmsbx/python:bookworm"

static LlmsbxSandboxSession *
new_session (LlmsbxBackend *client,
             const char    *first_property,
             ...);

/* A Python session on the fake backend: through @client when given, else by
 * the name "fake"; more properties as for g_object_new(). */
static LlmsbxSandboxSession *
new_session (LlmsbxBackend *client,
             const char    *first_property,
             ...)
{
  /* The faults these tests inject are the exec path's (the fake backend
   * has no resident runner: test_resident_runner_fallback()). */
  LlmsbxSandboxSession *session = g_object_new (LLMSBX_TYPE_SANDBOX_SESSION, "lang", "python",
                                                "skip-environment-setup", TRUE,
                                                "code-runner", LLMSBX_CODE_RUNNER_MODE_EXEC, NULL);
  va_list args;

  if (client != NULL)
    g_object_set (session, "client", client, NULL);
  else
    g_object_set (session, "backend", "fake", NULL);
  if (first_property != NULL)
    {
      va_start (args, first_property);
      g_object_set_valist (G_OBJECT (session), first_property, args);
      va_end (args);
    }
  return session;
}

static void
open_session (LlmsbxSandboxSession *session)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (llmsbx_sandbox_session_open (session, NULL, &error));
  g_assert_no_error (error);
}

static void
close_session (LlmsbxSandboxSession *session)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (llmsbx_sandbox_session_close (session, NULL, &error));
  g_assert_no_error (error);
}

static LlmsbxExecutionResult *
run_ok (LlmsbxSandboxSession *session,
        const char           *code)
{
  g_autoptr(GError) error = NULL;
  LlmsbxExecutionResult *result = llmsbx_sandbox_session_run (session, code, NULL, 0, NULL, &error);

  g_assert_no_error (error);
  g_assert_nonnull (result);
  return result;
}

/* Whether host process @pid is gone (or a zombie, which runs nothing). */
static gboolean
process_gone (pid_t pid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/stat", (int) pid);
  g_autofree char *stat = NULL;
  const char *state;

  if (!g_file_get_contents (path, &stat, NULL, NULL))
    return TRUE;
  state = strrchr (stat, ')');
  return state != NULL && state[1] == ' ' && (state[2] == 'Z' || state[2] == 'X');
}

/* The pid a run wrote to @name in its working directory. */
static pid_t
read_pid (LlmsbxSandboxSession *session,
          const char           *name)
{
  g_autofree char *root = llmsbx_fake_backend_get_root (llmsbx_sandbox_session_get_container_id (session));
  g_autofree char *path = g_build_filename (root, "sandbox", name, NULL);
  g_autofree char *text = NULL;

  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  return (pid_t) g_ascii_strtoll (text, NULL, 10);
}

/* Runs ------------------------------------------------------------------- */

static void
test_run (void)
{
  g_autoptr(LlmsbxSandboxSession) session = new_session (NULL, NULL);
  g_autoptr(LlmsbxExecutionResult) result = NULL;
  g_autoptr(LlmsbxBackend) backend = llmsbx_fake_backend_new ();
  g_autoptr(GPtrArray) found = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *id = NULL;

  open_session (session);
  g_assert_true (llmsbx_sandbox_session_get_is_open (session));
  id = g_strdup (llmsbx_sandbox_session_get_container_id (session));
  g_assert_true (llmsbx_fake_backend_has_sandbox (id));

  result = run_ok (session, "import sys\nprint('out')\nprint('err', file=sys.stderr)\nsys.exit(3)\n");
  g_assert_cmpint (llmsbx_execution_result_get_exit_code (result), ==, 3);
  g_assert_cmpstr (llmsbx_execution_result_get_stdout (result), ==, "out\n");
  g_assert_cmpstr (llmsbx_execution_result_get_stderr (result), ==, "err\n");
  g_assert_false (llmsbx_execution_result_get_truncated (result));

  /* The sandbox carries the session's labels, as on every backend. */
  found = llmsbx_backend_list_sandboxes (backend, (const char *[]) { "io.llmsbx.managed-by=libllmsbx", "io.llmsbx.lang=python", NULL },
                                         NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (found->len, ==, 1);
  g_assert_cmpstr (((LlmsbxSandboxInfo *) g_ptr_array_index (found, 0))->id, ==, id);
  g_assert_nonnull (llmsbx_sandbox_info_get_label (g_ptr_array_index (found, 0), "io.llmsbx.session"));

  close_session (session);
  g_assert_false (llmsbx_sandbox_session_get_is_open (session));
  g_assert_false (llmsbx_fake_backend_has_sandbox (id));
}

/* A session that names no backend gets the one LLMSBX_BACKEND names, and
 * reads as it while open. */
static void
test_default_backend (void)
{
  g_autoptr(LlmsbxSandboxSession) session = g_object_new (LLMSBX_TYPE_SANDBOX_SESSION, "lang", "python",
                                                          "skip-environment-setup", TRUE, NULL);
  g_autoptr(LlmsbxExecutionResult) result = NULL;

  g_setenv ("LLMSBX_BACKEND", "FAKE", TRUE);
  g_assert_null (llmsbx_sandbox_session_get_backend (session));
  open_session (session);
  g_assert_cmpstr (llmsbx_sandbox_session_get_backend (session), ==, "fake");
  g_assert_true (llmsbx_fake_backend_has_sandbox (llmsbx_sandbox_session_get_container_id (session)));
  result = run_ok (session, "print(6 * 7)");
  g_assert_cmpstr (llmsbx_execution_result_get_stdout (result), ==, "42\n");
  close_session (session);
  g_assert_null (llmsbx_sandbox_session_get_backend (session));
  g_unsetenv ("LLMSBX_BACKEND");
}

/* Refused code never reaches the backend. */
static void
test_policy_refusal (void)
{
  g_autoptr(LlmsbxBackend) client = llmsbx_fake_backend_new ();
  g_autoptr(LlmsbxSecurityPolicy) policy = llmsbx_security_policy_new (LLMSBX_SECURITY_ISSUE_SEVERITY_LOW);
  g_autoptr(LlmsbxSecurityPattern) pattern = NULL;
  g_autoptr(LlmsbxSandboxSession) session = NULL;
  g_autoptr(LlmsbxExecutionResult) result = NULL;
  g_autoptr(GError) error = NULL;
  guint execs;

  pattern = llmsbx_security_pattern_new ("\\bos\\.system\\s*\\(", "System command execution",
                                         LLMSBX_SECURITY_ISSUE_SEVERITY_HIGH, &error);
  g_assert_no_error (error);
  llmsbx_security_policy_add_pattern (policy, pattern);
  session = new_session (client, "security-policy", policy, NULL);
  open_session (session);

  execs = llmsbx_fake_backend_get_calls (LLMSBX_FAKE_BACKEND (client), LLMSBX_FAKE_FAULT_EXEC);
  result = llmsbx_sandbox_session_run (session, "import os\nos.system('touch refused')\n", NULL, 0, NULL, &error);
  g_assert_null (result);
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_SECURITY_VIOLATION);
  g_assert_nonnull (strstr (error->message, "System command execution"));
  g_assert_cmpuint (llmsbx_fake_backend_get_calls (LLMSBX_FAKE_BACKEND (client), LLMSBX_FAKE_FAULT_EXEC), ==, execs);

  /* Harmless code still runs, and the session stays open. */
  g_clear_object (&result);
  result = run_ok (session, "print('fine')");
  g_assert_cmpstr (llmsbx_execution_result_get_stdout (result), ==, "fine\n");
  close_session (session);
}

/* A timed-out run's process is killed, and the session goes on. */
static void
test_timeout (void)
{
  g_autoptr(LlmsbxSandboxSession) session = new_session (NULL, NULL);
  g_autoptr(LlmsbxExecutionResult) result = NULL;
  g_autoptr(GError) error = NULL;
  pid_t pid;

  open_session (session);
  result = llmsbx_sandbox_session_run (session,
                                       "import os, time\n"
                                       "with open('sleeper.pid', 'w') as f:\n"
                                       "    f.write(str(os.getpid()))\n"
                                       "time.sleep(60)\n",
                                       NULL, 1.0, NULL, &error);
  g_assert_null (result);
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_TIMEOUT);
  g_assert_cmpstr (error->message, ==, "Execution timed out after 1 seconds");
  g_assert_true (llmsbx_sandbox_session_get_is_open (session));

  pid = read_pid (session, "sleeper.pid");
  g_assert_cmpint (pid, >, 1);
  g_assert_true (process_gone (pid));

  g_clear_object (&result);
  result = run_ok (session, "print('next')");
  g_assert_cmpstr (llmsbx_execution_result_get_stdout (result), ==, "next\n");
  close_session (session);
}

/* When what timed out cannot be killed, the session closes and removes the
 * sandbox, whose processes removal ends. */
static void
test_close_on_unstoppable (void)
{
  g_autoptr(LlmsbxBackend) client = llmsbx_fake_backend_new ();
  g_autoptr(LlmsbxSandboxSession) session = new_session (client, NULL);
  g_autoptr(LlmsbxExecutionResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *id = NULL;

  open_session (session);
  id = g_strdup (llmsbx_sandbox_session_get_container_id (session));
  /* The run times out at once; every sweep that would kill it fails. */
  llmsbx_fake_backend_inject_fault (LLMSBX_FAKE_BACKEND (client), LLMSBX_FAKE_FAULT_DEADLINE, 0, 1);
  llmsbx_fake_backend_inject_fault (LLMSBX_FAKE_BACKEND (client), LLMSBX_FAKE_FAULT_EXEC, 1, G_MAXUINT);

  result = llmsbx_sandbox_session_run (session, "import time\ntime.sleep(60)\n", NULL, 30, NULL, &error);
  g_assert_null (result);
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_TIMEOUT);
  g_assert_nonnull (strstr (error->message, "could not be stopped"));
  g_assert_true (g_str_has_suffix (error->message, "the sandbox was removed and the session closed"));
  g_assert_false (llmsbx_sandbox_session_get_is_open (session));
  g_assert_false (llmsbx_fake_backend_has_sandbox (id));
  g_clear_error (&error);

  g_assert_null (llmsbx_sandbox_session_run (session, "print(1)", NULL, 0, NULL, &error));
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_NOT_OPEN);
}

static void
test_output_limit (void)
{
  g_autoptr(LlmsbxSandboxSession) session = new_session (NULL, "output-limit", (guint64) 1000, NULL);
  g_autoptr(LlmsbxExecutionResult) result = NULL;

  open_session (session);
  result = run_ok (session, "import sys\nsys.stdout.write('x' * 100000)\nsys.stderr.write('y' * 5000)\n");
  g_assert_cmpint (llmsbx_execution_result_get_exit_code (result), ==, 0);
  g_assert_cmpuint (g_bytes_get_size (llmsbx_execution_result_get_stdout_bytes (result)), ==, 1000);
  g_assert_cmpuint (g_bytes_get_size (llmsbx_execution_result_get_stderr_bytes (result)), ==, 1000);
  g_assert_true (llmsbx_execution_result_get_truncated (result));
  close_session (session);
}

/* An exec the backend cannot start is the run's error; the session stays. */
static void
test_exec_error (void)
{
  g_autoptr(LlmsbxBackend) client = llmsbx_fake_backend_new ();
  g_autoptr(LlmsbxSandboxSession) session = new_session (client, NULL);
  g_autoptr(LlmsbxExecutionResult) result = NULL;
  g_autoptr(GError) error = NULL;

  open_session (session);
  llmsbx_fake_backend_inject_fault (LLMSBX_FAKE_BACKEND (client), LLMSBX_FAKE_FAULT_EXEC, 0, 1);
  result = llmsbx_sandbox_session_run (session, "print(1)", NULL, 0, NULL, &error);
  g_assert_null (result);
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_CONTAINER_FAILED);
  g_assert_nonnull (strstr (error->message, "the fake backend was told to fail"));
  g_assert_true (llmsbx_sandbox_session_get_is_open (session));
  g_clear_error (&error);

  result = run_ok (session, "print(2)");
  g_assert_cmpstr (llmsbx_execution_result_get_stdout (result), ==, "2\n");

  /* A program that does not exist never started: an error, as with an
   * engine, and the session stays usable. */
  g_clear_object (&result);
  result = llmsbx_sandbox_session_execute_argv (session, (const char *[]) { "llmsbx-no-such-program", NULL },
                                                NULL, NULL, &error);
  g_assert_null (result);
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_COMMAND_NOT_STARTED);
  g_assert_true (llmsbx_sandbox_session_get_is_open (session));
  g_clear_error (&error);
  close_session (session);
}

/* The fake backend has no resident runner (its sandboxes share the host's
 * file system): in the default mode runs take the exec path, and when the
 * runner is required, a run fails saying why; the session stays open. */
static void
test_resident_runner_fallback (void)
{
  g_autoptr(LlmsbxBackend) client = llmsbx_fake_backend_new ();
  g_autoptr(LlmsbxSandboxSession) automatic = new_session (client, "code-runner", LLMSBX_CODE_RUNNER_MODE_AUTO, NULL);
  g_autoptr(LlmsbxSandboxSession) strict = new_session (client, "code-runner", LLMSBX_CODE_RUNNER_MODE_RESIDENT, NULL);
  g_autoptr(LlmsbxExecutionResult) result = NULL;
  g_autoptr(GError) error = NULL;
  LlmsbxCodeRunnerMode mode;

  g_autoptr(LlmsbxSandboxSession) plain = llmsbx_sandbox_session_new ("python");

  g_object_get (plain, "code-runner", &mode, NULL);
  g_assert_cmpint (mode, ==, LLMSBX_CODE_RUNNER_MODE_AUTO);
  open_session (automatic);
  result = run_ok (automatic, "print('first')");
  g_assert_cmpstr (llmsbx_execution_result_get_stdout (result), ==, "first\n");
  close_session (automatic);

  open_session (strict);
  g_assert_null (llmsbx_sandbox_session_run (strict, "print(1)", NULL, 0, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED);
  g_assert_true (g_str_has_prefix (error->message, "The resident runner is not available: "));
  g_assert_true (llmsbx_sandbox_session_get_is_open (strict));
  close_session (strict);
}

/* Open ------------------------------------------------------------------- */

/* A failed open leaves nothing, and the session can open again. */
static void
test_open_failure_cleanup (void)
{
  g_autoptr(LlmsbxBackend) client = llmsbx_fake_backend_new ();
  g_autoptr(LlmsbxSandboxSession) session = new_session (client, NULL);
  g_autoptr(LlmsbxSandboxSession) no_image = new_session (client, "image", "llmsbx/no-such-image:x", NULL);
  g_autoptr(GError) error = NULL;
  guint before = llmsbx_fake_backend_count_sandboxes ();

  llmsbx_fake_backend_inject_fault (LLMSBX_FAKE_BACKEND (client), LLMSBX_FAKE_FAULT_CREATE, 0, 1);
  g_assert_false (llmsbx_sandbox_session_open (session, NULL, &error));
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_CONTAINER_FAILED);
  g_assert_false (llmsbx_sandbox_session_get_is_open (session));
  g_assert_null (llmsbx_sandbox_session_get_container_id (session));
  g_assert_cmpuint (llmsbx_fake_backend_count_sandboxes (), ==, before);
  g_clear_error (&error);

  g_assert_false (llmsbx_sandbox_session_open (no_image, NULL, &error));
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_IMAGE_NOT_FOUND);
  g_assert_cmpuint (llmsbx_fake_backend_count_sandboxes (), ==, before);

  open_session (session);
  g_assert_cmpuint (llmsbx_fake_backend_count_sandboxes (), ==, before + 1);
  close_session (session);
  g_assert_cmpuint (llmsbx_fake_backend_count_sandboxes (), ==, before);
}

/* A removal that fails is reported, and the session is closed anyway. */
static void
test_close_failure (void)
{
  g_autoptr(LlmsbxBackend) client = llmsbx_fake_backend_new ();
  g_autoptr(LlmsbxSandboxSession) session = new_session (client, NULL);
  g_autoptr(GError) error = NULL;
  g_autofree char *id = NULL;

  open_session (session);
  id = g_strdup (llmsbx_sandbox_session_get_container_id (session));
  llmsbx_fake_backend_inject_fault (LLMSBX_FAKE_BACKEND (client), LLMSBX_FAKE_FAULT_REMOVE, 0, 1);
  g_assert_false (llmsbx_sandbox_session_close (session, NULL, &error));
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_CONTAINER_FAILED);
  g_assert_true (g_str_has_prefix (error->message, "Removing sandbox "));
  g_assert_false (llmsbx_sandbox_session_get_is_open (session));

  /* What the failed removal left, removed for real. */
  g_assert_true (llmsbx_backend_remove_sandbox (client, id, NULL, NULL));
  g_assert_false (llmsbx_fake_backend_has_sandbox (id));
}

/* Live output ------------------------------------------------------------ */

typedef struct {
  GString  *seen;      /* the output, marked where the stream changes */
  LlmsbxOutputStream last;
  GThread  *thread;
  gboolean  other_thread;
  GMainLoop *loop;
  LlmsbxExecutionResult *result;
  GError   *error;
} Live;

static void
on_output (LlmsbxSandboxSession *session,
           LlmsbxOutputStream    stream,
           GBytes               *chunk,
           gpointer              user_data)
{
  Live *live = user_data;
  gsize size;
  const char *data = g_bytes_get_data (chunk, &size);

  if (g_thread_self () != live->thread)
    live->other_thread = TRUE;
  /* A chunk is whatever one write gave: only the order of the streams counts. */
  if (stream != live->last)
    g_string_append_printf (live->seen, "%s:", stream == LLMSBX_OUTPUT_STREAM_STDOUT ? "out" : "err");
  live->last = stream;
  g_string_append_len (live->seen, data, size);
}

static void
on_run_done (GObject      *object,
             GAsyncResult *result,
             gpointer      user_data)
{
  Live *live = user_data;

  live->result = llmsbx_sandbox_session_run_finish (LLMSBX_SANDBOX_SESSION (object), result, &live->error);
  g_main_loop_quit (live->loop);
}

/* Output arrives while the code runs, in the thread of the caller: the
 * calling one for run(), the GTask's context for run_async(), whatever
 * thread the fake backend reads it in. */
static void
test_live_output (void)
{
  g_autoptr(LlmsbxSandboxSession) session = new_session (NULL, NULL);
  g_autoptr(LlmsbxExecutionResult) result = NULL;
  g_autoptr(GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  const char *code = "import sys, time\n"
                     "print('one', flush=True)\n"
                     "time.sleep(0.2)\n"
                     "print('two', file=sys.stderr, flush=True)\n";
  Live live = { g_string_new (NULL), 0, g_thread_self (), FALSE, loop, NULL, NULL };
  gulong handler;

  open_session (session);
  handler = g_signal_connect (session, "output", G_CALLBACK (on_output), &live);

  result = run_ok (session, code);
  g_assert_cmpstr (live.seen->str, ==, "out:one\nerr:two\n");
  g_assert_false (live.other_thread);

  g_string_truncate (live.seen, 0);
  live.last = 0;
  llmsbx_sandbox_session_run_async (session, code, NULL, 0, NULL, on_run_done, &live);
  g_main_loop_run (loop);
  g_assert_no_error (live.error);
  g_assert_cmpstr (llmsbx_execution_result_get_stdout (live.result), ==, "one\n");
  g_assert_cmpstr (live.seen->str, ==, "out:one\nerr:two\n");
  g_assert_false (live.other_thread);

  /* Live output never changes what the run returns. */
  g_assert_cmpint (llmsbx_execution_result_get_exit_code (live.result), ==,
                   llmsbx_execution_result_get_exit_code (result));

  g_signal_handler_disconnect (session, handler);
  g_clear_object (&live.result);
  g_string_free (live.seen, TRUE);
  close_session (session);
}

/* Files ------------------------------------------------------------------ */

/* Copies go through the fake's archives; a missing destination directory is
 * the engine's 404, which the session answers by creating it. */
static void
test_copies (void)
{
  g_autoptr(LlmsbxBackend) client = llmsbx_fake_backend_new ();
  g_autoptr(LlmsbxSandboxSession) session = new_session (client, NULL);
  g_autoptr(LlmsbxExecutionResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("llmsbx-copies-XXXXXX", &error);
  g_autofree char *source = g_build_filename (dir, "in.txt", NULL);
  g_autofree char *back = g_build_filename (dir, "back.txt", NULL);
  g_autofree char *contents = NULL;
  guint puts;

  g_assert_no_error (error);
  g_assert_true (g_file_set_contents (source, "from the host\n", -1, &error));
  open_session (session);

  puts = llmsbx_fake_backend_get_calls (LLMSBX_FAKE_BACKEND (client), LLMSBX_FAKE_FAULT_PUT_ARCHIVE);
  llmsbx_fake_backend_inject_fault (LLMSBX_FAKE_BACKEND (client), LLMSBX_FAKE_FAULT_PUT_ARCHIVE, 0, 1);
  g_assert_true (llmsbx_sandbox_session_copy_to_runtime (session, source, "data/in.txt", NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (llmsbx_fake_backend_get_calls (LLMSBX_FAKE_BACKEND (client), LLMSBX_FAKE_FAULT_PUT_ARCHIVE), ==, puts + 2);

  result = run_ok (session, "print(open('data/in.txt').read(), end='')\nopen('out.txt', 'w').write('made inside\\n')\n");
  g_assert_cmpstr (llmsbx_execution_result_get_stdout (result), ==, "from the host\n");
  g_assert_true (llmsbx_sandbox_session_copy_from_runtime (session, "out.txt", back, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (g_file_get_contents (back, &contents, NULL, &error));
  g_assert_cmpstr (contents, ==, "made inside\n");

  g_assert_false (llmsbx_sandbox_session_copy_from_runtime (session, "no-such-file", back, NULL, &error));
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_FILE_NOT_FOUND);
  close_session (session);

  g_remove (source);
  g_remove (back);
  g_rmdir (dir);
}

/* Code delivery ---------------------------------------------------------- */

/* The session's code runner: code up to 96 KiB travels in the exec's
 * environment, larger code on its standard input; both run the same, and the
 * code file is gone once the run is over. */
static void
test_code_delivery (void)
{
  g_autoptr(LlmsbxSandboxSession) session = new_session (NULL, NULL);
  g_autoptr(LlmsbxExecutionResult) small = NULL;
  g_autoptr(LlmsbxExecutionResult) large = NULL;
  g_autoptr(GString) code = g_string_new ("print('large')\n");
  g_autoptr(GDir) dir = NULL;
  g_autofree char *root = NULL;
  g_autofree char *code_dir = NULL;

  /* A comment line of 1 KiB, 200 times: over LLMSBX_CODE_CHUNK_MAX. */
  for (guint i = 0; i < 200; i++)
    {
      g_string_append_c (code, '#');
      for (guint j = 0; j < 1023; j++)
        g_string_append_c (code, 'x');
      g_string_append_c (code, '\n');
    }
  g_string_append (code, "print(len(open(__file__).read()))\n");

  open_session (session);
  small = run_ok (session, "print('small')\n");
  g_assert_cmpstr (llmsbx_execution_result_get_stdout (small), ==, "small\n");
  large = run_ok (session, code->str);
  g_assert_cmpint (llmsbx_execution_result_get_exit_code (large), ==, 0);
  g_assert_true (g_str_has_prefix (llmsbx_execution_result_get_stdout (large), "large\n"));
  g_assert_cmpuint (g_ascii_strtoull (llmsbx_execution_result_get_stdout (large) + strlen ("large\n"), NULL, 10),
                    ==, code->len);

  root = llmsbx_fake_backend_get_root (llmsbx_sandbox_session_get_container_id (session));
  code_dir = g_build_filename (root, "sandbox", ".llmsbx", NULL);
  /* The directory stays, for the next run; its files go. */
  dir = g_dir_open (code_dir, 0, NULL);
  g_assert_nonnull (dir);
  g_assert_null (g_dir_read_name (dir));
  close_session (session);
}

/* Subclasses -------------------------------------------------------------- */

/* What the artifact and interactive sessions do: a subclass that sets its own
 * defaults in its instance init and adds a method on the public API. */
#define TEST_TYPE_TERSE_SESSION (test_terse_session_get_type ())
G_DECLARE_FINAL_TYPE (TestTerseSession, test_terse_session, TEST, TERSE_SESSION, LlmsbxSandboxSession)

struct _TestTerseSession
{
  LlmsbxSandboxSession parent_instance;
};

G_DEFINE_FINAL_TYPE (TestTerseSession, test_terse_session, LLMSBX_TYPE_SANDBOX_SESSION)

static void
test_terse_session_class_init (TestTerseSessionClass *klass)
{
}

static void
test_terse_session_init (TestTerseSession *self)
{
  g_object_set (self, "output-limit", (guint64) 4, "skip-environment-setup", TRUE, NULL);
}

/* The added API: the first line @code prints, by the session's own run. */
static char *
test_terse_session_first_line (TestTerseSession *self,
                               const char       *code)
{
  g_autoptr(LlmsbxExecutionResult) result = run_ok (LLMSBX_SANDBOX_SESSION (self), code);
  const char *out = llmsbx_execution_result_get_stdout (result);

  return g_strndup (out, strcspn (out, "\n"));
}

static void
test_subclass_defaults (void)
{
  g_autoptr(TestTerseSession) terse = g_object_new (TEST_TYPE_TERSE_SESSION, "backend", "fake", NULL);
  g_autoptr(TestTerseSession) given = g_object_new (TEST_TYPE_TERSE_SESSION, "backend", "fake",
                                                    "output-limit", (guint64) 0, NULL);
  g_autoptr(LlmsbxSandboxSession) plain = llmsbx_sandbox_session_new (NULL);
  g_autoptr(LlmsbxExecutionResult) result = NULL;
  g_autofree char *line = NULL;
  guint64 limit = 0;

  /* The subclass's default replaces the base class's, and a property given
   * at construction replaces both; the base class keeps its own. */
  g_object_get (terse, "output-limit", &limit, NULL);
  g_assert_cmpuint (limit, ==, 4);
  g_object_get (given, "output-limit", &limit, NULL);
  g_assert_cmpuint (limit, ==, 0);
  g_object_get (plain, "output-limit", &limit, NULL);
  g_assert_cmpuint (limit, ==, LLMSBX_DEFAULT_OUTPUT_LIMIT);
  g_assert_cmpstr (llmsbx_sandbox_session_get_lang (LLMSBX_SANDBOX_SESSION (terse)), ==, "python");
  g_assert_cmpstr (llmsbx_sandbox_session_get_workdir (LLMSBX_SANDBOX_SESSION (terse)), ==, "/sandbox");

  /* The run is the base class's, with the subclass's limit. */
  open_session (LLMSBX_SANDBOX_SESSION (terse));
  result = run_ok (LLMSBX_SANDBOX_SESSION (terse), "print('truncated here')\n");
  g_assert_cmpstr (llmsbx_execution_result_get_stdout (result), ==, "trun");
  g_assert_true (llmsbx_execution_result_get_truncated (result));
  close_session (LLMSBX_SANDBOX_SESSION (terse));

  open_session (LLMSBX_SANDBOX_SESSION (given));
  line = test_terse_session_first_line (given, "print('first')\nprint('second')\n");
  g_assert_cmpstr (line, ==, "first");
  close_session (LLMSBX_SANDBOX_SESSION (given));
}

int
main (int argc, char **argv)
{
  g_autoptr(GError) error = NULL;

  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_unsetenv ("LLMSBX_BACKEND");
  llmsbx_fake_backend_register (llmsbx_registry_get_default (), "fake", LLMSBX_RANK_NONE, &error);
  g_assert_no_error (error);
  llmsbx_fake_backend_add_image (IMAGE);

  g_test_add_func ("/sandbox-session/run", test_run);
  g_test_add_func ("/sandbox-session/default-backend", test_default_backend);
  g_test_add_func ("/sandbox-session/policy-refusal", test_policy_refusal);
  g_test_add_func ("/sandbox-session/timeout", test_timeout);
  g_test_add_func ("/sandbox-session/close-on-unstoppable", test_close_on_unstoppable);
  g_test_add_func ("/sandbox-session/output-limit", test_output_limit);
  g_test_add_func ("/sandbox-session/exec-error", test_exec_error);
  g_test_add_func ("/sandbox-session/resident-runner-fallback", test_resident_runner_fallback);
  g_test_add_func ("/sandbox-session/open-failure-cleanup", test_open_failure_cleanup);
  g_test_add_func ("/sandbox-session/close-failure", test_close_failure);
  g_test_add_func ("/sandbox-session/live-output", test_live_output);
  g_test_add_func ("/sandbox-session/copies", test_copies);
  g_test_add_func ("/sandbox-session/code-delivery", test_code_delivery);
  g_test_add_func ("/sandbox-session/subclass-defaults", test_subclass_defaults);

  return g_test_run ();
}
