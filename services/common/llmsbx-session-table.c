/* llmsbx-session-table.c: the sandboxes a service runs for its clients.
 *
 * Both services (llmsbx mcp, llmsbx-daemon) hand sandboxes to clients that do
 * not trust each other and may vanish at any moment; the table is where that
 * is handled once. Every session is configured here with the service's safe
 * defaults (a security preset, the network off, no commit, no kept image). A
 * kept session belongs to one owner, who alone may use it, and is closed when
 * it was idle for too long or when its owner goes. A limit on simultaneous
 * sandboxes bounds what clients can make the host do: one-off runs wait for a
 * free sandbox, kept sessions are refused when there is none.
 *
 * Opening is never cancelled, only what comes after: an engine asked to
 * create a container may create it although the request was given up, and
 * then nobody knows its id to remove it. A cancelled open runs to its end
 * and the sandbox is removed at once.
 *
 * The table runs no code itself: everything goes through LlmsbxSandboxSession
 * and its _async methods, in worker threads, so the main loop never blocks.
 * It is used from one thread, whose thread-default main context was current
 * when it was made; its callbacks run there. */
#include <math.h>

#include "llmsbx-session-table.h"

/* What a one-off run of a table that captures plots brings back at most:
 * a reply carries them whole, as base64 (docs/mcp.md). */
#define PLOT_MAX_COUNT 16
#define PLOT_MAX_BYTES (G_GUINT64_CONSTANT (8) << 20)

struct _LlmsbxSessionTable
{
  GObject parent_instance;

  GMainContext *context;

  /* Configuration. */
  char          *backend;
  LlmsbxBackend *client;
  char          *preset;
  gboolean       allow_network;
  GVariant      *runtime_configs;
  guint          max_sandboxes;
  guint          max_per_owner;
  double         idle_timeout;
  double         default_timeout;
  double         max_timeout;
  guint64        output_limit;
  gboolean       verbose;
  gboolean       interactive_sessions;
  gboolean       capture_plots;
  int            attached_execs;  /* of the backend: -1 until known */

  /* State. */
  GHashTable *entries;        /* id → Entry, kept sessions */
  guint       next_id;
  guint       n_sandboxes;    /* taken: one-off runs and kept sessions */
  GQueue      waiters;        /* GTask of one-off runs waiting for a sandbox */
  GPtrArray  *active;         /* GCancellable of every operation in progress */
  guint       n_operations;
  gboolean    idle;
  gboolean    shutting_down;
  GPtrArray  *shutdown_tasks;
};

G_DEFINE_FINAL_TYPE (LlmsbxSessionTable, llmsbx_session_table, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_BACKEND,
  PROP_CLIENT,
  PROP_PRESET,
  PROP_ALLOW_NETWORK,
  PROP_RUNTIME_CONFIGS,
  PROP_MAX_SANDBOXES,
  PROP_MAX_SESSIONS_PER_OWNER,
  PROP_IDLE_TIMEOUT,
  PROP_DEFAULT_TIMEOUT,
  PROP_MAX_TIMEOUT,
  PROP_OUTPUT_LIMIT,
  PROP_VERBOSE,
  PROP_INTERACTIVE_SESSIONS,
  PROP_CAPTURE_PLOTS,
  PROP_IDLE,
  N_PROPS
};

enum {
  SIGNAL_SESSION_CLOSED,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

/* Cancellation that follows another ------------------------------------ */

typedef struct {
  GCancellable *from;
  GCancellable *to;
  gulong        handler;
} CancelLink;

static void
cancel_other (GCancellable *from,
              gpointer      to)
{
  g_cancellable_cancel (to);
}

/* @to is cancelled when @from (nullable) is, also when it already was. */
static CancelLink *
cancel_link_new (GCancellable *from,
                 GCancellable *to)
{
  CancelLink *link = g_new0 (CancelLink, 1);

  link->to = g_object_ref (to);
  if (from != NULL)
    {
      link->from = g_object_ref (from);
      link->handler = g_cancellable_connect (from, G_CALLBACK (cancel_other), link->to, NULL);
    }
  return link;
}

static void
cancel_link_free (CancelLink *link)
{
  if (link == NULL)
    return;
  if (link->handler != 0)
    g_cancellable_disconnect (link->from, link->handler);
  g_clear_object (&link->from);
  g_object_unref (link->to);
  g_free (link);
}

/* Operations, idleness and shutdown ------------------------------------ */

static void
check_idle (LlmsbxSessionTable *self)
{
  gboolean idle = self->n_operations == 0 && g_hash_table_size (self->entries) == 0;

  if (idle != self->idle)
    {
      self->idle = idle;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_IDLE]);
    }

  if (idle && self->shutting_down && self->shutdown_tasks->len > 0)
    {
      g_autoptr(GPtrArray) tasks = g_steal_pointer (&self->shutdown_tasks);

      self->shutdown_tasks = g_ptr_array_new_with_free_func (g_object_unref);
      for (guint i = 0; i < tasks->len; i++)
        g_task_return_boolean (tasks->pdata[i], TRUE);
    }
}

/* Every operation holds the table and counts, so that idleness and the end
 * of a shutdown are known; its cancellable is cancelled by a shutdown. */
static void
operation_begin (LlmsbxSessionTable *self,
                 GCancellable       *cancellable)
{
  g_object_ref (self);
  self->n_operations++;
  if (cancellable != NULL)
    g_ptr_array_add (self->active, g_object_ref (cancellable));
  check_idle (self);
}

static void
operation_end (LlmsbxSessionTable *self,
               GCancellable       *cancellable)
{
  if (cancellable != NULL)
    g_ptr_array_remove_fast (self->active, cancellable);
  self->n_operations--;
  check_idle (self);
  g_object_unref (self);
}

static GSource *
attach_source (LlmsbxSessionTable *self,
               GSource            *source,
               GSourceFunc         func,
               gpointer            data)
{
  g_source_set_callback (source, func, data, NULL);
  g_source_attach (source, self->context);
  return source;
}

static void
destroy_source (GSource **source)
{
  if (*source == NULL)
    return;
  g_source_destroy (*source);
  g_clear_pointer (source, g_source_unref);
}

/* Configuration ---------------------------------------------------------- */

/* A new a{sv} with the entries of @over and those of @under it lacks. */
static GVariant *
merge_configs (GVariant *under,
               GVariant *over)
{
  GVariantBuilder merged;
  GVariantIter iter;
  const char *key;
  GVariant *value;

  g_variant_builder_init (&merged, G_VARIANT_TYPE_VARDICT);
  if (under != NULL)
    {
      g_variant_iter_init (&iter, under);
      while (g_variant_iter_next (&iter, "{&sv}", &key, &value))
        {
          g_autoptr(GVariant) override = over ? g_variant_lookup_value (over, key, NULL) : NULL;

          if (override == NULL)
            g_variant_builder_add (&merged, "{sv}", key, value);
          g_variant_unref (value);
        }
    }
  if (over != NULL)
    {
      g_variant_iter_init (&iter, over);
      while (g_variant_iter_next (&iter, "{&sv}", &key, &value))
        {
          g_variant_builder_add (&merged, "{sv}", key, value);
          g_variant_unref (value);
        }
    }
  return g_variant_builder_end (&merged);
}

static gboolean
uses_preset (LlmsbxSessionTable *self)
{
  return self->preset != NULL && *self->preset != '\0' && g_ascii_strcasecmp (self->preset, "none") != 0;
}

/* The backend every session uses; %NULL until llmsbx_session_table_check_config(). */
static const char *
backend_name (LlmsbxSessionTable *self)
{
  if (self->client != NULL)
    return llmsbx_backend_get_name (self->client);
  return self->backend;
}

/* The service's safe defaults on a new session: the operator's runtime
 * configs, the preset's policy and its settings under them (key by key), the
 * network off unless allowed (and, set on creation, a smaller output limit,
 * never a commit, never a kept image). */
static gboolean
configure_session (LlmsbxSessionTable    *self,
                   LlmsbxSandboxSession  *session,
                   GError               **error)
{
  if (self->runtime_configs != NULL)
    llmsbx_sandbox_session_set_runtime_configs (session, self->runtime_configs);

  if (uses_preset (self))
    {
      g_autoptr(LlmsbxSecurityPreset) preset =
        llmsbx_get_security_preset (self->preset, llmsbx_sandbox_session_get_lang (session),
                                    llmsbx_sandbox_session_get_backend (session), error);

      if (preset == NULL || !llmsbx_sandbox_session_apply_security_preset (session, preset, error))
        return FALSE;
    }

  if (!self->allow_network)
    {
      g_autoptr(GVariant) off = g_variant_ref_sink (g_variant_new_parsed ("{'network_mode': <'none'>}"));

      llmsbx_sandbox_session_set_runtime_configs (session,
                                                  merge_configs (llmsbx_sandbox_session_get_runtime_configs (session),
                                                                 off));
    }
  return TRUE;
}

/* Whether the backend has attached execs, over which the resident runner
 * starts: interactive cells need it. A backend class that keeps the base
 * class's open_exec_stream has none (bubblewrap). Asked once. */
static gboolean
backend_has_attached_execs (LlmsbxSessionTable *self)
{
  if (self->attached_execs < 0)
    {
      g_autoptr(LlmsbxBackend) backend = NULL;
      LlmsbxBackendClass *base = g_type_class_ref (LLMSBX_TYPE_BACKEND);

      if (self->client != NULL)
        backend = g_object_ref (self->client);
      else
        backend = llmsbx_registry_create_backend (llmsbx_registry_get_default (), self->backend, NULL);
      self->attached_execs = backend != NULL &&
                             LLMSBX_BACKEND_GET_CLASS (backend)->open_exec_stream != base->open_exec_stream;
      g_type_class_unref (base);
    }
  return self->attached_execs;
}

/* The languages the resident runner has a kernel for (docs/interactive.md). */
static gboolean
has_kernel (const char *lang)
{
  return g_str_equal (lang, "python") || g_str_equal (lang, "javascript");
}

typedef enum {
  SESSION_PLAIN,  /* llmsbx_session_table_new_session() */
  SESSION_ONCE,   /* a one-off run: brings plots back with capture-plots */
  SESSION_KEPT,   /* kept: interactive with interactive-sessions, where it can be */
} SessionKind;

static LlmsbxSandboxSession *
new_session_of_kind (LlmsbxSessionTable  *self,
                     SessionKind          kind,
                     const char          *lang,
                     GError             **error)
{
  g_autoptr(LlmsbxLanguageHandler) handler = NULL;
  g_autoptr(LlmsbxSandboxSession) session = NULL;
  g_autofree char *name = NULL;
  GType type = LLMSBX_TYPE_SANDBOX_SESSION;

  if (self->shutting_down)
    {
      g_set_error_literal (error, LLMSBX_SERVICE_ERROR, LLMSBX_SERVICE_ERROR_SHUTTING_DOWN,
                           "The service is shutting down and starts no new sandboxes");
      return NULL;
    }

  handler = llmsbx_registry_lookup_language (llmsbx_registry_get_default (), lang ? lang : "python", error);
  if (handler == NULL)
    return NULL;
  name = llmsbx_language_handler_get_name (handler);

  /* Only where the language captures plots: elsewhere an artifact run
   * would cost a request more for nothing. */
  if (kind == SESSION_ONCE && self->capture_plots)
    {
      g_autofree char *wrapped = llmsbx_language_handler_wrap_for_artifacts (handler, "", "/");

      if (wrapped != NULL)
        type = LLMSBX_TYPE_ARTIFACT_SANDBOX_SESSION;
    }
  else if (kind == SESSION_KEPT && self->interactive_sessions && has_kernel (name) &&
           backend_has_attached_execs (self))
    type = LLMSBX_TYPE_INTERACTIVE_SANDBOX_SESSION;

  session = g_object_new (type,
                          "lang", name,
                          "commit-container", FALSE,
                          "keep-template", FALSE,
                          "output-limit", self->output_limit,
                          "default-timeout", self->default_timeout,
                          "verbose", self->verbose,
                          NULL);
  if (type == LLMSBX_TYPE_ARTIFACT_SANDBOX_SESSION)
    g_object_set (session, "enable-plotting", TRUE, "max-plots", PLOT_MAX_COUNT,
                  "max-plot-bytes", PLOT_MAX_BYTES, NULL);
  if (self->client != NULL)
    g_object_set (session, "client", self->client, NULL);
  else if (self->backend != NULL)
    g_object_set (session, "backend", self->backend, NULL);

  if (!configure_session (self, session, error))
    return NULL;
  return g_steal_pointer (&session);
}

/**
 * llmsbx_session_table_new_session:
 * @self: a #LlmsbxSessionTable
 * @lang: (nullable): the language, %NULL for `python`
 * @error: return location for a #GError
 *
 * A new, unopened session with the table's safe defaults. The table does not
 * keep it and it takes no sandbox of the table's limit.
 *
 * Returns: (transfer full): the session, or %NULL when @lang is not
 *   installed or the preset does not apply
 */
LlmsbxSandboxSession *
llmsbx_session_table_new_session (LlmsbxSessionTable  *self,
                                  const char          *lang,
                                  GError             **error)
{
  g_return_val_if_fail (LLMSBX_IS_SESSION_TABLE (self), NULL);

  return new_session_of_kind (self, SESSION_PLAIN, lang, error);
}

/**
 * llmsbx_session_table_reap:
 * @self: a #LlmsbxSessionTable whose configuration was checked
 * @reaped: (out) (optional): how many sandboxes were removed
 * @error: return location for a #GError
 *
 * Removes the sandboxes of the service's backend whose owner process is gone
 * (llmsbx_reap_sandboxes()): what a service that crashed before left behind.
 * A service calls it at start.
 *
 * Returns: %TRUE when the backend could be searched and every removal succeeded
 */
gboolean
llmsbx_session_table_reap (LlmsbxSessionTable  *self,
                           guint               *reaped,
                           GError             **error)
{
  g_autoptr(LlmsbxBackend) backend = NULL;
  g_autoptr(GPtrArray) removed = NULL;
  gboolean ok;

  g_return_val_if_fail (LLMSBX_IS_SESSION_TABLE (self), FALSE);
  g_return_val_if_fail (backend_name (self) != NULL, FALSE);

  if (reaped != NULL)
    *reaped = 0;
  if (self->client != NULL)
    backend = g_object_ref (self->client);
  else
    backend = llmsbx_registry_create_backend (llmsbx_registry_get_default (), self->backend, error);
  if (backend == NULL || !llmsbx_backend_connect (backend, NULL, error))
    return FALSE;
  ok = llmsbx_reap_sandboxes (backend, NULL, -1, LLMSBX_REAP_FLAGS_NONE, &removed, NULL, error);
  if (reaped != NULL && removed != NULL)
    *reaped = removed->len;
  return ok;
}

/**
 * llmsbx_session_table_check_config:
 * @self: a #LlmsbxSessionTable
 * @error: return location for a #GError
 *
 * Checks the configuration before the service takes clients, so that a
 * mistake shows at start and not at a client's first run. With no backend
 * named, it chooses the registry's default now, for every session.
 *
 * Returns: %TRUE when the configuration is usable
 */
gboolean
llmsbx_session_table_check_config (LlmsbxSessionTable  *self,
                                   GError             **error)
{
  g_return_val_if_fail (LLMSBX_IS_SESSION_TABLE (self), FALSE);

  /* One backend for every session, chosen now (probing the engines when
   * none is named), so that every session and its preset agree on it. */
  if (backend_name (self) == NULL)
    {
      self->backend = llmsbx_registry_get_default_backend_name (llmsbx_registry_get_default (), NULL, error);
      if (self->backend == NULL)
        return FALSE;
    }

  if (uses_preset (self))
    {
      g_autoptr(LlmsbxSecurityPreset) preset = llmsbx_get_security_preset (self->preset, "python",
                                                                            backend_name (self), error);
      if (preset == NULL)
        return FALSE;
    }

  if (!self->allow_network && self->runtime_configs != NULL &&
      g_variant_lookup (self->runtime_configs, "network_mode", "*", NULL))
    {
      g_set_error_literal (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
                           "The runtime configs set network_mode, but sandboxes get no network "
                           "unless it is allowed (--allow-network)");
      return FALSE;
    }

  /* The engines turn the network off per container; Kubernetes needs a
   * NetworkPolicy, which a session cannot set. */
  if (!self->allow_network && g_ascii_strcasecmp (backend_name (self), "kubernetes") == 0)
    {
      g_set_error_literal (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
                           "The kubernetes backend cannot turn a pod's network off: give the "
                           "namespace a NetworkPolicy that denies egress, then allow the network "
                           "(--allow-network)");
      return FALSE;
    }

  if (self->default_timeout > self->max_timeout)
    {
      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
                   "The default timeout (%g s) is longer than the longest allowed (%g s)",
                   self->default_timeout, self->max_timeout);
      return FALSE;
    }
  return TRUE;
}

/**
 * llmsbx_session_table_set_runtime_configs_json:
 * @self: a #LlmsbxSessionTable
 * @json: a JSON object of container settings, as `llmsbx run --runtime-configs` takes
 * @error: return location for a #GError
 *
 * Sets the operator's runtime configs, which every session gets over the
 * preset's.
 *
 * Returns: %TRUE when @json is a valid runtime config
 */
gboolean
llmsbx_session_table_set_runtime_configs_json (LlmsbxSessionTable  *self,
                                               const char          *json,
                                               GError             **error)
{
  g_autoptr(LlmsbxSandboxSession) parser = llmsbx_sandbox_session_new (NULL);

  g_return_val_if_fail (LLMSBX_IS_SESSION_TABLE (self), FALSE);
  g_return_val_if_fail (json != NULL, FALSE);

  /* The session's own reader, so the services take what `llmsbx run` takes. */
  if (!llmsbx_sandbox_session_set_runtime_configs_json (parser, json, error))
    return FALSE;
  g_object_set (self, "runtime-configs", llmsbx_sandbox_session_get_runtime_configs (parser), NULL);
  return TRUE;
}

/**
 * llmsbx_session_table_resolve_timeout:
 * @self: a #LlmsbxSessionTable
 * @timeout: seconds a client asked for; 0 for the table's default
 * @resolved: (out): the seconds a run gets
 * @error: return location for a #GError
 *
 * Returns: %TRUE unless @timeout is negative, not a number, or longer than
 *   the table allows
 */
gboolean
llmsbx_session_table_resolve_timeout (LlmsbxSessionTable  *self,
                                      double               timeout,
                                      double              *resolved,
                                      GError             **error)
{
  g_return_val_if_fail (LLMSBX_IS_SESSION_TABLE (self), FALSE);

  if (!isfinite (timeout) || timeout < 0)
    {
      g_set_error_literal (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
                           "A timeout must be a positive number of seconds");
      return FALSE;
    }
  if (timeout > self->max_timeout)
    {
      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
                   "A timeout of %g s is longer than the %g s this service allows",
                   timeout, self->max_timeout);
      return FALSE;
    }
  *resolved = timeout > 0 ? timeout : self->default_timeout;
  return TRUE;
}

/* Sandboxes -------------------------------------------------------------- */

static gboolean
take_sandbox (LlmsbxSessionTable *self)
{
  if (self->n_sandboxes >= self->max_sandboxes)
    return FALSE;
  self->n_sandboxes++;
  return TRUE;
}

static void run_once_start (GTask *task);

/* A sandbox is free again: the longest waiting run gets it. */
static void
release_sandbox (LlmsbxSessionTable *self)
{
  g_assert (self->n_sandboxes > 0);
  self->n_sandboxes--;

  while (self->waiters.length > 0 && take_sandbox (self))
    run_once_start (g_queue_pop_head (&self->waiters));
}

/* One-off runs ----------------------------------------------------------- */

typedef struct {
  LlmsbxSandboxSession  *session;
  char                  *code;
  GStrv                  libraries;
  double                 timeout;
  GCancellable          *cancellable;  /* the caller's, or the shutdown's */
  CancelLink            *link;
  GSource               *wait_source;  /* while waiting for a sandbox */
  gboolean               has_sandbox;
  LlmsbxExecutionResult *result;
  GError                *error;
} RunOnce;

static void
run_once_free (gpointer data)
{
  RunOnce *run = data;

  g_clear_object (&run->session);
  g_free (run->code);
  g_strfreev (run->libraries);
  cancel_link_free (run->link);
  g_clear_object (&run->cancellable);
  g_assert (run->wait_source == NULL);
  g_clear_object (&run->result);
  g_clear_error (&run->error);
  g_free (run);
}

static void
run_once_return (GTask *task)
{
  LlmsbxSessionTable *self = g_task_get_source_object (task);
  RunOnce *run = g_task_get_task_data (task);

  if (run->has_sandbox)
    release_sandbox (self);
  operation_end (self, run->cancellable);

  if (run->result != NULL)
    g_task_return_pointer (task, g_steal_pointer (&run->result), g_object_unref);
  else
    g_task_return_error (task, g_steal_pointer (&run->error));
  g_object_unref (task);
}

static void
on_run_once_closed (GObject      *source,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  GTask *task = user_data;
  g_autoptr(GError) error = NULL;

  /* The client's result stands; a sandbox that stayed is the operator's to
   * know about (its labels find it). */
  if (!llmsbx_sandbox_session_close_finish (LLMSBX_SANDBOX_SESSION (source), result, &error))
    g_warning ("Could not remove a sandbox after a run: %s", error->message);
  run_once_return (task);
}

static void
run_once_close (GTask *task)
{
  RunOnce *run = g_task_get_task_data (task);

  /* Never cancelled: the sandbox goes away after a cancelled run too. */
  llmsbx_sandbox_session_close_async (run->session, NULL, on_run_once_closed, task);
}

static void
on_run_once_ran (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  GTask *task = user_data;
  RunOnce *run = g_task_get_task_data (task);

  run->result = llmsbx_sandbox_session_run_finish (run->session, result, &run->error);
  run_once_close (task);
}

static void
on_run_once_opened (GObject      *source,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  GTask *task = user_data;
  RunOnce *run = g_task_get_task_data (task);

  if (!llmsbx_sandbox_session_open_finish (run->session, result, &run->error) ||
      g_cancellable_set_error_if_cancelled (run->cancellable, &run->error))
    {
      run_once_close (task);
      return;
    }

  llmsbx_sandbox_session_run_async (run->session, run->code, (const char * const *) run->libraries,
                                    run->timeout, run->cancellable, on_run_once_ran, task);
}

static void
run_once_start (GTask *task)
{
  RunOnce *run = g_task_get_task_data (task);

  destroy_source (&run->wait_source);
  run->has_sandbox = TRUE;
  llmsbx_sandbox_session_open_async (run->session, NULL, on_run_once_opened, task);
}

static gboolean
on_wait_cancelled (GCancellable *cancellable,
                   gpointer      user_data)
{
  GTask *task = user_data;
  LlmsbxSessionTable *self = g_task_get_source_object (task);
  RunOnce *run = g_task_get_task_data (task);

  destroy_source (&run->wait_source);
  g_queue_remove (&self->waiters, task);
  g_cancellable_set_error_if_cancelled (run->cancellable, &run->error);
  run_once_return (task);
  return G_SOURCE_REMOVE;
}

/**
 * llmsbx_session_table_run_once_async:
 * @self: a #LlmsbxSessionTable
 * @lang: (nullable): the language, %NULL for `python`
 * @code: the code
 * @libraries: (array zero-terminated=1) (nullable): libraries to install first
 * @timeout: seconds the code may run, already resolved
 * @cancellable: (nullable): cancels the run, killing what it started
 * @callback: called with the result
 * @user_data: data for @callback
 *
 * Runs @code in a sandbox of its own with the table's safe defaults, and
 * removes the sandbox. When every sandbox the table allows is in use, the
 * run waits for one.
 */
void
llmsbx_session_table_run_once_async (LlmsbxSessionTable  *self,
                                     const char          *lang,
                                     const char          *code,
                                     const char * const  *libraries,
                                     double               timeout,
                                     GCancellable        *cancellable,
                                     GAsyncReadyCallback  callback,
                                     gpointer             user_data)
{
  GTask *task;
  RunOnce *run;
  GError *error = NULL;
  g_autoptr(LlmsbxSandboxSession) session = NULL;

  g_return_if_fail (LLMSBX_IS_SESSION_TABLE (self));
  g_return_if_fail (code != NULL);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, llmsbx_session_table_run_once_async);

  session = new_session_of_kind (self, SESSION_ONCE, lang, &error);
  if (session == NULL)
    {
      g_task_return_error (task, error);
      g_object_unref (task);
      return;
    }

  run = g_new0 (RunOnce, 1);
  run->session = g_steal_pointer (&session);
  run->code = g_strdup (code);
  run->libraries = g_strdupv ((char **) libraries);
  run->timeout = timeout;
  run->cancellable = g_cancellable_new ();
  run->link = cancel_link_new (cancellable, run->cancellable);
  g_task_set_task_data (task, run, run_once_free);

  operation_begin (self, run->cancellable);
  if (take_sandbox (self))
    {
      run_once_start (task);
      return;
    }

  run->wait_source = attach_source (self, g_cancellable_source_new (run->cancellable),
                                    G_SOURCE_FUNC (on_wait_cancelled), task);
  g_queue_push_tail (&self->waiters, task);
}

/**
 * llmsbx_session_table_run_once_finish:
 * @self: a #LlmsbxSessionTable
 * @result: the #GAsyncResult
 * @error: return location for a #GError
 *
 * Returns: (transfer full): the result, or %NULL on error
 */
LlmsbxExecutionResult *
llmsbx_session_table_run_once_finish (LlmsbxSessionTable  *self,
                                      GAsyncResult        *result,
                                      GError             **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == llmsbx_session_table_run_once_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/* Kept sessions ---------------------------------------------------------- */

typedef struct {
  guint                 ref_count;    /* one is the table's, while in it */
  LlmsbxSessionTable   *table;        /* not a reference: operations hold it */
  guint                 id;
  char                 *owner;
  LlmsbxSandboxSession *session;
  GCancellable         *cancellable;  /* cancelled when the entry leaves the table */
  guint                 uses;
  GSource              *idle_source;
  gboolean              ready;        /* open, and its id given out */
  gboolean              removed;
  GPtrArray            *close_tasks;  /* GTask waiting for the removal */
} Entry;

static Entry *
entry_ref (Entry *entry)
{
  entry->ref_count++;
  return entry;
}

static void
entry_unref (Entry *entry)
{
  if (--entry->ref_count > 0)
    return;
  g_assert (entry->idle_source == NULL);
  g_free (entry->owner);
  g_object_unref (entry->session);
  g_object_unref (entry->cancellable);
  g_ptr_array_unref (entry->close_tasks);
  g_free (entry);
}

static void
on_entry_closed (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  Entry *entry = user_data;
  LlmsbxSessionTable *self = entry->table;
  g_autoptr(GError) error = NULL;
  gboolean ok = llmsbx_sandbox_session_close_finish (entry->session, result, &error);

  if (!ok && entry->close_tasks->len == 0)
    g_warning ("Could not remove the sandbox of session %u: %s", entry->id, error->message);
  for (guint i = 0; i < entry->close_tasks->len; i++)
    {
      if (ok)
        g_task_return_boolean (entry->close_tasks->pdata[i], TRUE);
      else
        g_task_return_error (entry->close_tasks->pdata[i], g_error_copy (error));
    }
  g_ptr_array_set_size (entry->close_tasks, 0);

  release_sandbox (self);
  operation_end (self, NULL);
  entry_unref (entry);
}

/* The entry leaves the table: nobody can find it any more, what uses it is
 * cancelled (killing code it runs), and its sandbox is removed. */
static void
entry_remove (Entry      *entry,
              const char *why)
{
  LlmsbxSessionTable *self = entry->table;

  if (entry->removed)
    return;
  entry->removed = TRUE;
  g_hash_table_remove (self->entries, GUINT_TO_POINTER (entry->id));
  destroy_source (&entry->idle_source);
  g_cancellable_cancel (entry->cancellable);

  g_debug ("session %u of %s: %s", entry->id, entry->owner, why);
  if (entry->ready)
    g_signal_emit (self, signals[SIGNAL_SESSION_CLOSED], 0, entry->id, entry->owner);

  operation_begin (self, NULL);
  llmsbx_sandbox_session_close_async (entry->session, NULL, on_entry_closed, entry_ref (entry));
  /* The table's own reference: the close holds the entry now. */
  entry_unref (entry);
}

static gboolean
on_entry_idle (gpointer user_data)
{
  Entry *entry = user_data;

  g_clear_pointer (&entry->idle_source, g_source_unref);
  entry_remove (entry, "expired while idle");
  return G_SOURCE_REMOVE;
}

static void
entry_arm_idle (Entry *entry)
{
  LlmsbxSessionTable *self = entry->table;

  destroy_source (&entry->idle_source);
  if (entry->removed || entry->uses > 0 || self->idle_timeout <= 0)
    return;
  entry->idle_source = attach_source (self, g_timeout_source_new ((guint) MIN (ceil (self->idle_timeout * 1000),
                                                                              G_MAXUINT)),
                                      on_entry_idle, entry);
}

static Entry *
lookup_entry (LlmsbxSessionTable  *self,
              guint                id,
              const char          *owner,
              GError             **error)
{
  Entry *entry = g_hash_table_lookup (self->entries, GUINT_TO_POINTER (id));

  if (entry == NULL || !entry->ready)
    {
      g_set_error (error, LLMSBX_SERVICE_ERROR, LLMSBX_SERVICE_ERROR_NO_SUCH_SESSION,
                   "No session %u is open (closed, expired, or never opened)", id);
      return NULL;
    }
  if (g_strcmp0 (entry->owner, owner) != 0)
    {
      g_set_error (error, LLMSBX_SERVICE_ERROR, LLMSBX_SERVICE_ERROR_ACCESS_DENIED,
                   "Session %u belongs to another client", id);
      return NULL;
    }
  return entry;
}

static guint
count_owned (LlmsbxSessionTable *self,
             const char         *owner)
{
  GHashTableIter iter;
  Entry *entry;
  guint n = 0;

  g_hash_table_iter_init (&iter, self->entries);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &entry))
    if (g_str_equal (entry->owner, owner))
      n++;
  return n;
}

typedef struct {
  Entry      *entry;
  CancelLink *link;
} OpenData;

static void
open_data_free (gpointer data)
{
  OpenData *open = data;

  cancel_link_free (open->link);
  entry_unref (open->entry);
  g_free (open);
}

static void
on_entry_opened (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  LlmsbxSessionTable *self = g_task_get_source_object (task);
  OpenData *open = g_task_get_task_data (task);
  Entry *entry = open->entry;
  GError *error = NULL;

  g_clear_pointer (&open->link, cancel_link_free);
  if (!llmsbx_sandbox_session_open_finish (entry->session, result, &error) ||
      g_cancellable_set_error_if_cancelled (entry->cancellable, &error))
    {
      entry_remove (entry, "failed to open");
      g_task_return_error (task, error);
    }
  else
    {
      entry->ready = TRUE;
      entry_arm_idle (entry);
      g_task_return_int (task, entry->id);
    }
  operation_end (self, NULL);
}

/**
 * llmsbx_session_table_open_async:
 * @self: a #LlmsbxSessionTable
 * @owner: who owns the session: only the same owner may use it
 * @lang: (nullable): the language, %NULL for `python`
 * @cancellable: (nullable): a #GCancellable
 * @callback: called when the session is open or failed to open
 * @user_data: data for @callback
 *
 * Opens a kept session. It takes one of the table's sandboxes until it is
 * closed, until llmsbx_session_table_close_owner() for @owner, or until it
 * was idle for #LlmsbxSessionTable:idle-timeout. Fails at once with
 * %LLMSBX_SERVICE_ERROR_LIMIT_REACHED when no sandbox is free or @owner holds
 * as many sessions as allowed.
 */
void
llmsbx_session_table_open_async (LlmsbxSessionTable  *self,
                                 const char          *owner,
                                 const char          *lang,
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(LlmsbxSandboxSession) session = NULL;
  GError *error = NULL;
  OpenData *open;
  Entry *entry;

  g_return_if_fail (LLMSBX_IS_SESSION_TABLE (self));
  g_return_if_fail (owner != NULL);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, llmsbx_session_table_open_async);

  session = new_session_of_kind (self, SESSION_KEPT, lang, &error);
  if (session == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  if (count_owned (self, owner) >= self->max_per_owner)
    {
      g_task_return_new_error (task, LLMSBX_SERVICE_ERROR, LLMSBX_SERVICE_ERROR_LIMIT_REACHED,
                               "This client has %u sessions open, the most this service allows; "
                               "close one first", self->max_per_owner);
      return;
    }
  if (!take_sandbox (self))
    {
      g_task_return_new_error (task, LLMSBX_SERVICE_ERROR, LLMSBX_SERVICE_ERROR_LIMIT_REACHED,
                               "All %u sandboxes this service allows are in use; close a session "
                               "or try again later", self->max_sandboxes);
      return;
    }

  entry = g_new0 (Entry, 1);
  entry->ref_count = 1;
  entry->table = self;
  entry->id = ++self->next_id;
  entry->owner = g_strdup (owner);
  entry->session = g_steal_pointer (&session);
  entry->cancellable = g_cancellable_new ();
  entry->close_tasks = g_ptr_array_new_with_free_func (g_object_unref);
  g_hash_table_insert (self->entries, GUINT_TO_POINTER (entry->id), entry);

  open = g_new0 (OpenData, 1);
  open->entry = entry_ref (entry);
  open->link = cancel_link_new (cancellable, entry->cancellable);
  g_task_set_task_data (task, open, open_data_free);

  operation_begin (self, NULL);
  llmsbx_sandbox_session_open_async (entry->session, NULL, on_entry_opened, g_steal_pointer (&task));
}

/**
 * llmsbx_session_table_open_finish:
 * @self: a #LlmsbxSessionTable
 * @result: the #GAsyncResult
 * @error: return location for a #GError
 *
 * Returns: the session's id, never 0; 0 on error
 */
guint
llmsbx_session_table_open_finish (LlmsbxSessionTable  *self,
                                  GAsyncResult        *result,
                                  GError             **error)
{
  g_autoptr(GError) local_error = NULL;
  gssize id;

  g_return_val_if_fail (g_task_is_valid (result, self), 0);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == llmsbx_session_table_open_async, 0);

  id = g_task_propagate_int (G_TASK (result), &local_error);
  if (local_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return 0;
    }
  return (guint) id;
}

/**
 * llmsbx_session_table_lookup:
 * @self: a #LlmsbxSessionTable
 * @id: a session's id
 * @owner: who asks
 * @error: return location for a #GError
 *
 * Returns: (transfer none): the session, or %NULL with
 *   %LLMSBX_SERVICE_ERROR_NO_SUCH_SESSION or, when @owner does not own it,
 *   %LLMSBX_SERVICE_ERROR_ACCESS_DENIED
 */
LlmsbxSandboxSession *
llmsbx_session_table_lookup (LlmsbxSessionTable  *self,
                             guint                id,
                             const char          *owner,
                             GError             **error)
{
  Entry *entry;

  g_return_val_if_fail (LLMSBX_IS_SESSION_TABLE (self), NULL);

  entry = lookup_entry (self, id, owner, error);
  return entry ? entry->session : NULL;
}

struct _LlmsbxSessionUse
{
  LlmsbxSessionTable *table;
  Entry              *entry;
  GCancellable       *cancellable;
  CancelLink         *caller_link;
  CancelLink         *entry_link;
};

/**
 * llmsbx_session_table_begin_use:
 * @self: a #LlmsbxSessionTable
 * @id: a session's id
 * @owner: who asks
 * @cancellable: (nullable): the caller's #GCancellable
 * @error: return location for a #GError
 *
 * Marks a kept session in use, so that it does not expire meanwhile, for
 * work done on it outside the table (in a thread of the caller's). End it
 * with llmsbx_session_use_end() in the table's thread.
 *
 * Returns: (transfer full): the use, or %NULL as for llmsbx_session_table_lookup()
 */
LlmsbxSessionUse *
llmsbx_session_table_begin_use (LlmsbxSessionTable  *self,
                                guint                id,
                                const char          *owner,
                                GCancellable        *cancellable,
                                GError             **error)
{
  LlmsbxSessionUse *use;
  Entry *entry;

  g_return_val_if_fail (LLMSBX_IS_SESSION_TABLE (self), NULL);

  entry = lookup_entry (self, id, owner, error);
  if (entry == NULL)
    return NULL;

  use = g_new0 (LlmsbxSessionUse, 1);
  use->table = self;
  use->entry = entry_ref (entry);
  use->cancellable = g_cancellable_new ();
  use->caller_link = cancel_link_new (cancellable, use->cancellable);
  use->entry_link = cancel_link_new (entry->cancellable, use->cancellable);

  entry->uses++;
  destroy_source (&entry->idle_source);
  operation_begin (self, NULL);
  return use;
}

/**
 * llmsbx_session_use_get_session:
 * @use: a #LlmsbxSessionUse
 *
 * Returns: (transfer none): the session in use
 */
LlmsbxSandboxSession *
llmsbx_session_use_get_session (LlmsbxSessionUse *use)
{
  return use->entry->session;
}

/**
 * llmsbx_session_use_get_cancellable:
 * @use: a #LlmsbxSessionUse
 *
 * Returns: (transfer none): cancelled when the caller's cancellable is, or
 *   when the session leaves the table (closed, expired, owner gone)
 */
GCancellable *
llmsbx_session_use_get_cancellable (LlmsbxSessionUse *use)
{
  return use->cancellable;
}

/**
 * llmsbx_session_use_end:
 * @use: (transfer full): a #LlmsbxSessionUse
 *
 * Ends a use. A session that closed itself meanwhile (its session-timeout,
 * or code that could not be killed) leaves the table.
 */
void
llmsbx_session_use_end (LlmsbxSessionUse *use)
{
  Entry *entry = use->entry;
  LlmsbxSessionTable *self = use->table;

  cancel_link_free (use->caller_link);
  cancel_link_free (use->entry_link);
  g_object_unref (use->cancellable);

  g_assert (entry->uses > 0);
  entry->uses--;
  if (!entry->removed && !llmsbx_sandbox_session_get_is_open (entry->session))
    entry_remove (entry, "ended by itself");
  else
    entry_arm_idle (entry);

  entry_unref (entry);
  g_free (use);
  operation_end (self, NULL);
}

static void
on_entry_ran (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  LlmsbxSessionUse *use = g_task_get_task_data (task);
  GError *error = NULL;
  LlmsbxExecutionResult *ran;

  ran = llmsbx_sandbox_session_run_finish (LLMSBX_SANDBOX_SESSION (source), result, &error);
  g_task_set_task_data (task, NULL, NULL);
  llmsbx_session_use_end (use);

  if (ran != NULL)
    g_task_return_pointer (task, ran, g_object_unref);
  else
    g_task_return_error (task, error);
}

/**
 * llmsbx_session_table_run_async:
 * @self: a #LlmsbxSessionTable
 * @id: a kept session's id
 * @owner: who asks
 * @code: the code
 * @libraries: (array zero-terminated=1) (nullable): libraries to install first
 * @timeout: seconds the code may run, already resolved
 * @cancellable: (nullable): cancels the run, killing what it started; the session stays
 * @callback: called with the result
 * @user_data: data for @callback
 *
 * Runs code in a kept session; files the last run left are still there.
 */
void
llmsbx_session_table_run_async (LlmsbxSessionTable  *self,
                                guint                id,
                                const char          *owner,
                                const char          *code,
                                const char * const  *libraries,
                                double               timeout,
                                GCancellable        *cancellable,
                                GAsyncReadyCallback  callback,
                                gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  LlmsbxSessionUse *use;
  GError *error = NULL;

  g_return_if_fail (LLMSBX_IS_SESSION_TABLE (self));
  g_return_if_fail (code != NULL);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, llmsbx_session_table_run_async);

  use = llmsbx_session_table_begin_use (self, id, owner, cancellable, &error);
  if (use == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  g_task_set_task_data (task, use, NULL);
  llmsbx_sandbox_session_run_async (llmsbx_session_use_get_session (use), code, libraries, timeout,
                                    llmsbx_session_use_get_cancellable (use), on_entry_ran,
                                    g_steal_pointer (&task));
}

/**
 * llmsbx_session_table_run_finish:
 * @self: a #LlmsbxSessionTable
 * @result: the #GAsyncResult
 * @error: return location for a #GError
 *
 * Returns: (transfer full): the result, or %NULL on error
 */
LlmsbxExecutionResult *
llmsbx_session_table_run_finish (LlmsbxSessionTable  *self,
                                 GAsyncResult        *result,
                                 GError             **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == llmsbx_session_table_run_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/**
 * llmsbx_session_table_close_async:
 * @self: a #LlmsbxSessionTable
 * @id: a kept session's id
 * @owner: who asks
 * @callback: called when the sandbox is removed
 * @user_data: data for @callback
 *
 * Closes a kept session: at once nobody can use it, what runs in it is
 * killed, and the callback comes when its sandbox is removed.
 */
void
llmsbx_session_table_close_async (LlmsbxSessionTable  *self,
                                  guint                id,
                                  const char          *owner,
                                  GAsyncReadyCallback  callback,
                                  gpointer             user_data)
{
  GTask *task;
  GError *error = NULL;
  Entry *entry;

  g_return_if_fail (LLMSBX_IS_SESSION_TABLE (self));

  task = g_task_new (self, NULL, callback, user_data);
  g_task_set_source_tag (task, llmsbx_session_table_close_async);

  entry = lookup_entry (self, id, owner, &error);
  if (entry == NULL)
    {
      g_task_return_error (task, error);
      g_object_unref (task);
      return;
    }
  g_ptr_array_add (entry->close_tasks, task);
  entry_remove (entry, "closed by its owner");
}

/**
 * llmsbx_session_table_close_finish:
 * @self: a #LlmsbxSessionTable
 * @result: the #GAsyncResult
 * @error: return location for a #GError
 *
 * Returns: %TRUE when the session's sandbox was removed
 */
gboolean
llmsbx_session_table_close_finish (LlmsbxSessionTable  *self,
                                   GAsyncResult        *result,
                                   GError             **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == llmsbx_session_table_close_async, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

static GPtrArray *
owned_entries (LlmsbxSessionTable *self,
               const char         *owner)
{
  GPtrArray *owned = g_ptr_array_new ();
  GHashTableIter iter;
  Entry *entry;

  g_hash_table_iter_init (&iter, self->entries);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &entry))
    if (owner == NULL || g_str_equal (entry->owner, owner))
      g_ptr_array_add (owned, entry);
  return owned;
}

/**
 * llmsbx_session_table_close_owner:
 * @self: a #LlmsbxSessionTable
 * @owner: a client that went away
 *
 * Closes every session of @owner, also those still opening, killing what
 * runs in them; their sandboxes are removed in the background.
 *
 * Returns: how many sessions it closed
 */
guint
llmsbx_session_table_close_owner (LlmsbxSessionTable *self,
                                  const char         *owner)
{
  g_autoptr(GPtrArray) owned = NULL;

  g_return_val_if_fail (LLMSBX_IS_SESSION_TABLE (self), 0);
  g_return_val_if_fail (owner != NULL, 0);

  owned = owned_entries (self, owner);
  for (guint i = 0; i < owned->len; i++)
    entry_remove (owned->pdata[i], "its owner went away");
  return owned->len;
}

static int
compare_ids (gconstpointer a,
             gconstpointer b)
{
  guint x = *(const guint *) a, y = *(const guint *) b;

  return x < y ? -1 : x > y;
}

/**
 * llmsbx_session_table_list:
 * @self: a #LlmsbxSessionTable
 * @owner: (nullable): whose sessions; %NULL for everyone's
 *
 * Returns: (transfer full) (element-type guint): the ids of the open
 *   sessions, in the order they were opened
 */
GArray *
llmsbx_session_table_list (LlmsbxSessionTable *self,
                           const char         *owner)
{
  g_autoptr(GPtrArray) owned = NULL;
  GArray *ids = g_array_new (FALSE, FALSE, sizeof (guint));

  g_return_val_if_fail (LLMSBX_IS_SESSION_TABLE (self), ids);

  owned = owned_entries (self, owner);
  for (guint i = 0; i < owned->len; i++)
    {
      Entry *entry = owned->pdata[i];

      if (entry->ready)
        g_array_append_val (ids, entry->id);
    }
  g_array_sort (ids, compare_ids);
  return ids;
}

/* Shutdown --------------------------------------------------------------- */

/**
 * llmsbx_session_table_shutdown_async:
 * @self: a #LlmsbxSessionTable
 * @callback: called when every sandbox of the table is gone
 * @user_data: data for @callback
 *
 * Takes no new work, cancels every run (waiting ones too), closes every
 * session, and calls back when all the table's sandboxes are removed.
 */
void
llmsbx_session_table_shutdown_async (LlmsbxSessionTable  *self,
                                     GAsyncReadyCallback  callback,
                                     gpointer             user_data)
{
  g_autoptr(GPtrArray) all = NULL;
  g_autoptr(GPtrArray) active = NULL;
  GTask *task;

  g_return_if_fail (LLMSBX_IS_SESSION_TABLE (self));

  task = g_task_new (self, NULL, callback, user_data);
  g_task_set_source_tag (task, llmsbx_session_table_shutdown_async);
  g_ptr_array_add (self->shutdown_tasks, task);
  self->shutting_down = TRUE;

  /* A copy: cancelling may end operations, which changes the array. */
  active = g_ptr_array_new_full (self->active->len, g_object_unref);
  for (guint i = 0; i < self->active->len; i++)
    g_ptr_array_add (active, g_object_ref (self->active->pdata[i]));
  for (guint i = 0; i < active->len; i++)
    g_cancellable_cancel (active->pdata[i]);

  all = owned_entries (self, NULL);
  for (guint i = 0; i < all->len; i++)
    entry_remove (all->pdata[i], "the service is shutting down");

  check_idle (self);
}

/**
 * llmsbx_session_table_shutdown_finish:
 * @self: a #LlmsbxSessionTable
 * @result: the #GAsyncResult
 * @error: return location for a #GError
 *
 * Returns: %TRUE
 */
gboolean
llmsbx_session_table_shutdown_finish (LlmsbxSessionTable  *self,
                                      GAsyncResult        *result,
                                      GError             **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == llmsbx_session_table_shutdown_async, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/* Accessors -------------------------------------------------------------- */

const char *
llmsbx_session_table_get_preset (LlmsbxSessionTable *self)
{
  g_return_val_if_fail (LLMSBX_IS_SESSION_TABLE (self), NULL);
  return uses_preset (self) ? self->preset : NULL;
}

double
llmsbx_session_table_get_idle_timeout (LlmsbxSessionTable *self)
{
  g_return_val_if_fail (LLMSBX_IS_SESSION_TABLE (self), 0);
  return self->idle_timeout;
}

double
llmsbx_session_table_get_max_timeout (LlmsbxSessionTable *self)
{
  g_return_val_if_fail (LLMSBX_IS_SESSION_TABLE (self), 0);
  return self->max_timeout;
}

double
llmsbx_session_table_get_default_timeout (LlmsbxSessionTable *self)
{
  g_return_val_if_fail (LLMSBX_IS_SESSION_TABLE (self), 0);
  return self->default_timeout;
}

/**
 * llmsbx_session_table_get_idle:
 * @self: a #LlmsbxSessionTable
 *
 * Returns: %TRUE when the table has no session and nothing in progress
 */
gboolean
llmsbx_session_table_get_idle (LlmsbxSessionTable *self)
{
  g_return_val_if_fail (LLMSBX_IS_SESSION_TABLE (self), FALSE);
  return self->idle;
}

/* GObject ---------------------------------------------------------------- */

LlmsbxSessionTable *
llmsbx_session_table_new (void)
{
  return g_object_new (LLMSBX_TYPE_SESSION_TABLE, NULL);
}

static void
llmsbx_session_table_get_property (GObject    *object,
                                   guint       prop_id,
                                   GValue     *value,
                                   GParamSpec *pspec)
{
  LlmsbxSessionTable *self = LLMSBX_SESSION_TABLE (object);

  switch (prop_id)
    {
    case PROP_BACKEND: g_value_set_string (value, self->backend); break;
    case PROP_CLIENT: g_value_set_object (value, self->client); break;
    case PROP_PRESET: g_value_set_string (value, self->preset); break;
    case PROP_ALLOW_NETWORK: g_value_set_boolean (value, self->allow_network); break;
    case PROP_RUNTIME_CONFIGS: g_value_set_variant (value, self->runtime_configs); break;
    case PROP_MAX_SANDBOXES: g_value_set_uint (value, self->max_sandboxes); break;
    case PROP_MAX_SESSIONS_PER_OWNER: g_value_set_uint (value, self->max_per_owner); break;
    case PROP_IDLE_TIMEOUT: g_value_set_double (value, self->idle_timeout); break;
    case PROP_DEFAULT_TIMEOUT: g_value_set_double (value, self->default_timeout); break;
    case PROP_MAX_TIMEOUT: g_value_set_double (value, self->max_timeout); break;
    case PROP_OUTPUT_LIMIT: g_value_set_uint64 (value, self->output_limit); break;
    case PROP_VERBOSE: g_value_set_boolean (value, self->verbose); break;
    case PROP_INTERACTIVE_SESSIONS: g_value_set_boolean (value, self->interactive_sessions); break;
    case PROP_CAPTURE_PLOTS: g_value_set_boolean (value, self->capture_plots); break;
    case PROP_IDLE: g_value_set_boolean (value, self->idle); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
llmsbx_session_table_set_property (GObject      *object,
                                   guint         prop_id,
                                   const GValue *value,
                                   GParamSpec   *pspec)
{
  LlmsbxSessionTable *self = LLMSBX_SESSION_TABLE (object);

  switch (prop_id)
    {
    case PROP_BACKEND:
      g_free (self->backend);
      self->backend = g_value_dup_string (value);
      self->attached_execs = -1;
      break;
    case PROP_CLIENT:
      g_set_object (&self->client, g_value_get_object (value));
      self->attached_execs = -1;
      break;
    case PROP_PRESET:
      g_free (self->preset);
      self->preset = g_value_dup_string (value);
      break;
    case PROP_ALLOW_NETWORK: self->allow_network = g_value_get_boolean (value); break;
    case PROP_RUNTIME_CONFIGS:
      g_clear_pointer (&self->runtime_configs, g_variant_unref);
      self->runtime_configs = g_value_dup_variant (value);
      break;
    case PROP_MAX_SANDBOXES:
      self->max_sandboxes = g_value_get_uint (value);
      /* More room: runs that waited may start. */
      while (self->waiters.length > 0 && take_sandbox (self))
        run_once_start (g_queue_pop_head (&self->waiters));
      break;
    case PROP_MAX_SESSIONS_PER_OWNER: self->max_per_owner = g_value_get_uint (value); break;
    case PROP_IDLE_TIMEOUT: self->idle_timeout = g_value_get_double (value); break;
    case PROP_DEFAULT_TIMEOUT: self->default_timeout = g_value_get_double (value); break;
    case PROP_MAX_TIMEOUT: self->max_timeout = g_value_get_double (value); break;
    case PROP_OUTPUT_LIMIT: self->output_limit = g_value_get_uint64 (value); break;
    case PROP_VERBOSE: self->verbose = g_value_get_boolean (value); break;
    case PROP_INTERACTIVE_SESSIONS: self->interactive_sessions = g_value_get_boolean (value); break;
    case PROP_CAPTURE_PLOTS: self->capture_plots = g_value_get_boolean (value); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
llmsbx_session_table_finalize (GObject *object)
{
  LlmsbxSessionTable *self = LLMSBX_SESSION_TABLE (object);
  g_autoptr(GPtrArray) left = owned_entries (self, NULL);

  /* Operations hold the table, so only sessions nobody closed are left:
   * dropping them closes them (LlmsbxSandboxSession's dispose). */
  for (guint i = 0; i < left->len; i++)
    {
      Entry *entry = left->pdata[i];

      destroy_source (&entry->idle_source);
      entry_unref (entry);
    }
  g_hash_table_unref (self->entries);
  g_assert (self->waiters.length == 0);
  g_ptr_array_unref (self->active);
  g_ptr_array_unref (self->shutdown_tasks);
  g_free (self->backend);
  g_clear_object (&self->client);
  g_free (self->preset);
  g_clear_pointer (&self->runtime_configs, g_variant_unref);
  g_main_context_unref (self->context);

  G_OBJECT_CLASS (llmsbx_session_table_parent_class)->finalize (object);
}

static void
llmsbx_session_table_class_init (LlmsbxSessionTableClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GParamFlags flags = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY;

  object_class->get_property = llmsbx_session_table_get_property;
  object_class->set_property = llmsbx_session_table_set_property;
  object_class->finalize = llmsbx_session_table_finalize;

  /**
   * LlmsbxSessionTable:backend:
   *
   * The backend sessions use; %NULL for the registry's default, chosen by
   * llmsbx_session_table_check_config().
   */
  properties[PROP_BACKEND] = g_param_spec_string ("backend", NULL, NULL, NULL, flags);
  /**
   * LlmsbxSessionTable:client:
   *
   * A configured backend every session uses instead of #LlmsbxSessionTable:backend.
   */
  properties[PROP_CLIENT] = g_param_spec_object ("client", NULL, NULL, LLMSBX_TYPE_BACKEND, flags);
  /**
   * LlmsbxSessionTable:preset:
   *
   * The security preset of every session (policy and container settings);
   * `none` for none.
   */
  properties[PROP_PRESET] = g_param_spec_string ("preset", NULL, NULL,
                                                 LLMSBX_SESSION_TABLE_DEFAULT_PRESET, flags | G_PARAM_CONSTRUCT);
  /**
   * LlmsbxSessionTable:allow-network:
   *
   * Whether sandboxes get the network the preset and runtime configs give
   * them; without it they get none.
   */
  properties[PROP_ALLOW_NETWORK] = g_param_spec_boolean ("allow-network", NULL, NULL, FALSE, flags);
  /**
   * LlmsbxSessionTable:runtime-configs:
   *
   * The operator's container settings, over the preset's.
   */
  properties[PROP_RUNTIME_CONFIGS] = g_param_spec_variant ("runtime-configs", NULL, NULL,
                                                           G_VARIANT_TYPE_VARDICT, NULL, flags);
  /**
   * LlmsbxSessionTable:max-sandboxes:
   *
   * Sandboxes that may exist at once: one-off runs and kept sessions.
   */
  properties[PROP_MAX_SANDBOXES] =
    g_param_spec_uint ("max-sandboxes", NULL, NULL, 1, 1024,
                       LLMSBX_SESSION_TABLE_DEFAULT_MAX_SANDBOXES, flags | G_PARAM_CONSTRUCT);
  /**
   * LlmsbxSessionTable:max-sessions-per-owner:
   *
   * Kept sessions one owner may hold.
   */
  properties[PROP_MAX_SESSIONS_PER_OWNER] =
    g_param_spec_uint ("max-sessions-per-owner", NULL, NULL, 1, 1024,
                       LLMSBX_SESSION_TABLE_DEFAULT_MAX_PER_OWNER, flags | G_PARAM_CONSTRUCT);
  /**
   * LlmsbxSessionTable:idle-timeout:
   *
   * Seconds a kept session may go unused before it is closed; 0 for never.
   */
  properties[PROP_IDLE_TIMEOUT] =
    g_param_spec_double ("idle-timeout", NULL, NULL, 0, G_MAXDOUBLE,
                         LLMSBX_SESSION_TABLE_DEFAULT_IDLE_TIMEOUT, flags | G_PARAM_CONSTRUCT);
  /**
   * LlmsbxSessionTable:default-timeout:
   *
   * Seconds a run may take when its client names no timeout; also the
   * sessions' #LlmsbxSandboxSession:default-timeout, for their commands.
   */
  properties[PROP_DEFAULT_TIMEOUT] =
    g_param_spec_double ("default-timeout", NULL, NULL, 0.001, G_MAXDOUBLE,
                         LLMSBX_DEFAULT_TIMEOUT, flags | G_PARAM_CONSTRUCT);
  /**
   * LlmsbxSessionTable:max-timeout:
   *
   * The longest timeout a client may ask for.
   */
  properties[PROP_MAX_TIMEOUT] =
    g_param_spec_double ("max-timeout", NULL, NULL, 0.001, G_MAXDOUBLE,
                         LLMSBX_SESSION_TABLE_DEFAULT_MAX_TIMEOUT, flags | G_PARAM_CONSTRUCT);
  /**
   * LlmsbxSessionTable:output-limit:
   *
   * Bytes of each output stream a run keeps; past it output is dropped and
   * the result says truncated. Lower than a session's own default, since
   * results travel to clients whole (an MCP reply carries them twice).
   */
  properties[PROP_OUTPUT_LIMIT] =
    g_param_spec_uint64 ("output-limit", NULL, NULL, 1, G_MAXUINT64,
                         LLMSBX_SESSION_TABLE_DEFAULT_OUTPUT_LIMIT, flags | G_PARAM_CONSTRUCT);
  /**
   * LlmsbxSessionTable:verbose:
   *
   * Sessions log every step at message level.
   */
  properties[PROP_VERBOSE] = g_param_spec_boolean ("verbose", NULL, NULL, FALSE, flags);
  /**
   * LlmsbxSessionTable:interactive-sessions:
   *
   * Kept sessions of a language the resident runner has a kernel for
   * (Python, JavaScript) are #LlmsbxInteractiveSandboxSession: variables
   * and imports persist from one run to the next, as files do. Where the
   * backend has no attached execs (bubblewrap), and in other languages, they
   * keep files only.
   */
  properties[PROP_INTERACTIVE_SESSIONS] =
    g_param_spec_boolean ("interactive-sessions", NULL, NULL, FALSE, flags);
  /**
   * LlmsbxSessionTable:capture-plots:
   *
   * One-off runs in a language with plot capture (Python, R) are
   * #LlmsbxArtifactSandboxSession runs that bring back the plots their code
   * makes (at most 16, of 8 MiB in all).
   */
  properties[PROP_CAPTURE_PLOTS] = g_param_spec_boolean ("capture-plots", NULL, NULL, FALSE, flags);
  /**
   * LlmsbxSessionTable:idle:
   *
   * %TRUE when the table has no session and nothing in progress.
   */
  properties[PROP_IDLE] = g_param_spec_boolean ("idle", NULL, NULL, TRUE,
                                                G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * LlmsbxSessionTable::session-closed:
   * @self: the table
   * @id: the session's id
   * @owner: its owner
   *
   * A kept session left the table: closed, expired, its owner gone, or the
   * table shutting down. Its sandbox is being removed.
   */
  signals[SIGNAL_SESSION_CLOSED] =
    g_signal_new ("session-closed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 2, G_TYPE_UINT, G_TYPE_STRING);
}

static void
llmsbx_session_table_init (LlmsbxSessionTable *self)
{
  self->context = g_main_context_ref_thread_default ();
  self->entries = g_hash_table_new (NULL, NULL);
  g_queue_init (&self->waiters);
  self->active = g_ptr_array_new_with_free_func (g_object_unref);
  self->shutdown_tasks = g_ptr_array_new_with_free_func (g_object_unref);
  self->idle = TRUE;
  self->attached_execs = -1;
}
