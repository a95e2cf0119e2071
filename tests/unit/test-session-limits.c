/* test-session-limits.c: a session's configuration is checked before
 * anything reaches an engine.
 *
 * Invalid limits (negative, infinite, NaN, too large) are refused with
 * LLMSBX_ERROR_INVALID_ARGUMENT wherever they are given: at construction
 * through GInitable, at open() and at every call after g_object_set(), and
 * per run; none is weakened to "no limit". No engine is needed: the checks
 * come first. */
#include <math.h>

#include <string.h>

#include <llmsbx.h>

static const char * const timeout_properties[] = {
  "default-timeout", "execution-timeout", "session-timeout",
};

static const double invalid_seconds[] = { -5.0, -0.001, 1e10 };

static double
invalid_value (guint i)
{
  switch (i)
    {
    case 0: return NAN;
    case 1: return INFINITY;
    case 2: return -INFINITY;
    default: return invalid_seconds[i - 3];
    }
}

#define N_INVALID_VALUES (3 + G_N_ELEMENTS (invalid_seconds))

static void
assert_invalid (GError     *error,
                const char *property)
{
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, property));
}

/* g_initable_new() refuses the session outright, and the value is kept as
 * given (not clamped to 0, which would mean no limit). */
static void
test_constructor_refuses_invalid_limits (void)
{
  for (guint p = 0; p < G_N_ELEMENTS (timeout_properties); p++)
    for (guint i = 0; i < N_INVALID_VALUES; i++)
      {
        g_autoptr(GError) error = NULL;
        g_autoptr(LlmsbxSandboxSession) session = NULL;
        g_autoptr(LlmsbxSandboxSession) plain = NULL;
        double kept = 0;

        session = g_initable_new (LLMSBX_TYPE_SANDBOX_SESSION, NULL, &error,
                                  timeout_properties[p], invalid_value (i), NULL);
        g_assert_null (session);
        assert_invalid (error, timeout_properties[p]);

        plain = g_object_new (LLMSBX_TYPE_SANDBOX_SESSION, timeout_properties[p], invalid_value (i), NULL);
        g_object_get (plain, timeout_properties[p], &kept, NULL);
        g_assert_true (isnan (invalid_value (i)) ? isnan (kept) : kept == invalid_value (i));
      }
}

/* A session made with g_object_new() (which cannot fail) or changed with
 * g_object_set() refuses to open, and an open one refuses to run. */
static void
test_open_refuses_invalid_limits (void)
{
  for (guint p = 0; p < G_N_ELEMENTS (timeout_properties); p++)
    for (guint i = 0; i < N_INVALID_VALUES; i++)
      {
        g_autoptr(GError) error = NULL;
        g_autoptr(LlmsbxSandboxSession) session = llmsbx_sandbox_session_new ("python");

        g_object_set (session, "backend", "no-such-backend", timeout_properties[p], invalid_value (i), NULL);
        g_assert_false (llmsbx_sandbox_session_open (session, NULL, &error));
        /* Refused for the limit, before the unknown backend is even looked up. */
        assert_invalid (error, timeout_properties[p]);
        g_assert_false (llmsbx_sandbox_session_get_is_open (session));
        g_clear_error (&error);

        g_assert_false (g_initable_init (G_INITABLE (session), NULL, &error));
        assert_invalid (error, timeout_properties[p]);
        g_clear_error (&error);

        /* Valid again: the configuration is checked as it is now. */
        g_object_set (session, timeout_properties[p], 2.5, NULL);
        g_assert_true (g_initable_init (G_INITABLE (session), NULL, &error));
        g_assert_no_error (error);
      }
}

/* Valid limits: 0 (none), fractions, the largest accepted. */
static void
test_valid_limits (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(LlmsbxSandboxSession) session = NULL;

  session = g_initable_new (LLMSBX_TYPE_SANDBOX_SESSION, NULL, &error,
                            "default-timeout", 0.0, "execution-timeout", 0.25,
                            "session-timeout", 1e9, NULL);
  g_assert_no_error (error);
  g_assert_nonnull (session);
}

/* A run's own timeout is an argument: refused before the session's state
 * is even looked at. */
static void
test_run_refuses_invalid_timeout (void)
{
  g_autoptr(LlmsbxSandboxSession) session = llmsbx_sandbox_session_new ("python");

  for (guint i = 0; i < N_INVALID_VALUES; i++)
    {
      g_autoptr(GError) error = NULL;

      g_assert_null (llmsbx_sandbox_session_run (session, "print(1)", NULL, invalid_value (i), NULL, &error));
      assert_invalid (error, "timeout");
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/session-limits/constructor-refuses-invalid-limits", test_constructor_refuses_invalid_limits);
  g_test_add_func ("/session-limits/open-refuses-invalid-limits", test_open_refuses_invalid_limits);
  g_test_add_func ("/session-limits/valid-limits", test_valid_limits);
  g_test_add_func ("/session-limits/run-refuses-invalid-timeout", test_run_refuses_invalid_timeout);

  return g_test_run ();
}
