/* llmsbx-session-run.c: what a run does, from the policy to the result.
 *
 * The session orchestrates every run the same way on every backend: the policy
 * checks the code, libraries are installed, the language handler's commands
 * are expanded into exact argv vectors, and the session's code runner
 * (runners/llmsbx-code-runner-private.h) delivers the code and runs them
 * under one deadline; output comes back bounded. Backends know nothing of
 * languages, so behaviour is identical across them. Commands (execute_argv,
 * execute_command) and setup and install commands run directly with a
 * deadline each (llmsbx-guarded-exec.c). */
#include "config.h"

#include "llmsbx-sandbox-session-private.h"
#include "llmsbx-error.h"
#include "llmsbx-code-runner-private.h"
#include "llmsbx-code-writer-private.h"
#include "llmsbx-guarded-exec-private.h"
#include "llmsbx-lifetime-watchdog-private.h"
#include "llmsbx-registry.h"
#include "llmsbx-security-private.h"

/* A library name becomes one argv element of the package manager; it must not
 * look like an option or carry characters no package name has. */
static gboolean
validate_library_name (const char *library,
                       GError    **error)
{
  static const char forbidden[] = ";&|$`'\"\\(){}*?";

  if (library[0] == '\0' || library[0] == '-')
    {
      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
                   "Invalid library name '%s': it must not be empty or start with '-'", library);
      return FALSE;
    }

  for (const char *p = library; *p; p++)
    {
      if (g_ascii_isspace (*p) || g_ascii_iscntrl (*p) || strchr (forbidden, *p) != NULL)
        {
          g_autofree char *shown = g_strescape (library, NULL);

          g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
                       "Invalid library name '%s': whitespace, control and shell characters are not allowed",
                       shown);
          return FALSE;
        }
    }

  return TRUE;
}

static double
effective_timeout (LlmsbxSandboxSession *self,
                   double                requested)
{
  LlmsbxSandboxSessionPrivate *priv = llmsbx_session_get_private (self);

  if (requested > 0)
    return requested;
  if (priv->execution_timeout > 0)
    return priv->execution_timeout;
  return priv->default_timeout;
}

static LlmsbxRuntimeContext *
runtime_context (LlmsbxSandboxSession *self)
{
  LlmsbxSandboxSessionPrivate *priv = llmsbx_session_get_private (self);

  return llmsbx_runtime_context_new (priv->workdir, priv->environment_ready);
}

/* A command that timed out or was cancelled left processes that could not be
 * killed: they may still run, so the sandbox is not used again. The session
 * closes (removing a sandbox it created) and the error says so. */
static void
close_unstoppable (LlmsbxSandboxSession  *self,
                   GError               **error)
{
  LlmsbxSandboxSessionPrivate *priv = llmsbx_session_get_private (self);
  gboolean removed = priv->created_sandbox;

  llmsbx_session_log (self, "processes of a stopped command could not be killed, closing");
  llmsbx_sandbox_session_close (self, NULL, NULL);
  if (error != NULL && *error != NULL)
    {
      g_autoptr(GError) original = g_steal_pointer (error);

      g_set_error (error, original->domain, original->code, "%s; %s", original->message,
                   removed ? "the sandbox was removed and the session closed" : "the session was closed");
    }
}

/* Runs one command template after another (setup and install commands),
 * stopping at the first failure; each may take @timeout. Code goes through
 * the session's code runner instead (run_code()). */
static gboolean
run_templates (LlmsbxSandboxSession  *self,
               char                 **templates,
               const char            *library,
               double                 timeout,
               LlmsbxOutputCollector *collector,
               int                   *exit_status,
               GCancellable          *cancellable,
               GError               **error)
{
  LlmsbxSandboxSessionPrivate *priv = llmsbx_session_get_private (self);

  *exit_status = 0;

  for (guint i = 0; templates != NULL && templates[i] != NULL; i++)
    {
      g_auto(GStrv) argv = NULL;
      g_autoptr(LlmsbxExecRequest) request = NULL;
      g_autofree char *shown = NULL;
      gboolean unstoppable = FALSE;

      argv = llmsbx_expand_command_template (templates[i], NULL, priv->workdir, library, error);
      if (argv == NULL)
        return FALSE;

      shown = g_strjoinv (" ", argv);
      llmsbx_session_log (self, "exec: %s", shown);

      request = llmsbx_exec_request_new ((const char * const *) argv);
      request->env = g_strdupv ((char **) llmsbx_session_exec_env (self));
      request->workdir = g_strdup (priv->workdir);
      request->deadline = llmsbx_guarded_exec_deadline (timeout);

      if (!llmsbx_guarded_exec_request (priv->backend, priv->sandbox_id, request, timeout,
                                        collector, exit_status, &unstoppable, cancellable, error))
        {
          if (unstoppable)
            close_unstoppable (self, error);
          return FALSE;
        }

      if (*exit_status != 0)
        break;
    }

  return TRUE;
}

static void
log_command (const char *command,
             gpointer    user_data)
{
  llmsbx_session_log (user_data, "exec: %s", command);
}

/* Hands @code and the language's run @templates, expanded for @file, to the
 * session's code runner (with @run_dir to make, and @env, or the session's
 * environment when %NULL), which writes the code to @file with the first
 * command and removes it after the last (or the first that fails). All the
 * commands share @deadline, a run's. */
static gboolean
run_code (LlmsbxSandboxSession  *self,
          char                 **templates,
          const char            *file,
          const char            *run_dir,
          const char * const    *env,
          const char            *code,
          double                 timeout,
          gint64                 deadline,
          LlmsbxOutputCollector *collector,
          int                   *exit_status,
          GCancellable          *cancellable,
          GError               **error)
{
  LlmsbxSandboxSessionPrivate *priv = llmsbx_session_get_private (self);
  g_autoptr(GPtrArray) commands = g_ptr_array_new_with_free_func ((GDestroyNotify) g_strfreev);
  gboolean unstoppable = FALSE;
  LlmsbxCodeRunState state = { FALSE, FALSE };
  gboolean ok;
  LlmsbxCodeRun run = {
    .code = code,
    .file = file,
    .run_dir = run_dir,
    .commands = commands,
    .workdir = priv->workdir,
    .env = env != NULL ? env : llmsbx_session_exec_env (self),
    .timeout = timeout,
    .deadline = deadline,
    .log = log_command,
    .log_data = self,
    .interactive = priv->interactive,
    .state = &state,
  };

  for (guint i = 0; templates[i] != NULL; i++)
    {
      char **argv = llmsbx_expand_command_template (templates[i], file, priv->workdir, NULL, error);

      if (argv == NULL)
        return FALSE;
      g_ptr_array_add (commands, argv);
    }

  ok = llmsbx_code_runner_run (priv->runner, &run, collector, exit_status, &unstoppable, cancellable, error);
  if (priv->interactive)
    {
      g_mutex_lock (&priv->operation_lock);
      priv->fresh_state = state.fresh;
      g_mutex_unlock (&priv->operation_lock);
      if (state.lost)
        llmsbx_session_log (self, "the interactive state was lost: the next cell starts fresh");
    }
  if (!ok)
    {
      if (unstoppable)
        close_unstoppable (self, error);
      return FALSE;
    }
  return TRUE;
}

/* Exit status 137 is SIGKILL, which the kernel's OOM killer sends, but so
 * may anyone. The memory cgroup's oom_kill counter (cgroup v1 and v2 name it
 * alike) tells them apart: it is the sandbox's, so a rise since the last look
 * is this command's. Read only on this path: one more exec, never otherwise. */
static gboolean
was_oom_killed (LlmsbxSandboxSession *self)
{
  LlmsbxSandboxSessionPrivate *priv = llmsbx_session_get_private (self);
  static const char script[] =
    "for f in /sys/fs/cgroup/memory/memory.oom_control /sys/fs/cgroup/memory.events; do\n"
    "  [ -r \"$f\" ] && exec sed -n 's/^oom_kill //p' \"$f\"\n"
    "done\n";
  const char *argv[] = { "sh", "-c", script, NULL };
  g_autoptr(LlmsbxOutputCollector) collector = llmsbx_output_collector_new (256);
  g_autoptr(GBytes) out = NULL;
  g_autofree char *text = NULL;
  guint64 count;
  int status = -1;

  if (!llmsbx_guarded_exec (priv->backend, priv->sandbox_id, argv, NULL, "/", priv->default_timeout,
                            collector, &status, NULL, NULL) || status != 0)
    return FALSE;

  out = llmsbx_output_collector_steal_bytes (collector, LLMSBX_OUTPUT_STREAM_STDOUT);
  text = g_strstrip (g_strndup (g_bytes_get_data (out, NULL), g_bytes_get_size (out)));
  if (!g_ascii_string_to_unsigned (text, 10, 0, G_MAXUINT64, &count, NULL) || count <= priv->oom_kills_seen)
    return FALSE;
  priv->oom_kills_seen = count;
  return TRUE;
}

static LlmsbxExecutionResult *
collect_result (LlmsbxSandboxSession  *self,
                LlmsbxOutputCollector *collector,
                int                    exit_status,
                gint64                 started,
                LlmsbxArtifacts       *artifacts)
{
  g_autoptr(GBytes) out = llmsbx_output_collector_steal_bytes (collector, LLMSBX_OUTPUT_STREAM_STDOUT);
  g_autoptr(GBytes) err = llmsbx_output_collector_steal_bytes (collector, LLMSBX_OUTPUT_STREAM_STDERR);
  double duration = (g_get_monotonic_time () - started) / (double) G_USEC_PER_SEC;
  gboolean oom_killed = exit_status == 137 && was_oom_killed (self);

  llmsbx_session_log (self, "exit status %d%s after %.3f s (%" G_GSIZE_FORMAT " bytes stdout, %" G_GSIZE_FORMAT " bytes stderr)",
                      exit_status, oom_killed ? " (out of memory)" : "", duration,
                      g_bytes_get_size (out), g_bytes_get_size (err));

  return g_object_new (LLMSBX_TYPE_EXECUTION_RESULT,
                       "exit-code", exit_status,
                       "stdout-bytes", out,
                       "stderr-bytes", err,
                       "truncated", llmsbx_output_collector_get_truncated (collector),
                       "oom-killed", oom_killed,
                       "duration", MAX (duration, 0.0),
                       "plots", artifacts ? artifacts->plots : NULL,
                       "plots-dropped", artifacts ? artifacts->plots_dropped : FALSE,
                       "files", artifacts ? artifacts->files : NULL,
                       "files-dropped", artifacts ? artifacts->files_dropped : FALSE,
                       NULL);
}

/* Environment setup: done once, when first needed (before the first library
 * install), so that opening a session costs only create and start. */
static gboolean
ensure_environment (LlmsbxSandboxSession *self,
                    GCancellable         *cancellable,
                    GError              **error)
{
  LlmsbxSandboxSessionPrivate *priv = llmsbx_session_get_private (self);
  g_autoptr(LlmsbxRuntimeContext) context = NULL;
  g_autoptr(LlmsbxOutputCollector) collector = NULL;
  g_auto(GStrv) setup = NULL;
  int status = 0;

  if (priv->environment_ready)
    return TRUE;

  context = runtime_context (self);
  setup = llmsbx_language_handler_get_setup_commands (priv->handler, context);
  collector = llmsbx_output_collector_new (64 * 1024);

  if (!run_templates (self, setup, NULL, priv->default_timeout, collector, &status,
                      cancellable, error))
    return FALSE;

  if (status != 0)
    {
      g_autoptr(GBytes) err = llmsbx_output_collector_steal_bytes (collector, LLMSBX_OUTPUT_STREAM_STDERR);
      g_autofree char *text = g_utf8_make_valid (g_bytes_get_data (err, NULL), g_bytes_get_size (err));

      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_CONTAINER_FAILED,
                   "Setting up the %s environment failed with exit status %d: %s",
                   priv->lang, status, g_strstrip (text));
      return FALSE;
    }

  priv->environment_ready = TRUE;
  return TRUE;
}

/* Install ---------------------------------------------------------------- */

static gboolean
install_locked (LlmsbxSandboxSession *self,
                const char * const   *libraries,
                GCancellable         *cancellable,
                GError              **error)
{
  LlmsbxSandboxSessionPrivate *priv = llmsbx_session_get_private (self);
  g_autoptr(LlmsbxRuntimeContext) context = NULL;
  g_autofree char *template = NULL;

  if (libraries == NULL || libraries[0] == NULL)
    return TRUE;

  if (!llmsbx_session_check_open (self, error))
    return FALSE;

  for (guint i = 0; libraries[i] != NULL; i++)
    if (!validate_library_name (libraries[i], error) ||
        (priv->security_policy != NULL &&
         !llmsbx_security_policy_check_library (priv->security_policy, libraries[i], error)))
      return FALSE;

  if (priv->skip_environment_setup)
    {
      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_LIBRARY_INSTALLATION_NOT_SUPPORTED,
                   "Library installation is not supported for %s when environment setup is skipped: "
                   "pre-install libraries in the image, or install them with execute_command()",
                   priv->lang);
      return FALSE;
    }

  context = runtime_context (self);
  if (!llmsbx_language_handler_supports_library_installation (priv->handler, context))
    {
      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_LIBRARY_INSTALLATION_NOT_SUPPORTED,
                   "Library installation is not supported for %s", priv->lang);
      return FALSE;
    }

  if (!ensure_environment (self, cancellable, error))
    return FALSE;

  g_clear_object (&context);
  context = runtime_context (self);
  template = llmsbx_language_handler_get_install_command (priv->handler, context);

  for (guint i = 0; libraries[i] != NULL; i++)
    {
      char *templates[] = { template, NULL };
      g_autoptr(LlmsbxOutputCollector) collector = llmsbx_session_new_collector (self);
      int status = 0;

      llmsbx_session_log (self, "installing %s", libraries[i]);
      if (!run_templates (self, templates, libraries[i], priv->default_timeout, collector,
                          &status, cancellable, error))
        return FALSE;

      if (status != 0)
        {
          g_autoptr(GBytes) err = llmsbx_output_collector_steal_bytes (collector, LLMSBX_OUTPUT_STREAM_STDERR);
          g_autofree char *text = g_utf8_make_valid (g_bytes_get_data (err, NULL), g_bytes_get_size (err));

          g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_LIBRARY_INSTALLATION_FAILED,
                       "Installing %s failed with exit status %d: %s",
                       libraries[i], status, g_strstrip (text));
          return FALSE;
        }
    }

  return TRUE;
}

/**
 * llmsbx_sandbox_session_install:
 * @self: a #LlmsbxSandboxSession
 * @libraries: (array zero-terminated=1) (nullable): package names for the language's package manager
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Installs libraries with the language's package manager, setting up the
 * environment first if that has not happened yet. Fails with
 * %LLMSBX_ERROR_LIBRARY_INSTALLATION_NOT_SUPPORTED when environment setup is
 * skipped or the language has no package manager, with
 * %LLMSBX_ERROR_INVALID_ARGUMENT for a name that looks like an option or holds
 * shell characters, with %LLMSBX_ERROR_SECURITY_VIOLATION for a library named
 * like a module that the security policy restricts at or above its threshold
 * (before anything is installed), and with
 * %LLMSBX_ERROR_LIBRARY_INSTALLATION_FAILED when the package manager fails.
 *
 * Returns: %TRUE on success
 *
 * Since: 0.1
 */
gboolean
llmsbx_sandbox_session_install (LlmsbxSandboxSession *self,
                                const char * const   *libraries,
                                GCancellable         *cancellable,
                                GError              **error)
{
  LlmsbxSandboxSessionPrivate *priv = llmsbx_session_get_private (self);
  LlmsbxSessionOperation op;
  gboolean ok;

  g_return_val_if_fail (LLMSBX_IS_SANDBOX_SESSION (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  g_rec_mutex_lock (&priv->lock);
  ok = install_locked (self, libraries, llmsbx_session_operation_begin (self, &op, cancellable), error);
  llmsbx_session_operation_end (self, &op, "libraries were being installed", error);
  g_rec_mutex_unlock (&priv->lock);
  return ok;
}

/* Run -------------------------------------------------------------------- */

/* The security policy's verdict on code, before anything reaches the sandbox. */
static gboolean
enforce_policy (LlmsbxSandboxSession  *self,
                LlmsbxLanguageHandler *handler,
                const char            *code,
                GError               **error)
{
  LlmsbxSandboxSessionPrivate *priv = llmsbx_session_get_private (self);
  g_autoptr(GPtrArray) violations = NULL;
  g_autoptr(GError) local_error = NULL;

  if (priv->security_policy == NULL)
    return TRUE;

  if (llmsbx_security_policy_check (priv->security_policy, handler, code, &violations, &local_error))
    return TRUE;

  if (local_error != NULL)
    g_propagate_error (error, g_steal_pointer (&local_error));
  else
    llmsbx_security_set_violation_error (error, "the code", violations,
                                         llmsbx_security_policy_get_severity_threshold (priv->security_policy));
  llmsbx_session_log (self, "security policy refused the code");
  return FALSE;
}

/**
 * llmsbx_sandbox_session_is_safe:
 * @self: a #LlmsbxSandboxSession
 * @code: source code in the session's language (UTF-8)
 * @violations: (out) (optional) (transfer container) (element-type LlmsbxSecurityPattern):
 *   every pattern of the policy that matched, blocking or not (see
 *   llmsbx_security_policy_check())
 * @error: return location for a #GError
 *
 * Asks the session's #LlmsbxSandboxSession:security-policy whether it would
 * let llmsbx_sandbox_session_run() run @code, without running it and without
 * changing the policy. Works on a session that is not open. Without a policy,
 * all code is safe and there are no violations.
 *
 * In Python, `safe, violations = session.is_safe(code)`.
 *
 * Returns: %TRUE when the code may run, %FALSE when the policy blocks it or on
 *   error (the language is unknown, or the policy cannot be applied)
 *
 * Since: 0.1
 */
gboolean
llmsbx_sandbox_session_is_safe (LlmsbxSandboxSession  *self,
                                const char            *code,
                                GPtrArray            **violations,
                                GError               **error)
{
  LlmsbxSandboxSessionPrivate *priv = llmsbx_session_get_private (self);
  g_autoptr(LlmsbxLanguageHandler) handler = NULL;
  g_autoptr(LlmsbxSecurityPolicy) policy = NULL;
  g_autofree char *lang = NULL;

  g_return_val_if_fail (LLMSBX_IS_SANDBOX_SESSION (self), FALSE);
  g_return_val_if_fail (code != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (violations != NULL)
    *violations = NULL;

  /* Without the session's lock, which a run holds for its whole length. */
  g_mutex_lock (&priv->operation_lock);
  policy = priv->security_policy ? g_object_ref (priv->security_policy) : NULL;
  lang = g_strdup (priv->lang);
  g_mutex_unlock (&priv->operation_lock);
  if (policy == NULL)
    {
      if (violations != NULL)
        *violations = g_ptr_array_new_with_free_func (g_object_unref);
      return TRUE;
    }

  /* The registry's handler for the language is the one open() uses, so
   * this works before open() without touching the session's state. */
  handler = llmsbx_registry_lookup_language (llmsbx_registry_get_default (), lang, error);
  if (handler == NULL)
    return FALSE;

  return llmsbx_security_policy_check (policy, handler, code, violations, error);
}

static LlmsbxExecutionResult *
run_locked (LlmsbxSandboxSession *self,
            const char           *code,
            const char * const   *libraries,
            double                timeout,
            GCancellable         *cancellable,
            GError              **error)
{
  LlmsbxSandboxSessionPrivate *priv = llmsbx_session_get_private (self);
  LlmsbxSandboxSessionClass *klass = LLMSBX_SANDBOX_SESSION_GET_CLASS (self);
  LlmsbxArtifactCapture capture = { 0, };
  g_auto(LlmsbxArtifacts) artifacts = { NULL, FALSE, NULL, FALSE };
  g_auto(GStrv) env = NULL;
  g_autoptr(LlmsbxRuntimeContext) context = NULL;
  g_autoptr(LlmsbxOutputCollector) collector = NULL;
  g_auto(GStrv) commands = NULL;
  g_autofree char *extension = NULL;
  g_autofree char *file = NULL;
  g_autofree char *run_dir = NULL;
  g_autofree char *wrapped = NULL;
  gint64 started = g_get_monotonic_time ();
  gint64 deadline;
  double limit;
  int status = 0;

  if (!llmsbx_session_check_timeout ("timeout", timeout, error) || !llmsbx_session_check_open (self, error))
    return NULL;

  if (!g_utf8_validate (code, -1, NULL))
    {
      g_set_error_literal (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
                           "Code must be valid UTF-8");
      return NULL;
    }

  if (!enforce_policy (self, priv->handler, code, error))
    return NULL;

  if (!install_locked (self, libraries, cancellable, error))
    return NULL;

  /* Libraries have limits of their own; from here on one deadline covers
   * the whole run: the code's delivery, compiling and running it. */
  limit = effective_timeout (self, timeout);
  deadline = llmsbx_guarded_exec_deadline (limit);

  extension = llmsbx_language_handler_get_file_extension (priv->handler);
  file = llmsbx_code_writer_new_path (priv->workdir, extension);
  context = runtime_context (self);
  commands = llmsbx_language_handler_get_run_commands (priv->handler, context);
  if (commands == NULL || commands[0] == NULL)
    {
      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_LANGUAGE_NOT_SUPPORTED,
                   "The %s language handler has no command to run code", priv->lang);
      return NULL;
    }

  /* What the class captures besides output (the artifact session): the
   * run gets a directory, its code the language's plot capture and
   * $LLMSBX_OUTPUT_DIR. */
  if (klass->capture_artifacts != NULL && klass->capture_artifacts (self, &capture) &&
      (capture.plots || capture.files))
    {
      run_dir = llmsbx_code_writer_new_run_dir (file);
      if (capture.files)
        {
          g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
          g_autofree char *output_dir = llmsbx_session_output_dir (run_dir);
          g_autofree char *entry = g_strconcat ("LLMSBX_OUTPUT_DIR=", output_dir, NULL);
          const char * const *session_env = llmsbx_session_exec_env (self);

          if (session_env != NULL)
            g_strv_builder_addv (builder, (const char **) session_env);
          g_strv_builder_add (builder, entry);
          env = g_strv_builder_end (builder);
        }
      if (capture.plots)
        {
          g_autofree char *plots_dir = llmsbx_code_writer_plots_dir (run_dir);

          wrapped = llmsbx_language_handler_wrap_for_artifacts (priv->handler, code, plots_dir);
          if (wrapped == NULL)
            llmsbx_session_log (self, "the %s language has no plot capture: the code runs as it is",
                                priv->lang);
        }
    }

  collector = llmsbx_session_new_collector (self);
  if (!run_code (self, commands, file, run_dir, (const char * const *) env,
                 wrapped != NULL ? wrapped : code, limit, deadline,
                 collector, &status, cancellable, error) ||
      llmsbx_lifetime_watchdog_has_expired (priv->watchdog))
    return llmsbx_session_report_expiry (self, error);

  if (run_dir != NULL &&
      !llmsbx_session_fetch_artifacts (self, run_dir, &capture, &artifacts, cancellable, error))
    return NULL;

  return collect_result (self, collector, status, started, &artifacts);
}

/**
 * llmsbx_sandbox_session_run:
 * @self: a #LlmsbxSandboxSession
 * @code: source code in the session's language (UTF-8)
 * @libraries: (array zero-terminated=1) (nullable): libraries to install first
 * @timeout: seconds the code may run; 0 for the session's
 *   #LlmsbxSandboxSession:execution-timeout, itself defaulting to
 *   #LlmsbxSandboxSession:default-timeout. A negative, infinite or NaN
 *   value (or one above 10^9) fails with %LLMSBX_ERROR_INVALID_ARGUMENT.
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Runs code in the sandbox. When the session's
 * #LlmsbxSandboxSession:security-policy blocks the code (or one of
 * @libraries), the call fails with %LLMSBX_ERROR_SECURITY_VIOLATION naming
 * every violation, and nothing is sent to the sandbox. A compiled
 * language's compile errors come back as a failed result carrying the
 * compiler's message. When the time runs out,
 * everything the code started in the sandbox is killed, the call fails with
 * %LLMSBX_ERROR_TIMEOUT, and the session stays usable. Output is delivered
 * live through #LlmsbxSandboxSession::output as it arrives.
 *
 * Returns: (transfer full): the result, or %NULL on error
 *
 * Since: 0.1
 */
LlmsbxExecutionResult *
llmsbx_sandbox_session_run (LlmsbxSandboxSession *self,
                            const char           *code,
                            const char * const   *libraries,
                            double                timeout,
                            GCancellable         *cancellable,
                            GError              **error)
{
  LlmsbxSandboxSessionPrivate *priv = llmsbx_session_get_private (self);
  LlmsbxSessionOperation op;
  LlmsbxExecutionResult *result;

  g_return_val_if_fail (LLMSBX_IS_SANDBOX_SESSION (self), NULL);
  g_return_val_if_fail (code != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  g_rec_mutex_lock (&priv->lock);
  result = run_locked (self, code, libraries, timeout, llmsbx_session_operation_begin (self, &op, cancellable), error);
  llmsbx_session_operation_end (self, &op, "the code was running", error);
  g_rec_mutex_unlock (&priv->lock);
  return result;
}

static LlmsbxExecutionResult *
execute_argv_locked (LlmsbxSandboxSession *self,
                     const char * const   *argv,
                     const char           *workdir,
                     GCancellable         *cancellable,
                     GError              **error)
{
  LlmsbxSandboxSessionPrivate *priv = llmsbx_session_get_private (self);
  g_autoptr(LlmsbxOutputCollector) collector = NULL;
  g_autofree char *directory = NULL;
  gint64 started = g_get_monotonic_time ();
  int status = 0;

  if (!llmsbx_session_check_open (self, error))
    return NULL;

  if (argv == NULL || argv[0] == NULL || argv[0][0] == '\0')
    {
      g_set_error_literal (error, LLMSBX_ERROR, LLMSBX_ERROR_COMMAND_EMPTY, "Command cannot be empty");
      return NULL;
    }

  /* Checked like every path in the sandbox: relative to the session's
   * workdir, and never with a `..` component. */
  directory = workdir ? llmsbx_session_resolve_sandbox_path (self, workdir, error) : g_strdup (priv->workdir);
  if (directory == NULL)
    return NULL;

  collector = llmsbx_session_new_collector (self);
  if (!llmsbx_guarded_exec (priv->backend, priv->sandbox_id, argv, llmsbx_session_exec_env (self),
                                           directory, priv->default_timeout,
                                           collector, &status, cancellable, error) ||
                     llmsbx_lifetime_watchdog_has_expired (priv->watchdog))
    return llmsbx_session_report_expiry (self, error);

  return collect_result (self, collector, status, started, NULL);
}

/**
 * llmsbx_sandbox_session_execute_argv:
 * @self: a #LlmsbxSandboxSession
 * @argv: (array zero-terminated=1): the exact argv to run; no shell is involved
 * @workdir: (nullable): working directory, %NULL for the session's; a
 *   relative one is relative to the session's
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Runs a command in the sandbox, limited by #LlmsbxSandboxSession:default-timeout.
 * A @workdir with a `..` component is refused with
 * %LLMSBX_ERROR_PATH_TRAVERSAL; when the engine cannot start the command (its
 * program or @workdir does not exist, or the sandbox is at its process
 * limit), the call fails with %LLMSBX_ERROR_COMMAND_NOT_STARTED and the
 * engine's message.
 *
 * Returns: (transfer full): the result, or %NULL on error
 *
 * Since: 0.1
 */
LlmsbxExecutionResult *
llmsbx_sandbox_session_execute_argv (LlmsbxSandboxSession *self,
                                     const char * const   *argv,
                                     const char           *workdir,
                                     GCancellable         *cancellable,
                                     GError              **error)
{
  LlmsbxSandboxSessionPrivate *priv = llmsbx_session_get_private (self);
  LlmsbxSessionOperation op;
  LlmsbxExecutionResult *result;

  g_return_val_if_fail (LLMSBX_IS_SANDBOX_SESSION (self), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  g_rec_mutex_lock (&priv->lock);
  result = execute_argv_locked (self, argv, workdir, llmsbx_session_operation_begin (self, &op, cancellable), error);
  llmsbx_session_operation_end (self, &op, "the command was running", error);
  g_rec_mutex_unlock (&priv->lock);
  return result;
}

/**
 * llmsbx_sandbox_session_execute_command:
 * @self: a #LlmsbxSandboxSession
 * @command: a shell command line, run by `sh -c` inside the sandbox
 * @workdir: (nullable): working directory, %NULL for the session's; a
 *   relative one is relative to the session's
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Runs a shell command inside the sandbox (pipes, `&&` and redirections
 * work, the same on every backend), limited by
 * #LlmsbxSandboxSession:default-timeout. Use
 * llmsbx_sandbox_session_execute_argv() to pass an exact argv instead.
 * @workdir is checked as there.
 *
 * Returns: (transfer full): the result, or %NULL on error
 *
 * Since: 0.1
 */
LlmsbxExecutionResult *
llmsbx_sandbox_session_execute_command (LlmsbxSandboxSession *self,
                                        const char           *command,
                                        const char           *workdir,
                                        GCancellable         *cancellable,
                                        GError              **error)
{
  const char *argv[] = { "sh", "-c", command, NULL };

  g_return_val_if_fail (LLMSBX_IS_SANDBOX_SESSION (self), NULL);
  g_return_val_if_fail (command != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (*command == '\0')
    {
      g_set_error_literal (error, LLMSBX_ERROR, LLMSBX_ERROR_COMMAND_EMPTY, "Command cannot be empty");
      return NULL;
    }

  return llmsbx_sandbox_session_execute_argv (self, argv, workdir, cancellable, error);
}

/* Async ------------------------------------------------------------------ */

/* The arguments of a call, copied for its worker thread. */
typedef struct {
  char   *text;      /* run: the code; execute_command: the command line */
  GStrv   strv;      /* run, install: the libraries; execute_argv: the argv */
  char   *workdir;
  double  timeout;
} CallArgs;

static void
call_args_free (gpointer data)
{
  CallArgs *args = data;

  g_free (args->text);
  g_strfreev (args->strv);
  g_free (args->workdir);
  g_free (args);
}

static CallArgs *
call_args_new (const char         *text,
               const char * const *strv,
               const char         *workdir,
               double              timeout)
{
  CallArgs *args = g_new0 (CallArgs, 1);

  args->text = g_strdup (text);
  args->strv = g_strdupv ((char **) strv);
  args->workdir = g_strdup (workdir);
  args->timeout = timeout;
  return args;
}

static gpointer
run_call (LlmsbxSandboxSession  *self,
          gpointer               data,
          GCancellable          *cancellable,
          GError               **error)
{
  CallArgs *args = data;

  return llmsbx_sandbox_session_run (self, args->text, (const char * const *) args->strv, args->timeout,
                                     cancellable, error);
}

static gpointer
execute_argv_call (LlmsbxSandboxSession  *self,
                   gpointer               data,
                   GCancellable          *cancellable,
                   GError               **error)
{
  CallArgs *args = data;

  return llmsbx_sandbox_session_execute_argv (self, (const char * const *) args->strv, args->workdir,
                                              cancellable, error);
}

static gpointer
execute_command_call (LlmsbxSandboxSession  *self,
                      gpointer               data,
                      GCancellable          *cancellable,
                      GError               **error)
{
  CallArgs *args = data;

  return llmsbx_sandbox_session_execute_command (self, args->text, args->workdir, cancellable, error);
}

static gpointer
install_call (LlmsbxSandboxSession  *self,
              gpointer               data,
              GCancellable          *cancellable,
              GError               **error)
{
  CallArgs *args = data;

  return GINT_TO_POINTER (llmsbx_sandbox_session_install (self, (const char * const *) args->strv,
                                                          cancellable, error));
}

/**
 * llmsbx_sandbox_session_run_async:
 * @self: a #LlmsbxSandboxSession
 * @code: source code in the session's language
 * @libraries: (array zero-terminated=1) (nullable): libraries to install first
 * @timeout: seconds the code may run; 0 for the session's default
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called with the result
 * @user_data: data for @callback
 *
 * Runs code in a worker thread; see llmsbx_sandbox_session_run(). Live output
 * is emitted in the thread-default main context of the caller.
 *
 * Since: 0.1
 */
void
llmsbx_sandbox_session_run_async (LlmsbxSandboxSession *self,
                                  const char           *code,
                                  const char * const   *libraries,
                                  double                timeout,
                                  GCancellable         *cancellable,
                                  GAsyncReadyCallback   callback,
                                  gpointer              user_data)
{
  g_return_if_fail (LLMSBX_IS_SANDBOX_SESSION (self));
  g_return_if_fail (code != NULL);

  llmsbx_session_call_async (self, llmsbx_sandbox_session_run_async, run_call, FALSE,
                             call_args_new (code, libraries, NULL, timeout), call_args_free,
                             cancellable, callback, user_data);
}

/**
 * llmsbx_sandbox_session_run_finish:
 * @self: a #LlmsbxSandboxSession
 * @result: the #GAsyncResult
 * @error: return location for a #GError
 *
 * Finishes llmsbx_sandbox_session_run_async().
 *
 * Returns: (transfer full): the result, or %NULL on error
 *
 * Since: 0.1
 */
LlmsbxExecutionResult *
llmsbx_sandbox_session_run_finish (LlmsbxSandboxSession *self,
                                   GAsyncResult         *result,
                                   GError              **error)
{
  return llmsbx_session_call_finish (self, result, llmsbx_sandbox_session_run_async, error);
}

/**
 * llmsbx_sandbox_session_execute_argv_async:
 * @self: a #LlmsbxSandboxSession
 * @argv: (array zero-terminated=1): the exact argv to run; no shell is involved
 * @workdir: (nullable): working directory, %NULL for the session's
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called with the result
 * @user_data: data for @callback
 *
 * Runs a command in a worker thread; see llmsbx_sandbox_session_execute_argv().
 * Live output is emitted in the thread-default main context of the caller.
 *
 * Since: 0.1
 */
void
llmsbx_sandbox_session_execute_argv_async (LlmsbxSandboxSession *self,
                                           const char * const   *argv,
                                           const char           *workdir,
                                           GCancellable         *cancellable,
                                           GAsyncReadyCallback   callback,
                                           gpointer              user_data)
{
  g_return_if_fail (LLMSBX_IS_SANDBOX_SESSION (self));

  llmsbx_session_call_async (self, llmsbx_sandbox_session_execute_argv_async, execute_argv_call, FALSE,
                             call_args_new (NULL, argv, workdir, 0), call_args_free,
                             cancellable, callback, user_data);
}

/**
 * llmsbx_sandbox_session_execute_argv_finish:
 * @self: a #LlmsbxSandboxSession
 * @result: the #GAsyncResult
 * @error: return location for a #GError
 *
 * Finishes llmsbx_sandbox_session_execute_argv_async().
 *
 * Returns: (transfer full): the result, or %NULL on error
 *
 * Since: 0.1
 */
LlmsbxExecutionResult *
llmsbx_sandbox_session_execute_argv_finish (LlmsbxSandboxSession *self,
                                            GAsyncResult         *result,
                                            GError              **error)
{
  return llmsbx_session_call_finish (self, result, llmsbx_sandbox_session_execute_argv_async, error);
}

/**
 * llmsbx_sandbox_session_execute_command_async:
 * @self: a #LlmsbxSandboxSession
 * @command: a shell command line, run by `sh -c` inside the sandbox
 * @workdir: (nullable): working directory, %NULL for the session's
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called with the result
 * @user_data: data for @callback
 *
 * Runs a shell command in a worker thread; see
 * llmsbx_sandbox_session_execute_command(). Live output is emitted in the
 * thread-default main context of the caller.
 *
 * Since: 0.1
 */
void
llmsbx_sandbox_session_execute_command_async (LlmsbxSandboxSession *self,
                                              const char           *command,
                                              const char           *workdir,
                                              GCancellable         *cancellable,
                                              GAsyncReadyCallback   callback,
                                              gpointer              user_data)
{
  g_return_if_fail (LLMSBX_IS_SANDBOX_SESSION (self));
  g_return_if_fail (command != NULL);

  llmsbx_session_call_async (self, llmsbx_sandbox_session_execute_command_async, execute_command_call, FALSE,
                             call_args_new (command, NULL, workdir, 0), call_args_free,
                             cancellable, callback, user_data);
}

/**
 * llmsbx_sandbox_session_execute_command_finish:
 * @self: a #LlmsbxSandboxSession
 * @result: the #GAsyncResult
 * @error: return location for a #GError
 *
 * Finishes llmsbx_sandbox_session_execute_command_async().
 *
 * Returns: (transfer full): the result, or %NULL on error
 *
 * Since: 0.1
 */
LlmsbxExecutionResult *
llmsbx_sandbox_session_execute_command_finish (LlmsbxSandboxSession *self,
                                               GAsyncResult         *result,
                                               GError              **error)
{
  return llmsbx_session_call_finish (self, result, llmsbx_sandbox_session_execute_command_async, error);
}

/**
 * llmsbx_sandbox_session_install_async:
 * @self: a #LlmsbxSandboxSession
 * @libraries: (array zero-terminated=1) (nullable): package names for the language's package manager
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the libraries are installed or failed to install
 * @user_data: data for @callback
 *
 * Installs libraries in a worker thread; see llmsbx_sandbox_session_install().
 *
 * Since: 0.1
 */
void
llmsbx_sandbox_session_install_async (LlmsbxSandboxSession *self,
                                      const char * const   *libraries,
                                      GCancellable         *cancellable,
                                      GAsyncReadyCallback   callback,
                                      gpointer              user_data)
{
  g_return_if_fail (LLMSBX_IS_SANDBOX_SESSION (self));

  llmsbx_session_call_async (self, llmsbx_sandbox_session_install_async, install_call, TRUE,
                             call_args_new (NULL, libraries, NULL, 0), call_args_free,
                             cancellable, callback, user_data);
}

/**
 * llmsbx_sandbox_session_install_finish:
 * @self: a #LlmsbxSandboxSession
 * @result: the #GAsyncResult
 * @error: return location for a #GError
 *
 * Finishes llmsbx_sandbox_session_install_async().
 *
 * Returns: %TRUE when every library was installed
 *
 * Since: 0.1
 */
gboolean
llmsbx_sandbox_session_install_finish (LlmsbxSandboxSession *self,
                                       GAsyncResult         *result,
                                       GError              **error)
{
  return llmsbx_session_call_finish_boolean (self, result, llmsbx_sandbox_session_install_async, error);
}
