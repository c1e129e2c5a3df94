"""bench/backbones: the symbolic feature extractors the benchmark times (I(h,w,3), no
head). Each file states its count; the count and the output shape are checked here, the
EfficientNet-B0 and ConvNeXt-T backbones row by row against examples/ at 224 x 224, and
every backbone against torchvision's own on the meta device at two sizes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import symparams

ROOT = Path(__file__).resolve().parent.parent
BACKBONES = {p.stem: p for p in sorted((ROOT / "bench" / "backbones").glob("*.arch"))}
# bench file -> (torchvision model, the part that is the backbone)
TORCHVISION = {
    "resnet50": ("resnet50", "trunk"),
    "densenet121": ("densenet121", "features"),
    "inception_v3": ("inception_v3", "trunk"),
    "mobilenet_v2": ("mobilenet_v2", "features"),
    "efficientnet_b0": ("efficientnet_b0", "features"),
    "convnext_t": ("convnext_tiny", "features"),
}


def text_of(name: str) -> str:
    return BACKBONES[name].read_text(encoding="utf-8")


def stated_count(text: str) -> int:
    return int(re.search(r"([0-9][0-9,]*) parameters", text).group(1).replace(",", ""))


def test_the_six_backbones_are_there():
    assert set(BACKBONES) == set(TORCHVISION)


@pytest.mark.parametrize("name", sorted(TORCHVISION))
def test_backbone_is_symbolic_in_h_w_and_states_its_count(name):
    text = text_of(name)
    assert text.count("I(h,w,3)") == 1
    net = symparams.parse(text)
    assert net.params == stated_count(text)
    assert {str(s) for s in net.output_shape[1].free_symbols} == {"h"}
    assert {str(s) for s in net.output_shape[2].free_symbols} == {"w"}
    # The same network written at 224 x 224 in numbers.
    numeric = symparams.parse(text.replace("I(h,w,3)", "I(224,224,3)"))
    at = net.subs(h=224, w=224)
    assert (numeric.params, numeric.output_shape) == (at.params, at.output_shape)
    assert numeric.params == stated_count(text)


@pytest.mark.parametrize("name", ["efficientnet_b0", "convnext_t"])
def test_backbone_is_the_example_without_its_head(name):
    """At 224 x 224 the backbone's rows are the example's first rows, name, count and shape
    alike; the rows the example has beyond them are its head (pool, dropout, norm, flatten,
    classifier), and nothing else."""
    example = symparams.parse((ROOT / "examples" / f"{name}.arch").read_text(encoding="utf-8"))
    backbone = symparams.parse(text_of(name)).subs(h=224, w=224)
    n = len(backbone.layers)
    assert n >= 10
    mine = [(row.name, row.params, row.output_shape) for row in backbone.layers]
    theirs = [(row.name, row.params, row.output_shape) for row in example.layers[:n]]
    assert mine == theirs
    head = [row.name for row in example.layers[n:]]
    assert head == {"efficientnet_b0": ["GAP", "D", "O"], "convnext_t": ["AAP", "LN", "F", "O"]}[name]
    assert backbone.params == example.params - sum(row.params for row in example.layers[n:])
    assert backbone.output_shape == example.layers[n - 1].output_shape


@pytest.mark.frameworks
@pytest.mark.parametrize("name", sorted(TORCHVISION))
def test_backbone_against_torchvision(name):
    import vision_zoo as V

    model, part = TORCHVISION[name]
    net = symparams.parse(text_of(name))
    for h, w in [(299, 299), (241, 333)]:
        ref = _inception_trunk((h, w)) if model == "inception_v3" else V.torch_reference(model, (h, w), part)
        at = net.subs(h=h, w=w)
        assert (at.params, at.output_shape) == (ref["params"], ref["output_shape"]), (h, w)


def _inception_trunk(size):
    """torchvision's Inception-v3 up to Mixed_7c (no pool, dropout or fc)."""
    import sys
    import types

    sys.modules.setdefault("torchvision._meta_registrations", types.ModuleType("torchvision._meta_registrations"))
    import torch
    import torchvision

    with torch.device("meta"):
        m = torchvision.models.inception_v3(weights=None, aux_logits=False, init_weights=False).eval()
        trunk = torch.nn.Sequential(*[c for n, c in m.named_children() if n not in ("avgpool", "dropout", "fc")])
        with torch.no_grad():
            y = trunk(torch.empty(1, 3, *size))
    return {"params": sum(p.numel() for p in trunk.parameters()), "output_shape": tuple(y.shape[1:])}
