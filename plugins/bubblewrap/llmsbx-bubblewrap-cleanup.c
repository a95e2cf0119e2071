/* llmsbx-bubblewrap-cleanup.c: removing what a bubblewrap sandbox leaves on the host.
 *
 * A sandbox's state directory holds what its code wrote (the overlay's upper
 * layer, its working directory), so its contents are hostile: symbolic links
 * are removed, never followed, every step goes through directory descriptors
 * so a renamed directory cannot redirect it, and it never crosses into another
 * file system (a mount left behind is an error, not something to empty).
 * Directories the code made unreadable (chmod 000) are opened up first; the
 * overlay's own work directory is one. Used by the helper that watches a
 * sandbox and by the reaper of sandboxes whose helper died. */
#include "llmsbx-bubblewrap-cleanup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static gboolean
remove_children (int          dir_fd,
                 dev_t        device,
                 const char  *path,
                 GError     **error)
{
  DIR *dir;
  struct dirent *entry;
  gboolean ok = TRUE;

  dir = fdopendir (dir_fd);
  if (dir == NULL)
    {
      int saved = errno;

      close (dir_fd);
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved),
                   "Cannot read %s: %s", path, g_strerror (saved));
      return FALSE;
    }

  while (ok && (entry = readdir (dir)) != NULL)
    {
      struct stat st;
      int fd = dirfd (dir);

      if (strcmp (entry->d_name, ".") == 0 || strcmp (entry->d_name, "..") == 0)
        continue;
      if (fstatat (fd, entry->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
        continue;

      if (S_ISDIR (st.st_mode))
        {
          g_autofree char *child_path = g_build_filename (path, entry->d_name, NULL);
          int child;

          if (st.st_dev != device)
            {
              g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_FAILED,
                           "%s is a mount point; not removing what is mounted there", child_path);
              ok = FALSE;
              break;
            }
          if ((st.st_mode & S_IRWXU) != S_IRWXU)
            fchmodat (fd, entry->d_name, (st.st_mode & 07777) | S_IRWXU, 0);
          child = openat (fd, entry->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
          if (child < 0)
            {
              int saved = errno;

              g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved),
                           "Cannot open %s: %s", child_path, g_strerror (saved));
              ok = FALSE;
              break;
            }
          ok = remove_children (child, device, child_path, error);
          if (ok && unlinkat (fd, entry->d_name, AT_REMOVEDIR) != 0 && errno != ENOENT)
            {
              int saved = errno;

              g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved),
                           "Cannot remove %s: %s", child_path, g_strerror (saved));
              ok = FALSE;
            }
        }
      else if (unlinkat (fd, entry->d_name, 0) != 0 && errno != ENOENT)
        {
          int saved = errno;

          g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved),
                       "Cannot remove %s/%s: %s", path, entry->d_name, g_strerror (saved));
          ok = FALSE;
        }
    }

  closedir (dir);
  return ok;
}

/* Removes @path and everything below it; a missing @path counts as removed. */
gboolean
llmsbx_bubblewrap_remove_tree (const char  *path,
                               GError     **error)
{
  struct stat st;
  int fd;

  if (lstat (path, &st) != 0)
    {
      int saved = errno;

      if (saved == ENOENT)
        return TRUE;
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved),
                   "Cannot look at %s: %s", path, g_strerror (saved));
      return FALSE;
    }
  if (!S_ISDIR (st.st_mode))
    {
      if (unlink (path) == 0 || errno == ENOENT)
        return TRUE;
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errno),
                   "Cannot remove %s: %s", path, g_strerror (errno));
      return FALSE;
    }

  fd = open (path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    {
      int saved = errno;

      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved),
                   "Cannot open %s: %s", path, g_strerror (saved));
      return FALSE;
    }
  if (!remove_children (fd, st.st_dev, path, error))
    return FALSE;
  if (rmdir (path) != 0 && errno != ENOENT)
    {
      int saved = errno;

      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved),
                   "Cannot remove %s: %s", path, g_strerror (saved));
      return FALSE;
    }
  return TRUE;
}
