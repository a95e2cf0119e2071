/* llmsbx-language-handlers.h: what the handlers of libllmsbx-languages.so
 * share: their constructors, the way each defines its type and its catalogue
 * of dangerous code, and the choice of run commands before and after
 * environment setup. */
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

/* One entry of a language's catalogue of dangerous code, which the security
 * presets block by category: a pattern's regular expression or a module's
 * name, and what it is. */
typedef struct {
  LlmsbxSecurityCategory  category;
  const char             *text;
  const char             *description;
} LlmsbxCatalogueEntry;

/* CATALOGUE_ENTRY (COMMAND_EXECUTION, "regex", "description"): the category
 * without its LLMSBX_SECURITY_CATEGORY_ prefix. */
#define CATALOGUE_ENTRY(category_, text_, description_) \
  { LLMSBX_SECURITY_CATEGORY_##category_, text_, description_ }

/* Optional spaces around a member access in a pattern: `os . system` is valid Python. */
#define DOT "\\s*\\.\\s*"

LlmsbxSecurityPolicy *llmsbx_language_handlers_catalogue (const LlmsbxCatalogueEntry *patterns,
                                                          gsize                       n_patterns,
                                                          const LlmsbxCatalogueEntry *modules,
                                                          gsize                       n_modules,
                                                          LlmsbxSecurityCategory      category);

/* Defines type_name_get_security_catalogue(), the handler's method over its
 * two catalogues, for its iface_init to set. */
#define LLMSBX_DEFINE_LANGUAGE_CATALOGUE(type_name, patterns, modules) \
  static LlmsbxSecurityPolicy * \
  type_name##_get_security_catalogue (LlmsbxLanguageHandler  *handler, \
                                      LlmsbxSecurityCategory  category) \
  { \
    return llmsbx_language_handlers_catalogue (patterns, G_N_ELEMENTS (patterns), \
                                               modules, G_N_ELEMENTS (modules), category); \
  }

char **llmsbx_language_handlers_run_commands (LlmsbxRuntimeContext *context,
                                              const char * const   *image_commands,
                                              const char * const   *environment_commands);

/* The text of a plot capture in capture/ (python-capture.py, r-capture.R). */
char *llmsbx_language_handlers_capture_source (const char *name);

G_END_DECLS
