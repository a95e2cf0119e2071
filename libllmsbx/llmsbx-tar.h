/* llmsbx-tar.h: tar archives between the host and a sandbox, for the
 * session and for backends that move files as archives. */
#pragma once

#if !defined(LLMSBX_INSIDE) && !defined(LLMSBX_COMPILATION)
#error "Only <llmsbx.h> can be included directly."
#endif

#include <glib.h>
#include "llmsbx-visibility.h"

G_BEGIN_DECLS

LLMSBX_AVAILABLE_IN_ALL
GBytes   *llmsbx_tar_pack_path          (const char    *host_path,
                                         const char    *archive_name,
                                         guint64        max_size,
                                         GError       **error);
LLMSBX_AVAILABLE_IN_ALL
GBytes   *llmsbx_tar_pack_contents      (const char    *host_dir,
                                         const char    *extra_name,
                                         GBytes        *extra_data,
                                         guint64        max_size,
                                         GError       **error);
LLMSBX_AVAILABLE_IN_ALL
gboolean  llmsbx_tar_extract            (GBytes        *archive,
                                         const char    *dest_path,
                                         GError       **error);
LLMSBX_AVAILABLE_IN_ALL
gboolean  llmsbx_tar_extract_fd         (int            fd,
                                         const char    *dest_path,
                                         GError       **error);
LLMSBX_AVAILABLE_IN_ALL
gboolean  llmsbx_container_path_is_safe (const char    *path,
                                         GError       **error);
LLMSBX_AVAILABLE_IN_ALL
gboolean  llmsbx_container_path_split   (const char    *path,
                                         char         **out_parent,
                                         char         **out_name,
                                         GError       **error);

G_END_DECLS
