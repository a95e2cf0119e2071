# test-guide-timeouts.py: the guide's "Timeout Configuration" examples run as
# written, with only their import lines changed (examples that use names
# imported by an earlier one get that import line).
import unittest

import guide
from llmsbxtest import GLib, Llmsbx

PRELUDE = '''
from llm_sandbox import SandboxSession
from llm_sandbox.exceptions import SandboxTimeoutError
'''


class GuideTimeoutsTest(unittest.TestCase):

    def test_basic_timeout_configuration(self):
        namespace, _ = guide.run('''
            from llm_sandbox import SandboxSession

            # Configure timeouts at session creation
            with SandboxSession(
                lang="python",
                default_timeout=30.0,      # Default timeout for operations
                execution_timeout=60.0,    # Timeout for code execution
                session_timeout=300.0,     # Session expires after 5 minutes
                verbose=True
            ) as session:
                # Fast operation - should complete
                result = session.run("""
            print("Hello, World!")
            import time
            time.sleep(2)
            print("Operation completed")
                """)
        ''')
        self.assertEqual(namespace['result'].stdout, 'Hello, World!\nOperation completed\n')

    def test_per_execution_timeout_override(self):
        namespace, out = guide.run(PRELUDE, '''
            with SandboxSession(lang="python", execution_timeout=10.0) as session:
                # This will use the session's execution_timeout (10 seconds)
                result1 = session.run("print('Normal execution')")

                # Override with a longer timeout for this specific execution
                result2 = session.run("""
            import time
            time.sleep(15)  # This needs more time
            print("Long operation completed")
                """, timeout=20.0)  # Override with 20 seconds

                # Override with a shorter timeout
                try:
                    session.run("""
            import time
            time.sleep(5)
            print("This might timeout")
                    """, timeout=2.0)  # Override with 2 seconds
                except SandboxTimeoutError:
                    print("Operation timed out as expected")
        ''')
        self.assertEqual(namespace['result1'].stdout, 'Normal execution\n')
        self.assertEqual(namespace['result2'].stdout, 'Long operation completed\n')
        self.assertEqual(out, 'Operation timed out as expected\n')

    def test_timeout_error_handling(self):
        # Each attempt sleeps 5 to 15 s under a 10 s timeout: it completes, or
        # every attempt times out and the last timeout is re-raised.
        namespace, out = guide.run('''
            from llm_sandbox import SandboxSession
            from llm_sandbox.exceptions import SandboxTimeoutError

            def execute_with_retry(session, code, max_retries=3):
                """Execute code with automatic retry on timeout."""
                for attempt in range(max_retries):
                    try:
                        return session.run(code, timeout=10.0)
                    except SandboxTimeoutError:
                        print(f"Attempt {attempt + 1} timed out")
                        if attempt == max_retries - 1:
                            raise
                        print("Retrying...")

            # Usage example
            with SandboxSession(lang="python") as session:
                try:
                    result = execute_with_retry(session, """
            import time
            import random
            time.sleep(random.uniform(5, 15))  # Variable execution time
            print("Completed!")
                    """)
                    print(result.stdout)
                except SandboxTimeoutError:
                    print("All retry attempts failed")
        ''')
        lines = out.splitlines()
        if lines[-1] == 'All retry attempts failed':
            self.assertEqual(lines, ['Attempt 1 timed out', 'Retrying...', 'Attempt 2 timed out', 'Retrying...',
                                     'Attempt 3 timed out', 'All retry attempts failed'])
        else:
            self.assertEqual(lines[-2:], ['Completed!', ''])
            for line in lines[:-2]:
                self.assertIn(line, ('Retrying...', 'Attempt 1 timed out', 'Attempt 2 timed out'))

    def test_infinite_loop_protection(self):
        _, out = guide.run(PRELUDE, '''
            with SandboxSession(lang="python", execution_timeout=5.0) as session:
                try:
                    session.run("""
            # This infinite loop will be terminated
            i = 0
            while True:
                i += 1
                if i % 100000 == 0:
                    print(f"Iteration: {i}")
                    """)
                except SandboxTimeoutError:
                    print("Infinite loop was terminated by timeout")
        ''')
        self.assertEqual(out, 'Infinite loop was terminated by timeout\n')

    def test_timeout_error_is_a_glib_error(self):
        with Llmsbx.SandboxSession(lang='python', execution_timeout=1.0) as session:
            with self.assertRaises(GLib.Error) as raised:
                session.run('import time; time.sleep(5)')
            error = raised.exception
            self.assertIsInstance(error, Llmsbx.SandboxTimeoutError)
            self.assertIsInstance(error, Llmsbx.SandboxError)
            self.assertTrue(error.matches(Llmsbx.error_quark(), Llmsbx.Error.TIMEOUT))
            self.assertEqual(error.timeout_duration, 1.0)
            # And the session is still usable.
            self.assertEqual(session.run('print(1)').stdout, '1\n')


if __name__ == '__main__':
    unittest.main(verbosity=2)
