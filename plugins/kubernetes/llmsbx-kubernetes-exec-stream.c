/* llmsbx-kubernetes-exec-stream.c: an exec attached to its caller over the
 * exec subresource's WebSocket. The base class kills by token; the end is
 * concluded as a plain exec's (a pod deleted under the command is the
 * sandbox's end, not a 137 of the command's). */
#include "llmsbx-kubernetes-backend-private.h"

#define LLMSBX_TYPE_KUBERNETES_EXEC_STREAM (llmsbx_kubernetes_exec_stream_get_type ())
G_DECLARE_FINAL_TYPE (LlmsbxKubernetesExecStream, llmsbx_kubernetes_exec_stream, LLMSBX, KUBERNETES_EXEC_STREAM,
                      LlmsbxExecStream)

struct _LlmsbxKubernetesExecStream
{
  LlmsbxExecStream  parent_instance;

  LlmsbxKubernetesBackend *backend;
  char                    *sandbox_id;
  LlmsbxKubeExec          *exec;
  gint64                   deadline;
};

G_DEFINE_FINAL_TYPE (LlmsbxKubernetesExecStream, llmsbx_kubernetes_exec_stream, LLMSBX_TYPE_EXEC_STREAM)

static gboolean
check_exec (LlmsbxKubernetesExecStream  *self,
            GError                     **error)
{
  if (self->exec == NULL)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CLOSED, "The exec stream is closed");
      return FALSE;
    }
  return TRUE;
}

static gboolean
write_input (LlmsbxExecStream  *stream,
             const guint8      *data,
             gsize              length,
             GCancellable      *cancellable,
             GError           **error)
{
  LlmsbxKubernetesExecStream *self = LLMSBX_KUBERNETES_EXEC_STREAM (stream);

  return check_exec (self, error) && llmsbx_kube_exec_write (self->exec, data, length, error);
}

static gboolean
close_stdin (LlmsbxExecStream  *stream,
             GCancellable      *cancellable,
             GError           **error)
{
  LlmsbxKubernetesExecStream *self = LLMSBX_KUBERNETES_EXEC_STREAM (stream);

  return check_exec (self, error) && llmsbx_kube_exec_close_stdin (self->exec, error);
}

static GBytes *
read_output (LlmsbxExecStream    *stream,
             LlmsbxOutputStream  *which,
             GCancellable        *cancellable,
             GError             **error)
{
  LlmsbxKubernetesExecStream *self = LLMSBX_KUBERNETES_EXEC_STREAM (stream);

  if (!check_exec (self, error))
    return NULL;
  return llmsbx_kube_exec_read (self->exec, which, self->deadline, cancellable, error);
}

static gboolean
wait_exit (LlmsbxExecStream  *stream,
           int               *exit_status,
           GCancellable      *cancellable,
           GError           **error)
{
  LlmsbxKubernetesExecStream *self = LLMSBX_KUBERNETES_EXEC_STREAM (stream);
  GError *local_error = NULL;
  gboolean ok;

  if (!check_exec (self, error))
    return FALSE;
  ok = llmsbx_kube_exec_finish (self->exec, exit_status, &local_error);
  return llmsbx_kubernetes_backend_conclude (self->backend, self->sandbox_id, ok, local_error, exit_status, error);
}

static void
release (LlmsbxExecStream *stream)
{
  LlmsbxKubernetesExecStream *self = LLMSBX_KUBERNETES_EXEC_STREAM (stream);

  g_clear_pointer (&self->exec, llmsbx_kube_exec_free);
}

static void
llmsbx_kubernetes_exec_stream_finalize (GObject *object)
{
  LlmsbxKubernetesExecStream *self = LLMSBX_KUBERNETES_EXEC_STREAM (object);

  g_clear_pointer (&self->exec, llmsbx_kube_exec_free);
  g_clear_object (&self->backend);
  g_free (self->sandbox_id);
  G_OBJECT_CLASS (llmsbx_kubernetes_exec_stream_parent_class)->finalize (object);
}

static void
llmsbx_kubernetes_exec_stream_class_init (LlmsbxKubernetesExecStreamClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  LlmsbxExecStreamClass *stream_class = LLMSBX_EXEC_STREAM_CLASS (klass);

  object_class->finalize = llmsbx_kubernetes_exec_stream_finalize;
  stream_class->write_input = write_input;
  stream_class->close_stdin = close_stdin;
  stream_class->read_output = read_output;
  stream_class->wait = wait_exit;
  stream_class->release = release;
}

static void
llmsbx_kubernetes_exec_stream_init (LlmsbxKubernetesExecStream *self)
{
}

LlmsbxExecStream *
llmsbx_kubernetes_exec_stream_new (LlmsbxKubernetesBackend *backend,
                                   const char              *sandbox_id,
                                   LlmsbxKubeExec          *exec,
                                   gint64                   deadline)
{
  LlmsbxKubernetesExecStream *self = g_object_new (LLMSBX_TYPE_KUBERNETES_EXEC_STREAM, NULL);

  self->backend = g_object_ref (backend);
  self->sandbox_id = g_strdup (sandbox_id);

  self->exec = exec;
  self->deadline = deadline;
  return LLMSBX_EXEC_STREAM (self);
}
