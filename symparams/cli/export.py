"""`symparams export ARCH --to torch|keras`: the network as framework code."""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence

from ..api import Network, parse
from ..export import class_name, to_keras, to_torch
from .common import ArgumentParser, check_subs_names, parse_subs, print_out, read_arch


def add_export_arguments(parser: ArgumentParser, default: str | None) -> None:
    parser.add_argument("arch", help="architecture text, a .arch file, or - for standard input")
    parser.add_argument(
        "--to",
        choices=["torch", "keras"],
        default=default,
        required=default is None,
        help="the framework: torch (an nn.Module) or keras (a functional keras.Model)",
    )
    parser.add_argument(
        "--subs", action="append", metavar="NAME=VALUE[,...]", help="give symbols values, e.g. --subs t=128"
    )
    parser.add_argument("--name", default=None, help="the class name (default: the file's name, or Net)")


def network_for(args: argparse.Namespace, convention: str) -> tuple[Network, str]:
    """The network ARCH describes, with --subs, and the class name: --name, the file's, or Net."""
    text = read_arch(args.arch)
    values = parse_subs(args.subs)
    if values:
        check_subs_names(parse(text, convention=convention), values)
    net = parse(text, convention=convention, values=values)
    name = args.name or class_name(args.arch if args.arch != "-" and os.path.isfile(args.arch) else None)
    return net, name


def run_export(argv: Sequence[str]) -> int:
    parser = ArgumentParser(
        prog="symparams export",
        description="Print a self-contained PyTorch or Keras module for a network: "
        "symparams export examples/resnet50.arch --to torch > resnet50.py",
    )
    add_export_arguments(parser, None)
    args = parser.parse_args(argv)
    net, name = network_for(args, args.to)
    print_out((to_torch if args.to == "torch" else to_keras)(net, name).rstrip("\n"))
    return 0
