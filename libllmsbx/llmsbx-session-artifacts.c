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
#include "llmsbx-output-file.h"
#include "llmsbx-tar-private.h"
#include "llmsbx-guarded-exec-private.h"

#define PLOTS_PREFIX "plots/"
#define FILES_PREFIX "files/"
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

void
llmsbx_artifacts_clear (LlmsbxArtifacts *artifacts)
{
  g_clear_pointer (&artifacts->plots, g_ptr_array_unref);
  g_clear_pointer (&artifacts->files, g_ptr_array_unref);
}

/* Where the code's output files go in @run_dir: $LLMSBX_OUTPUT_DIR. */
char *
llmsbx_session_output_dir (const char *run_dir)
{
  return g_build_path ("/", run_dir, FILES_PREFIX, NULL);
}

/* A plot is a file directly in plots/ whose extension names a format;
 * anything else there is refused. */
static LlmsbxTarChoice
is_plot (const char *path,
         gpointer    user_data)
{
  const char *name = path + strlen (PLOTS_PREFIX);
  const char *dot;
  LlmsbxPlotFormat format;

  if (!g_str_has_prefix (path, PLOTS_PREFIX))
    return LLMSBX_TAR_SKIP;
  dot = strrchr (name, '.');
  if (*name == '\0' || strchr (name, '/') != NULL || dot == NULL || !g_utf8_validate (name, -1, NULL) ||
      !llmsbx_plot_format_from_extension (dot + 1, &format))
    return LLMSBX_TAR_REFUSE;
  return LLMSBX_TAR_TAKE;
}

/* An output file is any regular file below files/ with a UTF-8 path. */
static LlmsbxTarChoice
is_output_file (const char *path,
                gpointer    user_data)
{
  if (!g_str_has_prefix (path, FILES_PREFIX) || path[strlen (FILES_PREFIX)] == '\0')
    return LLMSBX_TAR_SKIP;
  /* Paths are text in every binding. */
  return g_utf8_validate (path, -1, NULL) ? LLMSBX_TAR_TAKE : LLMSBX_TAR_REFUSE;
}

/* @run_dir archived by tar in the sandbox, on an exec's stdout, at most
 * @limit bytes (more sets @cut), into @archive; %NULL there when there is
 * nothing to take. Docker's archive API reads the container's file system
 * beneath its mounts, so a run directory on a tmpfs (the presets make the
 * workdir one) reads as missing there; an exec sees what the code sees. The
 * archive has @run_dir's name as its top entry, as get_archive's, and is as
 * hostile. */
static gboolean
archive_by_exec (LlmsbxSandboxSession  *self,
                 const char            *run_dir,
                 gsize                  limit,
                 GBytes               **archive,
                 gboolean              *cut,
                 GCancellable          *cancellable,
                 GError               **error)
{
  LlmsbxSandboxSessionPrivate *priv = llmsbx_session_get_private (self);
  g_autofree char *parent = g_path_get_dirname (run_dir);
  g_autofree char *base = g_path_get_basename (run_dir);
  const char *argv[] = { "tar", "-C", parent, "-cf", "-", "--", base, NULL };
  g_autoptr(LlmsbxOutputCollector) output = llmsbx_output_collector_new (limit);
  g_autoptr(GError) local_error = NULL;
  int status = 0;

  *archive = NULL;
  if (!llmsbx_guarded_exec (priv->backend, priv->sandbox_id, argv, NULL, "/", priv->default_timeout, output,
                            &status, cancellable, &local_error))
    {
      /* An image without tar has no way to them. */
      if (g_error_matches (local_error, LLMSBX_ERROR, LLMSBX_ERROR_COMMAND_NOT_STARTED))
        {
          llmsbx_session_log (self, "no artifacts: %s", local_error->message);
          return TRUE;
        }
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }
  /* tar fails for a directory the code removed: nothing to take. */
  if (status != 0)
    {
      llmsbx_session_log (self, "the run's artifacts directory %s could not be archived (tar exited with %d): "
                          "no artifacts", run_dir, status);
      return TRUE;
    }
  *cut = llmsbx_output_collector_get_truncated (output);
  *archive = llmsbx_output_collector_steal_bytes (output, LLMSBX_OUTPUT_STREAM_STDOUT);
  return TRUE;
}

/* Fetches @run_dir after a run into @artifacts: the plots in the order the
 * code made them and the output files by path, each within @capture's
 * limits, with flags saying whether some were left out. A run directory the
 * code removed has none. Fails only when the backend cannot fetch the
 * directory. */
gboolean
llmsbx_session_fetch_artifacts (LlmsbxSandboxSession         *self,
                                const char                   *run_dir,
                                const LlmsbxArtifactCapture  *capture,
                                LlmsbxArtifacts              *artifacts,
                                GCancellable                 *cancellable,
                                GError                      **error)
{
  LlmsbxSandboxSessionPrivate *priv = llmsbx_session_get_private (self);
  g_autoptr(ArtifactSink) sink = g_object_new (ARTIFACT_TYPE_SINK, NULL);
  g_autoptr(GError) local_error = NULL;
  g_autoptr(GBytes) archive = NULL;
  gboolean cut = FALSE;
  guint64 limit;

  artifacts->plots = g_ptr_array_new_with_free_func (g_object_unref);
  artifacts->files = g_ptr_array_new_with_free_func (g_object_unref);
  artifacts->plots_dropped = artifacts->files_dropped = FALSE;

  limit = HEADER_ROOM;
  if (capture->plots)
    limit += capture->max_plot_bytes + (guint64) capture->max_plots * ENTRY_ROOM;
  if (capture->files)
    limit += capture->max_file_bytes + (guint64) capture->max_files * ENTRY_ROOM;
  sink->limit = MIN (limit, (guint64) G_MAXSIZE / 2);

  if (!llmsbx_backend_get_archive_to_stream (priv->backend, priv->sandbox_id, run_dir,
                                             G_OUTPUT_STREAM (sink), cancellable, &local_error))
    {
      if (g_error_matches (local_error, LLMSBX_ERROR, LLMSBX_ERROR_FILE_NOT_FOUND))
        {
          llmsbx_session_log (self, "the archive request does not see %s (a tmpfs?): archiving it with tar",
                              run_dir);
          g_clear_error (&local_error);
          if (!archive_by_exec (self, run_dir, sink->limit, &archive, &cut, cancellable, &local_error))
            {
              g_propagate_prefixed_error (error, g_steal_pointer (&local_error),
                                          "Could not fetch the run's artifacts from %s: ", run_dir);
              return FALSE;
            }
          if (archive == NULL)
            return TRUE;
        }
      else if (!g_error_matches (local_error, LLMSBX_ERROR, LLMSBX_ERROR_LIMIT_EXCEEDED))
        {
          g_propagate_prefixed_error (error, g_steal_pointer (&local_error),
                                      "Could not fetch the run's artifacts from %s: ", run_dir);
          return FALSE;
        }
      else
        {
          llmsbx_session_log (self, "%s", local_error->message);
          cut = TRUE;
        }
    }

  if (archive == NULL)
    {
      archive = g_byte_array_free_to_bytes (g_steal_pointer (&sink->data));
      sink->data = g_byte_array_new ();
    }

  if (capture->plots)
    {
      g_autoptr(GPtrArray) found = llmsbx_tar_read_files (archive, is_plot, NULL, capture->max_plots,
                                                          capture->max_plot_bytes, &artifacts->plots_dropped);

      for (guint i = 0; i < found->len; i++)
        {
          LlmsbxTarFile *file = g_ptr_array_index (found, i);
          const char *name = file->path + strlen (PLOTS_PREFIX);
          LlmsbxPlotFormat format = LLMSBX_PLOT_FORMAT_PNG;

          llmsbx_plot_format_from_extension (strrchr (name, '.') + 1, &format);
          g_ptr_array_add (artifacts->plots, llmsbx_plot_output_new (format, file->content, name));
        }
      artifacts->plots_dropped = artifacts->plots_dropped || cut;
    }

  if (capture->files)
    {
      g_autoptr(GPtrArray) found = llmsbx_tar_read_files (archive, is_output_file, NULL, capture->max_files,
                                                          capture->max_file_bytes, &artifacts->files_dropped);

      for (guint i = 0; i < found->len; i++)
        {
          LlmsbxTarFile *file = g_ptr_array_index (found, i);

          g_ptr_array_add (artifacts->files,
                           llmsbx_output_file_new (file->path + strlen (FILES_PREFIX), file->content));
        }
      artifacts->files_dropped = artifacts->files_dropped || cut;
    }

  llmsbx_session_log (self, "%u plot%s, %u file%s (%" G_GSIZE_FORMAT " bytes of archive)%s",
                      artifacts->plots->len, artifacts->plots->len == 1 ? "" : "s",
                      artifacts->files->len, artifacts->files->len == 1 ? "" : "s",
                      g_bytes_get_size (archive),
                      artifacts->plots_dropped || artifacts->files_dropped ? ", some dropped" : "");
  return TRUE;
}
