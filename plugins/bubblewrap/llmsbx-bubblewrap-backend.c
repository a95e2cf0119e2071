/* llmsbx-bubblewrap-backend.c: sandboxes made with bubblewrap, without a daemon.
 *
 * The LlmsbxBackend contract over bwrap: images come from a local store
 * (llmsbx-bubblewrap-rootfs.c), a sandbox is one bwrap with an init that runs
 * every command (llmsbx-bubblewrap-launch.c, -exec.c), files move through a
 * helper inside the sandbox's namespaces (-archive.c). No engine, no root
 * needed: a user with unprivileged user namespaces can run it.
 *
 * The backend's URL, when set, names the bwrap program (an absolute path or
 * a file:// URL); by default bwrap is looked up in PATH. */
#include "llmsbx-bubblewrap-backend.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "helpers/llmsbx-bwrap-init-protocol.h"
#include "llmsbx-bubblewrap-archive.h"
#include "llmsbx-bubblewrap-exec.h"
#include "llmsbx-bubblewrap-launch.h"
#include "llmsbx-bubblewrap-rootfs.h"
#include "llmsbx-bubblewrap-sandbox.h"

struct _LlmsbxBubblewrapBackend
{
  LlmsbxBackend parent_instance;

  GMutex      lock;
  char       *bwrap;      /* resolved when connected */
  char       *store;
  GHashTable *sandboxes;  /* id → LlmsbxBubblewrapSandbox, as last read */
};

G_DEFINE_FINAL_TYPE (LlmsbxBubblewrapBackend, llmsbx_bubblewrap_backend, LLMSBX_TYPE_BACKEND)

/* ---------------------------------------------------------------------------
 * Connection
 * ------------------------------------------------------------------------ */

static char *
read_sysctl (const char *proc_sys,
             const char *name)
{
  g_autofree char *path = g_build_filename (proc_sys, name, NULL);
  char *value = NULL;

  if (!g_file_get_contents (path, &value, NULL, NULL))
    return NULL;
  return g_strstrip (value);
}

/**
 * llmsbx_bubblewrap_check_user_namespaces:
 * @proc_sys: (type filename): where the sysctls are, normally /proc/sys
 * @uid: the user that would create them
 * @error: return location for a #GError
 *
 * Reads the sysctls that keep a user from making user namespaces and names
 * the one that does, so the error says what to change.
 */
gboolean
llmsbx_bubblewrap_check_user_namespaces (const char  *proc_sys,
                                         guint        uid,
                                         GError     **error)
{
  static const struct {
    const char *file;
    const char *value;       /* the value that stops user namespaces */
    gboolean    root_too;    /* whether root is stopped as well */
    const char *message;
  } sysctls[] = {
    { "user/max_user_namespaces", "0", TRUE,
      "this system disables them: set the sysctl user.max_user_namespaces to a positive number "
      "(sysctl -w user.max_user_namespaces=15000)" },
    { "kernel/unprivileged_userns_clone", "0", FALSE,
      "this system keeps them from users other than root: set the sysctl kernel.unprivileged_userns_clone "
      "to 1 (sysctl -w kernel.unprivileged_userns_clone=1)" },
    { "kernel/apparmor_restrict_unprivileged_userns", "1", FALSE,
      "AppArmor keeps them from unconfined programs here: set the sysctl "
      "kernel.apparmor_restrict_unprivileged_userns to 0, or give bwrap an AppArmor profile that allows them" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (sysctls); i++)
    {
      g_autofree char *value = read_sysctl (proc_sys, sysctls[i].file);

      if (value != NULL && g_str_equal (value, sysctls[i].value) && (uid != 0 || sysctls[i].root_too))
        {
          g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_BACKEND_UNAVAILABLE,
                       "The bubblewrap backend needs user namespaces, and %s", sysctls[i].message);
          return FALSE;
        }
    }
  return TRUE;
}

/* The bwrap program the backend's URL names, or the one in PATH. */
static char *
find_bwrap (LlmsbxBackend  *backend,
            GError        **error)
{
  const char *url = llmsbx_backend_get_url (backend);
  g_autofree char *path = NULL;

  if (url == NULL || url[0] == '\0')
    {
      path = g_find_program_in_path ("bwrap");
      if (path == NULL)
        {
          g_set_error_literal (error, LLMSBX_ERROR, LLMSBX_ERROR_BACKEND_UNAVAILABLE,
                               "The bubblewrap backend needs the bwrap program, which is not in PATH: install "
                               "bubblewrap (apt-get install bubblewrap)");
          return NULL;
        }
      return g_steal_pointer (&path);
    }

  if (g_str_has_prefix (url, "file://"))
    path = g_filename_from_uri (url, NULL, NULL);
  else if (url[0] == '/')
    path = g_strdup (url);
  if (path == NULL)
    {
      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_BACKEND_UNAVAILABLE,
                   "The bubblewrap backend runs the bwrap program, and '%s' does not name one: give an absolute "
                   "path or a file:// URL, or no URL for bwrap in PATH", url);
      return NULL;
    }
  if (!g_file_test (path, G_FILE_TEST_IS_EXECUTABLE) || g_file_test (path, G_FILE_TEST_IS_DIR))
    {
      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_BACKEND_UNAVAILABLE,
                   "The bubblewrap backend cannot run %s: it is not an executable program", path);
      return NULL;
    }
  return g_steal_pointer (&path);
}

/* Whether @bwrap can make a sandbox here: the sysctls do not tell
 * everything (a seccomp filter, a security module, a container we run in).
 * It runs the init in its probe mode in the namespaces of a sandbox, over
 * an empty root that holds only the init, /proc and /dev: binding the host's
 * root instead would race with every mount the host adds or removes
 * meanwhile (an engine's containers come and go), and fail then. Once per
 * program and process, as neither changes while it runs. */
static gboolean
try_bwrap (const char  *bwrap,
           GError     **error)
{
  static GMutex lock;
  static GHashTable *working;
  g_autoptr(GSubprocess) process = NULL;
  g_autofree char *init = NULL;
  g_autofree char *err = NULL;
  gboolean known;

  g_mutex_lock (&lock);
  known = working != NULL && g_hash_table_contains (working, bwrap);
  g_mutex_unlock (&lock);
  if (known)
    return TRUE;

  init = llmsbx_bubblewrap_helper_path ("llmsbx-bwrap-init", error);
  if (init == NULL)
    return FALSE;
  process = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDERR_PIPE, error,
                              bwrap, "--unshare-user", "--unshare-pid", "--unshare-net", "--unshare-ipc",
                              "--unshare-uts", "--die-with-parent", "--tmpfs", "/", "--proc", "/proc",
                              "--dev", "/dev", "--ro-bind", init, "/llmsbx-bwrap-init", "--",
                              "/llmsbx-bwrap-init", LLMSBX_BWRAP_INIT_PROBE, NULL);
  if (process == NULL || !g_subprocess_communicate_utf8 (process, NULL, NULL, NULL, &err, error))
    return FALSE;
  if (!g_subprocess_get_successful (process))
    {
      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_BACKEND_UNAVAILABLE,
                   "The bubblewrap backend cannot make a sandbox here (a seccomp filter, a security module or "
                   "the container this runs in may forbid user namespaces): %s", g_strstrip (err));
      return FALSE;
    }

  g_mutex_lock (&lock);
  if (working == NULL)
    working = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_hash_table_add (working, g_strdup (bwrap));
  g_mutex_unlock (&lock);
  return TRUE;
}

/* Stale sandboxes of a store (their client and helper were both killed)
 * are reaped once per process, by the first backend that connects to it. */
static void
reap_once (const char *store)
{
  static GMutex lock;
  static GHashTable *reaped;
  gboolean first;

  g_mutex_lock (&lock);
  if (reaped == NULL)
    reaped = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  first = g_hash_table_add (reaped, g_strdup (store));
  g_mutex_unlock (&lock);
  if (first)
    llmsbx_bubblewrap_sandbox_reap_stale (store);
}

/* LlmsbxBackendClass.probe: whether sandboxes can be made here: bwrap is
 * installed, user namespaces work, the helpers are in place. No image is
 * needed yet. Cheap: the sysctls and the helpers are files, and the one
 * bare bwrap that proves a sandbox can be made runs once per process. */
static gboolean
llmsbx_bubblewrap_backend_probe (LlmsbxBackend  *backend,
                                 GCancellable   *cancellable,
                                 GError        **error)
{
  static const char * const helpers[] = { "llmsbx-bwrap-init", "llmsbx-bwrap-monitor", "llmsbx-bwrap-archive", NULL };
  g_autofree char *bwrap = find_bwrap (backend, error);

  if (bwrap == NULL || !llmsbx_bubblewrap_check_user_namespaces ("/proc/sys", getuid (), error))
    return FALSE;
  for (guint i = 0; helpers[i] != NULL; i++)
    {
      g_autofree char *path = llmsbx_bubblewrap_helper_path (helpers[i], error);

      if (path == NULL)
        return FALSE;
    }
  return try_bwrap (bwrap, error);
}

static gboolean
llmsbx_bubblewrap_backend_connect (LlmsbxBackend  *backend,
                                   GCancellable   *cancellable,
                                   GError        **error)
{
  LlmsbxBubblewrapBackend *self = LLMSBX_BUBBLEWRAP_BACKEND (backend);
  g_autofree char *bwrap = NULL;

  if (!llmsbx_bubblewrap_backend_probe (backend, cancellable, error))
    return FALSE;
  bwrap = find_bwrap (backend, error);
  if (bwrap == NULL)
    return FALSE;

  g_mutex_lock (&self->lock);
  g_free (self->bwrap);
  self->bwrap = g_steal_pointer (&bwrap);
  g_mutex_unlock (&self->lock);
  reap_once (self->store);
  return TRUE;
}

/* The bwrap program, connecting first when no call did yet: like the
 * engines' clients, a backend is usable without an explicit connect(). */
static char *
dup_bwrap (LlmsbxBubblewrapBackend  *self,
           GCancellable             *cancellable,
           GError                  **error)
{
  char *bwrap;

  g_mutex_lock (&self->lock);
  bwrap = g_strdup (self->bwrap);
  g_mutex_unlock (&self->lock);
  if (bwrap != NULL || !llmsbx_bubblewrap_backend_connect (LLMSBX_BACKEND (self), cancellable, error))
    return bwrap;

  g_mutex_lock (&self->lock);
  bwrap = g_strdup (self->bwrap);
  g_mutex_unlock (&self->lock);
  return bwrap;
}

/* Counts one operation on a sandbox, as an engine request; a cancelled
 * call counts nothing and does nothing. */
static gboolean
begin_request (LlmsbxBackend  *backend,
               GCancellable   *cancellable,
               GError        **error)
{
  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return FALSE;
  llmsbx_backend_count_request (backend);
  return TRUE;
}

/* ---------------------------------------------------------------------------
 * Images
 * ------------------------------------------------------------------------ */

static gboolean
llmsbx_bubblewrap_backend_ensure_image (LlmsbxBackend  *backend,
                                        const char     *image,
                                        gboolean       *pulled,
                                        GCancellable   *cancellable,
                                        GError        **error)
{
  LlmsbxBubblewrapBackend *self = LLMSBX_BUBBLEWRAP_BACKEND (backend);
  g_autoptr(LlmsbxBubblewrapImage) found = llmsbx_bubblewrap_image_lookup (self->store, image, error);

  /* There is nothing to pull from: images are built into the store. */
  *pulled = FALSE;
  return found != NULL;
}

static gboolean
llmsbx_bubblewrap_backend_build_image (LlmsbxBackend  *backend,
                                       const char     *context_dir,
                                       const char     *dockerfile,
                                       const char     *tag,
                                       GCancellable   *cancellable,
                                       GError        **error)
{
  g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_IMAGE_BUILD_FAILED,
               "The bubblewrap backend cannot build %s from a Dockerfile: it has no container engine. Build "
               "the image with Docker or Podman, or build a recipe into the bubblewrap image store with "
               "`llmsbx images build --backend bubblewrap LANG`", tag);
  return FALSE;
}

static gboolean
llmsbx_bubblewrap_backend_remove_image (LlmsbxBackend  *backend,
                                        const char     *image,
                                        GCancellable   *cancellable,
                                        GError        **error)
{
  LlmsbxBubblewrapBackend *self = LLMSBX_BUBBLEWRAP_BACKEND (backend);

  return llmsbx_bubblewrap_image_remove (self->store, image, error);
}

/* ---------------------------------------------------------------------------
 * Sandboxes
 * ------------------------------------------------------------------------ */

/* The sandbox's state, read once per backend: it does not change while it
 * runs. A new reference, as another thread may remove the sandbox meanwhile. */
static LlmsbxBubblewrapSandbox *
get_sandbox (LlmsbxBubblewrapBackend  *self,
             const char               *id,
             GError                  **error)
{
  LlmsbxBubblewrapSandbox *sandbox;
  LlmsbxBubblewrapSandbox *loaded;

  g_mutex_lock (&self->lock);
  sandbox = g_hash_table_lookup (self->sandboxes, id);
  if (sandbox != NULL)
    llmsbx_bubblewrap_sandbox_ref (sandbox);
  g_mutex_unlock (&self->lock);
  if (sandbox != NULL)
    return sandbox;

  loaded = llmsbx_bubblewrap_sandbox_load (self->store, id, error);
  if (loaded == NULL)
    return NULL;
  g_mutex_lock (&self->lock);
  g_hash_table_replace (self->sandboxes, g_strdup (id), llmsbx_bubblewrap_sandbox_ref (loaded));
  g_mutex_unlock (&self->lock);
  return loaded;
}

static char *
llmsbx_bubblewrap_backend_create_sandbox (LlmsbxBackend        *backend,
                                          LlmsbxContainerSpec  *spec,
                                          GCancellable         *cancellable,
                                          GError              **error)
{
  LlmsbxBubblewrapBackend *self = LLMSBX_BUBBLEWRAP_BACKEND (backend);
  g_autofree char *bwrap = dup_bwrap (self, cancellable, error);

  if (bwrap == NULL)
    return NULL;
  if (!begin_request (backend, cancellable, error))
    return NULL;
  return llmsbx_bubblewrap_launch (bwrap, self->store, spec, cancellable, error);
}

static char *
llmsbx_bubblewrap_backend_attach_sandbox (LlmsbxBackend  *backend,
                                          const char     *sandbox_id,
                                          GCancellable   *cancellable,
                                          GError        **error)
{
  LlmsbxBubblewrapBackend *self = LLMSBX_BUBBLEWRAP_BACKEND (backend);
  g_autoptr(LlmsbxBubblewrapSandbox) sandbox = llmsbx_bubblewrap_sandbox_find (self->store, sandbox_id, error);

  if (sandbox == NULL)
    return NULL;
  /* A stopped sandbox cannot be started again: its helper and namespaces
   * are gone with it. */
  if (!llmsbx_bubblewrap_sandbox_init_alive (sandbox))
    {
      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_CONTAINER_FAILED,
                   "The sandbox %s is no longer running, and a bubblewrap sandbox cannot be started again",
                   sandbox_id);
      return NULL;
    }
  return g_strdup (sandbox->id);
}

static gboolean
llmsbx_bubblewrap_backend_exec (LlmsbxBackend          *backend,
                                const char             *sandbox_id,
                                LlmsbxExecRequest      *request,
                                LlmsbxOutputCollector  *output,
                                int                    *exit_status,
                                GCancellable           *cancellable,
                                GError                **error)
{
  LlmsbxBubblewrapBackend *self = LLMSBX_BUBBLEWRAP_BACKEND (backend);
  g_autoptr(LlmsbxBubblewrapSandbox) sandbox = get_sandbox (self, sandbox_id, error);

  if (sandbox == NULL)
    return FALSE;
  if (!begin_request (backend, cancellable, error))
    return FALSE;
  return llmsbx_bubblewrap_exec (sandbox, request, output, exit_status, cancellable, error);
}

static gboolean
llmsbx_bubblewrap_backend_put_archive (LlmsbxBackend  *backend,
                                       const char     *sandbox_id,
                                       const char     *dest_dir,
                                       GBytes         *archive,
                                       GCancellable   *cancellable,
                                       GError        **error)
{
  LlmsbxBubblewrapBackend *self = LLMSBX_BUBBLEWRAP_BACKEND (backend);
  g_autoptr(LlmsbxBubblewrapSandbox) sandbox = get_sandbox (self, sandbox_id, error);

  if (sandbox == NULL)
    return FALSE;
  if (!begin_request (backend, cancellable, error))
    return FALSE;
  return llmsbx_bubblewrap_put_archive (sandbox, dest_dir, archive, cancellable, error);
}

static GBytes *
llmsbx_bubblewrap_backend_get_archive (LlmsbxBackend  *backend,
                                       const char     *sandbox_id,
                                       const char     *path,
                                       GCancellable   *cancellable,
                                       GError        **error)
{
  LlmsbxBubblewrapBackend *self = LLMSBX_BUBBLEWRAP_BACKEND (backend);
  g_autoptr(LlmsbxBubblewrapSandbox) sandbox = get_sandbox (self, sandbox_id, error);

  if (sandbox == NULL)
    return NULL;
  if (!begin_request (backend, cancellable, error))
    return NULL;
  return llmsbx_bubblewrap_get_archive (sandbox, path, cancellable, error);
}

static gboolean
llmsbx_bubblewrap_backend_get_archive_to_stream (LlmsbxBackend  *backend,
                                                 const char     *sandbox_id,
                                                 const char     *path,
                                                 GOutputStream  *output,
                                                 GCancellable   *cancellable,
                                                 GError        **error)
{
  LlmsbxBubblewrapBackend *self = LLMSBX_BUBBLEWRAP_BACKEND (backend);
  g_autoptr(LlmsbxBubblewrapSandbox) sandbox = get_sandbox (self, sandbox_id, error);

  if (sandbox == NULL)
    return FALSE;
  if (!begin_request (backend, cancellable, error))
    return FALSE;
  return llmsbx_bubblewrap_get_archive_to_stream (sandbox, path, output, cancellable, error);
}

/* A commit copies the sandbox's upper layer (and a read-only root's working
 * directory) into a new image stacked on the sandbox's own. */
static gboolean
llmsbx_bubblewrap_backend_commit (LlmsbxBackend  *backend,
                                  const char     *sandbox_id,
                                  const char     *image,
                                  GCancellable   *cancellable,
                                  GError        **error)
{
  LlmsbxBubblewrapBackend *self = LLMSBX_BUBBLEWRAP_BACKEND (backend);
  g_autoptr(LlmsbxBubblewrapSandbox) sandbox = get_sandbox (self, sandbox_id, error);
  g_autoptr(LlmsbxBubblewrapImage) base = NULL;
  g_autofree char *upper = NULL;
  g_autofree char *workdir = NULL;

  if (sandbox == NULL)
    return FALSE;
  base = llmsbx_bubblewrap_image_load (self->store, sandbox->image_id, sandbox->image, error);
  if (base == NULL)
    return FALSE;
  if (!begin_request (backend, cancellable, error))
    return FALSE;
  if (sandbox->read_only)
    workdir = llmsbx_bubblewrap_sandbox_path (sandbox, "workdir");
  else
    upper = llmsbx_bubblewrap_sandbox_path (sandbox, "upper");
  if (workdir != NULL && !g_file_test (workdir, G_FILE_TEST_IS_DIR))
    g_clear_pointer (&workdir, g_free);
  return llmsbx_bubblewrap_image_commit (self->store, base, upper, workdir, sandbox->workdir, image,
                                         (const char * const *) sandbox->labels, cancellable, error);
}

static gboolean
llmsbx_bubblewrap_backend_remove_sandbox (LlmsbxBackend  *backend,
                                          const char     *sandbox_id,
                                          GCancellable   *cancellable,
                                          GError        **error)
{
  LlmsbxBubblewrapBackend *self = LLMSBX_BUBBLEWRAP_BACKEND (backend);

  /* Not cancellable: a removal that stopped half way would leave the sandbox. */
  llmsbx_backend_count_request (backend);
  g_mutex_lock (&self->lock);
  g_hash_table_remove (self->sandboxes, sandbox_id);
  g_mutex_unlock (&self->lock);
  return llmsbx_bubblewrap_stop (self->store, sandbox_id, error);
}

/* LlmsbxBackendClass.list_sandboxes: the sandboxes of the store that carry
 * every label of @label_selector, running or stopped, whoever started them,
 * with the labels of their state files. */
static GPtrArray *
llmsbx_bubblewrap_backend_list_sandboxes (LlmsbxBackend       *backend,
                                          const char * const  *label_selector,
                                          GCancellable        *cancellable,
                                          GError             **error)
{
  LlmsbxBubblewrapBackend *self = LLMSBX_BUBBLEWRAP_BACKEND (backend);
  g_autoptr(GPtrArray) all = llmsbx_bubblewrap_sandbox_list (self->store);
  GPtrArray *found = g_ptr_array_new_with_free_func ((GDestroyNotify) llmsbx_sandbox_info_free);

  for (guint i = 0; i < all->len; i++)
    {
      LlmsbxBubblewrapSandbox *sandbox = all->pdata[i];

      if (llmsbx_bubblewrap_sandbox_matches (sandbox, label_selector))
        g_ptr_array_add (found, llmsbx_sandbox_info_new (sandbox->id, (const char * const *) sandbox->labels));
    }
  return found;
}

/* ---------------------------------------------------------------------------
 * Object
 * ------------------------------------------------------------------------ */

static void
llmsbx_bubblewrap_backend_finalize (GObject *object)
{
  LlmsbxBubblewrapBackend *self = LLMSBX_BUBBLEWRAP_BACKEND (object);

  g_free (self->bwrap);
  g_free (self->store);
  g_hash_table_unref (self->sandboxes);
  g_mutex_clear (&self->lock);

  G_OBJECT_CLASS (llmsbx_bubblewrap_backend_parent_class)->finalize (object);
}

static void
llmsbx_bubblewrap_backend_class_init (LlmsbxBubblewrapBackendClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  LlmsbxBackendClass *backend_class = LLMSBX_BACKEND_CLASS (klass);

  object_class->finalize = llmsbx_bubblewrap_backend_finalize;

  backend_class->connect = llmsbx_bubblewrap_backend_connect;
  backend_class->ensure_image = llmsbx_bubblewrap_backend_ensure_image;
  backend_class->build_image = llmsbx_bubblewrap_backend_build_image;
  backend_class->remove_image = llmsbx_bubblewrap_backend_remove_image;
  backend_class->create_sandbox = llmsbx_bubblewrap_backend_create_sandbox;
  backend_class->attach_sandbox = llmsbx_bubblewrap_backend_attach_sandbox;
  backend_class->exec = llmsbx_bubblewrap_backend_exec;
  backend_class->put_archive = llmsbx_bubblewrap_backend_put_archive;
  backend_class->get_archive = llmsbx_bubblewrap_backend_get_archive;
  backend_class->commit = llmsbx_bubblewrap_backend_commit;
  backend_class->remove_sandbox = llmsbx_bubblewrap_backend_remove_sandbox;
  backend_class->probe = llmsbx_bubblewrap_backend_probe;
  backend_class->list_sandboxes = llmsbx_bubblewrap_backend_list_sandboxes;
  backend_class->render_preset = llmsbx_bubblewrap_backend_render_preset;
  backend_class->get_archive_to_stream = llmsbx_bubblewrap_backend_get_archive_to_stream;
}

static void
llmsbx_bubblewrap_backend_init (LlmsbxBubblewrapBackend *self)
{
  g_mutex_init (&self->lock);
  self->store = llmsbx_bubblewrap_store_dir ();
  self->sandboxes = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                           (GDestroyNotify) llmsbx_bubblewrap_sandbox_unref);
}
