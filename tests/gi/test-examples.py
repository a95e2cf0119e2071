# test-examples.py GJS: the example scripts of docs/examples run as written,
# with the interpreters the docs name, and print what the docs say they print.
import os
import subprocess
import sys
import tempfile
import unittest

EXAMPLES = os.path.join(os.environ['G_TEST_SRCDIR'], os.pardir, 'docs', 'examples')
GJS = sys.argv.pop(1)


class ExamplesTest(unittest.TestCase):

    def run_example(self, *argv, cwd=EXAMPLES):
        done = subprocess.run(argv, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, timeout=240)
        self.assertEqual(done.returncode, 0, 'exit status %d, stderr:\n%s' % (done.returncode, done.stderr))
        return done.stdout

    def test_custom_handler_python(self):
        out = self.run_example(sys.executable, 'custom_handler.py')
        self.assertEqual(out, 'import\\s+os\\.path\nhello from a custom language\n')

    def test_custom_handler_gjs(self):
        out = self.run_example(GJS, '-m', 'custom_handler.js')
        self.assertEqual(out, 'import\\s+os\\.path\nhello from a custom language\n')

    def test_plots_python(self):
        # It writes its plots where it runs: not into the source tree.
        with tempfile.TemporaryDirectory() as directory:
            out = self.run_example(sys.executable, os.path.join(EXAMPLES, 'plots.py'), cwd=directory)
            self.assertRegex(out, r'^two charts\nplot-1\.png: \d+x\d+\nplot-2\.png: \d+x\d+\n$')
            for name in ('plot-1.png', 'plot-2.png'):
                with open(os.path.join(directory, name), 'rb') as file:
                    self.assertEqual(file.read(8), b'\x89PNG\r\n\x1a\n')

    def test_plots_gjs(self):
        out = self.run_example(GJS, '-m', 'plots.js')
        self.assertRegex(out, r'^two charts\n(png: \d+x\d+, PNG signature ok\n){2}$')


if __name__ == '__main__':
    unittest.main(verbosity=2)
