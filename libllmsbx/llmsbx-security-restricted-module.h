/* llmsbx-security-restricted-module.h: a module that code must not import. */
#pragma once

#if !defined(LLMSBX_INSIDE) && !defined(LLMSBX_COMPILATION)
#error "Only <llmsbx.h> can be included directly."
#endif

#include <glib-object.h>
#include "llmsbx-visibility.h"
#include "llmsbx-security-severity.h"

G_BEGIN_DECLS

#define LLMSBX_TYPE_RESTRICTED_MODULE (llmsbx_restricted_module_get_type ())
LLMSBX_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (LlmsbxRestrictedModule, llmsbx_restricted_module, LLMSBX, RESTRICTED_MODULE, GObject)

LLMSBX_AVAILABLE_IN_ALL
LlmsbxRestrictedModule *llmsbx_restricted_module_new (const char                  *name,
                                                      const char                  *description,
                                                      LlmsbxSecurityIssueSeverity  severity);
LLMSBX_AVAILABLE_IN_ALL
const char *llmsbx_restricted_module_get_name        (LlmsbxRestrictedModule *self);
LLMSBX_AVAILABLE_IN_ALL
const char *llmsbx_restricted_module_get_description (LlmsbxRestrictedModule *self);
LLMSBX_AVAILABLE_IN_ALL
LlmsbxSecurityIssueSeverity llmsbx_restricted_module_get_severity (LlmsbxRestrictedModule *self);

G_END_DECLS
