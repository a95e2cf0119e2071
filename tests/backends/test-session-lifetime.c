/* test-session-lifetime.c: a session's limits hold whatever its client does.
 *
 * session-timeout holds even when the client is killed: the sandbox ends
 * itself at its deadline. close() from another thread does not wait for a
 * run that may never end: it cancels it, kills what it started (also in a
 * sandbox the session only attached to, which it leaves running), and the
 * run fails saying the session was closed. */
#include <signal.h>

#include "isolated-test.h"

#define ID_FILE_VARIABLE "LLMSBX_TEST_ID_FILE"

/* ---------------------------------------------------------------------------
 * Helpers
 * ------------------------------------------------------------------------ */

/* Processes in the sandbox running a code file of a session. The pattern is
 * put together at run time, so the script's own command line does not hold it. */
static char *
code_processes (LlmsbxSandboxSession *session)
{
  return g_strstrip (test_sh (session,
                              "pattern=.llmsbx/code; pattern=$pattern-\n"
                              "for d in /proc/[0-9]*; do\n"
                              "  c=$(tr '\\0' ' ' < $d/cmdline 2>/dev/null)\n"
                              "  case \"$c\" in *\"$pattern\"*) echo \"${d#/proc/} $c\";; esac\n"
                              "done\n"
                              "true\n"));
}

typedef struct {
  LlmsbxSandboxSession  *session;
  LlmsbxExecutionResult *result;
  GError                *error;
} RunInThread;

static gpointer
run_forever (gpointer data)
{
  RunInThread *run = data;

  /* No timeout at any level: only close() can end it. */
  run->result = llmsbx_sandbox_session_run (run->session,
                                            "import subprocess, time\n"
                                            "subprocess.Popen(['sleep', '1000'])\n"
                                            "print('started', flush=True)\n"
                                            "time.sleep(3600)\n",
                                            NULL, 0, NULL, &run->error);
  return NULL;
}

static void
on_started (LlmsbxSandboxSession *session,
            LlmsbxOutputStream    stream,
            GBytes               *chunk,
            gpointer              user_data)
{
  g_atomic_int_set ((gint *) user_data, 1);
}

/* Starts the endless run in a thread and returns once its code is running. */
static GThread *
start_endless_run (RunInThread *run)
{
  gint started = 0;
  gulong handler = g_signal_connect (run->session, "output", G_CALLBACK (on_started), &started);
  GThread *thread = g_thread_new ("endless-run", run_forever, run);

  for (guint i = 0; i < 600 && !g_atomic_int_get (&started); i++)
    g_usleep (50 * 1000);
  g_assert_true (g_atomic_int_get (&started));
  g_signal_handler_disconnect (run->session, handler);
  return thread;
}

/* ---------------------------------------------------------------------------
 * Tests
 * ------------------------------------------------------------------------ */

/* The client: opens a session with a 3 s lifetime, says which sandbox, and
 * is killed before it can close anything. */
static void
test_killed_client_child (void)
{
  g_autoptr(LlmsbxSandboxSession) session = NULL;
  g_autoptr(GError) error = NULL;

  if (!g_test_subprocess ())
    return;
  session = test_open_session ("\"network_mode\": \"none\"", "session-timeout", 3.0, NULL);
  g_file_set_contents (g_getenv (ID_FILE_VARIABLE), llmsbx_sandbox_session_get_container_id (session), -1,
                       &error);
  g_assert_no_error (error);
  kill (getpid (), SIGKILL);
}

/* session-timeout holds without its client: the sandbox stops by itself a
 * moment after the deadline. It stays (stopped) for reaping; this test
 * removes it. On bubblewrap the sandbox ends with its client. */
static void
test_sandbox_ends_without_client (void)
{
  g_autofree char *dir = test_host_dir ("llmsbx-lifetime");
  g_autofree char *id_file = g_build_filename (dir, "id", NULL);
  g_autofree char *id = NULL;
  g_autofree char *running = NULL;
  g_autoptr(GError) error = NULL;

  /* Whatever fails, the sandbox is reaped below. */
  g_test_set_nonfatal_assertions ();
  g_setenv (ID_FILE_VARIABLE, id_file, TRUE);
  g_test_trap_subprocess ("/lifetime/sandbox-ends-without-client/child", 120 * G_USEC_PER_SEC,
                          G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_test_trap_assert_failed ();
  if (!g_file_get_contents (id_file, &id, NULL, &error))
    {
      g_assert_no_error (error);
      test_reap ();
      return;
    }

  running = backend_test_container_running (id);
  /* A bubblewrap sandbox does not outlive its client: its monitor ends it
   * when the client's lifeline closes, well before the lifetime is over,
   * and leaves nothing (docs/backends.md). */
  if (backend_test_is_bubblewrap ())
    {
      for (guint i = 0; i < 100 && !g_str_equal (running, ""); i++)
        {
          g_usleep (100 * 1000);
          g_free (running);
          running = backend_test_container_running (id);
        }
      backend_test_assert_container_gone (id);
      test_reap ();
      return;
    }
  g_assert_cmpstr (running, ==, "true");
  for (guint i = 0; i < 300 && g_str_equal (running, "true"); i++)
    {
      g_usleep (100 * 1000);
      g_free (running);
      running = backend_test_container_running (id);
    }
  g_assert_cmpstr (running, ==, "false");
  test_reap ();
}

/* close() from another thread ends a run that has no timeout. */
static void
test_close_cancels_run (void)
{
  g_autoptr(LlmsbxSandboxSession) session = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *id = NULL;
  RunInThread run = { NULL, NULL, NULL };
  GThread *thread;

  session = test_open_session ("\"network_mode\": \"none\"", "default-timeout", 0.0, NULL);
  id = g_strdup (llmsbx_sandbox_session_get_container_id (session));
  run.session = session;
  thread = start_endless_run (&run);

  llmsbx_sandbox_session_close (session, NULL, &error);
  g_assert_no_error (error);
  g_thread_join (thread);

  g_assert_null (run.result);
  g_assert_error (run.error, LLMSBX_ERROR, LLMSBX_ERROR_NOT_OPEN);
  g_assert_true (g_str_has_prefix (run.error->message, "The session was closed while the code was running"));
  g_clear_error (&run.error);
  g_assert_false (llmsbx_sandbox_session_get_is_open (session));
  backend_test_assert_container_gone (id);

  /* Later calls find it closed. */
  g_assert_null (llmsbx_sandbox_session_run (session, "print(1)", NULL, 0, NULL, &error));
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_NOT_OPEN);
}

/* In a sandbox the session attached to, which closing leaves running, what
 * the run started is killed. */
static void
test_close_kills_run_in_attached_sandbox (void)
{
  g_autoptr(LlmsbxSandboxSession) owner = NULL;
  g_autoptr(LlmsbxSandboxSession) attached = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *left = NULL;
  g_autofree char *sleepers = NULL;
  RunInThread run = { NULL, NULL, NULL };
  GThread *thread;

  owner = test_open_session ("\"network_mode\": \"none\"", NULL);
  attached = backend_test_session_new ("python", "container-id", llmsbx_sandbox_session_get_container_id (owner),
                                       "default-timeout", 0.0, NULL);
  llmsbx_sandbox_session_open (attached, NULL, &error);
  g_assert_no_error (error);
  run.session = attached;
  thread = start_endless_run (&run);

  llmsbx_sandbox_session_close (attached, NULL, &error);
  g_assert_no_error (error);
  g_thread_join (thread);
  g_assert_error (run.error, LLMSBX_ERROR, LLMSBX_ERROR_NOT_OPEN);
  g_clear_error (&run.error);

  left = code_processes (owner);
  g_assert_cmpstr (left, ==, "");
  sleepers = g_strstrip (test_sh (owner, "for d in /proc/[0-9]*; do tr '\\0' ' ' < $d/cmdline; echo; done "
                                         "| grep -c '^sleep 1000' || true"));
  g_assert_cmpstr (sleepers, ==, "0");
  test_close (owner);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
  backend_test_prepare ();
  test_run_id ();

  test_add_isolated ("/lifetime/close-cancels-run", test_close_cancels_run);
  test_add_isolated ("/lifetime/close-kills-run-in-attached-sandbox", test_close_kills_run_in_attached_sandbox);
  /* Not isolated: its body runs the killed client in a subprocess itself. */
  g_test_add_func ("/lifetime/sandbox-ends-without-client", test_sandbox_ends_without_client);
  g_test_add_func ("/lifetime/sandbox-ends-without-client/child", test_killed_client_child);

  return g_test_run ();
}
