# test-interactive.py: Llmsbx.InteractiveSandboxSession, whose runs share one
# state (docs/interactive.md), against the stateless session's fresh state.
# With LLMSBX_TEST_BACKEND=kubernetes (suite "kubernetes") every session is a
# pod of a test API server of tests/kubernetes: the cells go through the
# resident runner over the exec WebSocket, uploaded into the pod; with
# LLMSBX_TEST_KUBE_V4 set too, the server refuses v5.channel.k8s.io, as one
# older than Kubernetes 1.30 does, and the runner speaks v4 (which cannot
# close stdin: docs/backends.md).
import os
import sys
import unittest

from llmsbxtest import GLib, Llmsbx, SessionTestCase

BACKEND = os.environ.get('LLMSBX_TEST_BACKEND')
SERVER = None
V4_ONLY = bool(os.environ.get('LLMSBX_TEST_KUBE_V4'))

if BACKEND == 'kubernetes':
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'kubernetes'))
    import kubetest  # noqa: E402


def setUpModule():
    global SERVER
    if BACKEND == 'kubernetes':
        settings = {'disable_v5': True} if V4_ONLY else None
        SERVER = kubetest.Server(mode='tls-cert', settings=settings)
        os.environ['KUBECONFIG'] = os.path.join(SERVER.state, 'kubeconfig.json')


def tearDownModule():
    if SERVER is not None:
        protocols = {entry['exec']['protocol'] for entry in SERVER.log(settled=True)
                     if entry.get('exec') and entry['exec'].get('protocol')}
        SERVER.stop()
        # Every exec spoke the protocol the server was meant to choose.
        assert protocols == {'v4.channel.k8s.io' if V4_ONLY else 'v5.channel.k8s.io'}, protocols
        left = kubetest.containers_labelled(SERVER.label)
        assert not left, 'containers left: %s' % left


class InteractiveSessionTest(SessionTestCase):

    def new_interactive(self, **properties):
        if BACKEND is not None:
            properties.setdefault('backend', BACKEND)
        session = Llmsbx.InteractiveSandboxSession(**properties)
        self.addCleanup(self._close_and_check, session)
        return session

    def new_session(self, **properties):
        if BACKEND is not None:
            properties.setdefault('backend', BACKEND)
        return super().new_session(**properties)

    def _close_and_check(self, session):
        if SERVER is None:
            return super()._close_and_check(session)
        # The session's sandbox is a pod of the server, gone from the API
        # once the session closed.
        pod = session.get_container_id()
        if pod:
            self.assertIn(pod.split('/')[-1], [p['name'] for p in SERVER.pods()])
        session.close()
        self.assertFalse(session.get_is_open())
        if pod:
            self.assertNotIn(pod.split('/')[-1], [p['name'] for p in SERVER.pods()])

    def test_state_persists(self):
        session = self.new_interactive(lang='python')
        session.open()
        self.assertTrue(session.props.fresh_state)
        session.run('x = 41')
        self.assertTrue(session.props.fresh_state)
        self.assertEqual(session.run('print(x + 1)').stdout, '42\n')
        self.assertFalse(session.props.fresh_state)
        # A final expression shows its value, as the REPL does.
        self.assertEqual(session.run('x * 2').stdout, '82\n')
        session.run('import json, os\nos.chdir("/tmp")\n'
                    'def twice(v):\n    return 2 * v\n')
        self.assertEqual(session.run('print(json.dumps([twice(x), os.getcwd()]))').stdout, '[82, "/tmp"]\n')
        # Files stay, as in any session.
        session.run('open("kept.txt", "w").write("kept")')
        self.assertEqual(session.run('print(open("/tmp/kept.txt").read())').stdout, 'kept\n')

    def test_stateless_session_starts_fresh(self):
        session = self.new_session(lang='python')
        session.open()
        session.run('x = 41')
        result = session.run('print(x + 1)')
        self.assertEqual(result.exit_code, 1)
        self.assertIn("NameError: name 'x' is not defined", result.stderr)

    def test_errors_end_only_the_cell(self):
        session = self.new_interactive(lang='python')
        session.open()
        session.run('x = 1')
        result = session.run('1 / 0')
        self.assertEqual(result.exit_code, 1)
        self.assertIn('ZeroDivisionError', result.stderr)
        result = session.run('import sys\nsys.exit(3)')
        self.assertEqual(result.exit_code, 3)
        self.assertEqual(session.run('print(x)').stdout, '1\n')

    def test_reset(self):
        session = self.new_interactive(lang='python')
        session.open()
        session.run('x = 1')
        session.reset()
        result = session.run('print(x)')
        self.assertTrue(session.props.fresh_state)
        self.assertIn('NameError', result.stderr)

    def test_timeout_keeps_or_loses_state(self):
        session = self.new_interactive(lang='python')
        session.open()
        session.run('import time\nx = 7')
        # Interrupted, it comes back: the state is kept.
        with self.assertLlmsbxError(Llmsbx.Error.TIMEOUT) as raised:
            session.run('while True:\n    time.sleep(0.05)', timeout=1)
        self.assertIn('the interactive state is kept', raised.exception.message)
        self.assertEqual(session.run('print(x)').stdout, '7\n')
        # A cell that ignores the interrupt takes the state with it.
        with self.assertLlmsbxError(Llmsbx.Error.TIMEOUT) as raised:
            session.run('while True:\n    try:\n        time.sleep(1)\n    except BaseException:\n        pass\n',
                        timeout=1)
        self.assertIn('the interactive state is lost', raised.exception.message)
        result = session.run('print(x)')
        self.assertTrue(session.props.fresh_state)
        self.assertIn('NameError', result.stderr)

    def test_javascript(self):
        session = self.new_interactive(lang='javascript')
        session.open()
        session.run('let a = 41')
        self.assertEqual(session.run('a + 1').stdout, '42\n')
        self.assertEqual(session.run('console.log("a is", a)').stdout, 'a is 41\n')

    def test_plots_per_cell(self):
        # Each cell brings back the plots it made, never an earlier cell's,
        # though matplotlib's state lives on in the kernel.
        session = self.new_interactive(lang='python', enable_plotting=True)
        session.open()
        first = session.run('import matplotlib.pyplot as plt\n'
                            'plt.plot([1, 2, 3], [1, 4, 9])\nplt.show()\nlen(plt.get_fignums())')
        self.assertEqual(first.exit_code, 0)
        self.assertEqual(first.stdout, '0\n')
        self.assertEqual([plot.format for plot in first.plots], ['png'])
        self.assertEqual(first.plots[0].content[:8], b'\x89PNG\r\n\x1a\n')
        second = session.run('fig = plt.figure(figsize=(3, 1))\nplt.plot([3, 2, 1])')
        self.assertEqual(len(second.plots), 1)
        self.assertNotEqual(second.plots[0].content, first.plots[0].content)
        # The figure left open came back with its cell and was closed there.
        third = session.run('print(plt.get_fignums())')
        self.assertEqual(third.stdout, '[]\n')
        self.assertEqual(third.plots, [])
        # Without plotting (the default) a cell brings back none.
        plain = self.new_interactive(lang='python')
        plain.open()
        self.assertFalse(plain.props.enable_plotting)
        self.assertEqual(plain.run('import matplotlib.pyplot as plt\nplt.plot([1])\nplt.show()').plots, [])

    def test_javascript_cells_have_no_plots(self):
        session = self.new_interactive(lang='javascript', enable_plotting=True)
        session.open()
        result = session.run('let b = 2; b * 3')
        self.assertEqual(result.stdout, '6\n')
        self.assertEqual(result.plots, [])

    def test_exec_path_refused(self):
        session = self.new_interactive(lang='python', code_runner=Llmsbx.CodeRunnerMode.EXEC)
        with self.assertLlmsbxError(Llmsbx.Error.INVALID_ARGUMENT):
            session.open()

    def test_other_languages_refused(self):
        session = self.new_interactive(lang='ruby')
        session.open()
        with self.assertLlmsbxError(Llmsbx.Error.LANGUAGE_NOT_SUPPORTED):
            session.run('puts 1')


if __name__ == '__main__':
    unittest.main(verbosity=2)
