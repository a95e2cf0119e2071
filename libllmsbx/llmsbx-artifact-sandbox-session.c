/* llmsbx-artifact-sandbox-session.c: a session whose runs bring back the
 * plots their code makes.
 *
 * A subclass with properties and nothing else: the run is the session's own
 * (llmsbx-session-run.c), which asks the class's capture_artifacts hook what
 * to capture, wraps the code with the language handler's plot capture, and
 * fetches the run's directory afterwards (llmsbx-session-artifacts.c), the
 * same on every backend. */
#include "config.h"

#include "llmsbx-artifact-sandbox-session.h"
#include "llmsbx-sandbox-session-private.h"

/**
 * LlmsbxArtifactSandboxSession:
 *
 * A #LlmsbxSandboxSession whose runs bring back the plots their code makes,
 * in #LlmsbxExecutionResult:plots: the guide's `ArtifactSandboxSession`.
 *
 * With #LlmsbxArtifactSandboxSession:enable-plotting, each run of
 * llmsbx_sandbox_session_run() gets a directory of its own in the sandbox,
 * and the code runs with its language's plot capture
 * (llmsbx_language_handler_wrap_for_artifacts()): in Python every
 * matplotlib figure (and so seaborn's) that `plt.show()` shows, that
 * `savefig()` saves to a file, or that is still open when the code ends, as
 * PNG (savefig's own format when it saved an SVG, PDF or JPEG), and every
 * plotly figure that `show()` shows, as HTML; in R every page of base
 * graphics and every ggplot2 chart printed, as PNG. The directory is fetched
 * with one archive request once the code has ended, so a run with plotting
 * costs one request more than a plain one, and what the code prints is
 * never read for plots. A run's plots are its own: each run has a new
 * directory, and the next run removes the last one's. At most
 * #LlmsbxArtifactSandboxSession:max-plots plots and
 * #LlmsbxArtifactSandboxSession:max-plot-bytes bytes come back, the first
 * ones the code made, and #LlmsbxExecutionResult:plots-dropped says when
 * there were more. A language without plot capture runs its code as it is,
 * with no plots.
 *
 * In Python:
 * ```py
 * with Llmsbx.ArtifactSandboxSession(lang="python", enable_plotting=True) as session:
 *     result = session.run("import matplotlib.pyplot as plt\nplt.plot([1, 4, 9])\nplt.show()")
 *     for plot in result.plots:
 *         print(plot.format, len(plot.content_base64))
 * ```
 *
 * Since: 0.1
 */

typedef struct
{
  gboolean enable_plotting;
  guint    max_plots;
  guint64  max_plot_bytes;
  gboolean collect_files;
  guint    max_files;
  guint64  max_file_bytes;
} LlmsbxArtifactSandboxSessionPrivate;

G_DEFINE_TYPE_WITH_PRIVATE (LlmsbxArtifactSandboxSession, llmsbx_artifact_sandbox_session,
                            LLMSBX_TYPE_SANDBOX_SESSION)

enum {
  PROP_0,
  PROP_ENABLE_PLOTTING,
  PROP_MAX_PLOTS,
  PROP_MAX_PLOT_BYTES,
  PROP_COLLECT_FILES,
  PROP_MAX_FILES,
  PROP_MAX_FILE_BYTES,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static gboolean
llmsbx_artifact_sandbox_session_capture_artifacts (LlmsbxSandboxSession *session,
                                                   gpointer              data)
{
  LlmsbxArtifactSandboxSessionPrivate *priv =
    llmsbx_artifact_sandbox_session_get_instance_private (LLMSBX_ARTIFACT_SANDBOX_SESSION (session));
  LlmsbxArtifactCapture *capture = data;

  capture->plots = priv->enable_plotting;
  capture->max_plots = priv->max_plots;
  capture->max_plot_bytes = priv->max_plot_bytes;
  capture->files = priv->collect_files;
  capture->max_files = priv->max_files;
  capture->max_file_bytes = priv->max_file_bytes;
  return capture->plots || capture->files;
}

static void
llmsbx_artifact_sandbox_session_get_property (GObject    *object,
                                              guint       prop_id,
                                              GValue     *value,
                                              GParamSpec *pspec)
{
  LlmsbxArtifactSandboxSession *self = LLMSBX_ARTIFACT_SANDBOX_SESSION (object);
  LlmsbxArtifactSandboxSessionPrivate *priv = llmsbx_artifact_sandbox_session_get_instance_private (self);

  switch (prop_id)
    {
    case PROP_ENABLE_PLOTTING:
      g_value_set_boolean (value, priv->enable_plotting);
      break;
    case PROP_MAX_PLOTS:
      g_value_set_uint (value, priv->max_plots);
      break;
    case PROP_MAX_PLOT_BYTES:
      g_value_set_uint64 (value, priv->max_plot_bytes);
      break;
    case PROP_COLLECT_FILES:
      g_value_set_boolean (value, priv->collect_files);
      break;
    case PROP_MAX_FILES:
      g_value_set_uint (value, priv->max_files);
      break;
    case PROP_MAX_FILE_BYTES:
      g_value_set_uint64 (value, priv->max_file_bytes);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
llmsbx_artifact_sandbox_session_set_property (GObject      *object,
                                              guint         prop_id,
                                              const GValue *value,
                                              GParamSpec   *pspec)
{
  LlmsbxArtifactSandboxSession *self = LLMSBX_ARTIFACT_SANDBOX_SESSION (object);
  LlmsbxArtifactSandboxSessionPrivate *priv = llmsbx_artifact_sandbox_session_get_instance_private (self);

  switch (prop_id)
    {
    case PROP_ENABLE_PLOTTING:
      llmsbx_artifact_sandbox_session_set_enable_plotting (self, g_value_get_boolean (value));
      break;
    case PROP_MAX_PLOTS:
      priv->max_plots = g_value_get_uint (value);
      break;
    case PROP_MAX_PLOT_BYTES:
      priv->max_plot_bytes = g_value_get_uint64 (value);
      break;
    case PROP_COLLECT_FILES:
      priv->collect_files = g_value_get_boolean (value);
      break;
    case PROP_MAX_FILES:
      priv->max_files = g_value_get_uint (value);
      break;
    case PROP_MAX_FILE_BYTES:
      priv->max_file_bytes = g_value_get_uint64 (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
llmsbx_artifact_sandbox_session_class_init (LlmsbxArtifactSandboxSessionClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  LlmsbxSandboxSessionClass *session_class = LLMSBX_SANDBOX_SESSION_CLASS (klass);

  object_class->get_property = llmsbx_artifact_sandbox_session_get_property;
  object_class->set_property = llmsbx_artifact_sandbox_session_set_property;
  session_class->capture_artifacts = llmsbx_artifact_sandbox_session_capture_artifacts;

  /**
   * LlmsbxArtifactSandboxSession:enable-plotting:
   *
   * Whether runs capture the plots their code makes. Without it, a run is
   * a plain session's, with no plots and no extra request.
   *
   * Since: 0.1
   */
  properties[PROP_ENABLE_PLOTTING] =
    g_param_spec_boolean ("enable-plotting", NULL, NULL,
                          TRUE,
                          G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_EXPLICIT_NOTIFY |
                          G_PARAM_STATIC_STRINGS);

  /**
   * LlmsbxArtifactSandboxSession:max-plots:
   *
   * The most plots one run brings back: the first ones the code made. More
   * set #LlmsbxExecutionResult:plots-dropped.
   *
   * Since: 0.1
   */
  properties[PROP_MAX_PLOTS] =
    g_param_spec_uint ("max-plots", NULL, NULL,
                       0, 100000, LLMSBX_DEFAULT_MAX_PLOTS,
                       G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_STATIC_STRINGS);

  /**
   * LlmsbxArtifactSandboxSession:max-plot-bytes:
   *
   * The most bytes of plots one run brings back, all plots together; it
   * also bounds the memory a run's fetch takes. Plots past it set
   * #LlmsbxExecutionResult:plots-dropped.
   *
   * Since: 0.1
   */
  properties[PROP_MAX_PLOT_BYTES] =
    g_param_spec_uint64 ("max-plot-bytes", NULL, NULL,
                         0, G_GUINT64_CONSTANT (1) << 32, LLMSBX_DEFAULT_MAX_PLOT_BYTES,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_STATIC_STRINGS);

  /**
   * LlmsbxArtifactSandboxSession:collect-files:
   *
   * Whether runs bring back the files their code writes into its output
   * directory, whose path is in the environment variable
   * `LLMSBX_OUTPUT_DIR` (a new, empty directory for each run), in
   * #LlmsbxExecutionResult:files. Only regular files come back, from any
   * depth below it, with the rules of
   * llmsbx_sandbox_session_copy_from_runtime(): no links, no names leading
   * out. Off by default; on, a run costs the same one request more as
   * plotting does, and the two share it.
   *
   * Since: 0.1
   */
  properties[PROP_COLLECT_FILES] =
    g_param_spec_boolean ("collect-files", NULL, NULL,
                          FALSE,
                          G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_STATIC_STRINGS);

  /**
   * LlmsbxArtifactSandboxSession:max-files:
   *
   * The most output files one run brings back, the first by path; more set
   * #LlmsbxExecutionResult:files-dropped.
   *
   * Since: 0.1
   */
  properties[PROP_MAX_FILES] =
    g_param_spec_uint ("max-files", NULL, NULL,
                       0, 100000, LLMSBX_DEFAULT_MAX_FILES,
                       G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_STATIC_STRINGS);

  /**
   * LlmsbxArtifactSandboxSession:max-file-bytes:
   *
   * The most bytes of output files one run brings back, all files together.
   *
   * Since: 0.1
   */
  properties[PROP_MAX_FILE_BYTES] =
    g_param_spec_uint64 ("max-file-bytes", NULL, NULL,
                         0, G_GUINT64_CONSTANT (1) << 32, LLMSBX_DEFAULT_MAX_FILE_BYTES,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
llmsbx_artifact_sandbox_session_init (LlmsbxArtifactSandboxSession *self)
{
}

/**
 * llmsbx_artifact_sandbox_session_new:
 * @lang: the language of the code (`python`, `r`, ...)
 *
 * Creates a session that captures plots; open it with
 * llmsbx_sandbox_session_open().
 *
 * Returns: (transfer full): a new #LlmsbxArtifactSandboxSession
 *
 * Since: 0.1
 */
LlmsbxSandboxSession *
llmsbx_artifact_sandbox_session_new (const char *lang)
{
  return g_object_new (LLMSBX_TYPE_ARTIFACT_SANDBOX_SESSION, "lang", lang, NULL);
}

/**
 * llmsbx_artifact_sandbox_session_get_enable_plotting:
 * @self: a #LlmsbxArtifactSandboxSession
 *
 * Gets #LlmsbxArtifactSandboxSession:enable-plotting.
 *
 * Returns: whether runs capture plots
 *
 * Since: 0.1
 */
gboolean
llmsbx_artifact_sandbox_session_get_enable_plotting (LlmsbxArtifactSandboxSession *self)
{
  LlmsbxArtifactSandboxSessionPrivate *priv;

  g_return_val_if_fail (LLMSBX_IS_ARTIFACT_SANDBOX_SESSION (self), FALSE);

  priv = llmsbx_artifact_sandbox_session_get_instance_private (self);
  return priv->enable_plotting;
}

/**
 * llmsbx_artifact_sandbox_session_set_enable_plotting:
 * @self: a #LlmsbxArtifactSandboxSession
 * @enable_plotting: whether runs capture plots
 *
 * Sets #LlmsbxArtifactSandboxSession:enable-plotting, for the runs that
 * start after it.
 *
 * Since: 0.1
 */
void
llmsbx_artifact_sandbox_session_set_enable_plotting (LlmsbxArtifactSandboxSession *self,
                                                     gboolean                      enable_plotting)
{
  LlmsbxArtifactSandboxSessionPrivate *priv;

  g_return_if_fail (LLMSBX_IS_ARTIFACT_SANDBOX_SESSION (self));

  priv = llmsbx_artifact_sandbox_session_get_instance_private (self);
  enable_plotting = !!enable_plotting;
  if (priv->enable_plotting == enable_plotting)
    return;
  priv->enable_plotting = enable_plotting;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ENABLE_PLOTTING]);
}

/**
 * llmsbx_artifact_sandbox_session_get_max_plots:
 * @self: a #LlmsbxArtifactSandboxSession
 *
 * Gets #LlmsbxArtifactSandboxSession:max-plots.
 *
 * Returns: the most plots a run brings back
 *
 * Since: 0.1
 */
guint
llmsbx_artifact_sandbox_session_get_max_plots (LlmsbxArtifactSandboxSession *self)
{
  LlmsbxArtifactSandboxSessionPrivate *priv;

  g_return_val_if_fail (LLMSBX_IS_ARTIFACT_SANDBOX_SESSION (self), 0);

  priv = llmsbx_artifact_sandbox_session_get_instance_private (self);
  return priv->max_plots;
}

/**
 * llmsbx_artifact_sandbox_session_get_max_plot_bytes:
 * @self: a #LlmsbxArtifactSandboxSession
 *
 * Gets #LlmsbxArtifactSandboxSession:max-plot-bytes.
 *
 * Returns: the most bytes of plots a run brings back
 *
 * Since: 0.1
 */
guint64
llmsbx_artifact_sandbox_session_get_max_plot_bytes (LlmsbxArtifactSandboxSession *self)
{
  LlmsbxArtifactSandboxSessionPrivate *priv;

  g_return_val_if_fail (LLMSBX_IS_ARTIFACT_SANDBOX_SESSION (self), 0);

  priv = llmsbx_artifact_sandbox_session_get_instance_private (self);
  return priv->max_plot_bytes;
}
