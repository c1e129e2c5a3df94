"""What every subcommand shares: reading ARCH, --subs, the argument parser, printing."""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Sequence
from fractions import Fraction
from typing import TYPE_CHECKING, BinaryIO

from ..base.errors import SymparamsError
from ..base.limits import MAX_DIGITS

if TYPE_CHECKING:
    from ..result import Network

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_WHOLE = re.compile(r"[0-9](_?[0-9])*\Z")


class UsageError(SymparamsError):
    headline = "Invalid arguments"


class OutputError(SymparamsError):
    headline = "Cannot write the output"


class ArgumentParser(argparse.ArgumentParser):
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
        raise UsageError(
            f"{source} has more than {_MAX_BYTES:,} bytes; an architecture has at most 1,000,000 characters"
        )
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
                raise UsageError(
                    f"--subs: the value of {name} has {len(value):,} digits; symparams computes "
                    f"with at most {MAX_DIGITS}"
                )
            if not _WHOLE.match(value) or int(value.replace("_", "")) < 1:
                raise UsageError(
                    f"--subs: the value of {name} must be a positive whole number, got {value!r}"
                )
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


def add_network_arguments(
    parser: argparse.ArgumentParser, subs_help: str = "give symbols values, e.g. --subs h=28,w=28,c=1"
) -> None:
    """ARCH, --convention and --subs: how every subcommand reads a network."""
    parser.add_argument("arch", help="architecture text, a .arch file, or - for standard input")
    parser.add_argument(
        "--convention",
        choices=["torch", "keras"],
        default="torch",
        help="count and order shapes as PyTorch (default) or Keras does",
    )
    parser.add_argument("--subs", action="append", metavar="NAME=VALUE[,...]", help=subs_help)


def print_out(text: str) -> None:
    if sys.stdout is None:  # `symparams ARCH >&-`
        raise OutputError("standard output is closed")
    try:
        sys.stdout.write(text + "\n")
        sys.stdout.flush()
    except BrokenPipeError:
        raise  # the reader went away: main() exits quietly
    except OSError as err:  # `> /dev/full`, a full disk, an unwritable device
        silence_stdout()  # or the interpreter's own last flush fails again at exit
        raise OutputError(f"standard output: {err.strerror or err}") from None


def silence_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


_SUFFIX = {"k": 10**3, "K": 10**3, "M": 10**6, "B": 10**9, "G": 10**9, "T": 10**12, "P": 10**15}
# Budgets in bytes: decimal units (80GB = 80·10⁹) and binary ones (80GiB = 80·2³⁰).
_BYTE_UNITS = {
    **{f"{p}B": 10 ** (3 * i) for i, p in enumerate(("", "k", "M", "G", "T", "P")) if p},
    "KB": 10**3,
    **{f"{p}iB": 2 ** (10 * i) for i, p in enumerate(("", "K", "M", "G", "T", "P"), start=0) if p},
}
_UNITS = {**_SUFFIX, **_BYTE_UNITS}
_COUNT = re.compile(r"([0-9][0-9_,]*(?:\.[0-9]+)?(?:[eE][0-9]+)?)\s*([A-Za-z]*)\Z")


def parse_count(text: str, option: str) -> int:
    """A target count or budget as people write it: 1000000, 1_000_000, 1,000,000, 1e6,
    1.5M, 7B, 1T, and bytes with decimal (80GB) or binary (80GiB, 4MiB) units.

    >>> parse_count("1.5M", "--params"), parse_count("1,004,138", "--params")
    (1500000, 1004138)
    >>> parse_count("80GB", "--kv-cache"), parse_count("4MiB", "--kv-cache")
    (80000000000, 4194304)
    """
    match = _COUNT.match(text.strip())
    if not match:
        raise UsageError(
            f"{option} expects a whole number such as 1000000, 1_000_000, 1.5M or 80GiB; got {text!r}"
        )
    number, unit = match.groups()
    if unit and unit not in _UNITS:
        raise UsageError(f"{option}: unknown unit {unit!r} in {text!r}; expected one of {', '.join(_UNITS)}")
    value = Fraction(number.replace("_", "").replace(",", "")) * _UNITS.get(unit, 1)
    if value.denominator != 1:
        raise UsageError(f"{option} must be a whole number, got {text!r}")
    return int(value)
