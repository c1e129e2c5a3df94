"""The layer registry: each layer is a small pure function registered by name and alias.

A layer declares its parameters (name, kind, default); the builder binds the
written arguments to them, checks their kinds, and calls the function with the input
shape. Adding a layer touches one place: a function with a `@register` line.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..base.expr import Condition

if TYPE_CHECKING:
    from sympy import Expr

REQUIRED = object()

# Kinds of parameter: what a written argument must be.
SIZE = "size"  # positive integer expression
NONNEG = "nonneg"  # integer expression >= 0
SPATIAL = "spatial"  # positive integer, or a tuple with one per spatial axis
SPATIAL0 = "spatial0"  # integer >= 0, or a tuple with one per spatial axis
PADDING = "padding"  # same | valid | integer >= 0 (or a tuple of them)
BOOL = "bool"  # true | false
RATE = "rate"  # a number between 0 and 1
CHOICE = "choice"  # one keyword of `choices`
# true | false | letters naming which of `choices` (one letter each: q, k, v, o) have a bias;
# bound as the letters, in `choices` order ("qkvo" for true, "" for false)
LETTERS = "letters"
TENSOR = "tensor"  # the name of a tensor of a graph (`memory=enc`): the layer receives its shape
NUMBER = "number"  # any number, negative and fractional too (a scale, an offset, a slope)
PAIRS = "pairs"  # per spatial axis an integer >= 0 or a pair (before, after): ((t, b), (l, r))
INTS = "ints"  # an integer >= 0 or a flat tuple of them (torch's F.pad list)


@dataclass(frozen=True)
class Param:
    name: str
    kind: str
    default: Any = REQUIRED
    choices: tuple[str, ...] = ()
    doc: str = ""


def size(name: str, default: Any = REQUIRED, doc: str = "") -> Param:
    return Param(name, SIZE, default, doc=doc)


def spatial(name: str, default: Any = REQUIRED, doc: str = "") -> Param:
    return Param(name, SPATIAL, default, doc=doc)


def padding(name: str = "p", default: Any = "valid") -> Param:
    return Param(name, PADDING, default, doc="padding: same, valid or an integer")


class TensorShape(tuple):  # type: ignore[type-arg]
    """The shape of a named tensor a layer reads (`memory=enc`), a tuple that also keeps the
    tensor's `name` for the exporters."""

    name: str = ""


def tensor_shape(shape: tuple[Any, ...], name: str) -> TensorShape:
    """The shape of the tensor `name`, which keeps its name."""
    made = TensorShape(shape)
    made.name = name
    return made


def tensor(name: str, doc: str = "") -> Param:
    """A parameter naming a tensor bound earlier (`XA(8, memory=enc)`); the layer's
    function receives that tensor's shape (channels last)."""
    return Param(name, TENSOR, doc=doc)


def flag(name: str, default: bool) -> Param:
    return Param(name, BOOL, default)


def choice(name: str, default: str, *choices: str) -> Param:
    return Param(name, CHOICE, default, choices=tuple(choices))


def letters(name: str, default: Any, letters: str, doc: str = "") -> Param:
    """true, false or a set of letters (`bias=qkv`), bound as the letters in order."""
    return Param(name, LETTERS, default, choices=tuple(letters), doc=doc)


class Args(Mapping[str, Any]):
    """Bound arguments, readable as attributes (`args.n`, `args.f`)."""

    def __init__(self, values: Mapping[str, Any]) -> None:
        self._values = dict(values)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name == "_values":
            # Asked before __init__ ran (pickle and copy look for __setstate__ on an empty
            # instance): reading self._values here again would recurse without end.
            raise AttributeError(name)
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(name) from None

    def __getitem__(self, name: str) -> Any:
        return self._values[name]

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)


@dataclass(frozen=True)
class LayerCall:
    """What a layer function receives: the input shape (channels last), the bound
    arguments, the convention, and facts published by earlier layers of the network."""

    shape: tuple[Expr, ...]
    args: Args
    convention: str = "torch"
    facts: Mapping[str, Any] = field(default_factory=dict)

    @property
    def rank(self) -> int:
        return len(self.shape)

    @property
    def channels(self) -> Expr:
        return self.shape[-1]

    @property
    def spatial(self) -> tuple[Expr, ...]:
        return self.shape[:-1]


@dataclass(frozen=True)
class LayerOut:
    """What a layer function returns. Counts follow the call's convention:
    `non_trainable` holds what the framework counts as parameters but does not train
    (Keras's BatchNorm moving statistics). A count may be a plain 0 or another Python
    int; the symbolic build makes it a sympy number."""

    shape: tuple[Expr, ...]
    kind: str
    weights: Expr | int = 0
    biases: Expr | int = 0
    non_trainable: Expr | int = 0
    conditions: tuple[Condition, ...] = ()
    # Multiply-accumulates of one forward pass of one sample: exactly half the FLOPs that
    # torch.utils.flop_counter.FlopCounterMode counts for the PyTorch layer on the meta device
    # (matmuls, convolutions, attention products; nothing for biases, norms, activations).
    macs: Expr | int = 0
    # Elements of the key/value cache an attention layer holds for its whole sequence
    # (2·kv·k·t, or 2·kv·k·min(W, t) with a sliding window W), and per token (2·kv·k).
    kv_cache: Expr | int = 0
    kv_token: Expr | int = 0
    # Elements (of the activation dtype) the layer saves for its backward pass in PyTorch.
    saved: Expr | int = 0
    facts: Mapping[str, Any] = field(default_factory=dict)
    # Parameters a token does not touch: the E - k routed experts a mixture of experts
    # does not choose for it. Active parameters = all parameters - inactive.
    inactive: Expr | int = 0
    # API limits: what the convention's framework refuses to build although the count
    # stands (LANGUAGE.md: an API limit is not an error). Each names the framework's rule
    # and the nearest text it builds; the builder puts the layer as written in front.
    notes: tuple[str, ...] = ()

    @property
    def trainable(self) -> Expr | int:
        return self.weights + self.biases


# The per-layer costs a row carries beside its parameter counts; the builder, the modes
# and the totals treat them alike (summed over rows, multiplied by repetitions).
COSTS = ("macs", "kv_cache", "kv_token", "saved")

LayerFn = Callable[[LayerCall], LayerOut]
# A layer made of other layers: the call and the written layer (whose span the new nodes
# take, so errors point at it) in, a syntax subtree (a `syntax.Chain` whose arguments are
# `syntax.Const` values) out; the builder builds it as a block whose rows unfold at a
# deeper --depth.
ExpandFn = Callable[[LayerCall, Any], Any]


@dataclass(frozen=True)
class LayerSpec:
    name: str
    aliases: tuple[str, ...]
    params: tuple[Param, ...]
    fn: LayerFn
    doc: str
    expand: ExpandFn | None = None

    def param(self, name: str) -> Param | None:
        for p in self.params:
            if p.name == name:
                return p
        return None


REGISTRY: dict[str, LayerSpec] = {}
PRIMARY: dict[str, LayerSpec] = {}  # short names only, in registration order


def register(
    name: str, *aliases: str, params: tuple[Param, ...] = (), expand: ExpandFn | None = None
) -> Callable[[LayerFn], LayerFn]:
    """Register a layer function under its short name and aliases.

    With `expand`, the builder builds the layer from the subtree `expand` returns and
    `fn` only checks the call and names the block (its `kind`)."""

    def decorate(fn: LayerFn) -> LayerFn:
        spec = LayerSpec(name, aliases, params, fn, (fn.__doc__ or "").strip(), expand)
        for key in (name, *aliases):
            if key in REGISTRY:
                raise RuntimeError(f"layer name {key!r} registered twice")
            REGISTRY[key] = spec
        PRIMARY[name] = spec
        return fn

    return decorate


def lookup(name: str) -> LayerSpec | None:
    return REGISTRY.get(name)


def layer_names() -> list[str]:
    """Short names of every registered layer, for "expected one of" messages."""
    return list(PRIMARY)
