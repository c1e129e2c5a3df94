"""symparams: exact, closed-form shapes and parameter counts of neural networks.

>>> import symparams
>>> symparams.parse("I(28,28,1)-C(32,5)-P(2)-C(32,3)-P(2)-H(256)-O(10)").params
217706
"""

from __future__ import annotations

# Nothing is imported here at start-up, not even the error classes: the `symparams`
# command must reach its try (cli.main) before any import a Ctrl-C could interrupt.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from .api import Network, parse
    from .base.errors import (
        ArgumentError,
        DefinitionError,
        LimitError,
        ParseError,
        ShapeError,
        SolveError,
        SymparamsError,
    )
    from .result import LayerInfo

__all__ = [
    "ArgumentError",
    "DefinitionError",
    "LayerInfo",
    "LimitError",
    "Network",
    "ParseError",
    "ShapeError",
    "SolveError",
    "SymparamsError",
    "parse",
]
__version__ = "0.1.0"

# sympy and lark load on first use (PEP 562), not when the package is imported: the
# `symparams` command imports symparams.cli, whose main() then imports them inside its
# own try, so a Ctrl-C during start-up exits 130 without a traceback like any other.
_LAZY = {"parse": "api", "Network": "api", "LayerInfo": "result"}
_LAZY.update({name: "base.errors" for name in __all__ if name.endswith("Error")})


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from importlib import import_module

        value = getattr(import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
