/* fuzz-security.c: a libFuzzer target for comment stripping and the security
 * scanner, the code that reads hostile source text before anything else does.
 *
 * The first byte of an input picks a comment syntax and a language; the rest
 * is the code, checked as given (often not UTF-8) and made valid. Besides
 * ASan's checks, each run asserts what callers rely on: stripping never makes
 * code longer or breaks UTF-8, and the scanner either fails with an error it
 * documents and no verdict, or gives a verdict consistent with its findings. */
#include <string.h>

#include <llmsbx.h>

/* Inputs beyond this size only slow the search down. */
#define MAX_FUZZ_INPUT (64 * 1024)

static const char * const hash[] = { "#", NULL };
static const char * const slashes[] = { "//", NULL };
static const char * const several[] = { "#", "//", "--", NULL };

static const LlmsbxCommentSyntax syntaxes[] = {
  { hash, NULL, NULL, "\"'", TRUE, TRUE },
  { slashes, "/*", "*/", "\"'`", FALSE, TRUE },
  { hash, "=begin", "=end", "\"'", FALSE, TRUE },
  { slashes, "/*", "*/", "\"", FALSE, FALSE },
  { several, "--[[", "]]", "'", TRUE, FALSE },
  { NULL, "(*", "*)", NULL, FALSE, FALSE },
  { hash, "\"\"\"", "\"\"\"", "'", FALSE, TRUE },
  { NULL, NULL, NULL, NULL, FALSE, FALSE },
};

static const char * const languages[] = { "python", "javascript", "java", "cpp", "go", "ruby", "r" };

static LlmsbxLanguageHandler *handlers[G_N_ELEMENTS (languages)];
static LlmsbxSecurityPolicy *policies[G_N_ELEMENTS (languages)];

int LLVMFuzzerInitialize (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

int
LLVMFuzzerInitialize (int    *argc,
                      char ***argv)
{
  LlmsbxRegistry *registry = llmsbx_registry_get_default ();

  for (gsize i = 0; i < G_N_ELEMENTS (languages); i++)
    {
      g_autoptr(LlmsbxSecurityPreset) preset = NULL;
      g_autoptr(GError) error = NULL;

      handlers[i] = llmsbx_registry_lookup_language (registry, languages[i], &error);
      if (handlers[i] == NULL)
        g_error ("%s (is LLMSBX_PLUGIN_SYSTEM_PATH set to the build's plugins?)", error->message);

      /* strict holds every pattern and module of the language. */
      preset = llmsbx_get_security_preset ("strict", languages[i], "docker", &error);
      g_assert_no_error (error);
      policies[i] = g_object_ref (llmsbx_security_preset_get_security_policy (preset));
    }
  return 0;
}

static void
check_stripped (const char *code,
                const char *stripped)
{
  g_assert (stripped != NULL);
  g_assert (strlen (stripped) <= strlen (code));
  g_assert (g_utf8_validate (stripped, -1, NULL));
}

static void
check_scan (LlmsbxSecurityPolicy  *policy,
            LlmsbxLanguageHandler *handler,
            const char            *code)
{
  g_autoptr(GPtrArray) violations = NULL;
  g_autoptr(GError) error = NULL;
  LlmsbxSecurityIssueSeverity threshold = llmsbx_security_policy_get_severity_threshold (policy);
  gboolean safe, blocking = FALSE;

  safe = llmsbx_security_policy_check (policy, handler, code, &violations, &error);
  if (error != NULL)
    {
      /* Not UTF-8, or the regex engine gave up: refused, without a verdict. */
      g_assert (g_error_matches (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT) ||
                g_error_matches (error, LLMSBX_ERROR, LLMSBX_ERROR_SECURITY_VIOLATION));
      g_assert (!safe);
      g_assert (violations == NULL);
      return;
    }

  g_assert (violations != NULL);
  for (guint i = 0; i < violations->len; i++)
    if (llmsbx_security_pattern_get_severity (g_ptr_array_index (violations, i)) >= threshold)
      blocking = TRUE;
  g_assert (safe == !blocking);
}

int
LLVMFuzzerTestOneInput (const guint8 *data,
                        size_t        size)
{
  g_autofree char *raw = NULL;
  g_autofree char *code = NULL;
  g_autofree char *stripped = NULL;
  g_autofree char *stripped_raw = NULL;
  g_autofree char *by_handler = NULL;
  guint8 selector;
  gsize language;

  if (size == 0 || size > MAX_FUZZ_INPUT)
    return 0;

  selector = data[0];
  raw = g_strndup ((const char *) data + 1, size - 1);
  code = g_utf8_make_valid (raw, -1);
  language = (selector >> 3) % G_N_ELEMENTS (languages);

  stripped = llmsbx_strip_comments (code, &syntaxes[selector % G_N_ELEMENTS (syntaxes)]);
  check_stripped (code, stripped);

  /* Bytes that are not UTF-8 must not crash it either. */
  stripped_raw = llmsbx_strip_comments (raw, &syntaxes[selector % G_N_ELEMENTS (syntaxes)]);
  g_assert (strlen (stripped_raw) <= strlen (raw));

  by_handler = llmsbx_language_handler_strip_comments (handlers[language], code);
  check_stripped (code, by_handler);

  check_scan (policies[language], handlers[language], (selector & 0x80) ? raw : code);
  return 0;
}
