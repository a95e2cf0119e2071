/* llmsbx-security-severity.h: how serious a security finding is. */
#pragma once

#if !defined(LLMSBX_INSIDE) && !defined(LLMSBX_COMPILATION)
#error "Only <llmsbx.h> can be included directly."
#endif

#include <glib.h>
#include "llmsbx-visibility.h"

G_BEGIN_DECLS

/**
 * LlmsbxSecurityIssueSeverity:
 * @LLMSBX_SECURITY_ISSUE_SEVERITY_SAFE: not an issue. As a pattern's severity,
 *   the pattern is reported but never blocks; as a policy's threshold, nothing
 *   is ever blocked.
 * @LLMSBX_SECURITY_ISSUE_SEVERITY_LOW: a minor issue.
 * @LLMSBX_SECURITY_ISSUE_SEVERITY_MEDIUM: a serious issue.
 * @LLMSBX_SECURITY_ISSUE_SEVERITY_HIGH: a dangerous issue.
 *
 * The severity of a #LlmsbxSecurityPattern or a #LlmsbxRestrictedModule, and
 * the threshold of a #LlmsbxSecurityPolicy: a finding blocks code when the
 * threshold is not %LLMSBX_SECURITY_ISSUE_SEVERITY_SAFE and the finding's
 * severity is at or above it.
 *
 * Since: 0.1
 */
typedef enum {
  LLMSBX_SECURITY_ISSUE_SEVERITY_SAFE = 0,
  LLMSBX_SECURITY_ISSUE_SEVERITY_LOW = 1,
  LLMSBX_SECURITY_ISSUE_SEVERITY_MEDIUM = 2,
  LLMSBX_SECURITY_ISSUE_SEVERITY_HIGH = 3,
} LlmsbxSecurityIssueSeverity;

LLMSBX_AVAILABLE_IN_ALL
const char *llmsbx_security_issue_severity_to_string (LlmsbxSecurityIssueSeverity severity);

G_END_DECLS
