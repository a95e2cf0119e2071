/* llmsbx-bench.c: our run() and open+run+close next to the raw Engine-API
 * floors, measured in the same run, and the client's peak memory.
 *
 * The floors talk to the Docker Engine API directly with libcurl, doing the
 * same work semantically (a Python program that prints 42) with the fewest
 * requests the protocol allows. Floor and library iterations alternate so
 * machine noise hits both alike. Memory is measured in llmsbx-bench-client, a
 * separate program that links only libllmsbx, so the floors' own libcurl
 * cannot inflate it. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <curl/curl.h>
#include <json-glib/json-glib.h>
#include <llmsbx.h>

#define DEFAULT_IMAGE       "llmsbx/python:bookworm"
#define DEFAULT_ITERATIONS  20
#define BENCH_LABEL_KEY     "io.llmsbx.managed-by"
#define BENCH_LABEL_VALUE   "libllmsbx-bench"
#define PYTHON_CODE         "print(6*7)"
#define EXPECTED_STDOUT     "42\n"
#define MAX_RESPONSE_BYTES  (4 * 1024 * 1024)

#define TARGET_WARM_RATIO   1.20
/* Issue 14: warm runs through the resident runner ten times under the floor. */
#define TARGET_RESIDENT_RATIO 0.10
#define TARGET_COLD_RATIO   1.15
/* Issue 14: a warm run() through the runner and an interactive cell, in ms. */
#define TARGET_RESIDENT_MS  10.0
#define TARGET_CELL_MS      5.0
/* Runs timed per session in the automatic mode, after its first two. */
#define AUTO_WARM_RUNS      4
#define TARGET_RSS_KIB      (8 * 1024)

/* Set by SIGINT: loops stop at the next iteration and everything is removed. */
static volatile sig_atomic_t interrupted;
static volatile pid_t client_pid;

static void
on_sigint (int signum)
{
  interrupted = 1;
  if (client_pid > 0)
    kill (client_pid, SIGINT);
}

static gboolean
check_interrupted (GError **error)
{
  if (!interrupted)
    return FALSE;
  g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CANCELLED, "Interrupted");
  return TRUE;
}

/* Raw Engine API -------------------------------------------------------- */

typedef struct {
  CURL       *curl;
  char       *socket_path;
  char       *api_prefix;     /* "/v1.41" */
  char       *server_version;
  GByteArray *body;
  guint       requests;
} RawEngine;

static size_t
collect_body (char   *data,
              size_t  size,
              size_t  count,
              void   *user_data)
{
  GByteArray *body = user_data;

  if (body->len + size * count > MAX_RESPONSE_BYTES)
    return 0;  /* makes libcurl fail the transfer */
  g_byte_array_append (body, (const guint8 *) data, size * count);
  return size * count;
}

/* One HTTP request; the response body is left in engine->body. */
static gboolean
raw_request (RawEngine   *engine,
             const char  *method,
             const char  *path,
             const char  *json_body,
             long         expected_status,
             GError     **error)
{
  g_autofree char *url = g_strdup_printf ("http://localhost%s%s", engine->api_prefix, path);
  struct curl_slist *headers = NULL;
  CURLcode code;
  long status = 0;

  g_byte_array_set_size (engine->body, 0);
  /* Reset keeps the connection cache, so keep-alive connections are reused. */
  curl_easy_reset (engine->curl);
  curl_easy_setopt (engine->curl, CURLOPT_UNIX_SOCKET_PATH, engine->socket_path);
  curl_easy_setopt (engine->curl, CURLOPT_URL, url);
  curl_easy_setopt (engine->curl, CURLOPT_WRITEFUNCTION, collect_body);
  curl_easy_setopt (engine->curl, CURLOPT_WRITEDATA, engine->body);
  curl_easy_setopt (engine->curl, CURLOPT_NOSIGNAL, 1L);

  if (g_str_equal (method, "POST"))
    {
      headers = curl_slist_append (headers, "Content-Type: application/json");
      headers = curl_slist_append (headers, "Expect:");
      curl_easy_setopt (engine->curl, CURLOPT_HTTPHEADER, headers);
      curl_easy_setopt (engine->curl, CURLOPT_POSTFIELDS, json_body ? json_body : "");
      curl_easy_setopt (engine->curl, CURLOPT_POSTFIELDSIZE, (long) (json_body ? strlen (json_body) : 0));
    }
  else if (!g_str_equal (method, "GET"))
    {
      curl_easy_setopt (engine->curl, CURLOPT_CUSTOMREQUEST, method);
    }

  engine->requests++;
  code = curl_easy_perform (engine->curl);
  curl_slist_free_all (headers);

  if (code != CURLE_OK)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s %s on %s failed: %s",
                   method, path, engine->socket_path, curl_easy_strerror (code));
      return FALSE;
    }

  curl_easy_getinfo (engine->curl, CURLINFO_RESPONSE_CODE, &status);
  if (status != expected_status)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s %s: HTTP %ld: %.*s",
                   method, path, status, (int) MIN (engine->body->len, 500),
                   (const char *) engine->body->data);
      return FALSE;
    }

  return TRUE;
}

static JsonObject *
raw_response_object (RawEngine  *engine,
                     GError    **error)
{
  g_autoptr(JsonParser) parser = json_parser_new_immutable ();
  JsonNode *root;

  if (!json_parser_load_from_data (parser, (const char *) engine->body->data,
                                   engine->body->len, error))
    return NULL;

  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                           "The engine answered with something that is not a JSON object");
      return NULL;
    }

  return json_object_ref (json_node_get_object (root));
}

static char *
raw_response_string (RawEngine   *engine,
                     const char  *member,
                     GError     **error)
{
  g_autoptr(JsonObject) object = raw_response_object (engine, error);
  const char *value;

  if (object == NULL)
    return NULL;

  value = json_object_get_string_member_with_default (object, member, NULL);
  if (value == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "The engine's answer has no \"%s\"", member);
      return NULL;
    }

  return g_strdup (value);
}

/* DOCKER_HOST as our backend reads it; the floors need a unix socket. */
static char *
docker_socket_path (GError **error)
{
  const char *host = g_getenv ("DOCKER_HOST");

  if (host == NULL || host[0] == '\0')
    return g_strdup ("/var/run/docker.sock");
  if (g_str_has_prefix (host, "unix://"))
    return g_strdup (host + strlen ("unix://"));

  g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
               "DOCKER_HOST=%s: the benchmark's floors need a unix:// socket", host);
  return NULL;
}

static void
raw_engine_free (RawEngine *engine)
{
  if (engine->curl != NULL)
    curl_easy_cleanup (engine->curl);
  g_free (engine->socket_path);
  g_free (engine->api_prefix);
  g_free (engine->server_version);
  g_byte_array_unref (engine->body);
  g_free (engine);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RawEngine, raw_engine_free)

static RawEngine *
raw_engine_new (GError **error)
{
  g_autoptr(RawEngine) engine = g_new0 (RawEngine, 1);
  g_autoptr(JsonObject) version = NULL;
  const char *api_version;

  engine->body = g_byte_array_new ();
  engine->api_prefix = g_strdup ("");
  engine->socket_path = docker_socket_path (error);
  if (engine->socket_path == NULL)
    return NULL;

  engine->curl = curl_easy_init ();
  if (engine->curl == NULL)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_FAILED, "libcurl could not start");
      return NULL;
    }

  /* The daemon's own API version; every field used here exists since 1.41. */
  if (!raw_request (engine, "GET", "/version", NULL, 200, error))
    {
      g_prefix_error (error, "Is the Docker daemon running? ");
      return NULL;
    }
  version = raw_response_object (engine, error);
  if (version == NULL)
    return NULL;

  api_version = json_object_get_string_member_with_default (version, "ApiVersion", "1.41");
  g_free (engine->api_prefix);
  engine->api_prefix = g_strdup_printf ("/v%s", api_version);
  engine->server_version = g_strdup_printf ("Docker %s, API %s",
                                            json_object_get_string_member_with_default (version, "Version", "?"),
                                            api_version);
  return g_steal_pointer (&engine);
}

/* Stdout of a non-TTY exec stream: 8-byte frame headers, then the payload. */
static GString *
demux_stdout (const guint8 *data,
              gsize         length,
              GError      **error)
{
  GString *out = g_string_new (NULL);
  gsize offset = 0;

  while (offset + 8 <= length)
    {
      guint32 size = (guint32) data[offset + 4] << 24 | (guint32) data[offset + 5] << 16 |
                     (guint32) data[offset + 6] << 8 | data[offset + 7];
      guint8 stream = data[offset];

      if (size > length - offset - 8)
        break;
      if (stream == 1)
        g_string_append_len (out, (const char *) data + offset + 8, size);
      offset += 8 + size;
    }

  if (offset != length)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                           "The exec stream ended in the middle of a frame");
      g_string_free (out, TRUE);
      return NULL;
    }

  return out;
}

/* Floor of a warm run(): exec create + start (stream read to EOF) + inspect. */
static gboolean
raw_exec_python (RawEngine   *engine,
                 const char  *container_id,
                 GError     **error)
{
  static const char exec_body[] =
    "{\"AttachStdin\":false,\"AttachStdout\":true,\"AttachStderr\":true,\"Tty\":false,"
    "\"Cmd\":[\"python3\",\"-c\",\"" PYTHON_CODE "\"],"
    "\"Env\":[\"PYTHONUNBUFFERED=1\"],\"WorkingDir\":\"/sandbox\"}";
  g_autofree char *create_path = g_strdup_printf ("/containers/%s/exec", container_id);
  g_autofree char *exec_id = NULL;
  g_autofree char *start_path = NULL;
  g_autofree char *inspect_path = NULL;
  g_autoptr(GString) out = NULL;

  if (!raw_request (engine, "POST", create_path, exec_body, 201, error))
    return FALSE;
  exec_id = raw_response_string (engine, "Id", error);
  if (exec_id == NULL)
    return FALSE;

  start_path = g_strdup_printf ("/exec/%s/start", exec_id);
  if (!raw_request (engine, "POST", start_path, "{\"Detach\":false,\"Tty\":false}", 200, error))
    return FALSE;
  out = demux_stdout (engine->body->data, engine->body->len, error);
  if (out == NULL)
    return FALSE;
  if (!g_str_equal (out->str, EXPECTED_STDOUT))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                   "The floor's exec printed \"%s\" instead of 42", out->str);
      return FALSE;
    }

  /* The stream ends when the process does; Running is checked in case the
   * daemon has not recorded the exit yet (protocols.md §1.5). */
  inspect_path = g_strdup_printf ("/exec/%s/json", exec_id);
  for (guint attempt = 0; ; attempt++)
    {
      g_autoptr(JsonObject) state = NULL;

      if (!raw_request (engine, "GET", inspect_path, NULL, 200, error))
        return FALSE;
      state = raw_response_object (engine, error);
      if (state == NULL)
        return FALSE;

      if (!json_object_get_boolean_member_with_default (state, "Running", FALSE))
        {
          gint64 exit_code = json_object_get_int_member_with_default (state, "ExitCode", -1);

          if (exit_code != 0)
            {
              g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                           "The floor's exec exited with %" G_GINT64_FORMAT, exit_code);
              return FALSE;
            }
          return TRUE;
        }

      if (attempt == 50)
        {
          g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                               "The floor's exec still ran after its stream ended");
          return FALSE;
        }
      g_usleep (20 * 1000);
    }
}

/* Floor of open(): create (same image, keep-alive command, init, workdir) + start. */
static char *
raw_create_container (RawEngine   *engine,
                      const char  *image,
                      GError     **error)
{
  g_autoptr(JsonBuilder) builder = json_builder_new_immutable ();
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autofree char *body = NULL;
  g_autofree char *id = NULL;
  g_autofree char *start_path = NULL;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "Image");
  json_builder_add_string_value (builder, image);
  json_builder_set_member_name (builder, "Cmd");
  json_builder_begin_array (builder);
  json_builder_add_string_value (builder, "sleep");
  json_builder_add_string_value (builder, "infinity");
  json_builder_end_array (builder);
  json_builder_set_member_name (builder, "WorkingDir");
  json_builder_add_string_value (builder, "/sandbox");
  json_builder_set_member_name (builder, "Labels");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, BENCH_LABEL_KEY);
  json_builder_add_string_value (builder, BENCH_LABEL_VALUE);
  json_builder_end_object (builder);
  json_builder_set_member_name (builder, "HostConfig");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "Init");
  json_builder_add_boolean_value (builder, TRUE);
  json_builder_end_object (builder);
  json_builder_end_object (builder);

  root = json_builder_get_root (builder);
  json_generator_set_root (generator, root);
  body = json_generator_to_data (generator, NULL);

  if (!raw_request (engine, "POST", "/containers/create", body, 201, error))
    return NULL;
  id = raw_response_string (engine, "Id", error);
  if (id == NULL)
    return NULL;

  start_path = g_strdup_printf ("/containers/%s/start", id);
  if (!raw_request (engine, "POST", start_path, NULL, 204, error))
    {
      g_autofree char *remove_path = g_strdup_printf ("/containers/%s?force=1&v=1", id);

      raw_request (engine, "DELETE", remove_path, NULL, 204, NULL);
      return NULL;
    }

  return g_steal_pointer (&id);
}

static gboolean
raw_remove_container (RawEngine   *engine,
                      const char  *id,
                      GError     **error)
{
  g_autofree char *path = g_strdup_printf ("/containers/%s?force=1&v=1", id);

  return raw_request (engine, "DELETE", path, NULL, 204, error);
}

/* Floor of open+run+close. */
static gboolean
raw_cold_cycle (RawEngine   *engine,
                const char  *image,
                GError     **error)
{
  g_autofree char *id = raw_create_container (engine, image, error);
  gboolean ok;

  if (id == NULL)
    return FALSE;
  ok = raw_exec_python (engine, id, error);
  if (!raw_remove_container (engine, id, ok ? error : NULL))
    return FALSE;
  return ok;
}

/* Removes what an interrupted or failed run left: the floors' containers by
 * label, ours by the ids recorded when they were opened. */
static void
raw_sweep (RawEngine *engine,
           GPtrArray *our_ids)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonParser) parser = json_parser_new_immutable ();
  g_autofree char *filters = g_uri_escape_string ("{\"label\":[\"" BENCH_LABEL_KEY "=" BENCH_LABEL_VALUE "\"]}",
                                                  NULL, FALSE);
  g_autofree char *path = g_strdup_printf ("/containers/json?all=1&filters=%s", filters);
  JsonNode *root;

  for (guint i = 0; our_ids != NULL && i < our_ids->len; i++)
    {
      g_autofree char *remove_path = g_strdup_printf ("/containers/%s?force=1&v=1",
                                                      (const char *) g_ptr_array_index (our_ids, i));
      g_autoptr(GError) remove_error = NULL;

      /* 404 is the normal case: the session removed it. */
      if (raw_request (engine, "DELETE", remove_path, NULL, 204, &remove_error))
        g_printerr ("llmsbx-bench: removed leftover sandbox %.12s\n",
                    (const char *) g_ptr_array_index (our_ids, i));
    }

  if (!raw_request (engine, "GET", path, NULL, 200, &error) ||
      !json_parser_load_from_data (parser, (const char *) engine->body->data, engine->body->len, &error))
    {
      g_printerr ("llmsbx-bench: could not list leftover containers: %s\n", error->message);
      return;
    }

  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_ARRAY (root))
    return;

  for (guint i = 0; i < json_array_get_length (json_node_get_array (root)); i++)
    {
      JsonNode *item = json_array_get_element (json_node_get_array (root), i);
      const char *id;

      if (!JSON_NODE_HOLDS_OBJECT (item))
        continue;
      id = json_object_get_string_member_with_default (json_node_get_object (item), "Id", NULL);
      if (id != NULL && !raw_remove_container (engine, id, &error))
        {
          g_printerr ("llmsbx-bench: could not remove container %.12s: %s\n", id, error->message);
          g_clear_error (&error);
        }
    }
}

/* The library ------------------------------------------------------------ */

/* A session with its own backend, as a caller who creates a session gets,
 * but held here so its request count can be read. */
/* A session of @type (a plain or an interactive one) whose runs take @mode. */
static LlmsbxSandboxSession *
ours_session_new_full (const char            *image,
                       GType                  type,
                       LlmsbxCodeRunnerMode   mode,
                       LlmsbxBackend        **backend_out,
                       GError               **error)
{
  g_autoptr(LlmsbxBackend) backend = NULL;

  backend = llmsbx_registry_create_backend (llmsbx_registry_get_default (), "docker", error);
  if (backend == NULL)
    return NULL;

  *backend_out = g_object_ref (backend);
  return g_object_new (type,
                       "lang", "python",
                       "image", image,
                       "client", backend,
                       "code-runner", mode,
                       NULL);
}

static LlmsbxSandboxSession *
ours_session_new (const char     *image,
                  LlmsbxBackend **backend_out,
                  GError        **error)
{
  return ours_session_new_full (image, LLMSBX_TYPE_SANDBOX_SESSION, LLMSBX_CODE_RUNNER_MODE_AUTO,
                                backend_out, error);
}

static gboolean
ours_run (LlmsbxSandboxSession  *session,
          GError               **error)
{
  g_autoptr(LlmsbxExecutionResult) result = NULL;

  result = llmsbx_sandbox_session_run (session, PYTHON_CODE, NULL, 0, NULL, error);
  if (result == NULL)
    return FALSE;

  if (llmsbx_execution_result_get_exit_code (result) != 0 ||
      g_strcmp0 (llmsbx_execution_result_get_stdout (result), EXPECTED_STDOUT) != 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                   "run() exited with %d and printed \"%s\" instead of 42 (stderr: %s)",
                   llmsbx_execution_result_get_exit_code (result),
                   llmsbx_execution_result_get_stdout (result),
                   llmsbx_execution_result_get_stderr (result));
      return FALSE;
    }

  return TRUE;
}

static gboolean
ours_open (LlmsbxSandboxSession  *session,
           GPtrArray             *our_ids,
           GError               **error)
{
  if (!llmsbx_sandbox_session_open (session, NULL, error))
    return FALSE;
  if (our_ids != NULL)
    g_ptr_array_add (our_ids, g_strdup (llmsbx_sandbox_session_get_container_id (session)));
  return TRUE;
}

static gboolean
ours_cold_cycle (const char  *image,
                 GPtrArray   *our_ids,
                 guint       *requests,
                 GError     **error)
{
  g_autoptr(LlmsbxBackend) backend = NULL;
  g_autoptr(LlmsbxSandboxSession) session = ours_session_new (image, &backend, error);
  gboolean ok;

  if (session == NULL)
    return FALSE;
  if (!ours_open (session, our_ids, error))
    return FALSE;

  ok = ours_run (session, error);
  if (!llmsbx_sandbox_session_close (session, NULL, ok ? error : NULL))
    ok = FALSE;

  if (requests != NULL)
    *requests = llmsbx_backend_get_request_count (backend);
  return ok;
}

/* Measurements ------------------------------------------------------------ */

typedef struct {
  const char *key;
  const char *label;
  GArray     *us;        /* gint64 microseconds, in the order measured */
  guint       requests_min;
  guint       requests_max;
  gint64      median_us;
  gint64      p90_us;
} Series;

static void
series_init (Series     *series,
             const char *key,
             const char *label)
{
  series->key = key;
  series->label = label;
  series->us = g_array_new (FALSE, FALSE, sizeof (gint64));
  series->requests_min = G_MAXUINT;
  series->requests_max = 0;
}

static void
series_add (Series *series,
            gint64  started,
            guint   requests)
{
  gint64 us = g_get_monotonic_time () - started;

  g_array_append_val (series->us, us);
  series->requests_min = MIN (series->requests_min, requests);
  series->requests_max = MAX (series->requests_max, requests);
}

static int
compare_int64 (gconstpointer a,
               gconstpointer b)
{
  gint64 x = *(const gint64 *) a, y = *(const gint64 *) b;

  return (x > y) - (x < y);
}

static void
series_finish (Series *series)
{
  g_autoptr(GArray) sorted = NULL;
  guint n = series->us->len;
  gint64 *v;

  if (n == 0)
    return;
  sorted = g_array_copy (series->us);
  g_array_sort (sorted, compare_int64);
  v = (gint64 *) sorted->data;
  series->median_us = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
  /* Nearest-rank percentile. */
  series->p90_us = v[MAX ((9 * n + 9) / 10, 1) - 1];
}

static void
series_clear (Series *series)
{
  g_clear_pointer (&series->us, g_array_unref);
}

/* Warm: one floor container and three open sessions (the exec path, the
 * resident runner, an interactive one), each measured in turn. */
static gboolean
measure_warm (RawEngine  *engine,
              const char *image,
              guint       iterations,
              GPtrArray  *our_ids,
              Series     *floor,
              Series     *ours,    /* exec path, resident runner, interactive cell */
              GError    **error)
{
  const GType types[3] = { LLMSBX_TYPE_SANDBOX_SESSION, LLMSBX_TYPE_SANDBOX_SESSION,
                           LLMSBX_TYPE_INTERACTIVE_SANDBOX_SESSION };
  const LlmsbxCodeRunnerMode modes[3] = { LLMSBX_CODE_RUNNER_MODE_EXEC, LLMSBX_CODE_RUNNER_MODE_RESIDENT,
                                          LLMSBX_CODE_RUNNER_MODE_RESIDENT };
  LlmsbxBackend *backends[3] = { NULL };
  LlmsbxSandboxSession *sessions[3] = { NULL };
  g_autofree char *container = NULL;
  gboolean ok = FALSE;

  container = raw_create_container (engine, image, error);
  if (container == NULL)
    return FALSE;

  for (guint k = 0; k < 3; k++)
    {
      sessions[k] = ours_session_new_full (image, types[k], modes[k], &backends[k], error);
      if (sessions[k] == NULL || !ours_open (sessions[k], our_ids, error))
        goto out;
    }

  /* One untimed round each, so that none pays for cold page caches (and the
   * runner is started). */
  if (!raw_exec_python (engine, container, error))
    goto out;
  for (guint k = 0; k < 3; k++)
    if (!ours_run (sessions[k], error))
      goto out;

  for (guint i = 0; i < iterations; i++)
    {
      gint64 started;
      guint before;

      if (check_interrupted (error))
        goto out;

      before = engine->requests;
      started = g_get_monotonic_time ();
      if (!raw_exec_python (engine, container, error))
        goto out;
      series_add (floor, started, engine->requests - before);

      for (guint k = 0; k < 3; k++)
        {
          before = llmsbx_backend_get_request_count (backends[k]);
          started = g_get_monotonic_time ();
          if (!ours_run (sessions[k], error))
            goto out;
          series_add (&ours[k], started, llmsbx_backend_get_request_count (backends[k]) - before);
        }
    }
  ok = TRUE;

out:
  for (guint k = 0; k < 3; k++)
    {
      if (sessions[k] != NULL && !llmsbx_sandbox_session_close (sessions[k], NULL, ok ? error : NULL))
        ok = FALSE;
      g_clear_object (&sessions[k]);
      g_clear_object (&backends[k]);
    }
  if (!raw_remove_container (engine, container, ok ? error : NULL))
    ok = FALSE;
  return ok;
}

/* Cold: a fresh container and a fresh session (with its own backend, so it
 * connects too) per iteration. */
static gboolean
measure_cold (RawEngine  *engine,
              const char *image,
              guint       iterations,
              GPtrArray  *our_ids,
              Series     *floor,
              Series     *ours,
              GError    **error)
{
  if (!raw_cold_cycle (engine, image, error) ||
      !ours_cold_cycle (image, our_ids, NULL, error))
    return FALSE;

  for (guint i = 0; i < iterations; i++)
    {
      gint64 started;
      guint before;
      guint requests = 0;

      if (check_interrupted (error))
        return FALSE;

      before = engine->requests;
      started = g_get_monotonic_time ();
      if (!raw_cold_cycle (engine, image, error))
        return FALSE;
      series_add (floor, started, engine->requests - before);

      started = g_get_monotonic_time ();
      if (!ours_cold_cycle (image, our_ids, &requests, error))
        return FALSE;
      series_add (ours, started, requests);
    }

  return TRUE;
}

/* The automatic mode (the default), one new session per iteration: its
 * first run (the exec path), its second (which starts the runner) and the
 * warm ones after them, timed apart. Opening and closing are not timed. */
static gboolean
measure_auto (const char  *image,
              guint        iterations,
              GPtrArray   *our_ids,
              Series      *series,   /* first, second, warm */
              GError     **error)
{
  for (guint i = 0; i < iterations; i++)
    {
      g_autoptr(LlmsbxBackend) backend = NULL;
      g_autoptr(LlmsbxSandboxSession) session = NULL;
      gboolean ok = TRUE;

      if (check_interrupted (error))
        return FALSE;
      session = ours_session_new (image, &backend, error);
      if (session == NULL || !ours_open (session, our_ids, error))
        return FALSE;
      for (guint run = 0; ok && run < 2 + AUTO_WARM_RUNS; run++)
        {
          guint before = llmsbx_backend_get_request_count (backend);
          gint64 started = g_get_monotonic_time ();

          ok = ours_run (session, error);
          if (ok)
            series_add (&series[MIN (run, 2)], started, llmsbx_backend_get_request_count (backend) - before);
        }
      if (!llmsbx_sandbox_session_close (session, NULL, ok ? error : NULL) || !ok)
        return FALSE;
    }
  return TRUE;
}

/* Runs llmsbx-bench-client (installed next to this program) and returns its
 * peak RSS in KiB. */
static gboolean
measure_rss (const char  *image,
             guint        cycles,
             glong       *max_rss_kib,
             GError     **error)
{
  g_autofree char *self_path = g_file_read_link ("/proc/self/exe", error);
  g_autofree char *self_dir = NULL;
  g_autofree char *client_path = NULL;
  g_autofree char *cycles_arg = g_strdup_printf ("%u", cycles);
  const char *argv[4] = { NULL };
  struct rusage usage;
  GPid pid;
  int status;
  pid_t waited;

  if (self_path == NULL)
    return FALSE;
  self_dir = g_path_get_dirname (self_path);
  client_path = g_build_filename (self_dir, "llmsbx-bench-client", NULL);

  argv[0] = client_path;
  argv[1] = image;
  argv[2] = cycles_arg;
  if (!g_spawn_async (NULL, (char **) argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD,
                      NULL, NULL, &pid, error))
    return FALSE;

  client_pid = pid;
  do
    waited = wait4 (pid, &status, 0, &usage);
  while (waited < 0 && errno == EINTR);
  client_pid = 0;

  if (waited < 0)
    {
      int saved_errno = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                   "Waiting for llmsbx-bench-client failed: %s", g_strerror (saved_errno));
      return FALSE;
    }

  if (!WIFEXITED (status) || WEXITSTATUS (status) != 0)
    {
      if (check_interrupted (error))
        return FALSE;
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                           "llmsbx-bench-client failed (see its message above)");
      return FALSE;
    }

  *max_rss_kib = usage.ru_maxrss;
  return TRUE;
}

/* Report ------------------------------------------------------------------ */

typedef struct {
  const char *server;
  const char *image;
  guint       warm_iterations;
  guint       cold_iterations;
  Series      series[9];   /* floor-warm, ours-warm (exec, resident, cell), floor-cold, ours-cold,
                            * auto (first, second, warm) */
  glong       max_rss_kib;
  double      warm_ratio;      /* the exec path's */
  double      resident_ratio;  /* the resident runner's */
  double      cold_ratio;
} Report;

static char *
format_requests (const Series *series)
{
  if (series->requests_min == series->requests_max)
    return g_strdup_printf ("%u", series->requests_min);
  return g_strdup_printf ("%u-%u", series->requests_min, series->requests_max);
}

static gboolean
print_table (const Report *report)
{
  gboolean warm_pass = report->warm_ratio <= TARGET_WARM_RATIO;
  gboolean resident_pass = report->resident_ratio <= TARGET_RESIDENT_RATIO;
  gboolean cold_pass = report->cold_ratio <= TARGET_COLD_RATIO;
  gboolean rss_pass = report->max_rss_kib < TARGET_RSS_KIB;
  double auto_ms = report->series[8].median_us / 1000.0;
  double cell_ms = report->series[3].median_us / 1000.0;
  gboolean auto_pass = auto_ms <= TARGET_RESIDENT_MS;
  gboolean cell_pass = cell_ms <= TARGET_CELL_MS;

  g_print ("libllmsbx bench: %s, image %s, %u warm / %u cold iterations\n\n",
           report->server, report->image, report->warm_iterations, report->cold_iterations);
  g_print ("%-44s %9s %9s %9s\n", "operation", "median ms", "p90 ms", "requests");
  for (guint i = 0; i < G_N_ELEMENTS (report->series); i++)
    {
      g_autofree char *requests = format_requests (&report->series[i]);

      g_print ("%-44s %9.1f %9.1f %9s\n", report->series[i].label,
               report->series[i].median_us / 1000.0, report->series[i].p90_us / 1000.0, requests);
      if (i == 3 || i == 5)
        g_print ("\n");
    }
  g_print ("\n%-44s %9.2f MiB\n\n", "ours:  client max RSS (llmsbx-bench-client)",
           report->max_rss_kib / 1024.0);

  g_print ("%-44s %9s %9s\n", "target", "measured", "limit");
  g_print ("%-44s %8.2fx %8.2fx  %s\n", "warm run() (exec path) / raw exec floor",
           report->warm_ratio, TARGET_WARM_RATIO, warm_pass ? "PASS" : "FAIL");
  g_print ("%-44s %8.2fx %8.2fx  %s\n", "warm run() (resident) / raw exec floor",
           report->resident_ratio, TARGET_RESIDENT_RATIO, resident_pass ? "PASS" : "FAIL");
  g_print ("%-44s %6.2f ms %6.0f ms  %s\n", "warm run() (auto, 3rd run on)",
           auto_ms, TARGET_RESIDENT_MS, auto_pass ? "PASS" : "FAIL");
  g_print ("%-44s %6.2f ms %6.0f ms  %s\n", "interactive cell", cell_ms, TARGET_CELL_MS,
           cell_pass ? "PASS" : "FAIL");
  g_print ("%-44s %8.2fx %8.2fx  %s\n", "open+run+close / raw create..remove floor",
           report->cold_ratio, TARGET_COLD_RATIO, cold_pass ? "PASS" : "FAIL");
  g_print ("%-44s %5.2f MiB  < %d MiB  %s\n", "client max RSS",
           report->max_rss_kib / 1024.0, TARGET_RSS_KIB / 1024, rss_pass ? "PASS" : "FAIL");

  return warm_pass && resident_pass && auto_pass && cell_pass && cold_pass && rss_pass;
}

static void
add_target (JsonBuilder *builder,
            const char  *name,
            JsonNode    *measured,
            JsonNode    *limit,
            gboolean     pass)
{
  json_builder_set_member_name (builder, name);
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "measured");
  json_builder_add_value (builder, measured);
  json_builder_set_member_name (builder, "limit");
  json_builder_add_value (builder, limit);
  json_builder_set_member_name (builder, "pass");
  json_builder_add_boolean_value (builder, pass);
  json_builder_end_object (builder);
}

static void
print_json (const Report *report)
{
  g_autoptr(JsonBuilder) builder = json_builder_new_immutable ();
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autofree char *text = NULL;
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "server");
  json_builder_add_string_value (builder, report->server);
  json_builder_set_member_name (builder, "image");
  json_builder_add_string_value (builder, report->image);
  json_builder_set_member_name (builder, "warm_iterations");
  json_builder_add_int_value (builder, report->warm_iterations);
  json_builder_set_member_name (builder, "cold_iterations");
  json_builder_add_int_value (builder, report->cold_iterations);

  json_builder_set_member_name (builder, "operations");
  json_builder_begin_object (builder);
  for (guint i = 0; i < G_N_ELEMENTS (report->series); i++)
    {
      const Series *series = &report->series[i];

      json_builder_set_member_name (builder, series->key);
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "median_us");
      json_builder_add_int_value (builder, series->median_us);
      json_builder_set_member_name (builder, "p90_us");
      json_builder_add_int_value (builder, series->p90_us);
      json_builder_set_member_name (builder, "requests_min");
      json_builder_add_int_value (builder, series->requests_min);
      json_builder_set_member_name (builder, "requests_max");
      json_builder_add_int_value (builder, series->requests_max);
      json_builder_set_member_name (builder, "samples_us");
      json_builder_begin_array (builder);
      for (guint j = 0; j < series->us->len; j++)
        json_builder_add_int_value (builder, g_array_index (series->us, gint64, j));
      json_builder_end_array (builder);
      json_builder_end_object (builder);
    }
  json_builder_end_object (builder);

  json_builder_set_member_name (builder, "max_rss_kib");
  json_builder_add_int_value (builder, report->max_rss_kib);

  json_builder_set_member_name (builder, "targets");
  json_builder_begin_object (builder);
  add_target (builder, "warm_ratio", json_node_init_double (json_node_alloc (), report->warm_ratio),
              json_node_init_double (json_node_alloc (), TARGET_WARM_RATIO),
              report->warm_ratio <= TARGET_WARM_RATIO);
  add_target (builder, "resident_ratio", json_node_init_double (json_node_alloc (), report->resident_ratio),
              json_node_init_double (json_node_alloc (), TARGET_RESIDENT_RATIO),
              report->resident_ratio <= TARGET_RESIDENT_RATIO);
  add_target (builder, "auto_warm_ms", json_node_init_double (json_node_alloc (), report->series[8].median_us / 1000.0),
              json_node_init_double (json_node_alloc (), TARGET_RESIDENT_MS),
              report->series[8].median_us / 1000.0 <= TARGET_RESIDENT_MS);
  add_target (builder, "cell_ms", json_node_init_double (json_node_alloc (), report->series[3].median_us / 1000.0),
              json_node_init_double (json_node_alloc (), TARGET_CELL_MS),
              report->series[3].median_us / 1000.0 <= TARGET_CELL_MS);
  add_target (builder, "cold_ratio", json_node_init_double (json_node_alloc (), report->cold_ratio),
              json_node_init_double (json_node_alloc (), TARGET_COLD_RATIO),
              report->cold_ratio <= TARGET_COLD_RATIO);
  add_target (builder, "max_rss_kib", json_node_init_int (json_node_alloc (), report->max_rss_kib),
              json_node_init_int (json_node_alloc (), TARGET_RSS_KIB),
              report->max_rss_kib < TARGET_RSS_KIB);
  json_builder_end_object (builder);
  json_builder_end_object (builder);

  root = json_builder_get_root (builder);
  json_generator_set_root (generator, root);
  json_generator_set_pretty (generator, TRUE);
  text = json_generator_to_data (generator, NULL);
  g_print ("%s\n", text);
}

/* Main -------------------------------------------------------------------- */

static gboolean
run_bench (RawEngine  *engine,
           Report     *report,
           GPtrArray  *our_ids,
           GError    **error)
{
  Series *s = report->series;

  g_printerr ("llmsbx-bench: warm, %u iterations...\n", report->warm_iterations);
  if (!measure_warm (engine, report->image, report->warm_iterations, our_ids, &s[0], &s[1], error))
    return FALSE;

  g_printerr ("llmsbx-bench: cold, %u iterations...\n", report->cold_iterations);
  if (!measure_cold (engine, report->image, report->cold_iterations, our_ids, &s[4], &s[5], error))
    return FALSE;

  g_printerr ("llmsbx-bench: auto mode, %u sessions of %u runs...\n", report->cold_iterations, 2 + AUTO_WARM_RUNS);
  if (!measure_auto (report->image, report->cold_iterations, our_ids, &s[6], error))
    return FALSE;

  g_printerr ("llmsbx-bench: memory, %u open+run+close in llmsbx-bench-client...\n", report->cold_iterations);
  if (!measure_rss (report->image, report->cold_iterations, &report->max_rss_kib, error))
    return FALSE;

  for (guint i = 0; i < G_N_ELEMENTS (report->series); i++)
    series_finish (&s[i]);
  report->warm_ratio = (double) s[1].median_us / s[0].median_us;
  report->resident_ratio = (double) s[2].median_us / s[0].median_us;
  report->cold_ratio = (double) s[5].median_us / s[4].median_us;
  return TRUE;
}

int
main (int    argc,
      char **argv)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(RawEngine) engine = NULL;
  g_autoptr(GPtrArray) our_ids = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *image = NULL;
  int iterations = DEFAULT_ITERATIONS;
  gboolean json = FALSE;
  Report report = { 0 };
  struct sigaction action = { 0 };
  gboolean ok;
  const GOptionEntry entries[] = {
    { "iterations", 'n', 0, G_OPTION_ARG_INT, &iterations,
      "Warm iterations (default 20); cold ones are half as many", "N" },
    { "image", 0, 0, G_OPTION_ARG_STRING, &image, "Image to run (default " DEFAULT_IMAGE ")", "IMAGE" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print the results as JSON", NULL },
    G_OPTION_ENTRY_NULL
  };

  context = g_option_context_new ("- compare libllmsbx with raw Docker Engine API floors");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("llmsbx-bench: %s\n", error->message);
      return 2;
    }
  if (iterations < 1)
    {
      g_printerr ("llmsbx-bench: --iterations must be at least 1\n");
      return 2;
    }
  if (image == NULL)
    image = g_strdup (DEFAULT_IMAGE);

  action.sa_handler = on_sigint;
  sigemptyset (&action.sa_mask);
  sigaction (SIGINT, &action, NULL);

  curl_global_init (CURL_GLOBAL_DEFAULT);
  engine = raw_engine_new (&error);
  if (engine == NULL)
    {
      g_printerr ("llmsbx-bench: %s\n", error->message);
      return 1;
    }

  report.server = engine->server_version;
  report.image = image;
  report.warm_iterations = iterations;
  report.cold_iterations = MAX (iterations / 2, 1);
  series_init (&report.series[0], "floor_warm", "floor: exec create+start+inspect");
  series_init (&report.series[1], "ours_warm", "ours:  run(), exec path");
  series_init (&report.series[2], "ours_warm_resident", "ours:  run(), resident runner");
  series_init (&report.series[3], "ours_cell", "ours:  interactive cell");
  series_init (&report.series[4], "floor_cold", "floor: create+start+exec+remove");
  series_init (&report.series[5], "ours_cold", "ours:  open+run+close");
  series_init (&report.series[6], "ours_auto_first", "ours:  auto, 1st run() (exec path)");
  series_init (&report.series[7], "ours_auto_second", "ours:  auto, 2nd run() (starts the runner)");
  series_init (&report.series[8], "ours_auto_warm", "ours:  auto, warm run() (3rd on)");

  ok = run_bench (engine, &report, our_ids, &error);

  /* Cleanup runs whatever happened, and must not be cut short by a second Ctrl-C. */
  interrupted = 0;
  raw_sweep (engine, our_ids);

  if (ok)
    {
      if (json)
        print_json (&report);
      else
        print_table (&report);
    }
  else
    {
      g_printerr ("llmsbx-bench: %s\n", error->message);
    }

  for (guint i = 0; i < G_N_ELEMENTS (report.series); i++)
    series_clear (&report.series[i]);
  g_clear_pointer (&engine, raw_engine_free);
  curl_global_cleanup ();

  if (!ok)
    return g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) ? 130 : 1;
  return 0;
}
