/* test-artifacts.c: plots come back with the run, on every backend.
 *
 * An LlmsbxArtifactSandboxSession runs the code with its language's plot
 * capture and fetches the run's directory once the code has ended: Python's
 * matplotlib (show, savefig, figures left open, several in order) and
 * plotly, R's base graphics and ggplot2. What the code prints is never read
 * for plots, so its stdout comes back exactly and look-alike markers forge
 * nothing; its errors read as in a plain run. A run's plots are its own.
 * The caps on count and bytes hold against code that fills the directory
 * with links, a huge file or thousands of files, and the next run removes
 * what such a run left. */
#include "isolated-test.h"

static const guint8 png_signature[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };

/* An open artifact session of @lang with the run's label; more properties
 * as for g_object_new(). */
static LlmsbxSandboxSession *
open_artifact_session (const char *lang,
                       const char *first_property,
                       ...)
{
  g_autoptr(LlmsbxSandboxSession) session = NULL;
  g_autofree char *configs = test_configs ("");
  g_autoptr(GError) error = NULL;
  va_list args;

  session = g_object_new (LLMSBX_TYPE_ARTIFACT_SANDBOX_SESSION,
                          "lang", lang, "backend", backend_test_name (),
                          "code-runner", backend_test_code_runner (), NULL);
  if (first_property != NULL)
    {
      va_start (args, first_property);
      g_object_set_valist (G_OBJECT (session), first_property, args);
      va_end (args);
    }
  test_set_configs_json (session, configs, &error);
  g_assert_no_error (error);
  llmsbx_sandbox_session_open (session, NULL, &error);
  g_assert_no_error (error);
  return g_steal_pointer (&session);
}

static LlmsbxExecutionResult *
run (LlmsbxSandboxSession *session,
     const char           *code)
{
  g_autoptr(GError) error = NULL;
  LlmsbxExecutionResult *result = llmsbx_sandbox_session_run (session, code, NULL, 120, NULL, &error);

  g_assert_no_error (error);
  g_assert_nonnull (result);
  return result;
}

static LlmsbxPlotOutput *
plot_at (LlmsbxExecutionResult *result,
         guint                  index)
{
  GPtrArray *plots = llmsbx_execution_result_get_plots (result);

  g_assert_cmpuint (index, <, plots->len);
  return g_ptr_array_index (plots, index);
}

static void
assert_png (LlmsbxPlotOutput *plot)
{
  GBytes *content = llmsbx_plot_output_get_content (plot);
  gsize size;
  const guint8 *data = g_bytes_get_data (content, &size);
  g_autofree char *base64 = llmsbx_plot_output_get_content_base64 (plot);
  g_autofree guchar *decoded = NULL;
  gsize decoded_size;

  g_assert_cmpint (llmsbx_plot_output_get_format (plot), ==, LLMSBX_PLOT_FORMAT_PNG);
  g_assert_cmpuint (size, >, sizeof png_signature);
  g_assert_cmpmem (data, sizeof png_signature, png_signature, sizeof png_signature);
  g_assert_cmpint (llmsbx_plot_output_get_width (plot), >, 0);
  g_assert_cmpint (llmsbx_plot_output_get_height (plot), >, 0);
  decoded = g_base64_decode (base64, &decoded_size);
  g_assert_cmpmem (decoded, decoded_size, data, size);
}

static guint
n_plots (LlmsbxExecutionResult *result)
{
  return llmsbx_execution_result_get_plots (result)->len;
}

/* The guide's example: one PNG, and what the code prints is all of stdout. */
static void
test_matplotlib_show (void)
{
  g_autoptr(LlmsbxSandboxSession) session = open_artifact_session ("python", NULL);
  g_autoptr(LlmsbxExecutionResult) result = NULL;
  g_autoptr(LlmsbxExecutionResult) plain = NULL;

  result = run (session,
                "import matplotlib.pyplot as plt\n"
                "plt.plot([1, 2, 3], [1, 4, 9])\n"
                "plt.show()\n"
                "print('done')\n");
  g_assert_cmpint (llmsbx_execution_result_get_exit_code (result), ==, 0);
  g_assert_cmpstr (llmsbx_execution_result_get_stdout (result), ==, "done\n");
  g_assert_cmpuint (n_plots (result), ==, 1);
  assert_png (plot_at (result, 0));
  g_assert_cmpfloat (llmsbx_plot_output_get_dpi (plot_at (result, 0)), ==, 100.0);
  g_assert_false (llmsbx_execution_result_get_plots_dropped (result));

  /* The next run made none, and the last one's never come back. */
  plain = run (session, "print('no plots')\n");
  g_assert_cmpstr (llmsbx_execution_result_get_stdout (plain), ==, "no plots\n");
  g_assert_cmpuint (n_plots (plain), ==, 0);

  test_close (session);
}

/* The presets make the workdir a tmpfs, and with it the run directory, which
 * Docker's archive request does not see (it reads beneath the container's
 * mounts): the plots come back all the same, through the sandbox's tar. */
static void
test_tmpfs_workdir (void)
{
  g_autoptr(LlmsbxSandboxSession) session = NULL;
  g_autofree char *configs = test_configs ("\"tmpfs\": {\"/sandbox\": \"rw,exec,size=64m\"}");
  g_autoptr(LlmsbxExecutionResult) result = NULL;
  g_autoptr(LlmsbxExecutionResult) next = NULL;
  g_autofree char *mounts = NULL;
  g_autoptr(GError) error = NULL;

  session = g_object_new (LLMSBX_TYPE_ARTIFACT_SANDBOX_SESSION, "lang", "python", "backend", backend_test_name (),
                          "collect-files", TRUE, NULL);
  test_set_configs_json (session, configs, &error);
  g_assert_no_error (error);
  llmsbx_sandbox_session_open (session, NULL, &error);
  g_assert_no_error (error);
  mounts = test_sh (session, "grep -c ' /sandbox tmpfs ' /proc/mounts || true");
  g_assert_cmpstr (g_strstrip (mounts), ==, "1");

  result = run (session,
                "import os, matplotlib.pyplot as plt\n"
                "plt.plot([1, 2, 3])\nplt.show()\n"
                "open(os.environ['LLMSBX_OUTPUT_DIR'] + '/data.csv', 'w').write('a,1\\n')\n"
                "print('done')\n");
  g_assert_cmpint (llmsbx_execution_result_get_exit_code (result), ==, 0);
  g_assert_cmpstr (llmsbx_execution_result_get_stdout (result), ==, "done\n");
  g_assert_cmpuint (n_plots (result), ==, 1);
  assert_png (plot_at (result, 0));
  g_assert_false (llmsbx_execution_result_get_plots_dropped (result));
  g_assert_cmpuint (llmsbx_execution_result_get_files (result)->len, ==, 1);

  /* The next run's are its own: none. */
  next = run (session, "print('none')\n");
  g_assert_cmpuint (n_plots (next), ==, 0);
  g_assert_cmpuint (llmsbx_execution_result_get_files (next)->len, ==, 0);
  g_assert_false (llmsbx_execution_result_get_plots_dropped (next));

  test_close (session);
}

/* Two figures shown, one saved to a file, one left open: four plots in the
 * order the code made them (the saved one as SVG, its own format). */
static void
test_matplotlib_several (void)
{
  g_autoptr(LlmsbxSandboxSession) session = open_artifact_session ("python", NULL);
  g_autoptr(LlmsbxExecutionResult) result = NULL;

  result = run (session,
                "import matplotlib.pyplot as plt\n"
                "import seaborn as sns\n"
                "fig1 = plt.figure(figsize=(2, 2)); plt.plot([1, 2])\n"
                "fig2 = plt.figure(figsize=(4, 2)); plt.bar(['a', 'b'], [3, 1])\n"
                "plt.show()\n"
                "fig3 = plt.figure(figsize=(3, 3)); sns.histplot([1, 2, 2, 3, 3, 3])\n"
                "plt.savefig('chart.svg')\n"
                "plt.close(fig3)\n"
                "plt.figure(figsize=(5, 1)); plt.plot([3, 1])\n"
                "plt.figure()\n"                      /* nothing drawn: no plot */
                "closed = plt.figure(); plt.plot([1]); plt.close(closed)\n");
  g_assert_cmpint (llmsbx_execution_result_get_exit_code (result), ==, 0);
  g_assert_cmpuint (n_plots (result), ==, 4);
  assert_png (plot_at (result, 0));
  assert_png (plot_at (result, 1));
  /* Shown in figure order: the square one, then the wide one. */
  g_assert_cmpint (llmsbx_plot_output_get_width (plot_at (result, 0)), <,
                   llmsbx_plot_output_get_width (plot_at (result, 1)));
  g_assert_cmpint (llmsbx_plot_output_get_format (plot_at (result, 2)), ==, LLMSBX_PLOT_FORMAT_SVG);
  assert_png (plot_at (result, 3));
  g_assert_cmpint (llmsbx_plot_output_get_width (plot_at (result, 3)), >,
                   2 * llmsbx_plot_output_get_height (plot_at (result, 3)));
  for (guint i = 1; i < n_plots (result); i++)
    g_assert_cmpstr (llmsbx_plot_output_get_filename (plot_at (result, i - 1)), <,
                     llmsbx_plot_output_get_filename (plot_at (result, i)));

  test_close (session);
}

/* Lines that look like the markers of other libraries are plain output. */
static void
test_fake_markers (void)
{
  g_autoptr(LlmsbxSandboxSession) session = open_artifact_session ("python", NULL);
  g_autoptr(LlmsbxExecutionResult) result = NULL;
  const char *printed =
    "Python plot detection setup complete\n"
    "<<<PLOT:png:iVBORw0KGgo=>>>\n"
    "__LLMSBX_PLOTS__ 3\n";
  g_autofree char *code = g_strdup_printf ("import sys\nsys.stdout.write(%s)\nsys.stderr.write('x\\n')\n",
                                           "'Python plot detection setup complete\\n"
                                           "<<<PLOT:png:iVBORw0KGgo=>>>\\n__LLMSBX_PLOTS__ 3\\n'");

  result = run (session, code);
  g_assert_cmpstr (llmsbx_execution_result_get_stdout (result), ==, printed);
  g_assert_cmpstr (llmsbx_execution_result_get_stderr (result), ==, "x\n");
  g_assert_cmpuint (n_plots (result), ==, 0);
  g_assert_false (llmsbx_execution_result_get_plots_dropped (result));

  test_close (session);
}

/* An error reads as in a plain session: the same traceback, line numbers
 * and exit status, no frame of the capture; a figure made before it still
 * comes back. */
static void
test_errors_as_plain (void)
{
  g_autoptr(LlmsbxSandboxSession) session = open_artifact_session ("python", NULL);
  g_autoptr(LlmsbxSandboxSession) plain = test_open_session ("", NULL);
  g_autoptr(LlmsbxExecutionResult) result = NULL;
  g_autoptr(LlmsbxExecutionResult) expected = NULL;
  g_autoptr(LlmsbxExecutionResult) syntax = NULL;
  g_autoptr(LlmsbxExecutionResult) syntax_expected = NULL;
  g_autoptr(LlmsbxExecutionResult) exited = NULL;
  const char *code =
    "import matplotlib.pyplot as plt\n"
    "plt.plot([1, 2])\n"
    "def f():\n"
    "    raise ValueError('boom')\n"
    "print(__name__, __file__.endswith('.py'))\n"
    "f()\n";
  g_autofree char *shown = NULL;
  g_autofree char *shown_expected = NULL;
  GRegex *file_name = g_regex_new ("code-[0-9a-f]+\\.py", 0, 0, NULL);

  result = run (session, code);
  expected = run (plain, code);
  g_assert_cmpint (llmsbx_execution_result_get_exit_code (result), ==, 1);
  g_assert_cmpint (llmsbx_execution_result_get_exit_code (expected), ==, 1);
  g_assert_cmpstr (llmsbx_execution_result_get_stdout (result), ==, "__main__ True\n");
  /* The code files differ only in their names. */
  shown = g_regex_replace_literal (file_name, llmsbx_execution_result_get_stderr (result), -1, 0, "F", 0, NULL);
  shown_expected = g_regex_replace_literal (file_name, llmsbx_execution_result_get_stderr (expected), -1, 0, "F", 0, NULL);
  g_assert_cmpstr (shown, ==, shown_expected);
  g_assert_nonnull (strstr (shown, "line 6, in <module>\n    f()\n"));
  g_assert_cmpuint (n_plots (result), ==, 1);

  syntax = run (session, "x = 1\nif x\n");
  syntax_expected = run (plain, "x = 1\nif x\n");
  g_clear_pointer (&shown, g_free);
  g_clear_pointer (&shown_expected, g_free);
  shown = g_regex_replace_literal (file_name, llmsbx_execution_result_get_stderr (syntax), -1, 0, "F", 0, NULL);
  shown_expected = g_regex_replace_literal (file_name, llmsbx_execution_result_get_stderr (syntax_expected), -1, 0, "F", 0, NULL);
  g_assert_cmpstr (shown, ==, shown_expected);
  g_assert_cmpint (llmsbx_execution_result_get_exit_code (syntax), ==, 1);

  exited = run (session, "import sys\nprint('bye')\nsys.exit(7)\n");
  g_assert_cmpint (llmsbx_execution_result_get_exit_code (exited), ==, 7);
  g_assert_cmpstr (llmsbx_execution_result_get_stdout (exited), ==, "bye\n");
  g_assert_cmpstr (llmsbx_execution_result_get_stderr (exited), ==, "");

  g_regex_unref (file_name);
  test_close (session);
  test_close (plain);
}

/* plotly's show() gives HTML (no static exporter in the image). */
static void
test_plotly (void)
{
  g_autoptr(LlmsbxSandboxSession) session = open_artifact_session ("python", NULL);
  g_autoptr(LlmsbxExecutionResult) result = NULL;
  GBytes *content;
  g_autofree char *text = NULL;

  result = run (session,
                "import plotly.graph_objects as go\n"
                "fig = go.Figure(data=go.Scatter(x=[1, 2, 3], y=[4, 1, 2]))\n"
                "fig.show()\n");
  g_assert_cmpint (llmsbx_execution_result_get_exit_code (result), ==, 0);
  g_assert_cmpstr (llmsbx_execution_result_get_stdout (result), ==, "");
  g_assert_cmpuint (n_plots (result), ==, 1);
  g_assert_cmpint (llmsbx_plot_output_get_format (plot_at (result, 0)), ==, LLMSBX_PLOT_FORMAT_HTML);
  content = llmsbx_plot_output_get_content (plot_at (result, 0));
  text = g_strndup (g_bytes_get_data (content, NULL), g_bytes_get_size (content));
  g_assert_true (g_str_has_prefix (text, "<html>"));
  g_assert_nonnull (strstr (text, "plotly"));

  test_close (session);
}

/* R: base graphics (two pages) and a ggplot2 chart, in order. */
static void
test_r (void)
{
  g_autoptr(LlmsbxSandboxSession) session = open_artifact_session ("r", NULL);
  g_autoptr(LlmsbxExecutionResult) result = NULL;
  g_autoptr(LlmsbxExecutionResult) ggplot = NULL;
  g_autoptr(LlmsbxExecutionResult) failed = NULL;

  result = run (session, "plot(1:10)\nhist(c(1, 2, 2, 3))\ncat('done\\n')\n");
  g_assert_cmpint (llmsbx_execution_result_get_exit_code (result), ==, 0);
  g_assert_cmpstr (llmsbx_execution_result_get_stdout (result), ==, "done\n");
  g_assert_cmpuint (n_plots (result), ==, 2);
  assert_png (plot_at (result, 0));
  assert_png (plot_at (result, 1));
  g_assert_cmpstr (llmsbx_plot_output_get_filename (plot_at (result, 0)), <,
                   llmsbx_plot_output_get_filename (plot_at (result, 1)));

  ggplot = run (session,
                "library(ggplot2)\n"
                "p <- ggplot(data.frame(x = 1:3, y = c(2, 5, 3)), aes(x, y)) + geom_line()\n"
                "print(p)\n"
                "ggplot(data.frame(x = 1:3), aes(x)) + geom_bar()\n");
  g_assert_cmpint (llmsbx_execution_result_get_exit_code (ggplot), ==, 0);
  g_assert_cmpuint (n_plots (ggplot), ==, 2);
  assert_png (plot_at (ggplot, 0));
  assert_png (plot_at (ggplot, 1));

  /* A plot made before an error still comes back; the error is R's own. */
  failed = run (session, "plot(1:3)\nstop('boom')\n");
  g_assert_cmpint (llmsbx_execution_result_get_exit_code (failed), ==, 1);
  g_assert_cmpstr (llmsbx_execution_result_get_stderr (failed), ==, "Error: boom\nExecution halted\n");
  g_assert_cmpuint (n_plots (failed), ==, 1);

  test_close (session);
}

/* Without enable-plotting, a run is a plain one. */
static void
test_disabled (void)
{
  g_autoptr(LlmsbxSandboxSession) session = open_artifact_session ("python", "enable-plotting", FALSE, NULL);
  g_autoptr(LlmsbxExecutionResult) result = NULL;

  result = run (session, "import matplotlib.pyplot as plt\nplt.plot([1, 2])\nplt.show()\n");
  g_assert_cmpint (llmsbx_execution_result_get_exit_code (result), ==, 0);
  g_assert_cmpuint (n_plots (result), ==, 0);
  g_assert_false (llmsbx_execution_result_get_plots_dropped (result));

  test_close (session);
}

/* Past max-plots, the first plots come back and the rest are dropped. */
static void
test_max_plots (void)
{
  g_autoptr(LlmsbxSandboxSession) session = open_artifact_session ("python", "max-plots", 2, NULL);
  g_autoptr(LlmsbxExecutionResult) result = NULL;

  result = run (session,
                "import matplotlib.pyplot as plt\n"
                "for width in (1, 2, 3):\n"
                "    plt.figure(figsize=(width, 1)); plt.plot([1, 2]); plt.show()\n");
  g_assert_cmpuint (n_plots (result), ==, 2);
  g_assert_true (llmsbx_execution_result_get_plots_dropped (result));
  g_assert_cmpint (llmsbx_plot_output_get_width (plot_at (result, 0)), <,
                   llmsbx_plot_output_get_width (plot_at (result, 1)));

  test_close (session);
}

/* Code that fills its plot directory with links, a FIFO, a directory,
 * files over max-plot-bytes and thousands of files gets a bounded answer:
 * its own plot, the dropped flag; and the next run removes all of it. */
static void
test_hostile_directory (void)
{
  g_autoptr(LlmsbxSandboxSession) session =
    open_artifact_session ("python", "max-plot-bytes", (guint64) 100 * 1024, NULL);
  g_autoptr(LlmsbxExecutionResult) result = NULL;
  g_autoptr(LlmsbxExecutionResult) next = NULL;
  g_autofree char *left = NULL;

  result = run (session,
                "import glob, os, matplotlib.pyplot as plt\n"
                "plt.figure(figsize=(2, 2)); plt.plot([1, 2]); plt.show()\n"
                "d, = glob.glob('/sandbox/.llmsbx/run-*/plots')\n"
                "os.symlink('/etc/passwd', d + '/000000.png')\n"
                "os.symlink('/', d + '/000000-root.png')\n"
                "os.mkfifo(d + '/000002.png')\n"
                "os.mkdir(d + '/000002-dir.png')\n"
                "os.symlink('/etc', d + '/000002-link')\n"
                "for name in ('000003.png', '000004.png'):\n"
                "    with open(d + '/' + name, 'wb') as f: f.write(b'\\0' * (99 << 10))\n"
                "for i in range(3000):\n"
                "    open('%s/9%05d.png' % (d, i), 'wb').close()\n"
                "print('filled')\n");
  g_assert_cmpint (llmsbx_execution_result_get_exit_code (result), ==, 0);
  g_assert_cmpstr (llmsbx_execution_result_get_stdout (result), ==, "filled\n");
  g_assert_true (llmsbx_execution_result_get_plots_dropped (result));
  g_assert_cmpuint (n_plots (result), ==, 1);
  assert_png (plot_at (result, 0));
  g_assert_cmpstr (llmsbx_plot_output_get_filename (plot_at (result, 0)), ==, "000001.png");

  next = run (session, "print('next')\n");
  g_assert_cmpuint (n_plots (next), ==, 0);
  g_assert_false (llmsbx_execution_result_get_plots_dropped (next));
  left = test_sh (session, "ls -A /sandbox/.llmsbx | grep -c '^run-' || true");
  g_assert_cmpstr (g_strstrip (left), ==, "1");

  test_close (session);
}

/* A file far over the limits stops the transfer at the limit: a bounded
 * answer, no error, the dropped flag. */
static void
test_huge_file (void)
{
  g_autoptr(LlmsbxSandboxSession) session =
    open_artifact_session ("python", "max-plot-bytes", (guint64) 1 << 20, NULL);
  g_autoptr(LlmsbxExecutionResult) result = NULL;

  result = run (session,
                "import glob, os\n"
                "d, = glob.glob('/sandbox/.llmsbx/run-*/plots')\n"
                "with open(d + '/000001.png', 'wb') as f: f.truncate(256 << 20)\n");
  g_assert_cmpint (llmsbx_execution_result_get_exit_code (result), ==, 0);
  g_assert_true (llmsbx_execution_result_get_plots_dropped (result));
  g_assert_cmpuint (n_plots (result), ==, 0);

  test_close (session);
}

static LlmsbxOutputFile *
file_at (LlmsbxExecutionResult *result,
         guint                  index)
{
  GPtrArray *files = llmsbx_execution_result_get_files (result);

  g_assert_cmpuint (index, <, files->len);
  return g_ptr_array_index (files, index);
}

static void
assert_file (LlmsbxOutputFile *file,
             const char       *path,
             const char       *content)
{
  GBytes *bytes = llmsbx_output_file_get_content (file);

  g_assert_cmpstr (llmsbx_output_file_get_path (file), ==, path);
  g_assert_cmpmem (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes), content, strlen (content));
}

/* With collect-files, what the code writes into $LLMSBX_OUTPUT_DIR comes
 * back, sorted by path, regular files only; the next run's directory is new
 * and empty. Plots and files share the one fetch. */
static void
test_output_files (void)
{
  g_autoptr(LlmsbxSandboxSession) session = open_artifact_session ("python", "collect-files", TRUE, NULL);
  g_autoptr(LlmsbxExecutionResult) result = NULL;
  g_autoptr(LlmsbxExecutionResult) next = NULL;

  result = run (session,
                "import os, matplotlib.pyplot as plt\n"
                "out = os.environ['LLMSBX_OUTPUT_DIR']\n"
                "os.makedirs(out + '/tables')\n"
                "open(out + '/tables/b.csv', 'w').write('b,2\\n')\n"
                "open(out + '/a.txt', 'w').write('alpha')\n"
                "open(out + '/empty', 'w').close()\n"
                "os.symlink('/etc/passwd', out + '/passwd')\n"
                "plt.plot([1, 2]); plt.savefig(out + '/chart.png')\n"
                "print(sorted(os.listdir(out)))\n");
  g_assert_cmpint (llmsbx_execution_result_get_exit_code (result), ==, 0);
  g_assert_cmpstr (llmsbx_execution_result_get_stdout (result), ==,
                   "['a.txt', 'chart.png', 'empty', 'passwd', 'tables']\n");
  g_assert_cmpuint (llmsbx_execution_result_get_files (result)->len, ==, 4);
  assert_file (file_at (result, 0), "a.txt", "alpha");
  g_assert_cmpstr (llmsbx_output_file_get_path (file_at (result, 1)), ==, "chart.png");
  assert_file (file_at (result, 2), "empty", "");
  assert_file (file_at (result, 3), "tables/b.csv", "b,2\n");
  g_assert_true (llmsbx_execution_result_get_files_dropped (result));
  /* savefig to the output directory is a plot too, with the same bytes. */
  g_assert_cmpuint (n_plots (result), ==, 1);
  g_assert_true (g_bytes_equal (llmsbx_plot_output_get_content (plot_at (result, 0)),
                                llmsbx_output_file_get_content (file_at (result, 1))));
  g_assert_false (llmsbx_execution_result_get_plots_dropped (result));

  next = run (session, "import os\nprint(os.listdir(os.environ['LLMSBX_OUTPUT_DIR']))\n");
  g_assert_cmpstr (llmsbx_execution_result_get_stdout (next), ==, "[]\n");
  g_assert_cmpuint (llmsbx_execution_result_get_files (next)->len, ==, 0);
  g_assert_false (llmsbx_execution_result_get_files_dropped (next));

  test_close (session);
}

/* Output files need no plot capture: any language has them; its plots are
 * none. */
static void
test_output_files_any_language (void)
{
  g_autoptr(LlmsbxSandboxSession) session = open_artifact_session ("javascript", "collect-files", TRUE,
                                                                   "max-files", 2, NULL);
  g_autoptr(LlmsbxExecutionResult) result = NULL;

  result = run (session,
                "const fs = require('fs');\n"
                "for (const name of ['c', 'a', 'b'])\n"
                "  fs.writeFileSync(process.env.LLMSBX_OUTPUT_DIR + '/' + name, name + name);\n");
  g_assert_cmpint (llmsbx_execution_result_get_exit_code (result), ==, 0);
  g_assert_cmpuint (n_plots (result), ==, 0);
  g_assert_cmpuint (llmsbx_execution_result_get_files (result)->len, ==, 2);
  assert_file (file_at (result, 0), "a", "aa");
  assert_file (file_at (result, 1), "b", "bb");
  g_assert_true (llmsbx_execution_result_get_files_dropped (result));

  test_close (session);
}

/* Through the resident runner an artifact run costs the backend one
 * request, the fetch of its directory: the runner makes the directory (the
 * exec path makes it in the exec that writes the code, one exec and the
 * fetch). Each run still removes the last one's directory. */
static void
test_requests (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(LlmsbxBackend) client = NULL;
  g_autoptr(LlmsbxSandboxSession) session = NULL;
  g_autofree char *left = NULL;
  const char *code = "import matplotlib.pyplot as plt\nplt.plot([1, 2])\nplt.show()\n";

  client = llmsbx_registry_create_backend (llmsbx_registry_get_default (), backend_test_name (), &error);
  g_assert_no_error (error);
  session = open_artifact_session ("python", "client", client, NULL);

  /* In the automatic mode the first run takes the exec path and the
   * second starts the runner; count from the third. */
  for (guint i = 0; i < 3; i++)
    {
      g_autoptr(LlmsbxExecutionResult) result = NULL;
      guint before = llmsbx_backend_get_request_count (client);
      guint requests;

      result = run (session, code);
      requests = llmsbx_backend_get_request_count (client) - before;
      g_assert_cmpint (llmsbx_execution_result_get_exit_code (result), ==, 0);
      g_assert_cmpuint (n_plots (result), ==, 1);
      assert_png (plot_at (result, 0));
      if (i < 2)
        continue;
      if (backend_test_resident ())
        g_assert_cmpuint (requests, ==, 1);
      else
        g_assert_cmpuint (requests, ==, backend_test_exec_requests () + 1);
    }

  left = test_sh (session, "ls -A /sandbox/.llmsbx | grep -c '^run-' || true");
  g_assert_cmpstr (g_strstrip (left), ==, "1");
  test_close (session);
}

/* An interactive session's cells bring back the plots each made, not an
 * earlier cell's: matplotlib's state lives on in the kernel, but a figure
 * shown, or left open at the end of a cell, is closed there. A final
 * expression is still shown, and an error reads as in a plain cell. */
static void
test_interactive_cells (void)
{
  g_autoptr(LlmsbxSandboxSession) session = NULL;
  g_autoptr(LlmsbxExecutionResult) first = NULL;
  g_autoptr(LlmsbxExecutionResult) second = NULL;
  g_autoptr(LlmsbxExecutionResult) none = NULL;
  g_autoptr(LlmsbxExecutionResult) failed = NULL;
  g_autoptr(LlmsbxExecutionResult) open_left = NULL;
  g_autoptr(LlmsbxExecutionResult) after = NULL;
  g_autoptr(LlmsbxExecutionResult) fresh = NULL;
  g_autofree char *configs = test_configs ("");
  g_autoptr(GError) error = NULL;

  session = g_object_new (LLMSBX_TYPE_INTERACTIVE_SANDBOX_SESSION, "lang", "python",
                          "backend", backend_test_name (), "code-runner", backend_test_code_runner (),
                          "enable-plotting", TRUE, NULL);
  test_set_configs_json (session, configs, &error);
  g_assert_no_error (error);
  llmsbx_sandbox_session_open (session, NULL, &error);
  g_assert_no_error (error);

  first = run (session,
               "import matplotlib.pyplot as plt\n"
               "plt.figure(figsize=(2, 2)); plt.plot([1, 2]); plt.show()\n"
               "width = 3\n"
               "width * 2\n");
  g_assert_cmpint (llmsbx_execution_result_get_exit_code (first), ==, 0);
  g_assert_cmpstr (llmsbx_execution_result_get_stdout (first), ==, "6\n");
  g_assert_cmpuint (n_plots (first), ==, 1);
  assert_png (plot_at (first, 0));

  /* The state, matplotlib's included, is the first cell's. */
  second = run (session, "plt.figure(figsize=(width, 1)); plt.plot([2, 1]); plt.show()\n");
  g_assert_cmpint (llmsbx_execution_result_get_exit_code (second), ==, 0);
  g_assert_cmpuint (n_plots (second), ==, 1);
  assert_png (plot_at (second, 0));
  g_assert_cmpint (llmsbx_plot_output_get_width (plot_at (second, 0)), >,
                   llmsbx_plot_output_get_width (plot_at (first, 0)));

  none = run (session, "print(len(plt.get_fignums()))\n");
  g_assert_cmpstr (llmsbx_execution_result_get_stdout (none), ==, "0\n");
  g_assert_cmpuint (n_plots (none), ==, 0);

  /* A figure left open comes back with its cell and is closed there. */
  open_left = run (session, "plt.plot([1, 3])\n");
  g_assert_cmpuint (n_plots (open_left), ==, 1);
  failed = run (session, "plt.plot([3, 1]); plt.show()\n1 / 0\n");
  g_assert_cmpint (llmsbx_execution_result_get_exit_code (failed), ==, 1);
  g_assert_nonnull (strstr (llmsbx_execution_result_get_stderr (failed), "ZeroDivisionError"));
  g_assert_null (strstr (llmsbx_execution_result_get_stderr (failed), "_llmsbx"));
  g_assert_cmpuint (n_plots (failed), ==, 1);
  after = run (session, "print(len(plt.get_fignums()), width)\n");
  g_assert_cmpstr (llmsbx_execution_result_get_stdout (after), ==, "0 3\n");
  g_assert_cmpuint (n_plots (after), ==, 0);

  /* A fresh kernel captures as the first did. */
  llmsbx_interactive_sandbox_session_reset (LLMSBX_INTERACTIVE_SANDBOX_SESSION (session), NULL, &error);
  g_assert_no_error (error);
  fresh = run (session, "import matplotlib.pyplot as plt\nplt.plot([1, 2]); plt.show()\n");
  g_assert_true (llmsbx_interactive_sandbox_session_get_fresh_state (LLMSBX_INTERACTIVE_SANDBOX_SESSION (session)));
  g_assert_cmpuint (n_plots (fresh), ==, 1);
  assert_png (plot_at (fresh, 0));

  test_close (session);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
  test_run_id ();
  backend_test_prepare ();

  test_add_isolated ("/artifacts/matplotlib-show", test_matplotlib_show);
  test_add_isolated ("/artifacts/matplotlib-several", test_matplotlib_several);
  test_add_isolated ("/artifacts/fake-markers", test_fake_markers);
  test_add_isolated ("/artifacts/errors-as-plain", test_errors_as_plain);
  test_add_isolated ("/artifacts/plotly", test_plotly);
  test_add_isolated ("/artifacts/r", test_r);
  test_add_isolated ("/artifacts/disabled", test_disabled);
  test_add_isolated ("/artifacts/max-plots", test_max_plots);
  /* Kubernetes refuses runtime configs (a pod manifest takes their place),
   * and its archives always come from tar in the pod. */
  if (!backend_test_is_kubernetes ())
    test_add_isolated ("/artifacts/tmpfs-workdir", test_tmpfs_workdir);
  test_add_isolated ("/artifacts/hostile-directory", test_hostile_directory);
  test_add_isolated ("/artifacts/huge-file", test_huge_file);
  test_add_isolated ("/artifacts/output-files", test_output_files);
  test_add_isolated ("/artifacts/output-files-any-language", test_output_files_any_language);
  test_add_isolated ("/artifacts/requests", test_requests);
  /* Interactive cells need the resident runner (code-runner exec is
   * refused at open). */
  if (backend_test_resident ())
    test_add_isolated ("/artifacts/interactive-cells", test_interactive_cells);

  return g_test_run ();
}
