/* llmsbx-plot-output.h: a plot that a run's code made. */
#pragma once

#if !defined(LLMSBX_INSIDE) && !defined(LLMSBX_COMPILATION)
#error "Only <llmsbx.h> can be included directly."
#endif

#include <glib-object.h>
#include "llmsbx-visibility.h"

G_BEGIN_DECLS

/**
 * LlmsbxPlotFormat:
 * @LLMSBX_PLOT_FORMAT_PNG: a PNG image.
 * @LLMSBX_PLOT_FORMAT_SVG: an SVG drawing.
 * @LLMSBX_PLOT_FORMAT_PDF: a PDF document.
 * @LLMSBX_PLOT_FORMAT_JPEG: a JPEG image.
 * @LLMSBX_PLOT_FORMAT_HTML: an HTML page (an interactive chart, such as plotly's).
 *
 * The file format of an #LlmsbxPlotOutput. The nicks (`png`, `svg`, `pdf`,
 * `jpeg`, `html`) are the format's names.
 *
 * Since: 0.1
 */
typedef enum {
  LLMSBX_PLOT_FORMAT_PNG,
  LLMSBX_PLOT_FORMAT_SVG,
  LLMSBX_PLOT_FORMAT_PDF,
  LLMSBX_PLOT_FORMAT_JPEG,
  LLMSBX_PLOT_FORMAT_HTML,
} LlmsbxPlotFormat;

#define LLMSBX_TYPE_PLOT_OUTPUT (llmsbx_plot_output_get_type ())
LLMSBX_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (LlmsbxPlotOutput, llmsbx_plot_output, LLMSBX, PLOT_OUTPUT, GObject)

LLMSBX_AVAILABLE_IN_ALL
LlmsbxPlotOutput *llmsbx_plot_output_new             (LlmsbxPlotFormat  format,
                                                      GBytes           *content,
                                                      const char       *filename);
LLMSBX_AVAILABLE_IN_ALL
LlmsbxPlotFormat  llmsbx_plot_output_get_format      (LlmsbxPlotOutput *self);
LLMSBX_AVAILABLE_IN_ALL
GBytes           *llmsbx_plot_output_get_content     (LlmsbxPlotOutput *self);
LLMSBX_AVAILABLE_IN_ALL
char             *llmsbx_plot_output_get_content_base64 (LlmsbxPlotOutput *self);
LLMSBX_AVAILABLE_IN_ALL
const char       *llmsbx_plot_output_get_filename    (LlmsbxPlotOutput *self);
LLMSBX_AVAILABLE_IN_ALL
int               llmsbx_plot_output_get_width       (LlmsbxPlotOutput *self);
LLMSBX_AVAILABLE_IN_ALL
int               llmsbx_plot_output_get_height      (LlmsbxPlotOutput *self);
LLMSBX_AVAILABLE_IN_ALL
double            llmsbx_plot_output_get_dpi         (LlmsbxPlotOutput *self);

LLMSBX_AVAILABLE_IN_ALL
const char       *llmsbx_plot_format_to_string       (LlmsbxPlotFormat  format);
LLMSBX_AVAILABLE_IN_ALL
gboolean          llmsbx_plot_format_from_extension  (const char       *extension,
                                                      LlmsbxPlotFormat *format);

G_END_DECLS
