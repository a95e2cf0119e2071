/* llmsbx-gc.c: `llmsbx gc`, removing the sandboxes of processes that are gone.
 *
 * The work is llmsbx_reap_sandboxes()'s; this file chooses the backends
 * (every one that answers, or the one named), reads the options and prints
 * one line per sandbox. A backend that does not answer is skipped, with a
 * note, unless it was named: then it is the error. */
#include <string.h>

#include <llmsbx.h>

#include "llmsbx-tool.h"

/* "90", "90s", "15m", "2h", "7d" as seconds; -1 when it is not a duration. */
static gint64
parse_duration (const char *text)
{
  static const struct { char suffix; gint64 seconds; } units[] = {
    { 's', 1 }, { 'm', 60 }, { 'h', 3600 }, { 'd', 86400 },
  };
  g_autofree char *number = g_strdup (text);
  gsize length = strlen (number);
  gint64 factor = 1;
  guint64 value;

  if (length == 0)
    return -1;
  for (guint i = 0; i < G_N_ELEMENTS (units); i++)
    if (number[length - 1] == units[i].suffix)
      {
        factor = units[i].seconds;
        number[length - 1] = '\0';
        break;
      }
  if (!g_ascii_string_to_unsigned (number, 10, 0, G_MAXINT64 / 86400, &value, NULL))
    return -1;
  return (gint64) value * factor;
}

static const char *
label_or (const LlmsbxSandboxInfo *info,
          const char              *key,
          const char              *fallback)
{
  const char *value = llmsbx_sandbox_info_get_label (info, key);

  return value != NULL ? value : fallback;
}

/* Reaps one backend and prints what went; FALSE when something failed. */
static gboolean
gc_backend (LlmsbxBackend      *backend,
            const char * const *selector,
            gint64              older_than,
            gboolean            dry_run)
{
  g_autoptr(GPtrArray) reaped = NULL;
  g_autoptr(GError) error = NULL;
  gboolean ok;

  ok = llmsbx_reap_sandboxes (backend, selector, older_than,
                              dry_run ? LLMSBX_REAP_FLAGS_DRY_RUN : LLMSBX_REAP_FLAGS_NONE,
                              &reaped, NULL, &error);
  for (guint i = 0; reaped != NULL && i < reaped->len; i++)
    {
      LlmsbxSandboxInfo *info = g_ptr_array_index (reaped, i);

      g_print ("%s %s %.12s (session %s, owner pid %s on %s%s)\n",
               dry_run ? "would remove" : "removed", llmsbx_backend_get_name (backend), info->id,
               label_or (info, "io.llmsbx.session", "unknown"),
               label_or (info, LLMSBX_LABEL_OWNER_PID, "unknown"),
               label_or (info, LLMSBX_LABEL_OWNER_HOST, "unknown host"),
               llmsbx_sandbox_info_owner_is_gone (info) ? ", gone" : ", running, too old");
    }
  if (!ok)
    llmsbx_tool_fail (error);
  return ok;
}

int
llmsbx_tool_gc (int    argc,
                char **argv)
{
  g_autoptr(GOptionContext) context = g_option_context_new (NULL);
  g_autofree char *backend_name = NULL;
  g_autofree char *older_text = NULL;
  g_auto(GStrv) selector = NULL;
  g_auto(GStrv) names = NULL;
  gboolean dry_run = FALSE;
  gint64 older_than = -1;
  gboolean ok = TRUE;
  const GOptionEntry entries[] = {
    { "backend", 'b', 0, G_OPTION_ARG_STRING, &backend_name, "Only this backend (default: every one that answers)", "NAME" },
    { "older-than", 0, 0, G_OPTION_ARG_STRING, &older_text,
      "Also remove sandboxes older than this, even of running processes (90, 90s, 15m, 2h, 7d)", "DURATION" },
    { "dry-run", 'n', 0, G_OPTION_ARG_NONE, &dry_run, "Only print what would be removed", NULL },
    { "label", 'l', 0, G_OPTION_ARG_STRING_ARRAY, &selector, "Only sandboxes with this label (repeatable)", "KEY[=VALUE]" },
    G_OPTION_ENTRY_NULL
  };
  LlmsbxRegistry *registry;

  g_option_context_set_summary (context,
                                "Removes the sandboxes that libllmsbx created for processes that are gone\n"
                                "(their labels name the host, process id and start time of their owner),\n"
                                "on every backend that answers, and prints one line for each.");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!llmsbx_tool_parse_options (context, &argc, &argv))
    return LLMSBX_TOOL_EXIT_USAGE;
  if (argc > 1)
    return llmsbx_tool_usage_error (argv[0], "unexpected argument '%s'", argv[1]);
  if (older_text != NULL && (older_than = parse_duration (older_text)) < 0)
    return llmsbx_tool_usage_error (argv[0], "--older-than must be a duration such as 90s, 15m, 2h or 7d");

  registry = llmsbx_registry_get_default ();
  if (backend_name != NULL)
    names = g_strdupv ((char *[]) { backend_name, NULL });
  else
    names = llmsbx_registry_list_backends (registry);

  for (guint i = 0; names[i] != NULL; i++)
    {
      g_autoptr(LlmsbxBackend) backend = NULL;
      g_autoptr(GError) error = NULL;

      backend = llmsbx_registry_create_backend (registry, names[i], &error);
      if (backend != NULL && backend_name == NULL && !llmsbx_backend_probe (backend, NULL, &error))
        {
          g_printerr ("llmsbx gc: skipping %s: %s\n", names[i], error->message);
          continue;
        }
      if (backend == NULL || !llmsbx_backend_connect (backend, NULL, &error))
        {
          llmsbx_tool_fail (error);
          ok = FALSE;
          continue;
        }
      if (!gc_backend (backend, (const char * const *) selector, older_than, dry_run))
        ok = FALSE;
    }

  return ok ? EXIT_SUCCESS : LLMSBX_TOOL_EXIT_FAILURE;
}
