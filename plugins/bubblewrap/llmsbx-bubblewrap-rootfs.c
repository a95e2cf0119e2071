/* llmsbx-bubblewrap-rootfs.c: the image store of the bubblewrap backend.
 *
 * Images are directory trees, unpacked once and shared read-only by every
 * sandbox, each of which gets its own writable overlay on top. The store is
 * $LLMSBX_BUBBLEWRAP_STORE, else /var/lib/llmsbx/bubblewrap for root and
 * $XDG_DATA_HOME/llmsbx/bubblewrap for other users (docs/images.md):
 *
 *   images/ID/rootfs   a layer: the tree itself
 *   images/ID/config   a key file: [Image] Name, Layers (top first; this
 *                      image's own when missing), Env, WorkingDir, RecipeHash
 *   tags/NAME          the ID a reference names, NAME URI-escaped
 *   sandboxes/ID       the state of running sandboxes (llmsbx-bubblewrap-sandbox.c)
 *
 * images/build-offline.sh --engine bubblewrap writes images named by their
 * recipe hash, so an unchanged recipe is never unpacked twice; a commit adds
 * an image whose one new layer is a copy of the sandbox's upper layer. */
#include "llmsbx-bubblewrap-rootfs.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <glib/gstdio.h>

#include "llmsbx-bubblewrap-cleanup.h"

#define STORE_VARIABLE "LLMSBX_BUBBLEWRAP_STORE"
#define GROUP "Image"

/**
 * llmsbx_bubblewrap_store_dir:
 *
 * Returns: (transfer full): where images and sandboxes live
 */
char *
llmsbx_bubblewrap_store_dir (void)
{
  const char *configured = g_getenv (STORE_VARIABLE);

  /* Environment variables are not trusted in setuid processes, as for plugins. */
  if (configured != NULL && configured[0] == '/' && getuid () == geteuid () && getgid () == getegid ())
    return g_strdup (configured);
  if (getuid () == 0)
    return g_strdup ("/var/lib/llmsbx/bubblewrap");
  return g_build_filename (g_get_user_data_dir (), "llmsbx", "bubblewrap", NULL);
}

/* `name` means `name:latest`, as for the engines. */
char *
llmsbx_bubblewrap_normalize_reference (const char *reference)
{
  const char *slash = strrchr (reference, '/');

  if (strchr (slash ? slash : reference, ':') != NULL || strchr (reference, '@') != NULL)
    return g_strdup (reference);
  return g_strconcat (reference, ":latest", NULL);
}

static char *
tag_path (const char *store,
          const char *name)
{
  g_autofree char *escaped = g_uri_escape_string (name, NULL, FALSE);

  return g_build_filename (store, "tags", escaped, NULL);
}

void
llmsbx_bubblewrap_image_free (LlmsbxBubblewrapImage *self)
{
  if (self == NULL)
    return;
  g_free (self->id);
  g_free (self->name);
  g_strfreev (self->layer_ids);
  g_strfreev (self->layers);
  g_strfreev (self->env);
  g_free (self->working_dir);
  g_free (self);
}

static gboolean
valid_id (const char *id)
{
  return id[0] != '\0' && strlen (id) <= 128 &&
         strspn (id, "0123456789abcdefghijklmnopqrstuvwxyz") == strlen (id);
}

static void
not_found (const char  *store,
           const char  *name,
           GError     **error)
{
  g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_IMAGE_NOT_FOUND,
               "Image %s is not present locally and could not be pulled: the bubblewrap backend pulls from "
               "no registry; build it into its image store %s with `llmsbx images build --backend bubblewrap "
               "LANG` (images/build-offline.sh --engine bubblewrap LANG), or commit a sandbox to it",
               name, store);
}

/**
 * llmsbx_bubblewrap_image_lookup:
 * @store: the store directory
 * @reference: an image reference
 * @error: return location for a #GError
 *
 * Finds @reference in the store. Fails with %LLMSBX_ERROR_IMAGE_NOT_FOUND,
 * naming the command that builds it.
 *
 * Returns: (transfer full): the image, or %NULL on error
 */
LlmsbxBubblewrapImage *
llmsbx_bubblewrap_image_lookup (const char  *store,
                                const char  *reference,
                                GError     **error)
{
  g_autofree char *name = llmsbx_bubblewrap_normalize_reference (reference);
  g_autofree char *tag = tag_path (store, name);
  g_autofree char *id = NULL;

  if (!g_file_get_contents (tag, &id, NULL, NULL))
    {
      not_found (store, name, error);
      return NULL;
    }
  g_strstrip (id);
  return llmsbx_bubblewrap_image_load (store, id, name, error);
}

/**
 * llmsbx_bubblewrap_image_load:
 * @store: the store directory
 * @id: an image's id
 * @name: the name to report it by
 * @error: return location for a #GError
 *
 * Reads image @id, whatever tags point at it now.
 *
 * Returns: (transfer full): the image, or %NULL on error
 */
LlmsbxBubblewrapImage *
llmsbx_bubblewrap_image_load (const char  *store,
                              const char  *id,
                              const char  *name,
                              GError     **error)
{
  g_autofree char *config_path = NULL;
  g_autoptr(GKeyFile) config = g_key_file_new ();
  g_autoptr(GError) local_error = NULL;
  g_autoptr(LlmsbxBubblewrapImage) self = NULL;
  g_autoptr(GStrvBuilder) layers = g_strv_builder_new ();

  config_path = g_build_filename (store, "images", id, "config", NULL);
  if (!valid_id (id) || !g_key_file_load_from_file (config, config_path, G_KEY_FILE_NONE, &local_error))
    {
      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_IMAGE_NOT_FOUND,
                   "Image %s in the bubblewrap image store is damaged or gone (%s): build it again",
                   name, local_error ? local_error->message : id);
      return NULL;
    }

  self = g_new0 (LlmsbxBubblewrapImage, 1);
  self->id = g_strdup (id);
  self->name = g_strdup (name);
  self->layer_ids = g_key_file_get_string_list (config, GROUP, "Layers", NULL, NULL);
  if (self->layer_ids == NULL || self->layer_ids[0] == NULL)
    {
      g_strfreev (self->layer_ids);
      self->layer_ids = g_new0 (char *, 2);
      self->layer_ids[0] = g_strdup (id);
    }
  for (guint i = 0; self->layer_ids[i] != NULL; i++)
    {
      g_autofree char *rootfs = g_build_filename (store, "images", self->layer_ids[i], "rootfs", NULL);

      /* Overlay options are separated by ',' and layers by ':'. */
      if (!valid_id (self->layer_ids[i]) || !g_file_test (rootfs, G_FILE_TEST_IS_DIR) ||
          strpbrk (rootfs, ",:\\") != NULL)
        {
          g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_IMAGE_NOT_FOUND,
                       "Image %s in the bubblewrap image store lacks its layer %s (or its path holds ',' or "
                       "':'): build it again", name, rootfs);
          return NULL;
        }
      g_strv_builder_add (layers, rootfs);
    }
  self->layers = g_strv_builder_end (layers);
  self->env = g_key_file_get_string_list (config, GROUP, "Env", NULL, NULL);
  if (self->env == NULL)
    self->env = g_new0 (char *, 1);
  self->working_dir = g_key_file_get_string (config, GROUP, "WorkingDir", NULL);
  return g_steal_pointer (&self);
}

/* The first layer, from the top, that has @file (etc/passwd). */
static char *
read_from_layers (LlmsbxBubblewrapImage *self,
                  const char            *file)
{
  for (guint i = 0; self->layers[i] != NULL; i++)
    {
      g_autofree char *path = g_build_filename (self->layers[i], file, NULL);
      char *contents = NULL;

      if (g_file_get_contents (path, &contents, NULL, NULL))
        return contents;
    }
  return NULL;
}

/* Finds @name (or the number @name) in a passwd or group file: its fields. */
static char **
find_entry (const char *contents,
            const char *name,
            guint       id_field)
{
  g_auto(GStrv) lines = g_strsplit (contents ? contents : "", "\n", -1);

  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_auto(GStrv) fields = g_strsplit (lines[i], ":", -1);

      if (g_strv_length (fields) > id_field &&
          (g_str_equal (fields[0], name) || g_str_equal (fields[id_field], name)))
        return g_steal_pointer (&fields);
    }
  return NULL;
}

static gboolean
parse_id (const char *text,
          guint32    *id)
{
  guint64 number;

  if (!g_ascii_string_to_unsigned (text, 10, 0, G_MAXUINT32 - 1, &number, NULL))
    return FALSE;
  *id = (guint32) number;
  return TRUE;
}

/**
 * llmsbx_bubblewrap_image_resolve_user:
 * @self: an image
 * @user: (nullable): `name[:group]` or `uid[:gid]`; %NULL for root
 * @uid: (out): the user id
 * @gid: (out): the group id
 * @home: (out) (transfer full): the user's home directory, `/` when the image has none
 * @error: return location for a #GError
 *
 * Reads @user as the image's /etc/passwd and /etc/group know it, as the
 * engines do: a number needs no entry (its group is then 0 unless given).
 */
gboolean
llmsbx_bubblewrap_image_resolve_user (LlmsbxBubblewrapImage  *self,
                                      const char             *user,
                                      guint32                *uid,
                                      guint32                *gid,
                                      char                  **home,
                                      GError                **error)
{
  g_autofree char *passwd = read_from_layers (self, "etc/passwd");
  g_autofree char *user_part = NULL;
  g_auto(GStrv) entry = NULL;
  const char *group_part;

  if (user == NULL || user[0] == '\0')
    user = "0";
  group_part = strchr (user, ':');
  user_part = group_part ? g_strndup (user, group_part - user) : g_strdup (user);
  if (group_part != NULL)
    group_part++;

  entry = find_entry (passwd, user_part, 2);
  if (parse_id (user_part, uid))
    *gid = entry && g_strv_length (entry) > 3 && parse_id (entry[3], gid) ? *gid : 0;
  else if (entry != NULL && parse_id (entry[2], uid) && g_strv_length (entry) > 3 && parse_id (entry[3], gid))
    ;
  else
    {
      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
                   "The user '%s' of runtime config key 'user' is not in the image's /etc/passwd", user_part);
      return FALSE;
    }

  if (group_part != NULL && group_part[0] != '\0' && !parse_id (group_part, gid))
    {
      g_autofree char *groups = read_from_layers (self, "etc/group");
      g_auto(GStrv) group = find_entry (groups, group_part, 2);

      if (group == NULL || !parse_id (group[2], gid))
        {
          g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
                       "The group '%s' of runtime config key 'user' is not in the image's /etc/group", group_part);
          return FALSE;
        }
    }

  *home = g_strdup (entry && g_strv_length (entry) > 5 && entry[5][0] == '/' ? entry[5] : "/");
  return TRUE;
}

static gboolean
copy_tree (const char    *source,
           const char    *dest,
           GCancellable  *cancellable,
           GError       **error)
{
  g_autofree char *contents = g_build_filename (source, ".", NULL);
  g_autoptr(GSubprocess) cp = NULL;
  g_autofree char *err = NULL;

  if (g_mkdir_with_parents (dest, 0755) != 0)
    {
      int saved = errno;
      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_CONTAINER_FAILED,
                   "Cannot create %s: %s", dest, g_strerror (saved));
      return FALSE;
    }
  /* cp keeps overlay whiteouts (character devices) and their xattrs. */
  cp = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDERR_PIPE, error,
                         "cp", "-a", "--reflink=auto", "--", contents, dest, NULL);
  if (cp == NULL || !g_subprocess_communicate_utf8 (cp, NULL, cancellable, NULL, &err, error))
    return FALSE;
  if (!g_subprocess_get_successful (cp))
    {
      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_CONTAINER_FAILED,
                   "Copying the sandbox's files into the image store failed: %s", g_strstrip (err));
      return FALSE;
    }
  return TRUE;
}

static gboolean
write_atomically (const char  *path,
                  const char  *contents,
                  GError     **error)
{
  g_autofree char *dir = g_path_get_dirname (path);
  g_autoptr(GError) local_error = NULL;

  if (g_mkdir_with_parents (dir, 0755) != 0 ||
      !g_file_set_contents (path, contents, -1, &local_error))
    {
      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_CONTAINER_FAILED, "Cannot write %s: %s", path,
                   local_error ? local_error->message : g_strerror (errno));
      return FALSE;
    }
  return TRUE;
}

/**
 * llmsbx_bubblewrap_image_commit:
 * @store: the store directory
 * @base: the image the sandbox runs
 * @upper: (nullable): the sandbox's upper layer, %NULL for a read-only root
 * @extra_dir: (nullable): a directory to add at @extra_target (a read-only
 *   root's working directory, which is not in any layer)
 * @extra_target: (nullable): where @extra_dir goes in the image
 * @name: the reference to give the new image
 * @labels: (array zero-terminated=1) (nullable): `key=value` labels the image
 *   keeps, as an engine's commit keeps the container's
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Saves what a sandbox changed as a new image: @base's layers with one more
 * on top, and points @name at it.
 */
gboolean
llmsbx_bubblewrap_image_commit (const char             *store,
                                LlmsbxBubblewrapImage  *base,
                                const char             *upper,
                                const char             *extra_dir,
                                const char             *extra_target,
                                const char             *name,
                                const char * const     *labels,
                                GCancellable           *cancellable,
                                GError                **error)
{
  g_autofree char *normalized = llmsbx_bubblewrap_normalize_reference (name);
  g_autofree char *id = g_uuid_string_random ();
  g_autofree char *dir = NULL;
  g_autofree char *staging = NULL;
  g_autofree char *rootfs = NULL;
  g_autofree char *config_path = NULL;
  g_autofree char *config_text = NULL;
  g_autofree char *tag = NULL;
  g_autofree char *tag_text = NULL;
  g_autoptr(GKeyFile) config = g_key_file_new ();
  g_autoptr(GStrvBuilder) layers = g_strv_builder_new ();
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *created = g_date_time_format_iso8601 (now);
  g_auto(GStrv) layer_ids = NULL;

  /* An id of lowercase hex, like the recipe hashes. */
  for (char *p = id, *q = id; ; p++)
    {
      if (*p != '-')
        *q++ = *p;
      if (*p == '\0')
        break;
    }

  dir = g_build_filename (store, "images", id, NULL);
  staging = g_strconcat (dir, ".tmp", NULL);
  rootfs = g_build_filename (staging, "rootfs", NULL);
  if ((upper != NULL && !copy_tree (upper, rootfs, cancellable, error)) ||
      (upper == NULL && g_mkdir_with_parents (rootfs, 0755) != 0))
    goto fail;
  if (extra_dir != NULL)
    {
      g_autofree char *target = g_build_filename (rootfs, extra_target, NULL);

      if (!copy_tree (extra_dir, target, cancellable, error))
        goto fail;
    }

  g_strv_builder_add (layers, id);
  g_strv_builder_addv (layers, (const char **) base->layer_ids);
  layer_ids = g_strv_builder_end (layers);
  g_key_file_set_string (config, GROUP, "Name", normalized);
  g_key_file_set_string_list (config, GROUP, "Layers", (const char * const *) layer_ids, g_strv_length (layer_ids));
  g_key_file_set_string_list (config, GROUP, "Env", (const char * const *) base->env, g_strv_length (base->env));
  if (base->working_dir != NULL)
    g_key_file_set_string (config, GROUP, "WorkingDir", base->working_dir);
  g_key_file_set_string (config, GROUP, "CommittedFrom", base->name);
  if (labels != NULL)
    g_key_file_set_string_list (config, GROUP, "Labels", labels, g_strv_length ((char **) labels));
  g_key_file_set_string (config, GROUP, "Created", created);
  config_path = g_build_filename (staging, "config", NULL);
  config_text = g_key_file_to_data (config, NULL, NULL);
  if (!write_atomically (config_path, config_text, error))
    goto fail;
  if (g_rename (staging, dir) != 0)
    {
      int saved = errno;
      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_CONTAINER_FAILED,
                   "Cannot add the image to the store (%s): %s", dir, g_strerror (saved));
      goto fail;
    }

  tag = tag_path (store, normalized);
  tag_text = g_strconcat (id, "\n", NULL);
  return write_atomically (tag, tag_text, error);

fail:
  llmsbx_bubblewrap_remove_tree (staging, NULL);
  return FALSE;
}

/* Whether any tag, image or sandbox of the store still uses image @id. */
static gboolean
image_in_use (const char *store,
              const char *id)
{
  static const char * const dirs[] = { "tags", "images", "sandboxes", NULL };

  for (guint d = 0; dirs[d] != NULL; d++)
    {
      g_autofree char *path = g_build_filename (store, dirs[d], NULL);
      g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
      const char *entry;

      while (dir != NULL && (entry = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *file = NULL;
          g_autofree char *contents = NULL;

          if (g_str_equal (dirs[d], "tags"))
            file = g_build_filename (path, entry, NULL);
          else if (g_str_equal (dirs[d], "images"))
            file = g_strcmp0 (entry, id) == 0 ? NULL : g_build_filename (path, entry, "config", NULL);
          else
            file = g_build_filename (path, entry, "state", NULL);

          /* Ids are long random or hash words: a plain search is exact enough. */
          if (file != NULL && g_file_get_contents (file, &contents, NULL, NULL) && strstr (contents, id) != NULL)
            return TRUE;
        }
    }
  return FALSE;
}

/* The layer ids of image @id, from its config: its own first. */
static char **
image_layer_ids (const char *store,
                 const char *id)
{
  g_autofree char *path = g_build_filename (store, "images", id, "config", NULL);
  g_autoptr(GKeyFile) config = g_key_file_new ();

  if (!g_key_file_load_from_file (config, path, G_KEY_FILE_NONE, NULL))
    return NULL;
  return g_key_file_get_string_list (config, GROUP, "Layers", NULL, NULL);
}

/**
 * llmsbx_bubblewrap_image_remove:
 * @store: the store directory
 * @reference: an image reference
 * @error: return location for a #GError
 *
 * Removes the tag @reference, and its image when nothing else uses it (a
 * running sandbox, another tag, an image built on it). The images below it
 * go too when they were only its layers: untagged and used by nothing else
 * (an earlier commit to the same name), as an engine removes an image's
 * untagged parents with it.
 */
gboolean
llmsbx_bubblewrap_image_remove (const char  *store,
                                const char  *reference,
                                GError     **error)
{
  g_autofree char *name = llmsbx_bubblewrap_normalize_reference (reference);
  g_autofree char *tag = tag_path (store, name);
  g_autofree char *id = NULL;
  g_auto(GStrv) layer_ids = NULL;

  if (!g_file_get_contents (tag, &id, NULL, NULL))
    {
      not_found (store, name, error);
      return FALSE;
    }
  g_strstrip (id);
  if (g_unlink (tag) != 0)
    {
      int saved = errno;
      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_FAILED, "Cannot remove %s: %s", tag, g_strerror (saved));
      return FALSE;
    }
  if (!valid_id (id))
    return TRUE;

  /* Top down: each removal may leave the next layer unused. */
  layer_ids = image_layer_ids (store, id);
  for (guint i = 0; ; i++)
    {
      const char *layer = i == 0 ? id : layer_ids != NULL ? layer_ids[i] : NULL;
      g_autofree char *dir = NULL;

      if (layer == NULL || !valid_id (layer) || (i > 0 && g_str_equal (layer, id)) || image_in_use (store, layer))
        return TRUE;
      dir = g_build_filename (store, "images", layer, NULL);
      if (!llmsbx_bubblewrap_remove_tree (dir, error))
        return FALSE;
      if (layer_ids == NULL)
        return TRUE;
    }
}
