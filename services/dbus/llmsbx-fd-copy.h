/* llmsbx-fd-copy.h: files between a caller's descriptor and the daemon's staging area. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* How long one copy may wait on a caller's descriptor. */
#define LLMSBX_FD_COPY_TIMEOUT_SECONDS 120

gboolean  llmsbx_fd_copy_check          (int            fd,
                                         gboolean       for_writing,
                                         GError       **error);
char     *llmsbx_fd_copy_make_staging   (GError       **error);
void      llmsbx_fd_copy_remove_staging (const char    *staging);
char     *llmsbx_fd_copy_in             (int            fd,
                                         const char    *staging,
                                         goffset        max_size,
                                         GCancellable  *cancellable,
                                         GError       **error);
gboolean  llmsbx_fd_copy_out            (const char    *path,
                                         int            fd,
                                         GCancellable  *cancellable,
                                         GError       **error);

G_END_DECLS
