"""examples/sd15_unet.arch, the Stable Diffusion 1.5 UNet written as a graph, against
diffusers' UNet2DConditionModel built on the meta device from the config of the checkpoint
runwayml/stable-diffusion-v1-5 (unet/config.json, written out below: nothing is
downloaded): parameters in total, per top-level block and per named tensor, output shapes
and MACs (FlopCounterMode on meta) at several latent sizes and text lengths, and the
symbolic text in (h, w, s). Also the layers it needs: XADD (a named vector added at every
position, projected), UNSEQ (SEQ's inverse) and RS(like=tensor)."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import pytest

import symparams

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "sd15_unet.arch"
TEXT = EXAMPLE.read_text(encoding="utf-8")
# The same network with a symbolic latent (h, w) and text length s.
SYMBOLIC = TEXT.replace("I(64,64,4)", "I(h,w,4)").replace("I(77,768)", "I(s,768)")

# runwayml/stable-diffusion-v1-5, unet/config.json (the keys that differ from diffusers'
# defaults, and the ones the issue names).
SD15_UNET_CONFIG = dict(
    sample_size=64,
    in_channels=4,
    out_channels=4,
    center_input_sample=False,
    flip_sin_to_cos=True,
    freq_shift=0,
    down_block_types=["CrossAttnDownBlock2D"] * 3 + ["DownBlock2D"],
    up_block_types=["UpBlock2D"] + ["CrossAttnUpBlock2D"] * 3,
    block_out_channels=[320, 640, 1280, 1280],
    layers_per_block=2,
    downsample_padding=1,
    mid_block_scale_factor=1,
    act_fn="silu",
    norm_num_groups=32,
    norm_eps=1e-5,
    cross_attention_dim=768,
    attention_head_dim=8,
)
PUBLISHED = 859_520_964


def _params(module) -> int:
    return sum(p.numel() for p in module.parameters())


@pytest.fixture(scope="module")
def unet():
    pytest.importorskip("diffusers", reason="diffusers is not installed (pip install diffusers: the test extra)")
    sys.modules.setdefault("torchvision._meta_registrations", types.ModuleType("torchvision._meta_registrations"))
    import torch
    from diffusers import UNet2DConditionModel

    with torch.device("meta"):
        return UNet2DConditionModel(**SD15_UNET_CONFIG).eval()


def _run(unet, h: int, w: int, s: int):
    """The output shape and the MACs (FlopCounterMode's FLOPs / 2) of one forward pass on meta."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    sample = torch.zeros(1, 4, h, w, device="meta")
    context = torch.zeros(1, s, 768, device="meta")
    timestep = torch.tensor(1, device="meta")
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        shape = tuple(unet(sample, timestep, context).sample.shape[1:])
    flops = counter.get_total_flops()
    assert flops % 2 == 0
    return shape, flops // 2


@pytest.mark.frameworks
def test_sd15_unet_parameters_match_diffusers_in_total_and_per_block(unet):
    net = symparams.parse(TEXT)
    assert _params(unet) == net.params == PUBLISHED
    assert net.trainable == PUBLISHED and net.non_trainable == 0
    assert net.conditions == ()
    sub = net.subtotal
    # The top-level modules of UNet2DConditionModel (time_proj and conv_act have none).
    blocks = {
        "conv_in": sub("x0"),
        "time_embedding": sub("temb"),
        "down_blocks.0": sub("x1") + sub("x2") + sub("x3"),
        "down_blocks.1": sub("x4") + sub("x5") + sub("x6"),
        "down_blocks.2": sub("x7") + sub("x8") + sub("x9"),
        "down_blocks.3": sub("x10") + sub("x11"),
        "mid_block": sub("mid"),
        **{f"up_blocks.{j}": sub(f"up{j}") for j in range(4)},
        "conv_norm_out + conv_out": sub("output"),
    }
    real = {
        "conv_in": _params(unet.conv_in),
        "time_embedding": _params(unet.time_embedding),
        **{f"down_blocks.{i}": _params(b) for i, b in enumerate(unet.down_blocks)},
        "mid_block": _params(unet.mid_block),
        **{f"up_blocks.{j}": _params(b) for j, b in enumerate(unet.up_blocks)},
        "conv_norm_out + conv_out": _params(unet.conv_norm_out) + _params(unet.conv_out),
    }
    assert blocks == real
    assert sub("text") == 0 and sum(blocks.values()) == PUBLISHED
    # Finer: each named tensor of a down block is one resnet (and its transformer), or the
    # downsampler.
    for i, block in enumerate(unet.down_blocks):
        attentions = getattr(block, "attentions", [None, None])
        for j in range(2):
            real_layer = _params(block.resnets[j]) + (_params(attentions[j]) if attentions[j] is not None else 0)
            assert sub(f"x{3 * i + j + 1}") == real_layer, (i, j)
        if block.downsamplers is not None:
            assert sub(f"x{3 * i + 3}") == _params(block.downsamplers)


@pytest.mark.frameworks
@pytest.mark.parametrize(
    "h, w, s",
    [
        (64, 64, 77),  # SD 1.5's 512 x 512 images
        (40, 56, 77),  # odd multiples of 8 (320 x 448 images)
        (33, 47, 12),  # no multiple of 8: the up blocks resize to the skip's size
        (1, 3, 1),
    ],
)
def test_sd15_unet_shapes_and_macs_match_diffusers(unet, h, w, s):
    shape, macs = _run(unet, h, w, s)
    net = symparams.parse(SYMBOLIC).subs(h=h, w=w, s=s)
    assert net.output_shape == shape == (4, h, w)
    assert net.macs == macs
    assert net.params == PUBLISHED
    if (h, w, s) == (64, 64, 77):
        assert symparams.parse(TEXT).macs == macs == 401_636_720_640


def test_sd15_unet_symbolic_latent_and_text_length():
    from symparams.base.expr import symbol

    net = symparams.parse(SYMBOLIC)
    h, w, s = symbol("h"), symbol("w"), symbol("s")
    assert net.params == PUBLISHED  # the parameters depend on no size
    assert net.output_shape == (4, h, w)
    # Every size works: stride-2 convs with padding 1 give ceil(x/2), RS(like=skip) resizes
    # back to the skip's size, attention takes any number of tokens.
    assert net.conditions == ()
    assert net.macs.free_symbols == {h, w, s}
    assert net.tensor_shape("x9") == (
        symparams.parse("I(h,w,4)-C(4,3,s=2,p=1)-C(4,3,s=2,p=1)-C(4,3,s=2,p=1)").layers[-1].shape[:-1] + (1280,)
    )
    # The UP(2) spelling of the upsamplers (what diffusers does at multiples of 8) holds
    # only when the doubled size meets the skip's: conditions on h and w.
    doubled = SYMBOLIC.replace("up(c, skip) = RS(like=skip)-C(c,3,p=1)", "up(c, skip) = UP(2)-C(c,3,p=1)")
    assert doubled != SYMBOLIC
    up2 = symparams.parse(doubled)
    assert up2.params == PUBLISHED and up2.conditions
    ok = [x for x in range(1, 50) if all(bool(c.subs({h: x, w: 8})) for c in up2.conditions)]
    assert ok == [8, 16, 24, 32, 40, 48]


# ---------------------------------------------------------------- the layers the UNet uses
def test_xadd_is_a_projected_vector_added_at_every_position():
    import torch
    from torch import nn

    net = symparams.parse("t := I(1280); I(8,6,320)-XADD(memory=t, act=silu)")
    proj = nn.Linear(1280, 320)
    x, temb = torch.zeros(1, 320, 8, 6), torch.zeros(1, 1280)
    out = x + proj(nn.functional.silu(temb))[:, :, None, None]
    assert net.params == _params(proj) == 409_920
    assert net.output_shape == tuple(out.shape[1:])
    assert net.macs == 1280 * 320
    assert symparams.parse("t := I(16); I(5,16)-XADD(memory=t, bias=false)").params == 256
    plain = symparams.parse("t := I(16); I(4,4,16)-XADD(memory=t, proj=false)")
    assert (plain.params, plain.output_shape) == (0, (16, 4, 4))
    sym = symparams.parse("t := I(m); I(h,w,c)-XADD(memory=t)")
    assert str(sym.params) == "c*m + c"
    assert [str(c) for c in symparams.parse("t := I(m); I(h,w,c)-XADD(memory=t,proj=false)").conditions] == [
        "Eq(m, c)"
    ]


def test_unseq_restores_the_spatial_axes_of_seq():
    net = symparams.parse("I(5,7,8)-SEQ-LN-H(12)-UNSEQ")
    assert net.output_shape == (12, 5, 7)
    assert symparams.parse("I(4,5,6,8)-SEQ-UNSEQ").output_shape == (8, 4, 5, 6)
    # The nearest SEQ before it: two in a row, each undone.
    assert symparams.parse("I(5,7,8)-SEQ-UNSEQ-C(4,3)-SEQ-UNSEQ").output_shape == (4, 3, 5)


@pytest.mark.parametrize(
    "text, message",
    [
        ("I(5,7,8)-SEQ-CLS-UNSEQ", "reshapes 36 positions back .* which has 35"),
        ("I(5,8)-UNSEQ", "a SEQ before it, and there is none"),
        ("I(5,7,8)-UNSEQ", r"reshapes a sequence \(t, c\) back to an image"),
        ("t := I(7); I(8,8,32)-XADD(memory=t,proj=false)", "needs its width 7 = the channels 32"),
        ("t := I(7,3); I(8,8,32)-XADD(memory=t)", r"adds a vector \(m\)"),
        ("I(7,9,3)-RS", "takes a size or like=a tensor"),
        ("s := I(4,4,3); I(7,9,3)-RS((2,2),like=s)", "takes a size or like=a tensor"),
        ("s := I(4); I(7,9,3)-RS(like=s)", "every spatial axis from 'like'"),
    ],
)
def test_bad_uses_are_refused_with_a_caret(text, message):
    with pytest.raises(symparams.ShapeError, match=message) as err:
        symparams.parse(text)
    last = text.rsplit("-", 1)[1]
    assert err.value.pos == text.rindex(last)


def test_resize_like_a_tensor_matches_interpolate_to_its_size():
    import torch
    from torch.nn import functional as F

    skip = torch.zeros(1, 8, 33, 47)
    small = torch.zeros(1, 8, 17, 24)
    net = symparams.parse("s := I(33,47,8); s-C(8,3,s=2,p=1)-RS(like=s)")
    assert symparams.parse("I(33,47,8)-C(8,3,s=2,p=1)").output_shape == tuple(small.shape[1:])
    assert net.output_shape == tuple(F.interpolate(small, size=skip.shape[2:], mode="nearest").shape[1:])
    assert net.macs == symparams.parse("I(33,47,8)-C(8,3,s=2,p=1)").macs  # the resize counts none
