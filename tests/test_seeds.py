"""The seeds' published numbers (issue 2), in both conventions."""

import pytest
import sympy

import symparams

SEEDS = [
    # text, convention, params, trainable, non_trainable, output shape in the convention's order
    ("I(28,28,1)-C(32,5)-P(2)-C(32,3)-P(2)-H(256)-O(10)", "torch", 217_706, 217_706, 0, (10,)),
    ("I(28,28,1)-C(24,3)-C(36,3)-F-H(128)-O(10)", "torch", 2_663_678, 2_663_678, 0, (10,)),
    ("I(28,28,3)-C(20,5)-P(2)-C(50,5)-P(2)-H(500)-O(10)", "torch", 432_080, 432_080, 0, (10,)),
    ("I(200,200,1)-C(16,2,s=2)", "torch", 80, 80, 0, (16, 100, 100)),
    ("I(200,200,1)-C(16,2,s=2)", "keras", 80, 80, 0, (100, 100, 16)),
    ("I(64,64,32)-BN", "keras", 128, 64, 64, (64, 64, 32)),
    ("I(64,64,32)-BN", "torch", 64, 64, 0, (32, 64, 64)),
    ("I(64,64,1)-C(32,3,p=same)-BN-F-H(100)-O(10)", "keras", 13_108_758, 13_108_694, 64, (10,)),
    ("I(64,64,1)-C(32,3,p=same)-BN-F-H(100)-O(10)", "torch", 13_108_694, 13_108_694, 0, (10,)),
    ("I(64,64,3)-Z(3)-C(32,7)-BN-relu-P(2)-F-O(1)", "keras", 37_633, 37_569, 64, (1,)),
    ("I(784)-O(10)", "torch", 7_850, 7_850, 0, (10,)),
    ("I(784)-O(10)", "keras", 7_850, 7_850, 0, (10,)),
]


@pytest.mark.parametrize("text, convention, params, trainable, frozen, shape", SEEDS)
def test_seed_numbers(text, convention, params, trainable, frozen, shape):
    net = symparams.parse(text, convention=convention)
    assert (net.params, net.trainable, net.non_trainable) == (params, trainable, frozen)
    assert net.output_shape == shape


def test_symbolic_lenet_substitutes_to_the_numeric_count():
    net = symparams.parse("I-C(32,5)-P(2)-C(32,3)-P(2)-H(256)-O(10)")
    h, w, c = sympy.symbols("h w c", integer=True, positive=True)
    assert net.free_symbols == {h, w, c}
    assert [str(x) for x in net.conditions] == ["h >= 12", "w >= 12"]
    assert net.subs(h=28, w=28, c=1).params == 217_706
    assert net.params.subs({h: 28, w: 28, c: 1}) == 217_706


def test_layer_rows_add_up_to_the_total():
    net = symparams.parse("I(64,64,1)-C(32,3,p=same)-BN-F-H(100)-O(10)", convention="keras")
    assert sum(row.params for row in net.layers) == net.params
    assert [row.text for row in net.layers] == ["I(64,64,1)", "C(32,3,p=same)", "BN", "F", "H(100)", "O(10)"]
