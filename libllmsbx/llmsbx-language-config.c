/* llmsbx-language-config.c: a language handler described by plain values, the
 * base for handlers written in C plugins, Python or GJS. */
#include "config.h"

#include "llmsbx-comments.h"
#include "llmsbx-language-config.h"

/**
 * LlmsbxLanguageConfig:
 *
 * A #LlmsbxLanguageHandler whose answers come from its properties: a name, a file
 * extension, the commands that run a file, a package manager and so on.
 *
 * All properties are set at construction and never change, so one handler can
 * serve every session and thread at once.
 *
 * Subclasses, including ones written in Python or JavaScript, override the
 * #LlmsbxLanguageHandler methods that values cannot express:
 *
 * |[<!-- language="Python" -->
 * class Lua(Llmsbx.LanguageConfig):
 *     def do_get_import_pattern(self, module):
 *         return r"\brequire\W+" + re.escape(module)
 *
 * registry.register_language(Lua(name="lua", file_extension="lua",
 *                                execution_commands=["lua {file}"]))
 * ]|
 *
 * Since: 0.1
 */

typedef struct
{
  char *name;
  char *file_extension;
  GStrv execution_commands;
  char *package_manager;
  char *default_image;
  GStrv setup_commands;
  char *import_pattern;
  char *line_comment;
} LlmsbxLanguageConfigPrivate;

static void llmsbx_language_config_handler_init (LlmsbxLanguageHandlerInterface *iface);

G_DEFINE_TYPE_WITH_CODE (LlmsbxLanguageConfig, llmsbx_language_config, G_TYPE_OBJECT,
                         G_ADD_PRIVATE (LlmsbxLanguageConfig)
                         G_IMPLEMENT_INTERFACE (LLMSBX_TYPE_LANGUAGE_HANDLER,
                                                llmsbx_language_config_handler_init))

enum {
  PROP_0,
  PROP_NAME,
  PROP_FILE_EXTENSION,
  PROP_EXECUTION_COMMANDS,
  PROP_PACKAGE_MANAGER,
  PROP_DEFAULT_IMAGE,
  PROP_SETUP_COMMANDS,
  PROP_IMPORT_PATTERN,
  PROP_LINE_COMMENT,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static char *
llmsbx_language_config_get_name_vfunc (LlmsbxLanguageHandler *handler)
{
  LlmsbxLanguageConfig *self = LLMSBX_LANGUAGE_CONFIG (handler);
  LlmsbxLanguageConfigPrivate *priv = llmsbx_language_config_get_instance_private (self);

  return g_strdup (priv->name);
}

static char *
llmsbx_language_config_get_file_extension_vfunc (LlmsbxLanguageHandler *handler)
{
  LlmsbxLanguageConfig *self = LLMSBX_LANGUAGE_CONFIG (handler);
  LlmsbxLanguageConfigPrivate *priv = llmsbx_language_config_get_instance_private (self);

  return g_strdup (priv->file_extension);
}

static char *
llmsbx_language_config_get_default_image_vfunc (LlmsbxLanguageHandler *handler)
{
  LlmsbxLanguageConfig *self = LLMSBX_LANGUAGE_CONFIG (handler);
  LlmsbxLanguageConfigPrivate *priv = llmsbx_language_config_get_instance_private (self);

  return g_strdup (priv->default_image);
}

static char **
llmsbx_language_config_get_setup_commands_vfunc (LlmsbxLanguageHandler *handler,
                                                 LlmsbxRuntimeContext  *context)
{
  LlmsbxLanguageConfig *self = LLMSBX_LANGUAGE_CONFIG (handler);
  LlmsbxLanguageConfigPrivate *priv = llmsbx_language_config_get_instance_private (self);

  return priv->setup_commands != NULL ? g_strdupv (priv->setup_commands) : g_new0 (char *, 1);
}

static char **
llmsbx_language_config_get_run_commands_vfunc (LlmsbxLanguageHandler *handler,
                                               LlmsbxRuntimeContext  *context)
{
  LlmsbxLanguageConfig *self = LLMSBX_LANGUAGE_CONFIG (handler);
  LlmsbxLanguageConfigPrivate *priv = llmsbx_language_config_get_instance_private (self);

  return priv->execution_commands != NULL ? g_strdupv (priv->execution_commands) : g_new0 (char *, 1);
}

static char *
llmsbx_language_config_get_install_command_vfunc (LlmsbxLanguageHandler *handler,
                                                  LlmsbxRuntimeContext  *context)
{
  LlmsbxLanguageConfig *self = LLMSBX_LANGUAGE_CONFIG (handler);
  LlmsbxLanguageConfigPrivate *priv = llmsbx_language_config_get_instance_private (self);

  if (priv->package_manager == NULL || priv->package_manager[0] == '\0')
    return NULL;

  return g_strconcat (priv->package_manager, " {library}", NULL);
}

static char *
llmsbx_language_config_get_import_pattern_vfunc (LlmsbxLanguageHandler *handler,
                                                 const char            *module)
{
  LlmsbxLanguageConfig *self = LLMSBX_LANGUAGE_CONFIG (handler);
  LlmsbxLanguageConfigPrivate *priv = llmsbx_language_config_get_instance_private (self);
  g_autofree char *escaped = NULL;
  GString *pattern;

  if (priv->import_pattern == NULL)
    return NULL;

  escaped = g_regex_escape_string (module, -1);
  pattern = g_string_new (priv->import_pattern);
  g_string_replace (pattern, "{module}", escaped, 0);

  return g_string_free (pattern, FALSE);
}

static char *
llmsbx_language_config_strip_comments_vfunc (LlmsbxLanguageHandler *handler,
                                             const char            *code)
{
  LlmsbxLanguageConfig *self = LLMSBX_LANGUAGE_CONFIG (handler);
  LlmsbxLanguageConfigPrivate *priv = llmsbx_language_config_get_instance_private (self);
  const char *line_comments[] = { priv->line_comment, NULL };
  /* Triple quotes are Python's strings and Java's, Kotlin's and Swift's text
   * blocks; elsewhere `"""` hardly occurs outside a string anyway. */
  LlmsbxCommentSyntax syntax = {
    .line_comments = priv->line_comment != NULL ? line_comments : NULL,
    .string_quotes = "\"'",
    .triple_quoted_strings = TRUE,
    .backslash_escapes = TRUE,
  };

  return llmsbx_strip_comments (code, &syntax);
}

static void
llmsbx_language_config_handler_init (LlmsbxLanguageHandlerInterface *iface)
{
  iface->get_name = llmsbx_language_config_get_name_vfunc;
  iface->get_file_extension = llmsbx_language_config_get_file_extension_vfunc;
  iface->get_default_image = llmsbx_language_config_get_default_image_vfunc;
  iface->get_setup_commands = llmsbx_language_config_get_setup_commands_vfunc;
  iface->get_run_commands = llmsbx_language_config_get_run_commands_vfunc;
  iface->get_install_command = llmsbx_language_config_get_install_command_vfunc;
  iface->get_import_pattern = llmsbx_language_config_get_import_pattern_vfunc;
  iface->strip_comments = llmsbx_language_config_strip_comments_vfunc;
}

static void
llmsbx_language_config_finalize (GObject *object)
{
  LlmsbxLanguageConfig *self = LLMSBX_LANGUAGE_CONFIG (object);
  LlmsbxLanguageConfigPrivate *priv = llmsbx_language_config_get_instance_private (self);

  g_free (priv->name);
  g_free (priv->file_extension);
  g_strfreev (priv->execution_commands);
  g_free (priv->package_manager);
  g_free (priv->default_image);
  g_strfreev (priv->setup_commands);
  g_free (priv->import_pattern);
  g_free (priv->line_comment);

  G_OBJECT_CLASS (llmsbx_language_config_parent_class)->finalize (object);
}

static void
llmsbx_language_config_get_property (GObject    *object,
                                     guint       prop_id,
                                     GValue     *value,
                                     GParamSpec *pspec)
{
  LlmsbxLanguageConfig *self = LLMSBX_LANGUAGE_CONFIG (object);
  LlmsbxLanguageConfigPrivate *priv = llmsbx_language_config_get_instance_private (self);

  switch (prop_id)
    {
    case PROP_NAME:
      g_value_set_string (value, priv->name);
      break;
    case PROP_FILE_EXTENSION:
      g_value_set_string (value, priv->file_extension);
      break;
    case PROP_EXECUTION_COMMANDS:
      g_value_set_boxed (value, priv->execution_commands);
      break;
    case PROP_PACKAGE_MANAGER:
      g_value_set_string (value, priv->package_manager);
      break;
    case PROP_DEFAULT_IMAGE:
      g_value_set_string (value, priv->default_image);
      break;
    case PROP_SETUP_COMMANDS:
      g_value_set_boxed (value, priv->setup_commands);
      break;
    case PROP_IMPORT_PATTERN:
      g_value_set_string (value, priv->import_pattern);
      break;
    case PROP_LINE_COMMENT:
      g_value_set_string (value, priv->line_comment);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
llmsbx_language_config_set_property (GObject      *object,
                                     guint         prop_id,
                                     const GValue *value,
                                     GParamSpec   *pspec)
{
  LlmsbxLanguageConfig *self = LLMSBX_LANGUAGE_CONFIG (object);
  LlmsbxLanguageConfigPrivate *priv = llmsbx_language_config_get_instance_private (self);

  /* Every property is construct-only, so each is set exactly once. */
  switch (prop_id)
    {
    case PROP_NAME:
      priv->name = g_value_dup_string (value);
      break;
    case PROP_FILE_EXTENSION:
      priv->file_extension = g_value_dup_string (value);
      break;
    case PROP_EXECUTION_COMMANDS:
      priv->execution_commands = g_value_dup_boxed (value);
      break;
    case PROP_PACKAGE_MANAGER:
      priv->package_manager = g_value_dup_string (value);
      break;
    case PROP_DEFAULT_IMAGE:
      priv->default_image = g_value_dup_string (value);
      break;
    case PROP_SETUP_COMMANDS:
      priv->setup_commands = g_value_dup_boxed (value);
      break;
    case PROP_IMPORT_PATTERN:
      priv->import_pattern = g_value_dup_string (value);
      break;
    case PROP_LINE_COMMENT:
      priv->line_comment = g_value_dup_string (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
llmsbx_language_config_class_init (LlmsbxLanguageConfigClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  const GParamFlags flags = G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS;

  object_class->finalize = llmsbx_language_config_finalize;
  object_class->get_property = llmsbx_language_config_get_property;
  object_class->set_property = llmsbx_language_config_set_property;

  /**
   * LlmsbxLanguageConfig:name:
   *
   * The language identifier, the value of a session's `lang`.
   *
   * Since: 0.1
   */
  properties[PROP_NAME] =
    g_param_spec_string ("name", NULL, NULL, NULL, flags);

  /**
   * LlmsbxLanguageConfig:file-extension:
   *
   * The extension of code files, without the dot.
   *
   * Since: 0.1
   */
  properties[PROP_FILE_EXTENSION] =
    g_param_spec_string ("file-extension", NULL, NULL, NULL, flags);

  /**
   * LlmsbxLanguageConfig:execution-commands:
   *
   * Command templates that run the code file `{file}`, in order (see
   * llmsbx_expand_command_template()).
   *
   * Since: 0.1
   */
  properties[PROP_EXECUTION_COMMANDS] =
    g_param_spec_boxed ("execution-commands", NULL, NULL, G_TYPE_STRV, flags);

  /**
   * LlmsbxLanguageConfig:package-manager:
   *
   * The command that installs a library given after it, as a template prefix
   * (`pip install`); %NULL when the language cannot install libraries.
   *
   * Since: 0.1
   */
  properties[PROP_PACKAGE_MANAGER] =
    g_param_spec_string ("package-manager", NULL, NULL, NULL, flags);

  /**
   * LlmsbxLanguageConfig:default-image:
   *
   * The image a session uses when it names none.
   *
   * Since: 0.1
   */
  properties[PROP_DEFAULT_IMAGE] =
    g_param_spec_string ("default-image", NULL, NULL, NULL, flags);

  /**
   * LlmsbxLanguageConfig:setup-commands:
   *
   * Command templates that prepare the environment once.
   *
   * Since: 0.1
   */
  properties[PROP_SETUP_COMMANDS] =
    g_param_spec_boxed ("setup-commands", NULL, NULL, G_TYPE_STRV, flags);

  /**
   * LlmsbxLanguageConfig:import-pattern:
   *
   * A regular expression matching an import, in which `{module}` stands for the
   * module name (inserted escaped, so it matches literally).
   *
   * Since: 0.1
   */
  properties[PROP_IMPORT_PATTERN] =
    g_param_spec_string ("import-pattern", NULL, NULL, NULL, flags);

  /**
   * LlmsbxLanguageConfig:line-comment:
   *
   * The marker that starts a comment running to the end of the line (`#`);
   * strings quoted with `"` or `'` are never taken for comments.
   *
   * Since: 0.1
   */
  properties[PROP_LINE_COMMENT] =
    g_param_spec_string ("line-comment", NULL, NULL, NULL, flags);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
llmsbx_language_config_init (LlmsbxLanguageConfig *self)
{
}

/**
 * llmsbx_language_config_new:
 * @name: the language identifier
 * @file_extension: the extension of code files, without the dot
 * @execution_commands: (array zero-terminated=1): command templates running `{file}`
 * @package_manager: (nullable): the install command prefix (`pip install`), or
 *   %NULL when libraries cannot be installed
 *
 * Creates a language handler from values. Set the other properties with
 * g_object_new() to give it a default image, setup commands, an import pattern
 * or a comment marker.
 *
 * Returns: (transfer full): a new #LlmsbxLanguageConfig
 *
 * Since: 0.1
 */
LlmsbxLanguageConfig *
llmsbx_language_config_new (const char         *name,
                            const char         *file_extension,
                            const char * const *execution_commands,
                            const char         *package_manager)
{
  g_return_val_if_fail (name != NULL, NULL);
  g_return_val_if_fail (file_extension != NULL, NULL);
  g_return_val_if_fail (execution_commands != NULL, NULL);

  return g_object_new (LLMSBX_TYPE_LANGUAGE_CONFIG,
                       "name", name,
                       "file-extension", file_extension,
                       "execution-commands", execution_commands,
                       "package-manager", package_manager,
                       NULL);
}

/**
 * llmsbx_language_config_get_name: (skip)
 * @self: a #LlmsbxLanguageConfig
 *
 * Bindings use llmsbx_language_handler_get_name(), which gives the same value
 * (a method of the same name here would clash with it in Vala).
 *
 * Returns: (nullable): the language identifier
 *
 * Since: 0.1
 */
const char *
llmsbx_language_config_get_name (LlmsbxLanguageConfig *self)
{
  LlmsbxLanguageConfigPrivate *priv;

  g_return_val_if_fail (LLMSBX_IS_LANGUAGE_CONFIG (self), NULL);

  priv = llmsbx_language_config_get_instance_private (self);
  return priv->name;
}

/**
 * llmsbx_language_config_get_file_extension: (skip)
 * @self: a #LlmsbxLanguageConfig
 *
 * Bindings use llmsbx_language_handler_get_file_extension(), which gives the same value
 * (a method of the same name here would clash with it in Vala).
 *
 * Returns: (nullable): the extension of code files, without the dot
 *
 * Since: 0.1
 */
const char *
llmsbx_language_config_get_file_extension (LlmsbxLanguageConfig *self)
{
  LlmsbxLanguageConfigPrivate *priv;

  g_return_val_if_fail (LLMSBX_IS_LANGUAGE_CONFIG (self), NULL);

  priv = llmsbx_language_config_get_instance_private (self);
  return priv->file_extension;
}

/**
 * llmsbx_language_config_get_execution_commands:
 * @self: a #LlmsbxLanguageConfig
 *
 * Returns: (array zero-terminated=1) (nullable): the command templates running `{file}`
 *
 * Since: 0.1
 */
const char * const *
llmsbx_language_config_get_execution_commands (LlmsbxLanguageConfig *self)
{
  LlmsbxLanguageConfigPrivate *priv = llmsbx_language_config_get_instance_private (self);

  g_return_val_if_fail (LLMSBX_IS_LANGUAGE_CONFIG (self), NULL);

  return (const char * const *) priv->execution_commands;
}

/**
 * llmsbx_language_config_get_package_manager:
 * @self: a #LlmsbxLanguageConfig
 *
 * Returns: (nullable): the install command prefix, or %NULL when libraries
 *   cannot be installed
 *
 * Since: 0.1
 */
const char *
llmsbx_language_config_get_package_manager (LlmsbxLanguageConfig *self)
{
  LlmsbxLanguageConfigPrivate *priv;

  g_return_val_if_fail (LLMSBX_IS_LANGUAGE_CONFIG (self), NULL);

  priv = llmsbx_language_config_get_instance_private (self);
  return priv->package_manager;
}

/**
 * llmsbx_language_config_get_default_image: (skip)
 * @self: a #LlmsbxLanguageConfig
 *
 * Bindings use llmsbx_language_handler_get_default_image(), which gives the same value
 * (a method of the same name here would clash with it in Vala).
 *
 * Returns: (nullable): the image a session uses when it names none
 *
 * Since: 0.1
 */
const char *
llmsbx_language_config_get_default_image (LlmsbxLanguageConfig *self)
{
  LlmsbxLanguageConfigPrivate *priv;

  g_return_val_if_fail (LLMSBX_IS_LANGUAGE_CONFIG (self), NULL);

  priv = llmsbx_language_config_get_instance_private (self);
  return priv->default_image;
}
