/* bubblewrap-test.h: what the backend tests check on the bubblewrap backend.
 *
 * The engines have CLIs to ask what exists; bubblewrap has its store on disk
 * (docs/backends.md): one directory per sandbox, with a key file `state`
 * (its labels, helper pid, cgroups) and the `events` log of the commands its
 * init started. These helpers read them with GLib alone, not through the
 * plugin under test, and also look for what a leftover would hold on to:
 * cgroup directories and processes naming the sandbox's directory. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* The store the plugin uses: $LLMSBX_BUBBLEWRAP_STORE, else root's or the user's. */
char     *bubblewrap_test_store          (void);

/* STORE/sandboxes/ID. */
char     *bubblewrap_test_sandbox_dir    (const char *id);

/* The state file of sandbox @id, or NULL when it has none. */
GKeyFile *bubblewrap_test_state          (const char *id);

/* The host pid of sandbox @id's first process (bwrap's reaper), from its
 * state file, as text; the sandbox must have one. */
char     *bubblewrap_test_init_pid       (const char *id);

/* "true" while sandbox @id's first process runs, "false" once it stopped
 * while its directory is left, "" when it is gone. */
char     *bubblewrap_test_running        (const char *id);

/* Points this process's bubblewrap backends (and its children's) at a store
 * of its own that shares the images of the current one: its sandboxes, and
 * which of them a reaper sees, are then its own alone. Call before any
 * backend is made. */
void      bubblewrap_test_private_store  (void);

/* Removes the sandboxes carrying @label from the private store of this
 * run, if there is one, and the store. */
void      bubblewrap_test_reap_private_store (const char *label);

/* Sandboxes matching a `docker ps --filter` (id=PREFIX or label=K[=V]), one
 * per line, "" for none. A directory without a state file matches by id. */
char     *bubblewrap_test_ps             (const char *filter);

/* Processes whose command line names @needle, as "pid: cmdline" lines. */
char     *bubblewrap_test_processes      (const char *needle);

/* Every host process of sandbox @id while it runs, as "PID:START" (START
 * the start time in clock ticks, so that a reused pid is not mistaken for
 * it): its monitor, the bwrap that made its namespaces, and each process in
 * its pid namespace (bwrap's reaper, the init, what commands left running). */
GStrv     bubblewrap_test_sandbox_processes (const char *id);

/* Which of @processes (as bubblewrap_test_sandbox_processes() gives them)
 * still run, as a space-separated list, "" for none. */
char     *bubblewrap_test_still_running  (const char * const *processes);

/* Waits up to 5 s for @processes to end; what still runs then, "" for none. */
char     *bubblewrap_test_wait_ended     (const char * const *processes);

/* Cgroup directories named like sandbox @id, in either hierarchy. */
char     *bubblewrap_test_cgroups        (const char *id);

/* Nothing of sandbox @id is left: no directory, no cgroup, no process. */
void      bubblewrap_test_assert_gone    (const char *id);

/* Removes a leftover sandbox: its helper tears it down when told to
 * (SIGTERM); when it has none any more, what it left goes here. */
void      bubblewrap_test_remove         (const char *id);

/* The id of the image @reference names in the store, or NULL. */
char     *bubblewrap_test_image_id       (const char *reference);

/* Whether the store holds image @id. */
gboolean  bubblewrap_test_image_exists   (const char *id);

/* Removes the store's images that carry @label (commits keep the labels of
 * their sandbox), tagged or not, and the tags that name them. */
void      bubblewrap_test_remove_images  (const char *label);

/* Commands the init of sandbox @id started between two real times
 * (seconds, as "S.UUUUUU"), from its event log. */
guint     bubblewrap_test_exec_events    (const char *id,
                                          const char *since,
                                          const char *until);

G_END_DECLS
