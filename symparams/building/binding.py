"""Binding: the arguments written at a use matched to what the layer or definition takes.

One matching loop (`match`) serves layers and definitions alike; a layer's values are
then converted to the kinds its parameters declare (`bind`), a definition's are passed
by name to its body (`bind_definition`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..base.errors import ParseError
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
                    notes=sig.notes,
                )
            name = sig.names[i]
        else:
            name = arg.name
            if name not in sig.names:
                raise ctx.error(f"{sig.owner} has no {sig.word} '{name}'", arg, notes=sig.notes)
        if name in written:
            raise ctx.error(f"argument '{name}' of {sig.owner} is given twice", arg)
        written[name] = arg
    return written


def layer_signature(spec: R.LayerSpec) -> Signature:
    names = tuple(p.name for p in spec.params)
    return Signature(
        spec.name, names, (f"{spec.name} takes: {', '.join(names) or 'none'}",), True, "argument"
    )


def bind(
    spec: R.LayerSpec, layer: S.Layer, call_shape: tuple[Any, ...], ctx: Context, env: Mapping[str, Any]
) -> R.Args:
    """Match written arguments to the layer's parameters and check their kinds."""
    sig = layer_signature(spec)
    written = match(layer.args or (), sig, ctx)
    spatial_rank = max(len(call_shape) - 1, 0)
    values: dict[str, Any] = {}
    for param in spec.params:
        if param.name in written:
            arg = written[param.name]
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
    if param.kind == R.CHOICE:
        if raw in param.choices:
            return raw
        raise ctx.error(f"{label} must be one of {', '.join(param.choices)}", node)
    if param.kind == R.RATE:
        if ctx.numbers.is_rate(raw):
            return raw
        raise ctx.error(f"{label} must be a number from 0 to 1", node)
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


def _pairs(raw: Any, label: str, node: S.Value, spatial_rank: int, ctx: Context) -> tuple[Any, ...]:
    """Per spatial axis a pair (before, after): `1` pads every side by 1, `(1,2)` axis by
    axis, `((0,1),(0,1))` each side of each axis (Keras ZeroPadding2D's order)."""
    items = raw if isinstance(raw, tuple) else (raw,) * spatial_rank
    if isinstance(raw, tuple) and len(raw) != spatial_rank and spatial_rank > 0:
        raise ctx.error(
            f"{label} has {len(raw)} values but the input has {spatial_rank} spatial "
            f"ax{'is' if spatial_rank == 1 else 'es'}",
            node,
        )
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
    items = raw if isinstance(raw, tuple) else (raw,) * spatial_rank
    if isinstance(raw, tuple) and len(raw) != spatial_rank and spatial_rank > 0:
        raise ctx.error(
            f"{label} has {len(raw)} values but the input has {spatial_rank} spatial "
            f"ax{'is' if spatial_rank == 1 else 'es'}",
            node,
        )
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
