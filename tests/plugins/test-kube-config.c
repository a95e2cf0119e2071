/* test-kube-config.c: kubeconfig files, $KUBECONFIG merging, exec credential
 * plugins, the in-cluster fallback and explicit settings, as the Kubernetes
 * plugin resolves them (plugins/kubernetes/llmsbx-kube-config.c). */
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <llmsbx.h>
#include <string.h>

#include "llmsbx-kube-config.h"

/* Not real keys: the loader passes PEM through as written. */
#define CA_PEM "-----BEGIN CERTIFICATE-----\nTUlJQ0FfdGVzdF9jYQ==\n-----END CERTIFICATE-----\n"
#define CERT_PEM "-----BEGIN CERTIFICATE-----\nTUlJQ2xpZW50X2NlcnQ=\n-----END CERTIFICATE-----\n"
#define RSA_PEM "-----BEGIN RSA PRIVATE KEY-----\nTUlJRXBBSUJBQUtDQVFFQQ==\n-----END RSA PRIVATE KEY-----\n"
#define EC_PEM "-----BEGIN EC PRIVATE KEY-----\nTUhjQ0FRRUVJQnR6\n-----END EC PRIVATE KEY-----\n"
#define PKCS8_PEM "-----BEGIN PRIVATE KEY-----\nTUlJRXZRSUJBREFOQmdrcQ==\n-----END PRIVATE KEY-----\n"
#define TOKEN "s3cr3t-t0ken-value"

typedef struct {
  char *dir;
} Fixture;

static void
fixture_set_up (Fixture       *fixture,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  fixture->dir = g_dir_make_tmp ("test-kube-config-XXXXXX", &error);
  g_assert_no_error (error);
  /* Nothing of the machine's own configuration may leak in. */
  g_unsetenv ("KUBECONFIG");
  g_unsetenv ("KUBERNETES_SERVICE_HOST");
  g_unsetenv ("KUBERNETES_SERVICE_PORT");
  g_unsetenv ("POD_NAMESPACE");
  g_setenv (LLMSBX_KUBE_SERVICEACCOUNT_DIR_ENV, fixture->dir, TRUE);
  g_setenv ("HOME", fixture->dir, TRUE);
  llmsbx_kube_set_exec_timeout_for_testing (0);
}

static void
remove_tree (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);

      if (g_file_test (child, G_FILE_TEST_IS_DIR) && !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
        remove_tree (child);
      else
        g_unlink (child);
    }
  g_rmdir (path);
}

static void
fixture_tear_down (Fixture       *fixture,
                   gconstpointer  data)
{
  remove_tree (fixture->dir);
  g_free (fixture->dir);
}

/* Writes dir/name (making its directory), returns the path. */
static char *
write_file (const char *dir,
            const char *name,
            const char *contents)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autofree char *parent = g_path_get_dirname (path);

  g_assert_cmpint (g_mkdir_with_parents (parent, 0700), ==, 0);
  g_file_set_contents (path, contents, -1, &error);
  g_assert_no_error (error);
  return g_steal_pointer (&path);
}

static char *
remove_file (const char *dir,
             const char *name)
{
  char *path = g_build_filename (dir, name, NULL);

  g_assert_cmpint (g_unlink (path), ==, 0);
  return path;
}

static char *
b64 (const char *text)
{
  return g_base64_encode ((const guchar *) text, strlen (text));
}

static void
assert_bytes (GBytes     *bytes,
              const char *expected)
{
  gsize size = 0;
  const char *data;

  g_assert_nonnull (bytes);
  data = g_bytes_get_data (bytes, &size);
  g_assert_cmpmem (data, size, expected, strlen (expected));
}

static void
assert_error (GError     *error,
              int         code,
              const char *part)
{
  g_assert_error (error, LLMSBX_ERROR, code);
  if (strstr (error->message, part) == NULL)
    g_error ("message \"%s\" lacks \"%s\"", error->message, part);
  g_assert_null (strstr (error->message, TOKEN));
}

/* A kubeconfig with the given user and cluster bodies (indented for YAML). */
static char *
kubeconfig (const char *cluster,
            const char *user,
            const char *extra)
{
  return g_strdup_printf ("apiVersion: v1\n"
                          "kind: Config\n"
                          "clusters:\n"
                          "- name: c1\n"
                          "  cluster:\n"
                          "%s"
                          "users:\n"
                          "- name: u1\n"
                          "  user:\n"
                          "%s"
                          "contexts:\n"
                          "- name: ctx\n"
                          "  context:\n"
                          "    cluster: c1\n"
                          "    user: u1\n"
                          "- name: ctx-ns\n"
                          "  context: {cluster: c1, user: u1, namespace: sandbox}\n"
                          "current-context: ctx\n"
                          "%s",
                          cluster, user, extra ? extra : "");
}

static LlmsbxKubeConnection *
load_text (Fixture     *fixture,
           const char  *text,
           const char  *context,
           GError     **error)
{
  g_autofree char *path = write_file (fixture->dir, "kubeconfig", text);

  return llmsbx_kube_connection_load (path, context, error);
}

static void
test_yaml (Fixture       *fixture,
           gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *ca = b64 (CA_PEM);
  g_autofree char *cert = b64 (CERT_PEM);
  g_autofree char *key = b64 (RSA_PEM);
  g_autofree char *cluster = g_strdup_printf ("    server: https://10.1.2.3:6443\n"
                                              "    certificate-authority-data: %s\n", ca);
  g_autofree char *user = g_strdup_printf ("    client-certificate-data: %s\n"
                                           "    client-key-data: %s\n", cert, key);
  g_autofree char *text = kubeconfig (cluster, user, NULL);
  g_autoptr(LlmsbxKubeConnection) c = load_text (fixture, text, NULL, &error);

  g_assert_no_error (error);
  g_assert_cmpstr (c->context_name, ==, "ctx");
  g_assert_cmpstr (c->server, ==, "https://10.1.2.3:6443");
  g_assert_cmpstr (c->namespace_, ==, "default");
  g_assert_null (c->token);
  assert_bytes (c->ca_pem, CA_PEM);
  assert_bytes (c->client_cert_pem, CERT_PEM);
  assert_bytes (c->client_key_pem, RSA_PEM);
  g_assert_false (c->insecure_skip_tls_verify);
  g_assert_null (c->tls_server_name);
  g_assert_null (c->proxy_url);
  g_assert_cmpint (c->expiry, ==, 0);
  g_assert_false (llmsbx_kube_connection_needs_refresh (c));
  /* Static credentials: refreshing changes nothing. */
  g_assert_true (llmsbx_kube_connection_refresh (c, 0, NULL, &error));
  g_assert_no_error (error);
  assert_bytes (c->client_key_pem, RSA_PEM);
}

static void
test_json (Fixture       *fixture,
           gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *ca = b64 (CA_PEM);
  g_autofree char *text = g_strdup_printf (
    "{\"apiVersion\": \"v1\", \"kind\": \"Config\", \"preferences\": {},\n"
    " \"clusters\": [{\"name\": \"c1\", \"cluster\": {\"server\": \"https://127.0.0.1:8443/\",\n"
    "   \"certificate-authority-data\": \"%s\", \"tls-server-name\": \"kubernetes.default\",\n"
    "   \"proxy-url\": \"socks5://127.0.0.1:1080\"}}],\n"
    " \"users\": [{\"name\": \"u1\", \"user\": {\"token\": \"" TOKEN "\"}}],\n"
    " \"contexts\": [{\"name\": \"a\", \"context\": {\"cluster\": \"c1\", \"user\": \"u1\"}},\n"
    "              {\"name\": \"b\", \"context\": {\"cluster\": \"c1\", \"user\": \"u1\", \"namespace\": \"ns-b\"}}],\n"
    " \"current-context\": \"a\"}\n", ca);
  g_autoptr(LlmsbxKubeConnection) a = load_text (fixture, text, NULL, &error);
  g_autoptr(LlmsbxKubeConnection) b = NULL;

  g_assert_no_error (error);
  g_assert_cmpstr (a->context_name, ==, "a");
  g_assert_cmpstr (a->server, ==, "https://127.0.0.1:8443");
  g_assert_cmpstr (a->namespace_, ==, "default");
  g_assert_cmpstr (a->token, ==, TOKEN);
  assert_bytes (a->ca_pem, CA_PEM);
  g_assert_cmpstr (a->tls_server_name, ==, "kubernetes.default");
  g_assert_cmpstr (a->proxy_url, ==, "socks5://127.0.0.1:1080");
  g_assert_null (a->client_cert_pem);

  b = load_text (fixture, text, "b", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (b->context_name, ==, "b");
  g_assert_cmpstr (b->namespace_, ==, "ns-b");
}

static void
test_named_context (Fixture       *fixture,
                    gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *text = kubeconfig ("    server: kube.example.com:6443/\n", "    token: " TOKEN "\n", NULL);
  g_autoptr(LlmsbxKubeConnection) c = load_text (fixture, text, "ctx-ns", &error);

  g_assert_no_error (error);
  g_assert_cmpstr (c->context_name, ==, "ctx-ns");
  g_assert_cmpstr (c->namespace_, ==, "sandbox");
  /* No scheme: https, as kubectl assumes. */
  g_assert_cmpstr (c->server, ==, "https://kube.example.com:6443");
  g_assert_null (c->ca_pem);
}

/* Three files: the first to define a name or current-context wins. */
static void
test_merge (Fixture       *fixture,
            gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *a = write_file (fixture->dir, "a/config",
                                   "clusters:\n"
                                   "- name: c1\n  cluster: {server: 'https://a:1'}\n"
                                   "contexts:\n"
                                   "- name: ctx\n  context: {cluster: c1, user: u1, namespace: from-a}\n");
  g_autofree char *b = write_file (fixture->dir, "b/config",
                                   "clusters:\n"
                                   "- name: c1\n  cluster: {server: 'https://b:1'}\n"
                                   "- name: c2\n  cluster: {server: 'https://b:2'}\n"
                                   "users:\n"
                                   "- name: u1\n  user: {tokenFile: token}\n"
                                   "contexts:\n"
                                   "- name: ctx\n  context: {cluster: c2, user: u1}\n"
                                   "- name: other\n  context: {cluster: c2, user: u1}\n"
                                   "current-context: ctx\n");
  g_autofree char *c = write_file (fixture->dir, "c/config",
                                   "users:\n"
                                   "- name: u1\n  user: {token: from-c}\n"
                                   "current-context: other\n");
  g_autofree char *missing = g_build_filename (fixture->dir, "missing", NULL);
  g_autofree char *list = g_strjoin (":", "", missing, a, b, a, c, "", NULL);
  g_autoptr(LlmsbxKubeConnection) conn = NULL;
  g_autoptr(LlmsbxKubeConnection) other = NULL;

  g_free (write_file (fixture->dir, "b/token", "  from-b-file\n"));
  g_setenv ("KUBECONFIG", list, TRUE);
  conn = llmsbx_kube_connection_load (NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (conn->context_name, ==, "ctx");
  g_assert_cmpstr (conn->server, ==, "https://a:1");
  g_assert_cmpstr (conn->namespace_, ==, "from-a");
  /* tokenFile relative to b/, where u1 is defined first; trimmed. */
  g_assert_cmpstr (conn->token, ==, "from-b-file");
  g_assert_nonnull (conn->source);

  /* A rotated token file is read again. */
  g_free (write_file (fixture->dir, "b/token", "rotated\n"));
  g_assert_true (llmsbx_kube_connection_refresh (conn, 0, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (conn->token, ==, "rotated");

  /* "" is unset, for both. */
  g_clear_pointer (&conn, llmsbx_kube_connection_free);
  conn = llmsbx_kube_connection_load ("", "", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (conn->context_name, ==, "ctx");

  other = llmsbx_kube_connection_load (NULL, "other", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (other->server, ==, "https://b:2");
  g_assert_cmpstr (other->namespace_, ==, "default");

  /* An explicit path ignores $KUBECONFIG. */
  g_clear_pointer (&conn, llmsbx_kube_connection_free);
  conn = llmsbx_kube_connection_load (b, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (conn->server, ==, "https://b:2");
}

static void
test_home (Fixture       *fixture,
           gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *text = kubeconfig ("    server: https://home:6443\n", "    token: " TOKEN "\n", NULL);
  g_autoptr(LlmsbxKubeConnection) c = NULL;

  g_free (write_file (fixture->dir, ".kube/config", text));
  /* An empty $KUBECONFIG counts as unset. */
  g_setenv ("KUBECONFIG", "", TRUE);
  c = llmsbx_kube_connection_load (NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (c->server, ==, "https://home:6443");
}

/* Paths relative to the file's directory, not the working directory. */
static void
test_relative_paths (Fixture       *fixture,
                     gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *conf_dir = g_build_filename (fixture->dir, "conf", NULL);
  g_autofree char *ca_abs = write_file (fixture->dir, "pki/ca.crt", CA_PEM);
  g_autofree char *cluster = g_strdup_printf ("    server: https://x:1\n    certificate-authority: %s\n", ca_abs);
  g_autofree char *text = kubeconfig (cluster,
                                      "    client-certificate: ../pki/client.crt\n"
                                      "    client-key: keys/client.key\n"
                                      "    tokenFile: ./token\n", NULL);
  g_autofree char *path = write_file (conf_dir, "config", text);
  g_autoptr(LlmsbxKubeConnection) c = NULL;
  g_autofree char *cwd = g_get_current_dir ();

  g_free (write_file (fixture->dir, "pki/client.crt", CERT_PEM));
  g_free (write_file (conf_dir, "keys/client.key", EC_PEM));
  g_free (write_file (conf_dir, "token", TOKEN "\n"));
  g_assert_cmpint (g_chdir ("/"), ==, 0);
  c = llmsbx_kube_connection_load (path, NULL, &error);
  g_assert_cmpint (g_chdir (cwd), ==, 0);
  g_assert_no_error (error);
  assert_bytes (c->ca_pem, CA_PEM);
  assert_bytes (c->client_cert_pem, CERT_PEM);
  assert_bytes (c->client_key_pem, EC_PEM);
  g_assert_cmpstr (c->token, ==, TOKEN);
}

/* *-data wins over the path, token over tokenFile. */
static void
test_data_wins (Fixture       *fixture,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *ca = b64 (CA_PEM);
  g_autofree char *cluster = g_strdup_printf ("    server: https://x:1\n"
                                              "    certificate-authority: does-not-exist\n"
                                              "    certificate-authority-data: %s\n", ca);
  g_autofree char *text = kubeconfig (cluster, "    token: " TOKEN "\n    tokenFile: does-not-exist\n", NULL);
  g_autoptr(LlmsbxKubeConnection) c = load_text (fixture, text, NULL, &error);

  g_assert_no_error (error);
  assert_bytes (c->ca_pem, CA_PEM);
  g_assert_cmpstr (c->token, ==, TOKEN);
  g_assert_null (c->source);
}

static void
test_key_formats (Fixture       *fixture,
                  gconstpointer  data)
{
  const char *keys[] = { RSA_PEM, EC_PEM, PKCS8_PEM };

  for (guint i = 0; i < G_N_ELEMENTS (keys); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *cert = b64 (CERT_PEM);
      g_autofree char *key = b64 (keys[i]);
      g_autofree char *user = g_strdup_printf ("    client-certificate-data: %s\n"
                                               /* base64 broken into lines, as some tools write it */
                                               "    client-key-data: \"%.8s\\n%s\"\n",
                                               cert, key, key + 8);
      g_autofree char *text = kubeconfig ("    server: https://x:1\n", user, NULL);
      g_autoptr(LlmsbxKubeConnection) c = load_text (fixture, text, NULL, &error);

      g_assert_no_error (error);
      assert_bytes (c->client_key_pem, keys[i]);
      assert_bytes (c->client_cert_pem, CERT_PEM);
    }
}

/* These PEM blocks are not real: GIO says so, naming the context. (The
 * kubernetes suite makes real ones of every key format.) */
static void
test_client_certificate (Fixture       *fixture,
                         gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *cert = b64 (CERT_PEM);
  g_autofree char *key = b64 (RSA_PEM);
  g_autofree char *user = g_strdup_printf ("    client-certificate-data: %s\n"
                                           "    client-key-data: %s\n", cert, key);
  g_autofree char *text = kubeconfig ("    server: https://x:1\n", user, NULL);
  g_autoptr(LlmsbxKubeConnection) c = load_text (fixture, text, NULL, &error);
  g_autoptr(LlmsbxKubeConnection) none = NULL;
  g_autoptr(GTlsCertificate) certificate = NULL;

  g_assert_no_error (error);
  certificate = llmsbx_kube_connection_new_client_certificate (c, &error);
  g_assert_null (certificate);
  assert_error (error, LLMSBX_ERROR_INVALID_ARGUMENT, "of context ctx cannot be used");
  g_clear_error (&error);

  none = llmsbx_kube_connection_new_explicit ("https://x", TOKEN, NULL, &error);
  g_assert_no_error (error);
  g_assert_null (llmsbx_kube_connection_new_client_certificate (none, &error));
  g_assert_no_error (error);
}

static void
test_insecure (Fixture       *fixture,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *text = kubeconfig ("    server: https://x:1\n    insecure-skip-tls-verify: true\n",
                                      "    token: " TOKEN "\n", NULL);
  g_autoptr(LlmsbxKubeConnection) c = load_text (fixture, text, NULL, &error);
  g_autofree char *ca = b64 (CA_PEM);
  g_autofree char *both_cluster = g_strdup_printf ("    server: https://x:1\n"
                                                   "    insecure-skip-tls-verify: yes\n"
                                                   "    certificate-authority-data: %s\n", ca);
  g_autofree char *both = kubeconfig (both_cluster, "    token: " TOKEN "\n", NULL);
  g_autofree char *off = kubeconfig ("    server: https://x:1\n    insecure-skip-tls-verify: false\n",
                                     "    {}\n", NULL);
  g_autoptr(LlmsbxKubeConnection) d = NULL;
  g_autoptr(LlmsbxKubeConnection) e = NULL;

  g_assert_no_error (error);
  g_assert_true (c->insecure_skip_tls_verify);
  g_assert_null (c->ca_pem);

  d = load_text (fixture, both, NULL, &error);
  g_assert_null (d);
  assert_error (error, LLMSBX_ERROR_INVALID_ARGUMENT, "insecure-skip-tls-verify cannot be used");
  g_clear_error (&error);

  e = load_text (fixture, off, NULL, &error);
  g_assert_no_error (error);
  g_assert_false (e->insecure_skip_tls_verify);
  g_assert_null (e->token);
}

/* ---- exec credential plugins ------------------------------------------- */

/* A plugin that logs its argv, one variable and KUBERNETES_EXEC_INFO next to
 * itself and counts its calls (in calls), then runs `body`. Named *.sh, which
 * the valgrind setup does not trace. */
static char *
write_plugin (const char *dir,
              const char *name,
              const char *body)
{
  g_autofree char *script = g_strdup_printf ("#!/bin/sh\n"
                                             "here=$(dirname \"$0\")\n"
                                             "printf '%%s\\n' \"$@\" > \"$here/args\"\n"
                                             "printf '%%s' \"$KUBERNETES_EXEC_INFO\" > \"$here/info\"\n"
                                             "printf '%%s' \"$PLUGIN_VAR\" > \"$here/var\"\n"
                                             "echo x >> \"$here/calls\"\n"
                                             "%s\n", body);
  char *path = write_file (dir, name, script);

  g_assert_cmpint (g_chmod (path, 0700), ==, 0);
  return path;
}

static char *
read_text (const char *dir,
           const char *name)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autoptr(GError) error = NULL;
  char *text = NULL;

  g_file_get_contents (path, &text, NULL, &error);
  g_assert_no_error (error);
  return text;
}

static char *
exec_user (const char *api,
           const char *command,
           const char *more)
{
  return g_strdup_printf ("    exec:\n"
                          "      apiVersion: %s\n"
                          "      command: %s\n"
                          "      args: [--cluster, 'two words']\n"
                          "      env:\n"
                          "      - name: PLUGIN_VAR\n"
                          "        value: from-kubeconfig\n"
                          "%s",
                          api, command, more ? more : "");
}

static void
test_exec_token (Fixture       *fixture,
                 gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *plugin_dir = g_build_filename (fixture->dir, "conf", NULL);
  g_autofree char *plugin = write_plugin (plugin_dir, "bin/plugin.sh",
                                          "n=$(wc -l < \"$here/calls\")\n"
                                          "echo 'progress on stderr' >&2\n"
                                          "printf '{\"apiVersion\":\"client.authentication.k8s.io/v1beta1\",'\n"
                                          "printf '\"kind\":\"ExecCredential\",\"status\":{\"token\":\"" TOKEN "-%s\",'  \"$n\"\n"
                                          "printf '\"expirationTimestamp\":\"2099-01-02T03:04:05Z\"}}'");
  /* Relative with a slash: relative to the kubeconfig's directory. */
  g_autofree char *user = exec_user ("client.authentication.k8s.io/v1beta1", "./bin/plugin.sh",
                                     "      provideClusterInfo: true\n");
  g_autofree char *text = kubeconfig ("    server: https://x:1\n    tls-server-name: kube\n", user, NULL);
  g_autofree char *path = write_file (plugin_dir, "config", text);
  g_autoptr(LlmsbxKubeConnection) c = llmsbx_kube_connection_load (path, NULL, &error);
  g_autofree char *args = NULL;
  g_autofree char *var = NULL;
  g_autofree char *info = NULL;
  g_autoptr(JsonNode) info_node = NULL;
  g_autoptr(GDateTime) expected = g_date_time_new_utc (2099, 1, 2, 3, 4, 5);
  JsonObject *spec;
  g_autofree char *bin = g_build_filename (plugin_dir, "bin", NULL);

  g_assert_true (g_file_test (plugin, G_FILE_TEST_IS_EXECUTABLE));
  g_assert_no_error (error);
  g_assert_cmpstr (c->token, ==, TOKEN "-1");
  g_assert_cmpint (c->expiry, ==, g_date_time_to_unix (expected) * G_USEC_PER_SEC);
  g_assert_false (llmsbx_kube_connection_needs_refresh (c));
  args = read_text (bin, "args");
  g_assert_cmpstr (args, ==, "--cluster\ntwo words\n");
  var = read_text (bin, "var");
  g_assert_cmpstr (var, ==, "from-kubeconfig");
  info = read_text (bin, "info");
  info_node = json_from_string (info, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (info_node), "kind"), ==, "ExecCredential");
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (info_node), "apiVersion"), ==,
                   "client.authentication.k8s.io/v1beta1");
  spec = json_object_get_object_member (json_node_get_object (info_node), "spec");
  g_assert_false (json_object_get_boolean_member (spec, "interactive"));
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (spec, "cluster"), "server"), ==,
                   "https://x:1");
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (spec, "cluster"), "tls-server-name"), ==,
                   "kube");

  /* Refresh runs it again. */
  g_assert_true (llmsbx_kube_connection_refresh (c, 0, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (c->token, ==, TOKEN "-2");
}

static void
test_exec_certificate (Fixture       *fixture,
                       gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *cert_json = g_strescape (CERT_PEM, NULL);
  g_autofree char *key_json = g_strescape (EC_PEM, NULL);
  g_autofree char *body = g_strdup_printf ("cat <<'EOF'\n"
                                           "{\"apiVersion\": \"client.authentication.k8s.io/v1\", \"kind\": \"ExecCredential\",\n"
                                           " \"status\": {\"clientCertificateData\": \"%s\", \"clientKeyData\": \"%s\"}}\n"
                                           "EOF", cert_json, key_json);
  g_autofree char *plugin = write_plugin (fixture->dir, "plugin.sh", body);
  g_autofree char *user = exec_user ("client.authentication.k8s.io/v1", plugin,
                                     "      interactiveMode: IfAvailable\n");
  g_autofree char *text = kubeconfig ("    server: https://x:1\n", user, NULL);
  g_autoptr(LlmsbxKubeConnection) c = load_text (fixture, text, NULL, &error);
  g_autofree char *info = NULL;

  g_assert_no_error (error);
  g_assert_null (c->token);
  assert_bytes (c->client_cert_pem, CERT_PEM);
  assert_bytes (c->client_key_pem, EC_PEM);
  g_assert_cmpint (c->expiry, ==, 0);
  info = read_text (fixture->dir, "info");
  g_assert_nonnull (strstr (info, "\"client.authentication.k8s.io/v1\""));
  /* No provideClusterInfo: no cluster. */
  g_assert_null (strstr (info, "cluster"));
}

/* A static token is what is sent: the plugin is never run. */
static void
test_exec_token_wins (Fixture       *fixture,
                      gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *plugin = write_plugin (fixture->dir, "plugin.sh", "exit 1");
  g_autofree char *exec = exec_user ("client.authentication.k8s.io/v1beta1", plugin, NULL);
  g_autofree char *user = g_strconcat ("    token: " TOKEN "\n", exec, NULL);
  g_autofree char *text = kubeconfig ("    server: https://x:1\n", user, NULL);
  g_autoptr(LlmsbxKubeConnection) c = load_text (fixture, text, NULL, &error);
  g_autofree char *calls = g_build_filename (fixture->dir, "calls", NULL);

  g_assert_no_error (error);
  g_assert_cmpstr (c->token, ==, TOKEN);
  g_assert_false (g_file_test (calls, G_FILE_TEST_EXISTS));
}

static LlmsbxKubeConnection *
load_plugin (Fixture     *fixture,
             const char  *api,
             const char  *body,
             const char  *more,
             GError     **error)
{
  g_autofree char *plugin = write_plugin (fixture->dir, "plugin.sh", body);
  g_autofree char *user = exec_user (api, plugin, more);
  g_autofree char *text = kubeconfig ("    server: https://x:1\n", user, NULL);

  return load_text (fixture, text, NULL, error);
}

#define V1BETA1 "client.authentication.k8s.io/v1beta1"

static void
test_exec_errors (Fixture       *fixture,
                  gconstpointer  data)
{
  struct {
    const char *api;
    const char *body;
    const char *more;
    int         code;
    const char *part;
  } cases[] = {
    { V1BETA1, "echo 'cannot log in: no session' >&2; exit 3", NULL, LLMSBX_ERROR_BACKEND_UNAVAILABLE,
      "failed with exit status 3: cannot log in: no session" },
    { V1BETA1, "kill -TERM $$", NULL, LLMSBX_ERROR_BACKEND_UNAVAILABLE, "killed by signal 15" },
    { V1BETA1, "echo 'not json'", NULL, LLMSBX_ERROR_PROTOCOL, "no valid ExecCredential" },
    { V1BETA1, "true", NULL, LLMSBX_ERROR_PROTOCOL, "it printed nothing" },
    { V1BETA1, "echo '{\"apiVersion\":\"" V1BETA1 "\",\"kind\":\"Pod\",\"status\":{\"token\":\"x\"}}'", NULL,
      LLMSBX_ERROR_PROTOCOL, "kind is not ExecCredential" },
    { V1BETA1, "echo '{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\",\"status\":{\"token\":\"x\"}}'",
      NULL, LLMSBX_ERROR_PROTOCOL, "apiVersion \"client.authentication.k8s.io/v1\"" },
    { V1BETA1, "echo '{\"apiVersion\":\"" V1BETA1 "\",\"kind\":\"ExecCredential\"}'", NULL,
      LLMSBX_ERROR_PROTOCOL, "no status" },
    { V1BETA1, "echo '{\"apiVersion\":\"" V1BETA1 "\",\"kind\":\"ExecCredential\",\"status\":{}}'", NULL,
      LLMSBX_ERROR_PROTOCOL, "neither a token nor a client certificate" },
    { V1BETA1, "echo '{\"apiVersion\":\"" V1BETA1 "\",\"kind\":\"ExecCredential\",\"status\":{\"clientKeyData\":\"k\"}}'", NULL,
      LLMSBX_ERROR_PROTOCOL, "without its" },
    { V1BETA1, "echo '{\"apiVersion\":\"" V1BETA1 "\",\"kind\":\"ExecCredential\",\"status\":{\"token\":5}}'", NULL,
      LLMSBX_ERROR_PROTOCOL, "not a string" },
    { V1BETA1, "echo '{\"apiVersion\":\"" V1BETA1 "\",\"kind\":\"ExecCredential\",\"status\":{\"token\":\"t\",\"expirationTimestamp\":\"soon\"}}'",
      NULL, LLMSBX_ERROR_PROTOCOL, "RFC 3339" },
    { "client.authentication.k8s.io/v1", "true", NULL, LLMSBX_ERROR_INVALID_ARGUMENT,
      "interactiveMode in kubeconfig" },
    { "client.authentication.k8s.io/v1", "true", "      interactiveMode: Always\n", LLMSBX_ERROR_INVALID_ARGUMENT,
      "needs a terminal" },
    { "client.authentication.k8s.io/v1alpha1", "true", NULL, LLMSBX_ERROR_INVALID_ARGUMENT,
      "is not supported" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(LlmsbxKubeConnection) c = load_plugin (fixture, cases[i].api, cases[i].body, cases[i].more, &error);

      g_test_message ("case %u: %s", i, error ? error->message : "(no error)");
      g_assert_null (c);
      assert_error (error, cases[i].code, cases[i].part);
    }
}

static void
test_exec_missing (Fixture       *fixture,
                   gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *user = exec_user (V1BETA1, "llmsbx-no-such-credential-plugin",
                                     "      installHint: install it with apt-get install x\n");
  g_autofree char *text = kubeconfig ("    server: https://x:1\n", user, NULL);
  g_autoptr(LlmsbxKubeConnection) c = load_text (fixture, text, NULL, &error);

  g_assert_null (c);
  assert_error (error, LLMSBX_ERROR_BACKEND_UNAVAILABLE, "install it with apt-get install x");
  g_assert_nonnull (strstr (error->message, "users[\"u1\"].user.exec"));
}

static void
test_exec_timeout (Fixture       *fixture,
                   gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(LlmsbxKubeConnection) c = NULL;
  gint64 start = g_get_monotonic_time ();

  llmsbx_kube_set_exec_timeout_for_testing (300);
  /* A child that keeps the pipes open must not hold us either. */
  c = load_plugin (fixture, V1BETA1, "sleep 30 & exec sleep 30", NULL, &error);
  g_assert_null (c);
  assert_error (error, LLMSBX_ERROR_BACKEND_UNAVAILABLE, "did not finish within 300 ms");
  g_assert_cmpint (g_get_monotonic_time () - start, <, 10 * G_USEC_PER_SEC);
  g_clear_error (&error);

  /* Gone, but its child holds the pipes: killed with the plugin's group. */
  start = g_get_monotonic_time ();
  c = load_plugin (fixture, V1BETA1, "sleep 31 &\nexit 0", NULL, &error);
  g_assert_null (c);
  assert_error (error, LLMSBX_ERROR_BACKEND_UNAVAILABLE, "did not finish within 300 ms");
  g_assert_cmpint (g_get_monotonic_time () - start, <, 10 * G_USEC_PER_SEC);
  llmsbx_kube_set_exec_timeout_for_testing (0);
}

static gpointer
cancel_soon (gpointer user_data)
{
  g_usleep (200 * G_TIME_SPAN_MILLISECOND);
  g_cancellable_cancel (user_data);
  return NULL;
}

/* A refresh of a run with a deadline, or that can be cancelled, ends there
 * even while the plugin (here hanging from its second call on) runs. */
static void
test_exec_refresh_bounded (Fixture       *fixture,
                           gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(LlmsbxKubeConnection) c = NULL;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GThread) canceller = NULL;
  g_autofree char *calls = NULL;

  c = load_plugin (fixture, V1BETA1,
                   "if [ \"$(wc -l < \"$here/calls\")\" -gt 1 ]; then sleep 30 & exec sleep 30; fi\n"
                   "echo '{\"apiVersion\":\"" V1BETA1 "\",\"kind\":\"ExecCredential\",\"status\":{\"token\":\"" TOKEN "\"}}'",
                   NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (c->token, ==, TOKEN);

  /* The deadline comes long before the exec timeout (30 s). */
  g_assert_false (llmsbx_kube_connection_refresh (c, g_get_monotonic_time () + 300 * G_TIME_SPAN_MILLISECOND,
                                                  NULL, &error));
  assert_error (error, LLMSBX_ERROR_TIMEOUT, "had not finished when the time ran out");
  g_clear_error (&error);

  canceller = g_thread_new ("canceller", cancel_soon, cancellable);
  g_assert_false (llmsbx_kube_connection_refresh (c, 0, cancellable, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_nonnull (strstr (error->message, "was killed"));
  g_clear_error (&error);

  /* Past either already: the plugin is not run at all. */
  g_assert_false (llmsbx_kube_connection_refresh (c, 0, cancellable, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&error);
  g_assert_false (llmsbx_kube_connection_refresh (c, g_get_monotonic_time () - 1, NULL, &error));
  assert_error (error, LLMSBX_ERROR_TIMEOUT, "was not run");
  calls = read_text (fixture->dir, "calls");
  g_assert_cmpstr (calls, ==, "x\nx\nx\n");
  /* A failed refresh keeps the credential it had. */
  g_assert_cmpstr (c->token, ==, TOKEN);
}

/* ---- in the cluster, explicit ------------------------------------------ */

static void
test_in_cluster (Fixture       *fixture,
                 gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(LlmsbxKubeConnection) c = NULL;
  g_autoptr(LlmsbxKubeConnection) d = NULL;
  g_autoptr(LlmsbxKubeConnection) e = NULL;

  g_free (write_file (fixture->dir, "token", TOKEN "\n"));
  g_free (write_file (fixture->dir, "ca.crt", CA_PEM));
  g_free (write_file (fixture->dir, "namespace", "sandboxes\n"));
  g_setenv ("KUBERNETES_SERVICE_HOST", "10.96.0.1", TRUE);
  g_setenv ("KUBERNETES_SERVICE_PORT", "443", TRUE);

  /* No kubeconfig anywhere: the fallback. */
  c = llmsbx_kube_connection_load (NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_null (c->context_name);
  g_assert_cmpstr (c->server, ==, "https://10.96.0.1:443");
  g_assert_cmpstr (c->token, ==, TOKEN);
  assert_bytes (c->ca_pem, CA_PEM);
  g_assert_cmpstr (c->namespace_, ==, "sandboxes");
  /* Bound service-account tokens rotate: refresh reads the file again. */
  g_free (write_file (fixture->dir, "token", "rotated"));
  g_assert_true (llmsbx_kube_connection_refresh (c, 0, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (c->token, ==, "rotated");

  /* An empty $KUBECONFIG file holds nothing: the fallback too. */
  {
    g_autofree char *empty = write_file (fixture->dir, "empty", "");
    g_autoptr(LlmsbxKubeConnection) f = NULL;

    g_setenv ("KUBECONFIG", empty, TRUE);
    f = llmsbx_kube_connection_load (NULL, NULL, &error);
    g_assert_no_error (error);
    g_assert_cmpstr (f->server, ==, "https://10.96.0.1:443");
    g_unsetenv ("KUBECONFIG");
  }

  g_setenv ("KUBERNETES_SERVICE_HOST", "fd00::1", TRUE);
  g_setenv ("POD_NAMESPACE", "from-env", TRUE);
  g_free (remove_file (fixture->dir, "ca.crt"));
  d = llmsbx_kube_connection_load_in_cluster (&error);
  g_assert_no_error (error);
  g_assert_cmpstr (d->server, ==, "https://[fd00::1]:443");
  g_assert_cmpstr (d->namespace_, ==, "from-env");
  g_assert_null (d->ca_pem);

  g_unsetenv ("POD_NAMESPACE");
  g_free (remove_file (fixture->dir, "namespace"));
  e = llmsbx_kube_connection_load_in_cluster (&error);
  g_assert_no_error (error);
  g_assert_cmpstr (e->namespace_, ==, "default");
}

static void
test_in_cluster_errors (Fixture       *fixture,
                        gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(LlmsbxKubeConnection) c = NULL;

  /* Neither a kubeconfig nor a cluster. */
  c = llmsbx_kube_connection_load (NULL, NULL, &error);
  g_assert_null (c);
  assert_error (error, LLMSBX_ERROR_BACKEND_UNAVAILABLE, "no Kubernetes configuration");
  g_assert_nonnull (strstr (error->message, ".kube/config"));
  g_clear_error (&error);

  c = llmsbx_kube_connection_load_in_cluster (&error);
  g_assert_null (c);
  assert_error (error, LLMSBX_ERROR_BACKEND_UNAVAILABLE, "KUBERNETES_SERVICE_HOST");
  g_clear_error (&error);

  /* A context asked for is never the in-cluster configuration. */
  g_setenv ("KUBERNETES_SERVICE_HOST", "10.96.0.1", TRUE);
  g_setenv ("KUBERNETES_SERVICE_PORT", "443", TRUE);
  c = llmsbx_kube_connection_load (NULL, "prod", &error);
  g_assert_null (c);
  assert_error (error, LLMSBX_ERROR_INVALID_ARGUMENT, "context \"prod\": no kubeconfig found");
  g_clear_error (&error);

  /* No token file. */
  c = llmsbx_kube_connection_load (NULL, NULL, &error);
  g_assert_null (c);
  assert_error (error, LLMSBX_ERROR_INVALID_ARGUMENT, "of the in-cluster service account");
}

static void
test_explicit (Fixture       *fixture,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *ca = write_file (fixture->dir, "ca.pem", CA_PEM);
  g_autofree char *junk = write_file (fixture->dir, "junk", "not a certificate");
  g_autofree char *missing = g_build_filename (fixture->dir, "missing.pem", NULL);
  g_autoptr(LlmsbxKubeConnection) c = llmsbx_kube_connection_new_explicit ("https://api.example:6443/", TOKEN, ca, &error);
  g_autoptr(LlmsbxKubeConnection) d = NULL;
  LlmsbxKubeConnection *bad;

  g_assert_no_error (error);
  g_assert_null (c->context_name);
  g_assert_cmpstr (c->server, ==, "https://api.example:6443");
  g_assert_cmpstr (c->token, ==, TOKEN);
  g_assert_cmpstr (c->namespace_, ==, "default");
  assert_bytes (c->ca_pem, CA_PEM);

  d = llmsbx_kube_connection_new_explicit ("http://127.0.0.1:8080", NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_null (d->token);
  g_assert_null (d->ca_pem);

  bad = llmsbx_kube_connection_new_explicit ("api.example:6443", TOKEN, NULL, &error);
  g_assert_null (bad);
  assert_error (error, LLMSBX_ERROR_INVALID_ARGUMENT, "http:// or https://");
  g_clear_error (&error);
  bad = llmsbx_kube_connection_new_explicit ("ftp://api.example", TOKEN, NULL, &error);
  g_assert_null (bad);
  assert_error (error, LLMSBX_ERROR_INVALID_ARGUMENT, "http:// or https://");
  g_clear_error (&error);
  bad = llmsbx_kube_connection_new_explicit (NULL, TOKEN, NULL, &error);
  g_assert_null (bad);
  assert_error (error, LLMSBX_ERROR_INVALID_ARGUMENT, "server URL is needed");
  g_clear_error (&error);
  bad = llmsbx_kube_connection_new_explicit ("https://x", TOKEN, missing, &error);
  g_assert_null (bad);
  assert_error (error, LLMSBX_ERROR_INVALID_ARGUMENT, "missing.pem");
  g_clear_error (&error);
  bad = llmsbx_kube_connection_new_explicit ("https://x", TOKEN, junk, &error);
  g_assert_null (bad);
  assert_error (error, LLMSBX_ERROR_INVALID_ARGUMENT, "does not hold a PEM certificate");
}

/* The backend's token-file setting: the file stays the token's source. */
static void
test_explicit_token_file (Fixture       *fixture,
                          gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = write_file (fixture->dir, "token", TOKEN "-one\n");
  g_autofree char *missing = g_build_filename (fixture->dir, "no-token", NULL);
  g_autoptr(LlmsbxKubeConnection) c = llmsbx_kube_connection_new_explicit ("https://x:1", NULL, NULL, &error);
  g_autoptr(LlmsbxKubeConnection) fixed = llmsbx_kube_connection_new_explicit ("https://x:1", TOKEN, NULL, &error);
  g_autofree char *what = NULL;
  g_autofree char *fixed_what = NULL;

  g_assert_no_error (error);
  g_assert_false (llmsbx_kube_connection_can_refresh (c));
  g_assert_true (llmsbx_kube_connection_set_token_file (c, path, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (c->token, ==, TOKEN "-one");
  g_assert_true (llmsbx_kube_connection_can_refresh (c));
  g_assert_false (llmsbx_kube_connection_needs_refresh (c));
  what = llmsbx_kube_connection_describe_credentials (c);
  g_assert_nonnull (strstr (what, path));
  g_assert_null (strstr (what, TOKEN));

  /* Rotated: refresh reads the new token. */
  g_free (write_file (fixture->dir, "token", TOKEN "-two"));
  g_assert_true (llmsbx_kube_connection_refresh (c, 0, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (c->token, ==, TOKEN "-two");

  fixed_what = llmsbx_kube_connection_describe_credentials (fixed);
  g_assert_cmpstr (fixed_what, ==, "the bearer token");
  g_assert_false (llmsbx_kube_connection_can_refresh (fixed));

  g_assert_false (llmsbx_kube_connection_set_token_file (c, missing, &error));
  assert_error (error, LLMSBX_ERROR_INVALID_ARGUMENT, "no-token");
  /* A failed read changes nothing. */
  g_assert_cmpstr (c->token, ==, TOKEN "-two");
}

/* ---- every way a kubeconfig can be wrong ------------------------------- */

static void
test_errors (Fixture       *fixture,
             gconstpointer  data)
{
  g_autofree char *good_user = g_strdup ("    token: " TOKEN "\n");
  g_autofree char *cert = b64 (CERT_PEM);
  g_autofree char *not_pem = b64 ("just some bytes");
  g_autofree char *cert_only = g_strdup_printf ("    client-certificate-data: %s\n", cert);
  g_autofree char *not_pem_user = g_strdup_printf ("    client-certificate-data: %s\n"
                                                   "    client-key-data: %s\n", cert, not_pem);
  struct {
    char       *text;
    const char *context;
    const char *part;
  } cases[] = {
    { g_strdup ("clusters: [\n  - name: x\n"), NULL, "is not valid YAML" },
    { g_strdup ("key: \"unterminated\n"), NULL, "line " },
    { g_strdup ("- a\n- b\n"), NULL, "not a mapping" },
    { kubeconfig ("    server: https://x:1\n", good_user, NULL), "nope", "context \"nope\" is not defined in kubeconfig" },
    { g_strdup ("clusters: []\nusers: [{name: u1, user: {}}]\n"
                "contexts: [{name: ctx, context: {cluster: gone, user: u1}}]\ncurrent-context: ctx\n"),
      NULL, "cluster \"gone\" of context \"ctx\" is not defined" },
    { g_strdup ("clusters: [{name: c1, cluster: {server: 'https://x'}}]\n"
                "contexts: [{name: ctx, context: {cluster: c1, user: ghost}}]\ncurrent-context: ctx\n"),
      NULL, "user \"ghost\" of context \"ctx\" is not defined" },
    { g_strdup ("clusters: [{name: c1, cluster: {server: 'https://x'}}]\n"
                "contexts: [{name: ctx, context: {user: u1}}]\ncurrent-context: ctx\n"),
      NULL, "names no cluster" },
    { g_strdup ("clusters: [{name: c1, cluster: {server: 'https://x'}}]\n"
                "contexts: [{name: ctx, context: {cluster: c1}}]\n"),
      NULL, "sets no current-context" },
    { kubeconfig ("    server: https://x:1\n    certificate-authority-data: 'bm90!!base64'\n", good_user, NULL),
      NULL, "clusters[\"c1\"].cluster.certificate-authority-data in kubeconfig" },
    { kubeconfig ("    server: https://x:1\n    certificate-authority-data: 'YWJj'\n", good_user, NULL),
      NULL, "does not hold a PEM certificate" },
    { kubeconfig ("    server: https://x:1\n    certificate-authority-data: 'YWJjZA'\n", good_user, NULL),
      NULL, "not a multiple of 4" },
    { kubeconfig ("    server: https://x:1\n    certificate-authority-data: 'YW=jZA=='\n", good_user, NULL),
      NULL, "padding inside" },
    { kubeconfig ("    server: https://x:1\n    certificate-authority: no-such-ca.crt\n", good_user, NULL),
      NULL, "no-such-ca.crt" },
    { kubeconfig ("    server: https://x:1\n", "    tokenFile: no-such-token\n", NULL), NULL, "no-such-token" },
    /* Nothing is read without a bound. */
    { kubeconfig ("    server: https://x:1\n    certificate-authority: /dev/zero\n", good_user, NULL), NULL,
      "/dev/zero: larger than 4194304 bytes" },
    { kubeconfig ("    server: https://x:1\n", cert_only, NULL), NULL, "without a client-key" },
    { kubeconfig ("    server: https://x:1\n", not_pem_user, NULL), NULL, "client-key-data in kubeconfig" },
    { kubeconfig ("    server: https://x:1\n", "    auth-provider: {name: gcp}\n", NULL), NULL,
      "the gcp auth provider is not supported" },
    { kubeconfig ("    insecure-skip-tls-verify: true\n", good_user, NULL), NULL, "has no server" },
    { kubeconfig ("    server: 'ftp://x'\n", good_user, NULL), NULL, "http:// or https://" },
    { kubeconfig ("    server: https://x:1\n    insecure-skip-tls-verify: \"true\"\n", good_user, NULL), NULL,
      "insecure-skip-tls-verify in kubeconfig" },
    { kubeconfig ("    server: https://x:1\n    insecure-skip-tls-verify: maybe\n", good_user, NULL), NULL,
      "must be true or false, not \"maybe\"" },
    { kubeconfig ("    server: [https://x:1]\n", good_user, NULL), NULL, "server in kubeconfig" },
    { g_strdup ("clusters: {c1: {server: x}}\n"), NULL, "clusters in kubeconfig" },
    { g_strdup ("clusters: [{name: c1, cluster: {server: 'https://a'}}, {name: c1, cluster: {server: 'https://b'}}]\n"),
      NULL, "two clusters named \"c1\"" },
    { g_strdup ("users: [{user: {token: x}}]\n"), NULL, "users[0] in kubeconfig" },
    { g_strdup ("users: [plain]\n"), NULL, "must be a mapping with a name" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(LlmsbxKubeConnection) c = load_text (fixture, cases[i].text, cases[i].context, &error);

      g_test_message ("case %u: %s", i, error ? error->message : "(no error)");
      g_assert_null (c);
      assert_error (error, LLMSBX_ERROR_INVALID_ARGUMENT, cases[i].part);
      /* Every message names the file. */
      g_assert_nonnull (strstr (error->message, fixture->dir));
      g_free (cases[i].text);
    }
}

static void
test_missing_file (Fixture       *fixture,
                   gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = g_build_filename (fixture->dir, "no-such-kubeconfig", NULL);
  g_autoptr(LlmsbxKubeConnection) c = NULL;

  /* Named: it must exist, whatever else there is. */
  g_setenv ("KUBERNETES_SERVICE_HOST", "10.96.0.1", TRUE);
  g_setenv ("KUBERNETES_SERVICE_PORT", "443", TRUE);
  c = llmsbx_kube_connection_load (path, NULL, &error);
  g_assert_null (c);
  assert_error (error, LLMSBX_ERROR_INVALID_ARGUMENT, "no-such-kubeconfig");

  /* A directory is not a kubeconfig either. */
  g_clear_error (&error);
  c = llmsbx_kube_connection_load (fixture->dir, NULL, &error);
  g_assert_null (c);
  assert_error (error, LLMSBX_ERROR_INVALID_ARGUMENT, "cannot read kubeconfig");
}

/* YAML 1.1 as kubectl reads it: anchors, null values, block scalars. */
static void
test_yaml_features (Fixture       *fixture,
                    gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *text = g_strdup ("# comment\n"
                                    "clusters:\n"
                                    "- name: c1\n"
                                    "  cluster: &base\n"
                                    "    server: https://anchored:1\n"
                                    "    proxy-url: ~\n"
                                    "    tls-server-name: ''\n"
                                    "- name: c2\n"
                                    "  cluster: *base\n"
                                    "users:\n"
                                    "- name: u1\n"
                                    "  user:\n"
                                    "    token: >-\n"
                                    "      folded-" TOKEN "\n"
                                    "contexts:\n"
                                    "- name: ctx\n"
                                    "  context: {cluster: c2, user: u1, namespace: null}\n"
                                    "current-context: ctx\n"
                                    "preferences: {}\n"
                                    "---\n"
                                    "ignored: second document\n");
  g_autoptr(LlmsbxKubeConnection) c = load_text (fixture, text, NULL, &error);

  g_assert_no_error (error);
  g_assert_cmpstr (c->server, ==, "https://anchored:1");
  g_assert_null (c->proxy_url);
  g_assert_null (c->tls_server_name);
  g_assert_cmpstr (c->token, ==, "folded-" TOKEN);
  g_assert_cmpstr (c->namespace_, ==, "default");
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) g_test_add (path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
  ADD ("/kube-config/yaml", test_yaml);
  ADD ("/kube-config/json", test_json);
  ADD ("/kube-config/yaml-features", test_yaml_features);
  ADD ("/kube-config/named-context", test_named_context);
  ADD ("/kube-config/merge", test_merge);
  ADD ("/kube-config/home", test_home);
  ADD ("/kube-config/relative-paths", test_relative_paths);
  ADD ("/kube-config/data-wins", test_data_wins);
  ADD ("/kube-config/key-formats", test_key_formats);
  ADD ("/kube-config/client-certificate", test_client_certificate);
  ADD ("/kube-config/insecure", test_insecure);
  ADD ("/kube-config/exec/token", test_exec_token);
  ADD ("/kube-config/exec/certificate", test_exec_certificate);
  ADD ("/kube-config/exec/token-wins", test_exec_token_wins);
  ADD ("/kube-config/exec/errors", test_exec_errors);
  ADD ("/kube-config/exec/missing", test_exec_missing);
  ADD ("/kube-config/exec/timeout", test_exec_timeout);
  ADD ("/kube-config/exec/refresh-bounded", test_exec_refresh_bounded);
  ADD ("/kube-config/in-cluster", test_in_cluster);
  ADD ("/kube-config/in-cluster-errors", test_in_cluster_errors);
  ADD ("/kube-config/explicit", test_explicit);
  ADD ("/kube-config/explicit-token-file", test_explicit_token_file);
  ADD ("/kube-config/errors", test_errors);
  ADD ("/kube-config/missing-file", test_missing_file);
#undef ADD

  return g_test_run ();
}
