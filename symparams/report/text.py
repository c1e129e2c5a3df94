"""The text table, and the cells every report shares (numbers, conditions, rows).

Reports are functions of the result record and know nothing of the text or the parser.
The table follows the layout torchinfo and Keras users already read: one row per
layer, a rule, then the totals.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from ..base.expr import Condition, is_number, is_whole_number, printed, sympy
from ..layers.shapes import shape_text
from ..result import LayerInfo, Network, dtype_name

if TYPE_CHECKING:
    from sympy import Expr

    from ..analysis.compute import Ask


def number(expr: Expr) -> str:
    """A count for people: 217,706 when numeric, the formula otherwise."""
    if is_whole_number(expr):
        return f"{int(expr):,}"
    return printed(expr)


def json_value(expr: Any) -> Any:
    """A JSON integer when fully numeric, else a string sympy reads back."""
    if is_whole_number(expr) and not isinstance(expr, bool):
        return int(expr)
    return printed(expr)


def count_cell(expr: Expr, params: Expr | None = None) -> str:
    """A count column: the number when numeric. A symbolic count is in the formula
    column already, so the Params column points there and Trainable says '= params'
    when it is the same expression."""
    if is_number(expr):
        return number(expr)
    if params is None:
        return "(formula)"
    return "= params" if expr == params else printed(expr)


def formula(row: LayerInfo) -> str:
    """Weights + biases (+ non-trainable), so a reader sees where a count comes from."""
    parts = [row.weights, row.biases] + ([row.non_trainable] if row.non_trainable != 0 else [])
    if all(p == 0 for p in parts):
        return "0"
    return " + ".join(printed(p) for p in parts)


def condition_text(cond: Condition | Any) -> str:
    """A condition as people write it, the one wording of every report but LaTeX (which
    has its own printer): `k = c`, `h >= 12`, `h divisible by 4`, `h ≡ 1 (mod 2)`.

    >>> from symparams.base.expr import symbol
    >>> k, c = symbol("k"), symbol("c")
    >>> condition_text(sympy.Eq(k, c)), condition_text(sympy.Eq(sympy.Mod(k, 4), 0)), condition_text(k >= 12)
    ('k = c', 'k divisible by 4', 'k >= 12')
    """
    holds = cond.holds if isinstance(cond, Condition) else cond
    if isinstance(holds, bool) or holds in (sympy.true, sympy.false):
        return "true" if holds else "false"
    if isinstance(holds, sympy.Eq) and isinstance(holds.lhs, sympy.Mod) and holds.rhs == 0:
        value, divisor = holds.lhs.args
        return f"{value} divisible by {divisor}"
    if isinstance(holds, sympy.Eq) and isinstance(holds.lhs, sympy.Mod) and holds.rhs.is_Integer:
        value, divisor = holds.lhs.args
        return f"{value} ≡ {holds.rhs} (mod {divisor})"
    if isinstance(holds, sympy.Eq):
        return f"{holds.lhs} = {holds.rhs}"
    if isinstance(holds, sympy.Ne):
        return f"{holds.lhs} ≠ {holds.rhs}"
    if isinstance(holds, (sympy.And, sympy.Or)):
        word = " and " if isinstance(holds, sympy.And) else " or "
        return word.join(_grouped(condition_text(arg)) for arg in holds.args)
    if isinstance(holds, sympy.Not):
        return f"not {_grouped(condition_text(holds.args[0]))}"
    return str(holds)


def _grouped(text: str) -> str:
    return f"({text})" if " and " in text or " or " in text else text


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
    """Text cut to `width` characters, "..." marking the cut: a row's text (a block's
    text is all of its layers, and its layers have rows of their own beneath it), a title.

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
    return clip(joined, width)


def table(net: Network, depth: int | None = None) -> str:
    """The per-layer table and totals.

    >>> import symparams
    >>> print(table(symparams.parse("I(784)-O(10)")).splitlines()[-4])
    Total params: 7,850
    """
    header = ["#", "Layer", "Kind", "Output shape", "Params formula", "Params", "Trainable", "Non-trainable"]
    # A mixture of experts: a column of the parameters one token touches.
    sparse = net.inactive != 0
    header += ["Active"] if sparse else []
    body: list[list[str] | str] = []
    for section, rows in sections(net, depth):
        if section:
            body.append(section)
        for row in rows:
            body.append(_cells(row, net.convention, sparse))
    cells = [r for r in body if isinstance(r, list)]
    widths = [max(len(r[i]) for r in [header] + cells) for i in range(len(header))]
    right = {0, 5, 6, 7, 8}

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
    out += [line(r).rstrip() if isinstance(r, list) else r for r in body]
    out += [
        "=" * rule_width,
        f"Total params: {number(net.params)}",
        f"Trainable params: {number(net.trainable)}",
        f"Non-trainable params: {number(net.non_trainable)}",
        *([f"Active params (per token): {number(net.active_params)}"] if net.inactive != 0 else []),
        output_line(net),
    ]
    if net.condition_details:
        out.append("Conditions: " + ", ".join(condition_text(c) for c in net.condition_details))
    out += note_lines(net)
    return "\n".join(out)


def sections(net: Network, depth: int | None = None) -> list[tuple[str, list[LayerInfo]]]:
    """The visible rows of each named tensor of a graph under a line that names it, with
    its shape and subtotal; a chain is one section without a line.

    >>> import symparams
    >>> net = symparams.parse("x := I(4); y := x-H(2); y")
    >>> [(line, [row.text for row in rows]) for line, rows in sections(net)]
    [('>> x: [4], params 0', ['I(4)']), ('>> y (output): [2], params 10', ['x', 'H(2)'])]
    """
    if not net.tensors:
        return [("", visible_rows(net, depth))]
    found = []
    for t in net.tensors:
        rows = [
            r for top in net.layers[t.first : t.stop] for r in top.walk() if depth is None or r.depth < depth
        ]
        role = " (output)" if t.name in net.outputs else ""
        shape = shape_text(net.tensor_shape(t.name), net.convention)
        found.append((f">> {t.name}{role}: {shape}, params {number(net.subtotal(t.name))}", rows))
    return found


def output_line(net: Network) -> str:
    """`Output shape: [10]`; a graph that returns several tensors lists each by name."""
    if len(net.outputs) > 1:
        shapes = "; ".join(f"{n} {shape_text(net.tensor_shape(n), net.convention)}" for n in net.outputs)
        return f"Output shapes: {shapes}"
    return f"Output shape: {shape_text(net.shape, net.convention)}"


def _cells(row: LayerInfo, convention: str, sparse: bool = False) -> list[str]:
    indent = "  " * row.depth
    active = [count_cell(row.active_params, row.params)] if sparse else []
    return [
        row.index,
        indent + clip(row.text),
        kind_text(row),
        shape_text(row.shape, convention),
        formula(row) if is_number(row.params) else printed(row.params),
        count_cell(row.params),
        count_cell(row.trainable, row.params),
        number(row.non_trainable),
        *active,
    ]


def note_lines(net: Network) -> list[str]:
    """The API-limit notes under the table, one line each."""
    return [f"Note: {note}" for note in net.notes]


# ---------------------------------------------------------------- MACs and memory beside the table
def analysis_lines(net: Network, macs: bool, memory: bool, dtype: str, ask: Ask | None = None) -> list[str]:
    """MACs, FLOPs, KV cache, training memory and memory as lines under the table."""
    # Loaded only when asked for: the table alone, the command's usual output, needs none of it.
    from ..analysis.compute import LABELS, Ask, figures

    dtype_name(dtype)
    lines = []
    if macs:
        lines.append(
            "MACs per layer: "
            + ", ".join(f"{row.text} {number(row.macs)}" for row in net.layers if row.macs != 0)
        )
    found = figures(net, ask or Ask(macs=macs, dtype=dtype))
    for key, value in found.items():
        if key == "train_settings":
            continue
        if key == "train_memory":
            settings = train_settings_text(found["train_settings"])
            lines.append(f"Training memory ({settings}), per device:")
            lines += [f"  {part}: {_bytes(part_value)}" for part, part_value in value.items()]
        elif key.startswith("kv_cache"):
            lines.append(f"{LABELS[key]} ({dtype}): {_bytes(value)}")
        else:
            lines.append(f"{LABELS[key]}: {number(value)}")
    if memory:
        lines.append(f"Parameter memory ({dtype}): {_bytes(net.memory(dtype))}")
        lines.append(
            f"Activation memory ({dtype}, one sample, every layer's output): "
            f"{_bytes(net.activation_memory(dtype))}"
        )
    return lines


def train_settings_text(settings: dict[str, Any]) -> str:
    parts = [settings.get("optimizer", ""), settings.get("dtype", "")]
    if settings.get("mixed"):
        parts.append("mixed precision, float32 master copy and states")
    if settings.get("zero"):
        parts.append(f"ZeRO stage {settings['zero']} over {settings['devices']} devices")
    elif settings.get("devices", 1) > 1:
        parts.append(f"data parallel over {settings['devices']} devices")
    if settings.get("checkpoint"):
        parts.append("activation checkpointing")
    batch = settings.get("batch", 1)
    parts.append("one sample" if batch == 1 else f"batch {batch}")
    return ", ".join(p for p in parts if p)


def _bytes(expr: Any) -> str:
    if getattr(expr, "is_Integer", False):
        value = int(expr)
        for unit, size in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
            if value >= size:
                return f"{value:,} bytes ({value / size:.2f} {unit})"
        return f"{value:,} bytes"
    return f"{number(expr)} bytes"
