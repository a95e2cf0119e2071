/* test-code-delivery.c: how a run's code reaches the sandbox, and that it
 * leaves nothing there.
 *
 * Code of any size travels with the exec that runs it: small code in its
 * environment, large code on its standard input, so a run of 6 MiB costs the
 * same three engine requests as one of a line. One deadline covers the whole
 * run (the code's delivery and every command of the language). The code file
 * is removed when the run is over, keeping the program's exit status, also
 * for a program killed by a signal. */
#include "isolated-test.h"

#define BASE_IMAGE "llmsbx/python:bookworm"

/* ---------------------------------------------------------------------------
 * Helpers
 * ------------------------------------------------------------------------ */

/* Python code of at least @size bytes that prints how long it is and what it
 * read on standard input, then @tail. Shell syntax in it must survive. */
static char *
large_code (gsize       size,
            const char *tail)
{
  GString *code = g_string_new ("import sys\ndata = [\n");

  while (code->len < size)
    g_string_append (code, "    'padding with \"quotes\", $dollars, `ticks` and \\\\backslashes',\n");
  g_string_append (code, "]\n");
  g_string_append (code, "print(len(data), repr(sys.stdin.read()))\n");
  g_string_append (code, tail);
  return g_string_free (code, FALSE);
}

/* The files in the sandbox's .llmsbx directory, one per line ("" for none). */
static char *
scratch_files (LlmsbxSandboxSession *session)
{
  return g_strstrip (test_sh (session, "ls -A /sandbox/.llmsbx 2>/dev/null; true"));
}

/* What a run leaves in .llmsbx: nothing on the exec path; through the
 * resident runner, the one code file its stateless runs share until the
 * session closes (docs/interactive.md). */
static void
assert_scratch_left (LlmsbxSandboxSession *session)
{
  g_autofree char *left = scratch_files (session);

  if (backend_test_resident ())
    {
      g_assert_true (left[0] == '\0' || (g_str_has_prefix (left, "code-") && strchr (left, '\n') == NULL));
      return;
    }
  g_assert_cmpstr (left, ==, "");
}

static LlmsbxExecutionResult *
run_result (LlmsbxSandboxSession *session,
            const char           *code,
            double                timeout)
{
  g_autoptr(GError) error = NULL;
  LlmsbxExecutionResult *result = llmsbx_sandbox_session_run (session, code, NULL, timeout, NULL, &error);

  g_assert_no_error (error);
  return result;
}

/* ---------------------------------------------------------------------------
 * Tests
 * ------------------------------------------------------------------------ */

/* 6 MiB of code in one exec (on the engines: create, start with the code
 * on its standard input, inspect). The program sees an empty standard input. */
static void
test_large_code_one_request (void)
{
  g_autoptr(LlmsbxBackend) client = NULL;
  g_autoptr(LlmsbxSandboxSession) session = NULL;
  g_autoptr(LlmsbxExecutionResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *code = large_code (6 << 20, "print('end')\n");
  guint before;

  client = llmsbx_registry_create_backend (llmsbx_registry_get_default (), backend_test_name (), &error);
  g_assert_no_error (error);
  session = test_open_session ("\"network_mode\": \"none\"", "client", client, NULL);

  /* Through the resident runner, the first run starts it with one attached
   * exec (fewer requests than an exec: no inspect until it ends), and later
   * runs cost the backend nothing. */
  before = llmsbx_backend_get_request_count (client);
  result = run_result (session, code, 0);
  if (backend_test_resident ())
    g_assert_cmpuint (llmsbx_backend_get_request_count (client) - before, <=, backend_test_exec_requests ());
  else
    g_assert_cmpuint (llmsbx_backend_get_request_count (client) - before, ==, backend_test_exec_requests ());
  g_assert_cmpint (llmsbx_execution_result_get_exit_code (result), ==, 0);
  g_assert_true (g_str_has_suffix (llmsbx_execution_result_get_stdout (result), " ''\nend\n"));
  g_clear_object (&result);

  /* Small code costs the same, and its program sees no input either. */
  before = llmsbx_backend_get_request_count (client);
  result = run_result (session, "import sys; print(repr(sys.stdin.read()), '$HOME `id`')", 0);
  g_assert_cmpuint (llmsbx_backend_get_request_count (client) - before, ==,
                    backend_test_resident () ? 0 : backend_test_exec_requests ());
  g_assert_cmpstr (llmsbx_execution_result_get_stdout (result), ==, "'' $HOME `id`\n");

  assert_scratch_left (session);
  test_close (session);
}

/* The deadline is the run's, not each command's: a language whose first
 * command takes 2 s and whose program takes 2 more does not fit in 3 s,
 * although each command alone would. */
static void
test_timeout_covers_whole_run (void)
{
  const char *commands[] = { "sleep 2", "python3 {file}", NULL };
  g_autoptr(LlmsbxLanguageConfig) twostep = llmsbx_language_config_new ("twostep", "py", commands, NULL);
  g_autoptr(LlmsbxSandboxSession) session = NULL;
  g_autoptr(LlmsbxExecutionResult) result = NULL;
  g_autoptr(LlmsbxExecutionResult) fits = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_true (llmsbx_registry_register_language (llmsbx_registry_get_default (),
                                                    LLMSBX_LANGUAGE_HANDLER (twostep), &error));
  g_assert_no_error (error);
  session = backend_test_session_new ("twostep", "image", BASE_IMAGE, NULL);
  {
    g_autofree char *configs = test_configs ("\"network_mode\": \"none\"");

    test_set_configs_json (session, configs, &error);
    g_assert_no_error (error);
  }
  llmsbx_sandbox_session_open (session, NULL, &error);
  g_assert_no_error (error);

  result = llmsbx_sandbox_session_run (session, "import time; time.sleep(2); print('ran')", NULL, 3.0,
                                       NULL, &error);
  g_assert_null (result);
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_TIMEOUT);
  g_assert_cmpstr (error->message, ==, "Execution timed out after 3 seconds");
  g_clear_error (&error);

  /* With room for both, it runs. */
  fits = run_result (session, "print('ran')", 10.0);
  g_assert_cmpstr (llmsbx_execution_result_get_stdout (fits), ==, "ran\n");
  assert_scratch_left (session);
  test_close (session);
}

/* No run leaves its code file: successful, failing, killed by a signal,
 * large. Exit statuses are the program's own, 128 + N for a signal N, and
 * the shell that removes the file adds nothing to the output. */
static void
test_code_files_removed (void)
{
  static const struct {
    const char *code;
    int         status;
  } runs[] = {
    { "print('ok')", 0 },
    { "import sys; sys.exit(7)", 7 },
    { "raise SystemExit('failed')", 1 },
    { "import os, signal; os.kill(os.getpid(), signal.SIGKILL)", 137 },
    { "import os, signal; os.kill(os.getpid(), signal.SIGSEGV)", 139 },
  };
  g_autoptr(LlmsbxSandboxSession) session = NULL;
  g_autofree char *large = large_code (200 * 1024, "import sys; sys.exit(4)\n");

  session = test_open_session ("\"network_mode\": \"none\"", NULL);
  for (guint i = 0; i < G_N_ELEMENTS (runs); i++)
    {
      g_autoptr(LlmsbxExecutionResult) result = run_result (session, runs[i].code, 0);

      g_assert_cmpint (llmsbx_execution_result_get_exit_code (result), ==, runs[i].status);
      if (runs[i].status > 128)
        g_assert_cmpstr (llmsbx_execution_result_get_stderr (result), ==, "");
      assert_scratch_left (session);
    }

  {
    g_autoptr(LlmsbxExecutionResult) result = run_result (session, large, 0);

    g_assert_cmpint (llmsbx_execution_result_get_exit_code (result), ==, 4);
    assert_scratch_left (session);
  }
  test_close (session);
}

/* A run that times out is killed with its file's remover; the next run
 * removes what it left. */
static void
test_timed_out_run_leftover_removed (void)
{
  g_autoptr(LlmsbxSandboxSession) session = NULL;
  g_autoptr(LlmsbxExecutionResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *during = NULL;
  g_autofree char *ok = NULL;

  session = test_open_session ("\"network_mode\": \"none\"", NULL);
  result = llmsbx_sandbox_session_run (session, "import time; time.sleep(60)", NULL, 1.0, NULL, &error);
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_TIMEOUT);
  during = scratch_files (session);
  g_assert_true (g_str_has_prefix (during, "code-"));

  ok = test_run (session, "print('next')");
  g_assert_cmpstr (ok, ==, "next\n");
  assert_scratch_left (session);
  test_close (session);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
  backend_test_prepare ();
  test_run_id ();

  test_add_isolated ("/code-delivery/large-code-one-request", test_large_code_one_request);
  test_add_isolated ("/code-delivery/timeout-covers-whole-run", test_timeout_covers_whole_run);
  test_add_isolated ("/code-delivery/code-files-removed", test_code_files_removed);
  test_add_isolated ("/code-delivery/timed-out-run-leftover-removed", test_timed_out_run_leftover_removed);

  return g_test_run ();
}
