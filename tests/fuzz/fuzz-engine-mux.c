/* fuzz-engine-mux.c: a libFuzzer target for the Engine API's exec stream
 * demultiplexer (plugins/engine/llmsbx-engine-mux.c), which reads bytes the
 * engine (or whatever answers on its socket) sends.
 *
 * The first byte picks the mode and a seed for where the stream is split
 * into pieces; the rest is the stream. Besides ASan's checks, each run
 * compares the parser with a plain reading of the whole stream at once:
 * however the bytes are split, the same output reaches the same streams,
 * and the stream fails, or ends inside a frame, exactly when it should. */
#include <string.h>

#include <llmsbx-engine-mux.h>

#define MAX_FUZZ_INPUT (256 * 1024)

int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

typedef struct {
  GByteArray *out;
  GByteArray *err;
} Output;

static void
collect (LlmsbxOutputStream  stream,
         const guint8       *data,
         gsize               length,
         gpointer            user_data)
{
  Output *output = user_data;

  g_assert (length > 0);
  g_byte_array_append (stream == LLMSBX_OUTPUT_STREAM_STDERR ? output->err : output->out, data, length);
}

typedef enum {
  END_CLEAN,        /* the stream ended between frames */
  END_INSIDE,       /* it ended inside a frame header or payload */
  END_MALFORMED,    /* a frame header is not one */
  END_SYSTEM_ERROR, /* the engine reported an error (stream 3) */
} Ending;

/* Reads the whole stream the simple way. */
static Ending
reference (const guint8 *data,
           gsize         size,
           Output       *expected)
{
  gsize i = 0;

  while (i < size)
    {
      guint32 length;
      guint8 stream;

      if (size - i < 8)
        return END_INSIDE;
      stream = data[i];
      if (stream > 3 || data[i + 1] != 0 || data[i + 2] != 0 || data[i + 3] != 0)
        return END_MALFORMED;
      length = ((guint32) data[i + 4] << 24) | ((guint32) data[i + 5] << 16) |
               ((guint32) data[i + 6] << 8) | data[i + 7];
      i += 8;
      if (stream == 3)
        return size - i < length ? END_INSIDE : END_SYSTEM_ERROR;
      g_byte_array_append (stream == 2 ? expected->err : expected->out, data + i, MIN (length, size - i));
      if (size - i < length)
        return END_INSIDE;
      i += length;
    }
  return END_CLEAN;
}

static void
assert_same (GByteArray *got,
             GByteArray *want)
{
  g_assert (got->len == want->len);
  g_assert (got->len == 0 || memcmp (got->data, want->data, got->len) == 0);
}

int
LLVMFuzzerTestOneInput (const guint8 *data,
                        size_t        size)
{
  Output got = { g_byte_array_new (), g_byte_array_new () };
  Output want = { g_byte_array_new (), g_byte_array_new () };
  g_autoptr(LlmsbxEngineMux) mux = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GRand) rand = NULL;
  gboolean raw, ok = TRUE;
  Ending ending;
  gsize i;

  if (size == 0 || size > MAX_FUZZ_INPUT)
    goto out;

  raw = (data[0] & 0x80) != 0;
  rand = g_rand_new_with_seed (data[0]);
  data++;
  size--;

  mux = llmsbx_engine_mux_new (raw ? LLMSBX_ENGINE_MUX_RAW : LLMSBX_ENGINE_MUX_MULTIPLEXED, collect, &got);
  for (i = 0; i < size && ok; )
    {
      /* Pieces of 1 to 16 bytes mostly, now and then a large one. */
      gsize piece = g_rand_boolean (rand) ? (gsize) g_rand_int_range (rand, 1, 17)
                                          : (gsize) g_rand_int_range (rand, 1, 70000);

      piece = MIN (piece, size - i);
      ok = llmsbx_engine_mux_feed (mux, data + i, piece, &error);
      i += piece;
    }
  if (ok)
    ok = llmsbx_engine_mux_finish (mux, &error);

  if (raw)
    {
      g_assert (ok && error == NULL);
      g_assert (got.out->len == size && got.err->len == 0);
      g_assert (size == 0 || memcmp (got.out->data, data, size) == 0);
      goto out;
    }

  ending = reference (data, size, &want);
  switch (ending)
    {
    case END_CLEAN:
      g_assert (ok && error == NULL);
      break;
    case END_INSIDE:
    case END_MALFORMED:
      g_assert (!ok && g_error_matches (error, LLMSBX_ERROR, LLMSBX_ERROR_PROTOCOL));
      break;
    case END_SYSTEM_ERROR:
      g_assert (!ok && g_error_matches (error, LLMSBX_ERROR, LLMSBX_ERROR_CONTAINER_FAILED));
      g_assert (g_utf8_validate (error->message, -1, NULL));
      break;
    }
  /* Output before the point of failure was delivered, and nothing else. */
  assert_same (got.out, want.out);
  assert_same (got.err, want.err);

  /* After a failure every call fails the same way. */
  if (!ok)
    {
      g_autoptr(GError) again = NULL;

      g_assert (!llmsbx_engine_mux_feed (mux, (const guint8 *) "x", 1, &again));
      g_assert (g_error_matches (again, error->domain, error->code));
    }

out:
  g_byte_array_unref (got.out);
  g_byte_array_unref (got.err);
  g_byte_array_unref (want.out);
  g_byte_array_unref (want.err);
  return 0;
}
