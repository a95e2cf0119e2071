/* llmsbx-podman-plugin.c: entry point of libllmsbx-podman.so. */
#include <llmsbx.h>

#include "llmsbx-podman-backend.h"

static gboolean
podman_plugin_init (LlmsbxRegistry  *registry,
                    GError         **error)
{
  /* A session that names no backend takes Podman when Docker does not answer. */
  return llmsbx_registry_register_backend_full (registry, LLMSBX_BACKEND_PODMAN, LLMSBX_TYPE_PODMAN_BACKEND,
                                                LLMSBX_RANK_SECONDARY, error);
}

LLMSBX_PLUGIN_DEFINE ("podman", "Podman backend (Docker-compatible API)", podman_plugin_init);
