/* test-dbus-errors.c: every error of sessions and services has a D-Bus name of its own.
 *
 * The library's codes come from its enum type, so a code added there without
 * a name here fails this test instead of reaching callers as GDBus's
 * unmapped-error name. */
#include <llmsbx.h>

#include "llmsbx-dbus-errors.h"
#include "llmsbx-service-error.h"

static void
assert_named (GQuark domain,
              int    code)
{
  g_autoptr(GError) error = g_error_new_literal (domain, code, "x");
  g_autofree char *name = g_dbus_error_encode_gerror (error);
  g_autoptr(GError) back = NULL;

  g_test_message ("%s %d: %s", g_quark_to_string (domain), code, name);
  g_assert_true (g_str_has_prefix (name, LLMSBX_DBUS_ERROR_PREFIX));
  back = g_dbus_error_new_for_dbus_error (name, "x");
  g_assert_error (back, domain, code);
}

static void
test_session_errors (void)
{
  g_autoptr(GEnumClass) codes = g_type_class_ref (LLMSBX_TYPE_ERROR);

  g_assert_cmpuint (codes->n_values, >, 0);
  for (guint i = 0; i < codes->n_values; i++)
    assert_named (LLMSBX_ERROR, codes->values[i].value);
}

static void
test_service_errors (void)
{
  const int codes[] = {
    LLMSBX_SERVICE_ERROR_NO_SUCH_SESSION, LLMSBX_SERVICE_ERROR_ACCESS_DENIED,
    LLMSBX_SERVICE_ERROR_LIMIT_REACHED, LLMSBX_SERVICE_ERROR_SHUTTING_DOWN,
  };

  for (gsize i = 0; i < G_N_ELEMENTS (codes); i++)
    assert_named (LLMSBX_SERVICE_ERROR, codes[i]);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  llmsbx_dbus_errors_register ();

  g_test_add_func ("/dbus-errors/session", test_session_errors);
  g_test_add_func ("/dbus-errors/service", test_service_errors);
  return g_test_run ();
}
