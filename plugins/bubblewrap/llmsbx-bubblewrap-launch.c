/* llmsbx-bubblewrap-launch.c: starting and stopping bubblewrap sandboxes.
 *
 * A sandbox is one long-lived bwrap whose command is our init
 * (helpers/llmsbx-bwrap-init.c): every exec of the session runs in it, so
 * files, /tmp and background processes persist between commands as in a
 * container, and the core's token kill (an exec that looks through /proc)
 * sees the processes of earlier commands. bwrap runs under a helper process
 * per sandbox (helpers/llmsbx-bwrap-monitor.c), which holds its mounts and
 * tears everything down when the lifeline this file keeps open is closed:
 * by llmsbx_bubblewrap_stop(), or by the kernel when our process dies.
 *
 * Setting a sandbox up, in order: read the runtime configs (refusing what
 * does not apply), find the image and the user, make the state directory and
 * write its state file (so a crash leaves something the reaper understands),
 * make the cgroup (else plan rlimits), build the seccomp filter, build the
 * bwrap command line, start the helper, and wait for its one status line. */
#define _GNU_SOURCE
#include "llmsbx-bubblewrap-launch.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <glib/gstdio.h>
#include <glib-unix.h>

#include "helpers/llmsbx-bwrap-helper-protocol.h"
#include "helpers/llmsbx-bwrap-init-protocol.h"
#include "llmsbx-bubblewrap-cgroup.h"
#include "llmsbx-bubblewrap-cleanup.h"
#include "llmsbx-bubblewrap-rootfs.h"
#include "llmsbx-bubblewrap-runtime-configs.h"
#include "llmsbx-bubblewrap-seccomp.h"
#include "llmsbx-bwrap.h"

#define CGROUP_ROOT_VARIABLE "LLMSBX_BUBBLEWRAP_CGROUP_ROOT"
#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
/* How long a sandbox may take to start (bwrap, mounts, the init's first breath). */
#define START_TIMEOUT_MS (90 * 1000)
/* How long stopping a sandbox another process started may take. */
#define FOREIGN_STOP_TIMEOUT_US (30 * G_USEC_PER_SEC)

/* Docker's default capabilities, which a root user gets unless told otherwise. */
static const char * const default_capabilities[] = {
  "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW",
  "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE",
  "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE", NULL
};

/* ---------------------------------------------------------------------------
 * Sandboxes of this process
 * ------------------------------------------------------------------------ */

typedef struct {
  GSubprocess *helper;
  int          lifeline;   /* write end; closing it ends the sandbox */
  int          status;     /* read end of the status pipe: end of file when the helper is gone */
} LiveSandbox;

static GMutex live_lock;
static GHashTable *live_sandboxes;  /* id → LiveSandbox */

static void
live_sandbox_free (gpointer data)
{
  LiveSandbox *live = data;

  if (live->lifeline >= 0)
    close (live->lifeline);
  if (live->status >= 0)
    close (live->status);
  /* GSubprocess reaps the helper whenever it exits, held or not. */
  g_clear_object (&live->helper);
  g_free (live);
}

static void
register_live (const char  *id,
               GSubprocess *helper,
               int          lifeline,
               int          status)
{
  LiveSandbox *live = g_new0 (LiveSandbox, 1);

  live->helper = g_object_ref (helper);
  live->lifeline = lifeline;
  live->status = status;
  g_mutex_lock (&live_lock);
  if (live_sandboxes == NULL)
    live_sandboxes = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, live_sandbox_free);
  g_hash_table_insert (live_sandboxes, g_strdup (id), live);
  g_mutex_unlock (&live_lock);
}

static LiveSandbox *
steal_live (const char *id)
{
  gpointer key = NULL, value = NULL;

  g_mutex_lock (&live_lock);
  if (live_sandboxes == NULL || !g_hash_table_steal_extended (live_sandboxes, id, &key, &value))
    value = NULL;
  g_mutex_unlock (&live_lock);
  g_free (key);
  return value;
}

/* Whether this process started the sandbox @id (and has not stopped it). */
gboolean
llmsbx_bubblewrap_owns (const char *id)
{
  gboolean owns;

  g_mutex_lock (&live_lock);
  owns = live_sandboxes != NULL && g_hash_table_contains (live_sandboxes, id);
  g_mutex_unlock (&live_lock);
  return owns;
}

/* ---------------------------------------------------------------------------
 * Helpers on disk
 * ------------------------------------------------------------------------ */

/**
 * llmsbx_bubblewrap_helper_path:
 * @name: a helper program of this plugin
 * @error: return location for a #GError
 *
 * Finds a helper program: next to the plugin module itself (the build
 * tree, where tests load it), else where it was installed.
 *
 * Returns: (transfer full) (type filename): its path, or %NULL on error
 */
char *
llmsbx_bubblewrap_helper_path (const char  *name,
                               GError     **error)
{
  Dl_info info;
  g_autofree char *installed = g_build_filename (LLMSBX_BUBBLEWRAP_HELPERDIR, name, NULL);

  if (dladdr ((void *) llmsbx_bubblewrap_helper_path, &info) != 0 && info.dli_fname != NULL)
    {
      g_autofree char *dir = g_path_get_dirname (info.dli_fname);
      g_autofree char *beside = g_build_filename (dir, name, NULL);

      if (g_file_test (beside, G_FILE_TEST_IS_EXECUTABLE))
        return g_steal_pointer (&beside);
    }
  if (g_file_test (installed, G_FILE_TEST_IS_EXECUTABLE))
    return g_steal_pointer (&installed);

  g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_BACKEND_UNAVAILABLE,
               "The bubblewrap backend's helper %s is missing (looked beside the plugin and in %s): "
               "reinstall libllmsbx", name, LLMSBX_BUBBLEWRAP_HELPERDIR);
  return NULL;
}

/* ---------------------------------------------------------------------------
 * The sandbox's parts
 * ------------------------------------------------------------------------ */

static gboolean
fail_errno (GError     **error,
            int          code,
            const char  *what,
            const char  *path)
{
  int saved = errno;

  g_set_error (error, LLMSBX_ERROR, code, "%s %s: %s", what, path, g_strerror (saved));
  return FALSE;
}

static char *
random_id (void)
{
  GString *id = g_string_sized_new (32);

  for (guint i = 0; i < 4; i++)
    g_string_append_printf (id, "%08x", g_random_int ());
  return g_string_free (id, FALSE);
}

static gboolean
in_any_layer (char       **layers,
              const char  *path)
{
  for (guint i = 0; layers[i] != NULL; i++)
    {
      g_autofree char *candidate = g_build_filename (layers[i], path, NULL);

      if (g_file_test (candidate, G_FILE_TEST_EXISTS))
        return TRUE;
    }
  return FALSE;
}

/* Mount points the image lacks go in a stub layer on top of it (a
 * directory; an empty file for a file's bind): a read-only root could not
 * take them, and in a writable one they would land in the upper layer, and
 * so in a commit. The monitor makes the layer on its scratch tmpfs. */
static void
add_stub (GPtrArray   *helper_args,
          const char  *path,
          const char  *contents)
{
  g_ptr_array_add (helper_args, g_strdup (contents != NULL ? "--stub-file" : "--stub-dir"));
  g_ptr_array_add (helper_args, g_strdup (path));
  if (contents != NULL)
    g_ptr_array_add (helper_args, g_strdup (contents));
}

static void
add_mount_point (GPtrArray   *helper_args,
                 char       **layers,
                 const char  *target,
                 gboolean     is_file)
{
  if (!in_any_layer (layers, target))
    add_stub (helper_args, target, is_file ? "" : NULL);
}

/* The capabilities a sandbox's user keeps within its user namespace. */
static char **
capabilities (LlmsbxBubblewrapConfig *config,
              guint32                 uid)
{
  g_autoptr(GPtrArray) set = g_ptr_array_new ();

  if (uid == 0 && !(config->cap_drop && g_strv_contains ((const char * const *) config->cap_drop, "ALL")))
    for (guint i = 0; default_capabilities[i] != NULL; i++)
      if (config->cap_drop == NULL || !g_strv_contains ((const char * const *) config->cap_drop, default_capabilities[i]))
        g_ptr_array_add (set, (gpointer) default_capabilities[i]);
  for (guint i = 0; config->cap_add != NULL && config->cap_add[i] != NULL; i++)
    {
      gboolean present = FALSE;

      for (guint j = 0; j < set->len; j++)
        present = present || g_str_equal (set->pdata[j], config->cap_add[i]);
      if (!present)
        g_ptr_array_add (set, config->cap_add[i]);
    }
  g_ptr_array_add (set, NULL);
  return g_strdupv ((char **) set->pdata);
}

static gboolean
has_variable (GPtrArray  *env,
              const char *name)
{
  gsize len = strlen (name);

  for (guint i = 0; i < env->len; i++)
    if (strncmp (env->pdata[i], name, len) == 0 && ((char *) env->pdata[i])[len] == '=')
      return TRUE;
  return FALSE;
}

/* Later entries win, as in an engine's container environment. */
static void
set_variable (GPtrArray  *env,
              const char *assignment)
{
  const char *eq = strchr (assignment, '=');
  gsize len = eq ? (gsize) (eq - assignment) : strlen (assignment);

  for (guint i = 0; i < env->len; i++)
    if (strncmp (env->pdata[i], assignment, len) == 0 && ((char *) env->pdata[i])[len] == '=')
      {
        g_free (env->pdata[i]);
        env->pdata[i] = g_strdup (assignment);
        return;
      }
  g_ptr_array_add (env, g_strdup (assignment));
}

/* The listening socket of the init, at @dir/control. Long paths go through
 * the directory's descriptor, as sun_path is short. */
static int
listen_socket (const char  *dir,
               GError     **error)
{
  g_autofree char *path = g_build_filename (dir, "control", NULL);
  struct sockaddr_un address = { .sun_family = AF_UNIX };
  int dir_fd = -1;
  int fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

  if (fd < 0)
    {
      fail_errno (error, LLMSBX_ERROR_CONTAINER_FAILED, "Cannot make the sandbox's socket", path);
      return -1;
    }
  if (strlen (path) < sizeof address.sun_path)
    g_strlcpy (address.sun_path, path, sizeof address.sun_path);
  else
    {
      dir_fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      g_snprintf (address.sun_path, sizeof address.sun_path, "/proc/self/fd/%d/control", dir_fd);
    }
  if (bind (fd, (struct sockaddr *) &address, sizeof address) != 0 || listen (fd, 64) != 0)
    {
      fail_errno (error, LLMSBX_ERROR_CONTAINER_FAILED, "Cannot listen on", path);
      close (fd);
      fd = -1;
    }
  if (dir_fd >= 0)
    close (dir_fd);
  return fd;
}

/* Everything a launch makes, undone together on failure. */
typedef struct {
  LlmsbxBubblewrapSandbox *sandbox;
  LlmsbxCgroup            *cgroup;
  GPtrArray               *helper_args;
  LlmsbxBwrap             *bwrap;
  int                      fds[16];       /* by target number, -1 when none */
  gboolean                 dir_made;
} Launch;

static void
launch_clear (Launch *launch)
{
  for (guint i = 0; i < G_N_ELEMENTS (launch->fds); i++)
    if (launch->fds[i] >= 0)
      close (launch->fds[i]);
  g_clear_pointer (&launch->cgroup, llmsbx_cgroup_free);
  g_clear_pointer (&launch->helper_args, g_ptr_array_unref);
  g_clear_pointer (&launch->bwrap, llmsbx_bwrap_free);
  g_clear_pointer (&launch->sandbox, llmsbx_bubblewrap_sandbox_unref);
}

/* Removes what a failed launch made before its helper could. */
static void
launch_undo (Launch *launch)
{
  if (launch->cgroup != NULL)
    {
      llmsbx_cgroup_kill_all ((const char * const *) launch->cgroup->dirs->pdata);
      llmsbx_cgroup_remove_dirs ((const char * const *) launch->cgroup->dirs->pdata, NULL);
    }
  if (launch->dir_made)
    llmsbx_bubblewrap_remove_tree (launch->sandbox->dir, NULL);
}

static void
add_helper_arg (Launch     *launch,
                const char *first,
                ...) G_GNUC_NULL_TERMINATED;

static void
add_helper_arg (Launch     *launch,
                const char *first,
                ...)
{
  va_list args;

  va_start (args, first);
  for (const char *arg = first; arg != NULL; arg = va_arg (args, const char *))
    g_ptr_array_add (launch->helper_args, g_strdup (arg));
  va_end (args);
}

static gboolean
make_dirs (Launch       *launch,
           const char  **names,
           GError      **error)
{
  for (guint i = 0; names[i] != NULL; i++)
    {
      g_autofree char *path = llmsbx_bubblewrap_sandbox_path (launch->sandbox, names[i]);

      if (g_mkdir (path, 0755) != 0)
        return fail_errno (error, LLMSBX_ERROR_CONTAINER_FAILED, "Cannot create", path);
    }
  return TRUE;
}

/* The cgroup, or the rlimits that stand in for it where none can be made. */
static gboolean
setup_limits (Launch                  *launch,
              LlmsbxBubblewrapConfig  *config,
              GError                 **error)
{
  const char *configured = g_getenv (CGROUP_ROOT_VARIABLE);
  const char *root = configured != NULL && configured[0] == '/' ? configured : "/sys/fs/cgroup";
  g_autoptr(GError) local_error = NULL;

  /* Without limits to enforce, no cgroup: its making, joining and removal
   * would be a sizeable part of a sandbox's start and end. The pid
   * namespace is what ends its processes either way. */
  if (!config->has_limits)
    return TRUE;

  launch->cgroup = llmsbx_cgroup_create (root, "llmsbx", launch->sandbox->id, &config->limits, &local_error);
  if (launch->cgroup != NULL)
    {
      launch->sandbox->cgroups = g_strdupv ((char **) launch->cgroup->dirs->pdata);
      for (guint i = 0; launch->cgroup->dirs->pdata[i] != NULL; i++)
        add_helper_arg (launch, "--cgroup", launch->cgroup->dirs->pdata[i], NULL);
      return TRUE;
    }

  if (g_error_matches (local_error, G_FILE_ERROR, G_FILE_ERROR_INVAL))
    {
      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT, "%s", local_error->message);
      return FALSE;
    }

  /* No cgroup here: memory and processes by rlimits, which are per
   * process (memory) and per user (processes); CPU time is not limited. */
  g_debug ("No cgroup for sandbox %.12s (%s): limits by rlimits", launch->sandbox->id, local_error->message);
  if (config->limits.memory > 0)
    {
      g_autofree char *spec = g_strdup_printf ("as:%" G_GINT64_FORMAT ":%" G_GINT64_FORMAT,
                                               config->limits.memory, config->limits.memory);
      add_helper_arg (launch, "--rlimit", spec, NULL);
    }
  if (config->limits.pids > 0)
    {
      g_autofree char *spec = g_strdup_printf ("nproc:%" G_GINT64_FORMAT ":%" G_GINT64_FORMAT,
                                               config->limits.pids, config->limits.pids);
      add_helper_arg (launch, "--rlimit", spec, NULL);
    }
  if (config->limits.cpu_quota > 0 || config->limits.cpu_shares > 0 || config->limits.cpuset_cpus != NULL)
    g_info ("Sandbox %.12s has no cgroup (%s): its CPU limits are not enforced", launch->sandbox->id,
            local_error->message);
  return TRUE;
}

/* The tmpfs the helper mounts at @name, bound at @target in the sandbox. */
static void
add_tmpfs (Launch     *launch,
           const char *name,
           const char *target,
           guint64     size,
           guint       mode,
           guint64     nr_inodes,
           gboolean    noexec,
           gboolean    read_only)
{
  g_autoptr(GString) data = g_string_new (NULL);
  g_autofree char *staged = NULL;
  g_autofree char *spec = NULL;

  g_string_append_printf (data, "mode=%o", mode);
  if (size > 0)
    g_string_append_printf (data, ",size=%" G_GUINT64_FORMAT, size);
  if (nr_inodes > 0)
    g_string_append_printf (data, ",nr_inodes=%" G_GUINT64_FORMAT, nr_inodes);
  spec = g_strdup_printf ("%s:%s%s%s:%s", name, noexec ? "noexec" : "", noexec && read_only ? "+" : "",
                          read_only ? "ro" : "", data->str);
  add_helper_arg (launch, "--tmpfs", spec, NULL);
  staged = llmsbx_bubblewrap_sandbox_path (launch->sandbox, "mnt");
  llmsbx_bwrap_add_arg_printf (launch->bwrap, "--bind");
  llmsbx_bwrap_add_arg_printf (launch->bwrap, "%s/%s", staged, name);
  llmsbx_bwrap_add_arg (launch->bwrap, target);
}

static gboolean
path_covered (LlmsbxBubblewrapConfig *config,
              const char             *path)
{
  for (guint i = 0; i < config->tmpfs->len; i++)
    if (g_str_equal (((LlmsbxBubblewrapTmpfs *) config->tmpfs->pdata[i])->path, path))
      return TRUE;
  for (guint i = 0; i < config->binds->len; i++)
    if (g_str_equal (((LlmsbxBubblewrapBind *) config->binds->pdata[i])->target, path))
      return TRUE;
  return FALSE;
}

static gint
compare_depth (gconstpointer a,
               gconstpointer b)
{
  const char *pa = *(const char * const *) a;
  const char *pb = *(const char * const *) b;
  guint da = 0, db = 0;

  for (const char *p = pa; *p; p++)
    da += *p == '/';
  for (const char *p = pb; *p; p++)
    db += *p == '/';
  return da == db ? strcmp (pa, pb) : (gint) da - (gint) db;
}

/* The root file system, /proc, /dev, /tmp, the workdir, tmpfs and volumes,
 * /sys and the sandbox's cgroups: in an order where parents come first. */
static gboolean
add_file_systems (Launch                  *launch,
                  LlmsbxBubblewrapConfig  *config,
                  LlmsbxBubblewrapImage   *image,
                  const char              *workdir,
                  const char              *hostname,
                  const char              *slirp4netns,
                  GError                 **error)
{
  LlmsbxBubblewrapSandbox *sandbox = launch->sandbox;
  /* On the monitor's scratch tmpfs. */
  g_autofree char *root = llmsbx_bubblewrap_sandbox_path (sandbox, "mnt/root");
  g_autofree char *stub = llmsbx_bubblewrap_sandbox_path (sandbox, "mnt/stub");
  g_autofree char *layers = g_strjoinv (":", image->layers);
  g_autofree char *overlay = g_strconcat (stub, ":", layers, NULL);
  g_autoptr(GPtrArray) targets = g_ptr_array_new ();
  const char *writable[] = { "mnt", "upper", "work", NULL };
  const char *read_only[] = { "mnt", NULL };

  if (!make_dirs (launch, config->read_only ? read_only : writable, error))
    return FALSE;
  add_helper_arg (launch, "--overlay", overlay, config->read_only ? NULL : "--writable", NULL);
  llmsbx_bwrap_add_bind (launch->bwrap, config->read_only, root, "/");
  llmsbx_bwrap_add_args (launch->bwrap, "--proc", "/proc", "--dev", "/dev", NULL);
  add_tmpfs (launch, "shm", "/dev/shm", config->shm_size > 0 ? config->shm_size : 64 * 1024 * 1024, 01777, 0,
             TRUE, FALSE);

  /* Mounts, parents before what they hold. */
  if (!path_covered (config, "/tmp"))
    g_ptr_array_add (targets, (gpointer) "/tmp");
  if (!path_covered (config, workdir))
    g_ptr_array_add (targets, (gpointer) workdir);
  for (guint i = 0; i < config->tmpfs->len; i++)
    g_ptr_array_add (targets, ((LlmsbxBubblewrapTmpfs *) config->tmpfs->pdata[i])->path);
  for (guint i = 0; i < config->binds->len; i++)
    g_ptr_array_add (targets, ((LlmsbxBubblewrapBind *) config->binds->pdata[i])->target);
  g_ptr_array_sort (targets, compare_depth);

  for (guint i = 0; i < targets->len; i++)
    {
      const char *target = targets->pdata[i];
      gboolean done = FALSE;

      for (guint t = 0; t < config->tmpfs->len && !done; t++)
        {
          LlmsbxBubblewrapTmpfs *tmpfs = config->tmpfs->pdata[t];
          g_autofree char *name = g_strdup_printf ("tmpfs-%u", t);

          if (!g_str_equal (tmpfs->path, target))
            continue;
          add_mount_point (launch->helper_args, image->layers, target, FALSE);
          add_tmpfs (launch, name, target, tmpfs->size, tmpfs->mode, tmpfs->nr_inodes, tmpfs->noexec,
                     tmpfs->read_only);
          done = TRUE;
        }
      for (guint b = 0; b < config->binds->len && !done; b++)
        {
          LlmsbxBubblewrapBind *bind = config->binds->pdata[b];

          if (!g_str_equal (bind->target, target))
            continue;
          add_mount_point (launch->helper_args, image->layers, target, !g_file_test (bind->source, G_FILE_TEST_IS_DIR));
          llmsbx_bwrap_add_bind (launch->bwrap, bind->read_only, bind->source, target);
          done = TRUE;
        }
      if (done)
        continue;

      if (g_str_equal (target, "/tmp"))
        {
          add_mount_point (launch->helper_args, image->layers, "/tmp", FALSE);
          add_tmpfs (launch, "tmp", "/tmp", 0, 01777, 0, FALSE, FALSE);
        }
      else if (config->read_only)
        {
          /* The working directory must stay writable: a directory of the
           * sandbox's own, as Docker gives a read-only root a volume there. */
          g_autofree char *host = llmsbx_bubblewrap_sandbox_path (sandbox, "workdir");

          if (g_mkdir (host, 0755) != 0)
            return fail_errno (error, LLMSBX_ERROR_CONTAINER_FAILED, "Cannot create", host);
          add_mount_point (launch->helper_args, image->layers, target, FALSE);
          llmsbx_bwrap_add_bind (launch->bwrap, FALSE, host, target);
        }
      else
        add_mount_point (launch->helper_args, image->layers, target, FALSE);
    }

  /* working_dir, the sandbox's own directory where commands without one of
   * their own start, exists as an engine makes it (the session's workdir
   * is made above). */
  if (config->working_dir != NULL && !g_str_equal (config->working_dir, workdir) &&
      !path_covered (config, config->working_dir))
    add_mount_point (launch->helper_args, image->layers, config->working_dir, FALSE);

  /* apt drops privileges to its _apt user, which a sandbox's user namespace
   * does not have (it maps one user): it is told to stay who it is, in a
   * file of the stub layer. */
  if (in_any_layer (image->layers, "etc/apt/apt.conf.d"))
    add_stub (launch->helper_args, "/etc/apt/apt.conf.d/00llmsbx-bubblewrap", "APT::Sandbox::User \"root\";\n");

  /* The sandbox's own /etc/hostname and, on a network of its own, /etc/hosts,
   * as an engine writes them: the image's are the build's (an empty,
   * executable one in a tree exported from an engine, whose mount point it was). */
  if (!path_covered (config, "/etc/hostname"))
    {
      g_autofree char *contents = g_strconcat (hostname, "\n", NULL);

      add_stub (launch->helper_args, "/etc/hostname", contents);
    }
  if (config->network != LLMSBX_BUBBLEWRAP_NETWORK_HOST && !path_covered (config, "/etc/hosts"))
    {
      g_autofree char *contents = g_strdup_printf ("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
                                                   "127.0.1.1\t%s\n", hostname);

      add_stub (launch->helper_args, "/etc/hosts", contents);
    }

  /* /sys: the sandbox network's own sysfs, or the host's for host networking;
   * then only the sandbox's cgroups below /sys/fs/cgroup. */
  if (config->network == LLMSBX_BUBBLEWRAP_NETWORK_HOST)
    {
      llmsbx_bwrap_add_bind (launch->bwrap, TRUE, "/sys", "/sys");
      /* The host's name servers, as an engine copies them for host networking. */
      if (g_file_test ("/etc/resolv.conf", G_FILE_TEST_EXISTS) &&
          !path_covered (config, "/etc/resolv.conf"))
        {
          add_mount_point (launch->helper_args, image->layers, "/etc/resolv.conf", TRUE);
          llmsbx_bwrap_add_args (launch->bwrap, "--ro-bind", "/etc/resolv.conf", "/etc/resolv.conf", NULL);
        }
    }
  else
    {
      g_autofree char *sys = llmsbx_bubblewrap_sandbox_path (sandbox, "mnt/sys");

      if (slirp4netns != NULL)
        {
          /* slirp4netns answers DNS at 10.0.2.3. */
          add_helper_arg (launch, "--slirp4netns", slirp4netns, NULL);
          if (!path_covered (config, "/etc/resolv.conf"))
            add_stub (launch->helper_args, "/etc/resolv.conf", "nameserver 10.0.2.3\n");
        }
      else
        add_helper_arg (launch, "--private-network", NULL);
      llmsbx_bwrap_add_bind (launch->bwrap, TRUE, sys, "/sys");
    }
  llmsbx_bwrap_add_args (launch->bwrap, "--tmpfs", "/sys/fs/cgroup", NULL);
  for (guint i = 0; launch->cgroup != NULL && launch->cgroup->dirs->pdata[i] != NULL; i++)
    {
      const char *view = launch->cgroup->views->pdata[i];

      if (view == NULL)
        continue;
      if (view[0] == '\0')
        llmsbx_bwrap_add_bind (launch->bwrap, TRUE, launch->cgroup->dirs->pdata[i], "/sys/fs/cgroup");
      else
        {
          g_autofree char *target = g_build_filename ("/sys/fs/cgroup", view, NULL);
          llmsbx_bwrap_add_bind (launch->bwrap, TRUE, launch->cgroup->dirs->pdata[i], target);
        }
    }
  llmsbx_bwrap_add_args (launch->bwrap, "--remount-ro", "/sys/fs/cgroup", NULL);
  return TRUE;
}

static gboolean
take_fd (Launch      *launch,
         int          target,
         int          fd,
         const char  *what,
         GError     **error)
{
  if (fd < 0)
    {
      if (error != NULL && *error == NULL)
        g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_CONTAINER_FAILED, "Cannot prepare %s: %s",
                     what, g_strerror (errno));
      return FALSE;
    }
  g_assert (target >= 0 && target < (int) G_N_ELEMENTS (launch->fds) && launch->fds[target] < 0);
  launch->fds[target] = fd;
  return TRUE;
}

/* Reads the helper's status line: "ok PID" or "error MESSAGE". */
static char *
read_status (int            fd,
             GCancellable  *cancellable,
             GError       **error)
{
  g_autoptr(GString) line = g_string_new (NULL);
  gint64 deadline = g_get_monotonic_time () + (gint64) START_TIMEOUT_MS * 1000;
  GPollFD cancel_fd = { -1, 0, 0 };

  if (cancellable != NULL && g_cancellable_make_pollfd (cancellable, &cancel_fd))
    cancel_fd.events = G_IO_IN;

  while (strchr (line->str, '\n') == NULL)
    {
      struct pollfd fds[2] = { { fd, POLLIN, 0 }, { cancel_fd.fd, POLLIN, 0 } };
      gint64 left = (deadline - g_get_monotonic_time ()) / 1000;
      char buffer[512];
      gssize n;

      if (left <= 0)
        {
          g_set_error_literal (error, LLMSBX_ERROR, LLMSBX_ERROR_CONTAINER_FAILED,
                               "The sandbox did not start within 90 seconds");
          break;
        }
      if (poll (fds, 2, (int) left) < 0 && errno != EINTR)
        break;
      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        break;
      if (fds[0].revents == 0)
        continue;
      n = read (fd, buffer, sizeof buffer);
      if (n <= 0)
        {
          if (n < 0 && errno == EINTR)
            continue;
          break;
        }
      g_string_append_len (line, buffer, n);
    }

  if (cancel_fd.fd >= 0)
    g_cancellable_release_fd (cancellable);
  if (error != NULL && *error != NULL)
    return NULL;
  if (strchr (line->str, '\n') == NULL)
    {
      g_set_error_literal (error, LLMSBX_ERROR, LLMSBX_ERROR_CONTAINER_FAILED,
                           "The sandbox's helper exited before the sandbox started");
      return NULL;
    }
  *strchr (line->str, '\n') = '\0';
  return g_strdup (line->str);
}

static gboolean
spawn_helper (Launch        *launch,
              const char    *helper_path,
              GCancellable  *cancellable,
              GError       **error)
{
  LlmsbxBubblewrapSandbox *sandbox = launch->sandbox;
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDIN_INHERIT |
                                                                       G_SUBPROCESS_FLAGS_STDOUT_SILENCE);
  g_autoptr(GSubprocess) helper = NULL;
  g_autoptr(GError) local_error = NULL;
  g_autofree char *status = NULL;
  int lifeline[2], status_pipe[2];
  const char * const *bwrap_argv = llmsbx_bwrap_get_argv (launch->bwrap);
  guint64 pid;

  if (!g_unix_open_pipe (lifeline, FD_CLOEXEC, error) || !g_unix_open_pipe (status_pipe, FD_CLOEXEC, error))
    return FALSE;
  take_fd (launch, LLMSBX_BWRAP_HELPER_LIFELINE_FD, lifeline[0], "the lifeline", NULL);
  take_fd (launch, LLMSBX_BWRAP_HELPER_STATUS_FD, status_pipe[1], "the status pipe", NULL);

  add_helper_arg (launch, "--", NULL);
  for (guint i = 0; bwrap_argv[i] != NULL; i++)
    g_ptr_array_add (launch->helper_args, g_strdup (bwrap_argv[i]));
  g_ptr_array_add (launch->helper_args, NULL);
  g_ptr_array_insert (launch->helper_args, 0, g_strdup (helper_path));

  /* The helper must not hold our working directory or our descriptors. */
  g_subprocess_launcher_set_cwd (launcher, "/");
  for (guint i = 0; i < G_N_ELEMENTS (launch->fds); i++)
    if (launch->fds[i] >= 0)
      {
        g_subprocess_launcher_take_fd (launcher, launch->fds[i], i);
        launch->fds[i] = -1;
      }
  helper = g_subprocess_launcher_spawnv (launcher, (const char * const *) launch->helper_args->pdata, error);
  g_clear_object (&launcher);
  if (helper == NULL)
    {
      close (lifeline[1]);
      close (status_pipe[0]);
      return FALSE;
    }

  status = read_status (status_pipe[0], cancellable, &local_error);
  if (status == NULL || !g_str_has_prefix (status, "ok ") ||
      !g_ascii_string_to_unsigned (status + 3, 10, 1, G_MAXINT32, &pid, NULL))
    {
      close (status_pipe[0]);
      /* Closing the lifeline makes the helper tear down what it made;
       * waiting for it means nothing of it is left when we return. */
      close (lifeline[1]);
      g_subprocess_wait (helper, NULL, NULL);
      if (local_error != NULL)
        g_propagate_error (error, g_steal_pointer (&local_error));
      else
        g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_CONTAINER_FAILED, "Could not start the sandbox: %s",
                     g_str_has_prefix (status, "error ") ? status + 6 : status);
      return FALSE;
    }

  sandbox->init_pid = (gint64) pid;
  sandbox->init_start = llmsbx_bubblewrap_process_start_time (sandbox->init_pid);
  g_ascii_string_to_unsigned (g_subprocess_get_identifier (helper), 10, 1, G_MAXINT32, &pid, NULL);
  sandbox->helper_pid = (gint64) pid;
  sandbox->helper_start = llmsbx_bubblewrap_process_start_time (sandbox->helper_pid);
  register_live (sandbox->id, helper, lifeline[1], status_pipe[0]);
  return TRUE;
}

/**
 * llmsbx_bubblewrap_launch:
 * @bwrap: (type filename): the bwrap program
 * @store: (type filename): the store directory
 * @spec: what to create
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Creates and starts a sandbox. On failure nothing it made remains.
 *
 * Returns: (transfer full): the sandbox's id, or %NULL on error
 */
char *
llmsbx_bubblewrap_launch (const char           *bwrap,
                          const char           *store,
                          LlmsbxContainerSpec  *spec,
                          GCancellable         *cancellable,
                          GError              **error)
{
  g_autoptr(LlmsbxBubblewrapConfig) config = NULL;
  g_autoptr(LlmsbxBubblewrapImage) image = NULL;
  g_autoptr(GPtrArray) env = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GStrvBuilder) labels = g_strv_builder_new ();
  g_autofree char *helper_path = NULL;
  g_autofree char *init_path = NULL;
  g_autofree char *home = NULL;
  g_autofree char *sandboxes = NULL;
  g_autofree char *events = NULL;
  g_auto(GStrv) caps = NULL;
  g_autofree char *shown = NULL;
  g_autofree char *slirp4netns = NULL;
  g_autofree char *shown_hostname = NULL;
  Launch launch = { 0 };
  const char *workdir;
  const char *hostname;
  guint32 uid = 0, gid = 0;
  char *id;

  for (guint i = 0; i < G_N_ELEMENTS (launch.fds); i++)
    launch.fds[i] = -1;

  config = llmsbx_bubblewrap_config_parse (spec->runtime_configs, error);
  if (config == NULL)
    return NULL;
  if (config->network == LLMSBX_BUBBLEWRAP_NETWORK_BRIDGE)
    {
      slirp4netns = g_find_program_in_path ("slirp4netns");
      if (slirp4netns == NULL)
        {
          g_set_error_literal (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
                               "The bubblewrap backend gives network_mode 'bridge' through slirp4netns, which is "
                               "not installed (apt-get install slirp4netns); 'none' and 'host' need nothing");
          return NULL;
        }
    }
  image = llmsbx_bubblewrap_image_lookup (store, spec->image, error);
  if (image == NULL)
    return NULL;
  if (!llmsbx_bubblewrap_image_resolve_user (image, config->user, &uid, &gid, &home, error))
    return NULL;
  helper_path = llmsbx_bubblewrap_helper_path ("llmsbx-bwrap-monitor", error);
  if (helper_path == NULL)
    return NULL;
  init_path = llmsbx_bubblewrap_helper_path ("llmsbx-bwrap-init", error);
  if (init_path == NULL)
    return NULL;

  workdir = spec->workdir ? spec->workdir : config->working_dir ? config->working_dir
                          : image->working_dir ? image->working_dir : "/";

  /* The environment of every command: the image's, the spec's, the user's
   * runtime configs (which win), and what an engine adds when missing. */
  for (guint i = 0; image->env[i] != NULL; i++)
    set_variable (env, image->env[i]);
  for (guint i = 0; spec->env != NULL && spec->env[i] != NULL; i++)
    set_variable (env, spec->env[i]);
  for (guint i = 0; config->env != NULL && config->env[i] != NULL; i++)
    set_variable (env, config->env[i]);
  if (!has_variable (env, "PATH"))
    g_ptr_array_add (env, g_strdup ("PATH=" DEFAULT_PATH));
  if (!has_variable (env, "HOME"))
    g_ptr_array_add (env, g_strconcat ("HOME=", home, NULL));

  /* The user's labels first, the spec's last: they are how leftovers are found. */
  if (config->labels != NULL)
    g_strv_builder_addv (labels, (const char **) config->labels);
  if (spec->labels != NULL)
    g_strv_builder_addv (labels, (const char **) spec->labels);

  launch.sandbox = llmsbx_bubblewrap_sandbox_new (store, NULL);
  g_free (launch.sandbox->id);
  launch.sandbox->id = random_id ();
  g_free (launch.sandbox->dir);
  launch.sandbox->dir = g_build_filename (store, "sandboxes", launch.sandbox->id, NULL);
  hostname = config->hostname ? config->hostname : NULL;
  if (hostname == NULL)
    {
      g_autofree char *short_id = g_strndup (launch.sandbox->id, 12);
      g_ptr_array_add (env, g_strconcat ("HOSTNAME=", short_id, NULL));
    }
  else if (!has_variable (env, "HOSTNAME"))
    g_ptr_array_add (env, g_strconcat ("HOSTNAME=", hostname, NULL));
  g_ptr_array_add (env, NULL);

  launch.sandbox->name = g_strdup (spec->name);
  launch.sandbox->image = g_strdup (image->name);
  launch.sandbox->image_id = g_strdup (image->id);
  launch.sandbox->image_layers = g_strdupv (image->layer_ids);
  launch.sandbox->workdir = g_strdup (workdir);
  launch.sandbox->cwd = g_strdup (config->working_dir ? config->working_dir : workdir);
  launch.sandbox->uid = uid;
  launch.sandbox->gid = gid;
  launch.sandbox->env = g_strdupv ((char **) env->pdata);
  launch.sandbox->labels = g_strv_builder_end (labels);
  launch.sandbox->read_only = config->read_only;

  sandboxes = g_build_filename (store, "sandboxes", NULL);
  if (g_mkdir_with_parents (sandboxes, 0700) != 0)
    {
      fail_errno (error, LLMSBX_ERROR_CONTAINER_FAILED, "Cannot create the sandbox directory", sandboxes);
      goto fail;
    }
  if (g_mkdir (launch.sandbox->dir, 0700) != 0)
    {
      fail_errno (error, LLMSBX_ERROR_CONTAINER_FAILED, "Cannot create the sandbox directory", launch.sandbox->dir);
      goto fail;
    }
  launch.dir_made = TRUE;

  launch.helper_args = g_ptr_array_new_with_free_func (g_free);
  add_helper_arg (&launch, LLMSBX_BWRAP_HELPER_PROTOCOL_VERSION, "--state", launch.sandbox->dir, NULL);
  if (!setup_limits (&launch, config, error))
    goto fail;
  /* Before anything runs, so a crash leaves what the reaper understands
   * (a crash before this leaves a directory without state, whose cgroups the
   * reaper finds by the sandbox's id). */
  if (!llmsbx_bubblewrap_sandbox_save (launch.sandbox, error))
    goto fail;
  for (guint i = 0; i < config->rlimits->len; i++)
    {
      LlmsbxBubblewrapRlimit *rlimit = config->rlimits->pdata[i];
      g_autofree char *limit = g_strdup_printf ("%s:%" G_GUINT64_FORMAT ":%" G_GUINT64_FORMAT,
                                                rlimit->name, rlimit->soft, rlimit->hard);
      add_helper_arg (&launch, "--rlimit", limit, NULL);
    }

  /* bwrap: every namespace, the user, the filter, the file systems, the init. */
  launch.bwrap = llmsbx_bwrap_new (bwrap);
  llmsbx_bwrap_add_args (launch.bwrap, "--unshare-user", "--unshare-pid", "--unshare-ipc", "--unshare-uts",
                         "--disable-userns", "--die-with-parent", "--new-session", NULL);
  llmsbx_bwrap_add_arg (launch.bwrap, "--uid");
  llmsbx_bwrap_add_arg_printf (launch.bwrap, "%u", uid);
  llmsbx_bwrap_add_arg (launch.bwrap, "--gid");
  llmsbx_bwrap_add_arg_printf (launch.bwrap, "%u", gid);
  shown_hostname = hostname != NULL ? g_strdup (hostname) : g_strndup (launch.sandbox->id, 12);
  llmsbx_bwrap_add_args (launch.bwrap, "--hostname", shown_hostname, NULL);
  llmsbx_bwrap_add_args (launch.bwrap, "--cap-drop", "ALL", NULL);
  caps = capabilities (config, uid);
  for (guint i = 0; caps[i] != NULL; i++)
    llmsbx_bwrap_add_args (launch.bwrap, "--cap-add", caps[i], NULL);
  llmsbx_bwrap_add_arg_printf (launch.bwrap, "--seccomp");
  llmsbx_bwrap_add_arg_printf (launch.bwrap, "%d", LLMSBX_BWRAP_HELPER_SECCOMP_FD);
  llmsbx_bwrap_add_arg_printf (launch.bwrap, "--info-fd");
  llmsbx_bwrap_add_arg_printf (launch.bwrap, "%d", LLMSBX_BWRAP_HELPER_INFO_FD);
  llmsbx_bwrap_add_arg_printf (launch.bwrap, "--block-fd");
  llmsbx_bwrap_add_arg_printf (launch.bwrap, "%d", LLMSBX_BWRAP_HELPER_BLOCK_FD);
  if (!add_file_systems (&launch, config, image, workdir, shown_hostname, slirp4netns, error))
    goto fail;
  llmsbx_bwrap_add_args (launch.bwrap, "--clearenv", "--setenv", "PATH", DEFAULT_PATH, "--chdir", "/", "--", NULL);
  llmsbx_bwrap_add_arg_printf (launch.bwrap, "/proc/self/fd/%d", LLMSBX_BWRAP_INIT_EXE_FD);

  /* The descriptors the helper passes on to bwrap and the init. */
  events = llmsbx_bubblewrap_sandbox_path (launch.sandbox, "events");
  if (!take_fd (&launch, LLMSBX_BWRAP_INIT_LISTEN_FD, listen_socket (launch.sandbox->dir, error), "the socket", error) ||
      !take_fd (&launch, LLMSBX_BWRAP_INIT_EVENTS_FD,
                open (events, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600), "the event log", error) ||
      !take_fd (&launch, LLMSBX_BWRAP_INIT_EXE_FD, open (init_path, O_RDONLY | O_CLOEXEC), init_path, error))
    goto fail;
  {
    g_autoptr(GError) seccomp_error = NULL;
    int seccomp = llmsbx_bubblewrap_seccomp_program (&seccomp_error);

    if (seccomp < 0)
      {
        g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_CONTAINER_FAILED, "%s", seccomp_error->message);
        goto fail;
      }
    take_fd (&launch, LLMSBX_BWRAP_HELPER_SECCOMP_FD, seccomp, "the seccomp filter", NULL);
  }

  shown = llmsbx_bwrap_to_string (launch.bwrap);
  g_debug ("Starting sandbox %.12s: %s", launch.sandbox->id, shown);
  if (!spawn_helper (&launch, helper_path, cancellable, error))
    {
      /* The helper removed what it could; the rest goes here. */
      launch_undo (&launch);
      launch_clear (&launch);
      return NULL;
    }
  if (!llmsbx_bubblewrap_sandbox_save (launch.sandbox, error))
    {
      llmsbx_bubblewrap_stop (store, launch.sandbox->id, NULL);
      launch_clear (&launch);
      return NULL;
    }

  id = g_strdup (launch.sandbox->id);
  launch_clear (&launch);
  return id;

fail:
  launch_undo (&launch);
  launch_clear (&launch);
  return NULL;
}

/**
 * llmsbx_bubblewrap_stop:
 * @store: the store directory
 * @id: a sandbox id
 * @error: return location for a #GError
 *
 * Ends a sandbox: kills every process in it, removes its cgroups and its
 * directory. One this process started goes by closing its lifeline; one of
 * another process by a SIGTERM to its helper; one whose helper died is
 * cleaned up here. A sandbox that is already gone counts as removed.
 */
gboolean
llmsbx_bubblewrap_stop (const char  *store,
                        const char  *id,
                        GError     **error)
{
  LiveSandbox *live = steal_live (id);
  g_autoptr(LlmsbxBubblewrapSandbox) sandbox = NULL;

  if (live != NULL)
    {
      char byte;
      gssize n;

      /* The helper tears the sandbox down and exits; its status pipe ends
       * with it (waiting for GLib to reap it would take two more wake-ups,
       * its worker thread's and ours). */
      close (live->lifeline);
      live->lifeline = -1;
      do
        n = read (live->status, &byte, 1);
      while (n > 0 || (n < 0 && errno == EINTR));
      if (n < 0)
        g_subprocess_wait (live->helper, NULL, NULL);
      live_sandbox_free (live);
    }

  sandbox = llmsbx_bubblewrap_sandbox_load (store, id, NULL);
  if (sandbox == NULL)
    return TRUE;

  if (live == NULL && llmsbx_bubblewrap_sandbox_helper_alive (sandbox))
    {
      gint64 deadline = g_get_monotonic_time () + FOREIGN_STOP_TIMEOUT_US;

      kill ((pid_t) sandbox->helper_pid, SIGTERM);
      while (llmsbx_bubblewrap_sandbox_helper_alive (sandbox) && g_get_monotonic_time () < deadline)
        g_usleep (10 * 1000);
      if (!g_file_test (sandbox->dir, G_FILE_TEST_EXISTS))
        return TRUE;
    }

  /* The helper is gone and left something (it was killed, or failed). */
  return llmsbx_bubblewrap_sandbox_reap (sandbox, error);
}
