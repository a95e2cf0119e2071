/* llmsbx-engine-mux.h: parser of the Engine API's exec output stream. */
#pragma once

#include <llmsbx.h>

G_BEGIN_DECLS

/**
 * LlmsbxEngineMuxMode:
 * @LLMSBX_ENGINE_MUX_MULTIPLEXED: frames of `[stream, 0, 0, 0, size (uint32 BE)]` + payload,
 *   as sent for execs without a TTY
 * @LLMSBX_ENGINE_MUX_RAW: the bytes as they are (TTY execs); all of it is stdout
 */
typedef enum {
  LLMSBX_ENGINE_MUX_MULTIPLEXED,
  LLMSBX_ENGINE_MUX_RAW,
} LlmsbxEngineMuxMode;

typedef struct _LlmsbxEngineMux LlmsbxEngineMux;

LlmsbxEngineMux *llmsbx_engine_mux_new    (LlmsbxEngineMuxMode  mode,
                                           LlmsbxOutputFunc     func,
                                           gpointer             user_data);
void             llmsbx_engine_mux_free   (LlmsbxEngineMux     *self);
gboolean         llmsbx_engine_mux_feed   (LlmsbxEngineMux     *self,
                                           const guint8        *data,
                                           gsize                length,
                                           GError             **error);
gboolean         llmsbx_engine_mux_finish (LlmsbxEngineMux     *self,
                                           GError             **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (LlmsbxEngineMux, llmsbx_engine_mux_free)

G_END_DECLS
