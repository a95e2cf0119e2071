/* llmsbx-code-writer.c: getting a run's code into the sandbox through the
 * environment of execs, without archive uploads.
 *
 * Code that fits in one chunk goes with the first run command itself: one
 * exec instead of an archive upload plus an exec, which matters because
 * Docker's archive upload costs as much as a whole exec. It also works on
 * read-only roots and in tmpfs workdirs, where Docker cannot unpack archives.
 * Larger code is sent in chunks first, one exec each. */
#include "config.h"

#include "llmsbx-code-writer-private.h"
#include "llmsbx-error.h"
#include "llmsbx-guarded-exec-private.h"

/* Each run has its own file, so a timed-out run's process can never read the
 * next run's code; the writer removes earlier files so nothing piles up. */
#define CODE_DIR ".llmsbx"
#define CODE_PREFIX "code-"
#define CODE_VARIABLE "LLMSBX_CODE"

/* sh -c CODE_WRITER llmsbx-code FILE new|append [COMMAND...]: writes (or
 * appends) $LLMSBX_CODE to FILE, then becomes COMMAND. A new file replaces
 * the earlier runs' files. The code is only ever expanded inside double
 * quotes, so the shell never parses it, and the variable is gone before the
 * user's program starts. Only builtins run unless there is cleaning to do. */
static const char code_writer[] =
  "f=$1; m=$2; shift 2; d=${f%/*}\n"
  "if [ \"$m\" = new ]; then\n"
  "  [ -d \"$d\" ] || mkdir -p -- \"$d\" || exit 125\n"
  "  for old in \"$d\"/" CODE_PREFIX "*; do [ -e \"$old\" ] && rm -f -- \"$d\"/" CODE_PREFIX "*; break; done\n"
  "  printf '%s' \"$" CODE_VARIABLE "\" > \"$f\" || exit 125\n"
  "else\n"
  "  printf '%s' \"$" CODE_VARIABLE "\" >> \"$f\" || exit 125\n"
  "fi\n"
  "unset " CODE_VARIABLE " f m d old\n"
  "[ $# -gt 0 ] && exec \"$@\"\n"
  "exit 0\n";

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

/* The argv and environment that write @chunk to @file (anew when
 * @first_chunk, else appending), then run @argv if given, with @env. */
void
llmsbx_code_writer_wrap (const char          *file,
                         gboolean             first_chunk,
                         const char          *chunk,
                         gsize                chunk_length,
                         const char * const  *argv,
                         const char * const  *env,
                         char              ***out_argv,
                         char              ***out_env)
{
  g_autoptr(GStrvBuilder) argv_builder = g_strv_builder_new ();
  g_autoptr(GStrvBuilder) env_builder = g_strv_builder_new ();
  g_autofree char *entry = g_strdup_printf (CODE_VARIABLE "=%.*s", (int) chunk_length, chunk);

  g_strv_builder_add_many (argv_builder, "sh", "-c", code_writer, "llmsbx-code", file,
                           first_chunk ? "new" : "append", NULL);
  if (argv != NULL)
    g_strv_builder_addv (argv_builder, (const char **) argv);
  if (env != NULL)
    g_strv_builder_addv (env_builder, (const char **) env);
  g_strv_builder_add (env_builder, entry);

  *out_argv = g_strv_builder_end (argv_builder);
  *out_env = g_strv_builder_end (env_builder);
}

/* Sends all but the last chunk of @code to @file; @last_chunk is set to the
 * offset of the last chunk, which travels with the first run command. */
gboolean
llmsbx_code_writer_send_leading (LlmsbxBackend       *backend,
                                 const char          *sandbox_id,
                                 const char          *workdir,
                                 const char          *file,
                                 const char          *code,
                                 const char * const  *env,
                                 double               timeout,
                                 gsize               *last_chunk,
                                 GCancellable        *cancellable,
                                 GError             **error)
{
  gsize length = strlen (code);
  gsize offset = 0;

  while (length - offset > LLMSBX_CODE_CHUNK_MAX)
    {
      g_auto(GStrv) argv = NULL;
      g_auto(GStrv) chunk_env = NULL;
      int status = 0;

      llmsbx_code_writer_wrap (file, offset == 0, code + offset, LLMSBX_CODE_CHUNK_MAX, NULL, env,
                               &argv, &chunk_env);
      if (!llmsbx_guarded_exec (backend, sandbox_id, (const char * const *) argv,
                                (const char * const *) chunk_env, workdir, timeout,
                                NULL, &status, cancellable, error))
        return FALSE;
      if (status != 0)
        {
          g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_CONTAINER_FAILED,
                       "Could not write the code file %s in the sandbox (exit status %d)", file, status);
          return FALSE;
        }
      offset += LLMSBX_CODE_CHUNK_MAX;
    }

  *last_chunk = offset;
  return TRUE;
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
