/* llmsbx-bubblewrap-runtime-configs.h: the runtime_configs keys a bubblewrap sandbox honours. */
#pragma once

#include <llmsbx.h>

#include "llmsbx-bubblewrap-cgroup.h"

G_BEGIN_DECLS

typedef enum {
  LLMSBX_BUBBLEWRAP_NETWORK_NONE,
  LLMSBX_BUBBLEWRAP_NETWORK_HOST,
  LLMSBX_BUBBLEWRAP_NETWORK_BRIDGE,
} LlmsbxBubblewrapNetwork;

typedef struct {
  char     *path;
  guint64   size;       /* bytes; 0 for the kernel's default */
  guint     mode;       /* permission bits */
  guint64   nr_inodes;  /* 0 for the default */
  gboolean  noexec;
  gboolean  read_only;
} LlmsbxBubblewrapTmpfs;

typedef struct {
  char     *source;     /* on the host */
  char     *target;     /* in the sandbox */
  gboolean  read_only;
} LlmsbxBubblewrapBind;

typedef struct {
  char    *name;        /* as docker-py names it: nofile, nproc, ... */
  guint64  soft;
  guint64  hard;
} LlmsbxBubblewrapRlimit;

/**
 * LlmsbxBubblewrapConfig:
 *
 * The runtime_configs of a sandbox, read and checked: every key a bubblewrap
 * sandbox cannot honour has already been refused.
 */
typedef struct {
  LlmsbxCgroupLimits       limits;
  gboolean                 has_limits;     /* any of @limits was given */
  char                   **env;            /* KEY=VALUE, from "environment" */
  char                   **labels;         /* key=value */
  char                    *working_dir;
  char                    *user;
  char                    *hostname;
  gboolean                 read_only;
  LlmsbxBubblewrapNetwork  network;
  GPtrArray               *tmpfs;          /* LlmsbxBubblewrapTmpfs */
  GPtrArray               *binds;          /* LlmsbxBubblewrapBind */
  GPtrArray               *rlimits;        /* LlmsbxBubblewrapRlimit */
  char                   **cap_add;        /* CAP_NAME, or ALL */
  char                   **cap_drop;
  guint64                  shm_size;       /* bytes; 0 for the default */

  /*< private >*/
  gboolean                 cpus_given;     /* cpu_count or nano_cpus */
  gboolean                 period_given;
} LlmsbxBubblewrapConfig;

LlmsbxBubblewrapConfig *llmsbx_bubblewrap_config_parse (GVariant                *runtime_configs,
                                                        GError                 **error);
void                    llmsbx_bubblewrap_config_free  (LlmsbxBubblewrapConfig  *self);
const char * const     *llmsbx_bubblewrap_config_keys  (void);

gboolean                llmsbx_bubblewrap_parse_bytes  (const char              *text,
                                                        guint64                 *bytes);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (LlmsbxBubblewrapConfig, llmsbx_bubblewrap_config_free)

G_END_DECLS
