"""Formulas of the layers that move channels and pixels around: channel slices and
shuffle, space-to-depth and back, upsampling and resizing. None has parameters.

Sources (read in torchvision 0.28 and torch 2.13):
- channel slices: `Tensor.chunk` / slicing on dim 1, as ShuffleNetV2's `x.chunk(2, dim=1)`
  (torchvision/models/shufflenetv2.py, InvertedResidual.forward); `channel_shuffle` (same
  file): view (g, c/g), transpose, view back — a permutation, needs g | c.
- `nn.PixelUnshuffle(r)` / `nn.PixelShuffle(r)` (torch/nn/modules/pixelshuffle.py):
  [c, h, w] ↔ [c·r², h/r, w/r]; Swin's `_patch_merging_pad` pads h, w to even first.
- `nn.Upsample(scale_factor=f)` / `F.interpolate(size=...)`: x·f or the given size.
- diffusers 0.42 Transformer2DModel (models/transformers/transformer_2d.py,
  `_operate_on_continuous_inputs` / `_get_output_for_continuous_inputs`): an image
  [c, h, w] to h·w tokens and back, for UNSEQ (SEQ's inverse).
"""

from __future__ import annotations

from ..base.errors import ArgumentError, ShapeError
from ..base.expr import (
    Condition,
    at_least,
    at_most,
    ceil_div,
    divides,
    equality,
    exact_div,
    is_false,
    product,
)
from .core import need_spatial
from .registry import NONNEG, SPATIAL, TENSOR, LayerCall, LayerOut, Param, flag, register, size, spatial
from .shapes import axis_names, shape_text


# ---------------------------------------------------------------- channel slices and shuffle
@register("CH", "Channels", params=(Param("a", NONNEG), size("b")))
def channels(call: LayerCall) -> LayerOut:
    """Channels a … b−1 of the input (`x[:, a:b]`): → (…, b − a); needs a < b ≤ c."""
    a, b, c = call.args.a, call.args.b, call.channels
    conditions = (
        at_least(b, a + 1, f"needs a < b, got a={a}, b={b}"),
        at_most(b, c, f"reads channels {a}..{b - 1}, past the input's {c} channels (needs b ≤ c)"),
    )
    return LayerOut(call.shape[:-1] + (b - a,), "ChannelSlice", conditions=conditions)


@register("CHUNK", "Chunk", params=(size("n"), Param("i", NONNEG)))
def chunk(call: LayerCall) -> LayerOut:
    """Chunk i (from 0) of n equal chunks of the channels, as `x.chunk(n, dim=1)[i]`: → c/n.

    Needs n | c (torch's chunk makes the last chunk smaller otherwise: write `CH(a, b)`) and i < n."""
    n, i, c = call.args.n, call.args.i, call.channels
    conditions = (
        divides(n, c, f"needs the input's {c} channels divisible by n={n} (equal chunks)"),
        at_most(i, n - 1, f"needs i < n: chunk {i} of {n}"),
    )
    return LayerOut(call.shape[:-1] + (exact_div(c, n),), "ChannelChunk", conditions=conditions)


@register("SHUF", "ChannelShuffle", params=(size("g"),))
def channel_shuffle(call: LayerCall) -> LayerOut:
    """Channel shuffle in g groups (ShuffleNet): a permutation, 0 parameters; needs g | c."""
    g, c = call.args.g, call.channels
    ok = divides(g, c, f"needs the input's {c} channels divisible by g={g}")
    return LayerOut(call.shape, "ChannelShuffle", conditions=(ok,))


# ---------------------------------------------------------------- space ↔ depth, resizing
@register("S2D", "SpaceToDepth", "PixelUnshuffle", params=(size("r"), flag("pad", False)))
def space_to_depth(call: LayerCall) -> LayerOut:
    """Each r×r block of pixels into the channels: (x/r, …, r^k·c) for k spatial axes.

    pad=false needs r | x on every axis (PixelUnshuffle); pad=true zero-pads to a multiple
    first, ⌈x/r⌉ (Swin's patch merging pads odd sizes to even)."""
    need_spatial(call, "")
    r = call.args.r
    names = axis_names(call.rank)
    if call.args.pad:
        out = tuple(ceil_div(x, r) for x in call.spatial)
        conditions: tuple[Condition, ...] = ()
    else:
        out = tuple(exact_div(x, r) for x in call.spatial)
        conditions = tuple(
            divides(r, x, f"needs axis {name} ({x}) divisible by r={r} (pad=true pads it)")
            for x, name in zip(call.spatial, names)
        )
    c = call.channels * r ** len(call.spatial)
    return LayerOut(out + (c,), "SpaceToDepth", conditions=conditions)


@register("D2S", "DepthToSpace", "PixelShuffle", params=(size("r"),))
def depth_to_space(call: LayerCall) -> LayerOut:
    """Channels into r×r blocks of pixels: (x·r, …, c/r^k); needs r^k | c (PixelShuffle)."""
    need_spatial(call, "")
    r, c = call.args.r, call.channels
    k = len(call.spatial)
    ok = divides(r**k, c, f"needs the input's {c} channels divisible by r^{k} = {r**k}")
    out = tuple(x * r for x in call.spatial)
    return LayerOut(out + (exact_div(c, r**k),), "DepthToSpace", conditions=(ok,))


@register("UP", "Upsample", "UpSampling", params=(spatial("f"),))
def upsample(call: LayerCall) -> LayerOut:
    """Upsampling by a whole factor f on every spatial axis (tuple allowed): x·f; 0 parameters."""
    need_spatial(call, "")
    out = tuple(x * f for x, f in zip(call.spatial, call.args.f))
    return LayerOut(out + (call.channels,), "Upsample")


@register(
    "RS",
    "Resize",
    "Interpolate",
    params=(
        Param("size", SPATIAL, None, doc="the spatial size"),
        Param("like", TENSOR, None, doc="a tensor bound earlier whose spatial size to take"),
    ),
)
def resize(call: LayerCall) -> LayerOut:
    """Resizing to a given spatial size (F.interpolate(size=…), Keras Resizing), or to the
    spatial size of a named tensor, `RS(like=skip)` (`F.interpolate(size=skip.shape[2:])`:
    diffusers' up blocks with `upsample_size`, FPN's top-down path); 0 parameters.

    >>> import symparams
    >>> symparams.parse("s := I(h,w,8); s-C(8,3,s=2,p=1)-RS(like=s)").output_shape
    (8, h, w)
    """
    need_spatial(call, "")
    size, like = call.args.size, call.args.like
    if (size is None) == (like is None):
        raise ArgumentError("takes a size or like=a tensor, one of the two: RS((h, w)) or RS(like=x)")
    if like is not None:
        if len(like) != call.rank:
            raise ShapeError(
                f"takes the size of every spatial axis from 'like', a tensor {shape_text(like, call.convention)} with "
                f"{len(like) - 1} spatial axes; the input {shape_text(call.shape, call.convention)} has {call.rank - 1}"
            )
        size = like[:-1]
    return LayerOut(tuple(size) + (call.channels,), "Resize")


@register("UNSEQ", "Untokens")
def untokens(call: LayerCall) -> LayerOut:
    """Sequence → image: (t, c) back to the spatial axes of the nearest SEQ before it in the
    text, (h, w, c) for an image SEQ made (h·w, c); needs t = h·w. Diffusers'
    Transformer2DModel flattens its image to h·w tokens and reshapes them back
    (`reshape(batch, height, width, inner_dim).permute(0, 3, 1, 2)`): `SEQ-…-UNSEQ`.
    0 parameters.

    >>> import symparams
    >>> symparams.parse("I(h,w,8)-SEQ-LN-UNSEQ").output_shape
    (8, h, w)
    """
    if call.rank != 2:
        raise ShapeError(
            f"reshapes a sequence (t, c) back to an image, got a tensor of shape {shape_text(call.shape, call.convention)}"
        )
    made = call.facts.get("tokens", ())
    if not made:
        raise ShapeError("reshapes a sequence back to the spatial axes of a SEQ before it, and there is none")
    axes = tuple(made[-1])
    t = call.shape[0]
    positions = product(axes)
    same = equality(t, positions)
    if is_false(same):
        raise ShapeError(
            f"reshapes {t} positions back to the {shape_text(axes + (call.channels,), call.convention)} "
            f"of the SEQ before it, which has {positions}"
        )
    ok = Condition(same, f"needs the sequence's {t} positions = the {positions} the SEQ before it made")
    return LayerOut(axes + (call.channels,), "Untokens", conditions=(ok,))
