# server.py: puts the test API server together (listeners, TLS, PKI, kubeconfigs, kubelet) and takes it down cleanly.
import collections
import hmac
import os
import secrets
import shutil
import ssl
import threading
import time
import uuid

from . import kubeconfig, pki
from .admin import AdminHTTPServer
from .apiserver import ApiHTTPServer
from .docker_api import Docker
from .kubelet import Kubelet
from .requestlog import RequestLog
from .settings import Settings
from .store import PodStore, now_rfc3339


def _record_sni(sock, server_name, context):
    sock.llmsbx_sni = server_name

class TestApiServer:
    def __init__(self, mode, state_dir, pki_dir=None, settings=None, log_path=None,
                 docker_socket='/var/run/docker.sock', port=0, admin_port=0):
        if mode not in kubeconfig.MODES:
            raise ValueError('mode %r: use one of %s' % (mode, ', '.join(kubeconfig.MODES)))
        self.mode = mode
        self.state_dir = os.path.abspath(state_dir)
        self.pki_dir = os.path.abspath(pki_dir or os.path.join(self.state_dir, 'pki'))
        self.settings = Settings(settings)
        self.log = RequestLog(log_path or os.path.join(self.state_dir, 'requests.log'))
        self.docker = Docker(docker_socket)
        self.store = PodStore()
        self.instance = uuid.uuid4().hex[:12]
        self.started = now_rfc3339()
        self.namespace_uids = collections.defaultdict(lambda: str(uuid.uuid4()))
        self.wanted_port, self.wanted_admin_port = port, admin_port
        self.stop_requested = threading.Event()
        self.ssl_context = None
        self.token = secrets.token_urlsafe(32)
        # Every bearer token that authenticates: the current one, and the
        # earlier ones a rotation kept (as a token's grace period does).
        self.valid_tokens = [self.token]
        self.token_lock = threading.Lock()
        self.info = {}
        self._stopped = False

    def start(self):
        os.makedirs(self.state_dir, exist_ok=True)
        self.docker.negotiate()
        pki.ensure(self.pki_dir)
        token_file = self.token_file = os.path.join(self.state_dir, 'token')
        self._write_token_file(self.token)
        if self.mode.startswith('tls'):
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(os.path.join(self.pki_dir, 'server.crt'),
                                os.path.join(self.pki_dir, 'server.key'))
            ctx.set_alpn_protocols(['http/1.1'])
            # The name the client sent as SNI, for the request log.
            ctx.sni_callback = _record_sni
            if self.mode == 'tls-cert':
                # As kube-apiserver: a client certificate is asked for and
                # verified when given; a request without one gets 401.
                ctx.verify_mode = ssl.CERT_OPTIONAL
                ctx.load_verify_locations(os.path.join(self.pki_dir, 'ca.crt'))
            self.ssl_context = ctx
        self.httpd = ApiHTTPServer(('127.0.0.1', self.wanted_port), self)
        self.port = self.httpd.server_address[1]
        self.admin = AdminHTTPServer(('127.0.0.1', self.wanted_admin_port), self)
        with open(os.path.join(self.pki_dir, 'ca.crt')) as f:
            ca_pem = f.read() if self.mode.startswith('tls') else ''
        self.kubelet = Kubelet(self.store, self.docker, self.settings, self.instance,
                               self.state_dir, self.port, ca_pem)
        reaped = self.kubelet.reap_dead_servers()
        scheme = 'https' if self.ssl_context else 'http'
        url = '%s://127.0.0.1:%d' % (scheme, self.port)
        configs = kubeconfig.write_all(self.state_dir, self.mode, url, self.pki_dir, token_file,
                                       self.token)

        def cert(name, key=None):
            return {'cert': os.path.join(self.pki_dir, name + '.crt'),
                    'key': os.path.join(self.pki_dir, (key or name) + '.key')}
        self.info = {
            'pid': os.getpid(), 'mode': self.mode, 'url': url, 'host': '127.0.0.1',
            'port': self.port, 'admin_url': 'http://127.0.0.1:%d' % self.admin.server_address[1],
            'state_dir': self.state_dir, 'pki_dir': self.pki_dir,
            'ca': os.path.join(self.pki_dir, 'ca.crt') if self.ssl_context else None,
            'token_file': token_file if 'token' in self.mode else None,
            'kubeconfig': configs['kubeconfig'], 'kubeconfigs': configs,
            'client_certs': {'rsa': cert('client-rsa'), 'ec': cert('client-ec'),
                             'pkcs8': cert('client-rsa', 'client-rsa-pkcs8'),
                             'untrusted': cert('untrusted-client')},
            'instance': self.instance,
            'docker_label': 'io.llmsbx.kube-test-server=' + self.instance,
            'reaped_stale_containers': reaped,
            'log_file': self.log._file.name if self.log._file else None,
        }
        for server in (self.httpd, self.admin):
            threading.Thread(target=server.serve_forever, kwargs={'poll_interval': 0.2},
                             daemon=True).start()
        return self.info

    def _write_token_file(self, token):
        # Atomically, as the kubelet swaps a projected token's ..data link.
        tmp = self.token_file + '.tmp'
        with open(tmp, 'w') as f:
            f.write(token)
        os.chmod(tmp, 0o600)
        os.replace(tmp, self.token_file)

    def token_valid(self, credential):
        with self.token_lock:
            tokens = list(self.valid_tokens)
        # Every candidate compared, in constant time each.
        return any([hmac.compare_digest(credential.encode(), t.encode()) for t in tokens])

    def rotate_token(self, revoke=True, write_file=True, token=None):
        """A new bearer token (as a service-account token rotation): written
        to the token file (and so handed out by the credential plugin) unless
        write_file is false; the old ones stop authenticating unless revoke
        is false. Returns the fingerprints of the new and the old token."""
        new = token or secrets.token_urlsafe(32)
        with self.token_lock:
            old = self.token
            self.token = new
            self.valid_tokens = [new] if revoke else self.valid_tokens + [new]
            if write_file:
                self._write_token_file(new)
        from .requestlog import fingerprint
        return {'token': fingerprint(new), 'old_token': fingerprint(old), 'revoked': revoke,
                'written': write_file}

    def request_stop(self):
        self.stop_requested.set()

    def pod_report(self):
        out = []
        with self.store.lock:
            for record in self.store.records():
                k = getattr(record, 'k', None)
                out.append({'namespace': record.namespace, 'name': record.name,
                            'uid': record.uid, 'phase': record.obj['status'].get('phase'),
                            'deleting': record.deleting,
                            'containers': {n: c.docker_id for n, c in k.containers.items()}
                            if k else {}})
        return out

    def container_report(self):
        return [{'id': c['Id'], 'names': c.get('Names'), 'state': c.get('State'),
                 'labels': c.get('Labels')}
                for c in self.docker.list_labelled('io.llmsbx.kube-test-server=' + self.instance)]

    def stop(self):
        """Stops serving and removes every container of this server."""
        if self._stopped:
            return
        self._stopped = True
        started = time.monotonic()
        for server in (self.httpd, self.admin):
            server.shutdown()
            server.server_close()
        self.kubelet.shutdown()
        self.log.close()
        return time.monotonic() - started

    def remove_state(self):
        shutil.rmtree(self.state_dir, ignore_errors=True)
