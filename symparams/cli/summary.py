"""The main command: `symparams ARCH [options]`, a network's table, JSON, Markdown or LaTeX."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from .. import __version__
from ..api import parse
from ..layers.shapes import channels_first_hint
from ..report.data import analysis_dict, json_text, to_dict, to_json
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

if TYPE_CHECKING:
    from ..analysis.compute import Ask


def _main_parser() -> ArgumentParser:
    parser = ArgumentParser(
        prog="symparams",
        description="Exact shapes and parameter counts of a neural network "
        'described in one line, e.g. symparams "I(28,28,1)-C(32,5)-P(2)-H(256)-O(10)". '
        "Shapes are written channels-last in both conventions: I(h,w,c), so a 3-channel "
        "224x224 image is I(224,224,3); --convention torch only prints them channels-first.",
        epilog="other commands (each with its own --help):\n"
        "  symparams solve ARCH --for NAME --params N   which value of a symbol gives a total\n"
        "  symparams sweep ARCH --vary NAME=A..B        totals over a grid of values\n"
        "  symparams plot ARCH --vary NAME=A..B --out FILE   a figure of a total",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_network_arguments(parser)
    parser.add_argument("--version", action="version", version=f"symparams {__version__}")
    parser.add_argument("--ideal", action="store_true", help="closed form: floors and ceils dropped")
    parser.add_argument(
        "--depth", type=_depth, default=None, help="fold blocks deeper than this level (1 or more)"
    )
    parser.add_argument(
        "--macs",
        action="store_true",
        help="also MACs per layer and in total (FlopCounterMode's FLOPs / 2 on the meta device)",
    )
    parser.add_argument(
        "--flops", action="store_true", help="also forward and training FLOPs (3 × forward), beside 6·N"
    )
    parser.add_argument(
        "--kv-cache",
        action="store_true",
        help="also the key/value cache, per token and for the sequence, in --dtype (default float16)",
    )
    parser.add_argument(
        "--train",
        action="store_true",
        help="also the memory of a training step: weights, gradients, optimizer states, activations",
    )
    parser.add_argument(
        "--optimizer",
        default="adam",
        help="with --train: sgd, momentum, adam (default), adamw or amsgrad",
    )
    parser.add_argument(
        "--mixed",
        action="store_true",
        help="with --train: mixed precision, --dtype (default bfloat16) weights and gradients, "
        "a float32 master copy and float32 optimizer states",
    )
    parser.add_argument(
        "--zero", type=int, default=0, choices=[0, 1, 2, 3], help="with --train: ZeRO stage 1, 2 or 3"
    )
    parser.add_argument(
        "--devices", type=int, default=1, help="with --train: data-parallel devices ZeRO shards over"
    )
    parser.add_argument(
        "--batch",
        type=int,
        default=1,
        help="with --train or --kv-cache: samples per device (activations and cache scale with it)",
    )
    parser.add_argument(
        "--checkpoint",
        action="store_true",
        help="with --train: activation checkpointing, each top-level block keeps only its input",
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
    parser.add_argument("--caption", metavar="TEXT", help="with --latex: the table's caption")
    parser.add_argument("--label", metavar="KEY", help="with --latex: the table's label, for \\ref")
    return parser


def _depth(text: str) -> int:
    if not text.strip().isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number >= 1, got {text}")
    return int(text)


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
    hint = channels_first_hint(net.layers[0].shape) if net.layers else None
    if hint is not None:  # on stderr: stdout stays what a script reads
        sys.stderr.write(f"Note: {hint}.\n")
    for option in ("standalone", "formula", "caption", "label"):
        if getattr(args, option) not in (None, False) and not args.latex:
            raise UsageError(f"--{option} goes with --latex")
    if args.json:
        print_out(to_json(net) if not _analysis(args) else _analysis_json(net, args))
    elif args.latex:
        print_out(_latex_report(net, args))
    elif args.markdown:
        below = _analysis_text(net, args) if _analysis(args) else None
        print_out(markdown(net, depth=args.depth))
        if below is not None:
            items = [
                f"  - {line.strip()}" if line.startswith("  ") else f"- {line}" for line in below.splitlines()
            ]
            print_out("\n" + "\n".join(items))
    else:
        below = _analysis_text(net, args) if _analysis(args) else None  # its errors before any output
        print_out(table(net, depth=args.depth))
        if below is not None:
            print_out(below)
    return 0


def _analysis(args: argparse.Namespace) -> bool:
    asked = args.macs or args.memory or args.dtype or args.flops or args.kv_cache or args.train
    return bool(asked or args.mixed or args.zero or args.devices != 1 or args.checkpoint or args.batch != 1)


def _ask(args: argparse.Namespace) -> Ask:
    # Only the options beside the table need the figures' module: loaded here, not on top.
    from ..analysis.compute import Ask, optimizer_states

    if not args.train and (args.mixed or args.zero or args.devices != 1 or args.checkpoint):
        raise UsageError("--mixed, --zero, --devices and --checkpoint go with --train")
    if args.batch != 1 and not (args.train or args.kv_cache):
        raise UsageError("--batch goes with --train or --kv-cache")
    if args.train:
        optimizer_states(args.optimizer)  # an unknown name: one line, exit 2
    if args.devices < 1 or args.batch < 1:
        which = "--devices" if args.devices < 1 else "--batch"
        raise UsageError(f"{which} must be at least 1, got {min(args.devices, args.batch)}")
    if args.zero and args.devices == 1:
        raise UsageError("--zero shards over devices: give --devices N with N > 1")
    return Ask(
        macs=args.macs,
        flops=args.flops,
        kv_cache=args.kv_cache,
        train=args.train,
        dtype=_dtype(args),
        optimizer=args.optimizer,
        mixed=args.mixed,
        zero=args.zero,
        devices=args.devices,
        checkpoint=args.checkpoint,
        batch=args.batch,
    )


def _dtype(args: argparse.Namespace) -> str:
    """--dtype as given; unset: float16 for a KV cache, bfloat16 for mixed precision, else float32."""
    if args.dtype:
        return str(args.dtype)
    if args.mixed:
        return "bfloat16"
    return "float16" if args.kv_cache and not args.train else "float32"


def _memory(args: argparse.Namespace) -> bool:
    # --dtype alone asks for memory; with --kv-cache or --train it sets their element type.
    return bool(args.memory or args.dtype and not (args.kv_cache or args.train))


def _analysis_text(net: Network, args: argparse.Namespace) -> str:
    return "\n".join(analysis_lines(net, args.macs, _memory(args), _dtype(args), _ask(args)))


def _analysis_json(net: Network, args: argparse.Namespace) -> str:
    data = to_dict(net)
    data.update(analysis_dict(net, args.macs, _memory(args), _dtype(args), _ask(args)))
    return json_text(data)


def _latex_report(net: Network, args: argparse.Namespace) -> str:
    # LaTeX loads sympy's printer: imported only when asked for.
    from ..analysis.compute import figures
    from ..report.latex import latex_document, latex_figures, latex_formula, latex_table

    source = os.path.basename(args.arch) if args.arch != "-" and args.arch != net.text else None
    if args.label is not None and (not args.label or any(ch in args.label for ch in "\\{}%#$&^~ ")):
        raise UsageError(f"--label takes a LaTeX label such as tab:net, got {args.label!r}")
    extra = latex_figures(net, figures(net, _ask(args))) if _analysis(args) else ""
    if args.formula:
        return latex_formula(net)
    if args.standalone:
        document = latex_document(net, args.depth, args.caption, args.label, source)
        return document.replace("\\end{document}", extra + "\n\\end{document}") if extra else document
    return latex_table(net, args.depth, args.caption, args.label, source) + ("\n" + extra if extra else "")
