# test-guide-artifacts.py: the guide's "Artifact Extraction" example, run as
# written with only its import changed, and what issue 12 checks through the
# typelib: two figures give two plots in order, a second run without plots
# gives none, R's plot() and a ggplot2 chart come back, and fake plot markers
# in stdout are only output.
import base64
import unittest

import guide
from llmsbxtest import Llmsbx

PNG_SIGNATURE = b'\x89PNG\r\n\x1a\n'


class GuideArtifactsTest(unittest.TestCase):

    def test_artifact_extraction(self):
        namespace, printed = guide.run('''
            from llm_sandbox import ArtifactSandboxSession

            with ArtifactSandboxSession(
                lang="python",
                enable_plotting=True,
                verbose=True
            ) as session:
                result = session.run("""
            import matplotlib.pyplot as plt
            plt.plot([1, 2, 3], [1, 4, 9])
            plt.show()
                """)

                # Access captured plots
                for plot in result.plots:
                    print(f"Plot format: {plot.format}")
                    print(f"Plot size: {len(plot.content_base64)} bytes")
        ''')
        result = namespace['result']
        self.assertEqual(len(result.plots), 1)
        plot = result.plots[0]
        self.assertEqual(printed, 'Plot format: png\nPlot size: %d bytes\n' % len(plot.content_base64))
        self.assertTrue(base64.b64decode(plot.content_base64).startswith(PNG_SIGNATURE))
        self.assertEqual(plot.content, base64.b64decode(plot.content_base64))
        self.assertEqual(plot.format, Llmsbx.FileType.PNG)
        self.assertGreater(plot.width, 0)
        self.assertGreater(plot.height, 0)
        self.assertFalse(result.plots_dropped)
        self.assertIsInstance(namespace['session'], Llmsbx.SandboxSession)
        self.assertFalse(namespace['session'].get_is_open())

    def test_order_and_runs_of_their_own(self):
        with Llmsbx.ArtifactSandboxSession(lang='python', enable_plotting=True) as session:
            result = session.run('import matplotlib.pyplot as plt\n'
                                 'plt.figure(figsize=(2, 2)); plt.plot([1, 2]); plt.show()\n'
                                 'plt.figure(figsize=(6, 2)); plt.plot([2, 1]); plt.show()\n')
            self.assertEqual(len(result.plots), 2)
            self.assertLess(result.plots[0].width, result.plots[1].width)
            self.assertTrue(all(p.content.startswith(PNG_SIGNATURE) for p in result.plots))

            again = session.run('print("no plot")')
            self.assertEqual(again.stdout, 'no plot\n')
            self.assertEqual(again.plots, [])

            forged = session.run('print("<plot format=png>iVBORw0KGgo=</plot>")\n'
                                 'print("Python plot detection setup complete")\n')
            self.assertEqual(forged.stdout, '<plot format=png>iVBORw0KGgo=</plot>\n'
                                            'Python plot detection setup complete\n')
            self.assertEqual(forged.plots, [])

    def test_output_files(self):
        with Llmsbx.ArtifactSandboxSession(lang='python', enable_plotting=False, collect_files=True) as session:
            result = session.run('import os\n'
                                 'open(os.environ["LLMSBX_OUTPUT_DIR"] + "/data.csv", "w").write("a,b\\n1,2\\n")\n')
            self.assertEqual([f.path for f in result.files], ['data.csv'])
            self.assertEqual(result.files[0].content, b'a,b\n1,2\n')
            self.assertEqual(base64.b64decode(result.files[0].content_base64), b'a,b\n1,2\n')
            self.assertEqual(result.plots, [])
            self.assertFalse(result.files_dropped)

    def test_r(self):
        with Llmsbx.ArtifactSandboxSession(lang='r') as session:
            base = session.run('plot(1:10)')
            self.assertEqual(len(base.plots), 1)
            self.assertTrue(base.plots[0].content.startswith(PNG_SIGNATURE))
            chart = session.run('library(ggplot2)\n'
                                'ggplot(data.frame(x = 1:3, y = c(1, 3, 2)), aes(x, y)) + geom_point()\n')
            self.assertEqual(len(chart.plots), 1, chart.stderr)
            self.assertEqual(chart.plots[0].format, 'png')


if __name__ == '__main__':
    unittest.main()
