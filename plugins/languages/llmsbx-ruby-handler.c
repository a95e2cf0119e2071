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
