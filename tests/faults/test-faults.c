/* test-faults.c: the Docker backend against an engine that fails: refused,
 * silent, slow, garbage, endless bodies and headers, errors with and without
 * bodies, connections cut mid-stream, answers nested too deep, and a sandbox
 * that vanishes mid-run.
 *
 * The real docker plugin talks to fake-engine.c over a unix socket. Each case
 * must end with an error a person can act on (its domain, code and words are
 * checked) within its bound: the connect timeout, the request timeout or the
 * command's deadline. Elapsed times are checked only against a generous
 * multiple of that bound, to tell a hang from an answer. Around every case
 * the test counts its own threads and file descriptors: a case that leaves
 * one behind fails. Memory is checked by `meson test --setup valgrind
 * --suite faults`. */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <gio/gio.h>
#include <llmsbx.h>

#include "fake-engine.h"

#define CONNECT_TIMEOUT 1.0
#define REQUEST_TIMEOUT 1.0
#define DEADLINE_SECONDS 1.0
/* How much later than its bound a case may end before it counts as a hang:
 * valgrind makes everything slower, but not the engine's timeouts. */
#define HANG_SLACK_SECONDS 10.0

typedef struct {
  FakeEngine    *engine;
  LlmsbxBackend *backend;
} Fixture;

/* Resources -------------------------------------------------------------- */

static guint
count_entries (const char *dir_path)
{
  g_autoptr(GDir) dir = g_dir_open (dir_path, 0, NULL);
  guint n = 0;

  g_assert_nonnull (dir);
  while (g_dir_read_name (dir) != NULL)
    n++;
  return n;
}

typedef struct {
  guint fds;
  guint threads;
} Resources;

static Resources
resources_now (void)
{
  Resources r = { count_entries ("/proc/self/fd"), count_entries ("/proc/self/task") };
  return r;
}

static void
assert_nothing_leaked (const Resources *before)
{
  Resources after = resources_now ();

  if (after.fds != before->fds)
    {
      g_autoptr(GDir) dir = g_dir_open ("/proc/self/fd", 0, NULL);
      g_autoptr(GString) names = g_string_new (NULL);
      const char *name;

      while ((name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *path = g_build_filename ("/proc/self/fd", name, NULL);
          g_autofree char *target = g_file_read_link (path, NULL);
          g_string_append_printf (names, " %s→%s", name, target ? target : "?");
        }
      g_test_message ("descriptors now:%s", names->str);
    }
  g_assert_cmpuint (after.fds, ==, before->fds);
  g_assert_cmpuint (after.threads, ==, before->threads);
}

/* Helpers ---------------------------------------------------------------- */

static LlmsbxBackend *
docker_backend (const char *url)
{
  g_autoptr(GError) error = NULL;
  LlmsbxBackend *backend = llmsbx_registry_create_backend (llmsbx_registry_get_default (), "docker", &error);

  g_assert_no_error (error);
  g_object_set (backend, "url", url, "connect-timeout", CONNECT_TIMEOUT,
                "request-timeout", REQUEST_TIMEOUT, NULL);
  return backend;
}

static void
assert_error (const GError *error,
              GQuark        domain,
              int           code,
              const char   *words)
{
  g_assert_nonnull (error);
  g_test_message ("%s", error->message);
  g_assert_error (error, domain, code);
  if (words != NULL && strstr (error->message, words) == NULL)
    g_test_fail_printf ("the message \"%s\" lacks \"%s\"", error->message, words);
}

static void
assert_within (gint64 started,
               double bound_seconds)
{
  double elapsed = (g_get_monotonic_time () - started) / (double) G_USEC_PER_SEC;

  g_test_message ("ended after %.2f s (bound %.1f s)", elapsed, bound_seconds);
  g_assert_cmpfloat (elapsed, <, bound_seconds + HANG_SLACK_SECONDS);
}

static void
add_rule (Fixture    *f,
          const char *method,
          const char *path,
          FakeFault   fault)
{
  FakeRule rule = { .method = method, .path = path, .fault = fault };

  fake_engine_add_rule (f->engine, &rule);
}

/* A fault for the next matching request only. */
static void
add_rule_once (Fixture    *f,
               const char *method,
               const char *path,
               FakeFault   fault)
{
  FakeRule rule = { .method = method, .path = path, .fault = fault, .times = 1 };

  fake_engine_add_rule (f->engine, &rule);
}

/* connect() fails with @code naming @words within the connect timeout. */
static void
assert_connect_fails (Fixture    *f,
                      int         code,
                      const char *words)
{
  g_autoptr(GError) error = NULL;
  gint64 started = g_get_monotonic_time ();

  g_assert_false (llmsbx_backend_connect (f->backend, NULL, &error));
  assert_error (error, LLMSBX_ERROR, code, words);
  assert_within (started, CONNECT_TIMEOUT);
}

/* Runs `true` in the fake sandbox with the test's deadline. */
static gboolean
exec_once (Fixture                *f,
           LlmsbxOutputCollector  *output,
           int                    *status,
           GError                **error)
{
  const char *argv[] = { "true", NULL };
  g_autoptr(LlmsbxExecRequest) request = llmsbx_exec_request_new (argv);

  request->deadline = g_get_monotonic_time () + (gint64) (DEADLINE_SECONDS * G_USEC_PER_SEC);
  return llmsbx_backend_exec (f->backend, FAKE_ENGINE_CONTAINER_ID, request, output, status, NULL, error);
}

/* The exec fails with @code naming @words within the deadline. */
static void
assert_exec_fails (Fixture    *f,
                   int         code,
                   const char *words)
{
  g_autoptr(LlmsbxOutputCollector) output = llmsbx_output_collector_new (1024 * 1024);
  g_autoptr(GError) error = NULL;
  gint64 started = g_get_monotonic_time ();
  int status = -1;

  g_assert_false (exec_once (f, output, &status, &error));
  assert_error (error, LLMSBX_ERROR, code, words);
  assert_within (started, DEADLINE_SECONDS);
}

static char *
stream_text (LlmsbxOutputCollector *output,
             LlmsbxOutputStream     stream)
{
  g_autoptr(GBytes) bytes = llmsbx_output_collector_steal_bytes (output, stream);

  return g_strndup (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
}

/* Cases: reaching the engine --------------------------------------------- */

static void
test_refused_missing_socket (Fixture *f)
{
  g_autofree char *dir = g_dir_make_tmp ("faults-XXXXXX", NULL);
  g_autofree char *url = g_strconcat ("unix://", dir, "/no-such.sock", NULL);
  g_autoptr(LlmsbxBackend) backend = docker_backend (url);
  Fixture missing = { f->engine, backend };

  assert_connect_fails (&missing, LLMSBX_ERROR_BACKEND_UNAVAILABLE, url);
  assert_connect_fails (&missing, LLMSBX_ERROR_BACKEND_UNAVAILABLE, "No such file or directory");
  g_rmdir (dir);
}

/* A port bound but not listening refuses connections, and no one else gets it. */
static void
test_refused_port (Fixture *f)
{
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) any_port = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) bound = NULL;
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(LlmsbxBackend) backend = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *url = NULL;
  Fixture refused = { f->engine, NULL };

  socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, &error);
  g_assert_no_error (error);
  g_socket_bind (socket, any_port, FALSE, &error);
  g_assert_no_error (error);
  bound = g_socket_get_local_address (socket, &error);
  g_assert_no_error (error);
  url = g_strdup_printf ("tcp://127.0.0.1:%u", g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound)));

  backend = docker_backend (url);
  refused.backend = backend;
  assert_connect_fails (&refused, LLMSBX_ERROR_BACKEND_UNAVAILABLE, "Connection refused");
  g_socket_close (socket, NULL);
}

static void
test_silent_ping (Fixture *f)
{
  add_rule (f, "GET", "/_ping", FAKE_FAULT_SILENT);
  assert_connect_fails (f, LLMSBX_ERROR_BACKEND_UNAVAILABLE, "did not answer within 1 seconds (connect-timeout)");
}

/* Slowness alone is no error: the answer arrives one byte at a time. */
static void
test_slow_ping_in_time (Fixture *f)
{
  FakeRule rule = { .method = "GET", .path = "/_ping", .fault = FAKE_FAULT_SLOW, .slow_interval_ms = 1 };
  g_autoptr(GError) error = NULL;

  fake_engine_add_rule (f->engine, &rule);
  g_assert_true (llmsbx_backend_connect (f->backend, NULL, &error));
  g_assert_no_error (error);
}

static void
test_slow_ping_too_slow (Fixture *f)
{
  FakeRule rule = { .method = "GET", .path = "/_ping", .fault = FAKE_FAULT_SLOW, .slow_interval_ms = 50 };

  fake_engine_add_rule (f->engine, &rule);
  assert_connect_fails (f, LLMSBX_ERROR_BACKEND_UNAVAILABLE, "did not answer within 1 seconds");
}

static void
test_garbage_ping (Fixture *f)
{
  add_rule (f, "GET", "/_ping", FAKE_FAULT_GARBAGE);
  assert_connect_fails (f, LLMSBX_ERROR_BACKEND_UNAVAILABLE,
                        "does not speak HTTP (Received HTTP/0.9 when not allowed)");
}

static void
test_endless_ping_body (Fixture *f)
{
  add_rule (f, "GET", "/_ping", FAKE_FAULT_ENDLESS_BODY);
  assert_connect_fails (f, LLMSBX_ERROR_BACKEND_UNAVAILABLE,
                        "is not usable: The Docker daemon's response to GET /_ping is larger than 4.0");
}

static void
test_endless_ping_header (Fixture *f)
{
  add_rule (f, "GET", "/_ping", FAKE_FAULT_ENDLESS_HEADER);
  assert_connect_fails (f, LLMSBX_ERROR_BACKEND_UNAVAILABLE, fake_engine_get_url (f->engine));
}

static void
test_ping_errors (Fixture *f)
{
  g_autoptr(GError) error = NULL;

  add_rule_once (f, "GET", "/_ping", FAKE_FAULT_ERROR_JSON);
  assert_connect_fails (f, LLMSBX_ERROR_BACKEND_UNAVAILABLE,
                        "is not usable: fake engine: the storage driver failed (HTTP 500)");
  add_rule_once (f, "GET", "/_ping", FAKE_FAULT_ERROR_EMPTY);
  assert_connect_fails (f, LLMSBX_ERROR_BACKEND_UNAVAILABLE, "is not usable: HTTP status 500 (HTTP 500)");
  add_rule_once (f, "GET", "/_ping", FAKE_FAULT_ERROR_HTML);
  assert_connect_fails (f, LLMSBX_ERROR_BACKEND_UNAVAILABLE, "502 Bad Gateway");
  /* The engine recovered: connecting works again. */
  g_assert_true (llmsbx_backend_connect (f->backend, NULL, &error));
  g_assert_no_error (error);
}

/* Cases: sandboxes ------------------------------------------------------- */

static void
assert_create_fails (Fixture    *f,
                     int         code,
                     const char *words)
{
  g_autoptr(LlmsbxContainerSpec) spec = llmsbx_container_spec_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *id = NULL;
  gint64 started = g_get_monotonic_time ();

  spec->image = g_strdup ("fake:latest");
  id = llmsbx_backend_create_sandbox (f->backend, spec, NULL, &error);
  g_assert_null (id);
  assert_error (error, LLMSBX_ERROR, code, words);
  assert_within (started, CONNECT_TIMEOUT);
}

static void
test_create_errors (Fixture *f)
{
  add_rule_once (f, "POST", "/containers/create", FAKE_FAULT_ERROR_JSON);
  assert_create_fails (f, LLMSBX_ERROR_CONTAINER_FAILED,
                       "Could not create the sandbox: fake engine: the storage driver failed");
  add_rule_once (f, "POST", "/containers/create", FAKE_FAULT_ERROR_EMPTY);
  assert_create_fails (f, LLMSBX_ERROR_CONTAINER_FAILED, "Could not create the sandbox: HTTP status 500");
  add_rule_once (f, "POST", "/containers/create", FAKE_FAULT_ERROR_HTML);
  assert_create_fails (f, LLMSBX_ERROR_CONTAINER_FAILED, "502 Bad Gateway");
}

/* A start that fails leaves nothing behind: the created sandbox is removed. */
static void
test_start_fails (Fixture *f)
{
  add_rule (f, "POST", "/containers/*/start", FAKE_FAULT_ERROR_JSON);
  assert_create_fails (f, LLMSBX_ERROR_CONTAINER_FAILED, "Could not start sandbox");
  g_assert_cmpuint (fake_engine_count (f->engine, "DELETE", "/containers/*"), ==, 1);
}

static void
test_create_answer_cut (Fixture *f)
{
  FakeRule rule = { .method = "POST", .path = "/containers/create", .fault = FAKE_FAULT_DROP, .drop_after = 10 };

  fake_engine_add_rule (f->engine, &rule);
  assert_create_fails (f, LLMSBX_ERROR_BACKEND_UNAVAILABLE, "Lost the connection");
}

/* A hung engine on an ordinary request: the request timeout holds. */
static void
test_create_silent (Fixture *f)
{
  add_rule (f, "POST", "/containers/create", FAKE_FAULT_SILENT);
  assert_create_fails (f, LLMSBX_ERROR_BACKEND_UNAVAILABLE,
                       "did not answer POST /containers/create within 1 seconds (request-timeout)");
}

static void
test_create_endless_header (Fixture *f)
{
  add_rule (f, "POST", "/containers/create", FAKE_FAULT_ENDLESS_HEADER);
  assert_create_fails (f, LLMSBX_ERROR_BACKEND_UNAVAILABLE, fake_engine_get_url (f->engine));
}

/* attach_sandbox() reads the sandbox's state: a buffered JSON answer. */
static void
assert_attach_fails (Fixture    *f,
                     int         code,
                     const char *words)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *id = NULL;
  gint64 started = g_get_monotonic_time ();

  id = llmsbx_backend_attach_sandbox (f->backend, FAKE_ENGINE_CONTAINER_ID, NULL, &error);
  g_assert_null (id);
  assert_error (error, LLMSBX_ERROR, code, words);
  assert_within (started, CONNECT_TIMEOUT);
}

static void
test_inspect_endless_body (Fixture *f)
{
  add_rule (f, "GET", "/containers/*/json", FAKE_FAULT_ENDLESS_BODY);
  assert_attach_fails (f, LLMSBX_ERROR_PROTOCOL, "larger than 16.0");
}

static void
test_inspect_cut (Fixture *f)
{
  FakeRule rule = { .method = "GET", .path = "/containers/*/json", .fault = FAKE_FAULT_DROP, .drop_after = 20 };

  fake_engine_add_rule (f->engine, &rule);
  assert_attach_fails (f, LLMSBX_ERROR_BACKEND_UNAVAILABLE, "Lost the connection");
}

/* JSON nested 200 000 deep overflowed json-glib's recursive parser. */
static void
test_inspect_deep_json (Fixture *f)
{
  add_rule (f, "GET", "/containers/*/json", FAKE_FAULT_DEEP_JSON);
  assert_attach_fails (f, LLMSBX_ERROR_PROTOCOL, "nest deeper than 64 levels");
}

static void
test_deep_error_body (Fixture *f)
{
  add_rule (f, "POST", "/containers/create", FAKE_FAULT_DEEP_ERROR);
  assert_create_fails (f, LLMSBX_ERROR_CONTAINER_FAILED, "Could not create the sandbox: [[[[");
}

/* A progress line nested too deep is skipped, like any line that is not JSON. */
static void
test_pull_deep_line (Fixture *f)
{
  g_autoptr(GError) error = NULL;
  gboolean pulled = FALSE;

  add_rule (f, "GET", "/images/*/json", FAKE_FAULT_VANISH);
  add_rule (f, "POST", "/images/create", FAKE_FAULT_DEEP_JSON);
  g_assert_true (llmsbx_backend_ensure_image (f->backend, "fake:latest", &pulled, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (pulled);
}

/* Podman 4 fails an image's inspection when another client removes some
 * other image meanwhile; the image is there, and is inspected again. */
static void
test_inspect_storage_race (Fixture *f)
{
  g_autoptr(GError) error = NULL;
  gboolean pulled = TRUE;

  add_rule_once (f, "GET", "/images/*/json", FAKE_FAULT_STORAGE_RACE);
  g_assert_true (llmsbx_backend_ensure_image (f->backend, "fake:latest", &pulled, NULL, &error));
  g_assert_no_error (error);
  g_assert_false (pulled);
  g_assert_cmpuint (fake_engine_count (f->engine, "GET", "/images/*/json"), ==, 2);
}

/* A race that does not end is reported after a bounded number of reads;
 * a change (the pull) is never made on its account. */
static void
test_inspect_storage_race_persists (Fixture *f)
{
  g_autoptr(GError) error = NULL;
  gboolean pulled = TRUE;

  add_rule (f, "GET", "/images/*/json", FAKE_FAULT_STORAGE_RACE);
  g_assert_false (llmsbx_backend_ensure_image (f->backend, "fake:latest", &pulled, NULL, &error));
  assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_FAILED, "image not known");
  g_assert_cmpuint (fake_engine_count (f->engine, "GET", "/images/*/json"), ==, 3);
  g_assert_cmpuint (fake_engine_count (f->engine, "POST", "/images/create"), ==, 0);
}

/* Other errors of a read are not asked again. */
static void
test_inspect_error_once (Fixture *f)
{
  g_autoptr(GError) error = NULL;
  gboolean pulled = TRUE;

  add_rule (f, "GET", "/images/*/json", FAKE_FAULT_ERROR_JSON);
  g_assert_false (llmsbx_backend_ensure_image (f->backend, "fake:latest", &pulled, NULL, &error));
  assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_FAILED, "storage driver failed");
  g_assert_cmpuint (fake_engine_count (f->engine, "GET", "/images/*/json"), ==, 1);
}

static void
test_vanished_before_attach (Fixture *f)
{
  add_rule (f, "GET", "/containers/*/json", FAKE_FAULT_VANISH);
  assert_attach_fails (f, LLMSBX_ERROR_CONTAINER_FAILED, "Container " FAKE_ENGINE_CONTAINER_ID " not found");
}

/* Cases: execs ----------------------------------------------------------- */

static void
test_exec_works (Fixture *f)
{
  g_autoptr(LlmsbxOutputCollector) output = llmsbx_output_collector_new (0);
  g_autoptr(GBytes) frames = fake_engine_frames ("out\n", "err\n");
  g_autoptr(GError) error = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  int status = -1;

  fake_engine_set_exec_output (f->engine, frames);
  g_assert_true (exec_once (f, output, &status, &error));
  g_assert_no_error (error);
  g_assert_cmpint (status, ==, 0);
  out = stream_text (output, LLMSBX_OUTPUT_STREAM_STDOUT);
  err = stream_text (output, LLMSBX_OUTPUT_STREAM_STDERR);
  g_assert_cmpstr (out, ==, "out\n");
  g_assert_cmpstr (err, ==, "err\n");
}

/* Frames arriving one byte at a time are put back together. */
static void
test_exec_slow_output (Fixture *f)
{
  FakeRule rule = { .method = "POST", .path = "/exec/*/start", .fault = FAKE_FAULT_SLOW, .slow_interval_ms = 1 };
  g_autoptr(LlmsbxOutputCollector) output = llmsbx_output_collector_new (0);
  g_autoptr(GBytes) frames = fake_engine_frames ("one byte at a time\n", "and errors\n");
  g_autoptr(GError) error = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  int status = -1;

  fake_engine_set_exec_output (f->engine, frames);
  fake_engine_add_rule (f->engine, &rule);
  g_assert_true (exec_once (f, output, &status, &error));
  g_assert_no_error (error);
  out = stream_text (output, LLMSBX_OUTPUT_STREAM_STDOUT);
  err = stream_text (output, LLMSBX_OUTPUT_STREAM_STDERR);
  g_assert_cmpstr (out, ==, "one byte at a time\n");
  g_assert_cmpstr (err, ==, "and errors\n");
}

static void
test_exec_slow_past_deadline (Fixture *f)
{
  FakeRule rule = { .method = "POST", .path = "/exec/*/start", .fault = FAKE_FAULT_SLOW, .slow_interval_ms = 20 };
  g_autofree char *long_text = g_strnfill (4096, 'z');
  g_autoptr(GBytes) frames = fake_engine_frames (long_text, NULL);

  fake_engine_set_exec_output (f->engine, frames);
  fake_engine_add_rule (f->engine, &rule);
  assert_exec_fails (f, LLMSBX_ERROR_TIMEOUT, "deadline");
}

/* A hung engine at any of the exec's three requests: the deadline holds. */
static void
test_exec_silent_create (Fixture *f)
{
  add_rule (f, "POST", "/containers/*/exec", FAKE_FAULT_SILENT);
  assert_exec_fails (f, LLMSBX_ERROR_TIMEOUT, "deadline");
}

static void
test_exec_silent_start (Fixture *f)
{
  add_rule (f, "POST", "/exec/*/start", FAKE_FAULT_SILENT);
  assert_exec_fails (f, LLMSBX_ERROR_TIMEOUT, "deadline");
}

static void
test_exec_silent_inspect (Fixture *f)
{
  add_rule (f, "GET", "/exec/*/json", FAKE_FAULT_SILENT);
  assert_exec_fails (f, LLMSBX_ERROR_TIMEOUT, "deadline");
}

/* A flood ends at the deadline, with no more kept than the collector's limit. */
static void
test_exec_endless_output (Fixture *f)
{
  g_autoptr(LlmsbxOutputCollector) output = llmsbx_output_collector_new (4096);
  g_autoptr(GBytes) out = NULL;
  g_autoptr(GError) error = NULL;
  gint64 started = g_get_monotonic_time ();
  int status = -1;

  add_rule (f, "POST", "/exec/*/start", FAKE_FAULT_ENDLESS_BODY);
  g_assert_false (exec_once (f, output, &status, &error));
  assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_TIMEOUT, "deadline");
  assert_within (started, DEADLINE_SECONDS);
  out = llmsbx_output_collector_steal_bytes (output, LLMSBX_OUTPUT_STREAM_STDOUT);
  g_assert_cmpuint (g_bytes_get_size (out), ==, 4096);
  g_assert_true (llmsbx_output_collector_get_truncated (output));
}

/* Cut inside a frame: the output is known to be incomplete. */
static void
test_exec_cut_mid_frame (Fixture *f)
{
  FakeRule rule = { .method = "POST", .path = "/exec/*/start", .fault = FAKE_FAULT_DROP, .drop_after = 12 };

  fake_engine_add_rule (f->engine, &rule);
  assert_exec_fails (f, LLMSBX_ERROR_PROTOCOL, "ended 23 bytes before the end of a frame");
}

/* Cut between frames, and the engine says the command still runs: it is
 * given until its deadline to finish, as it may only be slow to exit (the
 * message is the poll's or the last inspect request's, whichever ran out). */
static void
test_exec_cut_while_running (Fixture *f)
{
  FakeRule rule = { .method = "POST", .path = "/exec/*/start", .fault = FAKE_FAULT_DROP, .drop_after = 8 + 27 };

  fake_engine_add_rule (f->engine, &rule);
  add_rule (f, "GET", "/exec/*/json", FAKE_FAULT_RUNNING);
  assert_exec_fails (f, LLMSBX_ERROR_TIMEOUT, "deadline");
}

static void
test_exec_errors (Fixture *f)
{
  FakeRule once = { .method = "POST", .path = "/containers/*/exec", .fault = FAKE_FAULT_ERROR_JSON };

  fake_engine_add_rule (f->engine, &once);
  assert_exec_fails (f, LLMSBX_ERROR_CONTAINER_FAILED,
                     "Could not run a command in the sandbox: fake engine: the storage driver failed");
}

/* The sandbox vanishes mid-run: its exec and then itself are gone. */
static void
test_exec_sandbox_vanishes (Fixture *f)
{
  add_rule (f, "GET", "/exec/*/json", FAKE_FAULT_VANISH);
  add_rule (f, "GET", "/containers/*/json", FAKE_FAULT_VANISH);
  assert_exec_fails (f, LLMSBX_ERROR_CONTAINER_FAILED, "Container " FAKE_ENGINE_CONTAINER_ID " not found");
}

static void
test_exec_sandbox_gone (Fixture *f)
{
  add_rule (f, "POST", "/containers/*/exec", FAKE_FAULT_VANISH);
  assert_exec_fails (f, LLMSBX_ERROR_CONTAINER_FAILED, "Container " FAKE_ENGINE_CONTAINER_ID " not found");
}

/* Cases: archives -------------------------------------------------------- */

static void
test_archive (Fixture *f)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) archive = NULL;

  archive = llmsbx_backend_get_archive (f->backend, FAKE_ENGINE_CONTAINER_ID, "/sandbox/hello.txt", NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (archive);
  g_assert_cmpuint (g_bytes_get_size (archive), >, 512);
}

static void
test_archive_cut (Fixture *f)
{
  FakeRule rule = { .method = "GET", .path = "/containers/*/archive", .fault = FAKE_FAULT_DROP, .drop_after = 700 };
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) archive = NULL;
  gint64 started = g_get_monotonic_time ();

  fake_engine_add_rule (f->engine, &rule);
  archive = llmsbx_backend_get_archive (f->backend, FAKE_ENGINE_CONTAINER_ID, "/sandbox/hello.txt", NULL, &error);
  g_assert_null (archive);
  assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_BACKEND_UNAVAILABLE, "Lost the connection");
  assert_within (started, CONNECT_TIMEOUT);
}

static void
test_archive_silent (Fixture *f)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) archive = NULL;
  gint64 started = g_get_monotonic_time ();

  add_rule (f, "GET", "/containers/*/archive", FAKE_FAULT_SILENT);
  archive = llmsbx_backend_get_archive (f->backend, FAKE_ENGINE_CONTAINER_ID, "/sandbox/hello.txt", NULL, &error);
  g_assert_null (archive);
  assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_BACKEND_UNAVAILABLE, "(request-timeout)");
  assert_within (started, REQUEST_TIMEOUT);
}

static void
test_archive_sandbox_gone (Fixture *f)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) archive = NULL;

  add_rule (f, "GET", "/containers/*/archive", FAKE_FAULT_VANISH);
  archive = llmsbx_backend_get_archive (f->backend, FAKE_ENGINE_CONTAINER_ID, "/sandbox/hello.txt", NULL, &error);
  g_assert_null (archive);
  assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_CONTAINER_FAILED, "not found");
}

/* Cases: builds ---------------------------------------------------------- */

/* A build context with a Dockerfile, in a directory removed afterwards. */
static char *
make_build_context (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("llmsbx-faults-XXXXXX", &error);
  g_autofree char *dockerfile = NULL;

  g_assert_no_error (error);
  dockerfile = g_build_filename (dir, "Dockerfile", NULL);
  g_file_set_contents (dockerfile, "FROM fake\nRUN true\n", -1, &error);
  g_assert_no_error (error);
  return g_steal_pointer (&dir);
}

static void
remove_build_context (const char *dir)
{
  g_autofree char *dockerfile = g_build_filename (dir, "Dockerfile", NULL);

  g_assert_cmpint (g_unlink (dockerfile), ==, 0);
  g_assert_cmpint (g_rmdir (dir), ==, 0);
}

static void
test_build_works (Fixture *f)
{
  g_autofree char *context = make_build_context ();
  g_autoptr(GError) error = NULL;

  g_assert_true (llmsbx_backend_build_image (f->backend, context, NULL, "fake:built", NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (fake_engine_count (f->engine, "POST", "/build"), ==, 1);
  remove_build_context (context);
}

/* Podman 4 fails a build whose cache lookup races another client's
 * removal (buildah#5674); the build itself is sound, and is made again. */
static void
test_build_storage_race (Fixture *f)
{
  g_autofree char *context = make_build_context ();
  g_autoptr(GError) error = NULL;

  add_rule_once (f, "POST", "/build", FAKE_FAULT_STORAGE_RACE);
  g_assert_true (llmsbx_backend_build_image (f->backend, context, NULL, "fake:built", NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (fake_engine_count (f->engine, "POST", "/build"), ==, 2);
  remove_build_context (context);
}

/* A race that does not end is reported after a bounded number of builds. */
static void
test_build_storage_race_persists (Fixture *f)
{
  g_autofree char *context = make_build_context ();
  g_autoptr(GError) error = NULL;

  add_rule (f, "POST", "/build", FAKE_FAULT_STORAGE_RACE);
  g_assert_false (llmsbx_backend_build_image (f->backend, context, NULL, "fake:built", NULL, &error));
  assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_IMAGE_BUILD_FAILED, "layer not known");
  g_assert_cmpuint (fake_engine_count (f->engine, "POST", "/build"), ==, 3);
  remove_build_context (context);
}

/* Any other failure is the build's own, reported at once. */
static void
test_build_fails (Fixture *f)
{
  g_autofree char *context = make_build_context ();
  g_autoptr(GError) error = NULL;

  add_rule (f, "POST", "/build", FAKE_FAULT_ERROR_JSON);
  g_assert_false (llmsbx_backend_build_image (f->backend, context, NULL, "fake:built", NULL, &error));
  assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_IMAGE_BUILD_FAILED, "storage driver failed");
  g_assert_cmpuint (fake_engine_count (f->engine, "POST", "/build"), ==, 1);
  remove_build_context (context);
}

/* Cases: sessions -------------------------------------------------------- */

static LlmsbxSandboxSession *
open_session (Fixture *f)
{
  g_autoptr(LlmsbxSandboxSession) session = NULL;
  g_autoptr(GError) error = NULL;

  session = g_object_new (LLMSBX_TYPE_SANDBOX_SESSION, "lang", "python", "image", "fake:latest",
                          "client", f->backend, NULL);
  g_assert_true (llmsbx_sandbox_session_open (session, NULL, &error));
  g_assert_no_error (error);
  return g_steal_pointer (&session);
}

static void
test_session_works (Fixture *f)
{
  g_autoptr(LlmsbxSandboxSession) session = open_session (f);
  g_autoptr(LlmsbxExecutionResult) result = NULL;
  g_autoptr(GError) error = NULL;

  result = llmsbx_sandbox_session_run (session, "print('hello')", NULL, DEADLINE_SECONDS, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (llmsbx_execution_result_get_stdout (result), ==, "hello from the fake engine\n");
  g_assert_true (llmsbx_sandbox_session_close (session, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (fake_engine_count (f->engine, "DELETE", "/containers/*"), ==, 1);
}

/* The sandbox is gone in the middle of a run: the run says so, and the
 * session can still be closed. */
static void
test_session_sandbox_vanishes (Fixture *f)
{
  g_autoptr(LlmsbxSandboxSession) session = open_session (f);
  g_autoptr(LlmsbxExecutionResult) result = NULL;
  g_autoptr(GError) error = NULL;
  gint64 started;

  add_rule (f, "GET", "/exec/*/json", FAKE_FAULT_VANISH);
  add_rule (f, "GET", "/containers/*/json", FAKE_FAULT_VANISH);
  add_rule (f, "DELETE", "/containers/*", FAKE_FAULT_VANISH);
  started = g_get_monotonic_time ();
  result = llmsbx_sandbox_session_run (session, "print('hello')", NULL, DEADLINE_SECONDS, NULL, &error);
  g_assert_null (result);
  assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_CONTAINER_FAILED, "not found");
  assert_within (started, DEADLINE_SECONDS);
  g_clear_error (&error);

  llmsbx_sandbox_session_close (session, NULL, &error);
  g_assert_no_error (error);
  g_assert_false (llmsbx_sandbox_session_get_is_open (session));
}

/* The engine stops answering anything in the middle of a run: the run ends
 * with its timeout, the kill that follows gives up at its own, and closing
 * gives up at the request timeout. */
static void
test_session_engine_hangs (Fixture *f)
{
  g_autoptr(LlmsbxSandboxSession) session = open_session (f);
  g_autoptr(LlmsbxExecutionResult) result = NULL;
  g_autoptr(GError) error = NULL;
  gint64 started;

  add_rule (f, NULL, "*", FAKE_FAULT_SILENT);
  started = g_get_monotonic_time ();
  result = llmsbx_sandbox_session_run (session, "print('hello')", NULL, DEADLINE_SECONDS, NULL, &error);
  g_assert_null (result);
  assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_TIMEOUT, NULL);
  /* The kill after a timeout has 10 s. */
  assert_within (started, DEADLINE_SECONDS + 10 + CONNECT_TIMEOUT);
  g_clear_error (&error);

  started = g_get_monotonic_time ();
  llmsbx_sandbox_session_close (session, NULL, &error);
  assert_within (started, CONNECT_TIMEOUT);
  g_assert_false (llmsbx_sandbox_session_get_is_open (session));
}

/* Registration ----------------------------------------------------------- */

typedef void (*CaseFunc) (Fixture *f);

typedef struct {
  const char *path;
  CaseFunc    func;
} Case;

static const Case cases[] = {
  { "/faults/connect/refused-missing-socket", test_refused_missing_socket },
  { "/faults/connect/refused-port", test_refused_port },
  { "/faults/connect/silent", test_silent_ping },
  { "/faults/connect/slow-in-time", test_slow_ping_in_time },
  { "/faults/connect/too-slow", test_slow_ping_too_slow },
  { "/faults/connect/garbage", test_garbage_ping },
  { "/faults/connect/endless-body", test_endless_ping_body },
  { "/faults/connect/endless-header", test_endless_ping_header },
  { "/faults/connect/errors", test_ping_errors },
  { "/faults/sandbox/create-errors", test_create_errors },
  { "/faults/sandbox/start-fails", test_start_fails },
  { "/faults/sandbox/create-answer-cut", test_create_answer_cut },
  { "/faults/sandbox/create-silent", test_create_silent },
  { "/faults/sandbox/create-endless-header", test_create_endless_header },
  { "/faults/sandbox/inspect-endless-body", test_inspect_endless_body },
  { "/faults/sandbox/inspect-cut", test_inspect_cut },
  { "/faults/sandbox/inspect-deep-json", test_inspect_deep_json },
  { "/faults/sandbox/deep-error-body", test_deep_error_body },
  { "/faults/sandbox/pull-deep-line", test_pull_deep_line },
  { "/faults/sandbox/inspect-storage-race", test_inspect_storage_race },
  { "/faults/sandbox/inspect-storage-race-persists", test_inspect_storage_race_persists },
  { "/faults/sandbox/inspect-error-once", test_inspect_error_once },
  { "/faults/sandbox/vanished-before-attach", test_vanished_before_attach },
  { "/faults/exec/works", test_exec_works },
  { "/faults/exec/slow-output", test_exec_slow_output },
  { "/faults/exec/slow-past-deadline", test_exec_slow_past_deadline },
  { "/faults/exec/silent-create", test_exec_silent_create },
  { "/faults/exec/silent-start", test_exec_silent_start },
  { "/faults/exec/silent-inspect", test_exec_silent_inspect },
  { "/faults/exec/endless-output", test_exec_endless_output },
  { "/faults/exec/cut-mid-frame", test_exec_cut_mid_frame },
  { "/faults/exec/cut-while-running", test_exec_cut_while_running },
  { "/faults/exec/errors", test_exec_errors },
  { "/faults/exec/sandbox-vanishes", test_exec_sandbox_vanishes },
  { "/faults/exec/sandbox-gone", test_exec_sandbox_gone },
  { "/faults/archive/works", test_archive },
  { "/faults/archive/cut", test_archive_cut },
  { "/faults/archive/silent", test_archive_silent },
  { "/faults/archive/sandbox-gone", test_archive_sandbox_gone },
  { "/faults/build/works", test_build_works },
  { "/faults/build/storage-race", test_build_storage_race },
  { "/faults/build/storage-race-persists", test_build_storage_race_persists },
  { "/faults/build/fails", test_build_fails },
  { "/faults/session/works", test_session_works },
  { "/faults/session/sandbox-vanishes", test_session_sandbox_vanishes },
  { "/faults/session/engine-hangs", test_session_engine_hangs },
};

static void
run_case (gconstpointer data)
{
  const Case *c = data;
  Resources before = resources_now ();

  {
    Fixture f;

    f.engine = fake_engine_new ();
    f.backend = docker_backend (fake_engine_get_url (f.engine));
    c->func (&f);
    g_object_unref (f.backend);
    fake_engine_free (f.engine);
  }

  assert_nothing_leaked (&before);
}

/* What stays for the life of the process is made once, before any count:
 * the plugins, libcurl's global state, GLib's type system. */
static void
warm_up (void)
{
  Fixture f;

  f.engine = fake_engine_new ();
  f.backend = docker_backend (fake_engine_get_url (f.engine));
  test_session_works (&f);
  g_object_unref (f.backend);
  fake_engine_free (f.engine);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  /* Only the fake engine is ever talked to. */
  g_unsetenv ("DOCKER_HOST");
  g_unsetenv ("DOCKER_TLS_VERIFY");
  g_unsetenv ("DOCKER_CERT_PATH");
  warm_up ();

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    g_test_add_data_func (cases[i].path, &cases[i], run_case);

  return g_test_run ();
}
