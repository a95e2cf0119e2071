/* test-plugin-path.c: a language plugin dropped into a directory on
 * LLMSBX_PLUGIN_PATH is found next to the installed ones (here: the build
 * tree's, through LLMSBX_PLUGIN_SYSTEM_PATH). */
#include <llmsbx.h>

static void
test_example_plugin_found (void)
{
  LlmsbxRegistry *registry = llmsbx_registry_get_default ();
  g_auto(GStrv) languages = llmsbx_registry_list_languages (registry);
  g_auto(GStrv) errors = llmsbx_registry_list_plugin_errors (registry);
  g_auto(GStrv) plugins = llmsbx_registry_list_plugins (registry);

  g_assert_cmpstrv (errors, ((const char *[]) { NULL }));
  g_assert_true (g_strv_contains ((const char * const *) plugins, "example-shell"));
  g_assert_true (g_strv_contains ((const char * const *) plugins, "languages"));
  g_assert_true (g_strv_contains ((const char * const *) languages, "shell"));
  g_assert_true (g_strv_contains ((const char * const *) languages, "python"));
}

static void
test_example_handler (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(LlmsbxLanguageHandler) shell =
    llmsbx_registry_lookup_language (llmsbx_registry_get_default (), "Shell", &error);
  g_autoptr(LlmsbxRuntimeContext) context = llmsbx_runtime_context_new ("/sandbox", FALSE);
  g_auto(GStrv) run = NULL;
  g_autofree char *extension = NULL;
  g_autofree char *pattern = NULL;
  g_autofree char *stripped = NULL;
  g_autoptr(GRegex) regex = NULL;

  g_assert_no_error (error);
  extension = llmsbx_language_handler_get_file_extension (shell);
  g_assert_cmpstr (extension, ==, "sh");
  run = llmsbx_language_handler_get_run_commands (shell, context);
  g_assert_cmpstrv (run, ((const char *[]) { "sh {file}", NULL }));
  g_assert_false (llmsbx_language_handler_supports_library_installation (shell, context));

  pattern = llmsbx_language_handler_get_import_pattern (shell, "lib.sh");
  regex = g_regex_new (pattern, 0, 0, &error);
  g_assert_no_error (error);
  g_assert_true (g_regex_match (regex, "set -e\n. lib.sh\n", 0, NULL));
  g_assert_true (g_regex_match (regex, "  source lib.sh", 0, NULL));
  g_assert_false (g_regex_match (regex, ". libXsh", 0, NULL));
  g_assert_false (g_regex_match (regex, "echo . lib.sh", 0, NULL));

  stripped = llmsbx_language_handler_strip_comments (shell, "echo '#kept' # gone");
  g_assert_null (strstr (stripped, "gone"));
  g_assert_nonnull (strstr (stripped, "echo '#kept'"));
}

int
main (int   argc,
      char *argv[])
{
  /* Before anything reads it: the default registry builds its search path once. */
  g_setenv ("LLMSBX_PLUGIN_PATH", EXAMPLE_PLUGIN_DIR, TRUE);
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/plugin-path/example-plugin-found", test_example_plugin_found);
  g_test_add_func ("/plugin-path/example-handler", test_example_handler);

  return g_test_run ();
}
