"""Resource limits: what symparams refuses, with a clear error, instead of hanging.

Text that a service did not write may ask for numbers with millions of digits
(`2^2^2^2^2^2`), polynomials with millions of terms (`(h+w+c+1)^1000`), or millions of
layers. Each limit here is far beyond any real architecture and keeps every answer
within bounded time and memory; the limits on text size and bracket depth live in
`language.parsing`, the one on repeated blocks in `build.composition`; the checks
of a value's size (digits, terms, degree) in `expr`, which knows both kinds of number.

Numbers stay exact up to MAX_DIGITS digits. Python refuses to print an integer of over
4,300 digits (sys.int_info.default_max_str_digits, a guard against quadratic-time
conversion), and a layer may multiply five numbers (n·c·f·f·f) in one count or message:
with every operand at most 600 digits, all of it prints.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from typing import Any

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

MAX_BITS = math.ceil(MAX_DIGITS * math.log2(10))


def too_many_digits(value: int) -> bool:
    """True when an integer has more than MAX_DIGITS digits (judged by bits, as
    printing it to count its digits is what must be avoided).

    >>> too_many_digits(10**600), too_many_digits(10**700)
    (False, True)
    """
    return abs(value).bit_length() > MAX_BITS


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


def written_layers(
    definitions: Mapping[str, Any],
    chain: Any,
    uses: Callable[[Any], Iterable[Any]],
    cap: int = MAX_LAYERS + 1,
) -> tuple[int, Any]:
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
