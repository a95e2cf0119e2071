/* llmsbx-security-limits.h: a sandbox's limits, the same for every backend. */
#pragma once

#if !defined(LLMSBX_INSIDE) && !defined(LLMSBX_COMPILATION)
#error "Only <llmsbx.h> can be included directly."
#endif

#include <glib-object.h>
#include "llmsbx-visibility.h"

G_BEGIN_DECLS

/**
 * LlmsbxSandboxNetwork:
 * @LLMSBX_SANDBOX_NETWORK_NONE: no network at all, only loopback
 * @LLMSBX_SANDBOX_NETWORK_BRIDGE: the backend's own private network, with
 *   outbound access (Docker's and Podman's `bridge`)
 *
 * The network a sandbox gets.
 *
 * Since: 0.1
 */
typedef enum {
  LLMSBX_SANDBOX_NETWORK_NONE,
  LLMSBX_SANDBOX_NETWORK_BRIDGE,
} LlmsbxSandboxNetwork;

/**
 * LlmsbxMountFlags:
 * @LLMSBX_MOUNT_FLAGS_NONE: the backend's defaults
 * @LLMSBX_MOUNT_FLAGS_NOEXEC: programs cannot be run from the mount
 * @LLMSBX_MOUNT_FLAGS_NOSUID: set-user-id bits are ignored
 * @LLMSBX_MOUNT_FLAGS_NODEV: device files are not usable
 *
 * Mount options of a tmpfs that a preset asks for explicitly.
 *
 * Since: 0.1
 */
typedef enum /*< flags >*/ {
  LLMSBX_MOUNT_FLAGS_NONE = 0,
  LLMSBX_MOUNT_FLAGS_NOEXEC = 1 << 0,
  LLMSBX_MOUNT_FLAGS_NOSUID = 1 << 1,
  LLMSBX_MOUNT_FLAGS_NODEV = 1 << 2,
} LlmsbxMountFlags;

#define LLMSBX_TYPE_TMPFS_MOUNT (llmsbx_tmpfs_mount_get_type ())

/**
 * LlmsbxTmpfsMount:
 * @path: where it is mounted, an absolute path
 * @size_bytes: its size
 * @flags: the mount options asked for
 *
 * A memory-backed file system in the sandbox.
 *
 * Since: 0.1
 */
typedef struct {
  char             *path;
  guint64           size_bytes;
  LlmsbxMountFlags  flags;
} LlmsbxTmpfsMount;

LLMSBX_AVAILABLE_IN_ALL
GType             llmsbx_tmpfs_mount_get_type (void) G_GNUC_CONST;
LLMSBX_AVAILABLE_IN_ALL
LlmsbxTmpfsMount *llmsbx_tmpfs_mount_new      (const char             *path,
                                               guint64                 size_bytes,
                                               LlmsbxMountFlags        flags);
LLMSBX_AVAILABLE_IN_ALL
LlmsbxTmpfsMount *llmsbx_tmpfs_mount_copy     (const LlmsbxTmpfsMount *self);
LLMSBX_AVAILABLE_IN_ALL
void              llmsbx_tmpfs_mount_free     (LlmsbxTmpfsMount       *self);

#define LLMSBX_TYPE_SECURITY_LIMITS (llmsbx_security_limits_get_type ())

/**
 * LlmsbxSecurityLimits:
 * @memory_bytes: the memory limit; 0 for none
 * @cpu_millicores: CPU time, in thousandths of a CPU; 0 for no limit
 * @pids_limit: the most processes the sandbox may have at once; 0 for no limit
 * @network: the network it gets
 * @read_only_root: whether its root file system is read-only
 * @user: (nullable): the user code runs as, `name[:group]` or `uid[:gid]` as the
 *   image knows them; %NULL for the image's own user
 * @uid: the numeric user id of @user, for backends that need numbers; -1 with no @user
 * @gid: the numeric group id of @user; -1 with no @user
 * @cap_drop: (array zero-terminated=1): capabilities taken away (`ALL` for every one)
 * @cap_add: (array zero-terminated=1): capabilities given back after @cap_drop
 * @no_new_privileges: whether no process may gain privileges (set-user-id programs,
 *   file capabilities). The presets that set it are also meant to get the runtime's
 *   default system-call filter and, on Kubernetes, no service-account token.
 * @tmpfs: (element-type LlmsbxTmpfsMount): memory-backed file systems, besides the
 *   working directory's
 * @workdir: the working directory the limits assume
 * @workdir_tmpfs_bytes: size of a memory-backed file system on @workdir, owned by
 *   @uid and @gid and where programs may run, because a read-only root leaves nowhere
 *   else to write code to; 0 for none
 * @environment: (array zero-terminated=1): `NAME=value` variables the sandbox needs
 *   under these limits (`HOME` in the working directory for a user without a home, and
 *   what the language's tools need, see
 *   llmsbx_language_handler_get_hardened_environment())
 *
 * What a security preset limits, in terms every backend can enforce: the neutral half
 * of a preset, which each backend renders into its own settings
 * (#LlmsbxBackendClass.render_preset). Each number is held once, in its own unit;
 * renderers format it (`512m` for docker-py, `512Mi` for Kubernetes).
 *
 * Fields may be appended in later releases: allocate it only with
 * llmsbx_security_limits_new().
 *
 * Since: 0.1
 */
typedef struct {
  guint64               memory_bytes;
  guint                 cpu_millicores;
  gint64                pids_limit;
  LlmsbxSandboxNetwork  network;
  gboolean              read_only_root;
  char                 *user;
  gint64                uid;
  gint64                gid;
  char                **cap_drop;
  char                **cap_add;
  gboolean              no_new_privileges;
  GPtrArray            *tmpfs;
  char                 *workdir;
  guint64               workdir_tmpfs_bytes;
  char                **environment;
} LlmsbxSecurityLimits;

LLMSBX_AVAILABLE_IN_ALL
GType                 llmsbx_security_limits_get_type (void) G_GNUC_CONST;
LLMSBX_AVAILABLE_IN_ALL
LlmsbxSecurityLimits *llmsbx_security_limits_new      (void);
LLMSBX_AVAILABLE_IN_ALL
LlmsbxSecurityLimits *llmsbx_security_limits_copy     (const LlmsbxSecurityLimits *self);
LLMSBX_AVAILABLE_IN_ALL
void                  llmsbx_security_limits_free     (LlmsbxSecurityLimits       *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (LlmsbxTmpfsMount, llmsbx_tmpfs_mount_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (LlmsbxSecurityLimits, llmsbx_security_limits_free)

G_END_DECLS
