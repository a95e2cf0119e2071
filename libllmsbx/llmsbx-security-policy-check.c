/* llmsbx-security-policy-check.c: checking code and library names against a
 * security policy.
 *
 * The scan fails closed: whatever keeps it from giving an answer (an invalid
 * pattern, a language that cannot recognise imports, a regex engine that gives
 * up on hostile input) is an error, never "safe". */
#include "config.h"

#include <string.h>

#include "llmsbx-security-policy.h"
#include "llmsbx-security-private.h"
#include "llmsbx-error.h"

/* The texts a pattern is matched against: the code without its comments and,
 * when it differs, its NFKC normalisation. Python reads identifiers in NFKC,
 * so `ｏｓ.ｓｙｓｔｅｍ('ls')` runs os.system; the normalised text shows it. */
static GPtrArray *
texts_to_scan (LlmsbxLanguageHandler *handler,
               const char            *code)
{
  GPtrArray *texts = g_ptr_array_new_with_free_func (g_free);
  char *stripped = handler ? llmsbx_language_handler_strip_comments (handler, code) : NULL;
  char *normalized;

  /* A handler written in another language may return anything: the code
   * itself is the safe fallback. */
  if (stripped == NULL || !g_utf8_validate (stripped, -1, NULL))
    {
      g_free (stripped);
      stripped = g_strdup (code);
    }
  g_ptr_array_add (texts, stripped);

  normalized = g_utf8_normalize (stripped, -1, G_NORMALIZE_NFKC);
  if (normalized != NULL && strcmp (normalized, stripped) != 0)
    g_ptr_array_add (texts, normalized);
  else
    g_free (normalized);

  return texts;
}

static gboolean
search_texts (LlmsbxSecurityPattern  *pattern,
              GPtrArray              *texts,
              gboolean               *matched,
              GError                **error)
{
  *matched = FALSE;
  for (guint i = 0; i < texts->len && !*matched; i++)
    if (!llmsbx_security_pattern_search (pattern, g_ptr_array_index (texts, i), matched, error))
      return FALSE;
  return TRUE;
}

/* The language's import regex for @module, as a pattern carrying the module's
 * description and severity. */
static LlmsbxSecurityPattern *
module_pattern (LlmsbxLanguageHandler   *handler,
                LlmsbxRestrictedModule  *module,
                GError                 **error)
{
  const char *name = llmsbx_restricted_module_get_name (module);
  g_autofree char *lang = NULL;
  g_autofree char *regex = NULL;
  g_autoptr(GError) local_error = NULL;
  LlmsbxSecurityPattern *pattern;

  if (name[0] == '\0')
    {
      g_set_error_literal (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
                           "The security policy has a restricted module without a name");
      return NULL;
    }
  if (handler == NULL)
    {
      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
                   "The restricted module '%s' can only be checked for a language: give a language handler",
                   name);
      return NULL;
    }

  lang = llmsbx_language_handler_get_name (handler);
  regex = llmsbx_language_handler_get_import_pattern (handler, name);
  if (regex == NULL)
    {
      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_LANGUAGE_NOT_SUPPORTED,
                   "The %s language handler cannot recognise imports, so the security policy's "
                   "restricted module '%s' cannot be enforced",
                   lang, name);
      return NULL;
    }

  pattern = llmsbx_security_pattern_new_for_module (regex, name,
                                                    llmsbx_restricted_module_get_description (module),
                                                    llmsbx_restricted_module_get_severity (module),
                                                    &local_error);
  if (pattern == NULL)
    g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
                 "The %s language handler's import pattern for '%s' is not usable: %s",
                 lang, name, local_error->message);
  return pattern;
}

/**
 * llmsbx_security_policy_check:
 * @self: a #LlmsbxSecurityPolicy
 * @handler: (nullable): the language of @code; %NULL scans @code as it is,
 *   comments included, and fails if the policy restricts modules
 * @code: source code (UTF-8)
 * @violations: (out) (optional) (transfer container) (element-type LlmsbxSecurityPattern):
 *   every pattern that matched, blocking or not: the policy's own patterns
 *   first, in their order, then one per restricted module that is imported;
 *   the array holds a reference to each and drops it when freed
 * @error: return location for a #GError
 *
 * Checks code against the policy, without changing the policy: comments are
 * removed first (string literals are kept), then every pattern and the
 * language's import regex of every restricted module are looked for, and all
 * matches are reported.
 *
 * Fails (closed) with %LLMSBX_ERROR_INVALID_ARGUMENT for code that is not
 * UTF-8, an invalid pattern or a nameless module,
 * %LLMSBX_ERROR_LANGUAGE_NOT_SUPPORTED when the policy restricts modules and
 * the language cannot recognise imports, and %LLMSBX_ERROR_SECURITY_VIOLATION
 * when the regular expression engine gives up on the code.
 *
 * Returns: %TRUE when the policy lets the code run, %FALSE when a finding at or
 *   above the threshold blocks it or on error
 *
 * Since: 0.1
 */
gboolean
llmsbx_security_policy_check (LlmsbxSecurityPolicy   *self,
                              LlmsbxLanguageHandler  *handler,
                              const char             *code,
                              GPtrArray             **violations,
                              GError                **error)
{
  g_autoptr(GPtrArray) patterns = NULL;
  g_autoptr(GPtrArray) modules = NULL;
  g_autoptr(GPtrArray) found = NULL;
  g_autoptr(GPtrArray) texts = NULL;
  LlmsbxSecurityIssueSeverity threshold;
  gboolean blocked = FALSE;

  g_return_val_if_fail (LLMSBX_IS_SECURITY_POLICY (self), FALSE);
  g_return_val_if_fail (handler == NULL || LLMSBX_IS_LANGUAGE_HANDLER (handler), FALSE);
  g_return_val_if_fail (code != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (violations != NULL)
    *violations = NULL;

  if (!g_utf8_validate (code, -1, NULL))
    {
      g_set_error_literal (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
                           "Code must be valid UTF-8 to be checked by the security policy");
      return FALSE;
    }

  llmsbx_security_policy_snapshot (self, &threshold, &patterns, &modules);
  found = g_ptr_array_new_with_free_func (g_object_unref);

  if (patterns->len > 0 || modules->len > 0)
    texts = texts_to_scan (handler, code);

  for (guint i = 0; i < patterns->len; i++)
    {
      LlmsbxSecurityPattern *pattern = g_ptr_array_index (patterns, i);
      gboolean matched;

      if (!search_texts (pattern, texts, &matched, error))
        return FALSE;
      if (matched)
        g_ptr_array_add (found, g_object_ref (pattern));
    }

  for (guint i = 0; i < modules->len; i++)
    {
      g_autoptr(LlmsbxSecurityPattern) pattern = module_pattern (handler, g_ptr_array_index (modules, i), error);
      gboolean matched;

      if (pattern == NULL || !search_texts (pattern, texts, &matched, error))
        return FALSE;
      if (matched)
        g_ptr_array_add (found, g_steal_pointer (&pattern));
    }

  for (guint i = 0; i < found->len; i++)
    if (llmsbx_security_severity_blocks (threshold,
                                         llmsbx_security_pattern_get_severity (g_ptr_array_index (found, i))))
      blocked = TRUE;

  if (violations != NULL)
    *violations = g_steal_pointer (&found);
  return !blocked;
}

static void
append_finding (GString                     *message,
                const char                  *description,
                LlmsbxSecurityIssueSeverity  severity,
                const char                  *kind,
                const char                  *what)
{
  if (message->str[message->len - 1] != ':')
    g_string_append_c (message, ';');
  g_string_append_printf (message, " %s [%s, %s %s]",
                          description[0] ? description : "(no description)",
                          llmsbx_security_severity_to_string (severity), kind, what);
}

/* Sets %LLMSBX_ERROR_SECURITY_VIOLATION naming every blocking violation. */
void
llmsbx_security_set_violation_error (GError                      **error,
                                     const char                   *what,
                                     GPtrArray                    *violations,
                                     LlmsbxSecurityIssueSeverity   threshold)
{
  g_autoptr(GString) message = g_string_new (NULL);
  guint below = 0;

  g_string_append_printf (message, "The security policy (threshold %s) blocked %s:",
                          llmsbx_security_severity_to_string (threshold), what);

  for (guint i = 0; i < violations->len; i++)
    {
      LlmsbxSecurityPattern *violation = g_ptr_array_index (violations, i);
      LlmsbxSecurityIssueSeverity severity = llmsbx_security_pattern_get_severity (violation);
      const char *module = llmsbx_security_pattern_get_module (violation);

      if (!llmsbx_security_severity_blocks (threshold, severity))
        {
          below++;
          continue;
        }
      append_finding (message, llmsbx_security_pattern_get_description (violation), severity,
                      module ? "restricted module" : "pattern",
                      module ? module : llmsbx_security_pattern_get_pattern (violation));
    }

  if (below > 0)
    g_string_append_printf (message, " (and %u finding%s below the threshold)", below, below == 1 ? "" : "s");

  g_set_error_literal (error, LLMSBX_ERROR, LLMSBX_ERROR_SECURITY_VIOLATION, message->str);
}

/* A package name as package managers compare it: without a version, extras
 * or tag (`requests==2.31`, `requests[socks]`, `lodash@4`, `json:2.6`), in
 * lower case, with `-`, `_` and `.` the same (Python's rule, harmless elsewhere). */
static char *
package_base_name (const char *library)
{
  /* An npm scope starts with '@'; only a later '@' starts a version. */
  gsize start = library[0] == '@' ? 1 : 0;
  gsize length = start + strcspn (library + start, "=<>!~[;@: ");
  GString *name = g_string_sized_new (length);

  for (gsize i = 0; i < length; i++)
    {
      char c = g_ascii_tolower (library[i]);

      g_string_append_c (name, c == '_' || c == '.' ? '-' : c);
    }
  return g_string_free (name, FALSE);
}

/* Refuses a library named like a restricted module at or above the threshold. */
gboolean
llmsbx_security_policy_check_library (LlmsbxSecurityPolicy  *self,
                                      const char            *library,
                                      GError               **error)
{
  g_autoptr(GPtrArray) patterns = NULL;
  g_autoptr(GPtrArray) modules = NULL;
  g_autoptr(GString) message = NULL;
  g_autofree char *wanted = package_base_name (library);
  LlmsbxSecurityIssueSeverity threshold;

  llmsbx_security_policy_snapshot (self, &threshold, &patterns, &modules);

  for (guint i = 0; i < modules->len; i++)
    {
      LlmsbxRestrictedModule *module = g_ptr_array_index (modules, i);
      LlmsbxSecurityIssueSeverity severity = llmsbx_restricted_module_get_severity (module);
      g_autofree char *name = package_base_name (llmsbx_restricted_module_get_name (module));

      if (!llmsbx_security_severity_blocks (threshold, severity) || !g_str_equal (name, wanted))
        continue;

      if (message == NULL)
        message = g_string_new (NULL);
      g_string_printf (message, "The security policy (threshold %s) blocked installing '%s':",
                       llmsbx_security_severity_to_string (threshold), library);
      append_finding (message, llmsbx_restricted_module_get_description (module), severity,
                      "restricted module", llmsbx_restricted_module_get_name (module));
      break;
    }

  if (message != NULL)
    {
      g_set_error_literal (error, LLMSBX_ERROR, LLMSBX_ERROR_SECURITY_VIOLATION, message->str);
      return FALSE;
    }
  return TRUE;
}
