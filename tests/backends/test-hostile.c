/* test-hostile.c: hostile code is contained by the sandbox's limits.
 *
 * A fork bomb under pids_limit, a memory bomb under mem_limit, an output
 * flood, a disk flood in a tmpfs, a busy loop under a CPU quota, and code
 * that kills every process in the sandbox. Each ends with a clear result or
 * error; afterwards the session still works (or, when the sandbox stopped,
 * says so), nothing of the run is left in the sandbox, and after close
 * nothing is left in the engine: the container and the anonymous volumes it
 * had. */
#include "bubblewrap-test.h"
#include "isolated-test.h"

/* ---------------------------------------------------------------------------
 * Helpers
 * ------------------------------------------------------------------------ */

static LlmsbxExecutionResult *
run_result (LlmsbxSandboxSession *session,
            const char           *code,
            double                timeout)
{
  g_autoptr(GError) error = NULL;
  LlmsbxExecutionResult *result = llmsbx_sandbox_session_run (session, code, NULL, timeout, NULL, &error);

  g_assert_no_error (error);
  return result;
}

/* The first existing file of a cgroup v1 / v2 pair, read in the sandbox. */
static char *
cgroup_value (LlmsbxSandboxSession *session,
              const char           *v1_name,
              const char           *v2_name)
{
  g_autofree char *command = g_strdup_printf ("cd /sys/fs/cgroup && if [ -r %s ]; then cat %s; else cat %s; fi",
                                              v1_name, v1_name, v2_name);
  return g_strstrip (test_sh (session, command));
}

/* A "name value" line of a cgroup key-value file such as cpu.stat. */
static guint64
cgroup_stat (LlmsbxSandboxSession *session,
             const char           *v1_name,
             const char           *v2_name,
             const char           *key)
{
  g_autofree char *text = cgroup_value (session, v1_name, v2_name);
  g_auto(GStrv) lines = g_strsplit (text, "\n", -1);

  for (guint i = 0; lines[i] != NULL; i++)
    if (g_str_has_prefix (lines[i], key) && lines[i][strlen (key)] == ' ')
      return g_ascii_strtoull (lines[i] + strlen (key) + 1, NULL, 10);
  g_error ("no %s in %s", key, v1_name);
}

/* Processes in the sandbox still running a code file of the session (all
 * runs write theirs under .llmsbx/code-*), as "pid cmdline" lines. The
 * pattern is put together at run time so that this script's own command
 * line does not match it. */
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

/* Closes the session and checks that its container and volumes are gone. */
static void
close_leaving_nothing (LlmsbxSandboxSession *session,
                       GPtrArray            *volumes)
{
  test_close (session);
  for (guint i = 0; volumes != NULL && i < volumes->len; i++)
    g_assert_false (test_object_exists ("volume", volumes->pdata[i]));
}

static gsize
own_rss_kib (void)
{
  g_autofree char *status = NULL;
  g_autoptr(GError) error = NULL;
  const char *line;

  g_file_get_contents ("/proc/self/status", &status, NULL, &error);
  g_assert_no_error (error);
  line = strstr (status, "\nVmRSS:");
  g_assert_nonnull (line);
  return (gsize) g_ascii_strtoull (line + strlen ("\nVmRSS:"), NULL, 10);
}

/* ---------------------------------------------------------------------------
 * Tests
 * ------------------------------------------------------------------------ */

/* A fork bomb that keeps every process slot taken and retries forever: the
 * timeout kills it although nothing can fork in the sandbox any more, and
 * the session goes on, on every engine (Podman, unlike Docker, fails most
 * execs at the full limit, the kill's own included, until one starts). Five
 * bombs in a row, so that a kill that only got lucky does not pass. */
static void
test_fork_bomb (void)
{
  g_autoptr(LlmsbxSandboxSession) session = NULL;
  g_autofree char *pids_max = NULL;

  session = test_open_session ("\"pids_limit\": 64, \"network_mode\": \"none\"", NULL);
  pids_max = cgroup_value (session, "pids/pids.max", "pids.max");
  g_assert_cmpstr (pids_max, ==, "64");

  for (guint round = 0; round < 5; round++)
    {
      g_autoptr(LlmsbxExecutionResult) result = NULL;
      g_autoptr(GError) error = NULL;
      g_autofree char *left = NULL;
      g_autofree char *current = NULL;
      g_autofree char *after = NULL;

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
      g_assert_cmpstr (error->message, ==, "Execution timed out after 5 seconds");
      g_assert_true (llmsbx_sandbox_session_get_is_open (session));

      /* Every bomb process is gone: the limit is free again and the session works. */
      left = code_processes (session);
      g_assert_cmpstr (left, ==, "");
      current = cgroup_value (session, "pids/pids.current", "pids.current");
      g_assert_cmpuint (g_ascii_strtoull (current, NULL, 10), <, 16);
      after = test_run (session, "import os; os.fork() or print('forks again')");
      g_assert_cmpstr (after, ==, "forks again\n");
    }
  close_leaving_nothing (session, NULL);
}

/* A memory bomb under mem_limit (no swap) is killed by the kernel; the result
 * says so, and a SIGKILL from anyone else is not taken for it. */
static void
test_memory_bomb (void)
{
  g_autoptr(LlmsbxSandboxSession) session = NULL;
  g_autoptr(LlmsbxExecutionResult) bomb = NULL;
  g_autoptr(LlmsbxExecutionResult) killed = NULL;
  g_autoptr(LlmsbxExecutionResult) again = NULL;
  g_autofree char *ok = NULL;

  session = test_open_session ("\"mem_limit\": \"64m\", \"memswap_limit\": \"64m\", \"network_mode\": \"none\"",
                               NULL);

  bomb = run_result (session,
                     "chunks = []\n"
                     "while True:\n"
                     "    chunks.append(b'x' * (1 << 20))\n", 0);
  g_assert_cmpint (llmsbx_execution_result_get_exit_code (bomb), ==, 137);
  g_assert_true (llmsbx_execution_result_get_oom_killed (bomb));
  /* The kernel's own count agrees. */
  g_assert_cmpuint (cgroup_stat (session, "memory/memory.oom_control", "memory.events", "oom_kill"), >=, 1);

  killed = run_result (session, "import os, signal; os.kill(os.getpid(), signal.SIGKILL)", 0);
  g_assert_cmpint (llmsbx_execution_result_get_exit_code (killed), ==, 137);
  g_assert_false (llmsbx_execution_result_get_oom_killed (killed));

  /* A second bomb in the same session is recognised too. */
  again = run_result (session, "x = bytearray(512 << 20)\nx[::4096] = b'y' * len(x[::4096])\n", 0);
  g_assert_cmpint (llmsbx_execution_result_get_exit_code (again), ==, 137);
  g_assert_true (llmsbx_execution_result_get_oom_killed (again));

  ok = test_run (session, "print('still here')");
  g_assert_cmpstr (ok, ==, "still here\n");
  close_leaving_nothing (session, NULL);
}

/* Far more output than the limit, on both streams: kept up to the limit,
 * flagged, and the client's memory does not grow with the flood. */
static void
test_output_flood (void)
{
  g_autoptr(LlmsbxSandboxSession) session = NULL;
  g_autoptr(LlmsbxExecutionResult) flood = NULL;
  g_autofree char *warm = NULL;
  gsize before, after;

  session = test_open_session ("\"network_mode\": \"none\"", "output-limit", (guint64) 1 << 20, NULL);
  warm = test_run (session, "print('warm')");
  before = own_rss_kib ();

  flood = run_result (session,
                      "import os\n"
                      "block = os.urandom(1 << 20)\n"
                      "for _ in range(192):\n"
                      "    os.write(1, block)\n"
                      "for _ in range(64):\n"
                      "    os.write(2, block)\n", 0);
  after = own_rss_kib ();
  g_test_message ("RSS %" G_GSIZE_FORMAT " KiB before, %" G_GSIZE_FORMAT " KiB after 256 MiB of output",
                  before, after);

  g_assert_cmpint (llmsbx_execution_result_get_exit_code (flood), ==, 0);
  g_assert_true (llmsbx_execution_result_get_truncated (flood));
  g_assert_cmpuint (g_bytes_get_size (llmsbx_execution_result_get_stdout_bytes (flood)), ==, 1 << 20);
  g_assert_cmpuint (g_bytes_get_size (llmsbx_execution_result_get_stderr_bytes (flood)), ==, 1 << 20);
  /* Two 1 MiB buffers and their text forms, plus transfer buffers: far below the flood. */
  g_assert_cmpuint (after, <, before + 24 * 1024);
  close_leaving_nothing (session, NULL);
}

/* Filling a size-limited tmpfs fails with ENOSPC inside; nothing else is hurt.
 * The root filesystem is read-only, so the workdir is an anonymous volume,
 * which must go away with the container. */
static void
test_disk_flood_in_tmpfs (void)
{
  g_autoptr(LlmsbxSandboxSession) session = NULL;
  g_autoptr(GPtrArray) volumes = NULL;
  g_autofree char *flood = NULL;
  g_autofree char *after = NULL;

  session = test_open_session ("\"read_only\": true, \"tmpfs\": {\"/scratch\": \"size=8m\"}, "
                               "\"network_mode\": \"none\"", NULL);
  volumes = test_sandbox_volumes (llmsbx_sandbox_session_get_container_id (session));
  g_assert_cmpuint (volumes->len, ==, 1);

  flood = test_run (session,
                    "import errno\n"
                    "written = 0\n"
                    "try:\n"
                    "    with open('/scratch/fill', 'wb') as f:\n"
                    "        while True:\n"
                    "            f.write(b'z' * 65536)\n"
                    "            f.flush()\n"
                    "            written += 65536\n"
                    "except OSError as e:\n"
                    "    print(errno.errorcode[e.errno], written <= 8 << 20)\n");
  g_assert_cmpstr (flood, ==, "ENOSPC True\n");

  /* The session and the rest of the sandbox are fine; space comes back. */
  after = test_run (session,
                    "import os\n"
                    "open('in-workdir.txt', 'w').write('ok')\n"
                    "os.remove('/scratch/fill')\n"
                    "open('/scratch/small', 'w').write('fits again')\n"
                    "print(open('in-workdir.txt').read(), open('/scratch/small').read())\n");
  g_assert_cmpstr (after, ==, "ok fits again\n");
  close_leaving_nothing (session, volumes);
}

/* A busy loop under a fifth of a CPU: throttled by the kernel, ended by the
 * timeout; a small computation still completes under the same quota. */
static void
test_busy_loop_under_cpu_quota (void)
{
  g_autoptr(LlmsbxSandboxSession) session = NULL;
  g_autoptr(LlmsbxExecutionResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *quota = NULL;
  g_autofree char *left = NULL;
  g_autofree char *sum = NULL;

  session = test_open_session ("\"cpu_period\": 100000, \"cpu_quota\": 20000, \"network_mode\": \"none\"", NULL);
  quota = cgroup_value (session, "cpu/cpu.cfs_quota_us", "cpu.max");
  g_assert_true (g_str_equal (quota, "20000") || g_str_equal (quota, "20000 100000"));

  result = llmsbx_sandbox_session_run (session, "while True:\n    pass\n", NULL, 3.0, NULL, &error);
  g_assert_null (result);
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_TIMEOUT);
  g_assert_nonnull (strstr (error->message, "after 3 seconds"));

  /* The kernel held it back: throttled periods were counted. */
  g_assert_cmpuint (cgroup_stat (session, "cpu/cpu.stat", "cpu.stat", "nr_throttled"), >, 0);
  left = code_processes (session);
  g_assert_cmpstr (left, ==, "");

  sum = test_run (session, "print(sum(i * i for i in range(10 ** 5)))");
  g_assert_cmpstr (sum, ==, "333328333350000\n");
  close_leaving_nothing (session, NULL);
}

/* The strict preset's shape: a user without privileges and no capabilities.
 * The timeout still kills the code and what it started. */
static void
test_timeout_as_unprivileged_user (void)
{
  g_autoptr(LlmsbxSandboxSession) session = NULL;
  g_autoptr(LlmsbxExecutionResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *left = NULL;
  g_autofree char *sleepers = NULL;
  g_autofree char *after = NULL;

  session = test_open_session ("\"user\": \"nobody\", \"cap_drop\": [\"ALL\"], "
                               "\"security_opt\": [\"no-new-privileges:true\"], \"network_mode\": \"none\"",
                               NULL);
  result = llmsbx_sandbox_session_run (session,
                                       "import subprocess\n"
                                       "subprocess.Popen(['sleep', '1000'])\n"
                                       "while True:\n"
                                       "    pass\n",
                                       NULL, 2.0, NULL, &error);
  if (result != NULL)
    g_error ("the run gave a result: exit status %d, output '%s%s'", llmsbx_execution_result_get_exit_code (result),
             llmsbx_execution_result_get_stdout (result), llmsbx_execution_result_get_stderr (result));
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_TIMEOUT);
  g_assert_cmpstr (error->message, ==, "Execution timed out after 2 seconds");

  left = code_processes (session);
  g_assert_cmpstr (left, ==, "");
  sleepers = g_strstrip (test_sh (session, "for d in /proc/[0-9]*; do tr '\\0' ' ' < $d/cmdline; echo; done "
                                           "| grep -c '^sleep 1000' || true"));
  g_assert_cmpstr (sleepers, ==, "0");
  after = test_run (session, "print('usable')");
  g_assert_cmpstr (after, ==, "usable\n");
  close_leaving_nothing (session, NULL);
}

/* Code that takes away the shell the kill needs, then loops: it cannot be
 * stopped inside the sandbox, so the session ends, says so, and removes it. */
static void
test_sabotaged_sandbox (void)
{
  g_autoptr(LlmsbxSandboxSession) session = NULL;
  g_autoptr(LlmsbxExecutionResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *id = NULL;

  session = test_open_session ("\"network_mode\": \"none\"", NULL);
  id = g_strdup (llmsbx_sandbox_session_get_container_id (session));
  result = llmsbx_sandbox_session_run (session,
                                       "import os, shutil\n"
                                       "for name in ('sh', 'dash', 'bash'):\n"
                                       "    path = shutil.which(name)\n"
                                       "    if path:\n"
                                       "        os.remove(os.path.realpath(path))\n"
                                       "while True:\n"
                                       "    pass\n",
                                       NULL, 2.0, NULL, &error);
  g_assert_null (result);
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_TIMEOUT);
  g_test_message ("%s", error->message);
  if (backend_test_resident ())
    {
      /* The resident runner kills without a shell: the sandbox stays usable. */
      g_assert_cmpstr (error->message, ==, "Execution timed out after 2 seconds");
      g_assert_true (llmsbx_sandbox_session_get_is_open (session));
      g_clear_error (&error);
      result = llmsbx_sandbox_session_run (session, "print(1)", NULL, 0, NULL, &error);
      g_assert_no_error (error);
      g_assert_cmpstr (llmsbx_execution_result_get_stdout (result), ==, "1\n");
      llmsbx_sandbox_session_close (session, NULL, &error);
      g_assert_no_error (error);
      backend_test_assert_container_gone (id);
      return;
    }
  g_assert_nonnull (strstr (error->message, "Execution timed out after 2 seconds, and its processes could not be stopped"));
  g_assert_nonnull (strstr (error->message, "the sandbox was removed and the session closed"));
  g_assert_false (llmsbx_sandbox_session_get_is_open (session));
  backend_test_assert_container_gone (id);
  g_clear_error (&error);

  g_assert_null (llmsbx_sandbox_session_run (session, "print(1)", NULL, 0, NULL, &error));
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_NOT_OPEN);
}

/* Code that kills every process it can see takes the sandbox's main process
 * with them, and the engine stops the sandbox: that run and the next are
 * errors saying so, never results (the run's own status 137, or the engine's
 * message as Docker's runtime refusing the exec with exit status 126). The
 * code waits to be killed itself, so the next run cannot start in the
 * sandbox before it stops, which would be a real run killed as it stops.
 * Closing still removes the sandbox. */
static void
test_everything_killed (void)
{
  g_autoptr(LlmsbxSandboxSession) session = NULL;
  g_autoptr(LlmsbxExecutionResult) result = NULL;
  g_autoptr(LlmsbxExecutionResult) next = NULL;
  g_autoptr(GError) error = NULL;

  session = test_open_session ("\"network_mode\": \"none\"", NULL);
  result = llmsbx_sandbox_session_run (session, "import os, time\nos.kill(-1, 9)\ntime.sleep(20)\n",
                                       NULL, 0, NULL, &error);
  if (result != NULL)
    g_error ("the run that stopped the sandbox gave a result: exit status %d",
             llmsbx_execution_result_get_exit_code (result));
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_CONTAINER_FAILED);
  g_assert_nonnull (strstr (error->message, "is no longer running"));
  g_clear_error (&error);

  next = llmsbx_sandbox_session_run (session, "print('after')", NULL, 0, NULL, &error);
  if (next != NULL)
    g_error ("the next run gave a result: exit status %d, output '%s%s'",
             llmsbx_execution_result_get_exit_code (next), llmsbx_execution_result_get_stdout (next),
             llmsbx_execution_result_get_stderr (next));
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_CONTAINER_FAILED);
  g_assert_nonnull (strstr (error->message, "is no longer running (its processes were killed or it exited)"));
  close_leaving_nothing (session, NULL);
}

/* Kills the sandbox from outside once the run says it started. */
typedef struct
{
  const char  *id;
  GSubprocess *killer;
} KillFromOutside;

static void
kill_when_started (LlmsbxSandboxSession *session,
                   LlmsbxOutputStream    stream,
                   GBytes               *chunk,
                   gpointer              user_data)
{
  KillFromOutside *kill = user_data;

  if (kill->killer != NULL || stream != LLMSBX_OUTPUT_STREAM_STDOUT)
    return;
  kill->killer = backend_test_kill_container (kill->id);
}

/* `docker kill` (or `podman kill`, or a SIGKILL to a bubblewrap sandbox's
 * first process) during a run: the command dies with
 * status 137 as if it had been killed alone, but the sandbox is gone, so the
 * run is an error, every time, on every engine; never a result. */
static void
test_killed_from_outside (void)
{
  for (guint round = 0; round < 4; round++)
    {
      g_autoptr(LlmsbxSandboxSession) session = NULL;
      g_autoptr(LlmsbxExecutionResult) result = NULL;
      g_autoptr(GError) error = NULL;
      g_autofree char *id = NULL;
      KillFromOutside kill = { NULL, };

      session = test_open_session ("\"network_mode\": \"none\"", NULL);
      id = g_strdup (llmsbx_sandbox_session_get_container_id (session));
      kill.id = id;
      g_signal_connect (session, "output", G_CALLBACK (kill_when_started), &kill);
      result = llmsbx_sandbox_session_run (session, "import time\nprint('started', flush=True)\ntime.sleep(60)\n",
                                           NULL, 30, NULL, &error);
      g_assert_nonnull (kill.killer);
      g_subprocess_wait_check (kill.killer, NULL, NULL);
      g_clear_object (&kill.killer);
      if (result != NULL)
        g_error ("round %u: a sandbox killed from outside gave a result: exit status %d, oom-killed %d",
                 round, llmsbx_execution_result_get_exit_code (result),
                 llmsbx_execution_result_get_oom_killed (result));
      g_test_message ("round %u: %s", round, error->message);
      g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_CONTAINER_FAILED);
      g_assert_nonnull (strstr (error->message, "is no longer running"));
      g_assert_null (strstr (error->message, "out of memory"));
      close_leaving_nothing (session, NULL);
    }
}

/* Code that makes the sandbox's main process the kernel's first choice, then
 * exhausts mem_limit in small processes: the OOM killer ends the whole
 * sandbox. The run fails with CONTAINER_FAILED, and says "out of memory"
 * when the engine recorded it (Docker does, and Kubernetes in the pod's
 * status; Podman 4.3 here reports OOMKilled false; bubblewrap keeps no
 * record of a stopped sandbox). */
static void
test_whole_sandbox_out_of_memory (void)
{
  g_autoptr(LlmsbxSandboxSession) session = NULL;
  g_autoptr(LlmsbxExecutionResult) result = NULL;
  g_autoptr(GError) error = NULL;
  gboolean engine_says_oom;

  session = test_open_session ("\"mem_limit\": \"64m\", \"memswap_limit\": \"64m\", \"network_mode\": \"none\"",
                               NULL);
  result = llmsbx_sandbox_session_run (session,
                                       "import os, time\n"
                                       "open('/proc/1/oom_score_adj', 'w').write('1000')\n"
                                       "for i in range(8):\n"
                                       "    if os.fork() == 0:\n"
                                       "        x = bytearray(12 << 20)\n"
                                       "        x[::4096] = b'y' * len(x[::4096])\n"
                                       "        time.sleep(60)\n"
                                       "        os._exit(0)\n"
                                       "time.sleep(60)\n",
                                       NULL, 30, NULL, &error);
  if (result != NULL)
    g_error ("a sandbox killed for lack of memory gave a result: exit status %d, oom-killed %d",
             llmsbx_execution_result_get_exit_code (result), llmsbx_execution_result_get_oom_killed (result));
  g_test_message ("%s", error->message);
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_CONTAINER_FAILED);

  engine_says_oom = test_sandbox_oom_killed (llmsbx_sandbox_session_get_container_id (session));
  if (g_str_equal (backend_test_name (), "docker") || backend_test_is_kubernetes ())
    g_assert_true (engine_says_oom);
  if (engine_says_oom)
    g_assert_nonnull (strstr (error->message, "out of memory"));
  else
    g_assert_nonnull (strstr (error->message, "is no longer running"));
  close_leaving_nothing (session, NULL);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
  backend_test_prepare ();
  test_run_id ();

  test_add_isolated ("/hostile/fork-bomb", test_fork_bomb);
  test_add_isolated ("/hostile/memory-bomb", test_memory_bomb);
  test_add_isolated ("/hostile/output-flood", test_output_flood);
  test_add_isolated ("/hostile/disk-flood-in-tmpfs", test_disk_flood_in_tmpfs);
  test_add_isolated ("/hostile/busy-loop-under-cpu-quota", test_busy_loop_under_cpu_quota);
  test_add_isolated ("/hostile/timeout-as-unprivileged-user", test_timeout_as_unprivileged_user);
  test_add_isolated ("/hostile/sabotaged-sandbox", test_sabotaged_sandbox);
  test_add_isolated ("/hostile/everything-killed", test_everything_killed);
  test_add_isolated ("/hostile/killed-from-outside", test_killed_from_outside);
  test_add_isolated ("/hostile/whole-sandbox-out-of-memory", test_whole_sandbox_out_of_memory);

  return g_test_run ();
}
