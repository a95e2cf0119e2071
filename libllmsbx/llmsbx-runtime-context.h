/* llmsbx-runtime-context.h: facts about a sandbox that a language handler needs
 * to build its commands. */
#pragma once

#if !defined(LLMSBX_INSIDE) && !defined(LLMSBX_COMPILATION)
#error "Only <llmsbx.h> can be included directly."
#endif

#include <glib-object.h>
#include "llmsbx-visibility.h"

G_BEGIN_DECLS

#define LLMSBX_TYPE_RUNTIME_CONTEXT (llmsbx_runtime_context_get_type ())
LLMSBX_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (LlmsbxRuntimeContext, llmsbx_runtime_context, LLMSBX, RUNTIME_CONTEXT, GObject)

LLMSBX_AVAILABLE_IN_ALL
LlmsbxRuntimeContext *llmsbx_runtime_context_new (const char *workdir,
                                                  gboolean    environment_ready);
LLMSBX_AVAILABLE_IN_ALL
const char *llmsbx_runtime_context_get_workdir           (LlmsbxRuntimeContext *self);
LLMSBX_AVAILABLE_IN_ALL
gboolean    llmsbx_runtime_context_get_environment_ready (LlmsbxRuntimeContext *self);

G_END_DECLS
