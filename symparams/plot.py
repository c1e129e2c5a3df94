"""The figures under the names the README has always given them
(`symparams.plot.plot_total`); they live in `symparams.report.figures`."""

from .report.figures import PlotError, plot_heatmap, plot_per_layer, plot_total, save

__all__ = ["PlotError", "plot_heatmap", "plot_per_layer", "plot_total", "save"]
