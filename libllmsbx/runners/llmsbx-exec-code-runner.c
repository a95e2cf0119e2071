/* llmsbx-exec-code-runner.c: the first LlmsbxCodeRunner, the code travelling
 * with the exec that runs it.
 *
 * Each command of a run is one exec through llmsbx-guarded-exec.c; the first
 * is wrapped by llmsbx-code-writer.c so that it writes the code file first
 * (the code in the exec's environment up to LLMSBX_CODE_CHUNK_MAX, on its
 * standard input beyond), and the file goes with the last command or the
 * first that fails. Nothing runs in the sandbox between runs, so preparing
 * costs nothing and closing only removes the code directory before a
 * commit. */
#include "config.h"

#include "llmsbx-code-runner-private.h"
#include "llmsbx-code-writer-private.h"
#include "llmsbx-error.h"
#include "llmsbx-guarded-exec-private.h"

struct _LlmsbxExecCodeRunner
{
  GObject parent_instance;

  LlmsbxBackend *backend;
  char          *sandbox_id;
};

static void llmsbx_exec_code_runner_iface_init (LlmsbxCodeRunnerInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (LlmsbxExecCodeRunner, llmsbx_exec_code_runner, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (LLMSBX_TYPE_CODE_RUNNER,
                                                      llmsbx_exec_code_runner_iface_init))

static gboolean
exec_code_runner_run (LlmsbxCodeRunner       *runner,
                      const LlmsbxCodeRun    *run,
                      LlmsbxOutputCollector  *output,
                      int                    *exit_status,
                      gboolean               *unstoppable,
                      GCancellable           *cancellable,
                      GError                **error)
{
  LlmsbxExecCodeRunner *self = LLMSBX_EXEC_CODE_RUNNER (runner);

  if (run->interactive)
    {
      g_set_error_literal (error, LLMSBX_ERROR, LLMSBX_ERROR_LANGUAGE_NOT_SUPPORTED,
                           "Interactive runs need the resident runner (code-runner is exec)");
      return FALSE;
    }

  for (guint i = 0; i < run->commands->len; i++)
    {
      const char * const *argv = g_ptr_array_index (run->commands, i);
      g_autoptr(LlmsbxExecRequest) request = NULL;

      if (run->log != NULL)
        {
          g_autofree char *shown = g_strjoinv (" ", (char **) argv);

          run->log (shown, run->log_data);
        }

      request = llmsbx_code_writer_request (run->file, i == 0 ? run->code : NULL, run->run_dir,
                                            i + 1 < run->commands->len, argv, run->env);
      request->workdir = g_strdup (run->workdir);
      request->deadline = run->deadline != 0 ? run->deadline : llmsbx_guarded_exec_deadline (run->timeout);

      if (!llmsbx_guarded_exec_request (self->backend, self->sandbox_id, request, run->timeout,
                                        output, exit_status, unstoppable, cancellable, error))
        return FALSE;

      if (*exit_status != 0)
        break;
    }

  return TRUE;
}

static gboolean
exec_code_runner_close (LlmsbxCodeRunner  *runner,
                        const char        *clean_workdir,
                        double             timeout,
                        GCancellable      *cancellable,
                        GError           **error)
{
  LlmsbxExecCodeRunner *self = LLMSBX_EXEC_CODE_RUNNER (runner);

  if (clean_workdir == NULL)
    return TRUE;
  return llmsbx_code_writer_remove_files (self->backend, self->sandbox_id, clean_workdir, timeout,
                                          cancellable, error);
}

static void
llmsbx_exec_code_runner_iface_init (LlmsbxCodeRunnerInterface *iface)
{
  iface->run = exec_code_runner_run;
  iface->close = exec_code_runner_close;
}

static void
llmsbx_exec_code_runner_finalize (GObject *object)
{
  LlmsbxExecCodeRunner *self = LLMSBX_EXEC_CODE_RUNNER (object);

  g_clear_object (&self->backend);
  g_free (self->sandbox_id);

  G_OBJECT_CLASS (llmsbx_exec_code_runner_parent_class)->finalize (object);
}

static void
llmsbx_exec_code_runner_class_init (LlmsbxExecCodeRunnerClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = llmsbx_exec_code_runner_finalize;
}

static void
llmsbx_exec_code_runner_init (LlmsbxExecCodeRunner *self)
{
}

/* A runner for the sandbox @sandbox_id of @backend. */
LlmsbxCodeRunner *
llmsbx_exec_code_runner_new (LlmsbxBackend *backend,
                             const char    *sandbox_id)
{
  LlmsbxExecCodeRunner *self;

  g_return_val_if_fail (LLMSBX_IS_BACKEND (backend), NULL);
  g_return_val_if_fail (sandbox_id != NULL, NULL);

  self = g_object_new (LLMSBX_TYPE_EXEC_CODE_RUNNER, NULL);
  self->backend = g_object_ref (backend);
  self->sandbox_id = g_strdup (sandbox_id);
  return LLMSBX_CODE_RUNNER (self);
}
