# test-cli-kubernetes.py: `llmsbx run --backend kubernetes` against the test
# API server: output, exit statuses, a timeout that ends in time, the
# kubeconfig, context and namespace options; no pod or container is left.
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

    def run_cli(self, *args):
        return subprocess.run([CLI, 'run', '--backend', 'kubernetes', '--kubeconfig', self.kubeconfig] + list(args),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, timeout=120)

    def test_prints(self):
        result = self.run_cli('--lang', 'python', '-c', 'print(6*7)')
        self.assertEqual((result.returncode, result.stdout), (0, '42\n'), result.stderr)

    def test_exit_status_context_namespace(self):
        result = self.run_cli('--context', 'llmsbx-test-ns', '--namespace', 'sandbox-tests',
                              '-c', 'import sys; sys.exit(7)')
        self.assertEqual(result.returncode, 7, result.stderr)

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
