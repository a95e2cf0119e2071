/* llmsbx-bubblewrap-cgroup.h: a cgroup (v1 or v2) per bubblewrap sandbox, for its limits. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  LLMSBX_CGROUP_NONE,
  LLMSBX_CGROUP_V1,
  LLMSBX_CGROUP_V2,
} LlmsbxCgroupVersion;

/**
 * LlmsbxCgroupLimits:
 * @memory: bytes; 0 for no limit
 * @memory_swap: memory plus swap in bytes; 0 for the default (twice @memory,
 *   as Docker does), -1 for unlimited swap
 * @pids: the most processes at once; 0 for no limit
 * @cpu_quota: microseconds of CPU time per @cpu_period; 0 for no limit
 * @cpu_period: microseconds; 0 for the kernel's 100000
 * @cpu_shares: relative weight (v1 shares, 2..262144); 0 for the default
 * @cpuset_cpus: (nullable): the CPUs it may run on, as `0-1,3`
 *
 * What a sandbox's cgroup enforces.
 */
typedef struct {
  gint64  memory;
  gint64  memory_swap;
  gint64  pids;
  gint64  cpu_quota;
  gint64  cpu_period;
  gint64  cpu_shares;
  char   *cpuset_cpus;
} LlmsbxCgroupLimits;

/* The cgroup of one sandbox: the directories made for it and where the
 * sandbox sees them. */
typedef struct {
  LlmsbxCgroupVersion version;
  GPtrArray *dirs;          /* host directories, one per v1 controller */
  GPtrArray *views;         /* for each dir, its path below /sys/fs/cgroup in the sandbox ("" for v2) */
} LlmsbxCgroup;

LlmsbxCgroupVersion llmsbx_cgroup_detect       (const char                *root);
LlmsbxCgroup       *llmsbx_cgroup_create       (const char                *root,
                                                const char                *parent,
                                                const char                *name,
                                                const LlmsbxCgroupLimits  *limits,
                                                GError                   **error);
void                llmsbx_cgroup_free         (LlmsbxCgroup              *self);
char              **llmsbx_cgroup_procs_files  (LlmsbxCgroup              *self);

/* On directories alone, for whoever cleans up after a sandbox (the helper
 * that watches it, or the reaper of a dead one). */
gboolean            llmsbx_cgroup_kill_all     (const char * const        *dirs);
gboolean            llmsbx_cgroup_remove_dirs  (const char * const        *dirs,
                                                GError                   **error);
guint64             llmsbx_cgroup_weight_from_shares (gint64               shares);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (LlmsbxCgroup, llmsbx_cgroup_free)

G_END_DECLS
