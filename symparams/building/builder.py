"""Syntax tree to network: bind each layer's arguments, run its formula, collect rows.

Data flows one way: the builder walks the chain, calls each layer's pure function
with the shape it receives, checks its conditions (a numeric one that fails is a
ShapeError naming the layer; a symbolic one is kept), and collects `LayerInfo` rows.
The composite forms (composition.py) and definitions (definitions.py) are parts of
the same class; a term is dispatched by its node type (`visit_<Class>`).
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from ..base.errors import LimitError, ParseError, ShapeError
from ..base.expr import AXIS_NAMES, Condition, is_false, is_true, total
from ..language import syntax as S
from ..layers import registry as R
from ..result import LayerInfo
from .binding import bind
from .composition import CompositionForms
from .context import INPUT_NAMES, Context
from .definitions import DefinitionUses
from .evaluate import evaluate, refuse_decimal, whole, within_limits

Shape = tuple[Any, ...]
Built = tuple[Shape, LayerInfo]
Env = Mapping[str, Any]


class Builder(S.Visitor, CompositionForms, DefinitionUses):
    """Builds the rows of one network, in one context (text, definitions, numbers)."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def chain(
        self, chain: S.Chain, shape: Shape | None, env: Env, prefix: str, depth: int
    ) -> tuple[Shape, list[LayerInfo]]:
        rows: list[LayerInfo] = []
        for i, term in enumerate(chain.items):
            index = f"{prefix}{i}" if prefix == "" else f"{prefix}.{i + 1}"
            if shape is None:
                if not is_input(term):
                    raise self.ctx.error(
                        "a network starts with an input layer, such as I(28,28,1) or I", term, ParseError
                    )
                shape, row = self.input_layer(term, env, index)  # type: ignore[arg-type]
            else:
                if is_input(term):
                    raise self.ctx.error("an input layer I can only start the network", term)
                shape, row = self.term(term, shape, env, index, depth)
            rows.append(row)
        assert shape is not None
        return shape, rows

    def term(self, term: S.Term, shape: Shape, env: Env, index: str, depth: int) -> Built:
        return self.visit(term, shape, env, index, depth)  # type: ignore[no-any-return]

    def visit_default(self, node: Any, *args: Any) -> Any:
        raise self.ctx.error("unexpected term", node)

    def visit_Group(self, term: S.Group, shape: Shape, env: Env, index: str, depth: int) -> Built:
        out, rows = self.chain(term.chain, shape, env, index, depth + 1)
        return out, self.block(term, "Sequential", out, rows, index, depth)

    def input_layer(self, term: S.Layer, env: Env, index: str) -> Built:
        if term.args is None:  # h, w, c
            given = self.ctx.values
            numbers = self.ctx.numbers
            self.ctx.used.update(name for name in AXIS_NAMES[3] if name in given)
            shape: Shape = tuple(
                given[name] if name in given else numbers.unknown(name) for name in AXIS_NAMES[3]
            )
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
                refuse_decimal(arg.value, "I: an axis", self.ctx)
                sizes.append(whole(value, 1, "I: an axis", arg.value, self.ctx))
            shape = tuple(sizes)
        self.settle(self.ctx.conditions, term)
        zero = self.ctx.number(0)
        row = LayerInfo(
            index,
            self.ctx.snippet(term),
            "Input",
            shape,
            zero,
            zero,
            zero,
            self.ctx.convention,
            start=term.start,
            end=term.end,
            macs=zero,
            count=self.ctx.number(1),
        )
        return shape, row

    def visit_Layer(self, term: S.Layer, shape: Shape, env: Env, index: str, depth: int) -> Built:
        if term.name in self.ctx.definitions:
            return self.use_definition(term, shape, env, index, depth)
        spec = self.spec(term)
        spent = self.ctx.budget.spend()
        if spent is not None:
            raise self.ctx.error(
                f"the architecture {spent}; stopped at {self.ctx.snippet(term)}", term, LimitError
            )
        call, out, pending = self.call(spec, term, shape, env)
        kept = self.settle(pending + list(out.conditions), term)
        if spec.expand is not None:  # a layer made of layers: built as a block of rows
            inner, rows = self.chain(spec.expand(call, term), shape, {}, index, depth + 1)
            block = self.block(term, out.kind, inner, rows, index, depth)
            notes = tuple(f"{self.ctx.snippet(term)}: {note}" for note in out.notes)
            return inner, replace(block, notes=notes) if notes else block
        for key, value in out.facts.items():
            self.ctx.facts[key] = self.ctx.facts.get(key, ()) + (value,)
        row = LayerInfo(
            index,
            self.ctx.snippet(term),
            out.kind,
            out.shape,
            out.weights,
            out.biases,
            out.non_trainable,
            self.ctx.convention,
            kept,
            depth=depth,
            start=term.start,
            end=term.end,
            macs=out.macs,
            count=self.ctx.number(1),
            notes=tuple(f"{self.ctx.snippet(term)}: {note}" for note in out.notes),
        )
        return out.shape, row

    def spec(self, term: S.Layer) -> R.LayerSpec:
        """The registered layer a name stands for; an unknown name lists the known ones."""
        spec = R.lookup(term.name)
        if spec is None:
            known = ["I", *R.layer_names(), *self.ctx.definitions]
            close = difflib.get_close_matches(term.name, list(R.REGISTRY) + list(self.ctx.definitions), n=3)
            notes = (f"Did you mean: {', '.join(close)}?",) if close else ()
            raise self.ctx.error(
                f"unknown layer '{term.name}'", term, ParseError, expected=tuple(known), notes=notes
            )
        return spec

    def call(
        self, spec: R.LayerSpec, term: S.Layer, shape: Shape, env: Env
    ) -> tuple[R.LayerCall, R.LayerOut, list[Condition]]:
        """The layer's formula run on its bound arguments, in this build's numbers, and
        the conditions its arguments need (settled with the formula's own)."""
        pending: list[Condition] = []
        saved, self.ctx.conditions = self.ctx.conditions, pending
        try:
            args = bind(spec, term, shape, self.ctx, env)
            call = R.LayerCall(shape, args, self.ctx.convention, self.ctx.facts)
            try:
                out = spec.fn(call)
            except ShapeError as err:
                raise self.ctx.at(err, term, prefix=f"{self.ctx.snippet(term)} ") from None
        finally:
            self.ctx.conditions = saved
        count = self.ctx.numbers.count
        out = replace(
            out,
            shape=tuple(count(x) for x in out.shape),
            weights=count(out.weights),
            biases=count(out.biases),
            non_trainable=count(out.non_trainable),
            macs=count(out.macs),
        )
        within_limits(out.shape, term, self.ctx, (out.weights, out.biases, out.non_trainable, out.macs))
        return call, out, pending

    def settle(self, conditions: list[Condition], term: S.Node) -> tuple[Condition, ...]:
        """Fail on a condition that is false; keep the symbolic ones."""
        kept = []
        for cond in conditions:
            if is_false(cond.holds):
                raise self.ctx.error(f"{self.ctx.snippet(term)} {cond.message}", term)
            if not is_true(cond.holds):
                kept.append(cond)
        self.ctx.conditions.extend(kept)
        return tuple(kept)

    def block(
        self,
        term: S.Node,
        kind: str,
        shape: Shape,
        rows: list[LayerInfo],
        index: str,
        depth: int,
        count: Any = None,
    ) -> LayerInfo:
        count = self.ctx.number(1) if count is None else count
        row = LayerInfo(
            index,
            self.ctx.snippet(term),
            kind,
            shape,
            count * total([r.weights for r in rows]),
            count * total([r.biases for r in rows]),
            count * total([r.non_trainable for r in rows]),
            self.ctx.convention,
            children=tuple(rows),
            depth=depth,
            count=count,
            start=term.start,
            end=term.end,
            macs=count * total([r.macs for r in rows]),
        )
        within_limits(row.shape, term, self.ctx, (row.weights, row.biases, row.non_trainable, row.macs))
        return row


def is_input(term: S.Term) -> bool:
    return isinstance(term, S.Layer) and term.name in INPUT_NAMES
