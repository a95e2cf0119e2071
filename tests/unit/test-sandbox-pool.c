/* test-sandbox-pool.c: the pool's orchestration on the fake backend of
 * tests/lib: pre-warming, reuse after a reset, max uses, lifetime and idle
 * timeout while idle, health checks, the exhaustion strategies, stats, and
 * close waiting for busy sandboxes and then killing them. The reset's view of
 * a whole sandbox (everything outside the workdir and /tmp) needs a real
 * sandbox: tests/backends/test-pool.c has it. */
#include <string.h>

#include <llmsbx.h>

#include "llmsbx-fake-backend.h"

#define IMAGE "llmsbx/python:bookworm"
/* Upper bound for what the pool does in the background; no test depends
 * on how fast it is. */
#define PATIENCE_US (60 * G_USEC_PER_SEC)

/* A pool of Python sandboxes of the fake backend's image, with the
 * (construct-only) properties given. */
static LlmsbxSandboxPool *
new_pool (const char *first_property,
          ...)
{
  LlmsbxSandboxPool *pool;
  va_list args;

  va_start (args, first_property);
  pool = (LlmsbxSandboxPool *) g_object_new_valist (LLMSBX_TYPE_SANDBOX_POOL, first_property, args);
  va_end (args);
  return pool;
}

#define POOL(...) new_pool ("lang", "python", "image", IMAGE, __VA_ARGS__, NULL)

static guint64
stat_of (LlmsbxSandboxPool *pool,
         const char        *key)
{
  g_autoptr(GVariant) stats = llmsbx_sandbox_pool_get_stats (pool);
  g_autoptr(GVariant) value = g_variant_lookup_value (stats, key, NULL);

  g_assert_nonnull (value);
  if (g_variant_is_of_type (value, G_VARIANT_TYPE_UINT32))
    return g_variant_get_uint32 (value);
  return g_variant_get_uint64 (value);
}

/* Waits until stat @key of @pool is at least @value. */
static void
wait_for_stat (LlmsbxSandboxPool *pool,
               const char        *key,
               guint64            value)
{
  gint64 give_up = g_get_monotonic_time () + PATIENCE_US;

  while (stat_of (pool, key) < value)
    {
      if (g_get_monotonic_time () > give_up)
        g_error ("the pool's %s never reached %" G_GUINT64_FORMAT, key, value);
      g_usleep (10 * 1000);
    }
}

static LlmsbxSandboxSession *
acquire (LlmsbxSandboxPool *pool)
{
  g_autoptr(GError) error = NULL;
  LlmsbxSandboxSession *session = llmsbx_sandbox_pool_acquire (pool, NULL, &error);

  g_assert_no_error (error);
  g_assert_nonnull (session);
  g_assert_true (llmsbx_sandbox_session_get_is_open (session));
  return session;
}

static void
release (LlmsbxSandboxSession *session)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (llmsbx_sandbox_session_close (session, NULL, &error));
  g_assert_no_error (error);
}

static char *
shell (LlmsbxSandboxSession *session,
       const char           *command)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(LlmsbxExecutionResult) result = NULL;

  result = llmsbx_sandbox_session_execute_command (session, command, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (llmsbx_execution_result_get_exit_code (result), ==, 0);
  return g_strdup (llmsbx_execution_result_get_stdout (result));
}

/* Whether process @pid runs (a zombie is dead, only not yet waited for). */
static gboolean
process_alive (guint64 pid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%" G_GUINT64_FORMAT "/stat", pid);
  g_autofree char *stat = NULL;
  const char *end;

  if (!g_file_get_contents (path, &stat, NULL, NULL) || (end = strrchr (stat, ')')) == NULL)
    return FALSE;
  return end[1] == ' ' && end[2] != 'Z' && end[2] != 'X';
}

static void
close_pool (LlmsbxSandboxPool *pool)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (llmsbx_sandbox_pool_close (pool, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (stat_of (pool, "size"), ==, 0);
  g_assert_cmpuint (llmsbx_fake_backend_count_sandboxes (), ==, 0);
}

/* min-size sandboxes are made in the background, before anyone asks. */
static void
test_prewarm (void)
{
  g_autoptr(LlmsbxSandboxPool) pool = POOL ("backend", "fake", "min-size", 2, "max-size", 3);
  g_autoptr(GError) error = NULL;

  g_assert_true (llmsbx_sandbox_pool_start (pool, &error));
  g_assert_no_error (error);
  wait_for_stat (pool, "idle", 2);
  g_assert_cmpuint (stat_of (pool, "created"), ==, 2);
  g_assert_cmpuint (stat_of (pool, "acquired"), ==, 0);
  g_assert_cmpuint (llmsbx_fake_backend_count_sandboxes (), ==, 2);
  close_pool (pool);
}

/* A sandbox given back is reset: the next user has the same sandbox, but
 * none of the files (workdir, /tmp, the plot directory) or processes of the
 * one before. */
static void
test_reset_between_users (void)
{
  g_autoptr(LlmsbxSandboxPool) pool = POOL ("backend", "fake", "max-size", 1);
  g_autoptr(LlmsbxSandboxSession) first = acquire (pool);
  g_autoptr(LlmsbxSandboxSession) second = NULL;
  g_autofree char *first_id = g_strdup (llmsbx_sandbox_session_get_container_id (first));
  g_autofree char *pid_text = NULL;
  g_autofree char *listing = NULL;
  guint64 pid;

  pid_text = shell (first, "mkdir -p /tmp/sandbox_plots && echo plot > /tmp/sandbox_plots/a.png && "
                           "echo secret > /sandbox/left.txt && mkdir /sandbox/leftdir && touch /sandbox/leftdir/f && "
                           "sleep 600 >/dev/null 2>&1 & echo $!");
  g_assert_true (g_ascii_string_to_unsigned (g_strstrip (pid_text), 10, 1, G_MAXINT, &pid, NULL));
  g_assert_true (process_alive (pid));
  release (first);

  wait_for_stat (pool, "resets", 1);
  second = acquire (pool);
  g_assert_cmpstr (llmsbx_sandbox_session_get_container_id (second), ==, first_id);
  listing = shell (second, "ls -A /sandbox; ls -A /tmp");
  g_test_message ("after the reset: %s", listing);
  g_assert_null (strstr (listing, "left.txt"));
  g_assert_null (strstr (listing, "leftdir"));
  g_assert_null (strstr (listing, "sandbox_plots"));
  /* The fake's processes are the host's: the background one is gone. */
  g_assert_false (process_alive (pid));
  g_assert_cmpuint (stat_of (pool, "reused"), ==, 1);
  release (second);
  close_pool (pool);
}

/* A sandbox serves max-uses users, then goes. */
static void
test_max_uses (void)
{
  g_autoptr(LlmsbxSandboxPool) pool = POOL ("backend", "fake", "max-size", 1, "max-uses", 1);
  g_autoptr(LlmsbxSandboxSession) first = acquire (pool);
  g_autoptr(LlmsbxSandboxSession) second = NULL;
  g_autofree char *first_id = g_strdup (llmsbx_sandbox_session_get_container_id (first));

  release (first);
  second = acquire (pool);
  g_assert_cmpstr (llmsbx_sandbox_session_get_container_id (second), !=, first_id);
  g_assert_false (llmsbx_fake_backend_has_sandbox (first_id));
  g_assert_cmpuint (stat_of (pool, "reused"), ==, 0);
  g_assert_cmpuint (stat_of (pool, "expired"), >=, 1);
  release (second);
  close_pool (pool);
}

/* Max lifetime and idle timeout end sandboxes while nobody uses them, and
 * min-size brings new ones. */
static void
test_expiry_while_idle (gconstpointer data)
{
  const char *property = data;
  g_autoptr(LlmsbxSandboxPool) pool = POOL ("backend", "fake", "min-size", 1, "max-size", 1,
                                            property, 0.2);
  g_autoptr(GError) error = NULL;

  g_assert_true (llmsbx_sandbox_pool_start (pool, &error));
  wait_for_stat (pool, "expired", 2);
  g_assert_cmpuint (stat_of (pool, "acquired"), ==, 0);
  wait_for_stat (pool, "created", 3);
  close_pool (pool);
}

/* An idle sandbox that fails its health check is replaced. */
static void
test_health_check (void)
{
  g_autoptr(LlmsbxBackend) backend = llmsbx_fake_backend_new ();
  g_autoptr(LlmsbxSandboxPool) pool = NULL;
  g_autoptr(GError) error = NULL;

  /* The baseline listing is the first exec, the first check the second. */
  llmsbx_fake_backend_inject_fault (LLMSBX_FAKE_BACKEND (backend), LLMSBX_FAKE_FAULT_EXEC, 1, 1);
  pool = POOL ("client", backend, "min-size", 1, "max-size", 1, "health-check-interval", 0.05);
  g_assert_true (llmsbx_sandbox_pool_start (pool, &error));
  wait_for_stat (pool, "health-failures", 1);
  wait_for_stat (pool, "created", 2);
  close_pool (pool);
}

static void
test_fail_fast (void)
{
  g_autoptr(LlmsbxSandboxPool) pool = POOL ("backend", "fake", "max-size", 1,
                                            "exhaustion-strategy", LLMSBX_POOL_EXHAUSTION_FAIL_FAST);
  g_autoptr(LlmsbxSandboxSession) held = acquire (pool);
  g_autoptr(LlmsbxSandboxSession) refused = NULL;
  g_autoptr(GError) error = NULL;

  refused = llmsbx_sandbox_pool_acquire (pool, NULL, &error);
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_LIMIT_EXCEEDED);
  g_assert_null (refused);
  g_assert_cmpuint (stat_of (pool, "exhausted"), ==, 1);
  release (held);
  close_pool (pool);
}

static void
test_wait_deadline (void)
{
  g_autoptr(LlmsbxSandboxPool) pool = POOL ("backend", "fake", "max-size", 1, "acquire-timeout", 0.1);
  g_autoptr(LlmsbxSandboxSession) held = acquire (pool);
  g_autoptr(LlmsbxSandboxSession) refused = NULL;
  g_autoptr(GError) error = NULL;

  refused = llmsbx_sandbox_pool_acquire (pool, NULL, &error);
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_TIMEOUT);
  g_assert_null (refused);
  release (held);
  close_pool (pool);
}

static gpointer
cancel_later (gpointer data)
{
  g_usleep (50 * 1000);
  g_cancellable_cancel (data);
  return NULL;
}

static void
test_wait_cancelled (void)
{
  g_autoptr(LlmsbxSandboxPool) pool = POOL ("backend", "fake", "max-size", 1, "acquire-timeout", 0.0);
  g_autoptr(LlmsbxSandboxSession) held = acquire (pool);
  g_autoptr(LlmsbxSandboxSession) refused = NULL;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;
  GThread *canceller = g_thread_new ("cancel", cancel_later, cancellable);

  /* No deadline: only the cancellation ends this wait. */
  refused = llmsbx_sandbox_pool_acquire (pool, cancellable, &error);
  g_thread_join (canceller);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_null (refused);
  release (held);
  close_pool (pool);
}

static gpointer
release_later (gpointer data)
{
  g_usleep (50 * 1000);
  release (data);
  return NULL;
}

/* A waiting acquire gets the sandbox its holder gives back. */
static void
test_wait_served (void)
{
  g_autoptr(LlmsbxSandboxPool) pool = POOL ("backend", "fake", "max-size", 1, "acquire-timeout", 0.0);
  g_autoptr(LlmsbxSandboxSession) held = acquire (pool);
  g_autoptr(LlmsbxSandboxSession) waiter = NULL;
  g_autofree char *held_id = g_strdup (llmsbx_sandbox_session_get_container_id (held));
  GThread *releaser = g_thread_new ("release", release_later, held);

  waiter = acquire (pool);
  g_thread_join (releaser);
  g_assert_cmpstr (llmsbx_sandbox_session_get_container_id (waiter), ==, held_id);
  g_assert_cmpuint (stat_of (pool, "waits"), ==, 1);
  release (waiter);
  close_pool (pool);
}

/* A temporary sandbox serves beyond max-size and never joins the pool. */
static void
test_temporary (void)
{
  g_autoptr(LlmsbxSandboxPool) pool = POOL ("backend", "fake", "max-size", 1,
                                            "exhaustion-strategy", LLMSBX_POOL_EXHAUSTION_TEMPORARY);
  g_autoptr(LlmsbxSandboxSession) held = acquire (pool);
  g_autoptr(LlmsbxSandboxSession) extra = acquire (pool);
  g_autofree char *extra_id = g_strdup (llmsbx_sandbox_session_get_container_id (extra));

  g_assert_cmpstr (extra_id, !=, llmsbx_sandbox_session_get_container_id (held));
  g_assert_cmpuint (stat_of (pool, "size"), ==, 1);
  g_assert_cmpuint (stat_of (pool, "temporaries"), ==, 1);
  release (extra);
  wait_for_stat (pool, "destroyed", 1);
  g_assert_false (llmsbx_fake_backend_has_sandbox (extra_id));
  g_assert_cmpuint (stat_of (pool, "idle"), ==, 0);
  g_assert_cmpuint (stat_of (pool, "size"), ==, 1);
  release (held);
  close_pool (pool);
}

/* close() waits for a busy sandbox that comes back in time. */
static void
test_close_waits (void)
{
  g_autoptr(LlmsbxSandboxPool) pool = POOL ("backend", "fake", "max-size", 1, "close-timeout", 60.0);
  g_autoptr(LlmsbxSandboxSession) held = acquire (pool);
  GThread *releaser = g_thread_new ("release", release_later, held);

  close_pool (pool);
  g_thread_join (releaser);
  g_assert_cmpuint (stat_of (pool, "killed-at-close"), ==, 0);
}

/* close() kills a busy sandbox that does not come back by close-timeout;
 * its user's next call fails, and giving it back later is harmless. */
static void
test_close_kills (void)
{
  g_autoptr(LlmsbxSandboxPool) pool = POOL ("backend", "fake", "max-size", 1, "close-timeout", 0.05);
  g_autoptr(LlmsbxSandboxSession) held = acquire (pool);
  g_autofree char *held_id = g_strdup (llmsbx_sandbox_session_get_container_id (held));
  g_autoptr(LlmsbxExecutionResult) result = NULL;
  g_autoptr(LlmsbxSandboxSession) late = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_false (llmsbx_sandbox_pool_close (pool, NULL, &error));
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_TIMEOUT);
  g_clear_error (&error);
  g_assert_false (llmsbx_fake_backend_has_sandbox (held_id));
  g_assert_cmpuint (stat_of (pool, "killed-at-close"), ==, 1);

  result = llmsbx_sandbox_session_execute_command (held, "true", NULL, NULL, &error);
  g_assert_nonnull (error);
  g_clear_error (&error);
  llmsbx_sandbox_session_close (held, NULL, NULL);
  g_assert_cmpuint (llmsbx_fake_backend_count_sandboxes (), ==, 0);

  late = llmsbx_sandbox_pool_acquire (pool, NULL, &error);
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_NOT_OPEN);
  g_assert_null (late);
}

/* A session given a pool takes the pool's language and refuses what cannot
 * be done with a shared sandbox. */
static void
test_session_property (void)
{
  g_autoptr(LlmsbxSandboxPool) pool = POOL ("backend", "fake", "max-size", 1);
  g_autoptr(LlmsbxSandboxSession) session = g_object_new (LLMSBX_TYPE_SANDBOX_SESSION, "lang", "javascript",
                                                          "pool", pool, NULL);
  g_autoptr(LlmsbxSandboxSession) committing = g_object_new (LLMSBX_TYPE_SANDBOX_SESSION, "pool", pool,
                                                             "commit-container", TRUE, NULL);
  g_autoptr(GError) error = NULL;

  g_assert_true (llmsbx_sandbox_session_open (session, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (llmsbx_sandbox_session_get_lang (session), ==, "python");
  g_assert_cmpuint (stat_of (pool, "busy"), ==, 1);
  release (session);

  g_assert_false (llmsbx_sandbox_session_open (committing, NULL, &error));
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT);
  close_pool (pool);
}

static void
on_acquired (GObject      *source,
             GAsyncResult *result,
             gpointer      data)
{
  LlmsbxSandboxSession **session = data;
  g_autoptr(GError) error = NULL;

  *session = llmsbx_sandbox_pool_acquire_finish (LLMSBX_SANDBOX_POOL (source), result, &error);
  g_assert_no_error (error);
  g_main_context_wakeup (NULL);
}

/* The async acquire gives an open session in the caller's main context. */
static void
test_acquire_async (void)
{
  g_autoptr(LlmsbxSandboxPool) pool = POOL ("backend", "fake", "max-size", 1);
  g_autoptr(LlmsbxSandboxSession) session = NULL;

  llmsbx_sandbox_pool_acquire_async (pool, NULL, on_acquired, &session);
  while (session == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_assert_true (llmsbx_sandbox_session_get_is_open (session));
  g_assert_cmpuint (stat_of (pool, "busy"), ==, 1);
  release (session);
  close_pool (pool);
}

static void
test_invalid_sizes (void)
{
  g_autoptr(LlmsbxSandboxPool) pool = POOL ("backend", "fake", "min-size", 3, "max-size", 2);
  g_autoptr(GError) error = NULL;

  g_assert_false (llmsbx_sandbox_pool_start (pool, &error));
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT);
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

  g_test_add_func ("/sandbox-pool/prewarm", test_prewarm);
  g_test_add_func ("/sandbox-pool/reset-between-users", test_reset_between_users);
  g_test_add_func ("/sandbox-pool/max-uses", test_max_uses);
  g_test_add_data_func ("/sandbox-pool/expiry/max-lifetime", "max-lifetime", test_expiry_while_idle);
  g_test_add_data_func ("/sandbox-pool/expiry/idle-timeout", "idle-timeout", test_expiry_while_idle);
  g_test_add_func ("/sandbox-pool/health-check", test_health_check);
  g_test_add_func ("/sandbox-pool/exhaustion/fail-fast", test_fail_fast);
  g_test_add_func ("/sandbox-pool/exhaustion/wait-deadline", test_wait_deadline);
  g_test_add_func ("/sandbox-pool/exhaustion/wait-cancelled", test_wait_cancelled);
  g_test_add_func ("/sandbox-pool/exhaustion/wait-served", test_wait_served);
  g_test_add_func ("/sandbox-pool/exhaustion/temporary", test_temporary);
  g_test_add_func ("/sandbox-pool/close/waits", test_close_waits);
  g_test_add_func ("/sandbox-pool/close/kills", test_close_kills);
  g_test_add_func ("/sandbox-pool/session-property", test_session_property);
  g_test_add_func ("/sandbox-pool/invalid-sizes", test_invalid_sizes);
  g_test_add_func ("/sandbox-pool/acquire-async", test_acquire_async);

  return g_test_run ();
}
