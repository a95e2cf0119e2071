/* llmsbx-shell-plugin.c: an example language plugin, the one docs/languages.md
 * shows. A LlmsbxLanguageConfig built from properties is a complete handler. */
#include <llmsbx.h>

static gboolean
shell_plugin_init (LlmsbxRegistry  *registry,
                   GError         **error)
{
  static const char * const run[] = { "sh {file}", NULL };
  g_autoptr(LlmsbxLanguageConfig) shell = NULL;

  shell = g_object_new (LLMSBX_TYPE_LANGUAGE_CONFIG,
                        "name", "shell",
                        "file-extension", "sh",
                        "execution-commands", run,
                        "default-image", "llmsbx/python:bookworm",
                        "import-pattern", "(?m)^[ \\t]*(?:\\.|source)[ \\t]+{module}\\b",
                        "line-comment", "#",
                        NULL);

  return llmsbx_registry_register_language (registry, LLMSBX_LANGUAGE_HANDLER (shell), error);
}

LLMSBX_PLUGIN_DEFINE ("example-shell", "An example language: POSIX shell", shell_plugin_init);
