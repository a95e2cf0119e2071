# test-exec-protocol.py: pods/exec over WebSocket byte by byte, with a raw client: negotiation, channels, Status, faults.
import json
import time
import unittest

import kubetest
from kubetest import Server, pod_manifest
from kubeserver import websocket

V5, V4, V1 = 'v5.channel.k8s.io', 'v4.channel.k8s.io', 'channel.k8s.io'


class ExecProtocolTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.server = Server('http-token')
        cls.pod = cls.server.run_pod(pod_manifest(generate='exec-'))['metadata']['name']

    @classmethod
    def tearDownClass(cls):
        cls.server.delete_pod(cls.pod)
        cls.server.stop()

    def setUp(self):
        self.server.reset()

    def run_exec(self, argv, **kwargs):
        ws = self.server.exec_ws(self.pod, argv, **kwargs)
        if ws.status != 101:
            self.fail('%d %s; the pod: %s' % (ws.status, ws.body, json.dumps(
                self.server.get_pod(self.pod)['status'].get('containerStatuses'))))
        return ws

    # --- the upgrade

    def test_negotiates_in_the_clients_order(self):
        for offered, chosen in (((V5, V4), V5), ((V4, V5), V4), ((V1,), V1),
                                (('v9.channel.k8s.io', V4, V5), V4)):
            ws = self.run_exec(['true'], protocols=offered)
            self.assertEqual(ws.protocol, chosen)
            ws.read_until_close()

    def test_v4_only_when_v5_is_disabled(self):
        self.server.configure(disable_v5=True)
        ws = self.run_exec(['sh', '-c', 'exit 4'], protocols=(V5, V4))
        self.assertEqual(ws.protocol, V4)
        ws.read_until_close()
        self.assertEqual(ws.exit_code(), 4)
        refused = self.server.exec_ws(self.pod, ['true'], protocols=(V5,))
        self.assertEqual(refused.status, 403)
        self.assertIn(b'requested protocol(s) are not supported', refused.body)
        code, _, version = self.server.request('GET', '/version')
        self.assertEqual(version['minor'], '29')

    def test_no_subprotocol_header_means_v1(self):
        ws = self.run_exec(['sh', '-c', 'exit 2'], protocols=())
        self.assertIsNone(ws.protocol)
        ws.read_until_close()
        self.assertIn(b'exit code 2', ws.channels[3])

    def test_upgrade_required(self):
        path = '/api/v1/namespaces/default/pods/%s/exec?command=true&stdout=true' % self.pod
        for method in ('GET', 'POST'):
            code, resp, body = self.server.request(method, path)
            self.assertEqual(code, 400)
            self.assertEqual(body, {'kind': 'Status', 'apiVersion': 'v1', 'metadata': {},
                                    'status': 'Failure', 'message': 'Upgrade request required',
                                    'reason': 'BadRequest', 'code': 400})
        code, _, body = self.server.request('POST', path, headers={
            'Connection': 'Upgrade', 'Upgrade': 'SPDY/3.1'})
        self.assertEqual(code, 400)
        self.assertIn('WebSocket only', body['message'])

    def test_pre_upgrade_errors(self):
        ws = self.server.exec_ws(self.pod, ['true'], container='nope')
        self.assertEqual(ws.status, 400)
        self.assertEqual(ws.json_body()['message'],
                         'container nope is not valid for pod %s' % self.pod)
        ws = self.server.exec_ws('no-such-pod', ['true'])
        self.assertEqual((ws.status, ws.json_body()['reason']), (404, 'NotFound'))
        ws = self.server.exec_ws(self.pod, [])
        self.assertEqual(ws.status, 400)
        ws = self.server.exec_ws(self.pod, ['true'], stdout=False, stderr=False)
        self.assertEqual(ws.status, 400)
        self.assertEqual(ws.body, b'you must specify at least 1 of stdin, stdout, stderr')

    def test_one_command_parameter_per_argument(self):
        seq = self.server.last_seq()
        argv = ['sh', '-c', 'printf "%s|" "$@"', 'x', 'a b', '&;$(x)', '']
        ws = self.run_exec(argv)
        ws.read_until_close()
        self.assertEqual(ws.stdout(), b'a b|&;$(x)||')
        entry = [e for e in self.server.log(seq) if e.get('exec')][-1]
        self.assertEqual(entry['method'], 'GET')
        self.assertEqual([v for k, v in entry['query'] if k == 'command'], argv)
        self.assertEqual(entry['exec']['argv'], argv)
        self.assertEqual(entry['headers']['Sec-WebSocket-Protocol'], '%s, %s' % (V5, V4))

    # --- channels and the status

    def test_initial_empty_message_then_output(self):
        ws = self.run_exec(['sh', '-c', 'echo out; echo err >&2'])
        ws.read_until_close()
        self.assertEqual(ws.messages[0], (websocket.OP_BINARY, b'\x01'))
        self.assertEqual((ws.stdout(), ws.stderr()), (b'out\n', b'err\n'))
        self.assertEqual(ws.status_json, {'metadata': {}, 'status': 'Success'})
        self.assertEqual(ws.close_code, 1000)
        ws = self.run_exec(['true'], stdout=False)
        ws.read_until_close()
        self.assertEqual(ws.messages[0], (websocket.OP_BINARY, b'\x02'))

    def test_exit_code_status(self):
        ws = self.run_exec(['sh', '-c', 'exit 3'])
        ws.read_until_close()
        self.assertEqual(ws.status_json, {
            'metadata': {}, 'status': 'Failure',
            'message': 'command terminated with non-zero exit code: error executing command '
                       '[sh -c exit 3], exit code 3',
            'reason': 'NonZeroExitCode',
            'details': {'causes': [{'reason': 'ExitCode', 'message': '3'}]}})
        self.assertEqual(ws.close_code, 1000)

    def test_signals_are_128_plus_signal(self):
        for signal, code in (('KILL', 137), ('TERM', 143), ('INT', 130)):
            ws = self.run_exec(['sh', '-c', 'kill -%s $$' % signal])
            ws.read_until_close()
            self.assertEqual(ws.exit_code(), code, signal)

    def test_internal_error_when_the_binary_is_missing(self):
        ws = self.run_exec(['no-such-binary-h4'])
        ws.read_until_close()
        st = ws.status_json
        self.assertEqual((st['status'], st['reason'], st['code']), ('Failure', 'InternalError', 500))
        self.assertIn('executable file not found', st['message'])
        self.assertTrue(st['message'].startswith('Internal error occurred: '))
        self.assertIn('no-such-binary-h4', st['details']['causes'][0]['message'])
        self.assertEqual(ws.stdout(), b'', 'the runtime error is not the process output')
        ws = self.run_exec(['sh', '-c', 'exit 126'])
        ws.read_until_close()
        self.assertEqual(ws.exit_code(), 126, 'a process exiting 126 is not an exec failure')

    def test_v1_status_is_text_on_failure_only(self):
        ws = self.run_exec(['true'], protocols=(V1,))
        ws.read_until_close()
        self.assertNotIn(3, ws.channels)
        ws = self.run_exec(['sh', '-c', 'exit 5'], protocols=(V1,))
        ws.read_until_close()
        self.assertEqual(ws.channels[3], b'command terminated with non-zero exit code: error '
                                         b'executing command [sh -c exit 5], exit code 5')

    def test_base64_protocol(self):
        ws = self.run_exec(['printf', '\\000\\377'], protocols=('v4.base64.channel.k8s.io',))
        ws.read_until_close()
        self.assertTrue(all(op == websocket.OP_TEXT for op, _ in ws.messages))
        self.assertEqual(ws.stdout(), b'\x00\xff')
        self.assertEqual(ws.exit_code(), 0)

    # --- stdin

    def test_v5_close_is_stdin_eof(self):
        ws = self.run_exec(['sh', '-c', 'wc -c; exit 4'], stdin=True, protocols=(V5,))
        ws.stdin(b'hello ')
        ws.stdin(b'stdin\n')
        ws.close_stdin()
        ws.read_until_close()
        self.assertEqual(ws.stdout().strip(), b'12')
        self.assertEqual(ws.exit_code(), 4)

    def test_close_under_v4_is_ignored(self):
        # Under v4, [255, 0] means nothing: stdin stays open and later bytes arrive.
        ws = self.run_exec(['head', '-c', '8'], stdin=True, protocols=(V4,))
        self.assertEqual(ws.protocol, V4)
        ws.stdin(b'abcd')
        ws.close_stdin()
        time.sleep(0.3)
        ws.stdin(b'efgh')
        ws.read_until_close()
        self.assertEqual(ws.stdout(), b'abcdefgh')
        self.assertEqual(ws.exit_code(), 0)

    def test_binary_stdin_in_fragments_and_resize_is_ignored(self):
        ws = self.run_exec(['sh', '-c', 'od -An -tx1 | tr -d " \\n"'], stdin=True, protocols=(V5,))
        payload = bytes([0]) + bytes(range(256))
        ws.send_frame(websocket.OP_BINARY, payload[:1], fin=False)
        ws.send_frame(websocket.OP_PING, b'in-between')
        ws.send_frame(websocket.OP_CONT, payload[1:100], fin=False)
        ws.send_frame(websocket.OP_CONT, payload[100:], fin=True)
        ws.send(4, b'{"Width":80,"Height":24}')
        ws.close_stdin()
        ws.read_until_close()
        self.assertEqual(ws.stdout().decode(), bytes(range(256)).hex())
        pongs = [f for f in ws.frames if f[1] == websocket.OP_PONG]
        self.assertEqual(pongs, [(True, websocket.OP_PONG, b'in-between')])

    def test_unmasked_client_frame_is_a_protocol_error(self):
        ws = self.run_exec(['sleep', '5'], stdin=True)
        ws.send_frame(websocket.OP_BINARY, b'\x00abc', mask=False)
        ws.read_until_close()
        self.assertEqual(ws.close_code, 1002)
        self.assertIsNone(ws.status_json)

    # --- stream shaping and faults

    def test_one_byte_messages(self):
        self.server.configure(exec_chunk_bytes=1)
        ws = self.run_exec(['printf', 'abcdef'])
        ws.read_until_close()
        data = [p for _, p in ws.messages if p[:1] == b'\x01' and len(p) > 1]
        self.assertEqual(data, [b'\x01' + bytes([c]) for c in b'abcdef'])

    def test_empty_messages_between_data(self):
        self.server.configure(exec_empty_messages=True)
        ws = self.run_exec(['printf', 'xyz'])
        ws.read_until_close()
        self.assertGreaterEqual(sum(1 for _, p in ws.messages if p == b'\x01'), 2)
        self.assertEqual(ws.stdout(), b'xyz')

    def test_fragmented_frames_with_pings_between(self):
        self.server.configure(exec_fragment_bytes=1, exec_ping_between_fragments=True)
        ws = self.run_exec(['printf', 'hello'])
        ws.read_until_close()
        self.assertEqual(ws.stdout(), b'hello')
        self.assertEqual(ws.exit_code(), 0)
        continuation = [f for f in ws.frames if f[1] == websocket.OP_CONT]
        self.assertGreater(len(continuation), 5)
        self.assertTrue(all(len(f[2]) == 1 for f in ws.frames if f[1] in (websocket.OP_CONT,)))
        self.assertGreater(ws.pings, 5)

    def test_oversize_messages(self):
        self.server.configure(exec_coalesce_bytes=300000, exec_message_bytes=1 << 20)
        ws = self.run_exec(['head', '-c', '300000', '/dev/zero'])
        ws.read_until_close()
        sizes = [len(p) - 1 for _, p in ws.messages if p[:1] == b'\x01' and len(p) > 1]
        self.assertEqual(sizes, [300000])
        self.assertGreater(sizes[0], 128 * 1024)

    def test_default_messages_are_at_most_32k(self):
        ws = self.run_exec(['head', '-c', '200000', '/dev/zero'])
        ws.read_until_close()
        sizes = [len(p) - 1 for _, p in ws.messages if p[:1] == b'\x01' and len(p) > 1]
        self.assertEqual(sum(sizes), 200000)
        self.assertLessEqual(max(sizes), 32768)

    def test_drop_mid_stream_leaves_the_process_running(self):
        self.server.configure(exec_drop_after_bytes=3)
        marker = '/tmp/dropped-%d' % time.monotonic_ns()
        ws = self.run_exec(['sh', '-c', 'echo first; sleep 1; touch %s; echo late' % marker])
        ws.read_until_close(reply_close=False)
        self.assertTrue(ws.eof)
        self.assertIsNone(ws.close_code, 'a dropped stream has no close frame')
        self.assertIsNone(ws.status_json)
        self.assertEqual(ws.stdout(), b'first\n')
        self.server.reset()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            check = self.run_exec(['test', '-e', marker]).read_until_close()
            if check.exit_code() == 0:
                break
            time.sleep(0.2)
        self.assertEqual(check.exit_code(), 0, 'the process went on after the drop')

    def test_client_close_frame_ends_the_stream_not_the_process(self):
        seq = self.server.last_seq()
        marker = '/tmp/closed-%d' % time.monotonic_ns()
        ws = self.run_exec(['sh', '-c', 'sleep 1; touch %s' % marker])
        ws.read_messages(1)
        ws.send_frame(websocket.OP_CLOSE, websocket.close_payload(1000))
        ws.read_until_close(reply_close=False)
        self.assertEqual(ws.close_code, 1000, 'the server answers the close')
        self.assertIsNone(ws.status_json)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.run_exec(['test', '-e', marker]).read_until_close().exit_code() == 0:
                break
            time.sleep(0.2)
        entry = [e for e in self.server.log(seq) if e.get('exec')][0]
        self.assertEqual(entry['exec']['ended'], 'client-closed')
        self.assertEqual(entry['exec']['client_close_code'], 1000)
        self.assertEqual(self.run_exec(['test', '-e', marker]).read_until_close().exit_code(), 0)

    def test_status_delay(self):
        self.server.configure(exec_status_delay_ms=600)
        started = time.monotonic()
        ws = self.run_exec(['true'])
        ws.read_until_close()
        self.assertGreaterEqual(time.monotonic() - started, 0.6)
        self.assertEqual(ws.exit_code(), 0)

    def test_server_pings_and_answers_pings(self):
        self.server.configure(exec_server_ping_ms=100)
        ws = self.run_exec(['sleep', '0.6'])
        ws.send_frame(websocket.OP_PING, b'client')
        ws.read_until_close()
        self.assertGreaterEqual(ws.pings, 2)
        self.assertIn((True, websocket.OP_PONG, b'client'), ws.frames)

    def test_tty(self):
        ws = self.run_exec(['sh', '-c', 'test -t 1 && echo tty; echo err >&2'], tty=True,
                           stderr=True)
        ws.read_until_close()
        self.assertEqual(ws.stdout().replace(b'\r', b''), b'tty\nerr\n')
        self.assertNotIn(2, ws.channels)

    def test_forbidden_exec(self):
        self.server.configure(forbid=['create:pods/exec'])
        ws = self.server.exec_ws(self.pod, ['true'])
        self.assertEqual(ws.status, 403)
        self.assertEqual(ws.json_body()['message'],
                         'pods "%s" is forbidden: User "llmsbx-test-token" cannot create resource '
                         '"pods/exec" in API group "" in the namespace "default"' % self.pod)


class ExecPodStateTest(unittest.TestCase):
    """Exec into pods that cannot run it, as the API server and kubelet answer."""

    @classmethod
    def setUpClass(cls):
        cls.server = Server('http', settings={'image_scenarios': {'h4/unschedulable':
                                                                  'Unschedulable'}})

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def test_unscheduled_pod(self):
        name = self.server.create_pod(pod_manifest(image='h4/unschedulable'))['metadata']['name']
        self.server.wait_pod(name, lambda p: p['status'].get('conditions'))
        ws = self.server.exec_ws(name, ['true'])
        self.assertEqual(ws.status, 400)
        self.assertEqual(ws.json_body()['message'], 'pod %s does not have a host assigned' % name)
        self.server.delete_pod(name)

    def test_container_not_running(self):
        name = self.server.create_pod(pod_manifest(image=kubetest.MISSING_IMAGE))['metadata']['name']
        self.server.wait_pod(name, lambda p: p['spec'].get('nodeName'))
        ws = self.server.exec_ws(name, ['true'])
        self.assertEqual((ws.status, ws.body), (500, b'container not found ("main")'))
        self.server.delete_pod(name)

    def test_two_containers_need_a_name(self):
        manifest = pod_manifest(generate='two-')
        manifest['spec']['containers'].append({'name': 'side', 'image': kubetest.IMAGE,
                                               'command': ['sleep', 'infinity']})
        name = self.server.run_pod(manifest)['metadata']['name']
        ws = self.server.exec_ws(name, ['true'])
        self.assertEqual(ws.status, 400)
        self.assertEqual(ws.json_body()['message'], 'a container name must be specified for pod '
                                                    '%s, choose one of: [main side]' % name)
        ws = self.server.exec_ws(name, ['hostname'], container='side')
        self.assertEqual(ws.status, 101)
        ws.read_until_close()
        self.assertEqual(ws.stdout(), name.encode() + b'\n')
        self.server.delete_pod(name)


if __name__ == '__main__':
    kubetest.main()
