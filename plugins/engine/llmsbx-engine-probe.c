/* llmsbx-engine-probe.c: whether an engine answers here, cheaply.
 *
 * The registry probes the backends by rank when a session names none, so a
 * probe must cost little even when nothing listens: one ping on a client of
 * its own, with a connect timeout of at most PROBE_TIMEOUT_S. It leaves the
 * backend's own client alone, which keeps the timeout the user configured. */
#undef G_LOG_DOMAIN
#define G_LOG_DOMAIN "Llmsbx-Engine"

#include "llmsbx-engine-backend-private.h"

/* A daemon that is there answers a ping on its socket in milliseconds. */
#define PROBE_TIMEOUT_S 1.0

static void
count_request (gpointer backend)
{
  llmsbx_backend_count_request (LLMSBX_BACKEND (backend));
}

gboolean
llmsbx_engine_backend_probe (LlmsbxBackend  *backend,
                             GCancellable   *cancellable,
                             GError        **error)
{
  LlmsbxEngineBackend *self = LLMSBX_ENGINE_BACKEND (backend);
  LlmsbxEngineBackendClass *klass = LLMSBX_ENGINE_BACKEND_GET_CLASS (self);
  LlmsbxEngineSettings settings = { 0, };
  g_autoptr(LlmsbxEngineClient) client = NULL;
  gboolean usable;

  if (!klass->resolve_settings (self, &settings, error))
    {
      llmsbx_engine_settings_clear (&settings);
      return FALSE;
    }
  if (settings.connect_timeout <= 0 || settings.connect_timeout > PROBE_TIMEOUT_S)
    settings.connect_timeout = PROBE_TIMEOUT_S;

  client = llmsbx_engine_client_new (&settings, klass->engine_name, count_request, self, error);
  usable = client != NULL && llmsbx_engine_client_negotiate (client, cancellable, error);
  llmsbx_engine_settings_clear (&settings);
  return usable;
}
