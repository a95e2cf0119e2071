/* fuzz-tar-files.c: a libFuzzer target for llmsbx_tar_read_files()
 * (libllmsbx/llmsbx-tar.c), which reads a run's artifacts (plots, output
 * files) out of the archive a sandbox hands back, into memory.
 *
 * Input: a limits byte, then the archive. The low nibble of the first byte is
 * the file limit (0-15), the high nibble picks a byte limit (0, then 2^(n+4)).
 * The filter takes names ending in ".png", refuses names ending in ".bad"
 * and passes over the rest, as the artifact collector does. Besides ASan's
 * checks, each run asserts the reader's promises: what comes back is within
 * both limits, sorted by path without duplicates, only names the filter took,
 * relative and free of `.` and `..` components, a refused entry sets
 * `dropped`, and the working directory gains nothing (nothing is written
 * anywhere). */
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "llmsbx-tar-private.h"

#define MAX_FUZZ_INPUT (1024 * 1024)

static char *scratch;  /* the working directory: must stay empty */

int LLVMFuzzerInitialize (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

static void
remove_scratch (void)
{
  if (chdir ("/") == 0)
    g_rmdir (scratch);
}

int
LLVMFuzzerInitialize (int    *argc,
                      char ***argv)
{
  g_autoptr(GError) error = NULL;

  scratch = g_dir_make_tmp ("fuzz-tar-files-XXXXXX", &error);
  g_assert_no_error (error);
  /* Anything written relative to the working directory lands where it is seen. */
  g_assert (chdir (scratch) == 0);
  atexit (remove_scratch);
  return 0;
}

static LlmsbxTarChoice
accept_plots (const char *path,
              gpointer    user_data)
{
  guint *refused = user_data;

  g_assert (path != NULL);
  if (g_str_has_suffix (path, ".png"))
    return LLMSBX_TAR_TAKE;
  if (g_str_has_suffix (path, ".bad"))
    {
      (*refused)++;
      return LLMSBX_TAR_REFUSE;
    }
  return LLMSBX_TAR_SKIP;
}

static void
check_relative (const char *path)
{
  g_auto(GStrv) parts = g_strsplit (path, "/", -1);

  g_assert (path[0] != '\0' && path[0] != '/');
  for (guint i = 0; parts[i] != NULL; i++)
    {
      g_assert (!g_str_equal (parts[i], ".."));
      g_assert (!g_str_equal (parts[i], "."));
    }
}

int
LLVMFuzzerTestOneInput (const guint8 *data,
                        size_t        size)
{
  g_autoptr(GBytes) archive = NULL;
  g_autoptr(GPtrArray) files = NULL;
  g_autoptr(GDir) dir = NULL;
  guint max_files, refused = 0;
  guint64 max_bytes, bytes = 0;
  gboolean dropped = FALSE;

  if (size == 0 || size > MAX_FUZZ_INPUT)
    return 0;

  max_files = data[0] & 0x0f;
  max_bytes = (data[0] >> 4) == 0 ? 0 : G_GUINT64_CONSTANT (1) << ((data[0] >> 4) + 4);
  archive = g_bytes_new (data + 1, size - 1);

  files = llmsbx_tar_read_files (archive, accept_plots, &refused, max_files, max_bytes, &dropped);
  g_assert (files != NULL);
  g_assert_cmpuint (files->len, <=, max_files);

  for (guint i = 0; i < files->len; i++)
    {
      LlmsbxTarFile *file = g_ptr_array_index (files, i);

      g_assert (file->path != NULL && file->content != NULL);
      check_relative (file->path);
      g_assert (g_str_has_suffix (file->path, ".png"));
      bytes += g_bytes_get_size (file->content);
      if (i > 0)
        {
          LlmsbxTarFile *previous = g_ptr_array_index (files, i - 1);

          g_assert_cmpint (strcmp (previous->path, file->path), <, 0);
        }
    }
  g_assert_cmpuint (bytes, <=, max_bytes);
  /* A refused entry is reported as dropped. */
  if (refused > 0)
    g_assert (dropped);

  dir = g_dir_open (scratch, 0, NULL);
  g_assert (dir != NULL);
  g_assert (g_dir_read_name (dir) == NULL);
  return 0;
}
