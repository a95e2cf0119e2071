/* test-session.c: whole sessions against a real engine (run once per backend).
 *
 * Every test opens its own session on the default Python image and checks,
 * after closing, that the container it created is gone. */
#include <glib/gstdio.h>

#include "backend-test.h"
#include "isolated-test.h"

#define docker_ps backend_test_ps
#define assert_container_gone backend_test_assert_container_gone

static LlmsbxSandboxSession *
open_python_session (void)
{
  g_autoptr(LlmsbxSandboxSession) session = backend_test_session_new ("python", NULL);
  g_autoptr(GError) error = NULL;

  llmsbx_sandbox_session_open (session, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (llmsbx_sandbox_session_get_is_open (session));
  return g_steal_pointer (&session);
}

static void
close_and_check (LlmsbxSandboxSession *session)
{
  g_autofree char *id = g_strdup (llmsbx_sandbox_session_get_container_id (session));
  g_autoptr(GError) error = NULL;

  g_assert_nonnull (id);
  llmsbx_sandbox_session_close (session, NULL, &error);
  g_assert_no_error (error);
  g_assert_false (llmsbx_sandbox_session_get_is_open (session));
  assert_container_gone (id);
}

static LlmsbxExecutionResult *
run_ok (LlmsbxSandboxSession *session,
        const char           *code)
{
  g_autoptr(GError) error = NULL;
  LlmsbxExecutionResult *result = llmsbx_sandbox_session_run (session, code, NULL, 0, NULL, &error);

  g_assert_no_error (error);
  g_assert_nonnull (result);
  return result;
}

static void
test_run_hello (void)
{
  g_autoptr(LlmsbxSandboxSession) session = open_python_session ();
  g_autoptr(LlmsbxExecutionResult) result = run_ok (session, "print(6*7)");

  g_assert_cmpstr (llmsbx_execution_result_get_stdout (result), ==, "42\n");
  g_assert_cmpstr (llmsbx_execution_result_get_stderr (result), ==, "");
  g_assert_cmpint (llmsbx_execution_result_get_exit_code (result), ==, 0);
  g_assert_true (llmsbx_execution_result_get_success (result));
  g_assert_false (llmsbx_execution_result_get_truncated (result));
  g_assert_cmpfloat (llmsbx_execution_result_get_duration (result), >, 0.0);
  close_and_check (session);
}

static void
test_streams_and_exit_status (void)
{
  g_autoptr(LlmsbxSandboxSession) session = open_python_session ();
  g_autoptr(LlmsbxExecutionResult) first = NULL;
  g_autoptr(LlmsbxExecutionResult) second = NULL;

  first = run_ok (session,
                  "import sys\n"
                  "print('to stdout')\n"
                  "print('to stderr', file=sys.stderr)\n"
                  "sys.exit(3)\n");
  g_assert_cmpstr (llmsbx_execution_result_get_stdout (first), ==, "to stdout\n");
  g_assert_cmpstr (llmsbx_execution_result_get_stderr (first), ==, "to stderr\n");
  g_assert_cmpint (llmsbx_execution_result_get_exit_code (first), ==, 3);
  g_assert_false (llmsbx_execution_result_get_success (first));

  /* A second run in the same sandbox sees files the first left. */
  second = run_ok (session,
                   "open('state.txt', 'w').write('kept')\n"
                   "print(open('state.txt').read())\n");
  g_assert_cmpstr (llmsbx_execution_result_get_stdout (second), ==, "kept\n");
  g_clear_object (&second);
  second = run_ok (session, "import os; print(os.getcwd(), open('state.txt').read())");
  g_assert_cmpstr (llmsbx_execution_result_get_stdout (second), ==, "/sandbox kept\n");

  close_and_check (session);
}

static void
test_syntax_error (void)
{
  g_autoptr(LlmsbxSandboxSession) session = open_python_session ();
  g_autoptr(LlmsbxExecutionResult) result = run_ok (session, "def broken(:\n");

  g_assert_cmpint (llmsbx_execution_result_get_exit_code (result), !=, 0);
  g_assert_nonnull (strstr (llmsbx_execution_result_get_stderr (result), "SyntaxError"));
  close_and_check (session);
}

/* Large code goes on the exec's standard input instead of its environment. */
static void
test_large_code (void)
{
  g_autoptr(LlmsbxSandboxSession) session = open_python_session ();
  g_autoptr(LlmsbxExecutionResult) result = NULL;
  GString *code = g_string_new ("data = [\n");

  while (code->len < 300 * 1024)
    g_string_append (code, "    'a line of data with \"quotes\" and $dollars and `ticks`',\n");
  g_string_append (code, "]\nprint(len(data) > 1000, data[0])\n");

  result = run_ok (session, code->str);
  g_assert_cmpstr (llmsbx_execution_result_get_stdout (result), ==,
                   "True a line of data with \"quotes\" and $dollars and `ticks`\n");
  g_clear_object (&result);

  /* Small code with shell syntax is written verbatim too, and the transport
   * variable does not reach the program. */
  result = run_ok (session, "import os\nprint('$HOME `id` \"$(x)\"', os.environ.get('LLMSBX_CODE'))");
  g_assert_cmpstr (llmsbx_execution_result_get_stdout (result), ==, "$HOME `id` \"$(x)\" None\n");

  g_string_free (code, TRUE);
  close_and_check (session);
}

/* Large code reaches a read-only sandbox with a tmpfs workdir too (the strict
 * preset), where engines cannot unpack archives. */
static void
test_large_code_read_only (void)
{
  g_autoptr(LlmsbxSecurityPreset) preset = NULL;
  g_autoptr(LlmsbxSandboxSession) session = NULL;
  g_autoptr(LlmsbxExecutionResult) result = NULL;
  g_autoptr(GError) error = NULL;
  GString *code = g_string_new ("total = 0\n");

  preset = llmsbx_get_security_preset ("strict", "python", backend_test_name (), &error);
  g_assert_no_error (error);
  session = backend_test_session_new ("python",
                                      "security-policy", llmsbx_security_preset_get_security_policy (preset),
                                      "runtime-configs", llmsbx_security_preset_get_runtime_config (preset),
                                      NULL);
  llmsbx_sandbox_session_open (session, NULL, &error);
  g_assert_no_error (error);

  for (guint i = 0; code->len < 250 * 1024; i++)
    g_string_append_printf (code, "total += %u  # padding padding padding padding padding\n", i % 7);
  g_string_append (code, "print('sum', total)\n");

  result = run_ok (session, code->str);
  g_assert_true (g_str_has_prefix (llmsbx_execution_result_get_stdout (result), "sum "));
  g_assert_cmpint (llmsbx_execution_result_get_exit_code (result), ==, 0);

  g_string_free (code, TRUE);
  close_and_check (session);
}

static void
test_binary_output (void)
{
  g_autoptr(LlmsbxSandboxSession) session = open_python_session ();
  g_autoptr(LlmsbxExecutionResult) result = NULL;
  GBytes *bytes;
  const guint8 *data;
  gsize size;

  result = run_ok (session, "import sys; sys.stdout.buffer.write(bytes(range(256)))");
  bytes = llmsbx_execution_result_get_stdout_bytes (result);
  data = g_bytes_get_data (bytes, &size);
  g_assert_cmpuint (size, ==, 256);
  for (guint i = 0; i < 256; i++)
    g_assert_cmpuint (data[i], ==, i);
  /* The text form is always valid UTF-8. */
  g_assert_true (g_utf8_validate (llmsbx_execution_result_get_stdout (result), -1, NULL));
  close_and_check (session);
}

static void
test_output_flood_is_capped (void)
{
  g_autoptr(LlmsbxSandboxSession) session = backend_test_session_new ("python", "output-limit", (guint64) 1024 * 1024,
                                                          NULL);
  g_autoptr(LlmsbxExecutionResult) result = NULL;
  g_autoptr(GError) error = NULL;

  llmsbx_sandbox_session_open (session, NULL, &error);
  g_assert_no_error (error);
  result = run_ok (session, "import sys\nfor _ in range(50):\n    sys.stdout.write('x' * (1024 * 1024))\n");
  g_assert_true (llmsbx_execution_result_get_truncated (result));
  g_assert_cmpuint (g_bytes_get_size (llmsbx_execution_result_get_stdout_bytes (result)), ==, 1024 * 1024);
  g_assert_cmpint (llmsbx_execution_result_get_exit_code (result), ==, 0);
  close_and_check (session);
}

static void
test_execute_command_and_argv (void)
{
  g_autoptr(LlmsbxSandboxSession) session = open_python_session ();
  g_autoptr(LlmsbxExecutionResult) shell = NULL;
  g_autoptr(LlmsbxExecutionResult) exact = NULL;
  g_autoptr(LlmsbxExecutionResult) elsewhere = NULL;
  g_autoptr(GError) error = NULL;
  const char *argv[] = { "printf", "[%s]", "a b; echo injected", NULL };

  shell = llmsbx_sandbox_session_execute_command (session, "echo one | tr a-z A-Z && exit 2", NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (llmsbx_execution_result_get_stdout (shell), ==, "ONE\n");
  g_assert_cmpint (llmsbx_execution_result_get_exit_code (shell), ==, 2);

  exact = llmsbx_sandbox_session_execute_argv (session, argv, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (llmsbx_execution_result_get_stdout (exact), ==, "[a b; echo injected]");

  elsewhere = llmsbx_sandbox_session_execute_command (session, "pwd", "/tmp", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (llmsbx_execution_result_get_stdout (elsewhere), ==, "/tmp\n");

  g_assert_null (llmsbx_sandbox_session_execute_command (session, "", NULL, NULL, &error));
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_COMMAND_EMPTY);

  close_and_check (session);
}

/* A command's workdir follows the rules of every sandbox path: relative to
 * the session's workdir, never with `..`; one that does not exist is an
 * error saying so, not a result carrying the engine's words as output. */
static void
test_command_workdir (void)
{
  g_autoptr(LlmsbxSandboxSession) session = open_python_session ();
  g_autoptr(LlmsbxExecutionResult) made = NULL;
  g_autoptr(LlmsbxExecutionResult) relative = NULL;
  g_autoptr(LlmsbxExecutionResult) result = NULL;
  g_autoptr(GError) error = NULL;
  const char *pwd[] = { "pwd", NULL };

  made = llmsbx_sandbox_session_execute_command (session, "mkdir -p sub/dir", NULL, NULL, &error);
  g_assert_no_error (error);
  relative = llmsbx_sandbox_session_execute_argv (session, pwd, "sub/dir", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (llmsbx_execution_result_get_stdout (relative), ==, "/sandbox/sub/dir\n");

  result = llmsbx_sandbox_session_execute_command (session, "pwd", "../x", NULL, &error);
  g_assert_null (result);
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_PATH_TRAVERSAL);
  g_clear_error (&error);
  result = llmsbx_sandbox_session_execute_argv (session, pwd, "/sandbox/sub/../../etc", NULL, &error);
  g_assert_null (result);
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_PATH_TRAVERSAL);
  g_clear_error (&error);
  result = llmsbx_sandbox_session_execute_command (session, "pwd", "", NULL, &error);
  g_assert_null (result);
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  result = llmsbx_sandbox_session_execute_command (session, "pwd", "/no/such/dir", NULL, &error);
  g_assert_null (result);
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_COMMAND_NOT_STARTED);
  g_assert_nonnull (strstr (error->message, "/no/such/dir"));
  close_and_check (session);
}

/* A program that is not there: the same error on every engine (Docker would
 * give status 126 and its runtime's message on stdout, Podman 127 and its own
 * on stderr). A shell's "not found" is the shell's result, as always. */
static void
test_command_not_started (void)
{
  g_autoptr(LlmsbxSandboxSession) session = open_python_session ();
  g_autoptr(LlmsbxExecutionResult) result = NULL;
  g_autoptr(LlmsbxExecutionResult) shell = NULL;
  g_autoptr(GError) error = NULL;
  const char *missing[] = { "no-such-program", "arg", NULL };
  const char *not_executable[] = { "/etc/hostname", NULL };

  result = llmsbx_sandbox_session_execute_argv (session, missing, NULL, NULL, &error);
  g_assert_null (result);
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_COMMAND_NOT_STARTED);
  g_assert_nonnull (strstr (error->message, "could not start the command in the sandbox"));
  g_assert_nonnull (strstr (error->message, "no-such-program"));
  g_clear_error (&error);

  result = llmsbx_sandbox_session_execute_argv (session, not_executable, NULL, NULL, &error);
  g_assert_null (result);
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_COMMAND_NOT_STARTED);
  g_assert_nonnull (strstr (error->message, "permission denied"));
  g_clear_error (&error);

  shell = llmsbx_sandbox_session_execute_command (session, "no-such-program", NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (llmsbx_execution_result_get_exit_code (shell), ==, 127);
  g_assert_nonnull (strstr (llmsbx_execution_result_get_stderr (shell), "not found"));
  close_and_check (session);
}

static void
write_file (const char   *path,
            const guint8 *data,
            gsize         length)
{
  g_autoptr(GError) error = NULL;

  g_file_set_contents (path, (const char *) data, length, &error);
  g_assert_no_error (error);
}

static void
assert_file_equals (const char   *path,
                    const guint8 *data,
                    gsize         length)
{
  g_autofree char *contents = NULL;
  g_autoptr(GError) error = NULL;
  gsize size = 0;

  g_file_get_contents (path, &contents, &size, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (contents, size, data, length);
}

static void
test_copy_round_trips (void)
{
  g_autoptr(LlmsbxSandboxSession) session = open_python_session ();
  g_autoptr(GError) error = NULL;
  g_autofree char *tmp = g_dir_make_tmp ("llmsbx-copy-XXXXXX", &error);
  g_autofree char *tree = g_build_filename (tmp, "tree", NULL);
  g_autofree char *sub = g_build_filename (tree, "sub", NULL);
  g_autofree char *empty = g_build_filename (tree, "empty", NULL);
  g_autofree char *binary = g_build_filename (sub, "binary.bin", NULL);
  g_autofree char *back = g_build_filename (tmp, "back", NULL);
  g_autofree char *back_binary = g_build_filename (back, "sub", "binary.bin", NULL);
  g_autofree char *back_empty = g_build_filename (back, "empty", NULL);
  g_autofree char *single = g_build_filename (tmp, "single.txt", NULL);
  g_autoptr(LlmsbxExecutionResult) listing = NULL;
  guint8 data[4096];

  g_assert_no_error (error);
  for (guint i = 0; i < sizeof data; i++)
    data[i] = (guint8) (i * 7);
  g_mkdir_with_parents (sub, 0755);
  write_file (binary, data, sizeof data);
  write_file (empty, (const guint8 *) "", 0);

  /* A directory into a path whose parents do not exist yet. */
  llmsbx_sandbox_session_copy_to_runtime (session, tree, "/sandbox/deep/er/tree", NULL, &error);
  g_assert_no_error (error);
  listing = run_ok (session,
                    "import os\n"
                    "print(os.path.getsize('deep/er/tree/sub/binary.bin'), os.path.getsize('deep/er/tree/empty'))\n");
  g_assert_cmpstr (llmsbx_execution_result_get_stdout (listing), ==, "4096 0\n");

  llmsbx_sandbox_session_copy_from_runtime (session, "deep/er/tree", back, NULL, &error);
  g_assert_no_error (error);
  assert_file_equals (back_binary, data, sizeof data);
  assert_file_equals (back_empty, (const guint8 *) "", 0);

  /* A single file written by the code comes back under the name asked for. */
  g_clear_object (&listing);
  listing = run_ok (session, "open('/tmp/out.txt', 'w').write('made inside\\n')");
  llmsbx_sandbox_session_copy_from_runtime (session, "/tmp/out.txt", single, NULL, &error);
  g_assert_no_error (error);
  assert_file_equals (single, (const guint8 *) "made inside\n", strlen ("made inside\n"));

  /* Escapes and missing files are refused with their own errors. */
  g_assert_false (llmsbx_sandbox_session_copy_to_runtime (session, single, "/sandbox/../etc/x", NULL, &error));
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_PATH_TRAVERSAL);
  g_clear_error (&error);
  g_assert_false (llmsbx_sandbox_session_copy_from_runtime (session, "/nonexistent/file", single, NULL, &error));
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_FILE_NOT_FOUND);
  g_clear_error (&error);
  g_assert_false (llmsbx_sandbox_session_copy_to_runtime (session, "/nonexistent/host/file", "x", NULL, &error));
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_FILE_NOT_FOUND);

  close_and_check (session);
  {
    g_autoptr(GSubprocess) rm = g_subprocess_new (G_SUBPROCESS_FLAGS_NONE, NULL, "rm", "-rf", tmp, NULL);
    g_subprocess_wait (rm, NULL, NULL);
  }
}

static char *
read_host_file (const char *path)
{
  g_autoptr(GError) error = NULL;
  char *contents = NULL;

  g_file_get_contents (path, &contents, NULL, &error);
  g_assert_no_error (error);
  return contents;
}

/* A source that is a symbolic link is followed, like `cp -L`, in both
 * directions and on every engine: the copy is what the link points to, under
 * the name asked for (Docker's archive holds the link itself, Podman's its
 * target). Links inside a copied directory stay links; a dangling link and a
 * loop are errors that name them. */
static void
test_copy_symlinked_sources (void)
{
  g_autoptr(LlmsbxSandboxSession) session = open_python_session ();
  g_autoptr(LlmsbxExecutionResult) made = NULL;
  g_autoptr(LlmsbxExecutionResult) listing = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *tmp = g_dir_make_tmp ("llmsbx-links-XXXXXX", &error);
  g_autofree char *file = g_build_filename (tmp, "file.txt", NULL);
  g_autofree char *dir = g_build_filename (tmp, "real", NULL);
  g_autofree char *inner = g_build_filename (dir, "inner.txt", NULL);
  g_autofree char *link_file = g_build_filename (tmp, "link-file", NULL);
  g_autofree char *link_dir = g_build_filename (tmp, "link-dir", NULL);
  g_autofree char *inner_link = g_build_filename (dir, "inner-link", NULL);
  g_autofree char *dangling = g_build_filename (tmp, "dangling", NULL);
  g_autofree char *back = g_build_filename (tmp, "back", NULL);
  g_autofree char *copy = NULL;
  g_autofree char *text = NULL;
  const struct { const char *source; const char *contents; } files[] = {
    { "lf", "in the sandbox\n" },      /* relative link */
    { "chain", "in the sandbox\n" },   /* a link to a link */
    { "labs", "in the sandbox\n" },    /* absolute link */
    { "sub/up", "in the sandbox\n" },  /* a relative link with .. */
  };

  g_assert_no_error (error);
  g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
  g_assert_cmpint (g_mkdir_with_parents (back, 0755), ==, 0);
  write_file (file, (const guint8 *) "on the host\n", strlen ("on the host\n"));
  write_file (inner, (const guint8 *) "inner\n", strlen ("inner\n"));
  g_assert_cmpint (symlink ("file.txt", link_file), ==, 0);
  g_assert_cmpint (symlink ("real", link_dir), ==, 0);
  g_assert_cmpint (symlink ("file.txt", inner_link), ==, 0);
  g_assert_cmpint (symlink ("no-such-file", dangling), ==, 0);

  /* Host to sandbox. */
  llmsbx_sandbox_session_copy_to_runtime (session, link_file, "from-link-file", NULL, &error);
  g_assert_no_error (error);
  llmsbx_sandbox_session_copy_to_runtime (session, link_dir, "from-link-dir", NULL, &error);
  g_assert_no_error (error);
  listing = run_ok (session,
                    "import os\n"
                    "for p in ('from-link-file', 'from-link-dir', 'from-link-dir/inner.txt', 'from-link-dir/inner-link'):\n"
                    "    print(p, os.path.islink(p), os.path.isdir(p), open(p).read() if os.path.isfile(p) else '-', end='|')\n");
  g_assert_cmpstr (llmsbx_execution_result_get_stdout (listing), ==,
                   "from-link-file False False on the host\n|from-link-dir False True -|"
                   "from-link-dir/inner.txt False False inner\n|from-link-dir/inner-link True False -|");
  g_assert_false (llmsbx_sandbox_session_copy_to_runtime (session, dangling, "x", NULL, &error));
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_FILE_NOT_FOUND);
  g_clear_error (&error);

  /* Sandbox to host. */
  made = run_ok (session,
                 "import os\n"
                 "open('real.txt', 'w').write('in the sandbox\\n')\n"
                 "os.makedirs('rd/sub'); open('rd/y', 'w').write('y\\n')\n"
                 "os.symlink('real.txt', 'lf'); os.symlink('lf', 'chain')\n"
                 "os.symlink('/sandbox/real.txt', 'labs'); os.makedirs('sub'); os.symlink('../real.txt', 'sub/up')\n"
                 "os.symlink('rd', 'ld'); os.symlink('/nonexistent', 'dangling'); os.symlink('loop', 'loop')\n");
  for (guint i = 0; i < G_N_ELEMENTS (files); i++)
    {
      g_autofree char *name = g_strdelimit (g_strdup (files[i].source), "/", '-');

      g_free (copy);
      copy = g_build_filename (back, name, NULL);
      llmsbx_sandbox_session_copy_from_runtime (session, files[i].source, copy, NULL, &error);
      g_assert_no_error (error);
      g_assert_false (g_file_test (copy, G_FILE_TEST_IS_SYMLINK));
      g_free (text);
      text = read_host_file (copy);
      g_assert_cmpstr (text, ==, files[i].contents);
    }
  g_free (copy);
  copy = g_build_filename (back, "ld", NULL);
  llmsbx_sandbox_session_copy_from_runtime (session, "ld", copy, NULL, &error);
  g_assert_no_error (error);
  g_assert_false (g_file_test (copy, G_FILE_TEST_IS_SYMLINK));
  g_assert_true (g_file_test (copy, G_FILE_TEST_IS_DIR));
  g_free (copy);
  copy = g_build_filename (back, "ld", "y", NULL);
  g_free (text);
  text = read_host_file (copy);
  g_assert_cmpstr (text, ==, "y\n");

  g_free (copy);
  copy = g_build_filename (back, "dangling", NULL);
  g_assert_false (llmsbx_sandbox_session_copy_from_runtime (session, "dangling", copy, NULL, &error));
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_FILE_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, "/sandbox/dangling"));
  g_assert_false (g_file_test (copy, G_FILE_TEST_EXISTS));
  g_clear_error (&error);
  g_assert_false (llmsbx_sandbox_session_copy_from_runtime (session, "loop", copy, NULL, &error));
  g_assert_nonnull (error);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "/sandbox/loop"));
  g_assert_false (g_file_test (copy, G_FILE_TEST_EXISTS));
  g_clear_error (&error);

  close_and_check (session);
  {
    g_autoptr(GSubprocess) rm = g_subprocess_new (G_SUBPROCESS_FLAGS_NONE, NULL, "rm", "-rf", tmp, NULL);
    g_subprocess_wait (rm, NULL, NULL);
  }
}

typedef struct {
  GString *out;
  GString *err;
  guint    chunks;
} Captured;

static void
on_output (LlmsbxSandboxSession *session,
           LlmsbxOutputStream    stream,
           GBytes               *chunk,
           gpointer              user_data)
{
  Captured *captured = user_data;
  gsize size;
  const char *data = g_bytes_get_data (chunk, &size);

  g_string_append_len (stream == LLMSBX_OUTPUT_STREAM_STDOUT ? captured->out : captured->err, data, size);
  captured->chunks++;
}

static void
test_live_output_keeps_exit_status (void)
{
  g_autoptr(LlmsbxSandboxSession) session = open_python_session ();
  g_autoptr(LlmsbxExecutionResult) result = NULL;
  Captured captured = { g_string_new (NULL), g_string_new (NULL), 0 };
  gulong handler;

  handler = g_signal_connect (session, "output", G_CALLBACK (on_output), &captured);
  result = run_ok (session,
                   "import sys, time\n"
                   "for i in range(3):\n"
                   "    print('line', i)\n"
                   "    time.sleep(0.2)\n"
                   "print('oops', file=sys.stderr)\n"
                   "sys.exit(5)\n");
  g_signal_handler_disconnect (session, handler);

  g_assert_cmpint (llmsbx_execution_result_get_exit_code (result), ==, 5);
  g_assert_cmpstr (captured.out->str, ==, "line 0\nline 1\nline 2\n");
  g_assert_cmpstr (captured.err->str, ==, "oops\n");
  g_assert_cmpstr (llmsbx_execution_result_get_stdout (result), ==, captured.out->str);
  /* Output arrived as it was written, not in one piece at the end. */
  g_assert_cmpuint (captured.chunks, >=, 3);

  g_string_free (captured.out, TRUE);
  g_string_free (captured.err, TRUE);
  close_and_check (session);
}

/* Lists processes of the sandbox running a given script, through /proc. */
static char *
find_processes (LlmsbxSandboxSession *session,
                const char           *needle)
{
  const char *argv[] = {
    "sh", "-c",
    "for f in /proc/[0-9]*/cmdline; do tr '\\0' ' ' < \"$f\" 2>/dev/null | grep -F -- \"$1\" | grep -v grep; done; true",
    "find", needle, NULL
  };
  g_autoptr(GError) error = NULL;
  g_autoptr(LlmsbxExecutionResult) result = llmsbx_sandbox_session_execute_argv (session, argv, NULL, NULL, &error);

  g_assert_no_error (error);
  return g_strstrip (g_strdup (llmsbx_execution_result_get_stdout (result)));
}

static void
test_timeout_kills_and_session_survives (void)
{
  g_autoptr(LlmsbxSandboxSession) session = open_python_session ();
  g_autoptr(LlmsbxExecutionResult) result = NULL;
  g_autoptr(LlmsbxExecutionResult) after = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *left = NULL;

  /* The loop and a child it forked, both must die. */
  result = llmsbx_sandbox_session_run (session,
                                       "import subprocess\n"
                                       "subprocess.Popen(['sleep', '1000'])\n"
                                       "while True:\n"
                                       "    pass\n",
                                       NULL, 2.0, NULL, &error);
  g_assert_null (result);
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_TIMEOUT);
  g_assert_nonnull (strstr (error->message, "2 seconds"));

  left = find_processes (session, "sleep 1000");
  g_assert_cmpstr (left, ==, "");
  g_clear_pointer (&left, g_free);
  left = find_processes (session, "/.llmsbx/code-");
  g_assert_cmpstr (left, ==, "");

  after = run_ok (session, "print('still usable')");
  g_assert_cmpstr (llmsbx_execution_result_get_stdout (after), ==, "still usable\n");
  close_and_check (session);
}

static void
test_execution_timeout_property (void)
{
  g_autoptr(LlmsbxSandboxSession) session = backend_test_session_new ("python", "execution-timeout", 1.0,
                                                          NULL);
  g_autoptr(LlmsbxExecutionResult) result = NULL;
  g_autoptr(GError) error = NULL;

  llmsbx_sandbox_session_open (session, NULL, &error);
  g_assert_no_error (error);

  result = llmsbx_sandbox_session_run (session, "import time; time.sleep(30)", NULL, 0, NULL, &error);
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_TIMEOUT);
  g_clear_error (&error);

  /* A per-run timeout overrides the session's. */
  result = llmsbx_sandbox_session_run (session, "import time; time.sleep(2); print('done')", NULL, 10.0, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (llmsbx_execution_result_get_stdout (result), ==, "done\n");
  close_and_check (session);
}

static void
test_session_timeout_expires (void)
{
  g_autoptr(LlmsbxSandboxSession) session = backend_test_session_new ("python", "session-timeout", 1.0, NULL);
  g_autoptr(LlmsbxExecutionResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *id = NULL;

  llmsbx_sandbox_session_open (session, NULL, &error);
  g_assert_no_error (error);
  id = g_strdup (llmsbx_sandbox_session_get_container_id (session));

  /* The sandbox goes away while the session is idle, not at the next call. */
  for (guint i = 0; i < 100; i++)
    {
      g_autofree char *filter = g_strdup_printf ("id=%s", id);
      g_autofree char *found = backend_test_ps (filter);

      if (*found == '\0')
        break;
      g_usleep (100 * 1000);
    }
  backend_test_assert_container_gone (id);

  result = llmsbx_sandbox_session_run (session, "print(1)", NULL, 0, NULL, &error);
  g_assert_null (result);
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_SESSION_EXPIRED);
  g_clear_error (&error);
  g_assert_false (llmsbx_sandbox_session_get_is_open (session));

  result = llmsbx_sandbox_session_run (session, "print(1)", NULL, 0, NULL, &error);
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_NOT_OPEN);
}

/* A run still going when the lifetime ends is ended with it. */
static void
test_session_timeout_ends_running_code (void)
{
  g_autoptr(LlmsbxSandboxSession) session = backend_test_session_new ("python", "session-timeout", 2.0, NULL);
  g_autoptr(LlmsbxExecutionResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *id = NULL;

  llmsbx_sandbox_session_open (session, NULL, &error);
  g_assert_no_error (error);
  id = g_strdup (llmsbx_sandbox_session_get_container_id (session));

  result = llmsbx_sandbox_session_run (session, "import time; time.sleep(120)", NULL, 300, NULL, &error);
  g_assert_null (result);
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_SESSION_EXPIRED);
  g_assert_false (llmsbx_sandbox_session_get_is_open (session));
  backend_test_assert_container_gone (id);
}

static void
test_skip_environment_setup (void)
{
  g_autoptr(LlmsbxSandboxSession) session = backend_test_session_new ("python", "skip-environment-setup", TRUE,
                                                          NULL);
  g_autoptr(LlmsbxExecutionResult) result = NULL;
  g_autoptr(GError) error = NULL;
  const char *libraries[] = { "requests", NULL };

  llmsbx_sandbox_session_open (session, NULL, &error);
  g_assert_no_error (error);

  result = llmsbx_sandbox_session_run (session, "print('Hello from pre-configured environment!')", NULL, 0, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (llmsbx_execution_result_get_stdout (result), ==, "Hello from pre-configured environment!\n");
  g_clear_object (&result);

  result = llmsbx_sandbox_session_run (session, "import requests", libraries, 0, NULL, &error);
  g_assert_null (result);
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_LIBRARY_INSTALLATION_NOT_SUPPORTED);
  g_clear_error (&error);

  /* execute_command still works. */
  result = llmsbx_sandbox_session_execute_command (session, "python3 -m pip --version", NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (llmsbx_execution_result_get_exit_code (result), ==, 0);
  close_and_check (session);
}

static void
test_install_validates_names (void)
{
  g_autoptr(LlmsbxSandboxSession) session = open_python_session ();
  g_autoptr(GError) error = NULL;
  const char *option[] = { "--index-url=http://evil", NULL };
  const char *shell[] = { "numpy; rm -rf /", NULL };
  const char *newline[] = { "numpy\nrequests", NULL };
  const char *missing[] = { "/sandbox/no-such-wheel-1.0-py3-none-any.whl", NULL };

  g_assert_false (llmsbx_sandbox_session_install (session, option, NULL, &error));
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (llmsbx_sandbox_session_install (session, shell, NULL, &error));
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (llmsbx_sandbox_session_install (session, newline, NULL, &error));
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  /* A real pip run that fails is reported, not ignored. */
  g_assert_false (llmsbx_sandbox_session_install (session, missing, NULL, &error));
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_LIBRARY_INSTALLATION_FAILED);
  close_and_check (session);
}

static void
test_errors_before_open (void)
{
  g_autoptr(LlmsbxSandboxSession) closed = backend_test_session_new ("python", NULL);
  g_autoptr(LlmsbxSandboxSession) unknown_lang = llmsbx_sandbox_session_new ("brainfuck");
  g_autoptr(LlmsbxSandboxSession) unknown_backend = g_object_new (LLMSBX_TYPE_SANDBOX_SESSION,
                                                                  "backend", "nonexistent", NULL);
  g_autoptr(LlmsbxSandboxSession) both = g_object_new (LLMSBX_TYPE_SANDBOX_SESSION,
                                                       "image", "x", "dockerfile", "y", NULL);
  g_autoptr(LlmsbxSandboxSession) missing_image = backend_test_session_new ("python",
                                                                           "image", "llmsbx-test/does-not-exist:never",
                                                                           NULL);
  g_autoptr(GError) error = NULL;

  g_assert_null (llmsbx_sandbox_session_run (closed, "print(1)", NULL, 0, NULL, &error));
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_NOT_OPEN);
  g_clear_error (&error);

  g_assert_false (llmsbx_sandbox_session_open (unknown_lang, NULL, &error));
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_LANGUAGE_NOT_SUPPORTED);
  g_assert_nonnull (strstr (error->message, "python"));
  g_clear_error (&error);

  g_assert_false (llmsbx_sandbox_session_open (unknown_backend, NULL, &error));
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_BACKEND_NOT_SUPPORTED);
  g_clear_error (&error);

  g_assert_false (llmsbx_sandbox_session_open (both, NULL, &error));
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  g_assert_false (llmsbx_sandbox_session_open (missing_image, NULL, &error));
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_IMAGE_NOT_FOUND);
  g_assert_false (llmsbx_sandbox_session_get_is_open (missing_image));
}

static void
test_unavailable_backend (void)
{
  g_autoptr(LlmsbxBackend) client = NULL;
  g_autoptr(LlmsbxSandboxSession) session = NULL;
  g_autoptr(GError) error = NULL;

  client = llmsbx_registry_create_backend (llmsbx_registry_get_default (), backend_test_name (), &error);
  g_assert_no_error (error);
  llmsbx_backend_set_url (client, "unix:///nonexistent/engine.sock");
  session = backend_test_session_new ("python", "client", client, NULL);

  g_assert_false (llmsbx_sandbox_session_open (session, NULL, &error));
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_BACKEND_UNAVAILABLE);
  g_assert_nonnull (strstr (error->message, "/nonexistent/engine.sock"));
}

/* An engine declares where it is and how to reach it as settings, which a
 * session applies by name; the url alias reads the same value. */
static void
test_engine_backend_settings (void)
{
  g_autoptr(LlmsbxBackend) client = NULL;
  g_autoptr(LlmsbxSandboxSession) session = NULL;
  g_autoptr(GPtrArray) settings = NULL;
  g_autoptr(GError) error = NULL;
  GVariantBuilder builder;
  const char *expected[] = { "url", "tls-ca-file", "tls-cert-file", "tls-key-file", "tls-verify",
                             "connect-timeout", "request-timeout" };

  client = llmsbx_registry_create_backend (llmsbx_registry_get_default (), backend_test_name (), &error);
  g_assert_no_error (error);
  settings = llmsbx_backend_list_settings (client);
  g_assert_cmpuint (settings->len, ==, G_N_ELEMENTS (expected));
  for (guint i = 0; i < settings->len; i++)
    g_assert_cmpstr (((GParamSpec *) settings->pdata[i])->name, ==, expected[i]);

  g_variant_builder_init (&builder, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&builder, "{sv}", "url", g_variant_new_string ("unix:///nonexistent/settings.sock"));
  g_variant_builder_add (&builder, "{sv}", "connect-timeout", g_variant_new_string ("5"));
  session = backend_test_session_new ("python", "client", client,
                                      "backend-settings", g_variant_builder_end (&builder), NULL);
  g_assert_false (llmsbx_sandbox_session_open (session, NULL, &error));
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_BACKEND_UNAVAILABLE);
  g_assert_nonnull (strstr (error->message, "/nonexistent/settings.sock"));
  g_assert_cmpstr (llmsbx_backend_get_url (client), ==, "unix:///nonexistent/settings.sock");
  g_assert_cmpfloat (llmsbx_backend_get_connect_timeout (client), ==, 5.0);
  g_clear_error (&error);
  g_clear_object (&session);

  /* A Kubernetes setting is not an engine's. */
  g_variant_builder_init (&builder, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&builder, "{sv}", "namespace", g_variant_new_string ("default"));
  session = backend_test_session_new ("python", "backend-settings", g_variant_builder_end (&builder), NULL);
  g_assert_false (llmsbx_sandbox_session_open (session, NULL, &error));
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "no setting 'namespace'"));
  g_assert_nonnull (strstr (error->message, backend_test_name ()));
}

/* A host port that is already taken makes the container fail at start, after
 * it was created: open() must remove it. */
static void
test_failed_open_leaves_nothing (void)
{
  g_autoptr(LlmsbxSandboxSession) session = NULL;
  g_autoptr(GSocketListener) listener = g_socket_listener_new ();
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) bound = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *configs = NULL;
  g_autofree char *after = NULL;
  g_autofree char *manifest = NULL;
  g_autofree char *filter = NULL;
  /* This run's own: the same test on the other code path (test-session-exec)
   * may run at the same time. */
  g_autofree char *label = g_strdup_printf ("failed-open-%d-%08x", (int) getpid (), g_random_int ());
  guint16 port;

  g_socket_listener_add_address (listener, address, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP,
                                 NULL, &bound, &error);
  g_assert_no_error (error);
  port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));

  session = backend_test_session_new ("python", NULL);
  /* bubblewrap publishes no ports: a volume whose host directory is gone
   * fails its start instead, after its directory and cgroup were made. */
  if (backend_test_is_bubblewrap ())
    configs = g_strdup_printf ("{\"volumes\": [\"/nonexistent/llmsbx-test:/data\"], "
                               "\"labels\": {\"llmsbx-test\": \"%s\"}}", label);
  else if (!backend_test_is_kubernetes ())
    configs = g_strdup_printf ("{\"ports\": {\"8080/tcp\": \"127.0.0.1:%u\"}, "
                               "\"labels\": {\"llmsbx-test\": \"%s\"}}", port, label);
  /* Kubernetes: a pod whose container ends at once, after it was created. */
  if (backend_test_is_kubernetes ())
    {
      manifest = g_strdup_printf ("{\"metadata\": {\"labels\": {\"llmsbx-test\": \"%s\"}},"
                                  " \"spec\": {\"containers\": [{\"command\": [\"false\"]}]}}", label);
      llmsbx_sandbox_session_set_pod_manifest_json (session, manifest, &error);
    }
  else
    test_set_configs_json (session, configs, &error);
  g_assert_no_error (error);

  g_assert_false (llmsbx_sandbox_session_open (session, NULL, &error));
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_CONTAINER_FAILED);
  g_assert_false (llmsbx_sandbox_session_get_is_open (session));

  filter = g_strconcat ("label=llmsbx-test=", label, NULL);
  after = docker_ps (filter);
  g_assert_cmpstr (after, ==, "");
}

typedef struct {
  GMainLoop             *loop;
  LlmsbxExecutionResult *result;
  GError                *error;
  GString               *live;
  GThread               *main_thread;
} AsyncState;

static void
on_async_output (LlmsbxSandboxSession *session,
                 LlmsbxOutputStream    stream,
                 GBytes               *chunk,
                 gpointer              user_data)
{
  AsyncState *state = user_data;
  gsize size;
  const char *data = g_bytes_get_data (chunk, &size);

  /* Live output of async calls is delivered in the caller's context. */
  g_assert_true (g_thread_self () == state->main_thread);
  g_string_append_len (state->live, data, size);
}

static void
on_opened (GObject *source, GAsyncResult *res, gpointer user_data)
{
  AsyncState *state = user_data;

  llmsbx_sandbox_session_open_finish (LLMSBX_SANDBOX_SESSION (source), res, &state->error);
  g_main_loop_quit (state->loop);
}

static void
on_ran (GObject *source, GAsyncResult *res, gpointer user_data)
{
  AsyncState *state = user_data;

  state->result = llmsbx_sandbox_session_run_finish (LLMSBX_SANDBOX_SESSION (source), res, &state->error);
  g_main_loop_quit (state->loop);
}

static void
on_closed (GObject *source, GAsyncResult *res, gpointer user_data)
{
  AsyncState *state = user_data;

  llmsbx_sandbox_session_close_finish (LLMSBX_SANDBOX_SESSION (source), res, &state->error);
  g_main_loop_quit (state->loop);
}

static void
test_async_session (void)
{
  g_autoptr(LlmsbxSandboxSession) session = backend_test_session_new ("python", NULL);
  AsyncState state = { g_main_loop_new (NULL, FALSE), NULL, NULL, g_string_new (NULL), g_thread_self () };
  g_autofree char *id = NULL;

  g_signal_connect (session, "output", G_CALLBACK (on_async_output), &state);

  llmsbx_sandbox_session_open_async (session, NULL, on_opened, &state);
  g_main_loop_run (state.loop);
  g_assert_no_error (state.error);
  id = g_strdup (llmsbx_sandbox_session_get_container_id (session));

  llmsbx_sandbox_session_run_async (session, "print('async', 6*7)", NULL, 0, NULL, on_ran, &state);
  g_main_loop_run (state.loop);
  g_assert_no_error (state.error);
  g_assert_cmpstr (llmsbx_execution_result_get_stdout (state.result), ==, "async 42\n");
  g_assert_cmpstr (state.live->str, ==, "async 42\n");

  llmsbx_sandbox_session_close_async (session, NULL, on_closed, &state);
  g_main_loop_run (state.loop);
  g_assert_no_error (state.error);
  assert_container_gone (id);

  g_clear_object (&state.result);
  g_string_free (state.live, TRUE);
  g_main_loop_unref (state.loop);
}

static gpointer
cancel_after_a_second (gpointer data)
{
  g_usleep (G_USEC_PER_SEC);
  g_cancellable_cancel (data);
  return NULL;
}

static void
test_cancel_run (void)
{
  g_autoptr(LlmsbxSandboxSession) session = open_python_session ();
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(LlmsbxExecutionResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *left = NULL;
  GThread *canceller;

  /* The synchronous call blocks this thread, so cancel from another one. */
  canceller = g_thread_new ("canceller", cancel_after_a_second, cancellable);
  result = llmsbx_sandbox_session_run (session, "import time; time.sleep(60)", NULL, 0, cancellable, &error);
  g_thread_join (canceller);

  g_assert_null (result);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);

  /* Cancelling killed the code, like a timeout does. */
  left = find_processes (session, "/.llmsbx/code-");
  g_assert_cmpstr (left, ==, "");
  close_and_check (session);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
  backend_test_prepare ();

  g_test_add_func ("/session/run-hello", test_run_hello);
  g_test_add_func ("/session/streams-and-exit-status", test_streams_and_exit_status);
  g_test_add_func ("/session/syntax-error", test_syntax_error);
  g_test_add_func ("/session/large-code", test_large_code);
  g_test_add_func ("/session/large-code-read-only", test_large_code_read_only);
  g_test_add_func ("/session/binary-output", test_binary_output);
  g_test_add_func ("/session/output-flood-is-capped", test_output_flood_is_capped);
  g_test_add_func ("/session/execute-command-and-argv", test_execute_command_and_argv);
  g_test_add_func ("/session/command-workdir", test_command_workdir);
  g_test_add_func ("/session/command-not-started", test_command_not_started);
  g_test_add_func ("/session/copy-round-trips", test_copy_round_trips);
  g_test_add_func ("/session/copy-symlinked-sources", test_copy_symlinked_sources);
  g_test_add_func ("/session/live-output-keeps-exit-status", test_live_output_keeps_exit_status);
  g_test_add_func ("/session/timeout-kills-and-session-survives", test_timeout_kills_and_session_survives);
  g_test_add_func ("/session/execution-timeout-property", test_execution_timeout_property);
  g_test_add_func ("/session/session-timeout-expires", test_session_timeout_expires);
  g_test_add_func ("/session/session-timeout-ends-running-code", test_session_timeout_ends_running_code);
  g_test_add_func ("/session/skip-environment-setup", test_skip_environment_setup);
  g_test_add_func ("/session/install-validates-names", test_install_validates_names);
  g_test_add_func ("/session/errors-before-open", test_errors_before_open);
  g_test_add_func ("/session/unavailable-backend", test_unavailable_backend);
  /* Engines only: a cluster's settings are its own (test-kubernetes-backend). */
  if (!backend_test_is_bubblewrap () && !backend_test_is_kubernetes ())
    g_test_add_func ("/session/engine-backend-settings", test_engine_backend_settings);
  g_test_add_func ("/session/failed-open-leaves-nothing", test_failed_open_leaves_nothing);
  g_test_add_func ("/session/async", test_async_session);
  g_test_add_func ("/session/cancel-run", test_cancel_run);

  return g_test_run ();
}
