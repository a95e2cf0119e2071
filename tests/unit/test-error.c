/* test-error.c: the LLMSBX_ERROR domain and the generated enum types. */
#include <string.h>

#include <llmsbx.h>

static void
test_error_quark (void)
{
  g_assert_cmpstr (g_quark_to_string (LLMSBX_ERROR), ==, "llmsbx-error-quark");
  /* Stable: the same quark whoever registers the string first. */
  g_assert_cmpuint (g_quark_from_static_string ("llmsbx-error-quark"), ==, LLMSBX_ERROR);
  g_assert_cmpuint (llmsbx_error_quark (), ==, LLMSBX_ERROR);
}

static void
test_error_enum (void)
{
  g_autoptr(GEnumClass) klass = g_type_class_ref (LLMSBX_TYPE_ERROR);
  GEnumValue *value;

  g_assert_cmpstr (g_type_name (LLMSBX_TYPE_ERROR), ==, "LlmsbxError");
  /* Codes are contiguous from 0, each with a name and a nick derived from it;
   * later codes may be appended, never inserted. */
  g_assert_cmpuint (klass->n_values, >=, LLMSBX_ERROR_SESSION_EXPIRED + 1);
  for (guint i = 0; i < klass->n_values; i++)
    {
      g_autofree char *nick = NULL;

      value = &klass->values[i];
      g_assert_cmpint (value->value, ==, i);
      g_assert_true (g_str_has_prefix (value->value_name, "LLMSBX_ERROR_"));
      nick = g_ascii_strdown (value->value_name + strlen ("LLMSBX_ERROR_"), -1);
      g_strdelimit (nick, "_", '-');
      g_assert_cmpstr (value->value_nick, ==, nick);
    }

  value = g_enum_get_value_by_nick (klass, "failed");
  g_assert_nonnull (value);
  g_assert_cmpint (value->value, ==, LLMSBX_ERROR_FAILED);
  value = g_enum_get_value_by_nick (klass, "path-traversal");
  g_assert_nonnull (value);
  g_assert_cmpint (value->value, ==, LLMSBX_ERROR_PATH_TRAVERSAL);
  value = g_enum_get_value_by_nick (klass, "library-installation-not-supported");
  g_assert_nonnull (value);
  g_assert_cmpint (value->value, ==, LLMSBX_ERROR_LIBRARY_INSTALLATION_NOT_SUPPORTED);
  value = g_enum_get_value_by_nick (klass, "session-expired");
  g_assert_nonnull (value);
  g_assert_cmpint (value->value, ==, LLMSBX_ERROR_SESSION_EXPIRED);
}

static void
test_error_matches (void)
{
  g_autoptr(GError) error = g_error_new (LLMSBX_ERROR, LLMSBX_ERROR_TIMEOUT, "ran out");

  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_TIMEOUT);
  g_assert_false (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT));
}

static void
test_output_stream_enum (void)
{
  g_autoptr(GEnumClass) klass = g_type_class_ref (LLMSBX_TYPE_OUTPUT_STREAM);

  g_assert_cmpuint (klass->n_values, ==, 2);
  g_assert_cmpstr (g_enum_get_value (klass, LLMSBX_OUTPUT_STREAM_STDOUT)->value_nick, ==, "stdout");
  g_assert_cmpstr (g_enum_get_value (klass, LLMSBX_OUTPUT_STREAM_STDERR)->value_nick, ==, "stderr");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/error/quark", test_error_quark);
  g_test_add_func ("/error/enum", test_error_enum);
  g_test_add_func ("/error/matches", test_error_matches);
  g_test_add_func ("/error/output-stream-enum", test_output_stream_enum);

  return g_test_run ();
}
