/* llmsbx-go-handler.h: the Go language handler. */
#pragma once

#include <llmsbx.h>

G_BEGIN_DECLS

#define LLMSBX_TYPE_GO_HANDLER (llmsbx_go_handler_get_type ())
G_DECLARE_FINAL_TYPE (LlmsbxGoHandler, llmsbx_go_handler, LLMSBX, GO_HANDLER, LlmsbxLanguageConfig)

LlmsbxLanguageHandler *llmsbx_go_handler_new (void);

G_END_DECLS
