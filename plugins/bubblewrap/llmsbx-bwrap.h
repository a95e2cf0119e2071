/* llmsbx-bwrap.h: a bwrap command line, built argument by argument. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _LlmsbxBwrap LlmsbxBwrap;

LlmsbxBwrap *llmsbx_bwrap_new             (const char   *program);
void         llmsbx_bwrap_free            (LlmsbxBwrap  *self);
void         llmsbx_bwrap_add_arg         (LlmsbxBwrap  *self,
                                           const char   *arg);
void         llmsbx_bwrap_add_args        (LlmsbxBwrap  *self,
                                           const char   *first,
                                           ...) G_GNUC_NULL_TERMINATED;
void         llmsbx_bwrap_add_arg_printf  (LlmsbxBwrap  *self,
                                           const char   *format,
                                           ...) G_GNUC_PRINTF (2, 3);
void         llmsbx_bwrap_add_bind        (LlmsbxBwrap  *self,
                                           gboolean      read_only,
                                           const char   *source,
                                           const char   *dest);
void         llmsbx_bwrap_add_setenv      (LlmsbxBwrap  *self,
                                           const char   *assignment);
const char * const *llmsbx_bwrap_get_argv (LlmsbxBwrap  *self);
char        *llmsbx_bwrap_to_string       (LlmsbxBwrap  *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (LlmsbxBwrap, llmsbx_bwrap_free)

G_END_DECLS
