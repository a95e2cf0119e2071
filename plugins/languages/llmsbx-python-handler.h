/* llmsbx-python-handler.h: the Python language handler. */
#pragma once

#include <llmsbx.h>

G_BEGIN_DECLS

#define LLMSBX_TYPE_PYTHON_HANDLER (llmsbx_python_handler_get_type ())
G_DECLARE_FINAL_TYPE (LlmsbxPythonHandler, llmsbx_python_handler, LLMSBX, PYTHON_HANDLER, LlmsbxLanguageConfig)

LlmsbxLanguageHandler *llmsbx_python_handler_new (void);

G_END_DECLS
