/* llmsbx-runner-channel.c: an attached exec as the pollable GIOStream the
 * resident runner's client speaks over (see llmsbx-runner-channel-private.h).
 *
 * Two threads own the exec stream in turn, never at once: the reader blocks
 * in llmsbx_exec_stream_read() with a cancellable that the writer fires when
 * the client sent something, and goes back to reading once the write is
 * done. Exec streams keep what arrives during a write and lose nothing to a
 * cancelled read, so the output stays whole. The client's end is a
 * GSocketConnection, pollable both ways. */
#include "config.h"

#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

#include "llmsbx-runner-channel-private.h"

/* What is kept of the command's stderr, for messages. */
#define STDERR_TAIL_MAX 4096
#define WRITE_CHUNK (64 * 1024)

struct _LlmsbxRunnerChannel
{
  LlmsbxExecStream *stream;
  GIOStream        *io;       /* the client's end */
  int               fd;       /* the channel's end */

  GMutex            lock;     /* guards the fields below */
  GCond             cond;
  gboolean          want_write;
  gboolean          in_use;   /* the reader is in a call on the stream */
  gboolean          stopping;
  gboolean          closed;
  gboolean          have_status;
  int               exit_status;
  GError           *end_error;
  GString          *stderr_tail;
  GCancellable     *interrupt;  /* the reader's calls */
  GCancellable     *stop;       /* the writer's calls */

  GThread          *reader;
  GThread          *writer;
};

/* Takes the stream for the reader; FALSE when the channel stops. */
static gboolean
reader_acquire (LlmsbxRunnerChannel *self)
{
  gboolean ok;

  g_mutex_lock (&self->lock);
  while (self->want_write && !self->stopping)
    g_cond_wait (&self->cond, &self->lock);
  ok = !self->stopping;
  if (ok)
    self->in_use = TRUE;
  g_mutex_unlock (&self->lock);
  return ok;
}

static void
reader_release (LlmsbxRunnerChannel *self)
{
  g_mutex_lock (&self->lock);
  self->in_use = FALSE;
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
}

static gboolean
send_all (int           fd,
          const guint8 *data,
          gsize         length)
{
  while (length > 0)
    {
      gssize n = send (fd, data, length, MSG_NOSIGNAL);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return FALSE;
      data += n;
      length -= n;
    }
  return TRUE;
}

static void
keep_stderr (LlmsbxRunnerChannel *self,
             GBytes              *chunk)
{
  gsize length;
  const char *data = g_bytes_get_data (chunk, &length);

  g_mutex_lock (&self->lock);
  g_string_append_len (self->stderr_tail, data, length);
  if (self->stderr_tail->len > STDERR_TAIL_MAX)
    g_string_erase (self->stderr_tail, 0, self->stderr_tail->len - STDERR_TAIL_MAX);
  g_mutex_unlock (&self->lock);
}

static void
set_end (LlmsbxRunnerChannel *self,
         gboolean             have_status,
         int                  status,
         GError              *error)
{
  g_mutex_lock (&self->lock);
  self->have_status = have_status;
  self->exit_status = status;
  if (self->end_error == NULL)
    self->end_error = error;
  else
    g_clear_error (&error);
  g_mutex_unlock (&self->lock);
}

static gpointer
reader_thread (gpointer data)
{
  LlmsbxRunnerChannel *self = data;
  gboolean client_gone = FALSE;

  for (;;)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GBytes) chunk = NULL;
      LlmsbxOutputStream which = LLMSBX_OUTPUT_STREAM_STDOUT;
      gsize length;
      const guint8 *bytes;

      if (!reader_acquire (self))
        break;
      chunk = llmsbx_exec_stream_read (self->stream, &which, self->interrupt, &error);
      reader_release (self);

      if (error != NULL)
        {
          gboolean stopping;

          g_mutex_lock (&self->lock);
          stopping = self->stopping;
          g_mutex_unlock (&self->lock);
          if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) && !stopping)
            continue;  /* a write's turn */
          if (!stopping)
            set_end (self, FALSE, 0, g_steal_pointer (&error));
          break;
        }
      if (chunk == NULL)
        {
          int status = 0;

          /* The output ended: the command's status, from the engine. A
           * write waits for it (not interrupting it: there is no reading
           * to come back to). */
          if (reader_acquire (self))
            {
              gboolean ok = llmsbx_exec_stream_wait (self->stream, &status, self->stop, &error);

              reader_release (self);
              set_end (self, ok, status, g_steal_pointer (&error));
            }
          break;
        }
      bytes = g_bytes_get_data (chunk, &length);
      if (which == LLMSBX_OUTPUT_STREAM_STDERR)
        keep_stderr (self, chunk);
      else if (!client_gone && !send_all (self->fd, bytes, length))
        client_gone = TRUE;  /* keep reading: the command must not block on its output */
    }

  /* The client sees the end of the output. */
  shutdown (self->fd, SHUT_WR);
  return NULL;
}

static gpointer
writer_thread (gpointer data)
{
  LlmsbxRunnerChannel *self = data;
  g_autofree guint8 *buffer = g_malloc (WRITE_CHUNK);
  gboolean failed = FALSE;

  for (;;)
    {
      g_autoptr(GError) error = NULL;
      gssize n = read (self->fd, buffer, WRITE_CHUNK);
      gboolean ok;

      if (n < 0 && errno == EINTR)
        continue;
      if (failed && n > 0)
        continue;  /* the command's input is gone: drop what the client sends */

      /* The writer's turn: interrupt the reader and wait for it to let go. */
      g_mutex_lock (&self->lock);
      if (self->stopping)
        {
          g_mutex_unlock (&self->lock);
          break;
        }
      self->want_write = TRUE;
      g_cancellable_cancel (self->interrupt);
      while (self->in_use)
        g_cond_wait (&self->cond, &self->lock);
      g_mutex_unlock (&self->lock);

      if (n <= 0)
        ok = llmsbx_exec_stream_close_stdin (self->stream, self->stop, &error);
      else
        {
          g_autoptr(GBytes) bytes = g_bytes_new (buffer, n);

          ok = llmsbx_exec_stream_write_stdin (self->stream, bytes, self->stop, &error);
        }
      if (!ok)
        {
          g_debug ("The runner's standard input failed: %s", error->message);
          failed = TRUE;
        }

      g_mutex_lock (&self->lock);
      self->want_write = FALSE;
      if (!self->stopping)
        g_cancellable_reset (self->interrupt);
      g_cond_broadcast (&self->cond);
      g_mutex_unlock (&self->lock);

      if (n <= 0)
        break;
    }
  return NULL;
}

/* Takes over @stream, which nothing else may use any more. */
LlmsbxRunnerChannel *
llmsbx_runner_channel_new (LlmsbxExecStream  *stream,
                           GError           **error)
{
  g_autoptr(GSocket) socket = NULL;
  LlmsbxRunnerChannel *self;
  int fds[2];

  if (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) < 0)
    {
      int saved = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), "socketpair: %s", g_strerror (saved));
      return NULL;
    }
  socket = g_socket_new_from_fd (fds[0], error);
  if (socket == NULL)
    {
      close (fds[0]);
      close (fds[1]);
      return NULL;
    }

  self = g_atomic_rc_box_new0 (LlmsbxRunnerChannel);
  self->stream = g_object_ref (stream);
  self->io = G_IO_STREAM (g_socket_connection_factory_create_connection (socket));
  self->fd = fds[1];
  g_mutex_init (&self->lock);
  g_cond_init (&self->cond);
  self->stderr_tail = g_string_new (NULL);
  self->interrupt = g_cancellable_new ();
  self->stop = g_cancellable_new ();
  self->reader = g_thread_new ("llmsbx-runner-out", reader_thread, self);
  self->writer = g_thread_new ("llmsbx-runner-in", writer_thread, self);
  return self;
}

LlmsbxRunnerChannel *
llmsbx_runner_channel_ref (LlmsbxRunnerChannel *self)
{
  return g_atomic_rc_box_acquire (self);
}

static void
channel_clear (LlmsbxRunnerChannel *self)
{
  llmsbx_runner_channel_close (self, NULL);
  g_clear_object (&self->io);
  g_clear_object (&self->stream);
  if (self->fd >= 0)
    close (self->fd);
  g_clear_error (&self->end_error);
  g_string_free (self->stderr_tail, TRUE);
  g_clear_object (&self->interrupt);
  g_clear_object (&self->stop);
  g_mutex_clear (&self->lock);
  g_cond_clear (&self->cond);
}

void
llmsbx_runner_channel_unref (LlmsbxRunnerChannel *self)
{
  g_atomic_rc_box_release_full (self, (GDestroyNotify) channel_clear);
}

/* The client's end: input is the command's stdout, output its stdin. */
GIOStream *
llmsbx_runner_channel_get_io_stream (LlmsbxRunnerChannel *self)
{
  return self->io;
}

/* An LlmsbxRunnerExitFunc: the command's exit status once its output ended. */
gboolean
llmsbx_runner_channel_get_exit_code (gpointer  data,
                                     int      *exit_code)
{
  LlmsbxRunnerChannel *self = data;
  gboolean known;

  g_mutex_lock (&self->lock);
  known = self->have_status;
  *exit_code = self->exit_status;
  g_mutex_unlock (&self->lock);
  return known;
}

/* Why the exec stream ended other than by the command's exit (the sandbox
 * stopped, the engine went away), or NULL. */
GError *
llmsbx_runner_channel_dup_end_error (LlmsbxRunnerChannel *self)
{
  GError *copy;

  g_mutex_lock (&self->lock);
  copy = self->end_error ? g_error_copy (self->end_error) : NULL;
  g_mutex_unlock (&self->lock);
  return copy;
}

/* The last of what the command wrote on its stderr. */
char *
llmsbx_runner_channel_dup_stderr (LlmsbxRunnerChannel *self)
{
  char *copy;

  g_mutex_lock (&self->lock);
  copy = g_utf8_make_valid (self->stderr_tail->str, self->stderr_tail->len);
  g_mutex_unlock (&self->lock);
  return copy;
}

/* Stops both threads and closes the exec stream, which kills the command
 * (and everything that carries its token) when its output has not ended. */
gboolean
llmsbx_runner_channel_close (LlmsbxRunnerChannel  *self,
                             GError              **error)
{
  g_mutex_lock (&self->lock);
  if (self->closed)
    {
      g_mutex_unlock (&self->lock);
      return TRUE;
    }
  self->closed = TRUE;
  self->stopping = TRUE;
  g_cancellable_cancel (self->interrupt);
  g_cancellable_cancel (self->stop);
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);

  /* The writer blocks reading the client's end, the reader maybe writing to it. */
  shutdown (self->fd, SHUT_RDWR);
  g_io_stream_close (self->io, NULL, NULL);
  g_thread_join (g_steal_pointer (&self->reader));
  g_thread_join (g_steal_pointer (&self->writer));
  return llmsbx_exec_stream_close (self->stream, error);
}
