/* llmsbx-security-pattern.c: a regular expression that a security policy looks
 * for in code. Immutable once made, so policies and sessions in several threads
 * can share one, and its regex is compiled exactly once. */
#include "config.h"

#include "llmsbx-security-pattern.h"
#include "llmsbx-security-private.h"
#include "llmsbx-enum-types.h"
#include "llmsbx-error.h"

/**
 * LlmsbxSecurityPattern:
 *
 * A regular expression (PCRE, as #GRegex reads it) that a
 * #LlmsbxSecurityPolicy looks for in code, with a description shown to people
 * and a severity.
 *
 * Matching follows Python's `re.search()` without flags: the pattern may match
 * anywhere, `^` and `$` anchor at the start and end of the code unless the
 * pattern asks for `(?m)`, and `\w`, `\d` and `\s` know Unicode.
 *
 * An invalid regular expression is refused when the pattern is made:
 * llmsbx_security_pattern_new() and g_initable_new() fail with
 * %LLMSBX_ERROR_INVALID_ARGUMENT carrying #GRegex's message. A pattern made
 * with g_object_new() alone (as some bindings do) keeps that error and reports
 * it whenever a policy holding it checks code, so an invalid pattern never
 * lets code through unchecked.
 *
 * The patterns that a policy reports as violations are #LlmsbxSecurityPattern
 * objects too: for a restricted module, the pattern is the language's import
 * regex and #LlmsbxSecurityPattern:module names the module.
 *
 * Since: 0.1
 */
struct _LlmsbxSecurityPattern
{
  GObject parent_instance;

  char *pattern;
  char *description;
  char *module;
  LlmsbxSecurityIssueSeverity severity;

  GRegex *regex;
  GError *compile_error;
};

static void llmsbx_security_pattern_initable_init (GInitableIface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (LlmsbxSecurityPattern, llmsbx_security_pattern, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_INITABLE,
                                                      llmsbx_security_pattern_initable_init))

enum {
  PROP_0,
  PROP_PATTERN,
  PROP_DESCRIPTION,
  PROP_SEVERITY,
  PROP_MODULE,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static gboolean
llmsbx_security_pattern_initable_init_vfunc (GInitable     *initable,
                                             GCancellable  *cancellable,
                                             GError       **error)
{
  LlmsbxSecurityPattern *self = LLMSBX_SECURITY_PATTERN (initable);

  if (self->compile_error != NULL)
    {
      g_propagate_error (error, g_error_copy (self->compile_error));
      return FALSE;
    }
  return TRUE;
}

static void
llmsbx_security_pattern_initable_init (GInitableIface *iface)
{
  iface->init = llmsbx_security_pattern_initable_init_vfunc;
}

/* Compiling in constructed() means every way of making a pattern compiles it,
 * whether or not the caller knows about GInitable. */
static void
llmsbx_security_pattern_constructed (GObject *object)
{
  LlmsbxSecurityPattern *self = LLMSBX_SECURITY_PATTERN (object);
  g_autoptr(GError) local_error = NULL;

  G_OBJECT_CLASS (llmsbx_security_pattern_parent_class)->constructed (object);

  if (self->pattern == NULL || self->pattern[0] == '\0')
    {
      g_set_error_literal (&self->compile_error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
                           "A security pattern cannot be empty: it would match any code");
      return;
    }

  self->regex = g_regex_new (self->pattern, G_REGEX_DEFAULT, G_REGEX_MATCH_DEFAULT, &local_error);
  if (self->regex == NULL)
    g_set_error (&self->compile_error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
                 "Invalid security pattern '%s': %s", self->pattern, local_error->message);
}

static void
llmsbx_security_pattern_finalize (GObject *object)
{
  LlmsbxSecurityPattern *self = LLMSBX_SECURITY_PATTERN (object);

  g_free (self->pattern);
  g_free (self->description);
  g_free (self->module);
  g_clear_pointer (&self->regex, g_regex_unref);
  g_clear_error (&self->compile_error);

  G_OBJECT_CLASS (llmsbx_security_pattern_parent_class)->finalize (object);
}

static void
llmsbx_security_pattern_get_property (GObject    *object,
                                      guint       prop_id,
                                      GValue     *value,
                                      GParamSpec *pspec)
{
  LlmsbxSecurityPattern *self = LLMSBX_SECURITY_PATTERN (object);

  switch (prop_id)
    {
    case PROP_PATTERN:
      g_value_set_string (value, self->pattern);
      break;
    case PROP_DESCRIPTION:
      g_value_set_string (value, self->description);
      break;
    case PROP_SEVERITY:
      g_value_set_enum (value, self->severity);
      break;
    case PROP_MODULE:
      g_value_set_string (value, self->module);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
llmsbx_security_pattern_set_property (GObject      *object,
                                      guint         prop_id,
                                      const GValue *value,
                                      GParamSpec   *pspec)
{
  LlmsbxSecurityPattern *self = LLMSBX_SECURITY_PATTERN (object);

  switch (prop_id)
    {
    case PROP_PATTERN:
      g_free (self->pattern);
      self->pattern = g_value_dup_string (value);
      break;
    case PROP_DESCRIPTION:
      g_free (self->description);
      self->description = g_strdup (g_value_get_string (value) ? g_value_get_string (value) : "");
      break;
    case PROP_SEVERITY:
      self->severity = g_value_get_enum (value);
      break;
    case PROP_MODULE:
      g_free (self->module);
      self->module = g_value_dup_string (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
llmsbx_security_pattern_class_init (LlmsbxSecurityPatternClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GParamFlags flags = G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS;

  object_class->constructed = llmsbx_security_pattern_constructed;
  object_class->finalize = llmsbx_security_pattern_finalize;
  object_class->get_property = llmsbx_security_pattern_get_property;
  object_class->set_property = llmsbx_security_pattern_set_property;

  /**
   * LlmsbxSecurityPattern:pattern:
   *
   * The regular expression.
   *
   * Since: 0.1
   */
  properties[PROP_PATTERN] = g_param_spec_string ("pattern", NULL, NULL, NULL, flags);

  /**
   * LlmsbxSecurityPattern:description:
   *
   * What the pattern finds, in words for the person whose code it blocks.
   *
   * Since: 0.1
   */
  properties[PROP_DESCRIPTION] = g_param_spec_string ("description", NULL, NULL, "", flags);

  /**
   * LlmsbxSecurityPattern:severity:
   *
   * How serious a match is.
   *
   * Since: 0.1
   */
  properties[PROP_SEVERITY] =
    g_param_spec_enum ("severity", NULL, NULL, LLMSBX_TYPE_SECURITY_ISSUE_SEVERITY,
                       LLMSBX_SECURITY_ISSUE_SEVERITY_SAFE, flags);

  /**
   * LlmsbxSecurityPattern:module:
   *
   * For a pattern that detects imports of a restricted module, the module's
   * name; %NULL for other patterns.
   *
   * Since: 0.1
   */
  properties[PROP_MODULE] = g_param_spec_string ("module", NULL, NULL, NULL, flags);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
llmsbx_security_pattern_init (LlmsbxSecurityPattern *self)
{
  self->description = g_strdup ("");
}

/**
 * llmsbx_security_pattern_new:
 * @pattern: a regular expression (PCRE syntax)
 * @description: (nullable): what the pattern finds
 * @severity: how serious a match is
 * @error: return location for a #GError
 *
 * Makes a pattern, failing with %LLMSBX_ERROR_INVALID_ARGUMENT and #GRegex's
 * message when @pattern is not a valid regular expression.
 *
 * Returns: (transfer full): a new pattern, or %NULL on error
 *
 * Since: 0.1
 */
LlmsbxSecurityPattern *
llmsbx_security_pattern_new (const char                   *pattern,
                             const char                   *description,
                             LlmsbxSecurityIssueSeverity   severity,
                             GError                      **error)
{
  g_return_val_if_fail (pattern != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return g_initable_new (LLMSBX_TYPE_SECURITY_PATTERN, NULL, error,
                         "pattern", pattern,
                         "description", description,
                         "severity", severity,
                         NULL);
}

/* A violation found by a restricted module: the language's import regex for it. */
LlmsbxSecurityPattern *
llmsbx_security_pattern_new_for_module (const char                  *regex,
                                        const char                  *module,
                                        const char                  *description,
                                        LlmsbxSecurityIssueSeverity  severity,
                                        GError                     **error)
{
  g_autofree char *fallback = NULL;

  if (description == NULL || description[0] == '\0')
    description = fallback = g_strdup_printf ("Import of the restricted module '%s'", module);

  return g_initable_new (LLMSBX_TYPE_SECURITY_PATTERN, NULL, error,
                         "pattern", regex,
                         "description", description,
                         "severity", severity,
                         "module", module,
                         NULL);
}

/* Sets @matched; fails only when the pattern is invalid or the regex engine
 * gives up (for instance at its backtracking limit), so that a caller can
 * refuse the code rather than pass it unchecked. */
gboolean
llmsbx_security_pattern_search (LlmsbxSecurityPattern  *self,
                                const char             *text,
                                gboolean               *matched,
                                GError                **error)
{
  g_autoptr(GMatchInfo) match_info = NULL;
  g_autoptr(GError) local_error = NULL;

  *matched = FALSE;
  if (self->compile_error != NULL)
    {
      g_propagate_error (error, g_error_copy (self->compile_error));
      return FALSE;
    }

  *matched = g_regex_match_full (self->regex, text, -1, 0, G_REGEX_MATCH_DEFAULT,
                                 &match_info, &local_error);
  if (local_error != NULL)
    {
      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_SECURITY_VIOLATION,
                   "The security pattern '%s' could not be checked against the code (%s); "
                   "the code is refused",
                   self->pattern, local_error->message);
      return FALSE;
    }
  return TRUE;
}

/**
 * llmsbx_security_pattern_get_pattern:
 * @self: a #LlmsbxSecurityPattern
 *
 * Returns: the regular expression
 *
 * Since: 0.1
 */
const char *
llmsbx_security_pattern_get_pattern (LlmsbxSecurityPattern *self)
{
  g_return_val_if_fail (LLMSBX_IS_SECURITY_PATTERN (self), NULL);
  return self->pattern;
}

/**
 * llmsbx_security_pattern_get_description:
 * @self: a #LlmsbxSecurityPattern
 *
 * Returns: what the pattern finds
 *
 * Since: 0.1
 */
const char *
llmsbx_security_pattern_get_description (LlmsbxSecurityPattern *self)
{
  g_return_val_if_fail (LLMSBX_IS_SECURITY_PATTERN (self), NULL);
  return self->description;
}

/**
 * llmsbx_security_pattern_get_severity:
 * @self: a #LlmsbxSecurityPattern
 *
 * Returns: how serious a match is
 *
 * Since: 0.1
 */
LlmsbxSecurityIssueSeverity
llmsbx_security_pattern_get_severity (LlmsbxSecurityPattern *self)
{
  g_return_val_if_fail (LLMSBX_IS_SECURITY_PATTERN (self), LLMSBX_SECURITY_ISSUE_SEVERITY_SAFE);
  return self->severity;
}

/**
 * llmsbx_security_pattern_get_module:
 * @self: a #LlmsbxSecurityPattern
 *
 * Returns: (nullable): the restricted module this pattern detects imports of,
 *   or %NULL
 *
 * Since: 0.1
 */
const char *
llmsbx_security_pattern_get_module (LlmsbxSecurityPattern *self)
{
  g_return_val_if_fail (LLMSBX_IS_SECURITY_PATTERN (self), NULL);
  return self->module;
}
