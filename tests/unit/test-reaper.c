/* test-reaper.c: llmsbx_reap_sandboxes() on the fake backend: whose owner is
 * gone (a recycled process id included), what is too old, other hosts, dry
 * runs, and the labels a session puts on its sandboxes. */
#include <string.h>
#include <unistd.h>

#include <llmsbx.h>

#include "llmsbx-fake-backend.h"

#define IMAGE "llmsbx/python:bookworm"
#define TEST_LABEL "io.llmsbx.test-reaper=1"

/* A sandbox whose owner labels are ours, with @replace_key set to @value. */
static char *
create_owned (LlmsbxBackend *backend,
              const char    *replace_key,
              const char    *value)
{
  g_autoptr(LlmsbxContainerSpec) spec = llmsbx_container_spec_new ();
  g_auto(GStrv) owner = llmsbx_owner_labels ();
  g_autoptr(GPtrArray) labels = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GError) error = NULL;
  char *id;

  g_ptr_array_add (labels, g_strdup ("io.llmsbx.managed-by=libllmsbx"));
  g_ptr_array_add (labels, g_strdup (TEST_LABEL));
  for (guint i = 0; owner[i] != NULL; i++)
    {
      if (replace_key != NULL && g_str_has_prefix (owner[i], replace_key) &&
          owner[i][strlen (replace_key)] == '=')
        g_ptr_array_add (labels, g_strdup_printf ("%s=%s", replace_key, value));
      else
        g_ptr_array_add (labels, g_strdup (owner[i]));
    }
  g_ptr_array_add (labels, NULL);

  spec->image = g_strdup (IMAGE);
  spec->command = g_strdupv ((char *[]) { (char *) "sleep", (char *) "infinity", NULL });
  spec->labels = g_strdupv ((char **) labels->pdata);
  id = llmsbx_backend_create_sandbox (backend, spec, NULL, &error);
  g_assert_no_error (error);
  return id;
}

static gboolean
reaped_has (GPtrArray  *reaped,
            const char *id)
{
  for (guint i = 0; i < reaped->len; i++)
    if (g_str_equal (((LlmsbxSandboxInfo *) g_ptr_array_index (reaped, i))->id, id))
      return TRUE;
  return FALSE;
}

static void
test_reap (void)
{
  g_autoptr(LlmsbxBackend) backend = llmsbx_fake_backend_new ();
  const char *selector[] = { TEST_LABEL, NULL };
  g_autofree char *mine = create_owned (backend, NULL, NULL);
  /* Our pid with another start time: a process that had our id before us. */
  g_autofree char *recycled = create_owned (backend, LLMSBX_LABEL_OWNER_START, "1");
  g_autofree char *elsewhere = create_owned (backend, LLMSBX_LABEL_OWNER_HOST, "another-host.invalid");
  g_autofree char *old = create_owned (backend, LLMSBX_LABEL_CREATED, "1000");
  g_autoptr(GPtrArray) dry = NULL;
  g_autoptr(GPtrArray) reaped = NULL;
  g_autoptr(GPtrArray) aged = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_true (llmsbx_reap_sandboxes (backend, selector, -1, LLMSBX_REAP_FLAGS_DRY_RUN, &dry, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (dry->len, ==, 1);
  g_assert_true (reaped_has (dry, recycled));
  g_assert_true (llmsbx_fake_backend_has_sandbox (recycled));

  g_assert_true (llmsbx_reap_sandboxes (backend, selector, -1, LLMSBX_REAP_FLAGS_NONE, &reaped, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (reaped->len, ==, 1);
  g_assert_false (llmsbx_fake_backend_has_sandbox (recycled));
  g_assert_true (llmsbx_fake_backend_has_sandbox (mine));
  g_assert_true (llmsbx_fake_backend_has_sandbox (elsewhere));
  g_assert_true (llmsbx_fake_backend_has_sandbox (old));

  /* Age removes even a live owner's sandbox. */
  g_assert_true (llmsbx_reap_sandboxes (backend, selector, 3600, LLMSBX_REAP_FLAGS_NONE, &aged, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (aged->len, ==, 1);
  g_assert_true (reaped_has (aged, old));
  g_assert_false (llmsbx_fake_backend_has_sandbox (old));

  llmsbx_backend_remove_sandbox (backend, mine, NULL, NULL);
  llmsbx_backend_remove_sandbox (backend, elsewhere, NULL, NULL);
  g_assert_cmpuint (llmsbx_fake_backend_count_sandboxes (), ==, 0);
}

/* A removal that fails is the error; the others still happen. */
static void
test_removal_failure (void)
{
  g_autoptr(LlmsbxBackend) backend = llmsbx_fake_backend_new ();
  const char *selector[] = { TEST_LABEL, NULL };
  g_autofree char *a = create_owned (backend, LLMSBX_LABEL_OWNER_PID, "999999999");
  g_autofree char *b = create_owned (backend, LLMSBX_LABEL_OWNER_PID, "999999999");
  g_autoptr(GPtrArray) reaped = NULL;
  g_autoptr(GError) error = NULL;

  llmsbx_fake_backend_inject_fault (LLMSBX_FAKE_BACKEND (backend), LLMSBX_FAKE_FAULT_REMOVE, 0, 1);
  g_assert_false (llmsbx_reap_sandboxes (backend, selector, -1, LLMSBX_REAP_FLAGS_NONE, &reaped, NULL, &error));
  g_assert_nonnull (error);
  g_assert_cmpuint (reaped->len, ==, 1);
  g_assert_cmpuint (llmsbx_fake_backend_count_sandboxes (), ==, 1);
  llmsbx_backend_remove_sandbox (backend, a, NULL, NULL);
  llmsbx_backend_remove_sandbox (backend, b, NULL, NULL);
}

/* A session's sandbox names its owner: this process, alive. */
static void
test_session_labels (void)
{
  g_autoptr(LlmsbxSandboxSession) session = g_object_new (LLMSBX_TYPE_SANDBOX_SESSION, "lang", "python",
                                                          "backend", "fake", "image", IMAGE, NULL);
  g_autoptr(LlmsbxBackend) backend = llmsbx_fake_backend_new ();
  const char *selector[] = { "io.llmsbx.managed-by=libllmsbx", NULL };
  g_autoptr(GPtrArray) found = NULL;
  g_autofree char *pid = g_strdup_printf ("%d", (int) getpid ());
  g_autoptr(GError) error = NULL;
  LlmsbxSandboxInfo *info;

  g_assert_true (llmsbx_sandbox_session_open (session, NULL, &error));
  found = llmsbx_backend_list_sandboxes (backend, selector, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (found->len, ==, 1);
  info = g_ptr_array_index (found, 0);
  g_assert_cmpstr (llmsbx_sandbox_info_get_label (info, LLMSBX_LABEL_OWNER_PID), ==, pid);
  g_assert_cmpstr (llmsbx_sandbox_info_get_label (info, LLMSBX_LABEL_OWNER_HOST), ==, g_get_host_name ());
  g_assert_nonnull (llmsbx_sandbox_info_get_label (info, LLMSBX_LABEL_OWNER_START));
  g_assert_nonnull (llmsbx_sandbox_info_get_label (info, LLMSBX_LABEL_CREATED));
  g_assert_false (llmsbx_sandbox_info_owner_is_gone (info));
  llmsbx_sandbox_session_close (session, NULL, NULL);
}

int
main (int argc, char **argv)
{
  g_autoptr(GError) error = NULL;

  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
  llmsbx_fake_backend_register (llmsbx_registry_get_default (), "fake", LLMSBX_RANK_NONE, &error);
  g_assert_no_error (error);
  llmsbx_fake_backend_add_image (IMAGE);

  g_test_add_func ("/reaper/reap", test_reap);
  g_test_add_func ("/reaper/removal-failure", test_removal_failure);
  g_test_add_func ("/reaper/session-labels", test_session_labels);
  return g_test_run ();
}
