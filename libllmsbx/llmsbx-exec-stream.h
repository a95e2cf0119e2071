/* llmsbx-exec-stream.h: a command attached to its caller: standard input,
 * output as it comes, exit status. */
#pragma once

#if !defined(LLMSBX_INSIDE) && !defined(LLMSBX_COMPILATION)
#error "Only <llmsbx.h> can be included directly."
#endif

#include <gio/gio.h>
#include "llmsbx-visibility.h"
#include "llmsbx-output-collector.h"

G_BEGIN_DECLS

#define LLMSBX_TYPE_EXEC_STREAM (llmsbx_exec_stream_get_type ())
LLMSBX_AVAILABLE_IN_ALL
G_DECLARE_DERIVABLE_TYPE (LlmsbxExecStream, llmsbx_exec_stream, LLMSBX, EXEC_STREAM, GObject)

/**
 * LlmsbxExecStreamClass:
 * @parent_class: the parent class
 * @write_input: write all of @data to the command's standard input. Output
 *   that arrives meanwhile is kept for @read_output, so that a command that
 *   writes before it reads cannot block the writer.
 * @close_stdin: end the command's standard input (a half-close: output keeps
 *   coming). Where the transport cannot say so (an engine over TLS), the
 *   command sees no end of its input.
 * @read_output: block until output arrives and return it, setting @stream;
 *   %NULL without an error once the command's output has ended.
 * @wait: after the end of the output, the command's exit status, with the
 *   errors of llmsbx_backend_exec() (%LLMSBX_ERROR_COMMAND_NOT_STARTED,
 *   %LLMSBX_ERROR_CONTAINER_FAILED).
 * @kill: end every process the command started. %NULL (the default) kills
 *   them the way timeouts do: by the random token that
 *   llmsbx_backend_open_exec_stream() put in the command's environment.
 * @release: release the connection; called once, from llmsbx_exec_stream_close()
 *   or at finalization. Must not block for long.
 *
 * What a backend implements to attach its callers to a command. A backend
 * returns its subclass from #LlmsbxBackendClass.open_exec_stream; the base
 * class keeps the state (input closed, output ended, exit status read), so
 * each virtual method is called only when it can succeed.
 *
 * Since: 0.1
 */
struct _LlmsbxExecStreamClass
{
  GObjectClass parent_class;

  gboolean (*write_input) (LlmsbxExecStream    *self,
                           const guint8        *data,
                           gsize                length,
                           GCancellable        *cancellable,
                           GError             **error);
  gboolean (*close_stdin) (LlmsbxExecStream    *self,
                           GCancellable        *cancellable,
                           GError             **error);
  GBytes  *(*read_output) (LlmsbxExecStream    *self,
                           LlmsbxOutputStream  *stream,
                           GCancellable        *cancellable,
                           GError             **error);
  gboolean (*wait)        (LlmsbxExecStream    *self,
                           int                 *exit_status,
                           GCancellable        *cancellable,
                           GError             **error);
  gboolean (*kill)        (LlmsbxExecStream    *self,
                           GError             **error);
  void     (*release)     (LlmsbxExecStream    *self);

  /*< private >*/
  gpointer padding[8];
};

LLMSBX_AVAILABLE_IN_ALL
gboolean  llmsbx_exec_stream_write_stdin (LlmsbxExecStream    *self,
                                          GBytes              *data,
                                          GCancellable        *cancellable,
                                          GError             **error);
LLMSBX_AVAILABLE_IN_ALL
gboolean  llmsbx_exec_stream_close_stdin (LlmsbxExecStream    *self,
                                          GCancellable        *cancellable,
                                          GError             **error);
LLMSBX_AVAILABLE_IN_ALL
GBytes   *llmsbx_exec_stream_read        (LlmsbxExecStream    *self,
                                          LlmsbxOutputStream  *stream,
                                          GCancellable        *cancellable,
                                          GError             **error);
LLMSBX_AVAILABLE_IN_ALL
gboolean  llmsbx_exec_stream_read_all    (LlmsbxExecStream    *self,
                                          LlmsbxOutputFunc     func,
                                          gpointer             user_data,
                                          GCancellable        *cancellable,
                                          GError             **error);
LLMSBX_AVAILABLE_IN_ALL
gboolean  llmsbx_exec_stream_wait        (LlmsbxExecStream    *self,
                                          int                 *exit_status,
                                          GCancellable        *cancellable,
                                          GError             **error);
LLMSBX_AVAILABLE_IN_ALL
gboolean  llmsbx_exec_stream_kill        (LlmsbxExecStream    *self,
                                          GError             **error);
LLMSBX_AVAILABLE_IN_ALL
gboolean  llmsbx_exec_stream_close       (LlmsbxExecStream    *self,
                                          GError             **error);
LLMSBX_AVAILABLE_IN_ALL
gboolean  llmsbx_exec_stream_is_closed   (LlmsbxExecStream    *self);

G_END_DECLS
