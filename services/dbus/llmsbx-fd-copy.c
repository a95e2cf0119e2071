/* llmsbx-fd-copy.c: files between a caller's descriptor and the daemon's staging area.
 *
 * The daemon may hold rights its callers lack (the container engine's socket
 * is root's in all but name), so it never opens a path a caller names: a
 * caller proves it may read or write a file by opening it itself and passing
 * the descriptor. What the daemon reads from one is bounded in size, and
 * every wait on one has a deadline and can be cancelled (the caller leaving
 * the bus), because a caller may hand in a pipe it never writes to.
 * Descriptors stay as they came: their file descriptions are shared with the
 * caller, so the daemon changes no flag on them (O_NONBLOCK included). It
 * writes pipes in pieces that a poll for POLLOUT promises room for, and
 * sockets with MSG_DONTWAIT, so that no call blocks past the deadline.
 *
 * Runs in worker threads. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <glib/gstdio.h>
#include <llmsbx.h>

#include "llmsbx-fd-copy.h"

#define CHUNK PIPE_BUF

static gboolean
set_errno_error (GError     **error,
                 int          saved_errno,
                 const char  *what)
{
  g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno), "%s: %s", what, g_strerror (saved_errno));
  return FALSE;
}

/**
 * llmsbx_fd_copy_check:
 * @fd: a descriptor from a caller
 * @for_writing: whether the daemon will write it (else read it)
 * @error: return location for a #GError
 *
 * Returns: %TRUE when @fd is open in the right direction and is not a
 *   directory (whose files the daemon would have to open by name) or a
 *   block device; %LLMSBX_ERROR_INVALID_ARGUMENT otherwise
 */
gboolean
llmsbx_fd_copy_check (int       fd,
                      gboolean  for_writing,
                      GError  **error)
{
  int flags = fcntl (fd, F_GETFL);
  int mode = flags & O_ACCMODE;
  struct stat st;

  if (flags < 0 || fstat (fd, &st) != 0)
    return set_errno_error (error, errno, "The descriptor cannot be used");
  if (S_ISDIR (st.st_mode) || S_ISBLK (st.st_mode))
    {
      g_set_error_literal (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
                           "The descriptor must be a file, a pipe, a socket or a character device; "
                           "to copy a directory, copy a tar archive and unpack it with Execute");
      return FALSE;
    }
  if (for_writing ? mode == O_RDONLY : mode == O_WRONLY)
    {
      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
                   "The descriptor is not open for %s", for_writing ? "writing" : "reading");
      return FALSE;
    }
  return TRUE;
}

/**
 * llmsbx_fd_copy_make_staging:
 * @error: return location for a #GError
 *
 * Returns: (transfer full): a new directory that only the daemon's user can enter
 */
char *
llmsbx_fd_copy_make_staging (GError **error)
{
  return g_dir_make_tmp ("llmsbx-daemon-XXXXXX", error);
}

static void
remove_tree_at (int         parent,
                const char *name)
{
  int fd = openat (parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  DIR *dir;
  struct dirent *entry;

  if (fd < 0)
    {
      unlinkat (parent, name, 0);
      return;
    }
  dir = fdopendir (fd);
  if (dir == NULL)
    {
      close (fd);
      return;
    }
  while ((entry = readdir (dir)) != NULL)
    if (!g_str_equal (entry->d_name, ".") && !g_str_equal (entry->d_name, ".."))
      remove_tree_at (dirfd (dir), entry->d_name);
  closedir (dir);
  unlinkat (parent, name, AT_REMOVEDIR);
}

/**
 * llmsbx_fd_copy_remove_staging:
 * @staging: (nullable): a directory from llmsbx_fd_copy_make_staging()
 *
 * Removes it and what a copy left in it, following no link.
 */
void
llmsbx_fd_copy_remove_staging (const char *staging)
{
  if (staging != NULL)
    remove_tree_at (AT_FDCWD, staging);
}

static gboolean
is_socket (int fd)
{
  struct stat st;

  return fstat (fd, &st) == 0 && S_ISSOCK (st.st_mode);
}

/* Waits until @fd is ready for @events, the deadline passed, or the
 * cancellable was cancelled. */
static gboolean
wait_for (int            fd,
          gshort         events,
          gint64         deadline,
          GCancellable  *cancellable,
          GError       **error)
{
  GPollFD fds[2] = { { fd, events, 0 }, { -1, 0, 0 } };
  guint n = g_cancellable_make_pollfd (cancellable, &fds[1]) ? 2 : 1;
  gboolean ok = FALSE;

  for (;;)
    {
      gint64 left = deadline - g_get_monotonic_time ();
      int ready;

      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        break;
      if (left <= 0)
        {
          g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_TIMEOUT,
                       "The caller's descriptor was not ready within %d s", LLMSBX_FD_COPY_TIMEOUT_SECONDS);
          break;
        }
      ready = g_poll (fds, n, (int) MIN (left / 1000 + 1, G_MAXINT));
      if (ready < 0 && errno == EINTR)
        continue;
      if (ready < 0)
        {
          set_errno_error (error, errno, "Could not wait for the caller's descriptor");
          break;
        }
      if (fds[0].revents != 0)
        {
          ok = TRUE;
          break;
        }
    }
  if (n == 2)
    g_cancellable_release_fd (cancellable);
  return ok;
}

/**
 * llmsbx_fd_copy_in:
 * @fd: a descriptor open for reading, checked by llmsbx_fd_copy_check()
 * @staging: the staging directory
 * @max_size: the most bytes taken
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Reads @fd to its end into a new file in @staging, readable by everyone
 * (the sandbox's user must read the copy; the directory keeps it private
 * on the host).
 *
 * Returns: (transfer full): the file's path, or %NULL
 */
char *
llmsbx_fd_copy_in (int            fd,
                   const char    *staging,
                   goffset        max_size,
                   GCancellable  *cancellable,
                   GError       **error)
{
  g_autofree char *path = g_build_filename (staging, "file", NULL);
  gint64 deadline = g_get_monotonic_time () + LLMSBX_FD_COPY_TIMEOUT_SECONDS * G_USEC_PER_SEC;
  goffset total = 0;
  guint8 buffer[64 * 1024];
  gboolean socket = is_socket (fd);
  int out;

  out = open (path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (out < 0 || fchmod (out, 0644) != 0)
    {
      set_errno_error (error, errno, "Could not stage the copy");
      if (out >= 0)
        close (out);
      return NULL;
    }

  for (;;)
    {
      ssize_t n;

      if (!wait_for (fd, G_IO_IN | G_IO_HUP | G_IO_ERR, deadline, cancellable, error))
        break;
      n = socket ? recv (fd, buffer, sizeof buffer, MSG_DONTWAIT) : read (fd, buffer, sizeof buffer);
      if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
        continue;
      if (n < 0)
        {
          set_errno_error (error, errno, "Could not read the caller's descriptor");
          break;
        }
      if (n == 0)
        {
          if (close (out) != 0)
            {
              set_errno_error (error, errno, "Could not stage the copy");
              return NULL;
            }
          return g_steal_pointer (&path);
        }
      total += n;
      if (total > max_size)
        {
          g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
                       "The file is larger than the %" G_GOFFSET_FORMAT " bytes the daemon copies", max_size);
          break;
        }
      for (ssize_t done = 0; done < n;)
        {
          ssize_t w = write (out, buffer + done, n - done);

          if (w < 0 && errno == EINTR)
            continue;
          if (w < 0)
            {
              set_errno_error (error, errno, "Could not stage the copy");
              close (out);
              return NULL;
            }
          done += w;
        }
    }
  close (out);
  return NULL;
}

/**
 * llmsbx_fd_copy_out:
 * @path: a file a copy from the sandbox made in the staging directory
 * @fd: a descriptor open for writing, checked by llmsbx_fd_copy_check()
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Writes the file to @fd. Only a regular file is copied, and no link is
 * followed: the archive came from the sandbox.
 *
 * Returns: %TRUE when every byte was written
 */
gboolean
llmsbx_fd_copy_out (const char    *path,
                    int            fd,
                    GCancellable  *cancellable,
                    GError       **error)
{
  gint64 deadline = g_get_monotonic_time () + LLMSBX_FD_COPY_TIMEOUT_SECONDS * G_USEC_PER_SEC;
  guint8 buffer[CHUNK];
  struct stat st;
  gboolean ok = FALSE;
  gboolean socket = is_socket (fd);
  int in = open (path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

  if (in < 0 || fstat (in, &st) != 0 || !S_ISREG (st.st_mode))
    {
      g_set_error_literal (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
                           "CopyFrom copies one regular file; to copy a directory, make a tar archive "
                           "of it with Execute and copy that");
      if (in >= 0)
        close (in);
      return FALSE;
    }

  for (;;)
    {
      ssize_t n = read (in, buffer, sizeof buffer);
      ssize_t done = 0;

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          set_errno_error (error, errno, "Could not read the copy");
          break;
        }
      if (n == 0)
        {
          ok = TRUE;
          break;
        }
      while (done < n)
        {
          ssize_t w;

          if (!wait_for (fd, G_IO_OUT | G_IO_ERR | G_IO_HUP, deadline, cancellable, error))
            goto out;
          w = socket ? send (fd, buffer + done, n - done, MSG_DONTWAIT | MSG_NOSIGNAL)
                     : write (fd, buffer + done, n - done);
          if (w < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
            continue;
          if (w < 0)
            {
              set_errno_error (error, errno, "Could not write the caller's descriptor");
              goto out;
            }
          done += w;
        }
    }

out:
  close (in);
  return ok;
}
