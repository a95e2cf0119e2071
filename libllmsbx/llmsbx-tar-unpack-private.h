/* llmsbx-tar-unpack-private.h: unpacking an archive into a directory with
 * put_archive's rules, for backends that unpack on the host side.
 *
 * GLib and libarchive only (no GObject, no GError domain of the core), so
 * the bubblewrap archive helper, a small program that runs inside a
 * sandbox's namespaces, compiles the same file as the core's users do.
 * Kubernetes unpacks with the pod's own tar and the engines on their side,
 * so only backends that write to a directory they can see use it. */
#pragma once

#include <archive.h>
#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  LLMSBX_TAR_UNPACK_OK,
  /* An absolute name or hard-link target. */
  LLMSBX_TAR_UNPACK_UNSAFE_NAME,
  /* A file over a directory, or a directory over a file. */
  LLMSBX_TAR_UNPACK_WOULD_REPLACE,
  /* The archive is unreadable, or libarchive refused an entry (`..`, a
   * path through a symbolic link) or the write itself failed. */
  LLMSBX_TAR_UNPACK_FAILED,
} LlmsbxTarUnpackStatus;

/* Unpacks every entry that @reader (an opened libarchive reader) holds
 * beneath @dest, as the engines' PUT archive does: directories merge into
 * directories, a file replaces a file, nothing replaces a directory with a
 * non-directory or the reverse (checked per entry, so the entries before a
 * refused one are unpacked). Names and hard-link targets are relative to
 * @dest ("." for the current directory, whose symbolic links were followed
 * when it was entered; the components of any other @dest must not be
 * symbolic links); libarchive's secure-symlink and no-dot-dot checks apply; modes and
 * times come from the archive, owners do not. On failure *@message says
 * why, for the caller's error. */
LlmsbxTarUnpackStatus  llmsbx_tar_unpack_into (struct archive  *reader,
                                               const char      *dest,
                                               char           **message);

G_END_DECLS
