# llmsbxtest.py: shared helpers of the Python tests run through the typelib.
import base64
import hashlib
import os
import shutil
import subprocess
import unittest
import zipfile

import gi

gi.require_version('Llmsbx', '1.0')
from gi.repository import GLib, Llmsbx  # noqa: E402

IMAGE = 'llmsbx/python:bookworm'


def container_exists(container_id):
    """Whether the engine still knows the container (asked with the docker CLI)."""
    docker = shutil.which('docker')
    if docker is None:
        raise AssertionError('the docker command is needed to check that sandboxes are removed')
    inspected = subprocess.run([docker, 'container', 'inspect', container_id],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return inspected.returncode == 0


class SessionTestCase(unittest.TestCase):
    """Every session made with new_session() is closed after the test, and
    the test fails if its container survived the close."""

    def new_session(self, **properties):
        session = Llmsbx.SandboxSession(**properties)
        self.addCleanup(self._close_and_check, session)
        return session

    def _close_and_check(self, session):
        container_id = session.get_container_id()
        session.close()
        self.assertFalse(session.get_is_open())
        if container_id:
            self.assertFalse(container_exists(container_id),
                             'container %s was left behind' % container_id)

    def assertLlmsbxError(self, code):
        """Context manager: the block raises GLib.Error with LLMSBX_ERROR @code."""
        return _RaisesLlmsbxError(self, code)


class _RaisesLlmsbxError:
    def __init__(self, test, code):
        self._test = test
        self._code = code
        self.exception = None

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, traceback):
        if exc_type is None:
            self._test.fail('no GLib.Error %s was raised' % self._code.value_nick)
        if not issubclass(exc_type, GLib.Error):
            return False
        self._test.assertTrue(exc.matches(Llmsbx.error_quark(), self._code),
                              'expected %s, got %s (%d): %s'
                              % (self._code.value_nick, exc.domain, exc.code, exc.message))
        self.exception = exc
        return True


def build_wheel(directory, name, version, source):
    """Writes a pure-Python wheel with one module, `name`, holding `source`,
    as pip expects it (METADATA, WHEEL, RECORD with hashes); no setuptools,
    no network. Returns its path."""
    dist_info = '%s-%s.dist-info' % (name, version)
    files = {
        '%s/__init__.py' % name: source,
        dist_info + '/METADATA': 'Metadata-Version: 2.1\nName: %s\nVersion: %s\n' % (name, version),
        dist_info + '/WHEEL': ('Wheel-Version: 1.0\nGenerator: llmsbx-tests\n'
                               'Root-Is-Purelib: true\nTag: py3-none-any\n'),
    }
    record = []
    for path, text in files.items():
        data = text.encode()
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b'=').decode()
        record.append('%s,sha256=%s,%d' % (path, digest, len(data)))
    record.append(dist_info + '/RECORD,,')
    files[dist_info + '/RECORD'] = '\n'.join(record) + '\n'

    path = os.path.join(directory, '%s-%s-py3-none-any.whl' % (name, version))
    with zipfile.ZipFile(path, 'w', zipfile.ZIP_DEFLATED) as wheel:
        for member, text in files.items():
            wheel.writestr(member, text)
    return path
