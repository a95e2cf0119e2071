/* llmsbx-output-file.h: a file that a run's code left in its output directory. */
#pragma once

#if !defined(LLMSBX_INSIDE) && !defined(LLMSBX_COMPILATION)
#error "Only <llmsbx.h> can be included directly."
#endif

#include <glib-object.h>
#include "llmsbx-visibility.h"

G_BEGIN_DECLS

#define LLMSBX_TYPE_OUTPUT_FILE (llmsbx_output_file_get_type ())
LLMSBX_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (LlmsbxOutputFile, llmsbx_output_file, LLMSBX, OUTPUT_FILE, GObject)

LLMSBX_AVAILABLE_IN_ALL
LlmsbxOutputFile *llmsbx_output_file_new                (const char       *path,
                                                         GBytes           *content);
LLMSBX_AVAILABLE_IN_ALL
const char       *llmsbx_output_file_get_path           (LlmsbxOutputFile *self);
LLMSBX_AVAILABLE_IN_ALL
GBytes           *llmsbx_output_file_get_content        (LlmsbxOutputFile *self);
LLMSBX_AVAILABLE_IN_ALL
char             *llmsbx_output_file_get_content_base64 (LlmsbxOutputFile *self);

G_END_DECLS
