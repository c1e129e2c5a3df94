"""The KV cache against the cache tensors transformers allocates in a prefill forward pass
with use_cache=True on the meta device (the sum of their nbytes), and after one decode step.

symparams reports 2·kv·k·min(W, t)·bytes per attention layer. transformers' sliding layers
(DynamicSlidingWindowLayer, cache_utils.py) keep the last W − 1 tokens logically, in a
storage of W tokens after a decode step; the tests check both, exactly.
"""

from pathlib import Path

import pytest
from flop_tools import configs, token_ids, transformers_on_meta
from hypothesis import given, settings
from hypothesis import strategies as st

import symparams
from symparams.analysis.compute import ComputeError, kv_cache_bytes, kv_cache_bytes_per_token

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"

# (transformers config, example, t, sliding layers, per-layer elements of a token 2·kv·k)
MODELS = [
    ("gpt2", "gpt2", 64, 0, 2 * 12 * 64),
    ("llama2_7b", "llama7b", 64, 0, 2 * 32 * 128),
    ("llama3_8b", "llama3_8b", 64, 0, 2 * 8 * 128),  # grouped-query: 8 key/value heads
    ("falcon_7b", "falcon_7b", 64, 0, 2 * 1 * 64),  # multi-query: one key/value head
    ("mistral_7b", "mistral_7b", 4100, 32, 2 * 8 * 128),  # every layer slides, W = 4096
    ("gemma2_9b", "gemma2_9b", 4100, 21, 2 * 8 * 256),  # every other layer slides, W = 4096
]


def cache_bytes(cache) -> tuple[int, int]:
    """Logical bytes (nbytes of keys and values) and the bytes of their storages."""
    logical = sum(layer.keys.nbytes + layer.values.nbytes for layer in cache.layers)
    storage = sum(layer.keys.untyped_storage().nbytes() + layer.values.untyped_storage().nbytes()
                  for layer in cache.layers)
    return logical, storage


@pytest.mark.frameworks
@pytest.mark.slow
@pytest.mark.parametrize("name, arch, t, sliding, token", MODELS)
def test_kv_cache_equals_the_tensors_transformers_allocates(name, arch, t, sliding, token):
    import torch

    config, cls = configs()[name]
    model = transformers_on_meta(config, cls, dtype=torch.bfloat16)
    net = symparams.parse((EXAMPLES / f"{arch}.arch").read_text())
    assert net.params == sum(p.numel() for p in model.parameters())
    with torch.no_grad():
        out = model(token_ids(t), use_cache=True)
    logical, _ = cache_bytes(out.past_key_values)
    ours = net.subs(t=t)
    window = 4096
    # transformers keeps W − 1 tokens of a sliding layer: one token less than symparams' W.
    assert logical == kv_cache_bytes(ours, "bfloat16") - sliding * token * 2 * (t >= window)
    with torch.no_grad():
        step = model(token_ids(1), past_key_values=out.past_key_values, use_cache=True)
    _, storage = cache_bytes(step.past_key_values)
    assert storage == kv_cache_bytes(net.subs(t=t + 1), "bfloat16")  # W tokens of storage
    layers = len(out.past_key_values.layers)
    assert kv_cache_bytes_per_token(net, "bfloat16") == layers * token * 2


def test_kv_cache_is_symbolic_and_follows_the_dtype():
    net = symparams.parse((EXAMPLES / "llama3_8b.arch").read_text())
    assert str(kv_cache_bytes(net, "bfloat16")) == "131072*t"
    assert kv_cache_bytes(net.subs(t=8192), "bfloat16") == 2 * 32 * 8 * 128 * 8192 * 2 == 2**30
    assert kv_cache_bytes(net.subs(t=8192), "float8_e4m3fn") == 2**29
    assert kv_cache_bytes(net.subs(t=8192), "int4") == 2**28
    mistral = symparams.parse((EXAMPLES / "mistral_7b.arch").read_text())
    assert str(kv_cache_bytes(mistral, "float16")) == "131072*Min(4096, t)"
    # Gemma-2: half the layers hold min(4096, t), the others t.
    gemma = symparams.parse((EXAMPLES / "gemma2_9b.arch").read_text())
    assert str(kv_cache_bytes(gemma, "bfloat16")) == "172032*t + 172032*Min(4096, t)"


def test_kv_cache_of_a_network_without_attention_is_an_error():
    with pytest.raises(ComputeError, match="KV cache asked of a network without attention"):
        kv_cache_bytes(symparams.parse("I(t,8)-L(16)-O(2)"))


def test_window_leaves_parameters_and_macs_alone():
    plain, windowed = (symparams.parse(f"I(t,64)-TB(4,256{w})") for w in ("", ",window=16"))
    assert plain.params == windowed.params and plain.macs == windowed.macs
    assert windowed.kv_cache.subs(windowed.layers[0].shape[0], 100) == 2 * 64 * 16


@settings(max_examples=25, deadline=None)
@given(t=st.integers(1, 300), groups=st.integers(1, 4), kv=st.integers(1, 4), k=st.integers(1, 16),
       window=st.one_of(st.none(), st.integers(1, 200)), layers=st.integers(1, 3))
def test_symbolic_costs_substitute_to_the_numeric_build(t, groups, kv, k, window, layers):
    h = groups * kv
    option = "" if window is None else f",window={window}"
    text = "I({t},{c})-TB({h},{ff},kv={kv}{option})*{layers}"
    values = {"h": h, "kv": kv, "option": option, "layers": layers, "c": h * k, "ff": 4 * h * k}
    symbolic = symparams.parse(text.format(t="t", **values))
    for numeric in (False, True):
        built = symparams.parse(text.format(t=t, **values), numeric=numeric)
        at = symbolic.subs(t=t)
        assert (at.macs, at.kv_cache, at.kv_token, at.saved) == (built.macs, built.kv_cache, built.kv_token,
                                                                 built.saved)
    held = t if window is None else min(t, window)
    assert built.kv_cache == layers * 2 * kv * k * held


def test_sub_byte_and_fp8_memory():
    net = symparams.parse("I(784)-H(100)-O(11)")  # 79,611 parameters: an odd count
    assert net.params == 79_611
    assert net.memory("int4") == 39_806  # packed two to a byte, rounded up
    assert net.memory("float8_e4m3fn") == net.memory("float8_e5m2") == net.memory("e4m3") == 79_611
    with pytest.raises(symparams.SymparamsError, match="unknown dtype"):
        net.memory("float7")


@pytest.mark.frameworks
def test_latent_attention_caches_its_compressed_latent():
    """DeepSeek's MLA caches (kv + rope) elements a token and layer, the compressed latent
    and the shared rope key, not the heads' keys and values: transformers'
    DeepseekV3Attention writes exactly those to its cache (a small config, on meta)."""
    import torch
    from flop_tools import transformers_module

    tr = transformers_module()
    config = tr.DeepseekV3Config(
        vocab_size=96, hidden_size=64, intermediate_size=48, moe_intermediate_size=16, num_hidden_layers=3,
        num_attention_heads=4, num_key_value_heads=4, n_shared_experts=1, n_routed_experts=4,
        num_experts_per_tok=2, n_group=1, topk_group=1, first_k_dense_replace=1, q_lora_rank=24,
        kv_lora_rank=16, qk_nope_head_dim=8, qk_rope_head_dim=4, v_head_dim=8, tie_word_embeddings=False,
    )
    model = transformers_on_meta(config, tr.DeepseekV3ForCausalLM, dtype=torch.bfloat16)
    mla = "MLA(4,kv=16,nope=8,rope=4,v=8,q=24)"
    text = (f"I(t)-E(96,64)-[RMS-{mla} + id]-[RMS-SwiGLU(48,bias=false)-H(64,bias=false) + id]"
            f"-([RMS-{mla} + id]-[RMS-MoE(4,2,16,shared=1) + id])*2-RMS-O(96,bias=false)")
    net = symparams.parse(text)
    assert net.params == sum(p.numel() for p in model.parameters())
    t = 16
    with torch.no_grad():
        out = model(token_ids(t), use_cache=True)
    logical, _ = cache_bytes(out.past_key_values)
    assert logical == kv_cache_bytes(net.subs(t=t), "bfloat16") == 3 * (16 + 4) * t * 2
