/* test-runtime-configs.c: every runtime config key of the guide (and the
 * common docker-py ones) has its effect, read from inside a real sandbox:
 * cgroup files, /proc/self/status, /proc/mounts, /etc files, the environment,
 * and the engine's own inspect output for what has no inside view.
 *
 * Sandboxes use network_mode "none" unless a test is about the network, and
 * no test sends a packet anywhere.
 *
 * bubblewrap has no engine, so no inspect output: what the engines record is
 * read from its state file where it keeps it, and the keys it has no
 * meaning for must be refused, naming the key and the backend
 * (docs/backends.md, "Runtime configs" and "bubblewrap differences").
 *
 * Kubernetes refuses runtime configs (a pod is set by its manifest): the
 * keys with a pod equivalent go through the manifest tests/lib makes of
 * them (test_set_configs_json()) and have the same effect inside; for the
 * others, setting them as runtime configs fails at open, saying to use
 * pod_manifest, and leaves no pod (docs/backends.md, "Kubernetes
 * differences"). */
#include <glib/gstdio.h>
#include <signal.h>

#include "bubblewrap-test.h"
#include "isolated-test.h"
#include "kube-test.h"

/* ---------------------------------------------------------------------------
 * Helpers
 * ------------------------------------------------------------------------ */

static LlmsbxExecutionResult *
sh_result (LlmsbxSandboxSession *session,
           const char           *command)
{
  g_autoptr(GError) error = NULL;
  LlmsbxExecutionResult *result;

  result = llmsbx_sandbox_session_execute_command (session, command, NULL, NULL, &error);
  g_assert_no_error (error);
  return result;
}

static char *
sh_line (LlmsbxSandboxSession *session,
         const char           *command)
{
  return g_strstrip (test_sh (session, command));
}

/* The sandbox's cgroup limit files (v1 and v2 names), "name" → value. */
static GHashTable *
read_cgroups (LlmsbxSandboxSession *session)
{
  static const char script[] =
    "cd /sys/fs/cgroup || exit 1\n"
    "for f in memory/memory.limit_in_bytes memory/memory.memsw.limit_in_bytes "
    "cpu/cpu.cfs_quota_us cpu/cpu.cfs_period_us cpu/cpu.shares pids/pids.max cpuset/cpuset.cpus "
    "memory.max memory.swap.max cpu.max cpu.weight pids.max cpuset.cpus.effective; do\n"
    "  [ -r \"$f\" ] && echo \"$f=$(cat \"$f\")\"\n"
    "done\n"
    "true\n";
  g_autofree char *out = test_sh (session, script);
  g_auto(GStrv) lines = g_strsplit (out, "\n", -1);
  GHashTable *values = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);

  for (guint i = 0; lines[i] != NULL; i++)
    {
      char *eq = strchr (lines[i], '=');

      if (eq != NULL)
        g_hash_table_insert (values, g_strndup (lines[i], eq - lines[i]), g_strdup (eq + 1));
    }

  /* Either hierarchy must be there: a sandbox without limits files proves nothing. */
  g_assert_true (g_hash_table_contains (values, "memory/memory.limit_in_bytes") ||
                 g_hash_table_contains (values, "memory.max"));
  return values;
}

static gboolean
is_cgroup_v1 (GHashTable *cgroups)
{
  return g_hash_table_contains (cgroups, "memory/memory.limit_in_bytes");
}

static void
assert_cgroup (GHashTable *cgroups,
               const char *name,
               const char *expected)
{
  const char *value = g_hash_table_lookup (cgroups, name);

  if (value == NULL)
    g_error ("cgroup file %s is missing in the sandbox", name);
  g_assert_cmpstr (value, ==, expected);
}

/* Checks the CPU limit as the kernel sees it: quota and period. */
static void
assert_cpu_quota (GHashTable *cgroups,
                  const char *quota,
                  const char *period)
{
  if (is_cgroup_v1 (cgroups))
    {
      assert_cgroup (cgroups, "cpu/cpu.cfs_quota_us", quota);
      assert_cgroup (cgroups, "cpu/cpu.cfs_period_us", period);
    }
  else
    {
      g_autofree char *max = g_strdup_printf ("%s %s", quota, period);
      assert_cgroup (cgroups, "cpu.max", max);
    }
}

/* A /proc/self/status field, as the sandbox's user sees it. */
static char *
status_field (LlmsbxSandboxSession *session,
              const char           *field)
{
  g_autofree char *command = g_strdup_printf ("sed -n 's/^%s:[[:space:]]*//p' /proc/self/status", field);
  return sh_line (session, command);
}

static guint64
hex_value (const char *text)
{
  guint64 value = 0;
  g_autoptr(GError) error = NULL;

  g_ascii_string_to_unsigned (text, 16, 0, G_MAXUINT64, &value, &error);
  g_assert_no_error (error);
  return value;
}

/* The /proc/mounts line of @target: "device target type options". */
static char *
mount_line (LlmsbxSandboxSession *session,
            const char           *target)
{
  g_autofree char *command = g_strdup_printf ("awk '$2 == \"%s\"' /proc/mounts | tail -n 1", target);
  return sh_line (session, command);
}

static gboolean
has_mount_option (const char *line,
                  const char *option)
{
  g_auto(GStrv) fields = g_strsplit (line, " ", -1);
  g_auto(GStrv) options = NULL;

  g_assert_cmpuint (g_strv_length (fields), >=, 4);
  options = g_strsplit (fields[3], ",", -1);
  return g_strv_contains ((const char * const *) options, option);
}

static JsonObject *
inspect_container (LlmsbxSandboxSession *session)
{
  return test_inspect ("container", llmsbx_sandbox_session_get_container_id (session));
}

static JsonObject *
host_config (JsonObject *inspect)
{
  return json_object_get_object_member (inspect, "HostConfig");
}

/* The bubblewrap sandbox's state file, its record of what it was made with. */
static GKeyFile *
sandbox_state (LlmsbxSandboxSession *session)
{
  GKeyFile *state = bubblewrap_test_state (llmsbx_sandbox_session_get_container_id (session));

  g_assert_nonnull (state);
  return state;
}

static void
assert_open_fails (const char *members,
                   int         code,
                   const char *first_needle,
                   const char *second_needle)
{
  g_autoptr(LlmsbxSandboxSession) session = backend_test_session_new ("python", NULL);
  g_autofree char *configs = test_configs (members);
  g_autofree char *filter = test_run_filter ();
  g_autofree char *left = NULL;
  g_autoptr(GError) error = NULL;

  llmsbx_sandbox_session_set_runtime_configs_json (session, configs, &error);
  g_assert_no_error (error);
  g_assert_false (llmsbx_sandbox_session_open (session, NULL, &error));
  g_assert_error (error, LLMSBX_ERROR, code);
  g_test_message ("%s -> %s", members, error->message);
  if (first_needle != NULL)
    g_assert_nonnull (strstr (error->message, first_needle));
  if (second_needle != NULL)
    g_assert_nonnull (strstr (error->message, second_needle));
  g_assert_false (llmsbx_sandbox_session_get_is_open (session));

  /* Nothing of this run exists: no test before this one left anything either. */
  left = backend_test_ps (filter);
  g_assert_cmpstr (left, ==, "");
}

/* A key that has no meaning without an engine: on bubblewrap, open() fails
 * naming the key and the backend, and leaves nothing. */
static void
assert_refused_by_backend (const char *members,
                           const char *key)
{
  g_autofree char *quoted = g_strdup_printf ("'%s'", key);

  g_assert_true (backend_test_is_bubblewrap ());
  assert_open_fails (members, LLMSBX_ERROR_INVALID_ARGUMENT, quoted, "The bubblewrap backend does not support");
}

/* Docker settings a pod has no equivalent for: on Kubernetes, runtime
 * configs make open() fail saying to use pod_manifest, and leave no pod. */
static void
assert_refused_on_kubernetes (const char *members)
{
  g_assert_true (backend_test_is_kubernetes ());
  assert_open_fails (members, LLMSBX_ERROR_INVALID_ARGUMENT, "pod_manifest", "Kubernetes backend");
}

/* The working directory of `pwd` run through the session's backend with
 * no working directory given (the session always gives its workdir). */
static char *
plain_exec_cwd (LlmsbxSandboxSession *session)
{
  const char *argv[] = { "pwd", NULL };
  g_autoptr(LlmsbxBackend) backend = NULL;
  g_autoptr(LlmsbxExecRequest) request = llmsbx_exec_request_new (argv);
  g_autoptr(LlmsbxOutputCollector) output = llmsbx_output_collector_new (0);
  g_autoptr(GBytes) out = NULL;
  g_autoptr(GError) error = NULL;
  int status = -1;

  backend = llmsbx_registry_create_backend (llmsbx_registry_get_default (), backend_test_name (), &error);
  g_assert_no_error (error);
  llmsbx_backend_exec (backend, llmsbx_sandbox_session_get_container_id (session), request, output, &status,
                       NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (status, ==, 0);
  out = llmsbx_output_collector_steal_bytes (output, LLMSBX_OUTPUT_STREAM_STDOUT);
  return g_strndup (g_bytes_get_data (out, NULL), g_bytes_get_size (out));
}

/* ---------------------------------------------------------------------------
 * Resources
 * ------------------------------------------------------------------------ */

/* The guide's "Resource Limits", plus cpu_shares and pids_limit. */
static void
test_resource_limits (void)
{
  g_autoptr(LlmsbxSandboxSession) session = NULL;
  g_autoptr(GHashTable) cgroups = NULL;
  g_autoptr(JsonObject) inspect = NULL;
  JsonObject *host;

  /* On Kubernetes memswap_limit is what a pod has anyway: no swap. */
  gint64 swap = backend_test_is_kubernetes () ? 1073741824 : 2147483648;

  session = test_open_session ("\"mem_limit\": \"1g\", \"cpu_period\": 100000, \"cpu_quota\": 50000, "
                               "\"memswap_limit\": \"2g\", \"cpu_shares\": 512, \"pids_limit\": 64, "
                               "\"network_mode\": \"none\"", NULL);
  cgroups = read_cgroups (session);

  assert_cpu_quota (cgroups, "50000", "100000");
  if (is_cgroup_v1 (cgroups))
    {
      assert_cgroup (cgroups, "memory/memory.limit_in_bytes", "1073741824");
      /* Only kernels with swap accounting have memsw; the engine's view below still counts. */
      if (g_hash_table_contains (cgroups, "memory/memory.memsw.limit_in_bytes"))
        {
          g_autofree char *memsw = g_strdup_printf ("%" G_GINT64_FORMAT, swap);

          assert_cgroup (cgroups, "memory/memory.memsw.limit_in_bytes", memsw);
        }
      assert_cgroup (cgroups, "cpu/cpu.shares", "512");
      assert_cgroup (cgroups, "pids/pids.max", "64");
    }
  else
    {
      assert_cgroup (cgroups, "memory.max", "1073741824");
      assert_cgroup (cgroups, "memory.swap.max", backend_test_is_kubernetes () ? "0" : "1073741824");
      /* cgroup v2 weight from shares: 1 + (512 - 2) * 9999 / 262142. */
      assert_cgroup (cgroups, "cpu.weight", "20");
      assert_cgroup (cgroups, "pids.max", "64");
    }

  /* bubblewrap keeps no record of limits beyond its cgroup, read above. */
  if (!backend_test_is_bubblewrap ())
    {
      inspect = inspect_container (session);
      host = host_config (inspect);
      g_assert_cmpint (json_object_get_int_member (host, "Memory"), ==, 1073741824);
      g_assert_cmpint (json_object_get_int_member (host, "MemorySwap"), ==, swap);
      g_assert_cmpint (json_object_get_int_member (host, "CpuShares"), ==, 512);
    }
  test_close (session);
}

/* cpu_count (docker-py's Windows-only key) and nano_cpus both become a CPU limit. */
static void
test_cpu_count_and_nano_cpus (void)
{
  g_autoptr(LlmsbxSandboxSession) counted = NULL;
  g_autoptr(LlmsbxSandboxSession) nano = NULL;
  g_autoptr(GHashTable) cgroups = NULL;

  /* A pod's CPU limit is nano_cpus' (limits.cpu): cpu_count and
   * cpuset_cpus have no equivalent. */
  if (backend_test_is_kubernetes ())
    {
      assert_refused_on_kubernetes ("\"cpu_count\": 1, \"network_mode\": \"none\"");
      assert_refused_on_kubernetes ("\"cpuset_cpus\": \"0\", \"network_mode\": \"none\"");
    }
  else
    {
      counted = test_open_session ("\"cpu_count\": 1, \"cpuset_cpus\": \"0\", \"network_mode\": \"none\"", NULL);
      cgroups = read_cgroups (counted);
      assert_cpu_quota (cgroups, "100000", "100000");
      assert_cgroup (cgroups, is_cgroup_v1 (cgroups) ? "cpuset/cpuset.cpus" : "cpuset.cpus.effective", "0");
      test_close (counted);
      g_clear_pointer (&cgroups, g_hash_table_unref);
    }

  nano = test_open_session ("\"nano_cpus\": 250000000, \"network_mode\": \"none\"", NULL);
  cgroups = read_cgroups (nano);
  assert_cpu_quota (cgroups, "25000", "100000");
  test_close (nano);
}

/* ---------------------------------------------------------------------------
 * Security
 * ------------------------------------------------------------------------ */

/* The guide's "Security Configuration". The user is not root, so the code
 * writer, the venv and pip must all work in a workdir the image gave to root. */
static void
test_security_settings (void)
{
  g_autoptr(LlmsbxSandboxSession) session = NULL;
  g_autoptr(JsonObject) inspect = NULL;
  g_autofree char *uid = NULL;
  g_autofree char *gid = NULL;
  g_autofree char *bounding = NULL;
  g_autofree char *effective = NULL;
  g_autofree char *no_new_privs = NULL;
  g_autofree char *written = NULL;
  g_autofree char *installed = NULL;
  g_autoptr(GError) error = NULL;
  char *wheel[] = { NULL, NULL };
  /* A cluster enforcing the baseline Pod Security policy (as the test
   * server does) refuses NET_ADMIN: there, NET_BIND_SERVICE (bit 10). */
  gboolean kube = backend_test_is_kubernetes ();
  guint64 kept = G_GUINT64_CONSTANT (1) << (kube ? 10 : 12);
  g_autofree char *members =
    g_strdup_printf ("\"privileged\": false, \"user\": \"1000:1000\", \"cap_drop\": [\"ALL\"], "
                     "\"cap_add\": [\"%s\"], "
                     "\"security_opt\": [\"no-new-privileges:true\"], \"network_mode\": \"none\"",
                     kube ? "NET_BIND_SERVICE" : "NET_ADMIN");

  session = test_open_session (members, NULL);

  uid = sh_line (session, "id -u");
  gid = sh_line (session, "id -g");
  g_assert_cmpstr (uid, ==, "1000");
  g_assert_cmpstr (gid, ==, "1000");

  /* Only NET_ADMIN (bit 12) is left in the bounding set. On Docker (and
   * the test server's Docker pods) a non-root user has no effective
   * capabilities after exec; Podman gives a non-root user the added ones
   * (docs/backends.md). */
  bounding = status_field (session, "CapBnd");
  effective = status_field (session, "CapEff");
  no_new_privs = status_field (session, "NoNewPrivs");
  g_assert_cmphex (hex_value (bounding), ==, kept);
  if (g_str_equal (backend_test_name (), "podman") || backend_test_is_bubblewrap ())
    g_assert_cmphex (hex_value (effective), ==, kept);
  else
    g_assert_cmphex (hex_value (effective), ==, 0);
  g_assert_cmpstr (no_new_privs, ==, "1");

  /* Code runs and writes as uid 1000 in the workdir. */
  written = test_run (session,
                      "import os\n"
                      "open('mine.txt', 'w').write('x')\n"
                      "print(os.getcwd(), os.stat('mine.txt').st_uid)\n");
  g_assert_cmpstr (written, ==, "/sandbox 1000\n");

  /* The environment (a venv in the workdir) and an offline install work too. */
  wheel[0] = test_make_wheel (session, "/tmp/wheels", "rtdemo", "42");
  llmsbx_sandbox_session_install (session, (const char * const *) wheel, NULL, &error);
  g_assert_no_error (error);
  g_free (wheel[0]);
  installed = test_run (session, "import os, rtdemo; print(rtdemo.VALUE, os.getuid())");
  g_assert_cmpstr (installed, ==, "42 1000\n");

  if (backend_test_is_bubblewrap ())
    {
      g_autoptr(GKeyFile) state = sandbox_state (session);

      g_assert_cmpuint (g_key_file_get_uint64 (state, "Sandbox", "Uid", NULL), ==, 1000);
      g_assert_cmpuint (g_key_file_get_uint64 (state, "Sandbox", "Gid", NULL), ==, 1000);
    }
  else
    {
      inspect = inspect_container (session);
      g_assert_false (json_object_get_boolean_member (host_config (inspect), "Privileged"));
      g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (inspect, "Config"), "User"),
                       ==, "1000:1000");
    }
  test_close (session);
}

/* A user given by name; the workdir is opened for it as for a numeric one. */
static void
test_user_by_name (void)
{
  g_autoptr(LlmsbxSandboxSession) session =
    test_open_session ("\"user\": \"nobody\", \"network_mode\": \"none\"", NULL);
  g_autofree char *out = test_run (session, "import os; open('f', 'w').write('1'); print(os.getuid())");

  g_assert_cmpstr (out, ==, "65534\n");
  test_close (session);
}

/* This process's own bounding set: privileged sandboxes get every capability
 * the kernel has, which an engine that lacks some cannot grant. */
static guint64
own_bounding_set (void)
{
  g_autofree char *status = NULL;
  g_autoptr(GError) error = NULL;
  const char *line;

  g_file_get_contents ("/proc/self/status", &status, NULL, &error);
  g_assert_no_error (error);
  line = strstr (status, "\nCapBnd:");
  g_assert_nonnull (line);
  return g_ascii_strtoull (line + strlen ("\nCapBnd:"), NULL, 16);
}

static void
test_privileged (void)
{
  g_autoptr(LlmsbxSandboxSession) plain = NULL;
  g_autoptr(LlmsbxSandboxSession) privileged = NULL;
  g_autoptr(JsonObject) inspect = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *last_cap = NULL;
  g_autofree char *plain_effective = NULL;
  g_autofree char *privileged_effective = NULL;
  g_autofree char *configs = NULL;
  g_autofree char *filter = test_run_filter ();
  g_autofree char *left = NULL;
  guint64 all;

  plain = test_open_session ("\"privileged\": false, \"network_mode\": \"none\"", NULL);
  last_cap = sh_line (plain, "cat /proc/sys/kernel/cap_last_cap");
  all = (G_GUINT64_CONSTANT (1) << (g_ascii_strtoull (last_cap, NULL, 10) + 1)) - 1;
  plain_effective = status_field (plain, "CapEff");
  g_assert_cmphex (hex_value (plain_effective), !=, all);
  test_close (plain);

  /* bubblewrap has no host privileges to give. */
  if (backend_test_is_bubblewrap ())
    {
      assert_refused_by_backend ("\"privileged\": true, \"network_mode\": \"none\"", "privileged");
      return;
    }
  /* A privileged pod is refused by the baseline Pod Security policy the
   * test server enforces, as a cluster's admission would: at open, saying
   * why, with no pod left. */
  if (backend_test_is_kubernetes ())
    {
      privileged = backend_test_session_new ("python", NULL);
      configs = test_configs ("\"privileged\": true, \"network_mode\": \"none\"");
      test_set_configs_json (privileged, configs, &error);
      g_assert_no_error (error);
      g_assert_false (llmsbx_sandbox_session_open (privileged, NULL, &error));
      g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT);
      g_test_message ("privileged pod -> %s", error->message);
      g_assert_nonnull (strstr (error->message, "privileged"));
      left = backend_test_ps (filter);
      g_assert_cmpstr (left, ==, "");
      return;
    }
  /* Podman grants a privileged sandbox the capabilities it has itself, and
   * so starts it on a confined host too (docs/backends.md). */
  if (g_str_equal (backend_test_name (), "podman"))
    all = own_bounding_set ();
  else if (own_bounding_set () != all)
    {
      /* This host (itself confined) cannot grant every capability: the engine
       * refuses to start the sandbox, and open() says why and leaves nothing. */
      privileged = backend_test_session_new ("python", NULL);
      configs = test_configs ("\"privileged\": true, \"network_mode\": \"none\"");
      llmsbx_sandbox_session_set_runtime_configs_json (privileged, configs, &error);
      g_assert_no_error (error);
      g_assert_false (llmsbx_sandbox_session_open (privileged, NULL, &error));
      g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_CONTAINER_FAILED);
      g_assert_nonnull (strstr (error->message, "caps"));
      left = backend_test_ps (filter);
      g_assert_cmpstr (left, ==, "");
      return;
    }

  privileged = test_open_session ("\"privileged\": true, \"network_mode\": \"none\"", NULL);
  privileged_effective = status_field (privileged, "CapEff");
  g_assert_cmphex (hex_value (privileged_effective), ==, all);
  inspect = inspect_container (privileged);
  g_assert_true (json_object_get_boolean_member (host_config (inspect), "Privileged"));
  test_close (privileged);
}

/* ---------------------------------------------------------------------------
 * Filesystems
 * ------------------------------------------------------------------------ */

static void
test_read_only_and_tmpfs (void)
{
  g_autoptr(LlmsbxSandboxSession) session = NULL;
  g_autoptr(LlmsbxExecutionResult) touched = NULL;
  g_autoptr(LlmsbxExecutionResult) in_tmp = NULL;
  g_autofree char *root = NULL;
  g_autofree char *tmp = NULL;
  g_autofree char *scratch = NULL;
  g_autofree char *ran = NULL;
  g_autofree char *executed = NULL;

  session = test_open_session ("\"read_only\": true, "
                               "\"tmpfs\": {\"/tmp\": \"size=16m\", \"/scratch\": \"rw,exec,size=8m,mode=1777\"}, "
                               "\"network_mode\": \"none\"", NULL);

  root = mount_line (session, "/");
  g_assert_true (has_mount_option (root, "ro"));
  touched = sh_result (session, "touch /not-here");
  g_assert_cmpint (llmsbx_execution_result_get_exit_code (touched), !=, 0);
  g_assert_nonnull (strstr (llmsbx_execution_result_get_stderr (touched), "Read-only file system"));

  tmp = mount_line (session, "/tmp");
  g_assert_true (g_str_has_prefix (strchr (tmp, ' ') + 1, "/tmp tmpfs "));
  g_assert_true (has_mount_option (tmp, "size=16384k"));
  scratch = mount_line (session, "/scratch");
  g_assert_true (has_mount_option (scratch, "size=8192k"));
  g_assert_false (has_mount_option (scratch, "noexec"));

  /* Code still runs: the workdir is a volume, the only writable place besides the tmpfs. */
  ran = test_run (session, "open('/tmp/t', 'w').write('t'); open('here', 'w').write('h'); print('ok')");
  g_assert_cmpstr (ran, ==, "ok\n");

  executed = sh_line (session, "cp /bin/true /scratch/t && /scratch/t && echo ran");
  g_assert_cmpstr (executed, ==, "ran");
  /* Docker mounts a tmpfs noexec unless told otherwise. */
  if (g_str_equal (backend_test_name (), "docker"))
    {
      g_assert_true (has_mount_option (tmp, "noexec"));
      in_tmp = sh_result (session, "cp /bin/true /tmp/t2 && /tmp/t2");
      g_assert_cmpint (llmsbx_execution_result_get_exit_code (in_tmp), ==, 126);
    }
  test_close (session);
}

/* The guide's "Volume Mounts" (host directories the test makes), and the list form. */
static void
test_volumes (void)
{
  g_autoptr(LlmsbxSandboxSession) session = NULL;
  g_autoptr(LlmsbxExecutionResult) refused = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *host = test_host_dir ("llmsbx-volumes");
  g_autofree char *data = g_build_filename (host, "data", NULL);
  g_autofree char *config = g_build_filename (host, "config", NULL);
  g_autofree char *listed = g_build_filename (host, "listed", NULL);
  g_autofree char *config_file = g_build_filename (config, "settings.ini", NULL);
  g_autofree char *listed_file = g_build_filename (listed, "l.txt", NULL);
  g_autofree char *written = g_build_filename (data, "from-sandbox.txt", NULL);
  g_autofree char *members = NULL;
  g_autofree char *read_back = NULL;
  g_autofree char *contents = NULL;
  g_autofree char *data_mount = NULL;
  g_autofree char *config_mount = NULL;

  g_assert_no_error (error);
  g_assert_cmpint (g_mkdir (data, 0755), ==, 0);
  g_assert_cmpint (g_mkdir (config, 0755), ==, 0);
  g_assert_cmpint (g_mkdir (listed, 0755), ==, 0);
  g_file_set_contents (config_file, "debug=1\n", -1, &error);
  g_assert_no_error (error);
  g_file_set_contents (listed_file, "listed\n", -1, &error);
  g_assert_no_error (error);

  members = g_strdup_printf ("\"volumes\": {\"%s\": {\"bind\": \"/data\", \"mode\": \"rw\"}, "
                             "\"%s\": {\"bind\": \"/config\", \"mode\": \"ro\"}}, \"network_mode\": \"none\"",
                             data, config);
  /* A pod mounts no directory of this host (hostPath is the node's, and the
   * baseline policy forbids it): both forms are refused. */
  if (backend_test_is_kubernetes ())
    {
      g_autofree char *list_form = g_strdup_printf ("\"volumes\": [\"%s:/listed:ro\"], \"network_mode\": \"none\"",
                                                    listed);

      assert_refused_on_kubernetes (members);
      assert_refused_on_kubernetes (list_form);
      return;
    }
  session = test_open_session (members, NULL);

  read_back = test_run (session,
                        "print(open('/config/settings.ini').read(), end='')\n"
                        "open('/data/from-sandbox.txt', 'w').write('hello host')\n");
  g_assert_cmpstr (read_back, ==, "debug=1\n");
  g_file_get_contents (written, &contents, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (contents, ==, "hello host");

  refused = sh_result (session, "touch /config/new");
  g_assert_cmpint (llmsbx_execution_result_get_exit_code (refused), !=, 0);
  g_assert_nonnull (strstr (llmsbx_execution_result_get_stderr (refused), "Read-only file system"));
  data_mount = mount_line (session, "/data");
  config_mount = mount_line (session, "/config");
  g_assert_true (has_mount_option (data_mount, "rw"));
  g_assert_true (has_mount_option (config_mount, "ro"));
  test_close (session);
  g_clear_object (&session);

  /* docker-py's list form: "host:container:mode". */
  g_free (members);
  members = g_strdup_printf ("\"volumes\": [\"%s:/listed:ro\"], \"network_mode\": \"none\"", listed);
  session = test_open_session (members, NULL);
  g_free (read_back);
  read_back = sh_line (session, "cat /listed/l.txt");
  g_assert_cmpstr (read_back, ==, "listed");
  g_free (config_mount);
  config_mount = mount_line (session, "/listed");
  g_assert_true (has_mount_option (config_mount, "ro"));
  test_close (session);

}

/* ---------------------------------------------------------------------------
 * Environment and process
 * ------------------------------------------------------------------------ */

/* The guide's "Environment Variables". */
static void
test_environment (void)
{
  g_autoptr(LlmsbxSandboxSession) session = NULL;
  g_autofree char *out = NULL;

  /* PYTHONUNBUFFERED is one the library sets itself: the user's value wins. */
  session = test_open_session ("\"environment\": {\"PYTHONPATH\": \"/app:/libs\", \"DEBUG\": \"true\", "
                               "\"API_KEY\": \"your-api-key\", \"PYTHONUNBUFFERED\": \"\"}, "
                               "\"network_mode\": \"none\"", NULL);
  out = test_run (session,
                  "import os, sys\n"
                  "print(os.environ['PYTHONPATH'], os.environ['DEBUG'], os.environ['API_KEY'])\n"
                  "print('/app' in sys.path, '/libs' in sys.path)\n"
                  "print(repr(os.environ['PYTHONUNBUFFERED']))\n");
  g_assert_cmpstr (out, ==, "/app:/libs true your-api-key\nTrue True\n''\n");
  test_close (session);
}

/* The guide's Docker example: working_dir is the container's own directory
 * (docker-py's meaning); code still runs in the session's workdir. */
static void
test_guide_docker_example (void)
{
  g_autoptr(LlmsbxSandboxSession) session = NULL;
  g_autoptr(JsonObject) inspect = NULL;
  g_autoptr(GHashTable) cgroups = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *host = test_host_dir ("llmsbx-host-path");
  g_autofree char *host_file = g_build_filename (host, "input.txt", NULL);
  g_autofree char *members = NULL;
  g_autofree char *out = NULL;
  g_autofree char *init_cwd = NULL;
  g_autofree char *plain_cwd = NULL;
  g_autofree char *interfaces = NULL;

  g_assert_no_error (error);
  g_file_set_contents (host_file, "from the host\n", -1, &error);
  g_assert_no_error (error);
  members = g_strdup_printf ("\"privileged\": false, \"mem_limit\": \"512m\", \"cpu_period\": 100000, "
                             "\"cpu_quota\": 50000, \"network_mode\": \"bridge\", "
                             "\"volumes\": {\"%s\": {\"bind\": \"/container/path\", \"mode\": \"ro\"}}, "
                             "\"environment\": {\"PYTHONPATH\": \"/app\"}, \"working_dir\": \"/workspace\"",
                             host);
  /* A pod has no host directory nor a network of its choosing: the
   * example is refused as it stands, and the rest of it goes through the
   * manifest. */
  if (backend_test_is_kubernetes ())
    {
      g_autofree char *file = NULL;

      assert_refused_on_kubernetes (members);
      session = test_open_session ("\"privileged\": false, \"mem_limit\": \"512m\", \"cpu_period\": 100000, "
                                   "\"cpu_quota\": 50000, \"environment\": {\"PYTHONPATH\": \"/app\"}, "
                                   "\"working_dir\": \"/workspace\"", NULL);
      cgroups = read_cgroups (session);
      assert_cgroup (cgroups, is_cgroup_v1 (cgroups) ? "memory/memory.limit_in_bytes" : "memory.max", "536870912");
      assert_cpu_quota (cgroups, "50000", "100000");
      out = test_run (session, "import os; print(os.environ['PYTHONPATH'], os.getcwd())\n");
      g_assert_cmpstr (out, ==, "/app /sandbox\n");
      plain_cwd = plain_exec_cwd (session);
      g_assert_cmpstr (plain_cwd, ==, "/workspace\n");
      init_cwd = sh_line (session, "readlink /proc/1/cwd");
      g_assert_cmpstr (init_cwd, ==, "/workspace");
      inspect = inspect_container (session);
      g_assert_false (json_object_get_boolean_member (host_config (inspect), "Privileged"));
      g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (inspect, "Config"),
                                                      "WorkingDir"), ==, "/workspace");
      file = sh_line (session, "test -e /container/path || echo none");
      g_assert_cmpstr (file, ==, "none");
      test_close (session);
      return;
    }
  session = test_open_session (members, NULL);

  cgroups = read_cgroups (session);
  assert_cgroup (cgroups, is_cgroup_v1 (cgroups) ? "memory/memory.limit_in_bytes" : "memory.max", "536870912");
  assert_cpu_quota (cgroups, "50000", "100000");

  out = test_run (session,
                  "import os\n"
                  "print(open('/container/path/input.txt').read(), end='')\n"
                  "print(os.environ['PYTHONPATH'], os.getcwd())\n");
  g_assert_cmpstr (out, ==, "from the host\n/app /sandbox\n");

  /* working_dir is the container's own directory: a command that names no
   * working directory of its own starts there, and so did PID 1 on the
   * engines (bubblewrap's PID 1 is bwrap's reaper). */
  plain_cwd = plain_exec_cwd (session);
  g_assert_cmpstr (plain_cwd, ==, "/workspace\n");
  if (!backend_test_is_bubblewrap ())
    {
      init_cwd = sh_line (session, "readlink /proc/1/cwd");
      g_assert_cmpstr (init_cwd, ==, "/workspace");
    }

  /* A bridge network: an interface besides lo (nothing is sent on it). */
  interfaces = sh_line (session, "ls /sys/class/net | sort | tr '\\n' ' '");
  g_assert_cmpstr (interfaces, !=, "lo");

  if (backend_test_is_bubblewrap ())
    {
      g_autoptr(GKeyFile) state = sandbox_state (session);
      g_autofree char *workdir = g_key_file_get_string (state, "Sandbox", "Cwd", NULL);

      g_assert_cmpstr (workdir, ==, "/workspace");
    }
  else
    {
      inspect = inspect_container (session);
      g_assert_cmpstr (json_object_get_string_member (host_config (inspect), "NetworkMode"), ==, "bridge");
      g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (inspect, "Config"),
                                                      "WorkingDir"), ==, "/workspace");
    }
  test_close (session);
}

/* ulimits, init, shm_size, devices, extra_hosts, dns, hostname: one sandbox. */
static void
test_process_and_system_keys (void)
{
  g_autoptr(LlmsbxSandboxSession) session = NULL;
  g_autoptr(LlmsbxSandboxSession) with_init = NULL;
  g_autofree char *soft = NULL;
  g_autofree char *hard = NULL;
  g_autofree char *init = NULL;
  g_autofree char *shm = NULL;
  g_autofree char *device = NULL;
  g_autofree char *hosts = NULL;
  g_autofree char *resolv = NULL;
  g_autofree char *hostname = NULL;
  g_autofree char *init_again = NULL;

  /* A pod has no ulimits, init, /dev/shm size, devices or DNS servers of
   * its own (dnsConfig is the cluster DNS's): refused; its hostname it
   * has, and extra_hosts' hostAliases the test server does not write. */
  if (backend_test_is_kubernetes ())
    {
      assert_refused_on_kubernetes ("\"ulimits\": [{\"name\": \"nofile\", \"soft\": 1024, \"hard\": 2048}]");
      assert_refused_on_kubernetes ("\"init\": false");
      assert_refused_on_kubernetes ("\"init\": true");
      assert_refused_on_kubernetes ("\"shm_size\": \"32m\"");
      assert_refused_on_kubernetes ("\"devices\": [\"/dev/zero:/dev/llmsbx-zero:rwm\"]");
      assert_refused_on_kubernetes ("\"extra_hosts\": {\"db.local\": \"127.0.0.2\"}");
      assert_refused_on_kubernetes ("\"dns\": [\"8.8.8.8\", \"8.8.4.4\"]");
      session = test_open_session ("\"hostname\": \"sbx-host\", \"network_mode\": \"none\"", NULL);
      hostname = sh_line (session, "cat /etc/hostname");
      g_assert_cmpstr (hostname, ==, "sbx-host");
      g_free (hostname);
      hostname = sh_line (session, "hostname");
      g_assert_cmpstr (hostname, ==, "sbx-host");
      test_close (session);
      return;
    }
  /* bubblewrap has no devices to pass, no init to choose (its own runs),
   * and writes no name service settings of the user's. */
  if (backend_test_is_bubblewrap ())
    {
      assert_refused_by_backend ("\"init\": false", "init");
      assert_refused_by_backend ("\"devices\": [\"/dev/zero:/dev/llmsbx-zero:rwm\"]", "devices");
      assert_refused_by_backend ("\"extra_hosts\": {\"db.local\": \"127.0.0.2\"}", "extra_hosts");
      assert_refused_by_backend ("\"dns\": [\"8.8.8.8\", \"8.8.4.4\"]", "dns");
      session = test_open_session ("\"ulimits\": [{\"name\": \"nofile\", \"soft\": 1024, \"hard\": 2048}], "
                                   "\"shm_size\": \"32m\", \"hostname\": \"sbx-host\", "
                                   "\"network_mode\": \"none\"", NULL);
    }
  else
    session = test_open_session ("\"ulimits\": [{\"name\": \"nofile\", \"soft\": 1024, \"hard\": 2048}], "
                                 "\"init\": false, \"shm_size\": \"32m\", "
                                 "\"devices\": [\"/dev/zero:/dev/llmsbx-zero:rwm\"], "
                                 "\"extra_hosts\": {\"db.local\": \"127.0.0.2\"}, "
                                 "\"dns\": [\"8.8.8.8\", \"8.8.4.4\"], \"hostname\": \"sbx-host\", "
                                 "\"network_mode\": \"none\"", NULL);

  /* The sandbox's limits are PID 1's. An exec'd command sometimes gets the
   * soft nofile limit raised to the hard one, on both engines: runc 1.1 sets
   * it racing with the Go runtime of its own init (runc issue 4195,
   * docs/backends.md). */
  {
    g_autofree char *exec_soft = sh_line (session, "ulimit -n");

    g_assert_true (g_str_equal (exec_soft, "1024") || g_str_equal (exec_soft, "2048"));
  }
  soft = sh_line (session, "sed -n 's/^Max open files *\\([0-9]*\\).*/\\1/p' /proc/1/limits");
  hard = sh_line (session, "ulimit -Hn");
  g_assert_cmpstr (soft, ==, "1024");
  g_assert_cmpstr (hard, ==, "2048");

  /* Without an init process, the keep-alive command is PID 1; on bubblewrap
   * it is always bwrap's reaper. */
  init = sh_line (session, "cat /proc/1/comm");
  g_assert_cmpstr (init, ==, backend_test_is_bubblewrap () ? "bwrap" : "sleep");

  shm = mount_line (session, "/dev/shm");
  g_assert_true (has_mount_option (shm, "size=32768k"));
  hostname = sh_line (session, "cat /etc/hostname");
  g_assert_cmpstr (hostname, ==, "sbx-host");
  if (backend_test_is_bubblewrap ())
    {
      g_free (hostname);
      hostname = sh_line (session, "hostname");
      g_assert_cmpstr (hostname, ==, "sbx-host");
      test_close (session);
      return;
    }

  device = sh_line (session, "test -c /dev/llmsbx-zero && head -c 3 /dev/llmsbx-zero | od -An -tx1");
  g_assert_cmpstr (device, ==, "00 00 00");

  hosts = sh_line (session, "grep -w db.local /etc/hosts");
  g_assert_true (g_str_has_prefix (hosts, "127.0.0.2"));
  /* Podman writes no DNS servers for a sandbox without a network; it keeps
   * them in the configuration (docs/backends.md). */
  if (g_str_equal (backend_test_name (), "podman"))
    {
      g_autoptr(JsonObject) inspect = inspect_container (session);
      JsonArray *dns = json_object_get_array_member (host_config (inspect), "Dns");

      g_assert_cmpuint (json_array_get_length (dns), ==, 2);
      g_assert_cmpstr (json_array_get_string_element (dns, 0), ==, "8.8.8.8");
      g_assert_cmpstr (json_array_get_string_element (dns, 1), ==, "8.8.4.4");
    }
  else
    {
      resolv = sh_line (session, "grep ^nameserver /etc/resolv.conf | tr '\\n' ' '");
      g_assert_cmpstr (resolv, ==, "nameserver 8.8.8.8 nameserver 8.8.4.4");
    }
  test_close (session);

  /* init: true puts an init process in front of it. */
  with_init = test_open_session ("\"init\": true, \"network_mode\": \"none\"", NULL);
  init_again = sh_line (with_init, "cat /proc/1/comm");
  g_assert_cmpstr (init_again, !=, "sleep");
  test_close (with_init);
}

/* The rest of the common docker-py keys. */
static void
test_more_docker_py_keys (void)
{
  g_autoptr(LlmsbxSandboxSession) session = NULL;
  g_autoptr(JsonObject) inspect = NULL;
  g_autoptr(GHashTable) cgroups = NULL;
  g_autofree char *groups = NULL;
  g_autofree char *sysctl = NULL;
  g_autofree char *domain = NULL;
  g_autofree char *shm = NULL;
  g_autofree char *reservation = NULL;
  JsonNode *stop_signal;
  JsonArray *search;

  /* None of them has a meaning without an engine: no soft limits or OOM
   * settings of its own, one user, no sysctls, name service or domain, no
   * stop signal, one IPC namespace per sandbox. */
  if (backend_test_is_bubblewrap ())
    {
      assert_refused_by_backend ("\"mem_limit\": \"256m\", \"mem_reservation\": \"128m\"", "mem_reservation");
      assert_refused_by_backend ("\"oom_kill_disable\": true", "oom_kill_disable");
      assert_refused_by_backend ("\"group_add\": [\"1234\"]", "group_add");
      assert_refused_by_backend ("\"sysctls\": {\"net.ipv4.ip_unprivileged_port_start\": \"80\"}", "sysctls");
      assert_refused_by_backend ("\"dns_search\": [\"example.test\"]", "dns_search");
      assert_refused_by_backend ("\"domainname\": \"example.test\"", "domainname");
      assert_refused_by_backend ("\"stop_signal\": \"SIGUSR1\"", "stop_signal");
      assert_refused_by_backend ("\"ipc_mode\": \"none\"", "ipc_mode");
      return;
    }

  /* A pod has supplementalGroups; none of the others: no soft limit or
   * OOM setting of its own, the test server applies no sysctls, no name
   * service or domain settings, stop signal or IPC mode. */
  if (backend_test_is_kubernetes ())
    {
      assert_refused_on_kubernetes ("\"mem_limit\": \"256m\", \"mem_reservation\": \"128m\"");
      assert_refused_on_kubernetes ("\"oom_kill_disable\": true");
      assert_refused_on_kubernetes ("\"sysctls\": {\"net.ipv4.ip_unprivileged_port_start\": \"80\"}");
      assert_refused_on_kubernetes ("\"dns_search\": [\"example.test\"]");
      assert_refused_on_kubernetes ("\"domainname\": \"example.test\"");
      assert_refused_on_kubernetes ("\"stop_signal\": \"SIGUSR1\"");
      assert_refused_on_kubernetes ("\"ipc_mode\": \"none\"");
      session = test_open_session ("\"group_add\": [\"1234\"], \"network_mode\": \"none\"", NULL);
      groups = sh_line (session, "id -G");
      g_assert_nonnull (strstr (groups, "1234"));
      test_close (session);
      return;
    }

  session = test_open_session ("\"mem_limit\": \"256m\", \"mem_reservation\": \"128m\", "
                               "\"oom_kill_disable\": true, \"group_add\": [\"1234\"], "
                               "\"sysctls\": {\"net.ipv4.ip_unprivileged_port_start\": \"80\"}, "
                               "\"dns_search\": [\"example.test\"], \"domainname\": \"example.test\", "
                               "\"stop_signal\": \"SIGUSR1\", \"ipc_mode\": \"none\", "
                               "\"network_mode\": \"none\"", NULL);

  groups = sh_line (session, "id -G");
  g_assert_nonnull (strstr (groups, "1234"));
  sysctl = sh_line (session, "cat /proc/sys/net/ipv4/ip_unprivileged_port_start");
  g_assert_cmpstr (sysctl, ==, "80");
  /* No IPC namespace resources: no /dev/shm at all. */
  shm = mount_line (session, "/dev/shm");
  g_assert_cmpstr (shm, ==, "");

  reservation = sh_line (session, "cd /sys/fs/cgroup && cat memory/memory.soft_limit_in_bytes 2>/dev/null "
                                  "|| cat memory.low");
  g_assert_cmpstr (reservation, ==, "134217728");
  cgroups = read_cgroups (session);
  if (is_cgroup_v1 (cgroups))
    {
      g_autofree char *oom = sh_line (session, "grep oom_kill_disable /sys/fs/cgroup/memory/memory.oom_control");
      g_assert_cmpstr (oom, ==, "oom_kill_disable 1");
    }

  inspect = inspect_container (session);
  g_assert_true (json_object_get_boolean_member (host_config (inspect), "OomKillDisable"));
  /* Docker records the name, Podman the number. */
  stop_signal = json_object_get_member (json_object_get_object_member (inspect, "Config"), "StopSignal");
  if (json_node_get_value_type (stop_signal) == G_TYPE_INT64)
    g_assert_cmpint (json_node_get_int (stop_signal), ==, SIGUSR1);
  else
    g_assert_cmpstr (json_node_get_string (stop_signal), ==, "SIGUSR1");
  search = json_object_get_array_member (host_config (inspect), "DnsSearch");
  g_assert_cmpstr (json_array_get_string_element (search, 0), ==, "example.test");
  /* Docker writes the search domain even without a network; Podman writes no
   * DNS configuration then (docs/backends.md). */
  if (g_str_equal (backend_test_name (), "docker"))
    {
      g_autofree char *resolv = sh_line (session, "grep ^search /etc/resolv.conf");

      g_assert_cmpstr (resolv, ==, "search example.test");
    }
  /* Podman 4.3's compatible API ignores Domainname (and refuses the
   * kernel.domainname sysctl), so a sandbox there has none. */
  domain = sh_line (session, "cat /proc/sys/kernel/domainname");
  g_assert_cmpstr (domain, ==, g_str_equal (backend_test_name (), "podman") ? "(none)" : "example.test");
  test_close (session);
}

static void
test_labels (void)
{
  g_autoptr(LlmsbxSandboxSession) session = backend_test_session_new ("python", NULL);
  g_autoptr(JsonObject) inspect = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *configs = NULL;
  JsonObject *labels;

  configs = g_strdup_printf ("{\"labels\": {\"" TEST_RUN_LABEL "\": \"%s\", \"com.example.team\": \"data\"}, "
                             "\"network_mode\": \"none\"}", test_run_id ());
  /* On Kubernetes, as the pod's metadata.labels. */
  test_set_configs_json (session, configs, &error);
  g_assert_no_error (error);
  llmsbx_sandbox_session_open (session, NULL, &error);
  g_assert_no_error (error);

  /* The session's own labels are kept next to the user's. */
  if (backend_test_is_bubblewrap ())
    {
      g_autoptr(GKeyFile) state = sandbox_state (session);
      g_auto(GStrv) kept = g_key_file_get_string_list (state, "Sandbox", "Labels", NULL, NULL);

      g_assert_nonnull (kept);
      g_assert_true (g_strv_contains ((const char * const *) kept, "com.example.team=data"));
      g_assert_true (g_strv_contains ((const char * const *) kept, "io.llmsbx.managed-by=libllmsbx"));
    }
  else
    {
      /* The pod's own labels: what the API lists it by. */
      if (backend_test_is_kubernetes ())
        {
          g_autoptr(JsonObject) pod = kube_test_pod (llmsbx_sandbox_session_get_container_id (session));

          g_assert_nonnull (pod);
          labels = json_object_get_object_member (json_object_get_object_member (pod, "metadata"), "labels");
          g_assert_cmpstr (json_object_get_string_member (labels, "com.example.team"), ==, "data");
          g_assert_cmpstr (json_object_get_string_member (labels, "io.llmsbx.managed-by"), ==, "libllmsbx");
        }
      inspect = inspect_container (session);
      labels = json_object_get_object_member (json_object_get_object_member (inspect, "Config"), "Labels");
      g_assert_cmpstr (json_object_get_string_member (labels, "com.example.team"), ==, "data");
      g_assert_cmpstr (json_object_get_string_member (labels, "io.llmsbx.managed-by"), ==, "libllmsbx");
    }
  test_close (session);
}

/* ---------------------------------------------------------------------------
 * Network
 * ------------------------------------------------------------------------ */

/* The guide's "Network Configuration": host networking, a port mapping and
 * DNS servers. Applied, as the engine reports it; with host networking the
 * sandbox shares this process's network namespace (the test runs in the
 * engine's). Nothing is sent anywhere. */
static void
test_guide_network_example (void)
{
  g_autoptr(LlmsbxSandboxSession) session = NULL;
  g_autoptr(JsonObject) inspect = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *inside = NULL;
  g_autofree char *outside = g_file_read_link ("/proc/self/ns/net", &error);
  JsonObject *host;
  JsonArray *bindings;
  JsonArray *dns;

  g_assert_no_error (error);
  /* bubblewrap publishes no ports and writes no DNS servers of the user's:
   * refused; the host's network it has. */
  if (backend_test_is_bubblewrap ())
    {
      assert_refused_by_backend ("\"network_mode\": \"host\", \"ports\": {\"8080/tcp\": 8080}", "ports");
      assert_refused_by_backend ("\"network_mode\": \"host\", \"dns\": [\"8.8.8.8\", \"8.8.4.4\"]", "dns");
      session = test_open_session ("\"network_mode\": \"host\"", NULL);
      inside = sh_line (session, "readlink /proc/self/ns/net");
      g_assert_cmpstr (inside, ==, outside);
      test_close (session);
      return;
    }
  /* A pod's network is the cluster's (hostNetwork is beyond the baseline
   * policy), ports are a Service's, DNS the cluster's. */
  if (backend_test_is_kubernetes ())
    {
      assert_refused_on_kubernetes ("\"network_mode\": \"host\"");
      assert_refused_on_kubernetes ("\"ports\": {\"8080/tcp\": 8080}");
      assert_refused_on_kubernetes ("\"dns\": [\"8.8.8.8\", \"8.8.4.4\"]");
      return;
    }
  session = test_open_session ("\"network_mode\": \"host\", \"ports\": {\"8080/tcp\": 8080}, "
                               "\"dns\": [\"8.8.8.8\", \"8.8.4.4\"]", NULL);
  inside = sh_line (session, "readlink /proc/self/ns/net");
  g_assert_cmpstr (inside, ==, outside);

  inspect = inspect_container (session);
  host = host_config (inspect);
  g_assert_cmpstr (json_object_get_string_member (host, "NetworkMode"), ==, "host");
  /* With the host's network nothing is published; Docker still records the
   * binding, Podman drops it (docs/backends.md). */
  if (g_str_equal (backend_test_name (), "podman"))
    g_assert_false (json_object_has_member (json_object_get_object_member (host, "PortBindings"), "8080/tcp"));
  else
    {
      bindings = json_object_get_array_member (json_object_get_object_member (host, "PortBindings"), "8080/tcp");
      g_assert_cmpuint (json_array_get_length (bindings), ==, 1);
      g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (bindings, 0), "HostPort"),
                       ==, "8080");
    }
  dns = json_object_get_array_member (host, "Dns");
  g_assert_cmpuint (json_array_get_length (dns), ==, 2);
  g_assert_cmpstr (json_array_get_string_element (dns, 0), ==, "8.8.8.8");
  test_close (session);
}

/* A port published on loopback only, with a host port the engine picks. */
static void
test_ports_on_loopback (void)
{
  g_autoptr(LlmsbxSandboxSession) session = NULL;
  g_autoptr(JsonObject) inspect = NULL;
  JsonObject *ports;
  JsonObject *binding;
  guint64 port = 0;

  if (backend_test_is_bubblewrap ())
    {
      assert_refused_by_backend ("\"network_mode\": \"bridge\", \"ports\": {\"5000/tcp\": \"127.0.0.1:\"}",
                                 "ports");
      return;
    }
  if (backend_test_is_kubernetes ())
    {
      assert_refused_on_kubernetes ("\"network_mode\": \"bridge\", \"ports\": {\"5000/tcp\": \"127.0.0.1:\"}");
      return;
    }
  session = test_open_session ("\"network_mode\": \"bridge\", \"ports\": {\"5000/tcp\": \"127.0.0.1:\"}", NULL);
  inspect = inspect_container (session);
  ports = json_object_get_object_member (json_object_get_object_member (inspect, "NetworkSettings"), "Ports");
  binding = json_array_get_object_element (json_object_get_array_member (ports, "5000/tcp"), 0);
  g_assert_cmpstr (json_object_get_string_member (binding, "HostIp"), ==, "127.0.0.1");
  g_assert_true (g_ascii_string_to_unsigned (json_object_get_string_member (binding, "HostPort"), 10, 1, 65535,
                                             &port, NULL));
  test_close (session);
}

/* ---------------------------------------------------------------------------
 * Refusals
 * ------------------------------------------------------------------------ */

/* @members refused: on Kubernetes, as every runtime config is, before it
 * is read; elsewhere as @code naming @first_needle and @second_needle. */
static void
assert_config_refused (const char *members,
                       int         code,
                       const char *first_needle,
                       const char *second_needle)
{
  if (backend_test_is_kubernetes ())
    assert_refused_on_kubernetes (members);
  else
    assert_open_fails (members, code, first_needle, second_needle);
}

static void
test_refused_configs (void)
{
  /* Caught before anything is created. */
  assert_config_refused ("\"mem_limt\": \"1g\"", LLMSBX_ERROR_INVALID_ARGUMENT, "'mem_limt'", NULL);
  assert_config_refused ("\"mem_limit\": \"12q\"", LLMSBX_ERROR_INVALID_ARGUMENT, "'mem_limit'", "12q");
  assert_config_refused ("\"pids_limit\": \"many\"", LLMSBX_ERROR_INVALID_ARGUMENT, "'pids_limit'", "many");
  assert_config_refused ("\"volumes\": {\"/tmp\": {\"bind\": \"relative\"}}", LLMSBX_ERROR_INVALID_ARGUMENT,
                     "'volumes'", NULL);
  assert_config_refused ("\"auto_remove\": true", LLMSBX_ERROR_INVALID_ARGUMENT, "'auto_remove'", NULL);

  /* A host key that is not a path names a volume the engine would create and
   * close would leave behind: refused, and none is made. */
  {
    g_autofree char *volume = g_strdup_printf ("llmsbx-test-named-%.8s", test_run_id ());
    g_autofree char *members = g_strdup_printf ("\"volumes\": {\"%s\": {\"bind\": \"/data\"}}", volume);
    g_autofree char *listed = g_strdup_printf ("\"volumes\": [\"%s:/data\"]", volume);
    g_autofree char *named = g_strdup_printf ("'%s'", volume);
    gboolean made;

    assert_config_refused (members, LLMSBX_ERROR_INVALID_ARGUMENT, "'volumes'", named);
    assert_config_refused (listed, LLMSBX_ERROR_INVALID_ARGUMENT, "'volumes'", named);
    /* A pod has no named volumes: the refusal above is all there is. */
    made = !backend_test_is_kubernetes () && test_object_exists ("volume", volume);
    if (made)
      g_free (test_cli (FALSE, "volume", "rm", "-f", volume, NULL));
    g_assert_false (made);
  }

  /* On Kubernetes a bad value in the pod manifest they become is the API
   * server's to refuse: at open, with its reason, and no pod left. */
  if (backend_test_is_kubernetes ())
    {
      g_autoptr(LlmsbxSandboxSession) session = backend_test_session_new ("python", NULL);
      g_autofree char *configs = test_configs ("\"mem_limit\": \"12q\"");
      g_autofree char *filter = test_run_filter ();
      g_autofree char *left = NULL;
      g_autoptr(GError) error = NULL;

      test_set_configs_json (session, configs, &error);
      g_assert_no_error (error);
      g_assert_false (llmsbx_sandbox_session_open (session, NULL, &error));
      g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT);
      g_assert_nonnull (strstr (error->message, "quantities must match"));
      left = backend_test_ps (filter);
      g_assert_cmpstr (left, ==, "");
    }

  /* Refused by the engine itself: reported with its reason, nothing left. */
  assert_config_refused ("\"nano_cpus\": 500000000, \"cpu_period\": 100000", LLMSBX_ERROR_INVALID_ARGUMENT,
                     NULL, NULL);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
  backend_test_prepare ();
  test_run_id ();

  test_add_isolated ("/runtime-configs/resource-limits", test_resource_limits);
  test_add_isolated ("/runtime-configs/cpu-count-and-nano-cpus", test_cpu_count_and_nano_cpus);
  test_add_isolated ("/runtime-configs/security-settings", test_security_settings);
  test_add_isolated ("/runtime-configs/user-by-name", test_user_by_name);
  test_add_isolated ("/runtime-configs/privileged", test_privileged);
  test_add_isolated ("/runtime-configs/read-only-and-tmpfs", test_read_only_and_tmpfs);
  test_add_isolated ("/runtime-configs/volumes", test_volumes);
  test_add_isolated ("/runtime-configs/environment", test_environment);
  test_add_isolated ("/runtime-configs/guide-docker-example", test_guide_docker_example);
  test_add_isolated ("/runtime-configs/process-and-system-keys", test_process_and_system_keys);
  test_add_isolated ("/runtime-configs/more-docker-py-keys", test_more_docker_py_keys);
  test_add_isolated ("/runtime-configs/labels", test_labels);
  test_add_isolated ("/runtime-configs/guide-network-example", test_guide_network_example);
  test_add_isolated ("/runtime-configs/ports-on-loopback", test_ports_on_loopback);
  test_add_isolated ("/runtime-configs/refused-configs", test_refused_configs);

  return g_test_run ();
}
