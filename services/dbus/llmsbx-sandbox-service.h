/* llmsbx-sandbox-service.h: org.llmsbx.Sandbox1 on a bus connection. */
#pragma once

#include <gio/gio.h>

#include "llmsbx-session-table.h"

G_BEGIN_DECLS

#define LLMSBX_SANDBOX_SERVICE_PATH "/org/llmsbx/Sandbox1"

#define LLMSBX_TYPE_SANDBOX_SERVICE (llmsbx_sandbox_service_get_type ())
G_DECLARE_FINAL_TYPE (LlmsbxSandboxService, llmsbx_sandbox_service, LLMSBX, SANDBOX_SERVICE, GObject)

LlmsbxSandboxService *llmsbx_sandbox_service_new      (LlmsbxSessionTable   *table,
                                                       goffset               max_copy_size);
gboolean              llmsbx_sandbox_service_export   (LlmsbxSandboxService *self,
                                                       GDBusConnection      *connection,
                                                       GError              **error);
void                  llmsbx_sandbox_service_unexport (LlmsbxSandboxService *self);

G_END_DECLS
