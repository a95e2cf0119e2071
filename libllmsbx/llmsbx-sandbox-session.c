/* llmsbx-sandbox-session.c: a sandbox that runs code, the object users hold.
 *
 * The session orchestrates every run the same way on every backend: the policy
 * checks the code, the code travels in the environment of the exec that runs
 * it (llmsbx-code-writer.c), the language handler's commands run as exact argv
 * vectors with a deadline (llmsbx-guarded-exec.c), and output comes back
 * bounded. Backends know nothing of languages, so behaviour is identical
 * across them. */
#include "config.h"

#include <json-glib/json-glib.h>
#include <math.h>

#include "llmsbx-sandbox-session.h"
#include "llmsbx-archive-spool-private.h"
#include "llmsbx-enum-types.h"
#include "llmsbx-error.h"
#include "llmsbx-code-writer-private.h"
#include "llmsbx-guarded-exec-private.h"
#include "llmsbx-lifetime-watchdog-private.h"
#include "llmsbx-nesting-private.h"
#include "llmsbx-reaper.h"
#include "llmsbx-sandbox-pool-private.h"
#include "llmsbx-registry.h"
#include "llmsbx-security-private.h"
#include "llmsbx-tar-private.h"

/**
 * LlmsbxSandboxSession:
 *
 * A session owns one sandbox (a container or a pod) for one language.
 *
 * Its properties are the configuration parameters of the guide: set them at
 * construction, then call llmsbx_sandbox_session_open(). The session is a
 * #GInitable: g_initable_new() refuses an invalid limit at construction with
 * %LLMSBX_ERROR_INVALID_ARGUMENT (g_object_new() cannot report errors; open()
 * and every later call then refuse it instead). Every method has a
 * synchronous form; open, run and close also have `_async` forms that run in
 * a worker thread and deliver #LlmsbxSandboxSession::output in the caller's
 * main context.
 *
 * ```c
 * g_autoptr(LlmsbxSandboxSession) session = llmsbx_sandbox_session_new ("python");
 * g_autoptr(LlmsbxExecutionResult) result = NULL;
 *
 * if (!llmsbx_sandbox_session_open (session, NULL, &error))
 *   return FALSE;
 * result = llmsbx_sandbox_session_run (session, "print(6*7)", NULL, 0, NULL, &error);
 * llmsbx_sandbox_session_close (session, NULL, NULL);
 * ```
 */


struct _LlmsbxSandboxSession
{
  GObject parent_instance;

  /* Serialises operations on the sandbox; configuration is read under it too. */
  GRecMutex lock;

  /* The operation holding the lock, which close() from another thread
   * cancels rather than waiting for it to end by itself (it may never). */
  GMutex        operation_lock;   /* guards the fields below; never held while waiting */
  GCancellable *operation;
  GThread      *operation_thread;
  gboolean      operation_closed;
  guint         closing;          /* close() calls waiting for the lock */

  /* Configuration. */
  char          *lang;
  char          *backend_name;
  LlmsbxBackend *client;
  char          *image;
  char          *dockerfile;
  char          *workdir;
  char          *container_id;
  gboolean       keep_template;
  gboolean       commit_container;
  char          *commit_image;
  gboolean       skip_environment_setup;
  gboolean       verbose;
  double         default_timeout;
  double         execution_timeout;
  double         session_timeout;
  GVariant      *runtime_configs;
  guint64        output_limit;
  guint64        copy_limit;
  LlmsbxSecurityPolicy *security_policy;
  LlmsbxSandboxPool    *pool;

  /* State while open. */
  LlmsbxLanguageHandler *handler;
  LlmsbxBackend         *backend;
  char                  *sandbox_id;
  char                  *session_uuid;
  char                  *active_image;
  char                  *active_commit_image;  /* where close commits to */
  gboolean               created_sandbox;
  gboolean               image_acquired;
  gboolean               environment_ready;
  guint64                oom_kills_seen;
  gint64                 opened_at;
  gboolean               is_open;

  /* The pool's sandbox this session holds, and the environment of its
   * execs, which names the lease (llmsbx-sandbox-pool.c). */
  LlmsbxPoolLease       *lease;
  char                 **lease_env;

  /* Ends the sandbox when session-timeout passes, even while the session is idle. */
  LlmsbxLifetimeWatchdog *watchdog;
};

static void llmsbx_sandbox_session_initable_iface_init (GInitableIface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (LlmsbxSandboxSession, llmsbx_sandbox_session, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_INITABLE,
                                                      llmsbx_sandbox_session_initable_iface_init))

enum {
  PROP_0,
  PROP_LANG,
  PROP_BACKEND,
  PROP_CLIENT,
  PROP_IMAGE,
  PROP_DOCKERFILE,
  PROP_WORKDIR,
  PROP_CONTAINER_ID,
  PROP_KEEP_TEMPLATE,
  PROP_COMMIT_CONTAINER,
  PROP_COMMIT_IMAGE,
  PROP_SKIP_ENVIRONMENT_SETUP,
  PROP_VERBOSE,
  PROP_DEFAULT_TIMEOUT,
  PROP_EXECUTION_TIMEOUT,
  PROP_SESSION_TIMEOUT,
  PROP_RUNTIME_CONFIGS,
  PROP_OUTPUT_LIMIT,
  PROP_COPY_LIMIT,
  PROP_SECURITY_POLICY,
  PROP_IS_OPEN,
  PROP_POOL,
  N_PROPS
};

enum {
  SIGNAL_OUTPUT,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

static void
session_log (LlmsbxSandboxSession *self,
             const char           *format,
             ...) G_GNUC_PRINTF (2, 3);

/* Verbose sessions log at message level so the log shows without
 * G_MESSAGES_DEBUG; others keep the same lines at debug level. */
static void
session_log (LlmsbxSandboxSession *self,
             const char           *format,
             ...)
{
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);

  if (self->verbose)
    g_message ("[%s] %s", self->session_uuid ? self->session_uuid : "session", message);
  else
    g_debug ("[%s] %s", self->session_uuid ? self->session_uuid : "session", message);
}

/* Live output ------------------------------------------------------------ */

typedef struct {
  LlmsbxSandboxSession *self;
  GMainContext         *context;  /* NULL: emit in the calling thread */
} OutputClosure;

typedef struct {
  LlmsbxSandboxSession *self;
  LlmsbxOutputStream    stream;
  GBytes               *chunk;
} OutputEmission;

static gboolean
emit_output_in_context (gpointer data)
{
  OutputEmission *emission = data;

  g_signal_emit (emission->self, signals[SIGNAL_OUTPUT], 0, emission->stream, emission->chunk);
  return G_SOURCE_REMOVE;
}

static void
output_emission_free (gpointer data)
{
  OutputEmission *emission = data;

  g_object_unref (emission->self);
  g_bytes_unref (emission->chunk);
  g_free (emission);
}

static void
forward_output (LlmsbxOutputStream stream,
                const guint8      *data,
                gsize              length,
                gpointer           user_data)
{
  OutputClosure *closure = user_data;
  g_autoptr(GBytes) chunk = NULL;

  if (length == 0 || !g_signal_has_handler_pending (closure->self, signals[SIGNAL_OUTPUT], 0, FALSE))
    return;

  chunk = g_bytes_new (data, length);
  if (closure->context == NULL)
    {
      g_signal_emit (closure->self, signals[SIGNAL_OUTPUT], 0, stream, chunk);
    }
  else
    {
      OutputEmission *emission = g_new0 (OutputEmission, 1);

      emission->self = g_object_ref (closure->self);
      emission->stream = stream;
      emission->chunk = g_steal_pointer (&chunk);
      g_main_context_invoke_full (closure->context, G_PRIORITY_DEFAULT,
                                  emit_output_in_context, emission, output_emission_free);
    }
}

static void
output_closure_free (gpointer data)
{
  OutputClosure *closure = data;

  g_clear_pointer (&closure->context, g_main_context_unref);
  g_free (closure);
}

/* The context live output is delivered in: the one of the GTask when the
 * operation runs asynchronously, the calling thread otherwise. */
static GPrivate output_context_key;

static LlmsbxOutputCollector *
new_collector (LlmsbxSandboxSession *self)
{
  LlmsbxOutputCollector *collector = llmsbx_output_collector_new (self->output_limit);
  OutputClosure *closure = g_new0 (OutputClosure, 1);
  GMainContext *context = g_private_get (&output_context_key);

  closure->self = self;
  closure->context = context ? g_main_context_ref (context) : NULL;
  llmsbx_output_collector_set_func (collector, forward_output, closure, output_closure_free);
  return collector;
}

/* Operations --------------------------------------------------------------- */

/* Every call that holds the lock works with an operation's cancellable: the
 * caller's, and close() from another thread. */
typedef struct {
  GCancellable *cancellable;
  GCancellable *caller;
  gulong        handler;
} Operation;

static void
cancel_operation (GCancellable *caller,
                  gpointer      operation)
{
  g_cancellable_cancel (operation);
}

/* Called with the lock held. */
static GCancellable *
operation_begin (LlmsbxSandboxSession *self,
                 Operation            *op,
                 GCancellable         *caller)
{
  op->cancellable = g_cancellable_new ();
  op->caller = caller ? g_object_ref (caller) : NULL;
  op->handler = caller ? g_cancellable_connect (caller, G_CALLBACK (cancel_operation), op->cancellable, NULL) : 0;

  g_mutex_lock (&self->operation_lock);
  self->operation = op->cancellable;
  self->operation_thread = g_thread_self ();
  /* A close() already waiting for the lock ends this one at once. */
  self->operation_closed = self->closing > 0;
  if (self->operation_closed)
    g_cancellable_cancel (op->cancellable);
  g_mutex_unlock (&self->operation_lock);
  return op->cancellable;
}

/* Called with the lock held. A call that close() cancelled fails saying so:
 * @what is what was going on. */
static void
operation_end (LlmsbxSandboxSession  *self,
               Operation             *op,
               const char            *what,
               GError               **error)
{
  gboolean closed;

  g_mutex_lock (&self->operation_lock);
  closed = self->operation_closed;
  self->operation = NULL;
  self->operation_thread = NULL;
  self->operation_closed = FALSE;
  g_mutex_unlock (&self->operation_lock);

  if (op->caller != NULL)
    g_cancellable_disconnect (op->caller, op->handler);
  g_clear_object (&op->caller);
  g_clear_object (&op->cancellable);

  if (closed && error != NULL && *error != NULL)
    {
      g_autoptr(GError) original = g_steal_pointer (error);

      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_NOT_OPEN,
                   "The session was closed while %s (%s)", what, original->message);
    }
}

/* Checks ------------------------------------------------------------------ */

/* A timeout is a number of seconds: finite, not negative (0 means no limit)
 * and at most this, about 31 years, so that no deadline in microseconds can
 * overflow. */
#define MAX_TIMEOUT_SECONDS 1e9

static gboolean
check_timeout (const char  *what,
               double       seconds,
               GError     **error)
{
  if (isfinite (seconds) && seconds >= 0 && seconds <= MAX_TIMEOUT_SECONDS)
    return TRUE;

  g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
               "Invalid %s %g: a timeout is a number of seconds from 0 (no limit) to %g",
               what, seconds, MAX_TIMEOUT_SECONDS);
  return FALSE;
}

/* The properties take any number, so that an invalid limit is kept as given
 * and refused here, at construction (GInitable), open and every call that
 * uses it: a limit is never weakened to "none". */
static gboolean
check_limits (LlmsbxSandboxSession *self,
              GError              **error)
{
  return check_timeout ("default-timeout", self->default_timeout, error) &&
         check_timeout ("execution-timeout", self->execution_timeout, error) &&
         check_timeout ("session-timeout", self->session_timeout, error);
}

static gboolean
check_open (LlmsbxSandboxSession *self,
            GError              **error)
{
  if (!check_limits (self, error))
    return FALSE;

  if (self->is_open && self->session_timeout > 0 &&
      (llmsbx_lifetime_watchdog_has_expired (self->watchdog) ||
       g_get_monotonic_time () - self->opened_at > (gint64) (self->session_timeout * G_USEC_PER_SEC)))
    {
      session_log (self, "session lifetime of %g s exceeded, closing", self->session_timeout);
      llmsbx_sandbox_session_close (self, NULL, NULL);
      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_SESSION_EXPIRED,
                   "Session exceeded its maximum lifetime of %g seconds and was closed",
                   self->session_timeout);
      return FALSE;
    }

  if (!self->is_open)
    {
      g_set_error_literal (error, LLMSBX_ERROR, LLMSBX_ERROR_NOT_OPEN,
                           "Session is not open: call open() before running code");
      return FALSE;
    }

  return TRUE;
}

/* A call that failed because the lifetime ended under it (the watchdog
 * removed the sandbox) reports the expiry, not the broken exec. */
static gpointer
report_expiry (LlmsbxSandboxSession *self,
               GError              **error)
{
  if (llmsbx_lifetime_watchdog_has_expired (self->watchdog) ||
      (self->is_open && self->session_timeout > 0 &&
       g_get_monotonic_time () - self->opened_at > (gint64) (self->session_timeout * G_USEC_PER_SEC)))
    {
      g_clear_error (error);
      check_open (self, error);
    }
  return NULL;
}

/* A library name becomes one argv element of the package manager; it must not
 * look like an option or carry characters no package name has. */
static gboolean
validate_library_name (const char *library,
                       GError    **error)
{
  static const char forbidden[] = ";&|$`'\"\\(){}*?";

  if (library[0] == '\0' || library[0] == '-')
    {
      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
                   "Invalid library name '%s': it must not be empty or start with '-'", library);
      return FALSE;
    }

  for (const char *p = library; *p; p++)
    {
      if (g_ascii_isspace (*p) || g_ascii_iscntrl (*p) || strchr (forbidden, *p) != NULL)
        {
          g_autofree char *shown = g_strescape (library, NULL);

          g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
                       "Invalid library name '%s': whitespace, control and shell characters are not allowed",
                       shown);
          return FALSE;
        }
    }

  return TRUE;
}

static double
effective_timeout (LlmsbxSandboxSession *self,
                   double                requested)
{
  if (requested > 0)
    return requested;
  if (self->execution_timeout > 0)
    return self->execution_timeout;
  return self->default_timeout;
}

/* Unbuffered Python output, so live output is live. A sandbox the session
 * creates gets it in its container environment, underneath the user's
 * runtime-configs "environment" (which wins); an exec's own environment would
 * override the user's instead, so commands carry it only in sandboxes the
 * session attached to, whose environment it did not choose. */
static const char * const base_exec_env[] = { "PYTHONUNBUFFERED=1", NULL };

static const char * const *
exec_env (LlmsbxSandboxSession *self)
{
  if (self->lease_env != NULL)
    return (const char * const *) self->lease_env;
  return self->created_sandbox ? NULL : base_exec_env;
}

static LlmsbxRuntimeContext *
runtime_context (LlmsbxSandboxSession *self)
{
  return llmsbx_runtime_context_new (self->workdir, self->environment_ready);
}

/* A command that timed out or was cancelled left processes that could not be
 * killed: they may still run, so the sandbox is not used again. The session
 * closes (removing a sandbox it created) and the error says so. */
static void
close_unstoppable (LlmsbxSandboxSession  *self,
                   GError               **error)
{
  gboolean removed = self->created_sandbox;

  session_log (self, "processes of a stopped command could not be killed, closing");
  llmsbx_sandbox_session_close (self, NULL, NULL);
  if (error != NULL && *error != NULL)
    {
      g_autoptr(GError) original = g_steal_pointer (error);

      g_set_error (error, original->domain, original->code, "%s; %s", original->message,
                   removed ? "the sandbox was removed and the session closed" : "the session was closed");
    }
}

/* Runs one command template after another, stopping at the first failure.
 * With @code, the first command writes it to @file first and the file is
 * removed after the last command (or the first that fails). With @deadline
 * (a run's), all the commands share it; otherwise each may take @timeout. */
static gboolean
run_templates (LlmsbxSandboxSession  *self,
               char                 **templates,
               const char            *file,
               const char            *library,
               const char            *code,
               double                 timeout,
               gint64                 deadline,
               LlmsbxOutputCollector *collector,
               int                   *exit_status,
               GCancellable          *cancellable,
               GError               **error)
{
  *exit_status = 0;

  for (guint i = 0; templates != NULL && templates[i] != NULL; i++)
    {
      g_auto(GStrv) argv = NULL;
      g_autoptr(LlmsbxExecRequest) request = NULL;
      g_autofree char *shown = NULL;
      gboolean unstoppable = FALSE;

      argv = llmsbx_expand_command_template (templates[i], file, self->workdir, library, error);
      if (argv == NULL)
        return FALSE;

      shown = g_strjoinv (" ", argv);
      session_log (self, "exec: %s", shown);

      if (code != NULL)
        request = llmsbx_code_writer_request (file, i == 0 ? code : NULL, templates[i + 1] != NULL,
                                              (const char * const *) argv, exec_env (self));
      else
        {
          request = llmsbx_exec_request_new ((const char * const *) argv);
          request->env = g_strdupv ((char **) exec_env (self));
        }
      request->workdir = g_strdup (self->workdir);
      request->deadline = deadline != 0 ? deadline : llmsbx_guarded_exec_deadline (timeout);

      if (!llmsbx_guarded_exec_request (self->backend, self->sandbox_id, request, timeout,
                                        collector, exit_status, &unstoppable, cancellable, error))
        {
          if (unstoppable)
            close_unstoppable (self, error);
          return FALSE;
        }

      if (*exit_status != 0)
        break;
    }

  return TRUE;
}

/* Exit status 137 is SIGKILL, which the kernel's OOM killer sends, but so
 * may anyone. The memory cgroup's oom_kill counter (cgroup v1 and v2 name it
 * alike) tells them apart: it is the sandbox's, so a rise since the last look
 * is this command's. Read only on this path: one more exec, never otherwise. */
static gboolean
was_oom_killed (LlmsbxSandboxSession *self)
{
  static const char script[] =
    "for f in /sys/fs/cgroup/memory/memory.oom_control /sys/fs/cgroup/memory.events; do\n"
    "  [ -r \"$f\" ] && exec sed -n 's/^oom_kill //p' \"$f\"\n"
    "done\n";
  const char *argv[] = { "sh", "-c", script, NULL };
  g_autoptr(LlmsbxOutputCollector) collector = llmsbx_output_collector_new (256);
  g_autoptr(GBytes) out = NULL;
  g_autofree char *text = NULL;
  guint64 count;
  int status = -1;

  if (!llmsbx_guarded_exec (self->backend, self->sandbox_id, argv, NULL, "/", self->default_timeout,
                            collector, &status, NULL, NULL) || status != 0)
    return FALSE;

  out = llmsbx_output_collector_steal_bytes (collector, LLMSBX_OUTPUT_STREAM_STDOUT);
  text = g_strstrip (g_strndup (g_bytes_get_data (out, NULL), g_bytes_get_size (out)));
  if (!g_ascii_string_to_unsigned (text, 10, 0, G_MAXUINT64, &count, NULL) || count <= self->oom_kills_seen)
    return FALSE;
  self->oom_kills_seen = count;
  return TRUE;
}

static LlmsbxExecutionResult *
collect_result (LlmsbxSandboxSession  *self,
                LlmsbxOutputCollector *collector,
                int                    exit_status,
                gint64                 started)
{
  g_autoptr(GBytes) out = llmsbx_output_collector_steal_bytes (collector, LLMSBX_OUTPUT_STREAM_STDOUT);
  g_autoptr(GBytes) err = llmsbx_output_collector_steal_bytes (collector, LLMSBX_OUTPUT_STREAM_STDERR);
  double duration = (g_get_monotonic_time () - started) / (double) G_USEC_PER_SEC;
  gboolean oom_killed = exit_status == 137 && was_oom_killed (self);

  session_log (self, "exit status %d%s after %.3f s (%" G_GSIZE_FORMAT " bytes stdout, %" G_GSIZE_FORMAT " bytes stderr)",
               exit_status, oom_killed ? " (out of memory)" : "", duration,
               g_bytes_get_size (out), g_bytes_get_size (err));

  return g_object_new (LLMSBX_TYPE_EXECUTION_RESULT,
                       "exit-code", exit_status,
                       "stdout-bytes", out,
                       "stderr-bytes", err,
                       "truncated", llmsbx_output_collector_get_truncated (collector),
                       "oom-killed", oom_killed,
                       "duration", MAX (duration, 0.0),
                       NULL);
}

/* Environment setup: done once, when first needed (before the first library
 * install), so that opening a session costs only create and start. */
static gboolean
ensure_environment (LlmsbxSandboxSession *self,
                    GCancellable         *cancellable,
                    GError              **error)
{
  g_autoptr(LlmsbxRuntimeContext) context = NULL;
  g_autoptr(LlmsbxOutputCollector) collector = NULL;
  g_auto(GStrv) setup = NULL;
  int status = 0;

  if (self->environment_ready)
    return TRUE;

  context = runtime_context (self);
  setup = llmsbx_language_handler_get_setup_commands (self->handler, context);
  collector = llmsbx_output_collector_new (64 * 1024);

  if (!run_templates (self, setup, NULL, NULL, NULL, self->default_timeout, 0, collector, &status,
                      cancellable, error))
    return FALSE;

  if (status != 0)
    {
      g_autoptr(GBytes) err = llmsbx_output_collector_steal_bytes (collector, LLMSBX_OUTPUT_STREAM_STDERR);
      g_autofree char *text = g_utf8_make_valid (g_bytes_get_data (err, NULL), g_bytes_get_size (err));

      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_CONTAINER_FAILED,
                   "Setting up the %s environment failed with exit status %d: %s",
                   self->lang, status, g_strstrip (text));
      return FALSE;
    }

  self->environment_ready = TRUE;
  return TRUE;
}

/* Open ------------------------------------------------------------------- */

static gboolean
validate_configuration (LlmsbxSandboxSession *self,
                        GError              **error)
{
  if (!check_limits (self, error))
    return FALSE;
  if (self->image != NULL && self->dockerfile != NULL)
    {
      g_set_error_literal (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
                           "Only one of 'image' or 'dockerfile' can be given, not both");
      return FALSE;
    }
  if (self->container_id != NULL && self->dockerfile != NULL)
    {
      g_set_error_literal (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
                           "Cannot use 'dockerfile' with an existing 'container-id'");
      return FALSE;
    }
  if (self->workdir == NULL || self->workdir[0] != '/')
    {
      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
                   "The workdir must be an absolute path, not '%s'", self->workdir ? self->workdir : "");
      return FALSE;
    }
  return llmsbx_container_path_is_safe (self->workdir, error);
}

/* `./custom/Dockerfile` builds `sandbox-python-custom`, as the guide's library does. */
static char *
dockerfile_tag (LlmsbxSandboxSession *self,
                const char           *context_dir)
{
  g_autofree char *base = g_path_get_basename (context_dir);
  g_autofree char *lower = g_ascii_strdown (base, -1);
  GString *tag = g_string_new ("sandbox-");

  g_string_append (tag, self->lang);
  g_string_append_c (tag, '-');
  for (const char *p = lower; *p; p++)
    g_string_append_c (tag, g_ascii_isalnum (*p) || *p == '.' || *p == '_' ? *p : '-');
  while (tag->len > 0 && tag->str[tag->len - 1] == '-')
    g_string_truncate (tag, tag->len - 1);
  return g_string_free (tag, FALSE);
}

static gboolean
prepare_image (LlmsbxSandboxSession *self,
               GCancellable         *cancellable,
               GError              **error)
{
  g_autofree char *default_image = llmsbx_language_handler_get_default_image (self->handler);
  g_autoptr(GError) local_error = NULL;
  gboolean pulled = FALSE;

  if (self->dockerfile != NULL)
    {
      g_autofree char *absolute = g_canonicalize_filename (self->dockerfile, NULL);
      g_autofree char *context_dir = g_path_get_dirname (absolute);
      g_autofree char *name = g_path_get_basename (absolute);

      if (!g_file_test (absolute, G_FILE_TEST_IS_REGULAR))
        {
          g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_FILE_NOT_FOUND,
                       "Dockerfile %s does not exist", absolute);
          return FALSE;
        }
      self->active_image = dockerfile_tag (self, context_dir);
      session_log (self, "building %s from %s", self->active_image, absolute);
      if (!llmsbx_backend_build_image (self->backend, context_dir, name, self->active_image,
                                       cancellable, error))
        return FALSE;
      self->image_acquired = TRUE;
      return TRUE;
    }

  self->active_image = g_strdup (self->image ? self->image : default_image);
  if (self->active_image == NULL)
    {
      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
                   "The %s language has no default image: set 'image'", self->lang);
      return FALSE;
    }

  if (!llmsbx_backend_ensure_image (self->backend, self->active_image, &pulled,
                                    cancellable, &local_error))
    {
      /* Our own default images are built locally, never pulled: say how. */
      if (g_error_matches (local_error, LLMSBX_ERROR, LLMSBX_ERROR_IMAGE_NOT_FOUND) &&
          g_strcmp0 (self->active_image, default_image) == 0)
        g_prefix_error (&local_error, "Build the default %s image with `llmsbx images build %s`. ",
                        self->lang, self->lang);
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }

  self->image_acquired = pulled;
  return TRUE;
}

/* Where close commits to: #LlmsbxSandboxSession:commit-image, else the
 * session's image, except the language's default image, which other
 * sessions share: that commits to its tag with "-committed" (a tag of its
 * own for a digest or no tag). */
static char *
default_commit_image (LlmsbxSandboxSession *self)
{
  g_autofree char *default_image = NULL;
  const char *image = self->active_image;
  const char *at;
  const char *colon;

  if (self->commit_image != NULL)
    return g_strdup (self->commit_image);
  default_image = llmsbx_language_handler_get_default_image (self->handler);
  if (g_strcmp0 (image, default_image) != 0)
    return g_strdup (image);

  at = strchr (image, '@');
  colon = strrchr (image, ':');
  if (at != NULL)
    return g_strdup_printf ("%.*s:committed", (int) (at - image), image);
  if (colon != NULL && strchr (colon, '/') == NULL)
    return g_strconcat (image, "-committed", NULL);
  return g_strconcat (image, ":committed", NULL);
}

/* Seconds past the session's lifetime at which its sandbox ends itself: the
 * client's watchdog normally removes it first, right at the deadline, and
 * reports the expiry; this holds when the client is gone. */
#define SELF_END_GRACE_SECONDS 2

static LlmsbxContainerSpec *
build_spec (LlmsbxSandboxSession *self)
{
  LlmsbxContainerSpec *spec = llmsbx_container_spec_new ();
  g_autofree char *short_id = g_strndup (self->session_uuid, 8);
  g_autofree char *lifetime = NULL;
  g_autoptr(GPtrArray) labels = NULL;
  g_autofree char **owner = llmsbx_owner_labels ();

  /* The sandbox's main process keeps it alive. With a session-timeout it
   * lives no longer than the session, so the sandbox stops by itself (no
   * restart policy is ever set) even when the client was killed and no
   * watchdog is left to remove it. */
  if (self->session_timeout > 0)
    {
      /* Whole seconds, rounded up (at most 10^9, checked at open). */
      guint64 seconds = (guint64) self->session_timeout;

      if ((double) seconds < self->session_timeout)
        seconds++;
      lifetime = g_strdup_printf ("%" G_GUINT64_FORMAT, seconds + SELF_END_GRACE_SECONDS);
    }
  else
    lifetime = g_strdup ("infinity");

  spec->name = g_strdup_printf ("llmsbx-%s-%s", self->lang, short_id);
  spec->image = g_strdup (self->active_image);
  spec->command = g_new0 (char *, 3);
  spec->command[0] = g_strdup ("sleep");
  spec->command[1] = g_steal_pointer (&lifetime);
  spec->workdir = g_strdup (self->workdir);
  spec->env = g_strdupv ((char **) base_exec_env);
  labels = g_ptr_array_new ();
  g_ptr_array_add (labels, g_strdup ("io.llmsbx.managed-by=libllmsbx"));
  g_ptr_array_add (labels, g_strdup_printf ("io.llmsbx.session=%s", self->session_uuid));
  g_ptr_array_add (labels, g_strdup_printf ("io.llmsbx.lang=%s", self->lang));
  /* Who owns it, so that llmsbx_reap_sandboxes() finds it if we die. */
  for (guint i = 0; owner[i] != NULL; i++)
    g_ptr_array_add (labels, g_steal_pointer (&owner[i]));
  g_ptr_array_add (labels, NULL);
  spec->labels = (char **) g_ptr_array_free (g_steal_pointer (&labels), FALSE);
  if (self->runtime_configs != NULL)
    spec->runtime_configs = g_variant_ref (self->runtime_configs);
  return spec;
}

static void
reset_state (LlmsbxSandboxSession *self)
{
  /* Back to the pool, which resets it for the next user or destroys it. */
  if (self->lease != NULL)
    llmsbx_sandbox_pool_return (self->pool, g_steal_pointer (&self->lease));
  g_clear_pointer (&self->lease_env, g_strfreev);
  g_clear_object (&self->handler);
  g_clear_object (&self->backend);
  g_clear_pointer (&self->sandbox_id, g_free);
  g_clear_pointer (&self->active_image, g_free);
  g_clear_pointer (&self->active_commit_image, g_free);
  self->created_sandbox = FALSE;
  self->image_acquired = FALSE;
  self->environment_ready = FALSE;
  self->oom_kills_seen = 0;
}

/* A sandbox of the pool, as if attached to: the pool created it and takes
 * it back at close. */
static gboolean
open_from_pool (LlmsbxSandboxSession *self,
                GCancellable         *cancellable,
                GError              **error)
{
  if (self->commit_container || self->container_id != NULL || self->dockerfile != NULL)
    {
      g_set_error_literal (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
                           "A session of a pool takes the pool's sandboxes: it cannot commit, "
                           "attach to a container or build a Dockerfile");
      return FALSE;
    }
  self->lease = llmsbx_sandbox_pool_lease (self->pool, cancellable, error);
  if (self->lease == NULL)
    return FALSE;
  self->backend = g_object_ref (llmsbx_pool_lease_get_backend (self->lease));
  self->sandbox_id = g_strdup (llmsbx_pool_lease_get_sandbox_id (self->lease));
  self->active_image = g_strdup (llmsbx_sandbox_pool_get_image (self->pool));
  self->lease_env = g_new0 (char *, 3);
  self->lease_env[0] = g_strdup (base_exec_env[0]);
  self->lease_env[1] = g_strdup (llmsbx_pool_lease_get_env (self->lease));
  session_log (self, "took sandbox %.12s from the pool", self->sandbox_id);
  return TRUE;
}

static gboolean
open_locked (LlmsbxSandboxSession *self,
             GCancellable         *cancellable,
             GError              **error)
{
  LlmsbxRegistry *registry = llmsbx_registry_get_default ();
  g_autoptr(LlmsbxContainerSpec) spec = NULL;

  if (!validate_configuration (self, error))
    return FALSE;

  g_clear_pointer (&self->session_uuid, g_free);
  self->session_uuid = g_uuid_string_random ();

  /* A pool's sandboxes are of its language, in its workdir. */
  if (self->pool != NULL)
    {
      g_free (self->lang);
      self->lang = g_strdup (llmsbx_sandbox_pool_get_lang (self->pool));
      g_free (self->workdir);
      self->workdir = g_strdup (llmsbx_sandbox_pool_get_workdir (self->pool));
    }

  self->handler = llmsbx_registry_lookup_language (registry, self->lang, error);
  if (self->handler == NULL)
    goto fail;

  if (self->pool != NULL)
    {
      if (!open_from_pool (self, cancellable, error))
        goto fail;
      goto opened;
    }

  if (self->client != NULL)
    self->backend = g_object_ref (self->client);
  else if (self->backend_name == NULL)
    self->backend = llmsbx_registry_create_default_backend (registry, cancellable, error);
  else
    self->backend = llmsbx_registry_create_backend (registry, self->backend_name, error);
  if (self->backend == NULL)
    goto fail;

  if (!llmsbx_backend_connect (self->backend, cancellable, error))
    goto fail;

  if (self->container_id != NULL)
    {
      session_log (self, "attaching to existing sandbox %s", self->container_id);
      self->sandbox_id = llmsbx_backend_attach_sandbox (self->backend, self->container_id,
                                                        cancellable, error);
      if (self->sandbox_id == NULL)
        goto fail;
    }
  else
    {
      if (!prepare_image (self, cancellable, error))
        goto fail;
      self->active_commit_image = default_commit_image (self);

      spec = build_spec (self);
      session_log (self, "creating sandbox %s from %s", spec->name, spec->image);
      self->sandbox_id = llmsbx_backend_create_sandbox (self->backend, spec, cancellable, error);
      if (self->sandbox_id == NULL)
        goto fail;
      self->created_sandbox = TRUE;
    }

opened:
  self->opened_at = g_get_monotonic_time ();
  self->is_open = TRUE;
  if (self->session_timeout > 0)
    self->watchdog = llmsbx_lifetime_watchdog_start (self->backend, self->sandbox_id, self->created_sandbox,
                                                     self->opened_at + (gint64) (self->session_timeout * G_USEC_PER_SEC));
  session_log (self, "open: sandbox %.12s", self->sandbox_id);
  return TRUE;

fail:
  reset_state (self);
  return FALSE;
}

/**
 * llmsbx_sandbox_session_new:
 * @lang: (nullable): the language, %NULL for `python`
 *
 * Creates a session. Set other properties with g_object_set() before opening.
 *
 * Returns: (transfer full): a new unopened session
 */
LlmsbxSandboxSession *
llmsbx_sandbox_session_new (const char *lang)
{
  return g_object_new (LLMSBX_TYPE_SANDBOX_SESSION, "lang", lang ? lang : "python", NULL);
}

/**
 * llmsbx_sandbox_session_open:
 * @self: a #LlmsbxSandboxSession
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Connects to the backend, makes the image available (building or pulling it
 * when needed) and creates and starts the sandbox, or attaches to the
 * existing one named by #LlmsbxSandboxSession:container-id. When it fails,
 * nothing it created remains. Opening an open session does nothing.
 *
 * Returns: %TRUE on success
 */
gboolean
llmsbx_sandbox_session_open (LlmsbxSandboxSession *self,
                             GCancellable         *cancellable,
                             GError              **error)
{
  gboolean ok = TRUE;

  g_return_val_if_fail (LLMSBX_IS_SANDBOX_SESSION (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  g_rec_mutex_lock (&self->lock);
  if (!self->is_open)
    {
      Operation op;

      ok = open_locked (self, operation_begin (self, &op, cancellable), error);
      operation_end (self, &op, "it was opening", error);
    }
  g_rec_mutex_unlock (&self->lock);

  if (ok)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_IS_OPEN]);
  return ok;
}

/* Close ------------------------------------------------------------------ */

static gboolean
close_locked (LlmsbxSandboxSession *self,
              GCancellable         *cancellable,
              GError              **error)
{
  g_autoptr(GError) first_error = NULL;
  g_autoptr(GError) local_error = NULL;
  gboolean expired;

  expired = llmsbx_lifetime_watchdog_stop (g_steal_pointer (&self->watchdog));

  /* An expired sandbox is already gone: there is nothing left to commit.
   * The library's own files are not part of the user's state. */
  if (self->commit_container && self->active_commit_image != NULL && !expired)
    {
      session_log (self, "committing sandbox to %s", self->active_commit_image);
      if (!llmsbx_code_writer_remove_files (self->backend, self->sandbox_id, self->workdir,
                                            self->default_timeout, cancellable, &local_error) ||
          !llmsbx_backend_commit (self->backend, self->sandbox_id, self->active_commit_image,
                                  cancellable, &local_error))
        g_propagate_prefixed_error (&first_error, g_steal_pointer (&local_error),
                                    "Committing the sandbox to %s failed: ", self->active_commit_image);
    }

  if (self->created_sandbox)
    {
      session_log (self, "removing sandbox %.12s", self->sandbox_id);
      /* Removal must happen even when the caller cancelled: nothing may leak. */
      if (!llmsbx_backend_remove_sandbox (self->backend, self->sandbox_id, NULL, &local_error))
        {
          if (first_error == NULL)
            g_propagate_prefixed_error (&first_error, g_steal_pointer (&local_error),
                                        "Removing sandbox %.12s failed: ", self->sandbox_id);
          g_clear_error (&local_error);
        }
    }

  /* An image this session pulled or built goes away with it, unless kept or
   * committed to. It may still be used by other containers: then it stays. */
  if (self->image_acquired && !self->keep_template && !self->commit_container)
    {
      if (!llmsbx_backend_remove_image (self->backend, self->active_image, NULL, &local_error))
        session_log (self, "keeping image %s: %s", self->active_image, local_error->message);
    }

  self->is_open = FALSE;
  reset_state (self);
  session_log (self, "closed");

  if (first_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&first_error));
      return FALSE;
    }
  return TRUE;
}

/**
 * llmsbx_sandbox_session_close:
 * @self: a #LlmsbxSandboxSession
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Commits the sandbox when #LlmsbxSandboxSession:commit-container is set (to
 * llmsbx_sandbox_session_get_commit_image(), without the session's own files),
 * removes a sandbox the session created (never one it attached to) and an
 * image it pulled or built unless #LlmsbxSandboxSession:keep-template is set.
 * The session is closed afterwards even when a step failed. Closing a closed
 * session does nothing.
 *
 * Returns: %TRUE when every step succeeded
 */
gboolean
llmsbx_sandbox_session_close (LlmsbxSandboxSession *self,
                              GCancellable         *cancellable,
                              GError              **error)
{
  gboolean ok = TRUE;
  gboolean was_open;

  g_return_val_if_fail (LLMSBX_IS_SANDBOX_SESSION (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  /* A call in another thread is cancelled, and what it started killed, so
   * that closing does not wait for code that may never end. */
  g_mutex_lock (&self->operation_lock);
  self->closing++;
  if (self->operation != NULL && self->operation_thread != g_thread_self ())
    {
      self->operation_closed = TRUE;
      g_cancellable_cancel (self->operation);
    }
  g_mutex_unlock (&self->operation_lock);

  g_rec_mutex_lock (&self->lock);
  was_open = self->is_open;
  if (was_open)
    ok = close_locked (self, cancellable, error);
  g_rec_mutex_unlock (&self->lock);

  g_mutex_lock (&self->operation_lock);
  self->closing--;
  g_mutex_unlock (&self->operation_lock);

  if (was_open)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_IS_OPEN]);
  return ok;
}

/* Install ---------------------------------------------------------------- */

static gboolean
install_locked (LlmsbxSandboxSession *self,
                const char * const   *libraries,
                GCancellable         *cancellable,
                GError              **error)
{
  g_autoptr(LlmsbxRuntimeContext) context = NULL;
  g_autofree char *template = NULL;

  if (libraries == NULL || libraries[0] == NULL)
    return TRUE;

  if (!check_open (self, error))
    return FALSE;

  for (guint i = 0; libraries[i] != NULL; i++)
    if (!validate_library_name (libraries[i], error) ||
        (self->security_policy != NULL &&
         !llmsbx_security_policy_check_library (self->security_policy, libraries[i], error)))
      return FALSE;

  if (self->skip_environment_setup)
    {
      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_LIBRARY_INSTALLATION_NOT_SUPPORTED,
                   "Library installation is not supported for %s when environment setup is skipped: "
                   "pre-install libraries in the image, or install them with execute_command()",
                   self->lang);
      return FALSE;
    }

  context = runtime_context (self);
  if (!llmsbx_language_handler_supports_library_installation (self->handler, context))
    {
      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_LIBRARY_INSTALLATION_NOT_SUPPORTED,
                   "Library installation is not supported for %s", self->lang);
      return FALSE;
    }

  if (!ensure_environment (self, cancellable, error))
    return FALSE;

  g_clear_object (&context);
  context = runtime_context (self);
  template = llmsbx_language_handler_get_install_command (self->handler, context);

  for (guint i = 0; libraries[i] != NULL; i++)
    {
      char *templates[] = { template, NULL };
      g_autoptr(LlmsbxOutputCollector) collector = new_collector (self);
      int status = 0;

      session_log (self, "installing %s", libraries[i]);
      if (!run_templates (self, templates, NULL, libraries[i], NULL, self->default_timeout, 0, collector,
                          &status, cancellable, error))
        return FALSE;

      if (status != 0)
        {
          g_autoptr(GBytes) err = llmsbx_output_collector_steal_bytes (collector, LLMSBX_OUTPUT_STREAM_STDERR);
          g_autofree char *text = g_utf8_make_valid (g_bytes_get_data (err, NULL), g_bytes_get_size (err));

          g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_LIBRARY_INSTALLATION_FAILED,
                       "Installing %s failed with exit status %d: %s",
                       libraries[i], status, g_strstrip (text));
          return FALSE;
        }
    }

  return TRUE;
}

/**
 * llmsbx_sandbox_session_install:
 * @self: a #LlmsbxSandboxSession
 * @libraries: (array zero-terminated=1) (nullable): package names for the language's package manager
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Installs libraries with the language's package manager, setting up the
 * environment first if that has not happened yet. Fails with
 * %LLMSBX_ERROR_LIBRARY_INSTALLATION_NOT_SUPPORTED when environment setup is
 * skipped or the language has no package manager, with
 * %LLMSBX_ERROR_INVALID_ARGUMENT for a name that looks like an option or holds
 * shell characters, with %LLMSBX_ERROR_SECURITY_VIOLATION for a library named
 * like a module that the security policy restricts at or above its threshold
 * (before anything is installed), and with
 * %LLMSBX_ERROR_LIBRARY_INSTALLATION_FAILED when the package manager fails.
 *
 * Returns: %TRUE on success
 */
gboolean
llmsbx_sandbox_session_install (LlmsbxSandboxSession *self,
                                const char * const   *libraries,
                                GCancellable         *cancellable,
                                GError              **error)
{
  Operation op;
  gboolean ok;

  g_return_val_if_fail (LLMSBX_IS_SANDBOX_SESSION (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  g_rec_mutex_lock (&self->lock);
  ok = install_locked (self, libraries, operation_begin (self, &op, cancellable), error);
  operation_end (self, &op, "libraries were being installed", error);
  g_rec_mutex_unlock (&self->lock);
  return ok;
}

/* Run -------------------------------------------------------------------- */

/* The security policy's verdict on code, before anything reaches the sandbox. */
static gboolean
enforce_policy (LlmsbxSandboxSession  *self,
                LlmsbxLanguageHandler *handler,
                const char            *code,
                GError               **error)
{
  g_autoptr(GPtrArray) violations = NULL;
  g_autoptr(GError) local_error = NULL;

  if (self->security_policy == NULL)
    return TRUE;

  if (llmsbx_security_policy_check (self->security_policy, handler, code, &violations, &local_error))
    return TRUE;

  if (local_error != NULL)
    g_propagate_error (error, g_steal_pointer (&local_error));
  else
    llmsbx_security_set_violation_error (error, "the code", violations,
                                         llmsbx_security_policy_get_severity_threshold (self->security_policy));
  session_log (self, "security policy refused the code");
  return FALSE;
}

/**
 * llmsbx_sandbox_session_is_safe:
 * @self: a #LlmsbxSandboxSession
 * @code: source code in the session's language (UTF-8)
 * @violations: (out) (optional) (transfer container) (element-type LlmsbxSecurityPattern):
 *   every pattern of the policy that matched, blocking or not (see
 *   llmsbx_security_policy_check())
 * @error: return location for a #GError
 *
 * Asks the session's #LlmsbxSandboxSession:security-policy whether it would
 * let llmsbx_sandbox_session_run() run @code, without running it and without
 * changing the policy. Works on a session that is not open. Without a policy,
 * all code is safe and there are no violations.
 *
 * In Python, `safe, violations = session.is_safe(code)`.
 *
 * Returns: %TRUE when the code may run, %FALSE when the policy blocks it or on
 *   error (the language is unknown, or the policy cannot be applied)
 */
gboolean
llmsbx_sandbox_session_is_safe (LlmsbxSandboxSession  *self,
                                const char            *code,
                                GPtrArray            **violations,
                                GError               **error)
{
  g_autoptr(LlmsbxLanguageHandler) handler = NULL;
  g_autoptr(LlmsbxSecurityPolicy) policy = NULL;

  g_return_val_if_fail (LLMSBX_IS_SANDBOX_SESSION (self), FALSE);
  g_return_val_if_fail (code != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (violations != NULL)
    *violations = NULL;

  policy = self->security_policy ? g_object_ref (self->security_policy) : NULL;
  if (policy == NULL)
    {
      if (violations != NULL)
        *violations = g_ptr_array_new_with_free_func (g_object_unref);
      return TRUE;
    }

  /* The registry's handler for the language is the one open() uses, so
   * this works before open() without touching the session's state. */
  handler = llmsbx_registry_lookup_language (llmsbx_registry_get_default (), self->lang, error);
  if (handler == NULL)
    return FALSE;

  return llmsbx_security_policy_check (policy, handler, code, violations, error);
}

static LlmsbxExecutionResult *
run_locked (LlmsbxSandboxSession *self,
            const char           *code,
            const char * const   *libraries,
            double                timeout,
            GCancellable         *cancellable,
            GError              **error)
{
  g_autoptr(LlmsbxRuntimeContext) context = NULL;
  g_autoptr(LlmsbxOutputCollector) collector = NULL;
  g_auto(GStrv) commands = NULL;
  g_autofree char *extension = NULL;
  g_autofree char *file = NULL;
  gint64 started = g_get_monotonic_time ();
  gint64 deadline;
  double limit;
  int status = 0;

  if (!check_timeout ("timeout", timeout, error) || !check_open (self, error))
    return NULL;

  if (!g_utf8_validate (code, -1, NULL))
    {
      g_set_error_literal (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
                           "Code must be valid UTF-8");
      return NULL;
    }

  if (!enforce_policy (self, self->handler, code, error))
    return NULL;

  if (!install_locked (self, libraries, cancellable, error))
    return NULL;

  /* Libraries have limits of their own; from here on one deadline covers
   * the whole run: the code's delivery, compiling and running it. */
  limit = effective_timeout (self, timeout);
  deadline = llmsbx_guarded_exec_deadline (limit);

  extension = llmsbx_language_handler_get_file_extension (self->handler);
  file = llmsbx_code_writer_new_path (self->workdir, extension);
  context = runtime_context (self);
  commands = llmsbx_language_handler_get_run_commands (self->handler, context);
  if (commands == NULL || commands[0] == NULL)
    {
      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_LANGUAGE_NOT_SUPPORTED,
                   "The %s language handler has no command to run code", self->lang);
      return NULL;
    }

  collector = new_collector (self);
  if (!run_templates (self, commands, file, NULL, code, limit, deadline, collector,
                      &status, cancellable, error) ||
      llmsbx_lifetime_watchdog_has_expired (self->watchdog))
    return report_expiry (self, error);

  return collect_result (self, collector, status, started);
}

/**
 * llmsbx_sandbox_session_run:
 * @self: a #LlmsbxSandboxSession
 * @code: source code in the session's language (UTF-8)
 * @libraries: (array zero-terminated=1) (nullable): libraries to install first
 * @timeout: seconds the code may run; 0 for the session's
 *   #LlmsbxSandboxSession:execution-timeout, itself defaulting to
 *   #LlmsbxSandboxSession:default-timeout. A negative, infinite or NaN
 *   value (or one above 10^9) fails with %LLMSBX_ERROR_INVALID_ARGUMENT.
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Runs code in the sandbox. When the session's
 * #LlmsbxSandboxSession:security-policy blocks the code (or one of
 * @libraries), the call fails with %LLMSBX_ERROR_SECURITY_VIOLATION naming
 * every violation, and nothing is sent to the sandbox. A compiled
 * language's compile errors come back as a failed result carrying the
 * compiler's message. When the time runs out,
 * everything the code started in the sandbox is killed, the call fails with
 * %LLMSBX_ERROR_TIMEOUT, and the session stays usable. Output is delivered
 * live through #LlmsbxSandboxSession::output as it arrives.
 *
 * Returns: (transfer full): the result, or %NULL on error
 */
LlmsbxExecutionResult *
llmsbx_sandbox_session_run (LlmsbxSandboxSession *self,
                            const char           *code,
                            const char * const   *libraries,
                            double                timeout,
                            GCancellable         *cancellable,
                            GError              **error)
{
  Operation op;
  LlmsbxExecutionResult *result;

  g_return_val_if_fail (LLMSBX_IS_SANDBOX_SESSION (self), NULL);
  g_return_val_if_fail (code != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  g_rec_mutex_lock (&self->lock);
  result = run_locked (self, code, libraries, timeout, operation_begin (self, &op, cancellable), error);
  operation_end (self, &op, "the code was running", error);
  g_rec_mutex_unlock (&self->lock);
  return result;
}

/* Relative sandbox paths are relative to the working directory. */
static char *
resolve_sandbox_path (LlmsbxSandboxSession *self,
                      const char           *path,
                      GError              **error)
{
  g_autofree char *absolute = NULL;

  if (path == NULL || *path == '\0')
    {
      g_set_error_literal (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
                           "A path in the sandbox cannot be empty");
      return NULL;
    }

  absolute = path[0] == '/' ? g_strdup (path) : g_build_path ("/", self->workdir, path, NULL);
  if (!llmsbx_container_path_is_safe (absolute, error))
    return NULL;
  return g_steal_pointer (&absolute);
}

static LlmsbxExecutionResult *
execute_argv_locked (LlmsbxSandboxSession *self,
                     const char * const   *argv,
                     const char           *workdir,
                     GCancellable         *cancellable,
                     GError              **error)
{
  g_autoptr(LlmsbxOutputCollector) collector = NULL;
  g_autofree char *directory = NULL;
  gint64 started = g_get_monotonic_time ();
  int status = 0;

  if (!check_open (self, error))
    return NULL;

  if (argv == NULL || argv[0] == NULL || argv[0][0] == '\0')
    {
      g_set_error_literal (error, LLMSBX_ERROR, LLMSBX_ERROR_COMMAND_EMPTY, "Command cannot be empty");
      return NULL;
    }

  /* Checked like every path in the sandbox: relative to the session's
   * workdir, and never with a `..` component. */
  directory = workdir ? resolve_sandbox_path (self, workdir, error) : g_strdup (self->workdir);
  if (directory == NULL)
    return NULL;

  collector = new_collector (self);
  if (!llmsbx_guarded_exec (self->backend, self->sandbox_id, argv, exec_env (self),
                            directory, self->default_timeout,
                            collector, &status, cancellable, error) ||
      llmsbx_lifetime_watchdog_has_expired (self->watchdog))
    return report_expiry (self, error);

  return collect_result (self, collector, status, started);
}

/**
 * llmsbx_sandbox_session_execute_argv:
 * @self: a #LlmsbxSandboxSession
 * @argv: (array zero-terminated=1): the exact argv to run; no shell is involved
 * @workdir: (nullable): working directory, %NULL for the session's; a
 *   relative one is relative to the session's
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Runs a command in the sandbox, limited by #LlmsbxSandboxSession:default-timeout.
 * A @workdir with a `..` component is refused with
 * %LLMSBX_ERROR_PATH_TRAVERSAL; when the engine cannot start the command (its
 * program or @workdir does not exist, or the sandbox is at its process
 * limit), the call fails with %LLMSBX_ERROR_COMMAND_NOT_STARTED and the
 * engine's message.
 *
 * Returns: (transfer full): the result, or %NULL on error
 */
LlmsbxExecutionResult *
llmsbx_sandbox_session_execute_argv (LlmsbxSandboxSession *self,
                                     const char * const   *argv,
                                     const char           *workdir,
                                     GCancellable         *cancellable,
                                     GError              **error)
{
  Operation op;
  LlmsbxExecutionResult *result;

  g_return_val_if_fail (LLMSBX_IS_SANDBOX_SESSION (self), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  g_rec_mutex_lock (&self->lock);
  result = execute_argv_locked (self, argv, workdir, operation_begin (self, &op, cancellable), error);
  operation_end (self, &op, "the command was running", error);
  g_rec_mutex_unlock (&self->lock);
  return result;
}

/**
 * llmsbx_sandbox_session_execute_command:
 * @self: a #LlmsbxSandboxSession
 * @command: a shell command line, run by `sh -c` inside the sandbox
 * @workdir: (nullable): working directory, %NULL for the session's; a
 *   relative one is relative to the session's
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Runs a shell command inside the sandbox (pipes, `&&` and redirections
 * work, the same on every backend), limited by
 * #LlmsbxSandboxSession:default-timeout. Use
 * llmsbx_sandbox_session_execute_argv() to pass an exact argv instead.
 * @workdir is checked as there.
 *
 * Returns: (transfer full): the result, or %NULL on error
 */
LlmsbxExecutionResult *
llmsbx_sandbox_session_execute_command (LlmsbxSandboxSession *self,
                                        const char           *command,
                                        const char           *workdir,
                                        GCancellable         *cancellable,
                                        GError              **error)
{
  const char *argv[] = { "sh", "-c", command, NULL };

  g_return_val_if_fail (LLMSBX_IS_SANDBOX_SESSION (self), NULL);
  g_return_val_if_fail (command != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (*command == '\0')
    {
      g_set_error_literal (error, LLMSBX_ERROR, LLMSBX_ERROR_COMMAND_EMPTY, "Command cannot be empty");
      return NULL;
    }

  return llmsbx_sandbox_session_execute_argv (self, argv, workdir, cancellable, error);
}

/* Files ------------------------------------------------------------------ */

static gboolean
make_sandbox_directory (LlmsbxSandboxSession *self,
                        const char           *directory,
                        GCancellable         *cancellable,
                        GError              **error)
{
  const char *argv[] = { "mkdir", "-p", "--", directory, NULL };
  g_autoptr(LlmsbxOutputCollector) collector = llmsbx_output_collector_new (16 * 1024);
  int status = 0;

  if (!llmsbx_guarded_exec (self->backend, self->sandbox_id, argv, NULL, "/",
                            self->default_timeout, collector, &status, cancellable, error))
    return FALSE;

  if (status != 0)
    {
      g_autoptr(GBytes) err = llmsbx_output_collector_steal_bytes (collector, LLMSBX_OUTPUT_STREAM_STDERR);
      g_autofree char *text = g_utf8_make_valid (g_bytes_get_data (err, NULL), g_bytes_get_size (err));

      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_CONTAINER_FAILED,
                   "Could not create directory %s in the sandbox: %s", directory, g_strstrip (text));
      return FALSE;
    }
  return TRUE;
}

/* Whether @dest names a directory by its form alone: "data/", "data/.", ".". */
static gboolean
names_directory (const char *dest)
{
  gsize length = strlen (dest);

  return length > 0 && (dest[length - 1] == '/' || strcmp (dest, ".") == 0 || g_str_has_suffix (dest, "/."));
}

/* Unpacks @archive into @directory, creating it first when it is missing:
 * one more exec and the upload again, only then. */
static gboolean
put_archive_creating (LlmsbxSandboxSession *self,
                      const char           *directory,
                      GBytes               *archive,
                      GCancellable         *cancellable,
                      GError              **error)
{
  g_autoptr(GError) local_error = NULL;

  if (llmsbx_backend_put_archive (self->backend, self->sandbox_id, directory, archive,
                                  cancellable, &local_error))
    return TRUE;
  if (!g_error_matches (local_error, LLMSBX_ERROR, LLMSBX_ERROR_FILE_NOT_FOUND))
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }
  return make_sandbox_directory (self, directory, cancellable, error) &&
         llmsbx_backend_put_archive (self->backend, self->sandbox_id, directory, archive,
                                     cancellable, error);
}

/* The copy's place: @directory and the @name it gets there. @dest_path is
 * the resolved destination, @dest as the caller wrote it. As with cp, a
 * destination written as a directory ("data/", "data/.", ".") receives the
 * source under its own name; otherwise the destination is the copy's name,
 * and the caller finds out from the upload whether it is an existing
 * directory (see copy_to_runtime_locked()). */
static gboolean
copy_destination (const char  *src,
                  const char  *dest,
                  const char  *dest_path,
                  char       **directory,
                  char       **name,
                  GError     **error)
{
  g_autofree char *parent = NULL;
  g_autofree char *last = NULL;

  if (!names_directory (dest))
    return llmsbx_container_path_split (dest_path, directory, name, error);

  /* Only "/" has no last component: it is its own directory. */
  if (llmsbx_container_path_split (dest_path, &parent, &last, NULL))
    *directory = g_build_path ("/", parent, last, NULL);
  else
    *directory = g_strdup ("/");
  *name = g_path_get_basename (src);
  if (strcmp (*name, "/") == 0 || strcmp (*name, ".") == 0)
    {
      g_clear_pointer (directory, g_free);
      g_clear_pointer (name, g_free);
      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
                   "Cannot copy %s into a directory: it has no name of its own", src);
      return FALSE;
    }
  return TRUE;
}

static gboolean
copy_to_runtime_locked (LlmsbxSandboxSession *self,
                        const char           *src,
                        const char           *dest,
                        GCancellable         *cancellable,
                        GError              **error)
{
  g_autofree char *source = NULL;
  g_autofree char *target = NULL;
  g_autofree char *directory = NULL;
  g_autofree char *name = NULL;
  g_autofree char *inside = NULL;
  g_autoptr(GBytes) archive = NULL;
  g_autoptr(GError) local_error = NULL;
  gboolean is_dir;

  if (!check_open (self, error))
    return FALSE;

  target = resolve_sandbox_path (self, dest, error);
  if (target == NULL)
    return FALSE;

  source = g_canonicalize_filename (src, NULL);
  is_dir = g_file_test (source, G_FILE_TEST_IS_DIR);
  /* Normalised, so `/sandbox/out` names `out` in `/sandbox`. */
  if (!copy_destination (source, dest, target, &directory, &name, error))
    return FALSE;
  archive = llmsbx_tar_pack_path (source, name, self->copy_limit, error);
  if (archive == NULL)
    return FALSE;

  session_log (self, "copy %s -> %s/%s", src, directory, name);
  if (put_archive_creating (self, directory, archive, cancellable, &local_error))
    return TRUE;
  if (!g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_EXISTS))
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }

  /* Engines replace a directory with a file of the same name, and all it
   * holds goes with it. The backend refuses that instead; a file given an
   * existing directory as its name then goes inside it, as with cp: one more
   * upload, only in that case. */
  if (!is_dir && !names_directory (dest))
    {
      g_clear_error (&local_error);
      g_clear_pointer (&archive, g_bytes_unref);
      inside = g_build_path ("/", directory, name, NULL);
      g_free (name);
      name = g_path_get_basename (source);
      archive = llmsbx_tar_pack_path (source, name, self->copy_limit, error);
      if (archive == NULL)
        return FALSE;
      session_log (self, "%s is a directory: copy %s -> %s/%s", target, src, inside, name);
      if (llmsbx_backend_put_archive (self->backend, self->sandbox_id, inside, archive,
                                      cancellable, &local_error))
        return TRUE;
      if (!g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_EXISTS))
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return FALSE;
        }
      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
                   "Cannot copy the file %s onto the directory %s/%s; nothing was replaced",
                   src, inside, name);
      return FALSE;
    }

  g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
               "Cannot copy %s to %s/%s in the sandbox: a file there has the name of a directory "
               "of the copy, or the reverse; nothing there was replaced",
               src, directory, name);
  return FALSE;
}

/**
 * llmsbx_sandbox_session_copy_to_runtime:
 * @self: a #LlmsbxSandboxSession
 * @src: (type filename): a file or directory on the host
 * @dest: where it goes in the sandbox; relative paths are relative to the workdir
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Copies a file or a directory tree into the sandbox, creating missing parent
 * directories. Like `cp -r src dest`, @dest names the copy itself (an @src
 * that is a symbolic link is followed, like `cp -L`), except
 * that a file copied to an existing directory, or to a @dest written as a
 * directory (`data/`, `data/.`, `.`), goes inside it under its own name; a
 * directory copied to an existing directory is merged into it. Nothing is
 * ever replaced by something of another kind: a file where the copy has a
 * directory (or a directory where it has a file) fails with
 * %LLMSBX_ERROR_INVALID_ARGUMENT. Paths with a `..` component are refused
 * with %LLMSBX_ERROR_PATH_TRAVERSAL.
 *
 * It costs one upload; one more when a file goes into an existing
 * directory that @dest names without a trailing `/`, and a `mkdir` exec and
 * one more upload when the destination's directory is missing.
 *
 * Returns: %TRUE on success
 */
gboolean
llmsbx_sandbox_session_copy_to_runtime (LlmsbxSandboxSession *self,
                                        const char           *src,
                                        const char           *dest,
                                        GCancellable         *cancellable,
                                        GError              **error)
{
  Operation op;
  gboolean ok;

  g_return_val_if_fail (LLMSBX_IS_SANDBOX_SESSION (self), FALSE);
  g_return_val_if_fail (src != NULL, FALSE);
  g_return_val_if_fail (dest != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  g_rec_mutex_lock (&self->lock);
  ok = copy_to_runtime_locked (self, src, dest, operation_begin (self, &op, cancellable), error);
  operation_end (self, &op, "files were being copied", error);
  g_rec_mutex_unlock (&self->lock);
  return ok;
}

static gboolean
copy_from_runtime_locked (LlmsbxSandboxSession *self,
                          const char           *src,
                          const char           *dest,
                          GCancellable         *cancellable,
                          GError              **error)
{
  g_autofree char *source = NULL;
  g_autoptr(LlmsbxArchiveSpool) spool = NULL;

  if (!check_open (self, error))
    return FALSE;

  source = resolve_sandbox_path (self, src, error);
  if (source == NULL)
    return FALSE;

  /* The archive goes to disk as it arrives (memory stays bounded), is
   * checked whole there, then unpacked. */
  session_log (self, "copy %s <- %s", dest, source);
  spool = llmsbx_archive_spool_new (dest, source, self->copy_limit, error);
  if (spool == NULL ||
      !llmsbx_backend_get_archive_to_stream (self->backend, self->sandbox_id, source,
                                             G_OUTPUT_STREAM (spool), cancellable, error) ||
      !g_output_stream_close (G_OUTPUT_STREAM (spool), cancellable, error))
    return FALSE;

  return llmsbx_tar_extract_fd (llmsbx_archive_spool_get_fd (spool), dest, error);
}

/**
 * llmsbx_sandbox_session_copy_from_runtime:
 * @self: a #LlmsbxSandboxSession
 * @src: a file or directory in the sandbox; relative paths are relative to the workdir
 * @dest: (type filename): where the copy goes on the host
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Copies a file or directory tree out of the sandbox; @dest names the copy,
 * like `cp -r src dest`, and an @src that is a symbolic link is followed, like
 * `cp -L`, on every backend. Empty files and binary data are copied exactly,
 * sparse files stay sparse. Entries that would escape @dest (absolute
 * names, `..`, links) are refused with %LLMSBX_ERROR_PATH_TRAVERSAL; a
 * missing @src fails with %LLMSBX_ERROR_FILE_NOT_FOUND, an archive larger
 * than #LlmsbxSandboxSession:copy-limit with %LLMSBX_ERROR_LIMIT_EXCEEDED.
 * The archive is kept on disk until it has been checked (in an unlinked
 * file in the nearest existing directory of @dest, or the temporary
 * directory), so memory use does not grow with its size.
 *
 * Returns: %TRUE on success
 */
gboolean
llmsbx_sandbox_session_copy_from_runtime (LlmsbxSandboxSession *self,
                                          const char           *src,
                                          const char           *dest,
                                          GCancellable         *cancellable,
                                          GError              **error)
{
  Operation op;
  gboolean ok;

  g_return_val_if_fail (LLMSBX_IS_SANDBOX_SESSION (self), FALSE);
  g_return_val_if_fail (src != NULL, FALSE);
  g_return_val_if_fail (dest != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  g_rec_mutex_lock (&self->lock);
  ok = copy_from_runtime_locked (self, src, dest, operation_begin (self, &op, cancellable), error);
  operation_end (self, &op, "files were being copied", error);
  g_rec_mutex_unlock (&self->lock);
  return ok;
}

/* Async ------------------------------------------------------------------ */

typedef struct {
  char   *code;
  GStrv   libraries;
  double  timeout;
} RunData;

static void
run_data_free (gpointer data)
{
  RunData *run = data;

  g_free (run->code);
  g_strfreev (run->libraries);
  g_free (run);
}

/* Worker threads deliver live output in the context the task was started from. */
static void
set_output_context (GTask *task)
{
  g_private_set (&output_context_key, g_task_get_context (task));
}

static void
open_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  GError *error = NULL;

  if (llmsbx_sandbox_session_open (source, cancellable, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

static void
close_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  GError *error = NULL;

  if (llmsbx_sandbox_session_close (source, cancellable, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

static void
run_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  RunData *run = task_data;
  GError *error = NULL;
  LlmsbxExecutionResult *result;

  set_output_context (task);
  result = llmsbx_sandbox_session_run (source, run->code, (const char * const *) run->libraries,
                                       run->timeout, cancellable, &error);
  g_private_set (&output_context_key, NULL);

  if (result != NULL)
    g_task_return_pointer (task, result, g_object_unref);
  else
    g_task_return_error (task, error);
}

/**
 * llmsbx_sandbox_session_open_async:
 * @self: a #LlmsbxSandboxSession
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the session is open or failed to open
 * @user_data: data for @callback
 *
 * Opens the session in a worker thread; see llmsbx_sandbox_session_open().
 */
void
llmsbx_sandbox_session_open_async (LlmsbxSandboxSession *self,
                                   GCancellable         *cancellable,
                                   GAsyncReadyCallback   callback,
                                   gpointer              user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (LLMSBX_IS_SANDBOX_SESSION (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, llmsbx_sandbox_session_open_async);
  g_task_run_in_thread (task, open_thread);
}

/**
 * llmsbx_sandbox_session_open_finish:
 * @self: a #LlmsbxSandboxSession
 * @result: the #GAsyncResult
 * @error: return location for a #GError
 *
 * Returns: %TRUE when the session opened
 */
gboolean
llmsbx_sandbox_session_open_finish (LlmsbxSandboxSession *self,
                                    GAsyncResult         *result,
                                    GError              **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == llmsbx_sandbox_session_open_async, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/**
 * llmsbx_sandbox_session_close_async:
 * @self: a #LlmsbxSandboxSession
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the session is closed
 * @user_data: data for @callback
 *
 * Closes the session in a worker thread; see llmsbx_sandbox_session_close().
 */
void
llmsbx_sandbox_session_close_async (LlmsbxSandboxSession *self,
                                    GCancellable         *cancellable,
                                    GAsyncReadyCallback   callback,
                                    gpointer              user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (LLMSBX_IS_SANDBOX_SESSION (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, llmsbx_sandbox_session_close_async);
  g_task_run_in_thread (task, close_thread);
}

/**
 * llmsbx_sandbox_session_close_finish:
 * @self: a #LlmsbxSandboxSession
 * @result: the #GAsyncResult
 * @error: return location for a #GError
 *
 * Returns: %TRUE when every step of closing succeeded
 */
gboolean
llmsbx_sandbox_session_close_finish (LlmsbxSandboxSession *self,
                                     GAsyncResult         *result,
                                     GError              **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == llmsbx_sandbox_session_close_async, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/**
 * llmsbx_sandbox_session_run_async:
 * @self: a #LlmsbxSandboxSession
 * @code: source code in the session's language
 * @libraries: (array zero-terminated=1) (nullable): libraries to install first
 * @timeout: seconds the code may run; 0 for the session's default
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called with the result
 * @user_data: data for @callback
 *
 * Runs code in a worker thread; see llmsbx_sandbox_session_run(). Live output
 * is emitted in the thread-default main context of the caller.
 */
void
llmsbx_sandbox_session_run_async (LlmsbxSandboxSession *self,
                                  const char           *code,
                                  const char * const   *libraries,
                                  double                timeout,
                                  GCancellable         *cancellable,
                                  GAsyncReadyCallback   callback,
                                  gpointer              user_data)
{
  g_autoptr(GTask) task = NULL;
  RunData *run;

  g_return_if_fail (LLMSBX_IS_SANDBOX_SESSION (self));
  g_return_if_fail (code != NULL);

  run = g_new0 (RunData, 1);
  run->code = g_strdup (code);
  run->libraries = g_strdupv ((char **) libraries);
  run->timeout = timeout;

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, llmsbx_sandbox_session_run_async);
  g_task_set_task_data (task, run, run_data_free);
  g_task_run_in_thread (task, run_thread);
}

/**
 * llmsbx_sandbox_session_run_finish:
 * @self: a #LlmsbxSandboxSession
 * @result: the #GAsyncResult
 * @error: return location for a #GError
 *
 * Returns: (transfer full): the result, or %NULL on error
 */
LlmsbxExecutionResult *
llmsbx_sandbox_session_run_finish (LlmsbxSandboxSession *self,
                                   GAsyncResult         *result,
                                   GError              **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == llmsbx_sandbox_session_run_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/* Properties ------------------------------------------------------------- */

/**
 * llmsbx_sandbox_session_get_lang:
 * @self: a #LlmsbxSandboxSession
 *
 * Returns: the language identifier
 */
const char *
llmsbx_sandbox_session_get_lang (LlmsbxSandboxSession *self)
{
  g_return_val_if_fail (LLMSBX_IS_SANDBOX_SESSION (self), NULL);
  return self->lang;
}

/**
 * llmsbx_sandbox_session_get_backend:
 * @self: a #LlmsbxSandboxSession
 *
 * Returns: (nullable): the backend name: the client's, the configured one,
 *   or while open the one the registry chose; %NULL when none is configured
 *   and the session is not open
 */
const char *
llmsbx_sandbox_session_get_backend (LlmsbxSandboxSession *self)
{
  g_return_val_if_fail (LLMSBX_IS_SANDBOX_SESSION (self), NULL);
  if (self->client != NULL)
    return llmsbx_backend_get_name (self->client);
  if (self->backend_name == NULL && self->backend != NULL)
    return llmsbx_backend_get_name (self->backend);
  return self->backend_name;
}

/**
 * llmsbx_sandbox_session_get_client:
 * @self: a #LlmsbxSandboxSession
 *
 * Returns: (transfer none) (nullable): the backend the session was given, if any
 */
LlmsbxBackend *
llmsbx_sandbox_session_get_client (LlmsbxSandboxSession *self)
{
  g_return_val_if_fail (LLMSBX_IS_SANDBOX_SESSION (self), NULL);
  return self->client;
}

/**
 * llmsbx_sandbox_session_get_image:
 * @self: a #LlmsbxSandboxSession
 *
 * Returns: (nullable): the image the sandbox runs (while open), or the configured one
 */
const char *
llmsbx_sandbox_session_get_image (LlmsbxSandboxSession *self)
{
  g_return_val_if_fail (LLMSBX_IS_SANDBOX_SESSION (self), NULL);
  return self->active_image ? self->active_image : self->image;
}

/**
 * llmsbx_sandbox_session_get_commit_image:
 * @self: a #LlmsbxSandboxSession
 *
 * Returns: (nullable): the image close() commits to (see
 *   #LlmsbxSandboxSession:commit-image) while open, else the configured one
 */
const char *
llmsbx_sandbox_session_get_commit_image (LlmsbxSandboxSession *self)
{
  g_return_val_if_fail (LLMSBX_IS_SANDBOX_SESSION (self), NULL);
  return self->active_commit_image ? self->active_commit_image : self->commit_image;
}

/**
 * llmsbx_sandbox_session_get_workdir:
 * @self: a #LlmsbxSandboxSession
 *
 * Returns: the working directory in the sandbox
 */
const char *
llmsbx_sandbox_session_get_workdir (LlmsbxSandboxSession *self)
{
  g_return_val_if_fail (LLMSBX_IS_SANDBOX_SESSION (self), NULL);
  return self->workdir;
}

/**
 * llmsbx_sandbox_session_get_container_id:
 * @self: a #LlmsbxSandboxSession
 *
 * Returns: (nullable): the sandbox's id while open, else the configured existing container
 */
const char *
llmsbx_sandbox_session_get_container_id (LlmsbxSandboxSession *self)
{
  g_return_val_if_fail (LLMSBX_IS_SANDBOX_SESSION (self), NULL);
  return self->sandbox_id ? self->sandbox_id : self->container_id;
}

/**
 * llmsbx_sandbox_session_get_is_open:
 * @self: a #LlmsbxSandboxSession
 *
 * Returns: whether the session is open
 */
gboolean
llmsbx_sandbox_session_get_is_open (LlmsbxSandboxSession *self)
{
  g_return_val_if_fail (LLMSBX_IS_SANDBOX_SESSION (self), FALSE);
  return self->is_open;
}

/**
 * llmsbx_sandbox_session_get_language_handler:
 * @self: a #LlmsbxSandboxSession
 *
 * Returns: (transfer none) (nullable): the language handler while open
 */
LlmsbxLanguageHandler *
llmsbx_sandbox_session_get_language_handler (LlmsbxSandboxSession *self)
{
  g_return_val_if_fail (LLMSBX_IS_SANDBOX_SESSION (self), NULL);
  return self->handler;
}

/**
 * llmsbx_sandbox_session_get_runtime_configs:
 * @self: a #LlmsbxSandboxSession
 *
 * Returns: (transfer none) (nullable): the runtime configs, an `a{sv}` dictionary
 */
GVariant *
llmsbx_sandbox_session_get_runtime_configs (LlmsbxSandboxSession *self)
{
  g_return_val_if_fail (LLMSBX_IS_SANDBOX_SESSION (self), NULL);
  return self->runtime_configs;
}

/**
 * llmsbx_sandbox_session_set_runtime_configs:
 * @self: a #LlmsbxSandboxSession
 * @configs: (nullable): an `a{sv}` dictionary of docker-py style settings
 *
 * Sets container settings such as `mem_limit` or `network_mode`, applied when
 * the sandbox is created. The backend validates them at open().
 */
void
llmsbx_sandbox_session_set_runtime_configs (LlmsbxSandboxSession *self,
                                            GVariant             *configs)
{
  g_return_if_fail (LLMSBX_IS_SANDBOX_SESSION (self));
  g_return_if_fail (configs == NULL || g_variant_is_of_type (configs, G_VARIANT_TYPE_VARDICT));

  if (configs == self->runtime_configs)
    return;
  g_clear_pointer (&self->runtime_configs, g_variant_unref);
  if (configs != NULL)
    self->runtime_configs = g_variant_ref_sink (configs);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RUNTIME_CONFIGS]);
}

/**
 * llmsbx_sandbox_session_get_security_policy:
 * @self: a #LlmsbxSandboxSession
 *
 * Returns: (transfer none) (nullable): the security policy, if any
 */
LlmsbxSecurityPolicy *
llmsbx_sandbox_session_get_security_policy (LlmsbxSandboxSession *self)
{
  g_return_val_if_fail (LLMSBX_IS_SANDBOX_SESSION (self), NULL);
  return self->security_policy;
}

/**
 * llmsbx_sandbox_session_set_security_policy:
 * @self: a #LlmsbxSandboxSession
 * @policy: (nullable): the policy to enforce, or %NULL for none
 *
 * Sets the security policy that run(), install() and is_safe() apply. The
 * policy is shared, not copied: patterns added to it later apply too.
 */
void
llmsbx_sandbox_session_set_security_policy (LlmsbxSandboxSession *self,
                                            LlmsbxSecurityPolicy *policy)
{
  g_return_if_fail (LLMSBX_IS_SANDBOX_SESSION (self));
  g_return_if_fail (policy == NULL || LLMSBX_IS_SECURITY_POLICY (policy));

  if (g_set_object (&self->security_policy, policy))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SECURITY_POLICY]);
}

/**
 * llmsbx_sandbox_session_set_runtime_configs_json:
 * @self: a #LlmsbxSandboxSession
 * @json: a JSON object such as `{"mem_limit": "512m"}`
 * @error: return location for a #GError
 *
 * Sets #LlmsbxSandboxSession:runtime-configs from JSON. Arrays and objects
 * may nest at most 64 levels deep; text after the object and string escapes
 * that are not text (`\u0000`, an unpaired surrogate) are refused.
 *
 * Returns: %TRUE when @json is a JSON object; %FALSE with
 *   %LLMSBX_ERROR_INVALID_ARGUMENT otherwise
 */
gboolean
llmsbx_sandbox_session_set_runtime_configs_json (LlmsbxSandboxSession *self,
                                                 const char           *json,
                                                 GError              **error)
{
  g_autoptr(JsonNode) node = NULL;
  g_autoptr(GVariant) configs = NULL;
  g_autoptr(GError) local_error = NULL;

  g_return_val_if_fail (LLMSBX_IS_SANDBOX_SESSION (self), FALSE);
  g_return_val_if_fail (json != NULL, FALSE);

  if (!llmsbx_json_check (json, -1, "Runtime configs", error))
    return FALSE;
  node = json_from_string (json, &local_error);
  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    {
      /* json-glib's parse errors quote the text, and may cut a character in two. */
      g_autofree char *reason = local_error ? g_utf8_make_valid (local_error->message, -1) : NULL;

      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
                   "Runtime configs must be a JSON object%s%s",
                   reason ? ": " : "", reason ? reason : "");
      return FALSE;
    }

  /* The result may be floating; own it before the setter takes its reference. */
  configs = json_gvariant_deserialize (node, "a{sv}", &local_error);
  if (configs != NULL)
    g_variant_ref_sink (configs);
  if (configs == NULL)
    {
      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
                   "Runtime configs cannot be converted: %s", local_error->message);
      return FALSE;
    }

  llmsbx_sandbox_session_set_runtime_configs (self, configs);
  return TRUE;
}

static void
llmsbx_sandbox_session_dispose (GObject *object)
{
  LlmsbxSandboxSession *self = LLMSBX_SANDBOX_SESSION (object);
  g_autoptr(GError) error = NULL;

  /* A session dropped while open must not leak its sandbox. */
  if (self->is_open && !llmsbx_sandbox_session_close (self, NULL, &error))
    g_warning ("Closing a session on dispose failed: %s", error->message);

  G_OBJECT_CLASS (llmsbx_sandbox_session_parent_class)->dispose (object);
}

static void
llmsbx_sandbox_session_finalize (GObject *object)
{
  LlmsbxSandboxSession *self = LLMSBX_SANDBOX_SESSION (object);

  reset_state (self);
  g_free (self->lang);
  g_free (self->backend_name);
  g_clear_object (&self->client);
  g_clear_object (&self->pool);
  g_free (self->image);
  g_free (self->dockerfile);
  g_free (self->workdir);
  g_free (self->container_id);
  g_free (self->commit_image);
  g_free (self->session_uuid);
  g_clear_pointer (&self->runtime_configs, g_variant_unref);
  g_clear_object (&self->security_policy);
  g_rec_mutex_clear (&self->lock);
  g_mutex_clear (&self->operation_lock);

  G_OBJECT_CLASS (llmsbx_sandbox_session_parent_class)->finalize (object);
}

static void
llmsbx_sandbox_session_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  LlmsbxSandboxSession *self = LLMSBX_SANDBOX_SESSION (object);

  switch (prop_id)
    {
    case PROP_LANG: g_value_set_string (value, self->lang); break;
    case PROP_BACKEND: g_value_set_string (value, llmsbx_sandbox_session_get_backend (self)); break;
    case PROP_CLIENT: g_value_set_object (value, self->client); break;
    case PROP_IMAGE: g_value_set_string (value, llmsbx_sandbox_session_get_image (self)); break;
    case PROP_DOCKERFILE: g_value_set_string (value, self->dockerfile); break;
    case PROP_WORKDIR: g_value_set_string (value, self->workdir); break;
    case PROP_CONTAINER_ID: g_value_set_string (value, llmsbx_sandbox_session_get_container_id (self)); break;
    case PROP_KEEP_TEMPLATE: g_value_set_boolean (value, self->keep_template); break;
    case PROP_COMMIT_CONTAINER: g_value_set_boolean (value, self->commit_container); break;
    case PROP_COMMIT_IMAGE: g_value_set_string (value, llmsbx_sandbox_session_get_commit_image (self)); break;
    case PROP_SKIP_ENVIRONMENT_SETUP: g_value_set_boolean (value, self->skip_environment_setup); break;
    case PROP_VERBOSE: g_value_set_boolean (value, self->verbose); break;
    case PROP_DEFAULT_TIMEOUT: g_value_set_double (value, self->default_timeout); break;
    case PROP_EXECUTION_TIMEOUT: g_value_set_double (value, self->execution_timeout); break;
    case PROP_SESSION_TIMEOUT: g_value_set_double (value, self->session_timeout); break;
    case PROP_RUNTIME_CONFIGS: g_value_set_variant (value, self->runtime_configs); break;
    case PROP_OUTPUT_LIMIT: g_value_set_uint64 (value, self->output_limit); break;
    case PROP_COPY_LIMIT: g_value_set_uint64 (value, self->copy_limit); break;
    case PROP_SECURITY_POLICY: g_value_set_object (value, self->security_policy); break;
    case PROP_IS_OPEN: g_value_set_boolean (value, self->is_open); break;
    case PROP_POOL: g_value_set_object (value, self->pool); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
set_lowercase (char       **slot,
               const char  *value)
{
  g_free (*slot);
  *slot = value ? g_ascii_strdown (value, -1) : NULL;
}

static void
llmsbx_sandbox_session_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  LlmsbxSandboxSession *self = LLMSBX_SANDBOX_SESSION (object);

  switch (prop_id)
    {
    case PROP_LANG: set_lowercase (&self->lang, g_value_get_string (value) ? g_value_get_string (value) : "python"); break;
    case PROP_BACKEND: set_lowercase (&self->backend_name, g_value_get_string (value)); break;
    case PROP_CLIENT: g_set_object (&self->client, g_value_get_object (value)); break;
    case PROP_IMAGE: g_free (self->image); self->image = g_value_dup_string (value); break;
    case PROP_DOCKERFILE: g_free (self->dockerfile); self->dockerfile = g_value_dup_string (value); break;
    case PROP_WORKDIR: g_free (self->workdir); self->workdir = g_strdup (g_value_get_string (value) ? g_value_get_string (value) : "/sandbox"); break;
    case PROP_CONTAINER_ID: g_free (self->container_id); self->container_id = g_value_dup_string (value); break;
    case PROP_KEEP_TEMPLATE: self->keep_template = g_value_get_boolean (value); break;
    case PROP_COMMIT_CONTAINER: self->commit_container = g_value_get_boolean (value); break;
    case PROP_COMMIT_IMAGE: g_free (self->commit_image); self->commit_image = g_value_dup_string (value); break;
    case PROP_SKIP_ENVIRONMENT_SETUP: self->skip_environment_setup = g_value_get_boolean (value); break;
    case PROP_VERBOSE: self->verbose = g_value_get_boolean (value); break;
    case PROP_DEFAULT_TIMEOUT: self->default_timeout = g_value_get_double (value); break;
    case PROP_EXECUTION_TIMEOUT: self->execution_timeout = g_value_get_double (value); break;
    case PROP_SESSION_TIMEOUT: self->session_timeout = g_value_get_double (value); break;
    case PROP_RUNTIME_CONFIGS: llmsbx_sandbox_session_set_runtime_configs (self, g_value_get_variant (value)); break;
    case PROP_OUTPUT_LIMIT: self->output_limit = g_value_get_uint64 (value); break;
    case PROP_COPY_LIMIT: self->copy_limit = g_value_get_uint64 (value); break;
    case PROP_SECURITY_POLICY: llmsbx_sandbox_session_set_security_policy (self, g_value_get_object (value)); break;
    case PROP_POOL: g_set_object (&self->pool, g_value_get_object (value)); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
llmsbx_sandbox_session_class_init (LlmsbxSandboxSessionClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GParamFlags config_flags = G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_STATIC_STRINGS;
  /* Lax: the only value a double's range cannot hold is NaN, which is then
   * kept as given, without GLib's warning. */
  GParamFlags limit_flags = config_flags | G_PARAM_LAX_VALIDATION;

  object_class->dispose = llmsbx_sandbox_session_dispose;
  object_class->finalize = llmsbx_sandbox_session_finalize;
  object_class->get_property = llmsbx_sandbox_session_get_property;
  object_class->set_property = llmsbx_sandbox_session_set_property;

  /**
   * LlmsbxSandboxSession:lang:
   *
   * The language of the code, case-insensitive (`python`, `javascript`, ...).
   */
  properties[PROP_LANG] = g_param_spec_string ("lang", NULL, NULL, "python", config_flags);

  /**
   * LlmsbxSandboxSession:backend:
   *
   * Name of the backend plugin to use (`docker`, `podman`, `kubernetes`).
   * Ignored when #LlmsbxSandboxSession:client is set. %NULL (the default)
   * lets the registry choose at open(): the backend `LLMSBX_BACKEND` names,
   * else the first by rank that answers (Docker, then Podman; see
   * llmsbx_registry_get_default_backend_name()). While the session is open,
   * the property then reads as the backend chosen.
   */
  properties[PROP_BACKEND] = g_param_spec_string ("backend", NULL, NULL, NULL, config_flags);

  /**
   * LlmsbxSandboxSession:client:
   *
   * A configured backend (for a remote daemon, a custom socket or TLS), used
   * instead of a default one named by #LlmsbxSandboxSession:backend.
   */
  properties[PROP_CLIENT] = g_param_spec_object ("client", NULL, NULL, LLMSBX_TYPE_BACKEND,
                                                 G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);

  /**
   * LlmsbxSandboxSession:image:
   *
   * The image to run; %NULL for the language's default image.
   */
  properties[PROP_IMAGE] = g_param_spec_string ("image", NULL, NULL, NULL,
                                                G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);

  /**
   * LlmsbxSandboxSession:dockerfile:
   *
   * A Dockerfile to build the image from; its directory is the build context.
   */
  properties[PROP_DOCKERFILE] = g_param_spec_string ("dockerfile", NULL, NULL, NULL,
                                                     G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);

  /**
   * LlmsbxSandboxSession:workdir:
   *
   * Working directory in the sandbox, where code runs.
   */
  properties[PROP_WORKDIR] = g_param_spec_string ("workdir", NULL, NULL, "/sandbox", config_flags);

  /**
   * LlmsbxSandboxSession:container-id:
   *
   * An existing container (or pod) to attach to instead of creating one. It
   * is never removed by the session. While open, this is the sandbox's id.
   */
  properties[PROP_CONTAINER_ID] = g_param_spec_string ("container-id", NULL, NULL, NULL,
                                                       G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);

  /**
   * LlmsbxSandboxSession:keep-template:
   *
   * Keep an image this session pulled or built when it closes.
   */
  properties[PROP_KEEP_TEMPLATE] = g_param_spec_boolean ("keep-template", NULL, NULL, FALSE, config_flags);

  /**
   * LlmsbxSandboxSession:commit-container:
   *
   * Commit the sandbox's state to #LlmsbxSandboxSession:commit-image when
   * the session closes.
   */
  properties[PROP_COMMIT_CONTAINER] = g_param_spec_boolean ("commit-container", NULL, NULL, FALSE, config_flags);

  /**
   * LlmsbxSandboxSession:commit-image:
   *
   * The image (`name:tag`) that #LlmsbxSandboxSession:commit-container
   * commits to. %NULL for the session's own image, except when that is the
   * language's default image, which other sessions share: then its tag with
   * `-committed` appended (`llmsbx/python:bookworm-committed`). Only naming
   * the default image here commits onto it. While the session is open,
   * reading it gives the image close() will commit to.
   */
  properties[PROP_COMMIT_IMAGE] = g_param_spec_string ("commit-image", NULL, NULL, NULL,
                                                       G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);

  /**
   * LlmsbxSandboxSession:skip-environment-setup:
   *
   * Skip the language's environment setup (venv, pip, Go modules): code runs
   * with the image's own interpreter, and installing libraries fails with
   * %LLMSBX_ERROR_LIBRARY_INSTALLATION_NOT_SUPPORTED.
   */
  properties[PROP_SKIP_ENVIRONMENT_SETUP] =
    g_param_spec_boolean ("skip-environment-setup", NULL, NULL, FALSE, config_flags);

  /**
   * LlmsbxSandboxSession:verbose:
   *
   * Log every step, command and result at message level.
   */
  properties[PROP_VERBOSE] = g_param_spec_boolean ("verbose", NULL, NULL, FALSE, config_flags);

  /* The timeouts accept any number here, as GObject cannot report an error
   * from a property: an invalid one is kept and refused with
   * %LLMSBX_ERROR_INVALID_ARGUMENT by g_initable_init(), open() and every
   * call that applies it (check_limits()), never weakened to "no limit". */

  /**
   * LlmsbxSandboxSession:default-timeout:
   *
   * Seconds any operation in the sandbox may take (commands, installs, and
   * runs when no other timeout is set); 0 for no limit. A negative, infinite
   * or NaN value, or one above 10^9, makes g_initable_init(), open() and
   * every call fail with %LLMSBX_ERROR_INVALID_ARGUMENT.
   */
  properties[PROP_DEFAULT_TIMEOUT] =
    g_param_spec_double ("default-timeout", NULL, NULL, -INFINITY, INFINITY, LLMSBX_DEFAULT_TIMEOUT, limit_flags);

  /**
   * LlmsbxSandboxSession:execution-timeout:
   *
   * Seconds a run may take; 0 to use #LlmsbxSandboxSession:default-timeout.
   * Invalid values are refused as for #LlmsbxSandboxSession:default-timeout.
   */
  properties[PROP_EXECUTION_TIMEOUT] =
    g_param_spec_double ("execution-timeout", NULL, NULL, -INFINITY, INFINITY, 0, limit_flags);

  /**
   * LlmsbxSandboxSession:session-timeout:
   *
   * Maximum lifetime of the session in seconds, counted from open; 0 for no
   * limit. An expired session is closed and its sandbox removed. Invalid
   * values are refused as for #LlmsbxSandboxSession:default-timeout.
   */
  properties[PROP_SESSION_TIMEOUT] =
    g_param_spec_double ("session-timeout", NULL, NULL, -INFINITY, INFINITY, 0, limit_flags);

  /**
   * LlmsbxSandboxSession:runtime-configs:
   *
   * Container settings in docker-py style (`mem_limit`, `network_mode`,
   * `volumes`, ...) as an `a{sv}` dictionary.
   */
  properties[PROP_RUNTIME_CONFIGS] =
    g_param_spec_variant ("runtime-configs", NULL, NULL, G_VARIANT_TYPE_VARDICT, NULL,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * LlmsbxSandboxSession:output-limit:
   *
   * Bytes of each output stream kept per execution; past it output is
   * dropped and the result is marked truncated. 0 for no limit.
   */
  properties[PROP_OUTPUT_LIMIT] =
    g_param_spec_uint64 ("output-limit", NULL, NULL, 0, G_MAXUINT64, LLMSBX_DEFAULT_OUTPUT_LIMIT, config_flags);

  /**
   * LlmsbxSandboxSession:copy-limit:
   *
   * Bytes of tar archive a copy into or out of the sandbox may move; a
   * larger one fails with %LLMSBX_ERROR_LIMIT_EXCEEDED naming this limit,
   * and nothing is written. Archives out of the sandbox go to disk as they
   * arrive (in an unlinked file next to the destination), never into memory;
   * archives into it are built in memory. 0 for no limit (4 GiB into the
   * sandbox).
   */
  properties[PROP_COPY_LIMIT] =
    g_param_spec_uint64 ("copy-limit", NULL, NULL, 0, G_MAXUINT64, LLMSBX_DEFAULT_COPY_LIMIT, config_flags);

  /**
   * LlmsbxSandboxSession:security-policy:
   *
   * The security policy the session enforces: run() refuses code and
   * install() libraries that it blocks, with %LLMSBX_ERROR_SECURITY_VIOLATION
   * naming every violation, before anything reaches the sandbox. %NULL for
   * none.
   */
  properties[PROP_SECURITY_POLICY] =
    g_param_spec_object ("security-policy", NULL, NULL, LLMSBX_TYPE_SECURITY_POLICY,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * LlmsbxSandboxSession:is-open:
   *
   * Whether the session is open.
   */
  /**
   * LlmsbxSandboxSession:pool:
   *
   * A pool whose sandbox the session takes when it opens and gives back when
   * it closes (the pool resets or destroys it before the next user). The
   * session then has the pool's language, image, backend and workdir; it
   * cannot commit, attach to a container or build a Dockerfile.
   *
   * Since: 0.2
   */
  properties[PROP_POOL] =
    g_param_spec_object ("pool", NULL, NULL, LLMSBX_TYPE_SANDBOX_POOL,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  properties[PROP_IS_OPEN] = g_param_spec_boolean ("is-open", NULL, NULL, FALSE,
                                                   G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * LlmsbxSandboxSession::output:
   * @self: the session
   * @stream: which stream the chunk came from
   * @chunk: the bytes, exactly as the program wrote them
   *
   * Emitted as output arrives from a run or a command, before the call
   * returns. Handlers never change the exit status the call reports.
   */
  signals[SIGNAL_OUTPUT] =
    g_signal_new ("output", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 2, LLMSBX_TYPE_OUTPUT_STREAM, G_TYPE_BYTES);
}

/* For g_initable_new() and the Python constructor: the configuration that
 * can be checked without the engine, so that a session with an invalid limit
 * is refused where it is made. */
static gboolean
llmsbx_sandbox_session_initable_init (GInitable     *initable,
                                      GCancellable  *cancellable,
                                      GError       **error)
{
  return check_limits (LLMSBX_SANDBOX_SESSION (initable), error);
}

static void
llmsbx_sandbox_session_initable_iface_init (GInitableIface *iface)
{
  iface->init = llmsbx_sandbox_session_initable_init;
}

static void
llmsbx_sandbox_session_init (LlmsbxSandboxSession *self)
{
  g_rec_mutex_init (&self->lock);
  g_mutex_init (&self->operation_lock);
}
