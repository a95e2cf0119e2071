# test-session.py: a whole Python session through the typelib and the overrides.
import os
import tempfile
import unittest

from llmsbxtest import IMAGE, Llmsbx, SessionTestCase, container_exists


class SessionTest(SessionTestCase):

    def test_context_manager_runs_code(self):
        with Llmsbx.SandboxSession(lang='python') as session:
            self.assertTrue(session.get_is_open())
            container_id = session.get_container_id()
            result = session.run('print(6*7)')
        self.assertFalse(session.get_is_open())
        self.assertFalse(container_exists(container_id))
        self.assertEqual(result.stdout, '42\n')
        self.assertEqual(result.stderr, '')
        self.assertEqual(result.exit_code, 0)
        self.assertTrue(result.success())
        self.assertEqual(result.stdout_bytes, b'42\n')
        self.assertFalse(result.truncated)
        self.assertGreater(result.duration, 0)
        self.assertEqual(result.props.stdout, result.stdout)

    def test_results(self):
        session = self.new_session(lang='python')
        session.open()

        result = session.run("import sys\nprint('out')\nprint('err', file=sys.stderr)")
        self.assertEqual((result.stdout, result.stderr, result.exit_code), ('out\n', 'err\n', 0))

        result = session.run('import sys; sys.exit(3)')
        self.assertEqual(result.exit_code, 3)
        self.assertFalse(result.success())

        result = session.run("raise ValueError('boom')")
        self.assertEqual(result.exit_code, 1)
        self.assertIn('ValueError: boom', result.stderr)

        result = session.run("import sys; sys.stdout.buffer.write(b'\\xff\\x00\\n')")
        self.assertEqual(result.stdout_bytes, b'\xff\x00\n')

    def test_execute_command(self):
        session = self.new_session(lang='python')
        session.open()
        result = session.execute_command('echo hi; pwd')
        self.assertEqual(result.stdout, 'hi\n/sandbox\n')
        self.assertEqual(session.execute_command('pwd', workdir='/tmp').stdout, '/tmp\n')
        self.assertEqual(session.execute_command('exit 5').exit_code, 5)
        self.assertEqual(session.execute_argv(['echo', 'a b; c']).stdout, 'a b; c\n')

    def test_copy_round_trip(self):
        session = self.new_session(lang='python')
        session.open()
        with tempfile.TemporaryDirectory() as host:
            source = os.path.join(host, 'in.txt')
            with open(source, 'w') as f:
                f.write('data from the host\n')
            session.copy_to_runtime(source, '/sandbox/data/in.txt')
            result = session.run("print(open('/sandbox/data/in.txt').read().upper(), end='')\n"
                                 "open('/sandbox/data/out.txt', 'w').write('made inside')")
            self.assertEqual(result.stdout, 'DATA FROM THE HOST\n')
            destination = os.path.join(host, 'back', 'out.txt')
            os.makedirs(os.path.dirname(destination))
            session.copy_from_runtime('/sandbox/data/out.txt', destination)
            with open(destination) as f:
                self.assertEqual(f.read(), 'made inside')

    def test_exception_in_with_block_closes(self):
        session = Llmsbx.SandboxSession(lang='python')
        with self.assertRaises(RuntimeError):
            with session:
                container_id = session.get_container_id()
                raise RuntimeError('stop')
        self.assertFalse(session.get_is_open())
        self.assertFalse(container_exists(container_id))

    def test_failed_open_in_with(self):
        session = Llmsbx.SandboxSession(lang='python', image='llmsbx/no-such-image:never')
        with self.assertLlmsbxError(Llmsbx.Error.IMAGE_NOT_FOUND):
            with session:
                self.fail('the body ran although open() failed')
        self.assertFalse(session.get_is_open())

    def test_not_open(self):
        session = Llmsbx.SandboxSession(lang='python')
        with self.assertLlmsbxError(Llmsbx.Error.NOT_OPEN):
            session.run('print(1)')

    def test_libraries_must_be_a_list(self):
        session = Llmsbx.SandboxSession(lang='python')
        with self.assertRaises(TypeError):
            session.run('print(1)', libraries='numpy')

    def test_runtime_configs_from_dict(self):
        configs = {
            'mem_limit': '512m',
            'cpu_count': 1,
            'read_only': False,
            'cpu_ratio': 0.5,
            'environment': {'A': '1'},
            'cap_drop': ['ALL'],
            'empty': [],
            'mixed': [1, 'a', {'k': True}],
        }
        session = Llmsbx.SandboxSession(lang='python', runtime_configs=configs)
        stored = session.get_runtime_configs()
        self.assertEqual(stored.get_type_string(), 'a{sv}')
        self.assertEqual(stored.unpack(), configs)
        types = {key: stored.lookup_value(key, None).get_type_string() for key in configs}
        self.assertEqual(types, {'mem_limit': 's', 'cpu_count': 'x', 'read_only': 'b',
                                 'cpu_ratio': 'd', 'environment': 'a{sv}', 'cap_drop': 'as',
                                 'empty': 'as', 'mixed': 'av'})

        session.set_runtime_configs({'user': 'nobody'})
        self.assertEqual(session.props.runtime_configs.unpack(), {'user': 'nobody'})

        with self.assertRaises(TypeError):
            Llmsbx.SandboxSession(lang='python', runtime_configs={'x': None})
        with self.assertRaises(TypeError):
            Llmsbx.SandboxSession(lang='python', runtime_configs={1: 'x'})

    def test_runtime_configs_reach_the_sandbox(self):
        session = self.new_session(lang='python', image=IMAGE,
                                   runtime_configs={'environment': {'LLMSBX_TEST': 'from-python'}})
        session.open()
        result = session.run("import os; print(os.environ.get('LLMSBX_TEST'))")
        self.assertEqual(result.stdout, 'from-python\n')


if __name__ == '__main__':
    unittest.main(verbosity=2)
