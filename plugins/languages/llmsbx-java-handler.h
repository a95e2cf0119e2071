/* llmsbx-java-handler.h: the Java language handler. */
#pragma once

#include <llmsbx.h>

G_BEGIN_DECLS

#define LLMSBX_TYPE_JAVA_HANDLER (llmsbx_java_handler_get_type ())
G_DECLARE_FINAL_TYPE (LlmsbxJavaHandler, llmsbx_java_handler, LLMSBX, JAVA_HANDLER, LlmsbxLanguageConfig)

LlmsbxLanguageHandler *llmsbx_java_handler_new (void);

G_END_DECLS
