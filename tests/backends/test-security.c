/* test-security.c: security policies enforced on a real engine, and the
 * presets' container settings read from inside the sandbox.
 *
 * "Nothing is sent" is proven twice: by the backend's own request counter,
 * and by the engine's event log, read with its CLI (on Kubernetes, the
 * node's: the Docker events of the pod's container), which shows no exec
 * for the container while a refused call ran. */
#include "bubblewrap-test.h"
#include "isolated-test.h"

#define HIGH LLMSBX_SECURITY_ISSUE_SEVERITY_HIGH
#define MEDIUM LLMSBX_SECURITY_ISSUE_SEVERITY_MEDIUM

/* The guide's example policy. */
static LlmsbxSecurityPolicy *
guide_policy (void)
{
  LlmsbxSecurityPolicy *policy = llmsbx_security_policy_new (MEDIUM);
  g_autoptr(LlmsbxSecurityPattern) system = NULL;
  g_autoptr(LlmsbxSecurityPattern) write = NULL;
  g_autoptr(LlmsbxRestrictedModule) subprocess = NULL;
  g_autoptr(LlmsbxRestrictedModule) requests = NULL;
  g_autoptr(GError) error = NULL;

  system = llmsbx_security_pattern_new ("os\\.system", "System command execution", HIGH, &error);
  g_assert_no_error (error);
  write = llmsbx_security_pattern_new ("open\\s*\\([^)]*['\"][wa]", "File write operation", MEDIUM, &error);
  g_assert_no_error (error);
  subprocess = llmsbx_restricted_module_new ("subprocess", "Process execution", HIGH);
  requests = llmsbx_restricted_module_new ("requests", "HTTP requests", HIGH);

  llmsbx_security_policy_add_pattern (policy, system);
  llmsbx_security_policy_add_pattern (policy, write);
  llmsbx_security_policy_add_restricted_module (policy, subprocess);
  llmsbx_security_policy_add_restricted_module (policy, requests);
  return policy;
}

static char *
now_timestamp (void)
{
  gint64 now = g_get_real_time ();

  return g_strdup_printf ("%" G_GINT64_FORMAT ".%06" G_GINT64_FORMAT,
                          now / G_USEC_PER_SEC, now % G_USEC_PER_SEC);
}

/* A session on a backend object of our own, so its request counter is readable. */
static LlmsbxSandboxSession *
open_counted_session (LlmsbxSecurityPolicy  *policy,
                      LlmsbxBackend        **backend_out)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(LlmsbxBackend) backend = NULL;

  backend = llmsbx_registry_create_backend (llmsbx_registry_get_default (), backend_test_name (), &error);
  g_assert_no_error (error);
  *backend_out = g_object_ref (backend);
  return test_open_session ("\"network_mode\": \"none\"", "client", backend, "security-policy", policy, NULL);
}

static void
assert_security_error (const GError *error,
                       const char   *expected_part)
{
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_SECURITY_VIOLATION);
  if (strstr (error->message, expected_part) == NULL)
    g_error ("the security error '%s' does not name '%s'", error->message, expected_part);
}

/* Enforcement ------------------------------------------------------------ */

static void
test_run_refused_before_the_sandbox (void)
{
  g_autoptr(LlmsbxSecurityPolicy) policy = guide_policy ();
  g_autoptr(LlmsbxBackend) backend = NULL;
  g_autoptr(LlmsbxSandboxSession) session = open_counted_session (policy, &backend);
  const char *container = llmsbx_sandbox_session_get_container_id (session);
  g_autoptr(LlmsbxExecutionResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *t0 = NULL;
  g_autofree char *t1 = NULL;
  g_autofree char *t2 = NULL;
  g_autofree char *out = NULL;
  guint requests;

  /* Let the events of open() fall before the window. */
  g_usleep (G_USEC_PER_SEC / 10);
  t0 = now_timestamp ();
  requests = llmsbx_backend_get_request_count (backend);

  result = llmsbx_sandbox_session_run (session, "import os; os.system('touch /sandbox/pwned')",
                                       NULL, 0, NULL, &error);
  g_assert_null (result);
  assert_security_error (error, "System command execution");
  g_clear_error (&error);

  /* Every violation is named. */
  result = llmsbx_sandbox_session_run (session, "import subprocess\nopen('/sandbox/f', 'w')\nos.system('x')",
                                       NULL, 0, NULL, &error);
  g_assert_null (result);
  assert_security_error (error, "System command execution");
  assert_security_error (error, "File write operation");
  assert_security_error (error, "restricted module subprocess");
  g_clear_error (&error);

  /* Refused code with libraries: neither is sent. */
  {
    const char *libraries[] = { "six", NULL };

    result = llmsbx_sandbox_session_run (session, "os.system('ls')", libraries, 0, NULL, &error);
    g_assert_null (result);
    assert_security_error (error, "System command execution");
    g_clear_error (&error);
  }

  g_assert_cmpuint (llmsbx_backend_get_request_count (backend), ==, requests);
  g_usleep (G_USEC_PER_SEC / 10);
  t1 = now_timestamp ();
  g_assert_cmpuint (test_exec_events (container, t0, t1), ==, 0);

  /* The control: allowed code does reach the sandbox, and the event log shows it. */
  out = test_run (session, "print('allowed')");
  g_assert_cmpstr (out, ==, "allowed\n");
  g_assert_cmpuint (llmsbx_backend_get_request_count (backend), >, requests);
  g_usleep (G_USEC_PER_SEC / 10);
  t2 = now_timestamp ();
  g_assert_cmpuint (test_exec_events (container, t1, t2), >, 0);

  /* The refused code really did not run. */
  g_free (out);
  out = test_sh (session, "test -e /sandbox/pwned && echo present || echo absent");
  g_assert_cmpstr (out, ==, "absent\n");

  test_close (session);
}

static void
test_install_refused_before_the_sandbox (void)
{
  g_autoptr(LlmsbxSecurityPolicy) policy = guide_policy ();
  g_autoptr(LlmsbxBackend) backend = NULL;
  g_autoptr(LlmsbxSandboxSession) session = open_counted_session (policy, &backend);
  const char *container = llmsbx_sandbox_session_get_container_id (session);
  const char *restricted[] = { "six", "Requests==2.31.0", NULL };
  const char *bad_name[] = { "--index-url=http://evil", NULL };
  g_autoptr(GError) error = NULL;
  g_autofree char *t0 = NULL;
  g_autofree char *t1 = NULL;
  guint requests;

  g_usleep (G_USEC_PER_SEC / 10);
  t0 = now_timestamp ();
  requests = llmsbx_backend_get_request_count (backend);

  /* Nothing is installed, not even the allowed library before it. */
  g_assert_false (llmsbx_sandbox_session_install (session, restricted, NULL, &error));
  assert_security_error (error, "Requests==2.31.0");
  assert_security_error (error, "HTTP requests");
  g_clear_error (&error);

  /* Names are still validated. */
  g_assert_false (llmsbx_sandbox_session_install (session, bad_name, NULL, &error));
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  g_assert_cmpuint (llmsbx_backend_get_request_count (backend), ==, requests);
  g_usleep (G_USEC_PER_SEC / 10);
  t1 = now_timestamp ();
  g_assert_cmpuint (test_exec_events (container, t0, t1), ==, 0);

  test_close (session);
}

/* is_safe() on an open session asks the policy only. */
static void
test_is_safe_sends_nothing (void)
{
  g_autoptr(LlmsbxSecurityPolicy) policy = guide_policy ();
  g_autoptr(LlmsbxBackend) backend = NULL;
  g_autoptr(LlmsbxSandboxSession) session = open_counted_session (policy, &backend);
  g_autoptr(GPtrArray) violations = NULL;
  g_autoptr(GError) error = NULL;
  guint requests = llmsbx_backend_get_request_count (backend);

  g_assert_false (llmsbx_sandbox_session_is_safe (session, "import os; os.system('ls')", &violations, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (violations->len, ==, 1);
  g_assert_cmpuint (llmsbx_backend_get_request_count (backend), ==, requests);

  test_close (session);
}

/* Presets ---------------------------------------------------------------- */

static char *
config_string (GVariant   *config,
               const char *key)
{
  g_autoptr(GVariant) value = g_variant_lookup_value (config, key, G_VARIANT_TYPE_STRING);

  return value ? g_variant_dup_string (value, NULL) : NULL;
}

static gint64
config_int (GVariant   *config,
            const char *key)
{
  g_autoptr(GVariant) value = g_variant_lookup_value (config, key, G_VARIANT_TYPE_INT64);

  return value ? g_variant_get_int64 (value) : -1;
}

static gboolean
config_bool (GVariant   *config,
             const char *key)
{
  g_autoptr(GVariant) value = g_variant_lookup_value (config, key, G_VARIANT_TYPE_BOOLEAN);

  return value != NULL && g_variant_get_boolean (value);
}

static gboolean
config_has_string (GVariant   *config,
                   const char *key,
                   const char *wanted)
{
  g_autoptr(GVariant) value = g_variant_lookup_value (config, key, G_VARIANT_TYPE_STRING_ARRAY);
  g_autofree const char **strv = value ? g_variant_get_strv (value, NULL) : NULL;

  return strv != NULL && g_strv_contains (strv, wanted);
}

/* "128m" → bytes, as docker-py reads it. */
static guint64
size_bytes (const char *size)
{
  char *end = NULL;
  guint64 n = g_ascii_strtoull (size, &end, 10);

  switch (g_ascii_tolower (*end))
    {
    case 'k': return n << 10;
    case 'm': return n << 20;
    case 'g': return n << 30;
    default: return n;
    }
}

static char *
probe (LlmsbxSandboxSession *session,
       const char           *command)
{
  return g_strstrip (test_sh (session, command));
}

/* The value of a cgroup limit, from v1 or v2 file names. */
static char *
cgroup_value (LlmsbxSandboxSession *session,
              const char           *v1,
              const char           *v2)
{
  g_autofree char *command = g_strdup_printf ("cat /sys/fs/cgroup/%s 2>/dev/null || cat /sys/fs/cgroup/%s", v1, v2);

  return probe (session, command);
}

static guint64
status_hex (LlmsbxSandboxSession *session,
            const char           *field)
{
  g_autofree char *command = g_strdup_printf ("sed -n 's/^%s:[[:space:]]*//p' /proc/self/status", field);
  g_autofree char *text = probe (session, command);

  return g_ascii_strtoull (text, NULL, 16);
}

/* How the sandbox answers attempts to make a user namespace, one word per
 * way: unshare(2) (the unshare command, as its user and mapped to root),
 * clone(2) with CLONE_NEWUSER and clone3(2), each "created" or "refused". */
static char *
user_namespace_attempts (LlmsbxSandboxSession *session)
{
  static const char clone_probe[] =
    "python3 -c '\n"
    "import ctypes, os, struct\n"
    "libc = ctypes.CDLL(None, use_errno=True)\n"
    "libc.syscall.restype = ctypes.c_long\n"
    "CLONE_NEWUSER, SIGCHLD = 0x10000000, 17\n"
    "number = {\"x86_64\": 56, \"aarch64\": 220}[os.uname().machine]\n"
    "args = ctypes.create_string_buffer(struct.pack(\"=11Q\", CLONE_NEWUSER, 0, 0, 0, SIGCHLD, 0, 0, 0, 0, 0, 0))\n"
    "for pid in (libc.syscall(number, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0), libc.syscall(435, args, 88)):\n"
    "    if pid == 0:\n"
    "        os._exit(0)\n"
    "    if pid > 0:\n"
    "        os.waitpid(pid, 0)\n"
    "    print(\"created\" if pid > 0 else \"refused\", end=\" \")\n"
    "'";
  g_autofree char *unshared = probe (session,
                                     "for how in -U -r; do unshare $how true 2>/dev/null && echo -n 'created ' || "
                                     "echo -n 'refused '; done");
  g_autofree char *cloned = probe (session, clone_probe);

  return g_strconcat (unshared, " ", cloned, NULL);
}

static void
test_preset (gconstpointer data)
{
  const char *name = data;
  g_autoptr(GError) error = NULL;
  g_autoptr(LlmsbxSecurityPreset) preset = llmsbx_get_security_preset (name, "python", backend_test_name (), &error);
  g_autoptr(LlmsbxSecurityPreset) docker_preset = NULL;
  g_autofree char *labels = NULL;
  GVariant *config;
  g_autoptr(LlmsbxSandboxSession) session = NULL;
  g_autoptr(LlmsbxExecutionResult) refused = NULL;
  g_autofree char *mem_limit = NULL;
  g_autofree char *network = NULL;
  g_autofree char *user = NULL;
  g_autofree char *value = NULL;
  g_autofree char *expected = NULL;
  gboolean hardened;

  g_assert_no_error (error);
  /* What the checks read: the preset's runtime config; on Kubernetes, whose
   * preset is a pod fragment, the same limits rendered for Docker (or
   * Podman, which renders the same; a build may have either). */
  if (backend_test_is_kubernetes ())
    {
      g_assert_null (llmsbx_security_preset_get_runtime_config (preset));
      g_assert_nonnull (llmsbx_security_preset_get_pod_manifest_fragment (preset));
      docker_preset = llmsbx_get_security_preset (name, "python", "docker", &error);
      if (docker_preset == NULL)
        {
          g_test_message ("no Docker preset (%s), reading Podman's", error->message);
          g_clear_error (&error);
          docker_preset = llmsbx_get_security_preset (name, "python", "podman", &error);
        }
      g_assert_no_error (error);
      config = llmsbx_security_preset_get_runtime_config (docker_preset);
    }
  else
    config = llmsbx_security_preset_get_runtime_config (preset);
  g_assert_nonnull (config);

  /* This run's label, then the preset under it, as `llmsbx run --preset`
   * gives it (on Kubernetes, its fragment merged into the manifest). */
  session = backend_test_session_new ("python", NULL);
  labels = test_configs ("");
  test_set_configs_json (session, labels, &error);
  g_assert_no_error (error);
  llmsbx_sandbox_session_apply_security_preset (session, preset, &error);
  g_assert_no_error (error);
  llmsbx_sandbox_session_open (session, NULL, &error);
  g_assert_no_error (error);

  /* Code runs: the workdir is writable under a read-only root and any user. */
  value = test_run (session, "print('Hello, World!')");
  g_assert_cmpstr (value, ==, "Hello, World!\n");
  g_clear_pointer (&value, g_free);
  value = test_run (session, "print(sum(range(10)))");
  g_assert_cmpstr (value, ==, "45\n");
  g_clear_pointer (&value, g_free);

  /* The policy is enforced. */
  refused = llmsbx_sandbox_session_run (session, "import os; os.system('id')", NULL, 0, NULL, &error);
  g_assert_null (refused);
  assert_security_error (error, "System command execution");
  g_clear_error (&error);

  /* Memory. */
  mem_limit = config_string (config, "mem_limit");
  g_assert_nonnull (mem_limit);
  value = cgroup_value (session, "memory/memory.limit_in_bytes", "memory.max");
  expected = g_strdup_printf ("%" G_GUINT64_FORMAT, size_bytes (mem_limit));
  g_assert_cmpstr (value, ==, expected);
  g_clear_pointer (&value, g_free);
  g_clear_pointer (&expected, g_free);

  /* CPU. */
  value = probe (session, "cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us 2>/dev/null || cut -d' ' -f1 /sys/fs/cgroup/cpu.max");
  expected = g_strdup_printf ("%" G_GINT64_FORMAT, config_int (config, "cpu_quota"));
  g_assert_cmpstr (value, ==, expected);
  g_clear_pointer (&value, g_free);
  g_clear_pointer (&expected, g_free);

  /* Processes. A pod cannot limit its own: on Kubernetes the node's
   * podPidsLimit does (none on the test server's node unless a test sets
   * one; docs/backends.md). */
  if (backend_test_is_kubernetes ())
    {
      value = cgroup_value (session, "pids/pids.max", "pids.max");
      g_assert_cmpstr (value, ==, "max");
      g_clear_pointer (&value, g_free);
    }
  else if (config_int (config, "pids_limit") > 0)
    {
      value = cgroup_value (session, "pids/pids.max", "pids.max");
      expected = g_strdup_printf ("%" G_GINT64_FORMAT, config_int (config, "pids_limit"));
      g_assert_cmpstr (value, ==, expected);
      g_clear_pointer (&value, g_free);
      g_clear_pointer (&expected, g_free);
    }

  /* Network: "none" leaves only the loopback interface. A pod's network is
   * the cluster's, which a preset cannot choose (NetworkPolicies do;
   * docs/security.md): the test API server's pods have loopback only,
   * whatever the preset. */
  network = config_string (config, "network_mode");
  value = probe (session, "ls /sys/class/net | sort | tr '\\n' ' '");
  if (g_str_equal (network, "none") || backend_test_is_kubernetes ())
    g_assert_cmpstr (value, ==, "lo");
  else
    {
      g_assert_nonnull (strstr (value, "lo"));
      g_assert_nonnull (strstr (value, "eth0"));
    }
  g_clear_pointer (&value, g_free);

  /* The root file system. */
  value = probe (session, "touch /llmsbx-probe 2>/dev/null && echo writable || echo read-only");
  g_assert_cmpstr (value, ==, config_bool (config, "read_only") ? "read-only" : "writable");
  g_clear_pointer (&value, g_free);
  value = probe (session, "touch /sandbox/probe && echo writable");
  g_assert_cmpstr (value, ==, "writable");
  g_clear_pointer (&value, g_free);

  /* The user. */
  user = config_string (config, "user");
  value = probe (session, "echo $(id -u):$(id -g)");
  if (user == NULL)
    g_assert_cmpstr (value, ==, "0:0");
  else if (g_str_equal (user, "nobody:nogroup"))
    g_assert_cmpstr (value, ==, "65534:65534");
  else
    g_assert_cmpstr (value, ==, user);
  g_clear_pointer (&value, g_free);

  /* Capabilities and no_new_privs. */
  hardened = config_has_string (config, "cap_drop", "ALL");
  g_assert_cmpint (hardened, ==, config_has_string (config, "security_opt", "no-new-privileges:true"));
  if (hardened)
    {
      g_assert_cmphex (status_hex (session, "CapEff"), ==, 0);
      g_assert_cmphex (status_hex (session, "CapPrm"), ==, 0);
      g_assert_cmphex (status_hex (session, "CapBnd"), ==, 0);
    }
  else
    g_assert_cmphex (status_hex (session, "CapEff"), !=, 0);
  /* bwrap sets no_new_privs for every sandbox (docs/backends.md). */
  value = probe (session, "sed -n 's/^NoNewPrivs:[[:space:]]*//p' /proc/self/status");
  g_assert_cmpstr (value, ==, hardened || backend_test_is_bubblewrap () ? "1" : "0");
  g_clear_pointer (&value, g_free);

  /* No new user namespaces (a way to get every capability back inside
   * one), whatever the preset and the engine. */
  value = user_namespace_attempts (session);
  g_assert_cmpstr (value, ==, "refused refused refused refused");
  g_clear_pointer (&value, g_free);

  /* /tmp as the preset mounts it. */
  {
    g_autoptr(GVariant) tmpfs = g_variant_lookup_value (config, "tmpfs", G_VARIANT_TYPE_VARDICT);
    g_autofree char *tmp_options = NULL;

    if (tmpfs != NULL && g_variant_lookup (tmpfs, "/tmp", "s", &tmp_options))
      {
        value = probe (session, "awk '$2 == \"/tmp\" { print $3 }' /proc/mounts");
        g_assert_cmpstr (value, ==, "tmpfs");
        g_clear_pointer (&value, g_free);
        /* An emptyDir has no mount options: programs can run from it on
         * Kubernetes (docs/backends.md). */
        if (strstr (tmp_options, "noexec") != NULL)
          {
            value = probe (session, "awk '$2 == \"/tmp\" { print $4 }' /proc/mounts");
            if (backend_test_is_kubernetes ())
              g_assert_null (strstr (value, "noexec"));
            else
              g_assert_nonnull (strstr (value, "noexec"));
            g_clear_pointer (&value, g_free);
          }
      }
  }

  test_close (session);
}

/* Without a preset, too: no user namespaces, as Docker's default seccomp
 * profile has it, unless the sandbox has CAP_SYS_ADMIN, which lets it do
 * that and more on every engine; bubblewrap's filter holds whatever the
 * capabilities, and Kubernetes' Pod Security does not give it
 * (docs/backends.md). */
static void
test_user_namespaces (void)
{
  g_autoptr(LlmsbxSandboxSession) plain = test_open_session ("\"network_mode\": \"none\"", NULL);
  g_autoptr(LlmsbxSandboxSession) admin = NULL;
  g_autofree char *value = user_namespace_attempts (plain);

  g_assert_cmpstr (value, ==, "refused refused refused refused");
  test_close (plain);

  /* Kubernetes' Pod Security (baseline, as the test server enforces it)
   * refuses the capability before a pod exists. */
  if (backend_test_is_kubernetes ())
    {
      g_autoptr(LlmsbxSandboxSession) refused = backend_test_session_new ("python", NULL);
      g_autofree char *configs = test_configs ("\"network_mode\": \"none\", \"cap_add\": [\"SYS_ADMIN\"]");
      g_autoptr(GError) error = NULL;

      test_set_configs_json (refused, configs, &error);
      g_assert_no_error (error);
      g_assert_false (llmsbx_sandbox_session_open (refused, NULL, &error));
      g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT);
      g_assert_nonnull (strstr (error->message, "must not include \"SYS_ADMIN\" in securityContext.capabilities.add"));
      g_assert_false (llmsbx_sandbox_session_get_is_open (refused));
      return;
    }
  admin = test_open_session ("\"network_mode\": \"none\", \"cap_add\": [\"SYS_ADMIN\"]", NULL);
  g_free (value);
  value = user_namespace_attempts (admin);
  g_assert_cmpstr (value, ==, backend_test_is_bubblewrap () ? "refused refused refused refused"
                                                            : "created created created created");
  test_close (admin);
}

/* test_isolated() for a test with data: the body in a subprocess, then reaping. */
static void
test_isolated_preset (gconstpointer name)
{
  if (g_test_subprocess ())
    {
      test_preset (name);
      return;
    }

  g_test_trap_subprocess (NULL, 600 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_INHERIT_STDERR);
  test_reap ();
  g_test_trap_assert_passed ();
}

int
main (int argc, char **argv)
{
  g_auto(GStrv) presets = NULL;

  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
  backend_test_prepare ();

  test_add_isolated ("/security/run-refused-before-the-sandbox", test_run_refused_before_the_sandbox);
  test_add_isolated ("/security/install-refused-before-the-sandbox", test_install_refused_before_the_sandbox);
  test_add_isolated ("/security/is-safe-sends-nothing", test_is_safe_sends_nothing);
  test_add_isolated ("/security/user-namespaces", test_user_namespaces);

  presets = llmsbx_list_available_presets ();
  for (guint i = 0; presets[i] != NULL; i++)
    {
      g_autofree char *path = g_strdup_printf ("/security/preset/%s", presets[i]);

      g_test_add_data_func (path, presets[i], test_isolated_preset);
    }

  return g_test_run ();
}
