"""LaTeX reports (issue 6): the printer, the fragment, --formula, and --standalone
documents compiled by the real pdflatex and rendered to PNG by pdftoppm.

Set SYMPARAMS_RENDERS=/some/dir to keep the rendered pages for a person to look at.
"""

from __future__ import annotations

import os
import re
import shutil

import pytest
import sympy
from latex_tools import compile_fragment, compile_pdf, ink, pdf_text, render_png

import symparams
from symparams.base.expr import symbol
from symparams.cli import main
from symparams.report.latex import (
    LONGTABLE_ROWS,
    condition_latex,
    escape_text,
    latex,
    latex_document,
    latex_formula,
    latex_table,
    presented,
    symbol_latex,
)

LENET = "I(28,28,1)-C(32,5)-P(2)-C(32,3)-P(2)-H(256)-O(10)"
LENET_SYMBOLIC = "I-C(32,5)-P(2)-C(32,3)-P(2)-H(256)-O(10)"
BRANCHED = "I(32,32,3)-[C(16,1) | C(16,3,p=1) | (C(8,1)-C(8,5,p=2))]-[C(40,3,p=1) + id]-GAP-O(10)"
RESIDUAL_SYMBOLIC = "I(n,n,c)-C(k,3,p=1)-[(C(k,3,p=1)-BN-relu-C(k,3,p=1)-BN) + id]-P(2)-H(d_model)-O(10)"
DEEP = "I(64)-" + "-".join(["H(64)-relu"] * 25) + "-O(10)"
WIDE = ("I(h_in,w_in,c_in)-C(alpha,7,s=2,p=3)-P(3,s=2,p=1)-C(beta,3,s=2)-A(3,s=3)-C(gamma,5,s=3)"
        "-P(2,ceil=true)-H(d_hidden)-O(n_classes)")

TRANSFORMER = "I(t)-E(V,d_model)-PE(m)-TB(h,4*d_model)*L-LN-O(V,bias=false,tied=true)"
# A file: comments with LaTeX's special characters, a definition, the chain.
DEFINITIONS = """# a residual stage: 50% of the net & more {see #2}
block(k) = [C(k,3,p=1)-BN-relu-C(k,3,p=1)-BN + id]-relu
I(32,32,3)-C(16,3,p=1)-block(16)*2-GAP-O(10)
"""

DOCUMENTS = [
    # name, text, convention, mode
    ("numeric", LENET, "torch", "exact"),
    ("symbolic", LENET_SYMBOLIC, "torch", "exact"),
    ("ideal", LENET_SYMBOLIC, "torch", "ideal"),
    ("keras_batchnorm", "I(64,64,1)-C(32,3,p=same)-BN-F-H(100)-O(10)", "keras", "exact"),
    ("branched", BRANCHED, "torch", "exact"),
    ("residual_symbolic", RESIDUAL_SYMBOLIC, "keras", "exact"),
    ("deep_longtable", DEEP, "torch", "exact"),
    ("wide_symbolic", WIDE, "torch", "exact"),
    ("wide_ideal", WIDE, "keras", "ideal"),
    ("transformer_symbolic", TRANSFORMER, "torch", "exact"),
    ("definitions_file", DEFINITIONS, "keras", "exact"),
    # PyTorch's ceil-mode pooling puts min() in every later axis: long unbreakable products.
    ("ceil_min_products", "I-P(2,s=2,p=1,ceil=true)-C(8,3)-F-O(10)", "torch", "exact"),
]


def keep_renders(pages, name):
    folder = os.environ.get("SYMPARAMS_RENDERS")
    if folder:
        os.makedirs(folder, exist_ok=True)
        for page in pages:
            shutil.copy(page, os.path.join(folder, f"{name}-{page.name}"))


@pytest.mark.parametrize("name, text, convention, mode", DOCUMENTS, ids=[d[0] for d in DOCUMENTS])
def test_standalone_document_compiles_and_renders(name, text, convention, mode, tmp_path, capsys):
    argv = [text, "--latex", "--standalone", "--convention", convention] + (["--ideal"] if mode == "ideal" else [])
    assert main(argv) == 0
    tex = capsys.readouterr().out
    net = symparams.parse(text, convention=convention, mode=mode)
    assert tex == latex_document(net) + "\n"
    pdf = compile_pdf(tex, tmp_path, name)
    pages = render_png(pdf)
    keep_renders(pages, name)
    # Every page has something on it; the first holds the table.
    assert pages and ink(pages[0]) > 0.002 and all(ink(page) > 0.00002 for page in pages)
    printed = pdf_text(pdf)
    if net.params.is_Integer:
        # The total and every row's count are printed, five digits and more grouped.
        assert f"{int(net.params):,}" in printed
        for row in net.layers:
            value = int(row.params)
            assert (f"{value:,}" if value >= 10_000 else str(value)) in printed
    if mode == "ideal":
        assert r"\lfloor" not in tex and "Idealmode:" in printed


def test_fragment_is_a_booktabs_table_with_the_total_displayed():
    net = symparams.parse(LENET)
    tex = latex_table(net)
    lines = tex.splitlines()
    assert [line for line in lines if line in (r"\toprule", r"\midrule", r"\bottomrule")] == \
        [r"\toprule", r"\midrule", r"\bottomrule"]
    assert r"\begin{equation*}" in lines and r"  N_{\mathrm{params}} = 217{,}706" in lines
    rows = [line for line in lines if r"\texttt{" in line and line.endswith(r"\\")]
    assert len(rows) == len(net.layers)
    # The value column of each row is its count, grouped by thousands.
    values = [re.search(r"& \$([0-9{},]+)\$ \\\\$", row).group(1) for row in rows]
    assert [int(v.replace("{,}", "")) for v in values] == [int(r.params) for r in net.layers]


def test_symbolic_rows_show_the_formula_and_no_value():
    net = symparams.parse(LENET_SYMBOLIC)
    tex = latex_table(net)
    row = next(line for line in tex.splitlines() if r"\texttt{H(256)}" in line)
    # A symbolic table has no Value column: no empty cells, no column of zeros.
    assert r"\left\lfloor" in row and row.endswith("$ \\\\") and row.count("&") == 2
    assert "Value" not in tex and "&  \\\\" not in tex
    assert r"Conditions: $h \geq 12$, $w \geq 12$." in latex_table(net)


def test_many_layers_use_a_longtable_that_breaks_pages(tmp_path):
    net = symparams.parse(DEEP)
    assert len(net.layers) > LONGTABLE_ROWS
    assert r"\begin{longtable}" in latex_table(net) and r"\begin{table}" not in latex_table(net)
    assert r"\begin{table}" in latex_table(symparams.parse(LENET))


def test_a_long_total_is_split_over_lines(tmp_path):
    net = symparams.parse(WIDE)
    tex = latex_table(net)
    assert r"\begin{multline*}" in tex
    body = tex[tex.index(r"\begin{multline*}"):tex.index(r"\end{multline*}")]
    # Breaking loses nothing: the lines hold every term of the total.
    assert body.count(r"\\") >= 1 and body.count(" + ") + body.count(" - ") >= len(net.params.args) - 1


def test_a_product_too_long_for_a_line_breaks_between_factors():
    net = symparams.parse("I-P(2,s=2,p=1,ceil=true)-C(8,3)-F-O(10)")
    tex = latex_table(net)
    body = tex[tex.index(r"\begin{multline*}"):tex.index(r"\end{multline*}")]
    assert "\\\\\n  \\times \\left(\\min" in body
    row = next(line for line in tex.splitlines() if r"\texttt{O(10)}" in line)
    assert r"\right) \allowbreak \left(" in row


def test_symbols_print_as_a_paper_writes_them():
    assert symbol_latex("d_model") == r"d_{\mathrm{model}}"
    assert symbol_latex("alpha") == r"\alpha"
    assert symbol_latex("Delta_t") == r"\Delta_{t}"
    assert symbol_latex("heads") == r"\mathit{heads}"
    assert symbol_latex("x_alpha_max") == r"x_{\alpha,\mathrm{max}}"
    assert symbol_latex("k2") == "k_{2}"
    assert symbol_latex("_x") == r"\mathit{\_x}"
    assert latex(symbol("d_model") ** 2 * 4) == r"4 d_{\mathrm{model}}^{2}"


def test_floors_and_ceilings_print_as_brackets_over_one_fraction():
    h = symbol("h")
    assert latex(sympy.floor(h / 2 - sympy.Rational(5, 2))) == r"\left\lfloor{\frac{h - 5}{2}}\right\rfloor"
    assert latex(sympy.ceiling(h / 3)) == r"\left\lceil{\frac{h}{3}}\right\rceil"


def test_numbers_group_thousands_and_coefficients_stay_outside_products():
    h, w = symbol("h"), symbol("w")
    expr = sympy.Mul(8192, sympy.floor(h / 4) - 2, sympy.floor(w / 4) - 2) + 12106
    tex = latex(expr)
    assert tex.startswith("8192 ") and "16384" not in tex.replace("{,}", "") and tex.endswith("12{,}106")
    assert latex(sympy.Integer(1234)) == "1234"
    assert latex(sympy.Integer(-1234567)) == "-1{,}234{,}567"


def test_conditions_print_as_relations_and_congruences():
    h = symbol("h")
    assert condition_latex(sympy.Ge(h, 12)) == r"h \geq 12"
    assert condition_latex(sympy.Eq(sympy.Mod(h, 4), 0)) == r"h \equiv 0 \pmod{4}"


def test_escaped_layer_text_compiles_and_prints_every_character(tmp_path):
    nasty = r"a_b #1 50% x&y {z} 2^k ~ \ $"
    pdf = compile_fragment(r"\texttt{" + escape_text(nasty) + "}", tmp_path)
    printed = pdf_text(pdf)
    for ch in "_#%&{}^~$":
        assert ch in printed


def test_formula_is_the_total_alone_for_inline_math(tmp_path, capsys):
    assert main([LENET_SYMBOLIC, "--latex", "--formula"]) == 0
    formula = capsys.readouterr().out.strip()
    assert formula == latex_formula(symparams.parse(LENET_SYMBOLIC))
    assert "\n" not in formula and "$" not in formula and r"\begin" not in formula
    compile_fragment(f"The network has ${formula}$ parameters.", tmp_path)
    assert main([LENET, "--latex", "--formula"]) == 0
    assert capsys.readouterr().out == "217{,}706\n"


def test_latex_options_need_latex(capsys):
    assert main([LENET, "--standalone"]) == 2
    assert main([LENET, "--latex", "--standalone", "--formula"]) == 2
    err = capsys.readouterr().err
    assert "--standalone goes with --latex" in err and "Traceback" not in err


def test_fragment_pastes_into_a_paper(tmp_path):
    net = symparams.parse(RESIDUAL_SYMBOLIC)
    pdf = compile_fragment(latex_table(net), tmp_path)
    assert "Conditions" in pdf_text(pdf)


def test_ideal_mode_prints_the_paper_form_and_when_it_is_exact():
    net = symparams.parse(LENET_SYMBOLIC, mode="ideal")
    tex = latex_table(net)
    assert r"N_{\mathrm{params}} = 800 c + 512 \left(h - 8\right) \left(w - 8\right) + 12{,}106" in tex
    assert r"Conditions: $h \geq 12$, $w \geq 12$." in tex
    assert r"equals the exact count when $h \equiv 0 \pmod{4}$, $w \equiv 0 \pmod{4}$." in tex


@pytest.mark.parametrize("text", [
    "I(t)-E(V,d)-PE(m)-TB(h,4*d)*L-LN-O(V,bias=false,tied=true)",
    "I(h,w,c)-C(k,3,p=1)-(C(k,3,p=1)-relu)*n-P(2)-H(10)",
    LENET_SYMBOLIC,
])
def test_reports_group_repeated_blocks_without_changing_the_value(text):
    net = symparams.parse(text)
    shown = presented(net.params, net)
    assert sympy.expand(shown - net.params) == 0
    for row in net.walk():
        assert sympy.expand(presented(row.params, net) - row.params) == 0
    if any(not row.count.is_Integer for row in net.walk()):
        (count,) = {s for row in net.walk() if not row.count.is_Integer for s in row.count.free_symbols}
        # The repetition count appears once in the total, as a paper writes L(...).
        assert sum(1 for term in sympy.Add.make_args(shown) if term.has(count)) == 1
        assert latex_formula(net).count(latex(count)) == 1


def test_every_kind_of_symbol_name_compiles(tmp_path):
    names = ["h", "d_model", "alpha", "Alpha", "ALPHA", "Gamma", "lamda", "lambda", "omicron", "varphi",
             "x_1_2", "x_Delta", "k2", "heads", "n_heads_kv", "_x", "E", "I", "pi", "e"]
    expr = sympy.Add(*(symbol(n) ** 2 * symbol("c") for n in names))
    compile_fragment(f"${latex(expr)}$", tmp_path)
    net = symparams.parse("I(c)-" + "-".join(f"H({n})" for n in names))
    compile_fragment(latex_table(net), tmp_path, "table")


def test_depth_zero_prints_only_the_totals(tmp_path):
    net = symparams.parse(RESIDUAL_SYMBOLIC)
    tex = latex_table(net, depth=0)
    assert r"\begin{tabular}" not in tex and r"N_{\mathrm{params}}" in tex
    compile_fragment(tex, tmp_path)
