/* isolated-test.h: backend tests whose bodies run in subprocesses.
 *
 * Everything a body creates carries this run's label (sessions through their
 * runtime configs, images through a LABEL line), so the parent removes what a
 * failed body left behind: containers with their anonymous volumes, then
 * images, through the engine's own CLI like the checks of backend-test.h;
 * for bubblewrap, the sandboxes and images of its store (bubblewrap-test.h);
 * for the fake backend, the host processes its sandboxes started. */
#pragma once

#include <json-glib/json-glib.h>

#include "backend-test.h"

G_BEGIN_DECLS

#define TEST_RUN_LABEL "io.llmsbx.test-run"

/* One value per test program run, shared with its subprocesses. */
const char           *test_run_id        (void);

/* The `--filter` argument that finds this run's objects. */
char                 *test_run_filter    (void);

/* Runs the engine's CLI with @first_arg... (NULL-terminated) and returns its
 * standard output; with @must_succeed, a failure fails the test. */
char                 *test_cli           (gboolean              must_succeed,
                                          const char           *first_arg,
                                          ...);

/* The engine's inspect output for one object, as JSON. */
JsonObject           *test_inspect       (const char           *type,
                                          const char           *id);

gboolean              test_object_exists (const char           *type,
                                          const char           *id);

/* Where the backend's records say something, backend-neutral: the volumes
 * sandbox @id has that must go with it (an engine's anonymous volumes by
 * name; on bubblewrap and Kubernetes, the host directories: the workdir of
 * a read-only root, a pod's disk emptyDirs). */
GPtrArray            *test_sandbox_volumes    (const char          *id);

/* Whether the record of stopped sandbox @id says the kernel killed it for
 * lack of memory: the engine's State.OOMKilled, the pod's container
 * terminated for OOMKilled; FALSE on bubblewrap, which keeps none. */
gboolean              test_sandbox_oom_killed (const char          *id);

/* How many exec events the engine logged for sandbox @id between @since
 * and @until (`docker events` timestamps); on Kubernetes, the node's
 * Docker events for the pod's container. */
guint                 test_exec_events        (const char          *id,
                                               const char          *since,
                                               const char          *until);

/* Sets docker-py runtime configs from JSON; on Kubernetes, their labels and
 * environment as the session's pod manifest. */
gboolean              test_set_configs_json (LlmsbxSandboxSession  *session,
                                             const char            *json,
                                             GError               **error);

/* Removes what carries this run's label. */
void                  test_reap          (void);

/* TRUE in the test's subprocess, where the caller runs the body. In the
 * parent, runs the current test in a subprocess, then removes whatever
 * carries this run's label, whatever happened, and returns FALSE. */
gboolean              test_in_subprocess (void);

/* Runs the test body (a GTestFunc) in a subprocess, as test_in_subprocess(). */
void                  test_isolated      (gconstpointer         body);

#define test_add_isolated(path, func) \
  g_test_add_data_func ((path), (gconstpointer) (func), test_isolated)

/* A new directory on the host, for bind mounts and build contexts. It lives
 * in the test's isolated home, which GLib removes when the program ends, so
 * a failed body leaves nothing on the host either. */
char                 *test_host_dir      (const char           *prefix);

/* Runtime configs JSON: @members (a JSON object's members, maybe empty)
 * plus this run's label. */
char                 *test_configs       (const char           *members);

/* A session of Python with the runtime configs of test_configs(@members),
 * open; more properties as for g_object_new(). */
LlmsbxSandboxSession *test_open_session  (const char           *members,
                                          const char           *first_property,
                                          ...);

/* Closes @session and checks that its container is gone. */
void                  test_close         (LlmsbxSandboxSession *session);

/* Runs a shell command in the sandbox; it must succeed. Returns its stdout. */
char                 *test_sh            (LlmsbxSandboxSession *session,
                                          const char           *command);

/* Runs code in the sandbox; it must exit with 0. Returns its stdout. */
char                 *test_run           (LlmsbxSandboxSession *session,
                                          const char           *code);

/* Makes a pure-Python wheel of one module @name (holding `VALUE = '@value'`)
 * in the sandbox with zipfile, as pip expects it, offline. Returns its path
 * in the sandbox, under @dir. Arguments are plain words. */
char                 *test_make_wheel    (LlmsbxSandboxSession *session,
                                          const char           *dir,
                                          const char           *name,
                                          const char           *value);

G_END_DECLS
