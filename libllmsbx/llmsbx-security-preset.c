/* llmsbx-security-preset.c: ready-made security configurations, a policy and
 * the sandbox limits that go with it.
 *
 * Each preset is one row of data (PresetDef): which categories of dangerous
 * code it blocks and how severely, and the limits of its sandbox in neutral
 * units, each number written once. The policy is made from the patterns the
 * language's handler supplies for those categories, so a handler an
 * application registers gets presets too; the limits are rendered by the
 * backend (LlmsbxBackendClass.render_preset), so the core names no backend's
 * settings. */
#include "config.h"

#include "llmsbx-security-preset.h"
#include "llmsbx-error.h"
#include "llmsbx-registry-private.h"

/**
 * LlmsbxSecurityPreset:
 *
 * A complete security configuration for one language and backend: a
 * #LlmsbxSecurityPolicy for the code, the backend-neutral
 * #LlmsbxSecurityLimits of the sandbox, and those limits rendered for the
 * backend. For Docker and Podman that is
 * #LlmsbxSecurityPreset:runtime-config, the runtime config that hardens the
 * container (memory and CPU limits, network, read-only root, user,
 * capabilities, no_new_privs, process limit). For Kubernetes,
 * #LlmsbxSecurityPreset:runtime-config is %NULL and
 * #LlmsbxSecurityPreset:pod-manifest-fragment holds the matching pod
 * securityContext, resources and volumes to merge into your pod manifest.
 *
 * Get one with llmsbx_get_security_preset(); each call makes new objects, so a
 * preset can be customised without affecting others. Give it to a session
 * with llmsbx_sandbox_session_apply_security_preset().
 *
 * | Preset      | Threshold | Network | Memory | CPU | Read-only | User           |
 * |-------------|-----------|---------|--------|-----|-----------|----------------|
 * | development | HIGH      | bridge  | 1g     | 2   | no        | root           |
 * | production  | MEDIUM    | none    | 512m   | 1   | yes       | nobody:nogroup |
 * | strict      | LOW       | none    | 128m   | 0.5 | yes       | nobody:nogroup |
 * | educational | MEDIUM    | bridge  | 256m   | 1   | yes       | 1000:1000      |
 *
 * Every preset but development also drops all capabilities, sets
 * `no-new-privileges`, limits the number of processes and mounts the working
 * directory `/sandbox` as a tmpfs owned by the preset's user, because a
 * read-only root leaves nowhere else to write code to. The presets assume
 * the default working directory.
 *
 * The patterns come from the language's handler
 * (llmsbx_language_handler_get_security_catalogue()), by category; the
 * settings from the backend (#LlmsbxBackendClass.render_preset).
 *
 * Since: 0.1
 */
struct _LlmsbxSecurityPreset
{
  GObject parent_instance;

  char *name;
  char *lang;
  char *backend;
  LlmsbxSecurityPolicy *policy;
  LlmsbxSecurityLimits *limits;
  GVariant *runtime_config;
  GVariant *pod_manifest_fragment;
};

G_DEFINE_FINAL_TYPE (LlmsbxSecurityPreset, llmsbx_security_preset, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_NAME,
  PROP_LANG,
  PROP_BACKEND,
  PROP_SECURITY_POLICY,
  PROP_LIMITS,
  PROP_RUNTIME_CONFIG,
  PROP_POD_MANIFEST_FRAGMENT,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* Data ------------------------------------------------------------------- */

/* Severities, or NONE when a preset leaves a category out. */
#define NONE (-1)
#define L LLMSBX_SECURITY_ISSUE_SEVERITY_LOW
#define M LLMSBX_SECURITY_ISSUE_SEVERITY_MEDIUM
#define H LLMSBX_SECURITY_ISSUE_SEVERITY_HIGH

#define MiB (G_GUINT64_CONSTANT (1) << 20)
#define GiB (G_GUINT64_CONSTANT (1) << 30)

#define WORKDIR "/sandbox"

typedef struct {
  const char *name;
  LlmsbxSecurityIssueSeverity threshold;
  /* By LlmsbxSecurityCategory. */
  signed char pattern_severity[LLMSBX_SECURITY_N_CATEGORIES];
  signed char module_severity[LLMSBX_SECURITY_N_CATEGORIES];

  /* The sandbox. */
  guint64 memory;
  guint cpu_millicores;
  LlmsbxSandboxNetwork network;
  gboolean read_only;
  guint64 tmp_size;             /* a tmpfs on /tmp, or 0 */
  LlmsbxMountFlags tmp_flags;
  guint64 workdir_size;         /* a tmpfs on the workdir, or 0 */
  const char *user;             /* NULL: the image's user (root) */
  gint64 uid, gid;
  gboolean hardened;            /* no capabilities, no_new_privs (and seccomp, no API token) */
  gint64 pids_limit;            /* 0: none */
} PresetDef;

#define NOEXEC LLMSBX_MOUNT_FLAGS_NOEXEC
#define NOSUID LLMSBX_MOUNT_FLAGS_NOSUID
#define NODEV LLMSBX_MOUNT_FLAGS_NODEV

/*              COMMAND NATIVE DYNCODE DYNIMPORT FDELETE FWRITE SOCKET HTTP FILESYSTEM DESERIAL */
static const PresetDef presets[] = {
  {
    "development", H,
    { H, H, NONE, NONE, NONE, NONE, NONE, NONE, NONE, NONE },
    { NONE, H, NONE, NONE, NONE, NONE, NONE, NONE, NONE, NONE },
    1 * GiB, 2000, LLMSBX_SANDBOX_NETWORK_BRIDGE, FALSE,
    0, 0, 0, NULL, -1, -1, FALSE, 0,
  },
  {
    "production", M,
    { H, H, M, M, NONE, NONE, NONE, NONE, NONE, NONE },
    { H, H, NONE, M, NONE, NONE, NONE, NONE, NONE, NONE },
    512 * MiB, 1000, LLMSBX_SANDBOX_NETWORK_NONE, TRUE,
    100 * MiB, NOEXEC, 256 * MiB, "nobody:nogroup", 65534, 65534, TRUE, 256,
  },
  {
    "strict", L,
    { H, H, M, M, M, L, M, L, NONE, NONE },
    { H, H, NONE, M, NONE, NONE, M, L, L, M },
    128 * MiB, 500, LLMSBX_SANDBOX_NETWORK_NONE, TRUE,
    50 * MiB, NOEXEC | NOSUID | NODEV, 64 * MiB, "nobody:nogroup", 65534, 65534, TRUE, 128,
  },
  {
    "educational", M,
    { H, H, NONE, NONE, H, NONE, NONE, NONE, NONE, NONE },
    { H, H, NONE, NONE, NONE, NONE, NONE, NONE, NONE, NONE },
    256 * MiB, 1000, LLMSBX_SANDBOX_NETWORK_BRIDGE, TRUE,
    100 * MiB, 0, 128 * MiB, "1000:1000", 1000, 1000, TRUE, 256,
  },
};

/* Building --------------------------------------------------------------- */

/* The handler's patterns and modules of every category the preset blocks,
 * with the preset's severity for it; NULL when the handler supplies none at
 * all, so a preset never looks stricter than it is. Patterns come in the
 * order of the categories, then of the handler's catalogue. */
static void
add_catalogue (LlmsbxSecurityPolicy *policy,
               LlmsbxSecurityPolicy *catalogue,
               int                   pattern_severity,
               int                   module_severity,
               gboolean              patterns_wanted)
{
  if (patterns_wanted && pattern_severity != NONE)
    {
      g_autoptr(GPtrArray) patterns = llmsbx_security_policy_get_patterns (catalogue);

      for (guint i = 0; i < patterns->len; i++)
        {
          LlmsbxSecurityPattern *given = g_ptr_array_index (patterns, i);
          g_autoptr(LlmsbxSecurityPattern) pattern = NULL;
          g_autoptr(GError) error = NULL;

          /* The handler's pattern compiled, so this one does. */
          pattern = llmsbx_security_pattern_new (llmsbx_security_pattern_get_pattern (given),
                                                 llmsbx_security_pattern_get_description (given),
                                                 pattern_severity, &error);
          g_assert_no_error (error);
          llmsbx_security_policy_add_pattern (policy, pattern);
        }
    }
  if (!patterns_wanted && module_severity != NONE)
    {
      g_autoptr(GPtrArray) modules = llmsbx_security_policy_get_restricted_modules (catalogue);

      for (guint i = 0; i < modules->len; i++)
        {
          LlmsbxRestrictedModule *given = g_ptr_array_index (modules, i);
          g_autoptr(LlmsbxRestrictedModule) module =
            llmsbx_restricted_module_new (llmsbx_restricted_module_get_name (given),
                                          llmsbx_restricted_module_get_description (given), module_severity);

          llmsbx_security_policy_add_restricted_module (policy, module);
        }
    }
}

/* The handler's patterns and modules of every category the preset blocks,
 * with the preset's severity for it; NULL when the handler supplies none at
 * all, so a preset never looks stricter than it is. Patterns come in the
 * order of the categories, then of the handler's catalogue; modules too. */
static LlmsbxSecurityPolicy *
build_policy (const PresetDef       *preset,
              LlmsbxLanguageHandler *handler)
{
  LlmsbxSecurityPolicy *catalogues[LLMSBX_SECURITY_N_CATEGORIES] = { NULL, };
  LlmsbxSecurityPolicy *policy = NULL;
  gboolean supplied = FALSE;

  for (guint category = 0; category < LLMSBX_SECURITY_N_CATEGORIES; category++)
    {
      catalogues[category] = llmsbx_language_handler_get_security_catalogue (handler, category);
      supplied = supplied || catalogues[category] != NULL;
    }

  if (supplied)
    {
      policy = llmsbx_security_policy_new (preset->threshold);
      for (guint pass = 0; pass < 2; pass++)
        for (guint category = 0; category < LLMSBX_SECURITY_N_CATEGORIES; category++)
          if (catalogues[category] != NULL)
            add_catalogue (policy, catalogues[category], preset->pattern_severity[category],
                           preset->module_severity[category], pass == 0);
    }

  for (guint category = 0; category < LLMSBX_SECURITY_N_CATEGORIES; category++)
    g_clear_object (&catalogues[category]);
  return policy;
}

/* The preset's sandbox in neutral terms. Without a user of its own (root),
 * HOME stays the image's; nobody has no home, so HOME is the writable workdir,
 * where package managers and build caches live, with what else the language's
 * tools need there. */
static LlmsbxSecurityLimits *
build_limits (const PresetDef       *preset,
              LlmsbxLanguageHandler *handler)
{
  LlmsbxSecurityLimits *limits = llmsbx_security_limits_new ();

  limits->memory_bytes = preset->memory;
  limits->cpu_millicores = preset->cpu_millicores;
  limits->pids_limit = preset->pids_limit;
  limits->network = preset->network;
  limits->read_only_root = preset->read_only;
  limits->workdir = g_strdup (WORKDIR);
  if (preset->tmp_size > 0)
    g_ptr_array_add (limits->tmpfs, llmsbx_tmpfs_mount_new ("/tmp", preset->tmp_size, preset->tmp_flags));
  limits->workdir_tmpfs_bytes = preset->workdir_size;

  if (preset->user != NULL)
    {
      g_autoptr(LlmsbxRuntimeContext) context = llmsbx_runtime_context_new (WORKDIR, FALSE);
      g_auto(GStrv) language_environment = llmsbx_language_handler_get_hardened_environment (handler, context);
      g_autoptr(GStrvBuilder) environment = g_strv_builder_new ();

      limits->user = g_strdup (preset->user);
      limits->uid = preset->uid;
      limits->gid = preset->gid;
      g_strv_builder_add (environment, "HOME=" WORKDIR);
      g_strv_builder_addv (environment, (const char **) language_environment);
      g_strfreev (limits->environment);
      limits->environment = g_strv_builder_end (environment);
    }

  if (preset->hardened)
    {
      g_strfreev (limits->cap_drop);
      limits->cap_drop = g_strdupv ((char *[]) { "ALL", NULL });
      limits->no_new_privileges = TRUE;
    }

  return limits;
}

/* Object ----------------------------------------------------------------- */

static void
llmsbx_security_preset_finalize (GObject *object)
{
  LlmsbxSecurityPreset *self = LLMSBX_SECURITY_PRESET (object);

  g_free (self->name);
  g_free (self->lang);
  g_free (self->backend);
  g_clear_object (&self->policy);
  g_clear_pointer (&self->limits, llmsbx_security_limits_free);
  g_clear_pointer (&self->runtime_config, g_variant_unref);
  g_clear_pointer (&self->pod_manifest_fragment, g_variant_unref);

  G_OBJECT_CLASS (llmsbx_security_preset_parent_class)->finalize (object);
}

static void
llmsbx_security_preset_get_property (GObject    *object,
                                     guint       prop_id,
                                     GValue     *value,
                                     GParamSpec *pspec)
{
  LlmsbxSecurityPreset *self = LLMSBX_SECURITY_PRESET (object);

  switch (prop_id)
    {
    case PROP_NAME:
      g_value_set_string (value, self->name);
      break;
    case PROP_LANG:
      g_value_set_string (value, self->lang);
      break;
    case PROP_BACKEND:
      g_value_set_string (value, self->backend);
      break;
    case PROP_SECURITY_POLICY:
      g_value_set_object (value, self->policy);
      break;
    case PROP_LIMITS:
      g_value_set_boxed (value, self->limits);
      break;
    case PROP_RUNTIME_CONFIG:
      g_value_set_variant (value, self->runtime_config);
      break;
    case PROP_POD_MANIFEST_FRAGMENT:
      g_value_set_variant (value, self->pod_manifest_fragment);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
llmsbx_security_preset_set_property (GObject      *object,
                                     guint         prop_id,
                                     const GValue *value,
                                     GParamSpec   *pspec)
{
  LlmsbxSecurityPreset *self = LLMSBX_SECURITY_PRESET (object);

  switch (prop_id)
    {
    case PROP_RUNTIME_CONFIG:
      llmsbx_security_preset_set_runtime_config (self, g_value_get_variant (value));
      break;
    case PROP_POD_MANIFEST_FRAGMENT:
      llmsbx_security_preset_set_pod_manifest_fragment (self, g_value_get_variant (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
llmsbx_security_preset_class_init (LlmsbxSecurityPresetClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GParamFlags read_only = G_PARAM_READABLE | G_PARAM_STATIC_STRINGS;

  object_class->finalize = llmsbx_security_preset_finalize;
  object_class->get_property = llmsbx_security_preset_get_property;
  object_class->set_property = llmsbx_security_preset_set_property;

  /**
   * LlmsbxSecurityPreset:name:
   *
   * The preset's name (`development`, `production`, `strict`, `educational`).
   *
   * Since: 0.1
   */
  properties[PROP_NAME] = g_param_spec_string ("name", NULL, NULL, NULL, read_only);

  /**
   * LlmsbxSecurityPreset:lang:
   *
   * The language whose patterns and modules the policy holds.
   *
   * Since: 0.1
   */
  properties[PROP_LANG] = g_param_spec_string ("lang", NULL, NULL, NULL, read_only);

  /**
   * LlmsbxSecurityPreset:backend:
   *
   * The backend the configuration is for (`docker`, `podman`, `kubernetes`).
   *
   * Since: 0.1
   */
  properties[PROP_BACKEND] = g_param_spec_string ("backend", NULL, NULL, NULL, read_only);

  /**
   * LlmsbxSecurityPreset:security-policy:
   *
   * The policy, for #LlmsbxSandboxSession:security-policy. It may be
   * customised (llmsbx_security_policy_add_pattern()).
   *
   * Since: 0.1
   */
  properties[PROP_SECURITY_POLICY] =
    g_param_spec_object ("security-policy", NULL, NULL, LLMSBX_TYPE_SECURITY_POLICY, read_only);

  /**
   * LlmsbxSecurityPreset:limits:
   *
   * The sandbox's limits in backend-neutral terms, which the backend
   * rendered into #LlmsbxSecurityPreset:runtime-config or
   * #LlmsbxSecurityPreset:pod-manifest-fragment.
   *
   * Since: 0.1
   */
  properties[PROP_LIMITS] =
    g_param_spec_boxed ("limits", NULL, NULL, LLMSBX_TYPE_SECURITY_LIMITS, read_only);

  /**
   * LlmsbxSecurityPreset:runtime-config:
   *
   * The container settings (`a{sv}` in the docker-py vocabulary), for
   * #LlmsbxSandboxSession:runtime-configs; %NULL for Kubernetes, and for
   * any backend whose renderer sets only
   * #LlmsbxSecurityPreset:pod-manifest-fragment.
   *
   * Since: 0.1
   */
  properties[PROP_RUNTIME_CONFIG] =
    g_param_spec_variant ("runtime-config", NULL, NULL, G_VARIANT_TYPE_VARDICT, NULL,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * LlmsbxSecurityPreset:pod-manifest-fragment:
   *
   * For Kubernetes, the preset's pod settings in the shape of a pod manifest
   * (`spec.securityContext`, `spec.containers[0].securityContext`,
   * `.resources` and `.volumeMounts`, `spec.volumes`,
   * `spec.automountServiceAccountToken`), to merge into the manifest you
   * give the session; %NULL for other backends. Kubernetes cannot turn a
   * pod's network off: use a NetworkPolicy for the presets whose Docker
   * network is `none`.
   *
   * Since: 0.1
   */
  properties[PROP_POD_MANIFEST_FRAGMENT] =
    g_param_spec_variant ("pod-manifest-fragment", NULL, NULL, G_VARIANT_TYPE_VARDICT, NULL,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
llmsbx_security_preset_init (LlmsbxSecurityPreset *self)
{
}

static char *
join_names (const char * const *names)
{
  return g_strjoinv (", ", (char **) names);
}

/* The registered languages whose handlers supply patterns, in the order they
 * were registered (the languages plugin registers Python first). */
static char *
languages_with_patterns (LlmsbxRegistry *registry)
{
  g_autoptr(GPtrArray) handlers = llmsbx_registry_list_language_handlers (registry);
  g_autoptr(GString) known = g_string_new (NULL);

  for (guint i = 0; i < handlers->len; i++)
    {
      LlmsbxLanguageHandler *handler = g_ptr_array_index (handlers, i);
      g_autoptr(LlmsbxSecurityPolicy) policy = build_policy (&presets[0], handler);
      g_autofree char *name = NULL;

      if (policy == NULL)
        continue;
      name = llmsbx_language_handler_get_name (handler);
      g_string_append_printf (known, "%s%s", known->len ? ", " : "", name);
    }
  return g_strdup (known->len ? known->str : "none");
}

/**
 * llmsbx_list_available_presets:
 *
 * Returns: (transfer full) (array zero-terminated=1): the preset names:
 *   `development`, `production`, `strict`, `educational`
 *
 * Since: 0.1
 */
char **
llmsbx_list_available_presets (void)
{
  char **names = g_new0 (char *, G_N_ELEMENTS (presets) + 1);

  for (gsize i = 0; i < G_N_ELEMENTS (presets); i++)
    names[i] = g_strdup (presets[i].name);
  return names;
}

/**
 * llmsbx_get_security_preset:
 * @name: the preset: `development`, `production`, `strict` or `educational`
 *   (case-insensitive)
 * @lang: (nullable): the language of the code, %NULL for `python`
 * @backend: (nullable): the backend the settings are for (`docker`, `podman`,
 *   `kubernetes`, or any backend that renders presets); %NULL for the one
 *   `LLMSBX_BACKEND` names, else the highest-ranked backend that renders
 *   presets (Docker when its plugin is there). That choice probes nothing:
 *   a preset is data and needs no engine.
 * @error: return location for a #GError
 *
 * Makes a new security configuration from a preset: the policy from the
 * patterns of the language's handler, the settings rendered by the backend.
 * Fails with %LLMSBX_ERROR_INVALID_ARGUMENT for an unknown preset,
 * %LLMSBX_ERROR_LANGUAGE_NOT_SUPPORTED for a language whose handler is not
 * registered or supplies no patterns, and %LLMSBX_ERROR_BACKEND_NOT_SUPPORTED
 * for a backend that renders no presets; each message lists the names that
 * would work.
 *
 * ```c
 * g_autoptr(LlmsbxSecurityPreset) preset = llmsbx_get_security_preset ("strict", "python", "docker", &error);
 *
 * session = llmsbx_sandbox_session_new ("python");
 * llmsbx_sandbox_session_apply_security_preset (session, preset, &error);
 * ```
 *
 * Returns: (transfer full): the configuration, or %NULL on error
 *
 * Since: 0.1
 */
LlmsbxSecurityPreset *
llmsbx_get_security_preset (const char  *name,
                            const char  *lang,
                            const char  *backend,
                            GError     **error)
{
  LlmsbxRegistry *registry = llmsbx_registry_get_default ();
  const PresetDef *preset = NULL;
  g_autoptr(LlmsbxLanguageHandler) handler = NULL;
  g_autoptr(LlmsbxSecurityPolicy) policy = NULL;
  g_autoptr(LlmsbxSecurityPreset) self = NULL;
  g_autofree char *backend_name = NULL;
  g_autofree char *handler_name = NULL;

  g_return_val_if_fail (name != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (lang == NULL)
    lang = "python";

  for (gsize i = 0; i < G_N_ELEMENTS (presets) && preset == NULL; i++)
    if (g_ascii_strcasecmp (name, presets[i].name) == 0)
      preset = &presets[i];
  if (preset == NULL)
    {
      g_auto(GStrv) names = llmsbx_list_available_presets ();
      g_autofree char *known = join_names ((const char * const *) names);

      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
                   "Unknown security preset '%s'; available presets: %s", name, known);
      return NULL;
    }

  handler = llmsbx_registry_lookup_language (registry, lang, NULL);
  if (handler != NULL)
    policy = build_policy (preset, handler);
  if (policy == NULL)
    {
      g_autofree char *known = languages_with_patterns (registry);

      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_LANGUAGE_NOT_SUPPORTED,
                   "The security presets have no patterns for the language '%s'; they cover: %s",
                   lang, known);
      return NULL;
    }

  backend_name = backend != NULL ? g_ascii_strdown (backend, -1) : llmsbx_registry_get_preset_backend (registry);
  if (backend_name == NULL || !llmsbx_registry_renders_presets (registry, backend_name))
    {
      g_autofree char *known = llmsbx_registry_list_preset_backends (registry);

      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_BACKEND_NOT_SUPPORTED,
                   "The security presets have no configuration for the backend '%s'; they cover: %s",
                   backend != NULL ? backend : backend_name != NULL ? backend_name : "(none)", known);
      return NULL;
    }

  handler_name = llmsbx_language_handler_get_name (handler);
  self = g_object_new (LLMSBX_TYPE_SECURITY_PRESET, NULL);
  self->name = g_strdup (preset->name);
  self->lang = g_ascii_strdown (handler_name, -1);
  self->backend = g_steal_pointer (&backend_name);
  self->policy = g_steal_pointer (&policy);
  self->limits = build_limits (preset, handler);
  if (!llmsbx_registry_render_preset (registry, self->backend, self, error))
    {
      g_prefix_error (error, "Cannot make the %s preset for the %s backend: ", self->name, self->backend);
      return NULL;
    }
  return g_steal_pointer (&self);
}

/**
 * llmsbx_security_preset_get_name:
 * @self: a #LlmsbxSecurityPreset
 *
 * Returns: the preset's name
 *
 * Since: 0.1
 */
const char *
llmsbx_security_preset_get_name (LlmsbxSecurityPreset *self)
{
  g_return_val_if_fail (LLMSBX_IS_SECURITY_PRESET (self), NULL);
  return self->name;
}

/**
 * llmsbx_security_preset_get_lang:
 * @self: a #LlmsbxSecurityPreset
 *
 * Returns: the language the policy is for
 *
 * Since: 0.1
 */
const char *
llmsbx_security_preset_get_lang (LlmsbxSecurityPreset *self)
{
  g_return_val_if_fail (LLMSBX_IS_SECURITY_PRESET (self), NULL);
  return self->lang;
}

/**
 * llmsbx_security_preset_get_backend:
 * @self: a #LlmsbxSecurityPreset
 *
 * Returns: the backend the configuration is for
 *
 * Since: 0.1
 */
const char *
llmsbx_security_preset_get_backend (LlmsbxSecurityPreset *self)
{
  g_return_val_if_fail (LLMSBX_IS_SECURITY_PRESET (self), NULL);
  return self->backend;
}

/**
 * llmsbx_security_preset_get_security_policy:
 * @self: a #LlmsbxSecurityPreset
 *
 * Returns: (transfer none): the policy
 *
 * Since: 0.1
 */
LlmsbxSecurityPolicy *
llmsbx_security_preset_get_security_policy (LlmsbxSecurityPreset *self)
{
  g_return_val_if_fail (LLMSBX_IS_SECURITY_PRESET (self), NULL);
  return self->policy;
}

/**
 * llmsbx_security_preset_get_runtime_config:
 * @self: a #LlmsbxSecurityPreset
 *
 * Returns: (transfer none) (nullable): the container settings (`a{sv}`), or
 *   %NULL for Kubernetes
 *
 * Since: 0.1
 */
GVariant *
llmsbx_security_preset_get_runtime_config (LlmsbxSecurityPreset *self)
{
  g_return_val_if_fail (LLMSBX_IS_SECURITY_PRESET (self), NULL);
  return self->runtime_config;
}

/**
 * llmsbx_security_preset_set_runtime_config:
 * @self: a #LlmsbxSecurityPreset
 * @runtime_config: (nullable): container settings (`a{sv}`)
 *
 * Replaces the container settings, to customise a preset.
 *
 * Since: 0.1
 */
void
llmsbx_security_preset_set_runtime_config (LlmsbxSecurityPreset *self,
                                           GVariant             *runtime_config)
{
  g_return_if_fail (LLMSBX_IS_SECURITY_PRESET (self));
  g_return_if_fail (runtime_config == NULL || g_variant_is_of_type (runtime_config, G_VARIANT_TYPE_VARDICT));

  if (runtime_config != NULL)
    g_variant_ref_sink (runtime_config);
  g_clear_pointer (&self->runtime_config, g_variant_unref);
  self->runtime_config = runtime_config;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RUNTIME_CONFIG]);
}

/**
 * llmsbx_security_preset_get_limits:
 * @self: a #LlmsbxSecurityPreset
 *
 * Gets the preset's sandbox limits in backend-neutral terms: what a
 * backend's #LlmsbxBackendClass.render_preset turns into its settings.
 *
 * Returns: (transfer none): the limits
 *
 * Since: 0.1
 */
const LlmsbxSecurityLimits *
llmsbx_security_preset_get_limits (LlmsbxSecurityPreset *self)
{
  g_return_val_if_fail (LLMSBX_IS_SECURITY_PRESET (self), NULL);
  return self->limits;
}

/**
 * llmsbx_security_preset_set_pod_manifest_fragment:
 * @self: a #LlmsbxSecurityPreset
 * @fragment: (nullable): pod settings shaped like a pod manifest (`a{sv}`)
 *
 * Replaces the pod settings: what a Kubernetes backend's renderer sets, or a
 * customisation.
 *
 * Since: 0.1
 */
void
llmsbx_security_preset_set_pod_manifest_fragment (LlmsbxSecurityPreset *self,
                                                  GVariant             *fragment)
{
  g_return_if_fail (LLMSBX_IS_SECURITY_PRESET (self));
  g_return_if_fail (fragment == NULL || g_variant_is_of_type (fragment, G_VARIANT_TYPE_VARDICT));

  if (fragment != NULL)
    g_variant_ref_sink (fragment);
  g_clear_pointer (&self->pod_manifest_fragment, g_variant_unref);
  self->pod_manifest_fragment = fragment;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_POD_MANIFEST_FRAGMENT]);
}

/**
 * llmsbx_security_preset_get_pod_manifest_fragment:
 * @self: a #LlmsbxSecurityPreset
 *
 * Returns: (transfer none) (nullable): the pod settings for Kubernetes
 *   (`a{sv}` shaped like a pod manifest), or %NULL for other backends
 *
 * Since: 0.1
 */
GVariant *
llmsbx_security_preset_get_pod_manifest_fragment (LlmsbxSecurityPreset *self)
{
  g_return_val_if_fail (LLMSBX_IS_SECURITY_PRESET (self), NULL);
  return self->pod_manifest_fragment;
}
