"""Formulas of Swin's window attention and patch merging (also MaxViT's attention).

Sources: `ShiftedWindowAttention(V2)`, `PatchMerging(V2)`, `shifted_window_attention`
(torchvision 0.28, models/swin_transformer.py): qkv Linear(c, 3c), proj Linear(c, c), a
relative position bias table ((2M₀−1)(2M₁−1), heads) parameter (V1), or V2's
`cpb_mlp = Linear(2, 512)-ReLU-Linear(512, heads, bias=False)` and `logit_scale` (heads);
the input is padded to multiples of the window and cropped back. MaxViT's
`RelativePositionalMultiHeadAttention` / `PartitionAttentionLayer` (models/maxvit.py):
the same counts, no padding.

MACs are FlopCounterMode's FLOPs / 2 (torch.utils.flop_counter, on the meta device):
matrix products only — every Linear per position, attention's q·kᵀ and attn·v; norms,
permutations and padding count 0.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..base.errors import ShapeError
from ..base.expr import Condition, at_most, ceil_div, divides, is_int, product
from .registry import SPATIAL0, LayerCall, LayerOut, Param, choice, flag, register, size, spatial
from .shapes import axis_names

if TYPE_CHECKING:
    from sympy import Expr

# Hidden width of Swin V2's continuous position bias MLP (fixed in torchvision).
CPB_HIDDEN = 512


def _need_image(call: LayerCall) -> None:
    if call.rank != 3:
        raise ShapeError(
            f"needs an image (h, w, c), got a tensor of {call.rank} ax{'is' if call.rank == 1 else 'es'}"
        )


# ---------------------------------------------------------------- Swin
def _known(x: object) -> bool:
    """A number in either build (a Python int, or a sympy integer after a restart)."""
    return is_int(x) or bool(getattr(x, "is_Integer", False))


def _padded(x: Expr, m: Expr) -> Expr:
    return ceil_div(x, m) * m


@register(
    "WMSA",
    "WindowAttention",
    params=(
        size("heads"),
        spatial("win", 7),
        Param("shift", SPATIAL0, 0),
        choice("pos", "table", "table", "cpb", "none"),
        flag("bias", True),
        flag("pad", True),
        flag("grid", False),
    ),
)
def window_attention(call: LayerCall) -> LayerOut:
    """Self-attention inside win×win windows of an image, shape kept (Swin's W-MSA / SW-MSA).

    4c² + 4c (qkv and proj, with biases) + the position term: pos=table (2M₀−1)(2M₁−1)·heads
    (V1), pos=cpb 2·512 + 512 + 512·heads + heads (V2's MLP and logit scale), pos=none 0.
    pad=true (torchvision) pads h, w to multiples of the window, so any size works and a
    window larger than the image covers it padded; pad=false needs win | h, w.
    grid=true is MaxViT's grid attention: the image cut into a win×win grid, each group
    the pixels at one place of every cell — the same counts, no padding (win | h, w)."""
    _need_image(call)
    a, c = call.args, call.channels
    heads = a.heads
    names = axis_names(call.rank)
    conditions: list[Condition] = [
        divides(heads, c, f"needs the input's {c} channels divisible by heads={heads}")
    ]
    for m, s, name in zip(a.win, a.shift, names):
        conditions.append(at_most(s, m - 1, f"needs shift < win on axis {name}, got shift={s}, win={m}"))
    why = "grid" if a.grid else "pad=false"
    if a.pad and not a.grid:
        padded = tuple(_padded(x, m) for x, m in zip(call.spatial, a.win))
    else:
        for x, m, name in zip(call.spatial, a.win, names):
            if _known(x) and _known(m) and m > x:
                conditions.append(
                    Condition(
                        False,
                        f"has a window of {m} larger than the image's {x} on axis {name} ({why})",
                    )
                )
            else:
                conditions.append(
                    divides(
                        m,
                        x,
                        f"needs axis {name} ({x}) divisible by the window {m} ({why})",
                    )
                )
        padded = call.spatial
    m0, m1 = a.win
    if a.pos == "table":
        table_weights, table_biases = (2 * m0 - 1) * (2 * m1 - 1) * heads, 0
    elif a.pos == "cpb":
        table_weights, table_biases = 2 * CPB_HIDDEN + CPB_HIDDEN * heads + heads, CPB_HIDDEN
    else:
        table_weights, table_biases = 0, 0
    weights = 4 * c * c + table_weights
    biases = (4 * c if a.bias else 0) + table_biases
    positions = product(padded)
    # FlopCounterMode / 2: qkv (3c²) and proj (c²) per padded position; q·kᵀ and attn·v
    # each M₀M₁·c per position (a window's M₀M₁ queries against its M₀M₁ keys).
    macs = positions * (4 * c * c + 2 * m0 * m1 * c)
    if a.pos == "cpb":  # the MLP runs on the (2M₀−1)(2M₁−1) relative coordinates each pass
        macs = macs + (2 * m0 - 1) * (2 * m1 - 1) * (2 * CPB_HIDDEN + CPB_HIDDEN * heads)
    shifted = any(s != 0 for s in a.shift)
    kind = ("Shifted" if shifted else "") + ("GridAttention" if a.grid else "WindowAttention")
    kind += "V2" if a.pos == "cpb" else ""
    return LayerOut(call.shape, kind, weights, biases, conditions=tuple(conditions), macs=macs)


@register("PM", "PatchMerging", params=(flag("v2", False),))
def patch_merging(call: LayerCall) -> LayerOut:
    """Swin's patch merging: 2×2 space-to-depth (odd sizes padded), LayerNorm and
    Linear(4c, 2c, bias=False) → (⌈h/2⌉, ⌈w/2⌉, 2c): 8c² + 8c; v2=true norms after the
    Linear (PatchMergingV2): 8c² + 4c."""
    _need_image(call)
    c = call.channels
    h, w = (ceil_div(x, 2) for x in call.spatial)
    norm = 2 * c if call.args.v2 else 4 * c
    linear = 8 * c * c
    return LayerOut(
        (h, w, 2 * c),
        "PatchMergingV2" if call.args.v2 else "PatchMerging",
        linear + norm,
        norm,
        macs=h * w * linear,
    )
