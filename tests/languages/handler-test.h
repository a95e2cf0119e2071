/* handler-test.h: what the language handler tests share. Handlers come from
 * the built libllmsbx-languages.so (LANGUAGES_PLUGIN), loaded into a registry
 * of their own and used through the LlmsbxLanguageHandler interface, as the
 * session and the security scanner use them. */
#pragma once

#include <llmsbx.h>
#include <string.h>

typedef struct {
  const char *module;
  const char *code;
} ImportCase;

typedef struct {
  const char *code;
  const char *kept;     /* must survive */
  const char *removed;  /* must be gone */
} StripCase;

static inline LlmsbxLanguageHandler *
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

/* Expands @template_ like the session does, with a workdir holding a space,
 * and joins the words with '|'. */
static inline char *
handler_test_expand (const char *template_,
                     const char *file,
                     const char *library)
{
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) argv = llmsbx_expand_command_template (template_, file, "/sand box", library, &error);

  g_assert_no_error (error);
  return g_strjoinv ("|", argv);
}

/* The handler's templates for a context, each expanded and joined with '|',
 * one per line. */
static inline char *
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

static inline void
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

/* Whether the import pattern for @module matches @code, checking that PCRE
 * answers (a match limit reached would be an error, and a way around the
 * scanner). */
static inline gboolean
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

/* What the security scanner does: strip the comments, then match. */
static inline gboolean
handler_test_scans (LlmsbxLanguageHandler *handler,
                    const char            *module,
                    const char            *code)
{
  g_autofree char *stripped = llmsbx_language_handler_strip_comments (handler, code);

  return handler_test_matches (handler, module, stripped);
}

static inline void
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

static inline void
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

/* Code built to make a careless pattern backtrack: @unit repeated to 256 KiB.
 * The pattern must still give an answer (handler_test_matches() fails on a
 * PCRE error such as the match limit), and the answer must be @expected. */
static inline void
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
