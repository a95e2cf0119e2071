/* llmsbx-resident-code-runner.c: the second LlmsbxCodeRunner, runs through
 * llmsbx-runner started once in the sandbox.
 *
 * At the second run (the first in the strict mode, or the first
 * interactive cell) the runner is started over an attached exec
 * (llmsbx_backend_open_exec_stream(), made pollable by
 * llmsbx-runner-channel.c): the image's /usr/libexec/llmsbx copy, or one
 * uploaded from the host when the image has none. Each command of a run is
 * then one RUN request, the code file travelling in the first; Python
 * programs run in the runner's started interpreter (ADAPTER "python").
 * Stateless runs rewrite one code file of the runner's, interactive cells
 * have one each; they are removed at close. Every run's processes carry a token of
 * their own, as an exec's do, so that a runner that dies during a run is
 * followed by the exec path's sweep.
 *
 * When the runner cannot start (no attached execs on the backend, no runner
 * in the image and no upload possible, an engine that refuses the exec), or
 * dies twice, the session's runs take the exec path (LlmsbxExecCodeRunner)
 * from then on, and the verbose log says why; in the strict mode the run
 * fails instead. A run never runs twice: a runner lost during a run fails
 * that run. */
#include "config.h"

#include "llmsbx-code-runner-private.h"
#include "llmsbx-code-writer-private.h"
#include "llmsbx-error.h"
#include "llmsbx-guarded-exec-private.h"
#include "llmsbx-resident-runner-private.h"
#include "llmsbx-runner-channel-private.h"
#include "llmsbx-runner-upload-private.h"

#define TOKEN_VARIABLE "LLMSBX_EXEC_TOKEN"
/* How long starting the runner (and uploading it) may take. */
#define START_SECONDS 20
/* How long the runner may take to end at close. */
#define SHUTDOWN_SECONDS 5
/* Where an upload goes when the image has no runner. */
#define UPLOAD_PARENT "/tmp"
/* Code this large goes the exec path (its stdin), as a RUN frame is bounded. */
#define CODE_MAX (32 * 1024 * 1024)
/* Runners started in one session before it falls back for good. */
#define STARTS_MAX 2

struct _LlmsbxResidentCodeRunner
{
  GObject parent_instance;

  LlmsbxBackend        *backend;
  char                 *sandbox_id;
  gboolean              strict;         /* no fallback: errors are the runs' */
  char                **env;            /* the runner's environment */
  LlmsbxCodeRunnerLogFunc log;
  gpointer              log_data;

  LlmsbxCodeRunner     *fallback;       /* the exec path, once fallen back to */
  char                 *fallback_reason;
  LlmsbxRunnerChannel  *channel;
  LlmsbxResidentRunner *client;
  guint                 starts;
  guint                 runs;
  gboolean              no_adapter;     /* the Python adapter failed: plain execs */
  char                 *code_file;      /* the one file of every stateless run */
  GPtrArray            *files;          /* every code file written, removed at close */
  char                 *kernel;         /* the adapter of the interactive cells, once one ran */
  int                   venv_python;    /* -1 unknown, 0 python3, 1 the workdir's venv */
};

static void llmsbx_resident_code_runner_iface_init (LlmsbxCodeRunnerInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (LlmsbxResidentCodeRunner, llmsbx_resident_code_runner, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (LLMSBX_TYPE_CODE_RUNNER,
                                                      llmsbx_resident_code_runner_iface_init))

static void
say (LlmsbxResidentCodeRunner *self,
     const char               *format,
     ...) G_GNUC_PRINTF (2, 3);

static void
say (LlmsbxResidentCodeRunner *self,
     const char               *format,
     ...)
{
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  if (self->log != NULL)
    self->log (message, self->log_data);
  else
    g_debug ("%s", message);
}

/* Ends the runner: SHUTDOWN when it still answers, then the stream, whose
 * close kills what carries its token when the runner did not end. */
static void
stop_runner (LlmsbxResidentCodeRunner *self,
             gint64                    deadline)
{
  g_autoptr(GError) error = NULL;

  if (self->client != NULL)
    llmsbx_resident_runner_shutdown (self->client, deadline);
  g_clear_object (&self->client);
  if (self->channel != NULL && !llmsbx_runner_channel_close (self->channel, &error))
    say (self, "runner: its processes could not all be stopped: %s", error->message);
  g_clear_pointer (&self->channel, llmsbx_runner_channel_unref);
}

static void
fall_back (LlmsbxResidentCodeRunner *self,
           const char               *reason)
{
  say (self, "runner: using the exec path: %s", reason);
  g_free (self->fallback_reason);
  self->fallback_reason = g_strdup (reason);
  if (self->fallback == NULL)
    self->fallback = llmsbx_exec_code_runner_new (self->backend, self->sandbox_id);
}

/* Opens the attached exec of @program and says HELLO. */
static gboolean
try_start (LlmsbxResidentCodeRunner  *self,
           const char                *program,
           GCancellable              *cancellable,
           GError                   **error)
{
  const char *argv[] = { program, NULL };
  g_autoptr(LlmsbxExecRequest) request = llmsbx_exec_request_new (argv);
  g_autoptr(LlmsbxExecStream) stream = NULL;
  g_autoptr(GError) local_error = NULL;
  gint64 deadline = g_get_monotonic_time () + START_SECONDS * G_USEC_PER_SEC;

  request->env = g_strdupv (self->env);
  request->workdir = g_strdup ("/");
  stream = llmsbx_backend_open_exec_stream (self->backend, self->sandbox_id, request, cancellable, error);
  if (stream == NULL)
    return FALSE;
  self->channel = llmsbx_runner_channel_new (stream, error);
  if (self->channel == NULL)
    {
      llmsbx_exec_stream_close (stream, NULL);
      return FALSE;
    }
  self->client = llmsbx_resident_runner_new (llmsbx_runner_channel_get_io_stream (self->channel),
                                             llmsbx_runner_channel_get_exit_code,
                                             llmsbx_runner_channel_ref (self->channel),
                                             (GDestroyNotify) llmsbx_runner_channel_unref);
  if (!llmsbx_resident_runner_start (self->client, deadline, cancellable, &local_error))
    {
      g_autoptr(GError) end_error = llmsbx_runner_channel_dup_end_error (self->channel);

      /* Where the exec API opens the stream before the command starts (the
       * Kubernetes WebSocket), a missing program is known only at its end:
       * that, not the runner's silence, is why (the image has no runner). */
      if (g_error_matches (local_error, LLMSBX_RUNNER_ERROR, LLMSBX_RUNNER_ERROR_DIED) &&
          g_error_matches (end_error, LLMSBX_ERROR, LLMSBX_ERROR_COMMAND_NOT_STARTED))
        g_propagate_error (error, g_steal_pointer (&end_error));
      else
        g_propagate_error (error, g_steal_pointer (&local_error));
      stop_runner (self, 0);
      return FALSE;
    }
  return TRUE;
}

/* Starts the runner if it is not running: the image's, else an upload. FALSE
 * with @error when there is none to be had. */
static gboolean
ensure_runner (LlmsbxResidentCodeRunner  *self,
               GCancellable              *cancellable,
               GError                   **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autoptr(GError) upload_error = NULL;
  g_autofree char *host_dir = NULL;
  g_autofree char *uploaded = NULL;

  if (self->client != NULL && llmsbx_resident_runner_is_usable (self->client))
    return TRUE;
  stop_runner (self, 0);
  if (self->starts >= STARTS_MAX)
    {
      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_CONTAINER_FAILED,
                   "The runner was started %u times and did not stay", self->starts);
      return FALSE;
    }
  self->starts++;

  if (try_start (self, LLMSBX_RUNNER_IMAGE_DIR "/" LLMSBX_RUNNER_PROGRAM, cancellable, &local_error))
    {
      say (self, "runner: started %s (pid %" G_GUINT64_FORMAT " in the sandbox, protocol %u)",
           llmsbx_resident_runner_get_runner_version (self->client),
           llmsbx_resident_runner_get_pid (self->client),
           llmsbx_resident_runner_get_protocol_version (self->client));
      return TRUE;
    }
  /* Not there: what answered was no runner, or (some engines) the exec
   * did not start at all. */
  if ((!g_error_matches (local_error, LLMSBX_RUNNER_ERROR, LLMSBX_RUNNER_ERROR_NOT_A_RUNNER) &&
       !g_error_matches (local_error, LLMSBX_ERROR, LLMSBX_ERROR_COMMAND_NOT_STARTED)) ||
      g_cancellable_is_cancelled (cancellable))
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }

  /* The image has none: the host's, uploaded. */
  host_dir = llmsbx_runner_find_host_dir (&upload_error);
  if (host_dir == NULL ||
      !llmsbx_runner_upload (self->backend, self->sandbox_id, host_dir, UPLOAD_PARENT, &uploaded,
                             cancellable, &upload_error))
    {
      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_FILE_NOT_FOUND,
                   "The image has no llmsbx-runner (%s), and uploading one failed: %s",
                   local_error->message, upload_error->message);
      return FALSE;
    }
  g_clear_error (&local_error);
  if (!try_start (self, uploaded, cancellable, error))
    return FALSE;
  say (self, "runner: started the uploaded %s", uploaded);
  return TRUE;
}

/* Whether a run can use the runner, starting it; FALSE with @error only
 * when it cannot and there is no falling back. */
static gboolean
runner_available (LlmsbxResidentCodeRunner  *self,
                  gboolean                  *available,
                  GCancellable              *cancellable,
                  GError                   **error)
{
  g_autoptr(GError) local_error = NULL;

  *available = FALSE;
  if (self->fallback != NULL)
    return TRUE;
  if (ensure_runner (self, cancellable, &local_error))
    {
      *available = TRUE;
      return TRUE;
    }
  if (self->strict || g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      g_propagate_prefixed_error (error, g_steal_pointer (&local_error),
                                  "The resident runner is not available: ");
      return FALSE;
    }
  fall_back (self, local_error->message);
  return TRUE;
}

/* The environment of one run's processes: the session's, and a token of
 * its own (replacing the runner's) for the sweep after a lost runner. */
static char **
run_env (const char * const *env,
         const char         *token)
{
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  g_autofree char *entry = g_strconcat (TOKEN_VARIABLE "=", token, NULL);

  for (guint i = 0; env != NULL && env[i] != NULL; i++)
    if (!g_str_has_prefix (env[i], TOKEN_VARIABLE "="))
      g_strv_builder_add (builder, env[i]);
  g_strv_builder_add (builder, entry);
  return g_strv_builder_end (builder);
}

static gboolean
is_python (const char *program)
{
  const char *base = strrchr (program, '/');

  base = base ? base + 1 : program;
  return g_str_equal (base, "python") || g_str_equal (base, "python3") ||
         (g_str_has_prefix (base, "python3.") && strspn (base + 8, "0123456789") == strlen (base + 8));
}

/* The Python handler's run command before the environment is set up picks
 * the workdir's venv when there is one, else python3, in a shell:
 *   sh -c '…/.sandbox-venv/bin/python…' llmsbx-python WORKDIR FILE
 * The runner's interpreter makes the same choice once per runner. */
static char *
python_shell_interpreter (LlmsbxResidentCodeRunner  *self,
                          const char * const        *argv,
                          const char                *file,
                          GCancellable              *cancellable)
{
  g_autofree char *venv = NULL;

  if (g_strv_length ((char **) argv) != 6 || !g_str_equal (argv[0], "sh") || !g_str_equal (argv[1], "-c") ||
      strstr (argv[2], "/.sandbox-venv/bin/python") == NULL || !g_str_equal (argv[3], "llmsbx-python") ||
      !g_str_equal (argv[5], file) || argv[4][0] != '/')
    return NULL;
  venv = g_build_filename (argv[4], ".sandbox-venv", "bin", "python", NULL);
  if (self->venv_python < 0)
    {
      const char *test[] = { "test", "-x", venv, NULL };
      g_autoptr(LlmsbxRunnerRequest) request = llmsbx_runner_request_new (test);
      g_autoptr(LlmsbxOutputCollector) output = llmsbx_output_collector_new (1024);
      g_auto(LlmsbxRunnerResult) result = { 0 };

      request->timeout = 10;
      if (!llmsbx_resident_runner_run (self->client, request, output, -1, &result, cancellable, NULL))
        return NULL;
      self->venv_python = result.exit_code == 0;
    }
  return g_strdup (self->venv_python ? venv : "python3");
}

/* Removes every code file the runner wrote, at close: through the runner
 * when it still answers, else with one exec. */
static void
remove_code_files (LlmsbxResidentCodeRunner *self,
                   GCancellable             *cancellable)
{
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  g_auto(GStrv) argv = NULL;

  if (self->files->len == 0)
    return;
  g_strv_builder_add_many (builder, "rm", "-f", "--", NULL);
  for (guint i = 0; i < self->files->len; i++)
    g_strv_builder_add (builder, g_ptr_array_index (self->files, i));
  argv = g_strv_builder_end (builder);

  if (self->client != NULL && llmsbx_resident_runner_is_usable (self->client))
    {
      g_autoptr(LlmsbxRunnerRequest) request = llmsbx_runner_request_new ((const char * const *) argv);
      g_autoptr(LlmsbxOutputCollector) output = llmsbx_output_collector_new (1024);
      g_auto(LlmsbxRunnerResult) result = { 0 };

      request->timeout = 10;
      if (llmsbx_resident_runner_run (self->client, request, output, -1, &result, cancellable, NULL) &&
          result.exit_code == 0)
        {
          g_ptr_array_set_size (self->files, 0);
          return;
        }
    }
  {
    g_autoptr(LlmsbxOutputCollector) output = llmsbx_output_collector_new (1024);
    int status = -1;

    if (llmsbx_guarded_exec (self->backend, self->sandbox_id, (const char * const *) argv, NULL, "/", 10,
                             output, &status, cancellable, NULL) && status == 0)
      g_ptr_array_set_size (self->files, 0);
  }
}

/* @argv with every occurrence of @from replaced by @to. */
static char **
replace_in_argv (const char * const *argv,
                 const char         *from,
                 const char         *to)
{
  guint n = g_strv_length ((char **) argv);
  char **out = g_new0 (char *, n + 1);

  for (guint i = 0; i < n; i++)
    {
      g_auto(GStrv) parts = g_strsplit (argv[i], from, -1);

      out[i] = g_strjoinv (to, parts);
    }
  return out;
}

/* A runner lost during a run (it died, stopped answering or broke the
 * protocol): what the run started is swept by its token, and the error says
 * what happened, the sandbox's own end first. */
static gboolean
fail_lost (LlmsbxResidentCodeRunner  *self,
           const char                *token,
           GError                    *runner_error,
           gboolean                  *unstoppable,
           GError                   **error)
{
  g_autoptr(GError) lost = runner_error;
  g_autoptr(GError) kill_error = NULL;
  g_autoptr(GError) end_error = NULL;
  g_autofree char *said = NULL;

  end_error = self->channel ? llmsbx_runner_channel_dup_end_error (self->channel) : NULL;
  said = self->channel ? g_strstrip (llmsbx_runner_channel_dup_stderr (self->channel)) : NULL;
  say (self, "runner: lost during a run: %s%s%s", lost->message, said && *said ? "; it said: " : "",
       said ? said : "");
  stop_runner (self, 0);
  /* The sandbox itself stopped: the exec path's error, nothing to sweep. */
  if (end_error != NULL && end_error->domain == LLMSBX_ERROR)
    {
      g_propagate_error (error, g_steal_pointer (&end_error));
      return FALSE;
    }
  if (!llmsbx_guarded_exec_kill_token (self->backend, self->sandbox_id, token, &kill_error))
    *unstoppable = TRUE;
  if (kill_error != NULL)
    g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_CONTAINER_FAILED,
                 "The code runner in the sandbox ended during the run (%s), and the run's processes could not be stopped: %s",
                 lost->message, kill_error->message);
  else
    g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_CONTAINER_FAILED,
                 "The code runner in the sandbox ended during the run: %s", lost->message);
  return FALSE;
}

/* One command through the runner. */
static gboolean
run_command (LlmsbxResidentCodeRunner  *self,
             const LlmsbxCodeRun       *run,
             guint                      index,
             LlmsbxOutputCollector     *output,
             int                       *exit_status,
             gboolean                  *timed_out,
             gboolean                  *unstoppable,
             GCancellable              *cancellable,
             GError                   **error)
{
  const char * const *argv = g_ptr_array_index (run->commands, index);
  g_autofree char *token = g_uuid_string_random ();
  g_autofree char *interpreter = NULL;
  g_autoptr(LlmsbxRunnerRequest) request = NULL;
  g_autoptr(GError) local_error = NULL;
  g_auto(LlmsbxRunnerResult) result = { 0 };
  gsize limit = llmsbx_output_collector_get_limit (output);
  gboolean plain = argv[0] != NULL && argv[1] != NULL && argv[2] == NULL && g_str_equal (argv[1], run->file);
  gboolean python = FALSE;
  gboolean node = FALSE;

  if ((!self->no_adapter || run->interactive) && plain && is_python (argv[0]))
    python = TRUE;
  else if (!self->no_adapter || run->interactive)
    {
      interpreter = python_shell_interpreter (self, argv, run->file, cancellable);
      python = interpreter != NULL;
    }
  if (run->interactive && !python)
    {
      const char *base = plain ? strrchr (argv[0], '/') : NULL;

      node = plain && (g_str_equal (base ? base + 1 : argv[0], "node") ||
                       g_str_equal (base ? base + 1 : argv[0], "nodejs"));
      if (!node)
        {
          g_autofree char *shown = g_strjoinv (" ", (char **) argv);

          g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_LANGUAGE_NOT_SUPPORTED,
                       "Interactive runs have a kernel for Python and JavaScript, not for '%s'", shown);
          return FALSE;
        }
    }

  if (python && interpreter != NULL)
    request = llmsbx_runner_request_new ((const char *[]) { interpreter, run->file, NULL });
  else
    request = llmsbx_runner_request_new (argv);
  if (python || node)
    request->adapter = g_strdup (python ? "python" : "node");
  if (run->interactive)
    {
      request->stateful = TRUE;
      g_free (self->kernel);
      self->kernel = g_strdup (request->adapter);
    }
  request->env = run_env (run->env, token);
  request->workdir = g_strdup (run->workdir);
  if (index == 0)
    {
      g_autoptr(GBytes) code = g_bytes_new_static (run->code, strlen (run->code));

      llmsbx_runner_request_add_file (request, run->file, code, 0644);
    }
  if (run->deadline > 0)
    {
      gint64 left = run->deadline - g_get_monotonic_time ();

      if (left <= 0)
        {
          *timed_out = TRUE;
          return TRUE;
        }
      request->timeout = left / (double) G_USEC_PER_SEC;
    }
  else
    request->timeout = run->timeout;
  /* One byte past the limit, so that the collector marks the output
   * truncated exactly when an exec's collector would. */
  request->output_limit = limit > 0 ? (guint64) limit + 1 : 0;

  if (llmsbx_resident_runner_run (self->client, request, output, -1, &result, cancellable, &local_error))
    {
      if (run->state != NULL)
        {
          run->state->fresh = result.fresh_state;
          run->state->lost = result.state == LLMSBX_RUNNER_STATE_LOST;
        }
      if (result.kill_failed)
        *unstoppable = TRUE;
      if (result.timed_out)
        {
          *timed_out = TRUE;
          return TRUE;
        }
      *exit_status = result.exit_code;
      return TRUE;
    }

  if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      if (result.kill_failed)
        {
          *unstoppable = TRUE;
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED,
                       "%s, and the command's processes could not be stopped", local_error->message);
          return FALSE;
        }
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }
  if (llmsbx_resident_runner_error_is_fatal (local_error))
    return fail_lost (self, token, g_steal_pointer (&local_error), unstoppable, error);

  /* This request failed; the runner is fine. */
  if (g_error_matches (local_error, LLMSBX_RUNNER_ERROR, LLMSBX_RUNNER_ERROR_ADAPTER) && python &&
      !run->interactive)
    {
      /* Nothing of the code ran: again, as a program of its own. */
      say (self, "runner: the Python adapter failed (%s), running Python programs as programs", local_error->message);
      self->no_adapter = TRUE;
      return run_command (self, run, index, output, exit_status, timed_out, unstoppable, cancellable, error);
    }
  if (g_error_matches (local_error, LLMSBX_RUNNER_ERROR, LLMSBX_RUNNER_ERROR_FILE))
    {
      /* As the exec path's writer exits when the file cannot be written. */
      g_autofree char *line = g_strdup_printf ("%s\n", local_error->message);

      llmsbx_output_collector_append (output, LLMSBX_OUTPUT_STREAM_STDERR, (const guint8 *) line, strlen (line));
      *exit_status = 125;
      return TRUE;
    }
  if (g_error_matches (local_error, LLMSBX_RUNNER_ERROR, LLMSBX_RUNNER_ERROR_SPAWN))
    g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_COMMAND_NOT_STARTED, "%s", local_error->message);
  else
    g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_CONTAINER_FAILED, "%s", local_error->message);
  return FALSE;
}

/* Makes @run's artifacts directory through the runner before its code
 * runs, removing earlier runs' ones, as the exec path's code writer does in
 * the exec that writes the code: one process in the sandbox, no request to
 * the backend. When it cannot be made, the run ends with exit status 125
 * and the reason on stderr, as there. */
static gboolean
make_run_dir (LlmsbxResidentCodeRunner  *self,
              const LlmsbxCodeRun       *run,
              LlmsbxOutputCollector     *output,
              int                       *exit_status,
              gboolean                  *timed_out,
              gboolean                  *unstoppable,
              GCancellable              *cancellable,
              GError                   **error)
{
  g_auto(GStrv) argv = llmsbx_code_writer_run_dir_argv (run->run_dir);
  g_autofree char *token = g_uuid_string_random ();
  g_autoptr(LlmsbxRunnerRequest) request = llmsbx_runner_request_new ((const char * const *) argv);
  g_autoptr(LlmsbxOutputCollector) said = llmsbx_output_collector_new (4096);
  g_autoptr(GError) local_error = NULL;
  g_auto(LlmsbxRunnerResult) result = { 0 };

  request->env = run_env (NULL, token);
  request->workdir = g_strdup ("/");
  request->timeout = run->timeout;
  if (run->deadline > 0)
    {
      gint64 left = run->deadline - g_get_monotonic_time ();

      if (left <= 0)
        {
          *timed_out = TRUE;
          return TRUE;
        }
      request->timeout = left / (double) G_USEC_PER_SEC;
    }

  if (!llmsbx_resident_runner_run (self->client, request, said, -1, &result, cancellable, &local_error))
    {
      if (llmsbx_resident_runner_error_is_fatal (local_error))
        return fail_lost (self, token, g_steal_pointer (&local_error), unstoppable, error);
      if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          *unstoppable = result.kill_failed;
          g_propagate_error (error, g_steal_pointer (&local_error));
          return FALSE;
        }
      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_CONTAINER_FAILED,
                   "Could not make the run's directory %s: %s", run->run_dir, local_error->message);
      return FALSE;
    }
  if (result.kill_failed)
    *unstoppable = TRUE;
  if (result.timed_out)
    {
      *timed_out = TRUE;
      return TRUE;
    }
  if (result.exit_code != 0)
    {
      g_autoptr(GBytes) err = llmsbx_output_collector_steal_bytes (said, LLMSBX_OUTPUT_STREAM_STDERR);

      llmsbx_output_collector_append (output, LLMSBX_OUTPUT_STREAM_STDERR,
                                      g_bytes_get_data (err, NULL), g_bytes_get_size (err));
      *exit_status = result.exit_code;
    }
  return TRUE;
}

static gboolean
resident_code_runner_run (LlmsbxCodeRunner       *runner,
                          const LlmsbxCodeRun    *run,
                          LlmsbxOutputCollector  *output,
                          int                    *exit_status,
                          gboolean               *unstoppable,
                          GCancellable           *cancellable,
                          GError                **error)
{
  LlmsbxResidentCodeRunner *self = LLMSBX_RESIDENT_CODE_RUNNER (runner);
  gboolean available;
  gboolean timed_out = FALSE;

  /* A session's first run takes the exec path in the automatic mode, so
   * that one-run sessions (open, run, close) cost what they did; the runner
   * starts at the second, and pays for itself from the third. */
  if (!self->strict && !run->interactive && self->runs++ == 0 && self->client == NULL)
    {
      g_autoptr(LlmsbxCodeRunner) once = llmsbx_exec_code_runner_new (self->backend, self->sandbox_id);

      return llmsbx_code_runner_run (once, run, output, exit_status, unstoppable, cancellable, error);
    }
  if (!runner_available (self, &available, cancellable, error))
    return FALSE;
  if (run->interactive && (!available || run->commands->len != 1))
    {
      if (!available)
        g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_LANGUAGE_NOT_SUPPORTED,
                     "Interactive runs need the resident runner, which is not available: %s", self->fallback_reason);
      else
        g_set_error_literal (error, LLMSBX_ERROR, LLMSBX_ERROR_LANGUAGE_NOT_SUPPORTED,
                             "Interactive runs need a language that runs its code in one command");
      return FALSE;
    }
  if (run->interactive && strlen (run->code) > CODE_MAX)
    {
      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
                   "An interactive cell may hold at most %d bytes of code", CODE_MAX);
      return FALSE;
    }
  if (!available || strlen (run->code) > CODE_MAX)
    {
      LlmsbxCodeRunner *exec_path = self->fallback;
      g_autoptr(LlmsbxCodeRunner) once = NULL;

      if (exec_path == NULL)
        exec_path = once = llmsbx_exec_code_runner_new (self->backend, self->sandbox_id);
      return llmsbx_code_runner_run (exec_path, run, output, exit_status, unstoppable, cancellable, error);
    }

  /* Stateless runs share one code file, which each run's RUN rewrites and
   * the close removes: removing it after every run would cost a process
   * start, a third of a warm run. Interactive cells keep a file each, as
   * tracebacks of functions defined in earlier cells read their lines. */
  {
    g_autoptr(GPtrArray) commands = g_ptr_array_new_with_free_func ((GDestroyNotify) g_strfreev);
    LlmsbxCodeRun local = *run;

    if (run->interactive)
      g_ptr_array_add (self->files, g_strdup (run->file));
    else
      {
        if (self->code_file == NULL)
          {
            g_autofree char *dir = g_path_get_dirname (run->file);
            g_autofree char *uuid = g_uuid_string_random ();
            const char *dot = strrchr (run->file, '.');
            g_autofree char *name = NULL;

            uuid[8] = '\0';
            name = g_strdup_printf ("code-%s%s", uuid, dot != NULL && strchr (dot, '/') == NULL ? dot : "");
            self->code_file = g_build_filename (dir, name, NULL);
            g_ptr_array_add (self->files, g_strdup (self->code_file));
          }
        for (guint i = 0; i < run->commands->len; i++)
          g_ptr_array_add (commands, replace_in_argv (g_ptr_array_index (run->commands, i), run->file,
                                                      self->code_file));
        local.commands = commands;
        local.file = self->code_file;
      }
    run = &local;

    /* A run that captures artifacts has its directory made first. */
    if (run->run_dir != NULL)
      {
        if (!make_run_dir (self, run, output, exit_status, &timed_out, unstoppable, cancellable, error))
          return FALSE;
        if (timed_out)
          {
            g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_TIMEOUT, "Execution timed out after %g seconds%s",
                         run->timeout, *unstoppable ? ", and its processes could not be stopped" : "");
            return FALSE;
          }
        if (*exit_status != 0)
          return TRUE;
      }

    for (guint i = 0; i < run->commands->len; i++)
      {
        if (run->log != NULL)
          {
            g_autofree char *shown = g_strjoinv (" ", g_ptr_array_index (run->commands, i));

            run->log (shown, run->log_data);
          }
        if (!run_command (self, run, i, output, exit_status, &timed_out, unstoppable, cancellable, error))
          return FALSE;
        if (timed_out)
          {
            if (*unstoppable)
              g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_TIMEOUT,
                           "Execution timed out after %g seconds, and its processes could not be stopped: "
                           "the runner could not signal some of them", run->timeout);
            else if (run->interactive)
              g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_TIMEOUT,
                           "Execution timed out after %g seconds; %s", run->timeout,
                           run->state != NULL && run->state->lost
                           ? "the cell did not stop when interrupted, so its kernel was killed: the interactive state is lost, the next run starts fresh"
                           : "the cell was interrupted, the interactive state is kept");
            else
              g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_TIMEOUT,
                           "Execution timed out after %g seconds", run->timeout);
            return FALSE;
          }
        if (*exit_status != 0)
          break;
      }
  }
  return TRUE;
}

static gboolean
resident_code_runner_reset (LlmsbxCodeRunner  *runner,
                            gboolean          *state_lost,
                            GCancellable      *cancellable,
                            GError           **error)
{
  LlmsbxResidentCodeRunner *self = LLMSBX_RESIDENT_CODE_RUNNER (runner);
  g_autoptr(GError) local_error = NULL;
  gint64 deadline = g_get_monotonic_time () + START_SECONDS * G_USEC_PER_SEC;

  *state_lost = FALSE;
  /* No kernel yet, or none any more (a new runner has none). */
  if (self->kernel == NULL || self->client == NULL || !llmsbx_resident_runner_is_usable (self->client))
    return TRUE;
  if (llmsbx_resident_runner_reset (self->client, self->kernel, state_lost, deadline, cancellable, &local_error))
    return TRUE;
  if (llmsbx_resident_runner_error_is_fatal (local_error))
    {
      /* The runner went, and the state with it: the next cell starts a new one. */
      say (self, "runner: lost while resetting: %s", local_error->message);
      stop_runner (self, 0);
      *state_lost = TRUE;
      return TRUE;
    }
  g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_CONTAINER_FAILED, "Resetting the interactive state failed: %s",
               local_error->message);
  return FALSE;
}

static gboolean
resident_code_runner_close (LlmsbxCodeRunner  *runner,
                            const char        *clean_workdir,
                            double             timeout,
                            GCancellable      *cancellable,
                            GError           **error)
{
  LlmsbxResidentCodeRunner *self = LLMSBX_RESIDENT_CODE_RUNNER (runner);

  remove_code_files (self, cancellable);
  stop_runner (self, g_get_monotonic_time () + SHUTDOWN_SECONDS * G_USEC_PER_SEC);
  if (clean_workdir == NULL)
    return TRUE;
  return llmsbx_code_writer_remove_files (self->backend, self->sandbox_id, clean_workdir, timeout,
                                          cancellable, error);
}

static void
llmsbx_resident_code_runner_iface_init (LlmsbxCodeRunnerInterface *iface)
{
  iface->run = resident_code_runner_run;
  iface->reset = resident_code_runner_reset;
  iface->close = resident_code_runner_close;
}

static void
llmsbx_resident_code_runner_dispose (GObject *object)
{
  LlmsbxResidentCodeRunner *self = LLMSBX_RESIDENT_CODE_RUNNER (object);

  stop_runner (self, 0);
  G_OBJECT_CLASS (llmsbx_resident_code_runner_parent_class)->dispose (object);
}

static void
llmsbx_resident_code_runner_finalize (GObject *object)
{
  LlmsbxResidentCodeRunner *self = LLMSBX_RESIDENT_CODE_RUNNER (object);

  g_clear_object (&self->backend);
  g_clear_object (&self->fallback);
  g_free (self->sandbox_id);
  g_free (self->fallback_reason);
  g_free (self->code_file);
  g_ptr_array_unref (self->files);
  g_free (self->kernel);
  g_strfreev (self->env);

  G_OBJECT_CLASS (llmsbx_resident_code_runner_parent_class)->finalize (object);
}

static void
llmsbx_resident_code_runner_class_init (LlmsbxResidentCodeRunnerClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = llmsbx_resident_code_runner_dispose;
  G_OBJECT_CLASS (klass)->finalize = llmsbx_resident_code_runner_finalize;
}

static void
llmsbx_resident_code_runner_init (LlmsbxResidentCodeRunner *self)
{
  self->venv_python = -1;
  self->files = g_ptr_array_new_with_free_func (g_free);
}

/* A runner for the sandbox @sandbox_id of @backend, started at the first
 * run with @env. With @strict, runs fail when the runner cannot start
 * instead of taking the exec path. @log tells why it falls back. */
LlmsbxCodeRunner *
llmsbx_resident_code_runner_new (LlmsbxBackend           *backend,
                                 const char              *sandbox_id,
                                 const char * const      *env,
                                 gboolean                 strict,
                                 LlmsbxCodeRunnerLogFunc  log,
                                 gpointer                 log_data)
{
  LlmsbxResidentCodeRunner *self;

  g_return_val_if_fail (LLMSBX_IS_BACKEND (backend), NULL);
  g_return_val_if_fail (sandbox_id != NULL, NULL);

  self = g_object_new (LLMSBX_TYPE_RESIDENT_CODE_RUNNER, NULL);
  self->backend = g_object_ref (backend);
  self->sandbox_id = g_strdup (sandbox_id);
  self->env = g_strdupv ((char **) env);
  self->strict = strict;
  self->log = log;
  self->log_data = log_data;
  return LLMSBX_CODE_RUNNER (self);
}
