/* test-sandbox-info.c: what list_sandboxes reports, and its label selectors. */
#include <llmsbx.h>

static const char * const labels[] = {
  "io.llmsbx.managed-by=libllmsbx", "io.llmsbx.session=abc", "empty=", "flag", NULL
};

static void
test_labels (void)
{
  g_autoptr(LlmsbxSandboxInfo) info = llmsbx_sandbox_info_new ("0123", labels);
  g_autoptr(LlmsbxSandboxInfo) copy = llmsbx_sandbox_info_copy (info);

  g_assert_cmpstr (copy->id, ==, "0123");
  g_assert_cmpstr (llmsbx_sandbox_info_get_label (copy, "io.llmsbx.session"), ==, "abc");
  g_assert_cmpstr (llmsbx_sandbox_info_get_label (copy, "empty"), ==, "");
  g_assert_cmpstr (llmsbx_sandbox_info_get_label (copy, "flag"), ==, "");
  /* A key that is only the start of another is not it. */
  g_assert_null (llmsbx_sandbox_info_get_label (copy, "io.llmsbx"));
  g_assert_null (llmsbx_sandbox_info_get_label (copy, "missing"));
}

static void
test_selector (void)
{
  g_autoptr(LlmsbxSandboxInfo) info = llmsbx_sandbox_info_new ("0123", labels);
  g_autoptr(LlmsbxSandboxInfo) bare = llmsbx_sandbox_info_new ("4567", NULL);

  g_assert_true (llmsbx_sandbox_info_matches (info, NULL));
  g_assert_true (llmsbx_sandbox_info_matches (info, (const char *[]) { NULL }));
  g_assert_true (llmsbx_sandbox_info_matches (info, (const char *[]) { "io.llmsbx.managed-by=libllmsbx", NULL }));
  /* Every entry must match: key=value is that value, key alone is set. */
  g_assert_true (llmsbx_sandbox_info_matches (info, (const char *[]) { "io.llmsbx.session=abc", "flag", NULL }));
  g_assert_false (llmsbx_sandbox_info_matches (info, (const char *[]) { "io.llmsbx.session=abcd", NULL }));
  g_assert_false (llmsbx_sandbox_info_matches (info, (const char *[]) { "io.llmsbx.session=ab", NULL }));
  g_assert_false (llmsbx_sandbox_info_matches (info, (const char *[]) { "io.llmsbx.session=abc", "other", NULL }));
  g_assert_true (llmsbx_sandbox_info_matches (info, (const char *[]) { "empty=", NULL }));
  g_assert_false (llmsbx_sandbox_info_matches (info, (const char *[]) { "flag=x", NULL }));
  g_assert_false (llmsbx_sandbox_info_matches (info, (const char *[]) { "io.llmsbx", NULL }));
  g_assert_true (llmsbx_sandbox_info_matches (bare, NULL));
  g_assert_false (llmsbx_sandbox_info_matches (bare, (const char *[]) { "flag", NULL }));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/sandbox-info/labels", test_labels);
  g_test_add_func ("/sandbox-info/selector", test_selector);

  return g_test_run ();
}
