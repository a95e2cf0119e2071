/* llmsbx-resident-runner.c: the host side of the runner protocol, a client
 * of llmsbx-runner over any stream to its stdin and stdout.
 *
 * Decisions:
 * - Everything the runner sends is untrusted input from the sandbox: frame
 *   sizes are bounded per type (OUTPUT by LLMSBX_RUNNER_CHUNK_MAX, the rest by
 *   REPLY_MAX), ids must match the request, unknown fields are errors (except
 *   in HELLO, whose later versions may add some). Any breach makes the runner
 *   unusable: we cannot know what else it would do.
 * - Every wait has a deadline, kept with a private main context and the
 *   stream's pollable sources, so a runner that stops answering (SIGSTOP, a
 *   sandbox frozen by its cgroup) is reported instead of hanging a thread.
 * - A cancelled run is not abandoned mid-stream: CANCEL goes to the runner,
 *   which kills the run and answers; only then does the call return, so the
 *   stream stays in step for the next run. A runner that does not answer in
 *   CANCEL_SECONDS is reported dead.
 * - The runner's output goes to the caller's LlmsbxOutputCollector as it
 *   arrives (live output), frame by frame, so memory stays bounded. */
#include "config.h"

#include <string.h>

#include "llmsbx-resident-runner-private.h"
#include "llmsbx-runner-protocol.h"

/* Largest frame other than OUTPUT the host accepts from a runner. */
#define REPLY_MAX (64 * 1024)
/* Read buffer: one OUTPUT frame and its header fit, with room to spare. */
#define BUFFER_SIZE (2 * (LLMSBX_RUNNER_CHUNK_MAX + LLMSBX_RUNNER_HEADER_SIZE))
/* How long a cancelled run may take to be killed and answered. */
#define CANCEL_SECONDS 10
/* How much of what a non-runner said is quoted. */
#define QUOTE_MAX 200

G_DEFINE_QUARK (llmsbx-runner-error-quark, llmsbx_runner_error)

/**
 * llmsbx_resident_runner_error_is_fatal:
 * @error: an error from a call of this client
 *
 * Returns: %TRUE when @error means the runner cannot be used any more (the
 *   session restarts it or falls back to exec), %FALSE when only the request
 *   failed, or for errors of other domains (cancellation).
 */
gboolean
llmsbx_resident_runner_error_is_fatal (const GError *error)
{
  return error != NULL && error->domain == LLMSBX_RUNNER_ERROR && error->code <= LLMSBX_RUNNER_ERROR_BROKEN;
}

/* Requests and results ------------------------------------------------- */

static void
runner_file_free (gpointer data)
{
  LlmsbxRunnerFile *file = data;

  g_free (file->path);
  g_bytes_unref (file->contents);
  g_free (file);
}

/**
 * llmsbx_runner_request_new:
 * @argv: (array zero-terminated=1): the program and its arguments
 *
 * Returns: (transfer full): a request with defaults: the runner's
 *   environment and directory, no stdin, no timeout, the collector's limit
 */
LlmsbxRunnerRequest *
llmsbx_runner_request_new (const char * const *argv)
{
  LlmsbxRunnerRequest *request = g_new0 (LlmsbxRunnerRequest, 1);

  request->argv = g_strdupv ((char **) argv);
  request->files = g_ptr_array_new_with_free_func (runner_file_free);
  request->drain_ms = -1;
  request->grace_ms = -1;
  return request;
}

void
llmsbx_runner_request_free (LlmsbxRunnerRequest *request)
{
  if (request == NULL)
    return;
  g_strfreev (request->argv);
  g_strfreev (request->env);
  g_free (request->workdir);
  g_free (request->adapter);
  g_ptr_array_unref (request->files);
  g_clear_pointer (&request->stdin_data, g_bytes_unref);
  g_free (request);
}

/* Adds a file the runner writes (creating its directories) before the run. */
void
llmsbx_runner_request_add_file (LlmsbxRunnerRequest *request,
                                const char          *path,
                                GBytes              *contents,
                                guint                mode)
{
  LlmsbxRunnerFile *file = g_new0 (LlmsbxRunnerFile, 1);

  file->path = g_strdup (path);
  file->contents = g_bytes_ref (contents);
  file->mode = mode;
  g_ptr_array_add (request->files, file);
}

void
llmsbx_runner_result_clear (LlmsbxRunnerResult *result)
{
  g_clear_pointer (&result->failure_message, g_free);
  memset (result, 0, sizeof *result);
}

/* The object ------------------------------------------------------------ */

struct _LlmsbxResidentRunner
{
  GObject parent_instance;

  GMutex lock;               /* one call at a time */
  GIOStream *stream;
  GPollableInputStream *input;
  GOutputStream *output;
  GMainContext *context;     /* where waits happen */

  guint8 *buffer;            /* read ahead: bytes [start, end) are unread */
  gsize start, end;

  LlmsbxRunnerExitFunc exit_func;
  gpointer exit_data;
  GDestroyNotify exit_notify;

  gboolean started;
  GError *broken;            /* the fatal error, once there was one */
  guint32 next_id;
  guint version;
  char *runner_version;
  guint64 features;
  guint64 pid;
};

G_DEFINE_FINAL_TYPE (LlmsbxResidentRunner, llmsbx_resident_runner, G_TYPE_OBJECT)

static void
llmsbx_resident_runner_finalize (GObject *object)
{
  LlmsbxResidentRunner *self = LLMSBX_RESIDENT_RUNNER (object);

  if (self->exit_notify != NULL)
    self->exit_notify (self->exit_data);
  g_clear_object (&self->stream);
  g_main_context_unref (self->context);
  g_free (self->buffer);
  g_clear_error (&self->broken);
  g_free (self->runner_version);
  g_mutex_clear (&self->lock);

  G_OBJECT_CLASS (llmsbx_resident_runner_parent_class)->finalize (object);
}

static void
llmsbx_resident_runner_class_init (LlmsbxResidentRunnerClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = llmsbx_resident_runner_finalize;
}

static void
llmsbx_resident_runner_init (LlmsbxResidentRunner *self)
{
  g_mutex_init (&self->lock);
  self->context = g_main_context_new ();
  self->buffer = g_malloc (BUFFER_SIZE);
  self->next_id = 1;
}

/**
 * llmsbx_resident_runner_new:
 * @stream: the runner's stdout (input, pollable) and stdin (output)
 * @exit_func: (nullable): tells the runner process's exit code once the stream ended
 * @user_data: for @exit_func
 * @notify: (nullable): frees @user_data
 *
 * Returns: (transfer full): a client; call llmsbx_resident_runner_start() first
 */
LlmsbxResidentRunner *
llmsbx_resident_runner_new (GIOStream            *stream,
                            LlmsbxRunnerExitFunc  exit_func,
                            gpointer              user_data,
                            GDestroyNotify        notify)
{
  LlmsbxResidentRunner *self = g_object_new (LLMSBX_TYPE_RESIDENT_RUNNER, NULL);
  GInputStream *input = g_io_stream_get_input_stream (stream);

  self->stream = g_object_ref (stream);
  self->output = g_io_stream_get_output_stream (stream);
  if (G_IS_POLLABLE_INPUT_STREAM (input) && g_pollable_input_stream_can_poll (G_POLLABLE_INPUT_STREAM (input)))
    self->input = G_POLLABLE_INPUT_STREAM (input);
  self->exit_func = exit_func;
  self->exit_data = user_data;
  self->exit_notify = notify;
  return self;
}

/* Failing --------------------------------------------------------------- */

/* Records @error as the reason the runner cannot be used, and passes it on. */
static gboolean
fail_fatal (LlmsbxResidentRunner  *self,
            GError                *error,
            GError               **out)
{
  if (self->broken == NULL)
    self->broken = g_error_copy (error);
  g_propagate_error (out, error);
  return FALSE;
}

static gboolean
fail (LlmsbxResidentRunner  *self,
      GError               **error,
      LlmsbxRunnerError      code,
      const char            *format,
      ...) G_GNUC_PRINTF (4, 5);

static gboolean
fail (LlmsbxResidentRunner  *self,
      GError               **error,
      LlmsbxRunnerError      code,
      const char            *format,
      ...)
{
  va_list args;
  GError *local;

  va_start (args, format);
  local = g_error_new_valist (LLMSBX_RUNNER_ERROR, code, format, args);
  va_end (args);
  return fail_fatal (self, local, error);
}

static gboolean
check_usable (LlmsbxResidentRunner  *self,
              GError               **error)
{
  if (self->broken != NULL)
    {
      g_set_error (error, LLMSBX_RUNNER_ERROR, LLMSBX_RUNNER_ERROR_BROKEN,
                   "The runner is no longer usable: %s", self->broken->message);
      return FALSE;
    }
  if (self->input == NULL)
    return fail (self, error, LLMSBX_RUNNER_ERROR_PROTOCOL,
                 "The runner's stream cannot be polled, so its deadlines cannot be kept");
  return TRUE;
}

/* " (exit status 3)" or " (killed by signal 9)", from the exit function. */
static char *
describe_exit (LlmsbxResidentRunner *self)
{
  int code;

  if (self->exit_func == NULL || !self->exit_func (self->exit_data, &code))
    return g_strdup ("");
  if (code > 128 && code < 128 + 65)
    return g_strdup_printf (" (killed by signal %d)", code - 128);
  return g_strdup_printf (" (exit status %d)", code);
}

/* Waiting --------------------------------------------------------------- */

typedef struct {
  gboolean ready, timed_out, cancelled;
} WaitState;

static gboolean
on_ready (GObject  *pollable,
          gpointer  data)
{
  ((WaitState *) data)->ready = TRUE;
  return G_SOURCE_REMOVE;
}

static gboolean
on_timeout (gpointer data)
{
  ((WaitState *) data)->timed_out = TRUE;
  return G_SOURCE_REMOVE;
}

static gboolean
on_cancelled (GCancellable *cancellable,
              gpointer      data)
{
  ((WaitState *) data)->cancelled = TRUE;
  return G_SOURCE_REMOVE;
}

/* Waits until the stream can be read (or written, with @writing), @deadline
 * (monotonic µs, 0 for none) passes, or @cancellable fires. */
static gboolean
wait_stream (LlmsbxResidentRunner  *self,
             gboolean               writing,
             gint64                 deadline,
             GCancellable          *cancellable,
             GError               **error)
{
  WaitState state = { FALSE, FALSE, FALSE };
  g_autoptr(GSource) io = NULL;
  g_autoptr(GSource) timer = NULL;
  g_autoptr(GSource) cancel = NULL;

  if (writing)
    io = g_pollable_output_stream_create_source (G_POLLABLE_OUTPUT_STREAM (self->output), NULL);
  else
    io = g_pollable_input_stream_create_source (self->input, NULL);
  g_source_set_callback (io, G_SOURCE_FUNC (on_ready), &state, NULL);
  g_source_attach (io, self->context);
  if (deadline > 0)
    {
      gint64 left = deadline - g_get_monotonic_time ();

      timer = g_timeout_source_new ((guint) CLAMP ((left + 999) / 1000, 0, G_MAXUINT));
      g_source_set_callback (timer, on_timeout, &state, NULL);
      g_source_attach (timer, self->context);
    }
  if (cancellable != NULL)
    {
      cancel = g_cancellable_source_new (cancellable);
      g_source_set_callback (cancel, G_SOURCE_FUNC (on_cancelled), &state, NULL);
      g_source_attach (cancel, self->context);
    }

  while (!state.ready && !state.timed_out && !state.cancelled)
    g_main_context_iteration (self->context, TRUE);

  g_source_destroy (io);
  if (timer != NULL)
    g_source_destroy (timer);
  if (cancel != NULL)
    g_source_destroy (cancel);

  if (state.ready)
    return TRUE;
  if (state.cancelled)
    return !g_cancellable_set_error_if_cancelled (cancellable, error);
  g_set_error_literal (error, LLMSBX_RUNNER_ERROR, LLMSBX_RUNNER_ERROR_NO_ANSWER,
                       "The runner did not answer before the deadline");
  return FALSE;
}

/* Reading and writing --------------------------------------------------- */

/* Ensures at least @need unread bytes are buffered. End of stream is
 * LLMSBX_RUNNER_ERROR_DIED. */
static gboolean
fill (LlmsbxResidentRunner  *self,
      gsize                  need,
      gint64                 deadline,
      GCancellable          *cancellable,
      GError               **error)
{
  g_assert (need <= BUFFER_SIZE);

  while (self->end - self->start < need)
    {
      g_autoptr(GError) local = NULL;
      gssize n;

      if (self->start > 0 && (self->start == self->end || BUFFER_SIZE - self->start < need))
        {
          memmove (self->buffer, self->buffer + self->start, self->end - self->start);
          self->end -= self->start;
          self->start = 0;
        }
      n = g_pollable_input_stream_read_nonblocking (self->input, self->buffer + self->end,
                                                    BUFFER_SIZE - self->end, NULL, &local);
      if (n > 0)
        {
          self->end += (gsize) n;
          continue;
        }
      if (n == 0)
        {
          g_autofree char *how = describe_exit (self);

          g_set_error (error, LLMSBX_RUNNER_ERROR, LLMSBX_RUNNER_ERROR_DIED,
                       "The runner exited%s%s", how,
                       self->end > self->start ? " in the middle of a frame" : "");
          return FALSE;
        }
      if (!g_error_matches (local, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
        {
          g_set_error (error, LLMSBX_RUNNER_ERROR, LLMSBX_RUNNER_ERROR_DIED,
                       "Reading from the runner failed: %s", local->message);
          return FALSE;
        }
      if (!wait_stream (self, FALSE, deadline, cancellable, error))
        return FALSE;
    }
  return TRUE;
}

static gboolean
write_all (LlmsbxResidentRunner  *self,
           const guint8          *data,
           gsize                  length,
           gint64                 deadline,
           GCancellable          *cancellable,
           GError               **error)
{
  gboolean pollable = G_IS_POLLABLE_OUTPUT_STREAM (self->output) &&
                      g_pollable_output_stream_can_poll (G_POLLABLE_OUTPUT_STREAM (self->output));

  while (length > 0)
    {
      g_autoptr(GError) local = NULL;
      gssize n;

      if (pollable)
        n = g_pollable_output_stream_write_nonblocking (G_POLLABLE_OUTPUT_STREAM (self->output), data, length,
                                                        NULL, &local);
      else
        n = g_output_stream_write (self->output, data, length, NULL, &local);
      if (n > 0)
        {
          data += n;
          length -= (gsize) n;
          continue;
        }
      if (n < 0 && pollable && g_error_matches (local, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
        {
          if (!wait_stream (self, TRUE, deadline, cancellable, error))
            return FALSE;
          continue;
        }
      {
        g_autofree char *how = describe_exit (self);

        g_set_error (error, LLMSBX_RUNNER_ERROR, LLMSBX_RUNNER_ERROR_DIED, "Writing to the runner failed%s: %s",
                     how, local ? local->message : "nothing was written");
      }
      return FALSE;
    }
  return TRUE;
}

typedef struct {
  guint8 type, stream;
  guint32 id;
  const guint8 *payload;   /* in the read buffer, valid until the next read */
  gsize length;
} Frame;

/* Reads the next frame. Errors are fatal (a transport failure, a malformed
 * frame) or cancellation. */
static gboolean
read_frame (LlmsbxResidentRunner  *self,
            Frame                 *frame,
            gint64                 deadline,
            GCancellable          *cancellable,
            GError               **error)
{
  const guint8 *head;
  gsize max;

  if (!fill (self, LLMSBX_RUNNER_HEADER_SIZE, deadline, cancellable, error))
    return FALSE;
  head = self->buffer + self->start;
  if (llmsbx_runner_get_u32 (head) != LLMSBX_RUNNER_MAGIC)
    {
      g_set_error (error, LLMSBX_RUNNER_ERROR, LLMSBX_RUNNER_ERROR_PROTOCOL,
                   "The runner sent a frame without the protocol's magic (%02x %02x %02x %02x)",
                   head[0], head[1], head[2], head[3]);
      return FALSE;
    }
  frame->type = head[4];
  frame->stream = head[5];
  frame->id = llmsbx_runner_get_u32 (head + 8);
  frame->length = llmsbx_runner_get_u32 (head + 12);
  max = frame->type == LLMSBX_RUNNER_FRAME_OUTPUT ? LLMSBX_RUNNER_CHUNK_MAX : REPLY_MAX;
  if (llmsbx_runner_get_u16 (head + 6) != 0 || frame->length > max)
    {
      g_set_error (error, LLMSBX_RUNNER_ERROR, LLMSBX_RUNNER_ERROR_PROTOCOL,
                   "The runner sent a malformed frame (type 0x%02x, %" G_GSIZE_FORMAT " bytes, limit %" G_GSIZE_FORMAT ")",
                   frame->type, frame->length, max);
      return FALSE;
    }
  if (!fill (self, LLMSBX_RUNNER_HEADER_SIZE + frame->length, deadline, cancellable, error))
    return FALSE;
  frame->payload = self->buffer + self->start + LLMSBX_RUNNER_HEADER_SIZE;
  self->start += LLMSBX_RUNNER_HEADER_SIZE + frame->length;
  return TRUE;
}

static void
add_field (GByteArray   *out,
           guint16       tag,
           const void   *data,
           gsize         length)
{
  guint8 head[LLMSBX_RUNNER_FIELD_HEADER_SIZE];

  llmsbx_runner_put_u16 (head, tag);
  llmsbx_runner_put_u32 (head + 2, (guint32) length);
  g_byte_array_append (out, head, sizeof head);
  if (length > 0)
    g_byte_array_append (out, data, (guint) length);
}

static void
add_string (GByteArray *out,
            guint16     tag,
            const char *s)
{
  add_field (out, tag, s, strlen (s));
}

static void
add_int (GByteArray *out,
         guint16     tag,
         guint64     value)
{
  guint8 v[8];

  llmsbx_runner_put_u64 (v, value);
  add_field (out, tag, v, sizeof v);
}

/* A frame with room for its header, for add_*() to fill. */
static GByteArray *
frame_new (void)
{
  GByteArray *out = g_byte_array_sized_new (256);

  g_byte_array_set_size (out, LLMSBX_RUNNER_HEADER_SIZE);
  return out;
}

static gboolean
send_frame (LlmsbxResidentRunner  *self,
            GByteArray            *frame,
            guint8                 type,
            guint32                id,
            gint64                 deadline,
            GCancellable          *cancellable,
            GError               **error)
{
  guint8 *head = frame->data;

  llmsbx_runner_put_u32 (head, LLMSBX_RUNNER_MAGIC);
  head[4] = type;
  head[5] = 0;
  llmsbx_runner_put_u16 (head + 6, 0);
  llmsbx_runner_put_u32 (head + 8, id);
  llmsbx_runner_put_u32 (head + 12, frame->len - LLMSBX_RUNNER_HEADER_SIZE);
  return write_all (self, frame->data, frame->len, deadline, cancellable, error);
}

typedef struct {
  const guint8 *p, *end;
} Fields;

/* The next field: 1, 0 at the end, -1 when malformed. */
static int
next_field (Fields        *it,
            guint16       *tag,
            const guint8 **value,
            gsize         *length)
{
  if (it->p == it->end)
    return 0;
  if ((gsize) (it->end - it->p) < LLMSBX_RUNNER_FIELD_HEADER_SIZE)
    return -1;
  *tag = llmsbx_runner_get_u16 (it->p);
  *length = llmsbx_runner_get_u32 (it->p + 2);
  it->p += LLMSBX_RUNNER_FIELD_HEADER_SIZE;
  if ((gsize) (it->end - it->p) < *length)
    return -1;
  *value = it->p;
  it->p += *length;
  return 1;
}

static gboolean
get_int (const guint8 *value,
         gsize         length,
         guint64      *out)
{
  if (length != 8)
    return FALSE;
  *out = llmsbx_runner_get_u64 (value);
  return TRUE;
}

/* Text from the sandbox, made safe to show. */
static char *
quote (const guint8 *data,
       gsize         length)
{
  g_autofree char *valid = g_utf8_make_valid ((const char *) data, MIN (length, QUOTE_MAX));

  for (char *p = valid; *p; p++)
    if ((guchar) *p < 0x20)
      *p = ' ';
  return g_strstrip (g_steal_pointer (&valid));
}

/* The runner's ERROR frame, or an unexpected frame, as a fatal error. */
static gboolean
fail_unexpected (LlmsbxResidentRunner  *self,
                 const Frame           *frame,
                 const char            *waiting_for,
                 GError               **error)
{
  if (frame->type == LLMSBX_RUNNER_FRAME_ERROR)
    {
      Fields it = { frame->payload, frame->payload + frame->length };
      const guint8 *value;
      gsize length;
      guint16 tag;

      while (next_field (&it, &tag, &value, &length) == 1)
        if (tag == LLMSBX_RUNNER_FIELD_MESSAGE)
          {
            g_autofree char *said = quote (value, length);

            return fail (self, error, LLMSBX_RUNNER_ERROR_PROTOCOL, "The runner reported a protocol error: %s", said);
          }
      return fail (self, error, LLMSBX_RUNNER_ERROR_PROTOCOL, "The runner reported a protocol error");
    }
  return fail (self, error, LLMSBX_RUNNER_ERROR_PROTOCOL,
               "The runner sent frame type 0x%02x (request %u) while %s was expected",
               frame->type, frame->id, waiting_for);
}

/* Start ----------------------------------------------------------------- */

/* Not a runner: quote what came instead (Docker's "executable file not
 * found", a shell's "not found"), reading up to QUOTE_MAX bytes for a moment. */
static gboolean
fail_not_a_runner (LlmsbxResidentRunner  *self,
                   GError               **error)
{
  gint64 until = g_get_monotonic_time () + G_USEC_PER_SEC / 2;
  g_autofree char *said = NULL;
  g_autofree char *how = NULL;

  while (self->end - self->start < QUOTE_MAX)
    {
      g_autoptr(GError) ignored = NULL;

      if (!fill (self, self->end - self->start + 1, until, NULL, &ignored))
        break;
    }
  said = quote (self->buffer + self->start, self->end - self->start);
  how = describe_exit (self);
  return fail (self, error, LLMSBX_RUNNER_ERROR_NOT_A_RUNNER,
               "The sandbox did not start llmsbx-runner%s; it said: %s", how, said);
}

/**
 * llmsbx_resident_runner_start:
 * @deadline: monotonic time (µs) by which the runner must have answered, 0 for none
 *
 * Reads the runner's HELLO, checks that it speaks this library's protocol
 * version, and answers with it.
 */
gboolean
llmsbx_resident_runner_start (LlmsbxResidentRunner  *self,
                              gint64                 deadline,
                              GCancellable          *cancellable,
                              GError               **error)
{
  G_GNUC_UNUSED g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&self->lock);
  g_autoptr(GByteArray) hello = NULL;
  g_autoptr(GError) local = NULL;
  guint64 vmin = 0, vmax = 0;
  gboolean have_min = FALSE, have_max = FALSE;
  Frame frame;
  Fields it;
  const guint8 *value;
  gsize length;
  guint16 tag;
  int got;

  g_return_val_if_fail (!self->started, FALSE);
  if (!check_usable (self, error))
    return FALSE;

  if (!fill (self, 4, deadline, cancellable, &local))
    {
      if (g_error_matches (local, LLMSBX_RUNNER_ERROR, LLMSBX_RUNNER_ERROR_DIED) && self->end > self->start)
        return fail_not_a_runner (self, error);
      if (g_error_matches (local, LLMSBX_RUNNER_ERROR, LLMSBX_RUNNER_ERROR_DIED))
        {
          g_autofree char *how = describe_exit (self);

          return fail (self, error, LLMSBX_RUNNER_ERROR_DIED, "The runner exited before it said HELLO%s", how);
        }
      return local->domain == LLMSBX_RUNNER_ERROR ? fail_fatal (self, g_steal_pointer (&local), error)
                                                  : (g_propagate_error (error, g_steal_pointer (&local)), FALSE);
    }
  if (llmsbx_runner_get_u32 (self->buffer + self->start) != LLMSBX_RUNNER_MAGIC)
    return fail_not_a_runner (self, error);

  if (!read_frame (self, &frame, deadline, cancellable, &local))
    return local->domain == LLMSBX_RUNNER_ERROR ? fail_fatal (self, g_steal_pointer (&local), error)
                                                : (g_propagate_error (error, g_steal_pointer (&local)), FALSE);
  if (frame.type != LLMSBX_RUNNER_FRAME_HELLO)
    return fail_unexpected (self, &frame, "HELLO", error);

  /* Later versions may add fields to HELLO: unknown ones are skipped, so
   * that a version mismatch is still reported as one. */
  it = (Fields) { frame.payload, frame.payload + frame.length };
  while ((got = next_field (&it, &tag, &value, &length)) == 1)
    {
      guint64 n = 0;

      switch (tag)
        {
        case LLMSBX_RUNNER_FIELD_VERSION_MIN:
          have_min = get_int (value, length, &vmin);
          break;
        case LLMSBX_RUNNER_FIELD_VERSION_MAX:
          have_max = get_int (value, length, &vmax);
          break;
        case LLMSBX_RUNNER_FIELD_RUNNER_VERSION:
          g_free (self->runner_version);
          self->runner_version = quote (value, length);
          break;
        case LLMSBX_RUNNER_FIELD_PID:
          if (get_int (value, length, &n))
            self->pid = n;
          break;
        case LLMSBX_RUNNER_FIELD_FEATURES:
          if (get_int (value, length, &n))
            self->features = n;
          break;
        default:
          break;
        }
    }
  if (got < 0 || !have_min || !have_max || vmin > vmax)
    return fail (self, error, LLMSBX_RUNNER_ERROR_PROTOCOL, "The runner's HELLO is malformed");
  if (LLMSBX_RUNNER_PROTOCOL_VERSION < vmin || LLMSBX_RUNNER_PROTOCOL_VERSION > vmax)
    {
      g_autofree char *range = vmin == vmax ? g_strdup_printf ("version %" G_GUINT64_FORMAT, vmin)
                                            : g_strdup_printf ("versions %" G_GUINT64_FORMAT " to %" G_GUINT64_FORMAT,
                                                               vmin, vmax);

      return fail (self, error, LLMSBX_RUNNER_ERROR_VERSION,
                   "The runner in the sandbox (llmsbx-runner %s) speaks protocol %s, this library version %d: "
                   "the image needs the runner of this release",
                   self->runner_version ? self->runner_version : "unknown", range, LLMSBX_RUNNER_PROTOCOL_VERSION);
    }
  self->version = LLMSBX_RUNNER_PROTOCOL_VERSION;

  hello = frame_new ();
  add_int (hello, LLMSBX_RUNNER_FIELD_VERSION, LLMSBX_RUNNER_PROTOCOL_VERSION);
  if (!send_frame (self, hello, LLMSBX_RUNNER_FRAME_HOST_HELLO, 0, deadline, cancellable, &local) ||
      !read_frame (self, &frame, deadline, cancellable, &local))
    return local->domain == LLMSBX_RUNNER_ERROR ? fail_fatal (self, g_steal_pointer (&local), error)
                                                : (g_propagate_error (error, g_steal_pointer (&local)), FALSE);
  if (frame.type != LLMSBX_RUNNER_FRAME_READY || frame.length != 0)
    return fail_unexpected (self, &frame, "READY", error);

  self->started = TRUE;
  return TRUE;
}

/* Requests -------------------------------------------------------------- */

/* Passes on an error of a wait or a transfer: ours are fatal, cancellation is not. */
static gboolean
fail_io (LlmsbxResidentRunner  *self,
         GError                *local,
         GError               **error)
{
  if (local->domain == LLMSBX_RUNNER_ERROR)
    return fail_fatal (self, local, error);
  g_propagate_error (error, local);
  return FALSE;
}

static gboolean
check_started (LlmsbxResidentRunner  *self,
               GError               **error)
{
  if (!check_usable (self, error))
    return FALSE;
  if (!self->started)
    {
      g_set_error_literal (error, LLMSBX_RUNNER_ERROR, LLMSBX_RUNNER_ERROR_BAD_REQUEST,
                           "The runner was not started");
      return FALSE;
    }
  return TRUE;
}

/* FAILURE, ERRNO and MESSAGE of an answer as a non-fatal error. */
static gboolean
failure_error (guint64      failure,
               guint64      err,
               const char  *message,
               GError     **error)
{
  static const LlmsbxRunnerError codes[] = {
    [LLMSBX_RUNNER_FAILURE_BAD_REQUEST] = LLMSBX_RUNNER_ERROR_BAD_REQUEST,
    [LLMSBX_RUNNER_FAILURE_FILE] = LLMSBX_RUNNER_ERROR_FILE,
    [LLMSBX_RUNNER_FAILURE_SPAWN] = LLMSBX_RUNNER_ERROR_SPAWN,
    [LLMSBX_RUNNER_FAILURE_ADAPTER] = LLMSBX_RUNNER_ERROR_ADAPTER,
  };

  if (failure == LLMSBX_RUNNER_FAILURE_NONE || failure == LLMSBX_RUNNER_FAILURE_EXEC ||
      failure >= G_N_ELEMENTS (codes))
    return TRUE;
  g_set_error (error, LLMSBX_RUNNER_ERROR, codes[failure], "%s (errno %" G_GUINT64_FORMAT ")",
               message ? message : "The runner could not serve the request", err);
  return FALSE;
}

/* Parses RESULT into @result; -1 when malformed. */
static int
parse_result (const Frame        *frame,
              LlmsbxRunnerResult *result,
              guint64            *failure,
              guint64            *err)
{
  Fields it = { frame->payload, frame->payload + frame->length };
  const guint8 *value;
  gsize length;
  guint16 tag;
  guint64 flags = 0, n;
  gboolean have_code = FALSE;
  int got;

  *failure = LLMSBX_RUNNER_FAILURE_NONE;
  *err = 0;
  while ((got = next_field (&it, &tag, &value, &length)) == 1)
    {
      if (tag == LLMSBX_RUNNER_FIELD_MESSAGE)
        {
          g_free (result->failure_message);
          result->failure_message = quote (value, length);
          continue;
        }
      if (!get_int (value, length, &n))
        return -1;
      switch (tag)
        {
        case LLMSBX_RUNNER_FIELD_EXIT_CODE:
          if (n > 255)
            return -1;
          result->exit_code = (int) n;
          have_code = TRUE;
          break;
        case LLMSBX_RUNNER_FIELD_SIGNAL:
          if (n > 64)
            return -1;
          result->signal = (int) n;
          break;
        case LLMSBX_RUNNER_FIELD_DURATION_US:
          result->duration = n / (double) G_USEC_PER_SEC;
          break;
        case LLMSBX_RUNNER_FIELD_FLAGS:
          flags = n;
          break;
        case LLMSBX_RUNNER_FIELD_FAILURE:
          *failure = n;
          break;
        case LLMSBX_RUNNER_FIELD_ERRNO:
          *err = n;
          break;
        case LLMSBX_RUNNER_FIELD_STDOUT_BYTES:
          result->stdout_bytes = n;
          break;
        case LLMSBX_RUNNER_FIELD_STDERR_BYTES:
          result->stderr_bytes = n;
          break;
        default:
          return -1;
        }
    }
  if (got < 0 || !have_code || *failure > LLMSBX_RUNNER_FAILURE_ADAPTER)
    return -1;
  result->stdout_truncated = (flags & LLMSBX_RUNNER_RESULT_STDOUT_TRUNCATED) != 0;
  result->stderr_truncated = (flags & LLMSBX_RUNNER_RESULT_STDERR_TRUNCATED) != 0;
  result->timed_out = (flags & LLMSBX_RUNNER_RESULT_TIMED_OUT) != 0;
  result->cancelled = (flags & LLMSBX_RUNNER_RESULT_CANCELLED) != 0;
  result->oom_killed = (flags & LLMSBX_RUNNER_RESULT_OOM_KILLED) != 0;
  result->kill_failed = (flags & LLMSBX_RUNNER_RESULT_KILL_FAILED) != 0;
  result->fresh_state = (flags & LLMSBX_RUNNER_RESULT_STATE_FRESH) != 0;
  if (flags & LLMSBX_RUNNER_RESULT_STATE_LOST)
    result->state = LLMSBX_RUNNER_STATE_LOST;
  else if (flags & LLMSBX_RUNNER_RESULT_STATE_KEPT)
    result->state = LLMSBX_RUNNER_STATE_KEPT;
  return 0;
}

static GByteArray *
encode_request (const LlmsbxRunnerRequest *request,
                guint64                    output_limit)
{
  GByteArray *out = frame_new ();

  for (guint i = 0; request->argv[i] != NULL; i++)
    add_string (out, LLMSBX_RUNNER_FIELD_ARGV, request->argv[i]);
  for (guint i = 0; request->env != NULL && request->env[i] != NULL; i++)
    add_string (out, LLMSBX_RUNNER_FIELD_ENV, request->env[i]);
  if (request->workdir != NULL)
    add_string (out, LLMSBX_RUNNER_FIELD_CWD, request->workdir);
  for (guint i = 0; request->files != NULL && i < request->files->len; i++)
    {
      LlmsbxRunnerFile *file = g_ptr_array_index (request->files, i);
      gsize size;
      gconstpointer data = g_bytes_get_data (file->contents, &size);

      add_string (out, LLMSBX_RUNNER_FIELD_FILE_PATH, file->path);
      add_field (out, LLMSBX_RUNNER_FIELD_FILE_DATA, data, size);
      add_int (out, LLMSBX_RUNNER_FIELD_FILE_MODE, file->mode);
    }
  if (request->stdin_data != NULL)
    {
      gsize size;
      gconstpointer data = g_bytes_get_data (request->stdin_data, &size);

      add_field (out, LLMSBX_RUNNER_FIELD_STDIN, data, size);
    }
  if (request->timeout > 0)
    add_int (out, LLMSBX_RUNNER_FIELD_TIMEOUT_MS, (guint64) MAX (1.0, request->timeout * 1000 + 0.5));
  if (output_limit > 0)
    add_int (out, LLMSBX_RUNNER_FIELD_OUTPUT_LIMIT, output_limit);
  if (request->adapter != NULL)
    add_string (out, LLMSBX_RUNNER_FIELD_ADAPTER, request->adapter);
  if (request->stateful)
    add_int (out, LLMSBX_RUNNER_FIELD_STATEFUL, 1);
  if (request->drain_ms >= 0)
    add_int (out, LLMSBX_RUNNER_FIELD_DRAIN_MS, (guint64) request->drain_ms);
  if (request->grace_ms >= 0)
    add_int (out, LLMSBX_RUNNER_FIELD_GRACE_MS, (guint64) request->grace_ms);
  return out;
}

static gboolean
validate_request (const LlmsbxRunnerRequest  *request,
                  GError                    **error)
{
  if (request->argv == NULL || request->argv[0] == NULL)
    {
      g_set_error_literal (error, LLMSBX_RUNNER_ERROR, LLMSBX_RUNNER_ERROR_BAD_REQUEST, "Nothing to run: argv is empty");
      return FALSE;
    }
  if (request->adapter != NULL && request->argv[1] == NULL)
    {
      g_set_error_literal (error, LLMSBX_RUNNER_ERROR, LLMSBX_RUNNER_ERROR_BAD_REQUEST,
                           "An adapter run needs argv = interpreter, code file, arguments…");
      return FALSE;
    }
  for (guint i = 0; request->env != NULL && request->env[i] != NULL; i++)
    if (request->env[i][0] == '=' || strchr (request->env[i], '=') == NULL)
      {
        g_set_error (error, LLMSBX_RUNNER_ERROR, LLMSBX_RUNNER_ERROR_BAD_REQUEST,
                     "Environment entry '%s' is not NAME=VALUE", request->env[i]);
        return FALSE;
      }
  return TRUE;
}

/**
 * llmsbx_resident_runner_run:
 * @request: what to run
 * @output: where output goes as it arrives (its live function sees it at once)
 * @deadline: monotonic µs by which the RESULT must be there; -1: the
 *   request's timeout plus LLMSBX_RESIDENT_RUNNER_MARGIN_SECONDS (none
 *   without a timeout); 0: none
 * @result: (out caller-allocates): how the run ended: zero-initialised, or
 *   holding an earlier result, which is cleared first; clear it with
 *   llmsbx_runner_result_clear()
 *
 * Runs @request and waits for its end. A program that could not be executed
 * is a result (exit code 127 or 126, @result->failure_message); a request the
 * runner could not serve at all is a non-fatal LLMSBX_RUNNER_ERROR. When
 * @cancellable fires, the runner kills the run, and the call fails with
 * G_IO_ERROR_CANCELLED once it confirmed.
 */
gboolean
llmsbx_resident_runner_run (LlmsbxResidentRunner      *self,
                            const LlmsbxRunnerRequest *request,
                            LlmsbxOutputCollector     *output,
                            gint64                     deadline,
                            LlmsbxRunnerResult        *result,
                            GCancellable              *cancellable,
                            GError                   **error)
{
  G_GNUC_UNUSED g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&self->lock);
  g_autoptr(GByteArray) frame_bytes = NULL;
  g_autoptr(GError) local = NULL;
  gboolean cancelled = FALSE;
  guint64 limit;
  guint32 id;

  llmsbx_runner_result_clear (result);
  if (!check_started (self, error) || !validate_request (request, error))
    return FALSE;
  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return FALSE;

  limit = request->output_limit > 0 ? request->output_limit : llmsbx_output_collector_get_limit (output);
  frame_bytes = encode_request (request, limit);
  if (frame_bytes->len - LLMSBX_RUNNER_HEADER_SIZE > LLMSBX_RUNNER_FRAME_MAX)
    {
      g_set_error (error, LLMSBX_RUNNER_ERROR, LLMSBX_RUNNER_ERROR_BAD_REQUEST,
                   "The request (code, files and stdin) is %u bytes, more than the runner's limit of %u",
                   frame_bytes->len - LLMSBX_RUNNER_HEADER_SIZE, LLMSBX_RUNNER_FRAME_MAX);
      return FALSE;
    }
  if (deadline < 0)
    deadline = request->timeout > 0
               ? g_get_monotonic_time () + (gint64) ((request->timeout + LLMSBX_RESIDENT_RUNNER_MARGIN_SECONDS) * G_USEC_PER_SEC)
               : 0;

  id = self->next_id++;
  if (!send_frame (self, frame_bytes, LLMSBX_RUNNER_FRAME_RUN, id, deadline, NULL, &local))
    return fail_io (self, g_steal_pointer (&local), error);

  for (;;)
    {
      Frame frame;
      guint64 failure, err;

      if (!read_frame (self, &frame, deadline, cancelled ? NULL : cancellable, &local))
        {
          if (!cancelled && g_error_matches (local, G_IO_ERROR, G_IO_ERROR_CANCELLED))
            {
              /* Let the runner kill the run and confirm, so the stream stays in step. */
              g_autoptr(GByteArray) cancel = frame_new ();
              gint64 by = g_get_monotonic_time () + CANCEL_SECONDS * G_USEC_PER_SEC;

              g_clear_error (&local);
              cancelled = TRUE;
              deadline = deadline > 0 ? MIN (deadline, by) : by;
              if (!send_frame (self, cancel, LLMSBX_RUNNER_FRAME_CANCEL, id, deadline, NULL, &local))
                return fail_io (self, g_steal_pointer (&local), error);
              continue;
            }
          if (g_error_matches (local, LLMSBX_RUNNER_ERROR, LLMSBX_RUNNER_ERROR_NO_ANSWER))
            {
              g_clear_error (&local);
              if (cancelled)
                return fail (self, error, LLMSBX_RUNNER_ERROR_NO_ANSWER,
                             "The runner did not confirm a cancelled run in %d seconds", CANCEL_SECONDS);
              return fail (self, error, LLMSBX_RUNNER_ERROR_NO_ANSWER,
                           "The runner did not finish the run before its deadline");
            }
          return fail_io (self, g_steal_pointer (&local), error);
        }

      if (frame.id != id)
        return fail (self, error, LLMSBX_RUNNER_ERROR_PROTOCOL,
                     "The runner answered request %u during request %u", frame.id, id);
      if (frame.type == LLMSBX_RUNNER_FRAME_OUTPUT)
        {
          if (frame.stream != LLMSBX_OUTPUT_STREAM_STDOUT && frame.stream != LLMSBX_OUTPUT_STREAM_STDERR)
            return fail (self, error, LLMSBX_RUNNER_ERROR_PROTOCOL, "The runner sent output of stream %u", frame.stream);
          if (frame.length > 0)
            llmsbx_output_collector_append (output, frame.stream, frame.payload, frame.length);
          continue;
        }
      if (frame.type != LLMSBX_RUNNER_FRAME_RESULT)
        return fail_unexpected (self, &frame, "OUTPUT or RESULT", error);
      if (parse_result (&frame, result, &failure, &err) < 0)
        {
          llmsbx_runner_result_clear (result);
          return fail (self, error, LLMSBX_RUNNER_ERROR_PROTOCOL, "The runner sent a malformed RESULT");
        }
      if (cancelled)
        {
          g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CANCELLED, "The run was cancelled");
          return FALSE;
        }
      return failure_error (failure, err, result->failure_message, error);
    }
}

/* Sends a frame without fields and returns the answer's payload flags. */
static gboolean
simple_request (LlmsbxResidentRunner  *self,
                guint8                 type,
                GByteArray            *payload,
                guint8                 answer,
                guint64               *flags,
                gint64                 deadline,
                GCancellable          *cancellable,
                GError               **error)
{
  g_autoptr(GError) local = NULL;
  guint32 id = self->next_id++;
  guint64 failure = 0, err = 0;
  g_autofree char *message = NULL;
  Frame frame;
  Fields it;
  const guint8 *value;
  gsize length;
  guint16 tag;
  int got;

  if (!send_frame (self, payload, type, id, deadline, NULL, &local) ||
      !read_frame (self, &frame, deadline, cancellable, &local))
    {
      /* A reply we stopped waiting for would arrive later, out of step:
       * cancelling here costs the runner too. */
      if (g_error_matches (local, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          if (self->broken == NULL)
            self->broken = g_error_new_literal (LLMSBX_RUNNER_ERROR, LLMSBX_RUNNER_ERROR_BROKEN,
                                                "a request was cancelled before the runner answered");
        }
      return fail_io (self, g_steal_pointer (&local), error);
    }
  if (frame.type != answer || frame.id != id)
    return fail_unexpected (self, &frame, "the answer to a request", error);

  it = (Fields) { frame.payload, frame.payload + frame.length };
  while ((got = next_field (&it, &tag, &value, &length)) == 1)
    {
      guint64 n = 0;

      if (tag == LLMSBX_RUNNER_FIELD_MESSAGE)
        {
          g_free (message);
          message = quote (value, length);
        }
      else if (!get_int (value, length, &n))
        got = -1;
      else if (tag == LLMSBX_RUNNER_FIELD_FLAGS && flags != NULL)
        *flags = n;
      else if (tag == LLMSBX_RUNNER_FIELD_FAILURE)
        failure = n;
      else if (tag == LLMSBX_RUNNER_FIELD_ERRNO)
        err = n;
      else if (tag != LLMSBX_RUNNER_FIELD_FLAGS && tag != LLMSBX_RUNNER_FIELD_EXIT_CODE &&
               tag != LLMSBX_RUNNER_FIELD_SIGNAL)
        got = -1;
      if (got < 0)
        break;
    }
  if (got < 0 || failure > LLMSBX_RUNNER_FAILURE_ADAPTER)
    return fail (self, error, LLMSBX_RUNNER_ERROR_PROTOCOL, "The runner sent a malformed answer");
  return failure_error (failure, err, message, error);
}

/**
 * llmsbx_resident_runner_prepare:
 * @adapter: "python"
 * @argv: (array zero-terminated=1): the interpreter first
 * @env: (nullable) (array zero-terminated=1): NAME=VALUE added to the runner's environment
 * @workdir: (nullable): where the adapter starts
 *
 * Starts the adapter before the first run needs it, so that run is warm.
 */
gboolean
llmsbx_resident_runner_prepare (LlmsbxResidentRunner  *self,
                                const char            *adapter,
                                const char * const    *argv,
                                const char * const    *env,
                                const char            *workdir,
                                gint64                 deadline,
                                GCancellable          *cancellable,
                                GError               **error)
{
  G_GNUC_UNUSED g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&self->lock);
  g_autoptr(GByteArray) payload = NULL;

  if (!check_started (self, error))
    return FALSE;
  payload = frame_new ();
  for (guint i = 0; argv[i] != NULL; i++)
    add_string (payload, LLMSBX_RUNNER_FIELD_ARGV, argv[i]);
  for (guint i = 0; env != NULL && env[i] != NULL; i++)
    add_string (payload, LLMSBX_RUNNER_FIELD_ENV, env[i]);
  if (workdir != NULL)
    add_string (payload, LLMSBX_RUNNER_FIELD_CWD, workdir);
  add_string (payload, LLMSBX_RUNNER_FIELD_ADAPTER, adapter);
  return simple_request (self, LLMSBX_RUNNER_FRAME_PREPARE, payload, LLMSBX_RUNNER_FRAME_PREPARED, NULL,
                         deadline, cancellable, error);
}

/**
 * llmsbx_resident_runner_reset:
 * @adapter: "python"
 * @state_lost: (out) (optional): %TRUE when there was a state to drop
 *
 * Ends the adapter's interactive state and everything its cells started;
 * the next stateful run starts fresh.
 */
gboolean
llmsbx_resident_runner_reset (LlmsbxResidentRunner  *self,
                              const char            *adapter,
                              gboolean              *state_lost,
                              gint64                 deadline,
                              GCancellable          *cancellable,
                              GError               **error)
{
  G_GNUC_UNUSED g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&self->lock);
  g_autoptr(GByteArray) payload = NULL;
  guint64 flags = 0;

  if (state_lost != NULL)
    *state_lost = FALSE;
  if (!check_started (self, error))
    return FALSE;
  payload = frame_new ();
  add_string (payload, LLMSBX_RUNNER_FIELD_ADAPTER, adapter);
  if (!simple_request (self, LLMSBX_RUNNER_FRAME_RESET, payload, LLMSBX_RUNNER_FRAME_RESET_DONE, &flags,
                       deadline, cancellable, error))
    return FALSE;
  if (state_lost != NULL)
    *state_lost = (flags & LLMSBX_RUNNER_RESULT_STATE_LOST) != 0;
  return TRUE;
}

/**
 * llmsbx_resident_runner_ping:
 *
 * Checks that the runner answers (for a pool's health check).
 */
gboolean
llmsbx_resident_runner_ping (LlmsbxResidentRunner  *self,
                             gint64                 deadline,
                             GCancellable          *cancellable,
                             GError               **error)
{
  G_GNUC_UNUSED g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&self->lock);
  g_autoptr(GByteArray) payload = NULL;

  if (!check_started (self, error))
    return FALSE;
  payload = frame_new ();
  return simple_request (self, LLMSBX_RUNNER_FRAME_PING, payload, LLMSBX_RUNNER_FRAME_PONG, NULL,
                         deadline, cancellable, error);
}

/**
 * llmsbx_resident_runner_shutdown:
 * @deadline: how long to wait for the runner to end, 0 for not at all
 *
 * Asks the runner to kill everything it started and exit, waits for its end
 * of stream, and closes the stream. The client is unusable afterwards.
 */
void
llmsbx_resident_runner_shutdown (LlmsbxResidentRunner *self,
                                 gint64                deadline)
{
  G_GNUC_UNUSED g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&self->lock);

  if (self->broken == NULL && self->input != NULL && self->started)
    {
      g_autoptr(GByteArray) payload = frame_new ();
      g_autoptr(GError) local = NULL;

      if (send_frame (self, payload, LLMSBX_RUNNER_FRAME_SHUTDOWN, 0, deadline, NULL, &local) && deadline != 0)
        {
          /* Anything still coming is dropped; the end of stream is the answer. */
          self->start = self->end = 0;
          while (fill (self, 1, deadline, NULL, &local))
            self->start = self->end = 0;
        }
    }
  if (self->broken == NULL)
    self->broken = g_error_new_literal (LLMSBX_RUNNER_ERROR, LLMSBX_RUNNER_ERROR_BROKEN, "it was shut down");
  g_io_stream_close (self->stream, NULL, NULL);
}

gboolean
llmsbx_resident_runner_is_usable (LlmsbxResidentRunner *self)
{
  return self->broken == NULL && self->started;
}

const char *
llmsbx_resident_runner_get_runner_version (LlmsbxResidentRunner *self)
{
  return self->runner_version;
}

guint
llmsbx_resident_runner_get_protocol_version (LlmsbxResidentRunner *self)
{
  return self->version;
}

guint64
llmsbx_resident_runner_get_features (LlmsbxResidentRunner *self)
{
  return self->features;
}

guint64
llmsbx_resident_runner_get_pid (LlmsbxResidentRunner *self)
{
  return self->pid;
}
