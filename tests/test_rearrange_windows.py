"""The channel, pixel and window layers (symparams/layers/rearrange.py, windows.py) against
the real torch / torchvision modules: parameters, output shape (a CPU forward pass), and MACs = FlopCounterMode's FLOPs / 2 on meta."""

import sys
import types

import pytest

import symparams

pytestmark = pytest.mark.frameworks


def _tv():
    # torchvision's wheel registers fake kernels for another torch; the models need none.
    sys.modules.setdefault(
        "torchvision._meta_registrations", types.ModuleType("torchvision._meta_registrations")
    )
    import torchvision

    return torchvision


def _params(module) -> int:
    return sum(p.numel() for p in module.parameters())


def _flops(module, x) -> int:
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    module = module.to("meta")
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        module(x.to("meta"))
    return counter.get_total_flops()


WINDOW_CASES = [
    # (h, w, c, heads, win, shift, v2, bias)
    (56, 56, 96, 3, 7, 0, False, True),
    (56, 56, 96, 3, 7, 3, False, True),
    (13, 17, 32, 4, 7, 3, False, True),  # padded to 14×21
    (3, 4, 16, 2, 7, 3, False, True),  # window larger than the image: padded to 7×7, shift dropped
    (1, 1, 8, 1, 7, 3, False, False),
    (16, 16, 48, 3, 8, 4, True, True),
    (9, 30, 24, 6, 8, 4, True, True),
    (5, 6, 16, 2, (3, 4), (1, 2), False, True),
    (5, 6, 16, 2, (3, 4), (1, 2), True, False),
]


@pytest.mark.parametrize("case", WINDOW_CASES, ids=str)
def test_window_attention_matches_torchvision(case):
    import torch

    h, w, c, heads, win, shift, v2, bias = case
    swin = _tv().models.swin_transformer
    cls = swin.ShiftedWindowAttentionV2 if v2 else swin.ShiftedWindowAttention
    wins = list(win) if isinstance(win, tuple) else [win, win]
    shifts = list(shift) if isinstance(shift, tuple) else [shift, shift]
    module = cls(c, wins, shifts, heads, qkv_bias=bias, proj_bias=bias).eval()
    with torch.no_grad():
        out = module(torch.zeros(1, h, w, c))
    text = f"I({h},{w},{c})-WMSA({heads},win={_t(win)},shift={_t(shift)},pos={'cpb' if v2 else 'table'},bias={str(bias).lower()})"
    net = symparams.parse(text)
    assert net.params == _params(module), text
    assert tuple(out.shape[1:]) == (h, w, c)
    assert net.output_shape == (c, h, w)
    assert 2 * net.macs == _flops(module, torch.zeros(1, h, w, c)), text


def _t(v):
    return f"({v[0]},{v[1]})" if isinstance(v, tuple) else str(v)


def test_window_attention_without_table_and_unpadded():
    net = symparams.parse("I(14,21,32)-WMSA(4,pos=none,pad=false)")
    assert net.params == 4 * 32 * 32 + 4 * 32
    with pytest.raises(symparams.ShapeError, match="divisible by the window 7"):
        symparams.parse("I(14,20,32)-WMSA(4,pad=false)")
    with pytest.raises(symparams.ShapeError, match="larger than the image"):
        symparams.parse("I(14,5,32)-WMSA(4,pad=false)")
    sym = symparams.parse("I(h,w,32)-WMSA(4,pad=false)")
    assert {str(c) for c in sym.conditions} == {"Eq(Mod(h, 7), 0)", "Eq(Mod(w, 7), 0)"}
    with pytest.raises(symparams.ShapeError, match="divisible by heads=5"):
        symparams.parse("I(14,14,32)-WMSA(5)")
    with pytest.raises(symparams.ShapeError, match="shift < win"):
        symparams.parse("I(14,14,32)-WMSA(4,shift=7)")
    with pytest.raises(symparams.ShapeError, match=r"needs an image"):
        symparams.parse("I(14,32)-WMSA(4)")


@pytest.mark.parametrize(
    "h, w, c, v2", [(56, 56, 96, False), (7, 9, 24, False), (1, 1, 8, True), (5, 4, 16, True)]
)
def test_patch_merging_matches_torchvision(h, w, c, v2):
    import torch

    swin = _tv().models.swin_transformer
    module = (swin.PatchMergingV2 if v2 else swin.PatchMerging)(c).eval()
    with torch.no_grad():
        out = module(torch.zeros(1, h, w, c))
    net = symparams.parse(f"I({h},{w},{c})-PM(v2={str(v2).lower()})")
    assert net.params == _params(module)
    assert (net.output_shape[1], net.output_shape[2], net.output_shape[0]) == tuple(out.shape[1:])
    assert 2 * net.macs == _flops(module, torch.zeros(1, h, w, c))


def test_pixel_shuffle_unshuffle_upsample_resize_match_torch():
    import torch
    from torch import nn
    from torch.nn import functional as F

    x = torch.zeros(1, 12, 6, 10)  # [c, h, w]
    cases = [
        ("S2D(2)", nn.PixelUnshuffle(2)),
        ("D2S(2)", nn.PixelShuffle(2)),
        ("UP(3)", nn.Upsample(scale_factor=3)),
        ("UP((2,3))", nn.Upsample(scale_factor=(2, 3))),
        ("RS((5,7))", lambda t: F.interpolate(t, size=(5, 7), mode="bilinear")),
        ("CHUNK(3,2)", lambda t: t.chunk(3, dim=1)[2]),
        ("CH(2,7)", lambda t: t[:, 2:7]),
        ("SHUF(4)", lambda t: _tv().models.shufflenetv2.channel_shuffle(t, 4)),
        # diffusers' Transformer2DModel: [c, h, w] → (h·w, c) tokens and back
        ("SEQ-UNSEQ", lambda t: t.permute(0, 2, 3, 1).reshape(1, 60, 12).reshape(1, 6, 10, 12).permute(0, 3, 1, 2)),
    ]
    for text, fn in cases:
        net = symparams.parse(f"I(6,10,12)-{text}")
        assert net.output_shape == tuple(fn(x).shape[1:]), text
        assert net.params == 0 and net.macs == 0
    # Swin's padding merge = space-to-depth with padding
    pad = _tv().models.swin_transformer._patch_merging_pad(torch.zeros(1, 7, 9, 5))
    net = symparams.parse("I(7,9,5)-S2D(2,pad=true)")
    assert net.output_shape == (pad.shape[3], pad.shape[1], pad.shape[2])


@pytest.mark.parametrize(
    "text, message",
    [
        ("I(6,10,12)-S2D(4)", "divisible by r=4"),
        ("I(6,10,12)-D2S(3)", "divisible by r\\^2 = 9"),
        ("I(6,10,12)-CHUNK(5,0)", "divisible by n=5"),
        ("I(6,10,12)-CHUNK(3,3)", "i < n"),
        ("I(6,10,12)-CH(6,13)", "past the input's 12 channels"),
        ("I(6,10,12)-CH(6,6)", "a < b"),
        ("I(6,10,12)-SHUF(5)", "divisible by g=5"),
        ("I(6)-UP(2)", "spatial axes"),
    ],
)
def test_bad_channel_and_pixel_moves_are_refused_with_a_caret(text, message):
    with pytest.raises(symparams.ShapeError, match=message) as err:
        symparams.parse(text)
    assert err.value.pos == len("I(6,10,12)-") or text.startswith("I(6)")


def test_symbolic_slices_are_conditions():
    net = symparams.parse("I(h,w,c)-[CH(0,k) | CH(k,c)-C(k,1)]")
    assert net.output_shape == (
        2 * k_(),
        symparams.parse("I").output_shape[1],
        symparams.parse("I").output_shape[2],
    )
    assert "k <= c" in {str(c) for c in net.conditions} or "c >= k" in {str(c) for c in net.conditions}


def k_():
    from symparams.base.expr import symbol

    return symbol("k")


@pytest.mark.parametrize("h, w, c", [(14, 21, 64), (7, 7, 32), (28, 28, 96), (28, 14, 96)])
def test_maxvit_attention_is_unpadded_window_attention(h, w, c):
    """MaxViT's RelativePositionalMultiHeadAttention (head width 32, 7×7 partitions) on the
    h·w/49 windows of an image is WMSA(c/32, pad=false); its PartitionAttentionLayer
    (window or grid) is that attention and an MLP, both pre-norm residuals."""
    import torch
    from torch import nn

    mv = _tv().models.maxvit
    attn = mv.RelativePositionalMultiHeadAttention(c, 32, 49)
    text = f"I({h},{w},{c})-WMSA({c // 32},pad=false)"
    net = symparams.parse(text)
    assert net.params == _params(attn)
    x = torch.zeros(1, h * w // 49, 49, c)  # [B, G, P, D]
    assert 2 * net.macs == _flops(attn, x)
    # torchvision sizes MaxViT's grid from the height alone, so its grid attention works on
    # square maps only; the window one on any multiple of 7.
    for kind in ("window", "grid") if h == w else ("window",):
        layer = mv.PartitionAttentionLayer(
            c, 32, 7, kind, (h, w), 4, nn.GELU, nn.LayerNorm, 0.0, 0.0, 0.0
        ).eval()
        grid = "true" if kind == "grid" else "false"
        block = f"I({h},{w},{c})-[LN-WMSA({c // 32},pad=false,grid={grid}) + id]-[LN-C({4 * c},1)-gelu-C({c},1) + id]"
        net = symparams.parse(block)
        with torch.no_grad():
            out = layer(torch.zeros(1, c, h, w))
        assert net.params == _params(layer)
        assert net.output_shape == tuple(out.shape[1:])
    with pytest.raises(symparams.ShapeError, match=r"divisible by the window 7 \(grid\)"):
        symparams.parse(f"I(15,14,{c})-WMSA(1,grid=true)")


def test_upsampling_and_resizing_match_keras():
    import keras

    for text, layer in [
        ("UP(2)", keras.layers.UpSampling2D(2)),
        ("UP((3,1))", keras.layers.UpSampling2D((3, 1))),
        ("RS((5,7))", keras.layers.Resizing(5, 7)),
    ]:
        model = keras.Sequential([keras.Input((6, 10, 12)), layer])
        net = symparams.parse(f"I(6,10,12)-{text}", convention="keras")
        assert net.output_shape == tuple(model.output_shape[1:]), text
        assert net.params == model.count_params() == 0


@pytest.mark.parametrize("which", ["swin_t", "swin_v2_t", "shufflenet_v2"])
def test_symbolic_backbones_sweep_solve_and_ideal(which):
    """The new layers stay symbolic: a sweep over h and the numeric builds agree on params,
    MACs and validity; solve finds the smallest h giving an output axis; ideal mode builds."""
    import zoo_texts as Z

    text = {
        "swin_t": lambda: Z.swin("t", size=("h", "w"), backbone=True),
        "swin_v2_t": lambda: Z.swin("t", v2=True, size=("h", "w"), backbone=True),
        "shufflenet_v2": lambda: Z.shufflenet_v2("x1_0", size=("h", "w"), backbone=True),
    }[which]()
    net = symparams.parse(text)
    hs = [1, 3, 4, 29, 97, 224]
    grid = net.sweep({"h": hs}, targets=("params", "macs"), values={"w": 131})
    for i, h in enumerate(hs):
        try:
            fixed = symparams.parse(text.replace("I(h,w,3)", f"I({h},131,3)"))
        except symparams.ShapeError:
            assert not grid.valid[i], h
            continue
        assert grid.valid[i], h
        assert int(grid.totals["params"][i]) == fixed.params
        assert int(grid.totals["macs"][i]) == fixed.macs
    answer = net.solve("h", 7, target="axis:h", how="min", values={"w": 224})
    assert answer.values == (
        ({"swin_t": 196, "swin_v2_t": 196}.get(which, 193), 224 if which == "shufflenet_v2" else 227),
    )
    # Swin: ⌈⌈⌈⌊h/4⌋/2⌉/2⌉/2⌉ = ⌊h/32 + 7/8⌋ = 7 for h in 196..227; ShuffleNet: ⌈h/32⌉ = 7 for 193..224
    ideal = symparams.parse(text, mode="ideal")
    assert ideal.params == net.params
