"""Issue 14's constructs one by one: the multiplying branch `[A * B]`, layer scale,
Keras's preprocessing layers, BatchNorm's scale/center, GroupNorm, InstanceNorm, PReLU,
drop path, the new activations, asymmetric padding and the per-position Dense, each
against the real framework module; then their errors and their symbolic use (ideal mode,
solve, sweep, MACs, LaTeX)."""

from __future__ import annotations

import os
import sys
import types

import pytest

import symparams

os.environ.setdefault("KERAS_BACKEND", "torch")
# torchvision's wheel registers fake kernels for another torch on import; these tests use none.
sys.modules.setdefault("torchvision._meta_registrations", types.ModuleType("torchvision._meta_registrations"))
fw = pytest.mark.frameworks


def _torch():
    import torch

    return torch


def torch_counts(module, shape):
    """params and output shape (channels first) of a module on a channels-first input."""
    torch = _torch()
    module.eval()
    with torch.no_grad():
        y = module(torch.zeros(1, *shape))
    return sum(p.numel() for p in module.parameters()), tuple(y.shape[1:])


def keras_counts(layers, shape):
    import keras
    import numpy as np

    x = keras.Input(shape)
    y = x
    for layer in layers:
        y = layer(y)
    model = keras.Model(x, y)
    frozen = int(sum(np.prod(w.shape) for w in model.non_trainable_weights))
    return model.count_params(), frozen, tuple(model.output_shape[1:])


def net(text, convention="torch"):
    return symparams.parse(text, convention=convention)


# ---------------------------------------------------------------- [A * B]
@fw
@pytest.mark.parametrize("c, s", [(16, 4), (96, 24), (40, 10)])
def test_gate_is_torchvision_squeeze_excitation(c, s):
    from torchvision.ops import SqueezeExcitation

    params, shape = torch_counts(SqueezeExcitation(c, s), (c, 9, 11))
    for gate in (f"(AAP(1)-C({s},1)-relu-C({c},1)-sigmoid)", f"(GAP-H({s})-relu-H({c})-sigmoid)"):
        n = net(f"I(9,11,{c})-[id * {gate}]")
        assert (n.params, n.output_shape) == (params, shape) == (2 * c * s + c + s, (c, 9, 11))


@fw
def test_gate_is_keras_multiply_of_a_vector_and_of_a_1x1_map():
    import keras

    c, s = 24, 6
    x = keras.Input((9, 11, c))
    for keep in (False, True):
        g = keras.layers.GlobalAveragePooling2D(keepdims=keep)(x)
        g = keras.layers.Dense(s, activation="relu")(g)
        g = keras.layers.Dense(c, activation="sigmoid")(g)
        y = keras.layers.Multiply()([x, g])
        model = keras.Model(x, y)
        gate = "(AAP(1)-C(6,1)-relu-C(24,1)-sigmoid)" if keep else "(GAP-H(6)-relu-H(24)-sigmoid)"
        n = net(f"I(9,11,24)-[id * {gate}]", "keras")
        assert (n.params, n.output_shape) == (model.count_params(), tuple(model.output_shape[1:]))


def test_product_of_two_computed_branches_and_of_three():
    # LRASPP's head: cbr(high) * scale(high), neither branch the identity.
    n = net("I(33,33,960)-[C(128,1,bias=false)-BN-relu * (AAP(1)-C(128,1,bias=false)-sigmoid)]")
    assert n.params == 960 * 128 + 256 + 960 * 128
    assert n.output_shape == (128, 33, 33)
    n = net("I(8,8,4)-[id * (GAP-H(4)) * (AAP(1)-C(4,1))]")
    assert n.params == 20 + 20 and n.output_shape == (4, 8, 8)
    row = n.layers[1]
    assert row.kind == "Multiply" and len(row.children) == 3


def test_product_keeps_old_repetitions():
    # `*` followed by a count is a repetition, as before; `[A * B]` needs a B that
    # cannot be a count.
    assert net("I(8)-[H(8)*n]").params == net("I(8)-(H(8))*n").params
    assert net("I(8)-[H(8) * (k+1)]").params == net("I(8)-H(8)*(k+1)").params
    assert net("I(8,8,4)-[id * sigmoid()]").layers[1].kind == "Multiply"


def test_product_that_cannot_broadcast_is_an_error_with_caret():
    with pytest.raises(symparams.ShapeError) as err:
        net("I(8,8,16)-[id * (GAP-H(4)-relu-H(15)-sigmoid)]")
    message = str(err.value)
    assert "[16, 8, 8]" in message and "[15]" in message
    assert "broadcasts" in message and "^" in message
    with pytest.raises(symparams.ShapeError):
        net("I(8,8,16)-[id * (P(2))]")  # (4, 4, 16) against (8, 8, 16)


def test_symbolic_product_is_a_condition():
    n = net("I-[id * (GAP-H(k)-relu-H(e)-sigmoid)]")
    assert n.params == n.params.subs({}) and str(n.conditions[0]) == "Eq(c, e)"
    assert n.subs(c=16, e=16, k=4).params == 2 * 16 * 4 + 16 + 4
    with pytest.raises(symparams.SymparamsError):
        n.subs(c=16, e=8, k=4)


def test_product_in_a_definition_the_se_block_width_as_a_parameter():
    text = "se(e, q) = [id * (GAP-H(q)-silu-H(e)-sigmoid)]\nI(h,w,c)-C(e,1)-se(e, q)"
    n = net(text)
    assert n.conditions == ()
    assert n.subs(h=7, w=7, c=3, e=32, q=8).params == (3 * 32 + 32) + (2 * 32 * 8 + 32 + 8)


# ---------------------------------------------------------------- LS, NORM, RESCALE, BN options
@fw
def test_layer_scale_is_convnext_gamma():
    from torchvision.models.convnext import CNBlock

    block = CNBlock(32, 1e-6, 0.0)
    params, shape = torch_counts(block, (32, 9, 9))
    n = net("I(9,9,32)-[DW(7,p=3)-LN-H(128,flat=false)-gelu-H(32,flat=false)-LS-DP(0.1) + id]")
    assert (n.params, n.output_shape) == (params, shape) == (8 * 32**2 + 58 * 32, (32, 9, 9))
    assert net("I(5,16)-LS").params == 16


@fw
def test_keras_normalization_and_rescaling():
    import keras

    for axis, text in [(-1, "NORM"), (None, "NORM(axis=none)")]:
        total, frozen, shape = keras_counts(
            [keras.layers.Rescaling(1 / 255), keras.layers.Normalization(axis=axis)], (9, 11, 3)
        )
        n = net(f"I(9,11,3)-RESCALE(1/255)-{text}", "keras")
        assert (n.params, n.non_trainable, n.output_shape) == (total, frozen, shape)
    total, frozen, _ = keras_counts([keras.layers.Normalization(mean=[0.5] * 3, variance=[0.2] * 3)], (9, 11, 3))
    assert net("I(9,11,3)-NORM(adapt=false)", "keras").params == total == 0
    assert net("I(9,11,3)-RESCALE(1/127.5, offset=-1)-NORM").params == 0  # torch: no such weights


@fw
@pytest.mark.parametrize("scale, center", [(True, True), (False, True), (True, False), (False, False)])
def test_keras_batchnorm_scale_and_center(scale, center):
    import keras

    total, frozen, _ = keras_counts([keras.layers.BatchNormalization(scale=scale, center=center)], (5, 7, 12))
    n = net(f"I(5,7,12)-BN(scale={str(scale).lower()},center={str(center).lower()})", "keras")
    assert (n.params, n.non_trainable) == (total, frozen)
    assert net(f"I(5,7,12)-BN(scale={str(scale).lower()},center={str(center).lower()})").params == 12 * (
        scale + center
    )


# ---------------------------------------------------------------- GN, IN, PReLU, DP, activations
@fw
def test_group_and_instance_norm_in_both_frameworks():
    torch = _torch()
    import keras

    nn = torch.nn
    assert torch_counts(nn.GroupNorm(4, 16), (16, 5, 7))[0] == net("I(5,7,16)-GN(4)").params == 32
    assert torch_counts(nn.GroupNorm(4, 16, affine=False), (16, 5, 7))[0] == net("I(5,7,16)-GN(4,affine=false)").params
    assert torch_counts(nn.InstanceNorm2d(16), (16, 5, 7))[0] == net("I(5,7,16)-IN").params == 0
    assert torch_counts(nn.InstanceNorm2d(16, affine=True), (16, 5, 7))[0] == net("I(5,7,16)-IN(affine=true)").params
    assert keras_counts([keras.layers.GroupNormalization(groups=4)], (5, 7, 16))[0] == net("I(5,7,16)-GN(4)", "keras").params
    instance = keras_counts([keras.layers.GroupNormalization(groups=-1)], (5, 7, 16))[0]
    assert instance == net("I(5,7,16)-IN", "keras").params == 32


def test_group_norm_needs_groups_dividing_channels():
    with pytest.raises(symparams.ShapeError) as err:
        net("I(5,7,16)-GN(3)")
    assert "divisible by groups g=3" in err.value.message and err.value.pos is not None
    assert str(net("I-GN(g)").conditions[0]) == "Eq(Mod(c, g), 0)"


@fw
def test_prelu_per_convention():
    torch = _torch()
    import keras

    nn = torch.nn
    assert torch_counts(nn.PReLU(), (16, 5, 7))[0] == net("I(5,7,16)-PReLU").params == 1
    assert torch_counts(nn.PReLU(16), (16, 5, 7))[0] == net("I(5,7,16)-PReLU(per=channel)").params == 16
    assert keras_counts([keras.layers.PReLU()], (5, 7, 16))[0] == net("I(5,7,16)-PReLU", "keras").params == 560
    shared = keras_counts([keras.layers.PReLU(shared_axes=[1, 2])], (5, 7, 16))[0]
    assert shared == net("I(5,7,16)-PReLU(per=channel)", "keras").params == 16
    assert str(net("I-PReLU", "keras").params) == "c*h*w"


@fw
def test_parameter_free_layers_in_torch():
    torch = _torch()
    from torchvision.ops import StochasticDepth

    nn = torch.nn
    modules = nn.Sequential(nn.Hardswish(), nn.Hardsigmoid(), nn.LeakyReLU(0.1), nn.Mish(), StochasticDepth(0.2, "row"))
    params, shape = torch_counts(modules, (8, 5, 7))
    n = net("I(5,7,8)-hswish-hsigmoid-lrelu(a=0.1)-mish-DP(0.2)-leakyrelu-StochasticDepth(0.1)-DropPath(0.3)")
    assert (n.params, n.output_shape) == (params, shape) == (0, (8, 5, 7))


# ---------------------------------------------------------------- padding, per-position Dense
@fw
def test_asymmetric_zero_padding_in_both_orders():
    torch = _torch()
    import keras

    _, shape = torch_counts(torch.nn.ZeroPad2d((1, 2, 3, 4)), (3, 5, 7))
    assert net("I(5,7,3)-Z(pad=(1,2,3,4))").output_shape == shape == (3, 12, 10)
    _, _, kshape = keras_counts([keras.layers.ZeroPadding2D(((1, 2), (3, 4)))], (5, 7, 3))
    assert net("I(5,7,3)-Z(((1,2),(3,4)))", "keras").output_shape == kshape == (8, 14, 3)
    # Keras's correct_pad before a stride-2 depthwise conv, at an even size: ((0,1),(0,1)).
    n = net("I(112,112,32)-Z(((0,1),(0,1)))-DW(3,s=2)")
    assert n.output_shape == net("I(112,112,32)-DW(3,s=2,p=1)").output_shape == (32, 56, 56)
    assert str(net("I-Z(((0,1),(2,3)))").output_shape) == "(c, h + 1, w + 5)"


def test_zero_padding_errors():
    for text in ["I(5,7,3)-Z(((1,2),(3,4,5)))", "I(5,7,3)-Z(((1,2),(3,4),(5,6)))", "I(5,7,3)-Z(pad=(1,2,3))",
                 "I(5,7,3)-Z(p=1,pad=(1,1))", "I(5,7,3)-Z", "I(5,7,3)-C(3,((1,2),(3,4)))"]:
        with pytest.raises(symparams.SymparamsError) as err:
            net(text)
        assert err.value.pos is not None, text


@fw
def test_dense_on_the_last_axis_of_an_image():
    torch = _torch()
    import keras

    total, _, kshape = keras_counts([keras.layers.Dense(10)], (5, 7, 6))
    n = net("I(5,7,6)-H(10,flat=false)", "keras")
    assert (n.params, n.output_shape) == (total, kshape) == (70, (5, 7, 10))
    linear = torch.nn.Linear(6, 10)
    assert sum(p.numel() for p in linear.parameters()) == net("I(5,7,6)-H(10,flat=false)").params
    assert net("I(5,7,6)-H(10)").params == 5 * 7 * 6 * 10 + 10  # flattening, as always
    assert net("I(5,7,6)-H(10,flat=false,bias=false)").params == 60
    assert net("I(t,6)-H(10,flat=false)").params == net("I(t,6)-H(10)").params


def test_macs_of_the_new_layers_follow_the_flop_rule():
    # FlopCounterMode/2: a Linear per position (h·w·c·n), nothing for scales, norms, gates' multiply.
    assert net("I(5,7,6)-H(10,flat=false)").macs == 5 * 7 * 6 * 10
    assert net("I(5,7,6)-LS-GN(2)-IN-PReLU-hswish-DP(0.1)").macs == 0
    gate = net("I(5,7,6)-[id * (AAP(1)-C(2,1)-relu-C(6,1)-sigmoid)]")
    assert gate.macs == sum(r.macs for r in gate.layers[1].children[1].children)


# ---------------------------------------------------------------- symbolic use
SE_NET = "I(n,n,3)-C(k,3,p=1)-[id * (GAP-H(q)-relu-H(k)-sigmoid)]-LS-H(10,flat=false)"


def test_symbolic_gate_ideal_solve_sweep_latex():
    n = symparams.parse(SE_NET)
    assert n.conditions == ()
    assert n.subs(n=8, k=16, q=4).params == (27 * 16 + 16) + (2 * 16 * 4 + 16 + 4) + 16 + (16 * 10 + 10)
    ideal = symparams.parse(SE_NET, mode="ideal")
    assert ideal.params == n.params  # no floors here
    fixed = symparams.parse(SE_NET.replace("q", "4"))
    target = int(fixed.subs(k=32).params)
    assert fixed.solve("k", target).values[0][0] == 32
    sweep = fixed.sweep({"k": [8, 16, 32], "n": [8]}, targets=("params",))
    assert list(sweep.totals["params"]) == [fixed.subs(k=k).params for k in (8, 16, 32)]
    from symparams.latex import latex_table

    text = latex_table(n)
    assert "Multiply" in text or "\\times" in text or "id" in text


def test_cli_reads_a_product_and_errors_exit_2(capsys):
    from symparams.cli import main

    assert main(["I(8,8,16)-[id * (GAP-H(4)-relu-H(16)-sigmoid)]"]) == 0
    assert "Total params: 148" in capsys.readouterr().out
    assert main(["I(8,8,16)-[id * (GAP-H(4)-relu-H(15)-sigmoid)]"]) == 2
    assert "Traceback" not in capsys.readouterr().err
