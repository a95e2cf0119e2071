/* test-docker-backend.c: what is Docker's own in the docker backend, against
 * the real dockerd: where the daemon is, its round trips, what it creates
 * (inspected), its refusals, its archive format, runtime configs and images.
 * What every backend does is in tests/backends/test-backend-contract.c.
 *
 * Each test body runs in a subprocess; the parent then removes whatever the
 * body left behind (found by this run's label, with isolated-test.h), so a
 * failing assertion never leaks a container or an image. Without a daemon
 * every test fails. */
#include <llmsbx.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <string.h>

#include "isolated-test.h"

#define IMAGE "llmsbx/python:bookworm"

/* ---------------------------------------------------------------------------
 * Talking to the daemon directly, to check what the backend did
 * ------------------------------------------------------------------------ */

static const char *
socket_path (void)
{
  const char *host = g_getenv ("DOCKER_HOST");

  if (host != NULL && g_str_has_prefix (host, "unix://"))
    return host + strlen ("unix://");
  return "/var/run/docker.sock";
}

/* One HTTP/1.0 request (so the answer is neither chunked nor kept alive). */
static JsonNode *
docker_api (const char *method,
            const char *path,
            guint      *status)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  g_autoptr(GSocketAddress) address = g_unix_socket_address_new (socket_path ());
  g_autoptr(GSocketConnection) connection = NULL;
  g_autoptr(GByteArray) answer = g_byte_array_new ();
  g_autofree char *request = NULL;
  const char *body;
  guint8 buffer[16384];
  gssize n;

  connection = g_socket_client_connect (client, G_SOCKET_CONNECTABLE (address), NULL, &error);
  g_assert_no_error (error);
  request = g_strdup_printf ("%s %s HTTP/1.0\r\nHost: localhost\r\nContent-Length: 0\r\n\r\n", method, path);
  g_output_stream_write_all (g_io_stream_get_output_stream (G_IO_STREAM (connection)),
                             request, strlen (request), NULL, NULL, &error);
  g_assert_no_error (error);
  while ((n = g_input_stream_read (g_io_stream_get_input_stream (G_IO_STREAM (connection)),
                                   buffer, sizeof buffer, NULL, &error)) > 0)
    g_byte_array_append (answer, buffer, n);
  g_assert_no_error (error);
  g_byte_array_append (answer, (const guint8 *) "", 1);

  g_assert_true (g_str_has_prefix ((const char *) answer->data, "HTTP/1."));
  *status = (guint) g_ascii_strtoull ((const char *) answer->data + strlen ("HTTP/1.x "), NULL, 10);
  body = strstr ((const char *) answer->data, "\r\n\r\n");
  g_assert_nonnull (body);
  body += 4;
  if (*body == '\0')
    return json_node_new (JSON_NODE_NULL);
  return json_from_string (body, &error);
}

static char *
label_filter (void)
{
  g_autofree char *filters = g_strdup_printf ("{\"label\":[\"%s=%s\"]}", TEST_RUN_LABEL, test_run_id ());
  return g_uri_escape_string (filters, NULL, FALSE);
}

/* Ids of this run's containers or images ("containers" / "images"). */
static GPtrArray *
list_labelled (const char *kind)
{
  g_autofree char *filter = label_filter ();
  g_autofree char *path = g_strdup_printf ("/%s/json?all=1&filters=%s", kind, filter);
  GPtrArray *ids = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(JsonNode) list = NULL;
  JsonArray *array;
  guint status;

  list = docker_api ("GET", path, &status);
  g_assert_cmpuint (status, ==, 200);
  array = json_node_get_array (list);
  for (guint i = 0; i < json_array_get_length (array); i++)
    g_ptr_array_add (ids, g_strdup (json_object_get_string_member (json_array_get_object_element (array, i), "Id")));
  return ids;
}

/* ---------------------------------------------------------------------------
 * Helpers
 * ------------------------------------------------------------------------ */

static LlmsbxBackend *
new_backend (void)
{
  g_autoptr(GError) error = NULL;
  LlmsbxBackend *backend = llmsbx_registry_create_backend (llmsbx_registry_get_default (), "docker", &error);

  g_assert_no_error (error);
  g_assert_true (LLMSBX_IS_BACKEND (backend));
  return backend;
}

static LlmsbxContainerSpec *
new_spec (const char *image)
{
  LlmsbxContainerSpec *spec = llmsbx_container_spec_new ();
  const char *command[] = { "sleep", "infinity", NULL };
  const char *env[] = { "PYTHONUNBUFFERED=1", NULL };

  spec->image = g_strdup (image);
  spec->command = g_strdupv ((char **) command);
  spec->workdir = g_strdup ("/sandbox");
  spec->env = g_strdupv ((char **) env);
  spec->labels = g_new0 (char *, 3);
  spec->labels[0] = g_strdup ("io.llmsbx.managed-by=libllmsbx");
  spec->labels[1] = g_strdup_printf ("%s=%s", TEST_RUN_LABEL, test_run_id ());
  return spec;
}

static char *
create_sandbox (LlmsbxBackend *backend,
                const char    *runtime_configs)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(LlmsbxContainerSpec) spec = new_spec (IMAGE);
  char *id;

  if (runtime_configs != NULL)
    spec->runtime_configs = g_variant_ref_sink (g_variant_new_parsed (runtime_configs));
  id = llmsbx_backend_create_sandbox (backend, spec, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (id);
  return id;
}

static void
remove_sandbox (LlmsbxBackend *backend,
                const char    *id)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (llmsbx_backend_remove_sandbox (backend, id, NULL, &error));
  g_assert_no_error (error);
}

/* ---------------------------------------------------------------------------
 * Tests
 * ------------------------------------------------------------------------ */

static void
test_connect (void)
{
  g_autoptr(LlmsbxBackend) backend = new_backend ();
  g_autoptr(GError) error = NULL;

  g_assert_cmpstr (llmsbx_backend_get_name (backend), ==, "docker");
  g_assert_true (llmsbx_backend_connect (backend, NULL, &error));
  g_assert_no_error (error);
  /* Negotiation is one request, and happens once. */
  g_assert_cmpuint (llmsbx_backend_get_request_count (backend), ==, 1);
  g_assert_true (llmsbx_backend_connect (backend, NULL, &error));
  g_assert_cmpuint (llmsbx_backend_get_request_count (backend), ==, 1);

  /* A new URL means a new negotiation. */
  llmsbx_backend_set_url (backend, "unix:///var/run/docker.sock");
  g_assert_true (llmsbx_backend_connect (backend, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (llmsbx_backend_get_request_count (backend), ==, 2);
}

static void
assert_unavailable (const char *url,
                    const char *reason)
{
  g_autoptr(LlmsbxBackend) backend = new_backend ();
  g_autoptr(GError) error = NULL;
  g_autofree char *expected = g_strdup_printf ("Cannot reach the Docker daemon at %s: %s", url, reason);

  llmsbx_backend_set_url (backend, url);
  g_assert_false (llmsbx_backend_connect (backend, NULL, &error));
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_BACKEND_UNAVAILABLE);
  g_assert_cmpstr (error->message, ==, expected);
}

static void
test_unreachable (void)
{
  g_autoptr(LlmsbxBackend) backend = new_backend ();
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("llmsbx-XXXXXX", NULL);
  g_autofree char *missing = g_strdup_printf ("unix://%s/docker.sock", dir);

  assert_unavailable (missing, "No such file or directory");
  /* Port 1 on loopback: nothing listens there. */
  assert_unavailable ("tcp://127.0.0.1:1", "Connection refused");
  g_rmdir (dir);

  llmsbx_backend_set_url (backend, "npipe:////./pipe/docker_engine");
  g_assert_false (llmsbx_backend_connect (backend, NULL, &error));
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "npipe:////./pipe/docker_engine"));
}

/* A loopback listener that keeps the first bytes of one connection. */
typedef struct {
  GSocketListener *listener;
  guint16          port;
  GByteArray      *first_bytes;
} Listener;

static gpointer
accept_one (gpointer data)
{
  Listener *l = data;
  g_autoptr(GSocketConnection) connection = g_socket_listener_accept (l->listener, NULL, NULL, NULL);
  guint8 buffer[64];
  gssize n;

  g_assert_nonnull (connection);
  /* Both a request line and a TLS ClientHello are longer than 24 bytes. */
  while (l->first_bytes->len < 24 &&
         (n = g_input_stream_read (g_io_stream_get_input_stream (G_IO_STREAM (connection)),
                                   buffer, sizeof buffer, NULL, NULL)) > 0)
    g_byte_array_append (l->first_bytes, buffer, n);
  return NULL;
}

static GThread *
listen_once (Listener *l)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) bound = NULL;

  l->listener = g_socket_listener_new ();
  l->first_bytes = g_byte_array_new ();
  g_socket_listener_add_address (l->listener, address, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP,
                                 NULL, &bound, &error);
  g_assert_no_error (error);
  l->port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
  return g_thread_new ("listener", accept_one, l);
}

static void
listener_clear (Listener *l)
{
  g_socket_listener_close (l->listener);
  g_object_unref (l->listener);
  g_byte_array_unref (l->first_bytes);
}

/* DOCKER_HOST, DOCKER_TLS_VERIFY and DOCKER_CERT_PATH are read like the docker
 * CLI reads them; the url property wins over them. */
static void
test_environment (void)
{
  g_autofree char *dir = g_dir_make_tmp ("llmsbx-XXXXXX", NULL);
  g_autofree char *missing = g_strdup_printf ("unix://%s/env.sock", dir);
  g_autoptr(GError) error = NULL;
  Listener plain = { 0, }, tls = { 0, };
  GThread *thread;

  g_setenv ("DOCKER_HOST", missing, TRUE);
  {
    g_autoptr(LlmsbxBackend) backend = new_backend ();
    g_assert_false (llmsbx_backend_connect (backend, NULL, &error));
    g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_BACKEND_UNAVAILABLE);
    g_assert_nonnull (strstr (error->message, missing));
    g_clear_error (&error);

    llmsbx_backend_set_url (backend, "unix:///var/run/docker.sock");
    g_assert_true (llmsbx_backend_connect (backend, NULL, &error));
    g_assert_no_error (error);
  }

  /* Plain HTTP to a tcp:// host... */
  thread = listen_once (&plain);
  {
    g_autofree char *host = g_strdup_printf ("tcp://127.0.0.1:%u", plain.port);
    g_autoptr(LlmsbxBackend) backend = new_backend ();

    g_setenv ("DOCKER_HOST", host, TRUE);
    g_assert_false (llmsbx_backend_connect (backend, NULL, &error));
    g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_BACKEND_UNAVAILABLE);
    g_clear_error (&error);
  }
  g_thread_join (thread);
  g_byte_array_append (plain.first_bytes, (const guint8 *) "", 1);
  g_assert_true (g_str_has_prefix ((const char *) plain.first_bytes->data, "GET /_ping HTTP/1.1\r\n"));

  /* ...and TLS when DOCKER_TLS_VERIFY is set: a handshake record comes first. */
  thread = listen_once (&tls);
  {
    g_autofree char *host = g_strdup_printf ("tcp://127.0.0.1:%u", tls.port);
    g_autoptr(LlmsbxBackend) backend = new_backend ();

    g_setenv ("DOCKER_HOST", host, TRUE);
    g_setenv ("DOCKER_TLS_VERIFY", "1", TRUE);
    g_setenv ("DOCKER_CERT_PATH", dir, TRUE);
    g_assert_false (llmsbx_backend_connect (backend, NULL, &error));
    g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_BACKEND_UNAVAILABLE);
    g_assert_nonnull (strstr (error->message, host));
  }
  g_thread_join (thread);
  g_assert_cmpuint (tls.first_bytes->len, >, 0);
  g_assert_cmpint (tls.first_bytes->data[0], ==, 0x16);

  listener_clear (&plain);
  listener_clear (&tls);
  g_unsetenv ("DOCKER_HOST");
  g_unsetenv ("DOCKER_TLS_VERIFY");
  g_unsetenv ("DOCKER_CERT_PATH");
  g_rmdir (dir);
}

/* Round trips are the cost of every operation; these are Docker's. What
 * every backend does is in tests/backends/test-backend-contract.c. */
static void
test_round_trips (void)
{
  g_autoptr(LlmsbxBackend) backend = new_backend ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) tar = backend_test_sample_tar ();
  g_autoptr(LlmsbxExecRequest) request = llmsbx_exec_request_new ((const char *[]) { "true", NULL });
  g_autofree char *id = NULL;
  gboolean pulled = TRUE;
  guint before;
  int status = -1;

  g_assert_true (llmsbx_backend_connect (backend, NULL, &error));
  g_assert_no_error (error);

  /* A present image: one inspect. */
  before = llmsbx_backend_get_request_count (backend);
  g_assert_true (llmsbx_backend_ensure_image (backend, IMAGE, &pulled, NULL, &error));
  g_assert_no_error (error);
  g_assert_false (pulled);
  g_assert_cmpuint (llmsbx_backend_get_request_count (backend) - before, ==, 1);

  /* create + start + inspect: round trips are the cost of a run. */
  id = create_sandbox (backend, NULL);
  before = llmsbx_backend_get_request_count (backend);
  g_assert_true (llmsbx_backend_exec (backend, id, request, NULL, &status, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (llmsbx_backend_get_request_count (backend) - before, ==, 3);
  g_assert_cmpint (status, ==, 0);

  /* An archive upload: one PUT. */
  before = llmsbx_backend_get_request_count (backend);
  g_assert_true (llmsbx_backend_put_archive (backend, id, "/sandbox", tar, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (llmsbx_backend_get_request_count (backend) - before, ==, 1);

  remove_sandbox (backend, id);
}

static void
test_create_and_remove (void)
{
  g_autoptr(LlmsbxBackend) backend = new_backend ();
  g_autoptr(GPtrArray) left = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *id = NULL;
  g_autofree char *attached = NULL;
  g_autofree char *short_id = NULL;
  g_autofree char *inspect_path = NULL;
  g_autoptr(JsonNode) inspect = NULL;
  JsonObject *config, *host_config, *labels;
  guint before, status;

  g_assert_true (llmsbx_backend_connect (backend, NULL, &error));
  before = llmsbx_backend_get_request_count (backend);
  id = create_sandbox (backend, NULL);
  /* create + start */
  g_assert_cmpuint (llmsbx_backend_get_request_count (backend) - before, ==, 2);
  g_assert_cmpuint (strlen (id), ==, 64);

  inspect_path = g_strdup_printf ("/containers/%s/json", id);
  inspect = docker_api ("GET", inspect_path, &status);
  g_assert_cmpuint (status, ==, 200);
  config = json_object_get_object_member (json_node_get_object (inspect), "Config");
  host_config = json_object_get_object_member (json_node_get_object (inspect), "HostConfig");
  labels = json_object_get_object_member (config, "Labels");
  g_assert_cmpstr (json_object_get_string_member (labels, "io.llmsbx.managed-by"), ==, "libllmsbx");
  g_assert_cmpstr (json_object_get_string_member (config, "WorkingDir"), ==, "/sandbox");
  g_assert_true (json_object_get_boolean_member (host_config, "Init"));
  g_assert_true (json_object_get_boolean_member (json_object_get_object_member (json_node_get_object (inspect),
                                                                                "State"), "Running"));

  /* Attaching by a short id answers the full one; a stopped sandbox is started. */
  short_id = g_strndup (id, 12);
  attached = llmsbx_backend_attach_sandbox (backend, short_id, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (attached, ==, id);
  g_clear_pointer (&attached, g_free);
  g_clear_pointer (&inspect_path, g_free);
  inspect_path = g_strdup_printf ("/containers/%s/kill", id);
  g_clear_pointer (&inspect, json_node_unref);
  inspect = docker_api ("POST", inspect_path, &status);
  g_assert_cmpuint (status, ==, 204);
  attached = llmsbx_backend_attach_sandbox (backend, id, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (attached, ==, id);
  g_free (backend_test_exec_stdout (backend, id, (const char *[]) { "true", NULL }));

  before = llmsbx_backend_get_request_count (backend);
  remove_sandbox (backend, id);
  g_assert_cmpuint (llmsbx_backend_get_request_count (backend) - before, ==, 1);
  left = list_labelled ("containers");
  g_assert_cmpuint (left->len, ==, 0);

  /* Gone is gone: removing again succeeds, attaching fails clearly. */
  remove_sandbox (backend, id);
  g_clear_pointer (&attached, g_free);
  attached = llmsbx_backend_attach_sandbox (backend, id, NULL, &error);
  g_assert_null (attached);
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_CONTAINER_FAILED);
  g_assert_true (g_str_has_prefix (error->message, "Container "));
  g_assert_true (g_str_has_suffix (error->message, " not found"));
}

/* A sandbox whose start fails leaves nothing behind. */
static void
test_start_failure (void)
{
  g_autoptr(LlmsbxBackend) backend = new_backend ();
  g_autoptr(LlmsbxContainerSpec) spec = new_spec (IMAGE);
  g_autoptr(GPtrArray) left = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *id = NULL;

  /* The daemon accepts the device at create and fails at start. */
  spec->runtime_configs = g_variant_ref_sink (g_variant_new_parsed ("{'devices': <['/dev/llmsbx-no-such-device']>}"));
  id = llmsbx_backend_create_sandbox (backend, spec, NULL, &error);
  g_assert_null (id);
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_CONTAINER_FAILED);
  g_assert_nonnull (strstr (error->message, "/dev/llmsbx-no-such-device"));
  g_clear_error (&error);

  /* A 404 about another container is not "sandbox not found". */
  g_variant_unref (spec->runtime_configs);
  spec->runtime_configs = g_variant_ref_sink (g_variant_new_parsed ("{'network_mode': <'container:llmsbx-no-such-container'>}"));
  id = llmsbx_backend_create_sandbox (backend, spec, NULL, &error);
  g_assert_null (id);
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_CONTAINER_FAILED);
  g_assert_nonnull (strstr (error->message, "Could not start sandbox"));
  g_assert_nonnull (strstr (error->message, "llmsbx-no-such-container"));

  left = list_labelled ("containers");
  g_assert_cmpuint (left->len, ==, 0);
}

static void
test_bad_runtime_config (void)
{
  g_autoptr(LlmsbxBackend) backend = new_backend ();
  g_autoptr(LlmsbxContainerSpec) spec = new_spec (IMAGE);
  g_autoptr(GError) error = NULL;
  g_autofree char *id = NULL;
  guint before = llmsbx_backend_get_request_count (backend);

  spec->runtime_configs = g_variant_ref_sink (g_variant_new_parsed ("{'mem_limit': <'12q'>}"));
  id = llmsbx_backend_create_sandbox (backend, spec, NULL, &error);
  g_assert_null (id);
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "'mem_limit'"));
  /* Refused before anything was sent. */
  g_assert_cmpuint (llmsbx_backend_get_request_count (backend), ==, before);

  /* What only the daemon refuses comes back as an invalid argument too. */
  g_clear_error (&error);
  g_variant_unref (spec->runtime_configs);
  spec->runtime_configs = g_variant_ref_sink (g_variant_new_parsed ("{'nano_cpus': <500000000>, 'cpu_period': <100000>}"));
  id = llmsbx_backend_create_sandbox (backend, spec, NULL, &error);
  g_assert_null (id);
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "Nano CPUs and CPU Period cannot both be set"));
}

/* Environment, working directory and user of a request, as Docker's own
 * commands see them. */
static void
test_exec_request (void)
{
  g_autoptr(LlmsbxBackend) backend = new_backend ();
  g_autoptr(GError) error = NULL;
  g_autofree char *id = create_sandbox (backend, NULL);
  g_autoptr(LlmsbxExecRequest) request = NULL;
  g_autoptr(LlmsbxOutputCollector) output = llmsbx_output_collector_new (0);
  g_autoptr(GBytes) out = NULL;
  g_autofree char *out_text = NULL;
  guint before;
  int status = -1;

  request = llmsbx_exec_request_new ((const char *[]) { "sh", "-c", "echo \"$X\"; pwd; id -u", NULL });
  request->env = g_strdupv ((char *[]) { "X=a b;c", NULL });
  request->workdir = g_strdup ("/tmp");
  request->user = g_strdup ("65534");
  g_assert_true (llmsbx_backend_exec (backend, id, request, output, &status, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (status, ==, 0);
  out = llmsbx_output_collector_steal_bytes (output, LLMSBX_OUTPUT_STREAM_STDOUT);
  out_text = backend_test_bytes_to_string (out);
  g_assert_cmpstr (out_text, ==, "a b;c\n/tmp\n65534\n");

  /* A missing program or working directory: the exec never started, which
   * is an error carrying the engine's message, not a result. */
  g_clear_pointer (&request, llmsbx_exec_request_free);
  request = llmsbx_exec_request_new ((const char *[]) { "no-such-program", NULL });
  g_assert_false (llmsbx_backend_exec (backend, id, request, output, &status, NULL, &error));
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_COMMAND_NOT_STARTED);
  g_assert_nonnull (strstr (error->message, "\"no-such-program\": executable file not found"));
  g_clear_error (&error);
  g_clear_pointer (&request, llmsbx_exec_request_free);
  request = llmsbx_exec_request_new ((const char *[]) { "pwd", NULL });
  request->workdir = g_strdup ("/no/such/dir");
  g_assert_false (llmsbx_backend_exec (backend, id, request, output, &status, NULL, &error));
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_COMMAND_NOT_STARTED);
  g_assert_nonnull (strstr (error->message, "/no/such/dir"));
  g_clear_error (&error);
  g_clear_pointer (&out, g_bytes_unref);
  out = llmsbx_output_collector_steal_bytes (output, LLMSBX_OUTPUT_STREAM_STDOUT);

  /* A command that SIGKILLs itself is a result, 137: the sandbox still
   * runs, as an exec that does nothing (3 round trips more) tells. */
  g_clear_pointer (&request, llmsbx_exec_request_free);
  request = llmsbx_exec_request_new ((const char *[]) { "sh", "-c", "kill -9 $$", NULL });
  before = llmsbx_backend_get_request_count (backend);
  g_assert_true (llmsbx_backend_exec (backend, id, request, output, &status, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (status, ==, 137);
  g_assert_cmpuint (llmsbx_backend_get_request_count (backend) - before, ==, 6);

  remove_sandbox (backend, id);
}

/* Docker's archives name directories with a trailing slash. */
static void
test_archive_format (void)
{
  g_autoptr(LlmsbxBackend) backend = new_backend ();
  g_autoptr(GError) error = NULL;
  g_autofree char *id = create_sandbox (backend, NULL);
  g_autoptr(GBytes) tar = backend_test_sample_tar ();
  g_autoptr(GBytes) dir_tar = NULL;
  g_autoptr(GHashTable) dir = NULL;

  g_assert_true (llmsbx_backend_put_archive (backend, id, "/sandbox", tar, NULL, &error));
  g_assert_no_error (error);
  dir_tar = llmsbx_backend_get_archive (backend, id, "/sandbox/sub", NULL, &error);
  g_assert_no_error (error);
  dir = backend_test_read_tar (dir_tar, FALSE);
  g_assert_true (g_hash_table_contains (dir, "sub/"));
  g_assert_true (g_hash_table_contains (dir, "sub/bin"));

  remove_sandbox (backend, id);
}

static void
test_runtime_configs (void)
{
  g_autoptr(LlmsbxBackend) backend = new_backend ();
  g_autofree char *id = NULL;
  g_autofree char *limits = NULL;
  g_autofree char *listing = NULL;
  g_autoptr(GBytes) tar = backend_test_sample_tar ();
  g_autoptr(GError) error = NULL;

  id = create_sandbox (backend,
                       "{'mem_limit': <'256m'>, 'pids_limit': <64>, 'network_mode': <'none'>,"
                       " 'read_only': <true>, 'tmpfs': <{'/tmp': 'size=16m'}>,"
                       " 'environment': <{'FROM_CONFIG': 'yes'}>, 'cap_drop': <['ALL']>}");

  limits = backend_test_exec_stdout (backend, id, (const char *[]) { "sh", "-c",
    "cat /sys/fs/cgroup/memory.max 2>/dev/null || cat /sys/fs/cgroup/memory/memory.limit_in_bytes;"
    "cat /sys/fs/cgroup/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids/pids.max;"
    "ls /sys/class/net; echo $FROM_CONFIG $PYTHONUNBUFFERED;"
    "touch /rootfs-file 2>/dev/null && echo writable || echo read-only", NULL });
  g_assert_cmpstr (limits, ==, "268435456\n64\nlo\nyes 1\nread-only\n");

  /* The working directory stays writable for archives on a read-only root. */
  g_assert_true (llmsbx_backend_put_archive (backend, id, "/sandbox", tar, NULL, &error));
  g_assert_no_error (error);
  listing = backend_test_exec_stdout (backend, id, (const char *[]) { "cat", "/sandbox/hello.txt", NULL });
  g_assert_cmpstr (listing, ==, "hello\n");

  remove_sandbox (backend, id);
}

static void
test_build_commit_remove_image (void)
{
  g_autoptr(LlmsbxBackend) backend = new_backend ();
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("llmsbx-build-XXXXXX", NULL);
  g_autofree char *dockerfile = g_build_filename (dir, "Dockerfile", NULL);
  g_autofree char *failing = g_build_filename (dir, "Failing.Dockerfile", NULL);
  g_autofree char *data = g_build_filename (dir, "data.txt", NULL);
  g_autofree char *recipe = g_strdup_printf ("FROM " IMAGE "\nLABEL " TEST_RUN_LABEL "=%s\n"
                                             "COPY data.txt /built/data.txt\n", test_run_id ());
  g_autofree char *tag = g_strdup_printf ("llmsbx-test/built:%s", test_run_id ());
  g_autofree char *committed = g_strdup_printf ("llmsbx-test/committed:%s", test_run_id ());
  g_autoptr(LlmsbxContainerSpec) spec = new_spec (tag);
  g_autofree char *id = NULL;
  g_autofree char *text = NULL;
  g_autoptr(GPtrArray) images = NULL;
  gboolean pulled = TRUE;

  g_assert_true (g_file_set_contents (dockerfile, recipe, -1, NULL));
  g_assert_true (g_file_set_contents (data, "from the context\n", -1, NULL));
  g_assert_true (g_file_set_contents (failing, "FROM " IMAGE "\nRUN exit 3\n", -1, NULL));

  g_assert_true (llmsbx_backend_build_image (backend, dir, NULL, tag, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (llmsbx_backend_ensure_image (backend, tag, &pulled, NULL, &error));
  g_assert_false (pulled);

  id = llmsbx_backend_create_sandbox (backend, spec, NULL, &error);
  g_assert_no_error (error);
  text = backend_test_exec_stdout (backend, id, (const char *[]) { "cat", "/built/data.txt", NULL });
  g_assert_cmpstr (text, ==, "from the context\n");

  g_assert_true (llmsbx_backend_commit (backend, id, committed, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (llmsbx_backend_ensure_image (backend, committed, &pulled, NULL, &error));
  g_assert_false (pulled);
  remove_sandbox (backend, id);

  /* A failing step is a build failure with the daemon's reason. */
  g_assert_false (llmsbx_backend_build_image (backend, dir, "Failing.Dockerfile", "llmsbx-test/failing:x",
                                              NULL, &error));
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_IMAGE_BUILD_FAILED);
  g_assert_nonnull (strstr (error->message, "returned a non-zero code: 3"));
  g_clear_error (&error);

  g_assert_true (llmsbx_backend_remove_image (backend, committed, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (llmsbx_backend_remove_image (backend, tag, NULL, &error));
  g_assert_no_error (error);
  /* Already gone counts as removed. */
  g_assert_true (llmsbx_backend_remove_image (backend, tag, NULL, &error));
  g_assert_no_error (error);
  images = list_labelled ("images");
  g_assert_cmpuint (images->len, ==, 0);

  g_unlink (dockerfile);
  g_unlink (failing);
  g_unlink (data);
  g_rmdir (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  /* The label value and the CLI that reaps, shared with the subprocesses
   * through the environment. */
  g_setenv ("LLMSBX_TEST_BACKEND", "docker", TRUE);
  test_run_id ();

  test_add_isolated ("/docker/backend/connect", test_connect);
  test_add_isolated ("/docker/backend/unreachable", test_unreachable);
  test_add_isolated ("/docker/backend/environment", test_environment);
  test_add_isolated ("/docker/backend/round-trips", test_round_trips);
  test_add_isolated ("/docker/backend/create-and-remove", test_create_and_remove);
  test_add_isolated ("/docker/backend/start-failure", test_start_failure);
  test_add_isolated ("/docker/backend/bad-runtime-config", test_bad_runtime_config);
  test_add_isolated ("/docker/backend/exec-request", test_exec_request);
  test_add_isolated ("/docker/backend/archive-format", test_archive_format);
  test_add_isolated ("/docker/backend/runtime-configs", test_runtime_configs);
  test_add_isolated ("/docker/backend/build-commit-remove-image", test_build_commit_remove_image);

  return g_test_run ();
}
