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

/* A handler's patterns and modules of @category, or NULL when it has none.
 * Their severity is only a suggestion: each preset gives the categories it
 * blocks its own. */
LlmsbxSecurityPolicy *
llmsbx_language_handlers_catalogue (const LlmsbxCatalogueEntry *patterns,
                                    gsize                       n_patterns,
                                    const LlmsbxCatalogueEntry *modules,
                                    gsize                       n_modules,
                                    LlmsbxSecurityCategory      category)
{
  g_autoptr(LlmsbxSecurityPolicy) catalogue = llmsbx_security_policy_new (LLMSBX_SECURITY_ISSUE_SEVERITY_HIGH);
  gboolean found = FALSE;

  for (gsize i = 0; i < n_patterns; i++)
    {
      g_autoptr(LlmsbxSecurityPattern) pattern = NULL;
      g_autoptr(GError) error = NULL;

      if (patterns[i].category != category)
        continue;
      pattern = llmsbx_security_pattern_new (patterns[i].text, patterns[i].description,
                                             LLMSBX_SECURITY_ISSUE_SEVERITY_HIGH, &error);
      /* The catalogues are ours; tests/unit/test-security-presets.c compiles every entry. */
      if (pattern == NULL)
        {
          g_critical ("Pattern '%s' of the catalogue does not compile: %s", patterns[i].description, error->message);
          continue;
        }
      llmsbx_security_policy_add_pattern (catalogue, pattern);
      found = TRUE;
    }

  for (gsize i = 0; i < n_modules; i++)
    {
      g_autoptr(LlmsbxRestrictedModule) module = NULL;

      if (modules[i].category != category)
        continue;
      module = llmsbx_restricted_module_new (modules[i].text, modules[i].description,
                                             LLMSBX_SECURITY_ISSUE_SEVERITY_HIGH);
      llmsbx_security_policy_add_restricted_module (catalogue, module);
      found = TRUE;
    }

  return found ? g_steal_pointer (&catalogue) : NULL;
}

char *
llmsbx_language_handlers_capture_source (const char *name)
{
  g_autofree char *path = g_strconcat ("/io/llmsbx/languages/", name, NULL);
  g_autoptr(GBytes) bytes = g_resources_lookup_data (path, G_RESOURCE_LOOKUP_FLAGS_NONE, NULL);

  /* Built into this plugin: missing only if the build is broken. */
  g_assert (bytes != NULL);
  return g_strndup (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
}
