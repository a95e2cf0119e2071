/* test-execution-result.c: the core value types: the execution result (exit
 * code, output as bytes and text, JSON) and the boxed exec request and
 * container spec handed to backends. */
#include <json-glib/json-glib.h>

#include <llmsbx.h>

static GBytes *
bytes_of (const char *data,
          gsize       len)
{
  return g_bytes_new (data, len);
}

static void
test_result_basic (void)
{
  g_autoptr(GBytes) out = bytes_of ("42\n", 3);
  g_autoptr(GBytes) err = bytes_of ("warn\n", 5);
  g_autoptr(LlmsbxExecutionResult) result = llmsbx_execution_result_new (0, out, err, FALSE, 0.25);

  g_assert_cmpint (llmsbx_execution_result_get_exit_code (result), ==, 0);
  g_assert_true (llmsbx_execution_result_get_success (result));
  g_assert_cmpstr (llmsbx_execution_result_get_stdout (result), ==, "42\n");
  g_assert_cmpstr (llmsbx_execution_result_get_stderr (result), ==, "warn\n");
  g_assert_true (g_bytes_equal (llmsbx_execution_result_get_stdout_bytes (result), out));
  g_assert_true (g_bytes_equal (llmsbx_execution_result_get_stderr_bytes (result), err));
  g_assert_false (llmsbx_execution_result_get_truncated (result));
  g_assert_cmpfloat (llmsbx_execution_result_get_duration (result), ==, 0.25);
}

static void
test_result_failure_and_no_output (void)
{
  g_autoptr(LlmsbxExecutionResult) result = llmsbx_execution_result_new (3, NULL, NULL, TRUE, 1.5);

  g_assert_cmpint (llmsbx_execution_result_get_exit_code (result), ==, 3);
  g_assert_false (llmsbx_execution_result_get_success (result));
  g_assert_cmpstr (llmsbx_execution_result_get_stdout (result), ==, "");
  g_assert_cmpstr (llmsbx_execution_result_get_stderr (result), ==, "");
  g_assert_nonnull (llmsbx_execution_result_get_stdout_bytes (result));
  g_assert_cmpuint (g_bytes_get_size (llmsbx_execution_result_get_stderr_bytes (result)), ==, 0);
  g_assert_true (llmsbx_execution_result_get_truncated (result));
}

static void
test_result_invalid_utf8 (void)
{
  /* "a", NUL, "b", an invalid byte, a cut-off two-byte sequence, "é". */
  static const char raw[] = { 'a', '\0', 'b', (char) 0xff, (char) 0xc3, 'c', (char) 0xc3, (char) 0xa9 };
  g_autoptr(GBytes) out = bytes_of (raw, sizeof raw);
  g_autoptr(LlmsbxExecutionResult) result = llmsbx_execution_result_new (0, out, NULL, FALSE, 0);
  const char *text = llmsbx_execution_result_get_stdout (result);
  gsize len;

  g_assert_true (g_utf8_validate (text, -1, NULL));
  /* Nothing is lost silently: the NUL and the bad bytes become U+FFFD. */
  g_assert_cmpstr (text, ==, "a\xef\xbf\xbd" "b\xef\xbf\xbd\xef\xbf\xbd" "c\xc3\xa9");
  /* The bytes stay exact. */
  g_bytes_get_data (llmsbx_execution_result_get_stdout_bytes (result), &len);
  g_assert_cmpuint (len, ==, sizeof raw);
  g_assert_cmpmem (g_bytes_get_data (llmsbx_execution_result_get_stdout_bytes (result), NULL), len,
                   raw, sizeof raw);
}

static void
test_result_properties (void)
{
  g_autoptr(GBytes) out = bytes_of ("x\xff", 2);
  g_autoptr(LlmsbxExecutionResult) result =
    g_object_new (LLMSBX_TYPE_EXECUTION_RESULT,
                  "exit-code", 137,
                  "stdout-bytes", out,
                  "truncated", TRUE,
                  "oom-killed", TRUE,
                  "duration", 2.0,
                  NULL);
  g_autofree char *text = NULL;
  g_autofree char *err_text = NULL;
  g_autoptr(GBytes) got = NULL;
  GParamSpec *success;
  gboolean ok = TRUE;
  int code = 0;

  g_object_get (result,
                "exit-code", &code,
                "success", &ok,
                "stdout", &text,
                "stderr", &err_text,
                "stdout-bytes", &got,
                NULL);
  g_assert_cmpint (code, ==, 137);
  g_assert_false (ok);
  g_assert_cmpstr (text, ==, "x\xef\xbf\xbd");
  g_assert_cmpstr (err_text, ==, "");
  g_assert_true (g_bytes_equal (got, out));
  g_assert_true (llmsbx_execution_result_get_oom_killed (result));

  success = g_object_class_find_property (G_OBJECT_GET_CLASS (result), "success");
  g_assert_false (success->flags & G_PARAM_WRITABLE);
}

static void
test_result_json (void)
{
  static const char raw[] = "quote\" back\\slash\nnul\0ctl\x01 bad\xfe end";
  g_autoptr(GBytes) out = bytes_of (raw, sizeof raw - 1);
  g_autoptr(GBytes) err = bytes_of ("E", 1);
  g_autoptr(LlmsbxExecutionResult) result = llmsbx_execution_result_new (-1, out, err, TRUE, 0.5);
  g_autofree char *json = llmsbx_execution_result_to_json (result);
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  JsonObject *object;

  g_assert_true (g_utf8_validate (json, -1, NULL));
  json_parser_load_from_data (parser, json, -1, &error);
  g_assert_no_error (error);

  object = json_node_get_object (json_parser_get_root (parser));
  g_assert_cmpuint (json_object_get_size (object), ==, 6);
  g_assert_cmpint (json_object_get_int_member (object, "exit_code"), ==, -1);
  g_assert_cmpstr (json_object_get_string_member (object, "stdout"), ==,
                   llmsbx_execution_result_get_stdout (result));
  g_assert_cmpstr (json_object_get_string_member (object, "stderr"), ==, "E");
  g_assert_true (json_object_get_boolean_member (object, "truncated"));
  g_assert_false (json_object_get_boolean_member (object, "oom_killed"));
  g_assert_cmpfloat (json_object_get_double_member (object, "duration"), ==, 0.5);
}

static void
test_result_json_exact (void)
{
  g_autoptr(GBytes) out = bytes_of ("42\n", 3);
  g_autoptr(LlmsbxExecutionResult) result = llmsbx_execution_result_new (0, out, NULL, FALSE, 0.125);
  g_autofree char *json = llmsbx_execution_result_to_json (result);

  g_assert_cmpstr (json, ==,
                   "{\"exit_code\":0,\"stdout\":\"42\\n\",\"stderr\":\"\",\"truncated\":false,\"oom_killed\":false,\"duration\":0.125}");
}

static void
test_exec_request_copy (void)
{
  const char *argv[] = { "python3", "-c", "print(1)", NULL };
  g_autoptr(LlmsbxExecRequest) request = llmsbx_exec_request_new (argv);
  g_autoptr(LlmsbxExecRequest) copy = NULL;
  g_autoptr(LlmsbxExecRequest) boxed = NULL;
  const char *env[] = { "A=1", "B=two", NULL };

  g_assert_cmpstrv (request->argv, argv);
  g_assert_null (request->env);
  g_assert_null (request->workdir);
  g_assert_null (request->user);
  g_assert_cmpint (request->deadline, ==, 0);

  request->env = g_strdupv ((char **) env);
  request->workdir = g_strdup ("/sandbox");
  request->user = g_strdup ("1000:1000");
  request->deadline = 12345;

  copy = llmsbx_exec_request_copy (request);
  g_assert_true (copy->argv != request->argv);
  g_assert_cmpstrv (copy->argv, argv);
  g_assert_cmpstrv (copy->env, env);
  g_assert_cmpstr (copy->workdir, ==, "/sandbox");
  g_assert_cmpstr (copy->user, ==, "1000:1000");
  g_assert_cmpint (copy->deadline, ==, 12345);

  /* The copy is independent of the original. */
  g_clear_pointer (&request, llmsbx_exec_request_free);
  g_assert_cmpstr (copy->argv[2], ==, "print(1)");

  boxed = g_boxed_copy (LLMSBX_TYPE_EXEC_REQUEST, copy);
  g_assert_cmpstrv (boxed->env, env);
  llmsbx_exec_request_free (NULL);
}

static void
test_container_spec_copy (void)
{
  g_autoptr(LlmsbxContainerSpec) spec = llmsbx_container_spec_new ();
  g_autoptr(LlmsbxContainerSpec) copy = NULL;
  g_autoptr(LlmsbxContainerSpec) empty_copy = NULL;
  const char *labels[] = { "io.llmsbx.managed-by=libllmsbx", "io.llmsbx.session=abc", "flag=", "a=b=c", NULL };
  const char *command[] = { "sleep", "infinity", NULL };
  GVariantDict dict;

  empty_copy = llmsbx_container_spec_copy (spec);
  g_assert_null (empty_copy->image);
  g_assert_null (empty_copy->labels);
  g_assert_null (empty_copy->runtime_configs);
  g_assert_null (llmsbx_container_spec_get_label (empty_copy, "io.llmsbx.session"));

  spec->name = g_strdup ("sbx");
  spec->image = g_strdup ("llmsbx/python:bookworm");
  spec->command = g_strdupv ((char **) command);
  spec->workdir = g_strdup ("/sandbox");
  spec->labels = g_strdupv ((char **) labels);
  g_variant_dict_init (&dict, NULL);
  g_variant_dict_insert (&dict, "mem_limit", "s", "512m");
  spec->runtime_configs = g_variant_ref_sink (g_variant_dict_end (&dict));
  spec->pod_manifest = g_variant_ref_sink (g_variant_new_parsed ("{'kind': <'Pod'>}"));
  spec->kube_namespace = g_strdup ("default");

  copy = g_boxed_copy (LLMSBX_TYPE_CONTAINER_SPEC, spec);
  g_clear_pointer (&spec, llmsbx_container_spec_free);

  g_assert_cmpstr (copy->name, ==, "sbx");
  g_assert_cmpstr (copy->image, ==, "llmsbx/python:bookworm");
  g_assert_cmpstrv (copy->command, command);
  g_assert_cmpstr (copy->workdir, ==, "/sandbox");
  g_assert_cmpstrv (copy->labels, labels);
  g_assert_null (copy->env);
  g_assert_cmpstr (copy->kube_namespace, ==, "default");
  g_assert_true (g_variant_lookup (copy->runtime_configs, "mem_limit", "&s", NULL));
  g_assert_true (g_variant_is_of_type (copy->pod_manifest, G_VARIANT_TYPE ("a{sv}")));

  g_assert_cmpstr (llmsbx_container_spec_get_label (copy, "io.llmsbx.managed-by"), ==, "libllmsbx");
  g_assert_cmpstr (llmsbx_container_spec_get_label (copy, "io.llmsbx.session"), ==, "abc");
  g_assert_cmpstr (llmsbx_container_spec_get_label (copy, "flag"), ==, "");
  g_assert_cmpstr (llmsbx_container_spec_get_label (copy, "a"), ==, "b=c");
  /* A key is matched whole, not as a prefix of another key. */
  g_assert_null (llmsbx_container_spec_get_label (copy, "io.llmsbx"));
  g_assert_null (llmsbx_container_spec_get_label (copy, "missing"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/execution-result/basic", test_result_basic);
  g_test_add_func ("/execution-result/failure-and-no-output", test_result_failure_and_no_output);
  g_test_add_func ("/execution-result/invalid-utf8", test_result_invalid_utf8);
  g_test_add_func ("/execution-result/properties", test_result_properties);
  g_test_add_func ("/execution-result/json", test_result_json);
  g_test_add_func ("/execution-result/json-exact", test_result_json_exact);
  g_test_add_func ("/exec-request/copy", test_exec_request_copy);
  g_test_add_func ("/container-spec/copy", test_container_spec_copy);

  return g_test_run ();
}
