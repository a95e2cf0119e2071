/* llmsbx-tar.c: tar archives between the host and a sandbox.
 *
 * Container engines move files with tar archives: PUT archive unpacks one
 * into an existing directory of the sandbox, GET archive of a path P returns
 * entries named `basename(P)` and `basename(P)/...`. One packer serves
 * copies and build contexts; archives from a sandbox are hostile input:
 * extraction checks every entry before writing anything, then writes with
 * libarchive's secure flags. Exported for backend plugins. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <gio/gio.h>
#include <glib/gstdio.h>

#include "llmsbx-error.h"
#include "llmsbx-tar.h"
#include "llmsbx-tar-private.h"

#define COPY_CHUNK_SIZE (64 * 1024)

typedef struct archive LlmsbxArchive;
typedef struct archive_entry LlmsbxArchiveEntry;
G_DEFINE_AUTOPTR_CLEANUP_FUNC (LlmsbxArchive, archive_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (LlmsbxArchiveEntry, archive_entry_free)

/* Names from archives and hosts are bytes; GError messages must be UTF-8. */
static char *
display (const char *name)
{
  return g_utf8_make_valid (name, -1);
}

static void
set_errno_error (GError    **error,
                 int         errsv,
                 const char *what,
                 const char *path)
{
  g_autofree char *shown = display (path);

  g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errsv),
               "%s “%s”: %s", what, shown, g_strerror (errsv));
}

static void
set_archive_error (GError        **error,
                   LlmsbxArchive  *a,
                   const char     *what,
                   const char     *path)
{
  g_autofree char *shown = display (path);
  int errsv = archive_errno (a);
  const char *message = archive_error_string (a);

  if (message == NULL)
    message = errsv > 0 ? g_strerror (errsv) : "unknown error";
  if (errsv > 0)
    g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errsv),
                 "%s “%s”: %s", what, shown, message);
  else
    g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_FAILED,
                 "%s “%s”: %s", what, shown, message);
}

/* Packing */

/* Where a packed archive goes: memory, up to a limit. */
typedef struct
{
  GByteArray *bytes;
  guint64     limit;     /* 0: only GByteArray's own, 4 GiB */
  gboolean    exceeded;
} PackOutput;

static la_ssize_t
append_to_array (struct archive *a,
                 void           *user_data,
                 const void     *buffer,
                 size_t          length)
{
  PackOutput *out = user_data;

  if ((out->limit > 0 && length > out->limit - MIN (out->limit, out->bytes->len)) ||
      length > G_MAXUINT - out->bytes->len)
    {
      out->exceeded = TRUE;
      archive_set_error (a, EFBIG, "archive too large");
      return -1;
    }
  g_byte_array_append (out->bytes, buffer, length);
  return length;
}

static LlmsbxArchive *
new_writer (PackOutput *out)
{
  LlmsbxArchive *a = archive_write_new ();

  /* ustar, with pax headers only where ustar cannot express a name. */
  archive_write_set_format_pax_restricted (a);
  archive_write_add_filter_none (a);
  /* No padding to a 10 KiB block: the archive goes over HTTP, not to tape. */
  archive_write_set_bytes_in_last_block (a, 1);
  archive_write_open (a, out, NULL, append_to_array, NULL);
  return a;
}

static LlmsbxArchiveEntry *
new_entry (const char *name,
           mode_t      type,
           mode_t      perm,
           time_t      mtime)
{
  LlmsbxArchiveEntry *entry = archive_entry_new ();

  archive_entry_set_pathname (entry, name);
  archive_entry_set_filetype (entry, type);
  archive_entry_set_perm (entry, perm & 0777);
  archive_entry_set_uid (entry, 0);
  archive_entry_set_gid (entry, 0);
  archive_entry_set_mtime (entry, mtime, 0);
  return entry;
}

static gboolean
write_header (LlmsbxArchive      *a,
              LlmsbxArchiveEntry *entry,
              GError            **error)
{
  if (archive_write_header (a, entry) < ARCHIVE_WARN)
    {
      set_archive_error (error, a, "Cannot archive", archive_entry_pathname (entry));
      return FALSE;
    }
  return TRUE;
}

static gboolean add_path (LlmsbxArchive *a, const char *host_path, const char *name,
                          const struct stat *st, gboolean follow, guint8 *buffer, GError **error);

static gboolean
add_file (LlmsbxArchive *a,
          const char    *host_path,
          const char    *name,
          gboolean       follow,
          guint8        *buffer,
          GError       **error)
{
  g_autoptr(LlmsbxArchiveEntry) entry = NULL;
  struct stat st;
  goffset remaining;
  int fd;

  /* O_NONBLOCK: if the file was swapped for a FIFO since lstat(), don't hang. */
  fd = open (host_path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | (follow ? 0 : O_NOFOLLOW));
  if (fd < 0)
    {
      set_errno_error (error, errno, "Cannot open", host_path);
      return FALSE;
    }
  if (fstat (fd, &st) != 0 || !S_ISREG (st.st_mode))
    {
      g_autofree char *shown = display (host_path);

      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
                   "“%s” changed while it was being copied", shown);
      close (fd);
      return FALSE;
    }

  entry = new_entry (name, AE_IFREG, st.st_mode, st.st_mtime);
  archive_entry_set_size (entry, st.st_size);
  if (!write_header (a, entry, error))
    {
      close (fd);
      return FALSE;
    }

  /* The header has promised st_size bytes: a file that grows is cut there,
   * one that shrinks is padded with zeros by libarchive. */
  remaining = st.st_size;
  while (remaining > 0)
    {
      gssize n = read (fd, buffer, MIN (remaining, COPY_CHUNK_SIZE));

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          set_errno_error (error, errno, "Cannot read", host_path);
          close (fd);
          return FALSE;
        }
      if (n == 0)
        break;
      if (archive_write_data (a, buffer, n) < 0)
        {
          set_archive_error (error, a, "Cannot archive", host_path);
          close (fd);
          return FALSE;
        }
      remaining -= n;
    }

  close (fd);
  return TRUE;
}

static int
compare_names (gconstpointer a,
               gconstpointer b)
{
  return strcmp (*(const char **) a, *(const char **) b);
}

static gboolean
add_directory (LlmsbxArchive     *a,
               const char        *host_path,
               const char        *name,
               const struct stat *st,
               guint8            *buffer,
               GError           **error)
{
  g_autoptr(LlmsbxArchiveEntry) entry = new_entry (name, AE_IFDIR, st->st_mode, st->st_mtime);
  g_autoptr(GPtrArray) children = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GDir) dir = NULL;
  const char *child;

  if (!write_header (a, entry, error))
    return FALSE;

  dir = g_dir_open (host_path, 0, error);
  if (dir == NULL)
    return FALSE;
  while ((child = g_dir_read_name (dir)) != NULL)
    g_ptr_array_add (children, g_strdup (child));
  /* Sorted, so the same tree always gives the same archive. */
  g_ptr_array_sort (children, compare_names);

  for (guint i = 0; i < children->len; i++)
    {
      g_autofree char *child_path = g_build_filename (host_path, children->pdata[i], NULL);
      g_autofree char *child_name = g_strconcat (name, "/", children->pdata[i], NULL);
      struct stat child_st;

      if (lstat (child_path, &child_st) != 0)
        {
          set_errno_error (error, errno, "Cannot read", child_path);
          return FALSE;
        }
      if (!add_path (a, child_path, child_name, &child_st, FALSE, buffer, error))
        return FALSE;
    }

  return TRUE;
}

static gboolean
add_symlink (LlmsbxArchive     *a,
             const char        *host_path,
             const char        *name,
             const struct stat *st,
             GError           **error)
{
  g_autoptr(LlmsbxArchiveEntry) entry = NULL;
  g_autofree char *target = g_file_read_link (host_path, error);

  if (target == NULL)
    return FALSE;

  entry = new_entry (name, AE_IFLNK, 0777, st->st_mtime);
  archive_entry_set_symlink (entry, target);
  return write_header (a, entry, error);
}

static gboolean
add_path (LlmsbxArchive     *a,
          const char        *host_path,
          const char        *name,
          const struct stat *st,
          gboolean           follow,
          guint8            *buffer,
          GError           **error)
{
  g_autofree char *shown = NULL;
  const char *kind;

  switch (st->st_mode & S_IFMT)
    {
    case S_IFREG:
      return add_file (a, host_path, name, follow, buffer, error);
    case S_IFDIR:
      return add_directory (a, host_path, name, st, buffer, error);
    case S_IFLNK:
      return add_symlink (a, host_path, name, st, error);
    case S_IFSOCK:
      kind = "a socket";
      break;
    case S_IFIFO:
      kind = "a FIFO";
      break;
    default:
      kind = "a device";
      break;
    }

  shown = display (host_path);
  g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
               "Cannot copy “%s”: it is %s; only regular files, directories and "
               "symbolic links can be copied", shown, kind);
  return FALSE;
}

static gboolean
finish_archive (LlmsbxArchive *a,
                const char    *what,
                GError       **error)
{
  if (archive_write_close (a) != ARCHIVE_OK)
    {
      set_archive_error (error, a, "Cannot archive", what);
      return FALSE;
    }
  return TRUE;
}

static gboolean
check_archive_name (const char  *archive_name,
                    GError     **error)
{
  if (archive_name == NULL || *archive_name == '\0' ||
      strchr (archive_name, '/') != NULL ||
      strcmp (archive_name, ".") == 0 || strcmp (archive_name, "..") == 0)
    {
      g_autofree char *shown = display (archive_name ? archive_name : "");

      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
                   "“%s” is not a valid file name for the copy", shown);
      return FALSE;
    }
  return TRUE;
}

/**
 * llmsbx_tar_pack_path:
 * @host_path: (type filename): a file or directory tree on the host
 * @archive_name: (type filename): the name of the archive's top entry, one
 *   relative name without '/'
 * @max_size: bound of the archive in bytes; 0 for 4 GiB
 * @error: return location for a #GError
 *
 * Archives @host_path as one top entry named @archive_name, ready for a
 * backend's put_archive into the destination's parent directory. @host_path
 * itself is followed if it is a symbolic link; links inside a directory are
 * stored as links with their target unchanged. Regular files keep their
 * permission bits (& 0777), every entry is owned by uid/gid 0, and entries
 * are sorted, so the same tree gives the same archive. Sockets, devices and
 * FIFOs are refused (%LLMSBX_ERROR_INVALID_ARGUMENT); a missing @host_path
 * gives %LLMSBX_ERROR_FILE_NOT_FOUND. Files are streamed from disk into the
 * in-memory archive; one larger than @max_size fails with
 * %LLMSBX_ERROR_LIMIT_EXCEEDED.
 *
 * Returns: (transfer full): the archive, or %NULL on error
 *
 * Since: 0.1
 */
GBytes *
llmsbx_tar_pack_path (const char  *host_path,
                      const char  *archive_name,
                      guint64      max_size,
                      GError     **error)
{
  g_autoptr(GByteArray) bytes = NULL;
  PackOutput out = { NULL, max_size, FALSE };
  g_autoptr(LlmsbxArchive) a = NULL;
  g_autoptr(GError) local_error = NULL;
  g_autofree guint8 *buffer = NULL;
  struct stat st;

  g_return_val_if_fail (host_path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!check_archive_name (archive_name, error))
    return NULL;

  if (stat (host_path, &st) != 0)
    {
      int errsv = errno;

      if (errsv == ENOENT || errsv == ENOTDIR)
        {
          g_autofree char *shown = display (host_path);

          g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_FILE_NOT_FOUND,
                       "Source path “%s” does not exist", shown);
        }
      else
        set_errno_error (error, errsv, "Cannot read", host_path);
      return NULL;
    }

  out.bytes = bytes = g_byte_array_new ();
  a = new_writer (&out);
  buffer = g_malloc (COPY_CHUNK_SIZE);
  if (!add_path (a, host_path, archive_name, &st, TRUE, buffer, &local_error) ||
      !finish_archive (a, host_path, &local_error))
    {
      g_autofree char *shown = display (host_path);
      g_autofree char *limit = g_format_size_full (max_size ? max_size : G_MAXUINT, G_FORMAT_SIZE_IEC_UNITS);

      if (out.exceeded)
        g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_LIMIT_EXCEEDED,
                     "The archive of “%s” is larger than %s%s", shown, limit,
                     max_size ? ", the session's copy-limit; raise copy-limit to copy it" : "");
      else
        g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }

  return g_byte_array_free_to_bytes (g_steal_pointer (&bytes));
}

/* The entries of @host_dir, at the root of the archive. */
static gboolean
add_children (LlmsbxArchive  *a,
              const char     *host_dir,
              guint8         *buffer,
              GError        **error)
{
  g_autoptr(GPtrArray) children = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GDir) dir = g_dir_open (host_dir, 0, error);
  const char *child;

  if (dir == NULL)
    return FALSE;
  while ((child = g_dir_read_name (dir)) != NULL)
    g_ptr_array_add (children, g_strdup (child));
  g_ptr_array_sort (children, compare_names);

  for (guint i = 0; i < children->len; i++)
    {
      g_autofree char *child_path = g_build_filename (host_dir, children->pdata[i], NULL);
      struct stat child_st;

      if (lstat (child_path, &child_st) != 0)
        {
          set_errno_error (error, errno, "Cannot read", child_path);
          return FALSE;
        }
      if (!add_path (a, child_path, children->pdata[i], &child_st, FALSE, buffer, error))
        return FALSE;
    }
  return TRUE;
}

/**
 * llmsbx_tar_pack_contents:
 * @host_dir: (type filename): a directory on the host
 * @extra_name: (nullable): the name of one more file to add at the root,
 *   such as a Dockerfile kept outside @host_dir
 * @extra_data: (nullable): that file's contents
 * @max_size: bound of the archive in bytes; 0 for 4 GiB
 * @error: return location for a #GError
 *
 * Archives what @host_dir holds, its entries at the root of the archive (as
 * an engine's build context wants it), with the rules of
 * llmsbx_tar_pack_path(): links stored as links, permission bits kept,
 * owner root, entries sorted, sockets, devices and FIFOs refused with
 * %LLMSBX_ERROR_INVALID_ARGUMENT. An archive past @max_size fails with
 * %LLMSBX_ERROR_LIMIT_EXCEEDED.
 *
 * Returns: (transfer full): the archive, or %NULL on error
 *
 * Since: 0.1
 */
GBytes *
llmsbx_tar_pack_contents (const char  *host_dir,
                          const char  *extra_name,
                          GBytes      *extra_data,
                          guint64      max_size,
                          GError     **error)
{
  g_autoptr(GByteArray) bytes = g_byte_array_new ();
  PackOutput out = { bytes, max_size, FALSE };
  g_autoptr(LlmsbxArchive) a = NULL;
  g_autoptr(GError) local_error = NULL;
  g_autofree guint8 *buffer = g_malloc (COPY_CHUNK_SIZE);
  gboolean ok;

  g_return_val_if_fail (host_dir != NULL, NULL);
  g_return_val_if_fail ((extra_name == NULL) == (extra_data == NULL), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (extra_name != NULL && !check_archive_name (extra_name, error))
    return NULL;

  a = new_writer (&out);
  ok = add_children (a, host_dir, buffer, &local_error);
  if (ok && extra_name != NULL)
    {
      g_autoptr(LlmsbxArchiveEntry) entry = new_entry (extra_name, AE_IFREG, 0644, time (NULL));
      gsize size;
      const void *data = g_bytes_get_data (extra_data, &size);

      archive_entry_set_size (entry, size);
      ok = write_header (a, entry, &local_error);
      if (ok && size > 0 && archive_write_data (a, data, size) < 0)
        {
          set_archive_error (&local_error, a, "Cannot archive", extra_name);
          ok = FALSE;
        }
    }
  if (!ok || !finish_archive (a, host_dir, &local_error))
    {
      g_autofree char *shown = display (host_dir);
      g_autofree char *limit = g_format_size_full (max_size ? max_size : G_MAXUINT, G_FORMAT_SIZE_IEC_UNITS);

      if (out.exceeded)
        g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_LIMIT_EXCEEDED,
                     "The archive of “%s” is larger than %s", shown, limit);
      else
        g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }
  return g_byte_array_free_to_bytes (g_steal_pointer (&bytes));
}

/* Extraction */

/* What the checking pass learned about an archive. */
typedef struct
{
  char *top;           /* first component shared by every entry */
  mode_t top_type;     /* AE_IFREG or AE_IFDIR; 0 if only implied by children */
  gboolean has_children;
} ArchiveLayout;

static void
archive_layout_clear (ArchiveLayout *layout)
{
  g_clear_pointer (&layout->top, g_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (ArchiveLayout, archive_layout_clear)

/* An archive to read: in memory, or in a file read from its start. */
typedef struct
{
  GBytes *bytes;
  int     fd;
} ArchiveSource;

static LlmsbxArchive *
new_reader (const ArchiveSource  *source,
            GError              **error)
{
  g_autoptr(LlmsbxArchive) a = archive_read_new ();
  int r;

  archive_read_support_format_tar (a);
  archive_read_support_format_empty (a);
  if (source->bytes != NULL)
    {
      gsize len;
      const void *data = g_bytes_get_data (source->bytes, &len);

      r = archive_read_open_memory (a, data != NULL ? data : "", len);
    }
  else if (lseek (source->fd, 0, SEEK_SET) != 0)
    {
      int errsv = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errsv),
                   "Cannot read the archive: %s", g_strerror (errsv));
      return NULL;
    }
  else
    r = archive_read_open_fd (a, source->fd, COPY_CHUNK_SIZE);

  if (r != ARCHIVE_OK)
    {
      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_PROTOCOL,
                   "Cannot read the archive: %s", archive_error_string (a));
      return NULL;
    }
  return g_steal_pointer (&a);
}

/* Reads the next header; FALSE with no error at the end of the archive. */
static gboolean
next_entry (LlmsbxArchive       *a,
            LlmsbxArchiveEntry **entry,
            GError             **error)
{
  int r = archive_read_next_header (a, entry);

  if (r == ARCHIVE_EOF)
    return FALSE;
  if (r < ARCHIVE_WARN)
    {
      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_PROTOCOL,
                   "Cannot read the archive: %s", archive_error_string (a));
      return FALSE;
    }
  return TRUE;
}

/* libarchive gives no locale form of a name it cannot convert, but may
 * still have the UTF-8 one. */
static const char *
entry_name (LlmsbxArchiveEntry *entry)
{
  const char *name = archive_entry_pathname (entry);

  if (name == NULL)
    name = archive_entry_pathname_utf8 (entry);
  return name;
}

/* The entry's path below the top entry, with "." and empty components
 * dropped ("" for the top entry itself). Refuses names that could lead out
 * of the destination. */
static char *
entry_relative_path (LlmsbxArchiveEntry *entry,
                     ArchiveLayout      *layout,
                     GError            **error)
{
  const char *name = entry_name (entry);
  g_autofree char *shown = NULL;
  g_auto(GStrv) parts = NULL;
  g_autoptr(GString) rest = g_string_new (NULL);
  const char *first = NULL;

  if (name == NULL || *name == '\0')
    {
      g_set_error_literal (error, LLMSBX_ERROR, LLMSBX_ERROR_PROTOCOL,
                           "The archive has an entry without a name");
      return NULL;
    }

  shown = display (name);
  if (name[0] == '/')
    {
      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_PATH_TRAVERSAL,
                   "Refusing archive entry “%s”: absolute names are not allowed", shown);
      return NULL;
    }

  parts = g_strsplit (name, "/", -1);
  for (guint i = 0; parts[i] != NULL; i++)
    {
      if (strcmp (parts[i], "..") == 0)
        {
          g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_PATH_TRAVERSAL,
                       "Refusing archive entry “%s”: “..” components are not allowed", shown);
          return NULL;
        }
      if (*parts[i] == '\0')
        continue;
      if (first == NULL)
        first = parts[i];
      else if (strcmp (parts[i], ".") != 0)
        {
          if (rest->len > 0)
            g_string_append_c (rest, '/');
          g_string_append (rest, parts[i]);
        }
    }

  if (layout->top == NULL)
    layout->top = g_strdup (first);
  else if (strcmp (first, layout->top) != 0)
    {
      g_autofree char *shown_top = display (layout->top);

      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_PATH_TRAVERSAL,
                   "Refusing archive entry “%s”: it is outside the copied path “%s”",
                   shown, shown_top);
      return NULL;
    }

  return g_string_free (g_steal_pointer (&rest), FALSE);
}

/* Checks every entry of @archive without writing anything. */
static gboolean
check_archive (const ArchiveSource  *archive,
               ArchiveLayout        *layout,
               GError              **error)
{
  g_autoptr(LlmsbxArchive) a = new_reader (archive, error);
  g_autoptr(GPtrArray) paths = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GHashTable) symlinks = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  LlmsbxArchiveEntry *entry;
  GError *local_error = NULL;

  if (a == NULL)
    return FALSE;

  while (next_entry (a, &entry, &local_error))
    {
      g_autofree char *rest = entry_relative_path (entry, layout, error);
      g_autofree char *shown = NULL;
      mode_t type = archive_entry_filetype (entry);

      if (rest == NULL)
        return FALSE;

      shown = display (entry_name (entry));
      if (archive_entry_hardlink (entry) != NULL)
        {
          g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_PATH_TRAVERSAL,
                       "Refusing archive entry “%s”: hard links are not allowed", shown);
          return FALSE;
        }

      if (type == AE_IFLNK)
        {
          if (*rest == '\0')
            {
              g_autofree char *target = display (archive_entry_symlink (entry) ? archive_entry_symlink (entry) : "");

              g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
                           "“%s” is a symbolic link to “%s”; copy the path it points to instead",
                           shown, target);
              return FALSE;
            }
          g_hash_table_add (symlinks, g_steal_pointer (&rest));
        }
      else if (type == AE_IFREG || type == AE_IFDIR)
        {
          if (*rest == '\0')
            layout->top_type = type;
          else
            layout->has_children = TRUE;
          g_ptr_array_add (paths, g_steal_pointer (&rest));
        }
      else
        {
          g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_PATH_TRAVERSAL,
                       "Refusing archive entry “%s”: devices, FIFOs and sockets are not allowed",
                       shown);
          return FALSE;
        }

      if (archive_read_data_skip (a) < ARCHIVE_WARN)
        {
          g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_PROTOCOL,
                       "Cannot read the archive: %s", archive_error_string (a));
          return FALSE;
        }
    }
  if (local_error != NULL)
    {
      g_propagate_error (error, local_error);
      return FALSE;
    }

  if (layout->top == NULL)
    {
      g_set_error_literal (error, LLMSBX_ERROR, LLMSBX_ERROR_FILE_NOT_FOUND,
                           "The archive is empty: there is nothing to copy");
      return FALSE;
    }
  if (layout->top_type == AE_IFREG && layout->has_children)
    {
      g_autofree char *shown = display (layout->top);

      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_PROTOCOL,
                   "The archive has entries below the regular file “%s”", shown);
      return FALSE;
    }

  /* Skipped links are not created, but an entry below one would still be
   * written where the sandbox meant a link: refuse it. */
  for (guint i = 0; i < paths->len; i++)
    {
      g_autofree char *path = g_strdup (paths->pdata[i]);

      for (char *slash = strchr (path, '/'); slash != NULL; slash = strchr (slash + 1, '/'))
        {
          gboolean below_link;

          *slash = '\0';
          below_link = g_hash_table_contains (symlinks, path);
          *slash = '/';
          if (below_link)
            {
              g_autofree char *shown_top = display (layout->top);
              g_autofree char *shown = display (paths->pdata[i]);

              *slash = '\0';
              g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_PATH_TRAVERSAL,
                           "Refusing archive entry “%s/%s”: it is below the symbolic link “%s/%s”",
                           shown_top, shown, shown_top, path);
              return FALSE;
            }
        }
    }

  return TRUE;
}

/* Makes @dest_path absolute and free of symbolic links (the user's own path
 * may go through links; only what the archive creates is guarded), creating
 * its parent directories. */
static char *
resolve_destination (const char  *dest_path,
                     GError     **error)
{
  g_autofree char *absolute = g_canonicalize_filename (dest_path, NULL);
  g_autofree char *parent = NULL;
  g_autofree char *name = NULL;
  char *real;

  if (strcmp (absolute, "/") == 0)
    {
      g_set_error_literal (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
                           "Cannot copy onto the root directory “/”");
      return NULL;
    }

  real = realpath (absolute, NULL);
  if (real != NULL)
    {
      char *result = g_strdup (real);

      free (real);
      return result;
    }

  parent = g_path_get_dirname (absolute);
  name = g_path_get_basename (absolute);
  if (g_mkdir_with_parents (parent, 0755) != 0)
    {
      set_errno_error (error, errno, "Cannot create the directory", parent);
      return NULL;
    }
  real = realpath (parent, NULL);
  if (real == NULL)
    {
      set_errno_error (error, errno, "Cannot resolve", parent);
      return NULL;
    }
  g_free (parent);
  parent = g_strdup (real);
  free (real);

  return g_build_filename (parent, name, NULL);
}

static gboolean
check_destination (const char          *dest,
                   const ArchiveLayout *layout,
                   GError             **error)
{
  g_autofree char *shown = display (dest);
  struct stat st;

  if (stat (dest, &st) != 0)
    return TRUE;

  if (layout->top_type == AE_IFREG && S_ISDIR (st.st_mode))
    {
      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
                   "Cannot copy a file onto the directory “%s”; give the file's own path",
                   shown);
      return FALSE;
    }
  if (layout->top_type != AE_IFREG && !S_ISDIR (st.st_mode))
    {
      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
                   "Cannot copy a directory onto “%s”: it exists and is not a directory",
                   shown);
      return FALSE;
    }
  return TRUE;
}

static gboolean
copy_entry_data (LlmsbxArchive *reader,
                 LlmsbxArchive *writer,
                 const char    *target,
                 GError       **error)
{
  for (;;)
    {
      const void *block;
      size_t size;
      la_int64_t offset;
      int r = archive_read_data_block (reader, &block, &size, &offset);

      if (r == ARCHIVE_EOF)
        return TRUE;
      if (r < ARCHIVE_WARN)
        {
          g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_PROTOCOL,
                       "Cannot read the archive: %s", archive_error_string (reader));
          return FALSE;
        }
      if (archive_write_data_block (writer, block, size, offset) < ARCHIVE_WARN)
        {
          set_archive_error (error, writer, "Cannot write", target);
          return FALSE;
        }
    }
}

/* Writes one entry at @target; a regular file that cannot be written
 * completely is removed again. */
static gboolean
extract_entry (LlmsbxArchive      *reader,
               LlmsbxArchive      *writer,
               LlmsbxArchiveEntry *entry,
               const char         *target,
               GError            **error)
{
  gboolean is_file = archive_entry_filetype (entry) == AE_IFREG;

  archive_entry_set_pathname (entry, target);
  archive_entry_set_perm (entry, archive_entry_perm (entry) & 0777);

  if (archive_write_header (writer, entry) < ARCHIVE_WARN)
    {
      set_archive_error (error, writer, "Cannot write", target);
      return FALSE;
    }
  if (is_file && !copy_entry_data (reader, writer, target, error))
    {
      g_unlink (target);
      return FALSE;
    }
  if (archive_write_finish_entry (writer) < ARCHIVE_WARN)
    {
      set_archive_error (error, writer, "Cannot write", target);
      if (is_file)
        g_unlink (target);
      return FALSE;
    }
  return TRUE;
}

static gboolean
extract_checked (const ArchiveSource  *archive,
                 const char           *dest,
                 GError              **error)
{
  g_autoptr(LlmsbxArchive) reader = new_reader (archive, error);
  g_autoptr(LlmsbxArchive) writer = archive_write_disk_new ();
  g_auto(ArchiveLayout) layout = { NULL, 0, FALSE };
  LlmsbxArchiveEntry *entry;
  GError *local_error = NULL;

  if (reader == NULL)
    return FALSE;

  /* No ARCHIVE_EXTRACT_OWNER: files belong to the caller. No
   * ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS only because the names given to
   * libarchive are @dest-based absolute paths; the archive's own absolute
   * names were refused by check_archive(). */
  archive_write_disk_set_options (writer,
                                  ARCHIVE_EXTRACT_TIME |
                                  ARCHIVE_EXTRACT_SPARSE |
                                  ARCHIVE_EXTRACT_SECURE_SYMLINKS |
                                  ARCHIVE_EXTRACT_SECURE_NODOTDOT);

  while (next_entry (reader, &entry, &local_error))
    {
      g_autofree char *rest = entry_relative_path (entry, &layout, error);
      g_autofree char *target = NULL;

      if (rest == NULL)
        return FALSE;

      if (archive_entry_filetype (entry) == AE_IFLNK)
        {
          g_debug ("Not extracting symbolic link “%s” → “%s”",
                   entry_name (entry), archive_entry_symlink (entry));
          continue;
        }

      target = *rest != '\0' ? g_build_filename (dest, rest, NULL) : g_strdup (dest);
      if (!extract_entry (reader, writer, entry, target, error))
        return FALSE;
    }
  if (local_error != NULL)
    {
      g_propagate_error (error, local_error);
      return FALSE;
    }

  /* Closing applies the modes and times of directories, deferred so that
   * a read-only directory can still be filled. */
  if (archive_write_close (writer) != ARCHIVE_OK)
    {
      set_archive_error (error, writer, "Cannot write", dest);
      return FALSE;
    }
  return TRUE;
}

static gboolean
extract (const ArchiveSource  *archive,
         const char           *dest_path,
         GError              **error)
{
  g_auto(ArchiveLayout) layout = { NULL, 0, FALSE };
  g_autofree char *dest = NULL;

  if (!check_archive (archive, &layout, error))
    return FALSE;

  dest = resolve_destination (dest_path, error);
  if (dest == NULL || !check_destination (dest, &layout, error))
    return FALSE;

  return extract_checked (archive, dest, error);
}

/**
 * llmsbx_tar_extract:
 * @archive: a tar archive, as a backend's get_archive of some path P returns it
 * @dest_path: (type filename): where its top entry goes on the host
 * @error: return location for a #GError
 *
 * Unpacks @archive so that its top entry becomes @dest_path, like
 * `cp -r P dest_path`: a file lands at @dest_path, a directory's contents
 * land in @dest_path/ (which may already exist as a directory). Missing
 * parents of @dest_path are created; a symbolic link in @dest_path itself is
 * followed, as it names the user's own place.
 *
 * Archives from sandboxes are hostile input: the whole archive is checked
 * before anything is written, so a refused archive leaves nothing behind.
 * Refused with %LLMSBX_ERROR_PATH_TRAVERSAL: absolute names, `..`
 * components, entries outside the top entry, entries beneath a symbolic link
 * entry, hard links, devices, FIFOs and sockets. Symbolic link entries are
 * skipped. An archive with no entries gives %LLMSBX_ERROR_FILE_NOT_FOUND, an
 * unreadable one %LLMSBX_ERROR_PROTOCOL. Writing uses libarchive's
 * secure-symlink and no-dot-dot checks, so a link already inside @dest_path
 * is never followed; files get the archive's permission bits (& 0777) minus
 * the umask and the current user as owner; runs of zeros become holes.
 *
 * Returns: %TRUE on success
 *
 * Since: 0.1
 */
gboolean
llmsbx_tar_extract (GBytes      *archive,
                    const char  *dest_path,
                    GError     **error)
{
  ArchiveSource source = { archive, -1 };

  g_return_val_if_fail (archive != NULL, FALSE);
  g_return_val_if_fail (dest_path != NULL && *dest_path != '\0', FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return extract (&source, dest_path, error);
}

/**
 * llmsbx_tar_extract_fd:
 * @fd: a file holding a tar archive, read from its start (twice: checked,
 *   then written) and left open
 * @dest_path: (type filename): where its top entry goes on the host
 * @error: return location for a #GError
 *
 * Like llmsbx_tar_extract(), for an archive in a file, so that no archive
 * is held in memory.
 *
 * Returns: %TRUE on success
 *
 * Since: 0.1
 */
gboolean
llmsbx_tar_extract_fd (int          fd,
                       const char  *dest_path,
                       GError     **error)
{
  ArchiveSource source = { NULL, fd };

  g_return_val_if_fail (fd >= 0, FALSE);
  g_return_val_if_fail (dest_path != NULL && *dest_path != '\0', FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return extract (&source, dest_path, error);
}

/* Reading into memory */

void
llmsbx_tar_file_free (LlmsbxTarFile *file)
{
  g_free (file->path);
  g_clear_pointer (&file->content, g_bytes_unref);
  g_free (file);
}

/* Reads an entry's data, at most @size bytes as its header says. */
static GBytes *
read_entry_data (LlmsbxArchive *a,
                 gsize          size)
{
  g_autofree char *data = g_malloc (MAX (size, 1));
  gsize done = 0;

  while (done < size)
    {
      la_ssize_t n = archive_read_data (a, data + done, size - done);

      if (n <= 0)
        return NULL;
      done += n;
    }
  return g_bytes_new_take (g_steal_pointer (&data), size);
}

typedef struct {
  char     *path;
  guint64   size;
  GBytes   *content;
} Candidate;

static void
candidate_free (Candidate *candidate)
{
  g_free (candidate->path);
  g_clear_pointer (&candidate->content, g_bytes_unref);
  g_free (candidate);
}

static int
compare_candidates (gconstpointer a,
                    gconstpointer b)
{
  return strcmp ((*(Candidate **) a)->path, (*(Candidate **) b)->path);
}

/* One pass over @archive: without @by_path, the regular files @accept takes
 * go to @candidates; with it, the content of each file it names is read into
 * its candidate (the first entry of that name). Entries refused or skipped
 * set @dropped. FALSE when the archive cannot be read to its end. */
static gboolean
scan_files (GBytes            *archive,
            LlmsbxTarFileFilter accept,
            gpointer           user_data,
            GPtrArray         *candidates,
            GHashTable        *by_path,
            gboolean          *dropped)
{
  ArchiveSource source = { archive, -1 };
  g_auto(ArchiveLayout) layout = { NULL, 0, FALSE };
  g_autoptr(LlmsbxArchive) a = NULL;
  g_autoptr(GError) local_error = NULL;
  LlmsbxArchiveEntry *entry;

  a = new_reader (&source, &local_error);
  if (a == NULL)
    {
      g_debug ("Not reading the archive: %s", local_error->message);
      return FALSE;
    }

  while (next_entry (a, &entry, &local_error))
    {
      g_autoptr(GError) entry_error = NULL;
      g_autofree char *rest = entry_relative_path (entry, &layout, &entry_error);
      mode_t type = archive_entry_filetype (entry);
      la_int64_t size = archive_entry_size (entry);
      Candidate *candidate;

      LlmsbxTarChoice choice;

      if (type == AE_IFDIR && rest != NULL && archive_entry_hardlink (entry) == NULL)
        continue;
      choice = rest != NULL ? accept (rest, user_data) : LLMSBX_TAR_REFUSE;
      if (choice == LLMSBX_TAR_SKIP)
        continue;
      if (choice == LLMSBX_TAR_REFUSE || *rest == '\0' || type != AE_IFREG ||
          archive_entry_hardlink (entry) != NULL || size < 0)
        {
          if (by_path == NULL)
            {
              g_autofree char *shown = display (entry_name (entry) ? entry_name (entry) : "");

              g_debug ("Skipping archive entry “%s”: %s", shown,
                       entry_error ? entry_error->message : "not a file asked for");
              *dropped = TRUE;
            }
          continue;
        }

      if (by_path == NULL)
        {
          candidate = g_new0 (Candidate, 1);
          candidate->path = g_steal_pointer (&rest);
          candidate->size = size;
          g_ptr_array_add (candidates, candidate);
          continue;
        }

      candidate = g_hash_table_lookup (by_path, rest);
      if (candidate == NULL || candidate->content != NULL || candidate->size != (guint64) size)
        continue;
      candidate->content = read_entry_data (a, size);
      if (candidate->content == NULL)
        return FALSE;
    }
  if (local_error != NULL)
    {
      g_debug ("Archive cut short: %s", local_error->message);
      return FALSE;
    }
  return TRUE;
}

/* The regular files of @archive (as a backend's get_archive of a directory
 * returns it) that @accept takes, by their path below the top entry, as
 * LlmsbxTarFile, sorted by path: the first of them, at most @max_files and
 * @max_bytes of content in all. Nothing is written anywhere. The archive
 * comes from a sandbox and is hostile: entries @accept refuses, entries
 * with absolute names, `..` components or names outside the top entry, and
 * links, devices, FIFOs and sockets where it would take a file are skipped,
 * as are files past the limits and the rest of an archive that cannot be
 * read (cut short at a transfer limit, or corrupt); each sets @dropped.
 * Directories are only read through. */
GPtrArray *
llmsbx_tar_read_files (GBytes              *archive,
                       LlmsbxTarFileFilter  accept,
                       gpointer             user_data,
                       guint                max_files,
                       guint64              max_bytes,
                       gboolean            *dropped)
{
  g_autoptr(GPtrArray) candidates = g_ptr_array_new_with_free_func ((GDestroyNotify) candidate_free);
  g_autoptr(GHashTable) by_path = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GPtrArray) files = g_ptr_array_new_with_free_func ((GDestroyNotify) llmsbx_tar_file_free);
  guint64 bytes = 0;

  g_return_val_if_fail (archive != NULL, NULL);
  g_return_val_if_fail (accept != NULL, NULL);
  g_return_val_if_fail (dropped != NULL, NULL);

  *dropped = FALSE;
  if (!scan_files (archive, accept, user_data, candidates, NULL, dropped))
    *dropped = TRUE;

  /* The first files by name, so that limits keep the first plots. */
  g_ptr_array_sort (candidates, compare_candidates);
  for (guint i = 0; i < candidates->len; i++)
    {
      Candidate *candidate = g_ptr_array_index (candidates, i);

      if (g_hash_table_contains (by_path, candidate->path))
        continue;
      if (g_hash_table_size (by_path) >= max_files || candidate->size > max_bytes - bytes)
        {
          *dropped = TRUE;
          break;
        }
      bytes += candidate->size;
      g_hash_table_insert (by_path, candidate->path, candidate);
    }

  if (g_hash_table_size (by_path) > 0 &&
      !scan_files (archive, accept, user_data, NULL, by_path, dropped))
    *dropped = TRUE;

  for (guint i = 0; i < candidates->len; i++)
    {
      Candidate *candidate = g_ptr_array_index (candidates, i);
      LlmsbxTarFile *file;

      if (candidate->content == NULL)
        continue;
      file = g_new0 (LlmsbxTarFile, 1);
      file->path = g_strdup (candidate->path);
      file->content = g_steal_pointer (&candidate->content);
      g_ptr_array_add (files, file);
    }

  return g_steal_pointer (&files);
}

/* Container paths */

/**
 * llmsbx_container_path_is_safe:
 * @path: a path in a sandbox
 * @error: return location for a #GError
 *
 * Checks that @path is an absolute POSIX path
 * (%LLMSBX_ERROR_INVALID_ARGUMENT otherwise) with no `..` component
 * (%LLMSBX_ERROR_PATH_TRAVERSAL).
 *
 * Returns: %TRUE when it is
 *
 * Since: 0.1
 */
gboolean
llmsbx_container_path_is_safe (const char  *path,
                               GError     **error)
{
  g_auto(GStrv) parts = NULL;

  g_return_val_if_fail (path != NULL, FALSE);

  if (!g_utf8_validate (path, -1, NULL))
    {
      g_autofree char *shown = display (path);

      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
                   "Container path “%s” is not valid UTF-8", shown);
      return FALSE;
    }
  if (path[0] != '/')
    {
      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
                   "Container path “%s” is not absolute", path);
      return FALSE;
    }

  parts = g_strsplit (path, "/", -1);
  for (guint i = 0; parts[i] != NULL; i++)
    {
      if (strcmp (parts[i], "..") == 0)
        {
          g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_PATH_TRAVERSAL,
                       "Path traversal detected in container path “%s”: “..” is not allowed",
                       path);
          return FALSE;
        }
    }

  return TRUE;
}

/**
 * llmsbx_container_path_split:
 * @path: a path in a sandbox
 * @out_parent: (out) (transfer full): its normalized parent directory
 * @out_name: (out) (transfer full): its last component
 * @error: return location for a #GError
 *
 * Checks @path with llmsbx_container_path_is_safe() and splits it:
 * "/sandbox/./out/" gives "/sandbox" and "out", "/x" gives "/" and "x".
 * "/" has no last component and is refused with
 * %LLMSBX_ERROR_INVALID_ARGUMENT.
 *
 * Returns: %TRUE on success
 *
 * Since: 0.1
 */
gboolean
llmsbx_container_path_split (const char  *path,
                             char       **out_parent,
                             char       **out_name,
                             GError     **error)
{
  g_auto(GStrv) parts = NULL;
  g_autoptr(GString) parent = g_string_new (NULL);
  const char *name = NULL;

  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (out_parent != NULL && out_name != NULL, FALSE);

  if (!llmsbx_container_path_is_safe (path, error))
    return FALSE;

  parts = g_strsplit (path, "/", -1);
  for (guint i = 0; parts[i] != NULL; i++)
    {
      if (*parts[i] == '\0' || strcmp (parts[i], ".") == 0)
        continue;
      if (name != NULL)
        {
          g_string_append_c (parent, '/');
          g_string_append (parent, name);
        }
      name = parts[i];
    }

  if (name == NULL)
    {
      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
                   "Container path “%s” names the root directory, not a file or directory",
                   path);
      return FALSE;
    }

  if (parent->len == 0)
    g_string_append_c (parent, '/');
  *out_parent = g_string_free (g_steal_pointer (&parent), FALSE);
  *out_name = g_strdup (name);
  return TRUE;
}
