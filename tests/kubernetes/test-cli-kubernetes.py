# test-cli-kubernetes.py: `llmsbx run --backend kubernetes` against the test
# API server: output, exit statuses, a timeout that ends in time, the
# kubeconfig, context and namespace options (each checked in what the server
# saw), --backend-setting; no pod or container is left.
import os
import subprocess
import time
import unittest

import kubetest

CLI = os.environ['LLMSBX_CLI']


class CliKubernetesTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.server = kubetest.Server(mode='tls-cert')
        cls.kubeconfig = os.path.join(cls.server.state, 'kubeconfig')

    @classmethod
    def tearDownClass(cls):
        label = cls.server.label
        cls.server.stop()
        assert not kubetest.containers_labelled(label)

    def run_cli(self, *args, kubeconfig=True, env=None):
        command = [CLI, 'run', '--backend', 'kubernetes']
        if kubeconfig:
            command += ['--kubeconfig', self.kubeconfig]
        return subprocess.run(command + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              universal_newlines=True, timeout=120, env=env)

    def created(self, since):
        """(namespace, user) of the pods created since log entry @since."""
        return [(e['path'].split('/')[4], e.get('user')) for e in self.server.log(since)
                if e.get('method') == 'POST' and e['path'].endswith('/pods')]

    def test_prints(self):
        result = self.run_cli('--lang', 'python', '-c', 'print(6*7)')
        self.assertEqual((result.returncode, result.stdout), (0, '42\n'), result.stderr)

    def test_exit_status_context_namespace(self):
        result = self.run_cli('--context', 'llmsbx-test-ns', '--namespace', 'sandbox-tests',
                              '-c', 'import sys; sys.exit(7)')
        self.assertEqual(result.returncode, 7, result.stderr)

    def test_context_and_namespace_reach_the_server(self):
        since = self.server.last_seq()
        # The context's namespace, its user (the EC certificate), and
        # --namespace over the context's.
        for args in (['--context', 'llmsbx-test-ns'], ['--context', 'llmsbx-test-ec'],
                     ['--context', 'llmsbx-test-ns', '--namespace', 'default'],
                     ['--namespace', 'sandbox-tests']):
            result = self.run_cli(*args, '-c', 'print(1)')
            self.assertEqual((result.returncode, result.stdout), (0, '1\n'), result.stderr)
        self.assertEqual(self.created(since), [('sandbox-tests', 'llmsbx-test-rsa'),
                                               ('default', 'llmsbx-test-ec'),
                                               ('default', 'llmsbx-test-rsa'),
                                               ('sandbox-tests', 'llmsbx-test-rsa')])

    def test_kubeconfig_from_the_environment(self):
        # No --kubeconfig: $KUBECONFIG, a list whose missing files are skipped.
        env = dict(os.environ, KUBECONFIG=os.pathsep.join(['/nonexistent/kubeconfig',
                                                           os.path.join(self.server.state, 'kubeconfig-files')]))
        result = self.run_cli('--context', 'llmsbx-test-pkcs8', '-c', 'print(2)', kubeconfig=False, env=env)
        self.assertEqual((result.returncode, result.stdout), (0, '2\n'), result.stderr)

    def test_bad_kubeconfig_and_context(self):
        result = subprocess.run([CLI, 'run', '--backend', 'kubernetes', '--kubeconfig', '/nonexistent/kubeconfig',
                                 '-c', 'print(1)'], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                universal_newlines=True, timeout=60)
        self.assertEqual(result.returncode, 125)
        self.assertIn('/nonexistent/kubeconfig', result.stderr)
        result = self.run_cli('--context', 'no-such-context', '-c', 'print(1)')
        self.assertEqual(result.returncode, 125)
        self.assertIn('no-such-context', result.stderr)
        # A certificate from another CA: the handshake fails, nothing is created.
        since = self.server.last_seq()
        result = self.run_cli('--context', 'llmsbx-test-bad', '-c', 'print(1)')
        self.assertEqual(result.returncode, 125, result.stderr)
        self.assertEqual(self.created(since), [])

    def test_backend_settings(self):
        certs = self.server.info['client_certs']['ec']
        since = self.server.last_seq()
        result = self.run_cli('--backend-setting', 'server=' + self.server.url,
                              '--backend-setting', 'ca-file=' + self.server.info['ca'],
                              '--backend-setting', 'client-cert-file=' + certs['cert'],
                              '--backend-setting', 'client-key-file=' + certs['key'],
                              '--namespace', 'sandbox-tests', '-c', 'print(3)', kubeconfig=False)
        self.assertEqual((result.returncode, result.stdout), (0, '3\n'), result.stderr)
        self.assertEqual(self.created(since), [('sandbox-tests', 'llmsbx-test-ec')])
        result = self.run_cli('--backend-setting', 'no-such-setting=1', '-c', 'print(1)')
        self.assertEqual(result.returncode, 125)
        self.assertIn('no-such-setting', result.stderr)

    def test_timeout(self):
        start = time.monotonic()
        result = self.run_cli('-t', '2', '-c', 'while True: pass')
        self.assertEqual(result.returncode, 124, result.stderr)
        self.assertLess(time.monotonic() - start, 10)
        self.assertEqual([p for p in self.server.pods() if not p['deleting']], [])

    def test_runtime_configs_refused(self):
        result = self.run_cli('-r', '{"mem_limit": "256m"}', '-c', 'print(1)')
        self.assertEqual(result.returncode, 125)
        self.assertIn('pod_manifest', result.stderr)


if __name__ == '__main__':
    unittest.main(verbosity=2)
