"""TB's plain MLP takes any activation; PyTorch's encoder layer (relu) counts the same."""

import pytest

import symparams


@pytest.mark.parametrize("norm_first", [True, False])
@pytest.mark.parametrize("d, heads, ff", [(64, 4, 256), (96, 8, 200)])
def test_tb_with_relu_equals_torch_encoder_layer(norm_first, d, heads, ff):
    from torch import nn

    layer = nn.TransformerEncoderLayer(d, heads, ff, batch_first=True, norm_first=norm_first)
    expected = sum(p.numel() for p in layer.parameters())
    net = symparams.parse(f"I(7,{d})-TB({heads},{ff},mlp=relu)")
    assert net.params == expected
    assert net.output_shape == (7, d)


def test_activation_is_written_in_the_unfolded_block():
    net = symparams.parse("I(7,64)-TB(4,256,mlp=silu)")
    kinds = [row.kind for row in net.walk()]
    assert "SiLU" in kinds and "GELU" not in kinds
    assert net.params == symparams.parse("I(7,64)-TB(4,256)").params
