# test-input-validation.py: what Python hands the library is refused rather
# than cut short or weakened.
#
# PyGObject passes C a str up to its first NUL and a list of strings up to its
# first None, so run("print(1)\0print(2)") used to run print(1), and a None in
# a list of libraries dropped the names after it. Invalid limits given to the
# constructor became 0, no limit at all. Each is an error now, naming the
# argument (and the element) at fault.
import os
import tempfile
import unittest

from llmsbxtest import GLib, Llmsbx, SessionTestCase


def is_invalid_argument(error):
    return error.matches(Llmsbx.error_quark(), Llmsbx.Error.INVALID_ARGUMENT)


class ConstructorTest(unittest.TestCase):
    def test_invalid_limits_raise(self):
        for name in ('default_timeout', 'execution_timeout', 'session_timeout'):
            for value in (-5.0, float('nan'), float('inf'), float('-inf'), 1e12):
                with self.subTest(name=name, value=value):
                    with self.assertRaises(GLib.Error) as caught:
                        Llmsbx.SandboxSession(lang='python', **{name: value})
                    self.assertTrue(is_invalid_argument(caught.exception), caught.exception.message)
                    self.assertIn(name.replace('_', '-'), caught.exception.message)

    def test_valid_limits(self):
        session = Llmsbx.SandboxSession(default_timeout=0.0, execution_timeout=0.5, session_timeout=60.0)
        self.assertEqual(session.props.execution_timeout, 0.5)

    def test_nul_in_keyword_arguments(self):
        for name in ('lang', 'image', 'workdir', 'backend', 'container_id'):
            with self.subTest(name=name):
                with self.assertRaises(GLib.Error) as caught:
                    Llmsbx.SandboxSession(**{name: 'py\0thon'})
                self.assertTrue(is_invalid_argument(caught.exception))
                self.assertIn('%s holds a NUL character at offset 2' % name, caught.exception.message)

    def test_nul_in_runtime_configs(self):
        with self.assertRaises(GLib.Error) as caught:
            Llmsbx.SandboxSession(runtime_configs={'environment': {'A': 'x\0y'}})
        self.assertIn("runtime_configs['environment']['A'] holds a NUL", caught.exception.message)
        with self.assertRaises(GLib.Error) as caught:
            Llmsbx.SandboxSession(runtime_configs={'cap_drop': ['ALL', 'NET\0RAW']})
        self.assertIn("runtime_configs['cap_drop'][1] holds a NUL", caught.exception.message)

    def test_set_property_refuses_nul(self):
        session = Llmsbx.SandboxSession()
        with self.assertRaises(GLib.Error) as caught:
            session.set_property('image', 'llmsbx/python\0:evil')
        self.assertTrue(is_invalid_argument(caught.exception))
        self.assertIsNone(session.props.image)


class ArgumentTest(SessionTestCase):
    """The checks come before anything reaches the sandbox, and one session
    that is open shows that nothing ran."""

    def setUp(self):
        self.session = self.new_session(lang='python')
        self.session.open()

    def assertRefused(self, call, where):
        with self.assertRaises(GLib.Error) as caught:
            call()
        self.assertTrue(is_invalid_argument(caught.exception), caught.exception.message)
        self.assertIn(where, caught.exception.message)

    def test_nul_in_code_runs_nothing(self):
        self.assertRefused(lambda: self.session.run("open('ran', 'w').write('1')\0print(2)"),
                           'code holds a NUL character at offset 27')
        listing = self.session.execute_command('ls -A')
        self.assertNotIn('ran', listing.stdout.split())

    def test_nul_in_arguments(self):
        session = self.session
        self.assertRefused(lambda: session.run('print(1)', libraries=['six', 'a\0b']), 'libraries[1]')
        self.assertRefused(lambda: session.install(['a\0b']), 'libraries[0]')
        self.assertRefused(lambda: session.execute_command('echo a\0; rm -rf /'), 'command')
        self.assertRefused(lambda: session.execute_command('pwd', workdir='/tmp\0/x'), 'workdir')
        self.assertRefused(lambda: session.execute_argv(['echo', 'a', 'b\0c']), 'argv[2]')
        self.assertRefused(lambda: session.is_safe('x\0y'), 'code')
        self.assertRefused(lambda: session.copy_from_runtime('/etc/hostname\0x', 'out'), 'src')
        self.assertRefused(lambda: session.copy_to_runtime(__file__, b'dest\0x'), 'dest')
        self.assertRefused(lambda: session.set_runtime_configs_json('{"a": 1}\0garbage'), 'json')

    def test_none_in_lists(self):
        # A None would end the list in C, dropping what follows it.
        with self.assertRaises(TypeError) as caught:
            self.session.execute_argv(['echo', None, 'dropped'])
        self.assertIn('argv[1] must be a string, not NoneType', str(caught.exception))
        with self.assertRaises(TypeError) as caught:
            self.session.install(['six', None, 'requests'])
        self.assertIn('libraries[1]', str(caught.exception))
        with self.assertRaises(TypeError):
            self.session.run('print(1)', libraries='numpy')

    def test_invalid_timeouts_per_run(self):
        for value in (-1.0, float('nan'), float('inf')):
            with self.subTest(value=value):
                self.assertRefused(lambda: self.session.run('print(1)', timeout=value), 'Invalid timeout')

    def test_invalid_limit_set_after_construction(self):
        # Properties cannot report errors: the next call refuses the limit.
        self.session.props.execution_timeout = -5.0
        self.assertRefused(lambda: self.session.run('print(1)'), 'Invalid execution-timeout -5')
        self.session.props.execution_timeout = 5.0
        self.assertEqual(self.session.run('print(1)').stdout, '1\n')

    def test_valid_text_still_runs(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, 'in.txt')
            with open(path, 'w') as f:
                f.write('text\n')
            self.session.copy_to_runtime(path, 'in.txt')
        self.assertEqual(self.session.run("print(open('in.txt').read(), end='')").stdout, 'text\n')
        self.assertEqual(self.session.execute_argv(['printf', '%s|', 'a', 'b']).stdout, 'a|b|')


if __name__ == '__main__':
    unittest.main()
