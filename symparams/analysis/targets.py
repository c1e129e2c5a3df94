"""The totals a query can ask about: one table of their names, options and labels.

`solve`, `sweep`, `plot` and the command line read the same table, so a new total
(a new row) is known to all of them at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..base.errors import SolveError
from ..base.expr import AXIS_NAMES, symbol
from ..result import Network
from .compute import kv_cache_bytes, train_memory

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
        "multiply-accumulates of one forward pass (FlopCounterMode's FLOPs / 2)",
        "MACs",
        "macs",
        "MACs (multiply-accumulates)",
    ),
    Target(
        "flops",
        "--flops",
        "floating-point operations of one forward pass (FlopCounterMode, 2 per MAC)",
        "forward FLOPs",
        "flops",
        "FLOPs of a forward pass",
    ),
    Target(
        "train_flops",
        "--train-flops",
        "FLOPs of one training step of one sample (3 × forward)",
        "training FLOPs",
        "train flops",
        "FLOPs of a training step",
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
    Target(
        "kv_cache",
        "--kv-cache",
        "bytes of the key/value cache for the whole sequence, in --dtype",
        "KV cache",
        "KV cache ({dtype} bytes)",
        "KV cache (bytes, {dtype})",
    ),
    Target(
        "train_memory",
        "--train-memory",
        "bytes of one training step (weights, gradients, Adam states, activations), in --dtype",
        "training memory",
        "training memory ({dtype} bytes)",
        "training memory (bytes, {dtype})",
    ),
    Target(
        "batch_memory",
        "--batch-memory",
        "bytes of a training step for a batch of `batch` samples (Adam, --dtype): solve --for batch",
        "training memory of the batch",
        "training memory of the batch ({dtype} bytes)",
        "training memory of a batch (bytes, {dtype})",
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
    if target in ("params", "trainable", "non_trainable", "active_params", "macs", "flops", "train_flops"):
        return getattr(net, target)
    if target == "kv_cache":
        return kv_cache_bytes(net, dtype)
    if target == "train_memory":
        return train_memory(net, "adam", dtype).total
    if target == "batch_memory":  # the batch is a symbol of its own, which solve can solve for
        return train_memory(net, "adam", dtype, batch=symbol("batch")).total
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
