/* llmsbx-list.c: `llmsbx backends` and `llmsbx languages`, what the plugin registry holds. */
#include <string.h>

#include <llmsbx.h>

#include "llmsbx-tool.h"

typedef char **(*ListFunc) (LlmsbxRegistry *registry);
typedef void   (*DescribeFunc) (LlmsbxRegistry *registry, const char *name, gsize width);

/* NAME RANK, then whether it answers: what the registry weighs when a session
 * names no backend. */
static void
describe_backend (LlmsbxRegistry *registry,
                  const char     *name,
                  gsize           width)
{
  g_autofree char *rank = llmsbx_rank_to_string (llmsbx_registry_get_backend_rank (registry, name));
  g_autoptr(LlmsbxBackend) backend = llmsbx_registry_create_backend (registry, name, NULL);
  g_autoptr(GError) error = NULL;

  if (backend != NULL && llmsbx_backend_probe (backend, NULL, &error))
    g_print ("%-*s  %-9s  usable\n", (int) width, name, rank);
  else
    g_print ("%-*s  %-9s  unusable: %s\n", (int) width, name, rank,
             error != NULL ? error->message : "it cannot be created");
}

/* NAME, then one line per setting it declares: what --backend-setting takes. */
static void
describe_settings (LlmsbxRegistry *registry,
                   const char     *name)
{
  g_autoptr(LlmsbxBackend) backend = llmsbx_registry_create_backend (registry, name, NULL);
  g_autoptr(GPtrArray) settings = backend != NULL ? llmsbx_backend_list_settings (backend) : NULL;

  g_print ("%s\n", name);
  for (guint i = 0; settings != NULL && i < settings->len; i++)
    {
      GParamSpec *spec = settings->pdata[i];
      GType type = spec->value_type;
      const char *kind = type == G_TYPE_STRING ? "text" : type == G_TYPE_BOOLEAN ? "true|false"
                         : type == G_TYPE_DOUBLE ? "number" : "integer";
      const char *blurb = g_param_spec_get_blurb (spec);

      g_print ("  %s=%s%s%s\n", spec->name, kind, blurb != NULL ? "  " : "", blurb != NULL ? blurb : "");
    }
}

static int
list_registry (int           argc,
               char        **argv,
               const char   *summary,
               ListFunc      list,
               DescribeFunc  describe)
{
  g_autoptr(GOptionContext) context = g_option_context_new (NULL);
  gboolean long_format = FALSE;
  gboolean settings = FALSE;
  const GOptionEntry entries[] = {
    { "long", 'l', 0, G_OPTION_ARG_NONE, &long_format,
      "Also show each backend's rank and whether it answers here", NULL },
    { "settings", 0, 0, G_OPTION_ARG_NONE, &settings,
      "Show the settings each backend declares (what --backend-setting takes)", NULL },
    G_OPTION_ENTRY_NULL
  };
  LlmsbxRegistry *registry;
  g_auto(GStrv) names = NULL;
  g_auto(GStrv) plugin_errors = NULL;
  gsize width = 0;

  g_option_context_set_summary (context, summary);
  if (describe != NULL)
    g_option_context_add_main_entries (context, entries, NULL);
  if (!llmsbx_tool_parse_options (context, &argc, &argv))
    return LLMSBX_TOOL_EXIT_USAGE;
  if (argc > 1)
    return llmsbx_tool_usage_error (argv[0], "unexpected argument '%s'", argv[1]);
  if (long_format && settings)
    return llmsbx_tool_usage_error (argv[0], "give either --long or --settings, not both");

  registry = llmsbx_registry_get_default ();
  names = list (registry);
  for (guint i = 0; names[i] != NULL; i++)
    width = MAX (width, strlen (names[i]));
  for (guint i = 0; names[i] != NULL; i++)
    {
      if (long_format)
        describe (registry, names[i], width);
      else if (settings)
        describe_settings (registry, names[i]);
      else
        g_print ("%s\n", names[i]);
    }

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
  return list_registry (argc, argv,
                        "Lists the sandbox backends, one per line. With --long, also their rank and\n"
                        "whether each answers: a session that names no backend takes the first that\n"
                        "answers by falling rank, or the one LLMSBX_BACKEND names.",
                        llmsbx_registry_list_backends, describe_backend);
}

int
llmsbx_tool_languages (int    argc,
                       char **argv)
{
  return list_registry (argc, argv, "Lists the languages code can be run in, one per line.",
                        llmsbx_registry_list_languages, NULL);
}
