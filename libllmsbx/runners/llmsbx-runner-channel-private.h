/* llmsbx-runner-channel-private.h: an attached exec (LlmsbxExecStream) as the
 * pollable GIOStream that the resident runner's client reads and writes.
 *
 * The client waits with deadlines on pollable streams; an exec stream only
 * blocks (with a cancellable) and is used from one thread at a time. The
 * channel owns the exec stream in two threads around a socket pair: one
 * carries the command's stdout to the client's end (its stderr is kept, the
 * last few KiB, for messages), the other carries what the client writes to
 * the command's stdin, interrupting the reader for the time of each write.
 * Private, not installed. */
#pragma once

#include "llmsbx-exec-stream.h"

G_BEGIN_DECLS

typedef struct _LlmsbxRunnerChannel LlmsbxRunnerChannel;

LlmsbxRunnerChannel *llmsbx_runner_channel_new            (LlmsbxExecStream     *stream,
                                                           GError              **error);
LlmsbxRunnerChannel *llmsbx_runner_channel_ref            (LlmsbxRunnerChannel  *self);
void                 llmsbx_runner_channel_unref          (LlmsbxRunnerChannel  *self);
GIOStream           *llmsbx_runner_channel_get_io_stream  (LlmsbxRunnerChannel  *self);
gboolean             llmsbx_runner_channel_get_exit_code  (gpointer              self,
                                                           int                  *exit_code);
GError              *llmsbx_runner_channel_dup_end_error  (LlmsbxRunnerChannel  *self);
char                *llmsbx_runner_channel_dup_stderr     (LlmsbxRunnerChannel  *self);
gboolean             llmsbx_runner_channel_close          (LlmsbxRunnerChannel  *self,
                                                           GError              **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (LlmsbxRunnerChannel, llmsbx_runner_channel_unref)

G_END_DECLS
