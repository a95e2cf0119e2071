/* llmsbx-bench-stats.c: percentiles and the load average for the bench
 * programs. */
#include "llmsbx-bench-stats.h"

static int
compare_doubles (const void *a,
                 const void *b)
{
  double x = *(const double *) a;
  double y = *(const double *) b;

  return (x > y) - (x < y);
}

double
llmsbx_bench_percentile (GArray *samples,
                         double  p)
{
  g_return_val_if_fail (samples != NULL && samples->len > 0, 0);

  g_array_sort (samples, compare_doubles);
  return g_array_index (samples, double, (guint) ((samples->len - 1) * p + 0.5));
}

double
llmsbx_bench_median (GArray *samples)
{
  g_return_val_if_fail (samples != NULL && samples->len > 0, 0);

  g_array_sort (samples, compare_doubles);
  return g_array_index (samples, double, samples->len / 2);
}

double
llmsbx_bench_load_average (void)
{
  g_autofree char *text = NULL;

  if (!g_file_get_contents ("/proc/loadavg", &text, NULL, NULL))
    return -1;
  return g_ascii_strtod (text, NULL);
}
