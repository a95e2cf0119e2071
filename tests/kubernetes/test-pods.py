# test-pods.py: the pods REST API over raw HTTP: exact Status errors, metadata, phases, failure reasons, deletion, watch.
import copy
import json
import random
import socket
import time
import unittest
import uuid

import kubetest
from kubetest import IMAGE, Server, docker, pod_manifest

PODS = '/api/v1/namespaces/default/pods'


def waiting_reason(pod):
    statuses = pod['status'].get('containerStatuses') or []
    return statuses[0]['state'].get('waiting', {}).get('reason') if statuses else None


class StatusErrorTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.server = Server('http-token')

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def setUp(self):
        self.server.reset()

    def test_bad_json_is_400(self):
        code, _, body = self.server.request('POST', PODS, '{"kind": "Pod", ',
                                            headers={'Content-Type': 'application/json'})
        self.assertEqual(code, 400)
        self.assertEqual(set(body), {'kind', 'apiVersion', 'metadata', 'status', 'message',
                                     'reason', 'code'})
        self.assertEqual((body['kind'], body['apiVersion'], body['metadata'], body['status'],
                          body['reason'], body['code']),
                         ('Status', 'v1', {}, 'Failure', 'BadRequest', 400))
        self.assertTrue(body['message'].startswith('the object provided is unrecognized (must '
                                                   'be of type Pod)'), body['message'])
        manifest = pod_manifest()
        manifest['spec']['containers'] = 'main'
        code, _, body = self.server.request('POST', PODS, manifest)
        self.assertEqual(code, 400)
        self.assertEqual(body['message'], 'Pod in version "v1" cannot be handled as a Pod: json: '
                                          'cannot unmarshal string into Go struct field '
                                          'Pod.spec.containers of type []')
        manifest = pod_manifest(container={'resources': {'limits': {'memory': 'lots'}}})
        code, _, body = self.server.request('POST', PODS, manifest)
        self.assertEqual(code, 400, 'a malformed quantity fails decoding, before validation')
        self.assertIn('quantities must match the regular expression', body['message'])

    def test_not_found_is_404(self):
        code, _, body = self.server.request('GET', PODS + '/nope')
        self.assertEqual(code, 404)
        self.assertEqual(body, {'kind': 'Status', 'apiVersion': 'v1', 'metadata': {},
                                'status': 'Failure', 'message': 'pods "nope" not found',
                                'reason': 'NotFound', 'details': {'name': 'nope', 'kind': 'pods'},
                                'code': 404})
        code, _, body = self.server.request('DELETE', PODS + '/nope')
        self.assertEqual((code, body['reason']), (404, 'NotFound'))
        code, _, body = self.server.request('GET', '/api/v1/services')
        self.assertEqual((code, body['message']),
                         (404, 'the server could not find the requested resource'))

    def test_already_exists_is_409(self):
        name = 'dup-' + uuid.uuid4().hex[:8]
        self.server.create_pod(pod_manifest(name))
        code, _, body = self.server.request('POST', PODS, pod_manifest(name))
        self.assertEqual(code, 409)
        self.assertEqual(body, {'kind': 'Status', 'apiVersion': 'v1', 'metadata': {},
                                'status': 'Failure', 'message': 'pods "%s" already exists' % name,
                                'reason': 'AlreadyExists', 'details': {'name': name,
                                                                       'kind': 'pods'},
                                'code': 409})
        self.server.delete_pod(name)

    def test_invalid_is_422_with_causes(self):
        manifest = pod_manifest('no-containers')
        del manifest['spec']['containers']
        code, _, body = self.server.request('POST', PODS, manifest)
        self.assertEqual(code, 422)
        self.assertEqual(body, {
            'kind': 'Status', 'apiVersion': 'v1', 'metadata': {}, 'status': 'Failure',
            'message': 'Pod "no-containers" is invalid: spec.containers: Required value',
            'reason': 'Invalid',
            'details': {'name': 'no-containers', 'kind': 'Pod', 'causes': [
                {'reason': 'FieldValueRequired', 'message': 'Required value',
                 'field': 'spec.containers'}]},
            'code': 422})
        manifest = pod_manifest('Bad_Name', restartPolicy='Sometimes')
        manifest['spec']['containers'][0]['resources'] = {'limits': {'memory': '-1'}}
        code, _, body = self.server.request('POST', PODS, manifest)
        self.assertEqual(code, 422)
        fields = [c['field'] for c in body['details']['causes']]
        # requests default to the limits before validation, so both are wrong.
        self.assertEqual(fields, ['metadata.name', 'spec.containers[0].resources.limits[memory]',
                                  'spec.containers[0].resources.requests[memory]',
                                  'spec.restartPolicy'])
        self.assertTrue(body['message'].startswith('Pod "Bad_Name" is invalid: [metadata.name: '
                                                   'Invalid value: "Bad_Name": a lowercase RFC '
                                                   '1123 subdomain'))
        manifest = pod_manifest()
        del manifest['metadata']['generateName']
        code, _, body = self.server.request('POST', PODS, manifest)
        self.assertEqual((code, body['details']['causes'][0]['message']),
                         (422, 'Required value: name or generateName is required'))

    def test_too_many_requests_is_429_with_retry_after(self):
        self.server.configure(fail_requests=[{'method': 'POST', 'path': '/pods$', 'code': 429,
                                              'retry_after': 2, 'count': 1}])
        code, resp, body = self.server.request('POST', PODS, pod_manifest())
        self.assertEqual(code, 429)
        self.assertEqual(resp.getheader('Retry-After'), '2')
        self.assertEqual(body, {'kind': 'Status', 'apiVersion': 'v1', 'metadata': {},
                                'status': 'Failure',
                                'message': 'Too many requests, please try again later.',
                                'reason': 'TooManyRequests',
                                'details': {'retryAfterSeconds': 2}, 'code': 429})
        created = self.server.create_pod(pod_manifest())      # the rule was used up
        self.server.delete_pod(created['metadata']['name'])

    def test_internal_error_on_create(self):
        self.server.configure(fail_requests=[{'method': 'POST', 'path': '/pods$', 'code': 500,
                                              'count': 2, 'message': 'etcdserver: leader changed'}])
        for _ in range(2):
            code, _, body = self.server.request('POST', PODS, pod_manifest())
            self.assertEqual(code, 500)
            self.assertEqual(body, {'kind': 'Status', 'apiVersion': 'v1', 'metadata': {},
                                    'status': 'Failure', 'message': 'Internal error occurred: '
                                                                    'etcdserver: leader changed',
                                    'reason': 'InternalError',
                                    'details': {'causes': [{'message':
                                                            'etcdserver: leader changed'}]},
                                    'code': 500})
        self.assertEqual(self.server.request('GET', PODS)[0], 200, 'only creates fail')
        created = self.server.create_pod(pod_manifest())
        self.server.delete_pod(created['metadata']['name'])
        entries = [e for e in self.server.log() if e.get('fault')]
        self.assertEqual([e['fault'] for e in entries], [500, 500])

    def test_unauthorized_is_401(self):
        for token in (None, 'wrong'):
            code, resp, body = self.server.request('GET', PODS, token=token)
            self.assertEqual(code, 401)
            self.assertEqual(body, {'kind': 'Status', 'apiVersion': 'v1', 'metadata': {},
                                    'status': 'Failure', 'message': 'Unauthorized',
                                    'reason': 'Unauthorized', 'code': 401})
            self.assertEqual(resp.getheader('WWW-Authenticate'), 'Basic realm="kubernetes-master"')
        self.assertEqual(self.server.request('GET', '/version', token=None)[0], 401)

    def test_forbidden_rules(self):
        self.server.configure(forbid=['delete:pods', {'verb': 'list', 'namespace': 'sandbox-tests'}])
        code, _, body = self.server.request('DELETE', PODS + '/anything')
        self.assertEqual(code, 403, 'authorization comes before the lookup')
        self.assertEqual(body, {'kind': 'Status', 'apiVersion': 'v1', 'metadata': {},
                                'status': 'Failure',
                                'message': 'pods "anything" is forbidden: User "llmsbx-test-token" '
                                           'cannot delete resource "pods" in API group "" in the '
                                           'namespace "default"',
                                'reason': 'Forbidden',
                                'details': {'name': 'anything', 'kind': 'pods'}, 'code': 403})
        self.assertEqual(self.server.request('GET', '/api/v1/namespaces/sandbox-tests/pods')[0], 403)
        self.assertEqual(self.server.request('GET', PODS)[0], 200)

    def test_pod_security_baseline(self):
        manifest = pod_manifest('priv', container={'securityContext': {'privileged': True}})
        code, _, body = self.server.request('POST', PODS, manifest)
        self.assertEqual(code, 403)
        self.assertEqual(body['message'], 'pods "priv" is forbidden: violates PodSecurity '
                                          '"baseline:latest": privileged (container "main" must '
                                          'not set securityContext.privileged=true)')
        manifest = pod_manifest(hostPID=True, container={
            'securityContext': {'capabilities': {'add': ['SYS_ADMIN', 'CHOWN']}}})
        code, _, body = self.server.request('POST', PODS, manifest)
        self.assertEqual(code, 403)
        self.assertIn('host namespaces (hostPID=true)', body['message'])
        self.assertIn('must not include "SYS_ADMIN" in securityContext.capabilities.add',
                      body['message'])
        manifest = pod_manifest(volumes=[{'name': 'h', 'hostPath': {'path': '/'}}])
        self.assertEqual(self.server.request('POST', PODS, manifest)[0], 403)

    def test_selectors_errors(self):
        code, _, body = self.server.request('GET', PODS + '?labelSelector=a%20b')
        self.assertEqual((code, body['reason']), (400, 'BadRequest'))
        self.assertTrue(body['message'].startswith('unable to parse requirement'))
        code, _, body = self.server.request('GET', PODS + '?fieldSelector=spec.foo%3D1')
        self.assertEqual((code, body['message']), (400, 'field label not supported: spec.foo'))

    def test_unsupported_verbs_are_405(self):
        code, _, body = self.server.request('PATCH', PODS + '/x', '{}')
        self.assertEqual((code, body['reason']), (405, 'MethodNotAllowed'))


class PodMetadataTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.server = Server('http')

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def test_server_assigned_fields_and_defaults(self):
        manifest = pod_manifest(generate='meta-', container={
            'resources': {'limits': {'memory': '64Mi', 'cpu': '500m'}}})
        del manifest['spec']['terminationGracePeriodSeconds']
        created = self.server.create_pod(manifest)
        meta = created['metadata']
        self.assertRegex(meta['name'], r'^meta-[bcdfghjklmnpqrstvwxz2456789]{5}$')
        self.assertEqual(meta['generateName'], 'meta-')
        self.assertEqual(str(uuid.UUID(meta['uid'])), meta['uid'])
        self.assertRegex(meta['creationTimestamp'], r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$')
        self.assertTrue(meta['resourceVersion'].isdigit())
        self.assertEqual((created['kind'], created['apiVersion']), ('Pod', 'v1'))
        spec = created['spec']
        self.assertEqual((spec['restartPolicy'], spec['terminationGracePeriodSeconds'],
                          spec['dnsPolicy'], spec['serviceAccountName']),
                         ('Always', 30, 'ClusterFirst', 'default'))
        ctr = spec['containers'][0]
        self.assertEqual(ctr['imagePullPolicy'], 'IfNotPresent')
        self.assertEqual(ctr['resources']['requests'], {'memory': '64Mi', 'cpu': '500m'})
        self.assertEqual(created['status'], {'phase': 'Pending', 'qosClass': 'Guaranteed'})
        mounts = [m['mountPath'] for m in ctr['volumeMounts']]
        self.assertEqual(mounts, ['/var/run/secrets/kubernetes.io/serviceaccount'])
        running = self.server.wait_running(meta['name'])
        self.assertGreater(int(running['metadata']['resourceVersion']), int(meta['resourceVersion']))
        conditions = {c['type']: c['status'] for c in running['status']['conditions']}
        self.assertEqual(conditions, {'Initialized': 'True', 'Ready': 'True',
                                      'ContainersReady': 'True', 'PodScheduled': 'True'})
        st = running['status']
        self.assertEqual(st['hostIP'], '127.0.0.1')
        self.assertTrue(st['podIP'].startswith('127.'))
        self.assertIn('startTime', st)
        self.assertTrue(st['containerStatuses'][0]['ready'])
        self.assertIn('startedAt', st['containerStatuses'][0]['state']['running'])
        self.server.delete_pod(meta['name'])

    def test_list_pagination_and_dry_run(self):
        names = [self.server.create_pod(pod_manifest(generate='page-', labels={'page': 'yes'}))
                 ['metadata']['name'] for _ in range(3)]
        seen, token = [], ''
        while True:
            code, _, body = self.server.request(
                'GET', PODS + '?labelSelector=page%3Dyes&limit=2' + ('&continue=' + token if token else ''))
            self.assertEqual(code, 200)
            seen += [i['metadata']['name'] for i in body['items']]
            token = body['metadata'].get('continue')
            if not token:
                break
            self.assertEqual(body['metadata']['remainingItemCount'], 1)
        self.assertEqual(sorted(seen), sorted(names))
        code, _, body = self.server.request('POST', PODS + '?dryRun=All', pod_manifest('dry'))
        self.assertEqual(code, 201)
        self.assertIsNone(self.server.get_pod('dry'))
        for name in names:
            self.server.delete_pod(name)

    def test_watch(self):
        conn = self.server.connection()
        code, _, listed = self.server.request('GET', PODS)
        rv = listed['metadata']['resourceVersion']
        conn.request('GET', PODS + '?watch=1&labelSelector=w%3Done&resourceVersion=' + rv)
        resp = conn.getresponse()
        self.assertEqual(resp.status, 200)
        self.assertEqual(resp.getheader('Transfer-Encoding'), 'chunked')
        self.server.create_pod(pod_manifest(generate='unwatched-'))
        name = self.server.create_pod(pod_manifest(generate='watched-', labels={'w': 'one'}))[
            'metadata']['name']
        events = []
        while True:
            event = json.loads(resp.readline())
            events.append(event)
            if event['object']['status'].get('phase') == 'Running' and len(events) < 50 \
                    and not event['object']['metadata'].get('deletionTimestamp'):
                self.server.delete_pod(name)
            if event['type'] == 'DELETED':
                break
        conn.close()
        # The server notices the hang-up (a watch sends nothing) and ends the request.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            watch = [e for e in self.server.log() if dict(e.get('query') or []).get('watch')][-1]
            if watch['done']:
                break
            time.sleep(0.1)
        self.assertTrue(watch['done'], 'the watch ended when its client went away')
        self.assertEqual(events[0]['type'], 'ADDED')
        self.assertEqual({e['object']['metadata']['name'] for e in events}, {name})
        self.assertEqual(events[0]['object']['kind'], 'Pod')
        versions = [int(e['object']['metadata']['resourceVersion']) for e in events]
        self.assertEqual(versions, sorted(versions))
        self.assertTrue(all(v > int(rv) for v in versions))


class PodLifecycleTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.server = Server('http', settings={'backoff_ms': 150})

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def setUp(self):
        self.server.configure(pending_ms=0, schedule_ms=0, terminating_ms=0, image_scenarios={})

    def observe(self, name, want, timeout=30):
        """Polls until every reason in `want` was seen as a waiting reason."""
        seen = set()
        self.server.wait_pod(name, lambda p: seen.add(waiting_reason(p)) or want <= seen, timeout)
        return seen

    def test_pending_then_running_with_timing_knobs(self):
        self.server.configure(schedule_ms=400, pending_ms=1200)
        started = time.monotonic()
        name = self.server.create_pod(pod_manifest(generate='slow-'))['metadata']['name']
        pod = self.server.get_pod(name)
        self.assertEqual(pod['status']['phase'], 'Pending')
        self.assertNotIn('nodeName', pod['spec'])
        pod = self.server.wait_pod(name, lambda p: p['spec'].get('nodeName'))
        self.assertEqual(pod['status']['phase'], 'Pending')
        self.assertEqual(waiting_reason(pod), 'ContainerCreating')
        self.server.wait_running(name)
        self.assertGreaterEqual(time.monotonic() - started, 1.2)
        self.server.delete_pod(name)

    def test_missing_image_pull_errors_until_it_appears(self):
        tag = 'llmsbx/h4-kube-apiserver-appears:%s' % uuid.uuid4().hex[:8]
        name = self.server.create_pod(pod_manifest(generate='pull-', image=tag))['metadata']['name']
        self.observe(name, {'ErrImagePull', 'ImagePullBackOff'})
        pod = self.server.get_pod(name)
        self.assertEqual(pod['status']['phase'], 'Pending')
        message = pod['status']['containerStatuses'][0]['state']['waiting']['message']
        self.assertTrue('pulling image' in message or 'failed to pull' in message, message)
        docker('tag', IMAGE, tag)
        try:
            self.server.wait_running(name)
        finally:
            docker('rmi', tag)
        self.server.delete_pod(name)

    def test_natural_failure_reasons(self):
        cases = {
            'InvalidImageName': pod_manifest(generate='invalid-', image='Upper/Case:Tag'),
            'CreateContainerError': pod_manifest(generate='cce-', container={
                'resources': {'limits': {'memory': '1Mi'}}}),
            'CrashLoopBackOff': pod_manifest(generate='crash-', command=['sh', '-c', 'exit 1']),
        }
        names = {reason: self.server.create_pod(m)['metadata']['name'] for reason, m in cases.items()}
        for reason, name in names.items():
            self.observe(name, {reason})
        crash = self.server.wait_pod(names['CrashLoopBackOff'], lambda p: p['status'][
            'containerStatuses'][0]['restartCount'] >= 2)
        cs = crash['status']['containerStatuses'][0]
        self.assertEqual(crash['status']['phase'], 'Running')
        self.assertEqual(cs['lastState']['terminated']['exitCode'], 1)
        self.assertFalse(cs['ready'])
        cce = self.server.get_pod(names['CreateContainerError'])
        self.assertIn('Minimum memory limit', cce['status']['containerStatuses'][0]['state'][
            'waiting']['message'])
        for name in names.values():
            self.server.delete_pod(name)

    def test_scenarios(self):
        self.server.configure(image_scenarios={
            'h4/pull': 'ErrImagePull', 'h4/crash': 'CrashLoopBackOff',
            'h4/create': 'CreateContainerError', 'h4/unschedulable': 'Unschedulable'})
        names = {image: self.server.create_pod(pod_manifest(generate='scenario-', image=image))
                 ['metadata']['name'] for image in ('h4/pull', 'h4/crash', 'h4/create')}
        self.observe(names['h4/pull'], {'ErrImagePull', 'ImagePullBackOff'})
        self.observe(names['h4/crash'], {'CrashLoopBackOff'})
        self.observe(names['h4/create'], {'CreateContainerError'})
        unschedulable = self.server.create_pod(pod_manifest(image='h4/unschedulable'))
        pod = self.server.wait_pod(unschedulable['metadata']['name'],
                                   lambda p: p['status'].get('conditions'))
        self.assertEqual(pod['status']['conditions'][0]['type'], 'PodScheduled')
        self.assertEqual((pod['status']['conditions'][0]['status'],
                          pod['status']['conditions'][0]['reason']), ('False', 'Unschedulable'))
        self.assertNotIn('nodeName', pod['spec'])
        everything = list(names.values()) + [unschedulable['metadata']['name']]
        report = {p['name']: p['containers'] for p in self.server.pods()}
        for name in everything:
            self.assertEqual(report[name], {'main': None}, 'a scenario makes no container')
            self.server.delete_pod(name)

    def test_unschedulable_for_resources(self):
        name = self.server.create_pod(pod_manifest(generate='big-', container={
            'resources': {'requests': {'cpu': '1000'}}}))['metadata']['name']
        pod = self.server.wait_pod(name, lambda p: p['status'].get('conditions'))
        self.assertEqual(pod['status']['conditions'][0]['message'],
                         '0/1 nodes are available: 1 Insufficient cpu.')
        self.server.delete_pod(name)

    def test_restart_never_ends_succeeded_or_failed(self):
        ok = self.server.create_pod(pod_manifest(generate='done-', command=['true'],
                                                 restartPolicy='Never'))['metadata']['name']
        bad = self.server.create_pod(pod_manifest(generate='fail-', command=['sh', '-c', 'exit 3'],
                                                  restartPolicy='Never'))['metadata']['name']
        start_error = self.server.create_pod(pod_manifest(
            generate='start-', command=['no-such-binary-h4'], restartPolicy='Never'))['metadata']['name']
        pod = self.server.wait_pod(ok, lambda p: p['status']['phase'] == 'Succeeded')
        term = pod['status']['containerStatuses'][0]['state']['terminated']
        self.assertEqual((term['exitCode'], term['reason']), (0, 'Completed'))
        pod = self.server.wait_pod(bad, lambda p: p['status']['phase'] == 'Failed')
        term = pod['status']['containerStatuses'][0]['state']['terminated']
        self.assertEqual((term['exitCode'], term['reason']), (3, 'Error'))
        pod = self.server.wait_pod(start_error, lambda p: p['status']['phase'] == 'Failed')
        term = pod['status']['containerStatuses'][0]['state']['terminated']
        self.assertEqual((term['exitCode'], term['reason']), (128, 'StartError'))
        self.assertIn('executable file not found', term['message'])
        for name in (ok, bad, start_error):
            code, _, body = self.server.request('DELETE', PODS + '/' + name)
            self.assertEqual(code, 200)
            self.assertEqual(body['metadata']['deletionGracePeriodSeconds'], 0,
                             'a finished pod is deleted at once')
            self.assertIsNone(self.server.get_pod(name))

    def test_active_deadline(self):
        name = self.server.create_pod(pod_manifest(generate='deadline-',
                                                   activeDeadlineSeconds=1))['metadata']['name']
        pod = self.server.wait_pod(name, lambda p: p['status']['phase'] == 'Failed')
        self.assertEqual((pod['status']['reason'], pod['status']['message']),
                         ('DeadlineExceeded',
                          'Pod was active on the node longer than the specified deadline'))
        pod = self.server.wait_pod(name, lambda p: 'terminated' in p['status'][
            'containerStatuses'][0]['state'])
        self.assertEqual(pod['status']['containerStatuses'][0]['state']['terminated']['exitCode'], 137)
        self.server.delete_pod(name)

    def test_graceful_delete_is_terminating_then_gone(self):
        name = 'graceful-' + uuid.uuid4().hex[:6]
        # sleep as PID 1 ignores SIGTERM: the kill comes after the grace period.
        self.server.run_pod(pod_manifest(name, terminationGracePeriodSeconds=2))
        container = self.server.docker_id(name)
        code, _, body = self.server.request('DELETE', PODS + '/' + name)
        self.assertEqual(code, 200)
        self.assertEqual(body['metadata']['deletionGracePeriodSeconds'], 2)
        self.assertIn('deletionTimestamp', body['metadata'])
        pod = self.server.get_pod(name)
        self.assertIsNotNone(pod, 'a Terminating pod can still be read')
        self.assertIn('deletionTimestamp', pod['metadata'])
        code, _, body = self.server.request('POST', PODS, pod_manifest(name))
        self.assertEqual((code, body['reason']), (409, 'AlreadyExists'))
        self.server.wait_pod(name, lambda p: p is None)
        self.assertFalse(docker('ps', '-aq', '--filter', 'id=' + container).strip())
        self.assertEqual(self.server.request('POST', PODS, pod_manifest(name))[0], 201)
        self.server.delete_pod(name)

    def test_shorter_grace_replaces_a_pending_deletion(self):
        name = 'shorter-' + uuid.uuid4().hex[:6]
        self.server.run_pod(pod_manifest(name, terminationGracePeriodSeconds=600))
        code, _, body = self.server.request('DELETE', PODS + '/' + name)
        self.assertEqual(body['metadata']['deletionGracePeriodSeconds'], 600)
        code, _, body = self.server.request('DELETE', PODS + '/' + name + '?gracePeriodSeconds=900')
        self.assertEqual(body['metadata']['deletionGracePeriodSeconds'], 600, 'longer: no change')
        code, _, body = self.server.request('DELETE', PODS + '/' + name, {
            'kind': 'DeleteOptions', 'apiVersion': 'v1', 'gracePeriodSeconds': 0})
        self.assertEqual(code, 200)
        self.assertIsNone(self.server.get_pod(name))

    def test_terminating_knob_and_trapped_sigterm(self):
        self.server.configure(terminating_ms=800)
        name = 'trap-' + uuid.uuid4().hex[:6]
        self.server.run_pod(pod_manifest(name, terminationGracePeriodSeconds=30, command=[
            'sh', '-c', "trap 'exit 0' TERM; while :; do sleep 0.1; done"]))
        self.server.request('DELETE', PODS + '/' + name)
        pod = self.server.wait_pod(name, lambda p: p is None or 'terminated' in p['status'][
            'containerStatuses'][0]['state'])
        self.assertIsNotNone(pod, 'the pod outlives its container by terminating_ms')
        self.assertEqual(pod['status']['containerStatuses'][0]['state']['terminated']['exitCode'], 0)
        self.server.wait_pod(name, lambda p: p is None)

    def test_grace_zero_frees_the_name_at_once(self):
        name = 'now-' + uuid.uuid4().hex[:6]
        self.server.run_pod(pod_manifest(name, terminationGracePeriodSeconds=30))
        code, _, body = self.server.delete_pod(name, grace=0)
        self.assertEqual(code, 200)
        self.assertEqual(body['metadata']['deletionGracePeriodSeconds'], 0)
        self.assertIsNone(self.server.get_pod(name))
        self.assertEqual(self.server.request('POST', PODS, pod_manifest(name))[0], 201)
        self.server.delete_pod(name)


class HostileInputTest(unittest.TestCase):
    """Whatever a client sends, the server answers (never a 500, never a
    hang, never a traceback) and goes on serving."""

    @classmethod
    def setUpClass(cls):
        cls.server = Server('http-token')

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        assert 'Traceback' not in cls.server.output, cls.server.output

    def raw(self, data):
        conn = socket.create_connection(('127.0.0.1', self.server.info['port']), timeout=10)
        conn.sendall(data)
        out = b''
        while True:
            chunk = conn.recv(65536)
            if not chunk:
                break
            out += chunk
        conn.close()
        return out

    def test_malformed_requests(self):
        auth = b'Authorization: Bearer ' + self.server.token.encode() + b'\r\nConnection: close\r\n'
        cases = [b'GARBAGE\r\n\r\n', b'\x00\xff\xfe\r\n\r\n', b'GET /api HTTP/9.9\r\n\r\n',
                 b'GET /api HTTP/1.1\r\nX: ' + b'a' * 70000 + b'\r\n\r\n',
                 b'GET /api/v1/namespaces/default/pods/\xff\xfe HTTP/1.1\r\n' + auth + b'\r\n',
                 b'POST ' + PODS.encode() + b' HTTP/1.1\r\nTransfer-Encoding: chunked\r\n' + auth +
                 b'\r\nzz\r\n',
                 b'POST ' + PODS.encode() + b' HTTP/1.1\r\nContent-Length: -5\r\n' + auth + b'\r\n',
                 b'POST ' + PODS.encode() + b' HTTP/1.1\r\nContent-Length: 99999999999\r\n' + auth +
                 b'\r\n',
                 b'GET ' + PODS.encode() + b'?labelSelector=' + b'(' * 5000 + b' HTTP/1.1\r\n' + auth +
                 b'\r\n',
                 b'GET ' + PODS.encode() + b'?watch=1&resourceVersion=abc HTTP/1.1\r\n' + auth + b'\r\n',
                 b'GET ' + PODS.encode() + b'?continue=!!! HTTP/1.1\r\n' + auth + b'\r\n']
        for case in cases:
            answer = self.raw(case)
            self.assertTrue(answer.startswith(b'HTTP/1.') or answer.startswith(b'<!DOCTYPE'), case[:40])
            self.assertNotIn(b' 500 ', answer.split(b'\r\n')[0], case[:40])
        self.assertEqual(self.server.request('GET', '/version')[0], 200)

    def test_manifests_of_any_shape(self):
        rng = random.Random(11)
        values = [None, 1, -1, 1.5, True, 'x', '', [], {}, [1], {'a': 1}, '\u00dc' * 10, 10 ** 30]
        paths = [('metadata',), ('metadata', 'name'), ('metadata', 'labels'), ('metadata', 'labels', 'a'),
                 ('spec',), ('spec', 'containers'), ('spec', 'containers', 0),
                 ('spec', 'containers', 0, 'name'), ('spec', 'containers', 0, 'image'),
                 ('spec', 'containers', 0, 'command'), ('spec', 'containers', 0, 'env'),
                 ('spec', 'containers', 0, 'env', 0), ('spec', 'containers', 0, 'env', 0, 'valueFrom'),
                 ('spec', 'containers', 0, 'resources', 'limits'),
                 ('spec', 'containers', 0, 'resources', 'limits', 'memory'),
                 ('spec', 'containers', 0, 'securityContext', 'runAsUser'),
                 ('spec', 'containers', 0, 'volumeMounts'), ('spec', 'volumes'),
                 ('spec', 'volumes', 0, 'emptyDir', 'sizeLimit'), ('spec', 'securityContext', 'fsGroup'),
                 ('spec', 'activeDeadlineSeconds'), ('spec', 'restartPolicy'), ('kind',), ('apiVersion',)]
        codes = set()
        for _ in range(200):
            manifest = pod_manifest(generate='chaos-', image=kubetest.MISSING_IMAGE, container={
                'env': [{'name': 'A', 'value': 'b'}], 'resources': {'limits': {'memory': '1Gi'}},
                'securityContext': {}, 'volumeMounts': [{'name': 'v', 'mountPath': '/v'}]},
                volumes=[{'name': 'v', 'emptyDir': {}}], securityContext={})
            for _ in range(rng.randint(1, 3)):
                path, target = rng.choice(paths), manifest
                try:
                    for key in path[:-1]:
                        target = target[key]
                    target[path[-1]] = copy.deepcopy(rng.choice(values))
                except (KeyError, IndexError, TypeError):
                    pass
            code, _, body = self.server.request('POST', PODS, json.dumps(manifest),
                                                headers={'Content-Type': 'application/json'})
            codes.add(code)
            self.assertIn(code, (201, 400, 422), (body, manifest))
            if code == 201:
                self.server.delete_pod(body['metadata']['name'])
        self.assertEqual(codes, {201, 400, 422})
        self.assertEqual(self.server.request('GET', '/version')[0], 200)

    def test_websocket_garbage(self):
        pod = self.server.run_pod(pod_manifest(generate='ws-'))['metadata']['name']
        rng = random.Random(5)
        for _ in range(20):
            ws = self.server.exec_ws(pod, ['cat'], stdin=True)
            self.assertEqual(ws.status, 101)
            ws.sock.sendall(bytes(rng.randrange(256) for _ in range(rng.randint(1, 300))))
            ws.sock.settimeout(10)
            try:
                while ws.sock.recv(65536):
                    pass
            except OSError:
                pass
            ws.close()
        self.assertEqual(self.server.request('GET', '/version')[0], 200)
        self.server.delete_pod(pod)


class AnonymousTest(unittest.TestCase):

    def test_anonymous_requests(self):
        server = Server('http-token', extra_args=['--anonymous'])
        try:
            self.assertEqual(server.request('GET', '/version', token=None)[0], 200)
            code, _, body = server.request('GET', PODS, token=None)
            self.assertEqual(code, 403)
            self.assertIn('User "system:anonymous" cannot list resource "pods"', body['message'])
            self.assertEqual(server.request('GET', '/api', token=None)[0], 403)
            self.assertEqual(server.request('GET', PODS, token='wrong')[0], 401)
            self.assertEqual(server.request('GET', PODS)[0], 200)
        finally:
            server.stop()


if __name__ == '__main__':
    kubetest.main()
