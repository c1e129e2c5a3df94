"""examples/: every famous model's .arch file against the same model written by hand in
PyTorch (tests/famous_models.py), and against its published parameter count."""

from pathlib import Path

import famous_models as M
import pytest

import symparams
from symparams.cli import main

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

# file, torch builder, torch input shape (channels first), published count (None: no published one)
CASES = [
    ("lenet5.arch", M.lenet5, (1, 32, 32), 61_706),
    ("mnist_cnn.arch", M.mnist_cnn, (1, 28, 28), 217_706),
    ("mnist_two_conv.arch", M.mnist_two_conv, (1, 28, 28), 2_663_678),
    ("mnist_caffe_lenet.arch", M.mnist_caffe_lenet, (3, 28, 28), 432_080),
    ("three_column.arch", M.three_column, (1, 50, 50), 3_011_627),
    ("alexnet.arch", M.alexnet, (3, 224, 224), 61_100_840),
    ("vgg16.arch", M.vgg16, (3, 224, 224), 138_357_544),
    ("resnet18.arch", M.resnet18, (3, 224, 224), 11_689_512),
    ("resnet50.arch", M.resnet50, (3, 224, 224), 25_557_032),
    ("inception_block.arch", M.inception_3a, (192, 28, 28), None),
    ("mobilenet_v2.arch", M.mobilenet_v2, (3, 224, 224), 3_504_872),
    ("unet.arch", M.unet, (1, 64, 64), None),
]


def parse_example(name: str, convention: str = "torch") -> symparams.Network:
    return symparams.parse((EXAMPLES / name).read_text(encoding="utf-8"), convention=convention)


@pytest.mark.frameworks
@pytest.mark.parametrize("name, builder, input_shape, published", CASES, ids=[c[0] for c in CASES])
def test_example_matches_pytorch(name, builder, input_shape, published):
    net = parse_example(name)
    params, shape = M.torch_result(builder, input_shape)
    assert net.params == params
    assert net.output_shape == shape
    assert net.conditions == ()
    if published is not None:
        assert net.params == published


def test_every_example_is_tested():
    assert {p.name for p in EXAMPLES.glob("*.arch")} >= {c[0] for c in CASES}


def test_examples_use_definitions():
    from symparams.language.parsing import parse_program

    for name, *_ in CASES:
        assert parse_program((EXAMPLES / name).read_text(encoding="utf-8")).definitions, name


def test_inception_block_by_hand():
    # 1x1: 192·64+64; 1x1→3x3: 192·96+96 + 96·9·128+128; 1x1→5x5: 192·16+16 + 16·25·32+32; pool→1x1: 192·32+32
    expected = (192 * 64 + 64) + (192 * 96 + 96 + 96 * 9 * 128 + 128) + (192 * 16 + 16 + 16 * 25 * 32 + 32) \
        + (192 * 32 + 32)
    net = parse_example("inception_block.arch")
    assert net.params == expected == 163_696
    assert net.output_shape == (256, 28, 28)


def test_resnet18_in_keras_convention_counts_moving_statistics():
    torch_net, keras_net = parse_example("resnet18.arch"), parse_example("resnet18.arch", "keras")
    assert keras_net.trainable == torch_net.params
    # Every BatchNorm adds its moving mean and variance, 2c, as torch's γ and β are 2c:
    # 4,800 BatchNorm channels in all (64 + 4·64 + 5·128 + 5·256 + 5·512).
    assert keras_net.non_trainable == 2 * 4_800
    assert keras_net.output_shape == (1000,)


def test_examples_run_from_the_command_line(capsys):
    assert main([str(EXAMPLES / "resnet50.arch"), "--depth", "1"]) == 0
    out = capsys.readouterr().out
    assert "Total params: 25,557,032" in out
    # Depth 1 folds every block: the stages show as their definitions, no conv inside them.
    assert "bottleneck(64)*2" in out and "Repeat ×2" in out and "Conv2D" not in out


@pytest.mark.frameworks
@pytest.mark.parametrize("name, application", [("mobilenet_v2.arch", "MobileNetV2"), ("vgg16.arch", "VGG16")])
def test_example_matches_keras_applications(name, application):
    """Keras ships these two with torchvision's layout: the keras convention (BatchNorm's
    moving statistics as non-trainable parameters) must give Keras's own counts."""
    import keras
    import numpy as np

    model = getattr(keras.applications, application)(weights=None, input_shape=(224, 224, 3))
    frozen = int(sum(np.prod(w.shape) for w in model.non_trainable_weights))
    net = parse_example(name, "keras")
    assert (net.params, net.non_trainable) == (model.count_params(), frozen)
    assert net.output_shape == tuple(model.output_shape[1:])
