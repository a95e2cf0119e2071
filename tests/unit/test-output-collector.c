/* test-output-collector.c: bounded, thread-safe output collection. */
#include <string.h>

#include <llmsbx.h>

typedef struct
{
  gsize stdout_seen;
  gsize stderr_seen;
  guint calls;
} Seen;

static void
count_output (LlmsbxOutputStream stream,
              const guint8      *data,
              gsize              length,
              gpointer           user_data)
{
  Seen *seen = user_data;

  if (stream == LLMSBX_OUTPUT_STREAM_STDOUT)
    seen->stdout_seen += length;
  else
    seen->stderr_seen += length;
  seen->calls++;
}

static void
assert_bytes (GBytes     *bytes,
              const char *expected,
              gsize       expected_len)
{
  gsize len;
  const guint8 *data = g_bytes_get_data (bytes, &len);

  g_assert_cmpmem (data, len, expected, expected_len);
}

static void
test_collector_unlimited (void)
{
  g_autoptr(LlmsbxOutputCollector) collector = llmsbx_output_collector_new (0);
  g_autoptr(GBytes) out = NULL;
  g_autoptr(GBytes) err = NULL;
  g_autoptr(GBytes) again = NULL;

  llmsbx_output_collector_append (collector, LLMSBX_OUTPUT_STREAM_STDOUT, (const guint8 *) "hel", 3);
  llmsbx_output_collector_append (collector, LLMSBX_OUTPUT_STREAM_STDERR, (const guint8 *) "oops\0", 5);
  llmsbx_output_collector_append (collector, LLMSBX_OUTPUT_STREAM_STDOUT, (const guint8 *) "lo\n", 3);
  llmsbx_output_collector_append (collector, LLMSBX_OUTPUT_STREAM_STDOUT, NULL, 0);

  g_assert_cmpuint (llmsbx_output_collector_get_limit (collector), ==, 0);
  g_assert_cmpuint (llmsbx_output_collector_get_length (collector, LLMSBX_OUTPUT_STREAM_STDOUT), ==, 6);
  g_assert_cmpuint (llmsbx_output_collector_get_length (collector, LLMSBX_OUTPUT_STREAM_STDERR), ==, 5);
  g_assert_false (llmsbx_output_collector_get_truncated (collector));

  out = llmsbx_output_collector_steal_bytes (collector, LLMSBX_OUTPUT_STREAM_STDOUT);
  err = llmsbx_output_collector_steal_bytes (collector, LLMSBX_OUTPUT_STREAM_STDERR);
  assert_bytes (out, "hello\n", 6);
  assert_bytes (err, "oops\0", 5);

  /* Stealing empties the stream but never returns NULL. */
  again = llmsbx_output_collector_steal_bytes (collector, LLMSBX_OUTPUT_STREAM_STDOUT);
  g_assert_nonnull (again);
  g_assert_cmpuint (g_bytes_get_size (again), ==, 0);
  g_assert_cmpuint (llmsbx_output_collector_get_length (collector, LLMSBX_OUTPUT_STREAM_STDOUT), ==, 0);
}

static void
test_collector_limit (void)
{
  g_autoptr(LlmsbxOutputCollector) collector = llmsbx_output_collector_new (10);
  g_autoptr(GBytes) out = NULL;
  g_autoptr(GBytes) err = NULL;
  g_autoptr(GBytes) refilled = NULL;
  Seen seen = { 0, };

  llmsbx_output_collector_set_func (collector, count_output, &seen, NULL);
  llmsbx_output_collector_append (collector, LLMSBX_OUTPUT_STREAM_STDOUT, (const guint8 *) "abcdef", 6);
  g_assert_false (llmsbx_output_collector_get_truncated (collector));
  llmsbx_output_collector_append (collector, LLMSBX_OUTPUT_STREAM_STDOUT, (const guint8 *) "ghijkl", 6);
  g_assert_true (llmsbx_output_collector_get_truncated (collector));
  llmsbx_output_collector_append (collector, LLMSBX_OUTPUT_STREAM_STDOUT, (const guint8 *) "mno", 3);
  /* Each stream has its own budget. */
  llmsbx_output_collector_append (collector, LLMSBX_OUTPUT_STREAM_STDERR, (const guint8 *) "0123456789", 10);

  /* Every byte reached the live function, kept or not. */
  g_assert_cmpuint (seen.stdout_seen, ==, 15);
  g_assert_cmpuint (seen.stderr_seen, ==, 10);
  g_assert_cmpuint (seen.calls, ==, 4);

  out = llmsbx_output_collector_steal_bytes (collector, LLMSBX_OUTPUT_STREAM_STDOUT);
  err = llmsbx_output_collector_steal_bytes (collector, LLMSBX_OUTPUT_STREAM_STDERR);
  assert_bytes (out, "abcdefghij", 10);
  assert_bytes (err, "0123456789", 10);

  /* After a steal the stream keeps again up to the limit; the flag stays. */
  llmsbx_output_collector_append (collector, LLMSBX_OUTPUT_STREAM_STDOUT, (const guint8 *) "pq", 2);
  refilled = llmsbx_output_collector_steal_bytes (collector, LLMSBX_OUTPUT_STREAM_STDOUT);
  assert_bytes (refilled, "pq", 2);
  g_assert_true (llmsbx_output_collector_get_truncated (collector));
}

static void
test_collector_flood (void)
{
  const gsize limit = 1024 * 1024;
  const gsize chunk_size = 64 * 1024;
  const gsize total = 100 * 1024 * 1024;
  g_autoptr(LlmsbxOutputCollector) collector = llmsbx_output_collector_new (limit);
  g_autofree guint8 *chunk = g_malloc (chunk_size);
  g_autoptr(GBytes) out = NULL;
  const guint8 *kept;
  gsize kept_len;
  Seen seen = { 0, };

  llmsbx_output_collector_set_func (collector, count_output, &seen, NULL);
  for (gsize offset = 0; offset < total; offset += chunk_size)
    {
      /* Each chunk is filled with its own number, so the kept bytes show
       * which chunks were kept. */
      memset (chunk, (int) (offset / chunk_size) & 0xff, chunk_size);
      llmsbx_output_collector_append (collector, LLMSBX_OUTPUT_STREAM_STDOUT, chunk, chunk_size);
      g_assert_cmpuint (llmsbx_output_collector_get_length (collector, LLMSBX_OUTPUT_STREAM_STDOUT), <=, limit);
    }

  g_assert_cmpuint (seen.stdout_seen, ==, total);
  g_assert_cmpuint (seen.calls, ==, total / chunk_size);
  g_assert_true (llmsbx_output_collector_get_truncated (collector));

  out = llmsbx_output_collector_steal_bytes (collector, LLMSBX_OUTPUT_STREAM_STDOUT);
  kept = g_bytes_get_data (out, &kept_len);
  g_assert_cmpuint (kept_len, ==, limit);
  g_assert_cmpuint (kept[0], ==, 0);
  g_assert_cmpuint (kept[limit - 1], ==, limit / chunk_size - 1);
}

static void
read_length_in_callback (LlmsbxOutputStream stream,
                         const guint8      *data,
                         gsize              length,
                         gpointer           user_data)
{
  LlmsbxOutputCollector *collector = user_data;

  /* Would deadlock if the function were called with the lock held. */
  g_assert_cmpuint (llmsbx_output_collector_get_length (collector, stream), >=, length);
}

static void
test_collector_reentrant_func (void)
{
  g_autoptr(LlmsbxOutputCollector) collector = llmsbx_output_collector_new (0);

  llmsbx_output_collector_set_func (collector, read_length_in_callback, collector, NULL);
  llmsbx_output_collector_append (collector, LLMSBX_OUTPUT_STREAM_STDERR, (const guint8 *) "x", 1);
  g_assert_cmpuint (llmsbx_output_collector_get_length (collector, LLMSBX_OUTPUT_STREAM_STDERR), ==, 1);
}

static void
never_called (LlmsbxOutputStream stream,
              const guint8      *data,
              gsize              length,
              gpointer           user_data)
{
  g_assert_not_reached ();
}

static void
count_notify (gpointer data)
{
  (*(guint *) data)++;
}

static void
test_collector_func_notify (void)
{
  LlmsbxOutputCollector *collector = llmsbx_output_collector_new (0);
  guint first_notified = 0;
  guint second_notified = 0;
  Seen seen = { 0, };

  llmsbx_output_collector_set_func (collector, never_called, &first_notified, count_notify);
  g_assert_cmpuint (first_notified, ==, 0);
  llmsbx_output_collector_set_func (collector, NULL, &second_notified, count_notify);
  g_assert_cmpuint (first_notified, ==, 1);

  /* No function: output is only kept. */
  llmsbx_output_collector_append (collector, LLMSBX_OUTPUT_STREAM_STDOUT, (const guint8 *) "a", 1);
  g_assert_cmpuint (llmsbx_output_collector_get_length (collector, LLMSBX_OUTPUT_STREAM_STDOUT), ==, 1);

  llmsbx_output_collector_set_func (collector, count_output, &seen, NULL);
  g_assert_cmpuint (second_notified, ==, 1);
  llmsbx_output_collector_set_func (collector, NULL, &second_notified, count_notify);

  g_object_unref (collector);
  g_assert_cmpuint (first_notified, ==, 1);
  g_assert_cmpuint (second_notified, ==, 2);
}

#define N_THREADS 4
#define N_CHUNKS 2000

static void
count_output_atomic (LlmsbxOutputStream stream,
                     const guint8      *data,
                     gsize              length,
                     gpointer           user_data)
{
  g_atomic_int_add ((int *) user_data, (int) length);
}

static gpointer
append_from_thread (gpointer data)
{
  LlmsbxOutputCollector *collector = data;

  for (guint i = 0; i < N_CHUNKS; i++)
    {
      llmsbx_output_collector_append (collector, LLMSBX_OUTPUT_STREAM_STDOUT, (const guint8 *) "0123456789", 10);
      llmsbx_output_collector_append (collector, LLMSBX_OUTPUT_STREAM_STDERR, (const guint8 *) "abc", 3);
    }
  return NULL;
}

static void
test_collector_threads (void)
{
  g_autoptr(LlmsbxOutputCollector) collector = llmsbx_output_collector_new (0);
  g_autoptr(GBytes) out = NULL;
  GThread *threads[N_THREADS];
  int seen = 0;
  gsize len;
  const char *data;

  llmsbx_output_collector_set_func (collector, count_output_atomic, &seen, NULL);
  for (guint i = 0; i < N_THREADS; i++)
    threads[i] = g_thread_new ("append", append_from_thread, collector);
  for (guint i = 0; i < N_THREADS; i++)
    g_thread_join (threads[i]);

  g_assert_cmpint (seen, ==, N_THREADS * N_CHUNKS * 13);
  g_assert_cmpuint (llmsbx_output_collector_get_length (collector, LLMSBX_OUTPUT_STREAM_STDERR), ==,
                    N_THREADS * N_CHUNKS * 3);

  /* Chunks are appended whole: no interleaving inside a chunk. */
  out = llmsbx_output_collector_steal_bytes (collector, LLMSBX_OUTPUT_STREAM_STDOUT);
  data = g_bytes_get_data (out, &len);
  g_assert_cmpuint (len, ==, N_THREADS * N_CHUNKS * 10);
  for (gsize i = 0; i < len; i += 10)
    g_assert_cmpmem (data + i, 10, "0123456789", 10);
}

static void
test_collector_property (void)
{
  g_autoptr(LlmsbxOutputCollector) collector =
    g_object_new (LLMSBX_TYPE_OUTPUT_COLLECTOR, "limit", (guint64) 4096, NULL);
  GParamSpec *pspec = g_object_class_find_property (G_OBJECT_GET_CLASS (collector), "limit");
  guint64 limit = 0;

  g_object_get (collector, "limit", &limit, NULL);
  g_assert_cmpuint (limit, ==, 4096);
  g_assert_cmpuint (llmsbx_output_collector_get_limit (collector), ==, 4096);
  g_assert_true (pspec->flags & G_PARAM_CONSTRUCT_ONLY);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/output-collector/unlimited", test_collector_unlimited);
  g_test_add_func ("/output-collector/limit", test_collector_limit);
  g_test_add_func ("/output-collector/flood", test_collector_flood);
  g_test_add_func ("/output-collector/reentrant-func", test_collector_reentrant_func);
  g_test_add_func ("/output-collector/func-notify", test_collector_func_notify);
  g_test_add_func ("/output-collector/threads", test_collector_threads);
  g_test_add_func ("/output-collector/property", test_collector_property);

  return g_test_run ();
}
