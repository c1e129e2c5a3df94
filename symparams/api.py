"""The public entry point: text in, `Network` out.

`Network` is the result record (`result.Network`) with the conveniences a notebook
wants on top: substituting values, switching mode or convention (each an explicit
rebuild from the text, here), solving, sweeping, and Jupyter's displays. They call
down into the engine; nothing below calls up into them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING

from . import result
from .base.errors import ShapeError
from .building import network

if TYPE_CHECKING:
    from .analysis.solve import Solution
    from .analysis.sweep import Sweep


def parse(
    text: str,
    convention: str = "torch",
    mode: str = "exact",
    values: Mapping[str, int] | None = None,
    numeric: bool = False,
) -> Network:
    """Parse architecture text into a Network of exact symbolic counts and shapes.

    >>> net = parse("I(784)-O(10)")
    >>> net.params, net.output_shape
    (7850, (10,))
    >>> parse("I-C(32,3)").params
    288*c + 32

    Counts and sizes are sympy expressions. With `numeric=True` a network without
    symbols is built in Python ints and sympy is not imported (the command line's table
    and JSON); a network with symbols is the same either way.
    """
    try:
        return Network.of(network(text, convention, mode, values, numeric=numeric))
    except ShapeError as err:
        if values and type(err) is ShapeError:
            broken = _broken_condition(text, convention, values)
            if broken is not None:
                raise err.with_note(broken) from None
        raise


def _broken_condition(text: str, convention: str, values: Mapping[str, int]) -> str | None:
    """Which condition of the network without the values the values break, worded for a
    note (`the values h=8, w=28, c=1 break the network's condition h >= 12`), or None."""
    from .base.errors import SymparamsError
    from .base.expr import is_false, symbol
    from .report.text import condition_text

    try:
        general = network(text, convention, "exact", None)
    except SymparamsError:
        return None
    given = {symbol(name): value for name, value in values.items()}
    for cond in general.condition_details:
        if is_false(cond.holds.subs(given)):
            written = ", ".join(f"{name}={value}" for name, value in values.items())
            return f"The values {written} break the network's condition {condition_text(cond)}."
    return None


# @dataclass again only to freeze the subclass too (setting any attribute raises, as on the
# record); __init__, equality, hash and repr are the record's, inherited, not compiled anew.
@dataclass(frozen=True, init=False, repr=False, eq=False)
class Network(result.Network):
    """A network's shapes and counts (`result.Network`), with the notebook's conveniences.

    >>> net = parse("I(n,n,1)-C(32,5)-P(2)-C(32,3)-P(2)-H(256)-O(10)")
    >>> net.subs(n=28).params
    217706
    """

    @classmethod
    def of(cls, record: result.Network) -> Network:
        return cls(**{f.name: getattr(record, f.name) for f in fields(record)})

    def subs(self, **values: int) -> Network:
        """The same network with symbols given values (positive integers), rebuilt from
        its text: values that break a layer's rule raise a ShapeError naming the layer."""
        return parse(self.text, self.convention, self.mode, values={**self.values, **values})

    def with_convention(self, convention: str) -> Network:
        return parse(self.text, convention, self.mode, values=dict(self.values))

    def with_mode(self, mode: str) -> Network:
        return parse(self.text, self.convention, mode, values=dict(self.values))

    def solve(
        self,
        unknown: str | tuple[str, ...],
        goal: int,
        target: str = "params",
        how: str = "equal",
        values: Mapping[str, int] | None = None,
        dtype: str = "float32",
    ) -> Solution:
        """The values of a symbol that give `goal` as the `target` total (params,
        trainable, non_trainable, active_params, macs, flops, train_flops, memory, activations,
        kv_cache, train_memory, axis:NAME): see
        `symparams.analysis.solve.solve`.

        >>> net = parse("I(n,n,1)-C(32,5)-P(2)-C(32,3)-P(2)-H(256)-O(10)")
        >>> net.solve("n", 1_000_000, how="max").as_dict()
        {'value': 51, 'total': 832106}
        """
        from .analysis.solve import solve

        return solve(self, unknown, goal, target=target, how=how, values=values, dtype=dtype)

    def sweep(
        self,
        vary: Mapping[str, Iterable[int]],
        targets: Sequence[str] = ("params",),
        values: Mapping[str, int] | None = None,
        dtype: str = "float32",
    ) -> Sweep:
        """Totals over the grid of `vary` as numpy arrays: see `symparams.analysis.sweep.sweep`.

        >>> net = parse("I(n,n,1)-C(32,5)-P(2)-C(32,3)-P(2)-H(256)-O(10)")
        >>> net.sweep({"n": [28, 52]}).totals["params"].tolist()
        [217706, 1004138]
        """
        from .analysis.sweep import sweep

        return sweep(self, vary, targets, values=values, dtype=dtype)

    # Jupyter shows a Network as a table: HTML in the notebook, LaTeX in nbconvert's PDF.
    def _repr_html_(self) -> str:
        from .report.markup import html

        return html(self)

    def _repr_latex_(self) -> str:
        from .report.latex import latex_repr

        return latex_repr(self)
