/* llmsbx-security-severity.c: how serious a security finding is, by name. */
#include "config.h"

#include "llmsbx-security-severity.h"

/**
 * llmsbx_security_issue_severity_to_string:
 * @severity: a #LlmsbxSecurityIssueSeverity
 *
 * The severity's name as people read it in reports: `SAFE`, `LOW`, `MEDIUM`
 * or `HIGH` (security policies in JSON spell them in lower case).
 *
 * Returns: (nullable): the name, or %NULL for a value that is no severity
 *
 * Since: 0.1
 */
const char *
llmsbx_security_issue_severity_to_string (LlmsbxSecurityIssueSeverity severity)
{
  static const char * const names[] = { "SAFE", "LOW", "MEDIUM", "HIGH" };

  if ((guint) severity >= G_N_ELEMENTS (names))
    return NULL;
  return names[severity];
}
