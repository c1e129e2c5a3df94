"""The builder's own steps, as the composite forms and definitions see them.

`CompositionForms` (composition.py) and `DefinitionUses` (definitions.py) are parts of
`Builder` (builder.py) and call back into its steps: building a chain or a term, making
a block row, settling conditions. This class names that one seam, typed, so those
modules need not import the builder (which imports them).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..base.expr import Condition
from ..language import syntax as S
from ..result import LayerInfo
from .context import Context

Shape = tuple[Any, ...]  # sizes: ints in the numeric build, sympy expressions otherwise
Built = tuple[Shape, LayerInfo]
Env = Mapping[str, Any]


class BuildSteps:
    """What `Builder` provides to its parts."""

    ctx: Context

    def chain(
        self, chain: S.Chain, shape: Shape | None, env: Env, prefix: str, depth: int
    ) -> tuple[Shape, list[LayerInfo]]:
        raise NotImplementedError

    def term(self, term: S.Term, shape: Shape, env: Env, index: str, depth: int) -> Built:
        raise NotImplementedError

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
        raise NotImplementedError

    def settle(self, conditions: list[Condition], term: S.Node) -> tuple[Condition, ...]:
        raise NotImplementedError
