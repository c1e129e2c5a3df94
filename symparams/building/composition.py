"""Composition (LANGUAGE.md section 4): repetition, branches, replication.

Each form builds its parts with the builder that builds single layers and makes one
block row whose counts combine the parts' counts:

- `X*n` of a block that keeps its shape is built once and multiplied, so `X*1000000`
  costs what `X*2` costs, and a symbolic n gives a closed form; a block that changes
  the shape is applied n times (bounded), until it reaches a shape it keeps.
- `[A | B]` builds every branch on the same input and concatenates on the last axis
  (torch.cat on channels, keras.layers.Concatenate(axis=-1)); `[A + B]` sums outputs
  of one shape (keras.layers.Add, a residual `x + f(x)`).
- `[A * B]` multiplies outputs elementwise (torchvision's SqueezeExcitation `scale *
  input`, keras.layers.Multiply): shapes broadcast as numpy's do on the channels-last
  shapes, so a gate of shape (c) or (1, 1, c) scales every position of an (h, w, c).
- `n[A]` is n copies of A side by side: n times A's parameters, n times its last axis.

A block row's `count` is how many times it runs (n for `X*n` and `n[A]`, else 1). A
block that keeps its shape shows its body once: `row.params == row.count *
sum(child.params)`; a repeated block that changes the shape shows one child per
application (or per run of equal applications), and its params are their sum.

>>> import symparams
>>> symparams.parse("I(t,d)-(LN-H(4*d)-gelu-H(d))*L").params
L*(8*d**2 + 7*d)
>>> symparams.parse("I(50,50,1)-3[C(32,3)-P(2)-C(32,3)-P(2)-H(256)]-O(11)").params
3011627
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from ..base.errors import LimitError, SymparamsError
from ..base.expr import (
    AXIS_NAMES,
    Condition,
    at_least,
    is_false,
    is_int,
    is_number,
    provably_equal,
    sympy,
    total,
)
from ..language import syntax as S
from ..layers import registry as R
from ..layers.shapes import shape_text
from ..result import LayerInfo
from .context import INPUT_NAMES
from .evaluate import evaluate, whole
from .steps import BuildSteps, Built, Env, Shape

if TYPE_CHECKING:
    from sympy import Expr


# Applications of shape-changing repeated blocks in one build: each is a real build of
# the block, so a count like `P(1)*10^9` is refused instead of running for hours.
MAX_UNROLL = 10_000
SETTLE_WITHIN = 8  # applications after which a block that still changes the shape is not waited for


def same_shape(a: Shape, b: Shape) -> bool:
    """True when two shapes are equal for every value of their symbols.

    >>> from symparams.base.expr import symbol
    >>> h = symbol("h")
    >>> same_shape((h, 3), (h + 1 - 1, 3)), same_shape((h,), (2 * h,))
    (True, False)
    """
    return len(a) == len(b) and all(provably_equal(x, y) for x, y in zip(a, b))


def _axis_name(rank: int, axis: int) -> str:
    names = AXIS_NAMES.get(rank, tuple(f"x{i}" for i in range(rank - 1)) + ("c",))
    return names[axis]


def _is_one(size: Any) -> bool:
    return bool(is_number(size) and size == 1)


def times(row: LayerInfo, k: Expr) -> LayerInfo:
    """A row run k times in a row: its counts multiplied, its `count` too."""
    return replace(
        row,
        weights=k * row.weights,
        biases=k * row.biases,
        non_trainable=k * row.non_trainable,
        count=k * row.count,
        inactive=k * row.inactive,
        costs=row.costs.times(k),
    )


def bracketed(row: LayerInfo) -> LayerInfo:
    """The row of a `[...]` form, its text with the brackets (the node spans the inside)."""
    return replace(row, text=f"[{row.text}]")


class CompositionForms(BuildSteps):
    """The composite forms of the builder (`Builder` in builder.py): `X*n`, `[A | B]`,
    `[A + B]`, `[A]` and `n[A]`. The building blocks they call are the builder's."""

    # ------------------------------------------------------------ counts
    def count_value(self, node: S.Expr, env: Env, term: S.Node, what: str) -> Expr:
        """The n of `X*n` or `n[A]`: a whole number >= 1, or a symbolic one (a condition)."""
        value = evaluate(node, self.ctx, env, R.SIZE)
        if isinstance(value, (str, tuple)):
            raise self.ctx.error(
                f"{what} must be a whole number or a symbol, not the keyword '{value}'", node
            )
        if is_number(value):  # a whole number >= 1, or an error (the numeric build: the symbolic one says it)
            return whole(value, 1, what, node, self.ctx)
        if not value.is_positive:
            self.settle([at_least(value, 1, f"needs {what} {value} >= 1")], term)
        return value

    # ------------------------------------------------------------ X*n
    def visit_Repeat(self, term: S.Repeat, shape: Shape, env: Env, index: str, depth: int) -> Built:
        """`X*n`: X applied n times in a row; `X**n` one X whose weights serve n times."""
        n = self.count_value(term.count, env, term, "a repetition count")
        out, rows = self.body_rows(term.body, shape, env, index, depth + 1)
        if term.shared:
            return self.shared_repeat(term, n, shape, out, rows, index, depth)
        if same_shape(out, shape):
            # The block sees the same input every time, so its counts and conditions are the
            # same every time: n copies are n times one copy (PyTorch: n separate modules).
            return shape, self.block(term, "Repeat", shape, rows, index, depth, count=n)
        if not is_number(n):
            settled = self.settles_after_one(term, n, out, rows, env, index, depth)
            if settled is not None:
                return settled
            kept = self.keeps_shape_when(term, out, shape)
            if kept is not None:
                # Under the conditions the block keeps its shape, so every copy sees the input
                # the first saw: n copies are n times one copy, as above.
                self.settle(kept, term)
                return out, self.block(term, "Repeat", out, rows, index, depth, count=n)
            c = self.ctx.convention
            raise self.ctx.error(
                f"{self.ctx.snippet(term)} repeats a block a symbolic number of times ({n}), which needs a block "
                f"that keeps its shape, but it maps {shape_text(shape, c)} to {shape_text(out, c)}",
                term,
                notes=(f"Give {n} a value, or write the first application apart: X-X*({n}-1)",),
            )
        return self.unroll(term, int(n), shape, env, index, depth)

    def shared_repeat(
        self, term: S.Repeat, n: Expr, shape: Shape, out: Shape, rows: list[LayerInfo], index: str, depth: int
    ) -> Built:
        """`X**n` (ALBERT's one layer applied 12 times): the parameters once, the work
        (MACs, activations) n times; the block must keep its shape, since its output is
        its next input."""
        if not same_shape(out, shape):
            c = self.ctx.convention
            raise self.ctx.error(
                f"{self.ctx.snippet(term)} applies one block's weights {n} times, which needs a block "
                f"that keeps its shape, but it maps {shape_text(shape, c)} to {shape_text(out, c)}",
                term,
                notes=("X**n feeds X's output back into X; write X*n for n blocks of their own",),
            )
        once = self.block(term, "SharedRepeat", shape, rows, index, depth)
        # Run n times on one set of weights: n times the MACs, the rest as once.
        return shape, replace(
            once, costs=once.costs.map(lambda macs: n * macs, keys=("macs",), adds=n), count=n
        )

    def settles_after_one(
        self, term: S.Repeat, n: Expr, out: Shape, rows: list[LayerInfo], env: Env, index: str, depth: int
    ) -> Built | None:
        """`X*n` of a block that changes the shape once and then keeps it (`SwiGLU(3)` on
        (5, c), `C(8,1)` on 3 channels): the first application, then n - 1 of the second,
        exactly as the numeric build unrolls it; None when the second changes it again."""
        # A trial: what it adds to the build's conditions and facts is dropped if it fails.
        conditions, facts = list(self.ctx.conditions), dict(self.ctx.facts)
        try:
            again, second = self.body_rows(term.body, out, env, f"{index}.2", depth + 1)
        except SymparamsError:
            again, second = None, []
        if again is None or not same_shape(again, out):
            self.ctx.conditions[:] = conditions
            self.ctx.facts.clear()
            self.ctx.facts.update(facts)
            return None
        first = (
            self.block(term.body, "Sequential", out, rows, f"{index}.1", depth + 1)
            if len(rows) > 1
            else rows[0]
        )
        rest = self.block(term.body, "Sequential", out, second, f"{index}.2", depth + 1, count=n - 1)
        return out, replace(self.block(term, "Repeat", out, [first, rest], index, depth), count=n)

    def keeps_shape_when(self, term: S.Repeat, out: Shape, shape: Shape) -> list[Condition] | None:
        """The conditions under which a block that maps `shape` to `out` keeps its shape
        (`SwiGLU(3)` on (5, c): c = 3), or None when it never does (a different rank, or
        axes that differ by a number)."""
        if len(out) != len(shape):
            return None
        pending = []
        for axis, (y, x) in enumerate(zip(out, shape)):
            if provably_equal(x, y):
                continue
            if is_int(x) and is_int(y):
                return None
            holds = sympy.Eq(y, x)
            if is_false(holds) or (x - y).is_number:
                return None
            name = _axis_name(len(shape), axis)
            pending.append(
                Condition(
                    holds, f"{self.ctx.snippet(term)} keeps its shape only when {y} = {x} (axis {name})"
                )
            )
        return pending

    def body_rows(
        self, body: S.Term, shape: Shape, env: Env, index: str, depth: int
    ) -> tuple[Shape, list[LayerInfo]]:
        """The rows of a repeated body: a group's own layers, or the one term's row."""
        if isinstance(body, S.Group):
            return self.chain(body.chain, shape, env, index, depth)
        out, row = self.term(body, shape, env, f"{index}.1", depth)
        return out, [row]

    def unroll(self, term: S.Repeat, n: int, shape: Shape, env: Env, index: str, depth: int) -> Built:
        """A shape-changing block applied n times, one row per application; once an
        application keeps its shape, every later one is the same and is multiplied."""
        rows: list[LayerInfo] = []
        current = shape
        done = 0
        while done < n:
            self._count_unrolled(term, n, done)
            try:
                out, row = self.term(term.body, current, env, f"{index}.{done + 1}", depth + 1)
            except SymparamsError as err:
                if done == 0:
                    raise
                raise err.with_note(
                    f"in application {done + 1} of {n} of {self.ctx.snippet(term)}, "
                    f"on an input of shape {shape_text(current, self.ctx.convention)}"
                ) from None
            done += 1
            if same_shape(out, current) and done < n:
                rows.append(times(row, self.ctx.number(n - done + 1)))
                done = n
            else:
                rows.append(row)
            current = out
        # The rows already hold every application: their sum is the total, and `count`
        # still says how many times the block runs.
        # `args` tells an exporter that the children are the applications, not one body.
        return current, replace(
            self.block(term, "Repeat", current, rows, index, depth),
            count=self.ctx.number(n),
            args={"unrolled": True},
        )

    def _count_unrolled(self, term: S.Repeat, n: int, done: int) -> None:
        self.ctx.unrolled += 1
        # A block still changing the shape after a few applications rarely settles later:
        # refuse a count beyond the limit at once rather than after MAX_UNROLL builds.
        hopeless = done >= SETTLE_WITHIN and self.ctx.unrolled + (n - done) > MAX_UNROLL
        if self.ctx.unrolled > MAX_UNROLL or hopeless:
            raise self.ctx.error(
                f"{self.ctx.snippet(term)} changes the shape, so each of its {n:,} applications "
                f"is built; the limit is {MAX_UNROLL:,} in one architecture",
                term,
                LimitError,
            )

    # ------------------------------------------------------------ [A | B], [A + B], [A]
    def visit_Branches(self, term: S.Branches, shape: Shape, env: Env, index: str, depth: int) -> Built:
        """Branches on the same input: `[A]` a group, `[A | B]` concatenated, `[A + B]` summed."""
        if term.kind == "single":
            out, rows = self.chain(term.chains[0], shape, env, index, depth + 1)
            return out, bracketed(self.block(term, "Sequential", out, rows, index, depth))
        outs: list[Shape] = []
        rows = []
        for i, chain in enumerate(term.chains):
            out, row = self.branch(chain, shape, env, f"{index}.{i + 1}", depth + 1)
            outs.append(out)
            rows.append(row)
        if term.kind == "concat":
            out, kind = self.concat_shape(term, outs), "Concat"
        elif term.kind == "mul":
            out, kind = self.product_shape(term, outs), "Multiply"
        else:
            out, kind = self.sum_shape(term, outs), "Add"
        return out, bracketed(self.block(term, kind, out, rows, index, depth))

    def branch(self, chain: S.Chain, shape: Shape, env: Env, index: str, depth: int) -> Built:
        """One branch: a single term's own row, or a Sequential row of its chain."""
        if len(chain.items) == 1:
            item = chain.items[0]
            if isinstance(item, S.Layer) and item.name in INPUT_NAMES:
                raise self.ctx.error("an input layer I can only start the network", item)
            source = self.tensor_source(item, env)
            if source is not None:  # `[id | enc]`: a branch that is a named tensor
                return self.read(item, source, index, depth)  # type: ignore[arg-type]
            return self.term(item, shape, env, index, depth)
        out, rows = self.chain(chain, shape, env, index, depth + 1, branch=True)
        return out, self.block(chain, "Sequential", out, rows, index, depth)

    def concat_shape(self, term: S.Branches, outs: list[Shape]) -> Shape:
        """Concatenation on the last axis: every other axis must agree."""
        self._same_rank(term, outs, "concatenation")
        for j in range(1, len(outs)):
            self._agree(
                term,
                outs,
                0,
                j,
                range(len(outs[0]) - 1),
                "concatenation joins the last (channel) axis; every other axis must agree",
            )
        return tuple(outs[0][:-1]) + (total([o[-1] for o in outs]),)

    def sum_shape(self, term: S.Branches, outs: list[Shape]) -> Shape:
        """A sum of branches: every axis must agree."""
        self._same_rank(term, outs, "a sum")
        for j in range(1, len(outs)):
            self._agree(term, outs, 0, j, range(len(outs[0])), "a sum of branches needs equal shapes")
        return outs[0]

    def product_shape(self, term: S.Branches, outs: list[Shape]) -> Shape:
        """A product of branches broadcasts as numpy on the channels-last shapes: axes are
        matched from the last (channel) one, and a missing axis or an axis of 1 stretches
        to the other's. So a gate (c), or (1, 1, c), scales every position of (h, w, c)
        (torch's [c, 1, 1] against [c, h, w]; Keras's (1, 1, c) against (h, w, c))."""
        rule = (
            "a product broadcasts: matched from the channel axis, each axis must be equal "
            "or 1 in one of the branches (a gate of shape (c) or (1, 1, c) scales every position)"
        )
        result = outs[0]
        for j in range(1, len(outs)):
            result = self._broadcast(term, outs, result, j, rule)
        return result

    def _broadcast(self, term: S.Branches, outs: list[Shape], left: Shape, j: int, rule: str) -> Shape:
        right = outs[j]
        rank = max(len(left), len(right))
        a = (None,) * (rank - len(left)) + tuple(left)
        b = (None,) * (rank - len(right)) + tuple(right)
        out: list[Any] = []
        pending = []
        for axis, (x, y) in enumerate(zip(a, b)):
            if x is None or (y is not None and _is_one(x)):
                out.append(y)
            elif y is None or _is_one(y) or provably_equal(x, y):
                out.append(x)
            elif is_int(x) and is_int(y):
                raise self._mismatch(term, outs, 0, j, rule)
            else:
                holds = sympy.Eq(x, y)
                if is_false(holds) or (x - y).is_number:
                    raise self._mismatch(term, outs, 0, j, rule)
                name = _axis_name(rank, axis)
                pending.append(
                    Condition(holds, f"needs branches 1 and {j + 1} to agree on axis {name}: {x} = {y}")
                )
                out.append(x)
        self.settle(pending, term)
        return tuple(out)

    def _mismatch(self, term: S.Branches, outs: list[Shape], i: int, j: int, rule: str) -> SymparamsError:
        c = self.ctx.convention
        first, other = term.chains[i], term.chains[j]
        return self.ctx.error(
            f"the branches of [{self.ctx.snippet(term)}] do not fit together: branch {i + 1} "
            f"'{self.ctx.snippet(first)}' gives {shape_text(outs[i], c)} but branch {j + 1} "
            f"'{self.ctx.snippet(other)}' gives {shape_text(outs[j], c)}",
            term,
            notes=(rule,),
        )

    def _same_rank(self, term: S.Branches, outs: list[Shape], what: str) -> None:
        for j in range(1, len(outs)):
            if len(outs[j]) != len(outs[0]):
                raise self._mismatch(term, outs, 0, j, f"{what} needs outputs with the same number of axes")

    def _agree(self, term: S.Branches, outs: list[Shape], i: int, j: int, axes: range, rule: str) -> None:
        """Equal axes pass, different numbers fail, symbolic ones that cannot be shown equal
        become conditions (`floor(h/2) = h - 2`)."""
        pending = []
        rank = len(outs[i])
        for axis in axes:
            x, y = outs[i][axis], outs[j][axis]
            if provably_equal(x, y):
                continue
            if is_int(x) and is_int(y):
                raise self._mismatch(term, outs, i, j, rule)
            holds = sympy.Eq(x, y)
            if is_false(holds) or (x - y).is_number:
                raise self._mismatch(term, outs, i, j, rule)
            name = _axis_name(rank, axis)
            pending.append(
                Condition(holds, f"needs branches {i + 1} and {j + 1} to agree on axis {name}: {x} = {y}")
            )
        self.settle(pending, term)

    # ------------------------------------------------------------ n[A]
    def visit_Replicate(self, term: S.Replicate, shape: Shape, env: Env, index: str, depth: int) -> Built:
        """`n[A]`: n copies of A on the same input, concatenated on the last axis."""
        n = self.count_value(term.count, env, term, "a replica count")
        body = term.body
        if body.kind == "single":
            out, rows = self.chain(body.chains[0], shape, env, index, depth + 1)
        else:
            out, row = self.visit_Branches(body, shape, env, f"{index}.1", depth + 1)
            rows = [row]
        # Copies of one block on one input have one output shape: concatenating n of them
        # multiplies the last axis by n, and the parameters (each copy has its own).
        wide = tuple(out[:-1]) + (n * out[-1],)
        return wide, self.block(term, "Parallel", wide, rows, index, depth, count=n)
