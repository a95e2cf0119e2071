# test-guide-sessions.py: the guide's "Session Configuration" examples
# (basic parameters, skip_environment_setup, library installation behaviour,
# default images), run as written with only their imports changed.
import unittest

import guide
from llmsbxtest import Llmsbx, container_exists


class GuideSessionsTest(unittest.TestCase):

    def test_basic_parameters(self):
        namespace, _ = guide.run('''
            from llm_sandbox import SandboxSession

            session = SandboxSession(
                lang="python",              # Programming language
                verbose=True,               # Enable verbose logging
                keep_template=False,        # Keep container image after session
                workdir="/sandbox",         # Working directory in container
            )
        ''')
        session = namespace['session']
        self.assertIsInstance(session, Llmsbx.SandboxSession)
        self.assertEqual((session.props.lang, session.props.verbose, session.props.keep_template,
                          session.props.workdir), ('python', True, False, '/sandbox'))
        with session:
            self.assertEqual(session.run('import os; print(os.getcwd())').stdout, '/sandbox\n')
            container = session.get_container_id()
        self.assertFalse(container_exists(container))

    def test_skip_environment_setup(self):
        namespace, _ = guide.run('''
            from llm_sandbox import SandboxSession, SandboxBackend

            # Skip environment setup for faster container startup
            with SandboxSession(
                lang="python",
                skip_environment_setup=True,  # Skip pip upgrades and venv creation
                verbose=True
            ) as session:
                result = session.run("print('Hello from pre-configured environment!')")
        ''')
        self.assertEqual(namespace['result'].stdout, 'Hello from pre-configured environment!\n')
        self.assertFalse(namespace['session'].get_is_open())

    def test_library_installation_behavior(self):
        # The guide's session is one with skip_environment_setup=True.
        with Llmsbx.SandboxSession(lang='python', skip_environment_setup=True) as session:
            with self.assertRaises(Llmsbx.LibraryInstallationNotSupportedError) as raised:
                guide.run('''
                    # This will fail with skip_environment_setup=True
                    result = session.run(
                        "import requests; print('OK')",
                        libraries=["requests"]  # Will raise LibraryInstallationNotSupportedError
                    )
                ''', session=session)
            error = raised.exception
            self.assertTrue(error.matches(Llmsbx.error_quark(), Llmsbx.Error.LIBRARY_INSTALLATION_NOT_SUPPORTED))
            # execute_command is the way round it (here without a network: the
            # command runs and fails, and the session goes on).
            result = session.execute_command('python3 -c "import sys; sys.exit(3)"')
            self.assertEqual(result.exit_code, 3)

    def test_default_image(self):
        namespace, _ = guide.run('''
            # Uses default Python image
            with SandboxSession(lang="python") as session:
                pass
        ''', SandboxSession=Llmsbx.SandboxSession)
        # Opened (on the language's image) and closed again.
        self.assertFalse(namespace['session'].get_is_open())


if __name__ == '__main__':
    unittest.main(verbosity=2)
