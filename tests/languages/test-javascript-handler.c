/* test-javascript-handler.c: the JavaScript handler of libllmsbx-languages.so. */
#include "handler-test.h"

#define FILE_JS "/sand box/.llmsbx/code-1.js"

static void
test_description (void)
{
  g_autoptr(LlmsbxLanguageHandler) handler = handler_test_load ("javascript");

  handler_test_assert_description (handler, "javascript", "js", "llmsbx/javascript:bookworm");
}

static void
test_commands (void)
{
  g_autoptr(LlmsbxLanguageHandler) handler = handler_test_load ("javascript");
  g_autoptr(LlmsbxRuntimeContext) fresh = llmsbx_runtime_context_new ("/sand box", FALSE);
  g_autoptr(LlmsbxRuntimeContext) ready = llmsbx_runtime_context_new ("/sand box", TRUE);
  g_autofree char *setup = handler_test_commands (llmsbx_language_handler_get_setup_commands (handler, fresh),
                                                  NULL, NULL);
  g_autofree char *run = handler_test_commands (llmsbx_language_handler_get_run_commands (handler, fresh),
                                                FILE_JS, NULL);
  g_autofree char *run_ready = handler_test_commands (llmsbx_language_handler_get_run_commands (handler, ready),
                                                      FILE_JS, NULL);
  g_autofree char *install = llmsbx_language_handler_get_install_command (handler, ready);
  g_autofree char *install_argv = NULL;

  g_assert_cmpstr (setup, ==, "");
  g_assert_cmpstr (run, ==, "node|" FILE_JS);
  g_assert_cmpstr (run_ready, ==, run);

  /* Into the workdir, whatever the library string holds, as one argument. */
  g_assert_nonnull (install);
  install_argv = handler_test_expand (install, NULL, "/sand box/pkg-1.0.0.tgz; rm -rf /");
  g_assert_cmpstr (install_argv, ==,
                   "npm|install|--prefix|/sand box|--cache|/sand box/.sandbox-npm-cache|"
                   "--no-audit|--no-fund|--no-update-notifier|/sand box/pkg-1.0.0.tgz; rm -rf /");
}

static void
test_import_pattern (void)
{
  g_autoptr(LlmsbxLanguageHandler) handler = handler_test_load ("javascript");
  static const ImportCase imports[] = {
    /* ES modules */
    { "axios", "import axios from 'axios';" },
    { "axios", "import axios from \"axios\";" },
    { "axios", "import { get, post } from 'axios';" },
    { "axios", "import * as axios from 'axios';" },
    { "axios", "import axios, { create } from 'axios';" },
    { "axios", "import {\n  get,\n  post as p,\n} from 'axios'" },
    { "axios", "import 'axios';" },
    { "axios", "import axios from 'axios/dist/node'" },
    { "axios", "export { get } from 'axios';" },
    { "axios", "export * from 'axios'" },
    { "axios", "export * as ax from 'axios'" },
    { "axios", "const a = await import('axios')" },
    { "axios", "import(`axios`).then(m => m)" },
    { "react", "import { useState, useEffect } from 'react';" },
    { "react", "import React, { Component } from 'react';" },
    { "@babel/core", "import babel from '@babel/core';" },
    { "@babel/core", "import { transform } from '@babel/core';" },
    /* CommonJS */
    { "fs", "const fs = require('fs');" },
    { "fs", "const fs = require(\"fs\");" },
    { "fs", "const { readFile } = require('fs');" },
    { "fs", "var fs = require('fs');" },
    { "fs", "let fs = require('fs');" },
    { "fs", "require('fs')" },
    { "fs", "require( 'fs' )" },
    { "fs", "require(\n  'fs'\n)" },
    { "fs", "require(`fs`)" },
    { "fs", "require('node:fs')" },
    { "fs", "import fs from 'node:fs'" },
    { "fs", "const p = require('fs/promises')" },
    { "fs", "module.require('fs')" },
    { "fs", "f('a', require(\"fs\"))" },
    { "fs", "x = 'a'; y = require('fs')" },
    { "fs", "const s = \"it's\"; require('fs')" },
    { "fs", "/* block */ require('fs')" },
    { "fs", "`it's ${require('fs')}`" },
    { "react", "const { useState } = require('react');" },
    { "@babel/core", "const babel = require('@babel/core');" },
    { "lodash", "const _ = require('lodash');" },
    { "child_process", "require('child_process').execSync('id')" },
  };
  static const ImportCase not_imports[] = {
    { "axios", "// import axios from 'axios';" },
    { "axios", "/* const axios = require('axios'); */" },
    { "axios", "/*\n * import axios from 'axios'\n */" },
    { "axios", "import myaxios from 'myaxios';" },
    { "axios", "const axiosHelper = require('axios-helper');" },
    { "axios", "console.log('import axios from axios');" },
    { "axios", "console.log(\"import axios from 'axios'\");" },
    { "axios", "const s = 'require(\"axios\")';" },
    { "axios", "myrequire('axios')" },
    { "axios", "x.import('axios')" },
    { "axios", "importer('axios')" },
    { "axios", "axios.get('x')" },
    { "axios", "const m = 'axios'" },
    { "fs", "require('fsx')" },
    { "fs", "require('myfs')" },
    { "fs", "const fs = 'fs'" },
    { "fs", "console.log(\"http://x\"); // require('fs')" },
  };

  handler_test_assert_imports (handler, imports, G_N_ELEMENTS (imports),
                               not_imports, G_N_ELEMENTS (not_imports));

  /* Strings are skipped by the pattern itself, comments or not. */
  g_assert_false (handler_test_matches (handler, "fs", "console.log(\"require('fs')\")"));
  g_assert_true (handler_test_matches (handler, "fs", "console.log(\"require\"); require('fs')"));

  handler_test_assert_hostile (handler, "fs", "import {a, b, c, d, e, f ", FALSE);
  handler_test_assert_hostile (handler, "fs", "'x \" ", FALSE);
  handler_test_assert_hostile (handler, "fs", "require( ", FALSE);
}

static void
test_strip_comments (void)
{
  g_autoptr(LlmsbxLanguageHandler) handler = handler_test_load ("javascript");
  static const StripCase cases[] = {
    { "x = 1; // require('fs')", "x = 1;", "require" },
    { "// gone\nconsole.log(1)", "console.log(1)", "gone" },
    { "a(); /* gone\n gone */ b();", "b();", "gone" },
    { "/** JSDoc\n * @param {string} gone\n */\nf()", "f()", "gone" },
    { "const u = \"http://example.com\"; // gone", "\"http://example.com\"", "gone" },
    { "const u = 'http://x/*y*/'; // gone", "'http://x/*y*/'", "gone" },
    { "const t = `a // b ${c}`; // gone", "`a // b ${c}`", "gone" },
    { "const s = 'it\\'s // kept'; // gone", "'it\\'s // kept'", "gone" },
    { "function hello() {\n  /* a\n  b */\n  console.log(\"Hello\"); // c\n}",
      "console.log(\"Hello\");", "// c" },
  };

  handler_test_assert_strips (handler, cases, G_N_ELEMENTS (cases));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/javascript-handler/description", test_description);
  g_test_add_func ("/javascript-handler/commands", test_commands);
  g_test_add_func ("/javascript-handler/import-pattern", test_import_pattern);
  g_test_add_func ("/javascript-handler/strip-comments", test_strip_comments);

  return g_test_run ();
}
