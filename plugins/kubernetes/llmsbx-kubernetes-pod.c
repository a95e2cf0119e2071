/* llmsbx-kubernetes-pod.c: the sandbox's pod (protocols.md §4.2). */
#include "llmsbx-kubernetes-pod.h"

#include <string.h>

#include "llmsbx-json-members-private.h"

#define DELETE_WAIT_US (30 * G_USEC_PER_SEC)

/* Reasons a waiting container gives that waiting does not cure. */
static const char * const fatal_reasons[] = {
  "ErrImagePull", "ImagePullBackOff", "InvalidImageName", "CreateContainerConfigError",
  "CreateContainerError", "CrashLoopBackOff", "ErrImageNeverPull", "RunContainerError", NULL,
};

/* Member @name of @object as an object; with @create, one that is missing
 * or of another type is made (an empty one). */
static JsonObject *
object_member (JsonObject *object,
               const char *name,
               gboolean    create)
{
  JsonObject *found = llmsbx_json_object_member (object, name);

  if (found != NULL || !create || object == NULL)
    return found;
  json_object_set_object_member (object, name, json_object_new ());
  return json_object_get_object_member (object, name);
}

static JsonArray *
array_member (JsonObject *object,
              const char *name,
              gboolean    create)
{
  JsonArray *found = llmsbx_json_array_member (object, name);

  if (found != NULL || !create || object == NULL)
    return found;
  json_object_set_array_member (object, name, json_array_new ());
  return json_object_get_array_member (object, name);
}

static JsonNode *
strv_node (char **strv)
{
  JsonArray *array = json_array_new ();
  JsonNode *node = json_node_new (JSON_NODE_ARRAY);

  for (guint i = 0; strv != NULL && strv[i] != NULL; i++)
    json_array_add_string_element (array, strv[i]);
  json_node_take_array (node, array);
  return node;
}

/* A DNS-1123 name from anything: lower case, [a-z0-9-], at most 63. */
static char *
dns_name (const char *text)
{
  GString *name = g_string_new (NULL);

  for (const char *p = text; *p != '\0' && name->len < 63; p++)
    {
      char c = g_ascii_tolower (*p);

      if (g_ascii_isalnum (c))
        g_string_append_c (name, c);
      else if (name->len > 0 && name->str[name->len - 1] != '-')
        g_string_append_c (name, '-');
    }
  while (name->len > 0 && name->str[name->len - 1] == '-')
    g_string_truncate (name, name->len - 1);
  if (name->len == 0)
    g_string_append (name, "llmsbx");
  return g_string_free (name, FALSE);
}

JsonNode *
llmsbx_kube_pod_manifest (const LlmsbxContainerSpec  *spec,
                          GError                    **error)
{
  g_autoptr(JsonNode) root = NULL;
  JsonObject *pod, *metadata, *labels, *pod_spec, *container;
  JsonArray *containers, *env;

  if (spec->pod_manifest != NULL)
    {
      root = json_gvariant_serialize (spec->pod_manifest);
      if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
        {
          g_set_error_literal (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
                               "The pod manifest must be an object (a Pod)");
          return NULL;
        }
    }
  else
    {
      root = json_node_new (JSON_NODE_OBJECT);
      json_node_take_object (root, json_object_new ());
    }
  pod = json_node_get_object (root);
  if (g_strcmp0 (json_object_get_string_member_with_default (pod, "kind", "Pod"), "Pod") != 0)
    {
      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
                   "The pod manifest is a %s, not a Pod", json_object_get_string_member (pod, "kind"));
      return NULL;
    }
  json_object_set_string_member (pod, "apiVersion", "v1");
  json_object_set_string_member (pod, "kind", "Pod");

  metadata = object_member (pod, "metadata", TRUE);
  if (!json_object_has_member (metadata, "name") && !json_object_has_member (metadata, "generateName"))
    {
      g_autofree char *name = dns_name (spec->name ? spec->name : "llmsbx");

      /* A manifest of the user's may be used for many sessions: the API
       * server chooses a free name. */
      if (spec->pod_manifest != NULL || spec->name == NULL)
        {
          g_autofree char *prefix = g_strdup_printf ("%.57s-", name);

          json_object_set_string_member (metadata, "generateName", prefix);
        }
      else
        json_object_set_string_member (metadata, "name", name);
    }
  json_object_remove_member (metadata, "namespace");

  /* Our labels find the pod again; the user's stay as they are. */
  labels = object_member (metadata, "labels", TRUE);
  for (guint i = 0; spec->labels != NULL && spec->labels[i] != NULL; i++)
    {
      const char *eq = strchr (spec->labels[i], '=');
      g_autofree char *key = eq ? g_strndup (spec->labels[i], eq - spec->labels[i]) : g_strdup (spec->labels[i]);

      if (!json_object_has_member (labels, key))
        json_object_set_string_member (labels, key, eq ? eq + 1 : "");
    }

  pod_spec = object_member (pod, "spec", TRUE);
  containers = array_member (pod_spec, "containers", TRUE);
  if (json_array_get_length (containers) == 0)
    json_array_add_object_element (containers, json_object_new ());
  if (!JSON_NODE_HOLDS_OBJECT (json_array_get_element (containers, 0)))
    {
      g_set_error_literal (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
                           "The pod manifest's spec.containers[0] is not an object");
      return NULL;
    }
  container = json_array_get_object_element (containers, 0);
  if (!json_object_has_member (container, "name"))
    json_object_set_string_member (container, "name", LLMSBX_KUBE_CONTAINER);
  if (!json_object_has_member (container, "image"))
    json_object_set_string_member (container, "image", spec->image);
  /* The session's keep-alive command (sleep for the session's lifetime)
   * keeps the pod up, so no tty is needed; a command of the user's wins.
   * It runs under a shell as PID 1, as the engines run it under their init:
   * kill(-1) spares PID 1, so code that kills every process it sees ends
   * the keep-alive and so the pod, as on an engine, instead of leaving a
   * sandbox that lives on with its processes gone; the shell reaps orphans
   * meanwhile. */
  if (!json_object_has_member (container, "command") && !json_object_has_member (container, "args") &&
      spec->command != NULL)
    {
      g_autoptr(GStrvBuilder) command = g_strv_builder_new ();
      g_auto(GStrv) argv = NULL;

      g_strv_builder_add_many (command, "sh", "-c", LLMSBX_KUBE_KEEP_ALIVE_SCRIPT, "llmsbx-keep-alive", NULL);
      g_strv_builder_addv (command, (const char **) spec->command);
      argv = g_strv_builder_end (command);
      json_object_set_member (container, "command", strv_node (argv));
    }
  /* A runtime makes a missing workingDir as root, where a manifest's own
   * user could not write: with a manifest, the backend makes the directory
   * as that user once the pod runs. */
  if (!json_object_has_member (container, "workingDir") && spec->workdir != NULL && spec->pod_manifest == NULL)
    json_object_set_string_member (container, "workingDir", spec->workdir);
  if (!json_object_has_member (container, "imagePullPolicy"))
    json_object_set_string_member (container, "imagePullPolicy", "IfNotPresent");
  env = array_member (container, "env", TRUE);
  for (guint i = 0; spec->env != NULL && spec->env[i] != NULL; i++)
    {
      const char *eq = strchr (spec->env[i], '=');
      g_autofree char *name = eq ? g_strndup (spec->env[i], eq - spec->env[i]) : g_strdup (spec->env[i]);
      gboolean present = FALSE;
      JsonObject *entry;

      for (guint j = 0; j < json_array_get_length (env) && !present; j++)
        {
          JsonNode *node = json_array_get_element (env, j);

          present = JSON_NODE_HOLDS_OBJECT (node) &&
                    g_strcmp0 (json_object_get_string_member_with_default (json_node_get_object (node), "name", NULL),
                               name) == 0;
        }
      if (present)
        continue;
      entry = json_object_new ();
      json_object_set_string_member (entry, "name", name);
      json_object_set_string_member (entry, "value", eq ? eq + 1 : "");
      json_array_add_object_element (env, entry);
    }

  /* A sandbox is never restarted, and stops at once. */
  if (!json_object_has_member (pod_spec, "restartPolicy"))
    json_object_set_string_member (pod_spec, "restartPolicy", "Never");
  if (!json_object_has_member (pod_spec, "terminationGracePeriodSeconds"))
    json_object_set_int_member (pod_spec, "terminationGracePeriodSeconds", 0);
  if (!json_object_has_member (pod_spec, "automountServiceAccountToken"))
    json_object_set_boolean_member (pod_spec, "automountServiceAccountToken", FALSE);
  if (!json_object_has_member (pod_spec, "enableServiceLinks"))
    json_object_set_boolean_member (pod_spec, "enableServiceLinks", FALSE);
  return g_steal_pointer (&root);
}

char *
llmsbx_kube_pod_container (JsonObject *pod)
{
  JsonArray *containers = array_member (object_member (pod, "spec", FALSE), "containers", FALSE);
  JsonNode *first = containers && json_array_get_length (containers) > 0
                    ? json_array_get_element (containers, 0) : NULL;

  if (first == NULL || !JSON_NODE_HOLDS_OBJECT (first))
    return NULL;
  return g_strdup (json_object_get_string_member_with_default (json_node_get_object (first), "name", NULL));
}

/* Why the pod will not run, or NULL while it may still. */
static char *
pod_failure (JsonObject *pod,
             gboolean   *running)
{
  JsonObject *status = object_member (pod, "status", FALSE);
  const char *phase = status ? json_object_get_string_member_with_default (status, "phase", "") : "";
  JsonArray *statuses = array_member (status, "containerStatuses", FALSE);
  JsonArray *conditions = array_member (status, "conditions", FALSE);
  gboolean all_running = statuses != NULL && json_array_get_length (statuses) > 0;

  *running = FALSE;
  for (guint i = 0; statuses != NULL && i < json_array_get_length (statuses); i++)
    {
      JsonObject *container = json_array_get_object_element (statuses, i);
      JsonObject *state = object_member (container, "state", FALSE);
      JsonObject *waiting = object_member (state, "waiting", FALSE);
      JsonObject *terminated = object_member (state, "terminated", FALSE);
      const char *reason = waiting ? json_object_get_string_member_with_default (waiting, "reason", "") : NULL;

      if (reason != NULL && g_strv_contains (fatal_reasons, reason))
        return g_strdup_printf ("%s: %s", reason, json_object_get_string_member_with_default (waiting, "message", ""));
      if (terminated != NULL)
        return g_strdup_printf ("its container %s ended (%s, exit code %" G_GINT64_FORMAT ")",
                                json_object_get_string_member_with_default (container, "name", ""),
                                json_object_get_string_member_with_default (terminated, "reason", ""),
                                json_object_get_int_member_with_default (terminated, "exitCode", -1));
      if (object_member (state, "running", FALSE) == NULL)
        all_running = FALSE;
    }
  for (guint i = 0; conditions != NULL && i < json_array_get_length (conditions); i++)
    {
      JsonObject *condition = json_array_get_object_element (conditions, i);

      if (g_strcmp0 (json_object_get_string_member_with_default (condition, "type", ""), "PodScheduled") == 0 &&
          g_strcmp0 (json_object_get_string_member_with_default (condition, "reason", ""), "Unschedulable") == 0)
        return g_strdup_printf ("Unschedulable: %s",
                                json_object_get_string_member_with_default (condition, "message", ""));
    }
  if (g_str_equal (phase, "Failed") || g_str_equal (phase, "Succeeded"))
    return g_strdup_printf ("the pod is %s (%s)", phase,
                            json_object_get_string_member_with_default (status, "reason", "no reason"));
  *running = g_str_equal (phase, "Running") && all_running;
  return NULL;
}

JsonNode *
llmsbx_kube_pod_wait_running (LlmsbxKubeClient  *client,
                              const char        *namespace_,
                              const char        *name,
                              double             timeout,
                              GCancellable      *cancellable,
                              GError           **error)
{
  g_autofree char *ns = llmsbx_kube_escape (namespace_);
  g_autofree char *escaped = llmsbx_kube_escape (name);
  g_autofree char *path = g_strdup_printf ("/api/v1/namespaces/%s/pods/%s", ns, escaped);
  gint64 deadline = g_get_monotonic_time () + (gint64) (timeout * G_USEC_PER_SEC);
  gint64 interval = 20000;

  for (;;)
    {
      g_autoptr(JsonNode) pod = llmsbx_kube_client_json (client, "GET", path, NULL, NULL, cancellable, error);
      g_autofree char *failure = NULL;
      gboolean running;

      if (pod == NULL)
        return NULL;
      if (!JSON_NODE_HOLDS_OBJECT (pod))
        {
          g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_PROTOCOL, "The Kubernetes API answered the pod %s with "
                       "something that is not an object", name);
          return NULL;
        }
      failure = pod_failure (json_node_get_object (pod), &running);
      if (failure != NULL)
        {
          /* A missing image is what the engines call it too. */
          gboolean image = g_str_has_prefix (failure, "ErrImagePull") || g_str_has_prefix (failure, "ImagePullBackOff") ||
                           g_str_has_prefix (failure, "InvalidImageName") || g_str_has_prefix (failure, "ErrImageNeverPull");

          g_set_error (error, LLMSBX_ERROR, image ? LLMSBX_ERROR_IMAGE_NOT_FOUND : LLMSBX_ERROR_CONTAINER_FAILED,
                       "The pod %s/%s cannot start: %s", namespace_, name, failure);
          return NULL;
        }
      if (running)
        return g_steal_pointer (&pod);
      if (g_get_monotonic_time () + interval > deadline)
        {
          g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_TIMEOUT,
                       "The pod %s/%s did not run within %.0f s (the backend setting pod-start-timeout)",
                       namespace_, name, timeout);
          return NULL;
        }
      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return NULL;
      g_usleep (interval);
      interval = MIN (interval * 2, 500000);
    }
}

gboolean
llmsbx_kube_pod_delete (LlmsbxKubeClient  *client,
                        const char        *namespace_,
                        const char        *name,
                        GCancellable      *cancellable,
                        GError           **error)
{
  g_autofree char *ns = llmsbx_kube_escape (namespace_);
  g_autofree char *escaped = llmsbx_kube_escape (name);
  g_autofree char *path = g_strdup_printf ("/api/v1/namespaces/%s/pods/%s", ns, escaped);
  g_autofree char *delete_path = g_strdup_printf ("%s?gracePeriodSeconds=0", path);
  g_autoptr(GError) local_error = NULL;
  g_autoptr(JsonNode) answer = NULL;
  gint64 deadline = g_get_monotonic_time () + DELETE_WAIT_US;

  answer = llmsbx_kube_client_json (client, "DELETE", delete_path, NULL, NULL, cancellable, &local_error);
  if (answer == NULL)
    {
      if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND))
        return TRUE;
      g_propagate_prefixed_error (error, g_steal_pointer (&local_error), "Could not delete the pod %s/%s: ",
                                  namespace_, name);
      return FALSE;
    }
  /* Terminating pods are still there: wait until they leave the API. */
  while (g_get_monotonic_time () < deadline)
    {
      g_autoptr(JsonNode) pod = llmsbx_kube_client_json (client, "GET", path, NULL, NULL, cancellable, &local_error);

      if (pod == NULL)
        {
          if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND))
            return TRUE;
          g_propagate_prefixed_error (error, g_steal_pointer (&local_error),
                                      "Could not check that the pod %s/%s is gone: ", namespace_, name);
          return FALSE;
        }
      g_usleep (50000);
    }
  g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_TIMEOUT,
               "The pod %s/%s was still terminating %d s after its deletion", namespace_, name,
               (int) (DELETE_WAIT_US / G_USEC_PER_SEC));
  return FALSE;
}
