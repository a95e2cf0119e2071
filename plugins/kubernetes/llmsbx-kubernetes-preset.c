/* llmsbx-kubernetes-preset.c: a preset's limits as a pod manifest fragment
 * (LlmsbxBackendClass.render_preset): pod and container securityContext,
 * resources, and memory-backed volumes where a read-only root needs
 * writable places. It reads nothing but the neutral limits. */
#include "llmsbx-kubernetes-backend-private.h"

/* A Kubernetes quantity: 512 MiB is "512Mi". */
static char *
format_quantity (guint64 bytes)
{
  static const struct { guint shift; const char *suffix; } units[] = {
    { 40, "Ti" }, { 30, "Gi" }, { 20, "Mi" }, { 10, "Ki" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (units); i++)
    if (bytes >= (G_GUINT64_CONSTANT (1) << units[i].shift) &&
        bytes % (G_GUINT64_CONSTANT (1) << units[i].shift) == 0)
      return g_strdup_printf ("%" G_GUINT64_FORMAT "%s", bytes >> units[i].shift, units[i].suffix);
  return g_strdup_printf ("%" G_GUINT64_FORMAT, bytes);
}

/* CPUs as Kubernetes writes them: 2000 millicores is "2", 500 is "500m". */
static char *
format_cpu (guint millicores)
{
  if (millicores % 1000 == 0)
    return g_strdup_printf ("%u", millicores / 1000);
  return g_strdup_printf ("%um", millicores);
}

/* "/tmp" → "tmp", "/var/tmp" → "var-tmp": a volume name (a DNS label). */
static char *
volume_name (const char *path)
{
  GString *name = g_string_new (NULL);

  for (const char *p = path; *p != '\0'; p++)
    {
      if (g_ascii_isalnum (*p))
        g_string_append_c (name, g_ascii_tolower (*p));
      else if (name->len > 0 && name->str[name->len - 1] != '-')
        g_string_append_c (name, '-');
    }
  while (name->len > 0 && name->str[name->len - 1] == '-')
    g_string_truncate (name, name->len - 1);
  return g_string_free (name, FALSE);
}

static GVariant *
volume (const char *name,
        guint64     size_bytes)
{
  g_autofree char *size_limit = format_quantity (size_bytes);

  return g_variant_new_parsed ("{'name': <%s>, 'emptyDir': <{'medium': <'Memory'>, 'sizeLimit': <%s>}>}",
                               name, size_limit);
}

static GVariant *
volume_mount (const char *name,
              const char *path)
{
  return g_variant_new_parsed ("{'name': <%s>, 'mountPath': <%s>}", name, path);
}

/* A pod manifest fragment with the limits, in the shape of a pod manifest, to
 * merge into one: pod and container securityContext, resources, and
 * memory-backed volumes where the read-only root needs writable places.
 * Kubernetes has no per-pod "network none": that needs a NetworkPolicy. */
gboolean
llmsbx_kubernetes_render_preset (LlmsbxBackend         *backend,
                                 LlmsbxSecurityPreset  *preset,
                                 GError               **error)
{
  const LlmsbxSecurityLimits *limits = llmsbx_security_preset_get_limits (preset);
  GVariantBuilder spec, container, container_security, pod_security, mounts, volumes;
  gboolean has_volumes = FALSE;

  g_variant_builder_init (&spec, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_init (&container, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_init (&container_security, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_init (&pod_security, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_init (&mounts, G_VARIANT_TYPE ("aa{sv}"));
  g_variant_builder_init (&volumes, G_VARIANT_TYPE ("aa{sv}"));

  if (limits->memory_bytes > 0 || limits->cpu_millicores > 0)
    {
      GVariantBuilder amounts;
      GVariant *amount;

      g_variant_builder_init (&amounts, G_VARIANT_TYPE_VARDICT);
      if (limits->memory_bytes > 0)
        g_variant_builder_add (&amounts, "{sv}", "memory",
                               g_variant_new_take_string (format_quantity (limits->memory_bytes)));
      if (limits->cpu_millicores > 0)
        g_variant_builder_add (&amounts, "{sv}", "cpu",
                               g_variant_new_take_string (format_cpu (limits->cpu_millicores)));
      amount = g_variant_ref_sink (g_variant_builder_end (&amounts));
      g_variant_builder_add (&container, "{sv}", "resources",
                             g_variant_new_parsed ("{'limits': <%@a{sv}>, 'requests': <%@a{sv}>}", amount, amount));
      g_variant_unref (amount);
    }

  g_variant_builder_add (&container_security, "{sv}", "privileged", g_variant_new_boolean (FALSE));
  g_variant_builder_add (&container_security, "{sv}", "readOnlyRootFilesystem",
                         g_variant_new_boolean (limits->read_only_root));

  if (limits->user != NULL && limits->uid >= 0)
    {
      g_variant_builder_add (&pod_security, "{sv}", "runAsUser", g_variant_new_int64 (limits->uid));
      g_variant_builder_add (&pod_security, "{sv}", "runAsGroup", g_variant_new_int64 (limits->gid));
      g_variant_builder_add (&pod_security, "{sv}", "fsGroup", g_variant_new_int64 (limits->gid));
      g_variant_builder_add (&pod_security, "{sv}", "runAsNonRoot", g_variant_new_boolean (limits->uid != 0));
    }

  if (limits->no_new_privileges)
    g_variant_builder_add (&container_security, "{sv}", "allowPrivilegeEscalation", g_variant_new_boolean (FALSE));
  if ((limits->cap_drop != NULL && limits->cap_drop[0] != NULL) ||
      (limits->cap_add != NULL && limits->cap_add[0] != NULL))
    {
      GVariantBuilder capabilities;

      g_variant_builder_init (&capabilities, G_VARIANT_TYPE_VARDICT);
      if (limits->cap_drop != NULL && limits->cap_drop[0] != NULL)
        g_variant_builder_add (&capabilities, "{sv}", "drop", g_variant_new_strv ((const char * const *) limits->cap_drop, -1));
      if (limits->cap_add != NULL && limits->cap_add[0] != NULL)
        g_variant_builder_add (&capabilities, "{sv}", "add", g_variant_new_strv ((const char * const *) limits->cap_add, -1));
      g_variant_builder_add (&container_security, "{sv}", "capabilities", g_variant_builder_end (&capabilities));
    }
  /* A hardened sandbox: the runtime's system-call filter, and no API token. */
  if (limits->no_new_privileges)
    {
      g_variant_builder_add (&pod_security, "{sv}", "seccompProfile",
                             g_variant_new_parsed ("{'type': <'RuntimeDefault'>}"));
      g_variant_builder_add (&spec, "{sv}", "automountServiceAccountToken", g_variant_new_boolean (FALSE));
    }

  g_variant_builder_add (&container, "{sv}", "securityContext", g_variant_builder_end (&container_security));

  /* What the sandbox needs under these limits (HOME in the workdir for a
   * user without one, the language's tool directories), as the engines'
   * runtime config sets it. */
  if (limits->environment != NULL && limits->environment[0] != NULL)
    {
      GVariantBuilder env;

      g_variant_builder_init (&env, G_VARIANT_TYPE ("aa{sv}"));
      for (guint i = 0; limits->environment[i] != NULL; i++)
        {
          g_auto(GStrv) pair = g_strsplit (limits->environment[i], "=", 2);

          g_variant_builder_add_value (&env, g_variant_new_parsed ("{'name': <%s>, 'value': <%s>}", pair[0],
                                                                   pair[1] ? pair[1] : ""));
        }
      g_variant_builder_add (&container, "{sv}", "env", g_variant_builder_end (&env));
    }

  for (guint i = 0; limits->tmpfs != NULL && i < limits->tmpfs->len; i++)
    {
      const LlmsbxTmpfsMount *tmpfs = g_ptr_array_index (limits->tmpfs, i);
      g_autofree char *name = volume_name (tmpfs->path);

      g_variant_builder_add_value (&mounts, volume_mount (name, tmpfs->path));
      g_variant_builder_add_value (&volumes, volume (name, tmpfs->size_bytes));
      has_volumes = TRUE;
    }
  if (limits->workdir_tmpfs_bytes > 0 && limits->workdir != NULL)
    {
      g_variant_builder_add_value (&mounts, volume_mount ("workdir", limits->workdir));
      g_variant_builder_add_value (&volumes, volume ("workdir", limits->workdir_tmpfs_bytes));
      has_volumes = TRUE;
    }
  if (has_volumes)
    {
      g_variant_builder_add (&container, "{sv}", "volumeMounts", g_variant_builder_end (&mounts));
      g_variant_builder_add (&spec, "{sv}", "volumes", g_variant_builder_end (&volumes));
    }
  else
    {
      g_variant_builder_clear (&mounts);
      g_variant_builder_clear (&volumes);
    }

  g_variant_builder_add (&spec, "{sv}", "securityContext", g_variant_builder_end (&pod_security));
  {
    GVariant *containers[] = { g_variant_builder_end (&container) };

    g_variant_builder_add (&spec, "{sv}", "containers",
                           g_variant_new_array (G_VARIANT_TYPE_VARDICT, containers, 1));
  }

  llmsbx_security_preset_set_pod_manifest_fragment (preset,
                                                    g_variant_new_parsed ("{'spec': <%@a{sv}>}",
                                                                          g_variant_builder_end (&spec)));
  return TRUE;
}
