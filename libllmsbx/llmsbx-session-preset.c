/* llmsbx-session-preset.c: giving a session a security preset.
 *
 * Every front end (the CLI's --preset, and the services that default to the
 * production preset) merges a preset into a session the same way, so the
 * merge lives here, below them. It only uses the session's public setters. */
#include "config.h"

#include "llmsbx-error.h"
#include "llmsbx-security-preset.h"

/* @preset_config under @given, which wins key by key. */
static GVariant *
merge_runtime_configs (GVariant *preset_config,
                       GVariant *given)
{
  GVariantBuilder merged;
  GVariantIter iter;
  const char *key;
  GVariant *value;

  g_variant_builder_init (&merged, G_VARIANT_TYPE_VARDICT);
  g_variant_iter_init (&iter, preset_config);
  while (g_variant_iter_next (&iter, "{&sv}", &key, &value))
    {
      g_autoptr(GVariant) override = given ? g_variant_lookup_value (given, key, NULL) : NULL;

      if (override == NULL)
        g_variant_builder_add (&merged, "{sv}", key, value);
      g_variant_unref (value);
    }
  if (given != NULL)
    {
      g_variant_iter_init (&iter, given);
      while (g_variant_iter_next (&iter, "{&sv}", &key, &value))
        {
          g_variant_builder_add (&merged, "{sv}", key, value);
          g_variant_unref (value);
        }
    }
  return g_variant_builder_end (&merged);
}

/**
 * llmsbx_sandbox_session_apply_security_preset:
 * @session: a #LlmsbxSandboxSession
 * @preset: a preset made for the session's language (and backend, when the
 *   session names one)
 * @error: return location for a #GError
 *
 * Gives @session the preset's security policy, and the preset's runtime
 * config under the runtime configs the session already has: a key the session
 * sets keeps the session's value, every other key of the preset is added. This
 * is what `llmsbx run --preset` does. A preset without a runtime config (one
 * for Kubernetes) gives only its policy; merge its
 * #LlmsbxSecurityPreset:pod-manifest-fragment into the pod manifest yourself.
 * Like the setters, it takes effect at the next open().
 *
 * Fails with %LLMSBX_ERROR_INVALID_ARGUMENT, changing nothing, when the preset
 * is for another language than the session's, or for another backend than
 * the one the session names.
 *
 * Returns: %TRUE on success
 *
 * Since: 0.1
 */
gboolean
llmsbx_sandbox_session_apply_security_preset (LlmsbxSandboxSession  *session,
                                              LlmsbxSecurityPreset  *preset,
                                              GError               **error)
{
  const char *lang;
  const char *backend;
  GVariant *preset_config;

  g_return_val_if_fail (LLMSBX_IS_SANDBOX_SESSION (session), FALSE);
  g_return_val_if_fail (LLMSBX_IS_SECURITY_PRESET (preset), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  lang = llmsbx_sandbox_session_get_lang (session);
  if (g_ascii_strcasecmp (lang, llmsbx_security_preset_get_lang (preset)) != 0)
    {
      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
                   "The %s preset is for %s code, the session runs %s",
                   llmsbx_security_preset_get_name (preset), llmsbx_security_preset_get_lang (preset), lang);
      return FALSE;
    }

  /* A session that names no backend takes what its preset was made for. */
  backend = llmsbx_sandbox_session_get_backend (session);
  if (backend != NULL && g_ascii_strcasecmp (backend, llmsbx_security_preset_get_backend (preset)) != 0)
    {
      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
                   "The %s preset is for the %s backend, the session uses %s",
                   llmsbx_security_preset_get_name (preset), llmsbx_security_preset_get_backend (preset), backend);
      return FALSE;
    }

  llmsbx_sandbox_session_set_security_policy (session, llmsbx_security_preset_get_security_policy (preset));

  preset_config = llmsbx_security_preset_get_runtime_config (preset);
  if (preset_config != NULL)
    llmsbx_sandbox_session_set_runtime_configs (session,
                                                merge_runtime_configs (preset_config,
                                                                       llmsbx_sandbox_session_get_runtime_configs (session)));
  return TRUE;
}
