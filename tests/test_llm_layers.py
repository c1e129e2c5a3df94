"""The constructs of large language models, one at a time: mixture of experts and its active
count (record, rows, table, JSON, solve, sweep), qk-norm, partial biases, block placements,
GeGLU, MLA, Mamba, bare tensors, tables, squeeze, shared-weight repetition, and their errors.
Whole models are checked against transformers in test_transformers_zoo.py."""

from __future__ import annotations

import json

import pytest
import sympy

import symparams
from symparams.base.expr import symbol
from symparams.cli import main

E, k, c, f, t, d, h, L, n = (symbol(s) for s in ("E", "k", "c", "f", "t", "d", "h", "L", "n"))


def parse(text: str) -> symparams.Network:
    return symparams.parse(text)


# ---------------------------------------------------------------- mixture of experts
def test_moe_total_and_active_are_symbolic():
    net = parse("I(t,c)-MoE(E,k,f)")
    assert sympy.expand(net.params - (c * E + 3 * E * c * f)) == 0
    assert sympy.expand(net.active_params - (c * E + 3 * k * c * f)) == 0
    assert net.conditions == (sympy.Le(k, E),)
    assert net.layers[1].active_params == net.active_params


@pytest.mark.parametrize(
    "text, params, active",
    [
        # router c·E (+E), E experts, s shared of width shared_ff; plain experts: 2·c·ff (+ ff + c)
        ("I(t,16)-MoE(4,1,8)", 16 * 4 + 4 * 3 * 16 * 8, 16 * 4 + 3 * 16 * 8),
        ("I(t,16)-MoE(4,2,8,router_bias=true)", 16 * 4 + 4 + 4 * 384, 16 * 4 + 4 + 2 * 384),
        ("I(t,16)-MoE(4,2,8,mlp=gelu,bias=true)", 64 + 4 * (256 + 8 + 16), 64 + 2 * (256 + 8 + 16)),
        ("I(t,16)-MoE(4,2,8,shared=2,shared_ff=5)", 64 + 4 * 384 + 2 * 240, 64 + 2 * 384 + 2 * 240),
        ("I(t,16)-MoE(4,4,8)", 64 + 4 * 384, 64 + 4 * 384),
    ],
)
def test_moe_counts(text, params, active):
    net = parse(text)
    assert (net.params, net.active_params) == (params, active)


def test_moe_in_a_block_and_repeated():
    one = parse("I(t,64)-TB(4,32,norm=rms,mlp=swiglu,bias=false,experts=8,topk=2)")
    long = parse("I(t,64)-[RMS-MHA(4,bias=false) + id]-[RMS-MoE(8,2,32) + id]")
    assert (one.params, one.active_params) == (long.params, long.active_params)
    many = parse("I(t,64)-TB(4,32,norm=rms,mlp=swiglu,bias=false,experts=8,topk=2)*L")
    assert sympy.expand(many.params - L * one.params) == 0
    assert sympy.expand(many.active_params - L * one.active_params) == 0
    # first layers dense via the chain (DeepSeek): dense*2-sparse*3
    mixed = parse("I(t,64)-TB(4,32,norm=rms,mlp=swiglu,bias=false)*2-"
                  "TB(4,32,norm=rms,mlp=swiglu,bias=false,experts=8,topk=2)*3")
    dense = parse("I(t,64)-TB(4,32,norm=rms,mlp=swiglu,bias=false)")
    assert mixed.params == 2 * dense.params + 3 * one.params
    assert mixed.active_params == 2 * dense.params + 3 * one.active_params


def test_dense_network_is_all_active():
    net = parse("I(t)-E(V,d)-TB(h,4*d)*L-LN-O(V,bias=false,tied=true)")
    assert net.active_params == net.params
    assert net.inactive == 0


def test_moe_macs_count_the_chosen_experts():
    # per token: router c·E and k experts of 3·c·ff (FLOPs/2, biases not counted)
    net = parse("I(t,c)-MoE(E,k,f,shared=1)")
    assert sympy.expand(net.macs - t * (c * E + 3 * k * c * f + 3 * c * f)) == 0


def test_active_params_in_ideal_mode_and_after_substitution():
    net = symparams.parse("I(t,c)-MoE(E,k,f)", mode="ideal")
    assert sympy.expand(net.active_params - (c * E + 3 * k * c * f)) == 0
    assert net.subs(E=8, k=2, c=4096, f=14336).active_params == 4096 * 8 + 2 * 3 * 4096 * 14336


def test_active_params_is_a_target_of_solve_and_sweep():
    net = parse("I(t,64)-MoE(E,2,128)")  # active = 64·E + 2·3·64·128
    assert net.solve("E", 1_000_000, target="active_params", how="max").as_dict() == {
        "value": (1_000_000 - 49152) // 64, "total": 49152 + 64 * ((1_000_000 - 49152) // 64)}
    sweep = net.sweep({"E": [4, 8]}, targets=("params", "active_params"))
    assert sweep.totals["active_params"].tolist() == [49152 + 256, 49152 + 512]
    assert sweep.totals["params"].tolist() == [256 + 4 * 24576, 512 + 8 * 24576]


def test_active_params_in_json_table_markdown_and_cli(capsys):
    assert main(["I(t,64)-MoE(8,2,128)", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert (data["params"], data["active_params"]) == (197120, 49664)
    assert data["layers"][1]["active_params"] == 49664
    assert main(["I(784)-O(10)", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["active_params"] == 7850
    assert main(["I(t,64)-MoE(8,2,128)"]) == 0
    out = capsys.readouterr().out
    assert "Active params (per token): 49,664" in out and "Active" in out.splitlines()[3]
    from symparams.report.markup import html, markdown

    assert "**Active params (per token):** 49,664" in markdown(parse("I(t,64)-MoE(8,2,128)"))
    assert "Active params (per token):</b> 49,664" in html(parse("I(t,64)-MoE(8,2,128)"))
    assert main(["solve", "I(t,64)-MoE(E,2,128)", "--for", "E", "--active-params", "1M"]) == 0
    assert "E = 14857" in capsys.readouterr().out


# ---------------------------------------------------------------- attention options
@pytest.mark.parametrize(
    "text, expected",
    [
        # Qwen2: q, k, v biased, o not
        ("I(t,64)-MHA(4,kv=2,bias=qkv)", 64 * 64 * 2 + 2 * 64 * 32 + 64 + 32 + 32),
        # Whisper: q, v, o biased, k not
        ("I(t,64)-MHA(4,bias=qvo)", 4 * 64 * 64 + 3 * 64),
        ("I(t,64)-MHA(4,bias=vqo)", 4 * 64 * 64 + 3 * 64),
        ("I(t,64)-MHA(4,bias=true)", 4 * 64 * 64 + 4 * 64),
        # qk-norm over the head width (Qwen3): one RMSNorm of k for q and one for k
        ("I(t,64)-MHA(4,k=32,kv=2,bias=false,qknorm=head)", 64 * 128 + 2 * 64 * 64 + 128 * 64 + 2 * 32),
        # over the whole projections (OLMo-2): h·k + kv·k
        ("I(t,64)-MHA(4,kv=2,bias=false,qknorm=full)", 2 * 64 * 64 + 2 * 64 * 32 + 64 + 32),
        ("I(t,64)-MHA(4,bias=false,qknorm=head,qknorm_kind=ln)", 4 * 64 * 64 + 4 * 16),
        ("I(t,64)-MHA(4,bias=false,qknorm=head,qknorm_kind=ln,qknorm_bias=false)", 4 * 64 * 64 + 2 * 16),
    ],
)
def test_attention_options(text, expected):
    assert parse(text).params == expected


def test_attention_options_with_torch():
    torch = pytest.importorskip("torch")
    nn = torch.nn
    with torch.device("meta"):
        qwen2 = [nn.Linear(64, 64), nn.Linear(64, 32), nn.Linear(64, 32), nn.Linear(64, 64, bias=False)]
        whisper = [nn.Linear(64, 64), nn.Linear(64, 64, bias=False), nn.Linear(64, 64), nn.Linear(64, 64)]
    numel = lambda mods: sum(p.numel() for m in mods for p in m.parameters())  # noqa: E731
    assert parse("I(t,64)-MHA(4,kv=2,bias=qkv)").params == numel(qwen2)
    assert parse("I(t,64)-MHA(4,bias=qvo)").params == numel(whisper)


@pytest.mark.parametrize(
    "options, extra",
    [
        ("", 0),
        ("place=post", 0),
        ("place=out", 0),
        ("place=sandwich", 2 * 2 * 64),  # two more LayerNorms (weight and bias)
        ("parallel=1", -2 * 64),  # one shared norm
        ("parallel=2", 0),
        ("norm_bias=false", -2 * 64),
        ("attn_bias=qkv", -64),
        ("attn_bias=false", -4 * 64),
        ("mlp=geglu", 64 * 256 + 256),  # gated: a third matrix and its bias
    ],
)
def test_block_options(options, extra):
    base = parse("I(t,64)-TB(4,256)").params
    assert parse(f"I(t,64)-TB(4,256{',' + options if options else ''})").params == base + extra


def test_block_head_width_and_long_forms():
    assert parse("I(t,48)-TB(4,96,k=16,bias=false,norm=rms)").params == (
        parse("I(t,48)-[RMS-MHA(4,k=16,bias=false) + id]-[RMS-H(96,bias=false)-gelu-H(48,bias=false) + id]").params
    )
    forms = {
        "place=post": "[MHA(4) + id]-LN-[H(96)-gelu-H(48) + id]-LN",
        "place=sandwich": "[LN-MHA(4)-LN + id]-[LN-H(96)-gelu-H(48)-LN + id]",
        "place=out": "[MHA(4)-LN + id]-[H(96)-gelu-H(48)-LN + id]",
        "parallel=1": "[LN-[MHA(4) + H(96)-gelu-H(48)] + id]",
        "parallel=2": "[LN-MHA(4) + LN-H(96)-gelu-H(48) + id]",
    }
    for option, long in forms.items():
        short = parse(f"I(t,48)-TB(4,96,{option})")
        assert short.params == parse(f"I(t,48)-{long}").params, option
        assert short.macs == parse(f"I(t,48)-{long}").macs, option


def test_geglu_equals_swiglu_in_count():
    assert parse("I(t,d)-GeGLU(f)-H(d)").params == parse("I(t,d)-SwiGLU(f)-H(d)").params


# ---------------------------------------------------------------- MLA, Mamba, tensors, tables, squeeze
def test_mla_symbolic():
    q, r, nope, rope, v, kv = (symbol(s) for s in ("q", "r", "nope", "rope", "v", "kv"))
    net = parse("I(t,c)-MLA(h,kv=r,nope=nope,rope=rope,v=v,q=q)")
    expected = (c * q + q + q * h * (nope + rope) + c * (r + rope) + r + r * h * (nope + v) + h * v * c)
    assert sympy.expand(net.params - expected) == 0
    full = parse("I(t,c)-MLA(h,kv=r,nope=nope,rope=rope,v=v)")
    assert sympy.expand(full.params - (expected - (c * q + q + q * h * (nope + rope)) + c * h * (nope + rope))) == 0


def test_mla_against_transformers():
    pytest.importorskip("transformers")
    import transformers_zoo as Z

    transformers = Z.transformers_module()
    import torch
    from transformers.models.deepseek_v3 import modeling_deepseek_v3 as M

    for q in (None, 48):
        cfg = transformers.DeepseekV3Config(hidden_size=64, num_attention_heads=4, q_lora_rank=q, kv_lora_rank=16,
                                            qk_nope_head_dim=8, qk_rope_head_dim=4, v_head_dim=6)
        with torch.device("meta"):
            attn = M.DeepseekV3Attention(cfg, 0)
        text = "I(t,64)-MLA(4,kv=16,nope=8,rope=4,v=6" + (f",q={q})" if q else ")")
        assert sum(p.numel() for p in attn.parameters()) == parse(text).params


def test_mamba_against_transformers():
    pytest.importorskip("transformers")
    import transformers_zoo as Z

    transformers = Z.transformers_module()
    import torch
    from transformers.models.mamba import modeling_mamba as M

    for c, N, expand, conv, bias in ((40, 8, 3, 3, False), (768, 16, 2, 4, True), (33, 4, 1, 2, False)):
        cfg = transformers.MambaConfig(hidden_size=c, state_size=N, expand=expand, conv_kernel=conv, use_bias=bias)
        with torch.device("meta"):
            mixer = M.MambaMixer(cfg, 0)
        text = f"I(t,{c})-Mamba({N},expand={expand},conv={conv},bias={'true' if bias else 'false'})"
        assert sum(p.numel() for p in mixer.parameters()) == parse(text).params, text


def test_mamba_symbolic_default_rank():
    net = parse("I(t,c)-Mamba")
    dt = sympy.ceiling(c / 16)
    expected = 4 * c * c + 2 * c * 4 + 2 * c * (dt + 32) + 2 * dt * c + 2 * c * 16 + 2 * c + 2 * c * c + 2 * c + 2 * c
    assert sympy.simplify(net.params.subs(c, 768) - expected.subs(c, 768)) == 0
    assert net.subs(c=768).params == 3_770_880
    assert net.subs(c=33).params == parse("I(t,33)-Mamba").params


def test_bare_tensor_tables_and_squeeze():
    assert parse("I(t,c)-W(1)").params == 1
    assert parse("I(t,c)-W(1536,16)-W(1536)").params == 1536 * 17
    assert parse("I(t,c)-W(2,3,4,5)").output_shape == (t, c)
    # A fixed tensor (requires_grad=False; YOLOv8's DFL weight), in both conventions.
    for convention in ("torch", "keras"):
        fixed = symparams.parse("I(t,c)-W(1,16,1,1,trainable=false)-W(3)", convention=convention)
        assert (fixed.params, fixed.trainable, fixed.non_trainable) == (19, 3, 16)
    assert parse("I(t,768)-RT(512,norm=ln)").params == 512 * 768 + 2 * 768
    assert parse("I(t,768)-RT(512,norm=rms)").params == 512 * 768 + 768
    assert parse("I(t,768)-RT(512)").params == 512 * 768
    assert parse("I(t,512)-RB(32,8)").params == 256
    assert parse("I(t,256)-H(1)-SQ").output_shape == (t,)
    assert parse("I(t,n)-SQ").conditions == (sympy.Eq(n, 1),)


# ---------------------------------------------------------------- shared-weight repetition
def test_shared_repetition_counts_the_weights_once_and_the_work_n_times():
    shared = parse("I(t,d)-TB(h,4*d)**L")
    once = parse("I(t,d)-TB(h,4*d)")
    separate = parse("I(t,d)-TB(h,4*d)*L")
    assert shared.params == once.params
    assert sympy.expand(shared.macs - L * once.macs) == 0
    assert sympy.expand(shared.activations - separate.activations) == 0
    assert separate.params != shared.params
    assert parse("I(t,64)-TB(4,256)**12").params == parse("I(t,64)-TB(4,256)").params
    # a definition's use spells its body back with the values: the ** stays
    used = parse("b(w) = (LN-H(w))**3\nI(t,d)-b(d)")
    assert used.params == parse("I(t,d)-LN-H(d)").params
    assert any("(LN-H(d))**3" in row.text for row in used.walk())
    assert used.layers[1].kind == "SharedRepeat" or used.layers[1].children[0].kind == "SharedRepeat"


# ---------------------------------------------------------------- errors, with the rule and a caret
@pytest.mark.parametrize(
    "text, message, column",
    [
        ("I(t,64)-MoE(4,8,128)", "needs the experts run per token k=8 at most the experts E=4", 8),
        ("I(t,64)-TB(4,128,experts=4,topk=8)", "at most the experts E=4", 8),
        ("I(t,100)-TB(12,300)", "needs the width 100 divisible by the heads h=12", 9),
        ("I(t,64)-MHA(6,kv=4,k=8)", "needs the key/value heads kv=4 to divide the heads h=6", 8),
        ("I(t,7168)-MLA(128,kv=0,nope=128,rope=64,v=128)", "'kv' must be positive, got 0", 21),
        ("I(t,7168)-MLA(128,kv=512,nope=128,rope=64,v=128,q=0)", "'q' must be positive, got 0", 50),
        ("I(t,64)-Mamba(dt=0)", "'dt' must be positive, got 0", 17),
        ("I(t,d)-H(2*d)**3", "applies one block's weights 3 times, which needs a block that keeps its shape", 7),
        ("I(t,64)-TB(4,128,parallel=3)", "parallel must be 0, 1", 8),
        ("I(t,64)-TB(4,128,parallel=1,place=post)", "takes no place=post", 8),
        ("I(t,64)-TB(4,128,experts=8)", "needs both experts=E and topk=k", 8),
        ("I(t,64)-TB(4,128,shared=1)", "describe a mixture of experts", 8),
        ("I(t,64)-MHA(4,bias=qkx)", "must be true, false or some of the letters q, k, v, o", 19),
        ("I(t,64)-MHA(4,bias=qq)", "each once", 19),
        ("I(t,4)-SQ", "drops a last axis of size 1, but the last axis is 4", 7),
    ],
)
def test_errors_name_the_rule_and_point_at_it(text, message, column, capsys):
    with pytest.raises(symparams.SymparamsError) as err:
        parse(text)
    assert message in str(err.value)
    assert err.value.pos == column, (err.value.pos, text[err.value.pos:])
    assert "^" in str(err.value)
    assert main([text]) == 2
    assert "Traceback" not in capsys.readouterr().err


def test_symbolic_moe_with_too_few_experts_fails_at_substitution():
    net = parse("I(t,64)-MoE(E,k,128)")
    with pytest.raises(symparams.SymparamsError):
        net.subs(E=2, k=4)


# ---------------------------------------------------------------- MACs = FlopCounterMode / 2
FLOP_CASES = [
    # config, model, config kwargs, module whose FLOPs are read, symparams text at t = 7
    ("MixtralConfig", "MixtralForCausalLM",
     dict(hidden_size=16, intermediate_size=8, num_attention_heads=4, num_key_value_heads=2, num_local_experts=4,
          num_experts_per_tok=2, experts_implementation="eager"),
     "layers.0.mlp", "I(7,16)-MoE(4,2,8)"),
    ("MambaConfig", "MambaForCausalLM", dict(hidden_size=16, state_size=4, expand=2, conv_kernel=4),
     "layers.0.mixer", "I(7,16)-Mamba(4)"),
    ("MambaConfig", "MambaForCausalLM", dict(hidden_size=24, state_size=3, expand=3, conv_kernel=2, time_step_rank=5),
     "layers.0.mixer", "I(7,24)-Mamba(3,expand=3,conv=2,dt=5)"),
    ("DeepseekV3Config", "DeepseekV3ForCausalLM",
     dict(hidden_size=16, intermediate_size=8, first_k_dense_replace=1, num_attention_heads=4, num_key_value_heads=4,
          q_lora_rank=None, kv_lora_rank=8, qk_nope_head_dim=4, qk_rope_head_dim=2, v_head_dim=3, n_routed_experts=4,
          num_experts_per_tok=2, n_group=1, topk_group=1),
     "layers.0.self_attn", "I(7,16)-MLA(4,kv=8,nope=4,rope=2,v=3)"),
    ("DeepseekV3Config", "DeepseekV3ForCausalLM",
     dict(hidden_size=16, intermediate_size=8, first_k_dense_replace=1, num_attention_heads=4, num_key_value_heads=4,
          q_lora_rank=12, kv_lora_rank=8, qk_nope_head_dim=4, qk_rope_head_dim=2, v_head_dim=3, n_routed_experts=4,
          num_experts_per_tok=2, n_group=1, topk_group=1),
     "layers.0.self_attn", "I(7,16)-MLA(4,kv=8,nope=4,rope=2,v=3,q=12)"),
    ("GemmaConfig", "GemmaForCausalLM",
     dict(hidden_size=16, intermediate_size=8, num_attention_heads=4, num_key_value_heads=1, head_dim=8),
     "layers.0.mlp", "I(7,16)-GeGLU(8)-H(16,bias=false)"),
]


@pytest.mark.frameworks
@pytest.mark.parametrize("config, model_class, kwargs, module, text", FLOP_CASES, ids=[c[4] for c in FLOP_CASES])
def test_macs_are_half_the_flop_counter(config, model_class, kwargs, module, text):
    """A tiny model of one layer on the CPU (eager attention and experts, which
    FlopCounterMode sees): the FLOPs of one module over 7 tokens are 2 × its MACs."""
    import transformers_zoo as Z

    transformers = Z.transformers_module()
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    torch.manual_seed(0)
    cfg = getattr(transformers, config)(vocab_size=50, num_hidden_layers=1, **kwargs)
    cfg._attn_implementation = "eager"
    model = getattr(transformers, model_class)(cfg).eval()
    counter = FlopCounterMode(display=False)
    with torch.no_grad(), counter:
        model(input_ids=torch.randint(0, 50, (1, 7)), use_cache=False)
    flops = {name: sum(ops.values()) for name, ops in counter.get_flop_counts().items()}
    measured = next(v for name, v in flops.items() if name.endswith(module))
    net = parse(text)
    # the GeGLU row: the MLP's down projection is an H, whose MACs issue 17 defines
    ours = net.layers[1].macs + (7 * 8 * 16 if "GeGLU" in text else 0)
    assert measured == 2 * ours


# ---------------------------------------------------------------- symbolic equals numeric
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=30, deadline=None)
@given(E_=st.integers(1, 9), k_=st.integers(1, 9), c_=st.integers(1, 40), f_=st.integers(1, 20),
       s_=st.integers(0, 2), L_=st.integers(1, 3), t_=st.integers(1, 5), shared=st.booleans())
def test_symbolic_moe_block_substitutes_to_the_numeric_build(E_, k_, c_, f_, s_, L_, t_, shared):
    k_ = min(k_, E_)
    star = "**" if shared else "*"
    text = "I(t,c)-TB(2,f,k=3,norm=rms,mlp=swiglu,bias=false,qknorm=head,experts=E,topk=k,shared={s}){star}L-Mamba(3)"
    symbolic = parse(text.format(s=s_, star=star))
    values = dict(E=E_, k=k_, c=c_, f=f_, L=L_, t=t_)
    numeric = parse(text.format(s=s_, star=star).replace("(t,c)", f"({t_},{c_})").replace(",f,", f",{f_},")
                    .replace("experts=E,topk=k", f"experts={E_},topk={k_}").replace(f"{star}L", f"{star}{L_}"))
    at = {symbol(name): value for name, value in values.items()}
    assert symbolic.params.subs(at) == numeric.params
    assert symbolic.active_params.subs(at) == numeric.active_params
    assert symbolic.macs.subs(at) == numeric.macs
    assert symbolic.subs(**values).active_params == numeric.active_params


def test_active_params_in_latex():
    from symparams.report.latex import latex_document  # noqa: F401  (the module loads)

    net = parse("I(t,c)-MoE(E,k,f)")
    assert "Active per token" in net._repr_latex_()
    assert "Active per token" not in parse("I(t,c)-H(f)")._repr_latex_()
