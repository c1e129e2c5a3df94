"""Markdown and HTML: reports for READMEs and notebooks, each a function of the result alone.

The LaTeX reports live in `report.latex`, with sympy's printer they go through.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..base.expr import is_whole_number, printed
from ..layers.shapes import shape_text
from ..result import Network
from .text import condition_text, number, sections, visible_rows

if TYPE_CHECKING:
    from sympy import Expr


def _md_cell(text: str) -> str:
    """A GitHub table cell: '|' must be escaped even inside a code span (GFM spec 4.10)."""
    return text.replace("|", "\\|").replace("\n", " ")


def _md_code(text: str) -> str:
    return _md_cell(f"`{text}`")


def _md_count(expr: Expr) -> str:
    return number(expr) if is_whole_number(expr) else _md_code(printed(expr))


def markdown(net: Network, depth: int | None = None) -> str:
    """A GitHub-flavoured Markdown table of the layers, then the totals.

    >>> import symparams
    >>> print(markdown(symparams.parse("I(784)-O(10)")).splitlines()[3])
    | 1 | `O(10)` | Output | `[10]` | 7,850 |
    """
    frozen = any(row.non_trainable != 0 for row in net.walk())
    header = ["#", "Layer", "Kind", "Output shape", "Params"] + (["Non-trainable"] if frozen else [])
    lines = [
        "| " + " | ".join(header) + " |",
        "|" + "|".join(["---:", "---", "---", "---", "---:"] + (["---:"] if frozen else [])) + "|",
    ]
    firsts = {id(rows[0]): t for t, (_, rows) in zip(net.tensors, sections(net, depth)) if rows}
    for row in visible_rows(net, depth):
        if id(row) in firsts:  # a graph: a row naming each tensor, its shape and subtotal
            t = firsts[id(row)]
            role = " (output)" if t.name in net.outputs else ""
            shape = _md_code(shape_text(net.tensor_shape(t.name), net.convention))
            named = ["", f"**{_md_cell(t.name)}**{role}", "", shape, _md_count(net.subtotal(t.name))]
            lines.append("| " + " | ".join(named + ([""] if frozen else [])) + " |")
        indent = "&emsp;" * row.depth
        cells = [
            row.index,
            indent + _md_code(row.text),
            _md_cell(row.kind),
            _md_code(shape_text(row.shape, net.convention)),
            _md_count(row.params),
        ]
        if frozen:
            cells.append(_md_count(row.non_trainable))
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", f"- **Total params:** {_md_count(net.params)}"]
    if net.non_trainable != 0:
        lines += [
            f"- **Trainable params:** {_md_count(net.trainable)}",
            f"- **Non-trainable params:** {_md_count(net.non_trainable)}",
        ]
    if net.inactive != 0:
        lines.append(f"- **Active params (per token):** {_md_count(net.active_params)}")
    if len(net.outputs) > 1:  # a graph that returns several tensors
        shapes = "; ".join(
            f"{name} {_md_code(shape_text(net.tensor_shape(name), net.convention))}" for name in net.outputs
        )
        lines.append(f"- **Output shapes:** {shapes}")
    else:
        lines.append(f"- **Output shape:** {_md_code(shape_text(net.shape, net.convention))}")
    if net.condition_details:
        lines.append(
            "- **Conditions:** " + ", ".join(_md_code(condition_text(c)) for c in net.condition_details)
        )
    lines += [f"- **Note:** {_md_cell(note)}" for note in net.notes]
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
        out.append(
            cells(
                "td",
                [
                    escape(row.index),
                    f"{indent}<code>{escape(row.text)}</code>",
                    escape(row.kind),
                    f"<code>{escape(shape_text(row.shape, net.convention))}</code>",
                    escape(number(row.params)),
                    escape(number(row.trainable)),
                    escape(number(row.non_trainable)),
                ],
            )
        )
    out += [
        "</tbody>",
        "</table>",
        "<p>",
        f"<b>Total params:</b> {escape(number(net.params))}<br>",
        f"<b>Trainable params:</b> {escape(number(net.trainable))}<br>",
        f"<b>Non-trainable params:</b> {escape(number(net.non_trainable))}<br>",
        *(
            [f"<b>Active params (per token):</b> {escape(number(net.active_params))}<br>"]
            if net.inactive != 0
            else []
        ),
        _html_outputs(net),
    ]
    if net.condition_details:
        out.append(
            "<br><b>Conditions:</b> " + ", ".join(escape(condition_text(c)) for c in net.condition_details)
        )
    out += [f"<br><b>Note:</b> {escape(note)}" for note in net.notes]
    out += ["</p>", "</div>"]
    return "\n".join(out)


def _html_outputs(net: Network) -> str:
    from html import escape

    if len(net.outputs) > 1:  # a graph that returns several tensors
        shapes = "; ".join(
            f"{escape(name)} <code>{escape(shape_text(net.tensor_shape(name), net.convention))}</code>"
            for name in net.outputs
        )
        return f"<b>Output shapes:</b> {shapes}"
    return f"<b>Output shape:</b> <code>{escape(shape_text(net.shape, net.convention))}</code>"
