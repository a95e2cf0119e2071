/* llmsbx-session-artifacts.c: the artifacts of a run, fetched from its
 * directory in the sandbox after the code ends.
 *
 * One archive request fetches the whole run directory (the language's
 * capture saved the plots into its plots/), so the program's output is never
 * parsed for them and stdout stays exactly what it printed. The archive is
 * hostile input: it is held in memory only up to the capture's limits plus
 * room for headers (a transfer past that is cut off, and what came before it
 * still counts, so a huge file may cost the plots after it in the archive;
 * the result says some were dropped), then read with llmsbx_tar_read_files(), which takes only
 * regular files, refuses every path trick, and applies the limits to the
 * first plots by name, which is the order the code made them. */
#include "config.h"

#include "llmsbx-sandbox-session-private.h"
#include "llmsbx-error.h"
#include "llmsbx-plot-output.h"
#include "llmsbx-tar-private.h"

#define PLOTS_PREFIX "plots/"
/* Room for the headers of the archive's entries beyond the plots: thousands
 * of empty files fit, so that they cannot push the plots out. */
#define HEADER_ROOM (G_GUINT64_CONSTANT (4) << 20)
#define ENTRY_ROOM  1024

/* An output stream into memory that takes at most a limit, then fails with
 * LLMSBX_ERROR_LIMIT_EXCEEDED. */
#define ARTIFACT_TYPE_SINK (artifact_sink_get_type ())
G_DECLARE_FINAL_TYPE (ArtifactSink, artifact_sink, ARTIFACT, SINK, GOutputStream)

struct _ArtifactSink
{
  GOutputStream parent_instance;

  GByteArray *data;
  gsize       limit;
};

G_DEFINE_FINAL_TYPE (ArtifactSink, artifact_sink, G_TYPE_OUTPUT_STREAM)

static gssize
artifact_sink_write (GOutputStream  *stream,
                     const void     *buffer,
                     gsize           count,
                     GCancellable   *cancellable,
                     GError        **error)
{
  ArtifactSink *self = ARTIFACT_SINK (stream);
  gsize room = self->limit - self->data->len;

  if (room == 0)
    {
      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_LIMIT_EXCEEDED,
                   "The run's artifacts exceed %" G_GSIZE_FORMAT " bytes", self->limit);
      return -1;
    }
  count = MIN (count, room);
  g_byte_array_append (self->data, buffer, count);
  return count;
}

static void
artifact_sink_finalize (GObject *object)
{
  g_byte_array_unref (ARTIFACT_SINK (object)->data);

  G_OBJECT_CLASS (artifact_sink_parent_class)->finalize (object);
}

static void
artifact_sink_class_init (ArtifactSinkClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = artifact_sink_finalize;
  G_OUTPUT_STREAM_CLASS (klass)->write_fn = artifact_sink_write;
}

static void
artifact_sink_init (ArtifactSink *self)
{
  self->data = g_byte_array_new ();
}

/* A plot is a file directly in plots/ whose extension names a format. */
static gboolean
is_plot (const char *path,
         gpointer    user_data)
{
  const char *name = path + strlen (PLOTS_PREFIX);
  const char *dot = strrchr (name, '.');
  LlmsbxPlotFormat format;

  return g_str_has_prefix (path, PLOTS_PREFIX) && *name != '\0' && strchr (name, '/') == NULL &&
         dot != NULL && llmsbx_plot_format_from_extension (dot + 1, &format);
}

/* The plots in @run_dir after a run, as LlmsbxPlotOutput in the order the
 * code made them, within @capture's limits; @dropped says whether some were
 * left out. A run directory the code removed has no plots. Fails only when
 * the backend cannot fetch the directory. */
GPtrArray *
llmsbx_session_fetch_artifacts (LlmsbxSandboxSession         *self,
                                const char                   *run_dir,
                                const LlmsbxArtifactCapture  *capture,
                                gboolean                     *dropped,
                                GCancellable                 *cancellable,
                                GError                      **error)
{
  LlmsbxSandboxSessionPrivate *priv = llmsbx_session_get_private (self);
  g_autoptr(GPtrArray) plots = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(ArtifactSink) sink = g_object_new (ARTIFACT_TYPE_SINK, NULL);
  g_autoptr(GError) local_error = NULL;
  g_autoptr(GPtrArray) files = NULL;
  g_autoptr(GBytes) archive = NULL;
  gboolean cut = FALSE;
  guint64 limit;

  *dropped = FALSE;
  limit = capture->max_bytes + HEADER_ROOM + (guint64) capture->max_plots * ENTRY_ROOM;
  sink->limit = MIN (limit, (guint64) G_MAXSIZE / 2);

  if (!llmsbx_backend_get_archive_to_stream (priv->backend, priv->sandbox_id, run_dir,
                                             G_OUTPUT_STREAM (sink), cancellable, &local_error))
    {
      if (g_error_matches (local_error, LLMSBX_ERROR, LLMSBX_ERROR_FILE_NOT_FOUND))
        {
          llmsbx_session_log (self, "the run's artifacts directory %s is gone: no plots", run_dir);
          return g_steal_pointer (&plots);
        }
      if (!g_error_matches (local_error, LLMSBX_ERROR, LLMSBX_ERROR_LIMIT_EXCEEDED))
        {
          g_propagate_prefixed_error (error, g_steal_pointer (&local_error),
                                      "Could not fetch the run's plots from %s: ", run_dir);
          return NULL;
        }
      llmsbx_session_log (self, "%s", local_error->message);
      cut = TRUE;
    }

  archive = g_byte_array_free_to_bytes (g_steal_pointer (&sink->data));
  sink->data = g_byte_array_new ();
  files = llmsbx_tar_read_files (archive, is_plot, NULL, capture->max_plots, capture->max_bytes, dropped);
  *dropped = *dropped || cut;

  for (guint i = 0; i < files->len; i++)
    {
      LlmsbxTarFile *file = g_ptr_array_index (files, i);
      const char *name = file->path + strlen (PLOTS_PREFIX);
      LlmsbxPlotFormat format = LLMSBX_PLOT_FORMAT_PNG;

      llmsbx_plot_format_from_extension (strrchr (name, '.') + 1, &format);
      g_ptr_array_add (plots, llmsbx_plot_output_new (format, file->content, name));
    }

  llmsbx_session_log (self, "%u plot%s (%" G_GSIZE_FORMAT " bytes of archive)%s", plots->len,
                      plots->len == 1 ? "" : "s", g_bytes_get_size (archive),
                      *dropped ? ", some dropped" : "");
  return g_steal_pointer (&plots);
}
