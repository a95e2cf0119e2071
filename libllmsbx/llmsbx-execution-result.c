/* llmsbx-execution-result.c: what a run or a command produced. */
#include "config.h"

#include <json-glib/json-glib.h>

#include "llmsbx-execution-result.h"
#include "llmsbx-plot-output.h"
#include "llmsbx-output-file.h"

/**
 * LlmsbxExecutionResult:
 *
 * The immutable outcome of one execution: its exit code, its standard output
 * and standard error, whether output was cut at the session's limit, whether
 * the kernel killed it for lack of memory, and how long it took; for a run
 * of an #LlmsbxArtifactSandboxSession, the plots the code made
 * (#LlmsbxExecutionResult:plots) and the files it left in its output
 * directory (#LlmsbxExecutionResult:files).
 *
 * The output is available exactly as bytes (#LlmsbxExecutionResult:stdout-bytes)
 * and as text (#LlmsbxExecutionResult:stdout). The text is always valid UTF-8:
 * invalid sequences and NUL bytes are replaced with U+FFFD, so nothing is lost
 * silently and the text is a complete C string.
 *
 * Since: 0.1
 */

struct _LlmsbxExecutionResult
{
  GObject parent_instance;

  int exit_code;
  GBytes *stdout_bytes;
  GBytes *stderr_bytes;
  char *stdout_text;
  char *stderr_text;
  gboolean truncated;
  gboolean oom_killed;
  double duration;
  GPtrArray *plots;
  gboolean plots_dropped;
  GPtrArray *files;
  gboolean files_dropped;
};

G_DEFINE_FINAL_TYPE (LlmsbxExecutionResult, llmsbx_execution_result, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_EXIT_CODE,
  PROP_SUCCESS,
  PROP_STDOUT,
  PROP_STDERR,
  PROP_STDOUT_BYTES,
  PROP_STDERR_BYTES,
  PROP_TRUNCATED,
  PROP_DURATION,
  PROP_OOM_KILLED,
  PROP_PLOTS,
  PROP_PLOTS_DROPPED,
  PROP_FILES,
  PROP_FILES_DROPPED,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* g_utf8_make_valid() treats NUL bytes as invalid, so they become U+FFFD too. */
static char *
bytes_to_text (GBytes *bytes)
{
  gsize len;
  const char *data = g_bytes_get_data (bytes, &len);

  return g_utf8_make_valid (data != NULL ? data : "", len);
}

static void
llmsbx_execution_result_constructed (GObject *object)
{
  LlmsbxExecutionResult *self = LLMSBX_EXECUTION_RESULT (object);

  G_OBJECT_CLASS (llmsbx_execution_result_parent_class)->constructed (object);

  if (self->stdout_bytes == NULL)
    self->stdout_bytes = g_bytes_new (NULL, 0);
  if (self->stderr_bytes == NULL)
    self->stderr_bytes = g_bytes_new (NULL, 0);
  if (self->plots == NULL)
    self->plots = g_ptr_array_new_with_free_func (g_object_unref);
  if (self->files == NULL)
    self->files = g_ptr_array_new_with_free_func (g_object_unref);

  /* The result is immutable and may be read from several threads, so the
   * text is made once here rather than lazily. */
  self->stdout_text = bytes_to_text (self->stdout_bytes);
  self->stderr_text = bytes_to_text (self->stderr_bytes);
}

static void
llmsbx_execution_result_finalize (GObject *object)
{
  LlmsbxExecutionResult *self = LLMSBX_EXECUTION_RESULT (object);

  g_bytes_unref (self->stdout_bytes);
  g_bytes_unref (self->stderr_bytes);
  g_free (self->stdout_text);
  g_free (self->stderr_text);
  g_ptr_array_unref (self->plots);
  g_ptr_array_unref (self->files);

  G_OBJECT_CLASS (llmsbx_execution_result_parent_class)->finalize (object);
}

static void
llmsbx_execution_result_get_property (GObject    *object,
                                      guint       prop_id,
                                      GValue     *value,
                                      GParamSpec *pspec)
{
  LlmsbxExecutionResult *self = LLMSBX_EXECUTION_RESULT (object);

  switch (prop_id)
    {
    case PROP_EXIT_CODE:
      g_value_set_int (value, self->exit_code);
      break;
    case PROP_SUCCESS:
      g_value_set_boolean (value, llmsbx_execution_result_get_success (self));
      break;
    case PROP_STDOUT:
      g_value_set_string (value, self->stdout_text);
      break;
    case PROP_STDERR:
      g_value_set_string (value, self->stderr_text);
      break;
    case PROP_STDOUT_BYTES:
      g_value_set_boxed (value, self->stdout_bytes);
      break;
    case PROP_STDERR_BYTES:
      g_value_set_boxed (value, self->stderr_bytes);
      break;
    case PROP_TRUNCATED:
      g_value_set_boolean (value, self->truncated);
      break;
    case PROP_DURATION:
      g_value_set_double (value, self->duration);
      break;
    case PROP_OOM_KILLED:
      g_value_set_boolean (value, self->oom_killed);
      break;
    case PROP_PLOTS:
      g_value_set_boxed (value, self->plots);
      break;
    case PROP_PLOTS_DROPPED:
      g_value_set_boolean (value, self->plots_dropped);
      break;
    case PROP_FILES:
      g_value_set_boxed (value, self->files);
      break;
    case PROP_FILES_DROPPED:
      g_value_set_boolean (value, self->files_dropped);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
llmsbx_execution_result_set_property (GObject      *object,
                                      guint         prop_id,
                                      const GValue *value,
                                      GParamSpec   *pspec)
{
  LlmsbxExecutionResult *self = LLMSBX_EXECUTION_RESULT (object);

  switch (prop_id)
    {
    case PROP_EXIT_CODE:
      self->exit_code = g_value_get_int (value);
      break;
    case PROP_STDOUT_BYTES:
      self->stdout_bytes = g_value_dup_boxed (value);
      break;
    case PROP_STDERR_BYTES:
      self->stderr_bytes = g_value_dup_boxed (value);
      break;
    case PROP_TRUNCATED:
      self->truncated = g_value_get_boolean (value);
      break;
    case PROP_DURATION:
      self->duration = g_value_get_double (value);
      break;
    case PROP_OOM_KILLED:
      self->oom_killed = g_value_get_boolean (value);
      break;
    case PROP_PLOTS:
      self->plots = g_value_dup_boxed (value);
      break;
    case PROP_PLOTS_DROPPED:
      self->plots_dropped = g_value_get_boolean (value);
      break;
    case PROP_FILES:
      self->files = g_value_dup_boxed (value);
      break;
    case PROP_FILES_DROPPED:
      self->files_dropped = g_value_get_boolean (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
llmsbx_execution_result_class_init (LlmsbxExecutionResultClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->constructed = llmsbx_execution_result_constructed;
  object_class->finalize = llmsbx_execution_result_finalize;
  object_class->get_property = llmsbx_execution_result_get_property;
  object_class->set_property = llmsbx_execution_result_set_property;

  /**
   * LlmsbxExecutionResult:exit-code:
   *
   * The exit status of the program.
   *
   * Since: 0.1
   */
  properties[PROP_EXIT_CODE] =
    g_param_spec_int ("exit-code", NULL, NULL,
                      G_MININT, G_MAXINT, 0,
                      G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  /**
   * LlmsbxExecutionResult:success:
   *
   * Whether #LlmsbxExecutionResult:exit-code is 0.
   *
   * Since: 0.1
   */
  properties[PROP_SUCCESS] =
    g_param_spec_boolean ("success", NULL, NULL,
                          TRUE,
                          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);

  /**
   * LlmsbxExecutionResult:stdout:
   *
   * The standard output as UTF-8 text (see #LlmsbxExecutionResult).
   *
   * Since: 0.1
   */
  properties[PROP_STDOUT] =
    g_param_spec_string ("stdout", NULL, NULL,
                         NULL,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);

  /**
   * LlmsbxExecutionResult:stderr:
   *
   * The standard error as UTF-8 text (see #LlmsbxExecutionResult).
   *
   * Since: 0.1
   */
  properties[PROP_STDERR] =
    g_param_spec_string ("stderr", NULL, NULL,
                         NULL,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);

  /**
   * LlmsbxExecutionResult:stdout-bytes:
   *
   * The standard output exactly as the program wrote it.
   *
   * Since: 0.1
   */
  properties[PROP_STDOUT_BYTES] =
    g_param_spec_boxed ("stdout-bytes", NULL, NULL,
                        G_TYPE_BYTES,
                        G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  /**
   * LlmsbxExecutionResult:stderr-bytes:
   *
   * The standard error exactly as the program wrote it.
   *
   * Since: 0.1
   */
  properties[PROP_STDERR_BYTES] =
    g_param_spec_boxed ("stderr-bytes", NULL, NULL,
                        G_TYPE_BYTES,
                        G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  /**
   * LlmsbxExecutionResult:truncated:
   *
   * Whether output was dropped because it exceeded the output limit.
   *
   * Since: 0.1
   */
  properties[PROP_TRUNCATED] =
    g_param_spec_boolean ("truncated", NULL, NULL,
                          FALSE,
                          G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  /**
   * LlmsbxExecutionResult:duration:
   *
   * How long the execution took, in seconds.
   *
   * Since: 0.1
   */
  properties[PROP_DURATION] =
    g_param_spec_double ("duration", NULL, NULL,
                         0.0, G_MAXDOUBLE, 0.0,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  /**
   * LlmsbxExecutionResult:oom-killed:
   *
   * Whether the kernel killed the program because its sandbox ran out of
   * memory (its memory limit, `mem_limit`). The exit code is then 137.
   *
   * Since: 0.1
   */
  properties[PROP_OOM_KILLED] =
    g_param_spec_boolean ("oom-killed", NULL, NULL,
                          FALSE,
                          G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  /**
   * LlmsbxExecutionResult:plots: (type GPtrArray(LlmsbxPlotOutput))
   *
   * The plots the run's code made, in the order it made them (see
   * #LlmsbxArtifactSandboxSession); empty for every other execution.
   *
   * Since: 0.1
   */
  properties[PROP_PLOTS] =
    g_param_spec_boxed ("plots", NULL, NULL,
                        G_TYPE_PTR_ARRAY,
                        G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  /**
   * LlmsbxExecutionResult:plots-dropped:
   *
   * Whether the run made plots that are not in #LlmsbxExecutionResult:plots:
   * more than the session's #LlmsbxArtifactSandboxSession:max-plots or
   * #LlmsbxArtifactSandboxSession:max-plot-bytes allow, or files in the
   * run's plot directory that are not plots (links, unknown formats).
   *
   * Since: 0.1
   */
  properties[PROP_PLOTS_DROPPED] =
    g_param_spec_boolean ("plots-dropped", NULL, NULL,
                          FALSE,
                          G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  /**
   * LlmsbxExecutionResult:files: (type GPtrArray(LlmsbxOutputFile))
   *
   * The files the run's code left in its output directory, sorted by path
   * (see #LlmsbxArtifactSandboxSession:collect-files); empty for every
   * other execution.
   *
   * Since: 0.1
   */
  properties[PROP_FILES] =
    g_param_spec_boxed ("files", NULL, NULL,
                        G_TYPE_PTR_ARRAY,
                        G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  /**
   * LlmsbxExecutionResult:files-dropped:
   *
   * Whether the output directory held more than #LlmsbxExecutionResult:files:
   * past #LlmsbxArtifactSandboxSession:max-files or
   * #LlmsbxArtifactSandboxSession:max-file-bytes, or entries that are not
   * regular files (links, devices, FIFOs).
   *
   * Since: 0.1
   */
  properties[PROP_FILES_DROPPED] =
    g_param_spec_boolean ("files-dropped", NULL, NULL,
                          FALSE,
                          G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
llmsbx_execution_result_init (LlmsbxExecutionResult *self)
{
}

/**
 * llmsbx_execution_result_new:
 * @exit_code: the exit status
 * @stdout_bytes: (nullable): the standard output; %NULL for none
 * @stderr_bytes: (nullable): the standard error; %NULL for none
 * @truncated: whether output was dropped at the output limit
 * @duration: how long the execution took, in seconds
 *
 * Creates a result.
 *
 * Returns: (transfer full): a new #LlmsbxExecutionResult
 *
 * Since: 0.1
 */
LlmsbxExecutionResult *
llmsbx_execution_result_new (int      exit_code,
                             GBytes  *stdout_bytes,
                             GBytes  *stderr_bytes,
                             gboolean truncated,
                             double   duration)
{
  return g_object_new (LLMSBX_TYPE_EXECUTION_RESULT,
                       "exit-code", exit_code,
                       "stdout-bytes", stdout_bytes,
                       "stderr-bytes", stderr_bytes,
                       "truncated", truncated,
                       "duration", MAX (duration, 0.0),
                       NULL);
}

/**
 * llmsbx_execution_result_get_exit_code:
 * @self: a #LlmsbxExecutionResult
 *
 * Gets the exit status of the program.
 *
 * Returns: the exit status of the program
 *
 * Since: 0.1
 */
int
llmsbx_execution_result_get_exit_code (LlmsbxExecutionResult *self)
{
  g_return_val_if_fail (LLMSBX_IS_EXECUTION_RESULT (self), -1);

  return self->exit_code;
}

/**
 * llmsbx_execution_result_get_success:
 * @self: a #LlmsbxExecutionResult
 *
 * Checks whether the exit status is 0.
 *
 * Returns: %TRUE if the exit status is 0
 *
 * Since: 0.1
 */
gboolean
llmsbx_execution_result_get_success (LlmsbxExecutionResult *self)
{
  g_return_val_if_fail (LLMSBX_IS_EXECUTION_RESULT (self), FALSE);

  return self->exit_code == 0;
}

/**
 * llmsbx_execution_result_get_stdout:
 * @self: a #LlmsbxExecutionResult
 *
 * Gets the standard output as text: valid UTF-8, with invalid sequences and
 * NUL bytes replaced by U+FFFD.
 *
 * Returns: (transfer none): the standard output
 *
 * Since: 0.1
 */
const char *
llmsbx_execution_result_get_stdout (LlmsbxExecutionResult *self)
{
  g_return_val_if_fail (LLMSBX_IS_EXECUTION_RESULT (self), NULL);

  return self->stdout_text;
}

/**
 * llmsbx_execution_result_get_stderr:
 * @self: a #LlmsbxExecutionResult
 *
 * Gets the standard error as text: valid UTF-8, with invalid sequences and
 * NUL bytes replaced by U+FFFD.
 *
 * Returns: (transfer none): the standard error
 *
 * Since: 0.1
 */
const char *
llmsbx_execution_result_get_stderr (LlmsbxExecutionResult *self)
{
  g_return_val_if_fail (LLMSBX_IS_EXECUTION_RESULT (self), NULL);

  return self->stderr_text;
}

/**
 * llmsbx_execution_result_get_stdout_bytes:
 * @self: a #LlmsbxExecutionResult
 *
 * Gets the standard output exactly as written.
 *
 * Returns: (transfer none): the standard output exactly as written
 *
 * Since: 0.1
 */
GBytes *
llmsbx_execution_result_get_stdout_bytes (LlmsbxExecutionResult *self)
{
  g_return_val_if_fail (LLMSBX_IS_EXECUTION_RESULT (self), NULL);

  return self->stdout_bytes;
}

/**
 * llmsbx_execution_result_get_stderr_bytes:
 * @self: a #LlmsbxExecutionResult
 *
 * Gets the standard error exactly as written.
 *
 * Returns: (transfer none): the standard error exactly as written
 *
 * Since: 0.1
 */
GBytes *
llmsbx_execution_result_get_stderr_bytes (LlmsbxExecutionResult *self)
{
  g_return_val_if_fail (LLMSBX_IS_EXECUTION_RESULT (self), NULL);

  return self->stderr_bytes;
}

/**
 * llmsbx_execution_result_get_truncated:
 * @self: a #LlmsbxExecutionResult
 *
 * Checks whether output was dropped at the output limit.
 *
 * Returns: %TRUE if output was dropped at the output limit
 *
 * Since: 0.1
 */
gboolean
llmsbx_execution_result_get_truncated (LlmsbxExecutionResult *self)
{
  g_return_val_if_fail (LLMSBX_IS_EXECUTION_RESULT (self), FALSE);

  return self->truncated;
}

/**
 * llmsbx_execution_result_get_duration:
 * @self: a #LlmsbxExecutionResult
 *
 * Gets how long the execution took, in seconds.
 *
 * Returns: how long the execution took, in seconds
 *
 * Since: 0.1
 */
double
llmsbx_execution_result_get_duration (LlmsbxExecutionResult *self)
{
  g_return_val_if_fail (LLMSBX_IS_EXECUTION_RESULT (self), 0.0);

  return self->duration;
}

/**
 * llmsbx_execution_result_get_oom_killed:
 * @self: a #LlmsbxExecutionResult
 *
 * Checks whether the kernel killed the program for lack of memory.
 *
 * Returns: %TRUE if the kernel killed the program for lack of memory
 *
 * Since: 0.1
 */
gboolean
llmsbx_execution_result_get_oom_killed (LlmsbxExecutionResult *self)
{
  g_return_val_if_fail (LLMSBX_IS_EXECUTION_RESULT (self), FALSE);

  return self->oom_killed;
}

/**
 * llmsbx_execution_result_get_plots:
 * @self: a #LlmsbxExecutionResult
 *
 * Gets the plots the run's code made, in the order it made them.
 *
 * Returns: (transfer none) (element-type LlmsbxPlotOutput): the plots, maybe none
 *
 * Since: 0.1
 */
GPtrArray *
llmsbx_execution_result_get_plots (LlmsbxExecutionResult *self)
{
  g_return_val_if_fail (LLMSBX_IS_EXECUTION_RESULT (self), NULL);

  return self->plots;
}

/**
 * llmsbx_execution_result_get_plots_dropped:
 * @self: a #LlmsbxExecutionResult
 *
 * Checks whether plots were left out of #LlmsbxExecutionResult:plots (see
 * #LlmsbxExecutionResult:plots-dropped).
 *
 * Returns: %TRUE if some plots were dropped
 *
 * Since: 0.1
 */
gboolean
llmsbx_execution_result_get_plots_dropped (LlmsbxExecutionResult *self)
{
  g_return_val_if_fail (LLMSBX_IS_EXECUTION_RESULT (self), FALSE);

  return self->plots_dropped;
}

/**
 * llmsbx_execution_result_get_files:
 * @self: a #LlmsbxExecutionResult
 *
 * Gets the files the run's code left in its output directory.
 *
 * Returns: (transfer none) (element-type LlmsbxOutputFile): the files, maybe none
 *
 * Since: 0.1
 */
GPtrArray *
llmsbx_execution_result_get_files (LlmsbxExecutionResult *self)
{
  g_return_val_if_fail (LLMSBX_IS_EXECUTION_RESULT (self), NULL);

  return self->files;
}

/**
 * llmsbx_execution_result_get_files_dropped:
 * @self: a #LlmsbxExecutionResult
 *
 * Checks whether output files were left out (see
 * #LlmsbxExecutionResult:files-dropped).
 *
 * Returns: %TRUE if some files were dropped
 *
 * Since: 0.1
 */
gboolean
llmsbx_execution_result_get_files_dropped (LlmsbxExecutionResult *self)
{
  g_return_val_if_fail (LLMSBX_IS_EXECUTION_RESULT (self), FALSE);

  return self->files_dropped;
}

/**
 * llmsbx_execution_result_to_json:
 * @self: a #LlmsbxExecutionResult
 *
 * Serializes the result as a JSON object with the members `exit_code`,
 * `stdout`, `stderr` (the text forms), `truncated`, `oom_killed` and `duration`;
 * when the run made plots or dropped some, also `plots`, an array of objects
 * with `format`, `filename`, `width`, `height`, `dpi` and `content_base64`,
 * and `plots_dropped`; when it brought back files or dropped some, `files`,
 * an array of objects with `path` and `content_base64`, and `files_dropped`.
 *
 * Returns: (transfer full): a compact JSON object
 *
 * Since: 0.1
 */
char *
llmsbx_execution_result_to_json (LlmsbxExecutionResult *self)
{
  g_autoptr(JsonBuilder) builder = NULL;
  g_autoptr(JsonNode) root = NULL;

  g_return_val_if_fail (LLMSBX_IS_EXECUTION_RESULT (self), NULL);

  builder = json_builder_new ();
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "exit_code");
  json_builder_add_int_value (builder, self->exit_code);
  json_builder_set_member_name (builder, "stdout");
  json_builder_add_string_value (builder, self->stdout_text);
  json_builder_set_member_name (builder, "stderr");
  json_builder_add_string_value (builder, self->stderr_text);
  json_builder_set_member_name (builder, "truncated");
  json_builder_add_boolean_value (builder, self->truncated);
  json_builder_set_member_name (builder, "oom_killed");
  json_builder_add_boolean_value (builder, self->oom_killed);
  json_builder_set_member_name (builder, "duration");
  json_builder_add_double_value (builder, self->duration);
  if (self->plots->len > 0 || self->plots_dropped)
    {
      json_builder_set_member_name (builder, "plots");
      json_builder_begin_array (builder);
      for (guint i = 0; i < self->plots->len; i++)
        {
          LlmsbxPlotOutput *plot = g_ptr_array_index (self->plots, i);
          g_autofree char *base64 = llmsbx_plot_output_get_content_base64 (plot);

          json_builder_begin_object (builder);
          json_builder_set_member_name (builder, "format");
          json_builder_add_string_value (builder, llmsbx_plot_format_to_string (llmsbx_plot_output_get_format (plot)));
          json_builder_set_member_name (builder, "filename");
          json_builder_add_string_value (builder, llmsbx_plot_output_get_filename (plot));
          json_builder_set_member_name (builder, "width");
          json_builder_add_int_value (builder, llmsbx_plot_output_get_width (plot));
          json_builder_set_member_name (builder, "height");
          json_builder_add_int_value (builder, llmsbx_plot_output_get_height (plot));
          json_builder_set_member_name (builder, "dpi");
          json_builder_add_double_value (builder, llmsbx_plot_output_get_dpi (plot));
          json_builder_set_member_name (builder, "content_base64");
          json_builder_add_string_value (builder, base64);
          json_builder_end_object (builder);
        }
      json_builder_end_array (builder);
      json_builder_set_member_name (builder, "plots_dropped");
      json_builder_add_boolean_value (builder, self->plots_dropped);
    }
  if (self->files->len > 0 || self->files_dropped)
    {
      json_builder_set_member_name (builder, "files");
      json_builder_begin_array (builder);
      for (guint i = 0; i < self->files->len; i++)
        {
          LlmsbxOutputFile *file = g_ptr_array_index (self->files, i);
          g_autofree char *base64 = llmsbx_output_file_get_content_base64 (file);

          json_builder_begin_object (builder);
          json_builder_set_member_name (builder, "path");
          json_builder_add_string_value (builder, llmsbx_output_file_get_path (file));
          json_builder_set_member_name (builder, "content_base64");
          json_builder_add_string_value (builder, base64);
          json_builder_end_object (builder);
        }
      json_builder_end_array (builder);
      json_builder_set_member_name (builder, "files_dropped");
      json_builder_add_boolean_value (builder, self->files_dropped);
    }
  json_builder_end_object (builder);

  root = json_builder_get_root (builder);
  return json_to_string (root, FALSE);
}
