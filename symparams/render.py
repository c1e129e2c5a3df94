"""Renderers: functions of a Network that know nothing of the text or the parser.

The table follows the layout torchinfo and Keras users already read: one row per
layer, a rule, then the totals.
"""

from __future__ import annotations

import json
from typing import Any

import sympy
from sympy import Expr

from .network import LayerInfo, Network
from .shapes import Condition


def number(expr: Expr) -> str:
    """A count for people: 217,706 when numeric, the formula otherwise."""
    if isinstance(expr, sympy.Integer) or (isinstance(expr, int)):
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
    rows = []
    for row in net.walk():
        if depth is None or row.depth <= depth:
            rows.append(row)
    return rows


def table(net: Network, depth: int | None = None) -> str:
    """The per-layer table and totals.

    >>> import symparams
    >>> print(table(symparams.parse("I(784)-O(10)")).splitlines()[-4])
    Total params: 7,850
    """
    header = ["#", "Layer", "Kind", "Output shape", "Formula", "Params", "Trainable", "Non-trainable"]
    body = []
    for row in visible_rows(net, depth):
        indent = "  " * row.depth
        body.append([row.index, indent + row.text, row.kind, shape_text(row.output_shape, net.convention),
                     formula(row), number(row.params), number(row.trainable), number(row.non_trainable)])
    widths = [max(len(r[i]) for r in [header] + body) for i in range(len(header))]
    right = {0, 5, 6, 7}

    def line(cells: list[str]) -> str:
        return "  ".join(c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths)))

    rule_width = len(line(header))
    out = [f"{net.text.strip() if len(net.text) < 200 else net.text[:197] + '...'}",
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
