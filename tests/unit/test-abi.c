/* test-abi.c: the sizes of the structures plugins are built against.
 *
 * A plugin compiled against one release fills in the class and interface
 * structures it implements, and exports a descriptor, with the layout of that
 * release: a field added without taking it from the padding moves everything
 * after it, and the plugin then writes past its own class. As GStreamer's
 * tests/check/gst/gstabi.c does, this pins each size, so such a change fails
 * here; a deliberate break must also bump LLMSBX_PLUGIN_ABI_VERSION, which is
 * pinned too. The session's class is pinned alike, for the subclasses that
 * applications and later rooms of the library derive from it. */
#include <llmsbx.h>

typedef struct {
  const char *name;
  gsize size;
  gsize expected;
} Structure;

/* Backend contract v2 took probe, list_sandboxes, render_preset,
 * get_archive_to_stream and open_exec_stream from the backend class's padding, and get_security_catalogue and
 * get_hardened_environment from the language handler interface's (and
 * wrap_for_artifacts after them), and the session class's capture_artifacts
 * came from its padding: the sizes of v1 stand. */
static const Structure structures[] = {
#if GLIB_SIZEOF_VOID_P == 8
  { "LlmsbxBackendClass", sizeof (LlmsbxBackendClass), 352 },
  { "LlmsbxLanguageHandlerInterface", sizeof (LlmsbxLanguageHandlerInterface), 176 },
  { "LlmsbxLanguageConfigClass", sizeof (LlmsbxLanguageConfigClass), 200 },
  { "LlmsbxPluginDescriptor", sizeof (LlmsbxPluginDescriptor), 40 },
  { "LlmsbxExecStreamClass", sizeof (LlmsbxExecStreamClass), 248 },
  { "LlmsbxSandboxSessionClass", sizeof (LlmsbxSandboxSessionClass), 264 },
#elif GLIB_SIZEOF_VOID_P == 4
  { "LlmsbxBackendClass", sizeof (LlmsbxBackendClass), 176 },
  { "LlmsbxLanguageHandlerInterface", sizeof (LlmsbxLanguageHandlerInterface), 88 },
  { "LlmsbxLanguageConfigClass", sizeof (LlmsbxLanguageConfigClass), 100 },
  { "LlmsbxPluginDescriptor", sizeof (LlmsbxPluginDescriptor), 24 },
  { "LlmsbxExecStreamClass", sizeof (LlmsbxExecStreamClass), 124 },
  { "LlmsbxSandboxSessionClass", sizeof (LlmsbxSandboxSessionClass), 132 },
#else
#error "Add the structure sizes of this architecture to test-abi.c"
#endif
};

static void
test_sizes (void)
{
  gboolean all_match = TRUE;

  for (gsize i = 0; i < G_N_ELEMENTS (structures); i++)
    {
      if (structures[i].size == structures[i].expected)
        continue;
      g_test_message ("%s is %" G_GSIZE_FORMAT " bytes, the plugin ABI has %" G_GSIZE_FORMAT,
                      structures[i].name, structures[i].size, structures[i].expected);
      all_match = FALSE;
    }
  g_assert_true (all_match);
}

/* The layout above is ABI 1; changing it means a new version. */
static void
test_version (void)
{
  g_assert_cmpint (LLMSBX_PLUGIN_ABI_VERSION, ==, 1);
}

/* The vfuncs of contract v2 sit where the padding began, so a plugin built
 * before them finds them NULL-initialised by the base class, not its own data. */
static void
test_contract_v2_offsets (void)
{
  g_assert_cmpuint (G_STRUCT_OFFSET (LlmsbxBackendClass, probe), ==,
                    G_STRUCT_OFFSET (LlmsbxBackendClass, remove_sandbox) + sizeof (gpointer));
  g_assert_cmpuint (G_STRUCT_OFFSET (LlmsbxBackendClass, get_archive_to_stream), ==,
                    G_STRUCT_OFFSET (LlmsbxBackendClass, render_preset) + sizeof (gpointer));
  g_assert_cmpuint (G_STRUCT_OFFSET (LlmsbxBackendClass, open_exec_stream), ==,
                    G_STRUCT_OFFSET (LlmsbxBackendClass, get_archive_to_stream) + sizeof (gpointer));
  g_assert_cmpuint (G_STRUCT_OFFSET (LlmsbxBackendClass, open_exec_stream) + sizeof (gpointer), ==,
                    G_STRUCT_OFFSET (LlmsbxBackendClass, padding));
  g_assert_cmpuint (G_STRUCT_OFFSET (LlmsbxLanguageHandlerInterface, get_security_catalogue), ==,
                    G_STRUCT_OFFSET (LlmsbxLanguageHandlerInterface, strip_comments) + sizeof (gpointer));
  g_assert_cmpuint (G_STRUCT_OFFSET (LlmsbxLanguageHandlerInterface, wrap_for_artifacts), ==,
                    G_STRUCT_OFFSET (LlmsbxLanguageHandlerInterface, get_hardened_environment) + sizeof (gpointer));
  g_assert_cmpuint (G_STRUCT_OFFSET (LlmsbxLanguageHandlerInterface, wrap_for_artifacts) + sizeof (gpointer), ==,
                    G_STRUCT_OFFSET (LlmsbxLanguageHandlerInterface, padding));
}

/* The artifact session's hook took the session class's first free slot. */
static void
test_session_class_offsets (void)
{
  g_assert_cmpuint (G_STRUCT_OFFSET (LlmsbxSandboxSessionClass, capture_artifacts), ==,
                    sizeof (GObjectClass));
  g_assert_cmpuint (G_STRUCT_OFFSET (LlmsbxSandboxSessionClass, capture_artifacts) + sizeof (gpointer), ==,
                    G_STRUCT_OFFSET (LlmsbxSandboxSessionClass, padding));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/abi/sizes", test_sizes);
  g_test_add_func ("/abi/version", test_version);
  g_test_add_func ("/abi/contract-v2-offsets", test_contract_v2_offsets);
  g_test_add_func ("/abi/session-class-offsets", test_session_class_offsets);

  return g_test_run ();
}
