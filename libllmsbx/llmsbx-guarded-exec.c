/* llmsbx-guarded-exec.c: run one command in a sandbox with a deadline, and kill
 * everything it started when the deadline passes or the caller cancels.
 *
 * Container engines have no API to kill an exec (protocols.md §1.6), and
 * dropping the connection leaves the process running. So every command carries
 * a random token in its environment, which its children inherit; on timeout a
 * second exec kills every process whose environment holds the token, repeating
 * until none is left so that a fork bomb cannot outrun it. This needs only
 * `sh`, `tr` and `grep` in the image (or bash, which needs no fork at all) and
 * works the same on every backend. */
#include "config.h"

#include "llmsbx-guarded-exec-private.h"
#include "llmsbx-error.h"

#define TOKEN_VARIABLE "LLMSBX_EXEC_TOKEN"

/* $1 is the token. Under bash the environments are read with the `read`
 * builtin, so finding and killing forks nothing: a fork bomb that used up the
 * sandbox's process limit cannot stop the sweep. Plain sh needs tr and grep.
 * Killing the process group as well catches children that scrubbed their
 * environment but stayed in the group. Each round stops what it finds before
 * killing any of it, so a fork bomb cannot refill the sandbox with children
 * of the processes killed first. The engine may start a command a
 * moment after its client gave up waiting, so the sweep only ends after a few
 * quiet rounds in a row (it sleeps only then, when forking works again). */
static const char kill_script[] =
  "has_token() {\n"
  "  if [ -n \"$BASH_VERSION\" ]; then\n"
  "    while IFS= read -r -d '' e; do [ \"$e\" = \"" TOKEN_VARIABLE "=$1\" ] && return 0; done < \"$2\"\n"
  "    return 1\n"
  "  fi\n"
  "  tr '\\0' '\\n' < \"$2\" | grep -qx \"" TOKEN_VARIABLE "=$1\"\n"
  "}\n"
  "self=$$; round=0; quiet=0\n"
  "while [ $round -lt 100 ]; do\n"
  "  found=\n"
  "  for f in /proc/[0-9]*/environ; do\n"
  "    p=${f#/proc/}; p=${p%/environ}\n"
  "    [ \"$p\" = \"$self\" ] && continue\n"
  "    if has_token \"$1\" \"$f\" 2>/dev/null; then\n"
  "      kill -STOP -- \"-$p\" 2>/dev/null; kill -STOP \"$p\" 2>/dev/null; found=\"$found $p\"\n"
  "    fi\n"
  "  done\n"
  "  for p in $found; do kill -KILL -- \"-$p\" 2>/dev/null; kill -KILL \"$p\" 2>/dev/null; done\n"
  "  if [ -z \"$found\" ]; then\n"
  "    quiet=$((quiet + 1)); [ $quiet -ge 3 ] && exit 0; sleep 0.1\n"
  "  else\n"
  "    quiet=0\n"
  "  fi\n"
  "  round=$((round + 1))\n"
  "done\n"
  "exit 1\n";

/* Runs the sweep with bash when the image has it; `command -v` and `exec`
 * are builtins, so choosing forks nothing either. */
static const char kill_launcher[] =
  "if command -v bash >/dev/null 2>&1; then exec bash -c \"$1\" llmsbx-kill \"$2\"; fi\n"
  "exec sh -c \"$1\" llmsbx-kill \"$2\"\n";

/* How long the kill itself may take; it must not hang a timed-out session. */
#define KILL_TIMEOUT_SECONDS 10
/* At a full pids limit the engine often cannot start a command (the backend
 * says so with LLMSBX_ERROR_COMMAND_NOT_STARTED): the sweep is started again
 * after this pause, until its own deadline. Each try that does start kills
 * some of what holds the slots. */
#define KILL_RETRY_INTERVAL_US (G_USEC_PER_SEC / 10)

/* Kills every process of @sandbox_id whose environment holds @token. */
gboolean
llmsbx_guarded_exec_kill_token (LlmsbxBackend  *backend,
                                const char     *sandbox_id,
                                const char     *token,
                                GError        **error)
{
  const char *argv[] = { "sh", "-c", kill_launcher, "llmsbx-kill", kill_script, token, NULL };
  g_autoptr(LlmsbxExecRequest) request = llmsbx_exec_request_new (argv);
  g_autofree char *reason = NULL;
  int status = -1;

  /* As the sandbox's own user, like the command: the same user may always
   * signal its processes, while root without CAP_KILL (cap_drop ALL) may not
   * signal another user's. */
  request->deadline = g_get_monotonic_time () + KILL_TIMEOUT_SECONDS * G_USEC_PER_SEC;

  for (;;)
    {
      g_autoptr(LlmsbxOutputCollector) output = llmsbx_output_collector_new (1024);
      g_autoptr(GBytes) said = NULL;
      g_autoptr(GError) local_error = NULL;
      const char *text;
      gsize size;

      if (llmsbx_backend_exec (backend, sandbox_id, request, output, &status, NULL, &local_error))
        {
          if (status == 0)
            return TRUE;
          said = llmsbx_output_collector_steal_bytes (output, LLMSBX_OUTPUT_STREAM_STDOUT);
          text = g_bytes_get_data (said, &size);
          reason = g_strstrip (g_utf8_make_valid (text ? text : "", size));
          break;
        }
      if (!g_error_matches (local_error, LLMSBX_ERROR, LLMSBX_ERROR_COMMAND_NOT_STARTED) ||
          g_get_monotonic_time () + KILL_RETRY_INTERVAL_US >= request->deadline)
        {
          g_propagate_prefixed_error (error, g_steal_pointer (&local_error),
                                      "the command that kills them failed: ");
          return FALSE;
        }
      g_usleep (KILL_RETRY_INTERVAL_US);
    }

  if (status == 1)
    g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_CONTAINER_FAILED, "they kept respawning");
  else
    g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_CONTAINER_FAILED,
                 "the command that kills them could not run (exit status %d%s%s)",
                 status, *reason ? ": " : "", reason);
  return FALSE;
}

/* Adds a new random token to @request's environment and returns it: what
 * llmsbx_guarded_exec_kill_token() finds the command's processes by. */
char *
llmsbx_guarded_exec_add_token (LlmsbxExecRequest *request)
{
  g_autoptr(GStrvBuilder) env_builder = g_strv_builder_new ();
  g_autofree char *token = g_uuid_string_random ();
  g_autofree char *token_entry = g_strconcat (TOKEN_VARIABLE "=", token, NULL);

  if (request->env != NULL)
    g_strv_builder_addv (env_builder, (const char **) request->env);
  g_strv_builder_add (env_builder, token_entry);
  g_strfreev (request->env);
  request->env = g_strv_builder_end (env_builder);
  return g_steal_pointer (&token);
}

/* Runs @request, which carries its own deadline, adding the token to its
 * environment; @timeout is the limit the deadline stands for, for messages.
 * @unstoppable is set to %TRUE when the command timed out or was cancelled
 * and what it started could not be killed: the sandbox may still run it, and
 * the caller must not use the sandbox any more. */
gboolean
llmsbx_guarded_exec_request (LlmsbxBackend         *backend,
                             const char            *sandbox_id,
                             LlmsbxExecRequest     *request,
                             double                 timeout,
                             LlmsbxOutputCollector *output,
                             int                   *exit_status,
                             gboolean              *unstoppable,
                             GCancellable          *cancellable,
                             GError               **error)
{
  g_autofree char *token = llmsbx_guarded_exec_add_token (request);
  g_autoptr(GError) local_error = NULL;
  g_autoptr(GError) kill_error = NULL;
  gboolean timed_out;

  if (unstoppable != NULL)
    *unstoppable = FALSE;

  if (llmsbx_backend_exec (backend, sandbox_id, request, output, exit_status,
                           cancellable, &local_error))
    return TRUE;

  timed_out = g_error_matches (local_error, LLMSBX_ERROR, LLMSBX_ERROR_TIMEOUT);
  if (!timed_out && !g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }

  /* A failed kill is part of the error, which says what is still running. */
  if (!llmsbx_guarded_exec_kill_token (backend, sandbox_id, token, &kill_error) && unstoppable != NULL)
    *unstoppable = TRUE;

  if (timed_out && kill_error != NULL)
    g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_TIMEOUT,
                 "Execution timed out after %g seconds, and its processes could not be stopped: %s",
                 timeout, kill_error->message);
  else if (timed_out)
    g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_TIMEOUT,
                 "Execution timed out after %g seconds", timeout);
  else if (kill_error != NULL)
    g_set_error (error, local_error->domain, local_error->code,
                 "%s, and the command's processes could not be stopped: %s",
                 local_error->message, kill_error->message);
  else
    g_propagate_error (error, g_steal_pointer (&local_error));
  return FALSE;
}

/* A monotonic deadline @timeout seconds from now; 0 (none) for 0. */
gint64
llmsbx_guarded_exec_deadline (double timeout)
{
  return timeout > 0 ? g_get_monotonic_time () + (gint64) (timeout * G_USEC_PER_SEC) : 0;
}

gboolean
llmsbx_guarded_exec (LlmsbxBackend         *backend,
                     const char            *sandbox_id,
                     const char * const    *argv,
                     const char * const    *env,
                     const char            *workdir,
                     double                 timeout,
                     LlmsbxOutputCollector *output,
                     int                   *exit_status,
                     GCancellable          *cancellable,
                     GError               **error)
{
  g_autoptr(LlmsbxExecRequest) request = llmsbx_exec_request_new (argv);

  request->env = g_strdupv ((char **) env);
  request->workdir = g_strdup (workdir);
  request->deadline = llmsbx_guarded_exec_deadline (timeout);
  return llmsbx_guarded_exec_request (backend, sandbox_id, request, timeout, output, exit_status, NULL,
                                      cancellable, error);
}
