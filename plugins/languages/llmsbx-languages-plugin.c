/* llmsbx-languages-plugin.c: libllmsbx-languages.so, registering one handler per language. */
#include "llmsbx-language-handlers.h"

/* Adding a language: one llmsbx-<lang>-handler.c, and its constructor here
 * and in llmsbx-language-handlers.h. */
static LlmsbxLanguageHandler *(* const handler_constructors[]) (void) = {
  llmsbx_python_handler_new,
  llmsbx_javascript_handler_new,
  llmsbx_java_handler_new,
  llmsbx_cpp_handler_new,
  llmsbx_go_handler_new,
  llmsbx_ruby_handler_new,
  llmsbx_r_handler_new,
};

static gboolean
llmsbx_languages_plugin_init (LlmsbxRegistry  *registry,
                              GError         **error)
{
  for (gsize i = 0; i < G_N_ELEMENTS (handler_constructors); i++)
    {
      g_autoptr(LlmsbxLanguageHandler) handler = handler_constructors[i] ();

      if (!llmsbx_registry_register_language (registry, handler, error))
        return FALSE;
    }
  return TRUE;
}

LLMSBX_PLUGIN_DEFINE ("languages", "Language handlers: Python, JavaScript, Java, C++, Go, Ruby, R", llmsbx_languages_plugin_init);
