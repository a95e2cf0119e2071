/* llmsbx-kube-tls.c: a connection's certificates as GIO's TLS objects: the
 * client certificate for GTlsConnection:certificate, and the check of the
 * server's certificate for a GTlsConnection::accept-certificate handler.
 *
 * GIO (2.74) has no in-memory GTlsDatabase, so a kubeconfig's CA is applied
 * where GIO gives way: GIO first checks the server against the system's
 * store and the URL's host, and only when that fails asks the handler,
 * which then checks against the kubeconfig's CA bundle (any certificate in
 * it) and tls-server-name, as client-go does. The backend's own client
 * (llmsbx-kubernetes-client.c) needs no handler: it gives GIO the CA as its
 * database and tls-server-name as each connection's server identity. */
#undef G_LOG_DOMAIN
#define G_LOG_DOMAIN "Llmsbx-Kubernetes"

#include <llmsbx.h>
#include <string.h>

#include "llmsbx-kube-config-private.h"

#define PEM_BEGIN "-----BEGIN CERTIFICATE-----"
#define PEM_END "-----END CERTIFICATE-----"

GTlsCertificate *
llmsbx_kube_connection_new_client_certificate (const LlmsbxKubeConnection  *connection,
                                               GError                     **error)
{
  g_autoptr(GString) pem = NULL;
  g_autoptr(GError) local_error = NULL;
  GTlsCertificate *certificate;

  g_return_val_if_fail (connection != NULL, NULL);
  if (connection->client_cert_pem == NULL || connection->client_key_pem == NULL)
    return NULL;
  pem = g_string_new_len (g_bytes_get_data (connection->client_cert_pem, NULL),
                          g_bytes_get_size (connection->client_cert_pem));
  g_string_append_c (pem, '\n');
  g_string_append_len (pem, g_bytes_get_data (connection->client_key_pem, NULL),
                       g_bytes_get_size (connection->client_key_pem));
  certificate = g_tls_certificate_new_from_pem (pem->str, pem->len, &local_error);
  explicit_bzero (pem->str, pem->len);
  if (certificate == NULL)
    g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
                 "the client certificate and key of context %s cannot be used: %s",
                 connection->context_name ? connection->context_name : "(none)", local_error->message);
  return certificate;
}

/* Every certificate of a PEM bundle; blocks that do not parse are skipped. */
static GPtrArray *
ca_certificates (GBytes *bundle)
{
  GPtrArray *list = g_ptr_array_new_with_free_func (g_object_unref);
  gsize size = 0;
  const char *data = g_bytes_get_data (bundle, &size);
  const char *end = data + size;
  const char *p = data;

  while (p < end)
    {
      const char *begin = g_strstr_len (p, end - p, PEM_BEGIN);
      const char *stop;
      GTlsCertificate *certificate;

      if (begin == NULL)
        break;
      stop = g_strstr_len (begin, end - begin, PEM_END);
      if (stop == NULL)
        break;
      stop += strlen (PEM_END);
      certificate = g_tls_certificate_new_from_pem (begin, stop - begin, NULL);
      if (certificate != NULL)
        g_ptr_array_add (list, certificate);
      p = stop;
    }
  return list;
}

/* tls-server-name, or the host of the server's URL. */
static GSocketConnectable *
server_identity (const LlmsbxKubeConnection *connection)
{
  g_autoptr(GUri) uri = g_uri_parse (connection->server, G_URI_FLAGS_NONE, NULL);

  if (connection->tls_server_name != NULL)
    return g_network_address_new (connection->tls_server_name, 0);
  if (uri == NULL || g_uri_get_host (uri) == NULL)
    return NULL;
  return g_network_address_new (g_uri_get_host (uri), 0);
}

gboolean
llmsbx_kube_connection_accept_certificate (const LlmsbxKubeConnection *connection,
                                           GTlsCertificate            *peer,
                                           GTlsCertificateFlags        errors)
{
  g_autoptr(GSocketConnectable) identity = NULL;
  g_autoptr(GPtrArray) cas = NULL;

  g_return_val_if_fail (connection != NULL, FALSE);
  g_return_val_if_fail (G_IS_TLS_CERTIFICATE (peer), FALSE);

  if (connection->insecure_skip_tls_verify)
    return TRUE;
  identity = server_identity (connection);
  if (identity == NULL)
    return FALSE;
  if (connection->ca_pem == NULL)
    {
      GTlsDatabase *system = g_tls_backend_get_default_database (g_tls_backend_get_default ());
      GTlsCertificateFlags flags;

      /* GIO checked the URL's host already; only another name can change its mind. */
      if (connection->tls_server_name == NULL || system == NULL)
        {
          g_clear_object (&system);
          return errors == 0;
        }
      flags = g_tls_database_verify_chain (system, peer, G_TLS_DATABASE_PURPOSE_AUTHENTICATE_SERVER,
                                           identity, NULL, G_TLS_DATABASE_VERIFY_NONE, NULL, NULL);
      g_object_unref (system);
      return flags == 0;
    }

  cas = ca_certificates (connection->ca_pem);
  for (guint i = 0; i < cas->len; i++)
    if (g_tls_certificate_verify (peer, identity, cas->pdata[i]) == 0)
      return TRUE;
  return FALSE;
}
