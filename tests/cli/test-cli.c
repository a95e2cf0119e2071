/* test-cli.c: the llmsbx program, run as a subprocess against the real dockerd.
 *
 * $LLMSBX_CLI names the program under test (set by tests/cli/meson.build).
 * Every sandbox the program creates must be gone when it exits. Each `run`
 * gets a label unique to this test process (through --runtime-configs), so
 * after each command the containers it left, and only those, are found,
 * removed, and fail the test; other suites may run alongside. */
#include <signal.h>
#include <string.h>
#include <glib/gstdio.h>
#include <gio/gio.h>
#include <json-glib/json-glib.h>

#define MANAGED_LABEL "io.llmsbx.managed-by=libllmsbx"
#define RUN_LABEL "io.llmsbx.test-run"

static const char *cli_path;
static char *run_label;            /* RUN_LABEL=<uuid> */
static char *run_configs;          /* --runtime-configs that put it on sandboxes */

static guint remove_leftovers (void);

/* The program's argv for @args; a `run` gets this process's label. */
static GPtrArray *
cli_argv (const char * const *args)
{
  GPtrArray *argv = g_ptr_array_new ();

  g_ptr_array_add (argv, (char *) cli_path);
  for (guint i = 0; args[i] != NULL; i++)
    {
      g_ptr_array_add (argv, (char *) args[i]);
      if (i == 0 && g_str_equal (args[0], "run"))
        {
          g_ptr_array_add (argv, (char *) "--runtime-configs");
          g_ptr_array_add (argv, run_configs);
        }
    }
  g_ptr_array_add (argv, NULL);
  return argv;
}

typedef struct {
  int     status;   /* exit status, or 128 + N when signal N killed it */
  GBytes *out;
  GBytes *err;
} CliResult;

static void
cli_result_free (CliResult *result)
{
  g_bytes_unref (result->out);
  g_bytes_unref (result->err);
  g_free (result);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CliResult, cli_result_free)

static int
wait_status (GSubprocess *process)
{
  if (g_subprocess_get_if_exited (process))
    return g_subprocess_get_exit_status (process);
  return 128 + g_subprocess_get_term_sig (process);
}

/* Runs the program with @args, feeding it @input (%NULL: empty stdin). */
static CliResult *
cli_runv (GBytes             *input,
          const char * const *args)
{
  g_autoptr(GPtrArray) argv = cli_argv (args);
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GBytes) no_input = g_bytes_new_static ("", 0);
  g_autoptr(GError) error = NULL;
  CliResult *result = g_new0 (CliResult, 1);

  process = g_subprocess_newv ((const char * const *) argv->pdata,
                               G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                               G_SUBPROCESS_FLAGS_STDERR_PIPE, &error);
  g_assert_no_error (error);
  g_subprocess_communicate (process, input ? input : no_input, NULL, &result->out, &result->err, &error);
  g_assert_no_error (error);
  result->status = wait_status (process);

  if (g_bytes_get_size (result->err) > 0)
    g_test_message ("stderr: %.*s", (int) g_bytes_get_size (result->err),
                    (const char *) g_bytes_get_data (result->err, NULL));

  /* Whatever the command did, its sandbox is gone once it exited. */
  g_assert_cmpuint (remove_leftovers (), ==, 0);
  return result;
}

#define cli_run(...) cli_runv (NULL, (const char * const []) { __VA_ARGS__, NULL })

static void
assert_bytes_equal (GBytes     *bytes,
                    const char *expected,
                    gsize       expected_length)
{
  gsize length = 0;
  const void *data = g_bytes_get_data (bytes, &length);

  g_assert_cmpmem (data, length, expected, expected_length);
}

#define static_bytes(text) g_bytes_new_static ((text), strlen (text))

#define assert_output(bytes, text) assert_bytes_equal ((bytes), (text), strlen (text))

/* Output as a string; empty output has no data pointer at all. */
static char *
bytes_text (GBytes *bytes)
{
  gsize length = 0;
  const char *data = g_bytes_get_data (bytes, &length);

  return length > 0 ? g_strndup (data, length) : g_strdup ("");
}

static gboolean
output_contains (GBytes     *bytes,
                 const char *needle)
{
  g_autofree char *text = bytes_text (bytes);

  return strstr (text, needle) != NULL;
}

static gboolean
output_starts_with (GBytes     *bytes,
                    const char *prefix)
{
  g_autofree char *text = bytes_text (bytes);

  return g_str_has_prefix (text, prefix);
}

/* Docker ---------------------------------------------------------------- */

/* The lines `docker ARGS` prints, or %NULL when it fails and @must_succeed is not set. */
static char **
docker_lines (gboolean            must_succeed,
              const char * const *args)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;

  g_ptr_array_add (argv, (char *) "docker");
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (char *) args[i]);
  g_ptr_array_add (argv, NULL);

  process = g_subprocess_newv ((const char * const *) argv->pdata,
                               G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE, &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (process, NULL, NULL, &out, &err, &error);
  g_assert_no_error (error);

  if (!g_subprocess_get_successful (process))
    {
      if (must_succeed)
        g_error ("docker %s failed (is dockerd running?): %s", args[0], err);
      return NULL;
    }
  g_strstrip (out);
  return out[0] != '\0' ? g_strsplit (out, "\n", -1) : g_new0 (char *, 1);
}

#define docker(...) docker_lines (TRUE, (const char * const []) { __VA_ARGS__, NULL })
#define docker_try(...) docker_lines (FALSE, (const char * const []) { __VA_ARGS__, NULL })

/* Containers of this test process, labelled by libllmsbx and by us. */
static char **
our_containers (void)
{
  g_autofree char *managed = g_strconcat ("label=", MANAGED_LABEL, NULL);
  g_autofree char *ours = g_strconcat ("label=", run_label, NULL);

  return docker ("ps", "-a", "-q", "--no-trunc", "--filter", managed, "--filter", ours);
}

/* Removes the containers of this test process and says how many there were. */
static guint
remove_leftovers (void)
{
  g_auto(GStrv) containers = our_containers ();

  for (guint i = 0; containers[i] != NULL; i++)
    {
      G_GNUC_UNUSED g_auto(GStrv) removed = docker ("rm", "-f", containers[i]);

      g_test_message ("removed leftover container %s", containers[i]);
    }
  return g_strv_length (containers);
}

/* Tests ---------------------------------------------------------------- */

static void
test_inline_code (void)
{
  g_autoptr(CliResult) result = cli_run ("run", "--lang", "python", "-c", "print(6*7)");

  g_assert_cmpint (result->status, ==, 0);
  assert_output (result->out, "42\n");
  assert_output (result->err, "");
}

static void
test_exit_status (void)
{
  g_autoptr(CliResult) result = cli_run ("run", "--lang", "python", "-c", "import sys; sys.exit(3)");

  g_assert_cmpint (result->status, ==, 3);
  assert_output (result->out, "");
}

static void
test_stderr_separate (void)
{
  g_autoptr(CliResult) result =
    cli_run ("run", "-c", "import sys\nsys.stdout.write('to out')\nsys.stderr.write('to err')\nsys.exit(1)");

  g_assert_cmpint (result->status, ==, 1);
  assert_output (result->out, "to out");
  assert_output (result->err, "to err");
}

static void
test_binary_output (void)
{
  g_autoptr(CliResult) result =
    cli_run ("run", "-c", "import sys; sys.stdout.buffer.write(bytes(range(256)))");
  guint8 expected[256];

  for (guint i = 0; i < sizeof expected; i++)
    expected[i] = i;
  g_assert_cmpint (result->status, ==, 0);
  assert_bytes_equal (result->out, (const char *) expected, sizeof expected);
}

static void
test_file_argument (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("llmsbx-cli-XXXXXX", &error);
  g_autofree char *path = NULL;
  g_autoptr(CliResult) result = NULL;

  g_assert_no_error (error);
  path = g_build_filename (dir, "hello.py", NULL);
  g_file_set_contents (path, "word = 'h\xc3\xa9llo'\nprint(word, len(word))\n", -1, &error);
  g_assert_no_error (error);

  result = cli_run ("run", "--lang", "python", path);
  g_assert_cmpint (result->status, ==, 0);
  assert_output (result->out, "h\xc3\xa9llo 5\n");

  g_unlink (path);
  g_rmdir (dir);
}

static void
test_stdin (void)
{
  g_autoptr(GBytes) input = static_bytes ("print(sum(range(10)))\n");
  g_autoptr(CliResult) result = cli_runv (input, (const char * const []) { "run", "-", NULL });

  g_assert_cmpint (result->status, ==, 0);
  assert_output (result->out, "45\n");
}

static void
test_invalid_utf8 (void)
{
  g_autoptr(GBytes) input = static_bytes ("print('\xff')\n");
  g_autoptr(CliResult) result = cli_runv (input, (const char * const []) { "run", "-", NULL });

  g_assert_cmpint (result->status, ==, 125);
  g_assert_true (output_contains (result->err, "UTF-8"));
  assert_output (result->out, "");
}

static void
test_json (void)
{
  g_autoptr(CliResult) result =
    cli_run ("run", "--json", "-c", "import sys; print('hi'); sys.exit(4)");
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *text = bytes_text (result->out);
  JsonObject *object;

  g_assert_cmpint (result->status, ==, 4);
  json_parser_load_from_data (parser, text, -1, &error);
  g_assert_no_error (error);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)));
  object = json_node_get_object (json_parser_get_root (parser));
  g_assert_true (json_object_has_member (object, "exit_code"));
  g_assert_cmpint (json_object_get_int_member (object, "exit_code"), ==, 4);
  g_assert_cmpstr (json_object_get_string_member (object, "stdout"), ==, "hi\n");
}

static void
test_languages (void)
{
  g_autoptr(CliResult) result = cli_run ("languages");
  g_autofree char *text = bytes_text (result->out);
  g_auto(GStrv) lines = g_strsplit (text, "\n", -1);

  g_assert_cmpint (result->status, ==, 0);
  g_assert_true (g_strv_contains ((const char * const *) lines, "python"));
}

static void
test_backends (void)
{
  g_autoptr(CliResult) result = cli_run ("backends");
  g_autofree char *text = bytes_text (result->out);
  g_auto(GStrv) lines = g_strsplit (text, "\n", -1);

  g_assert_cmpint (result->status, ==, 0);
  g_assert_true (g_strv_contains ((const char * const *) lines, "docker"));
}

static void
test_unknown_language (void)
{
  g_autoptr(CliResult) result = cli_run ("run", "--lang", "no-such-language", "-c", "x");

  g_assert_cmpint (result->status, ==, 125);
  g_assert_true (output_starts_with (result->err, "llmsbx: "));
  g_assert_true (output_contains (result->err, "no-such-language"));
  g_assert_true (output_contains (result->err, "python"));
  assert_output (result->out, "");
}

static void
test_unknown_backend (void)
{
  g_autoptr(CliResult) result = cli_run ("run", "--backend", "no-such-backend", "-c", "x");

  g_assert_cmpint (result->status, ==, 125);
  g_assert_true (output_contains (result->err, "no-such-backend"));
  g_assert_true (output_contains (result->err, "docker"));
}

static void
test_timeout (void)
{
  g_autoptr(CliResult) result = cli_run ("run", "--timeout", "1", "-c", "while True: pass");

  g_assert_cmpint (result->status, ==, 124);
  g_assert_true (output_starts_with (result->err, "llmsbx: "));
}

static void
test_usage_errors (void)
{
  const char * const *cases[] = {
    (const char * const []) { "run", NULL },
    (const char * const []) { "run", "-c", "print(1)", "extra.py", NULL },
    (const char * const []) { "run", "--no-such-option", "-c", "print(1)", NULL },
    (const char * const []) { "no-such-command", NULL },
    (const char * const []) { "images", "no-such-command", NULL },
    (const char * const []) { NULL },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(CliResult) result = cli_runv (NULL, cases[i]);

      g_assert_cmpint (result->status, ==, 2);
      g_assert_true (output_contains (result->err, "--help"));
    }
}

static void
test_version (void)
{
  g_autoptr(CliResult) result = cli_run ("--version");

  g_assert_cmpint (result->status, ==, 0);
  g_assert_true (output_starts_with (result->out, "llmsbx "));
}

static void
test_images_list (void)
{
  g_autoptr(CliResult) result = cli_run ("images", "list");

  g_assert_cmpint (result->status, ==, 0);
  g_assert_true (output_contains (result->out, "python\tllmsbx/python:bookworm\t"));
}

static void
test_images_build_unknown (void)
{
  g_autoptr(CliResult) result = cli_run ("images", "build", "no-such-language");

  g_assert_cmpint (result->status, ==, 1);
  g_assert_true (output_contains (result->err, "no recipe for 'no-such-language'"));
  g_assert_true (output_contains (result->err, "python"));
}

/* The bubblewrap store is listed like an engine (setup-host fills it). */
static void
test_images_list_bubblewrap (void)
{
  g_autoptr(CliResult) result = cli_run ("images", "list", "--backend", "bubblewrap");

  g_assert_cmpint (result->status, ==, 0);
  g_assert_true (output_contains (result->out, "python\tllmsbx/python:bookworm\tup-to-date"));
}

/* The image the other tests use: built when its recipe changed, else a quick no-op. */
static void
test_images_build (void)
{
  g_autoptr(CliResult) result = cli_run ("images", "build", "python");

  g_assert_cmpint (result->status, ==, 0);
  g_assert_true (output_contains (result->out, "llmsbx/python:bookworm"));
}

/* A container of this test process that is running argv @needle. */
static char *
find_running (const char *needle)
{
  g_auto(GStrv) now = our_containers ();

  for (guint i = 0; now[i] != NULL; i++)
    {
      g_auto(GStrv) processes = docker_try ("top", now[i]);

      for (guint j = 0; processes != NULL && processes[j] != NULL; j++)
        if (strstr (processes[j], needle) != NULL)
          return g_strdup (now[i]);
    }
  return NULL;
}

/* A signal while the code runs cancels it, removes the sandbox, and the
 * program exits 128 + the signal's number. */
static void
test_signal (gconstpointer data)
{
  int signal_number = GPOINTER_TO_INT (data);
  const char *args[] = { "run", "-c", "import os; os.execlp('sleep', 'sleep', '4242')", NULL };
  g_autoptr(GPtrArray) argv = cli_argv (args);
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *container = NULL;
  guint leftovers;

  process = g_subprocess_newv ((const char * const *) argv->pdata, G_SUBPROCESS_FLAGS_STDOUT_SILENCE, &error);
  g_assert_no_error (error);

  /* Wait (for at most a minute) until the code is running in its sandbox. */
  for (guint attempt = 0; attempt < 600 && container == NULL; attempt++)
    {
      container = find_running ("sleep 4242");
      if (container == NULL)
        g_usleep (100 * 1000);
    }
  if (container == NULL)
    {
      g_subprocess_force_exit (process);
      g_subprocess_wait (process, NULL, NULL);
      remove_leftovers ();
      g_error ("the code never started running in a sandbox");
    }

  g_subprocess_send_signal (process, signal_number);
  g_subprocess_wait (process, NULL, &error);
  g_assert_no_error (error);
  leftovers = remove_leftovers ();

  g_assert_cmpint (wait_status (process), ==, 128 + signal_number);
  g_assert_true (g_subprocess_get_if_exited (process));
  g_assert_cmpuint (leftovers, ==, 0);
}

/* Security ------------------------------------------------------------- */

static void
test_check_unsafe (void)
{
  g_autoptr(CliResult) result = cli_run ("check", "--preset", "strict", "-c", "import os; os.system('ls')");

  g_assert_cmpint (result->status, ==, 1);
  g_assert_true (output_contains (result->out, "HIGH   blocks   System command execution"));
  g_assert_true (output_contains (result->out, "Operating system access (restricted module os)"));
  g_assert_true (output_contains (result->out, "unsafe: the policy (threshold LOW) blocks the code"));
}

static void
test_check_safe (void)
{
  g_autoptr(CliResult) result = NULL;
  g_autofree char *path = NULL;
  g_autoptr(GError) error = NULL;

  result = cli_run ("check", "-c", "print('hello')");
  g_assert_cmpint (result->status, ==, 0);
  assert_output (result->out, "safe: the policy (threshold LOW) lets the code run\n");
  g_clear_pointer (&result, cli_result_free);

  /* Another language, from a file: findings below the threshold are printed. */
  g_close (g_file_open_tmp ("check-XXXXXX.js", &path, &error), NULL);
  g_assert_no_error (error);
  g_file_set_contents (path, "fetch('http://example.com');\n", -1, &error);
  g_assert_no_error (error);
  result = cli_run ("check", "--preset", "production", "--lang", "javascript", path);
  g_assert_cmpint (result->status, ==, 0);
  g_clear_pointer (&result, cli_result_free);
  result = cli_run ("check", "--preset", "strict", "--lang", "javascript", path);
  g_assert_cmpint (result->status, ==, 1);
  g_assert_true (output_contains (result->out, "LOW    blocks   HTTP request (fetch)"));
  g_unlink (path);
}

static void
test_check_policy_file (void)
{
  g_autofree char *path = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(CliResult) result = NULL;

  g_close (g_file_open_tmp ("policy-XXXXXX.json", &path, &error), NULL);
  g_assert_no_error (error);

  g_file_set_contents (path,
                       "{\"severity_threshold\": \"high\", \"patterns\": ["
                       "{\"pattern\": \"\\\\bpandas\\\\.\", \"description\": \"Pandas\", \"severity\": \"low\"},"
                       "{\"pattern\": \"rm -rf\", \"description\": \"Wiping\", \"severity\": 3}]}",
                       -1, &error);
  g_assert_no_error (error);

  result = cli_run ("check", "--policy", path, "-c", "pandas.read_csv('x')");
  g_assert_cmpint (result->status, ==, 0);
  g_assert_true (output_contains (result->out, "LOW    reported Pandas (pattern \\bpandas\\.)"));
  g_clear_pointer (&result, cli_result_free);

  result = cli_run ("check", "--policy", path, "-c", "cmd = 'rm -rf /'");
  g_assert_cmpint (result->status, ==, 1);
  g_clear_pointer (&result, cli_result_free);

  g_file_set_contents (path, "{\"patterns\": [{\"pattern\": \"(\", \"severity\": 1}]}", -1, &error);
  g_assert_no_error (error);
  result = cli_run ("check", "--policy", path, "-c", "x");
  g_assert_cmpint (result->status, ==, 125);
  g_assert_true (output_contains (result->err, "patterns[0]"));
  g_unlink (path);
}

static void
test_check_errors (void)
{
  g_autoptr(CliResult) result = cli_run ("check", "--preset", "paranoid", "-c", "x");

  g_assert_cmpint (result->status, ==, 125);
  g_assert_true (output_contains (result->err, "development, production, strict, educational"));
  g_clear_pointer (&result, cli_result_free);

  result = cli_run ("check", "--preset", "strict", "--policy", "p.json", "-c", "x");
  g_assert_cmpint (result->status, ==, 2);
  g_clear_pointer (&result, cli_result_free);

  result = cli_run ("check");
  g_assert_cmpint (result->status, ==, 2);
}

/* The preset's container settings apply; --runtime-configs (the test's
 * labels here) merges with them. */
static void
test_run_preset (void)
{
  g_autoptr(CliResult) result =
    cli_run ("run", "--preset", "strict", "-c",
             "for path in ('/sys/fs/cgroup/memory/memory.limit_in_bytes', '/sys/fs/cgroup/memory.max'):\n"
             "    try:\n"
             "        print(open(path).read().strip())\n"
             "        break\n"
             "    except FileNotFoundError:\n"
             "        pass\n"
             "print(open('/proc/self/status').read().split('Uid:')[1].split()[0])\n");

  g_assert_cmpint (result->status, ==, 0);
  assert_output (result->out, "134217728\n65534\n");
}

static void
test_run_preset_refuses (void)
{
  g_autoptr(CliResult) result = cli_run ("run", "--preset", "production", "-c", "import subprocess");

  g_assert_cmpint (result->status, ==, 125);
  g_assert_true (output_contains (result->err, "security policy"));
  g_assert_true (output_contains (result->err, "restricted module subprocess"));
  assert_output (result->out, "");
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  cli_path = g_getenv ("LLMSBX_CLI");
  if (cli_path == NULL)
    g_error ("LLMSBX_CLI is not set: run this test through `meson test`");
  {
    g_autofree char *uuid = g_uuid_string_random ();

    run_label = g_strdup_printf (RUN_LABEL "=%s", uuid);
    run_configs = g_strdup_printf ("{\"labels\": {\"" RUN_LABEL "\": \"%s\"}}", uuid);
  }

  g_test_add_func ("/cli/version", test_version);
  g_test_add_func ("/cli/usage-errors", test_usage_errors);
  g_test_add_func ("/cli/languages", test_languages);
  g_test_add_func ("/cli/backends", test_backends);
  g_test_add_func ("/cli/images/list", test_images_list);
  g_test_add_func ("/cli/images/list-bubblewrap", test_images_list_bubblewrap);
  g_test_add_func ("/cli/images/build-unknown", test_images_build_unknown);
  g_test_add_func ("/cli/images/build", test_images_build);
  g_test_add_func ("/cli/run/inline-code", test_inline_code);
  g_test_add_func ("/cli/run/exit-status", test_exit_status);
  g_test_add_func ("/cli/run/stderr-separate", test_stderr_separate);
  g_test_add_func ("/cli/run/binary-output", test_binary_output);
  g_test_add_func ("/cli/run/file-argument", test_file_argument);
  g_test_add_func ("/cli/run/stdin", test_stdin);
  g_test_add_func ("/cli/run/invalid-utf8", test_invalid_utf8);
  g_test_add_func ("/cli/run/json", test_json);
  g_test_add_func ("/cli/run/unknown-language", test_unknown_language);
  g_test_add_func ("/cli/run/unknown-backend", test_unknown_backend);
  g_test_add_func ("/cli/run/timeout", test_timeout);
  g_test_add_func ("/cli/run/preset", test_run_preset);
  g_test_add_func ("/cli/run/preset-refuses", test_run_preset_refuses);
  g_test_add_func ("/cli/check/unsafe", test_check_unsafe);
  g_test_add_func ("/cli/check/safe", test_check_safe);
  g_test_add_func ("/cli/check/policy-file", test_check_policy_file);
  g_test_add_func ("/cli/check/errors", test_check_errors);
  g_test_add_data_func ("/cli/run/sigint", GINT_TO_POINTER (SIGINT), test_signal);
  g_test_add_data_func ("/cli/run/sigterm", GINT_TO_POINTER (SIGTERM), test_signal);

  return g_test_run ();
}
