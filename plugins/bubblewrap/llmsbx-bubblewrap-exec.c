/* llmsbx-bubblewrap-exec.c: running one command in a bubblewrap sandbox.
 *
 * The client half of helpers/llmsbx-bwrap-init-protocol.h: connect to the
 * sandbox's init, hand it the command, its standard input and the write ends
 * of two pipes, and read the pipes into the output collector as the command
 * writes, until the init reports its exit status. Output is complete: the
 * command has exited when its status arrives, so what it wrote is in the
 * pipes, and what is left there is read before returning (processes it left
 * running in the background may write on; that is not waited for).
 *
 * At the deadline, or when cancelled, the call returns and the command keeps
 * running: the core kills it and what it started (llmsbx-guarded-exec.c),
 * with another command that finds them through /proc, which works here
 * because every command of a sandbox shares one pid namespace.
 *
 * The request's stdin_data goes to the command in a memfd, a file the
 * command reads like any input: the bytes are in memory already, and a pipe
 * would need a writer here that a command which stops reading could block or
 * hit with SIGPIPE. A command the init could not start (its workdir or
 * program missing, no process slot left) fails with
 * LLMSBX_ERROR_COMMAND_NOT_STARTED, never a result. */
#define _GNU_SOURCE
#include "llmsbx-bubblewrap-exec.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <glib-unix.h>

#include "helpers/llmsbx-bwrap-init-protocol.h"

static gboolean
no_longer_running (LlmsbxBubblewrapSandbox  *sandbox,
                   GError                  **error)
{
  return llmsbx_bubblewrap_sandbox_not_running (sandbox->id, error);
}

static int
connect_init (LlmsbxBubblewrapSandbox  *sandbox,
              GError                  **error)
{
  g_autofree char *path = llmsbx_bubblewrap_sandbox_path (sandbox, "control");
  struct sockaddr_un address = { .sun_family = AF_UNIX };
  int dir_fd = -1;
  int fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int rc;

  if (fd < 0)
    {
      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_CONTAINER_FAILED, "Cannot make a socket: %s",
                   g_strerror (errno));
      return -1;
    }
  if (strlen (path) < sizeof address.sun_path)
    g_strlcpy (address.sun_path, path, sizeof address.sun_path);
  else
    {
      dir_fd = open (sandbox->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      g_snprintf (address.sun_path, sizeof address.sun_path, "/proc/self/fd/%d/control", dir_fd);
    }
  rc = connect (fd, (struct sockaddr *) &address, sizeof address);
  if (dir_fd >= 0)
    close (dir_fd);
  if (rc != 0)
    {
      int saved = errno;

      close (fd);
      if (saved == ECONNREFUSED || saved == ENOENT || saved == EBADF || saved == ENOTDIR)
        no_longer_running (sandbox, error);
      else
        g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_CONTAINER_FAILED,
                     "Cannot reach the init of sandbox %.12s: %s", sandbox->id, g_strerror (saved));
      return -1;
    }
  return fd;
}

static void
add_string (GByteArray *payload,
            const char *text)
{
  g_byte_array_append (payload, (const guint8 *) text, strlen (text) + 1);
}

/* The command's environment: the sandbox's, with the request's on top. */
static GPtrArray *
merged_env (LlmsbxBubblewrapSandbox *sandbox,
            LlmsbxExecRequest       *request)
{
  GPtrArray *env = g_ptr_array_new ();

  for (char **e = sandbox->env; e != NULL && *e != NULL; e++)
    g_ptr_array_add (env, *e);
  for (char **e = request->env; e != NULL && *e != NULL; e++)
    {
      const char *eq = strchr (*e, '=');
      gsize len = eq ? (gsize) (eq - *e) : strlen (*e);
      gboolean replaced = FALSE;

      for (guint i = 0; i < env->len && !replaced; i++)
        if (strncmp (env->pdata[i], *e, len) == 0 && ((char *) env->pdata[i])[len] == '=')
          {
            env->pdata[i] = *e;
            replaced = TRUE;
          }
      if (!replaced)
        g_ptr_array_add (env, *e);
    }
  return env;
}

static GByteArray *
build_payload (LlmsbxBubblewrapSandbox *sandbox,
               LlmsbxExecRequest       *request,
               const char              *workdir)
{
  GByteArray *payload = g_byte_array_new ();
  g_autoptr(GPtrArray) env = merged_env (sandbox, request);
  guint32 counts[2] = { g_strv_length (request->argv), env->len };

  g_byte_array_append (payload, (const guint8 *) counts, sizeof counts);
  for (char **a = request->argv; *a != NULL; a++)
    add_string (payload, *a);
  for (guint i = 0; i < env->len; i++)
    add_string (payload, env->pdata[i]);
  add_string (payload, workdir);
  return payload;
}

static gboolean
send_request (int          fd,
              GByteArray  *payload,
              int          in_fd,
              int          out_fd,
              int          err_fd)
{
  LlmsbxBwrapInitRequest header = {
    LLMSBX_BWRAP_INIT_MAGIC, LLMSBX_BWRAP_INIT_PROTOCOL_VERSION, payload->len
  };
  int fds[3] = { in_fd, out_fd, err_fd };
  char control[CMSG_SPACE (sizeof fds)] = { 0 };
  struct iovec iov = { &header, sizeof header };
  struct msghdr msg = {
    .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof control
  };
  struct cmsghdr *cmsg = CMSG_FIRSTHDR (&msg);
  gsize sent = 0;

  cmsg->cmsg_level = SOL_SOCKET;
  cmsg->cmsg_type = SCM_RIGHTS;
  cmsg->cmsg_len = CMSG_LEN (sizeof fds);
  memcpy (CMSG_DATA (cmsg), fds, sizeof fds);
  if (sendmsg (fd, &msg, MSG_NOSIGNAL) != (gssize) sizeof header)
    return FALSE;

  while (sent < payload->len)
    {
      gssize n = send (fd, payload->data + sent, payload->len - sent, MSG_NOSIGNAL);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return FALSE;
      sent += n;
    }
  return TRUE;
}

/* Reads what @fd has into @output; returns FALSE at end of file. */
static gboolean
read_output (int                    fd,
             LlmsbxOutputStream     stream,
             LlmsbxOutputCollector *output)
{
  guint8 buffer[64 * 1024];
  gssize n = read (fd, buffer, sizeof buffer);

  if (n < 0)
    return errno == EINTR || errno == EAGAIN;
  if (n == 0)
    return FALSE;
  llmsbx_output_collector_append (output, stream, buffer, n);
  return TRUE;
}

/* After the exit status: what the command wrote before it exited is in the
 * pipes; read it without waiting for writers it left behind. */
static void
drain (int                    fd,
       LlmsbxOutputStream     stream,
       LlmsbxOutputCollector *output)
{
  guint8 buffer[64 * 1024];
  gssize n;

  if (fd < 0)
    return;
  g_unix_set_fd_nonblocking (fd, TRUE, NULL);
  while ((n = read (fd, buffer, sizeof buffer)) > 0 || (n < 0 && errno == EINTR))
    if (n > 0)
      llmsbx_output_collector_append (output, stream, buffer, n);
}

/* The command's standard input: @data in a memfd, or /dev/null. */
static int
open_stdin (GBytes  *data,
            GError **error)
{
  const guint8 *bytes = NULL;
  gsize size = 0;
  gsize written = 0;
  int fd;

  if (data == NULL)
    fd = open ("/dev/null", O_RDONLY | O_CLOEXEC);
  else
    {
      bytes = g_bytes_get_data (data, &size);
      fd = memfd_create ("llmsbx-stdin", MFD_CLOEXEC);
    }
  while (fd >= 0 && written < size)
    {
      gssize n = write (fd, bytes + written, size - written);

      if (n > 0)
        written += n;
      else if (n == 0 || errno != EINTR)
        {
          close (fd);
          fd = -1;
        }
    }
  if (fd >= 0 && data != NULL && lseek (fd, 0, SEEK_SET) != 0)
    {
      close (fd);
      fd = -1;
    }
  if (fd < 0)
    g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_FAILED, "Cannot hold the command's input: %s",
                 g_strerror (errno));
  return fd;
}

/* An errno's text as the middle of a sentence: "permission denied". */
static char *
describe_errno (int error_number)
{
  char *text = g_strdup (g_strerror (error_number));

  if (text[0] != '\0' && g_ascii_isupper (text[0]) && !g_ascii_isupper (text[1]))
    text[0] = g_ascii_tolower (text[0]);
  return text;
}

/* The error of a command the init never started, as the engines word theirs. */
static gboolean
not_started (LlmsbxBubblewrapSandbox     *sandbox,
             LlmsbxExecRequest           *request,
             const char                  *workdir,
             const LlmsbxBwrapInitReply  *reply,
             GError                     **error)
{
  g_autofree char *reason = describe_errno (reply->value);
  g_autofree char *why = NULL;

  switch (reply->kind)
    {
    case LLMSBX_BWRAP_INIT_NO_WORKDIR:
      why = g_strdup_printf ("cannot change to the working directory %s: %s", workdir, reason);
      break;
    case LLMSBX_BWRAP_INIT_NO_PROGRAM:
      if (reply->value == ENOENT && strchr (request->argv[0], '/') == NULL)
        why = g_strdup_printf ("%s: executable file not found in $PATH", request->argv[0]);
      else
        why = g_strdup_printf ("%s: %s", request->argv[0], reason);
      break;
    default:
      if (reply->value == EPROTO)
        {
          g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_PROTOCOL,
                       "The init of sandbox %.12s refused a request of protocol %u: the plugin and its helper "
                       "programs come from different builds", sandbox->id, LLMSBX_BWRAP_INIT_PROTOCOL_VERSION);
          return FALSE;
        }
      why = g_strdup_printf ("cannot fork: %s%s", reason,
                             reply->value == EAGAIN ? " (the sandbox is at its process limit)" : "");
      break;
    }
  g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_COMMAND_NOT_STARTED,
               "The bubblewrap backend could not start the command in the sandbox: %s", why);
  return FALSE;
}

/* Whether @user names the sandbox's one user. */
static gboolean
is_sandbox_user (LlmsbxBubblewrapSandbox *sandbox,
                 const char              *user)
{
  g_autofree char *numeric = g_strdup_printf ("%u:%u", sandbox->uid, sandbox->gid);
  g_autofree char *uid_only = g_strdup_printf ("%u", sandbox->uid);

  return user == NULL || g_str_equal (user, numeric) || g_str_equal (user, uid_only) ||
         (sandbox->uid == 0 && g_str_equal (user, "root"));
}

/**
 * llmsbx_bubblewrap_exec:
 * @sandbox: a running sandbox
 * @request: what to run
 * @output: where its output goes
 * @exit_status: (out): its exit status, or 128 + the signal that killed it
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Runs @request and waits for it, as #LlmsbxBackendClass.exec describes.
 */
gboolean
llmsbx_bubblewrap_exec (LlmsbxBubblewrapSandbox  *sandbox,
                        LlmsbxExecRequest        *request,
                        LlmsbxOutputCollector    *output,
                        int                      *exit_status,
                        GCancellable             *cancellable,
                        GError                  **error)
{
  g_autoptr(GByteArray) payload = NULL;
  int out_pipe[2] = { -1, -1 }, err_pipe[2] = { -1, -1 };
  int in_fd = -1;
  int sock = -1;
  const char *workdir = request->workdir ? request->workdir : sandbox->cwd ? sandbox->cwd
                        : sandbox->workdir ? sandbox->workdir : "/";
  GPollFD cancel_fd = { -1, 0, 0 };
  gboolean started = FALSE, exited = FALSE, ok = FALSE;
  guint8 reply_buffer[sizeof (LlmsbxBwrapInitReply)];
  gsize reply_have = 0;

  if (!is_sandbox_user (sandbox, request->user))
    {
      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
                   "A bubblewrap sandbox runs every command as its one user (%u:%u), not as '%s'",
                   sandbox->uid, sandbox->gid, request->user);
      return FALSE;
    }
  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return FALSE;

  sock = connect_init (sandbox, error);
  if (sock < 0)
    return FALSE;
  if (!g_unix_open_pipe (out_pipe, FD_CLOEXEC, error) || !g_unix_open_pipe (err_pipe, FD_CLOEXEC, error))
    goto out;
  in_fd = open_stdin (request->stdin_data, error);
  if (in_fd < 0)
    goto out;

  payload = build_payload (sandbox, request, workdir);
  if (payload->len > LLMSBX_BWRAP_INIT_MAX_PAYLOAD)
    {
      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
                   "The command and its environment are too large (%u bytes)", payload->len);
      goto out;
    }
  if (!send_request (sock, payload, in_fd, out_pipe[1], err_pipe[1]))
    {
      no_longer_running (sandbox, error);
      goto out;
    }
  close (in_fd);
  close (out_pipe[1]);
  close (err_pipe[1]);
  in_fd = out_pipe[1] = err_pipe[1] = -1;

  if (cancellable != NULL && g_cancellable_make_pollfd (cancellable, &cancel_fd))
    cancel_fd.events = G_IO_IN;

  while (!exited)
    {
      struct pollfd fds[4] = {
        { sock, POLLIN, 0 },
        { out_pipe[0], POLLIN, 0 },
        { err_pipe[0], POLLIN, 0 },
        { cancel_fd.fd, POLLIN, 0 },
      };
      int timeout = -1;

      if (request->deadline > 0)
        {
          gint64 left = request->deadline - g_get_monotonic_time ();

          if (left <= 0)
            {
              g_set_error_literal (error, LLMSBX_ERROR, LLMSBX_ERROR_TIMEOUT,
                                   "The command did not finish before its deadline");
              goto out;
            }
          timeout = (int) MIN ((left + 999) / 1000, G_MAXINT);
        }
      if (poll (fds, G_N_ELEMENTS (fds), timeout) < 0 && errno != EINTR)
        {
          g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_FAILED, "poll: %s", g_strerror (errno));
          goto out;
        }
      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        goto out;

      if (fds[1].revents != 0 && !read_output (out_pipe[0], LLMSBX_OUTPUT_STREAM_STDOUT, output))
        {
          close (out_pipe[0]);
          out_pipe[0] = -1;
        }
      if (fds[2].revents != 0 && !read_output (err_pipe[0], LLMSBX_OUTPUT_STREAM_STDERR, output))
        {
          close (err_pipe[0]);
          err_pipe[0] = -1;
        }
      if (fds[0].revents != 0)
        {
          gssize n = recv (sock, reply_buffer + reply_have, sizeof reply_buffer - reply_have, 0);
          LlmsbxBwrapInitReply reply;

          if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
          if (n <= 0)
            {
              /* The init only hangs up after the exit status, or when it dies. */
              no_longer_running (sandbox, error);
              goto out;
            }
          reply_have += n;
          if (reply_have < sizeof reply_buffer)
            continue;
          reply_have = 0;
          memcpy (&reply, reply_buffer, sizeof reply);

          if (reply.kind == LLMSBX_BWRAP_INIT_STARTED)
            started = TRUE;
          else if (reply.kind == LLMSBX_BWRAP_INIT_EXITED && started)
            {
              *exit_status = reply.value;
              exited = TRUE;
            }
          else if (reply.kind == LLMSBX_BWRAP_INIT_FAILED ||
                   (started && (reply.kind == LLMSBX_BWRAP_INIT_NO_WORKDIR ||
                                reply.kind == LLMSBX_BWRAP_INIT_NO_PROGRAM)))
            {
              /* The core retries its kill on this error at a full pids limit. */
              not_started (sandbox, request, workdir, &reply, error);
              goto out;
            }
          else
            {
              g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_PROTOCOL,
                           "The init of sandbox %.12s sent an unknown reply %d", sandbox->id, reply.kind);
              goto out;
            }
        }
    }

  drain (out_pipe[0], LLMSBX_OUTPUT_STREAM_STDOUT, output);
  drain (err_pipe[0], LLMSBX_OUTPUT_STREAM_STDERR, output);
  ok = TRUE;

out:
  if (cancel_fd.fd >= 0)
    g_cancellable_release_fd (cancellable);
  if (in_fd >= 0)
    close (in_fd);
  for (guint i = 0; i < 2; i++)
    {
      if (out_pipe[i] >= 0)
        close (out_pipe[i]);
      if (err_pipe[i] >= 0)
        close (err_pipe[i]);
    }
  close (sock);
  return ok;
}
