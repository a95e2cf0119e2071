/* llmsbx-engine-runtime-configs.c: docker-py style runtime configs → Engine API container JSON.
 *
 * The guide's `runtime_configs` are the keyword arguments of docker-py's
 * `containers.create()`. This maps the ones that make sense for a sandbox onto
 * the container-create body (top level and HostConfig). Values may come from
 * any language through GVariant, so numbers and booleans are accepted in any
 * variant type that holds them, and numbers also as decimal strings.
 *
 * Decisions:
 * - `cpu_count` is Windows-only in the Engine API; on Linux a user asking for
 *   "2 CPUs" means a CPU limit, so it becomes `NanoCpus` (like `nano_cpus`).
 * - `auto_remove=True` is refused: the daemon would delete the sandbox as soon
 *   as its keep-alive process ends, which loses the container that the session
 *   still owns (for commit_container and a clear error), while the session removes
 *   it on close anyway. `auto_remove=False` is accepted.
 * - Unknown keys are errors, so a typo never silently drops a limit. */
#include "llmsbx-engine-runtime-configs.h"

#include <string.h>

#include "llmsbx-nesting-private.h"

typedef struct _ConfigKey ConfigKey;

typedef gboolean (*ApplyFunc) (const ConfigKey  *key,
                               GVariant         *value,
                               JsonObject       *container,
                               JsonObject       *host_config,
                               GError          **error);

struct _ConfigKey
{
  const char *name;
  const char *member;      /* Engine API field it sets */
  gboolean    host_config; /* whether that field lives in HostConfig */
  ApplyFunc   apply;
};

static char *
describe (GVariant *value)
{
  g_autofree char *text = value ? g_variant_print (value, FALSE) : g_strdup ("null");

  if (g_utf8_strlen (text, -1) > 80)
    {
      char *end = g_utf8_offset_to_pointer (text, 77);
      *end = '\0';
      return g_strconcat (text, "...", NULL);
    }
  return g_steal_pointer (&text);
}

static gboolean
invalid_value (const ConfigKey  *key,
               GVariant         *value,
               const char       *expected,
               GError          **error)
{
  g_autofree char *text = describe (value);

  g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
               "Invalid value %s for runtime config key '%s': expected %s",
               text, key->name, expected);
  return FALSE;
}

/* Iterates over a list (any array or tuple) and hands each unboxed element to @func. */
typedef gboolean (*ElementFunc) (const ConfigKey *key, GVariant *element, gpointer data, GError **error);

static gboolean
foreach_element (const ConfigKey  *key,
                 GVariant         *list,
                 ElementFunc       func,
                 gpointer          data,
                 GError          **error)
{
  gsize n = g_variant_n_children (list);

  for (gsize i = 0; i < n; i++)
    {
      g_autoptr(GVariant) child = g_variant_get_child_value (list, i);
      g_autoptr(GVariant) element = llmsbx_runtime_config_unbox (child);

      if (element == NULL)
        return invalid_value (key, list, "a list without null elements", error);
      if (!func (key, element, data, error))
        return FALSE;
    }
  return TRUE;
}

typedef gboolean (*EntryFunc) (const ConfigKey *key, const char *name, GVariant *value,
                               gpointer data, GError **error);

/* Iterates over a dictionary; @value is NULL for null values. */
static gboolean
foreach_entry (const ConfigKey  *key,
               GVariant         *dict,
               EntryFunc         func,
               gpointer          data,
               GError          **error)
{
  gsize n = g_variant_n_children (dict);

  for (gsize i = 0; i < n; i++)
    {
      g_autoptr(GVariant) entry = g_variant_get_child_value (dict, i);
      g_autoptr(GVariant) name = g_variant_get_child_value (entry, 0);
      g_autoptr(GVariant) boxed = g_variant_get_child_value (entry, 1);
      g_autoptr(GVariant) value = llmsbx_runtime_config_unbox (boxed);

      if (!func (key, g_variant_get_string (name, NULL), value, data, error))
        return FALSE;
    }
  return TRUE;
}

/* ---------------------------------------------------------------------------
 * Simple members
 * ------------------------------------------------------------------------ */

static JsonObject *
target_object (const ConfigKey *key,
               JsonObject      *container,
               JsonObject      *host_config)
{
  return key->host_config ? host_config : container;
}

static gboolean
apply_bytes (const ConfigKey *key, GVariant *value, JsonObject *container,
             JsonObject *host_config, GError **error)
{
  gint64 bytes;
  gboolean ok;

  if (llmsbx_runtime_config_is_string (value))
    ok = llmsbx_runtime_config_parse_bytes (g_variant_get_string (value, NULL), &bytes);
  else
    ok = llmsbx_runtime_config_get_int64 (value, &bytes);

  /* -1 means "unlimited" for swap; no size is negative otherwise. */
  if (ok && bytes < 0 && !(bytes == -1 && g_str_equal (key->name, "memswap_limit")))
    ok = FALSE;
  if (!ok)
    return invalid_value (key, value,
                          "a number of bytes or a size such as \"512m\" or \"1g\" "
                          "(units b, k, m, g, t)", error);

  json_object_set_int_member (target_object (key, container, host_config), key->member, bytes);
  return TRUE;
}

static gboolean
apply_int (const ConfigKey *key, GVariant *value, JsonObject *container,
           JsonObject *host_config, GError **error)
{
  gint64 n;

  if (!llmsbx_runtime_config_get_int64 (value, &n))
    return invalid_value (key, value, "an integer", error);
  /* Only the quota and the pids limit have a meaning for -1 (unlimited). */
  if (n < 0 && !((g_str_equal (key->name, "cpu_quota") || g_str_equal (key->name, "pids_limit")) && n == -1))
    return invalid_value (key, value, "a non-negative integer", error);

  json_object_set_int_member (target_object (key, container, host_config), key->member, n);
  return TRUE;
}

static gboolean
apply_bool (const ConfigKey *key, GVariant *value, JsonObject *container,
            JsonObject *host_config, GError **error)
{
  gboolean b;

  if (!llmsbx_runtime_config_get_boolean (value, &b))
    return invalid_value (key, value, "a boolean", error);

  json_object_set_boolean_member (target_object (key, container, host_config), key->member, b);
  return TRUE;
}

static gboolean
apply_string (const ConfigKey *key, GVariant *value, JsonObject *container,
              JsonObject *host_config, GError **error)
{
  g_autofree char *s = llmsbx_runtime_config_dup_string (value);

  if (s == NULL)
    return invalid_value (key, value, "a string", error);

  json_object_set_string_member (target_object (key, container, host_config), key->member, s);
  return TRUE;
}

static JsonArray *
ensure_array (JsonObject *object,
              const char *member)
{
  if (!json_object_has_member (object, member) ||
      !JSON_NODE_HOLDS_ARRAY (json_object_get_member (object, member)))
    json_object_set_array_member (object, member, json_array_new ());
  return json_object_get_array_member (object, member);
}

static JsonObject *
ensure_object (JsonObject *object,
               const char *member)
{
  if (!json_object_has_member (object, member) ||
      !JSON_NODE_HOLDS_OBJECT (json_object_get_member (object, member)))
    json_object_set_object_member (object, member, json_object_new ());
  return json_object_get_object_member (object, member);
}

static gboolean
add_string_element (const ConfigKey *key, GVariant *element, gpointer array, GError **error)
{
  if (!llmsbx_runtime_config_is_string (element))
    return invalid_value (key, element, "a list of strings", error);
  json_array_add_string_element (array, g_variant_get_string (element, NULL));
  return TRUE;
}

/* A list of strings; a single string counts as a list of one. */
static gboolean
apply_strv (const ConfigKey *key, GVariant *value, JsonObject *container,
            JsonObject *host_config, GError **error)
{
  JsonArray *array = ensure_array (target_object (key, container, host_config), key->member);

  if (llmsbx_runtime_config_is_string (value))
    return add_string_element (key, value, array, error);
  if (!llmsbx_runtime_config_is_list (value))
    return invalid_value (key, value, "a list of strings", error);
  return foreach_element (key, value, add_string_element, array, error);
}

static gboolean
set_string_entry (const ConfigKey *key, const char *name, GVariant *value,
                  gpointer object, GError **error)
{
  g_autofree char *s = value ? llmsbx_runtime_config_dup_string (value) : g_strdup ("");

  if (s == NULL)
    return invalid_value (key, value, "a dictionary of strings", error);
  json_object_set_string_member (object, name, s);
  return TRUE;
}

/* A string → string map (sysctls, storage options). */
static gboolean
apply_string_map (const ConfigKey *key, GVariant *value, JsonObject *container,
                  JsonObject *host_config, GError **error)
{
  if (!llmsbx_runtime_config_is_dict (value))
    return invalid_value (key, value, "a dictionary of strings", error);
  return foreach_entry (key, value, set_string_entry,
                        ensure_object (target_object (key, container, host_config), key->member),
                        error);
}

/* ---------------------------------------------------------------------------
 * Keys with their own shapes
 * ------------------------------------------------------------------------ */

static gboolean
apply_cpus (const ConfigKey *key, GVariant *value, JsonObject *container,
            JsonObject *host_config, GError **error)
{
  gint64 n;

  if (json_object_has_member (host_config, "NanoCpus"))
    {
      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
                   "Runtime config keys 'cpu_count' and 'nano_cpus' both set a CPU limit; use one");
      return FALSE;
    }
  if (!llmsbx_runtime_config_get_int64 (value, &n) || n <= 0)
    return invalid_value (key, value, "a positive integer", error);
  if (g_str_equal (key->name, "cpu_count"))
    {
      if (n > G_MAXINT64 / 1000000000)
        return invalid_value (key, value, "a reasonable number of CPUs", error);
      n *= 1000000000;
    }

  json_object_set_int_member (host_config, "NanoCpus", n);
  return TRUE;
}

static gboolean
apply_auto_remove (const ConfigKey *key, GVariant *value, JsonObject *container,
                   JsonObject *host_config, GError **error)
{
  gboolean b;

  if (!llmsbx_runtime_config_get_boolean (value, &b))
    return invalid_value (key, value, "a boolean", error);
  if (b)
    {
      g_set_error_literal (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
                           "Runtime config key 'auto_remove' cannot be true: the session removes "
                           "its sandbox itself when it closes, and needs it until then");
      return FALSE;
    }
  json_object_set_boolean_member (host_config, "AutoRemove", FALSE);
  return TRUE;
}

/* environment: {"K": "V"} (null value: the name alone) or ["K=V", ...]. */
static gboolean
add_env_entry (const ConfigKey *key, const char *name, GVariant *value,
               gpointer array, GError **error)
{
  g_autofree char *s = NULL;
  g_autofree char *entry = NULL;

  if (*name == '\0' || strchr (name, '=') != NULL)
    {
      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
                   "Invalid variable name '%s' in runtime config key '%s'", name, key->name);
      return FALSE;
    }
  if (value == NULL)
    {
      json_array_add_string_element (array, name);
      return TRUE;
    }
  s = llmsbx_runtime_config_dup_string (value);
  if (s == NULL)
    return invalid_value (key, value, "string values", error);
  entry = g_strconcat (name, "=", s, NULL);
  json_array_add_string_element (array, entry);
  return TRUE;
}

static gboolean
apply_environment (const ConfigKey *key, GVariant *value, JsonObject *container,
                   JsonObject *host_config, GError **error)
{
  JsonArray *env = ensure_array (container, "Env");

  if (llmsbx_runtime_config_is_dict (value))
    return foreach_entry (key, value, add_env_entry, env, error);
  if (llmsbx_runtime_config_is_list (value))
    return foreach_element (key, value, add_string_element, env, error);
  return invalid_value (key, value, "a dictionary or a list of \"NAME=value\" strings", error);
}

/* labels: {"k": "v"} or a list of names (empty values). */
static gboolean
add_label_name (const ConfigKey *key, GVariant *element, gpointer labels, GError **error)
{
  if (!llmsbx_runtime_config_is_string (element))
    return invalid_value (key, element, "a list of label names", error);
  json_object_set_string_member (labels, g_variant_get_string (element, NULL), "");
  return TRUE;
}

static gboolean
apply_labels (const ConfigKey *key, GVariant *value, JsonObject *container,
              JsonObject *host_config, GError **error)
{
  JsonObject *labels = ensure_object (container, "Labels");

  if (llmsbx_runtime_config_is_dict (value))
    return foreach_entry (key, value, set_string_entry, labels, error);
  if (llmsbx_runtime_config_is_list (value))
    return foreach_element (key, value, add_label_name, labels, error);
  return invalid_value (key, value, "a dictionary or a list of label names", error);
}

/* extra_hosts: {"host": "ip"} or ["host:ip", ...]. */
static gboolean
add_host_entry (const ConfigKey *key, const char *name, GVariant *value,
                gpointer array, GError **error)
{
  g_autofree char *ip = value ? llmsbx_runtime_config_dup_string (value) : NULL;
  g_autofree char *entry = NULL;

  if (ip == NULL || *ip == '\0')
    return invalid_value (key, value, "a dictionary of host name to address", error);
  entry = g_strconcat (name, ":", ip, NULL);
  json_array_add_string_element (array, entry);
  return TRUE;
}

static gboolean
apply_extra_hosts (const ConfigKey *key, GVariant *value, JsonObject *container,
                   JsonObject *host_config, GError **error)
{
  JsonArray *hosts = ensure_array (host_config, "ExtraHosts");

  if (llmsbx_runtime_config_is_dict (value))
    return foreach_entry (key, value, add_host_entry, hosts, error);
  if (llmsbx_runtime_config_is_list (value))
    return foreach_element (key, value, add_string_element, hosts, error);
  return invalid_value (key, value, "a dictionary or a list of \"host:address\" strings", error);
}

/* volumes: {"/host": {"bind": "/ctr", "mode": "ro"}} ({"/host": "/ctr"} means rw)
 * or ["/host:/ctr[:mode]", ...]. The engine takes a host part that is not an
 * absolute path for the name of a volume, which it creates when missing and
 * which outlives the sandbox; so only host paths are taken. */
static gboolean
check_volume_host (const ConfigKey  *key,
                   const char       *host,
                   GError          **error)
{
  if (host[0] == '/')
    return TRUE;
  g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
               "Invalid host path '%s' in runtime config key '%s': it must be an absolute path "
               "on the host (named volumes are not supported: the engine would create one that "
               "outlives the session)", host, key->name);
  return FALSE;
}

static gboolean
add_volume_entry (const ConfigKey *key, const char *host, GVariant *value,
                  gpointer binds, GError **error)
{
  g_autofree char *bind = NULL;
  g_autofree char *mode = NULL;
  g_autofree char *bind_spec = NULL;

  if (value != NULL && llmsbx_runtime_config_is_dict (value))
    {
      g_autoptr(GVariant) b = NULL;
      g_autoptr(GVariant) m = NULL;
      gsize n = g_variant_n_children (value);

      for (gsize i = 0; i < n; i++)
        {
          g_autoptr(GVariant) entry = g_variant_get_child_value (value, i);
          g_autoptr(GVariant) name = g_variant_get_child_value (entry, 0);
          g_autoptr(GVariant) boxed = g_variant_get_child_value (entry, 1);
          const char *field = g_variant_get_string (name, NULL);

          if (g_str_equal (field, "bind"))
            b = llmsbx_runtime_config_unbox (boxed);
          else if (g_str_equal (field, "mode"))
            m = llmsbx_runtime_config_unbox (boxed);
          else
            {
              g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
                           "Unknown field '%s' for volume '%s' in runtime config key '%s' "
                           "(expected \"bind\" and \"mode\")", field, host, key->name);
              return FALSE;
            }
        }
      bind = b && llmsbx_runtime_config_is_string (b) ? g_variant_dup_string (b, NULL) : NULL;
      mode = m == NULL ? g_strdup ("rw") : (llmsbx_runtime_config_is_string (m) ? g_variant_dup_string (m, NULL) : NULL);
    }
  else if (value != NULL && llmsbx_runtime_config_is_string (value))
    {
      bind = g_variant_dup_string (value, NULL);
      mode = g_strdup ("rw");
    }

  if (bind == NULL || mode == NULL || bind[0] != '/' || *host == '\0')
    return invalid_value (key, value,
                          "{\"bind\": \"/path/in/container\", \"mode\": \"ro\" or \"rw\"} "
                          "for each host path", error);
  if (!check_volume_host (key, host, error))
    return FALSE;

  bind_spec = g_strdup_printf ("%s:%s:%s", host, bind, mode);
  json_array_add_string_element (binds, bind_spec);
  return TRUE;
}

static gboolean
add_volume_string (const ConfigKey *key, GVariant *element, gpointer binds, GError **error)
{
  const char *spec;
  g_auto(GStrv) parts = NULL;

  if (!llmsbx_runtime_config_is_string (element))
    return invalid_value (key, element, "a list of \"host:container[:mode]\" strings", error);
  spec = g_variant_get_string (element, NULL);
  parts = g_strsplit (spec, ":", 4);
  if (g_strv_length (parts) < 2 || g_strv_length (parts) > 3 ||
      parts[0][0] == '\0' || parts[1][0] != '/')
    return invalid_value (key, element, "a list of \"host:container[:mode]\" strings", error);
  if (!check_volume_host (key, parts[0], error))
    return FALSE;

  json_array_add_string_element (binds, spec);
  return TRUE;
}

static gboolean
apply_volumes (const ConfigKey *key, GVariant *value, JsonObject *container,
               JsonObject *host_config, GError **error)
{
  JsonArray *binds = ensure_array (host_config, "Binds");

  if (llmsbx_runtime_config_is_dict (value))
    return foreach_entry (key, value, add_volume_entry, binds, error);
  if (llmsbx_runtime_config_is_list (value))
    return foreach_element (key, value, add_volume_string, binds, error);
  return invalid_value (key, value,
                        "a dictionary {host: {\"bind\": ..., \"mode\": ...}} or a list of "
                        "\"host:container[:mode]\" strings", error);
}

/* tmpfs: {"/tmp": "size=64m"} or ["/tmp:size=64m", "/run"]. */
static gboolean
add_tmpfs_string (const ConfigKey *key, GVariant *element, gpointer tmpfs, GError **error)
{
  const char *spec;
  const char *colon;
  g_autofree char *path = NULL;

  if (!llmsbx_runtime_config_is_string (element))
    return invalid_value (key, element, "a list of \"/path[:options]\" strings", error);
  spec = g_variant_get_string (element, NULL);
  colon = strchr (spec, ':');
  path = colon ? g_strndup (spec, colon - spec) : g_strdup (spec);
  if (path[0] != '/')
    return invalid_value (key, element, "a list of \"/path[:options]\" strings", error);

  json_object_set_string_member (tmpfs, path, colon ? colon + 1 : "");
  return TRUE;
}

static gboolean
set_tmpfs_entry (const ConfigKey *key, const char *path, GVariant *value,
                 gpointer tmpfs, GError **error)
{
  if (path[0] != '/' || (value != NULL && !llmsbx_runtime_config_is_string (value)))
    return invalid_value (key, value, "a dictionary of absolute path to mount options", error);
  json_object_set_string_member (tmpfs, path, value ? g_variant_get_string (value, NULL) : "");
  return TRUE;
}

static gboolean
apply_tmpfs (const ConfigKey *key, GVariant *value, JsonObject *container,
             JsonObject *host_config, GError **error)
{
  JsonObject *tmpfs = ensure_object (host_config, "Tmpfs");

  if (llmsbx_runtime_config_is_dict (value))
    return foreach_entry (key, value, set_tmpfs_entry, tmpfs, error);
  if (llmsbx_runtime_config_is_list (value))
    return foreach_element (key, value, add_tmpfs_string, tmpfs, error);
  return invalid_value (key, value, "a dictionary of absolute path to mount options", error);
}

/* ulimits: [{"name": "nofile", "soft": 1024, "hard": 2048}, ...]. */
static gboolean
add_ulimit (const ConfigKey *key, GVariant *element, gpointer ulimits, GError **error)
{
  g_autoptr(JsonObject) limit = json_object_new ();
  g_autoptr(GVariant) name = NULL;
  g_autoptr(GVariant) soft = NULL;
  g_autoptr(GVariant) hard = NULL;
  gint64 soft_value, hard_value;
  gsize n;

  if (!llmsbx_runtime_config_is_dict (element))
    return invalid_value (key, element,
                          "a list of {\"name\": ..., \"soft\": ..., \"hard\": ...} dictionaries", error);

  n = g_variant_n_children (element);
  for (gsize i = 0; i < n; i++)
    {
      g_autoptr(GVariant) entry = g_variant_get_child_value (element, i);
      g_autoptr(GVariant) field = g_variant_get_child_value (entry, 0);
      g_autoptr(GVariant) boxed = g_variant_get_child_value (entry, 1);
      const char *f = g_variant_get_string (field, NULL);

      GVariant **slot;

      if (g_ascii_strcasecmp (f, "name") == 0)
        slot = &name;
      else if (g_ascii_strcasecmp (f, "soft") == 0)
        slot = &soft;
      else if (g_ascii_strcasecmp (f, "hard") == 0)
        slot = &hard;
      else
        {
          g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
                       "Unknown field '%s' in runtime config key '%s' "
                       "(expected \"name\", \"soft\" and \"hard\")", f, key->name);
          return FALSE;
        }
      /* Names are matched without case, so "soft" and "Soft" are one field. */
      if (*slot != NULL)
        {
          g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
                       "Field '%s' is given twice in runtime config key '%s'", f, key->name);
          return FALSE;
        }
      *slot = llmsbx_runtime_config_unbox (boxed);
    }

  if (name == NULL || !llmsbx_runtime_config_is_string (name) || g_variant_get_string (name, NULL)[0] == '\0' ||
      soft == NULL || !llmsbx_runtime_config_get_int64 (soft, &soft_value) ||
      (hard != NULL && !llmsbx_runtime_config_get_int64 (hard, &hard_value)))
    return invalid_value (key, element,
                          "a list of {\"name\": ..., \"soft\": ..., \"hard\": ...} dictionaries", error);
  if (hard == NULL)
    hard_value = soft_value;

  json_object_set_string_member (limit, "Name", g_variant_get_string (name, NULL));
  json_object_set_int_member (limit, "Soft", soft_value);
  json_object_set_int_member (limit, "Hard", hard_value);
  json_array_add_object_element (ulimits, g_steal_pointer (&limit));
  return TRUE;
}

static gboolean
apply_ulimits (const ConfigKey *key, GVariant *value, JsonObject *container,
               JsonObject *host_config, GError **error)
{
  if (!llmsbx_runtime_config_is_list (value))
    return invalid_value (key, value,
                          "a list of {\"name\": ..., \"soft\": ..., \"hard\": ...} dictionaries", error);
  return foreach_element (key, value, add_ulimit, ensure_array (host_config, "Ulimits"), error);
}

/* devices: ["/dev/host[:/dev/container[:permissions]]", ...]. */
static gboolean
add_device (const ConfigKey *key, GVariant *element, gpointer devices, GError **error)
{
  g_auto(GStrv) parts = NULL;
  JsonObject *device;
  guint n;

  if (!llmsbx_runtime_config_is_string (element))
    return invalid_value (key, element, "a list of \"/dev/host[:/dev/container[:rwm]]\" strings", error);
  parts = g_strsplit (g_variant_get_string (element, NULL), ":", 4);
  n = g_strv_length (parts);
  if (n < 1 || n > 3 || parts[0][0] != '/' || (n >= 2 && parts[1][0] != '/'))
    return invalid_value (key, element, "a list of \"/dev/host[:/dev/container[:rwm]]\" strings", error);

  device = json_object_new ();
  json_object_set_string_member (device, "PathOnHost", parts[0]);
  json_object_set_string_member (device, "PathInContainer", n >= 2 ? parts[1] : parts[0]);
  json_object_set_string_member (device, "CgroupPermissions", n >= 3 ? parts[2] : "rwm");
  json_array_add_object_element (devices, device);
  return TRUE;
}

static gboolean
apply_devices (const ConfigKey *key, GVariant *value, JsonObject *container,
               JsonObject *host_config, GError **error)
{
  JsonArray *devices = ensure_array (host_config, "Devices");

  if (llmsbx_runtime_config_is_string (value))
    return add_device (key, value, devices, error);
  if (!llmsbx_runtime_config_is_list (value))
    return invalid_value (key, value, "a list of \"/dev/host[:/dev/container[:rwm]]\" strings", error);
  return foreach_element (key, value, add_device, devices, error);
}

/* ports: {"8080/tcp": 8080 | "8080" | "127.0.0.1:8080" | ("127.0.0.1", 8080) | null | [...]}.
 * A missing host port (null, "", "127.0.0.1:") lets the engine pick one. */
static gboolean
valid_port (const char *text,
            gboolean    allow_empty)
{
  guint64 port;

  if (*text == '\0')
    return allow_empty;
  return g_ascii_string_to_unsigned (text, 10, 1, 65535, &port, NULL);
}

static JsonObject *
port_binding (const char *ip,
              const char *port)
{
  JsonObject *binding = json_object_new ();

  json_object_set_string_member (binding, "HostIp", ip);
  json_object_set_string_member (binding, "HostPort", port);
  return binding;
}

static gboolean
add_port_binding (const ConfigKey *key, GVariant *value, gpointer bindings, GError **error)
{
  static const char *expected =
    "a host port, \"address:port\", (address, port), null or a list of those";
  g_autofree char *ip = NULL;
  g_autofree char *port = NULL;

  if (value == NULL)
    {
      ip = g_strdup ("");
      port = g_strdup ("");
    }
  else if (g_variant_is_of_type (value, G_VARIANT_TYPE_TUPLE) &&
           (g_variant_n_children (value) == 1 || g_variant_n_children (value) == 2))
    {
      g_autoptr(GVariant) a = g_variant_get_child_value (value, 0);
      g_autoptr(GVariant) addr = llmsbx_runtime_config_unbox (a);

      ip = addr && llmsbx_runtime_config_is_string (addr) ? g_variant_dup_string (addr, NULL) : NULL;
      if (g_variant_n_children (value) == 2)
        {
          g_autoptr(GVariant) p = g_variant_get_child_value (value, 1);
          g_autoptr(GVariant) host_port = llmsbx_runtime_config_unbox (p);
          port = host_port ? llmsbx_runtime_config_dup_string (host_port) : g_strdup ("");
        }
      else
        port = g_strdup ("");
    }
  else if (llmsbx_runtime_config_is_string (value))
    {
      const char *s = g_variant_get_string (value, NULL);
      const char *colon = strrchr (s, ':');

      if (colon != NULL)
        {
          /* "[::1]:8080" keeps its address without brackets. */
          if (s[0] == '[' && colon > s && colon[-1] == ']')
            ip = g_strndup (s + 1, colon - s - 2);
          else
            ip = g_strndup (s, colon - s);
          port = g_strdup (colon + 1);
        }
      else
        {
          ip = g_strdup ("");
          port = g_strdup (s);
        }
    }
  else
    {
      ip = g_strdup ("");
      port = llmsbx_runtime_config_dup_string (value);
    }

  if (ip == NULL || port == NULL || !valid_port (port, TRUE))
    return invalid_value (key, value, expected, error);

  json_array_add_object_element (bindings, port_binding (ip, port));
  return TRUE;
}

typedef struct {
  JsonObject *container;
  JsonObject *host_config;
} Targets;

static gboolean
add_port_entry (const ConfigKey *key, const char *name, GVariant *value,
                gpointer data, GError **error)
{
  Targets *targets = data;
  g_autofree char *container_port = NULL;
  g_auto(GStrv) parts = g_strsplit (name, "/", 3);
  JsonArray *bindings;

  /* g_strsplit() gives no parts at all for "". */
  if (parts[0] == NULL || g_strv_length (parts) > 2 || !valid_port (parts[0], FALSE) ||
      (parts[1] != NULL && !g_str_equal (parts[1], "tcp") && !g_str_equal (parts[1], "udp") &&
       !g_str_equal (parts[1], "sctp")))
    {
      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
                   "Invalid container port '%s' in runtime config key '%s': expected "
                   "\"PORT\" or \"PORT/tcp\", \"PORT/udp\", \"PORT/sctp\"", name, key->name);
      return FALSE;
    }
  container_port = g_strdup_printf ("%s/%s", parts[0], parts[1] ? parts[1] : "tcp");

  json_object_set_object_member (ensure_object (targets->container, "ExposedPorts"),
                                 container_port, json_object_new ());
  bindings = json_array_new ();
  json_object_set_array_member (ensure_object (targets->host_config, "PortBindings"),
                                container_port, bindings);

  /* A tuple is one (address, port) binding; other lists are several bindings. */
  if (value != NULL && llmsbx_runtime_config_is_list (value) && !g_variant_is_of_type (value, G_VARIANT_TYPE_TUPLE))
    return foreach_element (key, value, add_port_binding, bindings, error);
  return add_port_binding (key, value, bindings, error);
}

static gboolean
apply_ports (const ConfigKey *key, GVariant *value, JsonObject *container,
             JsonObject *host_config, GError **error)
{
  Targets targets = { container, host_config };

  if (!llmsbx_runtime_config_is_dict (value))
    return invalid_value (key, value, "a dictionary of container port to host port", error);
  return foreach_entry (key, value, add_port_entry, &targets, error);
}

/* ---------------------------------------------------------------------------
 * The table
 * ------------------------------------------------------------------------ */

static const ConfigKey config_keys[] = {
  { "mem_limit",       "Memory",            TRUE,  apply_bytes },
  { "memswap_limit",   "MemorySwap",        TRUE,  apply_bytes },
  { "mem_reservation", "MemoryReservation", TRUE,  apply_bytes },
  { "shm_size",        "ShmSize",           TRUE,  apply_bytes },
  { "cpu_period",      "CpuPeriod",         TRUE,  apply_int },
  { "cpu_quota",       "CpuQuota",          TRUE,  apply_int },
  { "cpu_shares",      "CpuShares",         TRUE,  apply_int },
  { "cpu_count",       "NanoCpus",          TRUE,  apply_cpus },
  { "nano_cpus",       "NanoCpus",          TRUE,  apply_cpus },
  { "cpuset_cpus",     "CpusetCpus",        TRUE,  apply_string },
  { "pids_limit",      "PidsLimit",         TRUE,  apply_int },
  { "network_mode",    "NetworkMode",       TRUE,  apply_string },
  { "ports",           "PortBindings",      TRUE,  apply_ports },
  { "dns",             "Dns",               TRUE,  apply_strv },
  { "dns_search",      "DnsSearch",         TRUE,  apply_strv },
  { "extra_hosts",     "ExtraHosts",        TRUE,  apply_extra_hosts },
  { "volumes",         "Binds",             TRUE,  apply_volumes },
  { "tmpfs",           "Tmpfs",             TRUE,  apply_tmpfs },
  { "devices",         "Devices",           TRUE,  apply_devices },
  { "privileged",      "Privileged",        TRUE,  apply_bool },
  { "read_only",       "ReadonlyRootfs",    TRUE,  apply_bool },
  { "init",            "Init",              TRUE,  apply_bool },
  { "oom_kill_disable", "OomKillDisable",   TRUE,  apply_bool },
  { "auto_remove",     "AutoRemove",        TRUE,  apply_auto_remove },
  { "cap_add",         "CapAdd",            TRUE,  apply_strv },
  { "cap_drop",        "CapDrop",           TRUE,  apply_strv },
  { "security_opt",    "SecurityOpt",       TRUE,  apply_strv },
  { "group_add",       "GroupAdd",          TRUE,  apply_strv },
  { "ulimits",         "Ulimits",           TRUE,  apply_ulimits },
  { "sysctls",         "Sysctls",           TRUE,  apply_string_map },
  { "ipc_mode",        "IpcMode",           TRUE,  apply_string },
  { "pid_mode",        "PidMode",           TRUE,  apply_string },
  { "environment",     "Env",               FALSE, apply_environment },
  { "labels",          "Labels",            FALSE, apply_labels },
  { "working_dir",     "WorkingDir",        FALSE, apply_string },
  { "user",            "User",              FALSE, apply_string },
  { "hostname",        "Hostname",          FALSE, apply_string },
  { "domainname",      "Domainname",        FALSE, apply_string },
  { "stop_signal",     "StopSignal",        FALSE, apply_string },
};

static const ConfigKey *
lookup_key (const char *name)
{
  for (gsize i = 0; i < G_N_ELEMENTS (config_keys); i++)
    if (g_str_equal (config_keys[i].name, name))
      return &config_keys[i];
  return NULL;
}

/**
 * llmsbx_engine_runtime_configs_apply:
 * @runtime_configs: (nullable): docker-py style settings, a dictionary with string keys
 * @container: a container-create body; its `HostConfig` is created when missing
 * @error: return location for a #GError
 *
 * Sets the members of @container and its `HostConfig` that @runtime_configs asks
 * for. Lists (`Env`, `Binds`, ...) are appended to; other members are replaced.
 * A key whose value is null is ignored, as docker-py ignores `None`.
 *
 * Returns: %FALSE with %LLMSBX_ERROR_INVALID_ARGUMENT naming the key (and value)
 *   for an unknown key or a value of the wrong shape, or naming the bound for
 *   values nested deeper than %LLMSBX_MAX_VARIANT_DEPTH
 */
gboolean
llmsbx_engine_runtime_configs_apply (GVariant    *runtime_configs,
                            JsonObject  *container,
                            GError     **error)
{
  g_autoptr(GVariant) configs = NULL;
  JsonObject *host_config;
  gsize n;

  if (runtime_configs == NULL)
    return TRUE;
  /* Values are printed into messages, which recurses through them. */
  if (!llmsbx_variant_check_depth (runtime_configs, "Runtime configs", error))
    return FALSE;

  configs = llmsbx_runtime_config_unbox (runtime_configs);
  if (configs == NULL)
    return TRUE;
  if (!llmsbx_runtime_config_is_dict (configs))
    {
      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
                   "Runtime configs must be a dictionary with string keys, not a value of type '%s'",
                   g_variant_get_type_string (configs));
      return FALSE;
    }

  host_config = ensure_object (container, "HostConfig");
  n = g_variant_n_children (configs);
  for (gsize i = 0; i < n; i++)
    {
      g_autoptr(GVariant) entry = g_variant_get_child_value (configs, i);
      g_autoptr(GVariant) name = g_variant_get_child_value (entry, 0);
      g_autoptr(GVariant) boxed = g_variant_get_child_value (entry, 1);
      g_autoptr(GVariant) value = llmsbx_runtime_config_unbox (boxed);
      const ConfigKey *key = lookup_key (g_variant_get_string (name, NULL));

      if (key == NULL)
        {
          g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
                       "Unknown runtime config key '%s'", g_variant_get_string (name, NULL));
          return FALSE;
        }
      if (value == NULL)
        continue;
      if (!key->apply (key, value, container, host_config, error))
        return FALSE;
    }

  return TRUE;
}
