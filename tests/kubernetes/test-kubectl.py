# test-kubectl.py: Debian's kubectl (kubernetes-client 1.20, a client nobody here wrote) drives the test API server.
import json
import os
import subprocess
import tempfile
import time
import unittest

import kubetest
from kubetest import IMAGE, Server


def debian_kubectl():
    """Debian's kubectl, wherever a diversion put it: another package (the
    Google Cloud SDK's kubectl) may own /usr/bin/kubectl on this machine."""
    listing = subprocess.run(['dpkg', '-L', 'kubernetes-client'], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, universal_newlines=True)
    if listing.returncode != 0:
        raise AssertionError('the kubernetes-client package is not installed: %s (.ci/setup-host '
                             'installs it)' % listing.stderr.strip())
    lines = listing.stdout.splitlines()
    for i, line in enumerate(lines):
        if line.endswith('/bin/kubectl'):
            path = line
            following = lines[i + 1] if i + 1 < len(lines) else ''
            if 'diverted' in following and ' to: ' in following:
                path = following.split(' to: ', 1)[1].strip()
            return path
    raise AssertionError('dpkg -L kubernetes-client lists no kubectl')


KUBECTL = debian_kubectl()

POD_YAML = '''apiVersion: v1
kind: Pod
metadata:
  %(name_key)s: %(name)s
  labels:
    app: %(app)s
    tier: %(tier)s
spec:
  terminationGracePeriodSeconds: 30
  containers:
  - name: main
    image: %(image)s
    command: ["sh", "-c", "trap 'exit 0' TERM; while :; do sleep 0.1; done"]
'''


class KubectlTest(unittest.TestCase):
    mode = 'tls-cert'

    @classmethod
    def setUpClass(cls):
        cls.server = Server(cls.mode)
        cls.work = tempfile.mkdtemp(prefix='kubectl-', dir=kubetest._WORK)

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def kubectl(self, *args, context='llmsbx-test', variant='kubeconfig', check=True):
        cmd = [KUBECTL, '--kubeconfig', self.server.info['kubeconfigs'][variant],
               '--context', context, '--cache-dir', os.path.join(self.work, 'cache'),
               '--request-timeout', '60s'] + list(args)
        result = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                universal_newlines=True, timeout=120)
        if check and result.returncode != 0:
            raise AssertionError('%s failed (%d): %s%s' % (' '.join(args), result.returncode,
                                                          result.stdout, result.stderr))
        return result

    def manifest(self, name, app='kc', tier='a', generate=False, image=IMAGE):
        path = os.path.join(self.work, '%s.yaml' % name)
        with open(path, 'w') as f:
            f.write(POD_YAML % {'name_key': 'generateName' if generate else 'name', 'name': name,
                                'app': app, 'tier': tier, 'image': image})
        return path

    def wait_running(self, name):
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            phase = self.kubectl('get', 'pod', name, '-o', 'jsonpath={.status.phase}').stdout
            if phase == 'Running':
                return
            time.sleep(0.1)
        raise AssertionError('pod %s did not run' % name)

    def test_is_debian_1_20(self):
        version = json.loads(self.kubectl('version', '--client', '-o', 'json').stdout)
        self.assertEqual((version['clientVersion']['major'], version['clientVersion']['minor']),
                         ('1', '20'))
        server = json.loads(self.kubectl('version', '-o', 'json').stdout)['serverVersion']
        self.assertEqual(server['gitVersion'], 'v1.30.0-llmsbx-test')

    def test_create_get_delete(self):
        out = self.kubectl('create', '-f', self.manifest('kc-one', tier='a')).stdout
        self.assertEqual(out.strip(), 'pod/kc-one created')
        out = self.kubectl('create', '-f', self.manifest('kc-gen-', tier='b', generate=True)).stdout
        generated = out.split()[0].split('/', 1)[1]
        self.assertTrue(generated.startswith('kc-gen-'), out)
        self.wait_running('kc-one')

        listed = json.loads(self.kubectl('get', 'pods', '-o', 'json').stdout)
        self.assertEqual(listed['kind'], 'List')
        by_name = {p['metadata']['name']: p for p in listed['items']}
        self.assertEqual(by_name['kc-one']['status']['phase'], 'Running')
        self.assertEqual(by_name['kc-one']['metadata']['labels'], {'app': 'kc', 'tier': 'a'})
        self.assertIn(generated, by_name)

        def names(selector):
            return sorted(self.kubectl('get', 'pods', '-l', selector, '-o', 'name').stdout.split())
        self.assertEqual(names('app=kc'), sorted(['pod/kc-one', 'pod/' + generated]))
        self.assertEqual(names('app=kc,tier=a'), ['pod/kc-one'])
        self.assertEqual(names('tier!=a'), ['pod/' + generated])
        self.assertEqual(names('tier in (b)'), ['pod/' + generated])

        table = self.kubectl('get', 'pods').stdout.splitlines()
        self.assertEqual(table[0].split(), ['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE'])
        row = [line.split() for line in table if line.startswith('kc-one ')][0]
        self.assertEqual(row[1:4], ['1/1', 'Running', '0'])

        # The default grace period: SIGTERM, which the pod's shell traps and exits on.
        out = self.kubectl('delete', 'pod', 'kc-one').stdout
        self.assertEqual(out.strip(), 'pod "kc-one" deleted')
        self.assertIsNone(self.server.get_pod('kc-one'), 'kubectl delete waits until it is gone')
        out = self.kubectl('delete', 'pod', generated, '--grace-period=0', '--force')
        self.assertIn('deleted', out.stdout)
        self.assertIsNone(self.server.get_pod(generated))
        deletes = [e for e in self.server.log() if e.get('method') == 'DELETE']
        self.assertEqual([e['status'] for e in deletes], [200, 200])
        watches = [e for e in self.server.log()
                   if dict(e.get('query') or []).get('watch') == 'true']
        self.assertTrue(watches, 'kubectl delete waited with a watch')

    def test_server_errors(self):
        self.kubectl('create', '-f', self.manifest('kc-dup'))
        again = self.kubectl('create', '-f', self.manifest('kc-dup'), check=False)
        self.assertNotEqual(again.returncode, 0)
        self.assertIn('Error from server (AlreadyExists): error when creating', again.stderr)
        self.assertIn('pods "kc-dup" already exists', again.stderr)
        missing = self.kubectl('get', 'pod', 'kc-nothing', check=False)
        self.assertEqual(missing.stderr.strip(),
                         'Error from server (NotFound): pods "kc-nothing" not found')
        self.kubectl('delete', 'pod', 'kc-dup', '--grace-period=0', '--force')

    def test_other_key_and_file_variants(self):
        for context, variant in (('llmsbx-test-ec', 'kubeconfig'),
                                 ('llmsbx-test-pkcs8', 'kubeconfig-files'),
                                 ('llmsbx-test', 'kubeconfig-insecure'),
                                 ('llmsbx-test-exec', 'kubeconfig-files')):
            out = self.kubectl('get', 'pods', '-o', 'json', context=context, variant=variant)
            self.assertEqual(json.loads(out.stdout)['kind'], 'List', context)
        self.assertEqual(self.server.log()[-1]['user'], 'llmsbx-test-ec', 'the plugin\'s certificate')
        self.assertTrue(os.path.exists(os.path.join(self.server.state, 'credential-plugin.calls')))
        # (An empty user makes kubectl 1.20 prompt for a password; the
        # Python client's test covers "no certificate: 401".)
        untrusted = self.kubectl('get', 'pods', context='llmsbx-test-bad', check=False)
        self.assertNotEqual(untrusted.returncode, 0)
        self.assertTrue([e for e in self.server.log() if e.get('event') == 'tls-handshake-failed'])

    def test_exec_is_spdy_and_refused_clearly(self):
        # kubectl 1.20 execs over SPDY, which the test API server does not speak.
        self.kubectl('create', '-f', self.manifest('kc-exec'))
        self.wait_running('kc-exec')
        result = self.kubectl('exec', 'kc-exec', '--', 'true', check=False)
        self.assertNotEqual(result.returncode, 0)
        entry = [e for e in self.server.log() if e.get('path', '').endswith('/kc-exec/exec')][-1]
        self.assertEqual((entry['method'], entry['status']), ('POST', 400))
        self.assertEqual(entry['headers']['Upgrade'], 'SPDY/3.1')
        self.kubectl('delete', 'pod', 'kc-exec', '--grace-period=0', '--force')


class KubectlTokenTest(KubectlTest):
    """The same REST verbs with a bearer token (the exec and error tests
    above do not depend on how the client authenticates)."""
    mode = 'tls-token'
    test_exec_is_spdy_and_refused_clearly = None
    test_server_errors = None

    def test_other_key_and_file_variants(self):
        for context in ('llmsbx-test', 'llmsbx-test-exec'):
            out = self.kubectl('get', 'pods', '-o', 'json', context=context,
                               variant='kubeconfig-files')
            self.assertEqual(json.loads(out.stdout)['kind'], 'List')
        bad = self.kubectl('get', 'pods', context='llmsbx-test-bad', check=False)
        self.assertIn('Unauthorized', bad.stderr)
        entries = [e for e in self.server.log() if e.get('user') is None and e.get('path')]
        self.assertTrue(all('<masked sha256:' in e['headers'].get('Authorization', '<masked sha256:')
                            for e in entries))


class KubectlPlainHttpTest(unittest.TestCase):
    """client-go reads a kubeconfig user's credentials only for a TLS
    server: over http:// kubectl sends no token, and the server says 401."""

    def test_no_token_over_plain_http(self):
        server = Server('http-token')
        try:
            result = subprocess.run([KUBECTL, '--kubeconfig', server.info['kubeconfig'],
                                     '--cache-dir', os.path.join(server.state, 'cache'),
                                     'get', 'pods'], stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, universal_newlines=True, timeout=120)
            self.assertNotEqual(result.returncode, 0)
            self.assertIn('Unauthorized', result.stderr)
            requests = [e for e in server.log() if e.get('path')]
            self.assertTrue(requests)
            self.assertFalse([e for e in requests if 'Authorization' in e['headers']])
        finally:
            server.stop()


if __name__ == '__main__':
    kubetest.main()
