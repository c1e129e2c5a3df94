"""The main command: `symparams ARCH [options]`, a network's table, JSON, Markdown or LaTeX."""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence

from ..api import parse
from ..report.data import analysis_dict, to_dict, to_json
from ..report.markup import markdown
from ..report.text import analysis_lines, table
from ..result import DTYPES, Network
from .common import (
    ArgumentParser,
    UsageError,
    add_network_arguments,
    check_subs_names,
    parse_subs,
    print_out,
    read_arch,
)


def _main_parser() -> ArgumentParser:
    parser = ArgumentParser(
        prog="symparams",
        description="Exact shapes and parameter counts of a neural network "
        'described in one line, e.g. symparams "I(28,28,1)-C(32,5)-P(2)-H(256)-O(10)"',
    )
    add_network_arguments(parser)
    parser.add_argument("--ideal", action="store_true", help="closed form: floors and ceils dropped")
    parser.add_argument("--depth", type=int, default=None, help="fold blocks deeper than this level")
    parser.add_argument(
        "--macs", action="store_true", help="also MACs per layer and in total (torchinfo's Mult-Adds)"
    )
    parser.add_argument(
        "--memory", action="store_true", help="also parameter and activation memory, in bytes of --dtype"
    )
    parser.add_argument(
        "--dtype",
        default=None,
        choices=list(DTYPES),
        help="float32 (default), bfloat16, float16 or int8; implies --memory",
    )
    output = parser.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="print one JSON object")
    output.add_argument(
        "--latex",
        action="store_true",
        help="print a LaTeX booktabs table and the total as a displayed equation",
    )
    output.add_argument("--markdown", action="store_true", help="print a GitHub-flavoured Markdown table")
    latex = parser.add_mutually_exclusive_group()
    latex.add_argument(
        "--standalone", action="store_true", help="with --latex: a whole document for pdflatex"
    )
    latex.add_argument("--formula", action="store_true", help="with --latex: only the total, for inline math")
    return parser


def run_main(argv: Sequence[str]) -> int:
    """`symparams ARCH`: print the report; the exit code is main()'s."""
    args = _main_parser().parse_args(argv)
    text = read_arch(args.arch)
    # The table, JSON and Markdown of a network without symbols need no sympy (base/expr.py).
    numeric = not (args.latex or _analysis(args))
    mode = "ideal" if args.ideal else "exact"
    values = parse_subs(args.subs)
    net = parse(text, convention=args.convention, mode=mode, values=values, numeric=numeric)
    if any(name not in net.values for name in values):  # a typo (`H=28` for `h=28`), refused
        check_subs_names(parse(text, convention=args.convention, mode=mode), values)
    if (args.standalone or args.formula) and not args.latex:
        raise UsageError(f"--{'standalone' if args.standalone else 'formula'} goes with --latex")
    if args.json:
        print_out(to_json(net) if not _analysis(args) else _analysis_json(net, args))
    elif args.latex:
        print_out(_latex_report(net, args))
    elif args.markdown:
        print_out(markdown(net, depth=args.depth))
    else:
        print_out(table(net, depth=args.depth))
        if _analysis(args):
            print_out(_analysis_text(net, args))
    return 0


def _analysis(args: argparse.Namespace) -> bool:
    return bool(args.macs or args.memory or args.dtype)


def _analysis_text(net: Network, args: argparse.Namespace) -> str:
    return "\n".join(analysis_lines(net, args.macs, args.memory or bool(args.dtype), args.dtype or "float32"))


def _analysis_json(net: Network, args: argparse.Namespace) -> str:
    data = to_dict(net)
    data.update(analysis_dict(net, args.macs, args.memory or bool(args.dtype), args.dtype or "float32"))
    return json.dumps(data, indent=2)


def _latex_report(net: Network, args: argparse.Namespace) -> str:
    # LaTeX loads sympy's printer: imported only when asked for.
    from ..report.latex import latex_document, latex_formula, latex_table

    if args.formula:
        return latex_formula(net)
    if args.standalone:
        return latex_document(net, depth=args.depth)
    return latex_table(net, depth=args.depth)
