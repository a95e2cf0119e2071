/* llmsbx-kube-config.h: where a Kubernetes API server is and how to
 * authenticate to it, read as client-go's clientcmd reads it (kubeconfig
 * files, the in-cluster service account, or explicit values).
 *
 * Private to the Kubernetes plugin: not installed, not in the GIR. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* Test hook: the directory that stands for
 * /var/run/secrets/kubernetes.io/serviceaccount (token, ca.crt, namespace). */
#define LLMSBX_KUBE_SERVICEACCOUNT_DIR_ENV "LLMSBX_KUBE_SERVICEACCOUNT_DIR"
#define LLMSBX_KUBE_SERVICEACCOUNT_DIR "/var/run/secrets/kubernetes.io/serviceaccount"

/* How long an exec credential plugin may run before it is killed. */
#define LLMSBX_KUBE_EXEC_TIMEOUT_MS 30000

typedef struct _LlmsbxKubeCredentialSource LlmsbxKubeCredentialSource;

/**
 * LlmsbxKubeConnection:
 * @context_name: (nullable): the kubeconfig context used; %NULL for the
 *   in-cluster and explicit configurations
 * @server: the API server's URL, `https://host:port` (a path prefix kept,
 *   never a trailing `/`; `https://` added when the kubeconfig gave none)
 * @namespace_: the context's namespace, `"default"` when it sets none
 * @token: (nullable): bearer token, from `token`, `tokenFile` or an exec plugin
 * @ca_pem: (nullable): PEM of the CA(s) to trust; %NULL means the system's
 *   trust store (always %NULL when @insecure_skip_tls_verify)
 * @client_cert_pem: (nullable): PEM client certificate (chain)
 * @client_key_pem: (nullable): PEM private key, as written: `RSA PRIVATE KEY`
 *   (PKCS#1), `EC PRIVATE KEY` (SEC1) or `PRIVATE KEY` (PKCS#8); set exactly
 *   when @client_cert_pem is
 * @insecure_skip_tls_verify: do not verify the server's certificate
 * @tls_server_name: (nullable): name to verify the server's certificate
 *   against instead of the host of @server (client-go sends it as SNI too)
 * @proxy_url: (nullable): `http(s)://` or `socks5://` proxy for the connection
 * @expiry: when the credential from an exec plugin expires, in
 *   g_get_real_time() microseconds; 0 when it does not
 * @source: private: where @token and the client certificate come from again
 *   (a token file, an exec plugin), for llmsbx_kube_connection_refresh()
 *
 * A resolved connection: every path read, every `*-data` decoded, an exec
 * plugin already run. Plain data, owned by whoever loaded it; not
 * thread-safe (refresh it under the caller's lock).
 *
 * Errors, in the %LLMSBX_ERROR domain: %LLMSBX_ERROR_INVALID_ARGUMENT for
 * a configuration that is wrong (a missing or unreadable file, bad YAML,
 * an unknown context, cluster or user, bad base64, a field of the wrong
 * type) — the message names the file and the entry; %LLMSBX_ERROR_BACKEND_UNAVAILABLE
 * when there is no configuration at all (no kubeconfig, not in a cluster)
 * or an exec plugin fails or times out (with its standard error);
 * %LLMSBX_ERROR_PROTOCOL when a plugin's output is not an ExecCredential.
 * No message contains a token or a key.
 */
typedef struct {
  char     *context_name;
  char     *server;
  char     *namespace_;
  char     *token;
  GBytes   *ca_pem;
  GBytes   *client_cert_pem;
  GBytes   *client_key_pem;
  gboolean  insecure_skip_tls_verify;
  char     *tls_server_name;
  char     *proxy_url;
  gint64    expiry;
  LlmsbxKubeCredentialSource *source;
} LlmsbxKubeConnection;

/* Loads a kubeconfig as kubectl does. @kubeconfig_path: that one file, which
 * must exist; %NULL: the colon-separated list in $KUBECONFIG (missing files
 * skipped; for the named clusters, users and contexts and for
 * current-context, the first file that sets one wins), or ~/.kube/config
 * when $KUBECONFIG is unset or empty — and when none of those files exists
 * (or they hold nothing) and @context is %NULL, the in-cluster configuration.
 * @context: the context to use; %NULL for current-context. "" counts as
 * %NULL for both. Relative paths in an entry are relative to the directory
 * of the file that defines it. It blocks: it may run an exec plugin (up to
 * LLMSBX_KUBE_EXEC_TIMEOUT_MS), so call it where blocking is allowed (a
 * GTask thread), as llmsbx_kube_connection_refresh(). */
LlmsbxKubeConnection *llmsbx_kube_connection_load           (const char  *kubeconfig_path,
                                                             const char  *context,
                                                             GError     **error);

/* The pod's service account: https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT,
 * the token, ca.crt and namespace in LLMSBX_KUBE_SERVICEACCOUNT_DIR (or the
 * directory its environment variable names); $POD_NAMESPACE wins over the
 * namespace file; "default" without either. */
LlmsbxKubeConnection *llmsbx_kube_connection_load_in_cluster (GError    **error);

/* A server URL (http:// or https://), an optional bearer token and an
 * optional CA file (%NULL: the system's trust store); namespace "default". */
LlmsbxKubeConnection *llmsbx_kube_connection_new_explicit   (const char  *server,
                                                             const char  *token,
                                                             const char  *ca_file,
                                                             GError     **error);

/* Reads the token file again, or runs the exec plugin again (until
 * @deadline at the latest, monotonic µs or 0 for none, and @cancellable),
 * and replaces @token, the client certificate and key and @expiry. TRUE
 * without doing anything when the credentials are static. Call it on a
 * 401, or when llmsbx_kube_connection_needs_refresh() says so. */
gboolean              llmsbx_kube_connection_refresh        (LlmsbxKubeConnection  *connection,
                                                             gint64                 deadline,
                                                             GCancellable          *cancellable,
                                                             GError               **error);

/* Whether the exec plugin's credential expires within the next 10 s. */
gboolean              llmsbx_kube_connection_needs_refresh  (const LlmsbxKubeConnection *connection);

/* Whether llmsbx_kube_connection_refresh() can bring anything new (a token
 * file, an exec plugin). */
gboolean              llmsbx_kube_connection_can_refresh    (const LlmsbxKubeConnection *connection);

/* Reads the bearer token from @path and makes that file the token's source,
 * read again by llmsbx_kube_connection_refresh() (the backend's token-file
 * setting). */
gboolean              llmsbx_kube_connection_set_token_file (LlmsbxKubeConnection  *connection,
                                                             const char            *path,
                                                             GError               **error);

/* Where the credentials come from, for messages: "the bearer token from
 * PATH", "the exec credential plugin CMD (WHERE)" ...; never a secret. */
char                 *llmsbx_kube_connection_describe_credentials (const LlmsbxKubeConnection *connection);

/* The client certificate with its key, for soup_message_set_tls_client_certificate()
 * or GTlsConnection:certificate (RSA, EC and PKCS#8 keys alike); NULL
 * without an error when the connection has none. Make it again after a
 * refresh. */
GTlsCertificate      *llmsbx_kube_connection_new_client_certificate (const LlmsbxKubeConnection  *connection,
                                                                     GError                     **error);

/* What a GTlsConnection::accept-certificate handler returns for the
 * server's @peer certificate, which GIO's own check (the system's trust
 * store, the URL's host) refused with @errors: TRUE with
 * insecure_skip_tls_verify; with ca_pem, whether @peer chains to one of its
 * certificates and names tls_server_name (or the URL's host); without it,
 * whether the system's store accepts @peer for tls_server_name. */
gboolean              llmsbx_kube_connection_accept_certificate (const LlmsbxKubeConnection *connection,
                                                                 GTlsCertificate            *peer,
                                                                 GTlsCertificateFlags        errors);

/* Frees it, wiping the token and the key first. NULL-safe. */
void                  llmsbx_kube_connection_free           (LlmsbxKubeConnection *connection);

/* For tests: the exec plugin's time limit in milliseconds (0 restores
 * LLMSBX_KUBE_EXEC_TIMEOUT_MS). */
void                  llmsbx_kube_set_exec_timeout_for_testing (guint timeout_ms);

/* For the fuzz target: exec plugins fail instead of running (for good). */
void                  llmsbx_kube_forbid_exec_for_testing (void);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (LlmsbxKubeConnection, llmsbx_kube_connection_free)

G_END_DECLS
