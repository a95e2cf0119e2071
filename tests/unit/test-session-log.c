/* test-session-log.c: the session's log on the fake backend: every line is a
 * structured record of the Llmsbx domain carrying the session's id, and the
 * "log" signal delivers the same lines, at message level when verbose, in
 * the caller's thread for synchronous calls and in the caller's main context
 * for _async ones; secrets of the runtime configs appear in neither. */
#include <string.h>

#include <llmsbx.h>

#include "llmsbx-fake-backend.h"

#define IMAGE "llmsbx/python:bookworm"
#define SECRET "llmsbx-test-secret-value-3141"

/* What the writer saw: the records of the Llmsbx domain, as "id|message". */
static GMutex records_lock;
static GPtrArray *records;
static GString *everything;  /* every field of every record, of any domain */

static GLogWriterOutput
record_writer (GLogLevelFlags   level,
               const GLogField *fields,
               gsize            n_fields,
               gpointer         user_data)
{
  const char *domain = NULL, *message = NULL, *id = NULL;

  g_mutex_lock (&records_lock);
  for (gsize i = 0; i < n_fields; i++)
    {
      if (fields[i].length < 0)
        g_string_append_printf (everything, "%s=%s\n", fields[i].key, (const char *) fields[i].value);
      if (g_str_equal (fields[i].key, "GLIB_DOMAIN"))
        domain = fields[i].value;
      else if (g_str_equal (fields[i].key, "MESSAGE"))
        message = fields[i].value;
      else if (g_str_equal (fields[i].key, "LLMSBX_SESSION_ID"))
        id = fields[i].value;
    }
  if (g_strcmp0 (domain, "Llmsbx") == 0 && id != NULL)
    g_ptr_array_add (records, g_strdup_printf ("%s|%s", id, message));
  g_mutex_unlock (&records_lock);
  return G_LOG_WRITER_HANDLED;
}

typedef struct {
  GPtrArray *lines;          /* "level|id|message" */
  GThread   *thread;
  gboolean   other_thread;
  GMainLoop *loop;
  GError    *error;
  LlmsbxExecutionResult *result;
} Seen;

static void
on_log (LlmsbxSandboxSession *session,
        guint                 level,
        const char           *session_id,
        const char           *message,
        Seen                 *seen)
{
  g_ptr_array_add (seen->lines, g_strdup_printf ("%u|%s|%s", level, session_id ? session_id : "(null)", message));
  if (g_thread_self () != seen->thread)
    {
      g_test_message ("in another thread: %s", message);
      seen->other_thread = TRUE;
    }
}

static LlmsbxSandboxSession *
new_session (gboolean verbose)
{
  g_autoptr(GVariant) configs = g_variant_ref_sink (g_variant_new_parsed (
    "{'environment': <{'API_KEY': <%s>}>}", SECRET));

  return g_object_new (LLMSBX_TYPE_SANDBOX_SESSION, "lang", "python", "backend", "fake",
                       "skip-environment-setup", TRUE, "verbose", verbose,
                       "runtime-configs", configs, NULL);
}

static const char *
session_label (LlmsbxSandboxSession *session)
{
  g_autoptr(LlmsbxBackend) backend = llmsbx_fake_backend_new ();
  g_autoptr(GPtrArray) found = NULL;
  g_autoptr(GError) error = NULL;
  static char id[64];

  found = llmsbx_backend_list_sandboxes (backend, (const char *[]) { "io.llmsbx.managed-by=libllmsbx", NULL },
                                         NULL, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < found->len; i++)
    if (g_str_equal (((LlmsbxSandboxInfo *) g_ptr_array_index (found, i))->id,
                     llmsbx_sandbox_session_get_container_id (session)))
      {
        g_strlcpy (id, llmsbx_sandbox_info_get_label (g_ptr_array_index (found, i), "io.llmsbx.session"), sizeof id);
        return id;
      }
  g_assert_not_reached ();
}

static gboolean
contains_line (GPtrArray  *lines,
               const char *needle)
{
  for (guint i = 0; i < lines->len; i++)
    if (strstr (g_ptr_array_index (lines, i), needle) != NULL)
      return TRUE;
  return FALSE;
}

static void
check_run_sync (gboolean verbose)
{
  g_autoptr(LlmsbxSandboxSession) session = new_session (verbose);
  g_autoptr(LlmsbxExecutionResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *expected = NULL;
  g_autofree char *record = NULL;
  Seen seen = { g_ptr_array_new_with_free_func (g_free), g_thread_self (), FALSE, NULL, NULL, NULL };
  guint level = verbose ? G_LOG_LEVEL_MESSAGE : G_LOG_LEVEL_DEBUG;
  const char *id;

  g_ptr_array_set_size (records, 0);
  g_signal_connect (session, "log", G_CALLBACK (on_log), &seen);
  g_assert_true (llmsbx_sandbox_session_open (session, NULL, &error));
  g_assert_no_error (error);
  id = session_label (session);

  /* The fake backend applies no runtime configs; tests/gi/test-logging.py
   * checks on Docker that the secret reached the code and not the log. */
  result = llmsbx_sandbox_session_run (session, "print(1)\n", NULL, 0, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (llmsbx_sandbox_session_close (session, NULL, &error));
  g_assert_no_error (error);

  /* Open, the commands, their exit status, close: each with the level and id. */
  expected = g_strdup_printf ("%u|%s|open: sandbox", level, id);
  g_assert_true (contains_line (seen.lines, expected));
  g_free (expected);
  expected = g_strdup_printf ("%u|%s|exit status 0", level, id);
  g_assert_true (contains_line (seen.lines, expected));
  g_free (expected);
  expected = g_strdup_printf ("%u|%s|closed", level, id);
  g_assert_true (contains_line (seen.lines, expected));
  g_assert_false (seen.other_thread);

  /* The structured records are the same lines, with the id in its field. */
  record = g_strdup_printf ("%s|[%s] exit status 0", id, id);
  g_mutex_lock (&records_lock);
  g_assert_true (contains_line (records, record));
  g_assert_null (strstr (everything->str, SECRET));
  g_mutex_unlock (&records_lock);
  for (guint i = 0; i < seen.lines->len; i++)
    g_assert_null (strstr (g_ptr_array_index (seen.lines, i), SECRET));

  g_ptr_array_unref (seen.lines);
}

static void
test_sync (void)
{
  check_run_sync (TRUE);
  check_run_sync (FALSE);
}

static void
on_opened (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  Seen *seen = user_data;

  llmsbx_sandbox_session_open_finish (LLMSBX_SANDBOX_SESSION (source), result, &seen->error);
  g_main_loop_quit (seen->loop);
}

static void
on_ran (GObject      *source,
        GAsyncResult *result,
        gpointer      user_data)
{
  Seen *seen = user_data;

  seen->result = llmsbx_sandbox_session_run_finish (LLMSBX_SANDBOX_SESSION (source), result, &seen->error);
  g_main_loop_quit (seen->loop);
}

static void
on_closed (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  Seen *seen = user_data;

  llmsbx_sandbox_session_close_finish (LLMSBX_SANDBOX_SESSION (source), result, &seen->error);
  g_main_loop_quit (seen->loop);
}

/* _async calls run in worker threads; their log reaches the caller's context. */
static void
test_async (void)
{
  g_autoptr(LlmsbxSandboxSession) session = new_session (TRUE);
  g_autoptr(GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  Seen seen = { g_ptr_array_new_with_free_func (g_free), g_thread_self (), FALSE, loop, NULL, NULL };

  g_signal_connect (session, "log", G_CALLBACK (on_log), &seen);
  llmsbx_sandbox_session_open_async (session, NULL, on_opened, &seen);
  g_main_loop_run (loop);
  g_assert_no_error (seen.error);
  llmsbx_sandbox_session_run_async (session, "print(1)", NULL, 0, NULL, on_ran, &seen);
  g_main_loop_run (loop);
  g_assert_no_error (seen.error);
  llmsbx_sandbox_session_close_async (session, NULL, on_closed, &seen);
  g_main_loop_run (loop);
  g_assert_no_error (seen.error);

  g_assert_true (contains_line (seen.lines, "|open: sandbox"));
  g_assert_true (contains_line (seen.lines, "|exit status 0"));
  g_assert_true (contains_line (seen.lines, "|closed"));
  g_assert_false (seen.other_thread);

  g_clear_object (&seen.result);
  g_ptr_array_unref (seen.lines);
}

int
main (int argc, char **argv)
{
  g_autoptr(GError) error = NULL;

  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  records = g_ptr_array_new_with_free_func (g_free);
  everything = g_string_new (NULL);
  g_log_set_writer_func (record_writer, NULL, NULL);

  g_unsetenv ("LLMSBX_BACKEND");
  llmsbx_fake_backend_register (llmsbx_registry_get_default (), "fake", LLMSBX_RANK_NONE, &error);
  g_assert_no_error (error);
  llmsbx_fake_backend_add_image (IMAGE);

  g_test_add_func ("/session-log/sync", test_sync);
  g_test_add_func ("/session-log/async", test_async);

  return g_test_run ();
}
