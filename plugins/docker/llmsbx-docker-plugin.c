/* llmsbx-docker-plugin.c: entry point of libllmsbx-docker.so. */
#include <llmsbx.h>

#include "llmsbx-docker-backend.h"

static gboolean
docker_plugin_init (LlmsbxRegistry  *registry,
                    GError         **error)
{
  /* The first choice of a session that names no backend. */
  return llmsbx_registry_register_backend_full (registry, LLMSBX_BACKEND_DOCKER, LLMSBX_TYPE_DOCKER_BACKEND,
                                                LLMSBX_RANK_PRIMARY, error);
}

LLMSBX_PLUGIN_DEFINE ("docker", "Docker Engine API backend", docker_plugin_init);
