/* llmsbx-dbus-errors.h: the D-Bus names of the errors of sessions and services. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define LLMSBX_DBUS_ERROR_PREFIX "org.llmsbx.Sandbox1.Error."

void llmsbx_dbus_errors_register (void);

G_END_DECLS
