"""The vision model zoo of issue 14, written in the language, and the real models.

Each `*_text` function writes one model's architecture text from the model's own table
(the paper's, as torchvision's and Keras's builders spell it: stage widths, depths,
kernel sizes, expansion ratios), with definitions for its blocks; the widths of the
scaled variants are computed here with the frameworks' published rounding rules
(`_make_divisible` / `round_filters`, ⌈depth·d⌉). Nothing is read off the built model.

`torch_reference` / `keras_reference` build the real model (torchvision on the meta
device, weights=None; keras.applications with weights=None) and return its counts.
"""

from __future__ import annotations

import math
import sys
import types
from functools import cache


# ---------------------------------------------------------------- rounding rules
def make_divisible(v: float, divisor: int = 8, min_value: int | None = None) -> int:
    """torchvision's `_make_divisible` (ops/misc.py), which Keras's `round_filters` and
    `_depth` also are: the nearest multiple, never more than 10% below."""
    min_value = min_value or divisor
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    if new_v < 0.9 * v:
        new_v += divisor
    return new_v


# ---------------------------------------------------------------- EfficientNet
EFFNET_COMMON = """\
cbn(n, f, s) = C(n, f, s=s, p=(f-1)/2, bias=false)-BN
dbn(f, s) = DW(f, s=s, p=(f-1)/2, bias=false)-BN
se(e, q) = [id * (AAP(1)-C(q,1)-silu-C(e,1)-sigmoid)]
mb(i, e, o, f, s) = cbn(e,1,1)-silu-dbn(f,s)-silu-se(e, i/4)-cbn(o,1,1)
mb1(i, o, f, s) = dbn(f,s)-silu-se(i, i/4)-cbn(o,1,1)
fused(e, o, f, s) = cbn(e,f,s)-silu-cbn(o,1,1)
fused1(o, f, s) = cbn(o,f,s)-silu
"""

# expand ratio, kernel, stride, in, out, repeats (torchvision efficientnet._efficientnet_conf)
B_STAGES = [(1, 3, 1, 32, 16, 1), (6, 3, 2, 16, 24, 2), (6, 5, 2, 24, 40, 2), (6, 3, 2, 40, 80, 3),
            (6, 5, 1, 80, 112, 3), (6, 5, 2, 112, 192, 4), (6, 3, 1, 192, 320, 1)]
# width, depth, dropout
B_SCALES = {"b0": (1.0, 1.0, 0.2), "b1": (1.0, 1.1, 0.2), "b2": (1.1, 1.2, 0.3), "b3": (1.2, 1.4, 0.3),
            "b4": (1.4, 1.8, 0.4), "b5": (1.6, 2.2, 0.4), "b6": (1.8, 2.6, 0.5), "b7": (2.0, 3.1, 0.5)}
# fused?, expand, kernel, stride, in, out, repeats
V2_STAGES = {
    "s": [(1, 1, 3, 1, 24, 24, 2), (1, 4, 3, 2, 24, 48, 4), (1, 4, 3, 2, 48, 64, 4), (0, 4, 3, 2, 64, 128, 6),
          (0, 6, 3, 1, 128, 160, 9), (0, 6, 3, 2, 160, 256, 15)],
    "m": [(1, 1, 3, 1, 24, 24, 3), (1, 4, 3, 2, 24, 48, 5), (1, 4, 3, 2, 48, 80, 5), (0, 4, 3, 2, 80, 160, 7),
          (0, 6, 3, 1, 160, 176, 14), (0, 6, 3, 2, 176, 304, 18), (0, 6, 3, 1, 304, 512, 5)],
    "l": [(1, 1, 3, 1, 32, 32, 4), (1, 4, 3, 2, 32, 64, 7), (1, 4, 3, 2, 64, 96, 7), (0, 4, 3, 2, 96, 192, 10),
          (0, 6, 3, 1, 192, 224, 19), (0, 6, 3, 2, 224, 384, 25), (0, 6, 3, 1, 384, 640, 7)],
}
V2_DROPOUT = {"s": 0.2, "m": 0.3, "l": 0.4}


def _block(fused: bool, ratio: int, f: int, s: int, i: int, o: int, rate: float) -> str:
    e = make_divisible(i * ratio)
    if fused:
        body = f"fused1({o},{f},{s})" if e == i else f"fused({e},{o},{f},{s})"
    else:
        body = f"mb1({i},{o},{f},{s})" if e == i else f"mb({i},{e},{o},{f},{s})"
    if s == 1 and i == o:  # the residual of MBConv / FusedMBConv, with stochastic depth
        return f"[{body}-DP({rate}) + id]"
    return body


def _stages(stages: list[tuple[int, ...]], rate: float = 0.2) -> list[str]:
    lines = []
    for fused, ratio, f, s, i, o, n in stages:
        first = _block(bool(fused), ratio, f, s, i, o, rate)
        rest = _block(bool(fused), ratio, f, 1, o, o, rate)
        lines.append(f"  -{first}" + (f"-{rest}*{n - 1}" if n > 2 else f"-{rest}" if n == 2 else ""))
    return lines


def efficientnet_text(variant: str, keras: bool = False, head: bool = True, size: str = "224,224") -> str:
    """torchvision efficientnet_b0..b7 / efficientnet_v2_s/m/l; keras EfficientNetB0..B7 and
    EfficientNetV2S/M/L (the same network after Keras's preprocessing layers)."""
    if variant.startswith("v2_"):
        key = variant[3:]
        stages = [tuple(st) for st in V2_STAGES[key]]
        stem, last, dropout = stages[0][4], 1280, V2_DROPOUT[key]
        prefix = "RESCALE(1/128,offset=-1)" if keras else ""
    else:
        width, depth, dropout = B_SCALES[variant]
        stages = [
            (0, t, f, s, make_divisible(i * width), make_divisible(o * width), math.ceil(n * depth))
            for t, f, s, i, o, n in B_STAGES
        ]
        stem = stages[0][4]
        last = 4 * stages[-1][5]
        # Keras EfficientNet B0-B7: Rescaling(1/255), then an adapted Normalization (mean,
        # variance and count: 2·3 + 1 non-trainable weights).
        prefix = "RESCALE(1/255)-NORM" if keras else ""
    lines = [EFFNET_COMMON + f"I({size},3)" + (f"-{prefix}" if prefix else "")]
    lines.append(f"  -cbn({stem},3,2)-silu")
    lines += _stages(stages)
    if head:
        lines.append(f"  -cbn({last},1,1)-silu-GAP-D({dropout})-O(1000)")
    else:
        lines.append(f"  -cbn({last},1,1)-silu")
    return "\n".join(lines) + "\n"


# Keras EfficientNetV2 B0-B3 (applications/efficientnet_v2.py DEFAULT_BLOCKS_ARGS["efficientnetv2-b0"]):
# kernel, repeats, in, out, expand, se (0 or 0.25), stride, fused
KERAS_V2_BASE = [(3, 1, 32, 16, 1, 0, 1, 1), (3, 2, 16, 32, 4, 0, 2, 1), (3, 2, 32, 48, 4, 0, 2, 1),
                 (3, 3, 48, 96, 4, 0.25, 2, 0), (3, 5, 96, 112, 6, 0.25, 1, 0), (3, 8, 112, 192, 6, 0.25, 2, 0)]
KERAS_V2_SCALES = {"B0": (1.0, 1.0), "B1": (1.0, 1.1), "B2": (1.1, 1.2), "B3": (1.2, 1.4)}


def keras_round_filters(filters: int, width: float) -> int:
    """keras efficientnet_v2.round_filters: the nearest multiple of 8, at least 8, and
    unlike `_make_divisible` without the "never 10% below" step (B3: 16·1.2 → 16, not 24)."""
    return max(8, int(filters * width + 4) // 8 * 8)


def keras_efficientnet_v2b_text(variant: str) -> str:
    """keras EfficientNetV2B0..B3: the base table scaled by round_filters (divisor 8) and
    ⌈repeats·depth⌉, stem round_filters(32), top round_filters(1280)."""
    width, depth = KERAS_V2_SCALES[variant]
    stages = []
    for f, n, i, o, t, _se, s, fused in KERAS_V2_BASE:
        i, o = keras_round_filters(i, width), keras_round_filters(o, width)
        stages.append((fused, t, f, s, i, o, math.ceil(n * depth)))
    lines = [EFFNET_COMMON + "I(224,224,3)-RESCALE(1/255)-NORM(adapt=false)"]
    lines.append(f"  -cbn({keras_round_filters(32, width)},3,2)-silu")
    lines += _stages(stages)
    lines.append(f"  -cbn({keras_round_filters(1280, width)},1,1)-silu-GAP-D(0.2)-O(1000)")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- MobileNetV3
MBV3_COMMON = """\
pw(n) = C(n,1,bias=false)-BN
dbn(f, s) = DW(f, s=s, p=(f-1)/2, bias=false)-BN
gate(e, q) = [id * (AAP(1)-C(q,1)-relu-C(e,1)-hsigmoid)]
"""
# in, kernel, expanded, out, SE, activation, stride (torchvision mobilenetv3._mobilenet_v3_conf)
MBV3_LARGE = [(16, 3, 16, 16, 0, "RE", 1), (16, 3, 64, 24, 0, "RE", 2), (24, 3, 72, 24, 0, "RE", 1),
              (24, 5, 72, 40, 1, "RE", 2), (40, 5, 120, 40, 1, "RE", 1), (40, 5, 120, 40, 1, "RE", 1),
              (40, 3, 240, 80, 0, "HS", 2), (80, 3, 200, 80, 0, "HS", 1), (80, 3, 184, 80, 0, "HS", 1),
              (80, 3, 184, 80, 0, "HS", 1), (80, 3, 480, 112, 1, "HS", 1), (112, 3, 672, 112, 1, "HS", 1),
              (112, 5, 672, 160, 1, "HS", 2), (160, 5, 960, 160, 1, "HS", 1), (160, 5, 960, 160, 1, "HS", 1)]
MBV3_SMALL = [(16, 3, 16, 16, 1, "RE", 2), (16, 3, 72, 24, 0, "RE", 2), (24, 3, 88, 24, 0, "RE", 1),
              (24, 5, 96, 40, 1, "HS", 2), (40, 5, 240, 40, 1, "HS", 1), (40, 5, 240, 40, 1, "HS", 1),
              (40, 5, 120, 48, 1, "HS", 1), (48, 5, 144, 48, 1, "HS", 1), (48, 5, 288, 96, 1, "HS", 2),
              (96, 5, 576, 96, 1, "HS", 1), (96, 5, 576, 96, 1, "HS", 1)]


def mobilenet_v3_text(variant: str, keras: bool = False, head: bool = True, size: str = "224,224") -> str:
    """torchvision mobilenet_v3_large / _small; keras MobileNetV3Large / Small (after its
    Rescaling, with its 1x1-conv head: the same counts as torch's Linear head)."""
    table, last = (MBV3_LARGE, 1280) if variant == "large" else (MBV3_SMALL, 1024)
    lines = [MBV3_COMMON + f"I({size},3)" + ("-RESCALE(1/127.5,offset=-1)" if keras else "")]
    lines.append("  -C(16,3,s=2,p=1,bias=false)-BN-hswish")
    for i, f, e, o, se, act, s in table:
        a = "relu" if act == "RE" else "hswish"
        parts = [] if e == i else [f"pw({e})-{a}"]
        parts.append(f"dbn({f},{s})-{a}")
        if se:  # squeeze: _make_divisible(expanded // 4, 8), of the expanded width
            parts.append(f"gate({e},{make_divisible(e // 4)})")
        parts.append(f"pw({o})")
        body = "-".join(parts)
        lines.append(f"  -[{body} + id]" if s == 1 and i == o else f"  -{body}")
    c = 6 * table[-1][3]
    if not head:
        lines.append(f"  -pw({c})-hswish")
    elif keras:
        lines.append(f"  -pw({c})-hswish-AAP(1)-C({last},1)-hswish-D(0.2)-C(1000,1)-F-softmax")
    else:
        lines.append(f"  -pw({c})-hswish-GAP-H({last})-hswish-D(0.2)-O(1000)")
    return "\n".join(lines) + "\n"


def _mbv3_block(i: int, f: int, e: int, o: int, se: int, act: str, s: int, d: int = 1) -> str:
    a = "relu" if act == "RE" else "hswish"
    parts = [] if e == i else [f"pw({e})-{a}"]
    # A dilated block (torchvision's dilated=True) has stride 1 and padding (f-1)/2·d.
    parts.append(f"dbn({f},{s})-{a}" if d == 1 else f"dil({f},{d})-{a}")
    if se:
        parts.append(f"gate({e},{make_divisible(e // 4)})")
    parts.append(f"pw({o})")
    body = "-".join(parts)
    return f"[{body} + id]" if (s == 1 or d > 1) and i == o else body


def lraspp_text(size: str = "520,520", classes: int = 21) -> str:
    """torchvision lraspp_mobilenet_v3_large (segmentation/lraspp.py): the features of
    mobilenet_v3_large(dilated=True) (the last stage, C4, has dilation 2 and stride 1:
    output stride 16), the low-level tap after features[4] (stage_indices[-4], the first
    block of C2, the stride-2 24→40 block: output stride 8), and LRASPPHead: cbr(high) *
    scale(high) (AdaptiveAvgPool 1, a 1x1 conv without bias, sigmoid), resized to low's
    size, low_classifier(low) + high_classifier(x), resized to the input (bilinear)."""
    dilation = [1] * 12 + [2] * 3
    blocks = [_mbv3_block(*row, d) for row, d in zip(MBV3_LARGE, dilation)]
    low, high = blocks[:4], blocks[4:]
    return (
        MBV3_COMMON
        + "dil(f, d) = DW(f, p=(f-1)/2*d, d=d, bias=false)-BN\n"
        + f"x := I({size},3)\n"
        + "low := x-C(16,3,s=2,p=1,bias=false)-BN-hswish\n"
        + "".join(f"  -{b}\n" for b in low)
        + "high := low\n"
        + "".join(f"  -{b}\n" for b in high)
        + f"  -pw({6 * MBV3_LARGE[-1][3]})-hswish\n"
        + "head := high-[pw(128)-relu * (AAP(1)-C(128,1,bias=false)-sigmoid)]-RS(like=low)\n"
        + f"[low-C({classes},1) + head-C({classes},1)]-RS(like=x)\n"
    )


# ---------------------------------------------------------------- ConvNeXt
CONVNEXT = {"tiny": ((96, 192, 384, 768), (3, 3, 9, 3), 0.1), "small": ((96, 192, 384, 768), (3, 3, 27, 3), 0.4),
            "base": ((128, 256, 512, 1024), (3, 3, 27, 3), 0.5),
            "large": ((192, 384, 768, 1536), (3, 3, 27, 3), 0.5),
            "xlarge": ((256, 512, 1024, 2048), (3, 3, 27, 3), 0.5)}


def convnext_text(variant: str, keras: bool = False, head: bool = True, size: str = "224,224") -> str:
    """torchvision convnext_tiny..large (CNBlock: depthwise 7x7, LayerNorm and two Linear
    layers channels-last, layer scale, stochastic depth); keras ConvNeXtTiny..XLarge (its
    PreStem Normalization has a fixed mean and variance: no weights)."""
    dims, depths, rate = CONVNEXT[variant]
    pad = "same" if keras else "3"
    lines = [
        f"block(d) = [DW(7,p={pad})-LN-H(4*d,flat=false)-gelu-H(d,flat=false)-LS-DP({rate}) + id]",
        "down(d) = LN-C(d,2,s=2)",
        f"I({size},3)" + ("-NORM(adapt=false)" if keras else ""),
        f"  -C({dims[0]},4,s=4)-LN",
    ]
    for k, (d, n) in enumerate(zip(dims, depths)):
        lines.append(("  -" if k == 0 else f"  -down({d})-") + f"block({d})*{n}")
    if head:
        lines.append("  -GAP-LN-O(1000)" if keras else "  -AAP(1)-LN-F-O(1000)")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- RegNet
REGNET = {  # depth, w_0, w_a, w_m, group width (torchvision regnet.regnet_*)
    "y_400mf": (16, 48, 27.89, 2.09, 8), "y_800mf": (14, 56, 38.84, 2.4, 16),
    "y_1_6gf": (27, 48, 20.71, 2.65, 24), "y_3_2gf": (21, 80, 42.63, 2.66, 24),
    "y_8gf": (17, 192, 76.82, 2.19, 56), "y_16gf": (18, 200, 106.23, 2.48, 112),
    "y_32gf": (20, 232, 115.89, 2.53, 232), "y_128gf": (27, 456, 160.83, 2.52, 264),
    "x_400mf": (22, 24, 24.48, 2.54, 16), "x_800mf": (16, 56, 35.73, 2.28, 16),
    "x_1_6gf": (18, 80, 34.01, 2.25, 24), "x_3_2gf": (25, 88, 26.31, 2.25, 48),
    "x_8gf": (23, 80, 49.56, 2.88, 120), "x_16gf": (22, 216, 55.59, 2.1, 128),
    "x_32gf": (23, 320, 69.86, 2.0, 168),
}


def regnet_stages(variant: str) -> list[tuple[int, int, int]]:
    """(width, depth, group width) per stage: the paper's quantized linear widths, as
    torchvision's BlockParams.from_init_params computes them (float32, torch's rounding)."""
    import torch

    depth, w_0, w_a, w_m, g = REGNET[variant]
    cont = torch.arange(depth) * w_a + w_0
    capacity = torch.round(torch.log(cont / w_0) / math.log(w_m))
    widths = (torch.round(torch.divide(w_0 * torch.pow(w_m, capacity), 8)) * 8).int().tolist()
    stages: list[list[int]] = []
    for w in widths:
        if stages and stages[-1][0] == w:
            stages[-1][1] += 1
        else:
            stages.append([w, 1])
    out = []
    for w, n in stages:  # bottleneck multiplier 1: w_b = w, made a multiple of min(g, w)
        gw = min(g, w)
        out.append((make_divisible(w, gw), n, gw))
    return out


def regnet_text(variant: str, head: bool = True, size: str = "224,224") -> str:
    """torchvision regnet_x_* / regnet_y_*: ResBottleneckBlock (1x1, grouped 3x3, [SE of a
    quarter of the block's input width], 1x1), a projection where the shape changes."""
    se = variant.startswith("y")
    lines = [
        "cbn(n, f, s, g) = C(n, f, s=s, p=(f-1)/2, g=g, bias=false)-BN",
        "gate(e, q) = [id * (AAP(1)-C(q,1)-relu-C(e,1)-sigmoid)]",
    ]
    body = "cbn(o,1,1,1)-relu-cbn(o,3,s,o/gw)-relu{gate}-cbn(o,1,1,1)"
    if se:
        lines.append("f(i, o, s, gw, q) = " + body.format(gate="-gate(o, q)"))
        lines.append("first(i, o, gw, q) = [f(i,o,2,gw,q) + cbn(o,1,2,1)]-relu")
        lines.append("same(o, gw, q) = [f(o,o,1,gw,q) + id]-relu")
    else:
        lines.append("f(i, o, s, gw) = " + body.format(gate=""))
        lines.append("first(i, o, gw) = [f(i,o,2,gw) + cbn(o,1,2,1)]-relu")
        lines.append("same(o, gw) = [f(o,o,1,gw) + id]-relu")
    lines.append(f"I({size},3)")
    lines.append("  -cbn(32,3,2,1)-relu")
    i = 32
    for w, n, gw in regnet_stages(variant):
        q = (f",{round(0.25 * i)}", f",{round(0.25 * w)}") if se else ("", "")
        text = f"  -first({i},{w},{gw}{q[0]})"
        if n > 1:
            text += f"-same({w},{gw}{q[1]})" + (f"*{n - 1}" if n > 2 else "")
        lines.append(text)
        i = w
    if head:
        lines.append("  -GAP-O(1000)")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- MNASNet
def mnasnet_text(alpha: float) -> str:
    """torchvision mnasnet0_5 / 0_75 / 1_0 / 1_3: the stem, a depthwise separable block,
    then stacks of inverted residuals (expansion 3 or 6, no SE), widths ·alpha rounded to 8."""
    d = [make_divisible(x * alpha, 8) for x in (32, 16, 24, 40, 80, 96, 192, 320)]
    lines = [
        "cbn(n, f, s) = C(n, f, s=s, p=(f-1)/2, bias=false)-BN",
        "ir(e, o, f, s) = cbn(e,1,1)-relu-DW(f,s=s,p=(f-1)/2,bias=false)-BN-relu-cbn(o,1,1)",
        "I(224,224,3)",
        f"  -cbn({d[0]},3,2)-relu-DW(3,p=1,bias=false)-BN-relu-cbn({d[1]},1,1)",
    ]
    # in, out, kernel, stride, expansion, repeats
    for i, o, f, s, t, n in [(d[1], d[2], 3, 2, 3, 3), (d[2], d[3], 5, 2, 3, 3), (d[3], d[4], 5, 2, 6, 3),
                             (d[4], d[5], 3, 1, 6, 2), (d[5], d[6], 5, 2, 6, 4), (d[6], d[7], 3, 1, 6, 1)]:
        first = f"ir({i * t},{o},{f},{s})"
        if s == 1 and i == o:
            first = f"[{first} + id]"
        rest = f"[ir({o * t},{o},{f},1) + id]"
        lines.append(f"  -{first}" + (f"-{rest}*{n - 1}" if n > 2 else f"-{rest}" if n == 2 else ""))
    lines.append("  -cbn(1280,1,1)-relu-GAP-D(0.2)-O(1000)")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- Inception
def inception_v3_text(keras: bool = False) -> str:
    """keras InceptionV3 (conv2d_bn: a conv without bias, BatchNormalization(scale=False),
    ReLU) and torchvision inception_v3 without its auxiliary head (BasicConv2d: the same
    with a full BatchNorm)."""
    bn = "BN(scale=false)" if keras else "BN"
    return f"""\
cb(n, f) = C(n, f, p=same, bias=false)-{bn}-relu
cv(n, f, s) = C(n, f, s=s, bias=false)-{bn}-relu
pool(n) = A(3,s=1,p=same)-cb(n,1)
mixA(p) = [cb(64,1) | cb(48,1)-cb(64,5) | cb(64,1)-cb(96,3)-cb(96,3) | pool(p)]
redA = [cv(384,3,2) | cb(64,1)-cb(96,3)-cv(96,3,2) | P(3,s=2)]
mixB(m) = [cb(192,1) | cb(m,1)-cb(m,(1,7))-cb(192,(7,1))
          | cb(m,1)-cb(m,(7,1))-cb(m,(1,7))-cb(m,(7,1))-cb(192,(1,7)) | pool(192)]
redB = [cb(192,1)-cv(320,3,2) | cb(192,1)-cb(192,(1,7))-cb(192,(7,1))-cv(192,3,2) | P(3,s=2)]
split(n) = [cb(n,(1,3)) | cb(n,(3,1))]
mixC = [cb(320,1) | cb(384,1)-split(384) | cb(448,1)-cb(384,3)-split(384) | pool(192)]
I(299,299,3)
  -cv(32,3,2)-cv(32,3,1)-cb(64,3)-P(3,s=2)
  -cv(80,1,1)-cv(192,3,1)-P(3,s=2)
  -mixA(32)-mixA(64)*2
  -redA
  -mixB(128)-mixB(160)*2-mixB(192)
  -redB
  -mixC*2
  -GAP-{"" if keras else "D(0.5)-"}O(1000)
"""


INCEPTION_RESNET_V2 = """\
cb(n, f) = C(n, f, p=same, bias=false)-BN(scale=false)-relu
cv(n, f, s) = C(n, f, s=s, bias=false)-BN(scale=false)-relu
# Residual blocks: the branches concatenated, a 1x1 conv with bias back to the input width,
# added to the input (CustomScaleLayer's x + scale·r: no weights).
b35 = [[cb(32,1) | cb(32,1)-cb(32,3) | cb(32,1)-cb(48,3)-cb(64,3)]-C(320,1) + id]-relu
b17 = [[cb(192,1) | cb(128,1)-cb(160,(1,7))-cb(192,(7,1))]-C(1088,1) + id]-relu
b8 = [[cb(192,1) | cb(192,1)-cb(224,(1,3))-cb(256,(3,1))]-C(2080,1) + id]
I(299,299,3)
  -cv(32,3,2)-cv(32,3,1)-cb(64,3)-P(3,s=2)-cv(80,1,1)-cv(192,3,1)-P(3,s=2)
  -[cb(96,1) | cb(48,1)-cb(64,5) | cb(64,1)-cb(96,3)-cb(96,3) | A(3,s=1,p=same)-cb(64,1)]
  -b35*10
  -[cv(384,3,2) | cb(256,1)-cb(256,3)-cv(384,3,2) | P(3,s=2)]
  -b17*20
  -[cb(256,1)-cv(384,3,2) | cb(256,1)-cv(288,3,2) | cb(256,1)-cb(288,3)-cv(320,3,2) | P(3,s=2)]
  -(b8-relu)*9-b8
  -cb(1536,1)
  -GAP-O(1000)
"""


# ---------------------------------------------------------------- the families expressible before issue 14
RESNET = {  # block, layers, groups, width per group (torchvision resnet.*)
    "resnet18": ("basic", (2, 2, 2, 2), 1, 64), "resnet34": ("basic", (3, 4, 6, 3), 1, 64),
    "resnet50": ("bottleneck", (3, 4, 6, 3), 1, 64), "resnet101": ("bottleneck", (3, 4, 23, 3), 1, 64),
    "resnet152": ("bottleneck", (3, 8, 36, 3), 1, 64),
    "resnext50_32x4d": ("bottleneck", (3, 4, 6, 3), 32, 4),
    "resnext101_32x8d": ("bottleneck", (3, 4, 23, 3), 32, 8),
    "resnext101_64x4d": ("bottleneck", (3, 4, 23, 3), 64, 4),
    "wide_resnet50_2": ("bottleneck", (3, 4, 6, 3), 1, 128),
    "wide_resnet101_2": ("bottleneck", (3, 4, 23, 3), 1, 128),
}


def resnet_text(name: str, head: bool = True, size: str = "224,224") -> str:
    """torchvision ResNet / ResNeXt / Wide ResNet (v1.5: the stride on the 3x3 conv); a
    bottleneck of planes m has width ⌊m·base/64⌋·g and outputs 4m."""
    kind, layers, g, base = RESNET[name]
    lines = [
        "conv(k, f, s, g) = C(k, f, s=s, p=(f-1)/2, g=g, bias=false)-BN",
        "branch(m, w, s, g) = conv(w,1,1,1)-relu-conv(w,3,s,g)-relu-conv(4*m,1,1,1)",
        "bottleneck(m, w, g) = [branch(m,w,1,g) + id]-relu",
        "first(m, w, s, g) = [branch(m,w,s,g) + conv(4*m,1,s,1)]-relu",
        "basic(k) = [conv(k,3,1,1)-relu-conv(k,3,1,1) + id]-relu",
        "down(k) = [conv(k,3,2,1)-relu-conv(k,3,1,1) + conv(k,1,2,1)]-relu",
        f"I({size},3)",
        "  -conv(64,7,2,1)-relu-P(3,s=2,p=1)",
    ]
    for k, (m, n) in enumerate(zip((64, 128, 256, 512), layers)):
        if kind == "basic":
            first, rest = ("basic(64)", "basic(64)") if k == 0 else (f"down({m})", f"basic({m})")
        else:
            w = m * base // 64 * g
            first, rest = f"first({m},{w},{1 if k == 0 else 2},{g})", f"bottleneck({m},{w},{g})"
        lines.append(f"  -{first}-{rest}" + (f"*{n - 1}" if n > 2 else ""))
    if head:
        lines.append("  -GAP-O(1000)")
    return "\n".join(lines) + "\n"


VGG = {"A": [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
       "B": [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
       "D": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
       "E": [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512, 512, 512, 512, "M"]}
VGG_NAMES = {"vgg11": "A", "vgg13": "B", "vgg16": "D", "vgg19": "E"}


def vgg_text(name: str, keras: bool = False) -> str:
    """torchvision vgg11..19 (and _bn); keras VGG16 / VGG19 (Flatten then Dense, the same counts)."""
    bn = name.endswith("_bn")
    cfg = VGG[VGG_NAMES[name.removesuffix("_bn")]]
    conv = "C(k,3,p=1)-BN-relu" if bn else "C(k,3,p=1)-relu"
    layers = "-".join("P(2)" if v == "M" else f"conv({v})" for v in cfg)
    pool = "F" if keras else "AAP(7)-F"
    drop = "" if keras else "-D(0.5)"
    return (f"conv(k) = {conv}\nI(224,224,3)\n  -{layers}\n"
            f"  -{pool}-H(4096)-relu{drop}-H(4096)-relu{drop}-O(1000)\n")


DENSENET = {"densenet121": (32, (6, 12, 24, 16), 64), "densenet161": (48, (6, 12, 36, 24), 96),
            "densenet169": (32, (6, 12, 32, 32), 64), "densenet201": (32, (6, 12, 48, 32), 64)}


def densenet_text(name: str, keras: bool = False, head: bool = True, size: str = "224,224") -> str:
    """torchvision densenet121/161/169/201 and keras DenseNet121/169/201: each dense layer
    concatenates its growth g to its input, `[id | BN-relu-C(4g,1)-BN-relu-C(g,3)]`; a
    transition halves the channels (⌊c/2⌋) and the size."""
    growth, blocks, c = DENSENET[name.lower()]
    stem = ("Z(3)-C({c},7,s=2,bias=false)-BN-relu-Z(1)-P(3,s=2)" if keras
            else "C({c},7,s=2,p=3,bias=false)-BN-relu-P(3,s=2,p=1)").format(c=c)
    lines = [
        "layer(g) = [id | BN-relu-C(4*g,1,bias=false)-BN-relu-C(g,3,p=1,bias=false)]",
        "transition(k) = BN-relu-C(k,1,bias=false)-A(2)",
        f"I({size},3)",
        f"  -{stem}",
    ]
    for k, n in enumerate(blocks):
        c += n * growth
        text = f"  -layer({growth})*{n}"
        if k < len(blocks) - 1:
            c //= 2
            text += f"-transition({c})"
        lines.append(text)
    if head:
        lines.append("  -BN-relu-GAP-O(1000)")
    else:
        lines.append("  -BN")
    return "\n".join(lines) + "\n"


KERAS_RESNET = {"ResNet50": (3, 4, 6, 3), "ResNet101": (3, 4, 23, 3), "ResNet152": (3, 8, 36, 3)}


def keras_resnet_text(name: str) -> str:
    """keras ResNet50/101/152 (v1: every conv has a bias, the stride on the first 1x1) and
    ResNet50V2/101V2/152V2 (pre-activation; the stride on the last block of a stack, its
    shortcut a 1x1 max pool; ZeroPadding2D((1,1),(1,1)) before each 3x3)."""
    if not name.endswith("V2"):
        lines = [
            "cb(k, f, s) = C(k, f, s=s, p=same)-BN",
            "main(m, s) = cb(m,1,s)-relu-cb(m,3,1)-relu-cb(4*m,1,1)",
            "first(m, s) = [main(m, s) + cb(4*m,1,s)]-relu",
            "block(m) = [main(m, 1) + id]-relu",
            "I(224,224,3)",
            "  -Z(3)-C(64,7,s=2)-BN-relu-Z(1)-P(3,s=2)",
        ]
        for k, (m, n) in enumerate(zip((64, 128, 256, 512), KERAS_RESNET[name])):
            lines.append(f"  -first({m},{1 if k == 0 else 2})-block({m})" + (f"*{n - 1}" if n > 2 else ""))
        lines.append("  -GAP-O(1000)")
        return "\n".join(lines) + "\n"
    depths = KERAS_RESNET[name[:-2]]
    lines = [
        "main(m, s) = C(m,1,bias=false)-BN-relu-Z(((1,1),(1,1)))-C(m,3,s=s,bias=false)-BN-relu-C(4*m,1)",
        "first(m) = BN-relu-[main(m,1) + C(4*m,1)]",
        "block(m) = [BN-relu-main(m,1) + id]",
        "last(m) = [BN-relu-main(m,2) + P(1,s=2)]",
        "I(224,224,3)",
        "  -Z(3)-C(64,7,s=2)-Z(1)-P(3,s=2)",
    ]
    for k, (m, n) in enumerate(zip((64, 128, 256, 512), depths)):
        if k < 3:
            lines.append(f"  -first({m})-block({m})" + (f"*{n - 2}" if n > 3 else "") + f"-last({m})")
        else:
            lines.append(f"  -first({m})-block({m})" + (f"*{n - 1}" if n > 2 else ""))
    lines.append("  -BN-relu-GAP-O(1000)")
    return "\n".join(lines) + "\n"


KERAS_MOBILENET = """\
# Keras MobileNet (v1): before every stride-2 depthwise conv a ZeroPadding2D(((0,1),(0,1)))
# and a valid conv; the classifier is a 1x1 conv on the pooled (1,1,1024) map.
cb(n, s) = C(n,3,s=s,p=same,bias=false)-BN-relu6
pw(n) = C(n,1,bias=false)-BN-relu6
dw(n) = DW(3,p=same,bias=false)-BN-relu6-pw(n)
dw2(n) = Z(((0,1),(0,1)))-DW(3,s=2,bias=false)-BN-relu6-pw(n)
I(224,224,3)
  -cb(32,2)-dw(64)
  -dw2(128)-dw(128)
  -dw2(256)-dw(256)
  -dw2(512)-dw(512)*5
  -dw2(1024)-dw(1024)
  -AAP(1)-D(0.001)-C(1000,1,p=same)-F-softmax
"""

XCEPTION = """\
sc(n) = SC(n,3,p=same,bias=false)-BN
short(n) = C(n,1,s=2,p=same,bias=false)-BN
entry(n) = [relu-sc(n)-relu-sc(n)-P(3,s=2,p=same) + short(n)]
middle = [relu-sc(728)-relu-sc(728)-relu-sc(728) + id]
I(299,299,3)
  -C(32,3,s=2,bias=false)-BN-relu-C(64,3,bias=false)-BN-relu
  -[sc(128)-relu-sc(128)-P(3,s=2,p=same) + short(128)]
  -entry(256)-entry(728)
  -middle*8
  -[relu-sc(728)-relu-sc(1024)-P(3,s=2,p=same) + short(1024)]
  -sc(1536)-relu-sc(2048)-relu-GAP-O(1000)
"""


def squeezenet_text(version: str) -> str:
    """torchvision squeezenet1_0 / 1_1: Fire modules (squeeze 1x1, then 1x1 and 3x3 expands
    concatenated), ceil-mode max pools, a 1x1 conv classifier pooled to 1x1."""
    fires = {"1_0": ["C(96,7,s=2)-relu-pool", "fire(16,64)", "fire(16,64)", "fire(32,128)", "pool",
                     "fire(32,128)", "fire(48,192)", "fire(48,192)", "fire(64,256)", "pool", "fire(64,256)"],
             "1_1": ["C(64,3,s=2)-relu-pool", "fire(16,64)", "fire(16,64)", "pool", "fire(32,128)",
                     "fire(32,128)", "pool", "fire(48,192)", "fire(48,192)", "fire(64,256)", "fire(64,256)"]}
    return ("fire(s, e) = C(s,1)-relu-[C(e,1)-relu | C(e,3,p=1)-relu]\npool = P(3,s=2,ceil=true)\n"
            "I(224,224,3)\n  -" + "\n  -".join(fires[version]) + "\n  -D(0.5)-C(1000,1)-relu-AAP(1)-F\n")


GOOGLENET = """\
# torchvision googlenet without its auxiliary heads (aux_logits=False): BasicConv2d is a
# conv without bias, BatchNorm and ReLU; the "5x5" branch is a 3x3, as torchvision builds it.
cb(n, f) = C(n, f, p=(f-1)/2, bias=false)-BN-relu
inc(a, b, c, d, e, p) = [cb(a,1) | cb(b,1)-cb(c,3) | cb(d,1)-cb(e,3) | P(3,s=1,p=1,ceil=true)-cb(p,1)]
pool = P(3,s=2,ceil=true)
I(224,224,3)
  -C(64,7,s=2,p=3,bias=false)-BN-relu-pool
  -cb(64,1)-cb(192,3)-pool
  -inc(64,96,128,16,32,32)-inc(128,128,192,32,96,64)-pool
  -inc(192,96,208,16,48,64)-inc(160,112,224,24,64,64)-inc(128,128,256,24,64,64)
  -inc(112,144,288,32,64,64)-inc(256,160,320,32,128,128)-P(2,ceil=true)
  -inc(256,160,320,32,128,128)-inc(384,192,384,48,128,128)
  -GAP-D(0.2)-O(1000)
"""

ALEXNET = """\
I(224,224,3)
  -C(64,11,s=4,p=2)-relu-P(3,s=2)-C(192,5,p=2)-relu-P(3,s=2)
  -C(384,3,p=1)-relu-C(256,3,p=1)-relu-C(256,3,p=1)-relu-P(3,s=2)
  -AAP(6)-F-D(0.5)-H(4096)-relu-D(0.5)-H(4096)-relu-O(1000)
"""

VIT = {"b_16": (16, 768, 12, 12, 3072), "b_32": (32, 768, 12, 12, 3072), "l_16": (16, 1024, 24, 16, 4096),
       "l_32": (32, 1024, 24, 16, 4096), "h_14": (14, 1280, 32, 16, 5120)}


def vit_text(variant: str) -> str:
    """torchvision vit_*: patchify conv, class token, learned positions, pre-norm blocks."""
    patch, d, layers, heads, ff = VIT[variant]
    tokens = (224 // patch) ** 2 + 1
    return (f"I(224,224,3)-C({d},{patch},s={patch})-SEQ-CLS-PE({tokens})"
            f"-TB({heads},{ff})*{layers}-LN-FIRST-O(1000)\n")


# ---------------------------------------------------------------- framework references
def _import_torchvision():
    sys.modules.setdefault("torchvision._meta_registrations", types.ModuleType("torchvision._meta_registrations"))
    import torch
    import torchvision.models as M
    import torchvision.models.regnet as R

    # RegNet computes its widths with torch tensors and `.tolist()`s them, impossible on
    # the meta device: that classmethod runs on the CPU, the model is still built on meta.
    if not getattr(R.BlockParams, "_cpu_patched", False):
        original = R.BlockParams.from_init_params.__func__

        def on_cpu(cls, *args, **kwargs):
            with torch.device("cpu"):
                return original(cls, *args, **kwargs)

        R.BlockParams.from_init_params = classmethod(on_cpu)
        R.BlockParams._cpu_patched = True
    return torch, M


@cache
def torch_reference(name: str, size: tuple[int, int] = (224, 224), part: str = "", **kwargs) -> dict:
    """params, trainable and output shape ([c, h, w] or [n]) of a torchvision model, or of
    its `features` (part="features") at an input of `size`."""
    torch, M = _import_torchvision()
    with torch.device("meta"):
        model = M.get_model(name, weights=None, **kwargs).eval()
        if part == "trunk":  # a ResNet without its pool and fc
            model = torch.nn.Sequential(*list(model.children())[:-2])
        elif part:
            model = getattr(model, part)
        x = torch.empty(1, 3, *size)
        with torch.no_grad():
            y = model(x)
    params = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return {"params": params, "trainable": trainable, "output_shape": tuple(y.shape[1:])}


def torch_refuses(name: str, size: tuple[int, int], part: str = "") -> bool:
    """Whether the model refuses an input of `size` (its forward raises)."""
    try:
        torch_reference.__wrapped__(name, size, part)
    except (RuntimeError, ValueError):
        return True
    return False


@cache
def keras_reference(name: str, **kwargs) -> dict:
    import keras
    import numpy as np

    model = getattr(keras.applications, name)(weights=None, **kwargs)
    non_trainable = int(sum(np.prod(w.shape) for w in model.non_trainable_weights))
    trainable = int(sum(np.prod(w.shape) for w in model.trainable_weights))
    out = {
        "params": int(model.count_params()),
        "trainable": trainable,
        "non_trainable": non_trainable,
        "output_shape": tuple(model.output_shape[1:]),
    }
    del model
    keras.backend.clear_session()
    return out
