/* llmsbx-docker-backend.h: the Docker Engine API backend. */
#pragma once

#include "llmsbx-engine-backend.h"

G_BEGIN_DECLS

#define LLMSBX_TYPE_DOCKER_BACKEND (llmsbx_docker_backend_get_type ())
G_DECLARE_FINAL_TYPE (LlmsbxDockerBackend, llmsbx_docker_backend, LLMSBX, DOCKER_BACKEND, LlmsbxEngineBackend)

G_END_DECLS
