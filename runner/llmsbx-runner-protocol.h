/* llmsbx-runner-protocol.h: the framed, versioned protocol between the host
 * and llmsbx-runner, the resident program inside a sandbox.
 *
 * One header for both sides, like GStreamer's gstpluginloader.c and
 * gst-plugin-scanner: the runner (plain C, no GLib) and the host's client
 * (libllmsbx/runners/llmsbx-resident-runner.c) include it, and the adapters
 * (runner/python/llmsbx_runner_python.py, runner/node/llmsbx_runner_node.js)
 * mirror the numbers they need.
 *
 * IMPORTANT: bump LLMSBX_RUNNER_PROTOCOL_VERSION whenever anything below
 * changes, except the frame header and the HELLO fields marked frozen, which
 * never change, so that any two versions can at least tell each other apart.
 *
 * Framing. The runner reads frames on its standard input and writes frames on
 * its standard output; nothing else is ever written there (the programs it runs
 * get fresh pipes). Every frame is a 16-byte header and a payload:
 *
 *   offset size
 *    0     4   magic  "LXRF" (0x4C585246)
 *    4     1   type   LlmsbxRunnerFrameType
 *    5     1   stream 1 stdout or 2 stderr in OUTPUT frames, else 0
 *    6     2   flags  0 (reserved)
 *    8     4   id     the request a frame belongs to (chosen by the host), 0 for none
 *   12     4   length payload bytes, at most LLMSBX_RUNNER_FRAME_MAX
 *
 * All integers are unsigned big-endian. OUTPUT payloads are raw bytes. Every
 * other payload is a list of fields: a 2-byte tag, a 4-byte length, then the
 * value; an integer is 8 bytes (two's complement when signed), a string is
 * bytes without NUL, a flag an integer 0 or 1. A tag may repeat only where its
 * description says "repeated", and an unknown tag, a short field or a frame of
 * an unknown type is a protocol error: the peer that sees it sends ERROR and
 * stops. Nothing is optional by omission of the version: both sides speak
 * exactly the version they agreed on.
 *
 * Conversation:
 *
 *   runner                                   host
 *   HELLO {VERSION_MIN, VERSION_MAX, ...} ->
 *                                         <- HELLO {VERSION}
 *   READY                                 ->     (or ERROR, then the runner exits)
 *                                         <- PREPARE {ADAPTER, ARGV, ENV}  (optional)
 *   PREPARED {FAILURE...}                 ->
 *                                         <- RUN {ARGV, ENV, CWD, FILE_*, STDIN, limits}
 *   OUTPUT (stream 1 or 2), any number    ->
 *                                         <- CANCEL (any time during the run)
 *   RESULT {EXIT_CODE, SIGNAL, ...}       ->
 *                                         <- RESET {ADAPTER}
 *   RESET_DONE                            ->
 *                                         <- PING     (any time)
 *   PONG                                  ->
 *                                         <- SHUTDOWN (or end of file)
 *   (the runner kills what it started and exits 0)
 *
 * One request is served at a time: the host sends the next RUN, PREPARE or
 * RESET only after the answer to the previous one. Every answer carries the id
 * of its request. Between a RUN and its RESULT the host may send only CANCEL,
 * PING and SHUTDOWN.
 *
 * The runner and its language adapters speak the same framing over a Unix
 * socket, with the ADAPTER_* types; a RUN to the Python adapter carries the
 * run's stdin, stdout and stderr as three descriptors (SCM_RIGHTS) on its
 * first byte. The Node.js adapter cannot take descriptors: it is itself the
 * kernel of interactive cells, its stdout and stderr are pipes the runner
 * keeps, and a cell's output is what arrives on them between the cell's RUN
 * and its EXITED. Adapters never talk to the host. */
#pragma once

#include <stdint.h>

#define LLMSBX_RUNNER_PROTOCOL_VERSION 1

#define LLMSBX_RUNNER_MAGIC 0x4C585246u  /* "LXRF" */
#define LLMSBX_RUNNER_HEADER_SIZE 16
#define LLMSBX_RUNNER_FIELD_HEADER_SIZE 6

/* Largest payload of any frame: a RUN carries the code, its files and stdin. */
#define LLMSBX_RUNNER_FRAME_MAX (64u * 1024 * 1024)
/* Largest OUTPUT payload the runner sends. */
#define LLMSBX_RUNNER_CHUNK_MAX (32u * 1024)
/* Largest payload an adapter may send to the runner. */
#define LLMSBX_RUNNER_ADAPTER_FRAME_MAX (64u * 1024)
/* How long output may keep coming after the program exited while something
 * it started still holds its pipes, unless the RUN says otherwise (DRAIN_MS);
 * Docker's exec stream waits as long. */
#define LLMSBX_RUNNER_DEFAULT_DRAIN_MS 2000
/* How long an interrupted interactive cell may take to return to its kernel
 * before the kernel is killed, unless the RUN says otherwise (GRACE_MS). */
#define LLMSBX_RUNNER_DEFAULT_GRACE_MS 1000

typedef enum {
  /* runner -> host */
  LLMSBX_RUNNER_FRAME_HELLO      = 0x01,  /* frozen: the first frame the runner writes */
  LLMSBX_RUNNER_FRAME_READY      = 0x02,  /* the host's version is accepted; empty */
  LLMSBX_RUNNER_FRAME_OUTPUT     = 0x10,  /* raw output of the run, stream in the header */
  LLMSBX_RUNNER_FRAME_RESULT     = 0x11,  /* the end of a run */
  LLMSBX_RUNNER_FRAME_PREPARED   = 0x12,  /* the adapter of a PREPARE is running (or FAILURE) */
  LLMSBX_RUNNER_FRAME_RESET_DONE = 0x13,  /* the interactive state is gone; FLAGS */
  LLMSBX_RUNNER_FRAME_PONG       = 0x14,  /* answer to PING; empty */
  LLMSBX_RUNNER_FRAME_ERROR      = 0x1F,  /* frozen: a protocol error, MESSAGE; the runner exits */

  /* host -> runner */
  LLMSBX_RUNNER_FRAME_HOST_HELLO = 0x81,  /* frozen: VERSION chosen by the host */
  LLMSBX_RUNNER_FRAME_RUN        = 0x82,
  LLMSBX_RUNNER_FRAME_CANCEL     = 0x83,  /* id of the run; empty */
  LLMSBX_RUNNER_FRAME_RESET      = 0x84,  /* ADAPTER */
  LLMSBX_RUNNER_FRAME_PING       = 0x85,  /* empty */
  LLMSBX_RUNNER_FRAME_SHUTDOWN   = 0x86,  /* empty */
  LLMSBX_RUNNER_FRAME_PREPARE    = 0x87,  /* ADAPTER, ARGV (interpreter first), ENV */

  /* runner <-> adapter */
  LLMSBX_RUNNER_FRAME_ADAPTER_HELLO   = 0x40,  /* adapter: VERSION, PID */
  LLMSBX_RUNNER_FRAME_ADAPTER_RUN     = 0x41,  /* runner: ARGV, ENV, CWD, STATEFUL + 3 fds */
  LLMSBX_RUNNER_FRAME_ADAPTER_STARTED = 0x42,  /* adapter: PID of the process that runs the code */
  LLMSBX_RUNNER_FRAME_ADAPTER_EXITED  = 0x43,  /* adapter: EXIT_CODE, SIGNAL, FLAGS, FAILURE... */
  LLMSBX_RUNNER_FRAME_ADAPTER_RESET   = 0x44,  /* runner: forget the interactive state */
  LLMSBX_RUNNER_FRAME_ADAPTER_RESET_DONE = 0x45,
} LlmsbxRunnerFrameType;

typedef enum {
  /* HELLO (runner), frozen */
  LLMSBX_RUNNER_FIELD_VERSION_MIN    = 0x0001,  /* integer */
  LLMSBX_RUNNER_FIELD_VERSION_MAX    = 0x0002,  /* integer */
  LLMSBX_RUNNER_FIELD_RUNNER_VERSION = 0x0003,  /* string, the runner's release */
  /* HELLO (runner), this version */
  LLMSBX_RUNNER_FIELD_PID            = 0x0004,  /* integer: the runner's (or adapter's, or child's) pid */
  LLMSBX_RUNNER_FIELD_FEATURES       = 0x0005,  /* integer, LlmsbxRunnerFeatures */
  /* HOST_HELLO and ADAPTER_HELLO, frozen */
  LLMSBX_RUNNER_FIELD_VERSION        = 0x0006,  /* integer */

  /* RUN and PREPARE */
  LLMSBX_RUNNER_FIELD_ARGV      = 0x0100,  /* string, repeated: the program and its arguments */
  LLMSBX_RUNNER_FIELD_ENV       = 0x0101,  /* string NAME=VALUE, repeated: added to the runner's environment */
  LLMSBX_RUNNER_FIELD_CWD       = 0x0102,  /* string, absolute; default: the runner's */
  LLMSBX_RUNNER_FIELD_FILE_PATH = 0x0103,  /* string, repeated: a file written before the run... */
  LLMSBX_RUNNER_FIELD_FILE_DATA = 0x0104,  /* bytes: ...with these contents (follows its FILE_PATH) */
  LLMSBX_RUNNER_FIELD_FILE_MODE = 0x0105,  /* integer, optional after FILE_DATA: permission bits (0644) */
  LLMSBX_RUNNER_FIELD_STDIN     = 0x0106,  /* bytes: standard input, then end of file; default /dev/null */
  LLMSBX_RUNNER_FIELD_TIMEOUT_MS = 0x0107, /* integer: kill the run after this long; 0 or absent: never */
  LLMSBX_RUNNER_FIELD_OUTPUT_LIMIT = 0x0108, /* integer: bytes sent per stream, the rest is counted as truncated */
  LLMSBX_RUNNER_FIELD_ADAPTER   = 0x0109,  /* string: "python" runs ARGV = [interpreter, file, args...] in it;
                                            * "node" runs ARGV = [node, file] as an interactive cell */
  LLMSBX_RUNNER_FIELD_STATEFUL  = 0x010A,  /* flag: an interactive cell in the adapter's persistent state */
  LLMSBX_RUNNER_FIELD_DRAIN_MS  = 0x010B,  /* integer: see LLMSBX_RUNNER_DEFAULT_DRAIN_MS */
  LLMSBX_RUNNER_FIELD_GRACE_MS  = 0x010C,  /* integer: see LLMSBX_RUNNER_DEFAULT_GRACE_MS */

  /* RESULT, PREPARED, RESET_DONE, ADAPTER_EXITED */
  LLMSBX_RUNNER_FIELD_EXIT_CODE   = 0x0200,  /* integer: as a shell shows it, 128 + n for signal n */
  LLMSBX_RUNNER_FIELD_SIGNAL      = 0x0201,  /* integer: the signal that ended the program, or 0 */
  LLMSBX_RUNNER_FIELD_DURATION_US = 0x0202,  /* integer: from start to exit */
  LLMSBX_RUNNER_FIELD_FLAGS       = 0x0203,  /* integer, LlmsbxRunnerResultFlags */
  LLMSBX_RUNNER_FIELD_FAILURE     = 0x0204,  /* integer, LlmsbxRunnerFailure; absent: none */
  LLMSBX_RUNNER_FIELD_ERRNO       = 0x0205,  /* integer: errno of the failure */
  LLMSBX_RUNNER_FIELD_MESSAGE     = 0x0206,  /* string: what failed, for a person */
  LLMSBX_RUNNER_FIELD_STDOUT_BYTES = 0x0207, /* integer: stdout bytes the program wrote (sent or not) */
  LLMSBX_RUNNER_FIELD_STDERR_BYTES = 0x0208, /* integer: likewise for stderr */
} LlmsbxRunnerField;

typedef enum {
  LLMSBX_RUNNER_FEATURE_SUBREAPER      = 1 << 0,  /* orphans come back to the runner */
  LLMSBX_RUNNER_FEATURE_PROC_SWEEP     = 1 << 1,  /* /proc is readable: trees are killed by ancestry */
  LLMSBX_RUNNER_FEATURE_ADAPTER_PYTHON = 1 << 2,  /* the Python adapter is installed beside the runner */
  LLMSBX_RUNNER_FEATURE_ADAPTER_NODE   = 1 << 3,  /* the Node.js adapter is installed beside the runner */
} LlmsbxRunnerFeatures;

typedef enum {
  LLMSBX_RUNNER_RESULT_STDOUT_TRUNCATED = 1 << 0,
  LLMSBX_RUNNER_RESULT_STDERR_TRUNCATED = 1 << 1,
  LLMSBX_RUNNER_RESULT_TIMED_OUT        = 1 << 2,  /* the run was killed at TIMEOUT_MS */
  LLMSBX_RUNNER_RESULT_CANCELLED        = 1 << 3,  /* the run was killed on CANCEL */
  LLMSBX_RUNNER_RESULT_OOM_KILLED       = 1 << 4,  /* SIGKILL while the memory cgroup counted an OOM kill */
  LLMSBX_RUNNER_RESULT_KILL_FAILED      = 1 << 5,  /* some process of the run could not be killed */
  LLMSBX_RUNNER_RESULT_STATE_KEPT       = 1 << 6,  /* stateful: the interactive state survived the cell */
  LLMSBX_RUNNER_RESULT_STATE_LOST       = 1 << 7,  /* stateful: the state is gone (next cell starts fresh) */
  LLMSBX_RUNNER_RESULT_STATE_FRESH      = 1 << 8,  /* stateful: the cell began in a fresh state (first
                                                    * cell, after RESET, or the earlier state was lost) */
} LlmsbxRunnerResultFlags;

typedef enum {
  LLMSBX_RUNNER_FAILURE_NONE        = 0,
  LLMSBX_RUNNER_FAILURE_BAD_REQUEST = 1,  /* the request cannot be served as it is */
  LLMSBX_RUNNER_FAILURE_FILE        = 2,  /* writing a FILE_* failed */
  LLMSBX_RUNNER_FAILURE_SPAWN       = 3,  /* fork or pipe failed (EAGAIN: the process limit) */
  LLMSBX_RUNNER_FAILURE_EXEC        = 4,  /* the program could not be started; EXIT_CODE 126 or 127 */
  LLMSBX_RUNNER_FAILURE_ADAPTER     = 5,  /* the adapter could not start or died during the run */
} LlmsbxRunnerFailure;

/* Big-endian accessors, for both sides. */
static inline uint32_t
llmsbx_runner_get_u32 (const unsigned char *p)
{
  return ((uint32_t) p[0] << 24) | ((uint32_t) p[1] << 16) | ((uint32_t) p[2] << 8) | p[3];
}

static inline uint16_t
llmsbx_runner_get_u16 (const unsigned char *p)
{
  return (uint16_t) (((unsigned) p[0] << 8) | p[1]);
}

static inline uint64_t
llmsbx_runner_get_u64 (const unsigned char *p)
{
  return ((uint64_t) llmsbx_runner_get_u32 (p) << 32) | llmsbx_runner_get_u32 (p + 4);
}

static inline void
llmsbx_runner_put_u32 (unsigned char *p, uint32_t v)
{
  p[0] = (unsigned char) (v >> 24);
  p[1] = (unsigned char) (v >> 16);
  p[2] = (unsigned char) (v >> 8);
  p[3] = (unsigned char) v;
}

static inline void
llmsbx_runner_put_u16 (unsigned char *p, uint16_t v)
{
  p[0] = (unsigned char) (v >> 8);
  p[1] = (unsigned char) v;
}

static inline void
llmsbx_runner_put_u64 (unsigned char *p, uint64_t v)
{
  llmsbx_runner_put_u32 (p, (uint32_t) (v >> 32));
  llmsbx_runner_put_u32 (p + 4, (uint32_t) v);
}
