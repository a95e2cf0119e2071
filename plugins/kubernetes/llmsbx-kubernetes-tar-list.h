/* llmsbx-kubernetes-tar-list.h: the entries of a tar archive (names and
 * whether each is a directory), read from its headers, so the pod can
 * check before unpacking that nothing would replace a directory with a
 * file or the reverse. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Lines "d NAME" or "f NAME", one per entry; names with a newline are left
 * out. NULL when the archive is not a tar archive. */
GString *llmsbx_kube_tar_list (GBytes *archive);

G_END_DECLS
