/* llmsbx-tar-private.h: tar archives between the host and a sandbox.
 *
 * Container engines move files with tar archives: PUT archive unpacks one
 * into an existing directory of the sandbox, GET archive of a path P returns
 * entries named `basename(P)` and `basename(P)/...`. These helpers build the
 * archives to upload and unpack downloaded ones safely. Not public API. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Archives @host_path (a file or a directory tree) as one top entry named
 * @archive_name, a single relative name without '/', ready for PUT archive
 * into the destination's parent directory. @host_path itself is followed if
 * it is a symbolic link; links inside a directory are stored as links with
 * their target unchanged. Regular files keep their permission bits (& 0777),
 * every entry is owned by uid/gid 0. Sockets, devices and FIFOs are refused
 * (%LLMSBX_ERROR_INVALID_ARGUMENT); a missing @host_path gives
 * %LLMSBX_ERROR_FILE_NOT_FOUND. Files are streamed from disk into the
 * in-memory archive, which may not grow past @max_size bytes (0: 4 GiB);
 * a larger one fails with %LLMSBX_ERROR_LIMIT_EXCEEDED. */
GBytes   *llmsbx_tar_pack_path             (const char    *host_path,
                                            const char    *archive_name,
                                            guint64        max_size,
                                            GError       **error);

/* Unpacks @archive, as returned by GET archive of some path P, so that its
 * top entry becomes @dest_path, like `cp -r P dest_path`: a file lands at
 * @dest_path, a directory's contents land in @dest_path/ (which may already
 * exist as a directory). Missing parents of @dest_path are created; a symbolic
 * link in @dest_path itself is followed, as it names the user's own place.
 *
 * The whole archive is checked before anything is written, so a refused
 * archive leaves nothing behind. Refused with %LLMSBX_ERROR_PATH_TRAVERSAL:
 * absolute names, `..` components, entries outside the top entry, entries
 * beneath a symbolic link entry, hard links, devices, FIFOs and sockets.
 * Symbolic link entries are skipped. An archive with no entries gives
 * %LLMSBX_ERROR_FILE_NOT_FOUND, an unreadable one %LLMSBX_ERROR_PROTOCOL.
 * Writing uses libarchive's secure-symlink and no-dot-dot checks, so a link
 * already inside @dest_path is never followed; files get the archive's
 * permission bits (& 0777) minus the umask and the current user as owner;
 * runs of zeros in files become holes, so sparse files stay sparse. */
gboolean  llmsbx_tar_extract               (GBytes        *archive,
                                            const char    *dest_path,
                                            GError       **error);

/* Like llmsbx_tar_extract(), for an archive in the file @fd, which is read
 * from its start (twice: checked, then written) and left open. */
gboolean  llmsbx_tar_extract_fd            (int            fd,
                                            const char    *dest_path,
                                            GError       **error);

/* Checks that @path is an absolute POSIX path (%LLMSBX_ERROR_INVALID_ARGUMENT
 * otherwise) with no `..` component (%LLMSBX_ERROR_PATH_TRAVERSAL). */
gboolean  llmsbx_container_path_is_safe    (const char    *path,
                                            GError       **error);

/* Checks @path with llmsbx_container_path_is_safe() and splits it into its
 * normalized parent directory and its last component: "/sandbox/./out/" gives
 * "/sandbox" and "out", "/x" gives "/" and "x". "/" has no last component and
 * is refused with %LLMSBX_ERROR_INVALID_ARGUMENT. */
gboolean  llmsbx_container_path_split      (const char    *path,
                                            char         **out_parent,
                                            char         **out_name,
                                            GError       **error);

G_END_DECLS
