"""Definitions (LANGUAGE.md section 4): `name(x, y) = body`, used as a layer.

A definition is expanded where it is used, its arguments passed by name (`Thunk`):
they are evaluated where the body uses them, in the text around the use. Its rows show
the values of the parameters (`C(64,3,p=1)` where the body says `C(k,3,p=1)`).

>>> import symparams
>>> net = symparams.parse("basic(k) = [C(k,3,p=1)-relu-C(k,3,p=1) + id]; I(8,8,16)-basic(16)*2")
>>> net.params, [(row.text, row.kind, row.count) for row in net.layers[1:]]
(9280, [('basic(16)*2', 'Repeat', 2)])
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import replace
from fractions import Fraction
from typing import Any

from ..base.errors import DefinitionError, SymparamsError, locate
from ..base.expr import as_text
from ..language import syntax as S
from ..layers import registry as R
from ..result import LayerInfo
from .binding import bind_definition
from .context import INPUT_NAMES, Context
from .evaluate import evaluate
from .steps import BuildSteps, Env, Shape

# The nodes of a body that become rows (chains, terms, layers), not argument values.
_STRUCTURE = (S.Chain, S.Layer, S.Group, S.Repeat, S.Branches, S.Replicate)


def definition_uses(node: S.Node) -> Iterator[S.Layer]:
    """Every layer written inside a chain or term, however deeply nested."""
    return (n for n in S.walk(node) if isinstance(n, S.Layer))


def check_definitions(definitions: Mapping[str, S.Definition], text: str) -> None:
    """Refuse definitions that shadow a built-in layer and recursive ones (direct or
    mutual): an architecture is finite, so a definition cannot use itself."""
    for d in definitions.values():
        if d.name in INPUT_NAMES or R.lookup(d.name) is not None:
            raise DefinitionError(
                f"'{d.name}' is a built-in layer; a definition needs a name of its own",
                text,
                d.start,
                d.start + len(d.name),
            )
    state: dict[str, str] = {}

    def visit(name: str, path: tuple[str, ...]) -> None:
        state[name] = "open"
        for use in definition_uses(definitions[name].body):
            if use.name not in definitions:
                continue
            if state.get(use.name) == "open":
                cycle = (
                    path[path.index(use.name) :] + (name, use.name) if use.name in path else (name, use.name)
                )
                what = "itself" if use.name == name else f"itself through {' → '.join(cycle)}"
                raise DefinitionError(
                    f"recursive definition: '{use.name}' uses {what}, and recursion would never end",
                    text,
                    use.start,
                    use.end,
                )
            if use.name not in state:
                visit(use.name, path + (name,))
        state[name] = "done"

    for name in definitions:
        if name not in state:
            visit(name, ())


def definition_head(d: S.Definition, ctx: Context) -> str:
    params = "" if d.params is None else f"({', '.join(d.params)})"
    return f"{d.name}{params} = {ctx.snippet(d.body)}"


class DefinitionUses(BuildSteps):
    """The builder's handling of a definition's use (`Builder` in builder.py)."""

    def use_definition(
        self, term: S.Layer, shape: Shape, env: Env, index: str, depth: int
    ) -> tuple[Shape, LayerInfo]:
        """A use of a definition: its body built on the input, as a block named after it."""
        ctx = self.ctx
        d = ctx.definitions[term.name]
        if d.name in ctx.active:  # check_definitions refuses cycles first; this is a guard
            raise ctx.error(f"definition '{d.name}' uses itself", term)
        body_env = bind_definition(
            d, term, env, ctx, (f"'{d.name}' is defined as: {definition_head(d, ctx)}",)
        )
        saved = ctx.active
        ctx.active = saved + (d.name,)
        try:
            out, rows = self.chain(d.body, shape, body_env, index, depth + 1)
        except SymparamsError as err:
            raise at_use(err, term, d, ctx) from None
        finally:
            ctx.active = saved
        written = ctx.written.get(d.name)
        if written is None:  # once per definition: DenseNet-121 uses `dense` 58 times
            written = ctx.written[d.name] = written_nodes(d)
        rows = [with_arguments(row, written, body_env, ctx) for row in rows]
        return out, replace(self.block(term, d.name, out, rows, index, depth), name=d.name)


def written_nodes(d: S.Definition) -> Mapping[tuple[int, int], S.Node]:
    """The nodes of a definition's body that become rows, by their span in the text."""
    return {(node.start, node.end): node for node in S.walk(d.body) if isinstance(node, _STRUCTURE)}


def with_arguments(
    row: LayerInfo, written: Mapping[tuple[int, int], S.Node], env: Env, ctx: Context
) -> LayerInfo:
    """A row built from a definition's body, its text showing the values of the
    parameters, and its children's."""
    node = written.get((row.start, row.end))
    if node is None or row.text not in (ctx.snippet(node), f"[{ctx.snippet(node)}]"):
        return row  # not written in this body (a layer's own expansion, or a nested use's)
    text = Unparser(ctx, env).visit(node)
    if isinstance(node, S.Branches):
        text = f"[{text}]"
    children = tuple(with_arguments(child, written, env, ctx) for child in row.children)
    if text == row.text and all(new is old for new, old in zip(children, row.children)):
        return row  # nothing to show (most rows of a definition without parameters)
    return replace(row, text=text, children=children)


class Unparser(S.Visitor):
    """The text of a body's node with each parameter replaced by its value."""

    def __init__(self, ctx: Context, env: Env) -> None:
        self.ctx = ctx
        self.env = env

    def visit_Chain(self, node: S.Chain) -> str:
        return "-".join(self.visit(item) for item in node.items)

    def visit_Group(self, node: S.Group) -> str:
        return f"({self.visit(node.chain)})"

    def visit_Repeat(self, node: S.Repeat) -> str:
        star = "**" if node.shared else "*"
        return f"{self.visit(node.body)}{star}{self.value(node.count, parens=True)}"

    def visit_Replicate(self, node: S.Replicate) -> str:
        return f"{self.value(node.count, parens=True)}[{self.visit(node.body)}]"

    def visit_Branches(self, node: S.Branches) -> str:
        glue = {"concat": " | ", "add": " + ", "mul": " * "}.get(node.kind, "")
        return glue.join(self.visit(chain) for chain in node.chains)

    def visit_Layer(self, node: S.Layer) -> str:
        if node.args is None:
            return self.ctx.snippet(node)
        args = [f"{arg.name}=" * (arg.name is not None) + self.value(arg.value) for arg in node.args]
        return f"{node.name}({','.join(args)})"

    def visit_default(self, node: Any, *args: Any) -> str:
        return self.ctx.snippet(node)

    def value(self, node: S.Value, parens: bool = False) -> str:
        """An argument as written, or its value where it names a parameter."""
        ctx, env = self.ctx, self.env
        if not env or not any(isinstance(n, S.Name) and n.name in env for n in S.walk(node)):
            return ctx.snippet(node)
        saved, ctx.conditions = ctx.conditions, []
        try:  # evaluated once already, in the build: this only reads the value again
            value = evaluate(node, ctx, env, R.CHOICE if isinstance(node, S.Name) else R.SIZE)
        except SymparamsError:
            return ctx.snippet(node)
        finally:
            ctx.conditions = saved
        if isinstance(value, tuple):
            return "(" + ",".join(as_text(v) for v in value) + ")"
        text = as_text(value)
        atom = isinstance(value, (str, int, Fraction)) or value.is_Atom
        return f"({text})" if parens and not atom else text


def at_use(err: SymparamsError, term: S.Layer, d: S.Definition, ctx: Context) -> SymparamsError:
    """An error inside a definition's body, moved to point at the use, with a note that
    shows where in the definition it happened."""
    if err.text != ctx.text or err.pos is None or term.start <= err.pos < max(term.end, term.start + 1):
        return err  # already at the use (an argument), or not about the text
    line_no, col, line = locate(ctx.text, err.pos)
    width = max(1, min((err.end or err.pos + 1) - err.pos, len(line) - col, 60))
    notes = (
        f"in definition '{d.name}' (line {line_no}, column {col + 1}):",
        "  " + line.expandtabs(1),
        "  " + " " * col + "^" * width,
    ) + err.notes
    message = f"in '{ctx.snippet(term)}': {err.message}"
    return type(err)(message, ctx.text, term.start, term.end, expected=err.expected, notes=notes)
