"""Plots: a total against one symbol, a heat map over two, parameters by layer.

The numbers come from `symparams.sweep` (exact integer floors, one compiled formula
for the whole grid); this module only draws them. matplotlib is an optional extra
(`pip install 'symparams[plot]'`), imported when a plot is drawn, never at import
time; figures are drawn on the Agg canvas, so no display is needed.

    symparams plot ARCH --vary h=16..512 --out params.png          # exact and ideal curves
    symparams plot ARCH --vary h=16..512 --vary c=1..64 --out map.png   # heat map
    symparams plot ARCH --per-layer --subs h=224,w=224,c=3 --out layers.png
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ..analysis.sweep import compile_numpy, missing_text, sweep
from ..analysis.targets import TARGETS, label, target_total
from ..base.errors import SweepError
from ..base.expr import symbol
from ..modes import ideal_network, substitute
from ..result import Network
from .text import clip, condition_text

if TYPE_CHECKING:
    from matplotlib.figure import Figure

IDEAL_POINTS = 512  # samples of the ideal (continuous) curve
LABEL_CHARS = 24  # longer layer texts are cut on the bar chart's axis


class PlotError(SweepError):
    """A plot that cannot be drawn: matplotlib missing, symbols without values, ...
    (`missing`: the symbols without values, as in a SweepError)."""

    headline = "Cannot plot"


def _swept(
    net: Network, vary: Mapping[str, Sequence[int]], targets: list[str], values: Any, dtype: str
) -> Any:
    """sweep(), its errors worded as a plot's."""
    try:
        return sweep(net, vary, targets, values=values, dtype=dtype)
    except SweepError as err:
        raise PlotError(err.message, missing=err.missing) from None


def _figure(width: float = 7.0, height: float = 4.5) -> Figure:
    """A figure on the Agg canvas, without pyplot's global state."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise PlotError("plots need matplotlib, an optional extra: pip install 'symparams[plot]'") from None
    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def quantity_label(target: str, dtype: str = "float32") -> str:
    """The axis label of a total.

    >>> quantity_label("memory", "bfloat16")
    'parameter memory (bytes, bfloat16)'
    """
    if target not in TARGETS:
        raise PlotError(f"unknown total {target!r}: expected one of {', '.join(TARGETS)}")
    return label(target, "axis", dtype)


def _thousands(axis: Any) -> None:
    """Counts as people read them (15,000,000), not with an offset (1.5 1e7)."""
    from matplotlib.ticker import FuncFormatter

    axis.set_major_formatter(FuncFormatter(lambda value, _pos: f"{value:,.0f}"))


def _title(net: Network) -> str:
    return clip(" ".join(net.text.split()), 80)


def _masked(values: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Totals as floats for drawing, NaN where a condition of the network fails."""
    out = np.array(values, dtype=float)
    out[~valid] = np.nan
    return out


def _ideal_curve(
    net: Network, name: str, xs: np.ndarray, target: str, values: Mapping[str, int], dtype: str
) -> np.ndarray | None:
    """The ideal (floors dropped) total on a fine grid of real x; None when it is the
    exact formula anyway or cannot be drawn as a function of x alone."""
    ideal = ideal_network(net) if net.mode == "exact" else net
    given = {k: v for k, v in values.items() if k != name}
    if given:
        ideal = substitute(ideal, given)
    expr = target_total(ideal, target, dtype)
    if expr.free_symbols - {symbol(name)}:
        return None
    fn = compile_numpy(expr, [symbol(name)], exact=False)
    return np.broadcast_to(np.asarray(fn(xs), dtype=float), xs.shape)


def plot_total(
    net: Network,
    vary: Mapping[str, Sequence[int]],
    target: str = "params",
    values: Mapping[str, int] | None = None,
    dtype: str = "float32",
    ideal: bool = True,
    log: bool = False,
) -> Figure:
    """A total against one symbol: the exact (stepped) values and the ideal curve.

    >>> import symparams
    >>> fig = plot_total(symparams.parse("I(n,n,1)-C(32,5)-P(2)-H(10)"), {"n": range(6, 40)})
    >>> fig.axes[0].get_xlabel(), fig.axes[0].get_ylabel()
    ('n', 'parameters')
    """
    values = dict(values or {})
    label = quantity_label(target, dtype)
    (name,) = vary
    result = _swept(net, {name: list(vary[name])}, [target], values, dtype)
    xs = np.array(result.axes[0], dtype=float)
    ys = _masked(result.totals[target], result.valid)
    if np.isnan(ys).all():
        raise PlotError(
            f"no value of {name} in {int(xs.min())}..{int(xs.max())} satisfies the network's "
            f"conditions ({', '.join(condition_text(c) for c in net.condition_details)})"
        )
    fig = _figure()
    ax = fig.add_subplot()
    # Every integer drawn: the floors' plateaus show as steps. Sampled with gaps: only
    # the samples are marked, since a line between them would claim values not computed.
    exact_label = "exact (floors, as the frameworks compute)"
    if np.any(np.diff(xs) > 1):
        ax.plot(xs, ys, color="C0", marker="o", markersize=4, linestyle="none", label=exact_label)
    else:
        ax.step(xs, ys, where="post", color="C0", linewidth=1.6, label=exact_label)
    if ideal and net.mode == "exact":
        fine = np.linspace(xs.min(), xs.max(), IDEAL_POINTS)
        curve = _ideal_curve(net, name, fine, target, values, dtype)
        if curve is not None:
            first_valid = xs[~np.isnan(ys)].min()
            ax.plot(
                fine[fine >= first_valid],
                curve[fine >= first_valid],
                color="C1",
                linestyle="--",
                linewidth=1.2,
                label="ideal (closed form, floors dropped)",
            )
    ax.set_xlabel(name)
    ax.set_ylabel(label)
    ax.set_title(_title(net), fontsize=9)
    if log:
        ax.set_yscale("log")
    _thousands(ax.yaxis)
    ax.grid(True, alpha=0.3)
    ax.legend(loc="best", fontsize=8)
    return fig


def plot_heatmap(
    net: Network,
    vary: Mapping[str, Sequence[int]],
    target: str = "params",
    values: Mapping[str, int] | None = None,
    dtype: str = "float32",
    log: bool = False,
) -> Figure:
    """A total over a grid of two symbols, as a heat map (blank where a condition fails).

    >>> import symparams
    >>> fig = plot_heatmap(symparams.parse("I(h,w,1)-C(8,3)-H(10)"), {"h": range(3, 20), "w": range(3, 30)})
    >>> fig.axes[0].get_xlabel(), fig.axes[0].get_ylabel(), fig.axes[1].get_ylabel()
    ('h', 'w', 'parameters')
    """
    from matplotlib.colors import LogNorm

    values = dict(values or {})
    first, second = vary
    result = _swept(net, {first: list(vary[first]), second: list(vary[second])}, [target], values, dtype)
    grid = _masked(result.totals[target], result.valid)  # axis 0 is `first`, axis 1 `second`
    if np.isnan(grid).all():
        raise PlotError(
            f"no point of the grid satisfies the network's conditions "
            f"({', '.join(condition_text(c) for c in net.condition_details)})"
        )
    xs, ys = (np.array(axis, dtype=float) for axis in result.axes)
    fig = _figure()
    ax = fig.add_subplot()
    norm = LogNorm() if log and np.nanmin(grid) > 0 else None
    mesh = ax.pcolormesh(xs, ys, np.ma.masked_invalid(grid.T), shading="nearest", cmap="viridis", norm=norm)
    bar = fig.colorbar(mesh, ax=ax)
    bar.set_label(quantity_label(target, dtype))
    _thousands(bar.ax.yaxis)
    ax.set_xlabel(first)
    ax.set_ylabel(second)
    ax.set_title(_title(net), fontsize=9)
    return fig


def plot_per_layer(
    net: Network, values: Mapping[str, int] | None = None, target: str = "params", log: bool = False
) -> Figure:
    """A bar chart of each top-level layer's parameters, or MACs (every symbol needs a value).

    >>> import symparams
    >>> fig = plot_per_layer(symparams.parse("I(784)-H(128)-relu-O(10)"))
    >>> [t.get_text() for t in fig.axes[0].get_xticklabels()]
    ['I(784)', 'H(128)', 'relu', 'O(10)']
    """
    if target not in ("params", "trainable", "non_trainable", "macs"):
        raise PlotError(f"--per-layer draws params, trainable, non_trainable or macs, not {target}")
    if values:
        net = substitute(net, values)
    counts = [getattr(row, target) for row in net.layers]
    free = sorted({s.name for c in counts for s in c.free_symbols})
    if free:
        raise PlotError(missing_text(free, what="the layers' counts", vary=False), missing=free)
    labels = [
        row.text if len(row.text) <= LABEL_CHARS else row.text[: LABEL_CHARS - 1] + "…" for row in net.layers
    ]
    heights = [int(c) for c in counts]
    fig = _figure(width=max(6.0, 0.45 * len(labels) + 2), height=4.8)
    ax = fig.add_subplot()
    bars = ax.bar(range(len(heights)), heights, color="C0")
    ax.set_xticks(range(len(labels)), labels, rotation=60, ha="right", fontsize=8)
    ax.bar_label(bars, labels=[f"{h:,}" if h else "" for h in heights], fontsize=6, rotation=90, padding=2)
    ax.set_xlabel("layer")
    ax.set_ylabel(quantity_label(target))
    ax.set_title(f"{_title(net)}\ntotal {int(getattr(net, target)):,}", fontsize=9)
    if log:
        ax.set_yscale("symlog")
    _thousands(ax.yaxis)
    ax.margins(y=0.15)
    return fig


def save(fig: Figure, path: str) -> None:
    """Write the figure; the format follows the file's extension (png, pdf, svg)."""
    try:
        fig.savefig(path, dpi=150)
    except (OSError, ValueError) as err:
        raise PlotError(f"cannot write {path}: {err}") from None
