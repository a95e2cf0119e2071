/* llmsbx-bubblewrap-archive.c: tar archives into and out of a bubblewrap sandbox.
 *
 * The files of a sandbox are reachable from the host (its overlay lives in
 * its helper's mount namespace, its working directory may be a directory of
 * ours), but a path there is only safe to follow inside the sandbox: its code
 * may have made any component a symbolic link to a host path, or may swap one
 * in while we copy. So archives are unpacked and packed by the helper program
 * llmsbx-bwrap-archive, which first joins the sandbox's user and
 * mount namespaces and then uses libarchive with the secure extraction flags
 * of the core's own extractor (libllmsbx/llmsbx-tar.c), which is private to
 * the core today. Archives out of the sandbox stream from the helper's
 * output as it writes them; only the one returned whole is capped, like the
 * engines'. */
#define _GNU_SOURCE
#include "llmsbx-bubblewrap-archive.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <glib-unix.h>

#include "helpers/llmsbx-bwrap-helper-protocol.h"
#include "llmsbx-bubblewrap-launch.h"

/* As plugins/engine caps a GET archive. */
#define MAX_ARCHIVE_SIZE ((gsize) 1 << 30)

/* A running archive helper, and the read end of its message descriptor. */
typedef struct {
  GSubprocess *process;
  int          message;
} Helper;

static void
helper_clear (Helper *helper)
{
  g_clear_object (&helper->process);
  if (helper->message >= 0)
    close (helper->message);
  helper->message = -1;
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Helper, helper_clear)

/* Starts the helper in @mode on @path; @stdin_fd (taken) is its standard
 * input when not -1. Its stderr is ours: it writes nothing there itself. */
static gboolean
spawn_helper (LlmsbxBubblewrapSandbox  *sandbox,
              const char               *mode,
              const char               *path,
              GSubprocessFlags          flags,
              int                       stdin_fd,
              Helper                   *helper,
              GError                  **error)
{
  g_autofree char *program = NULL;
  g_autofree char *pid = NULL;
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  int message[2];

  helper->process = NULL;
  helper->message = -1;
  if (!llmsbx_bubblewrap_sandbox_init_alive (sandbox))
    {
      if (stdin_fd >= 0)
        close (stdin_fd);
      return llmsbx_bubblewrap_sandbox_not_running (sandbox->id, error);
    }
  program = llmsbx_bubblewrap_helper_path ("llmsbx-bwrap-archive", error);
  if (program == NULL || !g_unix_open_pipe (message, FD_CLOEXEC, error))
    {
      if (stdin_fd >= 0)
        close (stdin_fd);
      return FALSE;
    }
  pid = g_strdup_printf ("%" G_GINT64_FORMAT, sandbox->init_pid);
  launcher = g_subprocess_launcher_new (flags);
  g_subprocess_launcher_set_cwd (launcher, "/");
  if (stdin_fd >= 0)
    g_subprocess_launcher_take_stdin_fd (launcher, stdin_fd);
  g_subprocess_launcher_take_fd (launcher, message[1], LLMSBX_BWRAP_HELPER_MESSAGE_FD);
  helper->message = message[0];
  helper->process = g_subprocess_launcher_spawn (launcher, error, program, mode, LLMSBX_BWRAP_HELPER_PROTOCOL_VERSION,
                                                 pid, path, NULL);
  return helper->process != NULL;
}

/* What the helper said, once it exited (only it held the write end). */
static char *
read_message (Helper *helper)
{
  g_autoptr(GString) text = g_string_new (NULL);
  char buffer[1024];
  gssize n;

  while (text->len < 64 * 1024 &&
         ((n = read (helper->message, buffer, sizeof buffer)) > 0 || (n < 0 && errno == EINTR)))
    if (n > 0)
      g_string_append_len (text, buffer, n);
  return g_strstrip (g_utf8_make_valid (text->str, text->len));
}

/* Maps the helper's exit to an error: its message (for a missing path, the
 * whole of it), after @what for other failures. */
static gboolean
check_helper (Helper      *helper,
              const char  *what,
              GError     **error)
{
  g_autofree char *text = NULL;
  int status = g_subprocess_get_if_exited (helper->process) ? g_subprocess_get_exit_status (helper->process) : -1;

  if (status == 0)
    return TRUE;
  text = read_message (helper);
  if (status == LLMSBX_BWRAP_HELPER_NOT_FOUND)
    g_set_error_literal (error, LLMSBX_ERROR, LLMSBX_ERROR_FILE_NOT_FOUND, text);
  else if (status == LLMSBX_BWRAP_HELPER_EXISTS)
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_EXISTS,
                 "%s would replace a directory with a file or a file with a directory: %s", what, text);
  else
    g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_CONTAINER_FAILED, "%s failed: %s", what,
                 g_str_has_prefix (text, "llmsbx-bwrap-archive: ") ? text + strlen ("llmsbx-bwrap-archive: ") :
                 text[0] != '\0' ? text : "the helper said nothing");
  return FALSE;
}

gboolean
llmsbx_bubblewrap_put_archive (LlmsbxBubblewrapSandbox  *sandbox,
                               const char               *dest_dir,
                               GBytes                   *archive,
                               GCancellable             *cancellable,
                               GError                  **error)
{
  g_auto(Helper) helper = { NULL, -1 };
  g_autofree char *what = NULL;
  gsize size;
  const guint8 *data = g_bytes_get_data (archive, &size);
  int input = memfd_create ("llmsbx-archive", MFD_CLOEXEC);

  /* The archive goes in a file, not a pipe: the helper may refuse it before
   * reading it all (a missing directory), and a pipe would then raise
   * SIGPIPE in the caller's process. */
  if (input < 0)
    {
      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_FAILED, "Cannot hold the archive: %s", g_strerror (errno));
      return FALSE;
    }
  for (gsize written = 0; written < size; )
    {
      gssize n = write (input, data + written, size - written);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        {
          g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_FAILED, "Cannot hold the archive: %s", g_strerror (errno));
          close (input);
          return FALSE;
        }
      written += n;
    }
  lseek (input, 0, SEEK_SET);

  if (!spawn_helper (sandbox, "extract", dest_dir, G_SUBPROCESS_FLAGS_NONE, input, &helper, error))
    return FALSE;
  if (!g_subprocess_wait (helper.process, cancellable, error))
    {
      g_subprocess_force_exit (helper.process);
      g_subprocess_wait (helper.process, NULL, NULL);
      return FALSE;
    }
  what = g_strdup_printf ("Copying files into %s in the sandbox", dest_dir);
  return check_helper (&helper, what, error);
}

typedef gboolean (*ArchiveSink) (const guint8  *data,
                                 gsize          length,
                                 gpointer       user_data,
                                 GError       **error);

/* Runs the helper's pack mode and hands the archive to @sink as it comes. */
static gboolean
pack (LlmsbxBubblewrapSandbox  *sandbox,
      const char               *path,
      ArchiveSink               sink,
      gpointer                  sink_data,
      GCancellable             *cancellable,
      GError                  **error)
{
  g_auto(Helper) helper = { NULL, -1 };
  g_autofree char *what = NULL;
  GInputStream *out;

  if (!spawn_helper (sandbox, "pack", path, G_SUBPROCESS_FLAGS_STDOUT_PIPE, -1, &helper, error))
    return FALSE;

  /* The helper says something only once it stopped writing the archive. */
  out = g_subprocess_get_stdout_pipe (helper.process);
  for (;;)
    {
      guint8 buffer[64 * 1024];
      gssize n = g_input_stream_read (out, buffer, sizeof buffer, cancellable, error);

      if (n < 0 || (n > 0 && !sink (buffer, n, sink_data, error)))
        {
          g_subprocess_force_exit (helper.process);
          g_subprocess_wait (helper.process, NULL, NULL);
          return FALSE;
        }
      if (n == 0)
        break;
    }
  if (!g_subprocess_wait (helper.process, NULL, error))
    return FALSE;

  what = g_strdup_printf ("Copying %s out of the sandbox", path);
  return check_helper (&helper, what, error);
}

typedef struct {
  GByteArray *archive;
  const char *path;
} Collected;

static gboolean
collect (const guint8  *data,
         gsize          length,
         gpointer       user_data,
         GError       **error)
{
  Collected *collected = user_data;

  if (collected->archive->len + length > MAX_ARCHIVE_SIZE)
    {
      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_CONTAINER_FAILED,
                   "%s in the sandbox is larger than %" G_GSIZE_FORMAT " bytes", collected->path, MAX_ARCHIVE_SIZE);
      return FALSE;
    }
  g_byte_array_append (collected->archive, data, length);
  return TRUE;
}

GBytes *
llmsbx_bubblewrap_get_archive (LlmsbxBubblewrapSandbox  *sandbox,
                               const char               *path,
                               GCancellable             *cancellable,
                               GError                  **error)
{
  g_autoptr(GByteArray) archive = g_byte_array_new ();
  Collected collected = { archive, path };

  if (!pack (sandbox, path, collect, &collected, cancellable, error))
    return NULL;
  return g_byte_array_free_to_bytes (g_steal_pointer (&archive));
}

typedef struct {
  GOutputStream *output;
  GCancellable  *cancellable;
} Streamed;

static gboolean
stream (const guint8  *data,
        gsize          length,
        gpointer       user_data,
        GError       **error)
{
  Streamed *streamed = user_data;

  return g_output_stream_write_all (streamed->output, data, length, NULL, streamed->cancellable, error);
}

/* The archive goes to @output as the helper writes it: nothing is held but
 * one buffer, whatever its size, and an error of @output comes back as it is. */
gboolean
llmsbx_bubblewrap_get_archive_to_stream (LlmsbxBubblewrapSandbox  *sandbox,
                                         const char               *path,
                                         GOutputStream            *output,
                                         GCancellable             *cancellable,
                                         GError                  **error)
{
  Streamed streamed = { output, cancellable };

  return pack (sandbox, path, stream, &streamed, cancellable, error);
}
