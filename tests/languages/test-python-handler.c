/* test-python-handler.c: the Python handler of libllmsbx-languages.so. */
#include <llmsbx.h>

static LlmsbxLanguageHandler *
load_python_handler (void)
{
  g_autoptr(LlmsbxRegistry) registry = llmsbx_registry_new ();
  g_autoptr(GError) error = NULL;
  LlmsbxLanguageHandler *handler;

  g_assert_true (llmsbx_registry_load_plugin (registry, LANGUAGES_PLUGIN, &error));
  g_assert_no_error (error);
  handler = llmsbx_registry_lookup_language (registry, "python", &error);
  g_assert_no_error (error);
  g_assert_nonnull (handler);
  return handler;
}

/* Expands @template_ like the session does and joins the words with '|'. */
static char *
expand (const char *template_,
        const char *library)
{
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) argv = llmsbx_expand_command_template (template_, "/sand box/code.py",
                                                       "/sand box", library, &error);

  g_assert_no_error (error);
  return g_strjoinv ("|", argv);
}

static void
test_description (void)
{
  g_autoptr(LlmsbxLanguageHandler) handler = load_python_handler ();
  g_autofree char *name = llmsbx_language_handler_get_name (handler);
  g_autofree char *extension = llmsbx_language_handler_get_file_extension (handler);
  g_autofree char *image = llmsbx_language_handler_get_default_image (handler);

  g_assert_cmpstr (name, ==, "python");
  g_assert_cmpstr (extension, ==, "py");
  g_assert_cmpstr (image, ==, "llmsbx/python:bookworm");
}

static void
test_setup_commands (void)
{
  g_autoptr(LlmsbxLanguageHandler) handler = load_python_handler ();
  g_autoptr(LlmsbxRuntimeContext) context = llmsbx_runtime_context_new ("/sand box", FALSE);
  g_auto(GStrv) setup = llmsbx_language_handler_get_setup_commands (handler, context);
  g_autofree char *venv = NULL;
  g_autofree char *cache = NULL;

  g_assert_cmpuint (g_strv_length (setup), ==, 2);
  venv = expand (setup[0], NULL);
  cache = expand (setup[1], NULL);
  /* A workdir with a space stays one argument. */
  g_assert_cmpstr (venv, ==, "python3|-m|venv|--system-site-packages|--without-pip|/sand box/.sandbox-venv");
  g_assert_cmpstr (cache, ==, "mkdir|-p|/sand box/.sandbox-pip-cache");
}

static void
test_run_commands (void)
{
  g_autoptr(LlmsbxLanguageHandler) handler = load_python_handler ();
  g_autoptr(LlmsbxRuntimeContext) fresh = llmsbx_runtime_context_new ("/sand box", FALSE);
  g_autoptr(LlmsbxRuntimeContext) ready = llmsbx_runtime_context_new ("/sand box", TRUE);
  g_auto(GStrv) before = llmsbx_language_handler_get_run_commands (handler, fresh);
  g_auto(GStrv) after = llmsbx_language_handler_get_run_commands (handler, ready);
  g_autofree char *system_python = NULL;
  g_autofree char *venv_python = NULL;

  g_assert_cmpuint (g_strv_length (before), ==, 1);
  g_assert_cmpuint (g_strv_length (after), ==, 1);
  system_python = expand (before[0], NULL);
  venv_python = expand (after[0], NULL);
  /* Before setup: the venv of a committed image if there is one, else the image's python3. */
  g_assert_cmpstr (system_python, ==,
                   "sh|-c|p=\"$1/.sandbox-venv/bin/python\"; [ -x \"$p\" ] || p=python3; exec \"$p\" \"$2\"|"
                   "llmsbx-python|/sand box|/sand box/code.py");
  g_assert_cmpstr (venv_python, ==, "/sand box/.sandbox-venv/bin/python|/sand box/code.py");
}

static void
test_install_command (void)
{
  g_autoptr(LlmsbxLanguageHandler) handler = load_python_handler ();
  g_autoptr(LlmsbxRuntimeContext) ready = llmsbx_runtime_context_new ("/sand box", TRUE);
  g_autofree char *command = llmsbx_language_handler_get_install_command (handler, ready);
  g_autofree char *argv = NULL;

  g_assert_true (llmsbx_language_handler_supports_library_installation (handler, ready));
  g_assert_nonnull (command);
  /* Whatever the library string holds, it is one argument of pip. */
  argv = expand (command, "numpy>=1.0; rm -rf / $(id)");
  g_assert_cmpstr (argv, ==,
                   "/sand box/.sandbox-venv/bin/python|-m|pip|install|--disable-pip-version-check|"
                   "--no-input|--cache-dir|/sand box/.sandbox-pip-cache|numpy>=1.0; rm -rf / $(id)");
}

static gboolean
imports (LlmsbxLanguageHandler *handler,
         const char            *module,
         const char            *code)
{
  g_autofree char *pattern = llmsbx_language_handler_get_import_pattern (handler, module);
  g_autoptr(GError) error = NULL;
  g_autoptr(GRegex) regex = g_regex_new (pattern, 0, 0, &error);

  g_assert_no_error (error);
  return g_regex_match (regex, code, 0, NULL);
}

static void
test_import_pattern (void)
{
  g_autoptr(LlmsbxLanguageHandler) handler = load_python_handler ();
  static const char * const imports_os[] = {
    "import os",
    "import os.path",
    "import os as o",
    "import sys, os",
    "import sys,os",
    "import sys as s, os as o",
    "import os\r\nprint(1)\r\n",
    "from os import path",
    "from os.path import join",
    "from os import (path,\n    sep)",
    "    import os",
    "def f():\n    import os\n    return os\n",
    "print(1)\nimport os",
    "x = 1; import os",
    "try: import os\nexcept ImportError: pass",
    "from shutil import os",
    "from shutil import (copy,\n    os)",
    "from shutil import copy as c, os",
    "import os# trailing",
    "__import__('os')",
    "m = __import__(\"os.path\")",
    "importlib.import_module('os')",
  };
  static const char * const not_os[] = {
    "import osx",
    "import os_utils",
    "import myos",
    "import sys",
    "from osx import y",
    "from .os import y",
    "from sys import osname",
    "from sys import path as os",
    "x = 'os'",
    "print('import os')",
    "print(\"from os import path\")",
    "# import os",
    "cosmos = 1",
    "__import__('osx')",
    "important = 1",
  };

  for (gsize i = 0; i < G_N_ELEMENTS (imports_os); i++)
    {
      g_test_message ("should match os: %s", imports_os[i]);
      g_assert_true (imports (handler, "os", imports_os[i]));
    }
  for (gsize i = 0; i < G_N_ELEMENTS (not_os); i++)
    {
      g_test_message ("should not match os: %s", not_os[i]);
      g_assert_false (imports (handler, "os", not_os[i]));
    }

  /* Dotted module names are literal, not regex metacharacters. */
  g_assert_true (imports (handler, "os.path", "import os.path"));
  g_assert_true (imports (handler, "os.path", "from os.path import join"));
  g_assert_false (imports (handler, "os.path", "import os"));
  g_assert_false (imports (handler, "os.path", "import osXpath"));
  g_assert_false (imports (handler, "os.path", "import os.pathlib"));
}

static void
test_strip_comments (void)
{
  g_autoptr(LlmsbxLanguageHandler) handler = load_python_handler ();
  static const struct {
    const char *code;
    const char *kept;     /* must survive */
    const char *removed;  /* must be gone */
  } cases[] = {
    { "x = 1  # import os", "x = 1", "import os" },
    { "# import os\nprint(1)", "print(1)", "import os" },
    { "s = 'a # b'  # gone", "'a # b'", "gone" },
    { "s = \"a # b\"  # gone", "\"a # b\"", "gone" },
    { "s = 'it\\'s # kept'  # gone", "'it\\'s # kept'", "gone" },
    { "s = \"\"\"\n# kept\n\"\"\"  # gone", "\"\"\"\n# kept\n\"\"\"", "gone" },
    { "s = '''x\n# kept ' \"\n'''\n# gone\ny = 2", "'''x\n# kept ' \"\n'''", "gone" },
    { "s = r'\\' # kept'  # gone", "r'\\' # kept'", "gone" },
    /* A PEP 263 coding declaration changes how Python reads the file: kept. */
    { "# -*- coding: utf-7 -*-\nx = 1  # gone", "# -*- coding: utf-7 -*-\nx = 1", "gone" },
    { "#!/usr/bin/python3\n# vim: set fileencoding=latin-1 :\n# gone", "fileencoding=latin-1", "gone" },
    { "x = 1\ny = 2\n# coding: utf-7 (too late to count)", "y = 2", "coding" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *stripped = llmsbx_language_handler_strip_comments (handler, cases[i].code);

      g_test_message ("strip: %s -> %s", cases[i].code, stripped);
      g_assert_nonnull (strstr (stripped, cases[i].kept));
      g_assert_null (strstr (stripped, cases[i].removed));
    }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/python-handler/description", test_description);
  g_test_add_func ("/python-handler/setup-commands", test_setup_commands);
  g_test_add_func ("/python-handler/run-commands", test_run_commands);
  g_test_add_func ("/python-handler/install-command", test_install_command);
  g_test_add_func ("/python-handler/import-pattern", test_import_pattern);
  g_test_add_func ("/python-handler/strip-comments", test_strip_comments);

  return g_test_run ();
}
