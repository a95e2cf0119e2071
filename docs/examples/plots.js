// plots.js: the plots a run makes, in JavaScript (GJS) through GObject
// Introspection (see docs/artifacts.md). Run it with `gjs -m plots.js`: it
// prints each plot's format and size; the R code makes a base-graphics plot
// and a ggplot2 chart. The session's _async methods work alike.
import Llmsbx from 'gi://Llmsbx?version=1.0';

const session = new Llmsbx.ArtifactSandboxSession({lang: 'r', enable_plotting: true});
session.open(null);
try {
    const result = session.run(`
plot(1:10, main = "base graphics")
library(ggplot2)
ggplot(data.frame(x = 1:3, y = c(2, 5, 3)), aes(x, y)) + geom_line()
cat("two charts\\n")
`, null, 0, null);
    print(result.stdout.trimEnd());
    for (const plot of result.get_plots()) {
        const bytes = plot.content.get_data();
        print(`${Llmsbx.plot_format_to_string(plot.format)}: ${plot.width}x${plot.height}, ` +
              `PNG signature ${bytes[0] === 0x89 && bytes[1] === 0x50 ? 'ok' : 'missing'}`);
    }
} finally {
    session.close(null);
}
