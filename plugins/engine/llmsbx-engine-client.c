/* llmsbx-engine-client.c: HTTP/1.1 client of the Docker Engine API over libcurl.
 *
 * Every request runs through curl's multi interface so that a deadline and a
 * GCancellable stop it promptly: the loop sleeps in curl_multi_poll() no longer
 * than the time left, and cancelling wakes it with curl_multi_wakeup(). Each
 * easy handle lives with its own multi handle (which owns the connection
 * cache) in a small pool, so requests from different threads run in parallel
 * and a keep-alive connection is reused by the next request. */
#include "llmsbx-engine-client.h"

#include <curl/curl.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "llmsbx-nesting-private.h"

#define DEFAULT_MAX_RESPONSE (16 * 1024 * 1024)
/* Enough of an error body for the daemon's message. */
#define MAX_ERROR_BODY (64 * 1024)
/* Longest JSON line kept from a progress stream; longer ones are skipped. */
#define MAX_JSON_LINE (1024 * 1024)
/* Idle handles (and so keep-alive connections) kept for reuse. */
#define POOL_SIZE 4
/* Reads of one thing when Podman's storage races a removal. */
#define MAX_RACED_READS 3
/* Longest sleep without a deadline: curl shortens it for its own timers and a
 * cancellation wakes it, so this only bounds an idle wait. */
#define IDLE_POLL_MS (60 * 1000)

G_DEFINE_QUARK (llmsbx-engine-error-quark, llmsbx_engine_error)

typedef struct
{
  CURLM *multi;
  CURL  *easy;
} Handle;

struct _LlmsbxEngineClient
{
  LlmsbxEngineSettings    settings;
  char                   *engine_name;
  char                   *base_url;     /* scheme://authority that paths are appended to */
  char                   *socket_path;  /* for unix:// URLs */
  LlmsbxEngineRequestHook hook;
  gpointer                hook_data;

  GMutex                  lock;
  GPtrArray              *idle;         /* of Handle, guarded by lock */
  char                   *api_version;  /* guarded by lock */
};

typedef struct
{
  const LlmsbxEngineRequest *request;
  const char *engine_name;
  CURL       *easy;
  long        status;
  GByteArray *buffer;       /* buffered success body, or the error body */
  gsize       limit;
  char       *api_version;  /* Api-Version header of the final response */
  GError     *error;        /* set by a body function or a bound */
  gint64      activity;     /* monotonic time anything last arrived */
} Transfer;

void
llmsbx_engine_settings_clear (LlmsbxEngineSettings *settings)
{
  g_clear_pointer (&settings->url, g_free);
  g_clear_pointer (&settings->tls_ca_file, g_free);
  g_clear_pointer (&settings->tls_cert_file, g_free);
  g_clear_pointer (&settings->tls_key_file, g_free);
}

static Handle *
handle_new (void)
{
  Handle *h = g_new0 (Handle, 1);

  h->multi = curl_multi_init ();
  h->easy = curl_easy_init ();
  if (h->multi == NULL || h->easy == NULL)
    g_error ("libcurl could not allocate a handle");
  return h;
}

static void
handle_free (Handle *h)
{
  curl_easy_cleanup (h->easy);
  curl_multi_cleanup (h->multi);
  g_free (h);
}

static Handle *
take_handle (LlmsbxEngineClient *self)
{
  Handle *h = NULL;

  g_mutex_lock (&self->lock);
  if (self->idle->len > 0)
    h = g_ptr_array_steal_index_fast (self->idle, self->idle->len - 1);
  g_mutex_unlock (&self->lock);

  return h ? h : handle_new ();
}

static void
give_back_handle (LlmsbxEngineClient *self,
                  Handle             *h)
{
  g_mutex_lock (&self->lock);
  if (self->idle->len < POOL_SIZE)
    {
      g_ptr_array_add (self->idle, h);
      h = NULL;
    }
  g_mutex_unlock (&self->lock);

  if (h != NULL)
    handle_free (h);
}

static gboolean
parse_url (LlmsbxEngineClient  *self,
           GError             **error)
{
  const char *url = self->settings.url;

  if (g_str_has_prefix (url, "unix://"))
    {
      const char *path = url + strlen ("unix://");

      if (path[0] != '/')
        {
          g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
                       "Invalid engine URL '%s': a unix socket URL needs an absolute path, "
                       "as in unix:///var/run/docker.sock", url);
          return FALSE;
        }
      self->socket_path = g_strdup (path);
      self->base_url = g_strdup ("http://localhost");
      return TRUE;
    }

  if (g_str_has_prefix (url, "tcp://"))
    {
      const char *authority = url + strlen ("tcp://");
      g_autofree char *host = g_strndup (authority, strcspn (authority, "/"));
      const char *bracket = strrchr (host, ']');
      gboolean has_port = strchr (bracket ? bracket : host, ':') != NULL;

      if (host[0] == '\0')
        {
          g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
                       "Invalid engine URL '%s': expected tcp://host:port", url);
          return FALSE;
        }
      /* Docker's conventional ports: 2375 in the clear, 2376 with TLS. */
      self->base_url = g_strdup_printf ("%s://%s%s",
                                        self->settings.use_tls ? "https" : "http", host,
                                        has_port ? "" : (self->settings.use_tls ? ":2376" : ":2375"));
      return TRUE;
    }

  if (g_str_has_prefix (url, "http://") || g_str_has_prefix (url, "https://"))
    {
      gsize len = strlen (url);

      while (len > 0 && url[len - 1] == '/')
        len--;
      self->base_url = g_strndup (url, len);
      return TRUE;
    }

  g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
               "Unsupported engine URL '%s': expected unix:///path/to.sock, tcp://host:port, "
               "http://host:port or https://host:port", url);
  return FALSE;
}

static gpointer
init_curl (gpointer data)
{
  return GINT_TO_POINTER (curl_global_init (CURL_GLOBAL_DEFAULT));
}

/**
 * llmsbx_engine_client_new:
 * @settings: where the engine is
 * @engine_name: how messages name the engine, e.g. "Docker daemon"
 * @hook: (nullable): called for every request sent
 * @hook_data: data for @hook
 * @error: return location for a #GError
 *
 * Creates a client. Nothing is sent until the first request.
 *
 * Returns: (transfer full) (nullable): a client, or %NULL with
 *   %LLMSBX_ERROR_INVALID_ARGUMENT for an unusable URL
 */
LlmsbxEngineClient *
llmsbx_engine_client_new (const LlmsbxEngineSettings *settings,
                          const char                 *engine_name,
                          LlmsbxEngineRequestHook     hook,
                          gpointer                    hook_data,
                          GError                    **error)
{
  static GOnce curl_once = G_ONCE_INIT;
  g_autoptr(LlmsbxEngineClient) self = NULL;

  g_return_val_if_fail (settings != NULL && settings->url != NULL, NULL);

  if (GPOINTER_TO_INT (g_once (&curl_once, init_curl, NULL)) != CURLE_OK)
    {
      g_set_error_literal (error, LLMSBX_ERROR, LLMSBX_ERROR_FAILED, "libcurl could not be initialized");
      return NULL;
    }

  self = g_atomic_rc_box_new0 (LlmsbxEngineClient);
  self->settings.url = g_strdup (settings->url);
  self->settings.tls_ca_file = g_strdup (settings->tls_ca_file);
  self->settings.tls_cert_file = g_strdup (settings->tls_cert_file);
  self->settings.tls_key_file = g_strdup (settings->tls_key_file);
  self->settings.use_tls = settings->use_tls;
  self->settings.tls_verify = settings->tls_verify;
  self->settings.connect_timeout = settings->connect_timeout;
  self->settings.request_timeout = settings->request_timeout;
  self->engine_name = g_strdup (engine_name ? engine_name : "container engine");
  self->hook = hook;
  self->hook_data = hook_data;
  g_mutex_init (&self->lock);
  self->idle = g_ptr_array_new_with_free_func ((GDestroyNotify) handle_free);

  if (!parse_url (self, error))
    return NULL;

  return g_steal_pointer (&self);
}

LlmsbxEngineClient *
llmsbx_engine_client_ref (LlmsbxEngineClient *self)
{
  return g_atomic_rc_box_acquire (self);
}

static void
client_clear (LlmsbxEngineClient *self)
{
  llmsbx_engine_settings_clear (&self->settings);
  g_free (self->engine_name);
  g_free (self->base_url);
  g_free (self->socket_path);
  g_free (self->api_version);
  g_ptr_array_unref (self->idle);
  g_mutex_clear (&self->lock);
}

void
llmsbx_engine_client_unref (LlmsbxEngineClient *self)
{
  g_atomic_rc_box_release_full (self, (GDestroyNotify) client_clear);
}

/* ---------------------------------------------------------------------------
 * One transfer
 * ------------------------------------------------------------------------ */

static size_t
on_header (char   *buffer,
           size_t  size,
           size_t  nitems,
           void   *user_data)
{
  Transfer *t = user_data;
  gsize len = size * nitems;
  static const char name[] = "api-version:";

  t->activity = g_get_monotonic_time ();
  /* A new status line starts a new response (after a 100 Continue, say). */
  if (len >= 5 && memcmp (buffer, "HTTP/", 5) == 0)
    g_clear_pointer (&t->api_version, g_free);
  else if (len > strlen (name) && g_ascii_strncasecmp (buffer, name, strlen (name)) == 0)
    {
      g_autofree char *value = g_strndup (buffer + strlen (name), len - strlen (name));
      g_free (t->api_version);
      t->api_version = g_strdup (g_strstrip (value));
    }
  return len;
}

static size_t
on_body (char   *data,
         size_t  size,
         size_t  nmemb,
         void   *user_data)
{
  Transfer *t = user_data;
  gsize len = size * nmemb;

  t->activity = g_get_monotonic_time ();
  if (t->status == 0)
    curl_easy_getinfo (t->easy, CURLINFO_RESPONSE_CODE, &t->status);

  if (t->status < 400 && t->request->body_func != NULL)
    {
      if (!t->request->body_func ((const guint8 *) data, len, t->request->body_func_data, &t->error))
        return 0;
      return len;
    }

  if (t->status >= 400)
    {
      /* Only the start of an error body matters. */
      if (t->buffer->len < MAX_ERROR_BODY)
        g_byte_array_append (t->buffer, (const guint8 *) data, MIN (len, MAX_ERROR_BODY - t->buffer->len));
      return len;
    }

  if (len > t->limit - t->buffer->len)
    {
      g_autofree char *limit = g_format_size_full (t->limit, G_FORMAT_SIZE_IEC_UNITS);
      g_set_error (&t->error, LLMSBX_ERROR, LLMSBX_ERROR_PROTOCOL,
                   "The %s's response to %s %s is larger than %s",
                   t->engine_name, t->request->method, t->request->path, limit);
      return 0;
    }
  g_byte_array_append (t->buffer, (const guint8 *) data, len);
  return len;
}

static void
wake_up (GCancellable *cancellable,
         gpointer      multi)
{
  curl_multi_wakeup (multi);
}

static char *
build_url (LlmsbxEngineClient *self,
           const char         *path)
{
  char *url;

  g_mutex_lock (&self->lock);
  if (self->api_version != NULL)
    url = g_strdup_printf ("%s/v%s%s", self->base_url, self->api_version, path);
  else
    url = g_strconcat (self->base_url, path, NULL);
  g_mutex_unlock (&self->lock);
  return url;
}

/* Where and how @easy connects: the engine's socket or host, TLS. */
static void
setup_connection (LlmsbxEngineClient *self,
                  CURL               *easy,
                  const char         *url,
                  char               *errbuf)
{
  curl_easy_reset (easy);
  curl_easy_setopt (easy, CURLOPT_URL, url);
  curl_easy_setopt (easy, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt (easy, CURLOPT_HTTP_VERSION, (long) CURL_HTTP_VERSION_1_1);
  curl_easy_setopt (easy, CURLOPT_ERRORBUFFER, errbuf);
  if (self->settings.connect_timeout > 0)
    curl_easy_setopt (easy, CURLOPT_CONNECTTIMEOUT_MS,
                      (long) MAX (1.0, self->settings.connect_timeout * 1000.0));
  if (self->socket_path != NULL)
    curl_easy_setopt (easy, CURLOPT_UNIX_SOCKET_PATH, self->socket_path);

  if (g_str_has_prefix (self->base_url, "https:"))
    {
      long verify = self->settings.tls_verify ? 1L : 0L;

      if (self->settings.tls_ca_file != NULL)
        curl_easy_setopt (easy, CURLOPT_CAINFO, self->settings.tls_ca_file);
      if (self->settings.tls_cert_file != NULL)
        curl_easy_setopt (easy, CURLOPT_SSLCERT, self->settings.tls_cert_file);
      if (self->settings.tls_key_file != NULL)
        curl_easy_setopt (easy, CURLOPT_SSLKEY, self->settings.tls_key_file);
      curl_easy_setopt (easy, CURLOPT_SSL_VERIFYPEER, verify);
      curl_easy_setopt (easy, CURLOPT_SSL_VERIFYHOST, verify ? 2L : 0L);
    }
}

static struct curl_slist *
setup (LlmsbxEngineClient        *self,
       Transfer                  *t,
       const char                *url,
       char                      *errbuf)
{
  const LlmsbxEngineRequest *request = t->request;
  CURL *easy = t->easy;
  struct curl_slist *headers = NULL;
  g_autofree char *content_type = NULL;

  setup_connection (self, easy, url, errbuf);
  curl_easy_setopt (easy, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt (easy, CURLOPT_HEADERDATA, t);
  curl_easy_setopt (easy, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt (easy, CURLOPT_WRITEDATA, t);

  if (g_str_equal (request->method, "GET"))
    curl_easy_setopt (easy, CURLOPT_HTTPGET, 1L);
  else if (g_str_equal (request->method, "HEAD"))
    curl_easy_setopt (easy, CURLOPT_NOBODY, 1L);
  else
    {
      curl_easy_setopt (easy, CURLOPT_CUSTOMREQUEST, request->method);
      if (request->body != NULL || g_str_equal (request->method, "POST") ||
          g_str_equal (request->method, "PUT"))
        {
          gsize size = 0;
          const void *data = request->body ? g_bytes_get_data (request->body, &size) : NULL;

          curl_easy_setopt (easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) size);
          curl_easy_setopt (easy, CURLOPT_POSTFIELDS, data ? data : "");
        }
    }

  /* No "Expect: 100-continue" round trip for larger bodies, and no form type. */
  headers = curl_slist_append (headers, "Expect:");
  content_type = g_strconcat ("Content-Type:", request->content_type ? " " : "",
                              request->content_type ? request->content_type : "", NULL);
  headers = curl_slist_append (headers, content_type);
  curl_easy_setopt (easy, CURLOPT_HTTPHEADER, headers);
  return headers;
}

static void
set_transport_error (LlmsbxEngineClient  *self,
                     CURL                *easy,
                     CURLcode             code,
                     const char          *errbuf,
                     GError             **error)
{
  long os_errno = 0;
  const char *reason;

  curl_easy_getinfo (easy, CURLINFO_OS_ERRNO, &os_errno);
  if (os_errno != 0)
    reason = g_strerror ((int) os_errno);
  else if (errbuf[0] != '\0')
    reason = errbuf;
  else
    reason = curl_easy_strerror (code);

  switch (code)
    {
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_ISSUER_ERROR:
      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_BACKEND_UNAVAILABLE,
                   "Cannot reach the %s at %s: %s", self->engine_name, self->settings.url, reason);
      break;
    /* Something answered, but not in HTTP: a wrong port or socket, say. The
     * URL's scheme is always http(s) here, so an unsupported protocol is an
     * answer without a status line ("HTTP/0.9"). */
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_BAD_CONTENT_ENCODING:
      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_BACKEND_UNAVAILABLE,
                   "The %s at %s does not speak HTTP (%s): is that the engine's API socket?",
                   self->engine_name, self->settings.url, reason);
      break;
    default:
      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_BACKEND_UNAVAILABLE,
                   "Lost the connection to the %s at %s: %s", self->engine_name, self->settings.url,
                   reason);
      break;
    }
}

/* The start of an error body that is not Docker's JSON (a proxy's HTML
 * page, say) on one line, short enough for a message. */
static char *
body_excerpt (GByteArray *body)
{
  g_autofree char *text = g_utf8_make_valid ((const char *) body->data, MIN (body->len, 1024));
  GString *line = g_string_new (NULL);

  for (const char *p = text; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (g_unichar_isspace (c) || g_unichar_iscntrl (c))
        {
          if (line->len > 0 && line->str[line->len - 1] != ' ')
            g_string_append_c (line, ' ');
        }
      else
        g_string_append_unichar (line, c);
      if (g_utf8_strlen (line->str, line->len) >= 200)
        {
          g_string_append (line, "...");
          break;
        }
    }
  return g_strstrip (g_string_free (line, FALSE));
}

static GError *
engine_error (guint       status,
              GByteArray *body)
{
  g_autofree char *message = NULL;

  if (body->len > 0)
    {
      g_autoptr(JsonParser) parser = json_parser_new_immutable ();

      if (llmsbx_json_check ((const char *) body->data, body->len, "The error", NULL) &&
          json_parser_load_from_data (parser, (const char *) body->data, body->len, NULL) &&
          JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
        {
          JsonObject *object = json_node_get_object (json_parser_get_root (parser));
          /* Docker: {"message"}; Podman: {"cause", "message", "response"}. */
          const char *text = json_object_get_string_member_with_default (object, "message", NULL);

          if (text == NULL || *text == '\0')
            text = json_object_get_string_member_with_default (object, "cause", NULL);
          if (text != NULL)
            message = g_strstrip (g_utf8_make_valid (text, -1));
        }
      if (message == NULL)
        message = body_excerpt (body);
    }

  if (message == NULL || *message == '\0')
    {
      g_free (message);
      message = g_strdup_printf ("HTTP status %u", status);
    }
  return g_error_new_literal (LLMSBX_ENGINE_ERROR, status, message);
}

/* Runs one transfer to its end, its deadline, its cancellation, or until
 * nothing arrived (nor left) for @idle_us (0: no such bound). */
static CURLcode
perform (Handle        *h,
         Transfer      *t,
         gint64         deadline,
         gint64         idle_us,
         GCancellable  *cancellable,
         gboolean      *timed_out,
         gboolean      *idle_timed_out)
{
  CURLcode result = CURLE_OK;
  curl_off_t uploaded = 0;
  gulong cancel_id = 0;
  CURLMsg *msg;
  int queued;

  t->activity = g_get_monotonic_time ();
  curl_multi_add_handle (h->multi, h->easy);
  if (cancellable != NULL)
    cancel_id = g_cancellable_connect (cancellable, G_CALLBACK (wake_up), h->multi, NULL);

  for (;;)
    {
      int running = 0;
      int timeout_ms = IDLE_POLL_MS;
      CURLMcode mc = curl_multi_perform (h->multi, &running);

      if (mc != CURLM_OK)
        {
          result = CURLE_FAILED_INIT;
          break;
        }
      if (running == 0)
        {
          while ((msg = curl_multi_info_read (h->multi, &queued)) != NULL)
            if (msg->msg == CURLMSG_DONE)
              result = msg->data.result;
          break;
        }
      if (g_cancellable_is_cancelled (cancellable))
        {
          result = CURLE_ABORTED_BY_CALLBACK;
          break;
        }
      if (deadline > 0)
        {
          gint64 remaining = deadline - g_get_monotonic_time ();

          if (remaining <= 0)
            {
              *timed_out = TRUE;
              result = CURLE_OPERATION_TIMEDOUT;
              break;
            }
          timeout_ms = (int) MIN ((gint64) timeout_ms, (remaining + 999) / 1000);
        }
      if (idle_us > 0)
        {
          curl_off_t now_uploaded = 0;
          gint64 remaining;

          /* A large body on its way out counts as activity too. */
          curl_easy_getinfo (h->easy, CURLINFO_SIZE_UPLOAD_T, &now_uploaded);
          if (now_uploaded != uploaded)
            {
              uploaded = now_uploaded;
              t->activity = g_get_monotonic_time ();
            }
          remaining = t->activity + idle_us - g_get_monotonic_time ();
          if (remaining <= 0)
            {
              *idle_timed_out = TRUE;
              result = CURLE_OPERATION_TIMEDOUT;
              break;
            }
          timeout_ms = (int) MIN ((gint64) timeout_ms, (remaining + 999) / 1000);
        }
      if (curl_multi_poll (h->multi, NULL, 0, timeout_ms, NULL) != CURLM_OK)
        {
          result = CURLE_FAILED_INIT;
          break;
        }
    }

  if (cancel_id != 0)
    g_cancellable_disconnect (cancellable, cancel_id);
  /* Removing an unfinished transfer closes its connection. */
  curl_multi_remove_handle (h->multi, h->easy);
  return result;
}

static gboolean
send_request (LlmsbxEngineClient         *self,
              const LlmsbxEngineRequest  *request,
              guint                      *status,
              GBytes                    **response,
              char                      **api_version,
              GCancellable               *cancellable,
              GError                    **error)
{
  g_autofree char *url = NULL;
  char errbuf[CURL_ERROR_SIZE] = "";
  struct curl_slist *headers;
  gboolean timed_out = FALSE;
  gboolean idle_timed_out = FALSE;
  gint64 idle_us = 0;
  gboolean ok = FALSE;
  Transfer t = { 0, };
  CURLcode result;
  Handle *h;

  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return FALSE;

  url = build_url (self, request->path);
  h = take_handle (self);
  t.request = request;
  t.engine_name = self->engine_name;
  t.easy = h->easy;
  t.buffer = g_byte_array_new ();
  t.limit = request->max_response ? request->max_response : DEFAULT_MAX_RESPONSE;
  headers = setup (self, &t, url, errbuf);

  if (self->hook != NULL)
    self->hook (self->hook_data);
  g_debug ("%s %s", request->method, url);

  /* Streamed answers (command output, pulls, builds) may rightly pause for
   * long; everything else is bounded by the request timeout. */
  if (request->body_func == NULL && self->settings.request_timeout > 0)
    idle_us = (gint64) (self->settings.request_timeout * G_USEC_PER_SEC);
  result = perform (h, &t, request->deadline, idle_us, cancellable, &timed_out, &idle_timed_out);
  if (t.status == 0)
    curl_easy_getinfo (h->easy, CURLINFO_RESPONSE_CODE, &t.status);

  if (t.error != NULL)
    g_propagate_error (error, g_steal_pointer (&t.error));
  else if (timed_out)
    g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_TIMEOUT,
                 "The %s did not answer %s %s before the deadline",
                 self->engine_name, request->method, request->path);
  else if (idle_timed_out)
    g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_BACKEND_UNAVAILABLE,
                 "The %s at %s did not answer %s %s within %g seconds (request-timeout)",
                 self->engine_name, self->settings.url, request->method, request->path,
                 self->settings.request_timeout);
  else if (result == CURLE_ABORTED_BY_CALLBACK)
    g_cancellable_set_error_if_cancelled (cancellable, error);
  else if (result != CURLE_OK)
    set_transport_error (self, h->easy, result, errbuf, error);
  else if (t.status >= 400)
    g_propagate_error (error, engine_error (t.status, t.buffer));
  else
    {
      if (status != NULL)
        *status = t.status;
      if (response != NULL)
        *response = g_byte_array_free_to_bytes (g_steal_pointer (&t.buffer));
      if (api_version != NULL)
        *api_version = g_steal_pointer (&t.api_version);
      ok = TRUE;
    }

  curl_easy_setopt (h->easy, CURLOPT_HTTPHEADER, NULL);
  curl_slist_free_all (headers);
  give_back_handle (self, h);
  if (t.buffer != NULL)
    g_byte_array_unref (t.buffer);
  g_free (t.api_version);
  return ok;
}

/**
 * llmsbx_engine_client_send:
 * @self: a client
 * @request: the request
 * @status: (out) (optional): the HTTP status of a successful response
 * @response: (out) (optional) (transfer full): the buffered body of a successful
 *   response without a body function
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Sends @request and waits for its response. Statuses from 400 on are errors of
 * the %LLMSBX_ENGINE_ERROR domain with the status as code and the daemon's message.
 *
 * Returns: %FALSE on error: %LLMSBX_ENGINE_ERROR, %LLMSBX_ERROR_BACKEND_UNAVAILABLE
 *   when the engine cannot be reached, does not speak HTTP, or (for a request
 *   without a body function) sends nothing for the request timeout,
 *   %LLMSBX_ERROR_TIMEOUT at the deadline, %G_IO_ERROR_CANCELLED, or the error
 *   of the body function
 */
gboolean
llmsbx_engine_client_send (LlmsbxEngineClient         *self,
                           const LlmsbxEngineRequest  *request,
                           guint                      *status,
                           GBytes                    **response,
                           GCancellable               *cancellable,
                           GError                    **error)
{
  return send_request (self, request, status, response, NULL, cancellable, error);
}

/* "1.41" → 1041; -1 when it is not a version. */
static int
parse_version (const char *text)
{
  g_auto(GStrv) parts = g_strsplit (text, ".", 3);
  guint64 major, minor;

  if (g_strv_length (parts) != 2 ||
      !g_ascii_string_to_unsigned (parts[0], 10, 0, 99, &major, NULL) ||
      !g_ascii_string_to_unsigned (parts[1], 10, 0, 999, &minor, NULL))
    return -1;
  return (int) (major * 1000 + minor);
}

/**
 * llmsbx_engine_client_negotiate:
 * @self: a client
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Asks the engine for its newest API version (`GET /_ping`) and from then on
 * prefixes every path with `/v` and the older of that and
 * %LLMSBX_ENGINE_API_VERSION_MAX.
 *
 * Returns: %FALSE with %LLMSBX_ERROR_BACKEND_UNAVAILABLE when the engine cannot be
 *   reached, does not answer within the connect timeout, or is older than
 *   %LLMSBX_ENGINE_API_VERSION_MIN
 */
gboolean
llmsbx_engine_client_negotiate (LlmsbxEngineClient  *self,
                                GCancellable        *cancellable,
                                GError             **error)
{
  LlmsbxEngineRequest request = { .method = "GET", .path = "/_ping", .max_response = 4096 };
  g_autofree char *server = NULL;
  g_autoptr(GError) local_error = NULL;
  int server_version;

  g_mutex_lock (&self->lock);
  g_clear_pointer (&self->api_version, g_free);
  g_mutex_unlock (&self->lock);

  /* Something that accepts connections but never answers (a wrong port, a
   * hung daemon) must not hang open(): the ping gets the connect timeout too. */
  if (self->settings.connect_timeout > 0)
    request.deadline = g_get_monotonic_time () + (gint64) (self->settings.connect_timeout * G_USEC_PER_SEC);

  if (!send_request (self, &request, NULL, NULL, &server, cancellable, &local_error))
    {
      if (local_error->domain == LLMSBX_ENGINE_ERROR)
        g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_BACKEND_UNAVAILABLE,
                     "The %s at %s is not usable: %s (HTTP %d)", self->engine_name,
                     self->settings.url, local_error->message, local_error->code);
      else if (g_error_matches (local_error, LLMSBX_ERROR, LLMSBX_ERROR_PROTOCOL))
        g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_BACKEND_UNAVAILABLE,
                     "The %s at %s is not usable: %s", self->engine_name,
                     self->settings.url, local_error->message);
      else if (g_error_matches (local_error, LLMSBX_ERROR, LLMSBX_ERROR_TIMEOUT))
        g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_BACKEND_UNAVAILABLE,
                     "The %s at %s did not answer within %g seconds (connect-timeout)",
                     self->engine_name, self->settings.url, self->settings.connect_timeout);
      else
        g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }

  /* Engines too old to send Api-Version (before 1.25) are below the minimum too. */
  server_version = server ? parse_version (server) : -1;
  if (server_version < parse_version (LLMSBX_ENGINE_API_VERSION_MIN))
    {
      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_BACKEND_UNAVAILABLE,
                   "The %s at %s speaks API version %s, older than %s, the oldest this "
                   "library supports; upgrade the engine",
                   self->engine_name, self->settings.url, server ? server : "(unknown)",
                   LLMSBX_ENGINE_API_VERSION_MIN);
      return FALSE;
    }

  g_mutex_lock (&self->lock);
  self->api_version = g_strdup (server_version < parse_version (LLMSBX_ENGINE_API_VERSION_MAX)
                                ? server : LLMSBX_ENGINE_API_VERSION_MAX);
  g_mutex_unlock (&self->lock);
  g_debug ("%s at %s: API version %s (server %s)", self->engine_name, self->settings.url,
           self->api_version, server);
  return TRUE;
}

/**
 * llmsbx_engine_client_json:
 * @self: a client
 * @method: HTTP method
 * @path: path and query
 * @body: (nullable): JSON body
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Sends a request with an optional JSON body and parses the JSON answer.
 *
 * Returns: (transfer full) (nullable): the answer (a null node for an empty body),
 *   or %NULL with an error as for llmsbx_engine_client_send(), or
 *   %LLMSBX_ERROR_PROTOCOL when the answer is not JSON
 */
gboolean
llmsbx_engine_is_storage_race (const char *message)
{
  return strstr (message, "layer not known") != NULL || strstr (message, "image not known") != NULL;
}

JsonNode *
llmsbx_engine_client_json (LlmsbxEngineClient  *self,
                           const char          *method,
                           const char          *path,
                           JsonNode            *body,
                           GCancellable        *cancellable,
                           GError             **error)
{
  return llmsbx_engine_client_json_before (self, method, path, body, 0, cancellable, error);
}

/**
 * llmsbx_engine_client_json_before:
 * @self: a client
 * @method: HTTP method
 * @path: path and query
 * @body: (nullable): JSON body
 * @deadline: monotonic time (µs) at which the request fails with
 *   %LLMSBX_ERROR_TIMEOUT; 0 for none
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Like llmsbx_engine_client_json(), for a request that is part of something
 * with a deadline, such as a command's inspection after its output ended.
 *
 * Returns: (transfer full) (nullable): as llmsbx_engine_client_json()
 */
JsonNode *
llmsbx_engine_client_json_before (LlmsbxEngineClient  *self,
                                  const char          *method,
                                  const char          *path,
                                  JsonNode            *body,
                                  gint64               deadline,
                                  GCancellable        *cancellable,
                                  GError             **error)
{
  g_autoptr(GBytes) request_body = NULL;
  g_autoptr(GBytes) response = NULL;
  g_autoptr(JsonParser) parser = NULL;
  g_autoptr(GError) parse_error = NULL;
  LlmsbxEngineRequest request = { .method = method, .path = path, .deadline = deadline };
  gconstpointer data;
  gsize size;

  if (body != NULL)
    {
      char *text = json_to_string (body, FALSE);

      request_body = g_bytes_new_take (text, strlen (text));
      request.content_type = "application/json";
      request.body = request_body;
    }

  /* A read whose lookup raced a removal (Podman 4 lists every image to
   * inspect one) is read again; anything that changes state is not. */
  for (guint attempt = 1;; attempt++)
    {
      g_autoptr(GError) local_error = NULL;

      if (llmsbx_engine_client_send (self, &request, NULL, &response, cancellable, &local_error))
        break;
      if (!g_str_equal (method, "GET") || attempt == MAX_RACED_READS ||
          !g_error_matches (local_error, LLMSBX_ENGINE_ERROR, 500) ||
          !llmsbx_engine_is_storage_race (local_error->message))
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return NULL;
        }
      g_debug ("%s %s raced a removal (%s); asking again", method, path, local_error->message);
    }

  data = g_bytes_get_data (response, &size);
  if (size == 0)
    return json_node_new (JSON_NODE_NULL);

  /* json-glib's parser recurses once per level: too deep is refused first. */
  if (!llmsbx_json_check (data, size, "its answer", &parse_error))
    {
      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_PROTOCOL,
                   "The %s answered %s %s with JSON nested too deep to read: %s",
                   self->engine_name, method, path, parse_error->message);
      return NULL;
    }
  parser = json_parser_new_immutable ();
  if (!json_parser_load_from_data (parser, data, size, &parse_error))
    {
      /* json-glib's parse errors quote the text, and may cut a character in two. */
      g_autofree char *reason = g_utf8_make_valid (parse_error->message, -1);

      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_PROTOCOL,
                   "The %s answered %s %s with something that is not JSON: %s",
                   self->engine_name, method, path, reason);
      return NULL;
    }
  return json_parser_steal_root (parser);
}

typedef struct
{
  LlmsbxEngineLineFunc func;
  gpointer             data;
  GByteArray          *line;
  gboolean             skipping;  /* inside a line longer than MAX_JSON_LINE */
} Lines;

static gboolean
lines_emit (Lines   *lines,
            GError **error)
{
  g_autoptr(JsonParser) parser = NULL;
  g_autofree char *text = g_strndup ((const char *) lines->line->data, lines->line->len);

  g_byte_array_set_size (lines->line, 0);
  g_strstrip (text);
  if (*text == '\0')
    return TRUE;

  /* Progress streams are advisory except for their error lines, which are JSON;
   * anything else is skipped. */
  parser = json_parser_new_immutable ();
  if (!llmsbx_json_check (text, -1, "A progress line", NULL) ||
      !json_parser_load_from_data (parser, text, -1, NULL) || json_parser_get_root (parser) == NULL)
    return TRUE;
  return lines->func (json_parser_get_root (parser), lines->data, error);
}

static gboolean
lines_feed (const guint8  *data,
            gsize          length,
            gpointer       user_data,
            GError       **error)
{
  Lines *lines = user_data;

  while (length > 0)
    {
      const guint8 *newline = memchr (data, '\n', length);
      gsize n = newline ? (gsize) (newline - data) : length;

      if (!lines->skipping)
        {
          if (lines->line->len + n > MAX_JSON_LINE)
            {
              g_byte_array_set_size (lines->line, 0);
              lines->skipping = TRUE;
            }
          else
            g_byte_array_append (lines->line, data, n);
        }

      if (newline == NULL)
        break;
      if (!lines->skipping && !lines_emit (lines, error))
        return FALSE;
      lines->skipping = FALSE;
      data += n + 1;
      length -= n + 1;
    }
  return TRUE;
}

/**
 * llmsbx_engine_client_json_lines:
 * @self: a client
 * @method: HTTP method
 * @path: path and query
 * @content_type: (nullable): type of @body
 * @body: (nullable): request body
 * @line_func: receives each JSON value of the streamed answer
 * @line_func_data: data for @line_func
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Sends a request whose answer is a stream of JSON lines (image pulls and
 * builds) and hands each line on as it arrives.
 *
 * Returns: %FALSE with an error as for llmsbx_engine_client_send()
 */
gboolean
llmsbx_engine_client_json_lines (LlmsbxEngineClient    *self,
                                 const char            *method,
                                 const char            *path,
                                 const char            *content_type,
                                 GBytes                *body,
                                 LlmsbxEngineLineFunc   line_func,
                                 gpointer               line_func_data,
                                 GCancellable          *cancellable,
                                 GError               **error)
{
  Lines lines = { line_func, line_func_data, g_byte_array_new (), FALSE };
  LlmsbxEngineRequest request = {
    .method = method,
    .path = path,
    .content_type = content_type,
    .body = body,
    .body_func = lines_feed,
    .body_func_data = &lines,
  };
  gboolean ok;

  ok = llmsbx_engine_client_send (self, &request, NULL, NULL, cancellable, error);
  if (ok && !lines.skipping)
    ok = lines_emit (&lines, error);
  g_byte_array_unref (lines.line);
  return ok;
}

/* ---------------------------------------------------------------------------
 * Upgraded connections
 *
 * An exec with stdin needs the connection itself after the response header:
 * the engine hijacks it (protocols.md §1.9). libcurl only connects here
 * (CURLOPT_CONNECT_ONLY); the request is written by hand with
 * curl_easy_send(), so TLS works as for every other request, and the socket
 * is polled together with the cancellable and the deadline.
 * ------------------------------------------------------------------------ */

/* Longest response header of an upgraded request. */
#define MAX_UPGRADE_HEADER (64 * 1024)

typedef struct
{
  LlmsbxEngineClient        *self;
  const LlmsbxEngineRequest *request;
  CURL                      *easy;
  curl_socket_t              fd;
  GCancellable              *cancellable;
  GPollFD                    cancel_fd;
  gboolean                   has_cancel_fd;
  char                       errbuf[CURL_ERROR_SIZE];
} Upgrade;

static int
upgrade_progress (void       *data,
                  curl_off_t  dltotal,
                  curl_off_t  dlnow,
                  curl_off_t  ultotal,
                  curl_off_t  ulnow)
{
  Upgrade *u = data;

  return g_cancellable_is_cancelled (u->cancellable) ||
         (u->request->deadline > 0 && g_get_monotonic_time () >= u->request->deadline);
}

static gboolean
upgrade_timed_out (Upgrade  *u,
                   GError  **error)
{
  g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_TIMEOUT,
               "The %s did not answer %s %s before the deadline",
               u->self->engine_name, u->request->method, u->request->path);
  return FALSE;
}

/* Waits until the socket is ready for @events, the deadline passes or the
 * request is cancelled. */
static gboolean
upgrade_wait (Upgrade  *u,
              gushort   events,
              GError  **error)
{
  GPollFD fds[2] = { { .fd = (int) u->fd, .events = events | G_IO_ERR | G_IO_HUP }, u->cancel_fd };
  int timeout_ms = IDLE_POLL_MS;

  if (u->request->deadline > 0)
    {
      gint64 remaining = u->request->deadline - g_get_monotonic_time ();

      if (remaining <= 0)
        return upgrade_timed_out (u, error);
      timeout_ms = (int) MIN ((gint64) timeout_ms, (remaining + 999) / 1000);
    }

  if (g_poll (fds, u->has_cancel_fd ? 2 : 1, timeout_ms) < 0 && errno != EINTR)
    {
      int saved = errno;

      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_BACKEND_UNAVAILABLE,
                   "Lost the connection to the %s at %s: %s", u->self->engine_name,
                   u->self->settings.url, g_strerror (saved));
      return FALSE;
    }
  return !g_cancellable_set_error_if_cancelled (u->cancellable, error);
}

/* Writes some of @data (all of it unless the engine has something to say
 * first): *@sent is how much. */
static gboolean
upgrade_send (Upgrade      *u,
              const guint8 *data,
              gsize         length,
              gsize        *sent,
              GError      **error)
{
  size_t n = 0;
  CURLcode code = curl_easy_send (u->easy, data, length, &n);

  *sent = 0;
  if (code == CURLE_AGAIN)
    return TRUE;
  if (code != CURLE_OK)
    {
      set_transport_error (u->self, u->easy, code, u->errbuf, error);
      return FALSE;
    }
  *sent = n;
  return TRUE;
}

/* Reads what has arrived: *@got = 0 when nothing is there yet, and *@eof at
 * the end of the stream. */
static gboolean
upgrade_recv (Upgrade  *u,
              guint8   *buffer,
              gsize     size,
              gsize    *got,
              gboolean *eof,
              GError  **error)
{
  size_t n = 0;
  CURLcode code = curl_easy_recv (u->easy, buffer, size, &n);

  *got = 0;
  *eof = FALSE;
  if (code == CURLE_AGAIN)
    return TRUE;
  if (code != CURLE_OK)
    {
      set_transport_error (u->self, u->easy, code, u->errbuf, error);
      return FALSE;
    }
  *got = n;
  *eof = n == 0;
  return TRUE;
}

/* "HTTP/1.1 101 UPGRADED\r\n..." → 101; 0 when it is no status line. */
static guint
status_of (const guint8 *header,
           gsize         length)
{
  g_autofree char *line = g_strndup ((const char *) header, MIN (length, 64));
  char *space = strchr (line, ' ');
  guint64 status = 0;

  if (!g_str_has_prefix (line, "HTTP/1.") || space == NULL || strlen (space) < 4)
    return 0;
  space[4] = '\0';
  if (!g_ascii_string_to_unsigned (space + 1, 10, 100, 999, &status, NULL))
    return 0;
  return (guint) status;
}

/* Where the blank line that ends a response header starts, or NULL. */
static const guint8 *
header_end (const guint8 *data,
            gsize         length)
{
  for (gsize i = 0; i + 4 <= length; i++)
    if (data[i] == '\r' && memcmp (data + i, "\r\n\r\n", 4) == 0)
      return data + i;
  return NULL;
}

/* The Content-Length of a response header, or -1. */
static gint64
content_length_of (const char *header)
{
  g_auto(GStrv) lines = g_strsplit (header, "\r\n", -1);

  for (guint i = 1; lines[i] != NULL; i++)
    if (g_ascii_strncasecmp (lines[i], "content-length:", 15) == 0)
      {
        guint64 value = 0;
        g_autofree char *text = g_strstrip (g_strdup (lines[i] + 15));

        if (g_ascii_string_to_unsigned (text, 10, 0, G_MAXINT64, &value, NULL))
          return (gint64) value;
      }
  return -1;
}

/* The part of the exchange after the request went out: the response header,
 * then @input and the stream, until the engine closes the connection. */
static gboolean
upgrade_exchange (Upgrade  *u,
                  GBytes   *input,
                  GError  **error)
{
  g_autoptr(GByteArray) received = g_byte_array_new ();
  const guint8 *pending = NULL;
  gsize pending_length = 0;
  gsize body_start = 0;
  gint64 error_length = -1;
  gboolean closed_write = FALSE;
  guint status = 0;
  guint8 buffer[64 * 1024];

  if (input != NULL)
    pending = g_bytes_get_data (input, &pending_length);

  for (;;)
    {
      gsize got = 0;
      gboolean eof = FALSE;

      if (!upgrade_recv (u, buffer, sizeof buffer, &got, &eof, error))
        return FALSE;

      if (got > 0 && status == 0)
        {
          const guint8 *end;

          g_byte_array_append (received, buffer, got);
          end = header_end (received->data, received->len);
          if (end == NULL)
            {
              if (received->len > MAX_UPGRADE_HEADER)
                {
                  g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_PROTOCOL,
                               "The %s answered %s %s with a header longer than %d bytes",
                               u->self->engine_name, u->request->method, u->request->path,
                               MAX_UPGRADE_HEADER);
                  return FALSE;
                }
              continue;
            }
          status = status_of (received->data, received->len);
          if (status == 0)
            {
              g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_PROTOCOL,
                           "The %s answered %s %s with something that is not HTTP",
                           u->self->engine_name, u->request->method, u->request->path);
              return FALSE;
            }
          body_start = (end - received->data) + 4;
          if (status >= 400)
            {
              g_autofree char *header = g_strndup ((const char *) received->data, body_start);

              error_length = content_length_of (header);
              g_byte_array_remove_range (received, 0, body_start);
            }
          else if (status != 101 && status != 200)
            {
              g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_PROTOCOL,
                           "The %s answered %s %s with HTTP status %u instead of a stream",
                           u->self->engine_name, u->request->method, u->request->path, status);
              return FALSE;
            }
          else
            {
              /* Output that came with the header. */
              if (received->len > body_start &&
                  !u->request->body_func (received->data + body_start, received->len - body_start,
                                          u->request->body_func_data, error))
                return FALSE;
              g_byte_array_set_size (received, 0);
            }
        }
      else if (got > 0 && status >= 400)
        {
          if (received->len < MAX_ERROR_BODY)
            g_byte_array_append (received, buffer, MIN (got, MAX_ERROR_BODY - received->len));
        }
      else if (got > 0 && !u->request->body_func (buffer, got, u->request->body_func_data, error))
        return FALSE;

      if (status >= 400 && (eof || (error_length >= 0 && (gint64) received->len >= MIN (error_length, MAX_ERROR_BODY))))
        {
          g_propagate_error (error, engine_error (status, received));
          return FALSE;
        }
      if (eof)
        {
          if (status != 0)
            return TRUE;
          g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_BACKEND_UNAVAILABLE,
                       "The %s at %s closed the connection without answering %s %s",
                       u->self->engine_name, u->self->settings.url, u->request->method, u->request->path);
          return FALSE;
        }

      /* Input goes only once the engine has answered: what it would read
       * before taking the connection over could be lost. */
      if (status == 101 || status == 200)
        {
          while (pending_length > 0)
            {
              gsize sent = 0;

              if (!upgrade_send (u, pending, pending_length, &sent, error))
                return FALSE;
              if (sent == 0)
                break;
              pending += sent;
              pending_length -= sent;
            }
          /* End of input. libcurl cannot close one side of a TLS connection,
           * so there the program sees the data but no end of it. */
          if (pending_length == 0 && !closed_write)
            {
              closed_write = TRUE;
              if (!g_str_has_prefix (u->self->base_url, "https:"))
                shutdown (u->fd, SHUT_WR);
            }
        }

      if (got == 0 && !upgrade_wait (u, G_IO_IN | (pending_length > 0 ? G_IO_OUT : 0), error))
        return FALSE;
    }
}

/* Connects on a connection of its own and sends @request asking the engine
 * to take the connection over. On success u->easy and u->fd are set, and
 * u->cancel_fd when @cancellable has one: the caller releases both. */
static gboolean
upgrade_open (Upgrade                    *u,
              const LlmsbxEngineRequest  *request,
              GError                    **error)
{
  LlmsbxEngineClient *self = u->self;
  g_autofree char *url = NULL;
  g_autoptr(GString) head = g_string_new (NULL);
  const char *authority;
  gsize body_length = 0;
  const guint8 *body = NULL;
  curl_socket_t fd = CURL_SOCKET_BAD;
  CURLcode code;

  url = build_url (self, request->path);
  u->easy = curl_easy_init ();
  if (u->easy == NULL)
    g_error ("libcurl could not allocate a handle");
  setup_connection (self, u->easy, url, u->errbuf);
  curl_easy_setopt (u->easy, CURLOPT_CONNECT_ONLY, 1L);
  curl_easy_setopt (u->easy, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt (u->easy, CURLOPT_XFERINFOFUNCTION, upgrade_progress);
  curl_easy_setopt (u->easy, CURLOPT_XFERINFODATA, u);

  if (self->hook != NULL)
    self->hook (self->hook_data);
  g_debug ("%s %s (upgraded)", request->method, url);

  /* Connecting (and the TLS handshake) blocks, bounded by the connect
   * timeout; the progress callback stops it at cancellation or the deadline. */
  code = curl_easy_perform (u->easy);
  if (code == CURLE_ABORTED_BY_CALLBACK && g_cancellable_set_error_if_cancelled (u->cancellable, error))
    return FALSE;
  if (code == CURLE_ABORTED_BY_CALLBACK)
    return upgrade_timed_out (u, error);
  if (code != CURLE_OK)
    {
      set_transport_error (self, u->easy, code, u->errbuf, error);
      return FALSE;
    }
  if (curl_easy_getinfo (u->easy, CURLINFO_ACTIVESOCKET, &fd) != CURLE_OK || fd == CURL_SOCKET_BAD)
    {
      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_BACKEND_UNAVAILABLE,
                   "Lost the connection to the %s at %s", self->engine_name, self->settings.url);
      return FALSE;
    }
  u->fd = fd;
  u->has_cancel_fd = g_cancellable_make_pollfd (u->cancellable, &u->cancel_fd);

  /* The path as libcurl would send it: after the scheme and authority. */
  authority = strstr (self->base_url, "://") + 3;
  if (request->body != NULL)
    body = g_bytes_get_data (request->body, &body_length);
  g_string_append_printf (head,
                          "%s %s HTTP/1.1\r\n"
                          "Host: %s\r\n"
                          "User-Agent: libllmsbx\r\n"
                          "Connection: Upgrade\r\n"
                          "Upgrade: tcp\r\n"
                          "Content-Length: %" G_GSIZE_FORMAT "\r\n",
                          request->method, url + strlen (self->base_url), authority, body_length);
  if (request->content_type != NULL)
    g_string_append_printf (head, "Content-Type: %s\r\n", request->content_type);
  g_string_append (head, "\r\n");
  if (body_length > 0)
    g_string_append_len (head, (const char *) body, body_length);

  {
    const guint8 *data = (const guint8 *) head->str;
    gsize left = head->len;

    while (left > 0)
      {
        gsize sent = 0;

        if (!upgrade_send (u, data, left, &sent, error))
          return FALSE;
        if (sent == 0 && !upgrade_wait (u, G_IO_OUT, error))
          return FALSE;
        data += sent;
        left -= sent;
      }
  }
  return TRUE;
}

static void
upgrade_release_cancellable (Upgrade *u)
{
  if (u->has_cancel_fd)
    g_cancellable_release_fd (u->cancellable);
  u->has_cancel_fd = FALSE;
  u->cancellable = NULL;
}

/**
 * llmsbx_engine_client_send_upgraded:
 * @self: a client
 * @request: the request; the stream that follows a successful answer goes to
 *   its body function, which must be set
 * @input: (nullable): bytes written on the connection once the engine has
 *   answered (an exec's standard input)
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Sends @request on a connection of its own, asking the engine to take the
 * connection over (`Connection: Upgrade`, `Upgrade: tcp`), as exec start and
 * attach do for standard input. Once the engine answers, writes @input and
 * closes the writing side (except over TLS, where libcurl cannot close one
 * side alone), and hands everything the engine sends on to the request's
 * body function until the engine closes the connection. The connection is
 * never reused.
 *
 * Returns: %FALSE with an error as for llmsbx_engine_client_send()
 */
gboolean
llmsbx_engine_client_send_upgraded (LlmsbxEngineClient         *self,
                                    const LlmsbxEngineRequest  *request,
                                    GBytes                     *input,
                                    GCancellable               *cancellable,
                                    GError                    **error)
{
  Upgrade u = { .self = self, .request = request, .cancellable = cancellable };
  gboolean ok;

  g_return_val_if_fail (request->body_func != NULL, FALSE);

  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return FALSE;

  ok = upgrade_open (&u, request, error) && upgrade_exchange (&u, input, error);

  upgrade_release_cancellable (&u);
  curl_easy_cleanup (u.easy);
  return ok;
}

/* ---------------------------------------------------------------------------
 * Attached connections
 *
 * The same upgraded connection, handed to the caller once the engine
 * answered: an exec stream writes and reads it as its command runs. Bytes
 * that arrive while a write waits for room are kept for the next read, so a
 * command that writes before it reads cannot deadlock its writer.
 * ------------------------------------------------------------------------ */

struct _LlmsbxEngineConnection
{
  LlmsbxEngineClient  *client;
  LlmsbxEngineRequest  request;  /* method, path and the deadline of the call */
  char                *method;
  char                *path;
  Upgrade              u;
  GByteArray          *pending;  /* received, not read yet */
  gboolean             eof;
  gboolean             write_closed;
};

void
llmsbx_engine_connection_free (LlmsbxEngineConnection *self)
{
  if (self == NULL)
    return;
  if (self->u.easy != NULL)
    curl_easy_cleanup (self->u.easy);
  g_byte_array_unref (self->pending);
  g_free (self->method);
  g_free (self->path);
  llmsbx_engine_client_unref (self->client);
  g_free (self);
}

/* Sets up a call: its deadline and cancellable. */
static void
connection_begin (LlmsbxEngineConnection *self,
                  gint64                  deadline,
                  GCancellable           *cancellable)
{
  self->request.deadline = deadline;
  self->u.cancellable = cancellable;
  self->u.has_cancel_fd = g_cancellable_make_pollfd (cancellable, &self->u.cancel_fd);
}

/* Reads what arrived into self->pending; *@got says how much. */
static gboolean
connection_pull (LlmsbxEngineConnection  *self,
                 gsize                   *got,
                 GError                 **error)
{
  guint8 buffer[64 * 1024];
  gboolean eof = FALSE;

  *got = 0;
  if (self->eof)
    return TRUE;
  if (!upgrade_recv (&self->u, buffer, sizeof buffer, got, &eof, error))
    return FALSE;
  if (eof)
    self->eof = TRUE;
  g_byte_array_append (self->pending, buffer, *got);
  return TRUE;
}

/**
 * llmsbx_engine_client_open_upgraded:
 * @self: a client
 * @request: the request; its body function is not used
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Sends @request as llmsbx_engine_client_send_upgraded() does and returns
 * the connection once the engine has answered, for the caller to write and
 * read as long as it needs. The request's deadline bounds the answer.
 *
 * Returns: (transfer full) (nullable): the connection
 */
LlmsbxEngineConnection *
llmsbx_engine_client_open_upgraded (LlmsbxEngineClient         *self,
                                    const LlmsbxEngineRequest  *request,
                                    GCancellable               *cancellable,
                                    GError                    **error)
{
  g_autoptr(LlmsbxEngineConnection) connection = g_new0 (LlmsbxEngineConnection, 1);
  gsize body_start = 0;
  gint64 error_length = -1;
  guint status = 0;

  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return NULL;

  connection->client = llmsbx_engine_client_ref (self);
  connection->method = g_strdup (request->method);
  connection->path = g_strdup (request->path);
  connection->request.method = connection->method;
  connection->request.path = connection->path;
  connection->request.deadline = request->deadline;
  connection->pending = g_byte_array_new ();
  connection->u.self = self;
  connection->u.request = &connection->request;
  connection->u.cancellable = cancellable;

  if (!upgrade_open (&connection->u, request, error))
    {
      upgrade_release_cancellable (&connection->u);
      return NULL;
    }

  /* The response header, and for an error the body that explains it. */
  for (;;)
    {
      gsize got = 0;

      if (!connection_pull (connection, &got, error))
        break;
      if (status == 0)
        {
          const guint8 *end = header_end (connection->pending->data, connection->pending->len);

          if (end == NULL && connection->pending->len > MAX_UPGRADE_HEADER)
            {
              g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_PROTOCOL,
                           "The %s answered %s %s with a header longer than %d bytes",
                           self->engine_name, request->method, request->path, MAX_UPGRADE_HEADER);
              break;
            }
          if (end != NULL)
            {
              g_autofree char *header = NULL;

              status = status_of (connection->pending->data, connection->pending->len);
              if (status == 0)
                {
                  g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_PROTOCOL,
                               "The %s answered %s %s with something that is not HTTP",
                               self->engine_name, request->method, request->path);
                  break;
                }
              body_start = (end - connection->pending->data) + 4;
              header = g_strndup ((const char *) connection->pending->data, body_start);
              error_length = content_length_of (header);
              g_byte_array_remove_range (connection->pending, 0, body_start);
              if (status == 101 || status == 200)
                {
                  upgrade_release_cancellable (&connection->u);
                  return g_steal_pointer (&connection);
                }
              if (status < 400)
                {
                  g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_PROTOCOL,
                               "The %s answered %s %s with HTTP status %u instead of a stream",
                               self->engine_name, request->method, request->path, status);
                  break;
                }
            }
        }
      if (status >= 400 &&
          (connection->eof || connection->pending->len >= MAX_ERROR_BODY ||
           (error_length >= 0 && (gint64) connection->pending->len >= error_length)))
        {
          g_byte_array_set_size (connection->pending, MIN (connection->pending->len, MAX_ERROR_BODY));
          g_propagate_error (error, engine_error (status, connection->pending));
          break;
        }
      if (connection->eof)
        {
          g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_BACKEND_UNAVAILABLE,
                       "The %s at %s closed the connection without answering %s %s",
                       self->engine_name, self->settings.url, request->method, request->path);
          break;
        }
      if (got == 0 && !upgrade_wait (&connection->u, G_IO_IN, error))
        break;
    }

  upgrade_release_cancellable (&connection->u);
  return NULL;
}

/**
 * llmsbx_engine_connection_send:
 * @self: a connection
 * @data: (array length=length): bytes to write
 * @length: their number
 * @deadline: monotonic time (µs) at which it fails with %LLMSBX_ERROR_TIMEOUT; 0 for none
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Writes all of @data, keeping what arrives meanwhile for
 * llmsbx_engine_connection_recv().
 *
 * Returns: %TRUE on success
 */
gboolean
llmsbx_engine_connection_send (LlmsbxEngineConnection  *self,
                               const guint8            *data,
                               gsize                    length,
                               gint64                   deadline,
                               GCancellable            *cancellable,
                               GError                 **error)
{
  gboolean ok = TRUE;

  connection_begin (self, deadline, cancellable);
  while (ok && length > 0)
    {
      gsize sent = 0;
      gsize got = 0;

      ok = upgrade_send (&self->u, data, length, &sent, error);
      if (ok && sent == 0)
        ok = connection_pull (self, &got, error) &&
             (got > 0 || upgrade_wait (&self->u, G_IO_OUT | (self->eof ? 0 : G_IO_IN), error));
      data += sent;
      length -= sent;
    }
  upgrade_release_cancellable (&self->u);
  return ok;
}

/**
 * llmsbx_engine_connection_close_write:
 * @self: a connection
 *
 * Ends the writing side, except over TLS, where libcurl cannot close one
 * side alone (the engine then sees no end of what was written).
 */
void
llmsbx_engine_connection_close_write (LlmsbxEngineConnection *self)
{
  if (self->write_closed)
    return;
  self->write_closed = TRUE;
  if (!g_str_has_prefix (self->client->base_url, "https:"))
    shutdown (self->u.fd, SHUT_WR);
}

/**
 * llmsbx_engine_connection_recv:
 * @self: a connection
 * @deadline: monotonic time (µs) at which it fails with %LLMSBX_ERROR_TIMEOUT; 0 for none
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Blocks until something arrives.
 *
 * Returns: (transfer full) (nullable): what arrived, or %NULL without an
 *   error when the engine closed the connection
 */
GBytes *
llmsbx_engine_connection_recv (LlmsbxEngineConnection  *self,
                               gint64                   deadline,
                               GCancellable            *cancellable,
                               GError                 **error)
{
  gboolean ok = TRUE;

  connection_begin (self, deadline, cancellable);
  while (ok && self->pending->len == 0 && !self->eof)
    {
      gsize got = 0;

      ok = connection_pull (self, &got, error) &&
           (got > 0 || self->eof || upgrade_wait (&self->u, G_IO_IN, error));
    }
  upgrade_release_cancellable (&self->u);
  if (!ok)
    return NULL;
  if (self->pending->len == 0)
    return NULL;
  {
    GBytes *bytes = g_bytes_new (self->pending->data, self->pending->len);

    g_byte_array_set_size (self->pending, 0);
    return bytes;
  }
}
