"""The command line: `symparams ARCH [options]` and its subcommands.

`main(argv)` returns the exit code: 0 on success, 2 with a one-message error on
bad input (never a traceback), 130 on Ctrl-C. Each subcommand is a module of this
package with a `run(argv) -> int`; they are imported inside main()'s try, so that
start-up (sympy, lark) interrupted by Ctrl-C exits like any other interruption. For
the same reason this module imports nothing of symparams at its top (the error classes
too load inside the try), and symparams/__init__.py loads everything lazily.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence

# Subcommand name -> (module of this package, its entry point).
SUBCOMMANDS = {
    "solve": ("solve", "run_solve"),
    "sweep": ("sweep", "run_sweep"),
    "plot": ("plot", "plot_main"),
    "export": ("export", "run_export"),
    "check": ("check", "run_check"),
}


def _entry(module: str, name: str) -> Callable[[Sequence[str]], int]:
    from importlib import import_module

    return getattr(import_module(f".{module}", __name__), name)  # type: ignore[no-any-return]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; return the exit code (also of --help and --version, 0)."""
    try:
        return _main(list(sys.argv[1:] if argv is None else argv))
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        return 130
    except BrokenPipeError:
        # The reader went away (`symparams ... | head -1`): not an error of ours.
        from .common import silence_stdout

        silence_stdout()
        return 0
    except RecursionError:
        sys.stderr.write("Input too large: the architecture nests too deeply\n")
        return 2


def _main(argv: list[str]) -> int:
    from ..base.errors import SymparamsError

    try:
        if argv and argv[0] in SUBCOMMANDS:
            return _entry(*SUBCOMMANDS[argv[0]])(argv[1:])
        from .startup import defer_sympy_tensor

        defer_sympy_tensor()  # the main command builds no tensor expression (startup.py)
        return _entry("summary", "run_main")(argv)
    except SymparamsError as err:
        sys.stderr.write(str(err) + "\n")
        return 2
    except SystemExit as done:  # argparse's --help and --version print, then exit 0
        return done.code if isinstance(done.code, int) else 0


def console_main() -> None:
    """Entry point of the `symparams` console script."""
    hard_exit(main())


def hard_exit(code: int) -> None:
    """Flush the output and end the process without freeing its objects one by one.

    A long symbolic network leaves tens of thousands of sympy objects (rows, shapes,
    sympy's caches); freeing them at exit cost 6% of a DenseNet-121 run (125 M of 2,146 M
    instructions). mypy ends its command line the same way (mypy/util.py, hard_exit).
    Every file the commands write is closed before they return; no atexit hook is ours."""
    import os

    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:  # None when the process started with the descriptor closed
                stream.flush()
        except (OSError, ValueError):  # main() has written and reported its output; a reader gone
            pass
    os._exit(code)


if __name__ == "__main__":
    console_main()
