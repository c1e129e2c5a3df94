"""Numbers, symbols and conditions: the one place that tells a Python int from a sympy value.

A fully numeric network (LeNet, ResNet-50, LLaMA-2-70B with every size written) needs no
algebra, and importing sympy is most of a command's start-up time. So a build first runs
in Python integers (`INTEGERS`), with sympy imported lazily (below) and never touched;
anything beyond whole-number arithmetic (a symbol, a fraction where a size goes, an
error to explain) raises `NeedsSympy`, and the build starts over with `SYMPY`, which
gives the same answer by the same layer formulas. The back-end is chosen once, at the
build's edge (as einops picks its backend once); the helpers below take either kind of
value, so layer formulas and shape rules never ask which build runs them.

Every sympy symbol is made here too (`symbol`): positive integers, one per name, so that
sympy simplifies floor((x-5)/1)+1 to x-4 by itself and `I(n,n,3)` is one symbol used twice.

Shape arithmetic keeps floors canonical: sympy alone does not collapse
floor(floor(x/2)/2), and after many pools the expressions would grow without bound.
Every floor of a floor is folded at once with floor((floor(A) + R)/s) = floor((A + R)/s),
valid for integer R and positive integer s, so a deep chain keeps one floor per axis.
Ceil becomes floor: ceil(y/s) = floor((y + s - 1)/s) for integer y.
"""

from __future__ import annotations

import importlib.util
import math
import sys
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from functools import cache
from types import ModuleType
from typing import TYPE_CHECKING, Any

from .errors import LimitError, ShapeError
from .limits import MAX_BITS, MAX_COUNT_TERMS, MAX_DEGREE, MAX_DIGITS, MAX_TERMS, too_many_digits


class NeedsSympy(Exception):
    """The numeric build met something only the symbolic build handles."""


def _lazy_module(name: str) -> ModuleType:
    """`name` imported on first attribute access (importlib.util.LazyLoader): modules
    refer to `sympy.floor` and the like freely, and a build that never reaches those
    lines never pays for the import."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None:
        raise ImportError(f"symparams needs {name}: pip install {name}")
    spec.loader = importlib.util.LazyLoader(spec.loader)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


if TYPE_CHECKING:
    import sympy
    from sympy import Expr
else:
    sympy = _lazy_module("sympy")


def is_int(value: Any) -> bool:
    """A Python integer, as the numeric build holds numbers (a bool is a flag, not a number)."""
    return type(value) is int


def is_number(value: Any) -> bool:
    """A number of either build: an int, a fraction (a rate), or a sympy number."""
    if isinstance(value, (int, Fraction)):
        return True
    return bool(value.is_number)


def whole(value: Fraction) -> int | Fraction:
    """A fraction that is whole as an int, as sympy turns Rational(4, 2) into 2."""
    return int(value) if value.denominator == 1 else value


def exact_div(num: Any, den: Any) -> Any:
    """num/den where a layer's rule makes den divide num (channels by groups, width by
    heads). The numeric build leaves a remainder to the symbolic one, whose condition
    explains it."""
    if is_int(num) and is_int(den):
        quotient, remainder = divmod(num, den)
        if remainder:
            raise NeedsSympy
        return quotient
    return num / den


def expand(value: Any) -> Any:
    return value if is_int(value) else sympy.expand(value)


def provably_equal(a: Any, b: Any, simplify: bool = False) -> bool:
    """True when a == b for every value of their symbols (expand, or simplify, proves it)."""
    if is_int(a) and is_int(b):
        return a == b
    difference = a - b
    if isinstance(difference, sympy.Basic) and difference.has(sympy.floor, sympy.ceiling):
        difference = _whole_constants_out(difference)
    return bool((sympy.simplify(difference) if simplify else sympy.expand(difference)) == 0)


def _whole_constants_out(expr: Expr) -> Expr:
    """floor(A + c) as floor(A + (c - ⌊c⌋)) + ⌊c⌋ for a rational constant c, and ceil
    likewise: floor(h/2 - 1/2) + 1 and floor(h/2 + 1/2) become one form, so that the
    shapes of Keras's strided valid and same branches are seen equal.

    >>> h = symbol("h")
    >>> provably_equal(sympy.floor(h / 2 - sympy.Rational(1, 2)) + 1, sympy.floor(h / 2 + sympy.Rational(1, 2)))
    True
    """

    def rewrite(kind: Any) -> Callable[[Any], Any]:
        def out(arg: Any) -> Any:
            constant, rest = arg.as_coeff_Add()
            whole_part = sympy.floor(constant) if constant.is_Rational else sympy.Integer(0)
            if whole_part == 0:
                return kind(arg, evaluate=False)
            return kind(rest + (constant - whole_part), evaluate=False) + whole_part

        return out

    return expr.replace(sympy.floor, rewrite(sympy.floor)).replace(sympy.ceiling, rewrite(sympy.ceiling))


def largest(a: Any, b: Any) -> Any:
    return max(a, b) if is_int(a) and is_int(b) else sympy.Max(a, b)


def smallest(a: Any, b: Any) -> Any:
    return min(a, b) if is_int(a) and is_int(b) else sympy.Min(a, b)


def free_symbols(value: Any) -> set[Any]:
    return set() if isinstance(value, (int, Fraction, str)) else set(value.free_symbols)


def is_true(holds: Any) -> bool:
    """A condition that always holds: True, or sympy's true."""
    return holds is True or (not isinstance(holds, bool) and holds is sympy.true)


def is_false(holds: Any) -> bool:
    """A condition that never holds: False, or sympy's false."""
    return holds is False or (not isinstance(holds, bool) and holds is sympy.false)


# ---------------------------------------------------------------- remembered results
_CACHE_SIZE = 20_000  # entries per remembered function before it starts afresh


def remembered(fn: Callable[..., Any]) -> Callable[..., Any]:
    """`fn` of sympy expressions (and plain values), computed once per arguments: the
    rows of a long network repeat the same few axis expressions, and printing, floors,
    bounds, size checks and ideal tidying cost sympy far more than a dictionary lookup.
    Calls whose arguments are all plain numbers (the numeric build, which must not
    import sympy) go straight to `fn`."""
    cache: dict[Any, Any] = {}

    def wrapper(*args: Any) -> Any:
        for a in args:  # a loop and exact types: isinstance on Fraction goes through ABCMeta
            if type(a) not in _PLAIN:
                break
        else:
            return fn(*args)
        found = cache.get(args, cache)
        if found is cache:
            if len(cache) > _CACHE_SIZE:
                cache.clear()
            found = cache[args] = fn(*args)
        return found

    wrapper.__doc__, wrapper.__name__, wrapper.__wrapped__ = fn.__doc__, fn.__name__, fn  # type: ignore[attr-defined]
    return wrapper


_PLAIN = frozenset({int, str, Fraction, tuple, bool, type(None)})


@remembered
def symbols_in(value: Any) -> frozenset[Any]:
    """The free symbols of `value`, each subexpression's found once: sympy walks the whole
    tree on every `free_symbols`, and a network's figures share their axes
    (`floor(h/2) + 1` in a thousand MACs). Arithmetic is read through its arguments; any
    other node asks sympy.

    >>> sorted(symbols_in(symbol("h") * sympy.floor(symbol("w") / 2) + 1), key=str), symbols_in(3)
    ([h, w], frozenset())
    """
    if isinstance(value, (int, Fraction, str)):  # the numeric build's: sympy stays unimported
        return frozenset()
    if value.is_Atom or type(value) not in _arithmetic():
        return frozenset(value.free_symbols)
    return frozenset().union(*(symbols_in(arg) for arg in value.args))


@cache
def _arithmetic() -> frozenset[type]:
    return frozenset(
        {sympy.Add, sympy.Mul, sympy.Pow, sympy.floor, sympy.ceiling, sympy.Min, sympy.Max, sympy.Mod}
    )


# ---------------------------------------------------------------- symbols
@cache
def symbol(name: str) -> sympy.Symbol:
    """The positive-integer symbol called `name`.

    >>> symbol("h") is symbol("h"), symbol("h").is_integer, symbol("h").is_positive
    (True, True, True)
    """
    return sympy.Symbol(name, integer=True, positive=True)


def default_input_symbols(rank: int = 3) -> tuple[sympy.Symbol, ...]:
    """The axes of a bare `I`: h, w, c."""
    return tuple(symbol(n) for n in AXIS_NAMES[rank])


# Names of the axes of a channels-last tensor by rank, for messages and bare `I`.
AXIS_NAMES: dict[int, tuple[str, ...]] = {
    1: ("n",),
    2: ("t", "c"),
    3: ("h", "w", "c"),
    4: ("d", "h", "w", "c"),
}


# ---------------------------------------------------------------- floors and ceilings
def as_expr(value: object) -> Expr:
    return value if isinstance(value, sympy.Expr) else sympy.sympify(value, strict=True)


@remembered
def floor_div(num: Expr, den: Expr) -> Expr:
    """floor(num/den) for integer num and positive integer den, with floors folded.

    >>> from symparams.base.expr import symbol
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

    >>> from symparams.base.expr import symbol
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


def product(values: object) -> Expr:
    result: Any = 1
    for v in values:  # type: ignore[attr-defined]
        result = result * v
    return result


class Once:
    """`fn(*args)`, worked out when first asked for and then kept."""

    __slots__ = ("_args", "_fn", "_value")

    def __init__(self, fn: Callable[..., Any], *args: Any) -> None:
        self._fn: Callable[..., Any] | None = fn
        self._args = args
        self._value: Any = None

    def value(self) -> Any:
        if self._fn is not None:
            self._value, self._fn, self._args = self._fn(*self._args), None, ()
        return self._value


class Later(Once):
    """A layer's figure worked out when first read. The summary table never reads a
    layer's MACs or saved activations, nor ideal mode the saved ones, and each new product
    costs sympy a tenth of a millisecond (DenseNet-121: 130 of them). `fn` is arithmetic
    on its arguments, so its value holds no symbol they do not hold (`sources`).

    >>> later = Later(product, (2, 3, 7))
    >>> later.sources(), later.value(), later.sources()
    ((2, 3, 7), 42, (42,))
    """

    __slots__ = ()

    def sources(self) -> tuple[Any, ...]:
        """What the value is made of: the arguments (tuples read through), or the value
        once it is known. Arithmetic makes no symbol, floor or ceiling its operands lack,
        so these hold every one the value holds (ideal mode's divisibility conditions
        read them instead of working the value out)."""
        if self._fn is None:
            return (self._value,)
        return tuple(x for a in self._args for x in (a if isinstance(a, tuple) else (a,)))

    def __repr__(self) -> str:
        return f"Later({self.value()!r})"


# ---------------------------------------------------------------- conditions
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


@remembered
def at_least(value: Expr, minimum: Expr, message: str) -> Condition:
    """The condition `value >= minimum`, as simple as it gets (`h >= 12`, true, false).

    An evaluated sympy.Ge asks the assumption system, which costs tens of milliseconds
    a layer on long chains; a number or a bound linear in one symbol (what an axis
    gives) is decided by simplify_condition alone, so that path goes first.

    >>> from symparams.base.expr import symbol
    >>> at_least(sympy.floor(symbol("h") / 4) - 2, 1, "").holds, at_least(sympy.Integer(3), 5, "").holds
    (h >= 12, False)
    """
    if is_int(value) and is_int(minimum):  # the numeric build
        return Condition(value >= minimum, message)
    return Condition(_lower_bound(as_expr(value), as_expr(minimum)), message)


@remembered
def _lower_bound(value: Expr, minimum: Expr) -> sympy.Basic:
    # Once per axis and bound: every layer of a long chain asks the same of the same axes.
    gap = _expand(value - minimum)
    if gap.is_Number:
        return sympy.true if gap >= 0 else sympy.false
    quick = simplify_condition(sympy.Ge(gap, 0, evaluate=False))
    if quick in (sympy.true, sympy.false) or (quick.lhs.is_Symbol and quick.rhs.is_Integer):
        return quick
    return simplify_condition(sympy.Ge(value, minimum))


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

    >>> from symparams.base.expr import symbol
    >>> simplify_condition(sympy.Ge(sympy.floor(symbol("h") / 4) - 2, 1))
    h >= 12
    """
    floor = sympy.floor
    if cond in (sympy.true, sympy.false) or not isinstance(
        cond, (sympy.GreaterThan, sympy.StrictGreaterThan)
    ):
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


# ---------------------------------------------------------------- sizes within the limits
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
    return (size - 1) * int(exponent) > MAX_BITS


def expanded_terms(expr: Expr, cap: int = MAX_TERMS + 1) -> int:
    """An upper bound on the number of terms of `expr` multiplied out, capped at `cap`.

    A sum has at most the sum of its parts' terms, a product the product, and a power
    p^n of a t-term p at most C(n+t-1, t-1) (the monomials of degree n in t variables).

    >>> from symparams.base.expr import symbol
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

    >>> from symparams.base.expr import symbol
    >>> h, w = symbol("h"), symbol("w")
    >>> degree(sympy.floor((h + 1) ** 3 * w / 2)), degree(h / w), degree(sympy.Integer(7))
    (4, 1, 0)
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
            # A divisor (w/f**4, what a symbolic kernel or stride leaves in floors) is never
            # multiplied out: only non-negative powers raise the cost the limit guards.
            return degree(base) * int(exponent) if exponent > 0 else 0
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
    return (_oversize_size if size else _oversize_count)(value)  # type: ignore[no-any-return]


@remembered
def _oversize_size(value: object) -> str | None:
    return _oversize(value, True)


@remembered
def _oversize_count(value: object) -> str | None:
    return _oversize(value, False)


def _oversize(value: object, size: bool = True) -> str | None:
    if isinstance(value, tuple):
        for item in value:
            reason = oversize(item, size)
            if reason:
                return reason
        return None
    if isinstance(value, (int, Fraction)):  # the numeric build
        digits = (value,) if isinstance(value, int) else (value.numerator, value.denominator)
        return f"a number with more than {MAX_DIGITS:,} digits" if any(map(too_many_digits, digits)) else None
    if not isinstance(value, sympy.Basic) or value.is_Symbol:  # a symbol is of any size
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


# ---------------------------------------------------------------- ideal forms
@remembered
def idealize(expr: Expr) -> Expr:
    """Ideal mode: every floor and ceil replaced by its argument."""
    if not isinstance(expr, sympy.Basic) or not expr.has(sympy.floor, sympy.ceiling):
        return expr
    return _unrounded(expr)


@remembered
def _unrounded(expr: Expr) -> Expr:
    # Rebuilt bottom up, each subexpression once (rows share their axes' floors), and a
    # floor replaced by its unrounded argument itself: `expr.replace` rebuilds floor(new
    # argument) first, which sympy may turn into floor(...) + 1 and leave a floor behind.
    if isinstance(expr, (sympy.floor, sympy.ceiling)):
        return _unrounded(expr.args[0])
    if expr.is_Atom:
        return expr
    args = tuple(_unrounded(a) for a in expr.args)
    return expr if args == expr.args else expr.func(*args)


@remembered
def tidy(expr: Expr) -> Expr:
    """A count the way a person writes it: each product that idealizing left with
    fractions inside (8192*(h/4 - 2)*(w/4 - 2)) is factored (512*(h - 8)*(w - 8)); sums
    of terms stay sums, so like terms of different layers still collect.

    >>> from symparams.base.expr import symbol
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
        quick = _factor_linear_product(term)
        return sympy.factor(term) if quick is None else quick
    return term


def _factor_linear_product(term: Expr) -> Expr | None:
    """sympy.factor(term) for what idealizing a row leaves, a number times symbols and
    sums linear in the symbols with positive symbol coefficients (9408*(h/2 + 1/2)*(w/2
    + 1/2)); None for any other form. Each sum is its content (a positive rational)
    times a primitive integer polynomial, which factor() leaves as it is: a linear
    polynomial with coprime integer coefficients is irreducible, and with positive
    leading coefficients no sign moves. sympy's factor() gets there through together()
    and gcd_terms, at a hundred times the cost (most of an --ideal run).

    >>> from symparams.base.expr import symbol
    >>> h, w = symbol("h"), symbol("w")
    >>> _factor_linear_product(9408 * (h / 2 + sympy.Rational(1, 2)) * (w / 2 + sympy.Rational(1, 2)))
    2352*(h + 1)*(w + 1)
    """
    coeff: Any = sympy.S.One
    factors: list[Expr] = []
    for factor in sympy.Mul.make_args(term):
        base, exponent = (factor.base, factor.exp) if factor.is_Pow else (factor, sympy.S.One)
        if not (exponent.is_Integer and exponent > 0):
            return None
        if base.is_Rational:
            coeff = coeff * factor
        elif base.is_Symbol:
            factors.append(factor)
        elif base.is_Add:
            split = _linear_content(base)
            if split is None:
                return None
            content, primitive = split
            if content == 1:
                factors.append(factor)
            else:
                coeff = coeff * content**exponent
                factors.append(primitive**exponent)
        else:
            return None
    if len(factors) == 1 and factors[0].is_Add:
        return None  # a number times one sum: sympy would distribute it, factor() keeps it (its own form)
    return sympy.Mul(coeff, *factors)


@remembered
def _linear_content(linear: Expr) -> tuple[Expr, Expr] | None:
    """(content, primitive part) of a sum linear in the symbols with positive symbol
    coefficients (h/2 + 1/2: 1/2 and h + 1), None for any other sum; once per sum, as the
    rows of a block share their axes."""
    return rational_content(linear, lambda c, rest: rest == 1 or rest.is_Symbol and c > 0)


def rational_content(expr: Expr, takes: Callable[[Expr, Expr], bool]) -> tuple[Expr, Expr] | None:
    """(content, primitive part) of a sum whose every term is a rational times something
    `takes(coefficient, rest)` accepts: the content is the gcd of the numerators over the lcm
    of the denominators (h/4 + 3/4: 1/4 and h + 3); None when a term is of another form."""
    numerators: list[int] = []
    denominators: list[int] = []
    for t in expr.args:
        c, rest = t.as_coeff_Mul()
        if not c.is_Rational or not takes(c, rest):
            return None
        numerators.append(int(c.p))
        denominators.append(int(c.q))
    content = sympy.Rational(math.gcd(*numerators), math.lcm(*denominators))
    return content, (expr if content == 1 else sympy.Add(*(t / content for t in expr.args)))


# ---------------------------------------------------------------- kinds of value
def is_whole_number(value: Any) -> bool:
    """A whole number of either build: a Python int or a sympy Integer (not a flag)."""
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, sympy.Basic) and bool(value.is_Integer))


def is_nonpositive(value: Any) -> bool:
    """value <= 0 for every value of its symbols (False when it cannot be told)."""
    return value <= 0 if is_int(value) else bool(value.is_nonpositive)


def equality(a: Any, b: Any) -> Any:
    """a = b as a condition: a bool when both are numbers, else a sympy relation."""
    return a == b if is_int(a) and is_int(b) else sympy.Eq(a, b)


def total(values: list[Any]) -> Any:
    """The sum of counts.

    The numeric build's ints stay ints; sympy whole numbers are added as Python integers:
    sympy's Add.flatten imports sympy.tensor (about 25 ms) the first time it runs.

    >>> total([2, 3]), total([sympy.Integer(2), 3]), total([])
    (5, 5, 0)
    """
    if values and all(is_int(v) for v in values):
        return sum(values)
    if all(isinstance(v, (int, sympy.Integer)) for v in values):
        return sympy.Integer(sum(int(v) for v in values))
    return sympy.Add(*values)


def repeated_total(values: list[Any], count: Any) -> Any:
    """`count` times the sum of `values`: a block's counts, run `count` times. A count of 1
    builds no product (a block of rows, most blocks).

    >>> repeated_total([2, 3], 4), repeated_total([sympy.Integer(2)], 1)
    (20, 2)
    """
    found = total(values)
    return found if is_whole_number(count) and count == 1 else count * found


# ---------------------------------------------------------------- the two back-ends
Sink = list  # where a back-end puts the conditions an operation needs (list[Condition])
Where = Callable[[], str]  # the operation as the user wrote it, for messages


class Numbers:
    """How one build holds numbers: Python ints (`INTEGERS`) or sympy (`SYMPY`).

    Chosen once per build; the builder calls these methods and never asks which
    back-end it has. A method that cannot answer in its kind of number raises
    NeedsSympy (the numeric build then starts over); the symbolic one raises a
    SymparamsError without a position, which the builder puts at the written node.
    """

    numeric: bool = False

    def integer(self, value: int) -> Any:
        raise NotImplementedError

    def decimal(self, text: str) -> Any:
        """A decimal as written (`0.5`), exactly: a rate, never a float."""
        raise NotImplementedError

    def unknown(self, name: str) -> Any:
        """A name without a value: a free symbol."""
        raise NotImplementedError

    def arithmetic(self, op: str, left: Any, right: Any, exact: bool, conditions: Sink, where: Where) -> Any:
        """One step of `+ - * / ^`; '/' is exact division where a size goes (k/2 needs
        k even: a condition), any fraction where a rate goes."""
        raise NotImplementedError

    def whole(self, value: Any, minimum: int, label: str, conditions: Sink) -> Any:
        """`value` as a size of at least `minimum` (1, or 0 for a padding)."""
        raise NotImplementedError

    def is_rate(self, value: Any) -> bool:
        """A number from 0 to 1 (a dropout rate)."""
        raise NotImplementedError

    def count(self, value: Any) -> Any:
        """A layer formula's plain int (a bias of 0) as this build's number."""
        return value


class IntegerNumbers(Numbers):
    """Python ints and Fractions; sympy is never touched."""

    numeric = True

    def integer(self, value: int) -> Any:
        return value

    def decimal(self, text: str) -> Any:
        return whole(Fraction(text))

    def unknown(self, name: str) -> Any:
        raise NeedsSympy

    def arithmetic(self, op: str, left: Any, right: Any, exact: bool, conditions: Sink, where: Where) -> Any:
        # What needs explaining (a remainder where a size goes, a division by zero) or
        # algebra (a fractional power) is left to the symbolic build, which says it.
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

    def whole(self, value: Any, minimum: int, label: str, conditions: Sink) -> Any:
        if not is_int(value) or value < minimum:  # the symbolic build says why
            raise NeedsSympy
        return value

    def is_rate(self, value: Any) -> bool:
        return isinstance(value, (int, Fraction)) and 0 <= value <= 1


class SympyNumbers(Numbers):
    """sympy expressions in positive-integer symbols."""

    def integer(self, value: int) -> Any:
        return sympy.Integer(value)

    def decimal(self, text: str) -> Any:
        return sympy.Rational(Fraction(text))

    def unknown(self, name: str) -> Any:
        return symbol(name)

    def arithmetic(self, op: str, left: Any, right: Any, exact: bool, conditions: Sink, where: Where) -> Any:
        if op == "+":
            return left + right
        if op == "-":
            return left - right
        if op == "*":
            return left * right
        if op == "/":
            return self._quotient(left, right, exact, conditions, where)
        if op == "^":
            return self._power(left, right, where)
        raise ShapeError(f"unknown operator {op}")

    @staticmethod
    def _quotient(left: Any, right: Any, exact: bool, conditions: Sink, where: Where) -> Any:
        if right == 0:
            raise ShapeError("division by zero")
        quotient = left / right
        if not exact:
            return quotient
        if quotient.is_number and not quotient.is_integer and left.is_integer and right.is_integer:
            raise ShapeError(f"'/' is exact division, but {left}/{right} is not a whole number")
        if not quotient.is_number and left.is_integer and right.is_integer and not quotient.is_integer:
            conditions.append(divides(right, left, f"{where()} needs {left} divisible by {right}"))
        return quotient

    @staticmethod
    def _power(base: Any, exponent: Any, where: Where) -> Any:
        if exponent.is_number and exponent.is_integer and int(exponent) < 0:
            raise ShapeError("a negative exponent does not give a whole number")
        if power_too_large(base, exponent):  # decided before 2^2^2^2^2^2 is computed
            raise LimitError(f"{where()} gives a number with more digits than symparams computes")
        return base**exponent

    def whole(self, value: Any, minimum: int, label: str, conditions: Sink) -> Any:
        if value.is_number:
            if not value.is_integer:
                raise ShapeError(f"{label} must be a whole number, got {value}")
            if value < minimum:
                word = "positive" if minimum == 1 else "at least 0"
                raise ShapeError(f"{label} must be {word}, got {value}")
            return value
        if value.is_integer is False:
            conditions.append(Condition(sympy.Eq(value, sympy.floor(value)), f"{label} needs {value} whole"))
        if minimum == 1 and not value.is_positive:
            conditions.append(at_least(value, 1, f"{label} needs {value} >= 1"))
        elif minimum == 0 and not value.is_nonnegative:
            conditions.append(at_least(value, 0, f"{label} needs {value} >= 0"))
        return value

    def is_rate(self, value: Any) -> bool:
        return isinstance(value, sympy.Expr) and bool(value.is_number) and bool(0 <= value <= 1)

    def count(self, value: Any) -> Any:
        return sympy.Integer(value) if isinstance(value, int) else value


INTEGERS = IntegerNumbers()
SYMPY = SympyNumbers()


def as_text(value: Any) -> str:
    """`str(value)`, without sympy's new printer per call for a whole number or a symbol
    (the texts of a definition's rows print a parameter's value each)."""
    if isinstance(value, (int, str, Fraction, tuple)):  # the numeric build: sympy never loaded
        return str(value)
    if value.is_Integer:
        return str(int(value))
    if type(value) is sympy.Symbol:  # StrPrinter._print_Symbol prints the name
        return str(value.name)
    return str(value)


@remembered
def printed(value: Any) -> str:
    """A formula for people: sympy's text, with each floor's and ceiling's argument over
    one denominator as LaTeX prints it (`floor((h - 51)/16) + 1`, not `floor(h/16 -
    51/16) + 1`; sympy reads it back as the same value). Remembered: the rows of a long
    network repeat the same axis expressions, and sympy orders every sum's terms anew.

    >>> printed(sympy.floor(symbol("h") / 16 - sympy.Rational(51, 16)) + 1), printed(symbol("h") - 4)
    ('floor((h - 51)/16) + 1', 'h - 4')
    """
    if type(value) is int or getattr(value, "is_Atom", False):
        return as_text(value)
    if is_number(value) or not value.has(sympy.floor, sympy.ceiling):
        return str(value)
    return str(_readable_printer().doprint(value))


@cache
def _readable_printer() -> Any:
    """sympy's str printer with floors over one denominator; made on first use, as the
    numeric build must not import sympy."""

    class ReadablePrinter(sympy.printing.str.StrPrinter):  # type: ignore[misc,name-defined]
        def _print_floor(self, expr: Any) -> str:
            return f"floor({self._print(over_one_denominator(expr.args[0]))})"

        def _print_ceiling(self, expr: Any) -> str:
            return f"ceiling({self._print(over_one_denominator(expr.args[0]))})"

    return ReadablePrinter()


def over_one_denominator(arg: Expr) -> Expr:
    """sympy.together(arg), read off the coefficients when arg is what an axis gives: rational
    multiples of symbols, floors and 1 (`h/32 - 29/32` is `(h - 29)/32`). together() gets
    there through gcd_terms, at about 3 ms for each new axis a table prints.

    >>> over_one_denominator(symbol("h") / 32 - sympy.Rational(29, 32))
    (h - 29)/32
    """
    split = rational_content(arg, _axis_term) if arg.is_Add else None
    if split is None:
        return sympy.together(arg)
    content, primitive = split  # together() takes the content out too
    return arg if content == 1 else sympy.Mul(content, primitive, evaluate=False)


def _axis_term(coefficient: Expr, rest: Expr) -> bool:
    return rest is sympy.S.One or rest.is_Symbol or isinstance(rest, (sympy.floor, sympy.ceiling))
