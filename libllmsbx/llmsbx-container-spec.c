/* llmsbx-container-spec.c: what a backend must create for a session. */
#include "config.h"

#include <string.h>

#include "llmsbx-container-spec.h"

G_DEFINE_BOXED_TYPE (LlmsbxContainerSpec, llmsbx_container_spec,
                     llmsbx_container_spec_copy, llmsbx_container_spec_free)

/**
 * llmsbx_container_spec_new:
 *
 * Creates an empty spec; every field is %NULL. The GVariant fields, when set,
 * hold a strong reference (use g_variant_ref_sink() on a new variant).
 *
 * Returns: (transfer full): a new #LlmsbxContainerSpec
 *
 * Since: 0.1
 */
LlmsbxContainerSpec *
llmsbx_container_spec_new (void)
{
  return g_new0 (LlmsbxContainerSpec, 1);
}

/**
 * llmsbx_container_spec_copy:
 * @self: a #LlmsbxContainerSpec
 *
 * Makes a deep copy of @self; the GVariant fields are shared (they are
 * immutable) with one more reference.
 *
 * Returns: (transfer full): a copy of @self
 *
 * Since: 0.1
 */
LlmsbxContainerSpec *
llmsbx_container_spec_copy (const LlmsbxContainerSpec *self)
{
  LlmsbxContainerSpec *copy;

  g_return_val_if_fail (self != NULL, NULL);

  copy = g_new0 (LlmsbxContainerSpec, 1);
  copy->name = g_strdup (self->name);
  copy->image = g_strdup (self->image);
  copy->command = g_strdupv (self->command);
  copy->workdir = g_strdup (self->workdir);
  copy->env = g_strdupv (self->env);
  copy->labels = g_strdupv (self->labels);
  copy->runtime_configs = self->runtime_configs ? g_variant_ref (self->runtime_configs) : NULL;
  copy->pod_manifest = self->pod_manifest ? g_variant_ref (self->pod_manifest) : NULL;
  copy->kube_namespace = g_strdup (self->kube_namespace);
  return copy;
}

/**
 * llmsbx_container_spec_free:
 * @self: (nullable): a #LlmsbxContainerSpec
 *
 * Frees @self and everything it holds.
 *
 * Since: 0.1
 */
void
llmsbx_container_spec_free (LlmsbxContainerSpec *self)
{
  if (self == NULL)
    return;

  g_free (self->name);
  g_free (self->image);
  g_strfreev (self->command);
  g_free (self->workdir);
  g_strfreev (self->env);
  g_strfreev (self->labels);
  g_clear_pointer (&self->runtime_configs, g_variant_unref);
  g_clear_pointer (&self->pod_manifest, g_variant_unref);
  g_free (self->kube_namespace);
  g_free (self);
}

/**
 * llmsbx_container_spec_get_label:
 * @self: a #LlmsbxContainerSpec
 * @key: a label key
 *
 * Looks up the `key=value` entry for @key in #LlmsbxContainerSpec.labels.
 *
 * Returns: (nullable): the value of the label, or %NULL if it is not set
 *
 * Since: 0.1
 */
const char *
llmsbx_container_spec_get_label (const LlmsbxContainerSpec *self,
                                 const char                *key)
{
  gsize key_len;

  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (key != NULL, NULL);

  if (self->labels == NULL)
    return NULL;

  key_len = strlen (key);
  for (char **l = self->labels; *l != NULL; l++)
    {
      if (strncmp (*l, key, key_len) == 0 && (*l)[key_len] == '=')
        return *l + key_len + 1;
    }

  return NULL;
}
