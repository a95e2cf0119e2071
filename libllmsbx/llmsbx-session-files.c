/* llmsbx-session-files.c: copies into and out of the sandbox, as tar archives.
 *
 * Copies into the sandbox are packed in memory (llmsbx-tar.c) and uploaded in
 * one archive; copies out of it go to disk as they arrive
 * (llmsbx-archive-spool.c) and are checked whole before anything is
 * unpacked. */
#include "config.h"

#include "llmsbx-sandbox-session-private.h"
#include "llmsbx-archive-spool-private.h"
#include "llmsbx-error.h"
#include "llmsbx-guarded-exec-private.h"
#include "llmsbx-tar-private.h"

static gboolean
make_sandbox_directory (LlmsbxSandboxSession *self,
                        const char           *directory,
                        GCancellable         *cancellable,
                        GError              **error)
{
  LlmsbxSandboxSessionPrivate *priv = llmsbx_session_get_private (self);
  const char *argv[] = { "mkdir", "-p", "--", directory, NULL };
  g_autoptr(LlmsbxOutputCollector) collector = llmsbx_output_collector_new (16 * 1024);
  int status = 0;

  if (!llmsbx_guarded_exec (priv->backend, priv->sandbox_id, argv, NULL, "/",
                            priv->default_timeout, collector, &status, cancellable, error))
    return FALSE;

  if (status != 0)
    {
      g_autoptr(GBytes) err = llmsbx_output_collector_steal_bytes (collector, LLMSBX_OUTPUT_STREAM_STDERR);
      g_autofree char *text = g_utf8_make_valid (g_bytes_get_data (err, NULL), g_bytes_get_size (err));

      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_CONTAINER_FAILED,
                   "Could not create directory %s in the sandbox: %s", directory, g_strstrip (text));
      return FALSE;
    }
  return TRUE;
}

/* Whether @dest names a directory by its form alone: "data/", "data/.", ".". */
static gboolean
names_directory (const char *dest)
{
  gsize length = strlen (dest);

  return length > 0 && (dest[length - 1] == '/' || strcmp (dest, ".") == 0 || g_str_has_suffix (dest, "/."));
}

/* Unpacks @archive into @directory, creating it first when it is missing:
 * one more exec and the upload again, only then. */
static gboolean
put_archive_creating (LlmsbxSandboxSession *self,
                      const char           *directory,
                      GBytes               *archive,
                      GCancellable         *cancellable,
                      GError              **error)
{
  LlmsbxSandboxSessionPrivate *priv = llmsbx_session_get_private (self);
  g_autoptr(GError) local_error = NULL;

  if (llmsbx_backend_put_archive (priv->backend, priv->sandbox_id, directory, archive,
                                  cancellable, &local_error))
    return TRUE;
  if (!g_error_matches (local_error, LLMSBX_ERROR, LLMSBX_ERROR_FILE_NOT_FOUND))
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }
  return make_sandbox_directory (self, directory, cancellable, error) &&
         llmsbx_backend_put_archive (priv->backend, priv->sandbox_id, directory, archive,
                                     cancellable, error);
}

/* The copy's place: @directory and the @name it gets there. @dest_path is
 * the resolved destination, @dest as the caller wrote it. As with cp, a
 * destination written as a directory ("data/", "data/.", ".") receives the
 * source under its own name; otherwise the destination is the copy's name,
 * and the caller finds out from the upload whether it is an existing
 * directory (see copy_to_runtime_locked()). */
static gboolean
copy_destination (const char  *src,
                  const char  *dest,
                  const char  *dest_path,
                  char       **directory,
                  char       **name,
                  GError     **error)
{
  g_autofree char *parent = NULL;
  g_autofree char *last = NULL;

  if (!names_directory (dest))
    return llmsbx_container_path_split (dest_path, directory, name, error);

  /* Only "/" has no last component: it is its own directory. */
  if (llmsbx_container_path_split (dest_path, &parent, &last, NULL))
    *directory = g_build_path ("/", parent, last, NULL);
  else
    *directory = g_strdup ("/");
  *name = g_path_get_basename (src);
  if (strcmp (*name, "/") == 0 || strcmp (*name, ".") == 0)
    {
      g_clear_pointer (directory, g_free);
      g_clear_pointer (name, g_free);
      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
                   "Cannot copy %s into a directory: it has no name of its own", src);
      return FALSE;
    }
  return TRUE;
}

static gboolean
copy_to_runtime_locked (LlmsbxSandboxSession *self,
                        const char           *src,
                        const char           *dest,
                        GCancellable         *cancellable,
                        GError              **error)
{
  LlmsbxSandboxSessionPrivate *priv = llmsbx_session_get_private (self);
  g_autofree char *source = NULL;
  g_autofree char *target = NULL;
  g_autofree char *directory = NULL;
  g_autofree char *name = NULL;
  g_autofree char *inside = NULL;
  g_autoptr(GBytes) archive = NULL;
  g_autoptr(GError) local_error = NULL;
  gboolean is_dir;

  if (!llmsbx_session_check_open (self, error))
    return FALSE;

  target = llmsbx_session_resolve_sandbox_path (self, dest, error);
  if (target == NULL)
    return FALSE;

  source = g_canonicalize_filename (src, NULL);
  is_dir = g_file_test (source, G_FILE_TEST_IS_DIR);
  /* Normalised, so `/sandbox/out` names `out` in `/sandbox`. */
  if (!copy_destination (source, dest, target, &directory, &name, error))
    return FALSE;
  archive = llmsbx_tar_pack_path (source, name, priv->copy_limit, error);
  if (archive == NULL)
    return FALSE;

  llmsbx_session_log (self, "copy %s -> %s/%s", src, directory, name);
  if (put_archive_creating (self, directory, archive, cancellable, &local_error))
    return TRUE;
  if (!g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_EXISTS))
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }

  /* Engines replace a directory with a file of the same name, and all it
   * holds goes with it. The backend refuses that instead; a file given an
   * existing directory as its name then goes inside it, as with cp: one more
   * upload, only in that case. */
  if (!is_dir && !names_directory (dest))
    {
      g_clear_error (&local_error);
      g_clear_pointer (&archive, g_bytes_unref);
      inside = g_build_path ("/", directory, name, NULL);
      g_free (name);
      name = g_path_get_basename (source);
      archive = llmsbx_tar_pack_path (source, name, priv->copy_limit, error);
      if (archive == NULL)
        return FALSE;
      llmsbx_session_log (self, "%s is a directory: copy %s -> %s/%s", target, src, inside, name);
      if (llmsbx_backend_put_archive (priv->backend, priv->sandbox_id, inside, archive,
                                      cancellable, &local_error))
        return TRUE;
      if (!g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_EXISTS))
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return FALSE;
        }
      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
                   "Cannot copy the file %s onto the directory %s/%s; nothing was replaced",
                   src, inside, name);
      return FALSE;
    }

  g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
               "Cannot copy %s to %s/%s in the sandbox: a file there has the name of a directory "
               "of the copy, or the reverse; nothing there was replaced",
               src, directory, name);
  return FALSE;
}

/**
 * llmsbx_sandbox_session_copy_to_runtime:
 * @self: a #LlmsbxSandboxSession
 * @src: (type filename): a file or directory on the host
 * @dest: where it goes in the sandbox; relative paths are relative to the workdir
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Copies a file or a directory tree into the sandbox, creating missing parent
 * directories. Like `cp -r src dest`, @dest names the copy itself (an @src
 * that is a symbolic link is followed, like `cp -L`), except
 * that a file copied to an existing directory, or to a @dest written as a
 * directory (`data/`, `data/.`, `.`), goes inside it under its own name; a
 * directory copied to an existing directory is merged into it. Nothing is
 * ever replaced by something of another kind: a file where the copy has a
 * directory (or a directory where it has a file) fails with
 * %LLMSBX_ERROR_INVALID_ARGUMENT. Paths with a `..` component are refused
 * with %LLMSBX_ERROR_PATH_TRAVERSAL.
 *
 * It costs one upload; one more when a file goes into an existing
 * directory that @dest names without a trailing `/`, and a `mkdir` exec and
 * one more upload when the destination's directory is missing.
 *
 * Returns: %TRUE on success
 *
 * Since: 0.1
 */
gboolean
llmsbx_sandbox_session_copy_to_runtime (LlmsbxSandboxSession *self,
                                        const char           *src,
                                        const char           *dest,
                                        GCancellable         *cancellable,
                                        GError              **error)
{
  LlmsbxSandboxSessionPrivate *priv = llmsbx_session_get_private (self);
  LlmsbxSessionOperation op;
  gboolean ok;

  g_return_val_if_fail (LLMSBX_IS_SANDBOX_SESSION (self), FALSE);
  g_return_val_if_fail (src != NULL, FALSE);
  g_return_val_if_fail (dest != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  g_rec_mutex_lock (&priv->lock);
  ok = copy_to_runtime_locked (self, src, dest, llmsbx_session_operation_begin (self, &op, cancellable), error);
  llmsbx_session_operation_end (self, &op, "files were being copied", error);
  g_rec_mutex_unlock (&priv->lock);
  return ok;
}

static gboolean
copy_from_runtime_locked (LlmsbxSandboxSession *self,
                          const char           *src,
                          const char           *dest,
                          GCancellable         *cancellable,
                          GError              **error)
{
  LlmsbxSandboxSessionPrivate *priv = llmsbx_session_get_private (self);
  g_autofree char *source = NULL;
  g_autoptr(LlmsbxArchiveSpool) spool = NULL;

  if (!llmsbx_session_check_open (self, error))
    return FALSE;

  source = llmsbx_session_resolve_sandbox_path (self, src, error);
  if (source == NULL)
    return FALSE;

  /* The archive goes to disk as it arrives (memory stays bounded), is
   * checked whole there, then unpacked. */
  llmsbx_session_log (self, "copy %s <- %s", dest, source);
  spool = llmsbx_archive_spool_new (dest, source, priv->copy_limit, error);
  if (spool == NULL ||
      !llmsbx_backend_get_archive_to_stream (priv->backend, priv->sandbox_id, source,
                                             G_OUTPUT_STREAM (spool), cancellable, error) ||
      !g_output_stream_close (G_OUTPUT_STREAM (spool), cancellable, error))
    return FALSE;

  return llmsbx_tar_extract_fd (llmsbx_archive_spool_get_fd (spool), dest, error);
}

/**
 * llmsbx_sandbox_session_copy_from_runtime:
 * @self: a #LlmsbxSandboxSession
 * @src: a file or directory in the sandbox; relative paths are relative to the workdir
 * @dest: (type filename): where the copy goes on the host
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Copies a file or directory tree out of the sandbox; @dest names the copy,
 * like `cp -r src dest`, and an @src that is a symbolic link is followed, like
 * `cp -L`, on every backend. Empty files and binary data are copied exactly,
 * sparse files stay sparse. Entries that would escape @dest (absolute
 * names, `..`, links) are refused with %LLMSBX_ERROR_PATH_TRAVERSAL; a
 * missing @src fails with %LLMSBX_ERROR_FILE_NOT_FOUND, an archive larger
 * than #LlmsbxSandboxSession:copy-limit with %LLMSBX_ERROR_LIMIT_EXCEEDED.
 * The archive is kept on disk until it has been checked (in an unlinked
 * file in the nearest existing directory of @dest, or the temporary
 * directory), so memory use does not grow with its size.
 *
 * Returns: %TRUE on success
 *
 * Since: 0.1
 */
gboolean
llmsbx_sandbox_session_copy_from_runtime (LlmsbxSandboxSession *self,
                                          const char           *src,
                                          const char           *dest,
                                          GCancellable         *cancellable,
                                          GError              **error)
{
  LlmsbxSandboxSessionPrivate *priv = llmsbx_session_get_private (self);
  LlmsbxSessionOperation op;
  gboolean ok;

  g_return_val_if_fail (LLMSBX_IS_SANDBOX_SESSION (self), FALSE);
  g_return_val_if_fail (src != NULL, FALSE);
  g_return_val_if_fail (dest != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  g_rec_mutex_lock (&priv->lock);
  ok = copy_from_runtime_locked (self, src, dest, llmsbx_session_operation_begin (self, &op, cancellable), error);
  llmsbx_session_operation_end (self, &op, "files were being copied", error);
  g_rec_mutex_unlock (&priv->lock);
  return ok;
}

/* Async ------------------------------------------------------------------ */

typedef struct {
  char *src;
  char *dest;
} CopyArgs;

static void
copy_args_free (gpointer data)
{
  CopyArgs *args = data;

  g_free (args->src);
  g_free (args->dest);
  g_free (args);
}

static CopyArgs *
copy_args_new (const char *src,
               const char *dest)
{
  CopyArgs *args = g_new0 (CopyArgs, 1);

  args->src = g_strdup (src);
  args->dest = g_strdup (dest);
  return args;
}

static gpointer
copy_to_runtime_call (LlmsbxSandboxSession  *self,
                      gpointer               data,
                      GCancellable          *cancellable,
                      GError               **error)
{
  CopyArgs *args = data;

  return GINT_TO_POINTER (llmsbx_sandbox_session_copy_to_runtime (self, args->src, args->dest,
                                                                  cancellable, error));
}

static gpointer
copy_from_runtime_call (LlmsbxSandboxSession  *self,
                        gpointer               data,
                        GCancellable          *cancellable,
                        GError               **error)
{
  CopyArgs *args = data;

  return GINT_TO_POINTER (llmsbx_sandbox_session_copy_from_runtime (self, args->src, args->dest,
                                                                    cancellable, error));
}

/**
 * llmsbx_sandbox_session_copy_to_runtime_async:
 * @self: a #LlmsbxSandboxSession
 * @src: (type filename): a file or directory on the host
 * @dest: where it goes in the sandbox; relative paths are relative to the workdir
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the copy is done or failed
 * @user_data: data for @callback
 *
 * Copies into the sandbox in a worker thread; see
 * llmsbx_sandbox_session_copy_to_runtime().
 *
 * Since: 0.1
 */
void
llmsbx_sandbox_session_copy_to_runtime_async (LlmsbxSandboxSession *self,
                                              const char           *src,
                                              const char           *dest,
                                              GCancellable         *cancellable,
                                              GAsyncReadyCallback   callback,
                                              gpointer              user_data)
{
  g_return_if_fail (LLMSBX_IS_SANDBOX_SESSION (self));
  g_return_if_fail (src != NULL);
  g_return_if_fail (dest != NULL);

  llmsbx_session_call_async (self, llmsbx_sandbox_session_copy_to_runtime_async, copy_to_runtime_call, TRUE,
                             copy_args_new (src, dest), copy_args_free, cancellable, callback, user_data);
}

/**
 * llmsbx_sandbox_session_copy_to_runtime_finish:
 * @self: a #LlmsbxSandboxSession
 * @result: the #GAsyncResult
 * @error: return location for a #GError
 *
 * Returns: %TRUE when the copy succeeded
 *
 * Since: 0.1
 */
gboolean
llmsbx_sandbox_session_copy_to_runtime_finish (LlmsbxSandboxSession *self,
                                               GAsyncResult         *result,
                                               GError              **error)
{
  return llmsbx_session_call_finish_boolean (self, result, llmsbx_sandbox_session_copy_to_runtime_async, error);
}

/**
 * llmsbx_sandbox_session_copy_from_runtime_async:
 * @self: a #LlmsbxSandboxSession
 * @src: a file or directory in the sandbox; relative paths are relative to the workdir
 * @dest: (type filename): where the copy goes on the host
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the copy is done or failed
 * @user_data: data for @callback
 *
 * Copies out of the sandbox in a worker thread; see
 * llmsbx_sandbox_session_copy_from_runtime().
 *
 * Since: 0.1
 */
void
llmsbx_sandbox_session_copy_from_runtime_async (LlmsbxSandboxSession *self,
                                                const char           *src,
                                                const char           *dest,
                                                GCancellable         *cancellable,
                                                GAsyncReadyCallback   callback,
                                                gpointer              user_data)
{
  g_return_if_fail (LLMSBX_IS_SANDBOX_SESSION (self));
  g_return_if_fail (src != NULL);
  g_return_if_fail (dest != NULL);

  llmsbx_session_call_async (self, llmsbx_sandbox_session_copy_from_runtime_async, copy_from_runtime_call, TRUE,
                             copy_args_new (src, dest), copy_args_free, cancellable, callback, user_data);
}

/**
 * llmsbx_sandbox_session_copy_from_runtime_finish:
 * @self: a #LlmsbxSandboxSession
 * @result: the #GAsyncResult
 * @error: return location for a #GError
 *
 * Returns: %TRUE when the copy succeeded
 *
 * Since: 0.1
 */
gboolean
llmsbx_sandbox_session_copy_from_runtime_finish (LlmsbxSandboxSession *self,
                                                 GAsyncResult         *result,
                                                 GError              **error)
{
  return llmsbx_session_call_finish_boolean (self, result, llmsbx_sandbox_session_copy_from_runtime_async, error);
}
