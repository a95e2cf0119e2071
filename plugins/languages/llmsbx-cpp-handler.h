/* llmsbx-cpp-handler.h: the C++ language handler. */
#pragma once

#include <llmsbx.h>

G_BEGIN_DECLS

#define LLMSBX_TYPE_CPP_HANDLER (llmsbx_cpp_handler_get_type ())
G_DECLARE_FINAL_TYPE (LlmsbxCppHandler, llmsbx_cpp_handler, LLMSBX, CPP_HANDLER, LlmsbxLanguageConfig)

LlmsbxLanguageHandler *llmsbx_cpp_handler_new (void);

G_END_DECLS
