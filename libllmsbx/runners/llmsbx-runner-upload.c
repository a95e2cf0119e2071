/* llmsbx-runner-upload.c: getting llmsbx-runner into a sandbox whose image
 * does not carry it: one archive upload of the host's copy.
 *
 * Images built from images/ carry the runner in LLMSBX_RUNNER_IMAGE_DIR; for
 * any other image the session uploads the host's static binary and its
 * adapters (installed in $libexecdir/llmsbx-1.0, or LLMSBX_RUNNER_DIR) with
 * one PUT archive, into a directory of its own under @parent, at the first
 * run. The upload needs a writable root (or @parent on a volume): Docker
 * refuses archives on read-only roots and cannot write into tmpfs mounts
 * (protocols.md §1.7), so there the session keeps the exec path. */
#include "config.h"

#include <errno.h>
#include <unistd.h>
#include <glib/gstdio.h>

#include "llmsbx-runner-upload-private.h"
#include "llmsbx-error.h"
#include "llmsbx-runner-protocol.h"
#include "llmsbx-tar.h"

/* Every file the runner needs beside it. */
static const char * const payload[] = {
  LLMSBX_RUNNER_PROGRAM, LLMSBX_RUNNER_PYTHON_ADAPTER, LLMSBX_RUNNER_NODE_ADAPTER,
};

/**
 * llmsbx_runner_find_host_dir:
 *
 * Returns: (transfer full): the host directory holding llmsbx-runner and its
 *   adapters: $LLMSBX_RUNNER_DIR (ignored in setuid programs, as the plugin
 *   path is), else the installed one
 */
char *
llmsbx_runner_find_host_dir (GError **error)
{
  const char *dir = NULL;
  g_autofree char *program = NULL;

  /* As for plugins: a setuid program's environment is its caller's, who
   * must not choose what runs in the sandboxes it makes. */
  if (getuid () == geteuid () && getgid () == getegid ())
    dir = g_getenv ("LLMSBX_RUNNER_DIR");
  if (dir == NULL || *dir == '\0')
    dir = LLMSBX_RUNNER_LIBEXECDIR;
  program = g_build_filename (dir, LLMSBX_RUNNER_PROGRAM, NULL);
  if (!g_file_test (program, G_FILE_TEST_IS_EXECUTABLE))
    {
      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_FILE_NOT_FOUND,
                   "llmsbx-runner is not installed in %s (set LLMSBX_RUNNER_DIR to the directory that has it)", dir);
      return NULL;
    }
  return g_strdup (dir);
}

/* Copies @from to @to with @mode. */
static gboolean
copy_file (const char  *from,
           const char  *to,
           int          mode,
           GError     **error)
{
  g_autofree char *contents = NULL;
  gsize length;

  if (!g_file_get_contents (from, &contents, &length, error) ||
      !g_file_set_contents_full (to, contents, (gssize) length, G_FILE_SET_CONTENTS_NONE, mode, error))
    return FALSE;
  return TRUE;
}

/**
 * llmsbx_runner_pack:
 * @host_dir: from llmsbx_runner_find_host_dir()
 * @name: the archive's one top directory
 *
 * Returns: (transfer full): a tar archive of directory @name holding the
 *   runner (mode 0755) and its adapters (0644), and nothing else of @host_dir
 */
GBytes *
llmsbx_runner_pack (const char  *host_dir,
                    const char  *name,
                    GError     **error)
{
  g_autofree char *stage = g_dir_make_tmp ("llmsbx-runner-XXXXXX", error);
  g_autofree char *top = NULL;
  GBytes *archive = NULL;

  if (stage == NULL)
    return NULL;
  top = g_build_filename (stage, name, NULL);
  if (g_mkdir (top, 0755) < 0)
    {
      int saved = errno;

      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved), "Cannot create %s: %s", top,
                   g_strerror (saved));
      g_rmdir (stage);
      return NULL;
    }
  for (guint i = 0; i < G_N_ELEMENTS (payload); i++)
    {
      g_autofree char *from = g_build_filename (host_dir, payload[i], NULL);
      g_autofree char *to = g_build_filename (top, payload[i], NULL);

      if (!copy_file (from, to, i == 0 ? 0755 : 0644, error))
        goto out;
    }
  archive = llmsbx_tar_pack_path (top, name, 0, error);

out:
  for (guint i = 0; i < G_N_ELEMENTS (payload); i++)
    {
      g_autofree char *to = g_build_filename (top, payload[i], NULL);

      g_unlink (to);
    }
  g_rmdir (top);
  g_rmdir (stage);
  return archive;
}

/**
 * llmsbx_runner_upload:
 * @parent: an existing directory of the sandbox the archive goes into ("/tmp")
 * @out_program: (out): the runner's path in the sandbox
 *
 * Uploads the runner and its adapters with one PUT archive into a directory
 * named for the protocol version under @parent.
 */
gboolean
llmsbx_runner_upload (LlmsbxBackend  *backend,
                      const char     *sandbox_id,
                      const char     *host_dir,
                      const char     *parent,
                      char          **out_program,
                      GCancellable   *cancellable,
                      GError        **error)
{
  g_autofree char *name = g_strdup_printf (".llmsbx-runner-%d", LLMSBX_RUNNER_PROTOCOL_VERSION);
  g_autoptr(GBytes) archive = NULL;

  if (!llmsbx_container_path_is_safe (parent, error))
    return FALSE;
  archive = llmsbx_runner_pack (host_dir, name, error);
  if (archive == NULL)
    return FALSE;
  if (!llmsbx_backend_put_archive (backend, sandbox_id, parent, archive, cancellable, error))
    {
      g_prefix_error (error, "Uploading llmsbx-runner into the sandbox failed: ");
      return FALSE;
    }
  *out_program = g_build_path ("/", parent, name, LLMSBX_RUNNER_PROGRAM, NULL);
  return TRUE;
}
