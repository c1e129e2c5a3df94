"""Solving for an unknown: which values of a symbol give a total (params, MACs, memory,
an output axis) equal to, at most, or at least a target.

Answers hold under exact (floor) semantics and respect every condition of the network.
The search is over integers, never floats:

* On each residue class x = M·k + r, where M is the lcm of the denominators of the
  floors in x (and of the moduli of its divisibility conditions), every floor of a
  linear argument is linear in k, so the total is a polynomial P_r(k) *exactly*.
* Between consecutive real roots of P_r' (and of the conditions' polynomials) P_r is
  monotone and the conditions keep their truth, so each such piece is searched by
  exponential and binary search, evaluated exactly with Python integers.
* Totals that are not polynomial on a class (Min, Max, the unknown in a divisor) are
  scanned value by value over a bounded range, and the answer says so.

The closed form of the ideal formula (floors dropped) is given beside the answer when it
has one (degree 1 or 2): for the seeds' MNIST net, n = 8 + sqrt((N - 12906)/512).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import sympy
from sympy import Expr

from ..base.errors import SolveError
from ..base.expr import idealize, symbol
from ..modes import substitute
from ..result import Network
from .targets import label, target_expr

HOWS = ("equal", "max", "min")
MAX_CLASSES = 4096  # residue classes searched one by one; more falls back to scanning
SCAN_LIMIT = 20_000  # values scanned where the total is not a polynomial on a class
MAX_BITS = 4096  # exponential search stops past 2**MAX_BITS
UNBOUNDED: Any = float("inf")  # Piece.end: the predicate holds as far as was searched


@dataclass(frozen=True)
class Point:
    """A value of the unknown and the exact total it gives."""

    value: int
    total: int

    def as_dict(self) -> dict[str, int]:
        return {"value": self.value, "total": self.total}


@dataclass(frozen=True)
class Solution:
    """The answer to a solve query, as data.

    `values` are the inclusive ranges of every value whose total equals the target
    (`hi` None: unbounded). `below` and `above` are the nearest in total over the whole
    domain: the value whose total is the largest at most the target (of several, the
    largest value) and the one whose total is the smallest at least it (of several, the
    smallest value). `largest` is the largest value whose total is at most the target
    (the `--max` answer), `smallest` the smallest whose total is at least it (`--min`);
    for a total that rises with the unknown these are `below` and `above`, for one that
    rises and falls they differ. `peak` and `trough` are the largest and smallest totals
    (None when unbounded). Each is None when there is none. `closed_form` solves the
    ideal formula for the unknown, in the target N.
    """

    unknowns: tuple[str, ...]
    target: str
    goal: int
    how: str
    values: tuple[tuple[int, int | None], ...]
    below: Point | None
    above: Point | None
    closed_form: tuple[str, ...] = ()
    closed_value: tuple[float, ...] = ()
    reason: str = ""
    notes: tuple[str, ...] = field(default_factory=tuple)
    largest: Point | None = None
    smallest: Point | None = None
    peak: Point | None = None
    trough: Point | None = None
    below_values: tuple[tuple[int, int | None], ...] = ()  # every value with below's total
    above_values: tuple[tuple[int, int | None], ...] = ()

    @property
    def answer(self) -> Point | None:
        """The `--max` or `--min` answer; None in the default (equality) query."""
        if self.how == "max":
            return self.largest
        if self.how == "min":
            return self.smallest
        return None

    @property
    def found(self) -> bool:
        """Whether the query has an answer: for the default query, a value with the total
        exactly, or a nearest value on both sides (a total that never reaches the target,
        or is never as small, has none)."""
        if self.how == "equal":
            return bool(self.values or (self.below and self.above))
        return self.answer is not None

    def as_dict(self) -> dict[str, Any]:
        """The JSON object of `symparams solve --json`."""
        if self.how != "equal":
            point = self.answer
            return {"value": point.value if point else None, "total": point.total if point else None}
        return {
            "values": [[lo, hi] for lo, hi in self.values],
            "below": self.below.as_dict() if self.below else None,
            "above": self.above.as_dict() if self.above else None,
        }


# ---------------------------------------------------------------- exact evaluation
Number = int | Fraction
Compiled = Callable[[Mapping[sympy.Symbol, int]], Any]


class ExactCompiler:
    """Compiles a sympy expression to a function of {symbol: int} that evaluates it
    exactly with Python integers and fractions: floor is a true integer floor however
    large the numbers. Dispatch by class along the MRO (`_compile_<Class>`), as sympy's
    printers dispatch on `_print_<Class>`. A Min or Max found in `choices` is taken to
    be its argument of that index."""

    def __init__(self, choices: Mapping[sympy.Basic, int] | None = None) -> None:
        self.choices = choices or {}

    def compiled(self, expr: sympy.Basic) -> Compiled:
        if expr in self.choices:
            return self.compiled(expr.args[self.choices[expr]])
        for kind in type(expr).__mro__:
            method = getattr(self, f"_compile_{kind.__name__}", None)
            if method is not None:
                return method(expr)  # type: ignore[no-any-return]
        raise SolveError(f"cannot evaluate {type(expr).__name__} exactly in {expr}")

    def _parts(self, expr: sympy.Basic) -> list[Compiled]:
        return [self.compiled(a) for a in expr.args]

    def _compile_BooleanTrue(self, expr: sympy.Basic) -> Compiled:
        return lambda env: True

    def _compile_BooleanFalse(self, expr: sympy.Basic) -> Compiled:
        return lambda env: False

    def _compile_Integer(self, expr: sympy.Basic) -> Compiled:
        value = int(expr)
        return lambda env: value

    def _compile_Rational(self, expr: sympy.Basic) -> Compiled:
        frac = Fraction(int(expr.p), int(expr.q))
        return lambda env: frac

    def _compile_Symbol(self, expr: sympy.Basic) -> Compiled:
        return lambda env: env[expr]

    def _compile_Add(self, expr: sympy.Basic) -> Compiled:
        parts = self._parts(expr)
        return lambda env: _whole(sum(p(env) for p in parts))

    def _compile_Mul(self, expr: sympy.Basic) -> Compiled:
        parts = self._parts(expr)

        def mul(env: Mapping[sympy.Symbol, int]) -> Number:
            out: Number = 1
            for p in parts:
                out = out * p(env)
            return _whole(out)

        return mul

    def _compile_Pow(self, expr: sympy.Basic) -> Compiled:
        base, power = self._parts(expr)
        exponent = expr.exp
        if not exponent.is_Integer:
            if exponent.is_integer and exponent.is_nonnegative:  # 2^k: a whole power
                return lambda env: base(env) ** power(env)
            raise SolveError(f"cannot evaluate {expr} exactly: the exponent is not a whole number")
        e = int(exponent)
        if e >= 0:
            return lambda env: base(env) ** e
        return lambda env: _whole(Fraction(1) / Fraction(base(env)) ** (-e))

    def _compile_floor(self, expr: sympy.Basic) -> Compiled:
        (arg,) = self._parts(expr)
        return lambda env: math.floor(arg(env))

    def _compile_ceiling(self, expr: sympy.Basic) -> Compiled:
        (arg,) = self._parts(expr)
        return lambda env: math.ceil(arg(env))

    def _compile_Min(self, expr: sympy.Basic) -> Compiled:
        parts = self._parts(expr)
        return lambda env: min(p(env) for p in parts)

    def _compile_Max(self, expr: sympy.Basic) -> Compiled:
        parts = self._parts(expr)
        return lambda env: max(p(env) for p in parts)

    def _compile_Mod(self, expr: sympy.Basic) -> Compiled:
        value, divisor = self._parts(expr)
        return lambda env: _whole(value(env) % divisor(env))

    def _relation(self, expr: sympy.Basic, test: Callable[[Any, Any], bool]) -> Compiled:
        left, right = self._parts(expr)
        return lambda env: test(left(env), right(env))

    def _compile_Equality(self, expr: sympy.Basic) -> Compiled:
        return self._relation(expr, lambda a, b: a == b)

    def _compile_Unequality(self, expr: sympy.Basic) -> Compiled:
        return self._relation(expr, lambda a, b: a != b)

    def _compile_GreaterThan(self, expr: sympy.Basic) -> Compiled:
        return self._relation(expr, lambda a, b: a >= b)

    def _compile_StrictGreaterThan(self, expr: sympy.Basic) -> Compiled:
        return self._relation(expr, lambda a, b: a > b)

    def _compile_LessThan(self, expr: sympy.Basic) -> Compiled:
        return self._relation(expr, lambda a, b: a <= b)

    def _compile_StrictLessThan(self, expr: sympy.Basic) -> Compiled:
        return self._relation(expr, lambda a, b: a < b)

    def _compile_And(self, expr: sympy.Basic) -> Compiled:
        parts = self._parts(expr)
        return lambda env: all(p(env) for p in parts)

    def _compile_Or(self, expr: sympy.Basic) -> Compiled:
        parts = self._parts(expr)
        return lambda env: any(p(env) for p in parts)

    def _compile_Not(self, expr: sympy.Basic) -> Compiled:
        (arg,) = self._parts(expr)
        return lambda env: not arg(env)


def compile_exact(expr: sympy.Basic, choices: Mapping[sympy.Basic, int] | None = None) -> Compiled:
    """A function of {symbol: int} that evaluates `expr` exactly (`ExactCompiler`).

    >>> h = symbol("h")
    >>> f = compile_exact(sympy.floor((h - 5) / 2) + 1)
    >>> f({h: 28}), f({h: 10**30 + 1})
    (12, 499999999999999999999999999999)
    """
    return ExactCompiler(choices).compiled(expr)


def _whole(value: Number) -> Number:
    if isinstance(value, Fraction) and value.denominator == 1:
        return value.numerator
    return value


# ---------------------------------------------------------------- the query
@dataclass(frozen=True)
class Problem:
    """One unknown x, the exact total f(x), and the conditions x must meet."""

    x: sympy.Symbol
    total: Expr
    conditions: tuple[sympy.Basic, ...]
    lo: int
    hi: int | None

    def evaluate(self) -> Callable[[int], Number]:
        f = compile_exact(self.total)
        x = self.x
        return lambda v: f({x: v})

    def admissible(self) -> Callable[[int], bool]:
        checks = [compile_exact(c) for c in self.conditions]
        x = self.x
        return lambda v: all(check({x: v}) for check in checks)


def solve(
    net: Network,
    unknown: str | Sequence[str],
    goal: int,
    target: str = "params",
    how: str = "equal",
    values: Mapping[str, int] | None = None,
    dtype: str = "float32",
) -> Solution:
    """Values of `unknown` for which the network's `target` equals (`how="equal"`), is
    at most (`"max"`: the largest such value) or at least (`"min"`: the smallest) `goal`.

    `unknown` may name several symbols, solved together as one value (h and w of a
    square image); every other symbol the total depends on needs a value in `values`.

    >>> import symparams
    >>> net = symparams.parse("I(n,n,1)-C(32,5)-P(2)-C(32,3)-P(2)-H(256)-O(10)")
    >>> s = solve(net, "n", 1_004_138)
    >>> s.values, s.below, s.above
    (((52, 55),), Point(value=55, total=1004138), Point(value=52, total=1004138))
    >>> s.closed_form
    ('n = 8 + sqrt((N - 12906)/512)',)
    >>> solve(net, "n", 1_000_000, how="max").answer
    Point(value=51, total=832106)
    """
    if how not in HOWS:
        raise SolveError(f"unknown kind of query {how!r}: expected one of {', '.join(HOWS)}")
    if isinstance(goal, bool) or not isinstance(goal, int):
        raise SolveError(f"the target must be a whole number, got {goal!r}")
    names = (unknown,) if isinstance(unknown, str) else tuple(unknown)
    if not names:
        raise SolveError("name the symbol to solve for")
    given = dict(net.values)
    given.update(values or {})
    for name in names:
        if name in given:
            raise SolveError(f"{name} is both solved for and given a value")
    if net.mode != "exact":
        raise SolveError(
            "solve answers under exact (floor) semantics: give it the exact network (mode='exact')"
        )
    net = substitute(net, {k: v for k, v in given.items() if k not in net.values})
    problem, notes = _problem(net, names, target, dtype)
    search = Search(problem, goal)
    found = search.run()
    closed, closed_at = closed_form(problem, goal, names)
    solution = Solution(
        names,
        target,
        goal,
        how,
        found.values,
        found.below,
        found.above,
        closed,
        closed_at,
        notes=tuple(notes) + tuple(found.notes),
        largest=found.largest,
        smallest=found.smallest,
        peak=found.peak,
        trough=found.trough,
        below_values=found.below_values,
        above_values=found.above_values,
    )
    if not solution.found:
        return _with_reason(solution, search, found)
    return solution


def _problem(net: Network, names: tuple[str, ...], target: str, dtype: str) -> tuple[Problem, list[str]]:
    x = symbol(names[0])
    tie = {symbol(n): x for n in names[1:]}
    total = target_expr(net, target, dtype).subs(tie)
    present = {s.name for s in net.free_symbols} | {s.name for s in total.free_symbols}
    missing = [n for n in names if n not in present]
    if missing:
        known = ", ".join(sorted(present)) or "none"
        raise SolveError(f"the network has no symbol {missing[0]!r} (its symbols: {known})")
    if x not in total.free_symbols:
        raise SolveError(
            f"the {label(target)} does not depend on {' and '.join(names)}: it is {total} whatever its value"
        )
    others = sorted(s.name for s in total.free_symbols if s != x)
    if others:
        raise SolveError(
            f"the {label(target)} also depends on {', '.join(others)}: give "
            f"{'it' if len(others) == 1 else 'them'} a value with --subs "
            f"{','.join(o + '=...' for o in others)}"
        )
    notes = []
    conditions = []
    lo, hi = 1, None
    for cond in net.conditions:
        holds = cond.subs(tie)
        if holds is sympy.true:
            continue
        if holds is sympy.false:
            raise SolveError(f"the network's conditions cannot hold when {' = '.join(names)}: {cond}")
        if not holds.free_symbols <= {x}:
            if x in holds.free_symbols:
                notes.append(f"not checked (needs other symbols): {holds}")
            continue
        if isinstance(holds, sympy.GreaterThan) and holds.lhs == x and holds.rhs.is_Integer:
            lo = max(lo, int(holds.rhs))
        elif isinstance(holds, sympy.LessThan) and holds.lhs == x and holds.rhs.is_Integer:
            hi = int(holds.rhs) if hi is None else min(hi, int(holds.rhs))
        else:
            conditions.append(holds)
    return Problem(x, total, tuple(conditions), lo, hi), notes


def _with_reason(solution: Solution, search: Search, found: Found) -> Solution:
    from dataclasses import replace

    names = " = ".join(solution.unknowns)
    what = label(solution.target)
    goal = f"{solution.goal:,}"

    def at(point: Point | None) -> str:
        return "unbounded" if point is None else f"{point.total:,} ({names} = {point.value})"

    if search.first_admissible() is None:
        reason = f"no value of {names} meets the network's conditions"
    elif solution.how == "max" and found.unbounded_from is not None:
        reason = (
            f"there is no largest {names}: the {what} stays at most {goal} for every "
            f"{names} from {found.unbounded_from} on"
        )
    elif solution.how == "max" and found.trough is not None and found.trough.total > solution.goal:
        reason = f"the {what} is never at most {goal}: the smallest is {at(found.trough)}"
    elif solution.how == "max":
        reason = (
            f"there is no largest {names}: the {what} is at most {goal} for infinitely many "
            f"values of {names}, though not for all"
        )
    elif found.peak is not None and found.peak.total < solution.goal:
        reason = f"the {what} never reaches {goal}: the largest is {at(found.peak)}"
    elif found.trough is not None and found.trough.total > solution.goal:
        reason = f"the {what} is never as small as {goal}: the smallest is {at(found.trough)}"
    else:
        reason = f"no value of {names} gives a {what} of {goal}"
    return replace(solution, reason=reason)


@dataclass
class Found:
    """What a search finds (the fields of a Solution; see there). `unbounded_from` is
    the exact value from which every total is at most the goal, when the `--max`
    answer has no largest value because of it."""

    values: tuple[tuple[int, int | None], ...] = ()
    below: Point | None = None
    above: Point | None = None
    largest: Point | None = None
    smallest: Point | None = None
    peak: Point | None = None
    trough: Point | None = None
    unbounded_from: int | None = None
    notes: list[str] = field(default_factory=list)
    below_values: tuple[tuple[int, int | None], ...] = ()
    above_values: tuple[tuple[int, int | None], ...] = ()


# ---------------------------------------------------------------- search
class Search:
    """The integer search of one problem for one goal."""

    def __init__(self, problem: Problem, goal: int) -> None:
        self.problem = problem
        self.goal = goal
        self.f = problem.evaluate()
        self.ok = problem.admissible()
        self.notes: list[str] = []
        self._cache: dict[int, Number] = {}
        self._pieces: list[Piece] | None = None

    def total(self, v: int) -> Number:
        if v not in self._cache:
            value = self.f(v)
            self._cache[v] = value
        return self._cache[v]

    def run(self) -> Found:
        """Every answer, combined over the pieces (each monotone, so each answer on a piece
        is an end or one binary search): exact over the whole domain."""
        found = Found(notes=self.notes)
        hits: list[tuple[int, int | None, int]] = []  # (first x, last x or None, step)
        largest: tuple[int | None, Number] | None = None  # (x or None for unbounded, total)
        smallest: tuple[int, Number] | None = None
        below: tuple[Number, float, int] | None = None  # (total, x as ranked, x)
        above: tuple[Number, int] | None = None
        peak: tuple[Number, int] | None = None
        trough: tuple[Number, int] | None = None
        peak_unbounded = trough_unbounded = False
        last_bad: float = -math.inf  # the last x whose total exceeds the goal (inf: no last)
        for piece in self.pieces():
            if not piece.usable(self):
                continue
            hits.extend(piece.hits(self))
            b = piece.largest_at_most(self)
            if b is not None and (
                largest is None or largest[0] is not None and (b[0] is None or b[0] > largest[0])
            ):
                largest = b
            a = piece.smallest_at_least(self)
            if a is not None and (smallest is None or a[0] < smallest[0]):
                smallest = a
            near = piece.nearest_below(self)
            if near is not None and (below is None or near[:2] > below[:2]):
                below = near
            near_above = piece.nearest_above(self)
            if near_above is not None and (above is None or near_above < above):
                above = near_above
            ends, rising, falling = piece.extremes(self)
            peak_unbounded |= rising
            trough_unbounded |= falling
            for point in ends:
                if peak is None or (point[0], -point[1]) > (peak[0], -peak[1]):
                    peak = point
                if trough is None or point < trough:
                    trough = point
            last_bad = max(last_bad, piece.last_above(self))
        found.values = _merge(hits)
        found.below = Point(below[2], int(below[0])) if below is not None else None
        found.above = Point(above[1], int(above[0])) if above is not None else None
        found.smallest = Point(smallest[0], int(smallest[1])) if smallest is not None else None
        found.peak = Point(peak[1], int(peak[0])) if peak is not None and not peak_unbounded else None
        found.trough = (
            Point(trough[1], int(trough[0])) if trough is not None and not trough_unbounded else None
        )
        if found.below is not None:
            found.below_values = self.values_of(found.below.total)
        if found.above is not None:
            found.above_values = self.values_of(found.above.total)
        if below is not None and below[1] == math.inf:  # infinitely many: where their run starts
            found.below = Point(found.below_values[-1][0], int(below[0]))
        if largest is not None and largest[0] is None:
            if last_bad < math.inf:
                first = self.first_admissible()
                first = first if first is not None else self.problem.lo
                found.unbounded_from = first if last_bad == -math.inf else max(int(last_bad) + 1, first)
            where = (
                f"every large enough {self.problem.x} has"
                if found.unbounded_from is None
                else f"every {self.problem.x} from {found.unbounded_from} on has"
            )
            self.notes.append(f"{where} a total at most {self.goal:,}: there is no largest")
        elif largest is not None and largest[0] is not None:
            found.largest = Point(largest[0], int(largest[1]))
        return found

    def values_of(self, total: int) -> tuple[tuple[int, int | None], ...]:
        """Every value whose total is `total`, as ranges (the pieces do not depend on the goal)."""
        saved, self.goal = self.goal, total
        try:
            return _merge([hit for piece in self.pieces() if piece.usable(self) for hit in piece.hits(self)])
        finally:
            self.goal = saved

    def pieces(self) -> list[Piece]:
        if self._pieces is None:
            self._pieces = list(self._make_pieces())
        return self._pieces

    def _make_pieces(self) -> Iterator[Piece]:
        p = self.problem
        classes = residue_classes(p)
        if classes is not None:
            yield from self._class_pieces(p, classes)
            return
        tail = eventual_form(p)
        if tail is not None:
            last, rest = tail
            rest_classes = residue_classes(rest)
            if rest_classes is not None and last - p.lo < SCAN_LIMIT:
                for v in range(p.lo, last + 1 if p.hi is None else min(last, p.hi) + 1):
                    yield Piece(1, 0, v, v)
                yield from self._class_pieces(rest, rest_classes)
                return
        yield from self.scanned_pieces()

    def _class_pieces(
        self, p: Problem, classes: tuple[int, list[tuple[int, list[Coefficients]]]]
    ) -> Iterator[Piece]:
        modulus, polys = classes
        for residue, cut_polys in polys:
            k_lo = -((residue - p.lo) // modulus)  # ceil((lo - r)/M)
            k_hi = None if p.hi is None else (p.hi - residue) // modulus
            if k_hi is not None and k_hi < k_lo:
                continue
            cuts = {k_lo} | ({k_hi} if k_hi is not None else set())
            for q in cut_polys:
                for k in _root_cuts(q):
                    if k >= k_lo and (k_hi is None or k <= k_hi):
                        cuts.add(k)
            ordered = sorted(cuts)
            for i, a in enumerate(ordered):
                yield Piece(modulus, residue, a, a)
                nxt = ordered[i + 1] if i + 1 < len(ordered) else None
                if nxt is not None and nxt - a > 1:
                    yield Piece(modulus, residue, a + 1, nxt - 1)
                elif nxt is None and k_hi is None:
                    yield Piece(modulus, residue, a + 1, None)

    def scanned_pieces(self) -> Iterator[Piece]:
        p = self.problem
        last = p.lo + SCAN_LIMIT - 1 if p.hi is None else min(p.hi, p.lo + SCAN_LIMIT - 1)
        if p.hi is None or p.hi > last:
            self.notes.append(
                f"the total is not a polynomial in {p.x} on residue classes: "
                f"values from {p.lo} to {last} were checked one by one"
            )
        for v in range(p.lo, last + 1):
            yield Piece(1, 0, v, v)

    def first_admissible(self) -> int | None:
        firsts = [x for x in (piece.first_x(self) for piece in self.pieces()) if x is not None]
        return min(firsts, default=None)


def eventual_form(p: Problem) -> tuple[int, Problem] | None:
    """Where the unknown divides a constant (a stride s in floor(29/s)), every such floor
    is constant once its divisor exceeds the constant: the last value before that, and
    the problem from there on, or None."""
    x = p.x
    last = p.lo - 1
    fixed: dict[sympy.Basic, sympy.Basic] = {}
    for expr in (p.total, *p.conditions):
        for rounded in expr.atoms(sympy.floor, sympy.ceiling):
            num, den = sympy.fraction(sympy.together(rounded.args[0]))
            if x not in den.free_symbols:
                continue
            if not num.is_Integer or not den.is_polynomial(x):
                return None
            poly = sympy.Poly(den, x)
            if poly.degree() != 1:
                return None
            a, b = poly.all_coeffs()
            if not (a.is_Integer and b.is_Integer) or a <= 0:
                return None
            # den > |num| from x = (|num| - b) // a + 1 on: the quotient is in (-1, 1)
            last = max(last, (abs(int(num)) - int(b)) // int(a))
            if isinstance(rounded, sympy.floor):
                fixed[rounded] = sympy.Integer(0 if num >= 0 else -1)
            else:
                fixed[rounded] = sympy.Integer(1 if num > 0 else 0)
    if not fixed:
        return None
    conditions = []
    for cond in p.conditions:
        holds = cond.xreplace(fixed)
        if holds is sympy.false:
            return None
        if holds is not sympy.true:
            conditions.append(holds)
    rest = Problem(x, p.total.xreplace(fixed), tuple(conditions), max(p.lo, last + 1), p.hi)
    if rest.hi is not None and rest.lo > rest.hi:
        return None
    return last, rest


Coefficients = tuple[Fraction, ...]  # a polynomial in k, constant term first


MAX_CHOICES = 64  # combinations of Min/Max arguments followed one by one


def residue_classes(p: Problem) -> tuple[int, list[tuple[int, list[Coefficients]]]] | None:
    """The modulus M and, for every residue r whose divisibility conditions hold, the
    polynomials in k (x = M·k + r) whose real roots cut the class into pieces where the
    total is monotone and every condition keeps its truth; None when the total is not
    piecewise polynomial on the classes.

    On a class every floor of a linear argument is linear in k, so the total is a
    polynomial of at most the ideal formula's degree: it is interpolated from exact
    values at that many points plus one, and checked at one more. A Min or Max (PyTorch's
    ceil-mode pooling) picks one argument between the roots of their differences: the
    total is then a polynomial for each choice of arguments, and every such polynomial's
    turning points are cuts.
    """
    x = p.x
    modulus = 1
    choices: list[sympy.Basic] = []
    for expr in (p.total, *p.conditions):
        for picked in expr.atoms(sympy.Min, sympy.Max):
            if picked not in choices:
                choices.append(picked)
        for rounded in expr.atoms(sympy.floor, sympy.ceiling, sympy.Mod):
            if isinstance(rounded, sympy.Mod):
                if not rounded.args[1].is_Integer:
                    return None
                modulus = math.lcm(modulus, int(rounded.args[1]))
                continue
            period = _period(rounded)
            if period is None:
                return None
            modulus = math.lcm(modulus, period)
        if modulus > MAX_CLASSES:
            return None
    combos = list(itertools.product(*[range(len(c.args)) for c in choices]))
    if len(combos) > MAX_CHOICES:
        return None
    # Divisibility conditions are constant on a class; the others change truth at roots.
    divisibility = [
        c for c in p.conditions if c.has(sympy.Mod) or not isinstance(c, sympy.core.relational.Relational)
    ]
    checks = [compile_exact(c) for c in divisibility]
    cut_fns = []  # functions (M, r) -> a polynomial whose roots are cuts
    for combo in combos:
        chosen = dict(zip(choices, combo))
        for picked in choices:  # where a Min/Max changes its argument, under these choices
            for i, j in itertools.combinations(range(len(picked.args)), 2):
                cut_fns.append(_class_polynomial(picked.args[i] - picked.args[j], x, chosen))
        total = _class_polynomial(p.total, x, chosen)
        cut_fns.append(None if total is None else _derivative_of(total))
        for cond in p.conditions:
            if cond not in divisibility:
                cut_fns.append(_class_polynomial(cond.lhs - cond.rhs, x, chosen))
    if any(fn is None for fn in cut_fns):
        return None
    classes = []
    for r in range(modulus):
        representative = {x: r + modulus}
        if not all(check(representative) for check in checks):
            continue
        polys = [fn(modulus, r) for fn in cut_fns if fn is not None]
        if any(q is None for q in polys):
            return None
        classes.append((r, [q for q in polys if q is not None]))
    return modulus, classes


def _period(rounded: sympy.Basic) -> int | None:
    """A modulus M such that the floor (or ceil) is linear in k on every class M·k + r:
    its divisor times the periods of the floors nested in its argument (a floor that the
    builder could not fold, as under a ceil-mode pool's Min)."""
    inner = rounded.args[0].replace(sympy.Min, lambda *a: a[0]).replace(sympy.Max, lambda *a: a[0])
    _, den = sympy.fraction(sympy.together(inner))
    if not den.is_Integer:
        return None
    below = 1
    for nested in rounded.args[0].atoms(sympy.floor, sympy.ceiling):
        inner_period = _period(nested)
        if inner_period is None:
            return None
        below = math.lcm(below, inner_period)
    return abs(int(den)) * below


def _derivative_of(
    fn: Callable[[int, int], Coefficients | None],
) -> Callable[[int, int], Coefficients | None]:
    def derivative(modulus: int, residue: int) -> Coefficients | None:
        coeffs = fn(modulus, residue)
        return None if coeffs is None else _derivative(coeffs)

    return derivative


def _class_polynomial(
    expr: Expr, x: sympy.Symbol, choices: Mapping[sympy.Basic, int] | None = None
) -> Callable[[int, int], Coefficients | None] | None:
    """A function (M, r) -> the coefficients of expr(M·k + r) in k (each Min or Max
    taken as its argument in `choices`), or None when that is not a polynomial of the
    ideal formula's degree."""
    first = expr.replace(sympy.Min, lambda *a: a[0]).replace(sympy.Max, lambda *a: a[0])
    ideal = sympy.expand(idealize(first))
    if not ideal.is_polynomial(x):
        return None
    degree = sympy.Poly(ideal, x).degree() if ideal.has(x) else 0
    f = compile_exact(expr, choices)

    def on_class(modulus: int, residue: int) -> Coefficients | None:
        ks = list(range(1, degree + 3))
        values = [Fraction(f({x: modulus * k + residue})) for k in ks]
        coeffs = _interpolate(ks[:-1], values[:-1])
        if _poly_at(coeffs, ks[-1]) != values[-1]:
            return None
        return coeffs

    return on_class


def _interpolate(ks: list[int], values: list[Fraction]) -> Coefficients:
    """Coefficients (constant first) of the polynomial through (k, value): Newton's
    divided differences, expanded."""
    n = len(ks)
    table = list(values)
    newton = [table[0]]
    for level in range(1, n):
        table = [(table[i + 1] - table[i]) / (ks[i + level] - ks[i]) for i in range(n - level)]
        newton.append(table[0])
    coeffs = [Fraction(0)] * n
    basis = [Fraction(1)]  # ∏ (k - ks[j]) so far, constant first
    for level, weight in enumerate(newton):
        for i, b in enumerate(basis):
            coeffs[i] += weight * b
        if level < n - 1:
            shifted = [Fraction(0)] + basis
            for i, b in enumerate(basis):
                shifted[i] -= ks[level] * b
            basis = shifted
    while len(coeffs) > 1 and coeffs[-1] == 0:
        coeffs.pop()
    return tuple(coeffs)


def _poly_at(coeffs: Coefficients, k: int) -> Fraction:
    value = Fraction(0)
    for c in reversed(coeffs):
        value = value * k + c
    return value


def _derivative(coeffs: Coefficients) -> Coefficients:
    return tuple(i * c for i, c in enumerate(coeffs))[1:] or (Fraction(0),)


def _root_cuts(coeffs: Coefficients) -> list[int]:
    """Integers around every real root of a polynomial: every root r lies between two
    returned integers at most one apart (floor(r) and ceil(r) at least)."""
    degree = len(coeffs) - 1
    if degree <= 0:
        return []
    if degree == 1:
        root = -coeffs[0] / coeffs[1]
        return [math.floor(root), math.ceil(root)]
    k = sympy.Symbol("k")
    poly = sympy.Poly([sympy.Rational(c.numerator, c.denominator) for c in reversed(coeffs)], k)
    cuts: list[int] = []
    for (a, b), _ in poly.intervals(eps=sympy.Rational(1, 2)):
        cuts += range(math.floor(_frac(a)), math.ceil(_frac(b)) + 1)
    return cuts


@dataclass(frozen=True)
class Piece:
    """x = modulus·k + residue for k from k_lo to k_hi (None: no end), where the total is
    monotone in k and every condition has one truth value."""

    modulus: int
    residue: int
    k_lo: int
    k_hi: int | None

    def x(self, k: int) -> int:
        return self.modulus * k + self.residue

    def first_x(self, s: Search) -> int | None:
        if self.x(self.k_lo) < 1 or not s.ok(self.x(self.k_lo)):
            return None
        return self.x(self.k_lo)

    def usable(self, s: Search) -> bool:
        return self.first_x(s) is not None

    def value(self, s: Search, k: int) -> Number:
        return s.total(self.x(k))

    def increasing(self, s: Search) -> bool | None:
        """True, False, or None when constant (on the piece's first two points)."""
        if self.k_hi == self.k_lo:
            return None
        a, b = self.value(s, self.k_lo), self.value(s, self.k_lo + 1)
        return None if a == b else b > a

    def end(self, s: Search, predicate: Callable[[Number], bool]) -> int | None:
        """The last k of the piece where `predicate` holds, for a predicate that holds on a
        prefix of the piece: None when it holds nowhere, UNBOUNDED when it still holds
        at every point probed up to 2**MAX_BITS on a piece without end."""
        lo = self.k_lo
        if not predicate(self.value(s, lo)):
            return None
        if self.k_hi is None:  # exponential search for a k where it fails
            step = 1
            while predicate(self.value(s, lo + step)):
                lo += step
                step *= 2
                if step.bit_length() > MAX_BITS:
                    return UNBOUNDED
            hi = lo + step
        else:
            hi = self.k_hi
            if predicate(self.value(s, hi)):
                return hi
        while hi - lo > 1:  # predicate holds at lo, fails at hi
            mid = (lo + hi) // 2
            if predicate(self.value(s, mid)):
                lo = mid
            else:
                hi = mid
        return lo

    def last_value(self, s: Search) -> Number | None:
        return None if self.k_hi is None else self.value(s, self.k_hi)

    def nearest_below(self, s: Search) -> tuple[Number, float, int] | None:
        """(total, rank, x) of the point whose total is the largest at most the goal (of
        equal totals the largest x, ranked infinite on a constant piece without end)."""
        goal = s.goal
        direction = self.increasing(s)
        if direction is None:
            if self.value(s, self.k_lo) > goal:
                return None
            x = self.x(self.k_lo if self.k_hi is None else self.k_hi)
            return (self.value(s, self.k_lo), math.inf if self.k_hi is None else x, x)
        if direction:
            k = self.end(s, lambda t: t <= goal)
            if k is None or k is UNBOUNDED:
                return None
        else:
            k = self.end(s, lambda t: t > goal)
            k = self.k_lo if k is None else k + 1
            if k is UNBOUNDED or (self.k_hi is not None and k > self.k_hi):
                return None
        return (self.value(s, k), self.x(k), self.x(k))

    def nearest_above(self, s: Search) -> tuple[Number, int] | None:
        """(total, x) of the point whose total is the smallest at least the goal (of equal
        totals the smallest x)."""
        goal = s.goal
        direction = self.increasing(s)
        if direction is None:
            return (self.value(s, self.k_lo), self.x(self.k_lo)) if self.value(s, self.k_lo) >= goal else None
        if direction:
            k = self.end(s, lambda t: t < goal)
            k = self.k_lo if k is None else k + 1
            if k is UNBOUNDED or (self.k_hi is not None and k > self.k_hi):
                return None
        else:
            k = self.end(s, lambda t: t >= goal)
            if k is None or k is UNBOUNDED:
                return None
        return (self.value(s, k), self.x(k))

    def extremes(self, s: Search) -> tuple[list[tuple[Number, int]], bool, bool]:
        """The (total, x) at the piece's ends, and whether it rises or falls without end."""
        first = (self.value(s, self.k_lo), self.x(self.k_lo))
        if self.k_hi is not None:
            return [first, (self.value(s, self.k_hi), self.x(self.k_hi))], False, False
        direction = self.increasing(s)
        return [first], direction is True, direction is False

    def last_above(self, s: Search) -> float:
        """The last x whose total exceeds the goal: -inf when none, inf when no last."""
        goal = s.goal
        direction = self.increasing(s)
        if direction is None:
            if self.value(s, self.k_lo) <= goal:
                return -math.inf
            return math.inf if self.k_hi is None else self.x(self.k_hi)
        if direction:
            if self.k_hi is None:
                return math.inf
            return self.x(self.k_hi) if self.value(s, self.k_hi) > goal else -math.inf
        k = self.end(s, lambda t: t > goal)
        if k is None:
            return -math.inf
        return math.inf if k is UNBOUNDED else self.x(k)

    def hits(self, s: Search) -> list[tuple[int, int | None, int]]:
        if not self.usable(s):
            return []
        goal = s.goal
        direction = self.increasing(s)
        if direction is None:  # constant on the piece (or a single point)
            if self.value(s, self.k_lo) != goal:
                return []
            last = None if self.k_hi is None else self.x(self.k_hi)
            return [(self.x(self.k_lo), last, self.modulus)]
        k = self.end(s, (lambda t: t < goal) if direction else (lambda t: t > goal))
        if k is UNBOUNDED:
            return []
        k = self.k_lo if k is None else k + 1
        if self.k_hi is not None and k > self.k_hi:
            return []
        if self.value(s, k) == goal:
            return [(self.x(k), self.x(k), self.modulus)]
        return []

    def largest_at_most(self, s: Search) -> tuple[int | None, Number] | None:
        """The last point whose total is at most the goal; (None, total) when there is no
        last one (the piece has no end and stays within the goal)."""
        if not self.usable(s):
            return None
        goal = s.goal
        if not self.increasing(s):  # decreasing or constant: the last point is the least
            if self.k_hi is None:
                if self.increasing(s) is None and self.value(s, self.k_lo) > goal:
                    return None
                return (None, self.value(s, self.k_lo))
            if self.value(s, self.k_hi) <= goal:
                return (self.x(self.k_hi), self.value(s, self.k_hi))
            return None
        k = self.end(s, lambda t: t <= goal)
        if k is None:
            return None
        if k is UNBOUNDED:
            return (None, self.value(s, self.k_lo))
        return (self.x(k), self.value(s, k))

    def smallest_at_least(self, s: Search) -> tuple[int, Number] | None:
        if not self.usable(s):
            return None
        goal = s.goal
        if self.value(s, self.k_lo) >= goal:
            return (self.x(self.k_lo), self.value(s, self.k_lo))
        if not self.increasing(s):
            return None
        k = self.end(s, lambda t: t < goal)
        if k is None or k is UNBOUNDED or (self.k_hi is not None and k >= self.k_hi):
            return None
        return (self.x(k + 1), self.value(s, k + 1))


def _merge(hits: list[tuple[int, int | None, int]]) -> tuple[tuple[int, int | None], ...]:
    """Inclusive ranges of every hit value; a run with step > 1 (a residue class that
    stays at the goal) counts only where the classes fill the range."""
    finite: set[int] = set()
    tails: list[tuple[int, int]] = []
    for lo, hi, step in hits:
        if hi is None:
            tails.append((lo, step))
            continue
        if (hi - lo) // step > 1_000_000:
            raise SolveError(f"too many values to list: every {step}th value from {lo} to {hi}")
        finite.update(range(lo, hi + 1, step))
    unbounded_from = None
    if tails:
        steps = {step for _, step in tails}
        step = steps.pop() if len(steps) == 1 else 0
        if step and len(tails) == step:  # every class stays at the goal: one open range
            # values of the classes before the last class starts are finite hits
            start = max(lo for lo, _ in tails)
            for lo, _ in tails:
                finite.update(range(lo, start, step))
            unbounded_from = start
            while unbounded_from - 1 in finite:
                unbounded_from -= 1
        else:
            first = ", ".join(f"every {s}th value from {lo}" for lo, s in sorted(tails))
            raise SolveError(f"infinitely many values give the target: {first}")
    ranges: list[tuple[int, int | None]] = []
    for v in sorted(finite):
        if unbounded_from is not None and v >= unbounded_from:
            break
        if ranges and ranges[-1][1] == v - 1:
            ranges[-1] = (ranges[-1][0], v)
        else:
            ranges.append((v, v))
    if unbounded_from is not None:
        ranges.append((unbounded_from, None))
    return tuple(ranges)


# ---------------------------------------------------------------- closed form
def closed_form(
    problem: Problem, goal: int, names: tuple[str, ...]
) -> tuple[tuple[str, ...], tuple[float, ...]]:
    """The ideal formula solved for the unknown, in N (the target), when it is of
    degree 1 or 2: ('n = 8 + sqrt((N - 12906)/512)',) and its value at the goal."""
    x = problem.x
    ideal = idealize(problem.total)
    if ideal.has(sympy.Min, sympy.Max, sympy.Mod) or not ideal.is_polynomial(x):
        return (), ()
    poly = sympy.Poly(sympy.expand(ideal), x)
    if poly.degree() not in (1, 2):
        return (), ()
    lhs = " = ".join(names)
    n = sympy.Symbol("N")
    if poly.degree() == 1:
        a, b = (_frac(v) for v in poly.all_coeffs())
        if a.denominator == 1 and b.denominator == 1:
            inner = "N" if b == 0 else f"N - {b}" if b > 0 else f"N + {-b}"
            text = f"{lhs} = {inner}" if a == 1 else f"{lhs} = ({inner})/{a}" if b else f"{lhs} = N/{a}"
        else:
            text = f"{lhs} = {sympy.expand((n - _rational(b)) / _rational(a))}"
        return (text,), (float((goal - b) / a),)
    a, b, c = (_frac(v) for v in poly.all_coeffs())
    # a(x - p)² + q = N  →  x = p ± sqrt((N - q)/a)
    p = -b / (2 * a)
    q = c - b * b / (4 * a)
    forms, at_goal = [], []
    for sign in (1, -1):
        under = (goal - q) / a
        if under < 0:
            continue
        value = float(p) + sign * math.sqrt(under)
        if value < problem.lo - 1:
            continue
        inner = "N" if q == 0 else f"N - {_fmt(q)}" if q > 0 else f"N + {_fmt(-q)}"
        root = f"sqrt({inner})" if a == 1 else f"sqrt(({inner})/{_fmt(a, paren=True)})"
        if p == 0:
            text = f"{lhs} = {'' if sign > 0 else '-'}{root}"
        else:
            text = f"{lhs} = {_fmt(p)} {'+' if sign > 0 else '-'} {root}"
        forms.append(text)
        at_goal.append(value)
    return tuple(forms), tuple(at_goal)


def _frac(v: Any) -> Fraction:
    v = sympy.Rational(v)
    return Fraction(int(v.p), int(v.q))


def _rational(v: Fraction) -> sympy.Rational:
    return sympy.Rational(v.numerator, v.denominator)


def _fmt(v: Fraction, paren: bool = False) -> str:
    if v.denominator == 1:
        return str(v.numerator)
    return f"({v.numerator}/{v.denominator})" if paren else f"{v.numerator}/{v.denominator}"
