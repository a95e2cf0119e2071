/* test-security-presets.c: the security presets (the guide's values, every
 * backend), their patterns for every language checked through the real
 * language handlers of the build tree, presets for a handler and a backend
 * registered at run time, applying them to a session, and is_safe() of a
 * session that is not open (no daemon is needed). */
#include <json-glib/json-glib.h>
#include <string.h>

#include <llmsbx.h>

#define SAFE LLMSBX_SECURITY_ISSUE_SEVERITY_SAFE
#define LOW LLMSBX_SECURITY_ISSUE_SEVERITY_LOW
#define MEDIUM LLMSBX_SECURITY_ISSUE_SEVERITY_MEDIUM
#define HIGH LLMSBX_SECURITY_ISSUE_SEVERITY_HIGH

static const char * const preset_names[] = { "development", "production", "strict", "educational", NULL };
static const char * const languages[] = { "python", "javascript", "java", "cpp", "go", "ruby", "r", NULL };

static LlmsbxSecurityPreset *
get_preset (const char *name,
            const char *lang,
            const char *backend)
{
  g_autoptr(GError) error = NULL;
  LlmsbxSecurityPreset *preset = llmsbx_get_security_preset (name, lang, backend, &error);

  g_assert_no_error (error);
  g_assert_nonnull (preset);
  return preset;
}

static LlmsbxLanguageHandler *
handler_for (const char *lang)
{
  g_autoptr(GError) error = NULL;
  LlmsbxLanguageHandler *handler = llmsbx_registry_lookup_language (llmsbx_registry_get_default (), lang, &error);

  g_assert_no_error (error);
  return handler;
}

/* The verdict on @code, and the violations' descriptions joined by '|'. */
static gboolean
check (const char  *preset_name,
       const char  *lang,
       const char  *code,
       char       **found)
{
  g_autoptr(LlmsbxSecurityPreset) preset = get_preset (preset_name, lang, "docker");
  g_autoptr(LlmsbxLanguageHandler) handler = handler_for (lang);
  g_autoptr(GPtrArray) violations = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GString) text = g_string_new (NULL);
  gboolean safe;

  safe = llmsbx_security_policy_check (llmsbx_security_preset_get_security_policy (preset), handler, code,
                                       &violations, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < violations->len; i++)
    g_string_append_printf (text, "%s%s", i ? "|" : "",
                            llmsbx_security_pattern_get_description (g_ptr_array_index (violations, i)));
  if (found != NULL)
    *found = g_string_free (g_steal_pointer (&text), FALSE);
  return safe;
}

static void
assert_blocked (const char *preset_name,
                const char *lang,
                const char *code)
{
  g_autofree char *found = NULL;

  if (check (preset_name, lang, code, &found))
    g_error ("%s code was let through by the %s preset: %s", lang, preset_name, code);
  g_assert_cmpstr (found, !=, "");
}

static void
assert_allowed (const char *preset_name,
                const char *lang,
                const char *code)
{
  g_autofree char *found = NULL;

  if (!check (preset_name, lang, code, &found))
    g_error ("%s code was blocked by the %s preset (%s): %s", lang, preset_name, found, code);
}

static GVariant *
lookup (GVariant   *dict,
        const char *key)
{
  return g_variant_lookup_value (dict, key, NULL);
}

static void
assert_string (GVariant   *dict,
               const char *key,
               const char *expected)
{
  g_autoptr(GVariant) value = lookup (dict, key);

  if (expected == NULL)
    {
      g_assert_null (value);
      return;
    }
  g_assert_nonnull (value);
  g_assert_cmpstr (g_variant_get_string (value, NULL), ==, expected);
}

static void
assert_int (GVariant   *dict,
            const char *key,
            gint64      expected)
{
  g_autoptr(GVariant) value = lookup (dict, key);

  g_assert_nonnull (value);
  g_assert_cmpint (g_variant_get_int64 (value), ==, expected);
}

static void
assert_bool (GVariant   *dict,
             const char *key,
             gboolean    expected)
{
  g_autoptr(GVariant) value = lookup (dict, key);

  g_assert_nonnull (value);
  g_assert_cmpint (g_variant_get_boolean (value), ==, expected);
}

static void
assert_strv_value (GVariant   *dict,
                   const char *key,
                   const char *expected)
{
  g_autoptr(GVariant) value = lookup (dict, key);
  g_autofree const char **strv = NULL;
  g_autofree char *joined = NULL;

  g_assert_nonnull (value);
  strv = g_variant_get_strv (value, NULL);
  joined = g_strjoinv (",", (char **) strv);
  g_assert_cmpstr (joined, ==, expected);
}

/* Names and errors ------------------------------------------------------- */

static void
test_list (void)
{
  g_auto(GStrv) names = llmsbx_list_available_presets ();

  g_assert_true (g_strv_equal ((const char * const *) names, preset_names));
}

/* The list of backends the presets cover, as errors give it: by falling
 * rank, Docker, Podman, bubblewrap (marginal) when its plugin was built,
 * then @unranked. */
static char *
preset_backends (const char *unranked)
{
  g_auto(GStrv) backends = llmsbx_registry_list_backends (llmsbx_registry_get_default ());

  return g_strconcat ("docker, podman, ",
                      g_strv_contains ((const char * const *) backends, "bubblewrap") ? "bubblewrap, " : "",
                      unranked, NULL);
}

static void
test_errors (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(LlmsbxSecurityPreset) preset = NULL;
  g_autofree char *covered = preset_backends ("kubernetes");

  preset = llmsbx_get_security_preset ("paranoid", "python", "docker", &error);
  g_assert_null (preset);
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "development, production, strict, educational"));
  g_clear_error (&error);

  preset = llmsbx_get_security_preset ("strict", "cobol", "docker", &error);
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_LANGUAGE_NOT_SUPPORTED);
  g_assert_nonnull (strstr (error->message, "python, javascript, java, cpp, go, ruby, r"));
  g_clear_error (&error);

  preset = llmsbx_get_security_preset ("strict", "python", "lxc", &error);
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_BACKEND_NOT_SUPPORTED);
  g_assert_nonnull (strstr (error->message, covered));
  g_clear_error (&error);

  /* Names are case-insensitive; the language and backend have defaults. */
  preset = llmsbx_get_security_preset ("Strict", NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (llmsbx_security_preset_get_name (preset), ==, "strict");
  g_assert_cmpstr (llmsbx_security_preset_get_lang (preset), ==, "python");
  g_assert_cmpstr (llmsbx_security_preset_get_backend (preset), ==, "docker");
  g_clear_object (&preset);

  preset = llmsbx_get_security_preset ("production", "JavaScript", "PODMAN", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (llmsbx_security_preset_get_lang (preset), ==, "javascript");
  g_assert_cmpstr (llmsbx_security_preset_get_backend (preset), ==, "podman");
}


static gboolean
policy_has_pattern (LlmsbxSecurityPolicy *policy,
                    const char           *description)
{
  g_autoptr(GPtrArray) patterns = llmsbx_security_policy_get_patterns (policy);

  for (guint i = 0; i < patterns->len; i++)
    if (g_strcmp0 (llmsbx_security_pattern_get_description (g_ptr_array_index (patterns, i)), description) == 0)
      return TRUE;
  return FALSE;
}

/* The guide's "Layer Security Policies": get_security_policy (name) is the
 * preset's policy for the language, a new one at every call, so that layering
 * patterns on one changes no other. */
static void
test_get_security_policy (void)
{
  g_autoptr(GError) error = NULL;

  for (guint i = 0; preset_names[i] != NULL; i++)
    for (guint j = 0; languages[j] != NULL; j++)
      {
        g_autoptr(LlmsbxSecurityPreset) preset = get_preset (preset_names[i], languages[j], LLMSBX_BACKEND_DOCKER);
        g_autoptr(LlmsbxSecurityPolicy) policy = llmsbx_get_security_policy (preset_names[i], languages[j], &error);
        LlmsbxSecurityPolicy *expected = llmsbx_security_preset_get_security_policy (preset);
        g_autoptr(GPtrArray) patterns = NULL;
        g_autoptr(GPtrArray) expected_patterns = NULL;

        g_assert_no_error (error);
        g_assert_true (policy != expected);
        g_assert_cmpint (llmsbx_security_policy_get_severity_threshold (policy), ==,
                         llmsbx_security_policy_get_severity_threshold (expected));
        patterns = llmsbx_security_policy_get_patterns (policy);
        expected_patterns = llmsbx_security_policy_get_patterns (expected);
        g_assert_cmpuint (patterns->len, ==, expected_patterns->len);
        g_assert_cmpuint (patterns->len, >, 0);
        for (guint k = 0; k < patterns->len; k++)
          g_assert_cmpstr (llmsbx_security_pattern_get_pattern (g_ptr_array_index (patterns, k)), ==,
                           llmsbx_security_pattern_get_pattern (g_ptr_array_index (expected_patterns, k)));
      }

  {
    g_autoptr(LlmsbxSecurityPolicy) base = llmsbx_get_security_policy ("PRODUCTION", NULL, &error);
    g_autoptr(LlmsbxSecurityPolicy) again = NULL;
    g_autoptr(LlmsbxSecurityPattern) pattern = NULL;
    g_autoptr(GPtrArray) before = NULL;
    g_autoptr(GPtrArray) after = NULL;
    g_autoptr(GPtrArray) untouched = NULL;

    g_assert_no_error (error);
    before = llmsbx_security_policy_get_patterns (base);
    pattern = llmsbx_security_pattern_new ("requests\\.get\\s*\\(.*internal", "Internal network access", HIGH, &error);
    g_assert_no_error (error);
    llmsbx_security_policy_add_pattern (base, pattern);
    after = llmsbx_security_policy_get_patterns (base);
    g_assert_cmpuint (after->len, ==, before->len + 1);

    again = llmsbx_get_security_policy ("production", "python", &error);
    g_assert_no_error (error);
    untouched = llmsbx_security_policy_get_patterns (again);
    g_assert_cmpuint (untouched->len, ==, before->len);
    g_assert_false (policy_has_pattern (again, "Internal network access"));
    g_assert_true (policy_has_pattern (base, "Internal network access"));
  }

  g_assert_null (llmsbx_get_security_policy ("paranoid", NULL, &error));
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "development, production, strict, educational"));
  g_clear_error (&error);

  g_assert_null (llmsbx_get_security_policy ("strict", "cobol", &error));
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_LANGUAGE_NOT_SUPPORTED);
}

/* Values ----------------------------------------------------------------- */

/* The guide's "Preset Comparison" table. */
static void
test_comparison_table (void)
{
  const struct {
    const char *name;
    LlmsbxSecurityIssueSeverity threshold;
    const char *network;
    const char *memory;
    gboolean read_only;
    const char *user;
  } rows[] = {
    { "development", HIGH, "bridge", "1g", FALSE, NULL },
    { "production", MEDIUM, "none", "512m", TRUE, "nobody:nogroup" },
    { "strict", LOW, "none", "128m", TRUE, "nobody:nogroup" },
    { "educational", MEDIUM, "bridge", "256m", TRUE, "1000:1000" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (rows); i++)
    {
      g_autoptr(LlmsbxSecurityPreset) preset = get_preset (rows[i].name, "python", "docker");
      GVariant *config = llmsbx_security_preset_get_runtime_config (preset);

      g_assert_cmpint (llmsbx_security_policy_get_severity_threshold (llmsbx_security_preset_get_security_policy (preset)),
                       ==, rows[i].threshold);
      assert_string (config, "network_mode", rows[i].network);
      assert_string (config, "mem_limit", rows[i].memory);
      assert_bool (config, "read_only", rows[i].read_only);
      assert_string (config, "user", rows[i].user);
      g_assert_null (llmsbx_security_preset_get_pod_manifest_fragment (preset));
    }
}

/* The guide's strict example, key by key, and what is added to it. */
static void
test_strict_example (void)
{
  g_autoptr(LlmsbxSecurityPreset) preset = get_preset ("strict", "python", "docker");
  GVariant *config = llmsbx_security_preset_get_runtime_config (preset);
  g_autoptr(GVariant) tmpfs = lookup (config, "tmpfs");

  assert_string (config, "mem_limit", "128m");
  assert_int (config, "cpu_period", 100000);
  assert_int (config, "cpu_quota", 50000);
  assert_string (config, "network_mode", "none");
  assert_bool (config, "read_only", TRUE);
  assert_string (tmpfs, "/tmp", "size=50m,noexec,nosuid,nodev");
  assert_string (config, "user", "nobody:nogroup");
  assert_strv_value (config, "cap_drop", "ALL");
  assert_strv_value (config, "security_opt", "no-new-privileges:true");

  /* Additions: a writable workdir owned by the user, a process limit, HOME. */
  assert_string (tmpfs, "/sandbox", "rw,exec,nosuid,nodev,size=64m,uid=65534,gid=65534");
  assert_int (config, "pids_limit", 128);
  {
    g_autoptr(GVariant) environment = lookup (config, "environment");

    assert_string (environment, "HOME", "/sandbox");
  }
}

static void
test_docker_and_podman_agree (void)
{
  for (guint i = 0; preset_names[i] != NULL; i++)
    for (guint j = 0; languages[j] != NULL; j++)
      {
        g_autoptr(LlmsbxSecurityPreset) docker = get_preset (preset_names[i], languages[j], "docker");
        g_autoptr(LlmsbxSecurityPreset) podman = get_preset (preset_names[i], languages[j], "podman");
        g_autofree char *docker_policy = llmsbx_security_policy_to_json (llmsbx_security_preset_get_security_policy (docker));
        g_autofree char *podman_policy = llmsbx_security_policy_to_json (llmsbx_security_preset_get_security_policy (podman));

        g_assert_true (g_variant_equal (llmsbx_security_preset_get_runtime_config (docker),
                                        llmsbx_security_preset_get_runtime_config (podman)));
        g_assert_cmpstr (docker_policy, ==, podman_policy);
      }
}

static GVariant *
first_container (GVariant *spec)
{
  g_autoptr(GVariant) containers = lookup (spec, "containers");

  g_assert_cmpuint (g_variant_n_children (containers), ==, 1);
  return g_variant_get_child_value (containers, 0);
}

static void
test_kubernetes_fragment (void)
{
  const struct {
    const char *name;
    const char *memory;
    const char *cpu;
    gboolean read_only;
    gint64 uid;
  } rows[] = {
    { "development", "1Gi", "2", FALSE, -1 },
    { "production", "512Mi", "1", TRUE, 65534 },
    { "strict", "128Mi", "500m", TRUE, 65534 },
    { "educational", "256Mi", "1", TRUE, 1000 },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (rows); i++)
    {
      g_autoptr(LlmsbxSecurityPreset) preset = get_preset (rows[i].name, "python", "kubernetes");
      GVariant *fragment = llmsbx_security_preset_get_pod_manifest_fragment (preset);
      g_autoptr(GVariant) spec = NULL;
      g_autoptr(GVariant) container = NULL;
      g_autoptr(GVariant) resources = NULL;
      g_autoptr(GVariant) limits = NULL;
      g_autoptr(GVariant) security = NULL;
      g_autoptr(GVariant) pod_security = NULL;

      /* The guide: Kubernetes presets carry no runtime config. */
      g_assert_null (llmsbx_security_preset_get_runtime_config (preset));
      g_assert_nonnull (llmsbx_security_preset_get_security_policy (preset));
      g_assert_nonnull (fragment);

      spec = lookup (fragment, "spec");
      container = first_container (spec);
      resources = lookup (container, "resources");
      limits = lookup (resources, "limits");
      assert_string (limits, "memory", rows[i].memory);
      assert_string (limits, "cpu", rows[i].cpu);

      security = lookup (container, "securityContext");
      assert_bool (security, "readOnlyRootFilesystem", rows[i].read_only);
      assert_bool (security, "privileged", FALSE);

      pod_security = lookup (spec, "securityContext");
      if (rows[i].uid < 0)
        {
          g_autoptr(GVariant) run_as = lookup (pod_security, "runAsUser");

          g_assert_null (run_as);
          continue;
        }
      assert_int (pod_security, "runAsUser", rows[i].uid);
      assert_int (pod_security, "runAsGroup", rows[i].uid);
      assert_bool (pod_security, "runAsNonRoot", TRUE);
      assert_bool (security, "allowPrivilegeEscalation", FALSE);
      {
        g_autoptr(GVariant) capabilities = lookup (security, "capabilities");
        g_autoptr(GVariant) mounts = lookup (container, "volumeMounts");
        g_autoptr(GVariant) volumes = lookup (spec, "volumes");

        g_autoptr(GVariant) env = lookup (container, "env");
        gboolean has_home = FALSE;

        assert_strv_value (capabilities, "drop", "ALL");
        assert_bool (spec, "automountServiceAccountToken", FALSE);
        /* The environment the engines' runtime config gives, as env. */
        g_assert_nonnull (env);
        for (gsize j = 0; j < g_variant_n_children (env); j++)
          {
            g_autoptr(GVariant) entry = g_variant_get_child_value (env, j);
            g_autoptr(GVariant) entry_name = g_variant_lookup_value (entry, "name", G_VARIANT_TYPE_STRING);
            g_autoptr(GVariant) entry_value = g_variant_lookup_value (entry, "value", G_VARIANT_TYPE_STRING);

            if (g_str_equal (g_variant_get_string (entry_name, NULL), "HOME"))
              has_home = g_str_equal (g_variant_get_string (entry_value, NULL), "/sandbox");
          }
        g_assert_true (has_home);
        g_assert_cmpuint (g_variant_n_children (mounts), ==, 2);
        g_assert_cmpuint (g_variant_n_children (volumes), ==, 2);
      }
    }
}

/* Each call makes new objects: customising one preset leaves the next alone. */
static void
test_presets_are_independent (void)
{
  g_autoptr(LlmsbxSecurityPreset) first = get_preset ("production", "python", "docker");
  g_autoptr(LlmsbxSecurityPreset) second = NULL;
  g_autoptr(LlmsbxSecurityPattern) pattern = NULL;
  g_autoptr(GPtrArray) first_patterns = NULL;
  g_autoptr(GPtrArray) second_patterns = NULL;
  g_autoptr(GError) error = NULL;

  pattern = llmsbx_security_pattern_new ("\\bpandas\\.", "Pandas library usage", LOW, &error);
  g_assert_no_error (error);
  llmsbx_security_policy_add_pattern (llmsbx_security_preset_get_security_policy (first), pattern);
  llmsbx_security_preset_set_runtime_config (first, g_variant_new_parsed ("{'mem_limit': <'1g'>}"));

  second = get_preset ("production", "python", "docker");
  first_patterns = llmsbx_security_policy_get_patterns (llmsbx_security_preset_get_security_policy (first));
  second_patterns = llmsbx_security_policy_get_patterns (llmsbx_security_preset_get_security_policy (second));
  g_assert_cmpuint (first_patterns->len, ==, second_patterns->len + 1);
  assert_string (llmsbx_security_preset_get_runtime_config (second), "mem_limit", "512m");
  assert_string (llmsbx_security_preset_get_runtime_config (first), "mem_limit", "1g");
}

/* Patterns through the real handlers ------------------------------------- */

static const struct {
  const char *lang;
  const char *hello;
} hello_world[] = {
  { "python", "print('Hello, World!')\n" },
  { "javascript", "console.log('Hello, World!');\n" },
  { "java", "public class Main {\n  public static void main(String[] args) {\n"
            "    System.out.println(\"Hello, World!\");\n  }\n}\n" },
  { "cpp", "#include <iostream>\nint main() {\n  std::cout << \"Hello, World!\" << std::endl;\n  return 0;\n}\n" },
  { "go", "package main\n\nimport \"fmt\"\n\nfunc main() {\n\tfmt.Println(\"Hello, World!\")\n}\n" },
  { "ruby", "puts 'Hello, World!'\n" },
  { "r", "cat('Hello, World!\\n')\nprint(1 + 1)\n" },
};

/* Every preset's patterns and every module's import regex of every handler
 * compile, and plain programs pass. */
static void
test_hello_world_passes_everywhere (void)
{
  for (gsize i = 0; i < G_N_ELEMENTS (hello_world); i++)
    for (guint j = 0; preset_names[j] != NULL; j++)
      assert_allowed (preset_names[j], hello_world[i].lang, hello_world[i].hello);
}

/* Command execution is blocked by every preset, in every language. */
static const struct {
  const char *lang;
  const char *code;
} command_execution[] = {
  { "python", "import os; os.system('ls')" },
  { "python", "import subprocess\nsubprocess.run(['ls'])" },
  { "python", "import os\nos . system ('ls')" },
  { "python", "import os\nos.popen('ls').read()" },
  { "javascript", "const cp = require('child_process');\ncp.exec('ls');" },
  { "javascript", "import { execSync } from 'node:child_process';\nexecSync('ls');" },
  { "javascript", "const { spawnSync } = process.mainModule.require('child_process'); spawnSync('ls');" },
  { "java", "class M { public static void main(String[] a) throws Exception {\n"
            "  Runtime.getRuntime().exec(\"ls\"); } }" },
  { "java", "class M { public static void main(String[] a) throws Exception {\n"
            "  new ProcessBuilder(\"ls\").inheritIO().start(); } }" },
  { "cpp", "#include <cstdlib>\nint main() { return system(\"ls\"); }" },
  { "cpp", "#include <cstdlib>\nint main() { return std::system(\"ls\"); }" },
  { "cpp", "#include <cstdio>\nint main() { FILE *p = popen(\"ls\", \"r\"); return p == 0; }" },
  { "go", "package main\nimport \"os/exec\"\nfunc main() { exec.Command(\"ls\").Run() }" },
  { "ruby", "system('ls')" },
  { "ruby", "puts `ls`" },
  { "ruby", "puts %x(ls)" },
  { "ruby", "IO.popen('ls') { |f| puts f.read }" },
  { "r", "system('ls')" },
  { "r", "system2('ls', stdout = TRUE)" },
  /* Bypasses of earlier patterns, found while writing docs/security.md. */
  { "python", "import posix; posix.system('id')" },
  { "javascript", "require('chi' + 'ld_process').execSync('id');" },
  { "java", "class M { public static void main(String[] a) throws Exception {\n"
            "  Runtime r = Runtime.getRuntime(); r.exec(\"id\"); } }" },
};

static void
test_command_execution_blocked (void)
{
  for (gsize i = 0; i < G_N_ELEMENTS (command_execution); i++)
    for (guint j = 0; preset_names[j] != NULL; j++)
      assert_blocked (preset_names[j], command_execution[i].lang, command_execution[i].code);
}

/* The same calls inside comments are not code. */
static void
test_commented_out_code_passes (void)
{
  assert_allowed ("strict", "python", "# os.system('ls')\nprint(1)");
  assert_allowed ("strict", "javascript", "// require('child_process').exec('ls')\n/* eval(x) */ console.log(1);");
  assert_allowed ("strict", "java", "class M { /* Runtime.getRuntime().exec(\"ls\"); */ }");
  assert_allowed ("strict", "cpp", "// system(\"ls\");\nint main() { return 0; }");
  assert_allowed ("strict", "go", "package main\n// exec.Command(\"ls\")\nfunc main() {}");
  assert_allowed ("strict", "ruby", "# system('ls')\nputs 1");
  assert_allowed ("strict", "r", "# system('ls')\nprint(1)");
  assert_allowed ("strict", "python", "# -*- coding: utf-8 -*-\nprint(1)");
}

/* A coding declaration other than UTF-8 makes Python decode what the scanner
 * sees as harmless text: `+AGkAbQBw...-` is `import os` in UTF-7. */
static void
test_foreign_source_encoding_blocked (void)
{
  assert_blocked ("strict", "python", "# -*- coding: utf-7 -*-\n+AGkAbQBwAG8AcgB0ACAAbwBz-\n");
  assert_blocked ("production", "python", "#!/usr/bin/env python3\n# coding=latin-1\nprint(1)\n");
}

/* Restricted modules, through each language's import regex. */
static void
test_restricted_imports (void)
{
  const struct {
    const char *preset;
    const char *lang;
    const char *code;
  } imports[] = {
    { "production", "python", "import subprocess" },
    { "production", "python", "from ctypes import CDLL" },
    { "development", "python", "import ctypes" },
    { "development", "python", "import _ctypes" },
    { "production", "python", "import sys\nsys.modules['o' + 's'].system('id')" },
    { "production", "python", "().__class__.__base__.__subclasses__()" },
    { "strict", "cpp", "#include <dlfcn.h>\nint main() { return dlsym(0, \"system\") != 0; }" },
    { "production", "javascript", "const cp = require('child_process');" },
    { "production", "cpp", "#include <unistd.h>\nint main() { return 0; }" },
    { "production", "go", "package main\nimport \"syscall\"\nfunc main() {}" },
    { "production", "ruby", "require 'open3'" },
    { "production", "r", "library(processx)" },
    { "production", "java", "import java.lang.reflect.Method;\nclass M {}" },
    { "strict", "python", "import socket" },
    { "strict", "javascript", "const net = require('net');" },
    { "strict", "go", "package main\nimport \"net/http\"\nfunc main() {}" },
    { "strict", "ruby", "require 'net/http'" },
    { "strict", "java", "import java.net.Socket;\nclass M {}" },
    { "strict", "cpp", "#include <sys/socket.h>\nint main() { return 0; }" },
    { "strict", "r", "library(httr)" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (imports); i++)
    assert_blocked (imports[i].preset, imports[i].lang, imports[i].code);

  /* development leaves the operating system alone. */
  assert_allowed ("development", "python", "import os\nprint(os.getcwd())");
}

/* Strict blocks what production lets through. */
static void
test_strict_is_stricter (void)
{
  assert_allowed ("production", "python", "with open('out.txt', 'w') as f:\n    f.write('x')");
  assert_blocked ("strict", "python", "with open('out.txt', 'w') as f:\n    f.write('x')");
  assert_allowed ("production", "javascript", "fetch('http://example.com');");
  assert_blocked ("strict", "javascript", "fetch('http://example.com');");
  assert_blocked ("production", "python", "eval('1+1')");
  assert_allowed ("development", "python", "eval('1+1')");
}

/* Sessions --------------------------------------------------------------- */

/* The guide's complete example: is_safe() on the strict preset. */
static void
test_session_is_safe_guide_example (void)
{
  g_autoptr(LlmsbxSecurityPreset) preset = get_preset ("strict", "python", "docker");
  g_autoptr(LlmsbxSandboxSession) session = NULL;
  g_autoptr(GPtrArray) violations = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  gboolean found_system = FALSE;

  session = g_object_new (LLMSBX_TYPE_SANDBOX_SESSION,
                          "lang", "python",
                          "security-policy", llmsbx_security_preset_get_security_policy (preset),
                          "runtime-configs", llmsbx_security_preset_get_runtime_config (preset),
                          NULL);
  before = llmsbx_security_policy_to_json (llmsbx_sandbox_session_get_security_policy (session));

  g_assert_false (llmsbx_sandbox_session_is_safe (session, "import os; os.system('ls')", &violations, &error));
  g_assert_no_error (error);
  for (guint i = 0; i < violations->len; i++)
    if (g_str_equal (llmsbx_security_pattern_get_description (g_ptr_array_index (violations, i)),
                     "System command execution"))
      found_system = TRUE;
  g_assert_true (found_system);
  g_clear_pointer (&violations, g_ptr_array_unref);

  g_assert_true (llmsbx_sandbox_session_is_safe (session, "print('Hello, World!')", &violations, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (violations->len, ==, 0);

  after = llmsbx_security_policy_to_json (llmsbx_sandbox_session_get_security_policy (session));
  g_assert_cmpstr (after, ==, before);
  g_assert_false (llmsbx_sandbox_session_get_is_open (session));
}

static void
test_session_without_policy (void)
{
  g_autoptr(LlmsbxSandboxSession) session = llmsbx_sandbox_session_new ("python");
  g_autoptr(GPtrArray) violations = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_null (llmsbx_sandbox_session_get_security_policy (session));
  g_assert_true (llmsbx_sandbox_session_is_safe (session, "import os; os.system('ls')", &violations, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (violations->len, ==, 0);
}

static void
test_session_unknown_language (void)
{
  g_autoptr(LlmsbxSecurityPolicy) policy = llmsbx_security_policy_new (LOW);
  g_autoptr(LlmsbxSandboxSession) session =
    g_object_new (LLMSBX_TYPE_SANDBOX_SESSION, "lang", "cobol", "security-policy", policy, NULL);
  g_autoptr(GPtrArray) violations = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_false (llmsbx_sandbox_session_is_safe (session, "DISPLAY 'HI'.", &violations, &error));
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_LANGUAGE_NOT_SUPPORTED);
  g_assert_null (violations);
}

/* A handler and a backend of their own ------------------------------------ */

/* A language registered at run time with its own catalogue: "run-it" runs a
 * command, "write-it" writes a file, and the module "danger" is a shell. */
#define TEST_TYPE_SHELL_HANDLER (test_shell_handler_get_type ())
G_DECLARE_FINAL_TYPE (TestShellHandler, test_shell_handler, TEST, SHELL_HANDLER, LlmsbxLanguageConfig)

struct _TestShellHandler
{
  LlmsbxLanguageConfig parent_instance;
};

static void test_shell_handler_iface_init (LlmsbxLanguageHandlerInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (TestShellHandler, test_shell_handler, LLMSBX_TYPE_LANGUAGE_CONFIG,
                               G_IMPLEMENT_INTERFACE (LLMSBX_TYPE_LANGUAGE_HANDLER, test_shell_handler_iface_init))

static LlmsbxSecurityPolicy *
test_shell_handler_get_security_catalogue (LlmsbxLanguageHandler  *handler,
                                           LlmsbxSecurityCategory  category)
{
  LlmsbxSecurityPolicy *catalogue = llmsbx_security_policy_new (SAFE);
  g_autoptr(LlmsbxSecurityPattern) pattern = NULL;
  g_autoptr(LlmsbxRestrictedModule) module = NULL;

  if (category == LLMSBX_SECURITY_CATEGORY_COMMAND_EXECUTION)
    {
      pattern = llmsbx_security_pattern_new ("\\brun-it\\b", "Runs a command", SAFE, NULL);
      module = llmsbx_restricted_module_new ("danger", "A shell", SAFE);
    }
  else if (category == LLMSBX_SECURITY_CATEGORY_FILE_WRITE)
    pattern = llmsbx_security_pattern_new ("\\bwrite-it\\b", "Writes a file", SAFE, NULL);
  else
    {
      /* Nothing else: no catalogue at all, or an empty one. */
      g_clear_object (&catalogue);
      return category == LLMSBX_SECURITY_CATEGORY_NETWORK_HTTP ? llmsbx_security_policy_new (SAFE) : NULL;
    }

  if (pattern != NULL)
    llmsbx_security_policy_add_pattern (catalogue, pattern);
  if (module != NULL)
    llmsbx_security_policy_add_restricted_module (catalogue, module);
  return catalogue;
}

static char **
test_shell_handler_get_hardened_environment (LlmsbxLanguageHandler *handler,
                                             LlmsbxRuntimeContext  *context)
{
  char **environment = g_new0 (char *, 2);

  environment[0] = g_strconcat ("SHELL_TMP=", llmsbx_runtime_context_get_workdir (context), NULL);
  return environment;
}

static char *
test_shell_handler_get_import_pattern (LlmsbxLanguageHandler *handler,
                                       const char            *module)
{
  return g_strdup_printf ("(?m)^use %s$", module);
}

static void
test_shell_handler_iface_init (LlmsbxLanguageHandlerInterface *iface)
{
  iface->get_security_catalogue = test_shell_handler_get_security_catalogue;
  iface->get_hardened_environment = test_shell_handler_get_hardened_environment;
  iface->get_import_pattern = test_shell_handler_get_import_pattern;
}

static void
test_shell_handler_class_init (TestShellHandlerClass *klass)
{
}

static void
test_shell_handler_init (TestShellHandler *self)
{
}

static void
register_shell_handler (void)
{
  static const char * const run[] = { "sh {file}", NULL };
  g_autoptr(LlmsbxLanguageHandler) handler =
    g_object_new (TEST_TYPE_SHELL_HANDLER, "name", "shell-test", "file-extension", "sh",
                  "execution-commands", run, NULL);
  g_autoptr(GError) error = NULL;

  g_assert_true (llmsbx_registry_register_language (llmsbx_registry_get_default (), handler, &error));
  g_assert_no_error (error);
}

/* Its patterns get every preset's own severity, and the presets its limits. */
static void
test_custom_handler (void)
{
  const struct {
    const char *preset;
    gboolean blocks_write;
  } rows[] = {
    { "development", FALSE },
    { "production", FALSE },
    { "strict", TRUE },
    { "educational", FALSE },
  };

  register_shell_handler ();
  for (gsize i = 0; i < G_N_ELEMENTS (rows); i++)
    {
      g_autoptr(LlmsbxSecurityPreset) preset = get_preset (rows[i].preset, "Shell-Test", "docker");
      LlmsbxSecurityPolicy *policy = llmsbx_security_preset_get_security_policy (preset);
      g_autoptr(LlmsbxLanguageHandler) handler = handler_for ("shell-test");
      g_autoptr(GPtrArray) violations = NULL;
      g_autoptr(GPtrArray) patterns = llmsbx_security_policy_get_patterns (policy);
      g_autoptr(GError) error = NULL;
      gboolean safe;

      g_test_message ("preset %s", rows[i].preset);
      g_assert_cmpstr (llmsbx_security_preset_get_lang (preset), ==, "shell-test");
      g_assert_cmpuint (patterns->len, ==, rows[i].blocks_write ? 2 : 1);
      g_assert_cmpint (llmsbx_security_pattern_get_severity (g_ptr_array_index (patterns, 0)), ==, HIGH);

      g_assert_false (llmsbx_security_policy_check (policy, handler, "echo a\nrun-it now\n", &violations, &error));
      g_assert_no_error (error);
      g_clear_pointer (&violations, g_ptr_array_unref);
      g_assert_true (llmsbx_security_policy_check (policy, handler, "echo harmless\n", &violations, &error));
      g_clear_pointer (&violations, g_ptr_array_unref);
      safe = llmsbx_security_policy_check (policy, handler, "write-it out\n", &violations, &error);
      g_assert_cmpint (safe, ==, !rows[i].blocks_write);
      g_clear_pointer (&violations, g_ptr_array_unref);
      /* The module: every preset but development blocks command modules. */
      safe = llmsbx_security_policy_check (policy, handler, "use danger\n", &violations, &error);
      g_assert_cmpint (safe, ==, g_str_equal (rows[i].preset, "development"));
      g_clear_pointer (&violations, g_ptr_array_unref);

      /* Its environment goes where its tools need it, as Go's GOTMPDIR does. */
      if (!g_str_equal (rows[i].preset, "development"))
        {
          g_autoptr(GVariant) environment = lookup (llmsbx_security_preset_get_runtime_config (preset), "environment");

          assert_string (environment, "HOME", "/sandbox");
          assert_string (environment, "SHELL_TMP", "/sandbox");
        }
    }
}

/* A handler that supplies no patterns gets no preset: one without patterns
 * would look stricter than it is. The message names those that have some. */
static void
test_handler_without_patterns (void)
{
  static const char * const run[] = { "cat {file}", NULL };
  g_autoptr(LlmsbxLanguageConfig) plain = llmsbx_language_config_new ("plain-test", "txt", run, NULL);
  g_autoptr(LlmsbxSecurityPreset) preset = NULL;
  g_autoptr(GError) error = NULL;

  register_shell_handler ();
  g_assert_true (llmsbx_registry_register_language (llmsbx_registry_get_default (), LLMSBX_LANGUAGE_HANDLER (plain), &error));
  g_assert_no_error (error);

  preset = llmsbx_get_security_preset ("strict", "plain-test", "docker", &error);
  g_assert_null (preset);
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_LANGUAGE_NOT_SUPPORTED);
  g_assert_nonnull (strstr (error->message, "python, javascript, java, cpp, go, ruby, r, shell-test"));
  g_assert_null (strstr (error->message, "plain-test;"));
}

/* A fourth backend, from a plugin, renders the four presets its own way. */
static void
test_fourth_backend (void)
{
  g_autofree char *covered = preset_backends ("fourth, kubernetes");
  const struct {
    const char *name;
    guint64 memory;
    guint millicores;
    gboolean offline;
    gint64 uid;
    guint64 workdir_tmpfs;
  } rows[] = {
    { "development", G_GUINT64_CONSTANT (1) << 30, 2000, FALSE, -1, 0 },
    { "production", 512 << 20, 1000, TRUE, 65534, 256 << 20 },
    { "strict", 128 << 20, 500, TRUE, 65534, 64 << 20 },
    { "educational", 256 << 20, 1000, FALSE, 1000, 128 << 20 },
  };
  g_autoptr(GError) error = NULL;

  g_assert_true (llmsbx_registry_load_plugin (llmsbx_registry_get_default (),
                                              LLMSBX_TEST_PLUGINS_DIR "/preset-backend/fixture-preset-backend.so",
                                              &error));
  g_assert_no_error (error);

  for (gsize i = 0; i < G_N_ELEMENTS (rows); i++)
    {
      g_autoptr(LlmsbxSecurityPreset) preset = get_preset (rows[i].name, "python", "Fourth");
      g_autoptr(LlmsbxSecurityPreset) docker = get_preset (rows[i].name, "python", "docker");
      GVariant *config = llmsbx_security_preset_get_runtime_config (preset);
      const LlmsbxSecurityLimits *limits = llmsbx_security_preset_get_limits (preset);
      g_autoptr(GVariant) memory = lookup (config, "fourth.memory-bytes");
      g_autoptr(GVariant) millicores = lookup (config, "fourth.millicores");
      g_autoptr(GVariant) tmpfs = lookup (config, "fourth.tmpfs");
      g_autoptr(LlmsbxSandboxSession) session = NULL;
      g_autofree char *policy = llmsbx_security_policy_to_json (llmsbx_security_preset_get_security_policy (preset));
      g_autofree char *docker_policy =
        llmsbx_security_policy_to_json (llmsbx_security_preset_get_security_policy (docker));
      guint64 workdir_tmpfs = 0;

      g_assert_cmpstr (llmsbx_security_preset_get_backend (preset), ==, "fourth");
      g_assert_null (llmsbx_security_preset_get_pod_manifest_fragment (preset));
      g_assert_cmpuint (g_variant_get_uint64 (memory), ==, rows[i].memory);
      g_assert_cmpuint (g_variant_get_uint32 (millicores), ==, rows[i].millicores);
      assert_bool (config, "fourth.offline", rows[i].offline);
      assert_int (config, "fourth.uid", rows[i].uid);
      g_variant_lookup (tmpfs, "/sandbox", "t", &workdir_tmpfs);
      g_assert_cmpuint (workdir_tmpfs, ==, rows[i].workdir_tmpfs);
      g_assert_cmpuint (limits->memory_bytes, ==, rows[i].memory);
      /* The policy does not depend on the backend. */
      g_assert_cmpstr (policy, ==, docker_policy);

      /* Applied to a session of that backend, under what it already set. */
      session = g_object_new (LLMSBX_TYPE_SANDBOX_SESSION, "lang", "python", "backend", "fourth", NULL);
      llmsbx_sandbox_session_set_runtime_configs (session, g_variant_new_parsed ("{'fourth.offline': <false>}"));
      g_assert_true (llmsbx_sandbox_session_apply_security_preset (session, preset, &error));
      g_assert_no_error (error);
      g_assert_true (llmsbx_sandbox_session_get_security_policy (session) ==
                     llmsbx_security_preset_get_security_policy (preset));
      assert_bool (llmsbx_sandbox_session_get_runtime_configs (session), "fourth.offline", FALSE);
      assert_bool (llmsbx_sandbox_session_get_runtime_configs (session), "fourth.frozen-root",
                   !g_str_equal (rows[i].name, "development"));
    }

  /* Listed among the backends presets cover, by rank. */
  g_assert_null (llmsbx_get_security_preset ("strict", "python", "lxc", &error));
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_BACKEND_NOT_SUPPORTED);
  g_assert_nonnull (strstr (error->message, covered));
}

/* What llmsbx run --preset does: the preset under the session's own settings,
 * and only for its language and backend. */
static void
test_apply_to_session (void)
{
  g_autoptr(LlmsbxSecurityPreset) preset = get_preset ("strict", "python", "docker");
  g_autoptr(LlmsbxSandboxSession) session = llmsbx_sandbox_session_new ("python");
  g_autoptr(LlmsbxSandboxSession) javascript = llmsbx_sandbox_session_new ("javascript");
  g_autoptr(LlmsbxSandboxSession) podman =
    g_object_new (LLMSBX_TYPE_SANDBOX_SESSION, "lang", "python", "backend", "podman", NULL);
  g_autoptr(LlmsbxSecurityPreset) kubernetes = get_preset ("strict", "python", "kubernetes");
  g_autoptr(GError) error = NULL;
  GVariant *configs;

  g_assert_true (llmsbx_sandbox_session_set_runtime_configs_json (session, "{\"mem_limit\": \"64m\", \"shm_size\": \"1m\"}",
                                                                  &error));
  g_assert_true (llmsbx_sandbox_session_apply_security_preset (session, preset, &error));
  g_assert_no_error (error);
  configs = llmsbx_sandbox_session_get_runtime_configs (session);
  assert_string (configs, "mem_limit", "64m");
  assert_string (configs, "shm_size", "1m");
  assert_string (configs, "network_mode", "none");
  assert_int (configs, "pids_limit", 128);
  g_assert_true (llmsbx_sandbox_session_get_security_policy (session) ==
                 llmsbx_security_preset_get_security_policy (preset));

  g_assert_false (llmsbx_sandbox_session_apply_security_preset (javascript, preset, &error));
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT);
  g_assert_null (llmsbx_sandbox_session_get_security_policy (javascript));
  g_clear_error (&error);
  g_assert_false (llmsbx_sandbox_session_apply_security_preset (podman, preset, &error));
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT);
  g_assert_null (llmsbx_sandbox_session_get_runtime_configs (podman));
  g_clear_error (&error);

  /* A Kubernetes preset gives its policy and no runtime configs. */
  g_object_set (podman, "backend", NULL, NULL);
  g_assert_true (llmsbx_sandbox_session_apply_security_preset (podman, kubernetes, &error));
  g_assert_no_error (error);
  g_assert_null (llmsbx_sandbox_session_get_runtime_configs (podman));
  g_assert_nonnull (llmsbx_sandbox_session_get_security_policy (podman));
}

static char *
pod_manifest_json (LlmsbxSandboxSession *session)
{
  g_autoptr(GVariant) manifest = NULL;
  g_autoptr(JsonNode) node = NULL;

  g_object_get (session, "pod-manifest", &manifest, NULL);
  g_assert_nonnull (manifest);
  node = json_gvariant_serialize (manifest);
  return json_to_string (node, FALSE);
}

static JsonObject *
json_path (JsonNode   *root,
           const char *first,
           ...)
{
  JsonObject *object = json_node_get_object (root);
  va_list args;

  va_start (args, first);
  for (const char *name = first; name != NULL; name = va_arg (args, const char *))
    {
      JsonNode *node = json_object_get_member (object, name);

      g_assert_nonnull (node);
      if (JSON_NODE_HOLDS_ARRAY (node))
        node = json_array_get_element (json_node_get_array (node), 0);
      object = json_node_get_object (node);
    }
  va_end (args);
  return object;
}

/* A Kubernetes preset's fragment goes under the session's pod manifest:
 * what the manifest sets wins, the rest of the fragment is added; with no
 * manifest the fragment is the manifest. */
static void
test_apply_pod_fragment (void)
{
  g_autoptr(LlmsbxSecurityPreset) preset = get_preset ("strict", "python", "kubernetes");
  g_autoptr(LlmsbxSandboxSession) plain =
    g_object_new (LLMSBX_TYPE_SANDBOX_SESSION, "lang", "python", "backend", "kubernetes", NULL);
  g_autoptr(LlmsbxSandboxSession) session =
    g_object_new (LLMSBX_TYPE_SANDBOX_SESSION, "lang", "python", "backend", "kubernetes", NULL);
  g_autoptr(GError) error = NULL;
  g_autofree char *json = NULL;
  g_autoptr(JsonNode) root = NULL;
  JsonObject *container, *limits, *requests, *security, *pod_security;
  JsonArray *mounts, *volumes, *env;

  g_assert_true (llmsbx_sandbox_session_apply_security_preset (plain, preset, &error));
  g_assert_no_error (error);
  json = pod_manifest_json (plain);
  root = json_from_string (json, &error);
  g_assert_no_error (error);
  limits = json_path (root, "spec", "containers", "resources", "limits", NULL);
  g_assert_cmpstr (json_object_get_string_member (limits, "memory"), ==, "128Mi");
  requests = json_path (root, "spec", "containers", "resources", "requests", NULL);
  g_assert_true (json_object_has_member (requests, "memory"));
  g_assert_true (json_object_has_member (requests, "cpu"));
  g_clear_pointer (&root, json_node_unref);
  g_clear_pointer (&json, g_free);

  g_assert_true (llmsbx_sandbox_session_set_pod_manifest_json (session,
    "{\"metadata\": {\"labels\": {\"team\": \"a\"}},"
    " \"spec\": {\"securityContext\": {\"runAsUser\": 1234},"
    "  \"containers\": [{\"name\": \"mine\", \"resources\": {\"limits\": {\"memory\": \"1Gi\"}},"
    "   \"env\": [{\"name\": \"HOME\", \"value\": \"/home/mine\"}],"
    "   \"volumeMounts\": [{\"name\": \"data\", \"mountPath\": \"/tmp\"}]}],"
    "  \"volumes\": [{\"name\": \"data\", \"emptyDir\": {}}]}}", &error));
  g_assert_no_error (error);
  g_assert_true (llmsbx_sandbox_session_apply_security_preset (session, preset, &error));
  g_assert_no_error (error);
  g_assert_nonnull (llmsbx_sandbox_session_get_security_policy (session));
  json = pod_manifest_json (session);
  g_test_message ("%s", json);
  root = json_from_string (json, &error);
  g_assert_no_error (error);

  /* The manifest's own values, and the rest of the preset's. */
  g_assert_cmpstr (json_object_get_string_member (json_path (root, "metadata", "labels", NULL), "team"), ==, "a");
  pod_security = json_path (root, "spec", "securityContext", NULL);
  g_assert_cmpint (json_object_get_int_member (pod_security, "runAsUser"), ==, 1234);
  g_assert_cmpint (json_object_get_int_member (pod_security, "runAsGroup"), ==, 65534);
  container = json_path (root, "spec", "containers", NULL);
  g_assert_cmpstr (json_object_get_string_member (container, "name"), ==, "mine");
  limits = json_path (root, "spec", "containers", "resources", "limits", NULL);
  g_assert_cmpstr (json_object_get_string_member (limits, "memory"), ==, "1Gi");
  g_assert_cmpstr (json_object_get_string_member (limits, "cpu"), ==, "500m");
  /* The manifest's memory limit is its memory request too (a preset's
   * request above it would make the pod invalid); the CPU request stays. */
  requests = json_path (root, "spec", "containers", "resources", "requests", NULL);
  g_assert_false (json_object_has_member (requests, "memory"));
  g_assert_true (json_object_has_member (requests, "cpu"));
  security = json_path (root, "spec", "containers", "securityContext", NULL);
  g_assert_true (json_object_get_boolean_member (security, "readOnlyRootFilesystem"));
  g_assert_false (json_object_get_boolean_member (security, "allowPrivilegeEscalation"));
  g_assert_false (json_object_get_boolean_member (json_path (root, "spec", NULL), "automountServiceAccountToken"));

  /* Mounts by name and path: the manifest's /tmp stays, the preset's
   * workdir is added; volumes by name; env by name, the manifest's HOME. */
  mounts = json_object_get_array_member (container, "volumeMounts");
  g_assert_cmpuint (json_array_get_length (mounts), ==, 2);
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (mounts, 0), "name"), ==, "data");
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (mounts, 1), "mountPath"), ==,
                   "/sandbox");
  volumes = json_object_get_array_member (json_path (root, "spec", NULL), "volumes");
  g_assert_cmpuint (json_array_get_length (volumes), ==, 3);
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (volumes, 0), "name"), ==, "data");
  env = json_object_get_array_member (container, "env");
  g_assert_cmpuint (json_array_get_length (env), >=, 1);
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (env, 0), "value"), ==,
                   "/home/mine");
  for (guint i = 1; i < json_array_get_length (env); i++)
    g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (env, i), "name"), !=, "HOME");
}

/* Each number is the preset's once; the backends only format it. */
static void
test_neutral_limits (void)
{
  g_autoptr(LlmsbxSecurityPreset) docker = get_preset ("production", "go", "docker");
  g_autoptr(LlmsbxSecurityPreset) kubernetes = get_preset ("production", "go", "kubernetes");
  const LlmsbxSecurityLimits *limits = llmsbx_security_preset_get_limits (docker);
  g_autoptr(LlmsbxSecurityLimits) copy = llmsbx_security_limits_copy (limits);
  const LlmsbxTmpfsMount *tmp;

  g_assert_cmpuint (limits->memory_bytes, ==, 512 << 20);
  g_assert_cmpuint (limits->cpu_millicores, ==, 1000);
  g_assert_cmpint (limits->pids_limit, ==, 256);
  g_assert_cmpint (limits->network, ==, LLMSBX_SANDBOX_NETWORK_NONE);
  g_assert_true (limits->read_only_root);
  g_assert_cmpstr (limits->user, ==, "nobody:nogroup");
  g_assert_cmpint (limits->uid, ==, 65534);
  g_assert_true (limits->no_new_privileges);
  g_assert_cmpstr (limits->cap_drop[0], ==, "ALL");
  g_assert_null (limits->cap_add[0]);
  g_assert_cmpuint (limits->tmpfs->len, ==, 1);
  tmp = g_ptr_array_index (limits->tmpfs, 0);
  g_assert_cmpstr (tmp->path, ==, "/tmp");
  g_assert_cmpuint (tmp->size_bytes, ==, 100 << 20);
  g_assert_cmpint (tmp->flags, ==, LLMSBX_MOUNT_FLAGS_NOEXEC);
  g_assert_cmpstr (limits->workdir, ==, "/sandbox");
  g_assert_cmpuint (limits->workdir_tmpfs_bytes, ==, 256 << 20);
  g_assert_cmpstr (limits->environment[0], ==, "HOME=/sandbox");
  g_assert_cmpstr (limits->environment[1], ==, "GOTMPDIR=/sandbox");

  /* The same limits for every backend. */
  g_assert_cmpuint (llmsbx_security_preset_get_limits (kubernetes)->memory_bytes, ==, copy->memory_bytes);
  g_assert_cmpuint (((LlmsbxTmpfsMount *) g_ptr_array_index (copy->tmpfs, 0))->size_bytes, ==, tmp->size_bytes);
  g_assert_true (g_strv_equal ((const char * const *) copy->environment, (const char * const *) limits->environment));
}

static void
test_severity_names (void)
{
  g_assert_cmpstr (llmsbx_security_issue_severity_to_string (SAFE), ==, "SAFE");
  g_assert_cmpstr (llmsbx_security_issue_severity_to_string (LOW), ==, "LOW");
  g_assert_cmpstr (llmsbx_security_issue_severity_to_string (MEDIUM), ==, "MEDIUM");
  g_assert_cmpstr (llmsbx_security_issue_severity_to_string (HIGH), ==, "HIGH");
  g_assert_null (llmsbx_security_issue_severity_to_string (HIGH + 1));
  g_assert_null (llmsbx_security_issue_severity_to_string ((LlmsbxSecurityIssueSeverity) -1));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/security-presets/list", test_list);
  g_test_add_func ("/security-presets/errors", test_errors);
  g_test_add_func ("/security-presets/get-security-policy", test_get_security_policy);
  g_test_add_func ("/security-presets/comparison-table", test_comparison_table);
  g_test_add_func ("/security-presets/strict-example", test_strict_example);
  g_test_add_func ("/security-presets/docker-and-podman-agree", test_docker_and_podman_agree);
  g_test_add_func ("/security-presets/kubernetes-fragment", test_kubernetes_fragment);
  g_test_add_func ("/security-presets/independent", test_presets_are_independent);
  g_test_add_func ("/security-presets/hello-world-passes", test_hello_world_passes_everywhere);
  g_test_add_func ("/security-presets/command-execution-blocked", test_command_execution_blocked);
  g_test_add_func ("/security-presets/commented-out-code-passes", test_commented_out_code_passes);
  g_test_add_func ("/security-presets/foreign-source-encoding-blocked", test_foreign_source_encoding_blocked);
  g_test_add_func ("/security-presets/restricted-imports", test_restricted_imports);
  g_test_add_func ("/security-presets/strict-is-stricter", test_strict_is_stricter);
  g_test_add_func ("/security-presets/session/is-safe-guide-example", test_session_is_safe_guide_example);
  g_test_add_func ("/security-presets/session/without-policy", test_session_without_policy);
  g_test_add_func ("/security-presets/session/unknown-language", test_session_unknown_language);
  g_test_add_func ("/security-presets/custom-handler", test_custom_handler);
  g_test_add_func ("/security-presets/handler-without-patterns", test_handler_without_patterns);
  g_test_add_func ("/security-presets/fourth-backend", test_fourth_backend);
  g_test_add_func ("/security-presets/apply-to-session", test_apply_to_session);
  g_test_add_func ("/security-presets/apply-pod-fragment", test_apply_pod_fragment);
  g_test_add_func ("/security-presets/neutral-limits", test_neutral_limits);
  g_test_add_func ("/security-presets/severity-names", test_severity_names);

  return g_test_run ();
}
