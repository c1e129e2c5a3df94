"""examples/ of issue 14 (EfficientNet-B0, MobileNetV3-Large, ConvNeXt-T, RegNetY-400MF)
against the real torchvision and keras.applications models, and against the counts in
their comments."""

from __future__ import annotations

from pathlib import Path

import pytest
import vision_zoo as V

import symparams
from symparams.language.parsing import parse_program

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

# file, torchvision model, count in the file's comment
CASES = [
    ("efficientnet_b0.arch", "efficientnet_b0", 5_288_548),
    ("mobilenet_v3_large.arch", "mobilenet_v3_large", 5_483_032),
    ("convnext_t.arch", "convnext_tiny", 28_589_128),
    ("regnety_400mf.arch", "regnet_y_400mf", 4_344_144),
]


def text(name: str) -> str:
    return (EXAMPLES / name).read_text(encoding="utf-8")


@pytest.mark.frameworks
@pytest.mark.parametrize("name, model, published", CASES, ids=[c[0] for c in CASES])
def test_example_matches_torchvision(name, model, published):
    net = symparams.parse(text(name))
    ref = V.torch_reference(model)
    assert (net.params, net.output_shape, net.conditions) == (ref["params"], ref["output_shape"], ())
    assert net.params == published
    assert f"{published:,}" in text(name)
    assert parse_program(text(name)).definitions


# file, keras application, how the keras model's text differs, total, non-trainable
KERAS = [
    pytest.param("efficientnet_b0.arch", "EfficientNetB0", ("I(224,224,3)", "I(224,224,3)-RESCALE(1/255)-NORM"),
                 5_330_571, 42_023, marks=pytest.mark.zoo, id="EfficientNetB0"),
    pytest.param("mobilenet_v3_large.arch", "MobileNetV3Large", None, 5_507_432, 24_400, marks=pytest.mark.zoo,
                 id="MobileNetV3Large"),
    pytest.param("convnext_t.arch", "ConvNeXtTiny", ("I(224,224,3)", "I(224,224,3)-NORM(adapt=false)"),
                 28_589_128, 0, id="ConvNeXtTiny"),
]


@pytest.mark.frameworks
@pytest.mark.parametrize("name, application, change, total, frozen", KERAS)
def test_example_matches_keras(name, application, change, total, frozen):
    written = text(name) if change is None else text(name).replace(*change)
    net = symparams.parse(written, convention="keras")
    kwargs = {"input_shape": (224, 224, 3)} if application.startswith("MobileNetV3") else {}
    ref = V.keras_reference(application, **kwargs)
    assert (net.params, net.trainable, net.non_trainable) == (ref["params"], ref["trainable"], ref["non_trainable"])
    assert (net.params, net.non_trainable) == (total, frozen)
    assert net.output_shape == ref["output_shape"]
    assert f"{total:,}" in text(name)


@pytest.mark.frameworks
def test_examples_equal_the_generated_zoo_texts():
    assert symparams.parse(text("efficientnet_b0.arch")).params == symparams.parse(V.efficientnet_text("b0")).params
    assert symparams.parse(text("regnety_400mf.arch")).params == symparams.parse(V.regnet_text("y_400mf")).params
