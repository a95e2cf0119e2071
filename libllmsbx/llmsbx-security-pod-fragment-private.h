/* llmsbx-security-pod-fragment-private.h: a preset's limits as a Kubernetes pod
 * manifest fragment. Not public API. */
#pragma once

#include "llmsbx-security-preset.h"

G_BEGIN_DECLS

gboolean llmsbx_security_pod_fragment_render (LlmsbxSecurityPreset  *preset,
                                              GError               **error);

G_END_DECLS
