/* test-language-handler.c: the LlmsbxLanguageHandler interface and its defaults,
 * command template expansion, LlmsbxLanguageConfig and LlmsbxRuntimeContext. */
#include <string.h>

#include <llmsbx.h>

/* A handler implementing only the required methods. */
G_DECLARE_FINAL_TYPE (TestMinimalHandler, test_minimal_handler, TEST, MINIMAL_HANDLER, GObject)

struct _TestMinimalHandler
{
  GObject parent_instance;
};

static char *
minimal_get_name (LlmsbxLanguageHandler *handler)
{
  return g_strdup ("minimal");
}

static char *
minimal_get_file_extension (LlmsbxLanguageHandler *handler)
{
  return g_strdup ("min");
}

static char **
minimal_get_run_commands (LlmsbxLanguageHandler *handler,
                          LlmsbxRuntimeContext  *context)
{
  return g_strsplit ("min {file}", "|", -1);
}

static void
test_minimal_handler_iface_init (LlmsbxLanguageHandlerInterface *iface)
{
  iface->get_name = minimal_get_name;
  iface->get_file_extension = minimal_get_file_extension;
  iface->get_run_commands = minimal_get_run_commands;
}

G_DEFINE_FINAL_TYPE_WITH_CODE (TestMinimalHandler, test_minimal_handler, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (LLMSBX_TYPE_LANGUAGE_HANDLER,
                                                      test_minimal_handler_iface_init))

static void
test_minimal_handler_class_init (TestMinimalHandlerClass *klass)
{
}

static void
test_minimal_handler_init (TestMinimalHandler *self)
{
}

/* A subclass of LlmsbxLanguageConfig overriding one method, as a plugin or a
 * Python class would. */
G_DECLARE_FINAL_TYPE (TestCustomConfig, test_custom_config, TEST, CUSTOM_CONFIG, LlmsbxLanguageConfig)

struct _TestCustomConfig
{
  LlmsbxLanguageConfig parent_instance;
};

static char *
custom_get_import_pattern (LlmsbxLanguageHandler *handler,
                           const char            *module)
{
  return g_strdup_printf ("custom:%s", module);
}

static void
test_custom_config_iface_init (LlmsbxLanguageHandlerInterface *iface)
{
  iface->get_import_pattern = custom_get_import_pattern;
}

G_DEFINE_FINAL_TYPE_WITH_CODE (TestCustomConfig, test_custom_config, LLMSBX_TYPE_LANGUAGE_CONFIG,
                               G_IMPLEMENT_INTERFACE (LLMSBX_TYPE_LANGUAGE_HANDLER,
                                                      test_custom_config_iface_init))

static void
test_custom_config_class_init (TestCustomConfigClass *klass)
{
}

static void
test_custom_config_init (TestCustomConfig *self)
{
}

static char **
expand (const char *template_,
        const char *file,
        const char *workdir,
        const char *library)
{
  g_autoptr(GError) error = NULL;
  char **argv = llmsbx_expand_command_template (template_, file, workdir, library, &error);

  g_assert_no_error (error);
  g_assert_nonnull (argv);
  return argv;
}

static void
assert_argv (char               **argv,
             const char * const  *expected)
{
  g_assert_cmpuint (g_strv_length (argv), ==, g_strv_length ((char **) expected));
  for (guint i = 0; expected[i] != NULL; i++)
    g_assert_cmpstr (argv[i], ==, expected[i]);
}

static void
test_expand_simple (void)
{
  g_auto(GStrv) run = expand ("python3 -u {file}", "/sandbox/code.py", "/sandbox", NULL);
  g_auto(GStrv) inside = expand ("pip install --target={workdir}/lib {library}",
                                 NULL, "/work dir", "numpy==1.26");
  g_auto(GStrv) twice = expand ("cp {file} {file}.bak {file}{file}", "a", NULL, NULL);

  assert_argv (run, (const char * const[]) { "python3", "-u", "/sandbox/code.py", NULL });
  assert_argv (inside, (const char * const[]) { "pip", "install", "--target=/work dir/lib",
                                                "numpy==1.26", NULL });
  assert_argv (twice, (const char * const[]) { "cp", "a", "a.bak", "aa", NULL });
}

static void
test_expand_quoting (void)
{
  /* The template is split like a shell would, before any value goes in. */
  g_auto(GStrv) argv = expand ("sh -c 'cd \"$1\" && ls' sh \"{workdir}\" a\\ b", NULL, "/w", NULL);

  assert_argv (argv, (const char * const[]) { "sh", "-c", "cd \"$1\" && ls", "sh", "/w", "a b", NULL });
}

static void
test_expand_injection (void)
{
  const char *hostile[] = {
    "x; rm -rf /",
    "$(touch /tmp/pwned)",
    "`id`",
    "a' 'b",
    "a\" \"b",
    "a\nb",
    "a b\tc",
    "\\",
    "'",
    "\"",
    "--index-url=http://127.0.0.1/ evil",
    "*",
    "~",
    "$HOME",
    "",
  };

  for (gsize i = 0; i < G_N_ELEMENTS (hostile); i++)
    {
      g_auto(GStrv) run = expand ("python3 {file}", hostile[i], NULL, NULL);
      g_auto(GStrv) install = expand ("pip install {library}", NULL, NULL, hostile[i]);
      g_autofree char *prefixed_value = g_strconcat ("--target=", hostile[i], "/x", NULL);
      g_auto(GStrv) prefixed = expand ("tool --target={workdir}/x", NULL, hostile[i], NULL);

      assert_argv (run, (const char * const[]) { "python3", hostile[i], NULL });
      assert_argv (install, (const char * const[]) { "pip", "install", hostile[i], NULL });
      assert_argv (prefixed, (const char * const[]) { "tool", prefixed_value, NULL });
    }
}

static void
test_expand_values_not_rescanned (void)
{
  /* A value holding a placeholder stays as it is. */
  g_auto(GStrv) argv = expand ("run {library} {file}", "{library}", "/w", "{file}{workdir}");

  assert_argv (argv, (const char * const[]) { "run", "{file}{workdir}", "{library}", NULL });
}

static void
test_expand_other_braces (void)
{
  g_auto(GStrv) argv = expand ("echo {1..3} { } {file {filex} {FILE} {}", "f", "w", "l");

  assert_argv (argv, (const char * const[]) { "echo", "{1..3}", "{", "}", "{file", "{filex}",
                                              "{FILE}", "{}", NULL });
}

static void
test_expand_errors (void)
{
  g_autoptr(GError) error = NULL;
  char **argv;

  argv = llmsbx_expand_command_template ("python3 {file}", NULL, "/w", "l", &error);
  g_assert_null (argv);
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "{file}"));
  g_clear_error (&error);

  argv = llmsbx_expand_command_template ("pip install {library}", "f", "/w", NULL, &error);
  g_assert_null (argv);
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "{library}"));
  g_clear_error (&error);

  argv = llmsbx_expand_command_template ("echo 'unbalanced", "f", "/w", "l", &error);
  g_assert_null (argv);
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "echo 'unbalanced"));
  g_clear_error (&error);

  argv = llmsbx_expand_command_template ("", "f", "/w", "l", &error);
  g_assert_null (argv);
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_COMMAND_EMPTY);
  g_clear_error (&error);

  argv = llmsbx_expand_command_template ("  \t ", "f", "/w", "l", &error);
  g_assert_null (argv);
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_COMMAND_EMPTY);
}

static void
test_interface_defaults (void)
{
  g_autoptr(LlmsbxLanguageHandler) handler = g_object_new (test_minimal_handler_get_type (), NULL);
  g_autoptr(LlmsbxRuntimeContext) context = llmsbx_runtime_context_new ("/sandbox", FALSE);
  g_autofree char *name = llmsbx_language_handler_get_name (handler);
  g_autofree char *extension = llmsbx_language_handler_get_file_extension (handler);
  g_autofree char *image = llmsbx_language_handler_get_default_image (handler);
  g_auto(GStrv) setup = llmsbx_language_handler_get_setup_commands (handler, context);
  g_auto(GStrv) run = llmsbx_language_handler_get_run_commands (handler, context);
  g_autofree char *install = llmsbx_language_handler_get_install_command (handler, context);
  g_autofree char *pattern = llmsbx_language_handler_get_import_pattern (handler, "os");
  g_autofree char *stripped = llmsbx_language_handler_strip_comments (handler, "a # b");

  g_assert_cmpstr (name, ==, "minimal");
  g_assert_cmpstr (extension, ==, "min");
  g_assert_null (image);
  g_assert_nonnull (setup);
  g_assert_null (setup[0]);
  assert_argv (run, (const char * const[]) { "min {file}", NULL });
  g_assert_null (install);
  g_assert_false (llmsbx_language_handler_supports_library_installation (handler, context));
  g_assert_null (pattern);
  g_assert_cmpstr (stripped, ==, "a # b");
}

static void
test_config_new (void)
{
  static const char * const run[] = { "gcc -o {workdir}/a.out {file}", "{workdir}/a.out", NULL };
  g_autoptr(LlmsbxLanguageConfig) config = llmsbx_language_config_new ("c", "c", run, "apt-get install -y");
  LlmsbxLanguageHandler *handler = LLMSBX_LANGUAGE_HANDLER (config);
  g_autoptr(LlmsbxRuntimeContext) context = llmsbx_runtime_context_new ("/sandbox", TRUE);
  g_auto(GStrv) commands = llmsbx_language_handler_get_run_commands (handler, context);
  g_auto(GStrv) setup = llmsbx_language_handler_get_setup_commands (handler, context);
  g_autofree char *install = llmsbx_language_handler_get_install_command (handler, context);
  g_autofree char *name = llmsbx_language_handler_get_name (handler);
  g_autofree char *extension = llmsbx_language_handler_get_file_extension (handler);
  g_autofree char *image = llmsbx_language_handler_get_default_image (handler);
  g_autofree char *pattern = llmsbx_language_handler_get_import_pattern (handler, "os");
  g_auto(GStrv) install_argv = NULL;

  g_assert_cmpstr (name, ==, "c");
  g_assert_cmpstr (extension, ==, "c");
  g_assert_cmpstr (llmsbx_language_config_get_name (config), ==, "c");
  g_assert_cmpstr (llmsbx_language_config_get_file_extension (config), ==, "c");
  g_assert_cmpstr (llmsbx_language_config_get_package_manager (config), ==, "apt-get install -y");
  g_assert_null (llmsbx_language_config_get_default_image (config));
  g_assert_null (image);
  g_assert_null (pattern);
  assert_argv ((char **) llmsbx_language_config_get_execution_commands (config), run);
  assert_argv (commands, run);
  g_assert_null (setup[0]);

  g_assert_cmpstr (install, ==, "apt-get install -y {library}");
  g_assert_true (llmsbx_language_handler_supports_library_installation (handler, context));
  install_argv = llmsbx_expand_command_template (install, NULL, "/sandbox", "lib; reboot", NULL);
  assert_argv (install_argv, (const char * const[]) { "apt-get", "install", "-y", "lib; reboot", NULL });
}

static void
test_config_properties (void)
{
  static const char * const run[] = { "ruby {file}", NULL };
  static const char * const setup[] = { "mkdir -p {workdir}/gems", NULL };
  g_autoptr(LlmsbxLanguageConfig) config =
    g_object_new (LLMSBX_TYPE_LANGUAGE_CONFIG,
                  "name", "ruby",
                  "file-extension", "rb",
                  "execution-commands", run,
                  "package-manager", "gem install",
                  "default-image", "llmsbx/ruby:bookworm",
                  "setup-commands", setup,
                  "import-pattern", "^require ['\"]{module}['\"]$",
                  "line-comment", "#",
                  NULL);
  LlmsbxLanguageHandler *handler = LLMSBX_LANGUAGE_HANDLER (config);
  g_autoptr(LlmsbxRuntimeContext) context = llmsbx_runtime_context_new ("/sandbox", FALSE);
  g_auto(GStrv) setup_commands = llmsbx_language_handler_get_setup_commands (handler, context);
  g_autofree char *image = llmsbx_language_handler_get_default_image (handler);
  g_autofree char *stripped = llmsbx_language_handler_strip_comments (handler, "puts \"a#b\" # c");
  g_autofree char *line_comment = NULL;
  g_autofree char *name = NULL;
  g_auto(GStrv) execution_commands = NULL;

  g_assert_cmpstr (image, ==, "llmsbx/ruby:bookworm");
  g_assert_cmpstr (llmsbx_language_config_get_default_image (config), ==, "llmsbx/ruby:bookworm");
  assert_argv (setup_commands, setup);
  g_assert_cmpstr (stripped, ==, "puts \"a#b\" ");

  g_object_get (config,
                "name", &name,
                "line-comment", &line_comment,
                "execution-commands", &execution_commands,
                NULL);
  g_assert_cmpstr (name, ==, "ruby");
  g_assert_cmpstr (line_comment, ==, "#");
  assert_argv (execution_commands, run);
}

static void
test_config_import_pattern (void)
{
  static const char * const run[] = { "python3 {file}", NULL };
  g_autoptr(LlmsbxLanguageConfig) config =
    g_object_new (LLMSBX_TYPE_LANGUAGE_CONFIG,
                  "name", "py", "file-extension", "py", "execution-commands", run,
                  "import-pattern", "^(import {module}|from {module} import .*)$",
                  NULL);
  LlmsbxLanguageHandler *handler = LLMSBX_LANGUAGE_HANDLER (config);
  g_autofree char *pattern = llmsbx_language_handler_get_import_pattern (handler, "os.path");
  g_autofree char *hostile = llmsbx_language_handler_get_import_pattern (handler, "a(|.*)+{module}");
  g_autoptr(GRegex) regex = NULL;
  g_autoptr(GRegex) hostile_regex = NULL;

  g_assert_cmpstr (pattern, ==, "^(import os\\.path|from os\\.path import .*)$");
  regex = g_regex_new (pattern, 0, 0, NULL);
  g_assert_nonnull (regex);
  g_assert_true (g_regex_match (regex, "import os.path", 0, NULL));
  g_assert_true (g_regex_match (regex, "from os.path import join", 0, NULL));
  g_assert_false (g_regex_match (regex, "import osXpath", 0, NULL));

  /* The module is matched literally, whatever it holds. */
  hostile_regex = g_regex_new (hostile, 0, 0, NULL);
  g_assert_nonnull (hostile_regex);
  g_assert_true (g_regex_match (hostile_regex, "import a(|.*)+{module}", 0, NULL));
  g_assert_false (g_regex_match (hostile_regex, "import a", 0, NULL));
}

static void
test_config_without_package_manager (void)
{
  static const char * const run[] = { "sh {file}", NULL };
  g_autoptr(LlmsbxLanguageConfig) config = llmsbx_language_config_new ("sh", "sh", run, NULL);
  g_autoptr(LlmsbxLanguageConfig) empty = llmsbx_language_config_new ("sh", "sh", run, "");
  g_autoptr(LlmsbxRuntimeContext) context = llmsbx_runtime_context_new ("/sandbox", FALSE);
  g_autofree char *install = llmsbx_language_handler_get_install_command (LLMSBX_LANGUAGE_HANDLER (config), context);
  g_autofree char *stripped = llmsbx_language_handler_strip_comments (LLMSBX_LANGUAGE_HANDLER (config), "a # b");

  g_assert_null (install);
  g_assert_false (llmsbx_language_handler_supports_library_installation (LLMSBX_LANGUAGE_HANDLER (config), context));
  g_assert_false (llmsbx_language_handler_supports_library_installation (LLMSBX_LANGUAGE_HANDLER (empty), context));
  /* No comment marker: nothing is taken for a comment. */
  g_assert_cmpstr (stripped, ==, "a # b");
}

static void
test_config_construct_only (void)
{
  g_autoptr(GTypeClass) type_class = g_type_class_ref (LLMSBX_TYPE_LANGUAGE_CONFIG);
  GObjectClass *klass = G_OBJECT_CLASS (type_class);
  const char *names[] = { "name", "file-extension", "execution-commands", "package-manager",
                          "default-image", "setup-commands", "import-pattern", "line-comment" };

  /* Handlers are shared by sessions on any thread, so nothing changes after construction. */
  for (gsize i = 0; i < G_N_ELEMENTS (names); i++)
    {
      GParamSpec *pspec = g_object_class_find_property (klass, names[i]);

      g_assert_nonnull (pspec);
      g_assert_true (pspec->flags & G_PARAM_CONSTRUCT_ONLY);
      g_assert_true (pspec->flags & G_PARAM_READABLE);
    }
}

static void
test_config_subclass_override (void)
{
  static const char * const run[] = { "x {file}", NULL };
  g_autoptr(LlmsbxLanguageHandler) handler =
    g_object_new (test_custom_config_get_type (),
                  "name", "custom", "file-extension", "cx", "execution-commands", run,
                  "import-pattern", "ignored {module}", "line-comment", "#",
                  NULL);
  g_autoptr(LlmsbxRuntimeContext) context = llmsbx_runtime_context_new ("/sandbox", FALSE);
  g_autofree char *pattern = llmsbx_language_handler_get_import_pattern (handler, "m");
  g_autofree char *name = llmsbx_language_handler_get_name (handler);
  g_autofree char *stripped = llmsbx_language_handler_strip_comments (handler, "a # b");
  g_auto(GStrv) commands = llmsbx_language_handler_get_run_commands (handler, context);

  g_assert_true (LLMSBX_IS_LANGUAGE_CONFIG (handler));
  g_assert_cmpstr (pattern, ==, "custom:m");
  /* What the subclass does not override still comes from the properties. */
  g_assert_cmpstr (name, ==, "custom");
  g_assert_cmpstr (stripped, ==, "a ");
  assert_argv (commands, run);
}

static void
test_runtime_context (void)
{
  g_autoptr(LlmsbxRuntimeContext) context = llmsbx_runtime_context_new ("/work", TRUE);
  g_autoptr(LlmsbxRuntimeContext) defaults = g_object_new (LLMSBX_TYPE_RUNTIME_CONTEXT, NULL);
  g_autoptr(GTypeClass) type_class = g_type_class_ref (LLMSBX_TYPE_RUNTIME_CONTEXT);
  GObjectClass *klass = G_OBJECT_CLASS (type_class);
  g_autofree char *workdir = NULL;
  gboolean ready = FALSE;

  g_assert_cmpstr (llmsbx_runtime_context_get_workdir (context), ==, "/work");
  g_assert_true (llmsbx_runtime_context_get_environment_ready (context));
  g_object_get (context, "workdir", &workdir, "environment-ready", &ready, NULL);
  g_assert_cmpstr (workdir, ==, "/work");
  g_assert_true (ready);

  g_assert_cmpstr (llmsbx_runtime_context_get_workdir (defaults), ==, "/sandbox");
  g_assert_false (llmsbx_runtime_context_get_environment_ready (defaults));

  g_assert_true (g_object_class_find_property (klass, "workdir")->flags & G_PARAM_CONSTRUCT_ONLY);
  g_assert_true (g_object_class_find_property (klass, "environment-ready")->flags & G_PARAM_CONSTRUCT_ONLY);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/language-handler/expand/simple", test_expand_simple);
  g_test_add_func ("/language-handler/expand/quoting", test_expand_quoting);
  g_test_add_func ("/language-handler/expand/injection", test_expand_injection);
  g_test_add_func ("/language-handler/expand/values-not-rescanned", test_expand_values_not_rescanned);
  g_test_add_func ("/language-handler/expand/other-braces", test_expand_other_braces);
  g_test_add_func ("/language-handler/expand/errors", test_expand_errors);
  g_test_add_func ("/language-handler/interface-defaults", test_interface_defaults);
  g_test_add_func ("/language-config/new", test_config_new);
  g_test_add_func ("/language-config/properties", test_config_properties);
  g_test_add_func ("/language-config/import-pattern", test_config_import_pattern);
  g_test_add_func ("/language-config/without-package-manager", test_config_without_package_manager);
  g_test_add_func ("/language-config/construct-only", test_config_construct_only);
  g_test_add_func ("/language-config/subclass-override", test_config_subclass_override);
  g_test_add_func ("/runtime-context", test_runtime_context);

  return g_test_run ();
}
