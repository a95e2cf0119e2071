# test-guide-kubernetes.py: the guide's Kubernetes examples through GI,
# against the test API server of tests/kubernetes (pods are Docker
# containers). The pod_manifest example runs as written but for its image:
# the test server never pulls, so python:3.9 becomes the local Python image.
# The same for the skip_environment_setup example's my-registry.com image:
# an image made here from the local one, with a stand-in pandas installed.
import json
import os
import subprocess
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


SKIP_SETUP = '''
    from llm_sandbox import SandboxSession, SandboxBackend

    with SandboxSession(
        lang="python",
        backend=SandboxBackend.KUBERNETES,
        skip_environment_setup=True,
        image="my-registry.com/python-ml:latest",
    ) as session:
        result = session.run("import pandas as pd; print(f'Pandas: {pd.__version__}')")
'''

# The image "with pre-installed packages": ours, and a pandas that only has a version.
ML_IMAGE = 'llmsbx-test/python-ml:guide-kubernetes-%d' % os.getpid()
ML_DOCKERFILE = '''FROM %s
RUN mkdir -p /usr/lib/python3/dist-packages/pandas && \\
    echo "__version__ = '0.0-llmsbx-test'" > /usr/lib/python3/dist-packages/pandas/__init__.py
''' % IMAGE

PRESET = '''
    from llm_sandbox import get_security_preset

    # Kubernetes example
    config = get_security_preset("production", "python", "kubernetes")
    # config.runtime_config is None for Kubernetes
    # You must provide pod_manifest parameter separately
'''


NAMESPACES = ['default', 'sandbox-tests', 'custom-namespace']


def pod_creations(server, since):
    """(namespace, user) of every pod created since the log entry @since."""
    return [(e['path'].split('/')[4], e.get('user')) for e in server.log(since)
            if e.get('method') == 'POST' and e['path'].endswith('/pods')]


class GuideKubernetesTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.server = kubetest.Server(mode='tls-cert', settings={'namespaces': NAMESPACES})
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

    def test_unwritable_workdir_fails_at_open(self):
        # The guide's note ("Use writable directory for non-root") as a check:
        # a directory the pod's user cannot write is an error at open that
        # says what to do, and the pod is deleted.
        manifest = {'spec': {'securityContext': {'runAsUser': 1000, 'runAsGroup': 1000},
                             'containers': [{'name': 'sandbox', 'image': IMAGE}]}}
        session = Llmsbx.SandboxSession(lang='python', backend='kubernetes', pod_manifest=manifest,
                                        workdir='/usr')
        with self.assertRaises(GLib.Error) as raised:
            session.open()
        self.assertIn('not writable by uid 1000', raised.exception.message)
        self.assertIn('emptyDir', raised.exception.message)
        deadline = time.monotonic() + 30
        while [p for p in self.server.pods() if not p['deleting']] and time.monotonic() < deadline:
            time.sleep(0.2)
        self.assertEqual([p['name'] for p in self.server.pods() if not p['deleting']], [])

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


    def test_skip_environment_setup(self):
        built = subprocess.run(['docker', 'build', '-q', '-t', ML_IMAGE, '-'], input=ML_DOCKERFILE,
                               universal_newlines=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.assertEqual(built.returncode, 0, built.stderr)
        self.addCleanup(subprocess.run, ['docker', 'rmi', '-f', ML_IMAGE], stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL)
        since = self.server.last_seq()
        namespace, _ = guide.run(SKIP_SETUP.replace('my-registry.com/python-ml:latest', ML_IMAGE))
        self.assertEqual(namespace['result'].exit_code, 0, namespace['result'].stderr)
        self.assertEqual(namespace['result'].stdout, 'Pandas: 0.0-llmsbx-test\n')
        self.assertFalse(namespace['session'].get_is_open())
        created = [e for e in self.server.log(since) if e.get('method') == 'POST' and e.get('body')]
        self.assertEqual([e['body']['spec']['containers'][0]['image'] for e in created], [ML_IMAGE])
        # Nothing was set up, so nothing can be installed; the image is as it was.
        with Llmsbx.SandboxSession(lang='python', backend='kubernetes', image=ML_IMAGE,
                                   skip_environment_setup=True) as session:
            self.assertEqual(session.execute_command('test -e /sandbox/.sandbox-venv').exit_code, 1)
            with self.assertRaises(Llmsbx.LibraryInstallationNotSupportedError):
                session.run("import requests", libraries=['requests'])
            self.assertEqual(session.execute_command('test -e /sandbox/.sandbox-venv').exit_code, 1)

    def test_security_preset_pod_fragment(self):
        # The session takes no preset of its own: the preset's fragment is the
        # pod_manifest "provided separately", its policy the security_policy.
        namespace, _ = guide.run(PRESET)
        config = namespace['config']
        self.assertIsNone(config.runtime_config)
        fragment = config.pod_manifest_fragment
        with Llmsbx.SandboxSession(lang='python', backend='kubernetes', pod_manifest=fragment,
                                   security_policy=config.security_policy) as session:
            is_safe, violations = session.is_safe("import os; os.system('ls')")
            self.assertFalse(is_safe)
            self.assertTrue(violations)
            self.assertEqual(session.execute_command('id -u').stdout, '65534\n')
            self.assertNotEqual(session.execute_command('touch /etc/llmsbx-preset').exit_code, 0)
            self.assertEqual(session.execute_command('touch /tmp/ok').exit_code, 0)
            self.assertEqual(session.execute_command(
                'test -e /var/run/secrets/kubernetes.io/serviceaccount/token').exit_code, 1)
            self.assertEqual(session.run('print(6*7)').stdout, '42\n')
            pod = session.get_container_id()
            containers = [p['containers'] for p in self.server.pods() if p['name'] == pod]
            self.assertEqual(len(containers), 1)
            self.assertEqual(len(containers[0]), 1, containers)
            inspected = json.loads(kubetest.docker('inspect', *containers[0].values()))[0]
            self.assertEqual(inspected['HostConfig']['Memory'], 512 * 1024 * 1024)
            self.assertTrue(inspected['HostConfig']['ReadonlyRootfs'])
            self.assertEqual(inspected['HostConfig']['CapDrop'], ['ALL'])

    def test_security_preset_merged_into_pod_manifest(self):
        # apply_security_preset() merges the preset's fragment under the
        # user's manifest: the user's labels and memory limit win, the
        # preset supplies the rest (its user, read-only root, dropped
        # capabilities).
        namespace, _ = guide.run(PRESET)
        manifest = {
            'apiVersion': 'v1', 'kind': 'Pod',
            'metadata': {'labels': {'team': 'graders'}},
            'spec': {'containers': [{'name': 'sandbox', 'image': IMAGE,
                                     'resources': {'limits': {'memory': '256Mi'}}}]},
        }
        session = Llmsbx.SandboxSession(lang='python', backend='kubernetes', pod_manifest=manifest)
        session.apply_security_preset(namespace['config'])
        with session:
            self.assertEqual(session.execute_command('id -u').stdout, '65534\n')
            self.assertNotEqual(session.execute_command('touch /etc/llmsbx-preset').exit_code, 0)
            with self.assertRaises(GLib.Error):
                session.run("import os; os.system('ls')")
            pod = session.get_container_id()
            pods = [p for p in self.server.pods() if p['name'] == pod]
            self.assertEqual(len(pods), 1)
            inspected = json.loads(kubetest.docker('inspect', *pods[0]['containers'].values()))[0]
            # The test server puts the pod's labels on its container.
            self.assertEqual(inspected['Config']['Labels'].get('team'), 'graders')
            self.assertEqual(inspected['HostConfig']['Memory'], 256 * 1024 * 1024)
            self.assertTrue(inspected['HostConfig']['ReadonlyRootfs'])
            self.assertEqual(inspected['HostConfig']['CapDrop'], ['ALL'])

    def test_kubeconfig_path_and_context(self):
        # config.load_kube_config(config_file=..., context=...) is the
        # backend's kubeconfig and context settings, on a client or by name.
        settings = GLib.Variant('a{sv}', {
            'kubeconfig': GLib.Variant('s', os.path.join(self.server.state, 'kubeconfig-files')),
            'context': GLib.Variant('s', 'llmsbx-test-ec'),
        })
        backend = Llmsbx.Registry.get_default().create_backend('kubernetes')
        backend.apply_settings(settings)
        since = self.server.last_seq()
        with Llmsbx.SandboxSession(backend='kubernetes', client=backend, lang='python',
                                   kube_namespace='custom-namespace') as session:
            self.assertEqual(session.run('print(1)').stdout, '1\n')
        with Llmsbx.SandboxSession(backend='kubernetes', backend_settings=settings, lang='python') as session:
            self.assertEqual(session.run('print(2)').stdout, '2\n')
        self.assertEqual(pod_creations(self.server, since),
                         [('custom-namespace', 'llmsbx-test-ec'), ('default', 'llmsbx-test-ec')])

    def test_unknown_context_fails_at_open(self):
        settings = GLib.Variant('a{sv}', {'context': GLib.Variant('s', 'remote-cluster-context')})
        session = Llmsbx.SandboxSession(backend='kubernetes', backend_settings=settings, lang='python')
        with self.assertRaises(GLib.Error) as raised:
            session.open()
        self.assertIn('remote-cluster-context', raised.exception.message)

    def test_failover_to_kubernetes(self):
        # Docker and Podman not there (their sockets missing): the guide's
        # loop, opening each session, ends on Kubernetes.
        saved = {k: os.environ.get(k) for k in ('DOCKER_HOST', 'CONTAINER_HOST')}
        os.environ['DOCKER_HOST'] = 'unix:///nonexistent/docker.sock'
        os.environ['CONTAINER_HOST'] = 'unix:///nonexistent/podman.sock'

        def restore():
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
        self.addCleanup(restore)
        # As written, the loop returns the first session: sessions open
        # lazily, so Docker's absence shows at open().
        namespace, out = guide.run(guide.FALLBACK, '''
            session = create_session_with_fallback(lang="python")
        ''')
        self.assertEqual(out, '')
        self.assertEqual(namespace['session'].props.backend, 'docker')
        with self.assertRaises(Llmsbx.BackendUnavailableError):
            namespace['session'].open()
        namespace['session'].close()
        # Opening in the loop moves on to the next backend.
        namespace, out = guide.run(guide.open_fallback('[SandboxBackend.DOCKER, SandboxBackend.PODMAN, SandboxBackend.KUBERNETES]'), '''
            session = open_session_with_fallback(lang="python")
        ''')
        session = namespace['session']
        try:
            lines = out.splitlines()
            self.assertEqual(len(lines), 2, out)
            self.assertTrue(lines[0].startswith('Backend docker failed: '), out)
            self.assertIn('/nonexistent/docker.sock', lines[0])
            self.assertTrue(lines[1].startswith('Backend podman failed: '), out)
            self.assertIn('/nonexistent/podman.sock', lines[1])
            self.assertEqual(session.props.backend, 'kubernetes')
            self.assertEqual(session.run('print(6*7)').stdout, '42\n')
            self.assertIn(session.get_container_id(), [p['name'] for p in self.server.pods()])
        finally:
            session.close()


class GuideRemoteClusterTest(unittest.TestCase):
    """The guide's programmatic client (host, a Bearer token) as the
    backend's server, token and ca-file settings."""

    @classmethod
    def setUpClass(cls):
        cls.server = kubetest.Server(mode='tls-token', settings={'namespaces': NAMESPACES})

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def settings(self, **extra):
        values = {'server': self.server.url, 'token': self.server.token, 'ca-file': self.server.info['ca']}
        values.update(extra)
        return GLib.Variant('a{sv}', {k: GLib.Variant('s', v) for k, v in values.items()})

    def test_server_token_ca(self):
        backend = Llmsbx.Registry.get_default().create_backend('kubernetes')
        backend.apply_settings(self.settings())
        since = self.server.last_seq()
        with Llmsbx.SandboxSession(backend='kubernetes', client=backend, lang='python',
                                   kube_namespace='custom-namespace') as session:
            self.assertEqual(session.run('print(6*7)').stdout, '42\n')
        self.assertEqual(pod_creations(self.server, since), [('custom-namespace', 'llmsbx-test-token')])

    def test_wrong_token_fails_at_open(self):
        session = Llmsbx.SandboxSession(backend='kubernetes', lang='python',
                                        backend_settings=self.settings(token='your-token-here'))
        with self.assertRaises(GLib.Error) as raised:
            session.open()
        self.assertIn('401', raised.exception.message)
        self.assertNotIn('your-token-here', raised.exception.message)
        self.assertEqual([p for p in self.server.pods() if not p['deleting']], [])

    def test_untrusted_ca_after_a_trusted_one(self):
        # glib-networking's TLS session cache is process-wide and a resumed
        # session is not verified again: the backend refuses such a
        # connection itself when its certificate does not pass this CA.
        with Llmsbx.SandboxSession(backend='kubernetes', lang='python',
                                   backend_settings=self.settings()) as session:
            self.assertEqual(session.run('print(1)').stdout, '1\n')
        untrusted = os.path.join(kubetest.PKI, 'untrusted-ca.crt')
        session = Llmsbx.SandboxSession(backend='kubernetes', lang='python',
                                        backend_settings=self.settings(**{'ca-file': untrusted}))
        with self.assertRaises(Llmsbx.BackendUnavailableError) as raised:
            session.open()
        self.assertIn('certificate is not trusted', raised.exception.message)
        self.assertEqual([p for p in self.server.pods() if not p['deleting']], [])

    def test_untrusted_ca_fails_at_open(self):
        # In a process of its own: the first handshake fails.
        untrusted = os.path.join(kubetest.PKI, 'untrusted-ca.crt')
        script = '''if True:
            import sys
            import gi
            gi.require_version('Llmsbx', '1.0')
            from gi.repository import GLib, Llmsbx
            settings = GLib.Variant('a{sv}', {k: GLib.Variant('s', v) for k, v in
                                              zip(('server', 'token', 'ca-file'), sys.argv[1:])})
            session = Llmsbx.SandboxSession(backend='kubernetes', lang='python', backend_settings=settings)
            try:
                session.open()
            except GLib.Error as error:
                print(error.message)
                sys.exit(3)
            session.close()
        '''
        result = subprocess.run([sys.executable, '-c', script, self.server.url, self.server.token, untrusted],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True,
                                timeout=120)
        self.assertEqual(result.returncode, 3, result.stdout + result.stderr)
        self.assertIn(self.server.url, result.stdout)
        self.assertEqual([p for p in self.server.pods() if not p['deleting']], [])


if __name__ == '__main__':
    unittest.main(verbosity=2)
