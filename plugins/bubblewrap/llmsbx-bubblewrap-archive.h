/* llmsbx-bubblewrap-archive.h: tar archives into and out of a bubblewrap sandbox. */
#pragma once

#include <llmsbx.h>

#include "llmsbx-bubblewrap-sandbox.h"

G_BEGIN_DECLS

gboolean  llmsbx_bubblewrap_put_archive (LlmsbxBubblewrapSandbox  *sandbox,
                                         const char               *dest_dir,
                                         GBytes                   *archive,
                                         GCancellable             *cancellable,
                                         GError                  **error);
GBytes   *llmsbx_bubblewrap_get_archive (LlmsbxBubblewrapSandbox  *sandbox,
                                         const char               *path,
                                         GCancellable             *cancellable,
                                         GError                  **error);
gboolean  llmsbx_bubblewrap_get_archive_to_stream (LlmsbxBubblewrapSandbox  *sandbox,
                                                   const char               *path,
                                                   GOutputStream            *output,
                                                   GCancellable             *cancellable,
                                                   GError                  **error);

G_END_DECLS
