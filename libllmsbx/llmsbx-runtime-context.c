/* llmsbx-runtime-context.c: facts about a sandbox that a language handler needs
 * to build its commands. Immutable, so it can be handed to handlers written in
 * any language and shared between threads. */
#include "config.h"

#include "llmsbx-runtime-context.h"

/**
 * LlmsbxRuntimeContext:
 *
 * What a #LlmsbxLanguageHandler may know about the sandbox it builds commands
 * for: the working directory and whether the language environment (for example
 * a Python virtual environment) has already been prepared.
 *
 * A runtime context is immutable.
 *
 * Since: 0.1
 */
struct _LlmsbxRuntimeContext
{
  GObject parent_instance;

  char *workdir;
  gboolean environment_ready;
};

G_DEFINE_FINAL_TYPE (LlmsbxRuntimeContext, llmsbx_runtime_context, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_WORKDIR,
  PROP_ENVIRONMENT_READY,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
llmsbx_runtime_context_finalize (GObject *object)
{
  LlmsbxRuntimeContext *self = LLMSBX_RUNTIME_CONTEXT (object);

  g_free (self->workdir);

  G_OBJECT_CLASS (llmsbx_runtime_context_parent_class)->finalize (object);
}

static void
llmsbx_runtime_context_get_property (GObject    *object,
                                     guint       prop_id,
                                     GValue     *value,
                                     GParamSpec *pspec)
{
  LlmsbxRuntimeContext *self = LLMSBX_RUNTIME_CONTEXT (object);

  switch (prop_id)
    {
    case PROP_WORKDIR:
      g_value_set_string (value, self->workdir);
      break;
    case PROP_ENVIRONMENT_READY:
      g_value_set_boolean (value, self->environment_ready);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
llmsbx_runtime_context_set_property (GObject      *object,
                                     guint         prop_id,
                                     const GValue *value,
                                     GParamSpec   *pspec)
{
  LlmsbxRuntimeContext *self = LLMSBX_RUNTIME_CONTEXT (object);

  switch (prop_id)
    {
    case PROP_WORKDIR:
      g_free (self->workdir);
      self->workdir = g_value_dup_string (value);
      break;
    case PROP_ENVIRONMENT_READY:
      self->environment_ready = g_value_get_boolean (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
llmsbx_runtime_context_class_init (LlmsbxRuntimeContextClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = llmsbx_runtime_context_finalize;
  object_class->get_property = llmsbx_runtime_context_get_property;
  object_class->set_property = llmsbx_runtime_context_set_property;

  /**
   * LlmsbxRuntimeContext:workdir:
   *
   * The working directory inside the sandbox, where code files are written.
   *
   * Since: 0.1
   */
  properties[PROP_WORKDIR] =
    g_param_spec_string ("workdir", NULL, NULL,
                         "/sandbox",
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  /**
   * LlmsbxRuntimeContext:environment-ready:
   *
   * Whether the language environment has been prepared (its setup commands ran),
   * so the handler can refer to what they created.
   *
   * Since: 0.1
   */
  properties[PROP_ENVIRONMENT_READY] =
    g_param_spec_boolean ("environment-ready", NULL, NULL,
                          FALSE,
                          G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
llmsbx_runtime_context_init (LlmsbxRuntimeContext *self)
{
}

/**
 * llmsbx_runtime_context_new:
 * @workdir: the working directory inside the sandbox
 * @environment_ready: whether the language environment has been prepared
 *
 * Creates a runtime context.
 *
 * Returns: (transfer full): a new #LlmsbxRuntimeContext
 *
 * Since: 0.1
 */
LlmsbxRuntimeContext *
llmsbx_runtime_context_new (const char *workdir,
                            gboolean    environment_ready)
{
  g_return_val_if_fail (workdir != NULL, NULL);

  return g_object_new (LLMSBX_TYPE_RUNTIME_CONTEXT,
                       "workdir", workdir,
                       "environment-ready", environment_ready,
                       NULL);
}

/**
 * llmsbx_runtime_context_get_workdir:
 * @self: a #LlmsbxRuntimeContext
 *
 * Returns: (nullable): the working directory inside the sandbox
 *
 * Since: 0.1
 */
const char *
llmsbx_runtime_context_get_workdir (LlmsbxRuntimeContext *self)
{
  g_return_val_if_fail (LLMSBX_IS_RUNTIME_CONTEXT (self), NULL);

  return self->workdir;
}

/**
 * llmsbx_runtime_context_get_environment_ready:
 * @self: a #LlmsbxRuntimeContext
 *
 * Returns: whether the language environment has been prepared
 *
 * Since: 0.1
 */
gboolean
llmsbx_runtime_context_get_environment_ready (LlmsbxRuntimeContext *self)
{
  g_return_val_if_fail (LLMSBX_IS_RUNTIME_CONTEXT (self), FALSE);

  return self->environment_ready;
}
