/* llmsbx-output-collector.c: where a backend puts the output of an exec.
 *
 * Memory stays bounded whatever a sandboxed program prints: past the limit
 * chunks are only passed on to the live-output function, never stored. */
#include "config.h"

#include "llmsbx-output-collector.h"

/**
 * LlmsbxOutputCollector:
 *
 * Collects the standard output and standard error of one execution.
 *
 * A backend appends raw bytes with llmsbx_output_collector_append() as they
 * arrive, possibly from a worker thread. The collector keeps at most
 * #LlmsbxOutputCollector:limit bytes per stream, sets a truncated flag when
 * it had to drop bytes, and passes every chunk, kept or not, to the function
 * set with llmsbx_output_collector_set_func().
 *
 * Since: 0.1
 */

struct _LlmsbxOutputCollector
{
  GObject parent_instance;

  gsize limit;

  GMutex mutex;  /* guards the fields below */
  GByteArray *stdout_buf;
  GByteArray *stderr_buf;
  gboolean truncated;
  LlmsbxOutputFunc func;
  gpointer func_data;
  GDestroyNotify func_notify;
};

G_DEFINE_FINAL_TYPE (LlmsbxOutputCollector, llmsbx_output_collector, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_LIMIT,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static GByteArray **
stream_buffer (LlmsbxOutputCollector *self,
               LlmsbxOutputStream     stream)
{
  return stream == LLMSBX_OUTPUT_STREAM_STDERR ? &self->stderr_buf : &self->stdout_buf;
}

static void
llmsbx_output_collector_finalize (GObject *object)
{
  LlmsbxOutputCollector *self = LLMSBX_OUTPUT_COLLECTOR (object);

  if (self->func_notify != NULL)
    self->func_notify (self->func_data);
  g_byte_array_unref (self->stdout_buf);
  g_byte_array_unref (self->stderr_buf);
  g_mutex_clear (&self->mutex);

  G_OBJECT_CLASS (llmsbx_output_collector_parent_class)->finalize (object);
}

static void
llmsbx_output_collector_get_property (GObject    *object,
                                      guint       prop_id,
                                      GValue     *value,
                                      GParamSpec *pspec)
{
  LlmsbxOutputCollector *self = LLMSBX_OUTPUT_COLLECTOR (object);

  switch (prop_id)
    {
    case PROP_LIMIT:
      g_value_set_uint64 (value, self->limit);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
llmsbx_output_collector_set_property (GObject      *object,
                                      guint         prop_id,
                                      const GValue *value,
                                      GParamSpec   *pspec)
{
  LlmsbxOutputCollector *self = LLMSBX_OUTPUT_COLLECTOR (object);

  switch (prop_id)
    {
    case PROP_LIMIT:
      self->limit = (gsize) MIN (g_value_get_uint64 (value), G_MAXSIZE);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
llmsbx_output_collector_class_init (LlmsbxOutputCollectorClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = llmsbx_output_collector_finalize;
  object_class->get_property = llmsbx_output_collector_get_property;
  object_class->set_property = llmsbx_output_collector_set_property;

  /**
   * LlmsbxOutputCollector:limit:
   *
   * The most bytes kept per stream; 0 keeps everything.
   *
   * Since: 0.1
   */
  properties[PROP_LIMIT] =
    g_param_spec_uint64 ("limit", NULL, NULL,
                         0, G_MAXUINT64, 0,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
llmsbx_output_collector_init (LlmsbxOutputCollector *self)
{
  g_mutex_init (&self->mutex);
  self->stdout_buf = g_byte_array_new ();
  self->stderr_buf = g_byte_array_new ();
}

/**
 * llmsbx_output_collector_new:
 * @limit: the most bytes kept per stream; 0 keeps everything
 *
 * Creates an empty collector.
 *
 * Returns: (transfer full): a new #LlmsbxOutputCollector
 *
 * Since: 0.1
 */
LlmsbxOutputCollector *
llmsbx_output_collector_new (gsize limit)
{
  return g_object_new (LLMSBX_TYPE_OUTPUT_COLLECTOR, "limit", (guint64) limit, NULL);
}

/**
 * llmsbx_output_collector_set_func:
 * @self: a #LlmsbxOutputCollector
 * @func: (nullable) (scope notified) (closure user_data) (destroy notify): a function
 *   called with every appended chunk, or %NULL
 * @user_data: data for @func
 * @notify: (nullable): frees @user_data when the function is replaced or the
 *   collector is finalized
 *
 * Sets the function that receives output as it arrives. @func runs in the
 * thread that appends. Set it before handing the collector to a backend: a
 * function being replaced must not be running in another thread.
 *
 * Since: 0.1
 */
void
llmsbx_output_collector_set_func (LlmsbxOutputCollector *self,
                                  LlmsbxOutputFunc       func,
                                  gpointer               user_data,
                                  GDestroyNotify         notify)
{
  GDestroyNotify old_notify;
  gpointer old_data;

  g_return_if_fail (LLMSBX_IS_OUTPUT_COLLECTOR (self));

  g_mutex_lock (&self->mutex);
  old_notify = self->func_notify;
  old_data = self->func_data;
  self->func = func;
  self->func_data = user_data;
  self->func_notify = notify;
  g_mutex_unlock (&self->mutex);

  if (old_notify != NULL)
    old_notify (old_data);
}

/**
 * llmsbx_output_collector_append:
 * @self: a #LlmsbxOutputCollector
 * @stream: the stream @data came from
 * @data: (array length=length) (element-type guint8): the bytes
 * @length: the number of bytes in @data
 *
 * Appends a chunk of output. Bytes beyond the limit of @stream are dropped
 * and mark the collector truncated; the whole chunk is always passed to the
 * live-output function. Safe to call from any thread.
 *
 * Since: 0.1
 */
void
llmsbx_output_collector_append (LlmsbxOutputCollector *self,
                                LlmsbxOutputStream     stream,
                                const guint8          *data,
                                gsize                  length)
{
  LlmsbxOutputFunc func;
  gpointer func_data;
  GByteArray *buf;
  gsize capacity;
  gsize keep;

  g_return_if_fail (LLMSBX_IS_OUTPUT_COLLECTOR (self));
  g_return_if_fail (stream == LLMSBX_OUTPUT_STREAM_STDOUT || stream == LLMSBX_OUTPUT_STREAM_STDERR);
  g_return_if_fail (data != NULL || length == 0);

  if (length == 0)
    return;

  g_mutex_lock (&self->mutex);
  buf = *stream_buffer (self, stream);
  /* A GByteArray cannot hold more than G_MAXUINT bytes, limit or not. */
  capacity = self->limit > 0 ? MIN (self->limit, G_MAXUINT) : G_MAXUINT;
  keep = MIN (length, capacity - buf->len);
  if (keep < length)
    self->truncated = TRUE;
  if (keep > 0)
    g_byte_array_append (buf, data, keep);
  func = self->func;
  func_data = self->func_data;
  g_mutex_unlock (&self->mutex);

  /* Called unlocked, so the function may read the collector. */
  if (func != NULL)
    func (stream, data, length, func_data);
}

/**
 * llmsbx_output_collector_steal_bytes:
 * @self: a #LlmsbxOutputCollector
 * @stream: a stream
 *
 * Takes the bytes kept for @stream and empties it; later output to @stream
 * is kept again up to the limit. The truncated flag is not reset.
 *
 * Returns: (transfer full): the kept bytes, possibly empty
 *
 * Since: 0.1
 */
GBytes *
llmsbx_output_collector_steal_bytes (LlmsbxOutputCollector *self,
                                     LlmsbxOutputStream     stream)
{
  GByteArray **slot;
  GByteArray *buf;

  g_return_val_if_fail (LLMSBX_IS_OUTPUT_COLLECTOR (self), NULL);

  g_mutex_lock (&self->mutex);
  slot = stream_buffer (self, stream);
  buf = *slot;
  *slot = g_byte_array_new ();
  g_mutex_unlock (&self->mutex);

  return g_byte_array_free_to_bytes (buf);
}

/**
 * llmsbx_output_collector_get_length:
 * @self: a #LlmsbxOutputCollector
 * @stream: a stream
 *
 * Returns: the number of bytes currently kept for @stream
 *
 * Since: 0.1
 */
gsize
llmsbx_output_collector_get_length (LlmsbxOutputCollector *self,
                                    LlmsbxOutputStream     stream)
{
  gsize length;

  g_return_val_if_fail (LLMSBX_IS_OUTPUT_COLLECTOR (self), 0);

  g_mutex_lock (&self->mutex);
  length = (*stream_buffer (self, stream))->len;
  g_mutex_unlock (&self->mutex);

  return length;
}

/**
 * llmsbx_output_collector_get_truncated:
 * @self: a #LlmsbxOutputCollector
 *
 * Returns: %TRUE if bytes of either stream were dropped because of the limit
 *
 * Since: 0.1
 */
gboolean
llmsbx_output_collector_get_truncated (LlmsbxOutputCollector *self)
{
  gboolean truncated;

  g_return_val_if_fail (LLMSBX_IS_OUTPUT_COLLECTOR (self), FALSE);

  g_mutex_lock (&self->mutex);
  truncated = self->truncated;
  g_mutex_unlock (&self->mutex);

  return truncated;
}

/**
 * llmsbx_output_collector_get_limit:
 * @self: a #LlmsbxOutputCollector
 *
 * Returns: the most bytes kept per stream; 0 means no limit
 *
 * Since: 0.1
 */
gsize
llmsbx_output_collector_get_limit (LlmsbxOutputCollector *self)
{
  g_return_val_if_fail (LLMSBX_IS_OUTPUT_COLLECTOR (self), 0);

  return self->limit;
}
