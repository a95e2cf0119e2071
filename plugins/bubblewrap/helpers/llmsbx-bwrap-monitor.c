/* llmsbx-bwrap-monitor.c: the host side of a bubblewrap sandbox: starts it,
 * watches it and tears it down.
 *
 * One monitor process per sandbox (llmsbx-bwrap-helper-protocol.h) is the
 * parent of its bwrap, so bwrap's --die-with-parent is tied to a
 * single-threaded process that lives exactly as long as the sandbox should:
 * until the plugin closes the lifeline, or the plugin's process dies, which
 * closes it too. (--die-with-parent under the plugin itself would follow the
 * thread that happened to spawn bwrap, and GLib's worker threads come and
 * go.) It also owns what bwrap cannot do in version 0.8: the overlay that
 * gives each sandbox a writable root over the shared image, tmpfs mounts
 * with noexec, a sysfs of the sandbox's own network namespace, and the cgroup
 * move before anything starts. Those mounts live in the monitor's private
 * mount namespace only, so nothing is left mounted on the host when it dies.
 * It links GLib and nothing more, as one starts for every sandbox. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>
#include <glib-unix.h>

#include "llmsbx-bubblewrap-cgroup.h"
#include "llmsbx-bubblewrap-cleanup.h"
#include "llmsbx-bwrap-helper-protocol.h"
#include "llmsbx-bwrap-init-protocol.h"

/* How long bwrap may take to set a sandbox up. */
#define STARTUP_TIMEOUT_MS (60 * 1000)
/* The sandbox's own stderr (its init's, bwrap's) is kept up to this size. */
#define LOG_LIMIT (1024 * 1024)

static G_GNUC_NORETURN void
die (const char *format,
     ...) G_GNUC_PRINTF (1, 2);

static void
die (const char *format,
     ...)
{
  va_list args;

  va_start (args, format);
  fputs ("llmsbx-bwrap-monitor: ", stderr);
  vfprintf (stderr, format, args);
  fputc ('\n', stderr);
  va_end (args);
  exit (1);
}

static gboolean
write_all (int         fd,
           const char *data,
           gsize       length)
{
  while (length > 0)
    {
      gssize n = write (fd, data, length);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return FALSE;
      data += n;
      length -= n;
    }
  return TRUE;
}

static gboolean
write_text_file (const char *path,
                 const char *text)
{
  int fd = open (path, O_WRONLY | O_CLOEXEC);
  gboolean ok;

  if (fd < 0)
    return FALSE;
  ok = write_all (fd, text, strlen (text));
  close (fd);
  return ok;
}

/* ---------------------------------------------------------------------------
 * Monitor
 * ------------------------------------------------------------------------ */

typedef struct {
  char      *state;
  char      *overlay;
  gboolean   writable;
  GPtrArray *tmpfs;       /* NAME:FLAGS:DATA */
  gboolean   private_network;
  char      *slirp4netns; /* with a private network: its outbound link */
  GPtrArray *cgroups;     /* directories, NULL-terminated */
  GPtrArray *rlimits;     /* NAME:SOFT:HARD */
  GPtrArray *stub;        /* pairs: a path in the stub layer, and the file's contents (NULL: a directory) */
  char     **bwrap_argv;
  GPtrArray *mounts;      /* what this helper mounted, to unmount */
} Monitor;

/* Sends the one status line; the plugin reads nothing else. The pipe stays
 * open, unwritten, until this process ends: its end of file tells the
 * plugin that the teardown is over, without waiting for GLib to reap us. */
static void
report (const char *format,
        ...) G_GNUC_PRINTF (1, 2);

static void
report (const char *format,
        ...)
{
  g_autofree char *line = NULL;
  va_list args;

  va_start (args, format);
  line = g_strdup_vprintf (format, args);
  va_end (args);
  /* One line: a message from bwrap may hold newlines. */
  g_strdelimit (line, "\n", ' ');
  write_all (LLMSBX_BWRAP_HELPER_STATUS_FD, line, strlen (line));
  write_all (LLMSBX_BWRAP_HELPER_STATUS_FD, "\n", 1);
}

static G_GNUC_NORETURN void
fail_startup (Monitor    *self,
              const char *message);

static gboolean
map_to_root (uid_t uid,
             gid_t gid)
{
  g_autofree char *uid_map = g_strdup_printf ("0 %u 1\n", (unsigned) uid);
  g_autofree char *gid_map = g_strdup_printf ("0 %u 1\n", (unsigned) gid);

  return write_text_file ("/proc/self/setgroups", "deny") &&
         write_text_file ("/proc/self/uid_map", uid_map) &&
         write_text_file ("/proc/self/gid_map", gid_map);
}

static void
mount_root (Monitor *self)
{
  g_autofree char *target = g_build_filename (self->state, "mnt", "root", NULL);
  g_autofree char *data = NULL;
  gboolean in_userns = getuid () != 0;
  unsigned long flags = MS_NOSUID | MS_NODEV;

  if (self->writable)
    {
      g_autofree char *upper = g_build_filename (self->state, "upper", NULL);
      g_autofree char *work = g_build_filename (self->state, "work", NULL);

      /* volatile: no sync of the upper layer, ever (at unmount neither),
       * which a sandbox's throwaway layer does not need. */
      data = g_strdup_printf ("lowerdir=%s,upperdir=%s,workdir=%s,volatile%s", self->overlay, upper, work,
                              in_userns ? ",userxattr" : "");
    }
  else
    {
      /* Layers alone make a read-only overlay. */
      data = g_strdup_printf ("lowerdir=%s", self->overlay);
      flags |= MS_RDONLY;
    }

  if (g_mkdir_with_parents (target, 0755) != 0 || mount ("overlay", target, "overlay", flags, data) != 0)
    {
      g_autofree char *message = g_strdup_printf ("cannot mount the sandbox's root file system (overlay %s): %s",
                                                  data, g_strerror (errno));
      fail_startup (self, message);
    }
  g_ptr_array_add (self->mounts, g_steal_pointer (&target));
}

/* DIR/mnt: a small tmpfs for what the sandbox needs only while it runs (the
 * stub layer of mount points, the overlay's mount point, the tmpfs and
 * sysfs mount points), so that none of it touches the disk: making and
 * removing files there is the slowest part of a sandbox's start and end on
 * a disk with online discard. */
static void
mount_scratch (Monitor *self)
{
  g_autofree char *scratch = g_build_filename (self->state, "mnt", NULL);
  g_autofree char *stub = g_build_filename (scratch, "stub", NULL);

  if (g_mkdir_with_parents (scratch, 0700) != 0 ||
      mount ("tmpfs", scratch, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0700,size=16m") != 0)
    {
      g_autofree char *message = g_strdup_printf ("cannot mount the sandbox's scratch tmpfs: %s", g_strerror (errno));
      fail_startup (self, message);
    }
  g_ptr_array_add (self->mounts, g_strdup (scratch));

  /* The stub layer: mount points and small files the image lacks. */
  if (g_mkdir (stub, 0755) != 0)
    fail_startup (self, "cannot make the stub layer");
  for (guint i = 0; i + 1 < self->stub->len; i += 2)
    {
      const char *path = self->stub->pdata[i];
      const char *contents = self->stub->pdata[i + 1];
      g_autofree char *target = NULL;
      g_autofree char *parent = NULL;

      if (path[0] != '/' || strstr (path, "/../") != NULL || g_str_has_suffix (path, "/.."))
        die ("invalid stub path %s", path);
      target = g_build_filename (stub, path, NULL);
      parent = g_path_get_dirname (target);
      if (g_mkdir_with_parents (contents != NULL ? parent : target, 0755) != 0 ||
          (contents != NULL && !g_file_set_contents (target, contents, -1, NULL)))
        {
          g_autofree char *message = g_strdup_printf ("cannot make %s in the stub layer: %s", path, g_strerror (errno));
          fail_startup (self, message);
        }
      if (contents != NULL)
        g_chmod (target, 0644);
    }
}

static void
mount_tmpfs (Monitor    *self,
             const char *spec)
{
  g_auto(GStrv) parts = g_strsplit (spec, ":", 3);
  g_auto(GStrv) flag_names = NULL;
  g_autofree char *target = NULL;
  unsigned long flags = MS_NOSUID | MS_NODEV;

  if (g_strv_length (parts) != 3 || strchr (parts[0], '/') != NULL || parts[0][0] == '\0' ||
      g_str_equal (parts[0], ".."))
    die ("invalid --tmpfs %s", spec);
  flag_names = g_strsplit (parts[1], "+", -1);
  for (guint i = 0; flag_names[i] != NULL; i++)
    {
      if (g_str_equal (flag_names[i], "ro"))
        flags |= MS_RDONLY;
      else if (g_str_equal (flag_names[i], "noexec"))
        flags |= MS_NOEXEC;
      else if (flag_names[i][0] != '\0')
        die ("invalid flag %s in --tmpfs %s", flag_names[i], spec);
    }

  target = g_build_filename (self->state, "mnt", parts[0], NULL);
  if (g_mkdir_with_parents (target, 0700) != 0 || mount ("tmpfs", target, "tmpfs", flags, parts[2]) != 0)
    {
      g_autofree char *message = g_strdup_printf ("cannot mount a tmpfs with options %s: %s",
                                                  parts[2], g_strerror (errno));
      fail_startup (self, message);
    }
  g_ptr_array_add (self->mounts, g_steal_pointer (&target));
}

/* In the bwrap child, before exec: its own network namespace with loopback
 * up, and that namespace's sysfs (it shows only the sandbox's interfaces). */
static void
make_private_network (Monitor *self)
{
  g_autofree char *sys = g_build_filename (self->state, "mnt", "sys", NULL);
  struct ifreq request = { 0 };
  int fd;

  if (unshare (CLONE_NEWNET) != 0)
    die ("cannot make a network namespace: %s", g_strerror (errno));
  fd = socket (AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  g_strlcpy (request.ifr_name, "lo", sizeof request.ifr_name);
  if (fd < 0 || ioctl (fd, SIOCGIFFLAGS, &request) != 0)
    die ("cannot read the loopback interface: %s", g_strerror (errno));
  request.ifr_flags |= IFF_UP | IFF_RUNNING;
  if (ioctl (fd, SIOCSIFFLAGS, &request) != 0)
    die ("cannot bring the loopback interface up: %s", g_strerror (errno));
  close (fd);

  if (g_mkdir_with_parents (sys, 0755) != 0 ||
      mount ("sysfs", sys, "sysfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) != 0)
    die ("cannot mount a sysfs for the sandbox: %s", g_strerror (errno));
}

static const struct {
  const char *name;
  int         resource;
} rlimit_names[] = {
  { "as", RLIMIT_AS }, { "core", RLIMIT_CORE }, { "cpu", RLIMIT_CPU }, { "data", RLIMIT_DATA },
  { "fsize", RLIMIT_FSIZE }, { "locks", RLIMIT_LOCKS }, { "memlock", RLIMIT_MEMLOCK },
  { "msgqueue", RLIMIT_MSGQUEUE }, { "nice", RLIMIT_NICE }, { "nofile", RLIMIT_NOFILE },
  { "nproc", RLIMIT_NPROC }, { "rss", RLIMIT_RSS }, { "rtprio", RLIMIT_RTPRIO },
  { "rttime", RLIMIT_RTTIME }, { "sigpending", RLIMIT_SIGPENDING }, { "stack", RLIMIT_STACK },
};

static void
apply_rlimit (const char *spec)
{
  g_auto(GStrv) parts = g_strsplit (spec, ":", 3);
  struct rlimit limit;
  guint64 soft, hard;

  if (g_strv_length (parts) != 3 ||
      !g_ascii_string_to_unsigned (parts[1], 10, 0, G_MAXUINT64, &soft, NULL) ||
      !g_ascii_string_to_unsigned (parts[2], 10, 0, G_MAXUINT64, &hard, NULL))
    die ("invalid --rlimit %s", spec);
  for (gsize i = 0; i < G_N_ELEMENTS (rlimit_names); i++)
    if (g_str_equal (parts[0], rlimit_names[i].name))
      {
        limit.rlim_cur = soft;
        limit.rlim_max = hard;
        if (setrlimit (rlimit_names[i].resource, &limit) != 0)
          die ("cannot set the %s limit to %s: %s", parts[0], spec, g_strerror (errno));
        return;
      }
  die ("unknown resource limit %s", parts[0]);
}

/* Between fork and exec of bwrap: only its descriptors, at their numbers. */
static G_GNUC_NORETURN void
exec_bwrap (Monitor *self,
            int      ready_w,
            int      info_w,
            int      block_r,
            int      err_w,
            int      network_w)
{
  int null_fd = open ("/dev/null", O_RDONLY | O_CLOEXEC);
  sigset_t none;

  /* bwrap and the sandbox get a clean signal mask and dispositions. */
  sigemptyset (&none);
  sigprocmask (SIG_SETMASK, &none, NULL);
  signal (SIGPIPE, SIG_DFL);

  if (self->private_network)
    make_private_network (self);
  /* The namespace exists: slirp4netns may join it (closed by exec otherwise). */
  if (write (network_w, "N", 1) != 1)
    _exit (127);
  for (guint i = 0; i < self->rlimits->len; i++)
    apply_rlimit (self->rlimits->pdata[i]);

  if (null_fd < 0 || dup2 (null_fd, STDIN_FILENO) < 0 || dup2 (err_w, STDOUT_FILENO) < 0 ||
      dup2 (err_w, STDERR_FILENO) < 0 || dup2 (ready_w, LLMSBX_BWRAP_INIT_READY_FD) < 0 ||
      dup2 (info_w, LLMSBX_BWRAP_HELPER_INFO_FD) < 0 || dup2 (block_r, LLMSBX_BWRAP_HELPER_BLOCK_FD) < 0)
    _exit (127);
  execv (self->bwrap_argv[0], self->bwrap_argv);
  dprintf (STDERR_FILENO, "cannot run %s: %s\n", self->bwrap_argv[0], g_strerror (errno));
  _exit (127);
}

static void
append_log (Monitor    *self,
            const char *data,
            gsize       length)
{
  static gsize logged;
  g_autofree char *path = NULL;
  int fd;

  if (logged >= LOG_LIMIT)
    return;
  length = MIN (length, LOG_LIMIT - logged);
  path = g_build_filename (self->state, "log", NULL);
  fd = open (path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd >= 0)
    {
      write_all (fd, data, length);
      close (fd);
    }
  logged += length;
}

static pid_t bwrap_pid;
static pid_t sandbox_pid;

/* Waits for every process below this one to end, for about 10 s at most (a
 * process in uninterruptible sleep must not hang the teardown). The monitor
 * is their subreaper, so bwrap's own first process, the init of the
 * sandbox's pid namespace, comes to it when bwrap's parent dies; and that
 * one ends only once every process of its namespace has. Without it a
 * sandbox's processes could outlive its directory for a moment. Each exit
 * wakes it (SIGCHLD, blocked and waited for), so the teardown takes as long
 * as the processes take to end, not a polling interval more. */
static void
reap_descendants (void)
{
  gint64 deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
  sigset_t child;

  sigemptyset (&child);
  sigaddset (&child, SIGCHLD);
  sigprocmask (SIG_BLOCK, &child, NULL);
  for (;;)
    {
      pid_t pid = waitpid (-1, NULL, WNOHANG);
      gint64 left;
      struct timespec wait;

      if (pid > 0 || (pid < 0 && errno == EINTR))
        continue;
      if (pid < 0)
        return;
      /* A child that ends from here on leaves SIGCHLD pending, which
       * returns the wait at once. */
      left = deadline - g_get_monotonic_time ();
      if (left <= 0)
        return;
      wait.tv_sec = left / G_USEC_PER_SEC;
      wait.tv_nsec = (left % G_USEC_PER_SEC) * 1000;
      sigtimedwait (&child, NULL, &wait);
    }
}

static pid_t slirp_pid;
static int slirp_exit_w = -1;

/* Kills the sandbox, removes its cgroups and then its state directory: the
 * directory goes last, so when it is gone everything is (the plugin and the
 * tests rely on that), and when a cgroup cannot be removed the state that
 * names it stays for the reaper. */
static void
teardown (Monitor *self)
{
  g_autoptr(GError) error = NULL;
  const char * const *cgroups = (const char * const *) self->cgroups->pdata;

  if (slirp_pid > 0)
    {
      close (slirp_exit_w);
      kill (slirp_pid, SIGKILL);
      while (waitpid (slirp_pid, NULL, 0) < 0 && errno == EINTR)
        ;
      slirp_pid = 0;
    }
  if (sandbox_pid > 0)
    kill (sandbox_pid, SIGKILL);
  if (bwrap_pid > 0)
    {
      kill (bwrap_pid, SIGKILL);
      while (waitpid (bwrap_pid, NULL, 0) < 0 && errno == EINTR)
        ;
      bwrap_pid = 0;
    }
  reap_descendants ();
  llmsbx_cgroup_kill_all (cgroups);

  /* The sysfs was mounted by bwrap's parent process, in this namespace too. */
  if (self->private_network)
    {
      g_autofree char *sys = g_build_filename (self->state, "mnt", "sys", NULL);
      umount2 (sys, MNT_DETACH);
    }
  for (guint i = self->mounts->len; i > 0; i--)
    umount2 (self->mounts->pdata[i - 1], MNT_DETACH);

  if (!llmsbx_cgroup_remove_dirs (cgroups, &error))
    {
      g_printerr ("llmsbx-bwrap-monitor: %s; the next backend to connect removes the rest\n", error->message);
      return;
    }
  if (!llmsbx_bubblewrap_remove_tree (self->state, &error))
    g_printerr ("llmsbx-bwrap-monitor: %s\n", error->message);
}

static void
fail_startup (Monitor    *self,
              const char *message)
{
  report ("error %s", message);
  teardown (self);
  exit (1);
}

/* Collects bwrap's stderr while it starts; returns FALSE at end of file. */
static gboolean
read_into (int      fd,
           GString *text)
{
  char buffer[4096];
  gssize n = read (fd, buffer, sizeof buffer);

  if (n < 0 && (errno == EINTR || errno == EAGAIN))
    return TRUE;
  if (n <= 0)
    return FALSE;
  if (text->len < 64 * 1024)
    g_string_append_len (text, buffer, n);
  return TRUE;
}

/* Waits until @fd is readable, collecting bwrap's stderr meanwhile. */
static gboolean
wait_readable (int      fd,
               int      err_r,
               GString *errors)
{
  gint64 deadline = g_get_monotonic_time () + STARTUP_TIMEOUT_MS * 1000;
  gboolean err_open = TRUE;

  for (;;)
    {
      struct pollfd fds[2] = { { fd, POLLIN, 0 }, { err_open ? err_r : -1, POLLIN, 0 } };
      gint64 left = (deadline - g_get_monotonic_time ()) / 1000;

      if (left <= 0)
        return FALSE;
      if (poll (fds, 2, (int) left) < 0 && errno != EINTR)
        return FALSE;
      if (fds[1].revents != 0)
        err_open = read_into (err_r, errors);
      if (fds[0].revents != 0)
        return TRUE;
    }
}

/* What went wrong at startup: bwrap's words when it said any. */
static char *
startup_error (int         err_r,
               GString    *errors,
               const char *fallback)
{
  /* bwrap has exited or is exiting: its stderr ends soon. */
  if (bwrap_pid > 0)
    {
      int status;

      if (waitpid (bwrap_pid, &status, 0) == bwrap_pid)
        bwrap_pid = 0;
    }
  while (read_into (err_r, errors))
    ;
  g_strstrip (errors->str);
  errors->len = strlen (errors->str);
  return g_strdup (errors->len > 0 ? errors->str : fallback);
}

/* "child-pid": N from bwrap's --info-fd JSON. */
static pid_t
parse_child_pid (const char *info)
{
  const char *key = strstr (info, "\"child-pid\"");
  g_autofree char *digits = NULL;
  guint64 pid;

  if (key == NULL || (key = strchr (key, ':')) == NULL)
    return 0;
  key++;
  while (g_ascii_isspace (*key))
    key++;
  digits = g_strndup (key, strspn (key, "0123456789"));
  if (!g_ascii_string_to_unsigned (digits, 10, 1, G_MAXINT32, &pid, NULL))
    return 0;
  return (pid_t) pid;
}

/* User-mode networking into the namespace of @pid: a tap "eth0" with
 * outbound access through our own network (slirp4netns's 10.0.2.0/24), and
 * no way to the host's loopback. Returns an error message, or NULL. */
static char *
start_slirp4netns (Monitor *self,
                   pid_t    pid)
{
  g_autofree char *log = g_build_filename (self->state, "log", NULL);
  g_autofree char *pid_text = g_strdup_printf ("%d", (int) pid);
  int ready[2], quit[2];
  char byte;

  if (pipe2 (ready, O_CLOEXEC) != 0 || pipe2 (quit, O_CLOEXEC) != 0)
    return g_strdup (g_strerror (errno));
  slirp_pid = fork ();
  if (slirp_pid < 0)
    return g_strdup (g_strerror (errno));
  if (slirp_pid == 0)
    {
      int null_fd = open ("/dev/null", O_RDWR | O_CLOEXEC);
      int log_fd = open (log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
      g_autofree char *ready_arg = NULL;
      g_autofree char *exit_arg = NULL;
      sigset_t none;

      sigemptyset (&none);
      sigprocmask (SIG_SETMASK, &none, NULL);
      if (null_fd < 0 || log_fd < 0 || dup2 (null_fd, STDIN_FILENO) < 0 || dup2 (log_fd, STDOUT_FILENO) < 0 ||
          dup2 (log_fd, STDERR_FILENO) < 0 || dup2 (ready[1], 3) < 0 || dup2 (quit[0], 4) < 0)
        _exit (127);
      ready_arg = g_strdup ("--ready-fd=3");
      exit_arg = g_strdup ("--exit-fd=4");
      execl (self->slirp4netns, self->slirp4netns, "--configure", "--mtu=65520", "--disable-host-loopback",
             "--enable-sandbox", ready_arg, exit_arg, pid_text, "eth0", (char *) NULL);
      dprintf (STDERR_FILENO, "cannot run %s: %s\n", self->slirp4netns, g_strerror (errno));
      _exit (127);
    }
  close (ready[1]);
  close (quit[0]);
  slirp_exit_w = quit[1];

  /* It writes "1" once the interface is up, or exits. */
  if (read (ready[0], &byte, 1) != 1)
    {
      close (ready[0]);
      return g_strdup_printf ("slirp4netns could not set up the network (its messages are in %s)", log);
    }
  close (ready[0]);
  return NULL;
}

static void
start_sandbox (Monitor *self)
{
  int ready[2], info[2], block[2], err[2], network[2];
  g_autoptr(GString) errors = g_string_new (NULL);
  g_autoptr(GString) info_text = g_string_new (NULL);
  char byte;

  if (pipe2 (ready, O_CLOEXEC) != 0 || pipe2 (info, O_CLOEXEC) != 0 ||
      pipe2 (block, O_CLOEXEC) != 0 || pipe2 (err, O_CLOEXEC) != 0 || pipe2 (network, O_CLOEXEC) != 0)
    fail_startup (self, g_strerror (errno));

  bwrap_pid = fork ();
  if (bwrap_pid < 0)
    fail_startup (self, g_strerror (errno));
  if (bwrap_pid == 0)
    exec_bwrap (self, ready[1], info[1], block[0], err[1], network[1]);

  /* Only the sandbox holds these now. */
  close (LLMSBX_BWRAP_INIT_LISTEN_FD);
  close (LLMSBX_BWRAP_INIT_EVENTS_FD);
  close (LLMSBX_BWRAP_INIT_EXE_FD);
  close (LLMSBX_BWRAP_HELPER_SECCOMP_FD);
  close (ready[1]);
  close (info[1]);
  close (block[0]);
  close (err[1]);
  close (network[1]);

  /* The sandbox's network exists once bwrap's parent made it. */
  if (!wait_readable (network[0], err[0], errors) || read (network[0], &byte, 1) != 1)
    {
      g_autofree char *message = startup_error (err[0], errors, "the sandbox's network could not be made");
      fail_startup (self, message);
    }
  close (network[0]);
  if (self->slirp4netns != NULL)
    {
      g_autofree char *message = start_slirp4netns (self, bwrap_pid);

      if (message != NULL)
        fail_startup (self, message);
    }

  /* bwrap writes its child's pid, then waits for the block descriptor. */
  while (wait_readable (info[0], err[0], errors) && read_into (info[0], info_text))
    ;
  sandbox_pid = parse_child_pid (info_text->str);
  if (sandbox_pid == 0)
    {
      g_autofree char *message = startup_error (err[0], errors, "bwrap exited before starting the sandbox");
      fail_startup (self, message);
    }

  for (guint i = 0; self->cgroups->pdata[i] != NULL; i++)
    {
      g_autofree char *procs = g_build_filename (self->cgroups->pdata[i], "cgroup.procs", NULL);
      g_autofree char *pid_text = g_strdup_printf ("%d", (int) sandbox_pid);

      if (!write_text_file (procs, pid_text))
        {
          g_autofree char *reason = g_strdup_printf ("cannot move the sandbox into its cgroup %s: %s",
                                                     (char *) self->cgroups->pdata[i], g_strerror (errno));
          /* A sandbox that is already gone: bwrap says why. */
          g_autofree char *message = errno == ESRCH ? startup_error (err[0], errors, reason) : g_strdup (reason);

          fail_startup (self, message);
        }
    }

  if (!write_all (block[1], "x", 1))
    {
      g_autofree char *message = startup_error (err[0], errors, "bwrap exited before starting the sandbox");
      fail_startup (self, message);
    }
  close (block[1]);

  if (!wait_readable (ready[0], err[0], errors) || read (ready[0], &byte, 1) != 1)
    {
      g_autofree char *message = startup_error (err[0], errors, "the sandbox's init did not start");
      fail_startup (self, message);
    }
  close (ready[0]);
  close (info[0]);

  report ("ok %d", (int) sandbox_pid);
  if (errors->len > 0)
    append_log (self, errors->str, errors->len);
  g_unix_set_fd_nonblocking (err[0], TRUE, NULL);
  /* The watch below ends in exit(): nothing of the start is kept. */
  g_string_free (g_steal_pointer (&errors), TRUE);
  g_string_free (g_steal_pointer (&info_text), TRUE);

  /* Watch: the sandbox's stderr goes to the log; the lifeline or a signal ends it. */
  {
    sigset_t mask;
    int signal_fd;
    gboolean err_open = TRUE;

    sigemptyset (&mask);
    sigaddset (&mask, SIGCHLD);
    sigaddset (&mask, SIGTERM);
    sigaddset (&mask, SIGINT);
    sigaddset (&mask, SIGHUP);
    signal_fd = signalfd (-1, &mask, SFD_CLOEXEC);
    if (signal_fd < 0)
      {
        teardown (self);
        exit (1);
      }

    for (;;)
      {
        struct pollfd fds[3] = {
          { LLMSBX_BWRAP_HELPER_LIFELINE_FD, POLLIN, 0 },
          { signal_fd, POLLIN, 0 },
          { err_open ? err[0] : -1, POLLIN, 0 },
        };

        if (poll (fds, 3, -1) < 0 && errno != EINTR)
          break;
        if (fds[0].revents != 0)
          break;
        if (fds[1].revents != 0)
          {
            struct signalfd_siginfo si;

            if (read (signal_fd, &si, sizeof si) == sizeof si && si.ssi_signo != SIGCHLD)
              break;
            /* bwrap ended (its init was killed): the plugin notices at the next
             * command and removes the sandbox, which ends this loop. */
            if (bwrap_pid > 0 && waitpid (bwrap_pid, NULL, WNOHANG) == bwrap_pid)
              bwrap_pid = 0;
          }
        if (fds[2].revents != 0)
          {
            char buffer[4096];
            gssize n = read (err[0], buffer, sizeof buffer);

            if (n > 0)
              append_log (self, buffer, n);
            else if (n == 0 || (errno != EAGAIN && errno != EINTR))
              err_open = FALSE;
          }
      }
  }

  teardown (self);
  exit (0);
}

static int
monitor_main (int    argc,
              char **argv)
{
  Monitor self = {
    .tmpfs = g_ptr_array_new (),
    .cgroups = g_ptr_array_new (),
    .rlimits = g_ptr_array_new (),
    .stub = g_ptr_array_new (),
    .mounts = g_ptr_array_new_with_free_func (g_free),
  };
  sigset_t mask;
  int i;

  for (i = 0; i < argc && !g_str_equal (argv[i], "--"); i++)
    {
      const char *option = argv[i];
      const char *value = i + 1 < argc ? argv[i + 1] : NULL;

      if (g_str_equal (option, "--writable"))
        {
          self.writable = TRUE;
          continue;
        }
      if (g_str_equal (option, "--private-network"))
        {
          self.private_network = TRUE;
          continue;
        }
      if (value == NULL)
        die ("%s needs a value", option);
      i++;
      if (g_str_equal (option, "--state"))
        self.state = (char *) value;
      else if (g_str_equal (option, "--overlay"))
        self.overlay = (char *) value;
      else if (g_str_equal (option, "--tmpfs"))
        g_ptr_array_add (self.tmpfs, (gpointer) value);
      else if (g_str_equal (option, "--slirp4netns"))
        {
          self.slirp4netns = (char *) value;
          self.private_network = TRUE;
        }
      else if (g_str_equal (option, "--cgroup"))
        g_ptr_array_add (self.cgroups, (gpointer) value);
      else if (g_str_equal (option, "--rlimit"))
        g_ptr_array_add (self.rlimits, (gpointer) value);
      else if (g_str_equal (option, "--stub-dir"))
        {
          g_ptr_array_add (self.stub, (gpointer) value);
          g_ptr_array_add (self.stub, NULL);
        }
      else if (g_str_equal (option, "--stub-file"))
        {
          if (i + 1 >= argc)
            die ("--stub-file needs a path and its contents");
          g_ptr_array_add (self.stub, (gpointer) value);
          g_ptr_array_add (self.stub, argv[++i]);
        }
      else
        die ("unknown option %s", option);
    }
  g_ptr_array_add (self.cgroups, NULL);
  if (i >= argc - 1 || self.state == NULL || self.overlay == NULL || !g_path_is_absolute (self.state))
    die ("usage: llmsbx-bwrap-monitor VERSION --state DIR --overlay LAYERS [options] -- BWRAP ARGS...");
  self.bwrap_argv = argv + i + 1;

  /* The plugin's descriptors must not leak into bwrap, only the sandbox's. */
  fcntl (LLMSBX_BWRAP_HELPER_LIFELINE_FD, F_SETFD, FD_CLOEXEC);
  fcntl (LLMSBX_BWRAP_HELPER_STATUS_FD, F_SETFD, FD_CLOEXEC);
  signal (SIGPIPE, SIG_IGN);
  /* Signals arrive through the signalfd of the watch loop; blocked before
   * anything can fail, so a SIGTERM during startup is not lost either. */
  sigemptyset (&mask);
  sigaddset (&mask, SIGCHLD);
  sigaddset (&mask, SIGTERM);
  sigaddset (&mask, SIGINT);
  sigaddset (&mask, SIGHUP);
  sigprocmask (SIG_BLOCK, &mask, NULL);
  /* What bwrap's parent leaves when it dies comes here (teardown waits for it). */
  prctl (PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);

  if (getuid () != 0)
    {
      uid_t uid = getuid ();
      gid_t gid = getgid ();

      if (unshare (CLONE_NEWUSER | CLONE_NEWNS) != 0 || !map_to_root (uid, gid))
        fail_startup (&self, g_strdup_printf ("cannot make a user namespace: %s", g_strerror (errno)));
    }
  else if (unshare (CLONE_NEWNS) != 0)
    fail_startup (&self, g_strdup_printf ("cannot make a mount namespace: %s", g_strerror (errno)));
  if (mount ("none", "/", "none", MS_REC | MS_PRIVATE, NULL) != 0)
    fail_startup (&self, g_strdup_printf ("cannot make the mounts private: %s", g_strerror (errno)));

  mount_scratch (&self);
  mount_root (&self);
  for (guint t = 0; t < self.tmpfs->len; t++)
    mount_tmpfs (&self, self.tmpfs->pdata[t]);

  start_sandbox (&self);
  return 0;
}

int
main (int    argc,
      char **argv)
{
  if (argc < 2)
    die ("usage: llmsbx-bwrap-monitor VERSION --state DIR --overlay LAYERS [options] -- BWRAP ARGS...");
  if (!g_str_equal (argv[1], LLMSBX_BWRAP_HELPER_PROTOCOL_VERSION))
    die ("protocol version %s asked for, this monitor speaks %s: the plugin and the monitor come from "
         "different builds", argv[1], LLMSBX_BWRAP_HELPER_PROTOCOL_VERSION);
  return monitor_main (argc - 2, argv + 2);
}
