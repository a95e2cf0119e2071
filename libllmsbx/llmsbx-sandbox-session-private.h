/* llmsbx-sandbox-session-private.h: what the session's files share.
 *
 * The session is one object in several files (llmsbx-sandbox-session.c,
 * -session-run.c, -session-files.c, -session-output.c, -session-async.c);
 * this is their common ground: the private instance, the operation lock,
 * the checks every call makes, the async helper. Not installed. */
#pragma once

#include "llmsbx-sandbox-session.h"
#include "llmsbx-code-runner-private.h"
#include "llmsbx-lifetime-watchdog-private.h"
#include "llmsbx-output-collector.h"
#include "llmsbx-sandbox-pool-private.h"

G_BEGIN_DECLS

/* The instance's state, private so that subclasses (artifact and interactive
 * sessions) build on the public API and the class's reserved slots only. */
typedef struct
{
  /* Serialises operations on the sandbox; configuration is read under it too. */
  GRecMutex lock;

  /* The operation holding the lock, which close() from another thread
   * cancels rather than waiting for it to end by itself (it may never). */
  GMutex        operation_lock;   /* guards the fields below, and the swaps of lang and
                                   * security_policy for is_safe(), which must not wait
                                   * for a run; never held while waiting */
  GCancellable *operation;
  GThread      *operation_thread;
  gboolean      operation_closed;
  guint         closing;          /* close() calls waiting for the lock */

  /* Configuration. */
  char          *lang;
  char          *backend_name;
  LlmsbxBackend *client;
  char          *image;
  char          *dockerfile;
  char          *workdir;
  char          *container_id;
  gboolean       keep_template;
  gboolean       commit_container;
  char          *commit_image;
  gboolean       skip_environment_setup;
  gboolean       verbose;
  double         default_timeout;
  double         execution_timeout;
  double         session_timeout;
  GVariant      *runtime_configs;
  GVariant      *backend_settings;
  GVariant      *pod_manifest;
  char          *kube_namespace;
  guint64        output_limit;
  guint64        copy_limit;
  LlmsbxSecurityPolicy *security_policy;
  LlmsbxSandboxPool    *pool;
  LlmsbxCodeRunnerMode  code_runner;
  gboolean              interactive;   /* set by LlmsbxInteractiveSandboxSession */

  /* State while open. */
  LlmsbxLanguageHandler *handler;
  LlmsbxBackend         *backend;
  LlmsbxCodeRunner      *runner;      /* how code reaches the sandbox */
  char                  *sandbox_id;
  char                  *session_uuid;
  char                  *active_image;
  char                  *active_commit_image;  /* where close commits to */
  gboolean               created_sandbox;
  gboolean               image_acquired;
  gboolean               environment_ready;
  guint64                oom_kills_seen;
  gboolean               fresh_state;   /* the last interactive cell began fresh (operation_lock) */
  gint64                 opened_at;
  gboolean               is_open;

  /* The pool's sandbox this session holds, and the environment of its
   * execs, which names the lease (llmsbx-sandbox-pool.c). */
  LlmsbxPoolLease       *lease;
  char                 **lease_env;

  /* Ends the sandbox when session-timeout passes, even while the session is idle. */
  LlmsbxLifetimeWatchdog *watchdog;
} LlmsbxSandboxSessionPrivate;

/* What a run captures besides its output, as the class's capture_artifacts
 * says (the artifact session's): the plots its language handler saves into
 * the run's plot directory, the files the code leaves in $LLMSBX_OUTPUT_DIR,
 * each within limits. */
typedef struct {
  gboolean plots;           /* wrap the code with the language's plot capture */
  guint    max_plots;
  guint64  max_plot_bytes;  /* of all plots together */
  gboolean files;           /* give the code an output directory */
  guint    max_files;
  guint64  max_file_bytes;
} LlmsbxArtifactCapture;

/* What came back. */
typedef struct {
  GPtrArray *plots;         /* of LlmsbxPlotOutput */
  gboolean   plots_dropped;
  GPtrArray *files;         /* of LlmsbxOutputFile */
  gboolean   files_dropped;
} LlmsbxArtifacts;

void llmsbx_artifacts_clear (LlmsbxArtifacts *artifacts);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (LlmsbxArtifacts, llmsbx_artifacts_clear)

/* Every call that holds the lock works with an operation's cancellable: the
 * caller's, and close() from another thread. */
typedef struct {
  GCancellable *cancellable;
  GCancellable *caller;
  gulong        handler;
} LlmsbxSessionOperation;

/* llmsbx-sandbox-session.c */
LlmsbxSandboxSessionPrivate *llmsbx_session_get_private (LlmsbxSandboxSession *self);
void                llmsbx_session_log                  (LlmsbxSandboxSession   *self,
                                                         const char             *format,
                                                         ...) G_GNUC_PRINTF (2, 3);
GCancellable       *llmsbx_session_operation_begin      (LlmsbxSandboxSession   *self,
                                                         LlmsbxSessionOperation *op,
                                                         GCancellable           *caller);
void                llmsbx_session_operation_end        (LlmsbxSandboxSession   *self,
                                                         LlmsbxSessionOperation *op,
                                                         const char             *what,
                                                         GError                **error);
gboolean            llmsbx_session_check_timeout        (const char             *what,
                                                         double                  seconds,
                                                         GError                **error);
gboolean            llmsbx_session_check_open           (LlmsbxSandboxSession   *self,
                                                         GError                **error);
gpointer            llmsbx_session_report_expiry        (LlmsbxSandboxSession   *self,
                                                         GError                **error);
char               *llmsbx_session_resolve_sandbox_path (LlmsbxSandboxSession   *self,
                                                         const char             *path,
                                                         GError                **error);
const char * const *llmsbx_session_exec_env             (LlmsbxSandboxSession   *self);

/* llmsbx-session-artifacts.c */
char      *llmsbx_session_output_dir      (const char                  *run_dir);
gboolean   llmsbx_session_fetch_artifacts (LlmsbxSandboxSession        *self,
                                           const char                  *run_dir,
                                           const LlmsbxArtifactCapture *capture,
                                           LlmsbxArtifacts             *artifacts,
                                           GCancellable                *cancellable,
                                           GError                     **error);

/* llmsbx-session-output.c */
LlmsbxOutputCollector *llmsbx_session_new_collector      (LlmsbxSandboxSession *self);
void                   llmsbx_session_set_output_context (GMainContext         *context);
GMainContext          *llmsbx_session_get_output_context (void);
void                   llmsbx_session_output_class_init  (GObjectClass         *klass);

/* llmsbx-session-async.c */
typedef gpointer (*LlmsbxSessionCall) (LlmsbxSandboxSession  *self,
                                       gpointer               args,
                                       GCancellable          *cancellable,
                                       GError               **error);

void     llmsbx_session_call_async          (LlmsbxSandboxSession  *self,
                                             gpointer               source_tag,
                                             LlmsbxSessionCall      call,
                                             gboolean               returns_boolean,
                                             gpointer               args,
                                             GDestroyNotify         args_free,
                                             GCancellable          *cancellable,
                                             GAsyncReadyCallback    callback,
                                             gpointer               user_data);
gpointer llmsbx_session_call_finish         (LlmsbxSandboxSession  *self,
                                             GAsyncResult          *result,
                                             gpointer               source_tag,
                                             GError               **error);
gboolean llmsbx_session_call_finish_boolean (LlmsbxSandboxSession  *self,
                                             GAsyncResult          *result,
                                             gpointer               source_tag,
                                             GError               **error);

G_END_DECLS
