/* llmsbx-backend.c: the container driver that backend plugins implement.
 *
 * The base class keeps the values of the settings each backend class
 * declares for itself (llmsbx_backend_class_install_setting()), so that a
 * backend needs no property code for them and every setting can be applied
 * by name from a session, the CLI or a binding. It also counts requests, so
 * tests and bench/ can check how many round trips an operation costs.
 *
 * The url, tls-* and *-timeout properties and their getters predate declared
 * settings; they stay as aliases of the settings of the same names. */
#include "config.h"

#include <math.h>

#include "llmsbx-backend.h"
#include "llmsbx-error.h"
#include "llmsbx-exec-stream-private.h"
#include "llmsbx-guarded-exec-private.h"

/**
 * LlmsbxBackend:
 *
 * A language-neutral container driver: it ensures images, creates sandboxes,
 * runs argv vectors in them, moves tar archives in and out, and removes them.
 *
 * Backends are provided by plugins and created by name with
 * llmsbx_registry_create_backend(). A configured backend can be given to a
 * session as its #LlmsbxSandboxSession:client, which is how a session talks to
 * a remote daemon or a custom socket.
 *
 * Since: 0.1
 */

typedef struct
{
  char       *name;
  GMutex      settings_lock;
  GHashTable *settings;       /* interned setting name → GValue */
  guint       request_count;  /* atomic */
} LlmsbxBackendPrivate;

G_DEFINE_ABSTRACT_TYPE_WITH_PRIVATE (LlmsbxBackend, llmsbx_backend, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_NAME,
  PROP_URL,
  PROP_TLS_CA_FILE,
  PROP_TLS_CERT_FILE,
  PROP_TLS_KEY_FILE,
  PROP_TLS_VERIFY,
  PROP_CONNECT_TIMEOUT,
  PROP_REQUEST_TIMEOUT,
  PROP_REQUEST_COUNT,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

enum {
  SETTING_CHANGED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static GQuark settings_quark;

/* g_set_str() arrived in GLib 2.76; this library supports 2.74. */
static gboolean
replace_str (char       **slot,
             const char  *value)
{
  if (g_strcmp0 (*slot, value) == 0)
    return FALSE;
  g_free (*slot);
  *slot = g_strdup (value);
  return TRUE;
}

static gboolean
not_supported (LlmsbxBackend *self,
               const char    *what,
               GError       **error)
{
  g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_FAILED,
               "The %s backend cannot %s",
               llmsbx_backend_get_name (self) ? llmsbx_backend_get_name (self) : G_OBJECT_TYPE_NAME (self),
               what);
  return FALSE;
}

static gboolean
llmsbx_backend_real_connect (LlmsbxBackend *self, GCancellable *cancellable, GError **error)
{
  return TRUE;
}

static gboolean
llmsbx_backend_real_build_image (LlmsbxBackend *self, const char *context_dir, const char *dockerfile,
                                 const char *tag, GCancellable *cancellable, GError **error)
{
  return not_supported (self, "build images", error);
}

static gboolean
llmsbx_backend_real_remove_image (LlmsbxBackend *self, const char *image,
                                  GCancellable *cancellable, GError **error)
{
  return not_supported (self, "remove images", error);
}

static char *
llmsbx_backend_real_attach_sandbox (LlmsbxBackend *self, const char *sandbox_id,
                                    GCancellable *cancellable, GError **error)
{
  not_supported (self, "attach to existing sandboxes", error);
  return NULL;
}

static gboolean
llmsbx_backend_real_commit (LlmsbxBackend *self, const char *sandbox_id, const char *image,
                            GCancellable *cancellable, GError **error)
{
  return not_supported (self, "commit sandboxes", error);
}

/* A backend that does not say otherwise is usable when it connects. */
static gboolean
llmsbx_backend_real_probe (LlmsbxBackend *self, GCancellable *cancellable, GError **error)
{
  return LLMSBX_BACKEND_GET_CLASS (self)->connect (self, cancellable, error);
}

static GPtrArray *
llmsbx_backend_real_list_sandboxes (LlmsbxBackend *self, const char * const *label_selector,
                                    GCancellable *cancellable, GError **error)
{
  not_supported (self, "list its sandboxes", error);
  return NULL;
}

static LlmsbxExecStream *
llmsbx_backend_real_open_exec_stream (LlmsbxBackend *self, const char *sandbox_id, LlmsbxExecRequest *request,
                                      GCancellable *cancellable, GError **error)
{
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
               "The %s backend cannot attach to a command's input and output",
               llmsbx_backend_get_name (self) ? llmsbx_backend_get_name (self) : G_OBJECT_TYPE_NAME (self));
  return NULL;
}

static gboolean
llmsbx_backend_real_get_archive_to_stream (LlmsbxBackend *self, const char *sandbox_id, const char *path,
                                           GOutputStream *output, GCancellable *cancellable, GError **error)
{
  g_autoptr(GBytes) archive = llmsbx_backend_get_archive (self, sandbox_id, path, cancellable, error);
  gsize size;
  const void *data;

  if (archive == NULL)
    return FALSE;
  data = g_bytes_get_data (archive, &size);
  return g_output_stream_write_all (output, data, size, NULL, cancellable, error);
}

static void
llmsbx_backend_finalize (GObject *object)
{
  LlmsbxBackendPrivate *priv = llmsbx_backend_get_instance_private (LLMSBX_BACKEND (object));

  g_free (priv->name);
  g_hash_table_unref (priv->settings);
  g_mutex_clear (&priv->settings_lock);

  G_OBJECT_CLASS (llmsbx_backend_parent_class)->finalize (object);
}

static void store_setting (LlmsbxBackend *self, const char *name, const GValue *value);

static void
llmsbx_backend_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  LlmsbxBackend *self = LLMSBX_BACKEND (object);
  LlmsbxBackendPrivate *priv = llmsbx_backend_get_instance_private (self);

  switch (prop_id)
    {
    case PROP_NAME: g_value_set_string (value, priv->name); break;
    case PROP_URL:
    case PROP_TLS_CA_FILE:
    case PROP_TLS_CERT_FILE:
    case PROP_TLS_KEY_FILE:
    case PROP_TLS_VERIFY:
    case PROP_CONNECT_TIMEOUT:
    case PROP_REQUEST_TIMEOUT:
      llmsbx_backend_get_setting (self, pspec->name, value);
      break;
    case PROP_REQUEST_COUNT: g_value_set_uint (value, llmsbx_backend_get_request_count (self)); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
llmsbx_backend_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  LlmsbxBackend *self = LLMSBX_BACKEND (object);
  LlmsbxBackendPrivate *priv = llmsbx_backend_get_instance_private (self);

  switch (prop_id)
    {
    case PROP_NAME: replace_str (&priv->name, g_value_get_string (value)); break;
    case PROP_URL:
    case PROP_TLS_CA_FILE:
    case PROP_TLS_CERT_FILE:
    case PROP_TLS_KEY_FILE:
    case PROP_TLS_VERIFY:
    case PROP_CONNECT_TIMEOUT:
    case PROP_REQUEST_TIMEOUT:
      store_setting (self, pspec->name, value);
      break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
llmsbx_backend_class_init (LlmsbxBackendClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = llmsbx_backend_finalize;
  object_class->get_property = llmsbx_backend_get_property;
  object_class->set_property = llmsbx_backend_set_property;

  klass->connect = llmsbx_backend_real_connect;
  klass->build_image = llmsbx_backend_real_build_image;
  klass->remove_image = llmsbx_backend_real_remove_image;
  klass->attach_sandbox = llmsbx_backend_real_attach_sandbox;
  klass->commit = llmsbx_backend_real_commit;
  klass->probe = llmsbx_backend_real_probe;
  klass->list_sandboxes = llmsbx_backend_real_list_sandboxes;
  klass->get_archive_to_stream = llmsbx_backend_real_get_archive_to_stream;
  klass->open_exec_stream = llmsbx_backend_real_open_exec_stream;

  /**
   * LlmsbxBackend:name:
   *
   * The name the backend was registered under (`docker`, `podman`, ...).
   *
   * Since: 0.1
   */
  properties[PROP_NAME] =
    g_param_spec_string ("name", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  /**
   * LlmsbxBackend:url:
   *
   * Where the engine is: `unix:///path/to.sock`, `tcp://host:port` or an
   * `https://` URL. %NULL means the backend's default (for Docker, `DOCKER_HOST`
   * or the standard socket).
   *
   * An alias of the backend's `url` setting (llmsbx_backend_apply_settings()),
   * as are the tls-* and *-timeout properties of theirs: the engine
   * backends declare them.
   *
   * Since: 0.1
   */
  properties[PROP_URL] =
    g_param_spec_string ("url", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * LlmsbxBackend:tls-ca-file:
   *
   * PEM file of the certificate authority that signed the engine's certificate.
   *
   * Since: 0.1
   */
  properties[PROP_TLS_CA_FILE] =
    g_param_spec_string ("tls-ca-file", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);

  /**
   * LlmsbxBackend:tls-cert-file:
   *
   * PEM file of the client certificate presented to the engine.
   *
   * Since: 0.1
   */
  properties[PROP_TLS_CERT_FILE] =
    g_param_spec_string ("tls-cert-file", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);

  /**
   * LlmsbxBackend:tls-key-file:
   *
   * PEM file of the client certificate's private key.
   *
   * Since: 0.1
   */
  properties[PROP_TLS_KEY_FILE] =
    g_param_spec_string ("tls-key-file", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);

  /**
   * LlmsbxBackend:tls-verify:
   *
   * Whether the engine's certificate must be valid.
   *
   * Since: 0.1
   */
  properties[PROP_TLS_VERIFY] =
    g_param_spec_boolean ("tls-verify", NULL, NULL, TRUE,
                          G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_STATIC_STRINGS);

  /**
   * LlmsbxBackend:connect-timeout:
   *
   * Seconds to wait for a connection to the engine before reporting it
   * unavailable.
   *
   * Since: 0.1
   */
  properties[PROP_CONNECT_TIMEOUT] =
    g_param_spec_double ("connect-timeout", NULL, NULL, 0.0, G_MAXDOUBLE, 2.0,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_STATIC_STRINGS);

  /**
   * LlmsbxBackend:request-timeout:
   *
   * Seconds the engine may take to send anything in answer to a request
   * before the engine is reported unavailable, as docker-py's `timeout`.
   * Output streamed while a command runs, pulls and builds are not bounded
   * by it (a command has its own timeout). 0 for no bound.
   *
   * Since: 0.1
   */
  properties[PROP_REQUEST_TIMEOUT] =
    g_param_spec_double ("request-timeout", NULL, NULL, 0.0, G_MAXDOUBLE, 300.0,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_STATIC_STRINGS);

  /**
   * LlmsbxBackend:request-count:
   *
   * How many requests the backend has sent to its engine so far.
   *
   * Since: 0.1
   */
  properties[PROP_REQUEST_COUNT] =
    g_param_spec_uint ("request-count", NULL, NULL, 0, G_MAXUINT, 0,
                       G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * LlmsbxBackend::setting-changed:
   * @self: the backend
   * @name: the setting's name
   *
   * A setting changed (by llmsbx_backend_apply_settings() or an alias
   * property). Detailed by the setting's name. A backend drops what it
   * built from the old value, as an engine backend drops its connection.
   *
   * Since: 0.1
   */
  signals[SETTING_CHANGED] =
    g_signal_new ("setting-changed", G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST | G_SIGNAL_DETAILED, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, G_TYPE_STRING | G_SIGNAL_TYPE_STATIC_SCOPE);

  settings_quark = g_quark_from_static_string ("llmsbx-backend-settings");
}

static void
free_value (gpointer data)
{
  GValue *value = data;

  g_value_unset (value);
  g_free (value);
}

static void
llmsbx_backend_init (LlmsbxBackend *self)
{
  LlmsbxBackendPrivate *priv = llmsbx_backend_get_instance_private (self);

  g_mutex_init (&priv->settings_lock);
  priv->settings = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, free_value);
}

/**
 * llmsbx_backend_get_name:
 * @self: a #LlmsbxBackend
 *
 * Gets the name the backend was registered under.
 *
 * Returns: (nullable): the name the backend was registered under
 *
 * Since: 0.1
 */
const char *
llmsbx_backend_get_name (LlmsbxBackend *self)
{
  LlmsbxBackendPrivate *priv = llmsbx_backend_get_instance_private (self);

  g_return_val_if_fail (LLMSBX_IS_BACKEND (self), NULL);
  return priv->name;
}

/**
 * llmsbx_backend_get_url:
 * @self: a #LlmsbxBackend
 *
 * Gets the engine URL the backend was configured with.
 *
 * Returns: (nullable): the configured engine URL, or %NULL for the default
 *
 * Since: 0.1
 */
const char *
llmsbx_backend_get_url (LlmsbxBackend *self)
{
  g_return_val_if_fail (LLMSBX_IS_BACKEND (self), NULL);
  return llmsbx_backend_get_setting_string (self, "url");
}

/**
 * llmsbx_backend_set_url:
 * @self: a #LlmsbxBackend
 * @url: (nullable): engine URL, or %NULL for the default
 *
 * Sets where the engine is. Takes effect at the next connection.
 *
 * Since: 0.1
 */
void
llmsbx_backend_set_url (LlmsbxBackend *self,
                        const char    *url)
{
  g_auto(GValue) value = G_VALUE_INIT;

  g_return_if_fail (LLMSBX_IS_BACKEND (self));
  g_value_init (&value, G_TYPE_STRING);
  g_value_set_string (&value, url);
  store_setting (self, "url", &value);
}

/**
 * llmsbx_backend_get_tls_ca_file:
 * @self: a #LlmsbxBackend
 *
 * Gets the CA file.
 *
 * Returns: (nullable) (type filename): the CA file
 *
 * Since: 0.1
 */
const char *
llmsbx_backend_get_tls_ca_file (LlmsbxBackend *self)
{
  g_return_val_if_fail (LLMSBX_IS_BACKEND (self), NULL);
  return llmsbx_backend_get_setting_string (self, "tls-ca-file");
}

/**
 * llmsbx_backend_get_tls_cert_file:
 * @self: a #LlmsbxBackend
 *
 * Gets the client certificate file.
 *
 * Returns: (nullable) (type filename): the client certificate file
 *
 * Since: 0.1
 */
const char *
llmsbx_backend_get_tls_cert_file (LlmsbxBackend *self)
{
  g_return_val_if_fail (LLMSBX_IS_BACKEND (self), NULL);
  return llmsbx_backend_get_setting_string (self, "tls-cert-file");
}

/**
 * llmsbx_backend_get_tls_key_file:
 * @self: a #LlmsbxBackend
 *
 * Gets the client key file.
 *
 * Returns: (nullable) (type filename): the client key file
 *
 * Since: 0.1
 */
const char *
llmsbx_backend_get_tls_key_file (LlmsbxBackend *self)
{
  g_return_val_if_fail (LLMSBX_IS_BACKEND (self), NULL);
  return llmsbx_backend_get_setting_string (self, "tls-key-file");
}

/**
 * llmsbx_backend_get_tls_verify:
 * @self: a #LlmsbxBackend
 *
 * Checks whether the engine's certificate is verified.
 *
 * Returns: whether the engine's certificate is verified
 *
 * Since: 0.1
 */
gboolean
llmsbx_backend_get_tls_verify (LlmsbxBackend *self)
{
  g_return_val_if_fail (LLMSBX_IS_BACKEND (self), TRUE);
  return llmsbx_backend_get_setting_boolean (self, "tls-verify");
}

/**
 * llmsbx_backend_get_connect_timeout:
 * @self: a #LlmsbxBackend
 *
 * Gets the connection timeout in seconds.
 *
 * Returns: the connection timeout in seconds
 *
 * Since: 0.1
 */
double
llmsbx_backend_get_connect_timeout (LlmsbxBackend *self)
{
  g_return_val_if_fail (LLMSBX_IS_BACKEND (self), 0.0);
  return llmsbx_backend_get_setting_double (self, "connect-timeout");
}

/**
 * llmsbx_backend_get_request_timeout:
 * @self: a #LlmsbxBackend
 *
 * Gets the #LlmsbxBackend:request-timeout in seconds.
 *
 * Returns: the #LlmsbxBackend:request-timeout in seconds
 *
 * Since: 0.1
 */
double
llmsbx_backend_get_request_timeout (LlmsbxBackend *self)
{
  g_return_val_if_fail (LLMSBX_IS_BACKEND (self), 0.0);
  return llmsbx_backend_get_setting_double (self, "request-timeout");
}

/**
 * llmsbx_backend_get_request_count:
 * @self: a #LlmsbxBackend
 *
 * Gets how many requests the backend has sent to its engine.
 *
 * Returns: how many requests the backend has sent to its engine
 *
 * Since: 0.1
 */
guint
llmsbx_backend_get_request_count (LlmsbxBackend *self)
{
  LlmsbxBackendPrivate *priv = llmsbx_backend_get_instance_private (self);

  g_return_val_if_fail (LLMSBX_IS_BACKEND (self), 0);
  return g_atomic_int_get (&priv->request_count);
}

/**
 * llmsbx_backend_count_request:
 * @self: a #LlmsbxBackend
 *
 * Called by implementations for every request sent to the engine.
 *
 * Since: 0.1
 */
void
llmsbx_backend_count_request (LlmsbxBackend *self)
{
  LlmsbxBackendPrivate *priv = llmsbx_backend_get_instance_private (self);

  g_return_if_fail (LLMSBX_IS_BACKEND (self));
  g_atomic_int_inc (&priv->request_count);
}

#define CHECK_VFUNC(self, vfunc, val) \
  G_STMT_START { \
    if (LLMSBX_BACKEND_GET_CLASS (self)->vfunc == NULL) \
      { \
        not_supported (self, #vfunc, error); \
        return val; \
      } \
  } G_STMT_END

/**
 * llmsbx_backend_connect:
 * @self: a #LlmsbxBackend
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Reaches the engine and agrees on a protocol version. Cheap once connected.
 *
 * Returns: %TRUE on success
 *
 * Since: 0.1
 */
gboolean
llmsbx_backend_connect (LlmsbxBackend *self,
                        GCancellable  *cancellable,
                        GError       **error)
{
  g_return_val_if_fail (LLMSBX_IS_BACKEND (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return LLMSBX_BACKEND_GET_CLASS (self)->connect (self, cancellable, error);
}

/**
 * llmsbx_backend_ensure_image:
 * @self: a #LlmsbxBackend
 * @image: an image reference
 * @pulled: (out) (optional): set to %TRUE when the image had to be pulled
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Makes @image available: uses a local copy, pulls it otherwise.
 *
 * Returns: %TRUE when the image is available
 *
 * Since: 0.1
 */
gboolean
llmsbx_backend_ensure_image (LlmsbxBackend *self,
                             const char    *image,
                             gboolean      *pulled,
                             GCancellable  *cancellable,
                             GError       **error)
{
  gboolean dummy = FALSE;

  g_return_val_if_fail (LLMSBX_IS_BACKEND (self), FALSE);
  g_return_val_if_fail (image != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  CHECK_VFUNC (self, ensure_image, FALSE);
  return LLMSBX_BACKEND_GET_CLASS (self)->ensure_image (self, image, pulled ? pulled : &dummy,
                                                       cancellable, error);
}

/**
 * llmsbx_backend_build_image:
 * @self: a #LlmsbxBackend
 * @context_dir: (type filename): the build context directory
 * @dockerfile: (nullable): Dockerfile path relative to @context_dir, %NULL for `Dockerfile`
 * @tag: the tag to give the image
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Builds an image from a Dockerfile.
 *
 * Returns: %TRUE on success
 *
 * Since: 0.1
 */
gboolean
llmsbx_backend_build_image (LlmsbxBackend *self,
                            const char    *context_dir,
                            const char    *dockerfile,
                            const char    *tag,
                            GCancellable  *cancellable,
                            GError       **error)
{
  g_return_val_if_fail (LLMSBX_IS_BACKEND (self), FALSE);
  g_return_val_if_fail (context_dir != NULL, FALSE);
  g_return_val_if_fail (tag != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return LLMSBX_BACKEND_GET_CLASS (self)->build_image (self, context_dir, dockerfile, tag,
                                                      cancellable, error);
}

/**
 * llmsbx_backend_remove_image:
 * @self: a #LlmsbxBackend
 * @image: an image reference
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Removes an image.
 *
 * Returns: %TRUE on success
 *
 * Since: 0.1
 */
gboolean
llmsbx_backend_remove_image (LlmsbxBackend *self,
                             const char    *image,
                             GCancellable  *cancellable,
                             GError       **error)
{
  g_return_val_if_fail (LLMSBX_IS_BACKEND (self), FALSE);
  g_return_val_if_fail (image != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return LLMSBX_BACKEND_GET_CLASS (self)->remove_image (self, image, cancellable, error);
}

/**
 * llmsbx_backend_create_sandbox:
 * @self: a #LlmsbxBackend
 * @spec: what to create
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Creates and starts a sandbox. On failure nothing created remains.
 *
 * Returns: (transfer full): the sandbox id, or %NULL on error
 *
 * Since: 0.1
 */
char *
llmsbx_backend_create_sandbox (LlmsbxBackend       *self,
                               LlmsbxContainerSpec *spec,
                               GCancellable        *cancellable,
                               GError             **error)
{
  g_return_val_if_fail (LLMSBX_IS_BACKEND (self), NULL);
  g_return_val_if_fail (spec != NULL && spec->image != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  CHECK_VFUNC (self, create_sandbox, NULL);
  return LLMSBX_BACKEND_GET_CLASS (self)->create_sandbox (self, spec, cancellable, error);
}

/**
 * llmsbx_backend_attach_sandbox:
 * @self: a #LlmsbxBackend
 * @sandbox_id: id or name of an existing sandbox
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Makes sure an existing sandbox runs.
 *
 * Returns: (transfer full): its full id, or %NULL on error
 *
 * Since: 0.1
 */
char *
llmsbx_backend_attach_sandbox (LlmsbxBackend *self,
                               const char    *sandbox_id,
                               GCancellable  *cancellable,
                               GError       **error)
{
  g_return_val_if_fail (LLMSBX_IS_BACKEND (self), NULL);
  g_return_val_if_fail (sandbox_id != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return LLMSBX_BACKEND_GET_CLASS (self)->attach_sandbox (self, sandbox_id, cancellable, error);
}

/**
 * llmsbx_backend_exec:
 * @self: a #LlmsbxBackend
 * @sandbox_id: the sandbox
 * @request: what to run
 * @output: (nullable): where output goes; %NULL discards it
 * @exit_status: (out): the command's exit status
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Runs one command. Fails with %LLMSBX_ERROR_TIMEOUT when the request's
 * deadline passes; the process may then still be running. Fails with
 * %LLMSBX_ERROR_COMMAND_NOT_STARTED when the engine could not start it (its
 * program or working directory is missing, or the sandbox is at its process
 * limit), a failure that may pass: the caller may try again.
 *
 * Returns: %TRUE when the command ran (whatever its exit status)
 *
 * Since: 0.1
 */
gboolean
llmsbx_backend_exec (LlmsbxBackend         *self,
                     const char            *sandbox_id,
                     LlmsbxExecRequest     *request,
                     LlmsbxOutputCollector *output,
                     int                   *exit_status,
                     GCancellable          *cancellable,
                     GError               **error)
{
  g_autoptr(LlmsbxOutputCollector) discard = NULL;
  int dummy = -1;

  g_return_val_if_fail (LLMSBX_IS_BACKEND (self), FALSE);
  g_return_val_if_fail (sandbox_id != NULL, FALSE);
  g_return_val_if_fail (request != NULL && request->argv != NULL, FALSE);
  g_return_val_if_fail (output == NULL || LLMSBX_IS_OUTPUT_COLLECTOR (output), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (request->argv[0] == NULL)
    {
      g_set_error_literal (error, LLMSBX_ERROR, LLMSBX_ERROR_COMMAND_EMPTY, "Command cannot be empty");
      return FALSE;
    }

  /* A collector that keeps nothing still lets the backend report progress. */
  if (output == NULL)
    output = discard = llmsbx_output_collector_new (1);

  CHECK_VFUNC (self, exec, FALSE);
  return LLMSBX_BACKEND_GET_CLASS (self)->exec (self, sandbox_id, request, output,
                                               exit_status ? exit_status : &dummy,
                                               cancellable, error);
}

/**
 * llmsbx_backend_open_exec_stream:
 * @self: a #LlmsbxBackend
 * @sandbox_id: the sandbox
 * @request: the command; its @stdin_data is not used (write to the stream)
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Starts @request in the sandbox with its standard input, output and exit
 * status attached to the returned stream, as a resident runner or an
 * interactive shell needs. The request's deadline, when set, bounds the
 * whole stream: reads and writes past it fail with %LLMSBX_ERROR_TIMEOUT.
 * Fails with %G_IO_ERROR_NOT_SUPPORTED when the backend has no attached
 * execs, and otherwise as llmsbx_backend_exec() does.
 *
 * The command's environment gets a random `LLMSBX_EXEC_TOKEN` entry, by
 * which llmsbx_exec_stream_kill() finds everything it started.
 *
 * Returns: (transfer full): the stream, or %NULL on error
 *
 * Since: 0.1
 */
LlmsbxExecStream *
llmsbx_backend_open_exec_stream (LlmsbxBackend      *self,
                                 const char         *sandbox_id,
                                 LlmsbxExecRequest  *request,
                                 GCancellable       *cancellable,
                                 GError            **error)
{
  g_autoptr(LlmsbxExecRequest) tokened = NULL;
  g_autofree char *token = NULL;
  LlmsbxExecStream *stream;

  g_return_val_if_fail (LLMSBX_IS_BACKEND (self), NULL);
  g_return_val_if_fail (sandbox_id != NULL, NULL);
  g_return_val_if_fail (request != NULL && request->argv != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (request->argv[0] == NULL)
    {
      g_set_error_literal (error, LLMSBX_ERROR, LLMSBX_ERROR_COMMAND_EMPTY, "Command cannot be empty");
      return NULL;
    }

  tokened = llmsbx_exec_request_copy (request);
  g_clear_pointer (&tokened->stdin_data, g_bytes_unref);
  token = llmsbx_guarded_exec_add_token (tokened);
  CHECK_VFUNC (self, open_exec_stream, NULL);
  stream = LLMSBX_BACKEND_GET_CLASS (self)->open_exec_stream (self, sandbox_id, tokened, cancellable, error);
  if (stream == NULL)
    return NULL;
  g_return_val_if_fail (LLMSBX_IS_EXEC_STREAM (stream), NULL);
  llmsbx_exec_stream_set_origin (stream, self, sandbox_id, token);
  return stream;
}

/**
 * llmsbx_backend_put_archive:
 * @self: a #LlmsbxBackend
 * @sandbox_id: the sandbox
 * @dest_dir: an existing directory in the sandbox
 * @archive: a tar archive
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Unpacks @archive into @dest_dir. Fails with %LLMSBX_ERROR_FILE_NOT_FOUND
 * when @dest_dir does not exist, and with %G_IO_ERROR_EXISTS when an entry
 * would replace an existing directory with a non-directory or the reverse
 * (which never happens: entries before it may have been unpacked).
 *
 * Returns: %TRUE on success
 *
 * Since: 0.1
 */
gboolean
llmsbx_backend_put_archive (LlmsbxBackend *self,
                            const char    *sandbox_id,
                            const char    *dest_dir,
                            GBytes        *archive,
                            GCancellable  *cancellable,
                            GError       **error)
{
  g_return_val_if_fail (LLMSBX_IS_BACKEND (self), FALSE);
  g_return_val_if_fail (sandbox_id != NULL, FALSE);
  g_return_val_if_fail (dest_dir != NULL, FALSE);
  g_return_val_if_fail (archive != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  CHECK_VFUNC (self, put_archive, FALSE);
  return LLMSBX_BACKEND_GET_CLASS (self)->put_archive (self, sandbox_id, dest_dir, archive,
                                                      cancellable, error);
}

/**
 * llmsbx_backend_get_archive:
 * @self: a #LlmsbxBackend
 * @sandbox_id: the sandbox
 * @path: a file or directory in the sandbox
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Returns a tar archive of @path, whose top entry is the basename of @path
 * (or of what it points to). When @path is a symbolic link, the archive holds
 * what the link points to, resolved in the sandbox, like `cp -L`. Fails with
 * %LLMSBX_ERROR_FILE_NOT_FOUND when @path (or the link's target) does not exist.
 *
 * Returns: (transfer full): the archive, or %NULL on error
 *
 * Since: 0.1
 */
GBytes *
llmsbx_backend_get_archive (LlmsbxBackend *self,
                            const char    *sandbox_id,
                            const char    *path,
                            GCancellable  *cancellable,
                            GError       **error)
{
  g_return_val_if_fail (LLMSBX_IS_BACKEND (self), NULL);
  g_return_val_if_fail (sandbox_id != NULL, NULL);
  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  CHECK_VFUNC (self, get_archive, NULL);
  return LLMSBX_BACKEND_GET_CLASS (self)->get_archive (self, sandbox_id, path, cancellable, error);
}

/**
 * llmsbx_backend_get_archive_to_stream:
 * @self: a #LlmsbxBackend
 * @sandbox_id: the sandbox
 * @path: a file or directory in the sandbox
 * @output: where the archive goes; not closed
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Writes a tar archive of @path, as llmsbx_backend_get_archive() returns
 * it, to @output as it arrives from the engine, so that an archive of any
 * size costs bounded memory. An error of @output (a size limit, a full disk)
 * is returned as it is. Fails with %LLMSBX_ERROR_FILE_NOT_FOUND when @path
 * does not exist.
 *
 * Returns: %TRUE when the whole archive was written
 *
 * Since: 0.1
 */
gboolean
llmsbx_backend_get_archive_to_stream (LlmsbxBackend  *self,
                                      const char     *sandbox_id,
                                      const char     *path,
                                      GOutputStream  *output,
                                      GCancellable   *cancellable,
                                      GError        **error)
{
  g_return_val_if_fail (LLMSBX_IS_BACKEND (self), FALSE);
  g_return_val_if_fail (sandbox_id != NULL, FALSE);
  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (G_IS_OUTPUT_STREAM (output), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return LLMSBX_BACKEND_GET_CLASS (self)->get_archive_to_stream (self, sandbox_id, path, output,
                                                                cancellable, error);
}

/**
 * llmsbx_backend_commit:
 * @self: a #LlmsbxBackend
 * @sandbox_id: the sandbox
 * @image: the image reference to commit to
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Saves the sandbox's filesystem as an image.
 *
 * Returns: %TRUE on success
 *
 * Since: 0.1
 */
gboolean
llmsbx_backend_commit (LlmsbxBackend *self,
                       const char    *sandbox_id,
                       const char    *image,
                       GCancellable  *cancellable,
                       GError       **error)
{
  g_return_val_if_fail (LLMSBX_IS_BACKEND (self), FALSE);
  g_return_val_if_fail (sandbox_id != NULL, FALSE);
  g_return_val_if_fail (image != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return LLMSBX_BACKEND_GET_CLASS (self)->commit (self, sandbox_id, image, cancellable, error);
}

/**
 * llmsbx_backend_remove_sandbox:
 * @self: a #LlmsbxBackend
 * @sandbox_id: the sandbox
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Stops and removes a sandbox with its anonymous volumes. A sandbox that is
 * already gone counts as removed.
 *
 * Returns: %TRUE on success
 *
 * Since: 0.1
 */
gboolean
llmsbx_backend_remove_sandbox (LlmsbxBackend *self,
                               const char    *sandbox_id,
                               GCancellable  *cancellable,
                               GError       **error)
{
  g_return_val_if_fail (LLMSBX_IS_BACKEND (self), FALSE);
  g_return_val_if_fail (sandbox_id != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  CHECK_VFUNC (self, remove_sandbox, FALSE);
  return LLMSBX_BACKEND_GET_CLASS (self)->remove_sandbox (self, sandbox_id, cancellable, error);
}

/**
 * llmsbx_backend_probe:
 * @self: a #LlmsbxBackend
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Says whether the backend is usable here, cheaply: an engine backend pings its
 * engine with a short timeout. The registry probes backends, by falling rank,
 * to choose one for a session that names none (see
 * llmsbx_registry_get_default_backend_name()). The error, usually
 * %LLMSBX_ERROR_BACKEND_UNAVAILABLE, says why the backend cannot be used.
 *
 * Returns: %TRUE when the backend is usable
 *
 * Since: 0.1
 */
gboolean
llmsbx_backend_probe (LlmsbxBackend *self,
                      GCancellable  *cancellable,
                      GError       **error)
{
  g_return_val_if_fail (LLMSBX_IS_BACKEND (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  CHECK_VFUNC (self, probe, FALSE);
  return LLMSBX_BACKEND_GET_CLASS (self)->probe (self, cancellable, error);
}

/**
 * llmsbx_backend_list_sandboxes:
 * @self: a #LlmsbxBackend
 * @label_selector: (array zero-terminated=1) (nullable): labels every sandbox
 *   listed must carry: `key=value` entries (the label has that value) and
 *   `key` entries (the label is set); %NULL or empty for all of them
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Lists this backend's sandboxes that match @label_selector, running or not,
 * with their labels: how the sandboxes of a crashed process are found and
 * removed (every sandbox a session creates carries `io.llmsbx.managed-by` and
 * `io.llmsbx.session` labels), and how a pool finds its own. Sandboxes the
 * library did not create are listed too when they match.
 *
 * Returns: (transfer container) (element-type LlmsbxSandboxInfo): the
 *   sandboxes, in no particular order, or %NULL on error
 *
 * Since: 0.1
 */
GPtrArray *
llmsbx_backend_list_sandboxes (LlmsbxBackend       *self,
                               const char * const  *label_selector,
                               GCancellable        *cancellable,
                               GError             **error)
{
  g_return_val_if_fail (LLMSBX_IS_BACKEND (self), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  CHECK_VFUNC (self, list_sandboxes, NULL);
  return LLMSBX_BACKEND_GET_CLASS (self)->list_sandboxes (self, label_selector, cancellable, error);
}

/**
 * llmsbx_backend_render_preset:
 * @self: a #LlmsbxBackend
 * @preset: a preset whose settings for this backend are to be made
 * @error: return location for a #GError
 *
 * Turns the backend-neutral limits of @preset
 * (llmsbx_security_preset_get_limits()) into this backend's own settings and
 * sets them on @preset: the runtime configs for an engine backend, a pod
 * manifest fragment for Kubernetes. llmsbx_get_security_preset() calls this;
 * it needs no engine. Fails when the backend renders no presets, or with
 * %LLMSBX_ERROR_INVALID_ARGUMENT for limits it cannot enforce.
 *
 * Returns: %TRUE on success
 *
 * Since: 0.1
 */
gboolean
llmsbx_backend_render_preset (LlmsbxBackend         *self,
                              LlmsbxSecurityPreset  *preset,
                              GError               **error)
{
  g_return_val_if_fail (LLMSBX_IS_BACKEND (self), FALSE);
  g_return_val_if_fail (preset != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (LLMSBX_BACKEND_GET_CLASS (self)->render_preset == NULL)
    {
      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_BACKEND_NOT_SUPPORTED,
                   "The %s backend has no security presets",
                   llmsbx_backend_get_name (self) ? llmsbx_backend_get_name (self) : G_OBJECT_TYPE_NAME (self));
      return FALSE;
    }
  return LLMSBX_BACKEND_GET_CLASS (self)->render_preset (self, preset, error);
}

/* Settings ----------------------------------------------------------------- */

/* The settings @type declares itself, not its parents. */
static GPtrArray *
declared_settings (GType type)
{
  return g_type_get_qdata (type, settings_quark);
}

/* A setting @self's class or one of its parents declared; %NULL when none. */
static GParamSpec *
find_declared (LlmsbxBackend *self,
               const char    *name)
{
  for (GType type = G_OBJECT_TYPE (self); type != G_TYPE_INVALID; type = g_type_parent (type))
    {
      GPtrArray *declared = declared_settings (type);

      for (guint i = 0; declared != NULL && i < declared->len; i++)
        if (g_str_equal (((GParamSpec *) g_ptr_array_index (declared, i))->name, name))
          return g_ptr_array_index (declared, i);
      if (type == LLMSBX_TYPE_BACKEND)
        break;
    }
  return NULL;
}

/* What describes @name: the declared setting, or else the alias property
 * of the same name (so that the aliases work on every backend, as they did
 * before backends declared settings). */
static GParamSpec *
find_spec (LlmsbxBackend *self,
           const char    *name)
{
  GParamSpec *declared = find_declared (self, name);

  if (declared != NULL)
    return declared;
  for (guint i = PROP_URL; i <= PROP_REQUEST_TIMEOUT; i++)
    if (g_str_equal (properties[i]->name, name))
      return properties[i];
  return NULL;
}

static GParamSpec *
alias_property (const char *name)
{
  for (guint i = PROP_URL; i <= PROP_REQUEST_TIMEOUT; i++)
    if (g_str_equal (properties[i]->name, name))
      return properties[i];
  return NULL;
}

/* Stores @value (of the setting's type) and tells who listens. */
static void
store_setting (LlmsbxBackend *self,
               const char    *name,
               const GValue  *value)
{
  LlmsbxBackendPrivate *priv = llmsbx_backend_get_instance_private (self);
  const char *interned = g_intern_string (name);
  GValue *stored = g_new0 (GValue, 1);
  GValue *old;
  gboolean changed;
  GParamSpec *alias;

  g_value_init (stored, G_VALUE_TYPE (value));
  g_value_copy (value, stored);
  g_mutex_lock (&priv->settings_lock);
  old = g_hash_table_lookup (priv->settings, interned);
  changed = old == NULL || G_VALUE_TYPE (old) != G_VALUE_TYPE (stored) ||
            g_param_values_cmp (find_spec (self, name), old, stored) != 0;
  g_hash_table_replace (priv->settings, (gpointer) interned, stored);
  g_mutex_unlock (&priv->settings_lock);

  if (!changed)
    return;
  alias = alias_property (name);
  if (alias != NULL)
    g_object_notify_by_pspec (G_OBJECT (self), alias);
  g_signal_emit (self, signals[SETTING_CHANGED], g_quark_from_string (name), name);
}

/* The stored value of @name, or its default; valid until it is set again. */
static const GValue *
peek_setting (LlmsbxBackend *self,
              const char    *name,
              GType          type)
{
  LlmsbxBackendPrivate *priv = llmsbx_backend_get_instance_private (self);
  GParamSpec *spec = find_spec (self, name);
  const GValue *value;

  if (spec == NULL || (type != G_TYPE_INVALID && spec->value_type != type))
    return NULL;
  g_mutex_lock (&priv->settings_lock);
  value = g_hash_table_lookup (priv->settings, g_intern_string (name));
  g_mutex_unlock (&priv->settings_lock);
  return value != NULL ? value : g_param_spec_get_default_value (spec);
}

/**
 * llmsbx_backend_class_install_setting:
 * @klass: a backend class
 * @pspec: (transfer full): what the setting is: its name (as settings are
 *   given, `kebab-case`), type, description (the blurb), default and range
 *
 * Declares a setting of the backends of @klass: something a user gives by
 * name to reach or configure this backend (an engine's URL and TLS files, a
 * cluster's kubeconfig, context and namespace), through
 * llmsbx_backend_apply_settings(), #LlmsbxSandboxSession:backend-settings or
 * `llmsbx run --backend-setting KEY=VALUE`. The base class keeps the values;
 * the backend reads them with llmsbx_backend_get_setting() and its typed
 * forms, and hears of changes through #LlmsbxBackend::setting-changed.
 * String, boolean, integer and double settings can be given as text too.
 *
 * Call from the class_init of @klass. A setting is not a #GObject property.
 *
 * Since: 0.1
 */
void
llmsbx_backend_class_install_setting (LlmsbxBackendClass *klass,
                                      GParamSpec         *pspec)
{
  GType type = G_TYPE_FROM_CLASS (klass);
  GPtrArray *declared;

  g_return_if_fail (LLMSBX_IS_BACKEND_CLASS (klass));
  g_return_if_fail (G_IS_PARAM_SPEC (pspec));

  declared = declared_settings (type);
  if (declared == NULL)
    {
      declared = g_ptr_array_new_with_free_func ((GDestroyNotify) g_param_spec_unref);
      g_type_set_qdata (type, settings_quark, declared);
    }
  g_ptr_array_add (declared, g_param_spec_ref_sink (pspec));
}

/**
 * llmsbx_backend_list_settings:
 * @self: a #LlmsbxBackend
 *
 * Lists the settings @self's backend declares, parents' first.
 *
 * Returns: (transfer container) (element-type GParamSpec): the settings
 *
 * Since: 0.1
 */
GPtrArray *
llmsbx_backend_list_settings (LlmsbxBackend *self)
{
  GPtrArray *settings = g_ptr_array_new_with_free_func ((GDestroyNotify) g_param_spec_unref);
  g_autoptr(GArray) types = g_array_new (FALSE, FALSE, sizeof (GType));

  g_return_val_if_fail (LLMSBX_IS_BACKEND (self), settings);

  for (GType type = G_OBJECT_TYPE (self); type != LLMSBX_TYPE_BACKEND; type = g_type_parent (type))
    g_array_prepend_val (types, type);
  for (guint t = 0; t < types->len; t++)
    {
      GPtrArray *declared = declared_settings (g_array_index (types, GType, t));

      for (guint i = 0; declared != NULL && i < declared->len; i++)
        g_ptr_array_add (settings, g_param_spec_ref (g_ptr_array_index (declared, i)));
    }
  return settings;
}

/**
 * llmsbx_backend_get_setting:
 * @self: a #LlmsbxBackend
 * @name: a setting's name
 * @value: (out caller-allocates): an uninitialised #GValue for its value
 *
 * Gets the value of a setting: what was applied, or its default.
 *
 * Returns: %FALSE (leaving @value unset) when @self has no such setting
 *
 * Since: 0.1
 */
gboolean
llmsbx_backend_get_setting (LlmsbxBackend *self,
                            const char    *name,
                            GValue        *value)
{
  LlmsbxBackendPrivate *priv = llmsbx_backend_get_instance_private (self);
  const GValue *current;
  GParamSpec *spec;

  g_return_val_if_fail (LLMSBX_IS_BACKEND (self), FALSE);
  g_return_val_if_fail (name != NULL, FALSE);

  spec = find_spec (self, name);
  if (spec == NULL)
    return FALSE;
  if (G_VALUE_TYPE (value) == G_TYPE_INVALID)
    g_value_init (value, spec->value_type);
  /* Copied under the lock: a setting applied meanwhile frees the old value. */
  g_mutex_lock (&priv->settings_lock);
  current = g_hash_table_lookup (priv->settings, g_intern_string (name));
  g_value_copy (current != NULL ? current : g_param_spec_get_default_value (spec), value);
  g_mutex_unlock (&priv->settings_lock);
  return TRUE;
}

/**
 * llmsbx_backend_get_setting_string:
 * @self: a #LlmsbxBackend
 * @name: the name of a string setting
 *
 * Reads a string setting the backend declared.
 *
 * Returns: (nullable): its value, valid until the setting changes; %NULL
 *   when unset or when @self has no such string setting
 *
 * Since: 0.1
 */
const char *
llmsbx_backend_get_setting_string (LlmsbxBackend *self,
                                   const char    *name)
{
  const GValue *value;

  g_return_val_if_fail (LLMSBX_IS_BACKEND (self), NULL);
  value = peek_setting (self, name, G_TYPE_STRING);
  return value != NULL ? g_value_get_string (value) : NULL;
}

/**
 * llmsbx_backend_get_setting_boolean:
 * @self: a #LlmsbxBackend
 * @name: the name of a boolean setting
 *
 * Reads a boolean setting the backend declared.
 *
 * Returns: its value; %FALSE when @self has no such boolean setting
 *
 * Since: 0.1
 */
gboolean
llmsbx_backend_get_setting_boolean (LlmsbxBackend *self,
                                    const char    *name)
{
  const GValue *value;

  g_return_val_if_fail (LLMSBX_IS_BACKEND (self), FALSE);
  value = peek_setting (self, name, G_TYPE_BOOLEAN);
  return value != NULL && g_value_get_boolean (value);
}

/**
 * llmsbx_backend_get_setting_double:
 * @self: a #LlmsbxBackend
 * @name: the name of a double setting
 *
 * Reads a double setting the backend declared.
 *
 * Returns: its value; 0 when @self has no such double setting
 *
 * Since: 0.1
 */
double
llmsbx_backend_get_setting_double (LlmsbxBackend *self,
                                   const char    *name)
{
  const GValue *value;

  g_return_val_if_fail (LLMSBX_IS_BACKEND (self), 0.0);
  value = peek_setting (self, name, G_TYPE_DOUBLE);
  return value != NULL ? g_value_get_double (value) : 0.0;
}

/* "yes"/"no" and friends, as configuration files write booleans. */
static gboolean
parse_boolean (const char *text,
               gboolean   *out)
{
  static const char * const yes[] = { "true", "yes", "on", "1", NULL };
  static const char * const no[] = { "false", "no", "off", "0", NULL };

  for (guint i = 0; yes[i] != NULL; i++)
    if (g_ascii_strcasecmp (text, yes[i]) == 0)
      {
        *out = TRUE;
        return TRUE;
      }
  for (guint i = 0; no[i] != NULL; i++)
    if (g_ascii_strcasecmp (text, no[i]) == 0)
      {
        *out = FALSE;
        return TRUE;
      }
  return FALSE;
}

/* A number from any numeric variant, or from text. */
static gboolean
variant_number (GVariant *variant,
                double   *out)
{
  const char *text;
  char *end = NULL;

  if (g_variant_is_of_type (variant, G_VARIANT_TYPE_DOUBLE))
    *out = g_variant_get_double (variant);
  else if (g_variant_is_of_type (variant, G_VARIANT_TYPE_INT32))
    *out = g_variant_get_int32 (variant);
  else if (g_variant_is_of_type (variant, G_VARIANT_TYPE_UINT32))
    *out = g_variant_get_uint32 (variant);
  else if (g_variant_is_of_type (variant, G_VARIANT_TYPE_INT64))
    *out = (double) g_variant_get_int64 (variant);
  else if (g_variant_is_of_type (variant, G_VARIANT_TYPE_UINT64))
    *out = (double) g_variant_get_uint64 (variant);
  else if (g_variant_is_of_type (variant, G_VARIANT_TYPE_STRING))
    {
      text = g_variant_get_string (variant, NULL);
      *out = g_ascii_strtod (text, &end);
      return *text != '\0' && end != NULL && *end == '\0' && isfinite (*out);
    }
  else
    return FALSE;
  return TRUE;
}

/* @variant as a value of @spec's type, refused when it does not fit. */
static gboolean
setting_value (LlmsbxBackend  *self,
               GParamSpec     *spec,
               GVariant       *variant,
               GValue         *value,
               GError        **error)
{
  g_autoptr(GVariant) inner = g_variant_ref (variant);
  g_autofree char *shown = NULL;
  GType type = spec->value_type;
  gboolean ok = TRUE;
  double number = 0;

  while (g_variant_is_of_type (inner, G_VARIANT_TYPE_VARIANT))
    {
      GVariant *next = g_variant_get_variant (inner);

      g_variant_unref (inner);
      inner = next;
    }

  g_value_init (value, type);
  if (type == G_TYPE_STRING)
    {
      if (g_variant_is_of_type (inner, G_VARIANT_TYPE_STRING))
        {
          const char *text = g_variant_get_string (inner, NULL);

          /* An empty value gives the setting back its default. */
          if (*text != '\0')
            g_value_set_string (value, text);
          else
            g_param_value_set_default (spec, value);
        }
      else
        ok = FALSE;
    }
  else if (type == G_TYPE_BOOLEAN)
    {
      gboolean flag = FALSE;

      if (g_variant_is_of_type (inner, G_VARIANT_TYPE_BOOLEAN))
        flag = g_variant_get_boolean (inner);
      else
        ok = g_variant_is_of_type (inner, G_VARIANT_TYPE_STRING) &&
             parse_boolean (g_variant_get_string (inner, NULL), &flag);
      g_value_set_boolean (value, flag);
    }
  else if (type == G_TYPE_DOUBLE || type == G_TYPE_INT || type == G_TYPE_UINT ||
           type == G_TYPE_INT64 || type == G_TYPE_UINT64)
    {
      /* Whole numbers in range for the integer types. */
      ok = variant_number (inner, &number) &&
           (type == G_TYPE_DOUBLE || number == floor (number)) &&
           (type != G_TYPE_INT || (number >= G_MININT && number <= G_MAXINT)) &&
           (type != G_TYPE_UINT || (number >= 0 && number <= G_MAXUINT)) &&
           (type != G_TYPE_UINT64 || number >= 0);
      if (type == G_TYPE_DOUBLE)
        g_value_set_double (value, number);
      else if (ok && type == G_TYPE_INT)
        g_value_set_int (value, (int) number);
      else if (ok && type == G_TYPE_UINT)
        g_value_set_uint (value, (guint) number);
      else if (ok && type == G_TYPE_INT64)
        g_value_set_int64 (value, (gint64) number);
      else if (ok)
        g_value_set_uint64 (value, (guint64) number);
    }
  else
    ok = FALSE;

  if (ok && !g_param_value_validate (spec, value))
    return TRUE;

  shown = g_variant_print (inner, FALSE);
  g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
               "Invalid value %s for the setting %s of the %s backend, which takes %s: %s", shown, spec->name,
               llmsbx_backend_get_name (self) ? llmsbx_backend_get_name (self) : G_OBJECT_TYPE_NAME (self),
               type == G_TYPE_STRING ? "text" : type == G_TYPE_BOOLEAN ? "true or false"
               : type == G_TYPE_DOUBLE ? "a number" : "a whole number",
               g_param_spec_get_blurb (spec) ? g_param_spec_get_blurb (spec) : spec->name);
  g_value_unset (value);
  return FALSE;
}

/**
 * llmsbx_backend_apply_settings:
 * @self: a #LlmsbxBackend
 * @settings: (nullable): a dictionary (`a{sv}`) from setting names to values;
 *   values may also be strings, read in the setting's type (`"true"`, `"30"`)
 * @error: return location for a #GError
 *
 * Sets the backend's declared settings (llmsbx_backend_list_settings()) by
 * name, all or none: a name @self does not declare, or a value that does not
 * fit, fails with %LLMSBX_ERROR_INVALID_ARGUMENT naming the setting and the
 * backend, and nothing is set. Settings take effect at the next connection.
 *
 * Returns: %TRUE on success
 *
 * Since: 0.1
 */
gboolean
llmsbx_backend_apply_settings (LlmsbxBackend  *self,
                               GVariant       *settings,
                               GError        **error)
{
  g_autoptr(GArray) values = NULL;
  g_autoptr(GPtrArray) names = g_ptr_array_new ();
  GVariantIter iter;
  const char *name;
  GVariant *variant;

  g_return_val_if_fail (LLMSBX_IS_BACKEND (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (settings == NULL)
    return TRUE;
  if (!g_variant_is_of_type (settings, G_VARIANT_TYPE_VARDICT))
    {
      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
                   "Backend settings must be a dictionary (a{sv}), not %s", g_variant_get_type_string (settings));
      return FALSE;
    }

  values = g_array_new (FALSE, TRUE, sizeof (GValue));
  g_array_set_clear_func (values, (GDestroyNotify) g_value_unset);
  g_variant_iter_init (&iter, settings);
  while (g_variant_iter_next (&iter, "{&sv}", &name, &variant))
    {
      g_autoptr(GVariant) owned = variant;
      GParamSpec *spec = find_declared (self, name);
      GValue value = G_VALUE_INIT;

      if (spec == NULL)
        {
          g_autoptr(GPtrArray) known = llmsbx_backend_list_settings (self);
          g_autoptr(GString) list = g_string_new (NULL);

          for (guint i = 0; i < known->len; i++)
            g_string_append_printf (list, "%s%s", i > 0 ? ", " : "",
                                    ((GParamSpec *) g_ptr_array_index (known, i))->name);
          g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
                       "The %s backend has no setting '%s' (%s%s)",
                       llmsbx_backend_get_name (self) ? llmsbx_backend_get_name (self) : G_OBJECT_TYPE_NAME (self),
                       name, known->len > 0 ? "its settings: " : "it has no settings", list->str);
          return FALSE;
        }
      if (!setting_value (self, spec, owned, &value, error))
        return FALSE;
      g_array_append_val (values, value);
      g_ptr_array_add (names, (gpointer) spec->name);
    }

  for (guint i = 0; i < names->len; i++)
    store_setting (self, g_ptr_array_index (names, i), &g_array_index (values, GValue, i));
  return TRUE;
}
