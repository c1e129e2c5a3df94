"""Syntax tree to network: evaluate arguments, bind them to layers, run the shapes.

Data flows one way: the builder walks the chain, calls each layer's pure function
with the shape it receives, checks its conditions (a numeric one that fails is a
ShapeError naming the layer; a symbolic one is kept), and collects `LayerInfo` rows.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from . import syntax as S
from .arith import NeedsSympy, is_false, is_int, is_true, sympy, whole
from .errors import DefinitionError, LimitError, ParseError, ShapeError, SymparamsError
from .layers import registry as R
from .limits import (
    MAX_DEFINITION_DEPTH,
    MAX_DIGITS,
    MAX_LAYERS,
    Budget,
    definition_depth,
    oversize,
    power_too_large,
    written_layers,
)
from .network import LayerInfo, Network, collected_totals, ideal_network, merge_conditions, total
from .shapes import Condition, at_least, divides
from .symbols import AXIS_NAMES, symbol

if TYPE_CHECKING:
    from sympy import Expr

KEYWORDS = ("same", "valid", "true", "false")
INPUT_NAMES = ("I", "Input")


@dataclass(frozen=True)
class Thunk:
    """A definition's argument, evaluated where the body uses it (call by name)."""

    node: S.Value
    env: Mapping[str, Any]


@dataclass
class Context:
    """State of one build: the text, the definitions, the values given to symbols, and
    whether the build is numeric (Python ints, sympy untouched; arith.py)."""

    text: str
    convention: str
    definitions: Mapping[str, S.Definition]
    values: Mapping[str, Any]
    numeric: bool = False
    conditions: list[Condition] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)
    active: tuple[str, ...] = ()  # definitions being expanded, to refuse recursion
    unrolled: int = 0  # applications of shape-changing repeated blocks so far (composition.MAX_UNROLL)
    budget: Budget = field(default_factory=Budget)  # layers built and time spent (limits.py)

    def error(self, message: str, node: S.Node, cls: type[SymparamsError] = ShapeError,
              **kw: Any) -> SymparamsError:
        return cls(message, self.text, node.start, node.end, **kw)

    def number(self, value: int) -> Any:
        """A whole number as this build holds numbers."""
        return value if self.numeric else sympy.Integer(value)

    def snippet(self, node: S.Node) -> str:
        if node.label:  # made by a layer's expansion, not written by the user
            return node.label
        return " ".join(self.text[node.start:node.end].split())


# ---------------------------------------------------------------- expressions
def evaluate(node: S.Value, ctx: Context, env: Mapping[str, Any], kind: str = R.SIZE) -> Any:
    """An argument's value: a sympy expression, a keyword string, or a tuple."""
    if isinstance(node, S.TupleValue):
        return tuple(evaluate(item, ctx, env, kind) for item in node.items)
    if isinstance(node, S.Const):
        return node.value
    if isinstance(node, S.Name):
        bound = env.get(node.name)
        if isinstance(bound, Thunk):
            return evaluate(bound.node, ctx, bound.env, kind)
        if bound is not None:
            return bound
        if node.name in KEYWORDS or kind == R.CHOICE:
            return node.name
        if node.name in ctx.values:
            return ctx.values[node.name]
        if ctx.numeric:
            raise NeedsSympy
        return symbol(node.name)
    if isinstance(node, S.Num):
        return ctx.number(node.value)
    if isinstance(node, S.Dec):
        return whole(Fraction(node.text)) if ctx.numeric else sympy.Rational(Fraction(node.text))
    if isinstance(node, S.Neg):
        return -_arith(node.operand, ctx, env)
    if isinstance(node, S.BinOp):
        left, right = _arith(node.left, ctx, env), _arith(node.right, ctx, env)
        return within_limits(_binop(node, left, right, ctx, exact=kind != R.RATE), node, ctx)
    raise ctx.error("unexpected argument", node)


def within_limits(value: Any, node: S.Node, ctx: Context, counts: tuple[Any, ...] = ()) -> Any:
    """`value`, a size or shape, itself; or a LimitError at `node` when it or one of
    `counts` is too large (limits.py)."""
    reason = oversize(value) or oversize(counts, size=False)
    if reason is not None:
        raise ctx.error(f"{ctx.snippet(node)} gives {reason}, beyond what symparams computes", node,
                        LimitError)
    return value


def _arith(node: S.Value, ctx: Context, env: Mapping[str, Any]) -> Expr:
    value = evaluate(node, ctx, env, R.SIZE)
    if isinstance(value, str):
        raise ctx.error(f"'{value}' is a keyword and cannot stand in arithmetic", node)
    if isinstance(value, tuple):
        raise ctx.error("a tuple cannot stand in arithmetic", node)
    return value


def _binop(node: S.BinOp, left: Expr, right: Expr, ctx: Context, exact: bool = True) -> Expr:
    """One arithmetic step. '/' is exact division where a size goes (k/2 needs k even);
    a rate such as D(1/2) may be any fraction."""
    if ctx.numeric:
        return _numeric_binop(node.op, left, right, exact)
    if node.op == "+":
        return left + right
    if node.op == "-":
        return left - right
    if node.op == "*":
        return left * right
    if node.op == "/":
        if right == 0:
            raise ctx.error("division by zero", node)
        quotient = left / right
        if not exact:
            return quotient
        if quotient.is_number and not quotient.is_integer and left.is_integer and right.is_integer:
            raise ctx.error(f"'/' is exact division, but {left}/{right} is not a whole number", node)
        if not quotient.is_number and left.is_integer and right.is_integer and not quotient.is_integer:
            ctx.conditions.append(divides(right, left, f"{ctx.snippet(node)} needs {left} divisible by {right}"))
        return quotient
    if node.op == "^":
        return _power(node, left, right, ctx)
    raise ctx.error(f"unknown operator {node.op}", node)


def _numeric_binop(op: str, left: Any, right: Any, exact: bool) -> Any:
    """One step of the numeric build, on ints and fractions. What needs explaining (a
    remainder where a size goes, a division by zero) or algebra (a fractional power) is
    left to the symbolic build, whose _binop says it."""
    result: Any
    if op == "+":
        result = left + right
    elif op == "-":
        result = left - right
    elif op == "*":
        result = left * right
    elif op == "/":
        if right == 0 or exact and is_int(left) and is_int(right) and left % right:
            raise NeedsSympy
        result = Fraction(left) / right
    elif op == "^" and is_int(right) and right >= 0 and not power_too_large(left, right):
        result = left**right
    else:
        raise NeedsSympy
    return whole(result) if isinstance(result, Fraction) else result


def _power(node: S.BinOp, base: Expr, exponent: Expr, ctx: Context) -> Expr:
    if exponent.is_number and exponent.is_integer and int(exponent) < 0:
        raise ctx.error("a negative exponent does not give a whole number", node)
    if power_too_large(base, exponent):  # decided before 2^2^2^2^2^2 is computed
        raise ctx.error(f"{ctx.snippet(node)} gives a number with more digits than symparams computes", node,
                        LimitError)
    return base**exponent


# ---------------------------------------------------------------- binding
def bind(spec: R.LayerSpec, layer: S.Layer, call_shape: tuple[Expr, ...], ctx: Context,
         env: Mapping[str, Any]) -> R.Args:
    """Match written arguments to the layer's parameters and check their kinds."""
    written: dict[str, S.Arg] = {}
    args = layer.args or ()
    for i, arg in enumerate(args):
        if arg.name is None:
            if written and any(a.name is not None for a in args[:i]):
                raise ctx.error("a positional argument cannot follow a keyword argument", arg, ParseError)
            if i >= len(spec.params):
                raise ctx.error(f"{spec.name} takes at most {len(spec.params)} argument"
                                f"{'s' if len(spec.params) != 1 else ''}, got {len(args)}", arg)
            name = spec.params[i].name
        else:
            name = arg.name
            if spec.param(name) is None:
                valid = ", ".join(p.name for p in spec.params) or "none"
                raise ctx.error(f"{spec.name} has no argument '{name}'", arg,
                                notes=(f"{spec.name} takes: {valid}",))
        if name in written:
            raise ctx.error(f"argument '{name}' of {spec.name} is given twice", arg)
        written[name] = arg
    spatial_rank = max(len(call_shape) - 1, 0)
    values: dict[str, Any] = {}
    for param in spec.params:
        if param.name in written:
            arg = written[param.name]
            raw = evaluate(arg.value, ctx, env, param.kind)
            values[param.name] = _convert(param, raw, arg.value, spec, spatial_rank, ctx)
        elif param.default is R.REQUIRED:
            raise ctx.error(f"{spec.name} needs its argument '{param.name}'"
                            + (f" ({param.doc})" if param.doc else ""), layer,
                            notes=(f"{spec.name} takes: {', '.join(p.name for p in spec.params)}",))
        else:
            values[param.name] = _default(param, spatial_rank, ctx)
    return R.Args(values)


def _default(param: R.Param, spatial_rank: int, ctx: Context) -> Any:
    value = param.default
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if param.kind in (R.SPATIAL, R.SPATIAL0):
        return (ctx.number(value),) * spatial_rank
    return ctx.number(value)


def _convert(param: R.Param, raw: Any, node: S.Value, spec: R.LayerSpec, spatial_rank: int,
             ctx: Context) -> Any:
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
        number = isinstance(raw, (int, Fraction)) if ctx.numeric else isinstance(raw, sympy.Expr) and raw.is_number
        if number and 0 <= raw <= 1:
            return raw
        raise ctx.error(f"{label} must be a number from 0 to 1", node)
    if param.kind == R.PADDING and raw in ("same", "valid"):
        return raw
    if isinstance(raw, str):
        raise ctx.error(f"{label} cannot be the keyword '{raw}'", node)
    _refuse_decimal(node, label, ctx)
    minimum = 0 if param.kind in (R.NONNEG, R.SPATIAL0, R.PADDING) else 1
    if param.kind in (R.SPATIAL, R.SPATIAL0, R.PADDING):
        items = raw if isinstance(raw, tuple) else (raw,) * spatial_rank
        if isinstance(raw, tuple) and len(raw) != spatial_rank and spatial_rank > 0:
            raise ctx.error(f"{label} has {len(raw)} values but the input has {spatial_rank} spatial "
                            f"ax{'is' if spatial_rank == 1 else 'es'}", node)
        if any(isinstance(item, str) for item in items):
            raise ctx.error(f"{label} takes a keyword or numbers, not a tuple holding the keyword "
                            f"'{next(i for i in items if isinstance(i, str))}'", node)
        return tuple(_whole(item, minimum, label, node, ctx) for item in items)
    if isinstance(raw, tuple):
        raise ctx.error(f"{label} takes one value, not a tuple", node)
    return _whole(raw, minimum, label, node, ctx)


def _refuse_decimal(node: S.Value, label: str, ctx: Context) -> None:
    """Decimals go only where a layer takes a rate (LANGUAGE.md section 1): `C(32,2.0)`
    is refused although 2.0 is whole, as the frameworks refuse a float kernel size."""
    stack: list[Any] = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, S.Dec):
            raise ctx.error(f"{label} must be a whole number, got {ctx.snippet(node)}", node,
                            notes=("Decimals go only where a layer takes a rate, as in D(0.5).",))
        if isinstance(item, S.BinOp):
            stack += [item.left, item.right]
        elif isinstance(item, S.Neg):
            stack.append(item.operand)
        elif isinstance(item, S.TupleValue):
            stack += list(item.items)


def _whole(value: Expr, minimum: int, label: str, node: S.Value, ctx: Context) -> Expr:
    if ctx.numeric:  # a fraction or a number too small: the symbolic build says so
        if not is_int(value) or value < minimum:
            raise NeedsSympy
        return value
    if value.is_number:
        if not value.is_integer:
            raise ctx.error(f"{label} must be a whole number, got {value}", node)
        if value < minimum:
            word = "positive" if minimum == 1 else "at least 0"
            raise ctx.error(f"{label} must be {word}, got {value}", node)
        return value
    if value.is_integer is False:
        ctx.conditions.append(Condition(sympy.Eq(value, sympy.floor(value)), f"{label} needs {value} whole"))
    if minimum == 1 and not value.is_positive:
        ctx.conditions.append(at_least(value, 1, f"{label} needs {value} >= 1"))
    elif minimum == 0 and not value.is_nonnegative:
        ctx.conditions.append(at_least(value, 0, f"{label} needs {value} >= 0"))
    return value


# ---------------------------------------------------------------- structure
class Builder:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def chain(self, chain: S.Chain, shape: tuple[Expr, ...] | None, env: Mapping[str, Any],
              prefix: str, depth: int) -> tuple[tuple[Expr, ...], list[LayerInfo]]:
        rows: list[LayerInfo] = []
        for i, term in enumerate(chain.items):
            index = f"{prefix}{i}" if prefix == "" else f"{prefix}.{i + 1}"
            if shape is None and not _is_input(term):
                raise self.ctx.error("a network starts with an input layer, such as I(28,28,1) or I",
                                     term, ParseError)
            if shape is not None and _is_input(term):
                raise self.ctx.error("an input layer I can only start the network", term)
            shape, row = self.term(term, shape, env, index, depth)
            rows.append(row)
        assert shape is not None
        return shape, rows

    def term(self, term: S.Term, shape: tuple[Expr, ...] | None, env: Mapping[str, Any], index: str,
             depth: int) -> tuple[tuple[Expr, ...], LayerInfo]:
        if isinstance(term, S.Layer):
            if shape is None:
                return self.input_layer(term, env, index)
            return self.layer(term, shape, env, index, depth)
        assert shape is not None
        if isinstance(term, S.Group):
            return self.group(term, shape, env, index, depth)
        return self.composite(term, shape, env, index, depth)

    def input_layer(self, term: S.Layer, env: Mapping[str, Any], index: str) -> tuple[tuple[Expr, ...], LayerInfo]:
        if term.args is None:  # h, w, c
            given = self.ctx.values
            if self.ctx.numeric and not all(name in given for name in AXIS_NAMES[3]):
                raise NeedsSympy
            shape: tuple[Expr, ...] = tuple(given[name] if name in given else symbol(name) for name in AXIS_NAMES[3])
        else:
            if not 1 <= len(term.args) <= 4:
                raise self.ctx.error(f"I takes 1 to 4 axes, got {len(term.args)}", term)
            sizes = []
            for arg in term.args:
                if arg.name is not None:
                    raise self.ctx.error("I takes its axes as positional arguments", arg)
                value = evaluate(arg.value, self.ctx, env, R.SIZE)
                if isinstance(value, (str, tuple)):
                    raise self.ctx.error("an axis of I must be a size", arg)
                _refuse_decimal(arg.value, "I: an axis", self.ctx)
                sizes.append(_whole(value, 1, "I: an axis", arg.value, self.ctx))
            shape = tuple(sizes)
        self._settle(self.ctx.conditions, term)
        zero = self.ctx.number(0)
        row = LayerInfo(index, self.ctx.snippet(term), "Input", shape, zero, zero, zero,
                        self.ctx.convention, start=term.start, end=term.end, macs=zero, count=self.ctx.number(1))
        return shape, row

    def layer(self, term: S.Layer, shape: tuple[Expr, ...], env: Mapping[str, Any], index: str,
              depth: int) -> tuple[tuple[Expr, ...], LayerInfo]:
        if term.name in self.ctx.definitions:
            return self.use_definition(term, shape, env, index, depth)
        spec = R.lookup(term.name)
        if spec is None:
            known = ["I", *R.layer_names(), *self.ctx.definitions]
            close = difflib.get_close_matches(term.name, list(R.REGISTRY) + list(self.ctx.definitions), n=3)
            notes = (f"Did you mean: {', '.join(close)}?",) if close else ()
            raise self.ctx.error(f"unknown layer '{term.name}'", term, ParseError,
                                 expected=tuple(known), notes=notes)
        spent = self.ctx.budget.spend()
        if spent is not None:
            raise self.ctx.error(f"the architecture {spent}; stopped at {self.ctx.snippet(term)}", term, LimitError)
        pending: list[Condition] = []
        saved, self.ctx.conditions = self.ctx.conditions, pending
        try:
            args = bind(spec, term, shape, self.ctx, env)
            call = R.LayerCall(shape, args, self.ctx.convention, self.ctx.facts)
            try:
                out = spec.fn(call) if self.ctx.numeric else _symbolic(spec.fn(call))
            except ShapeError as err:
                if err.text is not None:
                    raise
                raise self.ctx.error(f"{self.ctx.snippet(term)} {err.message}", term,
                                     notes=err.notes) from None
        finally:
            self.ctx.conditions = saved
        within_limits(out.shape, term, self.ctx, (out.weights, out.biases, out.non_trainable, out.macs))
        pending.extend(out.conditions)
        kept = self._settle(pending, term)
        if spec.expand is not None:  # a layer made of layers: built as a block of rows
            inner, rows = self.chain(spec.expand(call, term), shape, {}, index, depth + 1)
            return inner, self.block(term, out.kind, inner, rows, index, depth)
        for key, value in out.facts.items():
            self.ctx.facts[key] = self.ctx.facts.get(key, ()) + (value,)
        row = LayerInfo(index, self.ctx.snippet(term), out.kind, out.shape, out.weights, out.biases,
                        out.non_trainable, self.ctx.convention, kept, depth=depth,
                        start=term.start, end=term.end, macs=out.macs, count=self.ctx.number(1))
        return out.shape, row

    def _settle(self, conditions: list[Condition], term: S.Node) -> tuple[Condition, ...]:
        """Fail on a condition that is false; keep the symbolic ones."""
        kept = []
        for cond in conditions:
            if is_false(cond.holds):
                raise self.ctx.error(f"{self.ctx.snippet(term)} {cond.message}", term)
            if not is_true(cond.holds):
                kept.append(cond)
        self.ctx.conditions.extend(kept)
        return tuple(kept)

    def group(self, term: S.Group, shape: tuple[Expr, ...], env: Mapping[str, Any], index: str,
              depth: int) -> tuple[tuple[Expr, ...], LayerInfo]:
        out, rows = self.chain(term.chain, shape, env, index, depth + 1)
        return out, self.block(term, "Sequential", out, rows, index, depth)

    def block(self, term: S.Node, kind: str, shape: tuple[Expr, ...], rows: list[LayerInfo], index: str,
              depth: int, count: Any = None) -> LayerInfo:
        count = self.ctx.number(1) if count is None else count
        row = LayerInfo(
            index, self.ctx.snippet(term), kind, shape,
            count * total([r.weights for r in rows]), count * total([r.biases for r in rows]),
            count * total([r.non_trainable for r in rows]), self.ctx.convention,
            children=tuple(rows), depth=depth, count=count, start=term.start, end=term.end,
            macs=count * total([r.macs for r in rows]),
        )
        within_limits(row.shape, term, self.ctx, (row.weights, row.biases, row.non_trainable, row.macs))
        return row

    def use_definition(self, term: S.Layer, shape: tuple[Expr, ...], env: Mapping[str, Any], index: str,
                       depth: int) -> tuple[tuple[Expr, ...], LayerInfo]:
        from . import composition

        return composition.use_definition(self, term, shape, env, index, depth)

    def composite(self, term: S.Term, shape: tuple[Expr, ...], env: Mapping[str, Any], index: str,
                  depth: int) -> tuple[tuple[Expr, ...], LayerInfo]:
        """`X*n`, `[A | B]`, `[A + B]`, `[A]` and `n[A]` (composition.py)."""
        from . import composition

        if isinstance(term, S.Repeat):
            return composition.repeat(self, term, shape, env, index, depth)
        if isinstance(term, S.Branches):
            return composition.branches(self, term, shape, env, index, depth)
        if isinstance(term, S.Replicate):
            return composition.replicate(self, term, shape, env, index, depth)
        raise self.ctx.error("unexpected term", term)


def _symbolic(out: R.LayerOut) -> R.LayerOut:
    """A layer's result in sympy numbers: formulas write plain ints (a bias of 0)."""
    def expr(value: Any) -> Any:
        return sympy.Integer(value) if isinstance(value, int) else value

    return replace(out, shape=tuple(expr(x) for x in out.shape), weights=expr(out.weights),
                   biases=expr(out.biases), non_trainable=expr(out.non_trainable), macs=expr(out.macs))


def _is_input(term: S.Term) -> bool:
    return isinstance(term, S.Layer) and term.name in INPUT_NAMES


def _check_written_layers(definitions: Mapping[str, S.Definition], chain: S.Chain, text: str) -> None:
    from .composition import definition_uses

    for name, depth in definition_depth(definitions, definition_uses).items():
        if depth > MAX_DEFINITION_DEPTH:
            where = definitions[name]
            raise LimitError(f"definition '{name}' nests definitions {depth} deep; the limit is "
                             f"{MAX_DEFINITION_DEPTH}", text, where.start, where.start + len(name))
    count, largest = written_layers(definitions, chain, definition_uses)
    if count > MAX_LAYERS:
        raise LimitError(f"the architecture has more than {MAX_LAYERS:,} layers once its definitions are "
                         f"written out; '{largest.name}' passes the limit", text, largest.start, largest.end)


def build(program: S.Program, text: str, convention: str = "torch", mode: str = "exact",
          values: Mapping[str, int] | None = None, numeric: bool = False) -> Network:
    """Build the network of a parsed program.

    With `numeric`, the build runs in Python integers first and sympy is not imported;
    anything that needs sympy (a symbol, a fraction, an error to word) starts it over
    symbolically, so both give the same network and the same errors (arith.py).
    """
    definitions: dict[str, S.Definition] = {}
    for d in program.definitions:
        if d.name in definitions:
            raise DefinitionError(f"'{d.name}' is defined twice", text, d.start, d.start + len(d.name))
        definitions[d.name] = d
    from .composition import check_definitions

    check_definitions(definitions, text)
    _check_written_layers(definitions, program.chain, text)
    if numeric:
        try:
            return _build(program, text, convention, mode, definitions, values or {}, numeric=True)
        except (NeedsSympy, SymparamsError):
            pass
    return _build(program, text, convention, mode, definitions, values or {}, numeric=False)


def _build(program: S.Program, text: str, convention: str, mode: str, definitions: Mapping[str, S.Definition],
           values: Mapping[str, int], numeric: bool) -> Network:
    given = {k: v if numeric else sympy.Integer(v) for k, v in values.items()}
    for name, value in given.items():
        if oversize(value):
            raise LimitError(f"the value of {name} has more than {MAX_DIGITS:,} digits")
    ctx = Context(text, convention, definitions, given, numeric=numeric)
    builder = Builder(ctx)
    try:
        shape, rows = builder.chain(program.chain, None, {}, "", 0)
    except RecursionError:
        raise LimitError("the architecture nests too deeply", text, 0) from None
    weights = total([r.weights for r in rows])
    biases = total([r.biases for r in rows])
    frozen = total([r.non_trainable for r in rows])
    macs = total([r.macs for r in rows])
    details = merge_conditions(ctx.conditions)
    net = Network(text, convention, "exact", tuple(rows), weights + biases + frozen, weights + biases,
                  frozen, shape, details, dict(values), macs)
    if numeric:  # no floor, condition or symbolic count: the ideal form is the exact one
        return replace(net, mode=mode)
    # Ideal mode is a view of the exact network: the exact floors are what tell when
    # the closed form is exact.
    return ideal_network(net) if mode == "ideal" else collected_totals(net)
