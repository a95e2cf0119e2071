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

/* A handler's patterns of @category. Their severity is only a suggestion:
 * each preset gives the categories it blocks its own. */
GPtrArray *
llmsbx_language_handlers_patterns (const LlmsbxCatalogueEntry *entries,
                                   gsize                       n_entries,
                                   LlmsbxSecurityCategory      category)
{
  GPtrArray *patterns = g_ptr_array_new_with_free_func (g_object_unref);

  for (gsize i = 0; i < n_entries; i++)
    {
      g_autoptr(GError) error = NULL;
      LlmsbxSecurityPattern *pattern;

      if (entries[i].category != category)
        continue;
      pattern = llmsbx_security_pattern_new (entries[i].text, entries[i].description,
                                             LLMSBX_SECURITY_ISSUE_SEVERITY_HIGH, &error);
      /* The catalogues are ours; tests/unit/test-security-presets.c compiles every entry. */
      if (pattern == NULL)
        {
          g_critical ("Pattern '%s' of the catalogue does not compile: %s", entries[i].description, error->message);
          continue;
        }
      g_ptr_array_add (patterns, pattern);
    }
  return patterns;
}

/* A handler's restricted modules of @category, with a suggested severity as above. */
GPtrArray *
llmsbx_language_handlers_modules (const LlmsbxCatalogueEntry *entries,
                                  gsize                       n_entries,
                                  LlmsbxSecurityCategory      category)
{
  GPtrArray *modules = g_ptr_array_new_with_free_func (g_object_unref);

  for (gsize i = 0; i < n_entries; i++)
    if (entries[i].category == category)
      g_ptr_array_add (modules, llmsbx_restricted_module_new (entries[i].text, entries[i].description,
                                                              LLMSBX_SECURITY_ISSUE_SEVERITY_HIGH));
  return modules;
}
