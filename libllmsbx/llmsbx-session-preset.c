/* llmsbx-session-preset.c: giving a session a security preset.
 *
 * Every front end (the CLI's --preset, and the services that default to the
 * production preset) merges a preset into a session the same way, so the
 * merge lives here, below them. It only uses the session's public setters. */
#include "config.h"

#include <json-glib/json-glib.h>

#include "llmsbx-error.h"
#include "llmsbx-json-members-private.h"
#include "llmsbx-sandbox-session.h"
#include "llmsbx-security-preset.h"

/* @preset_config under @given, which wins key by key. */
static GVariant *
merge_runtime_configs (GVariant *preset_config,
                       GVariant *given)
{
  GVariantBuilder merged;
  GVariantIter iter;
  const char *key;
  GVariant *value;

  g_variant_builder_init (&merged, G_VARIANT_TYPE_VARDICT);
  g_variant_iter_init (&iter, preset_config);
  while (g_variant_iter_next (&iter, "{&sv}", &key, &value))
    {
      g_autoptr(GVariant) override = given ? g_variant_lookup_value (given, key, NULL) : NULL;

      if (override == NULL)
        g_variant_builder_add (&merged, "{sv}", key, value);
      g_variant_unref (value);
    }
  if (given != NULL)
    {
      g_variant_iter_init (&iter, given);
      while (g_variant_iter_next (&iter, "{&sv}", &key, &value))
        {
          g_variant_builder_add (&merged, "{sv}", key, value);
          g_variant_unref (value);
        }
    }
  return g_variant_builder_end (&merged);
}

static JsonNode *merge_json (JsonNode *preset, JsonNode *given);

/* A list of named entries (volumes, volumeMounts): @given's, then each of
 * @preset's whose name (or, for a mount, path) @given does not use. */
static JsonNode *
merge_named (JsonArray *preset,
             JsonArray *given)
{
  JsonArray *merged = json_array_new ();
  JsonNode *node = json_node_new (JSON_NODE_ARRAY);

  for (guint i = 0; i < json_array_get_length (given); i++)
    json_array_add_element (merged, json_node_copy (json_array_get_element (given, i)));
  for (guint i = 0; i < json_array_get_length (preset); i++)
    {
      JsonNode *entry = json_array_get_element (preset, i);
      gboolean taken = FALSE;

      for (guint j = 0; j < json_array_get_length (given) && !taken && JSON_NODE_HOLDS_OBJECT (entry); j++)
        {
          JsonNode *other = json_array_get_element (given, j);

          for (guint k = 0; k < 2 && !taken && JSON_NODE_HOLDS_OBJECT (other); k++)
            {
              const char *key = k == 0 ? "name" : "mountPath";
              const char *mine = json_object_get_string_member_with_default (json_node_get_object (entry), key, NULL);
              const char *theirs = json_object_get_string_member_with_default (json_node_get_object (other), key, NULL);

              taken = mine != NULL && g_strcmp0 (mine, theirs) == 0;
            }
        }
      if (!taken)
        json_array_add_element (merged, json_node_copy (entry));
    }
  json_node_take_array (node, merged);
  return node;
}

/* A limit the given container sets stands for its request as well (as the
 * API server defaults a missing request to the limit) unless it sets that
 * request too: the preset's request for the resource goes, or a manifest
 * limit below the preset's request would make the pod invalid. */
static void
drop_requests_under_given_limits (JsonNode *merged,
                                  JsonNode *given)
{
  JsonObject *given_resources, *merged_resources, *limits, *requests, *given_requests;
  g_autoptr(GList) names = NULL;

  if (!JSON_NODE_HOLDS_OBJECT (merged) || !JSON_NODE_HOLDS_OBJECT (given))
    return;
  given_resources = llmsbx_json_object_member (json_node_get_object (given), "resources");
  merged_resources = llmsbx_json_object_member (json_node_get_object (merged), "resources");
  if (given_resources == NULL || merged_resources == NULL)
    return;
  limits = llmsbx_json_object_member (given_resources, "limits");
  requests = llmsbx_json_object_member (merged_resources, "requests");
  given_requests = llmsbx_json_object_member (given_resources, "requests");
  if (limits == NULL || requests == NULL)
    return;
  names = json_object_get_members (limits);
  for (GList *n = names; n != NULL; n = n->next)
    if (given_requests == NULL || !json_object_has_member (given_requests, n->data))
      json_object_remove_member (requests, n->data);
  if (json_object_get_size (requests) == 0)
    json_object_remove_member (merged_resources, "requests");
}

/* Containers by position: the preset's first under the given first. */
static JsonNode *
merge_containers (JsonArray *preset,
                  JsonArray *given)
{
  JsonArray *merged = json_array_new ();
  JsonNode *node = json_node_new (JSON_NODE_ARRAY);
  guint length = MAX (json_array_get_length (preset), json_array_get_length (given));

  for (guint i = 0; i < length; i++)
    {
      JsonNode *mine = i < json_array_get_length (preset) ? json_array_get_element (preset, i) : NULL;
      JsonNode *theirs = i < json_array_get_length (given) ? json_array_get_element (given, i) : NULL;

      JsonNode *container = mine && theirs ? merge_json (mine, theirs) : json_node_copy (mine ? mine : theirs);

      if (mine && theirs)
        drop_requests_under_given_limits (container, theirs);
      json_array_add_element (merged, container);
    }
  json_node_take_array (node, merged);
  return node;
}

/* @preset under @given: objects member by member, containers by position,
 * volumes, volume mounts and env by name; anything else @given sets wins. */
static JsonNode *
merge_json (JsonNode *preset,
            JsonNode *given)
{
  JsonObject *merged;
  JsonNode *node;
  g_autoptr(GList) members = NULL;

  if (!JSON_NODE_HOLDS_OBJECT (preset) || !JSON_NODE_HOLDS_OBJECT (given))
    return json_node_copy (given);
  node = json_node_copy (preset);
  merged = json_node_get_object (node);
  members = json_object_get_members (json_node_get_object (given));
  for (GList *m = members; m != NULL; m = m->next)
    {
      const char *name = m->data;
      JsonNode *theirs = json_object_get_member (json_node_get_object (given), name);
      JsonNode *mine = json_object_get_member (merged, name);
      JsonNode *value;

      if (mine != NULL && JSON_NODE_HOLDS_ARRAY (mine) && JSON_NODE_HOLDS_ARRAY (theirs) &&
          g_str_equal (name, "containers"))
        value = merge_containers (json_node_get_array (mine), json_node_get_array (theirs));
      else if (mine != NULL && JSON_NODE_HOLDS_ARRAY (mine) && JSON_NODE_HOLDS_ARRAY (theirs) &&
               (g_str_equal (name, "volumes") || g_str_equal (name, "volumeMounts") || g_str_equal (name, "env")))
        value = merge_named (json_node_get_array (mine), json_node_get_array (theirs));
      else if (mine != NULL)
        value = merge_json (mine, theirs);
      else
        value = json_node_copy (theirs);
      json_object_set_member (merged, name, value);
    }
  return node;
}

/* The preset's pod fragment under the session's pod manifest, if any. */
static GVariant *
merge_pod_manifests (GVariant  *fragment,
                     GVariant  *given,
                     GError   **error)
{
  g_autoptr(JsonNode) preset = json_gvariant_serialize (fragment);
  g_autoptr(JsonNode) theirs = given ? json_gvariant_serialize (given) : NULL;
  g_autoptr(JsonNode) merged = theirs ? merge_json (preset, theirs) : json_node_copy (preset);
  g_autoptr(GError) local_error = NULL;
  GVariant *manifest;

  /* As llmsbx_sandbox_session_set_pod_manifest_json() makes one. */
  manifest = json_gvariant_deserialize (merged, "a{sv}", &local_error);
  if (manifest == NULL)
    {
      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
                   "The preset's pod manifest fragment cannot be merged into the pod manifest: %s",
                   local_error->message);
      return NULL;
    }
  return g_variant_ref_sink (manifest);
}

/**
 * llmsbx_sandbox_session_apply_security_preset:
 * @session: a #LlmsbxSandboxSession
 * @preset: a preset made for the session's language (and backend, when the
 *   session names one)
 * @error: return location for a #GError
 *
 * Gives @session the preset's security policy, and the preset's runtime
 * config under the runtime configs the session already has: a key the session
 * sets keeps the session's value, every other key of the preset is added. This
 * is what `llmsbx run --preset` does. A preset for Kubernetes has no runtime
 * config: its #LlmsbxSecurityPreset:pod-manifest-fragment goes under the
 * session's #LlmsbxSandboxSession:pod-manifest (or becomes it, when the
 * session has none) the same way: what the manifest sets wins, member by
 * member; `spec.containers` are merged by position, and `volumes`,
 * `volumeMounts` and `env` entries by name (a mount also by path), the
 * manifest's first. A resource limit the manifest sets replaces the preset's
 * request for that resource too, unless the manifest sets the request (the
 * API server then takes the limit as the request, so a limit below the
 * preset's request stays valid). Like the setters, it takes effect at the
 * next open().
 *
 * Fails with %LLMSBX_ERROR_INVALID_ARGUMENT, changing nothing, when the preset
 * is for another language than the session's, or for another backend than
 * the one the session names.
 *
 * Returns: %TRUE on success
 *
 * Since: 0.1
 */
gboolean
llmsbx_sandbox_session_apply_security_preset (LlmsbxSandboxSession  *session,
                                              LlmsbxSecurityPreset  *preset,
                                              GError               **error)
{
  const char *lang;
  const char *backend;
  GVariant *preset_config;
  GVariant *fragment;
  g_autoptr(GVariant) manifest = NULL;

  g_return_val_if_fail (LLMSBX_IS_SANDBOX_SESSION (session), FALSE);
  g_return_val_if_fail (LLMSBX_IS_SECURITY_PRESET (preset), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  lang = llmsbx_sandbox_session_get_lang (session);
  if (g_ascii_strcasecmp (lang, llmsbx_security_preset_get_lang (preset)) != 0)
    {
      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
                   "The %s preset is for %s code, the session runs %s",
                   llmsbx_security_preset_get_name (preset), llmsbx_security_preset_get_lang (preset), lang);
      return FALSE;
    }

  /* A session that names no backend takes what its preset was made for. */
  backend = llmsbx_sandbox_session_get_backend (session);
  if (backend != NULL && g_ascii_strcasecmp (backend, llmsbx_security_preset_get_backend (preset)) != 0)
    {
      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
                   "The %s preset is for the %s backend, the session uses %s",
                   llmsbx_security_preset_get_name (preset), llmsbx_security_preset_get_backend (preset), backend);
      return FALSE;
    }

  fragment = llmsbx_security_preset_get_pod_manifest_fragment (preset);
  if (fragment != NULL)
    {
      g_autoptr(GVariant) given = NULL;

      g_object_get (session, "pod-manifest", &given, NULL);
      manifest = merge_pod_manifests (fragment, given, error);
      if (manifest == NULL)
        return FALSE;
    }

  llmsbx_sandbox_session_set_security_policy (session, llmsbx_security_preset_get_security_policy (preset));
  if (manifest != NULL)
    g_object_set (session, "pod-manifest", manifest, NULL);

  preset_config = llmsbx_security_preset_get_runtime_config (preset);
  if (preset_config != NULL)
    llmsbx_sandbox_session_set_runtime_configs (session,
                                                merge_runtime_configs (preset_config,
                                                                       llmsbx_sandbox_session_get_runtime_configs (session)));
  return TRUE;
}
