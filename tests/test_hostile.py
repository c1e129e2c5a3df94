"""Hostile input (issue 8): limits that answer clearly instead of hanging, exact huge
numbers, and proof that user text never runs as code."""

from __future__ import annotations

import ast
import json
import os
from pathlib import Path

import pytest

import symparams
from symparams import render
from symparams.base import limits
from symparams.base.errors import LimitError, SymparamsError
from symparams.cli import main
from symparams.language.parsing import MAX_NESTING, MAX_OPERATORS, MAX_TEXT

PACKAGE = Path(symparams.__file__).resolve().parent


def refused(text: str, cls: type[SymparamsError] = LimitError, **kw) -> SymparamsError:
    with pytest.raises(cls) as info:
        symparams.parse(text, **kw)
    return info.value


# ---------------------------------------------------------------- size and depth
def test_text_over_the_size_limit_is_refused_before_parsing():
    err = refused("I(784)-" + "-".join(["relu"] * (MAX_TEXT // 5)) + "-O(10)")
    assert f"{MAX_TEXT:,}" in err.message


def test_a_chain_longer_than_the_layer_limit_is_refused_before_parsing():
    text = "I(8)-" + "-".join(["H(8)"] * 150_000)  # 750 KB of layers
    err = refused(text)
    assert text[err.pos] == "-" and text[:err.pos].count("-") == limits.MAX_LAYERS - 1
    assert f"{limits.MAX_LAYERS:,}" in err.message


def test_dashes_in_comments_do_not_count_as_layers():
    net = symparams.parse("# " + "-" * (2 * limits.MAX_LAYERS) + "\nI(8)-H(8)")
    assert net.params == 72


def test_brackets_nested_past_the_limit_point_at_the_first_bracket_too_deep():
    text = "I(784)-" + "(" * (MAX_NESTING + 1) + "id" + ")" * (MAX_NESTING + 1)
    assert refused(text).pos == len("I(784)-") + MAX_NESTING


def test_brackets_at_the_limit_still_build():
    depth = MAX_NESTING - 2  # the I(...) and H(...) take one level each
    net = symparams.parse("I(8)-H(" + "(" * depth + "8" + ")" * depth + ")")
    assert net.params == 72


@pytest.mark.parametrize("op", ["+", "*", "^", "-"])
def test_operator_chains_past_the_limit_are_refused_with_a_position(op):
    text = "I(784)-H(" + op.join(["1"] * (MAX_OPERATORS + 2)) + ")"
    err = refused(text)
    assert err.pos is not None and text[err.pos] in "1("
    assert f"{MAX_OPERATORS}" in err.message


def test_unary_minus_towers_are_refused():
    assert refused("I(784)-H(" + "-" * (MAX_OPERATORS + 1) + "1)").pos is not None


# ---------------------------------------------------------------- numbers
def test_huge_integers_stay_exact():
    net = symparams.parse("I(784)-H(123456789012345678901234567890)-O(10)")
    n = 123456789012345678901234567890
    assert net.params == 784 * n + n + n * 10 + 10
    assert json.loads(render.to_json(net))["params"] == 784 * n + n + n * 10 + 10


def test_a_power_of_ten_at_the_digit_limit_is_exact():
    assert symparams.parse("I(1)-H(10^500)").params == 2 * 10**500


@pytest.mark.parametrize("text", ["I(784)-H(2^2^2^2^2)", "I(784)-H(2^2^2^2^2^2)", "I(784)-H(9^9^9)",
                                  "I(784)-H(2^999999999999)", "I(784)-H(10^4000)", "I(784)-H((2^2000)/(2^1990))"])
def test_exponent_towers_are_refused_at_the_power(text):
    err = refused(text)
    assert err.pos is not None and text[err.pos] in "2910("
    assert "digits" in err.message


def test_small_towers_are_computed():
    assert symparams.parse("I(1)-H(2^2^2^2)").params == 2 * 65536


def test_a_literal_over_the_digit_limit_is_refused_before_int_reads_it():
    text = "I(784)-H(" + "9" * 5000 + ")"
    err = refused(text)
    assert err.pos == text.index("9") and f"{limits.MAX_DIGITS:,}" in err.message


def test_a_long_decimal_is_refused():
    assert refused("I(784)-D(0." + "3" * 5000 + ")").pos == len("I(784)-D(")


def test_counts_that_outgrow_the_limit_point_at_their_layer():
    # every argument is within the limit, the product of two is not
    text = "I(10^400)-H(10^400)"
    err = refused(text)
    assert text[err.pos:err.end] == "H(10^400)"


def test_a_block_whose_macs_outgrow_the_limit_is_refused_when_they_are_read():
    # Each layer's MACs (10^590) are within the limit, the block's 10^12 runs are not;
    # a block's MACs are summed when first read, so the parameters still answer.
    text = "I(10^295,10^295,1)-[C(1,1)]*1000000000000"
    net = symparams.parse(text)
    assert net.params == 2 * 10**12
    with pytest.raises(LimitError) as caught:
        net.macs
    assert text[caught.value.pos : caught.value.end] == "[C(1,1)]*1000000000000"
    assert main([text, "--macs"]) == 2


@pytest.mark.parametrize(("text", "params"), [("I(10^400,10^400,1)-C(1,1)", 2),
                                              ("I(h,10^400,10^300)-C(1,1)", 10**300 + 1)])
def test_a_layer_whose_macs_outgrow_the_limit_is_refused_when_they_are_read(text, params):
    # A convolution leaves its MACs for later (expr.Later): the parameters answer, and
    # reading the MACs is refused at the layer whose MACs pass the limit.
    net = symparams.parse(text)
    assert net.params == params
    with pytest.raises(LimitError) as caught:
        net.macs
    assert text[caught.value.pos : caught.value.end] == "C(1,1)"


def test_subs_with_a_huge_value_is_refused():
    with pytest.raises(LimitError):
        symparams.parse("I(h)-H(8)").subs(h=10**1000)


@pytest.mark.parametrize("text", ["I((h+1)^100000)-H(8)", "I((h+w+c+1)^1000,w,c)-C(3,3,s=2)",
                                  "I((h+1)^20,w,c)-C(3,3,s=2)", "I(h^h^h^h,w,c)-C(3,3,s=2)"])
def test_symbolic_blowups_are_refused_before_sympy_expands_them(text):
    assert refused(text).pos is not None


def test_modest_symbolic_powers_are_fine():
    net = symparams.parse("I(h^2,w,c)-C(8,3)")
    assert net.output_shape[1] == net.output_shape[1].free_symbols.pop() ** 2 - 2


# ---------------------------------------------------------------- repetition, replication, definitions
def test_shape_keeping_repetition_is_a_closed_form_however_large():
    assert symparams.parse("I(8)-(H(8)-relu)*(10^9)").params == 72 * 10**9


def test_shape_changing_repetition_past_the_limit_is_refused():
    text = "I(8,8,1)-Z(1)*(10^9)"
    err = refused(text)
    assert text[err.pos:err.end] == "Z(1)*(10^9)"


def test_replication_counts_are_exact_and_bounded():
    assert symparams.parse("I(8)-1000000000[H(8)]").params == 72 * 10**9
    assert refused("I(8)-" + "9" * 700 + "[H(8)]").pos == len("I(8)-")


@pytest.mark.parametrize("text, name", [
    ("r = r-relu\nI(8)-r", "r"),
    ("a = b\nb = a-relu\nI(8)-a", "a"),
    ("f(x) = H(x)-f(x)\nI(8)-f(4)", "f"),
])
def test_recursive_definitions_are_refused_at_the_use(text, name):
    with pytest.raises(SymparamsError) as info:
        symparams.parse(text)
    err = info.value
    assert err.pos is not None and text[err.pos:].startswith(name)
    assert "recursive" in err.message or "itself" in err.message


def test_definitions_that_double_at_each_line_are_refused_before_building():
    lines = ["d0 = C(8,1)"] + [f"d{i} = d{i - 1}-d{i - 1}" for i in range(1, 40)]
    text = "\n".join(lines) + "\nI(4,4,8)-d39"
    err = refused(text)
    assert text[err.pos:err.end] == "d39"
    assert f"{limits.MAX_LAYERS:,}" in err.message


def test_definitions_nested_too_deeply_are_refused():
    lines = ["d0 = H(8)"] + [f"d{i} = d{i - 1}" for i in range(1, 80)]
    err = refused("\n".join(lines) + "\nI(8)-d79")
    assert "deep" in err.message and err.pos is not None


# ---------------------------------------------------------------- user text never runs
INJECTIONS = [
    "__import__('os').system('touch {canary}')",
    "__import__(\"os\").system(\"touch {canary}\")",
    "open('{canary}','w')",
    "exec(\"open('{canary}','w')\")",
    "eval(\"open('{canary}','w')\")",
    "Symbol('x').__class__.__base__.__subclasses__()",
    "lambda: open('{canary}', 'w')",
    "$(touch {canary})",
    "`touch {canary}`",
    "; touch {canary}",
    "{{open('{canary}','w')}}",
]
PLACES = [
    "I(784)-H({payload})-O(10)",  # a layer argument
    "I({payload})",  # an input axis
    "I(28,28,1)-C(32,5,p={payload})",  # a keyword's value
    "I(28,28,1)-C(32,5,{payload}=1)",  # a keyword's name
    "f(x) = H({payload})\nI(8)-f(1)",  # a definition's body
    "f({payload}) = H(8)\nI(8)-f(1)",  # a definition's parameters
    "I(8)-f({payload})",  # a use's argument
    "I(8)-H(8)*({payload})",  # a repetition count
    "I(8)-{payload}",  # a layer name
    "{payload}",  # the whole text
]
SYMBOL_NAMES = ["__import__", "eval", "exec", "open", "__builtins__", "__class__", "os", "system", "lambda",
                "Symbol", "sympify", "E", "I", "S", "N", "pi", "oo", "zoo", "nan", "Integer", "Function"]


def _all_texts(canary: Path) -> list[str]:
    texts = [place.format(payload=payload.format(canary=canary)) for place in PLACES for payload in INJECTIONS]
    texts += [f"I({name},{name},3)-C({name},3)-H({name})-O(10)" for name in SYMBOL_NAMES]
    return texts


def test_injections_in_every_place_text_goes_leave_the_canary_uncreated(tmp_path, capsys):
    canary = tmp_path / "canary"
    for text in _all_texts(canary):
        for convention in ("torch", "keras"):
            try:
                net = symparams.parse(text, convention=convention)
            except SymparamsError:
                continue
            # a text that parses goes through every renderer and a substitution
            render.to_json(net)
            render.table(net)
            values = {s.name: 30 for s in net.free_symbols}
            try:
                net.subs(**values)
            except SymparamsError:
                pass
    for name in SYMBOL_NAMES:  # symbol names as such parse, as plain symbols
        net = symparams.parse(f"I({name})-H(8)")
        assert {s.name for s in net.free_symbols} == {name}
    assert not canary.exists()


def test_injections_through_the_cli_leave_the_canary_uncreated(tmp_path, capsys):
    canary = tmp_path / "canary"
    arch = tmp_path / "evil.arch"
    for text in _all_texts(canary)[:40]:
        arch.write_text(text, "utf-8")
        for argv in ([text], [str(arch)], [text, "--json"], [text, "--latex"], [text, "--markdown"]):
            assert main(argv) in (0, 2)
    for payload in INJECTIONS:
        subs = payload.format(canary=canary)
        assert main(["I(h,w,3)-C(8,3)", "--subs", f"{subs}=1"]) == 2
        assert main(["I(h,w,3)-C(8,3)", "--subs", f"h={subs}"]) == 2
    for name in SYMBOL_NAMES:
        main([f"I({name},8,3)-C(8,3)", "--subs", f"{name}=28", "--json"])
    capsys.readouterr()
    assert not canary.exists()


# What may turn text into code: these calls, and sympify/S without strict=True (which
# parses strings with eval). Checked on the package's syntax tree, so a comment or a
# string that mentions them does not count.
FORBIDDEN_CALLS = {"eval", "exec", "compile", "__import__", "parse_expr", "literal_eval", "execfile",
                   "input", "loads"}


def _calls(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            yield name, node


def test_the_package_never_evaluates_text():
    offences = []
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text("utf-8"), str(path))
        for name, node in _calls(tree):
            where = f"{path.relative_to(PACKAGE)}:{node.lineno}"
            owner = getattr(getattr(node.func, "value", None), "id", None)
            if name in FORBIDDEN_CALLS and owner not in ("re", "json"):  # re.compile, json.loads read no code
                offences.append(f"{where} calls {name}()")
            elif name in ("sympify", "S") and not any(
                    k.arg == "strict" and isinstance(k.value, ast.Constant) and k.value.value is True
                    for k in node.keywords):
                offences.append(f"{where} calls {name}() without strict=True, which would parse a string")
    assert offences == []


def test_the_grep_finds_what_it_looks_for():
    """The check above is not vacuous: it flags each way of evaluating text."""
    sample = "import sympy\nsympy.sympify(x)\nsympy.S(y)\neval(z)\nsympy.sympify(w, strict=True)\n"
    names = [name for name, _ in _calls(ast.parse(sample))]
    assert names.count("sympify") == 2 and "S" in names and "eval" in names


def test_no_module_imports_a_code_evaluating_parser():
    for path in sorted(PACKAGE.rglob("*.py")):
        source = path.read_text("utf-8")
        assert "sympy.parsing" not in source and "from sympy import parse_expr" not in source, path


@pytest.mark.parametrize("name", ["__import__", "eval", "E", "I", "pi", "oo"])
def test_symbol_names_are_plain_symbols_in_json(name):
    net = symparams.parse(f"I({name})-H(2)")
    doc = json.loads(render.to_json(net))
    assert doc["params"] == f"2*{name} + 2"
    assert os.path.basename(__file__)  # the test ran in-process: nothing was executed on the way
