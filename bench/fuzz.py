"""The fuzz campaign: `python bench/fuzz.py [--seconds S] [--seed N] [--max-kb K]`.

Throws generated text at `symparams.parse` and checks the one property every input
must have (issue 8): it either parses and yields a Network whose totals equal the sum
of its rows (and every block's counts its `count` times its children's), renders as a
table and as JSON, or raises a `SymparamsError` that carries a position whenever the
text is non-empty and within the size limit. Anything else -- RecursionError, a lark or
sympy exception, ZeroDivisionError, TypeError, a crash in a renderer -- is an escape.

The generators are plain functions of a `random.Random`, so the same ones drive the
hypothesis tests in tests/test_fuzz.py (through `st.randoms()`, which shrinks) and this
longer campaign. The campaign also times every input and reports the slowest one of
at most 10 KB, and exits 1 on an escape or on such an input slower than `--budget`.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import sys
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

import sympy

import symparams
from symparams.base.errors import SymparamsError
from symparams.language.parsing import MAX_TEXT
from symparams.layers import registry

HERE = Path(__file__).resolve().parent
EXAMPLES = HERE.parent / "examples"

# Valid architectures the mutations start from: every layer family, every form of
# composition, definitions, comments, numeric and symbolic inputs.
VALID = [
    "I(28,28,1)-C(32,5)-P(2)-C(32,3)-P(2)-H(256)-O(10)",
    "I-C(32,5)-P(2)-C(32,3)-P(2)-H(256)-O(10)",
    "I(64,64,3)-Z(3)-C(32,7,s=2)-BN-relu-P(3,s=2,p=1)-GAP-O(1000)",
    "I(h,w,c)-C(2*k,3,p=same)-BN-relu-A(2,ceil=true)-F-H(k/2)-D(0.5)-O(10)",
    "I(32,32,3)-DW(3,m=2)-SC(64,3,p=same)-T(16,4,s=2,p=1)-AAP((2,2))-F-O(10)",
    "I(16,16,16,4)-C(8,(3,3,3),d=2,g=4)-P(2)-GMP-H(32,bias=false)-O(2)",
    "I(100,64)-L(128,seq=true,bi=true)-G(64)-O(5)",
    "I(t,d)-R(32,seq=true)-LN-RMS-FIRST-O(2)",
    "I(128)-E(30522,768)-PE(512)-TB(12,3072)*12-LN-O(30522,tied=true)",
    "I(14,14,768)-SEQ-CLS-MHA(12,kv=4)-TB(12,3072,norm=rms,mlp=swiglu,bias=false)-FIRST-O(1000)",
    "I(56,56,64)-[C(64,1)|C(64,3,p=same)|P(3,s=1,p=1)-C(32,1)]-[C(160,3,p=1) + id]-relu",
    "I(8)-(H(8)-relu)*n-O(1)",
    "I(32,32,3)-4[C(8,3)-relu]-C(16,1)*3-GAP-O(10)",
    "block(k) = C(k,3,p=1)-BN-relu\nI(32,32,3)-block(16)-block(32)-P(2)-F-O(10)",
    "res = [C(c,3,p=same)-relu + id]\nI(h,w,c)-res*L-GAP-O(n)",
    "I(28,28,1)  # a comment\n  -C(32, 5)\t-P(2)\r\n-H(256)-O(10) ; ",
    "I(2^10)-H(10^30)-O(1_000_000)",
    "I(n,n,3)-C(64,(1,7),s=(2,1))-P((3,1),s=(1,1))-F-O(n-2)",
]


def _examples() -> list[str]:
    if not EXAMPLES.is_dir():
        return []
    return [p.read_text("utf-8") for p in sorted(EXAMPLES.glob("*.arch"))]


CORPUS = VALID + _examples()

LAYER_NAMES = sorted(registry.REGISTRY) + ["I", "Input"]
PUNCTUATION = ["(", ")", "[", "]", ",", "-", "*", "|", "+", "=", "/", "^", ";", "#", "\n", " "]
KEYWORDS = ["same", "valid", "true", "false", "s=", "p=", "d=", "g=", "bias=", "seq=", "tied=", "ceil="]
SYMBOLS = ["h", "w", "c", "n", "k", "d_model", "L", "__import__", "exec", "pi", "E", "I", "oo", "nan", "zoo",
           "x", "_", "open"]
NUMBERS = ["0", "1", "2", "3", "7", "32", "-1", "1_000", "0.5", ".5", "1.", "2^2^2^2^2", "2^2^2^2^2^2",
           "9" * 40, "10^300", "2^64", "(0-1)", "1/0", "0/0", "0^0", "(-2)^(1/2)", "2^-1", "1e9", "0x10"]
# Text that looks like the language to a reader but is not: the lookalikes the issue
# names, invisible characters, full-width forms, Cyrillic letters, control characters.
LOOKALIKES = ["−", "–", "—", "×", "·", "（", "）", "，", "［", "］", "＝", "１", "\u00a0", "\u200b", "\ufeff",
              "С", "Н", "О", "\t", "\r\n", "\r", "\f", "\v", "\x00", "\x1b", "\\", "\"", "'", "`", "{", "}",
              "é", "😀", "\ud800"]
VOCABULARY = LAYER_NAMES + PUNCTUATION + KEYWORDS + SYMBOLS + NUMBERS + LOOKALIKES

_TOKEN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|[0-9][0-9_]*(?:\.[0-9]+)?|\s+|.", re.DOTALL)


def tokens(text: str) -> list[str]:
    """Text cut into the pieces mutations work on: names, numbers, spaces, characters."""
    return _TOKEN.findall(text)


# ---------------------------------------------------------------- generators
def random_text(rng: random.Random, size: int = 60) -> str:
    """Characters from the language's alphabet, with some from anywhere in Unicode."""
    alphabet = "ICPHOTDABNLEGRSZFM0123456789()[],-*|+=/^;#._ \n\t" + "".join(LOOKALIKES[:12])
    out = []
    for _ in range(rng.randrange(size + 1)):
        out.append(chr(rng.randrange(0x20, 0x3000)) if rng.random() < 0.1 else rng.choice(alphabet))
    return "".join(out)


def token_soup(rng: random.Random, size: int = 30) -> str:
    """A random sequence of the grammar's own vocabulary, often starting with an input."""
    start = rng.choice(["I-", "I(28,28,1)-", "I(h)-", "I(t,c)-", "", "a(x) = "])
    return start + "".join(rng.choice(VOCABULARY) for _ in range(rng.randrange(size + 1)))


def _mutate_once(rng: random.Random, parts: list[str]) -> list[str]:
    if not parts:
        return [rng.choice(VOCABULARY)]
    i = rng.randrange(len(parts))
    op = rng.randrange(11)
    if op == 0:  # delete
        return parts[:i] + parts[i + 1:]
    if op == 1:  # duplicate
        return parts[:i + 1] + parts[i:]
    if op == 2:  # swap two tokens
        j = rng.randrange(len(parts))
        parts = list(parts)
        parts[i], parts[j] = parts[j], parts[i]
        return parts
    if op == 3:  # a number becomes huge, negative, zero, a tower...
        numbers = [k for k, p in enumerate(parts) if p[:1].isdigit()] or [i]
        k = rng.choice(numbers)
        return parts[:k] + [rng.choice(NUMBERS)] + parts[k + 1:]
    if op == 4:  # a lookalike or control character
        return parts[:i] + [rng.choice(LOOKALIKES)] + parts[i:]
    if op == 5:  # whitespace becomes tabs, CRLF, nothing
        return [rng.choice(["\t", "\r\n", "", "\n\n", " \t "]) if p.isspace() else p for p in parts]
    if op == 6:  # deep nesting around a token
        depth = rng.choice([2, 10, 50, 150, 199, 200, 201, 400])
        opener = rng.choice(["(", "["])
        closer = ")" if opener == "(" else "]"
        return parts[:i] + [opener * depth] + parts[i:i + 1] + [closer * depth] + parts[i + 1:]
    if op == 7:  # a vocabulary token inserted
        return parts[:i] + [rng.choice(VOCABULARY)] + parts[i:]
    if op == 8:  # repetition or replication with a hostile count
        count = rng.choice(["1", "0", "1000000", "10^9", "n", "(2^2^2^2^2)", "-1", "(h-h)", "999999999999"])
        if rng.random() < 0.5:
            return parts[:i + 1] + ["*", count] + parts[i + 1:]
        return parts[:i] + [count, "["] + parts[i:i + 1] + ["]"] + parts[i + 1:]
    if op == 9:  # truncated
        return parts[:i]
    # a name's case flipped or a definition that uses itself prepended
    if rng.random() < 0.5:
        return parts[:i] + [parts[i].swapcase()] + parts[i + 1:]
    return [rng.choice(["r = r-relu\n", "a = b\nb = a\n", "f(x) = f(x)\n", "g(x, x) = H(x)\n"])] + parts


def mutant(rng: random.Random, rounds: int = 3) -> str:
    """A valid architecture with a few random mutations."""
    parts = tokens(rng.choice(CORPUS))
    for _ in range(rng.randrange(1, rounds + 1)):
        parts = _mutate_once(rng, parts)
    return "".join(parts)


def long_input(rng: random.Random, max_bytes: int = 10_000) -> str:
    """A long architecture near `max_bytes`: a chain of valid pieces, sometimes mutated,
    sometimes one long expression; the campaign's inputs for the time bound."""
    kind = rng.randrange(6)
    target = rng.randrange(max_bytes // 4, max_bytes)
    if kind == 0:  # a long numeric chain
        piece = rng.choice(["C(8,3,p=1)", "relu", "BN", "H(64)", "P(1)", "Z(1)-C(4,3)", "[C(4,1)+id]"])
        head = "I(64,64,4)-"
    elif kind == 1:  # a long symbolic chain
        piece = rng.choice(["C(c,3,p=same)", "relu", "BN", "LN", "[id + id]", "C(k,1)", "Z(1)-C(k,3)"])
        head = "I(h,w,c)-"
    elif kind == 2:  # one long argument
        op = rng.choice(["+", "*", "-", "^"])
        count = target // 2
        return f"I(784)-H({op.join(['1'] * count)})"
    elif kind == 3:  # long names and numbers
        return f"I({'9' * min(target, 20_000)})-H({'x' * target})"
    elif kind == 4:  # nested composition
        depth = rng.randrange(1, 120)
        return "I(8,8,4)-" + "(" * depth + "[C(4,1)+id]*3" + ")*2" * depth
    else:  # a valid architecture repeated with mutations
        head, piece = "", rng.choice(CORPUS)
        text = piece
        while len(text) < target:
            text += "-" + "".join(tokens(rng.choice(VALID))[2:])
        return mutant_of(rng, text[:max_bytes])
    body = [piece] * max(1, (target - len(head)) // (len(piece) + 1))
    text = head + "-".join(body)
    return mutant_of(rng, text) if rng.random() < 0.3 else text


def mutant_of(rng: random.Random, text: str) -> str:
    parts = tokens(text)
    for _ in range(rng.randrange(1, 3)):
        parts = _mutate_once(rng, parts)
    return "".join(parts)


GENERATORS = {"random_text": random_text, "token_soup": token_soup, "mutant": mutant}


# ---------------------------------------------------------------- the property
def _equal(a: sympy.Basic, b: sympy.Basic) -> bool:
    return a == b or sympy.expand(a - b) == 0


def _block_counts_hold(row: symparams.LayerInfo) -> bool:
    """composition.py's rule: a block's counts are `count` times its children's, except
    a repeated block applied one by one (it changes the shape), whose children hold
    every application and add up to it, and a shared-weight repetition `X**n`, whose
    weights count once while its MACs run n times."""
    if not row.children:
        return True
    for field_name in ("weights", "biases", "non_trainable", "macs"):
        own = getattr(row, field_name)
        parts = sympy.Add(*[getattr(child, field_name) for child in row.children])
        once = row.kind == "Repeat" or (row.kind == "SharedRepeat" and field_name != "macs")
        if not (_equal(own, row.count * parts) or (once and _equal(own, parts))):
            return False
    return all(_block_counts_hold(child) for child in row.children)


@dataclass
class Timing:
    """Seconds the last `answer` spent in `symparams.parse` and in rendering a table and
    JSON: what `symparams ARCH` and `--json` do, without the property's own checks."""

    parse: float = 0.0
    render: float = 0.0


last = Timing()


def answer(text: str, convention: str = "torch", mode: str = "exact") -> symparams.Network | SymparamsError:
    """Run one input and assert the property; return the network or the error.

    Raises AssertionError when the property fails, and lets an escape propagate.
    """
    from symparams.render import table, to_json

    last.parse = last.render = 0.0
    start = time.perf_counter()
    try:
        net = symparams.parse(text, convention=convention, mode=mode)
    except SymparamsError as err:
        last.parse = time.perf_counter() - start
        rendered = str(err)  # the message itself must render
        assert rendered and err.message, "an error without a message"
        # Only a text with nothing in it (or nothing but comments) and one over the size
        # limit are refused as a whole; every other error points into the text.
        if len(text) <= MAX_TEXT and not err.message.startswith("the text is empty"):
            assert err.pos is not None, f"an error without a position: {rendered}"
            assert 0 <= err.pos <= len(text), f"a position outside the text: {err.pos}"
            assert err.text == text, "the error quotes another text"
        return err
    last.parse = time.perf_counter() - start
    start = time.perf_counter()
    table(net)
    to_json(net)
    last.render = time.perf_counter() - start
    rows = net.layers
    assert _equal(net.params, sympy.Add(*[r.params for r in rows])), "params != sum of rows"
    assert _equal(net.macs, sympy.Add(*[r.macs for r in rows])), "macs != sum of rows"
    assert _equal(net.trainable, sympy.Add(*[r.trainable for r in rows])), "trainable != sum of rows"
    assert _equal(net.non_trainable, sympy.Add(*[r.non_trainable for r in rows])), "non_trainable != sum"
    assert _equal(net.params, net.trainable + net.non_trainable), "params != trainable + non_trainable"
    assert all(_block_counts_hold(r) for r in rows), "a block's counts are not count x its children's"
    return net


# ---------------------------------------------------------------- the campaign
@dataclass
class Campaign:
    tried: int = 0
    parsed: int = 0
    refused: int = 0
    escapes: list[tuple[str, str]] = field(default_factory=list)
    slowest: tuple[float, str] = (0.0, "")
    slow: list[tuple[float, str]] = field(default_factory=list)
    largest: int = 0

    def run(self, text: str, convention: str, budget: float) -> None:
        self.tried += 1
        try:
            result = answer(text, convention)
        except BaseException as exc:  # anything else is what we look for
            if isinstance(exc, KeyboardInterrupt):
                raise
            self.escapes.append((text, "".join(traceback.format_exception_only(type(exc), exc)).strip()))
            return
        elapsed = last.parse + last.render  # the answer's time, not the property's checks
        if isinstance(result, SymparamsError):
            self.refused += 1
        else:
            self.parsed += 1
        if len(text.encode("utf-8", "surrogatepass")) <= 10_000:
            self.largest = max(self.largest, len(text))
            if elapsed > self.slowest[0]:
                self.slowest = (elapsed, text)
            if elapsed > budget:
                self.slow.append((elapsed, text))


def _short(text: str, width: int = 100) -> str:
    shown = repr(text)
    return shown if len(shown) <= width else f"{shown[:width - 20]}...{shown[-15:]} ({len(text):,} chars)"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=300, help="how long to run (default 300)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--budget", type=float, default=1.0, help="seconds allowed per input of <= 10 KB")
    parser.add_argument("--max-kb", type=int, default=10, help="size of the long inputs, in KB")
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    campaign = Campaign()
    stop = time.monotonic() + args.seconds
    kinds = [*GENERATORS.values(), long_input]
    weights = [3, 3, 8, 1]
    while time.monotonic() < stop:
        make = rng.choices(kinds, weights)[0]
        text = make(rng, args.max_kb * 1000) if make is long_input else make(rng)
        campaign.run(text, rng.choice(["torch", "keras"]), args.budget)
    print(f"inputs tried: {campaign.tried:,} (parsed {campaign.parsed:,}, refused with a SymparamsError "
          f"{campaign.refused:,}); longest input {campaign.largest:,} characters")
    print(f"unexpected exceptions: {len(campaign.escapes)}")
    for text, what in campaign.escapes[:20]:
        print(f"  {_short(text)}\n    {what.splitlines()[-1]}")
    elapsed, text = campaign.slowest
    print(f"slowest input of <= 10 KB (parse + table + JSON): {elapsed:.3f} s: {_short(text)}")
    print(f"inputs of <= 10 KB over {args.budget} s: {len(campaign.slow)} (timed on {os.cpu_count()} cores; "
          f"load average over the last 5 minutes {os.getloadavg()[1]:.1f}: other work slows every input alike)")
    for elapsed, text in sorted(campaign.slow, reverse=True)[:10]:
        print(f"  {elapsed:.2f} s {_short(text)}")
    return 1 if campaign.escapes or campaign.slow else 0


if __name__ == "__main__":
    sys.exit(main())
