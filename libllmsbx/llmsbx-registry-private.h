/* llmsbx-registry-private.h: what the presets ask the registry. Not public API. */
#pragma once

#include "llmsbx-registry.h"
#include "llmsbx-security-preset.h"

G_BEGIN_DECLS

/* The backend a preset is made for when it names none: LLMSBX_BACKEND, else
 * the highest-ranked backend that renders presets, not probed (a preset is
 * data and needs no engine). NULL when nothing renders presets. */
char      *llmsbx_registry_get_preset_backend     (LlmsbxRegistry        *self);

/* Whether the registered backend @name renders presets. */
gboolean   llmsbx_registry_renders_presets        (LlmsbxRegistry        *self,
                                                   const char            *name);

/* "docker, podman, kubernetes": what renders presets, by falling rank. */
char      *llmsbx_registry_list_preset_backends   (LlmsbxRegistry        *self);

/* Renders @preset for the backend @name (see LlmsbxBackendClass.render_preset). */
gboolean   llmsbx_registry_render_preset          (LlmsbxRegistry        *self,
                                                   const char            *name,
                                                   LlmsbxSecurityPreset  *preset,
                                                   GError               **error);

/* The registered handlers, in the order their languages were first registered. */
GPtrArray *llmsbx_registry_list_language_handlers (LlmsbxRegistry        *self);

G_END_DECLS
