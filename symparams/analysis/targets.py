"""The totals a query can ask about: one table of their names, options and labels.

`solve`, `sweep`, `plot` and the command line read the same table, so a new total
(a new row) is known to all of them at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..base.errors import SolveError
from ..base.expr import AXIS_NAMES
from ..result import Network

if TYPE_CHECKING:
    from sympy import Expr


@dataclass(frozen=True)
class Target:
    """One total: its key, the command line's option, and how it is named in a
    sentence (`noun`), a table or answer (`short`) and on a plot's axis (`axis`);
    `{dtype}` stands for the element type of a total in bytes."""

    key: str
    option: str
    help: str
    noun: str
    short: str
    axis: str


TARGET_TABLE = (
    Target("params", "--params", "total parameters", "parameter count", "params", "parameters"),
    Target(
        "trainable",
        "--trainable",
        "trainable parameters",
        "trainable parameter count",
        "trainable",
        "trainable parameters",
    ),
    Target(
        "non_trainable",
        "--non-trainable",
        "non-trainable parameters",
        "non-trainable parameters",
        "non-trainable",
        "non-trainable parameters",
    ),
    Target(
        "active_params",
        "--active-params",
        "parameters one token touches (a mixture of experts: k of E routed experts)",
        "active parameter count",
        "active params",
        "active parameters",
    ),
    Target(
        "macs",
        "--macs",
        "multiply-accumulates of one forward pass (torchinfo's Mult-Adds)",
        "MACs",
        "macs",
        "MACs (multiply-accumulates)",
    ),
    Target(
        "memory",
        "--memory",
        "bytes of the parameters in --dtype",
        "parameter memory",
        "memory ({dtype} bytes)",
        "parameter memory (bytes, {dtype})",
    ),
    Target(
        "activations",
        "--activations",
        "bytes of every layer's output in one forward pass, in --dtype",
        "activation memory",
        "activations ({dtype} bytes)",
        "activation memory (bytes, {dtype})",
    ),
)
TARGETS = tuple(t.key for t in TARGET_TABLE)
_BY_KEY = {t.key: t for t in TARGET_TABLE}


def label(target: str, style: str = "noun", dtype: str = "float32") -> str:
    """How a total is named: `noun` in a sentence, `short` in an answer, `axis` on a plot.

    >>> label("params"), label("memory", "axis", "bfloat16"), label("axis:h", "short")
    ('parameter count', 'parameter memory (bytes, bfloat16)', 'output axis h')
    """
    if target.startswith("axis:"):
        return f"output axis {target[5:]}"
    if target not in _BY_KEY:
        raise SolveError(f"unknown total {target!r}: expected one of {', '.join(TARGETS)}")
    return str(getattr(_BY_KEY[target], style)).format(dtype=dtype)


def target_expr(net: Network, target: str, dtype: str = "float32") -> Expr:
    """The total a query asks about: a count, the MACs, memory in bytes, or an axis.

    An axis is `axis:NAME` (h, w, c, t, n, d as in LANGUAGE.md) or `axis:INDEX` in the
    convention's order.
    """
    if target in ("params", "trainable", "non_trainable", "active_params", "macs"):
        return getattr(net, target)
    if target == "memory":
        return net.memory(dtype)
    if target == "activations":
        return net.activation_memory(dtype)
    if target.startswith("axis:"):
        return output_axis(net, target[5:])
    raise SolveError(f"unknown target {target!r}: expected one of {', '.join(TARGETS)} or axis:NAME")


def output_axis(net: Network, which: str) -> Expr:
    """An output axis by name (channels-last names: h, w, c ...) or by index in the
    convention's order. A graph that returns several tensors: its first output's."""
    shape = net.shape
    ordered = net.output_shapes[0]
    names = AXIS_NAMES.get(len(shape), ())
    if which in names:
        return shape[names.index(which)]
    if which.isdigit() and int(which) < len(shape):
        return ordered[int(which)]
    choices = ", ".join(names) or "0"
    raise SolveError(
        f"the output {list(ordered)} has no axis {which!r}: expected one of {choices} "
        f"or an index from 0 to {len(shape) - 1}"
    )


def target_total(net: Network, target: str, dtype: str) -> Expr:
    """The expression of one total of `TARGETS` (not an axis: what a sweep or plot draws)."""
    if target not in TARGETS:
        raise SolveError(f"unknown total {target!r}: expected one of {', '.join(TARGETS)}")
    return target_expr(net, target, dtype)
