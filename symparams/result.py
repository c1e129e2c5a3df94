"""The result record: per-layer rows, totals and conditions. Data only.

A `Network` is frozen; renderers, analyses and modes are functions of it and it calls
none of them (torchinfo's ModelStatistics: the statistics never call back into the
collector). Derived totals (memory, activations) are read off its rows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import TYPE_CHECKING, Any

from .base.errors import SymparamsError
from .base.expr import (
    Condition,
    Later,
    Once,
    ceil_div,
    free_symbols,
    is_true,
    repeated_total,
    symbols_in,
    sympy,
    tidy,
    total,
)
from .layers.registry import COSTS
from .layers.shapes import ordered_shape

if TYPE_CHECKING:
    from sympy import Expr

CONVENTIONS = ("torch", "keras")


class Costs:
    """A row's or a network's compute and memory figures (registry.COSTS: MACs, the
    key/value cache, saved activations), each given or worked out the first time it is read.

    The summary table never reads them (the JSON only for its list of symbols, ideal mode
    only the MACs of the rows without children), yet working them out for every layer and
    adding them up over every block of a long symbolic network costs sympy more than the
    parameters do (DenseNet-121 in free h, w: a third of the build and three quarters of
    ideal mode). So a layer's formula may leave a figure for later (`Later`), a block's
    figures are the sums of its rows' when first asked for, and each is then kept, as
    `functools.cached_property` keeps a value in a frozen record.

    >>> Costs.given({"macs": 6}).times(2)["macs"]
    12
    """

    __slots__ = ("_bound", "_figures", "_settle")

    def __init__(
        self,
        figures: Mapping[str, Any],
        bound: Callable[[], frozenset[Any]] | None = None,
        settle: Callable[[str, Any], Any] | None = None,
    ):
        self._figures = _complete(figures)  # values, or Once (Later) ones not read yet
        self._bound: Callable[[], frozenset[Any]] | frozenset[Any] | None = bound
        self._settle = settle

    @classmethod
    def given(cls, values: Mapping[str, Any], settle: Callable[[str, Any], Any] | None = None) -> Costs:
        """These figures; one left `Later` is worked out when read, then `settle(key, value)`
        (the builder's number back-end and limit check) gives what is kept."""
        return cls(values, settle=settle)

    @classmethod
    def summed(
        cls, parts: list[Costs], count: Any = 1, settle: Callable[[str, Any], Any] | None = None
    ) -> Costs:
        """The sums of `parts`, times `count`, each when first read, through `settle`."""
        figures = {key: Once(_repeated_figure, parts, key, count) for key in COSTS}
        return cls(
            figures,
            lambda: frozenset().union(symbols_in(count), *(p.symbols() for p in parts)),
            settle,
        )

    def values(self) -> Mapping[str, Any]:
        return {key: self[key] for key in COSTS}

    def __getitem__(self, key: str) -> Any:
        found = self._figures[key]
        if isinstance(found, Once):
            found = found.value()
            if self._settle is not None:
                found = self._settle(key, found)
            self._figures[key] = found
        return found

    def sources(self, key: str) -> tuple[Any, ...]:
        """Expressions that hold every symbol, floor and ceiling of a figure: the figure,
        or the sources of one a formula left for later, which are not worked out."""
        found = self._figures[key]
        return found.sources() if isinstance(found, Later) else (self[key],)

    def map(self, fn: Callable[[Any], Any], keys: tuple[str, ...] = COSTS, adds: Any = None) -> Costs:
        """Each figure (or those of `keys`) through `fn`, when first read. `adds`, when
        given, holds every symbol `fn` can bring into a figure (0: none, as ideal mode's
        floors dropped); otherwise `symbols()` works the figures out."""
        bound = None if adds is None else (lambda: self.symbols() | symbols_in(adds))
        figures = {key: Once(_mapped_figure, self, key, fn if key in keys else None) for key in COSTS}
        return Costs(figures, bound)

    def times(self, k: Any) -> Costs:
        return self.map(lambda value: k * value, adds=k)

    def symbols(self) -> frozenset[Any]:
        """Every symbol the figures can hold: those of the rows they add up, which is all
        they hold unless terms cancel. Worked out without adding them up, so that the JSON's
        list of symbols (Network.free_symbols) needs the figures only when this names a
        symbol nothing else holds (a sliding window W only the key/value cache reads)."""
        if isinstance(self._bound, frozenset):
            return self._bound
        if self._bound is not None:
            found = self._bound()
        else:
            found = frozenset().union(*(symbols_in(x) for key in COSTS for x in self.sources(key)))
        self._bound = found
        return found

    def __reduce__(self) -> tuple[Any, ...]:
        # Pickled (or copied) as the figures themselves: the work left for later holds
        # closures over the build, which pickle cannot write.
        return (Costs.given, (dict(self.values()),))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Costs) and self.values() == other.values()

    def __hash__(self) -> int:
        return hash(tuple(self.values().items()))

    def __repr__(self) -> str:
        return f"Costs({dict(self.values())!r})"


def _complete(values: Mapping[str, Any]) -> dict[str, Any]:
    return {key: values.get(key, 0) for key in COSTS}


def _repeated_figure(parts: list[Costs], key: str, count: Any) -> Any:
    return repeated_total([part[key] for part in parts], count)


def _mapped_figure(costs: Costs, key: str, fn: Callable[[Any], Any] | None) -> Any:
    return costs[key] if fn is None else fn(costs[key])


NO_COSTS = Costs.given({})


def cost_figure(key: str) -> Any:
    """A record's attribute for one of its `costs` (`row.macs`)."""
    return property(lambda self: self.costs[key], doc=f"The {key} figure of `costs`.")


@dataclass(frozen=True)
class LayerInfo:
    """One row of the summary: a layer, or a block with its children."""

    index: str
    text: str
    kind: str
    shape: tuple[Expr, ...]  # channels last, as the engine keeps it
    weights: Expr
    biases: Expr
    non_trainable: Expr
    convention: str = "torch"
    conditions: tuple[Condition, ...] = ()
    children: tuple[LayerInfo, ...] = ()
    depth: int = 0
    count: Any = 1  # how many times the block runs (repetition), already in the counts
    start: int = 0
    end: int = 0
    # MACs, key/value cache elements for the row's sequence and per token, elements saved
    # for backward (registry.COSTS): read as row.macs and so on, a block's summed when asked.
    costs: Costs = NO_COSTS
    # Parameters one token does not touch (the routed experts a mixture of experts does
    # not choose), already multiplied by `count` like the other counts.
    inactive: Any = 0
    # What the row was built from, for exporters: a layer's short name (`C`) and its bound
    # arguments, a definition's name, or "" for a composition form (whose `kind` names it).
    name: str = ""
    args: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False)
    notes: tuple[str, ...] = ()  # API limits of the layer: "C(32,3,s=2,p=same): PyTorch refuses ..."

    macs = cost_figure("macs")
    kv_cache = cost_figure("kv_cache")
    kv_token = cost_figure("kv_token")
    saved = cost_figure("saved")

    @property
    def active_params(self) -> Expr:
        """Parameters one token touches: all but the E - k routed experts not chosen."""
        return self._per_count(self.weights + self.biases + self.non_trainable - self.inactive)

    # Cached: every report reads them several times a row, and a symbolic sum is rebuilt
    # on each addition (a frozen dataclass keeps a cached_property in its __dict__).
    @cached_property
    def trainable(self) -> Expr:
        return self._per_count(self.weights + self.biases)

    @cached_property
    def params(self) -> Expr:
        return self._per_count(self.weights + self.biases + self.non_trainable)

    def _per_count(self, expr: Expr) -> Expr:
        # A block repeated L times reads L*(8*d**2 + 7*d), not 6*L*d + L*(8*d**2 + d).
        counts = free_symbols(self.count)
        if counts:
            return collected(expr, counts)
        return expr

    @property
    def output_shape(self) -> tuple[Expr, ...]:
        return ordered_shape(self.shape, self.convention)

    def walk(self) -> Iterator[LayerInfo]:
        yield self
        for child in self.children:
            yield from child.walk()


@dataclass(frozen=True)
class Tensor:
    """A named tensor of a graph (`enc := I(s)-E(V,d)-...`): its rows are
    `network.layers[first:stop]`, the last of which gives its shape."""

    name: str
    first: int
    stop: int
    start: int = 0  # where its line is in the text
    end: int = 0


@dataclass(frozen=True)
class Network:
    """Shapes and parameter counts of an architecture, as sympy expressions.

    >>> import symparams
    >>> net = symparams.parse("I(28,28,1)-C(32,5)-P(2)-C(32,3)-P(2)-H(256)-O(10)")
    >>> net.params, net.output_shape
    (217706, (10,))
    >>> symparams.parse("I-C(32,5)-P(2)-C(32,3)-P(2)-H(256)-O(10)").subs(h=28, w=28, c=1).params
    217706
    """

    text: str
    convention: str
    mode: str
    layers: tuple[LayerInfo, ...]
    params: Expr
    trainable: Expr
    non_trainable: Expr
    shape: tuple[Expr, ...]  # channels last
    condition_details: tuple[Condition, ...]
    values: Mapping[str, int] = field(default_factory=dict)
    costs: Costs = NO_COSTS  # read as net.macs, net.kv_cache, net.kv_token, net.saved
    # Ideal mode: when the closed form equals the exact one (also in condition_details).
    exact_when: tuple[Condition, ...] = ()
    # Parameters one token does not touch (mixtures of experts); see `active_params`.
    inactive: Any = 0
    # API limits met on the way, each once, in the order of the rows (`LayerInfo.notes`).
    notes: tuple[str, ...] = ()

    macs = cost_figure("macs")
    kv_cache = cost_figure("kv_cache")
    kv_token = cost_figure("kv_token")
    saved = cost_figure("saved")

    @property
    def active_params(self) -> Expr:
        """Parameters one token touches: every parameter but those of the E - k routed
        experts each mixture-of-experts layer does not choose. Equal to `params` for a
        dense network.

        >>> import symparams
        >>> net = symparams.parse("I(t,4096)-MoE(8,2,14336)")
        >>> net.params, net.active_params
        (1409318912, 352354304)
        """
        return self.params - self.inactive

    # A graph (README "Graphs"): its named tensors in the order of the text, and the names
    # of those it returns; both empty for a chain. `shape` is then the first output's.
    tensors: tuple[Tensor, ...] = ()
    outputs: tuple[str, ...] = ()

    @property
    def is_graph(self) -> bool:
        return bool(self.tensors)

    def section(self, name: str) -> tuple[LayerInfo, ...]:
        """The rows of the named tensor `name` of a graph."""
        for t in self.tensors:
            if t.name == name:
                return self.layers[t.first : t.stop]
        raise SymparamsError(f"no tensor named {name!r}: expected one of {', '.join(self.tensor_names)}")

    @property
    def tensor_names(self) -> tuple[str, ...]:
        return tuple(t.name for t in self.tensors)

    def tensor_shape(self, name: str) -> tuple[Expr, ...]:
        """A named tensor's shape, channels last."""
        return self.section(name)[-1].shape

    def subtotal(self, name: str, what: str = "params") -> Expr:
        """The parameters (or `trainable`, `non_trainable`, `macs`) of a named tensor's own layers."""
        return total([getattr(row, what) for row in self.section(name)])

    @property
    def output_shapes(self) -> tuple[tuple[Expr, ...], ...]:
        """Every output's shape in the convention's order: one for a chain."""
        if not self.outputs:
            return (self.output_shape,)
        return tuple(ordered_shape(self.tensor_shape(n), self.convention) for n in self.outputs)

    @property
    def input_shapes(self) -> tuple[tuple[Expr, ...], ...]:
        """Every input's shape in the convention's order (a graph may have several)."""
        return tuple(row.output_shape for row in self.layers if row.kind == "Input")

    @property
    def output_shape(self) -> Any:
        """The output's shape in the convention's order; a list of shapes when a graph
        returns several tensors."""
        if len(self.outputs) > 1:
            return [ordered_shape(self.tensor_shape(n), self.convention) for n in self.outputs]
        return ordered_shape(self.shape, self.convention)

    @property
    def input_shape(self) -> Any:
        """The input's shape; a list of shapes when a graph has several inputs."""
        shapes = self.input_shapes
        if len(shapes) > 1:
            return list(shapes)
        return self.layers[0].output_shape

    @property
    def conditions(self) -> tuple[sympy.Basic, ...]:
        """What must hold for every shape to exist, as sympy relations (`h >= 12`)."""
        return tuple(c.holds for c in self.condition_details)

    @property
    def ideal_conditions(self) -> tuple[sympy.Basic, ...]:
        """Ideal mode: the divisibility conditions under which the closed form equals the
        exact count (`Eq(Mod(h, 4), 0)`); empty in exact mode."""
        return tuple(c.holds for c in self.exact_when)

    @property
    def free_symbols(self) -> set[sympy.Symbol]:
        """The symbols of the counts, shapes and costs. The costs are added up only when
        their rows hold a symbol nothing else does (Costs.symbols): what they hold beyond
        the shapes' symbols is all a sum could bring."""
        exprs = {self.params, *self.shape}
        for layer in self.walk():
            exprs.update(layer.shape)  # a set first: the rows of a block share their axes
        found: set[sympy.Symbol] = set().union(*(symbols_in(e) for e in exprs))
        if not self.costs.symbols() <= found:
            for key in COSTS:
                found |= symbols_in(getattr(self, key))
        return found

    def walk(self) -> Iterator[LayerInfo]:
        """Every row, blocks before their children."""
        for layer in self.layers:
            yield from layer.walk()

    @property
    def flops(self) -> Expr:
        """Floating-point operations of one forward pass of one sample: 2 per MAC, exactly
        what torch.utils.flop_counter.FlopCounterMode counts on the meta device.

        >>> import symparams
        >>> symparams.parse("I(t,64)-MHA(4)").flops
        256*t**2 + 32768*t
        """
        return 2 * self.macs

    @property
    def train_flops(self) -> Expr:
        """Forward and backward of one sample: 3 × the forward FLOPs (the backward computes
        the gradients of both a product's inputs and its weights, 2 × the forward).

        Exact as FlopCounterMode counts it when every counted layer's input needs a
        gradient (every language model: the first product reads an embedding or a norm);
        a layer reading the data directly skips its input gradient, so there it is 3·F − F₁.
        """
        return 3 * self.flops

    def memory(self, dtype: str = "float32") -> Expr:
        """Bytes the parameters take in `dtype` (float32, bfloat16, float16, int8, ...).

        >>> import symparams
        >>> symparams.parse("I(784)-O(10)").memory("bfloat16")
        15700
        """
        return in_bytes(self.params, dtype)

    @property
    def activations(self) -> Expr:
        """Elements of every layer's output in one forward pass of one sample: what a
        forward pass writes if nothing is freed. The input is not counted, nor layers
        whose output is a view of their input (Flatten, Tokens, Identity).

        >>> import symparams
        >>> symparams.parse("I(28,28,1)-C(8,3)-relu-F-O(10)").activations
        10826
        """
        found = total([_activations(row) for row in self.layers if row.kind != "Input"])
        return tidy(found) if self.mode == "ideal" else found

    def activation_memory(self, dtype: str = "float32") -> Expr:
        """Bytes of `activations` in `dtype`."""
        return in_bytes(self.activations, dtype)


def collect_notes(rows: tuple[LayerInfo, ...] | list[LayerInfo]) -> tuple[str, ...]:
    """The notes of every row and child, each once, in order."""
    return tuple(dict.fromkeys(note for row in rows for r in row.walk() for note in r.notes))


def merge_conditions(conditions: list[Condition]) -> tuple[Condition, ...]:
    """Drop what always holds, keep one of each, and of several lower bounds on one
    symbol only the strongest."""
    best_lower: dict[sympy.Symbol, tuple[Expr, Condition]] = {}
    best_upper: dict[sympy.Symbol, tuple[Expr, Condition]] = {}
    others: dict[sympy.Basic, Condition] = {}
    for cond in conditions:
        holds = cond.holds
        if is_true(holds):
            continue
        if isinstance(holds, sympy.GreaterThan) and holds.lhs.is_Symbol and holds.rhs.is_Integer:
            if holds.lhs not in best_lower or holds.rhs > best_lower[holds.lhs][0]:
                best_lower[holds.lhs] = (holds.rhs, cond)
        elif isinstance(holds, sympy.LessThan) and holds.lhs.is_Symbol and holds.rhs.is_Integer:
            if holds.lhs not in best_upper or holds.rhs < best_upper[holds.lhs][0]:
                best_upper[holds.lhs] = (holds.rhs, cond)
        else:
            others.setdefault(holds, cond)
    ordered = sorted(best_lower.values(), key=lambda item: item[1].holds.lhs.name)
    ordered += sorted(best_upper.values(), key=lambda item: item[1].holds.lhs.name)
    return tuple(c for _, c in ordered) + tuple(others.values())


def collected(expr: Expr, counts: set[sympy.Symbol]) -> Expr:
    """Terms that share a repetition count written once, as a person writes a repeated
    block: 11*L*d + L*(12*d**2 + 2*d) becomes L*(12*d**2 + 13*d).

    >>> from symparams.base.expr import symbol
    >>> L, d = symbol("L"), symbol("d")
    >>> collected(11*L*d + L*(12*d**2 + 2*d) + 51283*d, {L})
    L*(12*d**2 + 13*d) + 51283*d
    """
    if not counts or not isinstance(expr, sympy.Basic) or expr.is_number:
        return expr
    groups: dict[Expr, list[Expr]] = {}
    rest: list[Expr] = []
    for term in sympy.Add.make_args(expr):
        key = sympy.Mul(
            *[f for f in sympy.Mul.make_args(term) if f.free_symbols and f.free_symbols <= counts]
        )
        if key == 1:
            rest.append(term)
        else:
            groups.setdefault(key, []).append(term / key)
    parts = [
        key * (inner[0] if len(inner) == 1 else sympy.expand(sympy.Add(*inner)))
        for key, inner in groups.items()
    ]
    return sympy.Add(*rest, *parts)


def collected_totals(net: Network) -> Network:
    """The network with its totals collected by the symbolic repetition counts of its
    blocks (`collected`); the same expressions, written as a person would."""
    counts: set[sympy.Symbol] = set()
    for row in net.walk():
        counts |= free_symbols(row.count)
    if not counts:
        return net
    return replace(
        net,
        params=collected(net.params, counts),
        trainable=collected(net.trainable, counts),
        non_trainable=collected(net.non_trainable, counts),
        inactive=collected(net.inactive, counts),
        costs=net.costs.map(lambda value: collected(value, counts)),
    )


# Bits of one number in each dtype people store weights, activations and caches in
# (float8: the two OCP formats torch names float8_e4m3fn and float8_e5m2; int4: two per byte).
DTYPE_BITS = {
    "float64": 64,
    "float32": 32,
    "tfloat32": 32,
    "bfloat16": 16,
    "float16": 16,
    "float8_e4m3fn": 8,
    "float8_e5m2": 8,
    "int8": 8,
    "uint8": 8,
    "int4": 4,
}
DTYPE_ALIASES = {
    "fp32": "float32",
    "bf16": "bfloat16",
    "fp16": "float16",
    "fp8_e4m3": "float8_e4m3fn",
    "e4m3": "float8_e4m3fn",
    "fp8_e5m2": "float8_e5m2",
    "e5m2": "float8_e5m2",
}
DTYPE_BYTES = {name: bits // 8 for name, bits in DTYPE_BITS.items() if bits % 8 == 0}  # whole-byte dtypes
DTYPES = tuple(DTYPE_BITS) + tuple(DTYPE_ALIASES)


def dtype_name(dtype: str) -> str:
    """The dtype's name (an alias such as bf16 or e4m3 resolved); unknown names are an error."""
    name = DTYPE_ALIASES.get(dtype, dtype)
    if name not in DTYPE_BITS:
        raise SymparamsError(f"unknown dtype {dtype!r}: expected one of {', '.join(DTYPE_BITS)}")
    return name


def dtype_bytes(dtype: str) -> Any:
    """Bytes per element of `dtype` (1/2 for int4, as a sympy Rational); an unknown name is
    an error listing the known ones."""
    bits = DTYPE_BITS[dtype_name(dtype)]
    return bits // 8 if bits % 8 == 0 else sympy.Rational(bits, 8)


def in_bytes(count: Any, dtype: str) -> Any:
    """Bytes of `count` elements of `dtype`; sub-byte dtypes are packed, rounded up to a byte.

    >>> in_bytes(7851, "int4"), in_bytes(10, "bfloat16")
    (3926, 20)
    """
    bits = DTYPE_BITS[dtype_name(dtype)]
    if bits % 8 == 0:
        return count * (bits // 8)
    return ceil_div(count * bits, 8)


# Layers whose output is a view of their input in PyTorch (flatten, reshape): no new memory.
VIEW_KINDS = ("Flatten", "Tokens", "Identity", "Tensor")


def _activations(row: LayerInfo) -> Expr:
    """Output elements a row writes; a block writes its children's, `count` times."""
    if row.children:
        return row.count * total([_activations(child) for child in row.children])
    if row.kind in VIEW_KINDS:
        return sympy.Integer(0)
    size: Expr = sympy.Integer(1)
    for axis in row.shape:
        size = size * axis
    return size
