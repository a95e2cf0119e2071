/* llmsbx-code-runner.c: the LlmsbxCodeRunner interface, how a session's code
 * reaches the sandbox and is run (see llmsbx-code-runner-private.h). */
#include "config.h"

#include "llmsbx-backend.h"
#include "llmsbx-code-runner-private.h"
#include "llmsbx-error.h"

G_DEFINE_INTERFACE (LlmsbxCodeRunner, llmsbx_code_runner, G_TYPE_OBJECT)

static gboolean
code_runner_real_prepare (LlmsbxCodeRunner  *self,
                          GCancellable      *cancellable,
                          GError           **error)
{
  return TRUE;
}

static gboolean
code_runner_real_close (LlmsbxCodeRunner  *self,
                        const char        *clean_workdir,
                        double             timeout,
                        GCancellable      *cancellable,
                        GError           **error)
{
  return TRUE;
}

static gboolean
code_runner_real_reset (LlmsbxCodeRunner  *self,
                        gboolean          *state_lost,
                        GCancellable      *cancellable,
                        GError           **error)
{
  g_set_error_literal (error, LLMSBX_ERROR, LLMSBX_ERROR_LANGUAGE_NOT_SUPPORTED,
                       "Interactive state needs the resident runner (code-runner is exec)");
  return FALSE;
}

static void
llmsbx_code_runner_default_init (LlmsbxCodeRunnerInterface *iface)
{
  iface->prepare = code_runner_real_prepare;
  iface->reset = code_runner_real_reset;
  iface->close = code_runner_real_close;
}

gboolean
llmsbx_code_runner_prepare (LlmsbxCodeRunner  *self,
                            GCancellable      *cancellable,
                            GError           **error)
{
  g_return_val_if_fail (LLMSBX_IS_CODE_RUNNER (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return LLMSBX_CODE_RUNNER_GET_IFACE (self)->prepare (self, cancellable, error);
}

gboolean
llmsbx_code_runner_run (LlmsbxCodeRunner       *self,
                        const LlmsbxCodeRun    *run,
                        LlmsbxOutputCollector  *output,
                        int                    *exit_status,
                        gboolean               *unstoppable,
                        GCancellable           *cancellable,
                        GError                **error)
{
  g_return_val_if_fail (LLMSBX_IS_CODE_RUNNER (self), FALSE);
  g_return_val_if_fail (run != NULL && run->code != NULL && run->file != NULL, FALSE);
  g_return_val_if_fail (run->commands != NULL && run->commands->len > 0, FALSE);
  g_return_val_if_fail (exit_status != NULL && unstoppable != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  *exit_status = 0;
  *unstoppable = FALSE;
  return LLMSBX_CODE_RUNNER_GET_IFACE (self)->run (self, run, output, exit_status, unstoppable,
                                                   cancellable, error);
}

gboolean
llmsbx_code_runner_close (LlmsbxCodeRunner  *self,
                          const char        *clean_workdir,
                          double             timeout,
                          GCancellable      *cancellable,
                          GError           **error)
{
  g_return_val_if_fail (LLMSBX_IS_CODE_RUNNER (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return LLMSBX_CODE_RUNNER_GET_IFACE (self)->close (self, clean_workdir, timeout, cancellable, error);
}

gboolean
llmsbx_code_runner_reset (LlmsbxCodeRunner  *self,
                          gboolean          *state_lost,
                          GCancellable      *cancellable,
                          GError           **error)
{
  gboolean dummy;

  g_return_val_if_fail (LLMSBX_IS_CODE_RUNNER (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return LLMSBX_CODE_RUNNER_GET_IFACE (self)->reset (self, state_lost ? state_lost : &dummy, cancellable, error);
}
