/* llmsbx-exec-stream.c: a command attached to its caller: standard input,
 * output as it comes, exit status.
 *
 * The base class keeps the order of things (input, then its end; output,
 * then its end, then the exit status; close last) so that backends implement
 * each step once and never see a call out of order. Killing defaults to the
 * way timeouts kill (llmsbx-guarded-exec.c): engines have no call to kill an
 * exec, so every stream's command carries a token in its environment. */
#include "config.h"

#include "llmsbx-exec-stream-private.h"
#include "llmsbx-error.h"
#include "llmsbx-guarded-exec-private.h"

/**
 * LlmsbxExecStream:
 *
 * A command running in a sandbox with its caller attached, as made by
 * llmsbx_backend_open_exec_stream(): what is written goes to its standard
 * input, which llmsbx_exec_stream_close_stdin() ends; its output is read in
 * chunks as it comes (llmsbx_exec_stream_read(), or
 * llmsbx_exec_stream_read_all() with a callback); llmsbx_exec_stream_wait()
 * gives its exit status once the output has ended.
 *
 * A stream is used from one thread at a time; a #GCancellable interrupts a
 * blocking call. llmsbx_exec_stream_close() (or dropping the last
 * reference) kills a command whose output has not ended.
 *
 * Since: 0.1
 */

typedef struct
{
  LlmsbxBackend *backend;     /* for the default kill */
  char          *sandbox_id;
  char          *token;
  gboolean       stdin_closed;
  gboolean       output_ended;
  gboolean       waited;
  int            exit_status;
  gboolean       closed;
} LlmsbxExecStreamPrivate;

G_DEFINE_ABSTRACT_TYPE_WITH_PRIVATE (LlmsbxExecStream, llmsbx_exec_stream, G_TYPE_OBJECT)

static gboolean
fail_closed (GError **error)
{
  g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CLOSED, "The exec stream is closed");
  return FALSE;
}

static gboolean
llmsbx_exec_stream_real_kill (LlmsbxExecStream  *self,
                              GError           **error)
{
  LlmsbxExecStreamPrivate *priv = llmsbx_exec_stream_get_instance_private (self);

  if (priv->backend == NULL || priv->token == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                   "The %s cannot kill its command", G_OBJECT_TYPE_NAME (self));
      return FALSE;
    }
  return llmsbx_guarded_exec_kill_token (priv->backend, priv->sandbox_id, priv->token, error);
}

static void
llmsbx_exec_stream_dispose (GObject *object)
{
  LlmsbxExecStream *self = LLMSBX_EXEC_STREAM (object);
  g_autoptr(GError) error = NULL;

  if (!llmsbx_exec_stream_close (self, &error))
    g_warning ("Could not stop the command of an exec stream: %s", error->message);

  G_OBJECT_CLASS (llmsbx_exec_stream_parent_class)->dispose (object);
}

static void
llmsbx_exec_stream_finalize (GObject *object)
{
  LlmsbxExecStreamPrivate *priv = llmsbx_exec_stream_get_instance_private (LLMSBX_EXEC_STREAM (object));

  g_clear_object (&priv->backend);
  g_free (priv->sandbox_id);
  g_free (priv->token);

  G_OBJECT_CLASS (llmsbx_exec_stream_parent_class)->finalize (object);
}

static void
llmsbx_exec_stream_class_init (LlmsbxExecStreamClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = llmsbx_exec_stream_dispose;
  object_class->finalize = llmsbx_exec_stream_finalize;
  klass->kill = llmsbx_exec_stream_real_kill;
}

static void
llmsbx_exec_stream_init (LlmsbxExecStream *self)
{
}

/* Called by llmsbx_backend_open_exec_stream() on what the backend returned. */
void
llmsbx_exec_stream_set_origin (LlmsbxExecStream *self,
                               LlmsbxBackend    *backend,
                               const char       *sandbox_id,
                               const char       *token)
{
  LlmsbxExecStreamPrivate *priv = llmsbx_exec_stream_get_instance_private (self);

  g_set_object (&priv->backend, backend);
  g_free (priv->sandbox_id);
  priv->sandbox_id = g_strdup (sandbox_id);
  g_free (priv->token);
  priv->token = g_strdup (token);
}

/**
 * llmsbx_exec_stream_write_stdin:
 * @self: a #LlmsbxExecStream
 * @data: bytes for the command's standard input
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Writes all of @data to the command's standard input, blocking until it is
 * sent. Output that arrives meanwhile is kept for llmsbx_exec_stream_read().
 * Fails with %G_IO_ERROR_CLOSED after llmsbx_exec_stream_close_stdin().
 *
 * Returns: %TRUE on success
 *
 * Since: 0.1
 */
gboolean
llmsbx_exec_stream_write_stdin (LlmsbxExecStream  *self,
                                GBytes            *data,
                                GCancellable      *cancellable,
                                GError           **error)
{
  LlmsbxExecStreamPrivate *priv = llmsbx_exec_stream_get_instance_private (self);
  gsize length;
  const guint8 *bytes;

  g_return_val_if_fail (LLMSBX_IS_EXEC_STREAM (self), FALSE);
  g_return_val_if_fail (data != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (priv->closed)
    return fail_closed (error);
  if (priv->stdin_closed)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CLOSED, "The command's standard input is closed");
      return FALSE;
    }
  bytes = g_bytes_get_data (data, &length);
  if (length == 0)
    return TRUE;
  return LLMSBX_EXEC_STREAM_GET_CLASS (self)->write_input (self, bytes, length, cancellable, error);
}

/**
 * llmsbx_exec_stream_close_stdin:
 * @self: a #LlmsbxExecStream
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Ends the command's standard input; its output keeps coming. Closing it
 * again does nothing. Over a transport that cannot end one direction alone
 * (an engine reached over TLS) the command sees no end of its input, so a
 * command that must work everywhere reads a known length.
 *
 * Returns: %TRUE on success
 *
 * Since: 0.1
 */
gboolean
llmsbx_exec_stream_close_stdin (LlmsbxExecStream  *self,
                                GCancellable      *cancellable,
                                GError           **error)
{
  LlmsbxExecStreamPrivate *priv = llmsbx_exec_stream_get_instance_private (self);

  g_return_val_if_fail (LLMSBX_IS_EXEC_STREAM (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (priv->closed)
    return fail_closed (error);
  if (priv->stdin_closed)
    return TRUE;
  priv->stdin_closed = TRUE;
  return LLMSBX_EXEC_STREAM_GET_CLASS (self)->close_stdin (self, cancellable, error);
}

/**
 * llmsbx_exec_stream_read:
 * @self: a #LlmsbxExecStream
 * @stream: (out) (optional): which stream the chunk is from
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Blocks until the command writes something, and returns it. Chunks come in
 * the order the backend received them; their sizes mean nothing.
 *
 * Returns: (transfer full) (nullable): the next chunk of output, or %NULL
 *   without an error once the output has ended (the command exited), or
 *   %NULL with @error set
 *
 * Since: 0.1
 */
GBytes *
llmsbx_exec_stream_read (LlmsbxExecStream    *self,
                         LlmsbxOutputStream  *stream,
                         GCancellable        *cancellable,
                         GError             **error)
{
  LlmsbxExecStreamPrivate *priv = llmsbx_exec_stream_get_instance_private (self);
  g_autoptr(GError) local_error = NULL;
  LlmsbxOutputStream which = LLMSBX_OUTPUT_STREAM_STDOUT;
  GBytes *chunk;

  g_return_val_if_fail (LLMSBX_IS_EXEC_STREAM (self), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (priv->closed)
    {
      fail_closed (error);
      return NULL;
    }
  if (priv->output_ended)
    return NULL;
  chunk = LLMSBX_EXEC_STREAM_GET_CLASS (self)->read_output (self, &which, cancellable, &local_error);
  if (chunk == NULL && local_error == NULL)
    priv->output_ended = TRUE;
  if (local_error != NULL)
    g_propagate_error (error, g_steal_pointer (&local_error));
  if (stream != NULL)
    *stream = which;
  return chunk;
}

/**
 * llmsbx_exec_stream_read_all:
 * @self: a #LlmsbxExecStream
 * @func: (scope call): receives every chunk of output
 * @user_data: data for @func
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Calls @func with each chunk of output as it comes, until the output ends.
 *
 * Returns: %TRUE once the output ended, %FALSE on error
 *
 * Since: 0.1
 */
gboolean
llmsbx_exec_stream_read_all (LlmsbxExecStream  *self,
                             LlmsbxOutputFunc   func,
                             gpointer           user_data,
                             GCancellable      *cancellable,
                             GError           **error)
{
  g_return_val_if_fail (LLMSBX_IS_EXEC_STREAM (self), FALSE);
  g_return_val_if_fail (func != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  for (;;)
    {
      g_autoptr(GError) local_error = NULL;
      LlmsbxOutputStream stream;
      g_autoptr(GBytes) chunk = llmsbx_exec_stream_read (self, &stream, cancellable, &local_error);
      gsize length;
      const guint8 *data;

      if (local_error != NULL)
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return FALSE;
        }
      if (chunk == NULL)
        return TRUE;
      data = g_bytes_get_data (chunk, &length);
      func (stream, data, length, user_data);
    }
}

/**
 * llmsbx_exec_stream_wait:
 * @self: a #LlmsbxExecStream
 * @exit_status: (out): the command's exit status (128 + N for signal N)
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Waits for the command to exit and gives its exit status. Output not read
 * yet is read and dropped. Fails as llmsbx_backend_exec() does: with
 * %LLMSBX_ERROR_COMMAND_NOT_STARTED when the backend could not start the
 * command, %LLMSBX_ERROR_CONTAINER_FAILED when the sandbox stopped under it,
 * %LLMSBX_ERROR_TIMEOUT past the request's deadline. Once known, the status
 * is given again by later calls.
 *
 * Returns: %TRUE on success
 *
 * Since: 0.1
 */
gboolean
llmsbx_exec_stream_wait (LlmsbxExecStream  *self,
                         int               *exit_status,
                         GCancellable      *cancellable,
                         GError           **error)
{
  LlmsbxExecStreamPrivate *priv = llmsbx_exec_stream_get_instance_private (self);

  g_return_val_if_fail (LLMSBX_IS_EXEC_STREAM (self), FALSE);
  g_return_val_if_fail (exit_status != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (priv->waited)
    {
      *exit_status = priv->exit_status;
      return TRUE;
    }
  if (priv->closed)
    return fail_closed (error);
  while (!priv->output_ended)
    {
      g_autoptr(GError) local_error = NULL;
      /* What is left of the output goes unread: only the end matters here. */
      G_GNUC_UNUSED g_autoptr(GBytes) chunk = llmsbx_exec_stream_read (self, NULL, cancellable, &local_error);

      if (local_error != NULL)
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return FALSE;
        }
    }
  if (!LLMSBX_EXEC_STREAM_GET_CLASS (self)->wait (self, &priv->exit_status, cancellable, error))
    return FALSE;
  priv->waited = TRUE;
  *exit_status = priv->exit_status;
  return TRUE;
}

/**
 * llmsbx_exec_stream_kill:
 * @self: a #LlmsbxExecStream
 * @error: return location for a #GError
 *
 * Kills every process the command started, as a timeout does, and returns
 * when they are gone (within seconds). Its output then ends. Killing a
 * command that already exited does nothing but look for what it left.
 *
 * Returns: %TRUE when nothing the command started runs any more
 *
 * Since: 0.1
 */
gboolean
llmsbx_exec_stream_kill (LlmsbxExecStream  *self,
                         GError           **error)
{
  LlmsbxExecStreamPrivate *priv = llmsbx_exec_stream_get_instance_private (self);

  g_return_val_if_fail (LLMSBX_IS_EXEC_STREAM (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (priv->closed)
    return fail_closed (error);
  return LLMSBX_EXEC_STREAM_GET_CLASS (self)->kill (self, error);
}

/**
 * llmsbx_exec_stream_close:
 * @self: a #LlmsbxExecStream
 * @error: return location for a #GError
 *
 * Releases the stream. When the command's output has not ended, the command
 * is killed first (llmsbx_exec_stream_kill()); the stream is closed even when
 * that fails, and the error says what may still run. Closing again does nothing.
 *
 * Returns: %TRUE on success
 *
 * Since: 0.1
 */
gboolean
llmsbx_exec_stream_close (LlmsbxExecStream  *self,
                          GError           **error)
{
  LlmsbxExecStreamPrivate *priv = llmsbx_exec_stream_get_instance_private (self);
  gboolean ok = TRUE;

  g_return_val_if_fail (LLMSBX_IS_EXEC_STREAM (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (priv->closed)
    return TRUE;
  if (!priv->output_ended)
    ok = LLMSBX_EXEC_STREAM_GET_CLASS (self)->kill (self, error);
  priv->closed = TRUE;
  if (LLMSBX_EXEC_STREAM_GET_CLASS (self)->release != NULL)
    LLMSBX_EXEC_STREAM_GET_CLASS (self)->release (self);
  return ok;
}

/**
 * llmsbx_exec_stream_is_closed:
 * @self: a #LlmsbxExecStream
 *
 * Tells whether the stream was closed.
 *
 * Returns: whether llmsbx_exec_stream_close() was called
 *
 * Since: 0.1
 */
gboolean
llmsbx_exec_stream_is_closed (LlmsbxExecStream *self)
{
  LlmsbxExecStreamPrivate *priv = llmsbx_exec_stream_get_instance_private (self);

  g_return_val_if_fail (LLMSBX_IS_EXEC_STREAM (self), TRUE);
  return priv->closed;
}
