/* llmsbx-kubernetes-backend.c: sandboxes as pods on a Kubernetes cluster.
 *
 * Everything goes through the cluster's API (libsoup 3): pods are created,
 * waited for and deleted over REST, commands run over the exec
 * subresource's WebSocket, files move as tar through exec, as `kubectl cp`
 * does. The session's orchestration is the same as on every backend. */
#include "llmsbx-kubernetes-backend-private.h"

#include <string.h>

#include "llmsbx-json-members-private.h"
#include "llmsbx-kube-config.h"
#include "llmsbx-kubernetes-pod.h"
#include "llmsbx-kubernetes-tar-list.h"

#define PROBE_TIMEOUT_US (10 * G_USEC_PER_SEC)
#define ARCHIVE_TIMEOUT_US (600 * G_USEC_PER_SEC)

/**
 * LlmsbxKubernetesBackend:
 *
 * Runs sandboxes as pods through a Kubernetes API server.
 */
struct _LlmsbxKubernetesBackend
{
  LlmsbxBackend     parent_instance;

  GMutex            lock;
  LlmsbxKubeClient *client;     /* one per connection, see the client's header */
};

G_DEFINE_FINAL_TYPE (LlmsbxKubernetesBackend, llmsbx_kubernetes_backend, LLMSBX_TYPE_BACKEND)

static const char *
setting (LlmsbxKubernetesBackend *self,
         const char              *name)
{
  const char *value = llmsbx_backend_get_setting_string (LLMSBX_BACKEND (self), name);

  return value != NULL && *value != '\0' ? value : NULL;
}

static LlmsbxKubeConnection *
resolve_connection (LlmsbxKubernetesBackend  *self,
                    GError                  **error)
{
  g_autoptr(LlmsbxKubeConnection) connection = NULL;
  const char *server = setting (self, "server");
  const char *namespace_ = setting (self, "namespace");

  /* The backend's url (the API of engines) names the server too. */
  if (server == NULL && llmsbx_backend_get_url (LLMSBX_BACKEND (self)) != NULL &&
      *llmsbx_backend_get_url (LLMSBX_BACKEND (self)) != '\0')
    server = llmsbx_backend_get_url (LLMSBX_BACKEND (self));
  if (server != NULL && !g_str_has_prefix (server, "https://") && !g_str_has_prefix (server, "http://"))
    {
      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_BACKEND_UNAVAILABLE,
                   "Cannot reach a Kubernetes API server at %s: it is not an https:// or http:// URL", server);
      return NULL;
    }

  if (server != NULL)
    {
      const char *token = setting (self, "token");
      const char *token_file = setting (self, "token-file");
      const char *cert_file = setting (self, "client-cert-file");
      const char *key_file = setting (self, "client-key-file");
      connection = llmsbx_kube_connection_new_explicit (server, token, setting (self, "ca-file"), error);
      if (connection == NULL)
        return NULL;
      /* The file stays the token's source: a rotated service-account token
       * is read again (on a 401). */
      if (token == NULL && token_file != NULL &&
          !llmsbx_kube_connection_set_token_file (connection, token_file, error))
        return NULL;
      if (cert_file != NULL || key_file != NULL)
        {
          g_autoptr(GError) local_error = NULL;
          char *data = NULL;
          gsize length = 0;

          if (cert_file == NULL || key_file == NULL)
            {
              g_set_error_literal (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
                                   "The settings client-cert-file and client-key-file go together");
              return NULL;
            }
          if (!g_file_get_contents (cert_file, &data, &length, &local_error))
            {
              g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
                           "Could not read the client certificate %s: %s", cert_file, local_error->message);
              return NULL;
            }
          connection->client_cert_pem = g_bytes_new_take (data, length);
          if (!g_file_get_contents (key_file, &data, &length, &local_error))
            {
              g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
                           "Could not read the client key %s: %s", key_file, local_error->message);
              return NULL;
            }
          connection->client_key_pem = g_bytes_new_take (data, length);
        }
      connection->insecure_skip_tls_verify = llmsbx_backend_get_setting_boolean (LLMSBX_BACKEND (self),
                                                                                  "insecure-skip-tls-verify");
    }
  else
    {
      /* No kubeconfig setting: $KUBECONFIG (merged), ~/.kube/config, then
       * the in-cluster service account, as kubectl looks. */
      connection = llmsbx_kube_connection_load (setting (self, "kubeconfig"), setting (self, "context"), error);
      if (connection == NULL)
        return NULL;
      if (llmsbx_backend_get_setting_boolean (LLMSBX_BACKEND (self), "insecure-skip-tls-verify"))
        connection->insecure_skip_tls_verify = TRUE;
    }
  if (namespace_ != NULL)
    {
      g_free (connection->namespace_);
      connection->namespace_ = g_strdup (namespace_);
    }
  return g_steal_pointer (&connection);
}

LlmsbxKubeClient *
llmsbx_kubernetes_backend_get_client (LlmsbxKubernetesBackend  *self,
                                      GError                  **error)
{
  G_GNUC_UNUSED g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&self->lock);

  if (self->client == NULL)
    {
      g_autoptr(LlmsbxKubeConnection) connection = resolve_connection (self, error);

      if (connection == NULL)
        return NULL;
      self->client = llmsbx_kube_client_new (g_steal_pointer (&connection), error);
      if (self->client == NULL)
        return NULL;
    }
  return llmsbx_kube_client_ref (self->client);
}

static void
setting_changed (LlmsbxBackend *backend,
                 const char    *name,
                 gpointer       user_data)
{
  LlmsbxKubernetesBackend *self = LLMSBX_KUBERNETES_BACKEND (backend);
  G_GNUC_UNUSED g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&self->lock);

  g_clear_pointer (&self->client, llmsbx_kube_client_unref);
}

void
llmsbx_kubernetes_backend_split_id (LlmsbxKubernetesBackend  *self,
                                    LlmsbxKubeClient         *client,
                                    const char               *sandbox_id,
                                    char                    **namespace_,
                                    char                    **pod)
{
  const char *slash = strchr (sandbox_id, '/');

  if (slash != NULL)
    {
      *namespace_ = g_strndup (sandbox_id, slash - sandbox_id);
      *pod = g_strdup (slash + 1);
    }
  else
    {
      *namespace_ = g_strdup (llmsbx_kube_client_get_namespace (client));
      *pod = g_strdup (sandbox_id);
    }
}

static char *
pods_path (const char *namespace_,
           const char *name)
{
  g_autofree char *ns = llmsbx_kube_escape (namespace_);
  g_autofree char *escaped = name ? llmsbx_kube_escape (name) : NULL;

  return escaped ? g_strdup_printf ("/api/v1/namespaces/%s/pods/%s", ns, escaped)
                 : g_strdup_printf ("/api/v1/namespaces/%s/pods", ns);
}

static char *
sandbox_id_for (LlmsbxKubeClient *client,
                const char       *namespace_,
                const char       *name)
{
  if (g_strcmp0 (namespace_, llmsbx_kube_client_get_namespace (client)) == 0)
    return g_strdup (name);
  return g_strdup_printf ("%s/%s", namespace_, name);
}

static gboolean
llmsbx_kubernetes_backend_connect (LlmsbxBackend  *backend,
                                   GCancellable   *cancellable,
                                   GError        **error)
{
  g_autoptr(LlmsbxKubeClient) client = llmsbx_kubernetes_backend_get_client (LLMSBX_KUBERNETES_BACKEND (backend),
                                                                             error);

  return client != NULL;
}

static gboolean
llmsbx_kubernetes_backend_probe (LlmsbxBackend  *backend,
                                 GCancellable   *cancellable,
                                 GError        **error)
{
  g_autoptr(LlmsbxKubeClient) client = llmsbx_kubernetes_backend_get_client (LLMSBX_KUBERNETES_BACKEND (backend),
                                                                             error);
  g_autoptr(JsonNode) version = NULL;
  g_autoptr(GError) local_error = NULL;

  if (client == NULL)
    return FALSE;
  version = llmsbx_kube_client_json (client, "GET", "/version", NULL, NULL, cancellable, &local_error);
  if (version == NULL)
    {
      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_BACKEND_UNAVAILABLE,
                   "The Kubernetes API at %s is not usable: %s", llmsbx_kube_client_get_server (client),
                   local_error->message);
      return FALSE;
    }
  return TRUE;
}

/* The kubelet pulls images itself, by the pod's imagePullPolicy: a missing
 * image shows as ErrImagePull when the pod starts, which fails at once. */
static gboolean
llmsbx_kubernetes_backend_ensure_image (LlmsbxBackend  *backend,
                                        const char     *image,
                                        gboolean       *pulled,
                                        GCancellable   *cancellable,
                                        GError        **error)
{
  if (pulled != NULL)
    *pulled = FALSE;
  return TRUE;
}

/* A cluster has no image store of ours: images come from registries. */
static gboolean
llmsbx_kubernetes_backend_build_image (LlmsbxBackend  *backend,
                                       const char     *context_dir,
                                       const char     *dockerfile,
                                       const char     *tag,
                                       GCancellable   *cancellable,
                                       GError        **error)
{
  g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_IMAGE_BUILD_FAILED,
               "The Kubernetes backend cannot build %s from a Dockerfile: a cluster's nodes pull images from "
               "registries; build and push the image, then name it as the session's image", tag);
  return FALSE;
}

/* commit_container: nothing to commit into. keep_template needs nothing:
 * the nodes keep or drop the images they pulled by their own policy. */
static gboolean
llmsbx_kubernetes_backend_commit (LlmsbxBackend  *backend,
                                  const char     *sandbox_id,
                                  const char     *image,
                                  GCancellable   *cancellable,
                                  GError        **error)
{
  g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_BACKEND_NOT_SUPPORTED,
               "The Kubernetes backend cannot commit the pod %s to the image %s (commit_container): a pod's "
               "filesystem cannot become an image through the Kubernetes API", sandbox_id, image);
  return FALSE;
}

static gboolean
runtime_configs_empty (GVariant *configs)
{
  return configs == NULL || (g_variant_is_of_type (configs, G_VARIANT_TYPE_VARDICT) &&
                             g_variant_n_children (configs) == 0);
}

typedef LlmsbxKubeExecSink ChunkFunc;

static gboolean run_request (LlmsbxKubernetesBackend *self, const char *sandbox_id, LlmsbxExecRequest *request,
                             GBytes *stdin_data, ChunkFunc func, gpointer user_data, int *exit_status,
                             GCancellable *cancellable, GError **error);
static gboolean collect_stderr (LlmsbxOutputStream stream, GBytes *bytes, gpointer user_data, GError **error);

/* The session's working directory, made as the pod's user. */
static gboolean
make_workdir (LlmsbxKubernetesBackend  *self,
              const char               *id,
              const char               *workdir,
              GCancellable             *cancellable,
              GError                  **error)
{
  /* An exec runs as the pod's user, never as root, so nothing can open up
   * a directory that user cannot write: say so at open, not at the first
   * run's "Permission denied". */
  const char *argv[] = { "sh", "-c",
                         "mkdir -p -- \"$1\" || exit; test -w \"$1\" && exit; "
                         "echo \"it is not writable by uid $(id -u): mount an emptyDir volume there in the "
                         "pod manifest, or choose a workdir that user can write\" >&2; exit 1",
                         "llmsbx-workdir", workdir, NULL };
  g_autoptr(LlmsbxExecRequest) request = llmsbx_exec_request_new (argv);
  g_autoptr(GString) stderr_text = g_string_new (NULL);
  int status = -1;

  request->deadline = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;
  if (!run_request (self, id, request, NULL, collect_stderr, stderr_text, &status, cancellable, error))
    return FALSE;
  if (status != 0)
    {
      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_CONTAINER_FAILED,
                   "Could not make the working directory %s in the pod %s ready for its user: %s", workdir, id,
                   g_strstrip (stderr_text->str));
      return FALSE;
    }
  return TRUE;
}

static char *
llmsbx_kubernetes_backend_create_sandbox (LlmsbxBackend        *backend,
                                          LlmsbxContainerSpec  *spec,
                                          GCancellable         *cancellable,
                                          GError              **error)
{
  LlmsbxKubernetesBackend *self = LLMSBX_KUBERNETES_BACKEND (backend);
  g_autoptr(LlmsbxKubeClient) client = NULL;
  g_autoptr(JsonNode) manifest = NULL;
  g_autoptr(JsonNode) created = NULL;
  g_autoptr(JsonNode) running = NULL;
  g_autoptr(GError) local_error = NULL;
  g_autofree char *path = NULL;
  const char *namespace_, *name;
  g_autofree char *id = NULL;
  JsonObject *metadata;
  guint status = 0;

  if (!runtime_configs_empty (spec->runtime_configs))
    {
      g_set_error_literal (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
                           "runtime-configs are Docker settings, which the Kubernetes backend does not read: "
                           "put the pod's settings in pod-manifest (pod_manifest) instead");
      return NULL;
    }
  client = llmsbx_kubernetes_backend_get_client (self, error);
  if (client == NULL)
    return NULL;
  manifest = llmsbx_kube_pod_manifest (spec, error);
  if (manifest == NULL)
    return NULL;
  namespace_ = spec->kube_namespace && *spec->kube_namespace ? spec->kube_namespace
               : llmsbx_kube_client_get_namespace (client);
  path = pods_path (namespace_, NULL);

  llmsbx_backend_count_request (backend);
  created = llmsbx_kube_client_json (client, "POST", path, manifest, &status, cancellable, &local_error);
  if (created == NULL)
    {
      if (local_error->domain == G_IO_ERROR && local_error->code != G_IO_ERROR_CANCELLED)
        g_set_error (error, LLMSBX_ERROR,
                     status == 400 || status == 422 || status == 403 || status == 409
                     ? LLMSBX_ERROR_INVALID_ARGUMENT : LLMSBX_ERROR_CONTAINER_FAILED,
                     "Could not create the sandbox's pod in the namespace %s: %s", namespace_, local_error->message);
      else
        g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }
  metadata = JSON_NODE_HOLDS_OBJECT (created) &&
             json_object_has_member (json_node_get_object (created), "metadata")
             ? json_object_get_object_member (json_node_get_object (created), "metadata") : NULL;
  name = metadata ? json_object_get_string_member_with_default (metadata, "name", NULL) : NULL;
  if (name == NULL)
    {
      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_PROTOCOL,
                   "The Kubernetes API created a pod in %s without telling its name", namespace_);
      return NULL;
    }

  running = llmsbx_kube_pod_wait_running (client, namespace_, name,
                                          llmsbx_backend_get_setting_double (backend, "pod-start-timeout"),
                                          cancellable, &local_error);
  if (running == NULL)
    {
      g_autoptr(GError) delete_error = NULL;

      /* A failed open leaves nothing behind. */
      if (!llmsbx_kube_pod_delete (client, namespace_, name, NULL, &delete_error))
        g_warning ("Could not delete the pod %s/%s that did not start: %s", namespace_, name,
                   delete_error->message);
      g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }
  id = sandbox_id_for (client, namespace_, name);
  if (spec->pod_manifest != NULL && spec->workdir != NULL && !make_workdir (self, id, spec->workdir, cancellable, error))
    {
      g_autoptr(GError) delete_error = NULL;

      if (!llmsbx_kube_pod_delete (client, namespace_, name, NULL, &delete_error))
        g_warning ("Could not delete the pod %s/%s: %s", namespace_, name, delete_error->message);
      return NULL;
    }
  return g_steal_pointer (&id);
}

static char *
llmsbx_kubernetes_backend_attach_sandbox (LlmsbxBackend  *backend,
                                          const char     *sandbox_id,
                                          GCancellable   *cancellable,
                                          GError        **error)
{
  LlmsbxKubernetesBackend *self = LLMSBX_KUBERNETES_BACKEND (backend);
  g_autoptr(LlmsbxKubeClient) client = llmsbx_kubernetes_backend_get_client (self, error);
  g_autofree char *namespace_ = NULL;
  g_autofree char *pod = NULL;
  g_autoptr(JsonNode) running = NULL;
  g_autoptr(GError) local_error = NULL;

  if (client == NULL)
    return NULL;
  llmsbx_kubernetes_backend_split_id (self, client, sandbox_id, &namespace_, &pod);
  running = llmsbx_kube_pod_wait_running (client, namespace_, pod, 10.0, cancellable, &local_error);
  if (running == NULL)
    {
      if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND))
        g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_CONTAINER_FAILED,
                     "Container %s/%s not found", namespace_, pod);
      else
        g_propagate_prefixed_error (error, g_steal_pointer (&local_error), "Could not attach to the pod %s/%s: ",
                                    namespace_, pod);
      return NULL;
    }
  return sandbox_id_for (client, namespace_, pod);
}

static gboolean
llmsbx_kubernetes_backend_remove_sandbox (LlmsbxBackend  *backend,
                                          const char     *sandbox_id,
                                          GCancellable   *cancellable,
                                          GError        **error)
{
  LlmsbxKubernetesBackend *self = LLMSBX_KUBERNETES_BACKEND (backend);
  g_autoptr(LlmsbxKubeClient) client = llmsbx_kubernetes_backend_get_client (self, error);
  g_autofree char *namespace_ = NULL;
  g_autofree char *pod = NULL;

  if (client == NULL)
    return FALSE;
  llmsbx_kubernetes_backend_split_id (self, client, sandbox_id, &namespace_, &pod);
  llmsbx_backend_count_request (backend);
  return llmsbx_kube_pod_delete (client, namespace_, pod, cancellable, error);
}

static char *
label_selector_query (const char * const *selector)
{
  g_autofree char *joined = selector ? g_strjoinv (",", (char **) selector) : g_strdup ("");
  g_autofree char *escaped = llmsbx_kube_escape (joined);

  return *joined ? g_strdup_printf ("?labelSelector=%s", escaped) : g_strdup ("");
}

static GPtrArray *
llmsbx_kubernetes_backend_list_sandboxes (LlmsbxBackend       *backend,
                                          const char * const  *label_selector,
                                          GCancellable        *cancellable,
                                          GError             **error)
{
  LlmsbxKubernetesBackend *self = LLMSBX_KUBERNETES_BACKEND (backend);
  g_autoptr(LlmsbxKubeClient) client = llmsbx_kubernetes_backend_get_client (self, error);
  g_autofree char *base = NULL;
  g_autofree char *query = label_selector_query (label_selector);
  g_autofree char *path = NULL;
  g_autoptr(JsonNode) list = NULL;
  g_autoptr(GPtrArray) sandboxes = NULL;
  JsonArray *items;

  if (client == NULL)
    return NULL;
  base = pods_path (llmsbx_kube_client_get_namespace (client), NULL);
  path = g_strconcat (base, query, NULL);
  list = llmsbx_kube_client_json (client, "GET", path, NULL, NULL, cancellable, error);
  if (list == NULL)
    return NULL;
  sandboxes = g_ptr_array_new_with_free_func ((GDestroyNotify) llmsbx_sandbox_info_free);
  items = JSON_NODE_HOLDS_OBJECT (list) && json_object_has_member (json_node_get_object (list), "items")
          ? json_object_get_array_member (json_node_get_object (list), "items") : NULL;
  for (guint i = 0; items != NULL && i < json_array_get_length (items); i++)
    {
      JsonObject *pod = json_array_get_object_element (items, i);
      JsonObject *metadata = pod ? json_object_get_object_member (pod, "metadata") : NULL;
      JsonObject *labels = metadata && json_object_has_member (metadata, "labels")
                           ? json_object_get_object_member (metadata, "labels") : NULL;
      g_autoptr(GPtrArray) strings = g_ptr_array_new_with_free_func (g_free);
      const char *name = metadata ? json_object_get_string_member_with_default (metadata, "name", NULL) : NULL;
      g_autoptr(GList) keys = labels ? json_object_get_members (labels) : NULL;

      /* A pod being deleted is on its way out, not a sandbox. */
      if (name == NULL || json_object_has_member (metadata, "deletionTimestamp"))
        continue;
      for (GList *k = keys; k != NULL; k = k->next)
        g_ptr_array_add (strings, g_strdup_printf ("%s=%s", (const char *) k->data,
                                                   json_object_get_string_member_with_default (labels, k->data, "")));
      g_ptr_array_add (strings, NULL);
      g_ptr_array_add (sandboxes, llmsbx_sandbox_info_new (name, (const char * const *) strings->pdata));
    }
  return g_steal_pointer (&sandboxes);
}

LlmsbxKubeExec *
llmsbx_kubernetes_backend_open_exec (LlmsbxKubernetesBackend  *self,
                                     const char               *sandbox_id,
                                     LlmsbxExecRequest        *request,
                                     gssize                    stdin_length,
                                     GCancellable             *cancellable,
                                     GError                  **error)
{
  g_autoptr(LlmsbxKubeClient) client = NULL;
  g_autofree char *namespace_ = NULL;
  g_autofree char *pod = NULL;
  g_auto(GStrv) argv = NULL;

  if (request->argv == NULL || request->argv[0] == NULL)
    {
      g_set_error_literal (error, LLMSBX_ERROR, LLMSBX_ERROR_COMMAND_EMPTY, "The command is empty");
      return NULL;
    }
  if (request->user != NULL && *request->user != '\0')
    {
      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
                   "A Kubernetes exec runs as the pod's user and cannot run as %s: set the user in the pod "
                   "manifest's securityContext", request->user);
      return NULL;
    }
  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return NULL;
  client = llmsbx_kubernetes_backend_get_client (self, error);
  if (client == NULL)
    return NULL;
  llmsbx_kubernetes_backend_split_id (self, client, sandbox_id, &namespace_, &pod);
  argv = llmsbx_kube_exec_wrap_argv (request, stdin_length == 0 ? -1 : stdin_length);
  llmsbx_backend_count_request (LLMSBX_BACKEND (self));
  /* The first container is ours (the pod's manifest puts it first). */
  return llmsbx_kube_exec_open (client, namespace_, pod, NULL, (const char * const *) argv, stdin_length != 0,
                                request->deadline, cancellable, error);
}

/* Runs @request to its end, giving its output to @func. */
static gboolean
run_request (LlmsbxKubernetesBackend  *self,
             const char               *sandbox_id,
             LlmsbxExecRequest        *request,
             GBytes                   *stdin_data,
             ChunkFunc                 func,
             gpointer                  user_data,
             int                      *exit_status,
             GCancellable             *cancellable,
             GError                  **error)
{
  gsize stdin_size = stdin_data ? g_bytes_get_size (stdin_data) : 0;
  g_autoptr(LlmsbxKubeExec) exec = NULL;

  exec = llmsbx_kubernetes_backend_open_exec (self, sandbox_id, request, stdin_data ? (gssize) stdin_size : 0,
                                              cancellable, error);
  if (exec == NULL)
    return FALSE;
  llmsbx_kube_exec_set_sink (exec, func, user_data);
  if (stdin_data != NULL)
    {
      if (stdin_size > 0 &&
          !llmsbx_kube_exec_write (exec, g_bytes_get_data (stdin_data, NULL), stdin_size, error))
        return FALSE;
      /* v4 cannot say so: the wrapper reads no more than stdin's length. */
      if (llmsbx_kube_exec_can_close_stdin (exec) && !llmsbx_kube_exec_close_stdin (exec, error))
        return FALSE;
    }
  for (;;)
    {
      g_autoptr(GError) local_error = NULL;
      LlmsbxOutputStream stream;
      g_autoptr(GBytes) bytes = llmsbx_kube_exec_read (exec, &stream, request->deadline, cancellable, &local_error);

      /* The sink took the output: only the end or an error comes here. */
      if (bytes == NULL)
        {
          if (local_error != NULL)
            {
              g_propagate_error (error, g_steal_pointer (&local_error));
              return FALSE;
            }
          break;
        }
    }
  return llmsbx_kube_exec_finish (exec, exit_status, error);
}

static gboolean
collect_chunk (LlmsbxOutputStream   stream,
               GBytes              *bytes,
               gpointer             user_data,
               GError             **error)
{
  gsize size;
  const guint8 *data = g_bytes_get_data (bytes, &size);

  llmsbx_output_collector_append (user_data, stream, data, size);
  return TRUE;
}

static gboolean
ignore_chunk (LlmsbxOutputStream   stream,
              GBytes              *bytes,
              gpointer             user_data,
              GError             **error)
{
  return TRUE;
}

/* Whether the pod's status has its container terminated, and then whether
 * for lack of memory (`terminated.reason: OOMKilled`). The status follows
 * the end by a moment (the kubelet's next look), so it is read for up to a
 * second. */
static gboolean
pod_terminated (LlmsbxKubernetesBackend *self,
                const char              *sandbox_id,
                gboolean                *oom_killed)
{
  g_autoptr(LlmsbxKubeClient) client = llmsbx_kubernetes_backend_get_client (self, NULL);
  g_autofree char *namespace_ = NULL;
  g_autofree char *pod = NULL;
  g_autofree char *path = NULL;
  gint64 deadline = g_get_monotonic_time () + G_USEC_PER_SEC;

  *oom_killed = FALSE;
  if (client == NULL)
    return FALSE;
  llmsbx_kubernetes_backend_split_id (self, client, sandbox_id, &namespace_, &pod);
  path = pods_path (namespace_, pod);
  do
    {
      g_autoptr(JsonNode) root = llmsbx_kube_client_json (client, "GET", path, NULL, NULL, NULL, NULL);
      JsonObject *status = NULL;
      JsonArray *statuses = NULL;
      JsonNode *node;

      llmsbx_backend_count_request (LLMSBX_BACKEND (self));
      if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
        return FALSE;
      status = llmsbx_json_object_member (json_node_get_object (root), "status");
      node = status ? json_object_get_member (status, "containerStatuses") : NULL;
      statuses = node != NULL && JSON_NODE_HOLDS_ARRAY (node) ? json_node_get_array (node) : NULL;
      for (guint i = 0; statuses != NULL && i < json_array_get_length (statuses); i++)
        {
          JsonNode *entry = json_array_get_element (statuses, i);
          JsonObject *state = JSON_NODE_HOLDS_OBJECT (entry) ? llmsbx_json_object_member (json_node_get_object (entry), "state")
                                                            : NULL;
          JsonObject *terminated = state ? llmsbx_json_object_member (state, "terminated") : NULL;

          if (terminated != NULL)
            {
              *oom_killed = g_strcmp0 (json_object_get_string_member_with_default (terminated, "reason", ""),
                                       "OOMKilled") == 0;
              return TRUE;
            }
        }
      g_usleep (50000);
    }
  while (g_get_monotonic_time () < deadline);
  return FALSE;
}

/* The error of a sandbox that stopped, as the engines word it. */
static void
set_stopped_error (GError     **error,
                   const char  *sandbox_id,
                   gboolean     oom_killed)
{
  if (oom_killed)
    g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_CONTAINER_FAILED,
                 "The sandbox %s is no longer running: the kernel killed it for lack of memory (out of memory)",
                 sandbox_id);
  else
    g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_CONTAINER_FAILED,
                 "The sandbox %s is no longer running (its processes were killed or it exited)", sandbox_id);
}

/* Whether the pod still takes execs: a container killed under a command
 * ends it with 137 as a killed command would, and only a second exec
 * tells them apart. A pod that stopped says why in its status: out of
 * memory is named, as the engines name it. */
static gboolean
sandbox_still_running (LlmsbxKubernetesBackend  *self,
                       const char               *sandbox_id,
                       GError                  **error)
{
  const char *argv[] = { "true", NULL };
  g_autoptr(LlmsbxExecRequest) probe = llmsbx_exec_request_new (argv);
  g_autoptr(GError) local_error = NULL;
  gboolean oom_killed = FALSE;
  int status = -1;

  probe->deadline = g_get_monotonic_time () + PROBE_TIMEOUT_US;
  if (run_request (self, sandbox_id, probe, NULL, ignore_chunk, NULL, &status, NULL, &local_error))
    return TRUE;
  if (g_error_matches (local_error, LLMSBX_ERROR, LLMSBX_ERROR_CONTAINER_FAILED) ||
      g_error_matches (local_error, LLMSBX_ERROR, LLMSBX_ERROR_COMMAND_NOT_STARTED))
    {
      pod_terminated (self, sandbox_id, &oom_killed);
      set_stopped_error (error, sandbox_id, oom_killed);
    }
  else
    g_propagate_error (error, g_steal_pointer (&local_error));
  return FALSE;
}

static gboolean
llmsbx_kubernetes_backend_exec (LlmsbxBackend          *backend,
                                const char             *sandbox_id,
                                LlmsbxExecRequest      *request,
                                LlmsbxOutputCollector  *output,
                                int                    *exit_status,
                                GCancellable           *cancellable,
                                GError                **error)
{
  LlmsbxKubernetesBackend *self = LLMSBX_KUBERNETES_BACKEND (backend);
  g_autoptr(GError) local_error = NULL;
  gboolean ok;

  ok = run_request (self, sandbox_id, request, request->stdin_data, collect_chunk, output, exit_status, cancellable,
                    &local_error);
  return llmsbx_kubernetes_backend_conclude (self, sandbox_id, ok, g_steal_pointer (&local_error), exit_status,
                                             error);
}

/* How a command ended, @ok and @command_error being what its stream said:
 * a stream that broke, or a 137, may be a pod that went away under it,
 * which is the sandbox's end (as the engines say it), not the command's. */
gboolean
llmsbx_kubernetes_backend_conclude (LlmsbxKubernetesBackend  *self,
                                    const char               *sandbox_id,
                                    gboolean                  ok,
                                    GError                   *command_error,
                                    int                      *exit_status,
                                    GError                  **error)
{
  g_autoptr(GError) local_error = command_error;

  if (!ok)
    {
      gboolean oom_killed = FALSE;

      if (g_error_matches (local_error, LLMSBX_ERROR, LLMSBX_ERROR_PROTOCOL) &&
          !sandbox_still_running (self, sandbox_id, error))
        return FALSE;
      /* An exec refused because the pod's container stopped: say so, as
       * the engines do for a stopped sandbox. */
      if (g_error_matches (local_error, LLMSBX_ERROR, LLMSBX_ERROR_CONTAINER_FAILED) &&
          pod_terminated (self, sandbox_id, &oom_killed))
        {
          set_stopped_error (error, sandbox_id, oom_killed);
          return FALSE;
        }
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }
  if (*exit_status == 137 && !sandbox_still_running (self, sandbox_id, error))
    return FALSE;
  return TRUE;
}

static LlmsbxExecStream *
llmsbx_kubernetes_backend_open_exec_stream (LlmsbxBackend      *backend,
                                            const char         *sandbox_id,
                                            LlmsbxExecRequest  *request,
                                            GCancellable       *cancellable,
                                            GError            **error)
{
  LlmsbxKubernetesBackend *self = LLMSBX_KUBERNETES_BACKEND (backend);
  g_autoptr(GError) local_error = NULL;
  LlmsbxKubeExec *exec = llmsbx_kubernetes_backend_open_exec (self, sandbox_id, request, -1, cancellable,
                                                              &local_error);

  /* Refused because the pod stopped: the sandbox's end, as for an exec. */
  if (exec == NULL)
    {
      llmsbx_kubernetes_backend_conclude (self, sandbox_id, FALSE, g_steal_pointer (&local_error), NULL, error);
      return NULL;
    }
  return llmsbx_kubernetes_exec_stream_new (self, sandbox_id, exec, request->deadline);
}

/* Archives, as kubectl cp moves them: tar in the pod. */
/* Stdin: the entries ("d NAME" / "f NAME" lines, then "."), then the
 * archive. `read` takes stdin a byte at a time, leaving tar the archive. */
static const char put_script[] =
  "[ -d \"$1\" ] || { echo \"no such directory: $1\" >&2; exit 3; }\n"
  "while IFS= read -r line; do\n"
  "  [ \"$line\" = . ] && break\n"
  "  t=${line%% *}; p=\"$1/${line#? }\"\n"
  "  if [ \"$t\" = d ]; then\n"
  "    if [ -L \"$p\" ] || { [ -e \"$p\" ] && ! [ -d \"$p\" ]; }; then\n"
  "      echo \"${line#? } would replace a file with a directory: File exists\" >&2; exit 4; fi\n"
  "  elif [ -d \"$p\" ] && ! [ -L \"$p\" ]; then\n"
  "    echo \"${line#? } would replace a directory with a file: File exists\" >&2; exit 4; fi\n"
  "done\n"
  "exec tar -x -m -f - -C \"$1\"\n";

static const char get_script[] =
  "[ -e \"$1\" ] || { echo \"no such file or directory: $1\" >&2; exit 3; }\n"
  "d=$(dirname -- \"$1\"); b=$(basename -- \"$1\")\n"
  "if [ -L \"$1\" ]; then exec tar -c -f - -C \"$d\" -h -- \"$b\"; fi\n"
  "exec tar -c -f - -C \"$d\" -- \"$b\"\n";

static gboolean
collect_stderr (LlmsbxOutputStream   stream,
                GBytes              *bytes,
                gpointer             user_data,
                GError             **error)
{
  if (stream == LLMSBX_OUTPUT_STREAM_STDERR && ((GString *) user_data)->len < 4096)
    g_string_append_len (user_data, g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
  return TRUE;
}

static gboolean
archive_failed (int          status,
                GString     *stderr_text,
                const char  *what,
                const char  *path,
                GError     **error)
{
  g_strstrip (stderr_text->str);
  if (status == 3 && g_str_equal (what, "unpack files into"))
    g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_FILE_NOT_FOUND, "Directory %s does not exist in the sandbox", path);
  else if (status == 3)
    g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_FILE_NOT_FOUND, "Could not %s %s in the pod: %s", what, path,
                 stderr_text->str);
  else if (strstr (stderr_text->str, "Is a directory") != NULL || strstr (stderr_text->str, "File exists") != NULL ||
           strstr (stderr_text->str, "Not a directory") != NULL)
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_EXISTS, "Could not %s %s in the pod: %s", what, path,
                 stderr_text->str);
  else
    g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_FAILED, "Could not %s %s in the pod (tar exited %d): %s", what,
                 path, status, stderr_text->str);
  return FALSE;
}

static gboolean
llmsbx_kubernetes_backend_put_archive (LlmsbxBackend  *backend,
                                       const char     *sandbox_id,
                                       const char     *dest_dir,
                                       GBytes         *archive,
                                       GCancellable   *cancellable,
                                       GError        **error)
{
  const char *argv[] = { "sh", "-c", put_script, "llmsbx-put", dest_dir, NULL };
  g_autoptr(LlmsbxExecRequest) request = llmsbx_exec_request_new (argv);
  g_autoptr(GString) stderr_text = g_string_new (NULL);
  int status = -1;

  g_autoptr(GString) listing = llmsbx_kube_tar_list (archive);
  g_autoptr(GBytes) input = NULL;

  if (listing == NULL)
    {
      g_set_error_literal (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT, "The archive is not a tar archive");
      return FALSE;
    }
  g_string_append (listing, ".\n");
  g_string_append_len (listing, g_bytes_get_data (archive, NULL), g_bytes_get_size (archive));
  input = g_bytes_new (listing->str, listing->len);
  request->deadline = g_get_monotonic_time () + ARCHIVE_TIMEOUT_US;
  if (!run_request (LLMSBX_KUBERNETES_BACKEND (backend), sandbox_id, request, input, collect_stderr, stderr_text,
                    &status, cancellable, error))
    return FALSE;
  if (status != 0)
    return archive_failed (status, stderr_text, "unpack files into", dest_dir, error);
  return TRUE;
}

typedef struct
{
  GOutputStream *output;
  GCancellable  *cancellable;
  GString       *stderr_text;
} StreamTarget;

static gboolean
write_chunk (LlmsbxOutputStream   stream,
             GBytes              *bytes,
             gpointer             user_data,
             GError             **error)
{
  StreamTarget *target = user_data;

  if (stream == LLMSBX_OUTPUT_STREAM_STDERR)
    return collect_stderr (stream, bytes, target->stderr_text, error);
  return g_output_stream_write_all (target->output, g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes), NULL,
                                    target->cancellable, error);
}

static gboolean
llmsbx_kubernetes_backend_get_archive_to_stream (LlmsbxBackend  *backend,
                                                 const char     *sandbox_id,
                                                 const char     *path,
                                                 GOutputStream  *output,
                                                 GCancellable   *cancellable,
                                                 GError        **error)
{
  const char *argv[] = { "sh", "-c", get_script, "llmsbx-get", path, NULL };
  g_autoptr(LlmsbxExecRequest) request = llmsbx_exec_request_new (argv);
  g_autoptr(GString) stderr_text = g_string_new (NULL);
  StreamTarget target = { output, cancellable, stderr_text };
  int status = -1;

  request->deadline = g_get_monotonic_time () + ARCHIVE_TIMEOUT_US;
  if (!run_request (LLMSBX_KUBERNETES_BACKEND (backend), sandbox_id, request, NULL, write_chunk, &target, &status,
                    cancellable, error))
    return FALSE;
  if (status != 0)
    return archive_failed (status, stderr_text, "archive", path, error);
  return TRUE;
}

static GBytes *
llmsbx_kubernetes_backend_get_archive (LlmsbxBackend  *backend,
                                       const char     *sandbox_id,
                                       const char     *path,
                                       GCancellable   *cancellable,
                                       GError        **error)
{
  g_autoptr(GOutputStream) memory = g_memory_output_stream_new_resizable ();

  if (!llmsbx_kubernetes_backend_get_archive_to_stream (backend, sandbox_id, path, memory, cancellable, error) ||
      !g_output_stream_close (memory, cancellable, error))
    return NULL;
  return g_memory_output_stream_steal_as_bytes (G_MEMORY_OUTPUT_STREAM (memory));
}

static void
llmsbx_kubernetes_backend_finalize (GObject *object)
{
  LlmsbxKubernetesBackend *self = LLMSBX_KUBERNETES_BACKEND (object);

  g_clear_pointer (&self->client, llmsbx_kube_client_unref);
  g_mutex_clear (&self->lock);
  G_OBJECT_CLASS (llmsbx_kubernetes_backend_parent_class)->finalize (object);
}

static void
install_string (LlmsbxBackendClass *klass,
                const char         *name,
                const char         *blurb)
{
  llmsbx_backend_class_install_setting (klass,
    g_param_spec_string (name, NULL, blurb, NULL, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));
}

static void
llmsbx_kubernetes_backend_class_init (LlmsbxKubernetesBackendClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  LlmsbxBackendClass *backend_class = LLMSBX_BACKEND_CLASS (klass);

  object_class->finalize = llmsbx_kubernetes_backend_finalize;

  backend_class->connect = llmsbx_kubernetes_backend_connect;
  backend_class->probe = llmsbx_kubernetes_backend_probe;
  backend_class->ensure_image = llmsbx_kubernetes_backend_ensure_image;
  backend_class->build_image = llmsbx_kubernetes_backend_build_image;
  backend_class->commit = llmsbx_kubernetes_backend_commit;
  backend_class->create_sandbox = llmsbx_kubernetes_backend_create_sandbox;
  backend_class->attach_sandbox = llmsbx_kubernetes_backend_attach_sandbox;
  backend_class->remove_sandbox = llmsbx_kubernetes_backend_remove_sandbox;
  backend_class->list_sandboxes = llmsbx_kubernetes_backend_list_sandboxes;
  backend_class->exec = llmsbx_kubernetes_backend_exec;
  backend_class->open_exec_stream = llmsbx_kubernetes_backend_open_exec_stream;
  backend_class->put_archive = llmsbx_kubernetes_backend_put_archive;
  backend_class->get_archive = llmsbx_kubernetes_backend_get_archive;
  backend_class->get_archive_to_stream = llmsbx_kubernetes_backend_get_archive_to_stream;
  backend_class->render_preset = llmsbx_kubernetes_render_preset;

  install_string (backend_class, "kubeconfig", "the kubeconfig file (default: the first of $KUBECONFIG, "
                  "then ~/.kube/config)");
  install_string (backend_class, "context", "the kubeconfig context (default: its current-context)");
  install_string (backend_class, "namespace", "the namespace of the sandboxes' pods (default: the context's, "
                  "then \"default\")");
  install_string (backend_class, "server", "the API server's URL, https://host:port; with it, the kubeconfig "
                  "is not read and the token, CA and client certificate settings say who we are");
  install_string (backend_class, "token", "a bearer token for the API server (with server)");
  install_string (backend_class, "token-file", "a file holding the bearer token (with server)");
  install_string (backend_class, "ca-file", "PEM file of the cluster's CA (with server)");
  install_string (backend_class, "client-cert-file", "PEM file of the client certificate (with server)");
  install_string (backend_class, "client-key-file", "PEM file of the client certificate's key (with server)");
  llmsbx_backend_class_install_setting (backend_class,
    g_param_spec_boolean ("insecure-skip-tls-verify", NULL, "accept any certificate of the API server",
                          FALSE, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));
  llmsbx_backend_class_install_setting (backend_class,
    g_param_spec_double ("pod-start-timeout", NULL, "seconds a sandbox's pod may take to run",
                         0.0, G_MAXDOUBLE, 300.0, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));
}

static void
llmsbx_kubernetes_backend_init (LlmsbxKubernetesBackend *self)
{
  g_mutex_init (&self->lock);
  g_signal_connect (self, "setting-changed", G_CALLBACK (setting_changed), NULL);
}
