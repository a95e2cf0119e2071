# python-capture.py: the plot capture of Python runs in an artifact session.
#
# The Python handler's wrapper (llmsbx-python-handler.c) runs this as the
# module _llmsbx_capture, then main() with the run's plot directory and the
# user's code. The code runs in the real __main__ namespace, compiled from its
# own bytes under the code file's name (which is rewritten to hold exactly
# those bytes), so tracebacks, __file__, pickling and `coding:` lines are as
# in a plain run; the wrapper's frames are cut from tracebacks. Nothing is
# printed: stdout is the program's. Plots are numbered files in the plot
# directory, in the order they were made:
# - matplotlib (seaborn draws through it), Agg unless MPLBACKEND says
#   otherwise: plt.show() and Figure.show() save every figure with something
#   drawn and close it; savefig() to a path also saves a copy in its format
#   (png, svg, pdf, jpeg); figures still open at the end are saved unless
#   unchanged since a savefig. Closed without show or savefig: not a plot.
# - plotly: show() saves the figure as HTML (plotly.js from its CDN), and as
#   PNG too when kaleido is there.
# Modules are patched when the code imports them (a meta path finder), so a
# run that plots nothing imports nothing more than a plain one.
#
# In an interactive session the code is a cell of a kernel that outlives it
# (runner/python/llmsbx_runner_python.py): its namespace is no file's, so it
# has no __file__. The module then stays loaded from cell to cell (the
# wrapper reuses it, so matplotlib's patches write into the current cell's
# directory), main() returns the value of the cell's final expression for
# the kernel to show, and figures still open when the cell ends are saved
# and closed, as a notebook's inline backend does: a cell's plots are those
# it made, never an earlier cell's again.
import sys

_plots_dir = None
_count = 0
_saved = None        # matplotlib figures saved since their last change
_savefig = None      # matplotlib's own Figure.savefig


def _next_path(extension):
    global _count
    _count += 1
    return '%s/%06d.%s' % (_plots_dir, _count, extension)


# matplotlib -----------------------------------------------------------------

def _has_content(figure):
    return bool(figure.axes or figure.texts or figure.images or figure.lines or
                figure.patches or figure.artists)


def _save_figure(figure):
    if not _has_content(figure):
        return
    if figure in _saved and not figure.stale:
        return
    try:
        _savefig(figure, _next_path('png'), format='png', bbox_inches='tight')
        _saved.add(figure)
    except Exception as error:  # a broken figure must not break the run
        sys.stderr.write('plot capture: could not save a figure: %s\n' % error)


def _open_figures():
    from matplotlib import _pylab_helpers
    return [manager.canvas.figure for manager in _pylab_helpers.Gcf.get_all_fig_managers()]


def _show(*args, **kwargs):
    import matplotlib.pyplot as plt
    for figure in _open_figures():
        _save_figure(figure)
    plt.close('all')


def _figure_show(figure, *args, **kwargs):
    _save_figure(figure)


_SAVEFIG_FORMATS = {'png': 'png', 'svg': 'svg', 'pdf': 'pdf', 'jpg': 'jpeg', 'jpeg': 'jpeg'}


def _figure_savefig(figure, fname, *args, **kwargs):
    result = _savefig(figure, fname, *args, **kwargs)
    import os
    import shutil
    if isinstance(fname, (str, bytes, os.PathLike)):
        path = os.fsdecode(fname)
        extension = kwargs.get('format') or os.path.splitext(path)[1][1:]
        if not extension:
            import matplotlib
            extension = matplotlib.rcParams['savefig.format']
            path = path + '.' + extension
        extension = _SAVEFIG_FORMATS.get(str(extension).lower())
        if extension is not None and os.path.isfile(path):
            try:
                shutil.copyfile(path, _next_path(extension))
                _saved.add(figure)
            except OSError as error:
                sys.stderr.write('plot capture: could not copy %s: %s\n' % (path, error))
    return result


def _patch_figure(module):
    global _savefig, _saved
    import weakref
    _saved = weakref.WeakSet()
    _savefig = module.Figure.savefig
    module.Figure.savefig = _figure_savefig
    module.Figure.show = _figure_show


def _patch_pyplot(module):
    module.show = _show


# plotly ---------------------------------------------------------------------

def _plotly_show(figure, *args, **kwargs):
    import importlib.util
    try:
        import plotly.io
        if isinstance(figure, dict):
            import plotly.graph_objects
            figure = plotly.graph_objects.Figure(figure)
        figure.write_html(_next_path('html'), include_plotlyjs='cdn', full_html=True)
        if importlib.util.find_spec('kaleido') is not None:
            figure.write_image(_next_path('png'), format='png')
    except Exception as error:
        sys.stderr.write('plot capture: could not save a plotly figure: %s\n' % error)


def _patch_plotly_io(module):
    module.show = _plotly_show


_PATCHES = {
    'matplotlib.figure': _patch_figure,
    'matplotlib.pyplot': _patch_pyplot,
    'plotly.io': _patch_plotly_io,
}


class _Finder:
    """Patches a module of _PATCHES once it has been executed."""

    @classmethod
    def find_spec(cls, name, path=None, target=None):
        patch = _PATCHES.get(name)
        if patch is None:
            return None
        for finder in sys.meta_path:
            if finder is cls or not hasattr(finder, 'find_spec'):
                continue
            spec = finder.find_spec(name, path, target)
            if spec is not None:
                break
        else:
            return None
        loader = spec.loader
        if loader is None or not hasattr(loader, 'exec_module'):
            return spec
        exec_module = loader.exec_module

        def patched_exec_module(module):
            exec_module(module)
            patch(module)
        try:
            loader.exec_module = patched_exec_module
        except AttributeError:
            return spec
        return spec


# The run ----------------------------------------------------------------------

def _finish(close=False):
    if _savefig is None:
        return
    try:
        figures = _open_figures()
    except Exception:
        return
    for figure in figures:
        _save_figure(figure)
    if close and figures:
        try:
            import matplotlib.pyplot as plt
            plt.close('all')
        except Exception:
            pass


def _user_traceback(tb, *codes):
    """The traceback from the user's code's own frame on."""
    while tb is not None and tb.tb_frame.f_code not in codes:
        tb = tb.tb_next
    return tb


def _report(codes):
    etype, value, tb = sys.exc_info()
    tb = _user_traceback(tb, *codes)
    # The hook prints the exception's own traceback when it has one.
    value.__traceback__ = tb
    sys.excepthook(etype, value, tb)


def _run_cell(namespace, source, path):
    """Runs a cell as the kernel runs one (a final expression's value is
    returned for it to show); ends it with SystemExit on an error, the
    traceback printed without the capture's frames."""
    import ast
    try:
        tree = ast.parse(source, path)
        last = None
        if tree.body and isinstance(tree.body[-1], ast.Expr):
            last = ast.Expression(tree.body.pop().value)
        body = compile(tree, path, 'exec', dont_inherit=True)
        final = compile(last, path, 'eval', dont_inherit=True) if last is not None else None
    except SyntaxError as error:
        sys.excepthook(type(error), error.with_traceback(None), None)
        raise SystemExit(1)
    codes = (body, final) if final is not None else (body,)
    try:
        exec(body, namespace)
        value = eval(final, namespace) if final is not None else None
    except SystemExit:
        _finish(close=True)
        raise
    except KeyboardInterrupt:
        _finish(close=True)
        _report(codes)
        raise SystemExit(130)  # what the kernel makes of an interrupted cell
    except BaseException:
        _finish(close=True)
        _report(codes)
        raise SystemExit(1)
    _finish(close=True)
    return value


def main(namespace, plots_dir, source, wrapper_names):
    global _plots_dir, _count
    import os
    _plots_dir = plots_dir
    _count = 0
    cell = '__file__' not in namespace
    path = sys.argv[0] if cell else namespace['__file__']
    for name in wrapper_names:
        namespace.pop(name, None)
    os.environ.setdefault('MPLBACKEND', 'Agg')
    if _Finder not in sys.meta_path:
        sys.meta_path.insert(0, _Finder)
    try:
        with open(path, 'wb') as file:
            file.write(source)
    except OSError:
        pass
    if cell:
        return _run_cell(namespace, source, path)

    try:
        code = compile(source, path, 'exec', dont_inherit=True)
    except SyntaxError as error:
        sys.excepthook(type(error), error.with_traceback(None), None)
        raise SystemExit(1)

    try:
        exec(code, namespace)
    except SystemExit:
        _finish()
        raise
    except BaseException:
        _finish()
        _report((code,))
        raise SystemExit(1)
    _finish()
