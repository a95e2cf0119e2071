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

/* A call of a free function: not a member (`x.f(`, `p->f(`) or a qualified name. */
#define CPP_CALL(names) "(?<![\\w.>:])(?:" names ")\\s*\\("

static const LlmsbxCatalogueEntry cpp_patterns[] = {
  CATALOGUE_ENTRY (COMMAND_EXECUTION, "(?:\\bstd\\s*::\\s*|(?<![\\w.>:]))system\\s*\\(", "System command execution (system)"),
  CATALOGUE_ENTRY (COMMAND_EXECUTION, CPP_CALL ("popen"), "Process execution (popen)"),
  CATALOGUE_ENTRY (COMMAND_EXECUTION, CPP_CALL ("exec[lv]p?e?|fexecve|posix_spawnp?"), "Process execution (exec)"),
  CATALOGUE_ENTRY (COMMAND_EXECUTION, CPP_CALL ("v?fork"), "Process creation (fork)"),
  CATALOGUE_ENTRY (NATIVE_CODE, CPP_CALL ("dlopen|dlsym|syscall|ptrace"), "Low-level system access"),
  CATALOGUE_ENTRY (NATIVE_CODE, "\\b(?:asm|__asm__)\\b", "Inline assembly"),
  CATALOGUE_ENTRY (FILE_DELETION, CPP_CALL ("unlink|rmdir"), "File deletion"),
  CATALOGUE_ENTRY (FILE_DELETION, CPP_CALL ("remove") "\\s*\"|\\bfilesystem\\s*::\\s*remove(?:_all)?\\s*\\(", "File deletion"),
  CATALOGUE_ENTRY (FILE_WRITE, "\\bofstream\\b|\\bfopen\\s*\\([^)]*,\\s*\"[rb]*[wa+]", "File write operation"),
  CATALOGUE_ENTRY (NETWORK_SOCKET, CPP_CALL ("socket") "\\s*(?:AF|PF)_", "Network socket"),
  CATALOGUE_ENTRY (NETWORK_HTTP, "\\bcurl_easy_\\w+\\s*\\(", "HTTP request (libcurl)"),
};

static const LlmsbxCatalogueEntry cpp_modules[] = {
  CATALOGUE_ENTRY (COMMAND_EXECUTION, "unistd.h", "Process and operating system calls"),
  CATALOGUE_ENTRY (COMMAND_EXECUTION, "sys/wait.h", "Process control"),
  CATALOGUE_ENTRY (COMMAND_EXECUTION, "spawn.h", "Process creation"),
  CATALOGUE_ENTRY (NATIVE_CODE, "dlfcn.h", "Dynamic library loading"),
  CATALOGUE_ENTRY (NATIVE_CODE, "sys/ptrace.h", "Process tracing"),
  CATALOGUE_ENTRY (NATIVE_CODE, "sys/syscall.h", "Raw system calls"),
  CATALOGUE_ENTRY (NETWORK_SOCKET, "sys/socket.h", "Network sockets"),
  CATALOGUE_ENTRY (NETWORK_SOCKET, "netinet/in.h", "Network sockets"),
  CATALOGUE_ENTRY (NETWORK_SOCKET, "arpa/inet.h", "Network sockets"),
  CATALOGUE_ENTRY (NETWORK_SOCKET, "netdb.h", "Network name lookups"),
  CATALOGUE_ENTRY (NETWORK_HTTP, "curl/curl.h", "HTTP requests (libcurl)"),
  CATALOGUE_ENTRY (FILE_SYSTEM, "filesystem", "File-system manipulation"),
};

LLMSBX_DEFINE_LANGUAGE_CATALOGUE (llmsbx_cpp_handler, cpp_patterns, cpp_modules)

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
  iface->get_security_catalogue = llmsbx_cpp_handler_get_security_catalogue;
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
