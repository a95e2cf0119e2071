/* backend-test.c: what every backend integration test shares. */
#include "backend-test.h"

#include <archive.h>
#include <archive_entry.h>
#include <pwd.h>
#include <string.h>
#include <unistd.h>

#include "bubblewrap-test.h"
#include "kube-test.h"
#include "llmsbx-fake-backend.h"

/* The images the language handlers name, which the fake backend then has. */
static const char * const fake_images[] = {
  "llmsbx/python:bookworm", "llmsbx/javascript:bookworm", "llmsbx/java:bookworm", "llmsbx/cpp:bookworm",
  "llmsbx/go:bookworm", "llmsbx/ruby:bookworm", "llmsbx/r:bookworm",
};

const char *
backend_test_name (void)
{
  const char *name = g_getenv ("LLMSBX_TEST_BACKEND");

  return name != NULL && *name != '\0' ? name : "docker";
}

gboolean
backend_test_is_fake (void)
{
  return g_str_equal (backend_test_name (), "fake");
}

void
backend_test_prepare (void)
{
  g_autoptr(GError) error = NULL;

  if (backend_test_is_kubernetes ())
    kube_test_prepare_shared ();
  if (!backend_test_is_fake ())
    return;
  llmsbx_fake_backend_register (llmsbx_registry_get_default (), "fake", LLMSBX_RANK_NONE, &error);
  g_assert_no_error (error);
  for (gsize i = 0; i < G_N_ELEMENTS (fake_images); i++)
    llmsbx_fake_backend_add_image (fake_images[i]);
}

gboolean
backend_test_is_kubernetes (void)
{
  return g_str_equal (backend_test_name (), "kubernetes");
}

gboolean
backend_test_is_bubblewrap (void)
{
  return g_str_equal (backend_test_name (), "bubblewrap");
}

const char *
backend_test_cli (void)
{
  g_assert_false (backend_test_is_fake ());
  g_assert_false (backend_test_is_bubblewrap ());
  return backend_test_name ();
}

GSubprocessLauncher *
backend_test_cli_launcher (GSubprocessFlags flags)
{
  GSubprocessLauncher *launcher = g_subprocess_launcher_new (flags);
  struct passwd *user = getpwuid (getuid ());

  if (user != NULL)
    g_subprocess_launcher_setenv (launcher, "HOME", user->pw_dir, TRUE);
  g_subprocess_launcher_unsetenv (launcher, "XDG_CONFIG_HOME");
  g_subprocess_launcher_unsetenv (launcher, "XDG_DATA_HOME");
  g_subprocess_launcher_unsetenv (launcher, "XDG_CACHE_HOME");
  g_subprocess_launcher_unsetenv (launcher, "XDG_RUNTIME_DIR");
  g_subprocess_launcher_unsetenv (launcher, "CONTAINER_HOST");
  return launcher;
}

LlmsbxCodeRunnerMode
backend_test_code_runner (void)
{
  const char *mode = g_getenv ("LLMSBX_TEST_CODE_RUNNER");

  if (g_strcmp0 (mode, "exec") == 0)
    return LLMSBX_CODE_RUNNER_MODE_EXEC;
  if (g_strcmp0 (mode, "resident") == 0)
    return LLMSBX_CODE_RUNNER_MODE_RESIDENT;
  g_assert_true (mode == NULL || *mode == '\0' || g_str_equal (mode, "auto"));
  return LLMSBX_CODE_RUNNER_MODE_AUTO;
}

gboolean
backend_test_resident (void)
{
  return backend_test_code_runner () != LLMSBX_CODE_RUNNER_MODE_EXEC && !backend_test_is_bubblewrap ();
}

LlmsbxSandboxSession *
backend_test_session_new (const char *lang,
                          const char *first_property,
                          ...)
{
  LlmsbxSandboxSession *session;
  va_list args;

  session = g_object_new (LLMSBX_TYPE_SANDBOX_SESSION, "lang", lang, "backend", backend_test_name (),
                          "code-runner", backend_test_code_runner (), NULL);
  if (first_property != NULL)
    {
      va_start (args, first_property);
      g_object_set_valist (G_OBJECT (session), first_property, args);
      va_end (args);
    }
  return session;
}

/* What `ps --filter` would answer, from the fake backend's own store. */
static char *
fake_ps (const char *filter)
{
  g_autoptr(LlmsbxBackend) backend = llmsbx_fake_backend_new ();
  g_autoptr(GPtrArray) found = NULL;
  g_autoptr(GString) ids = g_string_new (NULL);
  g_autoptr(GError) error = NULL;

  if (g_str_has_prefix (filter, "id="))
    return g_strdup (llmsbx_fake_backend_has_sandbox (filter + 3) ? filter + 3 : "");
  g_assert_true (g_str_has_prefix (filter, "label="));
  found = llmsbx_backend_list_sandboxes (backend, (const char *[]) { filter + 6, NULL }, NULL, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < found->len; i++)
    g_string_append_printf (ids, "%s%s", i ? "\n" : "",
                            ((LlmsbxSandboxInfo *) g_ptr_array_index (found, i))->id);
  return g_strdup (ids->str);
}

char *
backend_test_ps (const char *filter)
{
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *out = NULL;

  if (backend_test_is_fake ())
    return fake_ps (filter);
  if (backend_test_is_bubblewrap ())
    return bubblewrap_test_ps (filter);
  if (backend_test_is_kubernetes ())
    return kube_test_ps (filter);

  launcher = backend_test_cli_launcher (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_SILENCE);
  process = g_subprocess_launcher_spawn (launcher, &error,
                                         backend_test_cli (), "ps", "-aq", "--no-trunc", "--filter", filter, NULL);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (process, NULL, NULL, &out, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_get_successful (process));
  return g_strstrip (g_steal_pointer (&out));
}

void
backend_test_assert_container_gone (const char *id)
{
  g_autofree char *filter = NULL;
  g_autofree char *found = NULL;

  /* A NULL id would match nothing, and the check would check nothing. */
  g_assert_nonnull (id);
  filter = g_strdup_printf ("id=%s", id);
  found = backend_test_ps (filter);

  g_assert_cmpstr (found, ==, "");
  if (backend_test_is_bubblewrap ())
    bubblewrap_test_assert_gone (id);
}

char *
backend_test_container_running (const char *id)
{
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *out = NULL;

  if (backend_test_is_bubblewrap ())
    return bubblewrap_test_running (id);
  if (backend_test_is_kubernetes ())
    return kube_test_running (id);

  launcher = backend_test_cli_launcher (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_SILENCE);
  process = g_subprocess_launcher_spawn (launcher, &error, backend_test_cli (), "inspect", "--type", "container",
                                         "--format", "{{.State.Running}}", id, NULL);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (process, NULL, NULL, &out, NULL, &error);
  g_assert_no_error (error);
  return g_strstrip (g_steal_pointer (&out));
}

GSubprocess *
backend_test_kill_container (const char *id)
{
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GError) error = NULL;
  GSubprocess *killer;

  if (backend_test_is_bubblewrap ())
    {
      g_autofree char *pid = bubblewrap_test_init_pid (id);

      killer = g_subprocess_new (G_SUBPROCESS_FLAGS_NONE, &error, "kill", "-KILL", pid, NULL);
      g_assert_no_error (error);
      return killer;
    }
  if (backend_test_is_kubernetes ())
    return kube_test_kill (id);
  launcher = backend_test_cli_launcher (G_SUBPROCESS_FLAGS_STDOUT_SILENCE);
  killer = g_subprocess_launcher_spawn (launcher, &error, backend_test_cli (), "kill", id, NULL);
  g_assert_no_error (error);
  return killer;
}

guint
backend_test_exec_requests (void)
{
  return backend_test_is_bubblewrap () || backend_test_is_kubernetes () ? 1 : 3;
}

char *
backend_test_bytes_to_string (GBytes *bytes)
{
  gsize size = 0;
  const char *data = bytes != NULL ? g_bytes_get_data (bytes, &size) : NULL;

  return g_strndup (data != NULL ? data : "", size);
}

char *
backend_test_exec_argv (LlmsbxBackend      *backend,
                        const char         *id,
                        const char * const *argv,
                        int                *status)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(LlmsbxExecRequest) request = llmsbx_exec_request_new (argv);
  g_autoptr(LlmsbxOutputCollector) output = llmsbx_output_collector_new (0);
  g_autoptr(GBytes) out = NULL;
  g_autoptr(GBytes) err = NULL;
  g_autofree char *err_text = NULL;

  request->deadline = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;
  g_assert_true (llmsbx_backend_exec (backend, id, request, output, status, NULL, &error));
  g_assert_no_error (error);
  out = llmsbx_output_collector_steal_bytes (output, LLMSBX_OUTPUT_STREAM_STDOUT);
  err = llmsbx_output_collector_steal_bytes (output, LLMSBX_OUTPUT_STREAM_STDERR);
  err_text = backend_test_bytes_to_string (err);
  if (*status != 0)
    g_test_message ("%s exited %d: %s", argv[0], *status, err_text);
  return backend_test_bytes_to_string (out);
}

char *
backend_test_exec_stdout (LlmsbxBackend      *backend,
                          const char         *id,
                          const char * const *argv)
{
  int status = -1;
  char *out = backend_test_exec_argv (backend, id, argv, &status);

  g_assert_cmpint (status, ==, 0);
  return out;
}

GBytes *
backend_test_sample_tar (void)
{
  struct archive *writer = archive_write_new ();
  struct archive_entry *entry = archive_entry_new ();
  static const guint8 binary[] = { 0, 1, 2, 0, 255, 0, '\n' };
  size_t used = 0;
  gsize capacity = 64 * 1024;
  guint8 *buffer = g_malloc0 (capacity);
  struct { const char *name; int type; const void *data; gsize size; } entries[] = {
    { "hello.txt", AE_IFREG, "hello\n", 6 },
    { "empty", AE_IFREG, "", 0 },
    { "sub", AE_IFDIR, NULL, 0 },
    { "sub/bin", AE_IFREG, binary, sizeof binary },
  };

  archive_write_set_format_pax_restricted (writer);
  g_assert_cmpint (archive_write_open_memory (writer, buffer, capacity, &used), ==, ARCHIVE_OK);
  for (gsize i = 0; i < G_N_ELEMENTS (entries); i++)
    {
      archive_entry_clear (entry);
      archive_entry_set_pathname (entry, entries[i].name);
      archive_entry_set_filetype (entry, entries[i].type);
      archive_entry_set_perm (entry, entries[i].type == AE_IFDIR ? 0755 : 0644);
      archive_entry_set_size (entry, entries[i].size);
      g_assert_cmpint (archive_write_header (writer, entry), ==, ARCHIVE_OK);
      if (entries[i].size > 0)
        g_assert_cmpint (archive_write_data (writer, entries[i].data, entries[i].size), ==, entries[i].size);
    }
  g_assert_cmpint (archive_write_close (writer), ==, ARCHIVE_OK);
  archive_entry_free (entry);
  archive_write_free (writer);
  return g_bytes_new_take (buffer, used);
}

GHashTable *
backend_test_read_tar (GBytes   *tar,
                       gboolean  strip_directory_slash)
{
  GHashTable *files = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) g_bytes_unref);
  struct archive *reader = archive_read_new ();
  struct archive_entry *entry;
  gsize size;
  gconstpointer data = g_bytes_get_data (tar, &size);

  archive_read_support_format_tar (reader);
  g_assert_cmpint (archive_read_open_memory (reader, data, size), ==, ARCHIVE_OK);
  while (archive_read_next_header (reader, &entry) == ARCHIVE_OK)
    {
      g_autoptr(GByteArray) contents = g_byte_array_new ();
      g_autofree char *name = g_strdup (archive_entry_pathname (entry));
      char chunk[4096];
      la_ssize_t n;

      while ((n = archive_read_data (reader, chunk, sizeof chunk)) > 0)
        g_byte_array_append (contents, (const guint8 *) chunk, n);
      if (strip_directory_slash && g_str_has_suffix (name, "/"))
        name[strlen (name) - 1] = '\0';
      g_hash_table_insert (files, g_steal_pointer (&name), g_byte_array_free_to_bytes (g_steal_pointer (&contents)));
    }
  archive_read_free (reader);
  return files;
}
