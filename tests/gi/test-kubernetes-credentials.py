# test-kubernetes-credentials.py: credentials that change under a session
# (a rotated service-account token file, an exec plugin's credential that
# expires), against the test API server of tests/kubernetes, through GI.
import json
import os
import shutil
import sys
import tempfile
import threading
import time
import unittest

from llmsbxtest import GLib, Llmsbx

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'kubernetes'))
import kubetest  # noqa: E402
from kubeserver.requestlog import fingerprint  # noqa: E402

# The plugin's credential is refreshed this long before it expires
# (REFRESH_MARGIN_USEC in llmsbx-kube-config.c).
REFRESH_MARGIN = 10


def sent_token(entry):
    return entry['headers'].get('Authorization', '')


class KubernetesCredentialsTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.server = kubetest.Server(mode='tls-token')
        os.environ.pop('KUBECONFIG', None)

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def tearDown(self):
        # The next test starts from a token the server's files hold.
        self.server.rotate_token()

    # The exec path unless asked: every run is one exec request, so the
    # requests a rotation costs can be counted (the resident runner's start,
    # in a session's second run, would add its own).
    def explicit_session(self, code_runner=Llmsbx.CodeRunnerMode.EXEC):
        settings = GLib.Variant('a{sv}', {
            'server': GLib.Variant('s', self.server.url),
            'token-file': GLib.Variant('s', self.server.info['token_file']),
            'ca-file': GLib.Variant('s', self.server.info['ca']),
        })
        return Llmsbx.SandboxSession(lang='python', backend='kubernetes', backend_settings=settings,
                                     code_runner=code_runner)

    def kubeconfig_session(self, name, context):
        settings = GLib.Variant('a{sv}', {
            'kubeconfig': GLib.Variant('s', os.path.join(self.server.state, name)),
            'context': GLib.Variant('s', context),
        })
        return Llmsbx.SandboxSession(lang='python', backend='kubernetes', backend_settings=settings,
                                     code_runner=Llmsbx.CodeRunnerMode.EXEC)

    def done_requests(self, since):
        """The API requests logged after @since, once the server finished them."""
        deadline = time.monotonic() + 10
        while True:
            entries = [e for e in self.server.log(since) if 'method' in e]
            if all(e.get('done') for e in entries) or time.monotonic() > deadline:
                return entries
            time.sleep(0.05)

    def assert_rotation_survived(self, session):
        """The old token is revoked and the file holds the new one: the next
        request gets one 401, the file is read again, the request goes again."""
        self.assertEqual(session.run('print(1)').stdout, '1\n')
        old = fingerprint(self.server.token)
        since = self.server.last_seq()
        rotated = self.server.rotate_token(revoke=True)
        self.assertEqual(rotated['old_token'], old)
        for i in range(3):
            result = session.run('print(%d)' % (i + 2))
            self.assertEqual(result.exit_code, 0, result.stderr)
            self.assertEqual(result.stdout, '%d\n' % (i + 2))
        entries = self.done_requests(since)
        refused = [e for e in entries if e.get('status') == 401]
        self.assertEqual(len(refused), 1, json.dumps(entries, indent=1))
        self.assertIn(old, sent_token(refused[0]))
        after = entries[entries.index(refused[0]) + 1:]
        self.assertTrue(after)
        self.assertEqual(after[0]['path'], refused[0]['path'])
        for entry in after:
            self.assertIn(rotated['token'], sent_token(entry), entry['path'])
            self.assertLess(entry['status'], 400, entry)

    def test_token_file_setting_rotated(self):
        with self.explicit_session() as session:
            self.assert_rotation_survived(session)

    def test_kubeconfig_token_file_rotated(self):
        # kubeconfig-files: users[].user.tokenFile, relative to the file.
        with self.kubeconfig_session('kubeconfig-files', 'llmsbx-test') as session:
            self.assert_rotation_survived(session)

    def test_in_cluster_service_account_rotated(self):
        # No kubeconfig anywhere: the pod's service account, whose token the
        # kubelet rotates (here a link to the server's token file).
        account = tempfile.mkdtemp(prefix='serviceaccount-', dir=kubetest._WORK)
        os.symlink(self.server.info['token_file'], os.path.join(account, 'token'))
        shutil.copy(self.server.info['ca'], os.path.join(account, 'ca.crt'))
        with open(os.path.join(account, 'namespace'), 'w') as f:
            f.write('sandbox-tests')
        environment = {'KUBECONFIG': os.path.join(account, 'no-kubeconfig'),
                       'HOME': account,
                       'KUBERNETES_SERVICE_HOST': '127.0.0.1',
                       'KUBERNETES_SERVICE_PORT': str(self.server.info['port']),
                       'LLMSBX_KUBE_SERVICEACCOUNT_DIR': account}
        saved = {k: os.environ.get(k) for k in environment}
        os.environ.update(environment)

        def restore():
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
        self.addCleanup(restore)
        since = self.server.last_seq()
        with Llmsbx.SandboxSession(lang='python', backend='kubernetes',
                                   code_runner=Llmsbx.CodeRunnerMode.EXEC) as session:
            self.assertIn('/namespaces/sandbox-tests/', [e['path'] for e in self.server.log(since)
                                                         if e.get('method') == 'POST'][0])
            self.assert_rotation_survived(session)

    def test_second_401_names_the_credentials(self):
        with self.explicit_session() as session:
            self.assertEqual(session.run('print(1)').stdout, '1\n')
            since = self.server.last_seq()
            # The server moves to a token the file never gets.
            self.server.rotate_token(revoke=True, write_file=False)
            with self.assertRaises(GLib.Error) as raised:
                session.run('print(2)')
            message = raised.exception.message
            self.assertIn('401', message)
            self.assertIn('the bearer token from %s' % self.server.info['token_file'], message)
            self.assertIn('read again after a first 401', message)
            self.assertNotIn(self.server.token, message)
            refused = [e for e in self.done_requests(since) if e.get('status') == 401]
            # Once, then once more after reading the file again; no loop.
            self.assertEqual(len(refused), 2, refused)
            # The file catches up: the same session works again.
            with open(self.server.info['token_file'], 'w') as f:
                f.write(self.server.token)
            self.assertEqual(session.run('print(3)').stdout, '3\n')

    def test_static_token_401_is_final(self):
        static = self.server.token
        settings = GLib.Variant('a{sv}', {
            'server': GLib.Variant('s', self.server.url),
            'token': GLib.Variant('s', static),
            'ca-file': GLib.Variant('s', self.server.info['ca']),
        })
        with Llmsbx.SandboxSession(lang='python', backend='kubernetes', backend_settings=settings,
                                   code_runner=Llmsbx.CodeRunnerMode.EXEC) as session:
            self.assertEqual(session.run('print(1)').stdout, '1\n')
            since = self.server.last_seq()
            self.server.rotate_token(revoke=True)
            with self.assertRaises(GLib.Error) as raised:
                session.run('print(2)')
            self.assertIn('the credentials sent were the bearer token', raised.exception.message)
            self.assertNotIn('read again', raised.exception.message)
            refused = [e for e in self.done_requests(since) if e.get('status') == 401]
            self.assertEqual(len(refused), 1, refused)
            # The server takes the token again, so that the session can close.
            self.server.admin_call('POST', '/rotate-token', {'token': static})
            self.server.token = static

    def test_resident_runner_rotated(self):
        # The runner's stream, opened before, goes on; the next new request
        # (an exec of its own) reads the file again on its 401.
        with self.explicit_session(Llmsbx.CodeRunnerMode.RESIDENT) as session:
            self.assertEqual(session.run('print(1)').stdout, '1\n')
            since = self.server.last_seq()
            rotated = self.server.rotate_token(revoke=True)
            self.assertEqual(session.run('print(2)').stdout, '2\n')
            self.assertEqual(session.execute_command('echo 3').stdout, '3\n')
            self.assertEqual(session.run('print(4)').stdout, '4\n')
            entries = self.done_requests(since)
            self.assertEqual([e['status'] for e in entries], [401, 101], entries)
            self.assertIn(rotated['token'], sent_token(entries[1]))

    def plugin_calls(self):
        path = os.path.join(self.server.state, 'credential-plugin.calls')
        if not os.path.exists(path):
            return []
        with open(path) as f:
            return [json.loads(line) for line in f]

    def test_exec_plugin_rerun_before_expiry(self):
        ttl_file = os.path.join(self.server.state, 'credential-plugin.ttl')
        ttl = REFRESH_MARGIN + 6
        with open(ttl_file, 'w') as f:
            f.write(str(ttl))
        self.addCleanup(os.unlink, ttl_file)
        before = len(self.plugin_calls())
        with self.kubeconfig_session('kubeconfig', 'llmsbx-test-exec') as session:
            self.assertEqual(session.run('print(1)').stdout, '1\n')
            calls = self.plugin_calls()[before:]
            self.assertTrue(calls)
            last = calls[-1]['time']
            since = self.server.last_seq()
            # Revoked at once: a request with the old credential would be 401.
            rotated = self.server.rotate_token(revoke=True)
            # Past the refresh margin of the last credential (its expiry is
            # written to the second, so one more second).
            wait = last + ttl - REFRESH_MARGIN + 1.5 - time.time()
            if wait > 0:
                time.sleep(wait)
            result = session.run('print(2)')
            self.assertEqual(result.exit_code, 0, result.stderr)
            self.assertEqual(result.stdout, '2\n')
            self.assertGreater(len(self.plugin_calls()[before:]), len(calls))
            entries = self.done_requests(since)
            self.assertTrue(entries)
            # Refreshed before the request: no 401 at all.
            self.assertEqual([e for e in entries if e.get('status') == 401], [])
            for entry in entries:
                self.assertIn(rotated['token'], sent_token(entry))

    def test_exec_plugin_rerun_on_401(self):
        before = len(self.plugin_calls())
        with self.kubeconfig_session('kubeconfig', 'llmsbx-test-exec') as session:
            self.assertEqual(session.run('print(1)').stdout, '1\n')
            opened = len(self.plugin_calls()[before:])
            self.assertEqual(opened, 1)
            since = self.server.last_seq()
            self.server.rotate_token(revoke=True)
            self.assertEqual(session.run('print(2)').stdout, '2\n')
            self.assertEqual(len(self.plugin_calls()[before:]), 2)
            refused = [e for e in self.done_requests(since) if e.get('status') == 401]
            self.assertEqual(len(refused), 1, refused)


    def test_concurrent_401s_refresh_once(self):
        # Sessions on one backend share its client: the requests a revoked
        # credential failed at once make one plugin run, not one each.
        backend = Llmsbx.Registry.get_default().create_backend('kubernetes')
        backend.apply_settings(GLib.Variant('a{sv}', {
            'kubeconfig': GLib.Variant('s', os.path.join(self.server.state, 'kubeconfig')),
            'context': GLib.Variant('s', 'llmsbx-test-exec'),
        }))
        sessions = [Llmsbx.SandboxSession(lang='python', backend='kubernetes', client=backend,
                                          code_runner=Llmsbx.CodeRunnerMode.EXEC) for _ in range(4)]
        for session in sessions:
            session.open()
            self.addCleanup(session.close)
        before = len(self.plugin_calls())
        since = self.server.last_seq()
        self.server.rotate_token(revoke=True)
        results = [None] * len(sessions)

        def run(i):
            results[i] = sessions[i].run('print(%d)' % i).stdout
        threads = [threading.Thread(target=run, args=(i,)) for i in range(len(sessions))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        self.assertEqual(results, ['%d\n' % i for i in range(len(sessions))])
        self.assertEqual(len(self.plugin_calls()) - before, 1)
        refused = [e for e in self.done_requests(since) if e.get('status') == 401]
        self.assertGreaterEqual(len(refused), 1)
        self.assertLessEqual(len(refused), len(sessions))


if __name__ == '__main__':
    unittest.main(verbosity=2)
