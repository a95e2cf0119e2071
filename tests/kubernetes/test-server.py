# test-server.py: the test API server as a process: its files, its admin endpoint, its request log, and how it ends.
import calendar
import hashlib
import json
import os
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.request

import yaml

import kubetest
from kubetest import PYTHON, SERVER, Server, containers_labelled, pod_manifest
from kubeserver import kubelet, podspec, settings, store


class ShutdownTest(unittest.TestCase):

    def populate(self, server):
        server.run_pod(pod_manifest(generate='a-'))
        server.run_pod(pod_manifest(generate='b-', volumes=[{'name': 'v', 'emptyDir': {}}],
                                    container={'volumeMounts': [{'name': 'v', 'mountPath': '/v'}]}))
        slow = server.run_pod(pod_manifest(generate='slow-', terminationGracePeriodSeconds=600))
        server.request('DELETE', '/api/v1/namespaces/default/pods/' + slow['metadata']['name'])
        self.assertEqual(len(containers_labelled(server.label)), 3)

    def test_sigterm_removes_every_container(self):
        server = Server('http')
        self.populate(server)
        self.assertEqual(server.stop(), 0)
        self.assertEqual(containers_labelled(server.label), [])
        self.assertFalse(os.path.exists(os.path.join(server.state, 'pods')),
                         'the volume directories go too')

    def test_stdin_eof_stops_the_server(self):
        server = Server('http')
        self.populate(server)
        server.proc.stdin.close()
        self.assertEqual(server.proc.wait(60), 0)
        self.assertEqual(containers_labelled(server.label), [])
        server.stop()

    def test_admin_shutdown(self):
        server = Server('http')
        server.run_pod(pod_manifest())
        self.assertEqual(server.admin_call('POST', '/shutdown', {}), {'stopping': True})
        self.assertEqual(server.proc.wait(60), 0)
        self.assertEqual(containers_labelled(server.label), [])
        server.stop()

    def test_a_killed_servers_containers_are_reaped_by_the_next(self):
        first = Server('http')
        first.run_pod(pod_manifest())
        first.proc.kill()
        first.proc.wait()
        left = containers_labelled(first.label)
        self.assertEqual(len(left), 1, 'SIGKILL leaves the container behind')
        second = Server('http')
        try:
            # Every server reaps at start: one that another test program
            # started meanwhile may have come first, so the count can be 0,
            # but once this one is up the container is gone either way.
            self.assertGreaterEqual(second.info['reaped_stale_containers'], 0)
            self.assertEqual(containers_labelled(first.label), [])
        finally:
            second.stop()
            first.stop()


class _BlockingDocker:
    """Just enough of docker_api.Docker for one pod whose create blocks."""

    def __init__(self, events):
        self.events = events
        self.creating = threading.Event()
        self.release = threading.Event()

    def image_inspect(self, name):
        return {'Id': 'sha256:0', 'Config': {}}

    def create(self, name, config):
        self.creating.set()
        self.release.wait(30)
        return 'made-while-stopping'

    def list_labelled(self, label):
        return []           # the listing dockerd answered before the create finished

    def remove(self, cid):
        self.events.append(('removed', cid))


class ShutdownRaceTest(unittest.TestCase):

    def test_shutdown_waits_for_a_create_in_flight(self):
        events = []
        fake = _BlockingDocker(events)
        pods = store.PodStore()
        node = kubelet.Kubelet(pods, fake, settings.Settings(), 'race', tempfile.mkdtemp(
            dir=kubetest._WORK), 1, '')
        pod = podspec.decode(pod_manifest('race'), 'default')
        podspec.apply_defaults(pod)
        node.admit(pods.add('default', pod))
        self.assertTrue(fake.creating.wait(30))

        def stop():
            node.shutdown()
            events.append(('shutdown returned', None))
        stopper = threading.Thread(target=stop)
        stopper.start()
        time.sleep(0.3)
        fake.release.set()
        stopper.join(30)
        self.assertEqual(events[-1], ('shutdown returned', None))
        self.assertIn(('removed', 'made-while-stopping'), events[:-1],
                      'the container was removed before shutdown returned')


class RequestLogTest(unittest.TestCase):

    def test_tokens_are_masked_everywhere(self):
        server = Server('tls-token')
        try:
            token = server.token
            self.assertGreater(len(token), 20)
            server.request('GET', '/api/v1/namespaces/default/pods')
            server.request('GET', '/api/v1/namespaces/default/pods', token='wrong-token-value')
            server.request('GET', '/api/v1/namespaces/default/pods?access_token=' + token)
            name = server.run_pod(pod_manifest())['metadata']['name']
            ws = server.exec_ws(name, ['true'])
            ws.read_until_close()
            entries = server.log()
            fingerprint = hashlib.sha256(token.encode()).hexdigest()[:8]
            auth = [e['headers']['Authorization'] for e in entries if e.get('headers', {}).get(
                'Authorization')]
            self.assertTrue(auth)
            self.assertEqual(auth[0], 'Bearer <masked sha256:%s>' % fingerprint)
            self.assertIn('Bearer <masked sha256:%s>' % hashlib.sha256(
                b'wrong-token-value').hexdigest()[:8], auth)
            exec_entry = [e for e in entries if e.get('exec')][-1]
            self.assertEqual(exec_entry['headers']['Authorization'],
                             'Bearer <masked sha256:%s>' % fingerprint)
            server.delete_pod(name)
            with open(server.info['log_file']) as f:
                log_text = f.read()
            self.assertTrue(log_text)
            with open(os.path.join(server.state, 'ready.json')) as f:
                ready_text = f.read()
        finally:
            server.stop()
        everything = [json.dumps(entries), log_text, ready_text, server.output]
        for text in everything:
            self.assertNotIn(token, text)
            self.assertNotIn('wrong-token-value', text)
        self.assertIn('<masked sha256:%s>' % fingerprint, log_text)

    def test_log_entries(self):
        server = Server('http')
        try:
            seq = server.last_seq()
            server.request('GET', '/api/v1/namespaces/default/pods?labelSelector=a%3Db',
                           headers={'User-Agent': 'log-test'})
            entry = server.log(seq, settled=True)[0]
            self.assertEqual((entry['method'], entry['path'], entry['query'], entry['status']),
                             ('GET', '/api/v1/namespaces/default/pods', [['labelSelector', 'a=b']],
                              200))
            self.assertEqual(entry['headers']['User-Agent'], 'log-test')
            self.assertTrue(entry['done'])
            server.admin_call('DELETE', '/log')
            self.assertEqual(server.log(), [])
        finally:
            server.stop()


class FilesAndSettingsTest(unittest.TestCase):

    def test_ready_file_and_kubeconfigs(self):
        work = tempfile.mkdtemp(dir=kubetest._WORK)
        ready, copy = os.path.join(work, 'ready.json'), os.path.join(work, 'config')
        server = Server('tls-cert', extra_args=['--ready-file', ready, '--kubeconfig', copy])
        try:
            with open(ready) as f:
                info = json.load(f)
            self.assertEqual(info, server.info)
            self.assertEqual(info['url'], 'https://127.0.0.1:%d' % info['port'])
            for key in ('admin_url', 'ca', 'kubeconfig', 'state_dir', 'docker_label', 'pid'):
                self.assertTrue(info[key], key)
            with open(copy) as f:
                self.assertEqual(yaml.safe_load(f), yaml.safe_load(open(info['kubeconfig'])))
            self.assertEqual(set(info['kubeconfigs']), {'kubeconfig', 'kubeconfig.json',
                                                        'kubeconfig-files', 'kubeconfig-insecure'})
            inline = yaml.safe_load(open(info['kubeconfig']))
            self.assertEqual(inline, json.load(open(info['kubeconfigs']['kubeconfig.json'])))
            self.assertEqual(inline['current-context'], 'llmsbx-test')
            contexts = {c['name']: c['context'] for c in inline['contexts']}
            self.assertEqual(contexts['llmsbx-test-ns']['namespace'], 'sandbox-tests')
            self.assertNotIn('namespace', contexts['llmsbx-test'])
            users = {u['name']: u['user'] for u in inline['users']}
            self.assertIn('client-key-data', users['llmsbx-test-ec'])
            files = yaml.safe_load(open(info['kubeconfigs']['kubeconfig-files']))
            base = os.path.dirname(info['kubeconfigs']['kubeconfig-files'])
            ec = {u['name']: u['user'] for u in files['users']}['llmsbx-test-ec']
            self.assertFalse(os.path.isabs(ec['client-key']))
            with open(os.path.join(base, ec['client-key'])) as f:
                self.assertTrue(f.read().startswith('-----BEGIN EC PRIVATE KEY-----'))
            rsa = {u['name']: u['user'] for u in files['users']}['llmsbx-test']
            with open(os.path.join(base, rsa['client-key'])) as f:
                self.assertTrue(f.read().startswith('-----BEGIN RSA PRIVATE KEY-----'))
            insecure = yaml.safe_load(open(info['kubeconfigs']['kubeconfig-insecure']))
            self.assertEqual(insecure['clusters'][0]['cluster'],
                             {'server': info['url'], 'insecure-skip-tls-verify': True})
        finally:
            server.stop()

    def test_bad_settings_are_refused(self):
        tmp = tempfile.mkdtemp(dir=kubetest._WORK)
        for config, message in (('{"pending": 1}', "unknown setting 'pending'"),
                                ('{"disable_v5": "yes"}', 'disable_v5 is a bool'),
                                ('[1]', 'a JSON object')):
            result = subprocess.run([PYTHON, SERVER, '--mode', 'http', '--config', config],
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                    universal_newlines=True, timeout=60,
                                    env=dict(os.environ, TMPDIR=tmp))
            self.assertEqual(result.returncode, 2, config)
            self.assertIn(message, result.stderr)
        self.assertEqual(os.listdir(tmp), [], 'no state directory is left behind')
        server = Server('http')
        try:
            with self.assertRaises(urllib.error.HTTPError) as caught:
                server.configure(exec_chunk_bytes='one')
            self.assertEqual(caught.exception.code, 400)
            self.assertEqual(server.configure(pending_ms=5)['pending_ms'], 5)
            self.assertEqual(server.reset()['pending_ms'], 0)
        finally:
            server.stop()



class TokenRotationTest(unittest.TestCase):

    def test_rotate_revoke_keep_and_plugin_expiry(self):
        server = Server('tls-token')
        try:
            token_file = server.info['token_file']
            first = server.token
            self.assertEqual(server.request('GET', '/version')[0], 200)
            answer = server.rotate_token(revoke=False)
            self.assertEqual(answer['old_token'], hashlib.sha256(first.encode()).hexdigest()[:8])
            self.assertEqual(answer['token'], hashlib.sha256(server.token.encode()).hexdigest()[:8])
            with open(token_file) as f:
                self.assertEqual(f.read(), server.token)
            # Not revoked: both authenticate.
            self.assertEqual(server.request('GET', '/version', token=first)[0], 200)
            self.assertEqual(server.request('GET', '/version')[0], 200)
            second = server.token
            server.rotate_token()
            for old in (first, second):
                code, _, body = server.request('GET', '/version', token=old)
                self.assertEqual((code, body['reason']), (401, 'Unauthorized'))
            self.assertEqual(server.request('GET', '/version')[0], 200)
            # write_file false: the file keeps a token that no longer works.
            in_file = server.token
            server.rotate_token(write_file=False)
            with open(token_file) as f:
                self.assertEqual(f.read(), in_file)
            self.assertEqual(server.request('GET', '/version', token=in_file)[0], 401)
            with self.assertRaises(urllib.error.HTTPError) as caught:
                server.admin_call('POST', '/rotate-token', {'revoke': 'yes'})
            self.assertEqual(caught.exception.code, 400)
            # The plugin hands out what the file holds, with an expiry when asked.
            plugin = os.path.join(server.state, 'credential-plugin')
            with open(os.path.join(server.state, 'credential-plugin.ttl'), 'w') as f:
                f.write('60')
            started = time.time()
            out = json.loads(subprocess.run([plugin], stdout=subprocess.PIPE, check=True).stdout)
            self.assertEqual(out['status']['token'], in_file)
            expiry = calendar.timegm(time.strptime(out['status']['expirationTimestamp'],
                                                   '%Y-%m-%dT%H:%M:%SZ'))
            self.assertAlmostEqual(expiry, started + 60, delta=2)
        finally:
            server.stop()


if __name__ == '__main__':
    kubetest.main()
