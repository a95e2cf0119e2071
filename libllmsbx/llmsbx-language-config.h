/* llmsbx-language-config.h: a language handler described by plain values, the
 * base for handlers written in C plugins, Python or GJS. */
#pragma once

#if !defined(LLMSBX_INSIDE) && !defined(LLMSBX_COMPILATION)
#error "Only <llmsbx.h> can be included directly."
#endif

#include <glib-object.h>
#include "llmsbx-visibility.h"
#include "llmsbx-language-handler.h"

G_BEGIN_DECLS

#define LLMSBX_TYPE_LANGUAGE_CONFIG (llmsbx_language_config_get_type ())
LLMSBX_AVAILABLE_IN_ALL
G_DECLARE_DERIVABLE_TYPE (LlmsbxLanguageConfig, llmsbx_language_config, LLMSBX, LANGUAGE_CONFIG, GObject)

/**
 * LlmsbxLanguageConfigClass:
 * @parent_class: the parent class
 *
 * Subclasses override the #LlmsbxLanguageHandler methods they need; the others
 * come from the properties.
 *
 * Since: 0.1
 */
struct _LlmsbxLanguageConfigClass
{
  GObjectClass parent_class;

  /*< private >*/
  gpointer padding[8];
};

LLMSBX_AVAILABLE_IN_ALL
LlmsbxLanguageConfig *llmsbx_language_config_new (const char         *name,
                                                  const char         *file_extension,
                                                  const char * const *execution_commands,
                                                  const char         *package_manager);

LLMSBX_AVAILABLE_IN_ALL
const char         *llmsbx_language_config_get_name               (LlmsbxLanguageConfig *self);
LLMSBX_AVAILABLE_IN_ALL
const char         *llmsbx_language_config_get_file_extension     (LlmsbxLanguageConfig *self);
LLMSBX_AVAILABLE_IN_ALL
const char * const *llmsbx_language_config_get_execution_commands (LlmsbxLanguageConfig *self);
LLMSBX_AVAILABLE_IN_ALL
const char         *llmsbx_language_config_get_package_manager    (LlmsbxLanguageConfig *self);
LLMSBX_AVAILABLE_IN_ALL
const char         *llmsbx_language_config_get_default_image      (LlmsbxLanguageConfig *self);

G_END_DECLS
