/* llmsbx-resident-runner-private.h: the host side of the runner protocol, a
 * client of llmsbx-runner over any stream to its stdin and stdout.
 *
 * The stream is what the backend's attached exec gives (Docker and Podman:
 * the hijacked exec connection, demultiplexed: input is the runner's stdout,
 * output its stdin), or a pair of local pipes in tests. Its input must be a
 * GPollableInputStream, so that every call keeps its deadline; its output
 * should be pollable too (a blocking write could only hang on a runner that
 * stopped reading, which the deadline of the reply then reports).
 *
 * The API is blocking, for the session's worker threads, and serialised: one
 * call at a time per runner, from any thread. A runner that misbehaves or
 * dies (a malformed or unexpected frame, end of stream, a version it does not
 * share, a deadline without an answer) makes the call fail with an
 * LLMSBX_RUNNER_ERROR that llmsbx_resident_runner_error_is_fatal() calls
 * fatal; the client is then unusable, every later call fails the same way,
 * and the session restarts the runner or falls back to the exec path. */
#pragma once

#include <gio/gio.h>

#include "llmsbx-output-collector.h"

G_BEGIN_DECLS

#define LLMSBX_RUNNER_ERROR (llmsbx_runner_error_quark ())
GQuark llmsbx_runner_error_quark (void);

/* Fatal: the runner cannot be used any more. */
typedef enum {
  LLMSBX_RUNNER_ERROR_NOT_A_RUNNER,   /* what answered is not llmsbx-runner (e.g. "not found") */
  LLMSBX_RUNNER_ERROR_VERSION,        /* no protocol version in common */
  LLMSBX_RUNNER_ERROR_PROTOCOL,       /* a malformed or unexpected frame, or the runner's ERROR */
  LLMSBX_RUNNER_ERROR_DIED,           /* the stream ended: the runner exited or was killed */
  LLMSBX_RUNNER_ERROR_NO_ANSWER,      /* the deadline passed without the answer */
  LLMSBX_RUNNER_ERROR_BROKEN,         /* an earlier fatal error; its message follows */
  /* Not fatal: this request failed, the runner is fine. */
  LLMSBX_RUNNER_ERROR_BAD_REQUEST,    /* the runner refused the request as it is */
  LLMSBX_RUNNER_ERROR_FILE,           /* a file of the request could not be written */
  LLMSBX_RUNNER_ERROR_SPAWN,          /* no process could be started (the sandbox's process limit) */
  LLMSBX_RUNNER_ERROR_ADAPTER,        /* the language adapter could not start or died */
} LlmsbxRunnerError;

gboolean llmsbx_resident_runner_error_is_fatal (const GError *error);

/* One file written before a run. */
typedef struct {
  char   *path;      /* absolute, in the sandbox */
  GBytes *contents;
  guint   mode;      /* permission bits */
} LlmsbxRunnerFile;

/* What to run. argv is the program and its arguments; with an adapter
 * ("python") it is the interpreter, the code file and the arguments, and the
 * code runs in the adapter's started interpreter instead of a new one. */
typedef struct {
  char      **argv;
  char      **env;           /* NAME=VALUE added to the runner's environment */
  char       *workdir;       /* absolute; NULL: the runner's */
  char       *adapter;       /* NULL: exec argv; "python" */
  gboolean    stateful;      /* an interactive cell in the adapter's kept state */
  GPtrArray  *files;         /* of LlmsbxRunnerFile, written first */
  GBytes     *stdin_data;    /* NULL: /dev/null */
  double      timeout;       /* seconds, the runner kills the run then; 0: never */
  guint64     output_limit;  /* bytes sent per stream; 0: the collector's limit */
  int         drain_ms;      /* -1: the protocol's default */
  int         grace_ms;      /* -1: the protocol's default */
} LlmsbxRunnerRequest;

LlmsbxRunnerRequest *llmsbx_runner_request_new      (const char * const  *argv);
void                 llmsbx_runner_request_free     (LlmsbxRunnerRequest *request);
void                 llmsbx_runner_request_add_file (LlmsbxRunnerRequest *request,
                                                     const char          *path,
                                                     GBytes              *contents,
                                                     guint                mode);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (LlmsbxRunnerRequest, llmsbx_runner_request_free)

typedef enum {
  LLMSBX_RUNNER_STATE_NONE,  /* a stateless run */
  LLMSBX_RUNNER_STATE_KEPT,  /* the cell's state persists for the next cell */
  LLMSBX_RUNNER_STATE_LOST,  /* the state is gone; the next cell starts fresh */
} LlmsbxRunnerState;

/* How a run ended. The output went to the collector; the collector only saw
 * the bytes the runner sent (up to the output limit), so truncation is read
 * here, not from the collector. */
typedef struct {
  int               exit_code;       /* as a shell shows it: 128 + n for signal n */
  int               signal;          /* the signal that ended it, or 0 */
  double            duration;        /* seconds, from start to exit */
  gboolean          stdout_truncated;
  gboolean          stderr_truncated;
  gboolean          timed_out;       /* killed at the request's timeout */
  gboolean          cancelled;       /* killed because the cancellable fired */
  gboolean          oom_killed;      /* SIGKILL while the memory cgroup counted an OOM kill */
  gboolean          kill_failed;     /* something it started could not be killed */
  LlmsbxRunnerState state;
  gboolean          fresh_state;     /* the cell began in a fresh state */
  guint64           stdout_bytes;    /* what it wrote, sent or not */
  guint64           stderr_bytes;
  char             *failure_message; /* why it could not be started (exit code 126/127), or NULL */
} LlmsbxRunnerResult;

void llmsbx_runner_result_clear (LlmsbxRunnerResult *result);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (LlmsbxRunnerResult, llmsbx_runner_result_clear)

/* The runner process's exit code (as a shell shows it), called once its
 * stream ended, for the error message; FALSE when it is not known. */
typedef gboolean (*LlmsbxRunnerExitFunc) (gpointer user_data,
                                          int     *exit_code);

#define LLMSBX_TYPE_RESIDENT_RUNNER (llmsbx_resident_runner_get_type ())
G_DECLARE_FINAL_TYPE (LlmsbxResidentRunner, llmsbx_resident_runner, LLMSBX, RESIDENT_RUNNER, GObject)

LlmsbxResidentRunner *llmsbx_resident_runner_new      (GIOStream              *stream,
                                                       LlmsbxRunnerExitFunc    exit_func,
                                                       gpointer                user_data,
                                                       GDestroyNotify          notify);
gboolean    llmsbx_resident_runner_start              (LlmsbxResidentRunner   *self,
                                                       gint64                  deadline,
                                                       GCancellable           *cancellable,
                                                       GError                **error);
gboolean    llmsbx_resident_runner_prepare            (LlmsbxResidentRunner   *self,
                                                       const char             *adapter,
                                                       const char * const     *argv,
                                                       const char * const     *env,
                                                       const char             *workdir,
                                                       gint64                  deadline,
                                                       GCancellable           *cancellable,
                                                       GError                **error);
gboolean    llmsbx_resident_runner_run                (LlmsbxResidentRunner   *self,
                                                       const LlmsbxRunnerRequest *request,
                                                       LlmsbxOutputCollector  *output,
                                                       gint64                  deadline,
                                                       LlmsbxRunnerResult     *result,
                                                       GCancellable           *cancellable,
                                                       GError                **error);
gboolean    llmsbx_resident_runner_reset              (LlmsbxResidentRunner   *self,
                                                       const char             *adapter,
                                                       gboolean               *state_lost,
                                                       gint64                  deadline,
                                                       GCancellable           *cancellable,
                                                       GError                **error);
gboolean    llmsbx_resident_runner_ping               (LlmsbxResidentRunner   *self,
                                                       gint64                  deadline,
                                                       GCancellable           *cancellable,
                                                       GError                **error);
void        llmsbx_resident_runner_shutdown           (LlmsbxResidentRunner   *self,
                                                       gint64                  deadline);
gboolean    llmsbx_resident_runner_is_usable          (LlmsbxResidentRunner   *self);
const char *llmsbx_resident_runner_get_runner_version (LlmsbxResidentRunner   *self);
guint       llmsbx_resident_runner_get_protocol_version (LlmsbxResidentRunner *self);
guint64     llmsbx_resident_runner_get_features       (LlmsbxResidentRunner   *self);
guint64     llmsbx_resident_runner_get_pid            (LlmsbxResidentRunner   *self);

/* How long, beyond a request's own timeout, the runner may take to kill,
 * drain and answer before a run's default deadline (deadline -1) passes. */
#define LLMSBX_RESIDENT_RUNNER_MARGIN_SECONDS 15

G_END_DECLS
