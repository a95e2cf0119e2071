/* test-docker-tls.c: the Docker backend's client configuration, against real
 * daemons: unix sockets at explicit and custom paths, a daemon over plain
 * tcp:// and over TLS with a CA, a client certificate and a key, and daemons
 * that are not there or never answer.
 *
 * The test starts a second dockerd of its own (with its own data, exec root,
 * pid file and socket) in a network namespace of its own, listening on its
 * 127.0.0.1, first in the clear, then with certificates the test makes with
 * openssl; it loads the default image into it. The namespace matters: a
 * dockerd without a bridge deletes any `docker0` it sees, which would break
 * the main daemon's. Cases that talk TCP to it enter its namespace. The
 * daemon is stopped and its directory removed at the end, and it dies with
 * the test if the test is killed. Every case runs in a fresh process: TLS
 * sessions are cached per process, and a resumed session could hide a
 * certificate that no longer verifies. */
#define _GNU_SOURCE  /* setns() */

#include <llmsbx.h>
#include <glib/gstdio.h>
#include <gio/gio.h>
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/mount.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/prctl.h>
#include <unistd.h>

#define IMAGE "llmsbx/python:bookworm"
#define DIR_VARIABLE "LLMSBX_TEST_DOCKERD_DIR"
#define PORT_VARIABLE "LLMSBX_TEST_DOCKERD_PORT"

/* ---------------------------------------------------------------------------
 * The second daemon (test parent only)
 * ------------------------------------------------------------------------ */

typedef enum {
  MODE_PLAIN,
  MODE_TLS,
} DaemonMode;

static struct {
  char        *dir;
  guint16      port;
  GSubprocess *process;
  DaemonMode   mode;
  char        *setup_error;  /* why the daemon could not be set up */
} daemon_fixture;

static char *
fixture_path (const char *name)
{
  return g_build_filename (g_getenv (DIR_VARIABLE), name, NULL);
}

static char *
daemon_host (void)
{
  g_autofree char *socket = fixture_path ("docker.sock");
  return g_strconcat ("unix://", socket, NULL);
}

/* Runs a program in @cwd; fails with its output when it fails. */
static gboolean
run_program (const char * const  *argv,
             const char          *cwd,
             GError             **error)
{
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  int status = 0;

  if (!g_spawn_sync (cwd, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, &err, &status, error))
    return FALSE;
  if (!g_spawn_check_wait_status (status, NULL))
    {
      g_autofree char *shown = g_strjoinv (" ", (char **) argv);
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "`%s` failed: %s%s", shown, out, err);
      return FALSE;
    }
  return TRUE;
}

static gboolean
write_text (const char  *dir,
            const char  *name,
            const char  *text,
            GError     **error)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  return g_file_set_contents (path, text, -1, error);
}

/* A CA, a server certificate for IP 127.0.0.1, a client certificate, and
 * another CA that signed nothing of this; EC P-256 keys, quick to make. */
static gboolean
make_certificates (const char  *dir,
                   GError     **error)
{
  const char *wrong_ca[] = {
    "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
    "-keyout", "wrong-ca-key.pem", "-out", "wrong-ca.pem", "-days", "2", "-subj", "/CN=llmsbx wrong CA",
    "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign", NULL
  };
  const char *ca[] = {
    "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
    "-keyout", "ca-key.pem", "-out", "ca.pem", "-days", "2", "-subj", "/CN=llmsbx test CA",
    "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign", NULL
  };
  const char *server_request[] = {
    "openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
    "-keyout", "server-key.pem", "-out", "server.csr", "-subj", "/CN=127.0.0.1", NULL
  };
  const char *server_sign[] = {
    "openssl", "x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca-key.pem",
    "-set_serial", "2", "-days", "2", "-extfile", "server.ext", "-out", "server.pem", NULL
  };
  const char *client_request[] = {
    "openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
    "-keyout", "client/key.pem", "-out", "client.csr", "-subj", "/CN=llmsbx client", NULL
  };
  const char *client_sign[] = {
    "openssl", "x509", "-req", "-in", "client.csr", "-CA", "ca.pem", "-CAkey", "ca-key.pem",
    "-set_serial", "3", "-days", "2", "-extfile", "client.ext", "-out", "client/cert.pem", NULL
  };
  g_autofree char *client_dir = g_build_filename (dir, "client", NULL);
  g_autofree char *ca_file = g_build_filename (dir, "ca.pem", NULL);
  g_autofree char *client_ca = g_build_filename (client_dir, "ca.pem", NULL);
  g_autofree char *ca_pem = NULL;

  if (g_mkdir (client_dir, 0700) != 0)
    {
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno), "mkdir %s failed", client_dir);
      return FALSE;
    }
  if (!write_text (dir, "server.ext", "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n", error) ||
      !write_text (dir, "client.ext", "extendedKeyUsage=clientAuth\n", error) ||
      !run_program (wrong_ca, dir, error) || !run_program (ca, dir, error) ||
      !run_program (server_request, dir, error) || !run_program (server_sign, dir, error) ||
      !run_program (client_request, dir, error) || !run_program (client_sign, dir, error))
    return FALSE;

  /* DOCKER_CERT_PATH holds ca.pem, cert.pem and key.pem together. */
  return g_file_get_contents (ca_file, &ca_pem, NULL, error) &&
         g_file_set_contents (client_ca, ca_pem, -1, error);
}

static guint16
free_loopback_port (void)
{
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) any_port = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) bound = NULL;
  g_autoptr(GError) error = NULL;

  socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, &error);
  g_assert_no_error (error);
  g_socket_bind (socket, any_port, FALSE, &error);
  g_assert_no_error (error);
  bound = g_socket_get_local_address (socket, &error);
  g_assert_no_error (error);
  return g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
}

/* The daemon must not outlive the test, however the test ends. */
static void
die_with_parent (gpointer data)
{
  prctl (PR_SET_PDEATHSIG, SIGTERM);
}

typedef struct {
  GMainLoop *loop;
  gboolean   exited;
} ExitWait;

static void
on_exited (GObject *source, GAsyncResult *result, gpointer data)
{
  ExitWait *wait = data;

  wait->exited = g_subprocess_wait_finish (G_SUBPROCESS (source), result, NULL);
  g_main_loop_quit (wait->loop);
}

static gboolean
on_wait_timeout (gpointer data)
{
  g_main_loop_quit (((ExitWait *) data)->loop);
  return G_SOURCE_REMOVE;
}

static gboolean
wait_for_exit (GSubprocess *process,
               guint        timeout_ms)
{
  g_autoptr(GMainContext) context = g_main_context_new ();
  g_autoptr(GSource) timeout = g_timeout_source_new (timeout_ms);
  ExitWait wait = { NULL, FALSE };

  g_main_context_push_thread_default (context);
  wait.loop = g_main_loop_new (context, FALSE);
  g_subprocess_wait_async (process, NULL, on_exited, &wait);
  g_source_set_callback (timeout, on_wait_timeout, &wait, NULL);
  g_source_attach (timeout, context);
  g_main_loop_run (wait.loop);
  g_source_destroy (timeout);
  /* Let a pending completion run before the context goes. */
  while (g_main_context_iteration (context, FALSE))
    ;
  g_main_loop_unref (wait.loop);
  g_main_context_pop_thread_default (context);
  return wait.exited || g_subprocess_get_if_exited (process) || g_subprocess_get_if_signaled (process);
}

static gboolean
daemon_answers (void)
{
  g_autofree char *host = daemon_host ();
  const char *argv[] = { "docker", "-H", host, "version", NULL };

  return run_program (argv, NULL, NULL);
}

static void
daemon_stop (void)
{
  if (daemon_fixture.process == NULL)
    return;

  g_subprocess_send_signal (daemon_fixture.process, SIGTERM);
  if (!wait_for_exit (daemon_fixture.process, 20000))
    {
      g_subprocess_force_exit (daemon_fixture.process);
      wait_for_exit (daemon_fixture.process, 5000);
    }
  g_clear_object (&daemon_fixture.process);
}

static gboolean
daemon_start (DaemonMode   mode,
              GError     **error)
{
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_NONE);
  g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *log = fixture_path (mode == MODE_TLS ? "dockerd-tls.log" : "dockerd.log");
  const char *dir = daemon_fixture.dir;

  /* Its own network namespace, with its loopback up. */
  g_ptr_array_add (argv, g_strdup ("unshare"));
  g_ptr_array_add (argv, g_strdup ("--net"));
  g_ptr_array_add (argv, g_strdup ("--"));
  g_ptr_array_add (argv, g_strdup ("sh"));
  g_ptr_array_add (argv, g_strdup ("-c"));
  g_ptr_array_add (argv, g_strdup ("ip link set lo up && exec \"$0\" \"$@\""));
  g_ptr_array_add (argv, g_strdup ("dockerd"));
  g_ptr_array_add (argv, g_strdup_printf ("--config-file=%s/daemon.json", dir));
  g_ptr_array_add (argv, g_strdup_printf ("--data-root=%s/data", dir));
  g_ptr_array_add (argv, g_strdup_printf ("--exec-root=%s/exec", dir));
  g_ptr_array_add (argv, g_strdup_printf ("--pidfile=%s/docker.pid", dir));
  g_ptr_array_add (argv, g_strdup_printf ("--host=unix://%s/docker.sock", dir));
  g_ptr_array_add (argv, g_strdup_printf ("--host=tcp://127.0.0.1:%u", daemon_fixture.port));
  g_ptr_array_add (argv, g_strdup ("--bridge=none"));
  g_ptr_array_add (argv, g_strdup ("--iptables=false"));
  g_ptr_array_add (argv, g_strdup ("--ip-masq=false"));
  if (mode == MODE_TLS)
    {
      g_ptr_array_add (argv, g_strdup ("--tlsverify"));
      g_ptr_array_add (argv, g_strdup_printf ("--tlscacert=%s/ca.pem", dir));
      g_ptr_array_add (argv, g_strdup_printf ("--tlscert=%s/server.pem", dir));
      g_ptr_array_add (argv, g_strdup_printf ("--tlskey=%s/server-key.pem", dir));
    }
  g_ptr_array_add (argv, NULL);

  /* A clean environment with a real home: this one's may point anywhere
   * (runc writes under $HOME), and the test's malloc checks are not the daemon's. */
  g_subprocess_launcher_set_environ (launcher, (char *[]) { NULL });
  g_subprocess_launcher_setenv (launcher, "PATH", g_getenv ("PATH"), TRUE);
  g_subprocess_launcher_setenv (launcher, "HOME", dir, TRUE);
  g_subprocess_launcher_set_child_setup (launcher, die_with_parent, NULL, NULL);
  g_subprocess_launcher_set_stdout_file_path (launcher, log);
  g_subprocess_launcher_set_stderr_file_path (launcher, log);
  daemon_fixture.process = g_subprocess_launcher_spawnv (launcher, (const char * const *) argv->pdata, error);
  if (daemon_fixture.process == NULL)
    return FALSE;
  daemon_fixture.mode = mode;

  for (guint i = 0; i < 300; i++)
    {
      if (daemon_answers ())
        return TRUE;
      if (g_subprocess_get_identifier (daemon_fixture.process) == NULL)
        break;
      g_usleep (100 * 1000);
    }
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "the second dockerd did not come up; see %s", log);
  daemon_stop ();
  return FALSE;
}

static gboolean
fixture_start (GError **error)
{
  g_autofree char *port = NULL;
  g_autofree char *host = NULL;
  const char *load[] = {
    "sh", "-c", "docker save \"$1\" | docker -H \"$2\" load", "load", IMAGE, NULL, NULL
  };

  daemon_fixture.dir = g_dir_make_tmp ("llmsbx-dockerd-XXXXXX", error);
  if (daemon_fixture.dir == NULL)
    return FALSE;
  daemon_fixture.port = free_loopback_port ();
  port = g_strdup_printf ("%u", daemon_fixture.port);
  g_setenv (DIR_VARIABLE, daemon_fixture.dir, TRUE);
  g_setenv (PORT_VARIABLE, port, TRUE);

  if (!write_text (daemon_fixture.dir, "daemon.json", "{}\n", error) ||
      !make_certificates (daemon_fixture.dir, error) ||
      !daemon_start (MODE_PLAIN, error))
    return FALSE;

  /* The new daemon has no images and cannot pull: give it the default one. */
  host = daemon_host ();
  load[5] = host;
  return run_program (load, NULL, error);
}

static gboolean
ensure_mode (DaemonMode   mode,
             GError     **error)
{
  if (daemon_fixture.process != NULL && daemon_fixture.mode == mode)
    return TRUE;
  daemon_stop ();
  return daemon_start (mode, error);
}

/* Unmounts whatever a daemon that had to be killed left under the directory. */
static void
unmount_leftovers (const char *dir)
{
  g_autofree char *mounts = NULL;
  g_auto(GStrv) lines = NULL;
  g_autofree char *prefix = g_strconcat (dir, "/", NULL);

  if (!g_file_get_contents ("/proc/self/mounts", &mounts, NULL, NULL))
    return;
  lines = g_strsplit (mounts, "\n", -1);
  for (guint i = g_strv_length (lines); i > 0; i--)
    {
      g_auto(GStrv) fields = g_strsplit (lines[i - 1], " ", 3);

      if (g_strv_length (fields) >= 2 && g_str_has_prefix (fields[1], prefix))
        umount2 (fields[1], MNT_DETACH);
    }
}

static void
fixture_stop (void)
{
  const char *rm[] = { "rm", "-rf", "--", daemon_fixture.dir, NULL };
  g_autoptr(GError) error = NULL;

  daemon_stop ();
  if (daemon_fixture.dir == NULL)
    return;
  unmount_leftovers (daemon_fixture.dir);
  if (!run_program (rm, NULL, &error))
    g_printerr ("Could not remove %s: %s\n", daemon_fixture.dir, error->message);
  g_clear_pointer (&daemon_fixture.dir, g_free);
}

/* ---------------------------------------------------------------------------
 * Helpers of the cases (in their own processes)
 * ------------------------------------------------------------------------ */

/* Enters the second daemon's network namespace, where its TCP port is.
 * Only this thread moves, and the session's calls run in it. */
static void
enter_daemon_network (void)
{
  g_autofree char *pidfile = fixture_path ("docker.pid");
  g_autofree char *pid = NULL;
  g_autofree char *ns = NULL;
  g_autoptr(GError) error = NULL;
  int fd;

  g_file_get_contents (pidfile, &pid, NULL, &error);
  g_assert_no_error (error);
  ns = g_strdup_printf ("/proc/%s/ns/net", g_strstrip (pid));
  fd = open (ns, O_RDONLY | O_CLOEXEC);
  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (setns (fd, CLONE_NEWNET), ==, 0);
  close (fd);
}

/* Enters the second daemon's network namespace and returns the URL of its
 * TCP port there. */
static char *
enter_daemon_tcp (const char *host)
{
  enter_daemon_network ();
  return g_strdup_printf ("tcp://%s:%s", host, g_getenv (PORT_VARIABLE));
}

static LlmsbxBackend *
docker_backend (const char *url)
{
  g_autoptr(GError) error = NULL;
  LlmsbxBackend *backend = llmsbx_registry_create_backend (llmsbx_registry_get_default (), "docker", &error);

  g_assert_no_error (error);
  if (url != NULL)
    llmsbx_backend_set_url (backend, url);
  return backend;
}

static void
set_tls (LlmsbxBackend *backend,
         const char    *ca,
         gboolean       with_client_certificate)
{
  g_autofree char *ca_file = ca ? fixture_path (ca) : NULL;
  g_autofree char *cert_file = fixture_path ("client/cert.pem");
  g_autofree char *key_file = fixture_path ("client/key.pem");

  g_object_set (backend,
                "tls-ca-file", ca_file,
                "tls-cert-file", with_client_certificate ? cert_file : NULL,
                "tls-key-file", with_client_certificate ? key_file : NULL,
                NULL);
}

/* Whether the daemon at @docker_host (NULL: the main one) knows the container. */
static gboolean
container_exists (const char *docker_host,
                  const char *id)
{
  const char *with_host[] = { "docker", "-H", docker_host, "container", "inspect", id, NULL };
  const char *main_daemon[] = { "docker", "container", "inspect", id, NULL };

  return run_program (docker_host ? with_host : main_daemon, NULL, NULL);
}

/* A whole session through @backend (or the default docker backend): open,
 * run Python, small and large (which goes on the exec's standard input, over
 * a connection of its own), close; its container is gone afterwards from
 * @docker_host. */
static void
assert_session_works (LlmsbxBackend *backend,
                      const char    *docker_host)
{
  g_autoptr(LlmsbxSandboxSession) session = NULL;
  g_autoptr(LlmsbxExecutionResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GString) code = NULL;
  g_autofree char *id = NULL;

  session = g_object_new (LLMSBX_TYPE_SANDBOX_SESSION, "lang", "python", "backend", "docker",
                          "client", backend, NULL);
  llmsbx_sandbox_session_set_runtime_configs_json (session, "{\"network_mode\": \"none\"}", &error);
  g_assert_no_error (error);
  llmsbx_sandbox_session_open (session, NULL, &error);
  g_assert_no_error (error);
  id = g_strdup (llmsbx_sandbox_session_get_container_id (session));
  g_assert_true (container_exists (docker_host, id));

  result = llmsbx_sandbox_session_run (session, "import socket; print(6 * 7)", NULL, 0, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (llmsbx_execution_result_get_stdout (result), ==, "42\n");
  g_clear_object (&result);

  code = g_string_new ("x = 0\n");
  while (code->len < 256 * 1024)
    g_string_append (code, "x += 1  # a line of padding, long enough to make the code large\n");
  g_string_append (code, "import sys; print(x, repr(sys.stdin.read()))\n");
  result = llmsbx_sandbox_session_run (session, code->str, NULL, 0, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (llmsbx_execution_result_get_exit_code (result), ==, 0);
  g_assert_true (g_str_has_suffix (llmsbx_execution_result_get_stdout (result), " ''\n"));

  llmsbx_sandbox_session_close (session, NULL, &error);
  g_assert_no_error (error);
  g_assert_false (container_exists (docker_host, id));
}

/* open() fails with BACKEND_UNAVAILABLE naming @needle, and does not hang. */
static void
assert_unavailable (LlmsbxBackend *backend,
                    const char    *needle)
{
  g_autoptr(LlmsbxSandboxSession) session = NULL;
  g_autoptr(GError) error = NULL;
  gint64 started = g_get_monotonic_time ();

  session = g_object_new (LLMSBX_TYPE_SANDBOX_SESSION, "lang", "python", "client", backend, NULL);
  g_assert_false (llmsbx_sandbox_session_open (session, NULL, &error));
  g_test_message ("%s", error->message);
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_BACKEND_UNAVAILABLE);
  g_assert_nonnull (strstr (error->message, needle));
  g_assert_false (llmsbx_sandbox_session_get_is_open (session));
  /* The connect timeout (2 s) bounds it; far more means a hang. */
  g_assert_cmpint (g_get_monotonic_time () - started, <, 10 * G_USEC_PER_SEC);
}

/* ---------------------------------------------------------------------------
 * Cases
 * ------------------------------------------------------------------------ */

static void
test_unix_socket_url (void)
{
  g_autoptr(LlmsbxBackend) backend = docker_backend ("unix:///var/run/docker.sock");

  assert_session_works (backend, NULL);
}

/* A socket path of one's own: a symlink to the main daemon's socket, and the
 * second daemon's socket. */
static void
test_custom_unix_socket (void)
{
  g_autofree char *link = fixture_path ("main-docker.sock");
  g_autofree char *link_url = g_strconcat ("unix://", link, NULL);
  g_autofree char *second = daemon_host ();
  g_autoptr(LlmsbxBackend) linked = NULL;
  g_autoptr(LlmsbxBackend) own = NULL;

  g_unlink (link);
  g_assert_cmpint (symlink ("/var/run/docker.sock", link), ==, 0);
  linked = docker_backend (link_url);
  assert_session_works (linked, NULL);
  g_unlink (link);

  own = docker_backend (second);
  assert_session_works (own, second);
}

static void
test_plain_tcp (void)
{
  g_autofree char *url = enter_daemon_tcp ("127.0.0.1");
  g_autofree char *http = g_strdup_printf ("http://127.0.0.1:%s", g_getenv (PORT_VARIABLE));
  g_autofree char *second = daemon_host ();
  g_autoptr(LlmsbxBackend) tcp = docker_backend (url);
  g_autoptr(LlmsbxBackend) plain_http = docker_backend (http);

  assert_session_works (tcp, second);
  assert_session_works (plain_http, second);
}

static void
test_tls (void)
{
  g_autofree char *url = enter_daemon_tcp ("127.0.0.1");
  g_autofree char *second = daemon_host ();
  g_autoptr(LlmsbxBackend) backend = docker_backend (url);

  set_tls (backend, "ca.pem", TRUE);
  assert_session_works (backend, second);
}

/* docker-py's from_env(): DOCKER_HOST, DOCKER_TLS_VERIFY and DOCKER_CERT_PATH. */
static void
test_tls_from_environment (void)
{
  g_autofree char *url = enter_daemon_tcp ("127.0.0.1");
  g_autofree char *cert_path = fixture_path ("client");
  g_autofree char *second = daemon_host ();
  g_autoptr(LlmsbxBackend) backend = NULL;

  g_setenv ("DOCKER_HOST", url, TRUE);
  g_setenv ("DOCKER_TLS_VERIFY", "1", TRUE);
  g_setenv ("DOCKER_CERT_PATH", cert_path, TRUE);
  backend = docker_backend (NULL);
  assert_session_works (backend, second);
}

static void
test_tls_wrong_ca (void)
{
  g_autofree char *url = enter_daemon_tcp ("127.0.0.1");
  g_autoptr(LlmsbxBackend) backend = docker_backend (url);

  set_tls (backend, "wrong-ca.pem", TRUE);
  assert_unavailable (backend, url);
}

/* The daemon demands a client certificate. */
static void
test_tls_without_client_certificate (void)
{
  g_autofree char *url = enter_daemon_tcp ("127.0.0.1");
  g_autoptr(LlmsbxBackend) backend = docker_backend (url);

  set_tls (backend, "ca.pem", FALSE);
  assert_unavailable (backend, url);
}

/* The certificate is for 127.0.0.1, not for "localhost". */
static void
test_tls_wrong_name (void)
{
  g_autofree char *url = enter_daemon_tcp ("localhost");
  g_autoptr(LlmsbxBackend) backend = docker_backend (url);

  set_tls (backend, "ca.pem", TRUE);
  assert_unavailable (backend, url);
}

/* Without verification (docker-py's tls=True), an unknown CA is accepted. */
static void
test_tls_without_verification (void)
{
  g_autofree char *url = enter_daemon_tcp ("127.0.0.1");
  g_autofree char *second = daemon_host ();
  g_autoptr(LlmsbxBackend) backend = docker_backend (url);

  set_tls (backend, "wrong-ca.pem", TRUE);
  g_object_set (backend, "tls-verify", FALSE, NULL);
  assert_session_works (backend, second);
}

/* Plain HTTP to the TLS port: the daemon answers 400, the engine is unusable. */
static void
test_plain_http_to_tls_port (void)
{
  g_autofree char *url = enter_daemon_tcp ("127.0.0.1");
  g_autoptr(LlmsbxBackend) backend = docker_backend (url);

  assert_unavailable (backend, url);
}

static void
test_unavailable_unix_socket (void)
{
  g_autofree char *missing = fixture_path ("no-such.sock");
  g_autofree char *url = g_strconcat ("unix://", missing, NULL);
  g_autoptr(LlmsbxBackend) backend = docker_backend (url);

  assert_unavailable (backend, missing);
}

static void
test_unavailable_closed_port (void)
{
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) any_port = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) bound = NULL;
  g_autoptr(LlmsbxBackend) backend = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *url = NULL;

  /* Bound but not listening: connections are refused, and no one else gets the port. */
  socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, &error);
  g_assert_no_error (error);
  g_socket_bind (socket, any_port, FALSE, &error);
  g_assert_no_error (error);
  bound = g_socket_get_local_address (socket, &error);
  g_assert_no_error (error);
  url = g_strdup_printf ("tcp://127.0.0.1:%u", g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound)));
  backend = docker_backend (url);
  assert_unavailable (backend, url);
}

/* A port that accepts connections and never says a word. */
static void
test_unavailable_silent_port (void)
{
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) any_port = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) bound = NULL;
  g_autoptr(LlmsbxBackend) backend = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *url = NULL;

  socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, &error);
  g_assert_no_error (error);
  g_socket_bind (socket, any_port, FALSE, &error);
  g_assert_no_error (error);
  g_socket_listen (socket, &error);
  g_assert_no_error (error);
  bound = g_socket_get_local_address (socket, &error);
  g_assert_no_error (error);
  url = g_strdup_printf ("tcp://127.0.0.1:%u", g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound)));
  backend = docker_backend (url);
  assert_unavailable (backend, "did not answer within 2 seconds");
}

/* ---------------------------------------------------------------------------
 * Registration
 * ------------------------------------------------------------------------ */

typedef struct {
  const char *path;
  GTestFunc   body;
  DaemonMode  mode;
} Case;

static const Case cases[] = {
  { "/docker/client/unix-socket-url", test_unix_socket_url, MODE_PLAIN },
  { "/docker/client/custom-unix-socket", test_custom_unix_socket, MODE_PLAIN },
  { "/docker/client/plain-tcp", test_plain_tcp, MODE_PLAIN },
  { "/docker/client/unavailable-unix-socket", test_unavailable_unix_socket, MODE_PLAIN },
  { "/docker/client/unavailable-closed-port", test_unavailable_closed_port, MODE_PLAIN },
  { "/docker/client/unavailable-silent-port", test_unavailable_silent_port, MODE_PLAIN },
  { "/docker/client/tls", test_tls, MODE_TLS },
  { "/docker/client/tls-from-environment", test_tls_from_environment, MODE_TLS },
  { "/docker/client/tls-wrong-ca", test_tls_wrong_ca, MODE_TLS },
  { "/docker/client/tls-without-client-certificate", test_tls_without_client_certificate, MODE_TLS },
  { "/docker/client/tls-wrong-name", test_tls_wrong_name, MODE_TLS },
  { "/docker/client/tls-without-verification", test_tls_without_verification, MODE_TLS },
  { "/docker/client/plain-http-to-tls-port", test_plain_http_to_tls_port, MODE_TLS },
};

static void
run_case (gconstpointer data)
{
  const Case *c = data;
  g_autoptr(GError) error = NULL;

  if (g_test_subprocess ())
    {
      c->body ();
      return;
    }

  if (daemon_fixture.setup_error != NULL)
    {
      g_test_fail_printf ("The second dockerd could not be set up: %s", daemon_fixture.setup_error);
      return;
    }
  /* A failed case must not stop the others, nor the daemon's removal. */
  g_test_set_nonfatal_assertions ();
  if (!ensure_mode (c->mode, &error))
    {
      g_test_fail_printf ("The second dockerd could not be restarted: %s", error->message);
      return;
    }

  g_test_trap_subprocess (NULL, 120 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_test_trap_assert_passed ();
}

int
main (int argc, char **argv)
{
  int status;

  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  if (!g_test_subprocess ())
    {
      g_autoptr(GError) error = NULL;

      /* Cases never talk to a daemon named by the caller's environment. */
      g_unsetenv ("DOCKER_HOST");
      g_unsetenv ("DOCKER_TLS_VERIFY");
      g_unsetenv ("DOCKER_CERT_PATH");
      if (!fixture_start (&error))
        daemon_fixture.setup_error = g_strdup (error->message);
    }

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    g_test_add_data_func (cases[i].path, &cases[i], run_case);

  status = g_test_run ();

  if (!g_test_subprocess ())
    {
      fixture_stop ();
      g_free (daemon_fixture.setup_error);
    }
  return status;
}
