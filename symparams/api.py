"""The public entry point: text in, Network out."""

from __future__ import annotations

from collections.abc import Mapping

from . import layers as _layers  # noqa: F401  (registers the layer formulas)
from .builder import build
from .errors import SymparamsError
from .network import CONVENTIONS, MODES, Network
from .parsing import parse_program


def parse(text: str, convention: str = "torch", mode: str = "exact",
          values: Mapping[str, int] | None = None, numeric: bool = False) -> Network:
    """Parse architecture text into a Network of exact symbolic counts and shapes.

    >>> net = parse("I(784)-O(10)")
    >>> net.params, net.output_shape
    (7850, (10,))
    >>> parse("I-C(32,3)").params
    288*c + 32

    Counts and sizes are sympy expressions. With `numeric=True` a network without
    symbols is built in Python ints and sympy is not imported (the command line's table
    and JSON); a network with symbols is the same either way.
    """
    if convention not in CONVENTIONS:
        raise SymparamsError(f"unknown convention {convention!r}: expected one of {', '.join(CONVENTIONS)}")
    if mode not in MODES:
        raise SymparamsError(f"unknown mode {mode!r}: expected one of {', '.join(MODES)}")
    if not isinstance(text, str):
        raise SymparamsError(f"the architecture must be text, got {type(text).__name__}")
    for name, value in (values or {}).items():
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise SymparamsError(f"the value of {name} must be a positive whole number, got {value!r}")
    program = parse_program(text)
    return build(program, text, convention, mode, values, numeric=numeric)
