# test-guide-kubernetes.py: the guide's Kubernetes examples through GI,
# against the test API server of tests/kubernetes (pods are Docker
# containers). The pod_manifest example runs as written but for its image:
# the test server never pulls, so python:3.9 becomes the local Python image.
import os
import sys
import time
import unittest

import guide
from llmsbxtest import GLib, IMAGE, Llmsbx

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'kubernetes'))
import kubetest  # noqa: E402

POD_MANIFEST = '''
    from llm_sandbox import SandboxSession

    # Kubernetes configuration using pod_manifest parameter
    import uuid

    # Generate unique pod name to avoid conflicts
    unique_suffix = str(uuid.uuid4())[:8]
    pod_name = f"sandbox-{unique_suffix}"

    # Define custom pod manifest
    pod_manifest = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": pod_name,
            "labels": {"app": "sandbox"},
        },
        "spec": {
            "containers": [
                {
                    "name": "sandbox-container",
                    "image": "python:3.9",
                    "tty": True,
                    "securityContext": {
                        "runAsUser": 1000,
                        "runAsGroup": 1000,
                    },
                    "resources": {
                        "limits": {
                            "memory": "512Mi",
                            "cpu": "500m"
                        },
                        "requests": {
                            "memory": "256Mi",
                            "cpu": "250m"
                        }
                    }
                }
            ],
            "securityContext": {
                "runAsUser": 1000,
                "runAsGroup": 1000,
            },
        },
    }

    session = SandboxSession(
        backend="kubernetes",
        lang="python",
        image="python:3.9",
        pod_manifest=pod_manifest,
        workdir="/tmp/sandbox"  # Use writable directory for non-root
    )
'''.replace('python:3.9', IMAGE)


class GuideKubernetesTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.server = kubetest.Server(mode='tls-cert')
        os.environ['KUBECONFIG'] = os.path.join(cls.server.state, 'kubeconfig.json')

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        left = kubetest.containers_labelled(cls.server.label)
        assert not left, 'containers left: %s' % left

    def test_pod_manifest(self):
        namespace, out = guide.run(POD_MANIFEST)
        self.assertEqual(out, '')
        with namespace['session'] as session:
            result = session.run('import os; print(os.getuid(), os.getcwd())')
            self.assertEqual(result.exit_code, 0, result.stderr)
            self.assertEqual(result.stdout, '1000 /tmp/sandbox\n')
            pods = [p['name'] for p in self.server.pods()]
            self.assertIn(namespace['pod_name'], pods)
        self.assertNotIn(namespace['pod_name'], [p['name'] for p in self.server.pods()])

    def test_run_and_timeout(self):
        with Llmsbx.SandboxSession(lang='python', backend='kubernetes') as session:
            self.assertEqual(session.run('print(6*7)').stdout, '42\n')
            self.assertEqual(session.run('import sys; sys.exit(3)').exit_code, 3)
            start = time.monotonic()
            with self.assertRaises(GLib.Error):
                session.run('while True: pass', timeout=2)
            self.assertLess(time.monotonic() - start, 10)
            self.assertEqual(session.run('print("again")').stdout, 'again\n')

    def test_runtime_configs_refused(self):
        session = Llmsbx.SandboxSession(lang='python', backend='kubernetes',
                                        runtime_configs={'mem_limit': '512m'})
        with self.assertRaises(GLib.Error) as raised:
            session.open()
        self.assertIn('pod_manifest', raised.exception.message)

    def test_pool_pod_manifest(self):
        # docs/pool.md's Kubernetes pool: a read-only root as a pod
        # manifest (a dict); its pod is reset between users, not replaced.
        scratch = lambda name, path: ({"name": name, "mountPath": path},  # noqa: E731
                                      {"name": name, "emptyDir": {"medium": "Memory"}})
        (m1, v1), (m2, v2) = scratch("work", "/sandbox"), scratch("tmp", "/tmp")
        with Llmsbx.SandboxPool(lang="python", backend="kubernetes", min_size=1, max_size=1,
                                kube_namespace="sandbox-tests", pod_manifest={"spec": {
                "containers": [{"securityContext": {"readOnlyRootFilesystem": True}, "volumeMounts": [m1, m2]}],
                "volumes": [v1, v2]}}) as pool:
            with Llmsbx.SandboxSession(pool=pool) as session:
                first = session.get_container_id()
                namespaces = {p['name']: p.get('namespace') for p in self.server.pods()}
                self.assertEqual(namespaces.get(first.split('/')[-1]), 'sandbox-tests')
                session.run('open("/sandbox/left.txt", "w").write("x")')
            with Llmsbx.SandboxSession(pool=pool) as session:
                self.assertEqual(session.get_container_id(), first)
                self.assertEqual(session.run('import os; print(os.path.exists("/sandbox/left.txt"))').stdout,
                                 'False\n')
            self.assertEqual(pool.get_stats()['resets'], 1)
        self.assertNotIn(first.split('/')[-1], [p['name'] for p in self.server.pods()])

    def test_kube_namespace(self):
        with Llmsbx.SandboxSession(lang='python', backend='kubernetes', kube_namespace='sandbox-tests') as session:
            self.assertEqual(session.run('print(1)').stdout, '1\n')
            namespaces = {p['name']: p.get('namespace') for p in self.server.pods()}
            self.assertIn('sandbox-tests', namespaces.values())


if __name__ == '__main__':
    unittest.main(verbosity=2)
