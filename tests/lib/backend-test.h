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

/* Whether it is the Kubernetes backend, against the test API server of
 * tests/kubernetes (kube-test.h), whose pods are Docker containers. */
gboolean              backend_test_is_kubernetes (void);

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
 * inspect on the engines, one command to its init on bubblewrap, one
 * WebSocket on Kubernetes. */
guint                 backend_test_exec_requests     (void);

/* The text of @bytes (NULL or empty gives ""), for assertions. */
char                 *backend_test_bytes_to_string   (GBytes             *bytes);

/* Runs @argv in sandbox @id through the backend itself, with a 60 s
 * deadline; returns its stdout and sets @status (stderr goes to the test
 * log when it fails). _stdout() asserts the status is 0. */
char                 *backend_test_exec_argv         (LlmsbxBackend      *backend,
                                                      const char         *id,
                                                      const char * const *argv,
                                                      int                *status);
char                 *backend_test_exec_stdout       (LlmsbxBackend      *backend,
                                                      const char         *id,
                                                      const char * const *argv);

/* A small tar of what copies must carry: hello.txt ("hello\n"), an empty
 * file, a directory sub/ and sub/bin with NUL and 0xff bytes. */
GBytes               *backend_test_sample_tar        (void);

/* Name → contents of every entry of @tar (directories map to ""). With
 * @strip_directory_slash, a directory's trailing '/' is dropped (Docker
 * writes it, libarchive does not), for tests of names rather than format. */
GHashTable           *backend_test_read_tar          (GBytes             *tar,
                                                      gboolean            strip_directory_slash);

G_END_DECLS
