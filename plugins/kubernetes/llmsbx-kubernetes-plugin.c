/* llmsbx-kubernetes-plugin.c: entry point of libllmsbx-kubernetes.so. */
#include <llmsbx.h>

#include "llmsbx-kubernetes-backend.h"

static gboolean
kubernetes_plugin_init (LlmsbxRegistry  *registry,
                        GError         **error)
{
  /* A cluster is never chosen for a session that names no backend. */
  return llmsbx_registry_register_backend_full (registry, LLMSBX_BACKEND_KUBERNETES,
                                                LLMSBX_TYPE_KUBERNETES_BACKEND, LLMSBX_RANK_NONE, error);
}

LLMSBX_PLUGIN_DEFINE ("kubernetes", "Kubernetes backend: sandboxes as pods", kubernetes_plugin_init);
