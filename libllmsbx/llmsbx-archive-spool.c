/* llmsbx-archive-spool.c: a bounded, sparse temporary file that an archive
 * from a sandbox streams into before it is checked and unpacked.
 *
 * Extraction checks a whole archive before writing anything (llmsbx-tar.c),
 * so the archive must be kept somewhere first; here that is a file with no
 * name, not the client's memory, so memory stays bounded whatever the size.
 * Engines send sparse files in full, zeros included: blocks of zeros become
 * holes again here, so a large sparse file costs no disk on the way either. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "llmsbx-archive-spool-private.h"
#include "llmsbx-error.h"

/* Zeros are looked for in aligned blocks of this size, a file system's. */
#define SPARSE_BLOCK 4096

struct _LlmsbxArchiveSpool
{
  GOutputStream parent_instance;

  int      fd;
  guint64  size;     /* bytes received, holes and pending ones included */
  guint64  limit;    /* 0: none */
  char    *what;

  /* The start of the current block, until it is whole: pieces arrive at
   * any size and offset, and only a whole block can become a hole. */
  guint8   pending[SPARSE_BLOCK];
  gsize    pending_length;
};

G_DEFINE_FINAL_TYPE (LlmsbxArchiveSpool, llmsbx_archive_spool, G_TYPE_OUTPUT_STREAM)

static gboolean
is_zero (const guint8 *data,
         gsize         length)
{
  return length > 0 && data[0] == 0 && memcmp (data, data + 1, length - 1) == 0;
}

/* Writes @length bytes at @offset, unless they are a whole block of zeros,
 * which is left a hole. */
static gboolean
write_at (LlmsbxArchiveSpool  *self,
          const guint8        *data,
          gsize                length,
          guint64              offset,
          GError             **error)
{
  if (length == SPARSE_BLOCK && is_zero (data, length))
    return TRUE;

  while (length > 0)
    {
      gssize n = pwrite (self->fd, data, length, (off_t) offset);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          int errsv = errno;

          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errsv),
                       "Cannot keep the archive of %s on disk: %s", self->what, g_strerror (errsv));
          return FALSE;
        }
      data += n;
      length -= n;
      offset += n;
    }
  return TRUE;
}

static gssize
llmsbx_archive_spool_write (GOutputStream  *stream,
                            const void     *buffer,
                            gsize           count,
                            GCancellable   *cancellable,
                            GError        **error)
{
  LlmsbxArchiveSpool *self = LLMSBX_ARCHIVE_SPOOL (stream);
  const guint8 *data = buffer;
  gsize done = 0;

  if (self->limit > 0 && count > self->limit - MIN (self->size, self->limit))
    {
      g_autofree char *limit = g_format_size_full (self->limit, G_FORMAT_SIZE_IEC_UNITS);

      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_LIMIT_EXCEEDED,
                   "The archive of %s is larger than the session's copy-limit of %s; "
                   "raise copy-limit (0 for none) to copy it", self->what, limit);
      return -1;
    }

  /* Block by block, aligned in the file; a block's beginning waits in
   * pending until the rest arrives. */
  while (done < count)
    {
      gsize n = MIN (SPARSE_BLOCK - self->pending_length, count - done);
      guint64 block_start = self->size - self->pending_length;

      if (self->pending_length == 0 && n == SPARSE_BLOCK)
        {
          if (!write_at (self, data + done, n, block_start, error))
            return done > 0 ? (gssize) done : -1;
        }
      else
        {
          memcpy (self->pending + self->pending_length, data + done, n);
          self->pending_length += n;
          if (self->pending_length == SPARSE_BLOCK)
            {
              if (!write_at (self, self->pending, SPARSE_BLOCK, block_start, error))
                {
                  self->pending_length -= n;
                  return done > 0 ? (gssize) done : -1;
                }
              self->pending_length = 0;
            }
        }
      self->size += n;
      done += n;
    }
  return (gssize) count;
}

/* The last, partial block goes out, and a hole at the end, which has no
 * size of its own, gets it here. */
static gboolean
llmsbx_archive_spool_flush (GOutputStream  *stream,
                            GCancellable   *cancellable,
                            GError        **error)
{
  LlmsbxArchiveSpool *self = LLMSBX_ARCHIVE_SPOOL (stream);

  if (self->pending_length > 0 &&
      !is_zero (self->pending, self->pending_length) &&
      !write_at (self, self->pending, self->pending_length, self->size - self->pending_length, error))
    return FALSE;
  if (ftruncate (self->fd, (off_t) self->size) != 0)
    {
      int errsv = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errsv),
                   "Cannot keep the archive of %s on disk: %s", self->what, g_strerror (errsv));
      return FALSE;
    }
  return TRUE;
}

static void
llmsbx_archive_spool_finalize (GObject *object)
{
  LlmsbxArchiveSpool *self = LLMSBX_ARCHIVE_SPOOL (object);

  if (self->fd >= 0)
    close (self->fd);
  g_free (self->what);

  G_OBJECT_CLASS (llmsbx_archive_spool_parent_class)->finalize (object);
}

static void
llmsbx_archive_spool_class_init (LlmsbxArchiveSpoolClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GOutputStreamClass *stream_class = G_OUTPUT_STREAM_CLASS (klass);

  object_class->finalize = llmsbx_archive_spool_finalize;
  stream_class->write_fn = llmsbx_archive_spool_write;
  stream_class->flush = llmsbx_archive_spool_flush;
}

static void
llmsbx_archive_spool_init (LlmsbxArchiveSpool *self)
{
  self->fd = -1;
}

/* An unlinked file in @dir: O_TMPFILE where the file system has it, else a
 * named one removed at once. -1 with errno set on failure. */
static int
open_unlinked (const char *dir)
{
  g_autofree char *template = NULL;
  int fd;

#ifdef O_TMPFILE
  fd = open (dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd >= 0 || (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL))
    return fd;
#endif
  template = g_build_filename (dir, ".llmsbx-copy-XXXXXX", NULL);
  fd = g_mkstemp_full (template, O_RDWR | O_CLOEXEC, 0600);
  if (fd >= 0)
    g_unlink (template);
  return fd;
}

LlmsbxArchiveSpool *
llmsbx_archive_spool_new (const char  *dest_path,
                          const char  *what,
                          guint64      limit,
                          GError     **error)
{
  g_autoptr(LlmsbxArchiveSpool) self = g_object_new (LLMSBX_TYPE_ARCHIVE_SPOOL, NULL);
  g_autofree char *dir = g_path_get_dirname (dest_path);
  g_autofree char *absolute = g_canonicalize_filename (dir, NULL);

  /* The nearest directory that exists: nothing is created for a copy that
   * may still fail. */
  while (!g_file_test (absolute, G_FILE_TEST_IS_DIR) && strcmp (absolute, "/") != 0)
    {
      char *parent = g_path_get_dirname (absolute);

      g_free (absolute);
      absolute = parent;
    }

  self->fd = open_unlinked (absolute);
  if (self->fd < 0)
    self->fd = open_unlinked (g_get_tmp_dir ());
  if (self->fd < 0)
    {
      int errsv = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errsv),
                   "Cannot make a temporary file in %s or %s for the archive of %s: %s",
                   absolute, g_get_tmp_dir (), what, g_strerror (errsv));
      return NULL;
    }
  self->limit = limit;
  self->what = g_strdup (what);
  return g_steal_pointer (&self);
}

int
llmsbx_archive_spool_get_fd (LlmsbxArchiveSpool *self)
{
  g_return_val_if_fail (LLMSBX_IS_ARCHIVE_SPOOL (self), -1);
  return self->fd;
}
