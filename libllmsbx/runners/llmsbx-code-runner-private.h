/* llmsbx-code-runner-private.h: the seam between a session's run and the way
 * its code reaches the sandbox and is run there.
 *
 * A session holds one LlmsbxCodeRunner while it is open: prepared once the
 * sandbox exists, asked to run each piece of code with the language's
 * commands, closed before the sandbox is committed or removed. The session
 * decides what runs (the policy, the libraries, the commands, one deadline);
 * the runner decides how the code gets there. Today's way, the code in the
 * environment or on standard input of the exec that runs it, is
 * llmsbx-exec-code-runner.c; the resident runner (llmsbx-resident-runner.c)
 * is meant to be a second implementation, not branches in the session.
 * Private, not installed. */
#pragma once

#include "llmsbx-backend.h"
#include "llmsbx-output-collector.h"

G_BEGIN_DECLS

/* Called before each command starts, with the command as one line. */
typedef void (*LlmsbxCodeRunnerLogFunc) (const char *command,
                                         gpointer    user_data);

/* How an interactive run left the kept state (resident runner only). */
typedef struct {
  gboolean fresh;  /* the cell began in a fresh state */
  gboolean lost;   /* the state is gone (a cell that timed out without
                    * coming back, or that ended its kernel) */
} LlmsbxCodeRunState;

/* One run. @commands are the language's run commands, expanded: the first
 * receives @code in @file; all of them share @deadline, each may take
 * @timeout; the run stops at the first command that fails. */
typedef struct {
  const char              *code;
  const char              *file;      /* absolute, in the sandbox */
  const char              *run_dir;   /* NULL, or the run's artifacts directory, to make
                                       * with its plots/ before the code runs (see
                                       * llmsbx_code_writer_new_run_dir()) */
  GPtrArray               *commands;  /* of GStrv */
  const char              *workdir;
  const char * const      *env;
  double                   timeout;
  gint64                   deadline;  /* monotonic, microseconds */
  LlmsbxCodeRunnerLogFunc  log;
  gpointer                 log_data;
  gboolean                 interactive; /* a cell of the kept state: one command, in a kernel */
  LlmsbxCodeRunState      *state;       /* out, for interactive runs; may be NULL */
} LlmsbxCodeRun;

#define LLMSBX_TYPE_CODE_RUNNER (llmsbx_code_runner_get_type ())
G_DECLARE_INTERFACE (LlmsbxCodeRunner, llmsbx_code_runner, LLMSBX, CODE_RUNNER, GObject)

struct _LlmsbxCodeRunnerInterface
{
  GTypeInterface g_iface;

  /* Makes the runner ready in a sandbox that now exists (may do nothing). */
  gboolean (*prepare) (LlmsbxCodeRunner       *self,
                       GCancellable           *cancellable,
                       GError                **error);
  /* Runs @run. Its output goes to @output and its exit status to
   * @exit_status. A command that timed out or was cancelled and left
   * processes that could not be killed sets @unstoppable: the sandbox must
   * not be used again. */
  gboolean (*run)     (LlmsbxCodeRunner       *self,
                       const LlmsbxCodeRun    *run,
                       LlmsbxOutputCollector  *output,
                       int                    *exit_status,
                       gboolean               *unstoppable,
                       GCancellable           *cancellable,
                       GError                **error);
  /* Drops the interactive state; the next interactive run starts fresh.
   * @state_lost says whether there was a state to drop. */
  gboolean (*reset)   (LlmsbxCodeRunner       *self,
                       gboolean               *state_lost,
                       GCancellable           *cancellable,
                       GError                **error);
  /* Ends the runner. With @clean_workdir, first removes every file it left
   * under it, so that a commit carries nothing of the library's. */
  gboolean (*close)   (LlmsbxCodeRunner       *self,
                       const char             *clean_workdir,
                       double                  timeout,
                       GCancellable           *cancellable,
                       GError                **error);
};

gboolean llmsbx_code_runner_prepare (LlmsbxCodeRunner       *self,
                                     GCancellable           *cancellable,
                                     GError                **error);
gboolean llmsbx_code_runner_run     (LlmsbxCodeRunner       *self,
                                     const LlmsbxCodeRun    *run,
                                     LlmsbxOutputCollector  *output,
                                     int                    *exit_status,
                                     gboolean               *unstoppable,
                                     GCancellable           *cancellable,
                                     GError                **error);
gboolean llmsbx_code_runner_reset   (LlmsbxCodeRunner       *self,
                                     gboolean               *state_lost,
                                     GCancellable           *cancellable,
                                     GError                **error);
gboolean llmsbx_code_runner_close   (LlmsbxCodeRunner       *self,
                                     const char             *clean_workdir,
                                     double                  timeout,
                                     GCancellable           *cancellable,
                                     GError                **error);

/* llmsbx-exec-code-runner.c: the code travels with the exec that runs it. */
#define LLMSBX_TYPE_EXEC_CODE_RUNNER (llmsbx_exec_code_runner_get_type ())
G_DECLARE_FINAL_TYPE (LlmsbxExecCodeRunner, llmsbx_exec_code_runner, LLMSBX, EXEC_CODE_RUNNER, GObject)

LlmsbxCodeRunner *llmsbx_exec_code_runner_new (LlmsbxBackend *backend,
                                               const char    *sandbox_id);

/* llmsbx-resident-code-runner.c: runs through llmsbx-runner in the sandbox,
 * falling back to the exec path unless @strict. */
#define LLMSBX_TYPE_RESIDENT_CODE_RUNNER (llmsbx_resident_code_runner_get_type ())
G_DECLARE_FINAL_TYPE (LlmsbxResidentCodeRunner, llmsbx_resident_code_runner, LLMSBX, RESIDENT_CODE_RUNNER, GObject)

LlmsbxCodeRunner *llmsbx_resident_code_runner_new (LlmsbxBackend           *backend,
                                                   const char              *sandbox_id,
                                                   const char * const      *env,
                                                   gboolean                 strict,
                                                   LlmsbxCodeRunnerLogFunc  log,
                                                   gpointer                 log_data);

G_END_DECLS
