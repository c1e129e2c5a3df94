"""Modes: the exact network as another view of itself.

Ideal mode is what a paper prints: every floor and ceil replaced by its argument, the
totals tidied, and the divisibility conditions under which that closed form equals the
exact one added to the conditions. A function of the result record; it knows nothing of
the text or the parser.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from .base.errors import ShapeError
from .base.expr import Condition, idealize, is_false, is_true, symbol, sympy, tidy, total
from .result import Costs, LayerInfo, Network, collected_totals, merge_conditions

if TYPE_CHECKING:
    from sympy import Expr

MODES = ("exact", "ideal")


def ideal_row(row: LayerInfo) -> LayerInfo:
    """A row in ideal mode: floors and ceils dropped from its shape and counts."""
    return replace(
        row,
        shape=tuple(idealize(x) for x in row.shape),
        weights=tidy(idealize(row.weights)),
        biases=tidy(idealize(row.biases)),
        non_trainable=tidy(idealize(row.non_trainable)),
        inactive=tidy(idealize(row.inactive)),
        costs=row.costs.map(ideal_count, adds=0),
        conditions=ideal_conditions(row.conditions),
        children=tuple(ideal_row(c) for c in row.children),
    )


def ideal_count(count: Expr) -> Expr:
    """A count in ideal mode: its floors and ceils dropped, tidied."""
    return tidy(idealize(count))


def ideal_conditions(conditions: tuple[Condition, ...]) -> tuple[Condition, ...]:
    """Conditions with their floors dropped; one that then always holds goes (Keras's
    strided branches agree: floor(h/2 - 1/2) + 1 = floor(h/2 + 1/2) becomes true), and
    one that the ideal form would make false keeps its exact form."""
    kept = []
    for cond in conditions:
        holds = idealize(cond.holds)
        if is_true(holds):
            continue
        kept.append(cond if is_false(holds) else replace(cond, holds=holds))
    return tuple(kept)


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
    exact_when = divisibility_conditions(rounded_expressions(net))
    details = ideal_conditions(net.condition_details) + exact_when
    return collected_totals(
        replace(
            net,
            mode="ideal",
            layers=rows,
            params=params,
            trainable=trainable,
            non_trainable=tidy(total([r.non_trainable for r in rows])),
            shape=tuple(idealize(x) for x in net.shape),
            condition_details=details,
            exact_when=exact_when,
            inactive=tidy(total([r.inactive for r in rows])),
            costs=Costs.summed([r.costs for r in rows]).map(tidy, adds=0),
        )
    )


def rounded_expressions(net: Network) -> list[Expr]:
    """Every count and size of an exact network that may hold a floor or ceil, for
    `divisibility_conditions`. A block's MACs (and the network's) are sums of its rows':
    they hold no floor its rows do not, so only rows without children give theirs, and
    the blocks' sums are never worked out for it."""
    exprs = [net.params, *net.shape]
    for row in net.walk():
        exprs += [row.weights, row.biases, row.non_trainable]
        if not row.children:
            exprs += row.costs.sources("macs")  # a formula's MACs left for later stay so
        exprs += row.shape
    return exprs


def divisibility_conditions(exprs: list[Expr]) -> tuple[Condition, ...]:
    """When every floor and ceil in `exprs` has a whole-number argument, so that the
    ideal form equals the exact one: one congruence per symbol where the arguments are
    linear in one symbol (floor(h/2) and floor(h/4) give h ≡ 0 mod 4), else
    `Eq(Mod(numerator, denominator), 0)`.

    >>> from symparams.base.expr import symbol
    >>> h = symbol("h")
    >>> divisibility_conditions([sympy.floor((h - 5) / 2), sympy.floor(h / 3)])
    (Condition(holds=Eq(Mod(h, 6), 3), message='the ideal form is exact when h ≡ 3 (mod 6)'),)
    """
    # A network repeats the same few axis expressions in every row: each argument once.
    arguments: dict[Expr, None] = {}
    seen: set[Expr] = set()  # and each expression once: rows share their shapes' axes
    for expr in exprs:
        if isinstance(expr, sympy.Basic) and not expr.is_Atom and expr not in seen:
            seen.add(expr)
            for rounded in expr.atoms(sympy.floor, sympy.ceiling):
                arguments[rounded.args[0]] = None
    classes: dict[sympy.Symbol, list[tuple[int, int]]] = {}
    others: dict[sympy.Basic, Condition] = {}
    for arg in arguments:
        congruence = _affine_congruence(arg)
        if congruence is not None:
            x, residue, modulus = congruence
            classes.setdefault(x, []).append((residue, modulus))
            continue
        num, den = sympy.fraction(sympy.together(arg))
        congruence = _linear_congruence(num, den)
        if congruence is not None:
            x, residue, modulus = congruence
            classes.setdefault(x, []).append((residue, modulus))
            continue
        holds = sympy.Eq(sympy.Mod(num, den), 0)
        if holds is not sympy.true:
            others.setdefault(
                holds, Condition(holds, f"the ideal form is exact when {num} is divisible by {den}")
            )
    found = []
    for x in sorted(classes, key=lambda s: s.name):
        combined = solve_congruence(*classes[x])
        if combined is None:  # no value of x makes every floor exact
            for residue, modulus in classes[x]:
                found.append(_congruence(x, residue, modulus))
        elif combined[1] > 1:
            found.append(_congruence(x, *combined))
    return tuple(found) + tuple(others.values())


def _affine_congruence(arg: Expr) -> tuple[sympy.Symbol, int, int] | None:
    """`arg` = a·x + b (a, b rational: what an axis gives) whole as x ≡ residue (mod
    modulus), read off its coefficients; None for any other form (`together` and a
    Poly then decide, at a hundred times the cost)."""
    terms = arg.as_coefficients_dict()
    variables = [k for k in terms if k is not sympy.S.One]
    if len(variables) != 1 or not variables[0].is_Symbol:
        return None
    (x,) = variables
    a, b = terms[x], terms.get(sympy.S.One, sympy.S.Zero)
    if not (a.is_Rational and b.is_Rational) or a == 0:
        return None
    den = math.lcm(int(a.q), int(b.q))
    return _linear_congruence(int(a * den) * x + int(b * den), sympy.Integer(den))


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
    if modulus > 1 and 0 <= residue < modulus:
        # Undecidable for a positive integer symbol, so evaluating it gives this very
        # relation, after asking the assumption system (milliseconds each; test_ideal.py).
        holds = sympy.Eq(sympy.Mod(x, modulus, evaluate=False), residue, evaluate=False)
    else:
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


def substitute(net: Network, values: Mapping[str, int]) -> Network:
    """The network with symbols given values, without building it again: every count,
    shape and condition with the values put in (what `solve`, `sweep` and the plots
    need). A condition the values break is a ShapeError quoting the rule; to have the
    layer named as well, build the text again with the values (`symparams.parse`).

    >>> import symparams
    >>> substitute(symparams.parse("I(n,n,1)-C(8,3)-F-O(10)"), {"n": 28}).params
    54170
    """
    if not values:
        return net
    known = {symbol(name): sympy.Integer(value) for name, value in values.items()}
    given = ", ".join(f"{name}={value}" for name, value in values.items())

    def put(value: Any) -> Any:
        return value.subs(known) if isinstance(value, sympy.Basic) else value

    def condition(cond: Condition) -> Condition:
        holds = put(cond.holds)
        if is_false(holds):
            raise ShapeError(f"with {given} the network does not exist: {cond.message or cond.holds}")
        return replace(cond, holds=holds)

    def row(r: LayerInfo) -> LayerInfo:
        return replace(
            r,
            shape=tuple(put(x) for x in r.shape),
            weights=put(r.weights),
            biases=put(r.biases),
            non_trainable=put(r.non_trainable),
            inactive=put(r.inactive),
            count=put(r.count),
            conditions=tuple(c for c in map(condition, r.conditions) if not is_true(c.holds)),
            children=tuple(row(c) for c in r.children),
            costs=r.costs.map(put),
        )

    return replace(
        net,
        layers=tuple(row(r) for r in net.layers),
        params=put(net.params),
        trainable=put(net.trainable),
        non_trainable=put(net.non_trainable),
        shape=tuple(put(x) for x in net.shape),
        inactive=put(net.inactive),
        costs=net.costs.map(put),
        condition_details=merge_conditions([condition(c) for c in net.condition_details]),
        exact_when=tuple(c for c in map(condition, net.exact_when) if not is_true(c.holds)),
        values={**net.values, **values},
    )
