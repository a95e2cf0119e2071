/* llmsbx-pool-lease.c: what a pool does inside one of its sandboxes: the
 * record of what the sandbox held when it was new, the reset between users
 * against that record, and the health check. The pool's own bookkeeping
 * (threads, the lock, leases, statistics) is llmsbx-sandbox-pool.c. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "llmsbx-pool-lease-private.h"
#include "llmsbx-error.h"

/* Below this many processes at its creation, a sandbox has a process
 * namespace of its own (a host shows its kernel threads alone by the
 * hundred): then every process that was not there is the users'. */
#define OWN_NAMESPACE_MAX_PROCESSES 16
#define RESET_TIMEOUT_SECONDS 60
#define HEALTH_TIMEOUT_SECONDS 10

/* Baseline ---------------------------------------------------------------- */

/* Where the reset's own tools, their libraries and their configuration live
 * (PATH, /etc/ld.so.preload): a user who can write there could make the
 * reset see nothing, so such a sandbox is never reset, only destroyed. */
#define SYSTEM_DIRS "/ /etc /usr /usr/bin /usr/sbin /usr/lib /usr/local /usr/local/bin /usr/local/sbin " \
                    "/usr/local/lib /bin /sbin /lib /lib64 /root /var /opt /home"

/* The files the engine mounts into the sandbox from its own directory. The
 * engine renews their ctime without changing them (Docker on every archive
 * request: a copy, or the fetch of an artifact session's plots), so the
 * reset cannot go by their ctime; it compares what they hold instead. A
 * user who can write them (root, where they are mounted writable) could
 * send the next user elsewhere: a change of content is a change. */
#define ENGINE_FILES "/etc/resolv.conf /etc/hosts /etc/hostname"

/* Prints 'E' path '=' mode, owner, inode, size and SHA-256 of each engine
 * file there is, NUL-separated. One without stat or sha256sum gets no
 * record, and then its ctime counts as for any other file. */
#define ENGINE_STATE_SCRIPT \
  "for f in " ENGINE_FILES "; do\n" \
  "  [ -f \"$f\" ] && [ ! -h \"$f\" ] || continue\n" \
  "  s=$(stat -c '%a %u %g %i %s' \"$f\" && sha256sum < \"$f\") && printf 'E%s=%s\\0' \"$f\" \"$s\"\n" \
  "done\n"

/* Prints the sandbox's clock, its processes (but its own), the system
 * directories it can write and the engine's files (where it has namespaces
 * of its own), and every path
 * under the scratch directories ("$@") with its type, NUL-separated. Where
 * the processes are the host's ($2 or more of them), only the workdir and
 * /tmp are the sandbox's own (as a backend without namespaces maps them):
 * the others are left out. */
static const char baseline_script[] =
  "many=$1; shift\n"
  "printf 'T%s\\0' \"$(date +%s.%N)\"\n"
  "n=0\n"
  "for d in /proc/[0-9]*; do p=${d#/proc/}; [ \"$p\" = \"$$\" ] || { printf 'P%s\\0' \"$p\"; n=$((n + 1)); }; done\n"
  "if [ $n -ge \"$many\" ]; then set -- \"$1\" \"$2\"; else\n"
  "  for d in " SYSTEM_DIRS "; do\n"
  "    [ -d \"$d\" ] || continue\n"
  "    f=\"$d/.llmsbx-pool-probe-$$\"\n"
  "    if ( : > \"$f\" ) 2>/dev/null; then rm -f \"$f\"; printf 'W%s\\0' \"$d\"; fi\n"
  "  done\n"
  ENGINE_STATE_SCRIPT
  "fi\n"
  "for r in \"$@\"; do\n"
  "  [ -d \"$r\" ] || continue\n"
  "  find \"$r\" -mindepth 1 -printf 'F%y %p\\0' || exit 3\n"
  "done\n";

/* Besides the workdir; the plot directory is under /tmp. The outside search
 * prunes the first two by position. */
static const char * const scratch_roots[] = { "/tmp", "/var/tmp", "/dev/shm", NULL };

static GPtrArray *
script_argv (const char *script)
{
  GPtrArray *argv = g_ptr_array_new_with_free_func (g_free);

  g_ptr_array_add (argv, g_strdup ("sh"));
  g_ptr_array_add (argv, g_strdup ("-c"));
  g_ptr_array_add (argv, g_strdup (script));
  g_ptr_array_add (argv, g_strdup ("llmsbx-pool"));
  return argv;
}

/* The scratch directories: all of them in a sandbox with namespaces of its
 * own, else the workdir and /tmp. */
static void
add_roots (GPtrArray  *argv,
           const char *workdir,
           gboolean    all)
{
  g_ptr_array_add (argv, g_strdup (workdir));
  for (guint i = 0; scratch_roots[i] != NULL && (all || i == 0); i++)
    g_ptr_array_add (argv, g_strdup (scratch_roots[i]));
}

/* Runs @argv in the entry's sandbox as its own user; its stdout in @out. */
static gboolean
entry_exec (LlmsbxPoolLease  *entry,
            GPtrArray        *argv,
            GBytes           *input,
            guint             timeout,
            int              *status,
            GBytes          **out,
            GError          **error)
{
  g_autoptr(LlmsbxExecRequest) request = NULL;
  g_autoptr(LlmsbxOutputCollector) collector = llmsbx_output_collector_new (64 * 1024 * 1024);

  g_ptr_array_add (argv, NULL);
  request = llmsbx_exec_request_new ((const char * const *) argv->pdata);
  g_ptr_array_remove_index (argv, argv->len - 1);
  request->deadline = g_get_monotonic_time () + (gint64) timeout * G_USEC_PER_SEC;
  if (input != NULL)
    request->stdin_data = g_bytes_ref (input);
  if (!llmsbx_backend_exec (entry->backend, entry->sandbox_id, request, collector, status, NULL, error))
    return FALSE;
  if (llmsbx_output_collector_get_truncated (collector))
    {
      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_CONTAINER_FAILED,
                   "The listing of sandbox %.12s is larger than the pool takes", entry->sandbox_id);
      return FALSE;
    }
  if (out != NULL)
    *out = llmsbx_output_collector_steal_bytes (collector, LLMSBX_OUTPUT_STREAM_STDOUT);
  return TRUE;
}

void
llmsbx_pool_lease_record_baseline (LlmsbxPoolLease *entry,
                                   const char      *workdir)
{
  g_autoptr(GPtrArray) argv = script_argv (baseline_script);
  g_autoptr(GBytes) out = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GString) pids = g_string_new (NULL);
  guint processes = 0;
  const char *data;
  gsize size;
  int status = -1;

  g_ptr_array_insert (argv, 4, g_strdup_printf ("%d", OWN_NAMESPACE_MAX_PROCESSES));
  add_roots (argv, workdir, TRUE);
  if (!entry_exec (entry, argv, NULL, RESET_TIMEOUT_SECONDS, &status, &out, &error) || status != 0)
    {
      g_debug ("sandbox %.12s cannot be reset, it will serve once: %s", entry->sandbox_id,
               error ? error->message : "its state could not be listed");
      return;
    }

  entry->manifest = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  entry->engine_files = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  data = g_bytes_get_data (out, &size);
  for (gsize at = 0; at < size;)
    {
      const char *record = data + at;
      gsize length = strnlen (record, size - at);

      at += length + 1;
      if (length < 1)
        continue;
      if (record[0] == 'T')
        entry->baseline = g_strndup (record + 1, length - 1);
      else if (record[0] == 'P')
        {
          g_string_append_len (pids, record + 1, length - 1);
          g_string_append_c (pids, ' ');
          processes++;
        }
      else if (record[0] == 'W' && entry->unresettable == NULL)
        entry->unresettable = g_strdup_printf ("its user can write %.*s, where the reset's own tools are",
                                               (int) (length - 1), record + 1);
      else if (record[0] == 'E' && memchr (record, '=', length) != NULL)
        {
          const char *equals = memchr (record, '=', length);

          g_hash_table_insert (entry->engine_files, g_strndup (record + 1, equals - record - 1),
                               g_strndup (equals + 1, length - (equals + 1 - record)));
        }
      else if (record[0] == 'F' && length > 3)
        g_hash_table_insert (entry->manifest, g_strndup (record + 3, length - 3),
                             GINT_TO_POINTER (record[1]));
    }
  entry->baseline_pids = g_string_free (g_steal_pointer (&pids), FALSE);
  entry->own_namespace = processes < OWN_NAMESPACE_MAX_PROCESSES;
  entry->resettable = entry->baseline != NULL && entry->unresettable == NULL;
}

/* Reset ------------------------------------------------------------------- */

/* $1 the lease's token, $2 the baseline clock, $3 1 when every process the
 * sandbox did not have at the baseline is to go (else those that carry the
 * token), $4 the baseline's processes; then the scratch directories.
 * Kills, then prints every path under them with type and ctime, and the
 * paths elsewhere changed since the baseline, NUL-separated. */
static const char reset_scan_script[] =
  "tok=$1 base=$2 all=$3 keep=\" $4 \"; shift 4; self=$$; round=0\n"
  "while :; do\n"
  "  found=\n"
  "  for d in /proc/[0-9]*; do\n"
  "    p=${d#/proc/}\n"
  "    [ \"$p\" = \"$self\" ] && continue\n"
  "    case \"$keep\" in *\" $p \"*) continue;; esac\n"
  /* A zombie runs nothing and holds nothing: it is dead, only not reaped
   * (a pod's PID 1 is the keep-alive command, which reaps no orphan). */
  "    st=; read -r st 2>/dev/null < \"$d/stat\"; st=${st##*\\) }; [ \"${st%% *}\" = Z ] && continue\n"
  "    if [ \"$all\" = 1 ]; then found=\"$found $p\"\n"
  "    elif tr '\\0' '\\n' < \"$d/environ\" 2>/dev/null | grep -qx \"" LEASE_VARIABLE "=$tok\"; then found=\"$found $p\"; fi\n"
  "  done\n"
  "  [ -z \"$found\" ] && break\n"
  "  for p in $found; do kill -STOP \"$p\" 2>/dev/null; done\n"
  "  for p in $found; do kill -KILL \"$p\" 2>/dev/null; done\n"
  "  round=$((round + 1))\n"
  "  if [ $round -ge 50 ]; then printf 'Xprocesses that would not die:%s\\0' \"$found\"; exit 0; fi\n"
  "  sleep 0.05\n"
  "done\n"
  "for r in \"$@\"; do\n"
  "  [ -d \"$r\" ] || continue\n"
  "  find \"$r\" -mindepth 1 -printf 'F%y %C@ %p\\0' || exit 3\n"
  "done\n";

/* The part that looks outside the scratch directories: run only where the
 * sandbox is a namespace of its own (elsewhere "/" is the host's). It runs
 * after the user's processes are gone, so the engine's files it prints
 * cannot change between their state and the verdict. */
static const char reset_outside_script[] =
  "base=$1; shift\n"
  "find / \\( -path /proc -o -path /sys -o -path /dev -o -path \"$1\" -o -path \"$2\" -o -path \"$3\" \\) -prune "
  "-o -newerct \"@$base\" -printf 'O%p\\0' 2>/dev/null\n"
  ENGINE_STATE_SCRIPT
  "exit 0\n";

static const char delete_script[] = "xargs -0 rm -rf --";

static gboolean
under (const char *path,
       const char *dir)
{
  gsize length = strlen (dir);

  return strncmp (path, dir, length) == 0 && path[length] == '/';
}

/* Whether @path is "/" or another parent of a scratch directory. */
static gboolean
is_root_ancestor (const char *workdir,
                  const char *path)
{
  if (g_str_equal (path, "/"))
    return TRUE;
  if (under (workdir, path))
    return TRUE;
  for (guint i = 0; scratch_roots[i] != NULL; i++)
    if (under (scratch_roots[i], path))
      return TRUE;
  return FALSE;
}

gboolean
llmsbx_pool_lease_reset (LlmsbxPoolLease  *entry,
                         const char       *workdir,
                         char            **why)
{
  g_autoptr(GPtrArray) argv = script_argv (reset_scan_script);
  g_autoptr(GBytes) out = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GPtrArray) doomed = g_ptr_array_new ();
  g_autoptr(GString) input = g_string_new (NULL);
  double base;
  const char *data;
  gsize size;
  int status = -1;

  if (!entry->resettable)
    {
      *why = g_strdup (entry->unresettable ? entry->unresettable
                                          : "its state could not be listed when it was new");
      return FALSE;
    }
  base = g_ascii_strtod (entry->baseline, NULL);

  g_ptr_array_add (argv, g_strdup (entry->lease_env + strlen (LEASE_VARIABLE "=")));
  g_ptr_array_add (argv, g_strdup (entry->baseline));
  g_ptr_array_add (argv, g_strdup (entry->own_namespace ? "1" : "0"));
  g_ptr_array_add (argv, g_strdup (entry->baseline_pids));
  add_roots (argv, workdir, entry->own_namespace);
  if (!entry_exec (entry, argv, NULL, RESET_TIMEOUT_SECONDS, &status, &out, &error) || status != 0)
    {
      *why = g_strdup_printf ("its state could not be listed: %s",
                              error ? error->message : "the listing failed");
      return FALSE;
    }

  data = g_bytes_get_data (out, &size);
  for (gsize at = 0; at < size;)
    {
      const char *record = data + at;
      gsize length = strnlen (record, size - at);
      const char *space;
      const char *path;
      gpointer type;

      at += length + 1;
      if (length < 1)
        continue;
      if (record[0] == 'X')
        {
          *why = g_strndup (record + 1, length - 1);
          return FALSE;
        }
      if (record[0] != 'F' || length < 4 || (space = memchr (record + 3, ' ', length - 3)) == NULL)
        continue;
      path = space + 1;
      if (!g_hash_table_lookup_extended (entry->manifest, path, NULL, &type))
        {
          g_ptr_array_add (doomed, (gpointer) path);
          continue;
        }
      g_hash_table_add (seen, (gpointer) path);
      if (GPOINTER_TO_INT (type) != record[1])
        {
          *why = g_strdup_printf ("%s changed type", path);
          return FALSE;
        }
      if (record[1] != 'd' && g_ascii_strtod (record + 3, NULL) > base)
        {
          *why = g_strdup_printf ("%s, which it held when new, was changed", path);
          return FALSE;
        }
    }
  if (g_hash_table_size (seen) != g_hash_table_size (entry->manifest))
    {
      *why = g_strdup ("a file it held when new was removed");
      return FALSE;
    }

  if (entry->own_namespace)
    {
      g_autoptr(GPtrArray) outside = script_argv (reset_outside_script);
      g_autoptr(GBytes) changed = NULL;
      g_autoptr(GHashTable) engine_now = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
      g_autoptr(GPtrArray) newer = g_ptr_array_new ();

      g_ptr_array_add (outside, g_strdup (entry->baseline));
      add_roots (outside, workdir, TRUE);
      if (!entry_exec (entry, outside, NULL, RESET_TIMEOUT_SECONDS, &status, &changed, &error) ||
          status != 0)
        {
          *why = g_strdup_printf ("its filesystem could not be searched: %s",
                                  error ? error->message : "find failed");
          return FALSE;
        }
      data = g_bytes_get_data (changed, &size);
      for (gsize at = 0; at < size;)
        {
          const char *record = data + at;
          gsize length = strnlen (record, size - at);
          const char *equals;

          at += length + 1;
          /* Records end in a NUL (find's and printf's): paths point into them. */
          if (length >= 2 && record[0] == 'O' && at <= size)
            g_ptr_array_add (newer, (gpointer) (record + 1));
          else if (length >= 2 && record[0] == 'E' && (equals = memchr (record, '=', length)) != NULL)
            g_hash_table_insert (engine_now, g_strndup (record + 1, equals - record - 1),
                                 g_strndup (equals + 1, length - (equals + 1 - record)));
        }
      for (guint i = 0; i < newer->len; i++)
        {
          const char *path = g_ptr_array_index (newer, i);
          const char *then = g_hash_table_lookup (entry->engine_files, path);
          const char *now = g_hash_table_lookup (engine_now, path);

          /* A scratch directory's parents change when the directory is
           * first written to (overlayfs copies it up): that is no change
           * of the user's. */
          if (is_root_ancestor (workdir, path))
            continue;
          /* An engine file the engine touched but nobody changed. */
          if (then != NULL && now != NULL && g_str_equal (then, now))
            continue;
          *why = g_strdup_printf ("%s changed", path);
          return FALSE;
        }
    }

  /* Paths under one already doomed go with it. */
  for (guint i = 0; i < doomed->len; i++)
    {
      const char *path = g_ptr_array_index (doomed, i);
      gboolean covered = FALSE;

      for (guint j = 0; j < doomed->len && !covered; j++)
        covered = j != i && under (path, g_ptr_array_index (doomed, j));
      if (!covered)
        g_string_append_len (input, path, strlen (path) + 1);
    }
  if (input->len > 0)
    {
      g_autoptr(GPtrArray) remove = script_argv (delete_script);
      g_autoptr(GBytes) paths = g_bytes_new (input->str, input->len);

      if (!entry_exec (entry, remove, paths, RESET_TIMEOUT_SECONDS, &status, NULL, &error) || status != 0)
        {
          *why = g_strdup_printf ("what the user left could not be removed: %s",
                                  error ? error->message : "rm failed");
          return FALSE;
        }
    }
  return TRUE;
}

gboolean
llmsbx_pool_lease_check (LlmsbxPoolLease *entry)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GError) error = NULL;
  int status = -1;

  g_ptr_array_add (argv, g_strdup ("true"));
  if (!entry_exec (entry, argv, NULL, HEALTH_TIMEOUT_SECONDS, &status, NULL, &error) || status != 0)
    {
      g_debug ("pooled sandbox %.12s failed its health check: %s", entry->sandbox_id,
               error ? error->message : "true did not succeed");
      return FALSE;
    }
  return TRUE;
}
