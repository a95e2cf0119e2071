/* test-kubernetes-backend.c: what only the Kubernetes backend does, against
 * the test API server: protocol versions, pod manifests, start failures,
 * attaching, and the server's fault injection. The shared contract runs in
 * tests/backends with LLMSBX_TEST_BACKEND=kubernetes. */
#include <llmsbx.h>
#include <string.h>

#include "backend-test.h"
#include "kube-test.h"

static KubeTestServer *server;

static LlmsbxBackend *
new_backend (void)
{
  g_autoptr(GError) error = NULL;
  LlmsbxBackend *backend = llmsbx_registry_create_backend (llmsbx_registry_get_default (), "kubernetes", &error);

  g_assert_no_error (error);
  return backend;
}

static LlmsbxContainerSpec *
new_spec (const char *name)
{
  LlmsbxContainerSpec *spec = llmsbx_container_spec_new ();

  spec->name = g_strdup (name);
  spec->image = g_strdup ("llmsbx/python:bookworm");
  spec->command = g_strsplit ("sleep infinity", " ", -1);
  spec->workdir = g_strdup ("/tmp");
  spec->labels = g_strsplit ("io.llmsbx.test=kubernetes-backend", ",", -1);
  return spec;
}

static int
run (LlmsbxBackend *backend,
     const char    *id,
     const char    *script,
     char         **out,
     GError       **error)
{
  const char *argv[] = { "sh", "-c", script, NULL };
  g_autoptr(LlmsbxExecRequest) request = llmsbx_exec_request_new (argv);
  g_autoptr(LlmsbxOutputCollector) output = llmsbx_output_collector_new (0);
  g_autoptr(GBytes) bytes = NULL;
  int status = -1;

  request->deadline = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;
  if (!llmsbx_backend_exec (backend, id, request, output, &status, NULL, error))
    return -1;
  bytes = llmsbx_output_collector_steal_bytes (output, LLMSBX_OUTPUT_STREAM_STDOUT);
  if (out != NULL)
    *out = bytes ? g_strndup (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes)) : g_strdup ("");
  return status;
}

static void
remove_and_check (LlmsbxBackend *backend,
                  const char    *id)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *filter = g_strdup_printf ("id=%s", id);
  g_autofree char *left = NULL;

  llmsbx_backend_remove_sandbox (backend, id, NULL, &error);
  g_assert_no_error (error);
  left = kube_test_ps (filter);
  g_assert_cmpstr (left, ==, "");
}

static void
test_exec_basics (void)
{
  g_autoptr(LlmsbxBackend) backend = new_backend ();
  g_autoptr(LlmsbxContainerSpec) spec = new_spec ("llmsbx-kube-basics");
  g_autoptr(GError) error = NULL;
  g_autofree char *id = NULL;
  g_autofree char *out = NULL;
  g_autofree char *pwd = NULL;

  g_assert_true (llmsbx_backend_probe (backend, NULL, &error));
  g_assert_no_error (error);
  id = llmsbx_backend_create_sandbox (backend, spec, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (id, ==, "llmsbx-kube-basics");
  g_assert_cmpint (run (backend, id, "echo out; echo err >&2; exit 3", &out, &error), ==, 3);
  g_assert_no_error (error);
  g_assert_cmpstr (out, ==, "out\n");
  g_assert_cmpint (run (backend, id, "kill -KILL $$", NULL, &error), ==, 137);
  g_assert_no_error (error);
  g_assert_cmpint (run (backend, id, "pwd", &pwd, &error), ==, 0);
  g_assert_cmpstr (pwd, ==, "/tmp\n");
  remove_and_check (backend, id);
}

static void
test_stdin_and_env (gconstpointer data)
{
  gboolean v4 = GPOINTER_TO_INT (data);
  KubeTestServer *own = v4 ? kube_test_server_start (NULL, "--disable-v5", NULL) : NULL;
  g_autoptr(LlmsbxBackend) backend = new_backend ();
  g_autoptr(LlmsbxContainerSpec) spec = new_spec (v4 ? "llmsbx-kube-v4" : "llmsbx-kube-v5");
  const char *argv[] = { "sh", "-c", "wc -c; echo \"$GREETING\"; pwd", NULL };
  g_autoptr(LlmsbxExecRequest) request = llmsbx_exec_request_new (argv);
  g_autoptr(LlmsbxOutputCollector) output = llmsbx_output_collector_new (0);
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *id = NULL;
  int status = -1;

  if (own != NULL)
    {
      g_autoptr(GVariant) settings = g_variant_ref_sink (g_variant_new_parsed ("{'kubeconfig': <%s>}",
                                                                               own->kubeconfig));

      llmsbx_backend_apply_settings (backend, settings, &error);
      g_assert_no_error (error);
    }
  id = llmsbx_backend_create_sandbox (backend, spec, NULL, &error);
  g_assert_no_error (error);
  request->stdin_data = g_bytes_new_static ("hello stdin\n", 12);
  request->env = g_strsplit ("GREETING=hi there", ",", -1);
  request->workdir = g_strdup ("/usr");
  request->deadline = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;
  llmsbx_backend_exec (backend, id, request, output, &status, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (status, ==, 0);
  bytes = llmsbx_output_collector_steal_bytes (output, LLMSBX_OUTPUT_STREAM_STDOUT);
  g_assert_cmpmem (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes), "12\nhi there\n/usr\n", 17);
  llmsbx_backend_remove_sandbox (backend, id, NULL, &error);
  g_assert_no_error (error);
  kube_test_server_stop (own);
}

static void
test_not_started (void)
{
  g_autoptr(LlmsbxBackend) backend = new_backend ();
  g_autoptr(LlmsbxContainerSpec) spec = new_spec ("llmsbx-kube-not-started");
  const char *argv[] = { "no-such-program", NULL };
  g_autoptr(LlmsbxExecRequest) request = llmsbx_exec_request_new (argv);
  g_autoptr(LlmsbxOutputCollector) output = llmsbx_output_collector_new (0);
  g_autoptr(GError) error = NULL;
  g_autofree char *id = NULL;
  int status = -1;

  id = llmsbx_backend_create_sandbox (backend, spec, NULL, &error);
  g_assert_no_error (error);
  g_assert_false (llmsbx_backend_exec (backend, id, request, output, &status, NULL, &error));
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_COMMAND_NOT_STARTED);
  g_clear_error (&error);
  g_strfreev (request->argv);
  request->argv = g_strsplit ("true", " ", -1);
  request->workdir = g_strdup ("/no/such/dir");
  g_assert_false (llmsbx_backend_exec (backend, id, request, output, &status, NULL, &error));
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_COMMAND_NOT_STARTED);
  g_clear_error (&error);
  remove_and_check (backend, id);
}

static void
test_archives (void)
{
  g_autoptr(LlmsbxBackend) backend = new_backend ();
  g_autoptr(LlmsbxContainerSpec) spec = new_spec ("llmsbx-kube-archives");
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) archive = NULL;
  g_autoptr(GBytes) back = NULL;
  g_autofree char *id = NULL;
  g_autofree char *out = NULL;

  id = llmsbx_backend_create_sandbox (backend, spec, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (run (backend, id, "mkdir -p /tmp/a/b && echo data > /tmp/a/b/f", NULL, &error), ==, 0);
  archive = llmsbx_backend_get_archive (backend, id, "/tmp/a", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_bytes_get_size (archive), >=, 1024);
  g_assert_cmpint (run (backend, id, "mkdir /tmp/dest", NULL, &error), ==, 0);
  llmsbx_backend_put_archive (backend, id, "/tmp/dest", archive, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (run (backend, id, "cat /tmp/dest/a/b/f", &out, &error), ==, 0);
  g_assert_cmpstr (out, ==, "data\n");
  back = llmsbx_backend_get_archive (backend, id, "/tmp/none", NULL, &error);
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_FILE_NOT_FOUND);
  g_assert_null (back);
  remove_and_check (backend, id);
}

static void
test_manifest (void)
{
  g_autoptr(LlmsbxBackend) backend = new_backend ();
  g_autoptr(LlmsbxContainerSpec) spec = new_spec ("llmsbx-kube-manifest");
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) found = NULL;
  g_autofree char *id = NULL;
  g_autofree char *out = NULL;
  const LlmsbxSandboxInfo *info;

  g_strfreev (spec->labels);
  spec->labels = g_strsplit ("app=ours,io.llmsbx.test=kubernetes-manifest", ",", -1);
  spec->pod_manifest = g_variant_ref_sink (g_variant_new_parsed (
    "{'metadata': <{'labels': <{'app': <'theirs'>}>}>,"
    " 'spec': <{'containers': <[{'name': <'box'>, 'image': <'llmsbx/python:bookworm'>, 'tty': <true>,"
    "                            'securityContext': <{'runAsUser': <int64 1000>, 'runAsGroup': <int64 1000>}>}]>}>}"));
  id = llmsbx_backend_create_sandbox (backend, spec, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (g_str_has_prefix (id, "llmsbx-kube-manifest-"));
  g_assert_cmpint (run (backend, id, "id -u", &out, &error), ==, 0);
  g_assert_cmpstr (out, ==, "1000\n");
  found = llmsbx_backend_list_sandboxes (backend, (const char *[]) { "io.llmsbx.test=kubernetes-manifest", NULL },
                                         NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (found->len, ==, 1);
  info = g_ptr_array_index (found, 0);
  g_assert_cmpstr (info->id, ==, id);
  /* Ours merged in, theirs kept. */
  g_assert_cmpstr (llmsbx_sandbox_info_get_label (info, "app"), ==, "theirs");
  remove_and_check (backend, id);
}

static void
test_fail_fast (gconstpointer data)
{
  const char *reason = data;
  g_autoptr(LlmsbxBackend) backend = new_backend ();
  g_autofree char *image = g_strdup_printf ("llmsbx/scenario-%s:x", reason);
  g_autofree char *name = g_ascii_strdown (reason, -1);
  g_autofree char *pod = g_strdup_printf ("llmsbx-kube-%s", name);
  g_autofree char *config = g_strdup_printf ("{\"image_scenarios\": {\"%s\": \"%s\"}}", image, reason);
  g_autoptr(LlmsbxContainerSpec) spec = new_spec (pod);
  g_autoptr(GError) error = NULL;
  g_autofree char *id = NULL;
  g_autofree char *filter = g_strdup_printf ("id=%s", pod);
  g_autofree char *left = NULL;
  gint64 start = g_get_monotonic_time ();
  int expected;

  kube_test_server_configure (server, config);
  g_free (spec->image);
  spec->image = g_strdup (image);
  id = llmsbx_backend_create_sandbox (backend, spec, NULL, &error);
  g_assert_null (id);
  expected = g_str_has_prefix (reason, "ErrImage") || g_str_has_prefix (reason, "ImagePull")
             ? LLMSBX_ERROR_IMAGE_NOT_FOUND : LLMSBX_ERROR_CONTAINER_FAILED;
  g_assert_error (error, LLMSBX_ERROR, expected);
  g_assert_nonnull (strstr (error->message, reason));
  g_assert_nonnull (strstr (error->message, pod));
  g_assert_cmpint (g_get_monotonic_time () - start, <, 15 * G_USEC_PER_SEC);
  left = kube_test_ps (filter);
  g_assert_cmpstr (left, ==, "");
  kube_test_server_configure (server, NULL);
}

static void
test_attach (void)
{
  g_autoptr(LlmsbxBackend) backend = new_backend ();
  g_autoptr(LlmsbxContainerSpec) spec = new_spec ("llmsbx-kube-attach");
  g_autoptr(GError) error = NULL;
  g_autofree char *id = NULL;
  g_autofree char *attached = NULL;
  g_autofree char *out = NULL;

  id = llmsbx_backend_create_sandbox (backend, spec, NULL, &error);
  g_assert_no_error (error);
  attached = llmsbx_backend_attach_sandbox (backend, "llmsbx-kube-attach", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (attached, ==, id);
  g_assert_cmpint (run (backend, attached, "echo here", &out, &error), ==, 0);
  g_assert_cmpstr (out, ==, "here\n");
  g_assert_null (llmsbx_backend_attach_sandbox (backend, "llmsbx-kube-nobody", NULL, &error));
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_CONTAINER_FAILED);
  g_clear_error (&error);
  remove_and_check (backend, id);
}

static void
test_create_faults (void)
{
  g_autoptr(LlmsbxBackend) backend = new_backend ();
  g_autoptr(LlmsbxContainerSpec) spec = new_spec ("llmsbx-kube-faults");
  g_autoptr(GError) error = NULL;
  g_autofree char *id = NULL;
  gint64 start;

  /* 429 with Retry-After: waited out, then created. */
  kube_test_server_configure (server, "{\"fail_requests\": [{\"method\": \"POST\", \"path\": \"/pods$\", "
                                      "\"code\": 429, \"retry_after\": 1, \"count\": 1}]}");
  start = g_get_monotonic_time ();
  id = llmsbx_backend_create_sandbox (backend, spec, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_get_monotonic_time () - start, >=, G_USEC_PER_SEC);
  remove_and_check (backend, id);

  /* 500 on create: a clear error. */
  kube_test_server_configure (server, "{\"fail_requests\": [{\"method\": \"POST\", \"path\": \"/pods$\", "
                                      "\"code\": 500, \"count\": 1, \"message\": \"etcd is on fire\"}]}");
  g_assert_null (llmsbx_backend_create_sandbox (backend, spec, NULL, &error));
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_CONTAINER_FAILED);
  g_assert_nonnull (strstr (error->message, "etcd is on fire"));
  g_clear_error (&error);
  kube_test_server_configure (server, NULL);
}

static void
test_stream_faults (void)
{
  /* With a ping between 3-byte fragments, fewer bytes: the pongs of
   * 60000 pings would fill the server's socket, which then resets. */
  static const struct { const char *config; guint bytes; } shapes[] = {
    { "{\"exec_chunk_bytes\": 1}", 200000 },
    { "{\"exec_fragment_bytes\": 3}", 200000 },
    { "{\"exec_fragment_bytes\": 3, \"exec_ping_between_fragments\": true}", 3000 },
    { "{\"exec_empty_messages\": true, \"exec_status_delay_ms\": 300}", 200000 },
    { "{\"exec_coalesce_bytes\": 300000, \"exec_message_bytes\": 1000000}", 200000 },
  };
  g_autoptr(LlmsbxBackend) backend = new_backend ();
  g_autoptr(LlmsbxContainerSpec) spec = new_spec ("llmsbx-kube-stream-faults");
  g_autoptr(GError) error = NULL;
  g_autofree char *id = NULL;

  id = llmsbx_backend_create_sandbox (backend, spec, NULL, &error);
  g_assert_no_error (error);
  for (gsize i = 0; i < G_N_ELEMENTS (shapes); i++)
    {
      g_autofree char *out = NULL;
      g_autofree char *script = g_strdup_printf ("head -c %u /dev/zero | tr '\\0' x; exit 5", shapes[i].bytes);
      int status;

      g_test_message ("output shaped by %s", shapes[i].config);
      kube_test_server_configure (server, shapes[i].config);
      status = run (backend, id, script, &out, &error);
      g_assert_no_error (error);
      g_assert_cmpint (status, ==, 5);
      g_assert_cmpuint (strlen (out), ==, shapes[i].bytes);
      kube_test_server_configure (server, NULL);
    }

  /* Dropped mid-stream: an error, not an exit status. */
  kube_test_server_configure (server, "{\"exec_drop_after_bytes\": 10}");
  g_assert_cmpint (run (backend, id, "head -c 100000 /dev/zero", NULL, &error), ==, -1);
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_PROTOCOL);
  g_clear_error (&error);
  kube_test_server_configure (server, NULL);
  remove_and_check (backend, id);
}

/* The shared server's (JSON) kubeconfig with its cluster's URL at @host instead
 * of 127.0.0.1, and tls-server-name @server_name (or none), in a file. */
static char *
kubeconfig_at (const char *host,
               const char *server_name)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GString) url = NULL;
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autofree char *file = g_strdup_printf ("kubeconfig-%s-%s.json", host, server_name ? server_name : "none");
  g_autofree char *path = g_build_filename (g_get_tmp_dir (), file, NULL);
  JsonArray *clusters;

  g_autofree char *dir = g_path_get_dirname (server->kubeconfig);
  g_autofree char *json = g_build_filename (dir, "kubeconfig.json", NULL);

  json_parser_load_from_file (parser, json, &error);
  g_assert_no_error (error);
  clusters = json_object_get_array_member (json_node_get_object (json_parser_get_root (parser)), "clusters");
  g_assert_cmpuint (json_array_get_length (clusters), >, 0);
  for (guint i = 0; i < json_array_get_length (clusters); i++)
    {
      JsonObject *cluster = json_object_get_object_member (json_array_get_object_element (clusters, i), "cluster");

      url = g_string_new (json_object_get_string_member (cluster, "server"));
      g_assert_cmpuint (g_string_replace (url, "//127.0.0.1:", "//", 1), ==, 1);
      g_string_insert (url, strlen ("https://"), host);
      g_string_insert_c (url, strlen ("https://") + strlen (host), ':');
      json_object_set_string_member (cluster, "server", url->str);
      g_string_free (g_steal_pointer (&url), TRUE);
      if (server_name != NULL)
        json_object_set_string_member (cluster, "tls-server-name", server_name);
    }
  json_generator_set_root (generator, json_parser_get_root (parser));
  json_generator_to_file (generator, path, &error);
  g_assert_no_error (error);
  return g_steal_pointer (&path);
}

static LlmsbxBackend *
backend_for (const char *kubeconfig)
{
  g_autoptr(GVariant) settings = g_variant_ref_sink (g_variant_new_parsed ("{'kubeconfig': <%s>}", kubeconfig));
  g_autoptr(GError) error = NULL;
  LlmsbxBackend *backend = new_backend ();

  llmsbx_backend_apply_settings (backend, settings, &error);
  g_assert_no_error (error);
  return backend;
}

/* tls-server-name, as kubectl has it: the server at ::ffff:127.0.0.1 (its
 * 127.0.0.1 through an IPv4-mapped address, which is not a name of its
 * certificate: those are IP 127.0.0.1 and localhost) is refused without
 * it, and trusted with localhost, over REST and the exec WebSocket alike. */
static void
test_tls_server_name (void)
{
  g_autofree char *bare = kubeconfig_at ("[::ffff:127.0.0.1]", NULL);
  g_autofree char *named = kubeconfig_at ("[::ffff:127.0.0.1]", "localhost");
  g_autofree char *wrong = kubeconfig_at ("127.0.0.1", "wrong.example");
  g_autoptr(LlmsbxBackend) refused = backend_for (bare);
  g_autoptr(LlmsbxBackend) mismatched = backend_for (wrong);
  g_autoptr(LlmsbxBackend) trusted = backend_for (named);
  g_autoptr(LlmsbxContainerSpec) spec = new_spec ("llmsbx-kube-server-name");
  g_autoptr(GPtrArray) listed = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *id = NULL;
  g_autofree char *out = NULL;

  listed = llmsbx_backend_list_sandboxes (refused, NULL, NULL, &error);
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_BACKEND_UNAVAILABLE);
  g_test_message ("without tls-server-name: %s", error->message);
  g_assert_nonnull (strstr (error->message, "certificate"));
  g_assert_null (listed);
  g_clear_error (&error);

  /* The name is what is verified, even where the URL's host would pass. */
  listed = llmsbx_backend_list_sandboxes (mismatched, NULL, NULL, &error);
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_BACKEND_UNAVAILABLE);
  g_assert_nonnull (strstr (error->message, "certificate"));
  g_assert_null (listed);
  g_clear_error (&error);

  listed = llmsbx_backend_list_sandboxes (trusted, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (listed);
  id = llmsbx_backend_create_sandbox (trusted, spec, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (run (trusted, id, "echo over the WebSocket", &out, &error), ==, 0);
  g_assert_no_error (error);
  g_assert_cmpstr (out, ==, "over the WebSocket\n");
  remove_and_check (trusted, id);

  /* And it was the SNI: the pod's creation and its exec WebSocket said
   * localhost (the other tests' clients name 127.0.0.1). */
  {
    g_autofree char *url = g_strconcat (server->admin_url, "/log", NULL);
    const char *argv[] = { "curl", "-sf", url, NULL };
    g_autoptr(GSubprocess) curl = g_subprocess_newv (argv, G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error);
    g_autofree char *log = NULL;
    g_autoptr(JsonNode) root = NULL;
    JsonArray *entries;
    gboolean exec_named = FALSE, create_named = FALSE;

    g_assert_no_error (error);
    g_subprocess_communicate_utf8 (curl, NULL, NULL, &log, NULL, &error);
    g_assert_no_error (error);
    g_assert_true (g_subprocess_get_successful (curl));
    root = json_from_string (log, &error);
    g_assert_no_error (error);
    entries = json_node_get_array (root);
    for (guint i = 0; i < json_array_get_length (entries); i++)
      {
        JsonObject *entry = json_array_get_object_element (entries, i);
        const char *path = json_object_get_string_member_with_default (entry, "path", "");
        const char *method = json_object_get_string_member_with_default (entry, "method", "");
        JsonNode *sni = json_object_get_member (entry, "sni");
        const char *name = sni != NULL && JSON_NODE_HOLDS_VALUE (sni) ? json_node_get_string (sni) : NULL;

        if (g_str_has_suffix (path, "/pods/llmsbx-kube-server-name/exec"))
          {
            g_assert_cmpstr (name, ==, "localhost");
            exec_named = TRUE;
          }
        else if (g_str_equal (method, "POST") && g_str_has_suffix (path, "/pods") &&
                 g_strcmp0 (name, "localhost") == 0)
          create_named = TRUE;
      }
    g_assert_true (exec_named);
    g_assert_true (create_named);
  }
}

static void
test_runtime_configs_refused (void)
{
  g_autoptr(LlmsbxBackend) backend = new_backend ();
  g_autoptr(LlmsbxContainerSpec) spec = new_spec ("llmsbx-kube-runtime-configs");
  g_autoptr(GError) error = NULL;

  spec->runtime_configs = g_variant_ref_sink (g_variant_new_parsed ("{'mem_limit': <'512m'>}"));
  g_assert_null (llmsbx_backend_create_sandbox (backend, spec, NULL, &error));
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "pod_manifest"));
}

/* A preset's pod fragment as the pod manifest: its user, read-only root
 * and memory limit hold in the pod. */
static void
test_preset_fragment (gconstpointer data)
{
  const char *name = data;
  g_autoptr(GError) error = NULL;
  g_autoptr(LlmsbxSecurityPreset) preset = llmsbx_get_security_preset (name, "python", "kubernetes", &error);
  g_autoptr(LlmsbxBackend) backend = new_backend ();
  g_autofree char *pod = g_strdup_printf ("llmsbx-kube-preset-%s", name);
  g_autoptr(LlmsbxContainerSpec) spec = new_spec (pod);
  const LlmsbxSecurityLimits *limits;
  g_autofree char *id = NULL;
  g_autofree char *uid = NULL;
  g_autofree char *expected_uid = NULL;
  g_autofree char *memory = NULL;
  g_autofree char *expected_memory = NULL;
  GVariant *fragment;
  int written;

  g_assert_no_error (error);
  fragment = llmsbx_security_preset_get_pod_manifest_fragment (preset);
  g_assert_nonnull (fragment);
  limits = llmsbx_security_preset_get_limits (preset);
  spec->pod_manifest = g_variant_ref (fragment);
  if (limits->workdir != NULL)
    {
      g_free (spec->workdir);
      spec->workdir = g_strdup (limits->workdir);
    }
  id = llmsbx_backend_create_sandbox (backend, spec, NULL, &error);
  g_assert_no_error (error);

  g_assert_cmpint (run (backend, id, "id -u", &uid, &error), ==, 0);
  g_assert_no_error (error);
  if (limits->user != NULL && limits->uid >= 0)
    {
      expected_uid = g_strdup_printf ("%" G_GINT64_FORMAT "\n", limits->uid);
      g_assert_cmpstr (uid, ==, expected_uid);
    }
  written = run (backend, id, "touch /llmsbx-preset-probe 2>/dev/null", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (written == 0, ==, !limits->read_only_root);
  if (limits->memory_bytes > 0)
    {
      g_assert_cmpint (run (backend, id, "cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || "
                                         "cat /sys/fs/cgroup/memory.max", &memory, &error), ==, 0);
      expected_memory = g_strdup_printf ("%" G_GUINT64_FORMAT "\n", limits->memory_bytes);
      g_assert_cmpstr (memory, ==, expected_memory);
    }
  if (limits->workdir != NULL)
    {
      g_autofree char *script = g_strdup_printf ("cd %s && echo ok > probe && cat probe", limits->workdir);
      g_autofree char *out = NULL;

      g_assert_cmpint (run (backend, id, script, &out, &error), ==, 0);
      g_assert_cmpstr (out, ==, "ok\n");
    }
  remove_and_check (backend, id);
}

/* A pod deleted under an exec stream ends the command with 137, as a
 * killed command would: the stream's end says the sandbox is gone, as a
 * plain exec's does (and as the engines' streams do). */
static void
test_stream_pod_gone (void)
{
  g_autoptr(LlmsbxBackend) backend = new_backend ();
  g_autoptr(LlmsbxContainerSpec) spec = new_spec ("llmsbx-kube-stream-gone");
  const char *argv[] = { "sh", "-c", "echo up; exec sleep 60", NULL };
  g_autoptr(LlmsbxExecRequest) request = llmsbx_exec_request_new (argv);
  g_autoptr(LlmsbxExecStream) stream = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) up = NULL;
  g_autofree char *id = NULL;
  int status = -1;

  id = llmsbx_backend_create_sandbox (backend, spec, NULL, &error);
  g_assert_no_error (error);
  stream = llmsbx_backend_open_exec_stream (backend, id, request, NULL, &error);
  g_assert_no_error (error);
  /* Once the command runs. */
  up = llmsbx_exec_stream_read (stream, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (up);
  remove_and_check (backend, id);
  for (;;)
    {
      g_autoptr(GBytes) chunk = llmsbx_exec_stream_read (stream, NULL, NULL, &error);

      if (chunk == NULL)
        break;
    }
  g_assert_no_error (error);
  g_assert_false (llmsbx_exec_stream_wait (stream, &status, NULL, &error));
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_CONTAINER_FAILED);
  g_assert_nonnull (strstr (error->message, "no longer running"));
  g_clear_error (&error);
  llmsbx_exec_stream_close (stream, NULL);
}

static void
keep_log_line (LlmsbxSandboxSession *session,
               guint                 level,
               const char           *session_id,
               const char           *message,
               gpointer              user_data)
{
  g_string_append_printf (user_data, "%s\n", message);
}

/* An image without the runner (here, the image's copy hidden under an
 * emptyDir): the session uploads the host's (LLMSBX_RUNNER_DIR) into the pod
 * and runs through it over the exec WebSocket, the program and the
 * interactive kernel alike. */
static void
test_runner_uploaded (void)
{
  g_autoptr(GString) log = g_string_new (NULL);
  g_autoptr(LlmsbxSandboxSession) session = NULL;
  g_autoptr(LlmsbxSandboxSession) interactive = NULL;
  g_autoptr(LlmsbxExecutionResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *filter = NULL;
  g_autofree char *left = NULL;
  const char *manifest =
    "{\"metadata\": {\"labels\": {\"io.llmsbx.test\": \"kubernetes-runner-upload\"}},"
    " \"spec\": {\"containers\": [{\"volumeMounts\": [{\"name\": \"hide\", \"mountPath\": \"/usr/libexec/llmsbx\"}]}],"
    "           \"volumes\": [{\"name\": \"hide\", \"emptyDir\": {\"medium\": \"Memory\"}}]}}";

  for (guint i = 0; i < 2; i++)
    {
      g_autoptr(LlmsbxSandboxSession) s = g_object_new (i == 0 ? LLMSBX_TYPE_SANDBOX_SESSION
                                                               : LLMSBX_TYPE_INTERACTIVE_SANDBOX_SESSION,
                                                        "lang", "python", "backend", "kubernetes",
                                                        "image", "llmsbx/python:bookworm",
                                                        "code-runner", LLMSBX_CODE_RUNNER_MODE_RESIDENT, NULL);

      g_assert_true (llmsbx_sandbox_session_set_pod_manifest_json (s, manifest, &error));
      g_assert_no_error (error);
      g_signal_connect (s, "log", G_CALLBACK (keep_log_line), log);
      g_assert_true (llmsbx_sandbox_session_open (s, NULL, &error));
      g_assert_no_error (error);
      if (i == 0)
        session = g_steal_pointer (&s);
      else
        interactive = g_steal_pointer (&s);
    }

  result = llmsbx_sandbox_session_run (session, "import sys; print(sys.argv[0] != '', 6 * 7)", NULL, 0, NULL,
                                       &error);
  g_assert_no_error (error);
  g_assert_cmpstr (llmsbx_execution_result_get_stdout (result), ==, "True 42\n");
  g_clear_object (&result);
  result = llmsbx_sandbox_session_run (interactive, "x = 41", NULL, 0, NULL, &error);
  g_assert_no_error (error);
  g_clear_object (&result);
  result = llmsbx_sandbox_session_run (interactive, "x + 1", NULL, 0, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (llmsbx_execution_result_get_stdout (result), ==, "42\n");
  g_test_message ("%s", log->str);
  g_assert_nonnull (strstr (log->str, "runner: started the uploaded /tmp/.llmsbx-runner-"));
  g_assert_null (strstr (log->str, "using the exec path"));

  for (guint i = 0; i < 2; i++)
    {
      LlmsbxSandboxSession *s = i == 0 ? session : interactive;
      g_autofree char *id = g_strdup (llmsbx_sandbox_session_get_container_id (s));

      g_assert_true (llmsbx_sandbox_session_close (s, NULL, &error));
      g_assert_no_error (error);
      g_free (filter);
      filter = g_strdup_printf ("id=%s", id);
      g_free (left);
      left = kube_test_ps (filter);
      g_assert_cmpstr (left, ==, "");
    }
}

int
main (int argc, char **argv)
{
  int status;

  g_test_init (&argc, &argv, NULL);
  g_setenv ("LLMSBX_TEST_BACKEND", "kubernetes", TRUE);
  backend_test_prepare ();
  server = kube_test_shared_server ();

  g_test_add_func ("/kubernetes/exec-basics", test_exec_basics);
  g_test_add_data_func ("/kubernetes/stdin-env/v5", GINT_TO_POINTER (FALSE), test_stdin_and_env);
  g_test_add_data_func ("/kubernetes/stdin-env/v4", GINT_TO_POINTER (TRUE), test_stdin_and_env);
  g_test_add_func ("/kubernetes/not-started", test_not_started);
  g_test_add_func ("/kubernetes/archives", test_archives);
  g_test_add_func ("/kubernetes/manifest", test_manifest);
  g_test_add_data_func ("/kubernetes/fail-fast/ErrImagePull", "ErrImagePull", test_fail_fast);
  g_test_add_data_func ("/kubernetes/fail-fast/ImagePullBackOff", "ImagePullBackOff", test_fail_fast);
  g_test_add_data_func ("/kubernetes/fail-fast/CreateContainerError", "CreateContainerError", test_fail_fast);
  g_test_add_data_func ("/kubernetes/fail-fast/CrashLoopBackOff", "CrashLoopBackOff", test_fail_fast);
  g_test_add_data_func ("/kubernetes/fail-fast/Unschedulable", "Unschedulable", test_fail_fast);
  g_test_add_func ("/kubernetes/attach", test_attach);
  g_test_add_func ("/kubernetes/create-faults", test_create_faults);
  g_test_add_func ("/kubernetes/stream-faults", test_stream_faults);
  g_test_add_func ("/kubernetes/runtime-configs-refused", test_runtime_configs_refused);
  g_test_add_func ("/kubernetes/tls-server-name", test_tls_server_name);
  g_test_add_data_func ("/kubernetes/preset/development", "development", test_preset_fragment);
  g_test_add_data_func ("/kubernetes/preset/production", "production", test_preset_fragment);
  g_test_add_data_func ("/kubernetes/preset/strict", "strict", test_preset_fragment);
  g_test_add_data_func ("/kubernetes/preset/educational", "educational", test_preset_fragment);
  g_test_add_func ("/kubernetes/stream-pod-gone", test_stream_pod_gone);
  g_test_add_func ("/kubernetes/runner-uploaded", test_runner_uploaded);
  status = g_test_run ();
  return status;
}
