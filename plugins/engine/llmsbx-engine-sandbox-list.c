/* llmsbx-engine-sandbox-list.c: the engine's sandboxes that carry some labels.
 *
 * One request, `GET /containers/json?all=1&filters={"label":[...]}`, which
 * Docker and Podman's compatible API answer alike; the engine does the
 * matching, so only what matches crosses the socket. */
#undef G_LOG_DOMAIN
#define G_LOG_DOMAIN "Llmsbx-Engine"

#include "llmsbx-engine-backend-private.h"

#include <string.h>

static int
compare_strings (gconstpointer a,
                 gconstpointer b)
{
  return strcmp (*(const char * const *) a, *(const char * const *) b);
}

/* The query that selects @label_selector, escaped for the URL. */
static char *
list_path (const char * const *label_selector)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) filters = NULL;
  g_autofree char *json = NULL;
  g_autofree char *escaped = NULL;

  if (label_selector == NULL || label_selector[0] == NULL)
    return g_strdup ("/containers/json?all=1");

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "label");
  json_builder_begin_array (builder);
  for (const char * const *s = label_selector; *s != NULL; s++)
    json_builder_add_string_value (builder, *s);
  json_builder_end_array (builder);
  json_builder_end_object (builder);
  filters = json_builder_get_root (builder);
  json = json_to_string (filters, FALSE);
  escaped = g_uri_escape_string (json, NULL, FALSE);
  return g_strdup_printf ("/containers/json?all=1&filters=%s", escaped);
}

static LlmsbxSandboxInfo *
sandbox_from_json (JsonObject *container)
{
  const char *id = json_object_get_string_member_with_default (container, "Id", NULL);
  JsonNode *labels_node = json_object_get_member (container, "Labels");
  g_autoptr(GPtrArray) labels = g_ptr_array_new_with_free_func (g_free);

  if (id == NULL)
    return NULL;

  if (labels_node != NULL && JSON_NODE_HOLDS_OBJECT (labels_node))
    {
      JsonObject *object = json_node_get_object (labels_node);
      g_autoptr(GList) keys = json_object_get_members (object);

      for (GList *k = keys; k != NULL; k = k->next)
        {
          JsonNode *value = json_object_get_member (object, k->data);
          const char *text = JSON_NODE_HOLDS_VALUE (value) && json_node_get_value_type (value) == G_TYPE_STRING
                             ? json_node_get_string (value) : "";

          g_ptr_array_add (labels, g_strdup_printf ("%s=%s", (const char *) k->data, text));
        }
    }
  g_ptr_array_sort (labels, compare_strings);
  g_ptr_array_add (labels, NULL);
  return llmsbx_sandbox_info_new (id, (const char * const *) labels->pdata);
}

GPtrArray *
llmsbx_engine_backend_list_sandboxes (LlmsbxBackend       *backend,
                                      const char * const  *label_selector,
                                      GCancellable        *cancellable,
                                      GError             **error)
{
  LlmsbxEngineBackend *self = LLMSBX_ENGINE_BACKEND (backend);
  g_autoptr(LlmsbxEngineClient) client = NULL;
  g_autoptr(JsonNode) answer = NULL;
  g_autoptr(GError) local_error = NULL;
  g_autoptr(GPtrArray) sandboxes = NULL;
  g_autofree char *path = list_path (label_selector);
  JsonArray *containers;

  client = llmsbx_engine_backend_get_client (self, cancellable, error);
  if (client == NULL)
    return NULL;

  answer = llmsbx_engine_client_json (client, "GET", path, NULL, cancellable, &local_error);
  if (answer == NULL)
    {
      if (local_error->domain == LLMSBX_ENGINE_ERROR)
        g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_FAILED, "Could not list the sandboxes of the %s: %s",
                     LLMSBX_ENGINE_BACKEND_GET_CLASS (self)->engine_name, local_error->message);
      else
        g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }
  if (!JSON_NODE_HOLDS_ARRAY (answer))
    {
      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_PROTOCOL,
                   "The %s answered the list of containers with something that is not a list",
                   LLMSBX_ENGINE_BACKEND_GET_CLASS (self)->engine_name);
      return NULL;
    }

  sandboxes = g_ptr_array_new_with_free_func ((GDestroyNotify) llmsbx_sandbox_info_free);
  containers = json_node_get_array (answer);
  for (guint i = 0; i < json_array_get_length (containers); i++)
    {
      JsonNode *element = json_array_get_element (containers, i);
      LlmsbxSandboxInfo *sandbox = JSON_NODE_HOLDS_OBJECT (element)
                                   ? sandbox_from_json (json_node_get_object (element)) : NULL;

      if (sandbox != NULL)
        g_ptr_array_add (sandboxes, sandbox);
    }
  return g_steal_pointer (&sandboxes);
}
