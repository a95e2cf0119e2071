/* test-cpp-handler.c: the C++ handler of libllmsbx-languages.so. */
#include "handler-test.h"

#define FILE_CPP "/sand box/.llmsbx/code-1.cpp"

static void
test_description (void)
{
  g_autoptr(LlmsbxLanguageHandler) handler = handler_test_load ("cpp");

  handler_test_assert_description (handler, "cpp", "cpp", "llmsbx/cpp:bookworm");
}

static void
test_commands (void)
{
  g_autoptr(LlmsbxLanguageHandler) handler = handler_test_load ("cpp");
  g_autoptr(LlmsbxRuntimeContext) fresh = llmsbx_runtime_context_new ("/sand box", FALSE);
  g_autoptr(LlmsbxRuntimeContext) ready = llmsbx_runtime_context_new ("/sand box", TRUE);
  g_autofree char *setup = handler_test_commands (llmsbx_language_handler_get_setup_commands (handler, fresh),
                                                  NULL, NULL);
  g_autofree char *run = handler_test_commands (llmsbx_language_handler_get_run_commands (handler, fresh),
                                                FILE_CPP, NULL);
  g_autofree char *install = llmsbx_language_handler_get_install_command (handler, ready);
  g_autofree char *install_argv = NULL;

  g_assert_cmpstr (setup, ==, "");
  /* Compile, then run: the session stops at a failed compile. */
  g_assert_cmpstr (run, ==,
                   "g++|-std=c++17|-O1|-pipe|-o|/sand box/.llmsbx/a.out|" FILE_CPP "\n"
                   "/sand box/.llmsbx/a.out");

  g_assert_nonnull (install);
  install_argv = handler_test_expand (install, NULL, "/sand box/libgreet-dev_1.0_all.deb");
  g_assert_cmpstr (install_argv, ==,
                   "env|DEBIAN_FRONTEND=noninteractive|apt-get|install|-y|--no-install-recommends|"
                   "/sand box/libgreet-dev_1.0_all.deb");
}

static void
test_import_pattern (void)
{
  g_autoptr(LlmsbxLanguageHandler) handler = handler_test_load ("cpp");
  static const ImportCase imports[] = {
    { "iostream", "#include <iostream>" },
    { "iostream", "#include  <iostream>" },
    { "iostream", "  #include <iostream>" },
    { "iostream", "#include<iostream>" },
    { "iostream", "# include <iostream>" },
    { "iostream", "\t#\tinclude\t<iostream>" },
    { "iostream", "int x;\n#include <iostream>" },
    { "iostream", "#include <iostream> // streams" },
    { "iostream", "#include <iostream>\r\nint main() {}\r\n" },
    { "iostream", "%:include <iostream>" },
    { "iostream", "#import <iostream>" },
    { "iostream", "/* a */\n#include <iostream>" },
    { "myheader.h", "#include \"myheader.h\"" },
    { "myheader.h", "#include  \"myheader.h\"" },
    { "myheader.h", "  #include \"myheader.h\"" },
    { "myheader.h", "#include\"myheader.h\"" },
    { "stdio.h", "#include <stdio.h>" },
    { "math.h", "#include <math.h>" },
    { "utils.hpp", "#include \"utils.hpp\"" },
    { "../include/helper.h", "#include \"../include/helper.h\"" },
    { "sys/socket.h", "#include <sys/socket.h>" },
    { "vector", "#include <vector>" },
    { "vector", "#include_next <vector>" },
    { "thread", "#include <thread>" },
  };
  static const ImportCase not_imports[] = {
    { "vector", "// #include <vector>" },
    { "vector", "/* #include <vector> */" },
    { "vector", "/*\n#include <vector>\n*/" },
    { "vector", "#include <vectors>" },
    { "vector", "#include <vectormath>" },
    { "vector", "#include <myvector>" },
    { "vector", "#include <bits/vector>" },
    { "vector", "std::vector<int> v;" },
    { "vector", "std::cout << \"#include <vector>\";" },
    { "vector", "x = 1; #include <vector>" },
    { "NDEBUG", "#define NDEBUG" },
    { "NDEBUG", "#ifndef NDEBUG" },
    { "NDEBUG", "#ifdef NDEBUG" },
    { "NDEBUG", "#undef NDEBUG" },
    { "stdio.h", "#include <stdioXh>" },
  };

  handler_test_assert_imports (handler, imports, G_N_ELEMENTS (imports),
                               not_imports, G_N_ELEMENTS (not_imports));
  handler_test_assert_hostile (handler, "vector", "#include <vector", FALSE);
  handler_test_assert_hostile (handler, "vector", "\n  #  include  ", FALSE);
}

static void
test_strip_comments (void)
{
  g_autoptr(LlmsbxLanguageHandler) handler = handler_test_load ("cpp");
  static const StripCase cases[] = {
    { "int x = 5;  // gone", "int x = 5;", "gone" },
    { "/**\n * gone\n */\nint main() {}", "int main() {}", "gone" },
    { "std::cout << \"// kept\"; // gone", "\"// kept\"", "gone" },
    { "const char *s = \"a\\\"/* kept */\"; /* gone */", "\"a\\\"/* kept */\"", "gone" },
    { "char c = '\"'; // gone", "'\"'", "gone" },
    { "#include <iostream> // gone\nint main() {\n  /* a\n     b */\n  std::cout << \"Hello\"; // c\n}",
      "#include <iostream>", "gone" },
  };

  handler_test_assert_strips (handler, cases, G_N_ELEMENTS (cases));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/cpp-handler/description", test_description);
  g_test_add_func ("/cpp-handler/commands", test_commands);
  g_test_add_func ("/cpp-handler/import-pattern", test_import_pattern);
  g_test_add_func ("/cpp-handler/strip-comments", test_strip_comments);

  return g_test_run ();
}
