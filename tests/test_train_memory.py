"""Training memory: optimizer states against what torch.optim holds after one step, and the
activations saved for backward against torch.autograd.graph.saved_tensors_hooks, with and
without activation checkpointing; the differences of the documented rule are asserted exactly.
"""

import math

import pytest

import symparams
from symparams.analysis.compute import ComputeError, saved_elements, train_memory

MLP = "I(32)-H(64)-relu-O(10)"


def mlp(dtype):
    from torch import nn

    return nn.Sequential(nn.Linear(32, 64), nn.ReLU(), nn.Linear(64, 10)).to(dtype)


OPTIMIZERS = {
    "sgd": lambda torch, p: torch.optim.SGD(p, lr=0.1),
    "momentum": lambda torch, p: torch.optim.SGD(p, lr=0.1, momentum=0.9),
    "adam": lambda torch, p: torch.optim.Adam(p),
    "adamw": lambda torch, p: torch.optim.AdamW(p),
    "amsgrad": lambda torch, p: torch.optim.Adam(p, amsgrad=True),
}


@pytest.mark.frameworks
@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
def test_optimizer_states_equal_torch_optim_after_one_step(optimizer, dtype):
    import torch

    model = mlp(getattr(torch, dtype))
    opt = OPTIMIZERS[optimizer](torch, model.parameters())
    model(torch.randn(4, 32, dtype=getattr(torch, dtype))).sum().backward()
    opt.step()
    states = [v for s in opt.state.values() for k, v in s.items() if torch.is_tensor(v) and k != "step"]
    steps = [v for s in opt.state.values() for k, v in s.items() if k == "step"]
    memory = train_memory(symparams.parse(MLP), optimizer, dtype)
    assert memory.optimizer == sum(v.nbytes for v in states)
    assert memory.weights == sum(p.nbytes for p in model.parameters())
    assert memory.gradients == sum(p.grad.nbytes for p in model.parameters())
    # Not counted: Adam's `step`, a 4-byte float32 tensor per parameter tensor.
    assert sum(v.nbytes for v in steps) == (4 * 4 if "adam" in optimizer or optimizer == "amsgrad" else 0)


def test_mixed_precision_and_zero_shard_what_they_should():
    net = symparams.parse(MLP)
    n = int(net.params)
    mixed = train_memory(net, "adam", "bfloat16", mixed=True)
    assert (mixed.weights, mixed.gradients, mixed.optimizer) == (2 * n, 2 * n, 12 * n)  # 2 + 2 + 12 (ZeRO paper)
    devices = 8
    for stage, sharded in [(1, ("optimizer",)), (2, ("optimizer", "gradients")),
                           (3, ("optimizer", "gradients", "weights"))]:
        zero = train_memory(net, "adam", "bfloat16", mixed=True, zero=stage, devices=devices)
        for part in ("weights", "gradients", "optimizer"):
            whole = getattr(mixed, part)
            assert getattr(zero, part) == (math.ceil(whole / devices) if part in sharded else whole)
    with pytest.raises(ComputeError, match="unknown optimizer 'adamax'"):
        train_memory(net, "adamax")


class Saved:
    """Bytes of the distinct storages autograd saves for backward (parameters and buffers
    excluded), recorded by saved_tensors_hooks."""

    def __init__(self, model):
        import torch

        self.torch = torch
        self.params = {t.untyped_storage().data_ptr() for t in [*model.parameters(), *model.buffers()]}
        self.items = []

    def __enter__(self):
        self.hooks = self.torch.autograd.graph.saved_tensors_hooks(lambda t: self.items.append(t) or t, lambda t: t)
        self.hooks.__enter__()
        return self

    def __exit__(self, *exc):
        self.hooks.__exit__(*exc)

    @property
    def bytes(self) -> int:
        seen = {}
        for t in self.items:
            storage = t.untyped_storage()
            if storage.data_ptr() not in self.params and storage.nbytes():
                seen[storage.data_ptr()] = storage.nbytes()
        return sum(seen.values())


def saved_bytes(model, x, run=None):
    with Saved(model) as saved:
        y = (run or model)(x)
    y.float().sum().backward()
    return saved.bytes


@pytest.mark.frameworks
def test_saved_activations_of_an_mlp_and_a_cnn():
    import torch
    from torch import nn

    # The rule counts a tensor once per layer that saves it: a relu saves its output and
    # the next layer its input, one tensor in torch, two in the rule.
    measured = saved_bytes(mlp(torch.float32), torch.randn(1, 32))
    assert measured == 4 * (32 + 64)
    assert train_memory(symparams.parse(MLP)).activations == measured + 4 * 64
    cnn = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
                        nn.Conv2d(8, 16, 3), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(16, 10))
    measured = saved_bytes(cnn.train(), torch.randn(1, 3, 16, 16))
    ours = train_memory(symparams.parse("I(16,16,3)-C(8,3,p=1)-BN-relu-P(2)-C(16,3)-relu-GAP-O(10)")).activations
    relu_read_by_pool = 4 * 8 * 16 * 16  # the relu output, saved by relu and by the max pool
    bn_statistics = 4 * 2 * 8  # save_mean and save_invstd, float32
    pool_indices = 8 * 8 * 8 * 8  # int64, one per output element of the max pool
    assert ours == measured + relu_read_by_pool - bn_statistics - pool_indices


def gpt_block(c, h, ff):
    """A pre-norm block as GPT-2 writes it: fused QKV, explicit matmul and softmax (eager)."""
    from torch import nn

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.ln1, self.ln2 = nn.LayerNorm(c), nn.LayerNorm(c)
            self.qkv, self.proj = nn.Linear(c, 3 * c), nn.Linear(c, c)
            self.fc1, self.fc2 = nn.Linear(c, ff), nn.Linear(ff, c)

        def forward(self, x):
            b, t, _ = x.shape
            q, k, v = self.qkv(self.ln1(x)).view(b, t, 3, h, c // h).permute(2, 0, 3, 1, 4)
            a = ((q @ k.transpose(-2, -1)) * (1 / math.sqrt(c // h))).softmax(-1)
            x = x + self.proj((a @ v).transpose(1, 2).reshape(b, t, c))
            return x + self.fc2(nn.functional.gelu(self.fc1(self.ln2(x))))

    return Block()


@pytest.mark.frameworks
@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
def test_saved_activations_of_transformer_blocks_with_and_without_checkpointing(dtype):
    import torch
    from torch import nn
    from torch.utils.checkpoint import checkpoint

    t, c, h, ff, layers = 64, 64, 8, 256, 2
    model = nn.Sequential(*[gpt_block(c, h, ff) for _ in range(layers)]).to(getattr(torch, dtype))
    x = torch.randn(1, t, c, dtype=getattr(torch, dtype), requires_grad=True)
    net = symparams.parse(f"I({t},{c})-TB({h},{ff})*{layers}")
    measured = saved_bytes(model, x)
    # B·(8tc + 2t·ff + h·t²) per block (Korthikanti et al. 2022 without dropout, at B bytes);
    # torch also saves each LayerNorm's mean and rstd, (t, 1) each (float32 on CPU for a
    # float32 input, the input's dtype for bfloat16 on CPU), which the rule leaves out.
    B = 4 if dtype == "float32" else 2
    assert saved_elements(net) == layers * (8 * t * c + 2 * t * ff + h * t * t)
    layer_norm_statistics = layers * 2 * 2 * t * B
    assert train_memory(net, dtype=dtype).activations == measured - layer_norm_statistics
    # Checkpointed: every block keeps only its input.
    blocks = list(model)

    def run(y):
        for block in blocks:
            y = checkpoint(block, y, use_reentrant=False)
        return y

    measured = saved_bytes(model, x, run)
    assert train_memory(net, dtype=dtype, checkpoint=True).activations == measured == layers * t * c * B


@pytest.mark.frameworks
@pytest.mark.slow
def test_zero_stage_1_equals_the_share_of_zero_redundancy_optimizer(tmp_path):
    """Each of 2 gloo ranks holds the Adam states of half the parameters (8 equal Linears:
    torch partitions whole parameters greedily by size, so Ψ/N_d holds exactly here)."""
    import socket
    import subprocess
    import sys
    from pathlib import Path

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = str(s.getsockname()[1])
    out = tmp_path / "state"
    worker = Path(__file__).with_name("zero_worker.py")
    subprocess.run([sys.executable, str(worker), "2", port, str(out)], check=True, timeout=300)
    shares = [int(Path(f"{out}.{rank}").read_text()) for rank in range(2)]
    memory = train_memory(symparams.parse("I(64)-H(64)*8"), "adam", zero=1, devices=2)
    assert shares == [memory.optimizer] * 2 == [8 * 33_280 // 2] * 2
