/* llmsbx-sandbox-session.c: a sandbox that runs code, the object users hold.
 *
 * The public object: its configuration (properties, checked by GInitable and
 * at open), opening and closing the sandbox, and the operation lock every
 * call holds. What a run does is in llmsbx-session-run.c, copies in
 * llmsbx-session-files.c, live output in llmsbx-session-output.c, the
 * _async helper in llmsbx-session-async.c; they share
 * llmsbx-sandbox-session-private.h. */
#include "config.h"

#include <json-glib/json-glib.h>
#include <math.h>

#include "llmsbx-sandbox-session-private.h"
#include "llmsbx-session-log-private.h"
#include "llmsbx-enum-types.h"
#include "llmsbx-error.h"
#include "llmsbx-code-runner-private.h"
#include "llmsbx-lifetime-watchdog-private.h"
#include "llmsbx-nesting-private.h"
#include "llmsbx-reaper.h"
#include "llmsbx-registry.h"
#include "llmsbx-sandbox-pool-private.h"
#include "llmsbx-tar.h"

/**
 * LlmsbxSandboxSession:
 *
 * A session owns one sandbox (a container or a pod) for one language.
 *
 * Its properties are the configuration parameters of the guide: set them at
 * construction, then call llmsbx_sandbox_session_open(). The session is a
 * #GInitable: g_initable_new() refuses an invalid limit at construction with
 * %LLMSBX_ERROR_INVALID_ARGUMENT (g_object_new() cannot report errors; open()
 * and every later call then refuse it instead). Every blocking method has an
 * `_async` form that runs it in a worker thread of the library's own pool and
 * delivers #LlmsbxSandboxSession::output in the caller's main context. Calls
 * on one session run one at a time; setting a property waits for the call in
 * progress.
 *
 * ```c
 * g_autoptr(LlmsbxSandboxSession) session = llmsbx_sandbox_session_new ("python");
 * g_autoptr(LlmsbxExecutionResult) result = NULL;
 *
 * if (!llmsbx_sandbox_session_open (session, NULL, &error))
 *   return FALSE;
 * result = llmsbx_sandbox_session_run (session, "print(6*7)", NULL, 0, NULL, &error);
 * llmsbx_sandbox_session_close (session, NULL, NULL);
 * ```
 *
 * Since: 0.1
 */

static void llmsbx_sandbox_session_initable_iface_init (GInitableIface *iface);

G_DEFINE_TYPE_WITH_CODE (LlmsbxSandboxSession, llmsbx_sandbox_session, G_TYPE_OBJECT,
                         G_ADD_PRIVATE (LlmsbxSandboxSession)
                         G_IMPLEMENT_INTERFACE (G_TYPE_INITABLE,
                                                llmsbx_sandbox_session_initable_iface_init))

enum {
  PROP_0,
  PROP_LANG,
  PROP_BACKEND,
  PROP_CLIENT,
  PROP_IMAGE,
  PROP_DOCKERFILE,
  PROP_WORKDIR,
  PROP_CONTAINER_ID,
  PROP_KEEP_TEMPLATE,
  PROP_COMMIT_CONTAINER,
  PROP_COMMIT_IMAGE,
  PROP_SKIP_ENVIRONMENT_SETUP,
  PROP_VERBOSE,
  PROP_DEFAULT_TIMEOUT,
  PROP_EXECUTION_TIMEOUT,
  PROP_SESSION_TIMEOUT,
  PROP_RUNTIME_CONFIGS,
  PROP_BACKEND_SETTINGS,
  PROP_POD_MANIFEST,
  PROP_KUBE_NAMESPACE,
  PROP_OUTPUT_LIMIT,
  PROP_COPY_LIMIT,
  PROP_SECURITY_POLICY,
  PROP_IS_OPEN,
  PROP_POOL,
  PROP_CODE_RUNNER,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* The session's other files reach the private struct through this, as the
 * offset G_ADD_PRIVATE keeps is static to this file. */
LlmsbxSandboxSessionPrivate *
llmsbx_session_get_private (LlmsbxSandboxSession *self)
{
  return llmsbx_sandbox_session_get_instance_private (self);
}

/* The lines go to GLib's structured log and #LlmsbxSandboxSession::log,
 * where live output goes (llmsbx-session-log.c). */
void
llmsbx_session_log (LlmsbxSandboxSession *self,
                    const char           *format,
                    ...)
{
  LlmsbxSandboxSessionPrivate *priv = llmsbx_session_get_private (self);
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);

  llmsbx_session_log_message (G_OBJECT (self), priv->session_uuid, priv->verbose,
                              llmsbx_session_get_output_context (), message);
}

/* Operations --------------------------------------------------------------- */

static void
cancel_operation (GCancellable *caller,
                  gpointer      operation)
{
  g_cancellable_cancel (operation);
}

/* Called with the lock held. */
GCancellable *
llmsbx_session_operation_begin (LlmsbxSandboxSession   *self,
                                LlmsbxSessionOperation *op,
                                GCancellable           *caller)
{
  LlmsbxSandboxSessionPrivate *priv = llmsbx_session_get_private (self);

  op->cancellable = g_cancellable_new ();
  op->caller = caller ? g_object_ref (caller) : NULL;
  op->handler = caller ? g_cancellable_connect (caller, G_CALLBACK (cancel_operation), op->cancellable, NULL) : 0;

  g_mutex_lock (&priv->operation_lock);
  priv->operation = op->cancellable;
  priv->operation_thread = g_thread_self ();
  /* A close() already waiting for the lock ends this one at once. */
  priv->operation_closed = priv->closing > 0;
  if (priv->operation_closed)
    g_cancellable_cancel (op->cancellable);
  g_mutex_unlock (&priv->operation_lock);
  return op->cancellable;
}

/* Called with the lock held. A call that close() cancelled fails saying so:
 * @what is what was going on. */
void
llmsbx_session_operation_end (LlmsbxSandboxSession   *self,
                              LlmsbxSessionOperation *op,
                              const char             *what,
                              GError                **error)
{
  LlmsbxSandboxSessionPrivate *priv = llmsbx_session_get_private (self);
  gboolean closed;

  g_mutex_lock (&priv->operation_lock);
  closed = priv->operation_closed;
  priv->operation = NULL;
  priv->operation_thread = NULL;
  priv->operation_closed = FALSE;
  g_mutex_unlock (&priv->operation_lock);

  if (op->caller != NULL)
    g_cancellable_disconnect (op->caller, op->handler);
  g_clear_object (&op->caller);
  g_clear_object (&op->cancellable);

  if (closed && error != NULL && *error != NULL)
    {
      g_autoptr(GError) original = g_steal_pointer (error);

      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_NOT_OPEN,
                   "The session was closed while %s (%s)", what, original->message);
    }
}

/* Checks ------------------------------------------------------------------ */

/* A timeout is a number of seconds: finite, not negative (0 means no limit)
 * and at most this, about 31 years, so that no deadline in microseconds can
 * overflow. */
#define MAX_TIMEOUT_SECONDS 1e9

gboolean
llmsbx_session_check_timeout (const char  *what,
                              double       seconds,
                              GError     **error)
{
  if (isfinite (seconds) && seconds >= 0 && seconds <= MAX_TIMEOUT_SECONDS)
    return TRUE;

  g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
               "Invalid %s %g: a timeout is a number of seconds from 0 (no limit) to %g",
               what, seconds, MAX_TIMEOUT_SECONDS);
  return FALSE;
}

/* The properties take any number, so that an invalid limit is kept as given
 * and refused here, at construction (GInitable), open and every call that
 * uses it: a limit is never weakened to "none". */
static gboolean
check_limits (LlmsbxSandboxSession *self,
              GError              **error)
{
  LlmsbxSandboxSessionPrivate *priv = llmsbx_session_get_private (self);

  return llmsbx_session_check_timeout ("default-timeout", priv->default_timeout, error) &&
         llmsbx_session_check_timeout ("execution-timeout", priv->execution_timeout, error) &&
         llmsbx_session_check_timeout ("session-timeout", priv->session_timeout, error);
}

gboolean
llmsbx_session_check_open (LlmsbxSandboxSession *self,
                           GError              **error)
{
  LlmsbxSandboxSessionPrivate *priv = llmsbx_session_get_private (self);

  if (!check_limits (self, error))
    return FALSE;

  if (priv->is_open && priv->session_timeout > 0 &&
      (llmsbx_lifetime_watchdog_has_expired (priv->watchdog) ||
       g_get_monotonic_time () - priv->opened_at > (gint64) (priv->session_timeout * G_USEC_PER_SEC)))
    {
      llmsbx_session_log (self, "session lifetime of %g s exceeded, closing", priv->session_timeout);
      llmsbx_sandbox_session_close (self, NULL, NULL);
      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_SESSION_EXPIRED,
                   "Session exceeded its maximum lifetime of %g seconds and was closed",
                   priv->session_timeout);
      return FALSE;
    }

  if (!priv->is_open)
    {
      g_set_error_literal (error, LLMSBX_ERROR, LLMSBX_ERROR_NOT_OPEN,
                           "Session is not open: call open() before running code");
      return FALSE;
    }

  return TRUE;
}

/* A call that failed because the lifetime ended under it (the watchdog
 * removed the sandbox) reports the expiry, not the broken exec. */
gpointer
llmsbx_session_report_expiry (LlmsbxSandboxSession *self,
                              GError              **error)
{
  LlmsbxSandboxSessionPrivate *priv = llmsbx_session_get_private (self);

  if (llmsbx_lifetime_watchdog_has_expired (priv->watchdog) ||
      (priv->is_open && priv->session_timeout > 0 &&
       g_get_monotonic_time () - priv->opened_at > (gint64) (priv->session_timeout * G_USEC_PER_SEC)))
    {
      g_clear_error (error);
      llmsbx_session_check_open (self, error);
    }
  return NULL;
}

/* Relative sandbox paths are relative to the working directory. */
char *
llmsbx_session_resolve_sandbox_path (LlmsbxSandboxSession *self,
                                     const char           *path,
                                     GError              **error)
{
  LlmsbxSandboxSessionPrivate *priv = llmsbx_session_get_private (self);
  g_autofree char *absolute = NULL;

  if (path == NULL || *path == '\0')
    {
      g_set_error_literal (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
                           "A path in the sandbox cannot be empty");
      return NULL;
    }

  absolute = path[0] == '/' ? g_strdup (path) : g_build_path ("/", priv->workdir, path, NULL);
  if (!llmsbx_container_path_is_safe (absolute, error))
    return NULL;
  return g_steal_pointer (&absolute);
}

/* Unbuffered Python output, so live output is live. A sandbox the session
 * creates gets it in its container environment, underneath the user's
 * runtime-configs "environment" (which wins); an exec's own environment would
 * override the user's instead, so commands carry it only in sandboxes the
 * session attached to, whose environment it did not choose. */
static const char * const base_exec_env[] = { "PYTHONUNBUFFERED=1", NULL };

const char * const *
llmsbx_session_exec_env (LlmsbxSandboxSession *self)
{
  LlmsbxSandboxSessionPrivate *priv = llmsbx_session_get_private (self);

  if (priv->lease_env != NULL)
    return (const char * const *) priv->lease_env;
  return priv->created_sandbox ? NULL : base_exec_env;
}

/* Open ------------------------------------------------------------------- */

static gboolean
validate_configuration (LlmsbxSandboxSession *self,
                        GError              **error)
{
  LlmsbxSandboxSessionPrivate *priv = llmsbx_session_get_private (self);

  if (!check_limits (self, error))
    return FALSE;
  if (priv->image != NULL && priv->dockerfile != NULL)
    {
      g_set_error_literal (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
                           "Only one of 'image' or 'dockerfile' can be given, not both");
      return FALSE;
    }
  if (priv->container_id != NULL && priv->dockerfile != NULL)
    {
      g_set_error_literal (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
                           "Cannot use 'dockerfile' with an existing 'container-id'");
      return FALSE;
    }
  if (priv->workdir == NULL || priv->workdir[0] != '/')
    {
      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
                   "The workdir must be an absolute path, not '%s'", priv->workdir ? priv->workdir : "");
      return FALSE;
    }
  return llmsbx_container_path_is_safe (priv->workdir, error);
}

/* `./custom/Dockerfile` builds `sandbox-python-custom`, as the guide's library does. */
static char *
dockerfile_tag (LlmsbxSandboxSession *self,
                const char           *context_dir)
{
  LlmsbxSandboxSessionPrivate *priv = llmsbx_session_get_private (self);
  g_autofree char *base = g_path_get_basename (context_dir);
  g_autofree char *lower = g_ascii_strdown (base, -1);
  GString *tag = g_string_new ("sandbox-");

  g_string_append (tag, priv->lang);
  g_string_append_c (tag, '-');
  for (const char *p = lower; *p; p++)
    g_string_append_c (tag, g_ascii_isalnum (*p) || *p == '.' || *p == '_' ? *p : '-');
  while (tag->len > 0 && tag->str[tag->len - 1] == '-')
    g_string_truncate (tag, tag->len - 1);
  return g_string_free (tag, FALSE);
}

static gboolean
prepare_image (LlmsbxSandboxSession *self,
               GCancellable         *cancellable,
               GError              **error)
{
  LlmsbxSandboxSessionPrivate *priv = llmsbx_session_get_private (self);
  g_autofree char *default_image = llmsbx_language_handler_get_default_image (priv->handler);
  g_autoptr(GError) local_error = NULL;
  gboolean pulled = FALSE;

  if (priv->dockerfile != NULL)
    {
      g_autofree char *absolute = g_canonicalize_filename (priv->dockerfile, NULL);
      g_autofree char *context_dir = g_path_get_dirname (absolute);
      g_autofree char *name = g_path_get_basename (absolute);

      if (!g_file_test (absolute, G_FILE_TEST_IS_REGULAR))
        {
          g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_FILE_NOT_FOUND,
                       "Dockerfile %s does not exist", absolute);
          return FALSE;
        }
      priv->active_image = dockerfile_tag (self, context_dir);
      llmsbx_session_log (self, "building %s from %s", priv->active_image, absolute);
      if (!llmsbx_backend_build_image (priv->backend, context_dir, name, priv->active_image,
                                       cancellable, error))
        return FALSE;
      priv->image_acquired = TRUE;
      return TRUE;
    }

  priv->active_image = g_strdup (priv->image ? priv->image : default_image);
  if (priv->active_image == NULL)
    {
      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
                   "The %s language has no default image: set 'image'", priv->lang);
      return FALSE;
    }

  if (!llmsbx_backend_ensure_image (priv->backend, priv->active_image, &pulled,
                                    cancellable, &local_error))
    {
      /* Our own default images are built locally, never pulled: say how. */
      if (g_error_matches (local_error, LLMSBX_ERROR, LLMSBX_ERROR_IMAGE_NOT_FOUND) &&
          g_strcmp0 (priv->active_image, default_image) == 0)
        g_prefix_error (&local_error, "Build the default %s image with `llmsbx images build %s`. ",
                        priv->lang, priv->lang);
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }

  priv->image_acquired = pulled;
  return TRUE;
}

/* Where close commits to: #LlmsbxSandboxSession:commit-image, else the
 * session's image, except the language's default image, which other
 * sessions share: that commits to its tag with "-committed" (a tag of its
 * own for a digest or no tag). */
static char *
default_commit_image (LlmsbxSandboxSession *self)
{
  LlmsbxSandboxSessionPrivate *priv = llmsbx_session_get_private (self);
  g_autofree char *default_image = NULL;
  const char *image = priv->active_image;
  const char *at;
  const char *colon;

  if (priv->commit_image != NULL)
    return g_strdup (priv->commit_image);
  default_image = llmsbx_language_handler_get_default_image (priv->handler);
  if (g_strcmp0 (image, default_image) != 0)
    return g_strdup (image);

  at = strchr (image, '@');
  colon = strrchr (image, ':');
  if (at != NULL)
    return g_strdup_printf ("%.*s:committed", (int) (at - image), image);
  if (colon != NULL && strchr (colon, '/') == NULL)
    return g_strconcat (image, "-committed", NULL);
  return g_strconcat (image, ":committed", NULL);
}

/* Seconds past the session's lifetime at which its sandbox ends itself: the
 * client's watchdog normally removes it first, right at the deadline, and
 * reports the expiry; this holds when the client is gone. */
#define SELF_END_GRACE_SECONDS 2

static LlmsbxContainerSpec *
build_spec (LlmsbxSandboxSession *self)
{
  LlmsbxSandboxSessionPrivate *priv = llmsbx_session_get_private (self);
  LlmsbxContainerSpec *spec = llmsbx_container_spec_new ();
  g_autofree char *short_id = g_strndup (priv->session_uuid, 8);
  g_autofree char *lifetime = NULL;
  g_autoptr(GPtrArray) labels = NULL;
  g_autofree char **owner = llmsbx_owner_labels ();

  /* The sandbox's main process keeps it alive. With a session-timeout it
   * lives no longer than the session, so the sandbox stops by itself (no
   * restart policy is ever set) even when the client was killed and no
   * watchdog is left to remove it. */
  if (priv->session_timeout > 0)
    {
      /* Whole seconds, rounded up (at most 10^9, checked at open). */
      guint64 seconds = (guint64) priv->session_timeout;

      if ((double) seconds < priv->session_timeout)
        seconds++;
      lifetime = g_strdup_printf ("%" G_GUINT64_FORMAT, seconds + SELF_END_GRACE_SECONDS);
    }
  else
    lifetime = g_strdup ("infinity");

  spec->name = g_strdup_printf ("llmsbx-%s-%s", priv->lang, short_id);
  spec->image = g_strdup (priv->active_image);
  spec->command = g_new0 (char *, 3);
  spec->command[0] = g_strdup ("sleep");
  spec->command[1] = g_steal_pointer (&lifetime);
  spec->workdir = g_strdup (priv->workdir);
  spec->env = g_strdupv ((char **) base_exec_env);
  labels = g_ptr_array_new ();
  g_ptr_array_add (labels, g_strdup ("io.llmsbx.managed-by=libllmsbx"));
  g_ptr_array_add (labels, g_strdup_printf ("io.llmsbx.session=%s", priv->session_uuid));
  g_ptr_array_add (labels, g_strdup_printf ("io.llmsbx.lang=%s", priv->lang));
  /* Who owns it, so that llmsbx_reap_sandboxes() finds it if we die. */
  for (guint i = 0; owner[i] != NULL; i++)
    g_ptr_array_add (labels, g_steal_pointer (&owner[i]));
  g_ptr_array_add (labels, NULL);
  spec->labels = (char **) g_ptr_array_free (g_steal_pointer (&labels), FALSE);
  if (priv->runtime_configs != NULL)
    spec->runtime_configs = g_variant_ref (priv->runtime_configs);
  if (priv->pod_manifest != NULL)
    spec->pod_manifest = g_variant_ref (priv->pod_manifest);
  spec->kube_namespace = g_strdup (priv->kube_namespace);
  return spec;
}

static void
reset_state (LlmsbxSandboxSession *self)
{
  LlmsbxSandboxSessionPrivate *priv = llmsbx_session_get_private (self);

  /* Back to the pool, which resets it for the next user or destroys it. */
  if (priv->lease != NULL)
    llmsbx_sandbox_pool_return (priv->pool, g_steal_pointer (&priv->lease));
  g_clear_pointer (&priv->lease_env, g_strfreev);
  g_clear_object (&priv->runner);
  g_clear_object (&priv->handler);
  g_clear_object (&priv->backend);
  g_clear_pointer (&priv->sandbox_id, g_free);
  g_clear_pointer (&priv->active_image, g_free);
  g_clear_pointer (&priv->active_commit_image, g_free);
  priv->created_sandbox = FALSE;
  priv->image_acquired = FALSE;
  priv->environment_ready = FALSE;
  priv->oom_kills_seen = 0;
}

/* A sandbox of the pool, as if attached to: the pool created it and takes
 * it back at close. */
static gboolean
open_from_pool (LlmsbxSandboxSession *self,
                GCancellable         *cancellable,
                GError              **error)
{
  LlmsbxSandboxSessionPrivate *priv = llmsbx_session_get_private (self);

  if (priv->commit_container || priv->container_id != NULL || priv->dockerfile != NULL)
    {
      g_set_error_literal (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
                           "A session of a pool takes the pool's sandboxes: it cannot commit, "
                           "attach to a container or build a Dockerfile");
      return FALSE;
    }
  priv->lease = llmsbx_sandbox_pool_lease (priv->pool, cancellable, error);
  if (priv->lease == NULL)
    return FALSE;
  priv->backend = g_object_ref (llmsbx_pool_lease_get_backend (priv->lease));
  priv->sandbox_id = g_strdup (llmsbx_pool_lease_get_sandbox_id (priv->lease));
  priv->active_image = g_strdup (llmsbx_sandbox_pool_get_image (priv->pool));
  priv->lease_env = g_new0 (char *, 3);
  priv->lease_env[0] = g_strdup (base_exec_env[0]);
  priv->lease_env[1] = g_strdup (llmsbx_pool_lease_get_env (priv->lease));
  llmsbx_session_log (self, "took sandbox %.12s from the pool", priv->sandbox_id);
  return TRUE;
}

static void
log_runner (const char *message,
            gpointer    user_data)
{
  llmsbx_session_log (user_data, "%s", message);
}

static gboolean
open_locked (LlmsbxSandboxSession *self,
             GCancellable         *cancellable,
             GError              **error)
{
  LlmsbxSandboxSessionPrivate *priv = llmsbx_session_get_private (self);
  LlmsbxRegistry *registry = llmsbx_registry_get_default ();
  g_autoptr(LlmsbxContainerSpec) spec = NULL;

  if (!validate_configuration (self, error))
    return FALSE;
  if (priv->interactive && priv->code_runner == LLMSBX_CODE_RUNNER_MODE_EXEC)
    {
      g_set_error_literal (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
                           "An interactive session runs its cells through the resident runner: "
                           "code-runner cannot be exec");
      return FALSE;
    }

  g_clear_pointer (&priv->session_uuid, g_free);
  priv->session_uuid = g_uuid_string_random ();

  /* A pool's sandboxes are of its language, in its workdir. */
  if (priv->pool != NULL)
    {
      g_free (priv->lang);
      priv->lang = g_strdup (llmsbx_sandbox_pool_get_lang (priv->pool));
      g_free (priv->workdir);
      priv->workdir = g_strdup (llmsbx_sandbox_pool_get_workdir (priv->pool));
    }

  priv->handler = llmsbx_registry_lookup_language (registry, priv->lang, error);
  if (priv->handler == NULL)
    goto fail;

  if (priv->pool != NULL)
    {
      if (!open_from_pool (self, cancellable, error))
        goto fail;
      goto have_sandbox;
    }

  if (priv->client != NULL)
    priv->backend = g_object_ref (priv->client);
  else if (priv->backend_name == NULL)
    priv->backend = llmsbx_registry_create_default_backend (registry, cancellable, error);
  else
    priv->backend = llmsbx_registry_create_backend (registry, priv->backend_name, error);
  if (priv->backend == NULL)
    goto fail;
  if (!llmsbx_backend_apply_settings (priv->backend, priv->backend_settings, error))
    goto fail;

  if (!llmsbx_backend_connect (priv->backend, cancellable, error))
    goto fail;

  if (priv->container_id != NULL)
    {
      llmsbx_session_log (self, "attaching to existing sandbox %s", priv->container_id);
      priv->sandbox_id = llmsbx_backend_attach_sandbox (priv->backend, priv->container_id,
                                                        cancellable, error);
      if (priv->sandbox_id == NULL)
        goto fail;
    }
  else
    {
      if (!prepare_image (self, cancellable, error))
        goto fail;
      priv->active_commit_image = default_commit_image (self);

      spec = build_spec (self);
      llmsbx_session_log (self, "creating sandbox %s from %s", spec->name, spec->image);
      priv->sandbox_id = llmsbx_backend_create_sandbox (priv->backend, spec, cancellable, error);
      if (priv->sandbox_id == NULL)
        goto fail;
      priv->created_sandbox = TRUE;
    }

have_sandbox:
  /* How code reaches this sandbox. */
  if (priv->code_runner == LLMSBX_CODE_RUNNER_MODE_EXEC)
    priv->runner = llmsbx_exec_code_runner_new (priv->backend, priv->sandbox_id);
  else
    priv->runner = llmsbx_resident_code_runner_new (priv->backend, priv->sandbox_id,
                                                    llmsbx_session_exec_env (self),
                                                    priv->code_runner == LLMSBX_CODE_RUNNER_MODE_RESIDENT,
                                                    log_runner, self);
  if (!llmsbx_code_runner_prepare (priv->runner, cancellable, error))
    {
      if (priv->created_sandbox)
        llmsbx_backend_remove_sandbox (priv->backend, priv->sandbox_id, NULL, NULL);
      goto fail;
    }

  priv->opened_at = g_get_monotonic_time ();
  priv->is_open = TRUE;
  if (priv->session_timeout > 0)
    priv->watchdog = llmsbx_lifetime_watchdog_start (priv->backend, priv->sandbox_id, priv->created_sandbox,
                                                     priv->opened_at + (gint64) (priv->session_timeout * G_USEC_PER_SEC));
  llmsbx_session_log (self, "open: sandbox %.12s", priv->sandbox_id);
  return TRUE;

fail:
  reset_state (self);
  return FALSE;
}

/**
 * llmsbx_sandbox_session_new:
 * @lang: (nullable): the language, %NULL for `python`
 *
 * Creates a session. Set other properties with g_object_set() before opening.
 *
 * Returns: (transfer full): a new unopened session
 *
 * Since: 0.1
 */
LlmsbxSandboxSession *
llmsbx_sandbox_session_new (const char *lang)
{
  return g_object_new (LLMSBX_TYPE_SANDBOX_SESSION, "lang", lang ? lang : "python", NULL);
}

/**
 * llmsbx_sandbox_session_open:
 * @self: a #LlmsbxSandboxSession
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Connects to the backend, makes the image available (building or pulling it
 * when needed) and creates and starts the sandbox, or attaches to the
 * existing one named by #LlmsbxSandboxSession:container-id. When it fails,
 * nothing it created remains. Opening an open session does nothing.
 *
 * Returns: %TRUE on success
 *
 * Since: 0.1
 */
gboolean
llmsbx_sandbox_session_open (LlmsbxSandboxSession *self,
                             GCancellable         *cancellable,
                             GError              **error)
{
  LlmsbxSandboxSessionPrivate *priv = llmsbx_session_get_private (self);
  gboolean ok = TRUE;

  g_return_val_if_fail (LLMSBX_IS_SANDBOX_SESSION (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  g_rec_mutex_lock (&priv->lock);
  if (!priv->is_open)
    {
      LlmsbxSessionOperation op;

      ok = open_locked (self, llmsbx_session_operation_begin (self, &op, cancellable), error);
      llmsbx_session_operation_end (self, &op, "it was opening", error);
    }
  g_rec_mutex_unlock (&priv->lock);

  if (ok)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_IS_OPEN]);
  return ok;
}

/* Close ------------------------------------------------------------------ */

static gboolean
close_locked (LlmsbxSandboxSession *self,
              GCancellable         *cancellable,
              GError              **error)
{
  LlmsbxSandboxSessionPrivate *priv = llmsbx_session_get_private (self);
  g_autoptr(GError) first_error = NULL;
  g_autoptr(GError) local_error = NULL;
  gboolean expired;

  expired = llmsbx_lifetime_watchdog_stop (g_steal_pointer (&priv->watchdog));

  /* An expired sandbox is already gone: there is nothing left to commit.
   * The library's own files are not part of the user's state. */
  if (priv->commit_container && priv->active_commit_image != NULL && !expired)
    {
      llmsbx_session_log (self, "committing sandbox to %s", priv->active_commit_image);
      if (!llmsbx_code_runner_close (priv->runner, priv->workdir, priv->default_timeout,
                                     cancellable, &local_error) ||
          !llmsbx_backend_commit (priv->backend, priv->sandbox_id, priv->active_commit_image,
                                  cancellable, &local_error))
        g_propagate_prefixed_error (&first_error, g_steal_pointer (&local_error),
                                    "Committing the sandbox to %s failed: ", priv->active_commit_image);
    }
  else if (!llmsbx_code_runner_close (priv->runner, NULL, priv->default_timeout, NULL, &local_error))
    {
      /* The sandbox goes next, and what the runner left with it. */
      llmsbx_session_log (self, "closing the code runner failed: %s", local_error->message);
      g_clear_error (&local_error);
    }

  if (priv->created_sandbox)
    {
      llmsbx_session_log (self, "removing sandbox %.12s", priv->sandbox_id);
      /* Removal must happen even when the caller cancelled: nothing may leak. */
      if (!llmsbx_backend_remove_sandbox (priv->backend, priv->sandbox_id, NULL, &local_error))
        {
          if (first_error == NULL)
            g_propagate_prefixed_error (&first_error, g_steal_pointer (&local_error),
                                        "Removing sandbox %.12s failed: ", priv->sandbox_id);
          g_clear_error (&local_error);
        }
    }

  /* An image this session pulled or built goes away with it, unless kept or
   * committed to. It may still be used by other containers: then it stays. */
  if (priv->image_acquired && !priv->keep_template && !priv->commit_container)
    {
      if (!llmsbx_backend_remove_image (priv->backend, priv->active_image, NULL, &local_error))
        llmsbx_session_log (self, "keeping image %s: %s", priv->active_image, local_error->message);
    }

  priv->is_open = FALSE;
  reset_state (self);
  llmsbx_session_log (self, "closed");

  if (first_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&first_error));
      return FALSE;
    }
  return TRUE;
}

/**
 * llmsbx_sandbox_session_close:
 * @self: a #LlmsbxSandboxSession
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Commits the sandbox when #LlmsbxSandboxSession:commit-container is set (to
 * llmsbx_sandbox_session_get_commit_image(), without the session's own files),
 * removes a sandbox the session created (never one it attached to) and an
 * image it pulled or built unless #LlmsbxSandboxSession:keep-template is set.
 * The session is closed afterwards even when a step failed. Closing a closed
 * session does nothing.
 *
 * Returns: %TRUE when every step succeeded
 *
 * Since: 0.1
 */
gboolean
llmsbx_sandbox_session_close (LlmsbxSandboxSession *self,
                              GCancellable         *cancellable,
                              GError              **error)
{
  LlmsbxSandboxSessionPrivate *priv = llmsbx_session_get_private (self);
  gboolean ok = TRUE;
  gboolean was_open;

  g_return_val_if_fail (LLMSBX_IS_SANDBOX_SESSION (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  /* A call in another thread is cancelled, and what it started killed, so
   * that closing does not wait for code that may never end. */
  g_mutex_lock (&priv->operation_lock);
  priv->closing++;
  if (priv->operation != NULL && priv->operation_thread != g_thread_self ())
    {
      priv->operation_closed = TRUE;
      g_cancellable_cancel (priv->operation);
    }
  g_mutex_unlock (&priv->operation_lock);

  g_rec_mutex_lock (&priv->lock);
  was_open = priv->is_open;
  if (was_open)
    ok = close_locked (self, cancellable, error);
  g_rec_mutex_unlock (&priv->lock);

  g_mutex_lock (&priv->operation_lock);
  priv->closing--;
  g_mutex_unlock (&priv->operation_lock);

  if (was_open)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_IS_OPEN]);
  return ok;
}

/* Async ------------------------------------------------------------------ */

static gpointer
open_call (LlmsbxSandboxSession  *self,
           gpointer               args,
           GCancellable          *cancellable,
           GError               **error)
{
  return GINT_TO_POINTER (llmsbx_sandbox_session_open (self, cancellable, error));
}

static gpointer
close_call (LlmsbxSandboxSession  *self,
            gpointer               args,
            GCancellable          *cancellable,
            GError               **error)
{
  return GINT_TO_POINTER (llmsbx_sandbox_session_close (self, cancellable, error));
}

/**
 * llmsbx_sandbox_session_open_async:
 * @self: a #LlmsbxSandboxSession
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the session is open or failed to open
 * @user_data: data for @callback
 *
 * Opens the session in a worker thread; see llmsbx_sandbox_session_open().
 *
 * Since: 0.1
 */
void
llmsbx_sandbox_session_open_async (LlmsbxSandboxSession *self,
                                   GCancellable         *cancellable,
                                   GAsyncReadyCallback   callback,
                                   gpointer              user_data)
{
  g_return_if_fail (LLMSBX_IS_SANDBOX_SESSION (self));

  llmsbx_session_call_async (self, llmsbx_sandbox_session_open_async, open_call, TRUE, NULL, NULL,
                             cancellable, callback, user_data);
}

/**
 * llmsbx_sandbox_session_open_finish:
 * @self: a #LlmsbxSandboxSession
 * @result: the #GAsyncResult
 * @error: return location for a #GError
 *
 * Finishes llmsbx_sandbox_session_open_async().
 *
 * Returns: %TRUE when the session opened
 *
 * Since: 0.1
 */
gboolean
llmsbx_sandbox_session_open_finish (LlmsbxSandboxSession *self,
                                    GAsyncResult         *result,
                                    GError              **error)
{
  return llmsbx_session_call_finish_boolean (self, result, llmsbx_sandbox_session_open_async, error);
}

/**
 * llmsbx_sandbox_session_close_async:
 * @self: a #LlmsbxSandboxSession
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the session is closed
 * @user_data: data for @callback
 *
 * Closes the session in a worker thread; see llmsbx_sandbox_session_close().
 *
 * Since: 0.1
 */
void
llmsbx_sandbox_session_close_async (LlmsbxSandboxSession *self,
                                    GCancellable         *cancellable,
                                    GAsyncReadyCallback   callback,
                                    gpointer              user_data)
{
  g_return_if_fail (LLMSBX_IS_SANDBOX_SESSION (self));

  llmsbx_session_call_async (self, llmsbx_sandbox_session_close_async, close_call, TRUE, NULL, NULL,
                             cancellable, callback, user_data);
}

/**
 * llmsbx_sandbox_session_close_finish:
 * @self: a #LlmsbxSandboxSession
 * @result: the #GAsyncResult
 * @error: return location for a #GError
 *
 * Finishes llmsbx_sandbox_session_close_async().
 *
 * Returns: %TRUE when every step of closing succeeded
 *
 * Since: 0.1
 */
gboolean
llmsbx_sandbox_session_close_finish (LlmsbxSandboxSession *self,
                                     GAsyncResult         *result,
                                     GError              **error)
{
  return llmsbx_session_call_finish_boolean (self, result, llmsbx_sandbox_session_close_async, error);
}

/* Properties ------------------------------------------------------------- */

/**
 * llmsbx_sandbox_session_get_lang:
 * @self: a #LlmsbxSandboxSession
 *
 * Gets the language identifier.
 *
 * Returns: the language identifier
 *
 * Since: 0.1
 */
const char *
llmsbx_sandbox_session_get_lang (LlmsbxSandboxSession *self)
{
  LlmsbxSandboxSessionPrivate *priv = llmsbx_session_get_private (self);

  g_return_val_if_fail (LLMSBX_IS_SANDBOX_SESSION (self), NULL);
  return priv->lang;
}

/**
 * llmsbx_sandbox_session_get_backend:
 * @self: a #LlmsbxSandboxSession
 *
 * Gets the name of the session's backend.
 *
 * Returns: (nullable): the backend name: the client's, the configured one,
 *   or while open the one the registry chose; %NULL when none is configured
 *   and the session is not open
 *
 * Since: 0.1
 */
const char *
llmsbx_sandbox_session_get_backend (LlmsbxSandboxSession *self)
{
  LlmsbxSandboxSessionPrivate *priv = llmsbx_session_get_private (self);

  g_return_val_if_fail (LLMSBX_IS_SANDBOX_SESSION (self), NULL);
  if (priv->client != NULL)
    return llmsbx_backend_get_name (priv->client);
  if (priv->backend_name == NULL && priv->backend != NULL)
    return llmsbx_backend_get_name (priv->backend);
  return priv->backend_name;
}

/**
 * llmsbx_sandbox_session_get_client:
 * @self: a #LlmsbxSandboxSession
 *
 * Gets the backend the session was given, if any.
 *
 * Returns: (transfer none) (nullable): the backend the session was given, if any
 *
 * Since: 0.1
 */
LlmsbxBackend *
llmsbx_sandbox_session_get_client (LlmsbxSandboxSession *self)
{
  LlmsbxSandboxSessionPrivate *priv = llmsbx_session_get_private (self);

  g_return_val_if_fail (LLMSBX_IS_SANDBOX_SESSION (self), NULL);
  return priv->client;
}

/**
 * llmsbx_sandbox_session_get_image:
 * @self: a #LlmsbxSandboxSession
 *
 * Gets the session's image.
 *
 * Returns: (nullable): the image the sandbox runs (while open), or the configured one
 *
 * Since: 0.1
 */
const char *
llmsbx_sandbox_session_get_image (LlmsbxSandboxSession *self)
{
  LlmsbxSandboxSessionPrivate *priv = llmsbx_session_get_private (self);

  g_return_val_if_fail (LLMSBX_IS_SANDBOX_SESSION (self), NULL);
  return priv->active_image ? priv->active_image : priv->image;
}

/**
 * llmsbx_sandbox_session_get_commit_image:
 * @self: a #LlmsbxSandboxSession
 *
 * Gets the image the session commits to.
 *
 * Returns: (nullable): the image close() commits to (see
 *   #LlmsbxSandboxSession:commit-image) while open, else the configured one
 *
 * Since: 0.1
 */
const char *
llmsbx_sandbox_session_get_commit_image (LlmsbxSandboxSession *self)
{
  LlmsbxSandboxSessionPrivate *priv = llmsbx_session_get_private (self);

  g_return_val_if_fail (LLMSBX_IS_SANDBOX_SESSION (self), NULL);
  return priv->active_commit_image ? priv->active_commit_image : priv->commit_image;
}

/**
 * llmsbx_sandbox_session_get_workdir:
 * @self: a #LlmsbxSandboxSession
 *
 * Gets the working directory in the sandbox.
 *
 * Returns: the working directory in the sandbox
 *
 * Since: 0.1
 */
const char *
llmsbx_sandbox_session_get_workdir (LlmsbxSandboxSession *self)
{
  LlmsbxSandboxSessionPrivate *priv = llmsbx_session_get_private (self);

  g_return_val_if_fail (LLMSBX_IS_SANDBOX_SESSION (self), NULL);
  return priv->workdir;
}

/**
 * llmsbx_sandbox_session_get_container_id:
 * @self: a #LlmsbxSandboxSession
 *
 * Gets the id of the session's sandbox.
 *
 * Returns: (nullable): the sandbox's id while open, else the configured existing container
 *
 * Since: 0.1
 */
const char *
llmsbx_sandbox_session_get_container_id (LlmsbxSandboxSession *self)
{
  LlmsbxSandboxSessionPrivate *priv = llmsbx_session_get_private (self);

  g_return_val_if_fail (LLMSBX_IS_SANDBOX_SESSION (self), NULL);
  return priv->sandbox_id ? priv->sandbox_id : priv->container_id;
}

/**
 * llmsbx_sandbox_session_get_is_open:
 * @self: a #LlmsbxSandboxSession
 *
 * Checks whether the session is open.
 *
 * Returns: whether the session is open
 *
 * Since: 0.1
 */
gboolean
llmsbx_sandbox_session_get_is_open (LlmsbxSandboxSession *self)
{
  LlmsbxSandboxSessionPrivate *priv = llmsbx_session_get_private (self);

  g_return_val_if_fail (LLMSBX_IS_SANDBOX_SESSION (self), FALSE);
  return priv->is_open;
}

/**
 * llmsbx_sandbox_session_get_language_handler:
 * @self: a #LlmsbxSandboxSession
 *
 * Gets the language handler while open.
 *
 * Returns: (transfer none) (nullable): the language handler while open
 *
 * Since: 0.1
 */
LlmsbxLanguageHandler *
llmsbx_sandbox_session_get_language_handler (LlmsbxSandboxSession *self)
{
  LlmsbxSandboxSessionPrivate *priv = llmsbx_session_get_private (self);

  g_return_val_if_fail (LLMSBX_IS_SANDBOX_SESSION (self), NULL);
  return priv->handler;
}

/**
 * llmsbx_sandbox_session_get_runtime_configs:
 * @self: a #LlmsbxSandboxSession
 *
 * Gets the runtime configs, an `a{sv}` dictionary.
 *
 * Returns: (transfer none) (nullable): the runtime configs, an `a{sv}` dictionary
 *
 * Since: 0.1
 */
GVariant *
llmsbx_sandbox_session_get_runtime_configs (LlmsbxSandboxSession *self)
{
  LlmsbxSandboxSessionPrivate *priv = llmsbx_session_get_private (self);

  g_return_val_if_fail (LLMSBX_IS_SANDBOX_SESSION (self), NULL);
  return priv->runtime_configs;
}

/**
 * llmsbx_sandbox_session_set_runtime_configs:
 * @self: a #LlmsbxSandboxSession
 * @configs: (nullable): an `a{sv}` dictionary of docker-py style settings
 *
 * Sets container settings such as `mem_limit` or `network_mode`, applied when
 * the sandbox is created. The backend validates them at open().
 *
 * Since: 0.1
 */
void
llmsbx_sandbox_session_set_runtime_configs (LlmsbxSandboxSession *self,
                                            GVariant             *configs)
{
  LlmsbxSandboxSessionPrivate *priv = llmsbx_session_get_private (self);
  gboolean changed;

  g_return_if_fail (LLMSBX_IS_SANDBOX_SESSION (self));
  g_return_if_fail (configs == NULL || g_variant_is_of_type (configs, G_VARIANT_TYPE_VARDICT));

  g_rec_mutex_lock (&priv->lock);
  changed = configs != priv->runtime_configs;
  if (changed)
    {
      g_clear_pointer (&priv->runtime_configs, g_variant_unref);
      if (configs != NULL)
        priv->runtime_configs = g_variant_ref_sink (configs);
    }
  g_rec_mutex_unlock (&priv->lock);

  if (changed)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RUNTIME_CONFIGS]);
}

/**
 * llmsbx_sandbox_session_get_security_policy:
 * @self: a #LlmsbxSandboxSession
 *
 * Gets the security policy, if any.
 *
 * Returns: (transfer none) (nullable): the security policy, if any
 *
 * Since: 0.1
 */
LlmsbxSecurityPolicy *
llmsbx_sandbox_session_get_security_policy (LlmsbxSandboxSession *self)
{
  LlmsbxSandboxSessionPrivate *priv = llmsbx_session_get_private (self);

  g_return_val_if_fail (LLMSBX_IS_SANDBOX_SESSION (self), NULL);
  return priv->security_policy;
}

/**
 * llmsbx_sandbox_session_set_security_policy:
 * @self: a #LlmsbxSandboxSession
 * @policy: (nullable): the policy to enforce, or %NULL for none
 *
 * Sets the security policy that run(), install() and is_safe() apply. The
 * policy is shared, not copied: patterns added to it later apply too.
 *
 * Since: 0.1
 */
void
llmsbx_sandbox_session_set_security_policy (LlmsbxSandboxSession *self,
                                            LlmsbxSecurityPolicy *policy)
{
  LlmsbxSandboxSessionPrivate *priv = llmsbx_session_get_private (self);
  gboolean changed;

  g_return_if_fail (LLMSBX_IS_SANDBOX_SESSION (self));
  g_return_if_fail (policy == NULL || LLMSBX_IS_SECURITY_POLICY (policy));

  g_rec_mutex_lock (&priv->lock);
  g_mutex_lock (&priv->operation_lock);
  changed = g_set_object (&priv->security_policy, policy);
  g_mutex_unlock (&priv->operation_lock);
  g_rec_mutex_unlock (&priv->lock);

  if (changed)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SECURITY_POLICY]);
}

/**
 * llmsbx_sandbox_session_set_runtime_configs_json:
 * @self: a #LlmsbxSandboxSession
 * @json: a JSON object such as `{"mem_limit": "512m"}`
 * @error: return location for a #GError
 *
 * Sets #LlmsbxSandboxSession:runtime-configs from JSON. Arrays and objects
 * may nest at most 64 levels deep; text after the object and string escapes
 * that are not text (`\u0000`, an unpaired surrogate) are refused.
 *
 * Returns: %TRUE when @json is a JSON object; %FALSE with
 *   %LLMSBX_ERROR_INVALID_ARGUMENT otherwise
 *
 * Since: 0.1
 */
gboolean
llmsbx_sandbox_session_set_runtime_configs_json (LlmsbxSandboxSession *self,
                                                 const char           *json,
                                                 GError              **error)
{
  g_autoptr(JsonNode) node = NULL;
  g_autoptr(GVariant) configs = NULL;
  g_autoptr(GError) local_error = NULL;

  g_return_val_if_fail (LLMSBX_IS_SANDBOX_SESSION (self), FALSE);
  g_return_val_if_fail (json != NULL, FALSE);

  if (!llmsbx_json_check (json, -1, "Runtime configs", error))
    return FALSE;
  node = json_from_string (json, &local_error);
  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    {
      /* json-glib's parse errors quote the text, and may cut a character in two. */
      g_autofree char *reason = local_error ? g_utf8_make_valid (local_error->message, -1) : NULL;

      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
                   "Runtime configs must be a JSON object%s%s",
                   reason ? ": " : "", reason ? reason : "");
      return FALSE;
    }

  /* The result may be floating; own it before the setter takes its reference. */
  configs = json_gvariant_deserialize (node, "a{sv}", &local_error);
  if (configs != NULL)
    g_variant_ref_sink (configs);
  if (configs == NULL)
    {
      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
                   "Runtime configs cannot be converted: %s", local_error->message);
      return FALSE;
    }

  llmsbx_sandbox_session_set_runtime_configs (self, configs);
  return TRUE;
}

/**
 * llmsbx_sandbox_session_set_pod_manifest_json:
 * @self: a #LlmsbxSandboxSession
 * @json: a Pod as a JSON object (what json_to_string() makes of a #JsonNode)
 * @error: return location for a #GError
 *
 * Sets #LlmsbxSandboxSession:pod-manifest from JSON, with the checks of
 * llmsbx_sandbox_session_set_runtime_configs_json().
 *
 * Returns: %TRUE when @json is a JSON object; %FALSE with
 *   %LLMSBX_ERROR_INVALID_ARGUMENT otherwise
 *
 * Since: 0.1
 */
gboolean
llmsbx_sandbox_session_set_pod_manifest_json (LlmsbxSandboxSession *self,
                                              const char           *json,
                                              GError              **error)
{
  g_autoptr(JsonNode) node = NULL;
  g_autoptr(GVariant) manifest = NULL;
  g_autoptr(GError) local_error = NULL;

  g_return_val_if_fail (LLMSBX_IS_SANDBOX_SESSION (self), FALSE);
  g_return_val_if_fail (json != NULL, FALSE);

  if (!llmsbx_json_check (json, -1, "The pod manifest", error))
    return FALSE;
  node = json_from_string (json, &local_error);
  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    {
      g_autofree char *reason = local_error ? g_utf8_make_valid (local_error->message, -1) : NULL;

      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
                   "The pod manifest must be a JSON object%s%s", reason ? ": " : "", reason ? reason : "");
      return FALSE;
    }
  /* The result may be floating; own it before the property takes its reference. */
  manifest = json_gvariant_deserialize (node, "a{sv}", &local_error);
  if (manifest != NULL)
    g_variant_ref_sink (manifest);
  if (manifest == NULL)
    {
      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
                   "The pod manifest cannot be converted: %s", local_error->message);
      return FALSE;
    }
  g_object_set (self, "pod-manifest", manifest, NULL);
  return TRUE;
}

static void
llmsbx_sandbox_session_dispose (GObject *object)
{
  LlmsbxSandboxSession *self = LLMSBX_SANDBOX_SESSION (object);
  LlmsbxSandboxSessionPrivate *priv = llmsbx_session_get_private (self);
  g_autoptr(GError) error = NULL;

  /* A session dropped while open must not leak its sandbox. */
  if (priv->is_open && !llmsbx_sandbox_session_close (self, NULL, &error))
    g_warning ("Closing a session on dispose failed: %s", error->message);

  G_OBJECT_CLASS (llmsbx_sandbox_session_parent_class)->dispose (object);
}

static void
llmsbx_sandbox_session_finalize (GObject *object)
{
  LlmsbxSandboxSession *self = LLMSBX_SANDBOX_SESSION (object);
  LlmsbxSandboxSessionPrivate *priv = llmsbx_session_get_private (self);

  reset_state (self);
  g_free (priv->lang);
  g_free (priv->backend_name);
  g_clear_object (&priv->client);
  g_clear_object (&priv->pool);
  g_free (priv->image);
  g_free (priv->dockerfile);
  g_free (priv->workdir);
  g_free (priv->container_id);
  g_free (priv->commit_image);
  g_free (priv->session_uuid);
  g_clear_pointer (&priv->runtime_configs, g_variant_unref);
  g_clear_pointer (&priv->backend_settings, g_variant_unref);
  g_clear_pointer (&priv->pod_manifest, g_variant_unref);
  g_free (priv->kube_namespace);
  g_clear_object (&priv->security_policy);
  g_rec_mutex_clear (&priv->lock);
  g_mutex_clear (&priv->operation_lock);

  G_OBJECT_CLASS (llmsbx_sandbox_session_parent_class)->finalize (object);
}

static void
llmsbx_sandbox_session_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  LlmsbxSandboxSession *self = LLMSBX_SANDBOX_SESSION (object);
  LlmsbxSandboxSessionPrivate *priv = llmsbx_session_get_private (self);

  switch (prop_id)
    {
    case PROP_LANG: g_value_set_string (value, priv->lang); break;
    case PROP_BACKEND: g_value_set_string (value, llmsbx_sandbox_session_get_backend (self)); break;
    case PROP_CLIENT: g_value_set_object (value, priv->client); break;
    case PROP_IMAGE: g_value_set_string (value, llmsbx_sandbox_session_get_image (self)); break;
    case PROP_DOCKERFILE: g_value_set_string (value, priv->dockerfile); break;
    case PROP_WORKDIR: g_value_set_string (value, priv->workdir); break;
    case PROP_CONTAINER_ID: g_value_set_string (value, llmsbx_sandbox_session_get_container_id (self)); break;
    case PROP_KEEP_TEMPLATE: g_value_set_boolean (value, priv->keep_template); break;
    case PROP_COMMIT_CONTAINER: g_value_set_boolean (value, priv->commit_container); break;
    case PROP_COMMIT_IMAGE: g_value_set_string (value, llmsbx_sandbox_session_get_commit_image (self)); break;
    case PROP_SKIP_ENVIRONMENT_SETUP: g_value_set_boolean (value, priv->skip_environment_setup); break;
    case PROP_VERBOSE: g_value_set_boolean (value, priv->verbose); break;
    case PROP_DEFAULT_TIMEOUT: g_value_set_double (value, priv->default_timeout); break;
    case PROP_EXECUTION_TIMEOUT: g_value_set_double (value, priv->execution_timeout); break;
    case PROP_SESSION_TIMEOUT: g_value_set_double (value, priv->session_timeout); break;
    case PROP_RUNTIME_CONFIGS: g_value_set_variant (value, priv->runtime_configs); break;
    case PROP_BACKEND_SETTINGS: g_value_set_variant (value, priv->backend_settings); break;
    case PROP_POD_MANIFEST: g_value_set_variant (value, priv->pod_manifest); break;
    case PROP_KUBE_NAMESPACE: g_value_set_string (value, priv->kube_namespace); break;
    case PROP_OUTPUT_LIMIT: g_value_set_uint64 (value, priv->output_limit); break;
    case PROP_COPY_LIMIT: g_value_set_uint64 (value, priv->copy_limit); break;
    case PROP_SECURITY_POLICY: g_value_set_object (value, priv->security_policy); break;
    case PROP_IS_OPEN: g_value_set_boolean (value, priv->is_open); break;
    case PROP_POOL: g_value_set_object (value, priv->pool); break;
    case PROP_CODE_RUNNER: g_value_set_enum (value, priv->code_runner); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
set_lowercase (char       **slot,
               const char  *value)
{
  g_free (*slot);
  *slot = value ? g_ascii_strdown (value, -1) : NULL;
}

static void
llmsbx_sandbox_session_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  LlmsbxSandboxSession *self = LLMSBX_SANDBOX_SESSION (object);
  LlmsbxSandboxSessionPrivate *priv = llmsbx_session_get_private (self);

  /* Configuration changes wait for the operation in progress, which reads
   * it throughout (and may hold pointers into it). */
  g_rec_mutex_lock (&priv->lock);
  switch (prop_id)
    {
    case PROP_LANG:
      g_mutex_lock (&priv->operation_lock);  /* for is_safe() */
      set_lowercase (&priv->lang, g_value_get_string (value) ? g_value_get_string (value) : "python");
      g_mutex_unlock (&priv->operation_lock);
      break;
    case PROP_BACKEND: set_lowercase (&priv->backend_name, g_value_get_string (value)); break;
    case PROP_CLIENT: g_set_object (&priv->client, g_value_get_object (value)); break;
    case PROP_POOL: g_set_object (&priv->pool, g_value_get_object (value)); break;
    case PROP_IMAGE: g_free (priv->image); priv->image = g_value_dup_string (value); break;
    case PROP_DOCKERFILE: g_free (priv->dockerfile); priv->dockerfile = g_value_dup_string (value); break;
    case PROP_WORKDIR: g_free (priv->workdir); priv->workdir = g_strdup (g_value_get_string (value) ? g_value_get_string (value) : "/sandbox"); break;
    case PROP_CONTAINER_ID: g_free (priv->container_id); priv->container_id = g_value_dup_string (value); break;
    case PROP_KEEP_TEMPLATE: priv->keep_template = g_value_get_boolean (value); break;
    case PROP_COMMIT_CONTAINER: priv->commit_container = g_value_get_boolean (value); break;
    case PROP_COMMIT_IMAGE: g_free (priv->commit_image); priv->commit_image = g_value_dup_string (value); break;
    case PROP_SKIP_ENVIRONMENT_SETUP: priv->skip_environment_setup = g_value_get_boolean (value); break;
    case PROP_VERBOSE: priv->verbose = g_value_get_boolean (value); break;
    case PROP_DEFAULT_TIMEOUT: priv->default_timeout = g_value_get_double (value); break;
    case PROP_EXECUTION_TIMEOUT: priv->execution_timeout = g_value_get_double (value); break;
    case PROP_SESSION_TIMEOUT: priv->session_timeout = g_value_get_double (value); break;
    case PROP_RUNTIME_CONFIGS: llmsbx_sandbox_session_set_runtime_configs (self, g_value_get_variant (value)); break;
    case PROP_POD_MANIFEST:
      g_clear_pointer (&priv->pod_manifest, g_variant_unref);
      priv->pod_manifest = g_value_dup_variant (value);
      break;
    case PROP_KUBE_NAMESPACE:
      g_free (priv->kube_namespace);
      priv->kube_namespace = g_value_dup_string (value);
      break;
    case PROP_BACKEND_SETTINGS:
      g_clear_pointer (&priv->backend_settings, g_variant_unref);
      priv->backend_settings = g_value_dup_variant (value);
      break;
    case PROP_OUTPUT_LIMIT: priv->output_limit = g_value_get_uint64 (value); break;
    case PROP_COPY_LIMIT: priv->copy_limit = g_value_get_uint64 (value); break;
    case PROP_SECURITY_POLICY: llmsbx_sandbox_session_set_security_policy (self, g_value_get_object (value)); break;
    case PROP_CODE_RUNNER: priv->code_runner = g_value_get_enum (value); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
  g_rec_mutex_unlock (&priv->lock);
}

static void
llmsbx_sandbox_session_class_init (LlmsbxSandboxSessionClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  /* Not G_PARAM_CONSTRUCT: the defaults are set in llmsbx_sandbox_session_init(),
   * where a subclass's instance init can replace them, and properties given
   * to g_object_new() still win over both. */
  GParamFlags config_flags = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS;
  /* Lax: the only value a double's range cannot hold is NaN, which is then
   * kept as given, without GLib's warning. */
  GParamFlags limit_flags = config_flags | G_PARAM_LAX_VALIDATION;

  object_class->dispose = llmsbx_sandbox_session_dispose;
  object_class->finalize = llmsbx_sandbox_session_finalize;
  object_class->get_property = llmsbx_sandbox_session_get_property;
  object_class->set_property = llmsbx_sandbox_session_set_property;

  /**
   * LlmsbxSandboxSession:lang:
   *
   * The language of the code, case-insensitive (`python`, `javascript`, ...).
   *
   * Since: 0.1
   */
  properties[PROP_LANG] = g_param_spec_string ("lang", NULL, NULL, "python", config_flags);

  /**
   * LlmsbxSandboxSession:backend:
   *
   * Name of the backend plugin to use (`docker`, `podman`, `kubernetes`).
   * Ignored when #LlmsbxSandboxSession:client is set. %NULL (the default)
   * lets the registry choose at open(): the backend `LLMSBX_BACKEND` names,
   * else the first by rank that answers (Docker, then Podman; see
   * llmsbx_registry_get_default_backend_name()). While the session is open,
   * the property then reads as the backend chosen.
   *
   * Since: 0.1
   */
  properties[PROP_BACKEND] = g_param_spec_string ("backend", NULL, NULL, NULL, config_flags);

  /**
   * LlmsbxSandboxSession:client:
   *
   * A configured backend (for a remote daemon, a custom socket or TLS), used
   * instead of a default one named by #LlmsbxSandboxSession:backend.
   *
   * Since: 0.1
   */
  properties[PROP_CLIENT] = g_param_spec_object ("client", NULL, NULL, LLMSBX_TYPE_BACKEND,
                                                 G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);

  /**
   * LlmsbxSandboxSession:image:
   *
   * The image to run; %NULL for the language's default image.
   *
   * Since: 0.1
   */
  properties[PROP_IMAGE] = g_param_spec_string ("image", NULL, NULL, NULL,
                                                G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);

  /**
   * LlmsbxSandboxSession:dockerfile:
   *
   * A Dockerfile to build the image from; its directory is the build context.
   *
   * Since: 0.1
   */
  properties[PROP_DOCKERFILE] = g_param_spec_string ("dockerfile", NULL, NULL, NULL,
                                                     G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);

  /**
   * LlmsbxSandboxSession:workdir:
   *
   * Working directory in the sandbox, where code runs.
   *
   * Since: 0.1
   */
  properties[PROP_WORKDIR] = g_param_spec_string ("workdir", NULL, NULL, "/sandbox", config_flags);

  /**
   * LlmsbxSandboxSession:container-id:
   *
   * An existing container (or pod) to attach to instead of creating one. It
   * is never removed by the session. While open, this is the sandbox's id.
   *
   * Since: 0.1
   */
  properties[PROP_CONTAINER_ID] = g_param_spec_string ("container-id", NULL, NULL, NULL,
                                                       G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);

  /**
   * LlmsbxSandboxSession:keep-template:
   *
   * Keep an image this session pulled or built when it closes.
   *
   * Since: 0.1
   */
  properties[PROP_KEEP_TEMPLATE] = g_param_spec_boolean ("keep-template", NULL, NULL, FALSE, config_flags);

  /**
   * LlmsbxSandboxSession:commit-container:
   *
   * Commit the sandbox's state to #LlmsbxSandboxSession:commit-image when
   * the session closes.
   *
   * Since: 0.1
   */
  properties[PROP_COMMIT_CONTAINER] = g_param_spec_boolean ("commit-container", NULL, NULL, FALSE, config_flags);

  /**
   * LlmsbxSandboxSession:commit-image:
   *
   * The image (`name:tag`) that #LlmsbxSandboxSession:commit-container
   * commits to. %NULL for the session's own image, except when that is the
   * language's default image, which other sessions share: then its tag with
   * `-committed` appended (`llmsbx/python:bookworm-committed`). Only naming
   * the default image here commits onto it. While the session is open,
   * reading it gives the image close() will commit to.
   *
   * Since: 0.1
   */
  properties[PROP_COMMIT_IMAGE] = g_param_spec_string ("commit-image", NULL, NULL, NULL,
                                                       G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);

  /**
   * LlmsbxSandboxSession:skip-environment-setup:
   *
   * Skip the language's environment setup (venv, pip, Go modules): code runs
   * with the image's own interpreter, and installing libraries fails with
   * %LLMSBX_ERROR_LIBRARY_INSTALLATION_NOT_SUPPORTED.
   *
   * Since: 0.1
   */
  properties[PROP_SKIP_ENVIRONMENT_SETUP] =
    g_param_spec_boolean ("skip-environment-setup", NULL, NULL, FALSE, config_flags);

  /**
   * LlmsbxSandboxSession:verbose:
   *
   * Log every step, command and result at message level.
   *
   * Since: 0.1
   */
  properties[PROP_VERBOSE] = g_param_spec_boolean ("verbose", NULL, NULL, FALSE, config_flags);

  /* The timeouts accept any number here, as GObject cannot report an error
   * from a property: an invalid one is kept and refused with
   * %LLMSBX_ERROR_INVALID_ARGUMENT by g_initable_init(), open() and every
   * call that applies it (check_limits()), never weakened to "no limit". */

  /**
   * LlmsbxSandboxSession:default-timeout:
   *
   * Seconds any operation in the sandbox may take (commands, installs, and
   * runs when no other timeout is set); 0 for no limit. A negative, infinite
   * or NaN value, or one above 10^9, makes g_initable_init(), open() and
   * every call fail with %LLMSBX_ERROR_INVALID_ARGUMENT.
   *
   * Since: 0.1
   */
  properties[PROP_DEFAULT_TIMEOUT] =
    g_param_spec_double ("default-timeout", NULL, NULL, -INFINITY, INFINITY, LLMSBX_DEFAULT_TIMEOUT, limit_flags);

  /**
   * LlmsbxSandboxSession:execution-timeout:
   *
   * Seconds a run may take; 0 to use #LlmsbxSandboxSession:default-timeout.
   * Invalid values are refused as for #LlmsbxSandboxSession:default-timeout.
   *
   * Since: 0.1
   */
  properties[PROP_EXECUTION_TIMEOUT] =
    g_param_spec_double ("execution-timeout", NULL, NULL, -INFINITY, INFINITY, 0, limit_flags);

  /**
   * LlmsbxSandboxSession:session-timeout:
   *
   * Maximum lifetime of the session in seconds, counted from open; 0 for no
   * limit. An expired session is closed and its sandbox removed. Invalid
   * values are refused as for #LlmsbxSandboxSession:default-timeout.
   *
   * Since: 0.1
   */
  properties[PROP_SESSION_TIMEOUT] =
    g_param_spec_double ("session-timeout", NULL, NULL, -INFINITY, INFINITY, 0, limit_flags);

  /**
   * LlmsbxSandboxSession:runtime-configs:
   *
   * Container settings in docker-py style (`mem_limit`, `network_mode`,
   * `volumes`, ...) as an `a{sv}` dictionary.
   *
   * Since: 0.1
   */
  properties[PROP_RUNTIME_CONFIGS] =
    g_param_spec_variant ("runtime-configs", NULL, NULL, G_VARIANT_TYPE_VARDICT, NULL,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * LlmsbxSandboxSession:backend-settings:
   *
   * Settings of the session's backend by name, as an `a{sv}` dictionary
   * (`{"url": <"tcp://host:2376">, "tls-verify": <false>}`; values may be
   * strings in the setting's type), applied with
   * llmsbx_backend_apply_settings() to the backend at open(), also to a
   * #LlmsbxSandboxSession:client. Each backend declares its own
   * (llmsbx_backend_list_settings()); a name the backend does not declare
   * fails open() with %LLMSBX_ERROR_INVALID_ARGUMENT naming it and the
   * backend. From Python:
   * `backend_settings=GLib.Variant("a{sv}", {"url": GLib.Variant("s", url)})`.
   *
   * Since: 0.1
   */
  properties[PROP_BACKEND_SETTINGS] =
    g_param_spec_variant ("backend-settings", NULL, NULL, G_VARIANT_TYPE_VARDICT, NULL,
                          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);

  /**
   * LlmsbxSandboxSession:pod-manifest:
   *
   * The guide's `pod_manifest`: the Pod (an `a{sv}` shaped like its JSON)
   * the sandbox is, for backends that run pods (Kubernetes). What it leaves
   * out is supplied (image, command, workingDir, env), the session's labels
   * are added without replacing the manifest's, and a manifest without
   * `metadata.name` gets a name from the server. From Python a dict; from C
   * also llmsbx_sandbox_session_set_pod_manifest_json(). Other backends
   * ignore it.
   *
   * Since: 0.1
   */
  properties[PROP_POD_MANIFEST] =
    g_param_spec_variant ("pod-manifest", NULL, NULL, G_VARIANT_TYPE_VARDICT, NULL,
                          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);

  /**
   * LlmsbxSandboxSession:kube-namespace:
   *
   * The guide's `kube_namespace`: the namespace of the sandbox's pod, for
   * backends that run pods; %NULL for the backend's (its context's, or
   * `default`).
   *
   * Since: 0.1
   */
  properties[PROP_KUBE_NAMESPACE] =
    g_param_spec_string ("kube-namespace", NULL, NULL, NULL, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);

  /**
   * LlmsbxSandboxSession:output-limit:
   *
   * Bytes of each output stream kept per execution; past it output is
   * dropped and the result is marked truncated. 0 for no limit.
   *
   * Since: 0.1
   */
  properties[PROP_OUTPUT_LIMIT] =
    g_param_spec_uint64 ("output-limit", NULL, NULL, 0, G_MAXUINT64, LLMSBX_DEFAULT_OUTPUT_LIMIT, config_flags);

  /**
   * LlmsbxSandboxSession:copy-limit:
   *
   * Bytes of tar archive a copy into or out of the sandbox may move; a
   * larger one fails with %LLMSBX_ERROR_LIMIT_EXCEEDED naming this limit,
   * and nothing is written. Archives out of the sandbox go to disk as they
   * arrive (in an unlinked file next to the destination), never into memory;
   * archives into it are built in memory. 0 for no limit (4 GiB into the
   * sandbox).
   *
   * Since: 0.1
   */
  properties[PROP_COPY_LIMIT] =
    g_param_spec_uint64 ("copy-limit", NULL, NULL, 0, G_MAXUINT64, LLMSBX_DEFAULT_COPY_LIMIT, config_flags);

  /**
   * LlmsbxSandboxSession:security-policy:
   *
   * The security policy the session enforces: run() refuses code and
   * install() libraries that it blocks, with %LLMSBX_ERROR_SECURITY_VIOLATION
   * naming every violation, before anything reaches the sandbox. %NULL for
   * none.
   *
   * Since: 0.1
   */
  properties[PROP_SECURITY_POLICY] =
    g_param_spec_object ("security-policy", NULL, NULL, LLMSBX_TYPE_SECURITY_POLICY,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * LlmsbxSandboxSession:is-open:
   *
   * Whether the session is open.
   *
   * Since: 0.1
   */
  /**
   * LlmsbxSandboxSession:pool:
   *
   * A pool whose sandbox the session takes when it opens and gives back when
   * it closes (the pool resets or destroys it before the next user). The
   * session then has the pool's language, image, backend and workdir; it
   * cannot commit, attach to a container or build a Dockerfile.
   *
   * Since: 0.1
   */
  properties[PROP_POOL] =
    g_param_spec_object ("pool", NULL, NULL, LLMSBX_TYPE_SANDBOX_POOL,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  /**
   * LlmsbxSandboxSession:code-runner:
   *
   * How runs reach the sandbox. With %LLMSBX_CODE_RUNNER_MODE_AUTO (the
   * default) the first run is one exec per command, as with
   * %LLMSBX_CODE_RUNNER_MODE_EXEC; the second starts llmsbx-runner in the
   * sandbox over one attached exec, and every run from then on is a request
   * to it, without an engine exec. Where that cannot work (a backend
   * without attached execs, an image without the runner that none can be
   * uploaded into) runs stay on the exec path, and the verbose log says
   * why. %LLMSBX_CODE_RUNNER_MODE_RESIDENT starts the runner at the first
   * run and fails runs when it cannot. See docs/interactive.md for what
   * differs between the two paths. Read when the session opens.
   *
   * Since: 0.1
   */
  properties[PROP_CODE_RUNNER] =
    g_param_spec_enum ("code-runner", NULL, NULL, LLMSBX_TYPE_CODE_RUNNER_MODE, LLMSBX_CODE_RUNNER_MODE_AUTO,
                       config_flags);

  properties[PROP_IS_OPEN] = g_param_spec_boolean ("is-open", NULL, NULL, FALSE,
                                                   G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);

  llmsbx_session_output_class_init (object_class);
  llmsbx_session_log_install_signal (object_class);
}

/* For g_initable_new() and the Python constructor: the configuration that
 * can be checked without the engine, so that a session with an invalid limit
 * is refused where it is made. */
static gboolean
llmsbx_sandbox_session_initable_init (GInitable     *initable,
                                      GCancellable  *cancellable,
                                      GError       **error)
{
  return check_limits (LLMSBX_SANDBOX_SESSION (initable), error);
}

static void
llmsbx_sandbox_session_initable_iface_init (GInitableIface *iface)
{
  iface->init = llmsbx_sandbox_session_initable_init;
}

static void
llmsbx_sandbox_session_init (LlmsbxSandboxSession *self)
{
  LlmsbxSandboxSessionPrivate *priv = llmsbx_session_get_private (self);

  g_rec_mutex_init (&priv->lock);
  g_mutex_init (&priv->operation_lock);

  /* The properties' defaults, as their pspecs give them. */
  priv->lang = g_strdup ("python");
  priv->workdir = g_strdup ("/sandbox");
  priv->default_timeout = LLMSBX_DEFAULT_TIMEOUT;
  priv->output_limit = LLMSBX_DEFAULT_OUTPUT_LIMIT;
  priv->copy_limit = LLMSBX_DEFAULT_COPY_LIMIT;
}
