"""`symparams solve ...`: which value of a symbol gives a total."""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence

from ..analysis.solve import Point, Solution, solve
from ..analysis.targets import TARGET_TABLE, label
from ..api import parse
from ..base.errors import SolveError
from ..report.text import clip
from ..result import DTYPES
from .common import (
    ArgumentParser,
    UsageError,
    add_network_arguments,
    parse_count,
    parse_subs,
    print_out,
    read_arch,
)


def _solve_parser() -> ArgumentParser:
    parser = ArgumentParser(
        prog="symparams solve",
        description="Which value of a symbol gives a total: "
        'symparams solve "I(n,n,1)-C(32,5)-P(2)-C(32,3)-P(2)-H(256)-O(10)" --for n --params 1M',
    )
    add_network_arguments(parser, "values of the other symbols")
    parser.add_argument(
        "--for",
        dest="unknown",
        required=True,
        metavar="NAME[,NAME...]",
        help="the symbol to solve for; several names are solved as one value (h,w)",
    )
    targets = parser.add_mutually_exclusive_group(required=True)
    for t in TARGET_TABLE:
        targets.add_argument(t.option, dest=t.key, metavar="N", help=t.help)
    targets.add_argument(
        "--axis",
        "--output",
        dest="axis",
        metavar="AXIS=N",
        help="an output axis by name (h, w, c, t, n) or index in the convention's order",
    )
    how = parser.add_mutually_exclusive_group()
    how.add_argument("--max", action="store_true", help="the largest value whose total is at most N")
    how.add_argument("--min", action="store_true", help="the smallest value whose total is at least N")
    parser.add_argument(
        "--dtype",
        choices=list(DTYPES),
        default="float32",
        help="element type for --memory and --activations (default float32)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    return parser


def run_solve(argv: Sequence[str]) -> int:
    """`symparams solve`: print the answer; exit 2 with the reason when there is none."""
    args = _solve_parser().parse_args(argv)
    target, option, raw = _chosen_target(args)
    if target.startswith("axis:"):
        name, sep, raw = raw.partition("=")
        if not sep or not name.strip():
            raise UsageError(f"--axis expects AXIS=N such as h=16 or 0=10; got {args.axis!r}")
        target = "axis:" + name.strip()
    goal = parse_count(raw, option)
    unknowns = tuple(n.strip() for n in args.unknown.split(",") if n.strip())
    if not unknowns:
        raise UsageError("--for needs a symbol name, e.g. --for h")
    net = parse(read_arch(args.arch), convention=args.convention, values=parse_subs(args.subs))
    how = "max" if args.max else "min" if args.min else "equal"
    solution = solve(net, unknowns, goal, target=target, how=how, dtype=args.dtype)
    if not solution.found:
        raise SolveError(solution.reason)
    if args.json:
        print_out(json.dumps(solution.as_dict()))
    else:
        print_out(solution_text(solution, net.text, args.dtype))
    return 0


def _chosen_target(args: argparse.Namespace) -> tuple[str, str, str]:
    for t in TARGET_TABLE:
        if getattr(args, t.key) is not None:
            return t.key, t.option, getattr(args, t.key)
    return "axis:", "--axis", args.axis


def spans(ranges: Sequence[tuple[int, int | None]]) -> str:
    """`52..55, 60, 70..` for inclusive ranges (None: no end)."""
    return ", ".join(str(lo) if lo == hi else f"{lo}..{'' if hi is None else hi}" for lo, hi in ranges)


def solution_text(solution: Solution, text: str, dtype: str = "float32") -> str:
    """The answer for people: the values, the neighbours, the closed form."""
    name = " = ".join(solution.unknowns)
    what = label(solution.target, "short", dtype)
    goal = f"{solution.goal:,}"

    def point(p: Point | None, ties: tuple[tuple[int, int | None], ...] = ()) -> str:
        assert p is not None  # a solution without its answer is refused before it is printed
        at = spans(ties) if len(ties) > 1 or ties and ties[0][0] != ties[0][1] else str(p.value)
        return f"{name} = {at}: {what} = {p.total:,}"

    lines = [clip(" ".join(text.split()), 200)]
    largest = f"Largest {name} with {what} <= {goal}: {point(solution.largest)}" if solution.largest else ""
    smallest = (
        f"Smallest {name} with {what} >= {goal}: {point(solution.smallest)}" if solution.smallest else ""
    )
    if solution.how == "max":
        lines.append(largest)
    elif solution.how == "min":
        lines.append(smallest)
    else:
        if solution.values:
            lines.append(f"{what} = {goal} for {name} = {spans(solution.values)}")
        else:
            lines.append(f"No {name} gives {what} = {goal} exactly; the nearest:")
            lines.append(f"  below: {point(solution.below, solution.below_values)}")
            lines.append(f"  above: {point(solution.above, solution.above_values)}")
        # A total that rises and falls: the largest and smallest values are other answers.
        if solution.largest and solution.below and solution.largest.value != solution.below.value:
            lines.append(largest)
        if solution.smallest and solution.above and solution.smallest.value != solution.above.value:
            lines.append(smallest)
    for form, value in zip(solution.closed_form, solution.closed_value):
        lines.append(
            f"Closed form (ideal, floors dropped, N = {what}): {form}  ({name} ≈ {value:.6g} at N = {goal})"
        )
    lines += [f"Note: {note}" for note in solution.notes]
    return "\n".join(lines)
