/* llmsbx-podman-backend.c: the Podman backend.
 *
 * Podman serves the Docker Engine API next to its own (libpod) API, and the
 * compatible endpoints behave the same for everything a sandbox needs, so all
 * operations live in LlmsbxEngineBackend. This class adds where the service is
 * and what a Podman container needs at creation.
 *
 * The service is found like podman-py and the podman CLI find it: CONTAINER_HOST,
 * then the rootful socket when it exists, then the rootless one. The backend's
 * own url and tls-* properties, when set, win over all of them.
 *
 * Podman's default seccomp profile lets code create user namespaces, Docker's
 * does not; sandboxes get Podman's profile without that (see
 * llmsbx-engine-seccomp.c), so that they are the same on both engines. */
#include "llmsbx-podman-backend.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "llmsbx-engine-backend-private.h"
#include "llmsbx-engine-seccomp.h"

#define ROOTFUL_SOCKET "/run/podman/podman.sock"

/* Where Podman (containers-common) finds its default seccomp profile: the
 * first that exists. */
static const char * const default_seccomp_profiles[] = {
  "/etc/containers/seccomp.json",
  "/usr/share/containers/seccomp.json",
};

/* Podman's default ulimits (nofile 1048576) exceed the hard limits of hosts
 * that cap them lower, and raising a hard limit needs CAP_SYS_RESOURCE, so
 * without explicit ulimits container creation fails there ("error setting
 * rlimit type 7"). These values fit such hosts and are generous for a sandbox. */
static const struct
{
  const char *name;
  gint64      limit;
} default_ulimits[] = {
  { "nofile", 20000 },
  { "nproc", 4096 },
};

/**
 * LlmsbxPodmanBackend:
 *
 * Runs sandboxes as Podman containers, through the Docker-compatible API of
 * `podman system service`, rootful or rootless.
 */
struct _LlmsbxPodmanBackend
{
  LlmsbxEngineBackend parent_instance;
};

LLMSBX_ENGINE_BACKEND_TYPE_NAME_DEFINE ("LlmsbxPodmanEngineBackend");

G_DEFINE_FINAL_TYPE (LlmsbxPodmanBackend, llmsbx_podman_backend, LLMSBX_TYPE_ENGINE_BACKEND)

/* The socket a rootless service listens on. */
static char *
rootless_socket_url (void)
{
  const char *runtime_dir = g_getenv ("XDG_RUNTIME_DIR");

  if (runtime_dir != NULL && *runtime_dir != '\0')
    return g_strdup_printf ("unix://%s/podman/podman.sock", runtime_dir);
  /* Without XDG_RUNTIME_DIR, root has only the rootful socket, and others
   * the directory Podman itself falls back to. */
  if (getuid () == 0)
    return g_strdup ("unix://" ROOTFUL_SOCKET);
  return g_strdup_printf ("unix:///run/user/%u/podman/podman.sock", (guint) getuid ());
}

static gboolean
llmsbx_podman_backend_resolve_settings (LlmsbxEngineBackend   *engine,
                                        LlmsbxEngineSettings  *settings,
                                        GError               **error)
{
  LlmsbxBackend *backend = LLMSBX_BACKEND (engine);
  const char *host = g_getenv ("CONTAINER_HOST");

  if (!LLMSBX_ENGINE_BACKEND_CLASS (llmsbx_podman_backend_parent_class)->resolve_settings (engine, settings, error))
    return FALSE;
  if (llmsbx_backend_get_url (backend) != NULL)
    return TRUE;

  g_free (settings->url);
  if (host != NULL && *host != '\0')
    settings->url = g_strdup (host);
  else if (g_file_test (ROOTFUL_SOCKET, G_FILE_TEST_EXISTS))
    settings->url = g_strdup ("unix://" ROOTFUL_SOCKET);
  else
    settings->url = rootless_socket_url ();
  return TRUE;
}

static gboolean
has_ulimit (JsonArray  *ulimits,
            const char *name)
{
  for (guint i = 0; i < json_array_get_length (ulimits); i++)
    {
      JsonNode *node = json_array_get_element (ulimits, i);

      if (JSON_NODE_HOLDS_OBJECT (node) &&
          g_strcmp0 (json_object_get_string_member_with_default (json_node_get_object (node), "Name", NULL),
                     name) == 0)
        return TRUE;
    }
  return FALSE;
}

/* The numeric uid and gid of a User field ("1000", "1000:1000"); FALSE for names. */
static gboolean
numeric_user (const char *user,
              char      **uid,
              char      **gid)
{
  g_auto(GStrv) parts = g_strsplit (user, ":", 2);

  for (guint i = 0; parts[i] != NULL; i++)
    if (parts[i][0] == '\0' || strspn (parts[i], "0123456789") != strlen (parts[i]))
      return FALSE;
  *uid = g_strdup (parts[0]);
  *gid = g_strdup (parts[1]);
  return TRUE;
}

/* Podman 4.3 refuses the `uid=` and `gid=` tmpfs options Docker takes; its
 * `U` option gives a tmpfs to the container's user instead. So options that
 * name that user become `U`; other owners cannot be expressed. A user given
 * by name is taken to be the one the options name, as the presets do. */
static gboolean
rewrite_tmpfs_owner (JsonObject  *body,
                     JsonObject  *host_config,
                     GError     **error)
{
  JsonNode *node = json_object_get_member (host_config, "Tmpfs");
  const char *user = json_object_get_string_member_with_default (body, "User", "");
  g_autofree char *user_uid = NULL;
  g_autofree char *user_gid = NULL;
  gboolean numeric;
  JsonObject *tmpfs;
  g_autoptr(GList) targets = NULL;

  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    return TRUE;
  tmpfs = json_node_get_object (node);
  numeric = numeric_user (*user != '\0' ? user : "0:0", &user_uid, &user_gid);

  targets = json_object_get_members (tmpfs);
  for (GList *t = targets; t != NULL; t = t->next)
    {
      const char *target = t->data;
      const char *options = json_object_get_string_member_with_default (tmpfs, target, "");
      g_auto(GStrv) parts = g_strsplit (options, ",", -1);
      g_autoptr(GPtrArray) kept = g_ptr_array_new ();
      g_autofree char *rewritten = NULL;
      gboolean owner = FALSE;

      for (guint i = 0; parts[i] != NULL; i++)
        {
          gboolean is_uid = g_str_has_prefix (parts[i], "uid=");
          gboolean is_gid = g_str_has_prefix (parts[i], "gid=");
          const char *wanted = is_uid ? user_uid : user_gid;

          if (!is_uid && !is_gid)
            {
              g_ptr_array_add (kept, parts[i]);
              continue;
            }
          /* A numeric user without a group has its group from the image. */
          if (numeric && wanted != NULL && !g_str_equal (parts[i] + 4, wanted))
            {
              g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
                           "Podman cannot make the tmpfs at %s owned by %s: its tmpfs can only "
                           "belong to the container's user (%s)", target, parts[i],
                           *user != '\0' ? user : "root");
              return FALSE;
            }
          owner = TRUE;
        }
      if (!owner)
        continue;

      if (!g_strv_contains ((const char * const *) parts, "U"))
        g_ptr_array_add (kept, (gpointer) "U");
      g_ptr_array_add (kept, NULL);
      rewritten = g_strjoinv (",", (char **) kept->pdata);
      json_object_set_string_member (tmpfs, target, rewritten);
    }
  return TRUE;
}

static gboolean
has_string_with_prefix (JsonObject *object,
                        const char *member,
                        const char *prefix)
{
  JsonNode *node = json_object_get_member (object, member);
  JsonArray *array;

  if (node == NULL || !JSON_NODE_HOLDS_ARRAY (node))
    return FALSE;
  array = json_node_get_array (node);
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonNode *element = json_array_get_element (array, i);

      if (json_node_get_value_type (element) == G_TYPE_STRING &&
          g_ascii_strncasecmp (json_node_get_string (element), prefix, strlen (prefix)) == 0)
        return TRUE;
    }
  return FALSE;
}

/* Whether Docker's default profile would let this sandbox create user
 * namespaces too, or its configuration names its own profile. */
static gboolean
keeps_podman_seccomp (JsonObject *host_config)
{
  return json_object_get_boolean_member_with_default (host_config, "Privileged", FALSE) ||
         has_string_with_prefix (host_config, "SecurityOpt", "seccomp=") ||
         has_string_with_prefix (host_config, "SecurityOpt", "seccomp:") ||
         has_string_with_prefix (host_config, "CapAdd", "SYS_ADMIN") ||
         has_string_with_prefix (host_config, "CapAdd", "CAP_SYS_ADMIN") ||
         has_string_with_prefix (host_config, "CapAdd", "ALL");
}

/* The path of Podman's default seccomp profile without user namespaces,
 * written once per process under the user's runtime directory, named by
 * its contents. Podman reads it when it creates a container, so the service
 * must see this file system: a remote service fails the create, naming it. */
static char *
seccomp_profile_path (GError **error)
{
  static GMutex lock;
  static char *cached = NULL;
  G_GNUC_UNUSED g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&lock);
  g_autoptr(GError) local_error = NULL;
  g_autofree char *contents = NULL;
  g_autofree char *restricted = NULL;
  g_autofree char *checksum = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *path = NULL;
  const char *base = NULL;
  gsize length = 0;

  if (cached != NULL && g_file_test (cached, G_FILE_TEST_IS_REGULAR))
    return g_strdup (cached);

  for (gsize i = 0; i < G_N_ELEMENTS (default_seccomp_profiles) && base == NULL; i++)
    if (g_file_test (default_seccomp_profiles[i], G_FILE_TEST_EXISTS))
      base = default_seccomp_profiles[i];
  if (base == NULL)
    base = default_seccomp_profiles[G_N_ELEMENTS (default_seccomp_profiles) - 1];

  if (!g_file_get_contents (base, &contents, &length, &local_error) ||
      (restricted = llmsbx_engine_seccomp_without_user_namespaces (contents, length, &local_error)) == NULL)
    {
      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_CONTAINER_FAILED,
                   "Cannot keep the sandbox from creating user namespaces: Podman's seccomp profile "
                   "could not be read (%s); give the sandbox a profile on the Podman host with the "
                   "runtime config security_opt [\"seccomp=PATH\"]", local_error->message);
      return NULL;
    }

  checksum = g_compute_checksum_for_string (G_CHECKSUM_SHA256, restricted, -1);
  checksum[16] = '\0';
  dir = g_build_filename (g_get_user_runtime_dir (), "llmsbx", NULL);
  path = g_strdup_printf ("%s/podman-seccomp-%s.json", dir, checksum);
  if (!g_file_test (path, G_FILE_TEST_IS_REGULAR) &&
      (g_mkdir_with_parents (dir, 0700) != 0 || !g_file_set_contents_full (path, restricted, -1,
                                                                        G_FILE_SET_CONTENTS_CONSISTENT,
                                                                        0644, &local_error)))
    {
      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_CONTAINER_FAILED,
                   "Cannot keep the sandbox from creating user namespaces: could not write %s: %s",
                   path, local_error ? local_error->message : g_strerror (errno));
      return NULL;
    }

  g_free (cached);
  cached = g_strdup (path);
  return g_steal_pointer (&path);
}

static gboolean
llmsbx_podman_backend_prepare_create (LlmsbxEngineBackend  *engine,
                                      JsonObject           *body,
                                      LlmsbxContainerSpec  *spec,
                                      GError              **error)
{
  JsonObject *host_config;
  JsonNode *node;
  JsonArray *ulimits;

  if (!LLMSBX_ENGINE_BACKEND_CLASS (llmsbx_podman_backend_parent_class)->prepare_create (engine, body, spec, error))
    return FALSE;

  host_config = json_object_get_object_member (body, "HostConfig");
  if (!rewrite_tmpfs_owner (body, host_config, error))
    return FALSE;

  /* No new user namespaces, as on Docker. */
  if (!keeps_podman_seccomp (host_config))
    {
      g_autofree char *profile = seccomp_profile_path (error);
      g_autofree char *option = NULL;
      JsonNode *options = json_object_get_member (host_config, "SecurityOpt");

      if (profile == NULL)
        return FALSE;
      if (options == NULL || !JSON_NODE_HOLDS_ARRAY (options))
        {
          json_object_set_array_member (host_config, "SecurityOpt", json_array_new ());
          options = json_object_get_member (host_config, "SecurityOpt");
        }
      option = g_strconcat ("seccomp=", profile, NULL);
      json_array_add_string_element (json_node_get_array (options), option);
    }

  /* Ulimits in the request replace all of the service's defaults, so each
   * one the user did not set is added. */
  node = json_object_get_member (host_config, "Ulimits");
  if (node == NULL || !JSON_NODE_HOLDS_ARRAY (node))
    {
      json_object_set_array_member (host_config, "Ulimits", json_array_new ());
      node = json_object_get_member (host_config, "Ulimits");
    }
  ulimits = json_node_get_array (node);

  for (gsize i = 0; i < G_N_ELEMENTS (default_ulimits); i++)
    if (!has_ulimit (ulimits, default_ulimits[i].name))
      {
        JsonObject *limit = json_object_new ();

        json_object_set_string_member (limit, "Name", default_ulimits[i].name);
        json_object_set_int_member (limit, "Soft", default_ulimits[i].limit);
        json_object_set_int_member (limit, "Hard", default_ulimits[i].limit);
        json_array_add_object_element (ulimits, limit);
      }
  return TRUE;
}

/* Podman's archive PUT creates a missing destination (owned by root), where
 * Docker answers 404; the backend contract is Docker's, so that the session
 * creates the directory itself, as the sandbox's user. One HEAD first. */
static gboolean
llmsbx_podman_backend_put_archive (LlmsbxBackend  *backend,
                                   const char     *sandbox_id,
                                   const char     *dest_dir,
                                   GBytes         *archive,
                                   GCancellable   *cancellable,
                                   GError        **error)
{
  g_autoptr(LlmsbxEngineClient) client = llmsbx_engine_backend_get_client (LLMSBX_ENGINE_BACKEND (backend),
                                                                           cancellable, error);
  g_autoptr(GError) local_error = NULL;
  g_autoptr(JsonNode) inspect = NULL;
  g_autofree char *escaped_id = NULL;
  g_autofree char *path = NULL;
  g_autofree char *what = NULL;
  LlmsbxEngineRequest request = { .method = "HEAD" };

  if (client == NULL)
    return FALSE;

  what = g_strdup_printf ("Could not copy files into %s in the sandbox", dest_dir);
  path = llmsbx_engine_archive_path (sandbox_id, dest_dir);
  request.path = path;
  if (llmsbx_engine_client_send (client, &request, NULL, NULL, cancellable, &local_error))
    return LLMSBX_BACKEND_CLASS (llmsbx_podman_backend_parent_class)->put_archive (backend, sandbox_id, dest_dir,
                                                                                   archive, cancellable, error);

  if (!g_error_matches (local_error, LLMSBX_ENGINE_ERROR, 404))
    return llmsbx_engine_fail_container (error, g_steal_pointer (&local_error), sandbox_id, what);

  /* A HEAD answer has no body to tell a missing sandbox from a missing
   * directory; asking for the sandbox does. */
  g_clear_error (&local_error);
  g_free (path);
  escaped_id = g_uri_escape_string (sandbox_id, NULL, FALSE);
  path = g_strdup_printf ("/containers/%s/json", escaped_id);
  inspect = llmsbx_engine_client_json (client, "GET", path, NULL, cancellable, &local_error);
  if (inspect != NULL)
    g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_FILE_NOT_FOUND,
                 "Directory %s does not exist in the sandbox", dest_dir);
  else if (g_error_matches (local_error, LLMSBX_ENGINE_ERROR, 404))
    g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_CONTAINER_FAILED,
                 "Container %s not found", sandbox_id);
  else
    return llmsbx_engine_fail_container (error, g_steal_pointer (&local_error), sandbox_id, what);
  return FALSE;
}

static void
llmsbx_podman_backend_class_init (LlmsbxPodmanBackendClass *klass)
{
  LlmsbxBackendClass *backend_class = LLMSBX_BACKEND_CLASS (klass);
  LlmsbxEngineBackendClass *engine_class = LLMSBX_ENGINE_BACKEND_CLASS (klass);

  backend_class->put_archive = llmsbx_podman_backend_put_archive;

  engine_class->engine_name = "Podman service";
  engine_class->default_url = "unix://" ROOTFUL_SOCKET;
  /* catatonit as PID 1 reaps zombies and makes stopping instant; Podman
   * packages recommend it (without it, pass runtime_configs init=False). */
  engine_class->init_by_default = TRUE;
  /* The compatible commit names an image "docker.io/REPO"; libpod's names it
   * "localhost/REPO", as `podman commit` and `podman load` do. */
  engine_class->commit_path = "/libpod/commit";
  /* Its compatible create answers 500 for a configuration it refuses. */
  engine_class->config_error_prefix = "make cli opts():";
  engine_class->resolve_settings = llmsbx_podman_backend_resolve_settings;
  engine_class->prepare_create = llmsbx_podman_backend_prepare_create;
}

static void
llmsbx_podman_backend_init (LlmsbxPodmanBackend *self)
{
}
