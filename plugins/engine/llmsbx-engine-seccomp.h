/* llmsbx-engine-seccomp.h: an engine's seccomp profile, changed to refuse new
 * user namespaces as Docker's default profile does. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

char *llmsbx_engine_seccomp_without_user_namespaces (const char  *profile,
                                                     gsize        length,
                                                     GError     **error);

G_END_DECLS
