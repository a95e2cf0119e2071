/* test-dbus.c: llmsbx-daemon on a private dbus-daemon that each test starts.
 *
 * The bus, a dbus-daemon of the test's own with a config of its own, knows
 * the daemon only from the service file of the build tree
 * (tests/services/activation/), so every test also checks that activation
 * works: no test starts the daemon itself. The bus dies with the test
 * (PR_SET_PDEATHSIG), so that a failed test leaves no bus, and then no
 * daemon, behind. The daemon takes its
 * configuration from the bus's environment, as an activated service does;
 * its sandboxes carry this run's label, found and counted with the engine's
 * CLI. Each connection here is a client of its own, with its own unique
 * name. After each test the bus goes, the daemon must exit, and no sandbox
 * of the run may remain. */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <gio/gio.h>
#include <gio/gunixfdlist.h>
#include <glib/gstdio.h>
#include <llmsbx.h>

#include "llmsbx-dbus-errors.h"
#include "llmsbx-service-error.h"

#define BUS_NAME "org.llmsbx.Sandbox1"
#define MANAGER_PATH "/org/llmsbx/Sandbox1"
#define MANAGER_IFACE "org.llmsbx.Sandbox1.Manager"
#define SESSION_IFACE "org.llmsbx.Sandbox1.Session"
#define RUN_LABEL "io.llmsbx.test-run"
#define DEADLINE_SECONDS 60

static char *run_id;

/* Sandboxes of this run ---------------------------------------------------- */

static guint
count_sandboxes (void)
{
  g_autofree char *filter = g_strdup_printf ("label=" RUN_LABEL "=%s", run_id);
  const char *argv[] = { "docker", "ps", "-aq", "--filter", filter, NULL };
  g_autofree char *out = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) lines = NULL;
  int status = 0;
  guint n = 0;

  g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDERR_TO_DEV_NULL,
                NULL, NULL, &out, NULL, &status, &error);
  g_assert_no_error (error);
  g_assert_true (g_spawn_check_wait_status (status, NULL));
  lines = g_strsplit (out, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    if (*lines[i] != '\0')
      n++;
  return n;
}

static void
wait_for_sandboxes (guint       expected,
                    const char *what)
{
  gint64 deadline = g_get_monotonic_time () + DEADLINE_SECONDS * G_USEC_PER_SEC;
  guint n;

  while ((n = count_sandboxes ()) != expected)
    {
      if (g_get_monotonic_time () > deadline)
        g_error ("%s: %u sandbox(es) of this run exist after %d s, not %u", what, n, DEADLINE_SECONDS, expected);
      g_usleep (100 * 1000);
    }
}

/* With argv vectors: g_spawn_command_line_sync() runs no shell, so a pipe
 * there was an argument of docker ps, and nothing was ever removed. */
static void
remove_leftovers (void)
{
  g_autofree char *filter = g_strdup_printf ("label=" RUN_LABEL "=%s", run_id);
  const char *ps[] = { "docker", "ps", "-aq", "--filter", filter, NULL };
  g_autofree char *out = NULL;
  g_auto(GStrv) ids = NULL;

  g_spawn_sync (NULL, (char **) ps, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDERR_TO_DEV_NULL,
                NULL, NULL, &out, NULL, NULL, NULL);
  ids = g_strsplit (out ? out : "", "\n", -1);
  for (guint i = 0; ids[i] != NULL; i++)
    if (*ids[i] != '\0')
      {
        const char *rm[] = { "docker", "rm", "-f", ids[i], NULL };

        g_spawn_sync (NULL, (char **) rm, NULL,
                      G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL,
                      NULL, NULL, NULL, NULL, NULL, NULL);
      }
}

/* Bus ---------------------------------------------------------------------- */

typedef struct {
  char            *directory;
  GSubprocess     *bus;
  char            *address;
  GDBusConnection *a;
  GDBusConnection *b;
} Fixture;

static const char bus_config[] =
  "<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN\"\n"
  " \"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n"
  "<busconfig>\n"
  "  <type>session</type>\n"
  "  <listen>unix:dir=%s</listen>\n"
  "  <auth>EXTERNAL</auth>\n"
  "  <servicedir>%s</servicedir>\n"
  "  <policy context=\"default\">\n"
  "    <allow send_destination=\"*\" eavesdrop=\"true\"/>\n"
  "    <allow eavesdrop=\"true\"/>\n"
  "    <allow own=\"*\"/>\n"
  "  </policy>\n"
  "</busconfig>\n";

static void
die_with_parent (gpointer data)
{
  prctl (PR_SET_PDEATHSIG, SIGTERM);
}

/* Starts `dbus-daemon --nofork --print-address` with a config whose
 * service directory has the build tree's service file only. */
static void
start_bus (Fixture *fixture)
{
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  g_autoptr(GDataInputStream) out = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *config_path = NULL;
  g_autofree char *config = NULL;
  g_autofree char *config_arg = NULL;

  fixture->directory = g_dir_make_tmp ("llmsbx-test-bus-XXXXXX", &error);
  g_assert_no_error (error);
  /* Another directory may start the daemon otherwise, e.g. under valgrind. */
  config = g_strdup_printf (bus_config, fixture->directory,
                            g_getenv ("LLMSBX_TEST_SERVICE_DIR") ?: LLMSBX_TEST_SERVICE_DIR);
  config_path = g_build_filename (fixture->directory, "bus.conf", NULL);
  g_file_set_contents (config_path, config, -1, &error);
  g_assert_no_error (error);

  config_arg = g_strconcat ("--config-file=", config_path, NULL);
  g_subprocess_launcher_set_child_setup (launcher, die_with_parent, NULL, NULL);
  fixture->bus = g_subprocess_launcher_spawn (launcher, &error, "dbus-daemon", config_arg,
                                              "--nofork", "--print-address", NULL);
  g_assert_no_error (error);
  out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (fixture->bus));
  fixture->address = g_data_input_stream_read_line (out, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (fixture->address);
  /* For the helper processes, as a session would have it. */
  g_setenv ("DBUS_SESSION_BUS_ADDRESS", fixture->address, TRUE);
}

static void
stop_bus (Fixture *fixture)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *config_path = g_build_filename (fixture->directory, "bus.conf", NULL);

  g_subprocess_send_signal (fixture->bus, SIGTERM);
  g_subprocess_wait (fixture->bus, NULL, &error);
  g_assert_no_error (error);
  g_clear_object (&fixture->bus);
  g_unlink (config_path);
  g_rmdir (fixture->directory);
  g_clear_pointer (&fixture->directory, g_free);
  g_clear_pointer (&fixture->address, g_free);
  g_unsetenv ("DBUS_SESSION_BUS_ADDRESS");
}

static GDBusConnection *
connect_client (Fixture *fixture)
{
  g_autoptr(GError) error = NULL;
  GDBusConnection *connection;

  connection = g_dbus_connection_new_for_address_sync (fixture->address,
                                                       G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
                                                       G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                                                       NULL, NULL, &error);
  g_assert_no_error (error);
  return connection;
}

/* @data: the daemon's environment, "NAME=VALUE;NAME=VALUE". */
static void
fixture_set_up (Fixture       *fixture,
                gconstpointer  data)
{
  g_autofree char *configs = g_strdup_printf ("{\"labels\": {\"" RUN_LABEL "\": \"%s\"}}", run_id);
  g_auto(GStrv) settings = g_strsplit (data ? data : "", ";", -1);

  /* The bus starts the daemon with the bus's environment, this process's. */
  g_setenv ("LLMSBX_DAEMON_RUNTIME_CONFIGS", configs, TRUE);
  g_unsetenv ("LLMSBX_DAEMON_PRESET");
  g_unsetenv ("LLMSBX_DAEMON_IDLE_EXIT");
  for (guint i = 0; settings[i] != NULL; i++)
    {
      g_auto(GStrv) pair = g_strsplit (settings[i], "=", 2);

      if (pair[0] != NULL && pair[1] != NULL)
        g_setenv (pair[0], pair[1], TRUE);
    }

  start_bus (fixture);
  fixture->a = connect_client (fixture);
  fixture->b = connect_client (fixture);
}

static guint32
daemon_pid (GDBusConnection *connection)
{
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GError) error = NULL;
  guint32 pid = 0;

  reply = g_dbus_connection_call_sync (connection, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                       "org.freedesktop.DBus", "GetConnectionUnixProcessID",
                                       g_variant_new ("(s)", BUS_NAME), G_VARIANT_TYPE ("(u)"),
                                       G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);
  if (reply == NULL)
    return 0;
  g_variant_get (reply, "(u)", &pid);
  return pid;
}

static void
wait_for_exit (guint32 pid)
{
  gint64 deadline = g_get_monotonic_time () + DEADLINE_SECONDS * G_USEC_PER_SEC;

  while (pid != 0 && kill ((pid_t) pid, 0) == 0)
    {
      g_autofree char *status_path = g_strdup_printf ("/proc/%u/stat", pid);
      g_autofree char *stat = NULL;

      /* A zombie has exited: the bus reaps its children in its own time. */
      if (g_file_get_contents (status_path, &stat, NULL, NULL) && strstr (stat, ") Z ") != NULL)
        return;
      if (g_get_monotonic_time () > deadline)
        g_error ("llmsbx-daemon (pid %u) did not exit after its bus went", pid);
      g_usleep (50 * 1000);
    }
}

static void
fixture_tear_down (Fixture       *fixture,
                   gconstpointer  data)
{
  guint32 pid = daemon_pid (fixture->a);

  g_dbus_connection_close_sync (fixture->a, NULL, NULL);
  g_dbus_connection_close_sync (fixture->b, NULL, NULL);
  g_clear_object (&fixture->a);
  g_clear_object (&fixture->b);
  stop_bus (fixture);

  /* Without its bus the daemon removes every sandbox and exits. */
  wait_for_exit (pid);
  if (count_sandboxes () != 0)
    {
      remove_leftovers ();
      g_error ("sandboxes survived the daemon");
    }
}

/* Calls -------------------------------------------------------------------- */

static GVariant *
call (GDBusConnection     *connection,
      const char          *path,
      const char          *iface,
      const char          *method,
      GVariant            *parameters,
      const GVariantType  *reply_type,
      GUnixFDList         *fds,
      GError             **error)
{
  return g_dbus_connection_call_with_unix_fd_list_sync (connection, BUS_NAME, path, iface, method, parameters,
                                                        reply_type, G_DBUS_CALL_FLAGS_NONE, 120 * 1000,
                                                        fds, NULL, NULL, error);
}

static char *
open_session (GDBusConnection  *connection,
              const char       *language,
              GError          **error)
{
  GVariantBuilder options;
  g_autoptr(GVariant) reply = NULL;
  char *path = NULL;

  g_variant_builder_init (&options, G_VARIANT_TYPE_VARDICT);
  if (language != NULL)
    g_variant_builder_add (&options, "{sv}", "language", g_variant_new_string (language));
  reply = call (connection, MANAGER_PATH, MANAGER_IFACE, "OpenSession", g_variant_new ("(a{sv})", &options),
                G_VARIANT_TYPE ("(o)"), NULL, error);
  if (reply != NULL)
    g_variant_get (reply, "(o)", &path);
  return path;
}

typedef struct {
  int     exit_code;
  GBytes *out;
  GBytes *err;
} RunResult;

static void
run_result_free (RunResult *result)
{
  g_bytes_unref (result->out);
  g_bytes_unref (result->err);
  g_free (result);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RunResult, run_result_free)

static RunResult *
run_result_new (GVariant *reply)
{
  RunResult *result = g_new0 (RunResult, 1);
  g_autoptr(GVariant) out = NULL;
  g_autoptr(GVariant) err = NULL;

  g_variant_get (reply, "(i@ay@aya{sv})", &result->exit_code, &out, &err, NULL);
  result->out = g_variant_get_data_as_bytes (out);
  result->err = g_variant_get_data_as_bytes (err);
  return result;
}

static RunResult *
run (GDBusConnection  *connection,
     const char       *path,
     const char       *code,
     double            timeout,
     GError          **error)
{
  const char *libraries[] = { NULL };
  g_autoptr(GVariant) reply = call (connection, path, SESSION_IFACE, "Run",
                                    g_variant_new ("(s^asd)", code, libraries, timeout),
                                    G_VARIANT_TYPE ("(iayaya{sv})"), NULL, error);

  return reply ? run_result_new (reply) : NULL;
}

static RunResult *
execute (GDBusConnection  *connection,
         const char       *path,
         const char       *command,
         GError          **error)
{
  const char *argv[] = { "sh", "-c", command, NULL };
  g_autoptr(GVariant) reply = call (connection, path, SESSION_IFACE, "Execute", g_variant_new ("(^ass)", argv, ""),
                                    G_VARIANT_TYPE ("(iayaya{sv})"), NULL, error);

  return reply ? run_result_new (reply) : NULL;
}

static void
assert_text (GBytes     *bytes,
             const char *expected)
{
  gsize length;
  const char *data = g_bytes_get_data (bytes, &length);

  g_assert_cmpmem (data, length, expected, strlen (expected));
}

static void
assert_remote_error (GError     *error,
                     const char *name)
{
  g_autofree char *remote = NULL;

  g_assert_nonnull (error);
  remote = g_dbus_error_get_remote_error (error);
  g_assert_cmpstr (remote, ==, name);
}

static char **
list_sessions (GDBusConnection *connection)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = call (connection, MANAGER_PATH, MANAGER_IFACE, "ListSessions", NULL,
                                    G_VARIANT_TYPE ("(ao)"), NULL, &error);
  char **paths = NULL;

  g_assert_no_error (error);
  g_variant_get (reply, "(^ao)", &paths);
  return paths;
}

static void
on_output (GDBusConnection *connection,
           const char      *sender,
           const char      *path,
           const char      *iface,
           const char      *signal,
           GVariant        *parameters,
           gpointer         user_data)
{
  GString *collected = user_data;
  g_autoptr(GVariant) chunk = NULL;
  guint stream;
  gsize length;
  const char *data;

  /* Chunks are cut anywhere: only the bytes of standard output are kept,
   * and one '!' for each chunk of another stream. */
  g_variant_get (parameters, "(u@ay)", &stream, &chunk);
  data = g_variant_get_fixed_array (chunk, &length, 1);
  if (stream == 1)
    g_string_append_len (collected, data, length);
  else
    g_string_append_c (collected, '!');
}

static void
flush_context (void)
{
  while (g_main_context_iteration (NULL, FALSE))
    ;
}

/* Tests -------------------------------------------------------------------- */

/* A container of this run labelled as a session's of this host and process,
 * started at @start (clock ticks since boot); its id. */
static char *
create_owned_container (const char *start)
{
  g_autofree char *run_label = g_strdup_printf (RUN_LABEL "=%s", run_id);
  g_autofree char *host = g_strdup_printf (LLMSBX_LABEL_OWNER_HOST "=%s", g_get_host_name ());
  g_autofree char *pid = g_strdup_printf (LLMSBX_LABEL_OWNER_PID "=%d", (int) getpid ());
  g_autofree char *started = g_strdup_printf (LLMSBX_LABEL_OWNER_START "=%s", start);
  const char *argv[] = { "docker", "run", "-d", "--label", "io.llmsbx.managed-by=libllmsbx", "--label", run_label,
                         "--label", host, "--label", pid, "--label", started,
                         "llmsbx/python:bookworm", "sleep", "300", NULL };
  g_autofree char *out = NULL;
  g_autoptr(GError) error = NULL;
  int status = 0;

  g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDERR_TO_DEV_NULL,
                NULL, NULL, &out, NULL, &status, &error);
  g_assert_no_error (error);
  g_assert_true (g_spawn_check_wait_status (status, NULL));
  return g_strstrip (g_steal_pointer (&out));
}

static gboolean
container_exists (const char *id)
{
  const char *argv[] = { "docker", "container", "inspect", id, NULL };
  int status = 0;

  g_spawn_sync (NULL, (char **) argv, NULL,
                G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL,
                NULL, NULL, NULL, NULL, &status, NULL);
  return g_spawn_check_wait_status (status, NULL);
}

/* This process's start time, field 22 of /proc/self/stat. */
static char *
own_start_time (void)
{
  g_autofree char *stat = NULL;
  g_auto(GStrv) fields = NULL;

  g_assert_true (g_file_get_contents ("/proc/self/stat", &stat, NULL, NULL));
  /* Fields after the command name, which ends at the last ')': state is 3. */
  fields = g_strsplit (strrchr (stat, ')') + 2, " ", -1);
  g_assert_cmpuint (g_strv_length (fields), >, 19);
  return g_strdup (fields[19]);
}

/* The daemon removes at start what processes that are gone left (a
 * container whose owner pid was taken by another process since), and
 * leaves a live process's alone: before it answers its first call. */
static void
test_reaps_at_start (Fixture       *fixture,
                     gconstpointer  data)
{
  g_autofree char *start = own_start_time ();
  g_autofree char *orphan = create_owned_container ("1");
  g_autofree char *live = create_owned_container (start);
  g_autofree char *path = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) closed = NULL;

  g_assert_true (container_exists (orphan));
  path = open_session (fixture->a, "python", &error);
  g_assert_no_error (error);
  g_assert_false (container_exists (orphan));
  g_assert_true (container_exists (live));

  closed = call (fixture->a, path, SESSION_IFACE, "Close", NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  remove_leftovers ();
}

/* The bus starts the daemon from the service file; a client runs code. */
static void
test_activation_and_run (Fixture       *fixture,
                         gconstpointer  data)
{
  g_autoptr(GString) output = g_string_new (NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(RunResult) result = NULL;
  g_autoptr(RunResult) again = NULL;
  g_autofree char *path = NULL;
  g_auto(GStrv) sessions = NULL;
  g_autoptr(GVariant) version = NULL;
  guint subscription;

  g_assert_cmpuint (daemon_pid (fixture->a), ==, 0);
  path = open_session (fixture->a, "python", &error);
  g_assert_no_error (error);
  g_assert_true (g_str_has_prefix (path, MANAGER_PATH "/session/"));
  g_assert_cmpuint (daemon_pid (fixture->a), >, 0);
  wait_for_sandboxes (1, "after OpenSession");

  subscription = g_dbus_connection_signal_subscribe (fixture->a, NULL, SESSION_IFACE, "Output", path, NULL,
                                                     G_DBUS_SIGNAL_FLAGS_NONE, on_output, output, NULL);
  result = run (fixture->a, path, "print(6*7)\nopen('kept.txt', 'w').write('yes')", 0, &error);
  g_assert_no_error (error);
  g_assert_cmpint (result->exit_code, ==, 0);
  assert_text (result->out, "42\n");
  flush_context ();
  g_assert_cmpstr (output->str, ==, "42\n");
  g_dbus_connection_signal_unsubscribe (fixture->a, subscription);

  again = run (fixture->a, path, "print(open('kept.txt').read())", 0, &error);
  g_assert_no_error (error);
  assert_text (again->out, "yes\n");

  sessions = list_sessions (fixture->a);
  g_assert_cmpuint (g_strv_length (sessions), ==, 1);
  g_assert_cmpstr (sessions[0], ==, path);

  version = call (fixture->a, MANAGER_PATH, "org.freedesktop.DBus.Properties", "Get",
                  g_variant_new ("(ss)", MANAGER_IFACE, "Version"), G_VARIANT_TYPE ("(v)"), NULL, &error);
  g_assert_no_error (error);

  g_clear_pointer (&version, g_variant_unref);
  version = call (fixture->a, path, SESSION_IFACE, "Close", NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  wait_for_sandboxes (0, "after Close");
}

/* A second client is refused everything of the first's session, and gets
 * none of its output. */
static void
test_second_client_refused (Fixture       *fixture,
                            gconstpointer  data)
{
  g_autoptr(GString) seen_by_b = g_string_new (NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(RunResult) result = NULL;
  g_autoptr(GVariant) reply = NULL;
  g_autofree char *path = open_session (fixture->a, NULL, &error);
  g_auto(GStrv) b_sessions = NULL;
  guint subscription;

  g_assert_no_error (error);
  subscription = g_dbus_connection_signal_subscribe (fixture->b, NULL, SESSION_IFACE, "Output", NULL, NULL,
                                                     G_DBUS_SIGNAL_FLAGS_NONE, on_output, seen_by_b, NULL);

  result = run (fixture->b, path, "print('intruder')", 0, &error);
  g_assert_null (result);
  assert_remote_error (error, LLMSBX_DBUS_ERROR_PREFIX "AccessDenied");
  g_assert_error (error, LLMSBX_SERVICE_ERROR, LLMSBX_SERVICE_ERROR_ACCESS_DENIED);
  g_clear_error (&error);
  result = execute (fixture->b, path, "id", &error);
  assert_remote_error (error, LLMSBX_DBUS_ERROR_PREFIX "AccessDenied");
  g_clear_error (&error);
  reply = call (fixture->b, path, SESSION_IFACE, "Close", NULL, NULL, NULL, &error);
  assert_remote_error (error, LLMSBX_DBUS_ERROR_PREFIX "AccessDenied");
  g_clear_error (&error);

  b_sessions = list_sessions (fixture->b);
  g_assert_cmpuint (g_strv_length (b_sessions), ==, 0);

  /* The owner's session is untouched, and its output is the owner's alone:
   * a round trip of b's after it comes behind any signal b would get. */
  result = run (fixture->a, path, "print('mine')", 0, &error);
  g_assert_no_error (error);
  assert_text (result->out, "mine\n");
  g_strfreev (list_sessions (fixture->b));
  flush_context ();
  g_assert_cmpstr (seen_by_b->str, ==, "");
  g_dbus_connection_signal_unsubscribe (fixture->b, subscription);
}

/* The helper process: opens a session, says its path, and waits to be killed. */
static int
hold_session (void)
{
  g_autoptr(GDBusConnection) bus = g_bus_get_sync (G_BUS_TYPE_SESSION, NULL, NULL);
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;
  g_autoptr(RunResult) result = NULL;

  if (bus == NULL)
    return 1;
  path = open_session (bus, "python", &error);
  if (path == NULL)
    {
      g_printerr ("hold-session: %s\n", error->message);
      return 1;
    }
  result = run (bus, path, "open('held', 'w').write('1')", 0, &error);
  if (result == NULL)
    {
      g_printerr ("hold-session: %s\n", error->message);
      return 1;
    }
  g_print ("%s\n", path);
  fflush (stdout);
  for (;;)
    pause ();
}

/* A client killed with SIGKILL leaves the bus; its sandbox goes. */
static void
test_killed_client (Fixture       *fixture,
                    gconstpointer  data)
{
  const char *argv[] = { "/proc/self/exe", "hold-session", NULL };
  g_autoptr(GSubprocess) holder = NULL;
  g_autoptr(GDataInputStream) lines = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(RunResult) result = NULL;
  g_autofree char *path = NULL;
  g_autofree char *mine = open_session (fixture->b, NULL, &error);

  g_assert_no_error (error);
  holder = g_subprocess_newv (argv, G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error);
  g_assert_no_error (error);
  lines = g_data_input_stream_new (g_subprocess_get_stdout_pipe (holder));
  path = g_data_input_stream_read_line (lines, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (path);
  wait_for_sandboxes (2, "while the holder holds its session");

  g_subprocess_send_signal (holder, SIGKILL);
  g_subprocess_wait (holder, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_subprocess_get_term_sig (holder), ==, SIGKILL);

  /* The holder's sandbox goes; b's stays and works. */
  wait_for_sandboxes (1, "after the holder was killed");
  result = run (fixture->a, path, "print(1)", 0, &error);
  g_assert_null (result);
  g_assert_nonnull (error);
  g_clear_error (&error);
  result = run (fixture->b, mine, "print('still here')", 0, &error);
  g_assert_no_error (error);
  assert_text (result->out, "still here\n");
}

/* Failures come back as org.llmsbx.Sandbox1.Error names. */
static void
test_errors (Fixture       *fixture,
             gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(RunResult) result = NULL;
  g_autoptr(GVariant) reply = NULL;
  g_autofree char *path = NULL;
  g_autofree char *none = NULL;
  GVariantBuilder options;

  none = open_session (fixture->a, "cobol", &error);
  assert_remote_error (error, LLMSBX_DBUS_ERROR_PREFIX "LanguageNotSupported");
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_LANGUAGE_NOT_SUPPORTED);
  g_clear_error (&error);

  g_variant_builder_init (&options, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&options, "{sv}", "runtime_configs", g_variant_new_string ("{\"privileged\": true}"));
  reply = call (fixture->a, MANAGER_PATH, MANAGER_IFACE, "OpenSession", g_variant_new ("(a{sv})", &options),
                NULL, NULL, &error);
  assert_remote_error (error, LLMSBX_DBUS_ERROR_PREFIX "InvalidArgument");
  g_clear_error (&error);

  path = open_session (fixture->a, "python", &error);
  g_assert_no_error (error);

  /* A timeout kills the code; the session stays usable. */
  result = run (fixture->a, path, "import time\ntime.sleep(60)", 1, &error);
  assert_remote_error (error, LLMSBX_DBUS_ERROR_PREFIX "Timeout");
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_TIMEOUT);
  g_clear_error (&error);
  result = run (fixture->a, path, "print('after')", 0, &error);
  g_assert_no_error (error);
  assert_text (result->out, "after\n");
  g_clear_pointer (&result, run_result_free);

  /* The production preset refuses what its policy blocks. */
  result = run (fixture->a, path, "import os\nos.system('id')", 0, &error);
  assert_remote_error (error, LLMSBX_DBUS_ERROR_PREFIX "SecurityViolation");
  g_clear_error (&error);
  result = run (fixture->a, path, "print(1)", 1e9, &error);
  assert_remote_error (error, LLMSBX_DBUS_ERROR_PREFIX "InvalidArgument");
  g_clear_error (&error);

  /* Sandboxes have no network: only the loopback interface. */
  result = execute (fixture->a, path, "cut -d: -f1 /proc/net/dev | tail -n +3 | tr -d ' '", &error);
  g_assert_no_error (error);
  assert_text (result->out, "lo\n");
  g_clear_pointer (&result, run_result_free);

  g_clear_pointer (&reply, g_variant_unref);
  reply = call (fixture->a, path, SESSION_IFACE, "Close", NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  result = run (fixture->a, path, "print(1)", 0, &error);
  g_assert_error (error, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_METHOD);
}

static GUnixFDList *
fd_list_take (int fd)
{
  GUnixFDList *list = g_unix_fd_list_new ();

  g_assert_cmpint (g_unix_fd_list_append (list, fd, NULL), ==, 0);
  close (fd);
  return list;
}

/* Files cross as descriptors, in both directions, exactly. */
static void
test_copies (Fixture       *fixture,
             gconstpointer  data)
{
  static const char content[] = "binary\0data\n\377";
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(RunResult) result = NULL;
  g_autoptr(GUnixFDList) fds = NULL;
  g_autofree char *path = open_session (fixture->a, "python", &error);
  char back[64];
  int pipe_fds[2];
  ssize_t n;

  g_assert_no_error (error);

  g_assert_cmpint (pipe (pipe_fds), ==, 0);
  g_assert_cmpint (write (pipe_fds[1], content, sizeof content - 1), ==, sizeof content - 1);
  close (pipe_fds[1]);
  fds = fd_list_take (pipe_fds[0]);
  reply = call (fixture->a, path, SESSION_IFACE, "CopyTo", g_variant_new ("(hs)", 0, "in/data.bin"),
                NULL, fds, &error);
  g_assert_no_error (error);
  g_clear_object (&fds);
  result = execute (fixture->a, path, "wc -c < in/data.bin", &error);
  g_assert_no_error (error);
  assert_text (result->out, "13\n");

  g_assert_cmpint (pipe (pipe_fds), ==, 0);
  fds = fd_list_take (pipe_fds[1]);
  g_clear_pointer (&reply, g_variant_unref);
  reply = call (fixture->a, path, SESSION_IFACE, "CopyFrom", g_variant_new ("(sh)", "in/data.bin", 0),
                NULL, fds, &error);
  g_assert_no_error (error);
  g_clear_object (&fds);
  n = read (pipe_fds[0], back, sizeof back);
  g_assert_cmpmem (back, n, content, sizeof content - 1);
  close (pipe_fds[0]);

  /* A directory is refused on both sides: it would be opened by name. */
  fds = fd_list_take (open ("/", O_RDONLY | O_DIRECTORY));
  g_clear_pointer (&reply, g_variant_unref);
  reply = call (fixture->a, path, SESSION_IFACE, "CopyTo", g_variant_new ("(hs)", 0, "root"), NULL, fds, &error);
  assert_remote_error (error, LLMSBX_DBUS_ERROR_PREFIX "InvalidArgument");
  g_clear_error (&error);
  g_clear_object (&fds);
  fds = fd_list_take (open ("/dev/null", O_WRONLY));
  reply = call (fixture->a, path, SESSION_IFACE, "CopyFrom", g_variant_new ("(sh)", "in", 0), NULL, fds, &error);
  assert_remote_error (error, LLMSBX_DBUS_ERROR_PREFIX "InvalidArgument");
  g_clear_error (&error);
  g_clear_object (&fds);

  /* A descriptor open the wrong way, and none at all. */
  fds = fd_list_take (open ("/dev/null", O_RDONLY));
  reply = call (fixture->a, path, SESSION_IFACE, "CopyFrom", g_variant_new ("(sh)", "in/data.bin", 0), NULL, fds, &error);
  assert_remote_error (error, LLMSBX_DBUS_ERROR_PREFIX "InvalidArgument");
  g_clear_error (&error);
  g_clear_object (&fds);
  reply = call (fixture->a, path, SESSION_IFACE, "CopyTo", g_variant_new ("(hs)", 0, "x"), NULL, NULL, &error);
  g_assert_nonnull (error);
  g_clear_error (&error);

  reply = call (fixture->a, path, SESSION_IFACE, "CopyFrom", g_variant_new ("(sh)", "missing", 0), NULL,
                fds = fd_list_take (open ("/dev/null", O_WRONLY)), &error);
  assert_remote_error (error, LLMSBX_DBUS_ERROR_PREFIX "FileNotFound");
}

/* Without a session the daemon exits after --idle-exit; the next call
 * starts a new one. */
static void
test_idle_exit (Fixture       *fixture,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = NULL;
  g_autofree char *path = open_session (fixture->a, NULL, &error);
  g_autofree char *second = NULL;
  guint32 first_pid = daemon_pid (fixture->a);

  g_assert_no_error (error);
  g_assert_cmpuint (first_pid, >, 0);
  reply = call (fixture->a, path, SESSION_IFACE, "Close", NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  wait_for_exit (first_pid);
  g_assert_cmpuint (daemon_pid (fixture->a), ==, 0);

  second = open_session (fixture->a, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (daemon_pid (fixture->a), !=, first_pid);
}

int
main (int    argc,
      char **argv)
{
  if (argc == 2 && g_str_equal (argv[1], "hold-session"))
    {
      llmsbx_dbus_errors_register ();
      return hold_session ();
    }

  g_test_init (&argc, &argv, NULL);
  llmsbx_dbus_errors_register ();
  run_id = g_uuid_string_random ();

#define BUS_TEST(path, func, env) \
  g_test_add (path, Fixture, env, fixture_set_up, func, fixture_tear_down)

  BUS_TEST ("/dbus/activation-and-run", test_activation_and_run, NULL);
  BUS_TEST ("/dbus/second-client-refused", test_second_client_refused, NULL);
  BUS_TEST ("/dbus/killed-client", test_killed_client, NULL);
  BUS_TEST ("/dbus/errors", test_errors, NULL);
  /* Docker cannot unpack archives into the tmpfs the presets make the
   * workdir (docs/security.md): copies are tested without a preset. */
  BUS_TEST ("/dbus/copies", test_copies, "LLMSBX_DAEMON_PRESET=none");
  BUS_TEST ("/dbus/idle-exit", test_idle_exit, "LLMSBX_DAEMON_IDLE_EXIT=0.5");
  BUS_TEST ("/dbus/reaps-at-start", test_reaps_at_start, NULL);

  return g_test_run ();
}
