/* test-bubblewrap-default.c: bubblewrap is the backend a session gets when no engine answers.
 *
 * The shared dockerd and Podman service are not stopped (other tests use
 * them): this program points the engine backends at sockets that do not
 * exist, through DOCKER_HOST and CONTAINER_HOST, for itself and its children
 * only, so their probes fail as on a machine without them. Then a session
 * that names no backend, and `llmsbx run -c 'print(6*7)'`, get bubblewrap,
 * and what the issue asks of a machine without daemons holds: Python and C++
 * hello worlds run, a 2 s timeout kills a busy loop, a fork bomb under
 * pids_limit and a memory bomb under mem_limit are contained, the sandbox
 * is confined (Seccomp: 2, NoNewPrivs: 1, only loopback), and nothing is
 * left. Where user namespaces are disabled, the error names the sysctl: a
 * user namespace of the test's own whose user.max_user_namespaces is 0 (a
 * per-namespace limit) shows it without changing the host. Bodies run in
 * subprocesses whose sandboxes carry this run's label (isolated-test.h),
 * which the parent removes whatever happens. */
#include <string.h>

#include "bubblewrap-test.h"
#include "isolated-test.h"

#define NO_SOCKET_DIR "/nonexistent/llmsbx-test-no-engine"

/* A session that names no backend, with this run's label and @members. */
static LlmsbxSandboxSession *
open_default_session (const char *lang,
                      const char *members)
{
  g_autoptr(LlmsbxSandboxSession) session = g_object_new (LLMSBX_TYPE_SANDBOX_SESSION, "lang", lang, NULL);
  g_autofree char *configs = test_configs (members);
  g_autoptr(GError) error = NULL;

  g_assert_null (llmsbx_sandbox_session_get_backend (session));
  llmsbx_sandbox_session_set_runtime_configs_json (session, configs, &error);
  g_assert_no_error (error);
  llmsbx_sandbox_session_open (session, NULL, &error);
  g_assert_no_error (error);
  /* While open, the property reads as the registry's choice. */
  g_assert_cmpstr (llmsbx_sandbox_session_get_backend (session), ==, "bubblewrap");
  return g_steal_pointer (&session);
}

/* Closes @session and checks that nothing of its sandbox is left: no
 * directory, no cgroup, no process (backend_test_assert_container_gone()). */
static void
close_leaving_nothing (LlmsbxSandboxSession *session)
{
  g_autofree char *id = g_strdup (llmsbx_sandbox_session_get_container_id (session));
  g_autoptr(GError) error = NULL;

  g_assert_nonnull (id);
  llmsbx_sandbox_session_close (session, NULL, &error);
  g_assert_no_error (error);
  g_assert_null (llmsbx_sandbox_session_get_backend (session));
  backend_test_assert_container_gone (id);
}

static LlmsbxExecutionResult *
run_code (LlmsbxSandboxSession *session,
          const char           *code,
          double                timeout)
{
  g_autoptr(GError) error = NULL;
  LlmsbxExecutionResult *result = llmsbx_sandbox_session_run (session, code, NULL, timeout, NULL, &error);

  g_assert_no_error (error);
  return result;
}

static gboolean
has_line (const char *text,
          const char *line)
{
  g_auto(GStrv) lines = g_strsplit (text, "\n", -1);

  return g_strv_contains ((const char * const *) lines, line);
}

/* ---------------------------------------------------------------------------
 * The choice
 * ------------------------------------------------------------------------ */

/* The engines' probes fail here, naming where they looked, and the registry
 * takes the marginal backend that answers. */
static void
test_chosen (void)
{
  LlmsbxRegistry *registry = llmsbx_registry_get_default ();
  const char *engines[] = { "docker", "podman" };
  g_autoptr(GError) error = NULL;
  g_autofree char *chosen = NULL;

  for (gsize i = 0; i < G_N_ELEMENTS (engines); i++)
    {
      g_autoptr(LlmsbxBackend) engine = llmsbx_registry_create_backend (registry, engines[i], &error);

      g_assert_no_error (error);
      g_assert_false (llmsbx_backend_probe (engine, NULL, &error));
      g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_BACKEND_UNAVAILABLE);
      g_assert_nonnull (strstr (error->message, NO_SOCKET_DIR));
      g_clear_error (&error);
    }

  g_assert_cmpuint (llmsbx_registry_get_backend_rank (registry, "bubblewrap"), ==, LLMSBX_RANK_MARGINAL);
  chosen = llmsbx_registry_get_default_backend_name (registry, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (chosen, ==, "bubblewrap");
}

/* The README's first command, as a program: it prints 42, and says (in its
 * debug log) that it chose bubblewrap. */
static void
test_cli_run (void)
{
  const char *cli = g_getenv ("LLMSBX_CLI");
  g_autoptr(GSubprocessLauncher) launcher =
    g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autofree char *labels = g_strdup_printf ("{\"labels\": {\"" TEST_RUN_LABEL "\": \"%s\"}}", test_run_id ());

  g_assert_nonnull (cli);
  g_subprocess_launcher_setenv (launcher, "G_MESSAGES_DEBUG", "Llmsbx", TRUE);
  process = g_subprocess_launcher_spawn (launcher, &error, cli, "run", "--runtime-configs", labels,
                                         "-c", "print(6*7)", NULL);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (process, NULL, NULL, &out, &err, &error);
  g_assert_no_error (error);
  g_test_message ("llmsbx run: stdout %s, stderr %s", out, err);
  g_assert_true (g_subprocess_get_if_exited (process));
  g_assert_cmpint (g_subprocess_get_exit_status (process), ==, 0);
  /* GLib's log writer may put debug lines on stdout too; the code's is "42". */
  g_assert_true (has_line (out, "42"));
  g_assert_true (strstr (out, "Default backend: bubblewrap") != NULL ||
                 strstr (err, "Default backend: bubblewrap") != NULL);
}

/* ---------------------------------------------------------------------------
 * What a machine without daemons runs
 * ------------------------------------------------------------------------ */

static void
test_hello_worlds (void)
{
  g_autoptr(LlmsbxSandboxSession) python = open_default_session ("python", "");
  g_autoptr(LlmsbxSandboxSession) cpp = NULL;
  g_autoptr(LlmsbxExecutionResult) said = run_code (python, "print('Hello, World!')", 0);
  g_autoptr(LlmsbxExecutionResult) compiled = NULL;

  g_assert_cmpint (llmsbx_execution_result_get_exit_code (said), ==, 0);
  g_assert_cmpstr (llmsbx_execution_result_get_stdout (said), ==, "Hello, World!\n");
  close_leaving_nothing (python);

  cpp = open_default_session ("cpp", "");
  compiled = run_code (cpp,
                       "#include <iostream>\n"
                       "int main () { std::cout << \"Hello, World!\" << std::endl; return 0; }\n", 0);
  g_assert_cmpint (llmsbx_execution_result_get_exit_code (compiled), ==, 0);
  g_assert_cmpstr (llmsbx_execution_result_get_stdout (compiled), ==, "Hello, World!\n");
  close_leaving_nothing (cpp);
}

/* A 2 s timeout kills a busy loop, and the session runs the next code. */
static void
test_timeout (void)
{
  g_autoptr(LlmsbxSandboxSession) session = open_default_session ("python", "");
  g_autoptr(LlmsbxExecutionResult) result = NULL;
  g_autoptr(LlmsbxExecutionResult) after = NULL;
  g_autoptr(LlmsbxExecutionResult) left = NULL;
  g_autoptr(GError) error = NULL;

  result = llmsbx_sandbox_session_run (session, "while True:\n    pass\n", NULL, 2.0, NULL, &error);
  g_assert_null (result);
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_TIMEOUT);
  g_assert_cmpstr (error->message, ==, "Execution timed out after 2 seconds");
  g_assert_true (llmsbx_sandbox_session_get_is_open (session));

  /* Nothing of the loop runs on: only this probe's own processes are there. */
  left = run_code (session,
                   "import os\n"
                   "me = {os.getpid(), os.getppid()}\n"
                   "print([p for p in os.listdir('/proc') if p.isdigit() and int(p) not in me and int(p) > 2 and\n"
                   "       b'while True' in open('/proc/%s/cmdline' % p, 'rb').read()])\n", 0);
  g_assert_cmpstr (llmsbx_execution_result_get_stdout (left), ==, "[]\n");
  after = run_code (session, "print('next')", 0);
  g_assert_cmpstr (llmsbx_execution_result_get_stdout (after), ==, "next\n");
  close_leaving_nothing (session);
}

/* A fork bomb under pids_limit: the sandbox's process count stays at the
 * limit, the timeout ends the bomb, and the session forks again. */
static void
test_fork_bomb (void)
{
  g_autoptr(LlmsbxSandboxSession) session = open_default_session ("python", "\"pids_limit\": 64");
  g_autoptr(LlmsbxExecutionResult) result = NULL;
  g_autoptr(LlmsbxExecutionResult) after = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *max = test_sh (session, "cat /sys/fs/cgroup/pids/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids.max");
  g_autofree char *current = NULL;

  g_assert_cmpstr (max, ==, "64\n");
  result = llmsbx_sandbox_session_run (session,
                                       "import os, time\n"
                                       "while True:\n"
                                       "    try:\n"
                                       "        os.fork()\n"
                                       "    except OSError:\n"
                                       "        time.sleep(0.01)\n",
                                       NULL, 5.0, NULL, &error);
  g_assert_null (result);
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_TIMEOUT);
  g_assert_true (llmsbx_sandbox_session_get_is_open (session));

  current = test_sh (session, "cat /sys/fs/cgroup/pids/pids.current 2>/dev/null || cat /sys/fs/cgroup/pids.current");
  g_assert_cmpuint (g_ascii_strtoull (current, NULL, 10), <, 16);
  after = run_code (session, "import os; os.fork() or print('forks again')", 0);
  g_assert_cmpstr (llmsbx_execution_result_get_stdout (after), ==, "forks again\n");
  close_leaving_nothing (session);
}

/* A memory bomb under mem_limit is killed by the kernel, and the result
 * says so; the session goes on. */
static void
test_memory_bomb (void)
{
  g_autoptr(LlmsbxSandboxSession) session = open_default_session ("python", "\"mem_limit\": \"128m\", "
                                                                            "\"memswap_limit\": \"128m\"");
  g_autoptr(LlmsbxExecutionResult) bomb = NULL;
  g_autoptr(LlmsbxExecutionResult) after = NULL;

  bomb = run_code (session,
                   "chunks = []\n"
                   "while True:\n"
                   "    chunks.append(b'x' * (1 << 20))\n", 0);
  g_assert_cmpint (llmsbx_execution_result_get_exit_code (bomb), ==, 137);
  g_assert_true (llmsbx_execution_result_get_oom_killed (bomb));
  after = run_code (session, "print('still here')", 0);
  g_assert_cmpstr (llmsbx_execution_result_get_stdout (after), ==, "still here\n");
  close_leaving_nothing (session);
}

/* The confinement the issue names, read in the sandbox: a seccomp filter
 * (mode 2), no_new_privs, and no network interface but loopback, as
 * sysfs, /proc and the kernel's netlink list (which `ip link` prints, and
 * socket.if_nameindex() asks for; the image has no iproute2) show it. */
static void
test_confined (void)
{
  g_autoptr(LlmsbxSandboxSession) session = open_default_session ("python", "");
  g_autofree char *status = test_sh (session, "grep -E '^(Seccomp|NoNewPrivs):' /proc/self/status | tr -s '\t ' ' '");
  g_autofree char *sysfs = test_sh (session, "ls /sys/class/net");
  g_autofree char *proc_net = test_sh (session, "tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' '");
  g_autoptr(LlmsbxExecutionResult) links = run_code (session,
                                                     "import socket\n"
                                                     "print([n for _, n in socket.if_nameindex()])\n", 0);

  g_assert_cmpstr (status, ==, "NoNewPrivs: 1\nSeccomp: 2\n");
  g_assert_cmpstr (sysfs, ==, "lo\n");
  g_assert_cmpstr (proc_net, ==, "lo\n");
  g_assert_cmpstr (llmsbx_execution_result_get_stdout (links), ==, "['lo']\n");
  close_leaving_nothing (session);
}

/* Runs @argv in a user namespace of its own (root in it, mapped to this
 * user) where user.max_user_namespaces is 0: no user namespace can be made
 * in it, as on a host with the sysctl at 0, and nothing outside changes. */
static GSubprocess *
spawn_without_user_namespaces (const char * const  *argv,
                               GError             **error)
{
  g_autoptr(GPtrArray) full = g_ptr_array_new ();

  g_ptr_array_add (full, (gpointer) "unshare");
  g_ptr_array_add (full, (gpointer) "--user");
  g_ptr_array_add (full, (gpointer) "--map-root-user");
  g_ptr_array_add (full, (gpointer) "--");
  g_ptr_array_add (full, (gpointer) "sh");
  g_ptr_array_add (full, (gpointer) "-c");
  g_ptr_array_add (full, (gpointer) "echo 0 > /proc/sys/user/max_user_namespaces && exec \"$@\"");
  g_ptr_array_add (full, (gpointer) "sh");
  for (guint i = 0; argv[i] != NULL; i++)
    g_ptr_array_add (full, (gpointer) argv[i]);
  g_ptr_array_add (full, NULL);
  return g_subprocess_newv ((const char * const *) full->pdata,
                            G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE, error);
}

/* With user namespaces disabled, the probe, a session that names no backend
 * and `llmsbx run` all say which sysctl is in the way. */
static void
test_user_namespaces_disabled (void)
{
  if (g_test_subprocess ())
    {
      LlmsbxRegistry *registry = llmsbx_registry_get_default ();
      g_autoptr(LlmsbxBackend) backend = NULL;
      g_autoptr(LlmsbxSandboxSession) session = NULL;
      g_autoptr(GError) error = NULL;
      g_autofree char *limit = NULL;

      g_file_get_contents ("/proc/sys/user/max_user_namespaces", &limit, NULL, &error);
      g_assert_no_error (error);
      g_assert_cmpstr (limit, ==, "0\n");

      backend = llmsbx_registry_create_backend (registry, "bubblewrap", &error);
      g_assert_no_error (error);
      g_assert_false (llmsbx_backend_probe (backend, NULL, &error));
      g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_BACKEND_UNAVAILABLE);
      g_assert_nonnull (strstr (error->message, "sysctl user.max_user_namespaces"));
      g_clear_error (&error);

      /* No engine and no bubblewrap: nothing to choose, and the reason given. */
      session = g_object_new (LLMSBX_TYPE_SANDBOX_SESSION, "lang", "python", NULL);
      g_assert_false (llmsbx_sandbox_session_open (session, NULL, &error));
      g_test_message ("%s", error->message);
      g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_BACKEND_UNAVAILABLE);
      g_assert_nonnull (strstr (error->message, "sysctl user.max_user_namespaces"));
      return;
    }

  {
    g_autofree char *self = g_strdup_printf ("/proc/%d/exe", getpid ());
    g_autofree char *program = g_file_read_link (self, NULL);
    const char *body[] = { program, "-q", "-p", "/bubblewrap-default/user-namespaces-disabled",
                           "--GTestSubprocess", NULL };
    const char *cli[] = { g_getenv ("LLMSBX_CLI"), "run", "-c", "print(6*7)", NULL };
    g_autoptr(GSubprocess) child = NULL;
    g_autoptr(GError) error = NULL;
    g_autofree char *out = NULL;
    g_autofree char *err = NULL;

    child = spawn_without_user_namespaces (body, &error);
    g_assert_no_error (error);
    g_subprocess_communicate_utf8 (child, NULL, NULL, &out, &err, &error);
    g_assert_no_error (error);
    g_test_message ("body: %s%s", out, err);
    g_assert_true (g_subprocess_get_successful (child));
    g_clear_object (&child);
    g_clear_pointer (&out, g_free);
    g_clear_pointer (&err, g_free);

    g_assert_nonnull (cli[0]);
    child = spawn_without_user_namespaces (cli, &error);
    g_assert_no_error (error);
    g_subprocess_communicate_utf8 (child, NULL, NULL, &out, &err, &error);
    g_assert_no_error (error);
    g_test_message ("llmsbx run: stdout %s, stderr %s", out, err);
    g_assert_true (g_subprocess_get_if_exited (child));
    g_assert_cmpint (g_subprocess_get_exit_status (child), !=, 0);
    g_assert_false (has_line (out, "42"));
    g_assert_nonnull (strstr (err, "sysctl user.max_user_namespaces"));
  }
}

/* After all of that, no sandbox of this run is in the store (each body
 * checked its own for directories, cgroups and processes as it closed). */
static void
test_nothing_left (void)
{
  g_autofree char *filter = test_run_filter ();
  g_autofree char *sandboxes = bubblewrap_test_ps (filter);

  g_assert_cmpstr (sandboxes, ==, "");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
  /* No engine, for this process and its children alone. */
  g_setenv ("DOCKER_HOST", "unix://" NO_SOCKET_DIR "/docker.sock", TRUE);
  g_setenv ("CONTAINER_HOST", "unix://" NO_SOCKET_DIR "/podman.sock", TRUE);
  g_unsetenv ("LLMSBX_BACKEND");
  g_setenv ("LLMSBX_TEST_BACKEND", "bubblewrap", TRUE);
  test_run_id ();

  test_add_isolated ("/bubblewrap-default/chosen", test_chosen);
  test_add_isolated ("/bubblewrap-default/cli-run", test_cli_run);
  test_add_isolated ("/bubblewrap-default/hello-worlds", test_hello_worlds);
  test_add_isolated ("/bubblewrap-default/timeout", test_timeout);
  test_add_isolated ("/bubblewrap-default/fork-bomb", test_fork_bomb);
  test_add_isolated ("/bubblewrap-default/memory-bomb", test_memory_bomb);
  test_add_isolated ("/bubblewrap-default/confined", test_confined);
  g_test_add_func ("/bubblewrap-default/user-namespaces-disabled", test_user_namespaces_disabled);
  g_test_add_func ("/bubblewrap-default/nothing-left", test_nothing_left);

  return g_test_run ();
}
