/* test-copies.c: copies into and out of a sandbox never lose data and cost
 * bounded memory.
 *
 * Into the sandbox: a file copied to an existing directory goes inside it,
 * as with cp, however the directory is written (`data`, `data/`, `data/.`,
 * `.`), and nothing is ever replaced by something of another kind (engines
 * would replace a directory, with all it holds, by the file). Out of the
 * sandbox: archives stream to disk, so a large file costs the client no
 * memory, sparse files stay sparse, and copy-limit bounds a copy with an
 * error that names it. */
#include <fcntl.h>
#include <glib/gstdio.h>
#include <sys/stat.h>

#include "isolated-test.h"

/* ---------------------------------------------------------------------------
 * Helpers
 * ------------------------------------------------------------------------ */

/* The most memory this process has held so far (VmHWM), in KiB. */
static gsize
peak_rss_kib (void)
{
  g_autofree char *status = NULL;
  g_autoptr(GError) error = NULL;
  const char *line;

  g_file_get_contents ("/proc/self/status", &status, NULL, &error);
  g_assert_no_error (error);
  line = strstr (status, "\nVmHWM:");
  g_assert_nonnull (line);
  return (gsize) g_ascii_strtoull (line + strlen ("\nVmHWM:"), NULL, 10);
}

static char *
host_file (const char *dir,
           const char *name,
           const char *contents)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autoptr(GError) error = NULL;

  g_file_set_contents (path, contents, -1, &error);
  g_assert_no_error (error);
  return g_steal_pointer (&path);
}

static void
copy_in (LlmsbxSandboxSession *session,
         const char           *src,
         const char           *dest)
{
  g_autoptr(GError) error = NULL;

  llmsbx_sandbox_session_copy_to_runtime (session, src, dest, NULL, &error);
  g_assert_no_error (error);
}

/* `find` of a sandbox directory: "type path content" lines, sorted. */
static char *
listing (LlmsbxSandboxSession *session,
         const char           *dir)
{
  g_autofree char *command = g_strdup_printf (
    "cd %s && find . -mindepth 1 | sort | while read -r p; do "
    "if [ -d \"$p\" ]; then echo \"d $p\"; else echo \"f $p $(cat \"$p\")\"; fi; done", dir);

  return g_strstrip (test_sh (session, command));
}

/* ---------------------------------------------------------------------------
 * Into the sandbox
 * ------------------------------------------------------------------------ */

/* Every way of naming an existing directory puts the file inside it; the
 * directory's own files stay. */
static void
test_file_into_existing_directory (void)
{
  g_autoptr(LlmsbxSandboxSession) session = NULL;
  g_autofree char *dir = test_host_dir ("llmsbx-copies");
  g_autofree char *file = host_file (dir, "notes.txt", "new");
  g_autofree char *data = NULL;
  g_autofree char *ran = NULL;
  g_autofree char *workdir = NULL;
  static const char * const dests[] = { "/sandbox/data", "/sandbox/data/", "/sandbox/data/.", "data", "data/" };

  session = test_open_session ("\"network_mode\": \"none\"", NULL);
  g_free (test_sh (session, "mkdir -p /sandbox/data && echo keep > /sandbox/data/old"));

  for (guint i = 0; i < G_N_ELEMENTS (dests); i++)
    {
      g_autofree char *seen = NULL;

      g_free (test_sh (session, "rm -f /sandbox/data/notes.txt"));
      copy_in (session, file, dests[i]);
      seen = listing (session, "/sandbox/data");
      g_assert_cmpstr (seen, ==, "f ./notes.txt new\nf ./old keep");
    }

  /* The workdir itself, named ".": the file goes in, the workdir stays one. */
  copy_in (session, file, ".");
  workdir = g_strstrip (test_sh (session, "[ -d /sandbox ] && cat /sandbox/notes.txt"));
  g_assert_cmpstr (workdir, ==, "new");
  ran = test_run (session, "print(open('notes.txt').read())");
  g_assert_cmpstr (ran, ==, "new\n");

  /* A directory written as one that does not exist yet is made. */
  copy_in (session, file, "/sandbox/fresh/");
  data = listing (session, "/sandbox/fresh");
  g_assert_cmpstr (data, ==, "f ./notes.txt new");
  test_close (session);
}

/* Plain cases keep working: a new name, a file over a file, a tree merged
 * into an existing directory. */
static void
test_names_and_merges (void)
{
  g_autoptr(LlmsbxSandboxSession) session = NULL;
  g_autofree char *dir = test_host_dir ("llmsbx-copies");
  g_autofree char *file = host_file (dir, "notes.txt", "new");
  g_autofree char *tree = g_build_filename (dir, "tree", NULL);
  g_autofree char *sub = g_build_filename (tree, "sub", NULL);
  g_autofree char *leaf = NULL;
  g_autofree char *renamed = NULL;
  g_autofree char *replaced = NULL;
  g_autofree char *merged = NULL;

  g_assert_cmpint (g_mkdir_with_parents (sub, 0755), ==, 0);
  leaf = host_file (sub, "leaf", "from host");
  session = test_open_session ("\"network_mode\": \"none\"", NULL);

  copy_in (session, file, "/sandbox/renamed.txt");
  renamed = g_strstrip (test_sh (session, "cat /sandbox/renamed.txt"));
  g_assert_cmpstr (renamed, ==, "new");

  g_free (test_sh (session, "echo old > /sandbox/over.txt"));
  copy_in (session, file, "over.txt");
  replaced = g_strstrip (test_sh (session, "cat /sandbox/over.txt"));
  g_assert_cmpstr (replaced, ==, "new");

  g_free (test_sh (session, "mkdir -p /sandbox/merge/sub && echo kept > /sandbox/merge/sub/mine"));
  copy_in (session, tree, "/sandbox/merge");
  merged = listing (session, "/sandbox/merge");
  g_assert_cmpstr (merged, ==, "d ./sub\nf ./sub/leaf from host\nf ./sub/mine kept");
  test_close (session);
}

/* What would need something replaced by another kind is refused, and
 * nothing in the sandbox changes. */
static void
test_nothing_replaced (void)
{
  g_autoptr(LlmsbxSandboxSession) session = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = test_host_dir ("llmsbx-copies");
  g_autofree char *file = host_file (dir, "notes.txt", "new");
  g_autofree char *tree = g_build_filename (dir, "tree", NULL);
  g_autofree char *inner = NULL;
  g_autofree char *after = NULL;

  g_assert_cmpint (g_mkdir_with_parents (tree, 0755), ==, 0);
  g_free (host_file (tree, "x", "x"));
  session = test_open_session ("\"network_mode\": \"none\"", NULL);
  g_free (test_sh (session, "mkdir -p /sandbox/data/notes.txt && echo keep > /sandbox/data/notes.txt/inner "
                            "&& echo plain > /sandbox/plain"));

  /* The file would go into data/, where notes.txt is a directory. */
  g_assert_false (llmsbx_sandbox_session_copy_to_runtime (session, file, "/sandbox/data", NULL, &error));
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT);
  g_test_message ("%s", error->message);
  g_clear_error (&error);

  /* A directory onto a file. */
  g_assert_false (llmsbx_sandbox_session_copy_to_runtime (session, tree, "/sandbox/plain", NULL, &error));
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  inner = g_strstrip (test_sh (session, "cat /sandbox/data/notes.txt/inner"));
  g_assert_cmpstr (inner, ==, "keep");
  after = g_strstrip (test_sh (session, "cat /sandbox/plain"));
  g_assert_cmpstr (after, ==, "plain");
  test_close (session);
}

/* ---------------------------------------------------------------------------
 * Out of the sandbox
 * ------------------------------------------------------------------------ */

/* A 4.06 GiB sparse file (past 4 GiB, where a buffered archive cannot go)
 * comes out with the client's peak memory unchanged, sparse, and with its
 * data. */
static void
test_large_sparse_file_out (void)
{
  g_autoptr(LlmsbxSandboxSession) session = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = test_host_dir ("llmsbx-copies");
  g_autofree char *dest = g_build_filename (dir, "out", "big.img", NULL);
  g_autofree char *tail = NULL;
  g_autofree char *contents = NULL;
  guint64 size = G_GUINT64_CONSTANT (4160) << 20;
  GStatBuf st;
  int fd;
  gsize before, after;

  session = test_open_session ("\"network_mode\": \"none\"", "copy-limit", (guint64) 0, NULL);
  g_free (test_sh (session, "truncate -s 4160M /sandbox/big.img && printf middle | dd of=/sandbox/big.img "
                            "bs=1 seek=2147483648 conv=notrunc 2>/dev/null && printf end >> /sandbox/big.img"));
  before = peak_rss_kib ();
  llmsbx_sandbox_session_copy_from_runtime (session, "big.img", dest, NULL, &error);
  g_assert_no_error (error);
  after = peak_rss_kib ();
  g_test_message ("peak RSS %" G_GSIZE_FORMAT " KiB before, %" G_GSIZE_FORMAT " KiB after", before, after);
  g_assert_cmpuint (after, <, before + 32 * 1024);

  g_assert_cmpint (g_stat (dest, &st), ==, 0);
  g_assert_cmpuint ((guint64) st.st_size, ==, size + 3);
  /* Sparse: a few blocks of data, not 4 GiB of zeros. */
  g_assert_cmpuint ((guint64) st.st_blocks * 512, <, 16 << 20);

  fd = g_open (dest, O_RDONLY, 0);
  g_assert_cmpint (fd, >=, 0);
  contents = g_malloc0 (7);
  g_assert_cmpint (pread (fd, contents, 6, G_GINT64_CONSTANT (2147483648)), ==, 6);
  g_assert_cmpstr (contents, ==, "middle");
  tail = g_malloc0 (4);
  g_assert_cmpint (pread (fd, tail, 3, (off_t) size), ==, 3);
  g_assert_cmpstr (tail, ==, "end");
  close (fd);

  /* The archive waited in a file without a name: nothing else is left. */
  {
    g_autofree char *out_dir = g_path_get_dirname (dest);
    g_autoptr(GDir) entries = g_dir_open (out_dir, 0, &error);

    g_assert_no_error (error);
    g_assert_cmpstr (g_dir_read_name (entries), ==, "big.img");
    g_assert_null (g_dir_read_name (entries));
  }
  g_free (test_sh (session, "rm -f /sandbox/big.img"));
  test_close (session);
}

/* copy-limit bounds a copy in both directions, with an error that names it;
 * a refused copy out writes nothing at the destination. */
static void
test_copy_limit (void)
{
  g_autoptr(LlmsbxSandboxSession) session = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = test_host_dir ("llmsbx-copies");
  g_autofree char *dest = g_build_filename (dir, "new", "data.bin", NULL);
  g_autofree char *parent = g_path_get_dirname (dest);
  g_autofree char *small = g_build_filename (dir, "small.bin", NULL);
  g_autofree char *large = host_file (dir, "large.bin", "");
  g_autofree char *back = NULL;

  session = test_open_session ("\"network_mode\": \"none\"", "copy-limit", (guint64) 1 << 20, NULL);
  g_free (test_sh (session, "head -c 3000000 /dev/urandom > /sandbox/data.bin && head -c 1000 /dev/zero > /sandbox/small.bin"));

  g_assert_false (llmsbx_sandbox_session_copy_from_runtime (session, "data.bin", dest, NULL, &error));
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_LIMIT_EXCEEDED);
  /* GLib puts a no-break space between number and unit. */
  g_assert_nonnull (strstr (error->message, "copy-limit of 1.0\u00a0MiB"));
  g_clear_error (&error);
  g_assert_false (g_file_test (parent, G_FILE_TEST_EXISTS));

  /* Under the limit, it copies. */
  llmsbx_sandbox_session_copy_from_runtime (session, "small.bin", small, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (g_file_test (small, G_FILE_TEST_IS_REGULAR));

  /* Into the sandbox too. */
  {
    g_autofree char *noise = g_malloc (3 << 20);

    for (gsize i = 0; i < 3 << 20; i++)
      noise[i] = (char) g_random_int ();
    g_file_set_contents (large, noise, 3 << 20, &error);
    g_assert_no_error (error);
  }
  g_assert_false (llmsbx_sandbox_session_copy_to_runtime (session, large, "large.bin", NULL, &error));
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_LIMIT_EXCEEDED);
  g_assert_nonnull (strstr (error->message, "copy-limit"));
  back = g_strstrip (test_sh (session, "ls /sandbox"));
  g_assert_null (strstr (back, "large.bin"));
  test_close (session);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
  backend_test_prepare ();
  test_run_id ();

  test_add_isolated ("/copies/file-into-existing-directory", test_file_into_existing_directory);
  test_add_isolated ("/copies/names-and-merges", test_names_and_merges);
  test_add_isolated ("/copies/nothing-replaced", test_nothing_replaced);
  test_add_isolated ("/copies/large-sparse-file-out", test_large_sparse_file_out);
  test_add_isolated ("/copies/copy-limit", test_copy_limit);

  return g_test_run ();
}
