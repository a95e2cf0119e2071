/* llmsbx-language-handlers.h: what the handlers of libllmsbx-languages.so
 * share: their constructors, the way each defines its type, and the choice of
 * run commands before and after environment setup. */
#pragma once

#include <llmsbx.h>

G_BEGIN_DECLS

/* One constructor per llmsbx-<lang>-handler.c. */
LlmsbxLanguageHandler *llmsbx_cpp_handler_new        (void);
LlmsbxLanguageHandler *llmsbx_go_handler_new         (void);
LlmsbxLanguageHandler *llmsbx_java_handler_new       (void);
LlmsbxLanguageHandler *llmsbx_javascript_handler_new (void);
LlmsbxLanguageHandler *llmsbx_python_handler_new     (void);
LlmsbxLanguageHandler *llmsbx_r_handler_new          (void);
LlmsbxLanguageHandler *llmsbx_ruby_handler_new       (void);

/* Declares and defines TypeName, a final LlmsbxLanguageConfig with no state of
 * its own: its properties carry the language, and type_name_iface_init, which
 * the handler's file defines, overrides the LlmsbxLanguageHandler methods that
 * plain values cannot express. The type stays private to its file. */
#define LLMSBX_DEFINE_LANGUAGE_HANDLER(TypeName, type_name, TYPE_NAME) \
  G_DECLARE_FINAL_TYPE (TypeName, type_name, LLMSBX, TYPE_NAME, LlmsbxLanguageConfig) \
  struct _##TypeName { LlmsbxLanguageConfig parent_instance; }; \
  static void type_name##_iface_init (LlmsbxLanguageHandlerInterface *iface); \
  G_DEFINE_FINAL_TYPE_WITH_CODE (TypeName, type_name, LLMSBX_TYPE_LANGUAGE_CONFIG, \
                                 G_IMPLEMENT_INTERFACE (LLMSBX_TYPE_LANGUAGE_HANDLER, \
                                                        type_name##_iface_init)) \
  static void type_name##_class_init (TypeName##Class *klass) { } \
  static void type_name##_init (TypeName *self) { }

char **llmsbx_language_handlers_run_commands (LlmsbxRuntimeContext *context,
                                              const char * const   *image_commands,
                                              const char * const   *environment_commands);

G_END_DECLS
