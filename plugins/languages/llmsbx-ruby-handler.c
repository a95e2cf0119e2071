/* llmsbx-ruby-handler.c: the Ruby language handler.
 *
 * Gems are installed into {workdir}/.sandbox-gems (GEM_HOME), which needs no
 * root and no writable system directory. Code runs with the image's settings
 * until the first install, then with that GEM_HOME too, so it finds the
 * installed gems as well as the image's. */
#include "llmsbx-language-handlers.h"

#define GEM_HOME "env GEM_HOME={workdir}/.sandbox-gems"

#define IMAGE_RUN "ruby {file}"
#define GEMS_RUN GEM_HOME " ruby {file}"

static const char * const image_run_commands[] = { IMAGE_RUN, NULL };
static const char * const gems_run_commands[] = { GEMS_RUN, NULL };

/* Strings on one line, skipped whole ((*SKIP)(*FAIL)) so that
 * `puts "Please require 'json'"` is not an import. A quote only opens a string
 * where one can start (not in `?'`, a character literal) and only closes it
 * where one can end, so a stray quote cannot pair with a later one and hide the
 * code between them. Double-quoted strings with #{…} are code, and scanned. */
#define SKIP_STRINGS \
  "(?<![\\w$?'\"`\\\\/%])(?:'(?:[^'\\\\\\n]|\\\\.)*+'|\"(?:[^\"\\\\#\\n]|\\\\.|#(?!\\{))*+\")(?![\\w$'\"`])" \
  "(*SKIP)(*FAIL)"

/* The feature M, a file below it (json/ext) or M.rb / M.so. */
#define FEATURE "['\"]{module}(?:/[^'\"\\n]*|\\.rb|\\.so)?['\"]"

/* Matches, outside strings: require 'M', require("M"), require_relative 'M',
 * load 'M.rb', Kernel.require 'M', autoload :Name, 'M', also after `;`, in
 * conditions and modifiers (`require 'M' if x`). */
#define IMPORT_PATTERN \
  SKIP_STRINGS \
  "|(?<![\\w$@])(?:require|require_relative|load)\\b\\s*\\(?\\s*" FEATURE \
  "|(?<![\\w$@])autoload\\b\\s*\\(?\\s*(?::\\w+|['\"]\\w+['\"])\\s*,\\s*" FEATURE

LLMSBX_DEFINE_LANGUAGE_HANDLER (LlmsbxRubyHandler, llmsbx_ruby_handler, RUBY_HANDLER)

/* Not a method call, an instance/global variable or a symbol. */
#define RUBY_WORD "(?<![\\w.:@$])"

static const LlmsbxCatalogueEntry ruby_patterns[] = {
  CATALOGUE_ENTRY (COMMAND_EXECUTION, RUBY_WORD "(?:system|exec|spawn|syscall)(?:\\s*\\(|\\s+['\"%\\w])", "System command execution"),
  CATALOGUE_ENTRY (COMMAND_EXECUTION, "\\b(?:Kernel|Process)" DOT "(?:system|exec|spawn|fork)\\b", "Process execution"),
  CATALOGUE_ENTRY (COMMAND_EXECUTION, "\\bIO" DOT "popen\\b|\\bOpen3\\b|\\bPTY" DOT "spawn\\b", "Process execution"),
  CATALOGUE_ENTRY (COMMAND_EXECUTION, RUBY_WORD "fork\\b", "Process creation (fork)"),
  CATALOGUE_ENTRY (COMMAND_EXECUTION, "`[^`\\n]*`", "Shell command (backticks)"),
  CATALOGUE_ENTRY (COMMAND_EXECUTION, "%x[^\\w\\s'\"]", "Shell command (%x)"),
  CATALOGUE_ENTRY (NATIVE_CODE, "\\b(?:Fiddle|FFI)\\b", "Native code access"),
  CATALOGUE_ENTRY (DYNAMIC_CODE, RUBY_WORD "(?:eval|instance_eval|class_eval|module_eval|instance_exec)\\b", "Dynamic code execution (eval)"),
  CATALOGUE_ENTRY (DYNAMIC_CODE, "\\.\\s*(?:send|public_send|__send__)\\s*\\(", "Dynamic method call (send)"),
  CATALOGUE_ENTRY (DYNAMIC_IMPORT, RUBY_WORD "(?:require|require_relative|load)\\s*\\(?\\s*[^'\"\\s(]", "Library loaded by a computed name"),
  CATALOGUE_ENTRY (FILE_DELETION, "\\b(?:File|Dir|FileUtils)" DOT "(?:delete|unlink|rm|rm_r|rm_rf|rm_f|rmdir|remove\\w*)\\b",
    "File deletion"),
  CATALOGUE_ENTRY (FILE_WRITE, "\\b(?:File|IO)" DOT "(?:write|binwrite)\\b|\\bFile" DOT "open\\s*\\(?[^)\\n]*,\\s*['\"][rb]*[wa+]",
    "File write operation"),
  CATALOGUE_ENTRY (NETWORK_SOCKET, "\\b(?:TCPSocket|UDPSocket|UNIXSocket|TCPServer|Socket)" DOT "(?:new|open)\\b", "Network socket"),
  CATALOGUE_ENTRY (NETWORK_HTTP, "\\bNet\\s*::\\s*HTTP\\b|\\bURI" DOT "open\\b", "HTTP request"),
};

static const LlmsbxCatalogueEntry ruby_modules[] = {
  CATALOGUE_ENTRY (COMMAND_EXECUTION, "open3", "Process execution"),
  CATALOGUE_ENTRY (COMMAND_EXECUTION, "pty", "Pseudo-terminal process execution"),
  CATALOGUE_ENTRY (NATIVE_CODE, "fiddle", "Native code access"),
  CATALOGUE_ENTRY (NATIVE_CODE, "ffi", "Native code access"),
  CATALOGUE_ENTRY (NETWORK_SOCKET, "socket", "Network sockets"),
  CATALOGUE_ENTRY (NETWORK_HTTP, "net/http", "HTTP requests"),
  CATALOGUE_ENTRY (NETWORK_HTTP, "open-uri", "URL access"),
  CATALOGUE_ENTRY (FILE_SYSTEM, "fileutils", "File-system operations"),
};

LLMSBX_DEFINE_LANGUAGE_CATALOGUE (llmsbx_ruby_handler, ruby_patterns, ruby_modules)

static char **
llmsbx_ruby_handler_get_run_commands (LlmsbxLanguageHandler *handler,
                                      LlmsbxRuntimeContext  *context)
{
  return llmsbx_language_handlers_run_commands (context, image_run_commands, gems_run_commands);
}

static char *
llmsbx_ruby_handler_strip_comments (LlmsbxLanguageHandler *handler,
                                    const char            *code)
{
  static const char * const line_comments[] = { "#", NULL };
  /* =begin and =end count at the start of a line only, as in Ruby. */
  static const LlmsbxCommentSyntax syntax = {
    .line_comments = line_comments,
    .block_start = "=begin",
    .block_end = "=end",
    .string_quotes = "\"'`",
    .backslash_escapes = TRUE,
  };

  return llmsbx_strip_comments (code, &syntax);
}

static void
llmsbx_ruby_handler_iface_init (LlmsbxLanguageHandlerInterface *iface)
{
  iface->get_run_commands = llmsbx_ruby_handler_get_run_commands;
  iface->strip_comments = llmsbx_ruby_handler_strip_comments;
  iface->get_security_catalogue = llmsbx_ruby_handler_get_security_catalogue;
}

/**
 * llmsbx_ruby_handler_new:
 *
 * Returns: (transfer full): the handler registered as `ruby`
 */
LlmsbxLanguageHandler *
llmsbx_ruby_handler_new (void)
{
  static const char * const setup_commands[] = { "mkdir -p {workdir}/.sandbox-gems", NULL };

  /* A library is a gem name (fetched from the sandbox's gem sources) or the
   * path of a .gem file copied into the sandbox, which installs offline. */
  return g_object_new (llmsbx_ruby_handler_get_type (),
                       "name", "ruby",
                       "file-extension", "rb",
                       "default-image", "llmsbx/ruby:bookworm",
                       "execution-commands", image_run_commands,
                       "setup-commands", setup_commands,
                       "package-manager", GEM_HOME " gem install --no-document",
                       "import-pattern", IMPORT_PATTERN,
                       NULL);
}
