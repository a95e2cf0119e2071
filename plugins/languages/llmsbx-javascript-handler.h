/* llmsbx-javascript-handler.h: the JavaScript (Node.js) language handler. */
#pragma once

#include <llmsbx.h>

G_BEGIN_DECLS

#define LLMSBX_TYPE_JAVASCRIPT_HANDLER (llmsbx_javascript_handler_get_type ())
G_DECLARE_FINAL_TYPE (LlmsbxJavascriptHandler, llmsbx_javascript_handler, LLMSBX, JAVASCRIPT_HANDLER, LlmsbxLanguageConfig)

LlmsbxLanguageHandler *llmsbx_javascript_handler_new (void);

G_END_DECLS
