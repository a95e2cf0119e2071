/* llmsbx-engine-backend.h: an LlmsbxBackend over the Docker Engine API, the
 * base of the docker and podman backends. */
#pragma once

#include <json-glib/json-glib.h>
#include <llmsbx.h>

#include "llmsbx-engine-client.h"

G_BEGIN_DECLS

/* The name the engine backend class is registered under, unique to each
 * plugin (its exec streams' type adds "ExecStream"): a plugin defines it
 * once with LLMSBX_ENGINE_BACKEND_TYPE_NAME_DEFINE. */
extern const char llmsbx_engine_backend_type_name[];
#define LLMSBX_ENGINE_BACKEND_TYPE_NAME_DEFINE(name) const char llmsbx_engine_backend_type_name[] = name

#define LLMSBX_TYPE_ENGINE_BACKEND (llmsbx_engine_backend_get_type ())
G_DECLARE_DERIVABLE_TYPE (LlmsbxEngineBackend, llmsbx_engine_backend, LLMSBX, ENGINE_BACKEND, LlmsbxBackend)

/**
 * LlmsbxEngineBackendClass:
 * @parent_class: the parent class
 * @engine_name: how messages name the engine ("Docker daemon")
 * @default_url: where the engine is when nothing says otherwise
 * @init_by_default: whether sandboxes get an init process (`HostConfig.Init`)
 *   unless the runtime configs say otherwise
 * @commit_path: the endpoint that commits a container to an image, taking
 *   Docker's `container`, `repo` and `tag` query
 * @config_error_prefix: (nullable): how the engine's message starts when it
 *   refuses a container's configuration with a status other than 400
 * @exec_keeps_pid: whether an ended exec's inspect still gives its process id
 *   (Docker's does; Podman's gives 0), so that 0 means it never started;
 *   without it, an exec that never started is told by the engine's own error
 *   on its stderr (Podman's `Error: ...: OCI ...`)
 * @resolve_settings: fills in where and how to connect; the default uses the
 *   backend's properties and @default_url. Subclasses read their environment here.
 * @prepare_create: last changes to a container-create body before it is sent
 *
 * The profile a subclass sets to speak to its engine.
 */
struct _LlmsbxEngineBackendClass
{
  LlmsbxBackendClass parent_class;

  const char *engine_name;
  const char *default_url;
  gboolean    init_by_default;
  const char *commit_path;
  const char *config_error_prefix;
  gboolean    exec_keeps_pid;

  gboolean (*resolve_settings) (LlmsbxEngineBackend   *self,
                                LlmsbxEngineSettings  *settings,
                                GError               **error);
  gboolean (*prepare_create)   (LlmsbxEngineBackend   *self,
                                JsonObject            *body,
                                LlmsbxContainerSpec   *spec,
                                GError               **error);
};

LlmsbxEngineClient *llmsbx_engine_backend_get_client (LlmsbxEngineBackend  *self,
                                                      GCancellable         *cancellable,
                                                      GError              **error);

G_END_DECLS
