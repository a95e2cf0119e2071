/* llmsbx-python-handler.c: the Python language handler.
 *
 * The environment is a venv in the workdir that sees the image's packages
 * (--system-site-packages) and borrows the image's pip through them, so it is
 * created without ensurepip, in well under a second and offline. Until the
 * session has set it up (it does so lazily, before the first install), code
 * runs with the image's python3. */
#include "llmsbx-python-handler.h"

#define VENV      "{workdir}/.sandbox-venv"
#define PIP_CACHE "{workdir}/.sandbox-pip-cache"

struct _LlmsbxPythonHandler
{
  LlmsbxLanguageConfig parent_instance;
};

static void llmsbx_python_handler_iface_init (LlmsbxLanguageHandlerInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (LlmsbxPythonHandler, llmsbx_python_handler, LLMSBX_TYPE_LANGUAGE_CONFIG,
                               G_IMPLEMENT_INTERFACE (LLMSBX_TYPE_LANGUAGE_HANDLER,
                                                      llmsbx_python_handler_iface_init))

static char **
llmsbx_python_handler_get_run_commands (LlmsbxLanguageHandler *handler,
                                        LlmsbxRuntimeContext  *context)
{
  gboolean ready = context != NULL && llmsbx_runtime_context_get_environment_ready (context);
  char **commands = g_new0 (char *, 2);

  /* -u: output reaches live-output listeners as it is printed, whatever the image's environment. */
  commands[0] = g_strdup (ready ? VENV "/bin/python -u {file}" : "python3 -u {file}");
  return commands;
}

static char *
llmsbx_python_handler_get_install_command (LlmsbxLanguageHandler *handler,
                                           LlmsbxRuntimeContext  *context)
{
  /* The session refuses library names starting with '-' before they get here:
   * pip has no reliable `--` to end its options. */
  return g_strdup (VENV "/bin/python -m pip install --disable-pip-version-check --no-input "
                   "--cache-dir " PIP_CACHE " {library}");
}

/* Matches, at the start of a logical line (or after `;` or `:`):
 *   from M import …          from M.sub import …
 *   import M   import M.sub  import a, M   import a as b, M as c
 *   from pkg import M        from pkg import (a,\n M)
 * and anywhere: __import__('M'), importlib.import_module('M').
 * Line-start anchoring keeps `print("import os")` and `import osx` out. */
static char *
llmsbx_python_handler_get_import_pattern (LlmsbxLanguageHandler *handler,
                                          const char            *module)
{
  g_autofree char *m = g_regex_escape_string (module, -1);

  return g_strdup_printf (
    "(?m)"
    "(?:^|[;:])[ \\t]*from[ \\t]+%s(?:[\\s.\\\\]|$)"
    "|(?:^|[;:])[ \\t]*import[ \\t]+(?:[\\w.]+(?:[ \\t]+as[ \\t]+\\w+)?[ \\t]*,[ \\t]*)*%s(?:[\\s.,;#\\\\]|$)"
    "|(?:^|[;:])[ \\t]*from[ \\t]+[\\w.]+[ \\t]+import[ \\t]+\\(?[\\s\\\\]*"
      "(?:\\w+(?:[ \\t]+as[ \\t]+\\w+)?[\\s\\\\]*,[\\s\\\\]*)*%s(?:[\\s,;#)\\\\]|$)"
    "|\\b(?:__import__|import_module)[ \\t]*\\([ \\t]*['\"]%s['\".]",
    m, m, m, m);
}

static char *
llmsbx_python_handler_strip_comments (LlmsbxLanguageHandler *handler,
                                      const char            *code)
{
  static const char * const line_comments[] = { "#", NULL };
  static const LlmsbxCommentSyntax syntax = {
    .line_comments = line_comments,
    .string_quotes = "\"'",
    .triple_quoted_strings = TRUE,
    /* Also right for raw strings: r"\"" is still one literal. */
    .backslash_escapes = TRUE,
  };

  return llmsbx_strip_comments (code, &syntax);
}

static void
llmsbx_python_handler_iface_init (LlmsbxLanguageHandlerInterface *iface)
{
  iface->get_run_commands = llmsbx_python_handler_get_run_commands;
  iface->get_install_command = llmsbx_python_handler_get_install_command;
  iface->get_import_pattern = llmsbx_python_handler_get_import_pattern;
  iface->strip_comments = llmsbx_python_handler_strip_comments;
}

static void
llmsbx_python_handler_class_init (LlmsbxPythonHandlerClass *klass)
{
}

static void
llmsbx_python_handler_init (LlmsbxPythonHandler *self)
{
}

/**
 * llmsbx_python_handler_new:
 *
 * Returns: (transfer full): the handler registered as `python`
 */
LlmsbxLanguageHandler *
llmsbx_python_handler_new (void)
{
  static const char * const setup_commands[] = {
    "python3 -m venv --system-site-packages --without-pip " VENV,
    "mkdir -p " PIP_CACHE,
    NULL
  };
  static const char * const execution_commands[] = { "python3 -u {file}", NULL };

  return g_object_new (LLMSBX_TYPE_PYTHON_HANDLER,
                       "name", "python",
                       "file-extension", "py",
                       "default-image", "llmsbx/python:bookworm",
                       "execution-commands", execution_commands,
                       "setup-commands", setup_commands,
                       NULL);
}
