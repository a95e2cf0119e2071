/* llmsbx-sandbox-info.c: what a backend reports about one of its sandboxes. */
#include "config.h"

#include <string.h>

#include "llmsbx-sandbox-info.h"

G_DEFINE_BOXED_TYPE (LlmsbxSandboxInfo, llmsbx_sandbox_info,
                     llmsbx_sandbox_info_copy, llmsbx_sandbox_info_free)

/**
 * llmsbx_sandbox_info_new:
 * @id: the sandbox id
 * @labels: (array zero-terminated=1) (nullable): its `key=value` labels
 *
 * Returns: (transfer full): a new #LlmsbxSandboxInfo
 *
 * Since: 0.1
 */
LlmsbxSandboxInfo *
llmsbx_sandbox_info_new (const char         *id,
                         const char * const *labels)
{
  LlmsbxSandboxInfo *self;

  g_return_val_if_fail (id != NULL, NULL);

  self = g_new0 (LlmsbxSandboxInfo, 1);
  self->id = g_strdup (id);
  self->labels = labels != NULL ? g_strdupv ((char **) labels) : g_new0 (char *, 1);
  return self;
}

/**
 * llmsbx_sandbox_info_copy:
 * @self: a #LlmsbxSandboxInfo
 *
 * Returns: (transfer full): a deep copy of @self
 *
 * Since: 0.1
 */
LlmsbxSandboxInfo *
llmsbx_sandbox_info_copy (const LlmsbxSandboxInfo *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return llmsbx_sandbox_info_new (self->id, (const char * const *) self->labels);
}

/**
 * llmsbx_sandbox_info_free:
 * @self: (nullable): a #LlmsbxSandboxInfo
 *
 * Frees @self and everything it holds.
 *
 * Since: 0.1
 */
void
llmsbx_sandbox_info_free (LlmsbxSandboxInfo *self)
{
  if (self == NULL)
    return;

  g_free (self->id);
  g_strfreev (self->labels);
  g_free (self);
}

/* The entry of @labels for @key, or NULL. */
static const char *
find_label (char * const *labels,
            const char   *key,
            gsize         key_len)
{
  for (char * const *l = labels; l != NULL && *l != NULL; l++)
    if (strncmp (*l, key, key_len) == 0 && ((*l)[key_len] == '=' || (*l)[key_len] == '\0'))
      return *l;
  return NULL;
}

/**
 * llmsbx_sandbox_info_get_label:
 * @self: a #LlmsbxSandboxInfo
 * @key: a label key
 *
 * Returns: (nullable): the value of the label @key, or %NULL if it is not set
 *
 * Since: 0.1
 */
const char *
llmsbx_sandbox_info_get_label (const LlmsbxSandboxInfo *self,
                               const char              *key)
{
  gsize key_len;
  const char *entry;

  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (key != NULL, NULL);

  key_len = strlen (key);
  entry = find_label (self->labels, key, key_len);
  if (entry == NULL)
    return NULL;
  return entry[key_len] == '=' ? entry + key_len + 1 : "";
}

/**
 * llmsbx_sandbox_info_matches:
 * @self: a #LlmsbxSandboxInfo
 * @label_selector: (array zero-terminated=1) (nullable): `key=value` (the
 *   label has that value) or `key` (the label is set) entries
 *
 * Whether @self has every label of @label_selector, as Docker's `label`
 * filter matches: what llmsbx_backend_list_sandboxes() selects. An empty or
 * %NULL selector matches every sandbox.
 *
 * Returns: %TRUE when every entry matches
 *
 * Since: 0.1
 */
gboolean
llmsbx_sandbox_info_matches (const LlmsbxSandboxInfo *self,
                             const char * const      *label_selector)
{
  g_return_val_if_fail (self != NULL, FALSE);

  for (const char * const *s = label_selector; s != NULL && *s != NULL; s++)
    {
      const char *eq = strchr (*s, '=');
      gsize key_len = eq != NULL ? (gsize) (eq - *s) : strlen (*s);
      const char *entry = find_label (self->labels, *s, key_len);

      if (entry == NULL)
        return FALSE;
      if (eq != NULL && (entry[key_len] != '=' || strcmp (entry + key_len + 1, eq + 1) != 0))
        return FALSE;
    }
  return TRUE;
}
