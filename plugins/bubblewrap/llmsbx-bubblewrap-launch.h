/* llmsbx-bubblewrap-launch.h: starting and stopping bubblewrap sandboxes. */
#pragma once

#include <llmsbx.h>

#include "llmsbx-bubblewrap-sandbox.h"

G_BEGIN_DECLS

char     *llmsbx_bubblewrap_helper_path (const char           *name,
                                         GError              **error);
char     *llmsbx_bubblewrap_launch      (const char           *bwrap,
                                         const char           *store,
                                         LlmsbxContainerSpec  *spec,
                                         GCancellable         *cancellable,
                                         GError              **error);
gboolean  llmsbx_bubblewrap_stop        (const char           *store,
                                         const char           *id,
                                         GError              **error);
gboolean  llmsbx_bubblewrap_owns        (const char           *id);

G_END_DECLS
