# docker_api.py: the Docker Engine API calls the test kubelet needs, over the unix socket, with hijacked exec streams.
"""http.client over AF_UNIX, one connection per call (calls come from many
threads). The API version is the daemon's own (`GET /_ping`, header
Api-Version); every field used exists since 1.41. Exec start is hijacked
(`Connection: Upgrade`, `Upgrade: tcp`) so stdin can be written after the
101 and half-closed for EOF (protocols.md §1.9)."""
import http.client
import json
import socket
import urllib.parse

MIN_VERSION = (1, 41)


class DockerError(Exception):
    def __init__(self, code, message):
        super().__init__(message)
        self.code = code
        self.message = message


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout):
        super().__init__('localhost', timeout=timeout)
        self._path = path

    def connect(self):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self._path)
        except OSError:
            sock.close()
            raise
        self.sock = sock


def _version_tuple(text):
    try:
        return tuple(int(x) for x in text.split('.')[:2])
    except (ValueError, AttributeError):
        return (0, 0)


class Docker:
    def __init__(self, socket_path='/var/run/docker.sock'):
        self.socket_path = socket_path
        self.prefix = ''

    def negotiate(self):
        conn = _UnixConnection(self.socket_path, 10)
        try:
            conn.request('GET', '/_ping')
            resp = conn.getresponse()
            resp.read()
            version = resp.getheader('Api-Version') or ''
        except OSError as exc:
            raise DockerError(0, 'cannot reach dockerd at %s: %s (start it with '
                                 '.ci/start-services)' % (self.socket_path, exc)) from exc
        finally:
            conn.close()
        if _version_tuple(version) < MIN_VERSION:
            raise DockerError(0, 'dockerd speaks Engine API %r; the test API server needs >= 1.41'
                              % version)
        self.prefix = '/v' + version

    def request(self, method, path, query=None, body=None, timeout=120, ok=(200, 201, 204, 304)):
        url = self.prefix + path
        if query:
            url += '?' + urllib.parse.urlencode(query)
        conn = _UnixConnection(self.socket_path, timeout)
        try:
            headers = {}
            data = None
            if body is not None:
                data = json.dumps(body).encode()
                headers['Content-Type'] = 'application/json'
            conn.request(method, url, body=data, headers=headers)
            resp = conn.getresponse()
            raw = resp.read()
        finally:
            conn.close()
        parsed = None
        if raw:
            try:
                parsed = json.loads(raw)
            except ValueError:
                parsed = raw.decode('utf-8', 'replace')
        if resp.status not in ok:
            message = parsed.get('message') if isinstance(parsed, dict) else str(parsed)
            raise DockerError(resp.status, message or resp.reason)
        return resp.status, parsed

    # --- images and containers

    def image_inspect(self, name):
        try:
            return self.request('GET', '/images/%s/json' % urllib.parse.quote(name, safe=''))[1]
        except DockerError as exc:
            if exc.code == 404:
                return None
            raise

    def create(self, name, config):
        return self.request('POST', '/containers/create', {'name': name}, config)[1]['Id']

    def start(self, cid):
        self.request('POST', '/containers/%s/start' % cid)

    def inspect(self, cid):
        return self.request('GET', '/containers/%s/json' % cid)[1]

    def wait(self, cid):
        """Blocks until the container stops; its exit status."""
        return self.request('POST', '/containers/%s/wait' % cid, {'condition': 'not-running'},
                            timeout=None)[1].get('StatusCode')

    def stop(self, cid, seconds):
        self.request('POST', '/containers/%s/stop' % cid, {'t': str(seconds)},
                     timeout=seconds + 60)

    def kill(self, cid, signal='SIGKILL'):
        try:
            self.request('POST', '/containers/%s/kill' % cid, {'signal': signal})
        except DockerError as exc:
            if exc.code not in (404, 409):
                raise

    def remove(self, cid):
        try:
            self.request('DELETE', '/containers/%s' % cid, {'force': '1', 'v': '1'})
        except DockerError as exc:
            if exc.code != 404:
                raise

    def list_labelled(self, label):
        filters = json.dumps({'label': [label]})
        return self.request('GET', '/containers/json', {'all': '1', 'filters': filters})[1]

    # --- exec

    def exec_create(self, cid, argv, stdin, stdout, stderr, tty, user=None):
        body = {'AttachStdin': stdin, 'AttachStdout': stdout, 'AttachStderr': stderr,
                'Tty': tty, 'Cmd': argv}
        if user is not None:
            body['User'] = user
        return self.request('POST', '/containers/%s/exec' % cid, body=body)[1]['Id']

    def exec_inspect(self, eid):
        return self.request('GET', '/exec/%s/json' % eid)[1]

    def exec_resize(self, eid, height, width):
        try:
            self.request('POST', '/exec/%s/resize' % eid, {'h': str(height), 'w': str(width)})
        except DockerError:
            pass

    def exec_start(self, eid, tty):
        """Starts an exec on a hijacked connection; returns (socket, bytes
        already read past the response head)."""
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.settimeout(60)
            sock.connect(self.socket_path)
            body = json.dumps({'Detach': False, 'Tty': tty}).encode()
            head = ('POST %s/exec/%s/start HTTP/1.1\r\nHost: localhost\r\n'
                    'Content-Type: application/json\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n'
                    'Content-Length: %d\r\n\r\n' % (self.prefix, eid, len(body))).encode()
            sock.sendall(head + body)
            buf = b''
            while b'\r\n\r\n' not in buf:
                chunk = sock.recv(4096)
                if not chunk:
                    raise DockerError(0, 'dockerd closed the exec stream before answering')
                buf += chunk
                if len(buf) > 65536:
                    raise DockerError(0, 'dockerd sent an oversized response head')
            head, rest = buf.split(b'\r\n\r\n', 1)
            code = int(head.split(b' ', 2)[1])
            if code not in (101, 200):
                while len(rest) < 65536:
                    chunk = sock.recv(4096)
                    if not chunk:
                        break
                    rest += chunk
                try:
                    message = json.loads(rest.decode('utf-8', 'replace')).get('message')
                except ValueError:
                    message = rest.decode('utf-8', 'replace')
                raise DockerError(code, message or 'exec start failed')
            sock.settimeout(None)
            return sock, rest
        except BaseException:
            sock.close()
            raise


class Demuxer:
    """The 8-byte-header multiplexed stream of a non-TTY exec, parsed one
    byte at a time if need be: feed() returns [(stream, payload)]."""

    def __init__(self):
        self._buf = bytearray()

    def feed(self, data):
        self._buf += data
        out = []
        while len(self._buf) >= 8:
            size = int.from_bytes(self._buf[4:8], 'big')
            if len(self._buf) < 8 + size:
                break
            stream = self._buf[0]
            out.append((stream, bytes(self._buf[8:8 + size])))
            del self._buf[:8 + size]
        return out
