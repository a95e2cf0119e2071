/* llmsbx-ruby-handler.h: the Ruby language handler. */
#pragma once

#include <llmsbx.h>

G_BEGIN_DECLS

#define LLMSBX_TYPE_RUBY_HANDLER (llmsbx_ruby_handler_get_type ())
G_DECLARE_FINAL_TYPE (LlmsbxRubyHandler, llmsbx_ruby_handler, LLMSBX, RUBY_HANDLER, LlmsbxLanguageConfig)

LlmsbxLanguageHandler *llmsbx_ruby_handler_new (void);

G_END_DECLS
