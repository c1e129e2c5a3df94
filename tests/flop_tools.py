"""FlopCounterMode on the meta device: the reference of symparams' MACs and FLOPs, and the
real models (torchvision, transformers) built on meta.

On the CPU the counter misses nn.LSTM (mkldnn), the flash SDPA kernel and the fast paths
of nn.MultiheadAttention / nn.TransformerEncoderLayer in eval; on meta every matmul,
convolution and attention product is dispatched through ops it counts
(/work/notes/compute.md, section 1). torch is imported inside the functions.
"""

from __future__ import annotations

import copy
import sys
import types


def meta_flops(module, *inputs, **keywords) -> int:
    """FlopCounterMode's total for one forward pass of `module` on meta copies of `inputs`."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    tensors = [*module.parameters(), *module.buffers()]
    on_meta = bool(tensors) and all(p.device.type == "meta" for p in tensors)
    model = module if on_meta else copy.deepcopy(module).to("meta")
    args = [x.to("meta") if isinstance(x, torch.Tensor) else x for x in inputs]
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        model(*args, **keywords)
    return counter.get_total_flops()


def meta_macs(module, *inputs, **keywords) -> int:
    flops = meta_flops(module, *inputs, **keywords)
    assert flops % 2 == 0
    return flops // 2


def torchvision_models():
    """torchvision.models, importable without its meta registrations (which fail on torch 2.13)."""
    sys.modules.setdefault("torchvision._meta_registrations", types.ModuleType("torchvision._meta_registrations"))
    import torchvision.models

    return torchvision.models


def torchvision_on_meta(name: str):
    import torch

    with torch.device("meta"):
        return getattr(torchvision_models(), name)().eval()


def transformers_module():
    sys.modules.setdefault("torchvision._meta_registrations", types.ModuleType("torchvision._meta_registrations"))
    import transformers
    import transformers.masking_utils as masking

    # find_packed_sequence_indices calls .all() (an .item()) on position_ids, impossible on
    # meta; it only detects packed sequences, of which there are none here.
    masking.find_packed_sequence_indices = lambda position_ids: None
    return transformers


def transformers_on_meta(config, cls, dtype=None, attention: str = "eager"):
    import torch

    config._attn_implementation = attention
    with torch.device("meta"):
        model = cls(config)
        if dtype is not None:
            model = model.to(dtype)
        return model.eval()


def token_ids(t: int):
    import torch

    return torch.zeros(1, t, dtype=torch.long, device="meta")


def configs():
    """The transformers configurations of the models the tests compare with."""
    tr = transformers_module()
    return {
        "gpt2": (tr.GPT2Config(), tr.GPT2LMHeadModel),
        "llama2_7b": (
            tr.LlamaConfig(hidden_size=4096, intermediate_size=11008, num_hidden_layers=32,
                           num_attention_heads=32, num_key_value_heads=32, vocab_size=32000,
                           max_position_embeddings=4096),
            tr.LlamaForCausalLM,
        ),
        "llama3_8b": (
            tr.LlamaConfig(hidden_size=4096, intermediate_size=14336, num_hidden_layers=32,
                           num_attention_heads=32, num_key_value_heads=8, vocab_size=128256,
                           max_position_embeddings=8192, rope_theta=500000.0),
            tr.LlamaForCausalLM,
        ),
        # Qwen/Qwen3-8B: qk-norm (RMSNorm over the head width) on q and k.
        "qwen3_8b": (
            tr.Qwen3Config(hidden_size=4096, intermediate_size=12288, num_hidden_layers=36,
                           num_attention_heads=32, num_key_value_heads=8, head_dim=128, vocab_size=151936,
                           tie_word_embeddings=False, max_position_embeddings=40960),
            tr.Qwen3ForCausalLM,
        ),
        "mistral_7b": (
            tr.MistralConfig(hidden_size=4096, intermediate_size=14336, num_hidden_layers=32,
                             num_attention_heads=32, num_key_value_heads=8, vocab_size=32000,
                             sliding_window=4096),
            tr.MistralForCausalLM,
        ),
        "falcon_7b": (
            tr.FalconConfig(hidden_size=4544, num_hidden_layers=32, num_attention_heads=71,
                            multi_query=True, new_decoder_architecture=False, parallel_attn=True,
                            bias=False, vocab_size=65024),
            tr.FalconForCausalLM,
        ),
        "gemma2_9b": (
            tr.Gemma2Config(hidden_size=3584, intermediate_size=14336, num_hidden_layers=42,
                            num_attention_heads=16, num_key_value_heads=8, head_dim=256,
                            vocab_size=256000, sliding_window=4096),
            tr.Gemma2ForCausalLM,
        ),
        "bert_base": (tr.BertConfig(), tr.BertModel),
    }
