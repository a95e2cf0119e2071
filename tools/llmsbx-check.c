/* llmsbx-check.c: `llmsbx check`, code against a security policy, without a sandbox. */
#include <llmsbx.h>

#include "llmsbx-tool.h"

/* Exit status for code that the policy blocks. */
#define EXIT_UNSAFE 1

static LlmsbxSecurityPolicy *
load_policy (const char  *preset_name,
             const char  *policy_file,
             const char  *lang,
             GError     **error)
{
  g_autoptr(LlmsbxSecurityPreset) preset = NULL;
  g_autofree char *json = NULL;

  if (policy_file != NULL)
    {
      if (!g_file_get_contents (policy_file, &json, NULL, error))
        return NULL;
      return llmsbx_security_policy_new_from_json (json, error);
    }

  preset = llmsbx_get_security_preset (preset_name, lang, NULL, error);
  if (preset == NULL)
    return NULL;
  return g_object_ref (llmsbx_security_preset_get_security_policy (preset));
}

static const char *
severity_name (LlmsbxSecurityIssueSeverity severity)
{
  const char *name = llmsbx_security_issue_severity_to_string (severity);

  return name != NULL ? name : "?";
}

int
llmsbx_tool_check (int    argc,
                   char **argv)
{
  g_autofree char *lang = NULL;
  g_autofree char *preset_name = NULL;
  g_autofree char *policy_file = NULL;
  g_autofree char *inline_code = NULL;
  const GOptionEntry entries[] = {
    { "lang", 'l', 0, G_OPTION_ARG_STRING, &lang, "Language of the code (default: python)", "LANG" },
    { "preset", 'p', 0, G_OPTION_ARG_STRING, &preset_name,
      "Security preset: development, production, strict (default) or educational", "PRESET" },
    { "policy", 0, 0, G_OPTION_ARG_FILENAME, &policy_file, "Security policy as a JSON file instead of a preset", "FILE" },
    { "code", 'c', 0, G_OPTION_ARG_FILENAME, &inline_code, "Check CODE instead of a file", "CODE" },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr(GOptionContext) context = g_option_context_new ("(FILE | -c CODE | -)");
  g_autoptr(LlmsbxSecurityPolicy) policy = NULL;
  g_autoptr(LlmsbxLanguageHandler) handler = NULL;
  g_autoptr(GPtrArray) violations = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *code = NULL;
  LlmsbxSecurityIssueSeverity threshold;
  gboolean safe;

  g_option_context_set_summary (context,
    "Checks code against a security policy, the way `llmsbx run` and sessions do\n"
    "before they run it, and prints every violation. No sandbox is involved.");
  g_option_context_set_description (context,
    "Exit status: 0 when the policy lets the code run (violations below its\n"
    "threshold are still printed); 1 when it blocks it; 125 when llmsbx itself\n"
    "failed; 2 for a usage error.\n"
    "A regular-expression scan cannot prove code safe: run untrusted code only in\n"
    "a sandbox, with a preset's container settings (llmsbx run --preset).");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!llmsbx_tool_parse_options (context, &argc, &argv))
    return LLMSBX_TOOL_EXIT_USAGE;

  if (preset_name != NULL && policy_file != NULL)
    return llmsbx_tool_usage_error (argv[0], "give either --preset or --policy, not both");
  if (inline_code != NULL && argc > 1)
    return llmsbx_tool_usage_error (argv[0], "give either -c CODE or a FILE, not both");
  if (inline_code == NULL && argc < 2)
    return llmsbx_tool_usage_error (argv[0], "no code: give a FILE, -c CODE, or - to read standard input");
  if (argc > 2)
    return llmsbx_tool_usage_error (argv[0], "unexpected argument '%s'", argv[2]);

  code = llmsbx_tool_read_code (inline_code, argv[1], &error);
  if (code == NULL)
    return llmsbx_tool_fail (error);

  policy = load_policy (preset_name ? preset_name : "strict", policy_file, lang ? lang : "python", &error);
  if (policy == NULL)
    return llmsbx_tool_fail (error);

  handler = llmsbx_registry_lookup_language (llmsbx_registry_get_default (), lang ? lang : "python", &error);
  if (handler == NULL)
    return llmsbx_tool_fail (error);

  safe = llmsbx_security_policy_check (policy, handler, code, &violations, &error);
  if (error != NULL)
    return llmsbx_tool_fail (error);

  threshold = llmsbx_security_policy_get_severity_threshold (policy);
  for (guint i = 0; i < violations->len; i++)
    {
      LlmsbxSecurityPattern *violation = g_ptr_array_index (violations, i);
      LlmsbxSecurityIssueSeverity severity = llmsbx_security_pattern_get_severity (violation);
      const char *module = llmsbx_security_pattern_get_module (violation);
      gboolean blocks = threshold != LLMSBX_SECURITY_ISSUE_SEVERITY_SAFE && severity >= threshold;

      g_print ("%-6s %-8s %s (%s %s)\n", severity_name (severity), blocks ? "blocks" : "reported",
               llmsbx_security_pattern_get_description (violation),
               module ? "restricted module" : "pattern",
               module ? module : llmsbx_security_pattern_get_pattern (violation));
    }

  if (safe)
    {
      g_print ("safe: the policy (threshold %s) lets the code run\n", severity_name (threshold));
      return EXIT_SUCCESS;
    }

  g_print ("unsafe: the policy (threshold %s) blocks the code\n", severity_name (threshold));
  return EXIT_UNSAFE;
}
