/* llmsbx-kubernetes-connection.c: a connection from explicit settings or a
 * JSON kubeconfig (interim, until the libyaml kubeconfig loader lands). */
#include "llmsbx-kubernetes-connection.h"

#include <json-glib/json-glib.h>
#include <string.h>

#include <llmsbx.h>

void
llmsbx_kubernetes_connection_free (LlmsbxKubernetesConnection *self)
{
  if (self == NULL)
    return;
  g_free (self->context_name);
  g_free (self->server);
  g_free (self->namespace_);
  if (self->token != NULL)
    memset (self->token, 0, strlen (self->token));
  g_free (self->token);
  g_clear_pointer (&self->ca_pem, g_bytes_unref);
  g_clear_pointer (&self->client_cert_pem, g_bytes_unref);
  g_clear_pointer (&self->client_key_pem, g_bytes_unref);
  g_free (self->tls_server_name);
  g_free (self->proxy_url);
  g_free (self);
}

static char *
strip_server (const char *server)
{
  char *copy = g_strdup (server);
  gsize len = strlen (copy);

  while (len > 0 && copy[len - 1] == '/')
    copy[--len] = '\0';
  return copy;
}

static GBytes *
read_file_bytes (const char  *path,
                 const char  *what,
                 GError     **error)
{
  g_autoptr(GError) local_error = NULL;
  char *contents = NULL;
  gsize length = 0;

  if (!g_file_get_contents (path, &contents, &length, &local_error))
    {
      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
                   "Could not read the %s %s: %s", what, path, local_error->message);
      return NULL;
    }
  return g_bytes_new_take (contents, length);
}

LlmsbxKubernetesConnection *
llmsbx_kubernetes_connection_new_explicit (const char  *server,
                                           const char  *token,
                                           const char  *ca_file,
                                           GError     **error)
{
  g_autoptr(LlmsbxKubernetesConnection) self = g_new0 (LlmsbxKubernetesConnection, 1);

  if (server == NULL || !(g_str_has_prefix (server, "https://") || g_str_has_prefix (server, "http://")))
    {
      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
                   "The Kubernetes API server must be an http:// or https:// URL, not %s",
                   server ? server : "(none)");
      return NULL;
    }
  self->server = strip_server (server);
  self->namespace_ = g_strdup ("default");
  self->token = g_strdup (token);
  if (ca_file != NULL && (self->ca_pem = read_file_bytes (ca_file, "cluster CA file", error)) == NULL)
    return NULL;
  return g_steal_pointer (&self);
}

/* The object of the entry named @name in the list @member of @root. */
static JsonObject *
named_entry (JsonObject *root,
             const char *member,
             const char *name,
             const char *inner)
{
  JsonArray *list;

  if (name == NULL || !json_object_has_member (root, member) ||
      !JSON_NODE_HOLDS_ARRAY (json_object_get_member (root, member)))
    return NULL;
  list = json_object_get_array_member (root, member);
  for (guint i = 0; i < json_array_get_length (list); i++)
    {
      JsonNode *node = json_array_get_element (list, i);
      JsonObject *entry = JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;

      if (entry != NULL && g_strcmp0 (json_object_get_string_member_with_default (entry, "name", NULL), name) == 0 &&
          json_object_has_member (entry, inner) && JSON_NODE_HOLDS_OBJECT (json_object_get_member (entry, inner)))
        return json_object_get_object_member (entry, inner);
    }
  return NULL;
}

/* A `*-data` field (base64) or its path twin (relative to the file). */
static gboolean
read_data_or_path (JsonObject  *object,
                   const char  *data_key,
                   const char  *path_key,
                   const char  *dir,
                   GBytes     **out,
                   GError     **error)
{
  const char *data = object ? json_object_get_string_member_with_default (object, data_key, NULL) : NULL;
  const char *path = object ? json_object_get_string_member_with_default (object, path_key, NULL) : NULL;

  if (data != NULL)
    {
      gsize length = 0;
      guchar *decoded = g_base64_decode (data, &length);

      *out = g_bytes_new_take (decoded, length);
      return TRUE;
    }
  if (path != NULL)
    {
      g_autofree char *full = g_path_is_absolute (path) ? g_strdup (path) : g_build_filename (dir, path, NULL);

      *out = read_file_bytes (full, path_key, error);
      return *out != NULL;
    }
  return TRUE;
}

LlmsbxKubernetesConnection *
llmsbx_kubernetes_connection_load_json (const char  *path,
                                        const char  *context,
                                        GError     **error)
{
  g_autoptr(LlmsbxKubernetesConnection) self = g_new0 (LlmsbxKubernetesConnection, 1);
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) local_error = NULL;
  g_autofree char *dir = g_path_get_dirname (path);
  JsonObject *root, *ctx, *cluster, *user;
  const char *token_file, *server, *ns;

  if (!json_parser_load_from_file (parser, path, &local_error) ||
      !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    {
      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
                   "Could not read the kubeconfig %s (JSON kubeconfigs only until the YAML reader lands): %s",
                   path, local_error ? local_error->message : "not an object");
      return NULL;
    }
  root = json_node_get_object (json_parser_get_root (parser));
  self->context_name = g_strdup (context ? context
                                 : json_object_get_string_member_with_default (root, "current-context", NULL));
  ctx = named_entry (root, "contexts", self->context_name, "context");
  if (ctx == NULL)
    {
      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
                   "The kubeconfig %s has no context %s", path, self->context_name ? self->context_name : "(none)");
      return NULL;
    }
  cluster = named_entry (root, "clusters", json_object_get_string_member_with_default (ctx, "cluster", NULL), "cluster");
  user = named_entry (root, "users", json_object_get_string_member_with_default (ctx, "user", NULL), "user");
  server = cluster ? json_object_get_string_member_with_default (cluster, "server", NULL) : NULL;
  if (server == NULL)
    {
      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
                   "The cluster of the context %s in %s has no server", self->context_name, path);
      return NULL;
    }
  self->server = strip_server (server);
  ns = json_object_get_string_member_with_default (ctx, "namespace", NULL);
  self->namespace_ = g_strdup (ns != NULL && *ns != '\0' ? ns : "default");
  if (cluster != NULL)
    {
      self->insecure_skip_tls_verify = json_object_get_boolean_member_with_default (cluster, "insecure-skip-tls-verify",
                                                                                     FALSE);
      self->tls_server_name = g_strdup (json_object_get_string_member_with_default (cluster, "tls-server-name", NULL));
      self->proxy_url = g_strdup (json_object_get_string_member_with_default (cluster, "proxy-url", NULL));
    }
  if (!read_data_or_path (cluster, "certificate-authority-data", "certificate-authority", dir, &self->ca_pem, error) ||
      !read_data_or_path (user, "client-certificate-data", "client-certificate", dir, &self->client_cert_pem, error) ||
      !read_data_or_path (user, "client-key-data", "client-key", dir, &self->client_key_pem, error))
    return NULL;
  if (user != NULL)
    {
      self->token = g_strdup (json_object_get_string_member_with_default (user, "token", NULL));
      token_file = json_object_get_string_member_with_default (user, "tokenFile", NULL);
      if (self->token == NULL && token_file != NULL)
        {
          g_autofree char *full = g_path_is_absolute (token_file) ? g_strdup (token_file)
                                  : g_build_filename (dir, token_file, NULL);
          g_autoptr(GBytes) bytes = read_file_bytes (full, "token file", error);

          if (bytes == NULL)
            return NULL;
          self->token = g_strstrip (g_strndup (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes)));
        }
    }
  return g_steal_pointer (&self);
}
