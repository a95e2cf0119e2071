# plots.py: the plots a run makes, through GObject Introspection with
# /usr/bin/python3 (see docs/artifacts.md). Run it with `python3 plots.py`:
# it writes the plots next to it as plot-1.png, ... and prints what it wrote.
import gi

gi.require_version('Llmsbx', '1.0')
from gi.repository.Llmsbx import ArtifactSandboxSession  # noqa: E402

CODE = '''
import matplotlib.pyplot as plt
import seaborn as sns

plt.plot([1, 2, 3], [1, 4, 9])
plt.title("squares")
plt.show()

sns.histplot([1, 2, 2, 3, 3, 3])
print("two charts")
'''

with ArtifactSandboxSession(lang="python", enable_plotting=True) as session:
    result = session.run(CODE)
    print(result.stdout, end='')
    for number, plot in enumerate(result.plots, 1):
        name = 'plot-%d.%s' % (number, plot.format)
        with open(name, 'wb') as file:
            file.write(plot.content)
        print('%s: %dx%d' % (name, plot.width, plot.height))
