/* llmsbx-run.c: `llmsbx run`, one program in a fresh sandbox.
 *
 * The session is opened, run and closed in a worker thread so that the main
 * loop stays free for SIGINT, SIGTERM and SIGHUP: a signal cancels what is in
 * progress and the sandbox is still removed before the program exits. With
 * --stream the session's live output is written from that thread as it
 * arrives: a slow reader of our output slows the reading from the engine,
 * so nothing piles up in memory. */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <glib-unix.h>
#include <gio/gunixinputstream.h>
#include <llmsbx.h>

#include "llmsbx-tool.h"

/* Code larger than this is refused rather than read into memory: stdin may never end. */
#define MAX_CODE_SIZE (32 * 1024 * 1024)
/* What the session keeps of each stream with --stream: enough for the messages
 * of failures that quote output (a library that did not install). */
#define STREAM_OUTPUT_LIMIT (64 * 1024)

typedef struct {
  GMainLoop             *loop;
  GCancellable          *cancellable;
  LlmsbxSandboxSession  *session;
  const char            *code;
  const char * const    *libraries;
  double                 timeout;
  LlmsbxExecutionResult *result;
  GError                *error;        /* why opening or running failed */
  GError                *close_error;
  GError                *write_error;  /* streaming the output failed */
  int                    signal_number; /* the first signal received, or 0 */
} Run;

/* Code ----------------------------------------------------------------- */

/* Code reaches the sandbox as a C string of UTF-8 text; say precisely why bytes are not that. */
static char *
code_from_bytes (const char *data,
                 gsize       length,
                 const char *origin,
                 GError    **error)
{
  const char *nul = memchr (data, '\0', length);
  const char *end = NULL;

  if (nul != NULL)
    {
      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
                   "%s contains a NUL byte at offset %" G_GSIZE_FORMAT "; code must be UTF-8 text",
                   origin, (gsize) (nul - data));
      return NULL;
    }
  if (!g_utf8_validate_len (data, length, &end))
    {
      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
                   "%s is not valid UTF-8 (first bad byte at offset %" G_GSIZE_FORMAT "); code must be UTF-8 text",
                   origin, (gsize) (end - data));
      return NULL;
    }
  return g_strndup (data, length);
}

static char *
code_from_stream (GInputStream *stream,
                  const char   *origin,
                  GError      **error)
{
  g_autoptr(GByteArray) buffer = g_byte_array_new ();
  guint8 chunk[64 * 1024];

  for (;;)
    {
      gssize n = g_input_stream_read (stream, chunk, sizeof chunk, NULL, error);

      if (n < 0)
        {
          g_prefix_error (error, "Could not read %s: ", origin);
          return NULL;
        }
      if (n == 0)
        break;
      if (buffer->len + (gsize) n > MAX_CODE_SIZE)
        {
          g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
                       "%s is larger than %d MiB, the most code llmsbx reads",
                       origin, MAX_CODE_SIZE / (1024 * 1024));
          return NULL;
        }
      g_byte_array_append (buffer, chunk, n);
    }

  return code_from_bytes ((const char *) buffer->data, buffer->len, origin, error);
}

/* The code of -c CODE, or of FILE ("-": standard input), checked to be UTF-8 text. */
char *
llmsbx_tool_read_code (const char *inline_code,
                       const char *path,
                       GError    **error)
{
  g_autoptr(GInputStream) stream = NULL;
  g_autoptr(GFile) file = NULL;
  g_autofree char *origin = NULL;

  if (inline_code != NULL)
    return code_from_bytes (inline_code, strlen (inline_code), "The code given with -c", error);

  if (g_str_equal (path, "-"))
    {
      stream = g_unix_input_stream_new (STDIN_FILENO, FALSE);
      return code_from_stream (stream, "Standard input", error);
    }

  file = g_file_new_for_commandline_arg (path);
  origin = g_strdup_printf ("'%s'", path);
  stream = G_INPUT_STREAM (g_file_read (file, NULL, error));
  if (stream == NULL)
    return NULL;
  return code_from_stream (stream, origin, error);
}

/* Session -------------------------------------------------------------- */

static void
open_run_close (GTask        *task,
                gpointer      source_object,
                gpointer      task_data,
                GCancellable *task_cancellable)
{
  Run *run = task_data;

  if (llmsbx_sandbox_session_open (run->session, run->cancellable, &run->error) &&
      !g_cancellable_set_error_if_cancelled (run->cancellable, &run->error))
    run->result = llmsbx_sandbox_session_run (run->session, run->code, run->libraries, run->timeout,
                                              run->cancellable, &run->error);

  /* Never cancelled: the sandbox must go away after an interrupt too. */
  llmsbx_sandbox_session_close (run->session, NULL, &run->close_error);
  g_task_return_boolean (task, TRUE);
}

static void
on_done (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  Run *run = user_data;

  g_main_loop_quit (run->loop);
}

static gboolean
interrupt (Run *run,
           int  signal_number)
{
  if (run->signal_number == 0)
    {
      run->signal_number = signal_number;
      g_cancellable_cancel (run->cancellable);
      return G_SOURCE_CONTINUE;
    }

  /* A second signal means the user will not wait for the removal. */
  g_printerr ("llmsbx: interrupted again: exiting before the sandbox is removed; "
              "leftover containers carry the label io.llmsbx.managed-by=libllmsbx\n");
  _exit (128 + signal_number);
}

static gboolean on_sigint (gpointer run) { return interrupt (run, SIGINT); }
static gboolean on_sigterm (gpointer run) { return interrupt (run, SIGTERM); }
static gboolean on_sighup (gpointer run) { return interrupt (run, SIGHUP); }

/* Output --------------------------------------------------------------- */

static gboolean
write_all (int         fd,
           const void *data,
           gsize       length,
           GError    **error)
{
  const char *p = data;

  while (length > 0)
    {
      ssize_t n = write (fd, p, length);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          int saved_errno = errno;

          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                       "Could not write the %s: %s", fd == STDOUT_FILENO ? "output" : "error output",
                       g_strerror (saved_errno));
          return FALSE;
        }
      p += n;
      length -= n;
    }
  return TRUE;
}

static gboolean
write_bytes (int      fd,
             GBytes  *bytes,
             GError **error)
{
  gsize length = 0;
  const void *data = g_bytes_get_data (bytes, &length);

  return write_all (fd, data, length, error);
}

/* --stream: each chunk as it arrives, in the thread that reads it. */
static void
on_output (LlmsbxSandboxSession *session,
           LlmsbxOutputStream    stream,
           GBytes               *chunk,
           gpointer              user_data)
{
  Run *run = user_data;

  if (run->write_error != NULL)
    return;
  /* Nobody reads any more (a closed pipe): stop the program. */
  if (!write_bytes (stream == LLMSBX_OUTPUT_STREAM_STDERR ? STDERR_FILENO : STDOUT_FILENO,
                    chunk, &run->write_error))
    g_cancellable_cancel (run->cancellable);
}

/* Output past the session's limit was dropped: say which, and what to do. */
static void
report_truncation (LlmsbxExecutionResult *result,
                   guint64                limit)
{
  const struct { const char *name; GBytes *bytes; } streams[] = {
    { "standard output", llmsbx_execution_result_get_stdout_bytes (result) },
    { "standard error", llmsbx_execution_result_get_stderr_bytes (result) },
  };

  if (!llmsbx_execution_result_get_truncated (result) || limit == 0)
    return;

  for (gsize i = 0; i < G_N_ELEMENTS (streams); i++)
    {
      g_autofree char *size = NULL;
      g_autofree char *bytes = NULL;

      if (g_bytes_get_size (streams[i].bytes) < limit)
        continue;
      size = g_format_size_full (limit, G_FORMAT_SIZE_IEC_UNITS);
      bytes = g_strdup_printf ("%" G_GUINT64_FORMAT " bytes", limit);
      g_printerr ("llmsbx: the program's %s was cut at the output limit, %s%s%s%s: the rest was dropped. "
                  "Raise the limit with --output-limit BYTES (0 for none), or print everything as it "
                  "comes with --stream\n",
                  streams[i].name, size, g_str_equal (size, bytes) ? "" : " (",
                  g_str_equal (size, bytes) ? "" : bytes, g_str_equal (size, bytes) ? "" : ")");
    }
}

/* "16777216", "64k", "16m", "1g" (powers of 1024); FALSE for anything else. */
static gboolean
parse_size (const char *text,
            guint64    *bytes)
{
  g_autofree char *digits = g_strdup (text);
  gsize len = strlen (digits);
  guint64 unit = 1, value;

  if (len > 0 && strchr ("kKmMgG", digits[len - 1]) != NULL)
    {
      char suffix = g_ascii_tolower (digits[len - 1]);

      unit = suffix == 'k' ? 1024 : suffix == 'm' ? 1024 * 1024 : 1024 * 1024 * 1024;
      digits[len - 1] = '\0';
    }
  if (!g_ascii_string_to_unsigned (digits, 10, 0, G_MAXUINT64 / unit, &value, NULL))
    return FALSE;
  *bytes = value * unit;
  return TRUE;
}

/* What the program's exit status becomes: a status a process cannot exit
 * with (outside 0-255) becomes 255, never something that reads as success. */
static int
program_exit_status (int exit_code)
{
  return exit_code >= 0 && exit_code <= 255 ? exit_code : 255;
}

static gboolean
write_result (LlmsbxExecutionResult *result,
              gboolean               json,
              GError               **error)
{
  if (json)
    {
      g_autofree char *text = llmsbx_execution_result_to_json (result);

      return write_all (STDOUT_FILENO, text, strlen (text), error) &&
             write_all (STDOUT_FILENO, "\n", 1, error);
    }

  return write_bytes (STDOUT_FILENO, llmsbx_execution_result_get_stdout_bytes (result), error) &&
         write_bytes (STDERR_FILENO, llmsbx_execution_result_get_stderr_bytes (result), error);
}

/* Command -------------------------------------------------------------- */

/* --plots DIR: the run's plots as DIR/plot-1.png, ..., in the order the
 * code made them, each path on standard error. */
static gboolean
write_plots (LlmsbxExecutionResult  *result,
             const char             *dir,
             GError                **error)
{
  GPtrArray *plots = llmsbx_execution_result_get_plots (result);

  if (g_mkdir_with_parents (dir, 0755) != 0)
    {
      int errsv = errno;
      g_autofree char *shown = g_filename_display_name (dir);

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errsv),
                   "Cannot create the plot directory %s: %s", shown, g_strerror (errsv));
      return FALSE;
    }

  for (guint i = 0; i < plots->len; i++)
    {
      LlmsbxPlotOutput *plot = g_ptr_array_index (plots, i);
      GBytes *content = llmsbx_plot_output_get_content (plot);
      g_autofree char *name = g_strdup_printf ("plot-%u.%s", i + 1,
                                               llmsbx_plot_format_to_string (llmsbx_plot_output_get_format (plot)));
      g_autofree char *path = g_build_filename (dir, name, NULL);
      g_autofree char *shown = g_filename_display_name (path);

      if (!g_file_set_contents (path, g_bytes_get_data (content, NULL), g_bytes_get_size (content), error))
        return FALSE;
      g_printerr ("%s\n", shown);
    }
  if (llmsbx_execution_result_get_plots_dropped (result))
    g_printerr ("llmsbx: the run made more plots than came back (at most %u, %" G_GUINT64_FORMAT " bytes)\n",
                LLMSBX_DEFAULT_MAX_PLOTS, (guint64) LLMSBX_DEFAULT_MAX_PLOT_BYTES);
  return TRUE;
}

static LlmsbxSandboxSession *
new_session (const char *lang,
             const char *backend,
             const char *image,
             const char *workdir,
             gboolean    skip_environment_setup,
             gboolean    verbose,
             gboolean    plots)
{
  const char *names[6];
  GValue values[6] = { G_VALUE_INIT, G_VALUE_INIT, G_VALUE_INIT,
                       G_VALUE_INIT, G_VALUE_INIT, G_VALUE_INIT };
  const struct { const char *name; const char *value; } strings[] = {
    { "lang", lang }, { "backend", backend }, { "image", image }, { "workdir", workdir },
  };
  LlmsbxSandboxSession *session;
  guint n = 0;

  /* Only what was given: everything else keeps the library's default. */
  for (gsize i = 0; i < G_N_ELEMENTS (strings); i++)
    if (strings[i].value != NULL)
      {
        names[n] = strings[i].name;
        g_value_init (&values[n], G_TYPE_STRING);
        g_value_set_string (&values[n], strings[i].value);
        n++;
      }
  names[n] = "skip-environment-setup";
  g_value_init (&values[n], G_TYPE_BOOLEAN);
  g_value_set_boolean (&values[n], skip_environment_setup);
  n++;
  names[n] = "verbose";
  g_value_init (&values[n], G_TYPE_BOOLEAN);
  g_value_set_boolean (&values[n], verbose);
  n++;

  /* With --plots, the guide's ArtifactSandboxSession. */
  session = (LlmsbxSandboxSession *) g_object_new_with_properties (plots ? LLMSBX_TYPE_ARTIFACT_SANDBOX_SESSION
                                                                         : LLMSBX_TYPE_SANDBOX_SESSION,
                                                                   n, names, values);
  for (guint i = 0; i < n; i++)
    g_value_unset (&values[i]);
  return session;
}

/* A security preset's policy, and its container settings under those given
 * with --runtime-configs, which win key by key. */
static gboolean
apply_preset (LlmsbxSandboxSession  *session,
              const char            *name,
              GError               **error)
{
  g_autoptr(LlmsbxSecurityPreset) preset =
    llmsbx_get_security_preset (name, llmsbx_sandbox_session_get_lang (session),
                                llmsbx_sandbox_session_get_backend (session), error);

  return preset != NULL && llmsbx_sandbox_session_apply_security_preset (session, preset, error);
}

int
llmsbx_tool_run (int    argc,
                 char **argv)
{
  g_autofree char *lang = NULL;
  g_autofree char *backend = NULL;
  g_autofree char *image = NULL;
  g_autofree char *workdir = NULL;
  g_autofree char *inline_code = NULL;
  g_autofree char *runtime_configs = NULL;
  g_auto(GStrv) backend_settings = NULL;
  g_autofree char *kubeconfig = NULL;
  g_autofree char *kube_context = NULL;
  g_autofree char *kube_namespace = NULL;
  g_autofree char *pod_manifest = NULL;
  g_autofree char *preset = NULL;
  g_autofree char *output_limit_text = NULL;
  g_autofree char *plots_dir = NULL;
  g_auto(GStrv) libraries = NULL;
  double timeout = 0;
  gboolean json = FALSE;
  gboolean stream = FALSE;
  gboolean skip_environment_setup = FALSE;
  gboolean verbose = FALSE;
  const GOptionEntry entries[] = {
    { "lang", 'l', 0, G_OPTION_ARG_STRING, &lang, "Language of the code (default: python)", "LANG" },
    { "backend", 'b', 0, G_OPTION_ARG_STRING, &backend, "Sandbox backend (default: the first that answers, see `llmsbx backends`)", "BACKEND" },
    { "image", 'i', 0, G_OPTION_ARG_STRING, &image, "Image to run in (default: the language's image)", "IMAGE" },
    { "timeout", 't', 0, G_OPTION_ARG_DOUBLE, &timeout, "Seconds the code may run (default: 30)", "SECONDS" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print the result as one JSON object (with --plots, the plots too)", NULL },
    { "plots", 0, 0, G_OPTION_ARG_FILENAME, &plots_dir,
      "Capture the plots the code makes (matplotlib, plotly, R graphics) and write them as "
      "DIR/plot-1.png, ...; their paths go to standard error", "DIR" },
    { "stream", 0, 0, G_OPTION_ARG_NONE, &stream,
      "Print output as it arrives, all of it, instead of at the end", NULL },
    { "output-limit", 0, 0, G_OPTION_ARG_STRING, &output_limit_text,
      "Bytes of each output stream kept (default 16m; 0: no limit); past it output is dropped", "BYTES" },
    { "workdir", 'w', 0, G_OPTION_ARG_STRING, &workdir, "Working directory in the sandbox (default: /sandbox)", "DIR" },
    { "skip-environment-setup", 0, 0, G_OPTION_ARG_NONE, &skip_environment_setup,
      "Do not prepare the language's environment (no libraries then)", NULL },
    { "library", 'L', 0, G_OPTION_ARG_STRING_ARRAY, &libraries, "Install a library first (repeatable)", "LIB" },
    { "backend-setting", 0, 0, G_OPTION_ARG_STRING_ARRAY, &backend_settings,
      "Set a setting of the backend, such as url (repeatable)", "KEY=VALUE" },
    { "kubeconfig", 0, 0, G_OPTION_ARG_FILENAME, &kubeconfig,
      "Kubernetes: the kubeconfig file (default: $KUBECONFIG, ~/.kube/config)", "FILE" },
    { "context", 0, 0, G_OPTION_ARG_STRING, &kube_context,
      "Kubernetes: the kubeconfig context (default: its current one)", "CONTEXT" },
    { "namespace", 0, 0, G_OPTION_ARG_STRING, &kube_namespace,
      "Kubernetes: the namespace of the sandbox's pod", "NAMESPACE" },
    { "pod-manifest", 0, 0, G_OPTION_ARG_STRING, &pod_manifest,
      "Kubernetes: the sandbox's Pod as a JSON object", "JSON" },
    { "runtime-configs", 'r', 0, G_OPTION_ARG_STRING, &runtime_configs,
      "Container settings as a JSON object, e.g. '{\"mem_limit\": \"256m\"}'", "JSON" },
    { "preset", 'p', 0, G_OPTION_ARG_STRING, &preset,
      "Security preset (development, production, strict, educational): its policy and "
      "container settings; --runtime-configs keys win", "PRESET" },
    /* Bytes as given, whatever the locale: UTF-8 is checked by llmsbx_tool_read_code(). */
    { "code", 'c', 0, G_OPTION_ARG_FILENAME, &inline_code, "Run CODE instead of a file", "CODE" },
    { "verbose", 'v', 0, G_OPTION_ARG_NONE, &verbose, "Log what the session does to stderr", NULL },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr(GOptionContext) context = g_option_context_new ("(FILE | -c CODE | -)");
  g_autoptr(GMainLoop) loop = NULL;
  g_autoptr(GCancellable) cancellable = NULL;
  g_autoptr(GTask) task = NULL;
  g_autoptr(LlmsbxSandboxSession) session = NULL;
  g_autoptr(LlmsbxExecutionResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GError) close_error = NULL;
  g_autoptr(GError) write_error = NULL;
  g_autofree char *code = NULL;
  guint64 output_limit = LLMSBX_DEFAULT_OUTPUT_LIMIT;
  guint signal_sources[3];
  Run run = { 0 };
  int status;

  g_option_context_set_summary (context,
    "Runs code in a new sandbox, removes the sandbox, and exits with the code's exit\n"
    "status. The code comes from FILE, from -c CODE, or from standard input with -.");
  g_option_context_set_description (context,
    "Exit status: the program's own (0-255; any other value becomes 255); 124 when\n"
    "the timeout ran out; 125 when llmsbx itself failed; 2 for a usage error;\n"
    "128+N when signal N interrupted it (the sandbox is removed first).");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!llmsbx_tool_parse_options (context, &argc, &argv))
    return LLMSBX_TOOL_EXIT_USAGE;

  if (inline_code != NULL && argc > 1)
    return llmsbx_tool_usage_error (argv[0], "give either -c CODE or a FILE, not both");
  if (inline_code == NULL && argc < 2)
    return llmsbx_tool_usage_error (argv[0], "no code: give a FILE, -c CODE, or - to read standard input");
  if (argc > 2)
    return llmsbx_tool_usage_error (argv[0], "unexpected argument '%s'", argv[2]);
  /* NaN fails every comparison: ask for what is valid, not what is not. */
  if (!(timeout >= 0 && timeout <= 1e9))
    return llmsbx_tool_usage_error (argv[0], "--timeout must be a number of seconds from 0 to 1e9");
  if (json && stream)
    return llmsbx_tool_usage_error (argv[0], "give either --json or --stream, not both");
  if (stream)
    output_limit = STREAM_OUTPUT_LIMIT;
  if (output_limit_text != NULL && !parse_size (output_limit_text, &output_limit))
    return llmsbx_tool_usage_error (argv[0], "--output-limit takes a number of bytes, such as 1048576 or 64m, "
                                    "not '%s'", output_limit_text);

  code = llmsbx_tool_read_code (inline_code, argv[1], &error);
  if (code == NULL)
    return llmsbx_tool_fail (error);

  loop = g_main_loop_new (NULL, FALSE);
  cancellable = g_cancellable_new ();
  session = new_session (lang, backend, image, workdir, skip_environment_setup, verbose, plots_dir != NULL);
  if (runtime_configs != NULL &&
      !llmsbx_sandbox_session_set_runtime_configs_json (session, runtime_configs, &error))
    return llmsbx_tool_fail (error);
  if (preset != NULL && !apply_preset (session, preset, &error))
    return llmsbx_tool_fail (error);
  if (pod_manifest != NULL && !llmsbx_sandbox_session_set_pod_manifest_json (session, pod_manifest, &error))
    return llmsbx_tool_fail (error);
  if (kube_namespace != NULL)
    g_object_set (session, "kube-namespace", kube_namespace, NULL);
  if (backend_settings != NULL || kubeconfig != NULL || kube_context != NULL)
    {
      g_autoptr(GVariantBuilder) builder = g_variant_builder_new (G_VARIANT_TYPE_VARDICT);

      /* The Kubernetes backend's settings by their own options. */
      if (kubeconfig != NULL)
        g_variant_builder_add (builder, "{sv}", "kubeconfig", g_variant_new_string (kubeconfig));
      if (kube_context != NULL)
        g_variant_builder_add (builder, "{sv}", "context", g_variant_new_string (kube_context));

      /* Values stay text: the backend reads each in its setting's type. */
      for (char **setting = backend_settings; setting != NULL && *setting != NULL; setting++)
        {
          const char *eq = strchr (*setting, '=');
          g_autofree char *key = NULL;

          if (eq == NULL || eq == *setting)
            return llmsbx_tool_usage_error (argv[0], "--backend-setting takes KEY=VALUE, not '%s'", *setting);
          key = g_strndup (*setting, eq - *setting);
          g_variant_builder_add (builder, "{sv}", key, g_variant_new_string (eq + 1));
        }
      g_object_set (session, "backend-settings", g_variant_builder_end (builder), NULL);
    }
  g_object_set (session, "output-limit", output_limit, NULL);

  run.loop = loop;
  run.cancellable = cancellable;
  run.session = session;
  run.code = code;
  run.libraries = (const char * const *) libraries;
  run.timeout = timeout;

  signal_sources[0] = g_unix_signal_add (SIGINT, on_sigint, &run);
  signal_sources[1] = g_unix_signal_add (SIGTERM, on_sigterm, &run);
  signal_sources[2] = g_unix_signal_add (SIGHUP, on_sighup, &run);
  /* A reader that went away is a write error, reported; the sandbox is removed. */
  signal (SIGPIPE, SIG_IGN);
  if (stream)
    g_signal_connect (session, "output", G_CALLBACK (on_output), &run);

  task = g_task_new (NULL, NULL, on_done, &run);
  g_task_set_task_data (task, &run, NULL);
  g_task_run_in_thread (task, open_run_close);
  g_main_loop_run (loop);

  for (gsize i = 0; i < G_N_ELEMENTS (signal_sources); i++)
    g_source_remove (signal_sources[i]);

  result = g_steal_pointer (&run.result);
  error = g_steal_pointer (&run.error);
  close_error = g_steal_pointer (&run.close_error);
  write_error = g_steal_pointer (&run.write_error);

  if (run.signal_number != 0)
    status = 128 + run.signal_number;
  else if (write_error != NULL)
    status = llmsbx_tool_fail (write_error);
  else if (error != NULL && g_error_matches (error, LLMSBX_ERROR, LLMSBX_ERROR_TIMEOUT))
    {
      g_printerr ("llmsbx: %s\n", error->message);
      status = LLMSBX_TOOL_EXIT_TIMEOUT;
    }
  else if (error != NULL)
    status = llmsbx_tool_fail (error);
  else
    {
      status = program_exit_status (llmsbx_execution_result_get_exit_code (result));
      if (!stream && !write_result (result, json, &write_error))
        status = llmsbx_tool_fail (write_error);
      else if (!stream)
        report_truncation (result, output_limit);
      if (plots_dir != NULL && write_error == NULL && !write_plots (result, plots_dir, &write_error))
        status = llmsbx_tool_fail (write_error);
    }

  /* A sandbox that could not be removed is our failure, whatever the program did. */
  if (close_error != NULL)
    status = llmsbx_tool_fail (close_error);

  return status;
}
