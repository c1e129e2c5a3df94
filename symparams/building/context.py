"""The state of one build: the text, the definitions, the values given to symbols, the
number back-end, and the conditions collected so far."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..base.errors import ShapeError, SymparamsError
from ..base.expr import Condition, Numbers
from ..base.limits import Budget
from ..language import syntax as S

KEYWORDS = ("same", "valid", "true", "false")
INPUT_NAMES = ("I", "Input")


@dataclass(frozen=True)
class Thunk:
    """A definition's argument, evaluated where the body uses it (call by name)."""

    node: S.Value
    env: Mapping[str, Any]


@dataclass
class Context:
    """State of one build. `numbers` is the back-end (Python ints or sympy), chosen
    once by `build` (base/expr.py)."""

    text: str
    convention: str
    definitions: Mapping[str, S.Definition]
    values: Mapping[str, Any]
    numbers: Numbers
    used: set[str] = field(default_factory=set)  # names of `values` the text uses
    conditions: list[Condition] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)
    active: tuple[str, ...] = ()  # definitions being expanded, to refuse recursion
    unrolled: int = 0  # applications of shape-changing repeated blocks so far (composition.MAX_UNROLL)
    budget: Budget = field(default_factory=Budget)  # layers built (base/limits.py)

    def error(
        self, message: str, node: S.Node, cls: type[SymparamsError] = ShapeError, **kw: Any
    ) -> SymparamsError:
        return cls(message, self.text, node.start, node.end, **kw)

    def at(self, err: SymparamsError, node: S.Node, prefix: str = "") -> SymparamsError:
        """An error raised without a position (by a back-end or a layer formula), put
        at `node`; one that already has its place is returned as it is."""
        if err.text is not None:
            return err
        return type(err)(
            prefix + err.message, self.text, node.start, node.end, expected=err.expected, notes=err.notes
        )

    def number(self, value: int) -> Any:
        """A whole number as this build holds numbers."""
        return self.numbers.integer(value)

    def snippet(self, node: S.Node) -> str:
        if node.label:  # made by a layer's expansion, not written by the user
            return node.label
        return " ".join(self.text[node.start : node.end].split())
