/* test-session-async.c: the session's _async forms on the fake backend of
 * tests/lib: every blocking call has one, each returns what its synchronous
 * form returns (errors included), live output arrives in the caller's main
 * context, a property set while a call runs waits for it and is_safe() does
 * not. Code runs as host processes (Python from the host), so it is only
 * ever harmless code. */
#include <string.h>

#include <glib/gstdio.h>
#include <llmsbx.h>

#include "llmsbx-fake-backend.h"

#define IMAGE "llmsbx/python:bookworm"

static LlmsbxSandboxSession *
new_session (void)
{
  return g_object_new (LLMSBX_TYPE_SANDBOX_SESSION, "lang", "python", "backend", "fake",
                       "skip-environment-setup", TRUE, NULL);
}

static void
on_done (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  GAsyncResult **slot = user_data;

  *slot = g_object_ref (result);
}

/* Iterates the thread-default main context until the call in @slot is done. */
static GAsyncResult *
wait_for (GAsyncResult **slot)
{
  while (*slot == NULL)
    g_main_context_iteration (NULL, TRUE);
  return *slot;
}

typedef struct {
  GString *seen;
  GThread *main_thread;
  gboolean other_thread;
} Live;

static void
on_output (LlmsbxSandboxSession *session,
           LlmsbxOutputStream    stream,
           GBytes               *chunk,
           gpointer              user_data)
{
  Live *live = user_data;
  gsize size;
  const char *data = g_bytes_get_data (chunk, &size);

  if (g_thread_self () != live->main_thread)
    live->other_thread = TRUE;
  g_string_append (live->seen, stream == LLMSBX_OUTPUT_STREAM_STDOUT ? "out:" : "err:");
  g_string_append_len (live->seen, data, size);
}

static void
test_every_call (void)
{
  g_autoptr(LlmsbxSandboxSession) session = new_session ();
  g_autoptr(GError) error = NULL;
  g_autoptr(LlmsbxExecutionResult) result = NULL;
  g_autofree char *dir = g_dir_make_tmp ("llmsbx-async-XXXXXX", &error);
  g_autofree char *source = g_build_filename (dir, "in.txt", NULL);
  g_autofree char *back = g_build_filename (dir, "back.txt", NULL);
  g_autofree char *contents = NULL;
  Live live = { g_string_new (NULL), g_thread_self (), FALSE };
  GAsyncResult *done = NULL;
  const char *argv[] = { "sh", "-c", "exit 4", NULL };
  const char *libraries[] = { "requests", NULL };

  g_assert_no_error (error);
  g_assert_true (g_file_set_contents (source, "from the host\n", -1, &error));
  g_signal_connect (session, "output", G_CALLBACK (on_output), &live);

  llmsbx_sandbox_session_open_async (session, NULL, on_done, &done);
  g_assert_true (llmsbx_sandbox_session_open_finish (session, wait_for (&done), &error));
  g_assert_no_error (error);
  g_clear_object (&done);

  /* Commands, with their live output in this thread. */
  llmsbx_sandbox_session_execute_command_async (session, "echo hi; echo there >&2", NULL, NULL, on_done, &done);
  result = llmsbx_sandbox_session_execute_command_finish (session, wait_for (&done), &error);
  g_assert_no_error (error);
  g_assert_cmpstr (llmsbx_execution_result_get_stdout (result), ==, "hi\n");
  g_assert_cmpstr (llmsbx_execution_result_get_stderr (result), ==, "there\n");
  g_clear_object (&result);
  g_clear_object (&done);
  /* Live output is queued in this context before the call returns. */
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_assert_true (strstr (live.seen->str, "out:hi\n") != NULL);
  g_assert_true (strstr (live.seen->str, "err:there\n") != NULL);
  g_assert_false (live.other_thread);

  llmsbx_sandbox_session_execute_argv_async (session, argv, "/", NULL, on_done, &done);
  result = llmsbx_sandbox_session_execute_argv_finish (session, wait_for (&done), &error);
  g_assert_no_error (error);
  g_assert_cmpint (llmsbx_execution_result_get_exit_code (result), ==, 4);
  g_clear_object (&result);
  g_clear_object (&done);

  /* Errors come back as from the blocking forms. */
  llmsbx_sandbox_session_execute_command_async (session, "", NULL, NULL, on_done, &done);
  g_assert_null (llmsbx_sandbox_session_execute_command_finish (session, wait_for (&done), &error));
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_COMMAND_EMPTY);
  g_clear_error (&error);
  g_clear_object (&done);

  llmsbx_sandbox_session_install_async (session, libraries, NULL, on_done, &done);
  g_assert_false (llmsbx_sandbox_session_install_finish (session, wait_for (&done), &error));
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_LIBRARY_INSTALLATION_NOT_SUPPORTED);
  g_clear_error (&error);
  g_clear_object (&done);

  /* Copies, there and back. */
  llmsbx_sandbox_session_copy_to_runtime_async (session, source, "data/in.txt", NULL, on_done, &done);
  g_assert_true (llmsbx_sandbox_session_copy_to_runtime_finish (session, wait_for (&done), &error));
  g_assert_no_error (error);
  g_clear_object (&done);

  llmsbx_sandbox_session_copy_from_runtime_async (session, "data/in.txt", back, NULL, on_done, &done);
  g_assert_true (llmsbx_sandbox_session_copy_from_runtime_finish (session, wait_for (&done), &error));
  g_assert_no_error (error);
  g_clear_object (&done);
  g_assert_true (g_file_get_contents (back, &contents, NULL, &error));
  g_assert_cmpstr (contents, ==, "from the host\n");

  llmsbx_sandbox_session_copy_from_runtime_async (session, "no-such-file", back, NULL, on_done, &done);
  g_assert_false (llmsbx_sandbox_session_copy_from_runtime_finish (session, wait_for (&done), &error));
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_FILE_NOT_FOUND);
  g_clear_error (&error);
  g_clear_object (&done);

  llmsbx_sandbox_session_run_async (session, "print(6 * 7)\n", NULL, 0, NULL, on_done, &done);
  result = llmsbx_sandbox_session_run_finish (session, wait_for (&done), &error);
  g_assert_no_error (error);
  g_assert_cmpstr (llmsbx_execution_result_get_stdout (result), ==, "42\n");
  g_clear_object (&result);
  g_clear_object (&done);

  llmsbx_sandbox_session_close_async (session, NULL, on_done, &done);
  g_assert_true (llmsbx_sandbox_session_close_finish (session, wait_for (&done), &error));
  g_assert_no_error (error);
  g_clear_object (&done);

  /* A closed session refuses, asynchronously too. */
  llmsbx_sandbox_session_copy_to_runtime_async (session, source, "in.txt", NULL, on_done, &done);
  g_assert_false (llmsbx_sandbox_session_copy_to_runtime_finish (session, wait_for (&done), &error));
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_NOT_OPEN);
  g_clear_error (&error);
  g_clear_object (&done);

  g_string_free (live.seen, TRUE);
  g_remove (source);
  g_remove (back);
  g_rmdir (dir);
}

typedef struct {
  LlmsbxSandboxSession *session;
  gint                  done;
} Setter;

static gpointer
set_timeout_thread (gpointer data)
{
  Setter *setter = data;

  g_object_set (setter->session, "default-timeout", 12.0, NULL);
  g_atomic_int_set (&setter->done, 1);
  return NULL;
}

/* The path of @name in the session's workdir, on the host. */
static char *
sandbox_file (LlmsbxSandboxSession *session,
              const char           *name)
{
  g_autofree char *root = llmsbx_fake_backend_get_root (llmsbx_sandbox_session_get_container_id (session));

  return g_build_filename (root, "sandbox", name, NULL);
}

/* A property set from another thread while a run holds the session waits
 * for the run to end, so the run reads one configuration throughout;
 * is_safe() answers meanwhile. */
static void
test_setter_waits_for_run (void)
{
  g_autoptr(LlmsbxSandboxSession) session = new_session ();
  g_autoptr(LlmsbxExecutionResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *started = NULL;
  g_autofree char *release = NULL;
  GAsyncResult *done = NULL;
  Setter setter = { session, 0 };
  GThread *thread;
  double timeout = 0;
  g_autoptr(LlmsbxSecurityPolicy) policy = llmsbx_security_policy_new (LLMSBX_SECURITY_ISSUE_SEVERITY_HIGH);

  llmsbx_sandbox_session_set_security_policy (session, policy);
  g_assert_true (llmsbx_sandbox_session_open (session, NULL, &error));
  g_assert_no_error (error);
  started = sandbox_file (session, "started");
  release = sandbox_file (session, "release");

  llmsbx_sandbox_session_run_async (session,
                                    "import os, time\n"
                                    "open('started', 'w').close()\n"
                                    "while not os.path.exists('release'):\n"
                                    "    time.sleep(0.01)\n"
                                    "print('released')\n",
                                    NULL, 0, NULL, on_done, &done);
  while (!g_file_test (started, G_FILE_TEST_EXISTS))
    {
      g_assert_null (done);
      g_main_context_iteration (NULL, FALSE);
      g_usleep (10 * 1000);
    }

  /* The run holds the session now: the setter cannot finish before it. The
   * pause only gives a setter that did not wait the chance to show it. */
  thread = g_thread_new ("setter", set_timeout_thread, &setter);
  g_usleep (200 * 1000);
  g_assert_cmpint (g_atomic_int_get (&setter.done), ==, 0);

  /* Asking the policy reads the configuration without waiting for the run
   * (it would hang here if it did). */
  g_assert_true (llmsbx_sandbox_session_is_safe (session, "print(1)\n", NULL, &error));
  g_assert_no_error (error);

  g_assert_true (g_file_set_contents (release, "", 0, &error));
  result = llmsbx_sandbox_session_run_finish (session, wait_for (&done), &error);
  g_assert_no_error (error);
  g_assert_cmpstr (llmsbx_execution_result_get_stdout (result), ==, "released\n");
  g_thread_join (thread);
  g_assert_cmpint (g_atomic_int_get (&setter.done), ==, 1);
  g_object_get (session, "default-timeout", &timeout, NULL);
  g_assert_cmpfloat (timeout, ==, 12.0);

  g_clear_object (&done);
  g_assert_true (llmsbx_sandbox_session_close (session, NULL, &error));
  g_assert_no_error (error);
}

int
main (int argc, char **argv)
{
  g_autoptr(GError) error = NULL;

  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_unsetenv ("LLMSBX_BACKEND");
  llmsbx_fake_backend_register (llmsbx_registry_get_default (), "fake", LLMSBX_RANK_NONE, &error);
  g_assert_no_error (error);
  llmsbx_fake_backend_add_image (IMAGE);

  g_test_add_func ("/session-async/every-call", test_every_call);
  g_test_add_func ("/session-async/setter-waits-for-run", test_setter_waits_for_run);

  return g_test_run ();
}
