/* llmsbx-security-limits.c: a sandbox's limits, the same for every backend. */
#include "config.h"

#include "llmsbx-security-limits.h"

G_DEFINE_BOXED_TYPE (LlmsbxTmpfsMount, llmsbx_tmpfs_mount, llmsbx_tmpfs_mount_copy, llmsbx_tmpfs_mount_free)
G_DEFINE_BOXED_TYPE (LlmsbxSecurityLimits, llmsbx_security_limits,
                     llmsbx_security_limits_copy, llmsbx_security_limits_free)

/**
 * llmsbx_tmpfs_mount_new:
 * @path: an absolute path in the sandbox
 * @size_bytes: the size of the file system
 * @flags: the mount options asked for
 *
 * Returns: (transfer full): a new #LlmsbxTmpfsMount
 *
 * Since: 0.1
 */
LlmsbxTmpfsMount *
llmsbx_tmpfs_mount_new (const char       *path,
                        guint64           size_bytes,
                        LlmsbxMountFlags  flags)
{
  LlmsbxTmpfsMount *self;

  g_return_val_if_fail (path != NULL, NULL);

  self = g_new0 (LlmsbxTmpfsMount, 1);
  self->path = g_strdup (path);
  self->size_bytes = size_bytes;
  self->flags = flags;
  return self;
}

/**
 * llmsbx_tmpfs_mount_copy:
 * @self: a #LlmsbxTmpfsMount
 *
 * Returns: (transfer full): a copy of @self
 *
 * Since: 0.1
 */
LlmsbxTmpfsMount *
llmsbx_tmpfs_mount_copy (const LlmsbxTmpfsMount *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return llmsbx_tmpfs_mount_new (self->path, self->size_bytes, self->flags);
}

/**
 * llmsbx_tmpfs_mount_free:
 * @self: (nullable): a #LlmsbxTmpfsMount
 *
 * Frees @self.
 *
 * Since: 0.1
 */
void
llmsbx_tmpfs_mount_free (LlmsbxTmpfsMount *self)
{
  if (self == NULL)
    return;

  g_free (self->path);
  g_free (self);
}

/**
 * llmsbx_security_limits_new:
 *
 * Creates limits that limit nothing: no memory, CPU or process limit, the bridge
 * network, a writable root, the image's user, every capability, no mounts.
 *
 * Returns: (transfer full): a new #LlmsbxSecurityLimits
 *
 * Since: 0.1
 */
LlmsbxSecurityLimits *
llmsbx_security_limits_new (void)
{
  LlmsbxSecurityLimits *self = g_new0 (LlmsbxSecurityLimits, 1);

  self->network = LLMSBX_SANDBOX_NETWORK_BRIDGE;
  self->uid = -1;
  self->gid = -1;
  self->cap_drop = g_new0 (char *, 1);
  self->cap_add = g_new0 (char *, 1);
  self->tmpfs = g_ptr_array_new_with_free_func ((GDestroyNotify) llmsbx_tmpfs_mount_free);
  self->environment = g_new0 (char *, 1);
  return self;
}

/**
 * llmsbx_security_limits_copy:
 * @self: a #LlmsbxSecurityLimits
 *
 * Returns: (transfer full): a deep copy of @self
 *
 * Since: 0.1
 */
LlmsbxSecurityLimits *
llmsbx_security_limits_copy (const LlmsbxSecurityLimits *self)
{
  LlmsbxSecurityLimits *copy;

  g_return_val_if_fail (self != NULL, NULL);

  copy = llmsbx_security_limits_new ();
  copy->memory_bytes = self->memory_bytes;
  copy->cpu_millicores = self->cpu_millicores;
  copy->pids_limit = self->pids_limit;
  copy->network = self->network;
  copy->read_only_root = self->read_only_root;
  copy->user = g_strdup (self->user);
  copy->uid = self->uid;
  copy->gid = self->gid;
  g_strfreev (copy->cap_drop);
  copy->cap_drop = g_strdupv (self->cap_drop);
  g_strfreev (copy->cap_add);
  copy->cap_add = g_strdupv (self->cap_add);
  copy->no_new_privileges = self->no_new_privileges;
  for (guint i = 0; self->tmpfs != NULL && i < self->tmpfs->len; i++)
    g_ptr_array_add (copy->tmpfs, llmsbx_tmpfs_mount_copy (g_ptr_array_index (self->tmpfs, i)));
  copy->workdir = g_strdup (self->workdir);
  copy->workdir_tmpfs_bytes = self->workdir_tmpfs_bytes;
  g_strfreev (copy->environment);
  copy->environment = g_strdupv (self->environment);
  return copy;
}

/**
 * llmsbx_security_limits_free:
 * @self: (nullable): a #LlmsbxSecurityLimits
 *
 * Frees @self and everything it holds.
 *
 * Since: 0.1
 */
void
llmsbx_security_limits_free (LlmsbxSecurityLimits *self)
{
  if (self == NULL)
    return;

  g_free (self->user);
  g_strfreev (self->cap_drop);
  g_strfreev (self->cap_add);
  g_clear_pointer (&self->tmpfs, g_ptr_array_unref);
  g_free (self->workdir);
  g_strfreev (self->environment);
  g_free (self);
}
