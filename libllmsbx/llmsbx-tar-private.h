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

/* Whether a file at @path (below the archive's top entry) is wanted. */
typedef gboolean (*LlmsbxTarFileFilter) (const char *path,
                                         gpointer    user_data);

GPtrArray *llmsbx_tar_read_files (GBytes              *archive,
                                  LlmsbxTarFileFilter  accept,
                                  gpointer             user_data,
                                  guint                max_files,
                                  guint64              max_bytes,
                                  gboolean            *dropped);

G_END_DECLS
