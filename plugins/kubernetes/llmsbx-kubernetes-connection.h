/* llmsbx-kubernetes-connection.h: where a cluster is and who we are to it.
 *
 * The same shape as the kubeconfig loader's LlmsbxKubeConnection, so the
 * backend reads one struct whatever built it. Until that loader lands, this
 * file builds it from the backend's explicit settings and from a kubeconfig
 * in JSON (what `kubectl config view -o json` writes). */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct {
  char     *context_name;
  char     *server;                    /* https://host:port, no trailing slash */
  char     *namespace_;                /* "default" when none is set */
  char     *token;
  GBytes   *ca_pem;
  GBytes   *client_cert_pem;
  GBytes   *client_key_pem;
  gboolean  insecure_skip_tls_verify;
  char     *tls_server_name;
  char     *proxy_url;
} LlmsbxKubernetesConnection;

LlmsbxKubernetesConnection *llmsbx_kubernetes_connection_load_json (const char  *path,
                                                                     const char  *context,
                                                                     GError     **error);
LlmsbxKubernetesConnection *llmsbx_kubernetes_connection_new_explicit (const char  *server,
                                                                        const char  *token,
                                                                        const char  *ca_file,
                                                                        GError     **error);
void                        llmsbx_kubernetes_connection_free (LlmsbxKubernetesConnection *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (LlmsbxKubernetesConnection, llmsbx_kubernetes_connection_free)

G_END_DECLS
