/* llmsbx-python-handler.c: the Python language handler.
 *
 * The environment is a venv in the workdir that sees the image's packages
 * (--system-site-packages) and borrows the image's pip through them, so it is
 * created without ensurepip, in well under a second and offline. Until the
 * session has set it up (it does so lazily, before the first install), code
 * runs with the image's python3, or with the workdir's venv when the image
 * already holds one: an image a session committed with its packages. The
 * shell makes that choice inside the sandbox, so it costs no round trip.
 * Everything but that choice is a property of the LlmsbxLanguageConfig parent. */
#include "llmsbx-language-handlers.h"

#define VENV      "{workdir}/.sandbox-venv"
#define PIP_CACHE "{workdir}/.sandbox-pip-cache"

#define SYSTEM_RUN \
  "sh -c 'p=\"$1/.sandbox-venv/bin/python\"; [ -x \"$p\" ] || p=python3; exec \"$p\" \"$2\"' " \
  "llmsbx-python {workdir} {file}"
#define VENV_RUN   VENV "/bin/python {file}"

static const char * const system_run_commands[] = { SYSTEM_RUN, NULL };
static const char * const venv_run_commands[] = { VENV_RUN, NULL };

/* Matches, at the start of a line (or after `;` or `:`):
 *   from M import …          from M.sub import …
 *   import M   import M.sub  import a, M   import a as b, M as c
 *   from pkg import M        from pkg import (a,\n M)
 * and anywhere: __import__('M'), importlib.import_module('M').
 * Anchoring at line starts keeps `print("import os")` and `import osx` out. */
#define IMPORT_PATTERN \
  "(?m)" \
  "(?:^|[;:])[ \\t]*from[ \\t]+{module}(?:[\\s.\\\\]|$)" \
  "|(?:^|[;:])[ \\t]*import[ \\t]+(?:[\\w.]+(?:[ \\t]+as[ \\t]+\\w+)?[ \\t]*,[ \\t]*)*{module}(?:[\\s.,;#\\\\]|$)" \
  "|(?:^|[;:])[ \\t]*from[ \\t]+[\\w.]+[ \\t]+import[ \\t]+\\(?[\\s\\\\]*" \
    "(?:\\w+(?:[ \\t]+as[ \\t]+\\w+)?[\\s\\\\]*,[\\s\\\\]*)*{module}(?:[\\s,;#)\\\\]|$)" \
  "|\\b(?:__import__|import_module)[ \\t]*\\([ \\t]*['\"]{module}['\".]"

LLMSBX_DEFINE_LANGUAGE_HANDLER (LlmsbxPythonHandler, llmsbx_python_handler, PYTHON_HANDLER)

static const LlmsbxCatalogueEntry python_patterns[] = {
  CATALOGUE_ENTRY (COMMAND_EXECUTION, "\\bos" DOT "system\\s*\\(", "System command execution"),
  CATALOGUE_ENTRY (COMMAND_EXECUTION, "\\bos" DOT "(?:popen|exec[lv]p?e?|spawn[lv]p?e?|posix_spawnp?|fork|forkpty)\\s*\\(",
    "Process creation through os"),
  CATALOGUE_ENTRY (COMMAND_EXECUTION, "\\bsubprocess" DOT "(?:run|call|check_call|check_output|Popen|getoutput|getstatusoutput)\\s*\\(",
    "Subprocess execution"),
  CATALOGUE_ENTRY (COMMAND_EXECUTION, "\\bpty" DOT "spawn\\s*\\(", "Process creation through pty"),
  CATALOGUE_ENTRY (COMMAND_EXECUTION, "\\bposix" DOT "(?:system|popen|exec\\w*|spawn\\w*|posix_spawnp?|fork)\\s*\\(",
    "Process creation through posix"),
  CATALOGUE_ENTRY (DYNAMIC_CODE, "(?<![\\w.])(?:eval|exec)\\s*\\(", "Dynamic code execution (eval/exec)"),
  CATALOGUE_ENTRY (DYNAMIC_CODE, "\\b__(?:subclasses|globals|builtins|code|closure|getattribute)__\\b",
    "Interpreter internals (sandbox escapes)"),
  /* PEP 263: a coding comment on line 1 or 2 makes Python decode the file
   * with another codec (utf-7 hides any code from a scanner). */
  CATALOGUE_ENTRY (DYNAMIC_CODE, "\\A(?:[^\\n]*\\n)?[ \\t\\f]*#[^\\n]*?coding[:=][ \\t]*(?!(?i:utf[-_]?8)(?:-sig)?\\b)[-\\w.]+",
    "Source encoding other than UTF-8 (can hide code from the scanner)"),
  CATALOGUE_ENTRY (DYNAMIC_IMPORT, "\\b__import__\\s*\\(", "Dynamic import (__import__)"),
  CATALOGUE_ENTRY (DYNAMIC_IMPORT, "\\bimport_module\\s*\\(", "Dynamic import (importlib)"),
  CATALOGUE_ENTRY (DYNAMIC_IMPORT, "\\bsys" DOT "modules\\b", "Module table access (sys.modules)"),
  CATALOGUE_ENTRY (FILE_DELETION, "\\bos" DOT "(?:remove|unlink|rmdir|removedirs)\\s*\\(", "File deletion"),
  CATALOGUE_ENTRY (FILE_DELETION, "\\bshutil" DOT "rmtree\\s*\\(", "Directory tree deletion"),
  CATALOGUE_ENTRY (FILE_WRITE, "\\bopen\\s*\\([^)]*,\\s*(?:mode\\s*=\\s*)?['\"][rbt]*[wax+]", "File write operation"),
  CATALOGUE_ENTRY (FILE_WRITE, "\\.\\s*write_(?:text|bytes)\\s*\\(", "File write operation (pathlib)"),
  CATALOGUE_ENTRY (NETWORK_SOCKET, "\\bsocket" DOT "(?:socket|create_connection|create_server)\\s*\\(", "Network socket"),
  CATALOGUE_ENTRY (NETWORK_HTTP, "\\brequests" DOT "(?:get|post|put|patch|delete|head|request)\\s*\\(", "HTTP request"),
  CATALOGUE_ENTRY (NETWORK_HTTP, "\\burlopen\\s*\\(", "URL access (urllib)"),
};

static const LlmsbxCatalogueEntry python_modules[] = {
  CATALOGUE_ENTRY (COMMAND_EXECUTION, "os", "Operating system access"),
  CATALOGUE_ENTRY (COMMAND_EXECUTION, "subprocess", "Process execution"),
  CATALOGUE_ENTRY (COMMAND_EXECUTION, "pty", "Pseudo-terminal process execution"),
  CATALOGUE_ENTRY (COMMAND_EXECUTION, "posix", "Operating system access (posix)"),
  CATALOGUE_ENTRY (COMMAND_EXECUTION, "_posixsubprocess", "Process execution"),
  CATALOGUE_ENTRY (NATIVE_CODE, "ctypes", "Native code access (ctypes)"),
  CATALOGUE_ENTRY (NATIVE_CODE, "_ctypes", "Native code access (ctypes)"),
  CATALOGUE_ENTRY (NATIVE_CODE, "cffi", "Native code access (cffi)"),
  CATALOGUE_ENTRY (DYNAMIC_IMPORT, "importlib", "Dynamic imports"),
  CATALOGUE_ENTRY (NETWORK_SOCKET, "socket", "Network sockets"),
  CATALOGUE_ENTRY (NETWORK_HTTP, "requests", "HTTP requests"),
  CATALOGUE_ENTRY (NETWORK_HTTP, "urllib", "URL access"),
  CATALOGUE_ENTRY (FILE_SYSTEM, "shutil", "File-system operations"),
  CATALOGUE_ENTRY (DESERIALIZATION, "pickle", "Unsafe deserialisation (pickle)"),
  CATALOGUE_ENTRY (DESERIALIZATION, "marshal", "Unsafe deserialisation (marshal)"),
};

LLMSBX_DEFINE_LANGUAGE_CATALOGUE (llmsbx_python_handler, python_patterns, python_modules)

static char **
llmsbx_python_handler_get_run_commands (LlmsbxLanguageHandler *handler,
                                        LlmsbxRuntimeContext  *context)
{
  return llmsbx_language_handlers_run_commands (context, system_run_commands, venv_run_commands);
}

static LlmsbxLanguageHandlerInterface *parent_iface;

/* Python reads a `coding:` comment on line 1 or 2 (PEP 263) and decodes the
 * file with it: `# coding: utf-7` turns innocent-looking bytes into code. Such
 * a declaration is kept when comments are stripped, so that a policy can see it. */
static char *
llmsbx_python_handler_strip_comments (LlmsbxLanguageHandler *handler,
                                      const char            *code)
{
  static gsize declaration_once = 0;
  static GRegex *declaration;
  g_autofree char *stripped = parent_iface->strip_comments (handler, code);
  g_auto(GStrv) original_lines = g_strsplit (code, "\n", 3);
  g_auto(GStrv) stripped_lines = g_strsplit (stripped, "\n", 3);
  gboolean kept = FALSE;

  if (g_once_init_enter (&declaration_once))
    {
      declaration = g_regex_new ("^[ \\t\\f]*#.*?coding[:=][ \\t]*[-\\w.]+", G_REGEX_OPTIMIZE, 0, NULL);
      g_once_init_leave (&declaration_once, 1);
    }

  for (guint i = 0; i < 2 && original_lines[i] != NULL && stripped_lines[i] != NULL; i++)
    {
      if (g_regex_match (declaration, original_lines[i], 0, NULL))
        {
          g_free (stripped_lines[i]);
          stripped_lines[i] = g_strdup (original_lines[i]);
          kept = TRUE;
        }
    }

  return kept ? g_strjoinv ("\n", stripped_lines) : g_steal_pointer (&stripped);
}

/* The code becomes a few lines that load capture/python-capture.py as the
 * module _llmsbx_capture and hand it the code's bytes, all in base64 so
 * that nothing needs quoting; the capture runs the code in __main__ under
 * its own file name, so it reads and fails as it would alone. binascii is
 * built in: the wrapper imports nothing. */
static char *
llmsbx_python_handler_wrap_for_artifacts (LlmsbxLanguageHandler *handler,
                                          const char            *code,
                                          const char            *plots_dir)
{
  g_autofree char *capture = llmsbx_language_handlers_capture_source ("python-capture.py");
  g_autofree char *capture64 = g_base64_encode ((const guchar *) capture, strlen (capture));
  g_autofree char *code64 = g_base64_encode ((const guchar *) code, strlen (code));
  g_autofree char *dir64 = g_base64_encode ((const guchar *) plots_dir, strlen (plots_dir));

  return g_strdup_printf (
    "import binascii as _llmsbx_b, sys as _llmsbx_s\n"
    "_llmsbx_m = _llmsbx_s.modules.get('_llmsbx_capture')\n"
    "if _llmsbx_m is None:\n"
    "    _llmsbx_m = type(_llmsbx_s)('_llmsbx_capture')\n"
    "    _llmsbx_s.modules['_llmsbx_capture'] = _llmsbx_m\n"
    "    exec(compile(_llmsbx_b.a2b_base64('%s'), '<llmsbx plot capture>', 'exec'), _llmsbx_m.__dict__)\n"
    "_llmsbx_m.main(globals(), _llmsbx_b.a2b_base64('%s').decode(), _llmsbx_b.a2b_base64('%s'),\n"
    "               ('_llmsbx_b', '_llmsbx_s', '_llmsbx_m'))\n",
    capture64, dir64, code64);
}

static void
llmsbx_python_handler_iface_init (LlmsbxLanguageHandlerInterface *iface)
{
  iface->wrap_for_artifacts = llmsbx_python_handler_wrap_for_artifacts;
  parent_iface = g_type_interface_peek_parent (iface);
  iface->get_run_commands = llmsbx_python_handler_get_run_commands;
  iface->strip_comments = llmsbx_python_handler_strip_comments;
  iface->get_security_catalogue = llmsbx_python_handler_get_security_catalogue;
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

  /* The session refuses library names starting with '-' before they reach
   * pip, which has no dependable `--` to end its options. */
  return g_object_new (llmsbx_python_handler_get_type (),
                       "name", "python",
                       "file-extension", "py",
                       "default-image", "llmsbx/python:bookworm",
                       "execution-commands", system_run_commands,
                       "setup-commands", setup_commands,
                       "package-manager", VENV "/bin/python -m pip install --disable-pip-version-check "
                                          "--no-input --cache-dir " PIP_CACHE,
                       "import-pattern", IMPORT_PATTERN,
                       "line-comment", "#",
                       NULL);
}
