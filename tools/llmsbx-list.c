/* llmsbx-list.c: `llmsbx backends` and `llmsbx languages`, what the plugin registry holds. */
#include <llmsbx.h>

#include "llmsbx-tool.h"

typedef char **(*ListFunc) (LlmsbxRegistry *registry);

static int
list_registry (int         argc,
               char      **argv,
               const char *summary,
               ListFunc    list)
{
  g_autoptr(GOptionContext) context = g_option_context_new (NULL);
  LlmsbxRegistry *registry;
  g_auto(GStrv) names = NULL;
  g_auto(GStrv) plugin_errors = NULL;

  g_option_context_set_summary (context, summary);
  if (!llmsbx_tool_parse_options (context, &argc, &argv))
    return LLMSBX_TOOL_EXIT_USAGE;
  if (argc > 1)
    return llmsbx_tool_usage_error (argv[0], "unexpected argument '%s'", argv[1]);

  registry = llmsbx_registry_get_default ();
  names = list (registry);
  for (guint i = 0; names[i] != NULL; i++)
    g_print ("%s\n", names[i]);

  /* A plugin that failed to load explains a name missing from the list. */
  plugin_errors = llmsbx_registry_list_plugin_errors (registry);
  for (guint i = 0; plugin_errors != NULL && plugin_errors[i] != NULL; i++)
    g_printerr ("llmsbx: warning: %s\n", plugin_errors[i]);

  return EXIT_SUCCESS;
}

int
llmsbx_tool_backends (int    argc,
                      char **argv)
{
  return list_registry (argc, argv, "Lists the sandbox backends, one per line.",
                        llmsbx_registry_list_backends);
}

int
llmsbx_tool_languages (int    argc,
                       char **argv)
{
  return list_registry (argc, argv, "Lists the languages code can be run in, one per line.",
                        llmsbx_registry_list_languages);
}
