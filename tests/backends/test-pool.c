/* test-pool.c: a pool's sandboxes between two users, on a real backend.
 *
 * The first user leaves a file in the workdir, plots (matplotlib's, through
 * an artifact session, and a file in llm-sandbox's plot directory),
 * background processes (one with a scrubbed environment, in a session of its
 * own) and changes to the environment (a login profile, the process's own
 * variables); the second sees none of them, whether the pool reset the
 * sandbox or destroyed it. A user who leaves only scratch files gets the same
 * sandbox back, reset. close() waits for a busy user until its deadline,
 * then kills. */
#include <string.h>

#include <glib/gstdio.h>

#include "isolated-test.h"

/* A read-only root with a tmpfs /tmp: what the users cannot change but
 * scratch files (the workdir is writable too). */
#define READ_ONLY_ROOT "\"read_only\": true, \"tmpfs\": {\"/tmp\": \"size=64m\"}"

/* A pool of at most one Python sandbox of this backend, labelled for this
 * run, with the runtime configs @members. */
static LlmsbxSandboxPool *
new_pool_closing_in (const char *members,
                     double      close_timeout)
{
  g_autoptr(LlmsbxSandboxSession) scratch = backend_test_session_new ("python", NULL);
  g_autofree char *configs = test_configs (members);
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) pod_manifest = NULL;
  GVariant *runtime_configs;

  /* The JSON reader of runtime configs is the session's; on Kubernetes the
   * configs are a pod manifest (isolated-test.c), which the pool takes as
   * it is, read-only root and all. */
  test_set_configs_json (scratch, configs, &error);
  g_assert_no_error (error);
  runtime_configs = llmsbx_sandbox_session_get_runtime_configs (scratch);
  g_object_get (scratch, "pod-manifest", &pod_manifest, NULL);
  return g_object_new (LLMSBX_TYPE_SANDBOX_POOL, "lang", "python", "backend", backend_test_name (),
                       "runtime-configs", runtime_configs, "pod-manifest", pod_manifest, "max-size", 1,
                       "min-size", 1, "acquire-timeout", 120.0, "close-timeout", close_timeout, NULL);
}

static LlmsbxSandboxPool *
new_pool (const char *members)
{
  return new_pool_closing_in (members, 30.0);
}

static LlmsbxSandboxSession *
take_of_type (LlmsbxSandboxPool *pool,
              GType              type)
{
  g_autoptr(LlmsbxSandboxSession) session = g_object_new (type, "pool", pool, NULL);
  g_autoptr(GError) error = NULL;

  g_assert_true (llmsbx_sandbox_session_open (session, NULL, &error));
  g_assert_no_error (error);
  return g_steal_pointer (&session);
}

static LlmsbxSandboxSession *
take (LlmsbxSandboxPool *pool)
{
  return take_of_type (pool, LLMSBX_TYPE_SANDBOX_SESSION);
}

/* A run of an artifact session: its plots, and its stdout in @out. */
static GPtrArray *
run_plots (LlmsbxSandboxSession  *session,
           const char            *code,
           char                 **out)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(LlmsbxExecutionResult) result = llmsbx_sandbox_session_run (session, code, NULL, 0, NULL, &error);

  g_assert_no_error (error);
  g_assert_cmpint (llmsbx_execution_result_get_exit_code (result), ==, 0);
  *out = g_strdup (llmsbx_execution_result_get_stdout (result));
  return g_ptr_array_ref (llmsbx_execution_result_get_plots (result));
}

/* matplotlib's plots, the way users make them: one shown, one saved into
 * the workdir, one figure left open at the end. */
#define PLOTTING \
  "import matplotlib.pyplot as plt\n" \
  "plt.plot([1, 2, 3])\nplt.show()\n" \
  "plt.plot([3, 2, 1])\nplt.savefig('/sandbox/chart.png')\n" \
  "plt.figure()\nplt.plot([5, 6])\nprint('plotted')\n"

static void
give_back (LlmsbxSandboxSession *session)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (llmsbx_sandbox_session_close (session, NULL, &error));
  g_assert_no_error (error);
}

static guint64
stat_of (LlmsbxSandboxPool *pool,
         const char        *key)
{
  g_autoptr(GVariant) stats = llmsbx_sandbox_pool_get_stats (pool);
  g_autoptr(GVariant) value = g_variant_lookup_value (stats, key, G_VARIANT_TYPE_UINT64);

  g_assert_nonnull (value);
  return g_variant_get_uint64 (value);
}

static void
close_pool (LlmsbxSandboxPool *pool)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *filter = test_run_filter ();
  g_autofree char *left = NULL;

  g_assert_true (llmsbx_sandbox_pool_close (pool, NULL, &error));
  g_assert_no_error (error);
  left = backend_test_ps (filter);
  g_assert_cmpstr (left, ==, "");
}

/* What user two looks at: every command line, the workdir, the plot
 * directory, a login shell's and Python's view of the variable. */
#define LOOK \
  "for f in /proc/[0-9]*/cmdline; do tr '\\0' ' ' < $f 2>/dev/null; echo; done | grep -c 'sleep 60[12]' || true; " \
  "ls -A /sandbox; ls -A /tmp/sandbox_plots 2>/dev/null; " \
  "sh -lc 'echo login:${LLMSBX_LEAK:-unset}'; " \
  "python3 -c 'import os; print(\"python:\" + os.environ.get(\"LLMSBX_LEAK\", \"unset\"))'"

/* On a read-only root the user's environment can change only in its
 * processes: there is no profile to write to. */
static void
nothing_crosses (const char *members,
                 gboolean    writable_home)
{
  g_autoptr(LlmsbxSandboxPool) pool = new_pool (members);
  g_autoptr(LlmsbxSandboxSession) first = take_of_type (pool, LLMSBX_TYPE_ARTIFACT_SANDBOX_SESSION);
  g_autoptr(LlmsbxSandboxSession) second = NULL;
  g_autoptr(GPtrArray) plots = NULL;
  g_autoptr(GPtrArray) plots_after = NULL;
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  g_autofree char *ran = NULL;
  g_autofree char *plotted = NULL;
  g_autofree char *clean = NULL;

  /* Files, a plot, processes (one without the environment that names the
   * lease, in a session of its own), the environment of login shells. */
  g_free (test_sh (first, "echo secret > /sandbox/left.txt && mkdir -p /tmp/sandbox_plots && "
                          "echo png > /tmp/sandbox_plots/plot_0.png && "
                          "(sleep 601 >/dev/null 2>&1 &) && "
                          "(setsid env -i /bin/sleep 602 >/dev/null 2>&1 &)"));
  if (writable_home)
    g_free (test_sh (first, "echo 'export LLMSBX_LEAK=yes' >> \"$HOME/.profile\""));
  ran = test_run (first, "import os\nos.environ['LLMSBX_LEAK'] = 'yes'\nos.putenv('LLMSBX_LEAK', 'yes')\nprint('set')");
  g_assert_cmpstr (ran, ==, "set\n");
  /* Real plots too: matplotlib's, which the artifact session brings back
   * and leaves in its run directory until the next run. */
  plots = run_plots (first, PLOTTING, &plotted);
  g_assert_cmpstr (plotted, ==, "plotted\n");
  g_assert_cmpuint (plots->len, ==, 3);
  before = test_sh (first, LOOK "; ls -A /sandbox/.llmsbx");
  g_assert_nonnull (strstr (before, "left.txt"));
  g_assert_nonnull (strstr (before, "plot_0.png"));
  g_assert_nonnull (strstr (before, "chart.png"));
  g_assert_nonnull (strstr (before, "run-"));
  if (writable_home)
    g_assert_nonnull (strstr (before, "login:yes"));
  g_assert_true (g_str_has_prefix (before, "2\n"));
  give_back (first);

  second = take_of_type (pool, LLMSBX_TYPE_ARTIFACT_SANDBOX_SESSION);
  after = test_sh (second, LOOK "; ls -A /sandbox/.llmsbx 2>/dev/null; true");
  g_test_message ("the second user sees: %s", after);
  g_assert_true (g_str_has_prefix (after, "0\n"));
  g_assert_null (strstr (after, "left.txt"));
  g_assert_null (strstr (after, "plot_0.png"));
  g_assert_null (strstr (after, "chart.png"));
  g_assert_null (strstr (after, ".llmsbx"));
  g_assert_null (strstr (after, "run-"));
  g_assert_nonnull (strstr (after, "login:unset"));
  g_assert_nonnull (strstr (after, "python:unset"));
  /* A run of the second user brings back its own plots only: none. */
  plots_after = run_plots (second, "import glob\nprint(glob.glob('/sandbox/**/*.png', recursive=True))", &clean);
  g_assert_cmpstr (clean, ==, "[]\n");
  g_assert_cmpuint (plots_after->len, ==, 0);
  give_back (second);
  close_pool (pool);
}

/* Where users cannot write the system (a read-only root), scratch files
 * and processes do not cost the sandbox: it is reset and serves the next
 * user, who sees none of them. */
static void
test_reset_keeps_sandbox (void)
{
  g_autoptr(LlmsbxSandboxPool) pool = new_pool (READ_ONLY_ROOT);
  g_autoptr(LlmsbxSandboxSession) first = take (pool);
  g_autoptr(LlmsbxSandboxSession) second = NULL;
  g_autofree char *first_id = g_strdup (llmsbx_sandbox_session_get_container_id (first));
  g_autofree char *after = NULL;

  g_free (test_sh (first, "echo secret > /sandbox/left.txt && mkdir -p /sandbox/d/e /tmp/sandbox_plots && "
                          "echo png > /tmp/sandbox_plots/plot_0.png && echo t > /tmp/t && (sleep 601 >/dev/null 2>&1 &)"));
  g_free (test_run (first, "open('/sandbox/from_python.txt', 'w').write('x')"));
  give_back (first);

  second = take (pool);
  after = test_sh (second, LOOK "; ls -A /tmp");
  g_test_message ("the second user sees: %s", after);
  g_assert_cmpstr (llmsbx_sandbox_session_get_container_id (second), ==, first_id);
  g_assert_cmpuint (stat_of (pool, "resets"), ==, 1);
  g_assert_true (g_str_has_prefix (after, "0\n"));
  g_assert_null (strstr (after, "left.txt"));
  g_assert_null (strstr (after, "from_python"));
  g_assert_null (strstr (after, "plot_0.png"));
  g_assert_null (strstr (after, "sandbox_plots"));
  g_assert_null (strstr (after, "\nt\n"));
  give_back (second);
  close_pool (pool);
}

/* A user of an artifact session who copies files in and out and plots
 * leaves nothing the reset cannot vouch for: on Docker each of those archive
 * requests renews the ctime of the /etc/resolv.conf, /etc/hosts and
 * /etc/hostname the engine mounts, which the reset tells from a user's change
 * by their content. The sandbox is reset and serves the next user. */
static void
test_copies_and_plots_keep_sandbox (void)
{
  g_autoptr(LlmsbxSandboxPool) pool = new_pool (READ_ONLY_ROOT);
  g_autoptr(LlmsbxSandboxSession) first = take_of_type (pool, LLMSBX_TYPE_ARTIFACT_SANDBOX_SESSION);
  g_autoptr(LlmsbxSandboxSession) second = NULL;
  g_autofree char *first_id = g_strdup (llmsbx_sandbox_session_get_container_id (first));
  g_autofree char *dir = g_dir_make_tmp ("test-pool-XXXXXX", NULL);
  g_autofree char *in = g_build_filename (dir, "in.txt", NULL);
  g_autofree char *back = g_build_filename (dir, "back.txt", NULL);
  g_autofree char *content = NULL;
  g_autofree char *plotted = NULL;
  g_autofree char *after = NULL;
  g_autoptr(GPtrArray) plots = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_true (g_file_set_contents (in, "copied in\n", -1, &error));
  g_assert_true (llmsbx_sandbox_session_copy_to_runtime (first, in, "/sandbox/in.txt", NULL, &error));
  g_assert_no_error (error);
  g_assert_true (llmsbx_sandbox_session_copy_from_runtime (first, "/sandbox/in.txt", back, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (g_file_get_contents (back, &content, NULL, &error));
  g_assert_cmpstr (content, ==, "copied in\n");
  plots = run_plots (first, PLOTTING, &plotted);
  g_assert_cmpstr (plotted, ==, "plotted\n");
  g_assert_cmpuint (plots->len, ==, 3);
  give_back (first);

  second = take_of_type (pool, LLMSBX_TYPE_ARTIFACT_SANDBOX_SESSION);
  g_assert_cmpstr (llmsbx_sandbox_session_get_container_id (second), ==, first_id);
  g_assert_cmpuint (stat_of (pool, "resets"), ==, 1);
  g_assert_cmpuint (stat_of (pool, "reset-refusals"), ==, 0);
  after = test_sh (second, "ls -A /sandbox; true");
  g_assert_null (strstr (after, "in.txt"));
  g_assert_null (strstr (after, "chart.png"));
  give_back (second);
  close_pool (pool);
  g_unlink (in);
  g_unlink (back);
  g_rmdir (dir);
}

/* The engine's files are let through on their content only: a user who can
 * rewrite /etc/hosts (root, where it is mounted writable) to send the next
 * user elsewhere costs the sandbox. The engines mount theirs read-only on a
 * read-only root, so where a volume can be mounted there (not Kubernetes,
 * whose test pods take no volumes) the test mounts a writable hosts file of
 * its own: a reset that let /etc/hosts through by name would hand the
 * rewritten file to the next user in the same sandbox (checked by making
 * the reset do so: this test failed). The file is the test's, so a new
 * sandbox mounts it rewritten too: only the sandbox's fate is asserted. */
static void
test_rewritten_hosts_is_destroyed (void)
{
  gboolean writable = !g_str_equal (backend_test_name (), "kubernetes");
  g_autofree char *dir = g_dir_make_tmp ("test-pool-XXXXXX", NULL);
  g_autofree char *hosts = g_build_filename (dir, "hosts", NULL);
  g_autofree char *members = NULL;
  g_autoptr(LlmsbxSandboxPool) pool = NULL;
  g_autoptr(LlmsbxSandboxSession) first = NULL;
  g_autoptr(LlmsbxSandboxSession) second = NULL;
  g_autofree char *first_id = NULL;
  g_autofree char *original = NULL;
  g_autofree char *wrote = NULL;
  g_autofree char *after = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_true (g_file_set_contents (hosts, "127.0.0.1\tlocalhost\n::1\tlocalhost\n", -1, &error));
  g_assert_no_error (error);
  g_assert_cmpint (g_chmod (dir, 0755), ==, 0);
  g_assert_cmpint (g_chmod (hosts, 0666), ==, 0);
  members = writable ? g_strdup_printf (READ_ONLY_ROOT ", \"volumes\": {\"%s\": {\"bind\": \"/etc/hosts\", "
                                        "\"mode\": \"rw\"}}", hosts)
                     : g_strdup (READ_ONLY_ROOT);
  pool = new_pool (members);
  first = take (pool);
  first_id = g_strdup (llmsbx_sandbox_session_get_container_id (first));
  original = test_sh (first, "cat /etc/hosts");
  g_assert_nonnull (strstr (original, "localhost"));
  g_assert_null (strstr (original, "llmsbx-evil"));
  /* In place, keeping the size, mode and owner: only the content differs. */
  wrote = test_sh (first, "h=$(sed 's/localhost/llmsbx-evil/' /etc/hosts) && printf '%s\\n' \"$h\" > /etc/hosts "
                          "2>/dev/null && echo wrote || echo refused");
  g_test_message ("rewriting /etc/hosts: %s", wrote);
  g_assert_cmpstr (wrote, ==, writable ? "wrote\n" : "refused\n");
  give_back (first);

  second = take (pool);
  after = test_sh (second, "cat /etc/hosts");
  if (writable)
    {
      /* The same file, rewritten: the sandbox had to go. */
      g_assert_cmpstr (llmsbx_sandbox_session_get_container_id (second), !=, first_id);
      g_assert_cmpuint (stat_of (pool, "reset-refusals"), ==, 1);
      g_assert_cmpuint (stat_of (pool, "resets"), ==, 0);
    }
  else
    {
      g_assert_null (strstr (after, "llmsbx-evil"));
      g_assert_cmpstr (after, ==, original);
    }
  give_back (second);
  close_pool (pool);
  g_unlink (hosts);
  g_rmdir (dir);
}

/* A user who can write where the reset's tools live (root on a writable
 * root filesystem) could make the reset blind, here by a `find` that finds
 * nothing first in PATH: such a sandbox is destroyed, never reset. */
static void
test_writable_root_is_destroyed (void)
{
  g_autoptr(LlmsbxSandboxPool) pool = new_pool ("");
  g_autoptr(LlmsbxSandboxSession) first = take (pool);
  g_autoptr(LlmsbxSandboxSession) second = NULL;
  g_autofree char *first_id = g_strdup (llmsbx_sandbox_session_get_container_id (first));
  g_autofree char *after = NULL;

  g_free (test_sh (first, "printf '#!/bin/sh\\nexit 0\\n' > /usr/local/bin/find && chmod +x /usr/local/bin/find && "
                          "echo secret > /sandbox/left.txt && echo leak > /etc/llmsbx-leak"));
  give_back (first);

  second = take (pool);
  after = test_sh (second, "ls -A /sandbox /usr/local/bin; cat /etc/llmsbx-leak 2>/dev/null; true");
  g_assert_cmpstr (llmsbx_sandbox_session_get_container_id (second), !=, first_id);
  g_assert_cmpuint (stat_of (pool, "reset-refusals"), ==, 1);
  g_assert_null (strstr (after, "left.txt"));
  g_assert_null (strstr (after, "find"));
  g_assert_null (strstr (after, "leak"));
  give_back (second);
  close_pool (pool);
}

/* A run in another thread, of a user who does not give the sandbox back. */
typedef struct {
  LlmsbxSandboxSession  *session;
  const char            *code;
  LlmsbxExecutionResult *result;
  GError                *error;
  gboolean               give_back;
} BusyUser;

static gpointer
busy_user (gpointer data)
{
  BusyUser *user = data;

  user->result = llmsbx_sandbox_session_run (user->session, user->code, NULL, 0, NULL, &user->error);
  if (user->give_back)
    give_back (user->session);
  return NULL;
}

/* close() waits for a busy sandbox until close-timeout: one given back in
 * time is removed with the pool, and close() succeeds. */
static void
test_close_waits_for_busy (void)
{
  g_autoptr(LlmsbxSandboxPool) pool = new_pool_closing_in (READ_ONLY_ROOT, 120.0);
  g_autoptr(LlmsbxSandboxSession) user = take (pool);
  g_autofree char *id = g_strdup (llmsbx_sandbox_session_get_container_id (user));
  BusyUser busy = { user, "import time\ntime.sleep(3)\nprint('finished')", NULL, NULL, TRUE };
  g_autoptr(GThread) thread = g_thread_new ("busy-user", busy_user, &busy);
  g_autoptr(GError) error = NULL;

  g_usleep (G_USEC_PER_SEC);
  g_assert_true (llmsbx_sandbox_pool_close (pool, NULL, &error));
  g_assert_no_error (error);
  g_thread_join (g_steal_pointer (&thread));
  g_assert_no_error (busy.error);
  g_assert_cmpstr (llmsbx_execution_result_get_stdout (busy.result), ==, "finished\n");
  g_clear_object (&busy.result);
  backend_test_assert_container_gone (id);
  g_assert_cmpuint (stat_of (pool, "killed-at-close"), ==, 0);
}

/* One still busy at close-timeout is killed: its sandbox goes at once,
 * the run in progress fails instead of running on, and close() says so. */
static void
test_close_kills_busy (void)
{
  g_autoptr(LlmsbxSandboxPool) pool = new_pool_closing_in (READ_ONLY_ROOT, 2.0);
  g_autoptr(LlmsbxSandboxSession) user = take (pool);
  g_autofree char *id = g_strdup (llmsbx_sandbox_session_get_container_id (user));
  BusyUser busy = { user, "import time\ntime.sleep(600)", NULL, NULL, FALSE };
  g_autoptr(GThread) thread = g_thread_new ("busy-user", busy_user, &busy);
  g_autoptr(GError) error = NULL;
  gint64 started, took;

  g_usleep (G_USEC_PER_SEC);
  started = g_get_monotonic_time ();
  g_assert_false (llmsbx_sandbox_pool_close (pool, NULL, &error));
  took = g_get_monotonic_time () - started;
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_TIMEOUT);
  g_assert_cmpint (took, >=, 2 * G_USEC_PER_SEC);
  g_assert_cmpint (took, <, 120 * G_USEC_PER_SEC);
  backend_test_assert_container_gone (id);
  g_assert_cmpuint (stat_of (pool, "killed-at-close"), ==, 1);

  g_thread_join (g_steal_pointer (&thread));
  g_assert_null (busy.result);
  g_assert_nonnull (busy.error);
  g_test_message ("the killed run: %s", busy.error->message);
  g_clear_error (&busy.error);
  llmsbx_sandbox_session_close (user, NULL, NULL);
}

/* As root on a writable root (destroyed), and on a read-only one (reset). */
static void
test_nothing_crosses (void)
{
  nothing_crosses ("", TRUE);
}

static void
test_nothing_crosses_read_only (void)
{
  nothing_crosses (READ_ONLY_ROOT, FALSE);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
  backend_test_prepare ();

  test_add_isolated ("/pool/nothing-crosses", test_nothing_crosses);
  test_add_isolated ("/pool/read-only-root/nothing-crosses", test_nothing_crosses_read_only);
  test_add_isolated ("/pool/writable-root-is-destroyed", test_writable_root_is_destroyed);
  test_add_isolated ("/pool/read-only-root/reset-keeps-sandbox", test_reset_keeps_sandbox);
  test_add_isolated ("/pool/read-only-root/copies-and-plots-keep-sandbox", test_copies_and_plots_keep_sandbox);
  test_add_isolated ("/pool/read-only-root/rewritten-hosts-is-destroyed", test_rewritten_hosts_is_destroyed);
  test_add_isolated ("/pool/close/waits-for-busy", test_close_waits_for_busy);
  test_add_isolated ("/pool/close/kills-busy", test_close_kills_busy);
  return g_test_run ();
}
