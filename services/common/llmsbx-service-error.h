/* llmsbx-service-error.h: the LLMSBX_SERVICE_ERROR domain of the services. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define LLMSBX_SERVICE_ERROR (llmsbx_service_error_quark ())

/**
 * LlmsbxServiceError:
 * @LLMSBX_SERVICE_ERROR_NO_SUCH_SESSION: no session of that id is open.
 * @LLMSBX_SERVICE_ERROR_ACCESS_DENIED: the session belongs to another client.
 * @LLMSBX_SERVICE_ERROR_LIMIT_REACHED: the service runs as many sandboxes, or
 *   the client holds as many sessions, as it allows.
 * @LLMSBX_SERVICE_ERROR_SHUTTING_DOWN: the service is stopping and takes no new work.
 *
 * Failures of the services (llmsbx mcp, llmsbx-daemon) that are not failures
 * of a session, which keep their %LLMSBX_ERROR codes.
 */
typedef enum {
  LLMSBX_SERVICE_ERROR_NO_SUCH_SESSION,
  LLMSBX_SERVICE_ERROR_ACCESS_DENIED,
  LLMSBX_SERVICE_ERROR_LIMIT_REACHED,
  LLMSBX_SERVICE_ERROR_SHUTTING_DOWN,
} LlmsbxServiceError;

GQuark llmsbx_service_error_quark (void);

G_END_DECLS
