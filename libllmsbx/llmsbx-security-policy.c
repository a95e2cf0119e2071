/* llmsbx-security-policy.c: what code a session refuses to run: the model and
 * its JSON form. The check itself is in llmsbx-security-policy-check.c. */
#include "config.h"

#include <json-glib/json-glib.h>

#include "llmsbx-security-policy.h"
#include "llmsbx-security-private.h"
#include "llmsbx-enum-types.h"
#include "llmsbx-error.h"
#include "llmsbx-nesting-private.h"

/**
 * LlmsbxSecurityPolicy:
 *
 * Patterns and restricted modules that a #LlmsbxSandboxSession looks for in
 * code before it runs it, and the severity from which a finding blocks the
 * code.
 *
 * A session holding a policy (#LlmsbxSandboxSession:security-policy) enforces
 * it: llmsbx_sandbox_session_run() refuses code, and
 * llmsbx_sandbox_session_install() libraries, with
 * %LLMSBX_ERROR_SECURITY_VIOLATION before anything reaches the sandbox.
 * llmsbx_sandbox_session_is_safe() asks without running.
 *
 * With the threshold %LLMSBX_SECURITY_ISSUE_SEVERITY_SAFE nothing is blocked
 * and every finding is only reported; with %LLMSBX_SECURITY_ISSUE_SEVERITY_LOW,
 * findings of severity LOW, MEDIUM and HIGH block; with MEDIUM, MEDIUM and
 * HIGH; with HIGH, only HIGH. A pattern of severity SAFE never blocks.
 *
 * Checking never changes the policy. Patterns and modules may be added from
 * any thread, also while sessions check code against the policy.
 *
 * A regular-expression scan is a tripwire for honest mistakes and careless
 * generated code, not a sandbox: code can always be written so that no
 * pattern sees it. The container is the security boundary (see
 * docs/security.md and llmsbx_get_security_preset()).
 *
 * ```c
 * g_autoptr(LlmsbxSecurityPolicy) policy = llmsbx_security_policy_new (LLMSBX_SECURITY_ISSUE_SEVERITY_MEDIUM);
 * g_autoptr(LlmsbxSecurityPattern) pattern = NULL;
 * g_autoptr(LlmsbxRestrictedModule) module = NULL;
 *
 * pattern = llmsbx_security_pattern_new ("os\\.system", "System command execution",
 *                                        LLMSBX_SECURITY_ISSUE_SEVERITY_HIGH, &error);
 * llmsbx_security_policy_add_pattern (policy, pattern);
 * module = llmsbx_restricted_module_new ("subprocess", "Process execution",
 *                                        LLMSBX_SECURITY_ISSUE_SEVERITY_HIGH);
 * llmsbx_security_policy_add_restricted_module (policy, module);
 * ```
 *
 * Since: 0.1
 */
struct _LlmsbxSecurityPolicy
{
  GObject parent_instance;

  GMutex lock;
  LlmsbxSecurityIssueSeverity threshold;
  GPtrArray *patterns;
  GPtrArray *modules;
};

G_DEFINE_FINAL_TYPE (LlmsbxSecurityPolicy, llmsbx_security_policy, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_SEVERITY_THRESHOLD,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
llmsbx_security_policy_finalize (GObject *object)
{
  LlmsbxSecurityPolicy *self = LLMSBX_SECURITY_POLICY (object);

  g_ptr_array_unref (self->patterns);
  g_ptr_array_unref (self->modules);
  g_mutex_clear (&self->lock);

  G_OBJECT_CLASS (llmsbx_security_policy_parent_class)->finalize (object);
}

static void
llmsbx_security_policy_get_property (GObject    *object,
                                     guint       prop_id,
                                     GValue     *value,
                                     GParamSpec *pspec)
{
  LlmsbxSecurityPolicy *self = LLMSBX_SECURITY_POLICY (object);

  switch (prop_id)
    {
    case PROP_SEVERITY_THRESHOLD:
      g_value_set_enum (value, llmsbx_security_policy_get_severity_threshold (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
llmsbx_security_policy_set_property (GObject      *object,
                                     guint         prop_id,
                                     const GValue *value,
                                     GParamSpec   *pspec)
{
  LlmsbxSecurityPolicy *self = LLMSBX_SECURITY_POLICY (object);

  switch (prop_id)
    {
    case PROP_SEVERITY_THRESHOLD:
      llmsbx_security_policy_set_severity_threshold (self, g_value_get_enum (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
llmsbx_security_policy_class_init (LlmsbxSecurityPolicyClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = llmsbx_security_policy_finalize;
  object_class->get_property = llmsbx_security_policy_get_property;
  object_class->set_property = llmsbx_security_policy_set_property;

  /**
   * LlmsbxSecurityPolicy:severity-threshold:
   *
   * Findings of this severity or above block code, unless it is
   * %LLMSBX_SECURITY_ISSUE_SEVERITY_SAFE, which blocks nothing.
   *
   * Since: 0.1
   */
  properties[PROP_SEVERITY_THRESHOLD] =
    g_param_spec_enum ("severity-threshold", NULL, NULL, LLMSBX_TYPE_SECURITY_ISSUE_SEVERITY,
                       LLMSBX_SECURITY_ISSUE_SEVERITY_SAFE,
                       G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
llmsbx_security_policy_init (LlmsbxSecurityPolicy *self)
{
  g_mutex_init (&self->lock);
  self->patterns = g_ptr_array_new_with_free_func (g_object_unref);
  self->modules = g_ptr_array_new_with_free_func (g_object_unref);
}

/**
 * llmsbx_security_policy_new:
 * @severity_threshold: findings of this severity or above block code
 *
 * Makes a policy with no patterns and no restricted modules.
 *
 * Returns: (transfer full): a new policy
 *
 * Since: 0.1
 */
LlmsbxSecurityPolicy *
llmsbx_security_policy_new (LlmsbxSecurityIssueSeverity severity_threshold)
{
  return g_object_new (LLMSBX_TYPE_SECURITY_POLICY, "severity-threshold", severity_threshold, NULL);
}

/**
 * llmsbx_security_policy_get_severity_threshold:
 * @self: a #LlmsbxSecurityPolicy
 *
 * Returns: the severity from which findings block code
 *
 * Since: 0.1
 */
LlmsbxSecurityIssueSeverity
llmsbx_security_policy_get_severity_threshold (LlmsbxSecurityPolicy *self)
{
  LlmsbxSecurityIssueSeverity threshold;

  g_return_val_if_fail (LLMSBX_IS_SECURITY_POLICY (self), LLMSBX_SECURITY_ISSUE_SEVERITY_SAFE);

  g_mutex_lock (&self->lock);
  threshold = self->threshold;
  g_mutex_unlock (&self->lock);
  return threshold;
}

/**
 * llmsbx_security_policy_set_severity_threshold:
 * @self: a #LlmsbxSecurityPolicy
 * @severity_threshold: findings of this severity or above block code
 *
 * Sets the severity from which findings block code.
 *
 * Since: 0.1
 */
void
llmsbx_security_policy_set_severity_threshold (LlmsbxSecurityPolicy        *self,
                                               LlmsbxSecurityIssueSeverity  severity_threshold)
{
  gboolean changed;

  g_return_if_fail (LLMSBX_IS_SECURITY_POLICY (self));
  g_return_if_fail (severity_threshold <= LLMSBX_SECURITY_ISSUE_SEVERITY_HIGH);

  g_mutex_lock (&self->lock);
  changed = self->threshold != severity_threshold;
  self->threshold = severity_threshold;
  g_mutex_unlock (&self->lock);

  if (changed)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SEVERITY_THRESHOLD]);
}

/**
 * llmsbx_security_policy_add_pattern:
 * @self: a #LlmsbxSecurityPolicy
 * @pattern: a pattern to look for
 *
 * Adds a pattern; patterns are checked in the order they were added.
 *
 * Since: 0.1
 */
void
llmsbx_security_policy_add_pattern (LlmsbxSecurityPolicy  *self,
                                    LlmsbxSecurityPattern *pattern)
{
  g_return_if_fail (LLMSBX_IS_SECURITY_POLICY (self));
  g_return_if_fail (LLMSBX_IS_SECURITY_PATTERN (pattern));

  g_mutex_lock (&self->lock);
  g_ptr_array_add (self->patterns, g_object_ref (pattern));
  g_mutex_unlock (&self->lock);
}

/**
 * llmsbx_security_policy_add_restricted_module:
 * @self: a #LlmsbxSecurityPolicy
 * @module: a module code must not import
 *
 * Adds a restricted module.
 *
 * Since: 0.1
 */
void
llmsbx_security_policy_add_restricted_module (LlmsbxSecurityPolicy   *self,
                                              LlmsbxRestrictedModule *module)
{
  g_return_if_fail (LLMSBX_IS_SECURITY_POLICY (self));
  g_return_if_fail (LLMSBX_IS_RESTRICTED_MODULE (module));

  g_mutex_lock (&self->lock);
  g_ptr_array_add (self->modules, g_object_ref (module));
  g_mutex_unlock (&self->lock);
}

static GPtrArray *
copy_objects (GPtrArray *array)
{
  return g_ptr_array_copy (array, (GCopyFunc) (void (*) (void)) g_object_ref, NULL);
}

/**
 * llmsbx_security_policy_get_patterns:
 * @self: a #LlmsbxSecurityPolicy
 *
 * Returns: (transfer container) (element-type LlmsbxSecurityPattern): the
 *   patterns, in the order they were added; a copy of the list, so adding to
 *   it does not change the policy; it holds a reference to each pattern and
 *   drops it when freed
 *
 * Since: 0.1
 */
GPtrArray *
llmsbx_security_policy_get_patterns (LlmsbxSecurityPolicy *self)
{
  GPtrArray *copy;

  g_return_val_if_fail (LLMSBX_IS_SECURITY_POLICY (self), NULL);

  g_mutex_lock (&self->lock);
  copy = copy_objects (self->patterns);
  g_mutex_unlock (&self->lock);
  g_ptr_array_set_free_func (copy, g_object_unref);
  return copy;
}

/**
 * llmsbx_security_policy_get_restricted_modules:
 * @self: a #LlmsbxSecurityPolicy
 *
 * Returns: (transfer container) (element-type LlmsbxRestrictedModule): the
 *   restricted modules, in the order they were added; a copy of the list,
 *   holding a reference to each
 *
 * Since: 0.1
 */
GPtrArray *
llmsbx_security_policy_get_restricted_modules (LlmsbxSecurityPolicy *self)
{
  GPtrArray *copy;

  g_return_val_if_fail (LLMSBX_IS_SECURITY_POLICY (self), NULL);

  g_mutex_lock (&self->lock);
  copy = copy_objects (self->modules);
  g_mutex_unlock (&self->lock);
  g_ptr_array_set_free_func (copy, g_object_unref);
  return copy;
}

void
llmsbx_security_policy_snapshot (LlmsbxSecurityPolicy         *self,
                                 LlmsbxSecurityIssueSeverity  *threshold,
                                 GPtrArray                   **patterns,
                                 GPtrArray                   **modules)
{
  g_mutex_lock (&self->lock);
  *threshold = self->threshold;
  *patterns = copy_objects (self->patterns);
  *modules = copy_objects (self->modules);
  g_mutex_unlock (&self->lock);
  g_ptr_array_set_free_func (*patterns, g_object_unref);
  g_ptr_array_set_free_func (*modules, g_object_unref);
}

const char *
llmsbx_security_severity_to_string (LlmsbxSecurityIssueSeverity severity)
{
  switch (severity)
    {
    case LLMSBX_SECURITY_ISSUE_SEVERITY_SAFE: return "SAFE";
    case LLMSBX_SECURITY_ISSUE_SEVERITY_LOW: return "LOW";
    case LLMSBX_SECURITY_ISSUE_SEVERITY_MEDIUM: return "MEDIUM";
    case LLMSBX_SECURITY_ISSUE_SEVERITY_HIGH: return "HIGH";
    default: return "UNKNOWN";
    }
}

/* JSON ------------------------------------------------------------------- */

/* The JSON form is the guide's Python model dumped as JSON: snake_case names,
 * severities as numbers (0-3, what the Python library writes) or names
 * ("high", "HIGH"). Unknown members are refused, so a misspelt key cannot
 * silently weaken a policy. */

static gboolean
json_fail (GError     **error,
           const char  *where,
           const char  *format,
           ...) G_GNUC_PRINTF (3, 4);

static gboolean
json_fail (GError     **error,
           const char  *where,
           const char  *format,
           ...)
{
  g_autofree char *message = NULL;
  g_autofree char *valid = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  /* json-glib's parse errors quote the text, and may cut a character in two. */
  valid = g_utf8_make_valid (message, -1);

  g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
               "Invalid security policy JSON: %s%s%s", where, where[0] ? ": " : "", valid);
  return FALSE;
}

static gboolean
read_severity (JsonNode                    *node,
               const char                  *where,
               LlmsbxSecurityIssueSeverity *severity,
               GError                     **error)
{
  if (node != NULL && JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_INT64)
    {
      gint64 n = json_node_get_int (node);

      if (n < LLMSBX_SECURITY_ISSUE_SEVERITY_SAFE || n > LLMSBX_SECURITY_ISSUE_SEVERITY_HIGH)
        return json_fail (error, where, "severity %" G_GINT64_FORMAT " is not 0 (safe) to 3 (high)", n);
      *severity = n;
      return TRUE;
    }

  if (node != NULL && JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_STRING)
    {
      const char *name = json_node_get_string (node);

      for (int s = LLMSBX_SECURITY_ISSUE_SEVERITY_SAFE; s <= LLMSBX_SECURITY_ISSUE_SEVERITY_HIGH; s++)
        if (g_ascii_strcasecmp (name, llmsbx_security_severity_to_string (s)) == 0)
          {
            *severity = s;
            return TRUE;
          }
      return json_fail (error, where, "unknown severity \"%s\" (safe, low, medium or high)", name);
    }

  return json_fail (error, where, "a severity is needed: a name (safe, low, medium, high) or 0-3");
}

static gboolean
read_string (JsonObject  *object,
             const char  *member,
             gboolean     required,
             const char  *where,
             const char **value,
             GError     **error)
{
  JsonNode *node = json_object_get_member (object, member);

  *value = NULL;
  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    {
      if (required)
        return json_fail (error, where, "\"%s\" is missing", member);
      return TRUE;
    }
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
    return json_fail (error, where, "\"%s\" must be a string", member);
  *value = json_node_get_string (node);
  return TRUE;
}

static gboolean
check_members (JsonObject         *object,
               const char         *where,
               const char * const *allowed,
               GError            **error)
{
  g_autoptr(GList) members = json_object_get_members (object);

  for (GList *l = members; l != NULL; l = l->next)
    if (!g_strv_contains (allowed, l->data))
      {
        g_autofree char *known = g_strjoinv (", ", (char **) allowed);

        return json_fail (error, where, "unknown member \"%s\" (known: %s)", (const char *) l->data, known);
      }
  return TRUE;
}

/* The array under @member (absent and null mean empty), as an array or NULL. */
static gboolean
read_array (JsonObject  *object,
            const char  *member,
            JsonArray  **array,
            GError     **error)
{
  JsonNode *node = json_object_get_member (object, member);

  *array = NULL;
  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return TRUE;
  if (!JSON_NODE_HOLDS_ARRAY (node))
    return json_fail (error, member, "must be a list");
  *array = json_node_get_array (node);
  return TRUE;
}

static LlmsbxSecurityPattern *
read_pattern (JsonNode  *node,
              guint      index,
              GError   **error)
{
  static const char * const allowed[] = { "pattern", "description", "severity", NULL };
  g_autofree char *where = g_strdup_printf ("patterns[%u]", index);
  LlmsbxSecurityPattern *made;
  LlmsbxSecurityIssueSeverity severity;
  const char *pattern, *description;
  JsonObject *object;

  if (!JSON_NODE_HOLDS_OBJECT (node))
    return json_fail (error, where, "must be an object"), NULL;
  object = json_node_get_object (node);

  if (!check_members (object, where, allowed, error) ||
      !read_string (object, "pattern", TRUE, where, &pattern, error) ||
      !read_string (object, "description", FALSE, where, &description, error) ||
      !read_severity (json_object_get_member (object, "severity"), where, &severity, error))
    return NULL;

  made = llmsbx_security_pattern_new (pattern, description, severity, error);
  if (made == NULL)
    g_prefix_error (error, "Invalid security policy JSON: %s: ", where);
  return made;
}

static LlmsbxRestrictedModule *
read_module (JsonNode  *node,
             guint      index,
             GError   **error)
{
  static const char * const allowed[] = { "name", "description", "severity", NULL };
  g_autofree char *where = g_strdup_printf ("restricted_modules[%u]", index);
  LlmsbxSecurityIssueSeverity severity;
  const char *name, *description;
  JsonObject *object;

  if (!JSON_NODE_HOLDS_OBJECT (node))
    return json_fail (error, where, "must be an object"), NULL;
  object = json_node_get_object (node);

  if (!check_members (object, where, allowed, error) ||
      !read_string (object, "name", TRUE, where, &name, error) ||
      !read_string (object, "description", FALSE, where, &description, error) ||
      !read_severity (json_object_get_member (object, "severity"), where, &severity, error))
    return NULL;
  if (name[0] == '\0')
    return json_fail (error, where, "\"name\" cannot be empty"), NULL;

  return llmsbx_restricted_module_new (name, description, severity);
}

/**
 * llmsbx_security_policy_new_from_json:
 * @json: a JSON object
 * @error: return location for a #GError
 *
 * Reads a policy written by llmsbx_security_policy_to_json() or by the Python
 * library's `SecurityPolicy.model_dump_json()`:
 *
 * ```json
 * {
 *   "severity_threshold": "medium",
 *   "patterns": [
 *     {"pattern": "os\\.system", "description": "System command execution", "severity": "high"}
 *   ],
 *   "restricted_modules": [
 *     {"name": "subprocess", "description": "Process execution", "severity": 3}
 *   ]
 * }
 * ```
 *
 * Severities are names or numbers (0 safe to 3 high); every member but
 * `pattern` and `name` may be left out (the threshold then is safe, and
 * descriptions empty). Fails with %LLMSBX_ERROR_INVALID_ARGUMENT naming the
 * member at fault, also for an unknown member, an invalid regular expression,
 * arrays and objects nested more than 64 levels deep, text after the object,
 * or string escapes that are not text (`\u0000`, an unpaired surrogate).
 *
 * Returns: (transfer full): a new policy, or %NULL on error
 *
 * Since: 0.1
 */
LlmsbxSecurityPolicy *
llmsbx_security_policy_new_from_json (const char  *json,
                                      GError     **error)
{
  static const char * const allowed[] = { "severity_threshold", "patterns", "restricted_modules", NULL };
  g_autoptr(LlmsbxSecurityPolicy) policy = NULL;
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(GError) parse_error = NULL;
  JsonArray *patterns, *modules;
  JsonObject *object;
  JsonNode *threshold;

  g_return_val_if_fail (json != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!llmsbx_json_check (json, -1, "Invalid security policy JSON", error))
    return NULL;
  root = json_from_string (json, &parse_error);
  if (root == NULL)
    return json_fail (error, "", "%s", parse_error ? parse_error->message : "the text is empty"), NULL;
  if (!JSON_NODE_HOLDS_OBJECT (root))
    return json_fail (error, "", "the policy must be a JSON object"), NULL;
  object = json_node_get_object (root);

  if (!check_members (object, "", allowed, error) ||
      !read_array (object, "patterns", &patterns, error) ||
      !read_array (object, "restricted_modules", &modules, error))
    return NULL;

  policy = llmsbx_security_policy_new (LLMSBX_SECURITY_ISSUE_SEVERITY_SAFE);

  threshold = json_object_get_member (object, "severity_threshold");
  if (threshold != NULL && !JSON_NODE_HOLDS_NULL (threshold) &&
      !read_severity (threshold, "severity_threshold", &policy->threshold, error))
    return NULL;

  for (guint i = 0; patterns != NULL && i < json_array_get_length (patterns); i++)
    {
      LlmsbxSecurityPattern *pattern = read_pattern (json_array_get_element (patterns, i), i, error);

      if (pattern == NULL)
        return NULL;
      g_ptr_array_add (policy->patterns, pattern);
    }

  for (guint i = 0; modules != NULL && i < json_array_get_length (modules); i++)
    {
      LlmsbxRestrictedModule *module = read_module (json_array_get_element (modules, i), i, error);

      if (module == NULL)
        return NULL;
      g_ptr_array_add (policy->modules, module);
    }

  return g_steal_pointer (&policy);
}

static void
add_severity (JsonBuilder                 *builder,
              const char                  *member,
              LlmsbxSecurityIssueSeverity  severity)
{
  g_autofree char *name = g_ascii_strdown (llmsbx_security_severity_to_string (severity), -1);

  json_builder_set_member_name (builder, member);
  json_builder_add_string_value (builder, name);
}

/**
 * llmsbx_security_policy_to_json:
 * @self: a #LlmsbxSecurityPolicy
 *
 * Writes the policy as JSON that llmsbx_security_policy_new_from_json() reads
 * back into an equal policy.
 *
 * Returns: (transfer full): the policy as a JSON object
 *
 * Since: 0.1
 */
char *
llmsbx_security_policy_to_json (LlmsbxSecurityPolicy *self)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(GPtrArray) patterns = NULL;
  g_autoptr(GPtrArray) modules = NULL;
  LlmsbxSecurityIssueSeverity threshold;

  g_return_val_if_fail (LLMSBX_IS_SECURITY_POLICY (self), NULL);

  llmsbx_security_policy_snapshot (self, &threshold, &patterns, &modules);

  json_builder_begin_object (builder);
  add_severity (builder, "severity_threshold", threshold);

  json_builder_set_member_name (builder, "patterns");
  json_builder_begin_array (builder);
  for (guint i = 0; i < patterns->len; i++)
    {
      LlmsbxSecurityPattern *pattern = g_ptr_array_index (patterns, i);

      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "pattern");
      json_builder_add_string_value (builder, llmsbx_security_pattern_get_pattern (pattern));
      json_builder_set_member_name (builder, "description");
      json_builder_add_string_value (builder, llmsbx_security_pattern_get_description (pattern));
      add_severity (builder, "severity", llmsbx_security_pattern_get_severity (pattern));
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);

  json_builder_set_member_name (builder, "restricted_modules");
  json_builder_begin_array (builder);
  for (guint i = 0; i < modules->len; i++)
    {
      LlmsbxRestrictedModule *module = g_ptr_array_index (modules, i);

      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "name");
      json_builder_add_string_value (builder, llmsbx_restricted_module_get_name (module));
      json_builder_set_member_name (builder, "description");
      json_builder_add_string_value (builder, llmsbx_restricted_module_get_description (module));
      add_severity (builder, "severity", llmsbx_restricted_module_get_severity (module));
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
  json_builder_end_object (builder);

  root = json_builder_get_root (builder);
  json_generator_set_root (generator, root);
  json_generator_set_pretty (generator, TRUE);
  return json_generator_to_data (generator, NULL);
}
