/* llmsbx-kubernetes-client.h: the Kubernetes API over libsoup 3: JSON
 * requests with the cluster's Status errors, and WebSocket upgrades.
 *
 * One client (one SoupSession) per connection, for the life of the backend:
 * glib-networking resumes TLS sessions across SoupSessions without checking
 * the certificate again, so trust settings must never share a process-wide
 * cache with another session to the same server. */
#pragma once

#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

#include "llmsbx-kube-config.h"

G_BEGIN_DECLS

typedef struct _LlmsbxKubeClient LlmsbxKubeClient;

LlmsbxKubeClient *llmsbx_kube_client_new   (const LlmsbxKubeConnection *connection,
                                            GError                          **error);
LlmsbxKubeClient *llmsbx_kube_client_ref   (LlmsbxKubeClient *self);
void              llmsbx_kube_client_unref (LlmsbxKubeClient *self);

const char       *llmsbx_kube_client_get_server    (LlmsbxKubeClient *self);
const char       *llmsbx_kube_client_get_namespace (LlmsbxKubeClient *self);
SoupSession      *llmsbx_kube_client_get_session   (LlmsbxKubeClient *self);

/* A message to @path_and_query (starting with "/") with the credentials. */
SoupMessage      *llmsbx_kube_client_message (LlmsbxKubeClient *self,
                                              const char       *method,
                                              const char       *path_and_query);

/* Sends a request and returns the JSON answer. A Status answer (>= 400)
 * becomes a G_IO_ERROR (NOT_FOUND 404, EXISTS 409, PERMISSION_DENIED 401 and
 * 403, INVALID_ARGUMENT 400 and 422, BUSY 429 once its Retry-Afters are
 * spent, FAILED otherwise) with the Status message; @http_status gets the
 * code when not NULL. 429 answers are retried after their Retry-After. */
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
