/* llmsbx-bubblewrap-seccomp.c: the system-call filter of every bubblewrap sandbox.
 *
 * Built with libseccomp and handed to bwrap (--seccomp) as a BPF program in a
 * memfd. It denies, with EPERM, what Docker's default profile denies a
 * container without extra capabilities: new namespaces (so no user namespace
 * can be made from inside; bwrap's --disable-userns says the same a second
 * way), mounts, module and kexec loading, keyrings, ptrace and reading other
 * processes' memory, BPF, perf events, clock and swap changes, reboot,
 * quotas, open_by_handle_at, userfaultfd, io_uring, and the tty injection
 * ioctls flatpak also filters. clone3 gets ENOSYS, because its flags live in
 * memory a filter cannot read: the C library then falls back to clone(),
 * whose namespace flags are checked. Capabilities a sandbox is given
 * (cap_add) never reopen these, as they would under Docker: the filter is the
 * same for every sandbox.
 *
 * On x86-64 the filter covers 32-bit (i386) calls too, so a 32-bit program
 * meets the same rules instead of a hole. */
#define _GNU_SOURCE
#include "llmsbx-bubblewrap-seccomp.h"

#include <errno.h>
#include <sched.h>
#include <seccomp.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

static const char * const denied[] = {
  "acct", "add_key", "bpf", "clock_adjtime", "clock_settime", "create_module", "delete_module",
  "fanotify_init", "finit_module", "fsconfig", "fsmount", "fsopen", "fspick", "get_kernel_syms",
  "init_module", "io_uring_enter", "io_uring_register", "io_uring_setup", "ioperm", "iopl", "kcmp",
  "kexec_file_load", "kexec_load", "keyctl", "lookup_dcookie", "mbind", "migrate_pages", "mount",
  "mount_setattr", "move_mount", "move_pages", "name_to_handle_at", "nfsservctl", "open_by_handle_at",
  "open_tree", "perf_event_open", "pidfd_getfd", "pivot_root", "process_vm_readv", "process_vm_writev",
  "ptrace", "query_module", "quotactl", "quotactl_fd", "reboot", "request_key", "set_mempolicy",
  "setns", "settimeofday", "stime", "swapoff", "swapon", "syslog", "sysfs", "_sysctl", "umount",
  "umount2", "uselib", "userfaultfd", "ustat", "vhangup", "vm86", "vm86old",
  NULL
};

static const unsigned long namespace_flags[] = {
  CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET,
  CLONE_NEWCGROUP, CLONE_NEWTIME,
};

static gboolean
failed (int          rc,
        const char  *what,
        GError     **error)
{
  g_set_error (error, G_IO_ERROR, g_io_error_from_errno (-rc),
               "Cannot build the sandbox's seccomp filter (%s): %s", what, g_strerror (-rc));
  return FALSE;
}

static gboolean
add_rules (scmp_filter_ctx   ctx,
           GError          **error)
{
  int rc;

  for (guint i = 0; denied[i] != NULL; i++)
    {
      int nr = seccomp_syscall_resolve_name (denied[i]);

      /* A call this architecture (or this libseccomp) does not know cannot be made. */
      if (nr == __NR_SCMP_ERROR)
        continue;
      rc = seccomp_rule_add (ctx, SCMP_ACT_ERRNO (EPERM), nr, 0);
      if (rc < 0 && rc != -EEXIST)
        return failed (rc, denied[i], error);
    }

  /* clone's flags are its first argument on x86 and most others (s390 swaps
   * the first two, and is not a target here). */
  for (gsize i = 0; i < G_N_ELEMENTS (namespace_flags); i++)
    {
      rc = seccomp_rule_add (ctx, SCMP_ACT_ERRNO (EPERM), SCMP_SYS (unshare), 1,
                             SCMP_A0 (SCMP_CMP_MASKED_EQ, namespace_flags[i], namespace_flags[i]));
      if (rc < 0)
        return failed (rc, "unshare", error);
      rc = seccomp_rule_add (ctx, SCMP_ACT_ERRNO (EPERM), SCMP_SYS (clone), 1,
                             SCMP_A0 (SCMP_CMP_MASKED_EQ, namespace_flags[i], namespace_flags[i]));
      if (rc < 0)
        return failed (rc, "clone", error);
    }
  rc = seccomp_rule_add (ctx, SCMP_ACT_ERRNO (ENOSYS), SCMP_SYS (clone3), 0);
  if (rc < 0 && rc != -EEXIST)
    return failed (rc, "clone3", error);

  /* Typing into the terminal of whoever started us, and console tricks. */
  rc = seccomp_rule_add (ctx, SCMP_ACT_ERRNO (EPERM), SCMP_SYS (ioctl), 1,
                         SCMP_A1 (SCMP_CMP_MASKED_EQ, 0xFFFFFFFFu, (scmp_datum_t) TIOCSTI));
  if (rc < 0)
    return failed (rc, "ioctl", error);
  rc = seccomp_rule_add (ctx, SCMP_ACT_ERRNO (EPERM), SCMP_SYS (ioctl), 1,
                         SCMP_A1 (SCMP_CMP_MASKED_EQ, 0xFFFFFFFFu, (scmp_datum_t) TIOCLINUX));
  if (rc < 0)
    return failed (rc, "ioctl", error);
  return TRUE;
}

/* The filter as BPF, in a memfd at offset 0. */
static int
build_program (GError **error)
{
  scmp_filter_ctx ctx = seccomp_init (SCMP_ACT_ALLOW);
  int fd = -1;
  int rc;

  if (ctx == NULL)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_FAILED, "Cannot build the sandbox's seccomp filter");
      return -1;
    }

  /* bwrap sets no_new_privs itself, before it loads the filter. */
  rc = seccomp_attr_set (ctx, SCMP_FLTATR_CTL_NNP, 0);
#if defined(__x86_64__)
  if (rc == 0)
    {
      rc = seccomp_arch_add (ctx, SCMP_ARCH_X86);
      if (rc == -EEXIST)
        rc = 0;
    }
#endif
  if (rc < 0)
    failed (rc, "architectures", error);
  else if (add_rules (ctx, error))
    {
      fd = memfd_create ("llmsbx-seccomp", MFD_CLOEXEC);
      if (fd < 0)
        {
          int saved = errno;
          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                       "Cannot hold the seccomp filter: %s", g_strerror (saved));
        }
      else if ((rc = seccomp_export_bpf (ctx, fd)) < 0 || lseek (fd, 0, SEEK_SET) != 0)
        {
          failed (rc < 0 ? rc : -errno, "export", error);
          close (fd);
          fd = -1;
        }
    }

  seccomp_release (ctx);
  return fd;
}

/* Returns a file descriptor (at offset 0) holding the filter as BPF, for
 * bwrap --seccomp, or -1 with @error set. The filter is the same for every
 * sandbox: it is built once per process, and each sandbox gets a copy. */
int
llmsbx_bubblewrap_seccomp_program (GError **error)
{
  static GMutex lock;
  static GBytes *program;
  const guint8 *data;
  gsize size;
  int fd;

  g_mutex_lock (&lock);
  if (program == NULL)
    {
      int built = build_program (error);
      struct stat st;

      if (built >= 0 && fstat (built, &st) == 0)
        {
          guint8 *bytes = g_malloc (st.st_size);

          if (pread (built, bytes, st.st_size, 0) == st.st_size)
            program = g_bytes_new_take (bytes, st.st_size);
          else
            g_free (bytes);
        }
      if (built >= 0)
        close (built);
    }
  if (program != NULL)
    g_bytes_ref (program);
  g_mutex_unlock (&lock);
  if (program == NULL)
    {
      if (error != NULL && *error == NULL)
        g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_FAILED, "Cannot read the sandbox's seccomp filter");
      return -1;
    }

  data = g_bytes_get_data (program, &size);
  fd = memfd_create ("llmsbx-seccomp", MFD_CLOEXEC);
  if (fd < 0 || write (fd, data, size) != (gssize) size || lseek (fd, 0, SEEK_SET) != 0)
    {
      int saved = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), "Cannot hold the seccomp filter: %s",
                   g_strerror (saved));
      if (fd >= 0)
        close (fd);
      fd = -1;
    }
  g_bytes_unref (program);
  return fd;
}
