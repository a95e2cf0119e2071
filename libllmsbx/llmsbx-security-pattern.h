/* llmsbx-security-pattern.h: a regular expression that a security policy looks for in code. */
#pragma once

#if !defined(LLMSBX_INSIDE) && !defined(LLMSBX_COMPILATION)
#error "Only <llmsbx.h> can be included directly."
#endif

#include <gio/gio.h>
#include "llmsbx-visibility.h"
#include "llmsbx-security-severity.h"

G_BEGIN_DECLS

#define LLMSBX_TYPE_SECURITY_PATTERN (llmsbx_security_pattern_get_type ())
LLMSBX_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (LlmsbxSecurityPattern, llmsbx_security_pattern, LLMSBX, SECURITY_PATTERN, GObject)

LLMSBX_AVAILABLE_IN_ALL
LlmsbxSecurityPattern *llmsbx_security_pattern_new (const char                   *pattern,
                                                    const char                   *description,
                                                    LlmsbxSecurityIssueSeverity   severity,
                                                    GError                      **error);
LLMSBX_AVAILABLE_IN_ALL
const char *llmsbx_security_pattern_get_pattern     (LlmsbxSecurityPattern *self);
LLMSBX_AVAILABLE_IN_ALL
const char *llmsbx_security_pattern_get_description (LlmsbxSecurityPattern *self);
LLMSBX_AVAILABLE_IN_ALL
LlmsbxSecurityIssueSeverity llmsbx_security_pattern_get_severity (LlmsbxSecurityPattern *self);
LLMSBX_AVAILABLE_IN_ALL
const char *llmsbx_security_pattern_get_module      (LlmsbxSecurityPattern *self);

G_END_DECLS
