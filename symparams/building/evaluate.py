"""Argument values: the syntax tree of an argument evaluated in this build's numbers.

Arithmetic goes through the build's number back-end (base/expr.py), so the same walk
serves the numeric build and the symbolic one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..base.errors import LimitError, SymparamsError
from ..base.expr import oversize
from ..language import syntax as S
from ..layers import registry as R
from .context import KEYWORDS, Context, Thunk


class Evaluator(S.Visitor):
    """One visit per kind of value node; `kind` is the parameter kind it is read as
    (a keyword-only parameter reads a bare name as the keyword)."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def visit_TupleValue(self, node: S.TupleValue, env: Mapping[str, Any], kind: str) -> Any:
        return tuple(self.visit(item, env, kind) for item in node.items)

    def visit_Const(self, node: S.Const, env: Mapping[str, Any], kind: str) -> Any:
        return node.value

    def visit_Name(self, node: S.Name, env: Mapping[str, Any], kind: str) -> Any:
        bound = env.get(node.name)
        if isinstance(bound, Thunk):
            return self.visit(bound.node, bound.env, kind)
        if bound is not None:
            return bound
        if node.name in KEYWORDS or kind in (R.CHOICE, R.LETTERS, R.TENSOR):
            return node.name
        if node.name in self.ctx.values:
            self.ctx.used.add(node.name)
            return self.ctx.values[node.name]
        return self.ctx.numbers.unknown(node.name)

    def visit_Num(self, node: S.Num, env: Mapping[str, Any], kind: str) -> Any:
        return self.ctx.number(node.value)

    def visit_Dec(self, node: S.Dec, env: Mapping[str, Any], kind: str) -> Any:
        return self.ctx.numbers.decimal(node.text)

    def visit_Neg(self, node: S.Neg, env: Mapping[str, Any], kind: str) -> Any:
        return -self.operand(node.operand, env)

    def visit_BinOp(self, node: S.BinOp, env: Mapping[str, Any], kind: str) -> Any:
        left, right = self.operand(node.left, env), self.operand(node.right, env)
        try:
            value = self.ctx.numbers.arithmetic(
                node.op,
                left,
                right,
                kind not in (R.RATE, R.NUMBER),
                self.ctx.conditions,
                lambda: self.ctx.snippet(node),
            )
        except SymparamsError as err:
            raise self.ctx.at(err, node) from None
        return within_limits(value, node, self.ctx)

    def visit_default(self, node: Any, *args: Any) -> Any:
        raise self.ctx.error("unexpected argument", node)

    def operand(self, node: S.Value, env: Mapping[str, Any]) -> Any:
        value = self.visit(node, env, R.SIZE)
        if isinstance(value, str):
            raise self.ctx.error(f"'{value}' is a keyword and cannot stand in arithmetic", node)
        if isinstance(value, tuple):
            raise self.ctx.error("a tuple cannot stand in arithmetic", node)
        return value


def evaluate(node: S.Value, ctx: Context, env: Mapping[str, Any], kind: str = R.SIZE) -> Any:
    """An argument's value: a number or expression, a keyword string, or a tuple."""
    return Evaluator(ctx).visit(node, env, kind)


def within_limits(value: Any, node: S.Node, ctx: Context, counts: tuple[Any, ...] = ()) -> Any:
    """`value`, a size or shape, itself; or a LimitError at `node` when it or one of
    `counts` is too large (base/limits.py)."""
    reason = oversize(value) or oversize(counts, size=False)
    if reason is not None:
        raise ctx.error(
            f"{ctx.snippet(node)} gives {reason}, beyond what symparams computes", node, LimitError
        )
    return value


def refuse_decimal(node: S.Value, label: str, ctx: Context) -> None:
    """Decimals go only where a layer takes a rate (LANGUAGE.md section 1): `C(32,2.0)`
    is refused although 2.0 is whole, as the frameworks refuse a float kernel size."""
    if any(isinstance(item, S.Dec) for item in S.walk(node)):
        raise ctx.error(
            f"{label} must be a whole number, got {ctx.snippet(node)}",
            node,
            notes=("Decimals go only where a layer takes a rate, as in D(0.5).",),
        )


def whole(value: Any, minimum: int, label: str, node: S.Value, ctx: Context) -> Any:
    """`value` as a size of at least `minimum`: refused at `node` when it is not one, a
    condition when that cannot be told yet."""
    try:
        return ctx.numbers.whole(value, minimum, label, ctx.conditions)
    except SymparamsError as err:
        raise ctx.at(err, node) from None
