# Llmsbx.py: PyGObject overrides for the Llmsbx namespace.
#
# Only Python conveniences live here (keyword defaults, dicts for runtime
# configs, the context manager, text callbacks, result attributes); every
# behaviour is the C library's.

import codecs
import os
import warnings

from gi.repository import GLib

from ..module import get_introspection_module
from ..overrides import override

Llmsbx = get_introspection_module('Llmsbx')

__all__ = []


def _to_variant(value):
    """Converts a Python value to a GLib.Variant: str→s, bool→b, int→x,
    float→d, bytes→ay, list/tuple of str→as, other lists→av, dict→a{sv}."""
    if isinstance(value, GLib.Variant):
        return value
    if isinstance(value, bool):
        return GLib.Variant('b', value)
    if isinstance(value, int):
        return GLib.Variant('x', value)
    if isinstance(value, float):
        return GLib.Variant('d', value)
    if isinstance(value, str):
        return GLib.Variant('s', value)
    if isinstance(value, (bytes, bytearray)):
        return GLib.Variant('ay', bytes(value))
    if isinstance(value, dict):
        return _to_vardict(value)
    if isinstance(value, (list, tuple)):
        if all(isinstance(item, str) for item in value):
            return GLib.Variant('as', list(value))
        return GLib.Variant('av', [_to_variant(item) for item in value])
    raise TypeError('cannot convert %r (%s) to a runtime config value'
                    % (value, type(value).__name__))


def _to_vardict(mapping):
    for key in mapping:
        if not isinstance(key, str):
            raise TypeError('runtime config keys must be strings, not %r' % (key,))
    return GLib.Variant('a{sv}', {key: _to_variant(value) for key, value in mapping.items()})


def _check_libraries(libraries):
    # A str is a sequence too: "numpy" would become five one-letter libraries.
    if isinstance(libraries, str):
        raise TypeError('libraries must be a list of names, not a string')
    return libraries


class _LiveOutput:
    """Connects text callbacks to the session's "output" signal for one call.

    Each stream is decoded incrementally, so a UTF-8 character split across
    chunks arrives whole; undecodable bytes become U+FFFD. An exception raised
    by a callback stops further deliveries and is raised once the call has
    returned (an error of the call itself takes precedence)."""

    def __init__(self, session, on_stdout, on_stderr):
        self._session = session
        self._handler_id = None
        self._callbacks = {}
        self._decoders = {}
        self.error = None
        for stream, callback in ((Llmsbx.OutputStream.STDOUT, on_stdout),
                                 (Llmsbx.OutputStream.STDERR, on_stderr)):
            if callback is not None:
                self._callbacks[int(stream)] = callback
                self._decoders[int(stream)] = codecs.getincrementaldecoder('utf-8')(errors='replace')

    def _deliver(self, stream, text):
        if text and self.error is None:
            try:
                self._callbacks[stream](text)
            except BaseException as error:  # re-raised by __exit__
                self.error = error

    def _on_output(self, session, stream, chunk):
        decoder = self._decoders.get(int(stream))
        if decoder is not None:
            self._deliver(int(stream), decoder.decode(chunk.get_data()))

    def __enter__(self):
        if self._callbacks:
            self._handler_id = self._session.connect('output', self._on_output)
        return self

    def __exit__(self, exc_type, exc, traceback):
        if self._handler_id is not None:
            self._session.disconnect(self._handler_id)
            for stream, decoder in self._decoders.items():
                self._deliver(stream, decoder.decode(b'', final=True))
        if exc_type is None and self.error is not None:
            raise self.error
        return False


class SandboxSession(Llmsbx.SandboxSession):
    """A sandbox that runs code.

    Keyword arguments are the session's properties (``lang``, ``backend``,
    ``image``, ``skip_environment_setup``, ...). ``runtime_configs`` may be a
    dict. Use it as a context manager to open and close it::

        with Llmsbx.SandboxSession(lang="python") as session:
            print(session.run("print(6*7)").stdout)
    """

    def __init__(self, **kwargs):
        configs = kwargs.get('runtime_configs')
        if configs is not None:
            kwargs['runtime_configs'] = _to_vardict(configs)
        super().__init__(**kwargs)

    def set_runtime_configs(self, configs):
        super().set_runtime_configs(_to_vardict(configs))

    def __enter__(self):
        try:
            self.open()
        except BaseException:
            self._close_after_error()
            raise
        return self

    def __exit__(self, exc_type, exc, traceback):
        if exc_type is None:
            self.close()
        else:
            self._close_after_error()
        return False

    def _close_after_error(self):
        # The exception in flight says what went wrong; a failing close must not hide it.
        try:
            self.close()
        except GLib.Error as error:
            warnings.warn('closing the sandbox session failed: ' + error.message,
                          RuntimeWarning, stacklevel=3)

    def open(self, cancellable=None):
        return super().open(cancellable)

    def close(self, cancellable=None):
        return super().close(cancellable)

    def run(self, code, libraries=None, timeout=0.0, on_stdout=None, on_stderr=None,
            cancellable=None):
        """Runs ``code`` and returns its ExecutionResult. ``libraries`` are
        installed first; ``timeout`` in seconds (0: the session's default).
        ``on_stdout``/``on_stderr`` receive the output as text while it runs."""
        with _LiveOutput(self, on_stdout, on_stderr):
            return super().run(code, _check_libraries(libraries), timeout, cancellable)

    def execute_command(self, command, workdir=None, on_stdout=None, on_stderr=None,
                        cancellable=None):
        """Runs ``command`` with a shell inside the sandbox."""
        with _LiveOutput(self, on_stdout, on_stderr):
            return super().execute_command(command, workdir, cancellable)

    def execute_argv(self, argv, workdir=None, on_stdout=None, on_stderr=None,
                     cancellable=None):
        """Runs ``argv`` as is inside the sandbox, no shell involved."""
        with _LiveOutput(self, on_stdout, on_stderr):
            return super().execute_argv(argv, workdir, cancellable)

    def install(self, libraries, cancellable=None):
        return super().install(_check_libraries(libraries), cancellable)

    def copy_to_runtime(self, src, dest, cancellable=None):
        return super().copy_to_runtime(os.fspath(src), os.fspath(dest), cancellable)

    def copy_from_runtime(self, src, dest, cancellable=None):
        return super().copy_from_runtime(os.fspath(src), os.fspath(dest), cancellable)


SandboxSession = override(SandboxSession)
__all__.append('SandboxSession')


def _bytes(glib_bytes):
    return (glib_bytes.get_data() or b'') if glib_bytes is not None else b''


class ExecutionResult(Llmsbx.ExecutionResult):
    """What a run or a command produced, with plain attributes."""

    exit_code = property(Llmsbx.ExecutionResult.get_exit_code)
    stdout = property(Llmsbx.ExecutionResult.get_stdout)
    stderr = property(Llmsbx.ExecutionResult.get_stderr)
    truncated = property(Llmsbx.ExecutionResult.get_truncated)
    oom_killed = property(Llmsbx.ExecutionResult.get_oom_killed)
    duration = property(Llmsbx.ExecutionResult.get_duration)

    @property
    def stdout_bytes(self):
        return _bytes(self.get_stdout_bytes())

    @property
    def stderr_bytes(self):
        return _bytes(self.get_stderr_bytes())

    def success(self):
        return self.get_success()

    def __repr__(self):
        return '<Llmsbx.ExecutionResult exit_code=%d stdout=%r stderr=%r>' % (
            self.exit_code, self.stdout, self.stderr)


ExecutionResult = override(ExecutionResult)
__all__.append('ExecutionResult')


def register_language_handler(handler):
    """Registers a language handler (an instance, or a class to instantiate)
    in the default registry, so sessions accept its name as ``lang``.
    Returns the registered instance."""
    if isinstance(handler, type):
        handler = handler()
    Llmsbx.Registry.get_default().register_language(handler)
    return handler


__all__.append('register_language_handler')
