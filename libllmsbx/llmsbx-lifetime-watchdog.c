/* llmsbx-lifetime-watchdog.c: ends a sandbox when its session's lifetime
 * passes, even while the session is idle or busy running code.
 *
 * A thread waits for the deadline. Then it removes the sandbox right away,
 * without waiting for the session's lock: removing the container also ends a
 * run in progress. The session notices the expiry at its next call (or when
 * that run returns) and finishes closing. */
#include "config.h"

#include "llmsbx-lifetime-watchdog-private.h"

struct _LlmsbxLifetimeWatchdog
{
  LlmsbxBackend *backend;
  char          *sandbox_id;
  gboolean       remove_sandbox;
  gint64         deadline;

  GThread       *thread;
  GMutex         lock;
  GCond          cond;
  gboolean       stopping;
  gint           expired;  /* atomic */
};

static gpointer
watchdog_thread (gpointer data)
{
  LlmsbxLifetimeWatchdog *self = data;
  gboolean expired = FALSE;

  g_mutex_lock (&self->lock);
  while (!self->stopping && !expired)
    expired = !g_cond_wait_until (&self->cond, &self->lock, self->deadline);
  expired = expired && !self->stopping;
  g_mutex_unlock (&self->lock);

  if (expired)
    {
      g_autoptr(GError) error = NULL;

      g_atomic_int_set (&self->expired, TRUE);
      g_debug ("Session lifetime is over, ending sandbox %.12s", self->sandbox_id);
      if (self->remove_sandbox &&
          !llmsbx_backend_remove_sandbox (self->backend, self->sandbox_id, NULL, &error))
        g_warning ("Removing expired sandbox %.12s failed: %s", self->sandbox_id, error->message);
    }

  return NULL;
}

/* Watches until @deadline (monotonic time); then marks the watchdog expired
 * and, when @remove_sandbox, removes the sandbox. */
LlmsbxLifetimeWatchdog *
llmsbx_lifetime_watchdog_start (LlmsbxBackend *backend,
                                const char    *sandbox_id,
                                gboolean       remove_sandbox,
                                gint64         deadline)
{
  LlmsbxLifetimeWatchdog *self = g_new0 (LlmsbxLifetimeWatchdog, 1);

  self->backend = g_object_ref (backend);
  self->sandbox_id = g_strdup (sandbox_id);
  self->remove_sandbox = remove_sandbox;
  self->deadline = deadline;
  g_mutex_init (&self->lock);
  g_cond_init (&self->cond);
  self->thread = g_thread_new ("llmsbx-session-lifetime", watchdog_thread, self);
  return self;
}

gboolean
llmsbx_lifetime_watchdog_has_expired (LlmsbxLifetimeWatchdog *self)
{
  return self != NULL && g_atomic_int_get (&self->expired);
}

/* Stops watching and frees @self (which may be %NULL); returns whether the
 * lifetime had expired. */
gboolean
llmsbx_lifetime_watchdog_stop (LlmsbxLifetimeWatchdog *self)
{
  gboolean expired;

  if (self == NULL)
    return FALSE;

  g_mutex_lock (&self->lock);
  self->stopping = TRUE;
  g_cond_signal (&self->cond);
  g_mutex_unlock (&self->lock);
  g_thread_join (self->thread);

  expired = g_atomic_int_get (&self->expired);
  g_mutex_clear (&self->lock);
  g_cond_clear (&self->cond);
  g_object_unref (self->backend);
  g_free (self->sandbox_id);
  g_free (self);
  return expired;
}
