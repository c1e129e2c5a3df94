"""Renderers: functions of a Network that know nothing of the text or the parser.

The table follows the layout torchinfo and Keras users already read: one row per
layer, a rule, then the totals.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from .arith import is_number, sympy
from .network import LayerInfo, Network
from .shapes import Condition

if TYPE_CHECKING:
    from sympy import Expr


def _is_numeric(expr: Any) -> bool:
    """A whole number of either build: a Python int or a sympy Integer."""
    return isinstance(expr, int) or (isinstance(expr, sympy.Basic) and expr.is_Integer)


def number(expr: Expr) -> str:
    """A count for people: 217,706 when numeric, the formula otherwise."""
    if _is_numeric(expr):
        return f"{int(expr):,}"
    return str(expr)


def json_value(expr: Any) -> Any:
    """A JSON integer when fully numeric, else a string sympy reads back."""
    if _is_numeric(expr) and not isinstance(expr, bool):
        return int(expr)
    return str(expr)


def shape_text(shape: tuple[Expr, ...], convention: str) -> str:
    inner = ", ".join(str(x) for x in shape)
    return f"[{inner}]" if convention == "torch" else f"({inner}{',' if len(shape) == 1 else ''})"


def count_cell(expr: Expr, params: Expr | None = None) -> str:
    """A count column: the number when numeric. A symbolic count is in the formula
    column already, so the Params column points there and Trainable says '= params'
    when it is the same expression."""
    if is_number(expr):
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
                     formula(row) if is_number(row.params) else str(row.params), count_cell(row.params),
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


# ---------------------------------------------------------------- Markdown, HTML
# Reports for READMEs and notebooks. Like `table`, each is a function of the Network
# alone. The LaTeX reports live in symparams.latex, with sympy's printer they go through.


def _md_cell(text: str) -> str:
    """A GitHub table cell: '|' must be escaped even inside a code span (GFM spec 4.10)."""
    return text.replace("|", "\\|").replace("\n", " ")


def _md_code(text: str) -> str:
    return _md_cell(f"`{text}`")


def _md_count(expr: Expr) -> str:
    return number(expr) if _is_numeric(expr) else _md_code(str(expr))


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


# The LaTeX reports, here before they moved to symparams.latex (which loads sympy's
# printer, so the plain-text renderers do not import it).
_LATEX_REPORTS = ("LONGTABLE_ROWS", "latex_document", "latex_formula", "latex_repr", "latex_table", "presented")


def __getattr__(name: str) -> Any:
    if name in _LATEX_REPORTS:
        from . import latex

        return getattr(latex, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
