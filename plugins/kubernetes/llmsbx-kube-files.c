/* llmsbx-kube-files.c: the small files a kubeconfig names, read with a bound,
 * and the wiping of the secrets read from them.
 *
 * A path in a kubeconfig can name anything (/dev/zero, a FIFO, a huge
 * file), so nothing is read whole without a limit. Tokens and keys are
 * wiped when freed: best effort, the copies glib and libyaml make on the
 * way are not. */
#undef G_LOG_DOMAIN
#define G_LOG_DOMAIN "Llmsbx-Kubernetes"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "llmsbx-kube-config-private.h"

gboolean
llmsbx_kube_read_file (const char  *path,
                       gsize        max_size,
                       char       **contents,
                       gsize       *length,
                       GError     **error)
{
  g_autoptr(GByteArray) data = g_byte_array_new ();
  guint8 chunk[8192];
  int fd = g_open (path, O_RDONLY | O_CLOEXEC, 0);
  gboolean failed = FALSE;
  int saved;

  if (fd < 0)
    {
      saved = errno;
      g_set_error_literal (error, G_FILE_ERROR, g_file_error_from_errno (saved), g_strerror (saved));
      return FALSE;
    }
  for (;;)
    {
      gssize n = read (fd, chunk, sizeof chunk);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          saved = errno;
          g_set_error_literal (error, G_FILE_ERROR, g_file_error_from_errno (saved), g_strerror (saved));
          failed = TRUE;
          break;
        }
      if (n == 0)
        break;
      if (data->len + (gsize) n > max_size)
        {
          g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_FAILED,
                       "larger than %" G_GSIZE_FORMAT " bytes", max_size);
          failed = TRUE;
          break;
        }
      g_byte_array_append (data, chunk, n);
    }
  explicit_bzero (chunk, sizeof chunk);
  g_close (fd, NULL);
  if (failed)
    {
      if (data->len > 0)
        explicit_bzero (data->data, data->len);
      return FALSE;
    }
  *length = data->len;
  g_byte_array_append (data, (const guint8 *) "", 1);
  *contents = (char *) g_byte_array_free (g_steal_pointer (&data), FALSE);
  return TRUE;
}

static void
wipe_free (gpointer data)
{
  /* g_bytes_new_with_free_func hands back the block it was given. */
  gsize *block = data;

  explicit_bzero (block + 1, block[0]);
  g_free (block);
}

GBytes *
llmsbx_kube_secret_bytes_new (const void *data,
                              gsize       size)
{
  /* The size travels in front of the data so the free function knows it. */
  gsize *block = g_malloc (sizeof (gsize) + size + 1);

  block[0] = size;
  memcpy (block + 1, data, size);
  ((char *) (block + 1))[size] = '\0';
  return g_bytes_new_with_free_func (block + 1, size, wipe_free, block);
}

void
llmsbx_kube_secret_free (char *secret)
{
  if (secret == NULL)
    return;
  explicit_bzero (secret, strlen (secret));
  g_free (secret);
}
