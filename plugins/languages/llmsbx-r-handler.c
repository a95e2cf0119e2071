/* llmsbx-r-handler.c: the R language handler.
 *
 * Packages are installed into {workdir}/.sandbox-R-library, which R_LIBS puts
 * first in .libPaths(); R leaves out library directories that do not exist, so
 * the same setting serves before and after the environment is set up. */
#include "llmsbx-language-handlers.h"

#define R_LIBRARY "{workdir}/.sandbox-R-library"
#define R_ENV "env R_LIBS=" R_LIBRARY

/* Installs commandArgs(TRUE)[1]: a path (it has a '/', or exists) as a source
 * package, anything else as a package name from the repository in R_REPO
 * (CRAN by default). The library is an argument, never part of this code.
 * install.packages() only warns when an installation fails, so warnings are
 * turned into errors: Rscript then exits non-zero with the reason. Written
 * without single quotes, since the template quotes it with them. */
#define INSTALL_CODE \
  "p <- commandArgs(TRUE)[1]; " \
  "local <- grepl(\"/\", p, fixed = TRUE) || file.exists(p); " \
  "repos <- if (local) NULL else c(CRAN = Sys.getenv(\"R_REPO\", \"https://cloud.r-project.org\")); " \
  "withCallingHandlers(install.packages(p, repos = repos, type = if (local) \"source\" else getOption(\"pkgType\")), " \
  "warning = function(w) stop(conditionMessage(w), call. = FALSE))"

/* Strings on one line, skipped whole ((*SKIP)(*FAIL)) so that
 * `print("library(x)")` is not an import. A quote only opens a string where
 * one can start and only closes it where one can end, so a stray quote cannot
 * pair with a later one and hide the code between them. */
#define SKIP_STRINGS \
  "(?<![\\w.'\"`\\\\])(?:'(?:[^'\\\\\\n]|\\\\.)*+'|\"(?:[^\"\\\\\\n]|\\\\.)*+\")(?![\\w.'\"`])" \
  "(*SKIP)(*FAIL)"

/* Matches, outside strings and on any line: library(M), require("M"),
 * library(package = M, ...), requireNamespace('M'), loadNamespace("M"),
 * suppressMessages(library(M)), and M::f or M:::f, which load M as well. */
#define IMPORT_PATTERN \
  SKIP_STRINGS \
  "|(?<![\\w.])(?:library|require|requireNamespace|loadNamespace|attachNamespace)\\s*\\(\\s*" \
    "(?:package\\s*=\\s*)?(['\"`]?){module}\\1\\s*[,)]" \
  "|(?<![\\w.])`?{module}`?\\s*:::?"

LLMSBX_DEFINE_LANGUAGE_HANDLER (LlmsbxRHandler, llmsbx_r_handler, R_HANDLER)

/* R names may contain dots: `my.system(` is not `system(`. */
#define R_CALL(names) "(?<![\\w.])(?:" names ")\\s*\\("

static const LlmsbxCatalogueEntry r_patterns[] = {
  CATALOGUE_ENTRY (COMMAND_EXECUTION, R_CALL ("system|system2|shell|pipe"), "System command execution"),
  CATALOGUE_ENTRY (COMMAND_EXECUTION, "\\b(?:processx|sys)\\s*::", "Process execution"),
  CATALOGUE_ENTRY (NATIVE_CODE, "(?<!\\w)(?:dyn\\.load|\\.Call|\\.C|\\.External|\\.Fortran)\\s*\\(", "Native code access"),
  CATALOGUE_ENTRY (DYNAMIC_CODE, R_CALL ("evalq?") "\\s*(?:base\\s*::\\s*)?(?:parse|str2lang|str2expression)\\s*\\(",
    "Evaluation of code from text"),
  CATALOGUE_ENTRY (DYNAMIC_IMPORT, "\\bcharacter\\.only\\s*=\\s*(?:TRUE|T)\\b", "Package loaded by a computed name"),
  CATALOGUE_ENTRY (FILE_DELETION, R_CALL ("file\\.remove|unlink"), "File deletion"),
  CATALOGUE_ENTRY (FILE_WRITE, R_CALL ("write\\.csv|write\\.table|saveRDS|writeBin|writeChar|file\\.create|sink"), "File write operation"),
  CATALOGUE_ENTRY (FILE_WRITE, "(?<![\\w.])file\\s*\\([^)]*['\"][wa]['\"]|(?<![\\w.])cat\\s*\\([^)]*\\bfile\\s*=", "File write operation"),
  CATALOGUE_ENTRY (NETWORK_SOCKET, R_CALL ("socketConnection|make\\.socket|serverSocket"), "Network socket"),
  CATALOGUE_ENTRY (NETWORK_HTTP, R_CALL ("download\\.file|url") "|\\b(?:httr|curl)\\s*::", "HTTP request"),
};

static const LlmsbxCatalogueEntry r_modules[] = {
  CATALOGUE_ENTRY (COMMAND_EXECUTION, "processx", "Process execution"),
  CATALOGUE_ENTRY (COMMAND_EXECUTION, "sys", "Process execution"),
  CATALOGUE_ENTRY (NATIVE_CODE, "Rcpp", "Native code compilation"),
  CATALOGUE_ENTRY (NATIVE_CODE, "inline", "Native code compilation"),
  CATALOGUE_ENTRY (NETWORK_HTTP, "httr", "HTTP requests"),
  CATALOGUE_ENTRY (NETWORK_HTTP, "curl", "HTTP requests"),
  CATALOGUE_ENTRY (NETWORK_HTTP, "RCurl", "HTTP requests"),
  CATALOGUE_ENTRY (FILE_SYSTEM, "fs", "File-system operations"),
};

LLMSBX_DEFINE_LANGUAGE_CATALOGUE (llmsbx_r_handler, r_patterns, r_modules)

static char *
llmsbx_r_handler_strip_comments (LlmsbxLanguageHandler *handler,
                                 const char            *code)
{
  static const char * const line_comments[] = { "#", NULL };
  /* R has no block comments; backticks quote names, which may hold a '#'. */
  static const LlmsbxCommentSyntax syntax = {
    .line_comments = line_comments,
    .string_quotes = "\"'`",
    .backslash_escapes = TRUE,
  };

  return llmsbx_strip_comments (code, &syntax);
}

/* An R string literal of @text: backslashes and double quotes escaped. */
static char *
r_string (const char *text)
{
  g_autoptr(GString) literal = g_string_new ("\"");

  for (const char *p = text; *p != '\0'; p++)
    {
      if (*p == '\\' || *p == '"')
        g_string_append_c (literal, '\\');
      g_string_append_c (literal, *p);
    }
  g_string_append_c (literal, '"');
  return g_string_free (g_steal_pointer (&literal), FALSE);
}

/* capture/r-capture.R runs first in a local() of its own. R's messages name
 * no line numbers, so the code after it reads and fails as alone. */
static char *
llmsbx_r_handler_wrap_for_artifacts (LlmsbxLanguageHandler *handler,
                                     const char            *code,
                                     const char            *plots_dir)
{
  g_autofree char *capture = llmsbx_language_handlers_capture_source ("r-capture.R");
  g_autofree char *dir = r_string (plots_dir);

  return g_strdup_printf ("local({\n.llmsbx_plots_dir <- %s\n%s})\n%s", dir, capture, code);
}

static void
llmsbx_r_handler_iface_init (LlmsbxLanguageHandlerInterface *iface)
{
  iface->wrap_for_artifacts = llmsbx_r_handler_wrap_for_artifacts;
  iface->strip_comments = llmsbx_r_handler_strip_comments;
  iface->get_security_catalogue = llmsbx_r_handler_get_security_catalogue;
}

/**
 * llmsbx_r_handler_new:
 *
 * Returns: (transfer full): the handler registered as `r`
 */
LlmsbxLanguageHandler *
llmsbx_r_handler_new (void)
{
  static const char * const setup_commands[] = { "mkdir -p " R_LIBRARY, NULL };
  static const char * const execution_commands[] = { R_ENV " Rscript {file}", NULL };

  return g_object_new (llmsbx_r_handler_get_type (),
                       "name", "r",
                       "file-extension", "R",
                       "default-image", "llmsbx/r:bookworm",
                       "execution-commands", execution_commands,
                       "setup-commands", setup_commands,
                       "package-manager", R_ENV " Rscript -e '" INSTALL_CODE "'",
                       "import-pattern", IMPORT_PATTERN,
                       NULL);
}
