/* llmsbx-mcp-stdio.c: MCP over standard input and output, one message a line.
 *
 * The client that started the server is its one peer. Lines are read in
 * chunks into a buffer bounded by the largest message the server takes: a
 * longer line is dropped as it arrives and answered with an error, so no
 * input can make the server hold more. Replies are written one after the
 * other, in the order they are ready, which is not the order of the requests.
 * The end of the input ends the session (MCP's stdio shutdown): calls in
 * progress are cancelled and unanswered, replies already made are written,
 * and the run finishes. */
#include <string.h>

#include "llmsbx-jsonrpc.h"
#include "llmsbx-mcp-stdio.h"

#define READ_SIZE (64 * 1024)

struct _LlmsbxMcpStdio
{
  GObject parent_instance;

  LlmsbxMcpServer *server;
  LlmsbxMcpPeer   *peer;
  GInputStream    *input;
  GOutputStream   *output;
  gsize            max_message_size;

  GByteArray      *line;
  gboolean         discarding;   /* in a line longer than a message may be */
  gboolean         input_done;

  GQueue           writes;       /* GBytes to write, in order */
  GBytes          *writing;

  GTask           *run;
  GCancellable    *cancellable;  /* the run's: cancels reads and writes */
};

G_DEFINE_FINAL_TYPE (LlmsbxMcpStdio, llmsbx_mcp_stdio, G_TYPE_OBJECT)

static void read_more (LlmsbxMcpStdio *self);

/* The run ends once, with @error (transfer full) or without. */
static void
finish (LlmsbxMcpStdio *self,
        GError         *error)
{
  g_autoptr(GTask) run = g_steal_pointer (&self->run);

  if (run == NULL)
    {
      g_clear_error (&error);
      return;
    }
  g_cancellable_cancel (self->cancellable);
  llmsbx_mcp_peer_close (self->peer);
  if (error != NULL)
    g_task_return_error (run, error);
  else
    g_task_return_boolean (run, TRUE);
}

/* Writing ---------------------------------------------------------------- */

static void write_next (LlmsbxMcpStdio *self);

static void
on_written (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(LlmsbxMcpStdio) self = user_data;
  GError *error = NULL;

  g_clear_pointer (&self->writing, g_bytes_unref);
  if (!g_output_stream_write_all_finish (G_OUTPUT_STREAM (source), result, NULL, &error))
    {
      /* The client closed its end: nobody is left to answer. */
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_BROKEN_PIPE) ||
          g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_clear_error (&error);
      else
        g_prefix_error (&error, "Could not write to standard output: ");
      finish (self, error);
      return;
    }
  write_next (self);
}

static void
write_next (LlmsbxMcpStdio *self)
{
  gsize length;
  const void *data;

  if (self->writing != NULL || self->run == NULL)
    return;
  if (self->writes.length == 0)
    {
      if (self->input_done)
        finish (self, NULL);
      return;
    }
  self->writing = g_queue_pop_head (&self->writes);
  data = g_bytes_get_data (self->writing, &length);
  g_output_stream_write_all_async (self->output, data, length, G_PRIORITY_DEFAULT, self->cancellable,
                                   on_written, g_object_ref (self));
}

static void
send_message (LlmsbxMcpStdio *self,
              JsonNode       *message)
{
  gsize length;
  char *text;

  if (self->run == NULL)
    return;
  text = llmsbx_jsonrpc_to_string (message, &length);
  text = g_realloc (text, length + 1);
  text[length] = '\n';
  g_queue_push_tail (&self->writes, g_bytes_new_take (text, length + 1));
  write_next (self);
}

static void
send_error (LlmsbxMcpStdio *self,
            const GError   *error)
{
  g_autoptr(JsonNode) reply = llmsbx_jsonrpc_error_new (NULL, error, NULL);

  send_message (self, reply);
}

/* Reading ---------------------------------------------------------------- */

static void
on_handled (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(LlmsbxMcpStdio) self = user_data;
  g_autoptr(JsonNode) reply = llmsbx_mcp_peer_handle_finish (LLMSBX_MCP_PEER (source), result);

  if (reply != NULL)
    send_message (self, reply);
}

static gboolean
is_blank (const guint8 *data,
          gsize         length)
{
  for (gsize i = 0; i < length; i++)
    if (!g_ascii_isspace (data[i]))
      return FALSE;
  return TRUE;
}

static void
handle_line (LlmsbxMcpStdio *self)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) message = NULL;
  gsize length = self->line->len;

  if (length > 0 && self->line->data[length - 1] == '\r')
    length--;
  if (is_blank (self->line->data, length))
    return;

  message = llmsbx_jsonrpc_parse ((const char *) self->line->data, length, self->max_message_size, &error);
  if (message == NULL)
    {
      send_error (self, error);
      return;
    }
  llmsbx_mcp_peer_handle_async (self->peer, message, on_handled, g_object_ref (self));
}

static void
take_input (LlmsbxMcpStdio *self,
            const guint8   *data,
            gsize           length)
{
  while (length > 0)
    {
      const guint8 *newline = memchr (data, '\n', length);
      gsize part = newline ? (gsize) (newline - data) : length;

      if (!self->discarding)
        {
          if (self->line->len + part > self->max_message_size)
            {
              self->discarding = TRUE;
              g_byte_array_set_size (self->line, 0);
            }
          else
            g_byte_array_append (self->line, data, part);
        }

      if (newline == NULL)
        return;

      if (self->discarding)
        {
          g_autoptr(GError) error = g_error_new (LLMSBX_JSONRPC_ERROR, LLMSBX_JSONRPC_ERROR_INVALID_REQUEST,
                                                 "A message was longer than the %" G_GSIZE_FORMAT
                                                 " bytes this server takes", self->max_message_size);
          send_error (self, error);
          self->discarding = FALSE;
        }
      else
        handle_line (self);
      g_byte_array_set_size (self->line, 0);

      data += part + 1;
      length -= part + 1;
    }
}

static void
on_read (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(LlmsbxMcpStdio) self = user_data;
  g_autoptr(GBytes) bytes = NULL;
  GError *error = NULL;
  gsize length;
  const guint8 *data;

  bytes = g_input_stream_read_bytes_finish (G_INPUT_STREAM (source), result, &error);
  if (bytes == NULL)
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_clear_error (&error);
      else
        g_prefix_error (&error, "Could not read standard input: ");
      finish (self, error);
      return;
    }

  data = g_bytes_get_data (bytes, &length);
  if (length == 0)
    {
      /* Shutdown: what runs is cancelled; what is answered still goes out. */
      self->input_done = TRUE;
      llmsbx_mcp_peer_close (self->peer);
      write_next (self);
      return;
    }

  take_input (self, data, length);
  read_more (self);
}

static void
read_more (LlmsbxMcpStdio *self)
{
  if (self->run == NULL)
    return;
  g_input_stream_read_bytes_async (self->input, READ_SIZE, G_PRIORITY_DEFAULT, self->cancellable,
                                   on_read, g_object_ref (self));
}

/* API -------------------------------------------------------------------- */

/**
 * llmsbx_mcp_stdio_new:
 * @server: the server
 * @input: where messages come from
 * @output: where replies go; nothing else may write to it
 * @max_message_size: the longest line taken, in bytes
 *
 * Returns: (transfer full): the transport
 */
LlmsbxMcpStdio *
llmsbx_mcp_stdio_new (LlmsbxMcpServer *server,
                      GInputStream    *input,
                      GOutputStream   *output,
                      gsize            max_message_size)
{
  LlmsbxMcpStdio *self = g_object_new (LLMSBX_TYPE_MCP_STDIO, NULL);

  self->server = g_object_ref (server);
  self->peer = llmsbx_mcp_peer_new (server, "mcp:stdio");
  self->input = g_object_ref (input);
  self->output = g_object_ref (output);
  self->max_message_size = max_message_size;
  return self;
}

static void
on_run_cancelled (GCancellable *cancellable,
                  gpointer      user_data)
{
  g_cancellable_cancel (user_data);
}

/**
 * llmsbx_mcp_stdio_run_async:
 * @self: a #LlmsbxMcpStdio
 * @cancellable: (nullable): ends the session, as the end of the input does
 * @callback: called when the session ended
 * @user_data: data for @callback
 *
 * Serves the client until its input ends, it stops reading, or @cancellable
 * is cancelled. Its sessions are closed then; their sandboxes are removed by
 * the table, whose shutdown waits for them.
 */
void
llmsbx_mcp_stdio_run_async (LlmsbxMcpStdio      *self,
                            GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  g_return_if_fail (LLMSBX_IS_MCP_STDIO (self));
  g_return_if_fail (self->run == NULL);

  self->run = g_task_new (self, NULL, callback, user_data);
  g_task_set_source_tag (self->run, llmsbx_mcp_stdio_run_async);
  if (cancellable != NULL)
    g_cancellable_connect (cancellable, G_CALLBACK (on_run_cancelled),
                           g_object_ref (self->cancellable), g_object_unref);
  read_more (self);
}

/**
 * llmsbx_mcp_stdio_run_finish:
 * @self: a #LlmsbxMcpStdio
 * @result: the #GAsyncResult
 * @error: return location for a #GError
 *
 * Returns: %TRUE when the session ended normally (input ended, client gone,
 *   cancelled), %FALSE when reading or writing failed otherwise
 */
gboolean
llmsbx_mcp_stdio_run_finish (LlmsbxMcpStdio  *self,
                             GAsyncResult    *result,
                             GError         **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
llmsbx_mcp_stdio_finalize (GObject *object)
{
  LlmsbxMcpStdio *self = LLMSBX_MCP_STDIO (object);

  g_assert (self->run == NULL);
  g_queue_clear_full (&self->writes, (GDestroyNotify) g_bytes_unref);
  g_clear_pointer (&self->writing, g_bytes_unref);
  g_byte_array_unref (self->line);
  g_object_unref (self->cancellable);
  g_clear_object (&self->peer);
  g_clear_object (&self->server);
  g_clear_object (&self->input);
  g_clear_object (&self->output);
  G_OBJECT_CLASS (llmsbx_mcp_stdio_parent_class)->finalize (object);
}

static void
llmsbx_mcp_stdio_class_init (LlmsbxMcpStdioClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = llmsbx_mcp_stdio_finalize;
}

static void
llmsbx_mcp_stdio_init (LlmsbxMcpStdio *self)
{
  self->line = g_byte_array_new ();
  g_queue_init (&self->writes);
  self->cancellable = g_cancellable_new ();
}
