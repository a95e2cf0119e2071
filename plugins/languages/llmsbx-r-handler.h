/* llmsbx-r-handler.h: the R language handler. */
#pragma once

#include <llmsbx.h>

G_BEGIN_DECLS

#define LLMSBX_TYPE_R_HANDLER (llmsbx_r_handler_get_type ())
G_DECLARE_FINAL_TYPE (LlmsbxRHandler, llmsbx_r_handler, LLMSBX, R_HANDLER, LlmsbxLanguageConfig)

LlmsbxLanguageHandler *llmsbx_r_handler_new (void);

G_END_DECLS
