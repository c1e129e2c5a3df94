"""The result record: per-layer rows, totals and conditions. Data only.

A `Network` is frozen; renderers, analyses and modes are functions of it and it calls
none of them (torchinfo's ModelStatistics: the statistics never call back into the
collector). Derived totals (memory, activations) are read off its rows.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from .base.errors import SymparamsError
from .base.expr import Condition, free_symbols, is_true, sympy, tidy, total
from .layers.shapes import ordered_shape

if TYPE_CHECKING:
    from sympy import Expr

CONVENTIONS = ("torch", "keras")


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
    children: tuple[LayerInfo, ...] = ()
    depth: int = 0
    count: Any = 1  # how many times the block runs (repetition), already in the counts
    macs: Any = 0
    start: int = 0
    end: int = 0
    notes: tuple[str, ...] = ()  # API limits of the layer: "C(32,3,s=2,p=same): PyTorch refuses ..."

    @property
    def trainable(self) -> Expr:
        return self._per_count(self.weights + self.biases)

    @property
    def params(self) -> Expr:
        return self._per_count(self.weights + self.biases + self.non_trainable)

    def _per_count(self, expr: Expr) -> Expr:
        # A block repeated L times reads L*(8*d**2 + 7*d), not 6*L*d + L*(8*d**2 + d).
        counts = free_symbols(self.count)
        if counts:
            return collected(expr, counts)
        return expr

    @property
    def output_shape(self) -> tuple[Expr, ...]:
        return ordered_shape(self.shape, self.convention)

    def walk(self) -> Iterator[LayerInfo]:
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
    macs: Any = 0
    # Ideal mode: when the closed form equals the exact one (also in condition_details).
    exact_when: tuple[Condition, ...] = ()
    # API limits met on the way, each once, in the order of the rows (`LayerInfo.notes`).
    notes: tuple[str, ...] = ()

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
    def ideal_conditions(self) -> tuple[sympy.Basic, ...]:
        """Ideal mode: the divisibility conditions under which the closed form equals the
        exact count (`Eq(Mod(h, 4), 0)`); empty in exact mode."""
        return tuple(c.holds for c in self.exact_when)

    @property
    def free_symbols(self) -> set[sympy.Symbol]:
        found: set[sympy.Symbol] = set()
        for expr in (self.params, *self.shape):
            found |= free_symbols(expr)
        for layer in self.walk():
            for expr in layer.shape:
                found |= free_symbols(expr)
        return found

    def walk(self) -> Iterator[LayerInfo]:
        """Every row, blocks before their children."""
        for layer in self.layers:
            yield from layer.walk()

    def memory(self, dtype: str = "float32") -> Expr:
        """Bytes the parameters take in `dtype` (float32, bfloat16, float16, int8, ...).

        >>> import symparams
        >>> symparams.parse("I(784)-O(10)").memory("bfloat16")
        15700
        """
        return self.params * dtype_bytes(dtype)

    @property
    def activations(self) -> Expr:
        """Elements of every layer's output in one forward pass of one sample: what a
        forward pass writes if nothing is freed. The input is not counted, nor layers
        whose output is a view of their input (Flatten, Tokens, Identity).

        >>> import symparams
        >>> symparams.parse("I(28,28,1)-C(8,3)-relu-F-O(10)").activations
        10826
        """
        found = total([_activations(row) for row in self.layers if row.kind != "Input"])
        return tidy(found) if self.mode == "ideal" else found

    def activation_memory(self, dtype: str = "float32") -> Expr:
        """Bytes of `activations` in `dtype`."""
        return self.activations * dtype_bytes(dtype)


def collect_notes(rows: tuple[LayerInfo, ...] | list[LayerInfo]) -> tuple[str, ...]:
    """The notes of every row and child, each once, in order."""
    return tuple(dict.fromkeys(note for row in rows for r in row.walk() for note in r.notes))


def merge_conditions(conditions: list[Condition]) -> tuple[Condition, ...]:
    """Drop what always holds, keep one of each, and of several lower bounds on one
    symbol only the strongest."""
    best_lower: dict[sympy.Symbol, tuple[Expr, Condition]] = {}
    best_upper: dict[sympy.Symbol, tuple[Expr, Condition]] = {}
    others: dict[sympy.Basic, Condition] = {}
    for cond in conditions:
        holds = cond.holds
        if is_true(holds):
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


def collected(expr: Expr, counts: set[sympy.Symbol]) -> Expr:
    """Terms that share a repetition count written once, as a person writes a repeated
    block: 11*L*d + L*(12*d**2 + 2*d) becomes L*(12*d**2 + 13*d).

    >>> from symparams.base.expr import symbol
    >>> L, d = symbol("L"), symbol("d")
    >>> collected(11*L*d + L*(12*d**2 + 2*d) + 51283*d, {L})
    L*(12*d**2 + 13*d) + 51283*d
    """
    if not counts or not isinstance(expr, sympy.Basic) or expr.is_number:
        return expr
    groups: dict[Expr, list[Expr]] = {}
    rest: list[Expr] = []
    for term in sympy.Add.make_args(expr):
        key = sympy.Mul(
            *[f for f in sympy.Mul.make_args(term) if f.free_symbols and f.free_symbols <= counts]
        )
        if key == 1:
            rest.append(term)
        else:
            groups.setdefault(key, []).append(term / key)
    parts = [
        key * (inner[0] if len(inner) == 1 else sympy.expand(sympy.Add(*inner)))
        for key, inner in groups.items()
    ]
    return sympy.Add(*rest, *parts)


def collected_totals(net: Network) -> Network:
    """The network with its totals collected by the symbolic repetition counts of its
    blocks (`collected`); the same expressions, written as a person would."""
    counts: set[sympy.Symbol] = set()
    for row in net.walk():
        counts |= free_symbols(row.count)
    if not counts:
        return net
    return replace(
        net,
        params=collected(net.params, counts),
        trainable=collected(net.trainable, counts),
        non_trainable=collected(net.non_trainable, counts),
        macs=collected(net.macs, counts),
    )


# Bytes of one number in each dtype people store weights and activations in.
DTYPE_BYTES = {"float64": 8, "float32": 4, "tfloat32": 4, "bfloat16": 2, "float16": 2, "int8": 1, "uint8": 1}


def dtype_bytes(dtype: str) -> int:
    """Bytes per element of `dtype`; an unknown name is an error listing the known ones."""
    if dtype not in DTYPE_BYTES:
        raise SymparamsError(f"unknown dtype {dtype!r}: expected one of {', '.join(DTYPE_BYTES)}")
    return DTYPE_BYTES[dtype]


# Layers whose output is a view of their input in PyTorch (flatten, reshape): no new memory.
VIEW_KINDS = ("Flatten", "Tokens", "Identity")


def _activations(row: LayerInfo) -> Expr:
    """Output elements a row writes; a block writes its children's, `count` times."""
    if row.children:
        return row.count * total([_activations(child) for child in row.children])
    if row.kind in VIEW_KINDS:
        return sympy.Integer(0)
    size: Expr = sympy.Integer(1)
    for axis in row.shape:
        size = size * axis
    return size
