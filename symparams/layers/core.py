"""Formulas of the convolutional, pooling, dense, normalisation and shape layers.

Sources: PyTorch's Conv*d/ConvTranspose*d/MaxPool*d docs (output-size formulas,
weight shapes (out, in/g, *k) and (in, out/g, *k)) and Keras 3's conv_output_length /
deconv_output_length (keras/src/utils/conv_utils.py, ops/operation_utils.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..base.errors import ShapeError
from ..base.expr import (
    Condition,
    Later,
    at_least,
    divides,
    equality,
    exact_div,
    is_false,
    is_number,
    is_true,
    largest,
    product,
    provably_equal,
    sympy,
)
from . import api_limits
from .registry import (
    INTS,
    PADDING,
    PAIRS,
    RATE,
    SPATIAL0,
    Args,
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


def conv_macs(spatial: tuple[Expr, ...], weights: Expr) -> Expr:
    """MACs of a convolution: every weight once per position of `spatial`, the output's
    for a convolution and the input's for a transposed one. FlopCounterMode's
    conv_flop_count (torch/utils/flop_counter.py): 2·∏(x if transposed else out)[2:]·∏f·
    c_out·c_in of the weight's shape, which carries the groups; the bias is not counted."""
    return weights * product(spatial)


def _group_conditions(c: Expr, n: Expr, g: Expr) -> tuple[Condition, ...]:
    if is_number(g) and g == 1:
        return ()  # every count divides by 1: no condition, and no message printed for it
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
        macs=Later(conv_macs, out, weights),
        saved=Later(product, call.shape),  # a convolution saves its input for the weight gradient
        notes=_conv_notes(call, "C"),
    )


def _conv_notes(call: LayerCall, name: str) -> tuple[str, ...]:
    if call.convention == "torch":
        return api_limits.torch_conv(call, name)
    if name == "C":
        return api_limits.keras_stride_dilation(call, name)
    return api_limits.keras_no_3d(call, name)


def _transposed_extra(f: Expr, s: Expr, p: Expr | str, op: Expr | None, d: Expr) -> Expr:
    """A transposed axis's output minus (x-1)s. Keras's deconv_output_length
    (backend_utils._get_output_shape_given_tf_padding), k = d(f-1)+1: valid gives
    max(k, s), or k + op with an output padding; same gives s, or k % 2 + op."""
    k = d * (f - 1) + 1
    if p == "same":
        return s if op is None else k % 2 + op
    if p == "valid":
        return largest(k, s) if op is None else k + op
    return k - 2 * p + (0 if op is None else op)


def _transposed_axis(x: Expr, f: Expr, s: Expr, p: Expr | str, op: Expr | None, d: Expr) -> Expr:
    if op is None and p == "same":  # Keras: x·s
        return x * s
    if op is None and p == "valid":  # Keras: x·s + max(d(f-1)+1-s, 0)
        return x * s + largest(d * (f - 1) + 1 - s, 0)
    return (x - 1) * s + _transposed_extra(f, s, p, op, d)


def _output_padding_rule(call: LayerCall, op: Expr, s: Expr, d: Expr, name: str) -> Condition:
    """PyTorch builds an output padding below the stride or the dilation ("output padding
    must be smaller than either stride or dilation"); Keras only below the stride
    ("`output_padding` must be strictly less than `strides`")."""
    below_stride = at_least(s - op, 1, "")
    if call.convention == "keras":
        return Condition(
            below_stride.holds,
            f"needs output padding op={op} below the stride s={s} on axis {name} "
            '(Keras: "`output_padding` must be strictly less than `strides`")',
        )
    below_dilation = at_least(d - op, 1, "")
    if is_true(below_stride.holds) or is_true(below_dilation.holds):
        holds: Any = True
    elif is_false(below_stride.holds) and is_false(below_dilation.holds):
        holds = False
    else:
        holds = sympy.Or(below_stride.holds, below_dilation.holds)
    return Condition(
        holds,
        f"needs output padding op={op} below the stride s={s} or the dilation d={d} on axis {name} "
        '(PyTorch: "output padding must be smaller than either stride or dilation")',
    )


@register(
    "T",
    "ConvT",
    params=(
        size("n"),
        spatial("f"),
        spatial("s", 1),
        Param("p", PADDING, None),
        # None: not written, which Keras's 'valid' tells from op=0 (max(k, s) against k).
        Param("op", SPATIAL0, None),
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
    ops = a.op if a.op is not None else (None,) * len(call.spatial)
    out = tuple(
        _transposed_axis(x, f, s, q, op, d)
        for x, f, s, q, op, d in zip(call.spatial, a.f, a.s, pads, ops, a.d)
    )
    names = axis_names(call.rank)
    conditions = tuple(
        at_least(o, 1, f"gives an empty output on axis {name} ({o})") for o, name in zip(out, names)
    )
    conditions += tuple(
        _output_padding_rule(call, op, s, d, name)
        for op, s, d, name in zip(ops, a.s, a.d, names)
        if op is not None
    )
    if call.convention == "torch":
        extras = tuple(_transposed_extra(f, s, q, op, d) for f, s, q, op, d in zip(a.f, a.s, pads, ops, a.d))
        notes = api_limits.torch_transposed(replace_args(call, p=p), extras)
    else:
        notes = api_limits.keras_stride_dilation(call, "T") + api_limits.keras_transposed(
            replace_args(call, p=p)
        )
    weights = c * exact_div(a.n, a.g) * product(a.f)
    biases = a.n if a.bias else 0
    return LayerOut(
        out + (a.n,),
        f"ConvTranspose{dims}",
        weights,
        biases,
        conditions=conditions + _group_conditions(c, a.n, a.g),
        macs=Later(conv_macs, call.spatial, weights),
        saved=Later(product, call.shape),
        notes=notes,
    )


def replace_args(call: LayerCall, **changed: Any) -> LayerCall:
    """The call with some arguments replaced (a default made explicit)."""
    return LayerCall(call.shape, Args({**dict(call.args), **changed}), call.convention, call.facts)


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
        macs=Later(conv_macs, out, weights),
        saved=Later(product, call.shape),
        notes=_conv_notes(call, "DW"),
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
    # Both convolutions of the pair write at the output's positions (the 1x1 keeps them);
    # the pointwise one saves the depthwise output.
    return LayerOut(
        out + (a.n,),
        f"SeparableConv{dims}",
        weights,
        biases,
        conditions=conditions,
        macs=Later(conv_macs, out, weights),
        saved=product(call.shape) + product(out) * c * a.m,
        notes=_conv_notes(call, "SC"),
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
    if call.convention == "torch":
        notes = api_limits.torch_pool(call, short, strides)
    else:
        notes = api_limits.keras_pool(call, short, strides)
    # Both pools save their input (max pooling also its int64 indices, not counted here).
    return LayerOut(
        out + (call.channels,),
        f"{kind}{dims}",
        conditions=_axis_conditions(call, minimum),
        saved=Later(product, call.shape),
        notes=notes,
    )


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
    return LayerOut((call.channels,), f"GlobalMaxPool{dims}", saved=Later(product, call.shape))


@register("AAP", "AdaptiveAvgPool", params=(spatial("o"),))
def adaptive_avg_pool(call: LayerCall) -> LayerOut:
    """Every spatial axis becomes o."""
    dims = need_spatial(call, "AAP")
    return LayerOut(
        tuple(call.args.o) + (call.channels,), f"AdaptiveAvgPool{dims}", saved=product(call.shape)
    )


@register("AMP", "AdaptiveMaxPool", params=(spatial("o"),))
def adaptive_max_pool(call: LayerCall) -> LayerOut:
    """Every spatial axis becomes o."""
    dims = need_spatial(call, "AMP")
    return LayerOut(
        tuple(call.args.o) + (call.channels,), f"AdaptiveMaxPool{dims}", saved=product(call.shape)
    )


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
    # The spatial axes, for an UNSEQ that reshapes the sequence back (layers/rearrange.py).
    return LayerOut((product(call.spatial), call.channels), "Tokens", facts={"tokens": call.spatial})


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
    positions = call.shape[0] if call.rank == 2 else 1
    # nn.Linear is an addmm (mm without bias) on the (positions, fan_in) view: m·n·k
    # multiply-accumulates, once per position; the bias add is not counted.
    return LayerOut(out, kind, weights, biases, macs=positions * weights, saved=product(call.shape))


@register("H", "Dense", params=(size("n"), flag("bias", True), flag("flat", True)))
def dense(call: LayerCall) -> LayerOut:
    """Dense layer: in·n weights + n biases; flattens images (flat=false: per position on
    the last axis), acts per position on sequences."""
    return _dense(call, "Dense")


@register("D", "Dropout", params=(Param("r", RATE),))
def dropout(call: LayerCall) -> LayerOut:
    """Dropout: no parameters."""
    # In training a dropout with r > 0 keeps a mask of its input's size (CPU: in the
    # activation dtype; CUDA's native_dropout: one byte an element).
    keeps = product(call.shape) if call.args.r != 0 else 0
    return LayerOut(call.shape, "Dropout", saved=keeps)


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
    # No MACs (FlopCounterMode counts none for a norm); saves its input (and 2c float32
    # statistics, not counted here).
    return LayerOut(call.shape, f"BatchNorm{dims}", weights, biases, moving, saved=Later(product, call.shape))


@register("LN", "LayerNorm", params=(flag("bias", True),))
def layer_norm(call: LayerCall) -> LayerOut:
    """Layer normalisation over the last axis: γ and β (c each; no β without bias)."""
    c = call.channels
    biases = c if call.args.bias else 0
    # Saves its input (and a float32 mean and rstd per position, not counted here).
    return LayerOut(call.shape, "LayerNorm", c, biases, saved=Later(product, call.shape))


@register("RMS", "RMSNorm")
def rms_norm(call: LayerCall) -> LayerOut:
    """RMS normalisation over the last axis: a scale of c."""
    # nn.RMSNorm's composite path saves its input and x·rstd (and rstd, not counted here).
    return LayerOut(call.shape, "RMSNorm", call.channels, saved=2 * product(call.shape))


def _activation(name: str, kind: str, saves: bool) -> None:
    def activation(call: LayerCall) -> LayerOut:
        return LayerOut(call.shape, kind, saved=Later(product, call.shape) if saves else 0)

    activation.__doc__ = f"{kind} activation: no parameters."
    register(name)(activation)


# Every activation saves one tensor of its size for backward: relu, tanh, sigmoid and softmax
# their output, the others their input; the identity nothing.
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
    _activation(_name, _kind, _name != "id")


@register("O", "Output", params=(size("n"), flag("bias", True), flag("tied", False)))
def output(call: LayerCall) -> LayerOut:
    """Output layer, like H; tied=true shares the weights of the first E(v, d) with v = n."""
    out = _dense(call, "Output")
    if not call.args.tied:
        return out
    n = call.args.n
    embeddings = call.facts.get("embeddings", ())
    match = [(v, d) for v, d in embeddings if provably_equal(v, n, simplify=True)]
    # A symbolic vocabulary that may equal n ties under the condition v = n (as a width
    # that may differ does): `E(k,12)-O(32,tied=true)` is valid exactly when k = 32.
    match = match or [(v, d) for v, d in embeddings if not is_false(equality(v, n))]
    if not match:
        raise ShapeError(f"tied=true needs an earlier E(v, d) with v = {n}")
    v, width = match[0]
    ties = []
    if not provably_equal(v, n, simplify=True):
        ties.append(Condition(equality(v, n), f"tied=true needs the embedding's vocabulary {v} = {n}"))
    fan_in = call.channels if call.rank == 2 else product(call.shape)
    same_width = equality(fan_in, width)
    if is_false(same_width):
        raise ShapeError(f"tied=true needs an input width equal to the embedding's {width}, got {fan_in}")
    tie = Condition(same_width, f"needs an input width equal to the embedding's {width}")
    # The shared weight is counted once in the parameters, but the head multiplies by it.
    return LayerOut(
        out.shape, "Output (tied)", 0, out.biases, conditions=(*ties, tie), macs=out.macs, saved=out.saved
    )
