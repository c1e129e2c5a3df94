"""Every sympy symbol symparams uses is made here: positive integers, one per name.

Declaring them positive integers lets sympy simplify floor((x-5)/1)+1 to x-4 by
itself, and makes `I(n,n,3)` one symbol used twice.
"""

from __future__ import annotations

from functools import cache

from .arith import sympy


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
