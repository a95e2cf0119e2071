# test-asyncio.py: Llmsbx.AsyncSandboxSession: async with, awaitable run,
# commands, installs and copies; ten sessions gathered; the library's
# exceptions from awaited calls; cancelling a task kills what its run
# started and leaves the session usable; errors of the GLib-style
# _async/_finish pairs are typed too.
import asyncio
import os
import shutil
import subprocess
import tempfile
import unittest

from llmsbxtest import GLib, Llmsbx, build_wheel, container_exists


def docker(*args):
    return subprocess.run([shutil.which('docker')] + list(args), stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True)


class AsyncioTest(unittest.TestCase):

    def run_async(self, coroutine):
        return asyncio.run(asyncio.wait_for(coroutine, 240))

    def test_async_with(self):
        tmp = tempfile.mkdtemp(prefix='llmsbx-asyncio-')
        self.addCleanup(shutil.rmtree, tmp)
        with open(os.path.join(tmp, 'in.txt'), 'w') as f:
            f.write('from the host\n')
        wheel = build_wheel(tmp, 'demo', '1.0', 'def answer():\n    return 42\n')

        async def body():
            chunks = []
            async with Llmsbx.AsyncSandboxSession(lang='python') as session:
                self.assertTrue(session.get_is_open())
                result = await session.run('print(6*7)', on_stdout=chunks.append)
                self.assertEqual((result.stdout, result.exit_code), ('42\n', 0))
                result = await session.execute_command('echo hi; exit 3')
                self.assertEqual((result.stdout, result.exit_code), ('hi\n', 3))
                result = await session.execute_argv(['echo', 'a b; c'])
                self.assertEqual(result.stdout, 'a b; c\n')
                await session.copy_to_runtime(os.path.join(tmp, 'in.txt'), '/sandbox/in.txt')
                await session.copy_to_runtime(wheel, '/sandbox/demo-1.0-py3-none-any.whl')
                await session.install(['/sandbox/demo-1.0-py3-none-any.whl'])
                result = await session.run("import demo\nprint(open('in.txt').read().strip(), demo.answer())")
                self.assertEqual(result.stdout, 'from the host 42\n', result.stderr)
                await session.execute_command('echo back > /sandbox/out.txt')
                await session.copy_from_runtime('/sandbox/out.txt', os.path.join(tmp, 'out.txt'))
                container = session.get_container_id()
            return chunks, container, session

        chunks, container, session = self.run_async(body())
        self.assertEqual(''.join(chunks), '42\n')
        with open(os.path.join(tmp, 'out.txt')) as f:
            self.assertEqual(f.read(), 'back\n')
        self.assertFalse(session.get_is_open())
        self.assertFalse(container_exists(container))

    def test_ten_sessions_gathered(self):
        async def body():
            sessions = [Llmsbx.AsyncSandboxSession(lang='python', skip_environment_setup=True)
                        for _ in range(10)]
            await asyncio.gather(*(session.open() for session in sessions))
            try:
                results = await asyncio.gather(*(session.run('print(%d * 2)' % index)
                                                 for index, session in enumerate(sessions)))
                containers = {session.get_container_id() for session in sessions}
            finally:
                await asyncio.gather(*(session.close() for session in sessions))
            return results, containers

        results, containers = self.run_async(body())
        self.assertEqual([result.stdout for result in results], ['%d\n' % (index * 2) for index in range(10)])
        self.assertEqual(len(containers), 10)
        for container in containers:
            self.assertFalse(container_exists(container))

    def test_errors(self):
        async def body():
            async with Llmsbx.AsyncSandboxSession(lang='python') as session:
                with self.assertRaises(Llmsbx.SandboxTimeoutError) as raised:
                    await session.run('import time; time.sleep(10)', timeout=1.0)
                self.assertIsInstance(raised.exception, GLib.Error)
                self.assertTrue(raised.exception.matches(Llmsbx.error_quark(), Llmsbx.Error.TIMEOUT))
                self.assertEqual(raised.exception.timeout_duration, 1.0)
                with self.assertRaises(Llmsbx.CommandEmptyError):
                    await session.execute_command('')
                with self.assertRaises(Llmsbx.SandboxFileNotFoundError):
                    await session.copy_from_runtime('/sandbox/missing', tempfile.gettempdir() + '/never')
                self.assertEqual((await session.run('print(1)')).stdout, '1\n')

            with self.assertRaises(Llmsbx.LanguageNotSupportedError):
                async with Llmsbx.AsyncSandboxSession(lang='cobol'):
                    pass
            with self.assertRaises(Llmsbx.NotOpenSessionError):
                await Llmsbx.AsyncSandboxSession(lang='python').run('print(1)')

        self.run_async(body())

    def test_cancel_kills_the_run(self):
        async def body():
            async with Llmsbx.AsyncSandboxSession(lang='python') as session:
                container = session.get_container_id()
                task = asyncio.ensure_future(session.run(
                    "import os, time\nopen('/sandbox/pid', 'w').write(str(os.getpid()))\ntime.sleep(120)"))
                pid = None
                for _ in range(300):
                    await asyncio.sleep(0.1)
                    read = docker('exec', container, 'cat', '/sandbox/pid')
                    if read.returncode == 0 and read.stdout:
                        pid = read.stdout.strip()
                        break
                self.assertIsNotNone(pid, 'the run never started')
                self.assertEqual(docker('exec', container, 'test', '-d', '/proc/' + pid).returncode, 0)
                task.cancel()
                with self.assertRaises(asyncio.CancelledError):
                    await task
                # The task ends only once the run has: what it started is gone.
                self.assertNotEqual(docker('exec', container, 'test', '-d', '/proc/' + pid).returncode, 0)
                self.assertEqual((await session.run('print("still usable")')).stdout, 'still usable\n')

        self.run_async(body())

    def test_glib_style_finish_is_typed(self):
        loop = GLib.MainLoop()
        outcome = {}

        def done(session, result):
            try:
                session.run_finish(result)
            except GLib.Error as error:
                outcome['error'] = error
            loop.quit()

        with Llmsbx.SandboxSession(lang='python', execution_timeout=1.0) as session:
            session.run_async('import time; time.sleep(5)', None, 0, None, done)
            loop.run()
        self.assertIsInstance(outcome['error'], Llmsbx.SandboxTimeoutError)


if __name__ == '__main__':
    unittest.main(verbosity=2)
