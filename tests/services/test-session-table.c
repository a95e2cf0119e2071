/* test-session-table.c: the services' session table, on a backend of its own, no daemon.
 *
 * The backend here keeps its "sandboxes" in a set and runs nothing: a command
 * succeeds at once, except one whose code says BLOCK, which waits until it
 * is cancelled or its deadline passes, as a real exec that the session then
 * kills. That is enough to see what the table owns: who may use a session,
 * when it expires, how many sandboxes exist at once, that runs wait for a
 * free one, and that nothing remains after a shutdown. */
#include <math.h>
#include <string.h>
#include <llmsbx.h>

#include "llmsbx-session-table.h"

/* Fake backend ------------------------------------------------------------- */

#define FAKE_TYPE_BACKEND (fake_backend_get_type ())
G_DECLARE_FINAL_TYPE (FakeBackend, fake_backend, FAKE, BACKEND, LlmsbxBackend)

struct _FakeBackend
{
  LlmsbxBackend parent_instance;

  GMutex      lock;
  GHashTable *alive;      /* sandbox ids */
  guint       created;
  guint       peak;       /* the most alive at once */
  guint       blocked;    /* execs waiting now */
  gboolean    hold_create;  /* creates wait until it is cleared */
  gboolean    creating;
};

G_DEFINE_FINAL_TYPE (FakeBackend, fake_backend, LLMSBX_TYPE_BACKEND)

static gboolean
fake_connect (LlmsbxBackend *backend, GCancellable *cancellable, GError **error)
{
  return TRUE;
}

static gboolean
fake_ensure_image (LlmsbxBackend *backend, const char *image, gboolean *pulled,
                   GCancellable *cancellable, GError **error)
{
  *pulled = FALSE;
  return TRUE;
}

static char *
fake_create_sandbox (LlmsbxBackend *backend, LlmsbxContainerSpec *spec,
                     GCancellable *cancellable, GError **error)
{
  FakeBackend *self = FAKE_BACKEND (backend);
  G_GNUC_UNUSED g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&self->lock);
  char *id = g_strdup_printf ("fake-%u", ++self->created);

  g_hash_table_add (self->alive, g_strdup (id));
  self->peak = MAX (self->peak, g_hash_table_size (self->alive));

  /* As an engine whose client gives up: the sandbox exists, its id is lost. */
  self->creating = TRUE;
  while (self->hold_create && !g_cancellable_is_cancelled (cancellable))
    {
      g_mutex_unlock (&self->lock);
      g_usleep (2000);
      g_mutex_lock (&self->lock);
    }
  self->creating = FALSE;
  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    {
      g_free (id);
      return NULL;
    }
  return id;
}

static gboolean
fake_remove_sandbox (LlmsbxBackend *backend, const char *sandbox_id,
                     GCancellable *cancellable, GError **error)
{
  FakeBackend *self = FAKE_BACKEND (backend);
  G_GNUC_UNUSED g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&self->lock);

  g_hash_table_remove (self->alive, sandbox_id);
  return TRUE;
}

static gboolean
has_code (const LlmsbxExecRequest *request,
          const char              *word)
{
  for (char **e = request->env; e != NULL && *e != NULL; e++)
    if (g_str_has_prefix (*e, "LLMSBX_CODE=") && strstr (*e, word) != NULL)
      return TRUE;
  return FALSE;
}

static gboolean
fake_exec (LlmsbxBackend *backend, const char *sandbox_id, LlmsbxExecRequest *request,
           LlmsbxOutputCollector *output, int *exit_status, GCancellable *cancellable, GError **error)
{
  FakeBackend *self = FAKE_BACKEND (backend);

  *exit_status = 0;
  if (has_code (request, "BLOCK"))
    {
      g_mutex_lock (&self->lock);
      self->blocked++;
      g_mutex_unlock (&self->lock);
      while (!g_cancellable_is_cancelled (cancellable) &&
             (request->deadline == 0 || g_get_monotonic_time () < request->deadline))
        g_usleep (2000);
      g_mutex_lock (&self->lock);
      self->blocked--;
      g_mutex_unlock (&self->lock);
      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return FALSE;
      g_set_error_literal (error, LLMSBX_ERROR, LLMSBX_ERROR_TIMEOUT, "fake deadline");
      return FALSE;
    }
  if (has_code (request, "print(42)"))
    llmsbx_output_collector_append (output, LLMSBX_OUTPUT_STREAM_STDOUT, (const guint8 *) "42\n", 3);
  return TRUE;
}

static gboolean
fake_put_archive (LlmsbxBackend *backend, const char *sandbox_id, const char *dest_dir, GBytes *archive,
                  GCancellable *cancellable, GError **error)
{
  return TRUE;
}

static void
fake_backend_finalize (GObject *object)
{
  FakeBackend *self = FAKE_BACKEND (object);

  g_hash_table_unref (self->alive);
  g_mutex_clear (&self->lock);
  G_OBJECT_CLASS (fake_backend_parent_class)->finalize (object);
}

static void
fake_backend_class_init (FakeBackendClass *klass)
{
  LlmsbxBackendClass *backend_class = LLMSBX_BACKEND_CLASS (klass);

  G_OBJECT_CLASS (klass)->finalize = fake_backend_finalize;
  backend_class->connect = fake_connect;
  backend_class->ensure_image = fake_ensure_image;
  backend_class->create_sandbox = fake_create_sandbox;
  backend_class->remove_sandbox = fake_remove_sandbox;
  backend_class->exec = fake_exec;
  backend_class->put_archive = fake_put_archive;
}

static void
fake_backend_init (FakeBackend *self)
{
  g_mutex_init (&self->lock);
  self->alive = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
}

static guint
fake_alive (FakeBackend *self)
{
  G_GNUC_UNUSED g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&self->lock);

  return g_hash_table_size (self->alive);
}

static gboolean
fake_creating (FakeBackend *self)
{
  G_GNUC_UNUSED g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&self->lock);

  return self->creating;
}

static void
fake_hold_create (FakeBackend *self,
                  gboolean     hold)
{
  G_GNUC_UNUSED g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&self->lock);

  self->hold_create = hold;
}

static guint
fake_blocked (FakeBackend *self)
{
  G_GNUC_UNUSED g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&self->lock);

  return self->blocked;
}

/* Fixture ------------------------------------------------------------------ */

typedef struct {
  FakeBackend        *backend;
  LlmsbxSessionTable *table;
  GMainContext       *context;
} Fixture;

static void
fixture_set_up (Fixture       *fixture,
                gconstpointer  data)
{
  fixture->backend = g_object_new (FAKE_TYPE_BACKEND, "name", "fake", NULL);
  fixture->table = llmsbx_session_table_new ();
  /* The presets know real engines only; their application is tested apart. */
  g_object_set (fixture->table, "client", fixture->backend, "preset", "none", NULL);
  fixture->context = g_main_context_default ();
}

static void
wait_until_idle (Fixture *fixture)
{
  while (!llmsbx_session_table_get_idle (fixture->table))
    g_main_context_iteration (fixture->context, TRUE);
}

/* Async helpers: each runs the main loop until its result comes. */

static void
store_result (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  *(GAsyncResult **) user_data = g_object_ref (result);
}

static GAsyncResult *
await (Fixture       *fixture,
       GAsyncResult **slot)
{
  while (*slot == NULL)
    g_main_context_iteration (fixture->context, TRUE);
  return *slot;
}

/* Every test ends with a shutdown: no sandbox may remain, nor any reference. */
static void
fixture_tear_down (Fixture       *fixture,
                   gconstpointer  data)
{
  g_autoptr(GAsyncResult) result = NULL;

  llmsbx_session_table_shutdown_async (fixture->table, store_result, &result);
  g_assert_true (llmsbx_session_table_shutdown_finish (fixture->table, await (fixture, &result), NULL));
  g_clear_object (&result);
  g_assert_cmpuint (fake_alive (fixture->backend), ==, 0);
  g_assert_finalize_object (fixture->table);
  /* Worker threads drop their last references to sessions (which hold the
   * backend) just after their tasks return. */
  for (guint i = 0; i < 5000 && g_atomic_int_get ((int *) &G_OBJECT (fixture->backend)->ref_count) > 1; i++)
    g_usleep (1000);
  g_assert_finalize_object (fixture->backend);
}

static guint
open_session (Fixture    *fixture,
              const char *owner,
              GError    **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  llmsbx_session_table_open_async (fixture->table, owner, "python", NULL, store_result, &result);
  return llmsbx_session_table_open_finish (fixture->table, await (fixture, &result), error);
}

static LlmsbxExecutionResult *
run_in (Fixture      *fixture,
        guint         id,
        const char   *owner,
        const char   *code,
        GCancellable *cancellable,
        GError      **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  llmsbx_session_table_run_async (fixture->table, id, owner, code, NULL, 5, cancellable, store_result, &result);
  return llmsbx_session_table_run_finish (fixture->table, await (fixture, &result), error);
}

/* Tests -------------------------------------------------------------------- */

static void
test_run_once (Fixture       *fixture,
               gconstpointer  data)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(LlmsbxExecutionResult) ran = NULL;
  g_autoptr(GError) error = NULL;

  llmsbx_session_table_run_once_async (fixture->table, "python", "print(42)", NULL, 5, NULL, store_result, &result);
  g_assert_false (llmsbx_session_table_get_idle (fixture->table));
  ran = llmsbx_session_table_run_once_finish (fixture->table, await (fixture, &result), &error);
  g_assert_no_error (error);
  g_assert_cmpstr (llmsbx_execution_result_get_stdout (ran), ==, "42\n");
  wait_until_idle (fixture);
  g_assert_cmpuint (fake_alive (fixture->backend), ==, 0);
}

static void
test_unknown_language (Fixture       *fixture,
                       gconstpointer  data)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  llmsbx_session_table_run_once_async (fixture->table, "cobol", "x", NULL, 5, NULL, store_result, &result);
  g_assert_null (llmsbx_session_table_run_once_finish (fixture->table, await (fixture, &result), &error));
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_LANGUAGE_NOT_SUPPORTED);
  g_assert_cmpuint (fixture->backend->created, ==, 0);
}

/* interactive-sessions asks for interactive kept sessions where they can
 * work: this backend has no attached execs (as bubblewrap), so its kept
 * sessions keep files only, and run as plain sessions do. */
static void
test_interactive_needs_attached_execs (Fixture       *fixture,
                                       gconstpointer  data)
{
  g_autoptr(LlmsbxExecutionResult) ran = NULL;
  g_autoptr(GError) error = NULL;
  LlmsbxSandboxSession *session;
  guint id;

  g_object_set (fixture->table, "interactive-sessions", TRUE, NULL);
  id = open_session (fixture, "alice", &error);
  g_assert_no_error (error);
  session = llmsbx_session_table_lookup (fixture->table, id, "alice", &error);
  g_assert_no_error (error);
  g_assert_true (G_OBJECT_TYPE (session) == LLMSBX_TYPE_SANDBOX_SESSION);
  ran = run_in (fixture, id, "alice", "print(42)", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (llmsbx_execution_result_get_stdout (ran), ==, "42\n");
}

static void
test_ownership (Fixture       *fixture,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(LlmsbxExecutionResult) ran = NULL;
  g_autoptr(GArray) mine = NULL;
  g_autoptr(GArray) theirs = NULL;
  guint id;

  id = open_session (fixture, "alice", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (id, >, 0);

  g_assert_nonnull (llmsbx_session_table_lookup (fixture->table, id, "alice", &error));
  g_assert_null (llmsbx_session_table_lookup (fixture->table, id, "bob", &error));
  g_assert_error (error, LLMSBX_SERVICE_ERROR, LLMSBX_SERVICE_ERROR_ACCESS_DENIED);
  g_clear_error (&error);
  g_assert_null (llmsbx_session_table_lookup (fixture->table, id + 1, "alice", &error));
  g_assert_error (error, LLMSBX_SERVICE_ERROR, LLMSBX_SERVICE_ERROR_NO_SUCH_SESSION);
  g_clear_error (&error);

  ran = run_in (fixture, id, "bob", "print(42)", NULL, &error);
  g_assert_null (ran);
  g_assert_error (error, LLMSBX_SERVICE_ERROR, LLMSBX_SERVICE_ERROR_ACCESS_DENIED);
  g_clear_error (&error);
  ran = run_in (fixture, id, "alice", "print(42)", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (llmsbx_execution_result_get_stdout (ran), ==, "42\n");

  mine = llmsbx_session_table_list (fixture->table, "alice");
  theirs = llmsbx_session_table_list (fixture->table, "bob");
  g_assert_cmpuint (mine->len, ==, 1);
  g_assert_cmpuint (g_array_index (mine, guint, 0), ==, id);
  g_assert_cmpuint (theirs->len, ==, 0);
}

static void
on_closed (LlmsbxSessionTable *table,
           guint               id,
           const char         *owner,
           gpointer            user_data)
{
  g_ptr_array_add (user_data, g_strdup_printf ("%u %s", id, owner));
}

static void
test_close_owner (Fixture       *fixture,
                  gconstpointer  data)
{
  g_autoptr(GPtrArray) closed = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GError) error = NULL;
  g_autofree char *expected = NULL;
  guint a1, a2, b;

  g_signal_connect (fixture->table, "session-closed", G_CALLBACK (on_closed), closed);
  a1 = open_session (fixture, "alice", &error);
  a2 = open_session (fixture, "alice", &error);
  b = open_session (fixture, "bob", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (fake_alive (fixture->backend), ==, 3);

  g_assert_cmpuint (llmsbx_session_table_close_owner (fixture->table, "alice"), ==, 2);
  g_assert_cmpuint (closed->len, ==, 2);
  g_assert_null (llmsbx_session_table_lookup (fixture->table, a1, "alice", NULL));
  g_assert_null (llmsbx_session_table_lookup (fixture->table, a2, "alice", NULL));
  g_assert_nonnull (llmsbx_session_table_lookup (fixture->table, b, "bob", NULL));
  while (fake_alive (fixture->backend) > 1)
    g_main_context_iteration (fixture->context, TRUE);
  expected = g_strdup_printf ("%u bob", b);
  g_assert_false (g_ptr_array_find_with_equal_func (closed, expected, g_str_equal, NULL));
  g_signal_handlers_disconnect_by_data (fixture->table, closed);
}

/* Leaving kills what runs: a run of the owner's that never ends on its own. */
static void
test_close_owner_kills_run (Fixture       *fixture,
                            gconstpointer  data)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  guint id = open_session (fixture, "alice", &error);

  g_assert_no_error (error);
  llmsbx_session_table_run_async (fixture->table, id, "alice", "BLOCK", NULL, 3600, NULL, store_result, &result);
  while (fake_blocked (fixture->backend) == 0)
    g_main_context_iteration (fixture->context, FALSE);
  llmsbx_session_table_close_owner (fixture->table, "alice");
  g_assert_null (llmsbx_session_table_run_finish (fixture->table, await (fixture, &result), &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  wait_until_idle (fixture);
  g_assert_cmpuint (fake_alive (fixture->backend), ==, 0);
}

static void
test_cancel_run_keeps_session (Fixture       *fixture,
                               gconstpointer  data)
{
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(LlmsbxExecutionResult) ran = NULL;
  g_autoptr(GError) error = NULL;
  guint id = open_session (fixture, "alice", &error);

  g_assert_no_error (error);
  llmsbx_session_table_run_async (fixture->table, id, "alice", "BLOCK", NULL, 3600, cancellable,
                                  store_result, &result);
  while (fake_blocked (fixture->backend) == 0)
    g_main_context_iteration (fixture->context, FALSE);
  g_cancellable_cancel (cancellable);
  g_assert_null (llmsbx_session_table_run_finish (fixture->table, await (fixture, &result), &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&error);

  ran = run_in (fixture, id, "alice", "print(42)", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (llmsbx_execution_result_get_stdout (ran), ==, "42\n");
}

static void
test_idle_expiry (Fixture       *fixture,
                  gconstpointer  data)
{
  g_autoptr(GPtrArray) closed = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  guint id;

  g_object_set (fixture->table, "idle-timeout", 0.05, NULL);
  g_signal_connect (fixture->table, "session-closed", G_CALLBACK (on_closed), closed);
  id = open_session (fixture, "alice", &error);
  g_assert_no_error (error);

  /* A session in use does not expire, however long the use. */
  llmsbx_session_table_run_async (fixture->table, id, "alice", "BLOCK", NULL, 0.3, NULL, store_result, &result);
  g_assert_null (llmsbx_session_table_run_finish (fixture->table, await (fixture, &result), &error));
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_TIMEOUT);
  g_clear_error (&error);
  g_assert_cmpuint (closed->len, ==, 0);

  /* Unused, it does. */
  while (closed->len == 0)
    g_main_context_iteration (fixture->context, TRUE);
  g_assert_null (llmsbx_session_table_lookup (fixture->table, id, "alice", &error));
  g_assert_error (error, LLMSBX_SERVICE_ERROR, LLMSBX_SERVICE_ERROR_NO_SUCH_SESSION);
  wait_until_idle (fixture);
  g_assert_cmpuint (fake_alive (fixture->backend), ==, 0);
  g_signal_handlers_disconnect_by_data (fixture->table, closed);
}

static void
test_limits (Fixture       *fixture,
             gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  guint first, second;

  g_object_set (fixture->table, "max-sandboxes", 3, "max-sessions-per-owner", 2, NULL);
  first = open_session (fixture, "alice", &error);
  second = open_session (fixture, "alice", &error);
  g_assert_no_error (error);

  g_assert_cmpuint (open_session (fixture, "alice", &error), ==, 0);
  g_assert_error (error, LLMSBX_SERVICE_ERROR, LLMSBX_SERVICE_ERROR_LIMIT_REACHED);
  g_clear_error (&error);

  g_assert_cmpuint (open_session (fixture, "bob", &error), >, 0);
  g_assert_no_error (error);
  g_assert_cmpuint (open_session (fixture, "carol", &error), ==, 0);
  g_assert_error (error, LLMSBX_SERVICE_ERROR, LLMSBX_SERVICE_ERROR_LIMIT_REACHED);
  g_clear_error (&error);
  g_assert_cmpuint (fixture->backend->peak, ==, 3);
  (void) first;
  (void) second;
}

/* One-off runs past the limit wait for a sandbox, in order; a cancelled
 * waiter leaves without one. */
static void
test_runs_wait_for_a_sandbox (Fixture       *fixture,
                              gconstpointer  data)
{
  g_autoptr(GCancellable) cancel_second = g_cancellable_new ();
  g_autoptr(GCancellable) cancel_first = g_cancellable_new ();
  GAsyncResult *results[3] = { NULL, NULL, NULL };
  g_autoptr(GError) error = NULL;

  g_object_set (fixture->table, "max-sandboxes", 1, NULL);
  llmsbx_session_table_run_once_async (fixture->table, NULL, "BLOCK", NULL, 3600, cancel_first,
                                       store_result, &results[0]);
  llmsbx_session_table_run_once_async (fixture->table, NULL, "print(42)", NULL, 5, cancel_second,
                                       store_result, &results[1]);
  llmsbx_session_table_run_once_async (fixture->table, NULL, "print(42)", NULL, 5, NULL,
                                       store_result, &results[2]);
  while (fake_blocked (fixture->backend) == 0)
    g_main_context_iteration (fixture->context, FALSE);

  /* The second leaves the queue; the third waits on. */
  g_cancellable_cancel (cancel_second);
  g_assert_null (llmsbx_session_table_run_once_finish (fixture->table, await (fixture, &results[1]), &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&error);
  g_assert_null (results[2]);
  g_assert_cmpuint (fixture->backend->created, ==, 1);

  g_cancellable_cancel (cancel_first);
  g_assert_null (llmsbx_session_table_run_once_finish (fixture->table, await (fixture, &results[0]), &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&error);
  {
    g_autoptr(LlmsbxExecutionResult) ran =
      llmsbx_session_table_run_once_finish (fixture->table, await (fixture, &results[2]), &error);

    g_assert_no_error (error);
    g_assert_cmpstr (llmsbx_execution_result_get_stdout (ran), ==, "42\n");
  }
  g_assert_cmpuint (fixture->backend->peak, ==, 1);
  g_assert_cmpuint (fixture->backend->created, ==, 2);
  for (guint i = 0; i < G_N_ELEMENTS (results); i++)
    g_object_unref (results[i]);
}

/* A run cancelled while its sandbox is being created: the open is let run
 * to its end (the engine may create the sandbox however the request ends),
 * then the sandbox is removed. */
static void
test_cancel_during_open (Fixture       *fixture,
                         gconstpointer  data)
{
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  fake_hold_create (fixture->backend, TRUE);
  llmsbx_session_table_run_once_async (fixture->table, NULL, "print(42)", NULL, 5, cancellable,
                                       store_result, &result);
  while (!fake_creating (fixture->backend))
    g_main_context_iteration (fixture->context, FALSE);
  g_cancellable_cancel (cancellable);
  for (guint i = 0; i < 20; i++)
    g_main_context_iteration (fixture->context, FALSE);
  fake_hold_create (fixture->backend, FALSE);

  g_assert_null (llmsbx_session_table_run_once_finish (fixture->table, await (fixture, &result), &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  wait_until_idle (fixture);
  g_assert_cmpuint (fixture->backend->created, ==, 1);
  g_assert_cmpuint (fake_alive (fixture->backend), ==, 0);
}

static void
test_shutdown (Fixture       *fixture,
               gconstpointer  data)
{
  g_autoptr(GAsyncResult) running = NULL;
  g_autoptr(GAsyncResult) shutdown = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_cmpuint (open_session (fixture, "alice", &error), >, 0);
  g_assert_no_error (error);
  llmsbx_session_table_run_once_async (fixture->table, NULL, "BLOCK", NULL, 3600, NULL, store_result, &running);
  while (fake_blocked (fixture->backend) == 0)
    g_main_context_iteration (fixture->context, FALSE);

  llmsbx_session_table_shutdown_async (fixture->table, store_result, &shutdown);
  g_assert_true (llmsbx_session_table_shutdown_finish (fixture->table, await (fixture, &shutdown), NULL));
  g_assert_nonnull (running);
  g_assert_null (llmsbx_session_table_run_once_finish (fixture->table, running, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&error);
  g_assert_cmpuint (fake_alive (fixture->backend), ==, 0);

  /* Nothing new starts. */
  g_assert_cmpuint (open_session (fixture, "alice", &error), ==, 0);
  g_assert_error (error, LLMSBX_SERVICE_ERROR, LLMSBX_SERVICE_ERROR_SHUTTING_DOWN);
}

/* Without a daemon, sessions are configured but not opened. */
/* A backend named, so that no engine is probed for the default. */
static LlmsbxSessionTable *
docker_table (void)
{
  return g_object_new (LLMSBX_TYPE_SESSION_TABLE, "backend", "docker", NULL);
}

static void
test_safe_defaults (void)
{
  g_autoptr(LlmsbxSessionTable) table = docker_table ();
  g_autoptr(LlmsbxSandboxSession) session = NULL;
  g_autoptr(GVariant) configs = NULL;
  g_autoptr(GError) error = NULL;
  gboolean commit = TRUE, keep = TRUE, ok;
  guint64 output_limit = 0;
  const char *network = NULL;

  ok = llmsbx_session_table_check_config (table, &error);
  g_assert_no_error (error);
  g_assert_true (ok);
  g_assert_cmpstr (llmsbx_session_table_get_preset (table), ==, "production");

  g_assert_true (llmsbx_session_table_set_runtime_configs_json (table, "{\"labels\": {\"team\": \"x\"}, \"mem_limit\": \"64m\"}",
                                                                &error));
  session = llmsbx_session_table_new_session (table, "Python", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (llmsbx_sandbox_session_get_lang (session), ==, "python");
  g_object_get (session, "commit-container", &commit, "keep-template", &keep, "output-limit", &output_limit, NULL);
  g_assert_false (commit);
  g_assert_false (keep);
  g_assert_cmpuint (output_limit, ==, 1024 * 1024);
  g_assert_nonnull (llmsbx_sandbox_session_get_security_policy (session));

  configs = g_variant_ref (llmsbx_sandbox_session_get_runtime_configs (session));
  g_assert_true (g_variant_lookup (configs, "network_mode", "&s", &network));
  g_assert_cmpstr (network, ==, "none");
  /* The preset's settings, under the operator's. */
  {
    const char *memory = NULL;
    g_autoptr(GVariant) read_only = g_variant_lookup_value (configs, "read_only", G_VARIANT_TYPE_BOOLEAN);
    g_autoptr(GVariant) labels = g_variant_lookup_value (configs, "labels", NULL);

    g_assert_true (g_variant_lookup (configs, "mem_limit", "&s", &memory));
    g_assert_cmpstr (memory, ==, "64m");
    g_assert_nonnull (read_only);
    g_assert_true (g_variant_get_boolean (read_only));
    g_assert_nonnull (labels);
  }
}

static void
test_network_stays_off (void)
{
  g_autoptr(LlmsbxSessionTable) table = docker_table ();
  g_autoptr(LlmsbxSandboxSession) session = NULL;
  g_autoptr(GError) error = NULL;
  const char *network = NULL;

  /* development has the network; the table takes it away. */
  g_object_set (table, "preset", "development", NULL);
  session = llmsbx_session_table_new_session (table, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (g_variant_lookup (llmsbx_sandbox_session_get_runtime_configs (session), "network_mode", "&s", &network));
  g_assert_cmpstr (network, ==, "none");
  g_clear_object (&session);

  g_object_set (table, "allow-network", TRUE, NULL);
  session = llmsbx_session_table_new_session (table, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (g_variant_lookup (llmsbx_sandbox_session_get_runtime_configs (session), "network_mode", "&s", &network));
  g_assert_cmpstr (network, ==, "bridge");

  /* An operator's network_mode without the network allowed is a mistake. */
  g_object_set (table, "allow-network", FALSE, NULL);
  g_assert_true (llmsbx_session_table_set_runtime_configs_json (table, "{\"network_mode\": \"host\"}", &error));
  g_assert_false (llmsbx_session_table_check_config (table, &error));
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT);
}

static void
test_config_errors (void)
{
  g_autoptr(LlmsbxSessionTable) table = docker_table ();
  g_autoptr(GError) error = NULL;
  double resolved = 0;

  g_object_set (table, "preset", "lenient", NULL);
  g_assert_false (llmsbx_session_table_check_config (table, &error));
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  g_object_set (table, "preset", "none", "backend", "kubernetes", NULL);
  g_assert_false (llmsbx_session_table_check_config (table, &error));
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  g_object_set (table, "max-timeout", 10.0, NULL);
  g_assert_true (llmsbx_session_table_resolve_timeout (table, 0, &resolved, &error));
  g_assert_cmpfloat (resolved, ==, LLMSBX_DEFAULT_TIMEOUT);
  g_assert_true (llmsbx_session_table_resolve_timeout (table, 2.5, &resolved, &error));
  g_assert_cmpfloat (resolved, ==, 2.5);
  g_assert_false (llmsbx_session_table_resolve_timeout (table, 11, &resolved, &error));
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (llmsbx_session_table_resolve_timeout (table, -1, &resolved, &error));
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (llmsbx_session_table_resolve_timeout (table, NAN, &resolved, &error));
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

#define FIXTURE_TEST(path, func) \
  g_test_add (path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)

  FIXTURE_TEST ("/session-table/run-once", test_run_once);
  FIXTURE_TEST ("/session-table/unknown-language", test_unknown_language);
  FIXTURE_TEST ("/session-table/ownership", test_ownership);
  FIXTURE_TEST ("/session-table/interactive-needs-attached-execs", test_interactive_needs_attached_execs);
  FIXTURE_TEST ("/session-table/close-owner", test_close_owner);
  FIXTURE_TEST ("/session-table/close-owner-kills-run", test_close_owner_kills_run);
  FIXTURE_TEST ("/session-table/cancel-run-keeps-session", test_cancel_run_keeps_session);
  FIXTURE_TEST ("/session-table/idle-expiry", test_idle_expiry);
  FIXTURE_TEST ("/session-table/limits", test_limits);
  FIXTURE_TEST ("/session-table/runs-wait-for-a-sandbox", test_runs_wait_for_a_sandbox);
  FIXTURE_TEST ("/session-table/cancel-during-open", test_cancel_during_open);
  FIXTURE_TEST ("/session-table/shutdown", test_shutdown);
  g_test_add_func ("/session-table/safe-defaults", test_safe_defaults);
  g_test_add_func ("/session-table/network-stays-off", test_network_stays_off);
  g_test_add_func ("/session-table/config-errors", test_config_errors);

  return g_test_run ();
}
