/* llmsbx-kubernetes-client.h: the Kubernetes API over libsoup 3: JSON
 * requests with the cluster's Status errors, and WebSocket upgrades.
 *
 * One client (one SoupSession) per connection, for the life of the backend.
 * glib-networking resumes TLS sessions across SoupSessions (its cache is
 * process-wide, keyed on the address and the connection's own certificate)
 * without checking the certificate again: so each message puts the client
 * certificate on its connection before the handshake, and closes a resumed
 * connection whose certificate this client's CA does not accept. */
#pragma once

#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

#include "llmsbx-kube-config.h"

G_BEGIN_DECLS

typedef struct _LlmsbxKubeClient LlmsbxKubeClient;

/* Takes @connection (transfer full): it keeps it to refresh the
 * credentials (a token file read again, an exec plugin run again), before
 * a request when they expire and once on a 401. Thread-safe: many threads
 * may send through one client while one of them refreshes. */
LlmsbxKubeClient *llmsbx_kube_client_new   (LlmsbxKubeConnection *connection,
                                            GError              **error);
LlmsbxKubeClient *llmsbx_kube_client_ref   (LlmsbxKubeClient *self);
void              llmsbx_kube_client_unref (LlmsbxKubeClient *self);

const char       *llmsbx_kube_client_get_server    (LlmsbxKubeClient *self);
const char       *llmsbx_kube_client_get_namespace (LlmsbxKubeClient *self);
SoupSession      *llmsbx_kube_client_get_session   (LlmsbxKubeClient *self);

/* A message to @path_and_query (starting with "/") with the credentials as
 * they are now; @generation (nullable) gets their generation, for
 * llmsbx_kube_client_refresh_after_401(). NULL for a URL that does not parse. */
SoupMessage      *llmsbx_kube_client_message (LlmsbxKubeClient *self,
                                              const char       *method,
                                              const char       *path_and_query,
                                              guint            *generation);

/* The same, refreshing the credentials first when they expire (it may
 * block while an exec plugin runs, until @deadline at the latest, monotonic
 * µs or 0 for none, or @cancellable). */
SoupMessage      *llmsbx_kube_client_prepare (LlmsbxKubeClient  *self,
                                              const char        *method,
                                              const char        *path_and_query,
                                              guint             *generation,
                                              gint64             deadline,
                                              GCancellable      *cancellable,
                                              GError           **error);

/* After a 401 to a request sent with the credentials of @generation: TRUE
 * when newer ones are there (another thread already refreshed them, or this
 * call did) and the request should be sent once more; FALSE with @error
 * when refreshing failed, FALSE without it when the credentials are static
 * (the 401 is final). */
gboolean          llmsbx_kube_client_refresh_after_401 (LlmsbxKubeClient  *self,
                                                        guint              generation,
                                                        gint64             deadline,
                                                        GCancellable      *cancellable,
                                                        GError           **error);

/* The G_IO_ERROR_PERMISSION_DENIED of a final 401, naming where the
 * credentials came from (never the credentials); @refreshed: they were
 * read again after a first 401. */
void              llmsbx_kube_client_set_unauthorized_error (LlmsbxKubeClient  *self,
                                                             GError           **error,
                                                             GBytes            *body,
                                                             gboolean           refreshed);

/* Whether @message failed because its connection, a TLS session resumed
 * from glib-networking's process-wide cache, has a certificate this
 * client does not trust (it is closed before the request goes out). */
gboolean          llmsbx_kube_client_certificate_refused (SoupMessage *message);

/* Where the credentials come from (llmsbx_kube_connection_describe_credentials()). */
char             *llmsbx_kube_client_describe_credentials (LlmsbxKubeClient *self);

/* Sends a request and returns the JSON answer. A Status answer (>= 400)
 * becomes a G_IO_ERROR (NOT_FOUND 404, EXISTS 409, PERMISSION_DENIED 401 and
 * 403, INVALID_ARGUMENT 400 and 422, BUSY 429 once its Retry-Afters are
 * spent, FAILED otherwise) with the Status message; @http_status gets the
 * code when not NULL. 429 answers are retried after their Retry-After; a
 * 401 refreshes the credentials once and sends the request again, and a
 * second 401 names where the credentials came from. */
JsonNode         *llmsbx_kube_client_json (LlmsbxKubeClient  *self,
                                           const char        *method,
                                           const char        *path_and_query,
                                           JsonNode          *body,
                                           guint             *http_status,
                                           GCancellable      *cancellable,
                                           GError           **error);

/* The error of an HTTP answer @status with @body (a Status, or text). */
void              llmsbx_kube_client_set_status_error (GError    **error,
                                                       guint       status,
                                                       GBytes     *body);

/* Escapes one query value or path segment. */
char             *llmsbx_kube_escape (const char *text);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (LlmsbxKubeClient, llmsbx_kube_client_unref)

G_END_DECLS
