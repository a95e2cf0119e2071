/* backend-test.h: what every backend integration test shares.
 *
 * One suite runs against each backend: meson registers every test program
 * once per backend with LLMSBX_TEST_BACKEND set (suites "docker", "podman").
 * Checks of what exists in the engine go through the engine's own CLI, so they
 * do not depend on the library under test. */
#pragma once

#include <llmsbx.h>
#include <pwd.h>
#include <string.h>
#include <unistd.h>

#include "bubblewrap-test.h"

/* The backend under test: "docker" unless LLMSBX_TEST_BACKEND says otherwise. */
static inline const char *
backend_test_name (void)
{
  const char *name = g_getenv ("LLMSBX_TEST_BACKEND");

  return name != NULL && *name != '\0' ? name : "docker";
}

static inline gboolean
backend_test_is_bubblewrap (void)
{
  return g_str_equal (backend_test_name (), "bubblewrap");
}

/* The backend whose security presets a test asks for: the core renders
 * presets for the engines and Kubernetes only, and bubblewrap reads the
 * same docker-py runtime configs as Docker (docs/backends.md). */
static inline const char *
backend_test_preset_backend (void)
{
  return backend_test_is_bubblewrap () ? "docker" : backend_test_name ();
}

/* The engine's command-line client, named like the backend. */
static inline const char *
backend_test_cli (void)
{
  return backend_test_name ();
}

/* A launcher for the engine's CLI. GLib's test isolation points HOME and
 * the XDG directories at /dev/null, where podman then fails to read its
 * configuration (storage.conf, registries.conf.d), so the CLI gets the
 * user's real ones; and it talks to the engine the tests use, whatever
 * CONTAINER_HOST a test points the backend at. */
static inline GSubprocessLauncher *
backend_test_cli_launcher (GSubprocessFlags flags)
{
  GSubprocessLauncher *launcher = g_subprocess_launcher_new (flags);
  struct passwd *user = getpwuid (getuid ());

  if (user != NULL)
    g_subprocess_launcher_setenv (launcher, "HOME", user->pw_dir, TRUE);
  g_subprocess_launcher_unsetenv (launcher, "XDG_CONFIG_HOME");
  g_subprocess_launcher_unsetenv (launcher, "XDG_DATA_HOME");
  g_subprocess_launcher_unsetenv (launcher, "XDG_CACHE_HOME");
  g_subprocess_launcher_unsetenv (launcher, "XDG_RUNTIME_DIR");
  g_subprocess_launcher_unsetenv (launcher, "CONTAINER_HOST");
  return launcher;
}

/* A session on the backend under test; more properties as for g_object_new(). */
static inline LlmsbxSandboxSession *
backend_test_session_new (const char *lang,
                          const char *first_property,
                          ...)
{
  LlmsbxSandboxSession *session;
  va_list args;

  session = g_object_new (LLMSBX_TYPE_SANDBOX_SESSION, "lang", lang, "backend", backend_test_name (), NULL);
  if (first_property != NULL)
    {
      va_start (args, first_property);
      g_object_set_valist (G_OBJECT (session), first_property, args);
      va_end (args);
    }
  return session;
}

/* Container ids matching a `ps --filter`, one per line, "" for none. */
static inline char *
backend_test_ps (const char *filter)
{
  g_autoptr(GSubprocessLauncher) launcher =
    backend_test_cli_launcher (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_SILENCE);
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *out = NULL;

  if (backend_test_is_bubblewrap ())
    return bubblewrap_test_ps (filter);
  process = g_subprocess_launcher_spawn (launcher, &error,
                                         backend_test_cli (), "ps", "-aq", "--no-trunc", "--filter", filter, NULL);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (process, NULL, NULL, &out, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_get_successful (process));
  return g_strstrip (g_steal_pointer (&out));
}

static inline void
backend_test_assert_container_gone (const char *id)
{
  g_assert_nonnull (id);
  g_autofree char *filter = g_strdup_printf ("id=%s", id);
  g_autofree char *found = backend_test_ps (filter);

  g_assert_cmpstr (found, ==, "");
  if (backend_test_is_bubblewrap ())
    bubblewrap_test_assert_gone (id);
}
