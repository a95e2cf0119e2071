/* llmsbx-service-options.h: the flags and environment variables both services take. */
#pragma once

#include "llmsbx-session-table.h"

G_BEGIN_DECLS

typedef struct _LlmsbxServiceOptions LlmsbxServiceOptions;

LlmsbxServiceOptions *llmsbx_service_options_new         (const char            *env_prefix);
void                  llmsbx_service_options_free        (LlmsbxServiceOptions  *self);
void                  llmsbx_service_options_add_entries (LlmsbxServiceOptions  *self,
                                                          GOptionContext        *context);
gboolean              llmsbx_service_options_apply       (LlmsbxServiceOptions  *self,
                                                          LlmsbxSessionTable    *table,
                                                          GError               **error);
const char           *llmsbx_service_options_get         (LlmsbxServiceOptions  *self,
                                                          const char            *flag_value,
                                                          const char            *name);
gboolean              llmsbx_service_options_get_count   (LlmsbxServiceOptions  *self,
                                                          const char            *flag_value,
                                                          const char            *name,
                                                          guint64                max,
                                                          guint64               *count,
                                                          GError               **error);
gboolean              llmsbx_service_options_get_seconds (LlmsbxServiceOptions  *self,
                                                          const char            *flag_value,
                                                          const char            *name,
                                                          double                *seconds,
                                                          GError               **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (LlmsbxServiceOptions, llmsbx_service_options_free)

G_END_DECLS
