/* llmsbx-kubernetes-backend.h: sandboxes as pods on a Kubernetes cluster. */
#pragma once

#include <llmsbx.h>

G_BEGIN_DECLS

#define LLMSBX_TYPE_KUBERNETES_BACKEND (llmsbx_kubernetes_backend_get_type ())
G_DECLARE_FINAL_TYPE (LlmsbxKubernetesBackend, llmsbx_kubernetes_backend, LLMSBX, KUBERNETES_BACKEND, LlmsbxBackend)

G_END_DECLS
