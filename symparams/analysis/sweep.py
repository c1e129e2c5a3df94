"""Sweeps: totals over a grid of symbol values, from one compiled formula.

Each total is compiled once into a numpy-vectorized function (sympy's lambdify with a
printer of our own) and evaluated on the whole grid at once. Floors stay exact: every
floor(a/b) is printed as the integer floor division `num // den` of its integer
numerator and denominator, never as a float floor, and the grid is held in int64 only
where a bound on every intermediate value says it fits; otherwise in Python integers
(numpy object arrays), which are exact at any size.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import sympy
from sympy.printing.numpy import NumPyPrinter

from ..base.errors import SweepError
from ..base.expr import symbol
from ..modes import substitute
from ..result import Network, dtype_bytes
from .targets import target_total

MAX_POINTS = 10_000_000  # a larger grid is refused
INT64_SAFE = 2**62  # intermediate values below this bound are computed in int64
_RANGE = re.compile(r"\s*(-?[0-9_]+)\s*(?:\.\.\s*(-?[0-9_]+)\s*(?::\s*([0-9_]+))?)?\s*\Z")


@dataclass(frozen=True)
class Sweep:
    """Totals over a grid: `grid[name]` and `totals[target]` are arrays of one shape,
    one axis per varied symbol (in the order given); `valid` is False where a condition
    of the network fails (a total there is what the formula gives, not a real network).
    """

    names: tuple[str, ...]
    axes: tuple[np.ndarray, ...]
    grid: Mapping[str, np.ndarray]
    totals: Mapping[str, np.ndarray]
    valid: np.ndarray

    def rows(self) -> Iterable[tuple[Any, ...]]:
        """One tuple per grid point: the symbol values, then each total (None where a
        condition fails)."""
        flat = [self.grid[n].ravel() for n in self.names]
        totals = [self.totals[t].ravel() for t in self.totals]
        ok = self.valid.ravel()
        for i in range(ok.size):
            yield tuple(_scalar(a[i]) for a in flat) + tuple(_scalar(t[i]) if ok[i] else None for t in totals)


def _scalar(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def parse_values(text: str) -> list[int]:
    """`32..512:32` (inclusive, with a step), `16,32,64`, `1..4,8` or `28`.

    >>> parse_values("32..128:32"), parse_values("16,32,64"), parse_values("1..3,8")
    ([32, 64, 96, 128], [16, 32, 64], [1, 2, 3, 8])
    """
    values: list[int] = []
    for part in text.split(","):
        match = _RANGE.match(part)
        if not match or not part.strip():
            raise SweepError(f"cannot read the values {text!r}: expected 32..512:32, 16,32,64 or 28")
        first, last, step = (int(g.replace("_", "")) if g else None for g in match.groups())
        assert first is not None
        if last is None:
            values.append(first)
            continue
        step = 1 if step is None else step
        if step < 1 or last < first:
            raise SweepError(
                f"the range {part.strip()!r} is empty: write first..last:step with first <= last"
            )
        if (last - first) // step + 1 + len(values) > MAX_POINTS:
            raise SweepError(f"the range {part.strip()!r} has more than {MAX_POINTS:,} values")
        values.extend(range(first, last + 1, step))
    return values


def parse_vary(items: Sequence[str]) -> dict[str, list[int]]:
    """`--vary h=32..512:32 --vary k=16,32,64` to {'h': [...], 'k': [16, 32, 64]}."""
    vary: dict[str, list[int]] = {}
    for item in items:
        name, sep, values = item.partition("=")
        name = name.strip()
        if not sep or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            raise SweepError(f"--vary expects NAME=VALUES such as h=32..512:32; got {item!r}")
        if name in vary:
            raise SweepError(f"{name} is varied twice")
        vary[name] = parse_values(values)
    return vary


class IntegerPrinter(NumPyPrinter):
    """numpy code whose floors are integer floor divisions (exact on int64 and Python
    integers), with elementwise Min and Max."""

    def _print_floor(self, expr: sympy.floor) -> str:
        num, den = sympy.fraction(sympy.together(expr.args[0]))
        return f"(({self._print(num)}) // ({self._print(den)}))"

    def _print_ceiling(self, expr: sympy.ceiling) -> str:
        num, den = sympy.fraction(sympy.together(expr.args[0]))
        return f"(-((-({self._print(num)})) // ({self._print(den)})))"

    def _print_Min(self, expr: sympy.Min) -> str:
        return self._fold("numpy.minimum", expr.args)

    def _print_Max(self, expr: sympy.Max) -> str:
        return self._fold("numpy.maximum", expr.args)

    def _fold(self, fn: str, args: Sequence[sympy.Basic]) -> str:
        out = self._print(args[0])
        for arg in args[1:]:
            out = f"{fn}({out}, {self._print(arg)})"
        return out


def compile_numpy(
    expr: sympy.Basic, symbols: Sequence[sympy.Symbol], exact: bool = True
) -> Callable[..., Any]:
    """A numpy-vectorized function of `symbols` computing `expr`.

    With `exact`, a whole-number expression with fractions outside its floors
    (n*c/g) is computed as an integer division of its numerator by its denominator;
    otherwise (ideal mode) as a true division.

    >>> h = symbol("h")
    >>> f = compile_numpy(sympy.floor((h - 5) / 2) + 1, [h])
    >>> f(np.array([28, 29, 10**17 + 1], dtype=np.int64)).tolist()
    [12, 13, 49999999999999999]
    """
    if isinstance(expr, sympy.Expr) and not expr.is_number:
        num, den = sympy.fraction(sympy.together(expr))
        if den != 1:
            expr = sympy.floor(num / den, evaluate=False) if exact else num / den
    return sympy.lambdify(list(symbols), expr, modules="numpy", printer=IntegerPrinter)


def _majorant(expr: sympy.Basic) -> sympy.Basic | None:
    """An expression at least the absolute value of every intermediate value of `expr`
    when its symbols are at their largest absolute values; None when unknown."""
    if expr.is_Number:
        return abs(expr)
    if expr.is_Symbol:
        return expr
    if isinstance(expr, (sympy.floor, sympy.ceiling)):
        num, _den = sympy.fraction(sympy.together(expr.args[0]))
        inner = _majorant(num)
        return None if inner is None else inner + 1
    if isinstance(expr, (sympy.Add, sympy.Mul, sympy.Min, sympy.Max)):
        parts = [_majorant(a) for a in expr.args]
        if any(p is None for p in parts):
            return None
        return sympy.Mul(*parts) if isinstance(expr, sympy.Mul) else sympy.Add(*parts)
    if isinstance(expr, sympy.Pow) and expr.exp.is_Integer and expr.exp > 0:
        base = _majorant(expr.base)
        return None if base is None else base**expr.exp
    if isinstance(expr, sympy.Mod):  # x % m computes x first
        parts = [_majorant(a) for a in expr.args]
        return None if any(p is None for p in parts) else sympy.Add(*parts)
    return None


def _fits_int64(exprs: Sequence[sympy.Basic], largest: Mapping[sympy.Symbol, int]) -> bool:
    from .solve import compile_exact

    for expr in exprs:
        if not isinstance(expr, sympy.Basic) or expr.is_number:
            continue
        if isinstance(expr, sympy.core.relational.Relational):
            # A condition (h >= 12): numpy computes both sides, so each must fit.
            if not _fits_int64([expr.lhs, expr.rhs], largest):
                return False
            continue
        num, _ = sympy.fraction(sympy.together(expr)) if isinstance(expr, sympy.Expr) else (expr, 1)
        bound = _majorant(num)
        if bound is None:
            return False
        value = compile_exact(bound)({s: largest.get(s, 1) for s in bound.free_symbols})
        if abs(value) >= INT64_SAFE:
            return False
    return True


def sweep(
    net: Network,
    vary: Mapping[str, Iterable[int]],
    targets: Sequence[str] = ("params",),
    values: Mapping[str, int] | None = None,
    dtype: str = "float32",
) -> Sweep:
    """Totals of `net` over the grid of `vary` (every combination), as numpy arrays.

    Every other symbol the totals depend on needs a value in `values`.

    >>> import symparams
    >>> net = symparams.parse("I(n,n,1)-C(32,5)-P(2)-C(32,3)-P(2)-H(256)-O(10)")
    >>> s = sweep(net, {"n": [28, 52, 55, 56]})
    >>> s.totals["params"].tolist(), s.valid.tolist()
    ([217706, 1004138, 1004138, 1192554], [True, True, True, True])
    """
    dtype_bytes(dtype)
    names = tuple(vary)
    if not names:
        raise SweepError("name at least one symbol to vary, as {'h': range(32, 513, 32)}")
    axes = tuple(np.array(list(vary[n]), dtype=object) for n in names)
    for name, axis in zip(names, axes):
        if axis.size == 0:
            raise SweepError(f"no values given for {name}")
        if any(isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1 for v in axis):
            raise SweepError(f"the values of {name} must be positive whole numbers")
    points = 1
    for axis in axes:
        points *= axis.size
    if points > MAX_POINTS:
        raise SweepError(f"the grid has {points:,} points, more than {MAX_POINTS:,}")
    given = {k: v for k, v in (values or {}).items() if k not in vary}
    net = substitute(net, given)
    exact = net.mode == "exact"
    symbols = [symbol(n) for n in names]
    exprs = {t: target_total(net, t, dtype) for t in targets}
    conditions = [c for c in net.conditions if c.free_symbols <= set(symbols)]
    present = set().union(*(e.free_symbols for e in exprs.values()))
    missing = sorted(s.name for s in present - set(symbols))
    if missing:
        raise SweepError(missing_text(missing), missing=missing)
    largest = {s: int(max(abs(int(v)) for v in axis)) for s, axis in zip(symbols, axes)}
    kind: Any = np.int64 if _fits_int64(list(exprs.values()) + conditions, largest) else object
    # A sparse grid: each axis keeps its own dimension and numpy broadcasts, so a term in
    # one symbol (floor(h/4) - 2) is computed once per value of it, not once per point;
    # only the products and sums that mix symbols take the grid's full size.
    mesh = np.meshgrid(*[axis.astype(kind) for axis in axes], indexing="ij", sparse=True)
    shape = tuple(axis.size for axis in axes)
    totals = {t: _evaluate(compile_numpy(e, symbols, exact), mesh, shape) for t, e in exprs.items()}
    valid = np.ones(shape, dtype=bool)
    for cond in conditions:
        valid &= np.broadcast_to(np.asarray(compile_numpy(cond, symbols, exact)(*mesh), dtype=bool), shape)
    grid = {n: np.broadcast_to(m, shape) for n, m in zip(names, mesh)}  # read-only full-shape views
    return Sweep(names, axes, grid, totals, valid)


def missing_text(
    missing: Sequence[str], flag: bool = False, what: str = "the totals", vary: bool = True
) -> str:
    """What to do about symbols without values, in Python's words (`values={...}`) or the
    command line's (`--subs`)."""
    them = "it" if len(missing) == 1 else "them"
    if flag:
        how = "--subs " + ",".join(f"{name}=..." for name in missing)
    else:
        how = "values={" + ", ".join(f'"{name}": ...' for name in missing) + "}"
    if not vary:
        return f"{what} depend on {', '.join(missing)}: give {them} a value with {how}"
    return f"{what} also depend on {', '.join(missing)}: vary {them} or give {them} a value with {how}"


def _evaluate(fn: Callable[..., Any], mesh: Sequence[np.ndarray], shape: tuple[int, ...]) -> np.ndarray:
    out = np.asarray(fn(*mesh))
    return out if out.shape == shape else np.broadcast_to(out, shape).copy()


def per_point(
    net: Network, names: Sequence[str], point: Sequence[int], target: str = "params", dtype: str = "float32"
) -> Any:
    """One total at one point, by substitution (what the sweep must equal)."""
    expr = sympy.sympify(target_total(net, target, dtype), strict=True)
    return expr.subs({symbol(n): v for n, v in zip(names, point)})
