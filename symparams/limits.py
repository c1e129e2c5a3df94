"""Resource limits: what symparams refuses, with a clear error, instead of hanging.

Text that a service did not write may ask for numbers with millions of digits
(`2^2^2^2^2^2`), polynomials with millions of terms (`(h+w+c+1)^1000`), or millions of
layers. Each limit here is far beyond any real architecture and keeps every answer
within bounded time and memory; the limits on text size and bracket depth live in
`parsing`, the one on repeated blocks in `composition`.

Numbers stay exact up to MAX_DIGITS digits. Python refuses to print an integer of over
4,300 digits (sys.int_info.default_max_str_digits, a guard against quadratic-time
conversion), and a layer may multiply five numbers (n·c·f·f·f) in one count or message:
with every operand at most 600 digits, all of it prints.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from .arith import sympy

if TYPE_CHECKING:
    from sympy import Expr

MAX_DIGITS = 600  # digits of any number: a literal, an argument, a size, a count
MAX_TERMS = 1_000  # terms of an argument or a size once multiplied out
MAX_COUNT_TERMS = 10_000  # terms of a layer's parameter or MAC count once multiplied out
# Degree of an argument or a size in its symbols: a strided or pooled axis is multiplied
# out and floored, at a cost that grows fast with degree and terms ((h+w+c+1)^8 takes
# over half a second); real sizes are of degree 1 to 4.
MAX_DEGREE = 8
MAX_LAYERS = 10_000  # layers built for one architecture (definitions, blocks and all)
# Definitions used inside definitions, inside...: each level is a few Python frames.
MAX_DEFINITION_DEPTH = 50

_MAX_BITS = math.ceil(MAX_DIGITS * math.log2(10))


def too_many_digits(value: int) -> bool:
    """True when an integer has more than MAX_DIGITS digits (judged by bits, as
    printing it to count its digits is what must be avoided).

    >>> too_many_digits(10**600), too_many_digits(10**700)
    (False, True)
    """
    return abs(value).bit_length() > _MAX_BITS


def power_too_large(base: Expr, exponent: Expr) -> bool:
    """True when base^exponent, both numbers, would have more than MAX_DIGITS digits;
    decided from the logarithm, before the power is computed.

    >>> power_too_large(sympy.Integer(2), sympy.Integer(65536)), power_too_large(sympy.Integer(10), sympy.Integer(600))
    (True, False)
    """
    if isinstance(base, (int, Fraction)) and isinstance(exponent, (int, Fraction)):  # the numeric build
        if not isinstance(exponent, int):
            return False
        p, q = abs(Fraction(base).numerator), Fraction(base).denominator
    elif not (base.is_Rational and exponent.is_Integer):
        return False
    else:
        p, q = abs(int(base.p)), int(base.q)
    if p in (0, 1) and q == 1:
        return False
    size = max(p.bit_length(), q.bit_length())
    return (size - 1) * int(exponent) > _MAX_BITS


def expanded_terms(expr: Expr, cap: int = MAX_TERMS + 1) -> int:
    """An upper bound on the number of terms of `expr` multiplied out, capped at `cap`.

    A sum has at most the sum of its parts' terms, a product the product, and a power
    p^n of a t-term p at most C(n+t-1, t-1) (the monomials of degree n in t variables).

    >>> from symparams.symbols import symbol
    >>> h, w = symbol("h"), symbol("w")
    >>> expanded_terms((h + 1) ** 3), expanded_terms((h + w + 1) * (h - 2)), expanded_terms((h + 1) ** 10**6)
    (4, 6, 1001)
    """
    if not isinstance(expr, sympy.Basic) or expr.is_Atom:
        return 1
    if expr.is_Add:
        return min(cap, sum(expanded_terms(a, cap) for a in expr.args))
    if expr.is_Mul:
        result = 1
        for a in expr.args:
            result = min(cap, result * expanded_terms(a, cap))
        return result
    if expr.is_Pow:
        base, exponent = expr.args
        terms = expanded_terms(base, cap)
        if terms == 1 or not exponent.is_Integer or exponent < 0:
            return terms
        n = int(exponent)
        if n > cap:
            return cap
        return min(cap, math.comb(n + terms - 1, terms - 1))
    return min(cap, max((expanded_terms(a, cap) for a in expr.args), default=1))


def degree(expr: Expr) -> int:
    """An upper bound on the total degree of `expr` in its symbols, reading floors,
    ceilings, minima and maxima as their arguments.

    >>> from symparams.symbols import symbol
    >>> h, w = symbol("h"), symbol("w")
    >>> degree(sympy.floor((h + 1) ** 3 * w / 2)), degree(h / w), degree(sympy.Integer(7))
    (4, 2, 0)
    """
    if not isinstance(expr, sympy.Basic) or expr.is_number:
        return 0
    if expr.is_Symbol:
        return 1
    if expr.is_Mul:
        return sum(degree(a) for a in expr.args)
    if expr.is_Pow:
        base, exponent = expr.args
        if exponent.is_Integer:
            return degree(base) * abs(int(exponent))
        if base.is_number and degree(exponent) <= 1:
            return 1  # 2^k: an exponential in one linear exponent, read as one factor
        return MAX_DEGREE + 1 if not base.is_number or not exponent.is_number else 0
    return max((degree(a) for a in expr.args), default=0)


def oversize(value: object, size: bool = True) -> str | None:
    """Why `value` (a number, an expression or a shape) is too large, or None. A size
    (an argument, an axis) is held to MAX_TERMS and MAX_DEGREE; a count
    (`size=False`) only to MAX_COUNT_TERMS, as nothing floors or expands it.

    >>> oversize(sympy.Integer(10) ** 700)
    'a number with more than 600 digits'
    >>> oversize(sympy.Integer(28)) is None
    True
    """
    if isinstance(value, tuple):
        for item in value:
            reason = oversize(item, size)
            if reason:
                return reason
        return None
    if isinstance(value, (int, Fraction)):  # the numeric build
        digits = (value,) if isinstance(value, int) else (value.numerator, value.denominator)
        return f"a number with more than {MAX_DIGITS:,} digits" if any(map(too_many_digits, digits)) else None
    if not isinstance(value, sympy.Basic):
        return None
    if value.is_Integer:
        return f"a number with more than {MAX_DIGITS:,} digits" if too_many_digits(int(value)) else None
    for atom in value.atoms(sympy.Rational):
        if too_many_digits(int(atom.p)) or too_many_digits(int(atom.q)):
            return f"a number with more than {MAX_DIGITS:,} digits"
    if value.is_number:
        return None
    most = MAX_TERMS if size else MAX_COUNT_TERMS
    if expanded_terms(value, most + 1) > most:
        return f"an expression of more than {most:,} terms once multiplied out"
    if size and degree(value) > MAX_DEGREE:
        return f"a polynomial of degree over {MAX_DEGREE}"
    return None


class Budget:
    """The work one build may do, counted as it goes: layers built. (A count, not a
    clock: the same text gets the same answer on a fast machine and a busy one.)

    >>> budget = Budget(max_layers=2)
    >>> [budget.spend() for _ in range(3)]
    [None, None, 'builds more than 2 layers']
    """

    def __init__(self, max_layers: int = MAX_LAYERS) -> None:
        self.layers = 0
        self.max_layers = max_layers

    def spend(self) -> str | None:
        """Count one layer; say why the build must stop, or None."""
        self.layers += 1
        if self.layers > self.max_layers:
            return f"builds more than {self.max_layers:,} layers"
        return None



def written_layers(definitions: Mapping[str, Any], chain: Any, uses: Callable[[Any], Iterable[Any]],
                   cap: int = MAX_LAYERS + 1) -> tuple[int, Any]:
    """Layers the chain names once every definition is written out, capped at `cap`, and
    the layer or use in the chain at which the count reaches `cap` (None below it). `d1 = d0-d0`, `d2 = d1-d1`, ... doubles
    at each line: 30 lines of text would make a billion layers, so the size is counted
    on the definitions (each once, memoised) before anything is built.

    `uses(node)` yields the layer nodes written in a body or chain (they have `.name`).
    """
    sizes: dict[str, int] = {}

    def size(name: str) -> int:
        if name not in sizes:
            sizes[name] = cap  # a cycle, should one get here, counts as too large
            total = 0
            for layer in uses(definitions[name].body):
                total = min(cap, total + (size(layer.name) if layer.name in definitions else 1))
            sizes[name] = total
        return sizes[name]

    total = 0
    for layer in uses(chain):
        total = min(cap, total + (size(layer.name) if layer.name in definitions else 1))
        if total >= cap:
            return total, layer
    return total, None


def definition_depth(definitions: Mapping[str, Any], uses: Callable[[Any], Iterable[Any]]) -> dict[str, int]:
    """How deeply each definition nests others: 1 for one that uses none.

    >>> from types import SimpleNamespace as N
    >>> defs = {"a": N(body=[N(name="C")]), "b": N(body=[N(name="a"), N(name="a")])}
    >>> definition_depth(defs, lambda body: body)
    {'a': 1, 'b': 2}
    """
    depths: dict[str, int] = {}

    def depth(name: str) -> int:
        if name not in depths:
            depths[name] = MAX_DEFINITION_DEPTH + 1  # a cycle counts as too deep
            inner = [depth(layer.name) for layer in uses(definitions[name].body) if layer.name in definitions]
            depths[name] = 1 + max(inner, default=0)
        return depths[name]

    for name in definitions:
        depth(name)
    return depths
