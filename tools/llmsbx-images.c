/* llmsbx-images.c: `llmsbx images build|list`, a front end to the offline
 * image builder (images/build-offline.sh), which owns the recipe format. */
#include <signal.h>
#include <sys/auxv.h>
#include <sys/wait.h>
#include <llmsbx.h>

#include "llmsbx-tool.h"

#define BUILDER_SCRIPT "build-offline.sh"

static char *
images_dir (void)
{
  const char *dir = NULL;

  /* As with the plugin path: a setuid program never runs scripts its environment names. */
  if (getauxval (AT_SECURE) == 0)
    dir = g_getenv ("LLMSBX_IMAGES_DIR");
  return g_strdup (dir != NULL && dir[0] != '\0' ? dir : LLMSBX_IMAGESDIR);
}

static void
restore_default_signals (gpointer user_data)
{
  signal (SIGINT, SIG_DFL);
  signal (SIGQUIT, SIG_DFL);
}

/* Runs the builder with @args, sharing our stdin, stdout and stderr, and
 * returns its exit status (128 + N when signal N ended it). Like system(3), we
 * ignore the terminal's interrupt while it runs: it gets the signal, cleans up
 * after itself and reports through its exit status. */
static int
run_builder (GPtrArray *args)
{
  g_autofree char *dir = images_dir ();
  g_autofree char *script = g_build_filename (dir, BUILDER_SCRIPT, NULL);
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GError) error = NULL;
  void (*old_int) (int);
  void (*old_quit) (int);
  gboolean spawned;
  int wait_status = 0;

  if (!g_file_test (script, G_FILE_TEST_IS_REGULAR))
    {
      g_printerr ("llmsbx: %s not found: no image recipes in %s; set LLMSBX_IMAGES_DIR to the "
                  "images directory of a libllmsbx source tree\n", BUILDER_SCRIPT, dir);
      return LLMSBX_TOOL_EXIT_FAILURE;
    }

  /* Through sh, so the script need not keep its executable bit. */
  g_ptr_array_add (argv, (char *) "/bin/sh");
  g_ptr_array_add (argv, script);
  for (guint i = 0; i < args->len; i++)
    g_ptr_array_add (argv, args->pdata[i]);
  g_ptr_array_add (argv, NULL);

  old_int = signal (SIGINT, SIG_IGN);
  old_quit = signal (SIGQUIT, SIG_IGN);
  spawned = g_spawn_sync (NULL, (char **) argv->pdata, NULL, G_SPAWN_CHILD_INHERITS_STDIN,
                          restore_default_signals, NULL, NULL, NULL, &wait_status, &error);
  signal (SIGINT, old_int);
  signal (SIGQUIT, old_quit);

  if (!spawned)
    {
      g_prefix_error (&error, "Could not run %s: ", script);
      return llmsbx_tool_fail (error);
    }
  if (WIFEXITED (wait_status))
    return WEXITSTATUS (wait_status);
  if (WIFSIGNALED (wait_status))
    return 128 + WTERMSIG (wait_status);
  return LLMSBX_TOOL_EXIT_FAILURE;
}

static int
images_build (int    argc,
              char **argv)
{
  g_autofree char *engine = NULL;
  g_autofree char *from = NULL;
  gboolean force = FALSE;
  gboolean all = FALSE;
  const GOptionEntry entries[] = {
    { "engine", 0, 0, G_OPTION_ARG_STRING, &engine,
      "Build for this backend: docker (default), podman, or bubblewrap (its image store)", "BACKEND" },
    { "backend", 0, 0, G_OPTION_ARG_STRING, &engine, "The same as --engine", "BACKEND" },
    { "from", 0, 0, G_OPTION_ARG_STRING, &from,
      "With --backend bubblewrap: take the tree from this engine's image (docker or podman) when it has the "
      "current recipe, instead of building it again", "ENGINE" },
    { "force", 0, 0, G_OPTION_ARG_NONE, &force, "Rebuild even when the image is up to date", NULL },
    { "all", 0, 0, G_OPTION_ARG_NONE, &all, "Build the image of every language (the default)", NULL },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr(GOptionContext) context = g_option_context_new ("[LANG…]");
  g_autoptr(GPtrArray) args = g_ptr_array_new ();

  g_option_context_set_summary (context,
    "Builds sandbox images offline from Debian packages (mmdebstrap, then an import\n"
    "into the engine, or an unpacked tree in the bubblewrap store). An image whose\n"
    "recipe has not changed is not rebuilt.");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!llmsbx_tool_parse_options (context, &argc, &argv))
    return LLMSBX_TOOL_EXIT_USAGE;
  if (all && argc > 1)
    return llmsbx_tool_usage_error (argv[0], "give languages or --all, not both");

  if (engine != NULL)
    {
      g_ptr_array_add (args, (char *) "--engine");
      g_ptr_array_add (args, engine);
    }
  if (from != NULL)
    {
      g_ptr_array_add (args, (char *) "--from");
      g_ptr_array_add (args, from);
    }
  if (force)
    g_ptr_array_add (args, (char *) "--force");
  if (argc == 1)
    g_ptr_array_add (args, (char *) "--all");
  else
    {
      g_ptr_array_add (args, (char *) "--");
      for (int i = 1; i < argc; i++)
        g_ptr_array_add (args, argv[i]);
    }

  return run_builder (args);
}

static int
images_list (int    argc,
             char **argv)
{
  g_autofree char *engine = NULL;
  const GOptionEntry entries[] = {
    { "engine", 0, 0, G_OPTION_ARG_STRING, &engine,
      "Check the images of this backend: docker (default), podman or bubblewrap", "BACKEND" },
    { "backend", 0, 0, G_OPTION_ARG_STRING, &engine, "The same as --engine", "BACKEND" },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr(GOptionContext) context = g_option_context_new (NULL);
  g_autoptr(GPtrArray) args = g_ptr_array_new ();

  g_option_context_set_summary (context,
    "Lists the image recipes, one per line: language, image name and whether the\n"
    "engine has the image built from the current recipe (up-to-date, modified, outdated or missing).");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!llmsbx_tool_parse_options (context, &argc, &argv))
    return LLMSBX_TOOL_EXIT_USAGE;
  if (argc > 1)
    return llmsbx_tool_usage_error (argv[0], "unexpected argument '%s'", argv[1]);

  if (engine != NULL)
    {
      g_ptr_array_add (args, (char *) "--engine");
      g_ptr_array_add (args, engine);
    }
  g_ptr_array_add (args, (char *) "--list");

  return run_builder (args);
}

int
llmsbx_tool_images (int    argc,
                    char **argv)
{
  g_autoptr(GOptionContext) context = g_option_context_new ("build|list [ARGUMENT…]");
  g_autofree char *name = NULL;
  int (*func) (int, char **);

  g_option_context_set_summary (context,
    "Commands:\n"
    "  build    Build the image of a language, or of all of them\n"
    "  list     List the recipes and the state of their images\n\n"
    "Run 'llmsbx images COMMAND --help' for the options of a command.");
  g_option_context_set_strict_posix (context, TRUE);
  if (!llmsbx_tool_parse_options (context, &argc, &argv))
    return LLMSBX_TOOL_EXIT_USAGE;
  if (argc < 2)
    return llmsbx_tool_usage_error (argv[0], "a command is needed: build or list");

  if (g_str_equal (argv[1], "build"))
    func = images_build;
  else if (g_str_equal (argv[1], "list"))
    func = images_list;
  else
    return llmsbx_tool_usage_error (argv[0], "unknown command '%s' (build or list)", argv[1]);

  name = g_strdup_printf ("%s %s", argv[0], argv[1]);
  g_set_prgname (name);
  argv[1] = name;
  return func (argc - 1, argv + 1);
}
