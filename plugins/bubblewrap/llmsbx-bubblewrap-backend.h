/* llmsbx-bubblewrap-backend.h: sandboxes made with bubblewrap, without a daemon. */
#pragma once

#include <llmsbx.h>

G_BEGIN_DECLS

#define LLMSBX_TYPE_BUBBLEWRAP_BACKEND (llmsbx_bubblewrap_backend_get_type ())
G_DECLARE_FINAL_TYPE (LlmsbxBubblewrapBackend, llmsbx_bubblewrap_backend, LLMSBX, BUBBLEWRAP_BACKEND, LlmsbxBackend)

/* What the contract's coming vfuncs (probe, list_sandboxes, render_preset)
 * will call; plain functions until the core has those slots. */
gboolean   llmsbx_bubblewrap_backend_probe          (LlmsbxBackend        *backend,
                                                     GCancellable         *cancellable,
                                                     GError              **error);
GPtrArray *llmsbx_bubblewrap_backend_list_sandboxes (LlmsbxBackend        *backend,
                                                     const char * const   *label_selector,
                                                     GCancellable         *cancellable,
                                                     GError              **error);

/**
 * LlmsbxBubblewrapLimits:
 *
 * The backend-neutral limits of a security preset, as the core's coming
 * LlmsbxSecurityLimits holds them; this mirror goes when that type lands.
 */
typedef struct {
  guint64   memory_bytes;
  guint     cpu_millicores;
  gint64    pids_limit;
  gboolean  network_bridge;
  gboolean  read_only_root;
  const char *user;
  const char * const *cap_drop;
  const char * const *cap_add;
  gboolean  no_new_privileges;
  const char *tmp_options;        /* tmpfs options of /tmp, or NULL */
  const char *workdir;
  guint64   workdir_tmpfs_bytes;
  const char * const *environment;
} LlmsbxBubblewrapLimits;

GVariant  *llmsbx_bubblewrap_render_limits          (const LlmsbxBubblewrapLimits *limits,
                                                     GError                      **error);

gboolean   llmsbx_bubblewrap_check_user_namespaces  (const char           *proc_sys,
                                                     guint                 uid,
                                                     GError              **error);

G_END_DECLS
