/* fuzz-tar.c: a libFuzzer target for the tar reader (libllmsbx/llmsbx-tar.c)
 * that unpacks what a sandbox hands back from copy_from_runtime().
 *
 * Each input is an archive, extracted into a fresh destination inside a
 * scratch directory that holds a sentinel beside it. The first byte says
 * whether the destination exists already (as an empty directory). Besides
 * ASan's checks, each run asserts the reader's promises: nothing is written
 * outside the destination (the sentinel and its directory stay as they were,
 * and the working directory, the scratch directory itself, gains nothing),
 * no link of any kind and no device is ever created, and a refused archive
 * leaves nothing behind. */
#define _GNU_SOURCE
#include <errno.h>
#include <ftw.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <llmsbx.h>


#define MAX_FUZZ_INPUT (1024 * 1024)
#define SENTINEL_TEXT "the sandbox must never reach this"

static char *scratch;      /* the working directory too */
static char *outside_dir;  /* scratch/outside, holding the sentinel */
static char *sentinel;
static char *dest;         /* scratch/dest */

int LLVMFuzzerInitialize (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

static void remove_tree (const char *path);

/* libFuzzer ends the process with exit(): the scratch directory goes then. */
static void
remove_scratch (void)
{
  if (chdir ("/") == 0)
    remove_tree (scratch);
}

int
LLVMFuzzerInitialize (int    *argc,
                      char ***argv)
{
  g_autoptr(GError) error = NULL;

  scratch = g_dir_make_tmp ("fuzz-tar-XXXXXX", &error);
  g_assert_no_error (error);
  outside_dir = g_build_filename (scratch, "outside", NULL);
  sentinel = g_build_filename (outside_dir, "sentinel", NULL);
  dest = g_build_filename (scratch, "dest", NULL);
  g_assert (g_mkdir (outside_dir, 0755) == 0);
  g_file_set_contents (sentinel, SENTINEL_TEXT, -1, &error);
  g_assert_no_error (error);
  /* Anything written relative to the working directory lands where it is seen. */
  g_assert (chdir (scratch) == 0);
  atexit (remove_scratch);
  return 0;
}

/* Directories the archive made unwritable must still be emptied. */
static int
open_up (const char        *path,
         const struct stat *st,
         int                flag,
         struct FTW        *ftw)
{
  if (flag == FTW_D)
    chmod (path, 0700);
  return 0;
}

static int
remove_one (const char        *path,
            const struct stat *st,
            int                flag,
            struct FTW        *ftw)
{
  g_assert (remove (path) == 0 || errno == ENOENT);
  return 0;
}

/* What the extraction created must be plain files and directories. */
static int
check_one (const char        *path,
           const struct stat *st,
           int                flag,
           struct FTW        *ftw)
{
  g_assert (flag == FTW_F || flag == FTW_D || flag == FTW_DP);
  g_assert (S_ISREG (st->st_mode) || S_ISDIR (st->st_mode));
  g_assert (!S_ISREG (st->st_mode) || st->st_nlink == 1);
  return 0;
}

static void
remove_tree (const char *path)
{
  struct stat st;

  if (lstat (path, &st) != 0)
    return;
  nftw (path, open_up, 16, FTW_PHYS);
  nftw (path, remove_one, 16, FTW_PHYS | FTW_DEPTH);
}

/* The scratch directory holds "outside" and at most "dest", nothing else. */
static void
check_scratch (void)
{
  g_autoptr(GDir) dir = g_dir_open (scratch, 0, NULL);
  g_autoptr(GDir) outside = g_dir_open (outside_dir, 0, NULL);
  g_autofree char *text = NULL;
  const char *name;
  struct stat st;

  g_assert (dir != NULL && outside != NULL);
  while ((name = g_dir_read_name (dir)) != NULL)
    g_assert (g_str_equal (name, "outside") || g_str_equal (name, "dest"));
  while ((name = g_dir_read_name (outside)) != NULL)
    g_assert (g_str_equal (name, "sentinel"));
  g_assert (lstat (sentinel, &st) == 0 && S_ISREG (st.st_mode));
  g_assert (g_file_get_contents (sentinel, &text, NULL, NULL));
  g_assert (g_str_equal (text, SENTINEL_TEXT));
}

int
LLVMFuzzerTestOneInput (const guint8 *data,
                        size_t        size)
{
  g_autoptr(GBytes) archive = NULL;
  g_autoptr(GError) error = NULL;
  gboolean existed, ok;
  struct stat st;

  if (size == 0 || size > MAX_FUZZ_INPUT)
    return 0;

  existed = (data[0] & 1) != 0;
  if (existed)
    g_assert (g_mkdir (dest, 0755) == 0);
  archive = g_bytes_new (data + 1, size - 1);

  ok = llmsbx_tar_extract (archive, dest, &error);
  if (ok)
    g_assert (error == NULL);
  else
    {
      g_assert (error != NULL && error->domain == LLMSBX_ERROR);
      g_assert (g_utf8_validate (error->message, -1, NULL));
      g_assert (error->code == LLMSBX_ERROR_PATH_TRAVERSAL || error->code == LLMSBX_ERROR_PROTOCOL ||
                error->code == LLMSBX_ERROR_FILE_NOT_FOUND || error->code == LLMSBX_ERROR_INVALID_ARGUMENT ||
                error->code == LLMSBX_ERROR_FAILED);
      /* Refusals come from the check before anything is written. */
      if (!existed && error->code != LLMSBX_ERROR_FAILED)
        g_assert (lstat (dest, &st) != 0 && errno == ENOENT);
    }

  check_scratch ();
  if (lstat (dest, &st) == 0)
    g_assert (nftw (dest, check_one, 16, FTW_PHYS) == 0);
  remove_tree (dest);
  return 0;
}
