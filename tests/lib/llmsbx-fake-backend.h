/* llmsbx-fake-backend.h: an in-process LlmsbxBackend whose sandboxes are
 * directories and whose execs are host processes, for tests without a daemon. */
#pragma once

#include <llmsbx.h>

G_BEGIN_DECLS

#define LLMSBX_TYPE_FAKE_BACKEND (llmsbx_fake_backend_get_type ())
G_DECLARE_FINAL_TYPE (LlmsbxFakeBackend, llmsbx_fake_backend, LLMSBX, FAKE_BACKEND, LlmsbxBackend)

/* What can be made to fail, each with the error a real engine gives. */
typedef enum {
  LLMSBX_FAKE_FAULT_EXEC,         /* exec fails with CONTAINER_FAILED before it starts anything */
  LLMSBX_FAKE_FAULT_DEADLINE,     /* exec starts the command, then fails with TIMEOUT at once,
                                   * as if its deadline had passed; the command keeps running */
  LLMSBX_FAKE_FAULT_PUT_ARCHIVE,  /* put_archive answers as the engine's 404: FILE_NOT_FOUND */
  LLMSBX_FAKE_FAULT_CREATE,       /* create_sandbox fails and leaves nothing */
  LLMSBX_FAKE_FAULT_REMOVE,       /* remove_sandbox fails and the sandbox stays */
  LLMSBX_FAKE_FAULT_PROBE,        /* probe fails with BACKEND_UNAVAILABLE */
  LLMSBX_FAKE_N_FAULTS
} LlmsbxFakeFault;

LlmsbxBackend *llmsbx_fake_backend_new          (void);
gboolean       llmsbx_fake_backend_register     (LlmsbxRegistry    *registry,
                                                 const char        *name,
                                                 guint              rank,
                                                 GError           **error);
void           llmsbx_fake_backend_inject_fault (LlmsbxFakeBackend *self,
                                                 LlmsbxFakeFault    fault,
                                                 guint              after,
                                                 guint              times);
guint          llmsbx_fake_backend_get_calls    (LlmsbxFakeBackend *self,
                                                 LlmsbxFakeFault    fault);

/* The store every fake backend shares, as the instances of a real backend
 * share their engine. */
void           llmsbx_fake_backend_set_usable   (const char        *name,
                                                 gboolean           usable);
void           llmsbx_fake_backend_add_image    (const char        *image);
guint          llmsbx_fake_backend_count_sandboxes (void);
gboolean       llmsbx_fake_backend_has_sandbox  (const char        *sandbox_id);
char          *llmsbx_fake_backend_get_root     (const char        *sandbox_id);
guint          llmsbx_fake_backend_reap         (const char        *label);

G_END_DECLS
