/* llmsbx-bubblewrap-rootfs.h: the image store of the bubblewrap backend. */
#pragma once

#include <llmsbx.h>

G_BEGIN_DECLS

/**
 * LlmsbxBubblewrapImage:
 * @id: the image's directory name in the store (a recipe hash, or a commit's id)
 * @name: the reference it was found by, normalised (`name:tag`)
 * @layer_ids: (array zero-terminated=1): its layers, the top one first
 * @layers: (array zero-terminated=1): their root file system directories, in the same order
 * @env: (array zero-terminated=1): `KEY=VALUE` the image sets
 * @working_dir: (nullable): the image's working directory
 *
 * An image in the store: a stack of read-only directory trees.
 */
typedef struct {
  char  *id;
  char  *name;
  char **layer_ids;
  char **layers;
  char **env;
  char  *working_dir;
} LlmsbxBubblewrapImage;

char                  *llmsbx_bubblewrap_store_dir            (void);
char                  *llmsbx_bubblewrap_normalize_reference  (const char             *reference);
LlmsbxBubblewrapImage *llmsbx_bubblewrap_image_lookup         (const char             *store,
                                                               const char             *reference,
                                                               GError                **error);
LlmsbxBubblewrapImage *llmsbx_bubblewrap_image_load           (const char             *store,
                                                               const char             *id,
                                                               const char             *name,
                                                               GError                **error);
void                   llmsbx_bubblewrap_image_free           (LlmsbxBubblewrapImage  *self);
gboolean               llmsbx_bubblewrap_image_resolve_user   (LlmsbxBubblewrapImage  *self,
                                                               const char             *user,
                                                               guint32                *uid,
                                                               guint32                *gid,
                                                               char                  **home,
                                                               GError                **error);
gboolean               llmsbx_bubblewrap_image_commit         (const char             *store,
                                                               LlmsbxBubblewrapImage  *base,
                                                               const char             *upper,
                                                               const char             *extra_dir,
                                                               const char             *extra_target,
                                                               const char             *name,
                                                               const char * const     *labels,
                                                               GCancellable           *cancellable,
                                                               GError                **error);
gboolean               llmsbx_bubblewrap_image_remove         (const char             *store,
                                                               const char             *reference,
                                                               GError                **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (LlmsbxBubblewrapImage, llmsbx_bubblewrap_image_free)

G_END_DECLS
