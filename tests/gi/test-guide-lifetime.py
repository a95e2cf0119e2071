# test-guide-lifetime.py: the guide's "Session Lifetime Management" example,
# run as written (70 s of sleeping) with only its import lines changed: the
# expired session raises SessionExpiredError, a SandboxTimeoutError.
import unittest

import guide
from llmsbxtest import Llmsbx


class GuideLifetimeTest(unittest.TestCase):

    def test_session_lifetime_management(self):
        namespace, out = guide.run('''
            from llm_sandbox import SandboxSession
            from llm_sandbox.exceptions import SandboxTimeoutError
            import time

            # Session that automatically expires
            with SandboxSession(
                lang="python",
                session_timeout=60.0  # Session expires after 1 minute
            ) as session:

                # This will work
                session.run("print('First execution')")

                # Wait and try again
                time.sleep(30)
                session.run("print('Second execution')")

                # This might fail if session has expired
                time.sleep(40)  # Total elapsed: 70 seconds
                try:
                    session.run("print('This might fail')")
                except SandboxTimeoutError:
                    print("Session expired")
        ''')
        self.assertEqual(out, 'Session expired\n')
        self.assertFalse(namespace['session'].get_is_open())
        with self.assertRaises(Llmsbx.SessionExpiredError) as raised:
            with Llmsbx.SandboxSession(lang='python', session_timeout=1.0) as session:
                import time
                time.sleep(2)
                session.run('print(1)')
        self.assertEqual(raised.exception.timeout_duration, 1.0)
        self.assertTrue(raised.exception.matches(Llmsbx.error_quark(), Llmsbx.Error.SESSION_EXPIRED))


if __name__ == '__main__':
    unittest.main(verbosity=2)
