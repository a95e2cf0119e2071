/* llmsbx-reaper.c: finding and removing the sandboxes whose owner is gone.
 *
 * Every sandbox the library creates carries its owner in labels: the host,
 * the process id and that process's start time in clock ticks since boot
 * (field 22 of /proc/<pid>/stat). A process id alone would be taken over by
 * whatever process the kernel gives it next; with the start time, an owner is
 * alive only when a process with that id exists *and* started at that tick.
 * Sandboxes of other hosts are never judged by their owner (their processes
 * cannot be seen from here), only by age when asked. The reaper is what
 * `llmsbx gc`, the pool and llmsbx-daemon call; they own no logic of it. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "llmsbx-reaper.h"
#include "llmsbx-error.h"

#define MANAGED_LABEL "io.llmsbx.managed-by=libllmsbx"

/* Field 22 of /proc/@pid/stat, or 0 when there is no such process. The
 * command name (field 2) may hold spaces and parentheses: fields are
 * counted from its closing parenthesis, the last one in the line. */
static guint64
process_start_time (guint64 pid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%" G_GUINT64_FORMAT "/stat", pid);
  g_autofree char *contents = NULL;
  const char *p;
  guint field = 2;

  if (!g_file_get_contents (path, &contents, NULL, NULL))
    return 0;
  p = strrchr (contents, ')');
  if (p == NULL)
    return 0;
  p++;
  while (*p != '\0' && field < 22)
    {
      while (*p == ' ')
        p++;
      field++;
      if (field == 22)
        break;
      while (*p != '\0' && *p != ' ')
        p++;
    }
  if (field != 22)
    return 0;
  return g_ascii_strtoull (p, NULL, 10);
}

/**
 * llmsbx_owner_labels:
 *
 * The labels that name the calling process as the owner of a sandbox:
 * %LLMSBX_LABEL_OWNER_HOST, %LLMSBX_LABEL_OWNER_PID, %LLMSBX_LABEL_OWNER_START
 * and %LLMSBX_LABEL_CREATED (now), as `key=value`. Sessions put them on every
 * sandbox they create; a backend's own creation of sandboxes can use them too.
 *
 * Returns: (transfer full) (array zero-terminated=1): the labels
 *
 * Since: 0.1
 */
char **
llmsbx_owner_labels (void)
{
  guint64 pid = (guint64) getpid ();
  char **labels = g_new0 (char *, 5);

  labels[0] = g_strdup_printf (LLMSBX_LABEL_OWNER_HOST "=%s", g_get_host_name ());
  labels[1] = g_strdup_printf (LLMSBX_LABEL_OWNER_PID "=%" G_GUINT64_FORMAT, pid);
  labels[2] = g_strdup_printf (LLMSBX_LABEL_OWNER_START "=%" G_GUINT64_FORMAT, process_start_time (pid));
  labels[3] = g_strdup_printf (LLMSBX_LABEL_CREATED "=%" G_GINT64_FORMAT, g_get_real_time () / G_USEC_PER_SEC);
  return labels;
}

static gboolean
parse_label_number (const LlmsbxSandboxInfo *info,
                    const char              *key,
                    guint64                 *value)
{
  const char *text = llmsbx_sandbox_info_get_label (info, key);

  return text != NULL && g_ascii_string_to_unsigned (text, 10, 1, G_MAXUINT64, value, NULL);
}

/**
 * llmsbx_sandbox_info_owner_is_gone:
 * @info: a sandbox found by llmsbx_backend_list_sandboxes()
 *
 * Whether the process that created @info is known to be gone: it was created
 * on this host (%LLMSBX_LABEL_OWNER_HOST) and no process with its id
 * (%LLMSBX_LABEL_OWNER_PID) started at its start time
 * (%LLMSBX_LABEL_OWNER_START) runs now. A sandbox without these labels, or
 * of another host, is not known to be orphaned.
 *
 * Returns: %TRUE when the owner is gone
 *
 * Since: 0.1
 */
gboolean
llmsbx_sandbox_info_owner_is_gone (const LlmsbxSandboxInfo *info)
{
  const char *host;
  guint64 pid;
  guint64 start;

  g_return_val_if_fail (info != NULL, FALSE);

  host = llmsbx_sandbox_info_get_label (info, LLMSBX_LABEL_OWNER_HOST);
  if (g_strcmp0 (host, g_get_host_name ()) != 0 ||
      !parse_label_number (info, LLMSBX_LABEL_OWNER_PID, &pid) ||
      !parse_label_number (info, LLMSBX_LABEL_OWNER_START, &start))
    return FALSE;
  return process_start_time (pid) != start;
}

/* Whether @info was created more than @older_than seconds ago. */
static gboolean
is_older_than (const LlmsbxSandboxInfo *info,
               gint64                   older_than)
{
  guint64 created;

  if (older_than < 0 || !parse_label_number (info, LLMSBX_LABEL_CREATED, &created))
    return FALSE;
  return g_get_real_time () / G_USEC_PER_SEC - (gint64) created > older_than;
}

/**
 * llmsbx_reap_sandboxes:
 * @backend: a connected #LlmsbxBackend
 * @label_selector: (array zero-terminated=1) (nullable): more labels (`key=value` or
 *   `key`) a sandbox must carry to be considered, besides the library's own
 * @older_than: also remove sandboxes created more than this many seconds ago,
 *   whoever owns them; -1 for none
 * @flags: #LlmsbxReapFlags
 * @reaped: (out) (optional) (transfer container) (element-type LlmsbxSandboxInfo):
 *   the sandboxes removed (with %LLMSBX_REAP_FLAGS_DRY_RUN: that would be
 *   removed), set even when the call fails part way
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Removes the sandboxes of @backend that the library created (and that carry
 * @label_selector) whose owner is gone (llmsbx_sandbox_info_owner_is_gone()),
 * or which are older than @older_than. The sandboxes of live processes are
 * left alone unless they are older than @older_than. Every removal is tried;
 * the first that failed is the error.
 *
 * Returns: %TRUE when the backend could be searched and every removal succeeded
 *
 * Since: 0.1
 */
gboolean
llmsbx_reap_sandboxes (LlmsbxBackend       *backend,
                       const char * const  *label_selector,
                       gint64               older_than,
                       LlmsbxReapFlags      flags,
                       GPtrArray          **reaped,
                       GCancellable        *cancellable,
                       GError             **error)
{
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  g_auto(GStrv) selector = NULL;
  g_autoptr(GPtrArray) found = NULL;
  g_autoptr(GPtrArray) removed = g_ptr_array_new_with_free_func ((GDestroyNotify) llmsbx_sandbox_info_free);
  g_autoptr(GError) first_error = NULL;

  g_return_val_if_fail (LLMSBX_IS_BACKEND (backend), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (reaped != NULL)
    *reaped = NULL;

  g_strv_builder_add (builder, MANAGED_LABEL);
  if (label_selector != NULL)
    g_strv_builder_addv (builder, (const char **) label_selector);
  selector = g_strv_builder_end (builder);

  found = llmsbx_backend_list_sandboxes (backend, (const char * const *) selector, cancellable, error);
  if (found == NULL)
    return FALSE;

  for (guint i = 0; i < found->len; i++)
    {
      LlmsbxSandboxInfo *info = g_ptr_array_index (found, i);
      g_autoptr(GError) local_error = NULL;

      if (!llmsbx_sandbox_info_owner_is_gone (info) && !is_older_than (info, older_than))
        continue;

      if ((flags & LLMSBX_REAP_FLAGS_DRY_RUN) == 0 &&
          !llmsbx_backend_remove_sandbox (backend, info->id, cancellable, &local_error))
        {
          if (first_error == NULL)
            {
              g_propagate_prefixed_error (&first_error, g_steal_pointer (&local_error),
                                          "Removing sandbox %.12s of %s failed: ", info->id,
                                          llmsbx_backend_get_name (backend));
            }
          continue;
        }
      g_ptr_array_add (removed, llmsbx_sandbox_info_copy (info));
    }

  if (reaped != NULL)
    *reaped = g_steal_pointer (&removed);
  if (first_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&first_error));
      return FALSE;
    }
  return TRUE;
}
