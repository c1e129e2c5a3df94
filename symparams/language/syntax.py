"""The syntax tree of an architecture, independent of the parser that made it.

Every node carries `start` and `end`, offsets into the text, so that any later
error can put a caret under the token that caused it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar


@dataclass(frozen=True)
class Node:
    start: int
    end: int
    # What the table shows for a node that a layer's expansion made rather than the user
    # wrote (its start and end are then the calling layer's, so errors point there).
    label: str = field(default="", kw_only=True, compare=False)


# Expressions inside arguments and counts.
@dataclass(frozen=True)
class Num(Node):
    value: int


@dataclass(frozen=True)
class Dec(Node):
    text: str  # kept as written: turned into an exact Rational, never a float


@dataclass(frozen=True)
class Name(Node):
    name: str


@dataclass(frozen=True)
class BinOp(Node):
    op: str  # one of + - * / ^
    left: Expr
    right: Expr


@dataclass(frozen=True)
class Neg(Node):
    operand: Expr


@dataclass(frozen=True)
class TupleValue(Node):
    items: tuple[Expr, ...]


@dataclass(frozen=True)
class Const(Node):
    """An already evaluated value (a sympy expression, keyword string or tuple), put
    into a tree by a layer's expansion so that values never go back through text."""

    value: Any


Expr = Num | Dec | Name | BinOp | Neg | Const
Value = Num | Dec | Name | BinOp | Neg | TupleValue | Const


@dataclass(frozen=True)
class Arg(Node):
    name: str | None  # None for a positional argument
    value: Value
    name_end: int = -1


# Architecture structure.
@dataclass(frozen=True)
class Layer(Node):
    name: str
    args: tuple[Arg, ...] | None  # None when written without parentheses


@dataclass(frozen=True)
class Chain(Node):
    items: tuple[Term, ...]


@dataclass(frozen=True)
class Group(Node):
    chain: Chain


@dataclass(frozen=True)
class Repeat(Node):
    body: Term
    count: Expr
    # `X**n`: one block's weights applied n times (ALBERT), counted once.
    shared: bool = False


@dataclass(frozen=True)
class Branches(Node):
    kind: str  # "single", "concat", "add" or "mul"
    chains: tuple[Chain, ...]


@dataclass(frozen=True)
class Replicate(Node):
    count: Expr
    body: Branches


Term = Layer | Group | Repeat | Branches | Replicate


@dataclass(frozen=True)
class Definition(Node):
    name: str
    params: tuple[str, ...] | None  # None for `name = ...`, () for `name() = ...`
    body: Chain


@dataclass(frozen=True)
class Binding(Node):
    """`name := chain`: a named tensor of a graph (README "Graphs")."""

    name: str
    body: Chain
    name_end: int = -1


@dataclass(frozen=True)
class Program(Node):
    definitions: tuple[Definition, ...]
    chain: Chain | None  # None when the network returns a list of tensors (`outputs`)
    bindings: tuple[Binding, ...] = ()
    outputs: tuple[Name, ...] = ()  # `a, b`: the tensors a graph returns

    @property
    def is_graph(self) -> bool:
        return bool(self.bindings) or self.chain is None


class Visitor:
    """Dispatch on a node's class, as lark's `Transformer` dispatches on a rule's name
    and sympy's printers on `_print_<Class>`: a subclass defines `visit_<Class>` for
    each kind of node it handles (looked up along the class's MRO, once per class)."""

    _methods: ClassVar[dict[type, str]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._methods = {}

    def visit(self, node: Any, *args: Any) -> Any:
        kind = type(node)
        name = self._methods.get(kind)
        if name is None:
            name = self._methods[kind] = next(
                (f"visit_{k.__name__}" for k in kind.__mro__ if hasattr(self, f"visit_{k.__name__}")),
                "visit_default",
            )
        return getattr(self, name)(node, *args)

    def visit_default(self, node: Any, *args: Any) -> Any:
        raise TypeError(f"{type(self).__name__} has no rule for {type(node).__name__}")


# The nodes directly inside each kind of node: the one description of the tree's shape.
_CHILDREN: dict[type, Callable[[Any], tuple[Node, ...]]] = {
    Chain: lambda n: n.items,
    Group: lambda n: (n.chain,),
    Repeat: lambda n: (n.body, n.count),
    Replicate: lambda n: (n.count, n.body),
    Branches: lambda n: n.chains,
    Layer: lambda n: tuple(arg.value for arg in n.args or ()),
    TupleValue: lambda n: n.items,
    BinOp: lambda n: (n.left, n.right),
    Neg: lambda n: (n.operand,),
    Definition: lambda n: (n.body,),
    Binding: lambda n: (n.body,),
    Program: lambda n: (*n.definitions, *n.bindings, *((n.chain,) if n.chain is not None else n.outputs)),
}


def children(node: Node) -> tuple[Node, ...]:
    """The nodes directly inside `node`."""
    found = _CHILDREN.get(type(node))
    return found(node) if found is not None else ()


def walk(node: Node) -> Iterator[Node]:
    """`node` and every node inside it, parents before children.

    >>> [type(n).__name__ for n in walk(BinOp(0, 3, "+", Num(0, 1, 1), Name(2, 3, "k")))]
    ['BinOp', 'Num', 'Name']
    """
    yield node
    for child in children(node):
        yield from walk(child)
