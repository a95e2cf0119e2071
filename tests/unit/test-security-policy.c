/* test-security-policy.c: the security model, its JSON form, and the scanner
 * (threshold semantics, every violation reported, comments and strings,
 * restricted modules through a language's import regex, failing closed). */
#include <string.h>

#include <llmsbx.h>

#include "llmsbx-security-private.h"

#define SAFE LLMSBX_SECURITY_ISSUE_SEVERITY_SAFE
#define LOW LLMSBX_SECURITY_ISSUE_SEVERITY_LOW
#define MEDIUM LLMSBX_SECURITY_ISSUE_SEVERITY_MEDIUM
#define HIGH LLMSBX_SECURITY_ISSUE_SEVERITY_HIGH

/* A Python-like language: `#` comments, quotes, and `import M` at a line start. */
static LlmsbxLanguageHandler *
test_language (void)
{
  return g_object_new (LLMSBX_TYPE_LANGUAGE_CONFIG,
                       "name", "testlang",
                       "file-extension", "t",
                       "import-pattern", "(?m)^[ \\t]*(?:import|from)[ \\t]+{module}\\b",
                       "line-comment", "#",
                       NULL);
}

static LlmsbxSecurityPattern *
pattern_new (const char                  *regex,
             const char                  *description,
             LlmsbxSecurityIssueSeverity  severity)
{
  g_autoptr(GError) error = NULL;
  LlmsbxSecurityPattern *pattern = llmsbx_security_pattern_new (regex, description, severity, &error);

  g_assert_no_error (error);
  g_assert_nonnull (pattern);
  return pattern;
}

static void
add_pattern (LlmsbxSecurityPolicy        *policy,
             const char                  *regex,
             const char                  *description,
             LlmsbxSecurityIssueSeverity  severity)
{
  g_autoptr(LlmsbxSecurityPattern) pattern = pattern_new (regex, description, severity);

  llmsbx_security_policy_add_pattern (policy, pattern);
}

static void
add_module (LlmsbxSecurityPolicy        *policy,
            const char                  *name,
            const char                  *description,
            LlmsbxSecurityIssueSeverity  severity)
{
  g_autoptr(LlmsbxRestrictedModule) module = llmsbx_restricted_module_new (name, description, severity);

  llmsbx_security_policy_add_restricted_module (policy, module);
}

/* The guide's example policy. */
static LlmsbxSecurityPolicy *
guide_policy (void)
{
  LlmsbxSecurityPolicy *policy = llmsbx_security_policy_new (MEDIUM);

  add_pattern (policy, "os\\.system", "System command execution", HIGH);
  add_pattern (policy, "open\\s*\\([^)]*['\\\"][wa]", "File write operation", MEDIUM);
  add_module (policy, "subprocess", "Process execution", HIGH);
  return policy;
}

/* Checks @code and returns the descriptions of the violations, joined by '|'. */
static char *
check (LlmsbxSecurityPolicy  *policy,
       LlmsbxLanguageHandler *handler,
       const char            *code,
       gboolean              *safe)
{
  g_autoptr(GPtrArray) violations = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GString) found = g_string_new (NULL);

  *safe = llmsbx_security_policy_check (policy, handler, code, &violations, &error);
  g_assert_no_error (error);
  g_assert_nonnull (violations);
  for (guint i = 0; i < violations->len; i++)
    g_string_append_printf (found, "%s%s", i ? "|" : "",
                            llmsbx_security_pattern_get_description (g_ptr_array_index (violations, i)));
  return g_string_free (g_steal_pointer (&found), FALSE);
}

static void
assert_check (LlmsbxSecurityPolicy  *policy,
              LlmsbxLanguageHandler *handler,
              const char            *code,
              gboolean               expected_safe,
              const char            *expected_violations)
{
  gboolean safe;
  g_autofree char *found = check (policy, handler, code, &safe);

  g_assert_cmpstr (found, ==, expected_violations);
  if (safe != expected_safe)
    g_error ("'%s' was judged %s", code, safe ? "safe" : "unsafe");
}

/* Model ------------------------------------------------------------------ */

static void
test_pattern_properties (void)
{
  g_autoptr(LlmsbxSecurityPattern) pattern = pattern_new ("os\\.system", "System command execution", HIGH);
  g_autoptr(LlmsbxRestrictedModule) module = llmsbx_restricted_module_new ("subprocess", NULL, MEDIUM);
  g_autofree char *nick = NULL;
  LlmsbxSecurityIssueSeverity severity;

  g_assert_cmpstr (llmsbx_security_pattern_get_pattern (pattern), ==, "os\\.system");
  g_assert_cmpstr (llmsbx_security_pattern_get_description (pattern), ==, "System command execution");
  g_assert_cmpint (llmsbx_security_pattern_get_severity (pattern), ==, HIGH);
  g_assert_null (llmsbx_security_pattern_get_module (pattern));
  g_object_get (pattern, "severity", &severity, NULL);
  g_assert_cmpint (severity, ==, HIGH);

  g_assert_cmpstr (llmsbx_restricted_module_get_name (module), ==, "subprocess");
  g_assert_cmpstr (llmsbx_restricted_module_get_description (module), ==, "");
  g_assert_cmpint (llmsbx_restricted_module_get_severity (module), ==, MEDIUM);

  /* The enum is registered with the values of the Python library. */
  g_assert_cmpint (SAFE, ==, 0);
  g_assert_cmpint (HIGH, ==, 3);
  nick = g_enum_to_string (LLMSBX_TYPE_SECURITY_ISSUE_SEVERITY, MEDIUM);
  g_assert_cmpstr (nick, ==, "LLMSBX_SECURITY_ISSUE_SEVERITY_MEDIUM");
}

static void
test_invalid_pattern (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(LlmsbxSecurityPattern) pattern = llmsbx_security_pattern_new ("os\\.system(", "x", HIGH, &error);

  g_assert_null (pattern);
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT);
  /* The message carries GRegex's own explanation. */
  g_assert_nonnull (strstr (error->message, "os\\.system("));
  g_assert_nonnull (strstr (error->message, "missing terminating )"));
  g_clear_error (&error);

  pattern = llmsbx_security_pattern_new ("", "empty", HIGH, &error);
  g_assert_null (pattern);
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT);
}

/* A pattern made without GInitable (as g_object_new() and some bindings do)
 * reports its error at init() and makes every check fail, never pass. */
static void
test_invalid_pattern_fails_closed (void)
{
  g_autoptr(LlmsbxSecurityPattern) pattern =
    g_object_new (LLMSBX_TYPE_SECURITY_PATTERN, "pattern", "[unclosed", "severity", LOW, NULL);
  g_autoptr(LlmsbxSecurityPolicy) policy = llmsbx_security_policy_new (HIGH);
  g_autoptr(GPtrArray) violations = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_false (g_initable_init (G_INITABLE (pattern), NULL, &error));
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  llmsbx_security_policy_add_pattern (policy, pattern);
  g_assert_false (llmsbx_security_policy_check (policy, NULL, "print(1)", &violations, &error));
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "[unclosed"));
  g_assert_null (violations);
}

static void
test_policy_lists_are_copies (void)
{
  g_autoptr(LlmsbxSecurityPolicy) policy = guide_policy ();
  g_autoptr(GPtrArray) patterns = llmsbx_security_policy_get_patterns (policy);
  g_autoptr(GPtrArray) modules = llmsbx_security_policy_get_restricted_modules (policy);
  g_autoptr(GPtrArray) again = NULL;

  g_assert_cmpuint (patterns->len, ==, 2);
  g_assert_cmpuint (modules->len, ==, 1);
  g_assert_cmpstr (llmsbx_security_pattern_get_description (g_ptr_array_index (patterns, 0)), ==,
                   "System command execution");

  g_ptr_array_set_size (patterns, 0);
  again = llmsbx_security_policy_get_patterns (policy);
  g_assert_cmpuint (again->len, ==, 2);

  g_assert_cmpint (llmsbx_security_policy_get_severity_threshold (policy), ==, MEDIUM);
  llmsbx_security_policy_set_severity_threshold (policy, LOW);
  g_assert_cmpint (llmsbx_security_policy_get_severity_threshold (policy), ==, LOW);
}

/* JSON ------------------------------------------------------------------- */

static void
test_json_round_trip (void)
{
  g_autoptr(LlmsbxSecurityPolicy) policy = guide_policy ();
  g_autoptr(LlmsbxSecurityPolicy) loaded = NULL;
  g_autoptr(GPtrArray) patterns = NULL;
  g_autoptr(GPtrArray) modules = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *json = llmsbx_security_policy_to_json (policy);
  g_autofree char *json_again = NULL;

  g_assert_nonnull (strstr (json, "\"severity_threshold\" : \"medium\""));
  loaded = llmsbx_security_policy_new_from_json (json, &error);
  g_assert_no_error (error);

  json_again = llmsbx_security_policy_to_json (loaded);
  g_assert_cmpstr (json_again, ==, json);

  patterns = llmsbx_security_policy_get_patterns (loaded);
  modules = llmsbx_security_policy_get_restricted_modules (loaded);
  g_assert_cmpuint (patterns->len, ==, 2);
  g_assert_cmpstr (llmsbx_security_pattern_get_pattern (g_ptr_array_index (patterns, 1)), ==,
                   "open\\s*\\([^)]*['\\\"][wa]");
  g_assert_cmpint (llmsbx_security_pattern_get_severity (g_ptr_array_index (patterns, 1)), ==, MEDIUM);
  g_assert_cmpstr (llmsbx_restricted_module_get_name (g_ptr_array_index (modules, 0)), ==, "subprocess");
  g_assert_cmpint (llmsbx_restricted_module_get_severity (g_ptr_array_index (modules, 0)), ==, HIGH);
}

/* What the Python library's model_dump_json() writes: numbers, nulls. */
static void
test_json_from_python_library (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(LlmsbxSecurityPolicy) policy =
    llmsbx_security_policy_new_from_json ("{\"severity_threshold\": 1, \"patterns\": null,"
                                          " \"restricted_modules\": [{\"name\": \"os\", \"description\": \"OS\","
                                          " \"severity\": 3}]}", &error);
  g_autoptr(GPtrArray) patterns = NULL;

  g_assert_no_error (error);
  g_assert_cmpint (llmsbx_security_policy_get_severity_threshold (policy), ==, LOW);
  patterns = llmsbx_security_policy_get_patterns (policy);
  g_assert_cmpuint (patterns->len, ==, 0);
  g_clear_object (&policy);

  policy = llmsbx_security_policy_new_from_json ("{}", &error);
  g_assert_no_error (error);
  g_assert_cmpint (llmsbx_security_policy_get_severity_threshold (policy), ==, SAFE);
}

static void
assert_json_error (const char *json,
                   const char *expected_part)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(LlmsbxSecurityPolicy) policy = llmsbx_security_policy_new_from_json (json, &error);

  g_assert_null (policy);
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT);
  if (strstr (error->message, expected_part) == NULL)
    g_error ("'%s' failed with '%s', which does not mention '%s'", json, error->message, expected_part);
}

static void
test_json_errors (void)
{
  assert_json_error ("", "Invalid security policy JSON");
  assert_json_error ("[1]", "must be a JSON object");
  assert_json_error ("{\"severity_treshold\": \"low\"}", "unknown member \"severity_treshold\"");
  assert_json_error ("{\"severity_threshold\": \"extreme\"}", "unknown severity \"extreme\"");
  assert_json_error ("{\"severity_threshold\": 7}", "severity 7");
  assert_json_error ("{\"severity_threshold\": true}", "a severity is needed");
  assert_json_error ("{\"patterns\": {}}", "patterns: must be a list");
  assert_json_error ("{\"patterns\": [1]}", "patterns[0]: must be an object");
  assert_json_error ("{\"patterns\": [{\"description\": \"x\", \"severity\": 1}]}", "patterns[0]: \"pattern\" is missing");
  assert_json_error ("{\"patterns\": [{\"pattern\": \"a\"}]}", "patterns[0]: a severity is needed");
  assert_json_error ("{\"patterns\": [{\"pattern\": \"a\", \"severity\": 1},"
                     " {\"pattern\": \"(\", \"severity\": 1}]}", "patterns[1]: Invalid security pattern '('");
  assert_json_error ("{\"patterns\": [{\"pattern\": \"a\", \"severity\": 1, \"flags\": 2}]}",
                     "unknown member \"flags\"");
  assert_json_error ("{\"restricted_modules\": [{\"name\": \"\", \"severity\": 1}]}",
                     "restricted_modules[0]: \"name\" cannot be empty");
  assert_json_error ("{\"restricted_modules\": [{\"name\": 5, \"severity\": 1}]}",
                     "\"name\" must be a string");
}

/* Scanner ---------------------------------------------------------------- */

static void
test_guide_example (void)
{
  g_autoptr(LlmsbxSecurityPolicy) policy = guide_policy ();
  g_autoptr(LlmsbxLanguageHandler) handler = test_language ();

  assert_check (policy, handler, "print('hello')", TRUE, "");
  assert_check (policy, handler, "import os; os.system('ls')", FALSE, "System command execution");
  assert_check (policy, handler, "f = open('out.txt', 'w')", FALSE, "File write operation");
  assert_check (policy, handler, "import subprocess\nsubprocess.run(['ls'])", FALSE, "Process execution");
  /* Every violation is reported, the policy's patterns first, then modules. */
  assert_check (policy, handler, "import subprocess\nos.system('x')\nopen('f', 'a')", FALSE,
                "System command execution|File write operation|Process execution");
}

/* Reference §3.2: the mixed LOW/MEDIUM sample is safe under SAFE and HIGH,
 * blocked under LOW and MEDIUM; a SAFE pattern never blocks. */
static void
test_threshold_semantics (void)
{
  const struct {
    LlmsbxSecurityIssueSeverity threshold;
    gboolean mixed_safe;
    gboolean high_safe;
  } cases[] = {
    { SAFE, TRUE, TRUE },
    { LOW, FALSE, FALSE },
    { MEDIUM, FALSE, FALSE },
    { HIGH, TRUE, FALSE },
  };
  g_autoptr(LlmsbxLanguageHandler) handler = test_language ();

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(LlmsbxSecurityPolicy) policy = llmsbx_security_policy_new (cases[i].threshold);

      add_pattern (policy, "\\blow\\b", "low", LOW);
      add_pattern (policy, "\\bmedium\\b", "medium", MEDIUM);
      add_pattern (policy, "\\bhigh\\b", "high", HIGH);
      add_pattern (policy, "\\bnote\\b", "note", SAFE);

      assert_check (policy, handler, "low(); medium()", cases[i].mixed_safe, "low|medium");
      assert_check (policy, handler, "high()", cases[i].high_safe, "high");
      /* Below-threshold findings are reported with a "safe" verdict. */
      assert_check (policy, handler, "note()", TRUE, "note");
      assert_check (policy, handler, "nothing()", TRUE, "");
    }
}

static void
test_policy_never_modified (void)
{
  g_autoptr(LlmsbxSecurityPolicy) policy = guide_policy ();
  g_autoptr(LlmsbxLanguageHandler) handler = test_language ();
  g_autofree char *before = llmsbx_security_policy_to_json (policy);
  g_autofree char *after = NULL;

  for (int i = 0; i < 3; i++)
    assert_check (policy, handler, "import subprocess", FALSE, "Process execution");

  after = llmsbx_security_policy_to_json (policy);
  g_assert_cmpstr (after, ==, before);
}

static void
test_comments_and_strings (void)
{
  g_autoptr(LlmsbxSecurityPolicy) policy = guide_policy ();
  g_autoptr(LlmsbxLanguageHandler) handler = test_language ();

  /* Comments are not code. */
  assert_check (policy, handler, "# os.system('ls')\nprint(1)", TRUE, "");
  assert_check (policy, handler, "x = 1  # import subprocess", TRUE, "");
  /* A '#' in a string does not start a comment that would hide what follows. */
  assert_check (policy, handler, "print('#'); os.system('ls')", FALSE, "System command execution");
  /* Text in strings stays: a scanner cannot tell it from code that evaluates it. */
  assert_check (policy, handler, "exec('os.system(1)')", FALSE, "System command execution");
}

/* Without a language, nothing is stripped. */
static void
test_no_language (void)
{
  g_autoptr(LlmsbxSecurityPolicy) policy = llmsbx_security_policy_new (HIGH);

  add_pattern (policy, "os\\.system", "System command execution", HIGH);
  assert_check (policy, NULL, "# os.system", FALSE, "System command execution");
}

/* Python runs `ｏｓ.ｓｙｓｔｅｍ()` as os.system(): identifiers are NFKC-normalised. */
static void
test_compatibility_characters (void)
{
  g_autoptr(LlmsbxSecurityPolicy) policy = guide_policy ();
  g_autoptr(LlmsbxLanguageHandler) handler = test_language ();

  assert_check (policy, handler, "import os\n\xef\xbd\x8f\xef\xbd\x93.system('ls')", FALSE,
                "System command execution");
  assert_check (policy, handler, "import \xef\xbd\x93ubprocess", FALSE, "Process execution");
}

static void
test_restricted_module_through_handler (void)
{
  g_autoptr(LlmsbxSecurityPolicy) policy = llmsbx_security_policy_new (LOW);
  g_autoptr(LlmsbxLanguageHandler) handler = test_language ();
  g_autoptr(GPtrArray) violations = NULL;
  g_autoptr(GError) error = NULL;
  LlmsbxSecurityPattern *violation;

  add_module (policy, "os", "", HIGH);
  add_module (policy, "a.b", "dotted", LOW);
  assert_check (policy, handler, "import osx", TRUE, "");
  /* The module name is literal: '.' is not "any character". */
  assert_check (policy, handler, "import aXb", TRUE, "");
  assert_check (policy, handler, "import a.b", FALSE, "dotted");

  g_assert_false (llmsbx_security_policy_check (policy, handler, "from os import path", &violations, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (violations->len, ==, 1);
  violation = g_ptr_array_index (violations, 0);
  g_assert_cmpstr (llmsbx_security_pattern_get_module (violation), ==, "os");
  g_assert_cmpstr (llmsbx_security_pattern_get_description (violation), ==,
                   "Import of the restricted module 'os'");
  g_assert_cmpint (llmsbx_security_pattern_get_severity (violation), ==, HIGH);
  g_assert_cmpstr (llmsbx_security_pattern_get_pattern (violation), ==,
                   "(?m)^[ \\t]*(?:import|from)[ \\t]+os\\b");
}

static void
test_fails_closed (void)
{
  g_autoptr(LlmsbxSecurityPolicy) policy = llmsbx_security_policy_new (HIGH);
  g_autoptr(LlmsbxLanguageHandler) no_imports = g_object_new (LLMSBX_TYPE_LANGUAGE_CONFIG, "name", "plain", NULL);
  g_autoptr(LlmsbxLanguageHandler) bad_imports =
    g_object_new (LLMSBX_TYPE_LANGUAGE_CONFIG, "name", "bad", "import-pattern", "({module}", NULL);
  g_autoptr(LlmsbxSecurityPolicy) nameless = llmsbx_security_policy_new (HIGH);
  g_autoptr(LlmsbxSecurityPolicy) patterns_only = llmsbx_security_policy_new (HIGH);
  g_autoptr(LlmsbxRestrictedModule) empty = g_object_new (LLMSBX_TYPE_RESTRICTED_MODULE, NULL);
  g_autoptr(GError) error = NULL;

  add_module (policy, "os", "OS", HIGH);

  /* Restricted modules need a language that recognises imports. */
  g_assert_false (llmsbx_security_policy_check (policy, NULL, "x", NULL, &error));
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (llmsbx_security_policy_check (policy, no_imports, "x", NULL, &error));
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_LANGUAGE_NOT_SUPPORTED);
  g_assert_nonnull (strstr (error->message, "plain"));
  g_clear_error (&error);
  g_assert_false (llmsbx_security_policy_check (policy, bad_imports, "x", NULL, &error));
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "bad language handler's import pattern for 'os'"));
  g_clear_error (&error);

  llmsbx_security_policy_add_restricted_module (nameless, empty);
  g_assert_false (llmsbx_security_policy_check (nameless, no_imports, "x", NULL, &error));
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  /* Bytes that are not UTF-8 cannot be matched reliably. */
  g_assert_false (llmsbx_security_policy_check (policy, no_imports, "os\xff", NULL, &error));
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  /* A regex engine that gives up refuses the code. */
  add_pattern (patterns_only, "^(a+)+$", "backtracking", LOW);
  {
    g_autofree char *hostile = g_strnfill (40, 'a');
    g_autofree char *code = g_strconcat (hostile, "!", NULL);

    g_assert_false (llmsbx_security_policy_check (patterns_only, NULL, code, NULL, &error));
    g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_SECURITY_VIOLATION);
  }
}

/* Libraries -------------------------------------------------------------- */

static void
assert_library (LlmsbxSecurityPolicy *policy,
                const char           *library,
                gboolean              allowed)
{
  g_autoptr(GError) error = NULL;
  gboolean ok = llmsbx_security_policy_check_library (policy, library, &error);

  if (ok != allowed)
    g_error ("installing '%s' was %s", library, ok ? "allowed" : "refused");
  if (!allowed)
    {
      g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_SECURITY_VIOLATION);
      g_assert_nonnull (strstr (error->message, library));
    }
  else
    g_assert_no_error (error);
}

static void
test_library_names (void)
{
  g_autoptr(LlmsbxSecurityPolicy) policy = llmsbx_security_policy_new (MEDIUM);

  add_module (policy, "requests", "HTTP", HIGH);
  add_module (policy, "python_dateutil", "dates", MEDIUM);
  add_module (policy, "@scope/pkg", "scoped", HIGH);
  add_module (policy, "lowrisk", "below the threshold", LOW);

  assert_library (policy, "numpy", TRUE);
  assert_library (policy, "requests", FALSE);
  assert_library (policy, "Requests", FALSE);
  assert_library (policy, "requests==2.31.0", FALSE);
  assert_library (policy, "requests[socks]", FALSE);
  assert_library (policy, "requests>=2", FALSE);
  assert_library (policy, "requests-toolbelt", TRUE);
  assert_library (policy, "python-dateutil", FALSE);
  assert_library (policy, "@scope/pkg@1.2.3", FALSE);
  assert_library (policy, "@scope/pkg2", TRUE);
  assert_library (policy, "lowrisk", TRUE);
}

static void
test_violation_message (void)
{
  g_autoptr(LlmsbxSecurityPolicy) policy = guide_policy ();
  g_autoptr(LlmsbxLanguageHandler) handler = test_language ();
  g_autoptr(GPtrArray) violations = NULL;
  g_autoptr(GError) error = NULL;

  add_pattern (policy, "print", "Printing", LOW);
  g_assert_false (llmsbx_security_policy_check (policy, handler, "import subprocess\nos.system(1)\nprint(2)",
                                                &violations, NULL));
  llmsbx_security_set_violation_error (&error, "the code", violations, MEDIUM);
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_SECURITY_VIOLATION);
  g_assert_cmpstr (error->message, ==,
                   "The security policy (threshold MEDIUM) blocked the code: "
                   "System command execution [HIGH, pattern os\\.system]; "
                   "Process execution [HIGH, restricted module subprocess] "
                   "(and 1 finding below the threshold)");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/security/pattern/properties", test_pattern_properties);
  g_test_add_func ("/security/pattern/invalid", test_invalid_pattern);
  g_test_add_func ("/security/pattern/invalid-fails-closed", test_invalid_pattern_fails_closed);
  g_test_add_func ("/security/policy/lists-are-copies", test_policy_lists_are_copies);
  g_test_add_func ("/security/json/round-trip", test_json_round_trip);
  g_test_add_func ("/security/json/python-library", test_json_from_python_library);
  g_test_add_func ("/security/json/errors", test_json_errors);
  g_test_add_func ("/security/check/guide-example", test_guide_example);
  g_test_add_func ("/security/check/threshold", test_threshold_semantics);
  g_test_add_func ("/security/check/policy-never-modified", test_policy_never_modified);
  g_test_add_func ("/security/check/comments-and-strings", test_comments_and_strings);
  g_test_add_func ("/security/check/no-language", test_no_language);
  g_test_add_func ("/security/check/compatibility-characters", test_compatibility_characters);
  g_test_add_func ("/security/check/restricted-module", test_restricted_module_through_handler);
  g_test_add_func ("/security/check/fails-closed", test_fails_closed);
  g_test_add_func ("/security/library/names", test_library_names);
  g_test_add_func ("/security/library/violation-message", test_violation_message);

  return g_test_run ();
}
