# kubetest.py: what the kubernetes suite's tests share: the server process, raw HTTP and WebSocket clients, a TAP runner.
import base64
import http.client
import json
import os
import select
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from kubeserver import websocket  # noqa: E402

PYTHON = '/usr/bin/python3'
SERVER = os.path.join(HERE, 'kube-test-server.py')
IMAGE = 'llmsbx/python:bookworm'
MISSING_IMAGE = 'llmsbx/no-such-image:h4-kube-test'
LABEL = 'io.llmsbx.kube-test-server'

# One PKI for every server a test program starts (made once, ~0.6 s).
_WORK = tempfile.mkdtemp(prefix='kube-tests-')
PKI = os.path.join(_WORK, 'pki')


def docker(*args, check=True):
    result = subprocess.run(('docker',) + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            universal_newlines=True)
    if check and result.returncode != 0:
        raise AssertionError('docker %s failed: %s' % (' '.join(args), result.stderr))
    return result.stdout


def containers_labelled(label):
    return [line for line in docker('ps', '-aq', '--no-trunc', '--filter',
                                    'label=' + label).split() if line]


class Server:
    """A kube-test-server.py child process (stdin watched: it exits when
    this process does)."""

    def __init__(self, mode='http-token', settings=None, extra_args=()):
        self.state = tempfile.mkdtemp(prefix='state-', dir=_WORK)
        args = [PYTHON, SERVER, '--mode', mode, '--state-dir', self.state, '--pki-dir', PKI,
                '--watch-stdin']
        if settings:
            args += ['--config', json.dumps(settings)]
        args += list(extra_args)
        # stderr to a file: a server with a lot to say never blocks on a pipe.
        self.stderr_path = os.path.join(self.state, 'server.stderr')
        with open(self.stderr_path, 'wb') as err:
            self.proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                         stderr=err)
        self.output = ''
        ready = self._read_ready(30)
        self.info = ready
        self.mode = mode
        self.url = ready['url']
        self.admin = ready['admin_url']
        self.label = ready['docker_label']
        self.token = None
        if ready.get('token_file'):
            with open(ready['token_file']) as f:
                self.token = f.read()

    def _read_ready(self, timeout):
        deadline = time.monotonic() + timeout
        line = b''
        while time.monotonic() < deadline:
            readable, _, _ = select.select([self.proc.stdout], [], [], 0.2)
            if readable:
                chunk = os.read(self.proc.stdout.fileno(), 65536)
                if not chunk:
                    break
                line += chunk
                if line.endswith(b'\n'):
                    return json.loads(line)
        self.proc.kill()
        self.proc.wait()
        with open(self.stderr_path, errors='replace') as f:
            raise AssertionError('the test API server did not become ready: %s' % f.read())

    # --- the admin endpoint

    def admin_call(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.admin + path, data=data, method=method,
                                     headers={'Content-Type': 'application/json'})
        with urllib.request.urlopen(req, timeout=30) as resp:
            return json.loads(resp.read())

    def configure(self, **settings):
        return self.admin_call('POST', '/config', settings)

    def reset(self):
        return self.admin_call('POST', '/reset', {})

    def log(self, since=0, settled=False, timeout=10):
        """The log entries after @since; with @settled, once every one of them
        is done (the server writes a request's status down after its reply
        went out, so a client can ask before it has)."""
        deadline = time.monotonic() + timeout
        while True:
            entries = self.admin_call('GET', '/log?since=%d' % since)
            if not settled or all(e.get('done') for e in entries) or time.monotonic() > deadline:
                return entries
            time.sleep(0.02)

    def wait_for_exec_end(self, since=0, timeout=10):
        """The log entry of the last exec once the server has finished it
        (the client can see the stream close before the server has written its
        counts down)."""
        deadline = time.monotonic() + timeout
        while True:
            execs = [e for e in self.log(since) if e.get('exec')]
            if execs and 'ended' in execs[-1]['exec']:
                return execs[-1]
            if time.monotonic() > deadline:
                raise AssertionError('the server did not finish the exec within %d s' % timeout)
            time.sleep(0.05)

    def rotate_token(self, revoke=True, write_file=True):
        """A new bearer token (POST /rotate-token); self.token follows it."""
        import secrets
        token = secrets.token_urlsafe(32)
        answer = self.admin_call('POST', '/rotate-token', {'revoke': revoke,
                                                           'write_file': write_file,
                                                           'token': token})
        self.token = token
        return answer

    def last_seq(self):
        entries = self.log()
        return entries[-1]['seq'] if entries else 0

    def pods(self):
        return self.admin_call('GET', '/pods')

    def docker_id(self, name, container='main'):
        for pod in self.pods():
            if pod['name'] == name:
                return pod['containers'].get(container)
        return None

    # --- raw HTTP to the API

    def ssl_context(self, cert=None):
        ctx = ssl.create_default_context(cafile=self.info['ca'])
        if cert:
            ctx.load_cert_chain(self.info['client_certs'][cert]['cert'],
                                self.info['client_certs'][cert]['key'])
        return ctx

    def connection(self, cert=None, timeout=60):
        if self.url.startswith('https:'):
            return http.client.HTTPSConnection('127.0.0.1', self.info['port'], timeout=timeout,
                                               context=self.ssl_context(cert or 'rsa'
                                               if self.mode == 'tls-cert' else None))
        return http.client.HTTPConnection('127.0.0.1', self.info['port'], timeout=timeout)

    def auth_headers(self, token=True):
        if token is True:
            token = self.token
        return {'Authorization': 'Bearer ' + token} if token else {}

    def request(self, method, path, body=None, token=True, headers=None, cert=None):
        """(status, headers, parsed JSON body or text)."""
        conn = self.connection(cert)
        hdrs = {'Accept': 'application/json'}
        hdrs.update(self.auth_headers(token))
        hdrs.update(headers or {})
        data = body
        if body is not None and not isinstance(body, (bytes, str)):
            data = json.dumps(body)
            hdrs.setdefault('Content-Type', 'application/json')
        try:
            conn.request(method, path, body=data, headers=hdrs)
            resp = conn.getresponse()
            raw = resp.read()
        finally:
            conn.close()
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = raw.decode('utf-8', 'replace')
        return resp.status, resp, parsed

    def create_pod(self, manifest, ns='default'):
        code, _, body = self.request('POST', '/api/v1/namespaces/%s/pods' % ns, manifest)
        if code != 201:
            raise AssertionError('create failed: %d %s' % (code, body))
        return body

    def get_pod(self, name, ns='default'):
        code, _, body = self.request('GET', '/api/v1/namespaces/%s/pods/%s' % (ns, name))
        return body if code == 200 else None

    def wait_pod(self, name, predicate, timeout=30, ns='default'):
        deadline = time.monotonic() + timeout
        pod = None
        while time.monotonic() < deadline:
            pod = self.get_pod(name, ns)
            if predicate(pod):
                return pod
            time.sleep(0.05)
        raise AssertionError('pod %s: condition not reached in %ds; last seen %s'
                             % (name, timeout, json.dumps(pod, indent=1)))

    def wait_running(self, name, ns='default'):
        return self.wait_pod(name, lambda p: p and p['status'].get('phase') == 'Running', ns=ns)

    def run_pod(self, manifest, ns='default'):
        return self.wait_running(self.create_pod(manifest, ns)['metadata']['name'], ns)

    def delete_pod(self, name, grace=0, ns='default'):
        return self.request('DELETE', '/api/v1/namespaces/%s/pods/%s?gracePeriodSeconds=%d'
                            % (ns, name, grace))

    # --- exec over a raw WebSocket

    def exec_ws(self, pod, argv, protocols=('v5.channel.k8s.io', 'v4.channel.k8s.io'),
                container=None, stdin=False, stdout=True, stderr=True, tty=False, ns='default',
                token=True, cert=None):
        query = [('command', a) for a in argv]
        if container:
            query.append(('container', container))
        query += [('stdin', str(stdin).lower()), ('stdout', str(stdout).lower()),
                  ('stderr', str(stderr).lower()), ('tty', str(tty).lower())]
        path = '/api/v1/namespaces/%s/pods/%s/exec?%s' % (ns, pod, urllib.parse.urlencode(query))
        ctx = None
        if self.url.startswith('https:'):
            ctx = self.ssl_context(cert or ('rsa' if self.mode == 'tls-cert' else None))
        return WsClient('127.0.0.1', self.info['port'], path, protocols, self.auth_headers(token),
                        ctx)

    # --- the end

    def stop(self):
        """SIGTERM, wait, and fail if a container of this server survived."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stdin.close()
        self.output = self.proc.stdout.read().decode('utf-8', 'replace')
        self.proc.stdout.close()
        with open(self.stderr_path, errors='replace') as f:
            said = f.read()
        self.output += said
        if said:
            sys.stderr.write('--- the test API server (%s) said:\n%s' % (self.mode, said))
        left = containers_labelled(self.label)
        if left:
            docker('rm', '-f', *left, check=False)
            raise AssertionError('the server left containers behind: %s' % left)
        return self.proc.returncode


def pod_manifest(name=None, generate=None, image=IMAGE, command=('sleep', 'infinity'),
                 labels=None, **spec):
    meta = {}
    if name:
        meta['name'] = name
    else:
        meta['generateName'] = generate or 'test-'
    if labels:
        meta['labels'] = labels
    container = {'name': 'main', 'image': image}
    if command is not None:
        container['command'] = list(command)
    container.update(spec.pop('container', {}))
    body = {'apiVersion': 'v1', 'kind': 'Pod', 'metadata': meta,
            'spec': {'containers': [container], 'terminationGracePeriodSeconds': 0}}
    body['spec'].update(spec)
    return body


class WsClient:
    """A WebSocket client written for the tests: it masks its frames, can
    send any frame it is told to, and records exactly what the server sent."""

    def __init__(self, host, port, path, protocols, headers, ssl_context=None, timeout=60):
        raw = socket.create_connection((host, port), timeout=timeout)
        self.sock = ssl_context.wrap_socket(raw, server_hostname=host) if ssl_context else raw
        self.key = websocket.new_key()
        lines = ['GET %s HTTP/1.1' % path, 'Host: %s:%d' % (host, port), 'Upgrade: websocket',
                 'Connection: Upgrade', 'Sec-WebSocket-Version: 13',
                 'Sec-WebSocket-Key: ' + self.key]
        if protocols:
            lines.append('Sec-WebSocket-Protocol: ' + ', '.join(protocols))
        lines += ['%s: %s' % kv for kv in headers.items()]
        self.sock.sendall(('\r\n'.join(lines) + '\r\n\r\n').encode())
        buf = b''
        while b'\r\n\r\n' not in buf:
            chunk = self.sock.recv(4096)
            if not chunk:
                break
            buf += chunk
        head, _, rest = buf.partition(b'\r\n\r\n')
        lines = head.decode('latin-1').split('\r\n')
        self.status = int(lines[0].split()[1])
        self.headers = {}
        for line in lines[1:]:
            key, _, value = line.partition(':')
            self.headers[key.strip().lower()] = value.strip()
        self.body = rest
        self.protocol = self.headers.get('sec-websocket-protocol')
        self.parser = websocket.FrameParser(expect_masked=False)
        self.pending = []
        self.data_rest = rest if self.status == 101 else b''
        if self.status != 101:
            length = int(self.headers.get('content-length', '0') or 0)
            while len(self.body) < length:
                chunk = self.sock.recv(65536)
                if not chunk:
                    break
                self.body += chunk
            self.sock.close()
        else:
            accept = websocket.accept_key(self.key)
            if self.headers.get('sec-websocket-accept') != accept:
                raise AssertionError('bad Sec-WebSocket-Accept')
        # What the server sent, in order.
        self.frames = []
        self.messages = []                  # (opcode, payload)
        self.channels = {}
        self.close_code = None
        self.status_json = None
        self.pings = 0
        self.eof = False

    def json_body(self):
        return json.loads(self.body)

    def send_frame(self, opcode, payload=b'', fin=True, mask=True):
        self.sock.sendall(websocket.encode_frame(opcode, payload, fin=fin, mask=mask))

    def send(self, channel, data=b''):
        self.send_frame(websocket.OP_BINARY, bytes([channel]) + data)

    def stdin(self, data):
        self.send(0, data)

    def close_stdin(self):
        self.send(255, b'\x00')

    def _frames(self, timeout):
        if self.data_rest:
            frames = self.parser.feed(self.data_rest)
            self.data_rest = b''
            if frames:
                return frames
        self.sock.settimeout(timeout)
        try:
            chunk = self.sock.recv(65536)
        except socket.timeout:
            return None
        except (ConnectionError, ssl.SSLError):
            chunk = b''
        if not chunk:
            self.eof = True
            return []
        return self.parser.feed(chunk)

    def read_until_close(self, timeout=30, reply_close=True):
        """Reads everything until the close frame (answered) or EOF."""
        assembler = websocket.MessageAssembler()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not self.eof:
            frames = self._frames(max(0.05, deadline - time.monotonic()))
            if frames is None:
                continue
            for frame in frames:
                self.frames.append(frame)
                for opcode, payload in assembler.push(frame):
                    if opcode == websocket.OP_PING:
                        self.pings += 1
                        self.send_frame(websocket.OP_PONG, payload)
                    elif opcode == websocket.OP_CLOSE:
                        self.close_code, _ = websocket.parse_close(payload)
                        if reply_close:
                            try:
                                self.send_frame(websocket.OP_CLOSE, payload[:2])
                            except OSError:
                                pass
                        self.sock.close()
                        self.eof = True
                        return self
                    elif opcode in (websocket.OP_BINARY, websocket.OP_TEXT):
                        self._message(opcode, payload)
        if not self.eof:
            raise AssertionError('the exec stream did not end in %ds' % timeout)
        self.sock.close()
        return self

    def read_messages(self, count, timeout=30):
        """Reads until at least `count` data messages arrived."""
        assembler = websocket.MessageAssembler()
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline and not self.eof:
            frames = self._frames(0.2)
            for frame in frames or []:
                self.frames.append(frame)
                for opcode, payload in assembler.push(frame):
                    if opcode == websocket.OP_PING:
                        self.send_frame(websocket.OP_PONG, payload)
                    elif opcode in (websocket.OP_BINARY, websocket.OP_TEXT):
                        self._message(opcode, payload)
        return self

    def _message(self, opcode, payload):
        self.messages.append((opcode, payload))
        if opcode == websocket.OP_TEXT and self.protocol and 'base64' in self.protocol:
            channel, data = int(chr(payload[0])), base64.b64decode(payload[1:])
        else:
            channel, data = payload[0], payload[1:]
        self.channels[channel] = self.channels.get(channel, b'') + data
        if channel == 3 and data and self.protocol and self.protocol.startswith(('v4', 'v5')):
            self.status_json = json.loads(data)

    def stdout(self):
        return self.channels.get(1, b'')

    def stderr(self):
        return self.channels.get(2, b'')

    def exit_code(self):
        st = self.status_json
        if st is None:
            return None
        if st['status'] == 'Success':
            return 0
        if st.get('reason') == 'NonZeroExitCode':
            return int(st['details']['causes'][0]['message'])
        return st

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


# --- TAP output for unittest (meson's tap protocol) --------------------------------------

class TapResult(unittest.TestResult):
    def __init__(self, stream, *args, **kwargs):
        super().__init__(stream, *args, **kwargs)
        self.out = sys.stdout
        self.number = 0

    def _line(self, text):
        self.out.write(text + '\n')
        self.out.flush()

    def startTest(self, test):
        super().startTest(test)
        self.started = time.monotonic()

    def _name(self, test):
        return '%s.%s' % (type(test).__name__, test._testMethodName)

    @staticmethod
    def _is_test(test):
        return hasattr(test, '_testMethodName')    # not a class set-up/tear-down error

    def addSuccess(self, test):
        super().addSuccess(test)
        self.number += 1
        self._line('ok %d - %s (%.1fs)' % (self.number, self._name(test),
                                           time.monotonic() - self.started))

    def _fail(self, test, err):
        if self._is_test(test):
            self.number += 1
            self._line('not ok %d - %s' % (self.number, self._name(test)))
        else:
            self._line('# %s failed:' % test)
        for line in self._exc_info_to_string(err, test).splitlines():
            self._line('# ' + line)

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._fail(test, err)

    def addError(self, test, err):
        super().addError(test, err)
        self._fail(test, err)

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        self.number += 1
        self._line('ok %d - %s # SKIP %s' % (self.number, self._name(test), reason))

    def addUnexpectedSuccess(self, test):
        super().addUnexpectedSuccess(test)
        self._fail(test, (AssertionError, AssertionError('unexpected success'), None))

    def addExpectedFailure(self, test, err):
        super().addExpectedFailure(test, err)
        self.number += 1
        self._line('ok %d - %s # expected failure' % (self.number, self._name(test)))


def main():
    """Runs the calling module's tests with TAP output (also on a failing
    setUpClass), then removes the shared work directory."""
    loader = unittest.TestLoader()
    suite = loader.loadTestsFromModule(sys.modules['__main__'])
    if len(sys.argv) > 1:
        suite = unittest.TestSuite(t for t in _flatten(suite)
                                   if any(a in t.id() for a in sys.argv[1:]))
    result = TapResult(sys.stderr, True, 1)
    count = suite.countTestCases()
    print('1..%d' % count, flush=True)
    try:
        suite.run(result)
    finally:
        shutil.rmtree(_WORK, ignore_errors=True)
    while result.number < count:
        result.number += 1
        print('not ok %d - not run (a class set-up failed)' % result.number, flush=True)
    sys.exit(0 if result.wasSuccessful() else 1)


def _flatten(suite):
    for item in suite:
        if isinstance(item, unittest.TestSuite):
            yield from _flatten(item)
        else:
            yield item
