"""A small spec model of architectures, rendered to symparams text, PyTorch and Keras 3.

A `Spec` is a layer kind with its arguments. A chain of specs becomes (a) the text
symparams parses, (b) an `nn.Sequential` and (c) a `keras.Sequential`, built here
without asking symparams anything: PyTorch's input channels are read from a forward
pass of zeros through the layers built so far, Keras infers them itself. The compare
helpers then check params, trainable, non-trainable and output shape exactly.

torch is channels-first and the language channels-last, so the torch model keeps its
tensors channels-first and wraps layers that act on the last axis (H on a sequence,
LN, RMS) in `LastAxis`, which moves the channels last and back. Keras's Dense acts
per pixel, so H and O on an image get a Flatten first, as the language's H does.

torch and keras are imported lazily: only tests that build models pay for them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

os.environ.setdefault("KERAS_BACKEND", "torch")

# Arguments written positionally, in order; all others are written as keywords.
POSITIONAL = {
    "C": ("n", "f"), "T": ("n", "f"), "DW": ("f",), "SC": ("n", "f"), "P": ("f",), "A": ("f",),
    "AAP": ("o",), "AMP": ("o",), "Z": ("p",), "H": ("n",), "O": ("n",), "D": ("r",),
}
ACTIVATIONS = ("relu", "relu6", "gelu", "silu", "tanh", "sigmoid", "softmax", "elu", "id")


class Unsupported(Exception):
    """The harness cannot express this layer in the framework (not the framework's refusal)."""


# What a framework raises when it refuses a model: its shape rules, and its API limits
# (torch's TypeError for padding='same' on a pool, keras's ValueError for strides with
# dilation, a missing keras.layers.DepthwiseConv3D, ...).
REFUSALS = (RuntimeError, ValueError, TypeError, AttributeError)


@dataclass(frozen=True)
class Spec:
    """One layer: its kind (the language's short name) and its arguments by name."""

    kind: str
    args: tuple[tuple[str, Any], ...] = ()

    def get(self, name: str, default: Any = None) -> Any:
        return dict(self.args).get(name, default)

    def text(self) -> str:
        """The layer as symparams text: `C(8,3,s=2,p=same)`."""
        args = dict(self.args)
        parts = []
        for name in POSITIONAL.get(self.kind, ()):
            if name in args:
                parts.append(_value_text(args.pop(name)))
        parts += [f"{name}={_value_text(value)}" for name, value in args.items()]
        return f"{self.kind}({','.join(parts)})" if parts else self.kind


def L(kind: str, **args: Any) -> Spec:
    """A spec: `L("C", n=8, f=3, s=2)`."""
    return Spec(kind, tuple(args.items()))


def _value_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        return "(" + ",".join(_value_text(v) for v in value) + ")"
    return str(value)


def chain_text(input_shape: tuple[int, ...], specs: list[Spec] | tuple[Spec, ...]) -> str:
    """The symparams text of an input (channels last) and its layers."""
    head = "I(" + ",".join(str(x) for x in input_shape) + ")"
    return "-".join([head] + [s.text() for s in specs])


def _per_axis(value: Any, rank: int) -> tuple[Any, ...]:
    return tuple(value) if isinstance(value, tuple) else (value,) * rank


# ---------------------------------------------------------------- PyTorch
def _torch_modules():
    import torch
    from torch import nn

    class LastAxis(nn.Module):
        """Runs a last-axis layer (Linear, LayerNorm, RMSNorm) on a channels-first tensor."""

        def __init__(self, inner: nn.Module) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.inner(x.movedim(1, -1)).movedim(-1, 1)

    return torch, nn, LastAxis


def torch_layer(spec: Spec, shape: tuple[int, ...]):
    """The torch module of `spec` for a channels-last input `shape` (without batch).

    Raises Unsupported where torch has no way to say the option.
    """
    _, nn, LastAxis = _torch_modules()
    rank = len(shape) - 1  # spatial axes
    c = shape[-1]
    dims = {1: "1d", 2: "2d", 3: "3d"}.get(rank)
    k, a = spec.kind, dict(spec.args)
    if k in ACTIVATIONS:
        table = {"relu": nn.ReLU, "relu6": nn.ReLU6, "gelu": nn.GELU, "silu": nn.SiLU, "tanh": nn.Tanh,
                 "sigmoid": nn.Sigmoid, "elu": nn.ELU, "id": nn.Identity}
        return nn.Softmax(dim=1) if k == "softmax" else table[k]()
    if k == "D":
        return nn.Dropout(float(a["r"]))
    if k == "F":
        return nn.Flatten()
    if k in ("H", "O"):
        bias = a.get("bias", True)
        if len(shape) == 2:  # a sequence: per position
            return LastAxis(nn.Linear(c, a["n"], bias=bias))
        fan_in = 1
        for x in shape:
            fan_in *= x
        linear = nn.Linear(fan_in, a["n"], bias=bias)
        return nn.Sequential(nn.Flatten(), linear) if len(shape) > 1 else linear
    if k == "BN":
        affine = a.get("affine", True)
        bn = {0: nn.BatchNorm1d, 1: nn.BatchNorm1d, 2: nn.BatchNorm2d, 3: nn.BatchNorm3d}[rank]
        return bn(c, affine=affine)
    if k == "LN":
        ln = nn.LayerNorm(c, bias=a.get("bias", True))
        return ln if len(shape) == 1 else LastAxis(ln)
    if k == "RMS":
        rms = nn.RMSNorm(c)
        return rms if len(shape) == 1 else LastAxis(rms)
    if dims is None:
        raise Unsupported(f"{k} on a vector")
    if k == "C":
        p = a.get("p", "valid")  # torch itself refuses 'same' with a stride (an API limit)
        conv = getattr(nn, f"Conv{dims}")
        return conv(c, a["n"], a["f"], stride=a.get("s", 1), padding=p, dilation=a.get("d", 1),
                    groups=a.get("g", 1), bias=a.get("bias", True))
    if k == "T":
        p = a.get("p", 0)  # torch itself refuses 'same' and 'valid' here (an API limit)
        conv = getattr(nn, f"ConvTranspose{dims}")
        return conv(c, a["n"], a["f"], stride=a.get("s", 1), padding=p, output_padding=a.get("op", 0),
                    groups=a.get("g", 1), bias=a.get("bias", True), dilation=a.get("d", 1))
    if k in ("DW", "SC"):
        p = a.get("p", "valid")
        conv = getattr(nn, f"Conv{dims}")
        m = a.get("m", 1)
        bias = a.get("bias", True)
        # DepthwiseConv is a Conv with groups=c; SeparableConv adds a 1x1 pointwise conv, and its
        # depthwise part has no bias (Keras's SeparableConv: one bias, on the pointwise output).
        depthwise = conv(c, c * m, a["f"], stride=a.get("s", 1), padding=p, dilation=a.get("d", 1),
                         groups=c, bias=bias if k == "DW" else False)
        if k == "DW":
            return depthwise
        return nn.Sequential(depthwise, conv(c * m, a["n"], 1, bias=bias))
    if k in ("P", "A"):
        p = a.get("p", "valid")  # torch itself refuses 'same' and padding above f/2 (API limits)
        pool = getattr(nn, f"{'MaxPool' if k == 'P' else 'AvgPool'}{dims}")
        return pool(a["f"], stride=a.get("s", a["f"]), padding=0 if p == "valid" else p,
                    ceil_mode=a.get("ceil", False))
    if k in ("GAP", "GMP"):
        pool = getattr(nn, f"Adaptive{'Avg' if k == 'GAP' else 'Max'}Pool{dims}")
        return nn.Sequential(pool(1), nn.Flatten())
    if k in ("AAP", "AMP"):
        return getattr(nn, f"Adaptive{'Avg' if k == 'AAP' else 'Max'}Pool{dims}")(a["o"])
    if k == "Z":
        pads = _per_axis(a["p"], rank)
        # ZeroPadNd takes (left, right) pairs from the last axis backwards.
        flat = tuple(q for p in reversed(pads) for q in (p, p))
        return getattr(nn, f"ZeroPad{dims}")(flat)
    raise Unsupported(f"no torch module for {k}")


def channels_last(shape: tuple[int, ...]) -> tuple[int, ...]:
    """A channels-first torch shape (no batch) in the language's channels-last order."""
    return tuple(shape[1:]) + (shape[0],) if len(shape) >= 2 else tuple(shape)


def channels_first(shape: tuple[int, ...]) -> tuple[int, ...]:
    return (shape[-1],) + tuple(shape[:-1]) if len(shape) >= 2 else tuple(shape)


def torch_model(input_shape: tuple[int, ...], specs: list[Spec] | tuple[Spec, ...]):
    """An `nn.Sequential` of `specs` on a channels-last `input_shape`, and its output shape
    (channels last, read from a forward pass). Errors of torch itself propagate."""
    torch, nn, _ = _torch_modules()
    modules = []
    shape = tuple(input_shape)
    with torch.no_grad():
        x = torch.zeros((2,) + channels_first(shape))
        for spec in specs:
            module = torch_layer(spec, shape)
            module.eval()
            x = module(x)
            shape = channels_last(tuple(x.shape[1:]))
            modules.append(module)
    return nn.Sequential(*modules), shape


def torch_counts(model) -> dict[str, int]:
    """PyTorch's counts: the sum of numel over parameters; buffers are not parameters."""
    params = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return {"params": params, "trainable": trainable, "non_trainable": params - trainable}


# ---------------------------------------------------------------- Keras
def keras_layers(spec: Spec, shape: tuple[int, ...]) -> list:
    """The Keras layers of `spec` for a channels-last input `shape` (without batch).

    Integer padding of a convolution is a ZeroPadding layer before a 'valid' one,
    which is exactly what integer padding means. Raises Unsupported where Keras has
    no way to say the option.
    """
    from keras import layers

    rank = len(shape) - 1
    dims = {1: "1D", 2: "2D", 3: "3D"}.get(rank)
    k, a = spec.kind, dict(spec.args)
    if k in ACTIVATIONS:
        return [layers.Identity() if k == "id" else layers.Activation(k)]
    if k == "D":
        return [layers.Dropout(float(a["r"]))]
    if k == "F":
        return [layers.Flatten()]
    if k in ("H", "O"):
        dense = layers.Dense(a["n"], use_bias=a.get("bias", True))
        return [layers.Flatten(), dense] if len(shape) > 2 else [dense]
    if k == "BN":
        affine = a.get("affine", True)
        return [layers.BatchNormalization(center=affine, scale=affine)]
    if k == "LN":
        return [layers.LayerNormalization(center=a.get("bias", True))]
    if k == "RMS":
        return [layers.RMSNormalization()]
    if dims is None:
        raise Unsupported(f"{k} on a vector")
    if k in ("C", "DW", "SC"):
        p = a.get("p", "valid")
        # Keras itself refuses strides > 1 with dilation_rate > 1 in Conv (an API limit).
        strides, dilation = a.get("s", 1), a.get("d", 1)
        pre = []
        if not isinstance(p, str):
            pre = [getattr(layers, f"ZeroPadding{dims}")(p)] if any(_per_axis(p, rank)) else []
            p = "valid"
        common = {"strides": strides, "padding": p, "dilation_rate": dilation, "use_bias": a.get("bias", True)}
        if k == "C":
            return pre + [getattr(layers, f"Conv{dims}")(a["n"], a["f"], groups=a.get("g", 1), **common)]
        # keras.layers has no DepthwiseConv3D or SeparableConv3D: getattr refuses (an API limit).
        if k == "DW":
            return pre + [getattr(layers, f"DepthwiseConv{dims}")(a["f"], depth_multiplier=a.get("m", 1),
                                                                   **common)]
        return pre + [getattr(layers, f"SeparableConv{dims}")(a["n"], a["f"], depth_multiplier=a.get("m", 1),
                                                               **common)]
    if k == "T":
        # Keras itself refuses integer padding, groups, strides > 1 with dilation_rate > 1 and
        # an output padding not below the stride (API limits and a shape rule).
        extra = {"groups": a["g"]} if a.get("g", 1) != 1 else {}
        if "op" in a:
            extra["output_padding"] = a["op"]
        return [getattr(layers, f"Conv{dims}Transpose")(a["n"], a["f"], strides=a.get("s", 1),
                                                         padding=a.get("p", "valid"), dilation_rate=a.get("d", 1),
                                                         use_bias=a.get("bias", True), **extra)]
    if k in ("P", "A"):
        # Keras itself refuses integer padding and ceil_mode (API limits).
        extra = {"ceil_mode": True} if a.get("ceil", False) else {}
        pool = getattr(layers, f"{'Max' if k == 'P' else 'Average'}Pooling{dims}")
        return [pool(pool_size=a["f"], strides=a.get("s", a["f"]), padding=a.get("p", "valid"), **extra)]
    if k in ("GAP", "GMP"):
        return [getattr(layers, f"Global{'Average' if k == 'GAP' else 'Max'}Pooling{dims}")()]
    if k in ("AAP", "AMP"):
        return [getattr(layers, f"Adaptive{'Average' if k == 'AAP' else 'Max'}Pooling{dims}")(a["o"])]
    if k == "Z":
        return [getattr(layers, f"ZeroPadding{dims}")(a["p"])]
    raise Unsupported(f"no keras layer for {k}")


def keras_model(input_shape: tuple[int, ...], specs: list[Spec] | tuple[Spec, ...], forward: bool = False):
    """A `keras.Sequential` of `specs` on a channels-last `input_shape`, and its output shape.

    With `forward`, a forward pass of zeros as well: the torch backend refuses some shapes
    its shape rule accepts (a same-padded AveragePooling3D smaller than its kernel)."""
    import keras

    model = keras.Sequential([keras.Input(tuple(input_shape))])
    shape = tuple(input_shape)
    for spec in specs:
        for layer in keras_layers(spec, shape):
            model.add(layer)
        shape = tuple(model.output_shape[1:])
        if any(x is None or x < 1 for x in shape):
            raise ValueError(f"keras: an empty output {shape}")
    if forward and model.layers:
        import numpy as np

        model(np.zeros((1,) + tuple(input_shape), dtype="float32"), training=False)
    return model, shape


def keras_counts(model) -> dict[str, int]:
    """Keras's counts: count_params(), split by trainable and non-trainable weights."""
    import numpy as np

    def size(weights) -> int:
        return int(sum(np.prod(w.shape) for w in weights))

    if not model.layers:  # only an Input: Keras leaves the model unbuilt, with nothing to count
        return {"params": 0, "trainable": 0, "non_trainable": 0}
    return {"params": model.count_params(), "trainable": size(model.trainable_weights),
            "non_trainable": size(model.non_trainable_weights)}


# ---------------------------------------------------------------- comparison
def symparams_counts(net) -> dict[str, int]:
    return {"params": net.params, "trainable": net.trainable, "non_trainable": net.non_trainable}


def check_torch(input_shape: tuple[int, ...], specs, text: str | None = None) -> None:
    """Assert symparams under torch equals the real nn.Sequential exactly."""
    import symparams

    text = text or chain_text(input_shape, specs)
    model, shape = torch_model(input_shape, specs)
    # Display order: channels first for images and volumes, as torch prints them.
    expected = channels_first(shape) if len(shape) >= 3 else shape
    for numeric in (False, True):  # the symbolic build, and the CLI's numeric one (arith.py)
        net = symparams.parse(text, convention="torch", numeric=numeric)
        assert not net.notes, (text, net.notes)  # PyTorch built it: no API limit to note
        assert symparams_counts(net) == torch_counts(model), text
        assert tuple(net.shape) == shape, text
        assert tuple(net.output_shape) == expected, text


def check_keras(input_shape: tuple[int, ...], specs, text: str | None = None) -> None:
    """Assert symparams under keras equals the real keras.Sequential exactly."""
    import symparams

    text = text or chain_text(input_shape, specs)
    model, shape = keras_model(input_shape, specs)
    for numeric in (False, True):  # the symbolic build, and the CLI's numeric one (arith.py)
        net = symparams.parse(text, convention="keras", numeric=numeric)
        assert not net.notes, (text, net.notes)  # Keras built it: no API limit to note
        assert symparams_counts(net) == keras_counts(model), text
        assert tuple(net.output_shape) == shape, text
    if model.layers:  # the shape Keras declares is the shape a forward pass gives
        import numpy as np

        out = model(np.zeros((2,) + tuple(input_shape), dtype="float32"), training=False)
        assert tuple(out.shape[1:]) == shape, text


# ---------------------------------------------------------------- per-layer table
# (input shape channels-last, layers, frameworks that can express them: t = torch, k = keras).
# A case marked for one framework only says why in its comment.
def _case(shape: tuple[int, ...], *specs: Spec, fw: str = "tk") -> tuple[tuple[int, ...], tuple[Spec, ...], str]:
    return (shape, specs, fw)


LAYER_CASES = [
    # C in 1D/2D/3D: stride, valid/same/integer padding, tuples, dilation, groups, bias=false.
    _case((17, 3), L("C", n=5, f=3)),
    _case((17, 3), L("C", n=5, f=4, s=3)),
    _case((17, 4), L("C", n=6, f=3, d=2, g=2)),
    _case((17, 3), L("C", n=5, f=3, p=2, bias=False)),
    _case((17, 3), L("C", n=5, f=4, p="same")),
    _case((17, 3), L("C", n=5, f=4, s=3, p="same"), fw="k"),  # torch: 'same' only at stride 1
    _case((13, 11, 3), L("C", n=8, f=3)),
    _case((13, 11, 3), L("C", n=8, f=5, s=2)),
    _case((13, 11, 3), L("C", n=8, f=(1, 7), p="same")),
    _case((13, 11, 3), L("C", n=8, f=(3, 2), s=(2, 1), p=(1, 0))),
    _case((13, 11, 3), L("C", n=8, f=3, p=1, d=2)),
    _case((13, 11, 3), L("C", n=8, f=2, p="same", d=3)),
    _case((13, 11, 6), L("C", n=9, f=3, g=3, bias=False)),
    _case((13, 11, 3), L("C", n=4, f=4, s=2, p="same"), fw="k"),  # torch: 'same' only at stride 1
    _case((13, 11, 3), L("C", n=4, f=3, s=(3, 2), p="same"), fw="k"),  # torch: 'same' only at stride 1
    _case((7, 9, 8, 2), L("C", n=4, f=3)),
    _case((7, 9, 8, 2), L("C", n=4, f=(3, 1, 2), s=(2, 1, 3), p=(1, 0, 1))),
    _case((7, 9, 8, 4), L("C", n=4, f=2, p="same", g=2, bias=False)),
    _case((7, 9, 8, 2), L("C", n=4, f=2, d=(1, 2, 3))),
    # T: integer p (torch only: Keras has no integer padding), op, d, g (torch only: Keras's
    # ConvTranspose has no groups), p=valid and p=same (keras only: torch has integer padding only),
    # and the default p: 0 under torch, valid under keras.
    _case((9, 3), L("T", n=4, f=3)),
    _case((9, 3), L("T", n=4, f=3, s=2)),
    _case((9, 3), L("T", n=4, f=2, s=3)),  # f < s: torch's p=0 and keras's valid differ
    _case((9, 3), L("T", n=4, f=3, s=2, p=1, op=1), fw="t"),
    _case((9, 4), L("T", n=6, f=3, s=2, p=2, d=2, g=2, bias=False), fw="t"),
    _case((9, 3), L("T", n=4, f=3, s=2, p="same"), fw="k"),
    _case((9, 3), L("T", n=4, f=3, d=2, p="valid"), fw="k"),
    _case((6, 5, 3), L("T", n=4, f=3)),
    _case((6, 5, 3), L("T", n=4, f=3, s=2)),
    _case((6, 5, 3), L("T", n=4, f=1, s=3)),
    _case((6, 5, 3), L("T", n=4, f=(3, 4), s=(2, 3), p=(1, 0), op=(1, 2)), fw="t"),
    _case((6, 5, 4), L("T", n=2, f=3, s=2, p=1, op=1, d=2, g=2), fw="t"),
    _case((6, 5, 3), L("T", n=4, f=4, s=2, p="same", bias=False), fw="k"),
    _case((6, 5, 3), L("T", n=4, f=3, s=2, p="valid"), fw="k"),
    _case((6, 5, 3), L("T", n=4, f=2, s=3, p="valid"), fw="k"),
    _case((6, 5, 3), L("T", n=4, f=2, d=3, p="same"), fw="k"),
    # An output padding: Keras takes it with 'valid' (the default) and 'same' too
    # (deconv_output_length: (x-1)s + k + op, and (x-1)s + k % 2 + op).
    _case((9, 3), L("T", n=4, f=3, s=2, op=1)),
    _case((6, 5, 3), L("T", n=4, f=3, s=2, p="same", op=1), fw="k"),
    _case((6, 5, 3), L("T", n=4, f=2, s=3, p="valid", op=2), fw="k"),
    _case((6, 5, 3), L("T", n=4, f=(2, 3), s=(3, 2), p="same", op=(0, 1)), fw="k"),
    _case((4, 5, 3, 2), L("T", n=3, f=2, s=2)),
    _case((4, 5, 3, 2), L("T", n=3, f=3, s=(1, 2, 3), p=1, op=(0, 1, 2)), fw="t"),
    # DW and SC: torch as a grouped Conv (+ a 1x1 Conv); Keras has them in 1D and 2D only.
    _case((15, 3), L("DW", f=3)),
    _case((15, 3), L("DW", f=3, s=2, m=2, bias=False)),
    _case((15, 3), L("SC", n=5, f=3, p="same", m=3)),
    _case((12, 11, 3), L("DW", f=3, p=1, m=2)),
    _case((12, 11, 3), L("DW", f=(3, 1), s=2)),
    _case((12, 11, 3), L("DW", f=3, d=2, p="same")),
    _case((12, 11, 3), L("DW", f=3, s=2, p="same"), fw="k"),  # torch: 'same' only at stride 1
    _case((12, 11, 3), L("SC", n=8, f=3)),
    _case((12, 11, 3), L("SC", n=8, f=3, s=2, m=2, bias=False)),
    _case((12, 11, 3), L("SC", n=8, f=3, p=2, d=2)),
    _case((12, 11, 3), L("SC", n=8, f=3, s=2, p="same"), fw="k"),  # torch: 'same' only at stride 1
    _case((5, 6, 7, 2), L("DW", f=2, m=2), fw="t"),  # keras has no DepthwiseConv3D
    _case((5, 6, 7, 2), L("SC", n=3, f=2, s=2), fw="t"),  # keras has no SeparableConv3D
    # P and A: valid, strides, integer padding and ceil mode (torch only: Keras has neither), same
    # (keras only: torch has no 'same' pooling).
    _case((17, 3), L("P", f=2)),
    _case((17, 3), L("A", f=3, s=2)),
    _case((17, 3), L("P", f=3, s=2, ceil=True), fw="t"),
    _case((16, 3), L("A", f=3, s=2, p=1, ceil=True), fw="t"),
    _case((17, 3), L("P", f=2, p="same"), fw="k"),
    _case((13, 11, 3), L("P", f=2)),
    _case((13, 11, 3), L("P", f=3, s=2)),
    _case((13, 11, 3), L("A", f=(3, 2), s=(1, 2))),
    _case((13, 11, 3), L("P", f=3, s=2, p=1), fw="t"),
    _case((13, 11, 3), L("P", f=2, ceil=True), fw="t"),
    _case((13, 11, 3), L("A", f=3, s=2, ceil=True), fw="t"),
    _case((6, 6, 3), L("P", f=2, s=3, p=1, ceil=True), fw="t"),  # the last window would start in the padding
    _case((5, 5, 3), L("A", f=2, s=2, p=1, ceil=True), fw="t"),  # ditto: x + p = 6 is a multiple of s
    _case((10, 7, 3), L("P", f=3, s=4, p=1, ceil=True), fw="t"),
    _case((2, 2, 3), L("P", f=3, s=2, ceil=True), fw="t"),  # kernel larger than the input, ceil mode
    _case((4, 4, 3), L("A", f=4, s=3, p=2, ceil=True), fw="t"),
    _case((13, 11, 3), L("P", f=3, s=2, p="same"), fw="k"),
    _case((13, 11, 3), L("A", f=2, p="same"), fw="k"),
    _case((13, 11, 3), L("A", f=4, s=3, p="same"), fw="k"),
    _case((7, 9, 8, 2), L("P", f=2)),
    _case((7, 9, 8, 2), L("A", f=(3, 2, 2), s=(2, 1, 3))),
    _case((7, 9, 8, 2), L("P", f=3, s=2, p=1, ceil=True), fw="t"),
    _case((7, 9, 8, 2), L("A", f=3, s=2, p="same"), fw="k"),
    _case((4, 9, 8, 2), L("A", f=(4, 3, 3), s=2, p=1, ceil=True), fw="t"),
    _case((2, 2, 2, 2), L("A", f=2, s=3, p=1, ceil=True), fw="t"),
    _case((3, 3, 3, 1), L("P", f=4, ceil=True), fw="t"),  # max pooling takes an input smaller than f here
    # Global and adaptive pools.
    _case((17, 3), L("GAP")),
    _case((13, 11, 3), L("GAP")),
    _case((13, 11, 3), L("GMP")),
    _case((7, 9, 8, 2), L("GMP")),
    _case((13, 11, 3), L("AAP", o=4)),
    _case((13, 11, 3), L("AMP", o=(2, 5))),
    _case((17, 3), L("AAP", o=5)),
    _case((7, 9, 8, 2), L("AMP", o=2)),
    # Z, F, H on vector, sequence and image, O, D.
    _case((17, 3), L("Z", p=2)),
    _case((13, 11, 3), L("Z", p=3)),
    _case((13, 11, 3), L("Z", p=(1, 2))),
    _case((7, 9, 8, 2), L("Z", p=(1, 0, 2))),
    _case((13, 11, 3), L("F")),
    _case((20,), L("H", n=7)),
    _case((20,), L("H", n=7, bias=False)),
    _case((9, 5), L("H", n=7)),
    _case((9, 5), L("O", n=3, bias=False)),
    _case((6, 5, 3), L("H", n=7)),
    _case((4, 5, 3, 2), L("O", n=7)),
    _case((20,), L("O", n=10)),
    _case((20,), L("D", r=0.5), L("O", n=10)),
    _case((6, 5, 3), L("D", r=0.25)),
    # BN (torch's running statistics are buffers; keras's are non-trainable weights), LN, RMS.
    _case((20,), L("BN")),
    _case((9, 5), L("BN")),
    _case((6, 5, 3), L("BN")),
    _case((6, 5, 3), L("BN", affine=False)),
    _case((4, 5, 3, 2), L("BN")),
    _case((20,), L("LN")),
    _case((9, 5), L("LN")),
    _case((9, 5), L("LN", bias=False)),
    _case((6, 5, 3), L("LN")),
    _case((20,), L("RMS")),
    _case((9, 5), L("RMS")),
    _case((6, 5, 3), L("RMS")),
    # More per-axis tuples.
    _case((13, 11, 3), L("P", f=(3, 2), s=(2, 1), p=(1, 0), ceil=True), fw="t"),
    _case((13, 11, 3), L("A", f=(2, 4), s=(3, 3), p=(1, 2), ceil=True), fw="t"),
    _case((6, 5, 3), L("T", n=4, f=3, s=(2, 1), p=(0, 1), d=(1, 2), op=(1, 0)), fw="t"),
    _case((6, 5, 3), L("T", n=4, f=(2, 3), s=(3, 2), p="same"), fw="k"),
    _case((7, 9, 8, 2), L("C", n=4, f=3, p="same", d=(2, 1, 1))),
    # The seeds' networks, built for real.
    _case((28, 28, 1), L("C", n=32, f=5), L("P", f=2), L("C", n=32, f=3), L("P", f=2), L("H", n=256),
          L("O", n=10)),
    _case((28, 28, 1), L("C", n=24, f=3), L("C", n=36, f=3), L("F"), L("H", n=128), L("O", n=10)),
    _case((28, 28, 3), L("C", n=20, f=5), L("P", f=2), L("C", n=50, f=5), L("P", f=2), L("H", n=500),
          L("O", n=10)),
    _case((200, 200, 1), L("C", n=16, f=2, s=2)),
    _case((64, 64, 32), L("BN")),
    _case((64, 64, 1), L("C", n=32, f=3, p="same"), L("BN"), L("F"), L("H", n=100), L("O", n=10)),
    _case((64, 64, 3), L("Z", p=3), L("C", n=32, f=7), L("BN"), L("relu"), L("P", f=2), L("F"), L("O", n=1)),
    _case((784,), L("O", n=10)),
    # Small realistic stacks. MobileNet-style 'same' at stride 2: keras only (torch: 'same' at stride 1).
    _case((32, 32, 3), L("C", n=8, f=3, s=2, p="same"), L("BN"), L("relu6"), L("DW", f=3, p="same"), L("BN"),
          L("relu"), L("C", n=16, f=1), L("DW", f=3, s=2, p="same", bias=False), L("SC", n=32, f=3, p="same"),
          L("GAP"), L("D", r=0.2), L("O", n=10), fw="k"),
    # ResNet-style stem with ceil-mode pooling: torch only (keras has no ceil mode).
    _case((32, 32, 3), L("C", n=8, f=7, s=2, p=3, bias=False), L("BN"), L("relu"), L("P", f=3, s=2, p=1),
          L("C", n=16, f=3, p=1, bias=False), L("BN"), L("A", f=2, ceil=True), L("AAP", o=1), L("F"),
          L("O", n=10), fw="t"),
    _case((16, 16, 2), L("C", n=4, f=3, p="same"), L("P", f=2), L("C", n=8, f=3, p="same"), L("T", n=4, f=2, s=2),
          L("C", n=2, f=1)),
    _case((100, 1), L("C", n=8, f=9, s=4), L("BN"), L("relu"), L("P", f=4), L("C", n=16, f=3, p="same"),
          L("GAP"), L("O", n=5)),
    _case((8, 16, 16, 1), L("C", n=4, f=3, p="same"), L("P", f=2), L("C", n=8, f=3), L("BN"), L("GAP"),
          L("O", n=2)),
    # Activations.
    *[_case((6, 5, 3), L(name)) for name in ACTIVATIONS],
    *[_case((20,), L(name)) for name in ACTIVATIONS],
]


def case_id(case: tuple[tuple[int, ...], tuple[Spec, ...], str]) -> str:
    shape, specs, _ = case
    return chain_text(shape, specs)


# ---------------------------------------------------------------- composition forms
# A tree of the language's composition forms over specs: `Form("seq", items)` a group,
# `Form("rep", (body,), n)` X*n, `Form("cat", branches)` [A | B], `Form("sum", branches)`
# [A + B], `Form("par", (body,), n)` n[A]; a branch or body is a "seq" Form. Models are
# built by forward passes, layer by layer, so every module sees the input the framework
# gives it (nothing is asked of symparams); a refusal of the framework propagates.
@dataclass(frozen=True)
class Form:
    kind: str
    items: tuple = ()
    n: int = 1


Item = Any  # a Spec or a Form


def _chain_of(form: Form, uses: dict[Spec, str]) -> str:
    return "-".join(item_text(i, uses) for i in form.items)


def item_text(item: Item, uses: dict[Spec, str] | None = None) -> str:
    """The text of a spec or a form; a spec in `uses` is written as that definition's use."""
    uses = uses or {}
    if isinstance(item, Spec):
        return uses.get(item, item.text())
    if item.kind == "seq":
        return f"({_chain_of(item, uses)})"
    if item.kind == "rep":
        (body,) = item.items
        return f"{item_text(body, uses)}*{item.n}"
    if item.kind == "par":
        (body,) = item.items
        return f"{item.n}[{_chain_of(body, uses)}]"
    join = " | " if item.kind == "cat" else " + "
    return "[" + join.join(_chain_of(b, uses) for b in item.items) + "]"


def _specs_of(item: Item) -> list[Spec]:
    if isinstance(item, Spec):
        return [item]
    return [s for i in item.items for s in _specs_of(i)]


def tree_program(input_shape: tuple[int, ...], items: list[Item], defined: int = 0) -> str:
    """The program of a tree: with `defined`, the specs with positional arguments whose bit is
    set become uses of definitions with parameters (`d0(pa,pb) = C(pa,pb,s=2)`, `d0(8,3)`)."""
    uses: dict[Spec, str] = {}
    lines = []
    for i, spec in enumerate(dict.fromkeys(s for item in items for s in _specs_of(item))):
        names = [n for n in POSITIONAL.get(spec.kind, ()) if spec.get(n) is not None]
        if not (defined >> i) & 1 or not names:
            continue
        params = [f"p{chr(97 + j)}" for j in range(len(names))]
        rest = {k: v for k, v in spec.args if k not in names}
        body = Spec(spec.kind, tuple(zip(names, params)) + tuple(rest.items())).text()
        lines.append(f"d{i}({', '.join(params)}) = {body}")
        uses[spec] = f"d{i}(" + ",".join(_value_text(spec.get(n)) for n in names) + ")"
    head = "I(" + ",".join(str(x) for x in input_shape) + ")"
    return "\n".join(lines + ["-".join([head] + [item_text(i, uses) for i in items])])


# The harness runs trees on real CPU tensors; a tree whose tensors outgrow this (a
# repetition of strided transposed convs inside another) is skipped, not run for hours.
TREE_ELEMENTS = 2**22


def torch_tree(input_shape: tuple[int, ...], items: list[Item]):
    """The torch modules of a tree (a ModuleList holding every one) and the output shape
    (channels last), from a forward pass of zeros."""
    torch, nn, _ = _torch_modules()
    modules: list = []

    def run(item: Item, x):
        if isinstance(item, Spec):
            module = torch_layer(item, channels_last(tuple(x.shape[1:])))
            module.eval()
            modules.append(module)
            if x.numel() > TREE_ELEMENTS:  # nested strided T repetitions grow 2^n a side
                raise Unsupported(f"a tensor of {x.numel()} elements, too big to run on the CPU")
            y = module(x)
            if any(v < 1 for v in y.shape[1:]):
                raise ValueError(f"torch: an empty output {tuple(y.shape[1:])}")
            return y
        if item.kind == "seq":
            for i in item.items:
                x = run(i, x)
            return x
        if item.kind == "rep":
            for _ in range(item.n):
                x = run(item.items[0], x)
            return x
        bodies = item.items if item.kind in ("cat", "sum") else item.items * item.n
        outs = [run(b, x) for b in bodies]
        if item.kind == "sum":
            # torch broadcasts x + y; the language, as keras.layers.Add, needs equal shapes.
            if len({tuple(o.shape) for o in outs}) != 1:
                raise ValueError(f"sum of shapes {[tuple(o.shape) for o in outs]}")
            return sum(outs[1:], outs[0])
        return torch.cat(outs, dim=1)  # channels: dim 1 of the channels-first tensors

    with torch.no_grad():
        x = torch.zeros((2,) + channels_first(tuple(input_shape)))
        for item in items:
            x = run(item, x)
    return nn.ModuleList(modules), channels_last(tuple(x.shape[1:]))


def keras_tree(input_shape: tuple[int, ...], items: list[Item]):
    """A functional keras.Model of a tree, after a forward pass of zeros, and its output shape."""
    import keras
    import numpy as np
    from keras import layers

    def run(item: Item, x):
        if isinstance(item, Spec):
            for layer in keras_layers(item, tuple(x.shape[1:])):
                x = layer(x)
            if any(v is None or v < 1 for v in x.shape[1:]):
                raise ValueError(f"keras: an empty output {tuple(x.shape[1:])}")
            return x
        if item.kind == "seq":
            for i in item.items:
                x = run(i, x)
            return x
        if item.kind == "rep":
            for _ in range(item.n):
                x = run(item.items[0], x)
            return x
        bodies = item.items if item.kind in ("cat", "sum") else item.items * item.n
        outs = [run(b, x) for b in bodies]
        if len(outs) == 1:
            return outs[0]
        if item.kind == "sum":
            # keras.layers.Add broadcasts axes of size 1, as torch's x + y does; the language's
            # [A + B] needs equal shapes (LANGUAGE.md section 4).
            if len({tuple(o.shape[1:]) for o in outs}) != 1:
                raise ValueError(f"sum of shapes {[tuple(o.shape[1:]) for o in outs]}")
            return layers.Add()(outs)
        return layers.Concatenate(axis=-1)(outs)

    inputs = keras.Input(tuple(input_shape))
    x = inputs
    for item in items:
        x = run(item, x)
    model = keras.Model(inputs, x)
    model(np.zeros((1,) + tuple(input_shape), dtype="float32"), training=False)
    return model, tuple(x.shape[1:])
