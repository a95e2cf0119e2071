/* fuzz-kubeconfig.c: a libFuzzer target for the Kubernetes plugin's
 * kubeconfig loader (plugins/kubernetes/llmsbx-kube-config.c): libyaml's
 * parser, the typed reads of its nodes, merging, contexts and base64.
 *
 * Each input is a kubeconfig file, not necessarily valid YAML, loaded with
 * its current context and with the context "a". Exec plugins are forbidden
 * (an input could name any command); files it names are read with the
 * loader's bound. Besides ASan's checks, each run asserts what callers rely
 * on: a failure is an LLMSBX_ERROR with a message, a success has a server
 * and a namespace, and a client certificate comes with its key. */
#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>

#include <llmsbx.h>
#include "llmsbx-kube-config.h"

#define MAX_FUZZ_INPUT (256 * 1024)

static char *dir;
static char *path;

int LLVMFuzzerInitialize (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

static void
remove_scratch (void)
{
  g_unlink (path);
  g_rmdir (dir);
}

int
LLVMFuzzerInitialize (int    *argc,
                      char ***argv)
{
  g_autoptr(GError) error = NULL;

  dir = g_dir_make_tmp ("fuzz-kubeconfig-XXXXXX", &error);
  g_assert_no_error (error);
  atexit (remove_scratch);
  path = g_build_filename (dir, "kubeconfig", NULL);
  /* Relative paths in inputs stay in the scratch directory. */
  g_assert_cmpint (g_chdir (dir), ==, 0);
  g_unsetenv ("KUBECONFIG");
  g_unsetenv ("KUBERNETES_SERVICE_HOST");
  llmsbx_kube_forbid_exec_for_testing ();
  return 0;
}

static void
load (const char *context)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(LlmsbxKubeConnection) c = llmsbx_kube_connection_load (path, context, &error);

  if (c == NULL)
    {
      g_assert (error != NULL && error->domain == LLMSBX_ERROR && error->message[0] != '\0');
      return;
    }
  g_assert_no_error (error);
  g_assert (c->server != NULL && c->namespace_ != NULL);
  g_assert ((c->client_cert_pem == NULL) == (c->client_key_pem == NULL));
  g_assert (!(c->insecure_skip_tls_verify && c->ca_pem != NULL));
}

int
LLVMFuzzerTestOneInput (const guint8 *data,
                        size_t        size)
{
  if (size > MAX_FUZZ_INPUT)
    return 0;
  g_assert (g_file_set_contents (path, (const char *) data, size, NULL));
  load (NULL);
  load ("a");
  return 0;
}
