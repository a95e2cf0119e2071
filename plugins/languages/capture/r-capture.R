# r-capture.R: the plot capture of R runs in an artifact session.
#
# The R handler (llmsbx-r-handler.c) runs this before the user's code, in a
# local() whose .llmsbx_plots_dir is the run's plot directory; nothing stays
# in the global environment and nothing is printed. R's errors name no line
# numbers, so the lines before the code change nothing the user sees. The
# default graphics device becomes a PNG device writing one file per page,
# named for the device and the page (000001-0001.png, ...), so names sort in
# the order the plots were made: base graphics, and ggplot2 charts printed
# (explicitly or at top level). R closes its devices at exit, after an error
# too, which writes the last page.
n <- 0L
prefix <- gsub("%", "%%", .llmsbx_plots_dir, fixed = TRUE)
options(device = function(...) {
  n <<- n + 1L
  grDevices::png(paste0(prefix, "/", sprintf("%06d", n), "-%04d.png"),
                 width = 7, height = 5, units = "in", res = 100)
})
