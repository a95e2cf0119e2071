/* llmsbx-exec-request.c: one command for a backend to run in a sandbox. */
#include "config.h"

#include "llmsbx-exec-request.h"

G_DEFINE_BOXED_TYPE (LlmsbxExecRequest, llmsbx_exec_request,
                     llmsbx_exec_request_copy, llmsbx_exec_request_free)

/**
 * llmsbx_exec_request_new:
 * @argv: (array zero-terminated=1): the command and its arguments
 *
 * Creates a request for @argv, with no extra environment, the sandbox's
 * working directory and user, and no deadline. Set the other fields directly.
 *
 * Returns: (transfer full): a new #LlmsbxExecRequest
 *
 * Since: 0.1
 */
LlmsbxExecRequest *
llmsbx_exec_request_new (const char * const *argv)
{
  LlmsbxExecRequest *self;

  g_return_val_if_fail (argv != NULL, NULL);

  self = g_new0 (LlmsbxExecRequest, 1);
  self->argv = g_strdupv ((char **) argv);
  return self;
}

/**
 * llmsbx_exec_request_copy:
 * @self: a #LlmsbxExecRequest
 *
 * Makes a deep copy of @self.
 *
 * Returns: (transfer full): a copy of @self
 *
 * Since: 0.1
 */
LlmsbxExecRequest *
llmsbx_exec_request_copy (const LlmsbxExecRequest *self)
{
  LlmsbxExecRequest *copy;

  g_return_val_if_fail (self != NULL, NULL);

  copy = g_new0 (LlmsbxExecRequest, 1);
  copy->argv = g_strdupv (self->argv);
  copy->env = g_strdupv (self->env);
  copy->workdir = g_strdup (self->workdir);
  copy->user = g_strdup (self->user);
  copy->deadline = self->deadline;
  copy->stdin_data = self->stdin_data ? g_bytes_ref (self->stdin_data) : NULL;
  return copy;
}

/**
 * llmsbx_exec_request_free:
 * @self: (nullable): a #LlmsbxExecRequest
 *
 * Frees @self and everything it holds.
 *
 * Since: 0.1
 */
void
llmsbx_exec_request_free (LlmsbxExecRequest *self)
{
  if (self == NULL)
    return;

  g_strfreev (self->argv);
  g_strfreev (self->env);
  g_free (self->workdir);
  g_free (self->user);
  g_clear_pointer (&self->stdin_data, g_bytes_unref);
  g_free (self);
}
