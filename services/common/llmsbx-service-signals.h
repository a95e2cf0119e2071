/* llmsbx-service-signals.h: how both services stop on SIGINT, SIGTERM and SIGHUP. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _LlmsbxServiceSignals LlmsbxServiceSignals;

LlmsbxServiceSignals *llmsbx_service_signals_new  (const char           *program,
                                                   GFunc                 stop,
                                                   gpointer              user_data);
void                  llmsbx_service_signals_free (LlmsbxServiceSignals *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (LlmsbxServiceSignals, llmsbx_service_signals_free)

G_END_DECLS
