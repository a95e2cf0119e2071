/* bubblewrap-test.c: what the backend tests check on the bubblewrap backend. */
#include "bubblewrap-test.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

char *
bubblewrap_test_store (void)
{
  const char *configured = g_getenv ("LLMSBX_BUBBLEWRAP_STORE");

  if (configured != NULL && configured[0] == '/')
    return g_strdup (configured);
  if (getuid () == 0)
    return g_strdup ("/var/lib/llmsbx/bubblewrap");
  return g_build_filename (g_get_user_data_dir (), "llmsbx", "bubblewrap", NULL);
}

char *
bubblewrap_test_sandbox_dir (const char *id)
{
  g_autofree char *store = bubblewrap_test_store ();

  return g_build_filename (store, "sandboxes", id, NULL);
}

/* The state file of sandbox @id, or NULL when it has none. */
GKeyFile *
bubblewrap_test_state (const char *id)
{
  g_autofree char *dir = bubblewrap_test_sandbox_dir (id);
  g_autofree char *path = g_build_filename (dir, "state", NULL);
  GKeyFile *state = g_key_file_new ();

  if (!g_key_file_load_from_file (state, path, G_KEY_FILE_NONE, NULL))
    {
      g_key_file_unref (state);
      return NULL;
    }
  return state;
}

char *
bubblewrap_test_init_pid (const char *id)
{
  g_autoptr(GKeyFile) state = bubblewrap_test_state (id);
  gint64 pid;

  g_assert_nonnull (state);
  pid = g_key_file_get_int64 (state, "Sandbox", "InitPid", NULL);
  g_assert_cmpint (pid, >, 0);
  return g_strdup_printf ("%" G_GINT64_FORMAT, pid);
}

/* Field 22 of /proc/PID/stat, the start time in clock ticks; 0 without the process. */
static guint64
start_time (gint64 pid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%" G_GINT64_FORMAT "/stat", pid);
  g_autofree char *stat = NULL;
  g_auto(GStrv) fields = NULL;
  const char *after_name;

  if (pid <= 0 || !g_file_get_contents (path, &stat, NULL, NULL) || (after_name = strrchr (stat, ')')) == NULL)
    return 0;
  fields = g_strsplit (after_name + 2, " ", 0);
  return g_strv_length (fields) > 19 ? g_ascii_strtoull (fields[19], NULL, 10) : 0;
}

char *
bubblewrap_test_running (const char *id)
{
  g_autoptr(GKeyFile) state = bubblewrap_test_state (id);
  gint64 pid;
  guint64 started;

  if (state == NULL)
    return g_strdup ("");
  pid = g_key_file_get_int64 (state, "Sandbox", "InitPid", NULL);
  started = g_key_file_get_uint64 (state, "Sandbox", "InitStart", NULL);
  return g_strdup (pid > 0 && start_time (pid) == started ? "true" : "false");
}

/* Where bubblewrap_test_private_store() puts its store: known to the test
 * program's parent too, by the run's id, so that it reaps there as well. */
static char *
private_store_path (void)
{
  g_autofree char *name = g_strdup_printf ("llmsbx-test-store-%s", g_getenv ("LLMSBX_TEST_RUN"));

  g_assert_nonnull (g_getenv ("LLMSBX_TEST_RUN"));
  return g_build_filename (g_get_tmp_dir (), name, NULL);
}

void
bubblewrap_test_private_store (void)
{
  g_autofree char *shared = bubblewrap_test_store ();
  g_autofree char *store = private_store_path ();
  g_autofree char *images = g_build_filename (shared, "images", NULL);
  g_autofree char *tags = g_build_filename (shared, "tags", NULL);
  g_autofree char *images_link = g_build_filename (store, "images", NULL);
  g_autofree char *tags_link = g_build_filename (store, "tags", NULL);

  g_assert_cmpint (g_mkdir_with_parents (store, 0700), ==, 0);
  if (!g_file_test (images_link, G_FILE_TEST_EXISTS))
    g_assert_cmpint (symlink (images, images_link), ==, 0);
  if (!g_file_test (tags_link, G_FILE_TEST_EXISTS))
    g_assert_cmpint (symlink (tags, tags_link), ==, 0);
  g_setenv ("LLMSBX_BUBBLEWRAP_STORE", store, TRUE);
}

void
bubblewrap_test_reap_private_store (const char *label)
{
  g_autofree char *store = private_store_path ();
  g_autofree char *shared = g_strdup (g_getenv ("LLMSBX_BUBBLEWRAP_STORE"));
  g_autofree char *filter = g_strconcat ("label=", label, NULL);
  g_autofree char *found = NULL;
  g_auto(GStrv) ids = NULL;
  g_autoptr(GSubprocess) rm = NULL;

  if (!g_file_test (store, G_FILE_TEST_IS_DIR))
    return;
  g_setenv ("LLMSBX_BUBBLEWRAP_STORE", store, TRUE);
  found = bubblewrap_test_ps (filter);
  ids = g_strsplit (found, "\n", -1);
  for (guint i = 0; ids[i] != NULL; i++)
    if (*ids[i] != '\0')
      {
        bubblewrap_test_remove (ids[i]);
        g_test_message ("removed leftover sandbox %s of a private store", ids[i]);
      }
  if (shared != NULL)
    g_setenv ("LLMSBX_BUBBLEWRAP_STORE", shared, TRUE);
  else
    g_unsetenv ("LLMSBX_BUBBLEWRAP_STORE");
  /* rm does not follow the links to the shared images and tags. */
  rm = g_subprocess_new (G_SUBPROCESS_FLAGS_NONE, NULL, "rm", "-rf", "--", store, NULL);
  if (rm != NULL)
    g_subprocess_wait (rm, NULL, NULL);
}

static gboolean
bubblewrap_test_has_label (GKeyFile   *state,
                           const char *label)
{
  g_auto(GStrv) labels = state ? g_key_file_get_string_list (state, "Sandbox", "Labels", NULL, NULL) : NULL;
  gboolean has_value = strchr (label, '=') != NULL;

  for (guint i = 0; labels != NULL && labels[i] != NULL; i++)
    {
      if (has_value ? g_str_equal (labels[i], label)
                    : g_str_has_prefix (labels[i], label) && labels[i][strlen (label)] == '=')
        return TRUE;
    }
  return FALSE;
}

/* Sandboxes matching a `docker ps --filter` (id=PREFIX or label=K[=V]), one
 * per line, "" for none. A directory without a state file matches by id. */
char *
bubblewrap_test_ps (const char *filter)
{
  g_autofree char *store = bubblewrap_test_store ();
  g_autofree char *path = g_build_filename (store, "sandboxes", NULL);
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  g_autoptr(GString) found = g_string_new (NULL);
  const char *entry;

  g_assert_true (g_str_has_prefix (filter, "id=") || g_str_has_prefix (filter, "label="));
  while (dir != NULL && (entry = g_dir_read_name (dir)) != NULL)
    {
      g_autoptr(GKeyFile) state = bubblewrap_test_state (entry);
      gboolean match;

      if (g_str_has_prefix (filter, "id="))
        match = g_str_has_prefix (entry, filter + 3);
      else
        match = bubblewrap_test_has_label (state, filter + 6);
      if (match)
        g_string_append_printf (found, "%s%s", found->len ? "\n" : "", entry);
    }
  return g_string_free (g_steal_pointer (&found), FALSE);
}

/* Processes whose command line names @needle: a helper or bwrap of a sandbox. */
char *
bubblewrap_test_processes (const char *needle)
{
  g_autoptr(GDir) proc = g_dir_open ("/proc", 0, NULL);
  g_autoptr(GString) found = g_string_new (NULL);
  const char *entry;

  while (proc != NULL && (entry = g_dir_read_name (proc)) != NULL)
    {
      g_autofree char *path = g_build_filename ("/proc", entry, "cmdline", NULL);
      g_autofree char *cmdline = NULL;
      gsize length = 0;

      if (!g_ascii_isdigit (entry[0]) || !g_file_get_contents (path, &cmdline, &length, NULL))
        continue;
      for (gsize i = 0; i + 1 < length; i++)
        if (cmdline[i] == '\0')
          cmdline[i] = ' ';
      if (strstr (cmdline, needle) != NULL)
        g_string_append_printf (found, "%s: %s\n", entry, cmdline);
    }
  return g_string_free (g_steal_pointer (&found), FALSE);
}

static gint64
parent_pid (gint64 pid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%" G_GINT64_FORMAT "/stat", pid);
  g_autofree char *stat = NULL;
  const char *after_name;

  if (!g_file_get_contents (path, &stat, NULL, NULL) || (after_name = strrchr (stat, ')')) == NULL)
    return 0;
  /* ") S PPID ...": the state, then the parent. */
  return g_ascii_strtoll (after_name + 4, NULL, 10);
}

static void
add_process (GPtrArray *found,
             gint64     pid)
{
  guint64 started = start_time (pid);

  if (started != 0)
    g_ptr_array_add (found, g_strdup_printf ("%" G_GINT64_FORMAT ":%" G_GUINT64_FORMAT, pid, started));
}

static gboolean
is_zombie (gint64 pid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%" G_GINT64_FORMAT "/stat", pid);
  g_autofree char *stat = NULL;
  const char *after_name;

  return g_file_get_contents (path, &stat, NULL, NULL) && (after_name = strrchr (stat, ')')) != NULL &&
         after_name[1] == ' ' && after_name[2] == 'Z';
}

GStrv
bubblewrap_test_sandbox_processes (const char *id)
{
  g_autoptr(GKeyFile) state = bubblewrap_test_state (id);
  g_autoptr(GPtrArray) found = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GDir) proc = g_dir_open ("/proc", 0, NULL);
  g_autofree char *init_ns_path = NULL;
  g_autofree char *pid_ns = NULL;
  gint64 helper, init;
  const char *entry;

  g_assert_nonnull (state);
  helper = g_key_file_get_int64 (state, "Sandbox", "HelperPid", NULL);
  init = g_key_file_get_int64 (state, "Sandbox", "InitPid", NULL);
  g_assert_cmpint (helper, >, 0);
  g_assert_cmpint (init, >, 0);
  add_process (found, helper);
  add_process (found, parent_pid (init));
  init_ns_path = g_strdup_printf ("/proc/%" G_GINT64_FORMAT "/ns/pid", init);
  pid_ns = g_file_read_link (init_ns_path, NULL);
  g_assert_nonnull (pid_ns);

  while (proc != NULL && (entry = g_dir_read_name (proc)) != NULL)
    {
      g_autofree char *ns_path = NULL;
      g_autofree char *ns = NULL;

      if (!g_ascii_isdigit (entry[0]))
        continue;
      ns_path = g_build_filename ("/proc", entry, "ns", "pid", NULL);
      ns = g_file_read_link (ns_path, NULL);
      if (ns != NULL && g_str_equal (ns, pid_ns))
        add_process (found, g_ascii_strtoll (entry, NULL, 10));
    }
  g_ptr_array_add (found, NULL);
  return (GStrv) g_ptr_array_free (g_steal_pointer (&found), FALSE);
}

char *
bubblewrap_test_still_running (const char * const *processes)
{
  g_autoptr(GString) running = g_string_new (NULL);

  for (guint i = 0; processes[i] != NULL; i++)
    {
      const char *colon = strchr (processes[i], ':');
      gint64 pid = g_ascii_strtoll (processes[i], NULL, 10);

      g_assert_nonnull (colon);
      /* A zombie has ended; its parent has yet to reap it. */
      if (start_time (pid) == g_ascii_strtoull (colon + 1, NULL, 10) && !is_zombie (pid))
        g_string_append_printf (running, "%s%s", running->len ? " " : "", processes[i]);
    }
  return g_string_free (g_steal_pointer (&running), FALSE);
}

/* Cgroup directories named like sandbox @id, in either hierarchy. */
char *
bubblewrap_test_wait_ended (const char * const *processes)
{
  char *running = bubblewrap_test_still_running (processes);

  for (guint i = 0; i < 100 && running[0] != '\0'; i++)
    {
      g_usleep (50 * 1000);
      g_free (running);
      running = bubblewrap_test_still_running (processes);
    }
  return running;
}

char *
bubblewrap_test_cgroups (const char *id)
{
  static const char * const roots[] = {
    "/sys/fs/cgroup/memory", "/sys/fs/cgroup/pids", "/sys/fs/cgroup/cpu", "/sys/fs/cgroup/cpuset",
    "/sys/fs/cgroup/freezer", "/sys/fs/cgroup", NULL
  };
  g_autoptr(GString) found = g_string_new (NULL);

  for (guint i = 0; roots[i] != NULL; i++)
    {
      g_autofree char *dir = g_build_filename (roots[i], "llmsbx", id, NULL);

      if (g_file_test (dir, G_FILE_TEST_IS_DIR))
        g_string_append_printf (found, "%s\n", dir);
    }
  return g_string_free (g_steal_pointer (&found), FALSE);
}

/* Nothing of sandbox @id is left: no directory, no cgroup, no process. */
void
bubblewrap_test_assert_gone (const char *id)
{
  g_autofree char *dir = bubblewrap_test_sandbox_dir (id);
  g_autofree char *cgroups = bubblewrap_test_cgroups (id);
  g_autofree char *processes = bubblewrap_test_processes (dir);

  g_assert_false (g_file_test (dir, G_FILE_TEST_EXISTS));
  g_assert_cmpstr (cgroups, ==, "");
  g_assert_cmpstr (processes, ==, "");
}

/* Removes a leftover sandbox: its helper tears it down when told to
 * (SIGTERM); when it has none any more, what it left goes here. */
void
bubblewrap_test_remove (const char *id)
{
  g_autofree char *dir = bubblewrap_test_sandbox_dir (id);
  g_autoptr(GKeyFile) state = bubblewrap_test_state (id);
  gint64 helper = state ? g_key_file_get_int64 (state, "Sandbox", "HelperPid", NULL) : 0;
  g_auto(GStrv) cgroups = state ? g_key_file_get_string_list (state, "Sandbox", "Cgroups", NULL, NULL) : NULL;

  if (helper > 0 && kill ((pid_t) helper, SIGTERM) == 0)
    for (guint i = 0; i < 300 && g_file_test (dir, G_FILE_TEST_EXISTS); i++)
      g_usleep (100 * 1000);

  for (guint i = 0; cgroups != NULL && cgroups[i] != NULL; i++)
    {
      g_autofree char *procs_file = g_build_filename (cgroups[i], "cgroup.procs", NULL);
      g_autofree char *procs = NULL;

      if (g_file_get_contents (procs_file, &procs, NULL, NULL))
        {
          g_auto(GStrv) pids = g_strsplit (procs, "\n", -1);

          for (guint p = 0; pids[p] != NULL; p++)
            if (pids[p][0] != '\0')
              kill ((pid_t) g_ascii_strtoll (pids[p], NULL, 10), SIGKILL);
        }
    }
  if (g_file_test (dir, G_FILE_TEST_EXISTS))
    {
      g_autoptr(GSubprocess) rm = g_subprocess_new (G_SUBPROCESS_FLAGS_NONE, NULL, "rm", "-rf", "--", dir, NULL);

      if (rm != NULL)
        g_subprocess_wait (rm, NULL, NULL);
    }
  for (guint i = 0; cgroups != NULL && cgroups[i] != NULL; i++)
    for (guint attempt = 0; attempt < 50 && g_rmdir (cgroups[i]) != 0 && errno == EBUSY; attempt++)
      g_usleep (100 * 1000);
}

/* Removes the tags of the store's images that carry @label (commits keep
 * the labels of their sandbox), and the images when nothing else uses them. */
char *
bubblewrap_test_image_id (const char *reference)
{
  g_autofree char *store = bubblewrap_test_store ();
  g_autofree char *escaped = g_uri_escape_string (reference, NULL, FALSE);
  g_autofree char *tag = g_build_filename (store, "tags", escaped, NULL);
  g_autofree char *id = NULL;

  if (!g_file_get_contents (tag, &id, NULL, NULL))
    return NULL;
  return g_strdup (g_strstrip (id));
}

gboolean
bubblewrap_test_image_exists (const char *id)
{
  g_autofree char *store = bubblewrap_test_store ();
  g_autofree char *dir = g_build_filename (store, "images", id, NULL);

  return g_file_test (dir, G_FILE_TEST_EXISTS);
}

void
bubblewrap_test_remove_images (const char *label)
{
  g_autofree char *store = bubblewrap_test_store ();
  g_autofree char *tags = g_build_filename (store, "tags", NULL);
  g_autofree char *images = g_build_filename (store, "images", NULL);
  g_autoptr(GPtrArray) removed = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GDir) dir = g_dir_open (images, 0, NULL);
  const char *entry;

  /* Every image that carries @label, tagged or not (an earlier commit to
   * the same name is a layer of the later one, and has no tag of its own). */
  while (dir != NULL && (entry = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *image = g_build_filename (images, entry, NULL);
      g_autofree char *config_path = g_build_filename (image, "config", NULL);
      g_autoptr(GKeyFile) config = g_key_file_new ();
      g_auto(GStrv) labels = NULL;
      g_autoptr(GSubprocess) rm = NULL;

      if (!g_key_file_load_from_file (config, config_path, G_KEY_FILE_NONE, NULL))
        continue;
      labels = g_key_file_get_string_list (config, "Image", "Labels", NULL, NULL);
      if (labels == NULL || !g_strv_contains ((const char * const *) labels, label))
        continue;
      rm = g_subprocess_new (G_SUBPROCESS_FLAGS_NONE, NULL, "rm", "-rf", "--", image, NULL);
      if (rm != NULL)
        g_subprocess_wait (rm, NULL, NULL);
      g_ptr_array_add (removed, g_strdup (entry));
    }

  /* Then the tags that named them. */
  g_clear_pointer (&dir, g_dir_close);
  dir = g_dir_open (tags, 0, NULL);
  while (dir != NULL && (entry = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *tag = g_build_filename (tags, entry, NULL);
      g_autofree char *id = NULL;

      if (g_file_get_contents (tag, &id, NULL, NULL) &&
          g_ptr_array_find_with_equal_func (removed, g_strstrip (id), g_str_equal, NULL))
        g_unlink (tag);
    }
}

guint
bubblewrap_test_exec_events (const char *id,
                             const char *since,
                             const char *until)
{
  g_autofree char *dir = bubblewrap_test_sandbox_dir (id);
  g_autofree char *path = g_build_filename (dir, "events", NULL);
  g_autofree char *log = NULL;
  g_auto(GStrv) lines = NULL;
  gint64 from = (gint64) (g_ascii_strtod (since, NULL) * G_USEC_PER_SEC);
  gint64 to = (gint64) (g_ascii_strtod (until, NULL) * G_USEC_PER_SEC);
  guint count = 0;

  g_assert_true (g_file_get_contents (path, &log, NULL, NULL));
  lines = g_strsplit (log, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      gint64 when = g_ascii_strtoll (lines[i], NULL, 10);

      if (strstr (lines[i], " exec ") != NULL && when >= from && when <= to)
        count++;
    }
  return count;
}
