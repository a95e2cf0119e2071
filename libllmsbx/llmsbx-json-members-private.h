/* llmsbx-json-members-private.h: typed lookups of JSON object members.
 *
 * json-glib 1.6 (Debian 12) has no json_object_get_object_member_with_default()
 * or its array twin, and its plain getters warn when the member is of
 * another type, which untrusted JSON (engine answers, pod manifests, presets)
 * may well be. Not public API; inline, so the core and the plugins share it
 * without exporting it. */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* The object that member @name of @object (which may be NULL) holds, or
 * NULL when there is none or it is not an object. */
static inline JsonObject *
llmsbx_json_object_member (JsonObject *object,
                           const char *name)
{
  JsonNode *node = object != NULL ? json_object_get_member (object, name) : NULL;

  return node != NULL && JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
}

/* The array that member @name of @object (which may be NULL) holds, or
 * NULL when there is none or it is not an array. */
static inline JsonArray *
llmsbx_json_array_member (JsonObject *object,
                          const char *name)
{
  JsonNode *node = object != NULL ? json_object_get_member (object, name) : NULL;

  return node != NULL && JSON_NODE_HOLDS_ARRAY (node) ? json_node_get_array (node) : NULL;
}

G_END_DECLS
