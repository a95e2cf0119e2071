/* llmsbx-docker-backend.c: the Docker Engine API backend.
 *
 * Everything but where the daemon is lives in LlmsbxEngineBackend. Like the
 * docker CLI and docker-py, the daemon is found through DOCKER_HOST,
 * DOCKER_TLS_VERIFY and DOCKER_CERT_PATH; the backend's own url and tls-*
 * properties, when set, win over the environment. */
#include "llmsbx-docker-backend.h"

/**
 * LlmsbxDockerBackend:
 *
 * Runs sandboxes as Docker containers, over the Engine API on a unix socket,
 * plain TCP or TCP with TLS.
 */
struct _LlmsbxDockerBackend
{
  LlmsbxEngineBackend parent_instance;
};

LLMSBX_ENGINE_BACKEND_TYPE_NAME_DEFINE ("LlmsbxDockerEngineBackend");

G_DEFINE_FINAL_TYPE (LlmsbxDockerBackend, llmsbx_docker_backend, LLMSBX_TYPE_ENGINE_BACKEND)

static void
take_file_if_present (char      **slot,
                      const char *dir,
                      const char *name)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);

  if (g_file_test (path, G_FILE_TEST_EXISTS))
    *slot = g_steal_pointer (&path);
}

static gboolean
llmsbx_docker_backend_resolve_settings (LlmsbxEngineBackend   *engine,
                                        LlmsbxEngineSettings  *settings,
                                        GError               **error)
{
  LlmsbxBackend *backend = LLMSBX_BACKEND (engine);
  const char *host = g_getenv ("DOCKER_HOST");
  const char *verify = g_getenv ("DOCKER_TLS_VERIFY");
  const char *cert_path = g_getenv ("DOCKER_CERT_PATH");
  gboolean env_verify = verify != NULL && *verify != '\0';

  if (!LLMSBX_ENGINE_BACKEND_CLASS (llmsbx_docker_backend_parent_class)->resolve_settings (engine, settings, error))
    return FALSE;

  if (llmsbx_backend_get_url (backend) == NULL && host != NULL && *host != '\0')
    {
      g_free (settings->url);
      settings->url = g_strdup (host);
    }

  /* TLS from the environment, as docker-py reads it: on when DOCKER_TLS_VERIFY
   * or DOCKER_CERT_PATH is set, verifying only with DOCKER_TLS_VERIFY. */
  if (!settings->use_tls && (env_verify || (cert_path != NULL && *cert_path != '\0')))
    {
      g_autofree char *dir = cert_path && *cert_path
                             ? g_strdup (cert_path)
                             : g_build_filename (g_get_home_dir (), ".docker", NULL);

      take_file_if_present (&settings->tls_ca_file, dir, "ca.pem");
      take_file_if_present (&settings->tls_cert_file, dir, "cert.pem");
      take_file_if_present (&settings->tls_key_file, dir, "key.pem");
      settings->use_tls = TRUE;
      settings->tls_verify = settings->tls_verify && env_verify;
    }

  return TRUE;
}

static void
llmsbx_docker_backend_class_init (LlmsbxDockerBackendClass *klass)
{
  LlmsbxEngineBackendClass *engine_class = LLMSBX_ENGINE_BACKEND_CLASS (klass);

  engine_class->engine_name = "Docker daemon";
  engine_class->default_url = "unix:///var/run/docker.sock";
  /* docker-init as PID 1 reaps zombies and makes stopping instant. */
  engine_class->init_by_default = TRUE;
  engine_class->exec_keeps_pid = TRUE;
  engine_class->resolve_settings = llmsbx_docker_backend_resolve_settings;
}

static void
llmsbx_docker_backend_init (LlmsbxDockerBackend *self)
{
}
