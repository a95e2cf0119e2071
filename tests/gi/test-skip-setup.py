# test-skip-setup.py: the guide's skip_environment_setup example.
import tempfile
import unittest

from llmsbxtest import Llmsbx, SessionTestCase, build_wheel


class SkipEnvironmentSetupTest(SessionTestCase):

    def setUp(self):
        self.session = self.new_session(lang='python', skip_environment_setup=True)
        self.session.open()

    def test_code_runs(self):
        result = self.session.run("print('Hello from pre-configured environment!')")
        self.assertEqual(result.stdout, 'Hello from pre-configured environment!\n')
        # Nothing was set up: no venv in the workdir, before or after runs.
        self.assertEqual(self.session.execute_command('test -e /sandbox/.sandbox-venv').exit_code, 1)

    def test_libraries_refused(self):
        with self.assertLlmsbxError(Llmsbx.Error.LIBRARY_INSTALLATION_NOT_SUPPORTED):
            self.session.run("import requests; print('OK')", libraries=['requests'])
        with self.assertLlmsbxError(Llmsbx.Error.LIBRARY_INSTALLATION_NOT_SUPPORTED):
            self.session.install(['requests'])
        self.assertEqual(self.session.execute_command('test -e /sandbox/.sandbox-venv').exit_code, 1)

    def test_manual_installation_with_execute_command(self):
        with tempfile.TemporaryDirectory() as host:
            wheel = build_wheel(host, 'manual', '1.0', 'VALUE = "OK"\n')
            self.session.copy_to_runtime(wheel, '/sandbox/manual-1.0-py3-none-any.whl')
        # The image's Python is Debian's (PEP 668), so a system-wide install says so.
        result = self.session.execute_command(
            'python3 -m pip install --no-index --break-system-packages '
            '/sandbox/manual-1.0-py3-none-any.whl')
        self.assertEqual(result.exit_code, 0, result.stderr)
        result = self.session.run('import manual; print(manual.VALUE)')
        self.assertEqual(result.stdout, 'OK\n')


if __name__ == '__main__':
    unittest.main(verbosity=2)
