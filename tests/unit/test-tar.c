/* test-tar.c: packing host files, extracting sandbox archives safely, and
 * container path checks. Hostile archives are built here with libarchive. */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <glib/gstdio.h>

#include <llmsbx.h>
#include "llmsbx-tar-private.h"

#define HARDLINK ((mode_t) 1)  /* TestEntry.type of a hard link entry */

typedef struct
{
  const char *name;
  mode_t type;          /* AE_IF* or HARDLINK */
  const char *content;  /* regular files */
  const char *link;     /* symbolic and hard links */
} TestEntry;

/* Helpers */

static char *
make_root (void)
{
  /* Inside the per-test directory that G_TEST_OPTION_ISOLATE_DIRS removes. */
  char *root = g_build_filename (g_get_user_cache_dir (), "tar", NULL);

  g_assert_no_errno (g_mkdir_with_parents (root, 0755));
  return root;
}

static void
write_file (const char   *path,
            const void   *data,
            gsize         len,
            int           mode)
{
  g_autoptr(GError) error = NULL;

  g_file_set_contents (path, data, len, &error);
  g_assert_no_error (error);
  g_assert_no_errno (g_chmod (path, mode));
}

static void
assert_file (const char *path,
             const void *data,
             gsize       len,
             int         mode)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *contents = NULL;
  gsize contents_len;
  struct stat st;

  g_assert_no_errno (lstat (path, &st));
  g_assert_true (S_ISREG (st.st_mode));
  g_assert_cmpint (st.st_mode & 0777, ==, mode);
  g_file_get_contents (path, &contents, &contents_len, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (contents, contents_len, data, len);
}

static gboolean
exists (const char *path)
{
  struct stat st;

  return lstat (path, &st) == 0;
}

static int
compare_names (gconstpointer a,
               gconstpointer b)
{
  return strcmp (*(const char **) a, *(const char **) b);
}

/* Every path below @dir with its type and mode, for "nothing changed" checks. */
static void
snapshot_into (GString    *out,
               const char *dir,
               const char *prefix)
{
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  const char *name;

  if (d == NULL)
    return;
  while ((name = g_dir_read_name (d)) != NULL)
    g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_sort (names, compare_names);

  for (guint i = 0; i < names->len; i++)
    {
      g_autofree char *path = g_build_filename (dir, names->pdata[i], NULL);
      g_autofree char *rel = g_strconcat (prefix, "/", names->pdata[i], NULL);
      struct stat st;

      g_assert_no_errno (lstat (path, &st));
      g_string_append_printf (out, "%s %o %" G_GINT64_FORMAT "\n", rel, st.st_mode, (gint64) st.st_size);
      if (S_ISDIR (st.st_mode))
        snapshot_into (out, path, rel);
    }
}

static char *
snapshot (const char *dir)
{
  GString *out = g_string_new (NULL);

  snapshot_into (out, dir, "");
  return g_string_free (out, FALSE);
}

static GBytes *
build_archive (const TestEntry *entries,
               guint            n_entries)
{
  struct archive *a = archive_write_new ();
  size_t size = 64 * 1024;
  guint8 *buffer = g_malloc0 (size);
  size_t used = 0;

  g_assert_cmpint (archive_write_set_format_pax_restricted (a), ==, ARCHIVE_OK);
  g_assert_cmpint (archive_write_open_memory (a, buffer, size, &used), ==, ARCHIVE_OK);

  for (guint i = 0; i < n_entries; i++)
    {
      struct archive_entry *entry = archive_entry_new ();
      const TestEntry *t = &entries[i];

      archive_entry_set_pathname (entry, t->name);
      archive_entry_set_mtime (entry, 1700000000, 0);
      if (t->type == HARDLINK)
        {
          archive_entry_set_filetype (entry, AE_IFREG);
          archive_entry_set_hardlink (entry, t->link);
          archive_entry_set_perm (entry, 0644);
        }
      else
        {
          archive_entry_set_filetype (entry, t->type);
          archive_entry_set_perm (entry, t->type == AE_IFDIR ? 0755 : 0644);
        }
      if (t->type == AE_IFLNK)
        archive_entry_set_symlink (entry, t->link);
      if (t->type == AE_IFCHR)
        archive_entry_set_rdev (entry, makedev (1, 3));
      if (t->type == AE_IFREG)
        archive_entry_set_size (entry, t->content ? strlen (t->content) : 0);

      g_assert_cmpint (archive_write_header (a, entry), ==, ARCHIVE_OK);
      if (t->type == AE_IFREG && t->content != NULL)
        g_assert_cmpint (archive_write_data (a, t->content, strlen (t->content)), ==, strlen (t->content));
      archive_entry_free (entry);
    }

  g_assert_cmpint (archive_write_close (a), ==, ARCHIVE_OK);
  archive_write_free (a);
  return g_bytes_new_take (buffer, used);
}

typedef struct
{
  char *name;
  mode_t type;
  mode_t perm;
  gint64 uid;
  gint64 gid;
  char *symlink;
  GBytes *data;
} ListedEntry;

static void
listed_entry_free (gpointer p)
{
  ListedEntry *e = p;

  g_free (e->name);
  g_free (e->symlink);
  g_bytes_unref (e->data);
  g_free (e);
}

static GPtrArray *
list_archive (GBytes *bytes)
{
  GPtrArray *list = g_ptr_array_new_with_free_func (listed_entry_free);
  struct archive *a = archive_read_new ();
  struct archive_entry *entry;
  gsize len;
  const void *data = g_bytes_get_data (bytes, &len);

  archive_read_support_format_tar (a);
  g_assert_cmpint (archive_read_open_memory (a, data, len), ==, ARCHIVE_OK);
  while (archive_read_next_header (a, &entry) == ARCHIVE_OK)
    {
      ListedEntry *e = g_new0 (ListedEntry, 1);
      GByteArray *contents = g_byte_array_new ();
      guint8 buf[4096];
      la_ssize_t n;

      e->name = g_strdup (archive_entry_pathname (entry));
      e->type = archive_entry_filetype (entry);
      e->perm = archive_entry_perm (entry);
      e->uid = archive_entry_uid (entry);
      e->gid = archive_entry_gid (entry);
      e->symlink = g_strdup (archive_entry_symlink (entry));
      while ((n = archive_read_data (a, buf, sizeof buf)) > 0)
        g_byte_array_append (contents, buf, n);
      g_assert_cmpint (n, ==, 0);
      e->data = g_byte_array_free_to_bytes (contents);
      g_ptr_array_add (list, e);
    }
  archive_read_free (a);
  return list;
}

static ListedEntry *
find_listed (GPtrArray  *list,
             const char *name)
{
  for (guint i = 0; i < list->len; i++)
    {
      ListedEntry *e = list->pdata[i];

      if (g_strcmp0 (e->name, name) == 0)
        return e;
    }
  g_error ("no entry “%s” in the archive", name);
}

/* Round trips */

static void
test_pack_extract_file (void)
{
  g_autofree char *root = make_root ();
  g_autofree char *src = g_build_filename (root, "data.bin", NULL);
  g_autofree char *dest = g_build_filename (root, "out", "deeper", "copy.bin", NULL);
  g_autoptr(GBytes) archive = NULL;
  g_autoptr(GPtrArray) list = NULL;
  g_autoptr(GError) error = NULL;
  guint8 binary[512];
  ListedEntry *e;

  for (guint i = 0; i < sizeof binary; i++)
    binary[i] = i % 256;  /* every byte value, NULs included */
  write_file (src, binary, sizeof binary, 0750);

  archive = llmsbx_tar_pack_path (src, "renamed.bin", 0, &error);
  g_assert_no_error (error);

  list = list_archive (archive);
  g_assert_cmpuint (list->len, ==, 1);
  e = find_listed (list, "renamed.bin");
  g_assert_cmpuint (e->type, ==, AE_IFREG);
  g_assert_cmpuint (e->perm, ==, 0750);
  g_assert_cmpint (e->uid, ==, 0);
  g_assert_cmpint (e->gid, ==, 0);
  g_assert_cmpmem (g_bytes_get_data (e->data, NULL), g_bytes_get_size (e->data), binary, sizeof binary);

  /* Missing parents of the destination are created. */
  g_assert_true (llmsbx_tar_extract (archive, dest, &error));
  g_assert_no_error (error);
  assert_file (dest, binary, sizeof binary, 0750);

  /* Extracting again overwrites the file. */
  write_file (dest, "old", 3, 0644);
  g_assert_true (llmsbx_tar_extract (archive, dest, &error));
  g_assert_no_error (error);
  assert_file (dest, binary, sizeof binary, 0750);
}

static void
test_pack_extract_empty_file (void)
{
  g_autofree char *root = make_root ();
  g_autofree char *src = g_build_filename (root, "empty", NULL);
  g_autofree char *dest = g_build_filename (root, "empty-copy", NULL);
  g_autoptr(GBytes) archive = NULL;
  g_autoptr(GError) error = NULL;

  write_file (src, "", 0, 0644);
  archive = llmsbx_tar_pack_path (src, "empty", 0, &error);
  g_assert_no_error (error);
  g_assert_true (llmsbx_tar_extract (archive, dest, &error));
  g_assert_no_error (error);
  assert_file (dest, "", 0, 0644);
}

static void
make_tree (const char *top)
{
  g_autofree char *src_dir = g_build_filename (top, "src", "pkg", NULL);
  g_autofree char *empty_dir = g_build_filename (top, "empty-dir", NULL);
  g_autofree char *private_dir = g_build_filename (top, "private", NULL);
  g_autofree char *script = g_build_filename (top, "run.sh", NULL);
  g_autofree char *empty = g_build_filename (top, "src", "empty.txt", NULL);
  g_autofree char *module = g_build_filename (src_dir, "mod.py", NULL);
  g_autofree char *secret = g_build_filename (private_dir, "key", NULL);
  g_autofree char *big = g_build_filename (top, "big.bin", NULL);
  g_autofree char *unicode = g_build_filename (top, "donn\xc3\xa9" "es.txt", NULL);
  g_autofree char *link = g_build_filename (src_dir, "link-to-mod", NULL);
  g_autoptr(GRand) rand = g_rand_new_with_seed (42);
  gsize big_len = 3 * 1024 * 1024 + 17;  /* several copy chunks and a tail */
  g_autofree guint32 *big_data = g_new (guint32, big_len / 4 + 1);

  g_assert_no_errno (g_mkdir_with_parents (src_dir, 0755));
  g_assert_no_errno (g_mkdir_with_parents (empty_dir, 0755));
  g_assert_no_errno (g_mkdir_with_parents (private_dir, 0700));
  g_assert_no_errno (g_chmod (private_dir, 0700));
  write_file (script, "#!/bin/sh\necho hi\n", 18, 0755);
  write_file (empty, "", 0, 0644);
  write_file (module, "print(1)\n", 9, 0644);
  write_file (secret, "s\0cret", 6, 0600);
  write_file (unicode, "\xc3\xa9", 2, 0644);
  for (gsize i = 0; i < big_len / 4 + 1; i++)
    big_data[i] = g_rand_int (rand);
  write_file (big, big_data, big_len, 0644);
  g_assert_no_errno (symlink ("mod.py", link));
}

/* Compares two trees; symbolic links in @expected must be absent in @actual. */
static void
assert_same_tree (const char *expected,
                  const char *actual)
{
  g_autoptr(GDir) d = g_dir_open (expected, 0, NULL);
  const char *name;
  guint n_expected = 0;
  guint n_actual = 0;
  g_autoptr(GDir) a = NULL;

  g_assert_nonnull (d);
  while ((name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *e_path = g_build_filename (expected, name, NULL);
      g_autofree char *a_path = g_build_filename (actual, name, NULL);
      struct stat st;

      g_assert_no_errno (lstat (e_path, &st));
      if (S_ISLNK (st.st_mode))
        {
          g_assert_false (exists (a_path));
          continue;
        }
      n_expected++;
      if (S_ISDIR (st.st_mode))
        {
          struct stat a_st;

          g_assert_no_errno (lstat (a_path, &a_st));
          g_assert_true (S_ISDIR (a_st.st_mode));
          g_assert_cmpint (a_st.st_mode & 0777, ==, st.st_mode & 0777);
          assert_same_tree (e_path, a_path);
        }
      else
        {
          g_autofree char *contents = NULL;
          gsize len;

          g_assert_true (g_file_get_contents (e_path, &contents, &len, NULL));
          assert_file (a_path, contents, len, st.st_mode & 0777);
        }
    }

  a = g_dir_open (actual, 0, NULL);
  g_assert_nonnull (a);
  while (g_dir_read_name (a) != NULL)
    n_actual++;
  g_assert_cmpuint (n_actual, ==, n_expected);
}

static void
test_pack_extract_tree (void)
{
  g_autofree char *root = make_root ();
  g_autofree char *src = g_build_filename (root, "project", NULL);
  g_autofree char *dest = g_build_filename (root, "restored", NULL);
  g_autoptr(GBytes) archive = NULL;
  g_autoptr(GPtrArray) list = NULL;
  g_autoptr(GError) error = NULL;
  ListedEntry *e;

  make_tree (src);
  archive = llmsbx_tar_pack_path (src, "proj", 0, &error);
  g_assert_no_error (error);

  list = list_archive (archive);
  g_assert_cmpstr (((ListedEntry *) list->pdata[0])->name, ==, "proj/");
  for (guint i = 0; i < list->len; i++)
    {
      e = list->pdata[i];
      g_assert_true (g_str_has_prefix (e->name, "proj/"));
      g_assert_cmpint (e->uid, ==, 0);
      g_assert_cmpint (e->gid, ==, 0);
    }
  e = find_listed (list, "proj/src/pkg/link-to-mod");
  g_assert_cmpuint (e->type, ==, AE_IFLNK);
  g_assert_cmpstr (e->symlink, ==, "mod.py");
  e = find_listed (list, "proj/private/");
  g_assert_cmpuint (e->type, ==, AE_IFDIR);
  g_assert_cmpuint (e->perm, ==, 0700);
  e = find_listed (list, "proj/empty-dir/");
  g_assert_cmpuint (e->type, ==, AE_IFDIR);
  e = find_listed (list, "proj/run.sh");
  g_assert_cmpuint (e->perm, ==, 0755);

  g_assert_true (llmsbx_tar_extract (archive, dest, &error));
  g_assert_no_error (error);
  assert_same_tree (src, dest);

  /* Into an existing directory, the contents merge with what is there. */
  {
    g_autofree char *merged = g_build_filename (root, "merged", NULL);
    g_autofree char *kept = g_build_filename (merged, "kept.txt", NULL);

    g_assert_no_errno (g_mkdir (merged, 0755));
    write_file (kept, "keep", 4, 0644);
    g_assert_true (llmsbx_tar_extract (archive, merged, &error));
    g_assert_no_error (error);
    assert_file (kept, "keep", 4, 0644);
    g_assert_no_errno (g_unlink (kept));
    assert_same_tree (src, merged);
  }
}

static void
test_pack_errors (void)
{
  g_autofree char *root = make_root ();
  g_autofree char *missing = g_build_filename (root, "missing", NULL);
  g_autofree char *dir = g_build_filename (root, "with-fifo", NULL);
  g_autofree char *fifo = g_build_filename (dir, "pipe", NULL);
  g_autofree char *file = g_build_filename (root, "file", NULL);
  const char *bad_names[] = { "", "a/b", "..", "." };
  g_autoptr(GBytes) archive = NULL;
  g_autoptr(GError) error = NULL;

  archive = llmsbx_tar_pack_path (missing, "missing", 0, &error);
  g_assert_null (archive);
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_FILE_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, missing));
  g_clear_error (&error);

  /* A FIFO inside a directory, and a device as the source itself. */
  g_assert_no_errno (g_mkdir (dir, 0755));
  g_assert_no_errno (mkfifo (fifo, 0644));
  archive = llmsbx_tar_pack_path (dir, "with-fifo", 0, &error);
  g_assert_null (archive);
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, fifo));
  g_clear_error (&error);

  archive = llmsbx_tar_pack_path ("/dev/null", "null", 0, &error);
  g_assert_null (archive);
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "/dev/null"));
  g_clear_error (&error);

  write_file (file, "x", 1, 0644);
  for (guint i = 0; i < G_N_ELEMENTS (bad_names); i++)
    {
      archive = llmsbx_tar_pack_path (file, bad_names[i], 0, &error);
      g_assert_null (archive);
      g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT);
      g_clear_error (&error);
    }
}

/* A build context: the directory's entries at the root, sorted, links as
 * links, one extra file, and the same refusals and bound as copies. */
static void
test_pack_contents (void)
{
  g_autofree char *root = make_root ();
  g_autofree char *context = g_build_filename (root, "context", NULL);
  g_autofree char *sub = g_build_filename (context, "sub", NULL);
  g_autofree char *file = g_build_filename (context, "b.txt", NULL);
  g_autofree char *inner = g_build_filename (sub, "a.txt", NULL);
  g_autofree char *link = g_build_filename (context, "link", NULL);
  g_autofree char *fifo = g_build_filename (context, "pipe", NULL);
  g_autoptr(GBytes) extra = g_bytes_new_static ("FROM scratch\n", 13);
  g_autoptr(GBytes) archive = NULL;
  g_autoptr(GPtrArray) listed = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *big = g_malloc0 (256 * 1024);
  const char *expected[] = { "b.txt", "link", "sub/", "sub/a.txt", ".llmsbx.Dockerfile" };

  g_assert_no_errno (g_mkdir_with_parents (sub, 0755));
  write_file (file, "bee", 3, 0640);
  write_file (inner, "ay", 2, 0755);
  g_assert_no_errno (symlink ("b.txt", link));

  archive = llmsbx_tar_pack_contents (context, ".llmsbx.Dockerfile", extra, 0, &error);
  g_assert_no_error (error);
  listed = list_archive (archive);
  g_assert_cmpuint (listed->len, ==, G_N_ELEMENTS (expected));
  for (guint i = 0; i < listed->len; i++)
    g_assert_cmpstr (((ListedEntry *) listed->pdata[i])->name, ==, expected[i]);
  g_assert_cmpint (find_listed (listed, "b.txt")->perm, ==, 0640);
  g_assert_cmpint (find_listed (listed, "b.txt")->uid, ==, 0);
  g_assert_cmpstr (find_listed (listed, "link")->symlink, ==, "b.txt");
  g_assert_true (g_bytes_equal (find_listed (listed, ".llmsbx.Dockerfile")->data, extra));
  g_clear_pointer (&archive, g_bytes_unref);

  /* Without the extra file, and past a bound. */
  write_file (file, big, 256 * 1024, 0644);
  archive = llmsbx_tar_pack_contents (context, NULL, NULL, 64 * 1024, &error);
  g_assert_null (archive);
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_LIMIT_EXCEEDED);
  g_assert_nonnull (strstr (error->message, context));
  g_clear_error (&error);

  g_assert_no_errno (mkfifo (fifo, 0644));
  archive = llmsbx_tar_pack_contents (context, NULL, NULL, 0, &error);
  g_assert_null (archive);
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, fifo));
  g_clear_error (&error);

  archive = llmsbx_tar_pack_contents (context, "a/b", extra, 0, &error);
  g_assert_null (archive);
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT);
}

/* Archives as engines return them */

static void
test_extract_dot_top (void)
{
  /* GET archive of "/sandbox/." names entries "./" and "./main.py". */
  static const TestEntry entries[] = {
    { "./", AE_IFDIR, NULL, NULL },
    { "./main.py", AE_IFREG, "print(1)\n", NULL },
    { "./sub/./x", AE_IFREG, "x", NULL },
  };
  g_autofree char *root = make_root ();
  g_autofree char *dest = g_build_filename (root, "dot", NULL);
  g_autofree char *main_py = g_build_filename (dest, "main.py", NULL);
  g_autofree char *x = g_build_filename (dest, "sub", "x", NULL);
  g_autoptr(GBytes) archive = build_archive (entries, G_N_ELEMENTS (entries));
  g_autoptr(GError) error = NULL;

  g_assert_true (llmsbx_tar_extract (archive, dest, &error));
  g_assert_no_error (error);
  assert_file (main_py, "print(1)\n", 9, 0644);
  assert_file (x, "x", 1, 0644);
}

static void
test_extract_implied_top (void)
{
  static const TestEntry entries[] = {
    { "top/a/b.txt", AE_IFREG, "b", NULL },
  };
  g_autofree char *root = make_root ();
  g_autofree char *dest = g_build_filename (root, "implied", NULL);
  g_autofree char *b = g_build_filename (dest, "a", "b.txt", NULL);
  g_autoptr(GBytes) archive = build_archive (entries, G_N_ELEMENTS (entries));
  g_autoptr(GError) error = NULL;

  g_assert_true (llmsbx_tar_extract (archive, dest, &error));
  g_assert_no_error (error);
  assert_file (b, "b", 1, 0644);
}

static void
test_extract_skips_symlinks (void)
{
  static const TestEntry entries[] = {
    { "top/", AE_IFDIR, NULL, NULL },
    { "top/f", AE_IFREG, "f", NULL },
    { "top/to-f", AE_IFLNK, NULL, "f" },
    { "top/to-etc", AE_IFLNK, NULL, "/etc" },
  };
  g_autofree char *root = make_root ();
  g_autofree char *dest = g_build_filename (root, "links", NULL);
  g_autofree char *f = g_build_filename (dest, "f", NULL);
  g_autofree char *to_f = g_build_filename (dest, "to-f", NULL);
  g_autofree char *to_etc = g_build_filename (dest, "to-etc", NULL);
  g_autoptr(GBytes) archive = build_archive (entries, G_N_ELEMENTS (entries));
  g_autoptr(GError) error = NULL;

  g_assert_true (llmsbx_tar_extract (archive, dest, &error));
  g_assert_no_error (error);
  assert_file (f, "f", 1, 0644);
  g_assert_false (exists (to_f));
  g_assert_false (exists (to_etc));
}

static void
test_extract_type_mismatch (void)
{
  static const TestEntry file_entries[] = { { "f", AE_IFREG, "f", NULL } };
  static const TestEntry dir_entries[] = { { "d/", AE_IFDIR, NULL, NULL }, { "d/x", AE_IFREG, "x", NULL } };
  g_autofree char *root = make_root ();
  g_autofree char *existing_dir = g_build_filename (root, "a-dir", NULL);
  g_autofree char *existing_file = g_build_filename (root, "a-file", NULL);
  g_autoptr(GBytes) file_archive = build_archive (file_entries, G_N_ELEMENTS (file_entries));
  g_autoptr(GBytes) dir_archive = build_archive (dir_entries, G_N_ELEMENTS (dir_entries));
  g_autoptr(GError) error = NULL;
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;

  g_assert_no_errno (g_mkdir (existing_dir, 0755));
  write_file (existing_file, "mine", 4, 0644);
  before = snapshot (root);

  g_assert_false (llmsbx_tar_extract (file_archive, existing_dir, &error));
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (llmsbx_tar_extract (dir_archive, existing_file, &error));
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT);

  after = snapshot (root);
  g_assert_cmpstr (before, ==, after);
  assert_file (existing_file, "mine", 4, 0644);
}

/* Hostile archives */

typedef struct
{
  const char *what;
  TestEntry entries[4];
  guint n_entries;
  int code;
  const char *named;  /* part of the error message */
} HostileCase;

static void
test_extract_hostile (void)
{
  g_autofree char *root = make_root ();
  g_autofree char *outside = g_build_filename (root, "outside", NULL);
  g_autofree char *abs_name = g_build_filename (outside, "abs-evil", NULL);
  g_autofree char *dest = g_build_filename (root, "sandbox", "dest", NULL);
  const HostileCase cases[] = {
    { "dot-dot first", { { "../evil", AE_IFREG, "evil", NULL } }, 1,
      LLMSBX_ERROR_PATH_TRAVERSAL, "../evil" },
    { "dot-dot inside", { { "top/", AE_IFDIR, NULL, NULL }, { "top/../../outside/evil", AE_IFREG, "evil", NULL } }, 2,
      LLMSBX_ERROR_PATH_TRAVERSAL, "top/../../outside/evil" },
    { "absolute", { { abs_name, AE_IFREG, "evil", NULL } }, 1,
      LLMSBX_ERROR_PATH_TRAVERSAL, abs_name },
    { "file through symlink", { { "top/", AE_IFDIR, NULL, NULL }, { "top/link", AE_IFLNK, NULL, outside },
                                { "top/link/evil", AE_IFREG, "evil", NULL } }, 3,
      LLMSBX_ERROR_PATH_TRAVERSAL, "top/link/evil" },
    { "file through symlink, dotted", { { "top/link", AE_IFLNK, NULL, outside },
                                        { "top/./link//evil", AE_IFREG, "evil", NULL } }, 2,
      LLMSBX_ERROR_PATH_TRAVERSAL, "evil" },
    { "hard link out", { { "top/", AE_IFDIR, NULL, NULL }, { "top/h", HARDLINK, NULL, "/etc/passwd" } }, 2,
      LLMSBX_ERROR_PATH_TRAVERSAL, "top/h" },
    { "hard link in", { { "top/a", AE_IFREG, "a", NULL }, { "top/b", HARDLINK, NULL, "top/a" } }, 2,
      LLMSBX_ERROR_PATH_TRAVERSAL, "top/b" },
    { "device", { { "top/", AE_IFDIR, NULL, NULL }, { "top/null", AE_IFCHR, NULL, NULL } }, 2,
      LLMSBX_ERROR_PATH_TRAVERSAL, "top/null" },
    { "fifo", { { "top/", AE_IFDIR, NULL, NULL }, { "top/pipe", AE_IFIFO, NULL, NULL } }, 2,
      LLMSBX_ERROR_PATH_TRAVERSAL, "top/pipe" },
    { "second top entry", { { "top/", AE_IFDIR, NULL, NULL }, { "top/ok", AE_IFREG, "ok", NULL },
                            { "other/evil", AE_IFREG, "evil", NULL } }, 3,
      LLMSBX_ERROR_PATH_TRAVERSAL, "other/evil" },
    { "top is a symlink", { { "top", AE_IFLNK, NULL, "/etc" } }, 1,
      LLMSBX_ERROR_INVALID_ARGUMENT, "/etc" },
    { "entries below a file", { { "f", AE_IFREG, "f", NULL }, { "f/x", AE_IFREG, "x", NULL } }, 2,
      LLMSBX_ERROR_PROTOCOL, "f" },
  };

  g_assert_no_errno (g_mkdir (outside, 0755));

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GBytes) archive = build_archive (cases[i].entries, cases[i].n_entries);
      g_autoptr(GError) error = NULL;
      g_autofree char *before = snapshot (root);
      g_autofree char *after = NULL;

      g_test_message ("hostile archive: %s", cases[i].what);
      g_assert_false (llmsbx_tar_extract (archive, dest, &error));
      g_assert_error (error, LLMSBX_ERROR, cases[i].code);
      g_assert_nonnull (strstr (error->message, cases[i].named));

      /* Checked before writing: nothing at all was created. */
      after = snapshot (root);
      g_assert_cmpstr (before, ==, after);
      g_assert_false (exists (dest));
    }
}

static void
test_extract_existing_symlink_in_dest (void)
{
  /* The destination already holds a link to elsewhere; libarchive's secure
   * symlink checks must keep writes from going through it. */
  static const TestEntry through[] = {
    { "top/", AE_IFDIR, NULL, NULL },
    { "top/sub/evil", AE_IFREG, "evil", NULL },
  };
  static const TestEntry replace[] = {
    { "top/", AE_IFDIR, NULL, NULL },
    { "top/sub/", AE_IFDIR, NULL, NULL },
    { "top/sub/fine", AE_IFREG, "fine", NULL },
  };
  g_autofree char *root = make_root ();
  g_autofree char *outside = g_build_filename (root, "outside", NULL);
  g_autofree char *dest = g_build_filename (root, "dest", NULL);
  g_autofree char *sub = g_build_filename (dest, "sub", NULL);
  g_autofree char *fine = g_build_filename (sub, "fine", NULL);
  g_autoptr(GBytes) through_archive = build_archive (through, G_N_ELEMENTS (through));
  g_autoptr(GBytes) replace_archive = build_archive (replace, G_N_ELEMENTS (replace));
  g_autoptr(GError) error = NULL;
  g_autofree char *outside_before = NULL;
  g_autofree char *outside_after = NULL;
  struct stat st;

  g_assert_no_errno (g_mkdir (outside, 0755));
  g_assert_no_errno (g_mkdir (dest, 0755));
  g_assert_no_errno (symlink (outside, sub));
  outside_before = snapshot (outside);

  g_assert_false (llmsbx_tar_extract (through_archive, dest, &error));
  g_assert_nonnull (error);
  g_test_message ("refused: %s", error->message);
  g_clear_error (&error);
  outside_after = snapshot (outside);
  g_assert_cmpstr (outside_before, ==, outside_after);

  /* A directory entry replaces the link instead of following it. */
  g_assert_true (llmsbx_tar_extract (replace_archive, dest, &error));
  g_assert_no_error (error);
  g_assert_no_errno (lstat (sub, &st));
  g_assert_true (S_ISDIR (st.st_mode));
  assert_file (fine, "fine", 4, 0644);
  g_free (outside_after);
  outside_after = snapshot (outside);
  g_assert_cmpstr (outside_before, ==, outside_after);
}

static void
test_extract_dest_through_user_symlink (void)
{
  /* A link in the destination path itself is the user's choice: followed. */
  static const TestEntry entries[] = { { "f", AE_IFREG, "data", NULL } };
  g_autofree char *root = make_root ();
  g_autofree char *real = g_build_filename (root, "real", NULL);
  g_autofree char *link = g_build_filename (root, "via-link", NULL);
  g_autofree char *dest = g_build_filename (link, "new", "f.txt", NULL);
  g_autofree char *landed = g_build_filename (real, "new", "f.txt", NULL);
  g_autoptr(GBytes) archive = build_archive (entries, G_N_ELEMENTS (entries));
  g_autoptr(GError) error = NULL;

  g_assert_no_errno (g_mkdir (real, 0755));
  g_assert_no_errno (symlink (real, link));
  g_assert_true (llmsbx_tar_extract (archive, dest, &error));
  g_assert_no_error (error);
  assert_file (landed, "data", 4, 0644);
}

static void
test_extract_bad_archives (void)
{
  static const TestEntry entries[] = {
    { "top/", AE_IFDIR, NULL, NULL },
    { "top/a", AE_IFREG, "aaaa", NULL },
    { "top/b", AE_IFREG, NULL, NULL },
  };
  g_autofree char *root = make_root ();
  g_autofree char *dest = g_build_filename (root, "dest", NULL);
  g_autoptr(GBytes) nothing = g_bytes_new (NULL, 0);
  g_autoptr(GBytes) no_entries = build_archive (NULL, 0);
  g_autoptr(GBytes) garbage = g_bytes_new_static ("this is not a tar archive at all", 32);
  g_autoptr(GBytes) full = build_archive (entries, G_N_ELEMENTS (entries));
  g_autoptr(GBytes) truncated = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_false (llmsbx_tar_extract (nothing, dest, &error));
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_FILE_NOT_FOUND);
  g_clear_error (&error);

  g_assert_false (llmsbx_tar_extract (no_entries, dest, &error));
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_FILE_NOT_FOUND);
  g_clear_error (&error);

  g_assert_false (llmsbx_tar_extract (garbage, dest, &error));
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_PROTOCOL);
  g_clear_error (&error);

  /* Cut inside the data of "top/a": nothing may be written, not even "top/". */
  truncated = g_bytes_new_from_bytes (full, 0, 2 * 512 + 2);
  g_assert_false (llmsbx_tar_extract (truncated, dest, &error));
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_PROTOCOL);
  g_assert_false (exists (dest));
}

/* Container paths */

static void
test_container_path_is_safe (void)
{
  const char *safe[] = { "/", "/sandbox", "/sandbox/out.txt", "/sandbox/.hidden", "/a/./b", "/a//b/", "/a/..b" };
  const char *not_absolute[] = { "", "sandbox/x", "./x", "..", "\xff/x" };
  const char *traversal[] = { "/..", "/sandbox/..", "/sandbox/../etc/passwd", "/a/b/../../.." };

  for (guint i = 0; i < G_N_ELEMENTS (safe); i++)
    {
      g_autoptr(GError) error = NULL;

      g_assert_true (llmsbx_container_path_is_safe (safe[i], &error));
      g_assert_no_error (error);
    }
  for (guint i = 0; i < G_N_ELEMENTS (not_absolute); i++)
    {
      g_autoptr(GError) error = NULL;

      g_assert_false (llmsbx_container_path_is_safe (not_absolute[i], &error));
      g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT);
    }
  for (guint i = 0; i < G_N_ELEMENTS (traversal); i++)
    {
      g_autoptr(GError) error = NULL;

      g_assert_false (llmsbx_container_path_is_safe (traversal[i], &error));
      g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_PATH_TRAVERSAL);
      g_assert_nonnull (strstr (error->message, traversal[i]));
    }
}

static void
test_container_path_split (void)
{
  const struct { const char *path; const char *parent; const char *name; } cases[] = {
    { "/sandbox/out.txt", "/sandbox", "out.txt" },
    { "/sandbox/out/", "/sandbox", "out" },
    { "/x", "/", "x" },
    { "//a//b/./c", "/a/b", "c" },
    { "/sandbox/.", "/", "sandbox" },
  };
  g_autoptr(GError) error = NULL;
  char *parent = NULL;
  char *name = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_assert_true (llmsbx_container_path_split (cases[i].path, &parent, &name, &error));
      g_assert_no_error (error);
      g_assert_cmpstr (parent, ==, cases[i].parent);
      g_assert_cmpstr (name, ==, cases[i].name);
      g_clear_pointer (&parent, g_free);
      g_clear_pointer (&name, g_free);
    }

  g_assert_false (llmsbx_container_path_split ("/", &parent, &name, &error));
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (llmsbx_container_path_split ("/a/../b", &parent, &name, &error));
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_PATH_TRAVERSAL);
  g_assert_null (parent);
  g_assert_null (name);
}

/* Reading into memory (a run's artifacts) */

static LlmsbxTarChoice
take_plots (const char *path,
            gpointer    user_data)
{
  if (!g_str_has_prefix (path, "plots/"))
    return LLMSBX_TAR_SKIP;
  return g_str_has_suffix (path, ".png") ? LLMSBX_TAR_TAKE : LLMSBX_TAR_REFUSE;
}

static void
assert_read_file (GPtrArray  *files,
                  guint       index,
                  const char *path,
                  const char *content)
{
  LlmsbxTarFile *file;

  g_assert_cmpuint (index, <, files->len);
  file = g_ptr_array_index (files, index);
  g_assert_cmpstr (file->path, ==, path);
  g_assert_cmpmem (g_bytes_get_data (file->content, NULL), g_bytes_get_size (file->content),
                   content, strlen (content));
}

/* Only regular files the filter takes, sorted by path; every trick is
 * passed over and flagged; what the filter skips is not. */
static void
test_read_files_hostile (void)
{
  static const TestEntry entries[] = {
    { "run", AE_IFDIR, NULL, NULL },
    { "run/plots", AE_IFDIR, NULL, NULL },
    { "run/plots/000002.png", AE_IFREG, "bb", NULL },
    { "run/plots/000001.png", AE_IFREG, "a", NULL },
    { "run/plots/link.png", AE_IFLNK, NULL, "/etc/passwd" },
    { "run/plots/hard.png", HARDLINK, NULL, "run/plots/000001.png" },
    { "run/plots/null.png", AE_IFCHR, NULL, NULL },
    { "run/plots/fifo.png", AE_IFIFO, NULL, NULL },
    { "run/plots/dir.png", AE_IFDIR, NULL, NULL },
    { "run/plots/notes.txt", AE_IFREG, "x", NULL },
  };
  static const TestEntry tricks[][2] = {
    { { "run", AE_IFDIR, NULL, NULL }, { "/run/plots/abs.png", AE_IFREG, "x", NULL } },
    { { "run", AE_IFDIR, NULL, NULL }, { "run/../plots/up.png", AE_IFREG, "x", NULL } },
    { { "run", AE_IFDIR, NULL, NULL }, { "other/plots/out.png", AE_IFREG, "x", NULL } },
  };
  static const TestEntry skipped[] = {
    { "run", AE_IFDIR, NULL, NULL },
    { "run/files/link", AE_IFLNK, NULL, "/" },
    { "run/files/a.png", AE_IFREG, "x", NULL },
    { "run/plots/000001.png", AE_IFREG, "a", NULL },
  };
  g_autoptr(GBytes) archive = build_archive (entries, G_N_ELEMENTS (entries));
  g_autoptr(GBytes) clean = build_archive (skipped, G_N_ELEMENTS (skipped));
  g_autoptr(GPtrArray) files = NULL;
  g_autoptr(GPtrArray) clean_files = NULL;
  gboolean dropped = FALSE;

  files = llmsbx_tar_read_files (archive, take_plots, NULL, 100, 1000, &dropped);
  g_assert_cmpuint (files->len, ==, 2);
  assert_read_file (files, 0, "plots/000001.png", "a");
  assert_read_file (files, 1, "plots/000002.png", "bb");
  g_assert_true (dropped);

  for (gsize i = 0; i < G_N_ELEMENTS (tricks); i++)
    {
      g_autoptr(GBytes) trick = build_archive (tricks[i], 2);
      g_autoptr(GPtrArray) none = llmsbx_tar_read_files (trick, take_plots, NULL, 100, 1000, &dropped);

      g_assert_cmpuint (none->len, ==, 0);
      g_assert_true (dropped);
    }

  clean_files = llmsbx_tar_read_files (clean, take_plots, NULL, 100, 1000, &dropped);
  g_assert_cmpuint (clean_files->len, ==, 1);
  assert_read_file (clean_files, 0, "plots/000001.png", "a");
  g_assert_false (dropped);
}

/* The limits keep the first files by path, whatever the archive's order. */
static void
test_read_files_limits (void)
{
  static const TestEntry entries[] = {
    { "run/plots/3.png", AE_IFREG, "ccc", NULL },
    { "run/plots/1.png", AE_IFREG, "a", NULL },
    { "run/plots/2.png", AE_IFREG, "bb", NULL },
  };
  g_autoptr(GBytes) archive = build_archive (entries, G_N_ELEMENTS (entries));
  gboolean dropped = FALSE;

  {
    g_autoptr(GPtrArray) files = llmsbx_tar_read_files (archive, take_plots, NULL, 2, 1000, &dropped);

    g_assert_cmpuint (files->len, ==, 2);
    assert_read_file (files, 0, "plots/1.png", "a");
    assert_read_file (files, 1, "plots/2.png", "bb");
    g_assert_true (dropped);
  }
  {
    g_autoptr(GPtrArray) files = llmsbx_tar_read_files (archive, take_plots, NULL, 10, 3, &dropped);

    g_assert_cmpuint (files->len, ==, 2);
    g_assert_true (dropped);
  }
  {
    g_autoptr(GPtrArray) files = llmsbx_tar_read_files (archive, take_plots, NULL, 10, 6, &dropped);

    g_assert_cmpuint (files->len, ==, 3);
    assert_read_file (files, 2, "plots/3.png", "ccc");
    g_assert_false (dropped);
  }
  {
    g_autoptr(GPtrArray) files = llmsbx_tar_read_files (archive, take_plots, NULL, 0, 1000, &dropped);

    g_assert_cmpuint (files->len, ==, 0);
    g_assert_true (dropped);
  }
}

/* An archive cut short (a transfer stopped at its limit) gives what came
 * before the cut; garbage gives nothing; both are flagged. */
static void
test_read_files_cut (void)
{
  static const TestEntry entries[] = {
    { "run/plots/1.png", AE_IFREG, "first", NULL },
    { "run/plots/2.png", AE_IFREG, "second, longer than a few bytes", NULL },
  };
  g_autoptr(GBytes) archive = build_archive (entries, G_N_ELEMENTS (entries));
  gsize size;
  const guint8 *data = g_bytes_get_data (archive, &size);
  gboolean dropped = FALSE;

  /* Archives are 512-byte blocks: a cut inside one is an error; one between
   * entries looks like an archive without its end marker (the session
   * flags a transfer it cut itself). */
  for (gsize cut = 512; cut < size; cut += 256)
    {
      g_autoptr(GBytes) part = g_bytes_new (data, cut);
      g_autoptr(GPtrArray) files = llmsbx_tar_read_files (part, take_plots, NULL, 10, 1000, &dropped);

      g_assert_cmpuint (files->len, <=, 2);
      if (files->len > 0)
        assert_read_file (files, 0, "plots/1.png", "first");
      if (files->len < 2 && cut % 512 != 0)
        g_assert_true (dropped);
    }

  {
    g_autoptr(GBytes) garbage = g_bytes_new_static ("not a tar archive at all, not even close", 40);
    g_autoptr(GPtrArray) files = llmsbx_tar_read_files (garbage, take_plots, NULL, 10, 1000, &dropped);

    g_assert_cmpuint (files->len, ==, 0);
    g_assert_true (dropped);
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
  /* Extracted modes are the archive's minus the umask; fix it for the asserts. */
  umask (022);

  g_test_add_func ("/tar/pack-extract/file", test_pack_extract_file);
  g_test_add_func ("/tar/pack-extract/empty-file", test_pack_extract_empty_file);
  g_test_add_func ("/tar/pack-extract/tree", test_pack_extract_tree);
  g_test_add_func ("/tar/pack/errors", test_pack_errors);
  g_test_add_func ("/tar/pack/contents", test_pack_contents);
  g_test_add_func ("/tar/extract/dot-top", test_extract_dot_top);
  g_test_add_func ("/tar/extract/implied-top", test_extract_implied_top);
  g_test_add_func ("/tar/extract/skips-symlinks", test_extract_skips_symlinks);
  g_test_add_func ("/tar/extract/type-mismatch", test_extract_type_mismatch);
  g_test_add_func ("/tar/extract/hostile", test_extract_hostile);
  g_test_add_func ("/tar/extract/existing-symlink-in-dest", test_extract_existing_symlink_in_dest);
  g_test_add_func ("/tar/extract/dest-through-user-symlink", test_extract_dest_through_user_symlink);
  g_test_add_func ("/tar/extract/bad-archives", test_extract_bad_archives);
  g_test_add_func ("/tar/container-path/is-safe", test_container_path_is_safe);
  g_test_add_func ("/tar/read-files/hostile", test_read_files_hostile);
  g_test_add_func ("/tar/read-files/limits", test_read_files_limits);
  g_test_add_func ("/tar/read-files/cut", test_read_files_cut);
  g_test_add_func ("/tar/container-path/split", test_container_path_split);

  return g_test_run ();
}
