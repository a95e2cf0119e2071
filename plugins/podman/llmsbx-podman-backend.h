/* llmsbx-podman-backend.h: the Podman backend. */
#pragma once

#include "llmsbx-engine-backend.h"

G_BEGIN_DECLS

#define LLMSBX_TYPE_PODMAN_BACKEND (llmsbx_podman_backend_get_type ())
G_DECLARE_FINAL_TYPE (LlmsbxPodmanBackend, llmsbx_podman_backend, LLMSBX, PODMAN_BACKEND, LlmsbxEngineBackend)

G_END_DECLS
