# test-python-client.py: Debian's python3-kubernetes (a client nobody here wrote) drives the test API server.
import json
import os
import time
import unittest

import urllib3
from kubernetes import client, config, watch
from kubernetes.client.rest import ApiException
from kubernetes.stream import stream

import kubetest
from kubetest import IMAGE, Server


def api_for(server, context='llmsbx-test', variant='kubeconfig'):
    api_client = config.new_client_from_config(config_file=server.info['kubeconfigs'][variant],
                                               context=context)
    api_client.configuration.retries = False
    return client.CoreV1Api(api_client)


def sandbox_pod(generate='py-', labels=None, command=('sleep', 'infinity')):
    return client.V1Pod(
        api_version='v1', kind='Pod',
        metadata=client.V1ObjectMeta(generate_name=generate, labels=labels or {}),
        spec=client.V1PodSpec(
            restart_policy='Never', termination_grace_period_seconds=0,
            automount_service_account_token=False,
            containers=[client.V1Container(name='main', image=IMAGE, command=list(command))]))


def plugin_calls(server):
    with open(os.path.join(server.state, 'credential-plugin.calls')) as f:
        return [json.loads(line) for line in f]


def wait_running(api, name, ns='default'):
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        pod = api.read_namespaced_pod(name, ns)
        if pod.status.phase == 'Running':
            return pod
        time.sleep(0.05)
    raise AssertionError('pod %s did not run: %s' % (name, pod.status))


def run_exec(api, name, argv, **kwargs):
    opts = dict(stderr=True, stdin=False, stdout=True, tty=False)
    opts.update(kwargs)
    resp = stream(api.connect_get_namespaced_pod_exec, name, 'default', command=argv,
                  _preload_content=False, **opts)
    resp.run_forever(timeout=30)
    return resp


class TokenClientTest(unittest.TestCase):
    """Bearer token over TLS: the REST verbs, selectors, watch, exec."""

    @classmethod
    def setUpClass(cls):
        cls.server = Server('tls-token')
        cls.api = api_for(cls.server)
        cls.pod = cls.api.create_namespaced_pod('default', sandbox_pod(labels={'role': 'exec'}))
        wait_running(cls.api, cls.pod.metadata.name)

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def test_create_get_list_delete(self):
        api = self.api
        created = api.create_namespaced_pod('default', sandbox_pod(
            generate='crud-', labels={'app': 'sbx', 'tier': 'a'}))
        name = created.metadata.name
        self.assertTrue(name.startswith('crud-') and len(name) == len('crud-') + 5)
        self.assertEqual(created.status.phase, 'Pending')
        self.assertTrue(created.metadata.uid)
        self.assertTrue(created.metadata.resource_version)
        self.assertIsNotNone(created.metadata.creation_timestamp)
        running = wait_running(api, name)
        self.assertEqual(running.metadata.uid, created.metadata.uid)
        self.assertGreater(int(running.metadata.resource_version),
                           int(created.metadata.resource_version))
        self.assertTrue(running.status.container_statuses[0].ready)
        self.assertTrue(running.status.container_statuses[0].container_id.startswith('docker://'))
        self.assertEqual(running.spec.node_name, 'llmsbx-test-node')

        other = api.create_namespaced_pod('default', sandbox_pod(generate='crud-',
                                                                 labels={'app': 'sbx', 'tier': 'b'}))

        def names(selector):
            return sorted(p.metadata.name for p in
                          api.list_namespaced_pod('default', label_selector=selector).items)
        both = sorted([name, other.metadata.name])
        self.assertEqual(names('app=sbx'), both)
        self.assertEqual(names('app=sbx,tier=a'), [name])
        self.assertEqual(names('app==sbx,tier!=a'), [other.metadata.name])
        self.assertEqual(names('tier in (a, b),app'), both)
        self.assertEqual(names('tier notin (a),app=sbx'), [other.metadata.name])
        self.assertEqual(names('app=nothing'), [])

        deleted = api.delete_namespaced_pod(name, 'default', grace_period_seconds=0)
        self.assertIsNotNone(deleted.metadata.deletion_timestamp)
        with self.assertRaises(ApiException) as caught:
            api.read_namespaced_pod(name, 'default')
        self.assertEqual(caught.exception.status, 404)
        self.assertEqual(json.loads(caught.exception.body)['reason'], 'NotFound')
        api.delete_namespaced_pod(other.metadata.name, 'default',
                                  body=client.V1DeleteOptions(grace_period_seconds=0))
        self.assertEqual(names('app=sbx'), [])

    def test_errors_are_api_exceptions(self):
        api = self.api
        body = sandbox_pod()
        body.metadata = client.V1ObjectMeta(name='dup-%d' % time.monotonic_ns())
        api.create_namespaced_pod('default', body)
        with self.assertRaises(ApiException) as caught:
            api.create_namespaced_pod('default', body)
        self.assertEqual(caught.exception.status, 409)
        self.assertEqual(json.loads(caught.exception.body)['reason'], 'AlreadyExists')
        api.delete_namespaced_pod(body.metadata.name, 'default', grace_period_seconds=0)
        bad = sandbox_pod()
        bad.spec.containers[0].image = ''
        with self.assertRaises(ApiException) as caught:
            api.create_namespaced_pod('default', bad)
        self.assertEqual(caught.exception.status, 422)
        status = json.loads(caught.exception.body)
        self.assertEqual(status['details']['causes'][0]['field'], 'spec.containers[0].image')

    def test_exec_output_and_exit_codes(self):
        name = self.pod.metadata.name
        resp = run_exec(self.api, name, ['sh', '-c', 'echo to-out; echo to-err >&2; exit 7'])
        self.assertEqual(resp.read_stdout(), 'to-out\n')
        self.assertEqual(resp.read_stderr(), 'to-err\n')
        self.assertEqual(resp.returncode, 7)
        resp = run_exec(self.api, name, ['true'])
        self.assertEqual(resp.returncode, 0)
        resp = run_exec(self.api, name, ['sh', '-c', 'kill -KILL $$'])
        self.assertEqual(resp.returncode, 137)
        resp = run_exec(self.api, name, ['sh', '-c', 'exit 2'])
        status = json.loads(resp.read_channel(3))
        self.assertEqual(status['reason'], 'NonZeroExitCode')
        self.assertEqual(status['details']['causes'], [{'reason': 'ExitCode', 'message': '2'}])

    def test_exec_preloaded_output(self):
        out = stream(self.api.connect_get_namespaced_pod_exec, self.pod.metadata.name, 'default',
                     command=['sh', '-c', 'echo preloaded'], stderr=True, stdin=False,
                     stdout=True, tty=False)
        self.assertEqual(out, 'preloaded\n')

    def test_exec_stdin(self):
        # python3-kubernetes 22 speaks v4 only: stdin has no EOF, so the
        # command reads a known number of bytes.
        resp = stream(self.api.connect_get_namespaced_pod_exec, self.pod.metadata.name,
                      'default', command=['sh', '-c', 'head -c 12 | tr a-z A-Z'], stderr=True,
                      stdin=True, stdout=True, tty=False, _preload_content=False)
        resp.write_stdin('hello ')
        resp.write_stdin('stdin\n')
        resp.run_forever(timeout=30)
        self.assertEqual(resp.read_stdout(), 'HELLO STDIN\n')
        self.assertEqual(resp.returncode, 0)
        entry = self.server.wait_for_exec_end()
        self.assertEqual(entry['exec']['protocol'], 'v4.channel.k8s.io')
        self.assertEqual(entry['exec']['stdin_bytes'], 12)

    def test_watch(self):
        api = self.api
        created = api.create_namespaced_pod('default', sandbox_pod(generate='watched-'))
        name = created.metadata.name
        seen = []
        w = watch.Watch()
        for event in w.stream(api.list_namespaced_pod, 'default',
                              field_selector='metadata.name=' + name, timeout_seconds=30):
            seen.append((event['type'], event['object'].status.phase))
            if event['object'].status.phase == 'Running' and \
                    not event['object'].metadata.deletion_timestamp:
                api.delete_namespaced_pod(name, 'default', grace_period_seconds=0)
            if event['type'] == 'DELETED':
                w.stop()
        self.assertEqual(seen[0], ('ADDED', 'Pending'))
        self.assertIn(('MODIFIED', 'Running'), seen)
        self.assertEqual(seen[-1][0], 'DELETED')

    def test_wrong_token_is_401(self):
        for context in ('llmsbx-test-bad', 'llmsbx-test-anonymous'):
            with self.assertRaises(ApiException) as caught:
                api_for(self.server, context).list_namespaced_pod('default')
            self.assertEqual(caught.exception.status, 401, context)
            self.assertEqual(json.loads(caught.exception.body)['reason'], 'Unauthorized')

    def test_forbidden_is_403(self):
        self.server.configure(forbid=[{'verb': 'list', 'resource': 'pods'},
                                      {'verb': 'create', 'resource': 'pods/exec'}])
        try:
            with self.assertRaises(ApiException) as caught:
                self.api.list_namespaced_pod('default')
            self.assertEqual(caught.exception.status, 403)
            self.assertEqual(json.loads(caught.exception.body)['message'],
                             'pods is forbidden: User "llmsbx-test-token" cannot list resource '
                             '"pods" in API group "" in the namespace "default"')
            with self.assertRaises(ApiException) as caught:
                run_exec(self.api, self.pod.metadata.name, ['true'])
            self.assertIn('403', caught.exception.reason)
        finally:
            self.server.reset()

    def test_token_file_and_insecure_kubeconfigs(self):
        urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
        for variant in ('kubeconfig-files', 'kubeconfig-insecure', 'kubeconfig.json'):
            api = api_for(self.server, variant=variant)
            self.assertIn(self.pod.metadata.name,
                          [p.metadata.name for p in api.list_namespaced_pod('default').items])

    def test_exec_credential_plugin(self):
        for variant in ('kubeconfig', 'kubeconfig-files'):
            api = api_for(self.server, 'llmsbx-test-exec', variant)
            self.assertIn(self.pod.metadata.name,
                          [p.metadata.name for p in api.list_namespaced_pod('default').items])
        calls = plugin_calls(self.server)
        self.assertGreaterEqual(len(calls), 2)
        self.assertEqual((calls[0]['argv'], calls[0]['env']), (['--cluster', 'llmsbx-test'], 'yes'))
        self.assertEqual(json.loads(calls[0]['info'])['kind'], 'ExecCredential')

    def test_other_namespace_context(self):
        api = api_for(self.server, 'llmsbx-test-ns')
        created = api.create_namespaced_pod('sandbox-tests', sandbox_pod())
        self.assertEqual(created.metadata.namespace, 'sandbox-tests')
        self.assertNotIn(created.metadata.name, [p.metadata.name for p in
                                                 api.list_namespaced_pod('default').items])
        api.delete_namespaced_pod(created.metadata.name, 'sandbox-tests', grace_period_seconds=0)
        with self.assertRaises(ApiException) as caught:
            api.create_namespaced_pod('no-such-namespace', sandbox_pod())
        self.assertEqual(caught.exception.status, 404)
        self.assertEqual(json.loads(caught.exception.body)['message'],
                         'namespaces "no-such-namespace" not found')


class ClientCertificateTest(unittest.TestCase):
    """TLS client certificates: RSA (PKCS#1 and PKCS#8) and EC (SEC1) keys."""

    @classmethod
    def setUpClass(cls):
        cls.server = Server('tls-cert')

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def test_each_key_format_authenticates_and_execs(self):
        for context, user in (('llmsbx-test', 'llmsbx-test-rsa'),
                              ('llmsbx-test-ec', 'llmsbx-test-ec'),
                              ('llmsbx-test-pkcs8', 'llmsbx-test-rsa')):
            api = api_for(self.server, context)
            pod = api.create_namespaced_pod('default', sandbox_pod(generate='cert-'))
            wait_running(api, pod.metadata.name)
            resp = run_exec(api, pod.metadata.name, ['sh', '-c', 'echo via-cert; exit 5'])
            self.assertEqual((resp.read_stdout(), resp.returncode), ('via-cert\n', 5), context)
            api.delete_namespaced_pod(pod.metadata.name, 'default', grace_period_seconds=0)
            users = {e['user'] for e in self.server.log() if e.get('path', '').endswith(
                '/pods/' + pod.metadata.name + '/exec')}
            self.assertEqual(users, {user}, context)

    def test_exec_credential_plugin_gives_a_certificate(self):
        api = api_for(self.server, 'llmsbx-test-exec')
        api.list_namespaced_pod('default')
        self.assertEqual(self.server.log()[-1]['user'], 'llmsbx-test-ec')
        self.assertTrue(plugin_calls(self.server))

    def test_files_variant(self):
        api = api_for(self.server, 'llmsbx-test-ec', 'kubeconfig-files')
        self.assertIsNotNone(api.list_namespaced_pod('default').items)

    def test_no_certificate_is_401(self):
        with self.assertRaises(ApiException) as caught:
            api_for(self.server, 'llmsbx-test-anonymous').list_namespaced_pod('default')
        self.assertEqual(caught.exception.status, 401)

    def test_untrusted_certificate_fails_the_handshake(self):
        with self.assertRaises(urllib3.exceptions.HTTPError):
            api_for(self.server, 'llmsbx-test-bad').list_namespaced_pod('default')
        events = [e for e in self.server.log() if e.get('event') == 'tls-handshake-failed']
        self.assertTrue(events)


if __name__ == '__main__':
    kubetest.main()
