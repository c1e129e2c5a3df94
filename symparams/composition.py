"""Composition (LANGUAGE.md section 4): repetition, branches, replication, definitions.

Each form builds its parts with the same `Builder` that builds single layers and makes
one block row whose counts combine the parts' counts:

- `X*n` of a block that keeps its shape is built once and multiplied, so `X*1000000`
  costs what `X*2` costs, and a symbolic n gives a closed form; a block that changes
  the shape is applied n times (bounded), until it reaches a shape it keeps.
- `[A | B]` builds every branch on the same input and concatenates on the last axis
  (torch.cat on channels, keras.layers.Concatenate(axis=-1)); `[A + B]` sums outputs
  of one shape (keras.layers.Add, a residual `x + f(x)`).
- `n[A]` is n copies of A side by side: n times A's parameters, n times its last axis.
- A definition is expanded where it is used, its arguments passed by name (`Thunk`):
  they are evaluated where the body uses them, in the text around the use.

A block row's `count` is how many times it runs (n for `X*n` and `n[A]`, else 1). A
block that keeps its shape shows its body once: `row.params == row.count *
sum(child.params)`; a repeated block that changes the shape shows one child per
application (or per run of equal applications), and its params are their sum.

>>> import symparams
>>> symparams.parse("I(t,d)-(LN-H(4*d)-gelu-H(d))*L").params
L*(8*d**2 + 7*d)
>>> symparams.parse("I(50,50,1)-3[C(32,3)-P(2)-C(32,3)-P(2)-H(256)]-O(11)").params
3011627
>>> net = symparams.parse("basic(k) = [C(k,3,p=1)-relu-C(k,3,p=1) + id]; I(8,8,16)-basic(16)*2")
>>> net.params, [(row.text, row.kind, row.count) for row in net.layers[1:]]
(9280, [('basic(16)*2', 'Repeat', 2)])
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import replace
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from . import syntax as S
from .arith import is_false, is_int, is_number, provably_equal, sympy
from .builder import Builder, Thunk, _whole, evaluate
from .errors import DefinitionError, LimitError, ParseError, SymparamsError, _locate
from .layers import registry as R
from .network import LayerInfo, ordered_shape, total
from .shapes import Condition, at_least
from .symbols import AXIS_NAMES

if TYPE_CHECKING:
    from sympy import Expr

Shape = tuple[Any, ...]  # sizes: ints in the numeric build, sympy expressions otherwise
Built = tuple[Shape, LayerInfo]

# Applications of shape-changing repeated blocks in one build: each is a real build of
# the block, so a count like `P(1)*10^9` is refused instead of running for hours.
MAX_UNROLL = 10_000
SETTLE_WITHIN = 8  # applications after which a block that still changes the shape is not waited for


# ---------------------------------------------------------------- shapes
def same_shape(a: Shape, b: Shape) -> bool:
    """True when two shapes are equal for every value of their symbols.

    >>> from symparams.symbols import symbol
    >>> h = symbol("h")
    >>> same_shape((h, 3), (h + 1 - 1, 3)), same_shape((h,), (2 * h,))
    (True, False)
    """
    return len(a) == len(b) and all(provably_equal(x, y) for x, y in zip(a, b))


def shape_text(shape: Shape, convention: str) -> str:
    """A shape as the convention prints it: `[64, h, w]` for torch, `(h, w, 64)` for keras."""
    items = ", ".join(str(x) for x in ordered_shape(shape, convention))
    return f"[{items}]" if convention == "torch" else f"({items}{',' if len(shape) == 1 else ''})"


def _axis_name(rank: int, axis: int) -> str:
    names = AXIS_NAMES.get(rank, tuple(f"x{i}" for i in range(rank - 1)) + ("c",))
    return names[axis]


# ---------------------------------------------------------------- counts
def count_value(b: Builder, node: S.Expr, env: Mapping[str, Any], term: S.Node, what: str) -> Expr:
    """The n of `X*n` or `n[A]`: a whole number >= 1, or a symbolic one (a condition)."""
    value = evaluate(node, b.ctx, env, R.SIZE)
    if b.ctx.numeric:  # a whole number >= 1, or the symbolic build explains
        return _whole(value, 1, what, node, b.ctx)
    if not isinstance(value, sympy.Expr):
        raise b.ctx.error(f"{what} must be a whole number or a symbol, not the keyword '{value}'", node)
    if value.is_number:
        if not value.is_integer:
            raise b.ctx.error(f"{what} must be a whole number, got {value}", node)
        if value < 1:
            raise b.ctx.error(f"{what} must be at least 1, got {value}", node)
        return value
    if not value.is_positive:
        b._settle([at_least(value, 1, f"needs {what} {value} >= 1")], term)
    return value


def times(row: LayerInfo, k: Expr) -> LayerInfo:
    """A row run k times in a row: its counts multiplied, its `count` too."""
    return replace(row, weights=k * row.weights, biases=k * row.biases,
                   non_trainable=k * row.non_trainable, macs=k * row.macs, count=k * row.count)


# ---------------------------------------------------------------- X*n
def repeat(b: Builder, term: S.Repeat, shape: Shape, env: Mapping[str, Any], index: str,
           depth: int) -> Built:
    """`X*n`: X applied n times in a row."""
    n = count_value(b, term.count, env, term, "a repetition count")
    out, rows = body_rows(b, term.body, shape, env, index, depth + 1)
    if same_shape(out, shape):
        # The block sees the same input every time, so its counts and conditions are the
        # same every time: n copies are n times one copy (PyTorch: n separate modules).
        return shape, b.block(term, "Repeat", shape, rows, index, depth, count=n)
    if not is_number(n):
        c = b.ctx.convention
        raise b.ctx.error(
            f"{b.ctx.snippet(term)} repeats a block a symbolic number of times ({n}), which needs a block "
            f"that keeps its shape, but it maps {shape_text(shape, c)} to {shape_text(out, c)}", term,
            notes=(f"Give {n} a value, or write the first application apart: X-X*({n}-1)",))
    return unroll(b, term, int(n), shape, env, index, depth)


def body_rows(b: Builder, body: S.Term, shape: Shape, env: Mapping[str, Any], index: str,
              depth: int) -> tuple[Shape, list[LayerInfo]]:
    """The rows of a repeated body: a group's own layers, or the one term's row."""
    if isinstance(body, S.Group):
        return b.chain(body.chain, shape, env, index, depth)
    out, row = b.term(body, shape, env, f"{index}.1", depth)
    return out, [row]


def unroll(b: Builder, term: S.Repeat, n: int, shape: Shape, env: Mapping[str, Any], index: str,
           depth: int) -> Built:
    """A shape-changing block applied n times, one row per application; once an
    application keeps its shape, every later one is the same and is multiplied."""
    rows: list[LayerInfo] = []
    current = shape
    done = 0
    while done < n:
        b.ctx.unrolled += 1
        # A block still changing the shape after a few applications rarely settles later:
        # refuse a count beyond the limit at once rather than after MAX_UNROLL builds.
        hopeless = done >= SETTLE_WITHIN and b.ctx.unrolled + (n - done) > MAX_UNROLL
        if b.ctx.unrolled > MAX_UNROLL or hopeless:
            raise b.ctx.error(f"{b.ctx.snippet(term)} changes the shape, so each of its {n:,} applications "
                              f"is built; the limit is {MAX_UNROLL:,} in one architecture", term, LimitError)
        try:
            out, row = b.term(term.body, current, env, f"{index}.{done + 1}", depth + 1)
        except SymparamsError as err:
            if done == 0:
                raise
            raise with_note(err, f"in application {done + 1} of {n} of {b.ctx.snippet(term)}, "
                                 f"on an input of shape {shape_text(current, b.ctx.convention)}") from None
        done += 1
        if same_shape(out, current) and done < n:
            rows.append(times(row, b.ctx.number(n - done + 1)))
            done = n
        else:
            rows.append(row)
        current = out
    # The rows already hold every application: their sum is the total, and `count`
    # still says how many times the block runs.
    return current, replace(b.block(term, "Repeat", current, rows, index, depth), count=b.ctx.number(n))


def with_note(err: SymparamsError, note: str) -> SymparamsError:
    """The same error with one more line of context."""
    err.notes = err.notes + (note,)
    err.args = (err.render(),)
    return err


# ---------------------------------------------------------------- [A | B], [A + B], [A]
def branches(b: Builder, term: S.Branches, shape: Shape, env: Mapping[str, Any], index: str,
             depth: int) -> Built:
    """Branches on the same input: `[A]` a group, `[A | B]` concatenated, `[A + B]` summed."""
    if term.kind == "single":
        out, rows = b.chain(term.chains[0], shape, env, index, depth + 1)
        return out, bracketed(b.block(term, "Sequential", out, rows, index, depth))
    outs: list[Shape] = []
    rows = []
    for i, chain in enumerate(term.chains):
        out, row = branch(b, chain, shape, env, f"{index}.{i + 1}", depth + 1)
        outs.append(out)
        rows.append(row)
    if term.kind == "concat":
        out, kind = concat_shape(b, term, outs), "Concat"
    else:
        out, kind = sum_shape(b, term, outs), "Add"
    return out, bracketed(b.block(term, kind, out, rows, index, depth))


def bracketed(row: LayerInfo) -> LayerInfo:
    """The row of a `[...]` form, its text with the brackets (the node spans the inside)."""
    return replace(row, text=f"[{row.text}]")


def branch(b: Builder, chain: S.Chain, shape: Shape, env: Mapping[str, Any], index: str,
           depth: int) -> Built:
    """One branch: a single term's own row, or a Sequential row of its chain."""
    if len(chain.items) == 1:
        item = chain.items[0]
        if isinstance(item, S.Layer) and item.name in ("I", "Input"):
            raise b.ctx.error("an input layer I can only start the network", item)
        return b.term(item, shape, env, index, depth)
    out, rows = b.chain(chain, shape, env, index, depth + 1)
    return out, b.block(chain, "Sequential", out, rows, index, depth)


def concat_shape(b: Builder, term: S.Branches, outs: list[Shape]) -> Shape:
    """Concatenation on the last axis: every other axis must agree."""
    _same_rank(b, term, outs, "concatenation")
    for j in range(1, len(outs)):
        _agree(b, term, outs, 0, j, range(len(outs[0]) - 1),
               "concatenation joins the last (channel) axis; every other axis must agree")
    return tuple(outs[0][:-1]) + (total([o[-1] for o in outs]),)


def sum_shape(b: Builder, term: S.Branches, outs: list[Shape]) -> Shape:
    """A sum of branches: every axis must agree."""
    _same_rank(b, term, outs, "a sum")
    for j in range(1, len(outs)):
        _agree(b, term, outs, 0, j, range(len(outs[0])), "a sum of branches needs equal shapes")
    return outs[0]


def _mismatch(b: Builder, term: S.Branches, outs: list[Shape], i: int, j: int, rule: str) -> SymparamsError:
    c = b.ctx.convention
    first, other = term.chains[i], term.chains[j]
    return b.ctx.error(
        f"the branches of [{b.ctx.snippet(term)}] do not fit together: branch {i + 1} "
        f"'{b.ctx.snippet(first)}' gives {shape_text(outs[i], c)} but branch {j + 1} "
        f"'{b.ctx.snippet(other)}' gives {shape_text(outs[j], c)}", term, notes=(rule,))


def _same_rank(b: Builder, term: S.Branches, outs: list[Shape], what: str) -> None:
    for j in range(1, len(outs)):
        if len(outs[j]) != len(outs[0]):
            raise _mismatch(b, term, outs, 0, j, f"{what} needs outputs with the same number of axes")


def _agree(b: Builder, term: S.Branches, outs: list[Shape], i: int, j: int, axes: range, rule: str) -> None:
    """Equal axes pass, different numbers fail, symbolic ones that cannot be shown equal
    become conditions (`floor(h/2) = h - 2`)."""
    pending = []
    rank = len(outs[i])
    for axis in axes:
        x, y = outs[i][axis], outs[j][axis]
        if provably_equal(x, y):
            continue
        if is_int(x) and is_int(y):
            raise _mismatch(b, term, outs, i, j, rule)
        holds = sympy.Eq(x, y)
        if is_false(holds) or (x - y).is_number:
            raise _mismatch(b, term, outs, i, j, rule)
        name = _axis_name(rank, axis)
        pending.append(Condition(holds, f"needs branches {i + 1} and {j + 1} to agree on axis {name}: "
                                        f"{x} = {y}"))
    b._settle(pending, term)


# ---------------------------------------------------------------- n[A]
def replicate(b: Builder, term: S.Replicate, shape: Shape, env: Mapping[str, Any], index: str,
              depth: int) -> Built:
    """`n[A]`: n copies of A on the same input, concatenated on the last axis."""
    n = count_value(b, term.count, env, term, "a replica count")
    body = term.body
    if body.kind == "single":
        out, rows = b.chain(body.chains[0], shape, env, index, depth + 1)
    else:
        out, row = branches(b, body, shape, env, f"{index}.1", depth + 1)
        rows = [row]
    # Copies of one block on one input have one output shape: concatenating n of them
    # multiplies the last axis by n, and the parameters (each copy has its own).
    wide = tuple(out[:-1]) + (n * out[-1],)
    return wide, b.block(term, "Parallel", wide, rows, index, depth, count=n)


# ---------------------------------------------------------------- definitions
def definition_uses(node: S.Node) -> Iterator[S.Layer]:
    """Every layer written inside a chain or term, however deeply nested."""
    return (n for n in S.walk(node) if isinstance(n, S.Layer))


def check_definitions(definitions: Mapping[str, S.Definition], text: str) -> None:
    """Refuse definitions that shadow a built-in layer and recursive ones (direct or
    mutual): an architecture is finite, so a definition cannot use itself."""
    for d in definitions.values():
        if d.name in ("I", "Input") or R.lookup(d.name) is not None:
            raise DefinitionError(f"'{d.name}' is a built-in layer; a definition needs a name of its own",
                             text, d.start, d.start + len(d.name))
    state: dict[str, str] = {}

    def visit(name: str, path: tuple[str, ...]) -> None:
        state[name] = "open"
        for use in definition_uses(definitions[name].body):
            if use.name not in definitions:
                continue
            if state.get(use.name) == "open":
                cycle = path[path.index(use.name):] + (name, use.name) if use.name in path else (name, use.name)
                what = "itself" if use.name == name else f"itself through {' → '.join(cycle)}"
                raise DefinitionError(f"recursive definition: '{use.name}' uses {what}, and recursion would "
                                 f"never end",
                                 text, use.start, use.end)
            if use.name not in state:
                visit(use.name, path + (name,))
        state[name] = "done"

    for name in definitions:
        if name not in state:
            visit(name, ())


def bind_definition(b: Builder, d: S.Definition, term: S.Layer, env: Mapping[str, Any]) -> dict[str, Any]:
    """The body's environment: each parameter bound, by name, to the argument written at
    the use. Only parameters are bound: every other name in the body is a network symbol."""
    params = d.params or ()
    args = term.args or ()
    notes = (f"'{d.name}' is defined as: {definition_head(b, d)}",)
    if d.params is None and args:
        raise b.ctx.error(f"'{d.name}' is defined without parameters but is given {len(args)} "
                          f"argument{'s' if len(args) != 1 else ''}", term, notes=notes)
    bound: dict[str, Any] = {}
    for i, arg in enumerate(args):
        if arg.name is None:
            if any(a.name is not None for a in args[:i]):
                raise b.ctx.error("a positional argument cannot follow a keyword argument", arg, ParseError)
            if i >= len(params):
                raise b.ctx.error(f"'{d.name}' takes {len(params)} argument{'s' if len(params) != 1 else ''}, "
                                  f"got {len(args)}", arg, notes=notes)
            name = params[i]
        else:
            if arg.name not in params:
                raise b.ctx.error(f"'{d.name}' has no parameter '{arg.name}'", arg, notes=notes)
            name = arg.name
        if name in bound:
            raise b.ctx.error(f"argument '{name}' of '{d.name}' is given twice", arg)
        bound[name] = Thunk(arg.value, env)
    missing = [p for p in params if p not in bound]
    if missing:
        raise b.ctx.error(f"'{d.name}' needs its argument '{missing[0]}'", term, notes=notes)
    return bound


def definition_head(b: Builder, d: S.Definition) -> str:
    params = "" if d.params is None else f"({', '.join(d.params)})"
    return f"{d.name}{params} = {b.ctx.snippet(d.body)}"


def use_definition(b: Builder, term: S.Layer, shape: Shape, env: Mapping[str, Any], index: str,
                   depth: int) -> Built:
    """A use of a definition: its body built on the input, as a block named after it."""
    d = b.ctx.definitions[term.name]
    if d.name in b.ctx.active:  # check_definitions refuses cycles first; this is a guard
        raise b.ctx.error(f"definition '{d.name}' uses itself", term)
    body_env = bind_definition(b, d, term, env)
    saved = b.ctx.active
    b.ctx.active = saved + (d.name,)
    try:
        out, rows = b.chain(d.body, shape, body_env, index, depth + 1)
    except SymparamsError as err:
        raise at_use(b, err, term, d) from None
    finally:
        b.ctx.active = saved
    written = {(node.start, node.end): node for node in S.walk(d.body) if isinstance(node, _STRUCTURE)}
    rows = [with_arguments(b, row, written, body_env) for row in rows]
    return out, b.block(term, d.name, out, rows, index, depth)


# ---------------------------------------------------------------- rows inside a definition
# The nodes of a body that become rows (chains, terms, layers), not argument values.
_STRUCTURE = (S.Chain, S.Layer, S.Group, S.Repeat, S.Branches, S.Replicate)


def with_arguments(b: Builder, row: LayerInfo, written: Mapping[tuple[int, int], S.Node],
                   env: Mapping[str, Any]) -> LayerInfo:
    """A row built from a definition's body, its text showing the values of the
    parameters (`C(64,3,p=1)` where the body says `C(k,3,p=1)`), and its children's."""
    node = written.get((row.start, row.end))
    if node is None or row.text not in (b.ctx.snippet(node), f"[{b.ctx.snippet(node)}]"):
        return row  # not written in this body (a layer's own expansion, or a nested use's)
    text = unparse(b, node, env)
    if isinstance(node, S.Branches):
        text = f"[{text}]"
    children = tuple(with_arguments(b, child, written, env) for child in row.children)
    return replace(row, text=text, children=children)


def unparse(b: Builder, node: S.Node, env: Mapping[str, Any]) -> str:
    """The text of a body's node with each parameter replaced by its value."""
    if isinstance(node, S.Chain):
        return "-".join(unparse(b, item, env) for item in node.items)
    if isinstance(node, S.Group):
        return f"({unparse(b, node.chain, env)})"
    if isinstance(node, S.Repeat):
        return f"{unparse(b, node.body, env)}*{_value_text(b, node.count, env, parens=True)}"
    if isinstance(node, S.Replicate):
        return f"{_value_text(b, node.count, env, parens=True)}[{unparse(b, node.body, env)}]"
    if isinstance(node, S.Branches):
        glue = {"concat": " | ", "add": " + "}.get(node.kind, "")
        return glue.join(unparse(b, chain, env) for chain in node.chains)
    if isinstance(node, S.Layer) and node.args is not None:
        args = [f"{arg.name}=" * (arg.name is not None) + _value_text(b, arg.value, env) for arg in node.args]
        return f"{node.name}({','.join(args)})"
    return b.ctx.snippet(node)


def _value_text(b: Builder, node: S.Value, env: Mapping[str, Any], parens: bool = False) -> str:
    """An argument as written, or its value where it names a parameter."""
    if not any(isinstance(n, S.Name) and n.name in env for n in S.walk(node)):
        return b.ctx.snippet(node)
    saved, b.ctx.conditions = b.ctx.conditions, []
    try:  # evaluated once already, in the build: this only reads the value again
        value = evaluate(node, b.ctx, env, R.CHOICE if isinstance(node, S.Name) else R.SIZE)
    except SymparamsError:
        return b.ctx.snippet(node)
    finally:
        b.ctx.conditions = saved
    if isinstance(value, tuple):
        return "(" + ",".join(str(v) for v in value) + ")"
    text = str(value)
    atom = isinstance(value, (str, int, Fraction)) or value.is_Atom
    return f"({text})" if parens and not atom else text


def at_use(b: Builder, err: SymparamsError, term: S.Layer, d: S.Definition) -> SymparamsError:
    """An error inside a definition's body, moved to point at the use, with a note that
    shows where in the definition it happened."""
    if err.text != b.ctx.text or err.pos is None or term.start <= err.pos < max(term.end, term.start + 1):
        return err  # already at the use (an argument), or not about the text
    line_no, col, line = _locate(b.ctx.text, err.pos)
    width = max(1, min((err.end or err.pos + 1) - err.pos, len(line) - col, 60))
    notes = (f"in definition '{d.name}' (line {line_no}, column {col + 1}):",
             "  " + line.expandtabs(1), "  " + " " * col + "^" * width) + err.notes
    message = f"in '{b.ctx.snippet(term)}': {err.message}"
    return type(err)(message, b.ctx.text, term.start, term.end, expected=err.expected, notes=notes)
