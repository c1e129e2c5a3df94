"""The analysis subcommands: `symparams solve ...` and `symparams sweep ...`.

Each parses its arguments, asks symparams.solve / symparams.sweep for data, and renders
it as text, JSON or CSV. Registered in `cli.SUBCOMMANDS`.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Sequence
from fractions import Fraction

from .cli import UsageError, _Parser, _print, add_network_arguments, parse_subs, read_arch
from .errors import SolveError
from .network import DTYPE_BYTES

_SUFFIX = {"k": 10**3, "K": 10**3, "M": 10**6, "B": 10**9, "G": 10**9, "T": 10**12}
_COUNT = re.compile(r"([0-9][0-9_,]*(?:\.[0-9]+)?(?:[eE][0-9]+)?)\s*([kKMBGT]?)\Z")


def parse_count(text: str, option: str) -> int:
    """A target count as people write it: 1000000, 1_000_000, 1,000,000, 1e6, 1.5M, 7B.

    >>> parse_count("1.5M", "--params"), parse_count("1,004,138", "--params")
    (1500000, 1004138)
    """
    match = _COUNT.match(text.strip())
    if not match:
        raise UsageError(f"{option} expects a whole number such as 1000000, 1_000_000 or 1.5M; got {text!r}")
    number, suffix = match.groups()
    value = Fraction(number.replace("_", "").replace(",", "")) * _SUFFIX.get(suffix, 1)
    if value.denominator != 1:
        raise UsageError(f"{option} must be a whole number, got {text!r}")
    return int(value)


# ---------------------------------------------------------------- solve
_TARGET_OPTIONS = (
    ("params", "--params", "total parameters"),
    ("trainable", "--trainable", "trainable parameters"),
    ("non_trainable", "--non-trainable", "non-trainable parameters"),
    ("macs", "--macs", "multiply-accumulates of one forward pass (torchinfo's Mult-Adds)"),
    ("memory", "--memory", "bytes of the parameters in --dtype"),
    ("activations", "--activations", "bytes of every layer's output in one forward pass, in --dtype"),
)


def _solve_parser() -> _Parser:
    parser = _Parser(prog="symparams solve", description="Which value of a symbol gives a total: "
                     "symparams solve \"I(n,n,1)-C(32,5)-P(2)-C(32,3)-P(2)-H(256)-O(10)\" --for n --params 1M")
    add_network_arguments(parser, "values of the other symbols")
    parser.add_argument("--for", dest="unknown", required=True, metavar="NAME[,NAME...]",
                        help="the symbol to solve for; several names are solved as one value (h,w)")
    targets = parser.add_mutually_exclusive_group(required=True)
    for key, option, help_text in _TARGET_OPTIONS:
        targets.add_argument(option, dest=key, metavar="N", help=help_text)
    targets.add_argument("--axis", "--output", dest="axis", metavar="AXIS=N",
                         help="an output axis by name (h, w, c, t, n) or index in the convention's order")
    how = parser.add_mutually_exclusive_group()
    how.add_argument("--max", action="store_true", help="the largest value whose total is at most N")
    how.add_argument("--min", action="store_true", help="the smallest value whose total is at least N")
    parser.add_argument("--dtype", choices=list(DTYPE_BYTES), default="float32",
                        help="element type for --memory and --activations (default float32)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    return parser


def run_solve(argv: Sequence[str]) -> int:
    """`symparams solve`: print the answer; exit 2 with the reason when there is none."""
    from .api import parse
    from .solve import solve

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
    net = parse(read_arch(args.arch), convention=args.convention)
    how = "max" if args.max else "min" if args.min else "equal"
    solution = solve(net, unknowns, goal, target=target, how=how, values=parse_subs(args.subs), dtype=args.dtype)
    if not solution.found:
        raise SolveError(solution.reason)
    if args.json:
        _print(json.dumps(solution.as_dict()))
    else:
        _print(solution_text(solution, net.text, args.dtype))
    return 0


def _chosen_target(args: argparse.Namespace) -> tuple[str, str, str]:
    for key, option, _ in _TARGET_OPTIONS:
        if getattr(args, key) is not None:
            return key, option, getattr(args, key)
    return "axis:", "--axis", args.axis


def solution_text(solution, text: str, dtype: str = "float32") -> str:  # type: ignore[no-untyped-def]
    """The answer for people: the values, the neighbours, the closed form."""
    name = " = ".join(solution.unknowns)
    label = _target_label(solution.target, dtype)
    goal = f"{solution.goal:,}"

    def point(p) -> str:  # type: ignore[no-untyped-def]
        return f"{name} = {p.value}: {label} = {p.total:,}"

    lines = [" ".join(text.split()) if len(text) < 200 else " ".join(text.split())[:197] + "..."]
    if solution.how == "max":
        lines.append(f"Largest {name} with {label} <= {goal}: {point(solution.below)}")
    elif solution.how == "min":
        lines.append(f"Smallest {name} with {label} >= {goal}: {point(solution.above)}")
    elif solution.values:
        spans = ", ".join(str(lo) if lo == hi else f"{lo}..{'' if hi is None else hi}" for lo, hi in solution.values)
        lines.append(f"{label} = {goal} for {name} = {spans}")
    else:
        lines.append(f"No {name} gives {label} = {goal} exactly; the nearest:")
        if solution.below:
            lines.append(f"  below: {point(solution.below)}")
        if solution.above:
            lines.append(f"  above: {point(solution.above)}")
    for form, value in zip(solution.closed_form, solution.closed_value):
        lines.append(f"Closed form (ideal, floors dropped, N = {label}): {form}  ({name} ≈ {value:.6g} at N = {goal})")
    lines += [f"Note: {note}" for note in solution.notes]
    return "\n".join(lines)


def _target_label(target: str, dtype: str) -> str:
    if target.startswith("axis:"):
        return f"output axis {target[5:]}"
    if target in ("memory", "activations"):
        return f"{target} ({dtype} bytes)"
    return target.replace("_", "-")


# ---------------------------------------------------------------- sweep
def _sweep_parser() -> _Parser:
    parser = _Parser(prog="symparams sweep", description="Totals over a grid of symbol values: "
                     "symparams sweep \"I-C(k,3)-GAP-O(10)\" --vary h=32..512:32 --vary k=16,32,64 --csv out.csv")
    add_network_arguments(parser, "values of the other symbols")
    parser.add_argument("--vary", action="append", required=True, metavar="NAME=VALUES",
                        help="values of a symbol: 32..512:32 (first..last:step), 16,32,64, or both")
    for key, option, help_text in _TARGET_OPTIONS:
        parser.add_argument(option, dest=key, action="store_true", help=f"a column of {help_text}")
    parser.add_argument("--ideal", action="store_true", help="the ideal formula (floors dropped)")
    parser.add_argument("--dtype", choices=list(DTYPE_BYTES), default="float32",
                        help="element type for --memory and --activations (default float32)")
    output = parser.add_mutually_exclusive_group()
    output.add_argument("--csv", metavar="FILE", help="write CSV to FILE (- for standard output)")
    output.add_argument("--json", action="store_true", help="print one JSON object of arrays")
    return parser


def run_sweep(argv: Sequence[str]) -> int:
    """`symparams sweep`: a table, CSV or JSON of totals over the grid."""
    from .api import parse
    from .sweep import parse_vary, sweep

    args = _sweep_parser().parse_args(argv)
    targets = [key for key, _, _ in _TARGET_OPTIONS if getattr(args, key)] or ["params"]
    vary = parse_vary(args.vary)
    net = parse(read_arch(args.arch), convention=args.convention, mode="ideal" if args.ideal else "exact")
    result = sweep(net, vary, targets, values=parse_subs(args.subs), dtype=args.dtype)
    header = list(result.names) + targets + ["valid"]
    rows = [list(row) + [all(v is not None for v in row[len(result.names):])] for row in result.rows()]
    if args.json:
        data: dict[str, list[object]] = {name: result.grid[name].ravel().tolist() for name in result.names}
        for t in targets:
            data[t] = [_json_number(v) if ok else None
                       for v, ok in zip(result.totals[t].ravel().tolist(), result.valid.ravel().tolist())]
        data["valid"] = result.valid.ravel().tolist()
        _print(json.dumps(data))
    elif args.csv:
        _write_csv(args.csv, header, rows)
    else:
        _print(_aligned(header, rows))
    return 0


def _json_number(value: object) -> object:
    if isinstance(value, Fraction):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value if isinstance(value, (int, float)) else str(value)


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(int(value)) if value.is_integer() else repr(value)
    return str(value)


def _write_csv(path: str, header: list[str], rows: list[list[object]]) -> None:
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows([[_cell(v) for v in row] for row in rows])
    if path == "-":
        sys.stdout.write(buffer.getvalue())
        return
    try:
        with open(path, "w", encoding="utf-8", newline="") as handle:
            handle.write(buffer.getvalue())
    except OSError as err:
        raise UsageError(f"cannot write {path}: {err.strerror or err}") from None
    sys.stderr.write(f"wrote {len(rows)} rows to {path}\n")


def _aligned(header: list[str], rows: list[list[object]]) -> str:
    cells = [header] + [[_cell(v) for v in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    return "\n".join("  ".join(c.rjust(w) for c, w in zip(r, widths)).rstrip() for r in cells)


# ---------------------------------------------------------------- MACs and memory beside the table
def analysis_dict(net, macs: bool, memory: bool, dtype: str) -> dict:  # type: ignore[no-untyped-def]
    """MACs and memory for the JSON object: totals, and MACs per layer."""
    from .network import dtype_bytes
    from .render import json_value

    dtype_bytes(dtype)
    data: dict = {}
    if macs:
        data["macs"] = json_value(net.macs)
        data["layer_macs"] = [json_value(row.macs) for row in net.layers]
    if memory:
        data["dtype"] = dtype
        data["param_memory"] = json_value(net.memory(dtype))
        data["activation_memory"] = json_value(net.activation_memory(dtype))
    return data


def analysis_lines(net, macs: bool, memory: bool, dtype: str) -> list[str]:  # type: ignore[no-untyped-def]
    """MACs and memory as lines under the table."""
    from .network import dtype_bytes
    from .render import number

    dtype_bytes(dtype)
    lines = []
    if macs:
        lines.append("MACs per layer: " + ", ".join(f"{row.text} {number(row.macs)}" for row in net.layers
                                                     if row.macs != 0))
        lines.append(f"Total MACs: {number(net.macs)}")
    if memory:
        lines.append(f"Parameter memory ({dtype}): {_bytes(net.memory(dtype))}")
        lines.append(f"Activation memory ({dtype}, one sample, every layer's output): "
                     f"{_bytes(net.activation_memory(dtype))}")
    return lines


def _bytes(expr) -> str:  # type: ignore[no-untyped-def]
    from .render import number

    if getattr(expr, "is_Integer", False):
        value = int(expr)
        for unit, size in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
            if value >= size:
                return f"{value:,} bytes ({value / size:.2f} {unit})"
        return f"{value:,} bytes"
    return f"{number(expr)} bytes"
