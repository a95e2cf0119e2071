/* test-runner-container.c: the static llmsbx-runner in real containers of
 * the language images, uploaded with the engine's archive API (`cp`, as a
 * session would upload it to an image without it) and driven over
 * `exec -i`'s stdin and stdout, for Docker and Podman (LLMSBX_TEST_ENGINE).
 *
 * The containers carry the managed-by label, and are removed by the test. */
#include "config.h"

#include "runner-test.h"

#define RUNNER_IN_SANDBOX "/opt/llmsbx-test/llmsbx-runner"

static const char *
engine (void)
{
  const char *name = g_getenv ("LLMSBX_TEST_ENGINE");

  return name != NULL ? name : "docker";
}

/* The shared language image (used, never changed). */
static char *
image (const char *lang)
{
  if (g_str_equal (engine (), "podman"))
    return g_strdup_printf ("localhost/llmsbx/%s:bookworm", lang);
  return g_strdup_printf ("llmsbx/%s:bookworm", lang);
}

/* Where the engine's CLI runs: Podman's conmon leaves a file named "oom"
 * in the working directory of `podman run` when the container is OOM-killed,
 * so that is a scratch directory the test removes. */
static char *scratch;

/* Runs the engine's CLI; returns its stdout, stripped. */
static char *
cli (const char * const *args)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr(GError) error = NULL;
  int status = 0;

  g_ptr_array_add (argv, (gpointer) engine ());
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer) args[i]);
  g_ptr_array_add (argv, NULL);
  g_spawn_sync (scratch, (char **) argv->pdata, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, &err, &status, &error);
  g_assert_no_error (error);
  if (!g_spawn_check_wait_status (status, NULL))
    g_error ("%s %s failed: %s", engine (), args[0], err);
  return g_strstrip (g_steal_pointer (&out));
}

typedef struct {
  char       *container;
  RunnerTest *test;
  const char *dir;         /* where code files go: writable by the user */
} Sandbox;

/* A container of @lang's image with the runner uploaded into it, and the
 * runner started in it (as @user, or the image's user). */
static Sandbox *
sandbox_open_full (const char *lang,
                   const char *user,
                   const char *memory)
{
  g_autofree char *name = image (lang);
  const char *limited[] = { "run", "-d", "--label", "io.llmsbx.managed-by=libllmsbx",
                            "--label", "io.llmsbx.test=runner-container", "--network", "none",
                            "--memory", memory, "--memory-swap", memory, name, "sleep", "infinity", NULL };
  const char *unlimited[] = { "run", "-d", "--label", "io.llmsbx.managed-by=libllmsbx",
                              "--label", "io.llmsbx.test=runner-container", "--network", "none",
                              name, "sleep", "infinity", NULL };
  const char * const *run = memory != NULL ? limited : unlimited;
  g_autofree char *dir = g_dir_make_tmp ("runner-upload-XXXXXX", NULL);
  g_autofree char *stage = g_build_filename (dir, "llmsbx-test", NULL);
  g_autofree char *source = g_build_filename (dir, "llmsbx-test", ".", NULL);
  g_autofree char *target = NULL;
  g_autofree char *copy = NULL;
  g_autofree char *rm = NULL;
  Sandbox *sandbox = g_new0 (Sandbox, 1);
  const char *cp[] = { "cp", NULL, NULL, NULL };

  sandbox->dir = user != NULL ? "/tmp" : "/sandbox";
  /* The build's runner and adapter, as an image would hold them. */
  g_assert_cmpint (g_mkdir (stage, 0755), ==, 0);
  copy = g_strdup_printf ("cp '%s' '%s/llmsbx_runner_python.py' '%s/llmsbx_runner_node.js' '%s'", RUNNER_PATH,
                          LLMSBX_RUNNER_DIR, LLMSBX_RUNNER_DIR, stage);
  g_assert_true (g_spawn_command_line_sync (copy, NULL, NULL, NULL, NULL));

  sandbox->container = cli (run);
  target = g_strdup_printf ("%s:/opt/llmsbx-test", sandbox->container);
  cp[1] = source;
  cp[2] = target;
  g_free (cli (cp));
  rm = g_strdup_printf ("rm -r '%s'", dir);
  g_assert_true (g_spawn_command_line_sync (rm, NULL, NULL, NULL, NULL));

  {
    const char *exec_root[] = { engine (), "exec", "-i", sandbox->container, RUNNER_IN_SANDBOX, NULL };
    const char *exec_user[] = { engine (), "exec", "-i", "-u", user, sandbox->container, RUNNER_IN_SANDBOX, NULL };

    sandbox->test = runner_test_spawn_argv (user ? exec_user : exec_root, NULL, TRUE);
  }
  return sandbox;
}

static Sandbox *
sandbox_open (const char *lang,
              const char *user)
{
  return sandbox_open_full (lang, user, NULL);
}

/* `rm -f` at once: Podman would first wait 10 s for `sleep infinity` (as
 * PID 1 it ignores SIGTERM) unless told not to. */
static void
remove_container (const char *id)
{
  const char *docker_rm[] = { "rm", "-f", id, NULL };
  const char *podman_rm[] = { "rm", "-f", "--time", "0", id, NULL };

  g_free (cli (g_str_equal (engine (), "podman") ? podman_rm : docker_rm));
}

static void
sandbox_close (Sandbox *sandbox)
{
  const char *left[] = { "ps", "-aq", "--filter", NULL, NULL };
  g_autofree char *filter = g_strdup_printf ("id=%s", sandbox->container);
  g_autofree char *remaining = NULL;

  runner_test_free (sandbox->test);
  remove_container (sandbox->container);
  left[3] = filter;
  remaining = cli (left);
  g_assert_cmpstr (remaining, ==, "");
  g_free (sandbox->container);
  g_free (sandbox);
}

static char *
python (Sandbox            *sandbox,
        const char         *code,
        gboolean            stateful,
        LlmsbxRunnerResult *result)
{
  g_autoptr(LlmsbxRunnerRequest) request = runner_test_python_request (sandbox->dir, code, "python", stateful);
  g_autoptr(GError) error = NULL;
  char *out;

  g_free (request->argv[0]);
  request->argv[0] = g_strdup ("python3");
  llmsbx_runner_result_clear (result);
  out = runner_test_run_request (sandbox->test, request, result, NULL, &error);
  g_assert_no_error (error);
  return out;
}

/* What runs in the image: exec, the adapter, interactive state, timeouts. */
static void
test_python_image (void)
{
  Sandbox *sandbox = sandbox_open ("python", NULL);
  g_auto(LlmsbxRunnerResult) result = { 0 };
  g_autofree char *out = runner_test_sh (sandbox->test, "echo \"in $(pwd) as $(id -u)\"; exit 3", &result, NULL);
  g_autofree char *hello = NULL;
  g_autofree char *cell = NULL;
  g_autofree char *mark = g_strdup_printf ("1000.%u", g_random_int_range (100000, 999999));
  g_autofree char *bomb = NULL;
  g_autofree char *left = NULL;
  g_autofree char *script = NULL;
  gint64 started;

  g_assert_cmpstr (out, ==, "in /sandbox as 0\n");
  g_assert_cmpint (result.exit_code, ==, 3);
  g_assert_true (llmsbx_resident_runner_get_features (sandbox->test->runner) & LLMSBX_RUNNER_FEATURE_SUBREAPER);

  hello = python (sandbox, "import sys, os\nprint(__name__, os.environ['PYTHONUNBUFFERED'])\nsys.exit(4)", FALSE, &result);
  g_assert_cmpstr (hello, ==, "__main__ 1\n");
  g_assert_cmpint (result.exit_code, ==, 4);

  /* The check, in the image. */
  g_free (python (sandbox, "x = 41", TRUE, &result));
  cell = python (sandbox, "print(x + 1)", TRUE, &result);
  g_assert_cmpstr (cell, ==, "42\n");
  g_clear_pointer (&cell, g_free);
  cell = python (sandbox, "print(x + 1)", FALSE, &result);
  g_assert_cmpint (result.exit_code, ==, 1);

  /* Warm runs, for the record (bench/ measures them properly). */
  started = g_get_monotonic_time ();
  for (int i = 0; i < 10; i++)
    g_free (python (sandbox, "print(1)", FALSE, &result));
  g_test_message ("%s: warm stateless run through exec -i: %.1f ms", engine (),
                  (g_get_monotonic_time () - started) / 10 / 1000.0);

  /* A timeout kills what the code started, setsid'd or not. */
  bomb = g_strdup_printf ("import subprocess\nsubprocess.Popen(['sh', '-c', 'setsid sleep %s &'])\n"
                          "subprocess.Popen(['sleep', '%s'])\nwhile True:\n    pass\n", mark, mark);
  {
    g_autoptr(LlmsbxRunnerRequest) request = runner_test_python_request ("/sandbox", bomb, "python", FALSE);
    g_autoptr(GError) error = NULL;

    g_free (request->argv[0]);
    request->argv[0] = g_strdup ("python3");
    request->timeout = 1;
    llmsbx_runner_result_clear (&result);
    g_free (runner_test_run_request (sandbox->test, request, &result, NULL, &error));
    g_assert_no_error (error);
    g_assert_true (result.timed_out);
  }
  script = g_strdup_printf ("for d in /proc/[0-9]*; do tr '\\0' ' ' < $d/cmdline 2>/dev/null; echo; done | grep -c '^sleep %s' || true",
                            mark);
  llmsbx_runner_result_clear (&result);
  left = runner_test_sh (sandbox->test, script, &result, NULL);
  g_assert_cmpstr (left, ==, "0\n");

  sandbox_close (sandbox);
}

/* Under a memory limit the kernel's OOM kill is recognised (the memory
 * cgroup's count rose), and a SIGKILL from anyone else is not taken for one. */
static void
test_out_of_memory (void)
{
  Sandbox *sandbox = sandbox_open_full ("python", NULL, "64m");
  g_auto(LlmsbxRunnerResult) result = { 0 };
  g_autofree char *after = NULL;

  g_free (python (sandbox, "chunks = []\nwhile True:\n    chunks.append(b'x' * (1 << 20))\n", FALSE, &result));
  g_assert_cmpint (result.exit_code, ==, 137);
  g_assert_true (result.oom_killed);
  g_free (python (sandbox, "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)", FALSE, &result));
  g_assert_cmpint (result.exit_code, ==, 137);
  g_assert_false (result.oom_killed);
  after = python (sandbox, "print('still here')", FALSE, &result);
  g_assert_cmpstr (after, ==, "still here\n");
  sandbox_close (sandbox);
}

/* An unprivileged user, as the strict presets run code. */
static void
test_unprivileged (void)
{
  Sandbox *sandbox = sandbox_open ("python", "65534:65534");
  g_auto(LlmsbxRunnerResult) result = { 0 };
  g_autofree char *who = python (sandbox, "import os\nprint(os.getuid())", FALSE, &result);
  g_autofree char *cell = NULL;

  g_assert_cmpstr (who, ==, "65534\n");
  g_free (python (sandbox, "y = 'kept'", TRUE, &result));
  cell = python (sandbox, "y", TRUE, &result);
  g_assert_cmpstr (cell, ==, "'kept'\n");
  sandbox_close (sandbox);
}

/* Another image: programs run through the runner there too, JavaScript
 * cells keep their state in the Node.js kernel, and an adapter whose
 * interpreter is missing fails clearly with the runner still usable. */
static void
test_javascript_image (void)
{
  Sandbox *sandbox = sandbox_open ("javascript", NULL);
  g_auto(LlmsbxRunnerResult) result = { 0 };
  g_autofree char *out = runner_test_sh (sandbox->test, "node -e 'console.log(6 * 7); process.exit(2)'", &result, NULL);
  g_autoptr(LlmsbxRunnerRequest) request = runner_test_python_request ("/sandbox", "print(1)", "python", FALSE);
  g_autoptr(LlmsbxOutputCollector) output = llmsbx_output_collector_new (0);
  g_autoptr(GError) error = NULL;

  g_assert_cmpstr (out, ==, "42\n");
  g_assert_cmpint (result.exit_code, ==, 2);

  for (guint i = 0; i < 2; i++)
    {
      static const char * const cells[] = { "let x = 41", "console.log(x + 1)" };
      g_autofree char *file = g_strdup_printf ("/sandbox/cell-%u.js", i);
      const char *argv[] = { "node", file, NULL };
      g_autoptr(LlmsbxRunnerRequest) cell = llmsbx_runner_request_new (argv);
      g_autoptr(GBytes) code = g_bytes_new_static (cells[i], strlen (cells[i]));
      g_autofree char *said = NULL;

      llmsbx_runner_request_add_file (cell, file, code, 0644);
      cell->adapter = g_strdup ("node");
      cell->stateful = TRUE;
      cell->workdir = g_strdup ("/sandbox");
      cell->timeout = 60;
      llmsbx_runner_result_clear (&result);
      said = runner_test_run_request (sandbox->test, cell, &result, NULL, &error);
      g_assert_no_error (error);
      g_assert_cmpint (result.exit_code, ==, 0);
      g_assert_cmpstr (said, ==, i == 0 ? "" : "42\n");
    }

  g_free (request->argv[0]);
  request->argv[0] = g_strdup ("no-such-python3");
  llmsbx_runner_result_clear (&result);
  g_assert_false (llmsbx_resident_runner_run (sandbox->test->runner, request, output, -1, &result, NULL, &error));
  g_assert_error (error, LLMSBX_RUNNER_ERROR, LLMSBX_RUNNER_ERROR_ADAPTER);
  g_assert_true (llmsbx_resident_runner_is_usable (sandbox->test->runner));
  sandbox_close (sandbox);
}

/* An image without the runner: the client says what the engine said. */
static void
test_runner_missing (void)
{
  g_autofree char *name = image ("python");
  const char *run[] = { "run", "-d", "--label", "io.llmsbx.managed-by=libllmsbx",
                        "--label", "io.llmsbx.test=runner-container", "--network", "none",
                        name, "sleep", "infinity", NULL };
  g_autofree char *container = cli (run);
  const char *exec[] = { engine (), "exec", "-i", container, RUNNER_IN_SANDBOX, NULL };
  RunnerTest *test = runner_test_spawn_argv (exec, NULL, FALSE);
  g_autoptr(GError) error = NULL;

  g_assert_false (llmsbx_resident_runner_start (test->runner, g_get_monotonic_time () + 60 * G_USEC_PER_SEC,
                                                NULL, &error));
  g_test_message ("%s", error->message);
  g_assert_true (g_error_matches (error, LLMSBX_RUNNER_ERROR, LLMSBX_RUNNER_ERROR_NOT_A_RUNNER) ||
                 g_error_matches (error, LLMSBX_RUNNER_ERROR, LLMSBX_RUNNER_ERROR_DIED));
  g_assert_true (llmsbx_resident_runner_error_is_fatal (error));
  runner_test_free_dead (test);
  remove_container (container);
}

int
main (int argc, char **argv)
{
  g_autofree char *cleanup = NULL;
  int status;

  g_test_init (&argc, &argv, NULL);
  scratch = g_dir_make_tmp ("runner-container-XXXXXX", NULL);
  g_assert_nonnull (scratch);

  g_test_add_func ("/runner-container/python-image", test_python_image);
  g_test_add_func ("/runner-container/unprivileged", test_unprivileged);
  g_test_add_func ("/runner-container/out-of-memory", test_out_of_memory);
  g_test_add_func ("/runner-container/javascript-image", test_javascript_image);
  g_test_add_func ("/runner-container/runner-missing", test_runner_missing);

  status = g_test_run ();
  cleanup = g_strdup_printf ("rm -rf '%s'", scratch);
  g_spawn_command_line_sync (cleanup, NULL, NULL, NULL, NULL);
  g_free (scratch);
  return status;
}
