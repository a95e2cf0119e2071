/* llmsbx-session-object.h: one kept session on the bus, its owner's alone. */
#pragma once

#include "llmsbx-dbus-generated.h"
#include "llmsbx-session-table.h"

G_BEGIN_DECLS

/* Calls one session may have waiting; more are refused. */
#define LLMSBX_SESSION_OBJECT_MAX_QUEUED 16

#define LLMSBX_TYPE_SESSION_OBJECT (llmsbx_session_object_get_type ())
G_DECLARE_FINAL_TYPE (LlmsbxSessionObject, llmsbx_session_object, LLMSBX, SESSION_OBJECT, GObject)

LlmsbxSessionObject      *llmsbx_session_object_new        (LlmsbxSessionTable  *table,
                                                            GDBusConnection     *connection,
                                                            guint                id,
                                                            const char          *owner,
                                                            goffset              max_copy_size);
LlmsbxDBusObjectSkeleton *llmsbx_session_object_get_object (LlmsbxSessionObject *self);
const char               *llmsbx_session_object_get_path   (LlmsbxSessionObject *self);
void                      llmsbx_session_object_closed     (LlmsbxSessionObject *self);

G_END_DECLS
