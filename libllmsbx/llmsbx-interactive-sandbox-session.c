/* llmsbx-interactive-sandbox-session.c: a session whose runs share one state.
 *
 * The base session does the runs; this subclass only marks them interactive
 * (the session's code runner then sends each as a cell of a kernel that the
 * resident runner keeps: runner/README.md, "Interactive runs") and adds
 * reset(). See docs/interactive.md. */
#include "config.h"

#include "llmsbx-interactive-sandbox-session.h"
#include "llmsbx-artifact-sandbox-session.h"
#include "llmsbx-sandbox-session-private.h"
#include "llmsbx-error.h"

/**
 * LlmsbxInteractiveSandboxSession:
 *
 * A session whose runs are cells of one interpreter, as in a notebook:
 * variables, imports, functions, the working directory and the environment
 * persist from one llmsbx_sandbox_session_run() to the next. A Python cell
 * whose last statement is an expression shows its value, as the REPL does;
 * so does a JavaScript cell's completion value. Python and JavaScript are
 * interactive; other languages fail with
 * %LLMSBX_ERROR_LANGUAGE_NOT_SUPPORTED.
 *
 * Cells run through the resident runner (#LlmsbxSandboxSession:code-runner
 * must not be %LLMSBX_CODE_RUNNER_MODE_EXEC), in a kernel process it keeps
 * in the sandbox. A cell that times out is interrupted (Python:
 * KeyboardInterrupt; JavaScript: the script is stopped) and what it started
 * is killed; when it comes back within a second the state is kept,
 * otherwise the kernel is killed with it and the state is lost. The
 * %LLMSBX_ERROR_TIMEOUT message says which, and
 * #LlmsbxInteractiveSandboxSession:fresh-state tells after every cell
 * whether it began in a fresh state. llmsbx_interactive_sandbox_session_reset()
 * starts a fresh state on purpose.
 *
 * With #LlmsbxInteractiveSandboxSession:enable-plotting, each cell brings
 * back the plots it made in #LlmsbxExecutionResult:plots, as an
 * #LlmsbxArtifactSandboxSession's runs do (Python: matplotlib, seaborn,
 * plotly). Figures still open when a cell ends are captured and closed, as
 * a notebook's inline backend does, so a cell's plots are its own and never
 * an earlier cell's again.
 *
 * ```c
 * g_autoptr(LlmsbxInteractiveSandboxSession) session = llmsbx_interactive_sandbox_session_new ("python");
 *
 * llmsbx_sandbox_session_open (LLMSBX_SANDBOX_SESSION (session), NULL, &error);
 * llmsbx_sandbox_session_run (LLMSBX_SANDBOX_SESSION (session), "x = 41", NULL, 0, NULL, &error);
 * result = llmsbx_sandbox_session_run (LLMSBX_SANDBOX_SESSION (session), "x + 1", NULL, 0, NULL, &error);
 * // llmsbx_execution_result_get_stdout (result) is "42\n"
 * ```
 *
 * Since: 0.1
 */
struct _LlmsbxInteractiveSandboxSession
{
  LlmsbxSandboxSession parent_instance;

  gboolean enable_plotting;
  guint    max_plots;
  guint64  max_plot_bytes;
};

G_DEFINE_FINAL_TYPE (LlmsbxInteractiveSandboxSession, llmsbx_interactive_sandbox_session,
                     LLMSBX_TYPE_SANDBOX_SESSION)

enum {
  PROP_0,
  PROP_FRESH_STATE,
  PROP_ENABLE_PLOTTING,
  PROP_MAX_PLOTS,
  PROP_MAX_PLOT_BYTES,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* Cells capture plots as an artifact session's runs do: the base run
 * gives each its own directory and fetches it after the cell. */
static gboolean
llmsbx_interactive_sandbox_session_capture_artifacts (LlmsbxSandboxSession *session,
                                                      gpointer              data)
{
  LlmsbxInteractiveSandboxSession *self = LLMSBX_INTERACTIVE_SANDBOX_SESSION (session);
  LlmsbxArtifactCapture *capture = data;

  capture->plots = self->enable_plotting;
  capture->max_plots = self->max_plots;
  capture->max_plot_bytes = self->max_plot_bytes;
  return capture->plots;
}

static void
llmsbx_interactive_sandbox_session_set_property (GObject      *object,
                                                 guint         prop_id,
                                                 const GValue *value,
                                                 GParamSpec   *pspec)
{
  LlmsbxInteractiveSandboxSession *self = LLMSBX_INTERACTIVE_SANDBOX_SESSION (object);

  switch (prop_id)
    {
    case PROP_ENABLE_PLOTTING:
      if (self->enable_plotting != g_value_get_boolean (value))
        {
          self->enable_plotting = g_value_get_boolean (value);
          g_object_notify_by_pspec (object, pspec);
        }
      break;
    case PROP_MAX_PLOTS:
      self->max_plots = g_value_get_uint (value);
      break;
    case PROP_MAX_PLOT_BYTES:
      self->max_plot_bytes = g_value_get_uint64 (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
llmsbx_interactive_sandbox_session_get_property (GObject    *object,
                                                 guint       prop_id,
                                                 GValue     *value,
                                                 GParamSpec *pspec)
{
  LlmsbxInteractiveSandboxSession *self = LLMSBX_INTERACTIVE_SANDBOX_SESSION (object);

  switch (prop_id)
    {
    case PROP_FRESH_STATE:
      g_value_set_boolean (value, llmsbx_interactive_sandbox_session_get_fresh_state (self));
      break;
    case PROP_ENABLE_PLOTTING:
      g_value_set_boolean (value, self->enable_plotting);
      break;
    case PROP_MAX_PLOTS:
      g_value_set_uint (value, self->max_plots);
      break;
    case PROP_MAX_PLOT_BYTES:
      g_value_set_uint64 (value, self->max_plot_bytes);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
llmsbx_interactive_sandbox_session_class_init (LlmsbxInteractiveSandboxSessionClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->get_property = llmsbx_interactive_sandbox_session_get_property;
  object_class->set_property = llmsbx_interactive_sandbox_session_set_property;
  LLMSBX_SANDBOX_SESSION_CLASS (klass)->capture_artifacts = llmsbx_interactive_sandbox_session_capture_artifacts;

  /**
   * LlmsbxInteractiveSandboxSession:fresh-state:
   *
   * Whether the last cell began in a fresh state: the first cell, the first
   * after llmsbx_interactive_sandbox_session_reset(), and the first after
   * the state was lost (a timed-out cell that did not stop, a cell that
   * ended its kernel, a runner that died). %TRUE before the first cell.
   *
   * Since: 0.1
   */
  properties[PROP_FRESH_STATE] =
    g_param_spec_boolean ("fresh-state", NULL, NULL, TRUE, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);

  /**
   * LlmsbxInteractiveSandboxSession:enable-plotting:
   *
   * Whether cells bring back the plots they make, in
   * #LlmsbxExecutionResult:plots (Python; JavaScript has no plot capture).
   * Off by default: a cell with plotting costs one archive request more,
   * to fetch its plots.
   *
   * Since: 0.1
   */
  properties[PROP_ENABLE_PLOTTING] =
    g_param_spec_boolean ("enable-plotting", NULL, NULL, FALSE,
                          G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_EXPLICIT_NOTIFY |
                          G_PARAM_STATIC_STRINGS);

  /**
   * LlmsbxInteractiveSandboxSession:max-plots:
   *
   * The most plots one cell brings back: the first ones it made. More set
   * #LlmsbxExecutionResult:plots-dropped.
   *
   * Since: 0.1
   */
  properties[PROP_MAX_PLOTS] =
    g_param_spec_uint ("max-plots", NULL, NULL, 0, 100000, LLMSBX_DEFAULT_MAX_PLOTS,
                       G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_STATIC_STRINGS);

  /**
   * LlmsbxInteractiveSandboxSession:max-plot-bytes:
   *
   * The most bytes of plots one cell brings back, in all.
   *
   * Since: 0.1
   */
  properties[PROP_MAX_PLOT_BYTES] =
    g_param_spec_uint64 ("max-plot-bytes", NULL, NULL, 0, G_GUINT64_CONSTANT (1) << 32,
                         LLMSBX_DEFAULT_MAX_PLOT_BYTES,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
llmsbx_interactive_sandbox_session_init (LlmsbxInteractiveSandboxSession *self)
{
  LlmsbxSandboxSessionPrivate *priv = llmsbx_session_get_private (LLMSBX_SANDBOX_SESSION (self));

  priv->interactive = TRUE;
  priv->fresh_state = TRUE;
}

/**
 * llmsbx_interactive_sandbox_session_new:
 * @lang: (nullable): the language, `python` (for %NULL) or `javascript`
 *
 * Creates an interactive session. Set other properties with g_object_set()
 * before opening.
 *
 * Returns: (transfer full): a new unopened session
 *
 * Since: 0.1
 */
LlmsbxInteractiveSandboxSession *
llmsbx_interactive_sandbox_session_new (const char *lang)
{
  return g_object_new (LLMSBX_TYPE_INTERACTIVE_SANDBOX_SESSION, "lang", lang ? lang : "python", NULL);
}

/**
 * llmsbx_interactive_sandbox_session_reset:
 * @self: a #LlmsbxInteractiveSandboxSession
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Drops the interactive state: the kernel is killed with everything its
 * cells started, and the next cell starts in a fresh one. Files the cells
 * wrote stay. Fails with %LLMSBX_ERROR_NOT_OPEN on a session that is not
 * open.
 *
 * Returns: %TRUE on success
 *
 * Since: 0.1
 */
gboolean
llmsbx_interactive_sandbox_session_reset (LlmsbxInteractiveSandboxSession  *self,
                                          GCancellable                     *cancellable,
                                          GError                          **error)
{
  LlmsbxSandboxSession *session = LLMSBX_SANDBOX_SESSION (self);
  LlmsbxSandboxSessionPrivate *priv;
  LlmsbxSessionOperation op;
  gboolean ok;

  g_return_val_if_fail (LLMSBX_IS_INTERACTIVE_SANDBOX_SESSION (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  priv = llmsbx_session_get_private (session);
  g_rec_mutex_lock (&priv->lock);
  ok = llmsbx_session_check_open (session, error);
  if (ok)
    {
      gboolean lost = FALSE;

      ok = llmsbx_code_runner_reset (priv->runner, &lost, llmsbx_session_operation_begin (session, &op, cancellable),
                                     error);
      llmsbx_session_operation_end (session, &op, "the interactive state was being reset", error);
      if (ok)
        llmsbx_session_log (session, "interactive state reset%s", lost ? "" : " (there was none)");
    }
  g_rec_mutex_unlock (&priv->lock);
  return ok;
}

/**
 * llmsbx_interactive_sandbox_session_get_fresh_state:
 * @self: a #LlmsbxInteractiveSandboxSession
 *
 * Tells whether the last cell began in a fresh state; see
 * #LlmsbxInteractiveSandboxSession:fresh-state.
 *
 * Returns: whether the last cell began in a fresh state
 *
 * Since: 0.1
 */
gboolean
llmsbx_interactive_sandbox_session_get_fresh_state (LlmsbxInteractiveSandboxSession *self)
{
  LlmsbxSandboxSessionPrivate *priv;
  gboolean fresh;

  g_return_val_if_fail (LLMSBX_IS_INTERACTIVE_SANDBOX_SESSION (self), TRUE);

  priv = llmsbx_session_get_private (LLMSBX_SANDBOX_SESSION (self));
  g_mutex_lock (&priv->operation_lock);
  fresh = priv->fresh_state;
  g_mutex_unlock (&priv->operation_lock);
  return fresh;
}
