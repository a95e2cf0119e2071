# test-examples.py GJS: the example scripts of docs/examples run as written,
# with the interpreters the docs name, and print what the docs say they print.
import os
import subprocess
import sys
import unittest

EXAMPLES = os.path.join(os.environ['G_TEST_SRCDIR'], os.pardir, 'docs', 'examples')
GJS = sys.argv.pop(1)


class ExamplesTest(unittest.TestCase):

    def run_example(self, *argv):
        done = subprocess.run(argv, cwd=EXAMPLES, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, timeout=240)
        self.assertEqual(done.returncode, 0, 'exit status %d, stderr:\n%s' % (done.returncode, done.stderr))
        return done.stdout

    def test_custom_handler_python(self):
        out = self.run_example(sys.executable, 'custom_handler.py')
        self.assertEqual(out, 'import\\s+os\\.path\nhello from a custom language\n')

    def test_custom_handler_gjs(self):
        out = self.run_example(GJS, '-m', 'custom_handler.js')
        self.assertEqual(out, 'import\\s+os\\.path\nhello from a custom language\n')


if __name__ == '__main__':
    unittest.main(verbosity=2)
