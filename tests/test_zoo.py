"""The vision model zoo: each model written in symparams (tests/zoo_texts.py) against the real
torchvision (weights=None, meta device) or keras.applications (weights=None) model —
params, trainable, non-trainable and output shape, exactly.

The smallest model of each family runs in CI; the rest are behind `@pytest.mark.zoo`
(`pytest -m zoo`)."""

from __future__ import annotations

import sys
import types
from functools import partial

import pytest
import zoo_texts as Z

import symparams

pytestmark = pytest.mark.frameworks
zoo = pytest.mark.zoo


def torchvision():
    # torchvision's wheel registers fake kernels for another torch; the models need none.
    sys.modules.setdefault(
        "torchvision._meta_registrations", types.ModuleType("torchvision._meta_registrations")
    )
    import torchvision

    return torchvision


def torch_model(name: str, input_shape: tuple[int, ...], **kwargs):
    """(params, output shape without the batch axis) of a torchvision model built on meta."""
    import torch

    tv = torchvision()
    with torch.device("meta"):
        model = tv.models.get_model(name, weights=None, **kwargs).eval()
        with torch.no_grad():
            out = model(torch.zeros(1, *input_shape))
    if isinstance(out, dict):
        out = out["out"]
    return sum(p.numel() for p in model.parameters()), tuple(out.shape[1:])


SEG = {"weights_backbone": None, "aux_loss": False}
NO_AUX = {"aux_logits": False, "init_weights": False}

# (id, text, torchvision name, input [c, ...], kwargs, marks)
TORCH_CASES = [
    ("alexnet", Z.alexnet, "alexnet", (3, 224, 224), {}, ()),
    *[(f"vgg{d}", partial(Z.vgg, d), f"vgg{d}", (3, 224, 224), {}, () if d == 11 else (zoo,)) for d in (11, 13, 16, 19)],
    *[(f"vgg{d}_bn", partial(Z.vgg, d, True), f"vgg{d}_bn", (3, 224, 224), {}, (zoo,)) for d in (11, 13, 16, 19)],
    *[(f"resnet{d}", partial(Z.resnet, d), f"resnet{d}", (3, 224, 224), {}, () if d == 18 else (zoo,))
      for d in (18, 34, 50, 101, 152)],
    ("resnext50_32x4d", partial(Z.resnet, 50, 32, 4), "resnext50_32x4d", (3, 224, 224), {}, ()),
    ("resnext101_32x8d", partial(Z.resnet, 101, 32, 8), "resnext101_32x8d", (3, 224, 224), {}, (zoo,)),
    ("resnext101_64x4d", partial(Z.resnet, 101, 64, 4), "resnext101_64x4d", (3, 224, 224), {}, (zoo,)),
    ("wide_resnet50_2", partial(Z.resnet, 50, 1, 128), "wide_resnet50_2", (3, 224, 224), {}, ()),
    ("wide_resnet101_2", partial(Z.resnet, 101, 1, 128), "wide_resnet101_2", (3, 224, 224), {}, (zoo,)),
    *[(f"densenet{d}", partial(Z.densenet, d), f"densenet{d}", (3, 224, 224), {}, () if d == 121 else (zoo,))
      for d in (121, 161, 169, 201)],
    ("squeezenet1_0", partial(Z.squeezenet, "1_0"), "squeezenet1_0", (3, 224, 224), {}, (zoo,)),
    ("squeezenet1_1", partial(Z.squeezenet, "1_1"), "squeezenet1_1", (3, 224, 224), {}, ()),
    ("googlenet", Z.googlenet, "googlenet", (3, 224, 224), NO_AUX, ()),
    ("inception_v3", Z.inception_v3, "inception_v3", (3, 299, 299), NO_AUX, ()),
    ("mobilenet_v2", Z.mobilenet_v2, "mobilenet_v2", (3, 224, 224), {}, ()),
    *[(v, partial(Z.video, v), v, (3, 16, 112, 112), {}, () if v == "mc3_18" else (zoo,))
      for v in ("r3d_18", "mc3_18", "r2plus1d_18")],
    *[(f"vit_{v}", partial(Z.vit, v), f"vit_{v}", (3, 224, 224), {}, () if v == "b_32" else (zoo,))
      for v in ("b_16", "b_32", "l_16", "l_32", "h_14")],
    ("fcn_resnet50", partial(Z.segmentation, "fcn_resnet50"), "fcn_resnet50", (3, 520, 520), SEG, ()),
    ("deeplabv3_resnet50", partial(Z.segmentation, "deeplabv3_resnet50"), "deeplabv3_resnet50", (3, 520, 520),
     SEG, ()),
    *[(f"shufflenet_v2_{v}", partial(Z.shufflenet_v2, v), f"shufflenet_v2_{v}", (3, 224, 224), {},
       () if v == "x0_5" else (zoo,)) for v in ("x0_5", "x1_0", "x1_5", "x2_0")],
    *[(f"swin_{v}", partial(Z.swin, v), f"swin_{v}", (3, 224, 224), {}, () if v == "t" else (zoo,))
      for v in ("t", "s", "b")],
    *[(f"swin_v2_{v}", partial(Z.swin, v, True), f"swin_v2_{v}", (3, 256, 256), {}, () if v == "t" else (zoo,))
      for v in ("t", "s", "b")],
]  # fmt: skip


def _has_gates() -> bool:
    try:
        symparams.parse("I(2,2,4)-[id * (GAP-H(4)-sigmoid)]")
    except symparams.SymparamsError:
        return False
    return True


def test_maxvit_t():
    """maxvit_t needs the multiplying branch of issue 14's first half; skipped until it is merged."""
    if not _has_gates():
        pytest.skip("needs the gate branch [A * B]")
    params, shape = torch_model("maxvit_t", (3, 224, 224))
    net = symparams.parse(Z.maxvit_t())
    assert (net.params, net.output_shape, net.conditions) == (params, shape, ())


def _param(case):
    ident, text, name, shape, kwargs, marks = case
    return pytest.param(text, name, shape, kwargs, id=ident, marks=marks)


@pytest.mark.parametrize("text, name, input_shape, kwargs", [_param(c) for c in TORCH_CASES])
def test_torchvision_model(text, name, input_shape, kwargs):
    params, shape = torch_model(name, input_shape, **kwargs)
    net = symparams.parse(text())
    assert (net.params, net.output_shape) == (params, shape)
    assert net.trainable == params and net.non_trainable == 0
    assert net.conditions == ()


def keras_model(name: str):
    import keras

    model = getattr(keras.applications, name)(weights=None)
    trainable = sum(int(w.numpy().size) for w in model.trainable_weights)
    non_trainable = sum(int(w.numpy().size) for w in model.non_trainable_weights)
    return model.count_params(), trainable, non_trainable, tuple(model.output_shape[1:])


KERAS_CASES = [
    ("Xception", Z.keras_xception, ()),
    ("VGG16", partial(Z.vgg, 16, keras=True), ()),
    ("VGG19", partial(Z.vgg, 19, keras=True), (zoo,)),
    ("ResNet50", partial(Z.keras_resnet, 50), ()),
    ("ResNet101", partial(Z.keras_resnet, 101), (zoo,)),
    ("ResNet152", partial(Z.keras_resnet, 152), (zoo,)),
    ("ResNet50V2", partial(Z.keras_resnet_v2, 50), ()),
    ("ResNet101V2", partial(Z.keras_resnet_v2, 101), (zoo,)),
    ("ResNet152V2", partial(Z.keras_resnet_v2, 152), (zoo,)),
    ("MobileNet", Z.keras_mobilenet, ()),
    ("MobileNetV2", Z.mobilenet_v2, ()),
    ("DenseNet121", partial(Z.densenet, 121, keras=True), ()),
    ("DenseNet169", partial(Z.densenet, 169, keras=True), (zoo,)),
    ("DenseNet201", partial(Z.densenet, 201, keras=True), (zoo,)),
]


@pytest.mark.parametrize("name, text", [pytest.param(n, t, id=n, marks=m) for n, t, m in KERAS_CASES])
def test_keras_application(name, text):
    total, trainable, non_trainable, shape = keras_model(name)
    net = symparams.parse(text(), convention="keras")
    assert (net.params, net.trainable, net.non_trainable) == (total, trainable, non_trainable)
    assert net.output_shape == shape
    assert net.conditions == ()


# ---------------------------------------------------------------- symbolic backbones
def _backbone(name: str):
    """The torchvision backbone without its head (as /work/notes/vision.md §1 lists them)."""
    from torch import nn

    tv = torchvision()
    if name == "resnet50":
        return nn.Sequential(*list(tv.models.resnet50().children())[:-2])
    if name == "densenet121":
        return tv.models.densenet121().features
    if name == "swin_t":
        return tv.models.swin_t().features
    m = tv.models.shufflenet_v2_x1_0()
    return nn.Sequential(m.conv1, m.maxpool, m.stage2, m.stage3, m.stage4, m.conv5)


BACKBONES = {
    # name: (text of I(h,w,3) without a head, smallest accepted size, channels-last output)
    "resnet50": (partial(Z.resnet, 50, size=("h", "w"), backbone=True), 1, False),
    "densenet121": (partial(Z.densenet, 121, size=("h", "w"), backbone=True), 29, False),
    "swin_t": (partial(Z.swin, "t", size=("h", "w"), backbone=True), 4, True),
    "shufflenet_v2": (partial(Z.shufflenet_v2, "x1_0", size=("h", "w"), backbone=True), 1, False),
}


def _forward_shape(module, h: int, w: int, device: str):
    import torch

    module = module.to(device).eval()
    with torch.no_grad():
        return tuple(module(torch.zeros(1, 3, h, w, device=device)).shape[1:])


@pytest.mark.parametrize("name", list(BACKBONES))
def test_symbolic_backbone_at_six_sizes(name):
    """One symbolic text, I(h,w,3): its count and shape at six sizes (odd ones, the smallest
    the framework accepts) equal the real backbone's; one size below is refused by both."""
    import torch

    text, smallest, channels_last = BACKBONES[name]
    net = symparams.parse(text())
    assert {str(s) for s in net.params.free_symbols} == set()
    with torch.device("meta"):
        meta = _backbone(name)
    assert net.params == sum(p.numel() for p in meta.parameters())
    cpu = _backbone(name)  # real kernels where the size is tight
    sizes = [(224, 224), (193, 257), (97, 131), (64, 33), (smallest, smallest), (smallest, 225)]
    for h, w in sizes:
        fixed = net.subs(h=h, w=w)
        shape = fixed.output_shape if not channels_last else fixed.output_shape[1:] + fixed.output_shape[:1]
        model, device = (cpu, "cpu") if h == smallest else (meta, "meta")
        assert shape == _forward_shape(model, h, w, device), (h, w)
        assert symparams.parse(text().replace("I(h,w,3)", f"I({h},{w},3)")).output_shape == fixed.output_shape
    if smallest > 1:
        below = smallest - 1
        with pytest.raises(RuntimeError):
            _forward_shape(cpu, below, 224, "cpu")
        with pytest.raises(symparams.ShapeError, match="at least"):
            net.subs(h=below, w=224)
        with pytest.raises(symparams.ShapeError) as err:
            symparams.parse(text().replace("I(h,w,3)", f"I({below},224,3)"))
        assert err.value.pos is not None


# ---------------------------------------------------------------- examples/
EXAMPLES = __import__("pathlib").Path(__file__).resolve().parent.parent / "examples"


@pytest.mark.parametrize(
    "file, name, input_shape, published",
    [
        ("swin_t.arch", "swin_t", (3, 224, 224), 28_288_354),
        ("shufflenet_v2.arch", "shufflenet_v2_x1_0", (3, 224, 224), 2_278_604),
    ],
)
def test_vision_example_matches_torchvision(file, name, input_shape, published):
    text = (EXAMPLES / file).read_text(encoding="utf-8")
    net = symparams.parse(text)
    params, shape = torch_model(name, input_shape)
    assert (net.params, net.output_shape, net.conditions) == (params, shape, ())
    assert net.params == published and f"{published:,} parameters" in text
