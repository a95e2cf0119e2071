/* llmsbx-session-table.h: the sandboxes a service runs for its clients. */
#pragma once

#include <llmsbx.h>

#include "llmsbx-service-error.h"

G_BEGIN_DECLS

/* Defaults of the services; docs/mcp.md and docs/dbus.md describe them. */
#define LLMSBX_SESSION_TABLE_DEFAULT_PRESET         "production"
#define LLMSBX_SESSION_TABLE_DEFAULT_MAX_SANDBOXES  4
#define LLMSBX_SESSION_TABLE_DEFAULT_MAX_PER_OWNER  4
#define LLMSBX_SESSION_TABLE_DEFAULT_IDLE_TIMEOUT   600.0
#define LLMSBX_SESSION_TABLE_DEFAULT_MAX_TIMEOUT    300.0
#define LLMSBX_SESSION_TABLE_DEFAULT_OUTPUT_LIMIT   (1024 * 1024)

#define LLMSBX_TYPE_SESSION_TABLE (llmsbx_session_table_get_type ())
G_DECLARE_FINAL_TYPE (LlmsbxSessionTable, llmsbx_session_table, LLMSBX, SESSION_TABLE, GObject)

LlmsbxSessionTable *llmsbx_session_table_new             (void);

gboolean            llmsbx_session_table_check_config    (LlmsbxSessionTable   *self,
                                                          GError              **error);
gboolean            llmsbx_session_table_reap            (LlmsbxSessionTable   *self,
                                                          guint                *reaped,
                                                          GError              **error);
gboolean            llmsbx_session_table_set_runtime_configs_json (LlmsbxSessionTable *self,
                                                                   const char         *json,
                                                                   GError            **error);
const char         *llmsbx_session_table_get_preset      (LlmsbxSessionTable   *self);
double              llmsbx_session_table_get_idle_timeout (LlmsbxSessionTable  *self);
double              llmsbx_session_table_get_max_timeout (LlmsbxSessionTable   *self);
double              llmsbx_session_table_get_default_timeout (LlmsbxSessionTable *self);
gboolean            llmsbx_session_table_resolve_timeout (LlmsbxSessionTable   *self,
                                                          double                timeout,
                                                          double               *resolved,
                                                          GError              **error);
gboolean            llmsbx_session_table_get_idle        (LlmsbxSessionTable   *self);

LlmsbxSandboxSession *llmsbx_session_table_new_session   (LlmsbxSessionTable   *self,
                                                          const char           *lang,
                                                          GError              **error);

/* One run in a sandbox of its own, removed afterwards. */
void                   llmsbx_session_table_run_once_async  (LlmsbxSessionTable  *self,
                                                             const char          *lang,
                                                             const char          *code,
                                                             const char * const  *libraries,
                                                             double               timeout,
                                                             GCancellable        *cancellable,
                                                             GAsyncReadyCallback  callback,
                                                             gpointer             user_data);
LlmsbxExecutionResult *llmsbx_session_table_run_once_finish (LlmsbxSessionTable  *self,
                                                             GAsyncResult        *result,
                                                             GError             **error);

/* Kept sessions: open until closed, until their owner goes, or idle expiry. */
void     llmsbx_session_table_open_async   (LlmsbxSessionTable   *self,
                                            const char           *owner,
                                            const char           *lang,
                                            GCancellable         *cancellable,
                                            GAsyncReadyCallback   callback,
                                            gpointer              user_data);
guint    llmsbx_session_table_open_finish  (LlmsbxSessionTable   *self,
                                            GAsyncResult         *result,
                                            GError              **error);
LlmsbxSandboxSession *llmsbx_session_table_lookup (LlmsbxSessionTable *self,
                                                   guint               id,
                                                   const char         *owner,
                                                   GError            **error);
void     llmsbx_session_table_run_async    (LlmsbxSessionTable   *self,
                                            guint                 id,
                                            const char           *owner,
                                            const char           *code,
                                            const char * const   *libraries,
                                            double                timeout,
                                            GCancellable         *cancellable,
                                            GAsyncReadyCallback   callback,
                                            gpointer              user_data);
LlmsbxExecutionResult *llmsbx_session_table_run_finish (LlmsbxSessionTable *self,
                                                        GAsyncResult       *result,
                                                        GError            **error);
void     llmsbx_session_table_close_async  (LlmsbxSessionTable   *self,
                                            guint                 id,
                                            const char           *owner,
                                            GAsyncReadyCallback   callback,
                                            gpointer              user_data);
gboolean llmsbx_session_table_close_finish (LlmsbxSessionTable   *self,
                                            GAsyncResult         *result,
                                            GError              **error);
guint    llmsbx_session_table_close_owner  (LlmsbxSessionTable   *self,
                                            const char           *owner);
GArray  *llmsbx_session_table_list         (LlmsbxSessionTable   *self,
                                            const char           *owner);

/* A use of a kept session by work the table does not do itself. */
typedef struct _LlmsbxSessionUse LlmsbxSessionUse;

LlmsbxSessionUse     *llmsbx_session_table_begin_use    (LlmsbxSessionTable *self,
                                                         guint               id,
                                                         const char         *owner,
                                                         GCancellable       *cancellable,
                                                         GError            **error);
LlmsbxSandboxSession *llmsbx_session_use_get_session     (LlmsbxSessionUse   *use);
GCancellable         *llmsbx_session_use_get_cancellable (LlmsbxSessionUse   *use);
void                  llmsbx_session_use_end             (LlmsbxSessionUse   *use);

/* Cancels everything, closes every session, and waits for their removal. */
void     llmsbx_session_table_shutdown_async  (LlmsbxSessionTable  *self,
                                               GAsyncReadyCallback  callback,
                                               gpointer             user_data);
gboolean llmsbx_session_table_shutdown_finish (LlmsbxSessionTable  *self,
                                               GAsyncResult        *result,
                                               GError             **error);

G_END_DECLS
