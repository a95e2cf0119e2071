/* llmsbx-backend-names.h: the names of the backends this project ships.
 *
 * A backend is chosen by the name its plugin registers, any string; these are
 * only the names of the plugins built here, so that code (and bindings: they
 * are Llmsbx.BACKEND_DOCKER, ... through introspection, and
 * Llmsbx.SandboxBackend.DOCKER in Python) need not spell them. */
#pragma once

#if !defined(LLMSBX_INSIDE) && !defined(LLMSBX_COMPILATION)
#error "Only <llmsbx.h> can be included directly."
#endif

/**
 * LLMSBX_BACKEND_DOCKER:
 *
 * The name of the Docker backend (the Docker Engine API): `"docker"`.
 *
 * Since: 0.1
 */
#define LLMSBX_BACKEND_DOCKER "docker"

/**
 * LLMSBX_BACKEND_PODMAN:
 *
 * The name of the Podman backend (Podman's API service): `"podman"`.
 *
 * Since: 0.1
 */
#define LLMSBX_BACKEND_PODMAN "podman"

/**
 * LLMSBX_BACKEND_KUBERNETES:
 *
 * The name of the Kubernetes backend (pods of a cluster): `"kubernetes"`.
 *
 * Since: 0.1
 */
#define LLMSBX_BACKEND_KUBERNETES "kubernetes"

/**
 * LLMSBX_BACKEND_BUBBLEWRAP:
 *
 * The name of the bubblewrap backend (sandboxes without a daemon): `"bubblewrap"`.
 *
 * Since: 0.1
 */
#define LLMSBX_BACKEND_BUBBLEWRAP "bubblewrap"
