/* llmsbx-engine-backend.c: an LlmsbxBackend over the Docker Engine API.
 *
 * Docker and Podman (through its compatible API) share everything here; a
 * subclass only sets its profile (engine name, default socket, whether
 * sandboxes get an init process) and how it reads its environment.
 *
 * Round trips are the cost of every operation, so each one sends only what it
 * needs: an exec is create + start (streamed) + inspect, a sandbox is create +
 * start, removal is one forced DELETE.
 *
 * The class lives in the static library both plugins link, so each plugin
 * holds a copy of it; two plugins loaded into one process must not both
 * register "LlmsbxEngineBackend", so it is registered under the name the
 * plugin gives (LLMSBX_ENGINE_BACKEND_TYPE_NAME_DEFINE). */
#undef G_LOG_DOMAIN
#define G_LOG_DOMAIN "Llmsbx-Engine"

#include "llmsbx-engine-backend.h"

#include <archive.h>
#include <archive_entry.h>
#include <string.h>

#include "llmsbx-engine-backend-private.h"
#include "llmsbx-engine-runtime-configs.h"
#include "llmsbx-engine-mux.h"
#include "llmsbx-engine-preset.h"
#include "llmsbx-json-members-private.h"

/* Bound of an archive copied out of a sandbox, and of a build context. */
#define MAX_ARCHIVE_SIZE ((gsize) 1 << 30)
/* Symbolic links followed from a source copied out of a sandbox, as Linux's
 * path resolution does (ELOOP past 40). */
#define MAX_SYMLINKS 40
/* After an exec's output ends its process has exited; the engine may take a
 * moment to record that. */
#define EXIT_POLL_INTERVAL_US (20 * 1000)
#define EXIT_POLL_ATTEMPTS 50
/* Docker records that a sandbox stopped a moment (about 0.1 s here) after
 * its runtime starts refusing execs in it. */
#define STOP_POLL_ATTEMPTS 25
/* How long an exec that does nothing may take to tell that a sandbox runs. */
#define PROBE_TIMEOUT_US (10 * G_USEC_PER_SEC)
/* Builds of one Dockerfile when Podman's storage races a removal. */
#define MAX_BUILD_ATTEMPTS 3

typedef struct
{
  GMutex              lock;
  LlmsbxEngineClient *client;  /* negotiated; dropped when a setting changes */
} LlmsbxEngineBackendPrivate;

static void llmsbx_engine_backend_class_init (LlmsbxEngineBackendClass *klass);
static void llmsbx_engine_backend_init       (GTypeInstance            *instance,
                                              gpointer                  g_class);

static gpointer llmsbx_engine_backend_parent_class = NULL;
static gint LlmsbxEngineBackend_private_offset;

static inline LlmsbxEngineBackendPrivate *
llmsbx_engine_backend_get_instance_private (LlmsbxEngineBackend *self)
{
  return G_STRUCT_MEMBER_P (self, LlmsbxEngineBackend_private_offset);
}

static void
llmsbx_engine_backend_class_intern_init (gpointer klass,
                                         gpointer class_data)
{
  llmsbx_engine_backend_parent_class = g_type_class_peek_parent (klass);
  g_type_class_adjust_private_offset (klass, &LlmsbxEngineBackend_private_offset);
  llmsbx_engine_backend_class_init (klass);
}

/* G_DEFINE_ABSTRACT_TYPE_WITH_PRIVATE, but under the plugin's type name. */
GType
llmsbx_engine_backend_get_type (void)
{
  static gsize type_id = 0;

  if (g_once_init_enter (&type_id))
    {
      GType type = g_type_register_static_simple (LLMSBX_TYPE_BACKEND,
                                                  g_intern_static_string (llmsbx_engine_backend_type_name),
                                                  sizeof (LlmsbxEngineBackendClass),
                                                  llmsbx_engine_backend_class_intern_init,
                                                  sizeof (LlmsbxEngineBackend),
                                                  llmsbx_engine_backend_init,
                                                  G_TYPE_FLAG_ABSTRACT);
      LlmsbxEngineBackend_private_offset =
        g_type_add_instance_private (type, sizeof (LlmsbxEngineBackendPrivate));
      g_once_init_leave (&type_id, type);
    }
  return type_id;
}

/* ---------------------------------------------------------------------------
 * Helpers
 * ------------------------------------------------------------------------ */

static const char *
engine_name (LlmsbxEngineBackend *self)
{
  return LLMSBX_ENGINE_BACKEND_GET_CLASS (self)->engine_name;
}

static char *
escape (const char *text)
{
  return g_uri_escape_string (text, NULL, FALSE);
}

/* Image references keep their slashes, colons and @ in paths. */
static char *
escape_image (const char *image)
{
  return g_uri_escape_string (image, "/:@", FALSE);
}

static gboolean
is_engine_error (const GError *error,
                 guint         status)
{
  return error != NULL && error->domain == LLMSBX_ENGINE_ERROR &&
         (status == 0 || (guint) error->code == status);
}

/* An error the engine answered with becomes @code with @what as context;
 * transport errors, timeouts and cancellation pass unchanged. */
static gboolean
fail (GError     **error,
      GError      *local,
      LlmsbxError  code,
      const char  *what)
{
  if (local->domain == LLMSBX_ENGINE_ERROR)
    {
      g_set_error (error, LLMSBX_ERROR, code, "%s: %s", what, local->message);
      g_error_free (local);
    }
  else
    g_propagate_error (error, local);
  return FALSE;
}

/* A 404 about the sandbox itself, not about something it refers to (such as
 * the container whose network it was to join). */
static gboolean
container_not_found (const GError *error,
                     const char   *sandbox_id)
{
  /* Docker: "No such container: ID"; Podman: "no container with name or ID
   * \"ID\" found: no such container". */
  return is_engine_error (error, 404) &&
         (g_str_has_prefix (error->message, "No such container") ||
          g_str_has_suffix (error->message, ": no such container")) &&
         strstr (error->message, sandbox_id) != NULL;
}

/* What the engine said about a sandbox: CONTAINER_FAILED with @what as
 * context, "not found" when the sandbox itself is gone. Takes @local. */
gboolean
llmsbx_engine_fail_container (GError      **error,
                              GError       *local,
                              const char   *sandbox_id,
                              const char   *what)
{
  if (container_not_found (local, sandbox_id))
    {
      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_CONTAINER_FAILED,
                   "Container %s not found", sandbox_id);
      g_error_free (local);
      return FALSE;
    }
  return fail (error, local, LLMSBX_ERROR_CONTAINER_FAILED, what);
}

/* Splits "name[:tag]" or "name@digest" the way the engine's pull wants it. */
static void
split_reference (const char  *image,
                 char       **name,
                 char       **tag)
{
  const char *at = strchr (image, '@');
  const char *colon = strrchr (image, ':');

  if (at != NULL)
    {
      *name = g_strndup (image, at - image);
      *tag = g_strdup (at + 1);
    }
  else if (colon != NULL && strchr (colon, '/') == NULL)
    {
      *name = g_strndup (image, colon - image);
      *tag = g_strdup (colon + 1);
    }
  else
    {
      *name = g_strdup (image);
      *tag = g_strdup ("latest");
    }
}

/* Takes ownership of @object. */
static JsonNode *
json_node_from_object (JsonObject *object)
{
  JsonNode *node = json_node_new (JSON_NODE_OBJECT);

  json_node_take_object (node, object);
  return node;
}

static const char *
get_id (JsonNode *node)
{
  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    return NULL;
  return json_object_get_string_member_with_default (json_node_get_object (node), "Id", NULL);
}

static gboolean
missing_id (LlmsbxEngineBackend  *self,
            const char           *what,
            GError              **error)
{
  g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_PROTOCOL,
               "The %s did not return an Id when %s", engine_name (self), what);
  return FALSE;
}

/* ---------------------------------------------------------------------------
 * Connection
 * ------------------------------------------------------------------------ */

static void
count_request (gpointer backend)
{
  llmsbx_backend_count_request (LLMSBX_BACKEND (backend));
}

static gboolean
llmsbx_engine_backend_real_resolve_settings (LlmsbxEngineBackend   *self,
                                             LlmsbxEngineSettings  *settings,
                                             GError               **error)
{
  LlmsbxBackend *backend = LLMSBX_BACKEND (self);
  const char *url = llmsbx_backend_get_setting_string (backend, "url");

  if (url == NULL)
    url = LLMSBX_ENGINE_BACKEND_GET_CLASS (self)->default_url;
  if (url == NULL)
    {
      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
                   "No URL is set for the %s", engine_name (self));
      return FALSE;
    }

  settings->url = g_strdup (url);
  settings->tls_ca_file = g_strdup (llmsbx_backend_get_setting_string (backend, "tls-ca-file"));
  settings->tls_cert_file = g_strdup (llmsbx_backend_get_setting_string (backend, "tls-cert-file"));
  settings->tls_key_file = g_strdup (llmsbx_backend_get_setting_string (backend, "tls-key-file"));
  settings->use_tls = settings->tls_ca_file || settings->tls_cert_file || settings->tls_key_file;
  settings->tls_verify = llmsbx_backend_get_setting_boolean (backend, "tls-verify");
  settings->connect_timeout = llmsbx_backend_get_setting_double (backend, "connect-timeout");
  settings->request_timeout = llmsbx_backend_get_setting_double (backend, "request-timeout");
  return TRUE;
}

/**
 * llmsbx_engine_backend_get_client:
 * @self: a backend
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Returns the client of the engine, connecting and negotiating the API
 * version the first time (and after a connection setting changed).
 *
 * Returns: (transfer full) (nullable): the client
 */
LlmsbxEngineClient *
llmsbx_engine_backend_get_client (LlmsbxEngineBackend  *self,
                                  GCancellable         *cancellable,
                                  GError              **error)
{
  LlmsbxEngineBackendPrivate *priv = llmsbx_engine_backend_get_instance_private (self);
  LlmsbxEngineSettings settings = { 0, };
  g_autoptr(LlmsbxEngineClient) client = NULL;
  G_GNUC_UNUSED g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&priv->lock);

  if (priv->client != NULL)
    return llmsbx_engine_client_ref (priv->client);

  /* Negotiation happens once, under the lock, so concurrent first calls wait for it. */
  if (!LLMSBX_ENGINE_BACKEND_GET_CLASS (self)->resolve_settings (self, &settings, error))
    {
      llmsbx_engine_settings_clear (&settings);
      return NULL;
    }
  client = llmsbx_engine_client_new (&settings, engine_name (self), count_request, self, error);
  llmsbx_engine_settings_clear (&settings);
  if (client == NULL || !llmsbx_engine_client_negotiate (client, cancellable, error))
    return NULL;

  priv->client = llmsbx_engine_client_ref (client);
  return g_steal_pointer (&client);
}

/* Any setting says where or how to connect: the next call connects again. */
static void
on_setting_changed (LlmsbxBackend *backend,
                    const char    *name,
                    gpointer       user_data)
{
  LlmsbxEngineBackend *self = LLMSBX_ENGINE_BACKEND (backend);
  LlmsbxEngineBackendPrivate *priv = llmsbx_engine_backend_get_instance_private (self);

  g_mutex_lock (&priv->lock);
  g_clear_pointer (&priv->client, llmsbx_engine_client_unref);
  g_mutex_unlock (&priv->lock);
}

static gboolean
llmsbx_engine_backend_connect (LlmsbxBackend  *backend,
                               GCancellable   *cancellable,
                               GError        **error)
{
  g_autoptr(LlmsbxEngineClient) client =
    llmsbx_engine_backend_get_client (LLMSBX_ENGINE_BACKEND (backend), cancellable, error);

  return client != NULL;
}

/* ---------------------------------------------------------------------------
 * Images
 * ------------------------------------------------------------------------ */

typedef struct
{
  char *error;  /* the first error line of a pull or build stream */
} StreamStatus;

static gboolean
scan_progress_line (JsonNode  *line,
                    gpointer   user_data,
                    GError   **error)
{
  StreamStatus *status = user_data;
  JsonObject *object;
  JsonObject *detail;
  const char *message;

  if (!JSON_NODE_HOLDS_OBJECT (line) || status->error != NULL)
    return TRUE;
  object = json_node_get_object (line);

  detail = llmsbx_json_object_member (object, "errorDetail");
  message = detail ? json_object_get_string_member_with_default (detail, "message", NULL) : NULL;
  if (message == NULL)
    message = json_object_get_string_member_with_default (object, "error", NULL);
  if (message != NULL)
    status->error = g_strstrip (g_strdup (message));
  else if ((message = json_object_get_string_member_with_default (object, "stream", NULL)) != NULL)
    g_debug ("%s", message);
  return TRUE;
}

/* POSTs @body to @path, an endpoint that streams progress lines (pull,
 * build). The engine reports a failure either as an HTTP error or, after a
 * 200, as an error line: either way it lands in *failure (NULL on success).
 * Only when the request itself fails is FALSE returned, with @error set. */
static gboolean
post_progress (LlmsbxEngineClient  *client,
               const char          *path,
               const char          *content_type,
               GBytes              *body,
               char               **failure,
               GCancellable        *cancellable,
               GError             **error)
{
  g_autoptr(GError) local_error = NULL;
  StreamStatus status = { NULL };

  if (!llmsbx_engine_client_json_lines (client, "POST", path, content_type, body,
                                        scan_progress_line, &status, cancellable, &local_error))
    {
      if (local_error->domain != LLMSBX_ENGINE_ERROR)
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          g_free (status.error);
          return FALSE;
        }
      g_free (status.error);
      status.error = g_strdup (local_error->message);
    }

  *failure = status.error;
  return TRUE;
}

static gboolean
llmsbx_engine_backend_ensure_image (LlmsbxBackend  *backend,
                                    const char     *image,
                                    gboolean       *pulled,
                                    GCancellable   *cancellable,
                                    GError        **error)
{
  LlmsbxEngineBackend *self = LLMSBX_ENGINE_BACKEND (backend);
  g_autoptr(LlmsbxEngineClient) client = llmsbx_engine_backend_get_client (self, cancellable, error);
  g_autoptr(GError) local_error = NULL;
  g_autoptr(JsonNode) inspect = NULL;
  g_autofree char *path = NULL;
  g_autofree char *name = NULL;
  g_autofree char *tag = NULL;
  g_autofree char *escaped_name = NULL;
  g_autofree char *escaped_tag = NULL;
  g_autofree char *failure = NULL;
  g_autofree char *image_path = NULL;

  if (client == NULL)
    return FALSE;

  *pulled = FALSE;
  image_path = escape_image (image);
  path = g_strdup_printf ("/images/%s/json", image_path);
  inspect = llmsbx_engine_client_json (client, "GET", path, NULL, cancellable, &local_error);
  if (inspect != NULL)
    return TRUE;
  if (!is_engine_error (local_error, 404))
    return fail (error, g_steal_pointer (&local_error), LLMSBX_ERROR_FAILED, "Could not inspect the image");
  g_clear_error (&local_error);

  split_reference (image, &name, &tag);
  escaped_name = escape (name);
  escaped_tag = escape (tag);
  g_clear_pointer (&path, g_free);
  path = g_strdup_printf ("/images/create?fromImage=%s&tag=%s", escaped_name, escaped_tag);
  g_debug ("Pulling %s", image);

  if (!post_progress (client, path, NULL, NULL, &failure, cancellable, error))
    return FALSE;
  if (failure != NULL)
    {
      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_IMAGE_NOT_FOUND,
                   "Image %s is not present locally and could not be pulled: %s", image, failure);
      return FALSE;
    }

  *pulled = TRUE;
  return TRUE;
}

static gboolean
llmsbx_engine_backend_remove_image (LlmsbxBackend  *backend,
                                    const char     *image,
                                    GCancellable   *cancellable,
                                    GError        **error)
{
  LlmsbxEngineBackend *self = LLMSBX_ENGINE_BACKEND (backend);
  g_autoptr(LlmsbxEngineClient) client = llmsbx_engine_backend_get_client (self, cancellable, error);
  g_autoptr(GError) local_error = NULL;
  g_autoptr(JsonNode) answer = NULL;
  g_autofree char *escaped = NULL;
  g_autofree char *path = NULL;
  g_autofree char *what = NULL;

  if (client == NULL)
    return FALSE;

  escaped = escape_image (image);
  path = g_strdup_printf ("/images/%s?force=1", escaped);
  answer = llmsbx_engine_client_json (client, "DELETE", path, NULL, cancellable, &local_error);
  /* An image that is already gone is removed. */
  if (answer != NULL || is_engine_error (local_error, 404))
    return TRUE;

  what = g_strdup_printf ("Could not remove image %s", image);
  return fail (error, g_steal_pointer (&local_error), LLMSBX_ERROR_FAILED, what);
}

/* Packs @context_dir (its entries at the root, links as links) with the
 * core's tar writer, as copies are packed. A Dockerfile outside the
 * context is added under @extra_name. */
static GBytes *
pack_context (const char  *context_dir,
              const char  *extra_dockerfile,
              const char  *extra_name,
              GError     **error)
{
  g_autoptr(GBytes) extra = NULL;
  g_autoptr(GError) local_error = NULL;
  GBytes *context;

  if (extra_dockerfile != NULL)
    {
      g_autofree char *contents = NULL;
      gsize length;

      if (!g_file_get_contents (extra_dockerfile, &contents, &length, &local_error))
        {
          g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_IMAGE_BUILD_FAILED,
                       "Could not read the Dockerfile: %s", local_error->message);
          return NULL;
        }
      extra = g_bytes_new_take (g_steal_pointer (&contents), length);
    }

  context = llmsbx_tar_pack_contents (context_dir, extra != NULL ? extra_name : NULL, extra,
                                      MAX_ARCHIVE_SIZE, &local_error);
  if (context == NULL)
    g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_IMAGE_BUILD_FAILED,
                 "Could not pack the build context %s: %s", context_dir, local_error->message);
  return context;
}

static gboolean
llmsbx_engine_backend_build_image (LlmsbxBackend  *backend,
                                   const char     *context_dir,
                                   const char     *dockerfile,
                                   const char     *tag,
                                   GCancellable   *cancellable,
                                   GError        **error)
{
  LlmsbxEngineBackend *self = LLMSBX_ENGINE_BACKEND (backend);
  static const char outside_name[] = ".llmsbx.Dockerfile";
  g_autoptr(LlmsbxEngineClient) client = NULL;
  g_autoptr(GBytes) context = NULL;
  g_autoptr(GFile) context_file = g_file_new_for_path (context_dir);
  g_autofree char *relative = NULL;
  g_autofree char *escaped_tag = NULL;
  g_autofree char *escaped_dockerfile = NULL;
  g_autofree char *path = NULL;
  g_autofree char *failure = NULL;
  const char *outside = NULL;

  if (!g_file_test (context_dir, G_FILE_TEST_IS_DIR))
    {
      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_IMAGE_BUILD_FAILED,
                   "The build context %s is not a directory", context_dir);
      return FALSE;
    }

  /* The engine wants the Dockerfile's path inside the context; one from
   * elsewhere is packed in under a name of its own. */
  if (dockerfile == NULL)
    relative = g_strdup ("Dockerfile");
  else if (!g_path_is_absolute (dockerfile))
    relative = g_strdup (dockerfile);
  else
    {
      g_autoptr(GFile) file = g_file_new_for_path (dockerfile);

      relative = g_file_get_relative_path (context_file, file);
      if (relative == NULL)
        {
          outside = dockerfile;
          relative = g_strdup (outside_name);
        }
    }

  context = pack_context (context_dir, outside, outside_name, error);
  if (context == NULL)
    return FALSE;

  client = llmsbx_engine_backend_get_client (self, cancellable, error);
  if (client == NULL)
    return FALSE;

  escaped_tag = escape (tag);
  escaped_dockerfile = escape (relative);
  path = g_strdup_printf ("/build?t=%s&dockerfile=%s&rm=1&forcerm=1", escaped_tag, escaped_dockerfile);

  /* Podman 4's builder fails a build when another client removes an
   * image or layer while the build looks up its cache ("layer not known",
   * buildah#5674, fixed in buildah 1.43): nothing of the build is wrong,
   * and the same build is tried again. */
  for (guint attempt = 1; attempt <= MAX_BUILD_ATTEMPTS; attempt++)
    {
      g_clear_pointer (&failure, g_free);
      if (!post_progress (client, path, "application/x-tar", context, &failure, cancellable, error))
        return FALSE;
      if (failure == NULL || !llmsbx_engine_is_storage_race (failure))
        break;
      g_debug ("Building %s lost a race with a removal (%s); building again", tag, failure);
    }
  if (failure != NULL)
    {
      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_IMAGE_BUILD_FAILED,
                   "Building image %s failed: %s", tag, failure);
      return FALSE;
    }
  return TRUE;
}

/* ---------------------------------------------------------------------------
 * Sandboxes
 * ------------------------------------------------------------------------ */

static gboolean
llmsbx_engine_backend_real_prepare_create (LlmsbxEngineBackend  *self,
                                           JsonObject           *body,
                                           LlmsbxContainerSpec  *spec,
                                           GError              **error)
{
  JsonObject *host_config = json_object_get_object_member (body, "HostConfig");

  if (LLMSBX_ENGINE_BACKEND_GET_CLASS (self)->init_by_default &&
      !json_object_has_member (host_config, "Init"))
    json_object_set_boolean_member (host_config, "Init", TRUE);
  return TRUE;
}

/* Whether something the user configured already mounts @dir. */
static gboolean
is_mounted (JsonObject *host_config,
            const char *dir)
{
  JsonObject *tmpfs = llmsbx_json_object_member (host_config, "Tmpfs");
  JsonArray *binds = llmsbx_json_array_member (host_config, "Binds");

  if (tmpfs != NULL && json_object_has_member (tmpfs, dir))
    return TRUE;
  for (guint i = 0; binds != NULL && i < json_array_get_length (binds); i++)
    {
      const char *bind = json_node_get_string (json_array_get_element (binds, i));
      const char *target = bind ? strchr (bind, ':') : NULL;
      gsize len = strlen (dir);

      if (target != NULL && strncmp (target + 1, dir, len) == 0 &&
          (target[1 + len] == '\0' || target[1 + len] == ':'))
        return TRUE;
    }
  return FALSE;
}

static JsonObject *
build_create_body (LlmsbxEngineBackend  *self,
                   LlmsbxContainerSpec  *spec,
                   GError              **error)
{
  g_autoptr(JsonObject) body = json_object_new ();
  JsonObject *host_config;
  JsonObject *labels;
  JsonArray *env = json_array_new ();
  JsonArray *config_env;
  const char *workdir;

  if (!llmsbx_engine_runtime_configs_apply (spec->runtime_configs, body, error))
    {
      json_array_unref (env);
      return NULL;
    }
  host_config = llmsbx_json_object_member (body, "HostConfig");
  if (host_config == NULL)
    {
      host_config = json_object_new ();
      json_object_set_object_member (body, "HostConfig", host_config);
    }

  json_object_set_string_member (body, "Image", spec->image);
  if (spec->command != NULL)
    {
      JsonArray *cmd = json_array_new ();
      for (char **c = spec->command; *c != NULL; c++)
        json_array_add_string_element (cmd, *c);
      json_object_set_array_member (body, "Cmd", cmd);
    }

  /* A working_dir from the runtime configs wins over the spec's as the
   * container's own directory; the session still writes to the spec's. */
  if (!json_object_has_member (body, "WorkingDir") && spec->workdir != NULL)
    json_object_set_string_member (body, "WorkingDir", spec->workdir);
  workdir = spec->workdir ? spec->workdir
                          : json_object_get_string_member_with_default (body, "WorkingDir", NULL);

  /* The spec's environment first, so the user's own settings override it. */
  for (char **e = spec->env; e != NULL && *e != NULL; e++)
    json_array_add_string_element (env, *e);
  config_env = llmsbx_json_array_member (body, "Env");
  for (guint i = 0; config_env != NULL && i < json_array_get_length (config_env); i++)
    json_array_add_element (env, json_node_copy (json_array_get_element (config_env, i)));
  json_object_set_array_member (body, "Env", env);

  /* The spec's labels last: they are how leftovers are found and reaped. */
  labels = llmsbx_json_object_member (body, "Labels");
  if (labels == NULL)
    {
      labels = json_object_new ();
      json_object_set_object_member (body, "Labels", labels);
    }
  for (char **l = spec->labels; l != NULL && *l != NULL; l++)
    {
      const char *eq = strchr (*l, '=');
      g_autofree char *key = eq ? g_strndup (*l, eq - *l) : g_strdup (*l);
      json_object_set_string_member (labels, key, eq ? eq + 1 : "");
    }

  /* With a read-only root filesystem, archives can only be unpacked into a
   * volume (not even a tmpfs), so the working directory becomes one. */
  if (json_object_get_boolean_member_with_default (host_config, "ReadonlyRootfs", FALSE) &&
      workdir != NULL && g_path_is_absolute (workdir) && !is_mounted (host_config, workdir))
    {
      JsonArray *mounts = llmsbx_json_array_member (host_config, "Mounts");
      JsonObject *mount = json_object_new ();

      if (mounts == NULL)
        {
          mounts = json_array_new ();
          json_object_set_array_member (host_config, "Mounts", mounts);
        }
      json_object_set_string_member (mount, "Type", "volume");
      json_object_set_string_member (mount, "Target", workdir);
      json_array_add_object_element (mounts, mount);
    }

  if (!LLMSBX_ENGINE_BACKEND_GET_CLASS (self)->prepare_create (self, body, spec, error))
    return NULL;
  return g_steal_pointer (&body);
}

/* Whether a failed container create means the engine refused the
 * configuration: Docker answers 400, Podman 500 with its own prefix. */
static gboolean
refused_configuration (LlmsbxEngineBackend *self,
                       const GError        *error)
{
  const char *prefix = LLMSBX_ENGINE_BACKEND_GET_CLASS (self)->config_error_prefix;

  return is_engine_error (error, 400) ||
         (prefix != NULL && is_engine_error (error, 0) && g_str_has_prefix (error->message, prefix));
}

/* Force-removes a container and its anonymous volumes; one that is gone
 * (or going) counts as removed. */
static gboolean
remove_container (LlmsbxEngineClient  *client,
                  const char          *sandbox_id,
                  GCancellable        *cancellable,
                  GError             **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autoptr(JsonNode) answer = NULL;
  g_autofree char *escaped = escape (sandbox_id);
  g_autofree char *path = g_strdup_printf ("/containers/%s?force=1&v=1", escaped);
  g_autofree char *what = NULL;

  answer = llmsbx_engine_client_json (client, "DELETE", path, NULL, cancellable, &local_error);
  if (answer != NULL || is_engine_error (local_error, 404) ||
      (is_engine_error (local_error, 409) && strstr (local_error->message, "already in progress")))
    return TRUE;

  what = g_strdup_printf ("Could not remove sandbox %s", sandbox_id);
  return fail (error, g_steal_pointer (&local_error), LLMSBX_ERROR_CONTAINER_FAILED, what);
}

static gboolean
start_container (LlmsbxEngineClient  *client,
                 const char          *sandbox_id,
                 GCancellable        *cancellable,
                 GError             **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autoptr(JsonNode) answer = NULL;
  g_autofree char *escaped = escape (sandbox_id);
  g_autofree char *path = g_strdup_printf ("/containers/%s/start", escaped);
  g_autofree char *what = NULL;

  /* 304 (already running) is a success too. */
  answer = llmsbx_engine_client_json (client, "POST", path, NULL, cancellable, &local_error);
  if (answer != NULL)
    return TRUE;

  what = g_strdup_printf ("Could not start sandbox %s", sandbox_id);
  return llmsbx_engine_fail_container (error, g_steal_pointer (&local_error), sandbox_id, what);
}

static gboolean llmsbx_engine_backend_exec (LlmsbxBackend          *backend,
                                            const char             *sandbox_id,
                                            LlmsbxExecRequest      *request,
                                            LlmsbxOutputCollector  *output,
                                            int                    *exit_status,
                                            GCancellable           *cancellable,
                                            GError                **error);

static gboolean
is_root_user (const char *user)
{
  gsize name_len = user ? strcspn (user, ":") : 0;

  return name_len == 0 || strncmp (user, "0", name_len) == 0 || strncmp (user, "root", name_len) == 0;
}

/* A sandbox whose user is not root cannot write to a workdir that root owns
 * (as the image's, or the one the engine made, usually are), and the session
 * writes its code files there. Root opens it up like /tmp before anything
 * runs: one more exec, only for such sandboxes. A workdir that someone else
 * owns was arranged by the image and stays as it is. */
static gboolean
open_workdir_for_user (LlmsbxBackend  *backend,
                       const char     *sandbox_id,
                       const char     *workdir,
                       const char     *user,
                       GCancellable   *cancellable,
                       GError        **error)
{
  const char *argv[] = {
    "sh", "-c", "mkdir -p -- \"$1\" && { [ ! -O \"$1\" ] || chmod 1777 -- \"$1\"; }", "llmsbx-workdir", workdir, NULL
  };
  g_autoptr(LlmsbxExecRequest) request = llmsbx_exec_request_new (argv);
  g_autoptr(LlmsbxOutputCollector) output = llmsbx_output_collector_new (4096);
  g_autoptr(GBytes) err = NULL;
  g_autofree char *text = NULL;
  int status = 0;

  request->user = g_strdup ("0");
  request->workdir = g_strdup ("/");
  if (!llmsbx_engine_backend_exec (backend, sandbox_id, request, output, &status, cancellable, error))
    return FALSE;
  if (status == 0)
    return TRUE;

  err = llmsbx_output_collector_steal_bytes (output, LLMSBX_OUTPUT_STREAM_STDERR);
  text = g_utf8_make_valid (g_bytes_get_data (err, NULL), g_bytes_get_size (err));
  g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_CONTAINER_FAILED,
               "Could not make the working directory %s writable for user %s: %s",
               workdir, user, g_strstrip (text));
  return FALSE;
}

static char *
llmsbx_engine_backend_create_sandbox (LlmsbxBackend        *backend,
                                      LlmsbxContainerSpec  *spec,
                                      GCancellable         *cancellable,
                                      GError              **error)
{
  LlmsbxEngineBackend *self = LLMSBX_ENGINE_BACKEND (backend);
  g_autoptr(LlmsbxEngineClient) client = NULL;
  g_autoptr(JsonObject) body = NULL;
  g_autoptr(JsonNode) body_node = NULL;
  g_autoptr(JsonNode) answer = NULL;
  g_autoptr(GError) local_error = NULL;
  g_autofree char *path = NULL;
  g_autofree char *id = NULL;
  g_autofree char *user = NULL;
  g_autofree char *workdir = NULL;

  body = build_create_body (self, spec, error);
  if (body == NULL)
    return NULL;
  user = g_strdup (json_object_get_string_member_with_default (body, "User", NULL));
  workdir = g_strdup (spec->workdir ? spec->workdir
                                    : json_object_get_string_member_with_default (body, "WorkingDir", NULL));
  client = llmsbx_engine_backend_get_client (self, cancellable, error);
  if (client == NULL)
    return NULL;

  if (spec->name != NULL)
    {
      g_autofree char *escaped = escape (spec->name);
      path = g_strdup_printf ("/containers/create?name=%s", escaped);
    }
  else
    path = g_strdup ("/containers/create");

  body_node = json_node_from_object (g_steal_pointer (&body));
  answer = llmsbx_engine_client_json (client, "POST", path, body_node, cancellable, &local_error);
  if (answer == NULL)
    {
      if (is_engine_error (local_error, 404))
        g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_IMAGE_NOT_FOUND,
                     "Image %s is not present locally: %s", spec->image, local_error->message);
      else if (refused_configuration (self, local_error))
        g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
                     "The %s refused the sandbox's configuration: %s", engine_name (self),
                     local_error->message);
      else
        fail (error, g_steal_pointer (&local_error), LLMSBX_ERROR_CONTAINER_FAILED,
              "Could not create the sandbox");
      return NULL;
    }
  if (get_id (answer) == NULL)
    {
      missing_id (self, "creating a container", error);
      return NULL;
    }
  id = g_strdup (get_id (answer));

  if (!start_container (client, id, cancellable, error) ||
      (!is_root_user (user) && workdir != NULL &&
       !open_workdir_for_user (backend, id, workdir, user, cancellable, error)))
    {
      /* Leave nothing behind; this removal must run even when cancelled. */
      g_autoptr(GError) remove_error = NULL;

      if (!remove_container (client, id, NULL, &remove_error))
        g_warning ("Could not remove sandbox %s after it failed to start: %s", id, remove_error->message);
      return NULL;
    }

  return g_steal_pointer (&id);
}

static char *
llmsbx_engine_backend_attach_sandbox (LlmsbxBackend  *backend,
                                      const char     *sandbox_id,
                                      GCancellable   *cancellable,
                                      GError        **error)
{
  LlmsbxEngineBackend *self = LLMSBX_ENGINE_BACKEND (backend);
  g_autoptr(LlmsbxEngineClient) client = llmsbx_engine_backend_get_client (self, cancellable, error);
  g_autoptr(GError) local_error = NULL;
  g_autoptr(JsonNode) inspect = NULL;
  g_autofree char *escaped = NULL;
  g_autofree char *path = NULL;
  JsonObject *state;
  const char *id;

  if (client == NULL)
    return NULL;

  escaped = escape (sandbox_id);
  path = g_strdup_printf ("/containers/%s/json", escaped);
  inspect = llmsbx_engine_client_json (client, "GET", path, NULL, cancellable, &local_error);
  if (inspect == NULL)
    {
      if (is_engine_error (local_error, 404))
        g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_CONTAINER_FAILED,
                     "Container %s not found", sandbox_id);
      else
        fail (error, g_steal_pointer (&local_error), LLMSBX_ERROR_CONTAINER_FAILED,
              "Could not inspect the container");
      return NULL;
    }

  id = get_id (inspect);
  if (id == NULL)
    {
      missing_id (self, "inspecting a container", error);
      return NULL;
    }
  state = llmsbx_json_object_member (json_node_get_object (inspect), "State");
  if ((state == NULL || !json_object_get_boolean_member_with_default (state, "Running", FALSE)) &&
      !start_container (client, id, cancellable, error))
    return NULL;

  return g_strdup (id);
}

static gboolean
llmsbx_engine_backend_remove_sandbox (LlmsbxBackend  *backend,
                                      const char     *sandbox_id,
                                      GCancellable   *cancellable,
                                      GError        **error)
{
  LlmsbxEngineBackend *self = LLMSBX_ENGINE_BACKEND (backend);
  g_autoptr(LlmsbxEngineClient) client = llmsbx_engine_backend_get_client (self, cancellable, error);

  return client != NULL && remove_container (client, sandbox_id, cancellable, error);
}

static gboolean
llmsbx_engine_backend_commit (LlmsbxBackend  *backend,
                              const char     *sandbox_id,
                              const char     *image,
                              GCancellable   *cancellable,
                              GError        **error)
{
  LlmsbxEngineBackend *self = LLMSBX_ENGINE_BACKEND (backend);
  g_autoptr(LlmsbxEngineClient) client = llmsbx_engine_backend_get_client (self, cancellable, error);
  g_autoptr(GError) local_error = NULL;
  g_autoptr(JsonNode) answer = NULL;
  g_autofree char *name = NULL;
  g_autofree char *tag = NULL;
  g_autofree char *escaped_id = NULL;
  g_autofree char *escaped_name = NULL;
  g_autofree char *escaped_tag = NULL;
  g_autofree char *path = NULL;
  g_autofree char *what = NULL;

  if (client == NULL)
    return FALSE;

  split_reference (image, &name, &tag);
  escaped_id = escape (sandbox_id);
  escaped_name = escape (name);
  escaped_tag = escape (tag);
  path = g_strdup_printf ("%s?container=%s&repo=%s&tag=%s", LLMSBX_ENGINE_BACKEND_GET_CLASS (self)->commit_path,
                          escaped_id, escaped_name, escaped_tag);
  answer = llmsbx_engine_client_json (client, "POST", path, NULL, cancellable, &local_error);
  if (answer != NULL)
    return TRUE;

  what = g_strdup_printf ("Could not commit sandbox %s to image %s", sandbox_id, image);
  return llmsbx_engine_fail_container (error, g_steal_pointer (&local_error), sandbox_id, what);
}

/* ---------------------------------------------------------------------------
 * Files
 * ------------------------------------------------------------------------ */

/* The endpoint of the archive at @sandbox_path in the sandbox. */
char *
llmsbx_engine_archive_path (const char *sandbox_id,
                            const char *sandbox_path)
{
  g_autofree char *escaped_id = escape (sandbox_id);
  g_autofree char *escaped_path = escape (sandbox_path);

  return g_strdup_printf ("/containers/%s/archive?path=%s", escaped_id, escaped_path);
}

/* A 404 from the archive endpoint is about the path (@not_found says so),
 * unless it is about the sandbox itself. */
static gboolean
fail_archive (GError     **error,
              GError      *local,
              const char  *sandbox_id,
              const char  *not_found,
              const char  *what)
{
  if (is_engine_error (local, 404) && !container_not_found (local, sandbox_id))
    {
      g_set_error_literal (error, LLMSBX_ERROR, LLMSBX_ERROR_FILE_NOT_FOUND, not_found);
      g_error_free (local);
      return FALSE;
    }
  return llmsbx_engine_fail_container (error, local, sandbox_id, what);
}

/* With noOverwriteDirNonDir, Docker refuses an entry that would replace a
 * directory with a non-directory or the reverse ("cannot overwrite directory
 * ... with non-directory"), Podman with a "file exists" error. */
static gboolean
would_replace (const GError *error)
{
  return is_engine_error (error, 500) &&
         (strstr (error->message, "cannot overwrite directory") != NULL ||
          strstr (error->message, "cannot overwrite non-directory") != NULL ||
          g_str_has_suffix (error->message, ": file exists"));
}

static gboolean
llmsbx_engine_backend_put_archive (LlmsbxBackend  *backend,
                                   const char     *sandbox_id,
                                   const char     *dest_dir,
                                   GBytes         *archive,
                                   GCancellable   *cancellable,
                                   GError        **error)
{
  LlmsbxEngineBackend *self = LLMSBX_ENGINE_BACKEND (backend);
  g_autoptr(LlmsbxEngineClient) client = llmsbx_engine_backend_get_client (self, cancellable, error);
  g_autoptr(GError) local_error = NULL;
  g_autofree char *archive_endpoint = NULL;
  g_autofree char *path = NULL;
  g_autofree char *not_found = NULL;
  g_autofree char *what = NULL;
  LlmsbxEngineRequest request = {
    .method = "PUT",
    .content_type = "application/x-tar",
    .body = archive,
  };

  if (client == NULL)
    return FALSE;

  /* Without noOverwriteDirNonDir both engines replace a directory, with all
   * it holds, by a file of the same name. */
  archive_endpoint = llmsbx_engine_archive_path (sandbox_id, dest_dir);
  path = g_strconcat (archive_endpoint, "&noOverwriteDirNonDir=1", NULL);
  request.path = path;
  if (llmsbx_engine_client_send (client, &request, NULL, NULL, cancellable, &local_error))
    return TRUE;

  if (would_replace (local_error))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_EXISTS,
                   "Copying into %s would replace a directory with a file or a file with a "
                   "directory: %s", dest_dir, local_error->message);
      return FALSE;
    }
  not_found = g_strdup_printf ("Directory %s does not exist in the sandbox", dest_dir);
  what = g_strdup_printf ("Could not copy files into %s in the sandbox", dest_dir);
  return fail_archive (error, g_steal_pointer (&local_error), sandbox_id, not_found, what);
}

/* The target of @archive's top entry when that is a symbolic link: Docker
 * archives a link itself, Podman what it points to. NULL otherwise. */
static char *
top_entry_link_target (GBytes *archive)
{
  struct archive *reader = archive_read_new ();
  struct archive_entry *entry;
  const char *data;
  gsize length;
  char *target = NULL;

  data = g_bytes_get_data (archive, &length);
  archive_read_support_format_tar (reader);
  if (archive_read_open_memory (reader, data != NULL ? data : "", length) == ARCHIVE_OK &&
      archive_read_next_header (reader, &entry) == ARCHIVE_OK &&
      archive_entry_filetype (entry) == AE_IFLNK && archive_entry_symlink (entry) != NULL &&
      strchr (archive_entry_pathname (entry), '/') == NULL)
    target = g_strdup (archive_entry_symlink (entry));
  archive_read_free (reader);
  return target;
}

/* The first bytes of a streamed archive are held back until they show
 * whether its top entry is a symbolic link to follow: an archive of a lone
 * link is a few blocks, so past LINK_SNIFF_BYTES it is not one and
 * everything flows on to the output. */
#define LINK_SNIFF_BYTES (64 * 1024)

typedef struct {
  GOutputStream *output;
  GByteArray    *head;
  gboolean       flowing;
} ArchiveSink;

static gboolean
archive_sink_write (const guint8  *data,
                    gsize          length,
                    gpointer       user_data,
                    GError       **error)
{
  ArchiveSink *sink = user_data;
  gboolean ok;

  if (sink->flowing)
    return g_output_stream_write_all (sink->output, data, length, NULL, NULL, error);

  g_byte_array_append (sink->head, data, length);
  if (sink->head->len <= LINK_SNIFF_BYTES)
    return TRUE;
  sink->flowing = TRUE;
  ok = g_output_stream_write_all (sink->output, sink->head->data, sink->head->len, NULL, NULL, error);
  g_byte_array_set_size (sink->head, 0);
  return ok;
}

/* Fetches the archive of @sandbox_path into @archive, or with @output set
 * streams it there as it arrives (only its first blocks are held).
 *
 * A source that is a symbolic link is followed, like `cp -L`, on every
 * engine: each link costs one more request, and its target, joined to the
 * link's directory when relative, goes to the engine unnormalised, which
 * resolves `..` and links in it within the sandbox. */
static gboolean
fetch_archive (LlmsbxEngineBackend  *self,
               const char           *sandbox_id,
               const char           *sandbox_path,
               GOutputStream        *output,
               GBytes              **archive,
               GCancellable         *cancellable,
               GError              **error)
{
  g_autoptr(LlmsbxEngineClient) client = llmsbx_engine_backend_get_client (self, cancellable, error);
  g_autofree char *current = g_strdup (sandbox_path);

  if (client == NULL)
    return FALSE;

  for (guint links = 0; ; links++)
    {
      g_autoptr(GError) local_error = NULL;
      g_autoptr(GBytes) fetched = NULL;
      g_autoptr(GByteArray) head = g_byte_array_new ();
      g_autofree char *path = llmsbx_engine_archive_path (sandbox_id, current);
      g_autofree char *target = NULL;
      g_autofree char *directory = NULL;
      ArchiveSink sink = { output, head, FALSE };
      LlmsbxEngineRequest request = {
        .method = "GET",
        .path = path,
        .max_response = output == NULL ? MAX_ARCHIVE_SIZE : 0,
        .body_func = output != NULL ? archive_sink_write : NULL,
        .body_func_data = &sink,
      };

      /* What the stream said (a limit, a full disk) passes unchanged. */
      if (!llmsbx_engine_client_send (client, &request, NULL, output == NULL ? &fetched : NULL,
                                      cancellable, &local_error))
        {
          g_autofree char *not_found = NULL;
          g_autofree char *what = g_strdup_printf ("Could not copy %s out of the sandbox", sandbox_path);

          if (links == 0)
            not_found = g_strdup_printf ("%s does not exist in the sandbox", sandbox_path);
          else
            not_found = g_strdup_printf ("%s is a symbolic link to %s, which does not exist in the sandbox",
                                         sandbox_path, current);
          return fail_archive (error, g_steal_pointer (&local_error), sandbox_id, not_found, what);
        }

      if (output != NULL && sink.flowing)
        return TRUE;
      if (output != NULL)
        fetched = g_bytes_new (head->data, head->len);

      target = top_entry_link_target (fetched);
      if (target == NULL && output == NULL)
        {
          *archive = g_steal_pointer (&fetched);
          return TRUE;
        }
      if (target == NULL)
        return g_output_stream_write_all (output, head->data, head->len, NULL, cancellable, error);
      if (links == MAX_SYMLINKS)
        {
          g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
                       "Could not copy %s out of the sandbox: more than %d levels of symbolic links",
                       sandbox_path, MAX_SYMLINKS);
          return FALSE;
        }
      directory = g_path_get_dirname (current);
      g_free (current);
      current = target[0] == '/' ? g_steal_pointer (&target)
                                 : g_strconcat (directory, g_str_equal (directory, "/") ? "" : "/", target, NULL);
    }
}

static GBytes *
llmsbx_engine_backend_get_archive (LlmsbxBackend  *backend,
                                   const char     *sandbox_id,
                                   const char     *sandbox_path,
                                   GCancellable   *cancellable,
                                   GError        **error)
{
  GBytes *archive = NULL;

  if (!fetch_archive (LLMSBX_ENGINE_BACKEND (backend), sandbox_id, sandbox_path, NULL, &archive,
                      cancellable, error))
    return NULL;
  return archive;
}

/* The archive goes on to @output as it arrives: nothing is buffered but its
 * first blocks. */
static gboolean
llmsbx_engine_backend_get_archive_to_stream (LlmsbxBackend  *backend,
                                             const char     *sandbox_id,
                                             const char     *sandbox_path,
                                             GOutputStream  *output,
                                             GCancellable   *cancellable,
                                             GError        **error)
{
  return fetch_archive (LLMSBX_ENGINE_BACKEND (backend), sandbox_id, sandbox_path, output, NULL,
                        cancellable, error);
}

/* ---------------------------------------------------------------------------
 * Exec
 * ------------------------------------------------------------------------ */


/* Docker's runtime says this when it could not start an exec in a running
 * sandbox (a missing program, a full pids limit); in a stopped one it says
 * "cannot exec in a stopped state". */
#define RUNTIME_EXEC_FAILED "OCI runtime exec failed"

/* Keeps the start of each stream, where the engine's message would be. */
void
llmsbx_engine_exec_output_note (LlmsbxEngineExecOutput *output,
                                LlmsbxOutputStream      stream,
                                const guint8           *data,
                                gsize                   length)
{
  guint which = stream == LLMSBX_OUTPUT_STREAM_STDOUT ? 0 : 1;

  if (output->head_length[which] < sizeof output->head[which] - 1)
    {
      gsize n = MIN (length, sizeof output->head[which] - 1 - output->head_length[which]);

      memcpy (output->head[which] + output->head_length[which], data, n);
      output->head_length[which] += n;
    }
}

static void
collect_output (LlmsbxOutputStream  stream,
                const guint8       *data,
                gsize               length,
                gpointer            user_data)
{
  LlmsbxEngineExecOutput *output = user_data;

  llmsbx_engine_exec_output_note (output, stream, data, length);
  llmsbx_output_collector_append (output->collector, stream, data, length);
}

/* Whether the engine could not start the exec's process at all. Docker says
 * so with exit status 126 and no process id, Podman (whose execs never keep
 * one) with 125 to 127 and its own error on stderr, ending in the kind of
 * OCI runtime failure: "Error: runc: exec failed: unable to start container
 * process: ...: OCI runtime error". Sets @message to the engine's words. */
static gboolean
exec_not_started (LlmsbxEngineBackend  *self,
                  int                   status,
                  gint64                pid,
                  LlmsbxEngineExecOutput *output,
                  char                 **message)
{
  const char *text;

  if (LLMSBX_ENGINE_BACKEND_GET_CLASS (self)->exec_keeps_pid)
    {
      if (status != 126 || pid != 0)
        return FALSE;
      text = output->head[0];
    }
  else
    {
      g_autofree char *line = NULL;

      if (status < 125 || status > 127 || !g_str_has_prefix (output->head[1], "Error: "))
        return FALSE;
      line = g_strndup (output->head[1], strcspn (output->head[1], "\n"));
      if (strstr (line, ": OCI ") == NULL)
        return FALSE;
      text = output->head[1] + strlen ("Error: ");
    }

  *message = g_utf8_make_valid (text, strcspn (text, "\r\n"));
  return TRUE;
}

static gboolean
feed_mux (const guint8  *data,
          gsize          length,
          gpointer       mux,
          GError       **error)
{
  return llmsbx_engine_mux_feed (mux, data, length, error);
}

static JsonNode *
exec_create_body (LlmsbxExecRequest *request,
                  gboolean           attach_stdin)
{
  JsonObject *body = json_object_new ();
  JsonArray *cmd = json_array_new ();

  json_object_set_boolean_member (body, "AttachStdin", attach_stdin);
  json_object_set_boolean_member (body, "AttachStdout", TRUE);
  json_object_set_boolean_member (body, "AttachStderr", TRUE);
  json_object_set_boolean_member (body, "Tty", FALSE);
  for (char **a = request->argv; *a != NULL; a++)
    json_array_add_string_element (cmd, *a);
  json_object_set_array_member (body, "Cmd", cmd);
  if (request->env != NULL && request->env[0] != NULL)
    {
      JsonArray *env = json_array_new ();
      for (char **e = request->env; *e != NULL; e++)
        json_array_add_string_element (env, *e);
      json_object_set_array_member (body, "Env", env);
    }
  if (request->workdir != NULL)
    json_object_set_string_member (body, "WorkingDir", request->workdir);
  if (request->user != NULL)
    json_object_set_string_member (body, "User", request->user);
  return json_node_from_object (body);
}

/* Sleeps @us unless @cancellable is cancelled first. */
static gboolean
cancellable_sleep (GCancellable  *cancellable,
                   gint64         us,
                   GError       **error)
{
  g_autoptr(GMainContext) context = NULL;
  g_autoptr(GSource) timeout = NULL;
  g_autoptr(GSource) cancel = NULL;

  if (cancellable == NULL)
    {
      g_usleep (us);
      return TRUE;
    }

  /* A private context: wakes at the timeout or at cancellation, whichever first. */
  context = g_main_context_new ();
  timeout = g_timeout_source_new (us / 1000);
  g_source_set_dummy_callback (timeout);
  g_source_attach (timeout, context);
  cancel = g_cancellable_source_new (cancellable);
  g_source_set_dummy_callback (cancel);
  g_source_attach (cancel, context);
  g_main_context_iteration (context, TRUE);

  return !g_cancellable_set_error_if_cancelled (cancellable, error);
}

static gboolean
exec_exit_status (LlmsbxEngineBackend  *self,
                  LlmsbxEngineClient   *client,
                  const char           *exec_id,
                  gint64                deadline,
                  int                  *exit_status,
                  gint64               *pid,
                  GCancellable         *cancellable,
                  GError              **error)
{
  g_autofree char *escaped = escape (exec_id);
  g_autofree char *path = g_strdup_printf ("/exec/%s/json", escaped);

  for (int attempt = 0; attempt < EXIT_POLL_ATTEMPTS; attempt++)
    {
      g_autoptr(GError) local_error = NULL;
      g_autoptr(JsonNode) inspect = llmsbx_engine_client_json_before (client, "GET", path, NULL, deadline,
                                                                      cancellable, &local_error);
      JsonObject *object;
      JsonNode *code;

      if (inspect == NULL)
        return fail (error, g_steal_pointer (&local_error), LLMSBX_ERROR_CONTAINER_FAILED,
                     "Could not read the command's exit status");
      if (!JSON_NODE_HOLDS_OBJECT (inspect))
        break;
      object = json_node_get_object (inspect);

      /* Test Running first: while running Docker reports ExitCode null, Podman 0. */
      if (!json_object_get_boolean_member_with_default (object, "Running", FALSE))
        {
          code = json_object_get_member (object, "ExitCode");
          if (code == NULL || json_node_get_value_type (code) != G_TYPE_INT64)
            break;
          *exit_status = (int) json_node_get_int (code);
          *pid = json_object_get_int_member_with_default (object, "Pid", 0);
          return TRUE;
        }

      if (deadline > 0 && g_get_monotonic_time () + EXIT_POLL_INTERVAL_US > deadline)
        {
          g_set_error_literal (error, LLMSBX_ERROR, LLMSBX_ERROR_TIMEOUT,
                               "The command did not finish before its deadline");
          return FALSE;
        }
      if (!cancellable_sleep (cancellable, EXIT_POLL_INTERVAL_US, error))
        return FALSE;
    }

  g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_PROTOCOL,
               "The %s did not report the exit status of exec %s", engine_name (self), exec_id);
  return FALSE;
}

/* Docker refuses to create an exec in a sandbox that is not running with
 * 409, and to start one created just before it stopped with 500 and
 * "Container ID is not running: STATE"; Podman both with 500 and a message
 * ending in its "container state improper", also when the sandbox is paused. */
static gboolean
exec_refused_for_state (const GError *error)
{
  return is_engine_error (error, 409) ||
         (is_engine_error (error, 500) && g_str_has_prefix (error->message, "Container ") &&
          strstr (error->message, " is not running: ") != NULL) ||
         (is_engine_error (error, 0) && g_str_has_suffix (error->message, "container state improper"));
}

/* Fails with LLMSBX_ERROR_CONTAINER_FAILED when the sandbox has stopped: code
 * killed every process in it (its init too), or its main process exited.
 * The state is read up to @attempts times while it says running. */
static gboolean
sandbox_still_running (LlmsbxEngineBackend  *self,
                       LlmsbxEngineClient   *client,
                       const char           *sandbox_id,
                       guint                 attempts,
                       GCancellable         *cancellable,
                       GError              **error)
{
  g_autofree char *escaped = escape (sandbox_id);
  g_autofree char *path = g_strdup_printf ("/containers/%s/json", escaped);

  for (guint attempt = 1; ; attempt++)
    {
      g_autoptr(GError) local_error = NULL;
      g_autoptr(JsonNode) inspect = NULL;
      JsonObject *state = NULL;

      inspect = llmsbx_engine_client_json (client, "GET", path, NULL, cancellable, &local_error);
      if (inspect == NULL)
        return llmsbx_engine_fail_container (error, g_steal_pointer (&local_error), sandbox_id,
                               "Could not inspect the sandbox");
      if (JSON_NODE_HOLDS_OBJECT (inspect))
        state = llmsbx_json_object_member (json_node_get_object (inspect), "State");
      if (state == NULL)
        {
          g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_PROTOCOL,
                       "The %s did not report the state of sandbox %s", engine_name (self), sandbox_id);
          return FALSE;
        }
      if (!json_object_get_boolean_member_with_default (state, "Running", FALSE))
        {
          if (json_object_get_boolean_member_with_default (state, "OOMKilled", FALSE))
            g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_CONTAINER_FAILED,
                         "The sandbox %.12s is no longer running: the kernel killed it for lack of "
                         "memory (out of memory)", sandbox_id);
          else
            g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_CONTAINER_FAILED,
                         "The sandbox %.12s is no longer running (its processes were killed or it exited)",
                         sandbox_id);
          return FALSE;
        }
      if (attempt >= attempts)
        return TRUE;
      if (!cancellable_sleep (cancellable, EXIT_POLL_INTERVAL_US, error))
        return FALSE;
    }
}

static gboolean run_exec (LlmsbxEngineBackend    *self,
                          const char             *sandbox_id,
                          LlmsbxExecRequest      *request,
                          LlmsbxOutputCollector  *output,
                          int                    *exit_status,
                          gboolean                probing,
                          GCancellable           *cancellable,
                          GError                **error);

/* A command killed by SIGKILL (137) may have died with its sandbox: killed
 * from outside (`docker kill`, the OOM killer choosing the sandbox's main
 * process, the engine stopping it), which the engine records only a moment
 * later (Docker about 0.1 s after the command's end), so the sandbox's state
 * cannot tell yet. A sandbox that runs takes a new exec; one whose main
 * process died refuses it at once, and the refusal waits for the state. So
 * the sandbox is probed with an exec that does nothing: three round trips, on
 * this path alone. Fails with LLMSBX_ERROR_CONTAINER_FAILED when it stopped. */
static gboolean
sandbox_takes_execs (LlmsbxEngineBackend  *self,
                     LlmsbxEngineClient   *client,
                     const char           *sandbox_id,
                     GCancellable         *cancellable,
                     GError              **error)
{
  const char *argv[] = { "sh", "-c", ":", NULL };
  g_autoptr(LlmsbxExecRequest) probe = llmsbx_exec_request_new (argv);
  g_autoptr(LlmsbxOutputCollector) output = llmsbx_output_collector_new (256);
  g_autoptr(GError) local_error = NULL;
  int status = 0;

  /* Its own bound: the command's deadline may be all but spent. */
  probe->workdir = g_strdup ("/");
  probe->deadline = g_get_monotonic_time () + PROBE_TIMEOUT_US;
  /* An engine may also start the exec and fail it (Podman: status 125)
   * while the sandbox's init is still exiting: then the state is waited for. */
  if (run_exec (self, sandbox_id, probe, output, &status, TRUE, cancellable, &local_error))
    return status == 0 ||
           sandbox_still_running (self, client, sandbox_id, STOP_POLL_ATTEMPTS, cancellable, error);
  if (g_error_matches (local_error, LLMSBX_ERROR, LLMSBX_ERROR_COMMAND_NOT_STARTED))
    return sandbox_still_running (self, client, sandbox_id, STOP_POLL_ATTEMPTS, cancellable, error);
  if (g_error_matches (local_error, LLMSBX_ERROR, LLMSBX_ERROR_TIMEOUT))
    g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_CONTAINER_FAILED,
                 "The sandbox %.12s did not run a command within %d s after one was killed",
                 sandbox_id, (int) (PROBE_TIMEOUT_US / G_USEC_PER_SEC));
  else
    g_propagate_error (error, g_steal_pointer (&local_error));
  return FALSE;
}

static gboolean
llmsbx_engine_backend_exec (LlmsbxBackend          *backend,
                            const char             *sandbox_id,
                            LlmsbxExecRequest      *request,
                            LlmsbxOutputCollector  *output,
                            int                    *exit_status,
                            GCancellable           *cancellable,
                            GError                **error)
{
  return run_exec (LLMSBX_ENGINE_BACKEND (backend), sandbox_id, request, output, exit_status, FALSE,
                   cancellable, error);
}

/* 1. Creates the exec of @request and returns its id. The deadline covers
 * every request of the exec: a hung engine cannot outlast it. */
char *
llmsbx_engine_exec_create (LlmsbxEngineBackend  *self,
                           LlmsbxEngineClient   *client,
                           const char           *sandbox_id,
                           LlmsbxExecRequest    *request,
                           gboolean              attach_stdin,
                           GCancellable         *cancellable,
                           GError              **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autoptr(JsonNode) create_body = NULL;
  g_autoptr(JsonNode) created = NULL;
  g_autofree char *escaped = escape (sandbox_id);
  g_autofree char *path = g_strdup_printf ("/containers/%s/exec", escaped);

  create_body = exec_create_body (request, attach_stdin);
  created = llmsbx_engine_client_json_before (client, "POST", path, create_body, request->deadline,
                                              cancellable, &local_error);
  if (created == NULL)
    {
      if (exec_refused_for_state (local_error))
        {
          if (!sandbox_still_running (self, client, sandbox_id, 1, cancellable, error))
            return NULL;
          g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_CONTAINER_FAILED,
                       "Sandbox %s is not running: %s", sandbox_id, local_error->message);
          return NULL;
        }
      llmsbx_engine_fail_container (error, g_steal_pointer (&local_error), sandbox_id,
                      "Could not run a command in the sandbox");
      return NULL;
    }
  if (get_id (created) == NULL)
    {
      missing_id (self, "creating an exec", error);
      return NULL;
    }
  return g_strdup (get_id (created));
}

/* The request that starts exec @exec_id, attached; its @path and @body are
 * the caller's to free. */
void
llmsbx_engine_exec_start_request (const char          *exec_id,
                                  gint64               deadline,
                                  LlmsbxEngineRequest *start,
                                  char               **path,
                                  GBytes             **body)
{
  static const char start_json[] = "{\"Detach\":false,\"Tty\":false}";
  g_autofree char *escaped = escape (exec_id);

  *path = g_strdup_printf ("/exec/%s/start", escaped);
  *body = g_bytes_new_static (start_json, sizeof start_json - 1);
  *start = (LlmsbxEngineRequest) {
    .method = "POST",
    .path = *path,
    .content_type = "application/json",
    .body = *body,
    .deadline = deadline,
  };
}

/* What a failed exec start means; FALSE with @error set. */
gboolean
llmsbx_engine_exec_start_failed (LlmsbxEngineBackend  *self,
                                 LlmsbxEngineClient   *client,
                                 const char           *sandbox_id,
                                 GError               *local_error,
                                 GCancellable         *cancellable,
                                 GError              **error)
{
  if (g_error_matches (local_error, LLMSBX_ERROR, LLMSBX_ERROR_TIMEOUT))
    {
      g_error_free (local_error);
      g_set_error_literal (error, LLMSBX_ERROR, LLMSBX_ERROR_TIMEOUT,
                           "The command did not finish before its deadline");
      return FALSE;
    }
  if (exec_refused_for_state (local_error) &&
      !sandbox_still_running (self, client, sandbox_id, 1, cancellable, error))
    {
      g_error_free (local_error);
      return FALSE;
    }
  return llmsbx_engine_fail_container (error, local_error, sandbox_id, "Could not run a command in the sandbox");
}

/* 3. The output ended: the process has exited; reads its status and tells
 * what it means. A probe's own 137 is not probed again. */
gboolean
llmsbx_engine_exec_conclude (LlmsbxEngineBackend     *self,
                             LlmsbxEngineClient      *client,
                             const char              *sandbox_id,
                             const char              *exec_id,
                             gint64                   deadline,
                             LlmsbxEngineExecOutput  *exec_output,
                             gboolean                 probing,
                             int                     *exit_status,
                             GCancellable            *cancellable,
                             GError                 **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autofree char *not_started_message = NULL;
  gint64 pid = 0;
  gboolean refused;
  gboolean not_started;

  /* Docker forgets the execs of a sandbox that stopped meanwhile. */
  if (!exec_exit_status (self, client, exec_id, deadline, exit_status, &pid, cancellable,
                         &local_error))
    {
      if (g_error_matches (local_error, LLMSBX_ERROR, LLMSBX_ERROR_CONTAINER_FAILED) &&
          !sandbox_still_running (self, client, sandbox_id, STOP_POLL_ATTEMPTS, cancellable, error))
        return FALSE;
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }

  /* A sandbox that stops under a command or just before it leaves statuses
   * that commands also exit with: 137 when stopping killed the command, and
   * 126 when Docker's OCI runtime refused to start it (with the runtime's
   * message as output), as for a program that is not executable. Only the
   * sandbox tells them apart, so it is asked on these paths alone: after a
   * 137 with a probe, after a 126 with its state; when the runtime refused
   * the exec (it has no Pid) for a reason other than a running sandbox's,
   * the state is given a moment to catch up. In a running sandbox, an exec
   * that never started is an error, not a result carrying the engine's
   * words: its program or workdir is missing, or the sandbox is at its
   * process limit. */
  not_started = exec_not_started (self, *exit_status, pid, exec_output, &not_started_message);
  if (!not_started && *exit_status != 126 && *exit_status != 137)
    return TRUE;
  if (!not_started && *exit_status == 137 && !probing)
    return sandbox_takes_execs (self, client, sandbox_id, cancellable, error);
  refused = not_started && LLMSBX_ENGINE_BACKEND_GET_CLASS (self)->exec_keeps_pid &&
            !g_str_has_prefix (exec_output->head[0], RUNTIME_EXEC_FAILED);
  if (!sandbox_still_running (self, client, sandbox_id, refused ? STOP_POLL_ATTEMPTS : 1,
                              cancellable, error))
    return FALSE;
  if (not_started)
    {
      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_COMMAND_NOT_STARTED,
                   "The %s could not start the command in the sandbox: %s", engine_name (self),
                   not_started_message);
      return FALSE;
    }
  return TRUE;
}

/* An exec: create, start (streamed) and inspect. */
static gboolean
run_exec (LlmsbxEngineBackend    *self,
          const char             *sandbox_id,
          LlmsbxExecRequest      *request,
          LlmsbxOutputCollector  *output,
          int                    *exit_status,
          gboolean                probing,
          GCancellable           *cancellable,
          GError                **error)
{
  g_autoptr(LlmsbxEngineClient) client = llmsbx_engine_backend_get_client (self, cancellable, error);
  g_autoptr(GError) local_error = NULL;
  g_autoptr(LlmsbxEngineMux) mux = NULL;
  g_autoptr(GBytes) start_body = NULL;
  g_autofree char *path = NULL;
  g_autofree char *exec_id = NULL;
  LlmsbxEngineExecOutput exec_output = { .collector = output };
  LlmsbxEngineRequest start;

  if (client == NULL)
    return FALSE;

  exec_id = llmsbx_engine_exec_create (self, client, sandbox_id, request, request->stdin_data != NULL,
                                       cancellable, error);
  if (exec_id == NULL)
    return FALSE;

  /* 2. Start it and stream its output into the collector until it ends. */
  llmsbx_engine_exec_start_request (exec_id, request->deadline, &start, &path, &start_body);
  mux = llmsbx_engine_mux_new (LLMSBX_ENGINE_MUX_MULTIPLEXED, collect_output, &exec_output);
  start.body_func = feed_mux;
  start.body_func_data = mux;
  /* Standard input needs the connection the engine takes over. */
  if (request->stdin_data != NULL
      ? !llmsbx_engine_client_send_upgraded (client, &start, request->stdin_data, cancellable, &local_error)
      : !llmsbx_engine_client_send (client, &start, NULL, NULL, cancellable, &local_error))
    return llmsbx_engine_exec_start_failed (self, client, sandbox_id, g_steal_pointer (&local_error),
                                            cancellable, error);
  if (!llmsbx_engine_mux_finish (mux, error))
    return FALSE;

  return llmsbx_engine_exec_conclude (self, client, sandbox_id, exec_id, request->deadline, &exec_output,
                                      probing, exit_status, cancellable, error);
}

/* ---------------------------------------------------------------------------
 * Object
 * ------------------------------------------------------------------------ */

static void
llmsbx_engine_backend_finalize (GObject *object)
{
  LlmsbxEngineBackendPrivate *priv = llmsbx_engine_backend_get_instance_private (LLMSBX_ENGINE_BACKEND (object));

  g_clear_pointer (&priv->client, llmsbx_engine_client_unref);
  g_mutex_clear (&priv->lock);

  G_OBJECT_CLASS (llmsbx_engine_backend_parent_class)->finalize (object);
}

static void
llmsbx_engine_backend_class_init (LlmsbxEngineBackendClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  LlmsbxBackendClass *backend_class = LLMSBX_BACKEND_CLASS (klass);

  object_class->finalize = llmsbx_engine_backend_finalize;

  backend_class->connect = llmsbx_engine_backend_connect;
  backend_class->ensure_image = llmsbx_engine_backend_ensure_image;
  backend_class->build_image = llmsbx_engine_backend_build_image;
  backend_class->remove_image = llmsbx_engine_backend_remove_image;
  backend_class->create_sandbox = llmsbx_engine_backend_create_sandbox;
  backend_class->attach_sandbox = llmsbx_engine_backend_attach_sandbox;
  backend_class->exec = llmsbx_engine_backend_exec;
  backend_class->put_archive = llmsbx_engine_backend_put_archive;
  backend_class->get_archive = llmsbx_engine_backend_get_archive;
  backend_class->get_archive_to_stream = llmsbx_engine_backend_get_archive_to_stream;
  backend_class->open_exec_stream = llmsbx_engine_backend_open_exec_stream;
  backend_class->commit = llmsbx_engine_backend_commit;
  backend_class->remove_sandbox = llmsbx_engine_backend_remove_sandbox;
  backend_class->probe = llmsbx_engine_backend_probe;
  backend_class->list_sandboxes = llmsbx_engine_backend_list_sandboxes;
  backend_class->render_preset = llmsbx_engine_render_preset;

  /* Where the engine is and how to reach it: the settings of every engine,
   * also the backend's url, tls-* and *-timeout properties. */
  llmsbx_backend_class_install_setting (backend_class,
    g_param_spec_string ("url", NULL,
                         "where the engine is: unix:///path/to.sock, tcp://host:port or https://host:port "
                         "(default: the engine's environment, then its standard socket)",
                         NULL, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));
  llmsbx_backend_class_install_setting (backend_class,
    g_param_spec_string ("tls-ca-file", NULL,
                         "PEM file of the authority that signed the engine's certificate",
                         NULL, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));
  llmsbx_backend_class_install_setting (backend_class,
    g_param_spec_string ("tls-cert-file", NULL, "PEM file of the client certificate",
                         NULL, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));
  llmsbx_backend_class_install_setting (backend_class,
    g_param_spec_string ("tls-key-file", NULL, "PEM file of the client certificate's key",
                         NULL, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));
  llmsbx_backend_class_install_setting (backend_class,
    g_param_spec_boolean ("tls-verify", NULL, "whether the engine's certificate must be valid",
                          TRUE, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));
  llmsbx_backend_class_install_setting (backend_class,
    g_param_spec_double ("connect-timeout", NULL, "seconds to wait for a connection to the engine",
                         0.0, G_MAXDOUBLE, 2.0, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));
  llmsbx_backend_class_install_setting (backend_class,
    g_param_spec_double ("request-timeout", NULL,
                         "seconds the engine may take to answer a request, 0 for no bound",
                         0.0, G_MAXDOUBLE, 300.0, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));

  klass->engine_name = "container engine";
  klass->commit_path = "/commit";
  klass->resolve_settings = llmsbx_engine_backend_real_resolve_settings;
  klass->prepare_create = llmsbx_engine_backend_real_prepare_create;
}

static void
llmsbx_engine_backend_init (GTypeInstance *instance,
                            gpointer       g_class)
{
  LlmsbxEngineBackend *self = LLMSBX_ENGINE_BACKEND (instance);
  LlmsbxEngineBackendPrivate *priv = llmsbx_engine_backend_get_instance_private (self);

  g_mutex_init (&priv->lock);
  g_signal_connect (self, "setting-changed", G_CALLBACK (on_setting_changed), NULL);
}
