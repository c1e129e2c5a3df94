"""The network: per-layer results, totals, conditions, substitution and modes.

A `Network` is a frozen result object; renderers take it and know nothing of the
text or the parser.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator, Mapping

import sympy
from sympy import Expr, Integer

from .shapes import Condition

CONVENTIONS = ("torch", "keras")
MODES = ("exact", "ideal")


def ordered_shape(shape: tuple[Expr, ...], convention: str) -> tuple[Expr, ...]:
    """A channels-last shape in the convention's order: torch puts the channels of
    images and volumes first; vectors and sequences read the same in both."""
    if convention == "torch" and len(shape) >= 3:
        return (shape[-1],) + tuple(shape[:-1])
    return tuple(shape)


@dataclass(frozen=True)
class LayerInfo:
    """One row of the summary: a layer, or a block with its children."""

    index: str
    text: str
    kind: str
    shape: tuple[Expr, ...]  # channels last, as the engine keeps it
    weights: Expr
    biases: Expr
    non_trainable: Expr
    convention: str = "torch"
    conditions: tuple[Condition, ...] = ()
    children: tuple["LayerInfo", ...] = ()
    depth: int = 0
    count: Expr = Integer(1)  # how many times the block runs (repetition), already in the counts
    macs: Expr = Integer(0)
    start: int = 0
    end: int = 0

    @property
    def trainable(self) -> Expr:
        return self.weights + self.biases

    @property
    def params(self) -> Expr:
        return self.weights + self.biases + self.non_trainable

    @property
    def output_shape(self) -> tuple[Expr, ...]:
        return ordered_shape(self.shape, self.convention)

    def walk(self) -> Iterator["LayerInfo"]:
        yield self
        for child in self.children:
            yield from child.walk()


@dataclass(frozen=True)
class Network:
    """Shapes and parameter counts of an architecture, as sympy expressions.

    >>> import symparams
    >>> net = symparams.parse("I(28,28,1)-C(32,5)-P(2)-C(32,3)-P(2)-H(256)-O(10)")
    >>> net.params, net.output_shape
    (217706, (10,))
    >>> symparams.parse("I-C(32,5)-P(2)-C(32,3)-P(2)-H(256)-O(10)").subs(h=28, w=28, c=1).params
    217706
    """

    text: str
    convention: str
    mode: str
    layers: tuple[LayerInfo, ...]
    params: Expr
    trainable: Expr
    non_trainable: Expr
    shape: tuple[Expr, ...]  # channels last
    condition_details: tuple[Condition, ...]
    values: Mapping[str, int] = field(default_factory=dict)
    macs: Expr = Integer(0)

    @property
    def output_shape(self) -> tuple[Expr, ...]:
        return ordered_shape(self.shape, self.convention)

    @property
    def input_shape(self) -> tuple[Expr, ...]:
        return self.layers[0].output_shape

    @property
    def conditions(self) -> tuple[sympy.Basic, ...]:
        """What must hold for every shape to exist, as sympy relations (`h >= 12`)."""
        return tuple(c.holds for c in self.condition_details)

    @property
    def free_symbols(self) -> set[sympy.Symbol]:
        found: set[sympy.Symbol] = set()
        for expr in (self.params, *self.shape):
            found |= expr.free_symbols
        for layer in self.walk():
            for expr in layer.shape:
                found |= expr.free_symbols
        return found

    def walk(self) -> Iterator[LayerInfo]:
        """Every row, blocks before their children."""
        for layer in self.layers:
            yield from layer.walk()

    def subs(self, **values: int) -> "Network":
        """The same network with symbols given values (positive integers).

        Shapes are rebuilt, so values that break a layer's rule raise a ShapeError
        naming the layer.
        """
        from .api import parse

        merged = dict(self.values)
        merged.update(values)
        return parse(self.text, convention=self.convention, mode=self.mode, values=merged)

    def with_convention(self, convention: str) -> "Network":
        from .api import parse

        return parse(self.text, convention=convention, mode=self.mode, values=dict(self.values))

    def with_mode(self, mode: str) -> "Network":
        from .api import parse

        return parse(self.text, convention=self.convention, mode=mode, values=dict(self.values))


def merge_conditions(conditions: list[Condition]) -> tuple[Condition, ...]:
    """Drop what always holds, keep one of each, and of several lower bounds on one
    symbol only the strongest."""
    best_lower: dict[sympy.Symbol, tuple[Expr, Condition]] = {}
    best_upper: dict[sympy.Symbol, tuple[Expr, Condition]] = {}
    others: dict[sympy.Basic, Condition] = {}
    for cond in conditions:
        holds = cond.holds
        if holds is sympy.true:
            continue
        if isinstance(holds, sympy.GreaterThan) and holds.lhs.is_Symbol and holds.rhs.is_Integer:
            if holds.lhs not in best_lower or holds.rhs > best_lower[holds.lhs][0]:
                best_lower[holds.lhs] = (holds.rhs, cond)
        elif isinstance(holds, sympy.LessThan) and holds.lhs.is_Symbol and holds.rhs.is_Integer:
            if holds.lhs not in best_upper or holds.rhs < best_upper[holds.lhs][0]:
                best_upper[holds.lhs] = (holds.rhs, cond)
        else:
            others.setdefault(holds, cond)
    ordered = sorted(best_lower.values(), key=lambda item: item[1].holds.lhs.name)
    ordered += sorted(best_upper.values(), key=lambda item: item[1].holds.lhs.name)
    return tuple(c for _, c in ordered) + tuple(others.values())


def total(exprs: list[Expr]) -> Expr:
    return sympy.Add(*exprs) if exprs else Integer(0)


def idealize(expr: Expr) -> Expr:
    """Ideal mode: every floor and ceil replaced by its argument."""
    if not isinstance(expr, sympy.Basic) or not expr.has(sympy.floor, sympy.ceiling):
        return expr
    return expr.replace(sympy.floor, lambda a: a).replace(sympy.ceiling, lambda a: a)
