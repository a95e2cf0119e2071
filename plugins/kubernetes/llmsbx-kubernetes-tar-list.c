/* llmsbx-kubernetes-tar-list.c: tar entries from their headers (ustar,
 * with pax `path` records and GNU long names). */
#include "llmsbx-kubernetes-tar-list.h"

#include <string.h>

#define BLOCK 512

static guint64
header_number (const guint8 *field,
               gsize         length)
{
  guint64 value = 0;

  /* Base-256 for sizes past what octal holds. */
  if (field[0] & 0x80)
    {
      value = field[0] & 0x7f;
      for (gsize i = 1; i < length; i++)
        value = (value << 8) | field[i];
      return value;
    }
  for (gsize i = 0; i < length && field[i] != '\0'; i++)
    if (field[i] >= '0' && field[i] <= '7')
      value = value * 8 + (field[i] - '0');
  return value;
}

static char *
pax_path (const guint8 *data,
          gsize         size)
{
  const char *p = (const char *) data;
  const char *end = p + size;

  while (p < end)
    {
      guint64 length = g_ascii_strtoull (p, NULL, 10);
      const char *space = memchr (p, ' ', end - p);

      if (length == 0 || space == NULL || p + length > end)
        break;
      if (g_str_has_prefix (space + 1, "path="))
        return g_strndup (space + 6, p + length - (space + 6) - 1);
      p += length;
    }
  return NULL;
}

GString *
llmsbx_kube_tar_list (GBytes *archive)
{
  gsize size;
  const guint8 *data = g_bytes_get_data (archive, &size);
  GString *list = g_string_new (NULL);
  g_autofree char *next_name = NULL;

  for (gsize offset = 0; offset + BLOCK <= size;)
    {
      const guint8 *header = data + offset;
      guint64 entry_size;
      gsize data_blocks;
      char type = header[156];
      g_autofree char *name = NULL;

      if (header[0] == '\0')
        break;
      entry_size = header_number (header + 124, 12);
      data_blocks = (entry_size + BLOCK - 1) / BLOCK;
      if (entry_size > size || offset + BLOCK + data_blocks * BLOCK > size + BLOCK)
        {
          g_string_free (list, TRUE);
          return NULL;
        }
      if (type == 'x' || type == 'L')
        {
          g_free (next_name);
          next_name = type == 'x' ? pax_path (header + BLOCK, MIN (entry_size, size - offset - BLOCK))
                                  : g_strndup ((const char *) header + BLOCK, MIN (entry_size, size - offset - BLOCK));
        }
      else if (type != 'g' && type != 'K')
        {
          if (next_name != NULL)
            name = g_steal_pointer (&next_name);
          else if (memcmp (header + 257, "ustar", 5) == 0 && header[345] != '\0')
            name = g_strdup_printf ("%.155s/%.100s", header + 345, header);
          else
            name = g_strndup ((const char *) header, 100);
          while (g_str_has_prefix (name, "./"))
            memmove (name, name + 2, strlen (name) - 1);
          if (*name != '\0' && strchr (name, '\n') == NULL)
            {
              gsize len = strlen (name);

              if (len > 1 && name[len - 1] == '/')
                name[len - 1] = '\0';
              g_string_append_printf (list, "%c %s\n", type == '5' ? 'd' : 'f', name);
            }
        }
      offset += BLOCK + data_blocks * BLOCK;
    }
  return list;
}
