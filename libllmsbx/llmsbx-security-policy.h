/* llmsbx-security-policy.h: what code a session refuses to run. */
#pragma once

#if !defined(LLMSBX_INSIDE) && !defined(LLMSBX_COMPILATION)
#error "Only <llmsbx.h> can be included directly."
#endif

#include <glib-object.h>
#include "llmsbx-visibility.h"
#include "llmsbx-language-handler.h"
#include "llmsbx-security-severity.h"
#include "llmsbx-security-pattern.h"
#include "llmsbx-security-restricted-module.h"

G_BEGIN_DECLS

#define LLMSBX_TYPE_SECURITY_POLICY (llmsbx_security_policy_get_type ())
LLMSBX_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (LlmsbxSecurityPolicy, llmsbx_security_policy, LLMSBX, SECURITY_POLICY, GObject)

LLMSBX_AVAILABLE_IN_ALL
LlmsbxSecurityPolicy *llmsbx_security_policy_new           (LlmsbxSecurityIssueSeverity severity_threshold);
LLMSBX_AVAILABLE_IN_ALL
LlmsbxSecurityPolicy *llmsbx_security_policy_new_from_json (const char                 *json,
                                                            GError                    **error);
LLMSBX_AVAILABLE_IN_ALL
char                 *llmsbx_security_policy_to_json       (LlmsbxSecurityPolicy       *self);

LLMSBX_AVAILABLE_IN_ALL
LlmsbxSecurityIssueSeverity llmsbx_security_policy_get_severity_threshold (LlmsbxSecurityPolicy *self);
LLMSBX_AVAILABLE_IN_ALL
void        llmsbx_security_policy_set_severity_threshold (LlmsbxSecurityPolicy        *self,
                                                           LlmsbxSecurityIssueSeverity  severity_threshold);
LLMSBX_AVAILABLE_IN_ALL
void        llmsbx_security_policy_add_pattern            (LlmsbxSecurityPolicy   *self,
                                                           LlmsbxSecurityPattern  *pattern);
LLMSBX_AVAILABLE_IN_ALL
void        llmsbx_security_policy_add_restricted_module  (LlmsbxSecurityPolicy   *self,
                                                           LlmsbxRestrictedModule *module);
LLMSBX_AVAILABLE_IN_ALL
GPtrArray  *llmsbx_security_policy_get_patterns           (LlmsbxSecurityPolicy   *self);
LLMSBX_AVAILABLE_IN_ALL
GPtrArray  *llmsbx_security_policy_get_restricted_modules (LlmsbxSecurityPolicy   *self);

LLMSBX_AVAILABLE_IN_ALL
gboolean    llmsbx_security_policy_check (LlmsbxSecurityPolicy   *self,
                                          LlmsbxLanguageHandler  *handler,
                                          const char             *code,
                                          GPtrArray             **violations,
                                          GError                **error);

G_END_DECLS
