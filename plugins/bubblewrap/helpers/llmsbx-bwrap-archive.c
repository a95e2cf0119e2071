/* llmsbx-bwrap-archive.c: moves tar archives into and out of a running
 * bubblewrap sandbox (llmsbx-bwrap-helper-protocol.h).
 *
 * It joins the sandbox's user and mount namespaces before touching a file,
 * so paths, `..` and symbolic links made by the sandbox's code resolve inside
 * the sandbox and can never reach the host, with libarchive's secure
 * extraction flags on top: the unpacking is the one of
 * libllmsbx/llmsbx-tar-unpack.c (put_archive's rules: an entry never replaces
 * a directory with a file or the reverse, as the engines' noOverwriteDirNonDir
 * refuses), compiled in, as this program links only GLib and libarchive. A
 * process of its own, because joining namespaces requires a single-threaded
 * caller, and apart from the monitor, because libarchive's libraries take a
 * while to load and only copies need them. */
#define _GNU_SOURCE
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>

#include "llmsbx-bwrap-helper-protocol.h"
#include "llmsbx-tar-unpack-private.h"

/* Where the message goes: the plugin's descriptor, or stderr when run by hand. */
static int
message_fd (void)
{
  return fcntl (LLMSBX_BWRAP_HELPER_MESSAGE_FD, F_GETFD) >= 0 ? LLMSBX_BWRAP_HELPER_MESSAGE_FD : STDERR_FILENO;
}

static void
say (const char *format,
     ...) G_GNUC_PRINTF (1, 2);

static void
say (const char *format,
     ...)
{
  va_list args;

  va_start (args, format);
  vdprintf (message_fd (), format, args);
  va_end (args);
}

static G_GNUC_NORETURN void
die (const char *format,
     ...) G_GNUC_PRINTF (1, 2);

static void
die (const char *format,
     ...)
{
  int fd = message_fd ();
  va_list args;

  va_start (args, format);
  dprintf (fd, "llmsbx-bwrap-archive: ");
  vdprintf (fd, format, args);
  dprintf (fd, "\n");
  va_end (args);
  exit (1);
}

/* Joins the mount namespace of @pid_text's sandbox: from here on, every path
 * is the sandbox's. That needs capabilities in the user namespace owning it
 * (bwrap's first; the sandbox's processes may sit in a nested second one),
 * so that one is joined first: its owner, this process's user, has them. */
static void
enter_sandbox (const char *pid_text)
{
  g_autofree char *mount_path = NULL;
  guint64 pid;
  int user_fd, mount_fd;

  if (!g_ascii_string_to_unsigned (pid_text, 10, 1, G_MAXINT32, &pid, NULL))
    die ("invalid sandbox pid %s", pid_text);
  mount_path = g_strdup_printf ("/proc/%s/ns/mnt", pid_text);
  mount_fd = open (mount_path, O_RDONLY | O_CLOEXEC);
  if (mount_fd < 0)
    die ("the sandbox is no longer running (%s: %s)", mount_path, g_strerror (errno));
  user_fd = ioctl (mount_fd, NS_GET_USERNS);
  if (user_fd < 0)
    die ("cannot find the sandbox's user namespace: %s", g_strerror (errno));
  {
    struct stat own, target;

    /* A namespace cannot be joined again by a process already in it. */
    if (stat ("/proc/self/ns/user", &own) != 0 || fstat (user_fd, &target) != 0)
      die ("cannot compare user namespaces: %s", g_strerror (errno));
    if ((own.st_ino != target.st_ino || own.st_dev != target.st_dev) && setns (user_fd, CLONE_NEWUSER) != 0)
      die ("cannot join the sandbox's user namespace: %s", g_strerror (errno));
  }
  if (setns (mount_fd, CLONE_NEWNS) != 0)
    die ("cannot join the sandbox's mount namespace: %s", g_strerror (errno));
  close (user_fd);
  close (mount_fd);
  if (chdir ("/") != 0)
    die ("cannot enter the sandbox's root: %s", g_strerror (errno));
}

static G_GNUC_NORETURN void
die_archive (struct archive *a,
             const char     *what)
{
  die ("%s: %s", what, archive_error_string (a) ? archive_error_string (a) : "unknown error");
}

static int
extract_main (const char *pid,
              const char *dest)
{
  struct archive *in;
  g_autofree char *message = NULL;
  LlmsbxTarUnpackStatus status;

  enter_sandbox (pid);
  if (chdir (dest) != 0)
    {
      if (errno == ENOENT || errno == ENOTDIR)
        {
          say ("Directory %s does not exist in the sandbox\n", dest);
          return LLMSBX_BWRAP_HELPER_NOT_FOUND;
        }
      die ("cannot enter %s: %s", dest, g_strerror (errno));
    }
  in = archive_read_new ();
  archive_read_support_format_tar (in);
  archive_read_support_format_gnutar (in);
  if (archive_read_open_fd (in, STDIN_FILENO, 64 * 1024) != ARCHIVE_OK)
    die_archive (in, "cannot read the archive");
  /* Relative to DEST, entered above as the sandbox sees it (a link in DEST
   * itself is the user's own place, and followed). */
  status = llmsbx_tar_unpack_into (in, ".", &message);
  archive_read_free (in);
  switch (status)
    {
    case LLMSBX_TAR_UNPACK_OK:
      return 0;
    case LLMSBX_TAR_UNPACK_WOULD_REPLACE:
      say ("In %s: %s\n", dest, message);
      return LLMSBX_BWRAP_HELPER_EXISTS;
    case LLMSBX_TAR_UNPACK_UNSAFE_NAME:
    case LLMSBX_TAR_UNPACK_FAILED:
    default:
      die ("%s", message);
    }
}

static int
pack_main (const char *pid,
           const char *path)
{
  g_autofree char *parent = NULL;
  g_autofree char *name = NULL;
  struct archive *disk;
  struct archive *out;
  struct archive_entry *entry;
  struct stat st;
  int r;

  enter_sandbox (pid);
  /* stat, not lstat: PATH itself is followed, so a dangling link is missing. */
  if (stat (path, &st) != 0)
    {
      if (errno == ENOENT || errno == ENOTDIR)
        {
          say ("%s does not exist in the sandbox\n", path);
          return LLMSBX_BWRAP_HELPER_NOT_FOUND;
        }
      die ("cannot read %s: %s", path, g_strerror (errno));
    }

  /* Entries are named from the basename down, as the archive endpoint of
   * the engines names them. */
  parent = g_path_get_dirname (path);
  name = g_path_get_basename (path);
  if (chdir (parent) != 0)
    die ("cannot enter %s: %s", parent, g_strerror (errno));
  if (g_str_equal (name, "/"))
    {
      g_free (name);
      name = g_strdup (".");
    }

  disk = archive_read_disk_new ();
  out = archive_write_new ();
  /* Links are stored as links, but PATH itself is followed, like `cp -L`. */
  archive_read_disk_set_symlink_hybrid (disk);
  archive_read_disk_set_behavior (disk, ARCHIVE_READDISK_NO_XATTR | ARCHIVE_READDISK_NO_ACL |
                                        ARCHIVE_READDISK_NO_FFLAGS | ARCHIVE_READDISK_NO_TRAVERSE_MOUNTS);
  archive_read_disk_set_standard_lookup (disk);
  archive_write_set_format_pax_restricted (out);
  if (archive_write_open_fd (out, STDOUT_FILENO) != ARCHIVE_OK)
    die_archive (out, "cannot write the archive");
  if (archive_read_disk_open (disk, name) != ARCHIVE_OK)
    die_archive (disk, path);

  for (gboolean top = TRUE; ; top = FALSE)
    {
      int fd = -1;

      entry = archive_entry_new ();
      r = archive_read_next_header2 (disk, entry);
      if (r == ARCHIVE_EOF)
        {
          archive_entry_free (entry);
          break;
        }
      if (r != ARCHIVE_OK && r != ARCHIVE_WARN)
        die_archive (disk, path);
      archive_read_disk_descend (disk);

      if (archive_entry_filetype (entry) == AE_IFREG)
        {
          /* Below the top, a link swapped in since it was read is not followed. */
          fd = open (archive_entry_sourcepath (entry), O_RDONLY | O_CLOEXEC | (top ? 0 : O_NOFOLLOW));
          if (fd < 0)
            die ("cannot read %s: %s", archive_entry_sourcepath (entry), g_strerror (errno));
        }
      if (archive_write_header (out, entry) != ARCHIVE_OK)
        die_archive (out, archive_entry_pathname (entry));
      if (fd >= 0)
        {
          char buffer[64 * 1024];
          gssize n;

          while ((n = read (fd, buffer, sizeof buffer)) > 0)
            if (archive_write_data (out, buffer, n) != n)
              die_archive (out, archive_entry_pathname (entry));
          close (fd);
        }
      archive_entry_free (entry);
    }

  if (archive_write_close (out) != ARCHIVE_OK)
    die_archive (out, "cannot finish the archive");
  archive_write_free (out);
  archive_read_free (disk);
  return 0;
}

int
main (int    argc,
      char **argv)
{
  if (argc != 5)
    die ("usage: llmsbx-bwrap-archive extract|pack VERSION PID PATH");
  if (!g_str_equal (argv[2], LLMSBX_BWRAP_HELPER_PROTOCOL_VERSION))
    die ("protocol version %s asked for, this helper speaks %s: the plugin and the helper come from "
         "different builds", argv[2], LLMSBX_BWRAP_HELPER_PROTOCOL_VERSION);
  if (g_str_equal (argv[1], "extract"))
    return extract_main (argv[3], argv[4]);
  if (g_str_equal (argv[1], "pack"))
    return pack_main (argv[3], argv[4]);
  die ("unknown command %s", argv[1]);
}
