/* llmsbx-tar-private.h: reading the files of an archive from a sandbox into
 * memory, for a run's artifacts. Not installed. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* One regular file of an archive: its path below the archive's top entry,
 * and its content. */
typedef struct {
  char   *path;
  GBytes *content;
} LlmsbxTarFile;

void llmsbx_tar_file_free (LlmsbxTarFile *file);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (LlmsbxTarFile, llmsbx_tar_file_free)

/* What to do with an entry at @path (below the archive's top entry). */
typedef enum {
  LLMSBX_TAR_SKIP,    /* not asked for: passed over */
  LLMSBX_TAR_REFUSE,  /* asked for, but not acceptable: passed over, and counts as dropped */
  LLMSBX_TAR_TAKE,    /* wanted, when it is a regular file */
} LlmsbxTarChoice;

typedef LlmsbxTarChoice (*LlmsbxTarFileFilter) (const char *path,
                                                gpointer    user_data);

GPtrArray *llmsbx_tar_read_files (GBytes              *archive,
                                  LlmsbxTarFileFilter  accept,
                                  gpointer             user_data,
                                  guint                max_files,
                                  guint64              max_bytes,
                                  gboolean            *dropped);

G_END_DECLS
