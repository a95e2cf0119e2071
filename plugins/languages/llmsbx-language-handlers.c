/* llmsbx-language-handlers.c: helpers the language handlers share. */
#include "llmsbx-language-handlers.h"

/* The run commands of a handler whose environment setup changes how code runs
 * (a venv, a GEM_HOME, a module): @image_commands until the session has set
 * the environment up, @environment_commands from then on. */
char **
llmsbx_language_handlers_run_commands (LlmsbxRuntimeContext *context,
                                       const char * const   *image_commands,
                                       const char * const   *environment_commands)
{
  if (llmsbx_runtime_context_get_environment_ready (context))
    return g_strdupv ((char **) environment_commands);

  return g_strdupv ((char **) image_commands);
}
