"""LaTeX for formulas, conditions and layer text, through sympy's own printer.

sympy's `LatexPrinter` already prints floors as \\left\\lfloor ... \\right\\rfloor; the
subclass here only changes what a paper would write differently: symbol names
(`d_model` -> d_{\\mathrm{model}}, `alpha` -> \\alpha, `heads` -> \\mathit{heads}), digit
grouping in large numbers (12{,}106), and an integer coefficient kept outside a
product of sums (sympy would distribute it into the first factor).
"""

from __future__ import annotations

import math
import re
from typing import Any

import sympy
from sympy import Expr
from sympy.printing.latex import LatexPrinter, greek_letters_set, tex_greek_dictionary
from sympy.printing.precedence import PRECEDENCE

from ..base.expr import Condition, is_whole_number
from ..layers.shapes import shape_text
from ..result import LayerInfo, Network
from .text import sections, visible_rows

_LETTERS_THEN_DIGITS = re.compile(r"([A-Za-z]+)([0-9]+)\Z")

# Characters of layer text that LaTeX reads as commands, in text mode and math mode.
_TEXT_ESCAPES = {
    "\\": r"\textbackslash{}",
    "_": r"\char95{}",
    "#": r"\#",
    "%": r"\%",
    "&": r"\&",
    "$": r"\$",
    "{": r"\{",
    "}": r"\}",
    "^": r"\textasciicircum{}",
    "~": r"\textasciitilde{}",
}
_MATH_ESCAPES = {
    "\\": r"\backslash{}",
    "_": r"\_",
    "#": r"\#",
    "%": r"\%",
    "&": r"\&",
    "$": r"\$",
    "{": r"\{",
    "}": r"\}",
    "^": r"\hat{}",
    "~": r"\sim{}",
    " ": r"\ ",
    # Braced, an operator is an ordinary character: C(16,3,p=1) without math spacing.
    **{op: "{" + op + "}" for op in "-+=*/|,:;<>"},
}


# Greek names that LaTeX prints as their own letter: alpha -> \alpha, Gamma -> \Gamma,
# varphi -> \varphi. Left out, so that two names never print alike: capitals that are
# Latin letters (Alpha is an A), omicron (an o; LaTeX has no \omicron), and sympy's
# spellings lamda and khi (lambda and chi are names of their own).
_GREEK = {name: "\\" + name for name in greek_letters_set if name != "omicron"}
_GREEK.update(
    {
        name: tex
        for name, tex in tex_greek_dictionary.items()
        if not tex.startswith("\\mathrm") and len(tex) > 1 and name not in ("lamda", "Lamda", "khi", "Khi")
    }
)


def _word(word: str, upright: bool) -> str:
    """One piece of a symbol name: a Greek letter, a single character, or a word."""
    if word in _GREEK:
        return _GREEK[word]
    if len(word) == 1 or word.isdigit():
        return word
    return (r"\mathrm{" if upright else r"\mathit{") + word + "}"


def symbol_latex(name: str) -> str:
    """A symbol name as a paper prints it: the first part italic, the rest a subscript.

    Subscripts that are words print upright, as d_{\\mathrm{model}} in the Transformer
    paper; a name ending in digits takes them as a subscript (k2 -> k_{2}).

    >>> symbol_latex("d_model"), symbol_latex("alpha"), symbol_latex("k2"), symbol_latex("n_heads")
    ('d_{\\\\mathrm{model}}', '\\\\alpha', 'k_{2}', 'n_{\\\\mathrm{heads}}')
    """
    main, *subs = name.split("_")
    subs = [s for s in subs if s]
    if not main:  # a leading underscore: nothing sensible to split on
        return r"\mathit{" + name.replace("_", r"\_") + "}"
    digits = _LETTERS_THEN_DIGITS.match(main)
    if digits and not subs:
        main, subs = digits.group(1), [digits.group(2)]
    head = _word(main, upright=False)
    if not subs:
        return head
    return head + "_{" + ",".join(_word(s, upright=True) for s in subs) + "}"


class SymparamsLatexPrinter(LatexPrinter):
    """sympy's LaTeX printer with symparams' symbol names and number grouping.

    >>> from symparams.base.expr import symbol
    >>> h = symbol("h")
    >>> SymparamsLatexPrinter().doprint(sympy.Mul(8192, sympy.floor(h / 4) - 2, h - 1) + 12106)
    '8192 \\\\left(h - 1\\\\right) \\\\left(\\\\left\\\\lfloor{\\\\frac{h}{4}}\\\\right\\\\rfloor - 2\\\\right) + 12{,}106'
    """

    printmethod = "_symparams_latex"

    def _print_Symbol(self, expr: sympy.Symbol, style: str = "plain") -> str:
        return symbol_latex(expr.name)

    def _print_Integer(self, expr: sympy.Integer) -> str:
        # Four-digit numbers stay as they are; longer ones group by thousands with a
        # math-mode comma that adds no space ({,}), the usual typesetting of counts.
        value = int(expr)
        if abs(value) < 10_000:
            return str(value)
        return f"{value:,}".replace(",", "{,}")

    def _print_Mul(self, expr: sympy.Mul) -> str:
        # sympy's printer rebuilds the product and so distributes 8192*(a - 2)*(b - 2)
        # into (8192a - 16384)(b - 2); keep the coefficient in front instead.
        coeff, rest = expr.as_coeff_Mul()
        if (
            coeff.is_Integer
            and abs(coeff) != 1
            and rest.is_Mul
            and expr.is_commutative
            and any(f.is_Add for f in rest.args)
        ):
            return f"{self._print(coeff)} {self._print_Mul(rest)}"
        return super()._print_Mul(expr)

    def _print_floor(self, expr: sympy.floor, exp: str | None = None) -> str:
        # The canonical floor holds h/2 - 5/2; a paper writes (h - 5)/2.
        return super()._print_floor(sympy.floor(sympy.together(expr.args[0]), evaluate=False), exp)

    def _print_ceiling(self, expr: sympy.ceiling, exp: str | None = None) -> str:
        return super()._print_ceiling(sympy.ceiling(sympy.together(expr.args[0]), evaluate=False), exp)


_PRINTER_SETTINGS: dict[str, Any] = {"mul_symbol": None}


def latex(expr: Any) -> str:
    """LaTeX of a count, shape axis or relation (no math delimiters).

    >>> from symparams.base.expr import symbol
    >>> latex(symbol("alpha") * symbol("d_model") + 217706)
    '\\\\alpha d_{\\\\mathrm{model}} + 217{,}706'
    """
    return SymparamsLatexPrinter(_PRINTER_SETTINGS).doprint(sympy.sympify(expr, strict=True))


def condition_latex(cond: Condition | sympy.Basic) -> str:
    """A condition as a paper writes it: h \\geq 12, or h \\equiv 0 \\pmod{4}.

    >>> from symparams.base.expr import symbol
    >>> condition_latex(sympy.Eq(sympy.Mod(symbol("h"), 4), 0))
    'h \\\\equiv 0 \\\\pmod{4}'
    """
    holds = cond.holds if isinstance(cond, Condition) else cond
    if isinstance(holds, sympy.Eq) and isinstance(holds.lhs, sympy.Mod) and holds.rhs.is_Integer:
        value, divisor = holds.lhs.args
        return f"{latex(value)} \\equiv {latex(holds.rhs)} \\pmod{{{latex(divisor)}}}"
    return latex(holds)


def escape_text(text: str) -> str:
    """Layer text for LaTeX text mode inside \\texttt.

    The underscore is the typewriter font's own glyph (slot 95 in OT1 and T1 alike),
    not \\_'s drawn rule, so that it copies out of the PDF as '_'.

    >>> escape_text("C(d_model,3) # 50% & {x}")
    'C(d\\\\char95{}model,3) \\\\# 50\\\\% \\\\& \\\\{x\\\\}'
    """
    return "".join(_TEXT_ESCAPES.get(ch, ch) for ch in text)


def escape_math(text: str) -> str:
    """Layer text for math mode (inside \\mathtt), which MathJax reads as well as LaTeX.

    >>> escape_math("C(d_model, 3)")
    'C(d\\\\_model{,}\\\\ 3)'
    """
    return "".join(_MATH_ESCAPES.get(ch, ch) for ch in text)


# ---------------------------------------------------------------- reports
# LaTeX: a booktabs table, the total as a displayed equation, a whole document.
# Long formulas are the hard part of a paper's table: cells are paragraph (p) columns
# so inline math can break after + and -, shapes may break after their commas, and a
# long total is split over the lines of a multline* environment.
LATEX_PACKAGES = ("amsmath", "amssymb", "booktabs", "array", "longtable")
LONGTABLE_ROWS = 40  # more rows than fit on a page: use longtable, which breaks pages
TOTAL_LINE_CHARS = 60  # `_visible_width` units on one line of a displayed total
# What the table's portrait columns hold at \small, in `_visible_width` units (about
# 4.7 points each): a wider piece makes a standalone document landscape, and a wider
# product may break between its factors.
FORMULA_CELL = 30
SHAPE_CELL = 20


def _visible_width(tex: str) -> float:
    """About how many characters wide LaTeX prints `tex`: commands are one glyph or
    none, sub- and superscripts and fractions count for less."""
    tex = re.sub(r"\\(left|right|mathrm|mathit|mathtt|text|allowbreak)(?![A-Za-z])", "", tex)
    tex = re.sub(r"\\frac(?![A-Za-z])", "^", tex)  # a fraction's parts are set small, like scripts
    tex = re.sub(r"\\[A-Za-z]+|\\.", "x", tex)
    width, weights, pending = 0.0, [1.0], False
    for ch in tex:
        if ch in "_^":
            pending = True
        elif ch == "{":
            weights.append(weights[-1] * (0.6 if pending else 1.0))
            pending = False
        elif ch == "}":
            if len(weights) > 1:
                weights.pop()
        elif not ch.isspace():
            # A binary operator or relation is set with space on both sides.
            glyph = 2.4 if ch in "+-=<>" else 1.0
            width += weights[-1] * (0.6 if pending else 1.0) * glyph
            pending = False
    return width


def presented(expr: Expr, net: Network) -> Expr:
    """`expr` as a report prints it: terms grouped by the network's symbolic repetition
    counts, so `TB(h,4*d)*L` reads L(12d^2 + 13d), not 11Ld + L(12d^2 + 2d). Same value.

    >>> import symparams
    >>> net = symparams.parse("I(t,d)-(LN-H(4*d)-gelu-H(d))*L")
    >>> presented(net.params, net)
    L*(8*d**2 + 7*d)
    """
    counts = sorted(
        {s for row in net.walk() if not is_whole_number(row.count) for s in row.count.free_symbols},
        key=lambda s: s.name,
    )
    if not counts or is_whole_number(expr):
        return expr
    return sympy.collect(expr, counts)


def _signed_terms(expr: Expr) -> list[tuple[str, Expr]]:
    """The terms of a sum in the order sympy prints them (as_ordered_terms), each as
    its sign ('', '+' or '-') and its magnitude."""
    terms = expr.as_ordered_terms() if isinstance(expr, sympy.Add) else [expr]
    out = []
    for i, term in enumerate(terms):
        negative = term.could_extract_minus_sign()
        sign = "-" if negative else ("+" if i else "")
        out.append((sign, -term if negative else term))
    return out


def _join_sign(sign: str, tex: str, first: bool) -> str:
    return f"{sign}{tex}" if first else f"{sign} {tex}"


def _latex_terms(expr: Expr) -> list[str]:
    """The terms of a sum as printed, each with its sign ('+ 32')."""
    return [_join_sign(sign, latex(term), i == 0) for i, (sign, term) in enumerate(_signed_terms(expr))]


def _factor_pieces(term: Expr) -> list[str]:
    """A product as the pieces a line may break between: the integer coefficient with
    the first factor, then each further factor, parenthesized as the printer does."""
    if not isinstance(term, sympy.Mul):
        return [latex(term)]
    factors = list(term.as_ordered_factors())
    coeff = factors.pop(0) if factors[0].is_Number else None
    if (
        len(factors) < 2
        or (coeff is not None and not coeff.is_Integer)
        or any(f.is_Pow and f.exp.is_negative for f in factors)
    ):
        return [latex(term)]
    printer = SymparamsLatexPrinter({"mul_symbol": None})
    pieces = [printer.parenthesize(f, PRECEDENCE["Mul"]) for f in factors]
    if coeff is not None:
        pieces[0] = f"{latex(coeff)} {pieces[0]}"
    return pieces


def _breakable(expr: Expr, limit: float) -> str:
    """Inline math for a narrow cell: TeX breaks a sum after + and -; a product wider
    than `limit` may also break between its factors (\\allowbreak only permits it)."""
    parts = []
    for i, (sign, term) in enumerate(_signed_terms(expr)):
        tex = latex(term)
        if _visible_width(tex) > limit:
            tex = r" \allowbreak ".join(_factor_pieces(term))
        parts.append(_join_sign(sign, tex, i == 0))
    return " ".join(parts)


def _shape_latex(shape: tuple[Expr, ...], convention: str) -> str:
    """A channels-last shape in the convention's order, each axis breakable."""
    return shape_text(shape, convention, item=lambda x: _breakable(x, SHAPE_CELL), sep=r",\allowbreak ")


def _layer_latex(text: str) -> str:
    """Layer text in typewriter type, breakable after its separators."""
    escaped = escape_text(" ".join(text.split()))
    return r"\texttt{" + re.sub(r"([-|,])", r"\1\\allowbreak{}", escaped) + "}"


def _formula_latex(row: LayerInfo, net: Network) -> str:
    """A row's parameters: weights + biases when numeric (800 + 32), so a reader sees
    where the value comes from; the collected formula when symbolic (9ck + k)."""
    parts = [row.weights, row.biases] + ([row.non_trainable] if row.non_trainable != 0 else [])
    if all(p == 0 for p in parts):
        return "0"
    if not is_whole_number(row.params):
        return _breakable(presented(row.params, net), FORMULA_CELL)
    return " + ".join(latex(p) for p in parts if p != 0)  # bias=false: 864, not 864 + 0


def latex_formula(net: Network) -> str:
    """The total for inline use, without math delimiters.

    >>> import symparams
    >>> latex_formula(symparams.parse("I-C(32,3)"))
    '288 c + 32'
    """
    return latex(presented(net.params, net))


def _total_equation(net: Network) -> list[str]:
    """The total as a display; a long sum is split into lines of about equal width,
    and a product too long for one line is split between its factors (a new line
    then starts with \\times)."""
    lhs = r"N_{\mathrm{params}} = "
    pieces: list[tuple[str, bool]] = []  # (tex, continues the product before it)
    for i, (sign, term) in enumerate(_signed_terms(presented(net.params, net))):
        tex = latex(term)
        parts = _factor_pieces(term) if _visible_width(tex) > TOTAL_LINE_CHARS * 0.8 else [tex]
        pieces.append((_join_sign(sign, parts[0], i == 0), False))
        pieces += [(part, True) for part in parts[1:]]
    widths = [_visible_width(tex) for tex, _ in pieces]
    total_width = _visible_width(lhs) + sum(widths)
    count = max(1, math.ceil(total_width / TOTAL_LINE_CHARS))
    target = total_width / count
    lines: list[str] = []
    width = _visible_width(lhs)
    for (tex, continues), piece_width in zip(pieces, widths):
        if lines and width + piece_width > target * 1.15:
            lines.append(r"\times " + tex if continues else tex)
            width = piece_width
        elif lines:
            lines[-1] += " " + tex
            width += piece_width
        else:
            lines.append(tex)
            width += piece_width
    if len(lines) == 1:
        return [r"\begin{equation*}", f"  {lhs}{lines[0]}", r"\end{equation*}"]
    body = [f"  {lhs}{lines[0]} \\\\"] + [f"  {line} \\\\" for line in lines[1:-1]] + [f"  {lines[-1]}"]
    return [r"\begin{multline*}"] + body + [r"\end{multline*}"]


def _latex_notes(net: Network) -> list[str]:
    """The sentences under the total: trainable split, conditions, and in ideal mode
    the congruences under which the closed form equals the frameworks' count."""
    notes = []
    if net.non_trainable != 0:
        notes.append(
            f"Trainable ${latex(presented(net.trainable, net))}$, "
            f"non-trainable ${latex(presented(net.non_trainable, net))}$."
        )
    if net.inactive != 0:
        notes.append(f"Active per token ${latex(presented(net.active_params, net))}$.")
    exact_when = set(net.exact_when) if net.mode == "ideal" else set()
    exist = [c for c in net.condition_details if c not in exact_when]
    if exist:
        notes.append("Conditions: " + ", ".join(f"${condition_latex(c)}$" for c in exist) + ".")
    if net.mode == "ideal":
        notes.append(
            "Ideal mode: every floor and ceiling replaced by its argument"
            + (
                ", which equals the exact count when "
                + ", ".join(f"${condition_latex(c)}$" for c in net.exact_when)
                + "."
                if net.exact_when
                else "."
            )
        )
    notes += [f"Note: {escape_text(note)}" for note in net.notes]
    return notes


def _comment(text: str) -> str:
    return "\n".join("% " + line for line in text.strip().splitlines())


def latex_table(
    net: Network,
    depth: int | None = None,
    caption: str | None = None,
    label: str | None = None,
    source: str | None = None,
) -> str:
    """A LaTeX fragment: a booktabs table of the layers and the total as a display.

    Needs \\usepackage{amsmath,amssymb,booktabs,array,longtable}. `caption` and `label`
    go into the table (`\\caption`, `\\label`); `source` names the file the text came
    from, for the comment on top. A symbolic table has no Value column (every value
    would be a formula, already in the Parameters column).

    >>> import symparams
    >>> tex = latex_table(symparams.parse("I(28,28,1)-C(32,5)-P(2)-C(32,3)-P(2)-H(256)-O(10)"))
    >>> r"N_{\\mathrm{params}} = 217{,}706" in tex, r"\\toprule" in tex
    (True, True)
    """
    rows = visible_rows(net, depth)
    starts = _section_lines(net, depth)
    long = len(rows) > LONGTABLE_ROWS
    numeric = is_whole_number(net.params)
    # Fixed widths only: longtable measures natural-width columns over two runs.
    left = r">{\raggedright\arraybackslash}p"
    cols = (
        rf"@{{}}{left}{{0.22\linewidth}}{left}{{0.22\linewidth}}{left}{{0.32\linewidth}}"
        + (r">{\raggedleft\arraybackslash}p{0.13\linewidth}" if numeric else "")
        + "@{}"
    )
    head = [r"Layer & Output shape & Parameters" + (r" & Value \\" if numeric else r" \\"), r"\midrule"]
    what = source if source is not None else net.text
    out = [
        _comment(f"symparams ({net.convention}, {net.mode}): {what}"),
        _comment("needs \\usepackage{" + ",".join(LATEX_PACKAGES) + "}"),
    ]
    if not rows:  # --depth 0: the totals alone
        return "\n".join(out + _total_equation(net) + _paragraphs(_latex_notes(net)))
    titles = ([rf"\caption{{{escape_text(caption)}}}"] if caption is not None else []) + (
        [rf"\label{{{label}}}"] if label is not None else []
    )
    if long:
        out += [
            r"{\small",
            r"\setlength\LTchunksize{1000}",  # one chunk: the widths settle in one run
            r"\begin{longtable}{" + cols + "}",
            *([" ".join(titles) + r" \\"] if titles else []),
            r"\toprule",
            *head,
            r"\endfirsthead",
            r"\toprule",
            *head,
            r"\endhead",
            r"\bottomrule",
            r"\endfoot",
        ]
    else:
        out += [
            r"\begin{table}[htbp]",
            r"\centering",
            r"\small",
            *titles,
            r"\begin{tabular}{" + cols + "}",
            r"\toprule",
            *head,
        ]
    for row in rows:
        if id(row) in starts:  # a graph: a line naming each tensor above its rows
            out.append(starts[id(row)])
        # A long layer text wraps under itself, one em in from where it starts.
        indent = rf"\hangindent={row.depth + 1}em\hangafter=1 " if row.depth or len(row.text) > 20 else ""
        indent += rf"\hspace*{{{row.depth}em}}" if row.depth else ""
        value = f" & ${latex(row.params)}$" if numeric else ""
        out.append(
            f"{indent}{_layer_latex(row.text)} & ${_shape_latex(row.shape, net.convention)}$ & "
            f"${_formula_latex(row, net)}${value} \\\\"
        )
    if long:
        out += [r"\end{longtable}", "}"]
    else:
        out += [r"\bottomrule", r"\end{tabular}", r"\end{table}"]
    out += _total_equation(net)
    out += _paragraphs(_latex_notes(net))
    return "\n".join(out)


def _paragraphs(notes: list[str]) -> list[str]:
    """Each sentence under the total its own paragraph (a blank line between)."""
    out: list[str] = []
    for note in notes:
        out += ([""] if out else []) + [note]
    return out


def _section_lines(net: Network, depth: int | None) -> dict[int, str]:
    """A graph's tensors, as a table line before the first visible row of each (by the row's id)."""
    found: dict[int, str] = {}
    if not net.is_graph:
        return found
    for t, (_, rows) in zip(net.tensors, sections(net, depth)):
        if rows:
            role = " (output)" if t.name in net.outputs else ""
            shape = _shape_latex(net.tensor_shape(t.name), net.convention)
            params = latex(presented(net.subtotal(t.name), net))
            found[id(rows[0])] = (
                rf"\multicolumn{{4}}{{@{{}}l}}{{\textbf{{{escape_text(t.name)}}}{role}: ${shape}$, "
                rf"${params}$ parameters}} \\"
            )
    return found


def _needs_landscape(net: Network, depth: int | None) -> bool:
    """Whether a table cell holds a piece of formula too wide to break on a portrait page.

    Inline math breaks only after a top-level + or -, and shapes after their commas,
    so the widest term decides. The limits are what the portrait columns hold at
    \\small (FORMULA_CELL, SHAPE_CELL).
    """
    rows = visible_rows(net, depth)
    widest_term = max(
        (_visible_width(term) for r in rows for term in _latex_terms(presented(r.params, net))), default=0
    )
    widest_axis = max((_visible_width(latex(x)) for r in rows for x in r.output_shape), default=0)
    return widest_term > FORMULA_CELL or widest_axis > SHAPE_CELL


def latex_document(
    net: Network,
    depth: int | None = None,
    caption: str | None = None,
    label: str | None = None,
    source: str | None = None,
) -> str:
    """A whole LaTeX document (article) that pdflatex compiles as it is. With `source`
    (the file the text came from) the header names the file and shows its network line,
    not every definition and comment of it.

    >>> import symparams
    >>> doc = latex_document(symparams.parse("I(784)-O(10)"))
    >>> doc.startswith(r"\\documentclass"), doc.rstrip().endswith(r"\\end{document}")
    (True, True)
    """
    geometry = "landscape,margin=1.5cm" if _needs_landscape(net, depth) else "margin=2cm"
    lines = [line for line in net.text.strip().splitlines() if line.strip()]
    if source is not None:
        code = [line for line in lines if not line.lstrip().startswith("#")]
        header = [
            rf"\noindent\textbf{{Architecture}} ({net.convention}, {net.mode} mode): "
            + r"\texttt{"
            + escape_text(source)
            + r"}\\",
            r"{\raggedright " + _layer_latex(code[-1] if code else "") + r"\par}",
        ]
    else:
        # Each line of the text (definitions, comments) on its own line, as written.
        title = r"\par ".join(_layer_latex(line) for line in lines)
        header = [
            rf"\noindent\textbf{{Architecture}} ({net.convention}, {net.mode} mode):\\",
            r"{\raggedright " + title + r"\par}",
        ]
    return "\n".join(
        [
            r"\documentclass[10pt]{article}",
            r"\usepackage[" + geometry + "]{geometry}",
            r"\usepackage{" + ",".join(LATEX_PACKAGES) + "}",
            r"\pagestyle{empty}",
            r"\begin{document}",
            *header,
            r"\medskip",
            latex_table(net, depth, caption, label, source),
            r"\end{document}",
            "",
        ]
    )


def latex_repr(net: Network) -> str:
    """LaTeX for Jupyter (`_repr_latex_`): one display that MathJax and LaTeX both read.

    MathJax knows no booktabs or text-mode escapes, so this is an `array` in math mode
    with layer names in \\mathtt; nbconvert's PDF export pastes it into a document as is.

    >>> import symparams
    >>> latex_repr(symparams.parse("I(784)-O(10)")).startswith("$$")
    True
    """
    lines = [
        r"$$",
        r"\begin{array}{lll}",
        r"\text{Layer} & \text{Output shape} & \text{Parameters} \\",
        r"\hline",
    ]
    for row in net.walk():
        indent = r"\quad " * row.depth
        lines.append(
            f"{indent}\\mathtt{{{escape_math(row.text)}}} & "
            f"{_shape_latex(row.shape, net.convention)} & {latex(presented(row.params, net))} \\\\"
        )
    total_shape = _shape_latex(net.shape, net.convention)
    lines += [r"\hline", rf"\text{{Total}} & {total_shape} & {latex(presented(net.params, net))} \\"]
    if net.non_trainable != 0:
        lines.append(rf"\text{{Non-trainable}} & & {latex(net.non_trainable)} \\")
    if net.inactive != 0:
        lines.append(rf"\text{{Active per token}} & & {latex(presented(net.active_params, net))} \\")
    if net.condition_details:
        conds = r",\ ".join(condition_latex(c) for c in net.condition_details)
        lines.append(rf"\text{{Conditions}} & & {conds} \\")
    lines += [r"\end{array}", r"$$"]
    return "\n".join(lines)


# Symbols of the figures beside the parameter count (analysis.compute.figures keys).
_FIGURE_SYMBOLS = {
    "macs": r"\mathrm{MACs}",
    "flops": r"\mathrm{FLOPs}",
    "train_flops": r"\mathrm{FLOPs}_{\mathrm{train}}",
    "train_flops_per_token": r"\mathrm{FLOPs}_{\mathrm{train}} / t",
    "six_n_per_token": r"6 N",
    "kv_cache_bytes_per_token": r"\mathrm{KV}_{\mathrm{token}}",
    "kv_cache_bytes": r"\mathrm{KV}",
}


def latex_figures(net: Network, found: dict[str, Any]) -> str:
    """The figures of `analysis.compute.figures` as displayed equations (bytes for the
    KV cache and the training memory, whose parts are equations of their own).

    >>> import symparams
    >>> print(latex_figures(symparams.parse("I(t,8)-MHA(2)"), {"macs": symparams.parse("I(t,8)-MHA(2)").macs}))
    \\begin{equation*}
      \\mathrm{MACs} = 16 t^{2} + 256 t
    \\end{equation*}
    """
    lines: list[str] = []
    for key, value in found.items():
        if key == "train_settings":
            continue
        items = (
            [(rf"M_{{\mathrm{{{part}}}}}", v) for part, v in value.items()]
            if key == "train_memory"
            else [(_FIGURE_SYMBOLS[key], value)]
        )
        for lhs, expr in items:
            lines += [r"\begin{equation*}", f"  {lhs} = {latex(presented(expr, net))}", r"\end{equation*}"]
    return "\n".join(lines)
