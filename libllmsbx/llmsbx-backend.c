/* llmsbx-backend.c: the container driver that backend plugins implement.
 *
 * The base class holds what every backend is configured with (where the engine
 * is, TLS files) and counts requests, so tests and bench/ can check how many
 * round trips an operation costs. */
#include "config.h"

#include "llmsbx-backend.h"
#include "llmsbx-error.h"

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
  char    *name;
  char    *url;
  char    *tls_ca_file;
  char    *tls_cert_file;
  char    *tls_key_file;
  gboolean tls_verify;
  double   connect_timeout;
  double   request_timeout;
  guint    request_count;  /* atomic */
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
  g_free (priv->url);
  g_free (priv->tls_ca_file);
  g_free (priv->tls_cert_file);
  g_free (priv->tls_key_file);

  G_OBJECT_CLASS (llmsbx_backend_parent_class)->finalize (object);
}

static void
llmsbx_backend_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  LlmsbxBackend *self = LLMSBX_BACKEND (object);
  LlmsbxBackendPrivate *priv = llmsbx_backend_get_instance_private (self);

  switch (prop_id)
    {
    case PROP_NAME: g_value_set_string (value, priv->name); break;
    case PROP_URL: g_value_set_string (value, priv->url); break;
    case PROP_TLS_CA_FILE: g_value_set_string (value, priv->tls_ca_file); break;
    case PROP_TLS_CERT_FILE: g_value_set_string (value, priv->tls_cert_file); break;
    case PROP_TLS_KEY_FILE: g_value_set_string (value, priv->tls_key_file); break;
    case PROP_TLS_VERIFY: g_value_set_boolean (value, priv->tls_verify); break;
    case PROP_CONNECT_TIMEOUT: g_value_set_double (value, priv->connect_timeout); break;
    case PROP_REQUEST_TIMEOUT: g_value_set_double (value, priv->request_timeout); break;
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
    case PROP_URL: llmsbx_backend_set_url (self, g_value_get_string (value)); break;
    case PROP_TLS_CA_FILE: replace_str (&priv->tls_ca_file, g_value_get_string (value)); break;
    case PROP_TLS_CERT_FILE: replace_str (&priv->tls_cert_file, g_value_get_string (value)); break;
    case PROP_TLS_KEY_FILE: replace_str (&priv->tls_key_file, g_value_get_string (value)); break;
    case PROP_TLS_VERIFY: priv->tls_verify = g_value_get_boolean (value); break;
    case PROP_CONNECT_TIMEOUT: priv->connect_timeout = g_value_get_double (value); break;
    case PROP_REQUEST_TIMEOUT: priv->request_timeout = g_value_get_double (value); break;
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
}

static void
llmsbx_backend_init (LlmsbxBackend *self)
{
}

/**
 * llmsbx_backend_get_name:
 * @self: a #LlmsbxBackend
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
 * Returns: (nullable): the configured engine URL, or %NULL for the default
 *
 * Since: 0.1
 */
const char *
llmsbx_backend_get_url (LlmsbxBackend *self)
{
  LlmsbxBackendPrivate *priv = llmsbx_backend_get_instance_private (self);

  g_return_val_if_fail (LLMSBX_IS_BACKEND (self), NULL);
  return priv->url;
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
  LlmsbxBackendPrivate *priv = llmsbx_backend_get_instance_private (self);

  g_return_if_fail (LLMSBX_IS_BACKEND (self));
  if (replace_str (&priv->url, url))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_URL]);
}

/**
 * llmsbx_backend_get_tls_ca_file:
 * @self: a #LlmsbxBackend
 *
 * Returns: (nullable) (type filename): the CA file
 *
 * Since: 0.1
 */
const char *
llmsbx_backend_get_tls_ca_file (LlmsbxBackend *self)
{
  LlmsbxBackendPrivate *priv = llmsbx_backend_get_instance_private (self);

  g_return_val_if_fail (LLMSBX_IS_BACKEND (self), NULL);
  return priv->tls_ca_file;
}

/**
 * llmsbx_backend_get_tls_cert_file:
 * @self: a #LlmsbxBackend
 *
 * Returns: (nullable) (type filename): the client certificate file
 *
 * Since: 0.1
 */
const char *
llmsbx_backend_get_tls_cert_file (LlmsbxBackend *self)
{
  LlmsbxBackendPrivate *priv = llmsbx_backend_get_instance_private (self);

  g_return_val_if_fail (LLMSBX_IS_BACKEND (self), NULL);
  return priv->tls_cert_file;
}

/**
 * llmsbx_backend_get_tls_key_file:
 * @self: a #LlmsbxBackend
 *
 * Returns: (nullable) (type filename): the client key file
 *
 * Since: 0.1
 */
const char *
llmsbx_backend_get_tls_key_file (LlmsbxBackend *self)
{
  LlmsbxBackendPrivate *priv = llmsbx_backend_get_instance_private (self);

  g_return_val_if_fail (LLMSBX_IS_BACKEND (self), NULL);
  return priv->tls_key_file;
}

/**
 * llmsbx_backend_get_tls_verify:
 * @self: a #LlmsbxBackend
 *
 * Returns: whether the engine's certificate is verified
 *
 * Since: 0.1
 */
gboolean
llmsbx_backend_get_tls_verify (LlmsbxBackend *self)
{
  LlmsbxBackendPrivate *priv = llmsbx_backend_get_instance_private (self);

  g_return_val_if_fail (LLMSBX_IS_BACKEND (self), TRUE);
  return priv->tls_verify;
}

/**
 * llmsbx_backend_get_connect_timeout:
 * @self: a #LlmsbxBackend
 *
 * Returns: the connection timeout in seconds
 *
 * Since: 0.1
 */
double
llmsbx_backend_get_connect_timeout (LlmsbxBackend *self)
{
  LlmsbxBackendPrivate *priv = llmsbx_backend_get_instance_private (self);

  g_return_val_if_fail (LLMSBX_IS_BACKEND (self), 0.0);
  return priv->connect_timeout;
}

/**
 * llmsbx_backend_get_request_timeout:
 * @self: a #LlmsbxBackend
 *
 * Returns: the #LlmsbxBackend:request-timeout in seconds
 *
 * Since: 0.1
 */
double
llmsbx_backend_get_request_timeout (LlmsbxBackend *self)
{
  LlmsbxBackendPrivate *priv = llmsbx_backend_get_instance_private (self);

  g_return_val_if_fail (LLMSBX_IS_BACKEND (self), 0.0);
  return priv->request_timeout;
}

/**
 * llmsbx_backend_get_request_count:
 * @self: a #LlmsbxBackend
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
