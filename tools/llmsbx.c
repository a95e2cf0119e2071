/* llmsbx.c: the llmsbx command-line program, dispatching to its commands. */
#include <locale.h>
#include <llmsbx.h>

#include "llmsbx-tool.h"

typedef struct {
  const char *name;
  const char *summary;
  int (*func) (int argc, char **argv);
} Command;

static const Command commands[] = {
  { "run", "Run code in a sandbox and exit with its exit status", llmsbx_tool_run },
  { "check", "Check code against a security policy without running it", llmsbx_tool_check },
  { "backends", "List the sandbox backends that are installed", llmsbx_tool_backends },
  { "languages", "List the languages that are installed", llmsbx_tool_languages },
  { "images", "Build or list the sandbox images of the languages", llmsbx_tool_images },
  { "gc", "Remove the sandboxes of processes that are gone", llmsbx_tool_gc },
#ifdef LLMSBX_TOOL_HAVE_MCP
  { "mcp", "Serve the Model Context Protocol to LLM clients (stdio or HTTP)", llmsbx_tool_mcp },
#endif
};

static const Command *
find_command (const char *name)
{
  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    if (g_str_equal (commands[i].name, name))
      return &commands[i];
  return NULL;
}

static char *
commands_summary (void)
{
  GString *text = g_string_new ("Commands:\n");

  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    g_string_append_printf (text, "  %-12s%s\n", commands[i].name, commands[i].summary);
  g_string_append_printf (text, "  %-12s%s\n\n", "help", "Show help for the program or a command");
  g_string_append (text, "Run 'llmsbx COMMAND --help' for the options of a command.");
  return g_string_free (text, FALSE);
}

/* Hands the rest of the command line to a command. It is named "llmsbx
 * COMMAND" in its messages, and in its --help through the program name. */
static int
run_command (const Command *command,
             int            argc,
             char         **argv)
{
  g_autofree char *name = g_strdup_printf ("llmsbx %s", command->name);

  g_set_prgname (name);
  argv[0] = name;
  return command->func (argc, argv);
}

gboolean
llmsbx_tool_parse_options (GOptionContext *context,
                           int            *argc,
                           char         ***argv)
{
  g_autoptr(GError) error = NULL;

  if (g_option_context_parse (context, argc, argv, &error))
    return TRUE;

  llmsbx_tool_usage_error ((*argv)[0], "%s", error->message);
  return FALSE;
}

int
llmsbx_tool_usage_error (const char *command,
                         const char *format,
                         ...)
{
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);

  g_printerr ("llmsbx: %s\nTry '%s --help' for more information.\n", message, command);
  return LLMSBX_TOOL_EXIT_USAGE;
}

int
llmsbx_tool_fail (const GError *error)
{
  g_printerr ("llmsbx: %s\n", error->message);
  return LLMSBX_TOOL_EXIT_FAILURE;
}

int
main (int    argc,
      char **argv)
{
  gboolean version = FALSE;
  const GOptionEntry entries[] = {
    { "version", 0, 0, G_OPTION_ARG_NONE, &version, "Show the version and exit", NULL },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr(GOptionContext) context = NULL;
  g_autofree char *summary = commands_summary ();
  const Command *command;

  setlocale (LC_ALL, "");
  argv[0] = (char *) "llmsbx";
  g_set_prgname (argv[0]);

  context = g_option_context_new ("COMMAND [ARGUMENT…]");
  g_option_context_set_summary (context, "Run untrusted code in Docker, Podman and Kubernetes sandboxes.");
  g_option_context_set_description (context, summary);
  g_option_context_add_main_entries (context, entries, NULL);
  /* Stop at the command: its options are its own. */
  g_option_context_set_strict_posix (context, TRUE);

  if (!llmsbx_tool_parse_options (context, &argc, &argv))
    return LLMSBX_TOOL_EXIT_USAGE;

  if (version)
    {
      g_print ("llmsbx %s\n", LLMSBX_VERSION_S);
      return EXIT_SUCCESS;
    }

  if (argc < 2)
    {
      g_autoptr(GString) names = g_string_new (NULL);

      for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
        g_string_append_printf (names, "%s%s", i ? ", " : "", commands[i].name);
      return llmsbx_tool_usage_error ("llmsbx", "a command is needed (%s)", names->str);
    }

  if (g_str_equal (argv[1], "help"))
    {
      g_autofree char *help = NULL;

      if (argc > 3)
        return llmsbx_tool_usage_error ("llmsbx help", "give at most one command");
      if (argc == 3)
        {
          char *help_argv[] = { argv[0], argv[2], (char *) "--help", NULL };

          command = find_command (argv[2]);
          if (command == NULL)
            return llmsbx_tool_usage_error ("llmsbx", "unknown command '%s'", argv[2]);
          return run_command (command, 2, help_argv + 1);
        }
      help = g_option_context_get_help (context, TRUE, NULL);
      g_print ("%s", help);
      return EXIT_SUCCESS;
    }

  command = find_command (argv[1]);
  if (command == NULL)
    return llmsbx_tool_usage_error ("llmsbx", "unknown command '%s'", argv[1]);

  return run_command (command, argc - 1, argv + 1);
}
