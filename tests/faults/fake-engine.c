/* fake-engine.c: an Engine API server in the test process that answers like
 * a healthy Docker daemon, or fails on purpose where a rule says so.
 *
 * Only what the backends send is understood: requests with a Content-Length
 * (curl sends no chunked bodies here), keep-alive, and Docker's way of
 * streaming an exec's output (a 200 whose body ends when the connection
 * closes). Every accepted connection gets a thread; all block in GSocket
 * calls that one GCancellable interrupts, so stopping is prompt. */
#include "fake-engine.h"

#include <archive.h>
#include <archive_entry.h>
#include <gio/gunixsocketaddress.h>
#include <glib/gstdio.h>
#include <string.h>

#define API_VERSION "1.41"
#define MAX_REQUEST_HEAD (64 * 1024)
/* The deep JSON answers: deep enough to overflow a recursive parser. */
#define DEEP_JSON_LEVELS 200000
#define DEEP_ERROR_LEVELS 60000
#define PROXY_ERROR_PAGE \
  "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n" \
  "<body><center><h1>502 Bad Gateway</h1></center></body>\r\n</html>\r\n"

typedef struct {
  FakeRule rule;
  char    *method;
  char    *path;
  guint    matched;
} Rule;

struct _FakeEngine
{
  char         *dir;
  char         *socket_path;
  char         *url;
  GSocket      *listener;
  GCancellable *cancellable;
  GThread      *accept_thread;

  GMutex        lock;            /* guards the members below */
  GPtrArray    *threads;         /* of GThread, one per connection */
  GPtrArray    *rules;           /* of Rule */
  GPtrArray    *requests;        /* "METHOD path" of every request */
  GBytes       *exec_output;
  guint         exec_count;
};

typedef struct {
  FakeEngine *engine;
  GSocket    *socket;
  GByteArray *pending;  /* received, not yet consumed */
} Connection;

typedef struct {
  char   *method;
  char   *path;    /* without the version prefix and the query */
  GBytes *body;
} Request;

typedef struct {
  guint       status;
  const char *reason;
  const char *content_type;
  GString    *headers;          /* extra header lines, each ending in \r\n */
  GBytes     *body;
  gboolean    close_delimited;  /* no Content-Length: the body ends at close */
} Answer;

static void
rule_free (gpointer data)
{
  Rule *rule = data;

  g_free (rule->method);
  g_free (rule->path);
  g_free (rule);
}

static void
request_free (Request *request)
{
  g_free (request->method);
  g_free (request->path);
  g_clear_pointer (&request->body, g_bytes_unref);
  g_free (request);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Request, request_free)

static void
answer_clear (Answer *answer)
{
  if (answer->headers != NULL)
    g_string_free (answer->headers, TRUE);
  g_clear_pointer (&answer->body, g_bytes_unref);
}

/* Sending ------------------------------------------------------------------ */

static gboolean
send_all (Connection *c,
          const void *data,
          gsize       length)
{
  const char *p = data;

  while (length > 0)
    {
      gssize n = g_socket_send (c->socket, p, length, c->engine->cancellable, NULL);

      if (n <= 0)
        return FALSE;
      p += n;
      length -= n;
    }
  return TRUE;
}

static gboolean
send_text (Connection *c,
           const char *text)
{
  return send_all (c, text, strlen (text));
}

/* Sleeps @ms unless the engine is stopping. */
static gboolean
pause_ms (FakeEngine *self,
          guint       ms)
{
  for (guint slept = 0; slept < ms; slept += 5)
    {
      if (g_cancellable_is_cancelled (self->cancellable))
        return FALSE;
      g_usleep (MIN (5, ms - slept) * 1000);
    }
  return !g_cancellable_is_cancelled (self->cancellable);
}

static GBytes *
serialize (const Answer *answer,
           gsize        *head_length)
{
  GString *out = g_string_new (NULL);
  gsize body_length = answer->body ? g_bytes_get_size (answer->body) : 0;

  g_string_append_printf (out, "HTTP/1.1 %u %s\r\n", answer->status, answer->reason);
  g_string_append (out, "Server: fake-engine\r\nApi-Version: " API_VERSION "\r\n");
  if (answer->content_type != NULL)
    g_string_append_printf (out, "Content-Type: %s\r\n", answer->content_type);
  if (answer->headers != NULL)
    g_string_append (out, answer->headers->str);
  if (!answer->close_delimited)
    g_string_append_printf (out, "Content-Length: %" G_GSIZE_FORMAT "\r\n", body_length);
  g_string_append (out, "\r\n");
  *head_length = out->len;
  if (body_length > 0)
    g_string_append_len (out, g_bytes_get_data (answer->body, NULL), body_length);
  return g_string_free_to_bytes (out);
}

/* Sends @answer; FALSE when the connection must close afterwards. */
static gboolean
send_answer (Connection   *c,
             const Answer *answer)
{
  gsize head_length;
  g_autoptr(GBytes) bytes = serialize (answer, &head_length);
  gsize length;
  const char *data = g_bytes_get_data (bytes, &length);

  return send_all (c, data, length) && !answer->close_delimited;
}

/* Requests ----------------------------------------------------------------- */

/* Reads until @pending holds @needed bytes; FALSE at the end of the stream. */
static gboolean
fill (Connection *c,
      gsize       needed)
{
  char buffer[16 * 1024];

  while (c->pending->len < needed)
    {
      gssize n = g_socket_receive (c->socket, buffer, sizeof buffer, c->engine->cancellable, NULL);

      if (n <= 0)
        return FALSE;
      g_byte_array_append (c->pending, (const guint8 *) buffer, n);
    }
  return TRUE;
}

static gssize
find_head_end (GByteArray *pending)
{
  for (gsize i = 0; i + 3 < pending->len; i++)
    if (memcmp (pending->data + i, "\r\n\r\n", 4) == 0)
      return (gssize) (i + 4);
  return -1;
}

static Request *
read_request (Connection *c)
{
  g_autoptr(Request) request = g_new0 (Request, 1);
  g_auto(GStrv) lines = NULL;
  g_auto(GStrv) request_line = NULL;
  g_autofree char *head = NULL;
  guint64 content_length = 0;
  gssize head_length;
  const char *target;

  while ((head_length = find_head_end (c->pending)) < 0)
    {
      if (c->pending->len > MAX_REQUEST_HEAD || !fill (c, c->pending->len + 1))
        return NULL;
    }

  head = g_strndup ((const char *) c->pending->data, head_length - 4);
  g_byte_array_remove_range (c->pending, 0, head_length);
  lines = g_strsplit (head, "\r\n", -1);
  request_line = g_strsplit (lines[0], " ", 3);
  if (g_strv_length (request_line) != 3)
    return NULL;

  for (guint i = 1; lines[i] != NULL; i++)
    if (g_ascii_strncasecmp (lines[i], "Content-Length:", 15) == 0)
      content_length = g_ascii_strtoull (lines[i] + 15, NULL, 10);

  if (content_length > 0)
    {
      if (content_length > G_MAXINT32 || !fill (c, content_length))
        return NULL;
      request->body = g_bytes_new (c->pending->data, content_length);
      g_byte_array_remove_range (c->pending, 0, content_length);
    }

  /* "/v1.41/containers/x/json?size=1" → "/containers/x/json" */
  target = request_line[1];
  if (g_str_has_prefix (target, "/v") && g_ascii_isdigit (target[2]))
    {
      const char *slash = strchr (target + 1, '/');
      target = slash ? slash : "/";
    }
  request->method = g_strdup (request_line[0]);
  request->path = g_strndup (target, strcspn (target, "?"));
  return g_steal_pointer (&request);
}

/* The healthy daemon ------------------------------------------------------- */

static void
answer_json (Answer     *answer,
             guint       status,
             const char *json)
{
  answer->status = status;
  answer->reason = status == 201 ? "Created" : status == 404 ? "Not Found" : "OK";
  answer->content_type = "application/json";
  answer->body = g_bytes_new (json, strlen (json));
}

static la_ssize_t
tar_append (struct archive *a,
            void           *user_data,
            const void     *buffer,
            size_t          length)
{
  g_byte_array_append (user_data, buffer, length);
  return (la_ssize_t) length;
}

/* A tar holding one file, hello.txt, as GET archive of /sandbox/hello.txt returns it. */
static GBytes *
hello_tar (void)
{
  GByteArray *out = g_byte_array_new ();
  struct archive *writer = archive_write_new ();
  struct archive_entry *entry = archive_entry_new ();
  static const char contents[] = "hello\n";

  archive_write_set_format_pax_restricted (writer);
  archive_write_open (writer, out, NULL, tar_append, NULL);
  archive_entry_set_pathname (entry, "hello.txt");
  archive_entry_set_filetype (entry, AE_IFREG);
  archive_entry_set_perm (entry, 0644);
  archive_entry_set_size (entry, sizeof contents - 1);
  archive_write_header (writer, entry);
  archive_write_data (writer, contents, sizeof contents - 1);
  archive_write_close (writer);
  archive_entry_free (entry);
  archive_write_free (writer);
  return g_byte_array_free_to_bytes (out);
}

static void
answer_normally (FakeEngine    *self,
                 const Request *r,
                 Answer        *answer)
{
  const char *m = r->method;
  const char *p = r->path;

  if (g_str_equal (m, "GET") && g_str_equal (p, "/_ping"))
    {
      answer->status = 200;
      answer->reason = "OK";
      answer->content_type = "text/plain; charset=utf-8";
      answer->body = g_bytes_new_static ("OK", 2);
    }
  else if (g_str_equal (m, "GET") && g_pattern_match_simple ("/images/*/json", p))
    answer_json (answer, 200, "{\"Id\": \"sha256:fake\", \"RepoTags\": [\"fake:latest\"]}");
  else if (g_str_equal (m, "POST") && g_str_equal (p, "/images/create"))
    answer_json (answer, 200, "{\"status\": \"Pulling from fake\"}\n{\"status\": \"Downloaded\"}\n");
  else if (g_str_equal (m, "POST") && g_str_equal (p, "/build"))
    answer_json (answer, 200, "{\"stream\": \"STEP 1/1: FROM fake\\n\"}\n"
                 "{\"stream\": \"Successfully tagged fake:built\\n\"}\n");
  else if (g_str_equal (m, "POST") && g_str_equal (p, "/containers/create"))
    answer_json (answer, 201, "{\"Id\": \"" FAKE_ENGINE_CONTAINER_ID "\", \"Warnings\": []}");
  else if (g_str_equal (m, "POST") && g_pattern_match_simple ("/containers/*/start", p))
    {
      answer->status = 204;
      answer->reason = "No Content";
    }
  else if (g_str_equal (m, "GET") && g_pattern_match_simple ("/containers/*/json", p))
    answer_json (answer, 200, "{\"Id\": \"" FAKE_ENGINE_CONTAINER_ID "\", "
                 "\"State\": {\"Status\": \"running\", \"Running\": true, \"Pid\": 7}}");
  else if (g_str_equal (m, "POST") && g_pattern_match_simple ("/containers/*/exec", p))
    {
      g_autofree char *json = NULL;

      g_mutex_lock (&self->lock);
      json = g_strdup_printf ("{\"Id\": \"exec-%u\"}", ++self->exec_count);
      g_mutex_unlock (&self->lock);
      answer_json (answer, 201, json);
    }
  else if (g_str_equal (m, "POST") && g_pattern_match_simple ("/exec/*/start", p))
    {
      answer->status = 200;
      answer->reason = "OK";
      answer->content_type = "application/vnd.docker.raw-stream";
      g_mutex_lock (&self->lock);
      answer->body = g_bytes_ref (self->exec_output);
      g_mutex_unlock (&self->lock);
      answer->close_delimited = TRUE;
    }
  else if (g_str_equal (m, "GET") && g_pattern_match_simple ("/exec/*/json", p))
    answer_json (answer, 200, "{\"Running\": false, \"ExitCode\": 0, \"Pid\": 42}");
  else if (g_str_equal (m, "GET") && g_pattern_match_simple ("/containers/*/archive", p))
    {
      answer->status = 200;
      answer->reason = "OK";
      answer->content_type = "application/x-tar";
      answer->body = hello_tar ();
    }
  else if (g_str_equal (m, "PUT") && g_pattern_match_simple ("/containers/*/archive", p))
    {
      answer->status = 200;
      answer->reason = "OK";
    }
  else if (g_str_equal (m, "DELETE") && g_pattern_match_simple ("/containers/*", p))
    {
      answer->status = 204;
      answer->reason = "No Content";
    }
  else
    answer_json (answer, 404, "{\"message\": \"page not found\"}");
}

/* Faults ------------------------------------------------------------------- */

static const FakeRule *
match_rule (FakeEngine    *self,
            const Request *r)
{
  const FakeRule *found = NULL;

  g_mutex_lock (&self->lock);
  g_ptr_array_add (self->requests, g_strdup_printf ("%s %s", r->method, r->path));
  for (guint i = 0; i < self->rules->len && found == NULL; i++)
    {
      Rule *rule = g_ptr_array_index (self->rules, i);

      guint n;

      if ((rule->method != NULL && !g_str_equal (rule->method, r->method)) ||
          !g_pattern_match_simple (rule->path, r->path))
        continue;
      n = rule->matched++;
      if (n >= rule->rule.skip && (rule->rule.times == 0 || n < rule->rule.skip + rule->rule.times))
        found = &rule->rule;
    }
  g_mutex_unlock (&self->lock);
  return found;
}

/* Waits until the client goes away or the engine stops. */
static gboolean
stay_silent (Connection *c)
{
  char buffer[4096];

  while (g_socket_receive (c->socket, buffer, sizeof buffer, c->engine->cancellable, NULL) > 0)
    ;
  return FALSE;
}

static GBytes *
nested_arrays (guint levels)
{
  GString *text = g_string_sized_new (2 * levels + 1);

  for (guint i = 0; i < levels; i++)
    g_string_append_c (text, '[');
  g_string_append_c (text, '1');
  for (guint i = 0; i < levels; i++)
    g_string_append_c (text, ']');
  return g_string_free_to_bytes (text);
}

/* Writes a body forever: output frames for an exec, JSON-ish text otherwise. */
static gboolean
send_endless_body (Connection    *c,
                   const Request *r)
{
  gboolean exec = g_pattern_match_simple ("/exec/*/start", r->path);
  g_autofree guint8 *chunk = g_malloc (64 * 1024);

  if (!send_text (c, exec ? "HTTP/1.1 200 OK\r\nContent-Type: application/vnd.docker.raw-stream\r\n\r\n"
                          : "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n"))
    return FALSE;

  memset (chunk, 'y', 64 * 1024);
  if (exec)
    {
      /* One stdout frame header, then its 64 KiB - 8 of payload, again and again. */
      guint32 size = GUINT32_TO_BE (64 * 1024 - 8);
      memset (chunk, 0, 8);
      chunk[0] = 1;
      memcpy (chunk + 4, &size, 4);
    }
  else
    chunk[0] = '[';
  while (send_all (c, chunk, 64 * 1024))
    if (!exec)
      chunk[0] = 'y';
  return FALSE;
}

static gboolean
send_endless_header (Connection *c)
{
  g_autofree char *padding = g_strnfill (1000, 'x');
  g_autofree char *header = g_strdup_printf ("X-Fake-Padding: %s\r\n", padding);

  if (!send_text (c, "HTTP/1.1 200 OK\r\n"))
    return FALSE;
  while (send_text (c, header))
    ;
  return FALSE;
}

static gboolean
send_garbage (Connection *c)
{
  guint8 noise[512];

  for (gsize i = 0; i < sizeof noise; i++)
    noise[i] = (guint8) g_random_int ();
  send_text (c, "SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n");
  send_all (c, noise, sizeof noise);
  return FALSE;
}

static gboolean
send_slowly (Connection     *c,
             const Answer   *answer,
             const FakeRule *rule)
{
  gsize head_length, length;
  g_autoptr(GBytes) bytes = serialize (answer, &head_length);
  const char *data = g_bytes_get_data (bytes, &length);

  for (gsize i = 0; i < length; i++)
    if (!send_all (c, data + i, 1) || !pause_ms (c->engine, rule->slow_interval_ms))
      return FALSE;
  return !answer->close_delimited;
}

static gboolean
send_dropped (Connection     *c,
              const Answer   *answer,
              const FakeRule *rule)
{
  gsize head_length, length;
  g_autoptr(GBytes) bytes = serialize (answer, &head_length);
  const char *data = g_bytes_get_data (bytes, &length);

  send_all (c, data, MIN (length, head_length + rule->drop_after));
  return FALSE;
}

/* The id in /containers/ID/... or /exec/ID/..., as the client wrote it. */
static char *
path_id (const char *path)
{
  const char *start = strchr (path + 1, '/');

  if (start == NULL)
    return g_strdup ("");
  start++;
  return g_uri_unescape_segment (start, start + strcspn (start, "/"), NULL);
}

static gboolean
respond (Connection *c,
         Request    *r)
{
  FakeEngine *self = c->engine;
  const FakeRule *rule = match_rule (self, r);
  Answer answer = { 0, };
  gboolean keep_alive;

  if (rule == NULL || rule->fault == FAKE_FAULT_NONE)
    {
      answer_normally (self, r, &answer);
      keep_alive = send_answer (c, &answer);
      answer_clear (&answer);
      return keep_alive;
    }

  switch (rule->fault)
    {
    case FAKE_FAULT_SILENT:
      return stay_silent (c);
    case FAKE_FAULT_GARBAGE:
      return send_garbage (c);
    case FAKE_FAULT_ENDLESS_BODY:
      return send_endless_body (c, r);
    case FAKE_FAULT_ENDLESS_HEADER:
      return send_endless_header (c);
    case FAKE_FAULT_SLOW:
      answer_normally (self, r, &answer);
      keep_alive = send_slowly (c, &answer, rule);
      break;
    case FAKE_FAULT_DROP:
      answer_normally (self, r, &answer);
      keep_alive = send_dropped (c, &answer, rule);
      break;
    case FAKE_FAULT_ERROR_JSON:
      answer_json (&answer, 500, "{\"message\": \"fake engine: the storage driver failed\"}");
      answer.reason = "Internal Server Error";
      keep_alive = send_answer (c, &answer);
      break;
    case FAKE_FAULT_ERROR_EMPTY:
      answer.status = 500;
      answer.reason = "Internal Server Error";
      keep_alive = send_answer (c, &answer);
      break;
    case FAKE_FAULT_ERROR_HTML:
      answer.status = 502;
      answer.reason = "Bad Gateway";
      answer.content_type = "text/html";
      answer.body = g_bytes_new_static (PROXY_ERROR_PAGE, strlen (PROXY_ERROR_PAGE));
      keep_alive = send_answer (c, &answer);
      break;
    case FAKE_FAULT_VANISH:
      {
        g_autofree char *id = path_id (r->path);
        g_autofree char *json = g_str_has_prefix (r->path, "/exec/")
          ? g_strdup_printf ("{\"message\": \"No such exec instance: %s\"}", id)
          : g_strdup_printf ("{\"message\": \"No such container: %s\"}", id);

        answer_json (&answer, 404, json);
        keep_alive = send_answer (c, &answer);
      }
      break;
    case FAKE_FAULT_DEEP_JSON:
    case FAKE_FAULT_DEEP_ERROR:
      answer.status = rule->fault == FAKE_FAULT_DEEP_JSON ? 200 : 500;
      answer.reason = rule->fault == FAKE_FAULT_DEEP_JSON ? "OK" : "Internal Server Error";
      answer.content_type = "application/json";
      answer.body = nested_arrays (rule->fault == FAKE_FAULT_DEEP_JSON ? DEEP_JSON_LEVELS : DEEP_ERROR_LEVELS);
      keep_alive = send_answer (c, &answer);
      break;
    case FAKE_FAULT_RUNNING:
      answer_json (&answer, 200, "{\"Running\": true, \"ExitCode\": null, \"Pid\": 42}");
      keep_alive = send_answer (c, &answer);
      break;
    case FAKE_FAULT_STORAGE_RACE:
      if (!g_str_equal (r->path, "/build"))
        {
          answer_json (&answer, 500, "{\"message\": \"" FAKE_ENGINE_INSPECT_RACE "\"}");
          answer.reason = "Internal Server Error";
          keep_alive = send_answer (c, &answer);
          break;
        }
      answer_json (&answer, 200, "{\"stream\": \"STEP 2/2: RUN true\\n\"}\n"
                   "{\"errorDetail\": {\"message\": \"" FAKE_ENGINE_STORAGE_RACE "\"}, "
                   "\"error\": \"" FAKE_ENGINE_STORAGE_RACE "\"}\n");
      keep_alive = send_answer (c, &answer);
      break;
    case FAKE_FAULT_NONE:
    default:
      g_assert_not_reached ();
    }

  answer_clear (&answer);
  return keep_alive;
}

/* Threads ------------------------------------------------------------------ */

static gpointer
serve_connection (gpointer data)
{
  Connection *c = data;

  for (;;)
    {
      g_autoptr(Request) request = read_request (c);

      if (request == NULL || !respond (c, request))
        break;
    }

  g_socket_close (c->socket, NULL);
  g_object_unref (c->socket);
  g_byte_array_unref (c->pending);
  g_free (c);
  return NULL;
}

static gpointer
accept_connections (gpointer data)
{
  FakeEngine *self = data;

  for (;;)
    {
      GSocket *socket = g_socket_accept (self->listener, self->cancellable, NULL);
      Connection *c;

      if (socket == NULL)
        break;
      c = g_new0 (Connection, 1);
      c->engine = self;
      c->socket = socket;
      c->pending = g_byte_array_new ();
      g_mutex_lock (&self->lock);
      g_ptr_array_add (self->threads, g_thread_new ("fake-engine-conn", serve_connection, c));
      g_mutex_unlock (&self->lock);
    }
  return NULL;
}

/* API ---------------------------------------------------------------------- */

/**
 * fake_engine_frames:
 * @stdout_text: (nullable): what the command wrote to stdout
 * @stderr_text: (nullable): what it wrote to stderr
 *
 * Returns: (transfer full): one frame per stream, as the engine sends them
 */
GBytes *
fake_engine_frames (const char *stdout_text,
                    const char *stderr_text)
{
  GByteArray *out = g_byte_array_new ();
  const char *texts[] = { stdout_text, stderr_text };

  for (guint i = 0; i < G_N_ELEMENTS (texts); i++)
    {
      guint8 header[8] = { i + 1, 0, 0, 0 };
      guint32 size;

      if (texts[i] == NULL || texts[i][0] == '\0')
        continue;
      size = GUINT32_TO_BE ((guint32) strlen (texts[i]));
      memcpy (header + 4, &size, 4);
      g_byte_array_append (out, header, sizeof header);
      g_byte_array_append (out, (const guint8 *) texts[i], strlen (texts[i]));
    }
  return g_byte_array_free_to_bytes (out);
}

FakeEngine *
fake_engine_new (void)
{
  FakeEngine *self = g_new0 (FakeEngine, 1);
  g_autoptr(GSocketAddress) address = NULL;
  g_autoptr(GError) error = NULL;

  self->dir = g_dir_make_tmp ("fake-engine-XXXXXX", &error);
  g_assert_no_error (error);
  self->socket_path = g_build_filename (self->dir, "engine.sock", NULL);
  self->url = g_strconcat ("unix://", self->socket_path, NULL);
  self->cancellable = g_cancellable_new ();
  g_mutex_init (&self->lock);
  self->threads = g_ptr_array_new ();
  self->rules = g_ptr_array_new_with_free_func (rule_free);
  self->requests = g_ptr_array_new_with_free_func (g_free);
  self->exec_output = fake_engine_frames ("hello from the fake engine\n", NULL);

  address = g_unix_socket_address_new (self->socket_path);
  self->listener = g_socket_new (G_SOCKET_FAMILY_UNIX, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_DEFAULT, &error);
  g_assert_no_error (error);
  g_socket_bind (self->listener, address, FALSE, &error);
  g_assert_no_error (error);
  g_socket_listen (self->listener, &error);
  g_assert_no_error (error);

  self->accept_thread = g_thread_new ("fake-engine", accept_connections, self);
  return self;
}

void
fake_engine_free (FakeEngine *self)
{
  if (self == NULL)
    return;

  g_cancellable_cancel (self->cancellable);
  g_thread_join (self->accept_thread);
  /* No thread adds connections any more. */
  for (guint i = 0; i < self->threads->len; i++)
    g_thread_join (g_ptr_array_index (self->threads, i));

  g_socket_close (self->listener, NULL);
  g_object_unref (self->listener);
  g_unlink (self->socket_path);
  g_rmdir (self->dir);

  g_ptr_array_unref (self->threads);
  g_ptr_array_unref (self->rules);
  g_ptr_array_unref (self->requests);
  g_bytes_unref (self->exec_output);
  g_object_unref (self->cancellable);
  g_mutex_clear (&self->lock);
  g_free (self->url);
  g_free (self->socket_path);
  g_free (self->dir);
  g_free (self);
}

const char *
fake_engine_get_url (FakeEngine *self)
{
  return self->url;
}

/* Rules are tried in the order they were added; the first that matches and
 * has skipped its share of requests decides. */
void
fake_engine_add_rule (FakeEngine     *self,
                      const FakeRule *rule)
{
  Rule *copy = g_new0 (Rule, 1);

  copy->rule = *rule;
  copy->method = g_strdup (rule->method);
  copy->path = g_strdup (rule->path);
  copy->rule.method = copy->method;
  copy->rule.path = copy->path;
  g_mutex_lock (&self->lock);
  g_ptr_array_add (self->rules, copy);
  g_mutex_unlock (&self->lock);
}

void
fake_engine_set_exec_output (FakeEngine *self,
                             GBytes     *stream)
{
  g_mutex_lock (&self->lock);
  g_bytes_unref (self->exec_output);
  self->exec_output = g_bytes_ref (stream);
  g_mutex_unlock (&self->lock);
}

/* How many requests so far matched @method (NULL: any) and the @path pattern. */
guint
fake_engine_count (FakeEngine *self,
                   const char *method,
                   const char *path)
{
  g_autofree char *pattern = g_strdup_printf ("%s %s", method ? method : "*", path);
  guint count = 0;

  g_mutex_lock (&self->lock);
  for (guint i = 0; i < self->requests->len; i++)
    if (g_pattern_match_simple (pattern, g_ptr_array_index (self->requests, i)))
      count++;
  g_mutex_unlock (&self->lock);
  return count;
}
