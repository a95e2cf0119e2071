# apiserver.py: the HTTP(S) front of the test API server: authentication, authorization, pods REST, watch, tables, exec.
"""Requests go through the stages of kube-apiserver in its order:
TLS (client certificate verified if given) -> authentication (401) ->
injected faults (settings fail_requests) -> authorization (403) -> the
handler (404/409/422 ...). Discovery (/api, /apis, /api/v1, /version,
/openapi/v2) is enough for kubectl 1.20; GET with `as=Table` in Accept
returns a meta.k8s.io/v1 Table as kubectl's default output asks."""
import base64
import calendar
import copy
import http.server
import json
import secrets
import select
import socketserver
import ssl
import time
import traceback
import urllib.parse

from . import exec_stream, podspec, selectors, status, websocket
from .docker_api import DockerError
from .store import NAME_ALPHABET, now_rfc3339

MAX_BODY = 3 * 1024 * 1024          # etcd's request limit, as kube-apiserver enforces it
PUBLIC_PATHS = ('/version', '/healthz', '/livez', '/readyz')
BOOL_TRUE = ('1', 't', 'T', 'TRUE', 'true', 'True')
BOOL_FALSE = ('0', 'f', 'F', 'FALSE', 'false', 'False')


def parse_bool(name, value):
    if value in BOOL_TRUE:
        return True
    if value in BOOL_FALSE:
        return False
    raise status.bad_request('strconv.ParseBool: parsing "%s": invalid syntax (query parameter '
                             '%s)' % (value, name))


class _Reader:
    """The request reader: http.server's line reads, plus take_buffer() so
    nothing read past a WebSocket handshake is lost."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = bytearray()

    def _fill(self):
        data = self.sock.recv(65536)
        if not data:
            return False
        self.buf += data
        return True

    def _take(self, n):
        data = bytes(self.buf[:n])
        del self.buf[:n]
        return data

    def readline(self, limit=-1):
        while True:
            i = self.buf.find(b'\n')
            if i >= 0 and (limit < 0 or i < limit):
                return self._take(i + 1)
            if 0 <= limit <= len(self.buf):
                return self._take(limit)
            if not self._fill():
                return self._take(len(self.buf))

    def read(self, n=-1):
        while (n < 0 or len(self.buf) < n) and self._fill():
            pass
        return self._take(len(self.buf) if n < 0 else n)

    def take_buffer(self):
        return self._take(len(self.buf))

    def close(self):
        pass


class ApiHTTPServer(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def __init__(self, address, api):
        self.api = api
        super().__init__(address, Handler)

    def get_request(self):
        sock, addr = self.socket.accept()
        if self.api.ssl_context is not None:
            sock = self.api.ssl_context.wrap_socket(sock, server_side=True,
                                                    do_handshake_on_connect=False)
        return sock, addr

    def handle_error(self, request, client_address):
        pass                            # a client that vanished is not a server error


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    timeout = 300

    # --- connection set-up

    def setup(self):
        self.dead = False
        self.connection = self.request
        self.connection.settimeout(self.timeout)
        self.peer_identity = None
        if isinstance(self.connection, ssl.SSLSocket):
            try:
                self.connection.settimeout(15)
                self.connection.do_handshake()
                self.connection.settimeout(self.timeout)
            except (OSError, ssl.SSLError) as exc:
                self.server.api.log.event('tls-handshake-failed', peer=self.client_address[0],
                                          error=str(exc))
                self.dead = True
            else:
                self.peer_identity = _cert_identity(self.connection.getpeercert())
        self.rfile = _Reader(self.connection)
        self.wfile = socketserver._SocketWriter(self.connection)

    def handle(self):
        if not self.dead:
            super().handle()

    def finish(self):
        try:
            self.connection.close()
        except OSError:
            pass

    def log_message(self, fmt, *args):
        pass

    # --- dispatch

    def do_GET(self):
        self._dispatch()

    do_POST = do_DELETE = do_PUT = do_PATCH = do_HEAD = do_OPTIONS = do_GET

    def _dispatch(self):
        api = self.server.api
        url = urllib.parse.urlsplit(self.path)
        self.query = urllib.parse.parse_qsl(url.query, keep_blank_values=True)
        self.entry = api.log.begin(self.command, url.path, self.query, self.headers,
                                   isinstance(self.connection, ssl.SSLSocket),
                                   self.client_address[0],
                                   sni=getattr(self.connection, 'llmsbx_sni', None))
        self.code = None
        try:
            self.user = self._authenticate()
            self.entry['user'] = self.user[0]
            fault = api.settings.take_failure(self.command, url.path)
            if fault is not None:
                self.entry['fault'] = fault['code']
                if self.headers.get('Content-Length'):
                    self._read_body()
                raise status.injected(fault['code'], fault.get('message'),
                                      fault.get('retry_after', 1))
            self._route(url.path)
        except status.ApiError as err:
            self._send_error(err)
        except (OSError, ssl.SSLError):
            self.close_connection = True
        except Exception as exc:      # a server bug: say so, as a 500, and keep serving
            traceback.print_exc()
            self.entry['server_error'] = repr(exc)
            if self.code is None:
                self._send_error(status.internal_error('test API server bug: %r' % exc))
        finally:
            api.log.finish(self.entry, status=self.code)

    def _route(self, path):
        parts = [urllib.parse.unquote(p) for p in path.strip('/').split('/')] if path != '/' else []
        method = self.command
        if path in PUBLIC_PATHS or path in ('/api', '/apis', '/api/v1', '/openapi/v2'):
            self._authorize_path(path)
            if method != 'GET':
                raise status.method_not_allowed()
            return self._discovery(path)
        if parts[:2] != ['api', 'v1'] or len(parts) < 3:
            raise status.resource_not_found()
        rest = parts[2:]
        if rest == ['pods'] and method == 'GET':
            self._authorize('watch' if self._watching() else 'list', 'pods', None)
            return self._list(None)
        if rest == ['namespaces'] and method == 'GET':
            self._authorize('list', 'namespaces', None)
            return self._namespaces()
        if rest[0] != 'namespaces' or len(rest) < 2:
            raise status.resource_not_found()
        ns = rest[1]
        if len(rest) == 2:
            if method != 'GET':
                raise status.method_not_allowed()
            self._authorize('get', 'namespaces', ns, ns)
            return self._namespace(ns)
        if rest[2] != 'pods':
            raise status.resource_not_found()
        if len(rest) == 3:
            if method == 'GET':
                self._authorize('watch' if self._watching() else 'list', 'pods', ns)
                return self._list(ns)
            if method == 'POST':
                self._authorize('create', 'pods', ns)
                return self._create(ns)
            raise status.method_not_allowed()
        name = rest[3]
        if len(rest) == 4:
            if method == 'GET':
                self._authorize('get', 'pods', ns, name)
                return self._get(ns, name)
            if method == 'DELETE':
                self._authorize('delete', 'pods', ns, name)
                return self._delete(ns, name)
            raise status.method_not_allowed()
        if len(rest) == 5 and rest[4] == 'exec':
            if method not in ('GET', 'POST'):
                raise status.method_not_allowed()
            # A WebSocket exec is a GET; kube-apiserver >= 1.35 also checks
            # "create" on it (protocols.md, TL;DR 8).
            for verb in (['get', 'create'] if method == 'GET' else ['create']):
                self._authorize(verb, 'pods/exec', ns, name)
            return self._exec(ns, name)
        raise status.resource_not_found()

    # --- authentication and authorization

    def _authenticate(self):
        api = self.server.api
        if api.mode == 'http':
            return ('llmsbx-test-proxy', ['system:authenticated'])
        auth = self.headers.get('Authorization')
        if api.mode == 'tls-cert' and self.peer_identity:
            return self.peer_identity
        if api.mode in ('http-token', 'tls-token') and auth:
            scheme, _, credential = auth.partition(' ')
            if scheme.lower() == 'bearer' and api.token_valid(credential.strip()):
                return ('llmsbx-test-token', ['system:authenticated'])
            raise status.unauthorized()
        if auth:
            raise status.unauthorized()
        if api.settings['anonymous']:
            return ('system:anonymous', ['system:unauthenticated'])
        raise status.unauthorized()

    def _authorize_path(self, path):
        if self.user[0] == 'system:anonymous' and path not in PUBLIC_PATHS:
            raise status.error(403, 'Forbidden', 'forbidden: User "system:anonymous" cannot get '
                               'path "%s"' % path, {})

    def _authorize(self, verb, resource, namespace, name=None):
        user = self.user[0]
        denied = user == 'system:anonymous'
        for rule in self.server.api.settings['forbid']:
            if all(rule.get(k, '*') in ('*', v) for k, v in
                   (('verb', verb), ('resource', resource), ('namespace', namespace or ''),
                    ('user', user))):
                denied = True
        if denied:
            raise status.forbidden(user, verb, resource, namespace, name)

    # --- responses

    def _send(self, code, body, content_type, headers=None):
        self.code = code
        self.send_response(code)
        self.send_header('Content-Type', content_type)
        self.send_header('Content-Length', str(len(body)))
        self.send_header('Cache-Control', 'no-cache, private')
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != 'HEAD':
            self.wfile.write(body)

    def _send_json(self, code, obj, headers=None):
        self._send(code, json.dumps(obj).encode(), 'application/json', headers)

    def _send_error(self, err):
        if err.status is not None:
            self.entry['reason'] = err.status.get('reason')
            self._send_json(err.code, err.status, err.headers)
        else:
            self._send(err.code, err.text.encode(), 'text/plain; charset=utf-8', err.headers)

    def _read_body(self):
        if 'chunked' in self.headers.get('Transfer-Encoding', '').lower():
            body = b''
            while True:
                line = self.rfile.readline(1024)
                try:
                    size = int(line.split(b';')[0].strip(), 16)
                except ValueError as exc:
                    raise status.bad_request('malformed chunked body') from exc
                if size == 0:
                    while self.rfile.readline(1024) not in (b'\r\n', b'\n', b''):
                        pass
                    return body
                body += self.rfile.read(size)
                self.rfile.readline(1024)
                if len(body) > MAX_BODY:
                    raise status.error(413, 'RequestEntityTooLarge',
                                       'Request entity too large: limit is %d' % MAX_BODY)
        try:
            length = int(self.headers.get('Content-Length') or 0)
        except ValueError as exc:
            raise status.bad_request('bad Content-Length') from exc
        if length > MAX_BODY:
            self.close_connection = True
            raise status.error(413, 'RequestEntityTooLarge',
                               'Request entity too large: limit is %d' % MAX_BODY)
        return self.rfile.read(length) if length > 0 else b''

    def _param(self, name, default=None):
        for key, value in self.query:
            if key == name:
                return value
        return default

    def _watching(self):
        value = self._param('watch')
        return value is not None and parse_bool('watch', value)

    def _wants_table(self):
        return 'as=Table' in self.headers.get('Accept', '')

    # --- discovery

    def _discovery(self, path):
        api = self.server.api
        if path in ('/healthz', '/livez', '/readyz'):
            return self._send(200, b'ok', 'text/plain; charset=utf-8')
        if path == '/version':
            version = '1.29.0' if api.settings['disable_v5'] else api.settings['server_version']
            major, minor = version.split('.')[:2]
            return self._send_json(200, {
                'major': major, 'minor': minor, 'gitVersion': 'v%s-llmsbx-test' % version,
                'gitCommit': '0' * 40, 'gitTreeState': 'clean', 'buildDate': '2026-01-01T00:00:00Z',
                'goVersion': 'python', 'compiler': 'gc', 'platform': 'linux/amd64'})
        if path == '/api':
            return self._send_json(200, {
                'kind': 'APIVersions', 'versions': ['v1'],
                'serverAddressByClientCIDRs': [{'clientCIDR': '0.0.0.0/0',
                                                'serverAddress': '127.0.0.1:%d' % api.port}]})
        if path == '/apis':
            return self._send_json(200, {'kind': 'APIGroupList', 'apiVersion': 'v1', 'groups': []})
        if path == '/openapi/v2':
            # An empty OpenAPI document: kubectl's client-side validation
            # finds no schema for Pod and skips it.
            return self._send(200, b'', 'application/octet-stream')
        pods = {'name': 'pods', 'singularName': '', 'namespaced': True, 'kind': 'Pod',
                'verbs': ['create', 'delete', 'get', 'list', 'watch'], 'shortNames': ['po'],
                'categories': ['all']}
        return self._send_json(200, {
            'kind': 'APIResourceList', 'groupVersion': 'v1', 'resources': [
                {'name': 'namespaces', 'singularName': '', 'namespaced': False,
                 'kind': 'Namespace', 'verbs': ['get', 'list'], 'shortNames': ['ns']},
                pods,
                {'name': 'pods/exec', 'singularName': '', 'namespaced': True,
                 'kind': 'PodExecOptions', 'verbs': ['create', 'get']}]})

    def _namespace_object(self, ns):
        return {'kind': 'Namespace', 'apiVersion': 'v1',
                'metadata': {'name': ns, 'uid': self.server.api.namespace_uids[ns],
                             'resourceVersion': '1', 'creationTimestamp': self.server.api.started,
                             'labels': {'kubernetes.io/metadata.name': ns}},
                'spec': {'finalizers': ['kubernetes']}, 'status': {'phase': 'Active'}}

    def _namespace(self, ns):
        if ns not in self.server.api.settings['namespaces']:
            raise status.not_found('namespaces', ns)
        self._send_json(200, self._namespace_object(ns))

    def _namespaces(self):
        items = []
        for ns in self.server.api.settings['namespaces']:
            obj = self._namespace_object(ns)
            del obj['kind'], obj['apiVersion']
            items.append(obj)
        self._send_json(200, {'kind': 'NamespaceList', 'apiVersion': 'v1',
                              'metadata': {'resourceVersion': '1'}, 'items': items})

    # --- pods

    def _pod_response(self, obj):
        out = copy.deepcopy(obj)
        out['kind'], out['apiVersion'] = 'Pod', 'v1'
        return out

    def _create(self, ns):
        api = self.server.api
        body = self._read_body()
        content_type = self.headers.get('Content-Type', 'application/json').split(';')[0].strip()
        if content_type not in ('application/json', ''):
            raise status.error(415, 'UnsupportedMediaType',
                               'the body of the request was in an unknown format - accepted '
                               'media types include: application/json')
        try:
            manifest = json.loads(body.decode('utf-8'))
        except (ValueError, UnicodeDecodeError) as exc:
            raise status.bad_request("the object provided is unrecognized (must be of type Pod): "
                                     "couldn't get version/kind; json parse error: %s" % exc)
        self.entry['body'] = copy.deepcopy(manifest)
        pod = podspec.decode(manifest, ns)
        meta = pod['metadata']
        if not meta.get('name') and meta.get('generateName'):
            meta['name'] = meta['generateName'] + ''.join(
                secrets.choice(NAME_ALPHABET) for _ in range(5))
        if ns not in api.settings['namespaces']:
            raise status.not_found('namespaces', ns)
        podspec.apply_defaults(pod)
        _mount_service_account(pod)
        podspec.validate(pod)
        podspec.check_pod_security(pod, meta.get('name', ''))
        for key in ('uid', 'resourceVersion', 'creationTimestamp', 'deletionTimestamp',
                    'deletionGracePeriodSeconds', 'selfLink'):
            meta.pop(key, None)
        if self._param('dryRun') == 'All':
            return self._send_json(201, self._pod_response(pod))
        record = api.store.add(ns, pod)
        created = api.store.snapshot(record)
        api.kubelet.admit(record)
        self._send_json(201, self._pod_response(created))

    def _get(self, ns, name):
        api = self.server.api
        obj = api.store.snapshot(api.store.get(ns, name))
        if self._wants_table():
            return self._send_json(200, _table([obj], obj['metadata']['resourceVersion']))
        self._send_json(200, self._pod_response(obj))

    def _selectors(self):
        labels = selectors.parse_labels(self._param('labelSelector'))
        fields = selectors.parse_fields(self._param('fieldSelector'))
        return labels, fields

    def _list(self, ns):
        api = self.server.api
        labels, fields = self._selectors()
        if self._watching():
            return self._watch(ns, labels, fields)
        items, rv = api.store.list(ns)
        items = [i for i in items if selectors.labels_match(labels, i['metadata'].get('labels'))
                 and selectors.fields_match(fields, i)]
        meta = {'resourceVersion': rv}
        limit = self._param('limit')
        start = 0
        token = self._param('continue')
        if token:
            try:
                after = json.loads(base64.urlsafe_b64decode(token.encode()).decode())
                start = next((i for i, item in enumerate(items)
                              if [item['metadata']['namespace'], item['metadata']['name']] > after),
                             len(items))
            except (ValueError, TypeError) as exc:
                raise status.gone('The provided continue parameter is too old to display a '
                                  'consistent list result.') from exc
        items = items[start:]
        if limit:
            try:
                count = int(limit)
            except ValueError as exc:
                raise status.bad_request('invalid limit %r' % limit) from exc
            if 0 < count < len(items):
                last = items[count - 1]['metadata']
                meta['continue'] = base64.urlsafe_b64encode(
                    json.dumps([last['namespace'], last['name']]).encode()).decode()
                meta['remainingItemCount'] = len(items) - count
                items = items[:count]
        if self._wants_table():
            return self._send_json(200, _table(items, rv, meta.get('continue')))
        self._send_json(200, {'kind': 'PodList', 'apiVersion': 'v1', 'metadata': meta,
                              'items': items})

    def _delete_options(self):
        options = {}
        grace = self._param('gracePeriodSeconds')
        if grace is not None:
            try:
                options['gracePeriodSeconds'] = int(grace)
            except ValueError as exc:
                raise status.bad_request('invalid gracePeriodSeconds %r' % grace) from exc
        if self._param('dryRun') == 'All':
            options['dryRun'] = ['All']
        body = self._read_body()
        if body.strip():
            try:
                decoded = json.loads(body)
            except ValueError as exc:
                raise status.bad_request('json parse error in DeleteOptions: %s' % exc) from exc
            if not isinstance(decoded, dict):
                raise status.bad_request('DeleteOptions must be an object')
            for key, value in decoded.items():
                if value is not None:
                    options[key] = value
        value = options.get('gracePeriodSeconds')
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise status.bad_request('gracePeriodSeconds must be an integer')
        return options

    def _delete(self, ns, name):
        api = self.server.api
        options = self._delete_options()
        with api.store.lock:
            record = api.store.get(ns, name)
            obj = record.obj
            self._check_preconditions(name, obj, options.get('preconditions') or {})
            grace = options.get('gracePeriodSeconds')
            if grace is None:
                grace = obj['spec'].get('terminationGracePeriodSeconds', 30)
            if grace < 0:
                grace = 1
            # Unscheduled and finished pods go at once (pod strategy's CheckGracefulDelete).
            if not obj['spec'].get('nodeName') or \
                    obj['status'].get('phase') in ('Succeeded', 'Failed'):
                grace = 0
            meta = obj['metadata']
            pending = meta.get('deletionTimestamp') is not None
            longer = pending and grace >= meta.get('deletionGracePeriodSeconds', 0)
            if options.get('dryRun') or longer:
                snapshot = api.store.snapshot(record)
            else:
                if pending:
                    # Only a shorter grace period may replace a pending one.
                    left = _seconds_until(meta['deletionTimestamp'])
                    stamp = now_rfc3339(left - meta.get('deletionGracePeriodSeconds', 0) + grace)
                else:
                    stamp = now_rfc3339(grace)

                def mark(o):
                    o['metadata']['deletionTimestamp'] = stamp
                    o['metadata']['deletionGracePeriodSeconds'] = grace
                snapshot = api.store.mutate(record, mark)
                if grace == 0:
                    snapshot = api.store.remove(record)
                    api.kubelet.delete_now(record)
                else:
                    api.kubelet.begin_delete(record, grace)
        self._send_json(200, self._pod_response(snapshot))

    @staticmethod
    def _check_preconditions(name, obj, pre):
        meta = obj['metadata']
        if pre.get('uid') and pre['uid'] != meta['uid']:
            raise status.conflict('pods', name, 'Precondition failed: UID in precondition: %s, '
                                  'UID in object meta: %s' % (pre['uid'], meta['uid']))
        if pre.get('resourceVersion') and pre['resourceVersion'] != meta['resourceVersion']:
            raise status.conflict('pods', name, 'Precondition failed: ResourceVersion in '
                                  'precondition: %s, ResourceVersion in object meta: %s'
                                  % (pre['resourceVersion'], meta['resourceVersion']))

    def _watch(self, ns, labels, fields):
        api = self.server.api
        store = api.store
        rv = self._param('resourceVersion', '')
        try:
            timeout = int(self._param('timeoutSeconds') or 1800)
        except ValueError as exc:
            raise status.bad_request('invalid timeoutSeconds') from exc
        try:
            position = int(rv) if rv not in ('', '0') else None
        except ValueError as exc:
            raise status.bad_request('invalid resourceVersion %r' % rv) from exc
        self.code = 200
        self.send_response(200)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Transfer-Encoding', 'chunked')
        self.send_header('Cache-Control', 'no-cache, private')
        self.end_headers()

        def matches(obj):
            return obj is not None and (ns is None or obj['metadata']['namespace'] == ns) and \
                selectors.labels_match(labels, obj['metadata'].get('labels')) and \
                selectors.fields_match(fields, obj)

        def send(kind, obj):
            obj = self._pod_response(obj) if obj.get('kind') != 'Status' else obj
            data = json.dumps({'type': kind, 'object': obj}).encode() + b'\n'
            self.wfile.write(b'%x\r\n' % len(data) + data + b'\r\n')

        deadline = time.monotonic() + timeout
        events = []
        with store.lock:
            if position is None:
                items, current = store.list(ns)
                events = [('ADDED', i) for i in items if matches(i)]
                position = int(current)
            elif store.history and position < store.history[0][0] - 1:
                events = [('ERROR', status.gone('too old resource version: %d (%d)' % (
                    position, store.history[0][0] - 1)).status)]
                deadline = 0
        try:
            while True:
                for kind, obj in events:
                    send(kind, obj)
                events = []
                with store.changed:
                    while not store.closed:
                        fresh = [h for h in store.history if h[0] > position]
                        if fresh or time.monotonic() >= deadline or self._client_left():
                            break
                        store.changed.wait(min(1.0, max(0.0, deadline - time.monotonic())))
                    if store.closed or time.monotonic() >= deadline or self._client_left():
                        break
                    for rv_, kind, obj, prev in fresh:
                        position = rv_
                        now_in, was_in = matches(obj), matches(prev)
                        if kind == 'ADDED' and now_in:
                            events.append(('ADDED', obj))
                        elif kind == 'MODIFIED':
                            if now_in and was_in:
                                events.append(('MODIFIED', obj))
                            elif now_in:
                                events.append(('ADDED', obj))
                            elif was_in:
                                events.append(('DELETED', obj))
                        elif kind == 'DELETED' and was_in:
                            events.append(('DELETED', obj))
            for kind, obj in events:
                send(kind, obj)
            self.wfile.write(b'0\r\n\r\n')
        except OSError:
            self.close_connection = True

    def _client_left(self):
        """A watch client sends nothing: a readable socket means it hung up."""
        readable, _, _ = select.select([self.connection], [], [], 0)
        if readable:
            self.close_connection = True
        return bool(readable)

    # --- exec

    def _exec(self, ns, name):
        api = self.server.api
        record = api.store.get(ns, name)
        obj = api.store.snapshot(record)
        opts = {'stdin': False, 'stdout': True, 'stderr': True, 'tty': False}
        command, container = [], ''
        for key, value in self.query:
            if key == 'command':
                command.append(value)
            elif key == 'container':
                container = value
            elif key in opts:
                opts[key] = parse_bool(key, value)
        names = [c['name'] for c in obj['spec']['containers']]
        if not container:
            if len(names) != 1:
                raise status.bad_request('a container name must be specified for pod %s, choose '
                                         'one of: [%s]' % (name, ' '.join(names)))
            container = names[0]
        elif container not in names + [c['name'] for c in obj['spec'].get('initContainers') or []]:
            raise status.bad_request('container %s is not valid for pod %s' % (container, name))
        if not obj['spec'].get('nodeName'):
            raise status.bad_request('pod %s does not have a host assigned' % name)
        self.entry['exec'] = {'argv': command, 'container': container}
        self.entry['exec'].update(opts)
        upgrade = self.headers.get('Upgrade', '')
        connection = self.headers.get('Connection', '')
        if 'upgrade' not in connection.lower() or not upgrade:
            raise status.bad_request('Upgrade request required')
        if upgrade.lower() != 'websocket':
            raise status.bad_request('the test API server speaks WebSocket only (Upgrade: %s '
                                     'asked for); use v5.channel.k8s.io or v4.channel.k8s.io'
                                     % upgrade)
        if self.command != 'GET':
            self.close_connection = True
            raise status.kubelet_text(405, 'websocket: bad request method: the WebSocket '
                                           'handshake is a GET')
        if self.headers.get('Sec-WebSocket-Version') != '13':
            self.close_connection = True
            raise status.ApiError(400, None, {'Sec-WebSocket-Version': '13'},
                                  text='websocket: unsupported Sec-WebSocket-Version')
        key = self.headers.get('Sec-WebSocket-Key', '')
        try:
            if len(base64.b64decode(key, validate=True)) != 16:
                raise ValueError(key)
        except ValueError as exc:
            self.close_connection = True
            raise status.kubelet_text(400, 'websocket: bad Sec-WebSocket-Key') from exc
        offered = []
        for header in self.headers.get_all('Sec-WebSocket-Protocol') or []:
            offered += [p.strip() for p in header.split(',') if p.strip()]
        protocol = exec_stream.negotiate(offered, api.settings['disable_v5'])
        self.entry['exec']['offered'] = offered
        if protocol is None:
            self.close_connection = True
            raise status.kubelet_text(403, 'requested protocol(s) are not supported: %s; '
                                           'supports %s' % (offered, exec_stream.supported_list(
                                               api.settings['disable_v5'])))
        if not command:
            raise status.bad_request('you must specify at least one command for the container')
        if not (opts['stdin'] or opts['stdout'] or opts['stderr']):
            raise status.kubelet_text(400, 'you must specify at least 1 of stdin, stdout, stderr')
        if opts['tty']:
            opts['stderr'] = False          # the kubelet drops stderr with a TTY
        docker_id = api.kubelet.container_id(record, container)
        if docker_id is None:
            raise status.kubelet_text(500, 'container not found ("%s")' % container)
        try:
            exec_id = api.docker.exec_create(docker_id, command, opts['stdin'], opts['stdout'],
                                             opts['stderr'], opts['tty'])
        except DockerError as exc:
            if exc.code in (404, 409):
                raise status.kubelet_text(500, 'container not found ("%s")' % container) from exc
            raise status.kubelet_text(500, str(exc)) from exc
        self.entry['exec']['protocol'] = protocol
        self.code = 101
        head = ['HTTP/1.1 101 Switching Protocols', 'Upgrade: websocket', 'Connection: Upgrade',
                'Sec-WebSocket-Accept: ' + websocket.accept_key(key)]
        if protocol:
            head.append('Sec-WebSocket-Protocol: ' + protocol)
        self.connection.settimeout(30)
        self.connection.sendall(('\r\n'.join(head) + '\r\n\r\n').encode())
        self.close_connection = True
        session = exec_stream.ExecSession(self.connection, self.rfile.take_buffer(), api.docker,
                                          api.settings.snapshot(), exec_id, command, opts,
                                          protocol, self.entry)
        session.run()


def _cert_identity(cert):
    if not cert:
        return None
    cn, groups = None, []
    for rdn in cert.get('subject', ()):
        for key, value in rdn:
            if key == 'commonName':
                cn = value
            elif key == 'organizationName':
                groups.append(value)
    return (cn, groups + ['system:authenticated']) if cn else None


def _seconds_until(stamp):
    moment = calendar.timegm(time.strptime(stamp, '%Y-%m-%dT%H:%M:%SZ'))
    return moment - time.time()


def _mount_service_account(pod):
    """The ServiceAccount admission plugin: a projected token volume mounted
    in every container, unless automountServiceAccountToken is false."""
    spec = pod['spec']
    if spec.get('automountServiceAccountToken') is False:
        return
    name = 'kube-api-access-' + ''.join(secrets.choice(NAME_ALPHABET) for _ in range(5))
    spec.setdefault('volumes', []).append({'name': name, 'projected': {
        'defaultMode': 420, 'sources': [
            {'serviceAccountToken': {'expirationSeconds': 3607, 'path': 'token'}},
            {'configMap': {'name': 'kube-root-ca.crt', 'items': [{'key': 'ca.crt',
                                                                   'path': 'ca.crt'}]}},
            {'downwardAPI': {'items': [{'path': 'namespace', 'fieldRef': {
                'apiVersion': 'v1', 'fieldPath': 'metadata.namespace'}}]}}]}})
    for ctr in spec.get('containers') or []:
        mounts = ctr.setdefault('volumeMounts', [])
        if not any(m.get('mountPath') == '/var/run/secrets/kubernetes.io/serviceaccount'
                   for m in mounts):
            mounts.append({'name': name, 'readOnly': True,
                           'mountPath': '/var/run/secrets/kubernetes.io/serviceaccount'})


def _age(stamp):
    seconds = max(0, int(-_seconds_until(stamp))) if stamp else 0
    if seconds < 120:
        return '%ds' % seconds
    minutes = seconds // 60
    if minutes < 10:
        return '%dm%ds' % (minutes, seconds % 60) if seconds % 60 else '%dm' % minutes
    if minutes < 180:
        return '%dm' % minutes
    hours = minutes // 60
    return '%dh' % hours if hours < 48 else '%dd' % (hours // 24)


def _pod_row(obj):
    st, meta = obj.get('status', {}), obj['metadata']
    reason = st.get('reason') or st.get('phase', 'Pending')
    ready = restarts = 0
    statuses = st.get('containerStatuses') or []
    for cs in statuses:
        restarts += cs.get('restartCount', 0)
        state = cs.get('state') or {}
        if state.get('waiting', {}).get('reason'):
            reason = state['waiting']['reason']
        elif 'terminated' in state:
            term = state['terminated']
            reason = term.get('reason') or ('Signal:%d' % term['signal'] if term.get('signal')
                                            else 'ExitCode:%d' % term.get('exitCode', 0))
        elif cs.get('ready') and 'running' in state:
            ready += 1
    if meta.get('deletionTimestamp'):
        reason = 'Terminating'
    total = len(obj['spec'].get('containers') or [])
    return [meta['name'], '%d/%d' % (ready, total), reason, restarts,
            _age(meta.get('creationTimestamp')), st.get('podIP', '<none>'),
            obj['spec'].get('nodeName', '<none>'), '<none>', '<none>']


def _table(items, rv, token=None):
    columns = [('Name', 'string', 'name', 0), ('Ready', 'string', '', 0),
               ('Status', 'string', '', 0), ('Restarts', 'integer', '', 0),
               ('Age', 'string', '', 0), ('IP', 'string', '', 1), ('Node', 'string', '', 1),
               ('Nominated Node', 'string', '', 1), ('Readiness Gates', 'string', '', 1)]
    meta = {'resourceVersion': rv}
    if token:
        meta['continue'] = token
    return {'kind': 'Table', 'apiVersion': 'meta.k8s.io/v1', 'metadata': meta,
            'columnDefinitions': [{'name': n, 'type': t, 'format': f, 'description': n,
                                   'priority': p} for n, t, f, p in columns],
            'rows': [{'cells': _pod_row(obj), 'object': {
                'kind': 'PartialObjectMetadata', 'apiVersion': 'meta.k8s.io/v1',
                'metadata': obj['metadata']}} for obj in items]}
