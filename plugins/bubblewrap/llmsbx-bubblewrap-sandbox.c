/* llmsbx-bubblewrap-sandbox.c: the state of a bubblewrap sandbox, kept in its directory.
 *
 * Each sandbox has a directory STORE/sandboxes/ID (mode 0700, the owner's
 * only) holding its state file, the socket its init listens on, its event
 * log and, while it runs, its overlay's upper layer. The state file is a key
 * file written before anything else is made, so a crash at any point leaves
 * something the reaper can read: sandboxes whose helper is gone (their
 * client and helper were both killed) are killed and removed by the next
 * backend that connects. A sandbox still being created (no helper yet) is
 * left alone for a minute. */
#include "llmsbx-bubblewrap-sandbox.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <glib/gstdio.h>

#include "llmsbx-bubblewrap-cgroup.h"
#include "llmsbx-bubblewrap-cleanup.h"

#define GROUP "Sandbox"
/* How long a sandbox without a helper may be in the making. */
#define CREATION_GRACE_US (60 * G_USEC_PER_SEC)

LlmsbxBubblewrapSandbox *
llmsbx_bubblewrap_sandbox_new (const char *store,
                               const char *id)
{
  /* Reference counted: a backend's threads share one while another removes it. */
  LlmsbxBubblewrapSandbox *self = g_atomic_rc_box_new0 (LlmsbxBubblewrapSandbox);

  self->id = g_strdup (id);
  self->dir = g_build_filename (store, "sandboxes", id, NULL);
  self->created = g_get_real_time ();
  return self;
}

LlmsbxBubblewrapSandbox *
llmsbx_bubblewrap_sandbox_ref (LlmsbxBubblewrapSandbox *self)
{
  return g_atomic_rc_box_acquire (self);
}

static void
sandbox_clear (gpointer data)
{
  LlmsbxBubblewrapSandbox *self = data;

  g_free (self->id);
  g_free (self->name);
  g_free (self->dir);
  g_free (self->image);
  g_free (self->image_id);
  g_strfreev (self->image_layers);
  g_free (self->workdir);
  g_free (self->cwd);
  g_strfreev (self->env);
  g_strfreev (self->labels);
  g_strfreev (self->cgroups);
}

void
llmsbx_bubblewrap_sandbox_unref (LlmsbxBubblewrapSandbox *self)
{
  if (self != NULL)
    g_atomic_rc_box_release_full (self, sandbox_clear);
}

char *
llmsbx_bubblewrap_sandbox_path (LlmsbxBubblewrapSandbox *self,
                                const char              *name)
{
  return g_build_filename (self->dir, name, NULL);
}

static void
set_strv (GKeyFile   *file,
          const char *key,
          char      **value)
{
  if (value != NULL)
    g_key_file_set_string_list (file, GROUP, key, (const char * const *) value, g_strv_length (value));
}

gboolean
llmsbx_bubblewrap_sandbox_save (LlmsbxBubblewrapSandbox  *self,
                                GError                  **error)
{
  g_autoptr(GKeyFile) file = g_key_file_new ();
  g_autofree char *path = llmsbx_bubblewrap_sandbox_path (self, "state");
  g_autofree char *tmp = NULL;
  g_autofree char *data = NULL;
  g_autoptr(GError) local_error = NULL;

  g_key_file_set_string (file, GROUP, "Id", self->id);
  if (self->name != NULL)
    g_key_file_set_string (file, GROUP, "Name", self->name);
  if (self->image != NULL)
    g_key_file_set_string (file, GROUP, "Image", self->image);
  if (self->image_id != NULL)
    g_key_file_set_string (file, GROUP, "ImageId", self->image_id);
  set_strv (file, "ImageLayers", self->image_layers);
  if (self->workdir != NULL)
    g_key_file_set_string (file, GROUP, "Workdir", self->workdir);
  if (self->cwd != NULL)
    g_key_file_set_string (file, GROUP, "Cwd", self->cwd);
  g_key_file_set_uint64 (file, GROUP, "Uid", self->uid);
  g_key_file_set_uint64 (file, GROUP, "Gid", self->gid);
  set_strv (file, "Env", self->env);
  set_strv (file, "Labels", self->labels);
  set_strv (file, "Cgroups", self->cgroups);
  g_key_file_set_boolean (file, GROUP, "ReadOnly", self->read_only);
  g_key_file_set_int64 (file, GROUP, "Created", self->created);
  g_key_file_set_int64 (file, GROUP, "HelperPid", self->helper_pid);
  g_key_file_set_uint64 (file, GROUP, "HelperStart", self->helper_start);
  g_key_file_set_int64 (file, GROUP, "InitPid", self->init_pid);
  g_key_file_set_uint64 (file, GROUP, "InitStart", self->init_start);

  /* Replaced whole (a new file renamed over it), so a reader never sees half
   * of it; not synced to disk: it describes processes, which a crash of the
   * machine ends anyway. */
  data = g_key_file_to_data (file, NULL, NULL);
  tmp = g_strconcat (path, ".new", NULL);
  if (!g_file_set_contents_full (tmp, data, -1, G_FILE_SET_CONTENTS_NONE, 0600, &local_error) ||
      g_rename (tmp, path) != 0)
    {
      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_CONTAINER_FAILED,
                   "Cannot write the state of sandbox %.12s: %s", self->id,
                   local_error ? local_error->message : g_strerror (errno));
      g_unlink (tmp);
      return FALSE;
    }
  return TRUE;
}

/* Loads the sandbox with exactly @id; %LLMSBX_ERROR_CONTAINER_FAILED,
 * worded as the engines word it ("Container ID not found"), when there is none. */
LlmsbxBubblewrapSandbox *
llmsbx_bubblewrap_sandbox_load (const char  *store,
                                const char  *id,
                                GError     **error)
{
  g_autoptr(LlmsbxBubblewrapSandbox) self = NULL;
  g_autoptr(GKeyFile) file = g_key_file_new ();
  g_autofree char *path = NULL;

  if (id[0] == '\0' || strchr (id, '/') != NULL || id[0] == '.')
    {
      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_CONTAINER_FAILED, "Container %s not found", id);
      return NULL;
    }
  self = llmsbx_bubblewrap_sandbox_new (store, id);
  path = llmsbx_bubblewrap_sandbox_path (self, "state");
  if (!g_key_file_load_from_file (file, path, G_KEY_FILE_NONE, NULL))
    {
      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_CONTAINER_FAILED, "Container %s not found", id);
      return NULL;
    }

  self->name = g_key_file_get_string (file, GROUP, "Name", NULL);
  self->image = g_key_file_get_string (file, GROUP, "Image", NULL);
  self->image_id = g_key_file_get_string (file, GROUP, "ImageId", NULL);
  self->image_layers = g_key_file_get_string_list (file, GROUP, "ImageLayers", NULL, NULL);
  self->workdir = g_key_file_get_string (file, GROUP, "Workdir", NULL);
  self->cwd = g_key_file_get_string (file, GROUP, "Cwd", NULL);
  self->uid = (guint32) g_key_file_get_uint64 (file, GROUP, "Uid", NULL);
  self->gid = (guint32) g_key_file_get_uint64 (file, GROUP, "Gid", NULL);
  self->env = g_key_file_get_string_list (file, GROUP, "Env", NULL, NULL);
  self->labels = g_key_file_get_string_list (file, GROUP, "Labels", NULL, NULL);
  self->cgroups = g_key_file_get_string_list (file, GROUP, "Cgroups", NULL, NULL);
  self->read_only = g_key_file_get_boolean (file, GROUP, "ReadOnly", NULL);
  self->created = g_key_file_get_int64 (file, GROUP, "Created", NULL);
  self->helper_pid = g_key_file_get_int64 (file, GROUP, "HelperPid", NULL);
  self->helper_start = g_key_file_get_uint64 (file, GROUP, "HelperStart", NULL);
  self->init_pid = g_key_file_get_int64 (file, GROUP, "InitPid", NULL);
  self->init_start = g_key_file_get_uint64 (file, GROUP, "InitStart", NULL);
  if (self->env == NULL)
    self->env = g_new0 (char *, 1);
  if (self->labels == NULL)
    self->labels = g_new0 (char *, 1);
  return g_steal_pointer (&self);
}

/* Every sandbox of the store, in no particular order. */
GPtrArray *
llmsbx_bubblewrap_sandbox_list (const char *store)
{
  GPtrArray *sandboxes = g_ptr_array_new_with_free_func ((GDestroyNotify) llmsbx_bubblewrap_sandbox_unref);
  g_autofree char *path = g_build_filename (store, "sandboxes", NULL);
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *entry;

  while (dir != NULL && (entry = g_dir_read_name (dir)) != NULL)
    {
      LlmsbxBubblewrapSandbox *sandbox = llmsbx_bubblewrap_sandbox_load (store, entry, NULL);

      if (sandbox != NULL)
        g_ptr_array_add (sandboxes, sandbox);
    }
  return sandboxes;
}

/* By full id, by a unique id prefix of 12 or more characters (as the ids
 * logs show), or by name; %LLMSBX_ERROR_CONTAINER_FAILED naming it otherwise. */
LlmsbxBubblewrapSandbox *
llmsbx_bubblewrap_sandbox_find (const char  *store,
                                const char  *id_or_name,
                                GError     **error)
{
  g_autoptr(GPtrArray) all = NULL;
  LlmsbxBubblewrapSandbox *found = NULL;
  guint found_index = 0;
  LlmsbxBubblewrapSandbox *exact = llmsbx_bubblewrap_sandbox_load (store, id_or_name, NULL);

  if (exact != NULL)
    return exact;

  all = llmsbx_bubblewrap_sandbox_list (store);
  for (guint i = 0; i < all->len; i++)
    {
      LlmsbxBubblewrapSandbox *sandbox = all->pdata[i];

      if (g_strcmp0 (sandbox->name, id_or_name) == 0 ||
          (strlen (id_or_name) >= 12 && g_str_has_prefix (sandbox->id, id_or_name)))
        {
          if (found != NULL)
            {
              g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_CONTAINER_FAILED,
                           "More than one bubblewrap sandbox matches %s: give its full id", id_or_name);
              return NULL;
            }
          found = sandbox;
          found_index = i;
        }
    }
  if (found == NULL)
    {
      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_CONTAINER_FAILED,
                   "Container %s not found", id_or_name);
      return NULL;
    }
  return g_ptr_array_steal_index_fast (all, found_index);
}

/* The error of every call on a sandbox that stopped, worded as the engine
 * backends word it, so callers and tests see one message whatever the backend. */
gboolean
llmsbx_bubblewrap_sandbox_not_running (const char  *id,
                                       GError     **error)
{
  g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_CONTAINER_FAILED,
               "The sandbox %.12s is no longer running (its processes were killed or it exited)", id);
  return FALSE;
}

const char *
llmsbx_bubblewrap_sandbox_get_label (LlmsbxBubblewrapSandbox *self,
                                     const char              *key)
{
  gsize len = strlen (key);

  for (char **l = self->labels; l != NULL && *l != NULL; l++)
    if (strncmp (*l, key, len) == 0 && (*l)[len] == '=')
      return *l + len + 1;
  return NULL;
}

/* Whether the sandbox carries every `key=value` (that value) and `key`
 * (any value) of @label_selector. */
gboolean
llmsbx_bubblewrap_sandbox_matches (LlmsbxBubblewrapSandbox *self,
                                   const char * const      *label_selector)
{
  for (guint i = 0; label_selector != NULL && label_selector[i] != NULL; i++)
    {
      const char *eq = strchr (label_selector[i], '=');
      g_autofree char *key = eq ? g_strndup (label_selector[i], eq - label_selector[i]) : g_strdup (label_selector[i]);
      const char *value = llmsbx_bubblewrap_sandbox_get_label (self, key);

      if (value == NULL || (eq != NULL && !g_str_equal (value, eq + 1)))
        return FALSE;
    }
  return TRUE;
}

/* Field 22 of /proc/PID/stat: when the process started, in clock ticks
 * since boot; 0 when there is no such process. */
guint64
llmsbx_bubblewrap_process_start_time (gint64 pid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%" G_GINT64_FORMAT "/stat", pid);
  g_autofree char *stat = NULL;
  g_auto(GStrv) fields = NULL;
  const char *after_name;
  guint64 start = 0;

  if (pid <= 0 || !g_file_get_contents (path, &stat, NULL, NULL))
    return 0;
  /* The name in parentheses may hold spaces: fields start after its end. */
  after_name = strrchr (stat, ')');
  if (after_name == NULL)
    return 0;
  fields = g_strsplit (after_name + 2, " ", 0);
  /* Field 3 (the state) is fields[0], so field 22 is fields[19]. */
  if (g_strv_length (fields) > 19)
    g_ascii_string_to_unsigned (fields[19], 10, 0, G_MAXUINT64, &start, NULL);
  return start;
}

gboolean
llmsbx_bubblewrap_sandbox_helper_alive (LlmsbxBubblewrapSandbox *self)
{
  return self->helper_pid > 0 && llmsbx_bubblewrap_process_start_time (self->helper_pid) == self->helper_start;
}

gboolean
llmsbx_bubblewrap_sandbox_init_alive (LlmsbxBubblewrapSandbox *self)
{
  return self->init_pid > 0 && llmsbx_bubblewrap_process_start_time (self->init_pid) == self->init_start;
}

/* Cleans up after a sandbox whose helper is gone: its processes, its
 * cgroups, its directory. The mounts went with the helper's namespace. */
gboolean
llmsbx_bubblewrap_sandbox_reap (LlmsbxBubblewrapSandbox  *self,
                                GError                  **error)
{
  const char * const *cgroups = (const char * const *) self->cgroups;
  g_autoptr(GError) local_error = NULL;

  if (llmsbx_bubblewrap_sandbox_init_alive (self))
    kill ((pid_t) self->init_pid, SIGKILL);
  if (cgroups != NULL)
    llmsbx_cgroup_kill_all (cgroups);
  /* The directory last, as the monitor does: it names the cgroups. */
  if ((cgroups != NULL && !llmsbx_cgroup_remove_dirs (cgroups, &local_error)) ||
      !llmsbx_bubblewrap_remove_tree (self->dir, &local_error))
    {
      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_CONTAINER_FAILED,
                   "Could not remove what is left of sandbox %.12s: %s", self->id, local_error->message);
      return FALSE;
    }
  return TRUE;
}

/* The cgroups a sandbox @id would have, in any hierarchy: for a creation
 * that died after making them and before writing its state. */
static void
remove_cgroups_named (const char *id)
{
  const char *root = g_getenv ("LLMSBX_BUBBLEWRAP_CGROUP_ROOT");
  g_autoptr(GDir) hierarchies = NULL;
  g_autoptr(GPtrArray) dirs = g_ptr_array_new_with_free_func (g_free);
  const char *name;

  if (root == NULL || root[0] != '/')
    root = "/sys/fs/cgroup";
  g_ptr_array_add (dirs, g_build_filename (root, "llmsbx", id, NULL));
  hierarchies = g_dir_open (root, 0, NULL);
  while (hierarchies != NULL && (name = g_dir_read_name (hierarchies)) != NULL)
    g_ptr_array_add (dirs, g_build_filename (root, name, "llmsbx", id, NULL));
  for (guint i = 0; i < dirs->len; i++)
    g_rmdir (dirs->pdata[i]);
}

/* Reaps every sandbox of @store whose helper died (a client and its helper
 * killed together); returns how many. */
guint
llmsbx_bubblewrap_sandbox_reap_stale (const char *store)
{
  g_autofree char *path = g_build_filename (store, "sandboxes", NULL);
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *entry;
  guint reaped = 0;

  while (dir != NULL && (entry = g_dir_read_name (dir)) != NULL)
    {
      g_autoptr(LlmsbxBubblewrapSandbox) sandbox = llmsbx_bubblewrap_sandbox_load (store, entry, NULL);
      g_autoptr(GError) error = NULL;

      if (sandbox == NULL)
        {
          /* No state file: a creation that died before writing it, or a
           * directory someone else made; only old ones are touched. */
          g_autofree char *child = g_build_filename (path, entry, NULL);
          GStatBuf st;

          if (g_lstat (child, &st) == 0 && S_ISDIR (st.st_mode) &&
              (gint64) st.st_mtime * G_USEC_PER_SEC + CREATION_GRACE_US < g_get_real_time ())
            {
              remove_cgroups_named (entry);
              llmsbx_bubblewrap_remove_tree (child, NULL);
            }
          continue;
        }
      if (llmsbx_bubblewrap_sandbox_helper_alive (sandbox) ||
          (sandbox->helper_pid == 0 && sandbox->created + CREATION_GRACE_US > g_get_real_time ()))
        continue;

      if (llmsbx_bubblewrap_sandbox_reap (sandbox, &error))
        {
          g_debug ("Removed sandbox %.12s, whose helper had died", sandbox->id);
          reaped++;
        }
      else
        g_warning ("%s", error->message);
    }
  return reaped;
}
