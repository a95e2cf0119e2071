/* llmsbx-plugin.h: the entry point every plugin exports.
 *
 * A plugin is a shared object exporting one symbol, `llmsbx_plugin_descriptor`,
 * declared with LLMSBX_PLUGIN_DEFINE(). The registry checks its ABI version,
 * keeps the module resident and calls its init function, which registers
 * backends and language handlers. */
#pragma once

#if !defined(LLMSBX_INSIDE) && !defined(LLMSBX_COMPILATION)
#error "Only <llmsbx.h> can be included directly."
#endif

#include <gmodule.h>
#include "llmsbx-registry.h"

G_BEGIN_DECLS

/**
 * LLMSBX_PLUGIN_ABI_VERSION:
 *
 * Bumped whenever #LlmsbxPluginDescriptor or a class a plugin implements changes
 * incompatibly; the registry refuses plugins built against another value.
 *
 * Since: 0.1
 */
#define LLMSBX_PLUGIN_ABI_VERSION 1

/**
 * LLMSBX_PLUGIN_ENTRY_SYMBOL:
 *
 * Name of the symbol the registry looks up in a plugin.
 *
 * Since: 0.1
 */
#define LLMSBX_PLUGIN_ENTRY_SYMBOL "llmsbx_plugin_descriptor"

/**
 * LlmsbxPluginInitFunc:
 * @registry: the registry loading the plugin
 * @error: return location for a #GError
 *
 * Registers what the plugin provides.
 *
 * Returns: %TRUE on success
 *
 * Since: 0.1
 */
typedef gboolean (*LlmsbxPluginInitFunc) (LlmsbxRegistry *registry,
                                          GError        **error);

/**
 * LlmsbxPluginDescriptor: (skip)
 * @abi_version: %LLMSBX_PLUGIN_ABI_VERSION at build time
 * @struct_size: `sizeof (LlmsbxPluginDescriptor)` at build time
 * @name: short unique name of the plugin
 * @version: the plugin's version
 * @description: one line describing the plugin
 * @init: registers the plugin's backends and languages
 *
 * The descriptor a plugin exports.
 *
 * Since: 0.1
 */
typedef struct {
  guint32              abi_version;
  guint32              struct_size;
  const char          *name;
  const char          *version;
  const char          *description;
  LlmsbxPluginInitFunc init;
} LlmsbxPluginDescriptor;

/**
 * LLMSBX_PLUGIN_DEFINE: (skip)
 * @name_: short unique name, a string literal
 * @description_: one line, a string literal
 * @init_: an #LlmsbxPluginInitFunc
 *
 * Declares the plugin's descriptor.
 *
 * Since: 0.1
 */
#define LLMSBX_PLUGIN_DEFINE(name_, description_, init_) \
  G_MODULE_EXPORT const LlmsbxPluginDescriptor llmsbx_plugin_descriptor = { \
    LLMSBX_PLUGIN_ABI_VERSION, sizeof (LlmsbxPluginDescriptor), \
    name_, LLMSBX_VERSION_S, description_, init_ }

G_END_DECLS
