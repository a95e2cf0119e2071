/* llmsbx-tar-unpack.c: an archive into a directory with put_archive's rules
 * (llmsbx-tar-unpack-private.h). */
#include "llmsbx-tar-unpack-private.h"

#include <archive_entry.h>
#include <string.h>
#include <sys/stat.h>

static LlmsbxTarUnpackStatus
fail (LlmsbxTarUnpackStatus   status,
      char                  **message,
      const char             *format,
      ...) G_GNUC_PRINTF (3, 4);

static LlmsbxTarUnpackStatus
fail (LlmsbxTarUnpackStatus   status,
      char                  **message,
      const char             *format,
      ...)
{
  va_list args;

  va_start (args, format);
  *message = g_strdup_vprintf (format, args);
  va_end (args);
  return status;
}

static LlmsbxTarUnpackStatus
unpack_entries (struct archive  *reader,
                struct archive  *writer,
                const char      *dest,
                char           **message)
{
  struct archive_entry *entry;
  int r;

  while ((r = archive_read_next_header (reader, &entry)) == ARCHIVE_OK)
    {
      const char *name = archive_entry_pathname (entry);
      const char *link = archive_entry_hardlink (entry);
      g_autofree char *path = NULL;
      const void *block;
      size_t length;
      la_int64_t offset;
      struct stat existing;

      if (name == NULL || g_path_is_absolute (name) || (link != NULL && g_path_is_absolute (link)))
        return fail (LLMSBX_TAR_UNPACK_UNSAFE_NAME, message, "The archive names an absolute path (%s)",
                     name != NULL ? name : "no name");
      path = g_str_equal (dest, ".") ? g_strdup (name) : g_build_filename (dest, name, NULL);
      /* A directory's name may end in '/', which lstat() of a file refuses. */
      for (gsize len = strlen (path); len > 1 && path[len - 1] == '/'; len--)
        path[len - 1] = '\0';
      if (lstat (path, &existing) == 0 &&
          S_ISDIR (existing.st_mode) != (archive_entry_filetype (entry) == AE_IFDIR))
        return fail (LLMSBX_TAR_UNPACK_WOULD_REPLACE, message, "%s is a %s, and the archive has a %s there", path,
                     S_ISDIR (existing.st_mode) ? "directory" : "file",
                     S_ISDIR (existing.st_mode) ? "file" : "directory");
      archive_entry_set_pathname (entry, path);
      if (link != NULL)
        {
          g_autofree char *target = g_str_equal (dest, ".") ? g_strdup (link) : g_build_filename (dest, link, NULL);

          archive_entry_set_hardlink (entry, target);
        }
      if (archive_write_header (writer, entry) != ARCHIVE_OK)
        return fail (LLMSBX_TAR_UNPACK_FAILED, message, "%s: %s", name, archive_error_string (writer));
      while ((r = archive_read_data_block (reader, &block, &length, &offset)) == ARCHIVE_OK)
        if (archive_write_data_block (writer, block, length, offset) != ARCHIVE_OK)
          return fail (LLMSBX_TAR_UNPACK_FAILED, message, "%s: %s", name, archive_error_string (writer));
      if (r != ARCHIVE_EOF)
        return fail (LLMSBX_TAR_UNPACK_FAILED, message, "%s: %s", name, archive_error_string (reader));
      if (archive_write_finish_entry (writer) != ARCHIVE_OK)
        return fail (LLMSBX_TAR_UNPACK_FAILED, message, "%s: %s", name, archive_error_string (writer));
    }
  if (r != ARCHIVE_EOF)
    return fail (LLMSBX_TAR_UNPACK_FAILED, message, "Cannot read the archive: %s",
                 archive_error_string (reader) != NULL ? archive_error_string (reader) : "unreadable");
  if (archive_write_close (writer) != ARCHIVE_OK)
    return fail (LLMSBX_TAR_UNPACK_FAILED, message, "Cannot finish writing: %s", archive_error_string (writer));
  return LLMSBX_TAR_UNPACK_OK;
}

LlmsbxTarUnpackStatus
llmsbx_tar_unpack_into (struct archive  *reader,
                        const char      *dest,
                        char           **message)
{
  struct archive *writer = archive_write_disk_new ();
  LlmsbxTarUnpackStatus status;

  g_return_val_if_fail (reader != NULL, LLMSBX_TAR_UNPACK_FAILED);
  g_return_val_if_fail (dest != NULL, LLMSBX_TAR_UNPACK_FAILED);
  g_return_val_if_fail (message != NULL && *message == NULL, LLMSBX_TAR_UNPACK_FAILED);

  /* Owners are left to whoever unpacks (the sandbox's user); UNLINK lets a
   * file replace a file without writing through it. Absolute names were
   * refused before joining them to @dest, which may itself be absolute. */
  archive_write_disk_set_options (writer, ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_UNLINK |
                                          ARCHIVE_EXTRACT_SECURE_SYMLINKS | ARCHIVE_EXTRACT_SECURE_NODOTDOT);
  status = unpack_entries (reader, writer, dest, message);
  archive_write_free (writer);
  return status;
}
