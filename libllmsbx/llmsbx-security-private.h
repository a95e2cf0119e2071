/* llmsbx-security-private.h: what the security types share inside the library. */
#pragma once

#include "llmsbx-security-policy.h"

G_BEGIN_DECLS

LlmsbxSecurityPattern *llmsbx_security_pattern_new_for_module (const char                  *regex,
                                                               const char                  *module,
                                                               const char                  *description,
                                                               LlmsbxSecurityIssueSeverity  severity,
                                                               GError                     **error);
gboolean llmsbx_security_pattern_search (LlmsbxSecurityPattern  *self,
                                         const char             *text,
                                         gboolean               *matched,
                                         GError                **error);

/* A consistent copy of a policy's contents, taken under its lock. */
void llmsbx_security_policy_snapshot (LlmsbxSecurityPolicy         *self,
                                      LlmsbxSecurityIssueSeverity  *threshold,
                                      GPtrArray                   **patterns,
                                      GPtrArray                   **modules);

/* Whether a finding of @severity blocks under @threshold. */
static inline gboolean
llmsbx_security_severity_blocks (LlmsbxSecurityIssueSeverity threshold,
                                 LlmsbxSecurityIssueSeverity severity)
{
  return threshold != LLMSBX_SECURITY_ISSUE_SEVERITY_SAFE && severity >= threshold;
}

const char *llmsbx_security_severity_to_string (LlmsbxSecurityIssueSeverity severity);

gboolean llmsbx_security_policy_check_library (LlmsbxSecurityPolicy  *self,
                                               const char            *library,
                                               GError               **error);

void llmsbx_security_set_violation_error (GError     **error,
                                          const char  *what,
                                          GPtrArray   *violations,
                                          LlmsbxSecurityIssueSeverity threshold);

G_END_DECLS
