"""Numbers that stay Python integers until a symbol appears.

A fully numeric network (LeNet, ResNet-50, LLaMA-2-70B with every size written) needs no
algebra, and importing sympy is most of a command's start-up time. So the command line
first builds a network in Python integers, with sympy imported lazily (below) and never
touched; anything beyond whole-number arithmetic (a symbol, a fraction where a size
goes, an error to explain) raises `NeedsSympy`, and the builder starts over with sympy,
which gives the same answer by the same layer formulas. The helpers here take either
kind of value: Python ints (the numeric build) or sympy expressions (the symbolic one).
"""

from __future__ import annotations

import importlib.util
import sys
from fractions import Fraction
from types import ModuleType
from typing import TYPE_CHECKING, Any


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
    return bool((sympy.simplify(difference) if simplify else sympy.expand(difference)) == 0)


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
