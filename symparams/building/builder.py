"""Syntax tree to network: bind each layer's arguments, run its formula, collect rows.

Data flows one way: the builder walks the chain, calls each layer's pure function
with the shape it receives, checks its conditions (a numeric one that fails is a
ShapeError naming the layer; a symbolic one is kept), and collects `LayerInfo` rows.
The composite forms (composition.py) and definitions (definitions.py) are parts of
the same class; a term is dispatched by its node type (`visit_<Class>`).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Hashable
from dataclasses import replace
from typing import Any

from ..base.errors import LimitError, ParseError, ShapeError
from ..base.expr import AXIS_NAMES, Condition, Later, is_false, is_true, repeated_total
from ..language import syntax as S
from ..layers import registry as R
from ..layers.shapes import channels_first_hint
from ..result import Costs, LayerInfo
from .binding import bind
from .composition import CompositionForms
from .context import INPUT_NAMES, Context, Thunk
from .definitions import DefinitionUses
from .evaluate import evaluate, refuse_decimal, whole, within_limits
from .steps import Built, Env, Shape

TENSOR_KIND = "Tensor"  # a row that reads a named tensor (result.VIEW_KINDS: no new memory)


class Builder(S.Visitor, CompositionForms, DefinitionUses):
    """Builds the rows of one network, in one context (text, definitions, numbers)."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def chain(
        self,
        chain: S.Chain,
        shape: Shape | None,
        env: Env,
        prefix: str,
        depth: int,
        first: int = 0,
        branch: bool = False,
    ) -> tuple[Shape, list[LayerInfo]]:
        """The rows of a chain on `shape` (None: the chain starts with its own input).
        A chain that starts a graph's line or a branch may start from a named tensor;
        `first` numbers the rows of a graph's later lines after the earlier ones."""
        rows: list[LayerInfo] = []
        for i, term in enumerate(chain.items):
            index = f"{prefix}{first + i}" if prefix == "" else f"{prefix}.{i + 1}"
            source = self.tensor_source(term, env) if i == 0 and (shape is None or branch) else None
            if source is not None:
                shape, row = self.read(term, source, index, depth)  # type: ignore[arg-type]
            elif shape is None and self.joins_tensors(term, env):
                # `[a | b]-O(1)`: a line that starts by joining tensors has no input of its own.
                shape, row = self.term(term, (), env, index, depth)
            elif shape is None and isinstance(term, S.Layer) and term.name in self.ctx.definitions:
                # A definition whose body starts from tensors (a graph's cell, `cell(h, p)`).
                shape, row = self.use_definition(term, None, env, index, depth)  # type: ignore[arg-type]
            elif shape is None:
                if self.ctx.bindings and self.unknown_name(term):
                    self.ctx.read_tensor(term.name, term)  # type: ignore[union-attr]  # a typo: unknown tensor
                if not is_input(term):
                    raise self.ctx.error(
                        "a network starts with an input layer, such as I(28,28,1) or I", term, ParseError
                    )
                shape, row = self.input_layer(term, env, index)  # type: ignore[arg-type]
            else:
                if is_input(term):
                    raise self.ctx.error("an input layer I can only start the network", term)
                try:
                    shape, row = self.term(term, shape, env, index, depth)
                except ShapeError as err:
                    # The first layer refusing an input written channels-first (I(3,28,28)).
                    hint = channels_first_hint(rows[0].shape) if i == 1 and prefix == "" else None
                    if hint is None or type(err) is not ShapeError:
                        raise
                    raise err.with_note(f"Note: {hint}.") from None
            rows.append(row)
        assert shape is not None
        return shape, rows

    def term(self, term: S.Term, shape: Shape, env: Env, index: str, depth: int) -> Built:
        return self.visit(term, shape, env, index, depth)  # type: ignore[no-any-return]

    def visit_default(self, node: Any, *args: Any) -> Any:
        raise self.ctx.error("unexpected term", node)

    def visit_Group(self, term: S.Group, shape: Shape, env: Env, index: str, depth: int) -> Built:
        out, rows = self.chain(term.chain, shape, env, index, depth + 1)
        return out, self.block(term, "Sequential", out, rows, index, depth)

    def input_layer(self, term: S.Layer, env: Env, index: str) -> Built:
        if term.args is None:  # h, w, c
            given = self.ctx.values
            numbers = self.ctx.numbers
            self.ctx.used.update(name for name in AXIS_NAMES[3] if name in given)
            shape: Shape = tuple(
                given[name] if name in given else numbers.unknown(name) for name in AXIS_NAMES[3]
            )
        else:
            if not 1 <= len(term.args) <= 4:
                raise self.ctx.error(f"I takes 1 to 4 axes, got {len(term.args)}", term)
            sizes = []
            for arg in term.args:
                if arg.name is not None:
                    raise self.ctx.error("I takes its axes as positional arguments", arg)
                value = evaluate(arg.value, self.ctx, env, R.SIZE)
                if isinstance(value, (str, tuple)):
                    raise self.ctx.error("an axis of I must be a size", arg)
                refuse_decimal(arg.value, "I: an axis", self.ctx)
                sizes.append(whole(value, 1, "I: an axis", arg.value, self.ctx))
            shape = tuple(sizes)
        self.settle(self.ctx.conditions, term)
        zero = self.ctx.number(0)
        row = LayerInfo(
            index,
            self.ctx.snippet(term),
            "Input",
            shape,
            zero,
            zero,
            zero,
            self.ctx.convention,
            start=term.start,
            end=term.end,
            count=self.ctx.number(1),
            costs=Costs.given({key: zero for key in R.COSTS}),
            name="I",
        )
        return shape, row

    def tensor_source(self, term: S.Term, env: Env) -> str | None:
        """The tensor a chain's first term names (directly, or through a definition's
        parameter given a tensor's name), or None when it names none."""
        if not isinstance(term, S.Layer) or term.args is not None:
            return None
        name = term.name
        bound = env.get(name)
        if isinstance(bound, Thunk) and isinstance(bound.node, S.Name):
            value = evaluate(bound.node, self.ctx, bound.env, R.CHOICE)
            if isinstance(value, str) and self.ctx.names_tensor(value):
                return value
        return name if self.ctx.names_tensor(name) else None

    def unknown_name(self, term: S.Term) -> bool:
        """True for a bare name that is no layer, definition or tensor (a graph's typo)."""
        return (
            isinstance(term, S.Layer)
            and term.args is None
            and not is_input(term)
            and term.name not in self.ctx.definitions
            and R.lookup(term.name) is None
        )

    def joins_tensors(self, term: S.Term, env: Env) -> bool:
        """True for branches `[a | b]` or `[a + b]` whose every branch starts from a tensor."""
        return (
            isinstance(term, S.Branches)
            and term.kind != "single"
            and all(
                self.tensor_source(c.items[0], env) is not None or self.joins_tensors(c.items[0], env)
                for c in term.chains
            )
        )

    def read(self, term: S.Layer, name: str, index: str, depth: int) -> Built:
        """A row that reads a named tensor: no parameters, its shape (README "Graphs")."""
        shape = self.ctx.read_tensor(name, term)
        zero = self.ctx.number(0)
        text = self.ctx.snippet(term)
        row = LayerInfo(
            index,
            text if text == name else f"{text} = {name}",
            TENSOR_KIND,
            shape,
            zero,
            zero,
            zero,
            self.ctx.convention,
            depth=depth,
            start=term.start,
            end=term.end,
            costs=Costs.given({key: zero for key in R.COSTS}),
            count=self.ctx.number(1),
            args={"tensor": name},  # the tensor read, for the exporters
        )
        return shape, row

    def visit_Layer(self, term: S.Layer, shape: Shape, env: Env, index: str, depth: int) -> Built:
        if self.tensor_source(term, env) is not None or (
            self.ctx.names_tensor(term.name) and term.name not in env
        ):
            raise self.ctx.error(
                f"tensor '{term.name}' can only start a line or a branch: to join it with the "
                f"tensor before it write [id | {term.name}] (concatenated) or [id + {term.name}] (summed)",
                term,
                ParseError,
            )
        if term.name in self.ctx.definitions:
            return self.use_definition(term, shape, env, index, depth)
        spec = self.spec(term)
        spent = self.ctx.budget.spend()
        if spent is not None:
            raise self.ctx.error(
                f"the architecture {spent}; stopped at {self.ctx.snippet(term)}", term, LimitError
            )
        call, out, pending = self.call(spec, term, shape, env)
        kept = self.settle(pending + list(out.conditions), term)
        if spec.expand is not None:  # a layer made of layers: built as a block of rows
            inner, rows = self.chain(spec.expand(call, term), shape, {}, index, depth + 1)
            block = self.block(term, out.kind, inner, rows, index, depth)
            notes = tuple(f"{self.ctx.snippet(term)}: {note}" for note in out.notes)
            return inner, replace(block, name=spec.name, args=call.args, notes=notes)
        for key, value in out.facts.items():
            self.ctx.facts[key] = self.ctx.facts.get(key, ()) + (value,)
        row = LayerInfo(
            index,
            self.ctx.snippet(term),
            out.kind,
            out.shape,
            out.weights,
            out.biases,
            out.non_trainable,
            self.ctx.convention,
            kept,
            depth=depth,
            start=term.start,
            end=term.end,
            count=self.ctx.number(1),
            inactive=out.inactive,
            name=spec.name,
            args=call.args,
            costs=self.costs(out, term),
            notes=tuple(f"{self.ctx.snippet(term)}: {note}" for note in out.notes),
        )
        return out.shape, row

    def costs(self, out: R.LayerOut, term: S.Layer) -> Costs:
        """The row's costs: the formula's figures, each it left for later (`Later`) worked
        out, counted and checked against the limits when first read."""
        figures = {key: getattr(out, key) for key in R.COSTS}
        if not any(isinstance(v, Later) for v in figures.values()):
            return Costs.given(figures)
        count = self.ctx.numbers.count
        check = self.limit_check(term)
        return Costs.given(figures, lambda key, value: check(key, count(value)))

    def limit_check(self, term: S.Node) -> Callable[[str, Any], Any]:
        """What a figure read later goes through: MACs beyond the limits are a LimitError
        at `term` (a block's, when its rows' are added up)."""
        ctx = self.ctx

        def check(key: str, value: Any) -> Any:
            if key == "macs":
                within_limits((), term, ctx, (value,))
            return value

        return check

    def spec(self, term: S.Layer) -> R.LayerSpec:
        """The registered layer a name stands for; an unknown name lists the known ones."""
        spec = R.lookup(term.name)
        if spec is None:
            known = ["I", *R.layer_names(), *self.ctx.definitions]
            close, why = suggestions(term.name, list(R.REGISTRY) + list(self.ctx.definitions))
            notes = ((f"Did you mean: {', '.join(close)}?",) if close else ()) + why
            raise self.ctx.error(
                f"unknown layer '{term.name}'", term, ParseError, expected=tuple(known), notes=notes
            )
        return spec

    def call(
        self, spec: R.LayerSpec, term: S.Layer, shape: Shape, env: Env
    ) -> tuple[R.LayerCall, R.LayerOut, list[Condition]]:
        """The layer's formula run on its bound arguments, in this build's numbers, and
        the conditions its arguments need (settled with the formula's own)."""
        pending: list[Condition] = []
        saved, self.ctx.conditions = self.ctx.conditions, pending
        try:
            args = self.bound(spec, term, shape, env)
            call = R.LayerCall(shape, args, self.ctx.convention, self.ctx.facts)
            key = formula_key(spec, call)
            try:
                known = self.ctx.formulas.get(key) if key is not None else None
            except TypeError:  # an unhashable argument: the result is not kept
                key, known = None, None
            if known is not None:
                return call, known, pending
            try:
                out = spec.fn(call)
            except ShapeError as err:
                raise self.ctx.at(err, term, prefix=f"{self.ctx.snippet(term)} ") from None
        finally:
            self.ctx.conditions = saved
        out = self._checked(out, term)
        if key is not None:
            self.ctx.formulas[key] = out
        return call, out, pending

    def bound(self, spec: R.LayerSpec, term: S.Layer, shape: Shape, env: Env) -> R.Args:
        """The layer's arguments bound, and the conditions they need added to the build's.
        A layer written once but built many times (in a definition without parameters, or
        a repeated block) binds the same way each time on inputs of the same rank: its
        arguments read no parameter and no tensor, so that is done once."""
        if env or any(p.kind == R.TENSOR for p in spec.params):
            return bind(spec, term, shape, self.ctx, env)
        key = (id(term), len(shape))  # the node is kept with its entry, so its id stays its own
        known = self.ctx.bound.get(key)
        if known is not None and known[0] is term:
            self.ctx.conditions.extend(known[2])
            return known[1]
        start = len(self.ctx.conditions)
        args = bind(spec, term, shape, self.ctx, env)
        self.ctx.bound[key] = (term, args, tuple(self.ctx.conditions[start:]))
        return args

    def _checked(self, out: R.LayerOut, term: S.Layer) -> R.LayerOut:
        """The formula's result in this build's numbers, refused when beyond the limits."""
        count = self.ctx.numbers.count
        values = (*out.shape, out.weights, out.biases, out.non_trainable, out.inactive)
        values += tuple(getattr(out, key) for key in R.COSTS)
        if any(isinstance(x, int) for x in values):
            out = self._counted(out, count)
        macs = () if isinstance(out.macs, Later) else (out.macs,)  # a later one, when read (costs)
        within_limits(out.shape, term, self.ctx, (out.weights, out.biases, out.non_trainable, *macs))
        return out

    @staticmethod
    def _counted(out: R.LayerOut, count: Any) -> R.LayerOut:
        """The formula's plain ints as this build's numbers (a no-op when it gave none)."""
        return replace(
            out,
            shape=tuple(count(x) for x in out.shape),
            weights=count(out.weights),
            biases=count(out.biases),
            non_trainable=count(out.non_trainable),
            inactive=count(out.inactive),
            **{key: count(getattr(out, key)) for key in R.COSTS},
        )

    def settle(self, conditions: list[Condition], term: S.Node) -> tuple[Condition, ...]:
        """Fail on a condition that is false; keep the symbolic ones."""
        kept = []
        for cond in conditions:
            if is_false(cond.holds):
                raise self.ctx.error(f"{self.ctx.snippet(term)} {cond.message}", term)
            if not is_true(cond.holds):
                kept.append(cond)
        self.ctx.conditions.extend(kept)
        return tuple(kept)

    def block(
        self,
        term: S.Node,
        kind: str,
        shape: Shape,
        rows: list[LayerInfo],
        index: str,
        depth: int,
        count: Any = None,
    ) -> LayerInfo:
        count = self.ctx.number(1) if count is None else count

        def summed(key: str) -> Any:
            return repeated_total([getattr(r, key) for r in rows], count)

        row = LayerInfo(
            index,
            self.ctx.snippet(term),
            kind,
            shape,
            summed("weights"),
            summed("biases"),
            summed("non_trainable"),
            self.ctx.convention,
            children=tuple(rows),
            depth=depth,
            count=count,
            start=term.start,
            end=term.end,
            inactive=summed("inactive"),
            costs=Costs.summed([r.costs for r in rows], count, self.limit_check(term)),
        )
        within_limits(row.shape, term, self.ctx, (row.weights, row.biases, row.non_trainable))
        return row


# Framework layer names (lower case, without 1d/2d/3d) that are not close to a name of
# ours, and what symparams writes for them.
FRAMEWORK_NAMES = {
    "linear": "H",
    "convtranspose": "T",
    "maxpooling": "P",
    "averagepooling": "A",
    "avgpooling": "A",
    "globalaveragepooling": "GAP",
    "globalmaxpooling": "GMP",
    "adaptiveaveragepooling": "AAP",
    "batchnormalization": "BN",
    "layernormalization": "LN",
    "zeropadding": "Z",
    "multiheadattention": "MHA",
    "simplernn": "R",
    "identity": "id",
    "groupnormalization": "GN",
    "groupnorm": "GN",
    "instancenormalization": "IN",
    "instancenorm": "IN",
    "stochasticdepth": "DP",
    "pixelshuffle": "D2S",
    "pixelunshuffle": "S2D",
    "upsampling": "UP",
    "selu": "elu",
    "swish": "silu",
    "hardswish": "hswish",
    "hardtanh": "tanh",
    "hardsigmoid": "hsigmoid",
    "logsoftmax": "softmax",
}
_ACTIVATION_NOTE = (
    "Activations have no parameters: relu, gelu, silu, tanh, sigmoid, softmax, elu or id "
    "gives the same count as any other."
)


def suggestions(name: str, names: list[str]) -> tuple[list[str], tuple[str, ...]]:
    """The layer names a misspelt or framework-style one most likely means, best first
    (`c` -> C, `ReLU` -> relu, `SELU` -> elu), and a note on why when it is a
    framework name of ours in other words."""
    lower: dict[str, list[str]] = {}
    for known in names:
        lower.setdefault(known.lower(), []).append(known)
    key = name.lower()
    bare = re.sub(r"[123]d", "", key)
    first = lower.get(key, []) + lower.get(bare, [])
    notes: tuple[str, ...] = ()
    meant = FRAMEWORK_NAMES.get(bare)
    if meant is not None and meant in names:
        first.append(meant)
        spec = R.lookup(meant)
        if spec is not None and not spec.params and spec.name.islower():
            notes = (_ACTIVATION_NOTE,)
    close = difflib.get_close_matches(key, list(lower), n=3)
    ordered = list(dict.fromkeys(first + [n for c in close for n in lower[c]]))
    return ordered[:3], notes


def formula_key(spec: R.LayerSpec, call: R.LayerCall) -> Hashable | None:
    """What a layer's formula result depends on: its name, input shape, bound arguments (each
    with its type, so 1 and 1.0 or True stay apart), convention and facts; None when an
    argument names a tensor (its name may matter), and it is not kept (nor when an
    argument is unhashable, which the lookup finds).

    Formulas are pure functions of their call, so a call the build has seen gives the same
    result: DenseNet's 24 dense layers run BN-relu-C(32,3) on one shape each time, and an
    Inception block's branches repeat their convolutions."""
    values = tuple((name, type(v), v) for name, v in call.args.items())
    if any(isinstance(v, R.TensorShape) for _, _, v in values):
        return None
    return (spec.name, call.shape, values, call.convention, tuple(call.facts.items()))


def is_input(term: S.Term) -> bool:
    return isinstance(term, S.Layer) and term.name in INPUT_NAMES
