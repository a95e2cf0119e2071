/* test-cli.c: the llmsbx program, run as a subprocess against the real dockerd.
 *
 * $LLMSBX_CLI names the program under test (set by tests/cli/meson.build).
 * Every sandbox the program creates must be gone when it exits. Each `run`
 * gets a label unique to this test process (through --runtime-configs), so
 * after each command the containers it left, and only those, are found,
 * removed, and fail the test; other suites may run alongside. */
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
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

static CliResult *cli_runv_full (GBytes *input, gboolean keep, const char * const *args);

static CliResult *
cli_runv (GBytes             *input,
          const char * const *args)
{
  return cli_runv_full (input, FALSE, args);
}

/* Runs the program with @args, feeding it @input (%NULL: empty stdin).
 * With @keep, sandboxes that outlive it are not checked (`gc` runs beside
 * sandboxes that must stay). */
static CliResult *
cli_runv_full (GBytes             *input,
               gboolean            keep,
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
  if (!keep)
    g_assert_cmpuint (remove_leftovers (), ==, 0);
  return result;
}

#define cli_run(...) cli_runv (NULL, (const char * const []) { __VA_ARGS__, NULL })
#define cli_run_keeping(...) cli_runv_full (NULL, TRUE, (const char * const []) { __VA_ARGS__, NULL })

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

/* --plots DIR writes the plots in order and names them on stderr; --json
 * carries them as base64, with the same bytes. */
static void
test_plots (void)
{
  g_autofree char *dir = g_dir_make_tmp ("llmsbx-cli-plots-XXXXXX", NULL);
  g_autofree char *first = g_build_filename (dir, "plot-1.png", NULL);
  g_autofree char *second = g_build_filename (dir, "plot-2.html", NULL);
  const char *code =
    "import matplotlib.pyplot as plt\n"
    "plt.plot([1, 2]); plt.show()\n"
    "import plotly.express as px\n"
    "px.line(x=[1, 2], y=[2, 1]).show()\n"
    "print('made')\n";
  g_autoptr(CliResult) result = cli_run ("run", "--plots", dir, "-c", code);
  g_autoptr(CliResult) json = cli_run ("run", "--plots", dir, "--json", "-c", code);
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *text = bytes_text (json->out);
  g_autofree char *png = NULL;
  g_autofree guchar *decoded = NULL;
  gsize png_size, decoded_size;
  g_autofree char *expected_err = g_strdup_printf ("%s\n%s\n", first, second);
  JsonArray *plots;

  g_assert_cmpint (result->status, ==, 0);
  assert_output (result->out, "made\n");
  assert_output (result->err, expected_err);
  g_file_get_contents (first, &png, &png_size, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (png, 8, "\x89PNG\r\n\x1a\n", 8);
  g_assert_true (g_file_test (second, G_FILE_TEST_IS_REGULAR));

  g_assert_cmpint (json->status, ==, 0);
  json_parser_load_from_data (parser, text, -1, &error);
  g_assert_no_error (error);
  plots = json_object_get_array_member (json_node_get_object (json_parser_get_root (parser)), "plots");
  g_assert_cmpuint (json_array_get_length (plots), ==, 2);
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (plots, 0), "format"), ==, "png");
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (plots, 1), "format"), ==, "html");
  decoded = g_base64_decode (json_object_get_string_member (json_array_get_object_element (plots, 0), "content_base64"),
                             &decoded_size);
  g_assert_cmpmem (decoded, 8, "\x89PNG\r\n\x1a\n", 8);

  g_unlink (first);
  g_unlink (second);
  g_rmdir (dir);
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

/* What --backend-setting takes, by backend; an unknown one is refused by name. */
static void
test_backend_settings (void)
{
  g_autoptr(CliResult) listed = cli_run ("backends", "--settings");
  g_autoptr(CliResult) refused = cli_run ("run", "--backend", "docker", "--backend-setting", "namespace=x",
                                          "-c", "print(1)");
  g_autoptr(CliResult) unreachable = cli_run ("run", "--backend", "docker", "--backend-setting",
                                              "url=unix:///nonexistent/cli.sock", "-c", "print(1)");
  g_autoptr(CliResult) usage = cli_run ("run", "--backend-setting", "url", "-c", "print(1)");
  g_autofree char *text = bytes_text (listed->out);

  g_assert_cmpint (listed->status, ==, 0);
  g_assert_nonnull (strstr (text, "docker\n  url=text  where the engine is"));
  g_assert_nonnull (strstr (text, "  tls-verify=true|false  "));
  g_assert_nonnull (strstr (text, "  connect-timeout=number  "));

  g_assert_cmpint (refused->status, ==, 125);
  g_assert_true (output_contains (refused->err, "The docker backend has no setting 'namespace'"));
  assert_output (refused->out, "");

  g_assert_cmpint (unreachable->status, ==, 125);
  g_assert_true (output_contains (unreachable->err, "/nonexistent/cli.sock"));

  g_assert_cmpint (usage->status, ==, 2);
  g_assert_true (output_contains (usage->err, "--backend-setting takes KEY=VALUE"));
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
    /* Invalid limits are usage errors, never "no limit" (NaN passed before). */
    (const char * const []) { "run", "--timeout", "-1", "-c", "print(1)", NULL },
    (const char * const []) { "run", "--timeout", "nan", "-c", "print(1)", NULL },
    (const char * const []) { "run", "--timeout", "inf", "-c", "print(1)", NULL },
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

/* `ENGINE ARGS` with the user's own configuration (GLib's test isolation
 * moves HOME, where podman looks for it); its stripped stdout, or %NULL when
 * it failed and @must_succeed is not set. */
static char *
engine_output (const char         *engine,
               gboolean            must_succeed,
               const char * const *args)
{
  g_autoptr(GSubprocessLauncher) launcher =
    g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  struct passwd *user = getpwuid (getuid ());

  if (user != NULL)
    g_subprocess_launcher_setenv (launcher, "HOME", user->pw_dir, TRUE);
  g_subprocess_launcher_unsetenv (launcher, "XDG_CONFIG_HOME");
  g_subprocess_launcher_unsetenv (launcher, "XDG_DATA_HOME");
  g_subprocess_launcher_unsetenv (launcher, "XDG_RUNTIME_DIR");
  g_ptr_array_add (argv, (char *) engine);
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (char *) args[i]);
  g_ptr_array_add (argv, NULL);

  process = g_subprocess_launcher_spawnv (launcher, (const char * const *) argv->pdata, &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (process, NULL, NULL, &out, &err, &error);
  g_assert_no_error (error);
  if (!g_subprocess_get_successful (process))
    {
      if (must_succeed)
        g_error ("%s %s failed: %s", engine, args[0], err);
      return NULL;
    }
  return g_strstrip (g_steal_pointer (&out));
}

#define engine_run(engine, ...) engine_output ((engine), TRUE, (const char * const []) { __VA_ARGS__, NULL })

static void
write_text (const char *path,
            const char *text,
            int         mode)
{
  g_autoptr(GError) error = NULL;

  g_file_set_contents (path, text, -1, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_chmod (path, mode), ==, 0);
}

/* The image builder's verdict on a recipe's image: an image imported with
 * the recipe's hash is up to date; committed onto (a commit keeps the
 * label), it is modified and rebuilt, also by the build. The recipe is a
 * test's own, in a copy of the builder's directory, and the "build" has a
 * mmdebstrap that fails at once, so only the builder's decision is seen. */
static void
test_images_notice_commits (gconstpointer data)
{
  const char *engine = data;
  const char *images_dir = g_getenv ("LLMSBX_IMAGES_DIR");
  g_autofree char *tmp = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *recipe_dir = NULL;
  g_autofree char *bin = NULL;
  g_autofree char *rootfs = NULL;
  g_autofree char *script = NULL;
  g_autofree char *builder = NULL;
  g_autofree char *recipe = NULL;
  g_autofree char *image = NULL;
  g_autofree char *hash = NULL;
  g_autofree char *label_change = NULL;
  g_autofree char *hash_change = NULL;
  g_autofree char *listed = NULL;
  g_autofree char *path = NULL;
  g_autofree char *container = NULL;
  g_autoptr(GChecksum) checksum = g_checksum_new (G_CHECKSUM_SHA256);
  g_autoptr(GError) error = NULL;
  g_autoptr(CliResult) fresh = NULL;
  g_autoptr(CliResult) skipped = NULL;
  g_autoptr(CliResult) modified = NULL;
  g_autoptr(CliResult) rebuilt = NULL;
  static const char dockerfile[] = "FROM scratch\n";
  const char *uuid = strchr (run_label, '=') + 1;

  if (!g_test_subprocess ())
    {
      g_autofree char *filter = g_strconcat ("label=", run_label, NULL);
      g_autofree char *left = NULL;
      g_auto(GStrv) ids = NULL;

      g_test_trap_subprocess (NULL, 300 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_INHERIT_STDERR);
      left = engine_run (engine, "images", "-q", "--filter", filter);
      ids = g_strsplit (left, "\n", -1);
      for (guint i = 0; ids[i] != NULL; i++)
        if (*ids[i] != '\0')
          g_free (engine_output (engine, FALSE, (const char * const []) { "rmi", "-f", ids[i], NULL }));
      g_test_trap_assert_passed ();
      return;
    }

  g_assert_nonnull (images_dir);
  tmp = g_dir_make_tmp ("llmsbx-images-XXXXXX", &error);
  g_assert_no_error (error);
  dir = g_build_filename (tmp, "images", NULL);
  recipe_dir = g_build_filename (dir, "fresh", NULL);
  bin = g_build_filename (tmp, "bin", NULL);
  g_assert_cmpint (g_mkdir_with_parents (recipe_dir, 0755), ==, 0);
  g_assert_cmpint (g_mkdir_with_parents (bin, 0755), ==, 0);

  /* The builder, a recipe of this test and a mmdebstrap that fails. */
  path = g_build_filename (images_dir, "build-offline.sh", NULL);
  g_file_get_contents (path, &script, NULL, &error);
  g_assert_no_error (error);
  builder = g_build_filename (dir, "build-offline.sh", NULL);
  write_text (builder, script, 0755);
  image = g_strdup_printf ("llmsbx-test/fresh-%.8s:bookworm", uuid);
  recipe = g_strdup_printf ("IMAGE=%s\nPACKAGES=\"coreutils\"\nWORKDIR=/sandbox\n", image);
  g_free (path);
  path = g_build_filename (recipe_dir, "recipe.conf", NULL);
  write_text (path, recipe, 0644);
  g_free (path);
  path = g_build_filename (recipe_dir, "Dockerfile", NULL);
  write_text (path, dockerfile, 0644);
  g_free (path);
  path = g_build_filename (bin, "mmdebstrap", NULL);
  write_text (path, "#!/bin/sh\necho 'mmdebstrap of the test: no build' >&2\nexit 1\n", 0755);

  /* The recipe's image as the builder would import it, from a tiny root. */
  g_checksum_update (checksum, (const guchar *) recipe, strlen (recipe));
  g_checksum_update (checksum, (const guchar *) dockerfile, strlen (dockerfile));
  hash = g_strdup (g_checksum_get_string (checksum));
  g_free (path);
  path = g_build_filename (tmp, "root", "marker", NULL);
  rootfs = g_build_filename (tmp, "rootfs.tar", NULL);
  {
    g_autofree char *root = g_build_filename (tmp, "root", NULL);
    g_autoptr(GSubprocess) tar = NULL;

    g_assert_cmpint (g_mkdir_with_parents (root, 0755), ==, 0);
    write_text (path, "recipe\n", 0644);
    tar = g_subprocess_new (G_SUBPROCESS_FLAGS_NONE, &error, "tar", "-C", root, "-cf", rootfs, ".", NULL);

    g_assert_no_error (error);
    g_subprocess_wait_check (tar, NULL, &error);
    g_assert_no_error (error);
  }
  hash_change = g_strdup_printf ("LABEL io.llmsbx.recipe-hash=%s", hash);
  label_change = g_strdup_printf ("LABEL %s", run_label);
  g_free (engine_run (engine, "import", "--change", hash_change, "--change", label_change, rootfs, image));

  /* The builder runs the engine's CLI, which needs the user's configuration. */
  g_setenv ("LLMSBX_IMAGES_DIR", dir, TRUE);
  {
    g_autofree char *search = g_strconcat (bin, ":", g_getenv ("PATH"), NULL);
    struct passwd *user = getpwuid (getuid ());

    g_setenv ("PATH", search, TRUE);
    if (user != NULL)
      g_setenv ("HOME", user->pw_dir, TRUE);
    g_unsetenv ("XDG_CONFIG_HOME");
    g_unsetenv ("XDG_DATA_HOME");
    g_unsetenv ("XDG_RUNTIME_DIR");
  }
  listed = g_strdup_printf ("fresh\t%s\tup-to-date\n", image);
  fresh = cli_run ("images", "list", "--engine", engine);
  g_assert_cmpint (fresh->status, ==, 0);
  g_assert_true (output_contains (fresh->out, listed));
  skipped = cli_run ("images", "build", "--engine", engine, "fresh");
  g_assert_cmpint (skipped->status, ==, 0);
  g_assert_true (output_contains (skipped->out, "is up to date"));

  /* A commit onto the recipe's tag, as commit_container onto a default image did. */
  container = engine_run (engine, "create", "--label", run_label, image, "/marker");
  g_free (engine_run (engine, "commit", container, image));
  g_free (engine_run (engine, "rm", container));

  g_free (listed);
  listed = g_strdup_printf ("fresh\t%s\tmodified\n", image);
  modified = cli_run ("images", "list", "--engine", engine);
  g_assert_cmpint (modified->status, ==, 0);
  g_assert_true (output_contains (modified->out, listed));
  rebuilt = cli_run ("images", "build", "--engine", engine, "fresh");
  g_assert_cmpint (rebuilt->status, ==, 1);
  g_assert_true (output_contains (rebuilt->out, "has layers on top of the recipe's"));
  g_assert_true (output_contains (rebuilt->err, "mmdebstrap of the test: no build"));
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

/* Reaping -------------------------------------------------------------- */

/* Starts `llmsbx run` with code that sleeps as @needle and returns it once
 * that code runs in a sandbox, whose id goes to @container. */
static GSubprocess *
start_sleeper (const char  *seconds,
               char       **container)
{
  g_autofree char *code = g_strdup_printf ("import os; os.execlp('sleep', 'sleep', '%s')", seconds);
  g_autofree char *needle = g_strdup_printf ("sleep %s", seconds);
  const char *args[] = { "run", "-c", code, NULL };
  g_autoptr(GPtrArray) argv = cli_argv (args);
  g_autoptr(GError) error = NULL;
  GSubprocess *process;

  process = g_subprocess_newv ((const char * const *) argv->pdata, G_SUBPROCESS_FLAGS_STDOUT_SILENCE, &error);
  g_assert_no_error (error);
  *container = NULL;
  for (guint attempt = 0; attempt < 600 && *container == NULL; attempt++)
    {
      *container = find_running (needle);
      if (*container == NULL)
        g_usleep (100 * 1000);
    }
  if (*container == NULL)
    {
      g_subprocess_force_exit (process);
      g_subprocess_wait (process, NULL, NULL);
      remove_leftovers ();
      g_error ("the code never started running in a sandbox");
    }
  return process;
}

static gboolean
strv_has (char       **strv,
          const char  *value)
{
  return g_strv_contains ((const char * const *) strv, value);
}

/* `llmsbx gc` removes the sandbox of a process killed with SIGKILL, leaves a
 * running process's sandbox alone, and with --dry-run removes nothing. */
static void
test_gc (void)
{
  g_autoptr(GSubprocess) killed = NULL;
  g_autoptr(GSubprocess) alive = NULL;
  g_autofree char *dead_box = NULL;
  g_autofree char *live_box = NULL;
  g_autofree char *dead_line = NULL;
  g_autofree char *live_id = NULL;
  g_autoptr(CliResult) dry = NULL;
  g_autoptr(CliResult) gc = NULL;
  g_autoptr(CliResult) again = NULL;
  g_auto(GStrv) after_dry = NULL;
  g_auto(GStrv) after_gc = NULL;
  g_autoptr(GError) error = NULL;

  killed = start_sleeper ("4243", &dead_box);
  g_subprocess_send_signal (killed, SIGKILL);
  g_subprocess_wait (killed, NULL, &error);
  g_assert_no_error (error);
  alive = start_sleeper ("4244", &live_box);

  dead_line = g_strdup_printf ("docker %.12s ", dead_box);
  live_id = g_strndup (live_box, 12);

  dry = cli_run_keeping ("gc", "--backend", "docker", "--dry-run", "--label", run_label);
  after_dry = our_containers ();
  g_assert_cmpint (dry->status, ==, 0);
  g_assert_true (output_contains (dry->out, "would remove "));
  g_assert_true (output_contains (dry->out, dead_line));
  g_assert_false (output_contains (dry->out, live_id));
  g_assert_true (strv_has (after_dry, dead_box));
  g_assert_true (strv_has (after_dry, live_box));

  gc = cli_run_keeping ("gc", "--backend", "docker", "--label", run_label);
  after_gc = our_containers ();
  g_assert_cmpint (gc->status, ==, 0);
  g_assert_true (output_starts_with (gc->out, "removed "));
  g_assert_true (output_contains (gc->out, dead_line));
  g_assert_false (output_contains (gc->out, live_id));
  g_assert_false (strv_has (after_gc, dead_box));
  g_assert_true (strv_has (after_gc, live_box));

  /* Nothing is left to reap while the owner runs. */
  again = cli_run_keeping ("gc", "--backend", "docker", "--label", run_label);
  g_assert_cmpint (again->status, ==, 0);
  assert_output (again->out, "");

  /* The live owner, stopped, removes its own sandbox. */
  g_subprocess_send_signal (alive, SIGTERM);
  g_subprocess_wait (alive, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (remove_leftovers (), ==, 0);
}

static void
test_gc_usage (void)
{
  g_autoptr(CliResult) bad = cli_run_keeping ("gc", "--older-than", "soon");
  g_autoptr(CliResult) extra = cli_run_keeping ("gc", "now");

  g_assert_cmpint (bad->status, ==, 2);
  g_assert_true (output_contains (bad->err, "--older-than"));
  g_assert_cmpint (extra->status, ==, 2);
}

/* Output --------------------------------------------------------------- */

#define CUT_NOTICE "llmsbx: the program's standard output was cut at the output limit, "

/* Output past the cap is dropped, and the program says so on stderr. */
static void
test_output_limit (void)
{
  g_autofree char *kept = NULL;
  g_autofree char *notice = NULL;
  g_autoptr(CliResult) result =
    cli_run ("run", "--output-limit", "1000", "-c", "import sys; print('x' * 5000); sys.stderr.write('short')");

  g_assert_cmpint (result->status, ==, 0);
  g_assert_cmpuint (g_bytes_get_size (result->out), ==, 1000);
  g_assert_true (output_starts_with (result->err, "short" CUT_NOTICE "1000 bytes: the rest was dropped. "
                                     "Raise the limit with --output-limit BYTES (0 for none)"));
  g_assert_false (output_contains (result->err, "standard error was cut"));
  g_clear_pointer (&result, cli_result_free);

  result = cli_run ("run", "--output-limit", "2k", "-c", "import sys; sys.stderr.write('e' * 5000)");
  g_assert_cmpint (result->status, ==, 0);
  kept = g_strnfill (2048, 'e');
  notice = g_strconcat (kept, "llmsbx: the program's standard error was cut at the output limit, 2.0", NULL);
  g_assert_true (output_starts_with (result->err, notice));
  g_clear_pointer (&result, cli_result_free);

  result = cli_run ("run", "--output-limit", "lots", "-c", "print(1)");
  g_assert_cmpint (result->status, ==, 2);
  g_assert_true (output_contains (result->err, "--output-limit takes a number of bytes"));
}

/* The default cap, 16 MiB, used to cut output without a word. */
static void
test_output_limit_default (void)
{
  g_autoptr(CliResult) result = cli_run ("run", "-c", "import sys; sys.stdout.write('x' * (16 * 1024 * 1024 + 10))");

  g_assert_cmpint (result->status, ==, 0);
  g_assert_cmpuint (g_bytes_get_size (result->out), ==, 16 * 1024 * 1024);
  g_assert_true (output_contains (result->err, CUT_NOTICE "16.0\xc2\xa0MiB (16777216 bytes)"));
  g_clear_pointer (&result, cli_result_free);

  result = cli_run ("run", "--output-limit", "0", "-c",
                    "import sys; sys.stdout.write('x' * (16 * 1024 * 1024 + 10))");
  g_assert_cmpint (result->status, ==, 0);
  g_assert_cmpuint (g_bytes_get_size (result->out), ==, 16 * 1024 * 1024 + 10);
  assert_output (result->err, "");
}

/* --stream prints everything, past the cap too, as it comes, with the
 * program's exit status. */
static void
test_stream (void)
{
  g_autoptr(CliResult) result =
    cli_run ("run", "--stream", "-c",
             "import sys\n"
             "for i in range(3):\n"
             "    print(i, flush=True); print('err', i, file=sys.stderr, flush=True)\n"
             "sys.stdout.write('y' * (20 * 1024 * 1024))\n"
             "sys.exit(3)\n");

  g_assert_cmpint (result->status, ==, 3);
  g_assert_cmpuint (g_bytes_get_size (result->out), ==, 6 + 20 * 1024 * 1024);
  g_assert_true (output_starts_with (result->out, "0\n1\n2\nyyy"));
  assert_output (result->err, "err 0\nerr 1\nerr 2\n");
  g_clear_pointer (&result, cli_result_free);

  result = cli_run ("run", "--stream", "--json", "-c", "print(1)");
  g_assert_cmpint (result->status, ==, 2);
}

/* Runs the program with @args, its output thrown away, and returns its peak
 * resident memory in KiB. A small Python process starts it and reads its
 * rusage: a child forked from this test would start its count at our size. */
static long
cli_peak_rss_kib (const char * const *args,
                  int                *status)
{
  static const char measure[] =
    "import resource, subprocess, sys\n"
    "r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL)\n"
    "print(r.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n";
  g_autoptr(GPtrArray) cli = cli_argv (args);
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *out = NULL;
  /* Under AddressSanitizer (.ci/sanitize), freed memory is quarantined, not
   * reused, which would count as the program's; other builds ignore this. */
  g_autofree char *asan = g_strconcat (g_getenv ("ASAN_OPTIONS") ? g_getenv ("ASAN_OPTIONS") : "",
                                       ":quarantine_size_mb=0:thread_local_quarantine_size_kb=0", NULL);
  long peak = -1;

  g_ptr_array_add (argv, (char *) "/usr/bin/python3");
  g_ptr_array_add (argv, (char *) "-c");
  g_ptr_array_add (argv, (char *) measure);
  for (guint i = 0; i < cli->len - 1; i++)
    g_ptr_array_add (argv, cli->pdata[i]);
  g_ptr_array_add (argv, NULL);

  g_subprocess_launcher_setenv (launcher, "ASAN_OPTIONS", asan, TRUE);
  process = g_subprocess_launcher_spawnv (launcher, (const char * const *) argv->pdata, &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (process, NULL, NULL, &out, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_get_successful (process));
  g_assert_cmpint (sscanf (out, "%d %ld", status, &peak), ==, 2);
  g_assert_cmpuint (remove_leftovers (), ==, 0);
  return peak;
}

/* Streaming holds no more than a chunk: 256 MiB pass through a client whose
 * memory stays far below that (without --stream it holds the 16 MiB cap). */
static void
test_stream_memory (void)
{
  const char *args[] = {
    "run", "--stream", "-c", "import sys\nfor _ in range(256): sys.stdout.write('z' * (1024 * 1024))\n", NULL
  };
  int status = -1;
  long peak = cli_peak_rss_kib (args, &status);

  g_test_message ("peak RSS while streaming 256 MiB: %ld KiB", peak);
  g_assert_cmpint (status, ==, 0);
  g_assert_cmpint (peak, <, 64 * 1024);
}

/* A reader that goes away is reported, and the sandbox is still removed. */
static void
test_stream_closed_pipe (void)
{
  const char *args[] = { "run", "--stream", "-c", "while True: print('still here', flush=True)", NULL };
  g_autoptr(GPtrArray) argv = cli_argv (args);
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) err = NULL;
  char first[11];
  gsize got = 0;
  GInputStream *out;

  process = g_subprocess_newv ((const char * const *) argv->pdata,
                               G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE, &error);
  g_assert_no_error (error);
  out = g_subprocess_get_stdout_pipe (process);
  g_input_stream_read_all (out, first, sizeof first, &got, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (first, got, "still here\n", 11);
  g_input_stream_close (out, NULL, &error);
  g_assert_no_error (error);

  err = g_input_stream_read_bytes (g_subprocess_get_stderr_pipe (process), 4096, NULL, &error);
  g_assert_no_error (error);
  g_subprocess_wait (process, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (wait_status (process), ==, 125);
  g_assert_true (output_contains (err, "llmsbx: Could not write the output: Broken pipe"));
  g_assert_cmpuint (remove_leftovers (), ==, 0);
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

/* @depth levels of @open around a 1, closed again, inside @prefix ... @suffix. */
static char *
nested_json (const char *prefix,
             char        open,
             char        close,
             guint       depth,
             const char *suffix)
{
  GString *text = g_string_new (prefix);

  for (guint i = 0; i < depth; i++)
    g_string_append_c (text, open);
  g_string_append_c (text, '1');
  for (guint i = 0; i < depth; i++)
    g_string_append_c (text, close);
  g_string_append (text, suffix);
  return g_string_free (text, FALSE);
}

/* Deeply nested JSON is refused with a message, not a stack overflow; a
 * single argument may hold 128 KiB, enough for 60 000 levels of arrays. */
static void
test_run_deep_runtime_configs (void)
{
  g_autofree char *deep = nested_json ("{\"labels\": ", '[', ']', 60000, "}");
  g_autoptr(CliResult) result = cli_run ("run", "-r", deep, "-c", "print(1)");

  g_assert_cmpint (result->status, ==, 125);
  g_assert_true (output_contains (result->err,
                                  "Runtime configs: JSON arrays and objects nest deeper than 64 levels"));
  g_assert_cmpuint (g_bytes_get_size (result->out), ==, 0);
}

static void
test_check_deep_policy (void)
{
  g_autofree char *path = NULL;
  g_autofree char *deep = nested_json ("{\"patterns\": ", '[', ']', 200000, "}");
  g_autoptr(GError) error = NULL;
  g_autoptr(CliResult) result = NULL;

  g_close (g_file_open_tmp ("policy-XXXXXX.json", &path, &error), NULL);
  g_assert_no_error (error);
  g_file_set_contents (path, deep, -1, &error);
  g_assert_no_error (error);

  result = cli_run ("check", "--policy", path, "-c", "x");
  g_assert_cmpint (result->status, ==, 125);
  g_assert_true (output_contains (result->err, "nest deeper than 64 levels"));
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
  /* One label for this process and the test subprocesses it starts. */
  if (g_getenv ("LLMSBX_TEST_RUN") == NULL)
    {
      g_autofree char *fresh = g_uuid_string_random ();

      g_setenv ("LLMSBX_TEST_RUN", fresh, TRUE);
    }
  run_label = g_strdup_printf (RUN_LABEL "=%s", g_getenv ("LLMSBX_TEST_RUN"));
  run_configs = g_strdup_printf ("{\"labels\": {\"" RUN_LABEL "\": \"%s\"}}", g_getenv ("LLMSBX_TEST_RUN"));

  g_test_add_func ("/cli/version", test_version);
  g_test_add_func ("/cli/usage-errors", test_usage_errors);
  g_test_add_func ("/cli/languages", test_languages);
  g_test_add_func ("/cli/backends", test_backends);
  g_test_add_func ("/cli/backend-settings", test_backend_settings);
  g_test_add_func ("/cli/images/list", test_images_list);
  g_test_add_func ("/cli/images/list-bubblewrap", test_images_list_bubblewrap);
  g_test_add_func ("/cli/images/build-unknown", test_images_build_unknown);
  g_test_add_func ("/cli/images/build", test_images_build);
  g_test_add_data_func ("/cli/images/notice-commits/docker", "docker", test_images_notice_commits);
  g_test_add_data_func ("/cli/images/notice-commits/podman", "podman", test_images_notice_commits);
  g_test_add_func ("/cli/gc/reap", test_gc);
  g_test_add_func ("/cli/gc/usage", test_gc_usage);
  g_test_add_func ("/cli/run/inline-code", test_inline_code);
  g_test_add_func ("/cli/run/exit-status", test_exit_status);
  g_test_add_func ("/cli/run/stderr-separate", test_stderr_separate);
  g_test_add_func ("/cli/run/binary-output", test_binary_output);
  g_test_add_func ("/cli/run/file-argument", test_file_argument);
  g_test_add_func ("/cli/run/stdin", test_stdin);
  g_test_add_func ("/cli/run/invalid-utf8", test_invalid_utf8);
  g_test_add_func ("/cli/run/json", test_json);
  g_test_add_func ("/cli/run/plots", test_plots);
  g_test_add_func ("/cli/run/unknown-language", test_unknown_language);
  g_test_add_func ("/cli/run/unknown-backend", test_unknown_backend);
  g_test_add_func ("/cli/run/timeout", test_timeout);
  g_test_add_func ("/cli/run/preset", test_run_preset);
  g_test_add_func ("/cli/run/preset-refuses", test_run_preset_refuses);
  g_test_add_func ("/cli/check/unsafe", test_check_unsafe);
  g_test_add_func ("/cli/check/safe", test_check_safe);
  g_test_add_func ("/cli/check/policy-file", test_check_policy_file);
  g_test_add_func ("/cli/check/errors", test_check_errors);
  g_test_add_func ("/cli/run/deep-runtime-configs", test_run_deep_runtime_configs);
  g_test_add_func ("/cli/run/output-limit", test_output_limit);
  g_test_add_func ("/cli/run/output-limit-default", test_output_limit_default);
  g_test_add_func ("/cli/run/stream", test_stream);
  g_test_add_func ("/cli/run/stream-memory", test_stream_memory);
  g_test_add_func ("/cli/run/stream-closed-pipe", test_stream_closed_pipe);
  g_test_add_func ("/cli/check/deep-policy", test_check_deep_policy);
  g_test_add_data_func ("/cli/run/sigint", GINT_TO_POINTER (SIGINT), test_signal);
  g_test_add_data_func ("/cli/run/sigterm", GINT_TO_POINTER (SIGTERM), test_signal);

  return g_test_run ();
}
