# test-live-output.py: on_stdout/on_stderr callbacks of run() and execute_command().
import unittest

from llmsbxtest import Llmsbx, SessionTestCase  # noqa: F401

CODE = '''import sys
for i in range(3):
    print(i)
print("é" * 5000)
sys.stderr.write("warn\\n")
sys.stdout.buffer.write(b"\\xffend\\n")
sys.exit(4)
'''


class LiveOutputTest(SessionTestCase):

    def setUp(self):
        self.session = self.new_session(lang='python')
        self.session.open()

    def test_run_callbacks(self):
        out, err = [], []
        result = self.session.run(CODE, on_stdout=out.append, on_stderr=err.append)
        self.assertEqual(result.exit_code, 4)
        self.assertEqual(result.stderr, 'warn\n')
        self.assertEqual(''.join(err), 'warn\n')
        expected = '0\n1\n2\n' + 'é' * 5000 + '\n\ufffdend\n'
        self.assertEqual(''.join(out), expected)
        self.assertEqual(result.stdout_bytes.decode('utf-8', errors='replace'), expected)

    def test_only_stderr_callback(self):
        err = []
        result = self.session.run(CODE, on_stderr=err.append)
        self.assertEqual(''.join(err), 'warn\n')
        self.assertEqual(result.exit_code, 4)

    def test_execute_command_callbacks(self):
        out = []
        result = self.session.execute_command('echo one; echo two; exit 2', on_stdout=out.append)
        self.assertEqual(''.join(out), 'one\ntwo\n')
        self.assertEqual(result.exit_code, 2)

    def test_callback_error_is_raised_and_session_stays_usable(self):
        calls = []

        def failing(text):
            calls.append(text)
            raise ValueError('callback refused')

        with self.assertRaisesRegex(ValueError, 'callback refused'):
            self.session.run('print("a")\nprint("b")', on_stdout=failing)
        self.assertEqual(len(calls), 1)
        self.assertEqual(self.session.run('print(1)').stdout, '1\n')

    def test_handlers_disconnected_after_the_call(self):
        out = []
        self.session.run('print("first")', on_stdout=out.append)
        self.session.run('print("second")')
        self.assertEqual(''.join(out), 'first\n')


if __name__ == '__main__':
    unittest.main(verbosity=2)
