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

#include "llmsbx-bubblewrap-archive.h"
#include "llmsbx-bubblewrap-exec.h"
#include "llmsbx-bubblewrap-launch.h"
#include "llmsbx-bubblewrap-rootfs.h"
#include "llmsbx-bubblewrap-runtime-configs.h"
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

/* Makes a user namespace with @bwrap, once per program and process: the
 * sysctls do not tell everything (seccomp, LSMs, a container we run in). */
static gboolean
try_bwrap (const char  *bwrap,
           GError     **error)
{
  static GMutex lock;
  static GHashTable *working;
  g_autoptr(GSubprocess) process = NULL;
  g_autofree char *err = NULL;
  gboolean known;

  g_mutex_lock (&lock);
  known = working != NULL && g_hash_table_contains (working, bwrap);
  g_mutex_unlock (&lock);
  if (known)
    return TRUE;

  process = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDERR_PIPE, error,
                              bwrap, "--unshare-user", "--unshare-pid", "--unshare-net", "--ro-bind", "/", "/",
                              "--proc", "/proc", "--die-with-parent", "--", bwrap, "--version", NULL);
  if (process == NULL || !g_subprocess_communicate_utf8 (process, NULL, NULL, NULL, &err, error))
    return FALSE;
  if (!g_subprocess_get_successful (process))
    {
      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_BACKEND_UNAVAILABLE,
                   "bwrap cannot make a sandbox here: %s", g_strstrip (err));
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

/**
 * llmsbx_bubblewrap_backend_probe:
 * @backend: a bubblewrap backend
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Says whether sandboxes can be made here: bwrap is installed, user
 * namespaces work, the helpers are in place. No image is needed yet.
 */
gboolean
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

static char *
dup_bwrap (LlmsbxBubblewrapBackend  *self,
           GError                  **error)
{
  char *bwrap;

  g_mutex_lock (&self->lock);
  bwrap = g_strdup (self->bwrap);
  g_mutex_unlock (&self->lock);
  if (bwrap == NULL)
    g_set_error_literal (error, LLMSBX_ERROR, LLMSBX_ERROR_BACKEND_UNAVAILABLE,
                         "The bubblewrap backend is not connected: call llmsbx_backend_connect() first");
  return bwrap;
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

  loaded = llmsbx_bubblewrap_sandbox_load (self->store, id, NULL);
  if (loaded == NULL)
    {
      llmsbx_bubblewrap_sandbox_not_running (id, error);
      return NULL;
    }
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
  g_autofree char *bwrap = dup_bwrap (self, error);

  if (bwrap == NULL)
    return NULL;
  llmsbx_backend_count_request (backend);
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
  llmsbx_backend_count_request (backend);
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
  llmsbx_backend_count_request (backend);
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
  llmsbx_backend_count_request (backend);
  return llmsbx_bubblewrap_get_archive (sandbox, path, cancellable, error);
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
  llmsbx_backend_count_request (backend);
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

  llmsbx_backend_count_request (backend);
  g_mutex_lock (&self->lock);
  g_hash_table_remove (self->sandboxes, sandbox_id);
  g_mutex_unlock (&self->lock);
  return llmsbx_bubblewrap_stop (self->store, sandbox_id, error);
}

/**
 * llmsbx_bubblewrap_backend_list_sandboxes:
 * @backend: a bubblewrap backend
 * @label_selector: (array zero-terminated=1) (nullable): `key=value` or `key` entries
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * The sandboxes of the store that carry every label of @label_selector,
 * running or stopped, whoever started them.
 *
 * Returns: (transfer container) (element-type LlmsbxBubblewrapSandbox): the sandboxes
 */
GPtrArray *
llmsbx_bubblewrap_backend_list_sandboxes (LlmsbxBackend       *backend,
                                          const char * const  *label_selector,
                                          GCancellable        *cancellable,
                                          GError             **error)
{
  LlmsbxBubblewrapBackend *self = LLMSBX_BUBBLEWRAP_BACKEND (backend);
  GPtrArray *all = llmsbx_bubblewrap_sandbox_list (self->store);

  for (guint i = all->len; i > 0; i--)
    if (!llmsbx_bubblewrap_sandbox_matches (all->pdata[i - 1], label_selector))
      g_ptr_array_remove_index_fast (all, i - 1);
  return all;
}

/* ---------------------------------------------------------------------------
 * Presets
 * ------------------------------------------------------------------------ */

static void
add_strv (GVariantBuilder     *builder,
          const char          *key,
          const char * const  *values)
{
  if (values != NULL && values[0] != NULL)
    g_variant_builder_add (builder, "{sv}", key, g_variant_new_strv (values, -1));
}

/**
 * llmsbx_bubblewrap_render_limits:
 * @limits: a preset's limits
 * @error: return location for a #GError
 *
 * The runtime configs that give a bubblewrap sandbox @limits, in the
 * docker-py keys this backend reads (and checks it reads them back). Fails
 * with %LLMSBX_ERROR_INVALID_ARGUMENT for a limit it cannot express.
 *
 * Returns: (transfer full): an `a{sv}` of runtime configs, or %NULL
 */
GVariant *
llmsbx_bubblewrap_render_limits (const LlmsbxBubblewrapLimits  *limits,
                                 GError                       **error)
{
  g_autoptr(GVariant) config = NULL;
  g_autoptr(LlmsbxBubblewrapConfig) checked = NULL;
  GVariantBuilder builder;

  g_variant_builder_init (&builder, G_VARIANT_TYPE_VARDICT);
  if (limits->memory_bytes > 0)
    g_variant_builder_add (&builder, "{sv}", "mem_limit", g_variant_new_int64 ((gint64) limits->memory_bytes));
  if (limits->cpu_millicores > 0)
    {
      g_variant_builder_add (&builder, "{sv}", "cpu_period", g_variant_new_int64 (100000));
      g_variant_builder_add (&builder, "{sv}", "cpu_quota", g_variant_new_int64 (limits->cpu_millicores * 100));
    }
  if (limits->pids_limit > 0)
    g_variant_builder_add (&builder, "{sv}", "pids_limit", g_variant_new_int64 (limits->pids_limit));
  /* A bridged network goes through slirp4netns; without it, open() says so. */
  g_variant_builder_add (&builder, "{sv}", "network_mode",
                         g_variant_new_string (limits->network_bridge ? "bridge" : "none"));
  g_variant_builder_add (&builder, "{sv}", "read_only", g_variant_new_boolean (limits->read_only_root));
  if (limits->tmp_options != NULL || limits->workdir_tmpfs_bytes > 0)
    {
      GVariantBuilder tmpfs;

      g_variant_builder_init (&tmpfs, G_VARIANT_TYPE_VARDICT);
      if (limits->tmp_options != NULL)
        g_variant_builder_add (&tmpfs, "{sv}", "/tmp", g_variant_new_string (limits->tmp_options));
      if (limits->workdir_tmpfs_bytes > 0 && limits->workdir != NULL)
        g_variant_builder_add (&tmpfs, "{sv}", limits->workdir,
                               g_variant_new_take_string (g_strdup_printf ("size=%" G_GUINT64_FORMAT ",mode=755",
                                                                           limits->workdir_tmpfs_bytes)));
      g_variant_builder_add (&builder, "{sv}", "tmpfs", g_variant_builder_end (&tmpfs));
    }
  if (limits->user != NULL)
    g_variant_builder_add (&builder, "{sv}", "user", g_variant_new_string (limits->user));
  if (limits->environment != NULL && limits->environment[0] != NULL)
    {
      GVariantBuilder environment;

      g_variant_builder_init (&environment, G_VARIANT_TYPE_VARDICT);
      for (guint i = 0; limits->environment[i] != NULL; i++)
        {
          const char *eq = strchr (limits->environment[i], '=');
          g_autofree char *name = eq ? g_strndup (limits->environment[i], eq - limits->environment[i]) : NULL;

          if (name != NULL)
            g_variant_builder_add (&environment, "{sv}", name, g_variant_new_string (eq + 1));
        }
      g_variant_builder_add (&builder, "{sv}", "environment", g_variant_builder_end (&environment));
    }
  add_strv (&builder, "cap_drop", limits->cap_drop);
  add_strv (&builder, "cap_add", limits->cap_add);
  if (limits->no_new_privileges)
    {
      const char *options[] = { "no-new-privileges:true", NULL };
      add_strv (&builder, "security_opt", options);
    }
  config = g_variant_ref_sink (g_variant_builder_end (&builder));

  /* What this renders, this backend must read back. */
  checked = llmsbx_bubblewrap_config_parse (config, error);
  return checked != NULL ? g_steal_pointer (&config) : NULL;
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
}

static void
llmsbx_bubblewrap_backend_init (LlmsbxBubblewrapBackend *self)
{
  g_mutex_init (&self->lock);
  self->store = llmsbx_bubblewrap_store_dir ();
  self->sandboxes = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                           (GDestroyNotify) llmsbx_bubblewrap_sandbox_unref);
}
