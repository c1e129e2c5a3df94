"""The numeric build (symparams/arith.py) against the symbolic one.

The command line builds a network without symbols in Python ints, without importing
sympy, and starts over with sympy for anything else. Whatever the text, both builds must
print the same table, JSON and Markdown, or refuse it with the same error; and a numeric
network must really be answered without sympy, which a fresh process shows.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from bench_fuzz import fuzz
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

import symparams
from symparams.base.errors import SymparamsError
from symparams.render import markdown, table, to_json

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted(ROOT.joinpath("examples").glob("*.arch"))
SETTINGS = settings(max_examples=int(os.environ.get("SYMPARAMS_EXAMPLES", "300")), deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])




def outcome(text: str, numeric: bool, convention: str = "torch", mode: str = "exact",
            values: dict[str, int] | None = None):
    """Everything a user sees of one build: the reports, or the error's type and message."""
    try:
        net = symparams.parse(text, convention=convention, mode=mode, values=values, numeric=numeric)
    except SymparamsError as err:
        return ("error", type(err).__name__, str(err)), None
    return ("network", table(net), table(net, depth=1), to_json(net), markdown(net)), net


def same_outcome(text: str, convention: str = "torch", mode: str = "exact", values: dict[str, int] | None = None):
    """Build both ways, assert that users see the same, return the numeric build's network."""
    fast, net = outcome(text, True, convention, mode, values)
    slow, _ = outcome(text, False, convention, mode, values)
    assert fast == slow
    return net


# Values for the symbols of the corpus, so that its symbolic texts are built numerically too.
VALUES = {"h": 64, "w": 48, "c": 3, "n": 4, "k": 8, "L": 2, "t": 16, "d": 96, "d_model": 96, "V": 1000,
          "m": 32}


def _numeric(text: str) -> bool:
    return not symparams.parse(text).free_symbols


@pytest.mark.parametrize("mode", ["exact", "ideal"])
@pytest.mark.parametrize("convention", ["torch", "keras"])
@pytest.mark.parametrize("text", fuzz.CORPUS, ids=range(len(fuzz.CORPUS)))
def test_corpus_reads_the_same_both_ways(text, convention, mode):
    net = same_outcome(text, convention, mode)
    assert net is not None
    # The comparison is not between two symbolic builds: a text without symbols really
    # took the numeric path (Python ints), one with symbols the symbolic path.
    assert isinstance(net.params, int) == _numeric(text)
    given = same_outcome(text, convention, mode, values=VALUES)
    if given is not None:
        assert isinstance(given.params, int) == all(s.name in VALUES for s in net.free_symbols)


def test_the_numeric_build_gives_python_ints_equal_to_sympy():
    text = ROOT.joinpath("examples", "resnet50.arch").read_text("utf-8")
    fast = symparams.parse(text, numeric=True)
    slow = symparams.parse(text)
    assert type(fast.params) is int and fast.params == slow.params == 25_557_032
    assert all(type(x) is int for row in fast.walk() for x in (*row.shape, row.weights, row.biases, row.macs))
    assert [(r.index, r.kind, r.shape, r.params, r.macs) for r in fast.walk()] == \
        [(r.index, r.kind, r.shape, r.params, r.macs) for r in slow.walk()]


# ---------------------------------------------------------------- random numeric texts
# Every layer with numeric arguments, composition and arithmetic; small numbers, so that
# about half of the chains break a rule and the two builds' errors are compared too.
TEMPLATES = [
    "C({n},{f})", "C({n},{f},s={s},p={p})", "C({n},{f},p=same)", "C({n},{f},g={g})", "C({n},({f},{s}))",
    "P({f})", "P({f},s={s},p={p},ceil={b})", "A({f},ceil={b})", "T({n},{f},s={s})",
    "T({n},{f},s={s},p={p},op={o})", "DW({f},m={g})", "SC({n},{f},p=same)", "Z({p})", "BN", "BN(affine={b})",
    "LN", "LN(bias={b})", "RMS", "relu", "gelu", "D(0.{f})", "D({o}/{n})", "AAP({o})", "AMP({s})", "GAP", "GMP",
    "F", "H({n})", "H({n},bias={b})", "SEQ", "CLS", "FIRST", "MHA({g})", "MHA({g},kv={o})", "MHA({g},k={n})",
    "TB({g},{n})", "TB({g},{n},norm=rms,mlp=swiglu,bias={b})", "TB({g},{n},mlp=relu,kv={o})",
    "L({n},seq=true)", "G({n},reset_after={b},seq={b})", "R({n},bi={b},seq=true)", "E({n},{f})", "PE({f})",
    "O({n})", "O({n},tied={b})", "SwiGLU({n})", "[C({n},1)|C({n},3,p=same)]", "[C({n},3,p=same) + id]",
    "(C({n},1)-relu)*{r}", "(H({n})-relu)*{r}", "P(2)*{r}", "{r}[C({n},1)]", "{r}[H({n})]", "H({n}/2)",
    "H(2^{f})", "H({n}*3-1)", "blk({n})", "blk(k={n}*2)",
]
INPUTS = ["I({a})", "I({a},{a})", "I({a},{a},{c})", "I({a},{c},{a},{c})"]


@st.composite
def numeric_texts(draw) -> str:
    def fill(template: str) -> str:
        numbers = {key: draw(st.integers(lo, hi)) for key, (lo, hi) in
                   {"n": (1, 12), "f": (1, 5), "s": (1, 3), "p": (0, 2), "g": (1, 4), "o": (0, 2), "r": (1, 3),
                    "a": (1, 40), "c": (1, 8)}.items()}
        numbers["b"] = draw(st.sampled_from(["true", "false"]))
        return template.format(**numbers)

    layers = [fill(draw(st.sampled_from(TEMPLATES))) for _ in range(draw(st.integers(0, 6)))]
    definition = "blk(k) = C(k,3,p=1)-relu\n" if any(layer.startswith("blk") for layer in layers) else ""
    return definition + "-".join([fill(draw(st.sampled_from(INPUTS)))] + layers)


@SETTINGS
@given(numeric_texts(), st.sampled_from(["torch", "keras"]), st.sampled_from(["exact", "ideal"]))
def test_random_numeric_texts_read_the_same_both_ways(text, convention, mode):
    note(text)
    net = same_outcome(text, convention, mode)
    if net is not None:
        assert type(net.params) is int


@SETTINGS
@given(st.randoms(use_true_random=False), st.sampled_from(["torch", "keras"]))
def test_mutated_architectures_read_the_same_both_ways(rng, convention):
    """Near-misses of valid texts (fuzz.py's mutations), their symbols given values."""
    text = fuzz.mutant(rng)
    note(repr(text))
    same_outcome(text, convention, values=VALUES)


@SETTINGS
@given(st.lists(st.sampled_from(fuzz.VOCABULARY), max_size=30))
def test_token_soup_reads_the_same_both_ways(parts):
    same_outcome("I(28,28,1)-" + "".join(parts), values=VALUES)


# ---------------------------------------------------------------- no sympy, in a fresh process
def _run_cli(args: list[str]) -> dict:
    """Run the CLI in a fresh interpreter and report its output and whether sympy loaded
    (importlib's LazyLoader puts a placeholder in sys.modules; sympy.core is the real thing)."""
    probe = ("import json, sys\nfrom symparams.cli import main\nimport io, contextlib\nout = io.StringIO()\n"
             "with contextlib.redirect_stdout(out):\n    code = main(sys.argv[1:])\n"
             "print(json.dumps({'code': code, 'out': out.getvalue(), 'sympy': 'sympy.core' in sys.modules}))")
    done = subprocess.run([sys.executable, "-c", probe, *args], capture_output=True, text=True, check=True,
                          cwd=ROOT / "tests")
    return json.loads(done.stdout)


NUMERIC_EXAMPLES = [p for p in EXAMPLES if _numeric(p.read_text("utf-8"))]


@pytest.mark.parametrize("flags", [[], ["--json"], ["--markdown"], ["--ideal"], ["--convention", "keras"]])
@pytest.mark.parametrize("path", NUMERIC_EXAMPLES[::3], ids=lambda p: p.stem)
def test_a_numeric_network_is_answered_without_importing_sympy(path, flags):
    result = _run_cli([str(path), *flags])
    assert result["code"] == 0 and result["out"]
    assert not result["sympy"]


def test_a_symbolic_network_loads_sympy_and_prints_the_same():
    # The probe can see sympy: a text with a symbol loads it.
    result = _run_cli(["I-C(32,5)-P(2)-O(10)"])
    assert result["code"] == 0 and result["sympy"]
    assert "800*c + 32" in result["out"]


def test_the_numeric_and_symbolic_command_lines_print_the_same():
    text = "I(28,28,1)-C(32,5)-P(2)-C(32,3)-P(2)-H(256)-O(10)"
    fast = _run_cli([text, "--json"])
    assert not fast["sympy"]
    assert json.loads(fast["out"]) == json.loads(to_json(symparams.parse(text)))
    # --subs gives the symbols values: the network is numeric then, and sympy is needed
    # only to read the symbolic text first.
    given = _run_cli(["I-C(32,5)-P(2)-C(32,3)-P(2)-H(256)-O(10)", "--subs", "h=28,w=28,c=1", "--json"])
    assert json.loads(given["out"])["params"] == 217706


def test_errors_of_a_numeric_text_are_the_symbolic_builds_words(capsys):
    from symparams.cli import main

    text = "I(28,28,1)-C(32,5)-P(2)-C(32,3)-P(2)-C(8,9)-O(10)"
    assert main([text]) == 2
    printed = capsys.readouterr().err
    with pytest.raises(symparams.ShapeError) as info:
        symparams.parse(text)
    assert printed.strip() == str(info.value).strip()
    assert "C(8,9)" in printed and "^" in printed
