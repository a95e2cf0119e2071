/* llmsbx-output-collector.h: where a backend puts the output of an exec.
 *
 * Backends append raw bytes as they arrive; the collector keeps up to a
 * limit per stream (setting a truncated flag past it) and passes every chunk
 * on to a live-output callback. */
#pragma once

#if !defined(LLMSBX_INSIDE) && !defined(LLMSBX_COMPILATION)
#error "Only <llmsbx.h> can be included directly."
#endif

#include <glib-object.h>
#include "llmsbx-visibility.h"

G_BEGIN_DECLS

/**
 * LlmsbxOutputStream:
 * @LLMSBX_OUTPUT_STREAM_STDOUT: standard output.
 * @LLMSBX_OUTPUT_STREAM_STDERR: standard error.
 *
 * Which output stream a chunk of output came from.
 *
 * Since: 0.1
 */
typedef enum {
  LLMSBX_OUTPUT_STREAM_STDOUT = 1,
  LLMSBX_OUTPUT_STREAM_STDERR = 2,
} LlmsbxOutputStream;

/**
 * LlmsbxOutputFunc:
 * @stream: the stream the chunk belongs to
 * @data: (array length=length) (element-type guint8): the bytes
 * @length: number of bytes in @data
 * @user_data: closure data
 *
 * Receives output as it arrives.
 *
 * Since: 0.1
 */
typedef void (*LlmsbxOutputFunc) (LlmsbxOutputStream stream,
                                  const guint8      *data,
                                  gsize              length,
                                  gpointer           user_data);

#define LLMSBX_TYPE_OUTPUT_COLLECTOR (llmsbx_output_collector_get_type ())
LLMSBX_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (LlmsbxOutputCollector, llmsbx_output_collector, LLMSBX, OUTPUT_COLLECTOR, GObject)

LLMSBX_AVAILABLE_IN_ALL
LlmsbxOutputCollector *llmsbx_output_collector_new (gsize limit);
LLMSBX_AVAILABLE_IN_ALL
void      llmsbx_output_collector_set_func   (LlmsbxOutputCollector *self,
                                              LlmsbxOutputFunc       func,
                                              gpointer               user_data,
                                              GDestroyNotify         notify);
LLMSBX_AVAILABLE_IN_ALL
void      llmsbx_output_collector_append     (LlmsbxOutputCollector *self,
                                              LlmsbxOutputStream     stream,
                                              const guint8          *data,
                                              gsize                  length);
LLMSBX_AVAILABLE_IN_ALL
GBytes   *llmsbx_output_collector_steal_bytes (LlmsbxOutputCollector *self,
                                               LlmsbxOutputStream     stream);
LLMSBX_AVAILABLE_IN_ALL
gsize     llmsbx_output_collector_get_length (LlmsbxOutputCollector *self,
                                              LlmsbxOutputStream     stream);
LLMSBX_AVAILABLE_IN_ALL
gboolean  llmsbx_output_collector_get_truncated (LlmsbxOutputCollector *self);
LLMSBX_AVAILABLE_IN_ALL
gsize     llmsbx_output_collector_get_limit  (LlmsbxOutputCollector *self);

G_END_DECLS
