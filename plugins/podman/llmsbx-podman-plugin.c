/* llmsbx-podman-plugin.c: entry point of libllmsbx-podman.so. */
#include <llmsbx.h>

#include "llmsbx-podman-backend.h"

static gboolean
podman_plugin_init (LlmsbxRegistry  *registry,
                    GError         **error)
{
  return llmsbx_registry_register_backend (registry, "podman", LLMSBX_TYPE_PODMAN_BACKEND, error);
}

LLMSBX_PLUGIN_DEFINE ("podman", "Podman backend (Docker-compatible API)", podman_plugin_init);
