# kubeconfig.py: writes the kubeconfig files through which clients reach a running test API server.
"""Four files per server, same clusters/users/contexts, current context
"llmsbx-test" (namespace left out, so "default" applies):
  kubeconfig            YAML, certificates inline as *-data (base64 PEM)
  kubeconfig.json       the same as JSON
  kubeconfig-files      YAML, certificate-authority/client-certificate/
                        client-key/tokenFile as paths relative to the file
  kubeconfig-insecure   YAML, insecure-skip-tls-verify instead of a CA (TLS modes)
Contexts: llmsbx-test, llmsbx-test-ns (namespace sandbox-tests) and, as the
mode allows, llmsbx-test-ec and llmsbx-test-pkcs8 (tls-cert: other key
formats), llmsbx-test-bad (a wrong token / a client certificate from an
untrusted CA), llmsbx-test-anonymous (no credentials) and llmsbx-test-exec (an
exec credential plugin, ./credential-plugin, that prints the token or the EC
client certificate as an ExecCredential and logs each call)."""
import base64
import json
import os

MODES = ('http', 'http-token', 'tls-token', 'tls-cert')


def _b64(path):
    with open(path, 'rb') as f:
        return base64.b64encode(f.read()).decode()


def _scalar(value):
    if value == {}:
        return '{}'
    if value == []:
        return '[]'
    return json.dumps(value)


def _lines(value, indent):
    pad = '  ' * indent
    out = []
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, (dict, list)) and item:
                out.append('%s%s:' % (pad, key))
                out += _lines(item, indent + 1)
            else:
                out.append('%s%s: %s' % (pad, key, _scalar(item)))
        return out
    for item in value:
        if isinstance(item, (dict, list)) and item:
            sub = _lines(item, indent + 1)
        else:
            sub = ['%s  %s' % (pad, _scalar(item))]
        out.append('%s- %s' % (pad, sub[0][len(pad) + 2:]))
        out += sub[1:]
    return out


def to_yaml(document):
    """Block YAML with JSON-quoted scalars (valid YAML 1.2 double-quoted)."""
    return '\n'.join(_lines(document, 0)) + '\n'


def _users(mode, pki, token_file, token, inline, base_dir):
    def ref(path):
        return os.path.relpath(path, base_dir)

    def cert_user(crt, key):
        if inline:
            return {'client-certificate-data': _b64(crt), 'client-key-data': _b64(key)}
        return {'client-certificate': ref(crt), 'client-key': ref(key)}

    users = {}
    plugin = os.path.join(base_dir, PLUGIN)
    exec_user = {'exec': {'apiVersion': PLUGIN_API, 'command': plugin if inline else './' + PLUGIN,
                          'args': ['--cluster', 'llmsbx-test'],
                          'env': [{'name': 'LLMSBX_TEST_PLUGIN', 'value': 'yes'}]}}
    if mode == 'http':
        users['llmsbx-test'] = {}
    elif mode in ('http-token', 'tls-token'):
        users['llmsbx-test'] = {'token': token} if inline else {'tokenFile': ref(token_file)}
        users['llmsbx-test-bad'] = {'token': 'not-the-' + token}
        users['llmsbx-test-anonymous'] = {}
        users['llmsbx-test-exec'] = exec_user
    else:
        users['llmsbx-test'] = cert_user(os.path.join(pki, 'client-rsa.crt'),
                                         os.path.join(pki, 'client-rsa.key'))
        users['llmsbx-test-ec'] = cert_user(os.path.join(pki, 'client-ec.crt'),
                                            os.path.join(pki, 'client-ec.key'))
        users['llmsbx-test-pkcs8'] = cert_user(os.path.join(pki, 'client-rsa.crt'),
                                               os.path.join(pki, 'client-rsa-pkcs8.key'))
        users['llmsbx-test-bad'] = cert_user(os.path.join(pki, 'untrusted-client.crt'),
                                             os.path.join(pki, 'untrusted-client.key'))
        users['llmsbx-test-anonymous'] = {}
        users['llmsbx-test-exec'] = exec_user
    return users


PLUGIN = 'credential-plugin'
PLUGIN_API = 'client.authentication.k8s.io/v1beta1'
_PLUGIN_SCRIPT = """#!/usr/bin/python3
# credential-plugin: the client.authentication.k8s.io exec plugin of a test API server.
# It hands out %(what)s and appends KUBERNETES_EXEC_INFO to credential-plugin.calls.
import json, os, sys, time
here = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(here, 'credential-plugin.calls'), 'a') as calls:
    calls.write(json.dumps({'argv': sys.argv[1:], 'env': os.environ.get('LLMSBX_TEST_PLUGIN'),
                            'info': os.environ.get('KUBERNETES_EXEC_INFO'),
                            'time': time.time()}) + '\\n')
files = %(files)r
status = {}
for key, path in files.items():
    with open(path) as f:
        status[key] = f.read()
# credential-plugin.ttl (seconds), when a test writes it: the credential expires.
try:
    with open(os.path.join(here, 'credential-plugin.ttl')) as f:
        ttl = float(f.read())
except FileNotFoundError:
    ttl = None
if ttl is not None:
    import datetime
    when = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=ttl)
    status['expirationTimestamp'] = when.strftime('%%Y-%%m-%%dT%%H:%%M:%%SZ')
print(json.dumps({'apiVersion': %(api)r, 'kind': 'ExecCredential', 'status': status}))
"""


def _write_plugin(directory, mode, pki, token_file):
    if mode == 'tls-cert':
        files = {'clientCertificateData': os.path.join(pki, 'client-ec.crt'),
                 'clientKeyData': os.path.join(pki, 'client-ec.key')}
        what = 'the EC client certificate'
    else:
        files = {'token': token_file}
        what = 'the bearer token'
    path = os.path.join(directory, PLUGIN)
    with open(path, 'w') as f:
        f.write(_PLUGIN_SCRIPT % {'what': what, 'files': files, 'api': PLUGIN_API})
    os.chmod(path, 0o700)


def document(mode, url, pki, token_file, token, variant, base_dir):
    """variant: 'inline', 'files' or 'insecure'."""
    cluster = {'server': url}
    if url.startswith('https:'):
        if variant == 'insecure':
            cluster['insecure-skip-tls-verify'] = True
        elif variant == 'files':
            cluster['certificate-authority'] = os.path.relpath(os.path.join(pki, 'ca.crt'),
                                                               base_dir)
        else:
            cluster['certificate-authority-data'] = _b64(os.path.join(pki, 'ca.crt'))
    users = _users(mode, pki, token_file, token, variant != 'files', base_dir)
    contexts = [{'name': 'llmsbx-test',
                 'context': {'cluster': 'llmsbx-test', 'user': 'llmsbx-test'}},
                {'name': 'llmsbx-test-ns',
                 'context': {'cluster': 'llmsbx-test', 'user': 'llmsbx-test',
                             'namespace': 'sandbox-tests'}}]
    for user in users:
        if user != 'llmsbx-test':
            contexts.append({'name': user, 'context': {'cluster': 'llmsbx-test', 'user': user}})
    return {'apiVersion': 'v1', 'kind': 'Config', 'preferences': {},
            'clusters': [{'name': 'llmsbx-test', 'cluster': cluster}],
            'users': [{'name': name, 'user': user} for name, user in users.items()],
            'contexts': contexts, 'current-context': 'llmsbx-test'}


def write_all(directory, mode, url, pki, token_file, token):
    """Writes the files; returns {variant: path}."""
    paths = {}
    if mode != 'http':
        _write_plugin(directory, mode, pki, token_file)
    variants = [('kubeconfig', 'inline', False), ('kubeconfig.json', 'inline', True),
                ('kubeconfig-files', 'files', False)]
    if url.startswith('https:'):
        variants.append(('kubeconfig-insecure', 'insecure', False))
    for name, variant, as_json in variants:
        path = os.path.join(directory, name)
        doc = document(mode, url, pki, token_file, token, variant, directory)
        text = json.dumps(doc, indent=2) + '\n' if as_json else to_yaml(doc)
        tmp = path + '.tmp'
        with open(tmp, 'w') as f:
            f.write(text)
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
        paths[name] = path
    return paths
