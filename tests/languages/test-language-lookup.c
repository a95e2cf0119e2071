/* test-language-lookup.c: the seven languages of libllmsbx-languages.so, found
 * by name without regard to case; an unknown name lists them. */
#include <llmsbx.h>
#include <string.h>

static const char * const languages[] = { "cpp", "go", "java", "javascript", "python", "r", "ruby" };

static LlmsbxRegistry *
load_registry (void)
{
  LlmsbxRegistry *registry = llmsbx_registry_new ();
  g_autoptr(GError) error = NULL;

  g_assert_true (llmsbx_registry_load_plugin (registry, LANGUAGES_PLUGIN, &error));
  g_assert_no_error (error);
  return registry;
}

static void
test_all_registered (void)
{
  g_autoptr(LlmsbxRegistry) registry = load_registry ();
  g_auto(GStrv) names = llmsbx_registry_list_languages (registry);

  g_assert_cmpuint (g_strv_length (names), ==, G_N_ELEMENTS (languages));
  for (gsize i = 0; i < G_N_ELEMENTS (languages); i++)
    g_assert_true (g_strv_contains ((const char * const *) names, languages[i]));
}

static void
test_case_insensitive (void)
{
  g_autoptr(LlmsbxRegistry) registry = load_registry ();
  static const char * const spellings[][2] = {
    { "Python", "python" },
    { "JAVASCRIPT", "javascript" },
    { "JavaScript", "javascript" },
    { "Java", "java" },
    { "CPP", "cpp" },
    { "Go", "go" },
    { "RUBY", "ruby" },
    { "R", "r" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (spellings); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(LlmsbxLanguageHandler) handler = llmsbx_registry_lookup_language (registry, spellings[i][0], &error);
      g_autoptr(LlmsbxLanguageHandler) canonical = llmsbx_registry_lookup_language (registry, spellings[i][1], NULL);
      g_autofree char *name = NULL;

      g_assert_no_error (error);
      g_assert_true (handler == canonical);
      name = llmsbx_language_handler_get_name (handler);
      g_assert_cmpstr (name, ==, spellings[i][1]);
    }
}

static void
test_unknown_lists_available (void)
{
  g_autoptr(LlmsbxRegistry) registry = load_registry ();
  g_autoptr(GError) error = NULL;
  g_autoptr(LlmsbxLanguageHandler) handler = llmsbx_registry_lookup_language (registry, "cobol", &error);

  g_assert_null (handler);
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_LANGUAGE_NOT_SUPPORTED);
  g_assert_nonnull (strstr (error->message, "'cobol'"));
  g_assert_true (g_str_has_suffix (error->message, "available: cpp, go, java, javascript, python, r, ruby"));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/language-lookup/all-registered", test_all_registered);
  g_test_add_func ("/language-lookup/case-insensitive", test_case_insensitive);
  g_test_add_func ("/language-lookup/unknown-lists-available", test_unknown_lists_available);

  return g_test_run ();
}
