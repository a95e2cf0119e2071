/* test-java-handler.c: the Java handler of libllmsbx-languages.so. */
#include "handler-test.h"

#define FILE_JAVA "/sand box/.llmsbx/code-1.java"

static void
test_description (void)
{
  g_autoptr(LlmsbxLanguageHandler) handler = handler_test_load ("java");

  handler_test_assert_description (handler, "java", "java", "llmsbx/java:bookworm");
}

static void
test_commands (void)
{
  g_autoptr(LlmsbxLanguageHandler) handler = handler_test_load ("java");
  g_autoptr(LlmsbxRuntimeContext) fresh = llmsbx_runtime_context_new ("/sand box", FALSE);
  g_autoptr(LlmsbxRuntimeContext) ready = llmsbx_runtime_context_new ("/sand box", TRUE);
  g_autofree char *setup = handler_test_commands (llmsbx_language_handler_get_setup_commands (handler, fresh),
                                                  NULL, NULL);
  g_autofree char *run = handler_test_commands (llmsbx_language_handler_get_run_commands (handler, fresh),
                                                FILE_JAVA, NULL);
  g_autofree char *install = llmsbx_language_handler_get_install_command (handler, ready);

  g_assert_cmpstr (setup, ==, "");
  /* The source launcher: the class name need not match the file's. */
  g_assert_cmpstr (run, ==, "java|" FILE_JAVA);
  /* No package manager, so the session reports installs as not supported. */
  g_assert_null (install);
  g_assert_false (llmsbx_language_handler_supports_library_installation (handler, ready));
}

static void
test_import_pattern (void)
{
  g_autoptr(LlmsbxLanguageHandler) handler = handler_test_load ("java");
  static const ImportCase imports[] = {
    { "java.util", "import java.util.List;" },
    { "java.util", "import java.util.*;" },
    { "java.util", "import java.util.ArrayList;" },
    { "java.util", "  import java.util.HashMap;  " },
    { "java.util", "import java.util.concurrent.Executors;" },
    { "java.util", "import static java.util.Collections.sort;" },
    { "java.util", "import java . util . List;" },
    { "java.util", "package a;\n\nimport java.io.File;\nimport java.util.Map;\n" },
    { "java.util", "java.util.List<String> l = new java.util.ArrayList<>();" },
    { "java.util.List", "import java.util.List;" },
    { "com.example.util", "import com.example.util.Helper;" },
    { "com.example.util", "import com.example.util.*;" },
    { "com.example.util", "import com.example.util.data.Model;" },
    /* Fully qualified uses need no import. */
    { "java.lang.Runtime", "java.lang.Runtime.getRuntime().exec(cmd);" },
    { "java.lang.Runtime", "Class.forName(\"java.lang.Runtime\")" },
    { "java.io", "new java.io.File(\"x\").delete();" },
    { "java.io", "/* c */ import java.io.File;" },
  };
  static const ImportCase not_imports[] = {
    { "java.util", "// import java.util.List;" },
    { "java.util", "/* import java.util.*; */" },
    { "java.util", "/**\n * import java.util.List;\n */" },
    { "java.util", "import java.utility.List;" },
    { "java.util", "import com.java.util.List;" },
    { "java.util", "import myjava.util.List;" },
    { "java.util", "import javax.util.List;" },
    { "java.util", "System.out.println(\"x\"); // java.util.List" },
    { "java.util.List", "import java.util.ArrayList;" },
    { "java.util.List", "import java.util.ListIterator;" },
  };

  handler_test_assert_imports (handler, imports, G_N_ELEMENTS (imports),
                               not_imports, G_N_ELEMENTS (not_imports));

  /* Dots are literal. */
  g_assert_false (handler_test_matches (handler, "java.io", "import javaXio.File;"));
  handler_test_assert_hostile (handler, "java.util", "java . util; ", TRUE);
  handler_test_assert_hostile (handler, "java.util", "java . utilx ", FALSE);
}

static void
test_strip_comments (void)
{
  g_autoptr(LlmsbxLanguageHandler) handler = handler_test_load ("java");
  static const StripCase cases[] = {
    { "int x = 5; // gone", "int x = 5;", "gone" },
    { "/** Javadoc\n * gone\n */\nclass A {}", "class A {}", "gone" },
    { "String u = \"http://x\"; // gone", "\"http://x\"", "gone" },
    { "String s = \"/* kept */\"; /* gone */", "\"/* kept */\"", "gone" },
    { "char c = '\"'; // gone", "'\"'", "gone" },
    { "String t = \"\"\"\n  // kept\n  \"\"\"; // gone", "// kept", "gone" },
    { "public class Test {\n  /* a\n     b */\n  void m() { System.out.println(\"Hello\"); // c\n  }\n}",
      "System.out.println(\"Hello\");", "// c" },
  };

  handler_test_assert_strips (handler, cases, G_N_ELEMENTS (cases));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/java-handler/description", test_description);
  g_test_add_func ("/java-handler/commands", test_commands);
  g_test_add_func ("/java-handler/import-pattern", test_import_pattern);
  g_test_add_func ("/java-handler/strip-comments", test_strip_comments);

  return g_test_run ();
}
