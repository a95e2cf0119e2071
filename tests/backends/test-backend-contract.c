/* test-backend-contract.c: the LlmsbxBackend contract, the same on every
 * backend: probing, images, creating, listing and removing sandboxes, exec
 * (output, live output, deadlines, cancellation, exit status, floods,
 * concurrency), archives and the errors of each. meson runs it once per
 * backend (suites "docker", "podman" and "bubblewrap", and "unit" for the
 * fake backend of tests/lib, which needs no daemon), so a new backend
 * inherits it on day one.
 *
 * What an engine does its own way (request counts, inspect output, its CLI's
 * environment, runtime configs) is in tests/docker and tests/podman. Each
 * body runs in a subprocess, after which the parent removes what carries this
 * run's label (isolated-test.h). */
#include <archive.h>
#include <archive_entry.h>
#include <string.h>

#include "isolated-test.h"

#define IMAGE "llmsbx/python:bookworm"

/* ---------------------------------------------------------------------------
 * Helpers
 * ------------------------------------------------------------------------ */

static LlmsbxBackend *
new_backend (void)
{
  g_autoptr(GError) error = NULL;
  LlmsbxBackend *backend = llmsbx_registry_create_backend (llmsbx_registry_get_default (),
                                                           backend_test_name (), &error);

  g_assert_no_error (error);
  g_assert_true (LLMSBX_IS_BACKEND (backend));
  g_assert_cmpstr (llmsbx_backend_get_name (backend), ==, backend_test_name ());
  return backend;
}

/* A spec with this run's label and @extra_label (`key=value`), if any. */
static LlmsbxContainerSpec *
new_spec (const char *extra_label)
{
  LlmsbxContainerSpec *spec = llmsbx_container_spec_new ();
  const char *command[] = { "sleep", "infinity", NULL };
  const char *env[] = { "PYTHONUNBUFFERED=1", NULL };

  spec->image = g_strdup (IMAGE);
  spec->command = g_strdupv ((char **) command);
  spec->workdir = g_strdup ("/sandbox");
  spec->env = g_strdupv ((char **) env);
  spec->labels = g_new0 (char *, 4);
  spec->labels[0] = g_strdup ("io.llmsbx.managed-by=libllmsbx");
  spec->labels[1] = g_strdup_printf ("%s=%s", TEST_RUN_LABEL, test_run_id ());
  spec->labels[2] = g_strdup (extra_label);
  return spec;
}

static char *
create_labelled_sandbox (LlmsbxBackend *backend,
                         const char    *extra_label)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(LlmsbxContainerSpec) spec = new_spec (extra_label);
  char *id = llmsbx_backend_create_sandbox (backend, spec, NULL, &error);

  g_assert_no_error (error);
  g_assert_nonnull (id);
  return id;
}

static char *
create_sandbox (LlmsbxBackend *backend)
{
  return create_labelled_sandbox (backend, NULL);
}

static void
remove_sandbox (LlmsbxBackend *backend,
                const char    *id)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (llmsbx_backend_remove_sandbox (backend, id, NULL, &error));
  g_assert_no_error (error);
  backend_test_assert_container_gone (id);
}

static gsize
peak_rss_kib (void)
{
  g_autofree char *status = NULL;
  const char *line;

  g_assert_true (g_file_get_contents ("/proc/self/status", &status, NULL, NULL));
  line = strstr (status, "VmHWM:");
  g_assert_nonnull (line);
  return (gsize) g_ascii_strtoull (line + strlen ("VmHWM:"), NULL, 10);
}

/* ---------------------------------------------------------------------------
 * Probing and images
 * ------------------------------------------------------------------------ */

static void
test_probe (void)
{
  g_autoptr(LlmsbxBackend) backend = new_backend ();
  g_autoptr(GError) error = NULL;

  g_assert_true (llmsbx_backend_probe (backend, NULL, &error));
  g_assert_no_error (error);
  /* A probe leaves the backend as it was: it still connects and works. */
  g_assert_true (llmsbx_backend_connect (backend, NULL, &error));
  g_assert_no_error (error);
}

static void
test_ensure_image (void)
{
  g_autoptr(LlmsbxBackend) backend = new_backend ();
  g_autoptr(GError) error = NULL;
  gboolean pulled = TRUE;

  g_assert_true (llmsbx_backend_connect (backend, NULL, &error));
  g_assert_no_error (error);

  g_assert_true (llmsbx_backend_ensure_image (backend, IMAGE, &pulled, NULL, &error));
  g_assert_no_error (error);
  g_assert_false (pulled);

  /* A cluster's images are the nodes' business: a missing one fails the
   * pod's start (ErrImagePull, test-kubernetes-backend), not ensure_image. */
  if (backend_test_is_kubernetes ())
    return;

  /* Offline, the pull fails at once and says why. */
  g_assert_false (llmsbx_backend_ensure_image (backend, "llmsbx/no-such-image:never", &pulled, NULL, &error));
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_IMAGE_NOT_FOUND);
  g_assert_true (g_str_has_prefix (error->message,
                                   "Image llmsbx/no-such-image:never is not present locally and could "
                                   "not be pulled: "));
  g_assert_cmpuint (strlen (error->message), >, strlen ("Image llmsbx/no-such-image:never is not present "
                                                        "locally and could not be pulled: "));
}

/* ---------------------------------------------------------------------------
 * Sandboxes
 * ------------------------------------------------------------------------ */

static LlmsbxSandboxInfo *
find_sandbox (GPtrArray  *sandboxes,
              const char *id)
{
  for (guint i = 0; i < sandboxes->len; i++)
    if (g_str_equal (((LlmsbxSandboxInfo *) g_ptr_array_index (sandboxes, i))->id, id))
      return g_ptr_array_index (sandboxes, i);
  return NULL;
}

static GPtrArray *
list_sandboxes (LlmsbxBackend      *backend,
                const char * const *selector)
{
  g_autoptr(GError) error = NULL;
  GPtrArray *sandboxes = llmsbx_backend_list_sandboxes (backend, selector, NULL, &error);

  g_assert_no_error (error);
  g_assert_nonnull (sandboxes);
  return sandboxes;
}

static void
test_create_and_remove (void)
{
  g_autoptr(LlmsbxBackend) backend = new_backend ();
  g_autoptr(GError) error = NULL;
  g_autofree char *id = create_sandbox (backend);
  g_autofree char *run_label = g_strdup_printf ("%s=%s", TEST_RUN_LABEL, test_run_id ());
  g_autofree char *short_id = g_strndup (id, 12);
  g_autofree char *attached = NULL;
  g_autoptr(GPtrArray) found = NULL;
  LlmsbxSandboxInfo *info;

  g_assert_cmpuint (strlen (id), >=, 12);

  /* It carries its labels, by which leftovers are found. */
  found = list_sandboxes (backend, (const char *[]) { run_label, NULL });
  g_assert_cmpuint (found->len, ==, 1);
  info = find_sandbox (found, id);
  g_assert_nonnull (info);
  g_assert_cmpstr (llmsbx_sandbox_info_get_label (info, "io.llmsbx.managed-by"), ==, "libllmsbx");
  g_assert_cmpstr (llmsbx_sandbox_info_get_label (info, TEST_RUN_LABEL), ==, test_run_id ());

  /* Attaching by a short id answers the full one. */
  attached = llmsbx_backend_attach_sandbox (backend, short_id, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (attached, ==, id);
  g_free (backend_test_exec_stdout (backend, id, (const char *[]) { "true", NULL }));

  remove_sandbox (backend, id);
  g_clear_pointer (&found, g_ptr_array_unref);
  found = list_sandboxes (backend, (const char *[]) { run_label, NULL });
  g_assert_cmpuint (found->len, ==, 0);

  /* Gone is gone: removing again succeeds, attaching fails clearly. */
  remove_sandbox (backend, id);
  g_clear_pointer (&attached, g_free);
  attached = llmsbx_backend_attach_sandbox (backend, id, NULL, &error);
  g_assert_null (attached);
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_CONTAINER_FAILED);
  g_assert_true (g_str_has_prefix (error->message, "Container "));
  g_assert_true (g_str_has_suffix (error->message, " not found"));
}

/* Every entry of a selector must match, key=value or key alone. */
static void
test_list_sandboxes (void)
{
  g_autoptr(LlmsbxBackend) backend = new_backend ();
  g_autofree char *run_label = g_strdup_printf ("%s=%s", TEST_RUN_LABEL, test_run_id ());
  g_autofree char *pool_a = create_labelled_sandbox (backend, "io.llmsbx.test-pool=a");
  g_autofree char *pool_b = create_labelled_sandbox (backend, "io.llmsbx.test-pool=b");
  g_autofree char *plain = create_sandbox (backend);
  g_autoptr(GPtrArray) all = list_sandboxes (backend, (const char *[]) { run_label, NULL });
  g_autoptr(GPtrArray) in_pool = list_sandboxes (backend, (const char *[]) { run_label, "io.llmsbx.test-pool", NULL });
  g_autoptr(GPtrArray) pool_b_only = list_sandboxes (backend, (const char *[]) { run_label, "io.llmsbx.test-pool=b", NULL });
  g_autoptr(GPtrArray) none = list_sandboxes (backend, (const char *[]) { run_label, "io.llmsbx.test-pool=c", NULL });
  g_autoptr(GPtrArray) everything = list_sandboxes (backend, NULL);

  g_assert_cmpuint (all->len, ==, 3);
  g_assert_cmpuint (in_pool->len, ==, 2);
  g_assert_nonnull (find_sandbox (in_pool, pool_a));
  g_assert_nonnull (find_sandbox (in_pool, pool_b));
  g_assert_cmpuint (pool_b_only->len, ==, 1);
  g_assert_cmpstr (llmsbx_sandbox_info_get_label (g_ptr_array_index (pool_b_only, 0), "io.llmsbx.test-pool"), ==, "b");
  g_assert_cmpuint (none->len, ==, 0);
  /* No selector: every sandbox, this run's among them. */
  g_assert_nonnull (find_sandbox (everything, plain));

  remove_sandbox (backend, pool_a);
  remove_sandbox (backend, pool_b);
  remove_sandbox (backend, plain);
}

/* ---------------------------------------------------------------------------
 * Exec
 * ------------------------------------------------------------------------ */

static void
test_exec_output (void)
{
  g_autoptr(LlmsbxBackend) backend = new_backend ();
  g_autoptr(GError) error = NULL;
  g_autofree char *id = create_sandbox (backend);
  const char *argv[] = { "sh", "-c", "echo out1; echo err1 >&2; printf abc; exit 7", NULL };
  g_autoptr(LlmsbxExecRequest) request = llmsbx_exec_request_new (argv);
  g_autoptr(LlmsbxOutputCollector) output = llmsbx_output_collector_new (0);
  g_autoptr(GBytes) out = NULL;
  g_autoptr(GBytes) err = NULL;
  g_autofree char *out_text = NULL;
  g_autofree char *err_text = NULL;
  int status = -1;

  g_assert_true (llmsbx_backend_exec (backend, id, request, output, &status, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (status, ==, 7);
  out = llmsbx_output_collector_steal_bytes (output, LLMSBX_OUTPUT_STREAM_STDOUT);
  err = llmsbx_output_collector_steal_bytes (output, LLMSBX_OUTPUT_STREAM_STDERR);
  out_text = backend_test_bytes_to_string (out);
  err_text = backend_test_bytes_to_string (err);
  g_assert_cmpstr (out_text, ==, "out1\nabc");
  g_assert_cmpstr (err_text, ==, "err1\n");
  g_assert_false (llmsbx_output_collector_get_truncated (output));

  /* The request's environment reaches the command. */
  g_clear_pointer (&request, llmsbx_exec_request_free);
  request = llmsbx_exec_request_new ((const char *[]) { "sh", "-c", "echo \"$X\"; echo \"$PYTHONUNBUFFERED\"", NULL });
  request->env = g_strdupv ((char *[]) { "X=a b;c", NULL });
  status = -1;
  g_assert_true (llmsbx_backend_exec (backend, id, request, output, &status, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (status, ==, 0);
  g_clear_pointer (&out, g_bytes_unref);
  out = llmsbx_output_collector_steal_bytes (output, LLMSBX_OUTPUT_STREAM_STDOUT);
  g_clear_pointer (&out_text, g_free);
  out_text = backend_test_bytes_to_string (out);
  g_assert_cmpstr (out_text, ==, "a b;c\n1\n");

  /* A missing program never started: an error carrying the engine's
   * message, not a result (the same on every backend). */
  g_clear_pointer (&request, llmsbx_exec_request_free);
  request = llmsbx_exec_request_new ((const char *[]) { "no-such-program", NULL });
  g_assert_false (llmsbx_backend_exec (backend, id, request, output, &status, NULL, &error));
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_COMMAND_NOT_STARTED);
  g_assert_nonnull (strstr (error->message, "no-such-program"));
  g_clear_error (&error);
  g_clear_pointer (&out, g_bytes_unref);
  out = llmsbx_output_collector_steal_bytes (output, LLMSBX_OUTPUT_STREAM_STDOUT);

  /* Binary output comes through byte for byte. */
  g_clear_pointer (&request, llmsbx_exec_request_free);
  request = llmsbx_exec_request_new ((const char *[]) { "printf", "\\000\\001\\377x", NULL });
  g_assert_true (llmsbx_backend_exec (backend, id, request, output, &status, NULL, &error));
  g_assert_no_error (error);
  g_clear_pointer (&out, g_bytes_unref);
  out = llmsbx_output_collector_steal_bytes (output, LLMSBX_OUTPUT_STREAM_STDOUT);
  g_assert_cmpmem (g_bytes_get_data (out, NULL), g_bytes_get_size (out), "\0\1\377x", 4);

  remove_sandbox (backend, id);
}

/* The request's working directory: a file it makes there is there. */
static void
test_exec_workdir (void)
{
  g_autoptr(LlmsbxBackend) backend = new_backend ();
  g_autoptr(GError) error = NULL;
  g_autofree char *id = create_sandbox (backend);
  g_autoptr(LlmsbxExecRequest) request = llmsbx_exec_request_new ((const char *[]) { "sh", "-c", "echo here > made", NULL });
  g_autoptr(GBytes) made = NULL;
  g_autoptr(GHashTable) files = NULL;
  GBytes *contents;
  int status = -1;

  request->workdir = g_strdup ("/tmp");
  g_assert_true (llmsbx_backend_exec (backend, id, request, NULL, &status, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (status, ==, 0);
  made = llmsbx_backend_get_archive (backend, id, "/tmp/made", NULL, &error);
  g_assert_no_error (error);
  files = backend_test_read_tar (made, TRUE);
  contents = g_hash_table_lookup (files, "made");
  g_assert_nonnull (contents);
  g_assert_cmpmem (g_bytes_get_data (contents, NULL), g_bytes_get_size (contents), "here\n", 5);

  /* Without one, the sandbox's own. */
  g_free (backend_test_exec_stdout (backend, id, (const char *[]) { "sh", "-c", "echo there > made-too", NULL }));
  g_clear_pointer (&made, g_bytes_unref);
  made = llmsbx_backend_get_archive (backend, id, "/sandbox/made-too", NULL, &error);
  g_assert_no_error (error);

  remove_sandbox (backend, id);
}

/* A working directory that is not there: the command never started. */
static void
test_exec_missing_workdir (void)
{
  g_autoptr(LlmsbxBackend) backend = new_backend ();
  g_autoptr(GError) error = NULL;
  g_autofree char *id = create_sandbox (backend);
  g_autoptr(LlmsbxExecRequest) request = llmsbx_exec_request_new ((const char *[]) { "sh", "-c", "echo ran", NULL });
  g_autoptr(LlmsbxOutputCollector) output = llmsbx_output_collector_new (0);
  g_autoptr(GBytes) out = NULL;
  g_autofree char *text = NULL;
  int status = -1;

  request->workdir = g_strdup ("/no/such/dir");
  request->deadline = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;
  g_assert_false (llmsbx_backend_exec (backend, id, request, output, &status, NULL, &error));
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_COMMAND_NOT_STARTED);
  g_assert_nonnull (strstr (error->message, "/no/such/dir"));
  /* Whatever the engine wrote about it (Docker's runtime, on stdout), the
   * command's own output it is not. */
  out = llmsbx_output_collector_steal_bytes (output, LLMSBX_OUTPUT_STREAM_STDOUT);
  text = backend_test_bytes_to_string (out);
  g_assert_null (strstr (text, "ran\n"));
  remove_sandbox (backend, id);
}

/* The request's stdin_data is the command's standard input, byte for byte,
 * also past the size of a pipe's buffer; without it, input is empty. */
static void
test_exec_stdin (void)
{
  g_autoptr(LlmsbxBackend) backend = new_backend ();
  g_autoptr(GError) error = NULL;
  g_autofree char *id = create_sandbox (backend);
  g_autoptr(LlmsbxExecRequest) request = llmsbx_exec_request_new ((const char *[]) { "cat", NULL });
  g_autoptr(LlmsbxOutputCollector) output = llmsbx_output_collector_new (0);
  g_autoptr(GBytes) out = NULL;
  g_autofree char *counted = NULL;
  g_autofree guint8 *large = g_malloc (3 * 1024 * 1024);
  static const guint8 binary[] = { 'a', 0, 255, '\n', 'b' };
  int status = -1;

  request->stdin_data = g_bytes_new_static (binary, sizeof binary);
  request->deadline = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;
  g_assert_true (llmsbx_backend_exec (backend, id, request, output, &status, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (status, ==, 0);
  out = llmsbx_output_collector_steal_bytes (output, LLMSBX_OUTPUT_STREAM_STDOUT);
  g_assert_cmpmem (g_bytes_get_data (out, NULL), g_bytes_get_size (out), binary, sizeof binary);

  g_clear_pointer (&request, llmsbx_exec_request_free);
  request = llmsbx_exec_request_new ((const char *[]) { "sh", "-c", "wc -c | tr -d ' '", NULL });
  memset (large, 'x', 3 * 1024 * 1024);
  request->stdin_data = g_bytes_new (large, 3 * 1024 * 1024);
  request->deadline = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;
  g_assert_true (llmsbx_backend_exec (backend, id, request, output, &status, NULL, &error));
  g_assert_no_error (error);
  g_clear_pointer (&out, g_bytes_unref);
  out = llmsbx_output_collector_steal_bytes (output, LLMSBX_OUTPUT_STREAM_STDOUT);
  counted = backend_test_bytes_to_string (out);
  g_assert_cmpstr (counted, ==, "3145728\n");

  g_clear_pointer (&counted, g_free);
  counted = backend_test_exec_stdout (backend, id, (const char *[]) { "sh", "-c", "wc -c | tr -d ' '", NULL });
  g_assert_cmpstr (counted, ==, "0\n");
  remove_sandbox (backend, id);
}

typedef struct {
  LlmsbxBackend *backend;
  const char    *id;
  GString       *seen;
  gboolean       released;
  GError        *error;
} Live;

/* The command waits for a file that this callback creates when the first
 * line arrives: the exec can only finish if output is delivered live. */
static void
on_live_output (LlmsbxOutputStream  stream,
                const guint8       *data,
                gsize               length,
                gpointer            user_data)
{
  Live *live = user_data;
  g_autoptr(GBytes) tar = NULL;

  g_string_append_len (live->seen, (const char *) data, length);
  if (live->released || strstr (live->seen->str, "first\n") == NULL)
    return;
  live->released = TRUE;
  tar = backend_test_sample_tar ();
  llmsbx_backend_put_archive (live->backend, live->id, "/tmp", tar, NULL, &live->error);
}

static void
test_exec_live_output (void)
{
  g_autoptr(LlmsbxBackend) backend = new_backend ();
  g_autoptr(GError) error = NULL;
  g_autofree char *id = create_sandbox (backend);
  const char *argv[] = { "sh", "-c", "echo first; while [ ! -e /tmp/hello.txt ]; do sleep 0.05; done; echo second", NULL };
  g_autoptr(LlmsbxExecRequest) request = llmsbx_exec_request_new (argv);
  g_autoptr(LlmsbxOutputCollector) output = llmsbx_output_collector_new (0);
  Live live = { backend, id, g_string_new (NULL), FALSE, NULL };
  int status = -1;

  llmsbx_output_collector_set_func (output, on_live_output, &live, NULL);
  request->deadline = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;
  g_assert_true (llmsbx_backend_exec (backend, id, request, output, &status, NULL, &error));
  g_assert_no_error (error);
  g_assert_no_error (live.error);
  g_assert_true (live.released);
  g_assert_cmpint (status, ==, 0);
  g_assert_cmpstr (live.seen->str, ==, "first\nsecond\n");

  g_string_free (live.seen, TRUE);
  remove_sandbox (backend, id);
}

static void
test_exec_deadline (void)
{
  g_autoptr(LlmsbxBackend) backend = new_backend ();
  g_autoptr(GError) error = NULL;
  g_autofree char *id = create_sandbox (backend);
  const char *argv[] = { "sleep", "30", NULL };
  g_autoptr(LlmsbxExecRequest) request = llmsbx_exec_request_new (argv);
  int status = -1;

  request->deadline = g_get_monotonic_time () + G_USEC_PER_SEC;
  g_assert_false (llmsbx_backend_exec (backend, id, request, NULL, &status, NULL, &error));
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_TIMEOUT);

  /* The backend stays usable after a timed-out exec. */
  g_free (backend_test_exec_stdout (backend, id, (const char *[]) { "true", NULL }));
  remove_sandbox (backend, id);
}

static gpointer
cancel_soon (gpointer cancellable)
{
  g_usleep (G_USEC_PER_SEC / 2);
  g_cancellable_cancel (cancellable);
  return NULL;
}

static void
test_exec_cancel (void)
{
  g_autoptr(LlmsbxBackend) backend = new_backend ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autofree char *id = create_sandbox (backend);
  const char *argv[] = { "sleep", "30", NULL };
  g_autoptr(LlmsbxExecRequest) request = llmsbx_exec_request_new (argv);
  GThread *thread;
  int status = -1;

  thread = g_thread_new ("cancel", cancel_soon, cancellable);
  g_assert_false (llmsbx_backend_exec (backend, id, request, NULL, &status, cancellable, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_thread_join (thread);

  /* An already cancelled call sends nothing. */
  g_clear_error (&error);
  {
    guint before = llmsbx_backend_get_request_count (backend);
    g_assert_false (llmsbx_backend_exec (backend, id, request, NULL, &status, cancellable, &error));
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
    g_assert_cmpuint (llmsbx_backend_get_request_count (backend), ==, before);
  }

  remove_sandbox (backend, id);
}

/* The status is the one the command exits with, also when its output ends
 * before it does (Podman's exec inspect says 0 while it still runs). */
static void
test_exec_status (void)
{
  g_autoptr(LlmsbxBackend) backend = new_backend ();
  g_autofree char *id = create_sandbox (backend);
  int status = -1;
  g_autofree char *out = backend_test_exec_argv (backend, id,
                                    (const char *[]) { "sh", "-c", "echo early; exec >/dev/null 2>&1; sleep 0.5; exit 3", NULL },
                                    &status);

  g_assert_cmpstr (out, ==, "early\n");
  g_assert_cmpint (status, ==, 3);
  remove_sandbox (backend, id);
}

static void
test_output_flood (void)
{
  g_autoptr(LlmsbxBackend) backend = new_backend ();
  g_autoptr(GError) error = NULL;
  g_autofree char *id = create_sandbox (backend);
  /* 50 MB on stdout, 1 MB on stderr. */
  const char *argv[] = { "sh", "-c", "head -c 52428800 /dev/zero; head -c 1048576 /dev/zero >&2", NULL };
  g_autoptr(LlmsbxExecRequest) request = llmsbx_exec_request_new (argv);
  g_autoptr(LlmsbxOutputCollector) output = llmsbx_output_collector_new (1024 * 1024);
  gsize rss_before = peak_rss_kib ();
  int status = -1;

  request->deadline = g_get_monotonic_time () + 120 * G_USEC_PER_SEC;
  g_assert_true (llmsbx_backend_exec (backend, id, request, output, &status, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (status, ==, 0);
  g_assert_cmpuint (llmsbx_output_collector_get_length (output, LLMSBX_OUTPUT_STREAM_STDOUT), ==, 1024 * 1024);
  g_assert_cmpuint (llmsbx_output_collector_get_length (output, LLMSBX_OUTPUT_STREAM_STDERR), ==, 1024 * 1024);
  g_assert_true (llmsbx_output_collector_get_truncated (output));
  /* Two 1 MiB buffers and transfer buffers: nowhere near the 50 MB that went through. */
  g_assert_cmpuint (peak_rss_kib () - rss_before, <, 16 * 1024);

  remove_sandbox (backend, id);
}

/* Two threads run execs through one backend at the same time. */
static gpointer
exec_in_thread (gpointer data)
{
  LlmsbxBackend **args = data;
  const char *id = (const char *) args[1];
  g_autofree char *out = backend_test_exec_stdout (args[0], id, (const char *[]) { "sh", "-c", "sleep 0.3; echo done", NULL });

  return GINT_TO_POINTER (g_str_equal (out, "done\n"));
}

static void
test_concurrent_execs (void)
{
  g_autoptr(LlmsbxBackend) backend = new_backend ();
  g_autofree char *id = create_sandbox (backend);
  gpointer args[2] = { backend, id };
  GThread *threads[4];

  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    threads[i] = g_thread_new ("exec", exec_in_thread, args);
  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    g_assert_true (GPOINTER_TO_INT (g_thread_join (threads[i])));

  remove_sandbox (backend, id);
}

/* ---------------------------------------------------------------------------
 * Archives
 * ------------------------------------------------------------------------ */

static void
test_archive_round_trip (void)
{
  g_autoptr(LlmsbxBackend) backend = new_backend ();
  g_autoptr(GError) error = NULL;
  g_autofree char *id = create_sandbox (backend);
  g_autoptr(GBytes) tar = backend_test_sample_tar ();
  g_autoptr(GBytes) file_tar = NULL;
  g_autoptr(GBytes) dir_tar = NULL;
  g_autoptr(GHashTable) files = NULL;
  g_autoptr(GHashTable) dir = NULL;
  g_autofree char *listing = NULL;
  GBytes *contents;

  g_assert_true (llmsbx_backend_put_archive (backend, id, "/sandbox", tar, NULL, &error));
  g_assert_no_error (error);

  listing = backend_test_exec_stdout (backend, id, (const char *[]) { "sh", "-c", "cat hello.txt; wc -c < empty; od -An -tx1 sub/bin", NULL });
  g_assert_cmpstr (listing, ==, "hello\n0\n 00 01 02 00 ff 00 0a\n");

  file_tar = llmsbx_backend_get_archive (backend, id, "/sandbox/hello.txt", NULL, &error);
  g_assert_no_error (error);
  files = backend_test_read_tar (file_tar, TRUE);
  contents = g_hash_table_lookup (files, "hello.txt");
  g_assert_nonnull (contents);
  g_assert_cmpmem (g_bytes_get_data (contents, NULL), g_bytes_get_size (contents), "hello\n", 6);

  dir_tar = llmsbx_backend_get_archive (backend, id, "/sandbox/sub", NULL, &error);
  g_assert_no_error (error);
  dir = backend_test_read_tar (dir_tar, TRUE);
  g_assert_true (g_hash_table_contains (dir, "sub"));
  contents = g_hash_table_lookup (dir, "sub/bin");
  g_assert_nonnull (contents);
  g_assert_cmpmem (g_bytes_get_data (contents, NULL), g_bytes_get_size (contents), "\0\1\2\0\377\0\n", 7);

  remove_sandbox (backend, id);
}

static void
test_archive_missing (void)
{
  g_autoptr(LlmsbxBackend) backend = new_backend ();
  g_autoptr(GError) error = NULL;
  g_autofree char *id = create_sandbox (backend);
  g_autoptr(GBytes) tar = backend_test_sample_tar ();
  g_autoptr(GBytes) missing = NULL;

  g_assert_false (llmsbx_backend_put_archive (backend, id, "/no/such/dir", tar, NULL, &error));
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_FILE_NOT_FOUND);
  g_assert_cmpstr (error->message, ==, "Directory /no/such/dir does not exist in the sandbox");
  g_clear_error (&error);

  missing = llmsbx_backend_get_archive (backend, id, "/sandbox/no-such-file", NULL, &error);
  g_assert_null (missing);
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_FILE_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, "/sandbox/no-such-file"));
  g_clear_error (&error);

  remove_sandbox (backend, id);

  /* A missing container is not a missing file. */
  g_assert_false (llmsbx_backend_put_archive (backend, id, "/sandbox", tar, NULL, &error));
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_CONTAINER_FAILED);
  g_assert_nonnull (strstr (error->message, "not found"));
}

/* A missing destination is reported missing, not created (as root), so the
 * session creates it as the sandbox user. */
static void
test_put_archive_missing_directory (void)
{
  g_autoptr(LlmsbxBackend) backend = new_backend ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) tar = backend_test_sample_tar ();
  g_autofree char *id = create_sandbox (backend);
  g_autofree char *out = NULL;
  int status = -1;

  g_assert_false (llmsbx_backend_put_archive (backend, id, "/sandbox/no/such/dir", tar, NULL, &error));
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_FILE_NOT_FOUND);
  g_assert_cmpstr (error->message, ==, "Directory /sandbox/no/such/dir does not exist in the sandbox");
  g_clear_error (&error);
  g_free (backend_test_exec_argv (backend, id, (const char *[]) { "test", "-e", "/sandbox/no", NULL }, &status));
  g_assert_cmpint (status, ==, 1);

  g_assert_true (llmsbx_backend_put_archive (backend, id, "/sandbox", tar, NULL, &error));
  g_assert_no_error (error);
  out = backend_test_exec_stdout (backend, id, (const char *[]) { "cat", "/sandbox/hello.txt", NULL });
  g_assert_cmpstr (out, ==, "hello\n");
  remove_sandbox (backend, id);
}

/* A one-entry tar: a directory, or a file holding @contents. */
static GBytes *
make_entry_tar (const char *name,
                const char *contents)
{
  struct archive *writer = archive_write_new ();
  struct archive_entry *entry = archive_entry_new ();
  gsize capacity = 16 * 1024;
  guint8 *buffer = g_malloc0 (capacity);
  size_t used = 0;

  archive_write_set_format_pax_restricted (writer);
  g_assert_cmpint (archive_write_open_memory (writer, buffer, capacity, &used), ==, ARCHIVE_OK);
  archive_entry_set_pathname (entry, name);
  archive_entry_set_filetype (entry, contents != NULL ? AE_IFREG : AE_IFDIR);
  archive_entry_set_perm (entry, contents != NULL ? 0644 : 0755);
  archive_entry_set_size (entry, contents != NULL ? strlen (contents) : 0);
  g_assert_cmpint (archive_write_header (writer, entry), ==, ARCHIVE_OK);
  if (contents != NULL)
    g_assert_cmpint (archive_write_data (writer, contents, strlen (contents)), ==, strlen (contents));
  g_assert_cmpint (archive_write_close (writer), ==, ARCHIVE_OK);
  archive_entry_free (entry);
  archive_write_free (writer);
  return g_bytes_new_take (buffer, used);
}

/* An archive never replaces a directory with a file or a file with a
 * directory: G_IO_ERROR_EXISTS, and both stay as they were. */
static void
test_put_archive_would_replace (void)
{
  g_autoptr(LlmsbxBackend) backend = new_backend ();
  g_autoptr(GError) error = NULL;
  g_autofree char *id = create_sandbox (backend);
  g_autoptr(GBytes) file_over_dir = make_entry_tar ("dir", "a file\n");
  g_autoptr(GBytes) dir_over_file = make_entry_tar ("file", NULL);
  g_autoptr(GBytes) file_over_file = make_entry_tar ("file", "new\n");
  g_autofree char *left = NULL;

  g_free (backend_test_exec_stdout (backend, id, (const char *[]) { "sh", "-c", "mkdir dir && echo kept > dir/inside && echo old > file", NULL }));

  g_assert_false (llmsbx_backend_put_archive (backend, id, "/sandbox", file_over_dir, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_EXISTS);
  g_clear_error (&error);
  g_assert_false (llmsbx_backend_put_archive (backend, id, "/sandbox", dir_over_file, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_EXISTS);
  g_clear_error (&error);
  left = backend_test_exec_stdout (backend, id, (const char *[]) { "sh", "-c", "cat dir/inside file", NULL });
  g_assert_cmpstr (left, ==, "kept\nold\n");

  /* A file over a file is replaced, as by cp. */
  g_assert_true (llmsbx_backend_put_archive (backend, id, "/sandbox", file_over_file, NULL, &error));
  g_assert_no_error (error);
  g_clear_pointer (&left, g_free);
  left = backend_test_exec_stdout (backend, id, (const char *[]) { "cat", "file", NULL });
  g_assert_cmpstr (left, ==, "new\n");
  remove_sandbox (backend, id);
}

/* get_archive_to_stream writes the whole archive to its output, and the
 * output's own error comes back unchanged. (That it holds no more than a
 * buffer is each backend's own test: the default implementation does not.) */
static void
test_archive_to_stream (void)
{
  g_autoptr(LlmsbxBackend) backend = new_backend ();
  g_autoptr(GError) error = NULL;
  g_autofree char *id = create_sandbox (backend);
  g_autoptr(GOutputStream) output = g_memory_output_stream_new_resizable ();
  g_autoptr(GOutputStream) small = g_memory_output_stream_new (g_malloc (4096), 4096, NULL, g_free);
  g_autoptr(GBytes) tar = NULL;
  g_autoptr(GHashTable) files = NULL;
  GBytes *contents;

  g_free (backend_test_exec_stdout (backend, id, (const char *[]) { "sh", "-c", "head -c 1048576 /dev/urandom > big", NULL }));
  g_assert_true (llmsbx_backend_get_archive_to_stream (backend, id, "/sandbox/big", output, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (g_output_stream_close (output, NULL, &error));
  tar = g_memory_output_stream_steal_as_bytes (G_MEMORY_OUTPUT_STREAM (output));
  files = backend_test_read_tar (tar, TRUE);
  contents = g_hash_table_lookup (files, "big");
  g_assert_nonnull (contents);
  g_assert_cmpuint (g_bytes_get_size (contents), ==, 1048576);

  /* A full output fails the copy with the output's error. */
  g_assert_false (llmsbx_backend_get_archive_to_stream (backend, id, "/sandbox/big", small, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NO_SPACE);
  g_clear_error (&error);

  /* The backend is still usable after an aborted copy. */
  g_free (backend_test_exec_stdout (backend, id, (const char *[]) { "true", NULL }));
  remove_sandbox (backend, id);
}

/* A source that is a symbolic link is followed, like `cp -L`. */
static void
test_archive_follows_link (void)
{
  g_autoptr(LlmsbxBackend) backend = new_backend ();
  g_autoptr(GError) error = NULL;
  g_autofree char *id = create_sandbox (backend);
  g_autoptr(GBytes) tar = NULL;
  g_autoptr(GHashTable) files = NULL;
  GHashTableIter iter;
  gpointer name, contents;
  gboolean found = FALSE;

  g_free (backend_test_exec_stdout (backend, id, (const char *[]) { "sh", "-c", "echo target > real && ln -s real link", NULL }));
  tar = llmsbx_backend_get_archive (backend, id, "/sandbox/link", NULL, &error);
  g_assert_no_error (error);
  files = backend_test_read_tar (tar, TRUE);
  g_assert_cmpuint (g_hash_table_size (files), ==, 1);
  g_hash_table_iter_init (&iter, files);
  while (g_hash_table_iter_next (&iter, &name, &contents))
    {
      g_assert_cmpmem (g_bytes_get_data (contents, NULL), g_bytes_get_size (contents), "target\n", 7);
      found = TRUE;
    }
  g_assert_true (found);
  remove_sandbox (backend, id);
}

/* ---------------------------------------------------------------------------
 * Errors
 * ------------------------------------------------------------------------ */

/* What a sandbox that does not exist (any more) answers. */
static void
test_missing_sandbox (void)
{
  g_autoptr(LlmsbxBackend) backend = new_backend ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) missing = NULL;
  g_autoptr(LlmsbxExecRequest) request = llmsbx_exec_request_new ((const char *[]) { "true", NULL });
  g_autoptr(LlmsbxOutputCollector) output = llmsbx_output_collector_new (0);
  g_autofree char *name = g_strdup_printf ("llmsbx-no-such-container-%s", test_run_id ());
  g_autofree char *attached = NULL;
  g_autofree char *id = NULL;
  int status;

  attached = llmsbx_backend_attach_sandbox (backend, name, NULL, &error);
  g_assert_null (attached);
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_CONTAINER_FAILED);
  g_assert_nonnull (strstr (error->message, name));
  g_assert_nonnull (strstr (error->message, "not found"));
  g_clear_error (&error);

  id = create_sandbox (backend);
  remove_sandbox (backend, id);

  g_assert_false (llmsbx_backend_exec (backend, id, request, output, &status, NULL, &error));
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_CONTAINER_FAILED);
  g_assert_nonnull (strstr (error->message, "not found"));
  g_clear_error (&error);
  missing = llmsbx_backend_get_archive (backend, id, "/sandbox", NULL, &error);
  g_assert_null (missing);
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_CONTAINER_FAILED);
  g_assert_nonnull (strstr (error->message, "not found"));
  g_clear_error (&error);

  /* Removing what is gone is done. */
  g_assert_true (llmsbx_backend_remove_sandbox (backend, id, NULL, &error));
  g_assert_no_error (error);
}

/* ---------------------------------------------------------------------------
 * Exec streams
 * ------------------------------------------------------------------------ */

/* Bubblewrap has no attached execs yet; every other backend must. */
static gboolean
has_exec_stream (void)
{
  return !backend_test_is_bubblewrap ();
}

static LlmsbxExecStream *
open_stream (LlmsbxBackend      *backend,
             const char         *id,
             const char * const *argv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(LlmsbxExecRequest) request = llmsbx_exec_request_new (argv);
  LlmsbxExecStream *stream;

  request->deadline = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;
  stream = llmsbx_backend_open_exec_stream (backend, id, request, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (LLMSBX_IS_EXEC_STREAM (stream));
  return stream;
}

/* Reads until @stdout_text holds @until (or the end, for NULL). */
static void
read_until (LlmsbxExecStream *stream,
            GString          *stdout_text,
            GString          *stderr_text,
            const char       *until)
{
  while (until == NULL || strstr (stdout_text->str, until) == NULL)
    {
      g_autoptr(GError) error = NULL;
      LlmsbxOutputStream which = 0;
      g_autoptr(GBytes) chunk = llmsbx_exec_stream_read (stream, &which, NULL, &error);
      gsize size;
      const char *data;

      g_assert_no_error (error);
      if (chunk == NULL)
        {
          g_assert_null (until);
          return;
        }
      data = g_bytes_get_data (chunk, &size);
      g_assert_cmpuint (size, >, 0);
      g_assert_true (which == LLMSBX_OUTPUT_STREAM_STDOUT || which == LLMSBX_OUTPUT_STREAM_STDERR);
      g_string_append_len (which == LLMSBX_OUTPUT_STREAM_STDOUT ? stdout_text : stderr_text, data, size);
    }
}

static void
write_text (LlmsbxExecStream *stream,
            const char       *text)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) bytes = g_bytes_new (text, strlen (text));

  g_assert_true (llmsbx_exec_stream_write_stdin (stream, bytes, NULL, &error));
  g_assert_no_error (error);
}

/* Input, its end, both outputs apart, the exit status. */
static void
test_exec_stream (void)
{
  g_autoptr(LlmsbxBackend) backend = new_backend ();
  g_autoptr(GError) error = NULL;
  g_autofree char *id = create_sandbox (backend);
  g_autoptr(LlmsbxExecStream) stream = NULL;
  g_autoptr(GString) out = g_string_new (NULL);
  g_autoptr(GString) err = g_string_new (NULL);
  int status = -1;

  stream = open_stream (backend, id, (const char *[]) {
    "sh", "-c", "while read -r line; do echo \"got $line\"; echo \"err $line\" >&2; done; exit 3", NULL });
  write_text (stream, "a\n");
  write_text (stream, "b\n");
  g_assert_true (llmsbx_exec_stream_close_stdin (stream, NULL, &error));
  g_assert_no_error (error);
  read_until (stream, out, err, NULL);
  g_assert_cmpstr (out->str, ==, "got a\ngot b\n");
  g_assert_cmpstr (err->str, ==, "err a\nerr b\n");
  g_assert_true (llmsbx_exec_stream_wait (stream, &status, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (status, ==, 3);

  /* Writing past the end of the input is refused, and the stream closes. */
  {
    g_autoptr(GBytes) late = g_bytes_new_static ("c\n", 2);

    g_assert_false (llmsbx_exec_stream_write_stdin (stream, late, NULL, &error));
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CLOSED);
    g_clear_error (&error);
  }
  g_assert_true (llmsbx_exec_stream_close (stream, &error));
  g_assert_no_error (error);
  g_assert_true (llmsbx_exec_stream_is_closed (stream));
  remove_sandbox (backend, id);
}

/* An answer comes while the input is still open: the stream is a dialogue,
 * not a buffered exec. */
static void
test_exec_stream_dialogue (void)
{
  g_autoptr(LlmsbxBackend) backend = new_backend ();
  g_autoptr(GError) error = NULL;
  g_autofree char *id = create_sandbox (backend);
  g_autoptr(LlmsbxExecStream) stream = NULL;
  g_autoptr(GString) out = g_string_new (NULL);
  g_autoptr(GString) err = g_string_new (NULL);
  int status = -1;

  stream = open_stream (backend, id, (const char *[]) {
    "sh", "-c", "read -r a; echo \"1:$a\"; read -r b; echo \"2:$b\"", NULL });
  write_text (stream, "ping\n");
  read_until (stream, out, err, "1:ping\n");
  write_text (stream, "pong\n");
  read_until (stream, out, err, NULL);
  g_assert_cmpstr (out->str, ==, "1:ping\n2:pong\n");
  g_assert_true (llmsbx_exec_stream_wait (stream, &status, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (status, ==, 0);
  remove_sandbox (backend, id);
}

static void
count_output (LlmsbxOutputStream  stream,
              const guint8       *data,
              gsize               length,
              gpointer            user_data)
{
  gsize *counts = user_data;

  counts[stream == LLMSBX_OUTPUT_STREAM_STDOUT ? 0 : 1] += length;
}

/* Megabytes each way at once: output that arrives while input is written
 * is kept, so neither side blocks the other. */
static void
test_exec_stream_both_ways (void)
{
  g_autoptr(LlmsbxBackend) backend = new_backend ();
  g_autoptr(GError) error = NULL;
  g_autofree char *id = create_sandbox (backend);
  g_autoptr(LlmsbxExecStream) stream = NULL;
  g_autofree guint8 *large = g_malloc (4 * 1024 * 1024);
  g_autoptr(GBytes) input = NULL;
  gsize counts[2] = { 0, 0 };
  int status = -1;

  memset (large, 'y', 4 * 1024 * 1024);
  input = g_bytes_new_take (g_steal_pointer (&large), 4 * 1024 * 1024);
  stream = open_stream (backend, id, (const char *[]) { "cat", NULL });
  g_assert_true (llmsbx_exec_stream_write_stdin (stream, input, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (llmsbx_exec_stream_close_stdin (stream, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (llmsbx_exec_stream_read_all (stream, count_output, counts, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (counts[0], ==, 4 * 1024 * 1024);
  g_assert_cmpuint (counts[1], ==, 0);
  g_assert_true (llmsbx_exec_stream_wait (stream, &status, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (status, ==, 0);
  remove_sandbox (backend, id);
}

/* How many processes run `sleep SECONDS` in the sandbox. The fake backend's
 * are the host's, beside every container's: SECONDS is made unique. */
static char *
count_sleeps (LlmsbxBackend *backend,
              const char    *id,
              const char    *seconds)
{
  g_autofree char *pattern = g_strdup_printf ("^sleep %s ", seconds);

  return backend_test_exec_stdout (backend, id, (const char *[]) {
    "sh", "-c", "for f in /proc/[0-9]*/cmdline; do tr '\\0' ' ' < \"$f\"; echo; done | grep -c -- \"$1\" || true",
    "count", pattern, NULL });
}

/* A kill ends the command and whatever it started: the output ends. */
static void
test_exec_stream_kill (void)
{
  g_autoptr(LlmsbxBackend) backend = new_backend ();
  g_autoptr(GError) error = NULL;
  g_autofree char *id = create_sandbox (backend);
  g_autoptr(LlmsbxExecStream) stream = NULL;
  g_autoptr(GString) out = g_string_new (NULL);
  g_autoptr(GString) err = g_string_new (NULL);
  g_autofree char *seconds = g_strdup_printf ("%u.%u", g_random_int_range (1000, 9000), g_random_int ());
  /* "started" once the background sleep runs, not just forked. */
  g_autofree char *script = g_strdup_printf ("sleep %s & until tr '\\0' ' ' < /proc/$!/cmdline | grep -q '^sleep'; "
                                             "do :; done; echo started; wait", seconds);
  g_autofree char *left = NULL;
  gboolean killed;
  int status = -1;

  stream = open_stream (backend, id, (const char *[]) { "sh", "-c", script, NULL });
  read_until (stream, out, err, "started\n");
  left = count_sleeps (backend, id, seconds);
  g_assert_cmpstr (left, ==, "1\n");
  /* The error first: it says why a kill failed. */
  killed = llmsbx_exec_stream_kill (stream, &error);
  g_assert_no_error (error);
  g_assert_true (killed);
  read_until (stream, out, err, NULL);
  g_assert_true (llmsbx_exec_stream_wait (stream, &status, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (status, ==, 137);
  /* The background sleep went too. */
  g_clear_pointer (&left, g_free);
  left = count_sleeps (backend, id, seconds);
  g_assert_cmpstr (left, ==, "0\n");

  /* Closing a stream whose command still runs kills it too. */
  g_clear_object (&stream);
  g_string_truncate (out, 0);
  g_free (script);
  script = g_strdup_printf ("echo started; exec sleep %s", seconds);
  stream = open_stream (backend, id, (const char *[]) { "sh", "-c", script, NULL });
  read_until (stream, out, err, "started\n");
  /* The error first: it says why closing (and its kill) failed. */
  killed = llmsbx_exec_stream_close (stream, &error);
  g_assert_no_error (error);
  g_assert_true (killed);
  g_clear_pointer (&left, g_free);
  left = count_sleeps (backend, id, seconds);
  g_assert_cmpstr (left, ==, "0\n");
  remove_sandbox (backend, id);
}

/* A program that does not exist: an error the caller can act on, when the
 * stream opens or when its status is read. */
static void
test_exec_stream_not_started (void)
{
  g_autoptr(LlmsbxBackend) backend = new_backend ();
  g_autoptr(GError) error = NULL;
  g_autofree char *id = create_sandbox (backend);
  g_autoptr(LlmsbxExecRequest) request = llmsbx_exec_request_new ((const char *[]) { "/no/such/program", NULL });
  g_autoptr(LlmsbxExecStream) stream = NULL;
  int status = -1;

  request->deadline = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;
  stream = llmsbx_backend_open_exec_stream (backend, id, request, NULL, &error);
  if (stream != NULL)
    {
      g_assert_no_error (error);
      g_assert_false (llmsbx_exec_stream_wait (stream, &status, NULL, &error));
    }
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_COMMAND_NOT_STARTED);
  g_assert_nonnull (strstr (error->message, "/no/such/program"));
  remove_sandbox (backend, id);
}

/* Input for a command that is gone: the write succeeds (the transport kept
 * it) or fails with an error; the caller's process survives either way. */
static void
test_exec_stream_write_after_exit (void)
{
  g_autoptr(LlmsbxBackend) backend = new_backend ();
  g_autoptr(GError) error = NULL;
  g_autofree char *id = create_sandbox (backend);
  g_autoptr(LlmsbxExecStream) stream = NULL;
  g_autofree guint8 *block = g_malloc0 (1024 * 1024);
  g_autoptr(GBytes) input = g_bytes_new_take (g_steal_pointer (&block), 1024 * 1024);
  int status = -1;

  stream = open_stream (backend, id, (const char *[]) { "true", NULL });
  g_assert_true (llmsbx_exec_stream_wait (stream, &status, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (status, ==, 0);
  for (int i = 0; i < 4 && error == NULL; i++)
    llmsbx_exec_stream_write_stdin (stream, input, NULL, &error);
  if (error != NULL)
    g_test_message ("the write failed: %s", error->message);
  g_assert_true (llmsbx_exec_stream_close (stream, NULL));
  remove_sandbox (backend, id);
}

/* A backend without attached execs says so. */
static void
test_exec_stream_unsupported (void)
{
  g_autoptr(LlmsbxBackend) backend = new_backend ();
  g_autoptr(GError) error = NULL;
  g_autoptr(LlmsbxExecRequest) request = llmsbx_exec_request_new ((const char *[]) { "cat", NULL });
  g_autoptr(LlmsbxExecStream) stream = llmsbx_backend_open_exec_stream (backend, "any", request, NULL, &error);

  g_assert_null (stream);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  /* The label value, shared with the subprocesses through the environment. */
  test_run_id ();
  backend_test_prepare ();

  test_add_isolated ("/backend/probe", test_probe);
  test_add_isolated ("/backend/ensure-image", test_ensure_image);
  test_add_isolated ("/backend/create-and-remove", test_create_and_remove);
  test_add_isolated ("/backend/list-sandboxes", test_list_sandboxes);
  test_add_isolated ("/backend/exec-output", test_exec_output);
  test_add_isolated ("/backend/exec-workdir", test_exec_workdir);
  test_add_isolated ("/backend/exec-missing-workdir", test_exec_missing_workdir);
  test_add_isolated ("/backend/exec-stdin", test_exec_stdin);
  test_add_isolated ("/backend/exec-live-output", test_exec_live_output);
  test_add_isolated ("/backend/exec-deadline", test_exec_deadline);
  test_add_isolated ("/backend/exec-cancel", test_exec_cancel);
  test_add_isolated ("/backend/exec-status", test_exec_status);
  test_add_isolated ("/backend/output-flood", test_output_flood);
  test_add_isolated ("/backend/concurrent-execs", test_concurrent_execs);
  test_add_isolated ("/backend/archive-round-trip", test_archive_round_trip);
  test_add_isolated ("/backend/archive-missing", test_archive_missing);
  test_add_isolated ("/backend/put-archive-missing-directory", test_put_archive_missing_directory);
  test_add_isolated ("/backend/put-archive-would-replace", test_put_archive_would_replace);
  test_add_isolated ("/backend/archive-to-stream", test_archive_to_stream);
  test_add_isolated ("/backend/archive-follows-link", test_archive_follows_link);
  test_add_isolated ("/backend/missing-sandbox", test_missing_sandbox);
  if (has_exec_stream ())
    {
      test_add_isolated ("/backend/exec-stream", test_exec_stream);
      test_add_isolated ("/backend/exec-stream-dialogue", test_exec_stream_dialogue);
      test_add_isolated ("/backend/exec-stream-both-ways", test_exec_stream_both_ways);
      test_add_isolated ("/backend/exec-stream-kill", test_exec_stream_kill);
      test_add_isolated ("/backend/exec-stream-not-started", test_exec_stream_not_started);
      test_add_isolated ("/backend/exec-stream-write-after-exit", test_exec_stream_write_after_exit);
    }
  else
    test_add_isolated ("/backend/exec-stream-unsupported", test_exec_stream_unsupported);

  return g_test_run ();
}
