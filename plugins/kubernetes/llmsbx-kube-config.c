/* llmsbx-kube-config.c: kubeconfig files, the in-cluster service account and
 * explicit settings, resolved into one LlmsbxKubeConnection.
 *
 * Decisions, each as client-go's clientcmd makes it (protocols.md §4.1):
 * - Files: an explicit path alone (it must exist); else every file of
 *   $KUBECONFIG (missing ones skipped); else ~/.kube/config. Merging takes
 *   each named cluster, user and context whole from the first file that
 *   defines it, and current-context from the first file that sets it; a name
 *   twice in one file is an error. With no file (or nothing in them) and no
 *   context asked for, the in-cluster configuration.
 * - Paths in an entry are relative to the directory of its file, and so is
 *   an exec command with a `/` in it (a bare name is looked up in $PATH).
 * - `*-data` wins over its path, `token` over `tokenFile`; a static token
 *   wins over an exec plugin, which is then not run. Everything is read now,
 *   so a missing file is an error at load, naming it.
 * - `insecure-skip-tls-verify` with a CA is refused, as kubectl refuses it.
 * - `auth-provider` (gcp, azure, oidc) is not supported: exec plugins
 *   replaced it; the error says so.
 * Tokens and keys never reach a message or the log, and are wiped when freed. */
#undef G_LOG_DOMAIN
#define G_LOG_DOMAIN "Llmsbx-Kubernetes"

#include <json-glib/json-glib.h>
#include <llmsbx.h>
#include <string.h>

#include "llmsbx-kube-config-private.h"

/* An exec plugin's credential is refreshed this long before it expires. */
#define REFRESH_MARGIN_USEC (10 * G_USEC_PER_SEC)

struct _LlmsbxKubeCredentialSource {
  char                 *token_file;   /* read again by refresh */
  LlmsbxKubeExecConfig *exec;         /* run again by refresh */
};

static void
credential_source_free (LlmsbxKubeCredentialSource *source)
{
  if (source == NULL)
    return;
  g_free (source->token_file);
  llmsbx_kube_exec_config_free (source->exec);
  g_free (source);
}

void
llmsbx_kube_connection_free (LlmsbxKubeConnection *connection)
{
  if (connection == NULL)
    return;
  g_free (connection->context_name);
  g_free (connection->server);
  g_free (connection->namespace_);
  llmsbx_kube_secret_free (connection->token);
  g_clear_pointer (&connection->ca_pem, g_bytes_unref);
  g_clear_pointer (&connection->client_cert_pem, g_bytes_unref);
  g_clear_pointer (&connection->client_key_pem, g_bytes_unref);
  g_free (connection->tls_server_name);
  g_free (connection->proxy_url);
  credential_source_free (connection->source);
  g_free (connection);
}

/* ---- Reading values ---------------------------------------------------- */

/* A named cluster, user or context: its inner mapping (NULL when empty)
 * and the file that defined it. */
typedef struct {
  LlmsbxKubeFile *file;
  yaml_node_t    *node;
  char           *where;      /* users["name"].user, for messages */
} Entry;

static void
entry_free (Entry *entry)
{
  g_free (entry->where);
  g_free (entry);
}

G_GNUC_PRINTF (4, 5)
static gboolean
entry_error (const Entry  *entry,
             const char   *key,
             GError      **error,
             const char   *format,
             ...)
{
  g_autofree char *problem = NULL;
  va_list args;

  va_start (args, format);
  problem = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
               "%s%s%s in kubeconfig %s: %s", entry->where, key ? "." : "", key ? key : "",
               entry->file->path, problem);
  return FALSE;
}

static gboolean
get_string (const Entry  *entry,
            const char   *key,
            char        **out,
            GError      **error)
{
  if (!llmsbx_kube_yaml_get_string (entry->file, entry->node, entry->where, key, out, error))
    return FALSE;
  /* "" is how kubectl writes "not set". */
  if (*out != NULL && **out == '\0')
    g_clear_pointer (out, g_free);
  return TRUE;
}

/* base64 as Go's StdEncoding reads it: padded, line breaks ignored. */
static GBytes *
decode_base64 (const Entry  *entry,
               const char   *key,
               const char   *text,
               GError      **error)
{
  g_autoptr(GString) clean = g_string_sized_new (strlen (text));
  guchar *data;
  gsize size = 0;

  for (const char *p = text; *p; p++)
    {
      if (*p == '\n' || *p == '\r')
        continue;
      if (!g_ascii_isalnum (*p) && *p != '+' && *p != '/' && *p != '=')
        {
          entry_error (entry, key, error, "not valid base64 (character %s%c%s at offset %d)",
                       g_ascii_isprint (*p) ? "'" : "", g_ascii_isprint (*p) ? *p : '?',
                       g_ascii_isprint (*p) ? "'" : "", (int) (p - text));
          return NULL;
        }
      g_string_append_c (clean, *p);
    }
  if (clean->len == 0 || clean->len % 4 != 0)
    {
      entry_error (entry, key, error, "not valid base64 (%s)",
                   clean->len == 0 ? "empty" : "its length is not a multiple of 4");
      return NULL;
    }
  for (gsize i = 0; i < clean->len; i++)
    if (clean->str[i] == '=' &&
        !(i >= clean->len - 2 && (i == clean->len - 1 || clean->str[clean->len - 1] == '=')))
      {
        entry_error (entry, key, error, "not valid base64 (padding inside the data)");
        return NULL;
      }
  data = g_base64_decode (clean->str, &size);
  explicit_bzero (clean->str, clean->len);
  {
    GBytes *bytes = llmsbx_kube_secret_bytes_new (data, size);

    explicit_bzero (data, size);
    g_free (data);
    return bytes;
  }
}

/* Certificates and keys are PEM; say so now rather than at the handshake. */
static gboolean
check_pem (const Entry  *entry,
           const char   *key,
           GBytes       *bytes,
           gboolean      is_key,
           GError      **error)
{
  gsize size = 0;
  const char *data = g_bytes_get_data (bytes, &size);

  if (g_strstr_len (data, size, "-----BEGIN ") == NULL ||
      (is_key && g_strstr_len (data, size, "PRIVATE KEY-----") == NULL))
    return entry_error (entry, key, error, "does not hold a PEM %s (\"-----BEGIN %s\")",
                        is_key ? "private key" : "certificate",
                        is_key ? "... PRIVATE KEY-----" : "CERTIFICATE-----");
  return TRUE;
}

/* @path relative to the directory of @file, or as it is when absolute. */
static char *
resolve_path (LlmsbxKubeFile *file,
              const char     *path)
{
  return g_canonicalize_filename (path, file->dir);
}

static GBytes *
read_file (const Entry  *entry,
           const char   *key,
           const char   *path,
           GError      **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autofree char *contents = NULL;
  gsize size = 0;
  GBytes *bytes;

  if (!llmsbx_kube_read_file (path, LLMSBX_KUBE_MAX_CREDENTIAL_SIZE, &contents, &size, &local_error))
    {
      entry_error (entry, key, error, "cannot read %s: %s", path, local_error->message);
      return NULL;
    }
  bytes = llmsbx_kube_secret_bytes_new (contents, size);
  explicit_bzero (contents, size);
  return bytes;
}

/* key-data (base64) or key (a path); NULL in *out when neither is set. */
static gboolean
get_pem (const Entry  *entry,
         const char   *key,
         gboolean      is_key,
         GBytes      **out,
         GError      **error)
{
  g_autofree char *data_key = g_strconcat (key, "-data", NULL);
  g_autofree char *data = NULL;
  g_autofree char *path = NULL;
  g_autoptr(GBytes) bytes = NULL;
  const char *from = data_key;

  *out = NULL;
  if (!get_string (entry, data_key, &data, error) || !get_string (entry, key, &path, error))
    return FALSE;
  if (data != NULL)
    bytes = decode_base64 (entry, data_key, data, error);
  else if (path != NULL)
    {
      g_autofree char *resolved = resolve_path (entry->file, path);

      bytes = read_file (entry, key, resolved, error);
      from = key;
    }
  else
    return TRUE;
  if (data != NULL)
    explicit_bzero (data, strlen (data));
  if (bytes == NULL || !check_pem (entry, from, bytes, is_key, error))
    return FALSE;
  *out = g_steal_pointer (&bytes);
  return TRUE;
}

static char *
read_token_file (const char  *path,
                 const char  *where,
                 GError     **error)
{
  g_autoptr(GError) local_error = NULL;
  char *token = NULL;
  gsize size = 0;

  if (!llmsbx_kube_read_file (path, LLMSBX_KUBE_MAX_CREDENTIAL_SIZE, &token, &size, &local_error))
    {
      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
                   "cannot read the token file %s of %s: %s", path, where, local_error->message);
      return NULL;
    }
  g_strstrip (token);
  if (*token == '\0')
    {
      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
                   "the token file %s of %s is empty", path, where);
      llmsbx_kube_secret_free (token);
      return NULL;
    }
  return token;
}

/* ---- Merging the files ------------------------------------------------- */

typedef struct {
  GPtrArray  *files;        /* LlmsbxKubeFile, first wins */
  GHashTable *clusters;     /* name → Entry */
  GHashTable *users;
  GHashTable *contexts;
  char       *current_context;
} Merged;

static void
merged_clear (Merged *merged)
{
  g_clear_pointer (&merged->clusters, g_hash_table_unref);
  g_clear_pointer (&merged->users, g_hash_table_unref);
  g_clear_pointer (&merged->contexts, g_hash_table_unref);
  g_clear_pointer (&merged->files, g_ptr_array_unref);
  g_clear_pointer (&merged->current_context, g_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Merged, merged_clear)

/* clusters / users / contexts: a list of {name, <inner>: {...}}. */
static gboolean
merge_list (LlmsbxKubeFile  *file,
            yaml_node_t     *root,
            const char      *list,
            const char      *inner,
            GHashTable      *into,
            GError         **error)
{
  g_autoptr(GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  yaml_node_t *seq = NULL;
  guint n;

  if (!llmsbx_kube_yaml_get_node (file, root, "", list, YAML_SEQUENCE_NODE, &seq, error))
    return FALSE;
  n = llmsbx_kube_yaml_seq_length (seq);
  for (guint i = 0; i < n; i++)
    {
      yaml_node_t *item = llmsbx_kube_yaml_seq_item (file, seq, i);
      g_autofree char *where = g_strdup_printf ("%s[%u]", list, i);
      g_autofree char *name = NULL;
      yaml_node_t *value = NULL;
      Entry *entry;

      if (item == NULL || item->type != YAML_MAPPING_NODE)
        {
          g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
                       "%s in kubeconfig %s must be a mapping with a name", where, file->path);
          return FALSE;
        }
      if (!llmsbx_kube_yaml_get_string (file, item, where, "name", &name, error) ||
          !llmsbx_kube_yaml_get_node (file, item, where, inner, YAML_MAPPING_NODE, &value, error))
        return FALSE;
      if (name == NULL || *name == '\0')
        {
          g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
                       "%s in kubeconfig %s (line %zu) has no name", where, file->path,
                       item->start_mark.line + 1);
          return FALSE;
        }
      if (g_hash_table_contains (seen, name))
        {
          g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
                       "kubeconfig %s has two %s named \"%s\"", file->path, list, name);
          return FALSE;
        }
      g_hash_table_add (seen, g_strdup (name));
      if (g_hash_table_contains (into, name))
        continue;
      entry = g_new0 (Entry, 1);
      entry->file = file;
      entry->node = value;
      entry->where = g_strdup_printf ("%s[\"%s\"].%s", list, name, inner);
      g_hash_table_insert (into, g_steal_pointer (&name), entry);
    }
  return TRUE;
}

static gboolean
merge_file (Merged          *merged,
            LlmsbxKubeFile  *file,
            GError         **error)
{
  yaml_node_t *root = NULL;
  g_autofree char *current = NULL;

  if (!llmsbx_kube_file_root (file, &root, error))
    return FALSE;
  if (root == NULL)
    return TRUE;
  if (!merge_list (file, root, "clusters", "cluster", merged->clusters, error) ||
      !merge_list (file, root, "users", "user", merged->users, error) ||
      !merge_list (file, root, "contexts", "context", merged->contexts, error) ||
      !llmsbx_kube_yaml_get_string (file, root, "", "current-context", &current, error))
    return FALSE;
  if (merged->current_context == NULL && current != NULL && *current != '\0')
    merged->current_context = g_steal_pointer (&current);
  return TRUE;
}

/* The files to read, first wins. */
static GPtrArray *
kubeconfig_paths (const char *kubeconfig_path)
{
  GPtrArray *paths = g_ptr_array_new_with_free_func (g_free);
  const char *env = g_getenv ("KUBECONFIG");

  if (kubeconfig_path != NULL)
    g_ptr_array_add (paths, g_strdup (kubeconfig_path));
  else if (env != NULL && *env != '\0')
    {
      g_auto(GStrv) parts = g_strsplit (env, G_SEARCHPATH_SEPARATOR_S, -1);

      for (guint i = 0; parts[i] != NULL; i++)
        {
          gboolean duplicate = FALSE;

          if (*parts[i] == '\0')
            continue;
          for (guint j = 0; j < paths->len && !duplicate; j++)
            duplicate = g_str_equal (paths->pdata[j], parts[i]);
          if (!duplicate)
            g_ptr_array_add (paths, g_strdup (parts[i]));
        }
    }
  else
    {
      /* $HOME as client-go reads it; g_get_home_dir() would cache it. */
      const char *home = g_getenv ("HOME");

      g_ptr_array_add (paths, g_build_filename (home && *home ? home : g_get_home_dir (),
                                                ".kube", "config", NULL));
    }
  return paths;
}

static char *
files_text (Merged *merged)
{
  g_autoptr(GString) text = g_string_new (NULL);

  for (guint i = 0; i < merged->files->len; i++)
    {
      LlmsbxKubeFile *file = merged->files->pdata[i];

      g_string_append_printf (text, "%s%s", i ? ", " : "", file->path);
    }
  return g_string_free (g_steal_pointer (&text), FALSE);
}

/* server as given, with https:// when it has no scheme, without a trailing /. */
static char *
normalize_server (const char  *server,
                  const char  *where,
                  GError     **error)
{
  g_autofree char *url = strstr (server, "://") ? g_strdup (server) : g_strconcat ("https://", server, NULL);
  g_autoptr(GUri) uri = NULL;
  g_autoptr(GError) local_error = NULL;
  gsize length;

  uri = g_uri_parse (url, G_URI_FLAGS_NONE, &local_error);
  if (uri == NULL || g_uri_get_host (uri) == NULL || *g_uri_get_host (uri) == '\0')
    {
      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
                   "the server of %s is not a URL: \"%s\"%s%s", where, server,
                   local_error ? ": " : "", local_error ? local_error->message : "");
      return NULL;
    }
  if (g_ascii_strcasecmp (g_uri_get_scheme (uri), "https") != 0 &&
      g_ascii_strcasecmp (g_uri_get_scheme (uri), "http") != 0)
    {
      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
                   "the server of %s must be an http:// or https:// URL, not \"%s\"", where, server);
      return NULL;
    }
  length = strlen (url);
  while (length > 0 && url[length - 1] == '/')
    url[--length] = '\0';
  return g_steal_pointer (&url);
}

static gboolean
load_cluster (LlmsbxKubeConnection  *connection,
              const Entry           *entry,
              GError               **error)
{
  g_autofree char *server = NULL;
  g_autofree char *where = g_strdup_printf ("%s in kubeconfig %s", entry->where, entry->file->path);

  if (!get_string (entry, "server", &server, error) ||
      !llmsbx_kube_yaml_get_bool (entry->file, entry->node, entry->where, "insecure-skip-tls-verify",
                                  &connection->insecure_skip_tls_verify, error) ||
      !get_string (entry, "tls-server-name", &connection->tls_server_name, error) ||
      !get_string (entry, "proxy-url", &connection->proxy_url, error) ||
      !get_pem (entry, "certificate-authority", FALSE, &connection->ca_pem, error))
    return FALSE;
  if (server == NULL)
    return entry_error (entry, NULL, error, "the cluster has no server");
  connection->server = normalize_server (server, where, error);
  if (connection->server == NULL)
    return FALSE;
  if (connection->insecure_skip_tls_verify && connection->ca_pem != NULL)
    return entry_error (entry, NULL, error,
                        "insecure-skip-tls-verify cannot be used with a certificate-authority "
                        "(kubectl refuses it too): remove one of them");
  return TRUE;
}

/* spec.cluster of KUBERNETES_EXEC_INFO, for provideClusterInfo. */
static char *
cluster_info_json (const LlmsbxKubeConnection *connection)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "server");
  json_builder_add_string_value (builder, connection->server);
  if (connection->tls_server_name != NULL)
    {
      json_builder_set_member_name (builder, "tls-server-name");
      json_builder_add_string_value (builder, connection->tls_server_name);
    }
  if (connection->insecure_skip_tls_verify)
    {
      json_builder_set_member_name (builder, "insecure-skip-tls-verify");
      json_builder_add_boolean_value (builder, TRUE);
    }
  if (connection->ca_pem != NULL)
    {
      gsize size = 0;
      const guchar *data = g_bytes_get_data (connection->ca_pem, &size);
      g_autofree char *b64 = g_base64_encode (data, size);

      json_builder_set_member_name (builder, "certificate-authority-data");
      json_builder_add_string_value (builder, b64);
    }
  if (connection->proxy_url != NULL)
    {
      json_builder_set_member_name (builder, "proxy-url");
      json_builder_add_string_value (builder, connection->proxy_url);
    }
  json_builder_end_object (builder);
  root = json_builder_get_root (builder);
  return json_to_string (root, FALSE);
}

static LlmsbxKubeExecConfig *
load_exec (const LlmsbxKubeConnection  *connection,
           const Entry                 *user,
           yaml_node_t                 *node,
           GError                     **error)
{
  g_autoptr(LlmsbxKubeExecConfig) config = g_new0 (LlmsbxKubeExecConfig, 1);
  g_autofree char *where = g_strconcat (user->where, ".exec", NULL);
  g_autofree char *interactive = NULL;
  Entry exec = { user->file, node, where };
  yaml_node_t *args = NULL, *env = NULL;
  g_autoptr(GPtrArray) list = NULL;
  gboolean v1;

  if (!get_string (&exec, "apiVersion", &config->api_version, error) ||
      !get_string (&exec, "command", &config->command, error) ||
      !get_string (&exec, "installHint", &config->install_hint, error) ||
      !get_string (&exec, "interactiveMode", &interactive, error) ||
      !llmsbx_kube_yaml_get_bool (user->file, node, where, "provideClusterInfo",
                                  &config->provide_cluster_info, error) ||
      !llmsbx_kube_yaml_get_node (user->file, node, where, "args", YAML_SEQUENCE_NODE, &args, error) ||
      !llmsbx_kube_yaml_get_node (user->file, node, where, "env", YAML_SEQUENCE_NODE, &env, error))
    return NULL;
  if (config->command == NULL)
    {
      entry_error (&exec, NULL, error, "the credential plugin has no command");
      return NULL;
    }
  if (config->api_version == NULL)
    {
      entry_error (&exec, NULL, error, "the credential plugin has no apiVersion "
                   "(client.authentication.k8s.io/v1 or v1beta1)");
      return NULL;
    }
  v1 = g_str_equal (config->api_version, "client.authentication.k8s.io/v1");
  if (!v1 && !g_str_equal (config->api_version, "client.authentication.k8s.io/v1beta1"))
    {
      entry_error (&exec, "apiVersion", error, "\"%s\" is not supported: use "
                   "client.authentication.k8s.io/v1 or v1beta1", config->api_version);
      return NULL;
    }
  if (interactive == NULL && v1)
    {
      entry_error (&exec, "interactiveMode", error, "must be set with %s (Never or IfAvailable)",
                   config->api_version);
      return NULL;
    }
  if (interactive != NULL && !g_str_equal (interactive, "Never") && !g_str_equal (interactive, "IfAvailable"))
    {
      entry_error (&exec, "interactiveMode", error, g_str_equal (interactive, "Always") ?
                   "the plugin needs a terminal (Always), which a library never has" :
                   "must be Never, IfAvailable or Always, not \"%s\"", interactive);
      return NULL;
    }

  list = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < llmsbx_kube_yaml_seq_length (args); i++)
    {
      yaml_node_t *arg = llmsbx_kube_yaml_seq_item (user->file, args, i);

      if (arg == NULL || arg->type != YAML_SCALAR_NODE)
        {
          entry_error (&exec, "args", error, "item %u is not a string", i);
          return NULL;
        }
      g_ptr_array_add (list, g_strndup ((const char *) arg->data.scalar.value, arg->data.scalar.length));
    }
  g_ptr_array_add (list, NULL);
  config->args = (GStrv) g_ptr_array_steal (list, NULL);
  g_clear_pointer (&list, g_ptr_array_unref);

  list = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < llmsbx_kube_yaml_seq_length (env); i++)
    {
      yaml_node_t *item = llmsbx_kube_yaml_seq_item (user->file, env, i);
      g_autofree char *item_where = g_strdup_printf ("%s.env[%u]", where, i);
      g_autofree char *name = NULL;
      g_autofree char *value = NULL;

      if (item == NULL || item->type != YAML_MAPPING_NODE)
        {
          entry_error (&exec, "env", error, "item %u is not a mapping of name and value", i);
          return NULL;
        }
      if (!llmsbx_kube_yaml_get_string (user->file, item, item_where, "name", &name, error) ||
          !llmsbx_kube_yaml_get_string (user->file, item, item_where, "value", &value, error))
        return NULL;
      if (name == NULL || *name == '\0' || strchr (name, '=') != NULL)
        {
          entry_error (&exec, "env", error, "item %u has no valid name", i);
          return NULL;
        }
      g_ptr_array_add (list, g_strconcat (name, "=", value ? value : "", NULL));
    }
  g_ptr_array_add (list, NULL);
  config->env = (GStrv) g_ptr_array_steal (list, NULL);

  /* A bare name is looked up in $PATH; a path is the file's, as client-go does. */
  if (strchr (config->command, G_DIR_SEPARATOR) != NULL && !g_path_is_absolute (config->command))
    {
      char *resolved = resolve_path (user->file, config->command);

      g_free (config->command);
      config->command = resolved;
    }
  if (config->provide_cluster_info)
    config->cluster_json = cluster_info_json (connection);
  config->where = g_strdup_printf ("%s in kubeconfig %s", where, user->file->path);
  return g_steal_pointer (&config);
}

static gboolean
load_user (LlmsbxKubeConnection  *connection,
           const Entry           *entry,
           GError               **error)
{
  g_autofree char *token_file = NULL;
  g_autofree char *auth_provider = NULL;
  g_autofree char *where = g_strdup_printf ("%s in kubeconfig %s", entry->where, entry->file->path);
  yaml_node_t *exec = NULL, *provider = NULL;

  if (!get_pem (entry, "client-certificate", FALSE, &connection->client_cert_pem, error) ||
      !get_pem (entry, "client-key", TRUE, &connection->client_key_pem, error) ||
      !get_string (entry, "token", &connection->token, error) ||
      !get_string (entry, "tokenFile", &token_file, error) ||
      !llmsbx_kube_yaml_get_node (entry->file, entry->node, entry->where, "exec",
                                  YAML_MAPPING_NODE, &exec, error) ||
      !llmsbx_kube_yaml_get_node (entry->file, entry->node, entry->where, "auth-provider",
                                  YAML_MAPPING_NODE, &provider, error))
    return FALSE;
  if ((connection->client_cert_pem == NULL) != (connection->client_key_pem == NULL))
    return entry_error (entry, NULL, error, connection->client_key_pem == NULL ?
                        "a client certificate without a client-key or client-key-data" :
                        "a client key without a client-certificate or client-certificate-data");
  if (provider != NULL)
    {
      Entry provider_entry = { entry->file, provider, entry->where };

      if (!get_string (&provider_entry, "name", &auth_provider, error))
        return FALSE;
      return entry_error (entry, "auth-provider", error,
                          "the %s%sauth provider is not supported; use an exec credential plugin "
                          "(client.authentication.k8s.io), which replaced auth providers",
                          auth_provider ? auth_provider : "", auth_provider ? " " : "");
    }

  if (connection->token == NULL && token_file != NULL)
    {
      g_autofree char *path = resolve_path (entry->file, token_file);

      connection->token = read_token_file (path, where, error);
      if (connection->token == NULL)
        return FALSE;
      connection->source = g_new0 (LlmsbxKubeCredentialSource, 1);
      connection->source->token_file = g_steal_pointer (&path);
    }
  /* A token already set is what client-go sends; it never runs the plugin then. */
  if (connection->token == NULL && exec != NULL)
    {
      g_autoptr(LlmsbxKubeExecConfig) config = load_exec (connection, entry, exec, error);
      g_autoptr(GBytes) cert = NULL;
      g_autoptr(GBytes) key = NULL;

      if (config == NULL ||
          !llmsbx_kube_exec_plugin_run (config, 0, NULL, &connection->token, &cert, &key,
                                        &connection->expiry, error))
        return FALSE;
      if (cert != NULL)
        {
          if (connection->client_cert_pem != NULL)
            return entry_error (entry, NULL, error, "both a client certificate and the exec "
                                "plugin's client certificate: remove one of them");
          connection->client_cert_pem = g_steal_pointer (&cert);
          connection->client_key_pem = g_steal_pointer (&key);
        }
      connection->source = g_new0 (LlmsbxKubeCredentialSource, 1);
      connection->source->exec = g_steal_pointer (&config);
    }
  return TRUE;
}

static gboolean
lookup_entry (Merged       *merged,
              GHashTable   *table,
              const char   *kind,
              const char   *name,
              const char   *context,
              Entry       **out,
              GError      **error)
{
  *out = g_hash_table_lookup (table, name);
  if (*out == NULL)
    {
      g_autofree char *files = files_text (merged);

      if (context != NULL)
        g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
                     "%s \"%s\" of context \"%s\" is not defined in kubeconfig %s",
                     kind, name, context, files);
      else
        g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
                     "%s \"%s\" is not defined in kubeconfig %s", kind, name, files);
      return FALSE;
    }
  return TRUE;
}

static LlmsbxKubeConnection *
resolve (Merged      *merged,
         const char  *context_name,
         GError     **error)
{
  g_autoptr(LlmsbxKubeConnection) connection = g_new0 (LlmsbxKubeConnection, 1);
  g_autofree char *cluster_name = NULL;
  g_autofree char *user_name = NULL;
  Entry *context = NULL, *cluster = NULL, *user = NULL;

  if (context_name == NULL)
    context_name = merged->current_context;
  if (context_name == NULL)
    {
      g_autofree char *files = files_text (merged);

      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
                   "kubeconfig %s sets no current-context: name a context", files);
      return NULL;
    }
  if (!lookup_entry (merged, merged->contexts, "context", context_name, NULL, &context, error) ||
      !get_string (context, "cluster", &cluster_name, error) ||
      !get_string (context, "user", &user_name, error) ||
      !get_string (context, "namespace", &connection->namespace_, error))
    return NULL;
  if (cluster_name == NULL)
    {
      entry_error (context, NULL, error, "the context names no cluster");
      return NULL;
    }
  if (!lookup_entry (merged, merged->clusters, "cluster", cluster_name, context_name, &cluster, error) ||
      (user_name != NULL &&
       !lookup_entry (merged, merged->users, "user", user_name, context_name, &user, error)))
    return NULL;

  connection->context_name = g_strdup (context_name);
  if (connection->namespace_ == NULL)
    connection->namespace_ = g_strdup ("default");
  if (!load_cluster (connection, cluster, error) ||
      (user != NULL && !load_user (connection, user, error)))
    return NULL;
  return g_steal_pointer (&connection);
}

LlmsbxKubeConnection *
llmsbx_kube_connection_load (const char  *kubeconfig_path,
                             const char  *context,
                             GError     **error)
{
  g_autoptr(GPtrArray) paths = NULL;
  g_auto(Merged) merged = { 0, };

  /* An empty setting is an unset one. */
  if (kubeconfig_path != NULL && *kubeconfig_path == '\0')
    kubeconfig_path = NULL;
  if (context != NULL && *context == '\0')
    context = NULL;
  paths = kubeconfig_paths (kubeconfig_path);

  merged.files = g_ptr_array_new_with_free_func ((GDestroyNotify) llmsbx_kube_file_free);
  merged.clusters = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) entry_free);
  merged.users = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) entry_free);
  merged.contexts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) entry_free);

  for (guint i = 0; i < paths->len; i++)
    {
      const char *path = paths->pdata[i];
      LlmsbxKubeFile *file;

      if (kubeconfig_path == NULL && !g_file_test (path, G_FILE_TEST_EXISTS))
        continue;
      file = llmsbx_kube_file_load (path, error);
      if (file == NULL)
        return NULL;
      g_ptr_array_add (merged.files, file);
      if (!merge_file (&merged, file, error))
        return NULL;
    }

  if (kubeconfig_path == NULL && context == NULL && merged.current_context == NULL &&
      g_hash_table_size (merged.contexts) == 0 && g_hash_table_size (merged.clusters) == 0 &&
      g_hash_table_size (merged.users) == 0)
    {
      g_autofree char *looked = NULL;

      if (g_getenv ("KUBERNETES_SERVICE_HOST") != NULL)
        return llmsbx_kube_connection_load_in_cluster (error);
      g_ptr_array_add (paths, NULL);
      looked = g_strjoinv (", ", (GStrv) paths->pdata);
      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_BACKEND_UNAVAILABLE,
                   "no Kubernetes configuration: no kubeconfig (%s%s), and not in a cluster "
                   "(KUBERNETES_SERVICE_HOST is not set)",
                   merged.files->len ? "nothing in " : "looked for ", looked);
      return NULL;
    }
  if (merged.files->len == 0)
    {
      g_autofree char *looked = NULL;

      g_ptr_array_add (paths, NULL);
      looked = g_strjoinv (", ", (GStrv) paths->pdata);
      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
                   "context \"%s\": no kubeconfig found (looked for %s)", context, looked);
      return NULL;
    }
  return resolve (&merged, context, error);
}

/* ---- In the cluster, and explicit -------------------------------------- */

LlmsbxKubeConnection *
llmsbx_kube_connection_load_in_cluster (GError **error)
{
  g_autoptr(LlmsbxKubeConnection) connection = g_new0 (LlmsbxKubeConnection, 1);
  const char *host = g_getenv ("KUBERNETES_SERVICE_HOST");
  const char *port = g_getenv ("KUBERNETES_SERVICE_PORT");
  const char *dir = g_getenv (LLMSBX_KUBE_SERVICEACCOUNT_DIR_ENV);
  const char *pod_namespace = g_getenv ("POD_NAMESPACE");
  g_autofree char *token_path = NULL;
  g_autofree char *ca_path = NULL;
  g_autofree char *namespace_path = NULL;
  g_autofree char *ca = NULL;
  g_autofree char *namespace_ = NULL;
  gsize ca_size = 0;
  gsize namespace_size = 0;

  if (host == NULL || *host == '\0' || port == NULL || *port == '\0')
    {
      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_BACKEND_UNAVAILABLE,
                   "not in a Kubernetes cluster: KUBERNETES_SERVICE_HOST and "
                   "KUBERNETES_SERVICE_PORT must both be set");
      return NULL;
    }
  if (dir == NULL || *dir == '\0')
    dir = LLMSBX_KUBE_SERVICEACCOUNT_DIR;
  token_path = g_build_filename (dir, "token", NULL);
  ca_path = g_build_filename (dir, "ca.crt", NULL);
  namespace_path = g_build_filename (dir, "namespace", NULL);

  connection->server = strchr (host, ':') != NULL ? g_strdup_printf ("https://[%s]:%s", host, port)
                                                  : g_strdup_printf ("https://%s:%s", host, port);
  connection->token = read_token_file (token_path, "the in-cluster service account", error);
  if (connection->token == NULL)
    return NULL;
  connection->source = g_new0 (LlmsbxKubeCredentialSource, 1);
  connection->source->token_file = g_strdup (token_path);
  /* Without ca.crt client-go goes on with the system's trust store. */
  if (llmsbx_kube_read_file (ca_path, LLMSBX_KUBE_MAX_CREDENTIAL_SIZE, &ca, &ca_size, NULL))
    connection->ca_pem = g_bytes_new_take (g_steal_pointer (&ca), ca_size);
  else
    g_debug ("no %s: the system's trust store verifies the API server", ca_path);
  if (pod_namespace != NULL && *pod_namespace != '\0')
    connection->namespace_ = g_strdup (pod_namespace);
  else if (llmsbx_kube_read_file (namespace_path, LLMSBX_KUBE_MAX_CREDENTIAL_SIZE, &namespace_, &namespace_size, NULL) &&
           *g_strstrip (namespace_) != '\0')
    connection->namespace_ = g_steal_pointer (&namespace_);
  else
    connection->namespace_ = g_strdup ("default");
  return g_steal_pointer (&connection);
}

LlmsbxKubeConnection *
llmsbx_kube_connection_new_explicit (const char  *server,
                                     const char  *token,
                                     const char  *ca_file,
                                     GError     **error)
{
  g_autoptr(LlmsbxKubeConnection) connection = g_new0 (LlmsbxKubeConnection, 1);

  if (server == NULL || *server == '\0')
    {
      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
                   "a Kubernetes server URL is needed");
      return NULL;
    }
  if (strstr (server, "://") == NULL)
    {
      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
                   "the Kubernetes server must be an http:// or https:// URL, not \"%s\"", server);
      return NULL;
    }
  connection->server = normalize_server (server, "the explicit configuration", error);
  if (connection->server == NULL)
    return NULL;
  connection->namespace_ = g_strdup ("default");
  if (token != NULL && *token != '\0')
    connection->token = g_strdup (token);
  if (ca_file != NULL)
    {
      g_autoptr(GError) local_error = NULL;
      g_autofree char *ca = NULL;
      gsize size = 0;

      if (!llmsbx_kube_read_file (ca_file, LLMSBX_KUBE_MAX_CREDENTIAL_SIZE, &ca, &size, &local_error))
        {
          g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
                       "cannot read the CA file %s: %s", ca_file, local_error->message);
          return NULL;
        }
      if (g_strstr_len (ca, size, "-----BEGIN ") == NULL)
        {
          g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
                       "the CA file %s does not hold a PEM certificate", ca_file);
          return NULL;
        }
      connection->ca_pem = g_bytes_new_take (g_steal_pointer (&ca), size);
    }
  return g_steal_pointer (&connection);
}

/* ---- Credentials again ------------------------------------------------- */

gboolean
llmsbx_kube_connection_refresh (LlmsbxKubeConnection  *connection,
                                gint64                 deadline,
                                GCancellable          *cancellable,
                                GError               **error)
{
  LlmsbxKubeCredentialSource *source;

  g_return_val_if_fail (connection != NULL, FALSE);
  source = connection->source;
  if (source == NULL)
    return TRUE;
  if (source->exec != NULL)
    {
      g_autofree char *token = NULL;
      g_autoptr(GBytes) cert = NULL;
      g_autoptr(GBytes) key = NULL;
      gint64 expiry = 0;

      if (!llmsbx_kube_exec_plugin_run (source->exec, deadline, cancellable,
                                        &token, &cert, &key, &expiry, error))
        return FALSE;
      llmsbx_kube_secret_free (connection->token);
      connection->token = g_steal_pointer (&token);
      connection->expiry = expiry;
      if (cert != NULL)
        {
          g_clear_pointer (&connection->client_cert_pem, g_bytes_unref);
          g_clear_pointer (&connection->client_key_pem, g_bytes_unref);
          connection->client_cert_pem = g_steal_pointer (&cert);
          connection->client_key_pem = g_steal_pointer (&key);
        }
      return TRUE;
    }
  if (source->token_file != NULL)
    {
      char *token = read_token_file (source->token_file, "the connection", error);

      if (token == NULL)
        return FALSE;
      llmsbx_kube_secret_free (connection->token);
      connection->token = token;
    }
  return TRUE;
}

gboolean
llmsbx_kube_connection_needs_refresh (const LlmsbxKubeConnection *connection)
{
  g_return_val_if_fail (connection != NULL, FALSE);
  return connection->expiry != 0 && g_get_real_time () + REFRESH_MARGIN_USEC >= connection->expiry;
}

gboolean
llmsbx_kube_connection_can_refresh (const LlmsbxKubeConnection *connection)
{
  g_return_val_if_fail (connection != NULL, FALSE);
  return connection->source != NULL;
}

gboolean
llmsbx_kube_connection_set_token_file (LlmsbxKubeConnection  *connection,
                                       const char            *path,
                                       GError               **error)
{
  char *token;

  g_return_val_if_fail (connection != NULL, FALSE);
  g_return_val_if_fail (path != NULL, FALSE);
  token = read_token_file (path, "the token-file setting", error);
  if (token == NULL)
    return FALSE;
  llmsbx_kube_secret_free (connection->token);
  connection->token = token;
  credential_source_free (connection->source);
  connection->source = g_new0 (LlmsbxKubeCredentialSource, 1);
  connection->source->token_file = g_strdup (path);
  return TRUE;
}

char *
llmsbx_kube_connection_describe_credentials (const LlmsbxKubeConnection *connection)
{
  g_return_val_if_fail (connection != NULL, NULL);
  if (connection->source != NULL && connection->source->exec != NULL)
    return g_strdup_printf ("the exec credential plugin %s (%s)", connection->source->exec->command,
                            connection->source->exec->where);
  if (connection->source != NULL && connection->source->token_file != NULL)
    return g_strdup_printf ("the bearer token from %s", connection->source->token_file);
  if (connection->token != NULL && connection->client_cert_pem != NULL)
    return g_strdup ("the bearer token and the client certificate");
  if (connection->token != NULL)
    return g_strdup ("the bearer token");
  if (connection->client_cert_pem != NULL)
    return g_strdup ("the client certificate");
  return g_strdup ("no credentials");
}
