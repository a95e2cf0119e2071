/* llmsbx-service-options.c: the flags and environment variables both services take.
 *
 * Each setting of the session table is a flag (`--max-sandboxes`) and a
 * variable of the service's prefix (`LLMSBX_MCP_MAX_SANDBOXES`); a flag wins
 * over its variable, and either over the table's safe default. A bad value
 * is refused at start, naming where it came from. */
#include <math.h>

#include "llmsbx-service-options.h"

struct _LlmsbxServiceOptions
{
  char         *prefix;
  char         *backend;
  char         *preset;
  gboolean      allow_network;
  char         *runtime_configs;
  char         *max_sandboxes;
  char         *max_sessions;
  char         *idle_timeout;
  char         *timeout;
  char         *max_timeout;
  char         *output_limit;
  gboolean      verbose;
  GOptionEntry *entries;
};

/**
 * llmsbx_service_options_new:
 * @env_prefix: the service's variables' prefix, `LLMSBX_MCP_` or `LLMSBX_DAEMON_`
 *
 * Returns: (transfer full): the options, to add to a #GOptionContext
 */
LlmsbxServiceOptions *
llmsbx_service_options_new (const char *env_prefix)
{
  LlmsbxServiceOptions *self = g_new0 (LlmsbxServiceOptions, 1);
  const GOptionEntry entries[] = {
    { "backend", 'b', 0, G_OPTION_ARG_STRING, &self->backend, "Sandbox backend (default: LLMSBX_BACKEND, else the first engine that answers)", "BACKEND" },
    { "preset", 'p', 0, G_OPTION_ARG_STRING, &self->preset,
      "Security preset of every sandbox, or none (default: production)", "PRESET" },
    { "allow-network", 0, 0, G_OPTION_ARG_NONE, &self->allow_network,
      "Give sandboxes the network their preset and runtime configs name (default: none)", NULL },
    { "runtime-configs", 'r', 0, G_OPTION_ARG_STRING, &self->runtime_configs,
      "Container settings of every sandbox as a JSON object, over the preset's", "JSON" },
    { "max-sandboxes", 0, 0, G_OPTION_ARG_STRING, &self->max_sandboxes,
      "Sandboxes at once (default: 4)", "N" },
    { "max-sessions", 0, 0, G_OPTION_ARG_STRING, &self->max_sessions,
      "Sessions one client may hold (default: 4)", "N" },
    { "idle-timeout", 0, 0, G_OPTION_ARG_STRING, &self->idle_timeout,
      "Close a session unused this long; 0 for never (default: 600)", "SECONDS" },
    { "timeout", 't', 0, G_OPTION_ARG_STRING, &self->timeout,
      "Seconds a run may take when its caller names none (default: 30)", "SECONDS" },
    { "max-timeout", 0, 0, G_OPTION_ARG_STRING, &self->max_timeout,
      "The longest timeout a caller may ask for (default: 300)", "SECONDS" },
    { "output-limit", 0, 0, G_OPTION_ARG_STRING, &self->output_limit,
      "Bytes of each output stream a run keeps (default: 1048576)", "BYTES" },
    { "verbose", 'v', 0, G_OPTION_ARG_NONE, &self->verbose, "Log what the sessions do to stderr", NULL },
    G_OPTION_ENTRY_NULL
  };

  self->prefix = g_strdup (env_prefix);
  self->entries = g_memdup2 (entries, sizeof entries);
  return self;
}

void
llmsbx_service_options_free (LlmsbxServiceOptions *self)
{
  if (self == NULL)
    return;
  g_free (self->prefix);
  g_free (self->backend);
  g_free (self->preset);
  g_free (self->runtime_configs);
  g_free (self->max_sandboxes);
  g_free (self->max_sessions);
  g_free (self->idle_timeout);
  g_free (self->timeout);
  g_free (self->max_timeout);
  g_free (self->output_limit);
  g_free (self->entries);
  g_free (self);
}

/**
 * llmsbx_service_options_add_entries:
 * @self: the options
 * @context: the command's option context
 *
 * Adds the table's flags; @self must outlive the parsing.
 */
void
llmsbx_service_options_add_entries (LlmsbxServiceOptions *self,
                                    GOptionContext       *context)
{
  g_option_context_add_main_entries (context, self->entries, NULL);
}

/* `MAX_SANDBOXES` → `--max-sandboxes`. */
static char *
flag_name (const char *name)
{
  g_autofree char *lower = g_ascii_strdown (name, -1);

  g_strdelimit (lower, "_", '-');
  return g_strconcat ("--", lower, NULL);
}

static void
prefix_origin (LlmsbxServiceOptions  *self,
               const char            *flag_value,
               const char            *name,
               GError               **error)
{
  g_autofree char *origin = flag_value ? flag_name (name) : g_strconcat (self->prefix, name, NULL);

  g_prefix_error (error, "%s: ", origin);
}

/**
 * llmsbx_service_options_get:
 * @self: the options
 * @flag_value: (nullable): the flag's value, if given
 * @name: the setting's name, upper case: `HTTP` for `--http` and `<prefix>HTTP`
 *
 * Returns: (nullable): the flag's value, else the variable's; %NULL when
 *   neither is given (an empty variable is not given)
 */
const char *
llmsbx_service_options_get (LlmsbxServiceOptions *self,
                            const char           *flag_value,
                            const char           *name)
{
  g_autofree char *variable = g_strconcat (self->prefix, name, NULL);
  const char *value = flag_value ? flag_value : g_getenv (variable);

  return value && *value ? value : NULL;
}

/**
 * llmsbx_service_options_get_count:
 * @self: the options
 * @flag_value: (nullable): the flag's value, if given
 * @name: the setting's name
 * @max: the largest value allowed
 * @count: (inout): the value; left alone when the setting is not given
 * @error: return location for a #GError
 *
 * Returns: %FALSE when the value is not a whole number from 1 to @max
 */
gboolean
llmsbx_service_options_get_count (LlmsbxServiceOptions  *self,
                                  const char            *flag_value,
                                  const char            *name,
                                  guint64                max,
                                  guint64               *count,
                                  GError               **error)
{
  const char *value = llmsbx_service_options_get (self, flag_value, name);

  if (value == NULL || g_ascii_string_to_unsigned (value, 10, 1, max, count, NULL))
    return TRUE;
  g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
               "'%s' is not a whole number from 1 to %" G_GUINT64_FORMAT, value, max);
  prefix_origin (self, flag_value, name, error);
  return FALSE;
}

/**
 * llmsbx_service_options_get_seconds:
 * @self: the options
 * @flag_value: (nullable): the flag's value, if given
 * @name: the setting's name
 * @seconds: (inout): the value; left alone when the setting is not given
 * @error: return location for a #GError
 *
 * Returns: %FALSE when the value is not a number of seconds, 0 or more
 */
gboolean
llmsbx_service_options_get_seconds (LlmsbxServiceOptions  *self,
                                    const char            *flag_value,
                                    const char            *name,
                                    double                *seconds,
                                    GError               **error)
{
  const char *value = llmsbx_service_options_get (self, flag_value, name);
  char *end = NULL;
  double parsed;

  if (value == NULL)
    return TRUE;
  parsed = g_ascii_strtod (value, &end);
  if (end != value && *end == '\0' && isfinite (parsed) && parsed >= 0)
    {
      *seconds = parsed;
      return TRUE;
    }
  g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, "'%s' is not a number of seconds", value);
  prefix_origin (self, flag_value, name, error);
  return FALSE;
}

static gboolean
get_boolean (LlmsbxServiceOptions  *self,
             gboolean               flag,
             const char            *name,
             gboolean              *value,
             GError               **error)
{
  const char *yes[] = { "1", "true", "yes", "on" };
  const char *no[] = { "0", "false", "no", "off" };
  const char *text = flag ? NULL : llmsbx_service_options_get (self, NULL, name);

  *value = flag;
  if (text == NULL)
    return TRUE;
  for (gsize i = 0; i < G_N_ELEMENTS (yes); i++)
    if (g_ascii_strcasecmp (text, yes[i]) == 0)
      return *value = TRUE, TRUE;
  for (gsize i = 0; i < G_N_ELEMENTS (no); i++)
    if (g_ascii_strcasecmp (text, no[i]) == 0)
      return TRUE;
  g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
               "'%s' is not a boolean (1, true, yes, on, 0, false, no, off)", text);
  prefix_origin (self, NULL, name, error);
  return FALSE;
}

static gboolean
get_positive_seconds (LlmsbxServiceOptions  *self,
                      const char            *flag_value,
                      const char            *name,
                      LlmsbxSessionTable    *table,
                      const char            *property,
                      GError               **error)
{
  double seconds = -1;

  if (!llmsbx_service_options_get_seconds (self, flag_value, name, &seconds, error))
    return FALSE;
  if (seconds < 0)
    return TRUE;
  if (seconds == 0 && !g_str_equal (property, "idle-timeout"))
    {
      g_set_error_literal (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, "a timeout must be above 0");
      prefix_origin (self, flag_value, name, error);
      return FALSE;
    }
  g_object_set (table, property, seconds, NULL);
  return TRUE;
}

/**
 * llmsbx_service_options_apply:
 * @self: the parsed options
 * @table: the service's table
 * @error: return location for a #GError
 *
 * Configures @table from the flags and variables, and checks the result
 * with llmsbx_session_table_check_config().
 *
 * Returns: %TRUE when every setting is valid
 */
gboolean
llmsbx_service_options_apply (LlmsbxServiceOptions  *self,
                              LlmsbxSessionTable    *table,
                              GError               **error)
{
  const char *value;
  guint64 count;
  gboolean flag;

  if ((value = llmsbx_service_options_get (self, self->backend, "BACKEND")))
    g_object_set (table, "backend", value, NULL);
  if ((value = llmsbx_service_options_get (self, self->preset, "PRESET")))
    g_object_set (table, "preset", value, NULL);

  if (!get_boolean (self, self->allow_network, "ALLOW_NETWORK", &flag, error))
    return FALSE;
  g_object_set (table, "allow-network", flag, NULL);
  if (!get_boolean (self, self->verbose, "VERBOSE", &flag, error))
    return FALSE;
  g_object_set (table, "verbose", flag, NULL);

  if ((value = llmsbx_service_options_get (self, self->runtime_configs, "RUNTIME_CONFIGS")) &&
      !llmsbx_session_table_set_runtime_configs_json (table, value, error))
    {
      prefix_origin (self, self->runtime_configs, "RUNTIME_CONFIGS", error);
      return FALSE;
    }

  count = 0;
  if (!llmsbx_service_options_get_count (self, self->max_sandboxes, "MAX_SANDBOXES", 1024, &count, error))
    return FALSE;
  if (count > 0)
    g_object_set (table, "max-sandboxes", (guint) count, NULL);
  count = 0;
  if (!llmsbx_service_options_get_count (self, self->max_sessions, "MAX_SESSIONS", 1024, &count, error))
    return FALSE;
  if (count > 0)
    g_object_set (table, "max-sessions-per-owner", (guint) count, NULL);
  count = 0;
  if (!llmsbx_service_options_get_count (self, self->output_limit, "OUTPUT_LIMIT", G_MAXUINT64, &count, error))
    return FALSE;
  if (count > 0)
    g_object_set (table, "output-limit", count, NULL);

  return get_positive_seconds (self, self->idle_timeout, "IDLE_TIMEOUT", table, "idle-timeout", error) &&
         get_positive_seconds (self, self->timeout, "TIMEOUT", table, "default-timeout", error) &&
         get_positive_seconds (self, self->max_timeout, "MAX_TIMEOUT", table, "max-timeout", error) &&
         llmsbx_session_table_check_config (table, error);
}
