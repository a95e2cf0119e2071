/* llmsbx-runner.c: the resident program inside a sandbox that runs programs
 * and code on request and frames everything they print.
 *
 * The host starts it once (an exec with standard input attached) and sends
 * requests on its stdin; it answers on its stdout (llmsbx-runner-protocol.h).
 * Decisions, each because of what runs under it:
 *
 * - Static, plain POSIX/Linux C, no GLib: it must run in any image.
 * - Its stdin and stdout are the control channel and nothing it starts ever
 *   sees them: they are moved to close-on-exec descriptors at start and 0/1
 *   become /dev/null. Every program gets fresh pipes and only those; its
 *   output reaches the host only inside OUTPUT frames the runner makes, so no
 *   program can forge a frame.
 * - It is a child subreaper: whatever a program starts, even after setsid()
 *   and a double fork, stays its descendant. A timed-out or cancelled run is
 *   killed by ancestry read from /proc: every process that is new since the
 *   run began and descends from it (or was orphaned to the runner during it)
 *   is stopped, round after round until no new one appears, then killed;
 *   SIGSTOP first, so a fork bomb cannot outgrow the sweep. "New" means
 *   started at or after the clock tick the run began in (/proc's start
 *   times count ticks since boot), so a run costs no scan of /proc. An
 *   earlier run's leftover started in that same tick (10 ms) would look new:
 *   the runner's children when the run begins (one read of its own
 *   /proc/.../children) are its elders, and nothing below them is the run's.
 * - Nothing is forked per request but the program (or, for the Python
 *   adapter, nothing at all): at the process limit a run fails with a SPAWN
 *   failure and the runner keeps answering.
 * - It ignores every catchable signal a program might send its parent
 *   (`kill $PPID`), and is not dumpable, so code of the same user cannot
 *   ptrace it or read its memory. SIGKILL and SIGSTOP cannot be refused: the
 *   host then sees end of file or no answer by its deadline.
 * - One request at a time; output is read in chunks of at most
 *   LLMSBX_RUNNER_CHUNK_MAX and written to the host before more is read, so
 *   memory stays bounded and a slow host slows the program, as a pipe would.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "llmsbx-runner-protocol.h"

#ifndef LLMSBX_RUNNER_RELEASE
#define LLMSBX_RUNNER_RELEASE "unknown"
#endif

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

#define PYTHON_ADAPTER "llmsbx_runner_python.py"
#define NODE_ADAPTER "llmsbx_runner_node.js"

/* The adapters. Python's forks a child per run and a kernel for cells, and
 * gets each run's descriptors. Node.js can neither fork nor take
 * descriptors, so its adapter is itself the kernel of interactive cells:
 * its stdout and stderr are pipes the runner keeps and reads all the time,
 * and what arrives between a cell's start and its end is the cell's. */
enum { ADAPTER_NONE, ADAPTER_PYTHON, ADAPTER_NODE };

/* How long the rest of a frame may take once its first byte is there. */
#define FRAME_COMPLETION_MS 10000
/* How long an adapter may take to start and greet. */
#define ADAPTER_START_MS 30000
/* How long killed processes may take to be reported dead. */
#define KILL_WAIT_MS 5000
/* Rounds of the sweep before it gives up on a tree it cannot stop. */
#define SWEEP_ROUNDS 1000

extern char **environ;

static int ctl_in = -1;       /* frames from the host */
static int ctl_out = -1;      /* frames to the host */
static int dev_null = -1;     /* for programs without stdin */
static int sig_pipe[2] = { -1, -1 };
static pid_t self_pid;
static char **base_env;       /* the environment the runner was started with */
static char *adapter_dir;
static uint64_t features;

/* ---------------------------------------------------------------------------
 * Small helpers
 * ------------------------------------------------------------------------ */

static void fatal (const char *format, ...) __attribute__ ((format (printf, 1, 2), noreturn));

static void
fatal (const char *format, ...)
{
  va_list args;

  fputs ("llmsbx-runner: ", stderr);
  va_start (args, format);
  vfprintf (stderr, format, args);
  va_end (args);
  fputc ('\n', stderr);
  _exit (3);
}

static void *
xmalloc (size_t size)
{
  void *p = malloc (size ? size : 1);

  if (p == NULL)
    fatal ("out of memory (%zu bytes)", size);
  return p;
}

static void *
xrealloc (void *p, size_t size)
{
  p = realloc (p, size ? size : 1);
  if (p == NULL)
    fatal ("out of memory (%zu bytes)", size);
  return p;
}

static char *
xstrndup (const unsigned char *s, size_t n)
{
  char *copy = xmalloc (n + 1);

  memcpy (copy, s, n);
  copy[n] = '\0';
  return copy;
}

static int64_t
now_us (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Milliseconds until @deadline (µs, 0 = none) for poll(), at least 0. */
static int
poll_timeout (int64_t deadline)
{
  int64_t left;

  if (deadline == 0)
    return -1;
  left = deadline - now_us ();
  if (left <= 0)
    return 0;
  return left / 1000 > INT_MAX ? INT_MAX : (int) ((left + 999) / 1000);
}

/* The earlier of two deadlines, 0 meaning none. */
static int64_t
earliest (int64_t a, int64_t b)
{
  if (a == 0)
    return b;
  if (b == 0)
    return a;
  return a < b ? a : b;
}

static void
set_nonblock (int fd)
{
  int flags = fcntl (fd, F_GETFL);

  if (flags >= 0)
    fcntl (fd, F_SETFL, flags | O_NONBLOCK);
}

static void
close_fd (int *fd)
{
  if (*fd >= 0)
    close (*fd);
  *fd = -1;
}

/* Writes all of @data to a blocking or non-blocking @fd. */
static int
write_all (int fd, const void *data, size_t length)
{
  const unsigned char *p = data;

  while (length > 0)
    {
      ssize_t n = write (fd, p, length);

      if (n < 0)
        {
          if (errno == EINTR)
            continue;
          if (errno == EAGAIN)
            {
              struct pollfd pfd = { .fd = fd, .events = POLLOUT };

              poll (&pfd, 1, FRAME_COMPLETION_MS);
              continue;
            }
          return -1;
        }
      p += n;
      length -= (size_t) n;
    }
  return 0;
}

/* Reads exactly @length bytes, waiting at most until @deadline (µs).
 * Returns 1, 0 on end of file before the first byte, -1 on error or a short
 * read (errno EPROTO), timeout (ETIMEDOUT). */
static int
read_exact (int fd, void *buffer, size_t length, int64_t deadline)
{
  unsigned char *p = buffer;
  size_t got = 0;

  while (got < length)
    {
      ssize_t n = read (fd, p + got, length - got);

      if (n > 0)
        {
          got += (size_t) n;
          continue;
        }
      if (n == 0)
        {
          if (got == 0)
            return 0;
          errno = EPROTO;
          return -1;
        }
      if (errno == EINTR)
        continue;
      if (errno == EAGAIN)
        {
          struct pollfd pfd = { .fd = fd, .events = POLLIN };
          int r = poll (&pfd, 1, poll_timeout (deadline));

          if (r == 0)
            {
              errno = ETIMEDOUT;
              return -1;
            }
          continue;
        }
      return -1;
    }
  return 1;
}

/* ---------------------------------------------------------------------------
 * Frames
 * ------------------------------------------------------------------------ */

struct buf
{
  unsigned char *data;
  size_t len, cap;
};

static void
buf_reserve (struct buf *b, size_t more)
{
  if (b->len + more <= b->cap)
    return;
  while (b->len + more > b->cap)
    b->cap = b->cap ? b->cap * 2 : 256;
  b->data = xrealloc (b->data, b->cap);
}

static void
buf_add (struct buf *b, const void *data, size_t length)
{
  buf_reserve (b, length);
  if (length > 0)
    memcpy (b->data + b->len, data, length);
  b->len += length;
}

static void
field_bytes (struct buf *b, uint16_t tag, const void *data, size_t length)
{
  unsigned char head[LLMSBX_RUNNER_FIELD_HEADER_SIZE];

  llmsbx_runner_put_u16 (head, tag);
  llmsbx_runner_put_u32 (head + 2, (uint32_t) length);
  buf_add (b, head, sizeof head);
  buf_add (b, data, length);
}

static void
field_string (struct buf *b, uint16_t tag, const char *s)
{
  field_bytes (b, tag, s, strlen (s));
}

static void
field_int (struct buf *b, uint16_t tag, uint64_t value)
{
  unsigned char v[8];

  llmsbx_runner_put_u64 (v, value);
  field_bytes (b, tag, v, sizeof v);
}

static void
frame_header (unsigned char *head, uint8_t type, uint8_t stream, uint32_t id, size_t length)
{
  llmsbx_runner_put_u32 (head, LLMSBX_RUNNER_MAGIC);
  head[4] = type;
  head[5] = stream;
  llmsbx_runner_put_u16 (head + 6, 0);
  llmsbx_runner_put_u32 (head + 8, id);
  llmsbx_runner_put_u32 (head + 12, (uint32_t) length);
}

/* A frame to the host. The host going away is the end of the runner's job.
 * Writes wait for the host however long it takes: a host that stops reading
 * stops the runner, as a full pipe would stop a program. */
static void
send_host (uint8_t type, uint8_t stream, uint32_t id, const void *payload, size_t length)
{
  unsigned char head[LLMSBX_RUNNER_HEADER_SIZE];
  struct iovec iov[2] = { { head, sizeof head }, { (void *) payload, length } };
  int count = length > 0 ? 2 : 1, first = 0;

  frame_header (head, type, stream, id, length);
  while (first < count)
    {
      ssize_t n = writev (ctl_out, iov + first, count - first);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 && errno == EAGAIN)
        {
          struct pollfd pfd = { .fd = ctl_out, .events = POLLOUT };

          poll (&pfd, 1, -1);
          continue;
        }
      if (n < 0)
        _exit (0);  /* the host is gone; so is everything the runner does */
      /* Step over what was written. */
      while (first < count && (size_t) n >= iov[first].iov_len)
        n -= (ssize_t) iov[first++].iov_len;
      if (first < count)
        {
          iov[first].iov_base = (unsigned char *) iov[first].iov_base + n;
          iov[first].iov_len -= (size_t) n;
        }
    }
}

struct frame
{
  uint8_t type, stream;
  uint32_t id;
  uint32_t length;
  unsigned char *payload;
};

/* Reads one frame from @fd. Returns 1, 0 at end of file, -1 with a message
 * in @why on a malformed or incomplete frame. */
static int
read_frame (int fd, uint32_t max, struct frame *f, char *why, size_t why_size)
{
  unsigned char head[LLMSBX_RUNNER_HEADER_SIZE];
  int64_t deadline;
  int r;

  f->payload = NULL;
  r = read_exact (fd, head, 1, 0);
  if (r <= 0)
    {
      if (r < 0)
        snprintf (why, why_size, "reading a frame failed: %s", strerror (errno));
      return r;
    }
  deadline = now_us () + (int64_t) FRAME_COMPLETION_MS * 1000;
  if (read_exact (fd, head + 1, sizeof head - 1, deadline) != 1)
    {
      snprintf (why, why_size, "a frame header was cut short (%s)", strerror (errno));
      return -1;
    }
  if (llmsbx_runner_get_u32 (head) != LLMSBX_RUNNER_MAGIC)
    {
      snprintf (why, why_size, "a frame did not start with the magic LXRF (got %02x %02x %02x %02x)",
                head[0], head[1], head[2], head[3]);
      return -1;
    }
  f->type = head[4];
  f->stream = head[5];
  f->id = llmsbx_runner_get_u32 (head + 8);
  f->length = llmsbx_runner_get_u32 (head + 12);
  if (llmsbx_runner_get_u16 (head + 6) != 0)
    {
      snprintf (why, why_size, "frame flags must be 0 in protocol version %d", LLMSBX_RUNNER_PROTOCOL_VERSION);
      return -1;
    }
  if (f->length > max)
    {
      snprintf (why, why_size, "a frame of %u bytes is larger than the limit of %u", f->length, max);
      return -1;
    }
  f->payload = xmalloc (f->length);
  if (f->length > 0 && read_exact (fd, f->payload, f->length, deadline) != 1)
    {
      snprintf (why, why_size, "a frame of %u bytes was cut short (%s)", f->length, strerror (errno));
      free (f->payload);
      f->payload = NULL;
      return -1;
    }
  return 1;
}

struct fields
{
  const unsigned char *p, *end;
};

/* The next field of a payload: 1, 0 at the end, -1 when malformed. */
static int
next_field (struct fields *it, uint16_t *tag, const unsigned char **value, uint32_t *length)
{
  if (it->p == it->end)
    return 0;
  if ((size_t) (it->end - it->p) < LLMSBX_RUNNER_FIELD_HEADER_SIZE)
    return -1;
  *tag = llmsbx_runner_get_u16 (it->p);
  *length = llmsbx_runner_get_u32 (it->p + 2);
  it->p += LLMSBX_RUNNER_FIELD_HEADER_SIZE;
  if ((size_t) (it->end - it->p) < *length)
    return -1;
  *value = it->p;
  it->p += *length;
  return 1;
}

/* The host broke the protocol: say so and stop (the host restarts us). */
static void kill_everything (void);
static void protocol_error (uint32_t id, const char *format, ...) __attribute__ ((format (printf, 2, 3), noreturn));

static void
protocol_error (uint32_t id, const char *format, ...)
{
  struct buf b = { 0 };
  char message[512];
  va_list args;

  va_start (args, format);
  vsnprintf (message, sizeof message, format, args);
  va_end (args);
  field_string (&b, LLMSBX_RUNNER_FIELD_MESSAGE, message);
  send_host (LLMSBX_RUNNER_FRAME_ERROR, 0, id, b.data, b.len);
  fprintf (stderr, "llmsbx-runner: %s\n", message);
  kill_everything ();
  _exit (2);
}

/* ---------------------------------------------------------------------------
 * Requests
 * ------------------------------------------------------------------------ */

struct file
{
  char *path;
  const unsigned char *data;
  size_t length;
  unsigned mode;
};

struct request
{
  uint32_t id;
  struct frame frame;     /* owns the payload the pointers below point into */
  char **argv;
  size_t argc;
  char **env;             /* the request's own entries */
  size_t envc;
  char *cwd;
  struct file *files;
  size_t nfiles;
  const unsigned char *stdin_data;
  size_t stdin_length;
  int has_stdin;
  uint64_t timeout_ms;
  uint64_t output_limit;
  uint64_t drain_ms;
  uint64_t grace_ms;
  char *adapter;
  int stateful;
  char bad[256];          /* why the request cannot be served, or empty */
};

static void
request_free (struct request *r)
{
  for (size_t i = 0; i < r->argc; i++)
    free (r->argv[i]);
  free (r->argv);
  for (size_t i = 0; i < r->envc; i++)
    free (r->env[i]);
  free (r->env);
  for (size_t i = 0; i < r->nfiles; i++)
    free (r->files[i].path);
  free (r->files);
  free (r->cwd);
  free (r->adapter);
  free (r->frame.payload);
  memset (r, 0, sizeof *r);
}

static int
get_int (const unsigned char *value, uint32_t length, uint64_t *out)
{
  if (length != 8)
    return -1;
  *out = llmsbx_runner_get_u64 (value);
  return 0;
}

/* A string field: no NUL inside. NULL when it has one. */
static char *
get_string (const unsigned char *value, uint32_t length)
{
  if (memchr (value, '\0', length) != NULL)
    return NULL;
  return xstrndup (value, length);
}

static void
push_string (char ***array, size_t *count, char *s)
{
  *array = xrealloc (*array, (*count + 2) * sizeof **array);
  (*array)[(*count)++] = s;
  (*array)[*count] = NULL;
}

/* Parses a RUN or PREPARE. A malformed payload is a protocol error; a
 * well-formed request that cannot be served gets @bad. */
static void
parse_request (struct request *r)
{
  struct fields it = { r->frame.payload, r->frame.payload + r->frame.length };
  const unsigned char *value;
  uint32_t length;
  uint16_t tag;
  int got;
  int last_was_data = 0;

  r->output_limit = UINT64_MAX;
  r->drain_ms = LLMSBX_RUNNER_DEFAULT_DRAIN_MS;
  r->grace_ms = LLMSBX_RUNNER_DEFAULT_GRACE_MS;

  while ((got = next_field (&it, &tag, &value, &length)) == 1)
    {
      char *s = NULL;
      uint64_t n = 0;
      int is_data = 0;

      switch (tag)
        {
        case LLMSBX_RUNNER_FIELD_ARGV:
        case LLMSBX_RUNNER_FIELD_ENV:
        case LLMSBX_RUNNER_FIELD_CWD:
        case LLMSBX_RUNNER_FIELD_FILE_PATH:
        case LLMSBX_RUNNER_FIELD_ADAPTER:
          s = get_string (value, length);
          if (s == NULL)
            {
              snprintf (r->bad, sizeof r->bad, "a string (field 0x%04x) contains a NUL byte", tag);
              continue;
            }
          if (tag == LLMSBX_RUNNER_FIELD_ARGV)
            push_string (&r->argv, &r->argc, s);
          else if (tag == LLMSBX_RUNNER_FIELD_ENV)
            {
              if (s[0] == '=' || strchr (s, '=') == NULL)
                snprintf (r->bad, sizeof r->bad, "environment entry '%.64s' is not NAME=VALUE", s);
              push_string (&r->env, &r->envc, s);
            }
          else if (tag == LLMSBX_RUNNER_FIELD_CWD)
            {
              free (r->cwd);
              r->cwd = s;
            }
          else if (tag == LLMSBX_RUNNER_FIELD_ADAPTER)
            {
              free (r->adapter);
              r->adapter = s;
            }
          else
            {
              r->files = xrealloc (r->files, (r->nfiles + 1) * sizeof *r->files);
              r->files[r->nfiles++] = (struct file) { .path = s, .mode = 0644 };
              if (s[0] != '/')
                snprintf (r->bad, sizeof r->bad, "file path '%.64s' is not absolute", s);
            }
          break;

        case LLMSBX_RUNNER_FIELD_FILE_DATA:
          if (r->nfiles == 0 || r->files[r->nfiles - 1].data != NULL)
            protocol_error (r->id, "FILE_DATA must follow its FILE_PATH");
          r->files[r->nfiles - 1].data = value;
          r->files[r->nfiles - 1].length = length;
          is_data = 1;
          break;

        case LLMSBX_RUNNER_FIELD_FILE_MODE:
          if (!last_was_data || get_int (value, length, &n) < 0)
            protocol_error (r->id, "FILE_MODE must be an integer right after FILE_DATA");
          r->files[r->nfiles - 1].mode = (unsigned) (n & 07777);
          break;

        case LLMSBX_RUNNER_FIELD_STDIN:
          r->stdin_data = value;
          r->stdin_length = length;
          r->has_stdin = 1;
          break;

        case LLMSBX_RUNNER_FIELD_TIMEOUT_MS:
        case LLMSBX_RUNNER_FIELD_OUTPUT_LIMIT:
        case LLMSBX_RUNNER_FIELD_STATEFUL:
        case LLMSBX_RUNNER_FIELD_DRAIN_MS:
        case LLMSBX_RUNNER_FIELD_GRACE_MS:
          if (get_int (value, length, &n) < 0)
            protocol_error (r->id, "field 0x%04x must be an 8-byte integer", tag);
          if (tag == LLMSBX_RUNNER_FIELD_TIMEOUT_MS)
            r->timeout_ms = n;
          else if (tag == LLMSBX_RUNNER_FIELD_OUTPUT_LIMIT)
            r->output_limit = n;
          else if (tag == LLMSBX_RUNNER_FIELD_STATEFUL)
            r->stateful = n != 0;
          else if (tag == LLMSBX_RUNNER_FIELD_DRAIN_MS)
            r->drain_ms = n;
          else
            r->grace_ms = n;
          break;

        default:
          protocol_error (r->id, "unknown field 0x%04x in a request", tag);
        }
      last_was_data = is_data;
    }
  if (got < 0)
    protocol_error (r->id, "a request's fields run past its end");

  for (size_t i = 0; i < r->nfiles; i++)
    if (r->files[i].data == NULL && r->bad[0] == '\0')
      snprintf (r->bad, sizeof r->bad, "file '%.64s' has no FILE_DATA", r->files[i].path);
  if (r->argc == 0 && r->bad[0] == '\0')
    snprintf (r->bad, sizeof r->bad, "no ARGV: nothing to run");
  if (r->cwd != NULL && r->cwd[0] != '/' && r->bad[0] == '\0')
    snprintf (r->bad, sizeof r->bad, "CWD '%.64s' is not absolute", r->cwd);
  if (r->adapter != NULL && strcmp (r->adapter, "python") != 0 && strcmp (r->adapter, "node") != 0 &&
      r->bad[0] == '\0')
    snprintf (r->bad, sizeof r->bad, "unknown adapter '%.32s' (this runner has: python, node)", r->adapter);
  if (r->adapter != NULL && strcmp (r->adapter, "node") == 0 && !r->stateful &&
      r->frame.type == LLMSBX_RUNNER_FRAME_RUN && r->bad[0] == '\0')
    snprintf (r->bad, sizeof r->bad, "the node adapter runs interactive cells (STATEFUL) only; "
                                     "run node programs without an adapter");
  if (r->adapter != NULL && r->argc < 2 && r->frame.type == LLMSBX_RUNNER_FRAME_RUN && r->bad[0] == '\0')
    snprintf (r->bad, sizeof r->bad, "an adapter run needs ARGV = interpreter, file, arguments...");
  if (r->stateful && r->adapter == NULL && r->bad[0] == '\0')
    snprintf (r->bad, sizeof r->bad, "STATEFUL needs an ADAPTER");
  if (r->timeout_ms > (uint64_t) INT64_MAX / 1000 / 2)
    r->timeout_ms = (uint64_t) INT64_MAX / 1000 / 2;
  if (r->drain_ms > 3600000)
    r->drain_ms = 3600000;
  if (r->grace_ms > 3600000)
    r->grace_ms = 3600000;
}

/* The runner's environment with the request's entries added (a name the
 * request gives replaces the runner's), as an exec's Env is added to the
 * container's. The strings belong to base_env and the request. */
static char **
merged_env (const struct request *r)
{
  size_t nbase = 0, n = 0;
  char **env;

  while (base_env[nbase] != NULL)
    nbase++;
  env = xmalloc ((nbase + r->envc + 1) * sizeof *env);
  for (size_t i = 0; i < nbase; i++)
    {
      size_t name = strcspn (base_env[i], "=");
      int replaced = 0;

      for (size_t j = 0; j < r->envc && !replaced; j++)
        replaced = strncmp (r->env[j], base_env[i], name + 1) == 0;
      if (!replaced)
        env[n++] = base_env[i];
    }
  for (size_t j = 0; j < r->envc; j++)
    {
      size_t name = strcspn (r->env[j], "=");
      int later = 0;

      for (size_t k = j + 1; k < r->envc && !later; k++)
        later = strncmp (r->env[k], r->env[j], name + 1) == 0;
      if (!later)
        env[n++] = r->env[j];
    }
  env[n] = NULL;
  return env;
}

/* mkdir -p of @path's parent. */
static int
make_parents (const char *path)
{
  char *copy = xstrndup ((const unsigned char *) path, strlen (path));

  for (char *p = copy + 1; *p; p++)
    {
      if (*p != '/')
        continue;
      *p = '\0';
      if (mkdir (copy, 0755) < 0 && errno != EEXIST)
        {
          int saved = errno;

          free (copy);
          errno = saved;
          return -1;
        }
      *p = '/';
    }
  free (copy);
  return 0;
}

/* Writes the request's files; on failure fills @message. */
static int
write_files (const struct request *r, char *message, size_t size, int *err)
{
  for (size_t i = 0; i < r->nfiles; i++)
    {
      const struct file *f = &r->files[i];
      int fd;

      if (make_parents (f->path) < 0 ||
          (fd = open (f->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, f->mode)) < 0)
        {
          *err = errno;
          snprintf (message, size, "cannot write %s: %s", f->path, strerror (errno));
          return -1;
        }
      if (write_all (fd, f->data, f->length) < 0 || close (fd) < 0)
        {
          *err = errno;
          snprintf (message, size, "cannot write %s: %s", f->path, strerror (errno));
          close (fd);
          return -1;
        }
    }
  return 0;
}

/* ---------------------------------------------------------------------------
 * Processes: spawning, the process table, the sweep
 * ------------------------------------------------------------------------ */

enum { STAGE_DUP = 1, STAGE_CHDIR, STAGE_EXEC };

struct spawn_error
{
  int stage;
  int err;
};

/* Marks every descriptor from @first on close-on-exec. */
static void
cloexec_from (int first)
{
  if (syscall (SYS_close_range, (unsigned) first, ~0U, CLOSE_RANGE_CLOEXEC) == 0)
    return;

  DIR *dir = opendir ("/proc/self/fd");
  if (dir != NULL)
    {
      struct dirent *entry;

      while ((entry = readdir (dir)) != NULL)
        {
          int fd = atoi (entry->d_name);

          if (fd >= first && fd != dirfd (dir))
            fcntl (fd, F_SETFD, FD_CLOEXEC);
        }
      closedir (dir);
      return;
    }
  for (int fd = first; fd < 65536; fd++)
    fcntl (fd, F_SETFD, FD_CLOEXEC);
}

/* Starts @argv with @env in @cwd in a session of its own, with @fds[i] as
 * descriptor i (and no other), default signal dispositions and an empty
 * signal mask. Returns the pid, or -1 with @error filled. */
static pid_t
spawn_process (char **argv, char **env, const char *cwd, const int *fds, int nfds, int die_with_runner,
               struct spawn_error *error)
{
  int report[2];
  pid_t pid;
  ssize_t n;

  if (pipe2 (report, O_CLOEXEC) < 0)
    {
      *error = (struct spawn_error) { 0, errno };
      return -1;
    }
  pid = fork ();
  if (pid < 0)
    {
      *error = (struct spawn_error) { 0, errno };
      close (report[0]);
      close (report[1]);
      return -1;
    }
  if (pid == 0)
    {
      struct spawn_error e = { STAGE_DUP, 0 };
      int moved[8];
      sigset_t all;

      setsid ();
      /* A helper (the adapter) must not outlive the runner it serves. */
      if (die_with_runner && (prctl (PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid () != self_pid))
        _exit (127);
      for (int sig = 1; sig < NSIG; sig++)
        signal (sig, SIG_DFL);
      sigemptyset (&all);
      sigprocmask (SIG_SETMASK, &all, NULL);

      /* Out of the way first, so that no source is overwritten by a target. */
      for (int i = 0; i < nfds; i++)
        if ((moved[i] = fcntl (fds[i], F_DUPFD_CLOEXEC, 16)) < 0)
          goto failed;
      for (int i = 0; i < nfds; i++)
        if (dup2 (moved[i], i) < 0)
          goto failed;
      cloexec_from (nfds);

      e.stage = STAGE_CHDIR;
      if (cwd != NULL && chdir (cwd) < 0)
        goto failed;

      e.stage = STAGE_EXEC;
      environ = env;
      execvp (argv[0], argv);

    failed:
      e.err = errno;
      n = write (report[1], &e, sizeof e);
      (void) n;
      _exit (127);
    }

  close (report[1]);
  do
    n = read (report[0], error, sizeof *error);
  while (n < 0 && errno == EINTR);
  close (report[0]);
  if (n == (ssize_t) sizeof *error)
    {
      int status;

      while (waitpid (pid, &status, 0) < 0 && errno == EINTR)
        ;
      return -1;
    }
  return pid;
}

struct proc
{
  pid_t pid, ppid;
  unsigned long long start;
  char state;                 /* R, S, D, Z, T... */
};

static int
proc_compare (const void *a, const void *b)
{
  const struct proc *x = a, *y = b;

  return (x->pid > y->pid) - (x->pid < y->pid);
}

/* Reads pid, ppid and start time from /proc/PID/stat. */
static int
read_stat (pid_t pid, struct proc *p)
{
  char path[64], text[1024];
  const char *close_paren;
  unsigned long long start = 0;
  int ppid = 0, fd, field;
  ssize_t n;
  char *s;

  snprintf (path, sizeof path, "/proc/%d/stat", (int) pid);
  fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return -1;
  n = read (fd, text, sizeof text - 1);
  close (fd);
  if (n <= 0)
    return -1;
  text[n] = '\0';
  /* The command name may hold spaces and parentheses: skip to the last ')'. */
  close_paren = strrchr (text, ')');
  if (close_paren == NULL)
    return -1;
  s = (char *) close_paren + 2;  /* state */
  p->state = *s;
  for (field = 3; field < 22 && s != NULL && *s; field++)
    {
      if (field == 4)
        ppid = atoi (s);
      s = strchr (s, ' ');
      if (s != NULL)
        s++;
    }
  if (s == NULL || field != 22)
    return -1;
  start = strtoull (s, NULL, 10);
  p->pid = pid;
  p->ppid = ppid;
  p->start = start;
  return 0;
}

/* Every process this runner can see in /proc, sorted by pid. */
static struct proc *
scan_processes (size_t *count)
{
  struct proc *procs = NULL;
  size_t n = 0, cap = 0;
  DIR *dir = opendir ("/proc");
  struct dirent *entry;

  *count = 0;
  if (dir == NULL)
    return NULL;
  while ((entry = readdir (dir)) != NULL)
    {
      struct proc p;
      char *end;
      long pid = strtol (entry->d_name, &end, 10);

      if (*end != '\0' || pid <= 0)
        continue;
      if (read_stat ((pid_t) pid, &p) < 0)
        continue;
      if (n == cap)
        {
          cap = cap ? cap * 2 : 64;
          procs = xrealloc (procs, cap * sizeof *procs);
        }
      procs[n++] = p;
    }
  closedir (dir);
  qsort (procs, n, sizeof *procs, proc_compare);
  *count = n;
  return procs;
}

static const struct proc *
find_process (const struct proc *procs, size_t n, pid_t pid)
{
  struct proc key = { .pid = pid };

  return bsearch (&key, procs, n, sizeof *procs, proc_compare);
}

static int
same_process (const struct proc *a, pid_t pid, unsigned long long start)
{
  return a->pid == pid && a->start == start;
}

/* Which processes a sweep kills. */
struct sweep
{
  pid_t root;                    /* the run's process (or kernel), 0 for none */
  unsigned long long root_start;
  int kill_root;                 /* the root itself too (not a kernel that survives) */
  int orphans;                   /* new direct children of the runner are the run's orphans */
  int everything;                /* every descendant of the runner */
  pid_t protect[2];              /* never: the adapter, the kernel */
  unsigned long long began;      /* the tick the run began in: older processes are not its own */
  const struct proc *elders;     /* the runner's children when it began: nothing below them is its own */
  size_t nelders;
};

static int
is_protected (const struct sweep *s, pid_t pid)
{
  return pid != 0 && (pid == s->protect[0] || pid == s->protect[1]);
}

static int
existed_before (const struct sweep *s, const struct proc *p)
{
  for (size_t i = 0; i < s->nelders; i++)
    if (same_process (p, s->elders[i].pid, s->elders[i].start))
      return 1;
  return p->start < s->began;
}

/* Now, in the clock ticks since boot of /proc/PID/stat's start times. */
static unsigned long long
boot_ticks (void)
{
  static long hz;
  struct timespec ts;

  if (hz <= 0)
    hz = sysconf (_SC_CLK_TCK);
  if (hz <= 0)
    hz = 100;
  clock_gettime (CLOCK_BOOTTIME, &ts);
  return (unsigned long long) ts.tv_sec * (unsigned long long) hz +
         (unsigned long long) ts.tv_nsec / (1000000000ULL / (unsigned long long) hz);
}

static int
is_victim (const struct sweep *s, const struct proc *procs, size_t n, const struct proc *p)
{
  const struct proc *q = p;

  if (p->pid == self_pid)
    return 0;
  if (s->root != 0 && same_process (p, s->root, s->root_start))
    return s->kill_root;
  if (is_protected (s, p->pid))
    return 0;

  for (size_t depth = 0; depth <= n; depth++)
    {
      if (s->root != 0 && same_process (q, s->root, s->root_start))
        return 1;
      if (q != p && is_protected (s, q->pid))
        return 0;
      if (q->pid == self_pid)
        return s->everything;
      if (!s->everything && existed_before (s, q))
        return 0;
      if (q->ppid == self_pid)
        return s->everything || s->orphans;
      q = find_process (procs, n, q->ppid);
      if (q == NULL)
        return 0;
    }
  return 0;
}

/* Stops every victim, round after round until no new one appears, then
 * kills them all. Returns 0, or -1 when one could not be signalled. */
static int
sweep (const struct sweep *s)
{
  struct proc *stopped = NULL;
  size_t nstopped = 0, cap = 0;
  int failed = 0, quiet = 0;

  /* Never from init or from the runner: kill (-1) would be everything. */
  if (s->root == 1 || s->root < 0 || (s->root != 0 && s->root == self_pid))
    return -1;

  for (int round = 0; round < SWEEP_ROUNDS && quiet < 2; round++)
    {
      size_t n;
      struct proc *procs = scan_processes (&n);
      int found = 0;

      if (procs == NULL && n == 0 && round == 0)
        break;  /* no /proc: only the process group is killed below */
      for (size_t i = 0; i < n; i++)
        {
          int known = 0;

          if (!is_victim (s, procs, n, &procs[i]))
            continue;
          for (size_t j = 0; j < nstopped && !known; j++)
            known = same_process (&stopped[j], procs[i].pid, procs[i].start);
          if (known)
            continue;
          if (kill (procs[i].pid, SIGSTOP) < 0 && errno == EPERM)
            failed = 1;
          if (nstopped == cap)
            {
              cap = cap ? cap * 2 : 32;
              stopped = xrealloc (stopped, cap * sizeof *stopped);
            }
          stopped[nstopped++] = procs[i];
          found = 1;
        }
      free (procs);
      quiet = found ? 0 : quiet + 1;
    }

  if (s->root != 0 && s->kill_root)
    kill (-s->root, SIGKILL);
  for (size_t i = 0; i < nstopped; i++)
    if (kill (stopped[i].pid, SIGKILL) < 0 && errno == EPERM)
      failed = 1;
  if (s->root != 0 && s->kill_root && kill (s->root, SIGKILL) < 0 && errno == EPERM)
    failed = 1;

  /* SIGKILL is delivered at once but a process takes a moment to die (more
   * on a loaded machine): wait until every victim is gone or a zombie, so
   * that what the answer says is over is over. */
  {
    int64_t until = now_us () + (int64_t) KILL_WAIT_MS * 1000;

    for (size_t i = 0; i < nstopped; i++)
      {
        struct proc p;

        while (read_stat (stopped[i].pid, &p) == 0 && p.start == stopped[i].start && p.state != 'Z' &&
               p.state != 'X' && now_us () < until)
          usleep (1000);
      }
  }
  free (stopped);
  return failed ? -1 : 0;
}

static unsigned long long
start_time (pid_t pid)
{
  struct proc p;

  return read_stat (pid, &p) == 0 ? p.start : 0;
}

/* The runner's children now, from its own /proc/.../children (the kernel
 * keeps that list; no scan of /proc). Without that file (a kernel built
 * without CONFIG_PROC_CHILDREN) there are none, and only the clock tick
 * tells a run's processes from older ones. */
static struct proc *
snapshot_children (size_t *count)
{
  char path[64], text[4096];
  struct proc *children = NULL;
  size_t n = 0, cap = 0;
  ssize_t len;
  char *p, *end;
  int fd;

  *count = 0;
  snprintf (path, sizeof path, "/proc/self/task/%ld/children", (long) self_pid);
  fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return NULL;
  len = read (fd, text, sizeof text - 1);
  close (fd);
  if (len <= 0)
    return NULL;
  text[len] = '\0';
  for (p = text; *p; p = end)
    {
      long pid = strtol (p, &end, 10);
      struct proc child;

      if (end == p)
        break;
      if (pid <= 0 || read_stat ((pid_t) pid, &child) != 0)
        continue;
      if (n == cap)
        {
          cap = cap ? cap * 2 : 8;
          children = xrealloc (children, cap * sizeof *children);
        }
      children[n++] = child;
    }
  *count = n;
  return children;
}

/* The memory cgroup's count of OOM kills (v1 and v2 name it alike). */
static uint64_t
oom_kills (void)
{
  static const char * const files[] = {
    "/sys/fs/cgroup/memory/memory.oom_control", "/sys/fs/cgroup/memory.events",
  };

  for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
    {
      char text[1024];
      const char *line;
      int fd = open (files[i], O_RDONLY | O_CLOEXEC);
      ssize_t n;

      if (fd < 0)
        continue;
      n = read (fd, text, sizeof text - 1);
      close (fd);
      if (n <= 0)
        continue;
      text[n] = '\0';
      for (line = text; line != NULL && *line; line = strchr (line, '\n'), line = line ? line + 1 : NULL)
        if (strncmp (line, "oom_kill ", 9) == 0)
          return strtoull (line + 9, NULL, 10);
    }
  return 0;
}

/* ---------------------------------------------------------------------------
 * The adapter: a language's resident process (Python), started on demand
 * ------------------------------------------------------------------------ */

struct adapter
{
  int kind;                  /* ADAPTER_PYTHON, ADAPTER_NODE */
  pid_t pid;
  unsigned long long start;
  int sock;                  /* frames with the adapter */
  int err;                   /* its stderr: kept for messages; node: also its cells' */
  int out;                   /* node: its stdout, its cells' */
  char *key;                 /* interpreter and the environment it reads at start */
  char tail[1024];           /* the end of what it wrote on stderr */
  size_t tail_len;
  int exit_status;           /* wait status once it died, else -1 */
  pid_t kernel;              /* the interactive kernel it reported, or 0 */
  unsigned long long kernel_start;
};

static struct adapter adapter = { .sock = -1, .err = -1, .out = -1, .exit_status = -1 };

static const char *
adapter_name (int kind)
{
  return kind == ADAPTER_NODE ? "Node.js kernel" : "Python adapter";
}

static int
adapter_kind (const char *name)
{
  return name != NULL && strcmp (name, "node") == 0 ? ADAPTER_NODE : ADAPTER_PYTHON;
}

static void
adapter_read_stderr (void)
{
  char chunk[512];

  while (adapter.err >= 0)
    {
      ssize_t n = read (adapter.err, chunk, sizeof chunk);
      size_t keep;

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 && errno == EAGAIN)
        return;
      if (n <= 0)
        {
          close_fd (&adapter.err);
          return;
        }
      /* Keep the last bytes only (the chunk is smaller than the tail). */
      keep = sizeof adapter.tail - (size_t) n;
      if (adapter.tail_len > keep)
        {
          memmove (adapter.tail, adapter.tail + adapter.tail_len - keep, keep);
          adapter.tail_len = keep;
        }
      memcpy (adapter.tail + adapter.tail_len, chunk, (size_t) n);
      adapter.tail_len += (size_t) n;
    }
}

/* What the adapter said last on stderr, one line, for messages. */
static const char *
adapter_last_words (void)
{
  static char line[256];
  size_t end = adapter.tail_len, start;

  while (end > 0 && (adapter.tail[end - 1] == '\n' || adapter.tail[end - 1] == ' '))
    end--;
  start = end;
  while (start > 0 && adapter.tail[start - 1] != '\n')
    start--;
  if (end - start >= sizeof line)
    start = end - (sizeof line - 1);
  memcpy (line, adapter.tail + start, end - start);
  line[end - start] = '\0';
  for (char *p = line; *p; p++)
    if ((unsigned char) *p < 0x20)
      *p = ' ';
  return line;
}

static void
describe_status (int status, char *out, size_t size)
{
  if (status < 0)
    snprintf (out, size, "is gone");
  else if (WIFSIGNALED (status))
    snprintf (out, size, "was killed by signal %d", WTERMSIG (status));
  else
    snprintf (out, size, "exited with status %d", WEXITSTATUS (status));
}

struct run;
static void run_borrowed_pipes_gone (void);

static void
adapter_forget (void)
{
  /* A Node.js cell's output is in the adapter's own pipes: take it first. */
  run_borrowed_pipes_gone ();
  close_fd (&adapter.sock);
  adapter_read_stderr ();
  close_fd (&adapter.err);
  close_fd (&adapter.out);
  adapter.kind = ADAPTER_NONE;
  free (adapter.key);
  adapter.key = NULL;
  adapter.pid = 0;
  adapter.kernel = 0;
}

/* Kills the adapter and its kernel with everything they started. */
static void
adapter_stop (void)
{
  struct sweep s = { 0 };
  int status;

  if (adapter.pid == 0)
    return;
  s.root = adapter.pid;
  s.root_start = adapter.start;
  s.kill_root = 1;
  sweep (&s);
  while (waitpid (adapter.pid, &status, 0) < 0 && errno == EINTR)
    ;
  adapter_forget ();
}

/* The adapter's identity: the interpreter, and the environment the
 * interpreter reads when it starts (PYTHON*, and the locale, which picks the
 * encoding of its streams), which a forked child cannot change.
 * PYTHONUNBUFFERED is applied per run. */
static char *
adapter_key (const struct request *r, char **env)
{
  struct buf b = { 0 };
  int node = adapter_kind (r->adapter) == ADAPTER_NODE;

  buf_add (&b, node ? "node" : "python", node ? 5 : 7);
  buf_add (&b, r->argv[0], strlen (r->argv[0]) + 1);
  for (size_t i = 0; env[i] != NULL; i++)
    if (node ? strncmp (env[i], "NODE_", 5) == 0
             : ((strncmp (env[i], "PYTHON", 6) == 0 && strncmp (env[i], "PYTHONUNBUFFERED=", 17) != 0) ||
                strncmp (env[i], "LC_", 3) == 0 || strncmp (env[i], "LANG=", 5) == 0))
      buf_add (&b, env[i], strlen (env[i]) + 1);
  buf_add (&b, "", 1);
  return (char *) b.data;
}

static int
key_equal (const char *a, const char *b)
{
  /* Sequences of NUL-terminated strings, ended by an empty one. */
  for (;;)
    {
      size_t la = strlen (a), lb = strlen (b);

      if (la != lb || memcmp (a, b, la) != 0)
        return 0;
      if (la == 0)
        return 1;
      a += la + 1;
      b += lb + 1;
    }
}

static int reap_children (pid_t watched, int *watched_status);

/* Makes sure the Python adapter for @r runs and has greeted. On failure
 * fills @message and returns -1. */
static int
adapter_ensure (const struct request *r, char **env, int64_t deadline, char *message, size_t size, int *err)
{
  char *key = adapter_key (r, env);
  int kind = adapter_kind (r->adapter);
  const char *name = adapter_name (kind);
  char script[PATH_MAX];
  char *argv[4];
  int sv[2], errp[2], outp[2] = { -1, -1 }, fds[4];
  struct spawn_error e = { 0 };
  struct frame f;
  char why[256];
  int64_t until;

  if (adapter.pid != 0 && adapter.key != NULL && key_equal (adapter.key, key))
    {
      free (key);
      return 0;
    }
  adapter_stop ();

  snprintf (script, sizeof script, "%s/%s", adapter_dir, kind == ADAPTER_NODE ? NODE_ADAPTER : PYTHON_ADAPTER);
  if (access (script, R_OK) < 0)
    {
      *err = errno;
      snprintf (message, size, "the %s %.300s is missing (%s)", name, script, strerror (errno));
      free (key);
      return -1;
    }
  if (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
    {
      *err = errno;
      snprintf (message, size, "cannot start the %s: socketpair: %s", name, strerror (errno));
      free (key);
      return -1;
    }
  if (pipe2 (errp, O_CLOEXEC) < 0 || (kind == ADAPTER_NODE && pipe2 (outp, O_CLOEXEC) < 0))
    {
      *err = errno;
      snprintf (message, size, "cannot start the %s: pipe: %s", name, strerror (errno));
      close (sv[0]);
      close (sv[1]);
      free (key);
      return -1;
    }
  argv[0] = r->argv[0];
  argv[1] = script;
  argv[2] = "3";
  argv[3] = NULL;
  fds[0] = dev_null;
  fds[1] = kind == ADAPTER_NODE ? outp[1] : dev_null;
  fds[2] = errp[1];
  fds[3] = sv[1];
  adapter.pid = spawn_process (argv, env, r->cwd, fds, 4, 1, &e);
  close (sv[1]);
  close (errp[1]);
  close_fd (&outp[1]);
  if (adapter.pid < 0)
    {
      adapter.pid = 0;
      *err = e.err;
      snprintf (message, size, "cannot start the %s with '%s': %s", name, r->argv[0], strerror (e.err));
      close (sv[0]);
      close (errp[0]);
      close_fd (&outp[0]);
      free (key);
      return -1;
    }
  adapter.kind = kind;
  adapter.start = start_time (adapter.pid);
  adapter.sock = sv[0];
  adapter.err = errp[0];
  adapter.out = outp[0];
  adapter.key = key;
  adapter.tail_len = 0;
  adapter.exit_status = -1;
  adapter.kernel = 0;
  if (adapter.out >= 0)
    set_nonblock (adapter.out);
  set_nonblock (adapter.sock);
  set_nonblock (adapter.err);

  /* Wait for its HELLO, reading its stderr meanwhile. */
  until = now_us () + (int64_t) ADAPTER_START_MS * 1000;
  if (deadline != 0 && deadline < until)
    until = deadline;
  for (;;)
    {
      struct pollfd pfd[2] = { { adapter.sock, POLLIN, 0 }, { adapter.err, POLLIN, 0 } };
      int r2 = poll (pfd, adapter.err >= 0 ? 2 : 1, poll_timeout (until));

      if (r2 < 0 && errno == EINTR)
        continue;
      if (r2 == 0)
        {
          snprintf (message, size, "the %s did not start in time%s%s", name,
                    adapter.tail_len ? ": " : "", adapter_last_words ());
          *err = ETIMEDOUT;
          adapter_stop ();
          return -1;
        }
      if (adapter.err >= 0 && (pfd[1].revents & (POLLIN | POLLHUP)))
        adapter_read_stderr ();
      if (pfd[0].revents & (POLLIN | POLLHUP | POLLERR))
        break;
    }

  int got = read_frame (adapter.sock, LLMSBX_RUNNER_ADAPTER_FRAME_MAX, &f, why, sizeof why);
  if (got == 1 && f.type == LLMSBX_RUNNER_FRAME_ADAPTER_HELLO)
    {
      struct fields it = { f.payload, f.payload + f.length };
      const unsigned char *value;
      uint32_t length;
      uint16_t tag;
      uint64_t version = 0;

      while (next_field (&it, &tag, &value, &length) == 1)
        if (tag == LLMSBX_RUNNER_FIELD_VERSION)
          get_int (value, length, &version);
      free (f.payload);
      if (version == LLMSBX_RUNNER_PROTOCOL_VERSION)
        return 0;
      snprintf (message, size, "the %s speaks protocol version %llu, the runner %d", name,
                (unsigned long long) version, LLMSBX_RUNNER_PROTOCOL_VERSION);
    }
  else
    {
      int status = -1;

      free (f.payload);
      usleep (20000);
      adapter_read_stderr ();
      if (waitpid (adapter.pid, &status, WNOHANG) == adapter.pid)
        {
          char how[64];

          describe_status (status, how, sizeof how);
          snprintf (message, size, "the %s %s before it was ready%s%s", name, how,
                    adapter.tail_len ? ": " : "", adapter_last_words ());
          adapter_forget ();
          *err = ECHILD;
          return -1;
        }
      snprintf (message, size, "the %s did not greet: %s", name, got < 0 ? why : "unexpected frame");
    }
  *err = EPROTO;
  adapter_stop ();
  return -1;
}

/* Sends a frame to the adapter, with @fds on its first byte. */
static int
adapter_send (uint8_t type, uint32_t id, const struct buf *payload, const int *fds, int nfds)
{
  unsigned char head[LLMSBX_RUNNER_HEADER_SIZE];
  union { struct cmsghdr align; char space[CMSG_SPACE (sizeof (int) * 3)]; } control;
  struct iovec iov = { head, sizeof head };
  struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
  ssize_t n;

  frame_header (head, type, 0, id, payload ? payload->len : 0);
  if (nfds > 0)
    {
      struct cmsghdr *c;

      memset (&control, 0, sizeof control);
      msg.msg_control = control.space;
      msg.msg_controllen = CMSG_SPACE (sizeof (int) * (size_t) nfds);
      c = CMSG_FIRSTHDR (&msg);
      c->cmsg_level = SOL_SOCKET;
      c->cmsg_type = SCM_RIGHTS;
      c->cmsg_len = CMSG_LEN (sizeof (int) * (size_t) nfds);
      memcpy (CMSG_DATA (c), fds, sizeof (int) * (size_t) nfds);
    }
  do
    n = sendmsg (adapter.sock, &msg, MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  if (n < 0)
    return -1;
  if ((size_t) n < sizeof head && write_all (adapter.sock, head + n, sizeof head - (size_t) n) < 0)
    return -1;
  if (payload != NULL && write_all (adapter.sock, payload->data, payload->len) < 0)
    return -1;
  return 0;
}

/* ---------------------------------------------------------------------------
 * Runs
 * ------------------------------------------------------------------------ */

struct run
{
  struct request *req;
  int out[3];                 /* read ends of stdout (1) and stderr (2), -1 when closed */
  int in;                     /* write end of stdin, -1 when done */
  size_t in_off;
  pid_t pid;                  /* the process that runs the code (0 until known) */
  unsigned long long pid_start;
  int via_adapter;
  int have_status;
  int exit_code, signal;
  uint64_t flags;
  uint64_t failure;
  int err;
  char message[512];
  uint64_t sent[3], total[3];
  int64_t started, ended;
  int64_t deadline;           /* kill at this time, 0 = never */
  int64_t drain_deadline;     /* stop waiting for output */
  int64_t grace_deadline;     /* an interrupted cell must be back by then */
  int64_t kill_deadline;      /* killed processes must be reported dead by then */
  int interrupted;            /* timed out or cancelled: the kill has begun */
  int borrowed;               /* out[] are the Node.js kernel's own pipes, not the run's */
  unsigned long long began;   /* in boot ticks */
  struct proc *elders;        /* the runner's children when it began */
  size_t nelders;
  uint64_t oom_before;
};

static struct run *current;

/* Whether @pid is (still, or now) a child of the runner that has not been
 * reaped: after its adapter died, a run's process is reparented to us. */
static int
still_ours (pid_t pid)
{
  siginfo_t info = { 0 };

  return waitid (P_PID, (id_t) pid, &info, WEXITED | WNOHANG | WNOWAIT) == 0;
}

static void
run_set_status (struct run *run, int status)
{
  run->have_status = 1;
  run->ended = now_us ();
  if (WIFSIGNALED (status))
    {
      run->signal = WTERMSIG (status);
      run->exit_code = 128 + run->signal;
    }
  else
    run->exit_code = WEXITSTATUS (status);
  run->drain_deadline = run->ended + (int64_t) run->req->drain_ms * 1000;
}

static void run_fail (struct run *run, uint64_t failure, int err, const char *format, ...)
  __attribute__ ((format (printf, 4, 5)));

static void
run_fail (struct run *run, uint64_t failure, int err, const char *format, ...)
{
  va_list args;

  run->failure = failure;
  run->err = err;
  va_start (args, format);
  vsnprintf (run->message, sizeof run->message, format, args);
  va_end (args);
}

/* Kills what the run started (not a kernel, unless @with_kernel). */
static void
run_kill (struct run *run, int with_kernel)
{
  struct sweep s = { 0 };

  s.root = run->pid;
  s.root_start = run->pid_start;
  s.kill_root = !run->req->stateful || with_kernel;
  s.orphans = 1;
  s.protect[0] = adapter.pid;
  s.protect[1] = run->req->stateful && !with_kernel ? adapter.kernel : 0;
  s.began = run->began;
  s.elders = run->elders;
  s.nelders = run->nelders;
  if (sweep (&s) < 0)
    run->flags |= LLMSBX_RUNNER_RESULT_KILL_FAILED;
  run->kill_deadline = now_us () + (int64_t) KILL_WAIT_MS * 1000;
}

/* The deadline passed or the host cancelled. */
static void
run_interrupt (struct run *run, uint64_t why)
{
  if (run->interrupted || run->have_status)
    return;
  run->interrupted = 1;
  run->flags |= why;
  if (run->pid == 0)
    {
      /* Not started yet as far as we know: kill whatever is new. */
      run_kill (run, 0);
      return;
    }
  if (run->req->stateful)
    {
      /* Interrupt the cell (KeyboardInterrupt) and kill what it started;
       * the kernel survives if it comes back in time. */
      kill (run->pid, SIGINT);
      run_kill (run, 0);
      run->kill_deadline = 0;  /* the grace below decides */
      run->grace_deadline = now_us () + (int64_t) run->req->grace_ms * 1000;
      return;
    }
  run_kill (run, 1);
}

/* Relays what the program wrote on @stream. Returns 1 when it stopped with
 * more possibly waiting (it yields after 16 chunks), else 0. */
static int
run_output (struct run *run, int stream)
{
  unsigned char chunk[LLMSBX_RUNNER_CHUNK_MAX];

  for (int reads = 0; reads < 16; reads++)
    {
      ssize_t n = read (run->out[stream], chunk, sizeof chunk);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 && errno == EAGAIN)
        return 0;
      if (n <= 0)
        {
          /* The kernel's own pipes are closed with the kernel. */
          if (run->borrowed)
            run->out[stream] = -1;
          else
            close_fd (&run->out[stream]);
          return 0;
        }
      run->total[stream] += (uint64_t) n;
      if (run->sent[stream] < run->req->output_limit)
        {
          uint64_t room = run->req->output_limit - run->sent[stream];
          size_t k = (uint64_t) n < room ? (size_t) n : (size_t) room;

          send_host (LLMSBX_RUNNER_FRAME_OUTPUT, (uint8_t) stream, run->req->id, chunk, k);
          run->sent[stream] += k;
        }
      if (run->total[stream] > run->sent[stream])
        run->flags |= stream == 1 ? LLMSBX_RUNNER_RESULT_STDOUT_TRUNCATED : LLMSBX_RUNNER_RESULT_STDERR_TRUNCATED;
    }
  return 1;
}

/* Reads and forgets what a non-blocking @fd holds now. */
static void
drop_pending (int fd)
{
  char drop[4096];

  while (fd >= 0)
    {
      ssize_t n = read (fd, drop, sizeof drop);

      if (n > 0 || (n < 0 && errno == EINTR))
        continue;
      return;
    }
}

/* Everything the pipes hold now, down to EAGAIN or their end. */
static void
run_drain (struct run *run)
{
  for (int stream = 1; stream <= 2; stream++)
    while (run->out[stream] >= 0 && run_output (run, stream) == 1)
      ;
}

/* The Node.js kernel is going: its pipes hold the end of the cell's output. */
static void
run_borrowed_pipes_gone (void)
{
  if (current == NULL || !current->borrowed)
    return;
  run_drain (current);
  current->out[1] = -1;
  current->out[2] = -1;
}

static void
run_stdin (struct run *run)
{
  while (run->in >= 0)
    {
      size_t left = run->req->stdin_length - run->in_off;
      ssize_t n;

      if (left == 0)
        {
          close_fd (&run->in);
          return;
        }
      n = write (run->in, run->req->stdin_data + run->in_off, left > 65536 ? 65536 : left);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 && errno == EAGAIN)
        return;
      if (n < 0)
        {
          close_fd (&run->in);  /* EPIPE: the program does not read it */
          return;
        }
      run->in_off += (size_t) n;
    }
}

/* A frame from the adapter during a run. */
static void
run_adapter_frame (struct run *run)
{
  struct frame f;
  char why[256];
  int got = read_frame (adapter.sock, LLMSBX_RUNNER_ADAPTER_FRAME_MAX, &f, why, sizeof why);
  struct fields it;
  const unsigned char *value;
  uint32_t length;
  uint16_t tag;
  uint64_t n, code = 0, sig = 0, flags = 0, failure = 0, err = 0;
  char *message = NULL;
  int ok = 1;

  if (got <= 0 || f.id != run->req->id ||
      (f.type != LLMSBX_RUNNER_FRAME_ADAPTER_STARTED && f.type != LLMSBX_RUNNER_FRAME_ADAPTER_EXITED))
    {
      /* Dead, or saying things it should not: it is not trusted again. */
      free (f.payload);
      if (got == 0)
        {
          /* It is exiting. Its children are ours only once it is reaped
           * (the kernel closes its files before it reparents them), so the
           * run is judged then. */
          close_fd (&adapter.sock);
          if (adapter.pid != 0)
            kill (adapter.pid, SIGKILL);
        }
      else
        {
          run_fail (run, LLMSBX_RUNNER_FAILURE_ADAPTER, EPROTO, "the %s misbehaved: %s",
                    adapter_name (adapter.kind), got < 0 ? why : "an unexpected frame");
          run_kill (run, 1);
          adapter_stop ();
        }
      return;
    }

  it = (struct fields) { f.payload, f.payload + f.length };
  while ((got = next_field (&it, &tag, &value, &length)) == 1)
    {
      if (tag == LLMSBX_RUNNER_FIELD_MESSAGE)
        {
          free (message);
          message = xstrndup (value, length > 400 ? 400 : length);
          continue;
        }
      if (get_int (value, length, &n) < 0)
        ok = 0;
      else if (tag == LLMSBX_RUNNER_FIELD_PID)
        {
          struct proc p;

          /* The pid the kill will start from must be the adapter's child
           * (Python: the run or the kernel) or, for Node.js, the adapter
           * itself: a kernel that runs user code must not make the runner
           * kill another process's tree (or, with pid 1, everything). One
           * that is already gone leaves nothing to kill. */
          if (n <= 1 || n > INT_MAX || (pid_t) n == self_pid)
            ok = 0;
          else if (f.type == LLMSBX_RUNNER_FRAME_ADAPTER_STARTED && read_stat ((pid_t) n, &p) == 0)
            {
              if (adapter.kind == ADAPTER_NODE ? p.pid != adapter.pid : p.ppid != adapter.pid)
                ok = 0;
              else
                {
                  run->pid = p.pid;
                  run->pid_start = p.start;
                }
            }
        }
      else if (tag == LLMSBX_RUNNER_FIELD_EXIT_CODE)
        code = n;
      else if (tag == LLMSBX_RUNNER_FIELD_SIGNAL)
        sig = n;
      else if (tag == LLMSBX_RUNNER_FIELD_FLAGS)
        flags = n;
      else if (tag == LLMSBX_RUNNER_FIELD_FAILURE)
        failure = n;
      else if (tag == LLMSBX_RUNNER_FIELD_ERRNO)
        err = n;
      else
        ok = 0;
    }
  free (f.payload);
  if (got < 0 || !ok || code > 255 || sig >= NSIG || failure > LLMSBX_RUNNER_FAILURE_ADAPTER)
    {
      run_fail (run, LLMSBX_RUNNER_FAILURE_ADAPTER, EPROTO, "the %s sent a malformed frame",
                adapter_name (adapter.kind));
      free (message);
      run_kill (run, 1);
      adapter_stop ();
      return;
    }

  if (f.type == LLMSBX_RUNNER_FRAME_ADAPTER_STARTED)
    {
      if (run->req->stateful)
        {
          adapter.kernel = run->pid;
          adapter.kernel_start = run->pid_start;
        }
      /* Started after the deadline had already passed: interrupt it now. */
      if (run->interrupted && !run->have_status)
        {
          run->interrupted = 0;
          run_interrupt (run, 0);
        }
      free (message);
      return;
    }

  /* EXITED */
  run->have_status = 1;
  run->ended = now_us ();
  run->exit_code = (int) code;
  run->signal = (int) sig;
  run->flags |= flags & (LLMSBX_RUNNER_RESULT_STATE_KEPT | LLMSBX_RUNNER_RESULT_STATE_LOST |
                         LLMSBX_RUNNER_RESULT_STATE_FRESH);
  if (failure != 0)
    run_fail (run, failure, (int) err, "%s", message ? message : "the adapter could not run the code");
  if (flags & LLMSBX_RUNNER_RESULT_STATE_LOST)
    adapter.kernel = 0;
  run->drain_deadline = run->ended + (int64_t) run->req->drain_ms * 1000;
  free (message);
}

static void
send_result (struct run *run)
{
  struct buf b = { 0 };
  int64_t end = run->ended ? run->ended : now_us ();

  if (run->have_status && run->signal == SIGKILL && oom_kills () > run->oom_before)
    run->flags |= LLMSBX_RUNNER_RESULT_OOM_KILLED;
  field_int (&b, LLMSBX_RUNNER_FIELD_EXIT_CODE, (uint64_t) run->exit_code);
  field_int (&b, LLMSBX_RUNNER_FIELD_SIGNAL, (uint64_t) run->signal);
  field_int (&b, LLMSBX_RUNNER_FIELD_DURATION_US, (uint64_t) (end > run->started ? end - run->started : 0));
  field_int (&b, LLMSBX_RUNNER_FIELD_FLAGS, run->flags);
  field_int (&b, LLMSBX_RUNNER_FIELD_STDOUT_BYTES, run->total[1]);
  field_int (&b, LLMSBX_RUNNER_FIELD_STDERR_BYTES, run->total[2]);
  if (run->failure != LLMSBX_RUNNER_FAILURE_NONE)
    {
      field_int (&b, LLMSBX_RUNNER_FIELD_FAILURE, run->failure);
      field_int (&b, LLMSBX_RUNNER_FIELD_ERRNO, (uint64_t) run->err);
      field_string (&b, LLMSBX_RUNNER_FIELD_MESSAGE, run->message);
    }
  send_host (LLMSBX_RUNNER_FRAME_RESULT, 0, run->req->id, b.data, b.len);
  free (b.data);
}

/* A request that fails before anything runs. */
static void
send_failure (const struct request *r, uint8_t type, uint64_t failure, int err, int exit_code, const char *message)
{
  struct buf b = { 0 };

  if (type == LLMSBX_RUNNER_FRAME_RESULT)
    {
      field_int (&b, LLMSBX_RUNNER_FIELD_EXIT_CODE, (uint64_t) exit_code);
      field_int (&b, LLMSBX_RUNNER_FIELD_SIGNAL, 0);
      field_int (&b, LLMSBX_RUNNER_FIELD_DURATION_US, 0);
      field_int (&b, LLMSBX_RUNNER_FIELD_FLAGS, 0);
      field_int (&b, LLMSBX_RUNNER_FIELD_STDOUT_BYTES, 0);
      field_int (&b, LLMSBX_RUNNER_FIELD_STDERR_BYTES, 0);
    }
  if (failure != LLMSBX_RUNNER_FAILURE_NONE)
    {
      field_int (&b, LLMSBX_RUNNER_FIELD_FAILURE, failure);
      field_int (&b, LLMSBX_RUNNER_FIELD_ERRNO, (uint64_t) err);
      field_string (&b, LLMSBX_RUNNER_FIELD_MESSAGE, message);
    }
  send_host (type, 0, r->id, b.data, b.len);
  free (b.data);
}

static void handle_idle_host_frame (struct frame *f);

/* A frame from the host during a run: CANCEL, PING or SHUTDOWN only. */
static void
run_host_frame (struct run *run)
{
  struct frame f;
  char why[256];
  int got = read_frame (ctl_in, LLMSBX_RUNNER_FRAME_MAX, &f, why, sizeof why);

  if (got == 0)
    {
      kill_everything ();
      _exit (0);
    }
  if (got < 0)
    protocol_error (0, "%s", why);
  switch (f.type)
    {
    case LLMSBX_RUNNER_FRAME_CANCEL:
      if (f.length != 0)
        protocol_error (f.id, "CANCEL has no fields");
      if (f.id == run->req->id)
        run_interrupt (run, LLMSBX_RUNNER_RESULT_CANCELLED);
      break;
    case LLMSBX_RUNNER_FRAME_PING:
    case LLMSBX_RUNNER_FRAME_SHUTDOWN:
      handle_idle_host_frame (&f);
      break;
    default:
      protocol_error (f.id, "frame type 0x%02x cannot come before the RESULT of run %u", f.type, run->req->id);
    }
  free (f.payload);
}

static int
run_done (struct run *run, int64_t now)
{
  if (!run->have_status)
    return 0;
  /* The kernel's pipes never end: what it wrote before its answer is in them. */
  if (run->borrowed)
    return 1;
  if (run->out[1] < 0 && run->out[2] < 0)
    return 1;
  return now >= run->drain_deadline || (run->deadline != 0 && now >= run->deadline);
}

/* Serves one RUN: writes its files, starts it, relays its output, enforces
 * its deadline, and answers with RESULT. */
static void
serve_run (struct request *req)
{
  struct run run = { .req = req, .out = { -1, -1, -1 }, .in = -1 };
  int outp[2] = { -1, -1 }, errp[2] = { -1, -1 }, inp[2] = { -1, -1 };
  int child_fds[3];
  char **env = merged_env (req);
  struct spawn_error e = { 0 };

  run.started = now_us ();
  if (req->timeout_ms > 0)
    run.deadline = run.started + (int64_t) req->timeout_ms * 1000;

  if (write_files (req, run.message, sizeof run.message, &run.err) < 0)
    {
      send_failure (req, LLMSBX_RUNNER_FRAME_RESULT, LLMSBX_RUNNER_FAILURE_FILE, run.err, 126, run.message);
      free (env);
      return;
    }

  if (req->adapter != NULL &&
      adapter_ensure (req, env, run.deadline, run.message, sizeof run.message, &run.err) < 0)
    {
      send_failure (req, LLMSBX_RUNNER_FRAME_RESULT, LLMSBX_RUNNER_FAILURE_ADAPTER, run.err, 126, run.message);
      free (env);
      return;
    }

  run.borrowed = req->adapter != NULL && adapter.kind == ADAPTER_NODE;
  if (run.borrowed)
    ;  /* the kernel writes on its own pipes; cells get no stdin */
  else if (pipe2 (outp, O_CLOEXEC) < 0 || pipe2 (errp, O_CLOEXEC) < 0 ||
           (req->has_stdin && pipe2 (inp, O_CLOEXEC) < 0))
    {
      int saved = errno;

      snprintf (run.message, sizeof run.message, "cannot make pipes for the program: %s", strerror (saved));
      send_failure (req, LLMSBX_RUNNER_FRAME_RESULT, LLMSBX_RUNNER_FAILURE_SPAWN, saved, 126, run.message);
      close_fd (&outp[0]); close_fd (&outp[1]); close_fd (&errp[0]); close_fd (&errp[1]);
      free (env);
      return;
    }
  child_fds[0] = req->has_stdin ? inp[0] : dev_null;
  child_fds[1] = outp[1];
  child_fds[2] = errp[1];

  run.oom_before = oom_kills ();
  run.began = boot_ticks ();
  run.elders = snapshot_children (&run.nelders);
  current = &run;

  if (req->adapter == NULL)
    {
      run.pid = spawn_process (req->argv, env, req->cwd, child_fds, 3, 0, &e);
      if (run.pid > 0)
        run.pid_start = start_time (run.pid);
    }
  else
    {
      struct buf b = { 0 };

      for (size_t i = 1; i < req->argc; i++)
        field_string (&b, LLMSBX_RUNNER_FIELD_ARGV, req->argv[i]);
      for (size_t i = 0; env[i] != NULL; i++)
        field_string (&b, LLMSBX_RUNNER_FIELD_ENV, env[i]);
      if (req->cwd != NULL)
        field_string (&b, LLMSBX_RUNNER_FIELD_CWD, req->cwd);
      field_int (&b, LLMSBX_RUNNER_FIELD_STATEFUL, (uint64_t) req->stateful);
      run.via_adapter = 1;
      /* Output written between cells is no cell's. */
      if (run.borrowed)
        {
          drop_pending (adapter.out);
          adapter_read_stderr ();
          run.out[1] = adapter.out;
          run.out[2] = adapter.err;
        }
      if (adapter_send (LLMSBX_RUNNER_FRAME_ADAPTER_RUN, req->id, &b, child_fds, run.borrowed ? 0 : 3) < 0)
        {
          run.pid = -1;
          e.err = errno;
        }
      free (b.data);
    }
  close_fd (&outp[1]);
  close_fd (&errp[1]);
  close_fd (&inp[0]);

  if (run.pid < 0)
    {
      int saved = e.err;

      if (run.via_adapter)
        {
          snprintf (run.message, sizeof run.message, "the %s is gone (%s)%s%s",
                    adapter_name (adapter_kind (req->adapter)), strerror (saved),
                    adapter.tail_len ? ": " : "", adapter_last_words ());
          adapter_stop ();
          send_failure (req, LLMSBX_RUNNER_FRAME_RESULT, LLMSBX_RUNNER_FAILURE_ADAPTER, saved, 126, run.message);
        }
      else if (e.stage == 0)
        {
          snprintf (run.message, sizeof run.message, "cannot start the program: fork: %s%s", strerror (saved),
                    saved == EAGAIN ? " (the sandbox's process limit is reached)" : "");
          send_failure (req, LLMSBX_RUNNER_FRAME_RESULT, LLMSBX_RUNNER_FAILURE_SPAWN, saved, 126, run.message);
        }
      else
        {
          int code = e.stage == STAGE_EXEC && saved == ENOENT ? 127 : 126;
          char line[600];

          if (e.stage == STAGE_CHDIR)
            snprintf (run.message, sizeof run.message, "cannot change to %s: %s", req->cwd, strerror (saved));
          else
            snprintf (run.message, sizeof run.message, "cannot run '%s': %s", req->argv[0], strerror (saved));
          /* As a shell would say it, on the program's stderr. */
          snprintf (line, sizeof line, "llmsbx-runner: %s\n", run.message);
          send_host (LLMSBX_RUNNER_FRAME_OUTPUT, 2, req->id, line, strlen (line));
          send_failure (req, LLMSBX_RUNNER_FRAME_RESULT, LLMSBX_RUNNER_FAILURE_EXEC, saved, code, run.message);
        }
      close_fd (&outp[0]);
      close_fd (&errp[0]);
      close_fd (&inp[1]);
      free (env);
      free (run.elders);
      current = NULL;
      return;
    }

  if (!run.borrowed)
    {
      run.out[1] = outp[0];
      run.out[2] = errp[0];
      set_nonblock (run.out[1]);
      set_nonblock (run.out[2]);
    }
  run.in = inp[1];
  if (run.in >= 0)
    set_nonblock (run.in);
  if (run.in >= 0 && req->stdin_length == 0)
    close_fd (&run.in);

  for (;;)
    {
      struct pollfd pfd[7];
      int idx_ctl, idx_sig, idx_out = -1, idx_err = -1, idx_in = -1, idx_sock = -1, idx_aerr = -1;
      int64_t now = now_us (), wake = 0;
      nfds_t n = 0;
      int r;

      if (run_done (&run, now))
        break;

      /* What time wakes us next. */
      if (run.deadline != 0 && (run.have_status || !run.interrupted))
        wake = run.deadline;
      if (run.have_status)
        wake = earliest (wake, run.drain_deadline);
      else
        {
          wake = earliest (wake, run.grace_deadline);
          wake = earliest (wake, run.kill_deadline);
        }

      idx_ctl = (int) n; pfd[n++] = (struct pollfd) { ctl_in, POLLIN, 0 };
      idx_sig = (int) n; pfd[n++] = (struct pollfd) { sig_pipe[0], POLLIN, 0 };
      if (run.out[1] >= 0) { idx_out = (int) n; pfd[n++] = (struct pollfd) { run.out[1], POLLIN, 0 }; }
      if (run.out[2] >= 0) { idx_err = (int) n; pfd[n++] = (struct pollfd) { run.out[2], POLLIN, 0 }; }
      if (run.in >= 0) { idx_in = (int) n; pfd[n++] = (struct pollfd) { run.in, POLLOUT, 0 }; }
      if (run.via_adapter && adapter.sock >= 0 && !run.have_status)
        { idx_sock = (int) n; pfd[n++] = (struct pollfd) { adapter.sock, POLLIN, 0 }; }
      if (adapter.err >= 0 && !run.borrowed)
        { idx_aerr = (int) n; pfd[n++] = (struct pollfd) { adapter.err, POLLIN, 0 }; }

      r = poll (pfd, n, poll_timeout (wake));
      if (r < 0 && errno != EINTR)
        fatal ("poll: %s", strerror (errno));
      now = now_us ();

      if (r > 0)
        {
          if (idx_out >= 0 && pfd[idx_out].revents)
            run_output (&run, 1);
          if (idx_err >= 0 && pfd[idx_err].revents)
            run_output (&run, 2);
          if (idx_in >= 0 && pfd[idx_in].revents)
            run_stdin (&run);
          if (idx_aerr >= 0 && pfd[idx_aerr].revents)
            adapter_read_stderr ();
          if (idx_sock >= 0 && pfd[idx_sock].revents)
            run_adapter_frame (&run);
          if (pfd[idx_sig].revents)
            {
              char drain[64];
              int status;

              while (read (sig_pipe[0], drain, sizeof drain) > 0)
                ;
              if (reap_children (run.via_adapter && adapter.pid ? 0 : run.pid, &status) > 0 && !run.have_status)
                run_set_status (&run, status);
            }
          if (pfd[idx_ctl].revents)
            run_host_frame (&run);
        }

      /* The adapter died under a run it had not finished. A stateless run
       * it had started is now the runner's own child (we are its
       * subreaper) and its end comes by waitpid(); a kernel's cell, or a run
       * that never started, is over. */
      if (run.via_adapter && !run.have_status && adapter.pid == 0 && run.borrowed && run.pid != 0)
        {
          /* The Node.js kernel ended (process.exit(), a crash, or the kill
           * after a cell that would not be interrupted): so did the cell,
           * and the state with it. */
          run_set_status (&run, adapter.exit_status >= 0 ? adapter.exit_status : SIGKILL);
          run.flags |= LLMSBX_RUNNER_RESULT_STATE_LOST;
          run.drain_deadline = now;
          continue;
        }
      if (run.via_adapter && !run.have_status && adapter.pid == 0 &&
          (run.pid == 0 || req->stateful || !still_ours (run.pid)))
        {
          char how[64];

          describe_status (adapter.exit_status, how, sizeof how);
          if (run.failure == LLMSBX_RUNNER_FAILURE_NONE)
            run_fail (&run, LLMSBX_RUNNER_FAILURE_ADAPTER, ECHILD, "the %s %s during the run%s%s",
                      adapter_name (adapter_kind (req->adapter)), how, adapter.tail_len ? ": " : "",
                      adapter_last_words ());
          run_kill (&run, 1);
          if (adapter.pid != 0)
            adapter_stop ();
          run.have_status = 1;
          run.ended = now;
          run.exit_code = 137;
          run.signal = SIGKILL;
          if (req->stateful)
            run.flags |= LLMSBX_RUNNER_RESULT_STATE_LOST;
          run.drain_deadline = now;
          continue;
        }

      if (!run.have_status && !run.interrupted && run.deadline != 0 && now >= run.deadline)
        run_interrupt (&run, LLMSBX_RUNNER_RESULT_TIMED_OUT);

      if (!run.have_status && run.interrupted && run.grace_deadline != 0 && now >= run.grace_deadline)
        {
          /* The cell did not come back: the kernel goes, and the state with it. */
          run.grace_deadline = 0;
          run.flags |= LLMSBX_RUNNER_RESULT_STATE_LOST;
          run_kill (&run, 1);
          adapter.kernel = 0;
        }

      if (!run.have_status && run.kill_deadline != 0 && now >= run.kill_deadline)
        {
          /* Killed, and still not reported dead: nothing more can be done here. */
          run.flags |= LLMSBX_RUNNER_RESULT_KILL_FAILED;
          if (run.via_adapter)
            {
              run_fail (&run, LLMSBX_RUNNER_FAILURE_ADAPTER, ETIMEDOUT,
                        "the %s did not report the end of a killed run", adapter_name (adapter.kind));
              adapter_stop ();
            }
          run.have_status = 1;
          run.ended = now;
          run.exit_code = 137;
          run.signal = SIGKILL;
          run.drain_deadline = now;
        }
    }

  /* Whatever is still buffered in the pipes belongs to this run. */
  run_drain (&run);
  if (run.borrowed)
    run.out[1] = run.out[2] = -1;
  close_fd (&run.out[1]);
  close_fd (&run.out[2]);
  close_fd (&run.in);
  if (run.req->stateful && (run.flags & LLMSBX_RUNNER_RESULT_STATE_LOST) == 0 && adapter.kernel != 0)
    run.flags |= LLMSBX_RUNNER_RESULT_STATE_KEPT;
  if (run.req->stateful && adapter.kernel == 0)
    {
      run.flags &= ~(uint64_t) LLMSBX_RUNNER_RESULT_STATE_KEPT;
      run.flags |= LLMSBX_RUNNER_RESULT_STATE_LOST;
    }
  send_result (&run);
  free (env);
  free (run.elders);
  current = NULL;
}

/* Reaps every child that has exited. Returns 1 and its status when
 * @watched (if not 0) was among them. Notes the adapter's death. */
static int
reap_children (pid_t watched, int *watched_status)
{
  int found = 0;

  for (;;)
    {
      int status;
      pid_t pid = waitpid (-1, &status, WNOHANG);

      if (pid < 0 && errno == EINTR)
        continue;
      if (pid <= 0)
        break;
      if (watched != 0 && pid == watched)
        {
          *watched_status = status;
          found = 1;
        }
      else if (current != NULL && current->pid != 0 && pid == current->pid)
        {
          /* The run's process, orphaned to us after its adapter died. */
          *watched_status = status;
          found = 1;
        }
      if (adapter.pid != 0 && pid == adapter.pid)
        {
          adapter.exit_status = status;
          adapter_forget ();
        }
    }
  return found;
}

/* ---------------------------------------------------------------------------
 * Requests outside runs
 * ------------------------------------------------------------------------ */

static void
kill_everything (void)
{
  struct sweep s = { .everything = 1 };

  sweep (&s);
}

static void
serve_prepare (struct request *req)
{
  char **env = merged_env (req);
  char message[512];
  int err = 0;

  if (req->adapter == NULL)
    send_failure (req, LLMSBX_RUNNER_FRAME_PREPARED, LLMSBX_RUNNER_FAILURE_BAD_REQUEST, EINVAL, 0,
                  "PREPARE needs an ADAPTER");
  else if (adapter_ensure (req, env, 0, message, sizeof message, &err) < 0)
    send_failure (req, LLMSBX_RUNNER_FRAME_PREPARED, LLMSBX_RUNNER_FAILURE_ADAPTER, err, 0, message);
  else
    send_failure (req, LLMSBX_RUNNER_FRAME_PREPARED, LLMSBX_RUNNER_FAILURE_NONE, 0, 0, NULL);
  free (env);
}

/* RESET: the kernel and everything it started go; the adapter stays. */
static void
serve_reset (uint32_t id)
{
  struct buf b = { 0 };
  uint64_t flags = 0;

  if (adapter.pid != 0 && adapter.kind == ADAPTER_NODE)
    {
      /* The Node.js adapter is its kernel: a new one starts with the next cell. */
      adapter_stop ();
      flags |= LLMSBX_RUNNER_RESULT_STATE_LOST;
    }
  else if (adapter.pid != 0 && adapter.kernel != 0)
    {
      struct sweep s = { 0 };
      struct frame f = { 0 };
      char why[256];

      s.root = adapter.kernel;
      s.root_start = adapter.kernel_start;
      s.kill_root = 1;
      s.protect[0] = adapter.pid;
      sweep (&s);
      adapter.kernel = 0;
      if (adapter_send (LLMSBX_RUNNER_FRAME_ADAPTER_RESET, id, NULL, NULL, 0) < 0)
        adapter_stop ();
      else
        {
          struct pollfd pfd = { adapter.sock, POLLIN, 0 };

          if (poll (&pfd, 1, KILL_WAIT_MS) <= 0 ||
              read_frame (adapter.sock, LLMSBX_RUNNER_ADAPTER_FRAME_MAX, &f, why, sizeof why) != 1 ||
              f.type != LLMSBX_RUNNER_FRAME_ADAPTER_RESET_DONE)
            adapter_stop ();
          free (f.payload);
        }
      flags |= LLMSBX_RUNNER_RESULT_STATE_LOST;
    }
  field_int (&b, LLMSBX_RUNNER_FIELD_FLAGS, flags);
  send_host (LLMSBX_RUNNER_FRAME_RESET_DONE, 0, id, b.data, b.len);
  free (b.data);
}

static void
handle_idle_host_frame (struct frame *f)
{
  switch (f->type)
    {
    case LLMSBX_RUNNER_FRAME_PING:
      if (f->length != 0)
        protocol_error (f->id, "PING has no fields");
      send_host (LLMSBX_RUNNER_FRAME_PONG, 0, f->id, NULL, 0);
      break;

    case LLMSBX_RUNNER_FRAME_SHUTDOWN:
      kill_everything ();
      _exit (0);

    case LLMSBX_RUNNER_FRAME_RUN:
    case LLMSBX_RUNNER_FRAME_PREPARE:
      {
        struct request req = { .id = f->id, .frame = *f };

        f->payload = NULL;  /* the request owns it now */
        parse_request (&req);
        if (req.bad[0] != '\0')
          send_failure (&req, f->type == LLMSBX_RUNNER_FRAME_RUN ? LLMSBX_RUNNER_FRAME_RESULT
                                                                 : LLMSBX_RUNNER_FRAME_PREPARED,
                        LLMSBX_RUNNER_FAILURE_BAD_REQUEST, EINVAL, 126, req.bad);
        else if (f->type == LLMSBX_RUNNER_FRAME_RUN)
          serve_run (&req);
        else
          serve_prepare (&req);
        request_free (&req);
      }
      break;

    case LLMSBX_RUNNER_FRAME_RESET:
      {
        struct fields it = { f->payload, f->payload + f->length };
        const unsigned char *value;
        uint32_t length;
        uint16_t tag;
        int got;

        while ((got = next_field (&it, &tag, &value, &length)) == 1)
          if (tag != LLMSBX_RUNNER_FIELD_ADAPTER)
            protocol_error (f->id, "unknown field 0x%04x in RESET", tag);
        if (got < 0)
          protocol_error (f->id, "RESET's fields run past its end");
        serve_reset (f->id);
      }
      break;

    case LLMSBX_RUNNER_FRAME_CANCEL:
      break;  /* the run it meant is over already */

    default:
      protocol_error (f->id, "unexpected frame type 0x%02x", f->type);
    }
}

/* ---------------------------------------------------------------------------
 * Start
 * ------------------------------------------------------------------------ */

static void
on_sigchld (int sig)
{
  int saved = errno;
  ssize_t n = write (sig_pipe[1], "c", 1);

  (void) n;
  (void) sig;
  errno = saved;
}

static void
setup_signals (void)
{
  static const int ignored[] = {
    SIGPIPE, SIGHUP, SIGINT, SIGTERM, SIGQUIT, SIGUSR1, SIGUSR2, SIGALRM, SIGTSTP, SIGTTIN,
    SIGTTOU, SIGVTALRM, SIGPROF, SIGXFSZ, SIGXCPU, SIGWINCH, SIGURG, SIGIO, SIGPWR, SIGSYS,
  };
  struct sigaction sa = { 0 };
  sigset_t none;

  sigemptyset (&none);
  sigprocmask (SIG_SETMASK, &none, NULL);
  sa.sa_handler = SIG_IGN;
  for (size_t i = 0; i < sizeof ignored / sizeof ignored[0]; i++)
    sigaction (ignored[i], &sa, NULL);
  for (int sig = SIGRTMIN; sig <= SIGRTMAX; sig++)
    sigaction (sig, &sa, NULL);

  if (pipe2 (sig_pipe, O_CLOEXEC | O_NONBLOCK) < 0)
    fatal ("pipe: %s", strerror (errno));
  sa.sa_handler = on_sigchld;
  sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
  sigaction (SIGCHLD, &sa, NULL);
}

/* Moves the control channel away from 0 and 1, which become /dev/null. */
static void
setup_descriptors (void)
{
  /* Descriptors 0-2 must exist, so nothing opened later lands there. */
  for (int fd = 0; fd <= 2; fd++)
    if (fcntl (fd, F_GETFD) < 0 && open ("/dev/null", O_RDWR) != fd)
      fatal ("cannot open /dev/null: %s", strerror (errno));
  cloexec_from (3);

  ctl_in = fcntl (0, F_DUPFD_CLOEXEC, 3);
  ctl_out = fcntl (1, F_DUPFD_CLOEXEC, 3);
  dev_null = open ("/dev/null", O_RDWR | O_CLOEXEC);
  if (ctl_in < 0 || ctl_out < 0 || dev_null < 0)
    fatal ("cannot set up descriptors: %s", strerror (errno));
  dup2 (dev_null, 0);
  dup2 (dev_null, 1);
  set_nonblock (ctl_in);
}

static void
find_adapter_dir (const char *given)
{
  char exe[PATH_MAX];
  ssize_t n;

  if (given != NULL)
    {
      adapter_dir = xstrndup ((const unsigned char *) given, strlen (given));
      return;
    }
  n = readlink ("/proc/self/exe", exe, sizeof exe - 1);
  if (n > 0)
    {
      char *slash;

      exe[n] = '\0';
      slash = strrchr (exe, '/');
      if (slash != NULL)
        {
          *slash = '\0';
          adapter_dir = xstrndup ((const unsigned char *) exe, strlen (exe));
          return;
        }
    }
  adapter_dir = xstrndup ((const unsigned char *) "/usr/libexec/llmsbx", 19);
}

static void
handshake (void)
{
  struct buf b = { 0 };
  struct frame f;
  struct fields it;
  const unsigned char *value;
  uint32_t length;
  uint16_t tag;
  uint64_t version = 0;
  char why[256];
  int got;

  field_int (&b, LLMSBX_RUNNER_FIELD_VERSION_MIN, LLMSBX_RUNNER_PROTOCOL_VERSION);
  field_int (&b, LLMSBX_RUNNER_FIELD_VERSION_MAX, LLMSBX_RUNNER_PROTOCOL_VERSION);
  field_string (&b, LLMSBX_RUNNER_FIELD_RUNNER_VERSION, LLMSBX_RUNNER_RELEASE);
  field_int (&b, LLMSBX_RUNNER_FIELD_PID, (uint64_t) self_pid);
  field_int (&b, LLMSBX_RUNNER_FIELD_FEATURES, features);
  send_host (LLMSBX_RUNNER_FRAME_HELLO, 0, 0, b.data, b.len);
  free (b.data);

  got = read_frame (ctl_in, 4096, &f, why, sizeof why);
  if (got == 0)
    _exit (0);
  if (got < 0)
    protocol_error (0, "%s", why);
  if (f.type != LLMSBX_RUNNER_FRAME_HOST_HELLO)
    protocol_error (f.id, "the host must answer HELLO first (got frame type 0x%02x)", f.type);
  it = (struct fields) { f.payload, f.payload + f.length };
  while ((got = next_field (&it, &tag, &value, &length)) == 1)
    if (tag == LLMSBX_RUNNER_FIELD_VERSION && get_int (value, length, &version) < 0)
      protocol_error (f.id, "VERSION must be an 8-byte integer");
  free (f.payload);
  if (got < 0)
    protocol_error (0, "HELLO's fields run past its end");
  if (version != LLMSBX_RUNNER_PROTOCOL_VERSION)
    protocol_error (0, "the host chose protocol version %llu; this runner speaks %d to %d",
                    (unsigned long long) version, LLMSBX_RUNNER_PROTOCOL_VERSION, LLMSBX_RUNNER_PROTOCOL_VERSION);
  send_host (LLMSBX_RUNNER_FRAME_READY, 0, 0, NULL, 0);
}

static void
usage (FILE *out)
{
  fprintf (out,
           "usage: llmsbx-runner [--adapter-dir DIR]\n"
           "       llmsbx-runner --version\n"
           "Runs programs on request; speaks libllmsbx's runner protocol (version %d) on stdin and stdout.\n",
           LLMSBX_RUNNER_PROTOCOL_VERSION);
}

int
main (int argc, char **argv)
{
  const char *given_dir = NULL;
  size_t n = 0;

  for (int i = 1; i < argc; i++)
    {
      if (strcmp (argv[i], "--version") == 0)
        {
          printf ("llmsbx-runner %s (protocol %d)\n", LLMSBX_RUNNER_RELEASE, LLMSBX_RUNNER_PROTOCOL_VERSION);
          return 0;
        }
      if (strcmp (argv[i], "--help") == 0)
        {
          usage (stdout);
          return 0;
        }
      if (strcmp (argv[i], "--adapter-dir") == 0 && i + 1 < argc)
        given_dir = argv[++i];
      else
        {
          usage (stderr);
          return 2;
        }
    }

  self_pid = getpid ();
  /* Orphans come back to us; same-user code cannot ptrace us or read our memory. */
  if (prctl (PR_SET_CHILD_SUBREAPER, 1) == 0)
    features |= LLMSBX_RUNNER_FEATURE_SUBREAPER;
  prctl (PR_SET_DUMPABLE, 0);
  if (access ("/proc/self/stat", R_OK) == 0)
    features |= LLMSBX_RUNNER_FEATURE_PROC_SWEEP;

  setup_descriptors ();
  setup_signals ();
  find_adapter_dir (given_dir);
  {
    char script[PATH_MAX];

    snprintf (script, sizeof script, "%s/%s", adapter_dir, PYTHON_ADAPTER);
    if (access (script, R_OK) == 0)
      features |= LLMSBX_RUNNER_FEATURE_ADAPTER_PYTHON;
    snprintf (script, sizeof script, "%s/%s", adapter_dir, NODE_ADAPTER);
    if (access (script, R_OK) == 0)
      features |= LLMSBX_RUNNER_FEATURE_ADAPTER_NODE;
  }

  while (environ[n] != NULL)
    n++;
  base_env = xmalloc ((n + 1) * sizeof *base_env);
  for (size_t i = 0; i <= n; i++)
    base_env[i] = environ[i];

  handshake ();

  for (;;)
    {
      struct pollfd pfd[5];
      int idx_sock = -1, idx_err = -1, idx_out = -1;
      nfds_t count = 0;
      int r;

      pfd[count++] = (struct pollfd) { ctl_in, POLLIN, 0 };
      pfd[count++] = (struct pollfd) { sig_pipe[0], POLLIN, 0 };
      if (adapter.sock >= 0) { idx_sock = (int) count; pfd[count++] = (struct pollfd) { adapter.sock, POLLIN, 0 }; }
      if (adapter.err >= 0) { idx_err = (int) count; pfd[count++] = (struct pollfd) { adapter.err, POLLIN, 0 }; }
      if (adapter.out >= 0) { idx_out = (int) count; pfd[count++] = (struct pollfd) { adapter.out, POLLIN, 0 }; }

      r = poll (pfd, count, -1);
      if (r < 0)
        {
          if (errno == EINTR)
            continue;
          fatal ("poll: %s", strerror (errno));
        }
      if (pfd[1].revents)
        {
          char drain[64];
          int status;

          while (read (sig_pipe[0], drain, sizeof drain) > 0)
            ;
          reap_children (0, &status);
        }
      if (idx_err >= 0 && pfd[idx_err].revents)
        adapter_read_stderr ();
      if (idx_out >= 0 && adapter.out >= 0 && pfd[idx_out].revents)
        {
          /* What the Node.js kernel prints between cells is no cell's. */
          char drop[4096];
          ssize_t got = read (adapter.out, drop, sizeof drop);

          if (got == 0 || (got < 0 && errno != EAGAIN && errno != EINTR))
            close_fd (&adapter.out);
        }
      if (idx_sock >= 0 && adapter.sock >= 0 && pfd[idx_sock].revents)
        {
          /* An idle adapter has nothing to say: end of file means it died,
           * anything else that it misbehaves. Either way it is restarted
           * when next needed. */
          adapter_stop ();
        }
      if (pfd[0].revents)
        {
          struct frame f;
          char why[256];
          int got = read_frame (ctl_in, LLMSBX_RUNNER_FRAME_MAX, &f, why, sizeof why);

          if (got == 0)
            {
              kill_everything ();
              return 0;
            }
          if (got < 0)
            protocol_error (0, "%s", why);
          handle_idle_host_frame (&f);
          free (f.payload);
        }
    }
}
