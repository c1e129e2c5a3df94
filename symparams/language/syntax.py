"""The syntax tree of an architecture, independent of the parser that made it.

Every node carries `start` and `end`, offsets into the text, so that any later
error can put a caret under the token that caused it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import FrozenInstanceError, field
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

if TYPE_CHECKING:
    from typing_extensions import dataclass_transform
else:

    def dataclass_transform(**_: Any) -> Any:
        """Only type checkers read it (PEP 681): at run time a decorator that changes nothing."""
        return lambda decorator: decorator


NodeClass = TypeVar("NodeClass", bound="type[Node]")


@dataclass_transform(frozen_default=True, field_specifiers=(field,))
def node(cls: NodeClass) -> NodeClass:
    """A class of nodes: a frozen dataclass's constructor, equality, hash, repr and
    immutability, from the methods of `Node` and the fields the class annotates after its
    bases' (as @dataclass reads them).

    Not @dataclass(frozen=True) itself because that compiles six methods for each class:
    for the 18 classes here, a third of the time the `symparams` command spends importing
    its own modules. The methods below are written once; type checkers see a dataclass.
    At run time a node is no dataclass: `dataclasses.replace` and `fields` do not take it
    (tests/test_syntax_nodes.py holds every class to a @dataclass(frozen=True) twin).
    """
    # Annotations are strings here (`from __future__ import annotations`); a ClassVar is
    # the class's own bookkeeping, not a field.
    own = tuple(name for name, kind in vars(cls).get("__annotations__", {}).items() if "ClassVar" not in kind)
    cls.FIELDS = cls.FIELDS + own
    # As @dataclass sets it: the fields a constructor takes by position (all but `label`),
    # which are also the fields equality and the hash compare.
    cls.__match_args__ = tuple(name for name in cls.FIELDS if name != "label")  # type: ignore[misc]
    defaults = {name: vars(cls)[name] for name in own if name in vars(cls) and name in cls.__match_args__}
    cls.DEFAULTS = {**cls.DEFAULTS, **defaults}
    return cls


@node
class Node:
    """What every node has: its span in the text and a label."""

    start: int
    end: int
    # What the table shows for a node that a layer's expansion made rather than the user
    # wrote (its start and end are then the calling layer's, so errors point there).
    label: str = field(default="", kw_only=True, compare=False)

    FIELDS: ClassVar[tuple[str, ...]] = ()  # every field, in order (the repr's)
    DEFAULTS: ClassVar[dict[str, Any]] = {}  # the positional fields that have one
    __match_args__: ClassVar[tuple[str, ...]]

    def __init__(self, *values: Any, label: str = "", **named: Any) -> None:
        cls = type(self)
        positional = cls.__match_args__
        if len(values) > len(positional):
            raise TypeError(
                f"{cls.__name__}() takes {len(positional)} positional arguments but {len(values)} were given"
            )
        given = dict(zip(positional, values))
        for name in positional[len(values) :]:
            if name in named:
                given[name] = named.pop(name)
            elif name in cls.DEFAULTS:
                given[name] = cls.DEFAULTS[name]
            else:
                raise TypeError(f"{cls.__name__}() missing required argument {name!r}")
        if named:
            name = next(iter(named))
            problem = "multiple values for argument" if name in given else "an unexpected keyword argument"
            raise TypeError(f"{cls.__name__}() got {problem} {name!r}")
        given["label"] = label
        # Into the instance's __dict__, past the __setattr__ that refuses every assignment.
        vars(self).update(given)

    def _compared(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in self.__match_args__)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._compared() == other._compared()  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash(self._compared())

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.FIELDS)
        return f"{type(self).__qualname__}({shown})"

    def __setattr__(self, name: str, value: Any) -> None:
        raise FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise FrozenInstanceError(f"cannot delete field {name!r}")


# Expressions inside arguments and counts.
@node
class Num(Node):
    value: int


@node
class Dec(Node):
    text: str  # kept as written: turned into an exact Rational, never a float


@node
class Name(Node):
    name: str


@node
class BinOp(Node):
    op: str  # one of + - * / ^
    left: Expr
    right: Expr


@node
class Neg(Node):
    operand: Expr


@node
class TupleValue(Node):
    items: tuple[Expr, ...]


@node
class Const(Node):
    """An already evaluated value (a sympy expression, keyword string or tuple), put
    into a tree by a layer's expansion so that values never go back through text."""

    value: Any


Expr = Num | Dec | Name | BinOp | Neg | Const
Value = Num | Dec | Name | BinOp | Neg | TupleValue | Const


@node
class Arg(Node):
    name: str | None  # None for a positional argument
    value: Value
    name_end: int = -1


# Architecture structure.
@node
class Layer(Node):
    name: str
    args: tuple[Arg, ...] | None  # None when written without parentheses


@node
class Chain(Node):
    items: tuple[Term, ...]


@node
class Group(Node):
    chain: Chain


@node
class Repeat(Node):
    body: Term
    count: Expr
    # `X**n`: one block's weights applied n times (ALBERT), counted once.
    shared: bool = False


@node
class Branches(Node):
    kind: str  # "single", "concat", "add" or "mul"
    chains: tuple[Chain, ...]


@node
class Replicate(Node):
    count: Expr
    body: Branches


Term = Layer | Group | Repeat | Branches | Replicate


@node
class Definition(Node):
    name: str
    params: tuple[str, ...] | None  # None for `name = ...`, () for `name() = ...`
    body: Chain


@node
class Binding(Node):
    """`name := chain`: a named tensor of a graph (README "Graphs")."""

    name: str
    body: Chain
    name_end: int = -1


@node
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
