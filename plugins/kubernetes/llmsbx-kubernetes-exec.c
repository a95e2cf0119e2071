/* llmsbx-kubernetes-exec.c: exec over the Kubernetes WebSocket channels.
 *
 * Messages are [channel][payload]: 0 stdin, 1 stdout, 2 stderr, 3 the
 * final metav1.Status, 255 (v5 only) CLOSE of a stream. The first message
 * of the server is an empty one meaning "connected". protocols.md §4.3. */
#include "llmsbx-kubernetes-exec.h"

#include <string.h>

#define STDIN_CHUNK (32 * 1024)
#define CHANNEL_STDIN 0
#define CHANNEL_STDOUT 1
#define CHANNEL_STDERR 2
#define CHANNEL_STATUS 3
#define CHANNEL_CLOSE 255

struct _LlmsbxKubeExec
{
  GMainContext            *context;
  SoupWebsocketConnection *ws;
  gboolean                 v5;
  GQueue                   output;      /* of Chunk */
  GByteArray              *status;      /* channel 3, once it came */
  gboolean                 closed;
  gboolean                 news;        /* something came since the last look */
  GError                  *stream_error;
  char                    *what;        /* the command, for messages */
  /* The wrapper's "could not start" line on stderr, held back while stderr
   * may still begin with it. */
  GByteArray              *held;
  LlmsbxKubeExecSink       sink;
  gpointer                 sink_data;
  GError                  *sink_error;
  gboolean                 stderr_decided;
  char                    *not_started;
};

#define NOT_STARTED_MARK "\001llmsbx-not-started: "

typedef struct
{
  LlmsbxOutputStream  stream;
  GBytes             *bytes;
} Chunk;

static void
chunk_free (Chunk *chunk)
{
  g_bytes_unref (chunk->bytes);
  g_free (chunk);
}

void
llmsbx_kube_exec_free (LlmsbxKubeExec *self)
{
  if (self == NULL)
    return;
  if (self->ws != NULL)
    {
      g_main_context_push_thread_default (self->context);
      g_signal_handlers_disconnect_by_data (self->ws, self);
      if (soup_websocket_connection_get_state (self->ws) == SOUP_WEBSOCKET_STATE_OPEN)
        soup_websocket_connection_close (self->ws, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
      g_clear_object (&self->ws);
      /* Let the close frame go out without waiting for the answer. */
      while (g_main_context_iteration (self->context, FALSE))
        ;
      g_main_context_pop_thread_default (self->context);
    }
  g_queue_clear_full (&self->output, (GDestroyNotify) chunk_free);
  if (self->status != NULL)
    g_byte_array_unref (self->status);
  g_clear_error (&self->stream_error);
  g_clear_error (&self->sink_error);
  g_main_context_unref (self->context);
  g_free (self->what);
  g_clear_pointer (&self->held, g_byte_array_unref);
  g_free (self->not_started);
  g_free (self);
}

static void
push_output (LlmsbxKubeExec     *self,
             LlmsbxOutputStream  stream,
             GBytes             *bytes)
{
  Chunk *chunk;

  if (self->sink != NULL)
    {
      if (self->sink_error == NULL && !self->sink (stream, bytes, self->sink_data, &self->sink_error))
        self->news = TRUE;
      g_bytes_unref (bytes);
      return;
    }
  chunk = g_new0 (Chunk, 1);

  chunk->stream = stream;
  chunk->bytes = bytes;
  g_queue_push_tail (&self->output, chunk);
  self->news = TRUE;
}

/* Stderr passes once it cannot be the wrapper's line; at the end, what was
 * held is either that line or output. */
static void
filter_stderr (LlmsbxKubeExec *self,
               const guint8   *data,
               gsize           size,
               gboolean        end)
{
  gsize mark = strlen (NOT_STARTED_MARK);

  if (self->stderr_decided)
    {
      if (size > 0)
        push_output (self, LLMSBX_OUTPUT_STREAM_STDERR, g_bytes_new (data, size));
      return;
    }
  if (self->held == NULL)
    self->held = g_byte_array_new ();
  g_byte_array_append (self->held, data, size);
  if (memcmp (self->held->data, NOT_STARTED_MARK, MIN (mark, self->held->len)) != 0)
    {
      self->stderr_decided = TRUE;
      push_output (self, LLMSBX_OUTPUT_STREAM_STDERR,
                   g_byte_array_free_to_bytes (g_steal_pointer (&self->held)));
      return;
    }
  if (!end)
    return;
  self->stderr_decided = TRUE;
  if (self->held->len >= mark)
    {
      g_autofree char *text = g_strndup ((const char *) self->held->data + mark, self->held->len - mark);

      self->not_started = g_strstrip (g_utf8_make_valid (text, -1));
    }
  else if (self->held->len > 0)
    push_output (self, LLMSBX_OUTPUT_STREAM_STDERR, g_byte_array_free_to_bytes (g_steal_pointer (&self->held)));
}

static void
on_message (SoupWebsocketConnection *ws,
            int                      type,
            GBytes                  *message,
            gpointer                 user_data)
{
  LlmsbxKubeExec *self = user_data;
  gsize size;
  const guint8 *data = g_bytes_get_data (message, &size);

  if (size == 0)
    return;
  switch (data[0])
    {
    case CHANNEL_STDOUT:
      if (size > 1)
        push_output (self, LLMSBX_OUTPUT_STREAM_STDOUT, g_bytes_new_from_bytes (message, 1, size - 1));
      break;
    case CHANNEL_STDERR:
      if (size > 1)
        filter_stderr (self, data + 1, size - 1, FALSE);
      break;
    case CHANNEL_STATUS:
      filter_stderr (self, NULL, 0, TRUE);
      if (self->status == NULL)
        self->status = g_byte_array_new ();
      g_byte_array_append (self->status, data + 1, size - 1);
      self->news = TRUE;
      break;
    default:
      break;
    }
}

static void
on_error (SoupWebsocketConnection *ws,
          GError                  *error,
          gpointer                 user_data)
{
  LlmsbxKubeExec *self = user_data;

  if (self->stream_error == NULL)
    self->stream_error = g_error_copy (error);
  self->news = TRUE;
}

static void
on_closed (SoupWebsocketConnection *ws,
           gpointer                 user_data)
{
  LlmsbxKubeExec *self = user_data;

  filter_stderr (self, NULL, 0, TRUE);
  self->closed = TRUE;
  self->news = TRUE;
}

static gboolean
set_flag (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

static gboolean
cancelled_flag (GCancellable *cancellable,
                gpointer      data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

/* Runs the context until @done, the deadline or the cancellable. */
static gboolean
iterate_until (LlmsbxKubeExec  *self,
               gboolean        *done,
               gint64           deadline,
               GCancellable    *cancellable,
               GError         **error)
{
  gboolean expired = FALSE, cancelled = FALSE;
  GSource *timeout = NULL, *cancel = NULL;

  if (deadline > 0)
    {
      gint64 left = deadline - g_get_monotonic_time ();

      timeout = g_timeout_source_new (left > 0 ? (guint) MIN (left / 1000 + 1, G_MAXUINT) : 0);
      g_source_set_callback (timeout, set_flag, &expired, NULL);
      g_source_attach (timeout, self->context);
    }
  if (cancellable != NULL)
    {
      cancel = g_cancellable_source_new (cancellable);
      g_source_set_callback (cancel, G_SOURCE_FUNC (cancelled_flag), &cancelled, NULL);
      g_source_attach (cancel, self->context);
    }
  while (!*done && !expired && !cancelled)
    g_main_context_iteration (self->context, TRUE);
  if (timeout != NULL)
    {
      g_source_destroy (timeout);
      g_source_unref (timeout);
    }
  if (cancel != NULL)
    {
      g_source_destroy (cancel);
      g_source_unref (cancel);
    }
  if (*done)
    return TRUE;
  if (cancelled)
    g_cancellable_set_error_if_cancelled (cancellable, error);
  else
    g_set_error_literal (error, LLMSBX_ERROR, LLMSBX_ERROR_TIMEOUT, "The command did not finish before its deadline");
  return FALSE;
}

typedef struct
{
  gboolean                 done;
  SoupWebsocketConnection *ws;
  GError                  *error;
} ConnectResult;

static void
connected (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  ConnectResult *connect = user_data;

  connect->ws = soup_session_websocket_connect_finish (SOUP_SESSION (source), result, &connect->error);
  connect->done = TRUE;
}

static char *
exec_path (const char          *namespace_,
           const char          *pod,
           const char          *container,
           const char * const  *argv,
           gboolean             with_stdin)
{
  g_autofree char *ns = llmsbx_kube_escape (namespace_);
  g_autofree char *name = llmsbx_kube_escape (pod);
  GString *path = g_string_new (NULL);

  g_string_append_printf (path, "/api/v1/namespaces/%s/pods/%s/exec?stdout=true&stderr=true&stdin=%s",
                          ns, name, with_stdin ? "true" : "false");
  if (container != NULL)
    {
      g_autofree char *escaped = llmsbx_kube_escape (container);

      g_string_append_printf (path, "&container=%s", escaped);
    }
  /* One command= per argument, as kubectl sends them. */
  for (guint i = 0; argv[i] != NULL; i++)
    {
      g_autofree char *escaped = llmsbx_kube_escape (argv[i]);

      g_string_append_printf (path, "&command=%s", escaped);
    }
  return g_string_free (path, FALSE);
}

LlmsbxKubeExec *
llmsbx_kube_exec_open (LlmsbxKubeClient    *client,
                       const char          *namespace_,
                       const char          *pod,
                       const char          *container,
                       const char * const  *argv,
                       gboolean             with_stdin,
                       gint64               deadline,
                       GCancellable        *cancellable,
                       GError             **error)
{
  static const char *protocols[] = { "v5.channel.k8s.io", "v4.channel.k8s.io", NULL };
  g_autoptr(LlmsbxKubeExec) self = g_new0 (LlmsbxKubeExec, 1);
  g_autofree char *path = exec_path (namespace_, pod, container, argv, with_stdin);
  ConnectResult connect = { FALSE, NULL, NULL };
  gboolean refreshed = FALSE;

  self->context = g_main_context_new ();
  g_queue_init (&self->output);
  self->what = g_strdup (argv[0]);

  /* At most twice: once more after a 401 made the client refresh its
   * credentials (nothing ran yet: the API server checks them first). */
  for (;;)
    {
      g_autoptr(GError) local_error = NULL;
      g_autoptr(GError) refresh_error = NULL;
      g_autoptr(GCancellable) connect_cancellable = g_cancellable_new ();
      g_autoptr(SoupMessage) message = NULL;
      guint generation = 0;
      guint status;
      gboolean ok;

      message = llmsbx_kube_client_prepare (client, "GET", path, &generation,
                                            deadline, cancellable, error);
      if (message == NULL)
        return NULL;
      if (refreshed)
        soup_message_add_flags (message, SOUP_MESSAGE_NEW_CONNECTION);
      connect = (ConnectResult) { FALSE, NULL, NULL };
      g_main_context_push_thread_default (self->context);
      soup_session_websocket_connect_async (llmsbx_kube_client_get_session (client), message, NULL,
                                            (char **) protocols, G_PRIORITY_DEFAULT, connect_cancellable,
                                            connected, &connect);
      ok = iterate_until (self, &connect.done, deadline, cancellable, &local_error);
      if (!ok)
        {
          /* The pending connect must end before its result goes away. */
          g_cancellable_cancel (connect_cancellable);
          while (!connect.done)
            g_main_context_iteration (self->context, TRUE);
          g_clear_object (&connect.ws);
          g_clear_error (&connect.error);
        }
      g_main_context_pop_thread_default (self->context);
      if (!ok)
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return NULL;
        }
      if (connect.ws != NULL)
        break;

      status = soup_message_get_status (message);
      if (status == 401 && !refreshed &&
          llmsbx_kube_client_refresh_after_401 (client, generation, deadline, cancellable, &refresh_error))
        {
          refreshed = TRUE;
          g_clear_error (&connect.error);
          continue;
        }
      if (refresh_error != NULL)
        g_propagate_error (error, g_steal_pointer (&refresh_error));
      else if (status == 404)
        g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_CONTAINER_FAILED,
                     "Could not run %s: the pod %s was not found", argv[0], pod);
      else if (status >= 400)
        {
          g_autoptr(GError) status_error = NULL;

          if (status == 401)
            llmsbx_kube_client_set_unauthorized_error (client, &status_error, NULL, refreshed);
          else
            llmsbx_kube_client_set_status_error (&status_error, status, NULL);
          g_set_error (error, LLMSBX_ERROR,
                       status == 404 || status == 400 || status == 500 ? LLMSBX_ERROR_CONTAINER_FAILED
                       : LLMSBX_ERROR_BACKEND_UNAVAILABLE,
                       "The Kubernetes API refused to run %s in the pod %s: %s", argv[0], pod,
                       status_error->message);
        }
      else if (llmsbx_kube_client_certificate_refused (message))
        g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_BACKEND_UNAVAILABLE,
                     "Could not open an exec stream to the pod %s: the API server's certificate is not "
                     "trusted (the TLS session was resumed from another connection)", pod);
      else
        g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_BACKEND_UNAVAILABLE,
                     "Could not open an exec stream to the pod %s: %s", pod, connect.error->message);
      g_clear_error (&connect.error);
      return NULL;
    }

  self->ws = connect.ws;
  self->v5 = g_strcmp0 (soup_websocket_connection_get_protocol (self->ws), "v5.channel.k8s.io") == 0;
  soup_websocket_connection_set_max_incoming_payload_size (self->ws, 0);
  g_signal_connect (self->ws, "message", G_CALLBACK (on_message), self);
  g_signal_connect (self->ws, "error", G_CALLBACK (on_error), self);
  g_signal_connect (self->ws, "closed", G_CALLBACK (on_closed), self);
  return g_steal_pointer (&self);
}

void
llmsbx_kube_exec_set_sink (LlmsbxKubeExec     *self,
                           LlmsbxKubeExecSink  sink,
                           gpointer            user_data)
{
  self->sink = sink;
  self->sink_data = user_data;
}

gboolean
llmsbx_kube_exec_can_close_stdin (LlmsbxKubeExec *self)
{
  return self->v5;
}

static gboolean
check_open (LlmsbxKubeExec  *self,
            GError         **error)
{
  if (self->closed || soup_websocket_connection_get_state (self->ws) != SOUP_WEBSOCKET_STATE_OPEN)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_BROKEN_PIPE,
                   "The exec stream of %s is closed", self->what);
      return FALSE;
    }
  return TRUE;
}

gboolean
llmsbx_kube_exec_write (LlmsbxKubeExec  *self,
                        const guint8    *data,
                        gsize            length,
                        GError         **error)
{
  g_autofree guint8 *frame = g_malloc (STDIN_CHUNK + 1);

  if (!check_open (self, error))
    return FALSE;
  g_main_context_push_thread_default (self->context);
  frame[0] = CHANNEL_STDIN;
  for (gsize done = 0; done < length;)
    {
      gsize n = MIN (length - done, STDIN_CHUNK);

      /* The command may end, and the server close the stream, while the
       * frames before went out. */
      if (!check_open (self, error))
        {
          g_main_context_pop_thread_default (self->context);
          return FALSE;
        }
      memcpy (frame + 1, data + done, n);
      soup_websocket_connection_send_binary (self->ws, frame, n + 1);
      done += n;
      /* Write what is queued, and take what arrives meanwhile. */
      while (g_main_context_iteration (self->context, FALSE))
        ;
    }
  g_main_context_pop_thread_default (self->context);
  return TRUE;
}

gboolean
llmsbx_kube_exec_close_stdin (LlmsbxKubeExec  *self,
                              GError         **error)
{
  static const guint8 close_stdin[] = { CHANNEL_CLOSE, CHANNEL_STDIN };

  if (!self->v5)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                           "This Kubernetes API server speaks only v4.channel.k8s.io, which cannot end a "
                           "command's standard input (kubernetes#89899); v5 needs Kubernetes 1.30 or later");
      return FALSE;
    }
  if (!check_open (self, error))
    return FALSE;
  g_main_context_push_thread_default (self->context);
  soup_websocket_connection_send_binary (self->ws, close_stdin, sizeof close_stdin);
  while (g_main_context_iteration (self->context, FALSE))
    ;
  g_main_context_pop_thread_default (self->context);
  return TRUE;
}

static gboolean
has_news (LlmsbxKubeExec *self)
{
  return !g_queue_is_empty (&self->output) || self->status != NULL || self->closed;
}

GBytes *
llmsbx_kube_exec_read (LlmsbxKubeExec      *self,
                       LlmsbxOutputStream  *stream,
                       gint64               deadline,
                       GCancellable        *cancellable,
                       GError             **error)
{
  gboolean ok = TRUE;
  Chunk *chunk;
  GBytes *bytes;

  g_main_context_push_thread_default (self->context);
  while (ok && !has_news (self) && self->sink_error == NULL)
    {
      self->news = FALSE;
      ok = iterate_until (self, &self->news, deadline, cancellable, error);
    }
  g_main_context_pop_thread_default (self->context);
  if (!ok)
    return NULL;
  if (self->sink_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&self->sink_error));
      return NULL;
    }
  chunk = g_queue_pop_head (&self->output);
  if (chunk == NULL)
    return NULL;
  if (stream != NULL)
    *stream = chunk->stream;
  bytes = g_steal_pointer (&chunk->bytes);
  g_free (chunk);
  return bytes;
}

gboolean
llmsbx_kube_exec_finish (LlmsbxKubeExec  *self,
                         int             *exit_status,
                         GError         **error)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonObject *status, *details;
  const char *state, *reason, *message;

  if (self->status == NULL)
    {
      if (self->stream_error != NULL)
        g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_PROTOCOL,
                     "The exec stream of %s broke before its exit status came: %s", self->what,
                     self->stream_error->message);
      else
        g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_PROTOCOL,
                     "The exec stream of %s ended without its exit status (close code %u)", self->what,
                     soup_websocket_connection_get_close_code (self->ws));
      return FALSE;
    }
  if (!json_parser_load_from_data (parser, (const char *) self->status->data, self->status->len, NULL) ||
      !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    {
      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_PROTOCOL,
                   "The exit status of %s is not a Kubernetes Status", self->what);
      return FALSE;
    }
  status = json_node_get_object (json_parser_get_root (parser));
  state = json_object_get_string_member_with_default (status, "status", NULL);
  reason = json_object_get_string_member_with_default (status, "reason", NULL);
  message = json_object_get_string_member_with_default (status, "message", "");
  if (g_strcmp0 (state, "Success") == 0)
    {
      *exit_status = 0;
      return TRUE;
    }
  if (self->not_started != NULL)
    {
      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_COMMAND_NOT_STARTED,
                   "The Kubernetes API server could not start the command in the sandbox: %s", self->not_started);
      return FALSE;
    }
  if (g_strcmp0 (reason, "NonZeroExitCode") == 0 && json_object_has_member (status, "details") &&
      JSON_NODE_HOLDS_OBJECT (json_object_get_member (status, "details")))
    {
      JsonArray *causes;

      details = json_object_get_object_member (status, "details");
      causes = json_object_has_member (details, "causes") &&
               JSON_NODE_HOLDS_ARRAY (json_object_get_member (details, "causes"))
               ? json_object_get_array_member (details, "causes") : NULL;
      for (guint i = 0; causes != NULL && i < json_array_get_length (causes); i++)
        {
          JsonNode *node = json_array_get_element (causes, i);
          JsonObject *cause = JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
          guint64 code;

          if (cause != NULL &&
              g_strcmp0 (json_object_get_string_member_with_default (cause, "reason", NULL), "ExitCode") == 0 &&
              g_ascii_string_to_unsigned (json_object_get_string_member_with_default (cause, "message", ""),
                                          10, 0, 255, &code, NULL))
            {
              *exit_status = (int) code;
              return TRUE;
            }
        }
    }
  /* Any other failure: the runtime could not run the command. */
  g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_COMMAND_NOT_STARTED,
               "The Kubernetes API server could not start the command in the sandbox: %s", message);
  return FALSE;
}

/* The exec subresource has no environment, directory or stdin length of its
 * own: a shell sets them up, says when the directory or the program is
 * missing (as engines refuse such an exec), and bounds stdin by its length
 * so that the command sees its end even where v4 cannot send it. Without
 * stdin it forks nothing (the program is looked up in PATH by the shell
 * itself, not in a command substitution), so that it runs at a full pids
 * limit, where the kill of a fork bomb must. */
static const char wrapper_script[] =
  "d=$1; n=$2; s=$3; shift 3\n"
  "while [ \"$n\" -gt 0 ]; do export \"$1\"; shift; n=$((n-1)); done\n"
  "if [ -n \"$d\" ] && ! cd -- \"$d\" 2>/dev/null; then\n"
  "  printf '\\001llmsbx-not-started: the directory %s does not exist\\n' \"$d\" >&2; exit 127; fi\n"
  "case $1 in */*) p=$1;; *) p=; o=$IFS; IFS=:; set -f\n"
  "  for q in $PATH; do [ -n \"$q\" ] || q=.; if [ -f \"$q/$1\" ] && [ -x \"$q/$1\" ]; then p=$q/$1; break; fi; done\n"
  "  IFS=$o; set +f;; esac\n"
  "nf() { printf '\\001llmsbx-not-started: %s: no such file or directory\\n' \"$1\" >&2; exit 127; }\n"
  "[ -n \"$p\" ] || nf \"$1\"\n"
  "case $p in */*) [ -e \"$p\" ] || nf \"$1\"\n"
  "  if [ -d \"$p\" ] || ! [ -x \"$p\" ]; then\n"
  "    printf '\\001llmsbx-not-started: %s: permission denied\\n' \"$1\" >&2; exit 126; fi;; esac\n"
  "if [ \"$s\" -ge 0 ]; then head -c \"$s\" | exec \"$@\"; else exec \"$@\"; fi\n";

char **
llmsbx_kube_exec_wrap_argv (const LlmsbxExecRequest *request,
                            gssize                   stdin_length)
{
  GStrvBuilder *builder = g_strv_builder_new ();
  guint n_env = request->env ? g_strv_length (request->env) : 0;
  g_autofree char *count = g_strdup_printf ("%u", n_env);
  g_autofree char *length = g_strdup_printf ("%" G_GSSIZE_FORMAT, stdin_length);
  char **argv;

  g_strv_builder_add_many (builder, "sh", "-c", wrapper_script, "llmsbx-exec",
                           request->workdir ? request->workdir : "", count, length, NULL);
  if (request->env != NULL)
    g_strv_builder_addv (builder, (const char **) request->env);
  g_strv_builder_addv (builder, (const char **) request->argv);
  argv = g_strv_builder_end (builder);
  g_strv_builder_unref (builder);
  return argv;
}
