/* llmsbx-bench-client.c: the smallest real user of the library, whose peak
 * memory llmsbx-bench reports as the client's RSS.
 *
 * It is a program of its own, not a mode of llmsbx-bench, because a process
 * maps every library its executable links: re-executing the bench would map
 * the floors' libcurl and count it against us. This one links only libllmsbx.
 *
 * Usage: llmsbx-bench-client IMAGE CYCLES — runs CYCLES open+run+close, prints
 * nothing on success. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include <llmsbx.h>

/* Ctrl-C reaches the whole process group: finish the cycle, so that the
 * session removes its sandbox, then stop. */
static volatile sig_atomic_t interrupted;

static void
on_sigint (int signum)
{
  interrupted = 1;
}

static gboolean
cycle (const char  *image,
       GError     **error)
{
  g_autoptr(LlmsbxSandboxSession) session = llmsbx_sandbox_session_new ("python");
  g_autoptr(LlmsbxExecutionResult) result = NULL;

  g_object_set (session, "image", image, NULL);
  if (!llmsbx_sandbox_session_open (session, NULL, error))
    return FALSE;

  result = llmsbx_sandbox_session_run (session, "print(6*7)", NULL, 0, NULL, error);
  if (!llmsbx_sandbox_session_close (session, NULL, result ? error : NULL) || result == NULL)
    return FALSE;

  if (g_strcmp0 (llmsbx_execution_result_get_stdout (result), "42\n") != 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "run() printed \"%s\" instead of 42",
                   llmsbx_execution_result_get_stdout (result));
      return FALSE;
    }

  return TRUE;
}

int
main (int    argc,
      char **argv)
{
  struct sigaction action = { 0 };
  guint64 cycles;

  if (argc != 3 || !g_ascii_string_to_unsigned (argv[2], 10, 1, G_MAXUINT, &cycles, NULL))
    {
      g_printerr ("Usage: llmsbx-bench-client IMAGE CYCLES\n");
      return 2;
    }

  action.sa_handler = on_sigint;
  sigemptyset (&action.sa_mask);
  sigaction (SIGINT, &action, NULL);

  for (guint64 i = 0; i < cycles && !interrupted; i++)
    {
      g_autoptr(GError) error = NULL;

      if (!cycle (argv[1], &error))
        {
          g_printerr ("llmsbx-bench-client: %s\n", error->message);
          return 1;
        }
    }

  return interrupted ? 130 : 0;
}
