/* llmsbx-code-writer.c: getting a run's code into the sandbox with the exec
 * that runs it, and removing it when the run is over.
 *
 * The first command of a run is wrapped in a small shell script that writes
 * the code file and then runs the command: one exec instead of an archive
 * upload plus an exec, which matters because Docker's archive upload costs as
 * much as a whole exec. It also works on read-only roots and in tmpfs
 * workdirs, where Docker cannot unpack archives. Code up to
 * LLMSBX_CODE_CHUNK_MAX bytes travels in the exec's environment; larger code
 * on its standard input, in the same single request, at the speed of the
 * connection.
 *
 * The script stays to wait for the command (where `exec` would have replaced
 * it) so that it can remove the code file afterwards, keeping the command's
 * exit status, 128 + N for a signal N included: no scratch file of the
 * library outlives its run, so a commit never carries one and another user
 * of the image never meets it. Commands after the first are wrapped the same
 * way without writing, and the file goes with the last one, or with the
 * first that fails. */
#include "config.h"

#include "llmsbx-code-writer-private.h"
#include "llmsbx-error.h"
#include "llmsbx-guarded-exec-private.h"

/* Each run has its own file, so a timed-out run's process can never read the
 * next run's code; the writer removes what timed-out runs left behind. */
#define CODE_DIR ".llmsbx"
#define CODE_PREFIX "code-"
#define CODE_VARIABLE "LLMSBX_CODE"
/* A run that captures artifacts has a directory of its own beside its code
 * file, made before the code runs and holding PLOTS_DIR, and removed by the
 * next run that has one (the session fetches it after the run). */
#define RUN_PREFIX "run-"
#define PLOTS_DIR "plots"
#define FILES_DIR "files"

/* sh -c CODE_WRITER llmsbx-code FILE SOURCE KEEP RUN COMMAND...
 *
 * SOURCE `env`: writes $LLMSBX_CODE to FILE; a number N: the N bytes of
 * standard input, which the command then no longer sees (it reads
 * /dev/null, as without standard input); `none`: writes nothing. A new file
 * first removes earlier runs' files and run directories, then, with a RUN
 * other than `-`, makes RUN/plots and RUN/files. The code is only ever expanded inside
 * double quotes, so the shell never parses it, and the variable is gone
 * before COMMAND starts. Then runs COMMAND and removes FILE, unless KEEP is
 * `keep` and COMMAND succeeded, exiting with COMMAND's status; the shell's
 * own messages after writing are dropped, COMMAND's stderr is kept. Exit
 * status 125 when FILE cannot be written
 * completely. Only builtins run besides COMMAND and rm, and head and wc for
 * code on standard input. */
static const char code_writer[] =
  "f=$1; s=$2; k=$3; r=$4; shift 4\n"
  "if [ \"$s\" != none ]; then\n"
  "  d=${f%/*}\n"
  "  [ -d \"$d\" ] || mkdir -p -- \"$d\" || exit 125\n"
  "  for old in \"$d\"/" CODE_PREFIX "*; do [ -e \"$old\" ] && rm -f -- \"$d\"/" CODE_PREFIX "*; break; done\n"
  "  for old in \"$d\"/" RUN_PREFIX "*; do [ -e \"$old\" ] && rm -rf -- \"$d\"/" RUN_PREFIX "*; break; done\n"
  "  [ \"$r\" = - ] || mkdir -p -- \"$r/" PLOTS_DIR "\" \"$r/" FILES_DIR "\" || exit 125\n"
  "  if [ \"$s\" = env ]; then\n"
  "    printf '%s' \"$" CODE_VARIABLE "\" > \"$f\" || exit 125\n"
  "  else\n"
  "    head -c \"$s\" > \"$f\" && n=$(wc -c < \"$f\") && [ $n -eq \"$s\" ] || { rm -f -- \"$f\"; exit 125; }\n"
  "    exec < /dev/null\n"
  "  fi\n"
  "  unset " CODE_VARIABLE " d old n r\n"
  "fi\n"
  /* The shell reports a command killed by a signal ("Killed") on its
   * stderr, so that goes away, while the command gets the real one back in
   * its own process: a redirection on the command itself would be the
   * shell's too while it waits. */
  "exec 3>&2 2>/dev/null\n"
  "(exec 2>&3 3>&-; exec \"$@\"); s=$?\n"
  "[ \"$k\" = keep ] && [ $s -eq 0 ] || rm -f -- \"$f\"\n"
  "exit $s\n";

/* A fresh path under @workdir for one run's code. */
char *
llmsbx_code_writer_new_path (const char *workdir,
                             const char *extension)
{
  g_autofree char *uuid = g_uuid_string_random ();
  g_autofree char *name = NULL;

  uuid[8] = '\0';
  name = g_strdup_printf (CODE_DIR "/" CODE_PREFIX "%s.%s", uuid, extension);
  return g_build_path ("/", workdir, name, NULL);
}

/* A fresh directory beside @file, the code file of a run, for that run's
 * artifacts. */
char *
llmsbx_code_writer_new_run_dir (const char *file)
{
  g_autofree char *uuid = g_uuid_string_random ();
  g_autofree char *dir = g_path_get_dirname (file);
  g_autofree char *name = NULL;

  uuid[8] = '\0';
  name = g_strconcat (RUN_PREFIX, uuid, NULL);
  return g_build_path ("/", dir, name, NULL);
}

/* Where the language's capture saves a run's plots in @run_dir. */
char *
llmsbx_code_writer_plots_dir (const char *run_dir)
{
  return g_build_path ("/", run_dir, PLOTS_DIR, NULL);
}

/* sh -c RUN_DIR_MAKER llmsbx-run-dir RUN
 *
 * What the code writer does for a run's directory, for code that reaches
 * the sandbox another way (the resident runner): removes the run
 * directories of earlier runs beside RUN, then makes RUN/plots and
 * RUN/files; exit status 125 when they cannot be made. */
static const char run_dir_maker[] =
  "r=$1; d=${r%/*}\n"
  "for old in \"$d\"/" RUN_PREFIX "*; do [ -e \"$old\" ] && rm -rf -- \"$d\"/" RUN_PREFIX "*; break; done\n"
  "mkdir -p -- \"$r/" PLOTS_DIR "\" \"$r/" FILES_DIR "\" || exit 125\n";

/* The argv that makes @run_dir (see llmsbx_code_writer_new_run_dir()) and
 * removes earlier runs' ones, as llmsbx_code_writer_request() does with the
 * code. */
char **
llmsbx_code_writer_run_dir_argv (const char *run_dir)
{
  const char *argv[] = { "sh", "-c", run_dir_maker, "llmsbx-run-dir", run_dir, NULL };

  return g_strdupv ((char **) argv);
}

/* A request that runs @argv with @env, first writing @code to @file unless
 * @code is %NULL, and then removes @file unless @more_follow and @argv
 * succeeded. With @code and @run_dir, it first makes @run_dir (see
 * llmsbx_code_writer_new_run_dir()) and removes earlier runs' ones. Its
 * workdir and deadline are the caller's to set. */
LlmsbxExecRequest *
llmsbx_code_writer_request (const char          *file,
                            const char          *code,
                            const char          *run_dir,
                            gboolean             more_follow,
                            const char * const  *argv,
                            const char * const  *env)
{
  g_autoptr(GStrvBuilder) argv_builder = g_strv_builder_new ();
  g_autoptr(GStrvBuilder) env_builder = g_strv_builder_new ();
  g_autofree char *source = NULL;
  gsize length = code ? strlen (code) : 0;
  g_auto(GStrv) wrapped = NULL;
  LlmsbxExecRequest *request;

  if (env != NULL)
    g_strv_builder_addv (env_builder, (const char **) env);

  if (code == NULL)
    source = g_strdup ("none");
  else if (length <= LLMSBX_CODE_CHUNK_MAX)
    {
      g_autofree char *entry = g_strconcat (CODE_VARIABLE "=", code, NULL);

      source = g_strdup ("env");
      g_strv_builder_add (env_builder, entry);
    }
  else
    source = g_strdup_printf ("%" G_GSIZE_FORMAT, length);

  g_strv_builder_add_many (argv_builder, "sh", "-c", code_writer, "llmsbx-code", file, source,
                           more_follow ? "keep" : "last",
                           code != NULL && run_dir != NULL ? run_dir : "-", NULL);
  g_strv_builder_addv (argv_builder, (const char **) argv);
  wrapped = g_strv_builder_end (argv_builder);

  request = llmsbx_exec_request_new ((const char * const *) wrapped);
  request->env = g_strv_builder_end (env_builder);
  if (code != NULL && length > LLMSBX_CODE_CHUNK_MAX)
    request->stdin_data = g_bytes_new (code, length);
  return request;
}

/* Removes the directory under @workdir where the writer keeps code files,
 * with all it holds, so that nothing of the library's stays in the sandbox
 * (a commit would keep it, owned by the sandbox's user, in the image). */
gboolean
llmsbx_code_writer_remove_files (LlmsbxBackend  *backend,
                                 const char     *sandbox_id,
                                 const char     *workdir,
                                 double          timeout,
                                 GCancellable   *cancellable,
                                 GError        **error)
{
  g_autofree char *dir = g_build_path ("/", workdir, CODE_DIR, NULL);
  const char *argv[] = { "rm", "-rf", "--", dir, NULL };
  g_autoptr(LlmsbxOutputCollector) output = llmsbx_output_collector_new (4096);
  g_autoptr(GBytes) err = NULL;
  g_autofree char *text = NULL;
  int status = 0;

  if (!llmsbx_guarded_exec (backend, sandbox_id, argv, NULL, "/", timeout, output, &status,
                            cancellable, error))
    return FALSE;
  if (status == 0)
    return TRUE;

  err = llmsbx_output_collector_steal_bytes (output, LLMSBX_OUTPUT_STREAM_STDERR);
  text = g_utf8_make_valid (g_bytes_get_data (err, NULL), g_bytes_get_size (err));
  g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_CONTAINER_FAILED,
               "Could not remove %s from the sandbox (exit status %d): %s", dir, status, g_strstrip (text));
  return FALSE;
}
