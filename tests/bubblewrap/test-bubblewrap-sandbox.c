/* test-bubblewrap-sandbox.c: what a bubblewrap sandbox is, seen from inside.
 *
 * The confinement (seccomp filter, no_new_privs, no new user namespaces,
 * no mounts), the network modes, the runtime configs it honours and the ones
 * it refuses, files and processes that persist between commands, commits,
 * and the errors that replace what needs an engine. Each body runs in a
 * subprocess whose sandboxes carry this run's label (isolated-test.h). The
 * network is never used: isolation is read inside the sandbox. */
#include <glib/gstdio.h>

#include "bubblewrap-test.h"
#include "isolated-test.h"

static LlmsbxExecutionResult *
sh_result (LlmsbxSandboxSession *session,
           const char           *command)
{
  g_autoptr(GError) error = NULL;
  LlmsbxExecutionResult *result = llmsbx_sandbox_session_execute_command (session, command, NULL, NULL, &error);

  g_assert_no_error (error);
  return result;
}

static char *
sh_line (LlmsbxSandboxSession *session,
         const char           *command)
{
  return g_strstrip (test_sh (session, command));
}

static guint64
status_hex (LlmsbxSandboxSession *session,
            const char           *field)
{
  g_autofree char *command = g_strdup_printf ("sed -n 's/^%s:[[:space:]]*//p' /proc/self/status", field);
  g_autofree char *text = sh_line (session, command);

  return g_ascii_strtoull (text, NULL, 16);
}

static char *
mount_line (LlmsbxSandboxSession *session,
            const char           *target)
{
  g_autofree char *command = g_strdup_printf ("awk '$2 == \"%s\"' /proc/mounts | tail -n 1", target);
  return sh_line (session, command);
}

/* The error of opening a session with runtime configs @members. */
static void
assert_open_fails (const char *members,
                   int         code,
                   const char *needle)
{
  g_autoptr(LlmsbxSandboxSession) session = backend_test_session_new ("python", NULL);
  g_autofree char *configs = test_configs (members);
  g_autofree char *filter = test_run_filter ();
  g_autofree char *left = NULL;
  g_autoptr(GError) error = NULL;

  llmsbx_sandbox_session_set_runtime_configs_json (session, configs, &error);
  g_assert_no_error (error);
  g_assert_false (llmsbx_sandbox_session_open (session, NULL, &error));
  g_test_message ("%s -> %s", members, error->message);
  g_assert_error (error, LLMSBX_ERROR, code);
  if (needle != NULL && strstr (error->message, needle) == NULL)
    g_error ("'%s' does not say '%s'", error->message, needle);
  left = backend_test_ps (filter);
  g_assert_cmpstr (left, ==, "");
}

/* ---------------------------------------------------------------------------
 * Confinement
 * ------------------------------------------------------------------------ */

static void
test_confinement (void)
{
  g_autoptr(LlmsbxSandboxSession) session = test_open_session ("", NULL);
  g_autofree char *seccomp = sh_line (session, "sed -n 's/^Seccomp:[[:space:]]*//p' /proc/self/status");
  g_autofree char *nnp = sh_line (session, "sed -n 's/^NoNewPrivs:[[:space:]]*//p' /proc/self/status");
  g_autofree char *calls = NULL;
  g_autoptr(LlmsbxExecutionResult) unshare = NULL;

  g_assert_cmpstr (seccomp, ==, "2");
  g_assert_cmpstr (nnp, ==, "1");
  /* Root keeps Docker's default capabilities (CHOWN .. SETFCAP) and no others:
   * no CAP_SYS_ADMIN (21). */
  g_assert_cmphex (status_hex (session, "CapEff") & (G_GUINT64_CONSTANT (1) << 21), ==, 0);
  g_assert_cmphex (status_hex (session, "CapEff") & 1, ==, 1);

  /* No new user namespace, no mount, no ptrace, no keyring, no BPF, no perf:
   * each call fails with EPERM (1), clone3 with ENOSYS (38). */
  calls = test_run (session,
                    "import ctypes, platform\n"
                    "libc = ctypes.CDLL(None, use_errno=True)\n"
                    "nr = {'x86_64': (250, 321, 298), 'aarch64': (219, 280, 241)}[platform.machine()]\n"
                    "def err(rc):\n"
                    "    return ctypes.get_errno() if rc == -1 else 0\n"
                    "print(err(libc.unshare(0x10000000)),\n"              /* CLONE_NEWUSER */
                    "      err(libc.unshare(0x00020000)),\n"              /* CLONE_NEWNS */
                    "      err(libc.mount(b'none', b'/mnt', b'tmpfs', 0, None)),\n"
                    "      err(libc.ptrace(0, 0, None, None)),\n"         /* PTRACE_TRACEME */
                    "      err(libc.syscall(nr[0], 0, 0, 0, 0, 0)),\n"    /* keyctl */
                    "      err(libc.syscall(nr[1], 0, 0, 0)),\n"          /* bpf */
                    "      err(libc.syscall(nr[2], 0, 0, -1, -1, 0)),\n"  /* perf_event_open */
                    "      err(libc.syscall(435, 0, 0)))\n");             /* clone3 */
  g_assert_cmpstr (calls, ==, "1 1 1 1 1 1 1 38\n");

  /* Nor through a program of the image. */
  unshare = sh_result (session, "unshare --user true");
  g_assert_cmpint (llmsbx_execution_result_get_exit_code (unshare), !=, 0);

  /* No limits asked for: no cgroup, and nothing of the host's below /sys/fs/cgroup. */
  g_free (calls);
  calls = sh_line (session, "ls /sys/fs/cgroup | wc -l");
  g_assert_cmpstr (calls, ==, "0");

  /* The sandbox's own pid namespace: the init's reaper and the init first. */
  g_free (calls);
  calls = sh_line (session, "cat /proc/1/comm; ls -d /proc/[0-9]* | wc -l");
  g_assert_true (g_str_has_prefix (calls, "bwrap\n"));
  test_close (session);
}

/* ---------------------------------------------------------------------------
 * Network
 * ------------------------------------------------------------------------ */

static void
test_network_none (void)
{
  g_autoptr(LlmsbxSandboxSession) session = test_open_session ("", NULL);
  g_autoptr(GSocketListener) listener = g_socket_listener_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *interfaces = NULL;
  g_autofree char *proc_net = NULL;
  g_autofree char *names = NULL;
  g_autofree char *connect = NULL;
  g_autofree char *code = NULL;
  guint16 port;

  interfaces = sh_line (session, "ls /sys/class/net | tr '\\n' ' '");
  g_assert_cmpstr (interfaces, ==, "lo");
  proc_net = sh_line (session, "tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' '");
  g_assert_cmpstr (proc_net, ==, "lo");
  names = test_run (session, "import socket; print([n for _, n in socket.if_nameindex()])");
  g_assert_cmpstr (names, ==, "['lo']\n");

  /* A port this process listens on is not reachable: the sandbox's
   * loopback is its own. */
  port = g_socket_listener_add_any_inet_port (listener, NULL, &error);
  g_assert_no_error (error);
  code = g_strdup_printf ("import socket\n"
                          "s = socket.socket()\n"
                          "print(s.connect_ex(('127.0.0.1', %u)) != 0)\n", port);
  connect = test_run (session, code);
  g_assert_cmpstr (connect, ==, "True\n");
  test_close (session);
}

static void
test_network_host (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *outside = g_file_read_link ("/proc/self/ns/net", &error);
  g_autoptr(LlmsbxSandboxSession) session = test_open_session ("\"network_mode\": \"host\"", NULL);
  g_autofree char *inside = sh_line (session, "readlink /proc/self/ns/net");

  g_assert_no_error (error);
  g_assert_cmpstr (inside, ==, outside);
  test_close (session);
}

/* bridge: slirp4netns's tap in a namespace of its own; nothing is sent. */
static void
test_network_bridge (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *outside = g_file_read_link ("/proc/self/ns/net", &error);
  g_autoptr(LlmsbxSandboxSession) session = test_open_session ("\"network_mode\": \"bridge\"", NULL);
  g_autofree char *inside = sh_line (session, "readlink /proc/self/ns/net");
  g_autofree char *interfaces = sh_line (session, "ls /sys/class/net | sort | tr '\\n' ' '");
  g_autofree char *resolv = sh_line (session, "cat /etc/resolv.conf");

  g_assert_no_error (error);
  g_assert_cmpstr (inside, !=, outside);
  g_assert_cmpstr (interfaces, ==, "eth0 lo");
  g_assert_cmpstr (resolv, ==, "nameserver 10.0.2.3");
  test_close (session);
}

/* ---------------------------------------------------------------------------
 * Runtime configs
 * ------------------------------------------------------------------------ */

static char *
cgroup_file (LlmsbxSandboxSession *session,
             const char           *v1,
             const char           *v2)
{
  g_autofree char *command = g_strdup_printf ("cd /sys/fs/cgroup && if [ -r %s ]; then cat %s; else cat %s; fi",
                                              v1, v1, v2);
  return sh_line (session, command);
}

static void
test_limits (void)
{
  g_autoptr(LlmsbxSandboxSession) session =
    test_open_session ("\"mem_limit\": \"256m\", \"memswap_limit\": \"512m\", \"pids_limit\": 50, "
                       "\"cpu_quota\": 25000, \"cpu_period\": 100000, \"cpu_shares\": 512", NULL);
  g_autofree char *memory = cgroup_file (session, "memory/memory.limit_in_bytes", "memory.max");
  g_autofree char *pids = cgroup_file (session, "pids/pids.max", "pids.max");
  g_autofree char *quota = cgroup_file (session, "cpu/cpu.cfs_quota_us", "cpu.max");
  g_autofree char *readonly = NULL;

  g_assert_cmpstr (memory, ==, "268435456");
  g_assert_cmpstr (pids, ==, "50");
  g_assert_true (g_str_equal (quota, "25000") || g_str_equal (quota, "25000 100000"));

  /* The sandbox cannot raise its own limits. */
  readonly = sh_line (session, "f=/sys/fs/cgroup/pids/pids.max; [ -e $f ] || f=/sys/fs/cgroup/pids.max; "
                               "(echo max > $f) 2>&1; cat $f");
  g_assert_true (g_str_has_suffix (readonly, "50"));
  g_assert_nonnull (strstr (readonly, "Read-only file system"));
  test_close (session);

  /* cpu_count and nano_cpus are quotas over 100 ms. */
  {
    g_autoptr(LlmsbxSandboxSession) counted = test_open_session ("\"nano_cpus\": 500000000", NULL);
    g_autofree char *half = cgroup_file (counted, "cpu/cpu.cfs_quota_us", "cpu.max");

    g_assert_true (g_str_equal (half, "50000") || g_str_equal (half, "50000 100000"));
    test_close (counted);
  }
}

/* A read-only root with tmpfs mounts is the shared suite's
 * (test-runtime-configs); here, what Docker does and bubblewrap holds too: a
 * tmpfs mounted noexec refuses to run programs. */
static void
test_noexec_tmpfs (void)
{
  g_autoptr(LlmsbxSandboxSession) session =
    test_open_session ("\"read_only\": true, \"tmpfs\": {\"/tmp\": \"size=16m,noexec\"}", NULL);
  g_autofree char *tmp = mount_line (session, "/tmp");
  g_autoptr(LlmsbxExecutionResult) in_tmp = sh_result (session, "cp /bin/true /tmp/t && /tmp/t");
  g_autofree char *ran = NULL;

  g_assert_nonnull (strstr (tmp, "noexec"));
  g_assert_cmpint (llmsbx_execution_result_get_exit_code (in_tmp), ==, 126);
  /* Code still runs, and writes there. */
  ran = test_run (session, "open('/tmp/t2', 'w').write('t'); print('ok')");
  g_assert_cmpstr (ran, ==, "ok\n");
  test_close (session);
}

static void
test_writable_root (void)
{
  g_autoptr(LlmsbxSandboxSession) first = test_open_session ("", NULL);
  g_autoptr(LlmsbxSandboxSession) second = NULL;
  g_autofree char *written = sh_line (first, "echo mine > /usr/local/marker && cat /usr/local/marker");
  g_autofree char *unseen = NULL;

  /* Each sandbox writes its own layer over the shared image. */
  g_assert_cmpstr (written, ==, "mine");
  second = test_open_session ("", NULL);
  unseen = sh_line (second, "test -e /usr/local/marker && echo seen || echo unseen");
  g_assert_cmpstr (unseen, ==, "unseen");
  test_close (first);
  test_close (second);
}

/* Volumes are the shared suite's (test-runtime-configs); a host path that
 * does not exist is bubblewrap's own: it stops the start, naming it, where an
 * engine would create it. */
static void
test_missing_volume_source (void)
{
  assert_open_fails ("\"volumes\": [\"/nonexistent/llmsbx-bwrap:/data\"]", LLMSBX_ERROR_CONTAINER_FAILED,
                     "/nonexistent/llmsbx-bwrap");
}

static void
test_user_and_capabilities (void)
{
  g_autoptr(LlmsbxSandboxSession) session =
    test_open_session ("\"user\": \"1000:1000\", \"cap_drop\": [\"ALL\"], \"cap_add\": [\"NET_ADMIN\"], "
                       "\"environment\": {\"GREETING\": \"hi\", \"PYTHONUNBUFFERED\": \"\"}, "
                       "\"security_opt\": [\"no-new-privileges:true\"]", NULL);
  g_autofree char *ids = sh_line (session, "echo $(id -u):$(id -g)");
  g_autofree char *env = test_run (session, "import os; print(os.environ['GREETING'], repr(os.environ['PYTHONUNBUFFERED']))");
  g_autofree char *owner = test_run (session, "import os; open('mine', 'w').write('x'); print(os.stat('mine').st_uid)");
  g_autoptr(LlmsbxSandboxSession) nobody = NULL;
  g_autoptr(LlmsbxSandboxSession) dropped = NULL;
  g_autofree char *nobody_id = NULL;

  g_assert_cmpstr (ids, ==, "1000:1000");
  g_assert_cmpstr (env, ==, "hi ''\n");
  g_assert_cmpstr (owner, ==, "1000\n");
  /* Within the user namespace, the added capability is the only one, and a
   * user other than root holds it (as on Podman). */
  g_assert_cmphex (status_hex (session, "CapBnd"), ==, G_GUINT64_CONSTANT (1) << 12);
  g_assert_cmphex (status_hex (session, "CapEff"), ==, G_GUINT64_CONSTANT (1) << 12);
  test_close (session);

  nobody = test_open_session ("\"user\": \"nobody\"", NULL);
  nobody_id = test_run (nobody, "import os; open('f', 'w').write('1'); print(os.getuid(), os.environ['HOME'])");
  g_assert_cmpstr (nobody_id, ==, "65534 /nonexistent\n");
  test_close (nobody);

  dropped = test_open_session ("\"cap_drop\": [\"ALL\"]", NULL);
  g_assert_cmphex (status_hex (dropped, "CapEff"), ==, 0);
  g_assert_cmphex (status_hex (dropped, "CapBnd"), ==, 0);
  test_close (dropped);
}

/* Every key an engine-less sandbox cannot honour is refused by name. */
static void
test_refused_keys (void)
{
  assert_open_fails ("\"ports\": {\"8080/tcp\": 8080}", LLMSBX_ERROR_INVALID_ARGUMENT,
                     "bubblewrap backend does not support the runtime config key 'ports'");
  assert_open_fails ("\"devices\": [\"/dev/zero:/dev/zero:rwm\"]", LLMSBX_ERROR_INVALID_ARGUMENT, "'devices'");
  assert_open_fails ("\"dns\": [\"8.8.8.8\"]", LLMSBX_ERROR_INVALID_ARGUMENT, "'dns'");
  assert_open_fails ("\"mem_limt\": \"1g\"", LLMSBX_ERROR_INVALID_ARGUMENT, "'mem_limt'");
  assert_open_fails ("\"privileged\": true", LLMSBX_ERROR_INVALID_ARGUMENT, "'privileged'");
  assert_open_fails ("\"network_mode\": \"container:other\"", LLMSBX_ERROR_INVALID_ARGUMENT, "container:other");
  assert_open_fails ("\"security_opt\": [\"seccomp=unconfined\"]", LLMSBX_ERROR_INVALID_ARGUMENT,
                     "seccomp=unconfined");
  assert_open_fails ("\"mem_limit\": \"12q\"", LLMSBX_ERROR_INVALID_ARGUMENT, "'mem_limit'");
  assert_open_fails ("\"volumes\": [\"named:/data\"]", LLMSBX_ERROR_INVALID_ARGUMENT, "named volumes");
  assert_open_fails ("\"nano_cpus\": 500000000, \"cpu_period\": 100000", LLMSBX_ERROR_INVALID_ARGUMENT,
                     "'cpu_period'");
  assert_open_fails ("\"tmpfs\": {\"/x\": \"size=1m,suid\"}", LLMSBX_ERROR_INVALID_ARGUMENT,
                     "bubblewrap backend does not support the tmpfs option 'suid'");
  assert_open_fails ("\"tmpfs\": {\"/x\": \"dev\"}", LLMSBX_ERROR_INVALID_ARGUMENT,
                     "bubblewrap backend does not support the tmpfs option 'dev'");
  assert_open_fails ("\"tmpfs\": {\"/x\": \"sizes=1m\"}", LLMSBX_ERROR_INVALID_ARGUMENT,
                     "Invalid tmpfs option 'sizes=1m'");
  assert_open_fails ("\"user\": \"no-such-user\"", LLMSBX_ERROR_INVALID_ARGUMENT, "no-such-user");
  /* The kernel's own refusal, after the directory and cgroup were made. */
  assert_open_fails ("\"cpuset_cpus\": \"4000\"", LLMSBX_ERROR_INVALID_ARGUMENT, "cpuset.cpus");
}

/* Where no cgroup can be made, memory and processes are limited by rlimits
 * (docs/backends.md): an address-space limit and a process count. */
static void
test_limits_without_cgroups (void)
{
  g_autoptr(LlmsbxSandboxSession) session = NULL;
  g_autofree char *limits = NULL;
  g_autofree char *cgroups = NULL;
  g_autofree char *bomb = NULL;

  /* Read by the plugin when a sandbox is made; nothing else runs yet. */
  g_setenv ("LLMSBX_BUBBLEWRAP_CGROUP_ROOT", "/nonexistent/cgroup", TRUE);
  session = test_open_session ("\"mem_limit\": \"256m\", \"pids_limit\": 40", NULL);
  limits = sh_line (session, "sed -n 's/^Max \\(address space\\|processes\\) *\\([0-9]*\\).*/\\2/p' /proc/self/limits "
                              "| tr '\\n' ' '");
  g_assert_cmpstr (limits, ==, "40 268435456");
  cgroups = sh_line (session, "ls /sys/fs/cgroup | wc -l");
  g_assert_cmpstr (cgroups, ==, "0");

  bomb = test_run (session,
                   "try:\n"
                   "    x = bytearray(1 << 30)\n"
                   "except MemoryError:\n"
                   "    print('MemoryError')\n");
  g_assert_cmpstr (bomb, ==, "MemoryError\n");
  /* RLIMIT_NPROC does not bind the processes of the host's root, which a
   * root client's sandboxes are: it is checked as another user below. */
  test_close (session);
}

/* A fork loop under an RLIMIT_NPROC of 40: fork fails before 40 processes. */
static const char fork_counter[] =
  "import os, time\n"
  "n = 0\n"
  "try:\n"
  "    while n < 1000:\n"
  "        if os.fork() == 0:\n"
  "            time.sleep(5)\n"
  "            os._exit(0)\n"
  "        n += 1\n"
  "except OSError:\n"
  "    pass\n"
  "print(n < 40)\n";

/* As a user other than root (nobody): the monitor makes the user namespace
 * itself, the root's overlay too, and limits go by rlimits (no cgroup can be
 * made). The store is the test's own, its image a link to root's. */
static void
test_as_another_user (void)
{
  if (g_test_subprocess ())
    {
      g_autoptr(LlmsbxSandboxSession) session =
        test_open_session ("\"read_only\": true, \"mem_limit\": \"512m\", \"pids_limit\": 40", NULL);
      g_autofree char *who = NULL;
      g_autofree char *out = NULL;
      g_autofree char *forks = NULL;

      g_assert_cmpuint (getuid (), ==, 65534);
      who = sh_line (session, "echo $(id -u) $(ulimit -v) $(sed -n 's/^Seccomp:[[:space:]]*//p' /proc/self/status)");
      g_assert_cmpstr (who, ==, "0 524288 2");
      out = test_run (session, "open('here.txt', 'w').write('x'); print(6 * 7)");
      g_assert_cmpstr (out, ==, "42\n");
      forks = test_run (session, fork_counter);
      g_assert_cmpstr (forks, ==, "True\n");
      test_close (session);
      return;
    }

  {
    g_autofree char *root_store = bubblewrap_test_store ();
    g_autofree char *tag = g_build_filename (root_store, "tags", "llmsbx%2Fpython%3Abookworm", NULL);
    g_autofree char *id = NULL;
    g_autofree char *base = NULL;
    g_autofree char *store = NULL;
    g_autofree char *images = NULL;
    g_autofree char *image_link = NULL;
    g_autofree char *image_target = NULL;
    g_autofree char *self = g_strdup_printf ("/proc/%d/exe", getpid ());
    g_autofree char *program = g_file_read_link (self, NULL);
    g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_NONE);
    g_autoptr(GSubprocess) child = NULL;
    g_autoptr(GError) error = NULL;

    /* Only root can become nobody; on a non-root host the other tests are this one. */
    g_assert_cmpuint (getuid (), ==, 0);
    g_file_get_contents (tag, &id, NULL, &error);
    g_assert_no_error (error);
    g_strstrip (id);

    base = g_strdup ("/tmp/llmsbx-bwrap-user-XXXXXX");
    g_assert_nonnull (g_mkdtemp (base));
    g_assert_cmpint (g_chmod (base, 0755), ==, 0);
    store = g_build_filename (base, "store", NULL);
    images = g_build_filename (store, "images", NULL);
    g_assert_cmpint (g_mkdir_with_parents (images, 0755), ==, 0);
    image_link = g_build_filename (images, id, NULL);
    image_target = g_build_filename (root_store, "images", id, NULL);
    g_assert_cmpint (symlink (image_target, image_link), ==, 0);
    {
      g_autofree char *tags = g_build_filename (store, "tags", NULL);
      g_autofree char *user_tag = g_build_filename (tags, "llmsbx%2Fpython%3Abookworm", NULL);

      g_assert_cmpint (g_mkdir (tags, 0755), ==, 0);
      g_file_set_contents (user_tag, id, -1, &error);
      g_assert_no_error (error);
    }
    {
      g_autoptr(GSubprocess) chown = g_subprocess_new (G_SUBPROCESS_FLAGS_NONE, &error, "chown", "-R",
                                                        "-h", "65534:65534", base, NULL);
      g_assert_no_error (error);
      g_subprocess_wait_check (chown, NULL, &error);
      g_assert_no_error (error);
    }

    g_subprocess_launcher_setenv (launcher, "LLMSBX_BUBBLEWRAP_STORE", store, TRUE);
    g_subprocess_launcher_setenv (launcher, "HOME", base, TRUE);
    g_subprocess_launcher_setenv (launcher, "TMPDIR", base, TRUE);
    g_subprocess_launcher_unsetenv (launcher, "XDG_RUNTIME_DIR");
    /* Its own isolated directories, not this process's (root's, 0700). */
    g_subprocess_launcher_unsetenv (launcher, "G_TEST_TMPDIR");
    child = g_subprocess_launcher_spawn (launcher, &error, "setpriv", "--reuid", "65534", "--regid", "65534",
                                         "--clear-groups", "--", program, "-q", "-p",
                                         "/bubblewrap/as-another-user", "--GTestSubprocess", NULL);
    g_assert_no_error (error);
    g_subprocess_wait (child, NULL, &error);
    g_assert_no_error (error);
    g_assert_true (g_subprocess_get_successful (child));
    {
      g_autoptr(GSubprocess) rm = g_subprocess_new (G_SUBPROCESS_FLAGS_NONE, NULL, "rm", "-rf", "--", base, NULL);

      g_subprocess_wait (rm, NULL, NULL);
    }
  }
}

/* ---------------------------------------------------------------------------
 * One sandbox, many commands
 * ------------------------------------------------------------------------ */

static void
test_state_between_commands (void)
{
  g_autoptr(LlmsbxSandboxSession) session = test_open_session ("", NULL);
  g_autofree char *background = NULL;
  g_autofree char *tmp = NULL;
  g_autofree char *still = NULL;

  /* A command's background process outlives it, as in a container, and a
   * later command sees it and /tmp. */
  g_free (test_sh (session, "echo kept > /tmp/state; (sleep 300 &) ; echo started"));
  background = sh_line (session, "for d in /proc/[0-9]*; do tr '\\0' ' ' < $d/cmdline; echo; done | grep -c '^sleep 300'");
  g_assert_cmpstr (background, ==, "1");
  tmp = sh_line (session, "cat /tmp/state");
  g_assert_cmpstr (tmp, ==, "kept");

  /* A missing program or directory never started a command, and leaves
   * the sandbox as it was. */
  {
    const char *missing[] = { "no-such-program", NULL };
    g_autoptr(GError) error = NULL;
    g_autoptr(LlmsbxExecutionResult) result = llmsbx_sandbox_session_execute_argv (session, missing, NULL, NULL, &error);
    g_autoptr(LlmsbxExecutionResult) nowhere = NULL;

    g_assert_null (result);
    g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_COMMAND_NOT_STARTED);
    g_assert_nonnull (strstr (error->message, "no-such-program: executable file not found in $PATH"));
    g_clear_error (&error);
    nowhere = llmsbx_sandbox_session_execute_command (session, "true", "/no/such/dir", NULL, &error);
    g_assert_null (nowhere);
    g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_COMMAND_NOT_STARTED);
    g_assert_nonnull (strstr (error->message, "cannot change to the working directory /no/such/dir"));
  }

  still = sh_line (session, "hostname; cat /proc/1/comm");
  g_assert_nonnull (strstr (still, "bwrap"));
  test_close (session);
}

/* A fork bomb that holds every process slot is killed, and the session goes
 * on: the init keeps a spare process for the kill, which an engine's
 * runtime, forking for each exec, cannot always start (the shared suite then
 * accepts a closed session). */
static void
test_fork_bomb_is_killed (void)
{
  g_autoptr(LlmsbxSandboxSession) session = test_open_session ("\"pids_limit\": 32", NULL);
  g_autoptr(LlmsbxExecutionResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *after = NULL;

  for (guint round = 0; round < 3; round++)
    {
      result = llmsbx_sandbox_session_run (session,
                                           "import os, time\n"
                                           "while True:\n"
                                           "    try:\n"
                                           "        os.fork()\n"
                                           "    except OSError:\n"
                                           "        time.sleep(0.01)\n",
                                           NULL, 2.0, NULL, &error);
      g_assert_null (result);
      g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_TIMEOUT);
      g_assert_cmpstr (error->message, ==, "Execution timed out after 2 seconds");
      g_clear_error (&error);
      g_assert_true (llmsbx_sandbox_session_get_is_open (session));
      g_free (after);
      after = test_run (session, "import os; os.fork() or print('forks again')");
      g_assert_cmpstr (after, ==, "forks again\n");
    }
  test_close (session);
}

/* ---------------------------------------------------------------------------
 * Images
 * ------------------------------------------------------------------------ */

/* A missing image names the command that builds it into the store (a
 * Dockerfile's refusal is the shared suite's, test-persistence). */
static void
test_missing_image (void)
{
  g_autoptr(LlmsbxSandboxSession) missing = backend_test_session_new ("python", "image", "llmsbx-test/never:built", NULL);
  g_autoptr(GError) error = NULL;

  g_assert_false (llmsbx_sandbox_session_open (missing, NULL, &error));
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_IMAGE_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, "llmsbx images build --backend bubblewrap"));
}

/* commit_container: what a session installed and wrote is in its image for
 * the next one; the image carries the sandbox's labels, so leftovers are
 * reaped like sandboxes. */
static void
test_commit (void)
{
  g_autofree char *tag = g_strdup_printf ("llmsbx-test/bwrap-commit:%.8s", test_run_id ());
  g_autofree char *base_configs = test_configs ("");
  g_autoptr(LlmsbxSandboxSession) committing = NULL;
  g_autoptr(LlmsbxSandboxSession) next = NULL;
  g_autoptr(LlmsbxSandboxSession) read_only = NULL;
  g_autoptr(LlmsbxBackend) backend = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *id = NULL;
  g_autofree char *after = NULL;
  g_autofree char *state = NULL;
  g_autofree char *first_commit = NULL;
  g_autofree char *second_commit = NULL;
  g_autofree char *base = NULL;
  char *wheel[] = { NULL, NULL };

  /* A session would commit to the name of its image, the shared default one
   * here: the commit goes through the backend, to the test's own tag. */
  committing = backend_test_session_new ("python", NULL);
  llmsbx_sandbox_session_set_runtime_configs_json (committing, base_configs, &error);
  g_assert_no_error (error);
  llmsbx_sandbox_session_open (committing, NULL, &error);
  g_assert_no_error (error);
  backend = llmsbx_registry_create_backend (llmsbx_registry_get_default (), "bubblewrap", &error);
  g_assert_no_error (error);
  llmsbx_backend_connect (backend, NULL, &error);
  g_assert_no_error (error);
  wheel[0] = test_make_wheel (committing, "/tmp/wheels", "persisted", "from the commit");
  llmsbx_sandbox_session_install (committing, (const char * const *) wheel, NULL, &error);
  g_assert_no_error (error);
  g_free (wheel[0]);
  g_free (test_run (committing, "open('state.txt', 'w').write('kept')"));
  id = g_strdup (llmsbx_sandbox_session_get_container_id (committing));
  llmsbx_backend_commit (backend, id, tag, NULL, &error);
  g_assert_no_error (error);
  first_commit = bubblewrap_test_image_id (tag);
  g_assert_nonnull (first_commit);
  test_close (committing);

  next = test_open_session ("", "image", tag, NULL);
  after = test_run (next, "import persisted; print(persisted.VALUE)");
  g_assert_cmpstr (after, ==, "from the commit\n");
  state = test_run (next, "print(open('state.txt').read())");
  g_assert_cmpstr (state, ==, "kept\n");
  test_close (next);

  /* A read-only root's workdir is committed too. */
  read_only = test_open_session ("\"read_only\": true", "image", tag, NULL);
  g_free (test_run (read_only, "open('more.txt', 'w').write('more')"));
  g_free (id);
  id = g_strdup (llmsbx_sandbox_session_get_container_id (read_only));
  llmsbx_backend_commit (backend, id, tag, NULL, &error);
  g_assert_no_error (error);
  test_close (read_only);
  g_clear_object (&next);
  next = test_open_session ("", "image", tag, NULL);
  g_free (state);
  state = test_run (next, "print(open('state.txt').read(), open('more.txt').read())");
  g_assert_cmpstr (state, ==, "kept more\n");
  test_close (next);

  /* Removing the name removes both commits: the first is only a layer of
   * the second now, untagged, as an engine removes untagged parents; the
   * image they were committed from stays. */
  second_commit = bubblewrap_test_image_id (tag);
  base = bubblewrap_test_image_id ("llmsbx/python:bookworm");
  g_assert_cmpstr (second_commit, !=, first_commit);
  llmsbx_backend_remove_image (backend, tag, NULL, &error);
  g_assert_no_error (error);
  g_assert_false (llmsbx_backend_ensure_image (backend, tag, NULL, NULL, &error));
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_IMAGE_NOT_FOUND);
  g_assert_false (bubblewrap_test_image_exists (second_commit));
  g_assert_false (bubblewrap_test_image_exists (first_commit));
  g_assert_true (bubblewrap_test_image_exists (base));
}

/* ---------------------------------------------------------------------------
 * Leftovers
 * ------------------------------------------------------------------------ */

/* Reads lines from @lines until one is a sandbox id (32 hex digits). */
static char *
read_sandbox_id (GDataInputStream *lines)
{
  g_autoptr(GError) error = NULL;
  char *line = NULL;

  while (line == NULL || strlen (line) != 32 || strspn (line, "0123456789abcdef") != 32)
    {
      g_free (line);
      line = g_data_input_stream_read_line (lines, NULL, NULL, &error);
      g_assert_no_error (error);
      g_assert_nonnull (line);
    }
  return line;
}

/* A client killed with SIGKILL: its monitors see their lifelines close and
 * end its sandboxes, with or without a cgroup, and everything they held:
 * the monitor itself, its bwrap, bwrap's reaper, the init, and what the
 * commands left running (each marked with a token on its command line);
 * their cgroups and directories too. */
static void
test_client_killed (void)
{
  g_autofree char *token = g_strdup_printf ("llmsbx-test-client-killed-%.8s", test_run_id ());

  if (g_test_subprocess ())
    {
      const char *configs[] = { "\"pids_limit\": 32", "" };

      for (guint i = 0; i < G_N_ELEMENTS (configs); i++)
        {
          LlmsbxSandboxSession *session = test_open_session (configs[i], NULL);
          g_autofree char *command = g_strdup_printf ("(python3 -c 'import time; time.sleep(600)' %s &); "
                                                      "echo started", token);
          g_autofree char *started = test_sh (session, command);

          g_assert_cmpstr (started, ==, "started\n");
          /* Kept open on purpose: the parent kills this process now. */
          g_print ("%s\n", llmsbx_sandbox_session_get_container_id (session));
        }
      g_usleep (600 * G_USEC_PER_SEC);
      return;
    }

  {
    g_autofree char *self = g_strdup_printf ("/proc/%d/exe", getpid ());
    g_autofree char *program = g_file_read_link (self, NULL);
    const char *argv[] = { program, "-q", "-p", "/bubblewrap/client-killed", "--GTestSubprocess", NULL };
    g_autoptr(GSubprocess) client = NULL;
    g_autoptr(GDataInputStream) lines = NULL;
    g_autoptr(GError) error = NULL;
    char *ids[2] = { NULL, NULL };
    GStrv processes[2] = { NULL, NULL };
    g_autofree char *marked = NULL;
    g_auto(GStrv) marked_lines = NULL;

    client = g_subprocess_newv (argv, G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error);
    g_assert_no_error (error);
    lines = g_data_input_stream_new (g_subprocess_get_stdout_pipe (client));
    for (guint i = 0; i < G_N_ELEMENTS (ids); i++)
      {
        g_autofree char *dir = NULL;
        g_autofree char *all = NULL;
        g_autofree char *running = NULL;

        ids[i] = read_sandbox_id (lines);
        dir = bubblewrap_test_sandbox_dir (ids[i]);
        g_assert_true (g_file_test (dir, G_FILE_TEST_IS_DIR));
        processes[i] = bubblewrap_test_sandbox_processes (ids[i]);
        all = g_strjoinv (" ", processes[i]);
        g_test_message ("sandbox %s: %s", ids[i], all);
        /* The monitor, bwrap, its reaper, the init (and its spare), the sleeper. */
        g_assert_cmpuint (g_strv_length (processes[i]), >=, 5);
        running = bubblewrap_test_still_running ((const char * const *) processes[i]);
        g_assert_cmpstr (running, ==, all);
      }
    /* One sleeper in each sandbox ("pid: cmdline" lines). */
    marked = bubblewrap_test_processes (token);
    marked_lines = g_strsplit (g_strstrip (marked), "\n", -1);
    g_assert_cmpuint (g_strv_length (marked_lines), ==, 2);
    g_clear_pointer (&marked, g_free);

    g_subprocess_send_signal (client, SIGKILL);
    g_subprocess_wait (client, NULL, NULL);
    for (guint i = 0; i < G_N_ELEMENTS (ids); i++)
      {
        g_autofree char *dir = bubblewrap_test_sandbox_dir (ids[i]);
        g_autofree char *running = NULL;

        for (guint wait = 0; wait < 100 && g_file_test (dir, G_FILE_TEST_EXISTS); wait++)
          g_usleep (100 * 1000);
        backend_test_assert_container_gone (ids[i]);
        /* The monitor removes the directory last, then exits. */
        running = bubblewrap_test_still_running ((const char * const *) processes[i]);
        for (guint wait = 0; wait < 100 && running[0] != '\0'; wait++)
          {
            g_usleep (100 * 1000);
            g_free (running);
            running = bubblewrap_test_still_running ((const char * const *) processes[i]);
          }
        g_assert_cmpstr (running, ==, "");
        g_free (ids[i]);
        g_strfreev (processes[i]);
      }
    marked = bubblewrap_test_processes (token);
    g_assert_cmpstr (marked, ==, "");
  }
}

/* A client and the helper both killed: the next backend to connect, in
 * another process, reaps what they left. In a store of its own, so that no
 * other test program's first connect reaps it first. */
static void
test_reaped_after_helper_killed (void)
{
  g_autoptr(LlmsbxSandboxSession) session = NULL;
  g_autofree char *id = NULL;
  g_autoptr(GKeyFile) state = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *self = g_strdup_printf ("/proc/%d/exe", getpid ());
  g_autofree char *program = g_file_read_link (self, NULL);
  const char *argv[] = { program, "-q", "-p", "/bubblewrap/connect-only", NULL };
  g_autoptr(GSubprocess) reaper = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) processes = NULL;
  g_autofree char *running = NULL;
  gint64 helper;

  bubblewrap_test_private_store ();
  session = test_open_session ("", NULL);
  id = g_strdup (llmsbx_sandbox_session_get_container_id (session));
  state = bubblewrap_test_state (id);
  helper = g_key_file_get_int64 (state, "Sandbox", "HelperPid", NULL);
  dir = bubblewrap_test_sandbox_dir (id);
  processes = bubblewrap_test_sandbox_processes (id);

  g_assert_cmpint (helper, >, 0);
  g_assert_cmpint (kill ((pid_t) helper, SIGKILL), ==, 0);
  /* Its bwrap dies with it (--die-with-parent), and with bwrap every
   * process of the sandbox, with nobody to clean up; the state stays. */
  running = bubblewrap_test_wait_ended ((const char * const *) processes);
  g_assert_cmpstr (running, ==, "");
  g_assert_true (g_file_test (dir, G_FILE_TEST_IS_DIR));

  reaper = g_subprocess_newv (argv, G_SUBPROCESS_FLAGS_STDOUT_SILENCE, &error);
  g_assert_no_error (error);
  g_subprocess_wait_check (reaper, NULL, &error);
  g_assert_no_error (error);
  backend_test_assert_container_gone (id);

  /* The session notices at its next call, and closing still works. */
  {
    g_autoptr(LlmsbxExecutionResult) result = llmsbx_sandbox_session_run (session, "print(1)", NULL, 0, NULL, &error);

    g_assert_null (result);
    g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_CONTAINER_FAILED);
    g_clear_error (&error);
  }
  llmsbx_sandbox_session_close (session, NULL, &error);
  g_assert_no_error (error);
}

/* Connecting works here; in a process of its own, it also reaps. */
static void
test_connect_only (void)
{
  g_autoptr(LlmsbxBackend) backend = NULL;
  g_autoptr(GError) error = NULL;

  backend = llmsbx_registry_create_backend (llmsbx_registry_get_default (), "bubblewrap", &error);
  g_assert_no_error (error);
  llmsbx_backend_connect (backend, NULL, &error);
  g_assert_no_error (error);
}

/* With no usable bwrap, the error says what is missing. */
static void
test_unavailable (void)
{
  g_autoptr(LlmsbxBackend) backend = NULL;
  g_autoptr(GError) error = NULL;

  backend = llmsbx_registry_create_backend (llmsbx_registry_get_default (), "bubblewrap", &error);
  g_assert_no_error (error);
  llmsbx_backend_set_url (backend, "/nonexistent/bwrap");
  g_assert_false (llmsbx_backend_connect (backend, NULL, &error));
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_BACKEND_UNAVAILABLE);
  g_assert_nonnull (strstr (error->message, "/nonexistent/bwrap"));
  g_clear_error (&error);

  llmsbx_backend_set_url (backend, "tcp://127.0.0.1:2375");
  g_assert_false (llmsbx_backend_connect (backend, NULL, &error));
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_BACKEND_UNAVAILABLE);
  g_assert_nonnull (strstr (error->message, "tcp://127.0.0.1:2375"));
  g_clear_error (&error);

  /* A bwrap that cannot make a sandbox (here, one that always fails) is
   * found out by the probe, before any sandbox is tried. */
  llmsbx_backend_set_url (backend, "/bin/false");
  g_assert_false (llmsbx_backend_probe (backend, NULL, &error));
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_BACKEND_UNAVAILABLE);
  g_assert_nonnull (strstr (error->message, "cannot make a sandbox here"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
  g_setenv ("LLMSBX_TEST_BACKEND", "bubblewrap", TRUE);
  test_run_id ();

  test_add_isolated ("/bubblewrap/confinement", test_confinement);
  test_add_isolated ("/bubblewrap/network-none", test_network_none);
  test_add_isolated ("/bubblewrap/network-host", test_network_host);
  test_add_isolated ("/bubblewrap/network-bridge", test_network_bridge);
  test_add_isolated ("/bubblewrap/limits", test_limits);
  test_add_isolated ("/bubblewrap/noexec-tmpfs", test_noexec_tmpfs);
  test_add_isolated ("/bubblewrap/writable-root", test_writable_root);
  test_add_isolated ("/bubblewrap/missing-volume-source", test_missing_volume_source);
  test_add_isolated ("/bubblewrap/user-and-capabilities", test_user_and_capabilities);
  test_add_isolated ("/bubblewrap/refused-keys", test_refused_keys);
  test_add_isolated ("/bubblewrap/limits-without-cgroups", test_limits_without_cgroups);
  g_test_add_func ("/bubblewrap/as-another-user", test_as_another_user);
  test_add_isolated ("/bubblewrap/state-between-commands", test_state_between_commands);
  test_add_isolated ("/bubblewrap/fork-bomb-is-killed", test_fork_bomb_is_killed);
  test_add_isolated ("/bubblewrap/missing-image", test_missing_image);
  test_add_isolated ("/bubblewrap/commit", test_commit);
  g_test_add_func ("/bubblewrap/client-killed", test_client_killed);
  test_add_isolated ("/bubblewrap/reaped-after-helper-killed", test_reaped_after_helper_killed);
  g_test_add_func ("/bubblewrap/connect-only", test_connect_only);
  g_test_add_func ("/bubblewrap/unavailable", test_unavailable);

  return g_test_run ();
}
