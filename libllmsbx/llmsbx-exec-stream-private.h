/* llmsbx-exec-stream-private.h: what the core tells a stream about its command. */
#pragma once

#include "llmsbx-backend.h"
#include "llmsbx-exec-stream.h"

G_BEGIN_DECLS

void llmsbx_exec_stream_set_origin (LlmsbxExecStream *self,
                                    LlmsbxBackend    *backend,
                                    const char       *sandbox_id,
                                    const char       *token);

G_END_DECLS
