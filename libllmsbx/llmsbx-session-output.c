/* llmsbx-session-output.c: live output, and the collectors that bound it.
 *
 * Every run and command collects its output in an LlmsbxOutputCollector
 * capped at the session's output-limit, and forwards each chunk to
 * LlmsbxSandboxSession::output as it arrives: in the calling thread, or in
 * the main context an asynchronous call was started from. */
#include "config.h"

#include "llmsbx-sandbox-session-private.h"
#include "llmsbx-enum-types.h"

enum {
  SIGNAL_OUTPUT,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

typedef struct {
  LlmsbxSandboxSession *self;
  GMainContext         *context;  /* NULL: emit in the calling thread */
} OutputClosure;

typedef struct {
  LlmsbxSandboxSession *self;
  LlmsbxOutputStream    stream;
  GBytes               *chunk;
} OutputEmission;

static gboolean
emit_output_in_context (gpointer data)
{
  OutputEmission *emission = data;

  g_signal_emit (emission->self, signals[SIGNAL_OUTPUT], 0, emission->stream, emission->chunk);
  return G_SOURCE_REMOVE;
}

static void
output_emission_free (gpointer data)
{
  OutputEmission *emission = data;

  g_object_unref (emission->self);
  g_bytes_unref (emission->chunk);
  g_free (emission);
}

static void
forward_output (LlmsbxOutputStream stream,
                const guint8      *data,
                gsize              length,
                gpointer           user_data)
{
  OutputClosure *closure = user_data;
  g_autoptr(GBytes) chunk = NULL;

  if (length == 0 || !g_signal_has_handler_pending (closure->self, signals[SIGNAL_OUTPUT], 0, FALSE))
    return;

  chunk = g_bytes_new (data, length);
  if (closure->context == NULL)
    {
      g_signal_emit (closure->self, signals[SIGNAL_OUTPUT], 0, stream, chunk);
    }
  else
    {
      OutputEmission *emission = g_new0 (OutputEmission, 1);

      emission->self = g_object_ref (closure->self);
      emission->stream = stream;
      emission->chunk = g_steal_pointer (&chunk);
      g_main_context_invoke_full (closure->context, G_PRIORITY_DEFAULT,
                                  emit_output_in_context, emission, output_emission_free);
    }
}

static void
output_closure_free (gpointer data)
{
  OutputClosure *closure = data;

  g_clear_pointer (&closure->context, g_main_context_unref);
  g_free (closure);
}

/* The context live output is delivered in: the one of the GTask when the
 * operation runs asynchronously, the calling thread otherwise. */
static GPrivate output_context_key;

LlmsbxOutputCollector *
llmsbx_session_new_collector (LlmsbxSandboxSession *self)
{
  LlmsbxSandboxSessionPrivate *priv = llmsbx_session_get_private (self);
  LlmsbxOutputCollector *collector = llmsbx_output_collector_new (priv->output_limit);
  OutputClosure *closure = g_new0 (OutputClosure, 1);
  GMainContext *context = g_private_get (&output_context_key);

  closure->self = self;
  closure->context = context ? g_main_context_ref (context) : NULL;
  llmsbx_output_collector_set_func (collector, forward_output, closure, output_closure_free);
  return collector;
}

/* Worker threads deliver live output in the context the task was started from. */
void
llmsbx_session_set_output_context (GMainContext *context)
{
  g_private_set (&output_context_key, context);
}

void
llmsbx_session_output_class_init (GObjectClass *klass)
{
  /**
   * LlmsbxSandboxSession::output:
   * @self: the session
   * @stream: which stream the chunk came from
   * @chunk: the bytes, exactly as the program wrote them
   *
   * Emitted as output arrives from a run or a command, before the call
   * returns. Handlers never change the exit status the call reports.
   *
   * Since: 0.1
   */
  signals[SIGNAL_OUTPUT] =
    g_signal_new ("output", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 2, LLMSBX_TYPE_OUTPUT_STREAM, G_TYPE_BYTES);
}
