/* test-nesting.c: deeply nested JSON and GVariant values are refused with a
 * clear error before anything recurses through them (the process used to die
 * of a stack overflow at about 50 000 levels in json_gvariant_deserialize()
 * and 100 000 in json-glib's parser), at every entry point: the session's
 * runtime configs, the security policy's JSON form, and the check itself,
 * which must read strings and comments the way json-glib does. A second
 * top-level value, which json-glib ignores (and leaks), is refused too. */
#include <string.h>

#include <json-glib/json-glib.h>
#include <llmsbx.h>

#include "llmsbx-nesting-private.h"

/* @depth levels of @open around a 1, closed again. */
static char *
nested (const char *prefix,
        const char *open,
        const char *close,
        guint       depth,
        const char *suffix)
{
  GString *text = g_string_new (prefix);

  for (guint i = 0; i < depth; i++)
    g_string_append (text, open);
  g_string_append (text, "1");
  for (guint i = 0; i < depth; i++)
    g_string_append (text, close);
  g_string_append (text, suffix);
  return g_string_free (text, FALSE);
}

static void
assert_refused (const GError *error)
{
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "deeper than 64 levels"));
}

static void
test_json_bound (void)
{
  g_autofree char *at_bound = nested ("", "[", "]", LLMSBX_MAX_JSON_DEPTH, "");
  g_autofree char *past_bound = nested ("", "[", "]", LLMSBX_MAX_JSON_DEPTH + 1, "");
  g_autofree char *objects = nested ("", "{\"a\":", "}", LLMSBX_MAX_JSON_DEPTH + 1, "");
  g_autoptr(GError) error = NULL;

  g_assert_true (llmsbx_json_check (at_bound, -1, "Test", &error));
  g_assert_no_error (error);
  g_assert_false (llmsbx_json_check (past_bound, -1, "Test", &error));
  assert_refused (error);
  g_assert_nonnull (strstr (error->message, "Test: "));
  g_assert_nonnull (strstr (error->message, "at byte 64"));
  g_clear_error (&error);
  g_assert_false (llmsbx_json_check (objects, -1, "Test", &error));
  assert_refused (error);
  g_clear_error (&error);

  /* Only the given length counts. */
  g_assert_true (llmsbx_json_check (past_bound, LLMSBX_MAX_JSON_DEPTH, "Test", &error));
  g_assert_no_error (error);

  /* Siblings do not add up, and closing more than was opened is no credit. */
  {
    g_autoptr(GString) siblings = g_string_new ("[");
    g_autofree char *credit = nested ("]]]]]]]]", "[", "]", LLMSBX_MAX_JSON_DEPTH + 1, "");

    for (int i = 0; i < 1000; i++)
      g_string_append (siblings, "[[[]]],");
    g_string_append (siblings, "1]");
    g_assert_true (llmsbx_json_check (siblings->str, -1, "Test", &error));
    g_assert_no_error (error);
    g_assert_false (llmsbx_json_check (credit, -1, "Test", &error));
    assert_refused (error);
  }
}

typedef enum {
  ACCEPTED,
  TOO_DEEP,
  BAD_ESCAPE,
} Verdict;

typedef struct {
  const char *text;     /* 100 brackets go where @ is */
  Verdict     verdict;
} LexCase;

/* Brackets inside strings and comments are not nesting; everywhere json-glib
 * 1.6 leaves a string early, they are. */
static void
test_json_lexing (void)
{
  static const LexCase cases[] = {
    { "[\"@\"]", ACCEPTED },
    { "['@']", ACCEPTED },
    { "['\\'@']", TOO_DEEP },          /* no escapes in single quotes: the string ends at \' */
    { "[\"\\\"@\"]", ACCEPTED },      /* an escaped quote does not end the string */
    { "[\"\\\\\"@\"]", TOO_DEEP },     /* an escaped backslash does */
    { "[1 /@/]", ACCEPTED },            /* json-glib's comments run from / to / */
    { "[1 /* @ */]", ACCEPTED },
    { "[\"\\u12\" ,\" , @", TOO_DEEP },  /* \u takes the quote that ends its digits */
    { "[\"\\u\" , @", TOO_DEEP },      /* \u without a hex digit takes nothing */
    { "[\"\\ud83d\\ude00\", @", TOO_DEEP },  /* a surrogate pair is one character */
    { "[\"\\ud800\" , @", BAD_ESCAPE },  /* a lone surrogate is not text */
    { "[\"\\udc00\\ud800\" , @", BAD_ESCAPE },
    { "[\"\\ud800\\u\" , @", BAD_ESCAPE },
    { "[\"\\u0000\" , @", BAD_ESCAPE },  /* nor is a NUL */
    { "[\"\\u0z\" , @", BAD_ESCAPE },
    { "[\"\\0\" , @", BAD_ESCAPE },
    { "[\"\\400\" , @", BAD_ESCAPE },    /* octal escapes keep one byte: 0 */
    { "[\"\\377\" , @", BAD_ESCAPE },    /* nor a byte that is not UTF-8 */
    { "[\"\\u4e\xc3\xa9\" , @", BAD_ESCAPE },  /* \\u takes half of é */
    { "[\"\\ud83d\\ude0\xc3\xa9\" , @", BAD_ESCAPE },
    { "[\"\\101\\12\\u00e9\\n\\\xc3\xa9\" , @", TOO_DEEP },
    { "{\"@\": 1}", ACCEPTED },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *brackets = g_strnfill (100, '[');
      g_auto(GStrv) parts = g_strsplit (cases[i].text, "@", 2);
      g_autofree char *text = g_strjoinv (brackets, parts);
      g_autoptr(GError) error = NULL;
      gboolean accepted = llmsbx_json_check (text, -1, "Test", &error);

      g_test_message ("%s", cases[i].text);
      g_assert_cmpint (accepted, ==, cases[i].verdict == ACCEPTED);
      if (cases[i].verdict == TOO_DEEP)
        assert_refused (error);
      else if (cases[i].verdict == BAD_ESCAPE)
        {
          g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT);
          g_assert_nonnull (strstr (error->message, "Test: the string at byte 1 escapes "));
        }
    }
}

/* The lexing cases above, checked against json-glib itself: the brackets
 * json-glib nests through are exactly those counted. */
static void
test_json_lexing_matches_json_glib (void)
{
  static const char * const texts[] = {
    "[\"\\u12\" ,\" , [[1]]]",
    "[\"\\ud83d\\ude00\" , [[1]]]",
    "['\\', [[1]]]",
    "[1 /* ] */, [[1]]]",
  };

  for (gsize i = 0; i < G_N_ELEMENTS (texts); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(JsonNode) node = json_from_string (texts[i], &error);
      g_autofree char *shown = NULL;

      g_assert_no_error (error);
      shown = json_to_string (node, FALSE);
      g_test_message ("%s -> %s", texts[i], shown);
      g_assert_true (g_str_has_suffix (shown, ",[[1]]]"));
    }
}

/* Where json-glib stops, NUL included, the check stops. */
static void
test_json_unterminated (void)
{
  static const char * const texts[] = { "[\"", "['", "[/", "[\"\\", "[\"\\u1" };
  char after_nul[] = "[1]\0[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[";

  for (gsize i = 0; i < G_N_ELEMENTS (texts); i++)
    {
      g_autoptr(GError) error = NULL;

      g_assert_true (llmsbx_json_check (texts[i], -1, "Test", &error));
      g_assert_no_error (error);
    }
  g_assert_true (llmsbx_json_check (after_nul, sizeof after_nul - 1, "Test", NULL));
}

/* json-glib 1.6 accepts "A B" when A is an array or object, ignoring (and
 * leaking) B: text after the value passed unnoticed. */
static void
test_json_one_value (void)
{
  static const char * const refused[] = {
    "{\"mem_limit\": \"64m\"} {}", "{}{}", "1 {}", "0{}", "[] []", "\"a\" [1]", "true false", "{} x",
  };
  static const char * const accepted[] = {
    "{}", "  {\"a\": [1, {\"b\": 2}]}  \n", "-12.5e3", "true", "\"text\"", "0x1F", "{} /* a comment */",
    "/* before */ {}", "'single'", "[1] ]",
  };

  for (gsize i = 0; i < G_N_ELEMENTS (refused); i++)
    {
      g_autoptr(GError) error = NULL;

      g_test_message ("%s", refused[i]);
      g_assert_false (llmsbx_json_check (refused[i], -1, "Test", &error));
      g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT);
      g_assert_nonnull (strstr (error->message, "Test: the text holds more than one JSON value"));
    }
  for (gsize i = 0; i < G_N_ELEMENTS (accepted); i++)
    {
      g_autoptr(GError) error = NULL;

      g_test_message ("%s", accepted[i]);
      g_assert_true (llmsbx_json_check (accepted[i], -1, "Test", &error));
      g_assert_no_error (error);
    }
}

/* Nested a{sv} dictionaries, and variant boxes without dictionaries. */
static GVariant *
nested_dicts (guint depth)
{
  GVariant *value = g_variant_new_int32 (1);

  for (guint i = 0; i < depth; i++)
    {
      GVariantBuilder builder;

      g_variant_builder_init (&builder, G_VARIANT_TYPE_VARDICT);
      g_variant_builder_add (&builder, "{sv}", "a", value);
      value = g_variant_builder_end (&builder);
    }
  return g_variant_ref_sink (value);
}

static void
test_variant_bound (void)
{
  g_autoptr(GVariant) at_bound = nested_dicts (LLMSBX_MAX_JSON_DEPTH);
  g_autoptr(GVariant) past_bound = nested_dicts (LLMSBX_MAX_JSON_DEPTH + 1);
  g_autoptr(GVariant) boxes = g_variant_ref_sink (g_variant_new_int32 (1));
  g_autoptr(GVariant) bytes = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree guint8 *data = g_malloc0 (1 << 20);

  g_assert_true (llmsbx_variant_check_depth (at_bound, "Test", &error));
  g_assert_no_error (error);
  g_assert_false (llmsbx_variant_check_depth (past_bound, "Test", &error));
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "deeper than 128 containers"));
  g_clear_error (&error);

  for (guint i = 0; i < 100000; i++)
    {
      GVariant *box = g_variant_ref_sink (g_variant_new_variant (boxes));
      g_variant_unref (boxes);
      boxes = box;
    }
  g_assert_false (llmsbx_variant_check_depth (boxes, "Test", &error));
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  /* GVariant frees that chain recursively too; freeing it is the caller's
   * business, and one level at a time keeps the test's stack small. */
  while (g_variant_is_of_type (boxes, G_VARIANT_TYPE_VARIANT))
    {
      GVariant *inner = g_variant_get_variant (boxes);
      g_variant_unref (boxes);
      boxes = inner;
    }

  /* A byte string is one container, however long. */
  bytes = g_variant_ref_sink (g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, data, 1 << 20, 1));
  g_assert_true (llmsbx_variant_check_depth (bytes, "Test", &error));
  g_assert_no_error (error);
}

/* The reported crashes: 50 000 levels of runtime configs, 200 000 of policy. */
static void
test_session_runtime_configs (void)
{
  g_autoptr(LlmsbxSandboxSession) session = g_object_new (LLMSBX_TYPE_SANDBOX_SESSION, NULL);
  g_autofree char *objects = nested ("", "{\"a\":", "}", 50000, "");
  g_autofree char *arrays = nested ("{\"ulimits\": ", "[", "]", 200000, "}");
  g_autofree char *shallow = nested ("{\"labels\": ", "{\"a\":", "}", 3, "}");
  g_autoptr(GError) error = NULL;

  g_assert_false (llmsbx_sandbox_session_set_runtime_configs_json (session, objects, &error));
  assert_refused (error);
  g_assert_nonnull (strstr (error->message, "Runtime configs"));
  g_clear_error (&error);
  g_assert_false (llmsbx_sandbox_session_set_runtime_configs_json (session, arrays, &error));
  assert_refused (error);
  g_clear_error (&error);
  g_assert_null (llmsbx_sandbox_session_get_runtime_configs (session));

  /* Text after the value is refused, not ignored. */
  g_assert_false (llmsbx_sandbox_session_set_runtime_configs_json (session, "{\"mem_limit\": \"64m\"} {}", &error));
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "more than one JSON value"));
  g_clear_error (&error);
  g_assert_null (llmsbx_sandbox_session_get_runtime_configs (session));

  g_assert_true (llmsbx_sandbox_session_set_runtime_configs_json (session, shallow, &error));
  g_assert_no_error (error);
  g_assert_nonnull (llmsbx_sandbox_session_get_runtime_configs (session));
}

static void
test_policy_json (void)
{
  g_autofree char *arrays = nested ("{\"patterns\": ", "[", "]", 200000, "}");
  g_autofree char *objects = nested ("{\"patterns\": [", "{\"a\":", "}", 100000, "]}");
  g_autoptr(LlmsbxSecurityPolicy) policy = NULL;
  g_autoptr(GError) error = NULL;

  policy = llmsbx_security_policy_new_from_json (arrays, &error);
  g_assert_null (policy);
  assert_refused (error);
  g_assert_nonnull (strstr (error->message, "security policy"));
  g_clear_error (&error);

  policy = llmsbx_security_policy_new_from_json (objects, &error);
  g_assert_null (policy);
  assert_refused (error);
  g_clear_error (&error);

  /* So is text after a policy. */
  policy = llmsbx_security_policy_new_from_json ("{\"patterns\": [{\"pattern\": \"os\\\\.system\", "
                                                 "\"severity\": 3}]} {}", &error);
  g_assert_null (policy);
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "more than one JSON value"));
}

/* json-glib quotes a bad token in its message, cut at a fixed length that
 * may fall inside a character: found by fuzz-security-policy. Messages must
 * be UTF-8 for every binding. */
static void
test_messages_are_utf8 (void)
{
  g_autoptr(GString) text = g_string_new ("{\"");
  g_autoptr(LlmsbxSandboxSession) session = g_object_new (LLMSBX_TYPE_SANDBOX_SESSION, NULL);
  g_autoptr(LlmsbxSecurityPolicy) policy = NULL;
  g_autoptr(GError) error = NULL;

  for (int i = 0; i < 30; i++)
    g_string_append (text, "\xc3\xa9");
  g_string_append (text, "\" \"x\"}");

  policy = llmsbx_security_policy_new_from_json (text->str, &error);
  g_assert_null (policy);
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT);
  g_assert_true (g_utf8_validate (error->message, -1, NULL));
  g_clear_error (&error);

  g_assert_false (llmsbx_sandbox_session_set_runtime_configs_json (session, text->str, &error));
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT);
  g_assert_true (g_utf8_validate (error->message, -1, NULL));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/nesting/json/bound", test_json_bound);
  g_test_add_func ("/nesting/json/lexing", test_json_lexing);
  g_test_add_func ("/nesting/json/lexing-matches-json-glib", test_json_lexing_matches_json_glib);
  g_test_add_func ("/nesting/json/unterminated", test_json_unterminated);
  g_test_add_func ("/nesting/json/one-value", test_json_one_value);
  g_test_add_func ("/nesting/variant/bound", test_variant_bound);
  g_test_add_func ("/nesting/session/runtime-configs", test_session_runtime_configs);
  g_test_add_func ("/nesting/policy/json", test_policy_json);
  g_test_add_func ("/nesting/messages-are-utf8", test_messages_are_utf8);

  return g_test_run ();
}
