/* llmsbx-security-restricted-module.c: a module that code must not import.
 * Immutable, like a pattern, so it can be shared between threads. */
#include "config.h"

#include "llmsbx-security-restricted-module.h"
#include "llmsbx-enum-types.h"

/**
 * LlmsbxRestrictedModule:
 *
 * A module (a Python module, a Node.js module, a Go package, a C++ header, ...)
 * that a #LlmsbxSecurityPolicy does not let code import, and that
 * llmsbx_sandbox_session_install() does not install.
 *
 * The policy turns it into the session language's import regex
 * (llmsbx_language_handler_get_import_pattern()) when it checks code, so one
 * policy works for any language. The name is taken literally.
 *
 * Since: 0.1
 */
struct _LlmsbxRestrictedModule
{
  GObject parent_instance;

  char *name;
  char *description;
  LlmsbxSecurityIssueSeverity severity;
};

G_DEFINE_FINAL_TYPE (LlmsbxRestrictedModule, llmsbx_restricted_module, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_NAME,
  PROP_DESCRIPTION,
  PROP_SEVERITY,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
llmsbx_restricted_module_finalize (GObject *object)
{
  LlmsbxRestrictedModule *self = LLMSBX_RESTRICTED_MODULE (object);

  g_free (self->name);
  g_free (self->description);

  G_OBJECT_CLASS (llmsbx_restricted_module_parent_class)->finalize (object);
}

static void
llmsbx_restricted_module_get_property (GObject    *object,
                                       guint       prop_id,
                                       GValue     *value,
                                       GParamSpec *pspec)
{
  LlmsbxRestrictedModule *self = LLMSBX_RESTRICTED_MODULE (object);

  switch (prop_id)
    {
    case PROP_NAME:
      g_value_set_string (value, self->name);
      break;
    case PROP_DESCRIPTION:
      g_value_set_string (value, self->description);
      break;
    case PROP_SEVERITY:
      g_value_set_enum (value, self->severity);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
llmsbx_restricted_module_set_property (GObject      *object,
                                       guint         prop_id,
                                       const GValue *value,
                                       GParamSpec   *pspec)
{
  LlmsbxRestrictedModule *self = LLMSBX_RESTRICTED_MODULE (object);

  switch (prop_id)
    {
    case PROP_NAME:
      g_free (self->name);
      self->name = g_strdup (g_value_get_string (value) ? g_value_get_string (value) : "");
      break;
    case PROP_DESCRIPTION:
      g_free (self->description);
      self->description = g_strdup (g_value_get_string (value) ? g_value_get_string (value) : "");
      break;
    case PROP_SEVERITY:
      self->severity = g_value_get_enum (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
llmsbx_restricted_module_class_init (LlmsbxRestrictedModuleClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GParamFlags flags = G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS;

  object_class->finalize = llmsbx_restricted_module_finalize;
  object_class->get_property = llmsbx_restricted_module_get_property;
  object_class->set_property = llmsbx_restricted_module_set_property;

  /**
   * LlmsbxRestrictedModule:name:
   *
   * The module's name as code imports it (`subprocess`, `child_process`,
   * `os/exec`, `cstdlib`). A policy refuses to check code with a module
   * whose name is empty.
   *
   * Since: 0.1
   */
  properties[PROP_NAME] = g_param_spec_string ("name", NULL, NULL, "", flags);

  /**
   * LlmsbxRestrictedModule:description:
   *
   * Why the module is restricted, in words for the person whose code it blocks.
   *
   * Since: 0.1
   */
  properties[PROP_DESCRIPTION] = g_param_spec_string ("description", NULL, NULL, "", flags);

  /**
   * LlmsbxRestrictedModule:severity:
   *
   * How serious an import of the module is.
   *
   * Since: 0.1
   */
  properties[PROP_SEVERITY] =
    g_param_spec_enum ("severity", NULL, NULL, LLMSBX_TYPE_SECURITY_ISSUE_SEVERITY,
                       LLMSBX_SECURITY_ISSUE_SEVERITY_SAFE, flags);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
llmsbx_restricted_module_init (LlmsbxRestrictedModule *self)
{
  self->name = g_strdup ("");
  self->description = g_strdup ("");
}

/**
 * llmsbx_restricted_module_new:
 * @name: the module's name as code imports it
 * @description: (nullable): why it is restricted
 * @severity: how serious an import is
 *
 * Returns: (transfer full): a new restricted module
 *
 * Since: 0.1
 */
LlmsbxRestrictedModule *
llmsbx_restricted_module_new (const char                  *name,
                              const char                  *description,
                              LlmsbxSecurityIssueSeverity  severity)
{
  g_return_val_if_fail (name != NULL && name[0] != '\0', NULL);

  return g_object_new (LLMSBX_TYPE_RESTRICTED_MODULE,
                       "name", name,
                       "description", description,
                       "severity", severity,
                       NULL);
}

/**
 * llmsbx_restricted_module_get_name:
 * @self: a #LlmsbxRestrictedModule
 *
 * Returns: the module's name
 *
 * Since: 0.1
 */
const char *
llmsbx_restricted_module_get_name (LlmsbxRestrictedModule *self)
{
  g_return_val_if_fail (LLMSBX_IS_RESTRICTED_MODULE (self), NULL);
  return self->name;
}

/**
 * llmsbx_restricted_module_get_description:
 * @self: a #LlmsbxRestrictedModule
 *
 * Returns: why the module is restricted
 *
 * Since: 0.1
 */
const char *
llmsbx_restricted_module_get_description (LlmsbxRestrictedModule *self)
{
  g_return_val_if_fail (LLMSBX_IS_RESTRICTED_MODULE (self), NULL);
  return self->description;
}

/**
 * llmsbx_restricted_module_get_severity:
 * @self: a #LlmsbxRestrictedModule
 *
 * Returns: how serious an import of the module is
 *
 * Since: 0.1
 */
LlmsbxSecurityIssueSeverity
llmsbx_restricted_module_get_severity (LlmsbxRestrictedModule *self)
{
  g_return_val_if_fail (LLMSBX_IS_RESTRICTED_MODULE (self), LLMSBX_SECURITY_ISSUE_SEVERITY_SAFE);
  return self->severity;
}
