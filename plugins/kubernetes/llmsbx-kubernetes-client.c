/* llmsbx-kubernetes-client.c: the Kubernetes API over libsoup 3. */
#include "llmsbx-kubernetes-client.h"

#include <glib/gstdio.h>
#include <string.h>

#include <llmsbx.h>

/* How long in all the client waits out 429 answers before giving up. */
#define MAX_RETRY_WAIT_SECONDS 30

struct _LlmsbxKubeClient
{
  SoupSession     *session;
  char            *server;
  char            *namespace_;
  gboolean         insecure;
  char            *ca_path;         /* the CA, for the database that reads it when it needs it */
  GSocketConnectable *tls_identity; /* tls-server-name (with the URL's port), or NULL */

  /* The credentials, which a refresh replaces while other threads send:
   * every field below is read and written under @lock. */
  GMutex                lock;
  LlmsbxKubeConnection *connection;
  char                 *authorization;       /* "Bearer ..." or NULL */
  GTlsCertificate      *client_certificate;
  guint                 generation;          /* counts the refreshes */
};

static void
clear_credentials (LlmsbxKubeClient *self)
{
  if (self->authorization != NULL)
    memset (self->authorization, 0, strlen (self->authorization));
  g_clear_pointer (&self->authorization, g_free);
  g_clear_object (&self->client_certificate);
}

static void
client_clear (LlmsbxKubeClient *self)
{
  g_clear_object (&self->session);
  g_free (self->server);
  g_free (self->namespace_);
  g_clear_object (&self->tls_identity);
  clear_credentials (self);
  g_clear_pointer (&self->connection, llmsbx_kube_connection_free);
  g_mutex_clear (&self->lock);
  if (self->ca_path != NULL)
    g_unlink (self->ca_path);
  g_free (self->ca_path);
}

/* Derives the header and the certificate from self->connection (under the lock). */
static gboolean
apply_credentials (LlmsbxKubeClient  *self,
                   GError           **error)
{
  const LlmsbxKubeConnection *connection = self->connection;
  g_autoptr(GTlsCertificate) certificate = NULL;

  if (connection->client_cert_pem != NULL || connection->client_key_pem != NULL)
    {
      g_autoptr(GError) local_error = NULL;
      g_autoptr(GString) pem = g_string_new (NULL);

      if (connection->client_cert_pem == NULL || connection->client_key_pem == NULL)
        {
          g_set_error_literal (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
                               "A Kubernetes client certificate needs both the certificate and its key");
          return FALSE;
        }
      g_string_append_len (pem, g_bytes_get_data (connection->client_cert_pem, NULL),
                           g_bytes_get_size (connection->client_cert_pem));
      g_string_append_c (pem, '\n');
      g_string_append_len (pem, g_bytes_get_data (connection->client_key_pem, NULL),
                           g_bytes_get_size (connection->client_key_pem));
      certificate = g_tls_certificate_new_from_pem (pem->str, pem->len, &local_error);
      memset (pem->str, 0, pem->len);
      if (certificate == NULL)
        {
          g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
                       "The Kubernetes client certificate or key is not usable PEM: %s", local_error->message);
          return FALSE;
        }
    }
  clear_credentials (self);
  if (connection->token != NULL && *connection->token != '\0')
    self->authorization = g_strconcat ("Bearer ", connection->token, NULL);
  self->client_certificate = g_steal_pointer (&certificate);
  return TRUE;
}

/* Reads the token file again or runs the exec plugin again (under the lock;
 * it may block as long as the plugin runs, which the other senders must
 * wait for anyway: they need the new credential too). */
static gboolean
refresh_locked (LlmsbxKubeClient  *self,
                const char        *why,
                gint64             deadline,
                GCancellable      *cancellable,
                GError           **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autofree char *what = llmsbx_kube_connection_describe_credentials (self->connection);

  g_debug ("Refreshing the Kubernetes credentials (%s): %s", what, why);
  if (!llmsbx_kube_connection_refresh (self->connection, deadline, cancellable, &local_error) ||
      !apply_credentials (self, &local_error))
    {
      if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return FALSE;
        }
      g_set_error (error, LLMSBX_ERROR,
                   local_error->domain == LLMSBX_ERROR ? local_error->code : LLMSBX_ERROR_BACKEND_UNAVAILABLE,
                   "Could not refresh the Kubernetes credentials (%s): %s", what, local_error->message);
      return FALSE;
    }
  self->generation++;
  return TRUE;
}

LlmsbxKubeClient *
llmsbx_kube_client_ref (LlmsbxKubeClient *self)
{
  return g_atomic_rc_box_acquire (self);
}

void
llmsbx_kube_client_unref (LlmsbxKubeClient *self)
{
  g_atomic_rc_box_release_full (self, (GDestroyNotify) client_clear);
}

/* GLib 2.74 has no in-memory certificate database: the CA goes through a
 * private temporary file, which glib-networking reads when it verifies, so
 * it stays until the client goes (@path). */
static GTlsDatabase *
database_from_pem (GBytes  *pem,
                   char   **out_path,
                   GError **error)
{
  g_autofree char *path = NULL;
  g_autoptr(GError) local_error = NULL;
  GTlsDatabase *database;
  int fd;

  fd = g_file_open_tmp ("llmsbx-kube-ca-XXXXXX.pem", &path, &local_error);
  if (fd < 0)
    {
      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_FAILED, "Could not store the cluster CA: %s",
                   local_error->message);
      return NULL;
    }
  close (fd);
  if (!g_file_set_contents (path, g_bytes_get_data (pem, NULL), g_bytes_get_size (pem), &local_error))
    {
      g_unlink (path);
      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_FAILED, "Could not store the cluster CA: %s",
                   local_error->message);
      return NULL;
    }
  database = g_tls_file_database_new (path, &local_error);
  if (database == NULL)
    {
      g_unlink (path);
      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
                   "The cluster CA is not a PEM certificate: %s", local_error->message);
      return NULL;
    }
  *out_path = g_steal_pointer (&path);
  return database;
}

LlmsbxKubeClient *
llmsbx_kube_client_new (LlmsbxKubeConnection  *connection,
                        GError               **error)
{
  LlmsbxKubeClient *self = g_atomic_rc_box_new0 (LlmsbxKubeClient);
  g_autoptr(LlmsbxKubeClient) owned = self;

  g_mutex_init (&self->lock);
  self->connection = connection;
  self->server = g_strdup (connection->server);
  self->namespace_ = g_strdup (connection->namespace_ ? connection->namespace_ : "default");
  self->insecure = connection->insecure_skip_tls_verify;
  if (connection->tls_server_name != NULL)
    {
      g_autoptr(GUri) uri = g_uri_parse (connection->server, G_URI_FLAGS_NONE, NULL);
      int port = uri != NULL ? g_uri_get_port (uri) : -1;

      self->tls_identity = g_network_address_new (connection->tls_server_name, port > 0 ? port : 443);
    }
  if (!apply_credentials (self, error))
    return NULL;

  /* No timeouts of libsoup's own (60 s by default): exec streams may be
   * silent for long, and every call here has its own bound. */
  self->session = soup_session_new_with_options ("timeout", 0, "idle-timeout", 0, NULL);
  soup_session_set_user_agent (self->session, "libllmsbx-kubernetes");
  /* The cluster's proxy-url, else none: the system resolver would read
   * the desktop's settings (GSettings), which a cluster client has no use for. */
  {
    g_autoptr(GProxyResolver) resolver = connection->proxy_url ? g_simple_proxy_resolver_new (connection->proxy_url,
                                                                                              NULL)
                                         : NULL;

    soup_session_set_proxy_resolver (self->session, resolver);
  }
  if (connection->ca_pem != NULL && !self->insecure)
    {
      g_autoptr(GTlsDatabase) database = database_from_pem (connection->ca_pem, &self->ca_path, error);

      if (database == NULL)
        return NULL;
      soup_session_set_tls_database (self->session, database);
    }
  return g_steal_pointer (&owned);
}

const char *
llmsbx_kube_client_get_server (LlmsbxKubeClient *self)
{
  return self->server;
}

const char *
llmsbx_kube_client_get_namespace (LlmsbxKubeClient *self)
{
  return self->namespace_;
}

SoupSession *
llmsbx_kube_client_get_session (LlmsbxKubeClient *self)
{
  return self->session;
}

static gboolean
accept_any_certificate (SoupMessage          *message,
                        GTlsCertificate      *certificate,
                        GTlsCertificateFlags  errors,
                        gpointer              user_data)
{
  return TRUE;
}

/* The client certificate on the TLS connection before its handshake, not
 * only when the server asks for one: glib-networking keys its process-wide
 * TLS session cache on the connection's certificate at handshake time, so
 * without it a second backend to the same server with another certificate
 * would resume the first one's session, and be its user. */
static void
set_certificate_before_handshake (SoupMessage        *message,
                                  GSocketClientEvent  event,
                                  GIOStream          *connection,
                                  gpointer            user_data)
{
  if (event == G_SOCKET_CLIENT_TLS_HANDSHAKING && G_IS_TLS_CLIENT_CONNECTION (connection))
    g_tls_connection_set_certificate (G_TLS_CONNECTION (connection), user_data);
}

/* tls-server-name, as kubectl has it: the name sent as SNI and the one the
 * server's certificate is verified against, instead of the URL's host
 * (which is still where the connection goes). glib-networking takes both
 * from the connection's server identity, which libsoup set to the URL's. */
static void
set_server_identity_before_handshake (SoupMessage        *message,
                                      GSocketClientEvent  event,
                                      GIOStream          *connection,
                                      gpointer            user_data)
{
  if (event == G_SOCKET_CLIENT_TLS_HANDSHAKING && G_IS_TLS_CLIENT_CONNECTION (connection))
    g_tls_client_connection_set_server_identity (G_TLS_CLIENT_CONNECTION (connection), user_data);
}

#define UNTRUSTED_KEY "llmsbx-kube-untrusted-certificate"

/* A TLS session resumed from the process-wide cache is not checked again
 * by glib-networking (the handshake succeeds whatever this session's CA),
 * but the connection still knows what is wrong with the certificate: such
 * a connection is closed before the request goes out. */
static void
refuse_unverified_resumption (SoupMessage        *message,
                              GSocketClientEvent  event,
                              GIOStream          *connection,
                              gpointer            user_data)
{
  if (event == G_SOCKET_CLIENT_TLS_HANDSHAKED && G_IS_TLS_CONNECTION (connection) &&
      g_tls_connection_get_peer_certificate_errors (G_TLS_CONNECTION (connection)) != 0)
    {
      g_object_set_data (G_OBJECT (message), UNTRUSTED_KEY, GINT_TO_POINTER (TRUE));
      g_io_stream_close (connection, NULL, NULL);
    }
}

gboolean
llmsbx_kube_client_certificate_refused (SoupMessage *message)
{
  return g_object_get_data (G_OBJECT (message), UNTRUSTED_KEY) != NULL;
}

static void
unref_object (gpointer  data,
                   GClosure *closure)
{
  g_object_unref (data);
}

SoupMessage *
llmsbx_kube_client_message (LlmsbxKubeClient *self,
                            const char       *method,
                            const char       *path_and_query,
                            guint            *generation)
{
  g_autofree char *url = g_strconcat (self->server, path_and_query, NULL);
  SoupMessage *message = soup_message_new (method, url);
  SoupMessageHeaders *headers;
  G_GNUC_UNUSED g_autoptr(GMutexLocker) locker = NULL;

  if (message == NULL)
    return NULL;
  headers = soup_message_get_request_headers (message);
  soup_message_headers_replace (headers, "Accept", "application/json");
  locker = g_mutex_locker_new (&self->lock);
  if (self->authorization != NULL)
    soup_message_headers_replace (headers, "Authorization", self->authorization);
  if (self->client_certificate != NULL)
    {
      soup_message_set_tls_client_certificate (message, self->client_certificate);
      g_signal_connect_data (message, "network-event", G_CALLBACK (set_certificate_before_handshake),
                             g_object_ref (self->client_certificate), unref_object, 0);
    }
  if (generation != NULL)
    *generation = self->generation;
  if (self->tls_identity != NULL)
    g_signal_connect_data (message, "network-event", G_CALLBACK (set_server_identity_before_handshake),
                           g_object_ref (self->tls_identity), unref_object, 0);
  if (self->insecure)
    g_signal_connect (message, "accept-certificate", G_CALLBACK (accept_any_certificate), NULL);
  else
    g_signal_connect (message, "network-event", G_CALLBACK (refuse_unverified_resumption), NULL);
  return message;
}

SoupMessage *
llmsbx_kube_client_prepare (LlmsbxKubeClient  *self,
                            const char        *method,
                            const char        *path_and_query,
                            guint             *generation,
                            gint64             deadline,
                            GCancellable      *cancellable,
                            GError           **error)
{
  SoupMessage *message;
  gboolean refreshed = FALSE;

  {
    G_GNUC_UNUSED g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&self->lock);

    if (llmsbx_kube_connection_needs_refresh (self->connection))
      {
        if (!refresh_locked (self, "the exec plugin's credential expires", deadline, cancellable, error))
          return NULL;
        refreshed = TRUE;
      }
  }
  message = llmsbx_kube_client_message (self, method, path_and_query, generation);
  if (message == NULL)
    {
      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
                   "Not a valid Kubernetes API URL: %s%s", self->server, path_and_query);
      return NULL;
    }
  /* A pooled connection keeps the client certificate it was opened with. */
  if (refreshed)
    soup_message_add_flags (message, SOUP_MESSAGE_NEW_CONNECTION);
  return message;
}

gboolean
llmsbx_kube_client_refresh_after_401 (LlmsbxKubeClient  *self,
                                      guint              generation,
                                      gint64             deadline,
                                      GCancellable      *cancellable,
                                      GError           **error)
{
  G_GNUC_UNUSED g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&self->lock);

  /* Another request already brought new credentials: use them. */
  if (self->generation != generation)
    return TRUE;
  if (!llmsbx_kube_connection_can_refresh (self->connection))
    return FALSE;
  return refresh_locked (self, "the API server answered 401", deadline, cancellable, error);
}

char *
llmsbx_kube_client_describe_credentials (LlmsbxKubeClient *self)
{
  G_GNUC_UNUSED g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&self->lock);

  return llmsbx_kube_connection_describe_credentials (self->connection);
}

void
llmsbx_kube_client_set_unauthorized_error (LlmsbxKubeClient  *self,
                                           GError           **error,
                                           GBytes            *body,
                                           gboolean           refreshed)
{
  g_autoptr(GError) status_error = NULL;
  g_autofree char *what = llmsbx_kube_client_describe_credentials (self);

  llmsbx_kube_client_set_status_error (&status_error, 401, body);
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED, "%s; the credentials sent were %s%s",
               status_error->message, what, refreshed ? ", read again after a first 401" : "");
}

char *
llmsbx_kube_escape (const char *text)
{
  return g_uri_escape_string (text, NULL, FALSE);
}

static GIOErrorEnum
error_code_for_status (guint status)
{
  switch (status)
    {
    case 400: case 422: return G_IO_ERROR_INVALID_ARGUMENT;
    case 401: case 403: return G_IO_ERROR_PERMISSION_DENIED;
    case 404: return G_IO_ERROR_NOT_FOUND;
    case 409: return G_IO_ERROR_EXISTS;
    case 429: return G_IO_ERROR_BUSY;
    case 503: return G_IO_ERROR_HOST_UNREACHABLE;
    default: return G_IO_ERROR_FAILED;
    }
}

void
llmsbx_kube_client_set_status_error (GError **error,
                                     guint    status,
                                     GBytes  *body)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GString) message = g_string_new (NULL);
  gsize size = body ? g_bytes_get_size (body) : 0;
  const char *data = body ? g_bytes_get_data (body, NULL) : NULL;

  if (size > 0 && json_parser_load_from_data (parser, data, size, NULL) &&
      JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    {
      JsonObject *object = json_node_get_object (json_parser_get_root (parser));
      const char *text = json_object_get_string_member_with_default (object, "message", NULL);
      const char *reason = json_object_get_string_member_with_default (object, "reason", NULL);

      g_string_append (message, text ? text : "(no message)");
      g_string_append_printf (message, " (%s%sHTTP %u)", reason ? reason : "", reason ? ", " : "", status);
    }
  else if (size > 0)
    {
      g_autofree char *text = g_utf8_make_valid (data, MIN (size, 1024));

      g_string_append_printf (message, "%s (HTTP %u)", g_strstrip (text), status);
    }
  else
    g_string_append_printf (message, "HTTP %u %s", status, soup_status_get_phrase (status));
  g_set_error (error, G_IO_ERROR, error_code_for_status (status), "The Kubernetes API answered: %s", message->str);
}

static guint
retry_after_seconds (SoupMessage *message)
{
  const char *value = soup_message_headers_get_one (soup_message_get_response_headers (message), "Retry-After");
  guint64 seconds = 1;

  if (value != NULL && !g_ascii_string_to_unsigned (value, 10, 0, MAX_RETRY_WAIT_SECONDS, &seconds, NULL))
    seconds = 1;
  return MAX ((guint) seconds, 1);
}

JsonNode *
llmsbx_kube_client_json (LlmsbxKubeClient  *self,
                         const char        *method,
                         const char        *path_and_query,
                         JsonNode          *body,
                         guint             *http_status,
                         GCancellable      *cancellable,
                         GError           **error)
{
  g_autofree char *payload = body ? json_to_string (body, FALSE) : NULL;
  guint waited = 0;
  gboolean refreshed = FALSE;

  for (;;)
    {
      guint generation = 0;
      g_autoptr(SoupMessage) message = llmsbx_kube_client_prepare (self, method, path_and_query,
                                                                   &generation, 0, cancellable, error);
      g_autoptr(GBytes) answer = NULL;
      g_autoptr(JsonParser) parser = NULL;
      g_autoptr(GError) local_error = NULL;
      guint status;

      if (message == NULL)
        return NULL;
      /* After a refresh: not on a connection made with an older client certificate. */
      if (refreshed)
        soup_message_add_flags (message, SOUP_MESSAGE_NEW_CONNECTION);
      if (payload != NULL)
        {
          g_autoptr(GBytes) bytes = g_bytes_new (payload, strlen (payload));

          soup_message_set_request_body_from_bytes (message, "application/json", bytes);
        }
      answer = soup_session_send_and_read (self->session, message, cancellable, &local_error);
      if (answer == NULL)
        {
          if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
            g_propagate_error (error, g_steal_pointer (&local_error));
          else if (llmsbx_kube_client_certificate_refused (message))
            g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_BACKEND_UNAVAILABLE,
                         "Could not reach the Kubernetes API at %s: its certificate is not trusted "
                         "(the TLS session was resumed from another connection)", self->server);
          else
            g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_BACKEND_UNAVAILABLE,
                         "Could not reach the Kubernetes API at %s: %s", self->server, local_error->message);
          return NULL;
        }
      status = soup_message_get_status (message);
      if (http_status != NULL)
        *http_status = status;
      if (status == 429 && waited < MAX_RETRY_WAIT_SECONDS)
        {
          guint seconds = MIN (retry_after_seconds (message), MAX_RETRY_WAIT_SECONDS - waited);

          g_debug ("The Kubernetes API is busy (429): retrying %s %s in %u s", method, path_and_query, seconds);
          if (g_cancellable_is_cancelled (cancellable))
            {
              g_cancellable_set_error_if_cancelled (cancellable, error);
              return NULL;
            }
          g_usleep (seconds * G_USEC_PER_SEC);
          waited += seconds;
          continue;
        }
      /* A rotated token or a revoked credential: read it again once and
       * send the request again (it had no effect: 401 comes first). */
      if (status == 401)
        {
          if (!refreshed)
            {
              g_autoptr(GError) refresh_error = NULL;

              if (llmsbx_kube_client_refresh_after_401 (self, generation, 0, cancellable, &refresh_error))
                {
                  refreshed = TRUE;
                  continue;
                }
              if (refresh_error != NULL)
                {
                  g_propagate_error (error, g_steal_pointer (&refresh_error));
                  return NULL;
                }
            }
          llmsbx_kube_client_set_unauthorized_error (self, error, answer, refreshed);
          return NULL;
        }
      if (status >= 400 || status < 200)
        {
          llmsbx_kube_client_set_status_error (error, status, answer);
          return NULL;
        }
      parser = json_parser_new ();
      if (!json_parser_load_from_data (parser, g_bytes_get_data (answer, NULL), g_bytes_get_size (answer), &local_error))
        {
          g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_PROTOCOL,
                       "The Kubernetes API answered %s %s with something that is not JSON: %s",
                       method, path_and_query, local_error->message);
          return NULL;
        }
      return json_parser_steal_root (parser);
    }
}
