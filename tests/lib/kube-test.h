/* kube-test.h: the test Kubernetes API server (tests/kubernetes/), started
 * by a test program for itself.
 *
 * The server runs with --watch-stdin on a pipe, so it ends and removes its
 * containers when the test program ends, however it ends. Its certificates
 * are made once per build directory (--pki-dir) and shared. */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

typedef struct
{
  GSubprocess *process;       /* NULL for the parent program's server */
  char        *ready_line;
  JsonObject  *ready;         /* the ready JSON */
  char        *url;
  char        *admin_url;
  char        *state_dir;
  char        *kubeconfig;    /* the JSON kubeconfig, certificates inline */
  char        *docker_label;  /* io.llmsbx.kube-test-server=<instance> */
} KubeTestServer;

/* Starts a server in tls-cert mode with @config (a JSON object or NULL) and
 * the extra arguments @first_arg... (NULL-terminated). */
KubeTestServer *kube_test_server_start (const char *config,
                                        const char *first_arg,
                                        ...);

/* POSTs @json to the admin endpoint's /config (merge) or /reset (@json NULL). */
void            kube_test_server_configure (KubeTestServer *server,
                                            const char     *json);

/* Stops it (SIGTERM, then waits: it removes its containers first). */
void            kube_test_server_stop  (KubeTestServer *server);

/* The server the shared backend suite runs against when
 * LLMSBX_TEST_BACKEND=kubernetes: started once by backend_test_prepare(),
 * its kubeconfig exported as $KUBECONFIG, stopped at exit; the program's
 * test subprocesses find it in $LLMSBX_TEST_KUBE_SERVER and share it. */
KubeTestServer *kube_test_shared_server (void);
void            kube_test_prepare_shared (void);

/* Pod names (one per line) of the server's pods whose containers match a
 * `docker ps` filter (`label=K=V`), or of pod @id with `id=ID`. */
char           *kube_test_ps             (const char *filter);
/* "true", "false" or "" (gone), as docker says of the pod's container. */
char           *kube_test_running        (const char *id);
GSubprocess    *kube_test_kill           (const char *id);

/* The Docker container (full id) the server made for pod @id's first
 * container, or NULL when there is none. */
char           *kube_test_docker_id      (const char *id);
/* Pod @id as the API serves it (in the default namespace), or NULL when it
 * is gone. */
JsonObject     *kube_test_pod            (const char *id);
/* Whether @path, a pod's volume directory on the node
 * (STATE/pods/UID/volumes/...), is still there. A kubelet removes a pod's
 * volumes after its containers: once they are gone, the directory is
 * waited for (15 s at most). */
gboolean        kube_test_volume_exists  (const char *path);
/* Sets the node's podPidsLimit (the server's `pod_pids_limit`) for the
 * pods created from now on: -1 for none. */
void            kube_test_set_pod_pids_limit (gint64 limit);

G_END_DECLS
