/* llmsbx-kube-yaml.c: one kubeconfig file through libyaml, and typed reads of
 * its nodes.
 *
 * libyaml's loader builds the document as a table of nodes (aliases become
 * references to the anchored node), which is read in place: only the keys
 * kubeconfig defines are ever looked at, so a file of aliases cannot make
 * reading it expensive. kubectl reads YAML through go-yaml v2 (YAML 1.1), so
 * plain `yes`/`no`/`on`/`off` are booleans and `~`, `null` and an empty
 * plain value mean "not set"; a JSON kubeconfig is a YAML document too. */
#undef G_LOG_DOMAIN
#define G_LOG_DOMAIN "Llmsbx-Kubernetes"

#include <llmsbx.h>
#include <string.h>

#include "llmsbx-kube-config-private.h"

void
llmsbx_kube_file_free (LlmsbxKubeFile *file)
{
  if (file == NULL)
    return;
  yaml_document_delete (&file->doc);
  g_free (file->path);
  g_free (file->dir);
  g_free (file);
}

LlmsbxKubeFile *
llmsbx_kube_file_load (const char  *path,
                       GError     **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autofree char *text = NULL;
  g_autofree char *absolute = NULL;
  gsize length = 0;
  yaml_parser_t parser;
  int ok;
  LlmsbxKubeFile *file;

  /* kubeconfig files are a few KiB; anything this large is not one. */
  if (!llmsbx_kube_read_file (path, LLMSBX_KUBE_MAX_KUBECONFIG_SIZE, &text, &length, &local_error))
    {
      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
                   "cannot read kubeconfig %s: %s", path, local_error->message);
      return NULL;
    }

  absolute = g_canonicalize_filename (path, NULL);
  file = g_new0 (LlmsbxKubeFile, 1);
  file->path = g_strdup (path);
  file->dir = g_path_get_dirname (absolute);

  if (!yaml_parser_initialize (&parser))
    g_error ("yaml_parser_initialize: out of memory");
  yaml_parser_set_input_string (&parser, (const unsigned char *) text, length);
  ok = yaml_parser_load (&parser, &file->doc);
  /* Tokens and keys may be inline; the document has its own copy. */
  explicit_bzero (text, length);
  if (!ok)
    {
      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
                   "kubeconfig %s is not valid YAML: %s%s%s at line %zu, column %zu",
                   path, parser.problem ? parser.problem : "parse error",
                   parser.context ? " " : "", parser.context ? parser.context : "",
                   parser.problem_mark.line + 1, parser.problem_mark.column + 1);
      yaml_parser_delete (&parser);
      /* yaml_parser_load leaves the document empty on failure. */
      llmsbx_kube_file_free (file);
      return NULL;
    }
  yaml_parser_delete (&parser);
  return file;
}

static gboolean
is_null (const yaml_node_t *node)
{
  const char *value;

  if (node->type != YAML_SCALAR_NODE || node->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
    return FALSE;
  value = (const char *) node->data.scalar.value;
  return *value == '\0' || g_str_equal (value, "~") || g_str_equal (value, "null") ||
         g_str_equal (value, "Null") || g_str_equal (value, "NULL");
}

gboolean
llmsbx_kube_file_root (LlmsbxKubeFile  *file,
                       yaml_node_t    **root,
                       GError         **error)
{
  yaml_node_t *node = yaml_document_get_root_node (&file->doc);

  *root = NULL;
  if (node == NULL || is_null (node))
    return TRUE;
  if (node->type != YAML_MAPPING_NODE)
    {
      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
                   "kubeconfig %s is not a mapping (a Config object) at its top level", file->path);
      return FALSE;
    }
  *root = node;
  return TRUE;
}

/* map[key], or NULL when absent or null. */
static yaml_node_t *
lookup (LlmsbxKubeFile *file,
        yaml_node_t    *map,
        const char     *key)
{
  yaml_node_pair_t *pair;

  if (map == NULL || map->type != YAML_MAPPING_NODE)
    return NULL;
  for (pair = map->data.mapping.pairs.start; pair < map->data.mapping.pairs.top; pair++)
    {
      yaml_node_t *k = yaml_document_get_node (&file->doc, pair->key);
      yaml_node_t *v;

      if (k == NULL || k->type != YAML_SCALAR_NODE ||
          strcmp ((const char *) k->data.scalar.value, key) != 0)
        continue;
      v = yaml_document_get_node (&file->doc, pair->value);
      return v == NULL || is_null (v) ? NULL : v;
    }
  return NULL;
}

static const char *
type_name (yaml_node_type_t type)
{
  switch (type)
    {
    case YAML_SCALAR_NODE:
      return "a scalar";
    case YAML_SEQUENCE_NODE:
      return "a list";
    case YAML_MAPPING_NODE:
      return "a mapping";
    case YAML_NO_NODE:
    default:
      return "nothing";
    }
}

static gboolean
wrong_type (LlmsbxKubeFile  *file,
            const char      *where,
            const char      *key,
            const char      *wanted,
            yaml_node_t     *node,
            GError         **error)
{
  g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
               "%s%s%s in kubeconfig %s (line %zu) must be %s, not %s",
               where, *where ? "." : "", key, file->path, node->start_mark.line + 1,
               wanted, type_name (node->type));
  return FALSE;
}

gboolean
llmsbx_kube_yaml_get_string (LlmsbxKubeFile  *file,
                             yaml_node_t     *map,
                             const char      *where,
                             const char      *key,
                             char           **out,
                             GError         **error)
{
  yaml_node_t *node = lookup (file, map, key);

  if (node == NULL)
    return TRUE;
  if (node->type != YAML_SCALAR_NODE)
    return wrong_type (file, where, key, "a string", node, error);
  g_free (*out);
  *out = g_strndup ((const char *) node->data.scalar.value, node->data.scalar.length);
  return TRUE;
}

gboolean
llmsbx_kube_yaml_get_bool (LlmsbxKubeFile  *file,
                           yaml_node_t     *map,
                           const char      *where,
                           const char      *key,
                           gboolean        *out,
                           GError         **error)
{
  static const char *const yes[] = { "true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON", NULL };
  static const char *const no[] = { "false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF", NULL };
  yaml_node_t *node = lookup (file, map, key);
  const char *value;

  if (node == NULL)
    return TRUE;
  /* A quoted "true" is a string, which kubectl refuses for a boolean too. */
  if (node->type != YAML_SCALAR_NODE || node->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
    return wrong_type (file, where, key, "true or false", node, error);
  value = (const char *) node->data.scalar.value;
  if (g_strv_contains (yes, value))
    *out = TRUE;
  else if (g_strv_contains (no, value))
    *out = FALSE;
  else
    {
      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
                   "%s%s%s in kubeconfig %s (line %zu) must be true or false, not \"%s\"",
                   where, *where ? "." : "", key, file->path, node->start_mark.line + 1, value);
      return FALSE;
    }
  return TRUE;
}

gboolean
llmsbx_kube_yaml_get_node (LlmsbxKubeFile    *file,
                           yaml_node_t       *map,
                           const char        *where,
                           const char        *key,
                           yaml_node_type_t   type,
                           yaml_node_t      **out,
                           GError           **error)
{
  yaml_node_t *node = lookup (file, map, key);

  *out = NULL;
  if (node == NULL)
    return TRUE;
  if (node->type != type)
    return wrong_type (file, where, key, type_name (type), node, error);
  *out = node;
  return TRUE;
}

guint
llmsbx_kube_yaml_seq_length (yaml_node_t *seq)
{
  if (seq == NULL || seq->type != YAML_SEQUENCE_NODE)
    return 0;
  return (guint) (seq->data.sequence.items.top - seq->data.sequence.items.start);
}

yaml_node_t *
llmsbx_kube_yaml_seq_item (LlmsbxKubeFile *file,
                           yaml_node_t    *seq,
                           guint           index)
{
  g_return_val_if_fail (index < llmsbx_kube_yaml_seq_length (seq), NULL);
  return yaml_document_get_node (&file->doc, seq->data.sequence.items.start[index]);
}
