/* llmsbx-bubblewrap-sandbox.h: the state of a bubblewrap sandbox, kept in its directory. */
#pragma once

#include <llmsbx.h>

G_BEGIN_DECLS

/**
 * LlmsbxBubblewrapSandbox:
 *
 * What is known of a sandbox, from its state file (`state` in its
 * directory): enough to run commands in it, list it by its labels, and
 * clean up after it when its helper died.
 */
typedef struct {
  char     *id;
  char     *name;
  char     *dir;
  char     *image;          /* the reference it was created from */
  char     *image_id;
  char    **image_layers;   /* the image's layer ids, top first */
  char     *workdir;        /* the directory kept writable for the session */
  char     *cwd;            /* where commands run by default: working_dir, else workdir */
  guint32   uid;
  guint32   gid;
  char    **env;            /* every command's environment before its own */
  char    **labels;         /* key=value */
  char    **cgroups;        /* its cgroup directories on the host */
  gboolean  read_only;      /* no upper layer; the workdir is dir/workdir */
  gint64    created;        /* real time, microseconds */
  gint64    helper_pid;
  guint64   helper_start;   /* start time in clock ticks, against pid reuse */
  gint64    init_pid;       /* the sandbox's first process, on the host */
  guint64   init_start;
} LlmsbxBubblewrapSandbox;

LlmsbxBubblewrapSandbox *llmsbx_bubblewrap_sandbox_new        (const char               *store,
                                                               const char               *id);
LlmsbxBubblewrapSandbox *llmsbx_bubblewrap_sandbox_ref        (LlmsbxBubblewrapSandbox  *self);
void                     llmsbx_bubblewrap_sandbox_unref      (LlmsbxBubblewrapSandbox  *self);
gboolean                 llmsbx_bubblewrap_sandbox_save       (LlmsbxBubblewrapSandbox  *self,
                                                               GError                  **error);
LlmsbxBubblewrapSandbox *llmsbx_bubblewrap_sandbox_load       (const char               *store,
                                                               const char               *id,
                                                               GError                  **error);
LlmsbxBubblewrapSandbox *llmsbx_bubblewrap_sandbox_find       (const char               *store,
                                                               const char               *id_or_name,
                                                               GError                  **error);
GPtrArray               *llmsbx_bubblewrap_sandbox_list       (const char               *store);
char                    *llmsbx_bubblewrap_sandbox_path       (LlmsbxBubblewrapSandbox  *self,
                                                               const char               *name);
const char              *llmsbx_bubblewrap_sandbox_get_label  (LlmsbxBubblewrapSandbox  *self,
                                                               const char               *key);
gboolean                 llmsbx_bubblewrap_sandbox_matches    (LlmsbxBubblewrapSandbox  *self,
                                                               const char * const       *label_selector);
gboolean                 llmsbx_bubblewrap_sandbox_helper_alive (LlmsbxBubblewrapSandbox *self);
gboolean                 llmsbx_bubblewrap_sandbox_init_alive (LlmsbxBubblewrapSandbox  *self);
gboolean                 llmsbx_bubblewrap_sandbox_reap       (LlmsbxBubblewrapSandbox  *self,
                                                               GError                  **error);
guint                    llmsbx_bubblewrap_sandbox_reap_stale (const char               *store);

gboolean                 llmsbx_bubblewrap_sandbox_not_running (const char              *id,
                                                                GError                 **error);

guint64                  llmsbx_bubblewrap_process_start_time (gint64                    pid);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (LlmsbxBubblewrapSandbox, llmsbx_bubblewrap_sandbox_unref)

G_END_DECLS
