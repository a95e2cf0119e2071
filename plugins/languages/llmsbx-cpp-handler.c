/* llmsbx-cpp-handler.c: the C++ language handler.
 *
 * Code is compiled with g++ (C++17) into {workdir}/.llmsbx/a.out, which then
 * runs; a compile error stops the run there, with g++'s messages on stderr and
 * its exit status. Libraries are Debian packages, installed with apt-get: the
 * path of a .deb copied into the sandbox installs offline (its dependencies
 * must already be there); a package name needs the package lists, which the
 * image does not carry (`apt-get update` first, where a mirror is reachable).
 * apt-get needs root, the sandbox's default user. */
#include "llmsbx-language-handlers.h"

#define BINARY "{workdir}/.llmsbx/a.out"

/* Matches an #include (or #include_next, or GCC's #import) of the header M,
 * as <M> or "M", at the start of a line as the preprocessor requires, with the
 * spacing it allows and %: for #. `#include <vectors>`, `#define M` and
 * `"#include <M>"` inside a string do not match. */
#define IMPORT_PATTERN \
  "(?m)^[ \\t]*(?:#|%:)[ \\t]*(?:include|include_next|import)[ \\t]*(?:<{module}>|\"{module}\")"

LLMSBX_DEFINE_LANGUAGE_HANDLER (LlmsbxCppHandler, llmsbx_cpp_handler, CPP_HANDLER)

static char *
llmsbx_cpp_handler_strip_comments (LlmsbxLanguageHandler *handler,
                                   const char            *code)
{
  static const char * const line_comments[] = { "//", NULL };
  /* A digit separator (1'000) opens a "character literal" here; it runs to
   * the next quote, which can only keep text that is not a string. */
  static const LlmsbxCommentSyntax syntax = {
    .line_comments = line_comments,
    .block_start = "/*",
    .block_end = "*/",
    .string_quotes = "\"'",
    .backslash_escapes = TRUE,
  };

  return llmsbx_strip_comments (code, &syntax);
}

static void
llmsbx_cpp_handler_iface_init (LlmsbxLanguageHandlerInterface *iface)
{
  iface->strip_comments = llmsbx_cpp_handler_strip_comments;
}

/**
 * llmsbx_cpp_handler_new:
 *
 * Returns: (transfer full): the handler registered as `cpp`
 */
LlmsbxLanguageHandler *
llmsbx_cpp_handler_new (void)
{
  static const char * const execution_commands[] = {
    "g++ -std=c++17 -O1 -pipe -o " BINARY " {file}",
    BINARY,
    NULL
  };

  return g_object_new (llmsbx_cpp_handler_get_type (),
                       "name", "cpp",
                       "file-extension", "cpp",
                       "default-image", "llmsbx/cpp:bookworm",
                       "execution-commands", execution_commands,
                       "package-manager", "env DEBIAN_FRONTEND=noninteractive "
                                          "apt-get install -y --no-install-recommends",
                       "import-pattern", IMPORT_PATTERN,
                       NULL);
}
