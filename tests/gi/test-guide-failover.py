# test-guide-failover.py: the guide's "Handle Backend Failover" example run
# as written, with only its import line changed: SandboxBackend's members
# are the backends' names, the first one (Docker) is returned and runs.
import contextlib
import io
import unittest

import guide
from llmsbxtest import GLib, Llmsbx



class GuideFailoverTest(unittest.TestCase):

    def test_handle_backend_failover(self):
        namespace, out = guide.run(guide.FALLBACK, '''
            session = create_session_with_fallback(lang="python")
        ''')
        self.assertEqual(out, '')
        session = namespace['session']
        self.assertEqual(session.props.backend, 'docker')
        with session:
            self.assertEqual(session.run('print(6*7)').stdout, '42\n')

    def test_backend_names(self):
        self.assertEqual([str(b) for b in Llmsbx.SandboxBackend],
                         ['docker', 'podman', 'kubernetes', 'bubblewrap'])
        self.assertEqual(Llmsbx.SandboxBackend.DOCKER, Llmsbx.BACKEND_DOCKER)
        self.assertEqual(f'{Llmsbx.SandboxBackend.PODMAN}', 'podman')
        self.assertIsInstance(Llmsbx.SandboxBackend.KUBERNETES, str)
        # Any plugin's name works where a member does.
        session = Llmsbx.SandboxSession(lang='python', backend='no-such-plugin')
        self.assertEqual(session.props.backend, 'no-such-plugin')
        with self.assertRaises(Llmsbx.UnsupportedBackendError) as raised:
            session.open()
        self.assertIsInstance(raised.exception, Llmsbx.BackendUnavailableError)
        self.assertIsInstance(raised.exception, GLib.Error)
        self.assertTrue(raised.exception.matches(Llmsbx.error_quark(), Llmsbx.Error.BACKEND_NOT_SUPPORTED))

    def test_failover_at_open(self):
        # Sessions open lazily, so a backend that is not there fails at open():
        # the guide's loop, opening each session, moves on to the next one.
        namespace, out = guide.run(guide.open_fallback('["no-such-plugin", SandboxBackend.DOCKER]'), '''
            session = open_session_with_fallback(lang="python")
        ''')
        session = namespace['session']
        try:
            self.assertTrue(out.startswith('Backend no-such-plugin failed: '), out)
            self.assertEqual(session.run('print(1)').stdout, '1\n')
        finally:
            session.close()


if __name__ == '__main__':
    unittest.main(verbosity=2)
