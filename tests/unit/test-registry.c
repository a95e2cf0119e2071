/* test-registry.c: the plugin registry, with the plugins of tests/fixtures: one
 * that works, one per way a plugin can be broken, and two builds of one plugin
 * to tell which directory of the search path won; and the ranks and the
 * default backend, with fake backends (tests/lib) that answer a probe or not. */
#include <string.h>
#include <unistd.h>

#include <llmsbx.h>

#include "llmsbx-fake-backend.h"

#define PLUGIN(file) LLMSBX_TEST_PLUGINS_DIR G_DIR_SEPARATOR_S file

/* A backend registered by the tests themselves. */
#define TEST_TYPE_BACKEND (test_backend_get_type ())
G_DECLARE_FINAL_TYPE (TestBackend, test_backend, TEST, BACKEND, LlmsbxBackend)

struct _TestBackend
{
  LlmsbxBackend parent_instance;
};

G_DEFINE_FINAL_TYPE (TestBackend, test_backend, LLMSBX_TYPE_BACKEND)

static void
test_backend_class_init (TestBackendClass *klass)
{
}

static void
test_backend_init (TestBackend *self)
{
}

static void
assert_strv (char               **strv,
             const char * const  *expected)
{
  g_autofree char *joined = g_strjoinv (", ", strv);
  g_autofree char *joined_expected = g_strjoinv (", ", (char **) expected);

  g_assert_cmpstr (joined, ==, joined_expected);
}

#define ASSERT_STRV(strv, ...) \
  G_STMT_START { \
    g_auto(GStrv) strv_ = (strv); \
    assert_strv (strv_, (const char * const[]) { __VA_ARGS__, NULL }); \
  } G_STMT_END

#define ASSERT_EMPTY(strv) \
  G_STMT_START { \
    g_auto(GStrv) strv_ = (strv); \
    g_assert_nonnull (strv_); \
    g_assert_null (strv_[0]); \
  } G_STMT_END

static LlmsbxLanguageConfig *
new_language (const char *name,
              const char *extension)
{
  static const char * const run[] = { "run {file}", NULL };

  return llmsbx_language_config_new (name, extension, run, NULL);
}

static char *
language_extension (LlmsbxRegistry *registry,
                    const char     *name)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(LlmsbxLanguageHandler) handler = llmsbx_registry_lookup_language (registry, name, &error);

  g_assert_no_error (error);
  g_assert_nonnull (handler);
  return llmsbx_language_handler_get_file_extension (handler);
}

/* Sets or unsets an environment variable for the length of a test. */
typedef struct {
  char *name;
  char *value;
  gboolean was_set;
} SavedEnv;

static SavedEnv *
set_env (const char *name,
         const char *value)
{
  SavedEnv *saved = g_new0 (SavedEnv, 1);

  saved->name = g_strdup (name);
  saved->value = g_strdup (g_getenv (name));
  saved->was_set = saved->value != NULL;
  if (value != NULL)
    g_setenv (name, value, TRUE);
  else
    g_unsetenv (name);
  return saved;
}

static void
saved_env_restore (SavedEnv *saved)
{
  if (saved->was_set)
    g_setenv (saved->name, saved->value, TRUE);
  else
    g_unsetenv (saved->name);
  g_free (saved->name);
  g_free (saved->value);
  g_free (saved);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SavedEnv, saved_env_restore)

static void
test_new_is_empty (void)
{
  g_autoptr(LlmsbxRegistry) registry = NULL;
  G_GNUC_UNUSED g_autoptr(SavedEnv) path = set_env ("LLMSBX_PLUGIN_PATH", LLMSBX_TEST_PLUGINS_DIR);

  /* Even with plugins on its search path, a new registry loads nothing by itself. */
  registry = llmsbx_registry_new ();
  ASSERT_EMPTY (llmsbx_registry_list_plugins (registry));
  ASSERT_EMPTY (llmsbx_registry_list_backends (registry));
  ASSERT_EMPTY (llmsbx_registry_list_languages (registry));
  ASSERT_EMPTY (llmsbx_registry_list_plugin_errors (registry));
}

static void
test_load_good_plugin (void)
{
  g_autoptr(LlmsbxRegistry) registry = llmsbx_registry_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(LlmsbxBackend) backend = NULL;
  g_autoptr(LlmsbxBackend) upper = NULL;
  g_autofree char *extension = NULL;

  g_assert_true (llmsbx_registry_load_plugin (registry, PLUGIN ("good.so"), &error));
  g_assert_no_error (error);

  ASSERT_STRV (llmsbx_registry_list_plugins (registry), "fixture-good");
  ASSERT_STRV (llmsbx_registry_list_backends (registry), "fake-test");
  ASSERT_STRV (llmsbx_registry_list_languages (registry), "fixturelang");
  ASSERT_EMPTY (llmsbx_registry_list_plugin_errors (registry));

  backend = llmsbx_registry_create_backend (registry, "fake-test", &error);
  g_assert_no_error (error);
  g_assert_true (LLMSBX_IS_BACKEND (backend));
  g_assert_cmpstr (G_OBJECT_TYPE_NAME (backend), ==, "FixtureBackend");
  g_assert_cmpstr (llmsbx_backend_get_name (backend), ==, "fake-test");

  /* Names match without regard to case; the backend gets the registered name. */
  upper = llmsbx_registry_create_backend (registry, "FAKE-Test", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (llmsbx_backend_get_name (upper), ==, "fake-test");
  g_assert_true (upper != backend);

  extension = language_extension (registry, "FixtureLang");
  g_assert_cmpstr (extension, ==, "fix");
}

static void
test_load_twice (void)
{
  g_autoptr(LlmsbxRegistry) registry = llmsbx_registry_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *expected = g_strdup_printf ("Cannot load plugin %s: a plugin named 'fixture-good' "
                                               "is already loaded from %s",
                                               PLUGIN ("good.so"), PLUGIN ("good.so"));

  g_assert_true (llmsbx_registry_load_plugin (registry, PLUGIN ("good.so"), NULL));
  g_assert_false (llmsbx_registry_load_plugin (registry, PLUGIN ("good.so"), &error));
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_PLUGIN);
  g_assert_cmpstr (error->message, ==, expected);

  /* Shadowing is what the search order intends, not a failure to report. */
  ASSERT_EMPTY (llmsbx_registry_list_plugin_errors (registry));
  ASSERT_STRV (llmsbx_registry_list_plugins (registry), "fixture-good");
}

static void
assert_broken (const char *path,
               const char *reason)
{
  g_autoptr(LlmsbxRegistry) registry = llmsbx_registry_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *prefix = g_strdup_printf ("Cannot load plugin %s: ", path);
  g_auto(GStrv) errors = NULL;

  g_assert_false (llmsbx_registry_load_plugin (registry, path, &error));
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_PLUGIN);
  g_assert_true (g_str_has_prefix (error->message, prefix));
  if (reason != NULL)
    g_assert_cmpstr (error->message + strlen (prefix), ==, reason);

  errors = llmsbx_registry_list_plugin_errors (registry);
  g_assert_cmpuint (g_strv_length (errors), ==, 1);
  g_assert_cmpstr (errors[0], ==, error->message);

  ASSERT_EMPTY (llmsbx_registry_list_plugins (registry));
  ASSERT_EMPTY (llmsbx_registry_list_backends (registry));
  ASSERT_EMPTY (llmsbx_registry_list_languages (registry));
}

static void
test_wrong_abi (void)
{
  assert_broken (PLUGIN ("wrong-abi.so"), "built for plugin ABI 7, this library has 1");
}

static void
test_small_descriptor (void)
{
  g_autofree char *reason = g_strdup_printf ("its descriptor has 8 bytes, plugin ABI 1 needs %zu",
                                             sizeof (LlmsbxPluginDescriptor));

  assert_broken (PLUGIN ("small-descriptor.so"), reason);
}

static void
test_no_symbol (void)
{
  assert_broken (PLUGIN ("no-symbol.so"), "no symbol llmsbx_plugin_descriptor");
}

static void
test_init_fails (void)
{
  assert_broken (PLUGIN ("init-fails.so"), "init failed: the fixture refuses to start");
}

static void
test_init_fails_silently (void)
{
  assert_broken (PLUGIN ("init-fails-silently.so"), "init failed: no reason given");
}

static void
test_not_a_shared_object (void)
{
  g_autoptr(LlmsbxRegistry) registry = llmsbx_registry_new ();
  g_autoptr(GError) error = NULL;
  const char *reason;

  assert_broken (PLUGIN ("bad.so"), NULL);

  /* The loader's reason, without the path the message already names. */
  g_assert_false (llmsbx_registry_load_plugin (registry, PLUGIN ("bad.so"), &error));
  reason = error->message + strlen ("Cannot load plugin " PLUGIN ("bad.so") ": ");
  g_assert_cmpstr (reason, !=, "");
  g_assert_null (strstr (reason, PLUGIN ("bad.so")));
}

static void
test_missing_file (void)
{
  g_autofree char *path = g_build_filename (g_get_tmp_dir (), "no-such-plugin.so", NULL);

  assert_broken (path, NULL);
}

static void
test_load_directory (void)
{
  g_autoptr(LlmsbxRegistry) registry = llmsbx_registry_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(LlmsbxBackend) backend = NULL;
  g_autofree char *order = NULL;
  g_auto(GStrv) errors = NULL;
  const char *broken[] = { "bad.so", "init-fails-silently.so", "init-fails.so",
                           "no-symbol.so", "small-descriptor.so", "wrong-abi.so" };

  /* The broken plugins do not stop the others; the first failure is returned. */
  g_assert_false (llmsbx_registry_load_directory (registry, LLMSBX_TEST_PLUGINS_DIR, &error));
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_PLUGIN);
  g_assert_true (g_str_has_prefix (error->message, "Cannot load plugin " PLUGIN ("bad.so") ": "));

  ASSERT_STRV (llmsbx_registry_list_plugins (registry), "fixture-good", "fixture-order");
  ASSERT_STRV (llmsbx_registry_list_backends (registry), "fake-test");
  ASSERT_STRV (llmsbx_registry_list_languages (registry), "fixturelang", "orderlang");

  /* Files load in name order: order-first.so wins, order-second.so is shadowed. */
  order = language_extension (registry, "orderlang");
  g_assert_cmpstr (order, ==, "order-first");

  errors = llmsbx_registry_list_plugin_errors (registry);
  g_assert_cmpuint (g_strv_length (errors), ==, G_N_ELEMENTS (broken));
  for (gsize i = 0; i < G_N_ELEMENTS (broken); i++)
    {
      g_autofree char *prefix = g_strdup_printf ("Cannot load plugin %s%s%s: ", LLMSBX_TEST_PLUGINS_DIR,
                                                 G_DIR_SEPARATOR_S, broken[i]);

      g_assert_true (g_str_has_prefix (errors[i], prefix));
    }
  g_assert_cmpstr (errors[0], ==, error->message);
  g_assert_true (g_str_has_suffix (errors[5], "built for plugin ABI 7, this library has 1"));
  g_clear_error (&error);

  backend = llmsbx_registry_create_backend (registry, "fake-test", &error);
  g_assert_no_error (error);
  g_assert_nonnull (backend);
}

static void
test_load_missing_directory (void)
{
  g_autoptr(LlmsbxRegistry) registry = llmsbx_registry_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *path = g_build_filename (g_get_tmp_dir (), "no-such-directory", NULL);
  g_auto(GStrv) errors = NULL;

  g_assert_false (llmsbx_registry_load_directory (registry, path, &error));
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT);
  g_assert_true (g_str_has_prefix (error->message, "Cannot read plugin directory "));
  g_assert_nonnull (strstr (error->message, path));

  errors = llmsbx_registry_list_plugin_errors (registry);
  g_assert_cmpuint (g_strv_length (errors), ==, 1);
  g_assert_cmpstr (errors[0], ==, error->message);
}

static void
test_register_backend (void)
{
  g_autoptr(LlmsbxRegistry) registry = llmsbx_registry_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(LlmsbxBackend) backend = NULL;
  const GType invalid[] = { G_TYPE_OBJECT, LLMSBX_TYPE_BACKEND, G_TYPE_STRING, G_TYPE_INVALID,
                            LLMSBX_TYPE_LANGUAGE_CONFIG };

  for (gsize i = 0; i < G_N_ELEMENTS (invalid); i++)
    {
      g_assert_false (llmsbx_registry_register_backend (registry, "x", invalid[i], &error));
      g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT);
      g_assert_nonnull (strstr (error->message, "LlmsbxBackend"));
      g_clear_error (&error);
    }

  g_assert_false (llmsbx_registry_register_backend (registry, "", TEST_TYPE_BACKEND, &error));
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  ASSERT_EMPTY (llmsbx_registry_list_backends (registry));

  g_assert_true (llmsbx_registry_register_backend (registry, "My-Engine", TEST_TYPE_BACKEND, &error));
  g_assert_no_error (error);
  g_assert_true (llmsbx_registry_register_backend (registry, "another", TEST_TYPE_BACKEND, &error));
  ASSERT_STRV (llmsbx_registry_list_backends (registry), "another", "my-engine");

  backend = llmsbx_registry_create_backend (registry, "MY-ENGINE", &error);
  g_assert_no_error (error);
  g_assert_true (TEST_IS_BACKEND (backend));
  g_assert_cmpstr (llmsbx_backend_get_name (backend), ==, "my-engine");
}

static void
test_register_backend_replaces (void)
{
  g_autoptr(LlmsbxRegistry) registry = llmsbx_registry_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(LlmsbxBackend) backend = NULL;

  g_assert_true (llmsbx_registry_load_plugin (registry, PLUGIN ("good.so"), &error));
  g_assert_true (llmsbx_registry_register_backend (registry, "Fake-Test", TEST_TYPE_BACKEND, &error));
  g_assert_no_error (error);

  ASSERT_STRV (llmsbx_registry_list_backends (registry), "fake-test");
  backend = llmsbx_registry_create_backend (registry, "fake-test", &error);
  g_assert_no_error (error);
  g_assert_true (TEST_IS_BACKEND (backend));
}

static void
test_backend_not_supported (void)
{
  g_autoptr(LlmsbxRegistry) registry = llmsbx_registry_new ();
  g_autoptr(GError) error = NULL;
  LlmsbxBackend *backend;

  backend = llmsbx_registry_create_backend (registry, "docker", &error);
  g_assert_null (backend);
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_BACKEND_NOT_SUPPORTED);
  g_assert_cmpstr (error->message, ==, "Backend 'docker' is not supported; available: none");
  g_clear_error (&error);

  g_assert_true (llmsbx_registry_register_backend (registry, "podman", TEST_TYPE_BACKEND, NULL));
  g_assert_true (llmsbx_registry_register_backend (registry, "kubernetes", TEST_TYPE_BACKEND, NULL));
  backend = llmsbx_registry_create_backend (registry, "Docker", &error);
  g_assert_null (backend);
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_BACKEND_NOT_SUPPORTED);
  g_assert_cmpstr (error->message, ==, "Backend 'Docker' is not supported; available: kubernetes, podman");
}

static void
test_languages (void)
{
  g_autoptr(LlmsbxRegistry) registry = llmsbx_registry_new ();
  g_autoptr(GError) error = NULL;
  const char *names[] = { "python", "Go", "cpp" };
  LlmsbxLanguageHandler *missing;

  missing = llmsbx_registry_lookup_language (registry, "rust", &error);
  g_assert_null (missing);
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_LANGUAGE_NOT_SUPPORTED);
  g_assert_cmpstr (error->message, ==, "Language 'rust' is not supported; available: none");
  g_clear_error (&error);

  for (gsize i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autoptr(LlmsbxLanguageConfig) language = new_language (names[i], names[i]);

      g_assert_true (llmsbx_registry_register_language (registry, LLMSBX_LANGUAGE_HANDLER (language), &error));
      g_assert_no_error (error);
    }

  ASSERT_STRV (llmsbx_registry_list_languages (registry), "cpp", "go", "python");

  missing = llmsbx_registry_lookup_language (registry, "rust", &error);
  g_assert_null (missing);
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_LANGUAGE_NOT_SUPPORTED);
  g_assert_cmpstr (error->message, ==, "Language 'rust' is not supported; available: cpp, go, python");
  g_clear_error (&error);

  for (gsize i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autofree char *upper = g_ascii_strup (names[i], -1);
      g_autofree char *extension = language_extension (registry, upper);

      g_assert_cmpstr (extension, ==, names[i]);
    }
}

static void
test_language_replaced (void)
{
  g_autoptr(LlmsbxRegistry) registry = llmsbx_registry_new ();
  g_autoptr(LlmsbxLanguageConfig) mine = new_language ("FIXTURELANG", "mine");
  g_autoptr(GError) error = NULL;
  g_autofree char *extension = NULL;

  /* A handler registered at run time wins over the plugin's. */
  g_assert_true (llmsbx_registry_load_plugin (registry, PLUGIN ("good.so"), &error));
  g_assert_true (llmsbx_registry_register_language (registry, LLMSBX_LANGUAGE_HANDLER (mine), &error));
  g_assert_no_error (error);

  ASSERT_STRV (llmsbx_registry_list_languages (registry), "fixturelang");
  extension = language_extension (registry, "fixturelang");
  g_assert_cmpstr (extension, ==, "mine");
}

static void
test_language_without_name (void)
{
  g_autoptr(LlmsbxRegistry) registry = llmsbx_registry_new ();
  g_autoptr(LlmsbxLanguageConfig) nameless = g_object_new (LLMSBX_TYPE_LANGUAGE_CONFIG, NULL);
  g_autoptr(LlmsbxLanguageConfig) empty = new_language ("", "x");
  g_autoptr(GError) error = NULL;

  g_assert_false (llmsbx_registry_register_language (registry, LLMSBX_LANGUAGE_HANDLER (nameless), &error));
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "LlmsbxLanguageConfig"));
  g_clear_error (&error);

  g_assert_false (llmsbx_registry_register_language (registry, LLMSBX_LANGUAGE_HANDLER (empty), &error));
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT);
  ASSERT_EMPTY (llmsbx_registry_list_languages (registry));
}

static void
test_search_path (void)
{
  G_GNUC_UNUSED g_autoptr(SavedEnv) path = set_env ("LLMSBX_PLUGIN_PATH", "/extra/one::/extra/two:/extra/one");
  G_GNUC_UNUSED g_autoptr(SavedEnv) system = set_env ("LLMSBX_PLUGIN_SYSTEM_PATH", "/system/a:/system/b");
  g_autoptr(LlmsbxRegistry) both = llmsbx_registry_new ();
  g_autoptr(LlmsbxRegistry) disabled = NULL;
  g_autoptr(LlmsbxRegistry) installed = NULL;
  g_autoptr(LlmsbxRegistry) nothing = NULL;
  g_auto(GStrv) installed_path = NULL;

  ASSERT_STRV (llmsbx_registry_get_search_path (both), "/extra/one", "/extra/two", "/system/a", "/system/b");

  /* Set but empty, the system path disables the installed plugins. */
  g_setenv ("LLMSBX_PLUGIN_SYSTEM_PATH", "", TRUE);
  disabled = llmsbx_registry_new ();
  ASSERT_STRV (llmsbx_registry_get_search_path (disabled), "/extra/one", "/extra/two");

  /* Unset, the installed plugin directory comes last. */
  g_unsetenv ("LLMSBX_PLUGIN_SYSTEM_PATH");
  installed = llmsbx_registry_new ();
  installed_path = llmsbx_registry_get_search_path (installed);
  g_assert_cmpuint (g_strv_length (installed_path), ==, 3);
  g_assert_cmpstr (installed_path[0], ==, "/extra/one");
  g_assert_cmpstr (installed_path[1], ==, "/extra/two");
  g_assert_true (g_str_has_suffix (installed_path[2], "/llmsbx-1.0/plugins"));

  g_unsetenv ("LLMSBX_PLUGIN_PATH");
  g_setenv ("LLMSBX_PLUGIN_SYSTEM_PATH", "", TRUE);
  nothing = llmsbx_registry_new ();
  ASSERT_EMPTY (llmsbx_registry_get_search_path (nothing));
}

static void
test_ensure_plugins (void)
{
  g_autofree char *missing = g_build_filename (g_get_tmp_dir (), "no-such-directory", NULL);
  g_autofree char *search = g_strjoin (":", missing, LLMSBX_TEST_PLUGINS_DIR, NULL);
  G_GNUC_UNUSED g_autoptr(SavedEnv) path = set_env ("LLMSBX_PLUGIN_PATH", search);
  G_GNUC_UNUSED g_autoptr(SavedEnv) system = set_env ("LLMSBX_PLUGIN_SYSTEM_PATH", "");
  g_autoptr(LlmsbxRegistry) registry = llmsbx_registry_new ();
  g_auto(GStrv) errors = NULL;

  ASSERT_EMPTY (llmsbx_registry_list_plugins (registry));

  llmsbx_registry_ensure_plugins (registry);
  ASSERT_STRV (llmsbx_registry_list_plugins (registry), "fixture-good", "fixture-order");

  /* A missing directory is no error; each broken plugin is one, reported once. */
  llmsbx_registry_ensure_plugins (registry);
  errors = llmsbx_registry_list_plugin_errors (registry);
  g_assert_cmpuint (g_strv_length (errors), ==, 6);
  g_assert_null (strstr (errors[0], missing));
}

/* Links @files of the fixtures directory into a new directory of the test's
 * own, which the test harness removes. */
static char *
make_plugin_dir (const char          *name,
                 const char * const  *files)
{
  char *dir = g_build_filename (g_get_user_cache_dir (), name, NULL);

  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  for (guint i = 0; files[i] != NULL; i++)
    {
      g_autofree char *target = g_build_filename (LLMSBX_TEST_PLUGINS_DIR, files[i], NULL);
      g_autofree char *link = g_build_filename (dir, files[i], NULL);

      g_assert_cmpint (symlink (target, link), ==, 0);
    }
  return dir;
}

static gpointer
list_languages_thread (gpointer data)
{
  return llmsbx_registry_list_languages (llmsbx_registry_get_default ());
}

/* In a subprocess, since the default registry reads the environment once:
 * @extra goes in LLMSBX_PLUGIN_PATH and @system in LLMSBX_PLUGIN_SYSTEM_PATH. */
static void
check_default_registry (const char *extra,
                        const char *system,
                        const char *expected_order)
{
  LlmsbxRegistry *registry;
  GThread *threads[4];
  g_autofree char *order = NULL;
  g_auto(GStrv) errors = NULL;

  g_setenv ("LLMSBX_PLUGIN_PATH", extra, TRUE);
  g_setenv ("LLMSBX_PLUGIN_SYSTEM_PATH", system, TRUE);

  registry = llmsbx_registry_get_default ();
  g_assert_true (llmsbx_registry_get_default () == registry);
  ASSERT_STRV (llmsbx_registry_get_search_path (registry), extra, system);

  /* The first questions, from several threads at once, load the plugins once,
   * and every thread sees all of them. */
  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    threads[i] = g_thread_new ("list", list_languages_thread, NULL);
  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    ASSERT_STRV (g_thread_join (threads[i]), "fixturelang", "orderlang");

  ASSERT_STRV (llmsbx_registry_list_plugins (registry), "fixture-good", "fixture-order");
  ASSERT_STRV (llmsbx_registry_list_backends (registry), "fake-test");
  order = language_extension (registry, "orderlang");
  g_assert_cmpstr (order, ==, expected_order);

  errors = llmsbx_registry_list_plugin_errors (registry);
  g_assert_cmpuint (g_strv_length (errors), ==, 1);
  g_assert_true (g_str_has_suffix (errors[0], "built for plugin ABI 7, this library has 1"));
}

static const char * const first_files[] = { "order-first.so", "good.so", NULL };
static const char * const second_files[] = { "order-second.so", "wrong-abi.so", NULL };

/* The directory in LLMSBX_PLUGIN_PATH wins, whatever the file names. */
static void
test_default_plugin_path_wins (void)
{
  if (g_test_subprocess ())
    {
      g_autofree char *first = make_plugin_dir ("first", first_files);
      g_autofree char *second = make_plugin_dir ("second", second_files);

      check_default_registry (second, first, "order-second");
      return;
    }

  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
}

static void
test_default_plugin_path_wins_swapped (void)
{
  if (g_test_subprocess ())
    {
      g_autofree char *first = make_plugin_dir ("first", first_files);
      g_autofree char *second = make_plugin_dir ("second", second_files);

      check_default_registry (first, second, "order-first");
      return;
    }

  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
}

/* What an application registers wins over the plugins' registrations, even
 * when it registers before the default registry loaded them. */
static void
test_default_application_wins (void)
{
  g_autoptr(LlmsbxLanguageConfig) mine = NULL;
  g_autoptr(LlmsbxBackend) backend = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *extension = NULL;
  g_autofree char *dir = NULL;
  LlmsbxRegistry *registry;

  if (!g_test_subprocess ())
    {
      g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
      g_test_trap_assert_passed ();
      return;
    }

  dir = make_plugin_dir ("first", first_files);
  g_setenv ("LLMSBX_PLUGIN_PATH", "", TRUE);
  g_setenv ("LLMSBX_PLUGIN_SYSTEM_PATH", dir, TRUE);
  registry = llmsbx_registry_get_default ();

  mine = new_language ("FixtureLang", "mine");
  g_assert_true (llmsbx_registry_register_language (registry, LLMSBX_LANGUAGE_HANDLER (mine), &error));
  g_assert_no_error (error);
  g_assert_true (llmsbx_registry_register_backend (registry, "fake-test", TEST_TYPE_BACKEND, &error));
  g_assert_no_error (error);

  ASSERT_STRV (llmsbx_registry_list_plugins (registry), "fixture-good", "fixture-order");
  ASSERT_STRV (llmsbx_registry_list_languages (registry), "fixturelang", "orderlang");
  extension = language_extension (registry, "fixturelang");
  g_assert_cmpstr (extension, ==, "mine");
  backend = llmsbx_registry_create_backend (registry, "fake-test", &error);
  g_assert_no_error (error);
  g_assert_true (TEST_IS_BACKEND (backend));
}

static gpointer
load_good_thread (gpointer data)
{
  return GINT_TO_POINTER (llmsbx_registry_load_plugin (data, PLUGIN ("good.so"), NULL));
}

static void
test_concurrent_loads (void)
{
  g_autoptr(LlmsbxRegistry) registry = llmsbx_registry_new ();
  GThread *threads[8];
  guint loaded = 0;

  /* The name is reserved before init runs: exactly one thread loads the plugin. */
  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    threads[i] = g_thread_new ("load", load_good_thread, registry);
  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    loaded += GPOINTER_TO_INT (g_thread_join (threads[i]));

  g_assert_cmpuint (loaded, ==, 1);
  ASSERT_STRV (llmsbx_registry_list_plugins (registry), "fixture-good");
  ASSERT_EMPTY (llmsbx_registry_list_plugin_errors (registry));
}

/* Ranks and the default backend ------------------------------------------ */

/* A registry of fake backends: "first" PRIMARY, "second" SECONDARY,
 * "fallback" MARGINAL and "named" NONE, all answering. */
static LlmsbxRegistry *
ranked_registry (void)
{
  LlmsbxRegistry *registry = llmsbx_registry_new ();
  const struct { const char *name; guint rank; } backends[] = {
    { "named", LLMSBX_RANK_NONE }, { "second", LLMSBX_RANK_SECONDARY },
    { "fallback", LLMSBX_RANK_MARGINAL }, { "first", LLMSBX_RANK_PRIMARY },
  };
  g_autoptr(GError) error = NULL;

  for (gsize i = 0; i < G_N_ELEMENTS (backends); i++)
    {
      g_assert_true (llmsbx_fake_backend_register (registry, backends[i].name, backends[i].rank, &error));
      g_assert_no_error (error);
      llmsbx_fake_backend_set_usable (backends[i].name, TRUE);
    }
  return registry;
}

static char *
default_name (LlmsbxRegistry *registry)
{
  g_autoptr(GError) error = NULL;
  char *name = llmsbx_registry_get_default_backend_name (registry, NULL, &error);

  g_assert_no_error (error);
  g_assert_nonnull (name);
  return name;
}

static void
test_ranks (void)
{
  g_autoptr(LlmsbxRegistry) registry = ranked_registry ();
  g_autoptr(GError) error = NULL;
  g_autofree char *middle = llmsbx_rank_to_string (LLMSBX_RANK_PRIMARY + 1);
  g_autofree char *none = llmsbx_rank_to_string (LLMSBX_RANK_NONE);

  ASSERT_STRV (llmsbx_registry_list_backends (registry), "fallback", "first", "named", "second");
  g_assert_cmpuint (llmsbx_registry_get_backend_rank (registry, "FIRST"), ==, LLMSBX_RANK_PRIMARY);
  g_assert_cmpuint (llmsbx_registry_get_backend_rank (registry, "second"), ==, LLMSBX_RANK_SECONDARY);
  g_assert_cmpuint (llmsbx_registry_get_backend_rank (registry, "fallback"), ==, LLMSBX_RANK_MARGINAL);
  g_assert_cmpuint (llmsbx_registry_get_backend_rank (registry, "named"), ==, LLMSBX_RANK_NONE);
  g_assert_cmpuint (llmsbx_registry_get_backend_rank (registry, "missing"), ==, LLMSBX_RANK_NONE);
  g_assert_cmpstr (middle, ==, "primary+1");
  g_assert_cmpstr (none, ==, "none");

  /* Registering again keeps the name and takes the new rank. */
  g_assert_true (llmsbx_registry_register_backend_full (registry, "named", TEST_TYPE_BACKEND, 300, &error));
  g_assert_cmpuint (llmsbx_registry_get_backend_rank (registry, "named"), ==, 300);
  g_assert_true (llmsbx_registry_register_backend (registry, "named", TEST_TYPE_BACKEND, &error));
  g_assert_cmpuint (llmsbx_registry_get_backend_rank (registry, "named"), ==, LLMSBX_RANK_NONE);
  g_assert_no_error (error);
}

/* By falling rank, the first that answers; rank NONE never. */
static void
test_default_backend (void)
{
  G_GNUC_UNUSED g_autoptr(SavedEnv) env = set_env ("LLMSBX_BACKEND", NULL);
  g_autoptr(GError) error = NULL;

  {
    g_autoptr(LlmsbxRegistry) registry = ranked_registry ();
    g_autofree char *name = default_name (registry);

    g_assert_cmpstr (name, ==, "first");
  }
  llmsbx_fake_backend_set_usable ("first", FALSE);
  {
    g_autoptr(LlmsbxRegistry) registry = ranked_registry ();
    g_autoptr(LlmsbxBackend) backend = NULL;

    llmsbx_fake_backend_set_usable ("first", FALSE);
    backend = llmsbx_registry_create_default_backend (registry, NULL, &error);
    g_assert_no_error (error);
    g_assert_cmpstr (llmsbx_backend_get_name (backend), ==, "second");
    g_assert_true (LLMSBX_IS_FAKE_BACKEND (backend));
  }
  {
    g_autoptr(LlmsbxRegistry) registry = ranked_registry ();
    g_autofree char *name = NULL;

    llmsbx_fake_backend_set_usable ("first", FALSE);
    llmsbx_fake_backend_set_usable ("second", FALSE);
    name = default_name (registry);
    g_assert_cmpstr (name, ==, "fallback");

    /* Nothing answers: each reason, in the order tried; "named" is not tried. */
    llmsbx_fake_backend_set_usable ("fallback", FALSE);
    g_assert_true (llmsbx_registry_register_backend (registry, "named", LLMSBX_TYPE_FAKE_BACKEND, &error));
    g_clear_pointer (&name, g_free);
    name = llmsbx_registry_get_default_backend_name (registry, NULL, &error);
    g_assert_null (name);
    g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_BACKEND_UNAVAILABLE);
    g_assert_nonnull (strstr (error->message, "first: The fake backend first is switched off; "
                                              "second: The fake backend second is switched off; "
                                              "fallback: The fake backend fallback is switched off"));
    g_assert_null (strstr (error->message, "named"));
    g_clear_error (&error);
  }
  {
    g_autoptr(LlmsbxRegistry) registry = llmsbx_registry_new ();
    g_autofree char *name = NULL;

    g_assert_true (llmsbx_registry_register_backend (registry, "named", LLMSBX_TYPE_FAKE_BACKEND, &error));
    name = llmsbx_registry_get_default_backend_name (registry, NULL, &error);
    g_assert_null (name);
    g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_BACKEND_NOT_SUPPORTED);
    g_assert_nonnull (strstr (error->message, "available: named"));
  }
}

/* A choice is probed once, until a registration may change it. */
static void
test_default_backend_kept (void)
{
  G_GNUC_UNUSED g_autoptr(SavedEnv) env = set_env ("LLMSBX_BACKEND", NULL);
  g_autoptr(LlmsbxRegistry) registry = ranked_registry ();
  g_autofree char *first = default_name (registry);
  g_autofree char *kept = NULL;
  g_autofree char *changed = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_cmpstr (first, ==, "first");
  llmsbx_fake_backend_set_usable ("first", FALSE);
  kept = default_name (registry);
  g_assert_cmpstr (kept, ==, "first");

  g_assert_true (llmsbx_registry_register_backend (registry, "other", LLMSBX_TYPE_FAKE_BACKEND, &error));
  changed = default_name (registry);
  g_assert_cmpstr (changed, ==, "second");
  llmsbx_fake_backend_set_usable ("first", TRUE);
}

/* LLMSBX_BACKEND names any registered backend, rank NONE too, unprobed. */
static void
test_default_backend_environment (void)
{
  g_autoptr(LlmsbxRegistry) registry = ranked_registry ();
  g_autoptr(GError) error = NULL;
  g_autofree char *name = NULL;

  {
    G_GNUC_UNUSED g_autoptr(SavedEnv) env = set_env ("LLMSBX_BACKEND", "Named");

    llmsbx_fake_backend_set_usable ("named", FALSE);
    name = default_name (registry);
    g_assert_cmpstr (name, ==, "named");
    llmsbx_fake_backend_set_usable ("named", TRUE);
  }
  {
    G_GNUC_UNUSED g_autoptr(SavedEnv) env = set_env ("LLMSBX_BACKEND", "missing");

    g_clear_pointer (&name, g_free);
    name = llmsbx_registry_get_default_backend_name (registry, NULL, &error);
    g_assert_null (name);
    g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_BACKEND_NOT_SUPPORTED);
    g_assert_true (g_str_has_prefix (error->message, "LLMSBX_BACKEND: Backend 'missing' is not supported; available: "));
  }
}

/* LLMSBX_BACKEND=help lists what can be named, by rank, and chooses as if unset. */
static void
test_default_backend_help (void)
{
  if (g_test_subprocess ())
    {
      g_autoptr(LlmsbxRegistry) registry = ranked_registry ();
      g_autofree char *name = NULL;

      g_setenv ("LLMSBX_BACKEND", "help", TRUE);
      name = default_name (registry);
      g_assert_cmpstr (name, ==, "first");
      return;
    }

  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
  g_test_trap_assert_stderr ("*LLMSBX_BACKEND*"
                             "first (rank primary)*second (rank secondary)*"
                             "fallback (rank marginal)*named (rank none)*");
}

/* One table for every kind: a backend and a language may share a name. */
static void
test_one_table (void)
{
  g_autoptr(LlmsbxRegistry) registry = llmsbx_registry_new ();
  g_autoptr(LlmsbxLanguageConfig) language = new_language ("shared", "sh");
  g_autoptr(LlmsbxLanguageHandler) found = NULL;
  g_autoptr(LlmsbxBackend) backend = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_true (llmsbx_registry_register_backend (registry, "shared", TEST_TYPE_BACKEND, &error));
  g_assert_true (llmsbx_registry_register_language (registry, LLMSBX_LANGUAGE_HANDLER (language), &error));
  g_assert_no_error (error);
  ASSERT_STRV (llmsbx_registry_list_backends (registry), "shared");
  ASSERT_STRV (llmsbx_registry_list_languages (registry), "shared");
  backend = llmsbx_registry_create_backend (registry, "shared", &error);
  g_assert_no_error (error);
  g_assert_true (G_TYPE_CHECK_INSTANCE_TYPE (backend, TEST_TYPE_BACKEND));
  found = llmsbx_registry_lookup_language (registry, "shared", &error);
  g_assert_no_error (error);
  g_assert_true (found == LLMSBX_LANGUAGE_HANDLER (language));
}

/* The core renders Kubernetes presets before there is a plugin, but knows no
 * Kubernetes backend: naming one fails as for any unknown backend. */
static void
test_kubernetes_not_a_backend (void)
{
  g_autoptr(LlmsbxRegistry) registry = llmsbx_registry_new ();
  g_autoptr(LlmsbxBackend) backend = NULL;
  g_autoptr(GError) error = NULL;

  ASSERT_EMPTY (llmsbx_registry_list_backends (registry));
  backend = llmsbx_registry_create_backend (registry, "kubernetes", &error);
  g_assert_null (backend);
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_BACKEND_NOT_SUPPORTED);
  g_assert_cmpstr (error->message, ==, "Backend 'kubernetes' is not supported; available: none");
  g_assert_cmpuint (llmsbx_registry_get_backend_rank (registry, "kubernetes"), ==, LLMSBX_RANK_NONE);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/registry/new-is-empty", test_new_is_empty);
  g_test_add_func ("/registry/load/good", test_load_good_plugin);
  g_test_add_func ("/registry/load/twice", test_load_twice);
  g_test_add_func ("/registry/load/wrong-abi", test_wrong_abi);
  g_test_add_func ("/registry/load/small-descriptor", test_small_descriptor);
  g_test_add_func ("/registry/load/no-symbol", test_no_symbol);
  g_test_add_func ("/registry/load/init-fails", test_init_fails);
  g_test_add_func ("/registry/load/init-fails-silently", test_init_fails_silently);
  g_test_add_func ("/registry/load/not-a-shared-object", test_not_a_shared_object);
  g_test_add_func ("/registry/load/missing-file", test_missing_file);
  g_test_add_func ("/registry/load/directory", test_load_directory);
  g_test_add_func ("/registry/load/missing-directory", test_load_missing_directory);
  g_test_add_func ("/registry/load/concurrent", test_concurrent_loads);
  g_test_add_func ("/registry/backends/register", test_register_backend);
  g_test_add_func ("/registry/backends/replace", test_register_backend_replaces);
  g_test_add_func ("/registry/backends/not-supported", test_backend_not_supported);
  g_test_add_func ("/registry/languages/register", test_languages);
  g_test_add_func ("/registry/languages/replace", test_language_replaced);
  g_test_add_func ("/registry/languages/without-name", test_language_without_name);
  g_test_add_func ("/registry/search-path", test_search_path);
  g_test_add_func ("/registry/ensure-plugins", test_ensure_plugins);
  g_test_add_func ("/registry/default/plugin-path-wins", test_default_plugin_path_wins);
  g_test_add_func ("/registry/default/plugin-path-wins-swapped", test_default_plugin_path_wins_swapped);
  g_test_add_func ("/registry/default/application-wins", test_default_application_wins);
  g_test_add_func ("/registry/backends/ranks", test_ranks);
  g_test_add_func ("/registry/backends/default", test_default_backend);
  g_test_add_func ("/registry/backends/default-kept", test_default_backend_kept);
  g_test_add_func ("/registry/backends/default-environment", test_default_backend_environment);
  g_test_add_func ("/registry/backends/default-help", test_default_backend_help);
  g_test_add_func ("/registry/one-table", test_one_table);
  g_test_add_func ("/registry/backends/kubernetes-not-a-backend", test_kubernetes_not_a_backend);

  return g_test_run ();
}
