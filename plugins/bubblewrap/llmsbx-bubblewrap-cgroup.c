/* llmsbx-bubblewrap-cgroup.c: a cgroup (v1 or v2) per bubblewrap sandbox, for its limits.
 *
 * Each sandbox gets `llmsbx/<id>` below every controller it needs (cgroup
 * v1: memory, pids, cpu, and cpuset when CPUs are pinned) or below
 * the unified hierarchy (v2), with Docker's mapping of docker-py's values:
 * the same numbers end up in the same files as under Docker, so code and
 * tests reading them inside the sandbox see the same thing. The helper that
 * starts bwrap moves the sandbox's first process in; everything it starts
 * inherits the cgroup.
 *
 * Where no cgroup can be made (a user without a delegated v2 subtree, a
 * read-only cgroupfs) creation fails with G_FILE_ERROR_ACCES or
 * G_FILE_ERROR_NOSYS and the caller falls back to rlimits; a value
 * the kernel refuses fails with G_FILE_ERROR_INVAL. This file uses
 * GLib only, as the helper links it too. */
#include "llmsbx-bubblewrap-cgroup.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <signal.h>
#include <string.h>
#include <glib/gstdio.h>

/* The v1 controllers every sandbox gets (cpuset only on request). No
 * freezer: killing a sandbox is its pid namespace's end, which takes every
 * process in it, fork bombs included; the cgroup's list is what the reaper
 * checks after that. */
static const char * const v1_controllers[] = { "memory", "pids", "cpu", NULL };
/* Those the sandbox sees. */
static const char * const v1_views[] = { "memory", "pids", "cpu", "cpuset", NULL };

LlmsbxCgroupVersion
llmsbx_cgroup_detect (const char *root)
{
  g_autofree char *controllers = g_build_filename (root, "cgroup.controllers", NULL);
  g_autofree char *memory = g_build_filename (root, "memory", "memory.limit_in_bytes", NULL);

  if (g_file_test (controllers, G_FILE_TEST_EXISTS))
    return LLMSBX_CGROUP_V2;
  if (g_file_test (memory, G_FILE_TEST_EXISTS))
    return LLMSBX_CGROUP_V1;
  return LLMSBX_CGROUP_NONE;
}

static gboolean
write_file (const char  *dir,
            const char  *name,
            const char  *value,
            GError     **error)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  /* cgroupfs makes its files itself; O_CREAT changes nothing there, and lets
   * the unit tests work on a plain directory tree. */
  int fd = g_open (path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  gssize n;
  int saved;

  if (fd < 0)
    {
      saved = errno;
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved),
                   "Cannot open %s: %s", path, g_strerror (saved));
      return FALSE;
    }
  n = write (fd, value, strlen (value));
  saved = errno;
  close (fd);
  if (n != (gssize) strlen (value))
    {
      /* The kernel refuses a value with EINVAL (or ERANGE, EBUSY for an
       * out-of-range cpuset): the configuration's fault, not the host's. */
      g_set_error (error, G_FILE_ERROR,
                   saved == EINVAL || saved == ERANGE || saved == EBUSY ? G_FILE_ERROR_INVAL
                                                                        : g_file_error_from_errno (saved),
                   "The kernel refused %s for %s: %s", value, path, g_strerror (saved));
      return FALSE;
    }
  return TRUE;
}

static gboolean
write_number (const char  *dir,
              const char  *name,
              gint64       value,
              GError     **error)
{
  char text[32];

  g_snprintf (text, sizeof text, "%" G_GINT64_FORMAT, value);
  return write_file (dir, name, text, error);
}

static char *
read_trimmed (const char *dir,
              const char *name)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  char *contents = NULL;

  if (!g_file_get_contents (path, &contents, NULL, NULL))
    return NULL;
  return g_strstrip (contents);
}

/* Makes @dir (and missing parents up to an existing cgroup); EEXIST is fine
 * for parents, not for the sandbox's own directory. */
static gboolean
make_dir (const char  *dir,
          gboolean     must_be_new,
          GError     **error)
{
  if (g_mkdir (dir, 0755) == 0)
    return TRUE;
  if (errno == EEXIST && !must_be_new)
    return TRUE;
  {
    int saved = errno;

    g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved),
                 "Cannot create the cgroup %s: %s", dir, g_strerror (saved));
  }
  return FALSE;
}

guint64
llmsbx_cgroup_weight_from_shares (gint64 shares)
{
  /* The conversion runc and the kernel documentation use. */
  if (shares <= 0)
    return 100;
  shares = CLAMP (shares, 2, 262144);
  return 1 + ((guint64) (shares - 2) * 9999) / 262142;
}

static gint64
total_swap_limit (const LlmsbxCgroupLimits *limits)
{
  if (limits->memory_swap == -1)
    return -1;
  if (limits->memory_swap > 0)
    return limits->memory_swap;
  return limits->memory > 0 ? 2 * limits->memory : 0;
}

static gboolean
apply_v1 (const char                *controller,
          const char                *dir,
          const LlmsbxCgroupLimits  *limits,
          GError                   **error)
{
  if (g_str_equal (controller, "memory") && limits->memory > 0)
    {
      g_autofree char *memsw = g_build_filename (dir, "memory.memsw.limit_in_bytes", NULL);
      gint64 total = total_swap_limit (limits);

      if (!write_number (dir, "memory.limit_in_bytes", limits->memory, error))
        return FALSE;
      /* Only kernels with swap accounting have memsw. */
      if (g_file_test (memsw, G_FILE_TEST_EXISTS) && total != 0 &&
          !write_number (dir, "memory.memsw.limit_in_bytes", total, error))
        return FALSE;
    }
  else if (g_str_equal (controller, "pids") && limits->pids > 0)
    return write_number (dir, "pids.max", limits->pids, error);
  else if (g_str_equal (controller, "cpu"))
    {
      if (limits->cpu_quota > 0 &&
          (!write_number (dir, "cpu.cfs_period_us", limits->cpu_period > 0 ? limits->cpu_period : 100000, error) ||
           !write_number (dir, "cpu.cfs_quota_us", limits->cpu_quota, error)))
        return FALSE;
      if (limits->cpu_shares > 0)
        return write_number (dir, "cpu.shares", limits->cpu_shares, error);
    }
  else if (g_str_equal (controller, "cpuset"))
    {
      g_autofree char *parent = g_path_get_dirname (dir);
      g_autofree char *mems = read_trimmed (parent, "cpuset.mems");

      /* A v1 cpuset takes no task before it has memory nodes and CPUs. */
      return write_file (dir, "cpuset.mems", mems ? mems : "0", error) &&
             write_file (dir, "cpuset.cpus", limits->cpuset_cpus, error);
    }
  return TRUE;
}

/* A v1 cpuset parent must have CPUs and memory nodes before it has children. */
static gboolean
prepare_v1_cpuset_parent (const char  *parent,
                          GError     **error)
{
  g_autofree char *grandparent = g_path_get_dirname (parent);
  g_autofree char *cpus = read_trimmed (parent, "cpuset.cpus");
  g_autofree char *mems = read_trimmed (parent, "cpuset.mems");
  g_autofree char *all_cpus = NULL;
  g_autofree char *all_mems = NULL;

  if (cpus != NULL && *cpus != '\0' && mems != NULL && *mems != '\0')
    return TRUE;
  all_cpus = read_trimmed (grandparent, "cpuset.cpus");
  all_mems = read_trimmed (grandparent, "cpuset.mems");
  return write_file (parent, "cpuset.cpus", all_cpus ? all_cpus : "0", error) &&
         write_file (parent, "cpuset.mems", all_mems ? all_mems : "0", error);
}

static LlmsbxCgroup *
cgroup_new (LlmsbxCgroupVersion version)
{
  LlmsbxCgroup *self = g_new0 (LlmsbxCgroup, 1);

  self->version = version;
  self->dirs = g_ptr_array_new_with_free_func (g_free);
  self->views = g_ptr_array_new_with_free_func (g_free);
  return self;
}

static gboolean
create_v1 (LlmsbxCgroup              *self,
           const char                *root,
           const char                *parent,
           const char                *name,
           const LlmsbxCgroupLimits  *limits,
           GError                   **error)
{
  g_autoptr(GPtrArray) wanted = g_ptr_array_new ();

  for (guint i = 0; v1_controllers[i] != NULL; i++)
    g_ptr_array_add (wanted, (gpointer) v1_controllers[i]);
  if (limits->cpuset_cpus != NULL)
    g_ptr_array_add (wanted, (gpointer) "cpuset");

  for (guint i = 0; i < wanted->len; i++)
    {
      const char *controller = wanted->pdata[i];
      g_autofree char *mount = g_build_filename (root, controller, NULL);
      g_autofree char *base = g_build_filename (mount, parent, NULL);
      g_autofree char *dir = g_build_filename (base, name, NULL);

      if (!g_file_test (mount, G_FILE_TEST_IS_DIR))
        {
          g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_NOSYS,
                       "This host has no cgroup v1 %s controller at %s", controller, mount);
          return FALSE;
        }
      if (!make_dir (base, FALSE, error) ||
          (g_str_equal (controller, "cpuset") && !prepare_v1_cpuset_parent (base, error)) ||
          !make_dir (dir, TRUE, error))
        return FALSE;
      g_ptr_array_add (self->dirs, g_steal_pointer (&dir));
      g_ptr_array_add (self->views, g_strv_contains (v1_views, controller) ? g_strdup (controller) : NULL);
      if (!apply_v1 (controller, self->dirs->pdata[self->dirs->len - 1], limits, error))
        return FALSE;
    }
  return TRUE;
}

/* Turns on what the sandbox needs in @dir's children; controllers the
 * kernel does not offer there are left out. */
static void
enable_v2_controllers (const char *dir)
{
  static const char * const wanted[] = { "memory", "pids", "cpu", "cpuset", NULL };
  g_autofree char *available = read_trimmed (dir, "cgroup.controllers");
  g_auto(GStrv) offered = g_strsplit (available ? available : "", " ", -1);

  for (guint i = 0; wanted[i] != NULL; i++)
    if (g_strv_contains ((const char * const *) offered, wanted[i]))
      {
        g_autofree char *change = g_strconcat ("+", wanted[i], NULL);
        g_autoptr(GError) ignored = NULL;

        write_file (dir, "cgroup.subtree_control", change, &ignored);
      }
}

static gboolean
create_v2 (LlmsbxCgroup              *self,
           const char                *root,
           const char                *parent,
           const char                *name,
           const LlmsbxCgroupLimits  *limits,
           GError                   **error)
{
  g_autofree char *base = g_build_filename (root, parent, NULL);
  g_autofree char *dir = g_build_filename (base, name, NULL);
  gint64 total = total_swap_limit (limits);

  if (!make_dir (base, FALSE, error))
    return FALSE;
  enable_v2_controllers (root);
  enable_v2_controllers (base);
  if (!make_dir (dir, TRUE, error))
    return FALSE;
  g_ptr_array_add (self->dirs, g_strdup (dir));
  g_ptr_array_add (self->views, g_strdup (""));

  if (limits->memory > 0)
    {
      g_autofree char *swap_file = g_build_filename (dir, "memory.swap.max", NULL);

      if (!write_number (dir, "memory.max", limits->memory, error))
        return FALSE;
      /* v2 limits swap alone: the total less the memory. */
      if (g_file_test (swap_file, G_FILE_TEST_EXISTS) && total != 0 &&
          !(total < 0 ? write_file (dir, "memory.swap.max", "max", error)
                      : write_number (dir, "memory.swap.max", MAX (total - limits->memory, 0), error)))
        return FALSE;
    }
  if (limits->pids > 0 && !write_number (dir, "pids.max", limits->pids, error))
    return FALSE;
  if (limits->cpu_quota > 0)
    {
      g_autofree char *max = g_strdup_printf ("%" G_GINT64_FORMAT " %" G_GINT64_FORMAT, limits->cpu_quota,
                                              limits->cpu_period > 0 ? limits->cpu_period : 100000);

      if (!write_file (dir, "cpu.max", max, error))
        return FALSE;
    }
  if (limits->cpu_shares > 0 &&
      !write_number (dir, "cpu.weight", (gint64) llmsbx_cgroup_weight_from_shares (limits->cpu_shares), error))
    return FALSE;
  if (limits->cpuset_cpus != NULL && !write_file (dir, "cpuset.cpus", limits->cpuset_cpus, error))
    return FALSE;
  return TRUE;
}

/* Creates the cgroup @name below @parent (relative to each hierarchy in
 * @root, normally /sys/fs/cgroup) with @limits. On failure nothing is left. */
LlmsbxCgroup *
llmsbx_cgroup_create (const char                *root,
                      const char                *parent,
                      const char                *name,
                      const LlmsbxCgroupLimits  *limits,
                      GError                   **error)
{
  LlmsbxCgroupVersion version = llmsbx_cgroup_detect (root);
  g_autoptr(LlmsbxCgroup) self = NULL;
  gboolean ok;

  if (version == LLMSBX_CGROUP_NONE)
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_NOSYS, "No cgroup file system at %s", root);
      return NULL;
    }

  self = cgroup_new (version);
  ok = version == LLMSBX_CGROUP_V1 ? create_v1 (self, root, parent, name, limits, error)
                                   : create_v2 (self, root, parent, name, limits, error);
  g_ptr_array_add (self->dirs, NULL);
  if (!ok)
    {
      llmsbx_cgroup_remove_dirs ((const char * const *) self->dirs->pdata, NULL);
      return NULL;
    }
  return g_steal_pointer (&self);
}

void
llmsbx_cgroup_free (LlmsbxCgroup *self)
{
  if (self == NULL)
    return;
  g_ptr_array_unref (self->dirs);
  g_ptr_array_unref (self->views);
  g_free (self);
}

/* The cgroup.procs files a process writes itself into to join. */
char **
llmsbx_cgroup_procs_files (LlmsbxCgroup *self)
{
  GStrvBuilder *builder = g_strv_builder_new ();
  char **files;

  for (guint i = 0; i < self->dirs->len && self->dirs->pdata[i] != NULL; i++)
    {
      g_autofree char *file = g_build_filename (self->dirs->pdata[i], "cgroup.procs", NULL);
      g_strv_builder_add (builder, file);
    }
  files = g_strv_builder_end (builder);
  g_strv_builder_unref (builder);
  return files;
}

/* Sends SIGKILL to every process listed in @dir; returns how many it saw. */
static guint
kill_listed (const char *dir)
{
  g_autofree char *procs = read_trimmed (dir, "cgroup.procs");
  g_auto(GStrv) pids = g_strsplit (procs ? procs : "", "\n", -1);
  guint seen = 0;

  for (guint i = 0; pids[i] != NULL; i++)
    {
      guint64 pid;

      if (g_ascii_string_to_unsigned (pids[i], 10, 1, G_MAXINT32, &pid, NULL))
        {
          kill ((pid_t) pid, SIGKILL);
          seen++;
        }
    }
  return seen;
}

static gboolean
set_frozen (const char *dir,
            gboolean    frozen)
{
  g_autofree char *v1 = g_build_filename (dir, "freezer.state", NULL);
  g_autofree char *v2 = g_build_filename (dir, "cgroup.freeze", NULL);

  if (g_file_test (v1, G_FILE_TEST_EXISTS))
    return write_file (dir, "freezer.state", frozen ? "FROZEN" : "THAWED", NULL);
  if (g_file_test (v2, G_FILE_TEST_EXISTS))
    return write_file (dir, "cgroup.freeze", frozen ? "1" : "0", NULL);
  return FALSE;
}

/* Kills every process in the cgroups @dirs, fork bombs included: v2's
 * cgroup.kill when there is one, otherwise frozen first (a frozen process
 * cannot fork) where a freezer exists. Returns whether they are empty. */
gboolean
llmsbx_cgroup_kill_all (const char * const *dirs)
{
  const char *freezer = NULL;
  gboolean empty = FALSE;

  for (guint i = 0; dirs[i] != NULL; i++)
    {
      g_autofree char *kill_file = g_build_filename (dirs[i], "cgroup.kill", NULL);

      if (g_file_test (kill_file, G_FILE_TEST_EXISTS))
        write_file (dirs[i], "cgroup.kill", "1", NULL);
      if (freezer == NULL && set_frozen (dirs[i], TRUE))
        freezer = dirs[i];
    }

  /* Killed processes leave the list a moment later: look again soon, then
   * less often (about 10 s in all, for a loaded machine). */
  for (guint round = 0, pause = 500; round < 1000 && !empty; round++, pause = MIN (pause * 2, 10000))
    {
      empty = TRUE;
      for (guint i = 0; dirs[i] != NULL; i++)
        if (kill_listed (dirs[i]) > 0)
          empty = FALSE;
      if (freezer != NULL)
        set_frozen (freezer, FALSE);
      if (!empty)
        g_usleep (pause);
      if (freezer != NULL && !empty)
        set_frozen (freezer, TRUE);
    }
  if (freezer != NULL)
    set_frozen (freezer, FALSE);
  return empty;
}

/* Removes the cgroup directories @dirs, waiting a moment for processes that
 * are still exiting; missing ones count as removed. */
gboolean
llmsbx_cgroup_remove_dirs (const char * const  *dirs,
                           GError             **error)
{
  gboolean ok = TRUE;

  for (guint i = 0; dirs != NULL && dirs[i] != NULL; i++)
    {
      int saved = 0;

      for (guint attempt = 0, pause = 500; attempt < 500; attempt++, pause = MIN (pause * 2, 20000))
        {
          if (g_rmdir (dirs[i]) == 0 || errno == ENOENT)
            {
              saved = 0;
              break;
            }
          saved = errno;
          if (saved != EBUSY)
            break;
          g_usleep (pause);
        }
      if (saved != 0)
        {
          if (ok)
            g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved),
                         "Cannot remove the cgroup %s: %s", dirs[i], g_strerror (saved));
          ok = FALSE;
        }
    }
  return ok;
}
