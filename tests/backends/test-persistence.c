/* test-persistence.c: images and containers that outlive a session.
 *
 * keep_template (an image the session built is kept or removed),
 * commit_container (installed packages are found by the next session on the
 * committed image), dockerfile builds (the Dockerfile's directory is the
 * context) and attaching to an existing container (never removed).
 *
 * Every image the tests make carries this run's label, so a failed test's
 * images are reaped like its containers. The default image is never
 * committed to: commits go to a labelled copy.
 *
 * On bubblewrap (docs/backends.md, "bubblewrap differences"): no Dockerfile
 * is built (IMAGE_BUILD_FAILED), so a session never acquires an image and
 * keep_template has nothing to remove; a labelled copy is a commit of a
 * fresh sandbox, which keeps the sandbox's labels; and a sandbox runs from
 * its creation to its end, so the one attached to is another session's. */
#include <glib/gstdio.h>

#include "bubblewrap-test.h"
#include "isolated-test.h"

#define BASE_IMAGE "llmsbx/python:bookworm"

/* ---------------------------------------------------------------------------
 * Helpers
 * ------------------------------------------------------------------------ */

/* A build context directory with a Dockerfile (FROM the base image, this
 * run's label, then @instructions) and a file to COPY. Its name, made
 * unique, becomes part of the tag the session builds. */
static char *
make_context (const char *instructions)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = test_host_dir ("llmsbx-ctx");
  g_autofree char *dockerfile = NULL;
  g_autofree char *marker = NULL;
  g_autofree char *recipe = NULL;

  dockerfile = g_build_filename (dir, "Dockerfile", NULL);
  marker = g_build_filename (dir, "marker.txt", NULL);
  recipe = g_strdup_printf ("FROM " BASE_IMAGE "\nLABEL " TEST_RUN_LABEL "=%s\n%s", test_run_id (), instructions);
  g_file_set_contents (dockerfile, recipe, -1, &error);
  g_assert_no_error (error);
  g_file_set_contents (marker, "copied from the context\n", -1, &error);
  g_assert_no_error (error);
  return g_steal_pointer (&dir);
}

/* The tag a session builds from @context_dir: sandbox-<lang>-<dir name>. */
static char *
built_tag (const char *context_dir)
{
  g_autofree char *base = g_path_get_basename (context_dir);
  g_autofree char *lower = g_ascii_strdown (base, -1);

  return g_strconcat ("sandbox-python-", lower, NULL);
}

static gboolean
image_exists (const char *image)
{
  return test_object_exists ("image", image);
}

/* A bubblewrap backend of this process, for what the engines' CLIs do. */
static LlmsbxBackend *
bubblewrap_backend (void)
{
  g_autoptr(LlmsbxBackend) backend = NULL;
  g_autoptr(GError) error = NULL;

  backend = llmsbx_registry_create_backend (llmsbx_registry_get_default (), "bubblewrap", &error);
  g_assert_no_error (error);
  llmsbx_backend_connect (backend, NULL, &error);
  g_assert_no_error (error);
  return g_steal_pointer (&backend);
}

/* Makes @tag a copy of the base image that carries this run's label: a
 * Dockerfile build on the engines, a commit of a fresh labelled sandbox on
 * bubblewrap (a commit keeps its sandbox's labels). */
static void
make_labelled_copy (const char *tag)
{
  g_autoptr(LlmsbxSandboxSession) session = NULL;
  g_autoptr(LlmsbxBackend) backend = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *configs = NULL;

  if (!backend_test_is_bubblewrap ())
    {
      g_autofree char *context = make_context ("");

      g_free (test_cli (TRUE, "build", "-q", "-t", tag, context, NULL));
      g_assert_true (image_exists (tag));
      return;
    }

  backend = bubblewrap_backend ();
  configs = test_configs ("\"network_mode\": \"none\"");
  session = backend_test_session_new ("python", "image", BASE_IMAGE, NULL);
  test_set_configs_json (session, configs, &error);
  g_assert_no_error (error);
  llmsbx_sandbox_session_open (session, NULL, &error);
  g_assert_no_error (error);
  llmsbx_backend_commit (backend, llmsbx_sandbox_session_get_container_id (session), tag, NULL, &error);
  g_assert_no_error (error);
  test_close (session);
  g_assert_true (image_exists (tag));
}

static void
remove_image (const char *tag)
{
  g_autoptr(LlmsbxBackend) backend = NULL;
  g_autoptr(GError) error = NULL;

  if (!backend_test_is_bubblewrap ())
    {
      g_free (test_cli (TRUE, "rmi", tag, NULL));
      return;
    }
  backend = bubblewrap_backend ();
  llmsbx_backend_remove_image (backend, tag, NULL, &error);
  g_assert_no_error (error);
  g_assert_false (image_exists (tag));
}

/* What a session with a Dockerfile gets on bubblewrap, which has no engine
 * to build it: IMAGE_BUILD_FAILED saying so, and nothing left. */
static void
assert_build_refused (const char *dockerfile)
{
  g_autoptr(LlmsbxSandboxSession) session = backend_test_session_new ("python", "dockerfile", dockerfile, NULL);
  g_autofree char *configs = test_configs ("\"network_mode\": \"none\"");
  g_autofree char *filter = test_run_filter ();
  g_autofree char *left = NULL;
  g_autoptr(GError) error = NULL;

  test_set_configs_json (session, configs, &error);
  g_assert_no_error (error);
  g_assert_false (llmsbx_sandbox_session_open (session, NULL, &error));
  g_test_message ("%s", error->message);
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_IMAGE_BUILD_FAILED);
  g_assert_nonnull (strstr (error->message, "bubblewrap backend cannot build"));
  g_assert_nonnull (strstr (error->message, "no container engine"));
  g_assert_false (llmsbx_sandbox_session_get_is_open (session));
  left = backend_test_ps (filter);
  g_assert_cmpstr (left, ==, "");
}

static LlmsbxSandboxSession *
open_session (const char *first_property,
              ...)
{
  g_autoptr(LlmsbxSandboxSession) session = backend_test_session_new ("python", NULL);
  g_autofree char *configs = test_configs ("\"network_mode\": \"none\"");
  g_autoptr(GError) error = NULL;
  va_list args;

  va_start (args, first_property);
  g_object_set_valist (G_OBJECT (session), first_property, args);
  va_end (args);
  test_set_configs_json (session, configs, &error);
  g_assert_no_error (error);
  llmsbx_sandbox_session_open (session, NULL, &error);
  g_assert_no_error (error);
  return g_steal_pointer (&session);
}

/* ---------------------------------------------------------------------------
 * Tests
 * ------------------------------------------------------------------------ */

/* The Dockerfile's directory is the build context: its COPY finds the file. */
static void
test_dockerfile_build (void)
{
  g_autofree char *context = make_context ("COPY marker.txt /opt/marker.txt\n");
  g_autofree char *dockerfile = g_build_filename (context, "Dockerfile", NULL);
  g_autofree char *tag = built_tag (context);
  g_autoptr(LlmsbxSandboxSession) session = NULL;
  g_autofree char *copied = NULL;

  if (backend_test_is_bubblewrap ())
    {
      assert_build_refused (dockerfile);
      g_assert_false (image_exists (tag));
      return;
    }
  session = open_session ("dockerfile", dockerfile, NULL);
  g_assert_cmpstr (llmsbx_sandbox_session_get_image (session), ==, tag);
  g_assert_true (image_exists (tag));
  copied = test_run (session, "print(open('/opt/marker.txt').read(), end='')");
  g_assert_cmpstr (copied, ==, "copied from the context\n");

  /* Built by the session and not kept: removed with it. */
  test_close (session);
  g_assert_false (image_exists (tag));
}

static void
test_dockerfile_failures (void)
{
  g_autofree char *context = make_context ("RUN exit 3\n");
  g_autofree char *dockerfile = g_build_filename (context, "Dockerfile", NULL);
  g_autofree char *missing = g_build_filename (context, "Missing.Dockerfile", NULL);
  g_autofree char *filter = test_run_filter ();
  g_autofree char *left = NULL;
  g_autoptr(LlmsbxSandboxSession) failing = backend_test_session_new ("python", "dockerfile", dockerfile, NULL);
  g_autoptr(LlmsbxSandboxSession) absent = backend_test_session_new ("python", "dockerfile", missing, NULL);
  g_autoptr(GError) error = NULL;

  g_assert_false (llmsbx_sandbox_session_open (failing, NULL, &error));
  g_test_message ("build failure: %s", error->message);
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_IMAGE_BUILD_FAILED);
  /* The builder's own reason is passed on; bubblewrap has none to run. */
  if (backend_test_is_bubblewrap ())
    g_assert_nonnull (strstr (error->message, "no container engine"));
  else
    g_assert_nonnull (strstr (error->message, "exit 3"));
  g_clear_error (&error);

  g_assert_false (llmsbx_sandbox_session_open (absent, NULL, &error));
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_FILE_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, "Missing.Dockerfile"));

  left = backend_test_ps (filter);
  g_assert_cmpstr (left, ==, "");
}

static void
test_keep_template (void)
{
  g_autofree char *context = make_context ("COPY marker.txt /opt/marker.txt\n");
  g_autofree char *dockerfile = g_build_filename (context, "Dockerfile", NULL);
  g_autofree char *tag = built_tag (context);
  g_autoptr(LlmsbxSandboxSession) keeping = NULL;
  g_autoptr(LlmsbxSandboxSession) reusing = NULL;
  g_autofree char *out = NULL;

  if (backend_test_is_bubblewrap ())
    {
      /* No build, so nothing the session acquired: the image it uses stays
       * whatever keep_template says. */
      g_autofree char *copy = g_strdup_printf ("llmsbx-test/keep:%.8s", test_run_id ());
      g_autofree char *marked = NULL;

      assert_build_refused (dockerfile);
      make_labelled_copy (copy);
      keeping = open_session ("image", copy, "keep-template", FALSE, NULL);
      marked = test_run (keeping, "print(6 * 7)");
      g_assert_cmpstr (marked, ==, "42\n");
      test_close (keeping);
      g_assert_true (image_exists (copy));
      remove_image (copy);
      return;
    }

  keeping = open_session ("dockerfile", dockerfile, "keep-template", TRUE, NULL);
  test_close (keeping);
  g_assert_true (image_exists (tag));

  /* The kept image serves the next session, which did not acquire it and so
   * leaves it in place too. */
  reusing = open_session ("image", tag, NULL);
  out = test_run (reusing, "print(open('/opt/marker.txt').read(), end='')");
  g_assert_cmpstr (out, ==, "copied from the context\n");
  test_close (reusing);
  g_assert_true (image_exists (tag));

  remove_image (tag);
}

/* The guide's "Session Persistence": packages installed in a session with
 * commit_container are in its image afterwards, for the next session. */
static void
test_commit_container (void)
{
  g_autofree char *tag = g_strdup_printf ("llmsbx-test/commit:%.8s", test_run_id ());
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  g_autofree char *state = NULL;
  g_autoptr(LlmsbxSandboxSession) committing = NULL;
  g_autoptr(LlmsbxSandboxSession) next = NULL;
  g_autoptr(LlmsbxExecutionResult) missing = NULL;
  g_autoptr(GError) error = NULL;
  char *wheel[] = { NULL, NULL };

  /* A labelled copy of the default image to commit to. */
  make_labelled_copy (tag);

  committing = open_session ("image", tag, "keep-template", TRUE, "commit-container", TRUE, NULL);
  missing = llmsbx_sandbox_session_run (committing, "import persisted", NULL, 0, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (llmsbx_execution_result_get_exit_code (missing), !=, 0);

  wheel[0] = test_make_wheel (committing, "/tmp/wheels", "persisted", "from the committed image");
  llmsbx_sandbox_session_install (committing, (const char * const *) wheel, NULL, &error);
  g_assert_no_error (error);
  g_free (wheel[0]);
  before = test_run (committing,
                     "import persisted\n"
                     "open('state.txt', 'w').write('kept')\n"
                     "print('Environment ready!', persisted.VALUE)\n");
  g_assert_cmpstr (before, ==, "Environment ready! from the committed image\n");
  test_close (committing);
  g_assert_true (image_exists (tag));

  /* A plain session on the committed image: the package and the files are there. */
  next = open_session ("image", tag, NULL);
  after = test_run (next, "import persisted; print(persisted.VALUE)");
  g_assert_cmpstr (after, ==, "from the committed image\n");
  state = test_run (next, "print(open('state.txt').read())");
  g_assert_cmpstr (state, ==, "kept\n");
  test_close (next);

  remove_image (tag);
}

static char *
image_id (const char *image)
{
  g_autoptr(JsonObject) inspect = NULL;

  if (backend_test_is_bubblewrap ())
    return bubblewrap_test_image_id (image);
  inspect = test_inspect ("image", image);

  return g_strdup (json_object_get_string_member (inspect, "Id"));
}

/* A language whose default image is a labelled copy of the Python image, so
 * that what happens to "the language's default image" happens to an image
 * of this test, never to the shared one. Its code is shell. */
static char *
register_language_with_own_default (void)
{
  g_autofree char *image = g_strdup_printf ("llmsbx-test/default-of-h2commit:%.8s", test_run_id ());
  g_autoptr(LlmsbxLanguageConfig) language = NULL;
  g_autoptr(GError) error = NULL;
  const char *commands[] = { "sh {file}", NULL };

  make_labelled_copy (image);
  language = g_object_new (LLMSBX_TYPE_LANGUAGE_CONFIG, "name", "h2commit", "file-extension", "sh",
                           "execution-commands", commands, "default-image", image, NULL);
  llmsbx_registry_register_language (llmsbx_registry_get_default (), LLMSBX_LANGUAGE_HANDLER (language), &error);
  g_assert_no_error (error);
  return g_steal_pointer (&image);
}

/* The guide's persistence example on the language's default image: the
 * commit goes to a tag of its own, which the session says, never onto the
 * default image that every other session uses; and it holds the user's
 * state without the library's own files, so a session as another user
 * works on it. Naming an image in commit-image commits there. */
static void
test_commit_default_image (void)
{
  g_autofree char *default_image = register_language_with_own_default ();
  g_autofree char *committed = g_strconcat (default_image, "-committed", NULL);
  g_autofree char *named = g_strdup_printf ("llmsbx-test/named-commit:%.8s", test_run_id ());
  g_autofree char *before = image_id (default_image);
  g_autofree char *configs = test_configs ("\"network_mode\": \"none\"");
  g_autofree char *after = NULL;
  g_autofree char *out = NULL;
  g_autoptr(LlmsbxSandboxSession) committing = NULL;
  g_autoptr(LlmsbxSandboxSession) other_user = NULL;
  g_autoptr(LlmsbxSandboxSession) naming = NULL;
  g_autoptr(LlmsbxSandboxSession) reading = NULL;
  g_autoptr(GError) error = NULL;

  committing = backend_test_session_new ("h2commit", "keep-template", TRUE, "commit-container", TRUE, NULL);
  g_assert_null (llmsbx_sandbox_session_get_commit_image (committing));
  test_set_configs_json (committing, configs, &error);
  g_assert_no_error (error);
  llmsbx_sandbox_session_open (committing, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (llmsbx_sandbox_session_get_image (committing), ==, default_image);
  g_assert_cmpstr (llmsbx_sandbox_session_get_commit_image (committing), ==, committed);
  out = test_run (committing, "echo kept > /sandbox/state.txt; ls -a /sandbox/.llmsbx | grep -c code-");
  g_assert_cmpstr (out, ==, "1\n");
  test_close (committing);

  after = image_id (default_image);
  g_assert_cmpstr (after, ==, before);
  g_assert_true (image_exists (committed));

  /* Another user on the committed image: the state is there, nothing of
   * the library's is in the way. */
  other_user = test_open_session ("\"network_mode\": \"none\", \"user\": \"1000:1000\"", "lang", "h2commit",
                                  "image", committed, NULL);
  g_free (out);
  out = test_run (other_user, "cat /sandbox/state.txt; id -u");
  g_assert_cmpstr (out, ==, "kept\n1000\n");
  test_close (other_user);
  g_clear_object (&other_user);
  other_user = test_open_session ("\"network_mode\": \"none\"", "lang", "h2commit", "image", committed, NULL);
  g_free (out);
  out = test_sh (other_user, "ls -a /sandbox");
  g_assert_null (strstr (out, ".llmsbx"));
  test_close (other_user);

  /* A name of the user's own. */
  naming = test_open_session ("\"network_mode\": \"none\"", "lang", "h2commit", "keep-template", TRUE,
                              "commit-container", TRUE, "commit-image", named, NULL);
  g_assert_cmpstr (llmsbx_sandbox_session_get_commit_image (naming), ==, named);
  g_free (test_run (naming, "echo named > /sandbox/state.txt"));
  test_close (naming);
  g_clear_pointer (&after, g_free);
  after = image_id (default_image);
  g_assert_cmpstr (after, ==, before);
  reading = test_open_session ("\"network_mode\": \"none\"", "lang", "h2commit", "image", named, NULL);
  g_free (out);
  out = test_run (reading, "cat /sandbox/state.txt");
  g_assert_cmpstr (out, ==, "named\n");
  test_close (reading);
}

/* An existing container: used, never removed, started when it was stopped.
 * On bubblewrap a sandbox runs from its creation to its end, so the one
 * attached to is another session's, running. */
static void
test_attach_existing_container (void)
{
  g_autofree char *label = g_strdup_printf (TEST_RUN_LABEL "=%s", test_run_id ());
  g_autofree char *created = NULL;
  g_autofree char *out = NULL;
  g_autofree char *again = NULL;
  g_autofree char *running = NULL;
  g_autoptr(LlmsbxSandboxSession) owner = NULL;
  g_autoptr(LlmsbxSandboxSession) session = NULL;
  g_autoptr(LlmsbxSandboxSession) second = NULL;
  g_autoptr(LlmsbxSandboxSession) nowhere = NULL;
  g_autoptr(GError) error = NULL;

  /* No engine CLI to create one with: another session's sandbox. */
  if (backend_test_is_bubblewrap () || backend_test_is_kubernetes ())
    {
      owner = open_session (NULL, NULL);
      created = g_strdup (llmsbx_sandbox_session_get_container_id (owner));
    }
  else
    {
      /* Created, not started: the session starts it. */
      created = g_strstrip (test_cli (TRUE, "create", "--label", label, "--network", "none",
                                      BASE_IMAGE, "sleep", "infinity", NULL));
      running = backend_test_container_running (created);
      g_assert_cmpstr (running, ==, "false");
      g_clear_pointer (&running, g_free);
    }
  session = backend_test_session_new ("python", "container-id", created, NULL);
  llmsbx_sandbox_session_open (session, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (g_str_has_prefix (llmsbx_sandbox_session_get_container_id (session), created));
  out = test_run (session, "open('left-by-first.txt', 'w').write('1'); print(6 * 7)");
  g_assert_cmpstr (out, ==, "42\n");
  llmsbx_sandbox_session_close (session, NULL, &error);
  g_assert_no_error (error);

  /* Still there, still running, with what the session left in it. */
  running = backend_test_container_running (created);
  g_assert_cmpstr (running, ==, "true");
  second = backend_test_session_new ("python", "container-id", created, NULL);
  llmsbx_sandbox_session_open (second, NULL, &error);
  g_assert_no_error (error);
  again = test_run (second, "print(open('left-by-first.txt').read())");
  g_assert_cmpstr (again, ==, "1\n");
  llmsbx_sandbox_session_close (second, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (test_object_exists ("container", created));

  if (owner != NULL)
    test_close (owner);
  else
    g_free (test_cli (TRUE, "rm", "-f", created, NULL));

  nowhere = backend_test_session_new ("python", "container-id", "llmsbx-test-no-such-container", NULL);
  g_assert_false (llmsbx_sandbox_session_open (nowhere, NULL, &error));
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_CONTAINER_FAILED);
  g_assert_nonnull (strstr (error->message, "llmsbx-test-no-such-container"));
}

/* A cluster has no image store: a Dockerfile fails the open, a commit the
 * close (the pod still goes), each saying why; nothing is left. */
static void
test_kubernetes_no_images (void)
{
  g_autofree char *dir = test_host_dir ("kube-build");
  g_autofree char *dockerfile = g_build_filename (dir, "Dockerfile", NULL);
  g_autofree char *filter = test_run_filter ();
  g_autofree char *left = NULL;
  g_autofree char *id = NULL;
  g_autoptr(LlmsbxSandboxSession) building = NULL;
  g_autoptr(LlmsbxSandboxSession) committing = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_true (g_file_set_contents (dockerfile, "FROM " BASE_IMAGE "\n", -1, NULL));
  building = backend_test_session_new ("python", "dockerfile", dockerfile, NULL);
  g_assert_false (llmsbx_sandbox_session_open (building, NULL, &error));
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_IMAGE_BUILD_FAILED);
  g_assert_nonnull (strstr (error->message, "Kubernetes backend cannot build"));
  g_clear_error (&error);

  committing = open_session ("commit-container", TRUE, NULL);
  id = g_strdup (llmsbx_sandbox_session_get_container_id (committing));
  g_assert_false (llmsbx_sandbox_session_close (committing, NULL, &error));
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_BACKEND_NOT_SUPPORTED);
  g_assert_nonnull (strstr (error->message, "commit_container"));
  g_clear_error (&error);
  backend_test_assert_container_gone (id);
  left = backend_test_ps (filter);
  g_assert_cmpstr (left, ==, "");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
  backend_test_prepare ();
  test_run_id ();

  /* Images are engine business: on Kubernetes only what says so, and attaching. */
  if (backend_test_is_kubernetes ())
    test_add_isolated ("/persistence/kubernetes-no-images", test_kubernetes_no_images);
  else
    {
      test_add_isolated ("/persistence/dockerfile-build", test_dockerfile_build);
      test_add_isolated ("/persistence/dockerfile-failures", test_dockerfile_failures);
      test_add_isolated ("/persistence/keep-template", test_keep_template);
      test_add_isolated ("/persistence/commit-container", test_commit_container);
      test_add_isolated ("/persistence/commit-default-image", test_commit_default_image);
    }
  test_add_isolated ("/persistence/attach-existing-container", test_attach_existing_container);

  return g_test_run ();
}
