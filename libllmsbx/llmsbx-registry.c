/* llmsbx-registry.c: finds plugins and keeps the backends and languages they register. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "llmsbx-error.h"
#include "llmsbx-backend-names.h"
#include "llmsbx-plugin.h"
#include "llmsbx-registry-private.h"

/**
 * LlmsbxRegistry:
 *
 * Knows the backends (Docker, Podman, ...) and language handlers a session can
 * use, by name, and which backend a session uses when it names none. Plugins
 * provide them: shared objects exporting an #LlmsbxPluginDescriptor (see
 * LLMSBX_PLUGIN_DEFINE()), found in these directories, in this order:
 *
 * 1. the directories listed in `LLMSBX_PLUGIN_PATH`, separated by colons;
 * 2. the directories listed in `LLMSBX_PLUGIN_SYSTEM_PATH` when it is set (set
 *    to the empty string, it disables the installed plugins), otherwise the
 *    installed plugin directory, `$libdir/llmsbx-1.0/plugins`.
 *
 * Both variables are ignored in setuid and setgid processes. When two plugins
 * have the same name, the first one found wins, so a directory in
 * `LLMSBX_PLUGIN_PATH` can hold a newer build of an installed plugin.
 *
 * Applications can also register backends and language handlers at run time,
 * for example a Python subclass of #LlmsbxLanguageConfig. A registration
 * replaces an earlier one of the same name, and the default registry loads its
 * plugins before it registers anything else, so an application's own handler
 * wins over a plugin's whenever it is registered.
 *
 * Backends have a rank (#LlmsbxRank), as GStreamer's elements do: a session
 * that names no backend gets the one `LLMSBX_BACKEND` names, else the first
 * that answers llmsbx_backend_probe() by falling rank (see
 * llmsbx_registry_get_default_backend_name()). Backends and languages are one
 * table of features, in the order they were first registered.
 *
 * All methods may be called from any thread.
 *
 * Since: 0.1
 */
struct _LlmsbxRegistry
{
  GObject parent_instance;

  /* Serialises ensure_plugins(); recursive because a plugin's init function may
   * itself call a method that would load the plugins. */
  GRecMutex load_lock;
  gboolean load_on_first_use;
  gboolean plugins_loaded;

  GStrv search_path;

  /* Guards what follows. Never held while calling out (plugin init functions,
   * handlers, constructors), so what they call back cannot deadlock. */
  GMutex lock;
  GHashTable *plugins;          /* name → path of the shared object */
  GPtrArray *plugin_errors;     /* messages, in the order they happened */
  GPtrArray *features;          /* Feature, in the order they were first registered */
  char *default_backend;        /* the probed choice, until a backend is registered */
};

G_DEFINE_FINAL_TYPE (LlmsbxRegistry, llmsbx_registry, G_TYPE_OBJECT)

/* What plugins and applications register, one table for every kind, as
 * GStreamer's registry holds plugin features. */
typedef enum {
  FEATURE_BACKEND,
  FEATURE_LANGUAGE,
} FeatureKind;

typedef struct {
  FeatureKind             kind;
  char                   *name;     /* lower case */
  guint                   rank;     /* backends */
  GType                   type;     /* backends */
  LlmsbxLanguageHandler  *handler;  /* languages */
} Feature;

static void
feature_free (Feature *feature)
{
  g_free (feature->name);
  g_clear_object (&feature->handler);
  g_free (feature);
}

/* The environment of a setuid or setgid process belongs to the user who
 * started it, who must not choose the code it loads. */
static const char *
trusted_getenv (const char *variable)
{
  if (getuid () != geteuid () || getgid () != getegid ())
    return NULL;

  return g_getenv (variable);
}

static void
add_directories (GPtrArray  *path,
                 const char *list)
{
  g_auto(GStrv) dirs = g_strsplit (list, G_SEARCHPATH_SEPARATOR_S, -1);

  for (guint i = 0; dirs[i] != NULL; i++)
    {
      if (dirs[i][0] == '\0' ||
          g_ptr_array_find_with_equal_func (path, dirs[i], g_str_equal, NULL))
        continue;
      g_ptr_array_add (path, g_strdup (dirs[i]));
    }
}

static GStrv
build_search_path (void)
{
  GPtrArray *path = g_ptr_array_new ();
  const char *extra = trusted_getenv ("LLMSBX_PLUGIN_PATH");
  const char *system = trusted_getenv ("LLMSBX_PLUGIN_SYSTEM_PATH");

  if (extra != NULL)
    add_directories (path, extra);
  add_directories (path, system != NULL ? system : LLMSBX_PLUGINDIR);
  g_ptr_array_add (path, NULL);

  return (GStrv) g_ptr_array_free (path, FALSE);
}

static int
compare_strings (gconstpointer a,
                 gconstpointer b)
{
  return strcmp (*(const char * const *) a, *(const char * const *) b);
}

static char *
join_or_none (GStrv names)
{
  return names[0] != NULL ? g_strjoinv (", ", names) : g_strdup ("none");
}

static void
llmsbx_registry_finalize (GObject *object)
{
  LlmsbxRegistry *self = LLMSBX_REGISTRY (object);

  g_strfreev (self->search_path);
  g_hash_table_unref (self->plugins);
  g_ptr_array_unref (self->plugin_errors);
  g_ptr_array_unref (self->features);
  g_free (self->default_backend);
  g_mutex_clear (&self->lock);
  g_rec_mutex_clear (&self->load_lock);

  G_OBJECT_CLASS (llmsbx_registry_parent_class)->finalize (object);
}

static void
llmsbx_registry_class_init (LlmsbxRegistryClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = llmsbx_registry_finalize;
}

static void
llmsbx_registry_init (LlmsbxRegistry *self)
{
  g_rec_mutex_init (&self->load_lock);
  g_mutex_init (&self->lock);
  self->search_path = build_search_path ();
  self->plugins = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->plugin_errors = g_ptr_array_new_with_free_func (g_free);
  self->features = g_ptr_array_new_with_free_func ((GDestroyNotify) feature_free);
}

/**
 * llmsbx_registry_get_default:
 *
 * Gets the registry sessions use. It loads the plugins of its search path the
 * first time it is asked for a backend, a language or a list, or to register
 * one; the search path is read from the environment when this function is
 * first called.
 *
 * Returns: (transfer none): the default registry
 *
 * Since: 0.1
 */
LlmsbxRegistry *
llmsbx_registry_get_default (void)
{
  static LlmsbxRegistry *default_registry;

  if (g_once_init_enter (&default_registry))
    {
      LlmsbxRegistry *registry = llmsbx_registry_new ();

      registry->load_on_first_use = TRUE;
      g_once_init_leave (&default_registry, registry);
    }

  return default_registry;
}

/**
 * llmsbx_registry_new:
 *
 * Creates an empty registry that loads plugins only when asked to (with
 * llmsbx_registry_ensure_plugins(), llmsbx_registry_load_directory() or
 * llmsbx_registry_load_plugin()). Sessions use the default registry; this is
 * for tests and for applications that choose their plugins themselves.
 *
 * Returns: (transfer full): a new #LlmsbxRegistry
 *
 * Since: 0.1
 */
LlmsbxRegistry *
llmsbx_registry_new (void)
{
  return g_object_new (LLMSBX_TYPE_REGISTRY, NULL);
}

static void
record_error (LlmsbxRegistry *self,
              const GError   *error)
{
  g_debug ("%s", error->message);

  g_mutex_lock (&self->lock);
  g_ptr_array_add (self->plugin_errors, g_strdup (error->message));
  g_mutex_unlock (&self->lock);
}

static gboolean
plugin_error (GError    **error,
              const char *path,
              const char *format,
              ...) G_GNUC_PRINTF (3, 4);

static gboolean
plugin_error (GError    **error,
              const char *path,
              const char *format,
              ...)
{
  g_autofree char *reason = NULL;
  va_list args;

  va_start (args, format);
  reason = g_strdup_vprintf (format, args);
  va_end (args);

  g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_PLUGIN,
               "Cannot load plugin %s: %s", path, reason);
  return FALSE;
}

/* Loads one plugin. Sets @shadowed when it was refused only because a plugin
 * of the same name is already loaded, which the search order intends. */
static gboolean
load_plugin (LlmsbxRegistry  *self,
             const char      *path,
             gboolean        *shadowed,
             GError         **error)
{
  g_autoptr(GError) local_error = NULL;
  const LlmsbxPluginDescriptor *descriptor;
  g_autofree char *loaded_from = NULL;
  GModule *module;
  gpointer symbol = NULL;
  gsize path_len = strlen (path);

  *shadowed = FALSE;

  module = g_module_open_full (path, G_MODULE_BIND_LOCAL | G_MODULE_BIND_LAZY, &local_error);
  if (module == NULL)
    {
      const char *reason = local_error->message;

      /* dlerror() starts with the path, which the message names already. */
      if (strncmp (reason, path, path_len) == 0 && strncmp (reason + path_len, ": ", 2) == 0)
        reason += path_len + 2;
      return plugin_error (error, path, "%s", reason);
    }

  if (!g_module_symbol (module, LLMSBX_PLUGIN_ENTRY_SYMBOL, &symbol) || symbol == NULL)
    {
      g_module_close (module);
      return plugin_error (error, path, "no symbol %s", LLMSBX_PLUGIN_ENTRY_SYMBOL);
    }

  descriptor = symbol;
  if (descriptor->abi_version != LLMSBX_PLUGIN_ABI_VERSION)
    {
      guint32 abi = descriptor->abi_version;

      g_module_close (module);
      return plugin_error (error, path, "built for plugin ABI %u, this library has %u",
                           abi, LLMSBX_PLUGIN_ABI_VERSION);
    }

  /* A later release may append fields without changing the ABI version;
   * a smaller descriptor would make us read past its end. */
  if (descriptor->struct_size < sizeof (LlmsbxPluginDescriptor))
    {
      guint32 size = descriptor->struct_size;

      g_module_close (module);
      return plugin_error (error, path, "its descriptor has %u bytes, plugin ABI %u needs %zu",
                           size, LLMSBX_PLUGIN_ABI_VERSION, sizeof (LlmsbxPluginDescriptor));
    }

  if (descriptor->name == NULL || descriptor->name[0] == '\0' || descriptor->init == NULL)
    {
      g_module_close (module);
      return plugin_error (error, path, "its descriptor has no %s",
                           descriptor->init == NULL ? "init function" : "name");
    }

  /* Reserve the name before init runs, so two threads cannot load it twice. */
  g_mutex_lock (&self->lock);
  loaded_from = g_strdup (g_hash_table_lookup (self->plugins, descriptor->name));
  if (loaded_from == NULL)
    g_hash_table_insert (self->plugins, g_strdup (descriptor->name), g_strdup (path));
  g_mutex_unlock (&self->lock);

  if (loaded_from != NULL)
    {
      g_autofree char *name = g_strdup (descriptor->name);

      g_module_close (module);
      *shadowed = TRUE;
      return plugin_error (error, path, "a plugin named '%s' is already loaded from %s",
                           name, loaded_from);
    }

  /* Once init runs the plugin may have registered GTypes, which can never be
   * unregistered, so from here on the module stays loaded even if init fails.
   * Closing it below only drops our reference. */
  g_module_make_resident (module);

  if (!descriptor->init (self, &local_error))
    {
      g_mutex_lock (&self->lock);
      g_hash_table_remove (self->plugins, descriptor->name);
      g_mutex_unlock (&self->lock);
      g_module_close (module);

      return plugin_error (error, path, "init failed: %s",
                           local_error != NULL ? local_error->message : "no reason given");
    }

  g_debug ("Loaded plugin %s %s from %s", descriptor->name,
           descriptor->version != NULL ? descriptor->version : "", path);
  g_module_close (module);
  return TRUE;
}

/**
 * llmsbx_registry_load_plugin:
 * @self: a #LlmsbxRegistry
 * @path: (type filename): the plugin's shared object
 * @error: return location for a #GError
 *
 * Loads one plugin: checks its descriptor, keeps it loaded for the life of the
 * process and calls its init function, which registers what it provides.
 *
 * Fails with %LLMSBX_ERROR_PLUGIN, with a message naming the file and the
 * reason, when the file cannot be loaded, exports no descriptor, was built for
 * another plugin ABI, has the name of a plugin already loaded, or its init
 * function fails. The failure is also kept for
 * llmsbx_registry_list_plugin_errors(), unless the plugin was only shadowed by
 * one of the same name.
 *
 * Once its init function has run, a plugin stays loaded even when it failed,
 * and what it registered before failing stays registered: it may have created
 * types, which can never be unregistered.
 *
 * Returns: %TRUE when the plugin was loaded
 *
 * Since: 0.1
 */
gboolean
llmsbx_registry_load_plugin (LlmsbxRegistry  *self,
                             const char      *path,
                             GError         **error)
{
  g_autoptr(GError) local_error = NULL;
  gboolean shadowed;

  g_return_val_if_fail (LLMSBX_IS_REGISTRY (self), FALSE);
  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (load_plugin (self, path, &shadowed, &local_error))
    return TRUE;

  if (!shadowed)
    record_error (self, local_error);
  g_propagate_error (error, g_steal_pointer (&local_error));
  return FALSE;
}

/**
 * llmsbx_registry_load_directory:
 * @self: a #LlmsbxRegistry
 * @directory: (type filename): a directory of plugins
 * @error: return location for a #GError
 *
 * Loads every plugin (`*.so`) in @directory, in the order of their file names.
 * A plugin that fails does not stop the others: every failure is kept for
 * llmsbx_registry_list_plugin_errors() and logged with g_debug(), and the
 * first one is returned, so a caller knows something is missing while the
 * plugins that loaded stay usable. A plugin that has the name of one already
 * loaded is skipped without an error: it is shadowed by a directory searched
 * earlier.
 *
 * Returns: %TRUE when the directory was read and all its plugins loaded
 *
 * Since: 0.1
 */
gboolean
llmsbx_registry_load_directory (LlmsbxRegistry  *self,
                                const char      *directory,
                                GError         **error)
{
  g_autoptr(GError) first_error = NULL;
  g_autoptr(GError) local_error = NULL;
  g_autoptr(GPtrArray) files = NULL;
  g_autoptr(GDir) dir = NULL;
  const char *file;

  g_return_val_if_fail (LLMSBX_IS_REGISTRY (self), FALSE);
  g_return_val_if_fail (directory != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  dir = g_dir_open (directory, 0, &local_error);
  if (dir == NULL)
    {
      g_prefix_error (&local_error, "Cannot read plugin directory %s: ", directory);
      record_error (self, local_error);
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }

  files = g_ptr_array_new_with_free_func (g_free);
  while ((file = g_dir_read_name (dir)) != NULL)
    if (g_str_has_suffix (file, "." G_MODULE_SUFFIX))
      g_ptr_array_add (files, g_build_filename (directory, file, NULL));
  g_ptr_array_sort (files, compare_strings);

  for (guint i = 0; i < files->len; i++)
    {
      const char *path = g_ptr_array_index (files, i);
      gboolean shadowed;

      if (load_plugin (self, path, &shadowed, &local_error))
        continue;

      if (shadowed)
        g_debug ("Skipping plugin: %s", local_error->message);
      else
        {
          record_error (self, local_error);
          if (first_error == NULL)
            first_error = g_steal_pointer (&local_error);
        }
      g_clear_error (&local_error);
    }

  if (first_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&first_error));
      return FALSE;
    }
  return TRUE;
}

/**
 * llmsbx_registry_ensure_plugins:
 * @self: a #LlmsbxRegistry
 *
 * Loads the plugins of every directory of the search path (see
 * llmsbx_registry_get_search_path()), once: later calls do nothing. Directories
 * that do not exist are skipped; what fails is kept for
 * llmsbx_registry_list_plugin_errors(). The default registry calls this the
 * first time it is asked for a backend, a language or a list, or to register one.
 *
 * Since: 0.1
 */
void
llmsbx_registry_ensure_plugins (LlmsbxRegistry *self)
{
  g_return_if_fail (LLMSBX_IS_REGISTRY (self));

  g_rec_mutex_lock (&self->load_lock);
  if (!self->plugins_loaded)
    {
      self->plugins_loaded = TRUE;
      for (guint i = 0; self->search_path[i] != NULL; i++)
        {
          if (!g_file_test (self->search_path[i], G_FILE_TEST_IS_DIR))
            g_debug ("Plugin directory %s does not exist", self->search_path[i]);
          else
            llmsbx_registry_load_directory (self, self->search_path[i], NULL);
        }
    }
  g_rec_mutex_unlock (&self->load_lock);
}

static void
ensure_plugins_if_default (LlmsbxRegistry *self)
{
  if (self->load_on_first_use)
    llmsbx_registry_ensure_plugins (self);
}

/**
 * llmsbx_registry_get_search_path:
 * @self: a #LlmsbxRegistry
 *
 * Gets the directories searched for plugins, in the order they are searched,
 * as the environment said when the registry was created.
 *
 * Returns: (transfer full) (array zero-terminated=1) (element-type filename):
 *   the directories
 *
 * Since: 0.1
 */
char **
llmsbx_registry_get_search_path (LlmsbxRegistry *self)
{
  g_return_val_if_fail (LLMSBX_IS_REGISTRY (self), NULL);

  return g_strdupv (self->search_path);
}

/**
 * llmsbx_registry_list_plugins:
 * @self: a #LlmsbxRegistry
 *
 * Lists the names of the plugins loaded.
 *
 * Returns: (transfer full) (array zero-terminated=1): the plugin names, sorted
 *
 * Since: 0.1
 */
char **
llmsbx_registry_list_plugins (LlmsbxRegistry *self)
{
  char **names;

  g_return_val_if_fail (LLMSBX_IS_REGISTRY (self), NULL);

  ensure_plugins_if_default (self);

  g_mutex_lock (&self->lock);
  names = (char **) g_hash_table_get_keys_as_array (self->plugins, NULL);
  for (guint i = 0; names[i] != NULL; i++)
    names[i] = g_strdup (names[i]);
  g_mutex_unlock (&self->lock);
  qsort (names, g_strv_length (names), sizeof (char *), compare_strings);

  return names;
}

/**
 * llmsbx_registry_list_plugin_errors:
 * @self: a #LlmsbxRegistry
 *
 * Lists why plugins could not be loaded, one message per failure naming the
 * file, in the order the failures happened (which follows the search path).
 *
 * Returns: (transfer full) (array zero-terminated=1): the error messages
 *
 * Since: 0.1
 */
char **
llmsbx_registry_list_plugin_errors (LlmsbxRegistry *self)
{
  char **messages;

  g_return_val_if_fail (LLMSBX_IS_REGISTRY (self), NULL);

  ensure_plugins_if_default (self);

  g_mutex_lock (&self->lock);
  messages = g_new0 (char *, self->plugin_errors->len + 1);
  for (guint i = 0; i < self->plugin_errors->len; i++)
    messages[i] = g_strdup (g_ptr_array_index (self->plugin_errors, i));
  g_mutex_unlock (&self->lock);

  return messages;
}

/* Features ---------------------------------------------------------------- */

/* Call with the lock held. */
static Feature *
find_feature (LlmsbxRegistry *self,
              FeatureKind     kind,
              const char     *key)
{
  for (guint i = 0; i < self->features->len; i++)
    {
      Feature *feature = g_ptr_array_index (self->features, i);

      if (feature->kind == kind && g_str_equal (feature->name, key))
        return feature;
    }
  return NULL;
}

/* Takes @feature. A registration replaces an earlier one of the same kind and
 * name in place, so listing in registration order stays stable. Call with the
 * lock held. */
static void
add_feature (LlmsbxRegistry *self,
             Feature        *feature)
{
  for (guint i = 0; i < self->features->len; i++)
    {
      Feature *old = g_ptr_array_index (self->features, i);

      if (old->kind != feature->kind || !g_str_equal (old->name, feature->name))
        continue;
      feature_free (old);
      self->features->pdata[i] = feature;
      return;
    }
  g_ptr_array_add (self->features, feature);
}

/* Sorted names of the features of @kind that can be used. Call with the lock held. */
static GStrv
list_features (LlmsbxRegistry *self,
               FeatureKind     kind)
{
  GPtrArray *names = g_ptr_array_new ();

  for (guint i = 0; i < self->features->len; i++)
    {
      Feature *feature = g_ptr_array_index (self->features, i);

      if (feature->kind == kind)
        g_ptr_array_add (names, g_strdup (feature->name));
    }
  g_ptr_array_sort (names, compare_strings);
  g_ptr_array_add (names, NULL);

  return (GStrv) g_ptr_array_free (names, FALSE);
}

static Feature *
feature_new (FeatureKind  kind,
             const char  *name)
{
  Feature *feature = g_new0 (Feature, 1);

  feature->kind = kind;
  feature->name = g_ascii_strdown (name, -1);
  return feature;
}

/* Backends -------------------------------------------------------------- */

/**
 * llmsbx_registry_register_backend:
 * @self: a #LlmsbxRegistry
 * @name: the backend's name (`docker`), matched without regard to case
 * @backend_type: a concrete subclass of #LlmsbxBackend
 * @error: return location for a #GError
 *
 * Makes a backend available under @name, with the rank %LLMSBX_RANK_NONE: it
 * is used when a session names it, never chosen by default. See
 * llmsbx_registry_register_backend_full().
 *
 * Returns: %TRUE on success
 *
 * Since: 0.1
 */
gboolean
llmsbx_registry_register_backend (LlmsbxRegistry  *self,
                                  const char      *name,
                                  GType            backend_type,
                                  GError         **error)
{
  return llmsbx_registry_register_backend_full (self, name, backend_type, LLMSBX_RANK_NONE, error);
}

/**
 * llmsbx_registry_register_backend_full:
 * @self: a #LlmsbxRegistry
 * @name: the backend's name (`docker`), matched without regard to case
 * @backend_type: a concrete subclass of #LlmsbxBackend
 * @rank: how much the backend is preferred when a session names none: an
 *   #LlmsbxRank or any value in between
 * @error: return location for a #GError
 *
 * Makes a backend available under @name. A registration replaces an earlier
 * one of the same name. The default registry loads its plugins first, so a
 * backend an application registers wins over a plugin's.
 *
 * When a session names no backend, the registry chooses one: see
 * llmsbx_registry_get_default_backend_name(). Docker registers as
 * %LLMSBX_RANK_PRIMARY, Podman as %LLMSBX_RANK_SECONDARY; a backend with the
 * rank %LLMSBX_RANK_NONE is only used when named.
 *
 * Fails with %LLMSBX_ERROR_INVALID_ARGUMENT when @name is empty or
 * @backend_type is not an instantiable subclass of #LlmsbxBackend.
 *
 * Returns: %TRUE on success
 *
 * Since: 0.1
 */
gboolean
llmsbx_registry_register_backend_full (LlmsbxRegistry  *self,
                                       const char      *name,
                                       GType            backend_type,
                                       guint            rank,
                                       GError         **error)
{
  Feature *feature;

  g_return_val_if_fail (LLMSBX_IS_REGISTRY (self), FALSE);
  g_return_val_if_fail (name != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  ensure_plugins_if_default (self);

  if (name[0] == '\0')
    {
      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
                   "Cannot register a backend with an empty name");
      return FALSE;
    }

  if (!g_type_is_a (backend_type, LLMSBX_TYPE_BACKEND) || G_TYPE_IS_ABSTRACT (backend_type))
    {
      const char *type_name = g_type_name (backend_type);

      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
                   "Cannot register backend '%s': type %s is not a non-abstract subclass of LlmsbxBackend",
                   name, type_name != NULL ? type_name : "(invalid)");
      return FALSE;
    }

  feature = feature_new (FEATURE_BACKEND, name);
  feature->type = backend_type;
  feature->rank = rank;

  g_mutex_lock (&self->lock);
  add_feature (self, feature);
  /* A new backend may change what the default is. */
  g_clear_pointer (&self->default_backend, g_free);
  g_mutex_unlock (&self->lock);

  return TRUE;
}

/**
 * llmsbx_registry_list_backends:
 * @self: a #LlmsbxRegistry
 *
 * Lists the names of the backends registered.
 *
 * Returns: (transfer full) (array zero-terminated=1): the backend names, sorted
 *
 * Since: 0.1
 */
char **
llmsbx_registry_list_backends (LlmsbxRegistry *self)
{
  char **names;

  g_return_val_if_fail (LLMSBX_IS_REGISTRY (self), NULL);

  ensure_plugins_if_default (self);

  g_mutex_lock (&self->lock);
  names = list_features (self, FEATURE_BACKEND);
  g_mutex_unlock (&self->lock);

  return names;
}

/**
 * llmsbx_registry_get_backend_rank:
 * @self: a #LlmsbxRegistry
 * @name: a backend name, matched without regard to case
 *
 * Gets the rank a backend was registered with (see
 * llmsbx_registry_register_backend_full()).
 *
 * Returns: the rank, %LLMSBX_RANK_NONE for a backend that is not registered
 *
 * Since: 0.1
 */
guint
llmsbx_registry_get_backend_rank (LlmsbxRegistry *self,
                                  const char     *name)
{
  g_autofree char *key = NULL;
  Feature *feature;
  guint rank = LLMSBX_RANK_NONE;

  g_return_val_if_fail (LLMSBX_IS_REGISTRY (self), LLMSBX_RANK_NONE);
  g_return_val_if_fail (name != NULL, LLMSBX_RANK_NONE);

  ensure_plugins_if_default (self);

  key = g_ascii_strdown (name, -1);
  g_mutex_lock (&self->lock);
  feature = find_feature (self, FEATURE_BACKEND, key);
  if (feature != NULL)
    rank = feature->rank;
  g_mutex_unlock (&self->lock);

  return rank;
}

/* Call with the lock held. */
static GType
backend_type (LlmsbxRegistry *self,
              const char     *key)
{
  Feature *feature = find_feature (self, FEATURE_BACKEND, key);

  return feature != NULL ? feature->type : G_TYPE_INVALID;
}

/**
 * llmsbx_registry_create_backend:
 * @self: a #LlmsbxRegistry
 * @name: a backend name, matched without regard to case
 * @error: return location for a #GError
 *
 * Creates a new instance of the backend registered as @name, its
 * #LlmsbxBackend:name set to that name.
 *
 * Fails with %LLMSBX_ERROR_BACKEND_NOT_SUPPORTED, listing the backends
 * available, when none has that name.
 *
 * Returns: (transfer full): a new backend, or %NULL on error
 *
 * Since: 0.1
 */
LlmsbxBackend *
llmsbx_registry_create_backend (LlmsbxRegistry  *self,
                                const char      *name,
                                GError         **error)
{
  g_autofree char *key = NULL;
  GType type;

  g_return_val_if_fail (LLMSBX_IS_REGISTRY (self), NULL);
  g_return_val_if_fail (name != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  ensure_plugins_if_default (self);

  key = g_ascii_strdown (name, -1);
  g_mutex_lock (&self->lock);
  type = backend_type (self, key);
  g_mutex_unlock (&self->lock);

  if (type == G_TYPE_INVALID)
    {
      g_auto(GStrv) available = llmsbx_registry_list_backends (self);
      g_autofree char *list = join_or_none (available);

      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_BACKEND_NOT_SUPPORTED,
                   "Backend '%s' is not supported; available: %s", name, list);
      return NULL;
    }

  return g_object_new (type, "name", key, NULL);
}

/* The default backend --------------------------------------------------- */

typedef struct {
  char  *name;
  GType  type;
  guint  rank;
} Candidate;

static void
candidate_clear (Candidate *candidate)
{
  g_free (candidate->name);
}

/* Falling rank, then name. */
static int
compare_candidates (gconstpointer a,
                    gconstpointer b)
{
  const Candidate *x = a, *y = b;

  if (x->rank != y->rank)
    return x->rank > y->rank ? -1 : 1;
  return strcmp (x->name, y->name);
}

/* The backends registered, by falling rank; with @with_none, also those of
 * rank NONE. */
static GArray *
ranked_backends (LlmsbxRegistry *self,
                 gboolean        with_none)
{
  GArray *candidates = g_array_new (FALSE, FALSE, sizeof (Candidate));

  g_array_set_clear_func (candidates, (GDestroyNotify) candidate_clear);
  g_mutex_lock (&self->lock);
  for (guint i = 0; i < self->features->len; i++)
    {
      Feature *feature = g_ptr_array_index (self->features, i);
      Candidate candidate = { g_strdup (feature->name), feature->type, feature->rank };

      if (feature->kind != FEATURE_BACKEND || (!with_none && feature->rank == LLMSBX_RANK_NONE))
        {
          g_free (candidate.name);
          continue;
        }
      g_array_append_val (candidates, candidate);
    }
  g_mutex_unlock (&self->lock);
  g_array_sort (candidates, compare_candidates);

  return candidates;
}

/**
 * llmsbx_rank_to_string:
 * @rank: a rank
 *
 * Names a rank.
 *
 * Returns: the name of @rank (`primary`, `secondary`, `marginal`, `none`), or
 *   for a value in between the name of the rank below it followed by `+N`
 *   (`primary+1`)
 *
 * Since: 0.1
 */
char *
llmsbx_rank_to_string (guint rank)
{
  static const struct { guint rank; const char *name; } names[] = {
    { LLMSBX_RANK_PRIMARY, "primary" },
    { LLMSBX_RANK_SECONDARY, "secondary" },
    { LLMSBX_RANK_MARGINAL, "marginal" },
    { LLMSBX_RANK_NONE, "none" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (names); i++)
    if (rank >= names[i].rank)
      return rank == names[i].rank ? g_strdup (names[i].name)
                                   : g_strdup_printf ("%s+%u", names[i].name, rank - names[i].rank);
  g_assert_not_reached ();
}

/* LLMSBX_BACKEND=help, as GIO's extension points answer it: what can be chosen. */
static void
print_backend_help (LlmsbxRegistry *self)
{
  g_autoptr(GArray) candidates = ranked_backends (self, TRUE);

  g_printerr ("Supported values of LLMSBX_BACKEND, by falling rank "
              "(without it, the first that answers of rank above none is used):\n");
  for (guint i = 0; i < candidates->len; i++)
    {
      const Candidate *candidate = &g_array_index (candidates, Candidate, i);
      g_autofree char *rank = llmsbx_rank_to_string (candidate->rank);

      g_printerr ("  %s (rank %s)\n", candidate->name, rank);
    }
}

/* The backend named by LLMSBX_BACKEND, or NULL when it names none. Like GIO,
 * the variable is honoured in setuid processes too: it only chooses among the
 * backends already registered. */
static const char *
environment_backend (LlmsbxRegistry *self)
{
  const char *name = g_getenv ("LLMSBX_BACKEND");

  if (name == NULL || name[0] == '\0')
    return NULL;
  if (g_ascii_strcasecmp (name, "help") == 0)
    {
      print_backend_help (self);
      return NULL;
    }
  return name;
}

/**
 * llmsbx_registry_create_default_backend:
 * @self: a #LlmsbxRegistry
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Creates the backend a session uses when it names none: the one that
 * llmsbx_registry_get_default_backend_name() chooses. When the choice needed a
 * probe, this is the backend that answered it.
 *
 * Returns: (transfer full): a new backend, or %NULL on error
 *
 * Since: 0.1
 */
LlmsbxBackend *
llmsbx_registry_create_default_backend (LlmsbxRegistry  *self,
                                        GCancellable    *cancellable,
                                        GError         **error)
{
  g_autoptr(GArray) candidates = NULL;
  g_autoptr(GString) reasons = NULL;
  g_autofree char *chosen = NULL;
  const char *named;

  g_return_val_if_fail (LLMSBX_IS_REGISTRY (self), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  ensure_plugins_if_default (self);

  named = environment_backend (self);
  if (named != NULL)
    {
      g_autoptr(GError) local_error = NULL;
      LlmsbxBackend *backend = llmsbx_registry_create_backend (self, named, &local_error);

      if (backend == NULL)
        g_propagate_prefixed_error (error, g_steal_pointer (&local_error), "LLMSBX_BACKEND: ");
      return backend;
    }

  /* A choice is probed once: later sessions take the same backend, which
   * then fails as a named one would if its engine went away. */
  g_mutex_lock (&self->lock);
  chosen = g_strdup (self->default_backend);
  g_mutex_unlock (&self->lock);
  if (chosen != NULL)
    return llmsbx_registry_create_backend (self, chosen, error);

  candidates = ranked_backends (self, FALSE);
  if (candidates->len == 0)
    {
      g_auto(GStrv) available = llmsbx_registry_list_backends (self);
      g_autofree char *list = join_or_none (available);

      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_BACKEND_NOT_SUPPORTED,
                   "No backend can be chosen by default: none has a rank above none "
                   "(available: %s); name one in the session's backend or in LLMSBX_BACKEND", list);
      return NULL;
    }

  reasons = g_string_new (NULL);
  for (guint i = 0; i < candidates->len; i++)
    {
      const Candidate *candidate = &g_array_index (candidates, Candidate, i);
      g_autoptr(LlmsbxBackend) backend = g_object_new (candidate->type, "name", candidate->name, NULL);
      g_autoptr(GError) local_error = NULL;

      if (llmsbx_backend_probe (backend, cancellable, &local_error))
        {
          g_debug ("Default backend: %s (rank %u)", candidate->name, candidate->rank);
          g_mutex_lock (&self->lock);
          g_free (self->default_backend);
          self->default_backend = g_strdup (candidate->name);
          g_mutex_unlock (&self->lock);
          return g_steal_pointer (&backend);
        }
      if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return NULL;
        }
      g_string_append_printf (reasons, "%s%s: %s", i ? "; " : "", candidate->name, local_error->message);
    }

  g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_BACKEND_UNAVAILABLE,
               "No backend is usable here (%s); start one, or name one in the session's backend "
               "or in LLMSBX_BACKEND", reasons->str);
  return NULL;
}

/**
 * llmsbx_registry_get_default_backend_name:
 * @self: a #LlmsbxRegistry
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Chooses the backend a session uses when its #LlmsbxSandboxSession:backend
 * is %NULL, as GIO chooses a default extension:
 *
 * 1. the backend `LLMSBX_BACKEND` names, if it is set, without probing it
 *    (`LLMSBX_BACKEND=help` prints the backends that can be named to standard
 *    error and is otherwise ignored);
 * 2. otherwise the registered backends with a rank above %LLMSBX_RANK_NONE, by
 *    falling rank (then by name): the first that llmsbx_backend_probe() finds
 *    usable. Docker is %LLMSBX_RANK_PRIMARY, Podman %LLMSBX_RANK_SECONDARY; a
 *    daemonless backend registers as %LLMSBX_RANK_MARGINAL, the fallback when
 *    no engine answers.
 *
 * A probed choice is kept for later calls until a backend is registered.
 * Fails with %LLMSBX_ERROR_BACKEND_UNAVAILABLE, giving each backend's reason,
 * when none answers; with %LLMSBX_ERROR_BACKEND_NOT_SUPPORTED when
 * `LLMSBX_BACKEND` names a backend that is not registered, or when no backend
 * has a rank.
 *
 * Returns: (transfer full): the backend's name, or %NULL on error
 *
 * Since: 0.1
 */
char *
llmsbx_registry_get_default_backend_name (LlmsbxRegistry  *self,
                                          GCancellable    *cancellable,
                                          GError         **error)
{
  g_autoptr(LlmsbxBackend) backend = NULL;

  g_return_val_if_fail (LLMSBX_IS_REGISTRY (self), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  backend = llmsbx_registry_create_default_backend (self, cancellable, error);
  return backend != NULL ? g_strdup (llmsbx_backend_get_name (backend)) : NULL;
}

/* Presets --------------------------------------------------------------- */

char *
llmsbx_registry_get_preset_backend (LlmsbxRegistry *self)
{
  g_autoptr(GArray) candidates = NULL;
  const char *named;

  ensure_plugins_if_default (self);

  named = environment_backend (self);
  if (named != NULL)
    return g_ascii_strdown (named, -1);

  /* What renders presets, by falling rank. */
  candidates = ranked_backends (self, TRUE);

  for (guint i = 0; i < candidates->len; i++)
    {
      const Candidate *candidate = &g_array_index (candidates, Candidate, i);

      if (llmsbx_registry_renders_presets (self, candidate->name))
        return g_strdup (candidate->name);
    }
  return NULL;
}

static gboolean
type_renders_presets (GType type)
{
  LlmsbxBackendClass *klass;
  gboolean renders;

  if (type == G_TYPE_INVALID)
    return FALSE;
  klass = g_type_class_ref (type);
  renders = klass->render_preset != NULL;
  g_type_class_unref (klass);
  return renders;
}

gboolean
llmsbx_registry_renders_presets (LlmsbxRegistry *self,
                                 const char     *name)
{
  g_autofree char *key = g_ascii_strdown (name, -1);
  GType type;

  ensure_plugins_if_default (self);

  g_mutex_lock (&self->lock);
  type = backend_type (self, key);
  g_mutex_unlock (&self->lock);

  return type_renders_presets (type);
}

char *
llmsbx_registry_list_preset_backends (LlmsbxRegistry *self)
{
  g_autoptr(GArray) candidates = NULL;
  g_autoptr(GString) list = g_string_new (NULL);

  ensure_plugins_if_default (self);

  candidates = ranked_backends (self, TRUE);

  for (guint i = 0; i < candidates->len; i++)
    {
      const Candidate *candidate = &g_array_index (candidates, Candidate, i);

      if (llmsbx_registry_renders_presets (self, candidate->name))
        g_string_append_printf (list, "%s%s", list->len ? ", " : "", candidate->name);
    }
  return g_strdup (list->len ? list->str : "none");
}

gboolean
llmsbx_registry_render_preset (LlmsbxRegistry        *self,
                               const char            *name,
                               LlmsbxSecurityPreset  *preset,
                               GError               **error)
{
  g_autofree char *key = g_ascii_strdown (name, -1);
  GType type;

  g_mutex_lock (&self->lock);
  type = backend_type (self, key);
  g_mutex_unlock (&self->lock);

  if (type_renders_presets (type))
    {
      g_autoptr(LlmsbxBackend) backend = g_object_new (type, "name", key, NULL);

      return llmsbx_backend_render_preset (backend, preset, error);
    }
  g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_BACKEND_NOT_SUPPORTED,
               "The %s backend has no security presets", name);
  return FALSE;
}

/* Languages -------------------------------------------------------------- */

/**
 * llmsbx_registry_register_language:
 * @self: a #LlmsbxRegistry
 * @handler: a language handler
 * @error: return location for a #GError
 *
 * Makes @handler available under its name (llmsbx_language_handler_get_name()),
 * matched without regard to case. A registration replaces an earlier one of the
 * same name. The default registry loads its plugins first, so a handler an
 * application registers wins over a plugin's even before any session ran. The
 * registry keeps a reference to @handler and may call it from any thread.
 *
 * Fails with %LLMSBX_ERROR_INVALID_ARGUMENT when the handler has no name.
 *
 * Returns: %TRUE on success
 *
 * Since: 0.1
 */
gboolean
llmsbx_registry_register_language (LlmsbxRegistry         *self,
                                   LlmsbxLanguageHandler  *handler,
                                   GError                **error)
{
  g_autofree char *name = NULL;
  Feature *feature;

  g_return_val_if_fail (LLMSBX_IS_REGISTRY (self), FALSE);
  g_return_val_if_fail (LLMSBX_IS_LANGUAGE_HANDLER (handler), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  ensure_plugins_if_default (self);

  name = llmsbx_language_handler_get_name (handler);
  if (name == NULL || name[0] == '\0')
    {
      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
                   "Cannot register a language handler of type %s: it has no name",
                   G_OBJECT_TYPE_NAME (handler));
      return FALSE;
    }

  feature = feature_new (FEATURE_LANGUAGE, name);
  feature->handler = g_object_ref (handler);

  g_mutex_lock (&self->lock);
  add_feature (self, feature);
  g_mutex_unlock (&self->lock);

  return TRUE;
}

/**
 * llmsbx_registry_list_languages:
 * @self: a #LlmsbxRegistry
 *
 * Lists the names of the languages registered.
 *
 * Returns: (transfer full) (array zero-terminated=1): the language names, sorted
 *
 * Since: 0.1
 */
char **
llmsbx_registry_list_languages (LlmsbxRegistry *self)
{
  char **names;

  g_return_val_if_fail (LLMSBX_IS_REGISTRY (self), NULL);

  ensure_plugins_if_default (self);

  g_mutex_lock (&self->lock);
  names = list_features (self, FEATURE_LANGUAGE);
  g_mutex_unlock (&self->lock);

  return names;
}

GPtrArray *
llmsbx_registry_list_language_handlers (LlmsbxRegistry *self)
{
  GPtrArray *handlers = g_ptr_array_new_with_free_func (g_object_unref);

  ensure_plugins_if_default (self);

  g_mutex_lock (&self->lock);
  for (guint i = 0; i < self->features->len; i++)
    {
      Feature *feature = g_ptr_array_index (self->features, i);

      if (feature->kind == FEATURE_LANGUAGE)
        g_ptr_array_add (handlers, g_object_ref (feature->handler));
    }
  g_mutex_unlock (&self->lock);

  return handlers;
}

/**
 * llmsbx_registry_lookup_language:
 * @self: a #LlmsbxRegistry
 * @name: a language name, matched without regard to case
 * @error: return location for a #GError
 *
 * Finds the handler registered for a language.
 *
 * Fails with %LLMSBX_ERROR_LANGUAGE_NOT_SUPPORTED, listing the languages
 * available, when none has that name.
 *
 * Returns: (transfer full): the handler, or %NULL on error
 *
 * Since: 0.1
 */
LlmsbxLanguageHandler *
llmsbx_registry_lookup_language (LlmsbxRegistry  *self,
                                 const char      *name,
                                 GError         **error)
{
  g_autofree char *key = NULL;
  LlmsbxLanguageHandler *handler = NULL;
  Feature *feature;

  g_return_val_if_fail (LLMSBX_IS_REGISTRY (self), NULL);
  g_return_val_if_fail (name != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  ensure_plugins_if_default (self);

  key = g_ascii_strdown (name, -1);
  g_mutex_lock (&self->lock);
  feature = find_feature (self, FEATURE_LANGUAGE, key);
  if (feature != NULL)
    handler = g_object_ref (feature->handler);
  g_mutex_unlock (&self->lock);

  if (handler == NULL)
    {
      g_auto(GStrv) available = llmsbx_registry_list_languages (self);
      g_autofree char *list = join_or_none (available);

      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_LANGUAGE_NOT_SUPPORTED,
                   "Language '%s' is not supported; available: %s", name, list);
    }

  return handler;
}
