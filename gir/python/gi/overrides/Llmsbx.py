# Llmsbx.py: PyGObject overrides for the Llmsbx namespace.
#
# Only Python conveniences live here (keyword defaults, dicts for runtime
# configs, the context manager, text callbacks, result attributes); every
# behaviour is the C library's.

import codecs
import contextlib
import os
import warnings

from gi.repository import GLib

from ..module import get_introspection_module
from ..overrides import override

Llmsbx = get_introspection_module('Llmsbx')

__all__ = []


def _invalid_argument(message):
    return GLib.Error.new_literal(Llmsbx.error_quark(), message, int(Llmsbx.Error.INVALID_ARGUMENT))


# PyGObject hands C a str (or a bytes path) up to its first NUL and a list
# of strings up to its first None: run("print(1)\0print(2)") would run
# print(1). So every text that goes to the library is checked here, and the
# error says which argument (and which element) it was.
def _check_text(value, what):
    """Returns ``value``; refuses a str or bytes holding a NUL character with
    GLib.Error (INVALID_ARGUMENT). Other types pass unchanged (PyGObject
    refuses those that are not text)."""
    if isinstance(value, str):
        position = value.find('\0')
    elif isinstance(value, (bytes, bytearray)):
        position = bytes(value).find(b'\0')
    else:
        return value
    if position >= 0:
        raise _invalid_argument('%s holds a NUL character at offset %d; text passed to the sandbox '
                                'cannot contain NUL' % (what, position))
    return value


def _check_strv(values, what):
    """Returns ``values`` as a list of str, or None; refuses a single string,
    elements that are not str (None would end the list early) and NULs."""
    if values is None:
        return None
    # A str is a sequence too: "numpy" would become five one-letter libraries.
    if isinstance(values, (str, bytes)):
        raise TypeError('%s must be a list of strings, not a string' % what)
    items = list(values)
    for index, item in enumerate(items):
        if not isinstance(item, str):
            raise TypeError('%s[%d] must be a string, not %s' % (what, index, type(item).__name__))
        _check_text(item, '%s[%d]' % (what, index))
    return items


def _to_variant(value, what='runtime config value'):
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
        return GLib.Variant('s', _check_text(value, what))
    if isinstance(value, (bytes, bytearray)):
        return GLib.Variant('ay', bytes(value))
    if isinstance(value, dict):
        return _to_vardict(value, what)
    if isinstance(value, (list, tuple)):
        if all(isinstance(item, str) for item in value):
            return GLib.Variant('as', _check_strv(value, what))
        return GLib.Variant('av', [_to_variant(item, '%s[%d]' % (what, index))
                                   for index, item in enumerate(value)])
    raise TypeError('cannot convert %r (%s) to a runtime config value'
                    % (value, type(value).__name__))


def _to_vardict(mapping, what='runtime_configs'):
    for key in mapping:
        if not isinstance(key, str):
            raise TypeError('runtime config keys must be strings, not %r' % (key,))
        _check_text(key, '%s key %r' % (what, key))
    return GLib.Variant('a{sv}', {key: _to_variant(value, '%s[%r]' % (what, key))
                                  for key, value in mapping.items()})


def _check_libraries(libraries):
    return _check_strv(libraries, 'libraries')


def _check_path(path, what):
    return _check_text(os.fspath(path), what)


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


@contextlib.contextmanager
def _timeout_duration(limit):
    # Like llm-sandbox's SandboxTimeoutError.timeout_duration: the limit that
    # ran out travels with the error, not only in its message.
    try:
        yield
    except GLib.Error as error:
        if error.matches(Llmsbx.error_quark(), Llmsbx.Error.TIMEOUT):
            error.timeout_duration = limit
        raise


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
        for name, value in kwargs.items():
            _check_text(value, name)
        super().__init__(**kwargs)
        # GInitable: an invalid limit (negative, NaN, infinite timeouts)
        # raises GLib.Error (INVALID_ARGUMENT) here, not at open().
        self.init(None)

    def set_property(self, name, value):
        super().set_property(name, _check_text(value, name))

    def set_runtime_configs(self, configs):
        super().set_runtime_configs(_to_vardict(configs))

    def set_runtime_configs_json(self, json):
        return super().set_runtime_configs_json(_check_text(json, 'json'))

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
        ``on_stdout``/``on_stderr`` receive the output as text while it runs.
        A timeout raises GLib.Error (Llmsbx.Error.TIMEOUT) whose
        ``timeout_duration`` is the limit in seconds that ran out."""
        limit = timeout or self.props.execution_timeout or self.props.default_timeout
        code = _check_text(code, 'code')
        libraries = _check_libraries(libraries)
        with _timeout_duration(limit), _LiveOutput(self, on_stdout, on_stderr):
            return super().run(code, libraries, timeout, cancellable)

    def run_async(self, code, libraries, timeout, cancellable, callback, *user_data):
        return super().run_async(_check_text(code, 'code'), _check_libraries(libraries), timeout,
                                 cancellable, callback, *user_data)

    def execute_command(self, command, workdir=None, on_stdout=None, on_stderr=None,
                        cancellable=None):
        """Runs ``command`` with a shell inside the sandbox."""
        command = _check_text(command, 'command')
        workdir = _check_text(workdir, 'workdir')
        with _timeout_duration(self.props.default_timeout), _LiveOutput(self, on_stdout, on_stderr):
            return super().execute_command(command, workdir, cancellable)

    def execute_argv(self, argv, workdir=None, on_stdout=None, on_stderr=None,
                     cancellable=None):
        """Runs ``argv`` as is inside the sandbox, no shell involved."""
        argv = _check_strv(argv, 'argv')
        workdir = _check_text(workdir, 'workdir')
        with _timeout_duration(self.props.default_timeout), _LiveOutput(self, on_stdout, on_stderr):
            return super().execute_argv(argv, workdir, cancellable)

    def install(self, libraries, cancellable=None):
        return super().install(_check_libraries(libraries), cancellable)

    def execute_command_async(self, command, workdir, cancellable, callback, *user_data):
        return super().execute_command_async(_check_text(command, 'command'), _check_text(workdir, 'workdir'),
                                             cancellable, callback, *user_data)

    def execute_argv_async(self, argv, workdir, cancellable, callback, *user_data):
        return super().execute_argv_async(_check_strv(argv, 'argv'), _check_text(workdir, 'workdir'),
                                          cancellable, callback, *user_data)

    def install_async(self, libraries, cancellable, callback, *user_data):
        return super().install_async(_check_libraries(libraries), cancellable, callback, *user_data)

    def is_safe(self, code):
        """Returns ``(is_safe, violations)``: whether the session's security
        policy lets ``code`` run, and every SecurityPattern that matched."""
        return super().is_safe(_check_text(code, 'code'))

    def copy_to_runtime(self, src, dest, cancellable=None):
        return super().copy_to_runtime(_check_path(src, 'src'), _check_path(dest, 'dest'), cancellable)

    def copy_from_runtime(self, src, dest, cancellable=None):
        return super().copy_from_runtime(_check_path(src, 'src'), _check_path(dest, 'dest'), cancellable)

    def copy_to_runtime_async(self, src, dest, cancellable, callback, *user_data):
        return super().copy_to_runtime_async(_check_path(src, 'src'), _check_path(dest, 'dest'),
                                             cancellable, callback, *user_data)

    def copy_from_runtime_async(self, src, dest, cancellable, callback, *user_data):
        return super().copy_from_runtime_async(_check_path(src, 'src'), _check_path(dest, 'dest'),
                                               cancellable, callback, *user_data)


SandboxSession = override(SandboxSession)
__all__.append('SandboxSession')


class SandboxPool(Llmsbx.SandboxPool):
    """Warm sandboxes handed to one user at a time, reset between users.

    Keyword arguments are the pool's properties (``lang``, ``backend``,
    ``min_size``, ``max_size``, ``idle_timeout``, ``max_lifetime``,
    ``max_uses``, ``exhaustion_strategy``, ...). ``runtime_configs`` may be a
    dict, ``exhaustion_strategy`` a PoolExhaustion or its name ("fail_fast",
    "wait", "temporary"). As a context manager it is started and closed::

        with Llmsbx.SandboxPool(lang="python", min_size=2) as pool:
            with Llmsbx.SandboxSession(pool=pool) as session:
                print(session.run("print(6*7)").stdout)
    """

    def __init__(self, **kwargs):
        configs = kwargs.get('runtime_configs')
        if configs is not None:
            kwargs['runtime_configs'] = _to_vardict(configs)
        strategy = kwargs.get('exhaustion_strategy')
        if isinstance(strategy, str):
            try:
                kwargs['exhaustion_strategy'] = getattr(Llmsbx.PoolExhaustion, strategy.upper())
            except AttributeError:
                raise _invalid_argument('unknown exhaustion strategy %r: use fail_fast, wait or temporary'
                                        % strategy) from None
        for name, value in kwargs.items():
            _check_text(value, name)
        super().__init__(**kwargs)

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, exc_type, exc, traceback):
        self.close()
        return False

    def acquire(self, cancellable=None):
        """An open SandboxSession on a sandbox of the pool; closing it gives
        the sandbox back."""
        return super().acquire(cancellable)

    def close(self, cancellable=None):
        return super().close(cancellable)

    def get_stats(self):
        """The pool's statistics as a dict (see llmsbx_sandbox_pool_get_stats)."""
        return super().get_stats().unpack()


SandboxPool = override(SandboxPool)
__all__.append('SandboxPool')


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


_SAFE = Llmsbx.SecurityIssueSeverity.SAFE


class SecurityPattern(Llmsbx.SecurityPattern):
    """A regular expression a security policy looks for in code. An invalid
    expression raises GLib.Error (LLMSBX_ERROR_INVALID_ARGUMENT) here, with
    the regex engine's message::

        Llmsbx.SecurityPattern(pattern=r"os\.system", description="System command execution",
                               severity=Llmsbx.SecurityIssueSeverity.HIGH)
    """

    def __init__(self, pattern=None, description='', severity=_SAFE, **kwargs):
        super().__init__(pattern=_check_text(pattern, 'pattern'),
                         description=_check_text(description, 'description'), severity=severity, **kwargs)
        self.init(None)

    pattern = property(Llmsbx.SecurityPattern.get_pattern)
    description = property(Llmsbx.SecurityPattern.get_description)
    severity = property(Llmsbx.SecurityPattern.get_severity)
    module = property(Llmsbx.SecurityPattern.get_module)

    def __repr__(self):
        return '<Llmsbx.SecurityPattern pattern=%r description=%r severity=%s>' % (
            self.pattern, self.description, self.severity.value_nick.upper())


SecurityPattern = override(SecurityPattern)
__all__.append('SecurityPattern')


class RestrictedModule(Llmsbx.RestrictedModule):
    """A module that code must not import (and install() must not install)."""

    def __init__(self, name=None, description='', severity=_SAFE, **kwargs):
        super().__init__(name=_check_text(name, 'name'), description=_check_text(description, 'description'),
                         severity=severity, **kwargs)

    name = property(Llmsbx.RestrictedModule.get_name)
    description = property(Llmsbx.RestrictedModule.get_description)
    severity = property(Llmsbx.RestrictedModule.get_severity)

    def __repr__(self):
        return '<Llmsbx.RestrictedModule name=%r description=%r severity=%s>' % (
            self.name, self.description, self.severity.value_nick.upper())


RestrictedModule = override(RestrictedModule)
__all__.append('RestrictedModule')


class SecurityPolicy(Llmsbx.SecurityPolicy):
    """Patterns and restricted modules, and the severity from which they
    block code; ``patterns`` and ``restricted_modules`` may be given as lists.
    The ``patterns`` and ``restricted_modules`` attributes are tuples (copies):
    add with add_pattern() and add_restricted_module()."""

    def __init__(self, severity_threshold=_SAFE, patterns=None, restricted_modules=None, **kwargs):
        super().__init__(severity_threshold=severity_threshold, **kwargs)
        for pattern in patterns or ():
            self.add_pattern(pattern)
        for module in restricted_modules or ():
            self.add_restricted_module(module)

    severity_threshold = property(Llmsbx.SecurityPolicy.get_severity_threshold,
                                  Llmsbx.SecurityPolicy.set_severity_threshold)

    @property
    def patterns(self):
        return tuple(self.get_patterns())

    @property
    def restricted_modules(self):
        return tuple(self.get_restricted_modules())

    @classmethod
    def from_json(cls, text):
        return Llmsbx.SecurityPolicy.new_from_json(_check_text(text, 'text'))


SecurityPolicy = override(SecurityPolicy)
__all__.append('SecurityPolicy')


def _unpack(variant):
    return variant.unpack() if variant is not None else None


class SecurityPreset(Llmsbx.SecurityPreset):
    """A preset's security configuration: ``security_policy``, and
    ``runtime_config`` as a dict that may be changed in place before it is
    given to a session (None for Kubernetes, which has
    ``pod_manifest_fragment`` instead)."""

    name = property(Llmsbx.SecurityPreset.get_name)
    lang = property(Llmsbx.SecurityPreset.get_lang)
    backend = property(Llmsbx.SecurityPreset.get_backend)
    security_policy = property(Llmsbx.SecurityPreset.get_security_policy)

    @property
    def runtime_config(self):
        # One dict per preset object, so `config.runtime_config[key] = value` sticks.
        if '_runtime_config' not in self.__dict__:
            self.__dict__['_runtime_config'] = _unpack(self.get_runtime_config())
        return self.__dict__['_runtime_config']

    @runtime_config.setter
    def runtime_config(self, config):
        self.set_runtime_config(_to_vardict(config) if config is not None else None)
        self.__dict__['_runtime_config'] = config

    @property
    def pod_manifest_fragment(self):
        return _unpack(self.get_pod_manifest_fragment())


SecurityPreset = override(SecurityPreset)
__all__.append('SecurityPreset')


def get_security_preset(preset_name, language='python', backend='docker'):
    """Returns a SecurityPreset: ``get_security_preset("strict", "python", "docker")``."""
    return Llmsbx.get_security_preset(_check_text(preset_name, 'preset_name'), _check_text(language, 'language'),
                                      _check_text(backend, 'backend'))


__all__.append('get_security_preset')


def register_language_handler(handler):
    """Registers a language handler (an instance, or a class to instantiate)
    in the default registry, so sessions accept its name as ``lang``.
    Returns the registered instance."""
    if isinstance(handler, type):
        handler = handler()
    Llmsbx.Registry.get_default().register_language(handler)
    return handler


__all__.append('register_language_handler')
