/* test-r-handler.c: the R handler of libllmsbx-languages.so. */
#include "handler-test.h"

#define FILE_R "/sand box/.llmsbx/code-1.R"
#define R_ENV "env|R_LIBS=/sand box/.sandbox-R-library"

static void
test_description (void)
{
  g_autoptr(LlmsbxLanguageHandler) handler = handler_test_load ("r");

  handler_test_assert_description (handler, "r", "R", "llmsbx/r:bookworm");
}

static void
test_commands (void)
{
  g_autoptr(LlmsbxLanguageHandler) handler = handler_test_load ("r");
  g_autoptr(LlmsbxRuntimeContext) fresh = llmsbx_runtime_context_new ("/sand box", FALSE);
  g_autoptr(LlmsbxRuntimeContext) ready = llmsbx_runtime_context_new ("/sand box", TRUE);
  g_autofree char *setup = handler_test_commands (llmsbx_language_handler_get_setup_commands (handler, fresh),
                                                  NULL, NULL);
  g_autofree char *run = handler_test_commands (llmsbx_language_handler_get_run_commands (handler, fresh),
                                                FILE_R, NULL);
  g_autofree char *install = llmsbx_language_handler_get_install_command (handler, ready);
  g_auto(GStrv) argv = NULL;
  g_autoptr(GError) error = NULL;
  const char *library = "x', repos = NULL); system('id'); ('";

  g_assert_cmpstr (setup, ==, "mkdir|-p|/sand box/.sandbox-R-library");
  g_assert_cmpstr (run, ==, R_ENV "|Rscript|" FILE_R);

  /* The library is the last argument of Rscript, read with commandArgs():
   * never part of the R code, whatever it holds. */
  g_assert_nonnull (install);
  argv = llmsbx_expand_command_template (install, NULL, "/sand box", library, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_strv_length (argv), ==, 6);
  g_assert_cmpstr (argv[0], ==, "env");
  g_assert_cmpstr (argv[1], ==, "R_LIBS=/sand box/.sandbox-R-library");
  g_assert_cmpstr (argv[2], ==, "Rscript");
  g_assert_cmpstr (argv[3], ==, "-e");
  g_assert_nonnull (strstr (argv[4], "commandArgs(TRUE)[1]"));
  g_assert_null (strstr (argv[4], library));
  g_assert_cmpstr (argv[5], ==, library);
}

static void
test_import_pattern (void)
{
  g_autoptr(LlmsbxLanguageHandler) handler = handler_test_load ("r");
  static const ImportCase imports[] = {
    { "ggplot2", "library(ggplot2)" },
    { "ggplot2", "library('ggplot2')" },
    { "ggplot2", "library(\"ggplot2\")" },
    { "ggplot2", "library( ggplot2 )" },
    { "ggplot2", "  library(ggplot2)" },
    { "ggplot2", "library(ggplot2)  # Load ggplot2" },
    { "ggplot2", "library(`ggplot2`)" },
    { "ggplot2", "library(package = ggplot2)" },
    { "ggplot2", "require(ggplot2)" },
    { "ggplot2", "require('ggplot2')" },
    { "ggplot2", "require(\"ggplot2\")" },
    { "ggplot2", "requireNamespace('ggplot2', quietly = TRUE)" },
    { "ggplot2", "suppressMessages(library(ggplot2))" },
    { "ggplot2", "base::library(ggplot2)" },
    /* Any line, not only the first. */
    { "ggplot2", "x <- 1\nlibrary(ggplot2)" },
    { "ggplot2", "x <- 'a'; library(ggplot2)" },
    /* pkg::f loads pkg too. */
    { "ggplot2", "ggplot2::ggplot(d)" },
    { "dplyr", "require(dplyr)" },
    { "dplyr", "require( dplyr )" },
    { "dplyr", "  require(dplyr)" },
    { "dplyr", "dplyr::filter(data, condition)" },
    { "dplyr", "dplyr:::internal_function()" },
    { "dplyr", "data %>% dplyr::mutate(new_col = value)" },
    { "optional_package", "if (!require(optional_package)) install.packages('optional_package')" },
    { "optional_package", "library(optional_package, quietly = TRUE)" },
    { "optional_package", "suppressMessages(library(optional_package))" },
    { "data.table", "library(data.table)" },
    { "data.table", "result <- data.table::fread('file.csv')" },
    { "stats", "library(stats)" },
    { "methods", "library(methods)" },
  };
  static const ImportCase not_imports[] = {
    { "ggplot2", "# library(ggplot2)" },
    { "ggplot2", "# Load ggplot2 with library(ggplot2)" },
    { "ggplot2", "ggplot2_data <- data.frame()" },
    { "ggplot2", "print('library(ggplot2)')" },
    { "ggplot2", "print(\"Please load library(ggplot2)\")" },
    { "ggplot2", "message('Install ggplot2 with: library(ggplot2)')" },
    { "ggplot2", "library(ggplot2extra)" },
    { "ggplot2", "my.library(ggplot2)" },
    { "ggplot2", "x <- 'ggplot2::ggplot'" },
    { "ggplot2", "myggplot2::f()" },
    { "data.table", "dt <- data.table(x = 1:5)" },
    { "data.table", "library(dataXtable)" },
  };

  handler_test_assert_imports (handler, imports, G_N_ELEMENTS (imports),
                               not_imports, G_N_ELEMENTS (not_imports));
  handler_test_assert_hostile (handler, "ggplot2", "library( ", FALSE);
  handler_test_assert_hostile (handler, "ggplot2", "\"a' ", FALSE);
}

static void
test_strip_comments (void)
{
  g_autoptr(LlmsbxLanguageHandler) handler = handler_test_load ("r");
  static const StripCase cases[] = {
    { "x <- 5 # gone", "x <- 5", "gone" },
    { "# gone\nprint(1)", "print(1)", "gone" },
    { "print(\"a # kept\") # gone", "print(\"a # kept\")", "gone" },
    { "print('a # kept') # gone", "print('a # kept')", "gone" },
    { "`a # kept` <- 1 # gone", "`a # kept` <- 1", "gone" },
    { "s <- \"it\\\"s # kept\" # gone", "\"it\\\"s # kept\"", "gone" },
    { "# gone\nlibrary(ggplot2)\nhello <- function() {\n  print(\"Hello\") # c\n  return(42)\n}",
      "library(ggplot2)", "gone" },
  };

  handler_test_assert_strips (handler, cases, G_N_ELEMENTS (cases));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/r-handler/description", test_description);
  g_test_add_func ("/r-handler/commands", test_commands);
  g_test_add_func ("/r-handler/import-pattern", test_import_pattern);
  g_test_add_func ("/r-handler/strip-comments", test_strip_comments);

  return g_test_run ();
}
