/* test-go-handler.c: the Go handler of libllmsbx-languages.so. */
#include "handler-test.h"

#define FILE_GO "/sand box/.llmsbx/code-1.go"
#define BINARY "/sand box/.llmsbx/a.out"
#define GO_CACHE "GOCACHE=/sand box/.sandbox-go/cache"
#define GO_MODULE_ENV "env|" GO_CACHE "|GOMODCACHE=/sand box/.sandbox-go/mod|GOFLAGS=-mod=mod|GOTOOLCHAIN=local"

static void
test_description (void)
{
  g_autoptr(LlmsbxLanguageHandler) handler = handler_test_load ("go");

  handler_test_assert_description (handler, "go", "go", "llmsbx/go:bookworm");
}

static void
test_commands (void)
{
  g_autoptr(LlmsbxLanguageHandler) handler = handler_test_load ("go");
  g_autoptr(LlmsbxRuntimeContext) fresh = llmsbx_runtime_context_new ("/sand box", FALSE);
  g_autoptr(LlmsbxRuntimeContext) ready = llmsbx_runtime_context_new ("/sand box", TRUE);
  g_autofree char *setup = handler_test_commands (llmsbx_language_handler_get_setup_commands (handler, fresh),
                                                  NULL, NULL);
  g_autofree char *run = handler_test_commands (llmsbx_language_handler_get_run_commands (handler, fresh),
                                                FILE_GO, NULL);
  g_autofree char *run_ready = handler_test_commands (llmsbx_language_handler_get_run_commands (handler, ready),
                                                      FILE_GO, NULL);
  g_autofree char *install = llmsbx_language_handler_get_install_command (handler, ready);
  g_autofree char *install_argv = NULL;

  /* The workdir becomes module `sandbox`, unless it has a go.mod already;
   * the workdir is an argument of the script, never part of it. */
  g_assert_cmpstr (setup, ==,
                   "sh|-c|test -e go.mod || exec \"$@\"|llmsbx-go-setup|" GO_MODULE_ENV "|go|mod|init|sandbox");
  /* Build, then run the program, so that its exit status is its own. Before
   * setup: the image's own module settings, only the build cache moved. */
  g_assert_cmpstr (run, ==, "env|" GO_CACHE "|GOTOOLCHAIN=local|go|build|-o|" BINARY "|" FILE_GO "\n" BINARY);
  g_assert_cmpstr (run_ready, ==, GO_MODULE_ENV "|go|build|-o|" BINARY "|" FILE_GO "\n" BINARY);

  g_assert_nonnull (install);
  install_argv = handler_test_expand (install, NULL, "example.com/greet@v1.0.0");
  g_assert_cmpstr (install_argv, ==, GO_MODULE_ENV "|go|get|example.com/greet@v1.0.0");
}

static void
test_import_pattern (void)
{
  g_autoptr(LlmsbxLanguageHandler) handler = handler_test_load ("go");
  static const ImportCase imports[] = {
    { "fmt", "import \"fmt\"" },
    { "fmt", "import (\n    \"fmt\"\n)" },
    { "fmt", "    import \"fmt\"" },
    { "fmt", "import \"fmt\"  // comment" },
    { "fmt", "import f \"fmt\"" },
    { "fmt", "import . \"fmt\"" },
    { "fmt", "import _ \"fmt\"" },
    { "fmt", "import (\n    f \"fmt\"\n)" },
    { "fmt", "import (\n\t\"os\"\n\t\"fmt\"\n)" },
    { "fmt", "import (\n\t\"fmt\"\n\t\"os\"\n)" },
    { "fmt", "import (\n\tf \"fmt\"\n\t\"os\"\n)" },
    { "fmt", "import (\"os\"; \"fmt\")" },
    { "fmt", "import `fmt`" },
    { "fmt", "import (\n\t\"os\" // files\n\t/* printing */ \"fmt\"\n)" },
    { "fmt", "package main\nimport (\n\t\"net/http\"\n\tx \"strings\"\n\t\"fmt\"\n)\nfunc main() {}" },
    { "github.com/gorilla/mux", "import \"github.com/gorilla/mux\"" },
    { "github.com/gorilla/mux", "import (\n    \"github.com/gorilla/mux\"\n)" },
    { "github.com/gorilla/mux", "import mux \"github.com/gorilla/mux\"" },
    { "github.com/gorilla/mux", "import . \"github.com/gorilla/mux\"" },
    /* A package below the path is part of it. */
    { "os", "import \"os/exec\"" },
    { "os", "import (\n\"fmt\"\n\"os/exec\"\n)" },
    { "net/http", "import \"net/http\"" },
    { "gopkg.in/yaml.v2", "import \"gopkg.in/yaml.v2\"" },
    { "golang.org/x/crypto/bcrypt", "import \"golang.org/x/crypto/bcrypt\"" },
  };
  static const ImportCase not_imports[] = {
    { "fmt", "// import \"fmt\"" },
    { "fmt", "/* import \"fmt\" */" },
    { "fmt", "import (\n\t\"os\"\n\t// \"fmt\"\n)" },
    { "fmt", "import \"fmtutil\"" },
    { "fmt", "import \"myfmt\"" },
    { "fmt", "import \"github.com/x/fmt\"" },
    { "fmt", "fmt.Println(\"hello\")" },
    { "fmt", "x := \"fmt\"" },
    { "fmt", "fmt.Println(\"import \\\"fmt\\\"\")" },
    { "fmt", "import (\n\"os\"\n)\nvar s = \"fmt\"" },
    { "fmt", "important \"fmt\"" },
    { "os", "import \"osx\"" },
    { "os", "import \"github.com/a/os\"" },
    { "gopkg.in/yaml.v2", "import \"gopkg.in/yaml.v3\"" },
  };

  handler_test_assert_imports (handler, imports, G_N_ELEMENTS (imports),
                               not_imports, G_N_ELEMENTS (not_imports));
  handler_test_assert_hostile (handler, "fmt", "import (\n\t\"os\"\n", FALSE);
  handler_test_assert_hostile (handler, "fmt", "import ( a \"b\" ; ", FALSE);
}

static void
test_strip_comments (void)
{
  g_autoptr(LlmsbxLanguageHandler) handler = handler_test_load ("go");
  static const StripCase cases[] = {
    { "var x int // gone", "var x int", "gone" },
    { "/*\n   gone\n*/\npackage main", "package main", "gone" },
    { "s := \"http://x\" // gone", "\"http://x\"", "gone" },
    { "s := `raw // kept\n/* kept */` // gone", "`raw // kept\n/* kept */`", "gone" },
    { "r := '\"' // gone", "'\"'", "gone" },
    { "package main\nimport \"fmt\"\nfunc main() {\n  /* a\n     b */\n  fmt.Println(\"Hello\") // c\n}",
      "import \"fmt\"", "// c" },
  };

  handler_test_assert_strips (handler, cases, G_N_ELEMENTS (cases));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/go-handler/description", test_description);
  g_test_add_func ("/go-handler/commands", test_commands);
  g_test_add_func ("/go-handler/import-pattern", test_import_pattern);
  g_test_add_func ("/go-handler/strip-comments", test_strip_comments);

  return g_test_run ();
}
