/* llmsbx-archive-spool-private.h: a bounded, sparse temporary file that an
 * archive from a sandbox streams into before it is checked and unpacked. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define LLMSBX_TYPE_ARCHIVE_SPOOL (llmsbx_archive_spool_get_type ())
G_DECLARE_FINAL_TYPE (LlmsbxArchiveSpool, llmsbx_archive_spool, LLMSBX, ARCHIVE_SPOOL, GOutputStream)

/* A spool for the archive of @what (for messages), in an unlinked file of
 * the nearest existing directory above @dest_path (where the copy goes, so
 * the data never lands on another file system, such as a /tmp in memory),
 * or in the temporary directory when that one refuses. Blocks of zeros are
 * skipped, not written, so that sparse files stay sparse on the way. Writes
 * past @limit bytes (0: none) fail with %LLMSBX_ERROR_LIMIT_EXCEEDED naming
 * the session's copy-limit. */
LlmsbxArchiveSpool *llmsbx_archive_spool_new    (const char          *dest_path,
                                                 const char          *what,
                                                 guint64              limit,
                                                 GError             **error);
/* The file, for reading back from its start; owned by @self. */
int                 llmsbx_archive_spool_get_fd (LlmsbxArchiveSpool  *self);

G_END_DECLS
