/* llmsbx-kubernetes-backend-private.h: what the backend's files share. */
#pragma once

#include "llmsbx-kubernetes-backend.h"
#include "llmsbx-kubernetes-client.h"
#include "llmsbx-kubernetes-exec.h"

G_BEGIN_DECLS

/* The client of the backend's connection, made on first use. */
LlmsbxKubeClient *llmsbx_kubernetes_backend_get_client (LlmsbxKubernetesBackend  *self,
                                                         GError                  **error);

/* Splits a sandbox id ("pod" in the backend's namespace, or "ns/pod"). */
void              llmsbx_kubernetes_backend_split_id   (LlmsbxKubernetesBackend  *self,
                                                         LlmsbxKubeClient         *client,
                                                         const char               *sandbox_id,
                                                         char                    **namespace_,
                                                         char                    **pod);

/* Opens @request in the sandbox's pod, reading at most @stdin_length bytes
 * of stdin (-1: until it ends; 0: no stdin). */
LlmsbxKubeExec   *llmsbx_kubernetes_backend_open_exec  (LlmsbxKubernetesBackend  *self,
                                                         const char               *sandbox_id,
                                                         LlmsbxExecRequest        *request,
                                                         gssize                    stdin_length,
                                                         GCancellable             *cancellable,
                                                         GError                  **error);

LlmsbxExecStream *llmsbx_kubernetes_exec_stream_new    (LlmsbxKubernetesBackend  *backend,
                                                         const char               *sandbox_id,
                                                         LlmsbxKubeExec           *exec,
                                                         gint64                    deadline);

gboolean          llmsbx_kubernetes_backend_conclude   (LlmsbxKubernetesBackend  *self,
                                                         const char               *sandbox_id,
                                                         gboolean                  ok,
                                                         GError                   *command_error,
                                                         int                      *exit_status,
                                                         GError                  **error);

gboolean          llmsbx_kubernetes_render_preset      (LlmsbxBackend            *backend,
                                                         LlmsbxSecurityPreset     *preset,
                                                         GError                  **error);

G_END_DECLS
