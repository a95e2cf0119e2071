/* test-archive-spool.c: archives from a sandbox wait on disk, bounded and
 * sparse, and are unpacked from there.
 *
 * The spool turns blocks of zeros back into holes, refuses to grow past its
 * limit with an error naming copy-limit, and creates nothing for a copy that
 * may still fail; llmsbx_tar_extract_fd() unpacks from it, keeping files
 * sparse. The packer refuses archives past its limit the same way. */
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <llmsbx.h>

#include "llmsbx-archive-spool-private.h"

#define SPARSE_SIZE (64 << 20)

static char *
make_root (void)
{
  g_autoptr(GError) error = NULL;
  char *root = g_dir_make_tmp ("llmsbx-spool-XXXXXX", &error);

  g_assert_no_error (error);
  return root;
}

static void
remove_tree (const char *root)
{
  g_autoptr(GSubprocess) rm = g_subprocess_new (G_SUBPROCESS_FLAGS_NONE, NULL, "rm", "-rf", root, NULL);

  g_subprocess_wait (rm, NULL, NULL);
}

/* A 64 MiB file of holes with "data" at 32 MiB. */
static char *
make_sparse_file (const char *root)
{
  g_autofree char *path = g_build_filename (root, "sparse.img", NULL);
  int fd = g_open (path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

  g_assert_cmpint (fd, >=, 0);
  g_assert_no_errno (ftruncate (fd, SPARSE_SIZE));
  g_assert_cmpint (pwrite (fd, "data", 4, 32 << 20), ==, 4);
  close (fd);
  return g_steal_pointer (&path);
}

static void
test_sparse_round_trip (void)
{
  g_autofree char *root = make_root ();
  g_autofree char *src = make_sparse_file (root);
  g_autofree char *dest = g_build_filename (root, "out", "copy.img", NULL);
  g_autofree char *dest_dir = g_path_get_dirname (dest);
  g_autoptr(GBytes) archive = NULL;
  g_autoptr(LlmsbxArchiveSpool) spool = NULL;
  g_autoptr(GError) error = NULL;
  const guint8 *data;
  gsize size, offset = 0;
  char word[5] = "";
  struct stat st;
  int fd;

  archive = llmsbx_tar_pack_path (src, "copy.img", 0, &error);
  g_assert_no_error (error);
  data = g_bytes_get_data (archive, &size);

  spool = llmsbx_archive_spool_new (dest, "/sandbox/copy.img", 0, &error);
  g_assert_no_error (error);
  /* Pieces of odd sizes, as they come off a connection. */
  while (offset < size)
    {
      gsize n = MIN (size - offset, 1000 + offset % 7777);

      g_assert_true (g_output_stream_write_all (G_OUTPUT_STREAM (spool), data + offset, n, NULL, NULL, &error));
      g_assert_no_error (error);
      offset += n;
    }
  g_assert_true (g_output_stream_close (G_OUTPUT_STREAM (spool), NULL, &error));
  g_assert_no_error (error);

  /* The spool holds the whole archive in a few blocks, under no name. */
  g_assert_no_errno (fstat (llmsbx_archive_spool_get_fd (spool), &st));
  g_assert_cmpuint ((gsize) st.st_size, ==, size);
  g_assert_cmpuint ((gsize) st.st_blocks * 512, <, 1 << 20);
  g_assert_false (g_file_test (dest_dir, G_FILE_TEST_EXISTS));

  g_assert_true (llmsbx_tar_extract_fd (llmsbx_archive_spool_get_fd (spool), dest, &error));
  g_assert_no_error (error);
  g_assert_no_errno (g_stat (dest, &st));
  g_assert_cmpuint ((gsize) st.st_size, ==, SPARSE_SIZE);
  g_assert_cmpuint ((gsize) st.st_blocks * 512, <, 1 << 20);
  fd = g_open (dest, O_RDONLY, 0);
  g_assert_cmpint (pread (fd, word, 4, 32 << 20), ==, 4);
  close (fd);
  g_assert_cmpstr (word, ==, "data");

  remove_tree (root);
}

static void
test_spool_limit (void)
{
  g_autofree char *root = make_root ();
  g_autofree char *dest = g_build_filename (root, "x", NULL);
  g_autoptr(LlmsbxArchiveSpool) spool = NULL;
  g_autoptr(GError) error = NULL;
  guint8 block[600] = { 1 };

  spool = llmsbx_archive_spool_new (dest, "/sandbox/x", 1000, &error);
  g_assert_no_error (error);
  g_assert_true (g_output_stream_write_all (G_OUTPUT_STREAM (spool), block, sizeof block, NULL, NULL, &error));
  g_assert_false (g_output_stream_write_all (G_OUTPUT_STREAM (spool), block, sizeof block, NULL, NULL, &error));
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_LIMIT_EXCEEDED);
  g_assert_nonnull (strstr (error->message, "/sandbox/x"));
  g_assert_nonnull (strstr (error->message, "copy-limit"));
  g_clear_object (&spool);
  g_assert_false (g_file_test (dest, G_FILE_TEST_EXISTS));

  remove_tree (root);
}

static void
test_pack_limit (void)
{
  g_autofree char *root = make_root ();
  g_autofree char *src = make_sparse_file (root);
  g_autoptr(GBytes) archive = NULL;
  g_autoptr(GError) error = NULL;

  archive = llmsbx_tar_pack_path (src, "big", 1 << 20, &error);
  g_assert_null (archive);
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_LIMIT_EXCEEDED);
  g_assert_nonnull (strstr (error->message, "copy-limit"));

  remove_tree (root);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/archive-spool/sparse-round-trip", test_sparse_round_trip);
  g_test_add_func ("/archive-spool/limit", test_spool_limit);
  g_test_add_func ("/archive-spool/pack-limit", test_pack_limit);

  return g_test_run ();
}
