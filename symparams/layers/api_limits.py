"""API limits: layers a framework refuses to build although their count and shape stand.

LANGUAGE.md section 5: an API limit of one framework is not an error; the formula is
the natural one. Each function here returns the notes a layer carries under one
convention: the framework's rule (quoted where it has a message) and the nearest text
that framework builds, with the explicit padding worked out for the actual sizes.
Each rule was checked by running PyTorch 2.13 and Keras 3 (torch backend):

- torch `nn.Conv*d(padding='same', stride>1)`: "padding='same' is not supported for
  strided convolutions" (C, DW, SC);
- torch `nn.ConvTranspose*d` takes integer padding only (a str is a TypeError);
- torch pooling: "pad should be at most half of effective kernel size" (2p <= f), and
  no 'same';
- keras `Conv`/`ConvTranspose` (not the depthwise ones): "`strides > 1` not supported in
  conjunction with `dilation_rate > 1`";
- keras pooling has no ceil mode and no integer padding; ConvTranspose has no groups
  and no integer padding; no DepthwiseConv3D or SeparableConv3D;
- keras's torch backend: `AveragePooling3D(padding='same')` on an input smaller than the
  kernel, when every axis pads symmetrically, "input image ... smaller than kernel size"
  (keras/src/backend/torch/nn.py passes symmetric padding to torch's avg_pool3d, which
  checks the unpadded input).
"""

from __future__ import annotations

from typing import Any

from ..base.expr import is_int, provably_equal
from .registry import LayerCall
from .shapes import pool_out

_DIMS = {1: "1d", 2: "2d", 3: "3d"}  # by the number of spatial axes

# What each layer's note text writes: its positional parameters, then its keywords with
# their defaults (a keyword at its default is left out).
_WRITTEN: dict[str, tuple[tuple[str, ...], tuple[tuple[str, Any], ...]]] = {
    "C": (("n", "f"), (("s", 1), ("p", "valid"), ("d", 1), ("g", 1), ("bias", True))),
    "DW": (("f",), (("s", 1), ("p", "valid"), ("m", 1), ("d", 1), ("bias", True))),
    "SC": (("n", "f"), (("s", 1), ("p", "valid"), ("m", 1), ("d", 1), ("bias", True))),
    "T": (("n", "f"), (("s", 1), ("p", None), ("op", None), ("d", 1), ("g", 1), ("bias", True))),
    "P": (("f",), (("s", None), ("p", "valid"), ("ceil", False))),
    "A": (("f",), (("s", None), ("p", "valid"), ("ceil", False))),
}


def number(value: Any) -> int | None:
    """An int of either build, or None for a symbolic value."""
    if is_int(value):
        return int(value)
    if getattr(value, "is_Integer", False):
        return int(value)
    return None


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        if len(set(value)) == 1:
            return _value(value[0])
        return "(" + ",".join(_value(v) for v in value) + ")"
    return str(value).replace(" ", "")


def _is_default(value: Any, default: Any) -> bool:
    if isinstance(value, tuple):
        return all(_is_default(v, default) for v in value)
    if isinstance(default, (bool, str)) or default is None:
        return value is default or value == default
    return number(value) == default


def layer_text(name: str, args: Any, **changed: Any) -> str:
    """The layer `name` with its bound arguments, some `changed`, as symparams text:
    `C(32,3,s=2,p=1)`."""
    positional, keywords = _WRITTEN[name]
    values = {**dict(args), **changed}
    parts = [_value(values[p]) for p in positional]
    for key, default in keywords:
        value = values.get(key, default)
        if not _is_default(value, default):
            parts.append(f"{key}={_value(value)}")
    return f"{name}({','.join(parts)})"


def _per_axis(value: Any, rank: int) -> tuple[Any, ...]:
    return tuple(value) if isinstance(value, tuple) else (value,) * rank


def _zero_pad(rank: int, pairs: list[tuple[int, int]]) -> str:
    """torch's nn.ZeroPadNd of (before, after) pairs per axis: the last axis first."""
    flat = ", ".join(f"{a}, {b}" for a, b in reversed(pairs))
    return f"nn.ZeroPad{_DIMS.get(rank, '')}(({flat}))"


def _same_total(x: int, f: int, s: int) -> int:
    """The padding 'same' adds on one axis, before and after together (TensorFlow's rule)."""
    return max(0, (-(-x // s) - 1) * s + f - x)


# ---------------------------------------------------------------- PyTorch
def torch_conv(call: LayerCall, name: str) -> tuple[str, ...]:
    """C, DW, SC: padding='same' with a stride above 1."""
    a = call.args
    rank = len(call.spatial)
    strides = _per_axis(a.s, rank)
    if a.p != "same" or all(number(s) == 1 for s in strides):
        return ()
    rule = (
        "PyTorch refuses padding='same' with a stride above 1 "
        "(\"padding='same' is not supported for strided convolutions\")"
    )
    pads: list[int] = []
    totals: list[tuple[int, int]] | None = []
    for x, f, s, d in zip(call.spatial, a.f, strides, a.d):
        x_, f_, s_, d_ = number(x), number(f), number(s), number(d)
        if f_ is None or s_ is None or d_ is None:
            return (f"{rule}; give an integer padding p with floor((x + 2p - d(f-1) - 1)/s) + 1 = ceil(x/s)",)
        k = d_ * (f_ - 1) + 1
        if k % 2:  # (k-1)/2 on both sides gives floor((x-1)/s) + 1 = ceil(x/s) for every x
            pads.append((k - 1) // 2)
            continue
        found = None
        if x_ is not None:
            target = -(-x_ // s_)
            for p in sorted(range(k + 1), key=lambda p: abs(2 * p - (k - 1))):
                if (x_ + 2 * p - k) // s_ + 1 == target:
                    found = p
                    break
        if found is None:
            if x_ is None or totals is None:
                totals = None
            else:
                total = _same_total(x_, k, s_)
                totals.append((total // 2, total - total // 2))
            pads.append(-1)
            continue
        pads.append(found)
        if totals is not None and x_ is not None:
            total = _same_total(x_, k, s_)
            totals.append((total // 2, total - total // 2))
    if all(p >= 0 for p in pads):
        return (f"{rule}; {layer_text(name, a, p=tuple(pads))} builds the same shape and count",)
    valid = layer_text(name, a, p="valid")
    if totals is not None and len(totals) == rank:
        return (
            (
                f"{rule}; no symmetric padding gives this shape (an even kernel pads one more on the "
                f"right): {_zero_pad(rank, totals)} then {valid} builds it with the same count"
            ),
        )
    return (
        (
            f"{rule}; with an even kernel no symmetric padding gives ceil(x/s) on every input: pad "
            f"asymmetrically (nn.ZeroPad{_DIMS.get(rank, '')}, one more on the right) before {valid}"
        ),
    )


def transposed_padding(f: Any, s: Any, d: Any, target_extra: Any) -> tuple[int, int] | None:
    """torch's integer (p, op) with (x-1)s - 2p + d(f-1) + 1 + op = (x-1)s + target_extra,
    op < s or op < d; None when there is none (or a value is symbolic)."""
    f_, s_, d_, r = number(f), number(s), number(d), number(target_extra)
    if f_ is None or s_ is None or d_ is None or r is None:
        return None
    k = d_ * (f_ - 1) + 1
    p = max(0, -(-(k - r) // 2))
    op = r - k + 2 * p
    if op < 0 or not (op < s_ or op < d_):
        return None
    return p, op


def torch_transposed(call: LayerCall, extras: tuple[Any, ...]) -> tuple[str, ...]:
    """T with padding 'same' or 'valid': PyTorch's ConvTranspose takes integers only.
    `extras` is each axis's output minus (x-1)s, the shape symparams gives."""
    a = call.args
    if not isinstance(a.p, str):
        return ()
    rule = f"PyTorch's ConvTranspose takes integer padding only (padding='{a.p}' is refused)"
    found = [transposed_padding(f, s, d, r) for f, s, d, r in zip(a.f, a.s, a.d, extras)]
    if all(pair is not None for pair in found):
        pads = tuple(pair[0] for pair in found if pair is not None)
        ops = tuple(pair[1] for pair in found if pair is not None)
        return (f"{rule}; {layer_text('T', a, p=pads, op=ops)} builds the same shape and count",)
    return (
        f"{rule}; give integers p and op (output (x-1)s - 2p + d(f-1) + op + 1, op < s or op < d); "
        "none gives this shape here"
        if all(number(v) is not None for v in (*a.f, *a.s, *a.d))
        else f"{rule}; give integers p and op (output (x-1)s - 2p + d(f-1) + op + 1)",
    )


def torch_pool(call: LayerCall, name: str, strides: tuple[Any, ...]) -> tuple[str, ...]:
    """P and A: padding above half the kernel, or 'same' (PyTorch's pools take integers)."""
    a = call.args
    rank = len(call.spatial)
    if a.p == "same":
        rule = "PyTorch's pooling takes integer padding only (padding='same' is refused)"
        totals = []
        for x, f, s in zip(call.spatial, a.f, strides):
            x_, f_, s_ = number(x), number(f), number(s)
            if x_ is None or f_ is None or s_ is None:
                return (
                    (
                        f"{rule}; pad first, then {layer_text(name, a, p='valid')}: 'same' pads "
                        "(ceil(x/s)-1)s + f - x per axis, one more after when odd (Z, or nn.ZeroPad)"
                    ),
                )
            totals.append(_same_total(x_, f_, s_))
        pool = layer_text(name, a, p="valid")
        if all(t % 2 == 0 for t in totals):
            z = _value(tuple(t // 2 for t in totals))
            return (f"{rule}; Z({z})-{pool} builds the same shape",)
        pairs = [(t // 2, t - t // 2) for t in totals]
        return (f"{rule}; {_zero_pad(rank, pairs)} then {pool} builds the same shape",)
    if isinstance(a.p, str):
        return ()
    over = [
        (p, f)
        for p, f in zip(a.p, a.f)
        if number(p) is not None and number(f) is not None and 2 * number(p) > number(f)  # type: ignore[operator]
    ]
    if not over:
        return ()
    p, f = over[0]
    rule = (
        "PyTorch refuses pool padding above half the kernel "
        f'("pad should be at most half of effective kernel size", here p={p}, f={f})'
    )
    pool = layer_text(name, a, p="valid")
    padded = tuple(x + 2 * q for x, q in zip(call.spatial, a.p))
    here = tuple(pool_out(x, f, s, q, a.ceil) for x, f, s, q in zip(call.spatial, a.f, strides, a.p))
    there = tuple(pool_out(x, f, s, "valid", a.ceil) for x, f, s in zip(padded, a.f, strides))
    same = all(provably_equal(u, v) for u, v in zip(here, there))
    alt = f"Z({_value(a.p)})-{pool}"
    if same:
        return (f"{rule}; {alt} builds the same shape",)
    return (f"{rule}; {alt} is the nearest it builds (in ceil mode its last window may differ)",)


# ---------------------------------------------------------------- Keras
def keras_stride_dilation(call: LayerCall, name: str) -> tuple[str, ...]:
    """C and T: a stride above 1 with a dilation above 1 (Keras's base_conv and
    base_conv_transpose refuse it; DepthwiseConv and SeparableConv build it)."""
    a = call.args
    rank = len(call.spatial)
    strides, dilations = _per_axis(a.s, rank), _per_axis(a.d, rank)
    if not any(number(s) not in (1, None) for s in strides) or not any(
        number(d) not in (1, None) for d in dilations
    ):
        return ()
    rule = 'Keras refuses strides > 1 with dilation_rate > 1 ("`strides > 1` not supported in conjunction with `dilation_rate > 1`")'
    if name == "C":
        # A strided convolution is the unstrided one sampled every s positions.
        alt = f"{layer_text('C', a, s=(1,) * rank)}-P(1,s={_value(strides)})"
        return (f"{rule}; {alt} builds the same shape and count",)
    return (f"{rule}; no single Keras layer builds it: write the stride and the dilation apart",)


def keras_transposed(call: LayerCall) -> tuple[str, ...]:
    """T with integer padding or groups: Keras's ConvTranspose has neither."""
    a = call.args
    notes = []
    if number(a.g) != 1:
        notes.append("Keras's ConvTranspose has no groups; no single Keras layer builds it")
    if isinstance(a.p, tuple):
        ops = a.op if a.op is not None else (0,) * len(a.p)
        alt = layer_text("T", a, p="valid", op=ops)
        rule = "Keras's ConvTranspose takes padding 'valid' or 'same' only"
        if all(number(p) == 0 for p in a.p):
            notes.append(f"{rule}; {alt} builds the same shape and count")
        else:
            crop = f"keras.layers.Cropping{_DIMS.get(len(call.spatial), '').upper()}({_value(a.p)})"
            notes.append(f"{rule}; {alt} then {crop} builds the same shape and count")
    return tuple(notes)


def keras_no_3d(call: LayerCall, name: str) -> tuple[str, ...]:
    if call.rank != 4:
        return ()
    kind = {"DW": "DepthwiseConv3D", "SC": "SeparableConv3D"}[name]
    return (f"Keras has no {kind}; no single Keras layer builds it",)


def keras_pool(call: LayerCall, name: str, strides: tuple[Any, ...]) -> tuple[str, ...]:
    """P and A: ceil mode and integer padding, which Keras's pooling does not take, and
    the torch backend's 3-D average pool on an input smaller than its kernel."""
    a = call.args
    rank = len(call.spatial)
    notes = []
    pool_kind = {"P": "MaxPooling", "A": "AveragePooling"}[name] + _DIMS.get(len(call.spatial), "").upper()
    if a.ceil and a.p != "same":
        rule = "Keras's pooling has no ceil mode (ceil=true)"
        pads = (0,) * rank if a.p == "valid" else a.p
        pairs = _ceil_pads(call.spatial, a.f, strides, pads)
        if pairs is None:
            notes.append(f"{rule}; pad (p, p + s - 1) on each axis, then pool with padding 'valid'")
        else:
            pad = ", ".join(f"({u}, {v})" for u, v in pairs)
            notes.append(
                f"{rule}; keras.layers.ZeroPadding{_DIMS.get(len(call.spatial), '').upper()}(({pad})) then "
                f"{pool_kind}({_value(a.f)}, strides={_value(strides)}) builds the same shape"
            )
    elif a.ceil:
        notes.append(
            f"Keras's pooling has no ceil mode; with padding 'same' it changes nothing: "
            f"{layer_text(name, a, ceil=False)} builds the same shape"
        )
    elif isinstance(a.p, tuple) and any(number(p) != 0 for p in a.p):
        pool = layer_text(name, a, p="valid")
        notes.append(
            f"Keras's pooling takes padding 'valid' or 'same' only; Z({_value(a.p)})-{pool} builds the same shape"
        )
    if name == "A" and call.rank == 4 and a.p == "same":
        notes += _keras_torch_avg_pool_3d(call, strides)
    return tuple(notes)


def _ceil_pads(
    spatial: tuple[Any, ...], kernels: tuple[Any, ...], strides: tuple[Any, ...], pads: tuple[Any, ...]
) -> list[tuple[int, int]] | None:
    """(before, after) zero padding per axis under which a 'valid' pool gives PyTorch's
    ceil-mode size; None when a size is symbolic in a way that leaves it open."""
    pairs: list[tuple[int, int]] = []
    for x, f, s, p in zip(spatial, kernels, strides, pads):
        x_, f_, s_, p_ = number(x), number(f), number(s), number(p)
        if f_ is None or s_ is None or p_ is None:
            return None
        if x_ is None:
            if p_ + s_ > f_:  # PyTorch drops a last window that starts in the padding
                return None
            pairs.append((p_, p_ + s_ - 1))
            continue
        target = pool_out(x_, f_, s_, p_, True)
        # (before, after) around a 'valid' pool: p and p + e, or less before when the
        # padding is above half the kernel (windows wholly in it are dropped).
        fits = [
            (u, v)
            for u in range(p_, -1, -1)
            for v in range(p_ + s_)
            if (x_ + u + v - f_) // s_ + 1 == target and x_ + u + v >= f_
        ]
        if not fits:
            return None
        pairs.append(fits[0])
    return pairs


def _keras_torch_avg_pool_3d(call: LayerCall, strides: tuple[Any, ...]) -> list[str]:
    """Keras's torch backend passes a symmetric 'same' padding to torch's avg_pool3d,
    which refuses an unpadded input smaller than the kernel."""
    a = call.args
    sizes = [(number(x), number(f), number(s)) for x, f, s in zip(call.spatial, a.f, strides)]
    rule = (
        "Keras's torch backend refuses a same-padded AveragePooling3D on an input smaller than its "
        'kernel when the padding is symmetric ("input image ... smaller than kernel size"; other '
        "backends build it)"
    )
    if all(v is not None for triple in sizes for v in triple):
        totals = [_same_total(x, f, s) for x, f, s in sizes]  # type: ignore[arg-type]
        smaller = any(x < f for x, f, _ in sizes)  # type: ignore[operator]
        if not smaller or any(t % 2 for t in totals):
            return []
        pool = layer_text("A", a, p="valid")
        return [f"{rule}; Z({_value(tuple(t // 2 for t in totals))})-{pool} builds the same shape"]
    if all(f is not None and f == 1 for _, f, _ in sizes):
        return []
    return [
        (
            f"{rule}, so when an axis is smaller than the kernel; Z(q)-{layer_text('A', a, p='valid')} "
            "with q half the padding 'same' adds builds the same shape"
        )
    ]
