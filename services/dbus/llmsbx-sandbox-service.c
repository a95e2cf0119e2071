/* llmsbx-sandbox-service.c: org.llmsbx.Sandbox1 on a bus connection.
 *
 * The Manager at /org/llmsbx/Sandbox1 opens sessions; the object manager
 * there exports one object per open session. A session is owned by the
 * unique name that opened it. The service watches every owner's name: when
 * it leaves the bus (its process exited or was killed), the table closes its
 * sessions, killing what runs in them and removing their sandboxes, and
 * their objects go away. */
#include "llmsbx-dbus-generated.h"
#include "llmsbx-sandbox-service.h"
#include "llmsbx-session-object.h"

struct _LlmsbxSandboxService
{
  GObject parent_instance;

  LlmsbxSessionTable       *table;
  goffset                   max_copy_size;
  GDBusConnection          *connection;
  GDBusObjectManagerServer *objects;
  LlmsbxDBusManager        *manager;
  GHashTable               *sessions;   /* id → LlmsbxSessionObject */
  GHashTable               *watches;    /* owner → watch id */
  gulong                    closed_handler;
};

G_DEFINE_FINAL_TYPE (LlmsbxSandboxService, llmsbx_sandbox_service, G_TYPE_OBJECT)

/* Owners ------------------------------------------------------------------- */

static void
on_owner_vanished (GDBusConnection *connection,
                   const char      *name,
                   gpointer         user_data)
{
  LlmsbxSandboxService *self = user_data;
  guint closed = llmsbx_session_table_close_owner (self->table, name);

  if (closed > 0)
    g_message ("%s left the bus: closing its %u session%s", name, closed, closed == 1 ? "" : "s");
  /* Removing the watch ends it; the name is unique, it never comes back. */
  g_hash_table_remove (self->watches, name);
}

static void
watch_owner (LlmsbxSandboxService *self,
             const char           *owner)
{
  guint watch;

  if (g_hash_table_contains (self->watches, owner))
    return;
  /* A name already gone is reported at once, so no owner slips through. */
  watch = g_bus_watch_name_on_connection (self->connection, owner, G_BUS_NAME_WATCHER_FLAGS_NONE,
                                          NULL, on_owner_vanished, self, NULL);
  g_hash_table_insert (self->watches, g_strdup (owner), GUINT_TO_POINTER (watch));
}

static void
unwatch (gpointer watch)
{
  g_bus_unwatch_name (GPOINTER_TO_UINT (watch));
}

/* Sessions ----------------------------------------------------------------- */

static void
on_session_closed (LlmsbxSessionTable *table,
                   guint               id,
                   const char         *owner,
                   gpointer            user_data)
{
  LlmsbxSandboxService *self = user_data;
  LlmsbxSessionObject *object = g_hash_table_lookup (self->sessions, GUINT_TO_POINTER (id));

  if (object == NULL)
    return;
  llmsbx_session_object_closed (object);
  g_dbus_object_manager_server_unexport (self->objects, llmsbx_session_object_get_path (object));
  g_hash_table_remove (self->sessions, GUINT_TO_POINTER (id));
}

typedef struct {
  LlmsbxSandboxService  *self;
  GDBusMethodInvocation *invocation;
} Opening;

static void
on_opened (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  Opening *opening = user_data;
  LlmsbxSandboxService *self = opening->self;
  const char *owner = g_dbus_method_invocation_get_sender (opening->invocation);
  g_autoptr(LlmsbxSessionObject) object = NULL;
  GError *error = NULL;
  guint id;

  id = llmsbx_session_table_open_finish (self->table, result, &error);
  /* The owner may have left as the session opened: it is closed then. */
  if (id != 0 && llmsbx_session_table_lookup (self->table, id, owner, &error) == NULL)
    id = 0;
  if (id == 0)
    {
      g_dbus_method_invocation_take_error (opening->invocation, error);
      g_object_unref (opening->self);
      g_free (opening);
      return;
    }

  object = llmsbx_session_object_new (self->table, self->connection, id, owner, self->max_copy_size);
  g_dbus_object_manager_server_export (self->objects, G_DBUS_OBJECT_SKELETON (llmsbx_session_object_get_object (object)));
  g_hash_table_insert (self->sessions, GUINT_TO_POINTER (id), g_object_ref (object));
  llmsbx_dbus_manager_complete_open_session (self->manager, opening->invocation,
                                             llmsbx_session_object_get_path (object));
  g_object_unref (opening->self);
  g_free (opening);
}

/* OpenSession takes a language; what else shapes a sandbox (backend,
 * preset, network, container settings) is the daemon's, never a caller's. */
static gboolean
read_options (GVariant     *options,
              char        **lang,
              GError      **error)
{
  GVariantIter iter;
  const char *key;
  GVariant *value;

  g_variant_iter_init (&iter, options);
  while (g_variant_iter_next (&iter, "{&sv}", &key, &value))
    {
      gboolean ok = FALSE;

      if (!g_str_equal (key, "language"))
        g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
                     "OpenSession has no option '%s'; it takes: language", key);
      else if (!g_variant_is_of_type (value, G_VARIANT_TYPE_STRING))
        g_set_error_literal (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
                             "The option 'language' must be a string");
      else
        {
          g_free (*lang);
          *lang = g_variant_dup_string (value, NULL);
          ok = TRUE;
        }
      g_variant_unref (value);
      if (!ok)
        return FALSE;
    }
  return TRUE;
}

static gboolean
on_handle_open_session (LlmsbxDBusManager     *manager,
                        GDBusMethodInvocation *invocation,
                        GVariant              *options,
                        gpointer               user_data)
{
  LlmsbxSandboxService *self = user_data;
  const char *owner = g_dbus_method_invocation_get_sender (invocation);
  g_autofree char *lang = NULL;
  GError *error = NULL;
  Opening *opening;

  if (!read_options (options, &lang, &error))
    {
      g_dbus_method_invocation_take_error (invocation, error);
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }

  watch_owner (self, owner);
  opening = g_new0 (Opening, 1);
  opening->self = g_object_ref (self);
  opening->invocation = invocation;
  llmsbx_session_table_open_async (self->table, owner, lang, NULL, on_opened, opening);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
on_handle_list_sessions (LlmsbxDBusManager     *manager,
                         GDBusMethodInvocation *invocation,
                         gpointer               user_data)
{
  LlmsbxSandboxService *self = user_data;
  g_autoptr(GArray) ids = llmsbx_session_table_list (self->table, g_dbus_method_invocation_get_sender (invocation));
  g_autoptr(GPtrArray) paths = g_ptr_array_new_with_free_func (g_free);

  for (guint i = 0; i < ids->len; i++)
    g_ptr_array_add (paths, g_strdup_printf (LLMSBX_SANDBOX_SERVICE_PATH "/session/%u",
                                             g_array_index (ids, guint, i)));
  g_ptr_array_add (paths, NULL);
  llmsbx_dbus_manager_complete_list_sessions (manager, invocation, (const char * const *) paths->pdata);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

/* API -------------------------------------------------------------------- */

/**
 * llmsbx_sandbox_service_new:
 * @table: the sessions of every caller
 * @max_copy_size: the largest file CopyTo and CopyFrom take
 *
 * Returns: (transfer full): the service, not yet on a bus
 */
LlmsbxSandboxService *
llmsbx_sandbox_service_new (LlmsbxSessionTable *table,
                            goffset             max_copy_size)
{
  LlmsbxSandboxService *self = g_object_new (LLMSBX_TYPE_SANDBOX_SERVICE, NULL);

  self->table = g_object_ref (table);
  self->max_copy_size = max_copy_size;
  self->closed_handler = g_signal_connect (table, "session-closed", G_CALLBACK (on_session_closed), self);
  return self;
}

/**
 * llmsbx_sandbox_service_export:
 * @self: a #LlmsbxSandboxService
 * @connection: the bus
 * @error: return location for a #GError
 *
 * Exports the Manager and the object manager at /org/llmsbx/Sandbox1.
 *
 * Returns: %TRUE on success
 */
gboolean
llmsbx_sandbox_service_export (LlmsbxSandboxService  *self,
                               GDBusConnection       *connection,
                               GError               **error)
{
  g_auto(GStrv) languages = llmsbx_registry_list_languages (llmsbx_registry_get_default ());

  g_return_val_if_fail (LLMSBX_IS_SANDBOX_SERVICE (self), FALSE);
  g_return_val_if_fail (self->connection == NULL, FALSE);

  self->connection = g_object_ref (connection);
  self->manager = llmsbx_dbus_manager_skeleton_new ();
  llmsbx_dbus_manager_set_version (self->manager, LLMSBX_VERSION_S);
  llmsbx_dbus_manager_set_languages (self->manager, (const char * const *) languages);
  g_signal_connect (self->manager, "handle-open-session", G_CALLBACK (on_handle_open_session), self);
  g_signal_connect (self->manager, "handle-list-sessions", G_CALLBACK (on_handle_list_sessions), self);
  if (!g_dbus_interface_skeleton_export (G_DBUS_INTERFACE_SKELETON (self->manager), connection,
                                         LLMSBX_SANDBOX_SERVICE_PATH, error))
    return FALSE;

  self->objects = g_dbus_object_manager_server_new (LLMSBX_SANDBOX_SERVICE_PATH);
  g_dbus_object_manager_server_set_connection (self->objects, connection);
  return TRUE;
}

/**
 * llmsbx_sandbox_service_unexport:
 * @self: a #LlmsbxSandboxService
 *
 * Takes the service off the bus; the table's sessions stay for its shutdown.
 */
void
llmsbx_sandbox_service_unexport (LlmsbxSandboxService *self)
{
  g_return_if_fail (LLMSBX_IS_SANDBOX_SERVICE (self));

  g_hash_table_remove_all (self->watches);
  if (self->manager != NULL && g_dbus_interface_skeleton_has_connection (G_DBUS_INTERFACE_SKELETON (self->manager),
                                                                         self->connection))
    {
      g_dbus_interface_skeleton_unexport (G_DBUS_INTERFACE_SKELETON (self->manager));
      g_signal_handlers_disconnect_by_data (self->manager, self);
    }
  if (self->objects != NULL)
    g_dbus_object_manager_server_set_connection (self->objects, NULL);
}

static void
llmsbx_sandbox_service_dispose (GObject *object)
{
  LlmsbxSandboxService *self = LLMSBX_SANDBOX_SERVICE (object);

  if (self->table != NULL)
    {
      llmsbx_sandbox_service_unexport (self);
      g_clear_signal_handler (&self->closed_handler, self->table);
    }
  g_hash_table_remove_all (self->sessions);
  g_clear_object (&self->objects);
  g_clear_object (&self->manager);
  g_clear_object (&self->connection);
  g_clear_object (&self->table);
  G_OBJECT_CLASS (llmsbx_sandbox_service_parent_class)->dispose (object);
}

static void
llmsbx_sandbox_service_finalize (GObject *object)
{
  LlmsbxSandboxService *self = LLMSBX_SANDBOX_SERVICE (object);

  g_hash_table_unref (self->sessions);
  g_hash_table_unref (self->watches);
  G_OBJECT_CLASS (llmsbx_sandbox_service_parent_class)->finalize (object);
}

static void
llmsbx_sandbox_service_class_init (LlmsbxSandboxServiceClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = llmsbx_sandbox_service_dispose;
  object_class->finalize = llmsbx_sandbox_service_finalize;
}

static void
llmsbx_sandbox_service_init (LlmsbxSandboxService *self)
{
  self->sessions = g_hash_table_new_full (NULL, NULL, NULL, g_object_unref);
  self->watches = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, unwatch);
}
