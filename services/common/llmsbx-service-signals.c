/* llmsbx-service-signals.c: how both services stop on SIGINT, SIGTERM and SIGHUP.
 *
 * The first signal asks the service to stop, which cancels what runs and
 * removes every sandbox before it exits; a second one means whoever sent it
 * will not wait, and the process exits at once, saying what it leaves. */
#include <signal.h>
#include <unistd.h>
#include <glib-unix.h>

#include "llmsbx-service-signals.h"

struct _LlmsbxServiceSignals
{
  char     *program;
  GFunc     stop;
  gpointer  user_data;
  int       received;
  guint     sources[3];
};

static gboolean
interrupt (LlmsbxServiceSignals *self,
           int                   signal_number)
{
  if (self->received == 0)
    {
      self->received = signal_number;
      self->stop (self->user_data, NULL);
      return G_SOURCE_CONTINUE;
    }

  g_printerr ("%s: interrupted again: exiting before the sandboxes are removed; "
              "leftover containers carry the label io.llmsbx.managed-by=libllmsbx\n", self->program);
  _exit (128 + signal_number);
}

static gboolean on_sigint (gpointer self) { return interrupt (self, SIGINT); }
static gboolean on_sigterm (gpointer self) { return interrupt (self, SIGTERM); }
static gboolean on_sighup (gpointer self) { return interrupt (self, SIGHUP); }

/**
 * llmsbx_service_signals_new:
 * @program: the name messages start with
 * @stop: called, with @user_data, at the first signal
 * @user_data: data for @stop
 *
 * Returns: (transfer full): the handlers, in the default main context, until freed
 */
LlmsbxServiceSignals *
llmsbx_service_signals_new (const char *program,
                            GFunc       stop,
                            gpointer    user_data)
{
  LlmsbxServiceSignals *self = g_new0 (LlmsbxServiceSignals, 1);

  self->program = g_strdup (program);
  self->stop = stop;
  self->user_data = user_data;
  self->sources[0] = g_unix_signal_add (SIGINT, on_sigint, self);
  self->sources[1] = g_unix_signal_add (SIGTERM, on_sigterm, self);
  self->sources[2] = g_unix_signal_add (SIGHUP, on_sighup, self);
  return self;
}

void
llmsbx_service_signals_free (LlmsbxServiceSignals *self)
{
  if (self == NULL)
    return;
  for (gsize i = 0; i < G_N_ELEMENTS (self->sources); i++)
    g_source_remove (self->sources[i]);
  g_free (self->program);
  g_free (self);
}
