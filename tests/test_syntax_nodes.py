"""The syntax tree's nodes (`@node`, language/syntax.py) behave as the frozen dataclasses they
replace: each class is compared with a twin made by @dataclass(frozen=True) from the same
annotations, on construction, repr, equality, hash, immutability and pattern matching."""

from __future__ import annotations

import dataclasses
import inspect

import pytest

from symparams.language import syntax as S

NODE_CLASSES = [
    c for c in vars(S).values() if inspect.isclass(c) and issubclass(c, S.Node) and c is not S.Node
]


@dataclasses.dataclass(frozen=True)
class TwinNode:
    start: int
    end: int
    label: str = dataclasses.field(default="", kw_only=True, compare=False)


def twin(cls: type) -> type:
    """A frozen dataclass with the fields `cls` declares, its base's twin as its base."""
    base = TwinNode if cls.__bases__[0] is S.Node else twin(cls.__bases__[0])
    own = vars(cls).get("__annotations__", {})
    namespace = {"__annotations__": dict(own), **{k: vars(cls)[k] for k in own if k in vars(cls)}}
    return dataclasses.dataclass(frozen=True)(type(cls.__name__, (base,), namespace))


def values(cls: type, salt: int) -> list[object]:
    """One value per positional field, told apart by `salt`."""
    return [f"{name}{salt}" for name in cls.__match_args__[2:]]


@pytest.mark.parametrize("cls", NODE_CLASSES, ids=lambda c: c.__name__)
def test_a_node_class_behaves_as_its_frozen_dataclass_twin(cls: type) -> None:
    model = twin(cls)
    assert cls.__match_args__ == model.__match_args__
    required = [
        f.name for f in dataclasses.fields(model) if f.default is dataclasses.MISSING and not f.kw_only
    ]
    for salt, label in ((1, ""), (2, "shown")):
        args = (salt, salt + 1, *values(cls, salt)[: len(required) - 2])
        made, expected = cls(*args, label=label), model(*args, label=label)
        assert repr(made) == repr(expected)
        assert hash(made) == hash(expected)
        # All positional fields by keyword give the same node.
        named = {name: getattr(made, name) for name in cls.__match_args__}
        assert cls(**named, label=label) == made
    assert cls(*args) == cls(*args, label="other")  # the label is not compared
    assert cls(*args) != model(*args) and cls(*args) != tuple(args)
    assert cls(*args) != cls(args[0] + 1, *args[1:])
    node = cls(*args)
    for name in (*cls.__match_args__, "label", "not_a_field"):
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(node, name, 0)
        with pytest.raises(dataclasses.FrozenInstanceError):
            delattr(node, name)


@pytest.mark.parametrize(
    "call",
    [
        lambda: S.Num(0, 1),  # a field missing
        lambda: S.Num(0, 1, 2, 3),  # one too many
        lambda: S.Layer(0, 1, "C", None, "label"),  # the label only by keyword
        lambda: S.Num(0, 1, 2, value=3),  # twice
        lambda: S.Num(0, 1, 2, size=3),  # no such field
    ],
)
def test_a_wrong_call_is_a_type_error(call) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(TypeError):
        call()


def test_defaults_and_patterns() -> None:
    n = S.Num(0, 1, 1)
    assert S.Repeat(0, 1, S.Group(0, 1, S.Chain(0, 1, ())), n).shared is False
    assert S.Arg(0, 1, None, n).name_end == -1 and S.Program(0, 1, (), None).bindings == ()
    match S.BinOp(0, 3, "+", n, S.Name(2, 3, "k")):
        case S.BinOp(0, 3, "+", S.Num(value=1), S.Name(name=name)):
            assert name == "k"
        case _:
            pytest.fail("no match")
