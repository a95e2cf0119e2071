/* llmsbx-code-writer-private.h: getting a run's code into the sandbox with
 * the exec that runs it, and removing it when the run is over. */
#pragma once

#include "llmsbx-backend.h"

G_BEGIN_DECLS

/* Most code carried in an exec's environment (the kernel limits one
 * environment string to 128 KiB); larger code goes on standard input. */
#define LLMSBX_CODE_CHUNK_MAX (96 * 1024)

char              *llmsbx_code_writer_new_path (const char          *workdir,
                                                const char          *extension);
char              *llmsbx_code_writer_new_run_dir (const char       *file);
char              *llmsbx_code_writer_plots_dir   (const char       *run_dir);
char             **llmsbx_code_writer_run_dir_argv (const char      *run_dir);
LlmsbxExecRequest *llmsbx_code_writer_request  (const char          *file,
                                                const char          *code,
                                                const char          *run_dir,
                                                gboolean             more_follow,
                                                const char * const  *argv,
                                                const char * const  *env);
gboolean           llmsbx_code_writer_remove_files (LlmsbxBackend       *backend,
                                                     const char          *sandbox_id,
                                                     const char          *workdir,
                                                     double               timeout,
                                                     GCancellable        *cancellable,
                                                     GError             **error);

G_END_DECLS
