/* llmsbx-registry.h: finds plugins and keeps the backends and languages they register. */
#pragma once

#if !defined(LLMSBX_INSIDE) && !defined(LLMSBX_COMPILATION)
#error "Only <llmsbx.h> can be included directly."
#endif

#include <glib-object.h>
#include "llmsbx-visibility.h"
#include "llmsbx-backend.h"
#include "llmsbx-language-handler.h"

G_BEGIN_DECLS

/**
 * LlmsbxRank:
 * @LLMSBX_RANK_NONE: never chosen unless named (Kubernetes, test backends)
 * @LLMSBX_RANK_MARGINAL: a fallback, chosen when nothing better answers (a
 *   daemonless backend)
 * @LLMSBX_RANK_SECONDARY: chosen when no primary backend answers (Podman)
 * @LLMSBX_RANK_PRIMARY: the first choice (Docker)
 *
 * How much a backend is preferred when a session names none, as GStreamer
 * ranks its elements: the registry tries the registered backends by falling
 * rank and takes the first that probes (llmsbx_backend_probe()). Any value in
 * between is a rank too.
 *
 * Since: 0.1
 */
typedef enum {
  LLMSBX_RANK_NONE = 0,
  LLMSBX_RANK_MARGINAL = 64,
  LLMSBX_RANK_SECONDARY = 128,
  LLMSBX_RANK_PRIMARY = 256,
} LlmsbxRank;

LLMSBX_AVAILABLE_IN_ALL
char *llmsbx_rank_to_string (guint rank);

#define LLMSBX_TYPE_REGISTRY (llmsbx_registry_get_type ())
LLMSBX_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (LlmsbxRegistry, llmsbx_registry, LLMSBX, REGISTRY, GObject)

LLMSBX_AVAILABLE_IN_ALL
LlmsbxRegistry *llmsbx_registry_get_default (void);
LLMSBX_AVAILABLE_IN_ALL
LlmsbxRegistry *llmsbx_registry_new         (void);

LLMSBX_AVAILABLE_IN_ALL
gboolean  llmsbx_registry_load_plugin       (LlmsbxRegistry  *self,
                                             const char      *path,
                                             GError         **error);
LLMSBX_AVAILABLE_IN_ALL
gboolean  llmsbx_registry_load_directory    (LlmsbxRegistry  *self,
                                             const char      *directory,
                                             GError         **error);
LLMSBX_AVAILABLE_IN_ALL
void      llmsbx_registry_ensure_plugins    (LlmsbxRegistry  *self);
LLMSBX_AVAILABLE_IN_ALL
char    **llmsbx_registry_get_search_path   (LlmsbxRegistry  *self);
LLMSBX_AVAILABLE_IN_ALL
char    **llmsbx_registry_list_plugins      (LlmsbxRegistry  *self);
LLMSBX_AVAILABLE_IN_ALL
char    **llmsbx_registry_list_plugin_errors (LlmsbxRegistry *self);

LLMSBX_AVAILABLE_IN_ALL
gboolean  llmsbx_registry_register_backend  (LlmsbxRegistry  *self,
                                             const char      *name,
                                             GType            backend_type,
                                             GError         **error);
LLMSBX_AVAILABLE_IN_ALL
gboolean  llmsbx_registry_register_backend_full (LlmsbxRegistry  *self,
                                                 const char      *name,
                                                 GType            backend_type,
                                                 guint            rank,
                                                 GError         **error);
LLMSBX_AVAILABLE_IN_ALL
char    **llmsbx_registry_list_backends     (LlmsbxRegistry  *self);
LLMSBX_AVAILABLE_IN_ALL
guint     llmsbx_registry_get_backend_rank  (LlmsbxRegistry  *self,
                                             const char      *name);
LLMSBX_AVAILABLE_IN_ALL
char     *llmsbx_registry_get_default_backend_name (LlmsbxRegistry  *self,
                                                    GCancellable    *cancellable,
                                                    GError         **error);
LLMSBX_AVAILABLE_IN_ALL
LlmsbxBackend *llmsbx_registry_create_default_backend (LlmsbxRegistry  *self,
                                                       GCancellable    *cancellable,
                                                       GError         **error);
LLMSBX_AVAILABLE_IN_ALL
LlmsbxBackend *llmsbx_registry_create_backend (LlmsbxRegistry *self,
                                               const char     *name,
                                               GError        **error);

LLMSBX_AVAILABLE_IN_ALL
gboolean  llmsbx_registry_register_language (LlmsbxRegistry         *self,
                                             LlmsbxLanguageHandler  *handler,
                                             GError                **error);
LLMSBX_AVAILABLE_IN_ALL
char    **llmsbx_registry_list_languages    (LlmsbxRegistry  *self);
LLMSBX_AVAILABLE_IN_ALL
LlmsbxLanguageHandler *llmsbx_registry_lookup_language (LlmsbxRegistry *self,
                                                        const char     *name,
                                                        GError        **error);

G_END_DECLS
