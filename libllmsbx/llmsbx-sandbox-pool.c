/* llmsbx-sandbox-pool.c: warm sandboxes handed to one user at a time.
 *
 * Decisions, each against a quirk of the Python pool (anchor §5):
 * - Sandboxes are created, reset and destroyed by worker threads, never under
 *   the pool's lock: an acquire that waits holds nothing another acquire
 *   needs, and one slow creation does not serialise the others.
 * - Between users a sandbox is reset or destroyed. The reset kills every
 *   process that was not there when the sandbox was new, removes every path
 *   of the scratch directories (the workdir, /tmp with the plot directory,
 *   /var/tmp, /dev/shm) that the sandbox did not hold then, and checks that
 *   nothing else changed since (ctime, which no unprivileged process can set
 *   back). Anything it cannot vouch for — a pre-existing file changed or
 *   removed, a change outside those directories, a process that would not
 *   die — and the sandbox is destroyed instead. The reset runs the
 *   sandbox's own sh and find, so it is trusted only where the user cannot
 *   write the system's directories (a read-only root, an unprivileged
 *   user), as seen when the sandbox was new; elsewhere every sandbox is
 *   destroyed after use and the pool only saves its creation time.
 * - Max lifetime and idle timeout are checked while sandboxes are idle too,
 *   by the maintenance thread, which also runs the health checks and keeps
 *   min-size sandboxes ready.
 * - A temporary sandbox (exhaustion strategy) is destroyed after use and
 *   never joins the pool.
 * - close() waits for busy sandboxes until close-timeout, then kills them.
 * Every sandbox is created by a #LlmsbxSandboxSession of the pool's own: the
 * pool is a client of the session, not a second implementation of it. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "llmsbx-pool-lease-private.h"
#include "llmsbx-enum-types.h"
#include "llmsbx-error.h"
#include "llmsbx-reaper.h"
#include "llmsbx-registry.h"
#include "llmsbx-sandbox-session.h"

/**
 * LlmsbxSandboxPool:
 *
 * A pool of sandboxes of one language, kept ready so that a user gets one
 * without waiting for its creation, and reset between users so that none
 * sees what another left.
 *
 * Users take a sandbox by opening a #LlmsbxSandboxSession whose
 * #LlmsbxSandboxSession:pool is the pool (or with llmsbx_sandbox_pool_acquire(),
 * which does that), and give it back by closing the session.
 *
 * ```c
 * g_autoptr(LlmsbxSandboxPool) pool = g_object_new (LLMSBX_TYPE_SANDBOX_POOL,
 *                                                   "lang", "python", "min-size", 2, NULL);
 * g_autoptr(LlmsbxSandboxSession) session = llmsbx_sandbox_pool_acquire (pool, NULL, &error);
 *
 * result = llmsbx_sandbox_session_run (session, "print(6*7)", NULL, 0, NULL, &error);
 * llmsbx_sandbox_session_close (session, NULL, NULL);
 * llmsbx_sandbox_pool_close (pool, NULL, NULL);
 * ```
 *
 * Since: 0.1
 */



typedef enum {
  JOB_CREATE,
  JOB_RESET,
  JOB_DESTROY,
  JOB_CHECK,
} JobKind;

typedef struct {
  JobKind          kind;
  LlmsbxPoolLease *entry;
} Job;

struct _LlmsbxSandboxPool
{
  GObject parent_instance;

  /* Configuration, fixed once started. */
  char                 *lang;
  char                 *backend_name;
  LlmsbxBackend        *client;
  char                 *image;
  char                 *workdir;
  GVariant             *runtime_configs;
  GVariant             *pod_manifest;
  char                 *kube_namespace;
  guint                 min_size;
  guint                 max_size;
  guint                 max_uses;
  double                idle_timeout;
  double                max_lifetime;
  double                acquire_timeout;
  double                health_check_interval;
  double                close_timeout;
  LlmsbxPoolExhaustion  exhaustion;

  /* The backend, made once by the first worker that needs it. */
  GMutex                backend_lock;
  LlmsbxBackend        *backend;
  gboolean              reaped;

  /* Guards everything below; never held while a sandbox is created, reset,
   * checked or destroyed. */
  GMutex                lock;
  GCond                 changed;     /* an entry became idle or went, the pool closed */
  GCond                 wake;        /* the maintenance thread has something to do */
  gboolean              started;
  gboolean              closed;
  GQueue                idle;        /* LlmsbxPoolLease, oldest use first */
  GPtrArray            *leased;      /* busy and resetting entries */
  guint                 size;        /* every entry of the pool, being created too */
  guint                 creating;
  guint                 pending;     /* jobs queued or running */
  GThreadPool          *workers;
  GThread              *maintainer;
  GError               *last_error;  /* of the last failed creation */

  /* Statistics. */
  guint64               created;
  guint64               destroyed;
  guint64               acquired;
  guint64               reused;
  guint64               resets;
  guint64               reset_refusals;
  guint64               waits;
  guint64               exhausted;
  guint64               temporaries;
  guint64               health_failures;
  guint64               expired;
  guint64               create_failures;
  guint64               killed_at_close;
};

G_DEFINE_FINAL_TYPE (LlmsbxSandboxPool, llmsbx_sandbox_pool, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_LANG,
  PROP_BACKEND,
  PROP_CLIENT,
  PROP_IMAGE,
  PROP_WORKDIR,
  PROP_RUNTIME_CONFIGS,
  PROP_POD_MANIFEST,
  PROP_KUBE_NAMESPACE,
  PROP_MIN_SIZE,
  PROP_MAX_SIZE,
  PROP_MAX_USES,
  PROP_IDLE_TIMEOUT,
  PROP_MAX_LIFETIME,
  PROP_ACQUIRE_TIMEOUT,
  PROP_HEALTH_CHECK_INTERVAL,
  PROP_CLOSE_TIMEOUT,
  PROP_EXHAUSTION_STRATEGY,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void pool_run_job (gpointer data, gpointer user_data);

/* Entries ----------------------------------------------------------------- */

static void
entry_free (LlmsbxPoolLease *entry)
{
  g_clear_object (&entry->owner);
  g_clear_object (&entry->backend);
  g_free (entry->sandbox_id);
  g_free (entry->lease_env);
  g_free (entry->baseline);
  g_free (entry->baseline_pids);
  g_free (entry->unresettable);
  g_clear_pointer (&entry->manifest, g_hash_table_unref);
  g_clear_pointer (&entry->engine_files, g_hash_table_unref);
  g_free (entry);
}

static gboolean
entry_expired (LlmsbxSandboxPool *self,
               LlmsbxPoolLease   *entry,
               gint64             now)
{
  return (self->max_lifetime > 0 &&
          now - entry->created_at > (gint64) (self->max_lifetime * G_USEC_PER_SEC)) ||
         (self->max_uses > 0 && entry->uses >= self->max_uses);
}

/* Called with the lock held. */
static void
queue_job (LlmsbxSandboxPool *self,
           JobKind            kind,
           LlmsbxPoolLease   *entry)
{
  Job *job = g_new0 (Job, 1);

  job->kind = kind;
  job->entry = entry;
  self->pending++;
  if (kind == JOB_CREATE)
    {
      self->size++;
      self->creating++;
    }
  g_thread_pool_push (self->workers, job, NULL);
}

/* Called with the lock held: creations that bring the pool to min-size. */
static void
ensure_min_size (LlmsbxSandboxPool *self)
{
  while (!self->closed && self->size < self->min_size)
    queue_job (self, JOB_CREATE, NULL);
}

/* The backend ------------------------------------------------------------- */

static LlmsbxBackend *
pool_backend (LlmsbxSandboxPool  *self,
              GError            **error)
{
  LlmsbxRegistry *registry = llmsbx_registry_get_default ();
  LlmsbxBackend *backend = NULL;

  g_mutex_lock (&self->backend_lock);
  if (self->backend == NULL)
    {
      if (self->client != NULL)
        self->backend = g_object_ref (self->client);
      else if (self->backend_name != NULL)
        self->backend = llmsbx_registry_create_backend (registry, self->backend_name, error);
      else
        self->backend = llmsbx_registry_create_default_backend (registry, NULL, error);
      if (self->backend != NULL && !llmsbx_backend_connect (self->backend, NULL, error))
        g_clear_object (&self->backend);
    }
  /* The sandboxes a pool of a process that died left behind. */
  if (self->backend != NULL && !self->reaped)
    {
      g_autoptr(GError) reap_error = NULL;

      self->reaped = TRUE;
      if (!llmsbx_reap_sandboxes (self->backend, NULL, -1, LLMSBX_REAP_FLAGS_NONE, NULL, NULL, &reap_error))
        g_warning ("The pool could not remove the sandboxes of processes that are gone: %s",
                   reap_error->message);
    }
  if (self->backend != NULL)
    backend = g_object_ref (self->backend);
  g_mutex_unlock (&self->backend_lock);
  return backend;
}

/* Creation ---------------------------------------------------------------- */

static LlmsbxPoolLease *
create_entry (LlmsbxSandboxPool  *self,
              GError            **error)
{
  g_autoptr(LlmsbxBackend) backend = pool_backend (self, error);
  g_autoptr(LlmsbxSandboxSession) owner = NULL;
  LlmsbxPoolLease *entry;

  if (backend == NULL)
    return NULL;

  /* The image is the pool's to keep: closing one sandbox must not remove it. */
  owner = g_object_new (LLMSBX_TYPE_SANDBOX_SESSION,
                        "lang", self->lang,
                        "client", backend,
                        "image", self->image,
                        "workdir", self->workdir,
                        "runtime-configs", self->runtime_configs,
                        "pod-manifest", self->pod_manifest,
                        "kube-namespace", self->kube_namespace,
                        "keep-template", TRUE,
                        NULL);
  if (!llmsbx_sandbox_session_open (owner, NULL, error))
    return NULL;

  entry = g_new0 (LlmsbxPoolLease, 1);
  entry->owner = g_steal_pointer (&owner);
  entry->backend = g_steal_pointer (&backend);
  entry->sandbox_id = g_strdup (llmsbx_sandbox_session_get_container_id (entry->owner));
  entry->created_at = g_get_monotonic_time ();
  entry->idle_since = entry->created_at;
  llmsbx_pool_lease_record_baseline (entry, self->workdir);
  return entry;
}

static void
destroy_entry (LlmsbxPoolLease *entry)
{
  g_autoptr(GError) error = NULL;

  if (!llmsbx_sandbox_session_close (entry->owner, NULL, &error))
    g_warning ("Removing pooled sandbox %.12s failed: %s", entry->sandbox_id, error->message);
}

/* Workers ----------------------------------------------------------------- */

/* Called with the lock held: @entry is ready for the next user. */
static void
make_idle (LlmsbxSandboxPool *self,
           LlmsbxPoolLease   *entry)
{
  entry->state = ENTRY_IDLE;
  entry->idle_since = g_get_monotonic_time ();
  g_queue_push_tail (&self->idle, entry);
  g_cond_broadcast (&self->changed);
}

/* Called with the lock held: the entry leaves the pool (its sandbox is
 * destroyed by a job). */
static void
retire (LlmsbxSandboxPool *self,
        LlmsbxPoolLease   *entry)
{
  queue_job (self, JOB_DESTROY, entry);
}

static void
pool_run_job (gpointer data,
              gpointer user_data)
{
  g_autofree Job *job = data;
  LlmsbxSandboxPool *self = user_data;
  LlmsbxPoolLease *entry = job->entry;
  g_autoptr(GError) error = NULL;
  g_autofree char *why = NULL;

  switch (job->kind)
    {
    case JOB_CREATE:
      entry = create_entry (self, &error);
      g_mutex_lock (&self->lock);
      self->creating--;
      if (entry == NULL)
        {
          self->size--;
          self->create_failures++;
          g_clear_error (&self->last_error);
          self->last_error = g_steal_pointer (&error);
        }
      else
        {
          self->created++;
          if (self->closed)
            retire (self, entry);
          else
            make_idle (self, entry);
        }
      g_cond_broadcast (&self->changed);
      break;

    case JOB_RESET:
      {
        gboolean ok = llmsbx_pool_lease_reset (entry, self->workdir, &why);

        g_mutex_lock (&self->lock);
        g_ptr_array_remove_fast (self->leased, entry);
        if (ok && !self->closed)
          {
            self->resets++;
            make_idle (self, entry);
          }
        else
          {
            if (!ok)
              {
                self->reset_refusals++;
                g_debug ("pooled sandbox %.12s is destroyed, not reset: %s", entry->sandbox_id, why);
              }
            retire (self, entry);
          }
      }
      break;

    case JOB_CHECK:
      {
        gboolean ok = llmsbx_pool_lease_check (entry);

        g_mutex_lock (&self->lock);
        g_ptr_array_remove_fast (self->leased, entry);
        if (ok && !self->closed)
          make_idle (self, entry);
        else
          {
            if (!ok)
              self->health_failures++;
            retire (self, entry);
          }
      }
      break;

    case JOB_DESTROY:
      destroy_entry (entry);
      g_mutex_lock (&self->lock);
      if (!entry->temporary)
        self->size--;
      self->destroyed++;
      entry_free (entry);
      ensure_min_size (self);
      g_cond_broadcast (&self->changed);
      break;
    }

  self->pending--;
  g_cond_broadcast (&self->changed);
  g_cond_signal (&self->wake);
  g_mutex_unlock (&self->lock);
}

/* Maintenance ------------------------------------------------------------- */

/* Idle entries past their lifetime or idle timeout go; every
 * health-check-interval the others are checked; min-size is kept. */
static gpointer
maintain (gpointer data)
{
  LlmsbxSandboxPool *self = data;
  gint64 next_check = g_get_monotonic_time ();
  g_autoptr(LlmsbxBackend) backend = NULL;

  /* The backend, and reaping what dead pools left, at start and in the
   * background; a failure here is the first creation's error. */
  backend = pool_backend (self, NULL);

  g_mutex_lock (&self->lock);
  ensure_min_size (self);
  while (!self->closed)
    {
      gint64 now = g_get_monotonic_time ();
      gint64 wake_at = now + 10 * G_USEC_PER_SEC;
      gboolean check = self->health_check_interval > 0 && now >= next_check;

      for (GList *l = self->idle.head; l != NULL;)
        {
          LlmsbxPoolLease *entry = l->data;
          GList *next = l->next;
          gint64 idle_deadline = entry->idle_since + (gint64) (self->idle_timeout * G_USEC_PER_SEC);
          gint64 life_deadline = entry->created_at + (gint64) (self->max_lifetime * G_USEC_PER_SEC);

          if (entry_expired (self, entry, now) || (self->idle_timeout > 0 && now >= idle_deadline))
            {
              g_queue_delete_link (&self->idle, l);
              self->expired++;
              retire (self, entry);
            }
          else
            {
              if (self->idle_timeout > 0)
                wake_at = MIN (wake_at, idle_deadline);
              if (self->max_lifetime > 0)
                wake_at = MIN (wake_at, life_deadline);
              if (check)
                {
                  g_queue_delete_link (&self->idle, l);
                  entry->state = ENTRY_CHECKING;
                  g_ptr_array_add (self->leased, entry);
                  queue_job (self, JOB_CHECK, entry);
                }
            }
          l = next;
        }
      if (check)
        next_check = now + (gint64) (self->health_check_interval * G_USEC_PER_SEC);
      if (self->health_check_interval > 0)
        wake_at = MIN (wake_at, next_check);
      ensure_min_size (self);
      g_cond_wait_until (&self->wake, &self->lock, wake_at);
    }
  g_mutex_unlock (&self->lock);
  return NULL;
}

/* Public API -------------------------------------------------------------- */

/**
 * llmsbx_sandbox_pool_new:
 * @lang: (nullable): the language, %NULL for `python`
 *
 * Creates a pool. Set other properties at construction; the pool starts
 * with llmsbx_sandbox_pool_start() or its first acquire.
 *
 * Returns: (transfer full): a new pool
 *
 * Since: 0.1
 */
LlmsbxSandboxPool *
llmsbx_sandbox_pool_new (const char *lang)
{
  return g_object_new (LLMSBX_TYPE_SANDBOX_POOL, "lang", lang ? lang : "python", NULL);
}

static gboolean
start_locked (LlmsbxSandboxPool  *self,
              GError            **error)
{
  g_autoptr(LlmsbxLanguageHandler) handler = NULL;

  if (self->closed)
    {
      g_set_error_literal (error, LLMSBX_ERROR, LLMSBX_ERROR_NOT_OPEN, "The pool is closed");
      return FALSE;
    }
  if (self->started)
    return TRUE;
  if (self->max_size == 0 || self->min_size > self->max_size)
    {
      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
                   "A pool's min-size (%u) must not exceed its max-size (%u), which must be at least 1",
                   self->min_size, self->max_size);
      return FALSE;
    }
  handler = llmsbx_registry_lookup_language (llmsbx_registry_get_default (), self->lang, error);
  if (handler == NULL)
    return FALSE;
  /* Creations of one pool run side by side, but not without bound. */
  self->workers = g_thread_pool_new (pool_run_job, self, (int) MIN (self->max_size, 8) + 1, FALSE, NULL);
  self->started = TRUE;
  self->maintainer = g_thread_new ("llmsbx-pool", maintain, self);
  return TRUE;
}

/**
 * llmsbx_sandbox_pool_start:
 * @self: a #LlmsbxSandboxPool
 * @error: return location for a #GError
 *
 * Starts the pool: in the background it removes what pools of processes that
 * are gone left behind, and creates #LlmsbxSandboxPool:min-size sandboxes.
 * It does not wait for them. Starting a started pool does nothing.
 *
 * Returns: %TRUE unless the pool is closed (%LLMSBX_ERROR_NOT_OPEN) or its
 *   configuration is invalid (%LLMSBX_ERROR_INVALID_ARGUMENT,
 *   %LLMSBX_ERROR_LANGUAGE_NOT_SUPPORTED)
 *
 * Since: 0.1
 */
gboolean
llmsbx_sandbox_pool_start (LlmsbxSandboxPool  *self,
                           GError            **error)
{
  gboolean ok;

  g_return_val_if_fail (LLMSBX_IS_SANDBOX_POOL (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  g_mutex_lock (&self->lock);
  ok = start_locked (self, error);
  g_mutex_unlock (&self->lock);
  return ok;
}

static void
wake_waiters (GCancellable *cancellable,
              gpointer      data)
{
  LlmsbxSandboxPool *self = data;

  g_mutex_lock (&self->lock);
  g_cond_broadcast (&self->changed);
  g_mutex_unlock (&self->lock);
}

/* Called with the lock held: takes an idle entry for a user. */
static LlmsbxPoolLease *
take_idle (LlmsbxSandboxPool *self)
{
  gint64 now = g_get_monotonic_time ();
  LlmsbxPoolLease *entry;

  while ((entry = g_queue_pop_head (&self->idle)) != NULL)
    {
      if (!entry_expired (self, entry, now))
        return entry;
      self->expired++;
      retire (self, entry);
    }
  return NULL;
}

static LlmsbxPoolLease *
lease_locked (LlmsbxSandboxPool  *self,
              GCancellable       *cancellable,
              GError            **error)
{
  gint64 deadline = self->acquire_timeout > 0
    ? g_get_monotonic_time () + (gint64) (self->acquire_timeout * G_USEC_PER_SEC) : G_MAXINT64;
  gboolean counted_wait = FALSE;

  for (;;)
    {
      LlmsbxPoolLease *entry;

      if (!start_locked (self, error))
        return NULL;
      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return NULL;

      entry = take_idle (self);
      if (entry != NULL)
        {
          if (entry->uses > 0)
            self->reused++;
          return entry;
        }

      if (self->size < self->max_size)
        {
          g_autoptr(GError) local_error = NULL;

          /* Created here, outside the lock, for this caller. */
          self->size++;
          self->creating++;
          g_mutex_unlock (&self->lock);
          entry = create_entry (self, &local_error);
          g_mutex_lock (&self->lock);
          self->creating--;
          if (entry == NULL)
            {
              self->size--;
              self->create_failures++;
              g_cond_broadcast (&self->changed);
              g_propagate_error (error, g_steal_pointer (&local_error));
              return NULL;
            }
          self->created++;
          if (self->closed)
            {
              retire (self, entry);
              continue;
            }
          return entry;
        }

      switch (self->exhaustion)
        {
        case LLMSBX_POOL_EXHAUSTION_FAIL_FAST:
          self->exhausted++;
          g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_LIMIT_EXCEEDED,
                       "All %u sandboxes of the pool are in use", self->max_size);
          return NULL;

        case LLMSBX_POOL_EXHAUSTION_TEMPORARY:
          {
            g_autoptr(GError) local_error = NULL;

            g_mutex_unlock (&self->lock);
            entry = create_entry (self, &local_error);
            g_mutex_lock (&self->lock);
            if (entry == NULL)
              {
                self->create_failures++;
                g_propagate_error (error, g_steal_pointer (&local_error));
                return NULL;
              }
            entry->temporary = TRUE;
            self->temporaries++;
            self->created++;
            return entry;
          }

        case LLMSBX_POOL_EXHAUSTION_WAIT:
        default:
          if (!counted_wait)
            {
              self->waits++;
              counted_wait = TRUE;
            }
          if (!g_cond_wait_until (&self->changed, &self->lock, deadline) &&
              g_get_monotonic_time () >= deadline)
            {
              self->exhausted++;
              g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_TIMEOUT,
                           "No sandbox of the pool became free within %g seconds (all %u are in use)",
                           self->acquire_timeout, self->max_size);
              return NULL;
            }
          break;
        }
    }
}

/* Takes a sandbox for a session (llmsbx-sandbox-session.c). */
LlmsbxPoolLease *
llmsbx_sandbox_pool_lease (LlmsbxSandboxPool  *self,
                           GCancellable       *cancellable,
                           GError            **error)
{
  g_autofree char *token = g_uuid_string_random ();
  LlmsbxPoolLease *entry;
  gulong handler = 0;

  g_return_val_if_fail (LLMSBX_IS_SANDBOX_POOL (self), NULL);

  /* Connected outside the lock: the callback takes it, and runs at once
   * when @cancellable is already cancelled. */
  if (cancellable != NULL)
    handler = g_cancellable_connect (cancellable, G_CALLBACK (wake_waiters), self, NULL);

  g_mutex_lock (&self->lock);
  entry = lease_locked (self, cancellable, error);
  if (entry != NULL)
    {
      entry->state = ENTRY_BUSY;
      entry->uses++;
      g_free (entry->lease_env);
      entry->lease_env = g_strconcat (LEASE_VARIABLE "=", token, NULL);
      g_ptr_array_add (self->leased, entry);
      self->acquired++;
    }
  g_mutex_unlock (&self->lock);

  if (handler != 0)
    g_cancellable_disconnect (cancellable, handler);
  return entry;
}

/* Gives a session's sandbox back: reset for the next user, or destroyed. */
void
llmsbx_sandbox_pool_return (LlmsbxSandboxPool *self,
                            LlmsbxPoolLease   *entry)
{
  g_return_if_fail (LLMSBX_IS_SANDBOX_POOL (self));

  g_mutex_lock (&self->lock);
  if (entry->killed)
    {
      /* close() destroyed it already. */
      g_ptr_array_remove_fast (self->leased, entry);
      entry_free (entry);
      g_cond_broadcast (&self->changed);
    }
  else if (entry->temporary || self->closed || entry_expired (self, entry, g_get_monotonic_time ()))
    {
      g_ptr_array_remove_fast (self->leased, entry);
      if (!entry->temporary && !self->closed)
        self->expired++;
      retire (self, entry);
    }
  else
    {
      entry->state = ENTRY_RESETTING;
      queue_job (self, JOB_RESET, entry);
    }
  g_mutex_unlock (&self->lock);
}

LlmsbxBackend *
llmsbx_pool_lease_get_backend (LlmsbxPoolLease *lease)
{
  return lease->backend;
}

const char *
llmsbx_pool_lease_get_sandbox_id (LlmsbxPoolLease *lease)
{
  return lease->sandbox_id;
}

const char *
llmsbx_pool_lease_get_env (LlmsbxPoolLease *lease)
{
  return lease->lease_env;
}

const char *
llmsbx_sandbox_pool_get_workdir (LlmsbxSandboxPool *self)
{
  return self->workdir;
}

const char *
llmsbx_sandbox_pool_get_image (LlmsbxSandboxPool *self)
{
  return self->image;
}

/**
 * llmsbx_sandbox_pool_acquire:
 * @self: a #LlmsbxSandboxPool
 * @cancellable: (nullable): a #GCancellable, which ends a wait
 * @error: return location for a #GError
 *
 * Opens a session on a sandbox of the pool: a #LlmsbxSandboxSession whose
 * #LlmsbxSandboxSession:pool is @self. Closing the session gives the sandbox
 * back. When every sandbox is in use, #LlmsbxSandboxPool:exhaustion-strategy
 * decides.
 *
 * Returns: (transfer full): an open session, or %NULL with %LLMSBX_ERROR_LIMIT_EXCEEDED
 *   (fail-fast), %LLMSBX_ERROR_TIMEOUT (wait), %G_IO_ERROR_CANCELLED,
 *   %LLMSBX_ERROR_NOT_OPEN (the pool is closed) or the error of the sandbox's creation
 *
 * Since: 0.1
 */
LlmsbxSandboxSession *
llmsbx_sandbox_pool_acquire (LlmsbxSandboxPool  *self,
                             GCancellable       *cancellable,
                             GError            **error)
{
  g_autoptr(LlmsbxSandboxSession) session = NULL;

  g_return_val_if_fail (LLMSBX_IS_SANDBOX_POOL (self), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  session = g_object_new (LLMSBX_TYPE_SANDBOX_SESSION, "lang", self->lang, "pool", self, NULL);
  if (!llmsbx_sandbox_session_open (session, cancellable, error))
    return NULL;
  return g_steal_pointer (&session);
}

static void
acquire_opened (GObject      *source,
                GAsyncResult *result,
                gpointer      data)
{
  g_autoptr(GTask) task = data;
  LlmsbxSandboxSession *session = LLMSBX_SANDBOX_SESSION (source);
  GError *error = NULL;

  if (llmsbx_sandbox_session_open_finish (session, result, &error))
    g_task_return_pointer (task, g_object_ref (session), g_object_unref);
  else
    g_task_return_error (task, error);
}

/**
 * llmsbx_sandbox_pool_acquire_async:
 * @self: a #LlmsbxSandboxPool
 * @cancellable: (nullable): a #GCancellable, which ends a wait
 * @callback: (scope async): called when the session is open, or the acquire failed
 * @user_data: data for @callback
 *
 * llmsbx_sandbox_pool_acquire() without blocking: the session opens with
 * llmsbx_sandbox_session_open_async(), off the caller's thread.
 *
 * Since: 0.1
 */
void
llmsbx_sandbox_pool_acquire_async (LlmsbxSandboxPool   *self,
                                   GCancellable        *cancellable,
                                   GAsyncReadyCallback  callback,
                                   gpointer             user_data)
{
  g_autoptr(LlmsbxSandboxSession) session = NULL;
  GTask *task;

  g_return_if_fail (LLMSBX_IS_SANDBOX_POOL (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, llmsbx_sandbox_pool_acquire_async);
  session = g_object_new (LLMSBX_TYPE_SANDBOX_SESSION, "lang", self->lang, "pool", self, NULL);
  llmsbx_sandbox_session_open_async (session, cancellable, acquire_opened, task);
}

/**
 * llmsbx_sandbox_pool_acquire_finish:
 * @self: a #LlmsbxSandboxPool
 * @result: the #GAsyncResult given to the callback
 * @error: return location for a #GError
 *
 * Finishes llmsbx_sandbox_pool_acquire_async().
 *
 * Returns: (transfer full): an open session, or %NULL with the errors of
 *   llmsbx_sandbox_pool_acquire()
 *
 * Since: 0.1
 */
LlmsbxSandboxSession *
llmsbx_sandbox_pool_acquire_finish (LlmsbxSandboxPool  *self,
                                    GAsyncResult       *result,
                                    GError            **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == llmsbx_sandbox_pool_acquire_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/**
 * llmsbx_sandbox_pool_close:
 * @self: a #LlmsbxSandboxPool
 * @cancellable: (nullable): a #GCancellable, which ends the wait for busy sandboxes early
 * @error: return location for a #GError
 *
 * Closes the pool: waiting acquires fail, idle sandboxes are destroyed, and
 * busy ones are waited for until #LlmsbxSandboxPool:close-timeout passes,
 * then destroyed under their users (whose next call fails). Returns when
 * every sandbox of the pool is gone. Closing a closed pool does nothing.
 *
 * Returns: %TRUE when no busy sandbox had to be killed
 *
 * Since: 0.1
 */
gboolean
llmsbx_sandbox_pool_close (LlmsbxSandboxPool  *self,
                           GCancellable       *cancellable,
                           GError            **error)
{
  g_autoptr(GPtrArray) victims = g_ptr_array_new ();
  GThreadPool *workers;
  GThread *maintainer;
  gint64 deadline;
  gulong handler = 0;
  guint killed;

  g_return_val_if_fail (LLMSBX_IS_SANDBOX_POOL (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (cancellable != NULL)
    handler = g_cancellable_connect (cancellable, G_CALLBACK (wake_waiters), self, NULL);

  g_mutex_lock (&self->lock);
  if (self->closed)
    {
      g_mutex_unlock (&self->lock);
      if (handler != 0)
        g_cancellable_disconnect (cancellable, handler);
      return TRUE;
    }
  self->closed = TRUE;
  g_cond_broadcast (&self->changed);
  g_cond_signal (&self->wake);
  for (LlmsbxPoolLease *entry; (entry = g_queue_pop_head (&self->idle)) != NULL;)
    retire (self, entry);

  /* Busy sandboxes come back by themselves until the deadline. */
  deadline = g_get_monotonic_time () + (gint64) (self->close_timeout * G_USEC_PER_SEC);
  while (self->leased->len > 0 && !g_cancellable_is_cancelled (cancellable) &&
         g_cond_wait_until (&self->changed, &self->lock, deadline))
    ;
  for (guint i = 0; i < self->leased->len; i++)
    {
      LlmsbxPoolLease *entry = g_ptr_array_index (self->leased, i);

      if (entry->state == ENTRY_BUSY && !entry->killed)
        {
          entry->killed = TRUE;
          g_ptr_array_add (victims, entry);
        }
    }
  killed = victims->len;
  self->killed_at_close += killed;
  g_mutex_unlock (&self->lock);
  if (handler != 0)
    g_cancellable_disconnect (cancellable, handler);

  /* Still held by their users, who free them when they give them back. */
  for (guint i = 0; i < victims->len; i++)
    {
      LlmsbxPoolLease *entry = g_ptr_array_index (victims, i);

      destroy_entry (entry);
      g_mutex_lock (&self->lock);
      if (!entry->temporary)
        self->size--;
      self->destroyed++;
      g_mutex_unlock (&self->lock);
    }

  g_mutex_lock (&self->lock);
  maintainer = g_steal_pointer (&self->maintainer);
  g_mutex_unlock (&self->lock);
  if (maintainer != NULL)
    g_thread_join (maintainer);

  /* Jobs queued (resets, destroys) run to their end: nothing may leak. */
  g_mutex_lock (&self->lock);
  while (self->pending > 0 || self->creating > 0)
    g_cond_wait (&self->changed, &self->lock);
  workers = g_steal_pointer (&self->workers);
  g_mutex_unlock (&self->lock);
  if (workers != NULL)
    g_thread_pool_free (workers, FALSE, TRUE);

  if (killed > 0)
    {
      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_TIMEOUT,
                   "%u sandboxes of the pool were still in use after %g seconds and were removed",
                   killed, self->close_timeout);
      return FALSE;
    }
  return TRUE;
}

/**
 * llmsbx_sandbox_pool_get_stats:
 * @self: a #LlmsbxSandboxPool
 *
 * What the pool holds and has done, as a `a{sv}` dictionary of unsigned
 * numbers (`u` for counts of now, `t` for totals): `size`, `idle`, `busy`,
 * `creating`, `resetting`, `max-size`, `min-size`; `created`, `destroyed`,
 * `acquired`, `reused` (acquires served by a sandbox that had a user
 * before), `resets`, `reset-refusals` (sandboxes destroyed because a reset
 * could not vouch for them), `waits`, `exhausted`, `temporaries`,
 * `health-failures`, `expired`, `create-failures`, `killed-at-close`; and the
 * boolean `closed`.
 *
 * Returns: (transfer full): a floating-free #GVariant of type `a{sv}`
 *
 * Since: 0.1
 */
GVariant *
llmsbx_sandbox_pool_get_stats (LlmsbxSandboxPool *self)
{
  GVariantBuilder builder;
  guint busy = 0;
  guint resetting = 0;

  g_return_val_if_fail (LLMSBX_IS_SANDBOX_POOL (self), NULL);

  g_variant_builder_init (&builder, G_VARIANT_TYPE_VARDICT);
  g_mutex_lock (&self->lock);
  for (guint i = 0; i < self->leased->len; i++)
    {
      LlmsbxPoolLease *entry = g_ptr_array_index (self->leased, i);

      if (entry->state == ENTRY_BUSY)
        busy++;
      else if (entry->state == ENTRY_RESETTING)
        resetting++;
    }
#define COUNT(name, value) g_variant_builder_add (&builder, "{sv}", name, g_variant_new_uint32 (value))
#define TOTAL(name, value) g_variant_builder_add (&builder, "{sv}", name, g_variant_new_uint64 (value))
  COUNT ("size", self->size);
  COUNT ("idle", self->idle.length);
  COUNT ("busy", busy);
  COUNT ("creating", self->creating);
  COUNT ("resetting", resetting);
  COUNT ("max-size", self->max_size);
  COUNT ("min-size", self->min_size);
  TOTAL ("created", self->created);
  TOTAL ("destroyed", self->destroyed);
  TOTAL ("acquired", self->acquired);
  TOTAL ("reused", self->reused);
  TOTAL ("resets", self->resets);
  TOTAL ("reset-refusals", self->reset_refusals);
  TOTAL ("waits", self->waits);
  TOTAL ("exhausted", self->exhausted);
  TOTAL ("temporaries", self->temporaries);
  TOTAL ("health-failures", self->health_failures);
  TOTAL ("expired", self->expired);
  TOTAL ("create-failures", self->create_failures);
  TOTAL ("killed-at-close", self->killed_at_close);
#undef COUNT
#undef TOTAL
  g_variant_builder_add (&builder, "{sv}", "closed", g_variant_new_boolean (self->closed));
  g_mutex_unlock (&self->lock);
  return g_variant_ref_sink (g_variant_builder_end (&builder));
}

/**
 * llmsbx_sandbox_pool_get_lang:
 * @self: a #LlmsbxSandboxPool
 *
 * Gets the language of the pool's sandboxes.
 *
 * Returns: the language of the pool's sandboxes
 *
 * Since: 0.1
 */
const char *
llmsbx_sandbox_pool_get_lang (LlmsbxSandboxPool *self)
{
  g_return_val_if_fail (LLMSBX_IS_SANDBOX_POOL (self), NULL);
  return self->lang;
}

/**
 * llmsbx_sandbox_pool_get_is_closed:
 * @self: a #LlmsbxSandboxPool
 *
 * Tells whether the pool was closed.
 *
 * Returns: whether llmsbx_sandbox_pool_close() was called
 *
 * Since: 0.1
 */
gboolean
llmsbx_sandbox_pool_get_is_closed (LlmsbxSandboxPool *self)
{
  gboolean closed;

  g_return_val_if_fail (LLMSBX_IS_SANDBOX_POOL (self), FALSE);
  g_mutex_lock (&self->lock);
  closed = self->closed;
  g_mutex_unlock (&self->lock);
  return closed;
}

/* GObject ----------------------------------------------------------------- */

static void
llmsbx_sandbox_pool_dispose (GObject *object)
{
  LlmsbxSandboxPool *self = LLMSBX_SANDBOX_POOL (object);

  /* A pool dropped without close() leaves nothing behind either. */
  if (self->started)
    llmsbx_sandbox_pool_close (self, NULL, NULL);
  G_OBJECT_CLASS (llmsbx_sandbox_pool_parent_class)->dispose (object);
}

static void
llmsbx_sandbox_pool_finalize (GObject *object)
{
  LlmsbxSandboxPool *self = LLMSBX_SANDBOX_POOL (object);

  g_free (self->lang);
  g_free (self->backend_name);
  g_clear_object (&self->client);
  g_clear_object (&self->backend);
  g_free (self->image);
  g_free (self->workdir);
  g_clear_pointer (&self->runtime_configs, g_variant_unref);
  g_clear_pointer (&self->pod_manifest, g_variant_unref);
  g_free (self->kube_namespace);
  g_clear_pointer (&self->leased, g_ptr_array_unref);
  g_clear_error (&self->last_error);
  g_mutex_clear (&self->lock);
  g_mutex_clear (&self->backend_lock);
  g_cond_clear (&self->changed);
  g_cond_clear (&self->wake);
  G_OBJECT_CLASS (llmsbx_sandbox_pool_parent_class)->finalize (object);
}

static void
llmsbx_sandbox_pool_get_property (GObject    *object,
                                  guint       prop_id,
                                  GValue     *value,
                                  GParamSpec *pspec)
{
  LlmsbxSandboxPool *self = LLMSBX_SANDBOX_POOL (object);

  switch (prop_id)
    {
    case PROP_LANG: g_value_set_string (value, self->lang); break;
    case PROP_BACKEND: g_value_set_string (value, self->backend_name); break;
    case PROP_CLIENT: g_value_set_object (value, self->client); break;
    case PROP_IMAGE: g_value_set_string (value, self->image); break;
    case PROP_WORKDIR: g_value_set_string (value, self->workdir); break;
    case PROP_RUNTIME_CONFIGS: g_value_set_variant (value, self->runtime_configs); break;
    case PROP_POD_MANIFEST: g_value_set_variant (value, self->pod_manifest); break;
    case PROP_KUBE_NAMESPACE: g_value_set_string (value, self->kube_namespace); break;
    case PROP_MIN_SIZE: g_value_set_uint (value, self->min_size); break;
    case PROP_MAX_SIZE: g_value_set_uint (value, self->max_size); break;
    case PROP_MAX_USES: g_value_set_uint (value, self->max_uses); break;
    case PROP_IDLE_TIMEOUT: g_value_set_double (value, self->idle_timeout); break;
    case PROP_MAX_LIFETIME: g_value_set_double (value, self->max_lifetime); break;
    case PROP_ACQUIRE_TIMEOUT: g_value_set_double (value, self->acquire_timeout); break;
    case PROP_HEALTH_CHECK_INTERVAL: g_value_set_double (value, self->health_check_interval); break;
    case PROP_CLOSE_TIMEOUT: g_value_set_double (value, self->close_timeout); break;
    case PROP_EXHAUSTION_STRATEGY: g_value_set_enum (value, self->exhaustion); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
llmsbx_sandbox_pool_set_property (GObject      *object,
                                  guint         prop_id,
                                  const GValue *value,
                                  GParamSpec   *pspec)
{
  LlmsbxSandboxPool *self = LLMSBX_SANDBOX_POOL (object);

  switch (prop_id)
    {
    case PROP_LANG: g_free (self->lang); self->lang = g_value_dup_string (value);
      if (self->lang == NULL) self->lang = g_strdup ("python");
      break;
    case PROP_BACKEND: g_free (self->backend_name); self->backend_name = g_value_dup_string (value); break;
    case PROP_CLIENT: g_set_object (&self->client, g_value_get_object (value)); break;
    case PROP_IMAGE: g_free (self->image); self->image = g_value_dup_string (value); break;
    case PROP_WORKDIR: g_free (self->workdir); self->workdir = g_value_dup_string (value);
      if (self->workdir == NULL) self->workdir = g_strdup ("/sandbox");
      break;
    case PROP_RUNTIME_CONFIGS:
      g_clear_pointer (&self->runtime_configs, g_variant_unref);
      self->runtime_configs = g_value_dup_variant (value);
      break;
    case PROP_POD_MANIFEST:
      g_clear_pointer (&self->pod_manifest, g_variant_unref);
      self->pod_manifest = g_value_dup_variant (value);
      break;
    case PROP_KUBE_NAMESPACE: g_free (self->kube_namespace); self->kube_namespace = g_value_dup_string (value); break;
    case PROP_MIN_SIZE: self->min_size = g_value_get_uint (value); break;
    case PROP_MAX_SIZE: self->max_size = g_value_get_uint (value); break;
    case PROP_MAX_USES: self->max_uses = g_value_get_uint (value); break;
    case PROP_IDLE_TIMEOUT: self->idle_timeout = g_value_get_double (value); break;
    case PROP_MAX_LIFETIME: self->max_lifetime = g_value_get_double (value); break;
    case PROP_ACQUIRE_TIMEOUT: self->acquire_timeout = g_value_get_double (value); break;
    case PROP_HEALTH_CHECK_INTERVAL: self->health_check_interval = g_value_get_double (value); break;
    case PROP_CLOSE_TIMEOUT: self->close_timeout = g_value_get_double (value); break;
    case PROP_EXHAUSTION_STRATEGY: self->exhaustion = g_value_get_enum (value); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
llmsbx_sandbox_pool_class_init (LlmsbxSandboxPoolClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  const GParamFlags construct = G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS;

  object_class->dispose = llmsbx_sandbox_pool_dispose;
  object_class->finalize = llmsbx_sandbox_pool_finalize;
  object_class->get_property = llmsbx_sandbox_pool_get_property;
  object_class->set_property = llmsbx_sandbox_pool_set_property;

  /**
   * LlmsbxSandboxPool:lang:
   *
   * The language of every sandbox of the pool; its sessions take it.
   *
   * Since: 0.1
   */
  properties[PROP_LANG] = g_param_spec_string ("lang", NULL, NULL, "python", construct);
  /**
   * LlmsbxSandboxPool:backend:
   *
   * The backend's name; %NULL for the registry's default (as a session chooses it).
   *
   * Since: 0.1
   */
  properties[PROP_BACKEND] = g_param_spec_string ("backend", NULL, NULL, NULL, construct);
  /**
   * LlmsbxSandboxPool:client:
   *
   * A configured backend to use instead of #LlmsbxSandboxPool:backend.
   *
   * Since: 0.1
   */
  properties[PROP_CLIENT] = g_param_spec_object ("client", NULL, NULL, LLMSBX_TYPE_BACKEND, construct);
  /**
   * LlmsbxSandboxPool:image:
   *
   * The image of the sandboxes; %NULL for the language's default.
   *
   * Since: 0.1
   */
  properties[PROP_IMAGE] = g_param_spec_string ("image", NULL, NULL, NULL, construct);
  /**
   * LlmsbxSandboxPool:workdir:
   *
   * The working directory of the sandboxes (wiped between users).
   *
   * Since: 0.1
   */
  properties[PROP_WORKDIR] = g_param_spec_string ("workdir", NULL, NULL, "/sandbox", construct);
  /**
   * LlmsbxSandboxPool:runtime-configs:
   *
   * Runtime configs of every sandbox, as #LlmsbxSandboxSession:runtime-configs.
   *
   * Since: 0.1
   */
  properties[PROP_RUNTIME_CONFIGS] = g_param_spec_variant ("runtime-configs", NULL, NULL,
                                                           G_VARIANT_TYPE_VARDICT, NULL, construct);
  /**
   * LlmsbxSandboxPool:pod-manifest:
   *
   * The Pod of every sandbox on backends that run pods (Kubernetes), as
   * #LlmsbxSandboxSession:pod-manifest; leave `metadata.name` out, since
   * each pooled sandbox is a pod of its own. As with runtime configs, the
   * pool resets its sandboxes only where the user cannot write the system's
   * directories (`securityContext.readOnlyRootFilesystem`, or a non-root
   * `runAsUser`), as it probes in each new sandbox.
   *
   * Since: 0.1
   */
  properties[PROP_POD_MANIFEST] = g_param_spec_variant ("pod-manifest", NULL, NULL,
                                                        G_VARIANT_TYPE_VARDICT, NULL, construct);
  /**
   * LlmsbxSandboxPool:kube-namespace:
   *
   * The namespace of the sandboxes' pods, as
   * #LlmsbxSandboxSession:kube-namespace; %NULL for the backend's.
   *
   * Since: 0.1
   */
  properties[PROP_KUBE_NAMESPACE] = g_param_spec_string ("kube-namespace", NULL, NULL, NULL, construct);
  /**
   * LlmsbxSandboxPool:min-size:
   *
   * Sandboxes kept ready, created in the background when the pool starts and
   * whenever one goes.
   *
   * Since: 0.1
   */
  properties[PROP_MIN_SIZE] = g_param_spec_uint ("min-size", NULL, NULL, 0, 1024, 0, construct);
  /**
   * LlmsbxSandboxPool:max-size:
   *
   * Most sandboxes of the pool at once, busy or not (temporary ones aside).
   *
   * Since: 0.1
   */
  properties[PROP_MAX_SIZE] = g_param_spec_uint ("max-size", NULL, NULL, 1, 1024, 10, construct);
  /**
   * LlmsbxSandboxPool:max-uses:
   *
   * Users a sandbox serves before it is destroyed; 0 for no limit.
   *
   * Since: 0.1
   */
  properties[PROP_MAX_USES] = g_param_spec_uint ("max-uses", NULL, NULL, 0, G_MAXUINT, 0, construct);
  /**
   * LlmsbxSandboxPool:idle-timeout:
   *
   * Seconds an unused sandbox waits before it is destroyed (and, below
   * #LlmsbxSandboxPool:min-size, replaced by a new one); 0 for never.
   *
   * Since: 0.1
   */
  properties[PROP_IDLE_TIMEOUT] = g_param_spec_double ("idle-timeout", NULL, NULL, 0, 1e9, 300, construct);
  /**
   * LlmsbxSandboxPool:max-lifetime:
   *
   * Seconds a sandbox lives: past it, it is destroyed when idle or when its
   * user gives it back; 0 for no limit.
   *
   * Since: 0.1
   */
  properties[PROP_MAX_LIFETIME] = g_param_spec_double ("max-lifetime", NULL, NULL, 0, 1e9, 3600, construct);
  /**
   * LlmsbxSandboxPool:acquire-timeout:
   *
   * Seconds an acquire waits under the `wait` strategy; 0 for no limit.
   *
   * Since: 0.1
   */
  properties[PROP_ACQUIRE_TIMEOUT] = g_param_spec_double ("acquire-timeout", NULL, NULL, 0, 1e9, 30, construct);
  /**
   * LlmsbxSandboxPool:health-check-interval:
   *
   * Seconds between health checks of the idle sandboxes (a command that must
   * succeed); 0 for none.
   *
   * Since: 0.1
   */
  properties[PROP_HEALTH_CHECK_INTERVAL] = g_param_spec_double ("health-check-interval", NULL, NULL,
                                                                0, 1e9, 60, construct);
  /**
   * LlmsbxSandboxPool:close-timeout:
   *
   * Seconds llmsbx_sandbox_pool_close() waits for busy sandboxes before it kills them.
   *
   * Since: 0.1
   */
  properties[PROP_CLOSE_TIMEOUT] = g_param_spec_double ("close-timeout", NULL, NULL, 0, 1e9, 30, construct);
  /**
   * LlmsbxSandboxPool:exhaustion-strategy:
   *
   * What an acquire does when every sandbox is in use.
   *
   * Since: 0.1
   */
  properties[PROP_EXHAUSTION_STRATEGY] = g_param_spec_enum ("exhaustion-strategy", NULL, NULL,
                                                            LLMSBX_TYPE_POOL_EXHAUSTION,
                                                            LLMSBX_POOL_EXHAUSTION_WAIT, construct);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
llmsbx_sandbox_pool_init (LlmsbxSandboxPool *self)
{
  g_mutex_init (&self->lock);
  g_mutex_init (&self->backend_lock);
  g_cond_init (&self->changed);
  g_cond_init (&self->wake);
  g_queue_init (&self->idle);
  self->leased = g_ptr_array_new ();
  self->lang = g_strdup ("python");
  self->workdir = g_strdup ("/sandbox");
  self->max_size = 10;
}
