"""The command line: `symparams ARCH [options]`.

`main(argv)` returns the exit code: 0 on success, 2 with a one-message error on
bad input (never a traceback), 130 on Ctrl-C.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, BinaryIO

from .errors import SymparamsError
from .limits import MAX_DIGITS

if TYPE_CHECKING:
    from .network import Network

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_WHOLE = re.compile(r"[0-9](_?[0-9])*\Z")


class UsageError(SymparamsError):
    headline = "Invalid arguments"


class OutputError(SymparamsError):
    headline = "Cannot write the output"


class _Parser(argparse.ArgumentParser):
    """argparse that raises instead of exiting, so main() owns the exit code."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(message)


def read_arch(arch: str) -> str:
    """ARCH is the text itself, a path to a file, or '-' for standard input."""
    if arch == "-":
        return _decode(_read_bounded(sys.stdin.buffer, "standard input"), "standard input")
    looks_like_path = arch.endswith(".arch") or os.sep in arch and not any(ch in arch for ch in "()[]")
    if os.path.isdir(arch):
        raise UsageError(f"{arch} is a directory, not an architecture file")
    if os.path.isfile(arch) or looks_like_path:
        try:
            with open(arch, "rb") as handle:
                data = _read_bounded(handle, arch)
        except OSError as err:
            raise UsageError(f"cannot read {arch}: {err.strerror or err}") from None
        return _decode(data, arch)
    return arch


# parsing.MAX_TEXT characters of at most 4 bytes each in UTF-8: more bytes than this
# cannot be an architecture, and `cat /dev/zero | symparams -` must not fill the memory.
_MAX_BYTES = 4 * 1_000_000


def _read_bounded(handle: BinaryIO, source: str) -> bytes:
    data = handle.read(_MAX_BYTES + 1)
    if len(data) > _MAX_BYTES:
        raise UsageError(f"{source} has more than {_MAX_BYTES:,} bytes; an architecture has at most "
                         "1,000,000 characters")
    return data


def _decode(data: bytes, source: str) -> str:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise UsageError(f"{source} is not UTF-8 text (byte {err.start})") from None
    if not text.strip():
        raise UsageError(f"{source} is empty: expected an architecture such as I(784)-O(10)")
    return text


def parse_subs(items: Sequence[str] | None) -> dict[str, int]:
    """`h=28,w=28` (repeatable) to {'h': 28, 'w': 28}; values are whole numbers only."""
    values: dict[str, int] = {}
    for item in items or ():
        for part in item.split(","):
            part = part.strip()
            if not part:
                continue
            name, sep, value = (s.strip() for s in part.partition("="))
            if not sep or not _NAME.match(name):
                raise UsageError(f"--subs expects name=value pairs such as h=28,w=28; got {part!r}")
            if len(value) > MAX_DIGITS:  # before int(), which stops at 4,300 digits
                raise UsageError(f"--subs: the value of {name} has {len(value):,} digits; symparams computes "
                                 f"with at most {MAX_DIGITS}")
            if not _WHOLE.match(value) or int(value.replace("_", "")) < 1:
                raise UsageError(f"--subs: the value of {name} must be a positive whole number, got {value!r}")
            values[name] = int(value.replace("_", ""))
    return values


def check_subs_names(net: Network, values: dict[str, int]) -> None:
    """A --subs name the network does not use is a typo (`H=28` for `h=28`), refused."""
    known = {s.name for s in net.free_symbols}
    for cond in net.conditions:
        known |= {s.name for s in getattr(cond, "free_symbols", ())}
    unknown = [name for name in values if name not in known]
    if unknown:
        have = ", ".join(sorted(known)) or "none: every size is a number"
        raise UsageError(f"--subs: the network has no symbol {unknown[0]!r}; its symbols are {have}")


def add_network_arguments(parser: argparse.ArgumentParser,
                          subs_help: str = "give symbols values, e.g. --subs h=28,w=28,c=1") -> None:
    """ARCH, --convention and --subs: how every subcommand reads a network."""
    parser.add_argument("arch", help="architecture text, a .arch file, or - for standard input")
    parser.add_argument("--convention", choices=["torch", "keras"], default="torch",
                        help="count and order shapes as PyTorch (default) or Keras does")
    parser.add_argument("--subs", action="append", metavar="NAME=VALUE[,...]", help=subs_help)


def _main_parser() -> _Parser:
    parser = _Parser(prog="symparams", description="Exact shapes and parameter counts of a neural network "
                     "described in one line, e.g. symparams \"I(28,28,1)-C(32,5)-P(2)-H(256)-O(10)\"")
    add_network_arguments(parser)
    parser.add_argument("--ideal", action="store_true", help="closed form: floors and ceils dropped")
    parser.add_argument("--depth", type=int, default=None, help="fold blocks deeper than this level")
    parser.add_argument("--macs", action="store_true", help="also MACs per layer and in total (torchinfo's Mult-Adds)")
    parser.add_argument("--memory", action="store_true",
                        help="also parameter and activation memory, in bytes of --dtype")
    from .network import DTYPE_BYTES

    parser.add_argument("--dtype", default=None, choices=list(DTYPE_BYTES),
                        help="float32 (default), bfloat16, float16 or int8; implies --memory")
    output = parser.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="print one JSON object")
    output.add_argument("--latex", action="store_true",
                        help="print a LaTeX booktabs table and the total as a displayed equation")
    output.add_argument("--markdown", action="store_true", help="print a GitHub-flavoured Markdown table")
    latex = parser.add_mutually_exclusive_group()
    latex.add_argument("--standalone", action="store_true", help="with --latex: a whole document for pdflatex")
    latex.add_argument("--formula", action="store_true", help="with --latex: only the total, for inline math")
    return parser


def run_main(argv: Sequence[str]) -> int:
    from .api import parse
    from .render import table, to_json

    args = _main_parser().parse_args(argv)
    text = read_arch(args.arch)
    # The table, JSON and Markdown of a network without symbols need no sympy (arith.py).
    numeric = not (args.latex or _analysis(args))
    net = parse(text, convention=args.convention, mode="ideal" if args.ideal else "exact", numeric=numeric)
    values = parse_subs(args.subs)
    if values:
        check_subs_names(net, values)
        net = net.subs(**values)
    if (args.standalone or args.formula) and not args.latex:
        raise UsageError(f"--{'standalone' if args.standalone else 'formula'} goes with --latex")
    if args.json:
        _print(to_json(net) if not _analysis(args) else _analysis_json(net, args))
    elif args.latex:
        _print(_latex_report(net, args))
    elif args.markdown:
        from .render import markdown

        _print(markdown(net, depth=args.depth))
    else:
        _print(table(net, depth=args.depth))
        if _analysis(args):
            _print(_analysis_text(net, args))
    return 0


def _analysis(args: argparse.Namespace) -> bool:
    return bool(args.macs or args.memory or args.dtype)


def _analysis_text(net: Network, args: argparse.Namespace) -> str:
    from .analysis_cli import analysis_lines

    return "\n".join(analysis_lines(net, args.macs, args.memory or bool(args.dtype), args.dtype or "float32"))


def _analysis_json(net: Network, args: argparse.Namespace) -> str:
    import json

    from .analysis_cli import analysis_dict
    from .render import to_dict

    data = to_dict(net)
    data.update(analysis_dict(net, args.macs, args.memory or bool(args.dtype), args.dtype or "float32"))
    return json.dumps(data, indent=2)


def _latex_report(net: Network, args: argparse.Namespace) -> str:
    from .latex import latex_document, latex_formula, latex_table

    if args.formula:
        return latex_formula(net)
    if args.standalone:
        return latex_document(net, depth=args.depth)
    return latex_table(net, depth=args.depth)


# Subcommands: `symparams solve ...`, registered by the modules that implement them.
SUBCOMMANDS: dict[str, Callable[[Sequence[str]], int]] = {}


def _solve(argv: Sequence[str]) -> int:
    from .analysis_cli import run_solve

    return run_solve(argv)


def _sweep(argv: Sequence[str]) -> int:
    from .analysis_cli import run_sweep

    return run_sweep(argv)


SUBCOMMANDS["solve"] = _solve
SUBCOMMANDS["sweep"] = _sweep


def _plot(argv: Sequence[str]) -> int:
    # symparams.plot imports matplotlib only when it draws; importing it here is cheap.
    from .plot import plot_main

    return plot_main(argv)


SUBCOMMANDS["plot"] = _plot


def _print(text: str) -> None:
    if sys.stdout is None:  # `symparams ARCH >&-`
        raise OutputError("standard output is closed")
    try:
        sys.stdout.write(text + "\n")
        sys.stdout.flush()
    except BrokenPipeError:
        raise  # the reader went away: main() exits quietly
    except OSError as err:  # `> /dev/full`, a full disk, an unwritable device
        _silence_stdout()  # or the interpreter's own last flush fails again at exit
        raise OutputError(f"standard output: {err.strerror or err}") from None


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; return the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        if argv and argv[0] in SUBCOMMANDS:
            return SUBCOMMANDS[argv[0]](argv[1:])
        return run_main(argv)
    except SymparamsError as err:
        sys.stderr.write(str(err) + "\n")
        return 2
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        return 130
    except BrokenPipeError:
        # The reader went away (`symparams ... | head -1`): not an error of ours.
        _silence_stdout()
        return 0
    except RecursionError:
        sys.stderr.write("Input too large: the architecture nests too deeply\n")
        return 2


def _silence_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def console_main() -> None:
    """Entry point of the `symparams` console script."""
    sys.exit(main())


if __name__ == "__main__":
    console_main()
