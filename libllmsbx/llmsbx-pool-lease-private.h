/* llmsbx-pool-lease-private.h: one sandbox of a pool, between the pool's
 * bookkeeping (llmsbx-sandbox-pool.c) and what it does inside the sandbox
 * (llmsbx-pool-lease.c). Not installed. */
#pragma once

#include "llmsbx-backend.h"
#include "llmsbx-sandbox-pool-private.h"
#include "llmsbx-sandbox-session.h"

G_BEGIN_DECLS

/* The variable every exec of a lease carries (llmsbx_pool_lease_get_env()). */
#define LEASE_VARIABLE "LLMSBX_POOL_LEASE"

typedef enum {
  ENTRY_IDLE,
  ENTRY_BUSY,
  ENTRY_RESETTING,
  ENTRY_CHECKING,
} EntryState;

struct _LlmsbxPoolLease
{
  LlmsbxSandboxSession *owner;       /* the pool's session that created the sandbox */
  LlmsbxBackend        *backend;
  char                 *sandbox_id;
  char                 *lease_env;   /* LEASE_VARIABLE=<token>, new for each user */
  EntryState            state;
  gboolean              temporary;
  gboolean              killed;      /* destroyed by close() while busy */
  gint64                created_at;  /* monotonic */
  gint64                idle_since;
  guint                 uses;

  /* What the sandbox held when it was new, for the reset. */
  gboolean              resettable;
  char                 *unresettable; /* why not, when it is known */
  char                 *baseline;    /* its clock then, seconds.nanoseconds */
  char                 *baseline_pids;
  gboolean              own_namespace;
  GHashTable           *manifest;    /* path → type letter of find -printf %y */
  GHashTable           *engine_files; /* path → its mode, owner, inode, size, hash */
};

/* Records what the new sandbox holds. A sandbox whose state cannot be read
 * (no find in the image) still serves, once: it is destroyed after use. */
void     llmsbx_pool_lease_record_baseline (LlmsbxPoolLease  *entry,
                                            const char       *workdir);

/* Whether the sandbox is as it was at the baseline once the reset is done;
 * @why says what kept it from being so. */
gboolean llmsbx_pool_lease_reset           (LlmsbxPoolLease  *entry,
                                            const char       *workdir,
                                            char            **why);

/* Whether the sandbox still runs a command (the health check). */
gboolean llmsbx_pool_lease_check           (LlmsbxPoolLease  *entry);

G_END_DECLS
