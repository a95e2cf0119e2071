/* llmsbx-fake-backend.c: an in-process LlmsbxBackend whose sandboxes are
 * directories and whose execs are host processes, for tests without a daemon.
 *
 * A sandbox is a directory of its own under the user's runtime directory
 * (which GLib's test isolation makes per test). Its working directory and
 * /tmp live there: every argv word, and the exec's working directory, has
 * those two paths mapped to the sandbox's directory where they start a path;
 * other paths are the host's, and environment values are never rewritten, so
 * code that names /sandbox in its own text sees the host's /sandbox. Commands
 * run as host processes in a session of their own (their process group is
 * theirs to kill), as root's requested user when the tests run as root, with
 * a small environment: PATH, HOME, the spec's and the request's entries, and
 * markers that name the sandbox and carry its labels, by which removal and
 * the tests' reaper find every process a sandbox started, as an engine finds
 * a container's.
 *
 * The contract is a real engine's: a deadline or a cancellation ends the exec
 * with an error and leaves the command running (its output pipes are kept, so
 * it blocks rather than dies); removal kills what is left. Archives go in with
 * libarchive's secure extraction and come out with the core's tar packer.
 * A request's stdin_data reaches the command through a memfd. An archive
 * entry that would replace a directory with a file or the reverse is
 * refused with G_IO_ERROR_EXISTS, as the engines' noOverwriteDirNonDir.
 * Faults are injected per instance: the Nth call of an operation fails with
 * the error a real engine gives. Never give it hostile code: its processes
 * are the host's. */
#define _GNU_SOURCE
#include "llmsbx-fake-backend.h"
#include "llmsbx-tar-unpack-private.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <grp.h>
#include <poll.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <glib-unix.h>


#define SANDBOX_VARIABLE "LLMSBX_FAKE_SANDBOX"
#define LABELS_VARIABLE "LLMSBX_FAKE_LABELS"
#define SEARCH_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define READ_CHUNK 65536

typedef struct {
  GPid pid;
  int  fds[3];   /* stdout, stderr, pidfd; -1 when closed */
} Abandoned;

typedef struct {
  char   *id;
  char   *root;      /* the host directory the sandbox lives in */
  char   *workdir;   /* in the sandbox */
  char  **labels;
  char  **env;
  GMutex  lock;      /* guards abandoned */
  GArray *abandoned;
} FakeSandbox;

struct _LlmsbxFakeBackend
{
  LlmsbxBackend parent_instance;

  GMutex lock;
  guint  fail_after[LLMSBX_FAKE_N_FAULTS];
  guint  fail_times[LLMSBX_FAKE_N_FAULTS];
  guint  calls[LLMSBX_FAKE_N_FAULTS];
};

G_DEFINE_FINAL_TYPE (LlmsbxFakeBackend, llmsbx_fake_backend, LLMSBX_TYPE_BACKEND)

/* The store ------------------------------------------------------------- */

static GMutex store_lock;
static GHashTable *store_sandboxes;  /* id → FakeSandbox (a reference) */
static GHashTable *store_images;     /* image names */
static GHashTable *store_unusable;   /* backend names whose probe fails */

static void
close_abandoned (Abandoned *abandoned)
{
  /* The whole process group: a shell's children stay in it. */
  kill (-abandoned->pid, SIGKILL);
  kill (abandoned->pid, SIGKILL);
  waitpid (abandoned->pid, NULL, 0);
  for (guint i = 0; i < G_N_ELEMENTS (abandoned->fds); i++)
    if (abandoned->fds[i] >= 0)
      close (abandoned->fds[i]);
}

static void
fake_sandbox_clear (FakeSandbox *sandbox)
{
  g_free (sandbox->id);
  g_free (sandbox->root);
  g_free (sandbox->workdir);
  g_strfreev (sandbox->labels);
  g_strfreev (sandbox->env);
  for (guint i = 0; i < sandbox->abandoned->len; i++)
    close_abandoned (&g_array_index (sandbox->abandoned, Abandoned, i));
  g_array_unref (sandbox->abandoned);
  g_mutex_clear (&sandbox->lock);
}

static void
fake_sandbox_release (FakeSandbox *sandbox)
{
  g_rc_box_release_full (sandbox, (GDestroyNotify) fake_sandbox_clear);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (FakeSandbox, fake_sandbox_release)

/* Call with store_lock held. */
static void
ensure_store (void)
{
  if (store_sandboxes != NULL)
    return;
  store_sandboxes = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, (GDestroyNotify) fake_sandbox_release);
  store_images = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  store_unusable = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
}

/* A reference to the sandbox @id, or NULL (with the engine's error). */
static FakeSandbox *
lookup_sandbox (const char  *id,
                GError     **error)
{
  FakeSandbox *sandbox;

  g_mutex_lock (&store_lock);
  ensure_store ();
  sandbox = g_hash_table_lookup (store_sandboxes, id);
  if (sandbox != NULL)
    g_rc_box_acquire (sandbox);
  g_mutex_unlock (&store_lock);

  if (sandbox == NULL)
    g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_CONTAINER_FAILED, "Container %s not found", id);
  return sandbox;
}

/**
 * llmsbx_fake_backend_set_usable:
 * @name: a name the fake backend is registered under
 * @usable: whether llmsbx_backend_probe() succeeds for it
 */
void
llmsbx_fake_backend_set_usable (const char *name,
                                gboolean    usable)
{
  g_mutex_lock (&store_lock);
  ensure_store ();
  if (usable)
    g_hash_table_remove (store_unusable, name);
  else
    g_hash_table_add (store_unusable, g_strdup (name));
  g_mutex_unlock (&store_lock);
}

/**
 * llmsbx_fake_backend_add_image:
 * @image: an image reference
 *
 * Makes @image present, as if it had been built or imported.
 */
void
llmsbx_fake_backend_add_image (const char *image)
{
  g_mutex_lock (&store_lock);
  ensure_store ();
  g_hash_table_add (store_images, g_strdup (image));
  g_mutex_unlock (&store_lock);
}

static gboolean
has_image (const char *image)
{
  gboolean found;

  g_mutex_lock (&store_lock);
  ensure_store ();
  found = g_hash_table_contains (store_images, image);
  g_mutex_unlock (&store_lock);
  return found;
}

/**
 * llmsbx_fake_backend_count_sandboxes:
 *
 * Returns: how many fake sandboxes exist in this process
 */
guint
llmsbx_fake_backend_count_sandboxes (void)
{
  guint count;

  g_mutex_lock (&store_lock);
  ensure_store ();
  count = g_hash_table_size (store_sandboxes);
  g_mutex_unlock (&store_lock);
  return count;
}

/**
 * llmsbx_fake_backend_has_sandbox:
 * @sandbox_id: a full sandbox id
 *
 * Returns: whether the sandbox exists
 */
gboolean
llmsbx_fake_backend_has_sandbox (const char *sandbox_id)
{
  g_autoptr(FakeSandbox) sandbox = lookup_sandbox (sandbox_id, NULL);

  return sandbox != NULL;
}

/**
 * llmsbx_fake_backend_get_root:
 * @sandbox_id: a full sandbox id
 *
 * Returns: (transfer full) (nullable): the host directory the sandbox lives in
 */
char *
llmsbx_fake_backend_get_root (const char *sandbox_id)
{
  g_autoptr(FakeSandbox) sandbox = lookup_sandbox (sandbox_id, NULL);

  return sandbox != NULL ? g_strdup (sandbox->root) : NULL;
}

/* Processes -------------------------------------------------------------- */

/* Whether the environment block @environ (NUL-separated) has an entry that
 * starts with @prefix and, when @inside is given, holds it in its value. */
static gboolean
environ_has (const char *environ,
             gsize       length,
             const char *prefix,
             const char *inside)
{
  gsize prefix_len = strlen (prefix);

  for (gsize at = 0; at < length; )
    {
      const char *entry = environ + at;
      gsize entry_len = strnlen (entry, length - at);

      if (entry_len >= prefix_len && memcmp (entry, prefix, prefix_len) == 0)
        {
          g_autofree char *value = g_strndup (entry + prefix_len, entry_len - prefix_len);

          if (inside == NULL || strstr (value, inside) != NULL)
            return TRUE;
        }
      at += entry_len + 1;
    }
  return FALSE;
}

/* Kills every host process whose environment matches, over and over until a
 * sweep finds none, so that a forking process cannot outrun it. Returns how
 * many were found. */
static guint
kill_matching (const char *prefix,
               const char *inside)
{
  guint killed = 0;

  for (guint round = 0; round < 100; round++)
    {
      g_autoptr(GDir) proc = g_dir_open ("/proc", 0, NULL);
      const char *name;
      guint found = 0;

      while (proc != NULL && (name = g_dir_read_name (proc)) != NULL)
        {
          g_autofree char *path = NULL;
          g_autofree char *environ = NULL;
          gsize length;
          guint64 pid;

          if (!g_ascii_string_to_unsigned (name, 10, 1, G_MAXINT, &pid, NULL) || (pid_t) pid == getpid ())
            continue;
          path = g_strdup_printf ("/proc/%s/environ", name);
          if (!g_file_get_contents (path, &environ, &length, NULL) ||
              !environ_has (environ, length, prefix, inside))
            continue;
          kill ((pid_t) pid, SIGKILL);
          found++;
        }
      if (found == 0)
        break;
      killed += found;
      g_usleep (10 * 1000);
    }
  return killed;
}

/* Removes @path and what is below it, never following a link. */
static void
remove_tree (const char *path)
{
  g_autoptr(GDir) dir = NULL;
  const char *name;

  if (!g_file_test (path, G_FILE_TEST_IS_SYMLINK) && (dir = g_dir_open (path, 0, NULL)) != NULL)
    while ((name = g_dir_read_name (dir)) != NULL)
      {
        g_autofree char *child = g_build_filename (path, name, NULL);

        remove_tree (child);
      }
  g_remove (path);
}

/**
 * llmsbx_fake_backend_reap:
 * @label: a `key=value` label
 *
 * Kills the host processes of every fake sandbox with @label, also those a
 * test's subprocess left behind, and removes this process's sandboxes that
 * carry it.
 *
 * Returns: how many processes and sandboxes it found
 */
guint
llmsbx_fake_backend_reap (const char *label)
{
  g_autofree char *needle = g_strdup_printf ("\n%s\n", label);
  g_autoptr(GPtrArray) doomed = g_ptr_array_new_with_free_func ((GDestroyNotify) fake_sandbox_release);
  GHashTableIter iter;
  gpointer value;
  guint found = kill_matching (LABELS_VARIABLE "=", needle);

  g_mutex_lock (&store_lock);
  ensure_store ();
  g_hash_table_iter_init (&iter, store_sandboxes);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      FakeSandbox *sandbox = value;

      if (g_strv_contains ((const char * const *) sandbox->labels, label))
        {
          g_ptr_array_add (doomed, g_rc_box_acquire (sandbox));
          g_hash_table_iter_remove (&iter);
        }
    }
  g_mutex_unlock (&store_lock);

  for (guint i = 0; i < doomed->len; i++)
    {
      FakeSandbox *sandbox = g_ptr_array_index (doomed, i);
      g_autofree char *marker = g_strdup_printf (SANDBOX_VARIABLE "=%s", sandbox->id);

      kill_matching (marker, NULL);
      remove_tree (sandbox->root);
    }
  return found + doomed->len;
}

/* Faults ----------------------------------------------------------------- */

/**
 * llmsbx_fake_backend_inject_fault:
 * @self: a fake backend
 * @fault: what fails
 * @after: how many calls of that operation succeed first
 * @times: how many calls then fail; 0 to stop failing, G_MAXUINT for all
 */
void
llmsbx_fake_backend_inject_fault (LlmsbxFakeBackend *self,
                                  LlmsbxFakeFault    fault,
                                  guint              after,
                                  guint              times)
{
  g_return_if_fail (LLMSBX_IS_FAKE_BACKEND (self));
  g_return_if_fail (fault < LLMSBX_FAKE_N_FAULTS);

  g_mutex_lock (&self->lock);
  self->fail_after[fault] = self->calls[fault] + after;
  self->fail_times[fault] = times;
  g_mutex_unlock (&self->lock);
}

/**
 * llmsbx_fake_backend_get_calls:
 * @self: a fake backend
 * @fault: an operation
 *
 * Returns: how many times the operation was called
 */
guint
llmsbx_fake_backend_get_calls (LlmsbxFakeBackend *self,
                               LlmsbxFakeFault    fault)
{
  guint calls;

  g_mutex_lock (&self->lock);
  calls = self->calls[fault];
  g_mutex_unlock (&self->lock);
  return calls;
}

/* Counts a call of @fault's operation; TRUE when it must fail. */
static gboolean
must_fail (LlmsbxFakeBackend *self,
           LlmsbxFakeFault    fault)
{
  gboolean fail;
  guint call;

  g_mutex_lock (&self->lock);
  call = self->calls[fault]++;
  fail = self->fail_times[fault] > 0 && call >= self->fail_after[fault] &&
         call - self->fail_after[fault] < self->fail_times[fault];
  g_mutex_unlock (&self->lock);
  return fail;
}

/* Paths ------------------------------------------------------------------ */

static gboolean
starts_path (char c)
{
  return strchr (" \t\n'\"=:(;`", c) != NULL;
}

static gboolean
ends_path (char c)
{
  return c == '\0' || c == '/' || strchr (" \t\n'\";:)`", c) != NULL;
}

/* @text with the sandbox's own directories (its workdir and /tmp) mapped to
 * the host wherever they start a path. */
static char *
map_text (const FakeSandbox *sandbox,
          const char        *text)
{
  const char *prefixes[] = { sandbox->workdir, "/tmp" };
  GString *mapped = g_string_new (NULL);

  for (const char *p = text; *p != '\0'; )
    {
      gboolean done = FALSE;

      if (*p == '/' && (p == text || starts_path (p[-1])))
        for (gsize i = 0; i < G_N_ELEMENTS (prefixes) && !done; i++)
          {
            gsize len = strlen (prefixes[i]);

            if (strncmp (p, prefixes[i], len) == 0 && ends_path (p[len]))
              {
                g_string_append (mapped, sandbox->root);
                g_string_append (mapped, prefixes[i]);
                p += len;
                done = TRUE;
              }
          }
      if (!done)
        g_string_append_c (mapped, *p++);
    }
  return g_string_free (mapped, FALSE);
}

/* Backend ---------------------------------------------------------------- */

static gboolean
llmsbx_fake_backend_probe (LlmsbxBackend  *backend,
                           GCancellable   *cancellable,
                           GError        **error)
{
  LlmsbxFakeBackend *self = LLMSBX_FAKE_BACKEND (backend);
  const char *name = llmsbx_backend_get_name (backend);
  gboolean unusable;

  g_mutex_lock (&store_lock);
  ensure_store ();
  unusable = name != NULL && g_hash_table_contains (store_unusable, name);
  g_mutex_unlock (&store_lock);

  if (must_fail (self, LLMSBX_FAKE_FAULT_PROBE) || unusable)
    {
      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_BACKEND_UNAVAILABLE,
                   "The fake backend %s is switched off", name ? name : "");
      return FALSE;
    }
  return TRUE;
}

static gboolean
llmsbx_fake_backend_ensure_image (LlmsbxBackend  *backend,
                                  const char     *image,
                                  gboolean       *pulled,
                                  GCancellable   *cancellable,
                                  GError        **error)
{
  *pulled = FALSE;
  if (has_image (image))
    return TRUE;

  g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_IMAGE_NOT_FOUND,
               "Image %s is not present locally and could not be pulled: the fake backend pulls nothing", image);
  return FALSE;
}

static gboolean
llmsbx_fake_backend_remove_image (LlmsbxBackend  *backend,
                                  const char     *image,
                                  GCancellable   *cancellable,
                                  GError        **error)
{
  g_mutex_lock (&store_lock);
  ensure_store ();
  g_hash_table_remove (store_images, image);
  g_mutex_unlock (&store_lock);
  return TRUE;
}

/* A full id as engines make them: 64 hex digits. */
static char *
new_sandbox_id (void)
{
  g_autofree char *uuid = g_uuid_string_random ();

  return g_compute_checksum_for_string (G_CHECKSUM_SHA256, uuid, -1);
}

static char *
llmsbx_fake_backend_create_sandbox (LlmsbxBackend        *backend,
                                    LlmsbxContainerSpec  *spec,
                                    GCancellable         *cancellable,
                                    GError              **error)
{
  LlmsbxFakeBackend *self = LLMSBX_FAKE_BACKEND (backend);
  const char *workdir = spec->workdir != NULL ? spec->workdir : "/sandbox";
  g_autofree char *base = g_build_filename (g_get_user_runtime_dir (), "llmsbx-fake", NULL);
  g_autofree char *template = NULL;
  FakeSandbox *sandbox;

  if (must_fail (self, LLMSBX_FAKE_FAULT_CREATE))
    {
      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_CONTAINER_FAILED,
                   "Could not create a sandbox from %s: the fake backend was told to fail", spec->image);
      return NULL;
    }
  if (!has_image (spec->image))
    {
      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_IMAGE_NOT_FOUND, "No such image: %s", spec->image);
      return NULL;
    }
  /* Mapping "/" would map every path. */
  if (!g_path_is_absolute (workdir) || strlen (workdir) < 2 || strstr (workdir, "..") != NULL)
    {
      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
                   "The fake backend needs a working directory below /, not '%s'", workdir);
      return NULL;
    }

  if (g_mkdir_with_parents (base, 0700) != 0)
    {
      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_CONTAINER_FAILED, "Cannot create %s: %s", base, g_strerror (errno));
      return NULL;
    }
  template = g_build_filename (base, "sandbox-XXXXXX", NULL);
  if (g_mkdtemp_full (template, 0755) == NULL)
    {
      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_CONTAINER_FAILED, "Cannot create a sandbox directory: %s",
                   g_strerror (errno));
      return NULL;
    }

  sandbox = g_rc_box_new0 (FakeSandbox);
  sandbox->id = new_sandbox_id ();
  sandbox->root = g_steal_pointer (&template);
  sandbox->workdir = g_strdup (workdir);
  sandbox->labels = spec->labels != NULL ? g_strdupv (spec->labels) : g_new0 (char *, 1);
  sandbox->env = spec->env != NULL ? g_strdupv (spec->env) : g_new0 (char *, 1);
  sandbox->abandoned = g_array_new (FALSE, FALSE, sizeof (Abandoned));
  g_mutex_init (&sandbox->lock);
  {
    const char *dirs[] = { workdir, "/tmp", "/home" };

    for (gsize i = 0; i < G_N_ELEMENTS (dirs); i++)
      {
        g_autofree char *dir = g_build_filename (sandbox->root, dirs[i], NULL);

        g_mkdir_with_parents (dir, i == 1 ? 01777 : 0755);
      }
  }

  g_mutex_lock (&store_lock);
  ensure_store ();
  g_hash_table_insert (store_sandboxes, sandbox->id, sandbox);
  g_mutex_unlock (&store_lock);

  return g_strdup (sandbox->id);
}

static char *
llmsbx_fake_backend_attach_sandbox (LlmsbxBackend  *backend,
                                    const char     *sandbox_id,
                                    GCancellable   *cancellable,
                                    GError        **error)
{
  GHashTableIter iter;
  gpointer key;
  char *found = NULL;
  guint matches = 0;

  g_mutex_lock (&store_lock);
  ensure_store ();
  g_hash_table_iter_init (&iter, store_sandboxes);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    if (g_str_has_prefix (key, sandbox_id))
      {
        matches++;
        g_free (found);
        found = g_strdup (key);
      }
  g_mutex_unlock (&store_lock);

  if (matches == 1)
    return found;
  g_free (found);
  g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_CONTAINER_FAILED, "Container %s not found", sandbox_id);
  return NULL;
}

typedef struct {
  gboolean switch_user;
  uid_t    uid;
  gid_t    gid;
} ChildSetup;

/* In the child, between fork and exec: only async-signal-safe calls. */
static void
child_setup (gpointer data)
{
  const ChildSetup *setup = data;

  setsid ();
  if (setup->switch_user)
    {
      if (setgroups (0, NULL) != 0 || setgid (setup->gid) != 0 || setuid (setup->uid) != 0)
        _exit (126);
    }
}

/* "uid[:gid]" or "name[:group]", as engines read a user. */
static gboolean
resolve_user (const char  *user,
              ChildSetup  *setup,
              GError     **error)
{
  g_auto(GStrv) parts = NULL;
  guint64 number;

  setup->switch_user = FALSE;
  if (user == NULL || *user == '\0' || geteuid () != 0)
    return TRUE;

  parts = g_strsplit (user, ":", 2);
  if (g_ascii_string_to_unsigned (parts[0], 10, 0, G_MAXINT32, &number, NULL))
    {
      struct passwd *entry = getpwuid ((uid_t) number);

      setup->uid = (uid_t) number;
      setup->gid = entry != NULL ? entry->pw_gid : (gid_t) number;
    }
  else
    {
      struct passwd *entry = getpwnam (parts[0]);

      if (entry == NULL)
        {
          g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_CONTAINER_FAILED,
                       "unable to find user %s: no matching entries in passwd file", parts[0]);
          return FALSE;
        }
      setup->uid = entry->pw_uid;
      setup->gid = entry->pw_gid;
    }
  if (parts[1] != NULL)
    {
      struct group *entry = getgrnam (parts[1]);

      if (g_ascii_string_to_unsigned (parts[1], 10, 0, G_MAXINT32, &number, NULL))
        setup->gid = (gid_t) number;
      else if (entry != NULL)
        setup->gid = entry->gr_gid;
      else
        {
          g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_CONTAINER_FAILED,
                       "unable to find group %s: no matching entries in group file", parts[1]);
          return FALSE;
        }
    }
  setup->switch_user = TRUE;
  return TRUE;
}

/* The environment of a command: later entries win, as in an engine. */
static char **
build_env (const FakeSandbox *sandbox,
           char * const      *request_env)
{
  g_autoptr(GPtrArray) entries = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GString) labels = g_string_new ("\n");
  char * const *sources[] = { sandbox->env, request_env };

  g_ptr_array_add (entries, g_strdup ("PATH=" SEARCH_PATH));
  g_ptr_array_add (entries, g_strdup_printf ("HOME=%s/home", sandbox->root));
  for (gsize s = 0; s < G_N_ELEMENTS (sources); s++)
    for (char * const *e = sources[s]; e != NULL && *e != NULL; e++)
      {
        const char *eq = strchr (*e, '=');
        gsize name_len = eq != NULL ? (gsize) (eq - *e) + 1 : strlen (*e);

        for (guint i = 0; i < entries->len; i++)
          if (strncmp (g_ptr_array_index (entries, i), *e, name_len) == 0)
            {
              g_ptr_array_remove_index (entries, i);
              break;
            }
        g_ptr_array_add (entries, g_strdup (*e));
      }
  for (char **l = sandbox->labels; *l != NULL; l++)
    g_string_append_printf (labels, "%s\n", *l);
  g_ptr_array_add (entries, g_strdup_printf (SANDBOX_VARIABLE "=%s", sandbox->id));
  g_ptr_array_add (entries, g_strdup_printf (LABELS_VARIABLE "=%s", labels->str));
  g_ptr_array_add (entries, NULL);
  return (char **) g_ptr_array_free (g_steal_pointer (&entries), FALSE);
}

/* A command the runtime could not start is an error carrying its reason,
 * as the backend contract says (LLMSBX_ERROR_COMMAND_NOT_STARTED). */
static gboolean
not_started (const GError  *spawn_error,
             const char    *program,
             GError       **error)
{
  if (g_error_matches (spawn_error, G_SPAWN_ERROR, G_SPAWN_ERROR_NOENT))
    g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_COMMAND_NOT_STARTED,
                 "The fake backend could not start the command in the sandbox: "
                 "exec: \"%s\": executable file not found in $PATH", program);
  else
    g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_COMMAND_NOT_STARTED,
                 "The fake backend could not start the command in the sandbox: %s", spawn_error->message);
  return FALSE;
}

static void
abandon (FakeSandbox *sandbox,
         GPid         pid,
         const int    fds[3])
{
  Abandoned abandoned = { pid, { fds[0], fds[1], fds[2] } };

  g_mutex_lock (&sandbox->lock);
  g_array_append_val (sandbox->abandoned, abandoned);
  g_mutex_unlock (&sandbox->lock);
}

/* The command's stdin: @data in a memfd, or -1 for /dev/null. */
static int
stdin_fd (GBytes *data)
{
  gsize size = 0;
  const guint8 *bytes = data != NULL ? g_bytes_get_data (data, &size) : NULL;
  int fd;

  if (data == NULL)
    return -1;
  fd = memfd_create ("llmsbx-fake-stdin", MFD_CLOEXEC);
  g_assert_cmpint (fd, >=, 0);
  for (gsize written = 0; written < size; )
    {
      gssize n = write (fd, bytes + written, size - written);

      g_assert_cmpint (n, >, 0);
      written += n;
    }
  g_assert_cmpint (lseek (fd, 0, SEEK_SET), ==, 0);
  return fd;
}

static gboolean
llmsbx_fake_backend_exec (LlmsbxBackend          *backend,
                          const char             *sandbox_id,
                          LlmsbxExecRequest      *request,
                          LlmsbxOutputCollector  *output,
                          int                    *exit_status,
                          GCancellable           *cancellable,
                          GError                **error)
{
  LlmsbxFakeBackend *self = LLMSBX_FAKE_BACKEND (backend);
  g_autoptr(FakeSandbox) sandbox = lookup_sandbox (sandbox_id, error);
  g_autoptr(GPtrArray) argv = NULL;
  g_autoptr(GError) spawn_error = NULL;
  g_auto(GStrv) env = NULL;
  g_autofree char *cwd = NULL;
  g_autofree guint8 *buffer = NULL;
  ChildSetup setup;
  GPollFD cancel_fd = { -1, 0, 0 };
  gboolean have_cancel_fd;
  int fds[3] = { -1, -1, -1 };
  int input = -1;
  gboolean spawned;
  GPid pid;
  int status = 0;
  gboolean exited = FALSE;

  if (sandbox == NULL)
    return FALSE;
  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return FALSE;
  if (must_fail (self, LLMSBX_FAKE_FAULT_EXEC))
    {
      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_CONTAINER_FAILED,
                   "Could not run %s in sandbox %s: the fake backend was told to fail", request->argv[0], sandbox_id);
      return FALSE;
    }
  if (!resolve_user (request->user, &setup, error))
    return FALSE;

  argv = g_ptr_array_new_with_free_func (g_free);
  for (char **a = request->argv; *a != NULL; a++)
    g_ptr_array_add (argv, map_text (sandbox, *a));
  g_ptr_array_add (argv, NULL);
  env = build_env (sandbox, request->env);
  cwd = map_text (sandbox, request->workdir != NULL ? request->workdir : sandbox->workdir);

  input = stdin_fd (request->stdin_data);
  spawned = g_spawn_async_with_pipes_and_fds (cwd, (const char * const *) argv->pdata, (const char * const *) env,
                                              G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_SEARCH_PATH_FROM_ENVP |
                                              (input < 0 ? G_SPAWN_STDIN_FROM_DEV_NULL : 0) | G_SPAWN_CLOEXEC_PIPES,
                                              child_setup, &setup, input, -1, -1, NULL, NULL, 0,
                                              &pid, NULL, &fds[0], &fds[1], &spawn_error);
  if (input >= 0)
    close (input);
  if (!spawned)
    return not_started (spawn_error, request->argv[0], error);

  /* Without pidfds (valgrind has none) the exit is polled for. */
  fds[2] = (int) syscall (SYS_pidfd_open, pid, 0);

  if (must_fail (self, LLMSBX_FAKE_FAULT_DEADLINE))
    {
      abandon (sandbox, pid, fds);
      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_TIMEOUT, "The command did not finish before its deadline");
      return FALSE;
    }

  have_cancel_fd = g_cancellable_make_pollfd (cancellable, &cancel_fd);
  buffer = g_malloc (READ_CHUNK);
  for (;;)
    {
      struct pollfd polled[4];
      nfds_t n = 0;
      int timeout = -1;
      int out_index = -1, err_index = -1, pid_index = -1;

      if (fds[0] >= 0)
        polled[out_index = n++] = (struct pollfd) { fds[0], POLLIN, 0 };
      if (fds[1] >= 0)
        polled[err_index = n++] = (struct pollfd) { fds[1], POLLIN, 0 };
      /* The exit counts once all output was read: the engine's order too. */
      if (fds[0] < 0 && fds[1] < 0 && fds[2] >= 0)
        polled[pid_index = n++] = (struct pollfd) { fds[2], POLLIN, 0 };
      if (have_cancel_fd)
        polled[n++] = (struct pollfd) { cancel_fd.fd, POLLIN, 0 };

      if (request->deadline > 0)
        {
          gint64 remaining = request->deadline - g_get_monotonic_time ();

          timeout = remaining <= 0 ? 0 : (int) MIN ((remaining + 999) / 1000, G_MAXINT);
        }
      if (fds[0] < 0 && fds[1] < 0 && fds[2] < 0)
        {
          if (waitpid (pid, &status, WNOHANG) == pid)
            {
              exited = TRUE;
              break;
            }
          timeout = timeout < 0 ? 10 : MIN (timeout, 10);
        }

      if (poll (polled, n, timeout) < 0)
        {
          if (errno == EINTR)
            continue;
          g_error ("poll: %s", g_strerror (errno));
        }

      if (g_cancellable_is_cancelled (cancellable))
        {
          abandon (sandbox, pid, fds);
          if (have_cancel_fd)
            g_cancellable_release_fd (cancellable);
          return !g_cancellable_set_error_if_cancelled (cancellable, error);
        }
      if (request->deadline > 0 && g_get_monotonic_time () >= request->deadline)
        {
          abandon (sandbox, pid, fds);
          if (have_cancel_fd)
            g_cancellable_release_fd (cancellable);
          g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_TIMEOUT, "The command did not finish before its deadline");
          return FALSE;
        }

      for (int i = 0; i < 2; i++)
        {
          int index = i == 0 ? out_index : err_index;
          gssize got;

          if (index < 0 || polled[index].revents == 0)
            continue;
          got = read (fds[i], buffer, READ_CHUNK);
          if (got > 0)
            llmsbx_output_collector_append (output, i == 0 ? LLMSBX_OUTPUT_STREAM_STDOUT : LLMSBX_OUTPUT_STREAM_STDERR,
                                            buffer, got);
          else if (got == 0 || errno != EINTR)
            {
              close (fds[i]);
              fds[i] = -1;
            }
        }
      if (pid_index >= 0 && polled[pid_index].revents != 0)
        break;
    }

  if (have_cancel_fd)
    g_cancellable_release_fd (cancellable);
  if (fds[2] >= 0)
    close (fds[2]);
  while (!exited && waitpid (pid, &status, 0) < 0 && errno == EINTR)
    ;
  *exit_status = WIFSIGNALED (status) ? 128 + WTERMSIG (status) : WEXITSTATUS (status);
  return TRUE;
}

/* Exec streams ---------------------------------------------------------- */

/* A command with pipes to each of its standard streams. Output that arrives
 * while input is written is queued, as an engine's connection keeps it. */
typedef struct {
  LlmsbxExecStream  parent_instance;
  FakeSandbox      *sandbox;
  GPid              pid;
  int               fds[4];   /* stdin, stdout, stderr, pidfd; -1 when closed */
  gint64            deadline;
  GQueue            chunks;   /* of GBytes */
  GQueue            streams;  /* the LlmsbxOutputStream of each chunk */
  gboolean          reaped;
  int               status;
} FakeExecStream;

typedef struct {
  LlmsbxExecStreamClass parent_class;
} FakeExecStreamClass;

G_DEFINE_FINAL_TYPE (FakeExecStream, fake_exec_stream, LLMSBX_TYPE_EXEC_STREAM)

/* Waits for @events on @fd (or output, queued, with @pull) until the
 * deadline or a cancellation. Returns FALSE with @error set for those. */
static gboolean
fake_stream_poll (FakeExecStream  *self,
                  int              fd,
                  short            events,
                  gboolean         pull,
                  GCancellable    *cancellable,
                  GError         **error)
{
  GPollFD cancel_fd = { -1, 0, 0 };
  gboolean have_cancel_fd = g_cancellable_make_pollfd (cancellable, &cancel_fd);
  struct pollfd polled[4];
  int out_index[2] = { -1, -1 };
  nfds_t n = 0;
  int timeout = -1;
  gboolean ok = TRUE;

  if (fd >= 0)
    polled[n++] = (struct pollfd) { fd, events, 0 };
  for (int i = 0; pull && i < 2; i++)
    if (self->fds[1 + i] >= 0 && self->fds[1 + i] != fd)
      polled[out_index[i] = n++] = (struct pollfd) { self->fds[1 + i], POLLIN, 0 };
  if (have_cancel_fd)
    polled[n++] = (struct pollfd) { cancel_fd.fd, POLLIN, 0 };
  if (self->deadline > 0)
    {
      gint64 remaining = self->deadline - g_get_monotonic_time ();

      timeout = remaining <= 0 ? 0 : (int) MIN ((remaining + 999) / 1000, G_MAXINT);
    }
  while (poll (polled, n, timeout) < 0 && errno == EINTR)
    ;
  if (have_cancel_fd)
    g_cancellable_release_fd (cancellable);
  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return FALSE;
  if (self->deadline > 0 && g_get_monotonic_time () >= self->deadline)
    {
      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_TIMEOUT, "The command did not finish before its deadline");
      return FALSE;
    }
  for (int i = 0; ok && i < 2; i++)
    if (out_index[i] >= 0 && polled[out_index[i]].revents != 0)
      {
        guint8 buffer[READ_CHUNK];
        gssize got = read (self->fds[1 + i], buffer, sizeof buffer);

        if (got > 0)
          {
            g_queue_push_tail (&self->chunks, g_bytes_new (buffer, got));
            g_queue_push_tail (&self->streams, GINT_TO_POINTER (i == 0 ? LLMSBX_OUTPUT_STREAM_STDOUT
                                                                       : LLMSBX_OUTPUT_STREAM_STDERR));
          }
        else if (got == 0 || errno != EINTR)
          {
            close (self->fds[1 + i]);
            self->fds[1 + i] = -1;
          }
      }
  return ok;
}

/* A command that exited closes its stdin: the write fails with EPIPE
 * instead of raising SIGPIPE in the test program. */
static gssize
write_no_sigpipe (int           fd,
                  const guint8 *data,
                  gsize         length)
{
  sigset_t pipe_set, old;
  gssize n;
  int saved;

  sigemptyset (&pipe_set);
  sigaddset (&pipe_set, SIGPIPE);
  pthread_sigmask (SIG_BLOCK, &pipe_set, &old);
  n = write (fd, data, length);
  saved = errno;
  if (n < 0 && saved == EPIPE)
    {
      struct timespec zero = { 0, 0 };

      sigtimedwait (&pipe_set, NULL, &zero);
    }
  pthread_sigmask (SIG_SETMASK, &old, NULL);
  errno = saved;
  return n;
}

static gboolean
fake_exec_stream_write_input (LlmsbxExecStream  *stream,
                              const guint8      *data,
                              gsize              length,
                              GCancellable      *cancellable,
                              GError           **error)
{
  FakeExecStream *self = (FakeExecStream *) stream;

  while (length > 0)
    {
      gssize n = write_no_sigpipe (self->fds[0], data, length);

      if (n > 0)
        {
          data += n;
          length -= n;
          continue;
        }
      if (n < 0 && errno == EPIPE)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_BROKEN_PIPE,
                       "The command closed its standard input");
          return FALSE;
        }
      if (n < 0 && errno != EAGAIN && errno != EINTR)
        g_error ("write: %s", g_strerror (errno));
      if (!fake_stream_poll (self, self->fds[0], POLLOUT, TRUE, cancellable, error))
        return FALSE;
    }
  return TRUE;
}

static gboolean
fake_exec_stream_close_stdin (LlmsbxExecStream  *stream,
                              GCancellable      *cancellable,
                              GError           **error)
{
  FakeExecStream *self = (FakeExecStream *) stream;

  close (self->fds[0]);
  self->fds[0] = -1;
  return TRUE;
}

static GBytes *
fake_exec_stream_read_output (LlmsbxExecStream    *stream,
                              LlmsbxOutputStream  *which,
                              GCancellable        *cancellable,
                              GError             **error)
{
  FakeExecStream *self = (FakeExecStream *) stream;

  while (g_queue_is_empty (&self->chunks) && (self->fds[1] >= 0 || self->fds[2] >= 0))
    if (!fake_stream_poll (self, -1, 0, TRUE, cancellable, error))
      return NULL;
  if (g_queue_is_empty (&self->chunks))
    return NULL;
  *which = GPOINTER_TO_INT (g_queue_pop_head (&self->streams));
  return g_queue_pop_head (&self->chunks);
}

static gboolean
fake_exec_stream_wait (LlmsbxExecStream  *stream,
                       int               *exit_status,
                       GCancellable      *cancellable,
                       GError           **error)
{
  FakeExecStream *self = (FakeExecStream *) stream;

  while (!self->reaped)
    {
      pid_t got = waitpid (self->pid, &self->status, WNOHANG);

      if (got == self->pid)
        {
          self->reaped = TRUE;
          break;
        }
      /* Without pidfds (valgrind has none) the exit is polled for. */
      if (self->fds[3] >= 0)
        {
          if (!fake_stream_poll (self, self->fds[3], POLLIN, FALSE, cancellable, error))
            return FALSE;
        }
      else
        {
          g_usleep (10 * 1000);
          if (g_cancellable_set_error_if_cancelled (cancellable, error))
            return FALSE;
        }
    }
  *exit_status = WIFSIGNALED (self->status) ? 128 + WTERMSIG (self->status) : WEXITSTATUS (self->status);
  return TRUE;
}

/* A command not reaped yet is the sandbox's to end when it goes. */
static void
fake_exec_stream_release (LlmsbxExecStream *stream)
{
  FakeExecStream *self = (FakeExecStream *) stream;
  int none[3] = { -1, -1, -1 };

  for (guint i = 0; i < G_N_ELEMENTS (self->fds); i++)
    if (self->fds[i] >= 0)
      {
        close (self->fds[i]);
        self->fds[i] = -1;
      }
  if (!self->reaped && waitpid (self->pid, &self->status, WNOHANG) != self->pid)
    abandon (self->sandbox, self->pid, none);
  self->reaped = TRUE;
}

static void
fake_exec_stream_finalize (GObject *object)
{
  FakeExecStream *self = (FakeExecStream *) object;

  g_queue_clear_full (&self->chunks, (GDestroyNotify) g_bytes_unref);
  g_queue_clear (&self->streams);
  g_clear_pointer (&self->sandbox, fake_sandbox_release);
  G_OBJECT_CLASS (fake_exec_stream_parent_class)->finalize (object);
}

static void
fake_exec_stream_class_init (FakeExecStreamClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  LlmsbxExecStreamClass *stream_class = LLMSBX_EXEC_STREAM_CLASS (klass);

  object_class->finalize = fake_exec_stream_finalize;
  stream_class->write_input = fake_exec_stream_write_input;
  stream_class->close_stdin = fake_exec_stream_close_stdin;
  stream_class->read_output = fake_exec_stream_read_output;
  stream_class->wait = fake_exec_stream_wait;
  stream_class->release = fake_exec_stream_release;
}

static void
fake_exec_stream_init (FakeExecStream *self)
{
  for (guint i = 0; i < G_N_ELEMENTS (self->fds); i++)
    self->fds[i] = -1;
  g_queue_init (&self->chunks);
  g_queue_init (&self->streams);
}

static LlmsbxExecStream *
llmsbx_fake_backend_open_exec_stream (LlmsbxBackend      *backend,
                                      const char         *sandbox_id,
                                      LlmsbxExecRequest  *request,
                                      GCancellable       *cancellable,
                                      GError            **error)
{
  LlmsbxFakeBackend *self = LLMSBX_FAKE_BACKEND (backend);
  g_autoptr(FakeSandbox) sandbox = lookup_sandbox (sandbox_id, error);
  g_autoptr(GPtrArray) argv = NULL;
  g_autoptr(GError) spawn_error = NULL;
  g_auto(GStrv) env = NULL;
  g_autofree char *cwd = NULL;
  FakeExecStream *stream;
  ChildSetup setup;
  int fds[3] = { -1, -1, -1 };
  GPid pid;

  if (sandbox == NULL)
    return NULL;
  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return NULL;
  if (must_fail (self, LLMSBX_FAKE_FAULT_EXEC))
    {
      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_CONTAINER_FAILED,
                   "Could not run %s in sandbox %s: the fake backend was told to fail", request->argv[0], sandbox_id);
      return NULL;
    }
  /* Its sandboxes are host directories, mapped in the text of each request:
   * the paths inside a resident runner's frames would be the host's. */
  if (g_str_has_suffix (request->argv[0], "/llmsbx-runner"))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                   "The fake backend's sandboxes have no file system of their own for a resident runner");
      return NULL;
    }
  if (!resolve_user (request->user, &setup, error))
    return NULL;

  argv = g_ptr_array_new_with_free_func (g_free);
  for (char **a = request->argv; *a != NULL; a++)
    g_ptr_array_add (argv, map_text (sandbox, *a));
  g_ptr_array_add (argv, NULL);
  env = build_env (sandbox, request->env);
  cwd = map_text (sandbox, request->workdir != NULL ? request->workdir : sandbox->workdir);

  if (!g_spawn_async_with_pipes_and_fds (cwd, (const char * const *) argv->pdata, (const char * const *) env,
                                         G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_SEARCH_PATH_FROM_ENVP |
                                         G_SPAWN_CLOEXEC_PIPES,
                                         child_setup, &setup, -1, -1, -1, NULL, NULL, 0,
                                         &pid, &fds[0], &fds[1], &fds[2], &spawn_error))
    {
      not_started (spawn_error, request->argv[0], error);
      return NULL;
    }

  stream = g_object_new (fake_exec_stream_get_type (), NULL);
  stream->sandbox = g_steal_pointer (&sandbox);
  stream->pid = pid;
  for (guint i = 0; i < 3; i++)
    {
      g_unix_set_fd_nonblocking (fds[i], TRUE, NULL);
      stream->fds[i] = fds[i];
    }
  stream->fds[3] = (int) syscall (SYS_pidfd_open, pid, 0);
  stream->deadline = request->deadline;
  return LLMSBX_EXEC_STREAM (stream);
}

/* The top entries of an archive go into @dest: what PUT archive does, with
 * the rules the bubblewrap backend's helper applies too. */
static gboolean
extract_into (GBytes      *archive,
              const char  *dest,
              GError     **error)
{
  struct archive *reader = archive_read_new ();
  gsize size;
  gconstpointer data = g_bytes_get_data (archive, &size);
  g_autofree char *message = NULL;
  LlmsbxTarUnpackStatus status;

  archive_read_support_format_tar (reader);
  if (archive_read_open_memory (reader, data, size) == ARCHIVE_OK)
    status = llmsbx_tar_unpack_into (reader, dest, &message);
  else
    {
      status = LLMSBX_TAR_UNPACK_FAILED;
      message = g_strdup (archive_error_string (reader));
    }
  archive_read_free (reader);
  switch (status)
    {
    case LLMSBX_TAR_UNPACK_OK:
      return TRUE;
    case LLMSBX_TAR_UNPACK_UNSAFE_NAME:
      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_PATH_TRAVERSAL, "%s", message);
      return FALSE;
    case LLMSBX_TAR_UNPACK_WOULD_REPLACE:
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_EXISTS, "%s", message);
      return FALSE;
    case LLMSBX_TAR_UNPACK_FAILED:
    default:
      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_PROTOCOL, "Cannot unpack the archive: %s",
                   message != NULL ? message : "unreadable");
      return FALSE;
    }
}

static gboolean
llmsbx_fake_backend_put_archive (LlmsbxBackend  *backend,
                                 const char     *sandbox_id,
                                 const char     *dest_dir,
                                 GBytes         *archive,
                                 GCancellable   *cancellable,
                                 GError        **error)
{
  LlmsbxFakeBackend *self = LLMSBX_FAKE_BACKEND (backend);
  g_autoptr(FakeSandbox) sandbox = lookup_sandbox (sandbox_id, error);
  g_autofree char *host_dir = NULL;

  if (sandbox == NULL)
    return FALSE;
  host_dir = map_text (sandbox, dest_dir);
  if (must_fail (self, LLMSBX_FAKE_FAULT_PUT_ARCHIVE) || !g_file_test (host_dir, G_FILE_TEST_IS_DIR))
    {
      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_FILE_NOT_FOUND,
                   "Directory %s does not exist in the sandbox", dest_dir);
      return FALSE;
    }
  return extract_into (archive, host_dir, error);
}

static GBytes *
llmsbx_fake_backend_get_archive (LlmsbxBackend  *backend,
                                 const char     *sandbox_id,
                                 const char     *path,
                                 GCancellable   *cancellable,
                                 GError        **error)
{
  g_autoptr(FakeSandbox) sandbox = lookup_sandbox (sandbox_id, error);
  g_autoptr(GError) local_error = NULL;
  g_autofree char *host_path = NULL;
  g_autofree char *name = NULL;
  GBytes *archive;

  if (sandbox == NULL)
    return NULL;
  host_path = map_text (sandbox, path);
  name = g_path_get_basename (path);
  archive = llmsbx_tar_pack_path (host_path, name, 0, &local_error);
  if (archive == NULL && g_error_matches (local_error, LLMSBX_ERROR, LLMSBX_ERROR_FILE_NOT_FOUND))
    g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_FILE_NOT_FOUND, "Could not find the file %s in the sandbox", path);
  else if (archive == NULL)
    g_propagate_error (error, g_steal_pointer (&local_error));
  return archive;
}

static gboolean
llmsbx_fake_backend_commit (LlmsbxBackend  *backend,
                            const char     *sandbox_id,
                            const char     *image,
                            GCancellable   *cancellable,
                            GError        **error)
{
  g_autoptr(FakeSandbox) sandbox = lookup_sandbox (sandbox_id, error);

  if (sandbox == NULL)
    return FALSE;
  llmsbx_fake_backend_add_image (image);
  return TRUE;
}

static gboolean
llmsbx_fake_backend_remove_sandbox (LlmsbxBackend  *backend,
                                    const char     *sandbox_id,
                                    GCancellable   *cancellable,
                                    GError        **error)
{
  LlmsbxFakeBackend *self = LLMSBX_FAKE_BACKEND (backend);
  g_autoptr(FakeSandbox) sandbox = NULL;
  g_autofree char *marker = NULL;

  if (must_fail (self, LLMSBX_FAKE_FAULT_REMOVE))
    {
      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_CONTAINER_FAILED,
                   "Could not remove sandbox %s: the fake backend was told to fail", sandbox_id);
      return FALSE;
    }

  g_mutex_lock (&store_lock);
  ensure_store ();
  if (g_hash_table_steal_extended (store_sandboxes, sandbox_id, NULL, (gpointer *) &sandbox) == FALSE)
    sandbox = NULL;
  g_mutex_unlock (&store_lock);
  /* Gone is removed. */
  if (sandbox == NULL)
    return TRUE;

  marker = g_strdup_printf (SANDBOX_VARIABLE "=%s", sandbox->id);
  kill_matching (marker, NULL);
  g_mutex_lock (&sandbox->lock);
  for (guint i = 0; i < sandbox->abandoned->len; i++)
    close_abandoned (&g_array_index (sandbox->abandoned, Abandoned, i));
  g_array_set_size (sandbox->abandoned, 0);
  g_mutex_unlock (&sandbox->lock);
  remove_tree (sandbox->root);
  return TRUE;
}

static GPtrArray *
llmsbx_fake_backend_list_sandboxes (LlmsbxBackend       *backend,
                                    const char * const  *label_selector,
                                    GCancellable        *cancellable,
                                    GError             **error)
{
  GPtrArray *found = g_ptr_array_new_with_free_func ((GDestroyNotify) llmsbx_sandbox_info_free);
  GHashTableIter iter;
  gpointer value;

  g_mutex_lock (&store_lock);
  ensure_store ();
  g_hash_table_iter_init (&iter, store_sandboxes);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      FakeSandbox *sandbox = value;
      g_autoptr(LlmsbxSandboxInfo) info =
        llmsbx_sandbox_info_new (sandbox->id, (const char * const *) sandbox->labels);

      if (llmsbx_sandbox_info_matches (info, label_selector))
        g_ptr_array_add (found, g_steal_pointer (&info));
    }
  g_mutex_unlock (&store_lock);
  return found;
}

static void
llmsbx_fake_backend_finalize (GObject *object)
{
  LlmsbxFakeBackend *self = LLMSBX_FAKE_BACKEND (object);

  g_mutex_clear (&self->lock);

  G_OBJECT_CLASS (llmsbx_fake_backend_parent_class)->finalize (object);
}

static void
llmsbx_fake_backend_class_init (LlmsbxFakeBackendClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  LlmsbxBackendClass *backend_class = LLMSBX_BACKEND_CLASS (klass);

  object_class->finalize = llmsbx_fake_backend_finalize;

  backend_class->ensure_image = llmsbx_fake_backend_ensure_image;
  backend_class->remove_image = llmsbx_fake_backend_remove_image;
  backend_class->create_sandbox = llmsbx_fake_backend_create_sandbox;
  backend_class->attach_sandbox = llmsbx_fake_backend_attach_sandbox;
  backend_class->exec = llmsbx_fake_backend_exec;
  backend_class->open_exec_stream = llmsbx_fake_backend_open_exec_stream;
  backend_class->put_archive = llmsbx_fake_backend_put_archive;
  backend_class->get_archive = llmsbx_fake_backend_get_archive;
  backend_class->commit = llmsbx_fake_backend_commit;
  backend_class->remove_sandbox = llmsbx_fake_backend_remove_sandbox;
  backend_class->probe = llmsbx_fake_backend_probe;
  backend_class->list_sandboxes = llmsbx_fake_backend_list_sandboxes;
}

static void
llmsbx_fake_backend_init (LlmsbxFakeBackend *self)
{
  g_mutex_init (&self->lock);
}

/**
 * llmsbx_fake_backend_new:
 *
 * Returns: (transfer full): a fake backend named `fake`, to give a session as
 *   its client when a test injects faults
 */
LlmsbxBackend *
llmsbx_fake_backend_new (void)
{
  return g_object_new (LLMSBX_TYPE_FAKE_BACKEND, "name", "fake", NULL);
}

/**
 * llmsbx_fake_backend_register:
 * @registry: a registry
 * @name: the name to register the fake backend under
 * @rank: its rank
 * @error: return location for a #GError
 *
 * Returns: %TRUE on success
 */
gboolean
llmsbx_fake_backend_register (LlmsbxRegistry  *registry,
                              const char      *name,
                              guint            rank,
                              GError         **error)
{
  if (rank == LLMSBX_RANK_NONE)
    return llmsbx_registry_register_backend (registry, name, LLMSBX_TYPE_FAKE_BACKEND, error);
  return llmsbx_registry_register_backend_full (registry, name, LLMSBX_TYPE_FAKE_BACKEND, rank, error);
}
