/* llmsbx-go-handler.c: the Go language handler.
 *
 * Code is built with `go build` into {workdir}/.llmsbx/a.out, which then runs:
 * unlike `go run`, which reports any failure of the program as its own exit
 * status 1 and adds "exit status N" to stderr, this keeps the program's exit
 * status and output as they are; a compile error stops the run at the build,
 * with the compiler's messages.
 *
 * Until the environment is set up, the build uses the image's own settings,
 * which is all code using only the standard library needs. Setting up makes
 * the workdir a module (`go mod init sandbox`, unless it already has a
 * go.mod), and from then on the module cache is in the workdir, where `go get`
 * puts libraries and the build finds them through the module's go.mod. The
 * build cache is always in the workdir, so a read-only home does no harm.
 * Where `go get` downloads from is the sandbox's GOPROXY (a file:// directory
 * works offline). */
#include "llmsbx-language-handlers.h"

#define GO_CACHE "GOCACHE={workdir}/.sandbox-go/cache"
#define GO_MODULES "GOMODCACHE={workdir}/.sandbox-go/mod"
/* A go directive newer than the toolchain must fail, not start a download. */
#define GO_TOOLCHAIN "GOTOOLCHAIN=local"
/* -mod=mod lets go.mod and go.sum follow the imports of the code. */
#define GO_MODULE_ENV "env " GO_CACHE " " GO_MODULES " GOFLAGS=-mod=mod " GO_TOOLCHAIN

#define BINARY "{workdir}/.llmsbx/a.out"
#define IMAGE_BUILD "env " GO_CACHE " " GO_TOOLCHAIN " go build -o " BINARY " {file}"
#define MODULE_BUILD GO_MODULE_ENV " go build -o " BINARY " {file}"

static const char * const image_run_commands[] = { IMAGE_BUILD, BINARY, NULL };
static const char * const module_run_commands[] = { MODULE_BUILD, BINARY, NULL };

/* An import path P, or a package below it (P/sub), in either kind of quotes. */
#define IMPORT_PATH "[\"`]{module}(?:/[^\"`\\n]*)?[\"`]"

/* Matches `import "P"`, `import name "P"`, `import . "P"` and `import _ "P"`,
 * and P anywhere in an import block, `import (\n "fmt"\n x "P"\n)`. Go cannot
 * use a package it does not import, so this is every use of P. */
#define IMPORT_PATTERN \
  "\\bimport\\b\\s*(?:[\\w.]+\\s*)?" IMPORT_PATH \
  "|\\bimport\\b\\s*\\(\\s*(?:(?:[\\w.]+\\s*)?[\"`][^\"`\\n]*[\"`]\\s*;?\\s*)*(?:[\\w.]+\\s*)?" IMPORT_PATH

LLMSBX_DEFINE_LANGUAGE_HANDLER (LlmsbxGoHandler, llmsbx_go_handler, GO_HANDLER)

static const LlmsbxCatalogueEntry go_patterns[] = {
  CATALOGUE_ENTRY (COMMAND_EXECUTION, "\\bexec" DOT "(?:Command|CommandContext)\\s*\\(", "System command execution (os/exec)"),
  CATALOGUE_ENTRY (COMMAND_EXECUTION, "\\b(?:syscall|os)" DOT "(?:Exec|ForkExec|StartProcess)\\s*\\(", "Process execution"),
  CATALOGUE_ENTRY (NATIVE_CODE, "\\bsyscall" DOT "(?:Raw)?Syscall\\w*\\s*\\(", "Raw system calls"),
  CATALOGUE_ENTRY (NATIVE_CODE, "\\bunsafe" DOT "Pointer\\b", "Unsafe memory access"),
  CATALOGUE_ENTRY (DYNAMIC_IMPORT, "\\bplugin" DOT "Open\\s*\\(", "Plugin loading"),
  CATALOGUE_ENTRY (FILE_DELETION, "\\bos" DOT "(?:Remove|RemoveAll)\\s*\\(", "File deletion"),
  CATALOGUE_ENTRY (FILE_WRITE, "\\b(?:os|ioutil)" DOT "(?:WriteFile|Create|OpenFile)\\s*\\(", "File write operation"),
  CATALOGUE_ENTRY (NETWORK_SOCKET, "\\bnet" DOT "(?:Dial\\w*|Listen\\w*)\\s*\\(", "Network socket"),
  CATALOGUE_ENTRY (NETWORK_HTTP, "\\bhttp" DOT "(?:Get|Post|PostForm|Head|NewRequest\\w*)\\s*\\(", "HTTP request"),
};

static const LlmsbxCatalogueEntry go_modules[] = {
  CATALOGUE_ENTRY (COMMAND_EXECUTION, "os/exec", "Process execution"),
  CATALOGUE_ENTRY (COMMAND_EXECUTION, "syscall", "Raw operating system calls"),
  CATALOGUE_ENTRY (NATIVE_CODE, "unsafe", "Unsafe memory access"),
  CATALOGUE_ENTRY (NATIVE_CODE, "C", "Native code (cgo)"),
  CATALOGUE_ENTRY (DYNAMIC_IMPORT, "plugin", "Plugin loading"),
  CATALOGUE_ENTRY (NETWORK_SOCKET, "net", "Network access"),
  CATALOGUE_ENTRY (NETWORK_HTTP, "net/http", "HTTP requests"),
};

LLMSBX_DEFINE_LANGUAGE_CATALOGUE (llmsbx_go_handler, go_patterns, go_modules)

static char **
llmsbx_go_handler_get_run_commands (LlmsbxLanguageHandler *handler,
                                    LlmsbxRuntimeContext  *context)
{
  return llmsbx_language_handlers_run_commands (context, image_run_commands, module_run_commands);
}

static char *
llmsbx_go_handler_strip_comments (LlmsbxLanguageHandler *handler,
                                  const char            *code)
{
  static const char * const line_comments[] = { "//", NULL };
  /* Raw strings (`…`) have no escapes; reading `\` as one there can only
   * make a string run on, which keeps text rather than dropping it. */
  static const LlmsbxCommentSyntax syntax = {
    .line_comments = line_comments,
    .block_start = "/*",
    .block_end = "*/",
    .string_quotes = "\"'`",
    .backslash_escapes = TRUE,
  };

  return llmsbx_strip_comments (code, &syntax);
}

/* `go build` links in GOTMPDIR, and runs what it links there; a hardened
 * sandbox's /tmp is noexec, its working directory is not. */
static char **
llmsbx_go_handler_get_hardened_environment (LlmsbxLanguageHandler *handler,
                                            LlmsbxRuntimeContext  *context)
{
  char **environment = g_new0 (char *, 2);

  environment[0] = g_strconcat ("GOTMPDIR=", llmsbx_runtime_context_get_workdir (context), NULL);
  return environment;
}

static void
llmsbx_go_handler_iface_init (LlmsbxLanguageHandlerInterface *iface)
{
  iface->get_run_commands = llmsbx_go_handler_get_run_commands;
  iface->strip_comments = llmsbx_go_handler_strip_comments;
  iface->get_security_catalogue = llmsbx_go_handler_get_security_catalogue;
  iface->get_hardened_environment = llmsbx_go_handler_get_hardened_environment;
}

/**
 * llmsbx_go_handler_new:
 *
 * Returns: (transfer full): the handler registered as `go`
 */
LlmsbxLanguageHandler *
llmsbx_go_handler_new (void)
{
  /* A go.mod the user brought along is their module: keep it. */
  static const char * const setup_commands[] = {
    "sh -c 'test -e go.mod || exec \"$@\"' llmsbx-go-setup " GO_MODULE_ENV " go mod init sandbox",
    NULL
  };

  return g_object_new (llmsbx_go_handler_get_type (),
                       "name", "go",
                       "file-extension", "go",
                       "default-image", "llmsbx/go:bookworm",
                       "execution-commands", image_run_commands,
                       "setup-commands", setup_commands,
                       "package-manager", GO_MODULE_ENV " go get",
                       "import-pattern", IMPORT_PATTERN,
                       NULL);
}
