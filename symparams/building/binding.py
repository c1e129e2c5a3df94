"""Binding: the arguments written at a use matched to what the layer or definition takes.

One matching loop (`match`) serves layers and definitions alike; a layer's values are
then converted to the kinds its parameters declare (`bind`), a definition's are passed
by name to its body (`bind_definition`).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from ..base.errors import ArgumentError, ParseError, ShapeError
from ..base.expr import is_number
from ..language import syntax as S
from ..layers import registry as R
from .context import Context, Thunk
from .evaluate import evaluate, refuse_decimal, whole


@dataclass(frozen=True)
class Signature:
    """What a layer or a definition takes, and how its errors name it."""

    owner: str  # `C`, or `'basic'` for a definition
    names: tuple[str, ...]
    notes: tuple[str, ...]  # what it takes, shown beside an error
    at_most: bool  # a layer's later parameters have defaults; a definition's are all needed
    word: str  # "argument" (a layer's) or "parameter" (a definition's)
    aliases: Mapping[str, str] = field(default_factory=dict)  # framework keyword -> name


_CONVOLUTIONS = ("C", "T", "DW", "SC")
# Keyword names framework users type (PyTorch's and Keras's), read as symparams' short
# names: alias -> (short name, the layers where the short name means that; None for every
# layer that has it). `d` is a dilation only in a convolution (E's d is a width), and `m`
# a depth multiplier only in DW and SC (PE's m counts positions).
ALIASES: dict[str, tuple[str, tuple[str, ...] | None]] = {
    "stride": ("s", None),
    "strides": ("s", None),
    "padding": ("p", None),
    "dilation": ("d", _CONVOLUTIONS),
    "dilation_rate": ("d", _CONVOLUTIONS),
    "groups": ("g", None),
    "filters": ("n", None),
    "out_channels": ("n", None),
    "units": ("n", None),
    "out_features": ("n", None),
    "hidden_size": ("n", None),
    "kernel_size": ("f", None),
    "pool_size": ("f", None),
    "return_sequences": ("seq", None),
    "bidirectional": ("bi", None),
    "use_bias": ("bias", None),
    "output_padding": ("op", None),
    "depth_multiplier": ("m", ("DW", "SC")),
    "num_heads": ("h", ("MHA", "TB")),
    "num_embeddings": ("v", ("E",)),
    "input_dim": ("v", ("E",)),
    "embedding_dim": ("d", ("E",)),
    "output_dim": ("d", ("E",)),
    "rate": ("r", ("D",)),
}


def match(args: tuple[S.Arg, ...], sig: Signature, ctx: Context) -> dict[str, S.Arg]:
    """Each written argument under the name it binds: positional ones in order, then
    keywords; an unknown name, one given twice or too many are errors at the argument."""
    written: dict[str, S.Arg] = {}
    for i, arg in enumerate(args):
        if arg.name is None:
            if any(a.name is not None for a in args[:i]):
                raise ctx.error("a positional argument cannot follow a keyword argument", arg, ParseError)
            if i >= len(sig.names):
                n = len(sig.names)
                raise ctx.error(
                    f"{sig.owner} takes {'at most ' * sig.at_most}{n} argument{'s' * (n != 1)}, "
                    f"got {len(args)}",
                    arg,
                    ArgumentError,
                    notes=sig.notes,
                )
            name = sig.names[i]
        else:
            name = sig.aliases.get(arg.name, arg.name)
            if name not in sig.names:
                raise ctx.error(
                    f"{sig.owner} has no {sig.word} '{name}'",
                    arg,
                    ArgumentError,
                    notes=_did_you_mean(name, sig) + sig.notes,
                )
        if name in written:
            also = f" (as {arg.name})" if arg.name not in (None, name) else ""
            raise ctx.error(f"argument '{name}' of {sig.owner} is given twice{also}", arg, ArgumentError)
        written[name] = arg
    return written


def _did_you_mean(name: str, sig: Signature) -> tuple[str, ...]:
    """A note naming the argument a wrong one most likely meant (`stirde` -> s), if any."""
    if name in ALIASES:  # a framework name that means something else in this layer
        return ()
    known = {n.lower(): n for n in sig.names} | {a.lower(): n for a, n in sig.aliases.items()}
    close = difflib.get_close_matches(name.lower(), list(known), n=1, cutoff=0.75)
    return (f"Did you mean: {known[close[0]]}?",) if close else ()


@cache  # once per layer: every use of a layer binds against the same signature
def layer_signature(spec: R.LayerSpec) -> Signature:
    names = tuple(p.name for p in spec.params)
    aliases = {
        alias: short
        for alias, (short, layers) in ALIASES.items()
        if short in names and (layers is None or spec.name in layers)
    }
    return Signature(
        spec.name,
        names,
        (f"{spec.name} takes: {', '.join(names) or 'none'}",),
        True,
        "argument",
        aliases,
    )


def bind(
    spec: R.LayerSpec, layer: S.Layer, call_shape: tuple[Any, ...], ctx: Context, env: Mapping[str, Any]
) -> R.Args:
    """Match written arguments to the layer's parameters and check their kinds. What goes
    wrong here is wrong with an argument: an ArgumentError."""
    try:
        return _bind(spec, layer, call_shape, ctx, env)
    except ShapeError as err:
        if type(err) is not ShapeError:
            raise
        raise ArgumentError(
            err.message, err.text, err.pos, err.end, expected=err.expected, notes=err.notes
        ) from None


def _bind(
    spec: R.LayerSpec, layer: S.Layer, call_shape: tuple[Any, ...], ctx: Context, env: Mapping[str, Any]
) -> R.Args:
    sig = layer_signature(spec)
    written = match(layer.args or (), sig, ctx)
    spatial_rank = max(len(call_shape) - 1, 0)
    values: dict[str, Any] = {}

    def value_of(name: str) -> Any:  # an argument's value, also one matched after the current one
        if name not in values and name in written and (param := spec.param(name)) is not None:
            raw = evaluate(written[name].value, ctx, env, param.kind)
            return convert(param, raw, written[name].value, spec, spatial_rank, ctx)
        return values.get(name)

    for param in spec.params:
        if param.name in written:
            arg = written[param.name]
            refuse_near_keyword(param, arg.value, env, value_of, spec, ctx)
            raw = evaluate(arg.value, ctx, env, param.kind)
            values[param.name] = convert(param, raw, arg.value, spec, spatial_rank, ctx)
        elif param.default is R.REQUIRED:
            raise ctx.error(
                f"{spec.name} needs its argument '{param.name}'" + (f" ({param.doc})" if param.doc else ""),
                layer,
                notes=sig.notes,
            )
        else:
            values[param.name] = default(param, spatial_rank, ctx)
    return R.Args(values)


def keywords(param: R.Param) -> tuple[str, ...]:
    """The keywords an argument of this kind takes."""
    if param.kind == R.PADDING:
        return ("same", "valid")
    if param.kind == R.BOOL:
        return ("true", "false")
    if param.kind == R.CHOICE:
        return param.choices
    return ()


# Framework padding words that symparams has no keyword for, and what to write instead.
_PADDING_WORDS = {
    "causal": "causal padding (Keras Conv1D) pads d*(f - 1) on the left only; the count and the "
    "output length ceil(t/s) are those of p=same: write p=same",
    "reflect": "{word} is a padding mode (PyTorch's padding_mode), not an amount; the mode does not "
    "change the count: write the amount, as in p=1",
}
for _mode in ("replicate", "circular", "zeros", "symmetric", "constant"):
    _PADDING_WORDS[_mode] = _PADDING_WORDS["reflect"]


def refuse_near_keyword(
    param: R.Param,
    node: S.Value,
    env: Mapping[str, Any],
    value_of: Callable[[str], Any],
    spec: R.LayerSpec,
    ctx: Context,
) -> None:
    """A bare name in an argument that takes keywords is the keyword when it is one; it is a
    mistake, refused with "did you mean", when it is a keyword in another case (`SAME`,
    TF1's spelling), a keyword one or two edits away (`vaild`) or a framework word for a
    mode symparams has no keyword for (`full`); any other name is a symbol (`p=k`).
    A definition's parameter is followed to the name written at the use; a name given a
    value (`--subs`) is a symbol on purpose; `1*SAME` is arithmetic, so a symbol."""
    words = keywords(param)
    while isinstance(node, S.Name) and isinstance(env.get(node.name), Thunk):
        thunk = env[node.name]
        node, env = thunk.node, thunk.env
    if not words or not isinstance(node, S.Name) or node.name in env or node.name in ctx.values:
        return
    word = node.name
    if word in words:
        return
    label = f"{spec.name}: '{param.name}'"
    lower = word.lower()
    if lower in words:
        raise ctx.error(
            f"{label} takes the keyword {lower}, not {word}: did you mean {param.name}={lower}?",
            node,
            ArgumentError,
            notes=("Keywords are lower case.",),
        )
    if param.kind == R.PADDING and lower == "full":
        raise ctx.error(
            f"{label} has no keyword 'full': full padding is d*(f - 1) on each side: "
            f"write p={_full_padding(value_of('f'), value_of('d'))}",
            node,
            ArgumentError,
        )
    if param.kind == R.PADDING and lower in _PADDING_WORDS:
        raise ctx.error(
            f"{label} has no keyword '{word}': " + _PADDING_WORDS[lower].format(word=word),
            node,
            ArgumentError,
        )
    near = [w for w in words if len(lower) >= 3 and _edits(lower, w) <= (2 if len(w) >= 5 else 1)]
    if near and param.kind != R.CHOICE:
        raise ctx.error(
            f"{label} takes {_either(words, param.kind == R.PADDING)}; "
            f"'{word}' is not a keyword: did you mean {param.name}={near[0]}?",
            node,
            ArgumentError,
            notes=(f"A name that is not a keyword is a symbol; for a symbol named {word}, write 1*{word}.",),
        )


def _either(words: tuple[str, ...], number: bool) -> str:
    """`same, valid or a number`."""
    items = list(words) + ["a number"] * number
    return ", ".join(items[:-1]) + " or " + items[-1] if len(items) > 1 else items[0]


def _full_padding(f: Any, d: Any) -> str:
    """d*(f - 1) for the layer's kernel and dilation, as text to write."""
    if isinstance(f, tuple) and d is None:
        d = (1,) * len(f)
    if not isinstance(f, tuple) or not isinstance(d, tuple) or len(f) != len(d) or not f:
        return "d*(f - 1)"
    try:
        pads = [int(di) * (int(fi) - 1) for fi, di in zip(f, d, strict=True)]
    except TypeError:
        return "d*(f - 1)"
    if len(set(pads)) == 1:
        return str(pads[0])
    return "(" + ",".join(map(str, pads)) + ")"


def _edits(a: str, b: str) -> int:
    """Damerau-Levenshtein distance (optimal string alignment): a swap of two letters is one edit."""
    rows = [list(range(len(b) + 1))] + [[i + 1] + [0] * len(b) for i in range(len(a))]
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            cost = a[i - 1] != b[j - 1]
            rows[i][j] = min(rows[i - 1][j] + 1, rows[i][j - 1] + 1, rows[i - 1][j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                rows[i][j] = min(rows[i][j], rows[i - 2][j - 2] + 1)
    return rows[-1][-1]


def default(param: R.Param, spatial_rank: int, ctx: Context) -> Any:
    value = param.default
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if param.kind in (R.SPATIAL, R.SPATIAL0):
        return (ctx.number(value),) * spatial_rank
    return ctx.number(value)


def convert(
    param: R.Param, raw: Any, node: S.Value, spec: R.LayerSpec, spatial_rank: int, ctx: Context
) -> Any:
    """A written value as the parameter's kind: a flag, a keyword, a rate, a size or
    one size per spatial axis."""
    label = f"{spec.name}: '{param.name}'"
    if param.kind == R.BOOL:
        if raw in ("true", "false"):
            return raw == "true"
        raise ctx.error(f"{label} must be true or false", node)
    if param.kind == R.LETTERS:
        return _letters(param, raw, label, node, ctx)
    if param.kind == R.CHOICE:
        if raw in param.choices:
            return raw
        close = difflib.get_close_matches(str(raw).lower(), param.choices, n=1, cutoff=0.6)
        hint = (f"Did you mean: {param.name}={close[0]}?",) if close else ()
        raise ctx.error(f"{label} must be one of {', '.join(param.choices)}", node, notes=hint)
    if param.kind == R.RATE:
        if ctx.numbers.is_rate(raw):
            return raw
        raise ctx.error(f"{label} must be a number from 0 to 1", node)
    if param.kind == R.TENSOR:
        if isinstance(raw, str) and raw not in ("same", "valid", "true", "false"):
            return R.tensor_shape(ctx.read_tensor(raw, node), raw)
        raise ctx.error(f"{label} must be the name of a tensor bound earlier with 'name := ...'", node)
    if param.kind == R.NUMBER:
        if not isinstance(raw, (str, tuple)) and is_number(raw):
            return raw
        raise ctx.error(f"{label} must be a number", node)
    if param.kind == R.PADDING and raw in ("same", "valid"):
        return raw
    if param.kind == R.PAIRS and not isinstance(raw, str):
        refuse_decimal(node, label, ctx)
        return _pairs(raw, label, node, spatial_rank, ctx)
    if param.kind == R.INTS and not isinstance(raw, str):
        refuse_decimal(node, label, ctx)
        items = raw if isinstance(raw, tuple) else (raw,)
        if any(isinstance(item, (tuple, str)) for item in items):
            raise ctx.error(f"{label} takes numbers, not {ctx.snippet(node)}", node)
        return tuple(whole(item, 0, label, node, ctx) for item in items)
    if isinstance(raw, str):
        raise ctx.error(f"{label} cannot be the keyword '{raw}'", node)
    refuse_decimal(node, label, ctx)
    minimum = 0 if param.kind in (R.NONNEG, R.SPATIAL0, R.PADDING) else 1
    if param.kind in (R.SPATIAL, R.SPATIAL0, R.PADDING):
        return _per_axis(raw, minimum, label, node, spatial_rank, ctx)
    if isinstance(raw, tuple):
        raise ctx.error(f"{label} takes one value, not a tuple", node)
    return whole(raw, minimum, label, node, ctx)


def _letters(param: R.Param, raw: Any, label: str, node: S.Value, ctx: Context) -> str:
    """`true` (all), `false` (none) or letters each naming one part (`qkv`), in order."""
    if raw == "true":
        return "".join(param.choices)
    if raw == "false":
        return ""
    if isinstance(raw, str) and raw and set(raw) <= set(param.choices) and len(set(raw)) == len(raw):
        return "".join(x for x in param.choices if x in raw)
    every = ", ".join(param.choices)
    raise ctx.error(
        f"{label} must be true, false or some of the letters {every}, each once (qkv: those biased, "
        "the rest not)",
        node,
    )


def _axis_items(raw: Any, label: str, node: S.Value, spatial_rank: int, ctx: Context) -> tuple[Any, ...]:
    """One item per spatial axis: a single value repeated, or a tuple of exactly that many."""
    if not isinstance(raw, tuple):
        return (raw,) * spatial_rank
    if len(raw) != spatial_rank and spatial_rank > 0:
        raise ctx.error(
            f"{label} has {len(raw)} values but the input has {spatial_rank} spatial "
            f"ax{'is' if spatial_rank == 1 else 'es'}",
            node,
        )
    return raw


def _pairs(raw: Any, label: str, node: S.Value, spatial_rank: int, ctx: Context) -> tuple[Any, ...]:
    """Per spatial axis a pair (before, after): `1` pads every side by 1, `(1,2)` axis by
    axis, `((0,1),(0,1))` each side of each axis (Keras ZeroPadding2D's order)."""
    items = _axis_items(raw, label, node, spatial_rank, ctx)
    pairs = []
    for item in items:
        pair = item if isinstance(item, tuple) else (item, item)
        if len(pair) != 2 or any(isinstance(v, (tuple, str)) for v in pair):
            raise ctx.error(f"{label} takes per axis a number or a pair (before, after)", node)
        pairs.append(tuple(whole(v, 0, label, node, ctx) for v in pair))
    return tuple(pairs)


def _per_axis(
    raw: Any, minimum: int, label: str, node: S.Value, spatial_rank: int, ctx: Context
) -> tuple[Any, ...]:
    items = _axis_items(raw, label, node, spatial_rank, ctx)
    if any(isinstance(item, tuple) for item in items):
        raise ctx.error(f"{label} takes one value per spatial axis, not tuples inside a tuple", node)
    keyword = next((item for item in items if isinstance(item, str)), None)
    if keyword is not None:
        raise ctx.error(
            f"{label} takes a keyword or numbers, not a tuple holding the keyword '{keyword}'", node
        )
    return tuple(whole(item, minimum, label, node, ctx) for item in items)


def bind_definition(
    d: S.Definition, term: S.Layer, env: Mapping[str, Any], ctx: Context, notes: tuple[str, ...]
) -> dict[str, Any]:
    """The body's environment: each parameter bound, by name, to the argument written at
    the use. Only parameters are bound: every other name in the body is a network symbol."""
    params = d.params or ()
    args = term.args or ()
    if d.params is None and args:
        raise ctx.error(
            f"'{d.name}' is defined without parameters but is given {len(args)} "
            f"argument{'s' if len(args) != 1 else ''}",
            term,
            notes=notes,
        )
    written = match(args, Signature(f"'{d.name}'", params, notes, False, "parameter"), ctx)
    missing = [p for p in params if p not in written]
    if missing:
        raise ctx.error(f"'{d.name}' needs its argument '{missing[0]}'", term, notes=notes)
    return {name: Thunk(arg.value, env) for name, arg in written.items()}
