/* llmsbx-engine-seccomp.c: an engine's seccomp profile, changed to refuse new
 * user namespaces as Docker's default profile does.
 *
 * A user namespace gives its creator every capability inside it, so code that
 * may make one can reach kernel interfaces that the sandbox's dropped
 * capabilities otherwise keep from it. Docker's default profile allows
 * clone(2) and unshare(2) only without CLONE_NEWUSER, and clone3(2), whose
 * flags a filter cannot read, not at all (ENOSYS, so C libraries fall back to
 * clone), unless the container has CAP_SYS_ADMIN. Podman's default profile
 * (containers-common) allows all three. This makes the same rules out of any
 * profile in the OCI/Docker JSON format: unconditional permissions for the
 * three calls are taken back, and Docker's conditional ones added. */
#include "llmsbx-engine-seccomp.h"

#include <json-glib/json-glib.h>
#include <llmsbx.h>

#define CLONE_NEWUSER 0x10000000
#define EPERM_NUMBER 1
#define ENOSYS_NUMBER 38

static const char * const namespace_calls[] = { "clone", "clone3", "unshare", NULL };

static gboolean
is_empty_member (JsonObject *rule,
                 const char *name)
{
  JsonNode *node = json_object_get_member (rule, name);

  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return TRUE;
  if (JSON_NODE_HOLDS_ARRAY (node))
    return json_array_get_length (json_node_get_array (node)) == 0;
  if (JSON_NODE_HOLDS_OBJECT (node))
    return json_object_get_size (json_node_get_object (node)) == 0;
  return FALSE;
}

/* Takes clone, clone3 and unshare out of a rule that allows them whatever
 * their arguments and capabilities. FALSE when no name is left. */
static gboolean
restrict_rule (JsonObject *rule)
{
  JsonArray *names;
  JsonArray *kept;

  if (g_strcmp0 (json_object_get_string_member_with_default (rule, "action", NULL), "SCMP_ACT_ALLOW") != 0 ||
      !is_empty_member (rule, "args") || !is_empty_member (rule, "includes") ||
      !is_empty_member (rule, "excludes") || !json_object_has_member (rule, "names") ||
      !JSON_NODE_HOLDS_ARRAY (json_object_get_member (rule, "names")))
    return TRUE;

  names = json_object_get_array_member (rule, "names");
  kept = json_array_new ();
  for (guint i = 0; i < json_array_get_length (names); i++)
    {
      JsonNode *name = json_array_get_element (names, i);

      if (json_node_get_value_type (name) != G_TYPE_STRING ||
          !g_strv_contains (namespace_calls, json_node_get_string (name)))
        json_array_add_element (kept, json_node_copy (name));
    }
  json_object_set_array_member (rule, "names", kept);
  return json_array_get_length (kept) > 0;
}

/* A rule for @name on the argument @index, (arg & CLONE_NEWUSER) == @flag,
 * for the architectures @arches_member (includes or excludes) names. */
static JsonNode *
user_namespace_rule (const char *name,
                     const char *action,
                     guint       index,
                     gint64      flag,
                     const char *arches_member)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "names");
  json_builder_begin_array (builder);
  json_builder_add_string_value (builder, name);
  json_builder_end_array (builder);
  json_builder_set_member_name (builder, "action");
  json_builder_add_string_value (builder, action);
  if (g_str_equal (action, "SCMP_ACT_ERRNO"))
    {
      json_builder_set_member_name (builder, "errnoRet");
      json_builder_add_int_value (builder, EPERM_NUMBER);
    }
  json_builder_set_member_name (builder, "args");
  json_builder_begin_array (builder);
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "index");
  json_builder_add_int_value (builder, index);
  json_builder_set_member_name (builder, "value");
  json_builder_add_int_value (builder, CLONE_NEWUSER);
  json_builder_set_member_name (builder, "valueTwo");
  json_builder_add_int_value (builder, flag);
  json_builder_set_member_name (builder, "op");
  json_builder_add_string_value (builder, "SCMP_CMP_MASKED_EQ");
  json_builder_end_object (builder);
  json_builder_end_array (builder);
  if (arches_member != NULL)
    {
      /* clone's flags are its second argument on s390. */
      json_builder_set_member_name (builder, arches_member);
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "arches");
      json_builder_begin_array (builder);
      json_builder_add_string_value (builder, "s390");
      json_builder_add_string_value (builder, "s390x");
      json_builder_end_array (builder);
      json_builder_end_object (builder);
    }
  json_builder_end_object (builder);
  return json_builder_get_root (builder);
}

static JsonNode *
clone3_rule (void)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "names");
  json_builder_begin_array (builder);
  json_builder_add_string_value (builder, "clone3");
  json_builder_end_array (builder);
  json_builder_set_member_name (builder, "action");
  json_builder_add_string_value (builder, "SCMP_ACT_ERRNO");
  json_builder_set_member_name (builder, "errnoRet");
  json_builder_add_int_value (builder, ENOSYS_NUMBER);
  json_builder_end_object (builder);
  return json_builder_get_root (builder);
}

/**
 * llmsbx_engine_seccomp_without_user_namespaces:
 * @profile: (array length=length): a seccomp profile in the OCI/Docker JSON format
 * @length: its size
 * @error: return location for a #GError
 *
 * Returns @profile changed so that clone(2) and unshare(2) with
 * CLONE_NEWUSER fail with EPERM and clone3(2) with ENOSYS, whatever it
 * allowed before; every other rule is kept as it was.
 *
 * Returns: (transfer full) (nullable): the profile as JSON, or %NULL with
 *   %LLMSBX_ERROR_INVALID_ARGUMENT when @profile is not one
 */
char *
llmsbx_engine_seccomp_without_user_namespaces (const char  *profile,
                                               gsize        length,
                                               GError     **error)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) local_error = NULL;
  g_autoptr(JsonNode) root = NULL;
  JsonArray *rules;
  JsonArray *kept;

  if (length > G_MAXSSIZE || !json_parser_load_from_data (parser, profile, (gssize) length, &local_error))
    {
      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
                   "The seccomp profile is not JSON: %s",
                   local_error ? local_error->message : "it is too large");
      return NULL;
    }
  root = json_parser_steal_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root) ||
      !json_object_has_member (json_node_get_object (root), "syscalls") ||
      !JSON_NODE_HOLDS_ARRAY (json_object_get_member (json_node_get_object (root), "syscalls")))
    {
      g_set_error_literal (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
                           "The seccomp profile has no \"syscalls\" list");
      return NULL;
    }

  rules = json_object_get_array_member (json_node_get_object (root), "syscalls");
  kept = json_array_new ();
  for (guint i = 0; i < json_array_get_length (rules); i++)
    {
      JsonNode *rule = json_array_get_element (rules, i);

      if (!JSON_NODE_HOLDS_OBJECT (rule) || restrict_rule (json_node_get_object (rule)))
        json_array_add_element (kept, json_node_copy (rule));
    }

  json_array_add_element (kept, user_namespace_rule ("clone", "SCMP_ACT_ALLOW", 0, 0, "excludes"));
  json_array_add_element (kept, user_namespace_rule ("clone", "SCMP_ACT_ERRNO", 0, CLONE_NEWUSER, "excludes"));
  json_array_add_element (kept, user_namespace_rule ("clone", "SCMP_ACT_ALLOW", 1, 0, "includes"));
  json_array_add_element (kept, user_namespace_rule ("clone", "SCMP_ACT_ERRNO", 1, CLONE_NEWUSER, "includes"));
  json_array_add_element (kept, user_namespace_rule ("unshare", "SCMP_ACT_ALLOW", 0, 0, NULL));
  json_array_add_element (kept, user_namespace_rule ("unshare", "SCMP_ACT_ERRNO", 0, CLONE_NEWUSER, NULL));
  json_array_add_element (kept, clone3_rule ());
  json_object_set_array_member (json_node_get_object (root), "syscalls", kept);

  return json_to_string (root, FALSE);
}
