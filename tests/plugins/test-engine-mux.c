/* test-engine-mux.c: the exec-stream parser, fed every way the bytes can be split. */
#include <llmsbx-engine-mux.h>
#include <string.h>

typedef struct {
  guint8      stream;     /* as on the wire: 0, 1, 2 */
  const char *payload;
  gsize       length;
} Frame;

#define F(s, text) { s, text, sizeof (text) - 1 }

/* The frames Docker sent for `echo out1; echo err1 >&2; printf abc; exit 7`. */
static const Frame docker_example[] = { F (1, "out1\nabc"), F (2, "err1\n") };
static const Frame with_empty[] = { F (1, ""), F (2, "e"), F (1, ""), F (1, ""), F (1, "o"), F (2, "") };
static const Frame binary[] = { F (1, "\0\1\2\0\377\0"), F (2, "\x01\x00\x00\x00\x00\x00\x00\x05"), F (1, "\n") };
static const Frame stdin_stream[] = { F (0, "zero"), F (2, "two"), F (1, "one") };
static const Frame alternating[] = {
  F (1, "a"), F (2, "b"), F (1, "cc"), F (2, "dd"), F (1, "eee"), F (2, "fff"),
  F (1, "gggg"), F (1, "hhhh"), F (2, "iiii"), F (2, "jjjj"),
};

typedef struct {
  const Frame *frames;
  gsize        n_frames;
} Vector;

static const Vector vectors[] = {
  { docker_example, G_N_ELEMENTS (docker_example) },
  { with_empty, G_N_ELEMENTS (with_empty) },
  { binary, G_N_ELEMENTS (binary) },
  { stdin_stream, G_N_ELEMENTS (stdin_stream) },
  { alternating, G_N_ELEMENTS (alternating) },
};

/* What the parser delivered: consecutive pieces of one stream are merged, so
 * a transcript does not depend on how the input was split. */
typedef struct {
  GPtrArray *segments;   /* of GByteArray, first byte = stream */
  gsize      delivered;
  gboolean   saw_empty_piece;
} Transcript;

static void
transcript_init (Transcript *t)
{
  t->segments = g_ptr_array_new_with_free_func ((GDestroyNotify) g_byte_array_unref);
  t->delivered = 0;
  t->saw_empty_piece = FALSE;
}

static void
transcript_clear (Transcript *t)
{
  g_ptr_array_unref (t->segments);
}

static void
transcript_add (Transcript   *t,
                guint8        stream,
                const guint8 *data,
                gsize         length)
{
  GByteArray *last = t->segments->len ? g_ptr_array_index (t->segments, t->segments->len - 1) : NULL;

  if (length == 0)
    return;
  if (last == NULL || last->data[0] != stream)
    {
      last = g_byte_array_new ();
      g_byte_array_append (last, &stream, 1);
      g_ptr_array_add (t->segments, last);
    }
  g_byte_array_append (last, data, length);
}

static void
on_output (LlmsbxOutputStream stream,
           const guint8      *data,
           gsize              length,
           gpointer           user_data)
{
  Transcript *t = user_data;

  g_assert_true (stream == LLMSBX_OUTPUT_STREAM_STDOUT || stream == LLMSBX_OUTPUT_STREAM_STDERR);
  if (length == 0)
    t->saw_empty_piece = TRUE;
  t->delivered += length;
  transcript_add (t, (guint8) stream, data, length);
}

static GByteArray *
encode (const Vector *v)
{
  GByteArray *wire = g_byte_array_new ();

  for (gsize i = 0; i < v->n_frames; i++)
    {
      const Frame *f = &v->frames[i];
      guint8 header[8] = { f->stream, 0, 0, 0,
                           (f->length >> 24) & 0xff, (f->length >> 16) & 0xff,
                           (f->length >> 8) & 0xff, f->length & 0xff };

      g_byte_array_append (wire, header, sizeof header);
      g_byte_array_append (wire, (const guint8 *) f->payload, f->length);
    }
  return wire;
}

static void
expected_transcript (const Vector *v,
                     Transcript   *t)
{
  transcript_init (t);
  for (gsize i = 0; i < v->n_frames; i++)
    {
      const Frame *f = &v->frames[i];
      /* stdin frames are output on stdout, as the engine's own client does. */
      guint8 stream = f->stream == 2 ? LLMSBX_OUTPUT_STREAM_STDERR : LLMSBX_OUTPUT_STREAM_STDOUT;

      transcript_add (t, stream, (const guint8 *) f->payload, f->length);
      t->delivered += f->length;
    }
}

static void
assert_transcripts_equal (Transcript *got,
                          Transcript *want)
{
  g_assert_false (got->saw_empty_piece);
  g_assert_cmpuint (got->delivered, ==, want->delivered);
  g_assert_cmpuint (got->segments->len, ==, want->segments->len);
  for (guint i = 0; i < got->segments->len; i++)
    {
      GByteArray *a = g_ptr_array_index (got->segments, i);
      GByteArray *b = g_ptr_array_index (want->segments, i);
      g_assert_cmpmem (a->data, a->len, b->data, b->len);
    }
}

/* Feeds @wire in pieces that end at the offsets in @cuts (ascending). */
static void
run_split (const Vector *v,
           GByteArray   *wire,
           const gsize  *cuts,
           gsize         n_cuts)
{
  g_autoptr(GError) error = NULL;
  Transcript got, want;
  LlmsbxEngineMux *mux;
  gsize start = 0;

  transcript_init (&got);
  expected_transcript (v, &want);
  mux = llmsbx_engine_mux_new (LLMSBX_ENGINE_MUX_MULTIPLEXED, on_output, &got);

  for (gsize i = 0; i <= n_cuts; i++)
    {
      gsize end = i < n_cuts ? cuts[i] : wire->len;

      g_assert_true (llmsbx_engine_mux_feed (mux, wire->data + start, end - start, &error));
      g_assert_no_error (error);
      start = end;
    }
  g_assert_true (llmsbx_engine_mux_finish (mux, &error));
  g_assert_no_error (error);
  assert_transcripts_equal (&got, &want);

  llmsbx_engine_mux_free (mux);
  transcript_clear (&got);
  transcript_clear (&want);
}

static void
test_whole (void)
{
  for (gsize i = 0; i < G_N_ELEMENTS (vectors); i++)
    {
      g_autoptr(GByteArray) wire = encode (&vectors[i]);
      run_split (&vectors[i], wire, NULL, 0);
    }
}

static void
test_byte_by_byte (void)
{
  for (gsize i = 0; i < G_N_ELEMENTS (vectors); i++)
    {
      g_autoptr(GByteArray) wire = encode (&vectors[i]);
      g_autofree gsize *cuts = g_new (gsize, wire->len);

      for (gsize c = 1; c < wire->len; c++)
        cuts[c - 1] = c;
      run_split (&vectors[i], wire, cuts, wire->len - 1);
    }
}

static void
test_two_way_splits (void)
{
  for (gsize i = 0; i < G_N_ELEMENTS (vectors); i++)
    {
      g_autoptr(GByteArray) wire = encode (&vectors[i]);

      for (gsize c = 0; c <= wire->len; c++)
        run_split (&vectors[i], wire, &c, 1);
    }
}

static void
test_three_way_splits (void)
{
  for (gsize i = 0; i < G_N_ELEMENTS (vectors); i++)
    {
      g_autoptr(GByteArray) wire = encode (&vectors[i]);

      for (gsize a = 0; a <= wire->len; a++)
        for (gsize b = a; b <= wire->len; b++)
          {
            gsize cuts[2] = { a, b };
            run_split (&vectors[i], wire, cuts, 2);
          }
    }
}

static void
test_random_splits (void)
{
  for (gsize i = 0; i < G_N_ELEMENTS (vectors); i++)
    {
      g_autoptr(GByteArray) wire = encode (&vectors[i]);

      for (int round = 0; round < 500; round++)
        {
          g_autofree gsize *cuts = g_new (gsize, wire->len + 1);
          gsize n = 0, pos = 0;

          for (;;)
            {
              pos += g_test_rand_int_range (0, 12);
              if (pos >= wire->len)
                break;
              cuts[n++] = pos;
            }
          run_split (&vectors[i], wire, cuts, n);
        }
    }
}

/* All vectors back to back in one stream, as several execs' worth of frames. */
static void
test_merged (void)
{
  GArray *frames = g_array_new (FALSE, FALSE, sizeof (Frame));
  g_autoptr(GByteArray) wire = NULL;
  Vector merged;

  for (gsize i = 0; i < G_N_ELEMENTS (vectors); i++)
    g_array_append_vals (frames, vectors[i].frames, vectors[i].n_frames);
  merged.frames = (const Frame *) frames->data;
  merged.n_frames = frames->len;
  wire = encode (&merged);

  run_split (&merged, wire, NULL, 0);
  for (gsize c = 0; c <= wire->len; c++)
    run_split (&merged, wire, &c, 1);

  g_array_unref (frames);
}

/* A large frame is handed on as its bytes arrive, never held back. */
static void
test_streams_without_buffering (void)
{
  static const guint8 header[8] = { 2, 0, 0, 0, 0, 0x10, 0, 0 };  /* stderr, 1 MiB */
  g_autoptr(GError) error = NULL;
  g_autofree guint8 *chunk = g_malloc (4096);
  Transcript got;
  LlmsbxEngineMux *mux;
  gsize fed = 0;

  memset (chunk, 'x', 4096);
  transcript_init (&got);
  mux = llmsbx_engine_mux_new (LLMSBX_ENGINE_MUX_MULTIPLEXED, on_output, &got);
  g_assert_true (llmsbx_engine_mux_feed (mux, header, sizeof header, &error));
  while (fed < 0x100000)
    {
      g_assert_true (llmsbx_engine_mux_feed (mux, chunk, 4096, &error));
      g_assert_no_error (error);
      fed += 4096;
      g_assert_cmpuint (got.delivered, ==, fed);
    }
  g_assert_true (llmsbx_engine_mux_finish (mux, &error));
  g_assert_cmpuint (got.segments->len, ==, 1);

  llmsbx_engine_mux_free (mux);
  transcript_clear (&got);
}

/* A frame announcing 4 GiB - 1: the parser must neither allocate it nor wait
 * for it before delivering, and an early end is an error. */
static void
test_huge_declared_size (void)
{
  static const guint8 header[8] = { 1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff };
  g_autoptr(GError) error = NULL;
  Transcript got;
  LlmsbxEngineMux *mux;

  transcript_init (&got);
  mux = llmsbx_engine_mux_new (LLMSBX_ENGINE_MUX_MULTIPLEXED, on_output, &got);
  g_assert_true (llmsbx_engine_mux_feed (mux, header, sizeof header, &error));
  g_assert_true (llmsbx_engine_mux_feed (mux, (const guint8 *) "partial", 7, &error));
  g_assert_cmpuint (got.delivered, ==, 7);

  g_assert_false (llmsbx_engine_mux_finish (mux, &error));
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_PROTOCOL);
  g_assert_nonnull (strstr (error->message, "4294967288 bytes before the end"));

  llmsbx_engine_mux_free (mux);
  transcript_clear (&got);
}

static void
assert_protocol_error (const guint8 *wire,
                       gsize         length,
                       gsize         expected_delivered)
{
  /* Whole and byte by byte, the error is the same and nothing after it is delivered. */
  for (int bytewise = 0; bytewise <= 1; bytewise++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GError) again = NULL;
      Transcript got;
      LlmsbxEngineMux *mux;
      gboolean ok = TRUE;

      transcript_init (&got);
      mux = llmsbx_engine_mux_new (LLMSBX_ENGINE_MUX_MULTIPLEXED, on_output, &got);
      if (bytewise)
        for (gsize i = 0; i < length && ok; i++)
          ok = llmsbx_engine_mux_feed (mux, wire + i, 1, &error);
      else
        ok = llmsbx_engine_mux_feed (mux, wire, length, &error);

      g_assert_false (ok);
      g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_PROTOCOL);
      g_assert_cmpuint (got.delivered, ==, expected_delivered);

      /* The parser stays stopped. */
      g_assert_false (llmsbx_engine_mux_feed (mux, (const guint8 *) "\1\0\0\0\0\0\0\1x", 9, &again));
      g_assert_error (again, LLMSBX_ERROR, LLMSBX_ERROR_PROTOCOL);
      g_clear_error (&again);
      g_assert_false (llmsbx_engine_mux_finish (mux, &again));
      g_assert_error (again, LLMSBX_ERROR, LLMSBX_ERROR_PROTOCOL);
      g_assert_cmpuint (got.delivered, ==, expected_delivered);

      llmsbx_engine_mux_free (mux);
      transcript_clear (&got);
    }
}

static void
test_unknown_stream (void)
{
  static const guint8 wire[] = { 1, 0, 0, 0, 0, 0, 0, 2, 'o', 'k', 4, 0, 0, 0, 0, 0, 0, 1, 'x' };
  assert_protocol_error (wire, sizeof wire, 2);
}

static void
test_nonzero_padding (void)
{
  static const guint8 pad1[] = { 1, 1, 0, 0, 0, 0, 0, 1, 'x' };
  static const guint8 pad3[] = { 2, 0, 0, 0, 0, 0, 0, 1, 'y', 2, 0, 0, 9, 0, 0, 0, 1, 'x' };
  /* Plain text where a header should be: what a TTY exec or an HTML error page looks like. */
  static const char text[] = "HTTP/1.1 500 Internal Server Error";

  assert_protocol_error (pad1, sizeof pad1, 0);
  assert_protocol_error (pad3, sizeof pad3, 1);
  assert_protocol_error ((const guint8 *) text, sizeof text - 1, 0);
}

static void
test_truncated_header (void)
{
  static const guint8 wire[] = { 1, 0, 0, 0, 0, 0, 0, 1, 'a', 1, 0, 0 };
  g_autoptr(GError) error = NULL;
  Transcript got;
  LlmsbxEngineMux *mux;

  transcript_init (&got);
  mux = llmsbx_engine_mux_new (LLMSBX_ENGINE_MUX_MULTIPLEXED, on_output, &got);
  g_assert_true (llmsbx_engine_mux_feed (mux, wire, sizeof wire, &error));
  g_assert_false (llmsbx_engine_mux_finish (mux, &error));
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_PROTOCOL);
  g_assert_nonnull (strstr (error->message, "frame header"));
  g_assert_cmpuint (got.delivered, ==, 1);

  llmsbx_engine_mux_free (mux);
  transcript_clear (&got);
}

/* Stream 3 carries the daemon's own error; it becomes the error's message. */
static void
test_system_error_stream (void)
{
  static const guint8 wire[] = { 1, 0, 0, 0, 0, 0, 0, 2, 'h', 'i',
                                 3, 0, 0, 0, 0, 0, 0, 5, 'b', 'o', 'o', 'm', '\n' };
  g_autoptr(GError) error = NULL;
  Transcript got;
  LlmsbxEngineMux *mux;
  gboolean ok = TRUE;

  transcript_init (&got);
  mux = llmsbx_engine_mux_new (LLMSBX_ENGINE_MUX_MULTIPLEXED, on_output, &got);
  for (gsize i = 0; i < sizeof wire && ok; i++)
    ok = llmsbx_engine_mux_feed (mux, wire + i, 1, &error);
  g_assert_false (ok);
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_CONTAINER_FAILED);
  g_assert_nonnull (strstr (error->message, ": boom"));
  g_assert_cmpuint (got.delivered, ==, 2);

  llmsbx_engine_mux_free (mux);
  transcript_clear (&got);
}

static void
test_raw (void)
{
  /* Bytes that would be a malformed header pass through untouched. */
  static const guint8 wire[] = { 'o', 'u', 't', '\r', '\n', 9, 9, 9, 0, 0xff };
  g_autoptr(GError) error = NULL;
  Transcript got;
  LlmsbxEngineMux *mux;
  GByteArray *segment;

  transcript_init (&got);
  mux = llmsbx_engine_mux_new (LLMSBX_ENGINE_MUX_RAW, on_output, &got);
  for (gsize i = 0; i < sizeof wire; i++)
    {
      g_assert_true (llmsbx_engine_mux_feed (mux, wire + i, 1, &error));
      g_assert_cmpuint (got.delivered, ==, i + 1);
    }
  g_assert_true (llmsbx_engine_mux_feed (mux, wire, 0, &error));
  g_assert_true (llmsbx_engine_mux_finish (mux, &error));
  g_assert_no_error (error);
  g_assert_false (got.saw_empty_piece);

  g_assert_cmpuint (got.segments->len, ==, 1);
  segment = g_ptr_array_index (got.segments, 0);
  g_assert_cmpint (segment->data[0], ==, LLMSBX_OUTPUT_STREAM_STDOUT);
  g_assert_cmpmem (segment->data + 1, segment->len - 1, wire, sizeof wire);

  llmsbx_engine_mux_free (mux);
  transcript_clear (&got);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/engine/mux/whole", test_whole);
  g_test_add_func ("/engine/mux/byte-by-byte", test_byte_by_byte);
  g_test_add_func ("/engine/mux/two-way-splits", test_two_way_splits);
  g_test_add_func ("/engine/mux/three-way-splits", test_three_way_splits);
  g_test_add_func ("/engine/mux/random-splits", test_random_splits);
  g_test_add_func ("/engine/mux/merged", test_merged);
  g_test_add_func ("/engine/mux/no-buffering", test_streams_without_buffering);
  g_test_add_func ("/engine/mux/huge-declared-size", test_huge_declared_size);
  g_test_add_func ("/engine/mux/unknown-stream", test_unknown_stream);
  g_test_add_func ("/engine/mux/nonzero-padding", test_nonzero_padding);
  g_test_add_func ("/engine/mux/truncated-header", test_truncated_header);
  g_test_add_func ("/engine/mux/system-error-stream", test_system_error_stream);
  g_test_add_func ("/engine/mux/raw", test_raw);

  return g_test_run ();
}
