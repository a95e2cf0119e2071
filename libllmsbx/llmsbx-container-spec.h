/* llmsbx-container-spec.h: what a backend must create for a session. */
#pragma once

#if !defined(LLMSBX_INSIDE) && !defined(LLMSBX_COMPILATION)
#error "Only <llmsbx.h> can be included directly."
#endif

#include <glib-object.h>
#include "llmsbx-visibility.h"

G_BEGIN_DECLS

#define LLMSBX_TYPE_CONTAINER_SPEC (llmsbx_container_spec_get_type ())

/**
 * LlmsbxContainerSpec:
 * @name: (nullable): container or pod name; %NULL lets the backend choose
 * @image: image reference
 * @command: (array zero-terminated=1): keep-alive command of the sandbox
 * @workdir: working directory; the backend makes sure it exists and is writable
 * @env: (array zero-terminated=1) (nullable): `KEY=VALUE` environment entries
 * @labels: (array zero-terminated=1) (nullable): `key=value` labels put on the sandbox
 * @runtime_configs: (nullable): docker-py style settings (`a{sv}`), mapped by the backend
 * @pod_manifest: (nullable): a Kubernetes Pod manifest (`a{sv}`), for the Kubernetes backend
 * @kube_namespace: (nullable): Kubernetes namespace
 *
 * Everything a backend needs to create and start one sandbox.
 *
 * Since: 0.1
 */
typedef struct {
  char      *name;
  char      *image;
  char     **command;
  char      *workdir;
  char     **env;
  char     **labels;
  GVariant  *runtime_configs;
  GVariant  *pod_manifest;
  char      *kube_namespace;
} LlmsbxContainerSpec;

LLMSBX_AVAILABLE_IN_ALL
GType                llmsbx_container_spec_get_type (void) G_GNUC_CONST;
LLMSBX_AVAILABLE_IN_ALL
LlmsbxContainerSpec *llmsbx_container_spec_new  (void);
LLMSBX_AVAILABLE_IN_ALL
LlmsbxContainerSpec *llmsbx_container_spec_copy (const LlmsbxContainerSpec *self);
LLMSBX_AVAILABLE_IN_ALL
void                 llmsbx_container_spec_free (LlmsbxContainerSpec *self);
LLMSBX_AVAILABLE_IN_ALL
const char          *llmsbx_container_spec_get_label (const LlmsbxContainerSpec *self,
                                                      const char                *key);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (LlmsbxContainerSpec, llmsbx_container_spec_free)

G_END_DECLS
