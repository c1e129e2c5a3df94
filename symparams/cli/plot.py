"""`symparams plot ...`: draw a total against symbols, or parameters by layer, to a file.

The figures are report.figures'; matplotlib is imported only when one is drawn.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..analysis.sweep import missing_text, parse_vary
from ..analysis.targets import TARGETS
from ..api import parse
from ..report.figures import PlotError, plot_heatmap, plot_per_layer, plot_total, save
from ..result import DTYPES
from .common import ArgumentParser, UsageError, add_network_arguments, parse_subs, print_out, read_arch


def _parser() -> ArgumentParser:
    parser = ArgumentParser(
        prog="symparams plot",
        description="Plot a total against one symbol (exact and ideal "
        "curves), over two symbols (a heat map), or parameters by layer: symparams plot "
        '"I(h,h,3)-C(64,3)-P(2)-H(256)-O(10)" --vary h=16..512 --out params.png',
    )
    add_network_arguments(parser, "values of the other symbols")
    parser.add_argument(
        "--vary",
        action="append",
        default=[],
        metavar="NAME=VALUES",
        help="a symbol and its values: 16..512, 16..512:16 or 16,32,64; twice for a heat map",
    )
    parser.add_argument("--per-layer", action="store_true", help="a bar chart of parameters by layer")
    parser.add_argument(
        "--what", choices=TARGETS, default="params", help="the total to draw (default params)"
    )
    parser.add_argument(
        "--dtype",
        choices=list(DTYPES),
        default="float32",
        help="element type for memory and activations (default float32)",
    )
    parser.add_argument("--no-ideal", action="store_true", help="draw only the exact values")
    parser.add_argument("--log", action="store_true", help="a logarithmic scale for the total")
    parser.add_argument("--out", required=True, metavar="FILE", help="the image to write (.png, .pdf, .svg)")
    return parser


def plot_main(argv: Sequence[str]) -> int:
    """`symparams plot`: draw and write the figure; print where it went."""
    args = _parser().parse_args(argv)
    values = parse_subs(args.subs)
    vary = parse_vary(args.vary)
    if args.per_layer and vary:
        raise UsageError("--per-layer draws one network: give symbols values with --subs, not --vary")
    if not args.per_layer and len(vary) not in (1, 2):
        raise UsageError("give one --vary for a curve, two for a heat map, or --per-layer for a bar chart")
    net = parse(read_arch(args.arch), convention=args.convention)
    try:
        if args.per_layer:
            fig = plot_per_layer(net, values, target=args.what, log=args.log)
        elif len(vary) == 1:
            fig = plot_total(net, vary, args.what, values, args.dtype, ideal=not args.no_ideal, log=args.log)
        else:
            fig = plot_heatmap(net, vary, args.what, values, args.dtype, log=args.log)
    except PlotError as err:
        if not err.missing:
            raise
        what = "the layers' counts" if args.per_layer else "the totals"
        raise PlotError(missing_text(err.missing, True, what, vary=not args.per_layer)) from None
    save(fig, args.out)
    print_out(f"wrote {args.out}")
    return 0
