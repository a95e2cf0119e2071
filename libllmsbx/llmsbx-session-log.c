/* llmsbx-session-log.c: the session's log, as structured records and as a signal.
 *
 * Every line of a session's log (what #LlmsbxSandboxSession:verbose shows) is
 * a GLib structured log record in the `Llmsbx` domain, with the session's id
 * in a field of its own, so that journald, G_MESSAGES_DEBUG and any writer
 * see it; and it is emitted as #LlmsbxSandboxSession::log for callers that
 * want their session's lines only (the Python overrides' `logger=`). The
 * signal is emitted where #LlmsbxSandboxSession::output is: in the caller's
 * main context for `_async` calls, so that GJS and other single-threaded
 * bindings receive it on their own thread.
 *
 * The lines are written by the session, which logs what it does (images,
 * commands, exit statuses, copies), never the values of the environment,
 * connection secrets or output. */
#include "config.h"

#include "llmsbx-session-log-private.h"

static guint log_signal;

/**
 * LlmsbxSandboxSession::log:
 * @session: the session
 * @level: the #GLogLevelFlags of the line (GLib has no #GType for them,
 *   so it travels as a number): %G_LOG_LEVEL_MESSAGE when
 *   #LlmsbxSandboxSession:verbose is set, %G_LOG_LEVEL_DEBUG otherwise
 * @session_id: (nullable): the session's id (a new one at every open, the
 *   value of the `io.llmsbx.session` label of its sandbox); %NULL before
 *   the session was first opened
 * @message: the line, without the id
 *
 * Emitted for every line of the session's log, which also goes to GLib's
 * structured log (domain `Llmsbx`, the id in the field `LLMSBX_SESSION_ID`).
 * Calls made with `_async` emit it in the thread-default main context of
 * their caller, synchronous calls in their own thread.
 *
 * Since: 0.1
 */
void
llmsbx_session_log_install_signal (GObjectClass *klass)
{
  log_signal = g_signal_new ("log", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                             G_TYPE_NONE, 3, G_TYPE_UINT, G_TYPE_STRING, G_TYPE_STRING);
}

typedef struct {
  GObject        *session;
  GLogLevelFlags  level;
  char           *session_id;
  char           *message;
} LogEmission;

static void
log_emission_free (gpointer data)
{
  LogEmission *emission = data;

  g_object_unref (emission->session);
  g_free (emission->session_id);
  g_free (emission->message);
  g_free (emission);
}

static gboolean
emit_in_context (gpointer data)
{
  LogEmission *emission = data;

  g_signal_emit (emission->session, log_signal, 0, (guint) emission->level,
                 emission->session_id, emission->message);
  return G_SOURCE_REMOVE;
}

/* Unlike g_main_context_invoke_full(), which calls @func at once in a thread
 * that can acquire @context (a worker, while the caller's loop is not
 * running yet), this always runs it where @context is dispatched. */
void
llmsbx_session_invoke_in_context (GMainContext   *context,
                                  GSourceFunc     func,
                                  gpointer        data,
                                  GDestroyNotify  notify)
{
  g_autoptr(GSource) source = g_idle_source_new ();

  g_source_set_priority (source, G_PRIORITY_DEFAULT);
  g_source_set_callback (source, func, data, notify);
  g_source_set_static_name (source, "[llmsbx] session emission");
  g_source_attach (source, context);
}

void
llmsbx_session_log_message (GObject      *session,
                            const char   *session_id,
                            gboolean      verbose,
                            GMainContext *context,
                            const char   *message)
{
  GLogLevelFlags level = verbose ? G_LOG_LEVEL_MESSAGE : G_LOG_LEVEL_DEBUG;
  const char *shown_id = session_id != NULL ? session_id : "session";

  /* Verbose sessions log at message level so the log shows without
   * G_MESSAGES_DEBUG; others keep the same lines at debug level. */
  g_log_structured (G_LOG_DOMAIN, level,
                    LLMSBX_LOG_FIELD_SESSION_ID, shown_id,
                    "MESSAGE", "[%s] %s", shown_id, message);

  if (!g_signal_has_handler_pending (session, log_signal, 0, FALSE))
    return;

  if (context == NULL)
    {
      g_signal_emit (session, log_signal, 0, (guint) level, session_id, message);
    }
  else
    {
      LogEmission *emission = g_new0 (LogEmission, 1);

      emission->session = g_object_ref (session);
      emission->level = level;
      emission->session_id = g_strdup (session_id);
      emission->message = g_strdup (message);
      llmsbx_session_invoke_in_context (context, emit_in_context, emission, log_emission_free);
    }
}
