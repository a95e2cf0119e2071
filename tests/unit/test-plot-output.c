/* test-plot-output.c: plots and output files as results carry them: their
 * sizes read from PNG and JPEG headers (hostile bytes: anything short or odd
 * leaves them unknown), formats and extensions, base64, and the JSON of a
 * result with plots. */
#include <string.h>

#include <json-glib/json-glib.h>
#include <llmsbx.h>

static const guint8 png[] = {
  0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n',
  0, 0, 0, 13, 'I', 'H', 'D', 'R', 0, 0, 0x02, 0x16, 0, 0, 0x01, 0x9d, 8, 6, 0, 0, 0, 0, 0, 0, 0,
  0, 0, 0, 1, 't', 'E', 'X', 't', 'x', 0, 0, 0, 0,
  0, 0, 0, 9, 'p', 'H', 'Y', 's', 0, 0, 0x0f, 0x61, 0, 0, 0x0f, 0x61, 1, 0, 0, 0, 0,
  0, 0, 0, 0, 'I', 'E', 'N', 'D', 0xae, 0x42, 0x60, 0x82,
};

static const guint8 jpeg[] = {
  0xff, 0xd8,
  0xff, 0xe0, 0, 16, 'J', 'F', 'I', 'F', 0, 1, 1, 1, 0, 72, 0, 72, 0, 0,
  0xff, 0xdb, 0, 4, 0, 0,
  0xff, 0xc0, 0, 11, 8, 0x01, 0xe0, 0x02, 0x80, 1, 1, 0x11, 0,
  0xff, 0xd9,
};

static LlmsbxPlotOutput *
plot_of (LlmsbxPlotFormat  format,
         const guint8     *data,
         gsize             size)
{
  g_autoptr(GBytes) bytes = g_bytes_new (data, size);

  return llmsbx_plot_output_new (format, bytes, "000001.png");
}

static void
test_png_size (void)
{
  g_autoptr(LlmsbxPlotOutput) plot = plot_of (LLMSBX_PLOT_FORMAT_PNG, png, sizeof png);
  g_autofree char *base64 = llmsbx_plot_output_get_content_base64 (plot);
  g_autofree char *expected = g_base64_encode (png, sizeof png);

  g_assert_cmpint (llmsbx_plot_output_get_width (plot), ==, 534);
  g_assert_cmpint (llmsbx_plot_output_get_height (plot), ==, 413);
  /* 3937 pixels per metre, matplotlib's 100 dpi. */
  g_assert_cmpfloat (llmsbx_plot_output_get_dpi (plot), ==, 100.0);
  g_assert_cmpstr (base64, ==, expected);
  g_assert_cmpstr (llmsbx_plot_output_get_filename (plot), ==, "000001.png");
}

static void
test_jpeg_size (void)
{
  g_autoptr(LlmsbxPlotOutput) plot = plot_of (LLMSBX_PLOT_FORMAT_JPEG, jpeg, sizeof jpeg);

  g_assert_cmpint (llmsbx_plot_output_get_width (plot), ==, 640);
  g_assert_cmpint (llmsbx_plot_output_get_height (plot), ==, 480);
  g_assert_cmpfloat (llmsbx_plot_output_get_dpi (plot), ==, 72.0);
}

/* Every prefix of the files, and files whose lengths lie, leave the size
 * unknown or right, never read past the end (valgrind and ASan check). */
static void
test_hostile_headers (void)
{
  guint8 lying[sizeof png];

  for (gsize size = 0; size < sizeof png; size++)
    {
      g_autoptr(LlmsbxPlotOutput) p = plot_of (LLMSBX_PLOT_FORMAT_PNG, png, size);

      g_assert_true (llmsbx_plot_output_get_width (p) == 0 || llmsbx_plot_output_get_width (p) == 534);
    }
  for (gsize size = 0; size < sizeof jpeg; size++)
    {
      g_autoptr(LlmsbxPlotOutput) j = plot_of (LLMSBX_PLOT_FORMAT_JPEG, jpeg, size);

      g_assert_true (llmsbx_plot_output_get_width (j) == 0 || llmsbx_plot_output_get_width (j) == 640);
    }

  memcpy (lying, png, sizeof png);
  lying[33] = 0xff;  /* the tEXt chunk says it is 4 GiB long */
  {
    g_autoptr(LlmsbxPlotOutput) p = plot_of (LLMSBX_PLOT_FORMAT_PNG, lying, sizeof lying);

    g_assert_cmpint (llmsbx_plot_output_get_width (p), ==, 534);
    g_assert_cmpfloat (llmsbx_plot_output_get_dpi (p), ==, 0.0);
  }
  memcpy (lying, png, sizeof png);
  lying[16] = 0x80;  /* a width no int holds */
  {
    g_autoptr(LlmsbxPlotOutput) p = plot_of (LLMSBX_PLOT_FORMAT_PNG, lying, sizeof lying);

    g_assert_cmpint (llmsbx_plot_output_get_width (p), ==, 0);
  }
  {
    /* A PNG's bytes named JPEG, and the reverse: no size. */
    g_autoptr(LlmsbxPlotOutput) p = plot_of (LLMSBX_PLOT_FORMAT_JPEG, png, sizeof png);
    g_autoptr(LlmsbxPlotOutput) j = plot_of (LLMSBX_PLOT_FORMAT_PNG, jpeg, sizeof jpeg);
    g_autoptr(LlmsbxPlotOutput) s = plot_of (LLMSBX_PLOT_FORMAT_SVG, png, sizeof png);

    g_assert_cmpint (llmsbx_plot_output_get_width (p), ==, 0);
    g_assert_cmpint (llmsbx_plot_output_get_width (j), ==, 0);
    g_assert_cmpint (llmsbx_plot_output_get_width (s), ==, 0);
  }
}

static void
test_formats (void)
{
  static const struct { const char *extension; LlmsbxPlotFormat format; const char *name; } known[] = {
    { "png", LLMSBX_PLOT_FORMAT_PNG, "png" }, { "SVG", LLMSBX_PLOT_FORMAT_SVG, "svg" },
    { "pdf", LLMSBX_PLOT_FORMAT_PDF, "pdf" }, { "jpg", LLMSBX_PLOT_FORMAT_JPEG, "jpeg" },
    { "jpeg", LLMSBX_PLOT_FORMAT_JPEG, "jpeg" }, { "html", LLMSBX_PLOT_FORMAT_HTML, "html" },
  };
  LlmsbxPlotFormat format;

  for (gsize i = 0; i < G_N_ELEMENTS (known); i++)
    {
      g_assert_true (llmsbx_plot_format_from_extension (known[i].extension, &format));
      g_assert_cmpint (format, ==, known[i].format);
      g_assert_cmpstr (llmsbx_plot_format_to_string (format), ==, known[i].name);
    }
  g_assert_false (llmsbx_plot_format_from_extension ("", &format));
  g_assert_false (llmsbx_plot_format_from_extension ("eps", &format));
  g_assert_false (llmsbx_plot_format_from_extension ("png.txt", &format));
}

/* A result without plots keeps its JSON; one with plots and files adds them. */
static void
test_result_json (void)
{
  g_autoptr(LlmsbxExecutionResult) plain = llmsbx_execution_result_new (0, NULL, NULL, FALSE, 0.5);
  g_autoptr(GPtrArray) plots = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GPtrArray) files = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GBytes) csv = g_bytes_new_static ("a,b\n", 4);
  g_autoptr(LlmsbxExecutionResult) result = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *plain_json = llmsbx_execution_result_to_json (plain);
  g_autofree char *json = NULL;
  JsonObject *object, *plot, *file;

  g_assert_null (strstr (plain_json, "plots"));
  g_assert_null (strstr (plain_json, "files"));
  g_assert_cmpuint (llmsbx_execution_result_get_plots (plain)->len, ==, 0);
  g_assert_cmpuint (llmsbx_execution_result_get_files (plain)->len, ==, 0);

  g_ptr_array_add (plots, plot_of (LLMSBX_PLOT_FORMAT_PNG, png, sizeof png));
  g_ptr_array_add (files, llmsbx_output_file_new ("tables/a.csv", csv));
  result = g_object_new (LLMSBX_TYPE_EXECUTION_RESULT, "plots", plots, "plots-dropped", TRUE,
                         "files", files, NULL);
  json = llmsbx_execution_result_to_json (result);
  json_parser_load_from_data (parser, json, -1, &error);
  g_assert_no_error (error);
  object = json_node_get_object (json_parser_get_root (parser));
  g_assert_true (json_object_get_boolean_member (object, "plots_dropped"));
  g_assert_false (json_object_get_boolean_member (object, "files_dropped"));
  plot = json_array_get_object_element (json_object_get_array_member (object, "plots"), 0);
  g_assert_cmpstr (json_object_get_string_member (plot, "format"), ==, "png");
  g_assert_cmpint (json_object_get_int_member (plot, "width"), ==, 534);
  file = json_array_get_object_element (json_object_get_array_member (object, "files"), 0);
  g_assert_cmpstr (json_object_get_string_member (file, "path"), ==, "tables/a.csv");
  g_assert_cmpstr (json_object_get_string_member (file, "content_base64"), ==, "YSxiCg==");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/plot-output/png-size", test_png_size);
  g_test_add_func ("/plot-output/jpeg-size", test_jpeg_size);
  g_test_add_func ("/plot-output/hostile-headers", test_hostile_headers);
  g_test_add_func ("/plot-output/formats", test_formats);
  g_test_add_func ("/plot-output/result-json", test_result_json);

  return g_test_run ();
}
