/* llmsbx-service-error.c: the LLMSBX_SERVICE_ERROR domain of the services. */
#include "llmsbx-service-error.h"

G_DEFINE_QUARK (llmsbx-service-error-quark, llmsbx_service_error)
