/* llmsbx-kube-config-private.h: the pieces of llmsbx-kube-config.c that
 * live in files of their own: reading one kubeconfig file with libyaml, and
 * running an exec credential plugin, reading the files it names. */
#pragma once

#include <yaml.h>

#include "llmsbx-kube-config.h"

G_BEGIN_DECLS

/* One parsed kubeconfig file (its first YAML document; JSON is YAML too). */
typedef struct {
  char            *path;
  char            *dir;        /* relative paths of its entries start here */
  yaml_document_t  doc;
} LlmsbxKubeFile;

LlmsbxKubeFile *llmsbx_kube_file_load (const char  *path,
                                       GError     **error);
void            llmsbx_kube_file_free (LlmsbxKubeFile *file);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (LlmsbxKubeFile, llmsbx_kube_file_free)

/* The top-level mapping; NULL for an empty file. Fails if it is not a mapping. */
gboolean     llmsbx_kube_file_root (LlmsbxKubeFile  *file,
                                    yaml_node_t    **root,
                                    GError         **error);

/* Typed reads of map[key]. An absent key or a YAML null leaves *out alone and
 * succeeds; a value of another type fails, naming @where.@key and the file.
 * Strings come out as they are written (scalars of any style). */
gboolean llmsbx_kube_yaml_get_string   (LlmsbxKubeFile  *file,
                                        yaml_node_t     *map,
                                        const char      *where,
                                        const char      *key,
                                        char           **out,
                                        GError         **error);
gboolean llmsbx_kube_yaml_get_bool     (LlmsbxKubeFile  *file,
                                        yaml_node_t     *map,
                                        const char      *where,
                                        const char      *key,
                                        gboolean        *out,
                                        GError         **error);
/* @type: YAML_MAPPING_NODE or YAML_SEQUENCE_NODE. */
gboolean llmsbx_kube_yaml_get_node     (LlmsbxKubeFile  *file,
                                        yaml_node_t     *map,
                                        const char      *where,
                                        const char      *key,
                                        yaml_node_type_t type,
                                        yaml_node_t    **out,
                                        GError         **error);
/* The items of a sequence node, in order. */
guint        llmsbx_kube_yaml_seq_length (yaml_node_t    *seq);
yaml_node_t *llmsbx_kube_yaml_seq_item   (LlmsbxKubeFile *file,
                                          yaml_node_t    *seq,
                                          guint           index);

/* An exec credential plugin's configuration (users[].user.exec), paths resolved. */
typedef struct {
  char     *api_version;
  char     *command;
  GStrv     args;
  GStrv     env;                  /* NAME=VALUE, added to ours */
  char     *install_hint;
  gboolean  provide_cluster_info;
  char     *cluster_json;         /* spec.cluster when provide_cluster_info */
  char     *where;                /* "users[NAME].user.exec in FILE", for messages */
} LlmsbxKubeExecConfig;

void llmsbx_kube_exec_config_free (LlmsbxKubeExecConfig *config);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (LlmsbxKubeExecConfig, llmsbx_kube_exec_config_free)

/* Runs the plugin (no shell, stdin closed, at most the exec timeout, and
 * killed at @deadline, monotonic µs or 0 for none, with LLMSBX_ERROR_TIMEOUT,
 * or when @cancellable is cancelled) and reads its ExecCredential: a token
 * and/or a client certificate and key, and the expiry (0 for none). */
gboolean llmsbx_kube_exec_plugin_run (const LlmsbxKubeExecConfig  *config,
                                      gint64                       deadline,
                                      GCancellable                *cancellable,
                                      char                       **token,
                                      GBytes                     **client_cert_pem,
                                      GBytes                     **client_key_pem,
                                      gint64                      *expiry,
                                      GError                     **error);

/* The largest kubeconfig, and the largest file one names (a CA bundle,
 * a certificate, a key, a token). */
#define LLMSBX_KUBE_MAX_KUBECONFIG_SIZE (16 * 1024 * 1024)
#define LLMSBX_KUBE_MAX_CREDENTIAL_SIZE (4 * 1024 * 1024)

/* Reads at most @max_size bytes of @path (NUL-terminated); a longer file
 * fails. Errors in the G_FILE_ERROR domain, without the path. */
gboolean llmsbx_kube_read_file (const char  *path,
                                gsize        max_size,
                                char       **contents,
                                gsize       *length,
                                GError     **error);

/* A GBytes that wipes its copy of @data when it is freed. */
GBytes *llmsbx_kube_secret_bytes_new (const void *data,
                                      gsize       size);
/* Wipes and frees a string. */
void    llmsbx_kube_secret_free      (char *secret);

G_END_DECLS
