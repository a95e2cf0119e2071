/* llmsbx-engine-preset.c: security presets as docker-py runtime configs.
 *
 * The engine backends' renderer (LlmsbxBackendClass.render_preset): the
 * neutral limits of a preset become the runtime configs a session gives the
 * engine, in the docker-py vocabulary that llmsbx-engine-runtime-configs.c maps. Docker
 * and Podman share it, so their presets cannot disagree. */
#include "llmsbx-engine-preset.h"

/* The CFS period the CPU limit is a quota of, in microseconds (docker-py's). */
#define CPU_PERIOD_US 100000

/**
 * llmsbx_engine_format_size:
 * @bytes: a size
 *
 * Formats @bytes as docker-py writes sizes, in the largest unit that is
 * exact: 512 MiB is `512m`, 1 GiB `1g`.
 *
 * Returns: (transfer full): the size
 */
char *
llmsbx_engine_format_size (guint64 bytes)
{
  static const struct { guint shift; char suffix; } units[] = {
    { 30, 'g' }, { 20, 'm' }, { 10, 'k' },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (units); i++)
    if (bytes >= (G_GUINT64_CONSTANT (1) << units[i].shift) &&
        bytes % (G_GUINT64_CONSTANT (1) << units[i].shift) == 0)
      return g_strdup_printf ("%" G_GUINT64_FORMAT "%c", bytes >> units[i].shift, units[i].suffix);
  return g_strdup_printf ("%" G_GUINT64_FORMAT, bytes);
}

/* A tmpfs's options as Docker takes them: its size, then what was asked for. */
static char *
tmpfs_options (const LlmsbxTmpfsMount *tmpfs)
{
  g_autofree char *size = llmsbx_engine_format_size (tmpfs->size_bytes);
  GString *options = g_string_new ("size=");

  g_string_append (options, size);
  if (tmpfs->flags & LLMSBX_MOUNT_FLAGS_NOEXEC)
    g_string_append (options, ",noexec");
  if (tmpfs->flags & LLMSBX_MOUNT_FLAGS_NOSUID)
    g_string_append (options, ",nosuid");
  if (tmpfs->flags & LLMSBX_MOUNT_FLAGS_NODEV)
    g_string_append (options, ",nodev");
  return g_string_free (options, FALSE);
}

/* The workdir as a tmpfs the sandbox's user owns: Docker resets a tmpfs's
 * mode to 0755 when it is also the working directory, so `mode=1777` would
 * leave it unwritable; `uid`/`gid` survive. `exec`, because compiled programs
 * run from there (Docker's tmpfs default is noexec). */
static char *
workdir_tmpfs_options (const LlmsbxSecurityLimits *limits)
{
  g_autofree char *size = llmsbx_engine_format_size (limits->workdir_tmpfs_bytes);

  if (limits->uid < 0)
    return g_strdup_printf ("rw,exec,nosuid,nodev,size=%s", size);
  return g_strdup_printf ("rw,exec,nosuid,nodev,size=%s,uid=%" G_GINT64_FORMAT ",gid=%" G_GINT64_FORMAT,
                          size, limits->uid, limits->gid);
}

static void
add_environment (GVariantBuilder    *environment,
                 const char * const *assignments)
{
  for (guint i = 0; assignments != NULL && assignments[i] != NULL; i++)
    {
      g_auto(GStrv) pair = g_strsplit (assignments[i], "=", 2);

      g_variant_builder_add (environment, "{sv}", pair[0], g_variant_new_string (pair[1] ? pair[1] : ""));
    }
}

static gboolean
is_set (char * const *strv)
{
  return strv != NULL && strv[0] != NULL;
}

/**
 * llmsbx_engine_preset_runtime_config:
 * @limits: a preset's limits
 *
 * Returns: (transfer full): the runtime configs (`a{sv}`) that enforce @limits
 */
GVariant *
llmsbx_engine_preset_runtime_config (const LlmsbxSecurityLimits *limits)
{
  GVariantBuilder config;

  g_variant_builder_init (&config, G_VARIANT_TYPE_VARDICT);
  if (limits->memory_bytes > 0)
    g_variant_builder_add (&config, "{sv}", "mem_limit",
                           g_variant_new_take_string (llmsbx_engine_format_size (limits->memory_bytes)));
  if (limits->cpu_millicores > 0)
    {
      g_variant_builder_add (&config, "{sv}", "cpu_period", g_variant_new_int64 (CPU_PERIOD_US));
      g_variant_builder_add (&config, "{sv}", "cpu_quota",
                             g_variant_new_int64 ((gint64) limits->cpu_millicores * CPU_PERIOD_US / 1000));
    }
  g_variant_builder_add (&config, "{sv}", "network_mode",
                         g_variant_new_string (limits->network == LLMSBX_SANDBOX_NETWORK_NONE ? "none" : "bridge"));
  g_variant_builder_add (&config, "{sv}", "read_only", g_variant_new_boolean (limits->read_only_root));

  if ((limits->tmpfs != NULL && limits->tmpfs->len > 0) ||
      (limits->workdir_tmpfs_bytes > 0 && limits->workdir != NULL))
    {
      GVariantBuilder tmpfs;

      g_variant_builder_init (&tmpfs, G_VARIANT_TYPE_VARDICT);
      for (guint i = 0; limits->tmpfs != NULL && i < limits->tmpfs->len; i++)
        {
          const LlmsbxTmpfsMount *mount = g_ptr_array_index (limits->tmpfs, i);

          g_variant_builder_add (&tmpfs, "{sv}", mount->path, g_variant_new_take_string (tmpfs_options (mount)));
        }
      if (limits->workdir_tmpfs_bytes > 0 && limits->workdir != NULL)
        g_variant_builder_add (&tmpfs, "{sv}", limits->workdir,
                               g_variant_new_take_string (workdir_tmpfs_options (limits)));
      g_variant_builder_add (&config, "{sv}", "tmpfs", g_variant_builder_end (&tmpfs));
    }

  if (limits->user != NULL)
    g_variant_builder_add (&config, "{sv}", "user", g_variant_new_string (limits->user));
  if (is_set (limits->environment))
    {
      GVariantBuilder environment;

      g_variant_builder_init (&environment, G_VARIANT_TYPE_VARDICT);
      add_environment (&environment, (const char * const *) limits->environment);
      g_variant_builder_add (&config, "{sv}", "environment", g_variant_builder_end (&environment));
    }

  if (is_set (limits->cap_drop))
    g_variant_builder_add (&config, "{sv}", "cap_drop",
                           g_variant_new_strv ((const char * const *) limits->cap_drop, -1));
  if (is_set (limits->cap_add))
    g_variant_builder_add (&config, "{sv}", "cap_add",
                           g_variant_new_strv ((const char * const *) limits->cap_add, -1));
  if (limits->no_new_privileges)
    {
      const char *security_opt[] = { "no-new-privileges:true", NULL };

      g_variant_builder_add (&config, "{sv}", "security_opt", g_variant_new_strv (security_opt, -1));
    }

  if (limits->pids_limit > 0)
    g_variant_builder_add (&config, "{sv}", "pids_limit", g_variant_new_int64 (limits->pids_limit));

  return g_variant_ref_sink (g_variant_builder_end (&config));
}

/**
 * llmsbx_engine_render_preset:
 * @backend: a Docker or Podman backend
 * @preset: the preset to render
 * @error: return location for a #GError
 *
 * Sets the preset's runtime config: the engine backends'
 * #LlmsbxBackendClass.render_preset.
 *
 * Returns: %TRUE
 */
gboolean
llmsbx_engine_render_preset (LlmsbxBackend         *backend,
                             LlmsbxSecurityPreset  *preset,
                             GError               **error)
{
  g_autoptr(GVariant) config = llmsbx_engine_preset_runtime_config (llmsbx_security_preset_get_limits (preset));

  llmsbx_security_preset_set_runtime_config (preset, config);
  return TRUE;
}
