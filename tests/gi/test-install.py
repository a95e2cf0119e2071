# test-install.py: libraries installed offline, from wheels the test builds.
import tempfile
import unittest

from llmsbxtest import Llmsbx, SessionTestCase, build_wheel


class InstallTest(SessionTestCase):

    def test_install_and_run_with_libraries(self):
        session = self.new_session(lang='python')
        session.open()
        with tempfile.TemporaryDirectory() as host:
            build_wheel(host, 'demo', '1.0', 'def answer():\n    return 6 * 7\n')
            build_wheel(host, 'demo2', '2.0', 'NAME = "demo2"\n')
            session.copy_to_runtime(host, '/sandbox/pkg')

        session.install(['/sandbox/pkg/demo-1.0-py3-none-any.whl'])
        result = session.run('import demo; print(demo.answer()); print(demo.__file__)')
        self.assertEqual(result.exit_code, 0, result.stderr)
        answer, location = result.stdout.splitlines()
        self.assertEqual(answer, '42')
        # Installed into the session's venv, not into the image's Python.
        self.assertTrue(location.startswith('/sandbox/.sandbox-venv/'), location)

        result = session.run('import demo2; print(demo2.NAME)',
                             libraries=['/sandbox/pkg/demo2-2.0-py3-none-any.whl'])
        self.assertEqual(result.stdout, 'demo2\n')

        # The venv still sees the image's packages (--system-site-packages).
        result = session.run('import pip; print("pip ok")')
        self.assertEqual(result.stdout, 'pip ok\n')

    def test_failed_installation(self):
        session = self.new_session(lang='python')
        session.open()
        with self.assertLlmsbxError(Llmsbx.Error.LIBRARY_INSTALLATION_FAILED):
            session.install(['/sandbox/pkg/missing-1.0-py3-none-any.whl'])
        with self.assertLlmsbxError(Llmsbx.Error.INVALID_ARGUMENT):
            session.install(['--index-url=http://127.0.0.1:1/'])


if __name__ == '__main__':
    unittest.main(verbosity=2)
