"""MACs and FLOPs of one forward pass, checked against torch.utils.flop_counter.FlopCounterMode
on the meta device: `flops` is its total for the same PyTorch model and one sample, and
`macs` is half of it. Every layer kind and option of the core (frameworks.LAYER_CASES),
blocks, branches and repetition, and whole models (ResNet-50, VGG-16, MobileNetV2,
DenseNet-121, ViT-B/16, GPT-2, LLaMA-2-7B, BERT-base) from examples/*.arch.

torch is imported inside the tests, so the rest of the suite does not pay for it.
"""

from pathlib import Path

import pytest
import sympy
from flop_tools import (
    configs,
    meta_flops,
    meta_macs,
    token_ids,
    torchvision_on_meta,
    transformers_module,
    transformers_on_meta,
)
from frameworks import LAYER_CASES, case_id, chain_text, channels_first, torch_model

import symparams

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
TORCH_CASES = [case for case in LAYER_CASES if "t" in case[2]]


def example(name: str) -> str:
    return (EXAMPLES / f"{name}.arch").read_text()


@pytest.mark.frameworks
@pytest.mark.parametrize("case", TORCH_CASES, ids=case_id)
def test_layer_macs_equal_flop_counter(case):
    import torch

    shape, specs, _ = case
    model, _ = torch_model(shape, specs)
    net = symparams.parse(chain_text(shape, specs))
    flops = meta_flops(model, torch.zeros((1,) + channels_first(shape)))
    assert (net.macs, net.flops) == (flops // 2, flops)




@pytest.mark.frameworks
def test_each_row_equals_its_own_module():
    import torch
    from torch import nn

    text = "I(28,28,1)-C(32,5)-P(2)-C(32,3,g=2,d=2)-T(8,3,s=2,bias=false)-F-H(256)-O(10)"
    modules = [nn.Conv2d(1, 32, 5), nn.MaxPool2d(2), nn.Conv2d(32, 32, 3, groups=2, dilation=2),
               nn.ConvTranspose2d(32, 8, 3, stride=2, bias=False), nn.Flatten(),
               nn.Linear(8 * 17 * 17, 256), nn.Linear(256, 10)]
    x, expected = torch.zeros(1, 1, 28, 28), []
    for module in modules:
        expected.append(meta_macs(module, x))
        with torch.no_grad():
            x = module(x)
    rows = [row.macs for row in symparams.parse(text).layers[1:]]
    assert rows == expected
    assert sum(rows) == sum(expected)


@pytest.mark.frameworks
def test_blocks_branches_and_repetition_equal_flop_counter():
    import torch
    from torch import nn

    class Residual(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = nn.Sequential(nn.Conv2d(8, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
                                      nn.Conv2d(8, 8, 3, padding=1), nn.BatchNorm2d(8))

        def forward(self, x):
            return self.body(x) + x

    class Concat(nn.Module):
        def __init__(self):
            super().__init__()
            self.a, self.b = nn.Conv2d(8, 4, 1), nn.Conv2d(8, 6, 3, padding=1)

        def forward(self, x):
            return torch.cat([self.a(x), self.b(x)], 1)

    model = nn.Sequential(Residual(), Residual(), Concat(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(10, 10))
    text = "I(16,16,8)-[C(8,3,p=1)-BN-relu-C(8,3,p=1)-BN + id]*{}-[C(4,1)|C(6,3,p=1)]-GAP-O(10)"
    expected = meta_macs(model, torch.zeros(1, 8, 16, 16))
    assert symparams.parse(text.format(2)).macs == expected
    assert symparams.parse(text.format("L")).subs(L=2).macs == expected


@pytest.mark.frameworks
def test_causal_attention_counts_the_full_square():
    """FlopCounterMode's sdpa count ignores is_causal (flop_counter.py: "We aren't accounting
    for causal attention here"): a causal mask leaves the MACs of MHA as they are."""
    import torch
    from torch import nn

    t, c, h = 11, 24, 3
    module = nn.MultiheadAttention(c, h, batch_first=True)
    x = torch.zeros(1, t, c)
    mask = nn.Transformer.generate_square_subsequent_mask(t, device="meta")
    net = symparams.parse(f"I({t},{c})-MHA({h})")
    assert net.macs == meta_macs(module, x, x, x, attn_mask=mask, is_causal=True) == meta_macs(module, x, x, x)
    assert net.macs == 62_304 // 2  # compute.md: addmm 50,688 + bmm 11,616


def test_symbolic_macs_are_the_closed_forms():
    t, d, h, k, kv, ff = sympy.symbols("t d h k kv ff", integer=True, positive=True)
    attention = symparams.parse("I(t,d)-MHA(h,k=k,kv=kv)").macs
    assert sympy.expand(attention - (t * d * (2 * h * k + 2 * kv * k) + 2 * h * t**2 * k)) == 0
    block = symparams.parse("I(t,d)-TB(h,4*d)", mode="ideal").macs
    assert sympy.expand(block - (12 * t * d**2 + 2 * t**2 * d)) == 0  # (8td² + 4t²d + 16td²)/2
    llama = symparams.parse("I(t,d)-TB(h,ff,norm=rms,mlp=swiglu,bias=false)", mode="ideal").macs
    assert sympy.expand(llama - (4 * t * d**2 + 2 * t**2 * d + 3 * t * d * ff)) == 0
    conv = symparams.parse("I(x,y,c)-C(n,3,p=1,bias=true)").macs
    x, y, c, n = sympy.symbols("x y c n", integer=True, positive=True)
    assert sympy.expand(conv - 9 * x * y * c * n) == 0  # biases are not counted


def test_flops_are_twice_the_macs_and_nothing_counts_zero_layers():
    net = symparams.parse("I(32,32,3)-C(16,3,p=same)-BN-relu-P(2)-C(32,3)-F-H(64)-O(10)")
    assert sum(row.macs for row in net.layers) == net.macs and net.flops == 2 * net.macs
    zero = ("MaxPool2D", "ReLU", "Flatten", "Input", "BatchNorm2D")
    assert [row.macs for row in net.layers if row.kind in zero] == [0] * 5
    net = symparams.parse("I(t)-E(100,16)-PE(64)-LN-RMS-gelu-D(0.1)")
    assert net.macs == 0


def test_symbolic_macs_substitute_to_the_numeric_ones():
    net = symparams.parse("I-C(32,5)-P(2)-C(32,3)-P(2)-H(256)-O(10)")
    for values in ({"h": 28, "w": 28, "c": 1}, {"h": 31, "w": 45, "c": 3}):
        numeric = symparams.parse("I({h},{w},{c})-C(32,5)-P(2)-C(32,3)-P(2)-H(256)-O(10)".format(**values))
        assert net.subs(**values).macs == numeric.macs


# ---------------------------------------------------------------- whole models
VISION = [("resnet50", "resnet50", 4_089_184_256), ("vgg16", "vgg16", 15_470_264_320),
          ("mobilenet_v2", "mobilenet_v2", 300_774_272), ("densenet121", "densenet121", 2_834_161_664),
          ("vit_b_16", "vit_b16", 17_563_828_224)]


@pytest.mark.frameworks
@pytest.mark.slow
@pytest.mark.parametrize("torch_name, arch, macs", VISION)
def test_vision_models_equal_flop_counter(torch_name, arch, macs):
    import torch

    model = torchvision_on_meta(torch_name)
    expected = meta_macs(model, torch.zeros(1, 3, 224, 224, device="meta"))
    net = symparams.parse(example(arch))
    assert net.params == sum(p.numel() for p in model.parameters())
    assert net.macs == expected == macs


LANGUAGE = [("gpt2", "gpt2", 128, 16_114_089_984), ("gpt2", "gpt2", 1024, 145_824_153_600),
            ("llama2_7b", "llama7b", 128, 850_000_871_424), ("llama2_7b", "llama7b", 2048, 14_630_806_093_824),
            ("bert_base", "bert_base", 128, 11_174_215_680),
            # Grouped-query, multi-query and sliding-window attention (whose eager kernel
            # computes the full t² under a mask, as FlopCounterMode counts it).
            ("llama3_8b", "llama3_8b", 64, None), ("falcon_7b", "falcon_7b", 64, None),
            ("mistral_7b", "mistral_7b", 64, None), ("gemma2_9b", "gemma2_9b", 64, None),
            # qk-norm: its RMSNorm weights multiply nothing (FlopCounterMode counts no norm).
            ("qwen3_8b", "qwen3_8b", 64, None)]


@pytest.mark.frameworks
@pytest.mark.slow
@pytest.mark.parametrize("name, arch, t, macs", LANGUAGE)
def test_language_models_equal_flop_counter(name, arch, t, macs):
    config, cls = configs()[name]
    model = transformers_on_meta(config, cls)
    keywords = {} if name == "bert_base" else {"use_cache": False}
    expected = meta_macs(model, token_ids(t), **keywords)
    net = symparams.parse(example(arch))
    assert net.subs(t=t).macs == expected == (expected if macs is None else macs)
    assert net.params == sum(p.numel() for p in model.parameters())


# ---------------------------------------------------------------- training compute
def forward_backward_flops(model, x) -> int:
    from torch.utils.flop_counter import FlopCounterMode

    counter = FlopCounterMode(display=False)
    with counter:
        out = model(x)
        (out.logits if hasattr(out, "logits") else out).sum().backward()
    return counter.get_total_flops()


@pytest.mark.frameworks
def test_training_flops_are_three_forwards_for_a_language_model():
    import torch

    tr = transformers_module()
    config = tr.GPT2Config(n_layer=2, n_embd=64, n_head=4, vocab_size=100, n_positions=32,
                           bos_token_id=0, eos_token_id=0)
    model = transformers_on_meta(config, tr.GPT2LMHeadModel).train()
    net = symparams.parse("I(t)-E(100,64)-PE(32)-TB(4,256)*2-LN-O(100,bias=false,tied=true)")
    with torch.device("meta"):
        measured = forward_backward_flops(model, torch.zeros(1, 16, dtype=torch.long))
    assert net.subs(t=16).train_flops == measured == 3 * net.subs(t=16).flops


@pytest.mark.frameworks
def test_training_flops_of_an_mlp_skip_the_first_input_gradient():
    import torch
    from torch import nn

    with torch.device("meta"):
        model = nn.Sequential(nn.Linear(32, 64), nn.ReLU(), nn.Linear(64, 10))
        measured = forward_backward_flops(model, torch.zeros(1, 32))
    net = symparams.parse("I(32)-H(64)-relu-O(10)")
    first = 2 * net.layers[1].macs  # the data needs no gradient: its layer's input gradient is skipped
    assert net.train_flops - first == measured
