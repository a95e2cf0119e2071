/* llmsbx-bubblewrap-plugin.c: entry point of libllmsbx-bubblewrap.so. */
#include <llmsbx.h>

#include "llmsbx-bubblewrap-backend.h"

static gboolean
bubblewrap_plugin_init (LlmsbxRegistry  *registry,
                        GError         **error)
{
  /* The fallback when no engine answers: chosen by default only when no
   * backend of a higher rank probes usable. */
  return llmsbx_registry_register_backend_full (registry, LLMSBX_BACKEND_BUBBLEWRAP, LLMSBX_TYPE_BUBBLEWRAP_BACKEND,
                                                LLMSBX_RANK_MARGINAL, error);
}

LLMSBX_PLUGIN_DEFINE ("bubblewrap", "Sandboxes made with bubblewrap, cgroups and seccomp, without a daemon",
                      bubblewrap_plugin_init);
