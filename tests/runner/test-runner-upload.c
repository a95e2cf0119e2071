/* test-runner-upload.c: the runner uploaded into a sandbox whose image does
 * not carry it, through a backend whose PUT archive unpacks into a local
 * directory the way an engine unpacks into a container. */
#include "config.h"

#include "runner-test.h"
#include "llmsbx-error.h"
#include "llmsbx-runner-upload-private.h"
#include <llmsbx.h>

/* A backend with only put_archive: the "sandbox" is a host directory. */
#define TEST_TYPE_UNPACKING_BACKEND (test_unpacking_backend_get_type ())
G_DECLARE_FINAL_TYPE (TestUnpackingBackend, test_unpacking_backend, TEST, UNPACKING_BACKEND, LlmsbxBackend)

struct _TestUnpackingBackend
{
  LlmsbxBackend parent_instance;
  char *root;
  guint uploads;
};

G_DEFINE_FINAL_TYPE (TestUnpackingBackend, test_unpacking_backend, LLMSBX_TYPE_BACKEND)

static gboolean
unpacking_put_archive (LlmsbxBackend  *backend,
                       const char     *sandbox_id,
                       const char     *dest_dir,
                       GBytes         *archive,
                       GCancellable   *cancellable,
                       GError        **error)
{
  TestUnpackingBackend *self = TEST_UNPACKING_BACKEND (backend);
  g_autofree char *top = g_strdup_printf (".llmsbx-runner-%d", LLMSBX_RUNNER_PROTOCOL_VERSION);
  g_autofree char *dest = g_build_filename (self->root, dest_dir, top, NULL);

  self->uploads++;
  return llmsbx_tar_extract (archive, dest, error);
}

static void
test_unpacking_backend_finalize (GObject *object)
{
  g_free (TEST_UNPACKING_BACKEND (object)->root);
  G_OBJECT_CLASS (test_unpacking_backend_parent_class)->finalize (object);
}

static void
test_unpacking_backend_class_init (TestUnpackingBackendClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = test_unpacking_backend_finalize;
  LLMSBX_BACKEND_CLASS (klass)->put_archive = unpacking_put_archive;
}

static void
test_unpacking_backend_init (TestUnpackingBackend *self)
{
}

static void
test_upload_and_run (void)
{
  g_autoptr(TestUnpackingBackend) backend = g_object_new (TEST_TYPE_UNPACKING_BACKEND, NULL);
  g_autoptr(GError) error = NULL;
  g_autofree char *host_dir = NULL;
  g_autofree char *program = NULL;
  g_autofree char *local = NULL;
  g_autofree char *adapter = NULL;
  g_autofree char *cleanup = NULL;
  g_autoptr(GDir) dir = NULL;
  g_autofree char *local_dir = NULL;
  g_auto(LlmsbxRunnerResult) result = { 0 };
  g_autofree char *out = NULL;
  g_autoptr(LlmsbxRunnerRequest) request = NULL;
  const char *name;
  guint files = 0;
  RunnerTest *test;
  GStatBuf st;

  backend->root = g_dir_make_tmp ("runner-sandbox-XXXXXX", NULL);
  local = g_build_filename (backend->root, "tmp", NULL);
  g_assert_cmpint (g_mkdir (local, 0755), ==, 0);
  g_clear_pointer (&local, g_free);

  g_setenv ("LLMSBX_RUNNER_DIR", LLMSBX_RUNNER_DIR, TRUE);
  host_dir = llmsbx_runner_find_host_dir (&error);
  g_assert_no_error (error);
  g_assert_cmpstr (host_dir, ==, LLMSBX_RUNNER_DIR);

  g_assert_true (llmsbx_runner_upload (LLMSBX_BACKEND (backend), "sandbox", host_dir, "/tmp", &program, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (backend->uploads, ==, 1);
  g_assert_cmpstr (program, ==, "/tmp/.llmsbx-runner-1/llmsbx-runner");

  /* The runner and its adapter, executable and readable, and nothing else
   * of the build directory. */
  local = g_build_filename (backend->root, program, NULL);
  local_dir = g_path_get_dirname (local);
  dir = g_dir_open (local_dir, 0, &error);
  g_assert_no_error (error);
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_assert_true (g_str_equal (name, LLMSBX_RUNNER_PROGRAM) || g_str_equal (name, LLMSBX_RUNNER_PYTHON_ADAPTER) ||
                     g_str_equal (name, LLMSBX_RUNNER_NODE_ADAPTER));
      files++;
    }
  g_assert_cmpuint (files, ==, 3);
  g_assert_cmpint (g_stat (local, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0755);
  adapter = g_build_filename (local_dir, LLMSBX_RUNNER_PYTHON_ADAPTER, NULL);
  g_assert_cmpint (g_stat (adapter, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0644);

  /* What was uploaded runs, and finds its adapter beside it. */
  {
    const char *argv[] = { local, NULL };

    test = runner_test_spawn_argv (argv, NULL, TRUE);
  }
  g_assert_true (llmsbx_resident_runner_get_features (test->runner) & LLMSBX_RUNNER_FEATURE_ADAPTER_PYTHON);
  g_assert_true (llmsbx_resident_runner_get_features (test->runner) & LLMSBX_RUNNER_FEATURE_ADAPTER_NODE);
  request = runner_test_python_request (local_dir, "print('uploaded')", "python", FALSE);
  out = runner_test_run_request (test, request, &result, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (out, ==, "uploaded\n");
  runner_test_free (test);

  cleanup = g_strdup_printf ("rm -rf '%s'", backend->root);
  g_assert_true (g_spawn_command_line_sync (cleanup, NULL, NULL, NULL, NULL));
}

static void
test_not_installed (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = NULL;

  g_setenv ("LLMSBX_RUNNER_DIR", "/nonexistent/runner/dir", TRUE);
  dir = llmsbx_runner_find_host_dir (&error);
  g_assert_null (dir);
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_FILE_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, "llmsbx-runner is not installed in /nonexistent/runner/dir"));
}

static void
test_unsafe_parent (void)
{
  g_autoptr(TestUnpackingBackend) backend = g_object_new (TEST_TYPE_UNPACKING_BACKEND, NULL);
  g_autoptr(GError) error = NULL;
  g_autofree char *program = NULL;

  g_assert_false (llmsbx_runner_upload (LLMSBX_BACKEND (backend), "sandbox", LLMSBX_RUNNER_DIR, "/tmp/../etc",
                                        &program, NULL, &error));
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_PATH_TRAVERSAL);
  g_assert_cmpuint (backend->uploads, ==, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/runner-upload/upload-and-run", test_upload_and_run);
  g_test_add_func ("/runner-upload/not-installed", test_not_installed);
  g_test_add_func ("/runner-upload/unsafe-parent", test_unsafe_parent);

  return g_test_run ();
}
