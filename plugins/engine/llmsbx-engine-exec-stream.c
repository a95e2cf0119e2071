/* llmsbx-engine-exec-stream.c: an exec attached over the connection the
 * engine takes over.
 *
 * The exec is created and started as llmsbx_backend_exec() does, but the
 * start's connection stays with the stream: what is written goes to the
 * command's stdin, what arrives goes through the mux parser into a queue of
 * chunks, and the end of the connection is the end of the output, after
 * which the exec's inspect gives the status, with the same reading of
 * not-started execs and stopped sandboxes as every exec. Engines cannot kill
 * an exec; the base class's token kill does. */
#undef G_LOG_DOMAIN
#define G_LOG_DOMAIN "Llmsbx-Engine"

#include "llmsbx-engine-backend-private.h"
#include "llmsbx-engine-mux.h"

typedef struct
{
  LlmsbxOutputStream  stream;
  GBytes             *data;
} Chunk;

typedef struct
{
  LlmsbxExecStream        parent_instance;

  LlmsbxEngineBackend    *backend;
  LlmsbxEngineClient     *client;
  LlmsbxEngineConnection *connection;
  LlmsbxEngineMux        *mux;
  char                   *sandbox_id;
  char                   *exec_id;
  gint64                  deadline;
  GQueue                  chunks;
  LlmsbxEngineExecOutput  head;  /* no collector: only the heads */
  gboolean                ended;
} LlmsbxEngineExecStream;

typedef struct
{
  LlmsbxExecStreamClass parent_class;
} LlmsbxEngineExecStreamClass;

static gpointer engine_exec_stream_parent_class;

static void
chunk_free (gpointer data)
{
  Chunk *chunk = data;

  g_bytes_unref (chunk->data);
  g_free (chunk);
}

static void
on_output (LlmsbxOutputStream  stream,
           const guint8       *data,
           gsize               length,
           gpointer            user_data)
{
  LlmsbxEngineExecStream *self = user_data;
  Chunk *chunk = g_new (Chunk, 1);

  llmsbx_engine_exec_output_note (&self->head, stream, data, length);
  chunk->stream = stream;
  chunk->data = g_bytes_new (data, length);
  g_queue_push_tail (&self->chunks, chunk);
}

static gboolean
timed_out (GError **error)
{
  g_set_error_literal (error, LLMSBX_ERROR, LLMSBX_ERROR_TIMEOUT, "The command did not finish before its deadline");
  return FALSE;
}

static gboolean
engine_exec_stream_write_input (LlmsbxExecStream  *stream,
                                const guint8      *data,
                                gsize              length,
                                GCancellable      *cancellable,
                                GError           **error)
{
  LlmsbxEngineExecStream *self = (LlmsbxEngineExecStream *) stream;
  g_autoptr(GError) local_error = NULL;

  if (llmsbx_engine_connection_send (self->connection, data, length, self->deadline, cancellable, &local_error))
    return TRUE;
  if (g_error_matches (local_error, LLMSBX_ERROR, LLMSBX_ERROR_TIMEOUT))
    return timed_out (error);
  g_propagate_error (error, g_steal_pointer (&local_error));
  return FALSE;
}

static gboolean
engine_exec_stream_close_stdin (LlmsbxExecStream  *stream,
                                GCancellable      *cancellable,
                                GError           **error)
{
  LlmsbxEngineExecStream *self = (LlmsbxEngineExecStream *) stream;

  llmsbx_engine_connection_close_write (self->connection);
  return TRUE;
}

static GBytes *
engine_exec_stream_read_output (LlmsbxExecStream    *stream,
                                LlmsbxOutputStream  *which,
                                GCancellable        *cancellable,
                                GError             **error)
{
  LlmsbxEngineExecStream *self = (LlmsbxEngineExecStream *) stream;

  while (g_queue_is_empty (&self->chunks) && !self->ended)
    {
      g_autoptr(GError) local_error = NULL;
      g_autoptr(GBytes) received = llmsbx_engine_connection_recv (self->connection, self->deadline,
                                                                  cancellable, &local_error);
      gsize length;
      const guint8 *data;

      if (g_error_matches (local_error, LLMSBX_ERROR, LLMSBX_ERROR_TIMEOUT))
        {
          timed_out (error);
          return NULL;
        }
      if (local_error != NULL)
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return NULL;
        }
      if (received == NULL)
        {
          self->ended = TRUE;
          if (!llmsbx_engine_mux_finish (self->mux, error))
            return NULL;
          break;
        }
      data = g_bytes_get_data (received, &length);
      if (!llmsbx_engine_mux_feed (self->mux, data, length, error))
        return NULL;
    }

  if (!g_queue_is_empty (&self->chunks))
    {
      Chunk *chunk = g_queue_pop_head (&self->chunks);
      GBytes *data = g_steal_pointer (&chunk->data);

      *which = chunk->stream;
      g_free (chunk);
      return data;
    }
  return NULL;
}

static gboolean
engine_exec_stream_wait (LlmsbxExecStream  *stream,
                         int               *exit_status,
                         GCancellable      *cancellable,
                         GError           **error)
{
  LlmsbxEngineExecStream *self = (LlmsbxEngineExecStream *) stream;

  return llmsbx_engine_exec_conclude (self->backend, self->client, self->sandbox_id, self->exec_id,
                                      self->deadline, &self->head, FALSE, exit_status, cancellable, error);
}

static void
engine_exec_stream_release (LlmsbxExecStream *stream)
{
  LlmsbxEngineExecStream *self = (LlmsbxEngineExecStream *) stream;

  g_clear_pointer (&self->connection, llmsbx_engine_connection_free);
}

static void
engine_exec_stream_finalize (GObject *object)
{
  LlmsbxEngineExecStream *self = (LlmsbxEngineExecStream *) object;

  g_clear_pointer (&self->connection, llmsbx_engine_connection_free);
  g_clear_pointer (&self->mux, llmsbx_engine_mux_free);
  g_clear_pointer (&self->client, llmsbx_engine_client_unref);
  g_clear_object (&self->backend);
  g_queue_clear_full (&self->chunks, chunk_free);
  g_free (self->sandbox_id);
  g_free (self->exec_id);

  G_OBJECT_CLASS (engine_exec_stream_parent_class)->finalize (object);
}

static void
engine_exec_stream_class_init (gpointer klass,
                               gpointer class_data)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  LlmsbxExecStreamClass *stream_class = LLMSBX_EXEC_STREAM_CLASS (klass);

  engine_exec_stream_parent_class = g_type_class_peek_parent (klass);
  object_class->finalize = engine_exec_stream_finalize;
  stream_class->write_input = engine_exec_stream_write_input;
  stream_class->close_stdin = engine_exec_stream_close_stdin;
  stream_class->read_output = engine_exec_stream_read_output;
  stream_class->wait = engine_exec_stream_wait;
  stream_class->release = engine_exec_stream_release;
}

static void
engine_exec_stream_init (GTypeInstance *instance,
                         gpointer       g_class)
{
  LlmsbxEngineExecStream *self = (LlmsbxEngineExecStream *) instance;

  g_queue_init (&self->chunks);
}

/* Under a name of the plugin's own, as the backend class is. */
static GType
engine_exec_stream_get_type (void)
{
  static gsize type_id = 0;

  if (g_once_init_enter (&type_id))
    {
      g_autofree char *name = g_strconcat (llmsbx_engine_backend_type_name, "ExecStream", NULL);
      GType type = g_type_register_static_simple (LLMSBX_TYPE_EXEC_STREAM, g_intern_string (name),
                                                  sizeof (LlmsbxEngineExecStreamClass),
                                                  engine_exec_stream_class_init,
                                                  sizeof (LlmsbxEngineExecStream),
                                                  engine_exec_stream_init, 0);
      g_once_init_leave (&type_id, type);
    }
  return type_id;
}

LlmsbxExecStream *
llmsbx_engine_backend_open_exec_stream (LlmsbxBackend      *backend,
                                        const char         *sandbox_id,
                                        LlmsbxExecRequest  *request,
                                        GCancellable       *cancellable,
                                        GError            **error)
{
  LlmsbxEngineBackend *engine = LLMSBX_ENGINE_BACKEND (backend);
  g_autoptr(LlmsbxEngineClient) client = llmsbx_engine_backend_get_client (engine, cancellable, error);
  g_autoptr(GError) local_error = NULL;
  g_autoptr(GBytes) start_body = NULL;
  g_autofree char *path = NULL;
  g_autofree char *exec_id = NULL;
  LlmsbxEngineConnection *connection;
  LlmsbxEngineExecStream *self;
  LlmsbxEngineRequest start;

  if (client == NULL)
    return NULL;
  exec_id = llmsbx_engine_exec_create (engine, client, sandbox_id, request, TRUE, cancellable, error);
  if (exec_id == NULL)
    return NULL;

  llmsbx_engine_exec_start_request (exec_id, request->deadline, &start, &path, &start_body);
  connection = llmsbx_engine_client_open_upgraded (client, &start, cancellable, &local_error);
  if (connection == NULL)
    {
      llmsbx_engine_exec_start_failed (engine, client, sandbox_id, g_steal_pointer (&local_error),
                                       cancellable, error);
      return NULL;
    }

  self = g_object_new (engine_exec_stream_get_type (), NULL);
  self->backend = g_object_ref (engine);
  self->client = g_steal_pointer (&client);
  self->connection = connection;
  self->mux = llmsbx_engine_mux_new (LLMSBX_ENGINE_MUX_MULTIPLEXED, on_output, self);
  self->sandbox_id = g_strdup (sandbox_id);
  self->exec_id = g_steal_pointer (&exec_id);
  self->deadline = request->deadline;
  return LLMSBX_EXEC_STREAM (self);
}
