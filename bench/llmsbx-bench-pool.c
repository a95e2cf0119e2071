/* llmsbx-bench-pool.c: acquire+run+release from a warm pool next to
 * open+run+close of a session, measured in the same run, alternating so that
 * machine noise hits both alike.
 *
 * "Warm" means a reset sandbox is idle when the acquire starts: the bench
 * waits for that (untimed) before each pooled iteration, as a pool sized for
 * its load would be. The reset itself runs after release, in the pool's
 * background; its cost is printed apart, from the pool's own counters and
 * the time until the sandbox was idle again. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <llmsbx.h>

#include "llmsbx-bench-stats.h"

#define DEFAULT_ITERATIONS 20
#define PYTHON_CODE        "print(6*7)"
#define EXPECTED_STDOUT    "42\n"
#define BENCH_LABEL        "io.llmsbx.bench"

/* The run's label; with @read_only_root, a read-only root and a tmpfs /tmp,
 * where the pool resets sandboxes instead of destroying them. */
static GVariant *
bench_configs (gboolean read_only_root)
{
  GVariantBuilder labels;
  GVariantBuilder configs;

  g_variant_builder_init (&labels, G_VARIANT_TYPE ("a{ss}"));
  g_variant_builder_add (&labels, "{ss}", BENCH_LABEL, "pool");
  g_variant_builder_init (&configs, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&configs, "{sv}", "labels", g_variant_builder_end (&labels));
  if (read_only_root)
    {
      GVariantBuilder tmpfs;

      g_variant_builder_init (&tmpfs, G_VARIANT_TYPE ("a{ss}"));
      g_variant_builder_add (&tmpfs, "{ss}", "/tmp", "size=64m");
      g_variant_builder_add (&configs, "{sv}", "read_only", g_variant_new_boolean (TRUE));
      g_variant_builder_add (&configs, "{sv}", "tmpfs", g_variant_builder_end (&tmpfs));
    }
  return g_variant_ref_sink (g_variant_builder_end (&configs));
}

static gboolean
run_and_check (LlmsbxSandboxSession  *session,
               GError               **error)
{
  g_autoptr(LlmsbxExecutionResult) result = llmsbx_sandbox_session_run (session, PYTHON_CODE, NULL, 0, NULL, error);

  if (result == NULL)
    return FALSE;
  if (g_strcmp0 (llmsbx_execution_result_get_stdout (result), EXPECTED_STDOUT) != 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "the run printed %s",
                   llmsbx_execution_result_get_stdout (result));
      return FALSE;
    }
  return TRUE;
}

static gboolean
cold_cycle (const char  *backend,
            GVariant    *configs,
            double      *ms,
            GError     **error)
{
  g_autoptr(LlmsbxSandboxSession) session = g_object_new (LLMSBX_TYPE_SANDBOX_SESSION, "lang", "python",
                                                          "backend", backend, "runtime-configs", configs,
                                                          "keep-template", TRUE, NULL);
  gint64 start = g_get_monotonic_time ();

  if (!llmsbx_sandbox_session_open (session, NULL, error) || !run_and_check (session, error) ||
      !llmsbx_sandbox_session_close (session, NULL, error))
    return FALSE;
  *ms = (g_get_monotonic_time () - start) / 1000.0;
  return TRUE;
}

static guint
idle_of (LlmsbxSandboxPool *pool)
{
  g_autoptr(GVariant) stats = llmsbx_sandbox_pool_get_stats (pool);
  guint idle = 0;

  g_variant_lookup (stats, "idle", "u", &idle);
  return idle;
}

/* Waits (untimed) until a sandbox is idle; how long that took, in ms. */
static double
wait_warm (LlmsbxSandboxPool *pool)
{
  gint64 start = g_get_monotonic_time ();

  while (idle_of (pool) == 0)
    g_usleep (5 * 1000);
  return (g_get_monotonic_time () - start) / 1000.0;
}

static gboolean
pool_cycle (LlmsbxSandboxPool  *pool,
            double             *ms,
            GError            **error)
{
  gint64 start = g_get_monotonic_time ();
  g_autoptr(LlmsbxSandboxSession) session = llmsbx_sandbox_pool_acquire (pool, NULL, error);

  if (session == NULL || !run_and_check (session, error) ||
      !llmsbx_sandbox_session_close (session, NULL, error))
    return FALSE;
  *ms = (g_get_monotonic_time () - start) / 1000.0;
  return TRUE;
}

int
main (int    argc,
      char **argv)
{
  g_autofree char *backend = NULL;
  int iterations = DEFAULT_ITERATIONS;
  gboolean read_only_root = FALSE;
  const GOptionEntry entries[] = {
    { "backend", 'b', 0, G_OPTION_ARG_STRING, &backend, "Backend (default: docker)", "NAME" },
    { "iterations", 'n', 0, G_OPTION_ARG_INT, &iterations, "Iterations of each (default: 20)", "N" },
    { "read-only-root", 0, 0, G_OPTION_ARG_NONE, &read_only_root,
      "Sandboxes with a read-only root, which the pool resets rather than destroys", NULL },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr(GOptionContext) context = g_option_context_new (NULL);
  g_autoptr(GVariant) configs = NULL;
  g_autoptr(LlmsbxSandboxPool) pool = NULL;
  g_autoptr(GArray) cold = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) warm = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) refill = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GVariant) stats = NULL;
  g_autoptr(GError) error = NULL;
  guint64 resets = 0, refusals = 0, reused = 0;

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error) || iterations < 1)
    {
      g_printerr ("llmsbx-bench-pool: %s\n", error ? error->message : "--iterations must be at least 1");
      return 2;
    }
  if (backend == NULL)
    backend = g_strdup ("docker");
  configs = bench_configs (read_only_root);

  pool = g_object_new (LLMSBX_TYPE_SANDBOX_POOL, "lang", "python", "backend", backend,
                       "runtime-configs", configs, "min-size", 2, "max-size", 2, NULL);
  if (!llmsbx_sandbox_pool_start (pool, &error))
    goto fail;

  /* One of each first, unmeasured: the image cache and the pool warm up. */
  {
    double ms;

    if (!cold_cycle (backend, configs, &ms, &error))
      goto fail;
    wait_warm (pool);
    if (!pool_cycle (pool, &ms, &error))
      goto fail;
  }

  for (int i = 0; i < iterations; i++)
    {
      double ms;
      double waited = wait_warm (pool);

      g_array_append_val (refill, waited);
      if (!pool_cycle (pool, &ms, &error))
        goto fail;
      g_array_append_val (warm, ms);
      if (!cold_cycle (backend, configs, &ms, &error))
        goto fail;
      g_array_append_val (cold, ms);
    }

  stats = llmsbx_sandbox_pool_get_stats (pool);
  g_variant_lookup (stats, "resets", "t", &resets);
  g_variant_lookup (stats, "reset-refusals", "t", &refusals);
  g_variant_lookup (stats, "reused", "t", &reused);

  g_print ("backend %s%s, %d iterations of each, alternating\n", backend,
           read_only_root ? " (read-only root)" : "", iterations);
  g_print ("%-38s %10s %10s\n", "", "median ms", "p90 ms");
  g_print ("%-38s %10.1f %10.1f\n", "open+run+close (session)",
           llmsbx_bench_percentile (cold, 0.5), llmsbx_bench_percentile (cold, 0.9));
  g_print ("%-38s %10.1f %10.1f\n", "acquire+run+release (warm pool)",
           llmsbx_bench_percentile (warm, 0.5), llmsbx_bench_percentile (warm, 0.9));
  g_print ("%-38s %10.2f\n", "ratio pool / session (median)",
           llmsbx_bench_median (warm) / llmsbx_bench_median (cold));
  g_print ("pool: %" G_GUINT64_FORMAT " resets, %" G_GUINT64_FORMAT " sandboxes destroyed instead, %"
           G_GUINT64_FORMAT " acquires served by a reset sandbox; waited for an idle sandbox "
           "(untimed) median %.1f ms\n", resets, refusals, reused, llmsbx_bench_percentile (refill, 0.5));

  if (!llmsbx_sandbox_pool_close (pool, NULL, &error))
    goto fail;
  return 0;

fail:
  g_printerr ("llmsbx-bench-pool: %s\n", error->message);
  if (pool != NULL)
    llmsbx_sandbox_pool_close (pool, NULL, NULL);
  return 1;
}
