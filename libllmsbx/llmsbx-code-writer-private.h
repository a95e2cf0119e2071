/* llmsbx-code-writer-private.h: getting a run's code into the sandbox through
 * the environment of execs, without archive uploads. */
#pragma once

#include "llmsbx-backend.h"

G_BEGIN_DECLS

/* Most code carried by one exec (the kernel limits one environment string to
 * 128 KiB). */
#define LLMSBX_CODE_CHUNK_MAX (96 * 1024)

char    *llmsbx_code_writer_new_path     (const char          *workdir,
                                          const char          *extension);
void     llmsbx_code_writer_wrap         (const char          *file,
                                          gboolean             first_chunk,
                                          const char          *chunk,
                                          gsize                chunk_length,
                                          const char * const  *argv,
                                          const char * const  *env,
                                          char              ***out_argv,
                                          char              ***out_env);
gboolean llmsbx_code_writer_send_leading (LlmsbxBackend       *backend,
                                          const char          *sandbox_id,
                                          const char          *workdir,
                                          const char          *file,
                                          const char          *code,
                                          const char * const  *env,
                                          double               timeout,
                                          gsize               *last_chunk,
                                          GCancellable        *cancellable,
                                          GError             **error);
gboolean llmsbx_code_writer_remove_files (LlmsbxBackend       *backend,
                                          const char          *sandbox_id,
                                          const char          *workdir,
                                          double               timeout,
                                          GCancellable        *cancellable,
                                          GError             **error);

G_END_DECLS
