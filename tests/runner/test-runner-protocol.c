/* test-runner-protocol.c: the protocol's failure paths: the host client
 * against fake runners that misbehave, and the real runner against a host
 * that sends malformed frames. */
#include "config.h"

#include <sys/socket.h>

#include <gio/gunixinputstream.h>
#include <gio/gunixoutputstream.h>

#include "runner-test.h"

/* Frames ---------------------------------------------------------------- */

static GByteArray *
frame_start (guint8  type,
             guint8  stream,
             guint32 id)
{
  GByteArray *frame = g_byte_array_new ();
  guint8 head[LLMSBX_RUNNER_HEADER_SIZE] = { 0 };

  llmsbx_runner_put_u32 (head, LLMSBX_RUNNER_MAGIC);
  head[4] = type;
  head[5] = stream;
  llmsbx_runner_put_u32 (head + 8, id);
  g_byte_array_append (frame, head, sizeof head);
  return frame;
}

static void
frame_bytes (GByteArray *frame,
             guint16     tag,
             const void *data,
             gsize       length)
{
  guint8 head[LLMSBX_RUNNER_FIELD_HEADER_SIZE];

  llmsbx_runner_put_u16 (head, tag);
  llmsbx_runner_put_u32 (head + 2, (guint32) length);
  g_byte_array_append (frame, head, sizeof head);
  g_byte_array_append (frame, data, (guint) length);
}

static void
frame_int (GByteArray *frame,
           guint16     tag,
           guint64     value)
{
  guint8 v[8];

  llmsbx_runner_put_u64 (v, value);
  frame_bytes (frame, tag, v, sizeof v);
}

/* Sets the header's length from what was added. */
static GByteArray *
frame_end (GByteArray *frame)
{
  llmsbx_runner_put_u32 (frame->data + 12, frame->len - LLMSBX_RUNNER_HEADER_SIZE);
  return frame;
}

static GByteArray *
hello (guint64 vmin,
       guint64 vmax)
{
  GByteArray *frame = frame_start (LLMSBX_RUNNER_FRAME_HELLO, 0, 0);

  frame_int (frame, LLMSBX_RUNNER_FIELD_VERSION_MIN, vmin);
  frame_int (frame, LLMSBX_RUNNER_FIELD_VERSION_MAX, vmax);
  frame_bytes (frame, LLMSBX_RUNNER_FIELD_RUNNER_VERSION, "fake", 4);
  return frame_end (frame);
}

static void
write_frame (int         fd,
             GByteArray *frame)
{
  g_assert_cmpint (write (fd, frame->data, frame->len), ==, (gssize) frame->len);
  g_byte_array_unref (frame);
}

/* Reads one frame; FALSE at end of file. */
static gboolean
read_frame (int      fd,
            guint8  *type,
            guint32 *id,
            GBytes **payload)
{
  guint8 head[LLMSBX_RUNNER_HEADER_SIZE];
  gsize got = 0, length;
  guint8 *data;

  while (got < sizeof head)
    {
      gssize n = read (fd, head + got, sizeof head - got);

      if (n <= 0)
        return FALSE;
      got += (gsize) n;
    }
  g_assert_cmphex (llmsbx_runner_get_u32 (head), ==, LLMSBX_RUNNER_MAGIC);
  *type = head[4];
  *id = llmsbx_runner_get_u32 (head + 8);
  length = llmsbx_runner_get_u32 (head + 12);
  data = g_malloc (length + 1);
  for (got = 0; got < length;)
    {
      gssize n = read (fd, data + got, length - got);

      g_assert_cmpint (n, >, 0);
      got += (gsize) n;
    }
  if (payload != NULL)
    *payload = g_bytes_new_take (data, length);
  else
    g_free (data);
  return TRUE;
}

/* The client against a fake runner ---------------------------------------- */

typedef void (*FakeScript) (int fd);

typedef struct {
  int        fd;
  FakeScript script;
} Fake;

static gpointer
fake_thread (gpointer data)
{
  Fake *fake = data;

  fake->script (fake->fd);
  close (fake->fd);
  return fake;
}

/* A client whose peer runs @script in a thread. */
static LlmsbxResidentRunner *
fake_runner (FakeScript   script,
             GThread    **thread)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(GSocketConnection) connection = NULL;
  Fake *fake = g_new0 (Fake, 1);
  int sv[2];

  g_assert_cmpint (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), ==, 0);
  socket = g_socket_new_from_fd (sv[0], &error);
  g_assert_no_error (error);
  connection = g_socket_connection_factory_create_connection (socket);
  fake->fd = sv[1];
  fake->script = script;
  *thread = g_thread_new ("fake-runner", fake_thread, fake);
  return llmsbx_resident_runner_new (G_IO_STREAM (connection), NULL, NULL, NULL);
}

static void
fake_join (GThread *thread)
{
  g_free (g_thread_join (thread));
}

static gint64
soon (double seconds)
{
  return g_get_monotonic_time () + (gint64) (seconds * G_USEC_PER_SEC);
}

/* A started fake: HELLO, then READY once the host answered. */
static void
greet (int fd)
{
  guint8 type;
  guint32 id;

  write_frame (fd, hello (LLMSBX_RUNNER_PROTOCOL_VERSION, LLMSBX_RUNNER_PROTOCOL_VERSION));
  g_assert_true (read_frame (fd, &type, &id, NULL));
  g_assert_cmpuint (type, ==, LLMSBX_RUNNER_FRAME_HOST_HELLO);
  write_frame (fd, frame_end (frame_start (LLMSBX_RUNNER_FRAME_READY, 0, 0)));
}

static void
say_not_found (int fd)
{
  const char *text = "OCI runtime exec failed: exec failed: unable to start container process: exec: "
                     "\"/usr/libexec/llmsbx/llmsbx-runner\": stat /usr/libexec/llmsbx/llmsbx-runner: "
                     "no such file or directory: unknown\r\n";

  g_assert_cmpint (write (fd, text, strlen (text)), ==, (gssize) strlen (text));
}

static void
test_not_a_runner (void)
{
  GThread *thread;
  g_autoptr(LlmsbxResidentRunner) runner = fake_runner (say_not_found, &thread);
  g_autoptr(GError) error = NULL;

  g_assert_false (llmsbx_resident_runner_start (runner, soon (10), NULL, &error));
  fake_join (thread);
  g_assert_error (error, LLMSBX_RUNNER_ERROR, LLMSBX_RUNNER_ERROR_NOT_A_RUNNER);
  g_assert_true (llmsbx_resident_runner_error_is_fatal (error));
  g_assert_nonnull (strstr (error->message, "The sandbox did not start llmsbx-runner; it said: OCI runtime exec failed"));
  g_assert_false (llmsbx_resident_runner_is_usable (runner));
}

static void
say_nothing (int fd)
{
}

static void
test_exits_before_hello (void)
{
  GThread *thread;
  g_autoptr(LlmsbxResidentRunner) runner = fake_runner (say_nothing, &thread);
  g_autoptr(GError) error = NULL;

  g_assert_false (llmsbx_resident_runner_start (runner, soon (10), NULL, &error));
  fake_join (thread);
  g_assert_error (error, LLMSBX_RUNNER_ERROR, LLMSBX_RUNNER_ERROR_DIED);
  g_assert_cmpstr (error->message, ==, "The runner exited before it said HELLO");
}

static void
say_future_versions (int fd)
{
  guint8 type;
  guint32 id;

  write_frame (fd, hello (LLMSBX_RUNNER_PROTOCOL_VERSION + 1, LLMSBX_RUNNER_PROTOCOL_VERSION + 2));
  /* The host must not answer a runner it cannot speak with. */
  g_assert_false (read_frame (fd, &type, &id, NULL));
}

static void
test_version_mismatch (void)
{
  GThread *thread;
  LlmsbxResidentRunner *runner = fake_runner (say_future_versions, &thread);
  g_autoptr(GError) error = NULL;
  g_autofree char *expected = g_strdup_printf ("speaks protocol versions %d to %d, this library version %d",
                                               LLMSBX_RUNNER_PROTOCOL_VERSION + 1, LLMSBX_RUNNER_PROTOCOL_VERSION + 2,
                                               LLMSBX_RUNNER_PROTOCOL_VERSION);

  g_assert_false (llmsbx_resident_runner_start (runner, soon (10), NULL, &error));
  g_assert_error (error, LLMSBX_RUNNER_ERROR, LLMSBX_RUNNER_ERROR_VERSION);
  g_assert_nonnull (strstr (error->message, expected));
  g_assert_nonnull (strstr (error->message, "llmsbx-runner fake"));
  g_object_unref (runner);  /* closes the stream: the fake reads its end */
  fake_join (thread);
}

/* A later runner may add fields to HELLO: they are skipped. */
static void
say_hello_with_more (int fd)
{
  GByteArray *frame = frame_start (LLMSBX_RUNNER_FRAME_HELLO, 0, 0);
  guint8 type;
  guint32 id;

  frame_int (frame, 0x7777, 1);
  frame_int (frame, LLMSBX_RUNNER_FIELD_VERSION_MIN, 1);
  frame_int (frame, LLMSBX_RUNNER_FIELD_VERSION_MAX, LLMSBX_RUNNER_PROTOCOL_VERSION + 5);
  frame_bytes (frame, 0x7778, "future", 6);
  write_frame (fd, frame_end (frame));
  g_assert_true (read_frame (fd, &type, &id, NULL));
  write_frame (fd, frame_end (frame_start (LLMSBX_RUNNER_FRAME_READY, 0, 0)));
}

static void
test_hello_extensions (void)
{
  GThread *thread;
  g_autoptr(LlmsbxResidentRunner) runner = fake_runner (say_hello_with_more, &thread);
  g_autoptr(GError) error = NULL;

  g_assert_true (llmsbx_resident_runner_start (runner, soon (10), NULL, &error));
  g_assert_no_error (error);
  fake_join (thread);
}

/* Runs "true" against a fake whose answer is @answer; returns the error. */
static GError *
run_against (FakeScript script)
{
  GThread *thread;
  g_autoptr(LlmsbxResidentRunner) runner = fake_runner (script, &thread);
  const char *argv[] = { "true", NULL };
  g_autoptr(LlmsbxRunnerRequest) request = llmsbx_runner_request_new (argv);
  g_autoptr(LlmsbxOutputCollector) output = llmsbx_output_collector_new (0);
  g_auto(LlmsbxRunnerResult) result = { 0 };
  g_autoptr(GError) again = NULL;
  GError *error = NULL;

  g_assert_true (llmsbx_resident_runner_start (runner, soon (10), NULL, NULL));
  g_assert_false (llmsbx_resident_runner_run (runner, request, output, soon (1), &result, NULL, &error));
  g_assert_nonnull (error);
  g_assert_true (llmsbx_resident_runner_error_is_fatal (error));
  /* Once broken, always broken, and saying why. */
  g_assert_false (llmsbx_resident_runner_run (runner, request, output, soon (1), &result, NULL, &again));
  g_assert_error (again, LLMSBX_RUNNER_ERROR, LLMSBX_RUNNER_ERROR_BROKEN);
  g_assert_nonnull (strstr (again->message, error->message));
  g_clear_object (&runner);
  fake_join (thread);
  return error;
}

static void
read_run (int fd)
{
  guint8 type;
  guint32 id;

  g_assert_true (read_frame (fd, &type, &id, NULL));
  g_assert_cmpuint (type, ==, LLMSBX_RUNNER_FRAME_RUN);
}

static void
answer_with_huge_output (int fd)
{
  GByteArray *frame;

  greet (fd);
  read_run (fd);
  frame = frame_start (LLMSBX_RUNNER_FRAME_OUTPUT, 1, 1);
  llmsbx_runner_put_u32 (frame->data + 12, LLMSBX_RUNNER_CHUNK_MAX + 1);
  write_frame (fd, frame);
}

static void
test_oversized_frame (void)
{
  g_autoptr(GError) error = run_against (answer_with_huge_output);

  g_assert_error (error, LLMSBX_RUNNER_ERROR, LLMSBX_RUNNER_ERROR_PROTOCOL);
  g_assert_nonnull (strstr (error->message, "malformed frame"));
}

static void
answer_other_request (int fd)
{
  GByteArray *frame;

  greet (fd);
  read_run (fd);
  frame = frame_start (LLMSBX_RUNNER_FRAME_RESULT, 0, 99);
  frame_int (frame, LLMSBX_RUNNER_FIELD_EXIT_CODE, 0);
  write_frame (fd, frame_end (frame));
}

static void
test_wrong_id (void)
{
  g_autoptr(GError) error = run_against (answer_other_request);

  g_assert_error (error, LLMSBX_RUNNER_ERROR, LLMSBX_RUNNER_ERROR_PROTOCOL);
  g_assert_cmpstr (error->message, ==, "The runner answered request 99 during request 1");
}

static void
answer_unknown_field (int fd)
{
  GByteArray *frame;

  greet (fd);
  read_run (fd);
  frame = frame_start (LLMSBX_RUNNER_FRAME_RESULT, 0, 1);
  frame_int (frame, LLMSBX_RUNNER_FIELD_EXIT_CODE, 0);
  frame_int (frame, 0x7777, 0);
  write_frame (fd, frame_end (frame));
}

static void
test_malformed_result (void)
{
  g_autoptr(GError) error = run_against (answer_unknown_field);

  g_assert_error (error, LLMSBX_RUNNER_ERROR, LLMSBX_RUNNER_ERROR_PROTOCOL);
  g_assert_cmpstr (error->message, ==, "The runner sent a malformed RESULT");
}

static void
answer_truncated_field (int fd)
{
  GByteArray *frame;

  greet (fd);
  read_run (fd);
  frame = frame_start (LLMSBX_RUNNER_FRAME_RESULT, 0, 1);
  frame_int (frame, LLMSBX_RUNNER_FIELD_EXIT_CODE, 0);
  llmsbx_runner_put_u32 (frame->data + frame->len - 12, 4000);  /* the field claims more than the frame holds */
  write_frame (fd, frame_end (frame));
}

static void
test_truncated_field (void)
{
  g_autoptr(GError) error = run_against (answer_truncated_field);

  g_assert_error (error, LLMSBX_RUNNER_ERROR, LLMSBX_RUNNER_ERROR_PROTOCOL);
}

static void
answer_garbage (int fd)
{
  greet (fd);
  read_run (fd);
  g_assert_cmpint (write (fd, "garbage that is not a frame", 27), ==, 27);
}

static void
test_garbage (void)
{
  g_autoptr(GError) error = run_against (answer_garbage);

  g_assert_error (error, LLMSBX_RUNNER_ERROR, LLMSBX_RUNNER_ERROR_PROTOCOL);
  g_assert_nonnull (strstr (error->message, "without the protocol's magic"));
}

static void
answer_error_frame (int fd)
{
  GByteArray *frame;

  greet (fd);
  read_run (fd);
  frame = frame_start (LLMSBX_RUNNER_FRAME_ERROR, 0, 1);
  frame_bytes (frame, LLMSBX_RUNNER_FIELD_MESSAGE, "it went\nwrong", 13);
  write_frame (fd, frame_end (frame));
}

static void
test_error_frame (void)
{
  g_autoptr(GError) error = run_against (answer_error_frame);

  g_assert_error (error, LLMSBX_RUNNER_ERROR, LLMSBX_RUNNER_ERROR_PROTOCOL);
  g_assert_cmpstr (error->message, ==, "The runner reported a protocol error: it went wrong");
}

static void
answer_never (int fd)
{
  guint8 type;
  guint32 id;

  greet (fd);
  read_run (fd);
  /* Stay silent until the host gives up and closes. */
  while (read_frame (fd, &type, &id, NULL))
    ;
}

static void
test_no_answer (void)
{
  gint64 before = g_get_monotonic_time ();
  g_autoptr(GError) error = run_against (answer_never);

  g_assert_error (error, LLMSBX_RUNNER_ERROR, LLMSBX_RUNNER_ERROR_NO_ANSWER);
  g_assert_cmpstr (error->message, ==, "The runner did not finish the run before its deadline");
  g_assert_cmpint (g_get_monotonic_time () - before, <, 30 * G_USEC_PER_SEC);
}

static void
answer_then_die (int fd)
{
  GByteArray *frame;

  greet (fd);
  read_run (fd);
  frame = frame_start (LLMSBX_RUNNER_FRAME_OUTPUT, 1, 1);
  frame_bytes (frame, 0, "half", 4);  /* a frame cut short: header says more */
  llmsbx_runner_put_u32 (frame->data + 12, 100);
  g_assert_cmpint (write (fd, frame->data, frame->len), ==, (gssize) frame->len);
  g_byte_array_unref (frame);
}

static void
test_dies_mid_frame (void)
{
  g_autoptr(GError) error = run_against (answer_then_die);

  g_assert_error (error, LLMSBX_RUNNER_ERROR, LLMSBX_RUNNER_ERROR_DIED);
  g_assert_cmpstr (error->message, ==, "The runner exited in the middle of a frame");
}

/* The real runner against a malformed host ----------------------------- */

/* Starts the runner, reads its HELLO, sends @bytes, and returns the message
 * of the ERROR it answers with; checks it then exits 2. */
static char *
runner_error_for (const guint8 *bytes,
                  gsize         length,
                  gboolean      after_hello)
{
  const char *argv[] = { RUNNER_PATH, NULL };
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocess) process =
    g_subprocess_newv (argv, G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                             G_SUBPROCESS_FLAGS_STDERR_SILENCE, &error);
  int in = g_unix_output_stream_get_fd (G_UNIX_OUTPUT_STREAM (g_subprocess_get_stdin_pipe (process)));
  int out = g_unix_input_stream_get_fd (G_UNIX_INPUT_STREAM (g_subprocess_get_stdout_pipe (process)));
  g_autoptr(GBytes) payload = NULL;
  char *message = NULL;
  guint8 type;
  guint32 id;

  g_assert_no_error (error);
  g_assert_true (read_frame (out, &type, &id, NULL));
  g_assert_cmpuint (type, ==, LLMSBX_RUNNER_FRAME_HELLO);
  if (after_hello)
    {
      GByteArray *frame = frame_start (LLMSBX_RUNNER_FRAME_HOST_HELLO, 0, 0);

      frame_int (frame, LLMSBX_RUNNER_FIELD_VERSION, LLMSBX_RUNNER_PROTOCOL_VERSION);
      write_frame (in, frame_end (frame));
      g_assert_true (read_frame (out, &type, &id, NULL));
      g_assert_cmpuint (type, ==, LLMSBX_RUNNER_FRAME_READY);
    }
  g_assert_cmpint (write (in, bytes, length), ==, (gssize) length);
  g_assert_true (read_frame (out, &type, &id, &payload));
  g_assert_cmpuint (type, ==, LLMSBX_RUNNER_FRAME_ERROR);
  {
    const guint8 *p = g_bytes_get_data (payload, NULL);
    gsize size = g_bytes_get_size (payload);

    g_assert_cmpuint (size, >=, LLMSBX_RUNNER_FIELD_HEADER_SIZE);
    g_assert_cmpuint (llmsbx_runner_get_u16 (p), ==, LLMSBX_RUNNER_FIELD_MESSAGE);
    message = g_strndup ((const char *) p + LLMSBX_RUNNER_FIELD_HEADER_SIZE, size - LLMSBX_RUNNER_FIELD_HEADER_SIZE);
  }
  g_assert_true (g_subprocess_wait (process, NULL, NULL));
  g_assert_cmpint (g_subprocess_get_exit_status (process), ==, 2);
  return message;
}

static void
test_runner_refuses_version (void)
{
  g_autoptr(GByteArray) frame = frame_start (LLMSBX_RUNNER_FRAME_HOST_HELLO, 0, 0);
  g_autofree char *message = NULL;
  g_autofree char *expected = g_strdup_printf ("the host chose protocol version 9; this runner speaks %d to %d",
                                               LLMSBX_RUNNER_PROTOCOL_VERSION, LLMSBX_RUNNER_PROTOCOL_VERSION);

  frame_int (frame, LLMSBX_RUNNER_FIELD_VERSION, 9);
  frame_end (frame);
  message = runner_error_for (frame->data, frame->len, FALSE);
  g_assert_cmpstr (message, ==, expected);
}

static void
test_runner_refuses_run_before_hello (void)
{
  g_autoptr(GByteArray) frame = frame_end (frame_start (LLMSBX_RUNNER_FRAME_RUN, 0, 1));
  g_autofree char *message = runner_error_for (frame->data, frame->len, FALSE);

  g_assert_cmpstr (message, ==, "the host must answer HELLO first (got frame type 0x82)");
}

static void
test_runner_refuses_bad_magic (void)
{
  g_autofree char *message = runner_error_for ((const guint8 *) "GET / HTTP/1.1\r\n", 16, TRUE);

  g_assert_cmpstr (message, ==, "a frame did not start with the magic LXRF (got 47 45 54 20)");
}

static void
test_runner_refuses_huge_frame (void)
{
  g_autoptr(GByteArray) frame = frame_start (LLMSBX_RUNNER_FRAME_RUN, 0, 1);
  g_autofree char *message = NULL;

  llmsbx_runner_put_u32 (frame->data + 12, LLMSBX_RUNNER_FRAME_MAX + 1);
  message = runner_error_for (frame->data, frame->len, TRUE);
  g_assert_nonnull (strstr (message, "is larger than the limit of"));
}

static void
test_runner_refuses_unknown_field (void)
{
  g_autoptr(GByteArray) frame = frame_start (LLMSBX_RUNNER_FRAME_RUN, 0, 1);
  g_autofree char *message = NULL;

  frame_bytes (frame, LLMSBX_RUNNER_FIELD_ARGV, "true", 4);
  frame_int (frame, 0x0777, 1);
  frame_end (frame);
  message = runner_error_for (frame->data, frame->len, TRUE);
  g_assert_cmpstr (message, ==, "unknown field 0x0777 in a request");
}

static void
test_runner_refuses_truncated_field (void)
{
  g_autoptr(GByteArray) frame = frame_start (LLMSBX_RUNNER_FRAME_RUN, 0, 1);
  g_autofree char *message = NULL;

  frame_bytes (frame, LLMSBX_RUNNER_FIELD_ARGV, "true", 4);
  llmsbx_runner_put_u32 (frame->data + LLMSBX_RUNNER_HEADER_SIZE + 2, 5000);
  frame_end (frame);
  message = runner_error_for (frame->data, frame->len, TRUE);
  g_assert_cmpstr (message, ==, "a request's fields run past its end");
}

static void
test_runner_refuses_second_run (void)
{
  g_autoptr(GByteArray) both = g_byte_array_new ();
  g_autoptr(GByteArray) first = frame_start (LLMSBX_RUNNER_FRAME_RUN, 0, 1);
  g_autoptr(GByteArray) second = frame_start (LLMSBX_RUNNER_FRAME_RUN, 0, 2);
  g_autofree char *message = NULL;

  frame_bytes (first, LLMSBX_RUNNER_FIELD_ARGV, "sleep", 5);
  frame_bytes (first, LLMSBX_RUNNER_FIELD_ARGV, "100", 3);
  frame_bytes (second, LLMSBX_RUNNER_FIELD_ARGV, "true", 4);
  frame_end (first);
  frame_end (second);
  g_byte_array_append (both, first->data, first->len);
  g_byte_array_append (both, second->data, second->len);
  message = runner_error_for (both->data, both->len, TRUE);
  g_assert_cmpstr (message, ==, "frame type 0x82 cannot come before the RESULT of run 1");
}

/* PING is answered in the middle of a run, before its RESULT. */
static void
test_runner_ping_during_run (void)
{
  const char *argv[] = { RUNNER_PATH, NULL };
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocess) process =
    g_subprocess_newv (argv, G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error);
  int in = g_unix_output_stream_get_fd (G_UNIX_OUTPUT_STREAM (g_subprocess_get_stdin_pipe (process)));
  int out = g_unix_input_stream_get_fd (G_UNIX_INPUT_STREAM (g_subprocess_get_stdout_pipe (process)));
  GByteArray *frame;
  guint8 type;
  guint32 id;

  g_assert_no_error (error);
  g_assert_true (read_frame (out, &type, &id, NULL));
  frame = frame_start (LLMSBX_RUNNER_FRAME_HOST_HELLO, 0, 0);
  frame_int (frame, LLMSBX_RUNNER_FIELD_VERSION, LLMSBX_RUNNER_PROTOCOL_VERSION);
  write_frame (in, frame_end (frame));
  g_assert_true (read_frame (out, &type, &id, NULL));
  g_assert_cmpuint (type, ==, LLMSBX_RUNNER_FRAME_READY);

  frame = frame_start (LLMSBX_RUNNER_FRAME_RUN, 0, 7);
  frame_bytes (frame, LLMSBX_RUNNER_FIELD_ARGV, "sleep", 5);
  frame_bytes (frame, LLMSBX_RUNNER_FIELD_ARGV, "0.5", 3);
  write_frame (in, frame_end (frame));
  write_frame (in, frame_end (frame_start (LLMSBX_RUNNER_FRAME_PING, 0, 8)));
  g_assert_true (read_frame (out, &type, &id, NULL));
  g_assert_cmpuint (type, ==, LLMSBX_RUNNER_FRAME_PONG);
  g_assert_cmpuint (id, ==, 8);
  g_assert_true (read_frame (out, &type, &id, NULL));
  g_assert_cmpuint (type, ==, LLMSBX_RUNNER_FRAME_RESULT);
  g_assert_cmpuint (id, ==, 7);

  /* End of the host's stream: the runner ends too, cleanly. */
  g_output_stream_close (g_subprocess_get_stdin_pipe (process), NULL, NULL);
  g_assert_true (g_subprocess_wait (process, NULL, NULL));
  g_assert_cmpint (g_subprocess_get_exit_status (process), ==, 0);
}

/* Well-formed requests that cannot be served are answered, not fatal. */
static void
test_runner_bad_requests (void)
{
  RunnerTest *test = runner_test_spawn ();
  const char *argv[] = { "true", NULL };
  g_autoptr(LlmsbxRunnerRequest) request = llmsbx_runner_request_new (argv);
  g_autoptr(LlmsbxOutputCollector) output = llmsbx_output_collector_new (0);
  g_auto(LlmsbxRunnerResult) result = { 0 };
  g_autoptr(GError) error = NULL;

  request->workdir = g_strdup ("relative");
  g_assert_false (llmsbx_resident_runner_run (test->runner, request, output, -1, &result, NULL, &error));
  g_assert_error (error, LLMSBX_RUNNER_ERROR, LLMSBX_RUNNER_ERROR_BAD_REQUEST);
  g_assert_nonnull (strstr (error->message, "CWD 'relative' is not absolute"));
  g_clear_error (&error);
  g_clear_pointer (&request->workdir, g_free);
  request->adapter = g_strdup ("cobol");
  g_strfreev (request->argv);
  request->argv = g_strsplit ("cobc x.cob", " ", -1);
  g_assert_false (llmsbx_resident_runner_run (test->runner, request, output, -1, &result, NULL, &error));
  g_assert_error (error, LLMSBX_RUNNER_ERROR, LLMSBX_RUNNER_ERROR_BAD_REQUEST);
  g_assert_nonnull (strstr (error->message, "unknown adapter 'cobol'"));
  g_assert_true (llmsbx_resident_runner_is_usable (test->runner));
  runner_test_free (test);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/runner-protocol/client/not-a-runner", test_not_a_runner);
  g_test_add_func ("/runner-protocol/client/exits-before-hello", test_exits_before_hello);
  g_test_add_func ("/runner-protocol/client/version-mismatch", test_version_mismatch);
  g_test_add_func ("/runner-protocol/client/hello-extensions", test_hello_extensions);
  g_test_add_func ("/runner-protocol/client/oversized-frame", test_oversized_frame);
  g_test_add_func ("/runner-protocol/client/wrong-id", test_wrong_id);
  g_test_add_func ("/runner-protocol/client/malformed-result", test_malformed_result);
  g_test_add_func ("/runner-protocol/client/truncated-field", test_truncated_field);
  g_test_add_func ("/runner-protocol/client/garbage", test_garbage);
  g_test_add_func ("/runner-protocol/client/error-frame", test_error_frame);
  g_test_add_func ("/runner-protocol/client/no-answer", test_no_answer);
  g_test_add_func ("/runner-protocol/client/dies-mid-frame", test_dies_mid_frame);
  g_test_add_func ("/runner-protocol/runner/refuses-version", test_runner_refuses_version);
  g_test_add_func ("/runner-protocol/runner/refuses-run-before-hello", test_runner_refuses_run_before_hello);
  g_test_add_func ("/runner-protocol/runner/refuses-bad-magic", test_runner_refuses_bad_magic);
  g_test_add_func ("/runner-protocol/runner/refuses-huge-frame", test_runner_refuses_huge_frame);
  g_test_add_func ("/runner-protocol/runner/refuses-unknown-field", test_runner_refuses_unknown_field);
  g_test_add_func ("/runner-protocol/runner/refuses-truncated-field", test_runner_refuses_truncated_field);
  g_test_add_func ("/runner-protocol/runner/refuses-second-run", test_runner_refuses_second_run);
  g_test_add_func ("/runner-protocol/runner/bad-requests", test_runner_bad_requests);
  g_test_add_func ("/runner-protocol/runner/ping-during-run", test_runner_ping_during_run);

  return g_test_run ();
}
