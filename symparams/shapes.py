"""Shape arithmetic: output sizes with floor and ceil in canonical form, and conditions.

sympy alone does not collapse floor(floor(x/2)/2); after many pools the expressions
grow without bound. Here every floor of a floor is folded at once with the identity
floor((floor(A) + R)/s) = floor((A + R)/s), valid for integer R and positive integer s,
so a deep chain keeps one floor per axis. Ceil becomes floor: ceil(y/s) =
floor((y + s - 1)/s) for integer y.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .arith import is_int, smallest, sympy
from .symbols import AXIS_NAMES

if TYPE_CHECKING:
    from sympy import Expr


def as_expr(value: object) -> Expr:
    return value if isinstance(value, sympy.Expr) else sympy.sympify(value, strict=True)


def floor_div(num: Expr, den: Expr) -> Expr:
    """floor(num/den) for integer num and positive integer den, with floors folded.

    >>> from symparams.symbols import symbol
    >>> h = symbol("h")
    >>> floor_div(floor_div(h - 4, 2) - 2, 2)
    floor(h/4) - 2
    """
    if is_int(num) and is_int(den):  # the numeric build
        return num // den
    num, den = as_expr(num), as_expr(den)
    if den == 1:
        return num
    if num.is_Integer and den.is_Integer:
        return sympy.Integer(int(num) // int(den))
    floor = sympy.floor
    floor_terms = [t for t in sympy.Add.make_args(num) if t.has(floor)]
    if not floor_terms:
        return polynomial_floor(_divided(num, den))
    if len(floor_terms) == 1:
        coeff, inner = floor_terms[0].as_coeff_Mul()
        if isinstance(inner, floor):
            rest = num - floor_terms[0]
            if coeff == 1 and not rest.has(floor):
                return polynomial_floor(_divided(inner.args[0] + rest, den))
            ratio = coeff / den
            if ratio.is_integer and not rest.has(floor):
                return ratio * inner + floor_div(rest, den)
    return floor(num / den)


def _divided(num: Expr, den: Expr) -> Expr:
    """num/den as a sum of terms. A numeric divisor is applied term by term: sympy's
    expand() costs milliseconds a layer once strides make the divisor a huge number."""
    if den.is_Number:
        return sympy.Add(*(t / den for t in sympy.Add.make_args(sympy.expand(num) if num.is_Mul else num)))
    return sympy.expand(num / den)


def _expand(expr: Expr) -> Expr:
    # Floor arguments are built expanded (_divided), so expanding them again, as a deep
    # expand() does, only costs time: on long strided chains most of it.
    return sympy.expand(expr, deep=False)


def _integral_term(term: Expr) -> bool:
    # Read the numeric coefficient directly: asking the assumption system whether
    # h/2**600 is an integer is what made long strided chains slow.
    coeff, factors = term.as_coeff_Mul()
    if not coeff.is_Integer:
        return False
    return factors == 1 or bool(factors.is_integer)


def polynomial_floor(arg: Expr) -> Expr:
    """floor(arg) for an expanded polynomial in positive-integer symbols, as sympy's
    floor() gives it, without its cost.

    sympy's floor pulls the integer terms out (floor(2h + h/4 - 3/4) = 2h + floor(h/4 -
    3/4)) and keeps the rest unevaluated; before that it asks the assumption system
    whether the argument lies in [0, 1) or [1, 2), by differentiation, which costs tens
    of milliseconds a layer on long chains and cannot succeed here: a polynomial with a
    symbolic term is unbounded over the positive integers. Numbers and provably integer
    arguments take sympy's own path.

    >>> from symparams.symbols import symbol
    >>> h, w = symbol("h"), symbol("w")
    >>> polynomial_floor(sympy.expand((h + 2 * w - 7) / 4)), polynomial_floor(2 * h + 3)
    (floor(h/4 + w/2 - 7/4), 2*h + 3)
    """
    if arg.is_Number or not arg.is_polynomial():
        return sympy.floor(arg)
    integral: list[Expr] = []
    rest: list[Expr] = []
    for term in sympy.Add.make_args(arg):
        (integral if _integral_term(term) else rest).append(term)
    if not rest:
        return sympy.Add(*integral)
    remainder = sympy.Add(*rest)
    if remainder.is_Number:
        return sympy.Add(*integral) + sympy.floor(remainder)
    return sympy.Add(*integral) + sympy.floor(remainder, evaluate=False)


def ceil_div(num: Expr, den: Expr) -> Expr:
    """ceil(num/den) for integer num and positive integer den, as a canonical floor."""
    return floor_div(num + den - 1, den)


def conv_out(x: Expr, f: Expr, s: Expr, p: object, d: Any = 1) -> Expr:
    """Output size of a convolution axis (PyTorch's and Keras's rule).

    `p` is "valid", "same" or an integer padding on both sides.
    """
    if p == "same":
        return ceil_div(x, s)
    pad: Any = 0 if p == "valid" else p
    return floor_div(x + 2 * pad - d * (f - 1) - 1, s) + 1


def conv_min_input(f: Expr, p: object, d: Any = 1) -> Expr:
    """The smallest input size for which conv_out is at least 1."""
    if p == "same":
        return 1
    pad: Any = 0 if p == "valid" else p
    return d * (f - 1) + 1 - 2 * pad


def pool_out(x: Expr, f: Expr, s: Expr, p: object, ceil_mode: bool) -> Expr:
    """Output size of a pooling axis; `ceil_mode` follows PyTorch's pooling_output_shape.

    In ceil mode PyTorch drops a last window that would start in the right padding:
    out = min(ceil((x + 2p - f)/s) + 1, ceil((x + p)/s)); the min is needed only when
    p + s > f.
    """
    if p == "same":
        return ceil_div(x, s)
    pad: Any = 0 if p == "valid" else p
    if not ceil_mode:
        return floor_div(x + 2 * pad - f, s) + 1
    out = ceil_div(x + 2 * pad - f, s) + 1
    room = pad + s - f
    if room <= 0 if is_int(room) else room.is_nonpositive:  # no window can start in the padding
        return out
    last_start_inside = ceil_div(x + pad, s)
    return smallest(out, last_start_inside)


def pool_min_input(f: Expr, s: Expr, p: object, ceil_mode: bool) -> Expr:
    """The smallest input size for which pool_out is at least 1.

    In ceil mode a partial last window counts, so PyTorch accepts an input shorter than
    the kernel: ceil((x + 2p - f)/s) + 1 >= 1 holds for x >= f - 2p - s + 1
    (MaxPool2d(3, 2, ceil_mode=True) maps 2x2 to 1x1).

    >>> pool_min_input(3, 2, "valid", True), pool_min_input(3, 2, 1, False)
    (2, 1)
    """
    if p == "same":
        return 1
    pad: Any = 0 if p == "valid" else p
    if ceil_mode:
        return f - 2 * pad - s + 1
    return f - 2 * pad


def axis_names(rank: int) -> tuple[str, ...]:
    return AXIS_NAMES.get(rank, tuple(f"x{i}" for i in range(rank - 1)) + ("c",))


def product(values: object) -> Expr:
    result: Any = 1
    for v in values:  # type: ignore[attr-defined]
        result = result * v
    return result


@dataclass(frozen=True)
class Condition:
    """What must hold for a layer's shape to exist.

    `holds` is a sympy boolean in the input's symbols, or a Python bool where the
    numeric build decided it; `message` says, in the user's terms, which rule it is
    ("needs an input of at least 5 on axis h, got 4").
    """

    holds: Any
    message: str


def _linear_coefficients(expr: Expr, x: sympy.Symbol) -> tuple[Expr | None, Expr]:
    """(a, b) with expr = a*x + b and a a nonzero number, else (None, 0); read off the
    terms (`h - 600`: {h: 1, 1: -600}) rather than through a Poly, which costs more
    than the rest of a layer."""
    coefficients = expr.as_coefficients_dict()
    if not set(coefficients) <= {x, sympy.S.One}:
        return None, sympy.S.Zero
    a, b = coefficients.get(x, sympy.S.Zero), coefficients.get(sympy.S.One, sympy.S.Zero)
    if not a.is_Number or a == 0 or not b.is_Number:
        return None, sympy.S.Zero
    return a, b


def at_least(value: Expr, minimum: Expr, message: str) -> Condition:
    """The condition `value >= minimum`, as simple as it gets (`h >= 12`, true, false).

    An evaluated sympy.Ge asks the assumption system, which costs tens of milliseconds
    a layer on long chains; a number or a bound linear in one symbol (what an axis
    gives) is decided by simplify_condition alone, so that path goes first.

    >>> from symparams.symbols import symbol
    >>> at_least(sympy.floor(symbol("h") / 4) - 2, 1, "").holds, at_least(sympy.Integer(3), 5, "").holds
    (h >= 12, False)
    """
    if is_int(value) and is_int(minimum):  # the numeric build
        return Condition(value >= minimum, message)
    gap = _expand(as_expr(value) - as_expr(minimum))
    if gap.is_Number:
        return Condition(sympy.true if gap >= 0 else sympy.false, message)
    quick = simplify_condition(sympy.Ge(gap, 0, evaluate=False))
    if quick in (sympy.true, sympy.false) or (quick.lhs.is_Symbol and quick.rhs.is_Integer):
        return Condition(quick, message)
    return Condition(simplify_condition(sympy.Ge(value, minimum)), message)


def at_most(value: Expr, maximum: Expr, message: str) -> Condition:
    """The condition `value <= maximum` (`t <= 1024`)."""
    if is_int(value) and is_int(maximum):
        return Condition(value <= maximum, message)
    return Condition(sympy.Le(value, maximum), message)


def divides(divisor: Expr, value: Expr, message: str) -> Condition:
    if is_int(value) and is_int(divisor):
        return Condition(value % divisor == 0, message)
    value, divisor = as_expr(value), as_expr(divisor)
    if divisor == 1:
        return Condition(sympy.true, message)
    return Condition(sympy.Eq(sympy.Mod(value, divisor), 0), message)


def simplify_condition(cond: sympy.Basic) -> sympy.Basic:
    """Rewrite `floor(A) + r >= k` as the plain bound a person writes (`h >= 12`).

    floor(A) >= m is the same as A >= m for an integer m, so the floors go; a bound
    linear in one symbol becomes `symbol >= value`.

    >>> from symparams.symbols import symbol
    >>> simplify_condition(sympy.Ge(sympy.floor(symbol("h") / 4) - 2, 1))
    h >= 12
    """
    floor = sympy.floor
    if cond in (sympy.true, sympy.false) or not isinstance(cond, (sympy.GreaterThan, sympy.StrictGreaterThan)):
        return cond
    if isinstance(cond, sympy.StrictGreaterThan):
        gap = _expand(cond.lhs - cond.rhs - 1)
    else:
        gap = _expand(cond.lhs - cond.rhs)
    floor_terms = [t for t in sympy.Add.make_args(gap) if t.has(floor)]
    if len(floor_terms) == 1 and isinstance(floor_terms[0], floor):
        rest = gap - floor_terms[0]
        if not rest.has(floor) and rest.is_integer:
            gap = _expand(floor_terms[0].args[0] + rest)
    if gap.has(floor) or gap.has(sympy.Min) or gap.has(sympy.Max):
        return sympy.Ge(gap, 0)
    free = sorted(gap.free_symbols, key=lambda s: s.name)
    if len(free) == 1:
        x = free[0]
        a, b = _linear_coefficients(gap, x)
        if a is not None:
            if a.is_positive:
                bound = sympy.ceiling(-b / a)
                # Unevaluated: x >= bound > 1 is undecidable for a positive integer x,
                # and asking sympy's assumptions costs milliseconds a layer.
                return sympy.true if bound <= 1 else sympy.Ge(x, bound, evaluate=False)
            if a.is_negative:
                bound = sympy.floor(-b / a)
                return sympy.false if bound < 1 else sympy.Le(x, bound, evaluate=False)
    return sympy.Ge(gap, 0)
