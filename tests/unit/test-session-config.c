/* test-session-config.c: a session's configuration before anything opens it:
 * the guide's defaults, how values are read, and what open() refuses before
 * it reaches a backend, so no daemon is needed. */
#include <string.h>

#include <llmsbx.h>

static void
test_defaults (void)
{
  g_autoptr(LlmsbxSandboxSession) session = llmsbx_sandbox_session_new (NULL);
  g_autofree char *backend = NULL;
  double default_timeout, execution_timeout, session_timeout;
  gboolean keep_template, commit_container, skip_setup, verbose;
  guint64 output_limit;

  g_object_get (session, "backend", &backend,
                "default-timeout", &default_timeout, "execution-timeout", &execution_timeout,
                "session-timeout", &session_timeout, "keep-template", &keep_template,
                "commit-container", &commit_container, "skip-environment-setup", &skip_setup,
                "verbose", &verbose, "output-limit", &output_limit, NULL);

  g_assert_cmpstr (llmsbx_sandbox_session_get_lang (session), ==, "python");
  g_assert_cmpstr (llmsbx_sandbox_session_get_workdir (session), ==, "/sandbox");
  /* No backend named: the registry chooses one at open(). */
  g_assert_null (backend);
  g_assert_null (llmsbx_sandbox_session_get_backend (session));
  g_assert_null (llmsbx_sandbox_session_get_client (session));
  g_assert_null (llmsbx_sandbox_session_get_image (session));
  g_assert_null (llmsbx_sandbox_session_get_container_id (session));
  g_assert_null (llmsbx_sandbox_session_get_runtime_configs (session));
  g_assert_null (llmsbx_sandbox_session_get_security_policy (session));
  g_assert_null (llmsbx_sandbox_session_get_language_handler (session));
  g_assert_false (llmsbx_sandbox_session_get_is_open (session));
  g_assert_cmpfloat (default_timeout, ==, LLMSBX_DEFAULT_TIMEOUT);
  g_assert_cmpfloat (execution_timeout, ==, 0);
  g_assert_cmpfloat (session_timeout, ==, 0);
  g_assert_false (keep_template);
  g_assert_false (commit_container);
  g_assert_false (skip_setup);
  g_assert_false (verbose);
  g_assert_cmpuint (output_limit, ==, LLMSBX_DEFAULT_OUTPUT_LIMIT);
}

/* Names are case-insensitive; NULL gives back the default. */
static void
test_names (void)
{
  g_autoptr(LlmsbxSandboxSession) session =
    g_object_new (LLMSBX_TYPE_SANDBOX_SESSION, "lang", "JavaScript", "backend", "Docker", NULL);

  g_assert_cmpstr (llmsbx_sandbox_session_get_lang (session), ==, "javascript");
  g_assert_cmpstr (llmsbx_sandbox_session_get_backend (session), ==, "docker");

  g_object_set (session, "lang", NULL, "backend", NULL, "workdir", NULL, NULL);
  g_assert_cmpstr (llmsbx_sandbox_session_get_lang (session), ==, "python");
  g_assert_null (llmsbx_sandbox_session_get_backend (session));
  g_assert_cmpstr (llmsbx_sandbox_session_get_workdir (session), ==, "/sandbox");
}

/* A client wins over the backend name, and names the backend. */
static void
test_client (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(LlmsbxBackend) client = llmsbx_registry_create_backend (llmsbx_registry_get_default (), "docker", &error);
  g_autoptr(LlmsbxSandboxSession) session = NULL;

  g_assert_no_error (error);
  session = g_object_new (LLMSBX_TYPE_SANDBOX_SESSION, "backend", "podman", "client", client, NULL);
  g_assert_true (llmsbx_sandbox_session_get_client (session) == client);
  g_assert_cmpstr (llmsbx_sandbox_session_get_backend (session), ==, "docker");
}

static void
test_runtime_configs_json (void)
{
  g_autoptr(LlmsbxSandboxSession) session = llmsbx_sandbox_session_new ("python");
  g_autoptr(GVariant) memory = NULL;
  g_autoptr(GError) error = NULL;
  GVariant *configs;

  g_assert_true (llmsbx_sandbox_session_set_runtime_configs_json (session, "{\"mem_limit\": \"256m\", \"pids_limit\": 64}",
                                                                  &error));
  g_assert_no_error (error);
  configs = llmsbx_sandbox_session_get_runtime_configs (session);
  memory = g_variant_lookup_value (configs, "mem_limit", G_VARIANT_TYPE_STRING);
  g_assert_nonnull (memory);
  g_assert_cmpstr (g_variant_get_string (memory, NULL), ==, "256m");

  /* Anything but an object is refused, and what was set stays. */
  g_assert_false (llmsbx_sandbox_session_set_runtime_configs_json (session, "[1, 2]", &error));
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (llmsbx_sandbox_session_set_runtime_configs_json (session, "{\"mem_limit\": ", &error));
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT);
  g_assert_true (llmsbx_sandbox_session_get_runtime_configs (session) == configs);
}

/* open() refuses these before it asks for a language or a backend. */
static void
test_refused_at_open (void)
{
  const struct {
    const char *property;
    const char *value;
    const char *second_property;
    const char *second_value;
    LlmsbxError code;
  } cases[] = {
    { "image", "x", "dockerfile", "Dockerfile", LLMSBX_ERROR_INVALID_ARGUMENT },
    { "container-id", "x", "dockerfile", "Dockerfile", LLMSBX_ERROR_INVALID_ARGUMENT },
    { "workdir", "relative/dir", NULL, NULL, LLMSBX_ERROR_INVALID_ARGUMENT },
    { "workdir", "/sandbox/../etc", NULL, NULL, LLMSBX_ERROR_PATH_TRAVERSAL },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(LlmsbxSandboxSession) session =
        g_object_new (LLMSBX_TYPE_SANDBOX_SESSION, "lang", "no-such-language", "backend", "no-such-backend",
                      cases[i].property, cases[i].value, cases[i].second_property, cases[i].second_value, NULL);
      g_autoptr(GError) error = NULL;

      g_assert_false (llmsbx_sandbox_session_open (session, NULL, &error));
      g_assert_error (error, LLMSBX_ERROR, (gint) cases[i].code);
      g_assert_false (llmsbx_sandbox_session_get_is_open (session));
    }
}

/* Then the language, then the backend, each named in the message. */
static void
test_unknown_names (void)
{
  g_autoptr(LlmsbxSandboxSession) no_language =
    g_object_new (LLMSBX_TYPE_SANDBOX_SESSION, "lang", "cobol", "backend", "no-such-backend", NULL);
  g_autoptr(LlmsbxSandboxSession) no_backend =
    g_object_new (LLMSBX_TYPE_SANDBOX_SESSION, "lang", "python", "backend", "no-such-backend", NULL);
  g_autoptr(GError) error = NULL;

  g_assert_false (llmsbx_sandbox_session_open (no_language, NULL, &error));
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_LANGUAGE_NOT_SUPPORTED);
  g_assert_nonnull (strstr (error->message, "cobol"));
  g_clear_error (&error);

  g_assert_false (llmsbx_sandbox_session_open (no_backend, NULL, &error));
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_BACKEND_NOT_SUPPORTED);
  g_assert_nonnull (strstr (error->message, "no-such-backend"));
  g_assert_false (llmsbx_sandbox_session_get_is_open (no_backend));
  g_assert_cmpstr (llmsbx_sandbox_session_get_backend (no_backend), ==, "no-such-backend");
}

/* Running needs an open session. */
static void
test_not_open (void)
{
  g_autoptr(LlmsbxSandboxSession) session = llmsbx_sandbox_session_new ("python");
  g_autoptr(LlmsbxExecutionResult) result = NULL;
  g_autoptr(GError) error = NULL;

  result = llmsbx_sandbox_session_run (session, "print(1)", NULL, 0, NULL, &error);
  g_assert_null (result);
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_NOT_OPEN);
  g_clear_error (&error);
  g_assert_false (llmsbx_sandbox_session_copy_to_runtime (session, "/etc/hostname", "/sandbox/x", NULL, &error));
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_NOT_OPEN);
  g_clear_error (&error);
  /* Closing what is not open does nothing. */
  g_assert_true (llmsbx_sandbox_session_close (session, NULL, &error));
  g_assert_no_error (error);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/session-config/defaults", test_defaults);
  g_test_add_func ("/session-config/names", test_names);
  g_test_add_func ("/session-config/client", test_client);
  g_test_add_func ("/session-config/runtime-configs-json", test_runtime_configs_json);
  g_test_add_func ("/session-config/refused-at-open", test_refused_at_open);
  g_test_add_func ("/session-config/unknown-names", test_unknown_names);
  g_test_add_func ("/session-config/not-open", test_not_open);

  return g_test_run ();
}
