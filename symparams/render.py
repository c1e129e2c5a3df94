"""The plain-text, JSON, Markdown and HTML reports under the names the README has always
given them (`symparams.render.markdown(net)`); they live in `symparams.report`."""

from .report.data import to_dict, to_json
from .report.markup import html, markdown
from .report.text import table, visible_rows

__all__ = ["html", "markdown", "table", "to_dict", "to_json", "visible_rows"]
