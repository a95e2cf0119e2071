/* test-bubblewrap-units.c: the parts of the bubblewrap plugin that need no sandbox.
 *
 * Runtime-config reading and refusals, sizes, the user-namespace sysctls,
 * cgroup files on a directory tree shaped like cgroupfs (v1 and v2), the
 * bwrap command line, preset rendering, the image store (lookup, users,
 * commit, removal), sandbox state files, and removing a hostile tree. Linked
 * with the plugin's static library; no plugin is loaded. */
#include <glib/gstdio.h>
#include <llmsbx.h>
#include <string.h>
#include <unistd.h>

#include "llmsbx-bubblewrap-backend.h"
#include "llmsbx-bubblewrap-cgroup.h"
#include "llmsbx-bubblewrap-cleanup.h"
#include "llmsbx-bubblewrap-rootfs.h"
#include "llmsbx-bubblewrap-runtime-configs.h"
#include "llmsbx-bubblewrap-sandbox.h"
#include "llmsbx-bwrap.h"

static char *
make_tmp (void)
{
  g_autoptr(GError) error = NULL;
  char *dir = g_dir_make_tmp ("llmsbx-bwrap-unit-XXXXXX", &error);

  g_assert_no_error (error);
  return dir;
}

static void
write_file (const char *dir,
            const char *name,
            const char *contents)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autofree char *parent = g_path_get_dirname (path);
  g_autoptr(GError) error = NULL;

  g_assert_cmpint (g_mkdir_with_parents (parent, 0755), ==, 0);
  g_file_set_contents (path, contents, -1, &error);
  g_assert_no_error (error);
}

static char *
read_file (const char *dir,
           const char *name)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  char *contents = NULL;

  if (!g_file_get_contents (path, &contents, NULL, NULL))
    return NULL;
  return g_strstrip (contents);
}

static void
remove_tmp (const char *dir)
{
  g_autoptr(GError) error = NULL;

  llmsbx_bubblewrap_remove_tree (dir, &error);
  g_assert_no_error (error);
}

/* ---------------------------------------------------------------------------
 * Runtime configs
 * ------------------------------------------------------------------------ */

static LlmsbxBubblewrapConfig *
parse (const char  *json,
       GError     **error)
{
  g_autoptr(LlmsbxSandboxSession) session = llmsbx_sandbox_session_new ("python");
  g_autoptr(GError) local_error = NULL;

  /* The session's JSON reader gives the GVariant types every binding gives. */
  llmsbx_sandbox_session_set_runtime_configs_json (session, json, &local_error);
  g_assert_no_error (local_error);
  return llmsbx_bubblewrap_config_parse (llmsbx_sandbox_session_get_runtime_configs (session), error);
}

static void
test_config_values (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(LlmsbxBubblewrapConfig) config =
    parse ("{\"mem_limit\": \"1.5g\", \"memswap_limit\": -1, \"pids_limit\": 64, \"cpu_shares\": 512, "
           "\"nano_cpus\": 250000000, \"cpuset_cpus\": \"0-1\", \"environment\": [\"A=1\", \"B=two=2\"], "
           "\"labels\": {\"team\": \"data\"}, \"working_dir\": \"/w\", \"user\": 1000, \"hostname\": \"box\", "
           "\"read_only\": \"yes\", \"network_mode\": \"host\", \"shm_size\": \"32m\", "
           "\"tmpfs\": [\"/t:size=8m,mode=700,noexec,uid=5\", \"/u\"], "
           "\"volumes\": {\"/srv/a\": {\"bind\": \"/a\", \"mode\": \"ro\"}, \"/srv/b\": \"/b\"}, "
           "\"cap_add\": [\"net_admin\", \"CAP_SYS_TIME\"], \"cap_drop\": [\"ALL\"], "
           "\"security_opt\": [\"no-new-privileges\"], \"privileged\": false, "
           "\"ulimits\": [{\"name\": \"nofile\", \"soft\": 1024, \"hard\": 2048}]}", &error);
  LlmsbxBubblewrapTmpfs *tmpfs;
  LlmsbxBubblewrapBind *bind;
  LlmsbxBubblewrapRlimit *rlimit;

  g_assert_no_error (error);
  g_assert_cmpint (config->limits.memory, ==, 3 * (G_GINT64_CONSTANT (1) << 29));
  g_assert_cmpint (config->limits.memory_swap, ==, -1);
  g_assert_cmpint (config->limits.pids, ==, 64);
  g_assert_cmpint (config->limits.cpu_shares, ==, 512);
  g_assert_cmpint (config->limits.cpu_quota, ==, 25000);
  g_assert_cmpint (config->limits.cpu_period, ==, 100000);
  g_assert_cmpstr (config->limits.cpuset_cpus, ==, "0-1");
  g_assert_cmpstrv (config->env, ((const char *[]) { "A=1", "B=two=2", NULL }));
  g_assert_cmpstrv (config->labels, ((const char *[]) { "team=data", NULL }));
  g_assert_cmpstr (config->working_dir, ==, "/w");
  g_assert_cmpstr (config->user, ==, "1000");
  g_assert_cmpstr (config->hostname, ==, "box");
  g_assert_true (config->read_only);
  g_assert_cmpint (config->network, ==, LLMSBX_BUBBLEWRAP_NETWORK_HOST);
  g_assert_cmpuint (config->shm_size, ==, 32 << 20);

  g_assert_cmpuint (config->tmpfs->len, ==, 2);
  tmpfs = config->tmpfs->pdata[0];
  g_assert_cmpstr (tmpfs->path, ==, "/t");
  g_assert_cmpuint (tmpfs->size, ==, 8 << 20);
  g_assert_cmpuint (tmpfs->mode, ==, 0700);
  g_assert_true (tmpfs->noexec);
  tmpfs = config->tmpfs->pdata[1];
  g_assert_cmpuint (tmpfs->mode, ==, 01777);
  g_assert_false (tmpfs->noexec);

  g_assert_cmpuint (config->binds->len, ==, 2);
  bind = config->binds->pdata[0];
  g_assert_cmpstr (bind->source, ==, "/srv/a");
  g_assert_cmpstr (bind->target, ==, "/a");
  g_assert_true (bind->read_only);
  bind = config->binds->pdata[1];
  g_assert_cmpstr (bind->target, ==, "/b");
  g_assert_false (bind->read_only);

  g_assert_cmpstrv (config->cap_add, ((const char *[]) { "CAP_NET_ADMIN", "CAP_SYS_TIME", NULL }));
  g_assert_cmpstrv (config->cap_drop, ((const char *[]) { "ALL", NULL }));
  g_assert_cmpuint (config->rlimits->len, ==, 1);
  rlimit = config->rlimits->pdata[0];
  g_assert_cmpstr (rlimit->name, ==, "nofile");
  g_assert_cmpuint (rlimit->soft, ==, 1024);
  g_assert_cmpuint (rlimit->hard, ==, 2048);
}

static void
assert_refused (const char *json,
                const char *needle)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(LlmsbxBubblewrapConfig) config = parse (json, &error);

  g_assert_null (config);
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT);
  if (strstr (error->message, needle) == NULL)
    g_error ("'%s' does not say '%s'", error->message, needle);
}

static void
test_config_refusals (void)
{
  /* Every key an engine-less sandbox cannot honour names itself and the backend. */
  static const char * const engine_keys[] = {
    "ports", "dns", "dns_search", "extra_hosts", "devices", "init", "oom_kill_disable", "auto_remove",
    "group_add", "sysctls", "ipc_mode", "pid_mode", "domainname", "stop_signal", "mem_reservation", NULL
  };

  for (guint i = 0; engine_keys[i] != NULL; i++)
    {
      g_autofree char *json = g_strdup_printf ("{\"%s\": 1}", engine_keys[i]);
      g_autofree char *needle = g_strdup_printf ("The bubblewrap backend does not support the runtime config key "
                                                 "'%s'", engine_keys[i]);

      assert_refused (json, needle);
    }
  assert_refused ("{\"privileged\": true}", "'privileged'");
  assert_refused ("{\"mem_limit\": \"12q\"}", "'mem_limit'");
  assert_refused ("{\"mem_limit\": -5}", "'mem_limit'");
  assert_refused ("{\"pids_limit\": \"many\"}", "'pids_limit'");
  assert_refused ("{\"cpu_quota\": 10}", "'cpu_quota'");
  assert_refused ("{\"nano_cpus\": 500000000, \"cpu_period\": 50000}", "'cpu_period'");
  assert_refused ("{\"cpu_count\": 1, \"cpu_period\": 100000}", "'cpu_period'");
  assert_refused ("{\"mem_limit\": \"1g\", \"memswap_limit\": \"512m\"}", "'memswap_limit'");
  assert_refused ("{\"network_mode\": \"container:x\"}", "container:x");
  assert_refused ("{\"volumes\": [\"relative:/x\"]}", "named volumes");
  assert_refused ("{\"volumes\": {\"/tmp\": {\"bind\": \"relative\"}}}", "'volumes'");
  assert_refused ("{\"volumes\": {\"/tmp\": {\"bind\": \"/x\", \"mode\": \"z\"}}}", "'volumes'");
  assert_refused ("{\"tmpfs\": {\"/x\": \"size=1m,suid\"}}", "'suid'");
  assert_refused ("{\"tmpfs\": {\"x\": \"\"}}", "'tmpfs'");
  assert_refused ("{\"working_dir\": \"/a/../b\"}", "'working_dir'");
  assert_refused ("{\"user\": \"a;b\"}", "'user'");
  assert_refused ("{\"cap_add\": [\"FLY\"]}", "FLY");
  assert_refused ("{\"security_opt\": [\"no-new-privileges:false\"]}", "no-new-privileges:false");
  assert_refused ("{\"ulimits\": [{\"name\": \"bogus\", \"soft\": 1}]}", "'ulimits'");
  assert_refused ("{\"cpuset_cpus\": \"0;1\"}", "'cpuset_cpus'");
}

static void
test_parse_bytes (void)
{
  static const struct { const char *text; guint64 bytes; } good[] = {
    { "1024", 1024 }, { "1k", 1024 }, { "1kb", 1024 }, { "512m", 512 << 20 }, { "512MB", 512 << 20 },
    { "1g", G_GUINT64_CONSTANT (1) << 30 }, { "1.5g", 3 * (G_GUINT64_CONSTANT (1) << 29) },
    { "2t", G_GUINT64_CONSTANT (2) << 40 }, { "7b", 7 },
  };
  static const char * const bad[] = { "", "m", "12q", "-1", "1..5m", ".5m", "1 m", "1e3", NULL };
  guint64 bytes;

  for (gsize i = 0; i < G_N_ELEMENTS (good); i++)
    {
      g_assert_true (llmsbx_bubblewrap_parse_bytes (good[i].text, &bytes));
      g_assert_cmpuint (bytes, ==, good[i].bytes);
    }
  for (guint i = 0; bad[i] != NULL; i++)
    g_assert_false (llmsbx_bubblewrap_parse_bytes (bad[i], &bytes));
}

/* ---------------------------------------------------------------------------
 * Host checks
 * ------------------------------------------------------------------------ */

static void
test_user_namespace_sysctls (void)
{
  g_autofree char *sys = make_tmp ();
  g_autoptr(GError) error = NULL;

  /* Nothing set: nothing in the way. */
  g_assert_true (llmsbx_bubblewrap_check_user_namespaces (sys, 1000, &error));
  g_assert_no_error (error);

  write_file (sys, "kernel/unprivileged_userns_clone", "0\n");
  g_assert_true (llmsbx_bubblewrap_check_user_namespaces (sys, 0, &error));
  g_assert_false (llmsbx_bubblewrap_check_user_namespaces (sys, 1000, &error));
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_BACKEND_UNAVAILABLE);
  g_assert_nonnull (strstr (error->message, "kernel.unprivileged_userns_clone"));
  g_clear_error (&error);

  write_file (sys, "kernel/unprivileged_userns_clone", "1\n");
  write_file (sys, "kernel/apparmor_restrict_unprivileged_userns", "1\n");
  g_assert_false (llmsbx_bubblewrap_check_user_namespaces (sys, 1000, &error));
  g_assert_nonnull (strstr (error->message, "kernel.apparmor_restrict_unprivileged_userns"));
  g_clear_error (&error);

  write_file (sys, "user/max_user_namespaces", "0\n");
  g_assert_false (llmsbx_bubblewrap_check_user_namespaces (sys, 0, &error));
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_BACKEND_UNAVAILABLE);
  g_assert_nonnull (strstr (error->message, "user.max_user_namespaces"));
  remove_tmp (sys);
}

/* ---------------------------------------------------------------------------
 * Cgroups, on trees shaped like cgroupfs
 * ------------------------------------------------------------------------ */

static void
test_cgroup_v1 (void)
{
  g_autofree char *root = make_tmp ();
  g_autoptr(GError) error = NULL;
  g_autoptr(LlmsbxCgroup) cgroup = NULL;
  g_auto(GStrv) procs = NULL;
  LlmsbxCgroupLimits limits = { .memory = 1 << 30, .pids = 64, .cpu_quota = 50000, .cpu_shares = 512 };
  g_autofree char *memory = g_build_filename (root, "memory", "llmsbx", "box", NULL);
  g_autofree char *pids = g_build_filename (root, "pids", "llmsbx", "box", NULL);
  g_autofree char *cpu = g_build_filename (root, "cpu", "llmsbx", "box", NULL);
  g_autofree char *value = NULL;

  write_file (root, "memory/memory.limit_in_bytes", "9223372036854771712\n");
  for (const char *c = "pids\0cpu\0"; *c; c += strlen (c) + 1)
    {
      g_autofree char *dir = g_build_filename (root, c, NULL);
      g_assert_cmpint (g_mkdir (dir, 0755), ==, 0);
    }
  g_assert_cmpint (llmsbx_cgroup_detect (root), ==, LLMSBX_CGROUP_V1);

  cgroup = llmsbx_cgroup_create (root, "llmsbx", "box", &limits, &error);
  g_assert_no_error (error);
  g_assert_cmpint (cgroup->version, ==, LLMSBX_CGROUP_V1);
  g_assert_cmpstr ((value = read_file (memory, "memory.limit_in_bytes")), ==, "1073741824");
  g_free (value);
  g_assert_cmpstr ((value = read_file (pids, "pids.max")), ==, "64");
  g_free (value);
  g_assert_cmpstr ((value = read_file (cpu, "cpu.cfs_period_us")), ==, "100000");
  g_free (value);
  g_assert_cmpstr ((value = read_file (cpu, "cpu.cfs_quota_us")), ==, "50000");
  g_free (value);
  g_assert_cmpstr ((value = read_file (cpu, "cpu.shares")), ==, "512");

  /* Three controllers, all seen by the sandbox. */
  procs = llmsbx_cgroup_procs_files (cgroup);
  g_assert_cmpuint (g_strv_length (procs), ==, 3);
  g_assert_cmpstr (cgroup->views->pdata[0], ==, "memory");
  g_assert_cmpstr (cgroup->views->pdata[2], ==, "cpu");

  /* A second sandbox of the same name is refused, leaving the first alone. */
  g_assert_null (llmsbx_cgroup_create (root, "llmsbx", "box", &limits, &error));
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_EXIST);
  g_assert_true (g_file_test (memory, G_FILE_TEST_IS_DIR));
  remove_tmp (root);
}

static void
test_cgroup_v2 (void)
{
  g_autofree char *root = make_tmp ();
  g_autoptr(GError) error = NULL;
  g_autoptr(LlmsbxCgroup) cgroup = NULL;
  LlmsbxCgroupLimits limits = {
    .memory = 1 << 30, .memory_swap = 2 << 30, .pids = 64, .cpu_quota = 50000, .cpu_period = 200000,
    .cpu_shares = 512, .cpuset_cpus = (char *) "0",
  };
  g_autofree char *dir = g_build_filename (root, "llmsbx", "box", NULL);
  g_autofree char *value = NULL;

  write_file (root, "cgroup.controllers", "cpuset cpu io memory pids\n");
  g_assert_cmpint (llmsbx_cgroup_detect (root), ==, LLMSBX_CGROUP_V2);

  cgroup = llmsbx_cgroup_create (root, "llmsbx", "box", &limits, &error);
  g_assert_no_error (error);
  g_assert_cmpint (cgroup->version, ==, LLMSBX_CGROUP_V2);
  g_assert_cmpstr (cgroup->views->pdata[0], ==, "");
  g_assert_cmpstr ((value = read_file (dir, "memory.max")), ==, "1073741824");
  g_free (value);
  g_assert_cmpstr ((value = read_file (dir, "pids.max")), ==, "64");
  g_free (value);
  g_assert_cmpstr ((value = read_file (dir, "cpu.max")), ==, "50000 200000");
  g_free (value);
  /* cgroup v2 weight from shares: 1 + (512 - 2) * 9999 / 262142. */
  g_assert_cmpstr ((value = read_file (dir, "cpu.weight")), ==, "20");
  g_free (value);
  g_assert_cmpstr ((value = read_file (dir, "cpuset.cpus")), ==, "0");
  g_free (value);
  /* The controllers were enabled for the children of the root. */
  g_assert_nonnull ((value = read_file (root, "cgroup.subtree_control")));
  g_assert_cmpuint (llmsbx_cgroup_weight_from_shares (2), ==, 1);
  g_assert_cmpuint (llmsbx_cgroup_weight_from_shares (262144), ==, 10000);
  remove_tmp (root);
}

static void
test_cgroup_none (void)
{
  g_autofree char *root = make_tmp ();
  g_autoptr(GError) error = NULL;
  LlmsbxCgroupLimits limits = { 0 };

  g_assert_cmpint (llmsbx_cgroup_detect (root), ==, LLMSBX_CGROUP_NONE);
  g_assert_null (llmsbx_cgroup_create (root, "llmsbx", "box", &limits, &error));
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_NOSYS);
  remove_tmp (root);
}

/* ---------------------------------------------------------------------------
 * Command line and presets
 * ------------------------------------------------------------------------ */

static void
test_bwrap_builder (void)
{
  g_autoptr(LlmsbxBwrap) bwrap = llmsbx_bwrap_new ("/usr/bin/bwrap");
  g_autofree char *shown = NULL;
  const char * const *argv;

  llmsbx_bwrap_add_args (bwrap, "--unshare-pid", "--die-with-parent", NULL);
  llmsbx_bwrap_add_bind (bwrap, TRUE, "/srv/my dir", "/data");
  llmsbx_bwrap_add_arg_printf (bwrap, "--seccomp=%d", 11);
  llmsbx_bwrap_add_setenv (bwrap, "A=b=c");
  argv = llmsbx_bwrap_get_argv (bwrap);
  g_assert_cmpstrv (argv, ((const char *[]) { "/usr/bin/bwrap", "--unshare-pid", "--die-with-parent", "--ro-bind",
                                              "/srv/my dir", "/data", "--seccomp=11", "--setenv", "A", "b=c", NULL }));
  shown = llmsbx_bwrap_to_string (bwrap);
  g_assert_nonnull (strstr (shown, "'/srv/my dir'"));
}

/* A preset's neutral limits become runtime configs this backend reads back
 * as the same limits. */
static void
test_render_limits (void)
{
  const char *drop[] = { "ALL", NULL };
  const char *env[] = { "HOME=/sandbox", NULL };
  g_autoptr(LlmsbxSecurityLimits) limits = llmsbx_security_limits_new ();
  g_autoptr(GVariant) config = NULL;
  g_autoptr(LlmsbxBubblewrapConfig) parsed = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *mem_limit = NULL;
  LlmsbxBubblewrapTmpfs *tmp = NULL;
  LlmsbxBubblewrapTmpfs *workdir = NULL;

  limits->memory_bytes = 512 << 20;
  limits->network = LLMSBX_SANDBOX_NETWORK_NONE;
  limits->cpu_millicores = 500;
  limits->pids_limit = 256;
  limits->read_only_root = TRUE;
  limits->user = g_strdup ("nobody:nogroup");
  limits->uid = limits->gid = 65534;
  g_strfreev (limits->cap_drop);
  limits->cap_drop = g_strdupv ((char **) drop);
  limits->no_new_privileges = TRUE;
  g_ptr_array_add (limits->tmpfs, llmsbx_tmpfs_mount_new ("/tmp", 100 << 20,
                                                          LLMSBX_MOUNT_FLAGS_NOEXEC | LLMSBX_MOUNT_FLAGS_NOSUID));
  limits->workdir = g_strdup ("/sandbox");
  limits->workdir_tmpfs_bytes = 256 << 20;
  g_strfreev (limits->environment);
  limits->environment = g_strdupv ((char **) env);

  config = llmsbx_bubblewrap_preset_runtime_config (limits, &error);
  g_assert_no_error (error);
  /* Sizes as docker-py writes them, as the engines' presets have them. */
  g_assert_true (g_variant_lookup (config, "mem_limit", "s", &mem_limit));
  g_assert_cmpstr (mem_limit, ==, "512m");

  parsed = llmsbx_bubblewrap_config_parse (config, &error);
  g_assert_no_error (error);
  g_assert_cmpint (parsed->limits.memory, ==, 512 << 20);
  g_assert_cmpint (parsed->limits.cpu_period, ==, 100000);
  g_assert_cmpint (parsed->limits.cpu_quota, ==, 50000);
  g_assert_cmpint (parsed->limits.pids, ==, 256);
  g_assert_true (parsed->read_only);
  g_assert_cmpstr (parsed->user, ==, "nobody:nogroup");
  g_assert_cmpstrv (parsed->cap_drop, ((const char *[]) { "ALL", NULL }));
  g_assert_cmpstrv (parsed->env, env);
  g_assert_cmpint (parsed->network, ==, LLMSBX_BUBBLEWRAP_NETWORK_NONE);
  g_assert_cmpuint (parsed->tmpfs->len, ==, 2);
  for (guint i = 0; i < parsed->tmpfs->len; i++)
    {
      LlmsbxBubblewrapTmpfs *tmpfs = parsed->tmpfs->pdata[i];

      if (g_str_equal (tmpfs->path, "/tmp"))
        tmp = tmpfs;
      else if (g_str_equal (tmpfs->path, "/sandbox"))
        workdir = tmpfs;
    }
  g_assert_nonnull (tmp);
  g_assert_cmpuint (tmp->size, ==, 100 << 20);
  g_assert_true (tmp->noexec);
  /* Code runs from the working directory, which its one user owns. */
  g_assert_nonnull (workdir);
  g_assert_cmpuint (workdir->size, ==, 256 << 20);
  g_assert_false (workdir->noexec);
  g_assert_cmpuint (workdir->mode, ==, 0755);

  /* A bridged network, through slirp4netns. */
  g_clear_pointer (&config, g_variant_unref);
  g_clear_pointer (&parsed, llmsbx_bubblewrap_config_free);
  limits->network = LLMSBX_SANDBOX_NETWORK_BRIDGE;
  config = llmsbx_bubblewrap_preset_runtime_config (limits, &error);
  g_assert_no_error (error);
  parsed = llmsbx_bubblewrap_config_parse (config, &error);
  g_assert_no_error (error);
  g_assert_cmpint (parsed->network, ==, LLMSBX_BUBBLEWRAP_NETWORK_BRIDGE);

  /* What open() would refuse is refused here, naming it. */
  g_clear_pointer (&config, g_variant_unref);
  g_ptr_array_add (limits->tmpfs, llmsbx_tmpfs_mount_new ("relative/dir", 1 << 20, LLMSBX_MOUNT_FLAGS_NONE));
  g_assert_null (llmsbx_bubblewrap_preset_runtime_config (limits, &error));
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "bubblewrap"));
  g_assert_nonnull (strstr (error->message, "tmpfs"));
}

/* The backend renders presets, on a backend that never connected. */
static void
test_render_preset (void)
{
  g_autoptr(LlmsbxBackend) backend = g_object_new (LLMSBX_TYPE_BUBBLEWRAP_BACKEND, "name", "bubblewrap", NULL);

  g_assert_nonnull (LLMSBX_BACKEND_GET_CLASS (backend)->render_preset);
  g_assert_nonnull (LLMSBX_BACKEND_GET_CLASS (backend)->probe);
  g_assert_nonnull (LLMSBX_BACKEND_GET_CLASS (backend)->list_sandboxes);
  g_assert_nonnull (LLMSBX_BACKEND_GET_CLASS (backend)->get_archive_to_stream);
}

/* ---------------------------------------------------------------------------
 * The image store
 * ------------------------------------------------------------------------ */

static char *
make_store (void)
{
  char *store = make_tmp ();

  write_file (store, "images/base/rootfs/etc/passwd",
              "root:x:0:0:root:/root:/bin/bash\n"
              "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"
              "dev:x:1000:1001:dev:/home/dev:/bin/sh\n");
  write_file (store, "images/base/rootfs/etc/group", "root:x:0:\nnogroup:x:65534:\nstaff:x:50:\n");
  write_file (store, "images/base/config",
              "[Image]\nName=test/base:one\nEnv=PATH=/usr/bin;LANG=C;\nWorkingDir=/sandbox\n");
  write_file (store, "tags/test%2Fbase%3Aone", "base\n");
  write_file (store, "tags/test%2Fbase%3Alatest", "base\n");
  return store;
}

static void
test_store_lookup (void)
{
  g_autofree char *store = make_store ();
  g_autoptr(GError) error = NULL;
  g_autoptr(LlmsbxBubblewrapImage) image = llmsbx_bubblewrap_image_lookup (store, "test/base:one", &error);
  g_autoptr(LlmsbxBubblewrapImage) latest = NULL;
  g_autofree char *home = NULL;
  guint32 uid = 1, gid = 1;

  g_assert_no_error (error);
  g_assert_cmpstrv (image->layer_ids, ((const char *[]) { "base", NULL }));
  g_assert_cmpstrv (image->env, ((const char *[]) { "PATH=/usr/bin", "LANG=C", NULL }));
  g_assert_cmpstr (image->working_dir, ==, "/sandbox");

  /* A name without a tag is :latest, as for the engines. */
  latest = llmsbx_bubblewrap_image_lookup (store, "test/base", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (latest->name, ==, "test/base:latest");

  g_assert_null (llmsbx_bubblewrap_image_lookup (store, "test/other:1", &error));
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_IMAGE_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, "llmsbx images build --backend bubblewrap"));
  g_clear_error (&error);

  g_assert_true (llmsbx_bubblewrap_image_resolve_user (image, NULL, &uid, &gid, &home, &error));
  g_assert_cmpuint (uid, ==, 0);
  g_assert_cmpstr (home, ==, "/root");
  g_clear_pointer (&home, g_free);
  g_assert_true (llmsbx_bubblewrap_image_resolve_user (image, "nobody:nogroup", &uid, &gid, &home, &error));
  g_assert_cmpuint (uid, ==, 65534);
  g_assert_cmpuint (gid, ==, 65534);
  g_assert_cmpstr (home, ==, "/nonexistent");
  g_clear_pointer (&home, g_free);
  g_assert_true (llmsbx_bubblewrap_image_resolve_user (image, "dev:staff", &uid, &gid, &home, &error));
  g_assert_cmpuint (uid, ==, 1000);
  g_assert_cmpuint (gid, ==, 50);
  g_clear_pointer (&home, g_free);
  /* A number needs no entry: its group is 0 unless given, its home "/". */
  g_assert_true (llmsbx_bubblewrap_image_resolve_user (image, "4242", &uid, &gid, &home, &error));
  g_assert_cmpuint (uid, ==, 4242);
  g_assert_cmpuint (gid, ==, 0);
  g_assert_cmpstr (home, ==, "/");
  g_clear_pointer (&home, g_free);
  g_assert_true (llmsbx_bubblewrap_image_resolve_user (image, "1000:1000", &uid, &gid, &home, &error));
  g_assert_cmpuint (gid, ==, 1000);
  g_clear_pointer (&home, g_free);
  g_assert_false (llmsbx_bubblewrap_image_resolve_user (image, "ghost", &uid, &gid, &home, &error));
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (llmsbx_bubblewrap_image_resolve_user (image, "dev:ghosts", &uid, &gid, &home, &error));
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT);
  remove_tmp (store);
}

static void
test_store_commit_and_remove (void)
{
  g_autofree char *store = make_store ();
  g_autofree char *upper = g_build_filename (store, "upper", NULL);
  g_autofree char *extra = g_build_filename (store, "workdir", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(LlmsbxBubblewrapImage) base = llmsbx_bubblewrap_image_lookup (store, "test/base:one", &error);
  g_autoptr(LlmsbxBubblewrapImage) committed = NULL;
  g_autofree char *file = NULL;
  g_autofree char *kept = NULL;
  const char *labels[] = { "io.llmsbx.test-run=unit", NULL };

  g_assert_no_error (error);
  write_file (upper, "usr/local/marker", "from upper\n");
  write_file (extra, "state.txt", "kept\n");
  llmsbx_bubblewrap_image_commit (store, base, upper, extra, "/sandbox", "test/committed", labels, NULL, &error);
  g_assert_no_error (error);

  committed = llmsbx_bubblewrap_image_lookup (store, "test/committed:latest", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_strv_length (committed->layer_ids), ==, 2);
  g_assert_cmpstr (committed->layer_ids[1], ==, "base");
  g_assert_cmpstrv (committed->env, base->env);
  file = read_file (committed->layers[0], "usr/local/marker");
  g_assert_cmpstr (file, ==, "from upper");
  kept = read_file (committed->layers[0], "sandbox/state.txt");
  g_assert_cmpstr (kept, ==, "kept");

  /* The base stays while an image is built on it; the commit goes with its tag. */
  llmsbx_bubblewrap_image_remove (store, "test/base:one", &error);
  g_assert_no_error (error);
  g_assert_true (g_file_test (base->layers[0], G_FILE_TEST_IS_DIR));
  llmsbx_bubblewrap_image_remove (store, "test/committed", &error);
  g_assert_no_error (error);
  g_assert_false (g_file_test (committed->layers[0], G_FILE_TEST_EXISTS));
  g_assert_false (llmsbx_bubblewrap_image_remove (store, "test/committed", &error));
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_IMAGE_NOT_FOUND);
  remove_tmp (store);
}

/* ---------------------------------------------------------------------------
 * Sandbox state
 * ------------------------------------------------------------------------ */

static void
test_sandbox_state (void)
{
  g_autofree char *store = make_tmp ();
  g_autoptr(LlmsbxBubblewrapSandbox) sandbox = llmsbx_bubblewrap_sandbox_new (store, "0123456789abcdef0123456789abcdef");
  g_autoptr(LlmsbxBubblewrapSandbox) loaded = NULL;
  g_autoptr(LlmsbxBubblewrapSandbox) by_name = NULL;
  g_autoptr(LlmsbxBubblewrapSandbox) by_prefix = NULL;
  g_autoptr(GPtrArray) all = NULL;
  g_autoptr(GError) error = NULL;
  char *labels[] = { "io.llmsbx.session=s1", "team=data", NULL };
  char *env[] = { "A=1", NULL };
  const char *match[] = { "team=data", "io.llmsbx.session", NULL };
  const char *other[] = { "team=web", NULL };

  g_assert_cmpint (g_mkdir_with_parents (sandbox->dir, 0700), ==, 0);
  sandbox->name = g_strdup ("llmsbx-python-s1");
  sandbox->labels = g_strdupv (labels);
  sandbox->env = g_strdupv (env);
  sandbox->uid = 1000;
  sandbox->workdir = g_strdup ("/sandbox");
  sandbox->cwd = g_strdup ("/workspace");
  sandbox->helper_pid = getpid ();
  sandbox->helper_start = llmsbx_bubblewrap_process_start_time (getpid ());
  llmsbx_bubblewrap_sandbox_save (sandbox, &error);
  g_assert_no_error (error);

  loaded = llmsbx_bubblewrap_sandbox_load (store, sandbox->id, &error);
  g_assert_no_error (error);
  g_assert_cmpstrv (loaded->labels, labels);
  g_assert_cmpuint (loaded->uid, ==, 1000);
  /* The directory kept writable and where commands start (working_dir) differ. */
  g_assert_cmpstr (loaded->workdir, ==, "/sandbox");
  g_assert_cmpstr (loaded->cwd, ==, "/workspace");
  g_assert_true (llmsbx_bubblewrap_sandbox_matches (loaded, match));
  g_assert_false (llmsbx_bubblewrap_sandbox_matches (loaded, other));
  g_assert_true (llmsbx_bubblewrap_sandbox_helper_alive (loaded));

  by_name = llmsbx_bubblewrap_sandbox_find (store, "llmsbx-python-s1", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (by_name->id, ==, sandbox->id);
  by_prefix = llmsbx_bubblewrap_sandbox_find (store, "0123456789ab", &error);
  g_assert_no_error (error);
  g_assert_null (llmsbx_bubblewrap_sandbox_find (store, "0123", &error));
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_CONTAINER_FAILED);
  g_clear_error (&error);
  g_assert_null (llmsbx_bubblewrap_sandbox_load (store, "../etc", &error));
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_CONTAINER_FAILED);

  /* A live helper protects its sandbox from the reaper; a dead one does not. */
  g_assert_cmpuint (llmsbx_bubblewrap_sandbox_reap_stale (store), ==, 0);
  loaded->helper_start++;
  llmsbx_bubblewrap_sandbox_save (loaded, NULL);
  all = llmsbx_bubblewrap_sandbox_list (store);
  g_assert_cmpuint (all->len, ==, 1);
  g_assert_cmpuint (llmsbx_bubblewrap_sandbox_reap_stale (store), ==, 1);
  g_assert_false (g_file_test (sandbox->dir, G_FILE_TEST_EXISTS));
  remove_tmp (store);
}

/* ---------------------------------------------------------------------------
 * Cleanup
 * ------------------------------------------------------------------------ */

static void
test_remove_hostile_tree (void)
{
  g_autofree char *base = make_tmp ();
  g_autofree char *outside = g_build_filename (base, "outside", NULL);
  g_autofree char *tree = g_build_filename (base, "tree", NULL);
  g_autofree char *link = g_build_filename (tree, "a", "link", NULL);
  g_autofree char *locked = g_build_filename (tree, "locked", NULL);
  g_autofree char *precious = g_build_filename (outside, "precious", NULL);
  g_autoptr(GError) error = NULL;

  write_file (outside, "precious", "keep\n");
  write_file (tree, "a/b/c/file", "x");
  write_file (tree, "locked/inside/file", "y");
  g_assert_cmpint (symlink (outside, link), ==, 0);
  g_assert_cmpint (g_chmod (locked, 0), ==, 0);

  llmsbx_bubblewrap_remove_tree (tree, &error);
  g_assert_no_error (error);
  g_assert_false (g_file_test (tree, G_FILE_TEST_EXISTS));
  /* The link went, not what it pointed at. */
  g_assert_true (g_file_test (precious, G_FILE_TEST_IS_REGULAR));
  /* What is not there counts as removed. */
  g_assert_true (llmsbx_bubblewrap_remove_tree (tree, &error));
  remove_tmp (base);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/bubblewrap-units/config-values", test_config_values);
  g_test_add_func ("/bubblewrap-units/config-refusals", test_config_refusals);
  g_test_add_func ("/bubblewrap-units/parse-bytes", test_parse_bytes);
  g_test_add_func ("/bubblewrap-units/user-namespace-sysctls", test_user_namespace_sysctls);
  g_test_add_func ("/bubblewrap-units/cgroup-v1", test_cgroup_v1);
  g_test_add_func ("/bubblewrap-units/cgroup-v2", test_cgroup_v2);
  g_test_add_func ("/bubblewrap-units/cgroup-none", test_cgroup_none);
  g_test_add_func ("/bubblewrap-units/bwrap-builder", test_bwrap_builder);
  g_test_add_func ("/bubblewrap-units/render-limits", test_render_limits);
  g_test_add_func ("/bubblewrap-units/render-preset", test_render_preset);
  g_test_add_func ("/bubblewrap-units/store-lookup", test_store_lookup);
  g_test_add_func ("/bubblewrap-units/store-commit-and-remove", test_store_commit_and_remove);
  g_test_add_func ("/bubblewrap-units/sandbox-state", test_sandbox_state);
  g_test_add_func ("/bubblewrap-units/remove-hostile-tree", test_remove_hostile_tree);

  return g_test_run ();
}
