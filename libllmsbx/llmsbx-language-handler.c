/* llmsbx-language-handler.c: the interface language plugins implement, and the
 * expansion of its command templates into argv. */
#include "config.h"

#include <string.h>

#include "llmsbx-error.h"
#include "llmsbx-language-handler.h"
#include "llmsbx-security-policy.h"

/**
 * LlmsbxLanguageHandler:
 *
 * What the library needs to know about a programming language: how its files
 * are named, which commands prepare the environment, run a file and install a
 * library, how an import of a module looks, and how to remove comments.
 *
 * Handlers come from the languages plugin, and applications can register their
 * own, written in C or through GObject Introspection (for example a Python
 * subclass of #LlmsbxLanguageConfig), with llmsbx_registry_register_language().
 *
 * Since: 0.1
 */

G_DEFINE_INTERFACE (LlmsbxLanguageHandler, llmsbx_language_handler, G_TYPE_OBJECT)

/**
 * LlmsbxLanguageHandlerInterface::get_name:
 * @self: a #LlmsbxLanguageHandler
 *
 * Returns: (transfer full): the language identifier
 *
 * Since: 0.1
 */

/**
 * LlmsbxLanguageHandlerInterface::get_file_extension:
 * @self: a #LlmsbxLanguageHandler
 *
 * Returns: (transfer full): the extension of code files, without the dot
 *
 * Since: 0.1
 */

/**
 * LlmsbxLanguageHandlerInterface::get_default_image:
 * @self: a #LlmsbxLanguageHandler
 *
 * Returns: (transfer full) (nullable): the image used when the session names none
 *
 * Since: 0.1
 */

/**
 * LlmsbxLanguageHandlerInterface::get_setup_commands:
 * @self: a #LlmsbxLanguageHandler
 * @context: the sandbox the commands are for
 *
 * Returns: (transfer full) (array zero-terminated=1): command templates
 *
 * Since: 0.1
 */

/**
 * LlmsbxLanguageHandlerInterface::get_run_commands:
 * @self: a #LlmsbxLanguageHandler
 * @context: the sandbox the commands are for
 *
 * Returns: (transfer full) (array zero-terminated=1): command templates
 *
 * Since: 0.1
 */

/**
 * LlmsbxLanguageHandlerInterface::get_install_command:
 * @self: a #LlmsbxLanguageHandler
 * @context: the sandbox the command is for
 *
 * Returns: (transfer full) (nullable): a command template, or %NULL
 *
 * Since: 0.1
 */

/**
 * LlmsbxLanguageHandlerInterface::get_import_pattern:
 * @self: a #LlmsbxLanguageHandler
 * @module: a module name
 *
 * Returns: (transfer full) (nullable): a regular expression, or %NULL
 *
 * Since: 0.1
 */

/**
 * LlmsbxLanguageHandlerInterface::strip_comments:
 * @self: a #LlmsbxLanguageHandler
 * @code: source code
 *
 * Returns: (transfer full): @code without comments
 *
 * Since: 0.1
 */

/**
 * LlmsbxLanguageHandlerInterface::get_security_catalogue:
 * @self: a #LlmsbxLanguageHandler
 * @category: what the patterns and modules give code access to
 *
 * Returns: (transfer full) (nullable): a new policy holding the patterns and
 *   restricted modules of @category, or %NULL for none
 *
 * Since: 0.1
 */

/**
 * LlmsbxLanguageHandlerInterface::get_hardened_environment:
 * @self: a #LlmsbxLanguageHandler
 * @context: the sandbox the variables are for
 *
 * Returns: (transfer full) (array zero-terminated=1) (nullable): `NAME=value` entries
 *
 * Since: 0.1
 */

/**
 * LlmsbxLanguageHandlerInterface::wrap_for_artifacts:
 * @self: a #LlmsbxLanguageHandler
 * @code: source code in the language
 * @plots_dir: where the wrapped code saves plots
 *
 * Returns: (transfer full) (nullable): the wrapped code, %NULL without plot capture
 *
 * Since: 0.1
 */

/* Optional methods stay NULL here: the wrappers supply the defaults. */
static void
llmsbx_language_handler_default_init (LlmsbxLanguageHandlerInterface *iface)
{
}

/**
 * llmsbx_language_handler_get_name:
 * @self: a #LlmsbxLanguageHandler
 *
 * Gets the identifier of the language, the value of a session's `lang`.
 *
 * Returns: (transfer full): the language identifier, lower case
 *
 * Since: 0.1
 */
char *
llmsbx_language_handler_get_name (LlmsbxLanguageHandler *self)
{
  LlmsbxLanguageHandlerInterface *iface;

  g_return_val_if_fail (LLMSBX_IS_LANGUAGE_HANDLER (self), NULL);

  iface = LLMSBX_LANGUAGE_HANDLER_GET_IFACE (self);
  g_return_val_if_fail (iface->get_name != NULL, NULL);

  return iface->get_name (self);
}

/**
 * llmsbx_language_handler_get_file_extension:
 * @self: a #LlmsbxLanguageHandler
 *
 * Gets the extension given to code files, without the dot (`py`).
 *
 * Returns: (transfer full): the file extension
 *
 * Since: 0.1
 */
char *
llmsbx_language_handler_get_file_extension (LlmsbxLanguageHandler *self)
{
  LlmsbxLanguageHandlerInterface *iface;

  g_return_val_if_fail (LLMSBX_IS_LANGUAGE_HANDLER (self), NULL);

  iface = LLMSBX_LANGUAGE_HANDLER_GET_IFACE (self);
  g_return_val_if_fail (iface->get_file_extension != NULL, NULL);

  return iface->get_file_extension (self);
}

/**
 * llmsbx_language_handler_get_default_image:
 * @self: a #LlmsbxLanguageHandler
 *
 * Gets the image a session uses when it names none.
 *
 * Returns: (transfer full) (nullable): the image, or %NULL when the language
 *   has no default and the session must name one
 *
 * Since: 0.1
 */
char *
llmsbx_language_handler_get_default_image (LlmsbxLanguageHandler *self)
{
  LlmsbxLanguageHandlerInterface *iface;

  g_return_val_if_fail (LLMSBX_IS_LANGUAGE_HANDLER (self), NULL);

  iface = LLMSBX_LANGUAGE_HANDLER_GET_IFACE (self);
  if (iface->get_default_image == NULL)
    return NULL;

  return iface->get_default_image (self);
}

/**
 * llmsbx_language_handler_get_setup_commands:
 * @self: a #LlmsbxLanguageHandler
 * @context: the sandbox the commands are for
 *
 * Gets the command templates that prepare the language environment, run once
 * before the first command that needs it (see
 * llmsbx_expand_command_template()).
 *
 * Returns: (transfer full) (array zero-terminated=1): the command templates,
 *   possibly none
 *
 * Since: 0.1
 */
char **
llmsbx_language_handler_get_setup_commands (LlmsbxLanguageHandler *self,
                                            LlmsbxRuntimeContext  *context)
{
  LlmsbxLanguageHandlerInterface *iface;
  char **commands;

  g_return_val_if_fail (LLMSBX_IS_LANGUAGE_HANDLER (self), NULL);
  g_return_val_if_fail (LLMSBX_IS_RUNTIME_CONTEXT (context), NULL);

  iface = LLMSBX_LANGUAGE_HANDLER_GET_IFACE (self);
  commands = iface->get_setup_commands != NULL ? iface->get_setup_commands (self, context) : NULL;

  /* A handler from a binding may answer None; callers always get an array. */
  return commands != NULL ? commands : g_new0 (char *, 1);
}

/**
 * llmsbx_language_handler_get_run_commands:
 * @self: a #LlmsbxLanguageHandler
 * @context: the sandbox the commands are for
 *
 * Gets the command templates that run a code file `{file}`: they run in order,
 * stopping at the first that fails (a compile step, then the program).
 *
 * Returns: (transfer full) (array zero-terminated=1): the command templates
 *
 * Since: 0.1
 */
char **
llmsbx_language_handler_get_run_commands (LlmsbxLanguageHandler *self,
                                          LlmsbxRuntimeContext  *context)
{
  LlmsbxLanguageHandlerInterface *iface;
  char **commands;

  g_return_val_if_fail (LLMSBX_IS_LANGUAGE_HANDLER (self), NULL);
  g_return_val_if_fail (LLMSBX_IS_RUNTIME_CONTEXT (context), NULL);

  iface = LLMSBX_LANGUAGE_HANDLER_GET_IFACE (self);
  g_return_val_if_fail (iface->get_run_commands != NULL, NULL);

  commands = iface->get_run_commands (self, context);
  return commands != NULL ? commands : g_new0 (char *, 1);
}

/**
 * llmsbx_language_handler_get_install_command:
 * @self: a #LlmsbxLanguageHandler
 * @context: the sandbox the command is for
 *
 * Gets the command template that installs one library `{library}`.
 *
 * Returns: (transfer full) (nullable): the command template, or %NULL when the
 *   language cannot install libraries
 *
 * Since: 0.1
 */
char *
llmsbx_language_handler_get_install_command (LlmsbxLanguageHandler *self,
                                             LlmsbxRuntimeContext  *context)
{
  LlmsbxLanguageHandlerInterface *iface;

  g_return_val_if_fail (LLMSBX_IS_LANGUAGE_HANDLER (self), NULL);
  g_return_val_if_fail (LLMSBX_IS_RUNTIME_CONTEXT (context), NULL);

  iface = LLMSBX_LANGUAGE_HANDLER_GET_IFACE (self);
  if (iface->get_install_command == NULL)
    return NULL;

  return iface->get_install_command (self, context);
}

/**
 * llmsbx_language_handler_supports_library_installation:
 * @self: a #LlmsbxLanguageHandler
 * @context: the sandbox the libraries would go to
 *
 * Tells whether libraries can be installed, that is whether the handler has
 * an install command.
 *
 * Returns: %TRUE when libraries can be installed
 *
 * Since: 0.1
 */
gboolean
llmsbx_language_handler_supports_library_installation (LlmsbxLanguageHandler *self,
                                                       LlmsbxRuntimeContext  *context)
{
  g_autofree char *command = NULL;

  g_return_val_if_fail (LLMSBX_IS_LANGUAGE_HANDLER (self), FALSE);
  g_return_val_if_fail (LLMSBX_IS_RUNTIME_CONTEXT (context), FALSE);

  command = llmsbx_language_handler_get_install_command (self, context);
  return command != NULL;
}

/**
 * llmsbx_language_handler_get_import_pattern:
 * @self: a #LlmsbxLanguageHandler
 * @module: a module name, taken literally
 *
 * Gets a regular expression (PCRE, as #GRegex reads it) matching code that
 * imports @module; the security policy uses it to refuse restricted modules.
 *
 * Returns: (transfer full) (nullable): the regular expression, or %NULL when
 *   the language cannot tell
 *
 * Since: 0.1
 */
char *
llmsbx_language_handler_get_import_pattern (LlmsbxLanguageHandler *self,
                                            const char            *module)
{
  LlmsbxLanguageHandlerInterface *iface;

  g_return_val_if_fail (LLMSBX_IS_LANGUAGE_HANDLER (self), NULL);
  g_return_val_if_fail (module != NULL, NULL);

  iface = LLMSBX_LANGUAGE_HANDLER_GET_IFACE (self);
  if (iface->get_import_pattern == NULL)
    return NULL;

  return iface->get_import_pattern (self, module);
}

/**
 * llmsbx_language_handler_strip_comments:
 * @self: a #LlmsbxLanguageHandler
 * @code: source code
 *
 * Removes the comments from @code, keeping string literals (see
 * llmsbx_strip_comments()). Handlers that do not know their comment syntax
 * return @code unchanged.
 *
 * Returns: (transfer full): @code without its comments
 *
 * Since: 0.1
 */
char *
llmsbx_language_handler_strip_comments (LlmsbxLanguageHandler *self,
                                        const char            *code)
{
  LlmsbxLanguageHandlerInterface *iface;
  char *stripped;

  g_return_val_if_fail (LLMSBX_IS_LANGUAGE_HANDLER (self), NULL);
  g_return_val_if_fail (code != NULL, NULL);

  iface = LLMSBX_LANGUAGE_HANDLER_GET_IFACE (self);
  stripped = iface->strip_comments != NULL ? iface->strip_comments (self, code) : NULL;

  /* Scanning the code with its comments is the safe fallback. */
  return stripped != NULL ? stripped : g_strdup (code);
}

typedef enum {
  PLACEHOLDER_FILE,
  PLACEHOLDER_WORKDIR,
  PLACEHOLDER_LIBRARY,
} Placeholder;

static const char * const placeholder_names[] = { "{file}", "{workdir}", "{library}" };

/* Replaces the placeholders in one word in a single pass, so text that a value
 * brings in is never read as a placeholder. */
static char *
expand_word (const char   *template_,
             const char   *word,
             const char  **values,
             GError      **error)
{
  g_autoptr(GString) out = g_string_sized_new (strlen (word));
  const char *p = word;

  while (*p != '\0')
    {
      gboolean replaced = FALSE;

      if (*p == '{')
        for (guint i = 0; i < G_N_ELEMENTS (placeholder_names) && !replaced; i++)
          {
            gsize len = strlen (placeholder_names[i]);

            if (strncmp (p, placeholder_names[i], len) != 0)
              continue;
            if (values[i] == NULL)
              {
                g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
                             "Command template '%s' uses %s, but no value was given for it",
                             template_, placeholder_names[i]);
                return NULL;
              }
            g_string_append (out, values[i]);
            p += len;
            replaced = TRUE;
          }

      if (!replaced)
        {
          g_string_append_c (out, *p);
          p++;
        }
    }

  return g_string_free (g_steal_pointer (&out), FALSE);
}

/**
 * llmsbx_expand_command_template:
 * @template_: a command template, trusted (it comes from a language handler)
 * @file: (nullable): the value of `{file}`
 * @workdir: (nullable): the value of `{workdir}`
 * @library: (nullable): the value of `{library}`
 * @error: return location for a #GError
 *
 * Turns a command template into an argument vector. The template is first split
 * into words as a shell would (quotes and backslashes respected, nothing
 * expanded), and only then are `{file}`, `{workdir}` and `{library}` replaced
 * inside each word. A value therefore stays inside its word whatever it holds
 * (spaces, quotes, `;`, `$(...)`), and no shell ever reads it.
 *
 * A placeholder inside the script of `sh -c '...'` would be read by that shell:
 * pass values as positional parameters instead (`sh -c 'cd "$1"' sh {workdir}`).
 * Braces that name no placeholder (`{1..3}`) are left as they are.
 *
 * Fails with %LLMSBX_ERROR_COMMAND_EMPTY when the template has no words, and with
 * %LLMSBX_ERROR_INVALID_ARGUMENT when it cannot be split or uses a placeholder
 * whose value is %NULL.
 *
 * Returns: (transfer full) (array zero-terminated=1): the argument vector, or
 *   %NULL on error
 *
 * Since: 0.1
 */
char **
llmsbx_expand_command_template (const char  *template_,
                                const char  *file,
                                const char  *workdir,
                                const char  *library,
                                GError     **error)
{
  const char *values[] = { [PLACEHOLDER_FILE] = file,
                           [PLACEHOLDER_WORKDIR] = workdir,
                           [PLACEHOLDER_LIBRARY] = library };
  g_auto(GStrv) words = NULL;
  g_autoptr(GPtrArray) argv = NULL;
  g_autoptr(GError) local_error = NULL;
  int n_words = 0;

  g_return_val_if_fail (template_ != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!g_shell_parse_argv (template_, &n_words, &words, &local_error))
    {
      if (g_error_matches (local_error, G_SHELL_ERROR, G_SHELL_ERROR_EMPTY_STRING))
        g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_COMMAND_EMPTY,
                     "Command template '%s' has no command", template_);
      else
        g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
                     "Cannot split command template '%s': %s",
                     template_, local_error->message);
      return NULL;
    }

  argv = g_ptr_array_new_full (n_words + 1, g_free);
  for (int i = 0; i < n_words; i++)
    {
      char *word = expand_word (template_, words[i], values, error);

      if (word == NULL)
        return NULL;
      g_ptr_array_add (argv, word);
    }
  g_ptr_array_add (argv, NULL);

  return (char **) g_ptr_array_free (g_steal_pointer (&argv), FALSE);
}

/**
 * llmsbx_language_handler_get_security_catalogue:
 * @self: a #LlmsbxLanguageHandler
 * @category: what the patterns and modules give code access to
 *
 * Gets the language's dangerous code of one @category (running commands,
 * evaluating code, opening sockets, ...): patterns of code, and modules code
 * must not import (matched with llmsbx_language_handler_get_import_pattern()),
 * held in a policy whose threshold means nothing. Each #LlmsbxSecurityPreset
 * takes the categories it blocks from the handler of its language and gives
 * them its own severity (the severities in the catalogue are the handler's
 * suggestion), so the presets work for every language with a handler,
 * including one an application registers, in C or through introspection.
 *
 * The patterns are matched against code whose comments
 * llmsbx_language_handler_strip_comments() removed. A handler whose
 * catalogue is empty in every category gets
 * %LLMSBX_ERROR_LANGUAGE_NOT_SUPPORTED from llmsbx_get_security_preset().
 *
 * Returns: (transfer full) (nullable): a new policy holding the patterns and
 *   modules of @category, or %NULL when the language has none
 *
 * Since: 0.1
 */
LlmsbxSecurityPolicy *
llmsbx_language_handler_get_security_catalogue (LlmsbxLanguageHandler  *self,
                                                LlmsbxSecurityCategory  category)
{
  LlmsbxLanguageHandlerInterface *iface;
  LlmsbxSecurityPolicy *catalogue;

  g_return_val_if_fail (LLMSBX_IS_LANGUAGE_HANDLER (self), NULL);
  g_return_val_if_fail ((guint) category < LLMSBX_SECURITY_N_CATEGORIES, NULL);

  iface = LLMSBX_LANGUAGE_HANDLER_GET_IFACE (self);
  if (iface->get_security_catalogue == NULL)
    return NULL;

  catalogue = iface->get_security_catalogue (self, category);
  /* A binding may hand back anything. */
  if (catalogue != NULL && !LLMSBX_IS_SECURITY_POLICY (catalogue))
    {
      g_warning ("The %s handler's security catalogue is not a LlmsbxSecurityPolicy; it is left out",
                 G_OBJECT_TYPE_NAME (self));
      return NULL;
    }
  return catalogue;
}

/**
 * llmsbx_language_handler_get_security_patterns:
 * @self: a #LlmsbxLanguageHandler
 * @category: what the patterns look for
 *
 * Gets the patterns of the language's catalogue of @category (see
 * llmsbx_language_handler_get_security_catalogue()).
 *
 * Returns: (transfer container) (element-type LlmsbxSecurityPattern): the
 *   patterns, possibly none; the array holds a reference to each
 *
 * Since: 0.1
 */
GPtrArray *
llmsbx_language_handler_get_security_patterns (LlmsbxLanguageHandler  *self,
                                               LlmsbxSecurityCategory  category)
{
  g_autoptr(LlmsbxSecurityPolicy) catalogue = llmsbx_language_handler_get_security_catalogue (self, category);

  if (catalogue == NULL)
    return g_ptr_array_new_with_free_func (g_object_unref);
  return llmsbx_security_policy_get_patterns (catalogue);
}

/**
 * llmsbx_language_handler_get_restricted_modules:
 * @self: a #LlmsbxLanguageHandler
 * @category: what the modules give access to
 *
 * Gets the restricted modules of the language's catalogue of @category (see
 * llmsbx_language_handler_get_security_catalogue()).
 *
 * Returns: (transfer container) (element-type LlmsbxRestrictedModule): the
 *   modules, possibly none; the array holds a reference to each
 *
 * Since: 0.1
 */
GPtrArray *
llmsbx_language_handler_get_restricted_modules (LlmsbxLanguageHandler  *self,
                                                LlmsbxSecurityCategory  category)
{
  g_autoptr(LlmsbxSecurityPolicy) catalogue = llmsbx_language_handler_get_security_catalogue (self, category);

  if (catalogue == NULL)
    return g_ptr_array_new_with_free_func (g_object_unref);
  return llmsbx_security_policy_get_restricted_modules (catalogue);
}

/**
 * llmsbx_language_handler_get_hardened_environment:
 * @self: a #LlmsbxLanguageHandler
 * @context: the sandbox the variables are for
 *
 * Gets the environment variables the language's tools need in a hardened
 * sandbox, as the security presets make it: a read-only root, `/tmp` where
 * nothing may run, only the working directory writable and executable. Go,
 * for one, links programs in `GOTMPDIR` and runs them from there. The presets
 * add these to their runtime configs.
 *
 * Returns: (transfer full) (array zero-terminated=1): `NAME=value` entries,
 *   possibly none
 *
 * Since: 0.1
 */
char **
llmsbx_language_handler_get_hardened_environment (LlmsbxLanguageHandler *self,
                                                  LlmsbxRuntimeContext  *context)
{
  LlmsbxLanguageHandlerInterface *iface;
  char **environment;

  g_return_val_if_fail (LLMSBX_IS_LANGUAGE_HANDLER (self), NULL);
  g_return_val_if_fail (LLMSBX_IS_RUNTIME_CONTEXT (context), NULL);

  iface = LLMSBX_LANGUAGE_HANDLER_GET_IFACE (self);
  environment = iface->get_hardened_environment != NULL ? iface->get_hardened_environment (self, context) : NULL;
  return environment != NULL ? environment : g_new0 (char *, 1);
}

/**
 * llmsbx_language_handler_wrap_for_artifacts:
 * @self: a #LlmsbxLanguageHandler
 * @code: source code in the language (UTF-8)
 * @plots_dir: an absolute directory in the sandbox, which exists when the code runs
 *
 * Gets @code wrapped with the language's plot capture: run in place of
 * @code, it saves every plot the code makes into @plots_dir, as files whose
 * names sort in the order it made them and whose extensions name their
 * formats (`000001.png`, `000002.html`), and otherwise behaves as @code:
 * the same output, the same errors with the same line numbers, the same exit
 * status. #LlmsbxArtifactSandboxSession runs code through it and fetches
 * the directory afterwards.
 *
 * Returns: (transfer full) (nullable): the wrapped code, or %NULL when the
 *   language has no plot capture (its code then runs as it is)
 *
 * Since: 0.1
 */
char *
llmsbx_language_handler_wrap_for_artifacts (LlmsbxLanguageHandler *self,
                                            const char            *code,
                                            const char            *plots_dir)
{
  LlmsbxLanguageHandlerInterface *iface;

  g_return_val_if_fail (LLMSBX_IS_LANGUAGE_HANDLER (self), NULL);
  g_return_val_if_fail (code != NULL, NULL);
  g_return_val_if_fail (plots_dir != NULL, NULL);

  iface = LLMSBX_LANGUAGE_HANDLER_GET_IFACE (self);
  return iface->wrap_for_artifacts != NULL ? iface->wrap_for_artifacts (self, code, plots_dir) : NULL;
}
