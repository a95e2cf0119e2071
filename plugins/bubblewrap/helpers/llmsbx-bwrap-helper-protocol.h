/* llmsbx-bwrap-helper-protocol.h: how the bubblewrap plugin drives its host-side helpers.
 *
 * IMPORTANT: bump LLMSBX_BWRAP_HELPER_PROTOCOL_VERSION whenever the arguments,
 * descriptors or status lines below change; the plugin passes it and the
 * helpers refuse another.
 *
 * `llmsbx-bwrap-monitor VERSION --state DIR [options] -- BWRAP ARGS...`
 * starts and watches one sandbox. It makes a private mount namespace (and,
 * for a user other than root, a user namespace mapping that user to root),
 * a scratch tmpfs at DIR/mnt holding the stub layer DIR/mnt/stub, mounts the
 * sandbox's root file system at DIR/mnt/root (an overlay of the layers), its
 * tmpfs mounts at DIR/mnt/NAME and, with a private network, a network
 * namespace with loopback up and its own sysfs at DIR/mnt/sys; then it runs
 * bwrap with BWRAP ARGS, moves the sandbox into its cgroups before it starts
 * anything, and waits:
 *   --overlay LOWER[:LOWER...]  the layers, the top one first (DIR/mnt/stub among them)
 *   --writable                  an upper layer in DIR/upper (else read-only)
 *   --stub-dir PATH             a directory PATH in the stub layer (a mount point)
 *   --stub-file PATH CONTENTS   a file PATH in the stub layer
 *   --tmpfs NAME:FLAGS:DATA     FLAGS a '+'-separated subset of ro, noexec;
 *                               DATA the tmpfs options (size=..,mode=..)
 *   --private-network
 *   --slirp4netns PATH          a private network with outbound access (eth0)
 *   --cgroup DIR                a cgroup directory of the sandbox (repeatable)
 *   --rlimit NAME:SOFT:HARD     NAME as, nproc, nofile, core, fsize, stack, ...
 * Once bwrap's init reports it listens, the monitor writes "ok PID\n" to the
 * status descriptor (PID: the sandbox's first process, whose namespaces the
 * archive modes join), or "error MESSAGE\n" when anything failed, and keeps
 * the status descriptor open without writing more, so that its end of file
 * says the monitor has exited. When the lifeline reaches end of file (the
 * plugin closed it, or its process died) or on SIGTERM, it kills everything
 * in the sandbox, removes its cgroups and DIR, and exits.
 *
 * `llmsbx-bwrap-archive extract VERSION PID DEST` unpacks the tar archive on
 * its standard input into DEST, and `llmsbx-bwrap-archive pack VERSION PID PATH`
 * writes one of PATH to its standard output (following PATH itself when it
 * is a symbolic link, and no link below it), both inside the mount namespace
 * of PID's sandbox. They exit 0 on success, LLMSBX_BWRAP_HELPER_NOT_FOUND
 * when DEST or PATH does not exist, LLMSBX_BWRAP_HELPER_EXISTS when an entry
 * would replace a directory with a non-directory or the reverse (nothing of
 * that entry is written), 1 otherwise, with a message for a person on
 * LLMSBX_BWRAP_HELPER_MESSAGE_FD (stderr when it is not open): stderr may
 * carry what a tool around them writes, valgrind's reports among them. */
#pragma once

#define LLMSBX_BWRAP_HELPER_PROTOCOL_VERSION "5"

#define LLMSBX_BWRAP_HELPER_NOT_FOUND 2
#define LLMSBX_BWRAP_HELPER_EXISTS    3

/* Descriptors of the monitor, by number; those of the init pass through
 * (llmsbx-bwrap-init-protocol.h). */
#define LLMSBX_BWRAP_HELPER_LIFELINE_FD 7   /* read end; EOF ends the sandbox */
#define LLMSBX_BWRAP_HELPER_STATUS_FD   8   /* the one status line; end of file once the monitor is gone */
#define LLMSBX_BWRAP_HELPER_BLOCK_FD    9   /* bwrap --block-fd, made by the monitor */
#define LLMSBX_BWRAP_HELPER_INFO_FD     10  /* bwrap --info-fd, made by the monitor */
#define LLMSBX_BWRAP_HELPER_SECCOMP_FD  11  /* bwrap --seccomp, from the plugin */

/* The archive helper's descriptor for its one message, a write end. */
#define LLMSBX_BWRAP_HELPER_MESSAGE_FD  3
