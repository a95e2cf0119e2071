/* llmsbx-bench-stats.h: what every bench program reports its samples with.
 * Not part of the library. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The sample at fraction @p (0 to 1) of @samples (doubles), which it sorts. */
double llmsbx_bench_percentile   (GArray *samples,
                                  double  p);

/* The median of @samples (doubles), which it sorts. */
double llmsbx_bench_median       (GArray *samples);

/* The 1-minute load average, or -1: the machine is shared, and every figure
 * depends on it. */
double llmsbx_bench_load_average (void);

G_END_DECLS
