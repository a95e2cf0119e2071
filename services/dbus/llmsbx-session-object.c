/* llmsbx-session-object.c: one kept session on the bus, its owner's alone.
 *
 * The object /org/llmsbx/Sandbox1/session/<id> of a session in the table.
 * Every method call is checked against the owner, the unique bus name that
 * opened it, before it is dispatched (org.llmsbx.Sandbox1.Error.AccessDenied
 * otherwise). Calls wait in a queue and run one at a time, so that no worker
 * thread ever blocks on the session's lock: Run through the table's
 * run_async, Execute and the copies in a worker thread of their own (the
 * session has no async form of them). Close does not wait: it kills what
 * runs. Output is sent as it comes, to the owner alone. */
#include <unistd.h>
#include <gio/gunixfdlist.h>

#include "llmsbx-fd-copy.h"
#include "llmsbx-session-object.h"

struct _LlmsbxSessionObject
{
  GObject parent_instance;

  LlmsbxSessionTable       *table;
  GDBusConnection          *connection;
  guint                     id;
  char                     *owner;
  char                     *path;
  goffset                   max_copy_size;
  LlmsbxDBusObjectSkeleton *object;
  LlmsbxDBusSession        *skeleton;
  LlmsbxSandboxSession     *session;
  gulong                    output_handler;

  GQueue                    calls;     /* Call waiting */
  gboolean                  running;   /* a call is in progress */
  gboolean                  closed;
};

G_DEFINE_FINAL_TYPE (LlmsbxSessionObject, llmsbx_session_object, G_TYPE_OBJECT)

typedef enum {
  CALL_RUN,
  CALL_EXECUTE,
  CALL_COPY_TO,
  CALL_COPY_FROM,
} CallKind;

typedef struct {
  LlmsbxSessionObject   *self;
  GDBusMethodInvocation *invocation;
  CallKind               kind;
  char                  *code;       /* Run */
  GStrv                  strings;    /* Run's libraries, Execute's argv */
  double                 timeout;    /* Run, resolved */
  char                  *path;       /* Execute's workdir, CopyTo's destination, CopyFrom's source */
  int                    fd;         /* the copies' descriptor, or -1 */
  LlmsbxSessionUse      *use;
} Call;

static void dispatch (LlmsbxSessionObject *self);

static void
call_free (Call *call)
{
  g_object_unref (call->self);
  g_object_unref (call->invocation);
  g_free (call->code);
  g_strfreev (call->strings);
  g_free (call->path);
  if (call->fd >= 0)
    close (call->fd);
  g_assert (call->use == NULL);
  g_free (call);
}

static Call *
call_new (LlmsbxSessionObject   *self,
          GDBusMethodInvocation *invocation,
          CallKind               kind)
{
  Call *call = g_new0 (Call, 1);

  call->self = g_object_ref (self);
  call->invocation = g_object_ref (invocation);
  call->kind = kind;
  call->fd = -1;
  return call;
}

/* A call cancelled under it: its session was closed (or expired, or its
 * owner left). */
static void
return_error (Call   *call,
              GError *error)
{
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    g_dbus_method_invocation_return_error (call->invocation, LLMSBX_SERVICE_ERROR,
                                           LLMSBX_SERVICE_ERROR_NO_SUCH_SESSION,
                                           "Session %u was closed during the call", call->self->id);
  else
    g_dbus_method_invocation_return_gerror (call->invocation, error);
  g_error_free (error);
}

/* The call is answered: the next one may run. */
static void
call_done (Call *call)
{
  LlmsbxSessionObject *self = g_object_ref (call->self);

  if (call->use != NULL)
    g_clear_pointer (&call->use, llmsbx_session_use_end);
  call_free (call);
  self->running = FALSE;
  dispatch (self);
  g_object_unref (self);
}

static GVariant *
bytes_variant (GBytes *bytes)
{
  return g_variant_new_from_bytes (G_VARIANT_TYPE_BYTESTRING, bytes, TRUE);
}

static void
return_result (Call                  *call,
               LlmsbxExecutionResult *result)
{
  GVariantDict extra;
  GVariant *out = bytes_variant (llmsbx_execution_result_get_stdout_bytes (result));
  GVariant *err = bytes_variant (llmsbx_execution_result_get_stderr_bytes (result));

  g_variant_dict_init (&extra, NULL);
  g_variant_dict_insert (&extra, "truncated", "b", llmsbx_execution_result_get_truncated (result));
  g_variant_dict_insert (&extra, "oom-killed", "b", llmsbx_execution_result_get_oom_killed (result));
  g_variant_dict_insert (&extra, "duration", "d", llmsbx_execution_result_get_duration (result));

  if (call->kind == CALL_RUN)
    llmsbx_dbus_session_complete_run (call->self->skeleton, call->invocation,
                                      llmsbx_execution_result_get_exit_code (result), out, err,
                                      g_variant_dict_end (&extra));
  else
    llmsbx_dbus_session_complete_execute (call->self->skeleton, call->invocation,
                                          llmsbx_execution_result_get_exit_code (result), out, err,
                                          g_variant_dict_end (&extra));
}

/* Run -------------------------------------------------------------------- */

static void
on_ran (GObject      *source,
        GAsyncResult *result,
        gpointer      user_data)
{
  Call *call = user_data;
  g_autoptr(LlmsbxExecutionResult) ran = NULL;
  GError *error = NULL;

  ran = llmsbx_session_table_run_finish (LLMSBX_SESSION_TABLE (source), result, &error);
  if (ran != NULL)
    return_result (call, ran);
  else
    return_error (call, error);
  call_done (call);
}

/* Execute and copies, in a worker thread ---------------------------------- */

static gboolean
copy_to (Call          *call,
         GCancellable  *cancellable,
         GError       **error)
{
  LlmsbxSandboxSession *session = llmsbx_session_use_get_session (call->use);
  g_autofree char *staging = llmsbx_fd_copy_make_staging (error);
  g_autofree char *staged = NULL;
  gboolean ok;

  if (staging == NULL)
    return FALSE;
  staged = llmsbx_fd_copy_in (call->fd, staging, call->self->max_copy_size, cancellable, error);
  ok = staged != NULL &&
       llmsbx_sandbox_session_copy_to_runtime (session, staged, call->path, cancellable, error);
  llmsbx_fd_copy_remove_staging (staging);
  return ok;
}

/* What the file is, asked of the sandbox first: the copy comes into the
 * daemon's memory whole, so only a regular file no larger than the daemon
 * copies is fetched. */
static gboolean
check_source (Call          *call,
              GCancellable  *cancellable,
              GError       **error)
{
  LlmsbxSandboxSession *session = llmsbx_session_use_get_session (call->use);
  const char *argv[] = { "stat", "-L", "-c", "%s %F", "--", call->path, NULL };
  g_autoptr(LlmsbxExecutionResult) result = NULL;
  g_auto(GStrv) fields = NULL;
  guint64 size = 0;

  result = llmsbx_sandbox_session_execute_argv (session, argv, NULL, cancellable, error);
  if (result == NULL)
    return FALSE;
  if (llmsbx_execution_result_get_exit_code (result) != 0)
    {
      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_FILE_NOT_FOUND, "No file '%s' in the sandbox", call->path);
      return FALSE;
    }
  fields = g_strsplit (g_strchomp ((char *) llmsbx_execution_result_get_stdout (result)), " ", 2);
  if (fields[0] == NULL || fields[1] == NULL ||
      !g_ascii_string_to_unsigned (fields[0], 10, 0, G_MAXUINT64, &size, NULL) ||
      !g_str_has_prefix (fields[1], "regular"))
    {
      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
                   "'%s' is not a regular file; CopyFrom copies one (make a tar archive of a "
                   "directory with Execute and copy that)", call->path);
      return FALSE;
    }
  if (size > (guint64) call->self->max_copy_size)
    {
      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
                   "'%s' has %" G_GUINT64_FORMAT " bytes, more than the %" G_GOFFSET_FORMAT
                   " the daemon copies", call->path, size, call->self->max_copy_size);
      return FALSE;
    }
  return TRUE;
}

static gboolean
copy_from (Call          *call,
           GCancellable  *cancellable,
           GError       **error)
{
  LlmsbxSandboxSession *session = llmsbx_session_use_get_session (call->use);
  g_autofree char *staging = NULL;
  g_autofree char *staged = NULL;
  gboolean ok;

  if (!check_source (call, cancellable, error))
    return FALSE;
  staging = llmsbx_fd_copy_make_staging (error);
  if (staging == NULL)
    return FALSE;
  staged = g_build_filename (staging, "file", NULL);
  ok = llmsbx_sandbox_session_copy_from_runtime (session, call->path, staged, cancellable, error) &&
       llmsbx_fd_copy_out (staged, call->fd, cancellable, error);
  llmsbx_fd_copy_remove_staging (staging);
  return ok;
}

static void
call_thread (GTask        *task,
             gpointer      source,
             gpointer      task_data,
             GCancellable *cancellable)
{
  Call *call = task_data;
  LlmsbxSandboxSession *session = llmsbx_session_use_get_session (call->use);
  GError *error = NULL;

  if (call->kind == CALL_EXECUTE)
    {
      LlmsbxExecutionResult *result;

      result = llmsbx_sandbox_session_execute_argv (session, (const char * const *) call->strings,
                                                    *call->path ? call->path : NULL, cancellable, &error);
      if (result != NULL)
        g_task_return_pointer (task, result, g_object_unref);
      else
        g_task_return_error (task, error);
      return;
    }

  if (call->kind == CALL_COPY_TO ? copy_to (call, cancellable, &error) : copy_from (call, cancellable, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

static void
on_call_thread_done (GObject      *source,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  Call *call = user_data;
  GError *error = NULL;

  if (call->kind == CALL_EXECUTE)
    {
      g_autoptr(LlmsbxExecutionResult) executed = g_task_propagate_pointer (G_TASK (result), &error);

      if (executed != NULL)
        return_result (call, executed);
      else
        return_error (call, error);
    }
  else if (g_task_propagate_boolean (G_TASK (result), &error))
    {
      if (call->kind == CALL_COPY_TO)
        llmsbx_dbus_session_complete_copy_to (call->self->skeleton, call->invocation, NULL);
      else
        llmsbx_dbus_session_complete_copy_from (call->self->skeleton, call->invocation, NULL);
    }
  else
    return_error (call, error);
  call_done (call);
}

/* Queue -------------------------------------------------------------------- */

static void
start (Call *call)
{
  LlmsbxSessionObject *self = call->self;
  g_autoptr(GTask) task = NULL;
  GError *error = NULL;

  if (call->kind == CALL_RUN)
    {
      llmsbx_session_table_run_async (self->table, self->id, self->owner, call->code,
                                      (const char * const *) call->strings, call->timeout, NULL, on_ran, call);
      return;
    }

  call->use = llmsbx_session_table_begin_use (self->table, self->id, self->owner, NULL, &error);
  if (call->use == NULL)
    {
      return_error (call, error);
      call_done (call);
      return;
    }
  task = g_task_new (NULL, llmsbx_session_use_get_cancellable (call->use), on_call_thread_done, call);
  g_task_set_task_data (task, call, NULL);
  g_task_run_in_thread (task, call_thread);
}

static void
dispatch (LlmsbxSessionObject *self)
{
  if (self->running || self->calls.length == 0)
    return;
  self->running = TRUE;
  start (g_queue_pop_head (&self->calls));
}

static void
enqueue (LlmsbxSessionObject *self,
         Call                *call)
{
  if (self->closed || self->calls.length >= LLMSBX_SESSION_OBJECT_MAX_QUEUED)
    {
      if (self->closed)
        g_dbus_method_invocation_return_error (call->invocation, LLMSBX_SERVICE_ERROR,
                                               LLMSBX_SERVICE_ERROR_NO_SUCH_SESSION, "Session %u was closed", self->id);
      else
        g_dbus_method_invocation_return_error (call->invocation, LLMSBX_SERVICE_ERROR,
                                               LLMSBX_SERVICE_ERROR_LIMIT_REACHED,
                                               "Session %u has %d calls waiting already", self->id,
                                               LLMSBX_SESSION_OBJECT_MAX_QUEUED);
      call_free (call);
      return;
    }
  g_queue_push_tail (&self->calls, call);
  dispatch (self);
}

/* Methods ------------------------------------------------------------------ */

static gboolean
on_authorize (GDBusInterfaceSkeleton *skeleton,
              GDBusMethodInvocation  *invocation,
              gpointer                user_data)
{
  LlmsbxSessionObject *self = user_data;

  if (g_strcmp0 (g_dbus_method_invocation_get_sender (invocation), self->owner) == 0)
    return TRUE;
  g_dbus_method_invocation_return_error (invocation, LLMSBX_SERVICE_ERROR, LLMSBX_SERVICE_ERROR_ACCESS_DENIED,
                                         "Session %u belongs to another client", self->id);
  return FALSE;
}

static gboolean
on_handle_run (LlmsbxDBusSession     *skeleton,
               GDBusMethodInvocation *invocation,
               const char            *code,
               const char * const    *libraries,
               double                 timeout,
               gpointer               user_data)
{
  LlmsbxSessionObject *self = user_data;
  GError *error = NULL;
  Call *call;
  double resolved;

  if (!llmsbx_session_table_resolve_timeout (self->table, timeout, &resolved, &error))
    {
      g_dbus_method_invocation_take_error (invocation, error);
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }
  call = call_new (self, invocation, CALL_RUN);
  call->code = g_strdup (code);
  call->strings = g_strdupv ((char **) libraries);
  call->timeout = resolved;
  enqueue (self, call);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
on_handle_execute (LlmsbxDBusSession     *skeleton,
                   GDBusMethodInvocation *invocation,
                   const char * const    *argv,
                   const char            *workdir,
                   gpointer               user_data)
{
  LlmsbxSessionObject *self = user_data;
  Call *call = call_new (self, invocation, CALL_EXECUTE);

  call->strings = g_strdupv ((char **) argv);
  call->path = g_strdup (workdir);
  enqueue (self, call);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

/* The caller's descriptor, checked for the direction the copy needs. */
static int
take_fd (GDBusMethodInvocation  *invocation,
         GUnixFDList            *fd_list,
         GVariant               *handle,
         gboolean                for_writing,
         GError                **error)
{
  int fd;

  if (fd_list == NULL || g_variant_get_handle (handle) >= g_unix_fd_list_get_length (fd_list))
    {
      g_set_error_literal (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
                           "The call carries no file descriptor");
      return -1;
    }
  fd = g_unix_fd_list_get (fd_list, g_variant_get_handle (handle), error);
  if (fd < 0)
    return -1;
  if (!llmsbx_fd_copy_check (fd, for_writing, error))
    {
      close (fd);
      return -1;
    }
  return fd;
}

static gboolean
handle_copy (LlmsbxSessionObject   *self,
             GDBusMethodInvocation *invocation,
             CallKind               kind,
             GUnixFDList           *fd_list,
             GVariant              *handle,
             const char            *path)
{
  GError *error = NULL;
  int fd = take_fd (invocation, fd_list, handle, kind == CALL_COPY_FROM, &error);
  Call *call;

  if (fd < 0)
    {
      g_dbus_method_invocation_take_error (invocation, error);
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }
  call = call_new (self, invocation, kind);
  call->fd = fd;
  call->path = g_strdup (path);
  enqueue (self, call);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
on_handle_copy_to (LlmsbxDBusSession     *skeleton,
                   GDBusMethodInvocation *invocation,
                   GUnixFDList           *fd_list,
                   GVariant              *source,
                   const char            *destination,
                   gpointer               user_data)
{
  return handle_copy (user_data, invocation, CALL_COPY_TO, fd_list, source, destination);
}

static gboolean
on_handle_copy_from (LlmsbxDBusSession     *skeleton,
                     GDBusMethodInvocation *invocation,
                     GUnixFDList           *fd_list,
                     const char            *source,
                     GVariant              *destination,
                     gpointer               user_data)
{
  return handle_copy (user_data, invocation, CALL_COPY_FROM, fd_list, destination, source);
}

static void
on_closed (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  GDBusMethodInvocation *invocation = user_data;
  LlmsbxSessionObject *self = g_object_get_data (G_OBJECT (invocation), "llmsbx-session-object");
  GError *error = NULL;

  /* Answering consumes the invocation, which holds the object. */
  if (llmsbx_session_table_close_finish (LLMSBX_SESSION_TABLE (source), result, &error))
    llmsbx_dbus_session_complete_close (self->skeleton, invocation);
  else
    g_dbus_method_invocation_take_error (invocation, error);
}

static gboolean
on_handle_close (LlmsbxDBusSession     *skeleton,
                 GDBusMethodInvocation *invocation,
                 gpointer               user_data)
{
  LlmsbxSessionObject *self = user_data;

  /* The object answers once the sandbox is gone, after the table forgot it. */
  g_object_set_data_full (G_OBJECT (invocation), "llmsbx-session-object", g_object_ref (self), g_object_unref);
  llmsbx_session_table_close_async (self->table, self->id, self->owner, on_closed, invocation);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

/* Output, to the owner alone: a unicast signal the bus delivers to one name. */
static void
on_output (LlmsbxSandboxSession *session,
           LlmsbxOutputStream    stream,
           GBytes               *chunk,
           gpointer              user_data)
{
  LlmsbxSessionObject *self = user_data;

  g_dbus_connection_emit_signal (self->connection, self->owner, self->path, "org.llmsbx.Sandbox1.Session",
                                 "Output", g_variant_new ("(u@ay)", (guint) stream, bytes_variant (chunk)), NULL);
}

/* API -------------------------------------------------------------------- */

/**
 * llmsbx_session_object_new:
 * @table: the table the session is in
 * @connection: the bus
 * @id: the session's id in @table
 * @owner: the unique name that opened it
 * @max_copy_size: the largest file the copies take
 *
 * Returns: (transfer full): the object, ready to be exported
 */
LlmsbxSessionObject *
llmsbx_session_object_new (LlmsbxSessionTable *table,
                           GDBusConnection    *connection,
                           guint               id,
                           const char         *owner,
                           goffset             max_copy_size)
{
  LlmsbxSessionObject *self = g_object_new (LLMSBX_TYPE_SESSION_OBJECT, NULL);

  self->table = g_object_ref (table);
  self->connection = g_object_ref (connection);
  self->id = id;
  self->owner = g_strdup (owner);
  self->path = g_strdup_printf ("/org/llmsbx/Sandbox1/session/%u", id);
  self->max_copy_size = max_copy_size;

  self->session = g_object_ref (llmsbx_session_table_lookup (table, id, owner, NULL));
  self->output_handler = g_signal_connect (self->session, "output", G_CALLBACK (on_output), self);

  self->skeleton = llmsbx_dbus_session_skeleton_new ();
  llmsbx_dbus_session_set_language (self->skeleton, llmsbx_sandbox_session_get_lang (self->session));
  g_signal_connect (self->skeleton, "g-authorize-method", G_CALLBACK (on_authorize), self);
  g_signal_connect (self->skeleton, "handle-run", G_CALLBACK (on_handle_run), self);
  g_signal_connect (self->skeleton, "handle-execute", G_CALLBACK (on_handle_execute), self);
  g_signal_connect (self->skeleton, "handle-copy-to", G_CALLBACK (on_handle_copy_to), self);
  g_signal_connect (self->skeleton, "handle-copy-from", G_CALLBACK (on_handle_copy_from), self);
  g_signal_connect (self->skeleton, "handle-close", G_CALLBACK (on_handle_close), self);

  self->object = llmsbx_dbus_object_skeleton_new (self->path);
  llmsbx_dbus_object_skeleton_set_session (self->object, self->skeleton);
  return self;
}

LlmsbxDBusObjectSkeleton *
llmsbx_session_object_get_object (LlmsbxSessionObject *self)
{
  g_return_val_if_fail (LLMSBX_IS_SESSION_OBJECT (self), NULL);
  return self->object;
}

const char *
llmsbx_session_object_get_path (LlmsbxSessionObject *self)
{
  g_return_val_if_fail (LLMSBX_IS_SESSION_OBJECT (self), NULL);
  return self->path;
}

/**
 * llmsbx_session_object_closed:
 * @self: a #LlmsbxSessionObject
 *
 * The table closed the session: waiting calls fail, the one in progress
 * fails as it is cancelled, and no more output is sent.
 */
void
llmsbx_session_object_closed (LlmsbxSessionObject *self)
{
  Call *call;

  g_return_if_fail (LLMSBX_IS_SESSION_OBJECT (self));

  self->closed = TRUE;
  g_clear_signal_handler (&self->output_handler, self->session);
  while ((call = g_queue_pop_head (&self->calls)) != NULL)
    {
      g_dbus_method_invocation_return_error (call->invocation, LLMSBX_SERVICE_ERROR,
                                             LLMSBX_SERVICE_ERROR_NO_SUCH_SESSION, "Session %u was closed", self->id);
      call_free (call);
    }
}

static void
llmsbx_session_object_dispose (GObject *object)
{
  LlmsbxSessionObject *self = LLMSBX_SESSION_OBJECT (object);

  if (self->session != NULL)
    g_clear_signal_handler (&self->output_handler, self->session);
  if (self->skeleton != NULL)
    g_signal_handlers_disconnect_by_data (self->skeleton, self);
  g_clear_object (&self->object);
  g_clear_object (&self->skeleton);
  g_clear_object (&self->session);
  G_OBJECT_CLASS (llmsbx_session_object_parent_class)->dispose (object);
}

static void
llmsbx_session_object_finalize (GObject *object)
{
  LlmsbxSessionObject *self = LLMSBX_SESSION_OBJECT (object);

  /* Calls hold the object, so none waits here. */
  g_assert (self->calls.length == 0);
  g_clear_object (&self->table);
  g_clear_object (&self->connection);
  g_free (self->owner);
  g_free (self->path);
  G_OBJECT_CLASS (llmsbx_session_object_parent_class)->finalize (object);
}

static void
llmsbx_session_object_class_init (LlmsbxSessionObjectClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = llmsbx_session_object_dispose;
  object_class->finalize = llmsbx_session_object_finalize;
}

static void
llmsbx_session_object_init (LlmsbxSessionObject *self)
{
  g_queue_init (&self->calls);
}
