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

static const LlmsbxCatalogueEntry javascript_patterns[] = {
  CATALOGUE_ENTRY (COMMAND_EXECUTION, "\\bchild_process\\b", "Child process access"),
  CATALOGUE_ENTRY (COMMAND_EXECUTION, "\\b(?:execSync|execFileSync|spawnSync)\\s*\\(", "Process execution"),
  CATALOGUE_ENTRY (COMMAND_EXECUTION, "\\bprocess" DOT "binding\\s*\\(", "Internal bindings (process.binding)"),
  CATALOGUE_ENTRY (NATIVE_CODE, "\\bprocess" DOT "dlopen\\s*\\(", "Native addon loading"),
  CATALOGUE_ENTRY (DYNAMIC_CODE, "(?<![\\w.$])eval\\s*\\(", "Dynamic code execution (eval)"),
  CATALOGUE_ENTRY (DYNAMIC_CODE, "\\bFunction\\s*\\(", "Dynamic code execution (Function)"),
  CATALOGUE_ENTRY (DYNAMIC_CODE, "\\bvm" DOT "(?:runIn\\w*|compileFunction|Script)\\b", "Dynamic code execution (vm)"),
  CATALOGUE_ENTRY (DYNAMIC_IMPORT, "\\b(?:require|import|_load)\\s*\\(\\s*(?!(['\"`])[^'\"`$\\\\]*\\1\\s*[,)])",
    "Module loaded by a computed name"),
  CATALOGUE_ENTRY (FILE_DELETION, "\\.\\s*(?:unlink|rm|rmdir)(?:Sync)?\\s*\\(", "File deletion"),
  CATALOGUE_ENTRY (FILE_WRITE, "\\b(?:writeFile|appendFile|writeFileSync|appendFileSync|createWriteStream)\\s*\\(",
    "File write operation"),
  CATALOGUE_ENTRY (NETWORK_SOCKET, "\\b(?:net|tls|dgram)" DOT "(?:connect|createConnection|createServer|createSocket|Socket)\\b",
    "Network socket"),
  CATALOGUE_ENTRY (NETWORK_HTTP, "(?<![\\w.$])fetch\\s*\\(", "HTTP request (fetch)"),
  CATALOGUE_ENTRY (NETWORK_HTTP, "\\bhttps?" DOT "(?:get|request)\\s*\\(", "HTTP request"),
};

static const LlmsbxCatalogueEntry javascript_modules[] = {
  CATALOGUE_ENTRY (COMMAND_EXECUTION, "child_process", "Process execution"),
  CATALOGUE_ENTRY (COMMAND_EXECUTION, "cluster", "Process creation (cluster)"),
  CATALOGUE_ENTRY (DYNAMIC_IMPORT, "vm", "Dynamic code execution (vm)"),
  CATALOGUE_ENTRY (DYNAMIC_IMPORT, "module", "Module loader internals"),
  CATALOGUE_ENTRY (NETWORK_SOCKET, "net", "Network sockets"),
  CATALOGUE_ENTRY (NETWORK_SOCKET, "dgram", "Network sockets (UDP)"),
  CATALOGUE_ENTRY (NETWORK_SOCKET, "tls", "Network sockets (TLS)"),
  CATALOGUE_ENTRY (NETWORK_HTTP, "http", "HTTP requests"),
  CATALOGUE_ENTRY (NETWORK_HTTP, "https", "HTTP requests"),
  CATALOGUE_ENTRY (NETWORK_HTTP, "http2", "HTTP requests"),
  CATALOGUE_ENTRY (FILE_SYSTEM, "fs", "File-system access"),
  CATALOGUE_ENTRY (FILE_SYSTEM, "fs/promises", "File-system access"),
};

LLMSBX_DEFINE_LANGUAGE_CATALOGUE (llmsbx_javascript_handler, javascript_patterns, javascript_modules)

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
  iface->get_security_catalogue = llmsbx_javascript_handler_get_security_catalogue;
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
