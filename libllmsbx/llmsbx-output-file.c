/* llmsbx-output-file.c: a file that a run's code left in its output directory. */
#include "config.h"

#include "llmsbx-output-file.h"

/**
 * LlmsbxOutputFile:
 *
 * A file the code of a run of an #LlmsbxArtifactSandboxSession wrote into
 * its output directory (`$LLMSBX_OUTPUT_DIR`, see
 * #LlmsbxArtifactSandboxSession:collect-files): its path there and its bytes.
 *
 * Since: 0.1
 */

struct _LlmsbxOutputFile
{
  GObject parent_instance;

  char   *path;
  GBytes *content;
};

G_DEFINE_FINAL_TYPE (LlmsbxOutputFile, llmsbx_output_file, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_PATH,
  PROP_CONTENT,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
llmsbx_output_file_finalize (GObject *object)
{
  LlmsbxOutputFile *self = LLMSBX_OUTPUT_FILE (object);

  g_free (self->path);
  g_clear_pointer (&self->content, g_bytes_unref);

  G_OBJECT_CLASS (llmsbx_output_file_parent_class)->finalize (object);
}

static void
llmsbx_output_file_constructed (GObject *object)
{
  LlmsbxOutputFile *self = LLMSBX_OUTPUT_FILE (object);

  G_OBJECT_CLASS (llmsbx_output_file_parent_class)->constructed (object);

  if (self->content == NULL)
    self->content = g_bytes_new (NULL, 0);
}

static void
llmsbx_output_file_get_property (GObject    *object,
                                 guint       prop_id,
                                 GValue     *value,
                                 GParamSpec *pspec)
{
  LlmsbxOutputFile *self = LLMSBX_OUTPUT_FILE (object);

  switch (prop_id)
    {
    case PROP_PATH:
      g_value_set_string (value, self->path);
      break;
    case PROP_CONTENT:
      g_value_set_boxed (value, self->content);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
llmsbx_output_file_set_property (GObject      *object,
                                 guint         prop_id,
                                 const GValue *value,
                                 GParamSpec   *pspec)
{
  LlmsbxOutputFile *self = LLMSBX_OUTPUT_FILE (object);

  switch (prop_id)
    {
    case PROP_PATH:
      self->path = g_value_dup_string (value);
      break;
    case PROP_CONTENT:
      self->content = g_value_dup_boxed (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
llmsbx_output_file_class_init (LlmsbxOutputFileClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->constructed = llmsbx_output_file_constructed;
  object_class->finalize = llmsbx_output_file_finalize;
  object_class->get_property = llmsbx_output_file_get_property;
  object_class->set_property = llmsbx_output_file_set_property;

  /**
   * LlmsbxOutputFile:path:
   *
   * The file's path in the run's output directory, such as `data.csv` or
   * `tables/a.csv`: relative, `/`-separated, never with a `..` component.
   *
   * Since: 0.1
   */
  properties[PROP_PATH] =
    g_param_spec_string ("path", NULL, NULL,
                         NULL,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  /**
   * LlmsbxOutputFile:content:
   *
   * The file's bytes.
   *
   * Since: 0.1
   */
  properties[PROP_CONTENT] =
    g_param_spec_boxed ("content", NULL, NULL,
                        G_TYPE_BYTES,
                        G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
llmsbx_output_file_init (LlmsbxOutputFile *self)
{
}

/**
 * llmsbx_output_file_new:
 * @path: the file's path in the output directory
 * @content: its bytes
 *
 * Creates an output file.
 *
 * Returns: (transfer full): a new #LlmsbxOutputFile
 *
 * Since: 0.1
 */
LlmsbxOutputFile *
llmsbx_output_file_new (const char *path,
                        GBytes     *content)
{
  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (content != NULL, NULL);

  return g_object_new (LLMSBX_TYPE_OUTPUT_FILE, "path", path, "content", content, NULL);
}

/**
 * llmsbx_output_file_get_path:
 * @self: a #LlmsbxOutputFile
 *
 * Gets the file's path in the run's output directory.
 *
 * Returns: (transfer none): the relative path
 *
 * Since: 0.1
 */
const char *
llmsbx_output_file_get_path (LlmsbxOutputFile *self)
{
  g_return_val_if_fail (LLMSBX_IS_OUTPUT_FILE (self), NULL);

  return self->path;
}

/**
 * llmsbx_output_file_get_content:
 * @self: a #LlmsbxOutputFile
 *
 * Gets the file's bytes.
 *
 * Returns: (transfer none): the content
 *
 * Since: 0.1
 */
GBytes *
llmsbx_output_file_get_content (LlmsbxOutputFile *self)
{
  g_return_val_if_fail (LLMSBX_IS_OUTPUT_FILE (self), NULL);

  return self->content;
}

/**
 * llmsbx_output_file_get_content_base64:
 * @self: a #LlmsbxOutputFile
 *
 * Gets the file's bytes in base64, made on each call.
 *
 * Returns: (transfer full): the content, base64-encoded
 *
 * Since: 0.1
 */
char *
llmsbx_output_file_get_content_base64 (LlmsbxOutputFile *self)
{
  gsize size;
  const guint8 *data;

  g_return_val_if_fail (LLMSBX_IS_OUTPUT_FILE (self), NULL);

  data = g_bytes_get_data (self->content, &size);
  return g_base64_encode (data, size);
}
