"""Sequence layers and transformer blocks against the real PyTorch modules.

Each test builds the module PyTorch users write (nn.LSTM, nn.MultiheadAttention,
nn.TransformerEncoderLayer, ...) or a hand-written one where PyTorch has none (grouped-query
attention, a LLaMA block), and compares sum(p.numel()), the output shape of a forward
pass, and, for single modules, torchinfo's Mult-Adds, with what symparams computes.
"""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import symparams

from flop_tools import meta_macs

pytestmark = pytest.mark.frameworks

FEW = settings(max_examples=12, deadline=None)
widths = st.integers(1, 24)
lengths = st.integers(1, 9)


def numel(module) -> int:
    return sum(p.numel() for p in module.parameters())


def torch_macs(module, *x) -> int:
    """Half of FlopCounterMode's FLOPs of the module on the meta device, for one sample."""
    return meta_macs(module, *x)


def net_row(text: str, convention: str = "torch"):
    net = symparams.parse(text, convention=convention)
    return net, net.layers[-1]


def word(flag: bool) -> str:
    return "true" if flag else "false"


# ---------------------------------------------------------------- recurrent layers
RECURRENT = {"R": "RNN", "L": "LSTM", "G": "GRU"}


@FEW
@given(kind=st.sampled_from(sorted(RECURRENT)), t=lengths, c=widths, n=widths, seq=st.booleans(),
       bi=st.booleans(), bias=st.booleans())
def test_recurrent_layers_match_torch(kind, t, c, n, seq, bi, bias):
    import torch
    from torch import nn

    module = getattr(nn, RECURRENT[kind])(c, n, batch_first=True, bidirectional=bi, bias=bias)
    x = torch.zeros(1, t, c)
    out, _ = module(x)
    expected_shape = tuple(out.shape[1:]) if seq else tuple(out[:, -1].shape[1:])
    net, row = net_row(f"I({t},{c})-{kind}({n},seq={word(seq)},bi={word(bi)},bias={word(bias)})")
    assert net.params == numel(module)
    assert net.output_shape == expected_shape
    assert row.macs == torch_macs(module, x)


def test_gru_reset_after_changes_nothing_under_torch():
    from torch import nn

    for reset_after in ("true", "false"):
        assert symparams.parse(f"I(5,7)-G(11,reset_after={reset_after})").params == numel(nn.GRU(7, 11))


# ---------------------------------------------------------------- embeddings and tokens
@FEW
@given(t=lengths, v=st.integers(1, 60), d=widths, m=st.integers(0, 5))
def test_embedding_and_learned_positions_match_torch(t, v, d, m):
    import torch
    from torch import nn

    class TokensAndPositions(nn.Module):  # GPT-2's wte + wpe
        def __init__(self) -> None:
            super().__init__()
            self.tokens = nn.Embedding(v, d)
            self.positions = nn.Parameter(torch.zeros(t + m, d))

        def forward(self, ids):
            return self.tokens(ids) + self.positions[: ids.shape[1]]

    module = TokensAndPositions()
    ids = torch.zeros(1, t, dtype=torch.long)
    net = symparams.parse(f"I({t})-E({v},{d})-PE({t + m})")
    assert net.params == numel(module)
    assert net.output_shape == tuple(module(ids).shape[1:])
    assert net.layers[1].macs == torch_macs(module.tokens, ids) == 0


@FEW
@given(t=lengths, c=widths)
def test_class_token_and_first_token_match_torch(t, c):
    import torch
    from torch import nn

    class ClassTokenHead(nn.Module):  # torchvision's VisionTransformer: class_token, then x[:, 0]
        def __init__(self) -> None:
            super().__init__()
            self.class_token = nn.Parameter(torch.zeros(1, 1, c))

        def forward(self, x):
            x = torch.cat([self.class_token.expand(x.shape[0], -1, -1), x], dim=1)
            return x, x[:, 0]

    module = ClassTokenHead()
    with_token, first = module(torch.zeros(1, t, c))
    net = symparams.parse(f"I({t},{c})-CLS-FIRST")
    assert net.params == numel(module)
    assert net.layers[1].output_shape == tuple(with_token.shape[1:])
    assert net.output_shape == tuple(first.shape[1:])


# ---------------------------------------------------------------- attention
@FEW
@given(t=lengths, h=st.integers(1, 6), k=st.integers(1, 6), bias=st.booleans())
def test_multi_head_attention_matches_torch(t, h, k, bias):
    import torch
    from torch import nn

    c = h * k  # nn.MultiheadAttention needs embed_dim divisible by num_heads
    module = nn.MultiheadAttention(c, h, bias=bias, batch_first=True)
    x = torch.zeros(1, t, c)
    out, _ = module(x, x, x)
    net, row = net_row(f"I({t},{c})-MHA({h},bias={word(bias)})")
    assert net.params == numel(module)
    assert net.output_shape == tuple(out.shape[1:])
    assert row.macs == torch_macs(module, x, x, x)


def grouped_query_attention(c: int, h: int, kv: int, k: int, bias: bool):
    """Grouped-query attention as LLaMA-2/3 write it: q, k, v and o projections, keys
    and values of kv heads shared by h/kv query heads each."""
    import torch
    from torch import nn

    class GQA(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.q = nn.Linear(c, h * k, bias=bias)
            self.k = nn.Linear(c, kv * k, bias=bias)
            self.v = nn.Linear(c, kv * k, bias=bias)
            self.o = nn.Linear(h * k, c, bias=bias)

        def forward(self, x):
            b, t, _ = x.shape
            q = self.q(x).view(b, t, h, k).transpose(1, 2)
            keys = self.k(x).view(b, t, kv, k).transpose(1, 2).repeat_interleave(h // kv, dim=1)
            values = self.v(x).view(b, t, kv, k).transpose(1, 2).repeat_interleave(h // kv, dim=1)
            y = torch.nn.functional.scaled_dot_product_attention(q, keys, values)
            return self.o(y.transpose(1, 2).reshape(b, t, h * k))

    return GQA()


@FEW
@given(t=lengths, kv=st.integers(1, 4), groups=st.integers(1, 4), k=st.integers(1, 5), c=widths,
       bias=st.booleans())
def test_grouped_query_attention_matches_a_hand_written_module(t, kv, groups, k, c, bias):
    import torch

    h = kv * groups
    module = grouped_query_attention(c, h, kv, k, bias)
    net = symparams.parse(f"I({t},{c})-MHA({h},k={k},kv={kv},bias={word(bias)})")
    assert net.params == numel(module)
    assert net.output_shape == tuple(module(torch.zeros(1, t, c)).shape[1:])
    assert net.macs == torch_macs(module, torch.zeros(1, t, c))


def test_attention_conditions_are_checked():
    with pytest.raises(symparams.SymparamsError, match="divide the heads"):
        symparams.parse("I(4,64)-MHA(8,kv=3)")
    with pytest.raises(symparams.SymparamsError, match="divisible by the heads"):
        symparams.parse("I(4,10)-MHA(4)")
    assert [str(c) for c in symparams.parse("I(t,d)-MHA(h,kv=g)").conditions] == [
        "Eq(Mod(h, g), 0)", "Eq(Mod(d, h), 0)"]


# ---------------------------------------------------------------- transformer blocks
@FEW
@given(t=lengths, h=st.integers(1, 4), k=st.integers(1, 6), ff=st.integers(1, 40), bias=st.booleans())
def test_pre_norm_block_matches_transformer_encoder_layer(t, h, k, ff, bias):
    import torch
    from torch import nn

    c = h * k
    # norm_first=True is the pre-norm block; bias=False drops every Linear and LayerNorm bias.
    module = nn.TransformerEncoderLayer(c, h, ff, dropout=0.0, activation="gelu", batch_first=True,
                                        norm_first=True, bias=bias)
    net = symparams.parse(f"I({t},{c})-TB({h},{ff},bias={word(bias)})")
    x = torch.zeros(1, t, c)
    assert net.params == numel(module)
    assert net.output_shape == tuple(module(x).shape[1:])
    assert net.macs == torch_macs(module, x)
    assert net.macs == torch_macs(module.train(), x)  # no fast path on meta, train or eval


def llama_block(c: int, h: int, kv: int, ff: int):
    """LLaMA's decoder layer: RMSNorm, bias-free grouped-query attention, RMSNorm, SwiGLU MLP."""
    from torch import nn

    class SwiGLU(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.gate = nn.Linear(c, ff, bias=False)
            self.up = nn.Linear(c, ff, bias=False)
            self.down = nn.Linear(ff, c, bias=False)

        def forward(self, x):
            return self.down(nn.functional.silu(self.gate(x)) * self.up(x))

    class Block(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.attention_norm = nn.RMSNorm(c)
            self.attention = grouped_query_attention(c, h, kv, c // h, bias=False)
            self.mlp_norm = nn.RMSNorm(c)
            self.mlp = SwiGLU()

        def forward(self, x):
            x = x + self.attention(self.attention_norm(x))
            return x + self.mlp(self.mlp_norm(x))

    return Block()


@FEW
@given(t=lengths, kv=st.integers(1, 3), groups=st.integers(1, 3), k=st.integers(1, 4), ff=st.integers(1, 30))
def test_llama_block_matches_a_hand_written_module(t, kv, groups, k, ff):
    import torch

    h = kv * groups
    c = h * k
    module = llama_block(c, h, kv, ff)
    net = symparams.parse(f"I({t},{c})-TB({h},{ff},norm=rms,mlp=swiglu,bias=false,kv={kv})")
    assert net.params == numel(module)
    assert net.output_shape == tuple(module(torch.zeros(1, t, c)).shape[1:])
    assert net.macs == torch_macs(module, torch.zeros(1, t, c))


def test_rms_norm_matches_torch():
    from torch import nn

    assert symparams.parse("I(3,17)-RMS").params == numel(nn.RMSNorm(17))


def test_tied_head_counts_the_shared_table_once():
    from torch import nn

    class Tied(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.tokens = nn.Embedding(50, 8)
            self.head = nn.Linear(8, 50)
            self.head.weight = self.tokens.weight  # tied: one Parameter, counted once

    net = symparams.parse("I(t)-E(50,8)-O(50,tied=true)")
    assert net.params == numel(Tied())
    assert net.output_shape[-1] == 50
    with pytest.raises(symparams.SymparamsError, match="earlier E"):
        symparams.parse("I(t)-E(50,8)-O(49,tied=true)")
