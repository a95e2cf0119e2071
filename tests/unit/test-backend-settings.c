/* test-backend-settings.c: settings a backend declares, applied by name.
 *
 * A backend class of this file declares one setting of each type; the fake
 * backend declares none, and the session's backend-settings reach it. */
#include <llmsbx.h>
#include <string.h>

#include "llmsbx-fake-backend.h"

#define TEST_TYPE_SETTINGS_BACKEND (test_settings_backend_get_type ())
G_DECLARE_FINAL_TYPE (TestSettingsBackend, test_settings_backend, TEST, SETTINGS_BACKEND, LlmsbxBackend)

struct _TestSettingsBackend
{
  LlmsbxBackend parent_instance;
};

G_DEFINE_FINAL_TYPE (TestSettingsBackend, test_settings_backend, LLMSBX_TYPE_BACKEND)

static void
test_settings_backend_class_init (TestSettingsBackendClass *klass)
{
  LlmsbxBackendClass *backend_class = LLMSBX_BACKEND_CLASS (klass);

  llmsbx_backend_class_install_setting (backend_class,
    g_param_spec_string ("zone", NULL, "where sandboxes go", "default-zone", G_PARAM_READWRITE));
  llmsbx_backend_class_install_setting (backend_class,
    g_param_spec_boolean ("strict", NULL, "whether to be strict", FALSE, G_PARAM_READWRITE));
  llmsbx_backend_class_install_setting (backend_class,
    g_param_spec_double ("delay", NULL, "seconds to wait", 0.0, 10.0, 1.5, G_PARAM_READWRITE));
  llmsbx_backend_class_install_setting (backend_class,
    g_param_spec_int ("count", NULL, "how many", -5, 5, 0, G_PARAM_READWRITE));
}

static void
test_settings_backend_init (TestSettingsBackend *self)
{
}

static LlmsbxBackend *
new_backend (void)
{
  return g_object_new (TEST_TYPE_SETTINGS_BACKEND, "name", "testing", NULL);
}

static GVariant *
parse (const char *text)
{
  g_autoptr(GError) error = NULL;
  GVariant *variant = g_variant_parse (G_VARIANT_TYPE_VARDICT, text, NULL, NULL, &error);

  g_assert_no_error (error);
  return variant;  /* g_variant_parse() gives a full, non-floating reference */
}

static void
test_list (void)
{
  g_autoptr(LlmsbxBackend) backend = new_backend ();
  g_autoptr(GPtrArray) settings = llmsbx_backend_list_settings (backend);
  g_autoptr(LlmsbxBackend) fake = llmsbx_fake_backend_new ();
  g_autoptr(GPtrArray) none = llmsbx_backend_list_settings (fake);

  g_assert_cmpuint (settings->len, ==, 4);
  g_assert_cmpstr (((GParamSpec *) settings->pdata[0])->name, ==, "zone");
  g_assert_cmpstr (((GParamSpec *) settings->pdata[3])->name, ==, "count");
  g_assert_cmpstr (g_param_spec_get_blurb (settings->pdata[2]), ==, "seconds to wait");
  g_assert_cmpuint (none->len, ==, 0);
}

static void
test_defaults_and_values (void)
{
  g_autoptr(LlmsbxBackend) backend = new_backend ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) native = parse ("{'zone': <'north'>, 'strict': <true>, 'delay': <2.5>, 'count': <int64 -3>}");
  g_autoptr(GVariant) text = parse ("{'zone': <'south'>, 'strict': <'no'>, 'delay': <'7'>, 'count': <'4'>}");
  g_autoptr(GVariant) empty = parse ("{'zone': <''>}");
  g_auto(GValue) value = G_VALUE_INIT;

  g_assert_cmpstr (llmsbx_backend_get_setting_string (backend, "zone"), ==, "default-zone");
  g_assert_false (llmsbx_backend_get_setting_boolean (backend, "strict"));
  g_assert_cmpfloat (llmsbx_backend_get_setting_double (backend, "delay"), ==, 1.5);

  g_assert_true (llmsbx_backend_apply_settings (backend, native, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (llmsbx_backend_get_setting_string (backend, "zone"), ==, "north");
  g_assert_true (llmsbx_backend_get_setting_boolean (backend, "strict"));
  g_assert_cmpfloat (llmsbx_backend_get_setting_double (backend, "delay"), ==, 2.5);
  g_assert_true (llmsbx_backend_get_setting (backend, "count", &value));
  g_assert_cmpint (g_value_get_int (&value), ==, -3);

  /* Text, as the CLI gives it, is read in each setting's type. */
  g_assert_true (llmsbx_backend_apply_settings (backend, text, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (llmsbx_backend_get_setting_string (backend, "zone"), ==, "south");
  g_assert_false (llmsbx_backend_get_setting_boolean (backend, "strict"));
  g_assert_cmpfloat (llmsbx_backend_get_setting_double (backend, "delay"), ==, 7.0);
  g_value_unset (&value);
  g_assert_true (llmsbx_backend_get_setting (backend, "count", &value));
  g_assert_cmpint (g_value_get_int (&value), ==, 4);

  /* An empty value gives the default back. */
  g_assert_true (llmsbx_backend_apply_settings (backend, empty, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (llmsbx_backend_get_setting_string (backend, "zone"), ==, "default-zone");

  g_value_unset (&value);
  g_assert_false (llmsbx_backend_get_setting (backend, "nope", &value));
  g_assert_null (llmsbx_backend_get_setting_string (backend, "strict"));
}

/* All or nothing: one bad entry sets none of the others. */
static void
test_refusals (void)
{
  static const struct {
    const char *settings;
    const char *said;
  } cases[] = {
    { "{'zone': <'x'>, 'colour': <'red'>}", "The testing backend has no setting 'colour' (its settings: zone, strict, delay, count)" },
    { "{'zone': <'x'>, 'delay': <'soon'>}", "Invalid value 'soon' for the setting delay of the testing backend, which takes a number: seconds to wait" },
    { "{'zone': <'x'>, 'delay': <11.0>}", "delay" },
    { "{'zone': <'x'>, 'delay': <'nan'>}", "delay" },
    { "{'zone': <'x'>, 'count': <'2.5'>}", "which takes a whole number" },
    { "{'zone': <'x'>, 'count': <99>}", "count" },
    { "{'zone': <'x'>, 'strict': <'maybe'>}", "which takes true or false" },
    { "{'zone': <'x'>, 'strict': <1>}", "strict" },
    { "{'zone': <42>}", "which takes text" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(LlmsbxBackend) backend = new_backend ();
      g_autoptr(GVariant) settings = parse (cases[i].settings);
      g_autoptr(GError) error = NULL;

      g_test_message ("%s", cases[i].settings);
      g_assert_false (llmsbx_backend_apply_settings (backend, settings, &error));
      g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT);
      g_assert_nonnull (strstr (error->message, cases[i].said));
      g_assert_cmpstr (llmsbx_backend_get_setting_string (backend, "zone"), ==, "default-zone");
    }
}

static void
on_changed (LlmsbxBackend *backend,
            const char    *name,
            gpointer       user_data)
{
  g_string_append_printf (user_data, "%s;", name);
}

static void
test_changed_signal (void)
{
  g_autoptr(LlmsbxBackend) backend = new_backend ();
  g_autoptr(GString) seen = g_string_new (NULL);
  g_autoptr(GString) zone_seen = g_string_new (NULL);
  g_autoptr(GVariant) settings = parse ("{'zone': <'north'>, 'delay': <3.0>}");
  g_autoptr(GError) error = NULL;

  g_signal_connect (backend, "setting-changed", G_CALLBACK (on_changed), seen);
  g_signal_connect (backend, "setting-changed::zone", G_CALLBACK (on_changed), zone_seen);
  g_assert_true (llmsbx_backend_apply_settings (backend, settings, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (seen->str, ==, "zone;delay;");
  g_assert_cmpstr (zone_seen->str, ==, "zone;");
  /* The same values again change nothing. */
  g_assert_true (llmsbx_backend_apply_settings (backend, settings, &error));
  g_assert_cmpstr (seen->str, ==, "zone;delay;");
}

/* The properties that predate settings keep working on every backend. */
static void
test_aliases (void)
{
  g_autoptr(LlmsbxBackend) backend = llmsbx_fake_backend_new ();
  g_autofree char *url = NULL;
  gboolean verify = FALSE;
  double timeout = 0;

  g_assert_null (llmsbx_backend_get_url (backend));
  g_assert_true (llmsbx_backend_get_tls_verify (backend));
  g_assert_cmpfloat (llmsbx_backend_get_connect_timeout (backend), ==, 2.0);
  g_assert_cmpfloat (llmsbx_backend_get_request_timeout (backend), ==, 300.0);

  llmsbx_backend_set_url (backend, "unix:///run/a.sock");
  g_object_set (backend, "tls-verify", FALSE, "connect-timeout", 9.0, "tls-ca-file", "/ca.pem", NULL);
  g_assert_cmpstr (llmsbx_backend_get_url (backend), ==, "unix:///run/a.sock");
  g_assert_cmpstr (llmsbx_backend_get_tls_ca_file (backend), ==, "/ca.pem");
  g_object_get (backend, "url", &url, "tls-verify", &verify, "connect-timeout", &timeout, NULL);
  g_assert_cmpstr (url, ==, "unix:///run/a.sock");
  g_assert_false (verify);
  g_assert_cmpfloat (timeout, ==, 9.0);
}

/* A session gives its backend-settings to the backend at open(), which
 * refuses what it does not declare before creating anything. */
static void
test_session_refuses_unknown (void)
{
  g_autoptr(LlmsbxSandboxSession) session = NULL;
  g_autoptr(GVariant) settings = parse ("{'kubeconfig': <'/k'>}");
  g_autoptr(GError) error = NULL;

  session = g_object_new (LLMSBX_TYPE_SANDBOX_SESSION, "lang", "python", "backend", "fake",
                          "skip-environment-setup", TRUE, "backend-settings", settings, NULL);
  g_assert_false (llmsbx_sandbox_session_open (session, NULL, &error));
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT);
  g_assert_cmpstr (error->message, ==, "The fake backend has no setting 'kubeconfig' (it has no settings)");
  g_assert_cmpuint (llmsbx_fake_backend_count_sandboxes (), ==, 0);
}

int
main (int argc, char **argv)
{
  g_autoptr(GError) error = NULL;

  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
  llmsbx_fake_backend_register (llmsbx_registry_get_default (), "fake", LLMSBX_RANK_NONE, &error);
  g_assert_no_error (error);
  llmsbx_fake_backend_add_image ("llmsbx/python:bookworm");

  g_test_add_func ("/backend-settings/list", test_list);
  g_test_add_func ("/backend-settings/defaults-and-values", test_defaults_and_values);
  g_test_add_func ("/backend-settings/refusals", test_refusals);
  g_test_add_func ("/backend-settings/changed-signal", test_changed_signal);
  g_test_add_func ("/backend-settings/aliases", test_aliases);
  g_test_add_func ("/backend-settings/session-refuses-unknown", test_session_refuses_unknown);

  return g_test_run ();
}
