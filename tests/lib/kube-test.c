/* kube-test.c: the test Kubernetes API server, from a C test program. */
#include "kube-test.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SHARED_SERVER_VARIABLE "LLMSBX_TEST_KUBE_SERVER"

static KubeTestServer *shared_server;
static GPid shared_owner;

static char *
member (JsonObject *object,
        const char *name)
{
  JsonNode *node = json_object_get_member (object, name);

  return node && JSON_NODE_HOLDS_VALUE (node) ? g_strdup (json_node_get_string (node)) : NULL;
}

static void
read_ready (KubeTestServer *server,
            const char     *line)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;

  json_parser_load_from_data (parser, line, -1, &error);
  g_assert_no_error (error);
  server->ready_line = g_strdup (line);
  server->ready = json_object_ref (json_node_get_object (json_parser_get_root (parser)));
  server->url = member (server->ready, "url");
  server->admin_url = member (server->ready, "admin_url");
  server->state_dir = member (server->ready, "state_dir");
  server->docker_label = member (server->ready, "docker_label");
  server->kubeconfig = g_build_filename (server->state_dir, "kubeconfig", NULL);
}

KubeTestServer *
kube_test_server_start (const char *config,
                        const char *first_arg,
                        ...)
{
  g_autoptr(GSubprocessLauncher) launcher =
    g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  g_autofree char *script = g_test_build_filename (G_TEST_DIST, "kubernetes", "kube-test-server.py", NULL);
  g_autofree char *pki = g_test_build_filename (G_TEST_BUILT, "kube-test-pki", NULL);
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GDataInputStream) out = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *line = NULL;
  KubeTestServer *server = g_new0 (KubeTestServer, 1);
  va_list args;

  g_ptr_array_add (argv, "/usr/bin/python3");
  g_ptr_array_add (argv, script);
  g_ptr_array_add (argv, "--mode");
  g_ptr_array_add (argv, "tls-cert");
  g_ptr_array_add (argv, "--watch-stdin");
  g_ptr_array_add (argv, "--pki-dir");
  g_ptr_array_add (argv, pki);
  if (config != NULL)
    {
      g_ptr_array_add (argv, "--config");
      g_ptr_array_add (argv, (gpointer) config);
    }
  va_start (args, first_arg);
  for (const char *arg = first_arg; arg != NULL; arg = va_arg (args, const char *))
    g_ptr_array_add (argv, (gpointer) arg);
  va_end (args);
  g_ptr_array_add (argv, NULL);

  server->process = g_subprocess_launcher_spawnv (launcher, (const char * const *) argv->pdata, &error);
  g_assert_no_error (error);
  out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (server->process));
  line = g_data_input_stream_read_line (out, NULL, NULL, &error);
  g_assert_no_error (error);
  if (line == NULL)
    g_error ("The test Kubernetes API server did not start (see its stderr above)");
  read_ready (server, line);
  return server;
}

void
kube_test_server_configure (KubeTestServer *server,
                            const char     *json)
{
  g_autoptr(GSubprocess) curl = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *url = g_strconcat (server->admin_url, json ? "/config" : "/reset", NULL);

  curl = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE, &error, "curl", "-sf", "-X", "POST",
                           "-H", "Content-Type: application/json", "--data-binary", json ? json : "{}", url, NULL);
  g_assert_no_error (error);
  g_subprocess_wait_check (curl, NULL, &error);
  g_assert_no_error (error);
}

void
kube_test_server_stop (KubeTestServer *server)
{
  g_autoptr(GError) error = NULL;

  if (server == NULL)
    return;
  /* A server of the parent test program is the parent's to stop. */
  if (server->process != NULL)
    {
      g_subprocess_send_signal (server->process, SIGTERM);
      g_subprocess_wait_check (server->process, NULL, &error);
      if (error != NULL)
        g_printerr ("# the test Kubernetes API server ended badly: %s\n", error->message);
      g_object_unref (server->process);
    }
  g_free (server->ready_line);
  json_object_unref (server->ready);
  g_free (server->url);
  g_free (server->admin_url);
  g_free (server->state_dir);
  g_free (server->kubeconfig);
  g_free (server->docker_label);
  g_free (server);
}

static void
stop_shared (void)
{
  /* Not from a forked test child, whose exit must leave the server alone. */
  if (getpid () != shared_owner)
    return;
  g_clear_pointer (&shared_server, kube_test_server_stop);
}

KubeTestServer *
kube_test_shared_server (void)
{
  return shared_server;
}

void
kube_test_prepare_shared (void)
{
  const char *inherited = g_getenv (SHARED_SERVER_VARIABLE);

  if (shared_server != NULL)
    return;
  /* A test's subprocess (g_test_trap_subprocess() runs the program again)
   * uses its parent's server, which outlives it. */
  if (inherited != NULL && *inherited != '\0')
    {
      shared_server = g_new0 (KubeTestServer, 1);
      read_ready (shared_server, inherited);
      g_setenv ("KUBECONFIG", shared_server->kubeconfig, TRUE);
      return;
    }
  shared_server = kube_test_server_start (NULL, NULL);
  shared_owner = getpid ();
  g_setenv (SHARED_SERVER_VARIABLE, shared_server->ready_line, TRUE);
  /* Before any thread: every backend the tests make reads it. */
  g_setenv ("KUBECONFIG", shared_server->kubeconfig, TRUE);
  atexit (stop_shared);
}

static char *
docker_out (const char * const *argv)
{
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *out = NULL;

  process = g_subprocess_newv (argv, G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_SILENCE, &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (process, NULL, NULL, &out, NULL, &error);
  g_assert_no_error (error);
  return g_strstrip (g_steal_pointer (&out));
}

static char *
pod_filter (const char *filter)
{
  if (g_str_has_prefix (filter, "id="))
    return g_strdup_printf ("label=io.kubernetes.pod.name=%s", filter + 3);
  return g_strdup (filter);
}

/* Whether any of the pods @names (lines) is still in the API. */
static gboolean
any_in_api (const char *names)
{
  g_autofree char *url = g_strconcat (shared_server->admin_url, "/pods", NULL);
  const char *argv[] = { "curl", "-sf", url, NULL };
  g_autofree char *report = docker_out (argv);
  g_auto(GStrv) lines = g_strsplit (names, "\n", -1);

  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_autofree char *quoted = g_strdup_printf ("\"%s\"", lines[i]);

      if (strstr (report, quoted) != NULL)
        return TRUE;
    }
  return FALSE;
}

char *
kube_test_ps (const char *filter)
{
  g_autofree char *own = g_strdup_printf ("label=%s", shared_server->docker_label);
  g_autofree char *which = pod_filter (filter);
  const char *argv[] = { "docker", "ps", "-a", "--filter", own, "--filter", which,
                         "--format", "{{.Label \"io.kubernetes.pod.name\"}}", NULL };
  gint64 deadline = g_get_monotonic_time () + 15 * G_USEC_PER_SEC;

  /* A pod deleted with grace 0 leaves the API at once and its containers
   * a moment later, as a kubelet cleans up after a forced deletion: wait
   * for containers whose pods are gone. */
  for (;;)
    {
      g_autofree char *found = docker_out (argv);

      if (*found == '\0' || any_in_api (found) || g_get_monotonic_time () > deadline)
        return g_steal_pointer (&found);
      g_usleep (100000);
    }
}

char *
kube_test_running (const char *id)
{
  g_autofree char *own = g_strdup_printf ("label=%s", shared_server->docker_label);
  g_autofree char *which = g_strdup_printf ("label=io.kubernetes.pod.name=%s", id);
  const char *argv[] = { "docker", "ps", "-a", "--filter", own, "--filter", which, "--format", "{{.State}}", NULL };
  g_autofree char *state = docker_out (argv);

  if (*state == '\0')
    return g_strdup ("");
  return g_strdup (g_str_equal (state, "running") ? "true" : "false");
}

GSubprocess *
kube_test_kill (const char *id)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *script = g_strdup_printf ("docker kill $(docker ps -q --filter label=%s "
                                             "--filter label=io.kubernetes.pod.name=%s)",
                                             shared_server->docker_label, id);
  GSubprocess *killer = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE, &error, "sh", "-c", script, NULL);

  g_assert_no_error (error);
  return killer;
}

char *
kube_test_docker_id (const char *id)
{
  g_autofree char *own = g_strdup_printf ("label=%s", shared_server->docker_label);
  g_autofree char *which = g_strdup_printf ("label=io.kubernetes.pod.name=%s", id);
  const char *argv[] = { "docker", "ps", "-aq", "--no-trunc", "--filter", own, "--filter", which, NULL };
  g_autofree char *found = docker_out (argv);

  /* One container per pod here: the sessions' pods have one. */
  g_assert_null (strchr (found, '\n'));
  return *found != '\0' ? g_steal_pointer (&found) : NULL;
}

JsonObject *
kube_test_pod (const char *id)
{
  JsonObject *certs = json_object_get_object_member (shared_server->ready, "client_certs");
  JsonObject *rsa = json_object_get_object_member (certs, "rsa");
  g_autofree char *url = g_strdup_printf ("%s/api/v1/namespaces/default/pods/%s", shared_server->url, id);
  g_autofree char *ca = member (shared_server->ready, "ca");
  g_autofree char *cert = member (rsa, "cert");
  g_autofree char *key = member (rsa, "key");
  const char *argv[] = { "curl", "-s", "--cacert", ca, "--cert", cert, "--key", key, url, NULL };
  g_autofree char *out = docker_out (argv);
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(GError) error = NULL;
  JsonObject *pod;

  root = json_from_string (out, &error);
  g_assert_no_error (error);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (root));
  pod = json_node_get_object (root);
  /* A Status: 404 for a pod that is gone; anything else is a failure. */
  if (g_strcmp0 (json_object_get_string_member_with_default (pod, "kind", ""), "Status") == 0)
    {
      g_assert_cmpint (json_object_get_int_member_with_default (pod, "code", 0), ==, 404);
      return NULL;
    }
  return json_object_ref (pod);
}

void
kube_test_set_pod_pids_limit (gint64 limit)
{
  g_autofree char *json = g_strdup_printf ("{\"pod_pids_limit\": %" G_GINT64_FORMAT "}", limit);

  kube_test_server_configure (shared_server, json);
}

gboolean
kube_test_volume_exists (const char *path)
{
  g_autofree char *pods = g_build_filename (shared_server->state_dir, "pods", NULL);
  g_autofree char *uid = NULL;
  g_autofree char *own = g_strdup_printf ("label=%s", shared_server->docker_label);
  g_autofree char *which = NULL;
  const char *rest;
  gint64 deadline = g_get_monotonic_time () + 15 * G_USEC_PER_SEC;

  g_assert_true (g_str_has_prefix (path, pods) && path[strlen (pods)] == '/');
  rest = path + strlen (pods) + 1;
  uid = g_strndup (rest, strcspn (rest, "/"));
  which = g_strdup_printf ("label=io.kubernetes.pod.uid=%s", uid);
  for (;;)
    {
      const char *argv[] = { "docker", "ps", "-aq", "--filter", own, "--filter", which, NULL };
      g_autofree char *containers = docker_out (argv);

      if (!g_file_test (path, G_FILE_TEST_EXISTS))
        return FALSE;
      if (*containers != '\0' || g_get_monotonic_time () > deadline)
        return TRUE;
      g_usleep (100000);
    }
}
