/* llmsbx-mcp-http.c: MCP over Streamable HTTP, on libsoup's SoupServer.
 *
 * One endpoint. A POST carries one message (or, for clients of 2025-03-26, a
 * batch): notifications and responses get 202; requests get their reply as
 * application/json, or, for tools/call when the client takes it, as a
 * text/event-stream that carries the one reply, so long runs do not look
 * like a stalled response. initialize makes a client with a fresh,
 * unguessable Mcp-Session-Id; every later request must carry it (400
 * without, 404 for one that ended). DELETE ends a client; GET gets 405, as
 * this server sends nothing unasked.
 *
 * Before the body is read, the early handler refuses what must not get
 * further: a Host or Origin that is not this machine's when bound to
 * loopback (DNS rebinding: a web page must not reach a local server through
 * the visitor's browser), a missing or wrong bearer token (401), and bodies
 * without a length or longer than a message may be (411, 413). */
#include <errno.h>
#include <string.h>
#include <sys/random.h>
#include <libsoup/soup.h>

#include "llmsbx-jsonrpc.h"
#include "llmsbx-mcp-http.h"

#define SESSION_HEADER "Mcp-Session-Id"
#define VERSION_HEADER "MCP-Protocol-Version"

typedef struct {
  guint          ref_count;
  LlmsbxMcpHttp *http;       /* not a reference: clients go before it */
  char          *id;
  LlmsbxMcpPeer *peer;
  guint          posts;      /* POSTs being answered */
  GSource       *expiry;
  gboolean       removed;
} HttpClient;

struct _LlmsbxMcpHttp
{
  GObject parent_instance;

  LlmsbxMcpServer *server;
  SoupServer      *soup;
  gsize            max_message_size;
  char            *token;
  GPtrArray       *allowed_origins;
  guint            max_clients;
  double           client_timeout;
  gboolean         loopback;       /* bound to a loopback address */
  GHashTable      *clients;        /* Mcp-Session-Id → HttpClient */
};

G_DEFINE_FINAL_TYPE (LlmsbxMcpHttp, llmsbx_mcp_http, G_TYPE_OBJECT)

/* Replies ---------------------------------------------------------------- */

static void
respond_json (SoupServerMessage *msg,
              guint              status,
              JsonNode          *message)
{
  gsize length;
  char *text = llmsbx_jsonrpc_to_string (message, &length);

  soup_server_message_set_status (msg, status, NULL);
  soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_TAKE, text, length);
}

/* An HTTP error with a JSON-RPC error without id, which the spec allows and
 * which clients show their users. */
static void
respond_error (SoupServerMessage *msg,
               guint              status,
               int                code,
               const char        *message)
{
  g_autoptr(GError) error = g_error_new_literal (LLMSBX_JSONRPC_ERROR, code, message);
  g_autoptr(JsonNode) reply = llmsbx_jsonrpc_error_new (NULL, error, NULL);

  respond_json (msg, status, reply);
}

/* Clients ---------------------------------------------------------------- */

static HttpClient *
client_ref (HttpClient *client)
{
  client->ref_count++;
  return client;
}

static void
client_unref (HttpClient *client)
{
  if (--client->ref_count > 0)
    return;
  g_assert (client->expiry == NULL);
  g_free (client->id);
  g_object_unref (client->peer);
  g_free (client);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (HttpClient, client_unref)

static void
destroy_expiry (HttpClient *client)
{
  if (client->expiry == NULL)
    return;
  g_source_destroy (client->expiry);
  g_clear_pointer (&client->expiry, g_source_unref);
}

/* The client ends: its calls are cancelled and its sessions closed. */
static void
client_remove (HttpClient *client,
               const char *why)
{
  if (client->removed)
    return;
  client->removed = TRUE;
  destroy_expiry (client);
  g_debug ("MCP client %.8s…: %s", client->id, why);
  llmsbx_mcp_peer_close (client->peer);
  g_hash_table_remove (client->http->clients, client->id);
}

static gboolean
on_client_expired (gpointer user_data)
{
  HttpClient *client = user_data;

  g_clear_pointer (&client->expiry, g_source_unref);
  client_remove (client, "idle for too long");
  return G_SOURCE_REMOVE;
}

/* A client without a POST in progress is forgotten after a while: HTTP
 * clients may vanish without DELETE, and their sandboxes must not stay. */
static void
client_arm_expiry (HttpClient *client)
{
  double seconds = client->http->client_timeout;

  destroy_expiry (client);
  if (client->removed || client->posts > 0 || seconds <= 0)
    return;
  client->expiry = g_timeout_source_new ((guint) MIN (seconds * 1000, G_MAXUINT));
  g_source_set_callback (client->expiry, on_client_expired, client, NULL);
  g_source_attach (client->expiry, g_main_context_get_thread_default ());
}

static char *
new_session_id (GError **error)
{
  guint8 random[16];
  GString *id = g_string_sized_new (2 * sizeof random);

  if (getrandom (random, sizeof random, 0) != sizeof random)
    {
      int saved_errno = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                   "Could not make a session id: %s", g_strerror (saved_errno));
      g_string_free (id, TRUE);
      return NULL;
    }
  for (gsize i = 0; i < sizeof random; i++)
    g_string_append_printf (id, "%02x", random[i]);
  return g_string_free (id, FALSE);
}

static HttpClient *
client_new (LlmsbxMcpHttp  *self,
            GError        **error)
{
  g_autofree char *id = new_session_id (error);
  g_autofree char *owner = NULL;
  HttpClient *client;

  if (id == NULL)
    return NULL;
  owner = g_strdup_printf ("mcp:http:%s", id);
  client = g_new0 (HttpClient, 1);
  client->ref_count = 1;
  client->http = self;
  client->id = g_steal_pointer (&id);
  client->peer = llmsbx_mcp_peer_new (self->server, owner);
  return client;
}

/* Checks before the body --------------------------------------------------- */

static gboolean
is_loopback_host (const char *host)
{
  g_autoptr(GInetAddress) address = NULL;

  if (g_ascii_strcasecmp (host, "localhost") == 0)
    return TRUE;
  address = g_inet_address_new_from_string (host);
  return address != NULL && g_inet_address_get_is_loopback (address);
}

/* A Host header names this machine: `127.0.0.1:8000`, `[::1]:8000`, `localhost`. */
static gboolean
host_allowed (const char *host)
{
  g_autofree char *text = NULL;
  g_autoptr(GUri) uri = NULL;

  if (host == NULL)
    return FALSE;
  text = g_strconcat ("http://", host, NULL);
  uri = g_uri_parse (text, G_URI_FLAGS_NONE, NULL);
  return uri != NULL && g_uri_get_userinfo (uri) == NULL && *g_uri_get_path (uri) == '\0' &&
         g_uri_get_query (uri) == NULL && g_uri_get_fragment (uri) == NULL &&
         is_loopback_host (g_uri_get_host (uri));
}

/* Browsers send Origin; other clients do not. A page of this machine may
 * call, and those the operator allowed. */
static gboolean
origin_allowed (LlmsbxMcpHttp *self,
                const char    *origin)
{
  g_autoptr(GUri) uri = NULL;
  const char *scheme;

  for (guint i = 0; i < self->allowed_origins->len; i++)
    if (g_str_equal (self->allowed_origins->pdata[i], origin))
      return TRUE;
  uri = g_uri_parse (origin, G_URI_FLAGS_NONE, NULL);
  if (uri == NULL || g_uri_get_host (uri) == NULL)
    return FALSE;
  scheme = g_uri_get_scheme (uri);
  return (g_str_equal (scheme, "http") || g_str_equal (scheme, "https")) && is_loopback_host (g_uri_get_host (uri));
}

/* Compares in time independent of where the strings differ. */
static gboolean
token_matches (const char *expected,
               const char *given)
{
  gsize length = strlen (expected);
  gsize given_length = strlen (given);
  guint8 difference = length != given_length;

  for (gsize i = 0; i < length; i++)
    difference |= (guint8) expected[i] ^ (guint8) (i < given_length ? given[i] : 0);
  return difference == 0;
}

static gboolean
authorized (LlmsbxMcpHttp     *self,
            SoupMessageHeaders *headers)
{
  const char *value = soup_message_headers_get_one (headers, "Authorization");

  if (self->token == NULL)
    return TRUE;
  if (value == NULL || g_ascii_strncasecmp (value, "Bearer ", 7) != 0)
    return FALSE;
  value += 7;
  while (*value == ' ')
    value++;
  return token_matches (self->token, value);
}

static gboolean
accepts (SoupMessageHeaders *headers,
         const char         *type)
{
  const char *accept = soup_message_headers_get_list (headers, "Accept");

  /* No Accept header takes anything. */
  return accept == NULL || soup_header_contains (accept, type) || soup_header_contains (accept, "*/*");
}

/* libsoup reads the body of a request it will refuse all the same (unless
 * the client asked to Expect: 100-continue): it is dropped as it arrives,
 * so a refused body costs no memory, and the connection closes after. */
static void
refuse (SoupServerMessage *msg,
        guint              status,
        const char        *message)
{
  soup_message_body_set_accumulate (soup_server_message_get_request_body (msg), FALSE);
  soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Connection", "close");
  respond_error (msg, status, LLMSBX_JSONRPC_ERROR_INVALID_REQUEST, message);
}

static void
on_early (SoupServer        *soup,
          SoupServerMessage *msg,
          const char        *path,
          GHashTable        *query,
          gpointer           user_data)
{
  LlmsbxMcpHttp *self = user_data;
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  SoupMessageHeaders *response = soup_server_message_get_response_headers (msg);
  const char *method = soup_server_message_get_method (msg);
  const char *origin = soup_message_headers_get_one (headers, "Origin");
  g_autofree char *content_type = NULL;

  if (self->loopback && !host_allowed (soup_message_headers_get_one (headers, "Host")))
    {
      refuse (msg, SOUP_STATUS_FORBIDDEN, "The Host header does not name this machine");
      return;
    }
  if (origin != NULL && !origin_allowed (self, origin))
    {
      refuse (msg, SOUP_STATUS_FORBIDDEN, "Requests from this Origin are not allowed");
      return;
    }
  if (!g_str_equal (path, LLMSBX_MCP_HTTP_PATH))
    {
      refuse (msg, SOUP_STATUS_NOT_FOUND, "The MCP endpoint is " LLMSBX_MCP_HTTP_PATH);
      return;
    }
  if (!authorized (self, headers))
    {
      soup_message_headers_replace (response, "WWW-Authenticate", "Bearer realm=\"llmsbx\"");
      refuse (msg, SOUP_STATUS_UNAUTHORIZED, "A valid bearer token is needed");
      return;
    }
  if (g_str_equal (method, "DELETE"))
    return;
  if (!g_str_equal (method, "POST"))
    {
      /* GET too: this server sends nothing unasked, so it has no stream. */
      soup_message_headers_replace (response, "Allow", "POST, DELETE");
      refuse (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "The MCP endpoint takes POST and DELETE");
      return;
    }

  if (soup_message_headers_get_encoding (headers) != SOUP_ENCODING_CONTENT_LENGTH)
    {
      refuse (msg, SOUP_STATUS_LENGTH_REQUIRED, "A message needs a Content-Length");
      return;
    }
  if ((guint64) soup_message_headers_get_content_length (headers) > self->max_message_size)
    {
      g_autofree char *text = g_strdup_printf ("A message may have at most %" G_GSIZE_FORMAT " bytes",
                                               self->max_message_size);

      refuse (msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, text);
      return;
    }
  content_type = g_strdup (soup_message_headers_get_content_type (headers, NULL));
  if (content_type == NULL || g_ascii_strcasecmp (content_type, "application/json") != 0)
    {
      refuse (msg, SOUP_STATUS_UNSUPPORTED_MEDIA_TYPE, "A message must be application/json");
      return;
    }
  if (!accepts (headers, "application/json") && !accepts (headers, "text/event-stream"))
    {
      refuse (msg, SOUP_STATUS_NOT_ACCEPTABLE, "Replies are application/json or text/event-stream");
      return;
    }
}

/* POST --------------------------------------------------------------------- */

typedef struct {
  LlmsbxMcpHttp     *http;
  HttpClient        *client;
  SoupServerMessage *msg;
  gulong             finished_handler;
  gulong             disconnected_handler;
  gboolean           finished;     /* the connection is gone */
  gboolean           stream;       /* answering with text/event-stream */
  gboolean           initialize;   /* the client exists once this succeeds */
} Post;

static void
on_post_finished (SoupServerMessage *msg,
                  gpointer           user_data)
{
  Post *post = user_data;

  post->finished = TRUE;
}

static Post *
post_new (LlmsbxMcpHttp     *self,
          HttpClient        *client,
          SoupServerMessage *msg)
{
  Post *post = g_new0 (Post, 1);

  post->http = g_object_ref (self);
  post->client = client_ref (client);
  post->msg = g_object_ref (msg);
  /* A client may leave before its answer (which does not cancel the call,
   * as the spec says): the message is not touched again. */
  post->finished_handler = g_signal_connect (msg, "finished", G_CALLBACK (on_post_finished), post);
  post->disconnected_handler = g_signal_connect (msg, "disconnected", G_CALLBACK (on_post_finished), post);
  client->posts++;
  destroy_expiry (client);
  return post;
}

static void
post_free (Post *post)
{
  post->client->posts--;
  client_arm_expiry (post->client);
  g_signal_handler_disconnect (post->msg, post->finished_handler);
  g_signal_handler_disconnect (post->msg, post->disconnected_handler);
  g_object_unref (post->msg);
  client_unref (post->client);
  g_object_unref (post->http);
  g_free (post);
}

static void
stream_event (SoupServerMessage *msg,
              JsonNode          *message)
{
  SoupMessageBody *body = soup_server_message_get_response_body (msg);
  g_autofree char *text = llmsbx_jsonrpc_to_string (message, NULL);
  char *event = g_strdup_printf ("event: message\ndata: %s\n\n", text);

  soup_message_body_append (body, SOUP_MEMORY_TAKE, event, strlen (event));
}

static gboolean
is_success (JsonNode *reply)
{
  return reply != NULL && JSON_NODE_HOLDS_OBJECT (reply) &&
         json_object_has_member (json_node_get_object (reply), "result");
}

static void
on_post_handled (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  Post *post = user_data;
  LlmsbxMcpHttp *self = post->http;
  HttpClient *client = post->client;
  g_autoptr(JsonNode) reply = llmsbx_mcp_peer_handle_finish (LLMSBX_MCP_PEER (source), result);

  if (post->initialize)
    {
      if (is_success (reply) && !client->removed)
        {
          g_hash_table_insert (self->clients, client->id, client_ref (client));
          soup_message_headers_replace (soup_server_message_get_response_headers (post->msg),
                                        SESSION_HEADER, client->id);
        }
      else
        {
          client->removed = TRUE;
          llmsbx_mcp_peer_close (client->peer);
        }
    }

  if (!post->finished)
    {
      if (post->stream)
        {
          /* A request the client cancelled ends its stream without a reply. */
          if (reply != NULL)
            stream_event (post->msg, reply);
          soup_message_body_complete (soup_server_message_get_response_body (post->msg));
        }
      else if (reply != NULL)
        respond_json (post->msg, SOUP_STATUS_OK, reply);
      else
        respond_error (post->msg, SOUP_STATUS_OK, LLMSBX_JSONRPC_ERROR_REQUEST_CANCELLED,
                       "The request was cancelled");
      soup_server_message_unpause (post->msg);
    }
  post_free (post);
}

/* Whether a POST gets an answer: requests do, and so does anything that
 * is not a notification or response, to get its error. */
static gboolean
has_requests (JsonNode *message)
{
  if (JSON_NODE_HOLDS_ARRAY (message))
    {
      JsonArray *array = json_node_get_array (message);

      if (json_array_get_length (array) == 0)
        return TRUE;
      for (guint i = 0; i < json_array_get_length (array); i++)
        if (has_requests (json_array_get_element (array, i)))
          return TRUE;
      return FALSE;
    }
  if (!JSON_NODE_HOLDS_OBJECT (message))
    return TRUE;
  return (!json_object_has_member (json_node_get_object (message), "result") &&
          !json_object_has_member (json_node_get_object (message), "error")) &&
         (json_object_has_member (json_node_get_object (message), "id") ||
          !json_object_has_member (json_node_get_object (message), "method"));
}

static void
handle_post (LlmsbxMcpHttp     *self,
             SoupServerMessage *msg)
{
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  const char *session = soup_message_headers_get_one (headers, SESSION_HEADER);
  const char *version = soup_message_headers_get_one (headers, VERSION_HEADER);
  g_autoptr(GBytes) body = soup_message_body_flatten (soup_server_message_get_request_body (msg));
  g_autoptr(JsonNode) message = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(HttpClient) client = NULL;
  gboolean initialize;
  gsize length;
  const char *data = g_bytes_get_data (body, &length);
  Post *post;

  message = llmsbx_jsonrpc_parse (data ? data : "", length, self->max_message_size, &error);
  if (message == NULL)
    {
      g_autoptr(JsonNode) reply = llmsbx_jsonrpc_error_new (NULL, error, NULL);

      respond_json (msg, SOUP_STATUS_BAD_REQUEST, reply);
      return;
    }

  initialize = llmsbx_jsonrpc_is_request (message, "initialize");
  if (initialize)
    {
      if (session != NULL)
        {
          respond_error (msg, SOUP_STATUS_BAD_REQUEST, LLMSBX_JSONRPC_ERROR_INVALID_REQUEST,
                         "initialize starts a session and must not carry " SESSION_HEADER);
          return;
        }
      if (g_hash_table_size (self->clients) >= self->max_clients)
        {
          respond_error (msg, SOUP_STATUS_SERVICE_UNAVAILABLE, LLMSBX_JSONRPC_ERROR_INTERNAL_ERROR,
                         "This server has as many clients as it takes; try again later");
          return;
        }
      client = client_new (self, &error);
      if (client == NULL)
        {
          respond_error (msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, LLMSBX_JSONRPC_ERROR_INTERNAL_ERROR,
                         error->message);
          return;
        }
    }
  else
    {
      HttpClient *known;

      if (session == NULL)
        {
          respond_error (msg, SOUP_STATUS_BAD_REQUEST, LLMSBX_JSONRPC_ERROR_INVALID_REQUEST,
                         "Messages after initialize must carry " SESSION_HEADER);
          return;
        }
      known = g_hash_table_lookup (self->clients, session);
      if (known == NULL)
        {
          respond_error (msg, SOUP_STATUS_NOT_FOUND, LLMSBX_JSONRPC_ERROR_INVALID_REQUEST,
                         "This session ended or never began: initialize a new one");
          return;
        }
      if (version != NULL && !llmsbx_mcp_version_is_supported (version))
        {
          respond_error (msg, SOUP_STATUS_BAD_REQUEST, LLMSBX_JSONRPC_ERROR_INVALID_REQUEST,
                         "Unsupported " VERSION_HEADER);
          return;
        }
      client = client_ref (known);
    }

  post = post_new (self, client, msg);
  post->initialize = initialize;

  if (!has_requests (message) &&
      !(JSON_NODE_HOLDS_ARRAY (message) &&
        !llmsbx_mcp_version_allows_batches (llmsbx_mcp_peer_get_protocol_version (client->peer))))
    {
      /* Notifications and responses are taken at once; nothing goes back. */
      soup_server_message_set_status (msg, SOUP_STATUS_ACCEPTED, NULL);
      post->finished = TRUE;
      llmsbx_mcp_peer_handle_async (client->peer, message, on_post_handled, post);
      return;
    }

  post->stream = llmsbx_jsonrpc_is_request (message, "tools/call") && accepts (headers, "text/event-stream");
  if (post->stream)
    {
      SoupMessageHeaders *response = soup_server_message_get_response_headers (msg);

      /* Headers now; the one event when the tool is done. */
      soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
      soup_message_headers_set_content_type (response, "text/event-stream", NULL);
      soup_message_headers_replace (response, "Cache-Control", "no-cache");
      soup_message_headers_set_encoding (response, SOUP_ENCODING_CHUNKED);
    }
  else
    soup_server_message_pause (msg);

  llmsbx_mcp_peer_handle_async (client->peer, message, on_post_handled, post);
}

static void
handle_delete (LlmsbxMcpHttp     *self,
               SoupServerMessage *msg)
{
  const char *session = soup_message_headers_get_one (soup_server_message_get_request_headers (msg),
                                                      SESSION_HEADER);
  HttpClient *client;

  if (session == NULL)
    {
      respond_error (msg, SOUP_STATUS_BAD_REQUEST, LLMSBX_JSONRPC_ERROR_INVALID_REQUEST,
                     "DELETE ends the session its " SESSION_HEADER " names");
      return;
    }
  client = g_hash_table_lookup (self->clients, session);
  if (client == NULL)
    {
      respond_error (msg, SOUP_STATUS_NOT_FOUND, LLMSBX_JSONRPC_ERROR_INVALID_REQUEST,
                     "This session ended or never began");
      return;
    }
  client_remove (client, "ended by the client");
  soup_server_message_set_status (msg, SOUP_STATUS_NO_CONTENT, NULL);
}

static void
on_request (SoupServer        *soup,
            SoupServerMessage *msg,
            const char        *path,
            GHashTable        *query,
            gpointer           user_data)
{
  LlmsbxMcpHttp *self = user_data;

  /* The early handler refused what it answered already. */
  if (soup_server_message_get_status (msg) != 0)
    return;
  if (g_str_equal (soup_server_message_get_method (msg), "DELETE"))
    handle_delete (self, msg);
  else
    handle_post (self, msg);
}

/* API -------------------------------------------------------------------- */

/**
 * llmsbx_mcp_http_new:
 * @server: the server
 * @max_message_size: the largest body taken, in bytes
 *
 * Returns: (transfer full): the transport, not yet listening
 */
LlmsbxMcpHttp *
llmsbx_mcp_http_new (LlmsbxMcpServer *server,
                     gsize            max_message_size)
{
  LlmsbxMcpHttp *self = g_object_new (LLMSBX_TYPE_MCP_HTTP, NULL);

  self->server = g_object_ref (server);
  self->max_message_size = max_message_size;
  self->soup = soup_server_new ("server-header", "llmsbx-mcp ", NULL);
  soup_server_add_early_handler (self->soup, NULL, on_early, self, NULL);
  soup_server_add_handler (self->soup, NULL, on_request, self, NULL);
  return self;
}

/**
 * llmsbx_mcp_http_set_token:
 * @self: a #LlmsbxMcpHttp
 * @token: (nullable): the bearer token every request must carry; %NULL for none
 */
void
llmsbx_mcp_http_set_token (LlmsbxMcpHttp *self,
                           const char    *token)
{
  g_return_if_fail (LLMSBX_IS_MCP_HTTP (self));

  g_free (self->token);
  self->token = g_strdup (token);
}

/**
 * llmsbx_mcp_http_add_allowed_origin:
 * @self: a #LlmsbxMcpHttp
 * @origin: an Origin (`https://app.example`) allowed besides this machine's
 */
void
llmsbx_mcp_http_add_allowed_origin (LlmsbxMcpHttp *self,
                                    const char    *origin)
{
  g_return_if_fail (LLMSBX_IS_MCP_HTTP (self));
  g_ptr_array_add (self->allowed_origins, g_strdup (origin));
}

void
llmsbx_mcp_http_set_max_clients (LlmsbxMcpHttp *self,
                                 guint          max_clients)
{
  g_return_if_fail (LLMSBX_IS_MCP_HTTP (self));
  self->max_clients = max_clients;
}

/**
 * llmsbx_mcp_http_set_client_timeout:
 * @self: a #LlmsbxMcpHttp
 * @seconds: how long a client may send nothing before it is forgotten and
 *   its sessions closed; 0 for never
 */
void
llmsbx_mcp_http_set_client_timeout (LlmsbxMcpHttp *self,
                                    double         seconds)
{
  g_return_if_fail (LLMSBX_IS_MCP_HTTP (self));
  self->client_timeout = seconds;
}

/**
 * llmsbx_mcp_http_listen:
 * @self: a #LlmsbxMcpHttp
 * @address: `HOST:PORT` with a numeric host or `localhost`, or a port alone
 *   for 127.0.0.1; port 0 picks a free one
 * @error: return location for a #GError
 *
 * Returns: %TRUE when it listens
 */
gboolean
llmsbx_mcp_http_listen (LlmsbxMcpHttp  *self,
                        const char     *address,
                        GError        **error)
{
  g_autoptr(GSocketConnectable) parsed = NULL;
  g_autoptr(GInetAddress) inet = NULL;
  g_autoptr(GSocketAddress) socket_address = NULL;
  const char *host;

  g_return_val_if_fail (LLMSBX_IS_MCP_HTTP (self), FALSE);

  /* A port alone (`8765`, `:8765`) is on loopback. */
  if (*address == ':' || (*address != '\0' && strspn (address, "0123456789") == strlen (address)))
    {
      g_autofree char *loopback = g_strconcat ("127.0.0.1", *address == ':' ? "" : ":", address, NULL);

      return llmsbx_mcp_http_listen (self, loopback, error);
    }
  parsed = g_network_address_parse (address, 0, error);
  if (parsed == NULL)
    return FALSE;
  host = g_network_address_get_hostname (G_NETWORK_ADDRESS (parsed));
  inet = g_ascii_strcasecmp (host, "localhost") == 0 ? g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4)
                                                      : g_inet_address_new_from_string (host);
  if (inet == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "'%s' is not an IP address to listen on", host);
      return FALSE;
    }
  self->loopback = g_inet_address_get_is_loopback (inet);
  socket_address = g_inet_socket_address_new (inet, g_network_address_get_port (G_NETWORK_ADDRESS (parsed)));
  return soup_server_listen (self->soup, socket_address, 0, error);
}

/**
 * llmsbx_mcp_http_get_url:
 * @self: a #LlmsbxMcpHttp
 *
 * Returns: (transfer full) (nullable): the endpoint's URL, once listening
 */
char *
llmsbx_mcp_http_get_url (LlmsbxMcpHttp *self)
{
  GSList *listeners = soup_server_get_listeners (self->soup);
  g_autoptr(GSocketAddress) address = NULL;
  g_autofree char *host = NULL;
  GInetAddress *inet;

  /* Not soup_server_get_uris(), which leaks an address (libsoup 3.2). */
  if (listeners == NULL)
    return NULL;
  address = g_socket_get_local_address (listeners->data, NULL);
  g_slist_free (listeners);
  if (address == NULL || !G_IS_INET_SOCKET_ADDRESS (address))
    return NULL;
  inet = g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (address));
  host = g_inet_address_to_string (inet);
  return g_strdup_printf (g_inet_address_get_family (inet) == G_SOCKET_FAMILY_IPV6 ? "http://[%s]:%u%s"
                                                                                  : "http://%s:%u%s",
                          host, g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (address)),
                          LLMSBX_MCP_HTTP_PATH);
}

/**
 * llmsbx_mcp_http_get_is_loopback:
 * @self: a #LlmsbxMcpHttp
 *
 * Returns: %TRUE when it listens on a loopback address only
 */
gboolean
llmsbx_mcp_http_get_is_loopback (LlmsbxMcpHttp *self)
{
  g_return_val_if_fail (LLMSBX_IS_MCP_HTTP (self), FALSE);
  return self->loopback;
}

/**
 * llmsbx_mcp_http_close:
 * @self: a #LlmsbxMcpHttp
 *
 * Stops listening and ends every client.
 */
void
llmsbx_mcp_http_close (LlmsbxMcpHttp *self)
{
  GHashTableIter iter;
  HttpClient *client;
  g_autoptr(GPtrArray) all = g_ptr_array_new ();

  g_return_if_fail (LLMSBX_IS_MCP_HTTP (self));

  soup_server_disconnect (self->soup);
  g_hash_table_iter_init (&iter, self->clients);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &client))
    g_ptr_array_add (all, client);
  for (guint i = 0; i < all->len; i++)
    client_remove (all->pdata[i], "the server is stopping");
}

static void
llmsbx_mcp_http_dispose (GObject *object)
{
  LlmsbxMcpHttp *self = LLMSBX_MCP_HTTP (object);

  if (self->soup != NULL)
    {
      llmsbx_mcp_http_close (self);
      g_clear_object (&self->soup);
    }
  G_OBJECT_CLASS (llmsbx_mcp_http_parent_class)->dispose (object);
}

static void
llmsbx_mcp_http_finalize (GObject *object)
{
  LlmsbxMcpHttp *self = LLMSBX_MCP_HTTP (object);

  g_hash_table_unref (self->clients);
  g_ptr_array_unref (self->allowed_origins);
  g_free (self->token);
  g_clear_object (&self->server);
  G_OBJECT_CLASS (llmsbx_mcp_http_parent_class)->finalize (object);
}

static void
llmsbx_mcp_http_class_init (LlmsbxMcpHttpClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = llmsbx_mcp_http_dispose;
  object_class->finalize = llmsbx_mcp_http_finalize;
}

static void
llmsbx_mcp_http_init (LlmsbxMcpHttp *self)
{
  self->clients = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, (GDestroyNotify) client_unref);
  self->allowed_origins = g_ptr_array_new_with_free_func (g_free);
  self->max_clients = 64;
}
