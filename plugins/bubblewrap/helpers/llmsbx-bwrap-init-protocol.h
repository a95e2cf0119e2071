/* llmsbx-bwrap-init-protocol.h: how the bubblewrap backend asks the init of a
 * sandbox to run a command.
 *
 * IMPORTANT: bump LLMSBX_BWRAP_INIT_PROTOCOL_VERSION whenever anything here
 * changes; the init refuses requests of another version, so a plugin and an
 * init program from different builds fail clearly instead of misreading.
 *
 * The init (llmsbx-bwrap-init.c) runs inside the sandbox as the command that
 * bwrap starts, and listens on a Unix stream socket it inherited; the socket's
 * file lives in the sandbox's state directory on the host, where only the
 * sandbox's owner can reach it. One connection runs one command:
 *
 * 1. The client sends a #LlmsbxBwrapInitRequest header, with three
 *    descriptors attached (SCM_RIGHTS): the command's stdin (a file to read,
 *    /dev/null when it has no input), and the write ends of two pipes, its
 *    stdout and stderr. Then `length` bytes of payload: two guint32 (argc,
 *    envc) followed by argc + envc + 1 NUL-terminated strings: the argv, the
 *    complete environment (`KEY=VALUE`), and the working directory.
 * 2. The init answers with #LlmsbxBwrapInitReply records: STARTED with the
 *    command's pid in the sandbox, then EXITED with its status when it ends
 *    (the exit code, or 128 + the signal that killed it). Or instead of
 *    STARTED, FAILED with an errno when it could not even fork (a full pids
 *    limit) or the request was malformed; or instead of EXITED, NO_WORKDIR or
 *    NO_PROGRAM with an errno when the forked child could not enter the
 *    working directory or execute the program (ENOENT for a program not
 *    found in PATH). The command never ran in those three cases.
 *
 * When the client closes the connection early the command keeps running; the
 * init still reaps it. Numbers are in host byte order: both ends run on one
 * machine. */
#pragma once

#include <stdint.h>

#define LLMSBX_BWRAP_INIT_MAGIC            0x4c42494eu /* "LBIN" */
#define LLMSBX_BWRAP_INIT_PROTOCOL_VERSION 2u

/* A request's payload may not be larger: argv and environment together stay
 * far below it (the code writer sends code in 96 KiB chunks). */
#define LLMSBX_BWRAP_INIT_MAX_PAYLOAD (8u * 1024 * 1024)

/* The exit status of a child that could not become the command, as a shell's
 * would be; the client sees the NO_WORKDIR or NO_PROGRAM reply instead. */
#define LLMSBX_BWRAP_INIT_CANNOT_START 126

typedef struct {
  uint32_t magic;
  uint32_t version;
  uint32_t length;
} LlmsbxBwrapInitRequest;

typedef enum {
  LLMSBX_BWRAP_INIT_STARTED = 1,
  LLMSBX_BWRAP_INIT_EXITED  = 2,
  LLMSBX_BWRAP_INIT_FAILED  = 3,
  LLMSBX_BWRAP_INIT_NO_WORKDIR = 4,
  LLMSBX_BWRAP_INIT_NO_PROGRAM = 5,
} LlmsbxBwrapInitReplyKind;

typedef struct {
  int32_t kind;
  int32_t value;
} LlmsbxBwrapInitReply;

/* The init's one argument when the backend's probe runs it in a bare bwrap,
 * with none of the descriptors below: it exits 0 at once. */
#define LLMSBX_BWRAP_INIT_PROBE "--probe"

/* The file descriptors the init inherits, by number. */
#define LLMSBX_BWRAP_INIT_LISTEN_FD 3  /* the listening socket */
#define LLMSBX_BWRAP_INIT_READY_FD  4  /* written once, then closed, when listening */
#define LLMSBX_BWRAP_INIT_EVENTS_FD 5  /* an O_APPEND log of the commands started */
#define LLMSBX_BWRAP_INIT_EXE_FD    6  /* the init program itself, closed at once */
