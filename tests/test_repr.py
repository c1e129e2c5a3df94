"""Jupyter display (issue 6): _repr_html_ is well-formed, escaped HTML; _repr_latex_
is math that pdflatex compiles and that uses only commands MathJax knows."""

from __future__ import annotations

import dataclasses
import re
from html.parser import HTMLParser

import pytest
from latex_tools import NBCONVERT_PAGE, compile_fragment, pdf_text

import symparams

NETWORKS = [
    ("I(28,28,1)-C(32,5)-P(2)-C(32,3)-P(2)-H(256)-O(10)", "torch"),
    ("I-C(32,5)-P(2)-C(32,3)-P(2)-H(256)-O(10)", "torch"),
    ("I(64,64,1)-C(32,3,p=same)-BN-F-H(100)-O(10)", "keras"),
    ("I(t,d_model)-LN-H(alpha*d_model)-gelu-H(d_model)", "torch"),
    ("I(32,32,3)-[C(16,1) | C(16,3,p=1) | (C(8,1)-C(8,5,p=2))]-[C(40,3,p=1) + id]-GAP-O(10)", "torch"),
]
VOID = {"br", "hr", "img", "meta", "input", "col", "wbr"}

# Commands of _repr_latex_ must be ones MathJax (2 and 3) implements: no booktabs,
# no \texttt or other text-mode commands.
MATHJAX = {"begin", "end", "text", "mathtt", "hline", "quad", "left", "right", "lfloor", "rfloor",
           "lceil", "rceil", "frac", "mathrm", "mathit", "geq", "leq", "equiv", "pmod", "min", "max",
           "allowbreak", "alpha", "beta", "gamma", "delta", "_", "#", "%", "&", "{", "}", " ", ",", "hat",
           "sim", "backslash", "cdot", "bmod", "neq", "operatorname", "\\"}


class TableChecker(HTMLParser):
    """Checks every tag is closed in order, and collects the text of the body cells."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.rows: list[list[str]] = []
        self.in_body = False
        self.cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag in VOID:
            return
        self.stack.append(tag)
        if tag == "tbody":
            self.in_body = True
        elif tag == "tr" and self.in_body:
            self.rows.append([])
        elif tag == "td" and self.in_body:
            self.cell = []

    def handle_endtag(self, tag):
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes <{self.stack[-1] if self.stack else ''}>"
        self.stack.pop()
        if tag == "tbody":
            self.in_body = False
        elif tag == "td" and self.cell is not None:
            self.rows[-1].append("".join(self.cell).replace("\u2003", ""))
            self.cell = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell.append(data)


def check_html(markup: str) -> TableChecker:
    checker = TableChecker()
    checker.feed(markup)
    checker.close()
    assert checker.stack == [], f"unclosed tags: {checker.stack}"
    return checker


@pytest.mark.parametrize("text, convention", NETWORKS)
def test_html_is_balanced_and_holds_every_row(text, convention):
    net = symparams.parse(text, convention=convention)
    checker = check_html(net._repr_html_())
    rows = list(net.walk())
    assert len(checker.rows) == len(rows)
    for cells, row in zip(checker.rows, rows):
        assert cells[0] == row.index and cells[1] == row.text and cells[2] == row.kind
        assert cells[4] == (f"{int(row.params):,}" if row.params.is_Integer else str(row.params))


def test_html_escapes_text():
    net = symparams.parse("I(784)-O(10)")
    hostile = dataclasses.replace(net.layers[1], text="<script>alert('x')</script> & co")
    net = dataclasses.replace(net, layers=(net.layers[0], hostile))
    markup = net._repr_html_()
    assert "<script>" not in markup and "&lt;script&gt;" in markup
    assert check_html(markup).rows[1][1] == "<script>alert('x')</script> & co"


@pytest.mark.parametrize("text, convention", NETWORKS)
def test_latex_repr_compiles_and_uses_only_mathjax_commands(text, convention, tmp_path):
    net = symparams.parse(text, convention=convention)
    tex = net._repr_latex_()
    assert tex.startswith("$$") and tex.rstrip().endswith("$$")
    commands = set(re.findall(r"\\([A-Za-z]+|.)", tex))
    assert commands <= MATHJAX, commands - MATHJAX
    printed = pdf_text(compile_fragment(tex, tmp_path, preamble=NBCONVERT_PAGE))
    assert "Total" in printed
    if net.params.is_Integer:
        total = int(net.params)
        assert (f"{total:,}" if total >= 10_000 else str(total)) in printed


def test_totals_are_sympy_expressions_jupyter_renders_as_math():
    net = symparams.parse("I-C(32,5)-P(2)-C(32,3)-P(2)-H(256)-O(10)")
    # IPython displays a sympy object through its own _repr_latex_.
    assert net.params._repr_latex_().startswith("$\\displaystyle")


def test_ipython_finds_both_reprs():
    formatters = pytest.importorskip("IPython.core.formatters")
    net = symparams.parse("I(28,28,1)-C(32,5)-P(2)-H(10)")
    data, _ = formatters.DisplayFormatter().format(net)
    assert data["text/html"] == net._repr_html_()
    assert data["text/latex"] == net._repr_latex_()
    assert "46,922" in data["text/html"]
