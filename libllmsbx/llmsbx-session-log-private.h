/* llmsbx-session-log-private.h: the session's log, as structured records and as a signal. */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

/* The field that carries the session's id in the records of its log. */
#define LLMSBX_LOG_FIELD_SESSION_ID "LLMSBX_SESSION_ID"

void llmsbx_session_log_install_signal (GObjectClass *klass);

void llmsbx_session_invoke_in_context (GMainContext   *context,
                                       GSourceFunc     func,
                                       gpointer        data,
                                       GDestroyNotify  notify);

void llmsbx_session_log_message (GObject      *session,
                                 const char   *session_id,
                                 gboolean      verbose,
                                 GMainContext *context,
                                 const char   *message);

G_END_DECLS
