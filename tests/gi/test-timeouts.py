# test-timeouts.py: the guide's "Timeout Configuration" examples, through GI.
#
# The guide's SandboxTimeoutError is a GLib.Error with Llmsbx.Error.TIMEOUT
# here; an expired session raises Llmsbx.Error.SESSION_EXPIRED. Sleeps are the
# guide's, except where a shorter one makes the same point (the session
# lifetime takes 3 s instead of 60, the large computation 10**7 steps).
import time
import unittest

from llmsbxtest import GLib, Llmsbx, SessionTestCase, container_exists


def is_timeout(error):
    return error.matches(Llmsbx.error_quark(), Llmsbx.Error.TIMEOUT)


def execute_with_retry(session, code, max_retries=3):
    """Execute code with automatic retry on timeout (the guide's helper)."""
    for attempt in range(max_retries):
        try:
            return session.run(code, timeout=10.0)
        except GLib.Error as error:
            if not is_timeout(error):
                raise
            print(f"Attempt {attempt + 1} timed out")
            if attempt == max_retries - 1:
                raise
            print("Retrying...")


# Slow the first time it runs in a sandbox, quick afterwards: the guide's
# random duration, made deterministic.
SLOW_THEN_FAST = """
import os, time
if not os.path.exists('/tmp/attempted'):
    open('/tmp/attempted', 'w').close()
    time.sleep(15)
else:
    time.sleep(1)
print("Completed!")
"""

# Lists the processes that still run a code file of the session (the pattern
# is put together at run time, or this script would find itself).
LEFTOVERS = ("p=code; p=$p-; for d in /proc/[0-9]*; do c=$(tr '\\0' ' ' < $d/cmdline 2>/dev/null); "
             "case \"$c\" in *python3*\"$p\"*) echo \"$c\";; esac; done; true")


class TimeoutTest(SessionTestCase):

    def test_basic_timeout_configuration(self):
        with Llmsbx.SandboxSession(
            lang="python",
            default_timeout=30.0,
            execution_timeout=60.0,
            session_timeout=300.0,
            verbose=True,
        ) as session:
            result = session.run("""
print("Hello, World!")
import time
time.sleep(2)
print("Operation completed")
            """)
        self.assertEqual(result.stdout, "Hello, World!\nOperation completed\n")
        self.assertEqual(session.props.default_timeout, 30.0)
        self.assertEqual(session.props.execution_timeout, 60.0)
        self.assertEqual(session.props.session_timeout, 300.0)

    def test_defaults(self):
        session = Llmsbx.SandboxSession(lang="python")
        self.assertEqual(session.props.default_timeout, 30.0)
        self.assertEqual(session.props.execution_timeout, 0.0)  # uses default_timeout
        self.assertEqual(session.props.session_timeout, 0.0)    # unlimited

    def test_per_execution_override(self):
        with Llmsbx.SandboxSession(lang="python", execution_timeout=10.0) as session:
            result1 = session.run("print('Normal execution')")
            self.assertEqual(result1.stdout, "Normal execution\n")

            # Longer than the session's 10 s, within the 20 s override.
            result2 = session.run("""
import time
time.sleep(15)  # This needs more time
print("Long operation completed")
            """, timeout=20.0)
            self.assertEqual(result2.stdout, "Long operation completed\n")

            with self.assertLlmsbxError(Llmsbx.Error.TIMEOUT) as raised:
                session.run("""
import time
time.sleep(5)
print("This might timeout")
                """, timeout=2.0)
            self.assertIn("after 2 seconds", raised.exception.message)
            self.assertEqual(raised.exception.timeout_duration, 2.0)

            # The session is still usable after a timeout.
            self.assertEqual(session.run("print('after')").stdout, "after\n")

    def test_retry_helper(self):
        with Llmsbx.SandboxSession(lang="python") as session:
            result = execute_with_retry(session, SLOW_THEN_FAST)
            self.assertEqual(result.stdout, "Completed!\n")

        # With no retry left, the timeout reaches the caller.
        with Llmsbx.SandboxSession(lang="python") as session:
            with self.assertLlmsbxError(Llmsbx.Error.TIMEOUT):
                execute_with_retry(session, SLOW_THEN_FAST, max_retries=1)

    def test_infinite_loop_protection(self):
        with Llmsbx.SandboxSession(lang="python", execution_timeout=5.0) as session:
            printed = []
            with self.assertLlmsbxError(Llmsbx.Error.TIMEOUT) as raised:
                session.run("""
# This infinite loop will be terminated
i = 0
while True:
    i += 1
    if i % 100000 == 0:
        print(f"Iteration: {i}")
                """, on_stdout=printed.append)
            self.assertIn("after 5 seconds", raised.exception.message)
            # The session's execution_timeout is the limit that ran out.
            self.assertEqual(raised.exception.timeout_duration, 5.0)
            # It ran (its output arrived live) and then it was killed.
            self.assertIn("Iteration: 100000\n", "".join(printed))
            self.assertEqual(session.execute_command(LEFTOVERS).stdout, "")
            self.assertEqual(session.run("print('next run')").stdout, "next run\n")

    def test_resource_intensive_operation(self):
        with Llmsbx.SandboxSession(lang="python") as session:
            result = session.run("""
# CPU-intensive operation
total = 0
for i in range(10**7):  # Large computation
    total += i * i
print(f"Result: {total}")
            """, timeout=30.0)  # Give enough time for legitimate computation
        self.assertEqual(result.stdout, "Result: 333333283333335000000\n")

    def test_session_lifetime(self):
        session = Llmsbx.SandboxSession(lang="python", session_timeout=3.0)
        with session:
            container_id = session.get_container_id()
            self.assertEqual(session.run("print('First execution')").stdout, "First execution\n")

            time.sleep(1)
            self.assertEqual(session.run("print('Second execution')").stdout, "Second execution\n")

            time.sleep(3)  # Total elapsed: more than 3 seconds
            with self.assertLlmsbxError(Llmsbx.Error.SESSION_EXPIRED) as raised:
                session.run("print('This might fail')")
            self.assertIn("3 seconds", raised.exception.message)
            self.assertFalse(session.get_is_open())
        self.assertFalse(container_exists(container_id))


if __name__ == "__main__":
    unittest.main(verbosity=2)
