/* llmsbx-bubblewrap-seccomp.h: the system-call filter of every bubblewrap sandbox. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

int llmsbx_bubblewrap_seccomp_program (GError **error);

G_END_DECLS
