/* llmsbx-runner-upload-private.h: getting llmsbx-runner into a sandbox whose
 * image does not carry it: one archive upload of the host's copy. */
#pragma once

#include "llmsbx-backend.h"

G_BEGIN_DECLS

/* Where an image built from images/ carries the runner (recipe RUNNER=). */
#define LLMSBX_RUNNER_IMAGE_DIR "/usr/libexec/llmsbx"
#define LLMSBX_RUNNER_PROGRAM "llmsbx-runner"
#define LLMSBX_RUNNER_PYTHON_ADAPTER "llmsbx_runner_python.py"
#define LLMSBX_RUNNER_NODE_ADAPTER "llmsbx_runner_node.js"

char     *llmsbx_runner_find_host_dir (GError        **error);
GBytes   *llmsbx_runner_pack          (const char     *host_dir,
                                       const char     *name,
                                       GError        **error);
gboolean  llmsbx_runner_upload        (LlmsbxBackend  *backend,
                                       const char     *sandbox_id,
                                       const char     *host_dir,
                                       const char     *parent,
                                       char          **out_program,
                                       GCancellable   *cancellable,
                                       GError        **error);

G_END_DECLS
