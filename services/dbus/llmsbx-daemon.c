/* llmsbx-daemon.c: llmsbx-daemon, sandboxes for the desktop on the session bus.
 *
 * Owns org.llmsbx.Sandbox1 (started by the bus through its service file, or
 * by hand) and serves it until it has had no session for --idle-exit
 * seconds, a signal comes, or the bus goes away. Whichever it is, every
 * sandbox is removed before it exits: the connection does not exit the
 * process when it closes, as GDBus's shared connections otherwise do. */
#include <locale.h>
#include <signal.h>

#include "llmsbx-dbus-errors.h"
#include "llmsbx-sandbox-service.h"
#include "llmsbx-service-options.h"
#include "llmsbx-service-signals.h"

#define BUS_NAME "org.llmsbx.Sandbox1"
#define DEFAULT_IDLE_EXIT 60.0
#define DEFAULT_MAX_COPY_SIZE (64 * 1024 * 1024)

typedef struct {
  GMainLoop            *loop;
  LlmsbxSessionTable   *table;
  LlmsbxSandboxService *service;
  guint                 owner_id;
  gboolean              acquired;
  gboolean              stopping;
  double                idle_exit;
  guint                 idle_source;
  int                   status;
} Daemon;

static void
on_shut_down (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  Daemon *daemon = user_data;

  llmsbx_session_table_shutdown_finish (daemon->table, result, NULL);
  g_main_loop_quit (daemon->loop);
}

/* Off the bus first, so that callers activate a new daemon rather than
 * reach this one, then every sandbox goes. */
static void
stop_daemon (gpointer data,
             gpointer unused)
{
  Daemon *daemon = data;

  if (daemon->stopping)
    return;
  daemon->stopping = TRUE;
  g_clear_handle_id (&daemon->idle_source, g_source_remove);
  llmsbx_sandbox_service_unexport (daemon->service);
  /* A name never acquired is not released: the bus would say so, loudly. */
  if (daemon->acquired)
    g_clear_handle_id (&daemon->owner_id, g_bus_unown_name);
  llmsbx_session_table_shutdown_async (daemon->table, on_shut_down, daemon);
}

static gboolean
on_idle_exit (gpointer user_data)
{
  Daemon *daemon = user_data;

  daemon->idle_source = 0;
  g_debug ("no session for %g s: exiting", daemon->idle_exit);
  stop_daemon (daemon, NULL);
  return G_SOURCE_REMOVE;
}

static void
update_idle_exit (Daemon *daemon)
{
  gboolean idle = llmsbx_session_table_get_idle (daemon->table);

  if (!idle || !daemon->acquired || daemon->stopping || daemon->idle_exit <= 0)
    {
      g_clear_handle_id (&daemon->idle_source, g_source_remove);
      return;
    }
  if (daemon->idle_source == 0)
    daemon->idle_source = g_timeout_add ((guint) MIN (daemon->idle_exit * 1000, G_MAXUINT), on_idle_exit, daemon);
}

static void
on_idle_changed (GObject    *table,
                 GParamSpec *pspec,
                 gpointer    user_data)
{
  update_idle_exit (user_data);
}

static void
on_bus_acquired (GDBusConnection *connection,
                 const char      *name,
                 gpointer         user_data)
{
  Daemon *daemon = user_data;
  g_autoptr(GError) error = NULL;

  /* The bus going away must not end the process before its sandboxes. */
  g_dbus_connection_set_exit_on_close (connection, FALSE);
  if (!llmsbx_sandbox_service_export (daemon->service, connection, &error))
    {
      g_printerr ("llmsbx-daemon: %s\n", error->message);
      daemon->status = EXIT_FAILURE;
      stop_daemon (daemon, NULL);
    }
}

static void
on_name_acquired (GDBusConnection *connection,
                  const char      *name,
                  gpointer         user_data)
{
  Daemon *daemon = user_data;

  daemon->acquired = TRUE;
  g_debug ("serving %s", name);
  update_idle_exit (daemon);
}

static void
on_name_lost (GDBusConnection *connection,
              const char      *name,
              gpointer         user_data)
{
  Daemon *daemon = user_data;

  if (!daemon->acquired)
    {
      if (connection == NULL)
        g_printerr ("llmsbx-daemon: cannot connect to the session bus (is DBUS_SESSION_BUS_ADDRESS set?)\n");
      else
        g_printerr ("llmsbx-daemon: %s is owned by another process already\n", name);
      daemon->status = EXIT_FAILURE;
    }
  else
    g_message ("lost %s (the bus went away?): closing every session", name);
  stop_daemon (daemon, NULL);
}

static int
usage_error (const char *message)
{
  g_printerr ("llmsbx-daemon: %s\nTry 'llmsbx-daemon --help' for more information.\n", message);
  return 2;
}

int
main (int    argc,
      char **argv)
{
  g_autoptr(LlmsbxServiceOptions) table_options = llmsbx_service_options_new ("LLMSBX_DAEMON_");
  g_autofree char *idle_exit_option = NULL;
  g_autofree char *max_copy_size_option = NULL;
  gboolean version = FALSE;
  const GOptionEntry entries[] = {
    { "idle-exit", 0, 0, G_OPTION_ARG_STRING, &idle_exit_option,
      "Exit after this long without a session; 0 for never (default: 60)", "SECONDS" },
    { "max-copy-size", 0, 0, G_OPTION_ARG_STRING, &max_copy_size_option,
      "Bytes CopyTo and CopyFrom take (default: 67108864)", "BYTES" },
    { "version", 0, 0, G_OPTION_ARG_NONE, &version, "Show the version and exit", NULL },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr(GOptionContext) context = g_option_context_new (NULL);
  g_autoptr(GMainLoop) loop = NULL;
  g_autoptr(LlmsbxSessionTable) table = NULL;
  g_autoptr(LlmsbxSandboxService) service = NULL;
  g_autoptr(GError) error = NULL;
  guint64 max_copy_size = DEFAULT_MAX_COPY_SIZE;
  g_autoptr(LlmsbxServiceSignals) signals = NULL;
  Daemon daemon = { 0 };

  setlocale (LC_ALL, "");
  g_option_context_set_summary (context,
    "Serves org.llmsbx.Sandbox1 on the session bus: its callers open sandbox sessions,\n"
    "run code and copy files through them. A session is its opener's alone, and is\n"
    "closed when its opener leaves the bus.");
  g_option_context_set_description (context,
    "Every flag has an environment variable LLMSBX_DAEMON_<FLAG> (upper case, '_' for\n"
    "'-'), used when the flag is not given: LLMSBX_DAEMON_IDLE_EXIT, ... The bus\n"
    "starts the daemon with the environment of the bus. See docs/dbus.md.");
  g_option_context_add_main_entries (context, entries, NULL);
  llmsbx_service_options_add_entries (table_options, context);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    return usage_error (error->message);
  if (version)
    {
      g_print ("llmsbx-daemon %s\n", LLMSBX_VERSION_S);
      return EXIT_SUCCESS;
    }
  if (argc > 1)
    return usage_error ("this program takes no arguments");

  signal (SIGPIPE, SIG_IGN);
  llmsbx_dbus_errors_register ();

  daemon.idle_exit = DEFAULT_IDLE_EXIT;
  table = llmsbx_session_table_new ();
  if (!llmsbx_service_options_apply (table_options, table, &error) ||
      !llmsbx_service_options_get_seconds (table_options, idle_exit_option, "IDLE_EXIT", &daemon.idle_exit, &error) ||
      !llmsbx_service_options_get_count (table_options, max_copy_size_option, "MAX_COPY_SIZE",
                                         G_MAXINT64, &max_copy_size, &error))
    return usage_error (error->message);

  /* What a daemon that died before left behind goes first; a backend that
   * cannot be searched now is the clients' error later, not a reason to stop. */
  {
    g_autoptr(GError) reap_error = NULL;
    guint reaped = 0;

    if (!llmsbx_session_table_reap (table, &reaped, &reap_error))
      g_printerr ("llmsbx-daemon: warning: removing the sandboxes of processes that are gone: %s\n",
                  reap_error->message);
    if (reaped > 0)
      g_printerr ("llmsbx-daemon: removed %u sandboxes of processes that are gone\n", reaped);
  }

  loop = g_main_loop_new (NULL, FALSE);
  service = llmsbx_sandbox_service_new (table, (goffset) max_copy_size);
  daemon.loop = loop;
  daemon.table = table;
  daemon.service = service;
  g_signal_connect (table, "notify::idle", G_CALLBACK (on_idle_changed), &daemon);

  daemon.owner_id = g_bus_own_name (G_BUS_TYPE_SESSION, BUS_NAME, G_BUS_NAME_OWNER_FLAGS_DO_NOT_QUEUE,
                                    on_bus_acquired, on_name_acquired, on_name_lost, &daemon, NULL);

  signals = llmsbx_service_signals_new ("llmsbx-daemon", stop_daemon, &daemon);
  g_main_loop_run (loop);
  g_clear_pointer (&signals, llmsbx_service_signals_free);
  g_signal_handlers_disconnect_by_data (table, &daemon);
  return daemon.status;
}
