/* llmsbx-javascript-handler.c: the JavaScript (Node.js) language handler.
 *
 * Code runs with `node` in the workdir. Libraries go to {workdir}/node_modules,
 * which Node's require() finds from the code file in {workdir}/.llmsbx; npm's
 * cache is in the workdir too, so nothing outside it needs to be writable. */
#include "llmsbx-language-handlers.h"

#define NPM_CACHE "{workdir}/.sandbox-npm-cache"

/* Single- and double-quoted strings on one line, skipped whole ((*SKIP)(*FAIL))
 * so that `console.log("require('fs')")` is not an import. A quote only opens
 * a string where one can start, and only closes it where one can end: a stray
 * quote (in a regular expression, or a template literal like `it's ${…}`)
 * cannot pair with a later one and hide the code between them. Template
 * literals are not skipped: their ${…} parts are code. */
#define SKIP_STRINGS \
  "(?<![\\w$?'\"`\\\\/])(?:'(?:[^'\\\\\\n]|\\\\.)*+'|\"(?:[^\"\\\\\\n]|\\\\.)*+\")(?![\\w$'\"`])" \
  "(*SKIP)(*FAIL)"

/* The module specifier: M, node:M, or a path inside M (`fs/promises`,
 * `lodash/fp`), in any quotes. */
#define SPECIFIER "['\"`](?:node:)?{module}(?:/[^'\"`\\n]*)?['\"`]"

/* Matches, outside strings:
 *   import x from 'M'   import {a,\n b} from "M"   import * as m from 'M'
 *   import x, {y} from 'M'   import 'M'   export {a} from 'M'   export * from "M"
 *   require('M')   module.require("M")   import('M')   require(`M`)
 * with M also as node:M or M/sub. The import clause is spelt out (names, one
 * {…} list, * as name) rather than "anything up to from", which keeps the
 * match linear in the length of the code. */
#define IMPORT_PATTERN \
  SKIP_STRINGS \
  "|(?<![\\w$.])import\\s*(?:[\\w$]+\\s*,?\\s*)?(?:\\*\\s*as\\s+[\\w$]+\\s*|\\{[\\w$\\s,]*\\}\\s*)?" \
    "(?:from\\s*)?" SPECIFIER \
  "|(?<![\\w$.])export\\s*(?:\\*\\s*(?:as\\s+[\\w$]+\\s*)?|\\{[\\w$\\s,]*\\}\\s*)from\\s*" SPECIFIER \
  "|(?<![\\w$])require\\s*\\(\\s*" SPECIFIER \
  "|(?<![\\w$.])import\\s*\\(\\s*" SPECIFIER

LLMSBX_DEFINE_LANGUAGE_HANDLER (LlmsbxJavascriptHandler, llmsbx_javascript_handler, JAVASCRIPT_HANDLER)

static char *
llmsbx_javascript_handler_strip_comments (LlmsbxLanguageHandler *handler,
                                          const char            *code)
{
  static const char * const line_comments[] = { "//", NULL };
  static const LlmsbxCommentSyntax syntax = {
    .line_comments = line_comments,
    .block_start = "/*",
    .block_end = "*/",
    .string_quotes = "\"'`",
    .backslash_escapes = TRUE,
  };

  return llmsbx_strip_comments (code, &syntax);
}

static void
llmsbx_javascript_handler_iface_init (LlmsbxLanguageHandlerInterface *iface)
{
  iface->strip_comments = llmsbx_javascript_handler_strip_comments;
}

/**
 * llmsbx_javascript_handler_new:
 *
 * Returns: (transfer full): the handler registered as `javascript`
 */
LlmsbxLanguageHandler *
llmsbx_javascript_handler_new (void)
{
  static const char * const execution_commands[] = { "node {file}", NULL };

  /* --prefix keeps npm from settling on a package.json it finds above the
   * workdir. A library is anything npm installs: a name, name@version, or a
   * tarball copied into the sandbox. */
  return g_object_new (llmsbx_javascript_handler_get_type (),
                       "name", "javascript",
                       "file-extension", "js",
                       "default-image", "llmsbx/javascript:bookworm",
                       "execution-commands", execution_commands,
                       "package-manager", "npm install --prefix {workdir} --cache " NPM_CACHE
                                          " --no-audit --no-fund --no-update-notifier",
                       "import-pattern", IMPORT_PATTERN,
                       NULL);
}
