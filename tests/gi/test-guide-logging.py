# test-guide-logging.py: the guide's "Logging Configuration" example run as
# written (only its import line changed): the logger receives the session's
# log, at INFO when verbose (DEBUG otherwise), each record with the session's
# id; and no line of the log, through the logger or GLib's own output at any
# level, holds an environment value from runtime_configs.
import logging
import os
import subprocess
import sys
import unittest

import guide
from llmsbxtest import Llmsbx

SECRET = 'llmsbx-secret-7d1c0f3e'


class Records(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.records = []

    def emit(self, record):
        self.records.append(record)


class GuideLoggingTest(unittest.TestCase):

    def setUp(self):
        self.records = Records()
        logging.getLogger('llm_sandbox').addHandler(self.records)
        self.addCleanup(logging.getLogger('llm_sandbox').removeHandler, self.records)

    def test_logging_configuration(self):
        guide.run('''
            import logging

            # Configure logging
            logging.basicConfig(
                level=logging.DEBUG,
                format='%(asctime)s - %(name)s - %(levelname)s - %(message)s'
            )

            # Create logger
            logger = logging.getLogger('llm_sandbox')

            # Use custom logger
            with SandboxSession(
                lang="python",
                logger=logger,
                verbose=True
            ) as session:
                pass
        ''', SandboxSession=Llmsbx.SandboxSession)
        records = self.records.records
        messages = [record.getMessage() for record in records]
        created = [m for m in messages if m.startswith('creating sandbox')]
        self.assertEqual(len(created), 1, messages)
        self.assertTrue(any(m.startswith('open: sandbox') for m in messages), messages)
        self.assertEqual(messages[-1], 'closed')
        self.assertEqual({record.levelno for record in records}, {logging.INFO})
        self.assertEqual({record.name for record in records}, {'llm_sandbox'})
        # One id, the session's: its sandbox is named after it.
        ids = {record.session_id for record in records if record.session_id is not None}
        self.assertEqual(len(ids), 1)
        self.assertIn('-' + ids.pop()[:8], created[0])

    def test_levels_without_verbose(self):
        logger = logging.getLogger('llm_sandbox.quiet')
        logger.setLevel(logging.DEBUG)
        with Llmsbx.SandboxSession(lang='python', logger=logger) as session:
            session.run('print(1)')
        levels = {record.levelno for record in self.records.records}
        self.assertEqual(levels, {logging.DEBUG})
        # A logger that does not want DEBUG gets nothing.
        self.records.records.clear()
        logger.setLevel(logging.INFO)
        with Llmsbx.SandboxSession(lang='python', logger=logger) as session:
            session.run('print(1)')
        self.assertEqual(self.records.records, [])

    def test_no_secrets_in_the_log(self):
        # In a process of its own, so that GLib prints every domain at every level.
        child = subprocess.run([sys.executable, '-c', CHILD, SECRET], env=dict(os.environ, G_MESSAGES_DEBUG='all'),
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=240)
        # GLib prints debug lines on stdout, the others on stderr: both are here.
        output = child.stdout
        self.assertEqual(child.returncode, 0, output)
        # The code saw the secret, so a log that held it would show it.
        self.assertIn('code saw the secret', output)
        self.assertIn('logger records:', output)
        self.assertIn('] exec: ', output)          # the session's lines, verbose
        self.assertIn('Llmsbx-Engine-DEBUG', output)  # and the engine's requests
        self.assertNotIn(SECRET, output)

CHILD = r'''
import logging, sys
sys.path.insert(0, %r)
from llmsbxtest import Llmsbx
secret = sys.argv[1]
records = []
class Keep(logging.Handler):
    def emit(self, record):
        records.append(record.getMessage())
logger = logging.getLogger('secrets')
logger.setLevel(logging.DEBUG)
logger.addHandler(Keep())
with Llmsbx.SandboxSession(lang='python', verbose=True, logger=logger,
                           runtime_configs={'environment': {'API_KEY': secret, 'DEBUG': 'true'}}) as session:
    result = session.run("import os\nprint(os.environ['API_KEY'] == %%r)" %% secret)
    assert result.stdout == 'True\n', result.stderr
    print('code saw the secret')
    session.execute_command('test -n "$API_KEY"')
    session.install(['pip'])
print('logger records:', len(records))
for line in records:
    print(line)
''' % os.path.dirname(os.path.abspath(__file__))


if __name__ == '__main__':
    unittest.main(verbosity=2)
