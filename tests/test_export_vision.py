"""`symparams export` / `check` of the vision layers and the gate (issue 18, part A).

The layers of layers/vision.py (DP, GN, IN, LS, NORM, PReLU, RESCALE, lrelu, hswish,
hsigmoid, mish), the multiplying branch form `[A * B]` (squeeze-excitation), WMSA's
grid=true and pad=false, BN's scale/center and H's flat=false: every case is exported to
both frameworks, built, run, and the framework's counts and shapes must equal symparams'
row by row and in total, under both conventions. Random chains of these layers and gates
(also appended to the chains and nestings the other hypothesis tests draw) are checked the
same way, and the vision zoo's smallest model of each family is exported and checked
against the real torchvision model's count.
"""

from __future__ import annotations

import re

import pytest
import vision_zoo as V
import zoo_texts as Z
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_export import assert_agrees, assert_agrees_where_valid

import symparams
from symparams.export import ExportError, to_keras, to_torch
from symparams.export.check import check, check_text, load

# ---------------------------------------------------------------- every layer and option
VISION_CASES = [
    # W(trainable=false): a fixed tensor (ultralytics' DFL weights), non-trainable parameters
    "I(8)-W(2,3,trainable=false)-H(4)-W(1,16,1,1,trainable=false)",
    "I(6,6,4)-C(8,3)-W(1,16,1,1,trainable=false)-W(5)",
    # UNSEQ: an image's positions back to the image
    "I(5,3,4)-SEQ-H(6)-UNSEQ-C(2,1)",
    # DP: stochastic depth, no parameters.
    "I(8,8,4)-DP(0.1)",
    "I(10,6)-DP(0.2)",
    "I(6)-DP(0.5)-H(3)",
    "I(4,5,6,4)-DP(0)",
    # GN: g | c; on images, volumes, sequences and vectors; affine=false.
    "I(8,8,4)-GN(2)",
    "I(8,8,6)-GN(6,affine=false)",
    "I(10,6)-GN(3)",
    "I(6)-GN(2)",
    "I(1)-GN(1)",  # one value per channel and group: torch's check runs two samples
    "I(4,5,6,4)-GN(1)",
    # IN: the default follows the convention (torch: no affine; keras: GroupNormalization(-1), 2c).
    "I(8,8,4)-IN",
    "I(8,8,4)-IN(affine=true)",
    "I(8,8,4)-IN(affine=false)",
    "I(10,6)-IN",
    "I(10,6)-IN(affine=true)",
    "I(4,5,6,3)-IN(affine=true)",
    "I(1,1,3)-IN-IN(affine=true)",  # torch's InstanceNorm refuses one position: GroupNorm(c, c)
    "I(1,3)-IN(affine=false)",
    # LS: gamma per channel.
    "I(8,8,4)-LS",
    "I(10,6)-LS",
    "I(6)-LS",
    "I(4,5,6,3)-LS",
    # NORM: keras counts an adapted mean, variance and count (2c + 1) non-trainable; torch 0.
    "I(8,8,3)-NORM",
    "I(8,8,3)-NORM(adapt=false)",
    "I(8,8,3)-NORM(axis=none)",
    "I(10,6)-NORM",
    "I(6)-NORM-NORM(axis=none,adapt=false)",
    # PReLU: the default follows the convention (torch one slope, keras one per element).
    "I(8,8,4)-PReLU",
    "I(8,8,4)-PReLU(per=one)",
    "I(8,8,4)-PReLU(per=channel)",
    "I(8,8,4)-PReLU(per=element)",
    "I(10,6)-PReLU-PReLU(per=channel)-PReLU(per=element)-PReLU(per=one)",
    "I(6)-PReLU-PReLU(per=channel)-PReLU(per=element)",
    "I(4,5,6,3)-PReLU(per=channel)-PReLU(per=element)",
    # RESCALE, lrelu and the activations of MobileNetV3: no parameters.
    "I(8,8,3)-RESCALE(1/255)-RESCALE(1/127.5,offset=-1)-RESCALE(2,offset=0.5)",
    "I(8,8,3)-lrelu-lrelu(a=0.2)-hswish-hsigmoid-mish",
    "I(10,6)-lrelu(a=1/3)-hswish-hsigmoid-mish",
    "I(6)-hswish-hsigmoid-mish-lrelu",
    # The gate [A * B]: squeeze-excitation's (1, 1, c) scale, a (c) gate on an image and a
    # sequence (broadcast from the channel axis), products of three and of two real branches.
    "I(8,8,4)-[id * (AAP(1)-C(2,1)-relu-C(4,1)-hsigmoid)]",
    "I(8,8,4)-[id * (GAP-H(4)-sigmoid)]",
    "I(8,8,4)-[C(4,1) * (DW(3,p=1)-sigmoid)]",
    "I(8,8,4)-[id * (GAP-H(4)-sigmoid) * (AAP(1)-C(4,1)-sigmoid)]",
    "I(8,8,4)-[C(6,3,p=1) * (AAP(1)-C(6,1)-sigmoid)]",
    "I(10,6)-[id * H(6)-sigmoid]",
    "I(10,6)-[id * (FIRST-H(6)-hsigmoid)]",
    "I(6)-[id * (H(3)-relu-H(6)-sigmoid)]",
    "I(8,8,4)-[[id * (GAP-H(4)-sigmoid)]-C(4,1) + id]",
    "I(8,8,4)-[id * (AAP(1)-C(2,1)-relu-C(4,1)-sigmoid)]*2",
    "se(e, q) = [id * (AAP(1)-C(q,1)-silu-C(e,1)-sigmoid)]\nI(8,8,4)-C(8,1)-se(8,2)-se(8,4)*2",
    "I(4,5,6,4)-[id * (GAP-H(4)-sigmoid)]",
    # WMSA: grid=true (MaxViT), with every position option, and pad=false.
    "I(8,8,4)-WMSA(2,win=4,grid=true)",
    "I(8,8,4)-WMSA(2,win=(4,2),grid=true,pos=cpb,bias=false)",
    "I(8,8,4)-WMSA(2,win=2,grid=true,pos=none,shift=1)",
    "I(8,8,4)-WMSA(2,win=4,pad=false)-WMSA(1,win=2,pad=false,shift=1,pos=none)",
    # BN's Keras options (scale=false drops gamma, center=false beta), H per position on an image.
    "I(8,8,3)-BN(scale=false)-BN(center=false)-BN(scale=false,center=false)",
    "I(10,6)-BN(scale=false)",
    "I(6)-BN(center=false)",
    "I(4,4,3)-H(5,flat=false)-H(2,flat=false,bias=false)",
]


@pytest.mark.frameworks
@pytest.mark.parametrize("convention", ["torch", "keras"])
@pytest.mark.parametrize("text", VISION_CASES)
def test_vision_layers_and_gates_export(text, convention):
    assert_agrees(symparams.parse(text, convention=convention), convention)


def test_the_code_says_what_it_builds():
    """One line per layer, in each framework's words; the gate a Product / layers.Multiply."""
    text = "I(8,8,4)-[id * (AAP(1)-C(2,1)-relu-C(4,1)-hsigmoid)]-LS-DP(0.1)-GN(2)-hswish-RESCALE(1/255)"
    torch_source = to_torch(symparams.parse(text))
    for line in [
        "self.gate1 = Product(  # [id * (AAP(1)-C(2,1)-relu-C(4,1)-hsigmoid)]: 22 params",
        "nn.Hardsigmoid(),  # hsigmoid",
        "self.scale1 = LayerScale(4, 1, 1)  # LS: 4 params",
        "self.droppath1 = DropPath(0.1)  # DP(0.1)",
        "self.gn1 = nn.GroupNorm(2, 4)  # GN(2): 8 params",
        "self.hswish1 = nn.Hardswish()  # hswish",
        "self.rescale1 = Rescale(1 / 255)  # RESCALE(1/255)",
    ]:
        assert line in torch_source, line
    keras_source = to_keras(symparams.parse(text, convention="keras"))
    for line in [
        'x = layers.Multiply(name="gate1")([inputs, branch_1])',
        'layers.Activation("hard_sigmoid", name="gate1_hsigmoid1")(branch_1)',
        'x = LayerScale(name="scale1")(x)  # LS: 4 params',
        'x = layers.GroupNormalization(groups=2, name="gn1")(x)  # GN(2): 8 params',
        'x = layers.Rescaling(1 / 255, name="rescale1")(x)  # RESCALE(1/255)',
    ]:
        assert line in keras_source, line
    # torch's NORM: buffers, and the comment says so.
    assert "as buffers, 0 parameters" in to_torch(symparams.parse("I(8,8,3)-NORM"))


@pytest.mark.frameworks
def test_a_gate_of_another_rank_broadcasts_from_the_channels():
    """[id * (GAP-H(c)-sigmoid)]: a (c) gate on a (h, w, c) image scales every position, as
    numpy broadcasts the channels-last shapes; in torch's channels-first layout the gate
    must not meet the width. The exported Product computes the same product as symparams'
    rule: x times the gate at every position."""
    import torch

    module = load(to_torch(symparams.parse("I(3,5,4)-[id * (GAP-H(4)-sigmoid)]")), "gated")
    model = module.build().eval()
    x = torch.randn(2, 4, 3, 5)
    gate = model.gate1.branches[1]
    expected = x * gate(x)[:, :, None, None]
    assert torch.allclose(model(x), expected)


@pytest.mark.frameworks
def test_grid_attention_groups_the_pixels_of_one_place_in_every_cell():
    """GridAttention's reordering makes the pixels at one place of every cell a window: a
    grid of 2x2 cells on a 4x4 image, pixel (i, j) and (i+2, j) in one group. Checked by
    attention that only averages (zero q and k): each output is the mean of its group."""
    import torch

    module = load(to_torch(symparams.parse("I(4,4,1)-WMSA(1,win=2,grid=true,pos=none)")), "grid")
    model = module.build().eval()
    with torch.no_grad():
        model.wmsa1.qkv.weight.zero_()
        model.wmsa1.qkv.bias.zero_()
        model.wmsa1.qkv.weight[2, 0] = 1.0  # v = x; q = k = 0: attention averages v
        model.wmsa1.proj.weight.fill_(1.0)
        model.wmsa1.proj.bias.zero_()
        x = torch.arange(16.0).reshape(1, 1, 4, 4)
        y = model(x)[0, 0]
    # Group of (0, 0): (0, 0), (0, 2), (2, 0), (2, 2) -> values 0, 2, 8, 10.
    assert y[0, 0].item() == pytest.approx(5.0)
    assert y[2, 2].item() == pytest.approx(5.0)
    # Group of (1, 1): 5, 7, 13, 15.
    assert y[1, 1].item() == pytest.approx(10.0)


# ---------------------------------------------------------------- random chains and gates
SETTINGS = settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))


def _divisors(c: int) -> list[int]:
    return [g for g in range(1, c + 1) if c % g == 0]


@st.composite
def vision_layer(draw, shape: tuple[int, ...], depth: int = 0) -> str:
    """One shape-keeping layer of layers/vision.py, or a gate `[A * B]`, for `shape`."""
    c, rank = shape[-1], len(shape)
    options = [
        f"DP({draw(st.sampled_from(['0', '0.1', '0.5']))})",
        f"GN({draw(st.sampled_from(_divisors(c)))}{draw(st.sampled_from(['', ',affine=false']))})",
        "LS",
        draw(st.sampled_from(["NORM", "NORM(adapt=false)", "NORM(axis=none)"])),
        draw(st.sampled_from(["PReLU", "PReLU(per=one)", "PReLU(per=channel)", "PReLU(per=element)"])),
        draw(st.sampled_from(["RESCALE(1/255)", "RESCALE(2,offset=-1)"])),
        draw(st.sampled_from(["lrelu", "lrelu(a=0.2)", "hswish", "hsigmoid", "mish"])),
        draw(st.sampled_from(["BN(scale=false)", "BN(center=false)"])),
        "gate",
    ]
    if rank >= 2:
        options.append(draw(st.sampled_from(["IN", "IN(affine=true)", "IN(affine=false)"])))
    choice = draw(st.sampled_from(options))
    if choice != "gate":
        return choice
    act = draw(st.sampled_from(["sigmoid", "hsigmoid"]))
    q = draw(st.integers(1, 4))
    # A non-trivial gate: a squeeze to q and back to c, or a branch of its own.
    gates = [f"(H({q})-relu-H({c})-{act})"] if rank <= 2 else [f"(GAP-H({c})-{act})"]
    if rank == 3:
        gates += [f"(AAP(1)-C({q},1)-relu-C({c},1)-{act})", f"(DW(3,p=1)-{act})"]
    if rank == 2:
        gates.append(f"(FIRST-H({c})-{act})")
    gate = draw(st.sampled_from(gates))
    other = "id"
    if depth < 1 and draw(st.booleans()):  # the other branch: layers of this kind, nested
        inner = draw(st.lists(vision_layer(shape, depth + 1), min_size=1, max_size=2))
        other = "(" + "-".join(inner) + ")"
    return f"[{other} * {gate}]"


@st.composite
def vision_tail(draw, shape: tuple[int, ...]) -> str:
    return "-".join(draw(st.lists(vision_layer(shape), min_size=1, max_size=4)))


@st.composite
def vision_chain(draw) -> str:
    c = draw(st.sampled_from([2, 3, 4, 6]))
    shape = draw(st.sampled_from([(c,), (5, c), (6, 6, c), (4, 4, 4, c)]))
    return "I(" + ",".join(map(str, shape)) + ")-" + draw(vision_tail(shape))


@pytest.mark.frameworks
@SETTINGS
@given(vision_chain())
def test_random_vision_chains_and_gates_export(text):
    for convention in ("torch", "keras"):
        assert_agrees(symparams.parse(text, convention=convention), convention)


def _tail_after(data, text: str) -> str | None:
    """`text` with vision layers and gates appended on its output, or None when its output
    is not a shape they take (empty, or more axes than the frameworks' layers)."""
    shape = tuple(int(x) for x in symparams.parse(text, convention="keras").layers[-1].shape)
    if not 1 <= len(shape) <= 4 or min(shape) < 1:
        return None
    return text + "-" + data.draw(vision_tail(shape), label="vision tail")


@pytest.mark.frameworks
@SETTINGS
@given(st.data(), st.sampled_from(["torch", "keras"]))
def test_random_chains_with_vision_tails_export(data, drawn_for):
    """The chains test_random_chains draws, then layers of vision.py and gates on their output."""
    from frameworks import chain_text
    from test_random_chains import grow_chain

    input_shape, specs = grow_chain(data, drawn_for)
    text = _tail_after(data, chain_text(input_shape, specs))
    if text is None:
        return
    assert_agrees_where_valid(text)


@pytest.mark.frameworks
@SETTINGS
@given(st.data())
def test_random_nestings_with_gates_export(data):
    """The nestings test_composition_frameworks draws, with gates inside them (a relu made
    gated: a (1, 1, 1) or a (1) gate broadcasts over any channels) and vision layers and
    gates on their output."""
    from composition_models import text_of
    from test_composition_frameworks import model

    c, h, tree = data.draw(model(max_depth=2))
    gates = [
        "relu",
        "[id * (AAP(1)-C(1,1)-hsigmoid)]",
        "[id * (GAP-H(1)-sigmoid)]",
        "[relu * (AAP(1)-C(2,1)-relu-C(1,1)-sigmoid)]",
    ]
    gated = re.sub(
        r"\brelu\b", lambda _: data.draw(st.sampled_from(gates), label="gate"), text_of(c, h, tree)
    )
    text = _tail_after(data, gated)
    if text is None:
        return
    for convention in ("torch", "keras"):
        assert_agrees(symparams.parse(text, convention=convention), convention)


# ---------------------------------------------------------------- the vision zoo
zoo = pytest.mark.zoo


def _zoo(name, text, reference=None, keras=False, ci=False, size=(224, 224)):
    marks = [pytest.mark.frameworks] + ([] if ci else [zoo])
    return pytest.param(
        text, reference, size, keras, id=f"{name}-{'keras' if keras else 'torch'}", marks=marks
    )


# (text, torchvision name to compare the export's count with, input size, keras?)
ZOO = [
    *[_zoo(f"efficientnet_{v}", lambda v=v: V.efficientnet_text(v), f"efficientnet_{v}", ci=v == "b0")
      for v in ("b0", "b1")],
    _zoo("efficientnet_v2_s", lambda: V.efficientnet_text("v2_s"), "efficientnet_v2_s"),
    _zoo("mobilenet_v3_small", lambda: V.mobilenet_v3_text("small"), "mobilenet_v3_small", ci=True),
    _zoo("mobilenet_v3_large", lambda: V.mobilenet_v3_text("large"), "mobilenet_v3_large"),
    _zoo("convnext_tiny", lambda: V.convnext_text("tiny"), "convnext_tiny", ci=True),
    _zoo("regnet_y_400mf", lambda: V.regnet_text("y_400mf"), "regnet_y_400mf", ci=True),
    _zoo("regnet_x_400mf", lambda: V.regnet_text("x_400mf"), "regnet_x_400mf", ci=True),
    _zoo("regnet_y_800mf", lambda: V.regnet_text("y_800mf"), "regnet_y_800mf"),
    _zoo("swin_t", lambda: Z.swin("t"), "swin_t", ci=True),
    _zoo("swin_v2_t", lambda: Z.swin("t", True), "swin_v2_t", ci=True, size=(256, 256)),
    _zoo("shufflenet_v2_x0_5", lambda: Z.shufflenet_v2("x0_5"), "shufflenet_v2_x0_5", ci=True),
    _zoo("shufflenet_v2_x1_0", lambda: Z.shufflenet_v2("x1_0"), "shufflenet_v2_x1_0"),
    _zoo("maxvit_t", Z.maxvit_t, "maxvit_t", ci=True),
    # Keras's texts: EfficientNet after its Rescaling and adapted Normalization, MobileNetV3
    # after its Rescaling, ConvNeXt after its fixed Normalization.
    _zoo("EfficientNetB0", lambda: V.efficientnet_text("b0", keras=True), keras=True, ci=True),
    _zoo("EfficientNetV2B0", lambda: V.keras_efficientnet_v2b_text("B0"), keras=True, ci=True),
    _zoo("MobileNetV3Small", lambda: V.mobilenet_v3_text("small", keras=True), keras=True, ci=True),
    _zoo("MobileNetV3Large", lambda: V.mobilenet_v3_text("large", keras=True), keras=True),
    _zoo("ConvNeXtTiny", lambda: V.convnext_text("tiny", keras=True), keras=True, ci=True),
]  # fmt: skip


@pytest.mark.parametrize("text, reference, size, keras", ZOO)
def test_vision_zoo_exports_and_checks(text, reference, size, keras):
    """The smallest model of each vision family (the rest with -m zoo) exported, built and
    checked row by row; in torch also its count against the real torchvision model's."""
    framework = "keras" if keras else "torch"
    net = symparams.parse(text(), convention=framework)
    result = check(net, framework)
    assert result.agrees, f"{net.text}\n{check_text(result)}"
    assert result.framework_params == net.params and len(result.rows) == len(net.layers) - 1
    if reference is not None:
        assert result.framework_params == V.torch_reference(reference, size)["params"]


def test_a_form_no_exporter_writes_is_still_refused_by_name():
    """The refusal stays: a layer without an exporter is named, never dropped."""
    from symparams.export import keras_code, torch_code

    saved_torch, saved_keras = torch_code.TORCH.pop("LS"), keras_code.KERAS.pop("LS")
    try:
        with pytest.raises(ExportError, match="no PyTorch exporter for the layer LS"):
            to_torch(symparams.parse("I(4,4,3)-LS"))
        with pytest.raises(ExportError, match="no Keras exporter for the layer LS"):
            to_keras(symparams.parse("I(4,4,3)-LS", convention="keras"))
    finally:
        torch_code.TORCH["LS"], keras_code.KERAS["LS"] = saved_torch, saved_keras


def test_the_exported_vision_modules_pass_ruff(tmp_path):
    """The helper modules and layers written here read like hand-written code: ruff passes."""
    import importlib.util
    import subprocess
    import sys

    ruff = [sys.executable, "-m", "ruff"] if importlib.util.find_spec("ruff") else ["ruff"]
    texts = VISION_CASES + [Z.maxvit_t(), V.efficientnet_text("b0", keras=True)]
    for i, text in enumerate(texts):
        (tmp_path / f"case{i}_torch.py").write_text(to_torch(symparams.parse(text)))
        (tmp_path / f"case{i}_keras.py").write_text(to_keras(symparams.parse(text, convention="keras")))
    done = subprocess.run(
        ruff + ["check", "--no-cache", "--isolated", "--line-length", "110", str(tmp_path)],
        check=False,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr
