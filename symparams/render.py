"""Renderers: functions of a Network that know nothing of the text or the parser.

The table follows the layout torchinfo and Keras users already read: one row per
layer, a rule, then the totals.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

import sympy
from sympy import Expr
from sympy.printing.precedence import PRECEDENCE

from .latex import SymparamsLatexPrinter, condition_latex, escape_math, escape_text, latex
from .network import LayerInfo, Network
from .shapes import Condition


def number(expr: Expr) -> str:
    """A count for people: 217,706 when numeric, the formula otherwise."""
    if isinstance(expr, (sympy.Integer, int)):
        return f"{int(expr):,}"
    return str(expr)


def json_value(expr: Any) -> Any:
    """A JSON integer when fully numeric, else a string sympy reads back."""
    if isinstance(expr, (sympy.Integer, int)) and not isinstance(expr, bool):
        return int(expr)
    if isinstance(expr, sympy.Basic) and expr.is_Integer:
        return int(expr)
    return str(expr)


def shape_text(shape: tuple[Expr, ...], convention: str) -> str:
    inner = ", ".join(str(x) for x in shape)
    return f"[{inner}]" if convention == "torch" else f"({inner}{',' if len(shape) == 1 else ''})"


def count_cell(expr: Expr, params: Expr | None = None) -> str:
    """A count column: the number when numeric. A symbolic count is in the formula
    column already, so the Params column points there and Trainable says '= params'
    when it is the same expression."""
    if expr.is_number:
        return number(expr)
    if params is None:
        return "(formula)"
    return "= params" if expr == params else str(expr)


def formula(row: LayerInfo) -> str:
    """Weights + biases (+ non-trainable), so a reader sees where a count comes from."""
    parts = [row.weights, row.biases] + ([row.non_trainable] if row.non_trainable != 0 else [])
    if all(p == 0 for p in parts):
        return "0"
    return " + ".join(str(p) for p in parts)


def condition_text(cond: Condition) -> str:
    holds = cond.holds
    if isinstance(holds, sympy.Eq) and isinstance(holds.lhs, sympy.Mod) and holds.rhs == 0:
        value, divisor = holds.lhs.args
        return f"{value} divisible by {divisor}"
    if isinstance(holds, sympy.Eq) and isinstance(holds.lhs, sympy.Mod) and holds.rhs.is_Integer:
        value, divisor = holds.lhs.args
        return f"{value} ≡ {holds.rhs} (mod {divisor})"
    return str(holds)


def visible_rows(net: Network, depth: int | None = None) -> list[LayerInfo]:
    """The rows a summary shows, blocks before their children.

    `depth` counts levels as torchinfo's `depth` does: 1 shows the network's own rows
    with every block folded into its subtotal, 2 unfolds one level of blocks, and so
    on; 0 shows no rows, only the totals; None shows everything.

    >>> import symparams
    >>> net = symparams.parse("I(8)-(H(8)-relu)*2-O(1)")
    >>> [row.text for row in visible_rows(net, depth=1)]
    ['I(8)', '(H(8)-relu)*2', 'O(1)']
    >>> [row.text for row in visible_rows(net, depth=2)][1:4]
    ['(H(8)-relu)*2', 'H(8)', 'relu']
    """
    return [row for row in net.walk() if depth is None or row.depth < depth]


def clip(text: str, width: int = 48) -> str:
    """A row's text cut to `width` characters: a block's text is all of its layers, and
    its layers have rows of their own beneath it.

    >>> clip("[C(8,1) | C(8,3,p=1)-relu-C(8,3,p=1)]", 20)
    '[C(8,1) | C(8,3,...'
    """
    return text if len(text) <= width else text[: width - 3] + "..."


def kind_text(row: LayerInfo) -> str:
    """The kind, with `×n` on a block that runs n times (its children are shown once)."""
    if row.count == 1:
        return row.kind
    return f"{row.kind} ×{number(row.count)}"


def headline(text: str, width: int = 200) -> str:
    r"""The architecture on one line for a table's title: an .arch file's comments
    dropped and its lines joined, cut at `width` characters.

    >>> headline("# VGG\nconv(k) = C(k,3)  # 3x3\nI(8,8,3)\n  -conv(4)")
    'conv(k) = C(k,3); I(8,8,3) -conv(4)'
    """
    lines = [re.sub(r"#.*", "", line).strip() for line in text.splitlines()]
    joined = ""
    for line in filter(None, lines):
        # A new definition or the chain starts a new statement; a continued chain does not.
        glue = " " if line.startswith(("-", "|", "+", "]", ")", "*")) or joined.endswith(("-", "(", "[", ",")) else "; "
        joined = f"{joined}{glue}{line}" if joined else line
    return joined if len(joined) <= width else joined[: width - 3] + "..."


def table(net: Network, depth: int | None = None) -> str:
    """The per-layer table and totals.

    >>> import symparams
    >>> print(table(symparams.parse("I(784)-O(10)")).splitlines()[-4])
    Total params: 7,850
    """
    header = ["#", "Layer", "Kind", "Output shape", "Params formula", "Params", "Trainable", "Non-trainable"]
    body = []
    for row in visible_rows(net, depth):
        indent = "  " * row.depth
        body.append([row.index, indent + clip(row.text), kind_text(row), shape_text(row.output_shape, net.convention),
                     formula(row) if row.params.is_number else str(row.params), count_cell(row.params),
                     count_cell(row.trainable, row.params),
                     number(row.non_trainable)])
    widths = [max(len(r[i]) for r in [header] + body) for i in range(len(header))]
    right = {0, 5, 6, 7}

    def line(cells: list[str]) -> str:
        return "  ".join(c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths)))

    rule_width = len(line(header))
    out = [headline(net.text),
           f"convention: {net.convention}, mode: {net.mode}", "=" * rule_width, line(header), "-" * rule_width]
    out += [line(r).rstrip() for r in body]
    out += ["=" * rule_width,
            f"Total params: {number(net.params)}",
            f"Trainable params: {number(net.trainable)}",
            f"Non-trainable params: {number(net.non_trainable)}",
            f"Output shape: {shape_text(net.output_shape, net.convention)}"]
    if net.condition_details:
        out.append("Conditions: " + ", ".join(condition_text(c) for c in net.condition_details))
    return "\n".join(out)


def layer_dict(row: LayerInfo) -> dict[str, Any]:
    data: dict[str, Any] = {
        "index": row.index,
        "layer": row.text,
        "kind": row.kind,
        "output_shape": [json_value(x) for x in row.output_shape],
        "params": json_value(row.params),
        "trainable": json_value(row.trainable),
        "non_trainable": json_value(row.non_trainable),
        "weights": json_value(row.weights),
        "biases": json_value(row.biases),
    }
    if row.children:
        data["count"] = json_value(row.count)
        data["children"] = [layer_dict(c) for c in row.children]
    return data


def to_dict(net: Network) -> dict[str, Any]:
    """The object of LANGUAGE.md section 7."""
    return {
        "architecture": net.text,
        "convention": net.convention,
        "mode": net.mode,
        "params": json_value(net.params),
        "trainable": json_value(net.trainable),
        "non_trainable": json_value(net.non_trainable),
        "input_shape": [json_value(x) for x in net.input_shape],
        "output_shape": [json_value(x) for x in net.output_shape],
        "conditions": [str(c) for c in net.conditions],
        "symbols": sorted(s.name for s in net.free_symbols),
        "layers": [layer_dict(r) for r in net.layers],
    }


def to_json(net: Network) -> str:
    return json.dumps(to_dict(net), indent=2)


# ---------------------------------------------------------------- Markdown, LaTeX, HTML
# Reports for READMEs, papers and notebooks. Like `table`, each is a function of the
# Network alone; LaTeX goes through sympy's printer (symparams.latex), never through
# string surgery on str(expr).


def _md_cell(text: str) -> str:
    """A GitHub table cell: '|' must be escaped even inside a code span (GFM spec 4.10)."""
    return text.replace("|", "\\|").replace("\n", " ")


def _md_code(text: str) -> str:
    return _md_cell(f"`{text}`")


def _md_count(expr: Expr) -> str:
    return number(expr) if _is_numeric(expr) else _md_code(str(expr))


def _is_numeric(expr: Any) -> bool:
    return isinstance(expr, int) or (isinstance(expr, sympy.Basic) and expr.is_Integer)


def markdown(net: Network, depth: int | None = None) -> str:
    """A GitHub-flavoured Markdown table of the layers, then the totals.

    >>> import symparams
    >>> print(markdown(symparams.parse("I(784)-O(10)")).splitlines()[3])
    | 1 | `O(10)` | Output | `[10]` | 7,850 |
    """
    frozen = any(row.non_trainable != 0 for row in net.walk())
    header = ["#", "Layer", "Kind", "Output shape", "Params"] + (["Non-trainable"] if frozen else [])
    lines = ["| " + " | ".join(header) + " |",
             "|" + "|".join(["---:", "---", "---", "---", "---:"] + (["---:"] if frozen else [])) + "|"]
    for row in visible_rows(net, depth):
        indent = "&emsp;" * row.depth
        cells = [row.index, indent + _md_code(row.text), _md_cell(row.kind),
                 _md_code(shape_text(row.output_shape, net.convention)), _md_count(row.params)]
        if frozen:
            cells.append(_md_count(row.non_trainable))
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", f"- **Total params:** {_md_count(net.params)}"]
    if net.non_trainable != 0:
        lines += [f"- **Trainable params:** {_md_count(net.trainable)}",
                  f"- **Non-trainable params:** {_md_count(net.non_trainable)}"]
    lines.append(f"- **Output shape:** {_md_code(shape_text(net.output_shape, net.convention))}")
    if net.condition_details:
        lines.append("- **Conditions:** " + ", ".join(_md_code(condition_text(c)) for c in net.condition_details))
    lines.append(f"- **Convention:** {net.convention}, **mode:** {net.mode}")
    return "\n".join(lines)


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
    counts = sorted({s for row in net.walk() if not _is_numeric(row.count) for s in row.count.free_symbols},
                    key=lambda s: s.name)
    if not counts or _is_numeric(expr):
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
    if (len(factors) < 2 or (coeff is not None and not coeff.is_Integer)
            or any(f.is_Pow and f.exp.is_negative for f in factors)):
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
    inner = r",\allowbreak ".join(_breakable(x, SHAPE_CELL) for x in shape)
    if convention == "torch":
        return f"[{inner}]"
    return f"({inner}{',' if len(shape) == 1 else ''})"


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
    if not _is_numeric(row.params):
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
        notes.append(f"Trainable ${latex(presented(net.trainable, net))}$, "
                     f"non-trainable ${latex(presented(net.non_trainable, net))}$.")
    exact_when = set(net.exact_when) if net.mode == "ideal" else set()
    exist = [c for c in net.condition_details if c not in exact_when]
    if exist:
        notes.append("Conditions: " + ", ".join(f"${condition_latex(c)}$" for c in exist) + ".")
    if net.mode == "ideal":
        notes.append("Ideal mode: every floor and ceiling replaced by its argument"
                     + (", which equals the exact count when " + ", ".join(
                         f"${condition_latex(c)}$" for c in net.exact_when) + "." if net.exact_when else "."))
    return notes


def _comment(text: str) -> str:
    return "\n".join("% " + line for line in text.strip().splitlines())


def latex_table(net: Network, depth: int | None = None) -> str:
    """A LaTeX fragment: a booktabs table of the layers and the total as a display.

    Needs \\usepackage{amsmath,amssymb,booktabs,array,longtable}.

    >>> import symparams
    >>> tex = latex_table(symparams.parse("I(28,28,1)-C(32,5)-P(2)-C(32,3)-P(2)-H(256)-O(10)"))
    >>> r"N_{\\mathrm{params}} = 217{,}706" in tex, r"\\toprule" in tex
    (True, True)
    """
    rows = visible_rows(net, depth)
    long = len(rows) > LONGTABLE_ROWS
    cols = (r"@{}>{\raggedright\arraybackslash}p{0.22\linewidth}>{\raggedright\arraybackslash}p{0.22\linewidth}"
            r">{\raggedright\arraybackslash}p{0.32\linewidth}r@{}")
    head = [r"Layer & Output shape & Parameters & Value \\", r"\midrule"]
    out = [_comment(f"symparams ({net.convention}, {net.mode}): {net.text}"),
           _comment("needs \\usepackage{" + ",".join(LATEX_PACKAGES) + "}")]
    if not rows:  # --depth 0: the totals alone
        return "\n".join(out + _total_equation(net) + _latex_notes(net))
    if long:
        out += [r"{\small", r"\begin{longtable}{" + cols + "}", r"\toprule", *head, r"\endhead",
                r"\bottomrule", r"\endfoot"]
    else:
        out += [r"\begin{table}[htbp]", r"\centering", r"\small", r"\begin{tabular}{" + cols + "}", r"\toprule",
                *head]
    for row in rows:
        # A long layer text wraps under itself, one em in from where it starts.
        indent = rf"\hangindent={row.depth + 1}em\hangafter=1 " if row.depth or len(row.text) > 20 else ""
        indent += rf"\hspace*{{{row.depth}em}}" if row.depth else ""
        value = f"${latex(row.params)}$" if _is_numeric(row.params) else ""
        out.append(f"{indent}{_layer_latex(row.text)} & ${_shape_latex(row.output_shape, net.convention)}$ & "
                   f"${_formula_latex(row, net)}$ & {value} \\\\")
    if long:
        out += [r"\end{longtable}", "}"]
    else:
        out += [r"\bottomrule", r"\end{tabular}", r"\end{table}"]
    out += _total_equation(net)
    out += _latex_notes(net)
    return "\n".join(out)


def _needs_landscape(net: Network, depth: int | None) -> bool:
    """Whether a table cell holds a piece of formula too wide to break on a portrait page.

    Inline math breaks only after a top-level + or -, and shapes after their commas,
    so the widest term decides. The limits are what the portrait columns hold at
    \\small (FORMULA_CELL, SHAPE_CELL).
    """
    rows = visible_rows(net, depth)
    widest_term = max((_visible_width(term) for r in rows for term in _latex_terms(presented(r.params, net))),
                      default=0)
    widest_axis = max((_visible_width(latex(x)) for r in rows for x in r.output_shape), default=0)
    return widest_term > FORMULA_CELL or widest_axis > SHAPE_CELL


def latex_document(net: Network, depth: int | None = None) -> str:
    """A whole LaTeX document (article) that pdflatex compiles as it is.

    >>> import symparams
    >>> doc = latex_document(symparams.parse("I(784)-O(10)"))
    >>> doc.startswith(r"\\documentclass"), doc.rstrip().endswith(r"\\end{document}")
    (True, True)
    """
    geometry = "landscape,margin=1.5cm" if _needs_landscape(net, depth) else "margin=2cm"
    # Each line of a file (definitions, comments) on its own line, as written.
    title = r"\par ".join(_layer_latex(line) for line in net.text.strip().splitlines() if line.strip())
    return "\n".join([
        r"\documentclass[10pt]{article}",
        r"\usepackage[" + geometry + "]{geometry}",
        r"\usepackage{" + ",".join(LATEX_PACKAGES) + "}",
        r"\pagestyle{empty}",
        r"\begin{document}",
        rf"\noindent\textbf{{Architecture}} ({net.convention}, {net.mode} mode):\\",
        r"{\raggedright " + title + r"\par}",
        r"\medskip",
        latex_table(net, depth),
        r"\end{document}",
        "",
    ])


def latex_repr(net: Network) -> str:
    """LaTeX for Jupyter (`_repr_latex_`): one display that MathJax and LaTeX both read.

    MathJax knows no booktabs or text-mode escapes, so this is an `array` in math mode
    with layer names in \\mathtt; nbconvert's PDF export pastes it into a document as is.

    >>> import symparams
    >>> latex_repr(symparams.parse("I(784)-O(10)")).startswith("$$")
    True
    """
    lines = [r"$$", r"\begin{array}{lll}",
             r"\text{Layer} & \text{Output shape} & \text{Parameters} \\", r"\hline"]
    for row in net.walk():
        indent = r"\quad " * row.depth
        lines.append(f"{indent}\\mathtt{{{escape_math(row.text)}}} & "
                     f"{_shape_latex(row.output_shape, net.convention)} & {latex(presented(row.params, net))} \\\\")
    total_shape = _shape_latex(net.output_shape, net.convention)
    lines += [r"\hline", rf"\text{{Total}} & {total_shape} & {latex(presented(net.params, net))} \\"]
    if net.non_trainable != 0:
        lines.append(rf"\text{{Non-trainable}} & & {latex(net.non_trainable)} \\")
    if net.condition_details:
        conds = r",\ ".join(condition_latex(c) for c in net.condition_details)
        lines.append(rf"\text{{Conditions}} & & {conds} \\")
    lines += [r"\end{array}", r"$$"]
    return "\n".join(lines)


def html(net: Network, depth: int | None = None) -> str:
    """An HTML table for Jupyter (`_repr_html_`); every piece of text escaped.

    >>> import symparams
    >>> "<td>7,850</td>" in html(symparams.parse("I(784)-O(10)"))
    True
    """
    from html import escape

    def cells(tag: str, values: list[str]) -> str:
        return "<tr>" + "".join(f"<{tag}>{v}</{tag}>" for v in values) + "</tr>"

    header = ["#", "Layer", "Kind", "Output shape", "Params", "Trainable", "Non-trainable"]
    out = ['<div class="symparams">', "<table>", "<thead>" + cells("th", header) + "</thead>", "<tbody>"]
    for row in visible_rows(net, depth):
        indent = "&emsp;" * row.depth
        out.append(cells("td", [escape(row.index), f"{indent}<code>{escape(row.text)}</code>", escape(row.kind),
                                f"<code>{escape(shape_text(row.output_shape, net.convention))}</code>",
                                escape(number(row.params)), escape(number(row.trainable)),
                                escape(number(row.non_trainable))]))
    out += ["</tbody>", "</table>", "<p>",
            f"<b>Total params:</b> {escape(number(net.params))}<br>",
            f"<b>Trainable params:</b> {escape(number(net.trainable))}<br>",
            f"<b>Non-trainable params:</b> {escape(number(net.non_trainable))}<br>",
            f"<b>Output shape:</b> <code>{escape(shape_text(net.output_shape, net.convention))}</code>"]
    if net.condition_details:
        out.append("<br><b>Conditions:</b> " + ", ".join(escape(condition_text(c)) for c in net.condition_details))
    out += ["</p>", "</div>"]
    return "\n".join(out)
