/* fuzz-runtime-configs.c: a libFuzzer target for the runtime-config readers:
 * the session's JSON form (llmsbx_sandbox_session_set_runtime_configs_json)
 * and the engines' mapping of the result onto a container-create body
 * (plugins/engine/llmsbx-engine-runtime-configs.c), which `llmsbx run -r` and every
 * binding's dictionaries go through.
 *
 * Each input is JSON text, not necessarily valid. Besides ASan's checks, each
 * run asserts what callers rely on: the reader fails only with
 * INVALID_ARGUMENT and then keeps the previous value; what it accepts is a
 * dictionary, which the mapping either refuses with INVALID_ARGUMENT or turns
 * into a body that json-glib can write out. */
#include <string.h>

#include <llmsbx.h>
#include <llmsbx-engine-runtime-configs.h>

#define MAX_FUZZ_INPUT (256 * 1024)

static LlmsbxSandboxSession *session;

int LLVMFuzzerInitialize (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

int
LLVMFuzzerInitialize (int    *argc,
                      char ***argv)
{
  session = g_object_new (LLMSBX_TYPE_SANDBOX_SESSION, NULL);
  return 0;
}

int
LLVMFuzzerTestOneInput (const guint8 *data,
                        size_t        size)
{
  g_autofree char *text = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) body = NULL;
  g_autoptr(JsonNode) node = NULL;
  g_autofree char *written = NULL;
  GVariant *configs;

  if (size > MAX_FUZZ_INPUT)
    return 0;

  llmsbx_sandbox_session_set_runtime_configs (session, NULL);
  text = g_strndup ((const char *) data, size);
  if (!llmsbx_sandbox_session_set_runtime_configs_json (session, text, &error))
    {
      g_assert (g_error_matches (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT));
      g_assert (g_utf8_validate (error->message, -1, NULL));
      g_assert (llmsbx_sandbox_session_get_runtime_configs (session) == NULL);
      return 0;
    }
  g_assert (error == NULL);
  configs = llmsbx_sandbox_session_get_runtime_configs (session);
  g_assert (configs != NULL && g_variant_is_of_type (configs, G_VARIANT_TYPE_VARDICT));

  body = json_object_new ();
  if (!llmsbx_engine_runtime_configs_apply (configs, body, &error))
    {
      g_assert (g_error_matches (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT));
      g_assert (g_utf8_validate (error->message, -1, NULL));
      return 0;
    }

  node = json_node_new (JSON_NODE_OBJECT);
  json_node_set_object (node, body);
  written = json_to_string (node, FALSE);
  g_assert (written != NULL && written[0] == '{');
  return 0;
}
