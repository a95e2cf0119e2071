/* test-kube-config-server.c: the kubeconfig files the test API server writes
 * (kube-test-server.py), loaded as the Kubernetes plugin loads them, and
 * used: a TLS handshake with the CA, client certificate (RSA, EC, PKCS#8)
 * or bearer token they resolve to, then GET /version or a pod list. */
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <llmsbx.h>
#include <signal.h>
#include <string.h>

#include "llmsbx-kube-config.h"

typedef struct {
  GSubprocess *process;
  JsonNode    *ready;
} Server;

static char *pki_dir;

static Server *
server_start (const char *mode)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocessLauncher) launcher =
    g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  g_autofree char *script = g_test_build_filename (G_TEST_DIST, "kubernetes", "kube-test-server.py", NULL);
  g_autoptr(GDataInputStream) out = NULL;
  g_autofree char *line = NULL;
  Server *server = g_new0 (Server, 1);

  /* stdin stays open: if this test dies, the server sees EOF and cleans up. */
  server->process = g_subprocess_launcher_spawn (launcher, &error, "/usr/bin/python3", script,
                                                 "--mode", mode, "--watch-stdin",
                                                 "--pki-dir", pki_dir, NULL);
  g_assert_no_error (error);
  out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (server->process));
  line = g_data_input_stream_read_line (out, NULL, NULL, &error);
  g_assert_no_error (error);
  if (line == NULL)
    g_error ("kube-test-server.py --mode %s ended without its ready line (is dockerd running?)", mode);
  server->ready = json_from_string (line, &error);
  g_assert_no_error (error);
  return server;
}

static void
server_stop (Server *server)
{
  g_autoptr(GError) error = NULL;

  g_subprocess_send_signal (server->process, SIGTERM);
  g_subprocess_wait_check (server->process, NULL, &error);
  g_assert_no_error (error);
  g_object_unref (server->process);
  json_node_unref (server->ready);
  g_free (server);
}

static const char *
ready_string (Server     *server,
              const char *member)
{
  return json_object_get_string_member (json_node_get_object (server->ready), member);
}

static const char *
kubeconfig_path (Server     *server,
                 const char *name)
{
  JsonObject *all = json_object_get_object_member (json_node_get_object (server->ready), "kubeconfigs");

  return json_object_get_string_member (all, name);
}

static const char *
client_file (Server     *server,
             const char *kind,
             const char *which)
{
  JsonObject *certs = json_object_get_object_member (json_node_get_object (server->ready), "client_certs");

  return json_object_get_string_member (json_object_get_object_member (certs, kind), which);
}

static void
assert_file_bytes (GBytes     *bytes,
                   const char *path)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *contents = NULL;
  gsize size = 0;
  gsize got_size = 0;
  const char *got;

  g_assert_nonnull (bytes);
  g_file_get_contents (path, &contents, &size, &error);
  g_assert_no_error (error);
  got = g_bytes_get_data (bytes, &got_size);
  g_assert_cmpmem (got, got_size, contents, size);
}

/* ---- a request with what the connection resolved to -------------------- */

static gboolean
accept_certificate (GTlsConnection       *connection,
                    GTlsCertificate      *peer,
                    GTlsCertificateFlags  errors,
                    gpointer              user_data)
{
  return llmsbx_kube_connection_accept_certificate (user_data, peer, errors);
}

typedef struct {
  const LlmsbxKubeConnection *connection;
  GTlsCertificate            *client;
} Tls;

static void
socket_event (GSocketClient      *client,
              GSocketClientEvent  event,
              GSocketConnectable *connectable,
              GIOStream          *connection,
              gpointer            user_data)
{
  Tls *tls = user_data;

  if (event != G_SOCKET_CLIENT_TLS_HANDSHAKING)
    return;
  /* The server closes after an HTTP/1.0 answer without close_notify. */
  g_tls_connection_set_require_close_notify (G_TLS_CONNECTION (connection), FALSE);
  if (tls->client != NULL)
    g_tls_connection_set_certificate (G_TLS_CONNECTION (connection), tls->client);
  g_signal_connect (connection, "accept-certificate", G_CALLBACK (accept_certificate),
                    (gpointer) tls->connection);
}

/* GET path over HTTP/1.0 as the connection says; returns the whole answer. */
static char *
request (const LlmsbxKubeConnection *c,
         const char                 *path)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  g_autoptr(GUri) uri = g_uri_parse (c->server, G_URI_FLAGS_NONE, &error);
  g_autoptr(GSocketConnection) connection = NULL;
  g_autoptr(GString) head = g_string_new (NULL);
  g_autoptr(GTlsCertificate) client_cert = NULL;
  g_autoptr(GOutputStream) answer = g_memory_output_stream_new_resizable ();
  Tls tls = { c, NULL };

  g_assert_no_error (error);
  /* GnuTLS reads each key format as given (PKCS#1, SEC1, PKCS#8). */
  client_cert = llmsbx_kube_connection_new_client_certificate (c, &error);
  g_assert_no_error (error);
  g_assert_true ((client_cert != NULL) == (c->client_cert_pem != NULL));
  tls.client = client_cert;
  g_socket_client_set_tls (client, g_str_equal (g_uri_get_scheme (uri), "https"));
  g_signal_connect (client, "event", G_CALLBACK (socket_event), &tls);
  connection = g_socket_client_connect_to_host (client, g_uri_get_host (uri), g_uri_get_port (uri), NULL, &error);
  g_assert_no_error (error);

  g_string_append_printf (head, "GET %s HTTP/1.0\r\nHost: %s:%d\r\nAccept: application/json\r\n",
                          path, g_uri_get_host (uri), g_uri_get_port (uri));
  if (c->token != NULL)
    g_string_append_printf (head, "Authorization: Bearer %s\r\n", c->token);
  g_string_append (head, "\r\n");
  g_output_stream_write_all (g_io_stream_get_output_stream (G_IO_STREAM (connection)),
                             head->str, head->len, NULL, NULL, &error);
  g_assert_no_error (error);
  g_output_stream_splice (answer, g_io_stream_get_input_stream (G_IO_STREAM (connection)),
                          G_OUTPUT_STREAM_SPLICE_CLOSE_TARGET, NULL, &error);
  g_assert_no_error (error);
  g_io_stream_close (G_IO_STREAM (connection), NULL, NULL);
  g_output_stream_write (answer, "", 1, NULL, NULL);
  return g_memory_output_stream_steal_data (G_MEMORY_OUTPUT_STREAM (answer));
}

static void
assert_status (const LlmsbxKubeConnection *c,
               const char                 *path,
               const char                 *status,
               const char                 *body_part)
{
  g_autofree char *answer = request (c, path);

  if (!g_str_has_prefix (answer, status) && !g_str_has_prefix (answer + strlen ("HTTP/1.x "), status))
    g_error ("GET %s with context %s: wanted %s, got: %.300s", path, c->context_name, status, answer);
  g_assert_nonnull (strstr (answer, body_part));
}

/* ---- the tests ----------------------------------------------------------- */

static LlmsbxKubeConnection *
load (const char *path,
      const char *context)
{
  g_autoptr(GError) error = NULL;
  LlmsbxKubeConnection *c = llmsbx_kube_connection_load (path, context, &error);

  g_assert_no_error (error);
  g_assert_nonnull (c);
  return c;
}

static void
test_tls_cert (void)
{
  Server *server = server_start ("tls-cert");
  const char *inline_files[] = { "kubeconfig", "kubeconfig.json", "kubeconfig-files" };

  for (guint i = 0; i < G_N_ELEMENTS (inline_files); i++)
    {
      const char *path = kubeconfig_path (server, inline_files[i]);
      g_autoptr(LlmsbxKubeConnection) rsa = load (path, NULL);
      g_autoptr(LlmsbxKubeConnection) ns = load (path, "llmsbx-test-ns");
      g_autoptr(LlmsbxKubeConnection) ec = load (path, "llmsbx-test-ec");
      g_autoptr(LlmsbxKubeConnection) pkcs8 = load (path, "llmsbx-test-pkcs8");
      g_autoptr(LlmsbxKubeConnection) exec = load (path, "llmsbx-test-exec");
      g_autoptr(LlmsbxKubeConnection) anonymous = load (path, "llmsbx-test-anonymous");
      g_autofree char *calls_path = g_build_filename (ready_string (server, "state_dir"),
                                                      "credential-plugin.calls", NULL);
      g_autofree char *calls = NULL;

      g_test_message ("%s", path);
      g_assert_cmpstr (rsa->context_name, ==, "llmsbx-test");
      g_assert_cmpstr (rsa->server, ==, ready_string (server, "url"));
      g_assert_cmpstr (rsa->namespace_, ==, "default");
      g_assert_null (rsa->token);
      assert_file_bytes (rsa->ca_pem, ready_string (server, "ca"));
      assert_file_bytes (rsa->client_cert_pem, client_file (server, "rsa", "cert"));
      assert_file_bytes (rsa->client_key_pem, client_file (server, "rsa", "key"));
      g_assert_cmpstr (ns->namespace_, ==, "sandbox-tests");
      assert_file_bytes (ec->client_cert_pem, client_file (server, "ec", "cert"));
      assert_file_bytes (ec->client_key_pem, client_file (server, "ec", "key"));
      assert_file_bytes (pkcs8->client_key_pem, client_file (server, "pkcs8", "key"));
      /* The plugin hands out the EC certificate in this mode. */
      assert_file_bytes (exec->client_cert_pem, client_file (server, "ec", "cert"));
      assert_file_bytes (exec->client_key_pem, client_file (server, "ec", "key"));
      g_file_get_contents (calls_path, &calls, NULL, NULL);
      g_assert_nonnull (calls);
      /* Its KUBERNETES_EXEC_INFO, argv and env from the kubeconfig. */
      g_assert_nonnull (strstr (calls, "ExecCredential"));
      g_assert_nonnull (strstr (calls, "\"env\": \"yes\""));
      g_assert_nonnull (strstr (calls, "\"--cluster\", \"llmsbx-test\""));
      g_assert_null (anonymous->client_cert_pem);

      /* Each key format in a real handshake; the CN is the user. */
      assert_status (rsa, "/api/v1/namespaces/default/pods", "200", "PodList");
      assert_status (ec, "/api/v1/namespaces/default/pods", "200", "PodList");
      assert_status (pkcs8, "/api/v1/namespaces/default/pods", "200", "PodList");
      assert_status (exec, "/api/v1/namespaces/default/pods", "200", "PodList");
      assert_status (anonymous, "/api/v1/namespaces/default/pods", "401", "Unauthorized");
    }

  {
    g_autoptr(LlmsbxKubeConnection) insecure = load (kubeconfig_path (server, "kubeconfig-insecure"), NULL);

    g_assert_true (insecure->insecure_skip_tls_verify);
    g_assert_null (insecure->ca_pem);
    assert_status (insecure, "/version", "200", "gitVersion");
  }
  server_stop (server);
}

static GTlsCertificate *
pki_certificate (const char *name)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = g_build_filename (pki_dir, name, NULL);
  GTlsCertificate *certificate = g_tls_certificate_new_from_file (path, &error);

  g_assert_no_error (error);
  return certificate;
}

static GBytes *
pki_bytes (const char *name)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = g_build_filename (pki_dir, name, NULL);
  char *contents = NULL;
  gsize size = 0;

  g_file_get_contents (path, &contents, &size, &error);
  g_assert_no_error (error);
  return g_bytes_new_take (contents, size);
}

/* The server's certificate against the kubeconfig's CA, names and flags. */
static void
test_accept_certificate (void)
{
  Server *server = server_start ("tls-token");
  g_autoptr(GTlsCertificate) peer = pki_certificate ("server.crt");
  g_autoptr(LlmsbxKubeConnection) c = load (kubeconfig_path (server, "kubeconfig"), NULL);
  g_autoptr(LlmsbxKubeConnection) insecure = load (kubeconfig_path (server, "kubeconfig-insecure"), NULL);
  g_autoptr(GBytes) real_ca = g_bytes_ref (c->ca_pem);
  g_autoptr(GBytes) untrusted = pki_bytes ("untrusted-ca.crt");
  GTlsCertificateFlags unknown = G_TLS_CERTIFICATE_UNKNOWN_CA;
  g_autoptr(GString) bundle = g_string_new_len (g_bytes_get_data (untrusted, NULL), g_bytes_get_size (untrusted));

  /* The URL's 127.0.0.1 is in the certificate, and so is localhost. */
  g_assert_true (llmsbx_kube_connection_accept_certificate (c, peer, unknown));
  c->tls_server_name = g_strdup ("localhost");
  g_assert_true (llmsbx_kube_connection_accept_certificate (c, peer, unknown));
  g_free (c->tls_server_name);
  c->tls_server_name = g_strdup ("wrong.example");
  g_assert_false (llmsbx_kube_connection_accept_certificate (c, peer, unknown));
  g_clear_pointer (&c->tls_server_name, g_free);

  /* Another CA; then a bundle with it first and the right one second. */
  g_bytes_unref (c->ca_pem);
  c->ca_pem = g_bytes_ref (untrusted);
  g_assert_false (llmsbx_kube_connection_accept_certificate (c, peer, unknown));
  g_string_append_len (bundle, g_bytes_get_data (real_ca, NULL), g_bytes_get_size (real_ca));
  g_bytes_unref (c->ca_pem);
  c->ca_pem = g_bytes_new (bundle->str, bundle->len);
  g_assert_true (llmsbx_kube_connection_accept_certificate (c, peer, unknown));

  /* No CA: what the system's store said stands. */
  g_clear_pointer (&c->ca_pem, g_bytes_unref);
  g_assert_false (llmsbx_kube_connection_accept_certificate (c, peer, unknown));
  c->tls_server_name = g_strdup ("localhost");
  g_assert_false (llmsbx_kube_connection_accept_certificate (c, peer, unknown));

  g_assert_true (insecure->insecure_skip_tls_verify);
  g_assert_true (llmsbx_kube_connection_accept_certificate (insecure, peer, unknown));
  /* A token user has no client certificate. */
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(GTlsCertificate) none = llmsbx_kube_connection_new_client_certificate (c, &error);

    g_assert_no_error (error);
    g_assert_null (none);
  }
  server_stop (server);
}

static void
test_tls_token (void)
{
  Server *server = server_start ("tls-token");
  g_autofree char *token = NULL;
  const char *files[] = { "kubeconfig", "kubeconfig.json", "kubeconfig-files" };

  g_file_get_contents (ready_string (server, "token_file"), &token, NULL, NULL);
  g_assert_nonnull (token);
  g_strstrip (token);
  for (guint i = 0; i < G_N_ELEMENTS (files); i++)
    {
      const char *path = kubeconfig_path (server, files[i]);
      g_autoptr(LlmsbxKubeConnection) c = load (path, NULL);
      g_autoptr(LlmsbxKubeConnection) exec = load (path, "llmsbx-test-exec");
      g_autoptr(LlmsbxKubeConnection) bad = load (path, "llmsbx-test-bad");

      g_test_message ("%s", path);
      g_assert_cmpstr (c->token, ==, token);
      g_assert_null (c->client_cert_pem);
      g_assert_cmpstr (exec->token, ==, token);
      g_assert_cmpstr (bad->token, !=, token);
      assert_status (c, "/api/v1/namespaces/sandbox-tests/pods", "200", "PodList");
      assert_status (exec, "/api/v1/namespaces/default/pods", "200", "PodList");
      assert_status (bad, "/api/v1/namespaces/default/pods", "401", "Unauthorized");
      /* The plugin runs again on refresh. */
      g_assert_true (llmsbx_kube_connection_refresh (exec, 0, NULL, NULL));
      g_assert_cmpstr (exec->token, ==, token);
    }

  /* The same through $KUBECONFIG, with a missing file first. */
  {
    g_autofree char *list = g_strconcat ("/nonexistent/kubeconfig:", kubeconfig_path (server, "kubeconfig-files"), NULL);
    g_autoptr(LlmsbxKubeConnection) c = NULL;

    g_setenv ("KUBECONFIG", list, TRUE);
    c = load (NULL, "llmsbx-test-ns");
    g_unsetenv ("KUBECONFIG");
    g_assert_cmpstr (c->namespace_, ==, "sandbox-tests");
    g_assert_cmpstr (c->token, ==, token);
  }
  server_stop (server);
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GError) error = NULL;
  int status;

  g_test_init (&argc, &argv, NULL);
  pki_dir = g_dir_make_tmp ("test-kube-config-pki-XXXXXX", &error);
  g_assert_no_error (error);

  g_test_add_func ("/kube-config-server/tls-cert", test_tls_cert);
  g_test_add_func ("/kube-config-server/tls-token", test_tls_token);
  g_test_add_func ("/kube-config-server/accept-certificate", test_accept_certificate);
  status = g_test_run ();

  {
    g_autoptr(GDir) dir = g_dir_open (pki_dir, 0, NULL);
    const char *name;

    while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
      {
        g_autofree char *path = g_build_filename (pki_dir, name, NULL);

        g_unlink (path);
      }
    g_rmdir (pki_dir);
    g_free (pki_dir);
  }
  return status;
}
