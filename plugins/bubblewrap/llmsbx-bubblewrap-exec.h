/* llmsbx-bubblewrap-exec.h: running one command in a bubblewrap sandbox. */
#pragma once

#include <llmsbx.h>

#include "llmsbx-bubblewrap-sandbox.h"

G_BEGIN_DECLS

gboolean llmsbx_bubblewrap_exec (LlmsbxBubblewrapSandbox  *sandbox,
                                 LlmsbxExecRequest        *request,
                                 LlmsbxOutputCollector    *output,
                                 int                      *exit_status,
                                 GCancellable             *cancellable,
                                 GError                  **error);

G_END_DECLS
