/* llmsbx-bubblewrap-cleanup.h: removing what a bubblewrap sandbox leaves on the host. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

gboolean llmsbx_bubblewrap_remove_tree (const char  *path,
                                        GError     **error);

G_END_DECLS
