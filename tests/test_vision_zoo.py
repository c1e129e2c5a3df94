"""Issue 14: the vision model zoo written in the language (tests/vision_zoo.py) against
the real models: torchvision (weights=None, on the meta device) and keras.applications
(weights=None). Params, trainable, non-trainable and output shape must be equal.

The smallest model of every family runs in CI; the rest is behind `-m zoo`.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import vision_zoo as V

import symparams

zoo = pytest.mark.zoo


def _torch_case(name, text_fn, *args, ci=False):
    marks = [pytest.mark.frameworks] + ([] if ci else [zoo])
    return pytest.param(name, text_fn, args, marks=marks, id=name)


TORCH_CASES = [
    *[_torch_case(f"efficientnet_{v}", V.efficientnet_text, v, ci=v == "b0") for v in V.B_SCALES],
    *[_torch_case(f"efficientnet_v2_{v}", V.efficientnet_text, f"v2_{v}", ci=v == "s") for v in "sml"],
    _torch_case("mobilenet_v3_large", V.mobilenet_v3_text, "large"),
    _torch_case("mobilenet_v3_small", V.mobilenet_v3_text, "small", ci=True),
    *[_torch_case(f"mnasnet{a}", V.mnasnet_text, float(a.replace("_", ".")), ci=a == "0_5")
      for a in ("0_5", "0_75", "1_0", "1_3")],
    *[_torch_case(f"regnet_{v}", V.regnet_text, v, ci=v in ("x_400mf", "y_400mf")) for v in V.REGNET],
    *[_torch_case(f"convnext_{v}", V.convnext_text, v, ci=v == "tiny") for v in ("tiny", "small", "base", "large")],
]


# torchvision builds with aux_logits=True by default: its side output is not a chain's, so
# the model is compared without it (aux_logits=False; GoogLeNet/Inception's aux heads are
# graph outputs, a later issue's form).
TORCH_KWARGS = {"inception_v3": {"aux_logits": False, "init_weights": False},
                "googlenet": {"aux_logits": False, "init_weights": False}}
TORCH_SIZES = {"inception_v3": (299, 299)}
EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def _constant(text):
    return lambda: text


def _example(name):
    return lambda: (EXAMPLES / name).read_text(encoding="utf-8")


TORCH_CASES += [
    _torch_case("inception_v3", V.inception_v3_text, ci=True),
    _torch_case("googlenet", _constant(V.GOOGLENET), ci=True),
    _torch_case("alexnet", _constant(V.ALEXNET), ci=True),
    *[_torch_case(n, V.resnet_text, n, ci=n in ("resnet18", "resnext50_32x4d", "wide_resnet50_2")) for n in V.RESNET],
    *[_torch_case(n + bn, V.vgg_text, n + bn, ci=n + bn == "vgg11") for n in V.VGG_NAMES for bn in ("", "_bn")],
    *[_torch_case(n, V.densenet_text, n, ci=n == "densenet121") for n in V.DENSENET],
    *[_torch_case(f"squeezenet{v}", V.squeezenet_text, v, ci=v == "1_1") for v in ("1_0", "1_1")],
    *[_torch_case(f"vit_{v}", V.vit_text, v, ci=v == "b_32") for v in V.VIT],
    _torch_case("mobilenet_v2", _example("mobilenet_v2.arch"), ci=True),
]


@pytest.mark.parametrize("name, text_fn, args", TORCH_CASES)
def test_torchvision_model(name, text_fn, args):
    text = text_fn(*args)
    net = symparams.parse(text)
    ref = V.torch_reference(name, TORCH_SIZES.get(name, (224, 224)), **TORCH_KWARGS.get(name, {}))
    assert (net.params, net.trainable, net.non_trainable) == (ref["params"], ref["trainable"], 0)
    assert net.output_shape == ref["output_shape"]
    assert net.conditions == ()
    # The numeric build, as the command line makes it, gives the same counts.
    assert symparams.parse(text, numeric=True).params == ref["params"]


EFFNET_KERAS_SIZE = {"b0": 224, "b1": 240, "b2": 260, "b3": 300, "b4": 380, "b5": 456, "b6": 528, "b7": 600}
V2_KERAS_SIZE = {"s": 384, "m": 480, "l": 480}


def _keras_case(name, text, ci=False):
    marks = [pytest.mark.frameworks] + ([] if ci else [zoo])
    return pytest.param(name, text, marks=marks, id=name)


def _effnet(v):
    n = EFFNET_KERAS_SIZE[v]
    return V.efficientnet_text(v, keras=True, size=f"{n},{n}")


def _effnet_v2(v):
    n = V2_KERAS_SIZE[v]
    return V.efficientnet_text(f"v2_{v}", keras=True, size=f"{n},{n}")


KERAS_CASES = [
    *[_keras_case(f"EfficientNet{v.upper()}", lambda v=v: _effnet(v), ci=v == "b0") for v in V.B_SCALES],
    *[_keras_case(f"EfficientNetV2{v}", lambda v=v: V.keras_efficientnet_v2b_text(v), ci=v == "B0")
      for v in V.KERAS_V2_SCALES],
    *[_keras_case(f"EfficientNetV2{v.upper()}", lambda v=v: _effnet_v2(v)) for v in "sml"],
    _keras_case("MobileNetV3Small", lambda: V.mobilenet_v3_text("small", keras=True), ci=True),
    _keras_case("MobileNetV3Large", lambda: V.mobilenet_v3_text("large", keras=True)),
    _keras_case("InceptionV3", lambda: V.inception_v3_text(keras=True), ci=True),
    _keras_case("InceptionResNetV2", lambda: V.INCEPTION_RESNET_V2),
    *[_keras_case(n, lambda n=n: V.keras_resnet_text(n), ci=n in ("ResNet50", "ResNet50V2"))
      for n in ("ResNet50", "ResNet101", "ResNet152", "ResNet50V2", "ResNet101V2", "ResNet152V2")],
    *[_keras_case(n, lambda n=n: V.densenet_text(n, keras=True), ci=n == "DenseNet121")
      for n in ("DenseNet121", "DenseNet169", "DenseNet201")],
    _keras_case("MobileNet", lambda: V.KERAS_MOBILENET, ci=True),
    _keras_case("Xception", lambda: V.XCEPTION, ci=True),
    # Also checked in CI by test_examples (examples/vgg16.arch, mobilenet_v2.arch).
    _keras_case("VGG16", lambda: V.vgg_text("vgg16", keras=True)),
    _keras_case("VGG19", lambda: V.vgg_text("vgg19", keras=True)),
    _keras_case("MobileNetV2", _example("mobilenet_v2.arch")),
    *[_keras_case(f"ConvNeXt{v.capitalize().replace('Xl', 'XL')}", lambda v=v: V.convnext_text(v, keras=True),
                  ci=v == "tiny") for v in V.CONVNEXT],
]


@pytest.mark.parametrize("name, text_fn", KERAS_CASES)
def test_keras_application(name, text_fn):
    net = symparams.parse(text_fn(), convention="keras")
    kwargs = {"input_shape": (224, 224, 3)} if name.startswith(("MobileNetV3", "MobileNetV2")) else {}
    ref = V.keras_reference(name, **kwargs)
    assert (net.params, net.trainable, net.non_trainable) == (ref["params"], ref["trainable"], ref["non_trainable"])
    assert net.output_shape == ref["output_shape"]
    assert net.conditions == ()


# ---------------------------------------------------------------- symbolic backbones
# (torchvision name, text without the head, smallest square input the model accepts)
BACKBONES = [
    ("efficientnet_b0", V.efficientnet_text("b0", head=False, size="h,w"), 1),
    ("mobilenet_v3_large", V.mobilenet_v3_text("large", head=False, size="h,w"), 1),
    ("convnext_tiny", V.convnext_text("tiny", head=False, size="h,w"), 32),
    ("resnet50", V.resnet_text("resnet50", head=False, size="h,w"), 1),
    ("densenet121", V.densenet_text("densenet121", head=False, size="h,w"), 29),
]
PARTS = {"resnet50": "trunk"}
SIZES = [(224, 224), (193, 257), (97, 131), (33, 47), (301, 64)]


@pytest.mark.frameworks
@pytest.mark.parametrize("name, text, smallest", BACKBONES, ids=[b[0] for b in BACKBONES])
def test_symbolic_backbone(name, text, smallest):
    net = symparams.parse(text)
    assert {str(s) for s in net.params.free_symbols} == set() and net.output_shape[1].free_symbols
    for h, w in [*SIZES, (smallest, smallest)]:
        ref = V.torch_reference(name, (h, w), PARTS.get(name, "features"))
        at = net.subs(h=h, w=w)
        assert at.params == ref["params"], (h, w)
        assert at.output_shape == ref["output_shape"], (h, w)
        # The same size written as numbers builds the same network.
        numeric = symparams.parse(text.replace("I(h,w,3)", f"I({h},{w},3)"))
        assert (numeric.params, numeric.output_shape) == (ref["params"], ref["output_shape"])
    if smallest > 1:
        below = smallest - 1
        assert V.torch_refuses(name, (below, below), PARTS.get(name, "features"))
        assert V.torch_refuses(name, (below, 224), PARTS.get(name, "features"))
        with pytest.raises(symparams.ShapeError) as err:
            symparams.parse(text.replace("I(h,w,3)", f"I({below},224,3)"))
        assert "at least" in err.value.message
        assert err.value.pos is not None


def test_convnext_backbone_conditions_name_the_smallest_size():
    net = symparams.parse(V.convnext_text("tiny", head=False, size="h,w"))
    text = " ".join(str(c) for c in net.conditions)
    assert "h" in text and "w" in text
    # Holds at 32, fails at 31 (⌊x/32⌋ ≥ 1 through the stem and three downsamplings).
    assert net.subs(h=32, w=32).output_shape == (768, 1, 1)
    with pytest.raises(symparams.SymparamsError):
        net.subs(h=31, w=32)


@pytest.mark.frameworks
def test_keras_efficientnet_b0_with_keras_own_padding():
    """Keras pads with correct_pad before every stride-2 conv: ((0,1),(0,1)) for a 3x3 and
    ((1,2),(1,2)) for a 5x5 at the even sizes B0 meets at 224, then a valid conv. Written
    out with the asymmetric Z, the network is the same as with torch's symmetric padding."""
    def keras_pad(text):
        return text.replace(
        "dbn(f, s) = DW(f, s=s, p=(f-1)/2, bias=false)-BN",
            "dbn(f, s) = Z((((f-1)/2-s+1, (f-1)/2), ((f-1)/2-s+1, (f-1)/2)))-DW(f, s=s, bias=false)-BN",
        ).replace("-cbn(32,3,2)-silu", "-Z(((0,1),(0,1)))-C(32,3,s=2,bias=false)-BN-silu")

    text = V.efficientnet_text("b0", keras=True)
    keras_padding = keras_pad(text)
    assert keras_padding != text and "Z(((0,1),(0,1)))" in keras_padding
    net = symparams.parse(keras_padding, convention="keras")
    ref = V.keras_reference("EfficientNetB0")
    assert (net.params, net.trainable, net.non_trainable) == (ref["params"], ref["trainable"], ref["non_trainable"])
    assert net.output_shape == ref["output_shape"]
    features = keras_pad(V.efficientnet_text("b0", keras=True, head=False))
    assert symparams.parse(features, convention="keras").output_shape == (7, 7, 1280)
