"""Formulas of the convolutional, pooling, dense, normalisation and shape layers.

Sources: PyTorch's Conv*d/ConvTranspose*d/MaxPool*d docs (output-size formulas,
weight shapes (out, in/g, *k) and (in, out/g, *k)) and Keras 3's conv_output_length /
deconv_output_length (keras/src/utils/conv_utils.py, ops/operation_utils.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..base.errors import ShapeError
from ..base.expr import (
    Condition,
    at_least,
    divides,
    equality,
    exact_div,
    is_false,
    is_true,
    largest,
    product,
    provably_equal,
)
from .registry import (
    INTS,
    PADDING,
    PAIRS,
    RATE,
    SPATIAL0,
    LayerCall,
    LayerOut,
    Param,
    flag,
    padding,
    register,
    size,
    spatial,
)
from .shapes import axis_names, conv_min_input, conv_out, pool_min_input, pool_out

if TYPE_CHECKING:
    from sympy import Expr

_DIMS = {2: "1D", 3: "2D", 4: "3D"}


def need_spatial(call: LayerCall, what: str) -> str:
    """The dimensionality suffix ('2D'); a layer over spatial axes needs some."""
    if call.rank < 2:
        # The builder puts the layer as written before the message.
        raise ShapeError(
            f"needs an input with spatial axes (a sequence, image or volume), got a vector of {call.shape[0]}"
        )
    return _DIMS.get(call.rank, f"{call.rank - 1}D")


def _axis_conditions(call: LayerCall, minimum: tuple[Expr, ...]) -> tuple[Condition, ...]:
    names = axis_names(call.rank)
    conditions = []
    for x, m, name in zip(call.spatial, minimum, names):
        cond = at_least(x, m, "")
        # Worded only when kept or failed, and the size printed only when it failed (then it
        # is a number): printing a long symbolic size costs most of a layer.
        if is_false(cond.holds):
            cond = Condition(cond.holds, f"needs an input of at least {m} on axis {name}, got {x}")
        elif not is_true(cond.holds):
            cond = Condition(cond.holds, f"needs an input of at least {m} on axis {name}")
        conditions.append(cond)
    return tuple(conditions)


def conv_macs(out_spatial: tuple[Expr, ...], weights: Expr, biases: Expr) -> Expr:
    """torchinfo's Mult-Adds of a convolution: every weight and bias once per output
    position (layer_info.calculate_macs: params × ∏ output spatial, for class names with
    "Conv", transposed ones included)."""
    return (weights + biases) * product(out_spatial)


def _group_conditions(c: Expr, n: Expr, g: Expr) -> tuple[Condition, ...]:
    return (
        divides(g, c, f"needs input channels {c} divisible by groups g={g}"),
        divides(g, n, f"needs output channels {n} divisible by groups g={g}"),
    )


def _conv_axes(call: LayerCall) -> tuple[tuple[Expr, ...], tuple[Condition, ...]]:
    a = call.args
    pads = a.p if isinstance(a.p, tuple) else (a.p,) * len(call.spatial)
    out = tuple(conv_out(x, f, s, p, d) for x, f, s, p, d in zip(call.spatial, a.f, a.s, pads, a.d))
    minimum = tuple(conv_min_input(f, p, d) for f, p, d in zip(a.f, pads, a.d))
    return out, _axis_conditions(call, minimum)


@register(
    "C",
    "Conv",
    params=(
        size("n"),
        spatial("f"),
        spatial("s", 1),
        padding(),
        spatial("d", 1),
        size("g", 1),
        flag("bias", True),
    ),
)
def conv(call: LayerCall) -> LayerOut:
    """Convolution over the spatial axes: n·(c/g)·∏f weights + n biases."""
    dims = need_spatial(call, "C")
    a, c = call.args, call.channels
    out, conditions = _conv_axes(call)
    weights = a.n * exact_div(c, a.g) * product(a.f)
    biases = a.n if a.bias else 0
    return LayerOut(
        out + (a.n,),
        f"Conv{dims}",
        weights,
        biases,
        conditions=conditions + _group_conditions(c, a.n, a.g),
        macs=conv_macs(out, weights, biases),
    )


def _transposed_axis(x: Expr, f: Expr, s: Expr, p: Expr | str, op: Expr, d: Expr) -> Expr:
    if p == "same":  # Keras: x·s
        return x * s
    if p == "valid":  # Keras: x·s + max(d(f-1)+1-s, 0)
        return x * s + largest(d * (f - 1) + 1 - s, 0)
    return (x - 1) * s - 2 * p + d * (f - 1) + op + 1


@register(
    "T",
    "ConvT",
    params=(
        size("n"),
        spatial("f"),
        spatial("s", 1),
        Param("p", PADDING, None),
        Param("op", SPATIAL0, 0),
        spatial("d", 1),
        size("g", 1),
        flag("bias", True),
    ),
)
def conv_transpose(call: LayerCall) -> LayerOut:
    """Transposed convolution: c·(n/g)·∏f weights + n biases."""
    dims = need_spatial(call, "T")
    a, c = call.args, call.channels
    p = a.p
    if p is None:  # each framework's own default
        p = (0,) * len(call.spatial) if call.convention == "torch" else "valid"
    pads = p if isinstance(p, tuple) else (p,) * len(call.spatial)
    if any(not isinstance(q, str) for q in pads) is False and any(o != 0 for o in a.op):
        raise ShapeError("needs an integer padding p to take op (output padding)")
    out = tuple(
        _transposed_axis(x, f, s, q, op, d)
        for x, f, s, q, op, d in zip(call.spatial, a.f, a.s, pads, a.op, a.d)
    )
    names = axis_names(call.rank)
    conditions = tuple(
        at_least(o, 1, f"gives an empty output on axis {name} ({o})") for o, name in zip(out, names)
    )
    weights = c * exact_div(a.n, a.g) * product(a.f)
    biases = a.n if a.bias else 0
    return LayerOut(
        out + (a.n,),
        f"ConvTranspose{dims}",
        weights,
        biases,
        conditions=conditions + _group_conditions(c, a.n, a.g),
        macs=conv_macs(out, weights, biases),
    )


@register(
    "DW",
    "DepthwiseConv",
    params=(spatial("f"), spatial("s", 1), padding(), size("m", 1), flag("bias", True), spatial("d", 1)),
)
def depthwise(call: LayerCall) -> LayerOut:
    """Depthwise convolution with multiplier m: c·m·∏f weights + c·m biases."""
    dims = need_spatial(call, "DW")
    a, c = call.args, call.channels
    out, conditions = _conv_axes(call)
    n = c * a.m
    weights, biases = n * product(a.f), n if a.bias else 0
    return LayerOut(
        out + (n,),
        f"DepthwiseConv{dims}",
        weights,
        biases,
        conditions=conditions,
        macs=conv_macs(out, weights, biases),
    )


@register(
    "SC",
    "SeparableConv",
    params=(
        size("n"),
        spatial("f"),
        spatial("s", 1),
        padding(),
        size("m", 1),
        flag("bias", True),
        spatial("d", 1),
    ),
)
def separable(call: LayerCall) -> LayerOut:
    """Depthwise (no bias) then 1x1 pointwise: c·m·∏f + c·m·n weights + n biases."""
    dims = need_spatial(call, "SC")
    a, c = call.args, call.channels
    out, conditions = _conv_axes(call)
    weights = c * a.m * product(a.f) + c * a.m * a.n
    biases = a.n if a.bias else 0
    # Both convolutions of the pair write at the output's positions (the 1x1 keeps them).
    return LayerOut(
        out + (a.n,),
        f"SeparableConv{dims}",
        weights,
        biases,
        conditions=conditions,
        macs=conv_macs(out, weights, biases),
    )


def _pool(call: LayerCall, kind: str, short: str) -> LayerOut:
    dims = need_spatial(call, short)
    a = call.args
    strides = a.s if a.s is not None else a.f
    pads = a.p if isinstance(a.p, tuple) else (a.p,) * len(call.spatial)
    out = tuple(pool_out(x, f, s, p, a.ceil) for x, f, s, p in zip(call.spatial, a.f, strides, pads))
    minimum = tuple(pool_min_input(f, s, p, a.ceil) for f, s, p in zip(a.f, strides, pads))
    if kind == "AvgPool" and dims == "3D":
        # torch's avg_pool3d refuses an input smaller than the kernel on any axis, padding and
        # ceil mode notwithstanding ("input image (T: 3 H: 3 W: 3) smaller than kernel size");
        # its 1D and 2D pools count the padding.
        minimum = tuple(m if p == "same" else f for m, f, p in zip(minimum, a.f, pads))
    return LayerOut(out + (call.channels,), f"{kind}{dims}", conditions=_axis_conditions(call, minimum))


_POOL_PARAMS = (spatial("f"), spatial("s", None), padding(), flag("ceil", False))


@register("P", "MaxPool", params=_POOL_PARAMS)
def max_pool(call: LayerCall) -> LayerOut:
    """Max pooling; s defaults to f; ceil=true is PyTorch's ceil_mode."""
    return _pool(call, "MaxPool", "P")


@register("A", "AvgPool", params=_POOL_PARAMS)
def avg_pool(call: LayerCall) -> LayerOut:
    """Average pooling; s defaults to f; ceil=true is PyTorch's ceil_mode."""
    return _pool(call, "AvgPool", "A")


@register("GAP", "GlobalAvgPool")
def global_avg_pool(call: LayerCall) -> LayerOut:
    """Spatial axes averaged away: → (c)."""
    dims = need_spatial(call, "GAP")
    return LayerOut((call.channels,), f"GlobalAvgPool{dims}")


@register("GMP", "GlobalMaxPool")
def global_max_pool(call: LayerCall) -> LayerOut:
    """Spatial axes max-pooled away: → (c)."""
    dims = need_spatial(call, "GMP")
    return LayerOut((call.channels,), f"GlobalMaxPool{dims}")


@register("AAP", "AdaptiveAvgPool", params=(spatial("o"),))
def adaptive_avg_pool(call: LayerCall) -> LayerOut:
    """Every spatial axis becomes o."""
    dims = need_spatial(call, "AAP")
    return LayerOut(tuple(call.args.o) + (call.channels,), f"AdaptiveAvgPool{dims}")


@register("AMP", "AdaptiveMaxPool", params=(spatial("o"),))
def adaptive_max_pool(call: LayerCall) -> LayerOut:
    """Every spatial axis becomes o."""
    dims = need_spatial(call, "AMP")
    return LayerOut(tuple(call.args.o) + (call.channels,), f"AdaptiveMaxPool{dims}")


@register("Z", "ZeroPad", params=(Param("p", PAIRS, None), Param("pad", INTS, None)))
def zero_pad(call: LayerCall) -> LayerOut:
    """Zero padding: each spatial axis grows by what is added before and after it.

    `p` is per axis in the text's order, an integer for both sides or a pair (Keras's
    `ZeroPadding2D(((top, bottom), (left, right)))`); `pad` is torch's list, last axis
    first (`nn.ZeroPad2d((left, right, top, bottom))`, `F.pad`)."""
    dims = need_spatial(call, "Z")
    a, rank = call.args, len(call.spatial)
    if (a.p is None) == (a.pad is None):
        raise ShapeError(
            "takes its padding as p (per axis, Keras's order) or pad (torch's order), one of them"
        )
    pairs = a.p
    if a.pad is not None:
        if len(a.pad) % 2 or len(a.pad) > 2 * rank:
            raise ShapeError(
                f"pad takes pairs (before, after), last axis first, for at most {rank} axes: "
                f"got {len(a.pad)} values"
            )
        given = [tuple(a.pad[i : i + 2]) for i in range(0, len(a.pad), 2)][::-1]
        pairs = ((0, 0),) * (rank - len(given)) + tuple(given)
    out = tuple(x + before + after for x, (before, after) in zip(call.spatial, pairs))
    return LayerOut(out + (call.channels,), f"ZeroPad{dims}")


@register("F", "Flatten")
def flatten(call: LayerCall) -> LayerOut:
    """Everything into one axis: → (∏ shape)."""
    return LayerOut((product(call.shape),), "Flatten")


@register("SEQ", "Tokens")
def tokens(call: LayerCall) -> LayerOut:
    """Image or volume → sequence (∏ spatial, c), as a ViT flattens its patches."""
    need_spatial(call, "SEQ")
    return LayerOut((product(call.spatial), call.channels), "Tokens")


def _dense(call: LayerCall, kind: str) -> LayerOut:
    a = call.args
    out: tuple[Expr, ...]
    if call.rank >= 3 and not a.get("flat", True):
        # On the last axis of every position: Keras's Dense on a 4-D tensor, torch's
        # Linear on channels-last (ConvNeXt, Swin). FLOPs per position, as
        # FlopCounterMode counts the Linear on its flattened (∏ spatial, c) view.
        weights, biases = call.channels * a.n, a.n if a.bias else 0
        macs = product(call.spatial) * weights
        return LayerOut(tuple(call.spatial) + (a.n,), kind, weights, biases, macs=macs)
    if call.rank == 2:  # a sequence: per position, like nn.Linear and Keras Dense
        fan_in, out = call.channels, (call.shape[0], a.n)
    else:  # a vector, or an image/volume flattened first (the seeds' notation)
        fan_in, out = product(call.shape), (a.n,)
    weights, biases = fan_in * a.n, a.n if a.bias else 0
    # torchinfo counts a non-conv layer's parameters once per sample (batch × params), so
    # a Linear on a sequence counts once, not once per position.
    return LayerOut(out, kind, weights, biases, macs=weights + biases)


@register("H", "Dense", params=(size("n"), flag("bias", True), flag("flat", True)))
def dense(call: LayerCall) -> LayerOut:
    """Dense layer: in·n weights + n biases; flattens images (flat=false: per position on
    the last axis), acts per position on sequences."""
    return _dense(call, "Dense")


@register("D", "Dropout", params=(Param("r", RATE),))
def dropout(call: LayerCall) -> LayerOut:
    """Dropout: no parameters."""
    return LayerOut(call.shape, "Dropout")


@register("BN", "BatchNorm", params=(flag("affine", True), flag("scale", True), flag("center", True)))
def batch_norm(call: LayerCall) -> LayerOut:
    """Batch normalisation over the last axis.

    torch counts γ, β (2c); the running statistics are buffers, not parameters.
    keras counts γ, β trainable and the moving mean and variance (2c) non-trainable.
    `scale=false` drops γ, `center=false` β (Keras's options; torch's affine is both at
    once, and its formula without one of them is the natural one, LANGUAGE.md §5).
    """
    c = call.channels
    a = call.args
    weights = c if a.affine and a.scale else 0
    biases = c if a.affine and a.center else 0
    moving = 2 * c if call.convention == "keras" else 0
    dims = _DIMS.get(call.rank, "1D") if call.convention == "torch" else ""
    # Mult-Adds as torchinfo: γ and β once per sample; running statistics are buffers.
    return LayerOut(call.shape, f"BatchNorm{dims}", weights, biases, moving, macs=weights + biases)


@register("LN", "LayerNorm", params=(flag("bias", True),))
def layer_norm(call: LayerCall) -> LayerOut:
    """Layer normalisation over the last axis: γ and β (c each; no β without bias)."""
    c = call.channels
    biases = c if call.args.bias else 0
    return LayerOut(call.shape, "LayerNorm", c, biases, macs=c + biases)


@register("RMS", "RMSNorm")
def rms_norm(call: LayerCall) -> LayerOut:
    """RMS normalisation over the last axis: a scale of c."""
    return LayerOut(call.shape, "RMSNorm", call.channels, macs=call.channels)


def _activation(name: str, kind: str) -> None:
    def activation(call: LayerCall) -> LayerOut:
        return LayerOut(call.shape, kind)

    activation.__doc__ = f"{kind} activation: no parameters."
    register(name)(activation)


for _name, _kind in [
    ("relu", "ReLU"),
    ("relu6", "ReLU6"),
    ("gelu", "GELU"),
    ("silu", "SiLU"),
    ("tanh", "Tanh"),
    ("sigmoid", "Sigmoid"),
    ("softmax", "Softmax"),
    ("elu", "ELU"),
    ("id", "Identity"),
]:
    _activation(_name, _kind)


@register("O", "Output", params=(size("n"), flag("bias", True), flag("tied", False)))
def output(call: LayerCall) -> LayerOut:
    """Output layer, like H; tied=true shares the weights of the first E(v, d) with v = n."""
    out = _dense(call, "Output")
    if not call.args.tied:
        return out
    embeddings = call.facts.get("embeddings", ())
    match = [d for v, d in embeddings if provably_equal(v, call.args.n, simplify=True)]
    if not match:
        raise ShapeError(f"tied=true needs an earlier E(v, d) with v = {call.args.n}")
    fan_in = call.channels if call.rank == 2 else product(call.shape)
    same_width = equality(fan_in, match[0])
    if is_false(same_width):
        raise ShapeError(f"tied=true needs an input width equal to the embedding's {match[0]}, got {fan_in}")
    tie = Condition(same_width, f"needs an input width equal to the embedding's {match[0]}")
    # torchinfo reads the shared weight through the Linear's own parameters: it counts
    # in its Mult-Adds although the weight is counted once in the parameters.
    return LayerOut(out.shape, "Output (tied)", 0, out.biases, conditions=(tie,), macs=out.macs)
