/* llmsbx-security-preset.h: ready-made security configurations. */
#pragma once

#if !defined(LLMSBX_INSIDE) && !defined(LLMSBX_COMPILATION)
#error "Only <llmsbx.h> can be included directly."
#endif

#include <glib-object.h>
#include "llmsbx-visibility.h"
#include "llmsbx-security-policy.h"
#include "llmsbx-security-limits.h"
#include "llmsbx-sandbox-session.h"

G_BEGIN_DECLS

#define LLMSBX_TYPE_SECURITY_PRESET (llmsbx_security_preset_get_type ())
LLMSBX_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (LlmsbxSecurityPreset, llmsbx_security_preset, LLMSBX, SECURITY_PRESET, GObject)

LLMSBX_AVAILABLE_IN_ALL
LlmsbxSecurityPreset *llmsbx_get_security_preset (const char  *name,
                                                  const char  *lang,
                                                  const char  *backend,
                                                  GError     **error);
LLMSBX_AVAILABLE_IN_ALL
char **llmsbx_list_available_presets (void);
LLMSBX_AVAILABLE_IN_ALL
LlmsbxSecurityPolicy *llmsbx_get_security_policy (const char  *name,
                                                  const char  *lang,
                                                  GError     **error);

LLMSBX_AVAILABLE_IN_ALL
const char           *llmsbx_security_preset_get_name            (LlmsbxSecurityPreset *self);
LLMSBX_AVAILABLE_IN_ALL
const char           *llmsbx_security_preset_get_lang            (LlmsbxSecurityPreset *self);
LLMSBX_AVAILABLE_IN_ALL
const char           *llmsbx_security_preset_get_backend         (LlmsbxSecurityPreset *self);
LLMSBX_AVAILABLE_IN_ALL
LlmsbxSecurityPolicy *llmsbx_security_preset_get_security_policy (LlmsbxSecurityPreset *self);
LLMSBX_AVAILABLE_IN_ALL
GVariant             *llmsbx_security_preset_get_runtime_config  (LlmsbxSecurityPreset *self);
LLMSBX_AVAILABLE_IN_ALL
void                  llmsbx_security_preset_set_runtime_config  (LlmsbxSecurityPreset *self,
                                                                  GVariant             *runtime_config);
LLMSBX_AVAILABLE_IN_ALL
GVariant             *llmsbx_security_preset_get_pod_manifest_fragment (LlmsbxSecurityPreset *self);
LLMSBX_AVAILABLE_IN_ALL
void                  llmsbx_security_preset_set_pod_manifest_fragment (LlmsbxSecurityPreset *self,
                                                                        GVariant             *fragment);
LLMSBX_AVAILABLE_IN_ALL
const LlmsbxSecurityLimits *llmsbx_security_preset_get_limits (LlmsbxSecurityPreset *self);

LLMSBX_AVAILABLE_IN_ALL
gboolean llmsbx_sandbox_session_apply_security_preset (LlmsbxSandboxSession  *session,
                                                       LlmsbxSecurityPreset  *preset,
                                                       GError               **error);

G_END_DECLS
