/* llmsbx-reaper.h: finding and removing the sandboxes whose owner is gone. */
#pragma once

#if !defined(LLMSBX_INSIDE) && !defined(LLMSBX_COMPILATION)
#error "Only <llmsbx.h> can be included directly."
#endif

#include <gio/gio.h>
#include "llmsbx-visibility.h"
#include "llmsbx-backend.h"

G_BEGIN_DECLS

/**
 * LLMSBX_LABEL_OWNER_HOST:
 *
 * The label that names the host whose process created a sandbox.
 *
 * Since: 0.1
 */
#define LLMSBX_LABEL_OWNER_HOST  "io.llmsbx.owner-host"
/**
 * LLMSBX_LABEL_OWNER_PID:
 *
 * The label that holds the process id of a sandbox's owner.
 *
 * Since: 0.1
 */
#define LLMSBX_LABEL_OWNER_PID   "io.llmsbx.owner-pid"
/**
 * LLMSBX_LABEL_OWNER_START:
 *
 * The label that holds the start time of a sandbox's owner, in clock ticks
 * since boot (field 22 of `/proc/<pid>/stat`), so that a recycled process id
 * is not taken for the owner.
 *
 * Since: 0.1
 */
#define LLMSBX_LABEL_OWNER_START "io.llmsbx.owner-start"
/**
 * LLMSBX_LABEL_CREATED:
 *
 * The label that holds when a sandbox was created, in seconds since the Unix epoch.
 *
 * Since: 0.1
 */
#define LLMSBX_LABEL_CREATED     "io.llmsbx.created"

/**
 * LlmsbxReapFlags:
 * @LLMSBX_REAP_FLAGS_NONE: remove what is found
 * @LLMSBX_REAP_FLAGS_DRY_RUN: only say what would be removed
 *
 * How llmsbx_reap_sandboxes() works.
 *
 * Since: 0.1
 */
typedef enum /*< flags >*/ {
  LLMSBX_REAP_FLAGS_NONE    = 0,
  LLMSBX_REAP_FLAGS_DRY_RUN = 1 << 0,
} LlmsbxReapFlags;

LLMSBX_AVAILABLE_IN_ALL
char    **llmsbx_owner_labels             (void);

LLMSBX_AVAILABLE_IN_ALL
gboolean  llmsbx_sandbox_info_owner_is_gone (const LlmsbxSandboxInfo *info);

LLMSBX_AVAILABLE_IN_ALL
gboolean  llmsbx_reap_sandboxes           (LlmsbxBackend        *backend,
                                           const char * const   *label_selector,
                                           gint64                older_than,
                                           LlmsbxReapFlags       flags,
                                           GPtrArray           **reaped,
                                           GCancellable         *cancellable,
                                           GError              **error);

G_END_DECLS
