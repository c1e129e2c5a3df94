"""The text table, and the cells every report shares (numbers, conditions, rows).

Reports are functions of the result record and know nothing of the text or the parser.
The table follows the layout torchinfo and Keras users already read: one row per
layer, a rule, then the totals.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from ..base.expr import Condition, is_number, is_whole_number, sympy
from ..layers.shapes import shape_text
from ..result import LayerInfo, Network, dtype_bytes

if TYPE_CHECKING:
    from sympy import Expr


def number(expr: Expr) -> str:
    """A count for people: 217,706 when numeric, the formula otherwise."""
    if is_whole_number(expr):
        return f"{int(expr):,}"
    return str(expr)


def json_value(expr: Any) -> Any:
    """A JSON integer when fully numeric, else a string sympy reads back."""
    if is_whole_number(expr) and not isinstance(expr, bool):
        return int(expr)
    return str(expr)


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
        glue = (
            " "
            if line.startswith(("-", "|", "+", "]", ")", "*")) or joined.endswith(("-", "(", "[", ","))
            else "; "
        )
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
        body.append(
            [
                row.index,
                indent + clip(row.text),
                kind_text(row),
                shape_text(row.shape, net.convention),
                formula(row) if is_number(row.params) else str(row.params),
                count_cell(row.params),
                count_cell(row.trainable, row.params),
                number(row.non_trainable),
            ]
        )
    widths = [max(len(r[i]) for r in [header] + body) for i in range(len(header))]
    right = {0, 5, 6, 7}

    def line(cells: list[str]) -> str:
        return "  ".join(
            c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths))
        )

    rule_width = len(line(header))
    out = [
        headline(net.text),
        f"convention: {net.convention}, mode: {net.mode}",
        "=" * rule_width,
        line(header),
        "-" * rule_width,
    ]
    out += [line(r).rstrip() for r in body]
    out += [
        "=" * rule_width,
        f"Total params: {number(net.params)}",
        f"Trainable params: {number(net.trainable)}",
        f"Non-trainable params: {number(net.non_trainable)}",
        f"Output shape: {shape_text(net.shape, net.convention)}",
    ]
    if net.condition_details:
        out.append("Conditions: " + ", ".join(condition_text(c) for c in net.condition_details))
    out += note_lines(net)
    return "\n".join(out)


def note_lines(net: Network) -> list[str]:
    """The API-limit notes under the table, one line each."""
    return [f"Note: {note}" for note in net.notes]


# ---------------------------------------------------------------- MACs and memory beside the table
def analysis_lines(net: Network, macs: bool, memory: bool, dtype: str) -> list[str]:
    """MACs and memory as lines under the table."""
    dtype_bytes(dtype)
    lines = []
    if macs:
        lines.append(
            "MACs per layer: "
            + ", ".join(f"{row.text} {number(row.macs)}" for row in net.layers if row.macs != 0)
        )
        lines.append(f"Total MACs: {number(net.macs)}")
    if memory:
        lines.append(f"Parameter memory ({dtype}): {_bytes(net.memory(dtype))}")
        lines.append(
            f"Activation memory ({dtype}, one sample, every layer's output): "
            f"{_bytes(net.activation_memory(dtype))}"
        )
    return lines


def _bytes(expr: Any) -> str:
    if getattr(expr, "is_Integer", False):
        value = int(expr)
        for unit, size in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
            if value >= size:
                return f"{value:,} bytes ({value / size:.2f} {unit})"
        return f"{value:,} bytes"
    return f"{number(expr)} bytes"
