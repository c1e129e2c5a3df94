"""The network: per-layer results, totals, conditions, substitution and modes.

A `Network` is a frozen result object; renderers take it and know nothing of the
text or the parser.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from .arith import free_symbols, is_int, is_true, sympy
from .shapes import Condition

if TYPE_CHECKING:
    from sympy import Expr

    from .solve import Solution
    from .sweep import Sweep

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
    children: tuple[LayerInfo, ...] = ()
    depth: int = 0
    count: Any = 1  # how many times the block runs (repetition), already in the counts
    macs: Any = 0
    start: int = 0
    end: int = 0

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

    def solve(self, unknown: str | tuple[str, ...], goal: int, target: str = "params", how: str = "equal",
              values: Mapping[str, int] | None = None, dtype: str = "float32") -> Solution:
        """The values of a symbol that give `goal` as the `target` total (params,
        trainable, non_trainable, macs, memory, activations, axis:NAME): see
        `symparams.solve.solve`.

        >>> import symparams
        >>> net = symparams.parse("I(n,n,1)-C(32,5)-P(2)-C(32,3)-P(2)-H(256)-O(10)")
        >>> net.solve("n", 1_000_000, how="max").as_dict()
        {'value': 51, 'total': 832106}
        """
        from .solve import solve

        return solve(self, unknown, goal, target=target, how=how, values=values, dtype=dtype)

    def sweep(self, vary: Mapping[str, Iterable[int]], targets: Sequence[str] = ("params",),
              values: Mapping[str, int] | None = None, dtype: str = "float32") -> Sweep:
        """Totals over the grid of `vary` as numpy arrays: see `symparams.sweep.sweep`.

        >>> import symparams
        >>> net = symparams.parse("I(n,n,1)-C(32,5)-P(2)-C(32,3)-P(2)-H(256)-O(10)")
        >>> net.sweep({"n": [28, 52]}).totals["params"].tolist()
        [217706, 1004138]
        """
        from .sweep import sweep

        return sweep(self, vary, targets, values=values, dtype=dtype)

    def subs(self, **values: int) -> Network:
        """The same network with symbols given values (positive integers).

        Shapes are rebuilt, so values that break a layer's rule raise a ShapeError
        naming the layer.
        """
        from .api import parse

        merged = dict(self.values)
        merged.update(values)
        return parse(self.text, convention=self.convention, mode=self.mode, values=merged)

    def with_convention(self, convention: str) -> Network:
        from .api import parse

        return parse(self.text, convention=convention, mode=self.mode, values=dict(self.values))

    def with_mode(self, mode: str) -> Network:
        from .api import parse

        return parse(self.text, convention=self.convention, mode=mode, values=dict(self.values))

    # Jupyter shows a Network as a table: HTML in the notebook, LaTeX in nbconvert's PDF.
    def _repr_html_(self) -> str:
        from .render import html

        return html(self)

    def _repr_latex_(self) -> str:
        from .latex import latex_repr

        return latex_repr(self)


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


def total(exprs: list[Expr]) -> Expr:
    """The sum of counts.

    The numeric build's ints stay ints; sympy whole numbers are added as Python integers:
    sympy's Add.flatten imports sympy.tensor (about 25 ms) the first time it runs.

    >>> total([2, 3]), total([sympy.Integer(2), 3]), total([])
    (5, 5, 0)
    """
    if exprs and all(is_int(e) for e in exprs):
        return sum(exprs)
    if all(isinstance(e, (int, sympy.Integer)) for e in exprs):
        return sympy.Integer(sum(int(e) for e in exprs))
    return sympy.Add(*exprs)


def idealize(expr: Expr) -> Expr:
    """Ideal mode: every floor and ceil replaced by its argument."""
    if not isinstance(expr, sympy.Basic) or not expr.has(sympy.floor, sympy.ceiling):
        return expr
    return expr.replace(sympy.floor, lambda a: a).replace(sympy.ceiling, lambda a: a)


def tidy(expr: Expr) -> Expr:
    """A count the way a person writes it: each product that idealizing left with
    fractions inside (8192*(h/4 - 2)*(w/4 - 2)) is factored (512*(h - 8)*(w - 8)); sums
    of terms stay sums, so like terms of different layers still collect.

    >>> from symparams.symbols import symbol
    >>> h, w, c = symbol("h"), symbol("w"), symbol("c")
    >>> tidy(800*c + 8192*(h/4 - 2)*(w/4 - 2) + 12106)
    800*c + 512*(h - 8)*(w - 8) + 12106
    """
    if not isinstance(expr, sympy.Basic) or expr.is_number:
        return expr
    return sympy.Add(*(_tidy_term(t) for t in sympy.Add.make_args(expr)))


def _tidy_term(term: Expr) -> Expr:
    has_fraction = any(not r.is_Integer for r in term.atoms(sympy.Rational))
    if has_fraction and (term.is_Mul or term.is_Pow):
        return sympy.factor(term)
    return term


def collected(expr: Expr, counts: set[sympy.Symbol]) -> Expr:
    """Terms that share a repetition count written once, as a person writes a repeated
    block: 11*L*d + L*(12*d**2 + 2*d) becomes L*(12*d**2 + 13*d).

    >>> from symparams.symbols import symbol
    >>> L, d = symbol("L"), symbol("d")
    >>> collected(11*L*d + L*(12*d**2 + 2*d) + 51283*d, {L})
    L*(12*d**2 + 13*d) + 51283*d
    """
    if not counts or not isinstance(expr, sympy.Basic) or expr.is_number:
        return expr
    groups: dict[Expr, list[Expr]] = {}
    rest: list[Expr] = []
    for term in sympy.Add.make_args(expr):
        key = sympy.Mul(*[f for f in sympy.Mul.make_args(term) if f.free_symbols and f.free_symbols <= counts])
        if key == 1:
            rest.append(term)
        else:
            groups.setdefault(key, []).append(term / key)
    parts = [key * (inner[0] if len(inner) == 1 else sympy.expand(sympy.Add(*inner)))
             for key, inner in groups.items()]
    return sympy.Add(*rest, *parts)


def collected_totals(net: Network) -> Network:
    """The network with its totals collected by the symbolic repetition counts of its
    blocks (`collected`); the same expressions, written as a person would."""
    counts: set[sympy.Symbol] = set()
    for row in net.walk():
        counts |= free_symbols(row.count)
    if not counts:
        return net
    return replace(net, params=collected(net.params, counts), trainable=collected(net.trainable, counts),
                   non_trainable=collected(net.non_trainable, counts), macs=collected(net.macs, counts))


def ideal_row(row: LayerInfo) -> LayerInfo:
    """A row in ideal mode: floors and ceils dropped from its shape and counts."""
    return replace(row, shape=tuple(idealize(x) for x in row.shape), weights=tidy(idealize(row.weights)),
                   biases=tidy(idealize(row.biases)), non_trainable=tidy(idealize(row.non_trainable)),
                   macs=tidy(idealize(row.macs)),
                   conditions=tuple(_ideal_condition(c) for c in row.conditions),
                   children=tuple(ideal_row(c) for c in row.children))


def _ideal_condition(cond: Condition) -> Condition:
    return replace(cond, holds=idealize(cond.holds))


def ideal_network(net: Network) -> Network:
    """The ideal mode of an exact network: the closed form a paper prints.

    Every floor and ceil is replaced by its argument, totals are tidied, and the
    divisibility conditions under which the ideal form equals the exact one (every
    floor's argument a whole number) are added to the conditions.

    >>> import symparams
    >>> net = symparams.parse("I-C(32,5)-P(2)-C(32,3)-P(2)-H(256)-O(10)", mode="ideal")
    >>> net.params
    800*c + 512*(h - 8)*(w - 8) + 12106
    >>> net.ideal_conditions
    (Eq(Mod(h, 4), 0), Eq(Mod(w, 4), 0))
    """
    rows = tuple(ideal_row(r) for r in net.layers)
    params = tidy(total([r.params for r in rows]))
    trainable = tidy(total([r.trainable for r in rows]))
    exprs = [net.params, net.macs, *net.shape]
    for row in net.walk():
        exprs += [row.weights, row.biases, row.non_trainable, row.macs, *row.shape]
    exact_when = divisibility_conditions(exprs)
    details = tuple(_ideal_condition(c) for c in net.condition_details) + exact_when
    return collected_totals(replace(net, mode="ideal", layers=rows, params=params, trainable=trainable,
                                    non_trainable=tidy(total([r.non_trainable for r in rows])),
                                    shape=tuple(idealize(x) for x in net.shape), condition_details=details,
                                    exact_when=exact_when, macs=tidy(total([r.macs for r in rows]))))


def divisibility_conditions(exprs: list[Expr]) -> tuple[Condition, ...]:
    """When every floor and ceil in `exprs` has a whole-number argument, so that the
    ideal form equals the exact one: one congruence per symbol where the arguments are
    linear in one symbol (floor(h/2) and floor(h/4) give h ≡ 0 mod 4), else
    `Eq(Mod(numerator, denominator), 0)`.

    >>> from symparams.symbols import symbol
    >>> h = symbol("h")
    >>> divisibility_conditions([sympy.floor((h - 5) / 2), sympy.floor(h / 3)])
    (Condition(holds=Eq(Mod(h, 6), 3), message='the ideal form is exact when h ≡ 3 (mod 6)'),)
    """
    arguments: list[Expr] = []
    for expr in exprs:
        if isinstance(expr, sympy.Basic):
            for rounded in expr.atoms(sympy.floor, sympy.ceiling):
                arguments.append(rounded.args[0])
    classes: dict[sympy.Symbol, list[tuple[int, int]]] = {}
    others: dict[sympy.Basic, Condition] = {}
    for arg in arguments:
        num, den = sympy.fraction(sympy.together(arg))
        congruence = _linear_congruence(num, den)
        if congruence is not None:
            x, residue, modulus = congruence
            classes.setdefault(x, []).append((residue, modulus))
            continue
        holds = sympy.Eq(sympy.Mod(num, den), 0)
        if holds is not sympy.true:
            others.setdefault(holds, Condition(holds, f"the ideal form is exact when {num} is divisible by {den}"))
    found = []
    for x in sorted(classes, key=lambda s: s.name):
        combined = solve_congruence(*classes[x])
        if combined is None:  # no value of x makes every floor exact
            for residue, modulus in classes[x]:
                found.append(_congruence(x, residue, modulus))
        elif combined[1] > 1:
            found.append(_congruence(x, *combined))
    return tuple(found) + tuple(others.values())


def _linear_congruence(num: Expr, den: Expr) -> tuple[sympy.Symbol, int, int] | None:
    """num ≡ 0 (mod den) as x ≡ residue (mod modulus), for num = a·x + b and integer den."""
    if not den.is_Integer or den <= 1 or len(num.free_symbols) != 1:
        return None
    (x,) = num.free_symbols
    if not num.is_polynomial(x):
        return None
    poly = sympy.Poly(num, x)
    if poly.degree() != 1 or not all(k.is_Integer for k in poly.all_coeffs()):
        return None
    a, b = (int(k) for k in poly.all_coeffs())
    m = int(den)
    g = math.gcd(a, m)
    if b % g:
        return None  # never whole: left to the general form, which says so
    m //= g
    residue = (-b // g) * pow(a // g, -1, m) % m if m > 1 else 0
    return x, residue, m


def _congruence(x: sympy.Symbol, residue: int, modulus: int) -> Condition:
    holds = sympy.Eq(sympy.Mod(x, modulus), residue)
    words = f"{x} divisible by {modulus}" if residue == 0 else f"{x} ≡ {residue} (mod {modulus})"
    return Condition(holds, f"the ideal form is exact when {words}")


def solve_congruence(*pairs: tuple[int, int]) -> tuple[int, int] | None:
    """The one class (residue, modulus) of every x ≡ r (mod m) in `pairs`, or None."""
    residue, modulus = 0, 1
    for r, m in pairs:
        g = math.gcd(modulus, m)
        if (r - residue) % g:
            return None
        # x = residue + modulus·t with modulus·t ≡ r - residue (mod m)
        step = m // g
        t = ((r - residue) // g) * pow(modulus // g, -1, step) % step if step > 1 else 0
        residue, modulus = residue + modulus * t, modulus * step
        residue %= modulus
    return residue, modulus


# Bytes of one number in each dtype people store weights and activations in.
DTYPE_BYTES = {"float64": 8, "float32": 4, "tfloat32": 4, "bfloat16": 2, "float16": 2, "int8": 1, "uint8": 1}


def dtype_bytes(dtype: str) -> int:
    """Bytes per element of `dtype`; an unknown name is an error listing the known ones."""
    from .errors import SymparamsError

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
