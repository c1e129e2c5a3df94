"""Composition (issue 3, LANGUAGE.md section 4): the engine's own facts, no framework.

The counts here are worked by hand from the layer formulas; the framework tests
(test_composition_torch.py, test_examples.py) check the same forms against PyTorch
and Keras.
"""

import time

import pytest
import sympy

import symparams
from symparams import SymparamsError
from symparams.base.errors import LimitError
from symparams.base.expr import symbol
from symparams.cli import main
from symparams.render import table, to_dict, visible_rows

L, d, n, v, h, w, c, k = (symbol(s) for s in ["L", "d", "n", "v", "h", "w", "c", "k"])


# ---------------------------------------------------------------- X*n
def test_symbolic_repetition_is_closed_form():
    net = symparams.parse("I(t,d)-(LN-H(4*d)-gelu-H(d))*L")
    # LN 2d, H(4d) 4d²+4d, H(d) 4d²+d per block.
    assert sympy.expand(net.params - L * (8 * d**2 + 7 * d)) == 0
    assert net.output_shape == (symbol("t"), d)
    assert net.subs(L=3, d=16, t=5).params == 3 * (8 * 256 + 7 * 16)


def test_numeric_repetition_of_a_shape_keeping_block_does_not_unroll():
    start = time.perf_counter()
    small = symparams.parse("I(32,32,16)-(C(16,3,p=1)-BN-relu)*2")
    small_time = time.perf_counter() - start
    start = time.perf_counter()
    huge = symparams.parse("I(32,32,16)-(C(16,3,p=1)-BN-relu)*1_000_000")
    huge_time = time.perf_counter() - start
    block = 16 * 16 * 9 + 16 + 2 * 16
    assert small.params == 2 * block
    assert huge.params == 1_000_000 * block
    assert huge_time < 10 * small_time + 0.5
    row = huge.layers[1]
    assert row.count == 1_000_000 and len(row.children) == 3


def test_shape_changing_repetition_is_applied_n_times():
    net = symparams.parse("I(64,64,3)-(C(8,3,p=1)-P(2))*3")
    # 3 -> 8 channels once, then 8 -> 8; every pool halves.
    assert net.params == (8 * 3 * 9 + 8) + 2 * (8 * 8 * 9 + 8)
    assert net.output_shape == (8, 8, 8)
    block = net.layers[1]
    assert [r.index for r in block.children] == ["1.1", "1.2", "1.3"]
    assert block.count == 3 and block.params == sum(r.params for r in block.children)


def test_shape_changing_repetition_multiplies_once_the_shape_stays():
    start = time.perf_counter()
    net = symparams.parse("I(784)-H(100)*1_000_000")
    assert time.perf_counter() - start < 5
    assert net.params == (784 * 100 + 100) + 999_999 * (100 * 100 + 100)
    first, rest = net.layers[1].children
    assert (first.count, rest.count, net.layers[1].count) == (1, 999_999, 1_000_000)


def test_repetition_equals_writing_it_out():
    for body in ("C(k,3,p=1)", "(C(8,3)-P(2,s=1))", "[C(4,1)|C(4,3,p=1)]", "[C(c,3,p=1)+id]", "2[C(3,1)]"):
        written = symparams.parse("I-" + "-".join([body] * 3))
        repeated = symparams.parse(f"I-{body}*3")
        assert sympy.expand(written.params - repeated.params) == 0, body
        assert written.output_shape == repeated.output_shape, body


def test_symbolic_count_of_a_shape_changing_block_is_an_error_saying_why():
    with pytest.raises(SymparamsError) as err:
        symparams.parse("I(28,28,3)-C(8,3)*n")
    text = str(err.value)
    assert "keeps its shape" in text and "[3, 28, 28]" in text and "[8, 26, 26]" in text
    assert err.value.pos == len("I(28,28,3)-")  # the caret is under C(8,3)*n
    # A block that changes the shape once and then keeps it is its first application, then
    # n - 1 of the second, as written out.
    net = symparams.parse("I(28,28,3)-C(8,1)*n")
    assert net.params == (3 * 8 + 8) + (symbol("n") - 1) * (8 * 8 + 8)


def test_repetition_counts_must_be_whole_and_positive():
    for bad in ("I(4)-H(4)*0", "I(4)-H(4)*same", "I(4)-H(4)*(3/2)"):
        with pytest.raises(SymparamsError):
            symparams.parse(bad)
    net = symparams.parse("I(4)-H(4)*(n-2)")
    assert [str(x) for x in net.conditions] == ["n >= 3"]


def test_unrolling_is_bounded():
    with pytest.raises(LimitError):
        symparams.parse("I(8,8,3)-Z(1)*100000")


def test_conditions_of_a_repeated_block_are_kept():
    net = symparams.parse("I-(C(c,3,p=1)-C(c,3,p=1,g=4))*L")
    assert any("Mod(c, 4)" in str(x) for x in net.conditions)


# ---------------------------------------------------------------- branches
def test_concat_adds_the_last_axis_and_sum_keeps_it():
    net = symparams.parse("I(28,28,3)-[C(8,1)|C(4,3,p=1)|P(3,s=1,p=1)]")
    assert net.output_shape == (15, 28, 28)
    assert net.params == (8 * 3 + 8) + (4 * 3 * 9 + 4)
    res = symparams.parse("I(28,28,3)-[C(3,3,p=1)-relu + id]")
    assert res.output_shape == (3, 28, 28) and res.params == 3 * 3 * 9 + 3


def test_mismatched_branches_name_both_and_their_shapes():
    with pytest.raises(SymparamsError) as err:
        symparams.parse("I(28,28,3)-[C(8,3)|C(8,1)]")
    text = str(err.value)
    assert "C(8,3)" in text and "C(8,1)" in text and "[8, 26, 26]" in text and "[8, 28, 28]" in text
    with pytest.raises(SymparamsError) as err:
        symparams.parse("I(28,28,3)-[C(8,1) + id]", convention="keras")
    assert "(28, 28, 8)" in str(err.value) and "(28, 28, 3)" in str(err.value)
    with pytest.raises(SymparamsError):
        symparams.parse("I(28,28,3)-[GAP | C(8,1)]")


def test_symbolic_branch_shapes_that_may_differ_become_conditions():
    net = symparams.parse("I(h,w,3)-[C(8,3)|P(2)]")
    assert sympy.Eq(h - 2, sympy.floor(h / 2)) in net.conditions
    assert net.subs(h=4, w=3).output_shape == (11, 2, 1)
    with pytest.raises(SymparamsError):
        net.subs(h=28, w=28)
    assert symparams.parse("I-[C(k,1) + id]").conditions == (sympy.Eq(k, c),)


def test_single_branch_is_a_group():
    assert symparams.parse("I(8)-[H(4)-relu]-O(2)").params == symparams.parse("I(8)-(H(4)-relu)-O(2)").params


# ---------------------------------------------------------------- n[A]
def test_three_column_model_of_the_seeds():
    net = symparams.parse("I(50,50,1)-3[C(32,3)-P(2)-C(32,3)-P(2)-H(256)]-O(11)")
    assert net.params == 3_011_627
    columns = symparams.parse("I(50,50,1)-v[C(32,3)-P(2)-C(32,3)-P(2)-H(256)]-O(11)")
    assert columns.params.subs(v, 3) == 3_011_627
    assert sympy.expand(columns.params - (1_001_056 * v + 256 * v * 11 + 11)) == 0


def test_replicas_multiply_the_last_axis():
    assert symparams.parse("I(8,8,3)-n[C(4,3)]").output_shape == (4 * n, 6, 6)
    assert symparams.parse("I(8,8,3)-2[C(4,1)|C(2,1)]").output_shape == (12, 8, 8)


# ---------------------------------------------------------------- definitions
RESNET_BLOCK = """
down(k, s) = C(k,1,s=s,bias=false)-BN
basic(k, s) = [C(k,3,s=s,p=1,bias=false)-BN-relu-C(k,3,p=1,bias=false)-BN + down(k,s)]-relu
"""


def test_definitions_with_positional_and_keyword_arguments():
    net = symparams.parse(RESNET_BLOCK + "I(56,56,64)-basic(128, 2)-basic(s=1, k=128)")
    first = 128 * 64 * 9 + 256 + 128 * 128 * 9 + 256 + 128 * 64 + 256
    second = 2 * (128 * 128 * 9 + 256) + 128 * 128 + 256
    assert net.params == first + second
    assert net.output_shape == (128, 28, 28)
    assert [r.kind for r in net.layers[1:]] == ["basic", "basic"]


def test_one_line_definitions_and_later_use_of_earlier_ones():
    text = "blk(k) = C(k,3,p=1)-relu; two(k) = blk(k)-blk(2*k); I(8,8,3)-two(4)"
    assert symparams.parse(text).params == (4 * 3 * 9 + 4) + (8 * 4 * 9 + 8)


def test_a_parameter_hides_a_symbol_and_other_names_are_network_symbols():
    net = symparams.parse("blk(k) = C(k,3,p=1)-H(n); I(8,8,c)-blk(4)")
    assert net.free_symbols == {c, n}
    assert sympy.expand(net.params - ((4 * c * 9 + 4) + 8 * 8 * 4 * n + n)) == 0
    outer = symparams.parse("blk(k) = C(k,1); I(8,8,3)-C(k,1)-blk(5)")
    assert outer.output_shape == (5, 8, 8) and k in outer.free_symbols


def test_arguments_may_be_keywords_tuples_and_counts():
    text = "conv(m, f, pad, r) = C(m,f,p=pad)*r; I(16,16,3)-conv(8, (1,3), same, 2)"
    net = symparams.parse(text)
    assert net.params == (8 * 3 * 3 + 8) + (8 * 8 * 3 + 8)
    assert net.output_shape == (8, 16, 16)


def test_recursion_is_an_error():
    for text in ("a = C(3,3)-a; I(8,8,3)-a", "a = b; b = relu-a; I(8,8,3)-a", "a = b; b = a; I(3)-relu"):
        with pytest.raises(symparams.DefinitionError, match="recursive"):
            symparams.parse(text)


def test_errors_inside_a_definition_point_at_the_use_and_show_the_definition():
    text = "blk(k) = C(k,3)-relu\nI(4,4,3)-blk(8)-blk(16)"
    with pytest.raises(SymparamsError) as err:
        symparams.parse(text)
    assert err.value.pos == text.index("blk(16)")
    rendered = str(err.value)
    assert "in definition 'blk'" in rendered and "blk(k) = C(k,3)-relu" in rendered


def test_bad_uses_of_definitions():
    for text in ("blk(k) = C(k,3); I(8,8,3)-blk(1,2)", "blk(k) = C(k,3); I(8,8,3)-blk(j=2)",
                 "blk(k) = C(k,3); I(8,8,3)-blk", "blk = relu; I(8)-blk(2)", "C = relu; I(8)-C",
                 "blk = relu; blk = id; I(8)-blk"):
        with pytest.raises(SymparamsError):
            symparams.parse(text)


def test_definitions_in_an_arch_file(tmp_path, capsys):
    path = tmp_path / "resnet_stage.arch"
    path.write_text(RESNET_BLOCK + "\n# one stage\nI(56,56,64)\n  -basic(64, 1)*2\n")
    assert main([str(path), "--json"]) == 0
    data = __import__("json").loads(capsys.readouterr().out)
    assert data["params"] == 2 * (2 * (64 * 64 * 9 + 128) + 64 * 64 + 128)


# ---------------------------------------------------------------- rows, table, depth
def test_every_block_row_is_count_times_its_children():
    net = symparams.parse(RESNET_BLOCK + "I(32,32,3)-C(64,3,p=1)-basic(64,1)*L-[C(8,1)|id]-3[GAP-H(10)]")
    blocks = [r for r in net.walk() if r.children]  # every block here keeps its shape, or runs once
    assert len(blocks) >= 6
    for row in blocks:
        assert sympy.expand(row.params - row.count * sum(ch.params for ch in row.children)) == 0, row.text
    assert sympy.expand(net.params - sum(r.params for r in net.layers)) == 0


def test_depth_folds_like_torchinfo():
    net = symparams.parse("I(8,8,3)-[C(4,1)-relu | id]-(H(8)-relu)*2")
    assert [r.text for r in visible_rows(net, 1)] == ["I(8,8,3)", "[C(4,1)-relu | id]", "(H(8)-relu)*2"]
    # The repetition unrolls: its first H flattens (8, 8, 7), the second keeps (8).
    assert len(visible_rows(net, 2)) == 3 + 2 + 2
    assert len(visible_rows(net, 3)) == len(visible_rows(net)) == 3 + 2 + 2 + 2 + 2 * 2
    assert visible_rows(net, 0) == []
    folded = table(net, depth=1)
    assert "Concat" in folded and "Conv2D" not in folded and "Repeat" in folded
    assert "Total params: 3,680" in folded  # 16 + (448·8 + 8) + (8·8 + 8)
    assert "Repeat ×2" in table(symparams.parse("I(8)-(H(8)-relu)*2"), depth=1)


def test_json_has_structure():
    data = to_dict(symparams.parse("I(8)-(H(8)-relu)*L"))
    block = data["layers"][1]
    assert block["count"] == "L" and [ch["layer"] for ch in block["children"]] == ["H(8)", "relu"]
    assert block["params"] == "72*L"


def test_rows_inside_a_definition_show_the_values_of_its_parameters():
    net = symparams.parse(RESNET_BLOCK + "I(56,56,64)-basic(128, 2)")
    texts = [row.text for row in net.walk()]
    assert texts[1:5] == ["basic(128, 2)",
                          "[C(128,3,s=2,p=1,bias=false)-BN-relu-C(128,3,p=1,bias=false)-BN + down(128,2)]",
                          "C(128,3,s=2,p=1,bias=false)-BN-relu-C(128,3,p=1,bias=false)-BN",
                          "C(128,3,s=2,p=1,bias=false)"]
    assert "C(128,1,s=2,bias=false)" in texts
    macro = symparams.parse("enc(h, d) = TB(h, 4*d)*L; I(10,32)-enc(4, 32)")
    assert [row.text for row in macro.walk()][1:4] == ["enc(4, 32)", "TB(4,128)*L", "TB(4,128)"]


def test_an_error_in_a_later_application_says_which():
    with pytest.raises(SymparamsError) as err:
        symparams.parse("I(20,20,3)-(C(8,3)-P(2))*3")
    assert "in application 3 of 3" in str(err.value) and "[8, 3, 3]" in str(err.value)  # 20→9→3
