"""ultralytics YOLOv8 (issue 16) written in the language as a graph (tests/graph_models.py,
examples/yolov8n.arch) against DetectionModel("yolov8{n,s}.yaml"), built from the YAML the
package ships, no weights: params, trainable, non-trainable (the DFL's fixed 1x16 conv
weight), every YAML layer's subtotal, and the three detection levels' shapes at several
sizes and in symbols h, w. YOLOv8n runs in CI; s, m, l, x with `-m zoo`."""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

import graph_models as G
import pytest

import symparams

os.environ.setdefault("YOLO_OFFLINE", "1")  # nothing touches the network
pytest.importorskip("ultralytics", reason="ultralytics is not installed (it is in the test extra)")

pytestmark = pytest.mark.frameworks
EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
# The tensors of the text, by the YAML index of the layer that ends each (their `from` indices).
TENSORS = {"l4": range(5), "l6": range(5, 7), "l9": range(7, 10), "l12": range(10, 13), "l15": range(13, 16),
           "l18": range(16, 19), "l21": range(19, 22)}  # fmt: skip
# Multiples of 32, and sizes of 32k + 25 … 32k + 31, which the upsampled maps still fit.
SIZES = [(640, 640), (320, 480), (672, 384), (633, 665), (32, 32), (25, 57)]
REFUSED = [(650, 640), (640, 600), (24, 32)]


@cache
def model(scale: str):
    import torch
    from ultralytics.nn.tasks import DetectionModel

    # On the CPU (Detect.bias_init reads the strides, which meta cannot), then moved to meta.
    return DetectionModel(f"yolov8{scale}.yaml", verbose=False).to(torch.device("meta")).train()


def count(module, trainable: bool | None = None) -> int:
    return sum(p.numel() for p in module.parameters() if trainable is None or p.requires_grad == trainable)


def levels(scale: str, h: int, w: int):
    """The three detection levels: torch.cat((cv2[i](x), cv3[i](x)), 1) for P3, P4, P5 (as
    ultralytics ≤ 8.3 returned them; 8.4 returns the same maps flattened over the anchors,
    checked too)."""
    import torch

    m = model(scale)
    detect, seen = m.model[-1], {}
    hooks = [
        branch[i].register_forward_hook(lambda mod, args, out, key=(name, i): seen.__setitem__(key, out.shape))
        for name, branch in (("box", detect.cv2), ("cls", detect.cv3))
        for i in range(detect.nl)
    ]
    try:
        out = m(torch.zeros(2, 3, h, w, device="meta"))  # 2: train-mode BatchNorm at 1x1
    finally:
        for hook in hooks:
            hook.remove()
    shapes = [(seen["box", i][1] + seen["cls", i][1], *seen["box", i][2:]) for i in range(detect.nl)]
    anchors = sum(s[1] * s[2] for s in shapes)
    assert tuple(out["boxes"].shape[1:]) == (4 * detect.reg_max, anchors)
    assert tuple(out["scores"].shape[1:]) == (detect.nc, anchors)
    return shapes


def check_counts(net, scale: str) -> None:
    m = model(scale)
    assert (net.params, net.trainable, net.non_trainable) == (count(m), count(m, True), count(m, False))
    for tensor, layers in TENSORS.items():
        assert net.subtotal(tensor) == sum(count(m.model[i]) for i in layers), tensor
    detect = m.model[-1]
    assert sum(net.subtotal(f"o{i}") for i in (3, 4, 5)) == count(detect)
    assert [p.numel() for p in detect.parameters() if not p.requires_grad] == [detect.reg_max]  # DFL's weight


PUBLISHED = {"n": (3_157_200, 3_157_184), "s": (11_166_560, 11_166_544), "m": (25_902_640, 25_902_624),
             "l": (43_691_520, 43_691_504), "x": (68_229_648, 68_229_632)}  # yolov8.yaml's own summaries


@pytest.mark.parametrize(
    "scale", [pytest.param(s, marks=() if s == "n" else (pytest.mark.zoo,)) for s in "nsmlx"]
)
def test_yolov8(scale):
    net = symparams.parse(G.yolov8_text(scale))
    assert (net.params, net.trainable) == PUBLISHED[scale]
    check_counts(net, scale)
    assert net.output_shape == levels(scale, 640, 640) and net.conditions == ()
    assert net.outputs == ("o3", "o4", "o5")


def test_yolov8n_macs_equal_flop_counter():
    """MACs are FlopCounterMode's FLOPs / 2 of the forward to the three levels: 8.74 GFLOPs
    at 640 (the YAML's "8.9 GFLOPS" is thop's count, another rule)."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter:
        model("n")(torch.zeros(1, 3, 640, 640, device="meta"))
    assert 2 * symparams.parse(G.yolov8_text("n")).macs == counter.get_total_flops() == 8_742_912_000


@pytest.mark.parametrize("scale", ["n", pytest.param("s", marks=pytest.mark.zoo)])
def test_yolov8_symbolic_sizes(scale):
    """In h, w the network holds under the conditions that the upsampled maps fit the
    skips (2·⌈x/32⌉ = ⌈x/16⌉, 4·⌈x/32⌉ = ⌈x/8⌉); at each size they hold exactly where
    ultralytics' Concat accepts."""
    symbolic = symparams.parse(G.yolov8_text(scale, size="h,w"))
    assert symbolic.params == PUBLISHED[scale][0] and len(symbolic.conditions) == 4
    for h, w in SIZES:
        at = symbolic.subs(h=h, w=w)
        assert at.output_shape == levels(scale, h, w) == symparams.parse(G.yolov8_text(scale, f"{h},{w}")).output_shape
        assert at.output_shape[0][1:] == (-(-h // 32) * 4, -(-w // 32) * 4)
    for h, w in REFUSED:
        with pytest.raises(RuntimeError, match="Sizes of tensors must match"):
            levels(scale, h, w)
        with pytest.raises(symparams.ShapeError) as err:
            symbolic.subs(h=h, w=w)
        assert "break the network's condition" in err.value.render()
        with pytest.raises(symparams.ShapeError, match="do not fit together"):
            symparams.parse(G.yolov8_text(scale, f"{h},{w}"))


def test_yolov8n_example():
    text = (EXAMPLES / "yolov8n.arch").read_text(encoding="utf-8")
    net = symparams.parse(text)
    check_counts(net, "n")
    assert (net.params, net.non_trainable) == (3_157_200, 16)
    assert "3,157,200 parameters" in text and "16 non-trainable" in text
    assert net.output_shape == levels("n", 640, 640) == [(144, 80, 80), (144, 40, 40), (144, 20, 20)]
    generated = symparams.parse(G.yolov8_text("n"))
    assert [net.subtotal(t) for t in net.tensor_names] == [generated.subtotal(t) for t in net.tensor_names]


def test_yolov8_keras_convention():
    """Under --convention keras, BatchNorm also holds its moving statistics (2c a norm),
    non-trainable beside the DFL's weight; torch keeps those as buffers."""
    torch_net = symparams.parse(G.yolov8_text("n"))
    keras_net = symparams.parse(G.yolov8_text("n"), convention="keras")
    buffers = sum(b.numel() for name, b in model("n").named_buffers() if name.endswith(("running_mean", "running_var")))
    assert keras_net.trainable == torch_net.trainable
    assert keras_net.non_trainable == torch_net.non_trainable + buffers
