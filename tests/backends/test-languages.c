/* test-languages.c: every language on a real engine (run once per backend).
 *
 * One session per language, on its default image, runs: hello world twice,
 * code writing to both streams and exiting with 3, code that does not compile,
 * and code using a library installed offline from a package the test makes:
 * it writes the package's source files, copies them into the sandbox, packs
 * them there with the language's own tools (zip for a wheel, tar for npm and
 * R, dpkg-deb, gem build, Go's archive/zip for a module proxy) and installs
 * the result through the session. Nothing reaches a network.
 *
 * Each language runs in a subprocess; its sandbox carries a label unique to
 * this run, and whatever a failed subprocess leaves behind is removed by the
 * parent through the engine's CLI (isolated-test.h). */
#include <glib/gstdio.h>

#include "isolated-test.h"

#define PACKAGES "/sandbox/pkgs"
#define SOURCES PACKAGES "/src"

typedef struct {
  const char *path;     /* below the package source directory */
  const char *content;
} SourceFile;

typedef struct {
  const char *lang;             /* given to the session, in any case */
  const char *name;             /* the handler's name */
  const char *hello;            /* prints "hello from <name>\n" */
  const char *streams;          /* "out\n" to stdout, "err\n" to stderr, exit status 3 */
  const char *broken;           /* does not compile or parse */
  const char *broken_message;   /* part of the compiler's message about it */
  const char *environment;      /* members of runtime-configs' environment, or NULL */
  const SourceFile *sources;    /* a package's source files; NULL when installs are not supported */
  const char * const *pack;     /* packs them, run in SOURCES */
  const char *library;          /* the packed library, for install() */
  const char *use;              /* prints "hello <name>\n" with the library */
} Language;

/* A pure-Python wheel; pip does not need hashes in RECORD. */
static const SourceFile python_sources[] = {
  { "greet/__init__.py", "def hello(name):\n    return 'hello ' + name\n" },
  { "greet-1.0.0.dist-info/METADATA", "Metadata-Version: 2.1\nName: greet\nVersion: 1.0.0\n" },
  { "greet-1.0.0.dist-info/WHEEL",
    "Wheel-Version: 1.0\nGenerator: llmsbx-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n" },
  { "greet-1.0.0.dist-info/RECORD",
    "greet/__init__.py,,\ngreet-1.0.0.dist-info/METADATA,,\ngreet-1.0.0.dist-info/WHEEL,,\n"
    "greet-1.0.0.dist-info/RECORD,,\n" },
  { NULL, NULL }
};
static const char * const python_pack[] = {
  "python3", "-m", "zipfile", "-c", PACKAGES "/greet-1.0.0-py3-none-any.whl", "greet", "greet-1.0.0.dist-info", NULL
};

/* An npm tarball: everything below package/. */
static const SourceFile javascript_sources[] = {
  { "package/package.json", "{\"name\": \"greet\", \"version\": \"1.0.0\", \"main\": \"index.js\"}\n" },
  { "package/index.js", "exports.hello = (name) => 'hello ' + name;\n" },
  { NULL, NULL }
};
static const char * const javascript_pack[] = { "tar", "czf", PACKAGES "/greet-1.0.0.tgz", "package", NULL };

/* A header-only library as a Debian package. */
static const SourceFile cpp_sources[] = {
  { "libgreet-dev/DEBIAN/control",
    "Package: libgreet-dev\nVersion: 1.0.0\nArchitecture: all\n"
    "Maintainer: libllmsbx tests <tests@example.com>\nDescription: a header-only test library\n" },
  { "libgreet-dev/usr/include/greet.hpp",
    "#include <string>\n"
    "namespace greet {\n"
    "inline std::string hello (const std::string &name) { return \"hello \" + name; }\n"
    "}\n" },
  { NULL, NULL }
};
static const char * const cpp_pack[] = {
  "dpkg-deb", "--root-owner-group", "--build", "libgreet-dev", PACKAGES "/libgreet-dev_1.0.0_all.deb", NULL
};

/* A module proxy directory (GOPROXY=file://…): the version list, info, go.mod
 * and the module zip, which zip.go writes with the standard library. */
static const SourceFile go_sources[] = {
  { "greet/go.mod", "module example.com/greet\n\ngo 1.19\n" },
  { "greet/greet.go", "package greet\n\nfunc Hello(name string) string { return \"hello \" + name }\n" },
  { "goproxy/example.com/greet/@v/list", "v1.0.0\n" },
  { "goproxy/example.com/greet/@v/v1.0.0.info", "{\"Version\": \"v1.0.0\", \"Time\": \"2024-01-01T00:00:00Z\"}\n" },
  { "goproxy/example.com/greet/@v/v1.0.0.mod", "module example.com/greet\n\ngo 1.19\n" },
  { "zip.go",
    "package main\n"
    "\n"
    "import (\n"
    "\t\"archive/zip\"\n"
    "\t\"os\"\n"
    ")\n"
    "\n"
    "func main() {\n"
    "\tout, err := os.Create(\"goproxy/example.com/greet/@v/v1.0.0.zip\")\n"
    "\tif err != nil {\n"
    "\t\tpanic(err)\n"
    "\t}\n"
    "\tw := zip.NewWriter(out)\n"
    "\tfor _, name := range []string{\"go.mod\", \"greet.go\"} {\n"
    "\t\tdata, err := os.ReadFile(\"greet/\" + name)\n"
    "\t\tif err != nil {\n"
    "\t\t\tpanic(err)\n"
    "\t\t}\n"
    "\t\tf, err := w.Create(\"example.com/greet@v1.0.0/\" + name)\n"
    "\t\tif err != nil {\n"
    "\t\t\tpanic(err)\n"
    "\t\t}\n"
    "\t\tf.Write(data)\n"
    "\t}\n"
    "\tif err := w.Close(); err != nil {\n"
    "\t\tpanic(err)\n"
    "\t}\n"
    "\tif err := out.Close(); err != nil {\n"
    "\t\tpanic(err)\n"
    "\t}\n"
    "}\n" },
  { NULL, NULL }
};
static const char * const go_pack[] = { "env", "GOCACHE=/tmp/zip-go-cache", "go", "run", "zip.go", NULL };

static const SourceFile ruby_sources[] = {
  { "greet.gemspec",
    "Gem::Specification.new do |s|\n"
    "  s.name = 'greet'\n"
    "  s.version = '1.0.0'\n"
    "  s.summary = 'A test gem'\n"
    "  s.authors = ['libllmsbx tests']\n"
    "  s.license = 'MIT'\n"
    "  s.files = ['lib/greet.rb']\n"
    "end\n" },
  { "lib/greet.rb", "module Greet\n  def self.hello(name)\n    \"hello #{name}\"\n  end\nend\n" },
  { NULL, NULL }
};
static const char * const ruby_pack[] = { "gem", "build", "greet.gemspec", NULL };

/* An R source package. */
static const SourceFile r_sources[] = {
  { "greetr/DESCRIPTION",
    "Package: greetr\nVersion: 1.0.0\nTitle: A Test Package\nDescription: Says hello.\n"
    "License: MIT\nAuthor: libllmsbx tests\nMaintainer: libllmsbx tests <tests@example.com>\n" },
  { "greetr/NAMESPACE", "export(hello)\n" },
  { "greetr/R/hello.R", "hello <- function(name) paste(\"hello\", name)\n" },
  { NULL, NULL }
};
static const char * const r_pack[] = { "tar", "czf", PACKAGES "/greetr_1.0.0.tar.gz", "greetr", NULL };

static const Language languages[] = {
  {
    .lang = "Python", .name = "python",
    .hello = "print('hello from python')",
    .streams = "import sys\nprint('out')\nprint('err', file=sys.stderr)\nsys.exit(3)\n",
    .broken = "def broken(:\n", .broken_message = "SyntaxError",
    .sources = python_sources, .pack = python_pack,
    .library = PACKAGES "/greet-1.0.0-py3-none-any.whl",
    .use = "import greet\nprint(greet.hello('python'))\n",
  },
  {
    .lang = "JAVASCRIPT", .name = "javascript",
    .hello = "console.log('hello from javascript');",
    .streams = "console.log('out');\nconsole.error('err');\nprocess.exitCode = 3;\n",
    .broken = "let x = ;\n", .broken_message = "SyntaxError",
    .sources = javascript_sources, .pack = javascript_pack,
    .library = PACKAGES "/greet-1.0.0.tgz",
    .use = "const greet = require('greet');\nconsole.log(greet.hello('javascript'));\n",
  },
  {
    .lang = "java", .name = "java",
    .hello = "public class Main {\n"
             "  public static void main(String[] args) { System.out.println(\"hello from java\"); }\n"
             "}\n",
    .streams = "public class Main {\n"
               "  public static void main(String[] args) {\n"
               "    System.out.println(\"out\");\n"
               "    System.err.println(\"err\");\n"
               "    System.exit(3);\n"
               "  }\n"
               "}\n",
    .broken = "public class Main {\n  public static void main(String[] args) { int x = ; }\n}\n",
    .broken_message = "error:",
  },
  {
    .lang = "cpp", .name = "cpp",
    .hello = "#include <iostream>\nint main() { std::cout << \"hello from cpp\" << std::endl; }\n",
    .streams = "#include <cstdio>\nint main() { std::puts(\"out\"); std::fputs(\"err\\n\", stderr); return 3; }\n",
    .broken = "int main() { return undeclared; }\n", .broken_message = "'undeclared' was not declared",
    .sources = cpp_sources, .pack = cpp_pack,
    .library = PACKAGES "/libgreet-dev_1.0.0_all.deb",
    .use = "#include <greet.hpp>\n#include <iostream>\nint main() { std::cout << greet::hello(\"cpp\") << std::endl; }\n",
  },
  {
    .lang = "go", .name = "go",
    .hello = "package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Println(\"hello from go\") }\n",
    .streams = "package main\n\nimport (\n\t\"fmt\"\n\t\"os\"\n)\n\n"
               "func main() {\n\tfmt.Println(\"out\")\n\tfmt.Fprintln(os.Stderr, \"err\")\n\tos.Exit(3)\n}\n",
    .broken = "package main\n\nfunc main() { x := }\n", .broken_message = "syntax error",
    /* The proxy is a directory in the sandbox; its module is not in the
     * public checksum database. */
    .environment = "\"GOPROXY\": \"file://" SOURCES "/goproxy\", \"GONOSUMDB\": \"example.com\"",
    .sources = go_sources, .pack = go_pack,
    .library = "example.com/greet@v1.0.0",
    .use = "package main\n\nimport (\n\t\"fmt\"\n\n\t\"example.com/greet\"\n)\n\n"
           "func main() { fmt.Println(greet.Hello(\"go\")) }\n",
  },
  {
    .lang = "Ruby", .name = "ruby",
    .hello = "puts 'hello from ruby'",
    .streams = "puts 'out'\n$stderr.puts 'err'\nexit 3\n",
    .broken = "puts(\n", .broken_message = "syntax error",
    .sources = ruby_sources, .pack = ruby_pack,
    .library = SOURCES "/greet-1.0.0.gem",
    .use = "require 'greet'\nputs Greet.hello('ruby')\n",
  },
  {
    .lang = "R", .name = "r",
    .hello = "cat('hello from r\\n')",
    .streams = "cat('out\\n')\nmessage('err')\nquit(status = 3)\n",
    .broken = "x <- (\n", .broken_message = "unexpected end of input",
    .sources = r_sources, .pack = r_pack,
    .library = PACKAGES "/greetr_1.0.0.tar.gz",
    .use = "library(greetr)\ncat(hello('r'), '\\n', sep = '')\n",
  },
};

static LlmsbxSandboxSession *
open_session (const Language *language)
{
  g_autoptr(LlmsbxSandboxSession) session = backend_test_session_new (language->lang, NULL);
  g_autoptr(GError) error = NULL;
  g_autofree char *environment = NULL;
  g_autofree char *configs = NULL;

  environment = g_strdup_printf ("\"environment\": {%s}", language->environment ? language->environment : "");
  configs = test_configs (environment);
  test_set_configs_json (session, configs, &error);
  g_assert_no_error (error);
  llmsbx_sandbox_session_open (session, NULL, &error);
  g_assert_no_error (error);
  return g_steal_pointer (&session);
}

static LlmsbxExecutionResult *
run_code (LlmsbxSandboxSession *session,
          const char           *code)
{
  g_autoptr(GError) error = NULL;
  LlmsbxExecutionResult *result = llmsbx_sandbox_session_run (session, code, NULL, 0, NULL, &error);

  g_assert_no_error (error);
  g_assert_nonnull (result);
  return result;
}

/* Runs @code, which must succeed with exactly @expected on stdout. */
static void
assert_prints (LlmsbxSandboxSession *session,
               const char           *code,
               const char           *expected)
{
  g_autoptr(LlmsbxExecutionResult) result = run_code (session, code);

  if (llmsbx_execution_result_get_exit_code (result) != 0)
    g_test_message ("stderr: %s", llmsbx_execution_result_get_stderr (result));
  g_assert_cmpint (llmsbx_execution_result_get_exit_code (result), ==, 0);
  g_assert_cmpstr (llmsbx_execution_result_get_stdout (result), ==, expected);
}

static void
install_package (LlmsbxSandboxSession *session,
                 const Language       *language)
{
  g_autofree char *host_dir = test_host_dir (language->name);
  g_autoptr(LlmsbxExecutionResult) packed = NULL;
  g_autoptr(GError) error = NULL;
  const char *libraries[] = { language->library, NULL };

  for (const SourceFile *file = language->sources; file->path != NULL; file++)
    {
      g_autofree char *path = g_build_filename (host_dir, file->path, NULL);
      g_autofree char *dir = g_path_get_dirname (path);

      g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
      g_file_set_contents (path, file->content, -1, &error);
      g_assert_no_error (error);
    }
  llmsbx_sandbox_session_copy_to_runtime (session, host_dir, SOURCES, NULL, &error);
  g_assert_no_error (error);

  packed = llmsbx_sandbox_session_execute_argv (session, language->pack, SOURCES, NULL, &error);
  g_assert_no_error (error);
  if (llmsbx_execution_result_get_exit_code (packed) != 0)
    g_test_message ("packing failed: %s", llmsbx_execution_result_get_stderr (packed));
  g_assert_cmpint (llmsbx_execution_result_get_exit_code (packed), ==, 0);

  llmsbx_sandbox_session_install (session, libraries, NULL, &error);
  g_assert_no_error (error);
}

static void
check_language (const Language *language)
{
  g_autoptr(LlmsbxSandboxSession) session = open_session (language);
  g_autoptr(LlmsbxExecutionResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *hello = g_strdup_printf ("hello from %s\n", language->name);
  g_autofree char *greeting = g_strdup_printf ("hello %s\n", language->name);
  g_autofree char *handler_name = NULL;
  g_autofree char *id = NULL;

  /* `lang` is matched without regard to case. */
  handler_name = llmsbx_language_handler_get_name (llmsbx_sandbox_session_get_language_handler (session));
  g_assert_cmpstr (handler_name, ==, language->name);

  /* Two runs in one session. */
  assert_prints (session, language->hello, hello);
  assert_prints (session, language->hello, hello);

  /* Streams apart, and the exit status as the program gave it. */
  result = run_code (session, language->streams);
  g_assert_cmpstr (llmsbx_execution_result_get_stdout (result), ==, "out\n");
  g_assert_cmpstr (llmsbx_execution_result_get_stderr (result), ==, "err\n");
  g_assert_cmpint (llmsbx_execution_result_get_exit_code (result), ==, 3);
  g_assert_false (llmsbx_execution_result_get_success (result));
  g_clear_object (&result);

  /* A compile or syntax error is a failed result carrying the message. */
  result = run_code (session, language->broken);
  g_test_message ("compiler says: %s", llmsbx_execution_result_get_stderr (result));
  g_assert_cmpint (llmsbx_execution_result_get_exit_code (result), !=, 0);
  g_assert_cmpstr (llmsbx_execution_result_get_stdout (result), ==, "");
  g_assert_nonnull (strstr (llmsbx_execution_result_get_stderr (result), language->broken_message));
  g_clear_object (&result);

  if (language->sources != NULL)
    {
      install_package (session, language);
      assert_prints (session, language->use, greeting);
      /* The session still runs code that needs nothing installed. */
      assert_prints (session, language->hello, hello);
    }
  else
    {
      const char *libraries[] = { "junit", NULL };

      g_assert_false (llmsbx_sandbox_session_install (session, libraries, NULL, &error));
      g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_LIBRARY_INSTALLATION_NOT_SUPPORTED);
      g_assert_nonnull (strstr (error->message, language->name));
      g_clear_error (&error);
    }

  id = g_strdup (llmsbx_sandbox_session_get_container_id (session));
  llmsbx_sandbox_session_close (session, NULL, &error);
  g_assert_no_error (error);
  backend_test_assert_container_gone (id);
}

static void
test_language (gconstpointer data)
{
  if (test_in_subprocess ())
    check_language (data);
}

/* An unknown language fails before anything is created, listing the others. */
static void
test_unknown_language (void)
{
  g_autoptr(LlmsbxSandboxSession) session = backend_test_session_new ("cobol", NULL);
  g_autofree char *filter = test_run_filter ();
  g_autofree char *configs = test_configs ("");
  g_autofree char *left = NULL;
  g_autoptr(GError) error = NULL;

  test_set_configs_json (session, configs, &error);
  g_assert_no_error (error);
  g_assert_false (llmsbx_sandbox_session_open (session, NULL, &error));
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_LANGUAGE_NOT_SUPPORTED);
  g_assert_nonnull (strstr (error->message, "'cobol'"));
  g_assert_true (g_str_has_suffix (error->message, "available: cpp, go, java, javascript, python, r, ruby"));
  g_assert_false (llmsbx_sandbox_session_get_is_open (session));

  left = backend_test_ps (filter);
  g_assert_cmpstr (left, ==, "");
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
  backend_test_prepare ();
  /* Fixed before any subprocess starts, so they all inherit it. */
  test_run_id ();

  for (gsize i = 0; i < G_N_ELEMENTS (languages); i++)
    {
      g_autofree char *path = g_strdup_printf ("/languages/%s", languages[i].name);

      g_test_add_data_func (path, &languages[i], test_language);
    }
  g_test_add_func ("/languages/unknown", test_unknown_language);

  return g_test_run ();
}
