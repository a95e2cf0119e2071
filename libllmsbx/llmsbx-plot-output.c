/* llmsbx-plot-output.c: a plot that a run's code made.
 *
 * The content comes from a sandbox, so reading its size is bounded parsing
 * of hostile bytes: PNG's IHDR and pHYs chunks, JPEG's frame header and JFIF
 * density, nothing else; anything unexpected leaves the size unknown. */
#include "config.h"

#include <string.h>

#include "llmsbx-enum-types.h"
#include "llmsbx-plot-output.h"

/**
 * LlmsbxPlotOutput:
 *
 * A plot captured from a run of an #LlmsbxArtifactSandboxSession, in the
 * order the code made it: its format, its bytes exactly as the plotting
 * library wrote them (#LlmsbxPlotOutput:content, or base64 text with
 * llmsbx_plot_output_get_content_base64()), and its size in pixels and
 * resolution where the file says (PNG and JPEG; 0 otherwise).
 *
 * Since: 0.1
 */

struct _LlmsbxPlotOutput
{
  GObject parent_instance;

  LlmsbxPlotFormat format;
  GBytes *content;
  char *filename;
  int width;
  int height;
  double dpi;
};

G_DEFINE_FINAL_TYPE (LlmsbxPlotOutput, llmsbx_plot_output, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_FORMAT,
  PROP_CONTENT,
  PROP_CONTENT_BASE64,
  PROP_FILENAME,
  PROP_WIDTH,
  PROP_HEIGHT,
  PROP_DPI,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static guint32
read_be32 (const guint8 *p)
{
  return ((guint32) p[0] << 24) | ((guint32) p[1] << 16) | ((guint32) p[2] << 8) | p[3];
}

static guint16
read_be16 (const guint8 *p)
{
  return (guint16) ((p[0] << 8) | p[1]);
}

static double
round_dpi (double dpi)
{
  return (gint64) (dpi * 100.0 + 0.5) / 100.0;
}

/* IHDR is the first chunk; pHYs, when there is one, comes before IDAT. */
static void
read_png_size (LlmsbxPlotOutput *self,
               const guint8     *data,
               gsize             size)
{
  static const guint8 signature[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
  gsize offset = 8;

  if (size < 33 || memcmp (data, signature, 8) != 0 || memcmp (data + 12, "IHDR", 4) != 0)
    return;
  if (read_be32 (data + 16) > G_MAXINT || read_be32 (data + 20) > G_MAXINT)
    return;
  self->width = read_be32 (data + 16);
  self->height = read_be32 (data + 20);

  while (offset + 8 <= size)
    {
      guint32 length = read_be32 (data + offset);
      const guint8 *type = data + offset + 4;

      if (length > size - offset - 8)
        return;
      if (memcmp (type, "IDAT", 4) == 0 || memcmp (type, "IEND", 4) == 0)
        return;
      if (memcmp (type, "pHYs", 4) == 0 && length == 9 && data[offset + 16] == 1)
        {
          self->dpi = round_dpi (read_be32 (data + offset + 8) * 0.0254);
          return;
        }
      if (length > size - offset - 12)
        return;
      offset += 12 + length;
    }
}

/* Markers up to the first start of frame, which holds the size. */
static void
read_jpeg_size (LlmsbxPlotOutput *self,
                const guint8     *data,
                gsize             size)
{
  gsize offset = 2;

  if (size < 4 || data[0] != 0xff || data[1] != 0xd8)
    return;

  while (offset + 4 <= size)
    {
      guint8 marker;
      guint16 length;

      if (data[offset] != 0xff)
        return;
      marker = data[offset + 1];
      if (marker == 0xff)
        {
          offset++;
          continue;
        }
      length = read_be16 (data + offset + 2);
      if (length < 2 || length > size - offset - 2)
        return;

      if (marker == 0xe0 && length >= 16 && memcmp (data + offset + 4, "JFIF", 5) == 0)
        {
          guint8 units = data[offset + 11];
          guint16 density = read_be16 (data + offset + 12);

          if (units == 1)
            self->dpi = density;
          else if (units == 2)
            self->dpi = round_dpi (density * 2.54);
        }
      else if (marker >= 0xc0 && marker <= 0xcf && marker != 0xc4 && marker != 0xc8 && marker != 0xcc)
        {
          if (length >= 7)
            {
              self->height = read_be16 (data + offset + 5);
              self->width = read_be16 (data + offset + 7);
            }
          return;
        }
      offset += 2 + length;
    }
}

static void
llmsbx_plot_output_constructed (GObject *object)
{
  LlmsbxPlotOutput *self = LLMSBX_PLOT_OUTPUT (object);
  const guint8 *data;
  gsize size;

  G_OBJECT_CLASS (llmsbx_plot_output_parent_class)->constructed (object);

  if (self->content == NULL)
    self->content = g_bytes_new (NULL, 0);
  data = g_bytes_get_data (self->content, &size);
  if (self->format == LLMSBX_PLOT_FORMAT_PNG)
    read_png_size (self, data, size);
  else if (self->format == LLMSBX_PLOT_FORMAT_JPEG)
    read_jpeg_size (self, data, size);
}

static void
llmsbx_plot_output_finalize (GObject *object)
{
  LlmsbxPlotOutput *self = LLMSBX_PLOT_OUTPUT (object);

  g_bytes_unref (self->content);
  g_free (self->filename);

  G_OBJECT_CLASS (llmsbx_plot_output_parent_class)->finalize (object);
}

static void
llmsbx_plot_output_get_property (GObject    *object,
                                 guint       prop_id,
                                 GValue     *value,
                                 GParamSpec *pspec)
{
  LlmsbxPlotOutput *self = LLMSBX_PLOT_OUTPUT (object);

  switch (prop_id)
    {
    case PROP_FORMAT:
      g_value_set_enum (value, self->format);
      break;
    case PROP_CONTENT:
      g_value_set_boxed (value, self->content);
      break;
    case PROP_CONTENT_BASE64:
      g_value_take_string (value, llmsbx_plot_output_get_content_base64 (self));
      break;
    case PROP_FILENAME:
      g_value_set_string (value, self->filename);
      break;
    case PROP_WIDTH:
      g_value_set_int (value, self->width);
      break;
    case PROP_HEIGHT:
      g_value_set_int (value, self->height);
      break;
    case PROP_DPI:
      g_value_set_double (value, self->dpi);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
llmsbx_plot_output_set_property (GObject      *object,
                                 guint         prop_id,
                                 const GValue *value,
                                 GParamSpec   *pspec)
{
  LlmsbxPlotOutput *self = LLMSBX_PLOT_OUTPUT (object);

  switch (prop_id)
    {
    case PROP_FORMAT:
      self->format = g_value_get_enum (value);
      break;
    case PROP_CONTENT:
      self->content = g_value_dup_boxed (value);
      break;
    case PROP_FILENAME:
      self->filename = g_value_dup_string (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
llmsbx_plot_output_class_init (LlmsbxPlotOutputClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->constructed = llmsbx_plot_output_constructed;
  object_class->finalize = llmsbx_plot_output_finalize;
  object_class->get_property = llmsbx_plot_output_get_property;
  object_class->set_property = llmsbx_plot_output_set_property;

  /**
   * LlmsbxPlotOutput:format:
   *
   * The file format of the plot.
   *
   * Since: 0.1
   */
  properties[PROP_FORMAT] =
    g_param_spec_enum ("format", NULL, NULL,
                       LLMSBX_TYPE_PLOT_FORMAT, LLMSBX_PLOT_FORMAT_PNG,
                       G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  /**
   * LlmsbxPlotOutput:content:
   *
   * The plot's file, exactly as the plotting library wrote it.
   *
   * Since: 0.1
   */
  properties[PROP_CONTENT] =
    g_param_spec_boxed ("content", NULL, NULL,
                        G_TYPE_BYTES,
                        G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  /**
   * LlmsbxPlotOutput:content-base64:
   *
   * #LlmsbxPlotOutput:content in base64, as the guide's `content_base64`.
   *
   * Since: 0.1
   */
  properties[PROP_CONTENT_BASE64] =
    g_param_spec_string ("content-base64", NULL, NULL,
                         NULL,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);

  /**
   * LlmsbxPlotOutput:filename:
   *
   * The plot's file name in the run's output, such as `000001.png`; names
   * sort in the order the code made the plots.
   *
   * Since: 0.1
   */
  properties[PROP_FILENAME] =
    g_param_spec_string ("filename", NULL, NULL,
                         NULL,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  /**
   * LlmsbxPlotOutput:width:
   *
   * The width in pixels, 0 when the format does not say (SVG, PDF, HTML).
   *
   * Since: 0.1
   */
  properties[PROP_WIDTH] =
    g_param_spec_int ("width", NULL, NULL,
                      0, G_MAXINT, 0,
                      G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);

  /**
   * LlmsbxPlotOutput:height:
   *
   * The height in pixels, 0 when the format does not say.
   *
   * Since: 0.1
   */
  properties[PROP_HEIGHT] =
    g_param_spec_int ("height", NULL, NULL,
                      0, G_MAXINT, 0,
                      G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);

  /**
   * LlmsbxPlotOutput:dpi:
   *
   * The resolution in dots per inch that the file records, 0 when it
   * records none.
   *
   * Since: 0.1
   */
  properties[PROP_DPI] =
    g_param_spec_double ("dpi", NULL, NULL,
                         0.0, G_MAXDOUBLE, 0.0,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
llmsbx_plot_output_init (LlmsbxPlotOutput *self)
{
}

/**
 * llmsbx_plot_output_new:
 * @format: the file format of @content
 * @content: the plot's file
 * @filename: (nullable): its name in the run's output
 *
 * Creates a plot; its size and resolution are read from @content.
 *
 * Returns: (transfer full): a new #LlmsbxPlotOutput
 *
 * Since: 0.1
 */
LlmsbxPlotOutput *
llmsbx_plot_output_new (LlmsbxPlotFormat  format,
                        GBytes           *content,
                        const char       *filename)
{
  g_return_val_if_fail (content != NULL, NULL);

  return g_object_new (LLMSBX_TYPE_PLOT_OUTPUT,
                       "format", format,
                       "content", content,
                       "filename", filename,
                       NULL);
}

/**
 * llmsbx_plot_output_get_format:
 * @self: a #LlmsbxPlotOutput
 *
 * Gets the file format of the plot.
 *
 * Returns: the format
 *
 * Since: 0.1
 */
LlmsbxPlotFormat
llmsbx_plot_output_get_format (LlmsbxPlotOutput *self)
{
  g_return_val_if_fail (LLMSBX_IS_PLOT_OUTPUT (self), LLMSBX_PLOT_FORMAT_PNG);

  return self->format;
}

/**
 * llmsbx_plot_output_get_content:
 * @self: a #LlmsbxPlotOutput
 *
 * Gets the plot's file, exactly as the plotting library wrote it.
 *
 * Returns: (transfer none): the bytes of the plot
 *
 * Since: 0.1
 */
GBytes *
llmsbx_plot_output_get_content (LlmsbxPlotOutput *self)
{
  g_return_val_if_fail (LLMSBX_IS_PLOT_OUTPUT (self), NULL);

  return self->content;
}

/**
 * llmsbx_plot_output_get_content_base64:
 * @self: a #LlmsbxPlotOutput
 *
 * Gets the plot's file in base64, made on each call.
 *
 * Returns: (transfer full): the plot's bytes, base64-encoded
 *
 * Since: 0.1
 */
char *
llmsbx_plot_output_get_content_base64 (LlmsbxPlotOutput *self)
{
  gsize size;
  const guint8 *data;

  g_return_val_if_fail (LLMSBX_IS_PLOT_OUTPUT (self), NULL);

  data = g_bytes_get_data (self->content, &size);
  return g_base64_encode (data, size);
}

/**
 * llmsbx_plot_output_get_filename:
 * @self: a #LlmsbxPlotOutput
 *
 * Gets the plot's file name in the run's output (`000001.png`, ...).
 *
 * Returns: (transfer none) (nullable): the file name
 *
 * Since: 0.1
 */
const char *
llmsbx_plot_output_get_filename (LlmsbxPlotOutput *self)
{
  g_return_val_if_fail (LLMSBX_IS_PLOT_OUTPUT (self), NULL);

  return self->filename;
}

/**
 * llmsbx_plot_output_get_width:
 * @self: a #LlmsbxPlotOutput
 *
 * Gets the width in pixels.
 *
 * Returns: the width, 0 when unknown
 *
 * Since: 0.1
 */
int
llmsbx_plot_output_get_width (LlmsbxPlotOutput *self)
{
  g_return_val_if_fail (LLMSBX_IS_PLOT_OUTPUT (self), 0);

  return self->width;
}

/**
 * llmsbx_plot_output_get_height:
 * @self: a #LlmsbxPlotOutput
 *
 * Gets the height in pixels.
 *
 * Returns: the height, 0 when unknown
 *
 * Since: 0.1
 */
int
llmsbx_plot_output_get_height (LlmsbxPlotOutput *self)
{
  g_return_val_if_fail (LLMSBX_IS_PLOT_OUTPUT (self), 0);

  return self->height;
}

/**
 * llmsbx_plot_output_get_dpi:
 * @self: a #LlmsbxPlotOutput
 *
 * Gets the resolution the file records.
 *
 * Returns: dots per inch, 0 when unknown
 *
 * Since: 0.1
 */
double
llmsbx_plot_output_get_dpi (LlmsbxPlotOutput *self)
{
  g_return_val_if_fail (LLMSBX_IS_PLOT_OUTPUT (self), 0.0);

  return self->dpi;
}

/**
 * llmsbx_plot_format_to_string:
 * @format: a #LlmsbxPlotFormat
 *
 * Gets the name of a format, which is also its usual file extension.
 *
 * Returns: `png`, `svg`, `pdf`, `jpeg` or `html`
 *
 * Since: 0.1
 */
const char *
llmsbx_plot_format_to_string (LlmsbxPlotFormat format)
{
  switch (format)
    {
    case LLMSBX_PLOT_FORMAT_PNG:
      return "png";
    case LLMSBX_PLOT_FORMAT_SVG:
      return "svg";
    case LLMSBX_PLOT_FORMAT_PDF:
      return "pdf";
    case LLMSBX_PLOT_FORMAT_JPEG:
      return "jpeg";
    case LLMSBX_PLOT_FORMAT_HTML:
      return "html";
    default:
      g_return_val_if_reached ("png");
    }
}

/**
 * llmsbx_plot_format_from_extension:
 * @extension: a file extension without the dot, in any case (`png`, `JPG`, `htm`)
 * @format: (out): where the format goes
 *
 * Finds the plot format that files with @extension have.
 *
 * Returns: %TRUE when @extension is one of a plot format
 *
 * Since: 0.1
 */
gboolean
llmsbx_plot_format_from_extension (const char       *extension,
                                   LlmsbxPlotFormat *format)
{
  static const struct {
    const char *extension;
    LlmsbxPlotFormat format;
  } formats[] = {
    { "png", LLMSBX_PLOT_FORMAT_PNG },
    { "svg", LLMSBX_PLOT_FORMAT_SVG },
    { "pdf", LLMSBX_PLOT_FORMAT_PDF },
    { "jpeg", LLMSBX_PLOT_FORMAT_JPEG },
    { "jpg", LLMSBX_PLOT_FORMAT_JPEG },
    { "html", LLMSBX_PLOT_FORMAT_HTML },
    { "htm", LLMSBX_PLOT_FORMAT_HTML },
  };

  g_return_val_if_fail (extension != NULL, FALSE);
  g_return_val_if_fail (format != NULL, FALSE);

  for (gsize i = 0; i < G_N_ELEMENTS (formats); i++)
    if (g_ascii_strcasecmp (extension, formats[i].extension) == 0)
      {
        *format = formats[i].format;
        return TRUE;
      }
  return FALSE;
}
