"""Compute and memory of a network, read off its record: training FLOPs, the key/value cache
of its attention layers, and the memory of a training step (weights, gradients, optimizer
states, saved activations), by optimizer, precision and ZeRO stage.

Pure functions of the record; every figure is an expression like the parameter count.
The rules and the measurements behind them are in the README, section "Compute and memory".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..base.errors import SymparamsError
from ..base.expr import ceil_div, product, sympy, total
from ..result import Network, in_bytes

if TYPE_CHECKING:
    from sympy import Expr


class ComputeError(SymparamsError):
    headline = "Cannot compute"


# Optimizer state tensors of the parameters' size that torch.optim keeps after a step
# (exp_avg and exp_avg_sq for Adam/AdamW, momentum_buffer for SGD with momentum). Adam and
# AdamW also keep a 4-byte `step` tensor per parameter tensor, not counted here.
OPTIMIZER_STATES = {"sgd": 0, "momentum": 1, "adam": 2, "adamw": 2, "amsgrad": 3}


def optimizer_states(optimizer: str) -> int:
    if optimizer not in OPTIMIZER_STATES:
        raise ComputeError(f"unknown optimizer {optimizer!r}: expected one of {', '.join(OPTIMIZER_STATES)}")
    return OPTIMIZER_STATES[optimizer]


# ---------------------------------------------------------------- FLOPs
def sequence_length(net: Network) -> Any:
    """Tokens of one sample: the first axis of a sequence input I(t, c), or of token ids I(t)
    read by an embedding; None for images and vectors."""
    shape = net.layers[0].shape
    if len(shape) == 2 or len(shape) == 1 and any(row.kind == "Embedding" for row in net.walk()):
        return shape[0]
    return None


def per_token(net: Network, expr: Any) -> Any:
    t = sequence_length(net)
    if t is None:
        raise ComputeError("per token needs a sequence input, I(t) or I(t, c)")
    quotient = sympy.Integer(expr) / t if isinstance(expr, int) else expr / t
    return quotient if isinstance(quotient, int) else sympy.expand(quotient)


def rule_of_thumb(net: Network) -> Expr:
    """The 6·N·D rule for training FLOPs per token (D = 1): 6 × the trainable parameters."""
    return 6 * net.trainable


# ---------------------------------------------------------------- KV cache
def _need_attention(net: Network) -> None:
    if net.kv_token == 0:
        raise ComputeError("KV cache asked of a network without attention")


def kv_cache_bytes(net: Network, dtype: str = "float16") -> Expr:
    """Bytes of the key/value cache for the whole sequence, one sample:
    Σ over attention layers 2·kv·k·min(W, t)·bytes (t without a window).

    >>> import symparams
    >>> kv_cache_bytes(symparams.parse("I(t,4096)-TB(32,11008,kv=8)*32"), "bfloat16")
    131072*t
    """
    _need_attention(net)
    return in_bytes(net.kv_cache, dtype)


def kv_cache_bytes_per_token(net: Network, dtype: str = "float16") -> Expr:
    """Bytes one more token adds to the cache while the sequence is within every window:
    Σ over attention layers 2·kv·k·bytes."""
    _need_attention(net)
    return in_bytes(net.kv_token, dtype)


# ---------------------------------------------------------------- training memory
@dataclass(frozen=True)
class TrainMemory:
    """Bytes of one training step on one device, by part."""

    weights: Any
    gradients: Any
    optimizer: Any  # the optimizer's states, and the float32 master copy in mixed precision
    activations: Any  # saved for backward, one sample
    settings: dict[str, Any]

    @property
    def total(self) -> Any:
        return self.weights + self.gradients + self.optimizer + self.activations

    def parts(self) -> dict[str, Any]:
        return {
            "weights": self.weights,
            "gradients": self.gradients,
            "optimizer": self.optimizer,
            "activations": self.activations,
            "total": self.total,
        }


def saved_elements(net: Network, checkpoint: bool = False) -> Expr:
    """Elements saved for backward in one training step of one sample (the rows' `saved`).

    With `checkpoint`, every block of the network's top level (a TB, a definition, a
    repeated body) keeps only its input, once per run, as torch.utils.checkpoint does; the
    recomputation of one block during backward is transient and not counted.
    """
    if not checkpoint:
        return net.saved
    parts = []
    previous: tuple[Any, ...] = net.layers[0].shape
    for row in net.layers:
        parts.append(row.count * product(previous) if row.children else row.saved)
        previous = row.shape
    return total(parts)


def train_memory(
    net: Network,
    optimizer: str = "adam",
    dtype: str = "float32",
    mixed: bool = False,
    zero: int = 0,
    devices: int = 1,
    checkpoint: bool = False,
    batch: Any = 1,
) -> TrainMemory:
    """Memory of one training step: weights and gradients in `dtype`; optimizer states in
    `dtype`, or with `mixed` in float32 beside a float32 master copy of the weights (the
    mixed precision of Megatron and DeepSpeed: 2 + 2 + 12 bytes a parameter with Adam);
    saved activations of `batch` samples (per device) in `dtype`. ZeRO stage 1 shards the
    optimizer states over `devices`, stage 2 also the gradients, stage 3 also the weights;
    without ZeRO every data-parallel device holds everything.

    >>> import symparams
    >>> m = train_memory(symparams.parse("I(784)-H(100)-O(10)"), "adam")
    >>> m.weights, m.gradients, m.optimizer
    (318040, 318040, 636080)
    """
    states = optimizer_states(optimizer)
    if zero not in (0, 1, 2, 3):
        raise ComputeError(f"ZeRO has stages 1, 2 and 3, not {zero}")
    if devices < 1:
        raise ComputeError(f"--devices must be at least 1, got {devices}")
    n = net.trainable
    weights = in_bytes(net.params, dtype)
    gradients = in_bytes(n, dtype)
    optim = in_bytes(n, "float32") * (states + 1) if mixed else in_bytes(n, dtype) * states

    def shard(part: Any, stage: int) -> Any:
        return ceil_div(part, devices) if zero >= stage and devices > 1 else part

    return TrainMemory(
        weights=shard(weights, 3),
        gradients=shard(gradients, 2),
        optimizer=shard(optim, 1),
        activations=in_bytes(batch * saved_elements(net, checkpoint), dtype),
        settings={
            "optimizer": optimizer,
            "dtype": dtype,
            "mixed": mixed,
            "zero": zero,
            "devices": devices,
            "checkpoint": checkpoint,
            "batch": batch if isinstance(batch, int) else str(batch),
        },
    )


# ---------------------------------------------------------------- what a report asks for
@dataclass(frozen=True)
class Ask:
    """The figures a report shows beside the parameter counts (the command line's options)."""

    macs: bool = False
    flops: bool = False
    kv_cache: bool = False
    train: bool = False
    dtype: str = "float32"
    optimizer: str = "adam"
    mixed: bool = False
    zero: int = 0
    devices: int = 1
    checkpoint: bool = False
    batch: int = 1


def figures(net: Network, ask: Ask) -> dict[str, Any]:
    """The asked figures by JSON key, in the order reports show them. `train_memory` is a
    dict of its parts (weights, gradients, optimizer, activations, total)."""
    found: dict[str, Any] = {}
    if ask.macs:
        found["macs"] = net.macs
    if ask.flops or ask.train:
        found["flops"] = net.flops
        found["train_flops"] = net.train_flops
        if sequence_length(net) is not None:
            found["train_flops_per_token"] = per_token(net, net.train_flops)
            found["six_n_per_token"] = rule_of_thumb(net)
    if ask.kv_cache:
        found["kv_cache_bytes_per_token"] = kv_cache_bytes_per_token(net, ask.dtype)
        found["kv_cache_bytes"] = ask.batch * kv_cache_bytes(net, ask.dtype)
    if ask.train:
        memory = train_memory(
            net, ask.optimizer, ask.dtype, ask.mixed, ask.zero, ask.devices, ask.checkpoint, ask.batch
        )
        found["train_memory"] = memory.parts()
        found["train_settings"] = memory.settings
    return found


LABELS = {
    "macs": "Total MACs",
    "flops": "Forward FLOPs",
    "train_flops": "Training FLOPs (forward + backward, 3 × forward)",
    "train_flops_per_token": "Training FLOPs per token",
    "six_n_per_token": "Rule of thumb 6·N per token",
    "kv_cache_bytes_per_token": "KV cache per token",
    "kv_cache_bytes": "KV cache for the sequence",
    "train_memory": "Training memory",
}
