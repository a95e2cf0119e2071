# admin.py: the test-only control endpoint (plain HTTP on its own loopback port): settings, faults, request log, pods, shutdown.
"""Never part of the Kubernetes API and never in the request log, so a
backend under test cannot reach it by accident and the log holds only what
the backend sent. JSON in and out:
  GET  /info                 what the ready file holds
  GET  /config               the current settings
  POST /config               merge a JSON object of settings (400 on unknown keys)
  POST /reset                back to the settings the server started with
  POST /rotate-token         a new bearer token: {"revoke": true, "write_file": true, "token": null}
  GET  /log?since=N          request log entries with seq > N (a JSON array)
  DELETE /log                forget the entries so far
  GET  /pods                 every pod with its Docker container ids and kubelet state
  GET  /containers           the Docker containers of this server (id, names, state, labels)
  POST /shutdown             remove every container and exit"""
import http.server
import json
import socketserver
import threading
import urllib.parse

from .settings import SettingsError


class AdminHTTPServer(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address, api):
        self.api = api
        super().__init__(address, AdminHandler)

    def handle_error(self, request, client_address):
        pass


class AdminHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'

    def log_message(self, fmt, *args):
        pass

    def _reply(self, code, obj):
        body = json.dumps(obj, indent=1).encode() + b'\n'
        self.send_response(code)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _body(self):
        length = int(self.headers.get('Content-Length') or 0)
        raw = self.rfile.read(length) if length else b''
        return json.loads(raw) if raw.strip() else {}

    def do_GET(self):
        api = self.server.api
        url = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(url.query))
        if url.path == '/info':
            return self._reply(200, api.info)
        if url.path == '/config':
            return self._reply(200, api.settings.snapshot())
        if url.path == '/log':
            try:
                since = int(query.get('since', 0))
            except ValueError:
                return self._reply(400, {'error': 'since is an integer'})
            return self._reply(200, api.log.entries(since))
        if url.path == '/pods':
            return self._reply(200, api.pod_report())
        if url.path == '/containers':
            return self._reply(200, api.container_report())
        self._reply(404, {'error': 'no such admin endpoint: %s' % url.path})

    def do_POST(self):
        api = self.server.api
        path = urllib.parse.urlsplit(self.path).path
        try:
            body = self._body()
        except ValueError as exc:
            return self._reply(400, {'error': 'the body is not JSON: %s' % exc})
        if path == '/config':
            try:
                return self._reply(200, api.settings.update(body))
            except SettingsError as exc:
                return self._reply(400, {'error': str(exc)})
        if path == '/rotate-token':
            unknown = set(body) - {'revoke', 'write_file', 'token'}
            if unknown or not all(isinstance(body.get(k, True), bool) for k in ('revoke', 'write_file')):
                return self._reply(400, {'error': 'rotate-token takes revoke and write_file '
                                         '(booleans) and token (a string)'})
            return self._reply(200, api.rotate_token(body.get('revoke', True),
                                                     body.get('write_file', True),
                                                     body.get('token')))
        if path == '/reset':
            return self._reply(200, api.settings.reset())
        if path == '/shutdown':
            self._reply(200, {'stopping': True})
            threading.Thread(target=api.request_stop, daemon=True).start()
            return None
        return self._reply(404, {'error': 'no such admin endpoint: %s' % path})

    def do_DELETE(self):
        api = self.server.api
        if urllib.parse.urlsplit(self.path).path == '/log':
            api.log.clear()
            return self._reply(200, {'cleared': True})
        return self._reply(404, {'error': 'no such admin endpoint'})
