/* test-gc.c: `llmsbx gc` on the backend under test.
 *
 * A client opens a sandbox and is killed with SIGKILL, so it never closes
 * it; another sandbox belongs to this process, alive. `llmsbx gc` removes
 * the first and leaves the second running and usable.
 *
 * On bubblewrap a SIGKILLed client's sandbox ends by itself: its monitor
 * sees the lifeline close (docs/backends.md). What a dead client leaves
 * there is a sandbox whose monitor was killed too (a crash), so the client
 * kills its monitor before itself; what stays is the sandbox's state, which
 * the next bubblewrap backend to connect removes, and `llmsbx gc` is one.
 * Other programs' backends would remove it too: the test keeps a store of
 * its own (bubblewrap_test_private_store()). On the engines, other reapers
 * (a pool or llmsbx-daemon starting in a parallel test, which remove every
 * dead owner's sandbox) could race it: meson runs it alone. */
#include <signal.h>
#include <string.h>

#include "bubblewrap-test.h"
#include "isolated-test.h"

#define ID_FILE_VARIABLE "LLMSBX_TEST_ID_FILE"

/* `llmsbx gc --backend B --label <this run> ARGS…`: its stdout, its exit
 * status in @status. */
static char *
gc (int        *status,
    const char *arg)
{
  g_autofree char *label = g_strdup_printf ("%s=%s", TEST_RUN_LABEL, test_run_id ());
  const char *cli = g_getenv ("LLMSBX_CLI");
  const char *argv[] = { cli, "gc", "--backend", backend_test_name (), "--label", label, arg, NULL };
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;

  g_assert_nonnull (cli);
  process = g_subprocess_newv (argv, G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE, &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (process, NULL, NULL, &out, &err, &error);
  g_assert_no_error (error);
  if (err != NULL && *err != '\0')
    g_test_message ("llmsbx gc said: %s", err);
  *status = g_subprocess_get_exit_status (process);
  return g_steal_pointer (&out);
}

/* The client: opens a sandbox, says which, and is killed before it can
 * close it (on bubblewrap with its monitor, see above). */
static void
test_killed_owner_child (void)
{
  g_autoptr(LlmsbxSandboxSession) session = NULL;
  g_autoptr(GError) error = NULL;
  const char *id;

  if (!g_test_subprocess ())
    return;
  session = test_open_session ("", NULL);
  id = llmsbx_sandbox_session_get_container_id (session);
  if (backend_test_is_bubblewrap ())
    {
      g_autoptr(GKeyFile) state = bubblewrap_test_state (id);
      gint64 helper = g_key_file_get_int64 (state, "Sandbox", "HelperPid", NULL);
      g_auto(GStrv) processes = bubblewrap_test_sandbox_processes (id);
      g_autofree char *running = NULL;

      g_assert_cmpint (helper, >, 0);
      g_assert_cmpint (kill ((pid_t) helper, SIGKILL), ==, 0);
      /* bwrap dies with its monitor (--die-with-parent), and every process
       * of the sandbox with it; the state stays. */
      running = bubblewrap_test_wait_ended ((const char * const *) processes);
      g_assert_cmpstr (running, ==, "");
    }
  g_file_set_contents (g_getenv (ID_FILE_VARIABLE), id, -1, &error);
  g_assert_no_error (error);
  kill (getpid (), SIGKILL);
}

/* On bubblewrap, a store of this program's own (test_reap() removes it at
 * the end of each test). */
static void
own_store (void)
{
  static gboolean first = TRUE;
  static char *shared;

  if (!backend_test_is_bubblewrap ())
    return;
  /* It links the images of the store the variable names: the shared one,
   * not the last test's private one. */
  if (first)
    shared = g_strdup (g_getenv ("LLMSBX_BUBBLEWRAP_STORE"));
  first = FALSE;
  if (shared != NULL)
    g_setenv ("LLMSBX_BUBBLEWRAP_STORE", shared, TRUE);
  else
    g_unsetenv ("LLMSBX_BUBBLEWRAP_STORE");
  bubblewrap_test_private_store ();
}

/* A sandbox left by a client killed with SIGKILL: its id. */
static char *
orphan_sandbox (void)
{
  g_autofree char *dir = test_host_dir ("llmsbx-gc");
  g_autofree char *id_file = g_build_filename (dir, "id", NULL);
  g_autoptr(GError) error = NULL;
  char *id = NULL;

  g_setenv (ID_FILE_VARIABLE, id_file, TRUE);
  g_test_trap_subprocess ("/gc/removes-dead-keeps-live/child", 120 * G_USEC_PER_SEC,
                          G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_test_trap_assert_failed ();
  g_file_get_contents (id_file, &id, NULL, &error);
  g_assert_no_error (error);
  return id;
}

/* A pool reaps at start, as gc does: the dead owner's sandbox goes, the
 * live one's stays. */
static void
test_pool_reaps_at_start (void)
{
  g_autoptr(LlmsbxSandboxSession) live = NULL;
  g_autofree char *live_id = NULL;
  g_autofree char *dead = NULL;
  g_autofree char *running = NULL;
  g_autoptr(LlmsbxSandboxPool) pool = NULL;
  g_autoptr(GError) error = NULL;

  own_store ();
  live = test_open_session ("", NULL);
  live_id = g_strdup (llmsbx_sandbox_session_get_container_id (live));
  dead = orphan_sandbox ();

  running = backend_test_container_running (dead);
  g_assert_cmpstr (running, !=, "");
  pool = g_object_new (LLMSBX_TYPE_SANDBOX_POOL, "lang", "python", "backend", backend_test_name (),
                       "min-size", 0, "max-size", 1, NULL);
  /* Its start is in the background: the first acquire waits for it. */
  {
    g_autoptr(LlmsbxSandboxSession) user = g_object_new (LLMSBX_TYPE_SANDBOX_SESSION, "pool", pool, NULL);

    g_assert_true (llmsbx_sandbox_session_open (user, NULL, &error));
    g_assert_no_error (error);
    g_assert_true (llmsbx_sandbox_session_close (user, NULL, &error));
    g_assert_no_error (error);
  }
  for (guint i = 0; i < 600 && !g_str_equal (running, ""); i++)
    {
      g_usleep (100 * 1000);
      g_free (running);
      running = backend_test_container_running (dead);
    }
  backend_test_assert_container_gone (dead);
  g_free (running);
  running = backend_test_container_running (live_id);
  g_assert_cmpstr (running, ==, "true");
  g_assert_true (llmsbx_sandbox_pool_close (pool, NULL, &error));
  g_assert_no_error (error);
  test_close (live);
  test_reap ();
}

static void
test_removes_dead_keeps_live (void)
{
  g_autoptr(LlmsbxSandboxSession) live = NULL;
  g_autofree char *dead = NULL;
  g_autofree char *live_id = NULL;
  g_autofree char *dead_line = NULL;
  g_autofree char *out = NULL;
  g_autofree char *running = NULL;
  g_autofree char *ran = NULL;
  int status = -1;

  own_store ();
  /* The live one first: on bubblewrap, a process's first connect removes
   * what dead monitors left, and here that is for gc to do. */
  live = test_open_session ("", NULL);
  live_id = g_strdup (llmsbx_sandbox_session_get_container_id (live));
  dead = orphan_sandbox ();

  /* Left behind: still there (on bubblewrap, its state directory). */
  if (backend_test_is_bubblewrap ())
    {
      g_autofree char *sandbox_dir = bubblewrap_test_sandbox_dir (dead);

      g_assert_true (g_file_test (sandbox_dir, G_FILE_TEST_IS_DIR));
    }
  else
    {
      g_autofree char *left = backend_test_container_running (dead);

      g_assert_cmpstr (left, ==, "true");

      /* --dry-run names it and removes nothing. (On bubblewrap, connecting
       * removes a dead monitor's state in any process, gc's too.) */
      out = gc (&status, "--dry-run");
      dead_line = g_strdup_printf ("would remove %s %.12s ", backend_test_name (), dead);
      g_assert_cmpint (status, ==, 0);
      g_assert_nonnull (strstr (out, dead_line));
      g_assert_null (strstr (out, live_id));
      g_free (left);
      left = backend_test_container_running (dead);
      g_assert_cmpstr (left, ==, "true");
      g_clear_pointer (&out, g_free);
      g_clear_pointer (&dead_line, g_free);
    }

  out = gc (&status, NULL);
  g_test_message ("llmsbx gc: %s", out);
  g_assert_cmpint (status, ==, 0);
  if (!backend_test_is_bubblewrap ())
    {
      dead_line = g_strdup_printf ("removed %s %.12s ", backend_test_name (), dead);
      g_assert_nonnull (strstr (out, dead_line));
    }
  g_assert_null (strstr (out, live_id));
  backend_test_assert_container_gone (dead);

  /* The live owner's sandbox runs on, and serves it. */
  running = backend_test_container_running (live_id);
  g_assert_cmpstr (running, ==, "true");
  ran = test_run (live, "print(6 * 7)");
  g_assert_cmpstr (ran, ==, "42\n");

  /* Nothing is left to reap while the owner runs. */
  g_free (out);
  out = gc (&status, NULL);
  g_assert_cmpint (status, ==, 0);
  g_assert_cmpstr (out, ==, "");
  test_close (live);
  test_reap ();
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
  backend_test_prepare ();
  test_run_id ();

  /* Not isolated: its body runs the killed client in a subprocess itself. */
  g_test_add_func ("/gc/removes-dead-keeps-live", test_removes_dead_keeps_live);
  g_test_add_func ("/gc/removes-dead-keeps-live/child", test_killed_owner_child);
  g_test_add_func ("/gc/pool-reaps-at-start", test_pool_reaps_at_start);

  return g_test_run ();
}
