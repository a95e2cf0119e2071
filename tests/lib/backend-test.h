/* backend-test.h: what every backend integration test shares.
 *
 * One suite runs against each backend: meson registers every test program
 * once per backend with LLMSBX_TEST_BACKEND set (suites "docker", "podman",
 * "bubblewrap", and "fake" for the contract tests). Checks of what exists in
 * an engine go through the engine's own CLI, so they do not depend on the
 * library under test; bubblewrap has no CLI, and its store is read from disk
 * (bubblewrap-test.h); the fake backend is asked directly. */
#pragma once

#include <llmsbx.h>
#include <pwd.h>
#include <string.h>
#include <unistd.h>

G_BEGIN_DECLS

/* The backend under test: "docker" unless LLMSBX_TEST_BACKEND says otherwise. */
const char           *backend_test_name          (void);

/* Whether it is the in-process fake backend of llmsbx-fake-backend.h. */
gboolean              backend_test_is_fake       (void);

/* Whether it is the bubblewrap backend, which has no engine and no CLI. */
gboolean              backend_test_is_bubblewrap (void);

/* Makes the backend under test usable by name: for the fake one, registers
 * it in the default registry and gives it the language images. Call from
 * main(), before any test. */
void                  backend_test_prepare       (void);

/* The engine's command-line client, named like the backend. */
const char           *backend_test_cli           (void);

/* A launcher for the engine's CLI. GLib's test isolation points HOME and
 * the XDG directories at /dev/null, where podman then fails to read its
 * configuration (storage.conf, registries.conf.d), so the CLI gets the
 * user's real ones; and it talks to the engine the tests use, whatever
 * CONTAINER_HOST a test points the backend at. */
GSubprocessLauncher  *backend_test_cli_launcher  (GSubprocessFlags  flags);

/* How sessions run code: LLMSBX_TEST_CODE_RUNNER "exec" or "resident" (meson
 * registers the suite once with each), else the default, auto. */
LlmsbxCodeRunnerMode  backend_test_code_runner   (void);

/* Whether runs go through the resident runner: not forced to exec, on a
 * backend with attached execs (all but bubblewrap). Where the two paths
 * differ, the tests expect what docs/interactive.md says. */
gboolean              backend_test_resident      (void);

/* A session on the backend under test, in the code-runner mode under
 * test; more properties as for g_object_new(). */
LlmsbxSandboxSession *backend_test_session_new   (const char       *lang,
                                                  const char       *first_property,
                                                  ...);

/* Container ids matching a `ps --filter` (`id=ID` or `label=KEY=VALUE`), one
 * per line, "" for none. */
char                 *backend_test_ps            (const char       *filter);

void                  backend_test_assert_container_gone (const char *id);

/* Whether sandbox @id runs, as the engine says it: "true", "false", or ""
 * when it is gone. */
char                 *backend_test_container_running (const char *id);

/* Starts killing sandbox @id from outside the library (`docker kill`; on
 * bubblewrap, SIGKILL to its first process). Wait for it to finish. */
GSubprocess          *backend_test_kill_container    (const char *id);

/* How many requests the backend counts for one exec: create, start and
 * inspect on the engines, one command to its init on bubblewrap. */
guint                 backend_test_exec_requests     (void);

G_END_DECLS
