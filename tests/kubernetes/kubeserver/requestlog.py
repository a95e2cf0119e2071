# requestlog.py: the record of every API request the tests can read, with credentials masked.
"""Each request is one entry (a dict) added when it arrives and completed
when it ends; GET /log on the admin endpoint returns the entries, and the
log file (JSON lines) gets each entry once it is complete. Credentials never
appear: an Authorization header is logged as its scheme plus
"<masked sha256:XXXXXXXX>" (the first 8 hex digits of the SHA-256 of the
credential, so a test can tell which token was sent without the token being
written anywhere), and so are token-like query parameters."""
import hashlib
import json
import threading
import time

LOGGED_HEADERS = ('Authorization', 'Accept', 'Content-Type', 'User-Agent', 'Connection',
                  'Upgrade', 'Sec-WebSocket-Protocol', 'Sec-WebSocket-Version',
                  'X-Stream-Protocol-Version', 'Impersonate-User', 'Proxy-Authorization')
SECRET_QUERY = ('access_token', 'token')


def fingerprint(secret):
    return hashlib.sha256(secret.encode('utf-8', 'surrogateescape')).hexdigest()[:8]


def mask_credential(value):
    scheme, sep, secret = value.partition(' ')
    if not sep:
        return '<masked sha256:%s>' % fingerprint(value)
    return '%s <masked sha256:%s>' % (scheme, fingerprint(secret.strip()))


class RequestLog:
    def __init__(self, path=None):
        self._lock = threading.Lock()
        self._entries = []
        self._seq = 0
        self._file = open(path, 'a', encoding='utf-8') if path else None

    def begin(self, method, path, query, headers, tls, peer, sni=None):
        """query is a list of (name, value) pairs in order, repeats kept;
        sni is the server name the client's TLS hello named, if any."""
        logged = {}
        for name in LOGGED_HEADERS:
            value = headers.get(name)
            if value is None:
                continue
            if name in ('Authorization', 'Proxy-Authorization'):
                value = mask_credential(value)
            logged[name] = value
        query = [[k, '<masked sha256:%s>' % fingerprint(v) if k in SECRET_QUERY else v]
                 for k, v in query]
        with self._lock:
            self._seq += 1
            entry = {'seq': self._seq, 'time': time.time(), 'method': method, 'path': path,
                     'query': query, 'headers': logged, 'tls': tls, 'sni': sni, 'peer': peer,
                     'user': None, 'status': None, 'done': False}
            self._entries.append(entry)
        return entry

    def event(self, kind, **fields):
        """An entry that is not an HTTP request (a refused TLS handshake ...)."""
        with self._lock:
            self._seq += 1
            entry = {'seq': self._seq, 'time': time.time(), 'event': kind, 'done': True}
            entry.update(fields)
            self._entries.append(entry)
            self._write(entry)

    def finish(self, entry, **fields):
        with self._lock:
            entry.update(fields)
            entry['done'] = True
            entry['duration'] = round(time.time() - entry['time'], 6)
            self._write(entry)

    def _write(self, entry):
        if self._file:
            self._file.write(json.dumps(entry, sort_keys=True) + '\n')
            self._file.flush()

    def entries(self, since=0):
        with self._lock:
            return [json.loads(json.dumps(e)) for e in self._entries if e['seq'] > since]

    def clear(self):
        with self._lock:
            self._entries = []

    def close(self):
        with self._lock:
            if self._file:
                self._file.close()
                self._file = None
