/* handler-test.c: what the language handler tests share. */
#include "handler-test.h"

LlmsbxLanguageHandler *
handler_test_load (const char *name)
{
  g_autoptr(LlmsbxRegistry) registry = llmsbx_registry_new ();
  g_autoptr(GError) error = NULL;
  LlmsbxLanguageHandler *handler;

  g_assert_true (llmsbx_registry_load_plugin (registry, LANGUAGES_PLUGIN, &error));
  g_assert_no_error (error);
  handler = llmsbx_registry_lookup_language (registry, name, &error);
  g_assert_no_error (error);
  g_assert_nonnull (handler);
  return handler;
}

char *
handler_test_expand (const char *template_,
                     const char *file,
                     const char *library)
{
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) argv = llmsbx_expand_command_template (template_, file, "/sand box", library, &error);

  g_assert_no_error (error);
  return g_strjoinv ("|", argv);
}

char *
handler_test_commands (char      **templates,
                       const char *file,
                       const char *library)
{
  GString *out = g_string_new ("");

  for (guint i = 0; templates[i] != NULL; i++)
    {
      g_autofree char *argv = handler_test_expand (templates[i], file, library);

      g_string_append_printf (out, "%s%s", i > 0 ? "\n" : "", argv);
    }
  g_strfreev (templates);
  return g_string_free (out, FALSE);
}

void
handler_test_assert_description (LlmsbxLanguageHandler *handler,
                                 const char            *name,
                                 const char            *extension,
                                 const char            *image)
{
  g_autofree char *got_name = llmsbx_language_handler_get_name (handler);
  g_autofree char *got_extension = llmsbx_language_handler_get_file_extension (handler);
  g_autofree char *got_image = llmsbx_language_handler_get_default_image (handler);

  g_assert_cmpstr (got_name, ==, name);
  g_assert_cmpstr (got_extension, ==, extension);
  g_assert_cmpstr (got_image, ==, image);
}

gboolean
handler_test_matches (LlmsbxLanguageHandler *handler,
                      const char            *module,
                      const char            *code)
{
  g_autofree char *pattern = llmsbx_language_handler_get_import_pattern (handler, module);
  g_autoptr(GRegex) regex = NULL;
  g_autoptr(GError) error = NULL;
  gboolean matched;

  g_assert_nonnull (pattern);
  regex = g_regex_new (pattern, 0, 0, &error);
  g_assert_no_error (error);
  matched = g_regex_match_full (regex, code, -1, 0, 0, NULL, &error);
  g_assert_no_error (error);
  return matched;
}

gboolean
handler_test_scans (LlmsbxLanguageHandler *handler,
                    const char            *module,
                    const char            *code)
{
  g_autofree char *stripped = llmsbx_language_handler_strip_comments (handler, code);

  return handler_test_matches (handler, module, stripped);
}

void
handler_test_assert_imports (LlmsbxLanguageHandler *handler,
                             const ImportCase      *imports,
                             gsize                  n_imports,
                             const ImportCase      *not_imports,
                             gsize                  n_not_imports)
{
  for (gsize i = 0; i < n_imports; i++)
    {
      g_test_message ("should import %s: %s", imports[i].module, imports[i].code);
      g_assert_true (handler_test_scans (handler, imports[i].module, imports[i].code));
    }
  for (gsize i = 0; i < n_not_imports; i++)
    {
      g_test_message ("should not import %s: %s", not_imports[i].module, not_imports[i].code);
      g_assert_false (handler_test_scans (handler, not_imports[i].module, not_imports[i].code));
    }
}

void
handler_test_assert_strips (LlmsbxLanguageHandler *handler,
                            const StripCase       *cases,
                            gsize                  n_cases)
{
  for (gsize i = 0; i < n_cases; i++)
    {
      g_autofree char *stripped = llmsbx_language_handler_strip_comments (handler, cases[i].code);

      g_test_message ("strip: %s -> %s", cases[i].code, stripped);
      g_assert_nonnull (strstr (stripped, cases[i].kept));
      if (cases[i].removed != NULL)
        g_assert_null (strstr (stripped, cases[i].removed));
    }
}

void
handler_test_assert_hostile (LlmsbxLanguageHandler *handler,
                             const char            *module,
                             const char            *unit,
                             gboolean               expected)
{
  GString *code = g_string_sized_new (256 * 1024 + strlen (unit));

  while (code->len < 256 * 1024)
    g_string_append (code, unit);

  g_test_message ("hostile: %s repeated", unit);
  g_assert_cmpint (handler_test_matches (handler, module, code->str), ==, expected);
  g_string_free (code, TRUE);
}
