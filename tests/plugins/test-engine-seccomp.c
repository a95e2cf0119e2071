/* test-engine-seccomp.c: a seccomp profile changed to refuse new user
 * namespaces: what it takes away, what it adds, and what it keeps. */
#include <json-glib/json-glib.h>
#include <llmsbx.h>

#include "llmsbx-engine-seccomp.h"

#define CLONE_NEWUSER 0x10000000

static JsonArray *
restricted_rules (const char *profile,
                  JsonNode  **root_out)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *restricted = llmsbx_engine_seccomp_without_user_namespaces (profile, strlen (profile), &error);
  JsonNode *root;

  g_assert_no_error (error);
  g_assert_nonnull (restricted);
  root = json_from_string (restricted, &error);
  g_assert_no_error (error);
  *root_out = root;
  return json_object_get_array_member (json_node_get_object (root), "syscalls");
}

static gboolean
names_contain (JsonObject *rule,
               const char *name)
{
  JsonArray *names = json_object_get_array_member (rule, "names");

  for (guint i = 0; i < json_array_get_length (names); i++)
    if (g_str_equal (json_array_get_string_element (names, i), name))
      return TRUE;
  return FALSE;
}

/* The rules that name @name, with or without arguments. */
static guint
count_rules (JsonArray  *rules,
             const char *name,
             gboolean    with_args)
{
  guint count = 0;

  for (guint i = 0; i < json_array_get_length (rules); i++)
    {
      JsonObject *rule = json_array_get_object_element (rules, i);
      JsonArray *args = json_object_has_member (rule, "args") ? json_object_get_array_member (rule, "args") : NULL;
      gboolean has_args = args != NULL && json_array_get_length (args) > 0;

      if (names_contain (rule, name) && has_args == with_args)
        count++;
    }
  return count;
}

/* Podman's profile allows clone, clone3 and unshare unconditionally, in its
 * big list: they leave it, the rest of it stays, and Docker's conditional
 * rules come in. */
static void
test_unconditional_permissions_taken_back (void)
{
  g_autoptr(JsonNode) root = NULL;
  JsonArray *rules = restricted_rules (
    "{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"defaultErrnoRet\": 38, \"syscalls\": ["
    " {\"names\": [\"read\", \"clone\", \"clone3\", \"write\", \"unshare\"], \"action\": \"SCMP_ACT_ALLOW\","
    "  \"args\": [], \"comment\": \"\", \"includes\": {}, \"excludes\": {}},"
    " {\"names\": [\"clone3\"], \"action\": \"SCMP_ACT_ALLOW\"},"
    " {\"names\": [\"setns\"], \"action\": \"SCMP_ACT_ALLOW\", \"includes\": {\"caps\": [\"CAP_SYS_ADMIN\"]}},"
    " {\"names\": [\"unshare\"], \"action\": \"SCMP_ACT_ALLOW\", \"includes\": {\"caps\": [\"CAP_SYS_ADMIN\"]}},"
    " {\"names\": [\"personality\"], \"action\": \"SCMP_ACT_ALLOW\","
    "  \"args\": [{\"index\": 0, \"value\": 8, \"valueTwo\": 0, \"op\": \"SCMP_CMP_EQ\"}]}]}",
    &root);
  JsonObject *object = json_node_get_object (root);
  JsonObject *first = json_array_get_object_element (rules, 0);
  JsonObject *last = json_array_get_object_element (rules, json_array_get_length (rules) - 1);

  /* The profile's other members are untouched. */
  g_assert_cmpstr (json_object_get_string_member (object, "defaultAction"), ==, "SCMP_ACT_ERRNO");
  g_assert_cmpint (json_object_get_int_member (object, "defaultErrnoRet"), ==, 38);

  /* The big list keeps everything else, in order; the clone3-only rule is gone. */
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (first, "names")), ==, 2);
  g_assert_cmpstr (json_array_get_string_element (json_object_get_array_member (first, "names"), 0), ==, "read");
  g_assert_cmpstr (json_array_get_string_element (json_object_get_array_member (first, "names"), 1), ==, "write");
  g_assert_true (names_contain (json_array_get_object_element (rules, 1), "setns"));

  /* A permission that depends on CAP_SYS_ADMIN stays, as on Docker. */
  g_assert_true (names_contain (json_array_get_object_element (rules, 2), "unshare"));
  g_assert_true (names_contain (json_array_get_object_element (rules, 3), "personality"));

  /* clone and unshare: allowed without CLONE_NEWUSER, EPERM with it; clone
   * twice over, for s390's argument order; clone3 ENOSYS. */
  g_assert_cmpuint (count_rules (rules, "clone", FALSE), ==, 0);
  g_assert_cmpuint (count_rules (rules, "clone", TRUE), ==, 4);
  g_assert_cmpuint (count_rules (rules, "unshare", TRUE), ==, 2);
  g_assert_true (names_contain (last, "clone3"));
  g_assert_cmpstr (json_object_get_string_member (last, "action"), ==, "SCMP_ACT_ERRNO");
  g_assert_cmpint (json_object_get_int_member (last, "errnoRet"), ==, 38);

  for (guint i = 0; i < json_array_get_length (rules); i++)
    {
      JsonObject *rule = json_array_get_object_element (rules, i);
      JsonObject *arg;
      gboolean allows;

      if (!names_contain (rule, "unshare") || !json_object_has_member (rule, "args"))
        continue;
      arg = json_array_get_object_element (json_object_get_array_member (rule, "args"), 0);
      allows = g_str_equal (json_object_get_string_member (rule, "action"), "SCMP_ACT_ALLOW");
      g_assert_cmpstr (json_object_get_string_member (arg, "op"), ==, "SCMP_CMP_MASKED_EQ");
      g_assert_cmpint (json_object_get_int_member (arg, "value"), ==, CLONE_NEWUSER);
      g_assert_cmpint (json_object_get_int_member (arg, "valueTwo"), ==, allows ? 0 : CLONE_NEWUSER);
      if (!allows)
        g_assert_cmpint (json_object_get_int_member (rule, "errnoRet"), ==, 1);
    }
}

static void
test_not_a_profile (void)
{
  const char *bad[] = { "", "not json", "[]", "{\"syscalls\": 5}", "{\"defaultAction\": \"SCMP_ACT_ALLOW\"}" };

  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *restricted = llmsbx_engine_seccomp_without_user_namespaces (bad[i], strlen (bad[i]), &error);

      g_assert_null (restricted);
      g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/engine/seccomp/unconditional-permissions-taken-back", test_unconditional_permissions_taken_back);
  g_test_add_func ("/engine/seccomp/not-a-profile", test_not_a_profile);

  return g_test_run ();
}
