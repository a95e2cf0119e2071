/* llmsbx-engine-preset.h: security presets as docker-py runtime configs. */
#pragma once

#include <llmsbx.h>

G_BEGIN_DECLS

char    *llmsbx_engine_format_size   (guint64                bytes);
GVariant *llmsbx_engine_preset_runtime_config (const LlmsbxSecurityLimits *limits);
gboolean llmsbx_engine_render_preset (LlmsbxBackend         *backend,
                                      LlmsbxSecurityPreset  *preset,
                                      GError               **error);

G_END_DECLS
