"""The LaTeX reports under the names the README has always given them
(`symparams.latex.latex_table(net)`); they live in `symparams.report.latex`."""

from .report.latex import LONGTABLE_ROWS, latex, latex_document, latex_formula, latex_repr, latex_table

__all__ = ["LONGTABLE_ROWS", "latex", "latex_document", "latex_formula", "latex_repr", "latex_table"]
