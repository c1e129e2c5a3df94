"""Published model sizes from one line each, and the same models built in PyTorch.

The PyTorch models are written out from their papers' descriptions and built on the
meta device (`torch.device("meta")`), so even LLaMA-2-70B allocates nothing; their
`sum(p.numel())` must equal both the published number and symparams's count.
"""

from pathlib import Path

import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

import symparams
from symparams.base.expr import symbol
from symparams.cli import main

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

PUBLISHED = {
    "gpt2.arch": 124_439_808,
    "llama7b.arch": 6_738_415_616,
    "llama3_8b.arch": 8_030_261_248,
    "llama2_70b.arch": 68_976_648_192,
    "bert_base.arch": 109_482_240,
    "vit_b16.arch": 86_567_656,
}


def example(name: str) -> str:
    return (EXAMPLES / name).read_text()


@pytest.mark.parametrize("name, params", sorted(PUBLISHED.items()))
def test_one_liners_give_the_published_counts(name, params):
    net = symparams.parse(example(name))
    assert net.params == net.trainable == params
    assert net.non_trainable == 0


@pytest.mark.parametrize("name, params", sorted(PUBLISHED.items()))
def test_example_files_through_the_command_line(name, params, capsys):
    import json

    assert main([str(EXAMPLES / name), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["params"] == params


def test_symbolic_gpt_stack_is_the_papers_formula():
    V, d, h, L, m, t = (sympy.Symbol(s, integer=True, positive=True) for s in ["V", "d", "h", "L", "m", "t"])
    net = symparams.parse(example("gpt.arch"))
    assert sympy.expand(net.params - (V * d + m * d + L * (12 * d**2 + 13 * d) + 2 * d)) == 0
    assert set(net.conditions) == {sympy.Le(t, m), sympy.Eq(sympy.Mod(d, h), 0)}
    gpt2 = net.subs(V=50257, d=768, h=12, L=12, m=1024)
    assert gpt2.params == PUBLISHED["gpt2.arch"]


def test_block_unfolds_into_its_layers_at_a_deeper_depth(capsys):
    assert main(["I(t,768)-TB(12,3072)", "--depth", "1"]) == 0
    folded = capsys.readouterr().out
    assert "TransformerBlock" in folded and "MultiHeadAttention" not in folded
    assert main(["I(t,768)-TB(12,3072)"]) == 0
    assert "MultiHeadAttention" in capsys.readouterr().out
    net = symparams.parse("I(t,768)-TB(12,3072)")
    assert [row.kind for row in net.layers] == ["Input", "TransformerBlock"]
    assert net.layers[1].params == sum(row.params for row in net.layers[1].children)
    leaves = [row.text for row in net.walk() if not row.children][1:]
    assert leaves == ["LN", "MHA(12)", "id", "LN", "H(3072)", "gelu", "H(768)", "id"]
    llama = symparams.parse("I(t,64)-TB(4,172,norm=rms,mlp=swiglu,bias=false,kv=2)")
    leaves = [row.text for row in llama.walk() if not row.children][1:]
    assert leaves == ["RMS", "MHA(4, kv=2, bias=false)", "id", "RMS", "SwiGLU(172, bias=false)",
                      "H(64, bias=false)", "id"]
    assert sum(row.params for row in llama.walk() if not row.children) == llama.params


def test_a_block_error_points_at_the_block():
    with pytest.raises(symparams.SymparamsError) as err:
        symparams.parse("I(t,100)-TB(12,3072)")
    assert "MHA(12) needs the width 100 divisible by the heads h=12" in str(err.value)
    assert err.value.pos == len("I(t,100)-")


@pytest.mark.parametrize("text, message", [
    ("I(5)-L(4)", "L(4) needs a sequence (t, c), got a tensor of shape [5]"),  # torch's order and brackets
    ("I(4,3,2)-MHA(2)", "MHA(2) needs a sequence (t, c)"),
    ("I(4,3)-E(3,4)", "E(3,4) needs token ids (t), got a tensor of shape [4, 3]"),
    ("I(5,3)-PE(4)", "PE(4) needs at most 4 positions, got 5"),
    ("I(t,8)-TB(2,4,norm=batch)", "TB: 'norm' must be one of ln, rms"),
])
def test_sequence_layer_errors_say_what_is_wrong(text, message):
    with pytest.raises(symparams.SymparamsError) as err:
        symparams.parse(text)
    assert message in str(err.value)


# ---------------------------------------------------------------- the same models in PyTorch
def pre_norm_stack(nn, d, h, ff, layers):
    block = nn.TransformerEncoderLayer(d, h, ff, dropout=0.0, activation="gelu", batch_first=True,
                                       norm_first=True)
    return nn.TransformerEncoder(block, layers, enable_nested_tensor=False)


def gpt2(torch, nn):
    class GPT2(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.wte = nn.Embedding(50257, 768)
            self.wpe = nn.Embedding(1024, 768)
            self.blocks = pre_norm_stack(nn, 768, 12, 3072, 12)
            self.ln_f = nn.LayerNorm(768)
            self.head = nn.Linear(768, 50257, bias=False)
            self.head.weight = self.wte.weight

    return GPT2()


def llama(torch, nn, vocab, d, layers, h, kv, ff):
    k = d // h

    class Attention(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.wq = nn.Linear(d, h * k, bias=False)
            self.wk = nn.Linear(d, kv * k, bias=False)
            self.wv = nn.Linear(d, kv * k, bias=False)
            self.wo = nn.Linear(h * k, d, bias=False)

    class FeedForward(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.w1 = nn.Linear(d, ff, bias=False)
            self.w3 = nn.Linear(d, ff, bias=False)
            self.w2 = nn.Linear(ff, d, bias=False)

    class Block(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.attention_norm = nn.RMSNorm(d)
            self.attention = Attention()
            self.ffn_norm = nn.RMSNorm(d)
            self.feed_forward = FeedForward()

    class Llama(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.tok_embeddings = nn.Embedding(vocab, d)
            self.layers = nn.ModuleList(Block() for _ in range(layers))
            self.norm = nn.RMSNorm(d)
            self.output = nn.Linear(d, vocab, bias=False)

    return Llama()


def bert_base(torch, nn):
    class Bert(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.word = nn.Embedding(30522, 768)
            self.position = nn.Embedding(512, 768)
            self.token_type = nn.Embedding(2, 768)
            self.norm = nn.LayerNorm(768)
            block = nn.TransformerEncoderLayer(768, 12, 3072, activation="gelu", batch_first=True,
                                               norm_first=False)  # post-norm, as BERT
            self.encoder = nn.TransformerEncoder(block, 12, enable_nested_tensor=False)
            self.pooler = nn.Linear(768, 768)

    return Bert()


def vit_b16(torch, nn):
    class ViT(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.patches = nn.Conv2d(3, 768, 16, stride=16)
            self.class_token = nn.Parameter(torch.zeros(1, 1, 768))
            self.positions = nn.Parameter(torch.zeros(1, 197, 768))
            self.blocks = pre_norm_stack(nn, 768, 12, 3072, 12)
            self.norm = nn.LayerNorm(768)
            self.head = nn.Linear(768, 1000)

    return ViT()


TORCH_MODELS = {
    "gpt2.arch": gpt2,
    "llama7b.arch": lambda torch, nn: llama(torch, nn, 32000, 4096, 32, 32, 32, 11008),
    "llama3_8b.arch": lambda torch, nn: llama(torch, nn, 128256, 4096, 32, 32, 8, 14336),
    "llama2_70b.arch": lambda torch, nn: llama(torch, nn, 32000, 8192, 80, 64, 8, 28672),
    "bert_base.arch": bert_base,
    "vit_b16.arch": vit_b16,
}


@pytest.mark.frameworks
@pytest.mark.parametrize("name", sorted(TORCH_MODELS))
def test_torch_models_on_the_meta_device_match(name):
    import torch
    from torch import nn

    with torch.device("meta"):
        model = TORCH_MODELS[name](torch, nn)
    assert all(p.is_meta for p in model.parameters())
    assert sum(p.numel() for p in model.parameters()) == PUBLISHED[name] == symparams.parse(example(name)).params


# ---------------------------------------------------------------- symbolic equals numeric
def sequence_layers():
    """Random layers that keep a sequence a sequence (MHA with an explicit head width k, so any c fits)."""
    flags = st.sampled_from(["true", "false"])
    recurrent = st.builds(lambda kind, n, bi, bias: f"{kind}({n},seq=true,bi={bi},bias={bias})",
                          st.sampled_from("RLG"), st.integers(1, 9), flags, flags)
    attention = st.builds(lambda h, k, bias: f"MHA({h},k={k},bias={bias})", st.integers(1, 4),
                          st.integers(1, 5), flags)
    dense = st.builds(lambda n: f"H({n})", st.integers(1, 9))
    norms = st.sampled_from(["LN", "RMS", "gelu", "D(0.1)"])
    return st.lists(st.one_of(recurrent, attention, dense, norms), min_size=1, max_size=4)


@settings(max_examples=25, deadline=None)
@given(layers=sequence_layers(), t=st.integers(1, 9), c=st.integers(1, 12), convention=st.sampled_from(["torch", "keras"]))
def test_symbolic_sequence_chain_substitutes_to_the_numeric_count(layers, t, c, convention):
    symbolic = symparams.parse("-".join(["I(t,c)", *layers]), convention=convention)
    numeric = symparams.parse("-".join([f"I({t},{c})", *layers]), convention=convention)
    values = {symbol("t"): t, symbol("c"): c}
    assert symbolic.params.subs(values) == numeric.params
    assert symbolic.macs.subs(values) == numeric.macs
    assert tuple(x.subs(values) for x in symbolic.output_shape) == numeric.output_shape


@settings(max_examples=20, deadline=None)
@given(V=st.integers(1, 300), h=st.integers(1, 4), k=st.integers(1, 4), L=st.integers(1, 3), t=st.integers(1, 6),
       extra=st.integers(0, 3))
def test_symbolic_gpt_matches_the_numeric_build(V, h, k, L, t, extra):
    d, m = h * k, t + extra
    net = symparams.parse(example("gpt.arch"))
    numeric = symparams.parse(f"I({t})-E({V},{d})-PE({m})-TB({h},{4 * d})*{L}-LN-O({V},bias=false,tied=true)")
    values = {symbol(name): value for name, value in {"V": V, "d": d, "h": h, "L": L, "m": m, "t": t}.items()}
    assert net.params.subs(values) == numeric.params
