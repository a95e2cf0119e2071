/* llmsbx-kube-credential-plugin.c: runs a kubeconfig `exec` credential plugin
 * and reads the ExecCredential it prints (client.authentication.k8s.io v1
 * and v1beta1), as client-go's plugin/pkg/client/auth/exec does.
 *
 * The command runs without a shell, with our environment plus the entry's
 * `env` and KUBERNETES_EXEC_INFO, its standard input closed (we are never
 * interactive), and at most the exec timeout: after that it is killed. Its
 * standard error is kept for the message when it fails. It leads a process
 * group of its own, so a timeout kills what it started too (a child holding
 * its pipes open would otherwise keep us waiting). Neither its output
 * nor the credential is ever logged. */
#undef G_LOG_DOMAIN
#define G_LOG_DOMAIN "Llmsbx-Kubernetes"

#include <json-glib/json-glib.h>
#include <llmsbx.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "llmsbx-kube-config-private.h"
#include "llmsbx-nesting-private.h"

/* How much of a failing plugin's standard error goes into the message. */
#define MAX_STDERR_IN_MESSAGE 4096

static guint exec_timeout_ms = LLMSBX_KUBE_EXEC_TIMEOUT_MS;
static gboolean exec_forbidden;

void
llmsbx_kube_forbid_exec_for_testing (void)
{
  exec_forbidden = TRUE;
}

void
llmsbx_kube_set_exec_timeout_for_testing (guint timeout_ms)
{
  exec_timeout_ms = timeout_ms > 0 ? timeout_ms : LLMSBX_KUBE_EXEC_TIMEOUT_MS;
}

void
llmsbx_kube_exec_config_free (LlmsbxKubeExecConfig *config)
{
  if (config == NULL)
    return;
  g_free (config->api_version);
  g_free (config->command);
  g_strfreev (config->args);
  g_strfreev (config->env);
  g_free (config->install_hint);
  g_free (config->cluster_json);
  g_free (config->where);
  g_free (config);
}

static char *
exec_info (const LlmsbxKubeExecConfig  *config,
           GError                     **error)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "apiVersion");
  json_builder_add_string_value (builder, config->api_version);
  json_builder_set_member_name (builder, "kind");
  json_builder_add_string_value (builder, "ExecCredential");
  json_builder_set_member_name (builder, "spec");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "interactive");
  json_builder_add_boolean_value (builder, FALSE);
  if (config->provide_cluster_info && config->cluster_json != NULL)
    {
      JsonNode *cluster = json_from_string (config->cluster_json, error);

      if (cluster == NULL)
        return NULL;
      json_builder_set_member_name (builder, "cluster");
      json_builder_add_value (builder, cluster);
    }
  json_builder_end_object (builder);
  json_builder_end_object (builder);
  root = json_builder_get_root (builder);
  return json_to_string (root, FALSE);
}

typedef struct {
  GBytes  *out;
  GBytes  *err;
  GError  *error;
  gboolean done;
  gboolean timed_out;
  gboolean cancelled;
} Run;

static void
communicated (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  Run *run = user_data;

  g_subprocess_communicate_finish (G_SUBPROCESS (source), result, &run->out, &run->err, &run->error);
  run->done = TRUE;
}

static gboolean
timed_out (gpointer user_data)
{
  Run *run = user_data;

  run->timed_out = TRUE;
  return G_SOURCE_REMOVE;
}

static gboolean
caller_cancelled (GCancellable *cancellable,
                  gpointer      user_data)
{
  Run *run = user_data;

  run->cancelled = TRUE;
  return G_SOURCE_REMOVE;
}

/* The plugin's standard error, cut short and made printable. */
static char *
stderr_text (GBytes *err)
{
  gsize size = 0;
  const char *data = err ? g_bytes_get_data (err, &size) : NULL;
  g_autofree char *valid = NULL;

  if (size == 0)
    return g_strdup ("(no output on stderr)");
  valid = g_utf8_make_valid (data, MIN (size, MAX_STDERR_IN_MESSAGE));
  g_strstrip (valid);
  return *valid ? g_steal_pointer (&valid) : g_strdup ("(no output on stderr)");
}

static void
own_process_group (gpointer user_data)
{
  setpgid (0, 0);
}

/* Runs argv with env, for at most the exec timeout, and not past
 * @deadline (monotonic µs, 0 for none) nor @caller's cancellation; TRUE
 * with its outputs when it exited 0. */
static gboolean
run_plugin (const LlmsbxKubeExecConfig  *config,
            GStrv                        env,
            gint64                       deadline,
            GCancellable                *caller,
            GBytes                     **out,
            GError                     **error)
{
  g_autoptr(GMainContext) context = g_main_context_new ();
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GSource) timeout = NULL;
  g_autoptr(GSource) cancelled = NULL;
  g_autoptr(GBytes) nothing = g_bytes_new_static ("", 0);
  g_autoptr(GError) local_error = NULL;
  g_autofree char *message = NULL;
  Run run = { 0, };
  gboolean ok = FALSE;
  gboolean deadline_first = FALSE;
  guint limit_ms = exec_timeout_ms;
  pid_t group = 0;

  if (g_cancellable_set_error_if_cancelled (caller, error))
    return FALSE;
  if (deadline > 0)
    {
      gint64 left_ms = (deadline - g_get_monotonic_time ()) / 1000;

      if (left_ms <= 0)
        {
          g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_TIMEOUT,
                       "the credential plugin of %s was not run: the time had run out", config->where);
          return FALSE;
        }
      if (left_ms < limit_ms)
        {
          limit_ms = (guint) left_ms;
          deadline_first = TRUE;
        }
    }

  g_ptr_array_add (argv, config->command);
  for (guint i = 0; config->args != NULL && config->args[i] != NULL; i++)
    g_ptr_array_add (argv, config->args[i]);
  g_ptr_array_add (argv, NULL);

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDIN_PIPE |
                                        G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                        G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_subprocess_launcher_set_environ (launcher, env);
  g_subprocess_launcher_set_child_setup (launcher, own_process_group, NULL, NULL);
  process = g_subprocess_launcher_spawnv (launcher, (const char * const *) argv->pdata, &local_error);
  if (process == NULL)
    {
      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_BACKEND_UNAVAILABLE,
                   "cannot run the credential plugin of %s: %s%s%s", config->where,
                   local_error->message, config->install_hint ? "\n" : "",
                   config->install_hint ? config->install_hint : "");
      return FALSE;
    }

  /* Its process group, taken now: the identifier goes once it is reaped. */
  if (g_subprocess_get_identifier (process) != NULL)
    group = (pid_t) g_ascii_strtoll (g_subprocess_get_identifier (process), NULL, 10);

  g_main_context_push_thread_default (context);
  /* Nothing on stdin: it is closed at once. */
  g_subprocess_communicate_async (process, nothing, cancellable, communicated, &run);
  timeout = g_timeout_source_new (limit_ms);
  g_source_set_callback (timeout, timed_out, &run, NULL);
  g_source_attach (timeout, context);
  if (caller != NULL)
    {
      cancelled = g_cancellable_source_new (caller);
      g_source_set_callback (cancelled, G_SOURCE_FUNC (caller_cancelled), &run, NULL);
      g_source_attach (cancelled, context);
    }
  while (!run.done && !run.timed_out && !run.cancelled)
    g_main_context_iteration (context, TRUE);
  g_source_destroy (timeout);
  if (cancelled != NULL)
    g_source_destroy (cancelled);
  if (!run.done)
    {
      /* Killed with all it started, and the read cancelled in case
       * something outside the group holds the pipes. The group may have
       * outlived its leader (a child holding the pipes); its id is not
       * reused while anything is in it. */
      if (group > 0)
        kill (-group, SIGKILL);
      g_subprocess_force_exit (process);
      g_cancellable_cancel (cancellable);
      while (!run.done)
        g_main_context_iteration (context, TRUE);
    }
  g_main_context_pop_thread_default (context);
  /* Reaps it; after force_exit this does not wait for long. */
  g_subprocess_wait (process, NULL, NULL);

  if (run.cancelled && !run.timed_out)
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED,
                 "the credential plugin of %s was killed: the operation was cancelled", config->where);
  else if (run.timed_out && deadline_first)
    g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_TIMEOUT,
                 "the credential plugin of %s had not finished when the time ran out (%u ms), and was killed",
                 config->where, limit_ms);
  else if (run.timed_out)
    g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_BACKEND_UNAVAILABLE,
                 "the credential plugin of %s did not finish within %u ms and was killed",
                 config->where, exec_timeout_ms);
  else if (run.error != NULL)
    g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_BACKEND_UNAVAILABLE,
                 "cannot read the output of the credential plugin of %s: %s",
                 config->where, run.error->message);
  else if (g_subprocess_get_if_signaled (process))
    {
      message = stderr_text (run.err);
      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_BACKEND_UNAVAILABLE,
                   "the credential plugin of %s was killed by signal %d: %s",
                   config->where, g_subprocess_get_term_sig (process), message);
    }
  else if (g_subprocess_get_exit_status (process) != 0)
    {
      message = stderr_text (run.err);
      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_BACKEND_UNAVAILABLE,
                   "the credential plugin of %s failed with exit status %d: %s",
                   config->where, g_subprocess_get_exit_status (process), message);
    }
  else
    {
      *out = g_steal_pointer (&run.out);
      ok = TRUE;
    }

  g_clear_pointer (&run.out, g_bytes_unref);
  g_clear_pointer (&run.err, g_bytes_unref);
  g_clear_error (&run.error);
  return ok;
}

static gboolean
bad_credential (const LlmsbxKubeExecConfig  *config,
                const char                  *problem,
                GError                     **error)
{
  g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_PROTOCOL,
               "the credential plugin of %s printed no valid ExecCredential: %s",
               config->where, problem);
  return FALSE;
}

/* object.member as a string, or NULL when absent, null or empty; FALSE if
 * it is there but not a string. */
static gboolean
status_string (JsonObject   *object,
               const char   *member,
               const char  **out)
{
  JsonNode *node = json_object_get_member (object, member);

  *out = NULL;
  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return TRUE;
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
    return FALSE;
  *out = json_node_get_string (node);
  if (**out == '\0')
    *out = NULL;
  return TRUE;
}

gboolean
llmsbx_kube_exec_plugin_run (const LlmsbxKubeExecConfig  *config,
                             gint64                       deadline,
                             GCancellable                *cancellable,
                             char                       **token,
                             GBytes                     **client_cert_pem,
                             GBytes                     **client_key_pem,
                             gint64                      *expiry,
                             GError                     **error)
{
  g_auto(GStrv) env = g_get_environ ();
  g_autofree char *info = exec_info (config, error);
  g_autoptr(GBytes) out = NULL;
  g_autoptr(JsonNode) root = NULL;
  JsonObject *object, *status;
  const char *kind, *api_version, *value, *cert, *key, *expires;
  gsize size = 0;
  const char *text;

  if (info == NULL)
    return FALSE;
  if (exec_forbidden)
    {
      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_BACKEND_UNAVAILABLE,
                   "the credential plugin of %s was not run: plugins are forbidden in this process",
                   config->where);
      return FALSE;
    }
  for (guint i = 0; config->env != NULL && config->env[i] != NULL; i++)
    {
      const char *eq = strchr (config->env[i], '=');
      g_autofree char *name = g_strndup (config->env[i], eq - config->env[i]);

      env = g_environ_setenv (env, name, eq + 1, TRUE);
    }
  env = g_environ_setenv (env, "KUBERNETES_EXEC_INFO", info, TRUE);

  if (!run_plugin (config, env, deadline, cancellable, &out, error))
    return FALSE;

  text = g_bytes_get_data (out, &size);
  if (size == 0)
    return bad_credential (config, "it printed nothing", error);
  {
    g_autoptr(GError) check_error = NULL;

    if (!llmsbx_json_check (text, size, "its output", &check_error))
      return bad_credential (config, check_error->message, error);
  }
  /* The JSON check refuses NULs, so the text is a string. */
  {
    g_autofree char *copy = g_strndup (text, size);
    g_autoptr(GError) parse_error = NULL;

    root = json_from_string (copy, &parse_error);
    explicit_bzero (copy, size);
    /* Ours alone (communicate's buffer): the token in it goes too. */
    explicit_bzero ((char *) text, size);
    if (root == NULL)
      return bad_credential (config, parse_error ? parse_error->message : "empty", error);
  }
  if (!JSON_NODE_HOLDS_OBJECT (root))
    return bad_credential (config, "not a JSON object", error);
  object = json_node_get_object (root);
  if (!status_string (object, "kind", &kind) || !status_string (object, "apiVersion", &api_version))
    return bad_credential (config, "its kind or apiVersion is not a string", error);
  if (kind == NULL || !g_str_equal (kind, "ExecCredential"))
    return bad_credential (config, "its kind is not ExecCredential", error);
  if (api_version == NULL || !g_str_equal (api_version, config->api_version))
    {
      g_autofree char *problem =
        g_strdup_printf ("it answered apiVersion \"%s\", the kubeconfig asks for \"%s\"",
                         api_version ? api_version : "", config->api_version);
      return bad_credential (config, problem, error);
    }
  if (!json_object_has_member (object, "status") ||
      !JSON_NODE_HOLDS_OBJECT (json_object_get_member (object, "status")))
    return bad_credential (config, "it has no status object", error);
  status = json_object_get_object_member (object, "status");

  if (!status_string (status, "token", &value) ||
      !status_string (status, "clientCertificateData", &cert) ||
      !status_string (status, "clientKeyData", &key) ||
      !status_string (status, "expirationTimestamp", &expires))
    return bad_credential (config, "a member of its status is not a string", error);
  if ((cert == NULL) != (key == NULL))
    return bad_credential (config, "it gave a client certificate without its key, or a key without its certificate", error);
  if (value == NULL && cert == NULL)
    return bad_credential (config, "it gave neither a token nor a client certificate and key", error);

  *expiry = 0;
  if (expires != NULL)
    {
      g_autoptr(GDateTime) when = g_date_time_new_from_iso8601 (expires, NULL);

      if (when == NULL)
        return bad_credential (config, "its status.expirationTimestamp is not an RFC 3339 time", error);
      *expiry = g_date_time_to_unix (when) * G_USEC_PER_SEC + g_date_time_get_microsecond (when);
    }
  llmsbx_kube_secret_free (*token);
  *token = value ? g_strdup (value) : NULL;
  g_clear_pointer (client_cert_pem, g_bytes_unref);
  g_clear_pointer (client_key_pem, g_bytes_unref);
  if (cert != NULL)
    {
      *client_cert_pem = g_bytes_new (cert, strlen (cert));
      *client_key_pem = llmsbx_kube_secret_bytes_new (key, strlen (key));
    }
  return TRUE;
}
