"""The transformer zoo against `transformers` itself: each model built from its published
config on the meta device, its `sum(p.numel())`, its output shape and (mixtures of
experts) its parameters per token, equal to symparams on one line of text.

Small models run in CI; the large ones (and the symbolic families' large members) are
marked `zoo` (run with `-m zoo`). Building on meta allocates nothing, so even DeepSeek-V3
(671B) takes seconds.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import transformers_zoo as Z

import symparams
from symparams.base.expr import symbol
from symparams.cli import main

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def marks(zoo: bool) -> list[pytest.MarkDecorator]:
    return [pytest.mark.frameworks, pytest.mark.zoo] if zoo else [pytest.mark.frameworks]


def moe_sizes(kwargs: dict) -> tuple[int, int] | None:
    """(E, k) of a config with routed experts."""
    for key in ("num_local_experts", "num_experts", "n_routed_experts"):
        if key in kwargs:
            return kwargs[key], kwargs["num_experts_per_tok"]
    ffn = kwargs.get("ffn_config")
    if ffn:
        return ffn["moe_num_experts"], ffn["moe_top_k"]
    return None


def with_t(net: symparams.Network) -> tuple:
    """The output shape at T tokens (a text on a sequence has t free)."""
    if "t" in {s.name for s in net.free_symbols}:
        return tuple(int(x) for x in net.subs(t=Z.T).output_shape)
    return tuple(int(x) for x in net.output_shape)


# ---------------------------------------------------------------- the texts alone (no framework)
@pytest.mark.parametrize("name", sorted(Z.MODELS))
def test_text_gives_the_published_count(name):
    m = Z.MODELS[name]
    net = symparams.parse(m.text, numeric=True)
    assert net.params == net.trainable == m.params
    assert net.active_params == (m.active if m.active is not None else m.params)
    assert all(c.free_symbols <= {symbol("t")} and c.subs(symbol("t"), Z.T) for c in net.conditions)


# ---------------------------------------------------------------- each model built in transformers
@pytest.mark.parametrize("name", [pytest.param(n, marks=marks(m.zoo)) for n, m in sorted(Z.MODELS.items())])
def test_model_built_by_transformers_matches(name):
    m = Z.MODELS[name]
    model = Z.build_model(m)
    net = symparams.parse(m.text)
    assert Z.count(model) == net.params == m.params
    moe = moe_sizes(m.kwargs)
    if moe is not None:
        assert Z.active_count(model, *moe) == net.active_params == m.active
        assert net.active_params < net.params
    assert Z.output_shape(model, m.inputs, m.output, m.mask) == with_t(net)


# ---------------------------------------------------------------- symbolic families at real configurations
LLAMA = "I(t)-E(V,d)-TB(h,ff,norm=rms,mlp=swiglu,bias=false,kv=kv)*L-RMS-O(V,bias=false{tied})"
MIXTRAL = (
    "I(t)-E(V,d)-TB(h,ff,norm=rms,mlp=swiglu,bias=false,kv=kv,experts=E,topk=k)*L-RMS-O(V,bias=false{tied})"
)
QWEN3 = "I(t)-E(V,d)-TB(h,ff,k=k,norm=rms,mlp=swiglu,bias=false,kv=kv,qknorm=head)*L-RMS-O(V,bias=false{tied})"
GPT2 = "I(t)-E(V,d)-PE(m)-TB(h,4*d)*L-LN-O(V,bias=false,tied=true)"


def llama(V, d, h, kv, ff, L, config="LlamaConfig", model="LlamaForCausalLM", **extra):
    kwargs = dict(vocab_size=V, hidden_size=d, num_attention_heads=h, num_key_value_heads=kv,
                  intermediate_size=ff, num_hidden_layers=L, tie_word_embeddings=False, **extra)
    return dict(V=V, d=d, h=h, kv=kv, ff=ff, L=L), config, model, kwargs


def mixtral(V, d, h, kv, ff, L, E, k, tied=False, config="MixtralConfig", model="MixtralForCausalLM"):
    kwargs = dict(vocab_size=V, hidden_size=d, num_attention_heads=h, num_key_value_heads=kv,
                  intermediate_size=ff, num_hidden_layers=L, num_local_experts=E, num_experts_per_tok=k,
                  tie_word_embeddings=tied)
    return dict(V=V, d=d, h=h, kv=kv, ff=ff, L=L, E=E, k=k), config, model, kwargs


def qwen3(V, d, h, kv, ff, L, tied):
    kwargs = dict(vocab_size=V, hidden_size=d, num_attention_heads=h, num_key_value_heads=kv, head_dim=128,
                  intermediate_size=ff, num_hidden_layers=L, tie_word_embeddings=tied)
    return dict(V=V, d=d, h=h, kv=kv, k=128, ff=ff, L=L), "Qwen3Config", "Qwen3ForCausalLM", kwargs


# name: (values, config class, model class, config, tied, in CI)
FAMILIES = {
    "llama": (LLAMA, [
        ("TinyLlama-1.1B", *llama(32000, 2048, 32, 4, 5632, 22), False, True),
        ("Llama-2-7B", *llama(32000, 4096, 32, 32, 11008, 32), False, False),
        ("Llama-2-13B", *llama(32000, 5120, 40, 40, 13824, 40), False, False),
        ("Llama-2-70B", *llama(32000, 8192, 64, 8, 28672, 80), False, False),
        ("Llama-3-8B", *llama(128256, 4096, 32, 8, 14336, 32), False, False),
        ("Llama-3.1-70B", *llama(128256, 8192, 64, 8, 28672, 80), False, False),
        ("Mistral-7B", *llama(32000, 4096, 32, 8, 14336, 32, "MistralConfig", "MistralForCausalLM"), False, False),
    ]),
    "mixtral": (MIXTRAL, [
        ("Mixtral-8x7B", *mixtral(32000, 4096, 32, 8, 14336, 32, 8, 2), False, False),
        ("Mixtral-8x22B", *mixtral(32768, 6144, 48, 8, 16384, 56, 8, 2), False, False),
        # DBRX: LayerNorms without bias (a weight of c each, as RMSNorm), fused Wqkv, 16 experts, top 4
        ("DBRX", dict(V=100352, d=6144, h=48, kv=8, ff=10752, L=40, E=16, k=4), "DbrxConfig", "DbrxForCausalLM",
         dict(d_model=6144, n_heads=48, n_layers=40, vocab_size=100352, max_seq_len=32768,
              attn_config={"kv_n_heads": 8, "rope_theta": 500000},
              ffn_config={"ffn_hidden_size": 10752, "moe_num_experts": 16, "moe_top_k": 4},
              tie_word_embeddings=False), False, False),
        # IBM Granite-3.0 MoE (GraniteMoeForCausalLM): the Mixtral layout with a tied head
        ("Granite-3.0-1B-A400M", *mixtral(49155, 1024, 16, 8, 512, 24, 32, 8, True, "GraniteMoeConfig",
                                          "GraniteMoeForCausalLM"), True, True),
        ("Granite-3.0-3B-A800M", *mixtral(49155, 1536, 24, 8, 512, 32, 40, 8, True, "GraniteMoeConfig",
                                          "GraniteMoeForCausalLM"), True, False),
    ]),
    "qwen3": (QWEN3, [
        ("Qwen3-0.6B", *qwen3(151936, 1024, 16, 8, 3072, 28, True), True, True),
        ("Qwen3-1.7B", *qwen3(151936, 2048, 16, 8, 6144, 28, True), True, False),
        ("Qwen3-4B", *qwen3(151936, 2560, 32, 8, 9728, 36, True), True, False),
        ("Qwen3-8B", *qwen3(151936, 4096, 32, 8, 12288, 36, False), False, False),
        ("Qwen3-14B", *qwen3(151936, 5120, 40, 8, 17408, 40, False), False, False),
        ("Qwen3-32B", *qwen3(151936, 5120, 64, 8, 25600, 64, False), False, False),
    ]),
    "gpt2": (GPT2, [
        (name, dict(V=50257, d=d, h=h, L=L, m=1024), "GPT2Config", "GPT2LMHeadModel",
         dict(vocab_size=50257, n_positions=1024, n_embd=d, n_layer=L, n_head=h), True, ci)
        for name, d, h, L, ci in [
            ("distilgpt2", 768, 12, 6, True),
            ("gpt2", 768, 12, 12, False),
            ("gpt2-medium", 1024, 16, 24, False),
            ("gpt2-large", 1280, 20, 36, False),
            ("gpt2-xl", 1600, 25, 48, False),
        ]
    ]),
}

FAMILY_CASES = [
    pytest.param(family, case, id=f"{family}-{case[0]}", marks=marks(not case[-1]))
    for family, (_, cases) in FAMILIES.items()
    for case in cases
]


def test_each_family_has_five_real_configurations():
    assert all(len(cases) >= 5 for _, cases in FAMILIES.values())


@pytest.mark.parametrize("family, case", FAMILY_CASES)
def test_symbolic_family_equals_transformers_at_a_real_configuration(family, case):
    template, _ = FAMILIES[family]
    name, values, config, model_class, kwargs, tied, _ = case
    net = symparams.parse(template.format(tied=",tied=true" if tied else ""))
    model = Z.build(config, model_class, kwargs)
    at = {symbol(k): v for k, v in values.items()}
    assert net.params.subs(at) == Z.count(model), name
    moe = moe_sizes(kwargs)
    if moe is not None:
        assert net.active_params.subs(at) == Z.active_count(model, *moe), name
    assert all(bool(c.subs({**at, symbol("t"): 8})) for c in net.conditions), name


def test_symbolic_families_are_closed_forms():
    V, d, h, kv, ff, L, E, k = (symbol(s) for s in ("V", "d", "h", "kv", "ff", "L", "E", "k"))
    dense = symparams.parse(LLAMA.format(tied=""))
    attention = 2 * d * d + 2 * d * kv * (d / h)
    assert (dense.params - (2 * V * d + d + L * (attention + 3 * d * ff + 2 * d))).expand() == 0
    moe = symparams.parse(MIXTRAL.format(tied=""))
    assert (moe.params - (2 * V * d + d + L * (attention + d * E + 3 * E * d * ff + 2 * d))).expand() == 0
    assert (moe.params - moe.active_params - L * (E - k) * 3 * d * ff).expand() == 0
    assert "k <= E" in {str(c) for c in moe.conditions}


# ---------------------------------------------------------------- examples/
# file: (zoo model, {definition or layer text: (params, active)} for the per-layer counts in the comments)
EXAMPLE_FILES = {
    "mixtral_8x7b.arch": ("mixtral-8x7b", {"layer": (1_451_270_144, 394_305_536)}),
    "qwen3_8b.arch": ("qwen3-8b", {"layer": (192_946_432, 192_946_432)}),
    "deepseek_v3.arch": (
        "deepseek-v3",
        {"mla": (187_107_328, 187_107_328), "dense": (583_483_392, 583_483_392),
         "sparse": (11_507_286_016, 585_318_400)},
    ),
    "gemma2_9b.arch": ("gemma-2-9b", {"layer": (198_195_200, 198_195_200)}),
    "mamba_130m.arch": ("mamba-130m", {"Mamba(16)": (3_770_880, 3_770_880)}),
}


def commented_counts(text: str) -> list[int]:
    import re

    comments = "\n".join(line for line in text.splitlines() if line.lstrip().startswith("#"))
    return [int(x.replace(",", "")) for x in re.findall(r"\d{1,3}(?:,\d{3})+", comments)]


@pytest.mark.parametrize("name", sorted(EXAMPLE_FILES))
def test_example_counts_are_the_models(name, capsys):
    import json

    text = (EXAMPLES / name).read_text(encoding="utf-8")
    zoo, parts = EXAMPLE_FILES[name]
    m = Z.MODELS[zoo]
    net = symparams.parse(text)
    active = m.params if m.active is None else m.active
    assert (net.params, net.active_params) == (m.params, active) == (symparams.parse(m.text).params,
                                                                     symparams.parse(m.text).active_params)
    numbers = commented_counts(text)
    assert numbers[0] == m.params and (m.active is None or numbers[1] == m.active)
    # the per-layer counts the comments give: each written alone on a sequence of the model's width
    width = int(net.layers[1].shape[-1])
    definitions = {line.split("=", 1)[0].strip(): line for line in text.splitlines() if " = " in line}
    for part, (params, part_active) in parts.items():
        if part in definitions:
            one = symparams.parse("\n".join(definitions.values()) + f"\nI(t,{width})-{part}")
        else:
            one = symparams.parse(f"I(t,{width})-{part}")
        assert (one.params, one.active_params) == (params, part_active), part
        assert params in numbers
    assert main([str(EXAMPLES / name), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert (data["params"], data["active_params"]) == (m.params, active)


def test_moe_table_shows_total_and_active(capsys):
    assert main([str(EXAMPLES / "mixtral_8x7b.arch")]) == 0
    out = capsys.readouterr().out
    assert "Total params: 46,702,792,704" in out
    assert "Active params (per token): 12,879,925,248" in out
    assert main([str(EXAMPLES / "qwen3_8b.arch")]) == 0
    assert "Active params" not in capsys.readouterr().out


def test_readme_section_lines_give_their_counts():
    import re

    readme = (EXAMPLES.parent / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Large language models"):readme.index("## Command line")]
    checked = 0
    for line in section.splitlines():
        match = re.match(r"^    (I\(.*?)\s+# .*?([\d,]{5,})$", line)
        if match:
            assert symparams.parse(match.group(1)).params == int(match.group(2).replace(",", "")), line
            checked += 1
    assert checked >= 8
    for row in re.findall(r"^\| (.+?) \| ([\d,]+) \| ([\d,]+) \|$", section, re.M):
        name = row[0].split(" (")[0].lower()
        m = Z.MODELS[name]
        assert (m.params, m.active) == (int(row[1].replace(",", "")), int(row[2].replace(",", ""))), name
