# test-failover.py: the guide's "Handle Backend Failover", through GI.
#
# A backend that cannot be reached fails open() quickly with
# Llmsbx.Error.BACKEND_UNAVAILABLE naming what it tried, so the next backend
# gets its turn: here a Docker daemon at a missing socket and one that
# accepts connections but never answers, then the real one.
import contextlib
import io
import os
import socket
import time
import unittest

from llmsbxtest import GLib, Llmsbx, SessionTestCase


def create_session_with_fallback(backends, **kwargs):
    """Create session with backend fallback (the guide's function; a backend
    is a name or a configured Llmsbx.Backend)."""
    for backend in backends:
        if isinstance(backend, str):
            session = Llmsbx.SandboxSession(backend=backend, **kwargs)
        else:
            session = Llmsbx.SandboxSession(client=backend, **kwargs)
        try:
            session.open()
            return session
        except GLib.Error as e:
            print(f"Backend {session.get_backend()} failed: {e.message}")
            continue

    raise RuntimeError("No available backends")


def docker_at(url):
    backend = Llmsbx.Registry.get_default().create_backend('docker')
    backend.set_url(url)
    return backend


class FailoverTest(SessionTestCase):

    def fallback(self, backends, **kwargs):
        """Runs the guide's function; returns its result and the lines it printed."""
        with contextlib.redirect_stdout(io.StringIO()) as out:
            try:
                return create_session_with_fallback(backends, **kwargs)
            finally:
                self.printed = out.getvalue().splitlines()

    def test_falls_over_to_a_working_backend(self):
        silent = socket.socket()
        silent.bind(('127.0.0.1', 0))
        silent.listen(1)
        self.addCleanup(silent.close)
        dead_socket = 'unix:///nonexistent/docker.sock'
        silent_url = 'tcp://127.0.0.1:%d' % silent.getsockname()[1]

        started = time.monotonic()
        session = self.fallback(
            [docker_at(dead_socket), docker_at(silent_url), docker_at('unix:///var/run/docker.sock')],
            lang='python')
        self.addCleanup(self._close_and_check, session)
        # Two dead backends cost about the connect timeout (2 s), not a hang.
        self.assertLess(time.monotonic() - started, 20)

        self.assertEqual(len(self.printed), 2, self.printed)
        self.assertIn('/nonexistent/docker.sock', self.printed[0])
        self.assertIn(silent_url, self.printed[1])
        self.assertIn('did not answer within 2 seconds', self.printed[1])
        self.assertEqual(session.run('print("on the third backend")').stdout, 'on the third backend\n')

    def test_no_available_backends(self):
        # docker.from_env() style: the default docker backend follows DOCKER_HOST.
        os.environ['DOCKER_HOST'] = 'unix:///nonexistent/docker.sock'
        self.addCleanup(os.environ.pop, 'DOCKER_HOST')
        with self.assertRaisesRegex(RuntimeError, 'No available backends'):
            self.fallback(['docker', 'no-such-backend'], lang='python')
        self.assertEqual(len(self.printed), 2, self.printed)
        self.assertIn('/nonexistent/docker.sock', self.printed[0])
        self.assertIn('no-such-backend', self.printed[1])

    def test_unavailable_error_code(self):
        session = Llmsbx.SandboxSession(lang='python', client=docker_at('unix:///nonexistent/docker.sock'))
        with self.assertLlmsbxError(Llmsbx.Error.BACKEND_UNAVAILABLE) as raised:
            session.open()
        self.assertIn('Cannot reach the Docker daemon at unix:///nonexistent/docker.sock', raised.exception.message)


if __name__ == '__main__':
    unittest.main(verbosity=2)
