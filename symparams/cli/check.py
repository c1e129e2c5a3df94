"""`symparams check ARCH [--to torch|keras]`: export, build with the framework, compare."""

from __future__ import annotations

from collections.abc import Sequence

from ..export.check import check, check_text, require
from .common import ArgumentParser, print_out
from .export import add_export_arguments, network_for


def run_check(argv: Sequence[str]) -> int:
    """Exit 0 when the framework agrees with symparams everywhere, 1 when not, 2 on bad
    input or a framework that is not installed."""
    parser = ArgumentParser(
        prog="symparams check",
        description="Build the exported model with PyTorch (on the meta device) or Keras, run a "
        "forward pass, and compare its counts and shapes with symparams', row by row",
    )
    add_export_arguments(parser, "torch")
    args = parser.parse_args(argv)
    require(args.to)
    net, _ = network_for(args, args.to)
    result = check(net, args.to)
    print_out(check_text(result))
    return 0 if result.agrees else 1
