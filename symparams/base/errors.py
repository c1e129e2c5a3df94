"""The exception family: every error a user can cause is a SymparamsError.

Errors carry the architecture text and the span of the offending token, and render
the einops way: what is wrong in the user's words, the line with a caret under the
token, and what was expected.
"""

from __future__ import annotations

from collections.abc import Sequence


class SymparamsError(ValueError):
    """Base of every error symparams raises on bad input.

    >>> import symparams
    >>> try:
    ...     symparams.parse("I-C(32,5-P(2)")
    ... except symparams.SymparamsError as err:
    ...     print(err.pos)
    8
    """

    headline = "Invalid architecture"

    def __init__(
        self,
        message: str,
        text: str | None = None,
        pos: int | None = None,
        end: int | None = None,
        expected: Sequence[str] = (),
        notes: Sequence[str] = (),
    ) -> None:
        self.message = message
        self.text = text
        self.pos = pos
        self.end = end
        self.expected = tuple(expected)
        self.notes = tuple(notes)
        super().__init__(self.render())

    def with_text(self, text: str) -> SymparamsError:
        """The same error, quoting `text` (used where the raiser had no text)."""
        if self.text is None:
            self.text = text
            self.args = (self.render(),)
        return self

    def with_note(self, note: str) -> SymparamsError:
        """The same error with one more line of context beneath it."""
        self.notes = self.notes + (note,)
        self.args = (self.render(),)
        return self

    def render(self) -> str:
        if self.text is None or self.pos is None:
            lines = [f"{self.headline}: {self.message}"]
        else:
            line_no, col, line = locate(self.text, self.pos)
            where = (
                f"column {col + 1}"
                if "\n" not in self.text.strip("\n")
                else (f"line {line_no}, column {col + 1}")
            )
            width = 1
            if self.end is not None and self.end > self.pos:
                width = max(1, min(self.end, self.pos + len(line) - col) - self.pos)
            lines = [
                f"{self.headline} at {where}: {self.message}",
                "  " + line.expandtabs(1),
                "  " + " " * col + "^" * min(width, 60),
            ]
        if self.expected:
            lines.append("Expected one of: " + " ".join(self.expected))
        lines.extend(self.notes)
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.render()


class ParseError(SymparamsError):
    """The text is not in the architecture language."""


class ShapeError(SymparamsError):
    """A layer cannot take the shape it receives, or its arguments break a rule."""

    headline = "Invalid shape"


class ArgumentError(ShapeError):
    """A layer's or a definition's argument is wrong in itself: an unknown name, a value of
    the wrong kind, a misspelt keyword. A ShapeError, so `except ShapeError` still
    catches it, under a headline of its own."""

    headline = "Invalid argument"


class DefinitionError(ShapeError):
    """A definition cannot be used: it is recursive, defined twice, or takes a layer's name."""

    headline = "Invalid definition"


class LimitError(SymparamsError):
    """The input exceeds a resource limit (size, depth, counts)."""

    headline = "Input too large"


class SolveError(SymparamsError):
    """A solve, sweep or substitution request cannot be answered."""

    headline = "Cannot solve"


class SweepError(SolveError):
    """A sweep (or a plot of one) cannot be computed. `missing` names the symbols the
    totals still depend on, for each front end to say how to give them values."""

    headline = "Cannot sweep"

    def __init__(self, message: str, *args: object, missing: Sequence[str] = (), **kw: object) -> None:
        self.missing = tuple(missing)
        super().__init__(message, *args, **kw)  # type: ignore[arg-type]


def locate(text: str, pos: int) -> tuple[int, int, str]:
    """1-based line number, 0-based column and the line's text for offset `pos`."""
    pos = max(0, min(pos, len(text)))
    start = text.rfind("\n", 0, pos) + 1
    stop = text.find("\n", pos)
    if stop < 0:
        stop = len(text)
    line = text[start:stop].rstrip("\r")
    # Long one-line inputs: show a window around the caret rather than the whole line.
    col = pos - start
    if len(line) > 100:
        lo = max(0, col - 50)
        prefix = "..." if lo else ""
        line = prefix + line[lo : lo + 100] + ("..." if lo + 100 < len(line) else "")
        col = col - lo + len(prefix)
    return text.count("\n", 0, pos) + 1, col, line
