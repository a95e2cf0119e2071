/* llmsbx-bubblewrap-runtime-configs.c: the runtime_configs keys a bubblewrap sandbox honours.
 *
 * The same docker-py keyword arguments as on Docker, where they make sense
 * without an engine: limits (through the sandbox's cgroup), environment,
 * working directory, read-only root, tmpfs mounts, host directories as
 * binds, the user, the network (none, host, or bridge through slirp4netns),
 * capabilities within the sandbox's user namespace, no-new-privileges (always
 * on), labels, hostname, shm_size and ulimits. Every other key is refused
 * with an error naming it and the backend, so a setting is never silently
 * dropped; docs/backends.md lists both.
 *
 * Decisions:
 * - `cpu_count` and `nano_cpus` become a CFS quota over a 100 ms period, as
 *   Docker maps NanoCpus; together with `cpu_period` they are refused, as
 *   Docker refuses them.
 * - `privileged=False` is accepted; `True` is refused: there is no host root
 *   to hand out, only the sandbox's own user namespace.
 * - tmpfs options `uid=` and `gid=` are accepted and ignored: every file in a
 *   sandbox belongs to its one user (its user namespace maps no other).
 *
 * Values are read with the core's runtime-config readers
 * (llmsbx-runtime-configs.h), as the engines read them, so that a value
 * means the same on every backend. */
#include "llmsbx-bubblewrap-runtime-configs.h"

#include <string.h>

#define BACKEND "bubblewrap"

typedef gboolean (*ApplyFunc) (LlmsbxBubblewrapConfig  *self,
                               const char              *key,
                               GVariant                *value,
                               GError                 **error);

/**
 * llmsbx_bubblewrap_parse_bytes:
 * @text: a size like `512m`, `1.5g`, `100k`, `1024` or `2gb`
 * @bytes: (out): the size in bytes
 *
 * Reads a size as the engines do (llmsbx_runtime_config_parse_bytes()), as
 * the unsigned size bubblewrap's limits take.
 */
gboolean
llmsbx_bubblewrap_parse_bytes (const char *text,
                               guint64    *bytes)
{
  gint64 value;

  if (!llmsbx_runtime_config_parse_bytes (text, &value) || value < 0)
    return FALSE;
  *bytes = (guint64) value;
  return TRUE;
}

/* ---------------------------------------------------------------------------
 * Errors
 * ------------------------------------------------------------------------ */

static gboolean
invalid (const char  *key,
         GVariant    *value,
         const char  *expected,
         GError     **error)
{
  g_autofree char *shown = value ? g_variant_print (value, FALSE) : g_strdup ("null");

  if (g_utf8_strlen (shown, -1) > 80)
    {
      char *cut = g_utf8_offset_to_pointer (shown, 77);
      strcpy (cut, "...");
    }
  g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
               "Invalid value %s for runtime config key '%s': expected %s", shown, key, expected);
  return FALSE;
}

static gboolean
absolute_safe_path (const char *path)
{
  g_auto(GStrv) parts = NULL;

  if (path == NULL || path[0] != '/')
    return FALSE;
  parts = g_strsplit (path, "/", -1);
  for (guint i = 0; parts[i] != NULL; i++)
    if (g_str_equal (parts[i], ".."))
      return FALSE;
  return TRUE;
}

/* ---------------------------------------------------------------------------
 * Keys
 * ------------------------------------------------------------------------ */

static gboolean
apply_bytes (LlmsbxBubblewrapConfig *self, const char *key, GVariant *value, GError **error)
{
  gint64 number;
  guint64 bytes;
  gint64 *slot;

  if (g_str_equal (key, "mem_limit"))
    slot = &self->limits.memory;
  else if (g_str_equal (key, "memswap_limit"))
    slot = &self->limits.memory_swap;
  else
    slot = NULL;

  if (llmsbx_runtime_config_get_int64 (value, &number) && !llmsbx_runtime_config_is_string (value))
    {
      /* -1 is "unlimited" for memswap_limit, as in docker-py. */
      if (number < 0 && !(number == -1 && g_str_equal (key, "memswap_limit")))
        return invalid (key, value, "a size like 512m, or a number of bytes", error);
      bytes = number < 0 ? 0 : (guint64) number;
    }
  else if (llmsbx_runtime_config_is_string (value) && llmsbx_bubblewrap_parse_bytes (g_variant_get_string (value, NULL), &bytes) &&
           bytes <= G_MAXINT64)
    number = (gint64) bytes;
  else if (llmsbx_runtime_config_is_string (value) && g_str_equal (g_variant_get_string (value, NULL), "-1") &&
           g_str_equal (key, "memswap_limit"))
    number = -1;
  else
    return invalid (key, value, "a size like 512m, or a number of bytes", error);

  if (slot != NULL)
    {
      *slot = number;
      self->has_limits = TRUE;
    }
  else
    self->shm_size = (guint64) MAX (number, 0);
  return TRUE;
}

static gboolean
apply_int (LlmsbxBubblewrapConfig *self, const char *key, GVariant *value, GError **error)
{
  gint64 number;

  if (!llmsbx_runtime_config_get_int64 (value, &number))
    return invalid (key, value, "an integer", error);

  if (g_str_equal (key, "pids_limit"))
    {
      /* 0 and -1 mean no limit, as for Docker. */
      if (number < -1)
        return invalid (key, value, "a positive number of processes, or -1 for no limit", error);
      self->limits.pids = MAX (number, 0);
    }
  else if (g_str_equal (key, "cpu_period"))
    {
      if (number != 0 && (number < 1000 || number > 1000000))
        return invalid (key, value, "microseconds between 1000 and 1000000", error);
      self->limits.cpu_period = number;
      self->period_given = TRUE;
    }
  else if (g_str_equal (key, "cpu_quota"))
    {
      if (number != 0 && number != -1 && number < 1000)
        return invalid (key, value, "at least 1000 microseconds, or -1 for no limit", error);
      self->limits.cpu_quota = MAX (number, 0);
    }
  else if (g_str_equal (key, "cpu_shares"))
    {
      if (number != 0 && (number < 2 || number > 262144))
        return invalid (key, value, "a weight between 2 and 262144", error);
      self->limits.cpu_shares = number;
    }
  self->has_limits = TRUE;
  return TRUE;
}

/* cpu_count (a number of CPUs) and nano_cpus (billionths of one): a quota. */
static gboolean
apply_cpus (LlmsbxBubblewrapConfig *self, const char *key, GVariant *value, GError **error)
{
  gint64 number;

  if (!llmsbx_runtime_config_get_int64 (value, &number) || number < 0)
    return invalid (key, value, "a positive integer", error);
  if (number == 0)
    return TRUE;
  if (g_str_equal (key, "cpu_count"))
    {
      if (number > 4096)
        return invalid (key, value, "a number of CPUs", error);
      self->limits.cpu_quota = number * 100000;
    }
  else
    {
      if (number < 10000000)
        return invalid (key, value, "at least 10000000 (a hundredth of a CPU)", error);
      self->limits.cpu_quota = number / 10000;
    }
  self->cpus_given = TRUE;
  self->has_limits = TRUE;
  return TRUE;
}

static gboolean
apply_cpuset (LlmsbxBubblewrapConfig *self, const char *key, GVariant *value, GError **error)
{
  const char *cpus = llmsbx_runtime_config_is_string (value) ? g_variant_get_string (value, NULL) : NULL;

  if (cpus == NULL || cpus[0] == '\0' || strspn (cpus, "0123456789,-") != strlen (cpus))
    return invalid (key, value, "a list of CPUs like \"0-1,3\"", error);
  g_free (self->limits.cpuset_cpus);
  self->limits.cpuset_cpus = g_strdup (cpus);
  self->has_limits = TRUE;
  return TRUE;
}

static gboolean
apply_bool (LlmsbxBubblewrapConfig *self, const char *key, GVariant *value, GError **error)
{
  gboolean flag;

  if (!llmsbx_runtime_config_get_boolean (value, &flag))
    return invalid (key, value, "true or false", error);
  if (g_str_equal (key, "read_only"))
    self->read_only = flag;
  else if (flag)  /* privileged */
    {
      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
                   "The " BACKEND " backend does not support 'privileged': true; its sandboxes have no host "
                   "privileges to give, only capabilities within their own user namespace (see 'cap_add')");
      return FALSE;
    }
  return TRUE;
}

static gboolean
apply_string (LlmsbxBubblewrapConfig *self, const char *key, GVariant *value, GError **error)
{
  g_autofree char *text = llmsbx_runtime_config_dup_string (value);

  if (text == NULL || text[0] == '\0')
    return invalid (key, value, "a non-empty string", error);

  if (g_str_equal (key, "working_dir"))
    {
      if (!absolute_safe_path (text))
        return invalid (key, value, "an absolute path without '..'", error);
      g_free (self->working_dir);
      self->working_dir = g_steal_pointer (&text);
    }
  else if (g_str_equal (key, "user"))
    {
      if (strspn (text, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-:") != strlen (text))
        return invalid (key, value, "a user like \"1000\", \"1000:1000\", \"nobody\" or \"nobody:nogroup\"", error);
      g_free (self->user);
      self->user = g_steal_pointer (&text);
    }
  else if (g_str_equal (key, "hostname"))
    {
      if (strlen (text) > 64 || strspn (text, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-") != strlen (text))
        return invalid (key, value, "a host name of letters, digits, '.' and '-'", error);
      g_free (self->hostname);
      self->hostname = g_steal_pointer (&text);
    }
  else if (g_str_equal (key, "network_mode"))
    {
      if (g_str_equal (text, "none"))
        self->network = LLMSBX_BUBBLEWRAP_NETWORK_NONE;
      else if (g_str_equal (text, "host"))
        self->network = LLMSBX_BUBBLEWRAP_NETWORK_HOST;
      else if (g_str_equal (text, "bridge") || g_str_equal (text, "default"))
        self->network = LLMSBX_BUBBLEWRAP_NETWORK_BRIDGE;
      else
        {
          g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
                       "The " BACKEND " backend does not support network_mode '%s': use 'none' (the default), "
                       "'host', or 'bridge' (through slirp4netns); it has no networks to join", text);
          return FALSE;
        }
    }
  return TRUE;
}

typedef gboolean (*PairFunc) (LlmsbxBubblewrapConfig *self, const char *key, const char *name,
                              GVariant *value, GError **error);

/* A dictionary, or a list of "name=value" (or, for @separator ':', "a:b:c") strings. */
static gboolean
foreach_pair (LlmsbxBubblewrapConfig  *self,
              const char              *key,
              GVariant                *value,
              char                     separator,
              PairFunc                 func,
              const char              *expected,
              GError                 **error)
{
  gsize n = g_variant_n_children (value);

  if (!llmsbx_runtime_config_is_dict (value) && !llmsbx_runtime_config_is_list (value))
    return invalid (key, value, expected, error);

  for (gsize i = 0; i < n; i++)
    {
      g_autoptr(GVariant) child = g_variant_get_child_value (value, i);

      if (llmsbx_runtime_config_is_dict (value))
        {
          g_autoptr(GVariant) name = g_variant_get_child_value (child, 0);
          g_autoptr(GVariant) boxed = g_variant_get_child_value (child, 1);
          g_autoptr(GVariant) entry = llmsbx_runtime_config_unbox (boxed);

          if (!func (self, key, g_variant_get_string (name, NULL), entry, error))
            return FALSE;
        }
      else
        {
          g_autoptr(GVariant) element = llmsbx_runtime_config_unbox (child);
          const char *text = element && llmsbx_runtime_config_is_string (element) ? g_variant_get_string (element, NULL) : NULL;
          const char *cut = text ? strchr (text, separator) : NULL;
          g_autofree char *name = NULL;
          g_autoptr(GVariant) rest = NULL;

          if (text == NULL)
            return invalid (key, value, expected, error);
          name = cut ? g_strndup (text, cut - text) : g_strdup (text);
          rest = cut ? g_variant_ref_sink (g_variant_new_string (cut + 1)) : NULL;
          if (!func (self, key, name, rest, error))
            return FALSE;
        }
    }
  return TRUE;
}

static gboolean
add_assignment (LlmsbxBubblewrapConfig *self, const char *key, const char *name, GVariant *value,
                GError **error)
{
  g_autofree char *text = value ? llmsbx_runtime_config_dup_string (value) : g_strdup ("");
  char ***slot = g_str_equal (key, "labels") ? &self->labels : &self->env;
  GStrvBuilder *builder;

  if (name[0] == '\0' || text == NULL || (g_str_equal (key, "environment") && strchr (name, '=') != NULL))
    return invalid (key, value, g_str_equal (key, "labels") ? "a dictionary of label names to strings"
                                                            : "a dictionary of variable names to strings",
                    error);
  builder = g_strv_builder_new ();
  if (*slot != NULL)
    g_strv_builder_addv (builder, (const char **) *slot);
  {
    g_autofree char *assignment = g_strconcat (name, "=", text, NULL);
    g_strv_builder_add (builder, assignment);
  }
  g_strfreev (*slot);
  *slot = g_strv_builder_end (builder);
  g_strv_builder_unref (builder);
  return TRUE;
}

static gboolean
apply_assignments (LlmsbxBubblewrapConfig *self, const char *key, GVariant *value, GError **error)
{
  return foreach_pair (self, key, value, '=', add_assignment,
                       "a dictionary, or a list of \"NAME=value\" strings", error);
}

static void
tmpfs_free (gpointer data)
{
  LlmsbxBubblewrapTmpfs *tmpfs = data;

  g_free (tmpfs->path);
  g_free (tmpfs);
}

static gboolean
add_tmpfs (LlmsbxBubblewrapConfig *self, const char *key, const char *path, GVariant *value,
           GError **error)
{
  g_autofree char *options = value ? llmsbx_runtime_config_dup_string (value) : g_strdup ("");
  g_auto(GStrv) parts = NULL;
  LlmsbxBubblewrapTmpfs *tmpfs;
  const char *expected = "a dictionary of absolute paths to mount options (size=, mode=, nr_inodes=, "
                         "ro, rw, exec, noexec, nosuid, nodev)";

  if (!absolute_safe_path (path) || options == NULL)
    return invalid (key, value, expected, error);

  tmpfs = g_new0 (LlmsbxBubblewrapTmpfs, 1);
  tmpfs->path = g_strdup (path);
  tmpfs->mode = 01777;
  tmpfs->noexec = FALSE;
  g_ptr_array_add (self->tmpfs, tmpfs);

  parts = g_strsplit (options, ",", -1);
  for (guint i = 0; parts[i] != NULL; i++)
    {
      const char *option = parts[i];
      guint64 number;

      if (option[0] == '\0' || g_str_equal (option, "rw") || g_str_equal (option, "nosuid") ||
          g_str_equal (option, "nodev") || g_str_has_prefix (option, "uid=") || g_str_has_prefix (option, "gid="))
        continue;
      if (g_str_equal (option, "ro"))
        tmpfs->read_only = TRUE;
      else if (g_str_equal (option, "noexec"))
        tmpfs->noexec = TRUE;
      else if (g_str_equal (option, "exec"))
        tmpfs->noexec = FALSE;
      else if (g_str_has_prefix (option, "size=") && llmsbx_bubblewrap_parse_bytes (option + 5, &tmpfs->size))
        ;
      else if (g_str_has_prefix (option, "mode=") &&
               g_ascii_string_to_unsigned (option + 5, 8, 0, 07777, &number, NULL))
        tmpfs->mode = (guint) number;
      else if (g_str_has_prefix (option, "nr_inodes=") &&
               g_ascii_string_to_unsigned (option + 10, 10, 1, G_MAXUINT32, &number, NULL))
        tmpfs->nr_inodes = number;
      else if (g_str_equal (option, "suid") || g_str_equal (option, "dev"))
        {
          /* Docker's, but not holdable here: say so, as for a key. */
          g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
                       "The " BACKEND " backend does not support the tmpfs option '%s' (for %s in runtime config "
                       "key '%s'): its tmpfs mounts are always nosuid and nodev", option, path, key);
          return FALSE;
        }
      else
        {
          g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
                       "Invalid tmpfs option '%s' for %s in runtime config key '%s': expected %s",
                       option, path, key, expected);
          return FALSE;
        }
    }
  return TRUE;
}

static gboolean
apply_tmpfs (LlmsbxBubblewrapConfig *self, const char *key, GVariant *value, GError **error)
{
  return foreach_pair (self, key, value, ':', add_tmpfs,
                       "a dictionary of paths to options, or a list of \"/path[:options]\" strings", error);
}

static void
bind_free (gpointer data)
{
  LlmsbxBubblewrapBind *bind = data;

  g_free (bind->source);
  g_free (bind->target);
  g_free (bind);
}

static gboolean
add_bind (LlmsbxBubblewrapConfig  *self,
          const char              *key,
          const char              *source,
          const char              *target,
          const char              *mode,
          GError                 **error)
{
  LlmsbxBubblewrapBind *bind;
  const char *expected = "{\"/host/path\": {\"bind\": \"/path\", \"mode\": \"rw\" or \"ro\"}}, or a list of "
                         "\"/host/path:/path[:ro]\" strings";

  if (source[0] != '/')
    {
      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
                   "The " BACKEND " backend has no named volumes: '%s' in runtime config key '%s' must be an "
                   "absolute host path", source, key);
      return FALSE;
    }
  if (!absolute_safe_path (target) || (mode != NULL && !g_str_equal (mode, "rw") && !g_str_equal (mode, "ro")))
    {
      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
                   "Invalid volume %s for runtime config key '%s': expected %s", source, key, expected);
      return FALSE;
    }

  bind = g_new0 (LlmsbxBubblewrapBind, 1);
  bind->source = g_strdup (source);
  bind->target = g_strdup (target);
  bind->read_only = g_strcmp0 (mode, "ro") == 0;
  g_ptr_array_add (self->binds, bind);
  return TRUE;
}

static gboolean
add_volume (LlmsbxBubblewrapConfig *self, const char *key, const char *source, GVariant *value,
            GError **error)
{
  g_autofree char *target = NULL;
  g_autofree char *mode = NULL;

  if (value == NULL)
    return invalid (key, value, "a bind target for every volume", error);
  if (llmsbx_runtime_config_is_string (value))
    {
      /* The list form's "target[:mode]". */
      g_auto(GStrv) parts = g_strsplit (g_variant_get_string (value, NULL), ":", 2);

      target = g_strdup (parts[0]);
      mode = g_strdup (parts[1]);
    }
  else if (g_variant_is_of_type (value, G_VARIANT_TYPE_VARDICT))
    {
      g_autoptr(GVariant) bind = g_variant_lookup_value (value, "bind", NULL);
      g_autoptr(GVariant) mode_value = g_variant_lookup_value (value, "mode", NULL);
      g_autoptr(GVariant) bind_value = bind ? llmsbx_runtime_config_unbox (bind) : NULL;
      g_autoptr(GVariant) mode_unboxed = mode_value ? llmsbx_runtime_config_unbox (mode_value) : NULL;

      target = bind_value ? llmsbx_runtime_config_dup_string (bind_value) : NULL;
      mode = mode_unboxed ? llmsbx_runtime_config_dup_string (mode_unboxed) : NULL;
    }
  if (target == NULL)
    return invalid (key, value, "{\"bind\": \"/path\", \"mode\": \"rw\" or \"ro\"}", error);
  return add_bind (self, key, source, target, mode, error);
}

static gboolean
apply_volumes (LlmsbxBubblewrapConfig *self, const char *key, GVariant *value, GError **error)
{
  return foreach_pair (self, key, value, ':', add_volume,
                       "a dictionary {\"/host/path\": {\"bind\": ..., \"mode\": ...}} or a list of "
                       "\"/host/path:/path[:mode]\" strings", error);
}

/* The capability names the kernel knows, by number. */
static const char * const capability_names[] = {
  "CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL", "SETGID", "SETUID",
  "SETPCAP", "LINUX_IMMUTABLE", "NET_BIND_SERVICE", "NET_BROADCAST", "NET_ADMIN", "NET_RAW",
  "IPC_LOCK", "IPC_OWNER", "SYS_MODULE", "SYS_RAWIO", "SYS_CHROOT", "SYS_PTRACE", "SYS_PACCT",
  "SYS_ADMIN", "SYS_BOOT", "SYS_NICE", "SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG", "MKNOD",
  "LEASE", "AUDIT_WRITE", "AUDIT_CONTROL", "SETFCAP", "MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG",
  "WAKE_ALARM", "BLOCK_SUSPEND", "AUDIT_READ", "PERFMON", "BPF", "CHECKPOINT_RESTORE", NULL
};

static gboolean
apply_capabilities (LlmsbxBubblewrapConfig *self, const char *key, GVariant *value, GError **error)
{
  char ***slot = g_str_equal (key, "cap_add") ? &self->cap_add : &self->cap_drop;
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  gsize n;

  if (!llmsbx_runtime_config_is_list (value))
    return invalid (key, value, "a list of capability names like \"NET_ADMIN\" or \"ALL\"", error);
  n = g_variant_n_children (value);
  for (gsize i = 0; i < n; i++)
    {
      g_autoptr(GVariant) child = g_variant_get_child_value (value, i);
      g_autoptr(GVariant) element = llmsbx_runtime_config_unbox (child);
      g_autofree char *upper = NULL;
      const char *name;

      if (element == NULL || !llmsbx_runtime_config_is_string (element))
        return invalid (key, value, "a list of capability names like \"NET_ADMIN\" or \"ALL\"", error);
      upper = g_ascii_strup (g_variant_get_string (element, NULL), -1);
      name = g_str_has_prefix (upper, "CAP_") ? upper + 4 : upper;
      if (!g_str_equal (name, "ALL") && !g_strv_contains (capability_names, name))
        {
          g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
                       "Unknown capability '%s' in runtime config key '%s'",
                       g_variant_get_string (element, NULL), key);
          return FALSE;
        }
      {
        g_autofree char *capability = g_str_equal (name, "ALL") ? g_strdup ("ALL") : g_strconcat ("CAP_", name, NULL);
        g_strv_builder_add (builder, capability);
      }
    }
  g_strfreev (*slot);
  *slot = g_strv_builder_end (builder);
  return TRUE;
}

/* bwrap always sets no_new_privs, so asking for it is always satisfied;
 * anything else a security_opt can say is refused. */
static gboolean
apply_security_opt (LlmsbxBubblewrapConfig *self, const char *key, GVariant *value, GError **error)
{
  gsize n;

  if (!llmsbx_runtime_config_is_list (value))
    return invalid (key, value, "a list like [\"no-new-privileges:true\"]", error);
  n = g_variant_n_children (value);
  for (gsize i = 0; i < n; i++)
    {
      g_autoptr(GVariant) child = g_variant_get_child_value (value, i);
      g_autoptr(GVariant) element = llmsbx_runtime_config_unbox (child);
      const char *option = element && llmsbx_runtime_config_is_string (element) ? g_variant_get_string (element, NULL) : NULL;

      if (option == NULL)
        return invalid (key, value, "a list like [\"no-new-privileges:true\"]", error);
      if (!g_str_equal (option, "no-new-privileges") && !g_str_equal (option, "no-new-privileges:true") &&
          !g_str_equal (option, "no-new-privileges=true"))
        {
          g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
                       "The " BACKEND " backend does not support the security_opt '%s': its sandboxes always "
                       "run with no-new-privileges and its own seccomp filter", option);
          return FALSE;
        }
    }
  return TRUE;
}

static void
rlimit_free (gpointer data)
{
  LlmsbxBubblewrapRlimit *rlimit = data;

  g_free (rlimit->name);
  g_free (rlimit);
}

static gboolean
apply_ulimits (LlmsbxBubblewrapConfig *self, const char *key, GVariant *value, GError **error)
{
  static const char * const names[] = {
    "as", "core", "cpu", "data", "fsize", "locks", "memlock", "msgqueue", "nice", "nofile", "nproc",
    "rss", "rtprio", "rttime", "sigpending", "stack", NULL
  };
  const char *expected = "a list of {\"name\": \"nofile\", \"soft\": 1024, \"hard\": 2048}";
  gsize n;

  if (!llmsbx_runtime_config_is_list (value))
    return invalid (key, value, expected, error);
  n = g_variant_n_children (value);
  for (gsize i = 0; i < n; i++)
    {
      g_autoptr(GVariant) child = g_variant_get_child_value (value, i);
      g_autoptr(GVariant) element = llmsbx_runtime_config_unbox (child);
      g_autoptr(GVariant) name_boxed = NULL, soft_boxed = NULL, hard_boxed = NULL;
      g_autoptr(GVariant) name = NULL, soft = NULL, hard = NULL;
      LlmsbxBubblewrapRlimit *rlimit;
      gint64 soft_value, hard_value;

      if (element == NULL || !g_variant_is_of_type (element, G_VARIANT_TYPE_VARDICT))
        return invalid (key, value, expected, error);
      name_boxed = g_variant_lookup_value (element, "name", NULL);
      soft_boxed = g_variant_lookup_value (element, "soft", NULL);
      hard_boxed = g_variant_lookup_value (element, "hard", NULL);
      name = name_boxed ? llmsbx_runtime_config_unbox (name_boxed) : NULL;
      soft = soft_boxed ? llmsbx_runtime_config_unbox (soft_boxed) : NULL;
      hard = hard_boxed ? llmsbx_runtime_config_unbox (hard_boxed) : NULL;
      if (name == NULL || !llmsbx_runtime_config_is_string (name) || !g_strv_contains (names, g_variant_get_string (name, NULL)) ||
          soft == NULL || !llmsbx_runtime_config_get_int64 (soft, &soft_value) || soft_value < 0)
        return invalid (key, value, expected, error);
      if (hard == NULL)
        hard_value = soft_value;
      else if (!llmsbx_runtime_config_get_int64 (hard, &hard_value) || hard_value < soft_value)
        return invalid (key, value, expected, error);

      rlimit = g_new0 (LlmsbxBubblewrapRlimit, 1);
      rlimit->name = g_variant_dup_string (name, NULL);
      rlimit->soft = (guint64) soft_value;
      rlimit->hard = (guint64) hard_value;
      g_ptr_array_add (self->rlimits, rlimit);
    }
  return TRUE;
}

static const struct {
  const char *name;
  ApplyFunc   apply;
} keys[] = {
  { "mem_limit",     apply_bytes },
  { "memswap_limit", apply_bytes },
  { "shm_size",      apply_bytes },
  { "pids_limit",    apply_int },
  { "cpu_period",    apply_int },
  { "cpu_quota",     apply_int },
  { "cpu_shares",    apply_int },
  { "cpu_count",     apply_cpus },
  { "nano_cpus",     apply_cpus },
  { "cpuset_cpus",   apply_cpuset },
  { "environment",   apply_assignments },
  { "labels",        apply_assignments },
  { "working_dir",   apply_string },
  { "user",          apply_string },
  { "hostname",      apply_string },
  { "network_mode",  apply_string },
  { "read_only",     apply_bool },
  { "privileged",    apply_bool },
  { "tmpfs",         apply_tmpfs },
  { "volumes",       apply_volumes },
  { "cap_add",       apply_capabilities },
  { "cap_drop",      apply_capabilities },
  { "security_opt",  apply_security_opt },
  { "ulimits",       apply_ulimits },
};

/* The keys this backend honours, for messages and docs. */
const char * const *
llmsbx_bubblewrap_config_keys (void)
{
  static const char *names[G_N_ELEMENTS (keys) + 1];

  if (names[0] == NULL)
    for (gsize i = 0; i < G_N_ELEMENTS (keys); i++)
      names[i] = keys[i].name;
  return names;
}

void
llmsbx_bubblewrap_config_free (LlmsbxBubblewrapConfig *self)
{
  if (self == NULL)
    return;
  g_free (self->limits.cpuset_cpus);
  g_strfreev (self->env);
  g_strfreev (self->labels);
  g_free (self->working_dir);
  g_free (self->user);
  g_free (self->hostname);
  g_ptr_array_unref (self->tmpfs);
  g_ptr_array_unref (self->binds);
  g_ptr_array_unref (self->rlimits);
  g_strfreev (self->cap_add);
  g_strfreev (self->cap_drop);
  g_free (self);
}

/**
 * llmsbx_bubblewrap_config_parse:
 * @runtime_configs: (nullable): docker-py style settings (`a{sv}`)
 * @error: return location for a #GError
 *
 * Reads @runtime_configs. Fails with %LLMSBX_ERROR_INVALID_ARGUMENT for a
 * key this backend does not honour (naming it) or a value of the wrong shape.
 *
 * Returns: (transfer full): the configuration, or %NULL on error
 */
LlmsbxBubblewrapConfig *
llmsbx_bubblewrap_config_parse (GVariant  *runtime_configs,
                                GError   **error)
{
  g_autoptr(LlmsbxBubblewrapConfig) self = g_new0 (LlmsbxBubblewrapConfig, 1);
  GVariantIter iter;
  const char *key;
  GVariant *boxed;

  self->network = LLMSBX_BUBBLEWRAP_NETWORK_NONE;
  self->tmpfs = g_ptr_array_new_with_free_func (tmpfs_free);
  self->binds = g_ptr_array_new_with_free_func (bind_free);
  self->rlimits = g_ptr_array_new_with_free_func (rlimit_free);
  if (runtime_configs == NULL)
    return g_steal_pointer (&self);

  if (!g_variant_is_of_type (runtime_configs, G_VARIANT_TYPE_VARDICT))
    {
      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
                   "Runtime configs must be a dictionary (a{sv}), not %s", g_variant_get_type_string (runtime_configs));
      return NULL;
    }

  g_variant_iter_init (&iter, runtime_configs);
  while (g_variant_iter_next (&iter, "{&sv}", &key, &boxed))
    {
      g_autoptr(GVariant) value = llmsbx_runtime_config_unbox (boxed);
      gsize k;

      g_variant_unref (boxed);
      for (k = 0; k < G_N_ELEMENTS (keys); k++)
        if (g_str_equal (key, keys[k].name))
          break;
      if (k == G_N_ELEMENTS (keys))
        {
          g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
                       "The " BACKEND " backend does not support the runtime config key '%s' "
                       "(docs/backends.md lists the keys it does)", key);
          return NULL;
        }
      /* A null value leaves the default, as docker-py's None does. */
      if (value != NULL && !keys[k].apply (self, key, value, error))
        return NULL;
    }

  if (self->cpus_given && self->period_given)
    {
      g_set_error_literal (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
                           "Conflicting runtime configs: 'cpu_period' cannot be set together with 'nano_cpus' "
                           "or 'cpu_count', which use a period of 100000 microseconds");
      return NULL;
    }
  if (self->cpus_given)
    self->limits.cpu_period = 100000;
  if (self->limits.memory > 0 && self->limits.memory_swap > 0 && self->limits.memory_swap < self->limits.memory)
    {
      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
                   "Runtime config key 'memswap_limit' (%" G_GINT64_FORMAT ") must not be below 'mem_limit' "
                   "(%" G_GINT64_FORMAT "): it counts memory plus swap",
                   self->limits.memory_swap, self->limits.memory);
      return NULL;
    }
  return g_steal_pointer (&self);
}
