"""Building: a parsed program into the result record (`result.Network`).

`network(text, ...)` is the whole way from text to record: parse, check the
definitions, build in Python ints when nothing needs sympy (else start over
symbolically, base/expr.py), and apply the mode (modes.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from .. import layers as _layers  # noqa: F401  (registers the layer formulas)
from ..base.errors import DefinitionError, LimitError, SymparamsError
from ..base.expr import INTEGERS, SYMPY, NeedsSympy, Numbers, oversize, total
from ..base.limits import MAX_DEFINITION_DEPTH, MAX_DIGITS, MAX_LAYERS, definition_depth, written_layers
from ..language import syntax as S
from ..language.parsing import parse_program
from ..modes import MODES, ideal_network
from ..result import CONVENTIONS, Costs, Network, Tensor, collect_notes, collected_totals, merge_conditions
from .builder import Builder
from .context import Context
from .definitions import check_definitions, definition_uses
from .graph import build_graph, check_bindings, check_order


def network(
    text: str,
    convention: str = "torch",
    mode: str = "exact",
    values: Mapping[str, int] | None = None,
    numeric: bool = False,
) -> Network:
    """The result record of architecture text (the api's `parse` wraps it).

    >>> network("I(784)-O(10)").params
    7850
    """
    if convention not in CONVENTIONS:
        raise SymparamsError(f"unknown convention {convention!r}: expected one of {', '.join(CONVENTIONS)}")
    if mode not in MODES:
        raise SymparamsError(f"unknown mode {mode!r}: expected one of {', '.join(MODES)}")
    if not isinstance(text, str):
        raise SymparamsError(f"the architecture must be text, got {type(text).__name__}")
    for name, value in (values or {}).items():
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise SymparamsError(f"the value of {name} must be a positive whole number, got {value!r}")
    return build(parse_program(text), text, convention, mode, values, numeric=numeric)


def build(
    program: S.Program,
    text: str,
    convention: str = "torch",
    mode: str = "exact",
    values: Mapping[str, int] | None = None,
    numeric: bool = False,
) -> Network:
    """Build the network of a parsed program.

    With `numeric`, the build runs in Python integers first and sympy is not imported;
    anything that needs sympy (a symbol, a fraction, an error to word) starts it over
    symbolically, so both give the same network and the same errors.
    """
    definitions: dict[str, S.Definition] = {}
    for d in program.definitions:
        if d.name in definitions:
            raise DefinitionError(f"'{d.name}' is defined twice", text, d.start, d.start + len(d.name))
        definitions[d.name] = d
    check_definitions(definitions, text)
    bindings = check_bindings(program, text)
    check_order(program, bindings, text)
    check_written_layers(definitions, _all_lines(program), text)
    if numeric:
        try:
            # No floor, condition or symbolic count: the ideal form is the exact one.
            return replace(
                _build(program, text, convention, definitions, values or {}, INTEGERS, bindings), mode=mode
            )
        except (NeedsSympy, SymparamsError):
            pass
    net = _build(program, text, convention, definitions, values or {}, SYMPY, bindings)
    # Ideal mode is a view of the exact network: the exact floors are what tell when
    # the closed form is exact.
    return ideal_network(net) if mode == "ideal" else collected_totals(net)


def check_written_layers(definitions: Mapping[str, S.Definition], chain: S.Chain, text: str) -> None:
    """Refuse, before building, definitions nested too deeply or written out too long."""
    for name, depth in definition_depth(definitions, definition_uses).items():
        if depth > MAX_DEFINITION_DEPTH:
            where = definitions[name]
            raise LimitError(
                f"definition '{name}' nests definitions {depth} deep; the limit is {MAX_DEFINITION_DEPTH}",
                text,
                where.start,
                where.start + len(name),
            )
    count, largest = written_layers(definitions, chain, definition_uses)
    if count > MAX_LAYERS:
        raise LimitError(
            f"the architecture has more than {MAX_LAYERS:,} layers once its definitions are "
            f"written out; '{largest.name}' passes the limit",
            text,
            largest.start,
            largest.end,
        )


def _all_lines(program: S.Program) -> S.Chain:
    """Every line's chain as one, for counting the layers written (a chain: itself)."""
    if not program.is_graph and program.chain is not None:
        return program.chain
    items = [item for b in program.bindings for item in b.body.items]
    items += list(program.chain.items) if program.chain is not None else []
    return S.Chain(program.start, program.end, tuple(items))


def _build(
    program: S.Program,
    text: str,
    convention: str,
    definitions: Mapping[str, S.Definition],
    values: Mapping[str, int],
    numbers: Numbers,
    bindings: Mapping[str, S.Binding],
) -> Network:
    given = {k: numbers.integer(v) for k, v in values.items()}
    for name, value in given.items():
        if oversize(value):
            raise LimitError(f"the value of {name} has more than {MAX_DIGITS:,} digits")
    ctx = Context(text, convention, definitions, given, numbers, bindings=bindings)
    tensors: tuple[Tensor, ...] = ()
    outputs: tuple[str, ...] = ()
    try:
        if program.is_graph:
            rows, tensors, outputs, shape = build_graph(program, ctx, Builder(ctx))
        else:
            assert program.chain is not None
            shape, rows = Builder(ctx).chain(program.chain, None, {}, "", 0)
    except RecursionError:
        raise LimitError("the architecture nests too deeply", text, 0) from None
    weights = total([r.weights for r in rows])
    biases = total([r.biases for r in rows])
    frozen = total([r.non_trainable for r in rows])
    inactive = total([r.inactive for r in rows])
    return Network(
        text,
        convention,
        "exact",
        tuple(rows),
        weights + biases + frozen,
        weights + biases,
        frozen,
        shape,
        merge_conditions(ctx.conditions),
        {k: v for k, v in values.items() if k in ctx.used},
        inactive=inactive,
        tensors=tensors,
        outputs=outputs,
        costs=Costs.summed([r.costs for r in rows]),
        notes=collect_notes(rows),
    )
