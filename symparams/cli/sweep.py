"""`symparams sweep ...`: totals over a grid of symbol values, as a table, CSV or JSON."""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Sequence
from fractions import Fraction

from ..analysis.sweep import missing_text, parse_vary, sweep
from ..analysis.targets import TARGET_TABLE
from ..api import parse
from ..base.errors import SweepError
from ..result import DTYPES
from .common import ArgumentParser, UsageError, add_network_arguments, parse_subs, print_out, read_arch


def _sweep_parser() -> ArgumentParser:
    parser = ArgumentParser(
        prog="symparams sweep",
        description="Totals over a grid of symbol values: "
        'symparams sweep "I-C(k,3)-GAP-O(10)" --vary h=32..512:32 --vary k=16,32,64 --csv out.csv',
    )
    add_network_arguments(parser, "values of the other symbols")
    parser.add_argument(
        "--vary",
        action="append",
        required=True,
        metavar="NAME=VALUES",
        help="values of a symbol: 32..512:32 (first..last:step), 16,32,64, or both",
    )
    for t in TARGET_TABLE:
        parser.add_argument(t.option, dest=t.key, action="store_true", help=f"a column of {t.help}")
    parser.add_argument("--ideal", action="store_true", help="the ideal formula (floors dropped)")
    parser.add_argument(
        "--dtype",
        choices=list(DTYPES),
        default="float32",
        help="element type for --memory and --activations (default float32)",
    )
    output = parser.add_mutually_exclusive_group()
    output.add_argument("--csv", metavar="FILE", help="write CSV to FILE (- for standard output)")
    output.add_argument("--json", action="store_true", help="print one JSON object of arrays")
    return parser


def run_sweep(argv: Sequence[str]) -> int:
    """`symparams sweep`: a table, CSV or JSON of totals over the grid."""
    args = _sweep_parser().parse_args(argv)
    targets = [t.key for t in TARGET_TABLE if getattr(args, t.key)] or ["params"]
    vary = parse_vary(args.vary)
    given = {k: v for k, v in parse_subs(args.subs).items() if k not in vary}
    net = parse(
        read_arch(args.arch),
        convention=args.convention,
        mode="ideal" if args.ideal else "exact",
        values=given,
    )
    try:
        result = sweep(net, vary, targets, dtype=args.dtype)
    except SweepError as err:
        if not err.missing:
            raise
        raise SweepError(missing_text(err.missing, flag=True)) from None
    header = list(result.names) + targets + ["valid"]
    rows = [list(row) + [all(v is not None for v in row[len(result.names) :])] for row in result.rows()]
    if args.json:
        data: dict[str, list[object]] = {name: result.grid[name].ravel().tolist() for name in result.names}
        for t in targets:
            data[t] = [
                _json_number(v) if ok else None
                for v, ok in zip(result.totals[t].ravel().tolist(), result.valid.ravel().tolist())
            ]
        data["valid"] = result.valid.ravel().tolist()
        print_out(json.dumps(data))
    elif args.csv:
        _write_csv(args.csv, header, rows)
    else:
        print_out(_aligned(header, rows))
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
