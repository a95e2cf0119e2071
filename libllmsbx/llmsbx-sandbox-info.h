/* llmsbx-sandbox-info.h: what a backend reports about one of its sandboxes. */
#pragma once

#if !defined(LLMSBX_INSIDE) && !defined(LLMSBX_COMPILATION)
#error "Only <llmsbx.h> can be included directly."
#endif

#include <glib-object.h>
#include "llmsbx-visibility.h"

G_BEGIN_DECLS

#define LLMSBX_TYPE_SANDBOX_INFO (llmsbx_sandbox_info_get_type ())

/**
 * LlmsbxSandboxInfo:
 * @id: the sandbox's full id, as llmsbx_backend_create_sandbox() returned it
 * @labels: (array zero-terminated=1): its `key=value` labels
 *
 * One sandbox found by llmsbx_backend_list_sandboxes(): enough to tell whose
 * it is (the labels a session puts on it) and to remove it.
 *
 * Fields may be appended in later releases: allocate it only with
 * llmsbx_sandbox_info_new().
 *
 * Since: 0.1
 */
typedef struct {
  char  *id;
  char **labels;
} LlmsbxSandboxInfo;

LLMSBX_AVAILABLE_IN_ALL
GType              llmsbx_sandbox_info_get_type  (void) G_GNUC_CONST;
LLMSBX_AVAILABLE_IN_ALL
LlmsbxSandboxInfo *llmsbx_sandbox_info_new       (const char               *id,
                                                  const char * const       *labels);
LLMSBX_AVAILABLE_IN_ALL
LlmsbxSandboxInfo *llmsbx_sandbox_info_copy      (const LlmsbxSandboxInfo  *self);
LLMSBX_AVAILABLE_IN_ALL
void               llmsbx_sandbox_info_free      (LlmsbxSandboxInfo        *self);
LLMSBX_AVAILABLE_IN_ALL
const char        *llmsbx_sandbox_info_get_label (const LlmsbxSandboxInfo  *self,
                                                  const char               *key);
LLMSBX_AVAILABLE_IN_ALL
gboolean           llmsbx_sandbox_info_matches   (const LlmsbxSandboxInfo  *self,
                                                  const char * const       *label_selector);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (LlmsbxSandboxInfo, llmsbx_sandbox_info_free)

G_END_DECLS
