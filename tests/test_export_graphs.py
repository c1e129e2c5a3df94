"""Export and check of graphs (README "Graphs" and "Export"): named tensors as variables of
the forward (PyTorch) or tensors of the functional model (Keras), several inputs and
outputs, cross-attention (XA), latent attention (MLA) and tied embeddings, checked row by
row against the framework: small cases and random graphs in both frameworks, the graph
models of tests/test_graphs.py (in PyTorch on the meta device; Keras's big ones with -m zoo)."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import graph_models as G
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_export import assert_agrees

import symparams
from symparams.export import ExportError, to_keras, to_torch

ROOT = Path(__file__).resolve().parents[1]

GRAPH_CASES = [
    # several inputs and outputs, a chain from a name, a branch that reads a tensor
    "a := I(4); b := I(3); ab := [a | b]-H(2); c := b-H(5); ab, c",
    "x := I(5,8)-H(8); y := x-[id | H(4)]; z := x-[id + x]-LN; y, z",
    "x := I(4); h := x-H(3); [h | h]-O(1)",
    "x := I(4); a := x-H(3); b := x-H(5); [a | b]-O(1)",
    # a tensor bound to another, one returned alone, an image graph (FPN-like)
    "a := I(4)-H(4); b := a; b",
    "c2 := I(16,16,3)-C(8,3,s=2,p=same)-BN-relu; c3 := c2-C(16,3,s=2,p=same); "
    "p3 := c3-C(8,1); p2 := [c2-C(8,1) + p3-T(8,2,s=2)]; p2, p3",
    # cross-attention: every option, keys and values from the memory's own width
    "m := I(5,16)-H(32); I(7,32)-[XA(4, memory=m) + id]*3-O(2)",
    "enc := I(5,12)-H(12); dec := I(6,16)-[LN-XA(4, memory=enc, bias=qv, kv=2, k=3) + id]"
    "-XA(2, memory=enc, kv=1)-XA(2, memory=enc, k=5)-XA(4, memory=enc, bias=false); dec",
    "enc := I(4,16); I(3,16)-XA(4, memory=enc, kv=2)-XA(2, memory=enc, bias=qvo)",
    # definitions that take tensor names, a cell that reads the two cells before it
    "attend(m) = [LN-XA(2, memory=m) + id]; fuse(a) = [id | a]; e := I(5,8)-H(8); I(5,8)-attend(e)*2-fuse(e)",
    "cell(h, q) = [q | [h-H(4) + q-H(4)]]; x0 := I(3,4); x1 := x0-H(4); x2 := cell(x0, x1); "
    "x3 := cell(x1, x2); x3",
    # an encoder-decoder with a shared embedding and a tied head
    "enc := I(6)-E(50,16)-TB(2,32); I(5)-E(50,16,tied=true)-[LN-XA(2, memory=enc) + id]-O(50,bias=false,tied=true)",
    # latent attention (both query forms, with biases), X**n inside a graph
    "I(6,16)-MLA(4,kv=8,nope=4,rope=2,v=3,q=6,bias=true)-MLA(2,kv=4,nope=2,rope=2,v=5)",
    "a := I(4,8)-(H(8)-relu)**2; b := a-H(3); a, b",
    # DeepSeek-V3's form, small: latent attention, a dense block, then shared and routed experts
    "mla = MLA(4,kv=8,nope=4,rope=2,v=4,q=8)\n"
    "dense = [RMS-mla + id]-[RMS-SwiGLU(24,bias=false)-H(16,bias=false) + id]\n"
    "sparse = [RMS-mla + id]-[RMS-MoE(4,2,8,shared=1) + id]\n"
    "I(6)-E(50,16)-dense-sparse*2-RMS-O(50,bias=false)",
    # n copies of a branch that reads a tensor; a memory made of an image's positions
    "m := I(4,8); I(4,8)-2[[id + m]-H(4)]",
    "img := I(8,8,3)-C(16,2,s=2)-SEQ; I(5)-E(30,16)-[LN-XA(4, memory=img) + id]-O(30)",
    # token ids bound on a line of their own, embedded by a later line
    "ids := I(6); x := ids-E(20,8)-H(4); y := ids-E(20,8,tied=true); x, y",
    # a cell's parameters: one class for every use, and a parameter named as another tensor
    "x := I(3,4); y := x-H(4); f(q) = [q | x]-H(4); z := f(y); w := f(z); w",
    "a := I(3,4); b := a-H(4); f(a) = [a | b]; c := f(b); c",
    # tensor names that are Python's or the frameworks' names
    "x := I(4); self := x-H(3); torch := x-H(2); layers := [self | torch]-O(1); class := layers-H(2); layers, class",
    # XADD: a named vector added at every position (projected, or as it is), inside a block
    "t := I(16); I(6,6,8)-XADD(memory=t, act=silu)-C(4,3)",
    "t := I(8); I(5,8)-XADD(memory=t, proj=false)-H(3)",
    "t := I(8); I(4,4,8)-XADD(memory=t, proj=false, act=gelu)",
    "t := I(6)-H(10); I(4,4,8)-[GN(2)-XADD(memory=t, act=mish, bias=false) + id]-XADD(memory=t, act=tanh)",
    # UNSEQ: back to the SEQ's image; a ResnetBlock2D-Transformer2DModel pair, small
    "I(4,6,8)-SEQ-LN-H(8)-UNSEQ-C(4,1)",
    "I(2,3,4,8)-SEQ-H(5)-UNSEQ",
    "temb := I(12)-H(16); text := I(3,10); "
    "I(4,4,8)-[GN(2)-silu-C(8,3,p=1)-XADD(memory=temb,act=silu)-GN(2)-C(8,3,p=1) + id]"
    "-[GN(2)-C(8,1)-SEQ-[LN-XA(2,memory=text,bias=o) + id]-UNSEQ-C(8,1) + id]",
]


@pytest.mark.frameworks
@pytest.mark.parametrize("convention", ["torch", "keras"])
@pytest.mark.parametrize("text", GRAPH_CASES)
def test_graph_cases_export_to_both_frameworks(text, convention):
    assert_agrees(symparams.parse(text, convention=convention), convention)


def test_named_tensors_are_variables_of_the_forward():
    net = symparams.parse(G.TRANSFORMER, values={"d": 16, "h": 2, "ff": 32, "L_enc": 1, "L_dec": 2, "V": 40, "s": 5, "t": 4})
    source = to_torch(net)
    assert "def forward(self, src_input: torch.Tensor, output_input: torch.Tensor) -> torch.Tensor:" in source
    assert "src = self.embed1(src_input)" in source and "enc = self.enc_layers1(src)" in source
    assert "output = self.dec_layers1(output, {\"enc\": enc})" in source
    assert "INPUT_SHAPES = ((5,), (4,))" in source and "INPUT_DTYPES = (torch.long, torch.long)" in source
    keras_source = to_keras(symparams.parse(G.TRANSFORMER, convention="keras", values=dict(net.values)))
    assert "def dec_layer(x, name, tensors):" in keras_source
    assert 'layers.MultiHeadAttention(2, 8, name=f"{name}_residual2_xa1")(x, tensors["enc"])' in keras_source
    assert "return keras.Model([src_input, output_input], output" in keras_source
    several = to_keras(symparams.parse(GRAPH_CASES[0], convention="keras"))
    assert "return keras.Model([a, b], [ab, c]" in several


def test_exported_graphs_pass_ruff(tmp_path):
    import importlib.util
    import subprocess

    ruff = [sys.executable, "-m", "ruff"] if importlib.util.find_spec("ruff") else ["ruff"]
    for i, text in enumerate(GRAPH_CASES + [G.FPN, G.WHISPER_TINY]):
        (tmp_path / f"graph{i}_torch.py").write_text(to_torch(symparams.parse(text, values=LENGTHS)))
        keras_net = symparams.parse(text, convention="keras", values=LENGTHS)
        (tmp_path / f"graph{i}_keras.py").write_text(to_keras(keras_net))
    done = subprocess.run(
        ruff + ["check", "--no-cache", "--isolated", "--line-length", "110", str(tmp_path)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_cell_is_one_class_read_by_its_parameters_names():
    """NASNet's normal cells: one class (function) per width, given the tensors it reads
    under its parameters' names."""
    text = (ROOT / "examples" / "nasnet_mobile.arch").read_text()
    source = to_torch(symparams.parse(text))
    assert [line for line in source.split("\n") if line.startswith("class Normal")] == [
        "class Normal_44(nn.Module):",
        "class Normal_88(nn.Module):",
        "class Normal_176(nn.Module):",
    ]
    assert 'x4 = self.normal2(None, {"q": q4, "h": h4})' in source and 'Read("q"),  # q' in source
    keras_source = to_keras(symparams.parse(text, convention="keras"))
    assert 'x4 = normal_44(None, "normal2", {"q": q4, "h": h4})' in keras_source
    assert 'tensors["h"]' in keras_source and 'tensors["h4"]' not in keras_source


def test_the_tensor_names_are_kept_in_the_rows():
    net = symparams.parse("e := I(5,8); f(m) = [id | m]; I(5,8)-[LN-XA(2, memory=e) + id]-f(e)")
    xa = next(r for r in net.walk() if r.name == "XA")
    assert xa.args["memory"] == (5, 8) and xa.args["memory"].name == "e"
    assert [r.args["tensor"] for r in net.walk() if r.kind == "Tensor"] == ["e"]


@pytest.mark.frameworks
def test_latent_attention_has_deepseek_v3s_parameters():
    """The exported LatentAttention module has exactly the parameters, by name and shape,
    of transformers' DeepseekV3Attention on the same config."""
    import torch

    sys.modules.setdefault("torchvision._meta_registrations", types.ModuleType("torchvision._meta_registrations"))
    from transformers import DeepseekV3Config
    from transformers.models.deepseek_v3.modeling_deepseek_v3 import DeepseekV3Attention

    from symparams.export.check import load

    for q, bias in [(24, False), (None, False), (24, True)]:
        config = DeepseekV3Config(
            hidden_size=32, num_attention_heads=4, kv_lora_rank=16, q_lora_rank=q, qk_nope_head_dim=8,
            qk_rope_head_dim=4, v_head_dim=6, attention_bias=bias,
        )  # fmt: skip
        with torch.device("meta"):
            real = DeepseekV3Attention(config, layer_idx=0)
        q_text = f",q={q}" if q else ""
        net = symparams.parse(f"I(5,32)-MLA(4,kv=16,nope=8,rope=4,v=6{q_text},bias={str(bias).lower()})")
        module = load(to_torch(net), "mla_export")
        with torch.device("meta"):
            ours = module.build().mla1
        shapes = {n: tuple(p.shape) for n, p in ours.named_parameters()}
        assert shapes == {n: tuple(p.shape) for n, p in real.named_parameters()}


# ---------------------------------------------------------------- random graphs
@pytest.mark.frameworks
@settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.data())
def test_random_graphs_export_to_both_frameworks(data):
    text = G.random_graph(data.draw)
    for convention in ("torch", "keras"):
        assert_agrees(symparams.parse(text, convention=convention), convention)


# ---------------------------------------------------------------- the graph models
SMALL_TRANSFORMER = {"d": 32, "h": 4, "ff": 64, "L_enc": 2, "L_dec": 2, "V": 100, "s": 7, "t": 5}
LENGTHS = {"s": 16, "t": 16}
GRAPH_MODELS = {
    "transformer": (G.TRANSFORMER, SMALL_TRANSFORMER, False),
    "fpn": (G.FPN, {}, False),
    "t5_small": (G.T5_SMALL_NO_RELATIVE_BIAS, LENGTHS, True),
    "whisper_tiny": (G.WHISPER_TINY, LENGTHS, False),
    "clip_towers": (G.CLIP_TOWERS, {}, True),
    "bart_base": (G.BART_BASE, LENGTHS, True),
    "googlenet": (G.GOOGLENET, {}, False),
    "inception_v3": (G.INCEPTION_V3, {}, True),
    # Being moved into examples/ by another branch; read from where they are.
    "t5_small.arch": ("examples/needs_i15/t5_small.arch", LENGTHS, True),
    "clip_vit_b32.arch": ("examples/needs_i15/clip_vit_b32.arch", {}, True),
}


def graph_model(key: str, convention: str):
    text, values, _ = GRAPH_MODELS[key]
    if text.endswith(".arch"):
        path = ROOT / text
        if not path.exists():
            path = ROOT / "examples" / Path(text).name
        text = path.read_text()
    return symparams.parse(text, convention=convention, values=values)


def _params(framework: str):
    for key, (_, _, big) in GRAPH_MODELS.items():
        marks = [pytest.mark.zoo] if framework == "keras" and big else []
        yield pytest.param(key, framework, id=f"{key}-{framework}", marks=marks)


@pytest.mark.frameworks
@pytest.mark.parametrize("key,framework", [*_params("torch"), *_params("keras")])
def test_graph_models_export_and_agree(key, framework):
    assert_agrees(graph_model(key, framework), framework)


@pytest.mark.frameworks
def test_shared_repetition_that_reads_a_tensor_in_torch():
    """X**n whose X reads a graph's tensor: FlowShared in PyTorch; Keras refuses it (below)."""
    text = "m := I(3,8); I(4,8)-[XA(2, memory=m) + id]**2"
    assert_agrees(symparams.parse(text), "torch")
    assert "FlowShared(" in to_torch(symparams.parse(text))


def test_what_is_still_refused_is_refused_by_name():
    with pytest.raises(ExportError, match="no Keras exporter for X\\*\\*n that reads a graph's tensors"):
        to_keras(symparams.parse("m := I(3,8); I(4,8)-[XA(2, memory=m) + id]**2", convention="keras"))
    with pytest.raises(ExportError, match="tied embedding"):
        to_torch(symparams.parse("a := I(3)-[E(20,4) + E(20,4,tied=true)]; a"))


@pytest.mark.frameworks
def test_add_vector_and_untokens_compute_what_diffusers_computes():
    """The exported XADD is h + proj(act(v)) at every pixel, and UNSEQ undoes SEQ (diffusers'
    reshape-permute): compared with the formulas on real tensors, not only the counts."""
    import torch

    text = "t := I(6); I(4,2,3)-SEQ-UNSEQ-XADD(memory=t, act=silu)"
    from symparams.export.check import load

    module = load(to_torch(symparams.parse(text)), "xadd_export")
    assert module.INPUT_SHAPES == ((6,), (3, 4, 2))  # channels first: (c, h, w)
    model = module.build()
    x, t = torch.randn(2, 3, 4, 2), torch.randn(2, 6)
    out = model(t, x)  # the inputs in the order of the text
    xadd = [m for m in model.modules() if type(m).__name__ == "AddVector"][0]
    expected = x + xadd.proj(torch.nn.functional.silu(t))[:, :, None, None]
    assert torch.allclose(out, expected)
    assert not torch.allclose(out, x + xadd.proj(t)[:, :, None, None])  # the activation is applied


@pytest.mark.frameworks
def test_fixed_weights_are_parameters_that_take_no_gradient():
    """W(trainable=false): in parameters() with requires_grad False (ultralytics' DFL), and a
    non-trainable Keras weight."""
    from symparams.export.check import load

    net = symparams.parse("I(8)-W(1,16,1,1,trainable=false)-W(3)-H(2)")
    model = load(to_torch(net), "fixed_export").build()
    grads = sorted((p.numel(), p.requires_grad) for p in model.parameters())
    assert grads == [(2, True), (3, True), (16, False), (16, True)]
    model = load(to_keras(symparams.parse(net.text, convention="keras")), "fixed_export_keras").build()
    assert sum(int(w.numpy().size) for w in model.non_trainable_weights) == 16 == net.non_trainable
