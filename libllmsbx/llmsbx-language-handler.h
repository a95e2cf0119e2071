/* llmsbx-language-handler.h: what the library needs to know about a language. */
#pragma once

#if !defined(LLMSBX_INSIDE) && !defined(LLMSBX_COMPILATION)
#error "Only <llmsbx.h> can be included directly."
#endif

#include <glib-object.h>
#include "llmsbx-visibility.h"
#include "llmsbx-runtime-context.h"
#include "llmsbx-security-category.h"

G_BEGIN_DECLS

/* Defined in llmsbx-security-policy.h, which needs this header. */
typedef struct _LlmsbxSecurityPolicy LlmsbxSecurityPolicy;

#define LLMSBX_TYPE_LANGUAGE_HANDLER (llmsbx_language_handler_get_type ())
LLMSBX_AVAILABLE_IN_ALL
G_DECLARE_INTERFACE (LlmsbxLanguageHandler, llmsbx_language_handler, LLMSBX, LANGUAGE_HANDLER, GObject)

/**
 * LlmsbxLanguageHandlerInterface:
 * @g_iface: the parent interface
 * @get_name: the language identifier used as `lang`, lower case (e.g. `python`)
 * @get_file_extension: extension of code files, without the dot (e.g. `py`)
 * @get_default_image: image used when the session names none
 * @get_setup_commands: commands that prepare the environment once, at the first need
 *   (e.g. a Python venv). Each is a command template (see below).
 * @get_run_commands: command templates that run the code file; run in order, stopping at the
 *   first that fails (a compile step, then the program)
 * @get_install_command: command template installing one `{library}`, or %NULL when the
 *   language cannot install libraries
 * @get_import_pattern: a regular expression matching an import of @module
 * @strip_comments: @code with comments removed (string literals kept)
 * @get_security_catalogue: the language's dangerous code of one #LlmsbxSecurityCategory,
 *   its patterns and restricted modules held in a policy, which the security presets use
 * @get_hardened_environment: `NAME=value` variables the language's tools need in a
 *   hardened sandbox (read-only root, `/tmp` not executable, only the working directory
 *   writable), as the security presets make it
 * @wrap_for_artifacts: @code made to save every plot it makes into the existing directory
 *   @plots_dir, as files whose names sort in the order it made them (`000001.png`, ...),
 *   printing exactly what @code prints and reporting its errors as running it plainly
 *   would; %NULL when the language has no plot capture (see #LlmsbxArtifactSandboxSession)
 *
 * A command template is split into words like a shell would (quotes respected), and only
 * then are the placeholders `{file}`, `{workdir}` and `{library}` replaced inside each word,
 * so a value never becomes more than one argument and no shell ever reads user data.
 *
 * Since: 0.1
 */
struct _LlmsbxLanguageHandlerInterface
{
  GTypeInterface g_iface;

  char   *(*get_name)            (LlmsbxLanguageHandler *self);
  char   *(*get_file_extension)  (LlmsbxLanguageHandler *self);
  char   *(*get_default_image)   (LlmsbxLanguageHandler *self);
  char  **(*get_setup_commands)  (LlmsbxLanguageHandler *self,
                                  LlmsbxRuntimeContext  *context);
  char  **(*get_run_commands)    (LlmsbxLanguageHandler *self,
                                  LlmsbxRuntimeContext  *context);
  char   *(*get_install_command) (LlmsbxLanguageHandler *self,
                                  LlmsbxRuntimeContext  *context);
  char   *(*get_import_pattern)  (LlmsbxLanguageHandler *self,
                                  const char            *module);
  char   *(*strip_comments)      (LlmsbxLanguageHandler *self,
                                  const char            *code);
  LlmsbxSecurityPolicy *(*get_security_catalogue) (LlmsbxLanguageHandler  *self,
                                                   LlmsbxSecurityCategory  category);
  char   **(*get_hardened_environment) (LlmsbxLanguageHandler  *self,
                                        LlmsbxRuntimeContext   *context);
  char   *(*wrap_for_artifacts)  (LlmsbxLanguageHandler *self,
                                  const char            *code,
                                  const char            *plots_dir);

  /*< private >*/
  gpointer padding[9];
};

LLMSBX_AVAILABLE_IN_ALL
char   *llmsbx_language_handler_get_name            (LlmsbxLanguageHandler *self);
LLMSBX_AVAILABLE_IN_ALL
char   *llmsbx_language_handler_get_file_extension  (LlmsbxLanguageHandler *self);
LLMSBX_AVAILABLE_IN_ALL
char   *llmsbx_language_handler_get_default_image   (LlmsbxLanguageHandler *self);
LLMSBX_AVAILABLE_IN_ALL
char  **llmsbx_language_handler_get_setup_commands  (LlmsbxLanguageHandler *self,
                                                     LlmsbxRuntimeContext  *context);
LLMSBX_AVAILABLE_IN_ALL
char  **llmsbx_language_handler_get_run_commands    (LlmsbxLanguageHandler *self,
                                                     LlmsbxRuntimeContext  *context);
LLMSBX_AVAILABLE_IN_ALL
char   *llmsbx_language_handler_get_install_command (LlmsbxLanguageHandler *self,
                                                     LlmsbxRuntimeContext  *context);
LLMSBX_AVAILABLE_IN_ALL
gboolean llmsbx_language_handler_supports_library_installation (LlmsbxLanguageHandler *self,
                                                                LlmsbxRuntimeContext  *context);
LLMSBX_AVAILABLE_IN_ALL
char   *llmsbx_language_handler_get_import_pattern  (LlmsbxLanguageHandler *self,
                                                     const char            *module);
LLMSBX_AVAILABLE_IN_ALL
char   *llmsbx_language_handler_strip_comments      (LlmsbxLanguageHandler *self,
                                                     const char            *code);

LLMSBX_AVAILABLE_IN_ALL
LlmsbxSecurityPolicy *llmsbx_language_handler_get_security_catalogue (LlmsbxLanguageHandler  *self,
                                                                     LlmsbxSecurityCategory  category);
LLMSBX_AVAILABLE_IN_ALL
GPtrArray *llmsbx_language_handler_get_security_patterns    (LlmsbxLanguageHandler  *self,
                                                             LlmsbxSecurityCategory  category);
LLMSBX_AVAILABLE_IN_ALL
GPtrArray *llmsbx_language_handler_get_restricted_modules   (LlmsbxLanguageHandler  *self,
                                                             LlmsbxSecurityCategory  category);
LLMSBX_AVAILABLE_IN_ALL
char     **llmsbx_language_handler_get_hardened_environment (LlmsbxLanguageHandler  *self,
                                                             LlmsbxRuntimeContext   *context);

LLMSBX_AVAILABLE_IN_ALL
char     *llmsbx_language_handler_wrap_for_artifacts (LlmsbxLanguageHandler *self,
                                                      const char            *code,
                                                      const char            *plots_dir);

LLMSBX_AVAILABLE_IN_ALL
char  **llmsbx_expand_command_template (const char  *template_,
                                        const char  *file,
                                        const char  *workdir,
                                        const char  *library,
                                        GError     **error);

G_END_DECLS
