/* llmsbx-bubblewrap-backend.h: sandboxes made with bubblewrap, without a daemon. */
#pragma once

#include <llmsbx.h>

G_BEGIN_DECLS

#define LLMSBX_TYPE_BUBBLEWRAP_BACKEND (llmsbx_bubblewrap_backend_get_type ())
G_DECLARE_FINAL_TYPE (LlmsbxBubblewrapBackend, llmsbx_bubblewrap_backend, LLMSBX, BUBBLEWRAP_BACKEND, LlmsbxBackend)

/* LlmsbxBackendClass.render_preset, and what it renders (llmsbx-bubblewrap-preset.c). */
gboolean   llmsbx_bubblewrap_backend_render_preset  (LlmsbxBackend               *backend,
                                                     LlmsbxSecurityPreset        *preset,
                                                     GError                     **error);
GVariant  *llmsbx_bubblewrap_preset_runtime_config  (const LlmsbxSecurityLimits  *limits,
                                                     GError                     **error);

gboolean   llmsbx_bubblewrap_check_user_namespaces  (const char                  *proc_sys,
                                                     guint                        uid,
                                                     GError                     **error);

G_END_DECLS
