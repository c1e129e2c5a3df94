"""Every layer and option of the core, checked against the real PyTorch module."""

import pytest
from frameworks import LAYER_CASES, case_id, check_torch

pytestmark = pytest.mark.frameworks

TORCH_CASES = [case for case in LAYER_CASES if "t" in case[2]]


@pytest.mark.parametrize("case", TORCH_CASES, ids=case_id)
def test_layer_matches_torch(case):
    shape, specs, _ = case
    check_torch(shape, specs)


def _torch_length(module, x: int) -> int | None:
    import torch

    try:
        with torch.no_grad():
            return int(module(torch.zeros(1, 1, x)).shape[-1])
    except RuntimeError:
        return None


def _symparams_length(text: str) -> int | None:
    import symparams

    try:
        return int(symparams.parse(text).shape[0])
    except symparams.ShapeError:
        return None


def test_pool_lengths_on_a_grid_equal_torch():
    """Every small case of 1D max/avg pooling, floor and ceil mode: same length, or both refuse."""
    from torch import nn

    for f in range(1, 5):
        for s in range(1, 5):
            for p in range(f // 2 + 1):  # torch allows pad <= f/2
                for ceil in (False, True):
                    for pool in (nn.MaxPool1d(f, s, p, ceil_mode=ceil), nn.AvgPool1d(f, s, p, ceil_mode=ceil)):
                        short = "P" if isinstance(pool, nn.MaxPool1d) else "A"
                        for x in range(1, 11):
                            text = f"I({x},1)-{short}({f},s={s},p={p},ceil={'true' if ceil else 'false'})"
                            assert _symparams_length(text) == _torch_length(pool, x), text


def test_conv_and_transposed_lengths_on_a_grid_equal_torch():
    from torch import nn

    for f in range(1, 5):
        for s in range(1, 4):
            for d in range(1, 3):
                for p in range(3):
                    conv = nn.Conv1d(1, 1, f, s, p, d)
                    for x in range(1, 9):
                        assert _symparams_length(f"I({x},1)-C(1,{f},s={s},p={p},d={d})") == _torch_length(conv, x)
                    for op in range(max(s, d)):  # torch: output padding below stride or dilation
                        up = nn.ConvTranspose1d(1, 1, f, s, p, op, dilation=d)
                        for x in range(1, 6):
                            text = f"I({x},1)-T(1,{f},s={s},p={p},op={op},d={d})"
                            assert _symparams_length(text) == _torch_length(up, x), text


def test_long_aliases_build_the_same_network_as_short_names():
    import symparams

    short = "I(13,11,6)-Z(1)-C(12,3,g=2)-BN-relu-DW(3,m=2)-SC(8,3,p=same)-T(4,2,s=2)-P(2)-A(2,s=1)-AAP(2)-GMP-LN-RMS-D(0.5)-H(5)-O(3)"
    long = ("Input(13,11,6)-ZeroPad(1)-Conv(12,3,g=2)-BatchNorm-relu-DepthwiseConv(3,m=2)-SeparableConv(8,3,p=same)"
            "-ConvT(4,2,s=2)-MaxPool(2)-AvgPool(2,s=1)-AdaptiveAvgPool(2)-GlobalMaxPool-LayerNorm-RMSNorm"
            "-Dropout(0.5)-Dense(5)-Output(3)")
    for convention in ("torch", "keras"):
        a, b = symparams.parse(short, convention=convention), symparams.parse(long, convention=convention)
        assert [r.kind for r in a.layers] == [r.kind for r in b.layers]
        assert [r.shape for r in a.layers] == [r.shape for r in b.layers]
        assert (a.params, a.trainable, a.non_trainable) == (b.params, b.trainable, b.non_trainable)
    assert symparams.parse("I(9,9,2)-AdaptiveMaxPool(3)-GlobalAvgPool-Flatten").shape == (2,)
