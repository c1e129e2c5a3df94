"""The README's table of MACs: symparams against FlopCounterMode and torchinfo.

symparams' MACs from examples/*.arch; FlopCounterMode's FLOPs / 2 on the meta device and
on the CPU (where it misses nn.MultiheadAttention's eval fast path and the flash SDPA
kernel); torchinfo's total_mult_adds on the CPU. Batch 1, eval, no_grad.

Run: PYTHONPATH=. python bench/compute_table.py   (prints the Markdown table)
"""

from __future__ import annotations

import sys
import types
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MODELS = (("ResNet-50", "resnet50", "resnet50"), ("ViT-B/16", "vit_b_16", "vit_b16"), ("GPT-2, t = 128", "gpt2", "gpt2"))


def _flops(model, x, **keywords) -> int:
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        model(x, **keywords)
    return counter.get_total_flops()


def rows() -> list[tuple[str, int, int, int, int]]:
    """(model, symparams MACs, FlopCounterMode/2 on meta, FlopCounterMode/2 on CPU, torchinfo)."""
    sys.modules.setdefault("torchvision._meta_registrations", types.ModuleType("torchvision._meta_registrations"))
    import torch
    import torchinfo
    import torchvision.models as tvm
    import transformers
    import transformers.masking_utils as masking

    import symparams

    masking.find_packed_sequence_indices = lambda position_ids: None  # an .item(), impossible on meta
    torch.manual_seed(0)
    found = []
    for label, name, arch in MODELS:
        net = symparams.parse((ROOT / "examples" / f"{arch}.arch").read_text())
        if name == "gpt2":
            net, keywords = net.subs(t=128), {"use_cache": False}

            def build():
                config = transformers.GPT2Config()
                config._attn_implementation = "sdpa"
                return transformers.GPT2LMHeadModel(config).eval()

            def data(device):
                return torch.zeros(1, 128, dtype=torch.long, device=device)
        else:
            keywords = {}

            def build(name=name):
                return getattr(tvm, name)().eval()

            def data(device):
                return torch.zeros(1, 3, 224, 224, device=device)
        with torch.device("meta"):
            meta = _flops(build(), data("meta"), **keywords) // 2
        model = build()
        cpu = _flops(model, data("cpu"), **keywords) // 2
        info = torchinfo.summary(model, input_data=data("cpu"), verbose=0).total_mult_adds
        found.append((label, int(net.macs), meta, cpu, info))
    return found


def table() -> str:
    lines = [
        "| model | symparams `macs` | FlopCounterMode / 2, meta | FlopCounterMode / 2, CPU | torchinfo Mult-Adds |",
        "|---|---:|---:|---:|---:|",
    ]
    lines += [f"| {r[0]} | {r[1]:,} | {r[2]:,} | {r[3]:,} | {r[4]:,} |" for r in rows()]
    return "\n".join(lines)


if __name__ == "__main__":
    print(table())
