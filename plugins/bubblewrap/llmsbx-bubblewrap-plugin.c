/* llmsbx-bubblewrap-plugin.c: entry point of libllmsbx-bubblewrap.so. */
#include <llmsbx.h>

#include "llmsbx-bubblewrap-backend.h"

static gboolean
bubblewrap_plugin_init (LlmsbxRegistry  *registry,
                        GError         **error)
{
  /* Once the registry ranks backends, this one registers with
   * LLMSBX_RANK_MARGINAL: the fallback when no engine answers. */
  return llmsbx_registry_register_backend (registry, "bubblewrap", LLMSBX_TYPE_BUBBLEWRAP_BACKEND, error);
}

LLMSBX_PLUGIN_DEFINE ("bubblewrap", "Sandboxes made with bubblewrap, cgroups and seccomp, without a daemon",
                      bubblewrap_plugin_init);
