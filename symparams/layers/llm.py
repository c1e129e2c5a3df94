"""Formulas of the layers large language models add: mixtures of experts, GeGLU, latent
attention, the Mamba mixer, bare parameter tensors, relative-position tables, squeeze.

Sources (parameter shapes read in transformers 5's modelling code):
- MixtralSparseMoeBlock / Qwen3MoeSparseMoeBlock / DeepseekV3MoE: a router `gate` (E, c),
  without a bias (DeepSeek-V3's `e_score_correction_bias` is a buffer, not a parameter);
  experts fused as `gate_up_proj` (E, 2·ff, c) and `down_proj` (E, c, ff), the same count as
  E SwiGLU MLPs; DeepSeek's `shared_experts` one SwiGLU MLP of width s·ff.
- GemmaMLP: gate_proj, up_proj (c → ff) and down_proj (ff → c), gelu on the gate.
- DeepseekV3Attention (MLA): q_a_proj c → q, q_a_layernorm RMS(q), q_b_proj q → h·(nope+rope)
  (or q_proj c → h·(nope+rope) without q); kv_a_proj_with_mqa c → kv+rope, kv_a_layernorm
  RMS(kv), kv_b_proj kv → h·(nope+v); o_proj h·v → c. With attention_bias only q_a_proj,
  kv_a_proj_with_mqa and o_proj have a bias.
- MambaMixer: in_proj c → 2e, conv1d depthwise (e, 1, conv) + e, x_proj e → dt+2N,
  dt_proj dt → e with bias, A_log (e, N), D (e), out_proj e → c; e = expand·c.
- T5Attention.relative_attention_bias: Embedding(buckets, heads); DeBERTa-v2's
  encoder.rel_embeddings: Embedding(2·buckets, c) and its LayerNorm.

MACs are FlopCounterMode's FLOPs / 2 (compute.md): a Linear counts t·c·n per sequence (no
bias), attention's q·kᵀ and attn·v h·t²·(width of a query) and h·t²·(width of a value);
norms, activations and elementwise products count 0. A mixture of experts counts the router
and the k experts that run for each token.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..base.errors import ShapeError
from ..base.expr import Condition, at_most, ceil_div, equality, expand
from .registry import NONNEG, SIZE, LayerCall, LayerOut, Param, choice, flag, register, size
from .sequence import GATED_MLPS, MLP_KINDS, need_sequence
from .shapes import shape_text

if TYPE_CHECKING:
    from sympy import Expr


def mlp_counts(c: Expr, n: Expr, kind: str, bias: bool) -> tuple[Expr, Expr, Expr]:
    """(weights, biases, MACs per position) of one MLP c → n → c: gated (SwiGLU, GeGLU)
    three c·n matrices, plain two."""
    if kind in GATED_MLPS:
        return 3 * c * n, (2 * n + c) if bias else 0, 3 * c * n
    return 2 * c * n, (n + c) if bias else 0, 2 * c * n


# ---------------------------------------------------------------- mixture of experts
@register(
    "MoE",
    "MixtureOfExperts",
    params=(
        size("E", doc="routed experts"),
        size("k", doc="experts run per token"),
        size("ff", doc="width of one expert's MLP"),
        choice("mlp", "swiglu", *MLP_KINDS),
        flag("bias", False),
        Param("shared", NONNEG, 0, doc="shared experts, run for every token"),
        Param("shared_ff", SIZE, None, doc="width of a shared expert (default ff)"),
        flag("router_bias", False),
    ),
)
def mixture_of_experts(call: LayerCall) -> LayerOut:
    """A router (c·E) and E expert MLPs of width ff, of which k run for each token, plus
    `shared` experts every token runs (DeepSeek). Experts are SwiGLU by default
    (`mlp=geglu`, `gelu`, ...); no biases unless `bias=true`, as in Mixtral, Qwen3-MoE and
    DeepSeek-V3. The E - k experts a token does not run are its inactive parameters:
    `active_params` = all but those.

    >>> import symparams
    >>> net = symparams.parse("I(t,c)-MoE(E,k,f)")
    >>> net.params, net.active_params
    (3*E*c*f + E*c, E*c + 3*c*f*k)
    """
    t, c = need_sequence(call)
    a = call.args
    enough: Condition = at_most(
        a.k, a.E, f"needs the experts run per token k={a.k} at most the experts E={a.E}"
    )
    weights, biases, macs = mlp_counts(c, a.ff, a.mlp, a.bias)
    shared_ff = a.ff if a.shared_ff is None else a.shared_ff
    s_weights, s_biases, s_macs = mlp_counts(c, shared_ff, a.mlp, a.bias)
    router_bias = a.E if a.router_bias else 0
    return LayerOut(
        call.shape,
        "MixtureOfExperts",
        expand(c * a.E + a.E * weights + a.shared * s_weights),
        expand(router_bias + a.E * biases + a.shared * s_biases),
        conditions=(enough,),
        macs=expand(t * (c * a.E + a.k * macs + a.shared * s_macs)),
        inactive=expand((a.E - a.k) * (weights + biases)),
    )


@register("GeGLU", params=(size("n", doc="hidden width"), flag("bias", True)))
def geglu(call: LayerCall) -> LayerOut:
    """The gated half of a GeGLU MLP (Gemma): gelu(x·W_gate) ⊙ (x·W_up), two c·n matrices;
    `GeGLU(ff)-H(c)` is the whole MLP.

    >>> import symparams
    >>> symparams.parse("I(t,2048)-GeGLU(16384,bias=false)").params
    67108864
    """
    t, c = need_sequence(call)
    n = call.args.n
    return LayerOut((t, n), "GeGLU", 2 * c * n, 2 * n if call.args.bias else 0, macs=2 * t * c * n)


# ---------------------------------------------------------------- multi-head latent attention
@register(
    "MLA",
    "LatentAttention",
    params=(
        size("h", doc="heads"),
        size("kv", doc="rank of the key/value compression"),
        size("nope", doc="width of a head's query and key without rope"),
        size("rope", doc="width of the rope part of a query and of the shared rope key"),
        size("v", doc="width of a value head"),
        Param("q", SIZE, None, doc="rank of the query compression (none: a full query projection)"),
        flag("bias", False),
    ),
)
def latent_attention(call: LayerCall) -> LayerOut:
    """Multi-head latent attention (DeepSeek-V2/V3): keys and values through a rank-kv
    bottleneck with its RMSNorm, queries through a rank-q one (or a full projection), a
    decoupled rope key of width `rope` shared by the heads, and h·v → c out.

    >>> import symparams
    >>> symparams.parse("I(t,7168)-MLA(128,kv=512,nope=128,rope=64,v=128,q=1536)").params
    187107328
    """
    t, c = need_sequence(call)
    a = call.args
    h, qk = a.h, a.nope + a.rope
    if a.q is None:
        q_weights, q_biases, q_macs = c * h * qk, 0, c * h * qk
    else:
        q_weights = c * a.q + a.q + a.q * h * qk  # q_a_proj, q_a_layernorm, q_b_proj
        q_biases, q_macs = (a.q if a.bias else 0), c * a.q + a.q * h * qk
    kv_weights = c * (a.kv + a.rope) + a.kv + a.kv * h * (a.nope + a.v)
    kv_macs = c * (a.kv + a.rope) + a.kv * h * (a.nope + a.v)
    out = h * a.v * c
    biases = q_biases + ((a.kv + a.rope + c) if a.bias else 0)
    attend = h * t * t * (qk + a.v)  # q·kᵀ over nope+rope, attn·v over v
    return LayerOut(
        call.shape,
        "LatentAttention",
        expand(q_weights + kv_weights + out),
        expand(biases),
        macs=expand(t * (q_macs + kv_macs + out) + attend),
        # What DeepSeek's paper and its serving code cache: the compressed latent (kv) and
        # the shared rope key (rope) per token, not the h heads' keys and values.
        kv_cache=(a.kv + a.rope) * t,
        kv_token=a.kv + a.rope,
    )


# ---------------------------------------------------------------- state-space mixer
@register(
    "Mamba",
    "MambaMixer",
    params=(
        size("N", 16, doc="state size"),
        size("expand", 2, doc="inner width e = expand·c"),
        size("conv", 4, doc="depthwise convolution kernel"),
        Param("dt", SIZE, None, doc="rank of the time step projection (default ceil(c/16))"),
        flag("bias", False),
        flag("conv_bias", True),
    ),
)
def mamba(call: LayerCall) -> LayerOut:
    """Mamba's selective state-space mixer over (t, c), e = expand·c: in_proj 2e·c, a
    depthwise conv e·conv (+ e), x_proj e·(dt + 2N), dt_proj dt·e + e, A_log e·N, D e,
    out_proj e·c. With the defaults 6c² + 4c·dt + 110c + ... (dt = ceil(c/16)).

    >>> import symparams
    >>> symparams.parse("I(t,768)-Mamba").params
    3770880
    """
    t, c = need_sequence(call)
    a = call.args
    e = a.expand * c
    dt = ceil_div(c, 16) if a.dt is None else a.dt
    weights = 2 * e * c + e * a.conv + e * (dt + 2 * a.N) + dt * e + e * a.N + e + e * c
    biases = (2 * e + c if a.bias else 0) + (e if a.conv_bias else 0) + e
    # transformers' slow path: conv1d with padding conv-1 over t+conv-1 outputs, then cut to
    # t; the scan multiplies the state (e, N) by C once per step.
    macs = t * (2 * e * c + e * (dt + 2 * a.N) + dt * e + e * a.N + e * c) + (t + a.conv - 1) * e * a.conv
    return LayerOut(call.shape, "MambaMixer", expand(weights), expand(biases), macs=expand(macs))


# ---------------------------------------------------------------- bare tensors and tables
@register(
    "W",
    "Param",
    params=(size("d1"), size("d2", 1), size("d3", 1), size("d4", 1), flag("trainable", True)),
)
def bare_parameter(call: LayerCall) -> LayerOut:
    """A learned tensor of shape (d1, ..., d4) that the flow passes by unchanged: CLIP's
    logit_scale is W(1), Mamba's A_log W(e, N); d1·d2·d3·d4 parameters. `trainable=false`
    is a fixed one, a parameter with requires_grad=False (torch) or an
    add_weight(trainable=False) (Keras), counted non-trainable: YOLOv8's DFL integral
    conv weight is W(1,16,1,1,trainable=false).

    >>> import symparams
    >>> symparams.parse("I(t,c)-W(1536,16)").params
    24576
    >>> symparams.parse("I(t,c)-W(16,trainable=false)").non_trainable
    16
    """
    a = call.args
    count = a.d1 * a.d2 * a.d3 * a.d4
    if not a.trainable:
        return LayerOut(call.shape, "Parameter", non_trainable=count)
    return LayerOut(call.shape, "Parameter", count)


@register("RT", "RelTable", params=(size("m", doc="rows"), choice("norm", "none", "none", "ln", "rms")))
def relative_table(call: LayerCall) -> LayerOut:
    """A relative-position table of m rows of width c shared by later layers, with its
    norm (DeBERTa-v3: RT(512, norm=ln) = 512·c + 2c); the flow passes by unchanged.

    >>> import symparams
    >>> symparams.parse("I(t,768)-RT(512,norm=ln)").params
    394752
    """
    _, c = need_sequence(call)
    norm = call.args.norm
    weights = call.args.m * c + (c if norm != "none" else 0)
    return LayerOut(call.shape, "RelativePositionTable", weights, c if norm == "ln" else 0)


@register("RB", "RelBias", params=(size("b", doc="buckets"), size("h", doc="heads")))
def relative_bias(call: LayerCall) -> LayerOut:
    """T5's relative attention bias: a table of b buckets × h heads (in the first block of
    each stack); the flow passes by unchanged.

    >>> import symparams
    >>> symparams.parse("I(t,512)-RB(32,8)").params
    256
    """
    need_sequence(call)
    return LayerOut(call.shape, "RelativePositionBias", call.args.b * call.args.h)


@register("SQ", "Squeeze")
def squeeze(call: LayerCall) -> LayerOut:
    """Drops a last axis of size 1: (t, 1) → (t), as ELECTRA's head does with squeeze(-1).

    >>> import symparams
    >>> symparams.parse("I(t,256)-H(1)-SQ").output_shape
    (t,)
    """
    if call.rank < 2:
        raise ShapeError(f"needs at least two axes, got {shape_text(call.shape, 'keras')}")
    last = call.shape[-1]
    one = Condition(equality(last, 1), f"drops a last axis of size 1, but the last axis is {last}")
    return LayerOut(call.shape[:-1], "Squeeze", conditions=(one,))
