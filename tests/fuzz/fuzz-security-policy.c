/* fuzz-security-policy.c: a libFuzzer target for the security policy's JSON
 * reader (llmsbx_security_policy_new_from_json), which `llmsbx check --policy`
 * and every binding use to load a policy from a file.
 *
 * Each input is JSON text, not necessarily valid. Besides ASan's checks, each
 * run asserts what callers rely on: the reader fails only with
 * INVALID_ARGUMENT, and a policy it accepts writes itself out as JSON that
 * reads back into the same policy. */
#include <string.h>

#include <llmsbx.h>

#define MAX_FUZZ_INPUT (256 * 1024)

int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

int
LLVMFuzzerTestOneInput (const guint8 *data,
                        size_t        size)
{
  g_autofree char *text = NULL;
  g_autofree char *written = NULL;
  g_autofree char *rewritten = NULL;
  g_autoptr(LlmsbxSecurityPolicy) policy = NULL;
  g_autoptr(LlmsbxSecurityPolicy) again = NULL;
  g_autoptr(GError) error = NULL;

  if (size > MAX_FUZZ_INPUT)
    return 0;

  text = g_strndup ((const char *) data, size);
  policy = llmsbx_security_policy_new_from_json (text, &error);
  if (policy == NULL)
    {
      g_assert (g_error_matches (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT));
      g_assert (g_utf8_validate (error->message, -1, NULL));
      return 0;
    }
  g_assert (error == NULL);

  written = llmsbx_security_policy_to_json (policy);
  again = llmsbx_security_policy_new_from_json (written, &error);
  g_assert (error == NULL && again != NULL);
  rewritten = llmsbx_security_policy_to_json (again);
  g_assert (g_str_equal (written, rewritten));
  g_assert (llmsbx_security_policy_get_severity_threshold (again) ==
            llmsbx_security_policy_get_severity_threshold (policy));
  return 0;
}
