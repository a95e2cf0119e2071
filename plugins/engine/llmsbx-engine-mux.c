/* llmsbx-engine-mux.c: parser of the Engine API's exec output stream.
 *
 * Without a TTY, Docker and Podman send an exec's output as frames:
 * an 8-byte header `[stream, 0, 0, 0, size as uint32 big-endian]` followed by
 * `size` bytes of payload. Frames arrive split and merged at any byte, so the
 * parser is a byte-driven state machine that carries a partial header or
 * payload across calls and hands payload on as it arrives: memory use does not
 * depend on frame sizes. */
#include "llmsbx-engine-mux.h"

#include <string.h>

#define HEADER_SIZE 8

/* Stream numbers in frame headers. Stream 3 carries an error from the daemon
 * itself (newer engines), not output of the process. */
enum {
  STREAM_STDIN = 0,
  STREAM_STDOUT = 1,
  STREAM_STDERR = 2,
  STREAM_SYSTEM_ERROR = 3,
};

/* Bound on the daemon error text kept from a stream-3 frame. */
#define SYSTEM_ERROR_MAX 4096

struct _LlmsbxEngineMux
{
  LlmsbxEngineMuxMode mode;
  LlmsbxOutputFunc    func;
  gpointer            user_data;

  guint8   header[HEADER_SIZE];
  guint    header_fill;      /* bytes of the current header received; HEADER_SIZE inside a payload */
  guint8   stream;
  guint32  remaining;        /* payload bytes of the current frame still to come */
  GString *system_error;
  GError  *error;            /* the first protocol error; parsing stops there */
};

/**
 * llmsbx_engine_mux_new:
 * @mode: how the stream is framed
 * @func: (scope notified): receives every piece of output
 * @user_data: data for @func
 *
 * Returns: (transfer full): a new parser
 */
LlmsbxEngineMux *
llmsbx_engine_mux_new (LlmsbxEngineMuxMode mode,
                       LlmsbxOutputFunc    func,
                       gpointer            user_data)
{
  LlmsbxEngineMux *self = g_new0 (LlmsbxEngineMux, 1);

  g_return_val_if_fail (func != NULL, NULL);

  self->mode = mode;
  self->func = func;
  self->user_data = user_data;
  return self;
}

void
llmsbx_engine_mux_free (LlmsbxEngineMux *self)
{
  if (self == NULL)
    return;
  if (self->system_error != NULL)
    g_string_free (self->system_error, TRUE);
  g_clear_error (&self->error);
  g_free (self);
}

static gboolean
fail (LlmsbxEngineMux  *self,
      GError          **error,
      GError           *new_error)
{
  if (self->error == NULL)
    self->error = new_error;
  else
    g_error_free (new_error);
  g_propagate_error (error, g_error_copy (self->error));
  return FALSE;
}

static gboolean
parse_header (LlmsbxEngineMux  *self,
              GError          **error)
{
  const guint8 *h = self->header;

  if (h[0] > STREAM_SYSTEM_ERROR || h[1] != 0 || h[2] != 0 || h[3] != 0)
    return fail (self, error,
                 g_error_new (LLMSBX_ERROR, LLMSBX_ERROR_PROTOCOL,
                              "The engine sent a malformed output stream "
                              "(frame header %02x %02x %02x %02x)",
                              h[0], h[1], h[2], h[3]));

  self->stream = h[0];
  self->remaining = ((guint32) h[4] << 24) | ((guint32) h[5] << 16) |
                    ((guint32) h[6] << 8) | (guint32) h[7];
  return TRUE;
}

static void
deliver (LlmsbxEngineMux *self,
         const guint8    *data,
         gsize            length)
{
  switch (self->stream)
    {
    case STREAM_STDIN:   /* the engine's own demultiplexer treats it as stdout */
    case STREAM_STDOUT:
      self->func (LLMSBX_OUTPUT_STREAM_STDOUT, data, length, self->user_data);
      break;
    case STREAM_STDERR:
      self->func (LLMSBX_OUTPUT_STREAM_STDERR, data, length, self->user_data);
      break;
    case STREAM_SYSTEM_ERROR:
      if (self->system_error == NULL)
        self->system_error = g_string_new (NULL);
      if (self->system_error->len < SYSTEM_ERROR_MAX)
        g_string_append_len (self->system_error, (const char *) data,
                             MIN (length, SYSTEM_ERROR_MAX - self->system_error->len));
      break;
    default:
      g_assert_not_reached ();
    }
}

static gboolean
end_frame (LlmsbxEngineMux  *self,
           GError          **error)
{
  g_autofree char *text = NULL;

  self->header_fill = 0;
  if (self->stream != STREAM_SYSTEM_ERROR)
    return TRUE;

  text = self->system_error ? g_utf8_make_valid (self->system_error->str, self->system_error->len)
                            : g_strdup ("");
  return fail (self, error,
               g_error_new (LLMSBX_ERROR, LLMSBX_ERROR_CONTAINER_FAILED,
                            "The engine reported an error in the output stream: %s",
                            g_strstrip (text)));
}

/**
 * llmsbx_engine_mux_feed:
 * @self: a parser
 * @data: (array length=length): the next bytes of the stream
 * @length: number of bytes in @data
 * @error: return location for a #GError
 *
 * Parses @data and passes its output to the parser's function. After the first
 * error every call fails with the same error.
 *
 * Returns: %FALSE with %LLMSBX_ERROR_PROTOCOL on a malformed frame header, or with
 *   %LLMSBX_ERROR_CONTAINER_FAILED when the engine reported an error in the stream
 */
gboolean
llmsbx_engine_mux_feed (LlmsbxEngineMux  *self,
                        const guint8     *data,
                        gsize             length,
                        GError          **error)
{
  if (self->error != NULL)
    {
      g_propagate_error (error, g_error_copy (self->error));
      return FALSE;
    }

  if (self->mode == LLMSBX_ENGINE_MUX_RAW)
    {
      if (length > 0)
        self->func (LLMSBX_OUTPUT_STREAM_STDOUT, data, length, self->user_data);
      return TRUE;
    }

  while (length > 0)
    {
      gsize n;

      if (self->header_fill < HEADER_SIZE)
        {
          n = MIN (HEADER_SIZE - self->header_fill, length);
          memcpy (self->header + self->header_fill, data, n);
          self->header_fill += n;
          data += n;
          length -= n;

          if (self->header_fill < HEADER_SIZE)
            break;
          if (!parse_header (self, error))
            return FALSE;
          if (self->remaining == 0 && !end_frame (self, error))
            return FALSE;
          continue;
        }

      n = MIN ((gsize) self->remaining, length);
      deliver (self, data, n);
      self->remaining -= n;
      data += n;
      length -= n;

      if (self->remaining == 0 && !end_frame (self, error))
        return FALSE;
    }

  return TRUE;
}

/**
 * llmsbx_engine_mux_finish:
 * @self: a parser
 * @error: return location for a #GError
 *
 * Tells the parser that the stream ended.
 *
 * Returns: %FALSE with %LLMSBX_ERROR_PROTOCOL when the stream ended inside a frame,
 *   or with the error an earlier call reported
 */
gboolean
llmsbx_engine_mux_finish (LlmsbxEngineMux  *self,
                          GError          **error)
{
  if (self->error != NULL)
    {
      g_propagate_error (error, g_error_copy (self->error));
      return FALSE;
    }

  if (self->mode == LLMSBX_ENGINE_MUX_RAW || self->header_fill == 0)
    return TRUE;

  if (self->header_fill < HEADER_SIZE)
    return fail (self, error,
                 g_error_new (LLMSBX_ERROR, LLMSBX_ERROR_PROTOCOL,
                              "The engine's output stream ended inside a frame header"));
  return fail (self, error,
               g_error_new (LLMSBX_ERROR, LLMSBX_ERROR_PROTOCOL,
                            "The engine's output stream ended %u bytes before the end of a frame",
                            self->remaining));
}
