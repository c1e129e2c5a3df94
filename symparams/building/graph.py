"""Graphs (README "Graphs"): named tensors, several inputs and outputs.

A graph is a program with lines `name := chain`. The lines are built in the order of the
text, each from its own input `I(...)` or from a tensor bound above it; a tensor is read
by starting a chain or a branch with its name (`[id | enc]`) or by a layer that takes a
tensor (`XA(8, memory=enc)`). The network returns its last line: a chain, or a list of
tensor names `a, b`.

Each line's layers are built once, so every layer's parameters count once however many
times its output is read. A tensor read before its line, a line that reads itself, or a
tensor nobody reads and the network does not return (an unused input among them) is an
error at the name.

>>> import symparams
>>> net = symparams.parse("x := I(4); a := x-H(3); b := x-H(5); [a | b]-O(1)")
>>> net.params, net.tensor_names, [net.subtotal(n) for n in net.tensor_names]
(49, ('x', 'a', 'b', 'output'), [0, 15, 25, 9])
"""

from __future__ import annotations

from typing import Any

from ..base.errors import GraphError
from ..language import syntax as S
from ..layers import registry as R
from ..result import LayerInfo, Tensor
from .builder import Builder
from .context import INPUT_NAMES, Context

OUTPUT = "output"  # the name of a graph's last line when it is a chain

Shape = tuple[Any, ...]


def check_bindings(program: S.Program, text: str) -> dict[str, S.Binding]:
    """The bindings by name; a name bound twice, or that is a layer, a definition or the
    last line's name, is an error at the name."""
    definitions = {d.name for d in program.definitions}
    found: dict[str, S.Binding] = {}
    for b in program.bindings:
        where = (text, b.start, b.name_end)
        if b.name in found:
            raise GraphError(f"tensor '{b.name}' is bound twice; each name is bound once", *where)
        if b.name in INPUT_NAMES or R.lookup(b.name) is not None:
            raise GraphError(f"'{b.name}' is a built-in layer; a tensor needs a name of its own", *where)
        if b.name in definitions:
            raise GraphError(f"'{b.name}' is a definition's name; a tensor needs a name of its own", *where)
        if b.name == OUTPUT and program.chain is not None:
            raise GraphError(
                f"'{OUTPUT}' names the network's last line, a chain; bind this tensor under another "
                "name, or end the text with a list of the tensors it returns",
                *where,
            )
        found[b.name] = b
    return found


def graph_reads(node: S.Node, names: set[str]) -> list[S.Node]:
    """The nodes of a line that name a bound tensor: layers (a chain's or branch's start)
    and bare names as arguments (`memory=enc`), in the order of the text."""
    found: list[S.Node] = []
    for n in S.walk(node):
        if isinstance(n, S.Layer) and n.name in names:
            found.append(n)
        elif isinstance(n, S.Layer):
            found += [a.value for a in n.args or () if isinstance(a.value, S.Name) and a.value.name in names]
    return found


def check_order(program: S.Program, bindings: dict[str, S.Binding], text: str) -> None:
    """A cycle among lines (`a := b-H(4); b := a-H(4)`) is named as one before anything is
    built; a line read above its own without a cycle is a use before definition, told at
    the build (Context.read_tensor)."""
    names = set(bindings)
    reads = {b.name: graph_reads(b.body, names) for b in program.bindings}
    state: dict[str, str] = {}

    def visit(name: str, path: tuple[str, ...]) -> None:
        state[name] = "open"
        for node in reads[name]:
            other = node.name  # type: ignore[attr-defined]
            if state.get(other) == "open":
                cycle = path[path.index(other) :] + (name, other) if other in path else (name, other)
                what = f"tensor '{name}' reads itself" if other == name else " → ".join(cycle)
                raise GraphError(
                    f"cycle: {what}; a graph's lines must read only tensors bound above them",
                    text,
                    node.start,
                    node.end,
                )
            if other not in state:
                visit(other, path + (name,))
        state[name] = "done"

    for name in bindings:
        if name not in state:
            visit(name, ())


def build_graph(
    program: S.Program, ctx: Context, builder: Builder
) -> tuple[list[LayerInfo], tuple[Tensor, ...], tuple[str, ...], Shape]:
    """The rows of every line, the named tensors over them, the names returned and the
    first output's shape."""
    rows: list[LayerInfo] = []
    tensors: list[Tensor] = []
    lines: list[tuple[str, S.Chain, int, int]] = [(b.name, b.body, b.start, b.end) for b in program.bindings]
    names = _only_names(program)
    if names is None and program.chain is not None:
        lines.append((OUTPUT, program.chain, program.chain.start, program.chain.end))
    for name, body, start, end in lines:
        ctx.current = name
        shape, section = builder.chain(body, None, {}, "", 0, first=len(rows))
        ctx.tensors[name] = shape
        tensors.append(Tensor(name, len(rows), len(rows) + len(section), start, end))
        rows += section
    ctx.current = None
    outputs = (OUTPUT,) if names is None else returned(names, ctx)
    for b in program.bindings:
        if b.name not in ctx.reads and b.name not in outputs:
            starts_input = bool(b.body.items) and _is_input(b.body.items[0])
            what = "input" if starts_input else "tensor"
            raise ctx.error(
                f"{what} '{b.name}' is never used: read it in a later line or list it among the "
                "outputs on the last line",
                S.Name(b.start, b.name_end, b.name),
                GraphError,
            )
    return rows, tuple(tensors), outputs, ctx.tensors[outputs[0]]


def _only_names(program: S.Program) -> tuple[S.Name, ...] | None:
    """The names a graph returns when its last line lists tensors (`dec, enc`, or one
    name `dec`); None when its last line is a chain that makes a tensor of its own."""
    if program.chain is None:
        return program.outputs
    items = program.chain.items
    only = items[0] if len(items) == 1 else None
    if isinstance(only, S.Layer) and only.args is None and only.name in {b.name for b in program.bindings}:
        return (S.Name(only.start, only.end, only.name),)
    return None


def returned(names: tuple[S.Name, ...], ctx: Context) -> tuple[str, ...]:
    seen: list[str] = []
    for node in names:
        if node.name in seen:
            raise ctx.error(f"output '{node.name}' is listed twice", node, GraphError)
        if node.name not in ctx.tensors:
            raise ctx.error(
                f"unknown tensor '{node.name}' among the outputs",
                node,
                GraphError,
                expected=tuple(ctx.tensors),
            )
        seen.append(node.name)
    return tuple(seen)


def _is_input(term: S.Term) -> bool:
    return isinstance(term, S.Layer) and term.name in INPUT_NAMES
