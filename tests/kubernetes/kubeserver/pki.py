# pki.py: the test cluster's certificates, made with the openssl command: a CA, the server's, and client identities.
"""Files, all PEM, in one directory (made once and reused if present):
ca.crt/ca.key            the cluster CA (signs the server and the clients)
server.crt/server.key    SAN IP:127.0.0.1, DNS:localhost; serverAuth
client-rsa.crt/.key      CN=llmsbx-test-rsa, O=llmsbx:testers; PKCS#1 key ("BEGIN RSA PRIVATE KEY")
client-rsa-pkcs8.key     the same key in PKCS#8 ("BEGIN PRIVATE KEY")
client-ec.crt/.key       CN=llmsbx-test-ec; P-256 key in SEC1 ("BEGIN EC PRIVATE KEY")
untrusted-ca.crt,
untrusted-client.crt/.key  a client signed by another CA (refused in the handshake)"""
import fcntl
import os
import subprocess
import tempfile

FILES = ('ca.crt', 'ca.key', 'server.crt', 'server.key', 'client-rsa.crt', 'client-rsa.key',
         'client-rsa-pkcs8.key', 'client-ec.crt', 'client-ec.key', 'untrusted-ca.crt',
         'untrusted-client.crt', 'untrusted-client.key')

CA_EXT = ('basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n'
          'subjectKeyIdentifier=hash\n')
SERVER_EXT = ('basicConstraints=critical,CA:FALSE\n'
              'keyUsage=critical,digitalSignature,keyEncipherment\n'
              'extendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n'
              'authorityKeyIdentifier=keyid\n')
CLIENT_EXT = ('basicConstraints=critical,CA:FALSE\n'
              'keyUsage=critical,digitalSignature,keyEncipherment\n'
              'extendedKeyUsage=clientAuth\nauthorityKeyIdentifier=keyid\n')


def _openssl(*args):
    result = subprocess.run(('openssl',) + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if result.returncode != 0:
        raise RuntimeError('openssl %s failed: %s' % (' '.join(args),
                                                      result.stderr.decode(errors='replace')))


def _ca(directory, name, subject, ext_dir):
    key, crt = os.path.join(directory, name + '.key'), os.path.join(directory, name + '.crt')
    config = os.path.join(ext_dir, name + '.cnf')
    with open(config, 'w') as f:
        f.write('[req]\ndistinguished_name=dn\n[dn]\n[v3]\n' + CA_EXT)
    _openssl('ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', key)
    _openssl('req', '-new', '-x509', '-key', key, '-subj', subject, '-days', '3650',
             '-out', crt, '-extensions', 'v3', '-config', config)
    return key, crt


def _signed(directory, name, subject, key_kind, ca_key, ca_crt, extensions, ext_dir):
    key, crt = os.path.join(directory, name + '.key'), os.path.join(directory, name + '.crt')
    csr = os.path.join(ext_dir, name + '.csr')
    if key_kind == 'rsa':
        _openssl('genrsa', '-traditional', '-out', key, '2048')
    else:
        _openssl('ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', key)
    _openssl('req', '-new', '-key', key, '-subj', subject, '-out', csr)
    ext = os.path.join(ext_dir, name + '.ext')
    with open(ext, 'w') as f:
        f.write(extensions)
    _openssl('x509', '-req', '-in', csr, '-CA', ca_crt, '-CAkey', ca_key, '-CAcreateserial',
             '-days', '3650', '-out', crt, '-extfile', ext)
    return key, crt


def ensure(directory):
    """Makes the certificates unless all are there already; servers that
    share a directory take turns (a lock file)."""
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, '.lock'), 'w') as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not all(os.path.exists(os.path.join(directory, f)) for f in FILES):
            _make(directory)


def _make(directory):
    with tempfile.TemporaryDirectory(prefix='kube-test-pki-') as work:
        ca_key, ca_crt = _ca(directory, 'ca', '/CN=llmsbx-test-ca', work)
        _signed(directory, 'server', '/CN=kube-apiserver', 'rsa', ca_key, ca_crt, SERVER_EXT, work)
        _signed(directory, 'client-rsa', '/O=llmsbx:testers/CN=llmsbx-test-rsa', 'rsa',
                ca_key, ca_crt, CLIENT_EXT, work)
        _openssl('pkcs8', '-topk8', '-nocrypt', '-in', os.path.join(directory, 'client-rsa.key'),
                 '-out', os.path.join(directory, 'client-rsa-pkcs8.key'))
        _signed(directory, 'client-ec', '/O=llmsbx:testers/CN=llmsbx-test-ec', 'ec',
                ca_key, ca_crt, CLIENT_EXT, work)
        bad_key, bad_crt = _ca(directory, 'untrusted-ca', '/CN=not-the-cluster-ca', work)
        _signed(directory, 'untrusted-client', '/CN=llmsbx-test-untrusted', 'ec',
                bad_key, bad_crt, CLIENT_EXT, work)
        os.remove(bad_key)
        for name in os.listdir(directory):
            if name.endswith('.key'):
                os.chmod(os.path.join(directory, name), 0o600)
            if name.endswith('.srl'):
                os.remove(os.path.join(directory, name))
