/* llmsbx-kubernetes-exec.h: one command in a pod, over the exec
 * subresource's WebSocket (v5.channel.k8s.io, else v4.channel.k8s.io).
 *
 * Blocking calls for the backend's synchronous contract: each runs a
 * private main context the WebSocket lives on, so any thread may drive an
 * exec, one at a time. */
#pragma once

#include <llmsbx.h>

#include "llmsbx-kubernetes-client.h"

G_BEGIN_DECLS

typedef struct _LlmsbxKubeExec LlmsbxKubeExec;

/* Takes output as it is parsed; an error ends the exec. */
typedef gboolean (*LlmsbxKubeExecSink) (LlmsbxOutputStream  stream,
                                        GBytes             *bytes,
                                        gpointer            user_data,
                                        GError            **error);

LlmsbxKubeExec *llmsbx_kube_exec_open  (LlmsbxKubeClient    *client,
                                        const char          *namespace_,
                                        const char          *pod,
                                        const char          *container,
                                        const char * const  *argv,
                                        gboolean             with_stdin,
                                        gint64               deadline,
                                        GCancellable        *cancellable,
                                        GError             **error);
/* Output goes to @sink as libsoup parses it instead of waiting for
 * llmsbx_kube_exec_read(): libsoup reads all that the socket holds in one
 * go, so only a consumer called from inside bounds the memory a flood
 * takes. llmsbx_kube_exec_read() then only waits for the end. */
void            llmsbx_kube_exec_set_sink (LlmsbxKubeExec     *self,
                                           LlmsbxKubeExecSink  sink,
                                           gpointer            user_data);

/* Whether the server spoke v5, which can end stdin (v4 cannot). */
gboolean        llmsbx_kube_exec_can_close_stdin (LlmsbxKubeExec *self);
gboolean        llmsbx_kube_exec_write (LlmsbxKubeExec      *self,
                                        const guint8        *data,
                                        gsize                length,
                                        GError             **error);
gboolean        llmsbx_kube_exec_close_stdin (LlmsbxKubeExec *self,
                                              GError        **error);
/* The next output, NULL without an error at the end (the exit status came
 * or the stream closed); LLMSBX_ERROR_TIMEOUT past @deadline (0: none). */
GBytes         *llmsbx_kube_exec_read  (LlmsbxKubeExec      *self,
                                        LlmsbxOutputStream  *stream,
                                        gint64               deadline,
                                        GCancellable        *cancellable,
                                        GError             **error);
/* After the end: the exit status from the channel-3 Status.
 * LLMSBX_ERROR_COMMAND_NOT_STARTED when the runtime could not start it. */
gboolean        llmsbx_kube_exec_finish (LlmsbxKubeExec     *self,
                                         int                *exit_status,
                                         GError            **error);
void            llmsbx_kube_exec_free  (LlmsbxKubeExec      *self);

/* The argv that runs @request (env, workdir) in a pod, reading at most
 * @stdin_length bytes of stdin (-1: all). */
char          **llmsbx_kube_exec_wrap_argv (const LlmsbxExecRequest *request,
                                            gssize                   stdin_length);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (LlmsbxKubeExec, llmsbx_kube_exec_free)

G_END_DECLS
