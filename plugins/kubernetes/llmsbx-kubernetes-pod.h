/* llmsbx-kubernetes-pod.h: the sandbox's pod: its manifest from a container
 * spec (and the user's pod manifest), and how it starts. */
#pragma once

#include <llmsbx.h>

#include "llmsbx-kubernetes-client.h"

G_BEGIN_DECLS

/* The container every sandbox pod runs its commands in, when the user's
 * manifest names none. */
#define LLMSBX_KUBE_CONTAINER "sandbox"

/* What runs the keep-alive command ("$@") as PID 1's child: the pod ends
 * when it ends, whoever killed it. */
#define LLMSBX_KUBE_KEEP_ALIVE_SCRIPT "\"$@\" & wait $!"

/* The pod to create for @spec: the user's manifest (@spec->pod_manifest)
 * with our image, keep-alive command, env, workdir and labels supplied
 * where it has none (labels are merged, never replacing the user's), or a
 * manifest of our own. */
JsonNode *llmsbx_kube_pod_manifest (const LlmsbxContainerSpec  *spec,
                                    GError                    **error);

/* The name of the container commands run in: the first one. */
char     *llmsbx_kube_pod_container (JsonObject *pod);

/* Waits until the pod runs, failing fast on the reasons that will not heal
 * (ErrImagePull, ImagePullBackOff, CreateContainerError, CrashLoopBackOff,
 * Unschedulable...), naming the reason and the pod. Returns the pod. */
JsonNode *llmsbx_kube_pod_wait_running (LlmsbxKubeClient  *client,
                                        const char        *namespace_,
                                        const char        *name,
                                        double             timeout,
                                        GCancellable      *cancellable,
                                        GError           **error);

/* Deletes the pod at once (grace 0) and waits until the API no longer
 * shows it; a pod that is gone counts as deleted. */
gboolean  llmsbx_kube_pod_delete (LlmsbxKubeClient  *client,
                                  const char        *namespace_,
                                  const char        *name,
                                  GCancellable      *cancellable,
                                  GError           **error);

G_END_DECLS
