# Llmsbx.py: PyGObject overrides for the Llmsbx namespace.
#
# Only Python conveniences live here (keyword defaults, dicts for runtime
# configs, the context manager, text callbacks, result attributes, the
# exception classes of llm-sandbox, `logger=`, asyncio); every behaviour is
# the C library's.

import asyncio
import codecs
import contextlib
import enum
import functools
import logging
import os
import threading
import warnings

from gi.repository import GLib, Gio

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


# Names ------------------------------------------------------------------

try:
    _StrEnum = enum.StrEnum
except AttributeError:  # Python < 3.11
    class _StrEnum(str, enum.Enum):
        def __str__(self):
            return self.value

        __format__ = str.__format__


class SandboxBackend(_StrEnum):
    """The names of the backends this project ships (``Llmsbx.BACKEND_*`` in
    C, GJS and Vala). Members are strings, so ``backend=`` takes them and
    any other plugin's name alike: ``SandboxBackend.DOCKER == "docker"``."""

    DOCKER = Llmsbx.BACKEND_DOCKER
    PODMAN = Llmsbx.BACKEND_PODMAN
    KUBERNETES = Llmsbx.BACKEND_KUBERNETES
    BUBBLEWRAP = Llmsbx.BACKEND_BUBBLEWRAP


__all__.append('SandboxBackend')


# Exceptions -------------------------------------------------------------
#
# Every failure of the library is a GLib.Error of the Llmsbx.Error domain; the
# overrides raise it as an instance of the class for its code, a subclass of
# GLib.Error with the same domain, code and message, so that
# `except Llmsbx.SandboxTimeoutError` and `except GLib.Error` (with
# `error.matches (...)`) both work. Other domains (Gio.IOErrorEnum from a
# transport) become SandboxError with their own domain and code, except a
# cancellation, which stays what it is.

class SandboxError(GLib.Error):
    """Base class of the library's failures; a GLib.Error."""

    def __init__(self, message='unknown error', domain=None, code=None):
        if domain is None:
            domain = GLib.quark_to_string(Llmsbx.error_quark())
        if code is None:
            code = int(getattr(type(self), '_code', Llmsbx.Error.FAILED))
        super().__init__(message, domain, code)


def _error_class(name, code, base=SandboxError, doc=None, **attributes):
    cls = type(name, (base,), dict(attributes, _code=code, __doc__=doc, __module__=__name__))
    __all__.append(name)
    return cls


InvalidArgumentError = _error_class('InvalidArgumentError', Llmsbx.Error.INVALID_ARGUMENT,
                                    doc='A parameter or configuration value is not valid.')
SandboxTimeoutError = _error_class('SandboxTimeoutError', Llmsbx.Error.TIMEOUT,
                                   doc='A run ran out of time; ``timeout_duration`` is the limit in seconds.',
                                   timeout_duration=None)
SessionExpiredError = _error_class('SessionExpiredError', Llmsbx.Error.SESSION_EXPIRED, SandboxTimeoutError,
                                   doc='The session outlived its session_timeout (``timeout_duration``) '
                                       'and was closed.')
SecurityViolationError = _error_class('SecurityViolationError', Llmsbx.Error.SECURITY_VIOLATION,
                                      doc='The security policy refused code or a library; ``violations`` '
                                          'lists the SecurityPattern (or RestrictedModule) objects.',
                                      violations=())
LibraryInstallationNotSupportedError = _error_class(
    'LibraryInstallationNotSupportedError', Llmsbx.Error.LIBRARY_INSTALLATION_NOT_SUPPORTED,
    doc='Libraries cannot be installed (skip_environment_setup, or no package manager).')
LibraryInstallationError = _error_class('LibraryInstallationError', Llmsbx.Error.LIBRARY_INSTALLATION_FAILED,
                                        doc='The package manager failed to install a library.')
BackendUnavailableError = _error_class('BackendUnavailableError', Llmsbx.Error.BACKEND_UNAVAILABLE,
                                       doc='The container engine or cluster cannot be reached.')
UnsupportedBackendError = _error_class('UnsupportedBackendError', Llmsbx.Error.BACKEND_NOT_SUPPORTED,
                                       BackendUnavailableError,
                                       doc='No backend plugin of that name is installed.')
ImageNotFoundError = _error_class('ImageNotFoundError', Llmsbx.Error.IMAGE_NOT_FOUND,
                                  doc='The image is not present and could not be pulled.')
ImageBuildError = _error_class('ImageBuildError', Llmsbx.Error.IMAGE_BUILD_FAILED,
                               doc='Building the image from a Dockerfile failed.')
LanguageNotSupportedError = _error_class('LanguageNotSupportedError', Llmsbx.Error.LANGUAGE_NOT_SUPPORTED,
                                         doc='No language handler of that name is registered.')
NotOpenSessionError = _error_class('NotOpenSessionError', Llmsbx.Error.NOT_OPEN,
                                   doc='The session is not open (or was closed during the call).')
ContainerError = _error_class('ContainerError', Llmsbx.Error.CONTAINER_FAILED,
                              doc='The engine refused or failed an operation on the sandbox.')
CommandEmptyError = _error_class('CommandEmptyError', Llmsbx.Error.COMMAND_EMPTY,
                                 doc='An empty command was given.')
CommandNotStartedError = _error_class('CommandNotStartedError', Llmsbx.Error.COMMAND_NOT_STARTED,
                                      doc='The program or working directory of a command is missing, '
                                          'or no process could be started.')
SecurityError = _error_class('SecurityError', Llmsbx.Error.PATH_TRAVERSAL,
                             doc='A path tried to escape its directory.')
SandboxFileNotFoundError = _error_class('SandboxFileNotFoundError', Llmsbx.Error.FILE_NOT_FOUND,
                                        doc='A file to copy does not exist.')
PluginError = _error_class('PluginError', Llmsbx.Error.PLUGIN,
                           doc='A plugin could not be loaded.')
ProtocolError = _error_class('ProtocolError', Llmsbx.Error.PROTOCOL,
                             doc='The engine answered something the library cannot understand.')
ResourceLimitError = _error_class('ResourceLimitError', Llmsbx.Error.LIMIT_EXCEEDED,
                                  doc="A copy is larger than the session's copy_limit.")
__all__.append('SandboxError')

_ERROR_CLASSES = {int(cls._code): cls for cls in (
    InvalidArgumentError, SandboxTimeoutError, SessionExpiredError, SecurityViolationError,
    LibraryInstallationNotSupportedError, LibraryInstallationError, BackendUnavailableError,
    UnsupportedBackendError, ImageNotFoundError, ImageBuildError, LanguageNotSupportedError,
    NotOpenSessionError, ContainerError, CommandEmptyError, CommandNotStartedError, SecurityError,
    SandboxFileNotFoundError, PluginError, ProtocolError, ResourceLimitError)}
_ERROR_CLASSES[int(Llmsbx.Error.FAILED)] = SandboxError


def _typed_error(error):
    """The exception to raise for ``error``: a GLib.Error of the library
    becomes the instance of its class (same domain, code, message)."""
    if not isinstance(error, GLib.Error) or isinstance(error, SandboxError):
        return error
    if error.matches(Gio.io_error_quark(), Gio.IOErrorEnum.CANCELLED):
        return error
    if error.matches(Llmsbx.error_quark(), error.code):
        cls = _ERROR_CLASSES.get(error.code, SandboxError)
    else:
        cls = SandboxError
    typed = cls(error.message, error.domain, error.code)
    typed.__dict__.update({key: value for key, value in error.__dict__.items()
                           if key not in ('message', 'domain', 'code')})
    return typed


def _raise_typed(error):
    typed = _typed_error(error)
    if typed is error:
        raise error
    raise typed.with_traceback(error.__traceback__) from None


def _typed_errors(function):
    """Decorates ``function`` so that the GLib.Error it raises is typed."""
    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except GLib.Error as error:
            _raise_typed(error)
    return wrapper


def _wrap_errors(cls, gi_class):
    """Types the errors of every method of ``gi_class`` that can raise one,
    in ``cls`` (the override), whether ``cls`` redefines it or not."""
    for name, info in list(gi_class.__dict__.items()):
        if name.startswith('_') or not hasattr(info, 'can_throw_gerror') or not info.can_throw_gerror():
            continue
        own = cls.__dict__.get(name)
        if isinstance(own, (staticmethod, classmethod)):
            setattr(cls, name, type(own)(_typed_errors(own.__func__)))
        elif own is not None:
            setattr(cls, name, _typed_errors(own))
        elif info.is_method():
            setattr(cls, name, _typed_errors(_unbound(info)))
        elif info.is_constructor():
            setattr(cls, name, classmethod(_typed_errors(_constructor(info))))
        else:
            setattr(cls, name, staticmethod(_typed_errors(info)))
    return cls


def _constructor(info):
    # GI binds a constructor to the class it is looked up on.
    def constructor(cls, *args, **kwargs):
        return info(cls, *args, **kwargs)
    constructor.__name__ = info.get_name()
    return constructor


# A partial is no descriptor: make the unbound call a function again.
def _unbound(info):
    def method(self, *args, **kwargs):
        return info(self, *args, **kwargs)
    method.__name__ = info.get_name()
    method.__doc__ = getattr(info, '__doc__', None)
    return method


def _package_base_name(library):
    # As the library compares a library with a restricted module's name
    # (llmsbx-security-scanner.c): up to a version or marker, lower case,
    # '-', '_' and '.' alike.
    start = 1 if library.startswith('@') else 0
    end = len(library)
    for index in range(start, len(library)):
        if library[index] in '=<>!~[;@: ':
            end = index
            break
    return library[:end].lower().replace('_', '-').replace('.', '-')


class _LiveOutput:
    """Connects text callbacks to the session's "output" signal for one call.

    Each stream is decoded incrementally, so a UTF-8 character split across
    chunks arrives whole; undecodable bytes become U+FFFD. An exception raised
    by a callback stops further deliveries and is raised once the call has
    returned (an error of the call itself takes precedence). With ``loop``
    (an asyncio loop), the callbacks run in that loop's thread."""

    def __init__(self, session, on_stdout, on_stderr, loop=None):
        self._session = session
        self._handler_id = None
        self._callbacks = {}
        self._decoders = {}
        self._loop = loop
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
        if decoder is None:
            return
        text = decoder.decode(chunk.get_data())
        if self._loop is None:
            self._deliver(int(stream), text)
        else:
            self._loop.call_soon_threadsafe(self._deliver, int(stream), text)

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
def _error_details(session, limit=None, code=None, libraries=None):
    """Types the GLib.Error raised in the block and gives it what llm-sandbox's
    exceptions carry: a timeout's ``timeout_duration`` (the limit in seconds
    that ran out), a security violation's ``violations``."""
    try:
        yield
    except GLib.Error as error:
        _raise_typed(_detailed_error(error, session, limit, code, libraries))


def _detailed_error(error, session, limit=None, code=None, libraries=None):
    if not isinstance(error, GLib.Error):
        return error
    domain = Llmsbx.error_quark()
    if error.matches(domain, Llmsbx.Error.TIMEOUT):
        error.timeout_duration = limit
    elif error.matches(domain, Llmsbx.Error.SESSION_EXPIRED):
        error.timeout_duration = session.props.session_timeout
    elif error.matches(domain, Llmsbx.Error.SECURITY_VIOLATION):
        error.violations = tuple(_violations(session, code, libraries))
    return _typed_error(error)


def _violations(session, code, libraries):
    violations = []
    if code is not None:
        try:
            safe, found = Llmsbx.SandboxSession.is_safe(session, code)
        except GLib.Error:
            safe, found = True, []
        if not safe:
            violations.extend(found)
    policy = session.get_security_policy()
    if policy is not None and libraries:
        wanted = {_package_base_name(library) for library in libraries}
        violations.extend(module for module in policy.get_restricted_modules()
                          if _package_base_name(module.get_name()) in wanted)
    return violations


# GLib's levels as logging's: a verbose session logs at MESSAGE, others at DEBUG.
_LOG_LEVELS = (
    (GLib.LogLevelFlags.LEVEL_ERROR, logging.CRITICAL),
    (GLib.LogLevelFlags.LEVEL_CRITICAL, logging.ERROR),
    (GLib.LogLevelFlags.LEVEL_WARNING, logging.WARNING),
    (GLib.LogLevelFlags.LEVEL_MESSAGE, logging.INFO),
    (GLib.LogLevelFlags.LEVEL_INFO, logging.INFO),
    (GLib.LogLevelFlags.LEVEL_DEBUG, logging.DEBUG),
)


def _python_log_level(level):
    for flag, python_level in _LOG_LEVELS:
        if int(level) & int(flag):
            return python_level
    return logging.DEBUG


def _forward_log(session, level, session_id, message, logger):
    python_level = _python_log_level(level)
    if logger.isEnabledFor(python_level):
        logger.log(python_level, '%s', message,
                   extra={'session_id': session_id, 'glib_domain': 'Llmsbx'})


class SandboxSession(Llmsbx.SandboxSession):
    """A sandbox that runs code.

    Keyword arguments are the session's properties (``lang``, ``backend``,
    ``image``, ``skip_environment_setup``, ...). ``runtime_configs`` may be a
    dict. ``logger``, a ``logging.Logger``, receives the session's log (the
    lines ``verbose`` shows at INFO, DEBUG otherwise), each record with the
    session's id as ``record.session_id``. Use it as a context manager to
    open and close it::

        with Llmsbx.SandboxSession(lang="python") as session:
            print(session.run("print(6*7)").stdout)
    """

    def __init__(self, logger=None, **kwargs):
        configs = kwargs.get('runtime_configs')
        if configs is not None:
            kwargs['runtime_configs'] = _to_vardict(configs)
        manifest = kwargs.get('pod_manifest')
        if isinstance(manifest, dict):
            kwargs['pod_manifest'] = _to_vardict(manifest, 'pod_manifest')
        for name, value in kwargs.items():
            _check_text(value, name)
        super().__init__(**kwargs)
        self.logger = logger
        # GInitable: an invalid limit (negative, NaN, infinite timeouts)
        # raises InvalidArgumentError here, not at open().
        try:
            self.init(None)
        except GLib.Error as error:
            _raise_typed(error)

    @property
    def logger(self):
        """The ``logging.Logger`` that receives the session's log, or None."""
        return self.__dict__.get('_logger')

    @logger.setter
    def logger(self, logger):
        handler_id = self.__dict__.pop('_log_handler_id', None)
        if handler_id is not None:
            self.disconnect(handler_id)
        self.__dict__['_logger'] = logger
        if logger is not None:
            self.__dict__['_log_handler_id'] = self.connect('log', _forward_log, logger)

    def set_property(self, name, value):
        if name.replace('-', '_') == 'pod_manifest' and isinstance(value, dict):
            value = _to_vardict(value, 'pod_manifest')
        super().set_property(name, _check_text(value, name))

    def set_runtime_configs(self, configs):
        super().set_runtime_configs(_to_vardict(configs))

    def set_runtime_configs_json(self, json):
        return super().set_runtime_configs_json(_check_text(json, 'json'))

    def set_pod_manifest_json(self, json):
        return super().set_pod_manifest_json(_check_text(json, 'json'))

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
        with _error_details(self):
            return super().open(cancellable)

    def close(self, cancellable=None):
        with _error_details(self):
            return super().close(cancellable)

    def _run_limit(self, timeout):
        return timeout or self.props.execution_timeout or self.props.default_timeout

    def run(self, code, libraries=None, timeout=0.0, on_stdout=None, on_stderr=None,
            cancellable=None):
        """Runs ``code`` and returns its ExecutionResult. ``libraries`` are
        installed first; ``timeout`` in seconds (0: the session's default).
        ``on_stdout``/``on_stderr`` receive the output as text while it runs.
        A timeout raises SandboxTimeoutError whose ``timeout_duration`` is the
        limit in seconds that ran out."""
        code = _check_text(code, 'code')
        libraries = _check_libraries(libraries)
        with _error_details(self, self._run_limit(timeout), code, libraries), \
                _LiveOutput(self, on_stdout, on_stderr):
            return super().run(code, libraries, timeout, cancellable)

    def run_async(self, code, libraries, timeout, cancellable, callback, *user_data):
        return super().run_async(_check_text(code, 'code'), _check_libraries(libraries), timeout,
                                 cancellable, callback, *user_data)

    def execute_command(self, command, workdir=None, on_stdout=None, on_stderr=None,
                        cancellable=None):
        """Runs ``command`` with a shell inside the sandbox."""
        command = _check_text(command, 'command')
        workdir = _check_text(workdir, 'workdir')
        with _error_details(self, self.props.default_timeout), _LiveOutput(self, on_stdout, on_stderr):
            return super().execute_command(command, workdir, cancellable)

    def execute_argv(self, argv, workdir=None, on_stdout=None, on_stderr=None,
                     cancellable=None):
        """Runs ``argv`` as is inside the sandbox, no shell involved."""
        argv = _check_strv(argv, 'argv')
        workdir = _check_text(workdir, 'workdir')
        with _error_details(self, self.props.default_timeout), _LiveOutput(self, on_stdout, on_stderr):
            return super().execute_argv(argv, workdir, cancellable)

    def install(self, libraries, cancellable=None):
        libraries = _check_libraries(libraries)
        with _error_details(self, self.props.default_timeout, libraries=libraries):
            return super().install(libraries, cancellable)

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
        with _error_details(self):
            return super().copy_to_runtime(_check_path(src, 'src'), _check_path(dest, 'dest'), cancellable)

    def copy_from_runtime(self, src, dest, cancellable=None):
        with _error_details(self):
            return super().copy_from_runtime(_check_path(src, 'src'), _check_path(dest, 'dest'), cancellable)

    def copy_to_runtime_async(self, src, dest, cancellable, callback, *user_data):
        return super().copy_to_runtime_async(_check_path(src, 'src'), _check_path(dest, 'dest'),
                                             cancellable, callback, *user_data)

    def copy_from_runtime_async(self, src, dest, cancellable, callback, *user_data):
        return super().copy_from_runtime_async(_check_path(src, 'src'), _check_path(dest, 'dest'),
                                               cancellable, callback, *user_data)


_wrap_errors(SandboxSession, Llmsbx.SandboxSession)
SandboxSession = override(SandboxSession)
__all__.append('SandboxSession')


# asyncio ----------------------------------------------------------------
#
# PyGObject 3.42 has no asyncio integration, and an asyncio loop runs no GLib
# main context. The _async methods are therefore started in one GLib main
# context of the process, run by a thread of its own, where their callbacks
# (and the session's "output" and "log" signals) arrive; results go back to
# the caller's asyncio loop with call_soon_threadsafe. Cancelling the
# awaiting task cancels a Gio.Cancellable given to the call, which kills what
# the call started, and the task's CancelledError is raised only once the
# call has ended.

class _GLibThread:
    _lock = threading.Lock()
    _instance = None

    @classmethod
    def get(cls):
        with cls._lock:
            if cls._instance is None:
                cls._instance = cls()
            return cls._instance

    def __init__(self):
        self.context = GLib.MainContext.new()
        ready = threading.Event()
        thread = threading.Thread(target=self._run, args=(ready,), name='llmsbx-glib', daemon=True)
        thread.start()
        ready.wait()

    def _run(self, ready):
        self.context.push_thread_default()
        loop = GLib.MainLoop.new(self.context, False)
        ready.set()
        loop.run()

    def call(self, function):
        """Calls ``function()`` in the GLib thread, with its context as the
        thread-default one (so GTask callbacks come back there)."""
        def once(*unused):
            function()
            return GLib.SOURCE_REMOVE
        source = GLib.idle_source_new()
        source.set_callback(once)
        source.attach(self.context)


def _settle(future, result=None, error=None):
    if future.done():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)


async def _until_done(future, cancellable):
    """Awaits ``future``; if the awaiting task is cancelled, cancels the call
    through ``cancellable`` and waits for it to end before raising."""
    try:
        return await asyncio.shield(future)
    except asyncio.CancelledError:
        cancellable.cancel()
        try:
            await future
        except BaseException:
            pass
        raise


async def _call_async(session, name, args, details):
    """Runs ``session.<name>_async(*args, cancellable, callback)`` and returns
    what ``<name>_finish`` gives, with its error typed by ``details``."""
    loop = asyncio.get_running_loop()
    future = loop.create_future()
    cancellable = Gio.Cancellable()
    start = getattr(session, name + '_async')
    finish = getattr(Llmsbx.SandboxSession, name + '_finish')

    def done(source, result, *unused):
        try:
            value = finish(session, result)
        except GLib.Error as error:
            loop.call_soon_threadsafe(_settle, future, None, details(error))
        except BaseException as error:
            loop.call_soon_threadsafe(_settle, future, None, error)
        else:
            loop.call_soon_threadsafe(_settle, future, value)

    def begin():
        try:
            start(*args, cancellable, done)
        except BaseException as error:
            loop.call_soon_threadsafe(_settle, future, None, error)

    _GLibThread.get().call(begin)
    return await _until_done(future, cancellable)


async def _call(session, name, args, details):
    return await _call_async(session, name, args, details)


class AsyncSandboxSession:
    """A SandboxSession for asyncio: the same keyword arguments, and
    coroutines for what takes time::

        async with Llmsbx.AsyncSandboxSession(lang="python") as session:
            result = await session.run("print(6*7)")

    ``open``, ``close``, ``run``, ``execute_command``, ``execute_argv``,
    ``install``, ``copy_to_runtime`` and ``copy_from_runtime`` are awaitable
    and raise the same exceptions as SandboxSession's; cancelling the task
    that awaits one cancels the call and kills what it started. Calls on one
    session run one after the other; sessions run concurrently. Everything
    else (``is_safe``, properties, ``session``, the underlying
    SandboxSession) is as on SandboxSession. ``on_stdout``/``on_stderr`` are
    called in the event loop's thread."""

    def __init__(self, **kwargs):
        self.session = SandboxSession(**kwargs)

    def __getattr__(self, name):
        return getattr(self.session, name)

    async def __aenter__(self):
        try:
            await self.open()
        except BaseException:
            await self._close_after_error()
            raise
        return self

    async def __aexit__(self, exc_type, exc, traceback):
        if exc_type is None:
            await self.close()
        else:
            await self._close_after_error()
        return False

    async def _close_after_error(self):
        try:
            await asyncio.shield(self.close())
        except GLib.Error as error:
            warnings.warn('closing the sandbox session failed: ' + error.message,
                          RuntimeWarning, stacklevel=3)

    def _details(self, limit=None, code=None, libraries=None):
        return lambda error: _detailed_error(error, self.session, limit, code, libraries)

    async def _with_output(self, name, args, details, on_stdout, on_stderr):
        live = _LiveOutput(self.session, on_stdout, on_stderr, asyncio.get_running_loop())
        with live:
            return await _call(self.session, name, args, details)

    async def open(self):
        return await _call(self.session, 'open', (), self._details())

    async def close(self):
        return await _call(self.session, 'close', (), self._details())

    async def run(self, code, libraries=None, timeout=0.0, on_stdout=None, on_stderr=None):
        code = _check_text(code, 'code')
        libraries = _check_libraries(libraries)
        details = self._details(self.session._run_limit(timeout), code, libraries)
        return await self._with_output('run', (code, libraries, timeout), details, on_stdout, on_stderr)

    async def execute_command(self, command, workdir=None, on_stdout=None, on_stderr=None):
        args = (_check_text(command, 'command'), _check_text(workdir, 'workdir'))
        details = self._details(self.session.props.default_timeout)
        return await self._with_output('execute_command', args, details, on_stdout, on_stderr)

    async def execute_argv(self, argv, workdir=None, on_stdout=None, on_stderr=None):
        args = (_check_strv(argv, 'argv'), _check_text(workdir, 'workdir'))
        details = self._details(self.session.props.default_timeout)
        return await self._with_output('execute_argv', args, details, on_stdout, on_stderr)

    async def install(self, libraries):
        libraries = _check_libraries(libraries)
        details = self._details(self.session.props.default_timeout, libraries=libraries)
        return await _call(self.session, 'install', (libraries,), details)

    async def copy_to_runtime(self, src, dest):
        args = (_check_path(src, 'src'), _check_path(dest, 'dest'))
        return await _call(self.session, 'copy_to_runtime', args, self._details())

    async def copy_from_runtime(self, src, dest):
        args = (_check_path(src, 'src'), _check_path(dest, 'dest'))
        return await _call(self.session, 'copy_from_runtime', args, self._details())


__all__.append('AsyncSandboxSession')


class SandboxPool(Llmsbx.SandboxPool):
    """Warm sandboxes handed to one user at a time, reset between users.

    Keyword arguments are the pool's properties (``lang``, ``backend``,
    ``min_size``, ``max_size``, ``idle_timeout``, ``max_lifetime``,
    ``max_uses``, ``exhaustion_strategy``, ...). ``runtime_configs`` and
    ``pod_manifest`` may be dicts, ``exhaustion_strategy`` a PoolExhaustion or its name ("fail_fast",
    "wait", "temporary"). As a context manager it is started and closed::

        with Llmsbx.SandboxPool(lang="python", min_size=2) as pool:
            with Llmsbx.SandboxSession(pool=pool) as session:
                print(session.run("print(6*7)").stdout)
    """

    def __init__(self, **kwargs):
        configs = kwargs.get('runtime_configs')
        if configs is not None:
            kwargs['runtime_configs'] = _to_vardict(configs)
        manifest = kwargs.get('pod_manifest')
        if isinstance(manifest, dict):
            kwargs['pod_manifest'] = _to_vardict(manifest, 'pod_manifest')
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


# Artifacts --------------------------------------------------------------

class FileType(_StrEnum):
    """The formats of files a run brings back, llm-sandbox's names: strings,
    so ``plot.format == "png"`` and ``f"{plot.format}"`` is ``png``. Plots
    are PNG, SVG, PDF, JPEG or HTML (Llmsbx.PlotFormat in C)."""

    PNG = 'png'
    JPEG = 'jpeg'
    PDF = 'pdf'
    SVG = 'svg'
    CSV = 'csv'
    JSON = 'json'
    TXT = 'txt'
    HTML = 'html'


__all__.append('FileType')


def _known(value):
    return value or None


class PlotOutput(Llmsbx.PlotOutput):
    """A plot a run made: ``format`` (a FileType), ``content`` (bytes),
    ``content_base64`` (str), ``width``, ``height`` and ``dpi`` (None when
    the file does not say) and ``filename``."""

    format = property(lambda self: FileType(Llmsbx.plot_format_to_string(self.get_format())))
    content_base64 = property(Llmsbx.PlotOutput.get_content_base64)
    filename = property(Llmsbx.PlotOutput.get_filename)
    width = property(lambda self: _known(self.get_width()))
    height = property(lambda self: _known(self.get_height()))
    dpi = property(lambda self: _known(self.get_dpi()))

    @property
    def content(self):
        return _bytes(self.get_content())

    def __repr__(self):
        return '<Llmsbx.PlotOutput format=%s filename=%r width=%r height=%r %d bytes>' % (
            self.format, self.filename, self.width, self.height, len(self.content))


PlotOutput = override(PlotOutput)
__all__.append('PlotOutput')


class OutputFile(Llmsbx.OutputFile):
    """A file a run left in ``$LLMSBX_OUTPUT_DIR``: ``path`` (relative),
    ``content`` (bytes) and ``content_base64`` (str)."""

    path = property(Llmsbx.OutputFile.get_path)
    content_base64 = property(Llmsbx.OutputFile.get_content_base64)

    @property
    def content(self):
        return _bytes(self.get_content())

    def __repr__(self):
        return '<Llmsbx.OutputFile path=%r %d bytes>' % (self.path, len(self.content))


OutputFile = override(OutputFile)
__all__.append('OutputFile')

ExecutionResult.plots = property(lambda self: list(self.get_plots()),
                                 doc='The plots the run made, in order (a list of PlotOutput).')
ExecutionResult.plots_dropped = property(Llmsbx.ExecutionResult.get_plots_dropped)
ExecutionResult.files = property(lambda self: list(self.get_files()),
                                 doc='The files the run left in $LLMSBX_OUTPUT_DIR (a list of OutputFile).')
ExecutionResult.files_dropped = property(Llmsbx.ExecutionResult.get_files_dropped)


class ArtifactSandboxSession(Llmsbx.ArtifactSandboxSession):
    """A SandboxSession whose runs bring back the plots their code makes, in
    ``result.plots``: matplotlib, seaborn and plotly in Python, base graphics
    and ggplot2 in R; with ``collect_files=True``, the files the code writes
    into ``$LLMSBX_OUTPUT_DIR`` in ``result.files``. ``enable_plotting``
    (default True), ``max_plots``, ``max_plot_bytes``, ``collect_files``,
    ``max_files`` and ``max_file_bytes`` are its own keyword arguments; the
    rest are SandboxSession's::

        with Llmsbx.ArtifactSandboxSession(lang="python", enable_plotting=True) as session:
            result = session.run("import matplotlib.pyplot as plt; plt.plot([1, 4]); plt.show()")
            for plot in result.plots:
                print(plot.format, len(plot.content_base64))
    """


ArtifactSandboxSession = override(ArtifactSandboxSession)
__all__.append('ArtifactSandboxSession')


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
        try:
            self.init(None)
        except GLib.Error as error:
            _raise_typed(error)

    pattern = property(Llmsbx.SecurityPattern.get_pattern)
    description = property(Llmsbx.SecurityPattern.get_description)
    severity = property(Llmsbx.SecurityPattern.get_severity)
    module = property(Llmsbx.SecurityPattern.get_module)

    def __repr__(self):
        return '<Llmsbx.SecurityPattern pattern=%r description=%r severity=%s>' % (
            self.pattern, self.description, self.severity.value_nick.upper())


_wrap_errors(SecurityPattern, Llmsbx.SecurityPattern)
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
    @_typed_errors
    def from_json(cls, text):
        return Llmsbx.SecurityPolicy.new_from_json(_check_text(text, 'text'))


_wrap_errors(SecurityPolicy, Llmsbx.SecurityPolicy)
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


@_typed_errors
def get_security_preset(preset_name, language='python', backend='docker'):
    """Returns a SecurityPreset: ``get_security_preset("strict", "python", "docker")``."""
    return Llmsbx.get_security_preset(_check_text(preset_name, 'preset_name'), _check_text(language, 'language'),
                                      _check_text(backend, 'backend'))


__all__.append('get_security_preset')


@_typed_errors
def get_security_policy(preset_name, language='python'):
    """Returns a new SecurityPolicy, the one of a preset for ``language``,
    to layer more patterns on (the guide's "Layer Security Policies")::

        base_policy = get_security_policy("production")
        base_policy.add_pattern(SecurityPattern(...))
    """
    return Llmsbx.get_security_policy(_check_text(preset_name, 'preset_name'), _check_text(language, 'language'))


__all__.append('get_security_policy')


def list_available_presets():
    """Returns the preset names as a list:
    ``['development', 'production', 'strict', 'educational']``."""
    return list(Llmsbx.list_available_presets())


__all__.append('list_available_presets')


class Registry(Llmsbx.Registry):
    pass


_wrap_errors(Registry, Llmsbx.Registry)
Registry = override(Registry)
__all__.append('Registry')


class LanguageConfig(Llmsbx.LanguageConfig):
    pass


_wrap_errors(LanguageConfig, Llmsbx.LanguageConfig)
LanguageConfig = override(LanguageConfig)
__all__.append('LanguageConfig')


for _name in ('expand_command_template', 'strip_comments'):
    _info = getattr(Llmsbx, _name)
    if _info.can_throw_gerror():
        globals()[_name] = _typed_errors(_info)
        __all__.append(_name)
del _name, _info


def register_language_handler(handler):
    """Registers a language handler (an instance, or a class to instantiate)
    in the default registry, so sessions accept its name as ``lang``.
    Returns the registered instance."""
    if isinstance(handler, type):
        handler = handler()
    Registry.get_default().register_language(handler)
    return handler


__all__.append('register_language_handler')
