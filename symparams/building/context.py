"""The state of one build: the text, the definitions, the values given to symbols, the
number back-end, and the conditions collected so far."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..base.errors import GraphError, ShapeError, SymparamsError, locate
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
    # Each layer formula's result by its call (builder.formula_key), checked and counted.
    formulas: dict[Any, Any] = field(default_factory=dict)
    # Each layer node's bound arguments and their conditions (Builder.bound).
    bound: dict[Any, Any] = field(default_factory=dict)
    # Each definition's nodes that become rows, by span (definitions.written_nodes).
    written: dict[str, Mapping[tuple[int, int], S.Node]] = field(default_factory=dict)
    # A graph (README "Graphs"): every binding of the text, the shapes of those built so
    # far, the one being built, and the names read.
    bindings: Mapping[str, S.Binding] = field(default_factory=dict)
    tensors: dict[str, tuple[Any, ...]] = field(default_factory=dict)
    current: str | None = None
    reads: set[str] = field(default_factory=set)

    def names_tensor(self, name: str) -> bool:
        """True when `name` is bound by `name := ...` somewhere in the text."""
        return name in self.bindings

    def read_tensor(self, name: str, node: S.Node) -> tuple[Any, ...]:
        """The shape of the tensor `name` read at `node`; reading one bound later, or the
        one being bound, is an error (a graph is built in the order of its lines)."""
        if name in self.tensors:
            self.reads.add(name)
            return self.tensors[name]
        if name == self.current:
            raise self.error(
                f"cycle: tensor '{name}' reads itself; a tensor can read only tensors bound above it",
                node,
                GraphError,
            )
        if name in self.bindings:
            line, col, _ = locate(self.text, self.bindings[name].start)
            raise self.error(
                f"tensor '{name}' is used before it is defined (it is bound later, at line {line}, "
                f"column {col + 1}); bind it above the line that reads it",
                node,
                GraphError,
            )
        known = tuple(self.tensors)
        raise self.error(
            f"unknown tensor '{name}'" + ("" if known else ": no tensor is bound above this line"),
            node,
            GraphError,
            expected=known,
        )

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
