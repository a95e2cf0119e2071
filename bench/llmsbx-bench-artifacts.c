/* llmsbx-bench-artifacts.c: a run with plotting next to a plain run, on
 * sessions open side by side, alternating so that machine noise hits all
 * alike: the plain run, the artifact session's run of the same code (no
 * plot: the capture's own cost and its one archive request), and a run that
 * makes one matplotlib plot (matplotlib's import, the save and the fetch).
 * Requests are the backend's own count per run. `ninja bench-artifacts`;
 * the program takes --backend and --iterations. */
#include <stdio.h>
#include <stdlib.h>

#include <llmsbx.h>

#include "llmsbx-bench-stats.h"

#define DEFAULT_ITERATIONS 15
#define BENCH_LABEL        "io.llmsbx.bench"

typedef struct {
  const char           *label;
  LlmsbxSandboxSession *session;
  LlmsbxBackend        *backend;
  const char           *code;
  guint                 plots;     /* the run must make exactly these */
  GArray               *ms;
  guint                 requests;  /* per run, the last one's */
} Row;

static LlmsbxSandboxSession *
open_session (GType          type,
              const char    *backend_name,
              LlmsbxBackend **backend,
              GError       **error)
{
  g_autoptr(LlmsbxSandboxSession) session = NULL;
  GVariantBuilder labels, configs;

  *backend = llmsbx_registry_create_backend (llmsbx_registry_get_default (), backend_name, error);
  if (*backend == NULL)
    return NULL;
  g_variant_builder_init (&labels, G_VARIANT_TYPE ("a{ss}"));
  g_variant_builder_add (&labels, "{ss}", BENCH_LABEL, "artifacts");
  g_variant_builder_init (&configs, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&configs, "{sv}", "labels", g_variant_builder_end (&labels));
  session = g_object_new (type, "lang", "python", "client", *backend,
                          "runtime-configs", g_variant_builder_end (&configs), NULL);
  if (!llmsbx_sandbox_session_open (session, NULL, error))
    return NULL;
  return g_steal_pointer (&session);
}

static gboolean
measure (Row     *row,
         GError **error)
{
  g_autoptr(LlmsbxExecutionResult) result = NULL;
  guint before = llmsbx_backend_get_request_count (row->backend);
  gint64 started = g_get_monotonic_time ();
  double ms;

  result = llmsbx_sandbox_session_run (row->session, row->code, NULL, 120, NULL, error);
  if (result == NULL)
    return FALSE;
  ms = (g_get_monotonic_time () - started) / 1000.0;
  if (llmsbx_execution_result_get_exit_code (result) != 0 ||
      llmsbx_execution_result_get_plots (result)->len != row->plots)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s: exit status %d, %u plots: %s", row->label,
                   llmsbx_execution_result_get_exit_code (result),
                   llmsbx_execution_result_get_plots (result)->len,
                   llmsbx_execution_result_get_stderr (result));
      return FALSE;
    }
  g_array_append_val (row->ms, ms);
  row->requests = llmsbx_backend_get_request_count (row->backend) - before;
  return TRUE;
}

int
main (int    argc,
      char **argv)
{
  g_autofree char *backend_name = NULL;
  int iterations = DEFAULT_ITERATIONS;
  const GOptionEntry entries[] = {
    { "backend", 'b', 0, G_OPTION_ARG_STRING, &backend_name, "Backend (default: docker)", "NAME" },
    { "iterations", 'n', 0, G_OPTION_ARG_INT, &iterations, "Runs per row (default: 15)", "N" },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr(GOptionContext) context = g_option_context_new (NULL);
  g_autoptr(GError) error = NULL;
  Row rows[] = {
    { "plain run", NULL, NULL, "print(6*7)", 0, NULL, 0 },
    { "artifact run, no plot", NULL, NULL, "print(6*7)", 0, NULL, 0 },
    { "plain run, matplotlib plot", NULL, NULL,
      "import matplotlib.pyplot as plt\nplt.plot([1, 4, 9])\nplt.savefig('/dev/null', format='png')\n", 0, NULL, 0 },
    { "artifact run, one plot", NULL, NULL,
      "import matplotlib.pyplot as plt\nplt.plot([1, 4, 9])\nplt.show()\n", 1, NULL, 0 },
  };
  int status = 0;

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error) || iterations < 1)
    {
      g_printerr ("%s\n", error ? error->message : "--iterations must be at least 1");
      return 2;
    }

  for (gsize i = 0; i < G_N_ELEMENTS (rows); i++)
    {
      GType type = i % 2 == 0 ? LLMSBX_TYPE_SANDBOX_SESSION : LLMSBX_TYPE_ARTIFACT_SANDBOX_SESSION;

      rows[i].ms = g_array_new (FALSE, FALSE, sizeof (double));
      rows[i].session = open_session (type, backend_name ? backend_name : "docker", &rows[i].backend, &error);
      if (rows[i].session == NULL)
        goto out;
    }

  /* One untimed round: images and font caches warm. */
  for (int n = 0; n <= iterations && error == NULL; n++)
    for (gsize i = 0; i < G_N_ELEMENTS (rows) && error == NULL; i++)
      if (measure (&rows[i], &error) && n == 0)
        g_array_set_size (rows[i].ms, 0);
  if (error != NULL)
    goto out;

  printf ("artifacts on %s, %d runs each (median)\n", backend_name ? backend_name : "docker", iterations);
  for (gsize i = 0; i < G_N_ELEMENTS (rows); i++)
    {
      double ms = llmsbx_bench_median (rows[i].ms);
      double base = llmsbx_bench_median (rows[i - i % 2].ms);

      printf ("  %-28s %8.1f ms  %u requests", rows[i].label, ms, rows[i].requests);
      if (i % 2 == 1)
        printf ("  ratio %.2f, %+d request%s", ms / base,
                (int) rows[i].requests - (int) rows[i - 1].requests,
                rows[i].requests - rows[i - 1].requests == 1 ? "" : "s");
      printf ("\n");
    }

out:
  if (error != NULL)
    {
      g_printerr ("bench-artifacts: %s\n", error->message);
      status = 1;
    }
  for (gsize i = 0; i < G_N_ELEMENTS (rows); i++)
    {
      g_autoptr(GError) close_error = NULL;

      if (rows[i].session != NULL && !llmsbx_sandbox_session_close (rows[i].session, NULL, &close_error))
        {
          g_printerr ("bench-artifacts: %s\n", close_error->message);
          status = 1;
        }
      g_clear_object (&rows[i].session);
      g_clear_object (&rows[i].backend);
      g_clear_pointer (&rows[i].ms, g_array_unref);
    }
  return status;
}
