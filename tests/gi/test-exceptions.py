# test-exceptions.py: every code of Llmsbx.Error has its exception class in the
# overrides, a GLib.Error of the same domain and code; errors from methods,
# constructors and functions are raised as those classes, and other domains
# as SandboxError (a cancellation as it is). No daemon needed.
import unittest

import sys

from llmsbxtest import GLib, Llmsbx
from gi.repository import Gio

# The overrides module itself, for its mapping of errors.
overrides = sys.modules['gi.overrides.Llmsbx']

EXPECTED = {
    'FAILED': 'SandboxError',
    'INVALID_ARGUMENT': 'InvalidArgumentError',
    'TIMEOUT': 'SandboxTimeoutError',
    'SECURITY_VIOLATION': 'SecurityViolationError',
    'LIBRARY_INSTALLATION_NOT_SUPPORTED': 'LibraryInstallationNotSupportedError',
    'BACKEND_UNAVAILABLE': 'BackendUnavailableError',
    'BACKEND_NOT_SUPPORTED': 'UnsupportedBackendError',
    'IMAGE_NOT_FOUND': 'ImageNotFoundError',
    'IMAGE_BUILD_FAILED': 'ImageBuildError',
    'LANGUAGE_NOT_SUPPORTED': 'LanguageNotSupportedError',
    'NOT_OPEN': 'NotOpenSessionError',
    'CONTAINER_FAILED': 'ContainerError',
    'COMMAND_EMPTY': 'CommandEmptyError',
    'PATH_TRAVERSAL': 'SecurityError',
    'FILE_NOT_FOUND': 'SandboxFileNotFoundError',
    'PLUGIN': 'PluginError',
    'PROTOCOL': 'ProtocolError',
    'SESSION_EXPIRED': 'SessionExpiredError',
    'LIBRARY_INSTALLATION_FAILED': 'LibraryInstallationError',
    'COMMAND_NOT_STARTED': 'CommandNotStartedError',
    'LIMIT_EXCEEDED': 'ResourceLimitError',
}


def error_codes():
    return {nick.upper().replace('-', '_'): value
            for value, nick in ((v, v.value_nick) for v in Llmsbx.Error.__enum_values__.values())}


class ExceptionsTest(unittest.TestCase):

    def test_every_code_has_its_class(self):
        # A new code without a class (or a row here) fails this test.
        self.assertEqual(set(error_codes()), set(EXPECTED))
        domain = GLib.quark_to_string(Llmsbx.error_quark())
        for name, code in error_codes().items():
            cls = getattr(Llmsbx, EXPECTED[name])
            self.assertTrue(issubclass(cls, Llmsbx.SandboxError), name)
            self.assertTrue(issubclass(cls, GLib.Error), name)
            typed = overrides._typed_error(GLib.Error('what went wrong', domain, int(code)))
            self.assertIs(type(typed), cls, name)
            self.assertEqual((typed.message, typed.domain, typed.code), ('what went wrong', domain, int(code)))
            self.assertTrue(typed.matches(Llmsbx.error_quark(), code), name)
            # Constructed directly, each has its own code.
            self.assertTrue(cls('made by hand').matches(Llmsbx.error_quark(), code), name)

    def test_hierarchy(self):
        self.assertTrue(issubclass(Llmsbx.SessionExpiredError, Llmsbx.SandboxTimeoutError))
        self.assertTrue(issubclass(Llmsbx.UnsupportedBackendError, Llmsbx.BackendUnavailableError))
        self.assertIsNone(Llmsbx.SandboxTimeoutError('x').timeout_duration)
        self.assertEqual(Llmsbx.SecurityViolationError('x').violations, ())

    def test_other_domains(self):
        io = GLib.Error('connection refused', GLib.quark_to_string(Gio.io_error_quark()),
                        int(Gio.IOErrorEnum.CONNECTION_REFUSED))
        typed = overrides._typed_error(io)
        self.assertIs(type(typed), Llmsbx.SandboxError)
        self.assertTrue(typed.matches(Gio.io_error_quark(), Gio.IOErrorEnum.CONNECTION_REFUSED))
        cancelled = GLib.Error('cancelled', GLib.quark_to_string(Gio.io_error_quark()),
                               int(Gio.IOErrorEnum.CANCELLED))
        self.assertIs(overrides._typed_error(cancelled), cancelled)

    def test_raised_from_the_api(self):
        with self.assertRaises(Llmsbx.InvalidArgumentError):
            Llmsbx.SecurityPattern(pattern='(', description='unbalanced')
        with self.assertRaises(Llmsbx.InvalidArgumentError):
            Llmsbx.SecurityPattern.new('(', 'unbalanced', Llmsbx.SecurityIssueSeverity.LOW)
        with self.assertRaises(Llmsbx.InvalidArgumentError):
            Llmsbx.SecurityPolicy.from_json('not json')
        with self.assertRaises(Llmsbx.InvalidArgumentError):
            Llmsbx.get_security_preset('paranoid')
        with self.assertRaises(Llmsbx.LanguageNotSupportedError):
            Llmsbx.get_security_policy('strict', 'cobol')
        with self.assertRaises(Llmsbx.UnsupportedBackendError):
            Llmsbx.Registry.get_default().create_backend('no-such-backend')
        with self.assertRaises(Llmsbx.InvalidArgumentError):
            Llmsbx.SandboxSession(lang='python', default_timeout=float('nan'))
        session = Llmsbx.SandboxSession(lang='python')
        for call in (lambda: session.run('print(1)'), lambda: session.execute_command('true'),
                     lambda: session.install(['x']), lambda: session.copy_to_runtime('/etc/hostname', '/x')):
            with self.assertRaises(Llmsbx.NotOpenSessionError):
                call()
        with self.assertRaises(GLib.Error) as raised:
            session.run('print(1)')
        self.assertTrue(raised.exception.matches(Llmsbx.error_quark(), Llmsbx.Error.NOT_OPEN))
        with self.assertRaises(Llmsbx.LanguageNotSupportedError):
            with Llmsbx.SandboxSession(lang='cobol'):
                pass


if __name__ == '__main__':
    unittest.main(verbosity=2)
