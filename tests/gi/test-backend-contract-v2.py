# test-backend-contract-v2.py: what contract v2 gives a binding, through GI:
# a backend's declared settings applied from a dict of variants, the
# session's backend-settings, and an attached exec stream on a session's
# sandbox (input, its end, output by stream, the exit status).
import unittest

from llmsbxtest import GLib, Llmsbx, SessionTestCase


class BackendContractV2Test(SessionTestCase):
    def test_settings(self):
        backend = Llmsbx.Registry.get_default().create_backend('docker')
        names = [spec.name for spec in backend.list_settings()]
        self.assertEqual(names, ['url', 'tls-ca-file', 'tls-cert-file', 'tls-key-file', 'tls-verify',
                                 'connect-timeout', 'request-timeout'])
        backend.apply_settings(GLib.Variant('a{sv}', {'connect-timeout': GLib.Variant('s', '7.5'),
                                                      'tls-verify': GLib.Variant('b', False)}))
        self.assertEqual(backend.get_setting_double('connect-timeout'), 7.5)
        self.assertEqual(backend.props.connect_timeout, 7.5)
        self.assertFalse(backend.get_tls_verify())

        session = self.new_session(lang='python', backend='docker',
                                   backend_settings=GLib.Variant('a{sv}', {'context': GLib.Variant('s', 'x')}))
        with self.assertLlmsbxError(Llmsbx.Error.INVALID_ARGUMENT) as raised:
            session.open()
        self.assertIn("The docker backend has no setting 'context'", raised.exception.message)

    def test_exec_stream(self):
        session = self.new_session(lang='python', backend='docker', skip_environment_setup=True)
        session.open()
        backend = Llmsbx.Registry.get_default().create_backend('docker')
        request = Llmsbx.ExecRequest.new(['sh', '-c', 'read -r x; echo "out $x"; echo "err $x" >&2; exit 4'])
        stream = backend.open_exec_stream(session.get_container_id(), request, None)
        stream.write_stdin(GLib.Bytes.new(b'hi\n'), None)
        stream.close_stdin(None)
        seen = {Llmsbx.OutputStream.STDOUT: b'', Llmsbx.OutputStream.STDERR: b''}
        while True:
            chunk, which = stream.read(None)
            if chunk is None:
                break
            seen[which] += chunk.get_data()
        self.assertEqual(seen[Llmsbx.OutputStream.STDOUT], b'out hi\n')
        self.assertEqual(seen[Llmsbx.OutputStream.STDERR], b'err hi\n')
        ok, status = stream.wait(None)
        self.assertTrue(ok)
        self.assertEqual(status, 4)
        stream.close()
        self.assertTrue(stream.is_closed())


if __name__ == '__main__':
    unittest.main()
