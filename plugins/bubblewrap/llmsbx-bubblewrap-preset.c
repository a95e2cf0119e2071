/* llmsbx-bubblewrap-preset.c: security presets as the runtime configs a bubblewrap sandbox reads.
 *
 * The backend's renderer (LlmsbxBackendClass.render_preset): the neutral
 * limits of a preset become docker-py runtime configs, in the subset this
 * backend honours (llmsbx-bubblewrap-runtime-configs.c), and are read back
 * before the preset gets them, so a preset never holds a key that open()
 * would refuse. What each limit becomes:
 *
 * - memory, processes, CPU: the sandbox's cgroup (`mem_limit`, `pids_limit`,
 *   a CFS quota) where the host lets us make one; elsewhere rlimits stand in
 *   for the first two and the CPU limit is not held (docs/backends.md says
 *   which hold on which host). That is a property of the host, not of the
 *   preset, so it is not refused here.
 * - the network: `none`, or `bridge` through slirp4netns (open() says so
 *   when slirp4netns is missing).
 * - the user, a read-only root, tmpfs mounts: as on the engines. Every tmpfs
 *   of a sandbox is mounted nosuid and nodev, so those flags always hold; the
 *   working directory's tmpfs needs no uid= or gid=, as a sandbox's user
 *   namespace maps one user, who owns every file in it.
 * - capabilities: within the sandbox's user namespace.
 * - no_new_privileges and the system-call filter: every bubblewrap sandbox
 *   has both, so `security_opt` only says so. */
#include "llmsbx-bubblewrap-backend.h"

#include "llmsbx-bubblewrap-runtime-configs.h"

/* The CFS period the CPU limit is a quota of, in microseconds (docker-py's). */
#define CPU_PERIOD_US 100000

/* A size as docker-py writes it, in the largest unit that is exact. */
static char *
format_size (guint64 bytes)
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

static char *
tmpfs_options (guint64           size_bytes,
               LlmsbxMountFlags  flags,
               gboolean          workdir)
{
  g_autofree char *size = format_size (size_bytes);
  GString *options = g_string_new (workdir ? "rw,exec," : "");

  g_string_append_printf (options, "size=%s", size);
  if (workdir)
    g_string_append (options, ",mode=755");
  if (flags & LLMSBX_MOUNT_FLAGS_NOEXEC)
    g_string_append (options, ",noexec");
  if (flags & LLMSBX_MOUNT_FLAGS_NOSUID)
    g_string_append (options, ",nosuid");
  if (flags & LLMSBX_MOUNT_FLAGS_NODEV)
    g_string_append (options, ",nodev");
  return g_string_free (options, FALSE);
}

static gboolean
is_set (char * const *strv)
{
  return strv != NULL && strv[0] != NULL;
}

/**
 * llmsbx_bubblewrap_preset_runtime_config:
 * @limits: a preset's limits
 * @error: return location for a #GError
 *
 * The runtime configs that give a bubblewrap sandbox @limits. Fails with
 * %LLMSBX_ERROR_INVALID_ARGUMENT, naming the setting, for a limit this
 * backend would refuse at open() (a tmpfs path that is not absolute, a user
 * name with characters no image has).
 *
 * Returns: (transfer full): an `a{sv}` of runtime configs, or %NULL
 */
GVariant *
llmsbx_bubblewrap_preset_runtime_config (const LlmsbxSecurityLimits  *limits,
                                         GError                     **error)
{
  g_autoptr(GVariant) config = NULL;
  g_autoptr(LlmsbxBubblewrapConfig) checked = NULL;
  g_autoptr(GError) local_error = NULL;
  GVariantBuilder builder;

  g_variant_builder_init (&builder, G_VARIANT_TYPE_VARDICT);
  if (limits->memory_bytes > 0)
    g_variant_builder_add (&builder, "{sv}", "mem_limit",
                           g_variant_new_take_string (format_size (limits->memory_bytes)));
  if (limits->cpu_millicores > 0)
    {
      g_variant_builder_add (&builder, "{sv}", "cpu_period", g_variant_new_int64 (CPU_PERIOD_US));
      g_variant_builder_add (&builder, "{sv}", "cpu_quota",
                             g_variant_new_int64 ((gint64) limits->cpu_millicores * CPU_PERIOD_US / 1000));
    }
  if (limits->pids_limit > 0)
    g_variant_builder_add (&builder, "{sv}", "pids_limit", g_variant_new_int64 (limits->pids_limit));
  g_variant_builder_add (&builder, "{sv}", "network_mode",
                         g_variant_new_string (limits->network == LLMSBX_SANDBOX_NETWORK_NONE ? "none" : "bridge"));
  g_variant_builder_add (&builder, "{sv}", "read_only", g_variant_new_boolean (limits->read_only_root));

  if ((limits->tmpfs != NULL && limits->tmpfs->len > 0) ||
      (limits->workdir_tmpfs_bytes > 0 && limits->workdir != NULL))
    {
      GVariantBuilder tmpfs;

      g_variant_builder_init (&tmpfs, G_VARIANT_TYPE_VARDICT);
      for (guint i = 0; limits->tmpfs != NULL && i < limits->tmpfs->len; i++)
        {
          const LlmsbxTmpfsMount *mount = g_ptr_array_index (limits->tmpfs, i);

          g_variant_builder_add (&tmpfs, "{sv}", mount->path,
                                 g_variant_new_take_string (tmpfs_options (mount->size_bytes, mount->flags, FALSE)));
        }
      if (limits->workdir_tmpfs_bytes > 0 && limits->workdir != NULL)
        g_variant_builder_add (&tmpfs, "{sv}", limits->workdir,
                               g_variant_new_take_string (tmpfs_options (limits->workdir_tmpfs_bytes,
                                                                         LLMSBX_MOUNT_FLAGS_NONE, TRUE)));
      g_variant_builder_add (&builder, "{sv}", "tmpfs", g_variant_builder_end (&tmpfs));
    }

  if (limits->user != NULL)
    g_variant_builder_add (&builder, "{sv}", "user", g_variant_new_string (limits->user));
  if (is_set (limits->environment))
    {
      GVariantBuilder environment;

      g_variant_builder_init (&environment, G_VARIANT_TYPE_VARDICT);
      for (guint i = 0; limits->environment[i] != NULL; i++)
        {
          g_auto(GStrv) pair = g_strsplit (limits->environment[i], "=", 2);

          g_variant_builder_add (&environment, "{sv}", pair[0], g_variant_new_string (pair[1] ? pair[1] : ""));
        }
      g_variant_builder_add (&builder, "{sv}", "environment", g_variant_builder_end (&environment));
    }
  if (is_set (limits->cap_drop))
    g_variant_builder_add (&builder, "{sv}", "cap_drop",
                           g_variant_new_strv ((const char * const *) limits->cap_drop, -1));
  if (is_set (limits->cap_add))
    g_variant_builder_add (&builder, "{sv}", "cap_add",
                           g_variant_new_strv ((const char * const *) limits->cap_add, -1));
  if (limits->no_new_privileges)
    {
      const char *security_opt[] = { "no-new-privileges:true", NULL };

      g_variant_builder_add (&builder, "{sv}", "security_opt", g_variant_new_strv (security_opt, -1));
    }
  config = g_variant_ref_sink (g_variant_builder_end (&builder));

  /* What this renders, open() must take. */
  checked = llmsbx_bubblewrap_config_parse (config, &local_error);
  if (checked == NULL)
    {
      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
                   "The bubblewrap backend cannot hold these limits: %s", local_error->message);
      return NULL;
    }
  return g_steal_pointer (&config);
}

/* LlmsbxBackendClass.render_preset */
gboolean
llmsbx_bubblewrap_backend_render_preset (LlmsbxBackend         *backend,
                                         LlmsbxSecurityPreset  *preset,
                                         GError               **error)
{
  g_autoptr(GVariant) config = llmsbx_bubblewrap_preset_runtime_config (llmsbx_security_preset_get_limits (preset),
                                                                        error);

  if (config == NULL)
    return FALSE;
  llmsbx_security_preset_set_runtime_config (preset, config);
  return TRUE;
}
