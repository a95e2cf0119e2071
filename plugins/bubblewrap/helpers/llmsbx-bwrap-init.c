/* llmsbx-bwrap-init.c: the process that keeps a bubblewrap sandbox alive and
 * starts every command run in it.
 *
 * bwrap starts it once per sandbox, as PID 2 beside bwrap's own reaper, so
 * all commands of a sandbox share its namespaces, its cgroup, its /tmp and
 * the processes they leave running, as in a container. It answers requests on
 * a socket it inherited (llmsbx-bwrap-init-protocol.h): fork, set up the
 * child's standard streams, directory and environment, exec, and report the
 * exit status. A child that cannot enter its directory or execute its
 * program says so on a pipe that its exec closes (close-on-exec), so the
 * init tells "never ran" from "ran and failed" without waiting for the
 * exec: the report is read once the child is reaped. It is already inside every restriction of the sandbox (seccomp
 * filter, capabilities, no_new_privs), so its children are too.
 *
 * It is linked statically and uses only libc: it runs on the image's root
 * file system, which may have another C library or none. It makes itself
 * non-dumpable so that code in the sandbox, which runs as the same user,
 * cannot reach its file descriptors through /proc. When it dies (code may
 * kill it), bwrap's reaper exits and the kernel ends the whole sandbox. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "llmsbx-bwrap-init-protocol.h"

#define MAX_CONNECTIONS 256
#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

typedef struct {
  int       fd;
  int       in_fd;      /* the command's stdin, stdout and stderr, until it starts */
  int       out_fd;
  int       err_fd;
  int       report_fd;  /* read end of the child's report, once started */
  size_t    have;       /* bytes of header + payload read so far */
  uint32_t  length;
  char     *payload;
  pid_t     pid;        /* 0 until started */
} Connection;

static Connection connections[MAX_CONNECTIONS];
static int n_connections;
static int events_fd = -1;

static void
close_fd (int *fd)
{
  if (*fd >= 0)
    close (*fd);
  *fd = -1;
}

static void
drop_connection (int i)
{
  close_fd (&connections[i].fd);
  close_fd (&connections[i].in_fd);
  close_fd (&connections[i].report_fd);
  close_fd (&connections[i].out_fd);
  close_fd (&connections[i].err_fd);
  free (connections[i].payload);
  connections[i] = connections[--n_connections];
}

static void
reply (Connection *c,
       int32_t     kind,
       int32_t     value)
{
  LlmsbxBwrapInitReply r = { kind, value };

  /* A client that went away is not an error: its command still runs. */
  if (send (c->fd, &r, sizeof r, MSG_NOSIGNAL) != (ssize_t) sizeof r)
    return;
}

/* One line per command started, for the sandbox's owner: when, which pid,
 * which program. Control characters are replaced so a line stays a line. */
static void
log_event (pid_t       pid,
           const char *program)
{
  char line[512];
  struct timespec now;
  int n;

  if (events_fd < 0)
    return;
  clock_gettime (CLOCK_REALTIME, &now);
  n = snprintf (line, sizeof line, "%lld exec %d ",
                (long long) now.tv_sec * 1000000 + now.tv_nsec / 1000, (int) pid);
  for (const char *p = program; *p != '\0' && n < (int) sizeof line - 2; p++)
    line[n++] = (unsigned char) *p < 0x20 || *p == 0x7f ? '?' : *p;
  line[n++] = '\n';
  if (write (events_fd, line, n) != n)
    return;
}

/* The child's end of its report, once run_command() has placed it. */
#define CHILD_REPORT_FD 3

/* In the child: says why it never became the command, and ends. */
static void
child_fail (int32_t kind,
            int     error_number)
{
  LlmsbxBwrapInitReply report = { kind, error_number };
  /* A pipe takes 8 bytes at once; should it not, the init reports the exit status. */
  ssize_t written = write (CHILD_REPORT_FD, &report, sizeof report);

  (void) written;
  _exit (LLMSBX_BWRAP_INIT_CANNOT_START);
}

/* execve() through the PATH of the command's own environment, not ours.
 * Returns only on failure, with the errno to report: ENOENT when no
 * directory of PATH has the program. */
static int
exec_in_path (char **argv,
              char **envp)
{
  const char *path = NULL;
  int saved = ENOENT;
  char candidate[PATH_MAX];

  if (strchr (argv[0], '/') != NULL)
    {
      execve (argv[0], argv, envp);
      return errno;
    }

  for (char **e = envp; *e != NULL; e++)
    if (strncmp (*e, "PATH=", 5) == 0)
      path = *e + 5;
  if (path == NULL)
    path = DEFAULT_PATH;

  while (*path != '\0')
    {
      const char *end = strchrnul (path, ':');
      size_t dir_len = end - path;

      if (dir_len + 1 + strlen (argv[0]) < sizeof candidate)
        {
          if (dir_len == 0)
            snprintf (candidate, sizeof candidate, "%s", argv[0]);
          else
            snprintf (candidate, sizeof candidate, "%.*s/%s", (int) dir_len, path, argv[0]);
          execve (candidate, argv, envp);
          /* Keep looking past missing files, remember anything else. */
          if (errno != ENOENT && errno != ENOTDIR)
            saved = errno;
        }
      path = *end == ':' ? end + 1 : end;
    }
  return saved;
}

/* Splits a complete payload into argv, envp and cwd; NULL when malformed. */
static char **
parse_payload (char         *payload,
               uint32_t      length,
               char       ***envp,
               const char  **cwd)
{
  uint32_t counts[2];
  char **strings;
  char *p = payload + sizeof counts;
  char *end = payload + length;
  uint32_t total;

  if (length < sizeof counts)
    return NULL;
  memcpy (counts, payload, sizeof counts);
  if (counts[0] == 0 || counts[0] > length || counts[1] > length - counts[0])
    return NULL;
  total = counts[0] + counts[1] + 1;

  strings = calloc (total + 2, sizeof (char *));
  if (strings == NULL)
    return NULL;
  for (uint32_t i = 0; i < total; i++)
    {
      char *nul = memchr (p, '\0', end - p);

      if (nul == NULL)
        {
          free (strings);
          return NULL;
        }
      /* argv is NULL-terminated at counts[0], the environment after it. */
      strings[i < counts[0] ? i : i + 1] = p;
      p = nul + 1;
    }

  strings[counts[0]] = NULL;
  *envp = strings + counts[0] + 1;
  *cwd = strings[total];
  strings[total] = NULL;
  return strings;
}

/* In the child: becomes the command. */
static void
run_command (char       **argv,
             char       **envp,
             const char  *cwd,
             int          in_fd,
             int          out_fd,
             int          err_fd,
             int          report_fd)
{
  sigset_t all;
  int fds[4] = { in_fd, out_fd, err_fd, report_fd };

  sigemptyset (&all);
  sigprocmask (SIG_SETMASK, &all, NULL);
  signal (SIGPIPE, SIG_DFL);
  /* Its own session and process group: the kill of a timed-out command
   * signals the group too, and nothing reaches the init's. */
  setsid ();

  /* Out of the way of 0-3 first, so no dup2() below overwrites another. */
  for (int i = 0; i < 4; i++)
    if ((fds[i] = fcntl (fds[i], F_DUPFD_CLOEXEC, 16)) < 0)
      _exit (LLMSBX_BWRAP_INIT_CANNOT_START);
  if (dup2 (fds[0], STDIN_FILENO) < 0 || dup2 (fds[1], STDOUT_FILENO) < 0 ||
      dup2 (fds[2], STDERR_FILENO) < 0 || dup2 (fds[3], CHILD_REPORT_FD) < 0 ||
      fcntl (CHILD_REPORT_FD, F_SETFD, FD_CLOEXEC) != 0)
    _exit (LLMSBX_BWRAP_INIT_CANNOT_START);
  if (syscall (SYS_close_range, CHILD_REPORT_FD + 1, ~0u, 0) != 0)
    for (int fd = CHILD_REPORT_FD + 1; fd < 1024; fd++)
      close (fd);

  if (chdir (cwd) != 0)
    child_fail (LLMSBX_BWRAP_INIT_NO_WORKDIR, errno);
  child_fail (LLMSBX_BWRAP_INIT_NO_PROGRAM, exec_in_path (argv, envp));
}

/* A process forked ahead of need, for when fork() fails: code that fills
 * the sandbox's pids limit (a fork bomb) would otherwise keep the core's
 * kill command, the one thing that can end it, from ever starting. It
 * waits for a command (its payload in a memfd, its three streams, the write
 * end of its report) and becomes it, as a freshly forked child would. One
 * exists whenever a fork works. */
static pid_t spare_pid;
static int spare_fd = -1;

/* What the spare receives: stdin, stdout, stderr, the payload, the report. */
#define SPARE_FDS 5

static void
spare_main (int fd)
{
  char control[CMSG_SPACE (SPARE_FDS * sizeof (int))];
  char byte;
  struct iovec iov = { &byte, 1 };
  struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof control };
  struct cmsghdr *cmsg;
  int fds[SPARE_FDS];
  struct stat st;
  char *payload;
  char **argv, **envp = NULL;
  const char *cwd = NULL;

  if (recvmsg (fd, &msg, 0) != 1 || (cmsg = CMSG_FIRSTHDR (&msg)) == NULL ||
      cmsg->cmsg_len != CMSG_LEN (sizeof fds))
    _exit (LLMSBX_BWRAP_INIT_CANNOT_START);
  memcpy (fds, CMSG_DATA (cmsg), sizeof fds);
  if (fstat (fds[3], &st) != 0 || st.st_size <= 0 || st.st_size > LLMSBX_BWRAP_INIT_MAX_PAYLOAD)
    _exit (LLMSBX_BWRAP_INIT_CANNOT_START);
  payload = malloc (st.st_size);
  if (payload == NULL || pread (fds[3], payload, st.st_size, 0) != st.st_size)
    _exit (LLMSBX_BWRAP_INIT_CANNOT_START);
  argv = parse_payload (payload, (uint32_t) st.st_size, &envp, &cwd);
  if (argv == NULL)
    _exit (LLMSBX_BWRAP_INIT_CANNOT_START);
  run_command (argv, envp, cwd, fds[0], fds[1], fds[2], fds[4]);
}

static void
ensure_spare (void)
{
  int pair[2];
  pid_t pid;

  if (spare_pid > 0 || socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0)
    return;
  pid = fork ();
  if (pid < 0)
    {
      close (pair[0]);
      close (pair[1]);
      return;
    }
  if (pid == 0)
    {
      /* Nothing of the init's but its own end. */
      if (dup2 (pair[1], 3) < 0)
        _exit (LLMSBX_BWRAP_INIT_CANNOT_START);
      syscall (SYS_close_range, 4, ~0u, 0);
      spare_main (3);
    }
  close (pair[1]);
  spare_fd = pair[0];
  spare_pid = pid;
}

/* Hands a command to the spare; returns its pid, or -1. */
static pid_t
use_spare (Connection *c,
           int         report_fd)
{
  char control[CMSG_SPACE (SPARE_FDS * sizeof (int))] = { 0 };
  char byte = 'x';
  struct iovec iov = { &byte, 1 };
  struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof control };
  struct cmsghdr *cmsg = CMSG_FIRSTHDR (&msg);
  int payload = memfd_create ("llmsbx-command", MFD_CLOEXEC);
  int fds[SPARE_FDS] = { c->in_fd, c->out_fd, c->err_fd, payload, report_fd };
  pid_t pid = spare_pid;

  if (spare_pid <= 0 || payload < 0 || write (payload, c->payload, c->length) != (ssize_t) c->length)
    {
      if (payload >= 0)
        close (payload);
      return -1;
    }
  cmsg->cmsg_level = SOL_SOCKET;
  cmsg->cmsg_type = SCM_RIGHTS;
  cmsg->cmsg_len = CMSG_LEN (sizeof fds);
  memcpy (CMSG_DATA (cmsg), fds, sizeof fds);
  if (sendmsg (spare_fd, &msg, MSG_NOSIGNAL) != 1)
    pid = -1;
  close (payload);
  close_fd (&spare_fd);
  spare_pid = 0;
  return pid;
}

static void
start_command (Connection *c)
{
  char **envp = NULL;
  const char *cwd = NULL;
  char **argv = parse_payload (c->payload, c->length, &envp, &cwd);
  int report[2];
  pid_t pid;

  if (argv == NULL)
    {
      reply (c, LLMSBX_BWRAP_INIT_FAILED, EINVAL);
      return;
    }
  if (pipe2 (report, O_CLOEXEC | O_NONBLOCK) != 0)
    {
      reply (c, LLMSBX_BWRAP_INIT_FAILED, errno);
      free (argv);
      return;
    }

  pid = fork ();
  if (pid < 0)
    {
      int saved = errno;

      pid = use_spare (c, report[1]);
      if (pid < 0)
        {
          reply (c, LLMSBX_BWRAP_INIT_FAILED, saved);
          close (report[0]);
          close (report[1]);
          free (argv);
          return;
        }
    }
  else if (pid == 0)
    run_command (argv, envp, cwd, c->in_fd, c->out_fd, c->err_fd, report[1]);

  close (report[1]);
  c->report_fd = report[0];
  log_event (pid, argv[0]);
  free (argv);
  free (c->payload);
  c->payload = NULL;
  close_fd (&c->in_fd);
  close_fd (&c->out_fd);
  close_fd (&c->err_fd);
  c->pid = pid;
  reply (c, LLMSBX_BWRAP_INIT_STARTED, pid);
}

/* Takes the three descriptors attached to a message; anything else attached is closed. */
static void
take_fds (Connection    *c,
          struct msghdr *msg)
{
  for (struct cmsghdr *cmsg = CMSG_FIRSTHDR (msg); cmsg != NULL; cmsg = CMSG_NXTHDR (msg, cmsg))
    {
      if (cmsg->cmsg_level != SOL_SOCKET || cmsg->cmsg_type != SCM_RIGHTS)
        continue;
      for (size_t i = 0; i < (cmsg->cmsg_len - CMSG_LEN (0)) / sizeof (int); i++)
        {
          int fd;

          memcpy (&fd, CMSG_DATA (cmsg) + i * sizeof (int), sizeof fd);
          fcntl (fd, F_SETFD, FD_CLOEXEC);
          if (c->in_fd < 0)
            c->in_fd = fd;
          else if (c->out_fd < 0)
            c->out_fd = fd;
          else if (c->err_fd < 0)
            c->err_fd = fd;
          else
            close (fd);
        }
    }
}

/* Reads what is there of a request; returns 0 to keep the connection, -1 to drop it. */
static int
read_request (Connection *c)
{
  LlmsbxBwrapInitRequest header;
  char control[CMSG_SPACE (3 * sizeof (int))];
  struct iovec iov;
  struct msghdr msg = { 0 };
  ssize_t n;

  if (c->have < sizeof header)
    {
      iov.iov_base = (char *) &header + c->have;
      iov.iov_len = sizeof header - c->have;
      msg.msg_iov = &iov;
      msg.msg_iovlen = 1;
      msg.msg_control = control;
      msg.msg_controllen = sizeof control;
      n = recvmsg (c->fd, &msg, MSG_CMSG_CLOEXEC);
      if (n <= 0)
        return n < 0 && errno == EAGAIN ? 0 : -1;
      take_fds (c, &msg);
      /* The header arrives whole in practice; a partial one is refused. */
      if (c->have + n < sizeof header)
        return -1;
      c->have += n;
      if (header.magic != LLMSBX_BWRAP_INIT_MAGIC || header.version != LLMSBX_BWRAP_INIT_PROTOCOL_VERSION ||
          header.length > LLMSBX_BWRAP_INIT_MAX_PAYLOAD || c->err_fd < 0)
        {
          reply (c, LLMSBX_BWRAP_INIT_FAILED, EPROTO);
          return -1;
        }
      c->length = header.length;
      c->payload = malloc (c->length + 1);
      if (c->payload == NULL)
        {
          reply (c, LLMSBX_BWRAP_INIT_FAILED, ENOMEM);
          return -1;
        }
    }

  while (c->have - sizeof header < c->length)
    {
      n = read (c->fd, c->payload + (c->have - sizeof header), c->length - (c->have - sizeof header));
      if (n <= 0)
        return n < 0 && errno == EAGAIN ? 0 : -1;
      c->have += n;
    }

  start_command (c);
  return c->pid > 0 ? 0 : -1;
}

static void
reap_children (void)
{
  int status;
  pid_t pid;

  while ((pid = waitpid (-1, &status, WNOHANG)) > 0)
    {
      int code = WIFEXITED (status) ? WEXITSTATUS (status) : 128 + WTERMSIG (status);

      /* A spare that was killed (code may kill anything) is made again. */
      if (pid == spare_pid)
        {
          spare_pid = 0;
          close_fd (&spare_fd);
          continue;
        }

      for (int i = 0; i < n_connections; i++)
        if (connections[i].pid == pid)
          {
            LlmsbxBwrapInitReply report;

            /* The child is gone, so its report, if it made one, is there. */
            if (read (connections[i].report_fd, &report, sizeof report) == (ssize_t) sizeof report &&
                (report.kind == LLMSBX_BWRAP_INIT_NO_WORKDIR || report.kind == LLMSBX_BWRAP_INIT_NO_PROGRAM))
              reply (&connections[i], report.kind, report.value);
            else
              reply (&connections[i], LLMSBX_BWRAP_INIT_EXITED, code);
            drop_connection (i);
            break;
          }
    }
}

int
main (int    argc,
      char **argv)
{
  struct pollfd fds[2 + MAX_CONNECTIONS];
  sigset_t child_mask;
  int signal_fd;
  int listen_fd = LLMSBX_BWRAP_INIT_LISTEN_FD;

  /* The backend's probe: bwrap made the namespaces and ran us; that is all. */
  if (argc == 2 && strcmp (argv[1], LLMSBX_BWRAP_INIT_PROBE) == 0)
    return 0;

  close (LLMSBX_BWRAP_INIT_EXE_FD);
  prctl (PR_SET_DUMPABLE, 0, 0, 0, 0);
  signal (SIGPIPE, SIG_IGN);

  sigemptyset (&child_mask);
  sigaddset (&child_mask, SIGCHLD);
  sigprocmask (SIG_BLOCK, &child_mask, NULL);
  signal_fd = signalfd (-1, &child_mask, SFD_CLOEXEC | SFD_NONBLOCK);
  if (signal_fd < 0 ||
      fcntl (listen_fd, F_SETFL, O_NONBLOCK) != 0 || fcntl (listen_fd, F_SETFD, FD_CLOEXEC) != 0)
    {
      dprintf (STDERR_FILENO, "llmsbx-bwrap-init: cannot set up: %s\n", strerror (errno));
      return 1;
    }
  if (fcntl (LLMSBX_BWRAP_INIT_EVENTS_FD, F_SETFD, FD_CLOEXEC) == 0)
    events_fd = LLMSBX_BWRAP_INIT_EVENTS_FD;

  if (write (LLMSBX_BWRAP_INIT_READY_FD, "R", 1) != 1)
    return 1;
  close (LLMSBX_BWRAP_INIT_READY_FD);

  for (;;)
    {
      int n = 0;

      ensure_spare ();
      fds[n++] = (struct pollfd) { listen_fd, n_connections < MAX_CONNECTIONS ? POLLIN : 0, 0 };
      fds[n++] = (struct pollfd) { signal_fd, POLLIN, 0 };
      for (int i = 0; i < n_connections; i++)
        fds[n++] = (struct pollfd) { connections[i].fd, POLLIN, 0 };

      if (poll (fds, n, -1) < 0)
        {
          if (errno == EINTR)
            continue;
          return 1;
        }

      /* Backwards, as dropping a connection moves the last one into its slot. */
      for (int i = n - 1; i >= 2; i--)
        {
          Connection *c = &connections[i - 2];

          if (fds[i].revents == 0)
            continue;
          if (c->pid > 0)
            {
              char byte;

              /* A started command's client only ever hangs up. */
              if (read (c->fd, &byte, 1) <= 0)
                drop_connection (i - 2);
            }
          else if (read_request (c) < 0)
            drop_connection (i - 2);
        }

      /* After the connections, whose slots reaping may reorder. */
      if (fds[1].revents != 0)
        {
          struct signalfd_siginfo info;

          while (read (signal_fd, &info, sizeof info) > 0)
            ;
          reap_children ();
        }

      if (fds[0].revents & POLLIN)
        {
          int fd = accept4 (listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

          if (fd >= 0)
            connections[n_connections++] = (Connection) {
              .fd = fd, .in_fd = -1, .out_fd = -1, .err_fd = -1, .report_fd = -1
            };
        }
      else if (fds[0].revents & (POLLERR | POLLHUP | POLLNVAL))
        return 1;
    }
}
