/* test-ruby-handler.c: the Ruby handler of libllmsbx-languages.so. */
#include "handler-test.h"

#define FILE_RB "/sand box/.llmsbx/code-1.rb"
#define GEM_HOME "env|GEM_HOME=/sand box/.sandbox-gems"

static void
test_description (void)
{
  g_autoptr(LlmsbxLanguageHandler) handler = handler_test_load ("ruby");

  handler_test_assert_description (handler, "ruby", "rb", "llmsbx/ruby:bookworm");
}

static void
test_commands (void)
{
  g_autoptr(LlmsbxLanguageHandler) handler = handler_test_load ("ruby");
  g_autoptr(LlmsbxRuntimeContext) fresh = llmsbx_runtime_context_new ("/sand box", FALSE);
  g_autoptr(LlmsbxRuntimeContext) ready = llmsbx_runtime_context_new ("/sand box", TRUE);
  g_autofree char *setup = handler_test_commands (llmsbx_language_handler_get_setup_commands (handler, fresh),
                                                  NULL, NULL);
  g_autofree char *run = handler_test_commands (llmsbx_language_handler_get_run_commands (handler, fresh),
                                                FILE_RB, NULL);
  g_autofree char *run_ready = handler_test_commands (llmsbx_language_handler_get_run_commands (handler, ready),
                                                      FILE_RB, NULL);
  g_autofree char *install = llmsbx_language_handler_get_install_command (handler, ready);
  g_autofree char *install_argv = NULL;

  g_assert_cmpstr (setup, ==, "mkdir|-p|/sand box/.sandbox-gems");
  /* The image's gem setup until something is installed, then the workdir's too. */
  g_assert_cmpstr (run, ==, "ruby|" FILE_RB);
  g_assert_cmpstr (run_ready, ==, GEM_HOME "|ruby|" FILE_RB);

  g_assert_nonnull (install);
  install_argv = handler_test_expand (install, NULL, "/sand box/greet-1.0.0.gem");
  g_assert_cmpstr (install_argv, ==, GEM_HOME "|gem|install|--no-document|/sand box/greet-1.0.0.gem");
}

static void
test_import_pattern (void)
{
  g_autoptr(LlmsbxLanguageHandler) handler = handler_test_load ("ruby");
  static const ImportCase imports[] = {
    { "json", "require 'json'" },
    { "json", "require \"json\"" },
    { "json", "require('json')" },
    { "json", "require(\"json\")" },
    { "json", "  require 'json'" },
    { "json", "require 'json'  # comment" },
    { "json", "require 'json' if defined?(JSON)" },
    { "json", "require 'json' unless defined?(JSON)" },
    { "json", "require 'json/ext'" },
    { "json", "Kernel.require 'json'" },
    { "json", "begin; require 'json'; rescue LoadError; end" },
    { "json", "x = 1\nrequire 'json'" },
    { "json", "x = \"a\"; require 'json'" },
    { "json", "p require 'json'" },
    { "json", "load 'json.rb'" },
    { "json", "\"#{require 'json'}\"" },
    { "json", "c = ?'; require 'json'" },
    { "json", "=begin\nnot code\n=end\nrequire 'json'" },
    { "helper", "require_relative 'helper'" },
    { "helper", "require_relative \"helper\"" },
    { "helper", "require_relative('helper')" },
    { "helper", "require_relative(\"helper\")" },
    { "helper", "  require_relative 'helper'" },
    { "helper", "autoload :Helper, 'helper'" },
    { "helper", "autoload('Helper', 'helper')" },
    { "net/http", "require 'net/http'" },
    { "active_record/base", "require 'active_record/base'" },
    { "../helper", "require_relative '../helper'" },
    { "bundler", "require 'bundler/setup'" },
    { "optional_gem", "require 'optional_gem' if RUBY_VERSION >= '2.7'" },
    { "optional_gem", "require 'optional_gem' unless defined?(OptionalGem)" },
    { "optional_gem", "begin; require 'optional_gem'; rescue LoadError; end" },
    { "csv", "require 'csv'" },
  };
  static const ImportCase not_imports[] = {
    { "json", "# require 'json'" },
    { "json", "=begin\nrequire 'json'\n=end" },
    { "json", "x = 1\n=begin\n  require 'json'\n=end the comment\ny = 2" },
    { "json", "require 'jsonpath'" },
    { "json", "puts 'require json'" },
    { "json", "puts \"Please require 'json' gem\"" },
    { "json", "x = 'require \"json\"'" },
    { "json", "# Don't forget to require 'json'" },
    { "json", "json_data = {}" },
    { "json", "my_require 'json'" },
    { "json", "@require 'json'" },
    { "json", "requirejson 'json'" },
    { "json", "puts 'json'" },
    { "helper", "autoload :Helper, 'helperx'" },
  };

  handler_test_assert_imports (handler, imports, G_N_ELEMENTS (imports),
                               not_imports, G_N_ELEMENTS (not_imports));
  handler_test_assert_hostile (handler, "json", "require ", FALSE);
  handler_test_assert_hostile (handler, "json", " 'a \" ", FALSE);
}

static void
test_strip_comments (void)
{
  g_autoptr(LlmsbxLanguageHandler) handler = handler_test_load ("ruby");
  static const StripCase cases[] = {
    { "x = 5 # gone", "x = 5", "gone" },
    { "=begin\ngone\n=end\nputs 1", "puts 1", "gone" },
    { "puts \"a # kept\" # gone", "\"a # kept\"", "gone" },
    { "puts \"#{x} kept\" # gone", "\"#{x} kept\"", "gone" },
    { "puts 'it\\'s # kept' # gone", "'it\\'s # kept'", "gone" },
    /* =begin counts at the start of a line only. */
    { "x = 1 =begin\nputs 2", "puts 2", NULL },
    { "# gone\nrequire 'json'\ndef hello\n=begin\ngone too\n=end\n  puts \"Hello\" # c\nend",
      "require 'json'", "gone" },
  };

  handler_test_assert_strips (handler, cases, G_N_ELEMENTS (cases));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/ruby-handler/description", test_description);
  g_test_add_func ("/ruby-handler/commands", test_commands);
  g_test_add_func ("/ruby-handler/import-pattern", test_import_pattern);
  g_test_add_func ("/ruby-handler/strip-comments", test_strip_comments);

  return g_test_run ();
}
