/* llmsbx-artifact-sandbox-session.h: a session whose runs bring back the
 * plots their code makes. */
#pragma once

#if !defined(LLMSBX_INSIDE) && !defined(LLMSBX_COMPILATION)
#error "Only <llmsbx.h> can be included directly."
#endif

#include "llmsbx-sandbox-session.h"

G_BEGIN_DECLS

/**
 * LLMSBX_DEFAULT_MAX_PLOTS:
 *
 * Plots a run of an #LlmsbxArtifactSandboxSession brings back by default.
 *
 * Since: 0.1
 */
#define LLMSBX_DEFAULT_MAX_PLOTS 64

/**
 * LLMSBX_DEFAULT_MAX_PLOT_BYTES:
 *
 * Bytes of plots a run of an #LlmsbxArtifactSandboxSession brings back by
 * default (64 MiB).
 *
 * Since: 0.1
 */
#define LLMSBX_DEFAULT_MAX_PLOT_BYTES (G_GUINT64_CONSTANT (64) << 20)

/**
 * LLMSBX_DEFAULT_MAX_FILES:
 *
 * Output files a run of an #LlmsbxArtifactSandboxSession brings back by default.
 *
 * Since: 0.1
 */
#define LLMSBX_DEFAULT_MAX_FILES 256

/**
 * LLMSBX_DEFAULT_MAX_FILE_BYTES:
 *
 * Bytes of output files a run of an #LlmsbxArtifactSandboxSession brings back
 * by default (64 MiB).
 *
 * Since: 0.1
 */
#define LLMSBX_DEFAULT_MAX_FILE_BYTES (G_GUINT64_CONSTANT (64) << 20)

#define LLMSBX_TYPE_ARTIFACT_SANDBOX_SESSION (llmsbx_artifact_sandbox_session_get_type ())
LLMSBX_AVAILABLE_IN_ALL
G_DECLARE_DERIVABLE_TYPE (LlmsbxArtifactSandboxSession, llmsbx_artifact_sandbox_session,
                          LLMSBX, ARTIFACT_SANDBOX_SESSION, LlmsbxSandboxSession)

/**
 * LlmsbxArtifactSandboxSessionClass:
 * @parent_class: the parent class
 *
 * The class of artifact sessions.
 *
 * Since: 0.1
 */
struct _LlmsbxArtifactSandboxSessionClass
{
  LlmsbxSandboxSessionClass parent_class;

  /*< private >*/
  gpointer padding[8];
};

LLMSBX_AVAILABLE_IN_ALL
LlmsbxSandboxSession *llmsbx_artifact_sandbox_session_new (const char *lang);

LLMSBX_AVAILABLE_IN_ALL
gboolean llmsbx_artifact_sandbox_session_get_enable_plotting (LlmsbxArtifactSandboxSession *self);
LLMSBX_AVAILABLE_IN_ALL
void     llmsbx_artifact_sandbox_session_set_enable_plotting (LlmsbxArtifactSandboxSession *self,
                                                              gboolean                      enable_plotting);
LLMSBX_AVAILABLE_IN_ALL
guint    llmsbx_artifact_sandbox_session_get_max_plots       (LlmsbxArtifactSandboxSession *self);
LLMSBX_AVAILABLE_IN_ALL
guint64  llmsbx_artifact_sandbox_session_get_max_plot_bytes  (LlmsbxArtifactSandboxSession *self);

G_END_DECLS
