/* isolated-test.c: backend tests whose bodies run in subprocesses. */
#include "isolated-test.h"

#include <string.h>

#include "bubblewrap-test.h"
#include "kube-test.h"
#include "llmsbx-fake-backend.h"

const char *
test_run_id (void)
{
  const char *id = g_getenv ("LLMSBX_TEST_RUN");

  if (id == NULL)
    {
      g_autofree char *fresh = g_uuid_string_random ();

      g_setenv ("LLMSBX_TEST_RUN", fresh, TRUE);
      id = g_getenv ("LLMSBX_TEST_RUN");
    }
  return id;
}

char *
test_run_filter (void)
{
  return g_strdup_printf ("label=" TEST_RUN_LABEL "=%s", test_run_id ());
}

/* Podman 4's CLI reads every image of the store for many commands (images,
 * build, inspect), and fails with "image not known" or "layer not known"
 * when another program removes one meanwhile, as a parallel test program's
 * cleanup does (the library asks again too: llmsbx-engine-client.h). */
#define MAX_RACED_CLI_ATTEMPTS 10

static gboolean
is_storage_race (const char *err)
{
  return strstr (err, "image not known") != NULL || strstr (err, "layer not known") != NULL;
}

/* Runs the engine's CLI with @argv (NULL-terminated, the CLI's name left
 * out); its standard output is returned, its error output and whether it
 * succeeded land in @err and @successful. */
static char *
run_cli (const char * const  *argv,
         char               **err,
         gboolean            *successful)
{
  g_autoptr(GSubprocessLauncher) launcher =
    backend_test_cli_launcher (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_autoptr(GPtrArray) full = g_ptr_array_new ();
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GError) error = NULL;
  char *out = NULL;

  g_ptr_array_add (full, (gpointer) backend_test_cli ());
  for (gsize i = 0; argv[i] != NULL; i++)
    g_ptr_array_add (full, (gpointer) argv[i]);
  g_ptr_array_add (full, NULL);

  process = g_subprocess_launcher_spawnv (launcher, (const char * const *) full->pdata, &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (process, NULL, NULL, &out, err, &error);
  g_assert_no_error (error);
  *successful = g_subprocess_get_successful (process);
  return out;
}

char *
test_cli (gboolean     must_succeed,
          const char  *first_arg,
          ...)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  gboolean successful;
  va_list args;

  va_start (args, first_arg);
  for (const char *arg = first_arg; arg != NULL; arg = va_arg (args, const char *))
    g_ptr_array_add (argv, (gpointer) arg);
  va_end (args);
  g_ptr_array_add (argv, NULL);

  /* What must succeed is tried again while it fails for Podman 4's storage
   * racing another program's removal (see list_images()). */
  for (guint attempt = 1;; attempt++)
    {
      g_clear_pointer (&out, g_free);
      g_clear_pointer (&err, g_free);
      out = run_cli ((const char * const *) argv->pdata, &err, &successful);
      if (successful || !must_succeed)
        return g_steal_pointer (&out);
      if (attempt == MAX_RACED_CLI_ATTEMPTS || !is_storage_race (err))
        g_error ("%s %s failed: %s", backend_test_cli (), first_arg, err);
      g_usleep (100 * G_TIME_SPAN_MILLISECOND);
    }
}

/* `docker inspect` of the Docker container the test API server made for
 * pod @id: the node's record of it. */
static JsonObject *
kube_inspect (const char *id)
{
  g_autofree char *docker_id = kube_test_docker_id (id);
  const char *argv[] = { "docker", "inspect", "--type", "container", docker_id, NULL };
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *out = NULL;
  g_autoptr(JsonNode) root = NULL;

  if (docker_id == NULL)
    g_error ("pod %s has no container on the test API server's node", id);
  process = g_subprocess_newv (argv, G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (process, NULL, NULL, &out, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_get_successful (process));
  root = json_from_string (out, &error);
  g_assert_no_error (error);
  return json_object_ref (json_array_get_object_element (json_node_get_array (root), 0));
}

JsonObject *
test_inspect (const char *type,
              const char *id)
{
  g_autofree char *out = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) root = NULL;

  if (backend_test_is_kubernetes ())
    {
      g_assert_cmpstr (type, ==, "container");
      return kube_inspect (id);
    }
  out = test_cli (TRUE, "inspect", "--type", type, id, NULL);
  root = json_from_string (out, &error);

  g_assert_no_error (error);
  g_assert_true (JSON_NODE_HOLDS_ARRAY (root));
  g_assert_cmpuint (json_array_get_length (json_node_get_array (root)), ==, 1);
  return json_object_ref (json_array_get_object_element (json_node_get_array (root), 0));
}

gboolean
test_object_exists (const char *type,
                    const char *id)
{
  g_autoptr(GSubprocessLauncher) launcher =
    backend_test_cli_launcher (G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDERR_SILENCE);
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GError) error = NULL;

  /* On bubblewrap a volume is a directory of the host, and an image one
   * of the store that a tag names. */
  if (backend_test_is_bubblewrap ())
    {
      g_autofree char *dir = g_str_equal (type, "container") ? bubblewrap_test_sandbox_dir (id) : NULL;

      if (g_str_equal (type, "image"))
        {
          g_autofree char *image = bubblewrap_test_image_id (id);

          return image != NULL && bubblewrap_test_image_exists (image);
        }
      g_assert_true (g_str_equal (type, "container") || g_str_equal (type, "volume"));
      return g_file_test (dir ? dir : id, G_FILE_TEST_EXISTS);
    }
  /* A pod is a container of the test API server's; its volumes (disk
   * emptyDirs) are directories of the node, as test_sandbox_volumes() names
   * them. */
  if (backend_test_is_kubernetes ())
    {
      g_autofree char *filter = g_strdup_printf ("id=%s", id);
      g_autofree char *found = NULL;

      if (g_str_equal (type, "volume"))
        return kube_test_volume_exists (id);
      g_assert_true (g_str_equal (type, "container"));
      found = backend_test_ps (filter);
      return *found != '\0';
    }
  /* `podman inspect` fails alike for an absent image and for a lookup
   * that raced another program's removal; `podman image exists` tells the
   * two apart (1: absent), and a raced lookup is made again. */
  if (g_str_equal (backend_test_cli (), "podman") && g_str_equal (type, "image"))
    for (guint attempt = 1;; attempt++)
      {
        g_clear_object (&process);
        process = g_subprocess_launcher_spawn (launcher, &error, "podman", "image", "exists", id, NULL);
        g_assert_no_error (error);
        g_subprocess_wait (process, NULL, &error);
        g_assert_no_error (error);
        if (g_subprocess_get_if_exited (process) && g_subprocess_get_exit_status (process) <= 1)
          return g_subprocess_get_exit_status (process) == 0;
        if (attempt == MAX_RACED_CLI_ATTEMPTS)
          g_error ("podman image exists %s failed (status %d)", id, g_subprocess_get_status (process));
        g_usleep (100 * G_TIME_SPAN_MILLISECOND);
      }

  process = g_subprocess_launcher_spawn (launcher, &error,
                                         backend_test_cli (), "inspect", "--type", type, id, NULL);
  g_assert_no_error (error);
  g_subprocess_wait (process, NULL, &error);
  g_assert_no_error (error);
  return g_subprocess_get_successful (process);
}

GPtrArray *
test_sandbox_volumes (const char *id)
{
  g_autoptr(JsonObject) inspect = NULL;
  g_autofree char *pods_dir = NULL;
  JsonArray *mounts;
  GPtrArray *names = g_ptr_array_new_with_free_func (g_free);

  /* bubblewrap's one "volume" is the workdir of a read-only root, a
   * directory in the sandbox's own directory. */
  if (backend_test_is_bubblewrap ())
    {
      g_autofree char *dir = bubblewrap_test_sandbox_dir (id);
      g_autofree char *workdir = g_build_filename (dir, "workdir", NULL);

      if (g_file_test (workdir, G_FILE_TEST_IS_DIR))
        g_ptr_array_add (names, g_steal_pointer (&workdir));
      return names;
    }
  inspect = test_inspect ("container", id);
  mounts = json_object_get_array_member (inspect, "Mounts");
  /* A pod's disk emptyDirs are the node's directories, bound in. */
  if (backend_test_is_kubernetes ())
    pods_dir = g_build_filename (kube_test_shared_server ()->state_dir, "pods", "", NULL);

  for (guint i = 0; i < json_array_get_length (mounts); i++)
    {
      JsonObject *mount = json_array_get_object_element (mounts, i);
      const char *mount_type = json_object_get_string_member_with_default (mount, "Type", "");
      const char *source = json_object_get_string_member_with_default (mount, "Source", "");

      if (pods_dir != NULL)
        {
          if (g_str_equal (mount_type, "bind") && g_str_has_prefix (source, pods_dir) &&
              strstr (source, "/kubernetes.io~empty-dir/") != NULL)
            g_ptr_array_add (names, g_strdup (source));
        }
      else if (g_str_equal (mount_type, "volume"))
        g_ptr_array_add (names, g_strdup (json_object_get_string_member (mount, "Name")));
    }
  return names;
}

gboolean
test_sandbox_oom_killed (const char *id)
{
  g_autoptr(JsonObject) inspect = NULL;

  /* bubblewrap keeps no record of a stopped sandbox. */
  if (backend_test_is_bubblewrap ())
    return FALSE;
  /* The pod's record: its container terminated for OOMKilled. */
  if (backend_test_is_kubernetes ())
    {
      g_autoptr(JsonObject) pod = kube_test_pod (id);
      JsonObject *status = pod ? json_object_get_object_member (pod, "status") : NULL;
      JsonArray *statuses = status && json_object_has_member (status, "containerStatuses")
                            ? json_object_get_array_member (status, "containerStatuses") : NULL;
      JsonObject *state, *terminated;

      if (statuses == NULL || json_array_get_length (statuses) == 0)
        return FALSE;
      state = json_object_get_object_member (json_array_get_object_element (statuses, 0), "state");
      terminated = json_object_has_member (state, "terminated") ? json_object_get_object_member (state, "terminated")
                                                                 : NULL;
      return terminated != NULL &&
             g_strcmp0 (json_object_get_string_member_with_default (terminated, "reason", ""), "OOMKilled") == 0;
    }
  inspect = test_inspect ("container", id);
  return json_object_get_boolean_member (json_object_get_object_member (inspect, "State"), "OOMKilled");
}

guint
test_exec_events (const char *id,
                  const char *since,
                  const char *until)
{
  g_autofree char *filter = NULL;
  g_autofree char *out = NULL;
  g_auto(GStrv) lines = NULL;
  guint count = 0;

  /* bubblewrap's init logs every command it starts (bubblewrap-test.h). */
  if (backend_test_is_bubblewrap ())
    return bubblewrap_test_exec_events (id, since, until);
  /* On Kubernetes, the node's: the Docker container of the pod. */
  if (backend_test_is_kubernetes ())
    {
      g_autofree char *docker_id = kube_test_docker_id (id);
      const char *argv[] = { "docker", "events", "--since", since, "--until", until, "--filter", NULL, NULL };
      g_autoptr(GSubprocess) process = NULL;
      g_autoptr(GError) error = NULL;

      g_assert_nonnull (docker_id);
      filter = g_strdup_printf ("container=%s", docker_id);
      argv[7] = filter;
      process = g_subprocess_newv (argv, G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error);
      g_assert_no_error (error);
      g_subprocess_communicate_utf8 (process, NULL, NULL, &out, NULL, &error);
      g_assert_no_error (error);
      g_assert_true (g_subprocess_get_successful (process));
    }
  /* Podman's file event log answers nothing when --until is in the past
   * (podman issue 29579); called right after @until, "everything since"
   * is the same window. */
  else if (g_str_equal (backend_test_name (), "podman"))
    {
      filter = g_strdup_printf ("container=%s", id);
      out = test_cli (TRUE, "events", "--since", since, "--stream=false", "--filter", filter, NULL);
    }
  else
    {
      filter = g_strdup_printf ("container=%s", id);
      out = test_cli (TRUE, "events", "--since", since, "--until", until, "--filter", filter, NULL);
    }
  lines = g_strsplit (out, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    if (strstr (lines[i], "exec") != NULL)
      count++;
  return count;
}

void
test_reap (void)
{
  g_autofree char *filter = test_run_filter ();
  g_autofree char *containers = NULL;
  g_autofree char *images = NULL;
  g_auto(GStrv) ids = NULL;

  if (backend_test_is_fake ())
    {
      g_autofree char *label = g_strdup_printf (TEST_RUN_LABEL "=%s", test_run_id ());
      guint found = llmsbx_fake_backend_reap (label);

      if (found > 0)
        g_test_message ("removed %u leftover fake processes and sandboxes", found);
      return;
    }

  if (backend_test_is_bubblewrap ())
    {
      g_autofree char *label = g_strdup_printf (TEST_RUN_LABEL "=%s", test_run_id ());

      containers = bubblewrap_test_ps (filter);
      ids = g_strsplit (containers, "\n", -1);
      for (guint i = 0; ids[i] != NULL; i++)
        if (*ids[i] != '\0')
          {
            bubblewrap_test_remove (ids[i]);
            g_test_message ("removed leftover sandbox %s", ids[i]);
          }
      bubblewrap_test_remove_images (label);
      bubblewrap_test_reap_private_store (label);
      return;
    }

  /* Pods go through the API; the server removes their containers. */
  if (backend_test_is_kubernetes ())
    {
      g_autoptr(LlmsbxBackend) backend = llmsbx_registry_create_backend (llmsbx_registry_get_default (),
                                                                         "kubernetes", NULL);
      g_autofree char *label = g_strdup_printf (TEST_RUN_LABEL "=%s", test_run_id ());
      g_autoptr(GPtrArray) pods = NULL;

      g_assert_nonnull (backend);
      pods = llmsbx_backend_list_sandboxes (backend, (const char *[]) { label, NULL }, NULL, NULL);
      for (guint i = 0; pods != NULL && i < pods->len; i++)
        {
          LlmsbxSandboxInfo *pod = g_ptr_array_index (pods, i);

          llmsbx_backend_remove_sandbox (backend, pod->id, NULL, NULL);
          g_test_message ("removed leftover pod %s", pod->id);
        }
      return;
    }

  containers = test_cli (TRUE, "ps", "-aq", "--no-trunc", "--filter", filter, NULL);
  ids = g_strsplit (g_strstrip (containers), "\n", -1);
  for (guint i = 0; ids[i] != NULL; i++)
    if (*ids[i] != '\0')
      {
        g_free (test_cli (FALSE, "rm", "-f", "-v", ids[i], NULL));
        g_test_message ("removed leftover container %s", ids[i]);
      }

  images = test_cli (TRUE, "images", "-q", "--no-trunc", "--filter", filter, NULL);
  g_strfreev (ids);
  ids = g_strsplit (g_strstrip (images), "\n", -1);
  for (guint i = 0; ids[i] != NULL; i++)
    if (*ids[i] != '\0')
      {
        g_free (test_cli (FALSE, "rmi", "-f", ids[i], NULL));
        g_test_message ("removed leftover image %s", ids[i]);
      }
}

gboolean
test_in_subprocess (void)
{
  if (g_test_subprocess ())
    return TRUE;

  /* A failed body fails its test; the program goes on, so the next bodies
   * run and GLib removes the test's temporary directory at the end. */
  g_test_set_nonfatal_assertions ();
  g_test_trap_subprocess (NULL, 600 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_INHERIT_STDERR);
  test_reap ();
  g_test_trap_assert_passed ();
  return FALSE;
}

void
test_isolated (gconstpointer body)
{
  if (test_in_subprocess ())
    ((GTestFunc) body) ();
}

char *
test_host_dir (const char *prefix)
{
  g_autofree char *template = g_strdup_printf ("%s/%s-XXXXXX", g_get_home_dir (), prefix);

  g_assert_cmpint (g_mkdir_with_parents (g_get_home_dir (), 0700), ==, 0);
  g_assert_nonnull (g_mkdtemp (template));
  return g_steal_pointer (&template);
}

char *
test_configs (const char *members)
{
  return g_strdup_printf ("{%s%s\"labels\": {\"" TEST_RUN_LABEL "\": \"%s\"}}",
                          members, *members ? ", " : "", test_run_id ());
}

/* On Kubernetes the docker-py keys the tests configure with become the pod
 * manifest's: labels → metadata.labels, environment → env, read_only → a
 * read-only root with the workdir on a disk emptyDir (as an engine's
 * anonymous volume; also for a user other than root), tmpfs → memory emptyDirs (size= as their sizeLimit),
 * mem_limit, cpu_quota/cpu_period and nano_cpus → resources.limits,
 * cpu_shares → resources.requests.cpu (the kubelet's shares), user,
 * privileged, cap_drop, cap_add and no-new-privileges → the container's
 * securityContext, group_add → the pod's supplementalGroups, hostname →
 * spec.hostname, working_dir → the container's workingDir.
 * pids_limit is the node's (a kubelet's podPidsLimit; a pod cannot set
 * one), so it becomes the test server's pod_pids_limit for this pod.
 * network_mode none is what the test server's pods have anyway (a cluster
 * needs a NetworkPolicy) and memswap_limit what a pod has (no swap).
 * Anything else has no pod equivalent. */
static char *
kube_quantity (const char *docker)
{
  gsize len = strlen (docker);
  char unit = len ? g_ascii_tolower (docker[len - 1]) : '\0';

  if (unit == 'k' || unit == 'm' || unit == 'g')
    return g_strdup_printf ("%.*s%ci", (int) len - 1, docker, g_ascii_toupper (unit));
  return g_strdup (docker);
}

static JsonObject *
member_object (JsonObject *object,
               const char *name)
{
  if (!json_object_has_member (object, name))
    json_object_set_object_member (object, name, json_object_new ());
  return json_object_get_object_member (object, name);
}

/* An emptyDir at @path: memory-backed for a tmpfs (with @tmpfs_options'
 * size= as its sizeLimit), else on the node's disk. */
static void
add_scratch (JsonArray  *mounts,
             JsonArray  *volumes,
             const char *path,
             gboolean    memory,
             const char *tmpfs_options)
{
  g_autofree char *name = g_strdup_printf ("scratch-%u", json_array_get_length (volumes));
  JsonObject *mount = json_object_new ();
  JsonObject *volume = json_object_new ();
  JsonObject *empty_dir = json_object_new ();
  g_auto(GStrv) options = g_strsplit (tmpfs_options ? tmpfs_options : "", ",", -1);

  json_object_set_string_member (mount, "name", name);
  json_object_set_string_member (mount, "mountPath", path);
  json_array_add_object_element (mounts, mount);
  if (memory)
    json_object_set_string_member (empty_dir, "medium", "Memory");
  for (guint i = 0; options[i] != NULL; i++)
    if (g_str_has_prefix (options[i], "size="))
      {
        g_autofree char *size = kube_quantity (options[i] + strlen ("size="));

        json_object_set_string_member (empty_dir, "sizeLimit", size);
      }
    /* What a memory emptyDir is anyway: writable, programs can run in it,
     * and the test server mounts it mode 1777. */
    else if (memory && (g_str_equal (options[i], "rw") || g_str_equal (options[i], "exec") ||
                        g_str_equal (options[i], "mode=1777")))
      continue;
    else if (*options[i] != '\0')
      g_error ("tmpfs option %s has no emptyDir equivalent on Kubernetes", options[i]);
  json_object_set_string_member (volume, "name", name);
  json_object_set_object_member (volume, "emptyDir", empty_dir);
  json_array_add_object_element (volumes, volume);
}

static char *
configs_as_pod_manifest (const char *json)
{
  static const char * const known[] = {
    "labels", "environment", "read_only", "tmpfs", "mem_limit", "memswap_limit", "cpu_quota", "cpu_period",
    "user", "cap_drop", "cap_add", "security_opt", "network_mode", "pids_limit", "nano_cpus", "cpu_shares",
    "privileged", "group_add", "hostname", "working_dir", NULL,
  };
  g_autoptr(JsonNode) root = json_from_string (json, NULL);
  JsonObject *configs = root && JSON_NODE_HOLDS_OBJECT (root) ? json_node_get_object (root) : NULL;
  g_autoptr(JsonNode) manifest = json_node_new (JSON_NODE_OBJECT);
  JsonObject *pod = json_object_new ();
  JsonObject *container = json_object_new ();
  JsonObject *spec, *security;
  JsonArray *containers = json_array_new ();
  JsonArray *mounts = json_array_new ();
  JsonArray *volumes = json_array_new ();
  g_autoptr(GList) keys = NULL;

  g_assert_nonnull (configs);
  json_node_take_object (manifest, pod);
  keys = json_object_get_members (configs);
  for (GList *k = keys; k != NULL; k = k->next)
    if (!g_strv_contains (known, k->data) ||
        (g_str_equal (k->data, "network_mode") &&
         g_strcmp0 (json_object_get_string_member (configs, "network_mode"), "none") != 0))
      g_error ("runtime config %s has no pod equivalent on Kubernetes", (const char *) k->data);

  if (json_object_has_member (configs, "labels"))
    json_object_set_member (member_object (pod, "metadata"), "labels",
                            json_node_copy (json_object_get_member (configs, "labels")));
  spec = member_object (pod, "spec");
  json_array_add_object_element (containers, container);
  json_object_set_array_member (spec, "containers", containers);
  security = member_object (container, "securityContext");

  if (json_object_has_member (configs, "environment"))
    {
      JsonObject *environment = json_object_get_object_member (configs, "environment");
      g_autoptr(GList) names = json_object_get_members (environment);
      JsonArray *env = json_array_new ();

      for (GList *n = names; n != NULL; n = n->next)
        {
          JsonObject *entry = json_object_new ();

          json_object_set_string_member (entry, "name", n->data);
          json_object_set_string_member (entry, "value", json_object_get_string_member (environment, n->data));
          json_array_add_object_element (env, entry);
        }
      json_object_set_array_member (container, "env", env);
    }
  if (json_object_get_boolean_member_with_default (configs, "read_only", FALSE))
    json_object_set_boolean_member (security, "readOnlyRootFilesystem", TRUE);
  /* The engines open the image's root-owned workdir up for another user
   * (as root); an exec on Kubernetes cannot be root, so such a pod gets its
   * workdir as an emptyDir (docs/backends.md), as a read-only root does. */
  if (json_object_get_boolean_member_with_default (configs, "read_only", FALSE) ||
      (json_object_has_member (configs, "user") &&
       !g_str_equal (json_object_get_string_member (configs, "user"), "0") &&
       !g_str_equal (json_object_get_string_member (configs, "user"), "root")))
    add_scratch (mounts, volumes, "/sandbox", FALSE, NULL);
  if (json_object_has_member (configs, "tmpfs"))
    {
      JsonObject *tmpfs = json_object_get_object_member (configs, "tmpfs");
      g_autoptr(GList) paths = json_object_get_members (tmpfs);

      for (GList *p = paths; p != NULL; p = p->next)
        add_scratch (mounts, volumes, p->data, TRUE, json_object_get_string_member (tmpfs, p->data));
    }
  if (json_object_has_member (configs, "mem_limit"))
    {
      g_autofree char *memory = kube_quantity (json_object_get_string_member (configs, "mem_limit"));

      json_object_set_string_member (member_object (member_object (container, "resources"), "limits"), "memory",
                                     memory);
    }
  if (json_object_has_member (configs, "cpu_quota"))
    {
      gint64 period = json_object_get_int_member_with_default (configs, "cpu_period", 100000);
      g_autofree char *cpu = g_strdup_printf ("%" G_GINT64_FORMAT "m",
                                              json_object_get_int_member (configs, "cpu_quota") * 1000 / period);

      json_object_set_string_member (member_object (member_object (container, "resources"), "limits"), "cpu", cpu);
    }
  if (json_object_has_member (configs, "nano_cpus"))
    {
      g_autofree char *cpu = g_strdup_printf ("%" G_GINT64_FORMAT "m",
                                              json_object_get_int_member (configs, "nano_cpus") / 1000000);

      json_object_set_string_member (member_object (member_object (container, "resources"), "limits"), "cpu", cpu);
    }
  /* The kubelet gives a container requests.cpu × 1024 shares. */
  if (json_object_has_member (configs, "cpu_shares"))
    {
      g_autofree char *cpu = g_strdup_printf ("%" G_GINT64_FORMAT "m",
                                              json_object_get_int_member (configs, "cpu_shares") * 1000 / 1024);

      json_object_set_string_member (member_object (member_object (container, "resources"), "requests"), "cpu",
                                     cpu);
    }
  if (json_object_has_member (configs, "privileged"))
    json_object_set_boolean_member (security, "privileged", json_object_get_boolean_member (configs, "privileged"));
  if (json_object_has_member (configs, "group_add"))
    {
      JsonArray *groups = json_object_get_array_member (configs, "group_add");
      JsonArray *supplemental = json_array_new ();

      for (guint i = 0; i < json_array_get_length (groups); i++)
        json_array_add_int_element (supplemental, g_ascii_strtoll (json_array_get_string_element (groups, i),
                                                                   NULL, 10));
      json_object_set_array_member (member_object (spec, "securityContext"), "supplementalGroups", supplemental);
    }
  if (json_object_has_member (configs, "hostname"))
    json_object_set_string_member (spec, "hostname", json_object_get_string_member (configs, "hostname"));
  if (json_object_has_member (configs, "working_dir"))
    json_object_set_string_member (container, "workingDir", json_object_get_string_member (configs, "working_dir"));
  if (json_object_has_member (configs, "user"))
    {
      const char *user = json_object_get_string_member (configs, "user");
      gint64 uid = g_str_equal (user, "nobody") ? 65534 : g_ascii_strtoll (user, NULL, 10);

      json_object_set_int_member (security, "runAsUser", uid);
      json_object_set_int_member (security, "runAsGroup", uid);
    }
  if (json_object_has_member (configs, "cap_drop"))
    json_object_set_member (member_object (security, "capabilities"), "drop",
                            json_node_copy (json_object_get_member (configs, "cap_drop")));
  if (json_object_has_member (configs, "cap_add"))
    json_object_set_member (member_object (security, "capabilities"), "add",
                            json_node_copy (json_object_get_member (configs, "cap_add")));
  if (json_object_has_member (configs, "security_opt"))
    json_object_set_boolean_member (security, "allowPrivilegeEscalation", FALSE);

  if (json_array_get_length (mounts) > 0)
    {
      json_object_set_array_member (container, "volumeMounts", mounts);
      json_object_set_array_member (spec, "volumes", volumes);
    }
  else
    {
      json_array_unref (mounts);
      json_array_unref (volumes);
    }
  return json_to_string (manifest, FALSE);
}

gboolean
test_set_configs_json (LlmsbxSandboxSession  *session,
                       const char            *json,
                       GError               **error)
{
  g_autofree char *manifest = NULL;

  if (!backend_test_is_kubernetes ())
    return llmsbx_sandbox_session_set_runtime_configs_json (session, json, error);
  manifest = configs_as_pod_manifest (json);
  /* The node's limit, for the pods made from now on (this session's). */
  {
    g_autoptr(JsonNode) root = json_from_string (json, NULL);

    kube_test_set_pod_pids_limit (json_object_get_int_member_with_default (json_node_get_object (root),
                                                                           "pids_limit", -1));
  }
  return llmsbx_sandbox_session_set_pod_manifest_json (session, manifest, error);
}

LlmsbxSandboxSession *
test_open_session (const char *members,
                   const char *first_property,
                   ...)
{
  g_autoptr(LlmsbxSandboxSession) session = backend_test_session_new ("python", NULL);
  g_autofree char *configs = test_configs (members);
  g_autoptr(GError) error = NULL;
  va_list args;

  if (first_property != NULL)
    {
      va_start (args, first_property);
      g_object_set_valist (G_OBJECT (session), first_property, args);
      va_end (args);
    }
  test_set_configs_json (session, configs, &error);
  g_assert_no_error (error);
  llmsbx_sandbox_session_open (session, NULL, &error);
  g_assert_no_error (error);
  return g_steal_pointer (&session);
}

void
test_close (LlmsbxSandboxSession *session)
{
  g_autofree char *id = g_strdup (llmsbx_sandbox_session_get_container_id (session));
  g_autoptr(GError) error = NULL;

  g_assert_nonnull (id);
  llmsbx_sandbox_session_close (session, NULL, &error);
  g_assert_no_error (error);
  backend_test_assert_container_gone (id);
}

char *
test_sh (LlmsbxSandboxSession *session,
         const char           *command)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(LlmsbxExecutionResult) result = NULL;

  result = llmsbx_sandbox_session_execute_command (session, command, NULL, NULL, &error);
  g_assert_no_error (error);
  if (llmsbx_execution_result_get_exit_code (result) != 0)
    g_error ("`%s` failed with %d: %s", command, llmsbx_execution_result_get_exit_code (result),
             llmsbx_execution_result_get_stderr (result));
  return g_strdup (llmsbx_execution_result_get_stdout (result));
}

char *
test_run (LlmsbxSandboxSession *session,
          const char           *code)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(LlmsbxExecutionResult) result = NULL;

  result = llmsbx_sandbox_session_run (session, code, NULL, 0, NULL, &error);
  g_assert_no_error (error);
  if (llmsbx_execution_result_get_exit_code (result) != 0)
    g_error ("code failed with %d: %s", llmsbx_execution_result_get_exit_code (result),
             llmsbx_execution_result_get_stderr (result));
  return g_strdup (llmsbx_execution_result_get_stdout (result));
}

char *
test_make_wheel (LlmsbxSandboxSession *session,
                 const char           *dir,
                 const char           *name,
                 const char           *value)
{
  g_autofree char *code = g_strdup_printf (
    "import base64, hashlib, os, zipfile\n"
    "name, value, directory = '%s', '%s', '%s'\n"
    "info = name + '-1.0.dist-info/'\n"
    "files = {name + '/__init__.py': 'VALUE = ' + repr(value) + '\\n',\n"
    "         info + 'METADATA': 'Metadata-Version: 2.1\\nName: ' + name + '\\nVersion: 1.0\\n',\n"
    "         info + 'WHEEL': 'Wheel-Version: 1.0\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n'}\n"
    "def line(path, text):\n"
    "    digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b'=').decode()\n"
    "    return path + ',sha256=' + digest + ',' + str(len(text.encode())) + '\\n'\n"
    "files[info + 'RECORD'] = ''.join(line(p, t) for p, t in files.items()) + info + 'RECORD,,\\n'\n"
    "os.makedirs(directory, exist_ok=True)\n"
    "path = os.path.join(directory, name + '-1.0-py3-none-any.whl')\n"
    "with zipfile.ZipFile(path, 'w') as wheel:\n"
    "    for p, t in files.items():\n"
    "        wheel.writestr(p, t)\n"
    "print(path, end='')\n",
    name, value, dir);

  return test_run (session, code);
}
