"""Formulas of the sequence layers: embeddings, recurrent layers, attention, transformer blocks.

Sources (parameter shapes, read in the frameworks' code and docs):
- PyTorch nn.RNN / nn.LSTM / nn.GRU: weight_ih (gates·n, c), weight_hh (gates·n, n) and two
  bias vectors bias_ih, bias_hh (gates·n each) per direction; gates = 1, 4, 3.
- Keras 3 SimpleRNN / LSTM / GRU cells: kernel (c, gates·n), recurrent_kernel (n, gates·n) and
  one bias (gates·n), except GRU with reset_after=True (the default): bias (2, 3n).
- nn.MultiheadAttention: in_proj_weight (3c, c), in_proj_bias (3c), out_proj (c, c) + c;
  Keras MultiHeadAttention / GroupQueryAttention: query (c, h, k) + (h, k), key and value
  (c, kv, k) + (kv, k), output (h, k, c) + c.
- MACs are half of what torch.utils.flop_counter.FlopCounterMode counts on the meta device:
  a recurrent layer its two matrix products per time step (x·W_ih, h·W_hh, biases not
  counted), attention its projections per position and q·kᵀ and attention·v (t²·k per
  query head, the full t² also when causal), an embedding lookup nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..base.errors import ShapeError
from ..base.expr import Condition, at_most, divides, exact_div, expand, product, provably_equal, smallest
from ..language import syntax as S
from .core import dense
from .registry import NONNEG, SIZE, LayerCall, LayerOut, Param, choice, flag, letters, register, size
from .shapes import shape_text

if TYPE_CHECKING:
    from sympy import Expr


def need_sequence(call: LayerCall) -> tuple[Expr, Expr]:
    """The (t, c) of a sequence input; other ranks are an error (the builder names the layer)."""
    if call.rank != 2:
        notes: tuple[str, ...] = ()
        if call.rank >= 3:  # an image or a volume: SEQ makes its positions a sequence
            positions = product(call.spatial)
            seq = f"An image becomes a sequence with SEQ before this layer: {positions} positions"
            notes = (f"{seq} of {call.channels} features (or F, one vector).",)
        raise ShapeError(
            f"needs a sequence (t, c), got a tensor of shape {shape_text(call.shape, call.convention)}",
            notes=notes,
        )
    return call.shape[0], call.shape[1]


def heads(call: LayerCall) -> tuple[Expr, Expr, Expr, list[Condition]]:
    """The heads of an attention layer (MHA, XA): h query heads, kv key/value heads that
    divide them, and the head width k (as written, or c/h, which must then divide), with
    the conditions those rules need."""
    c, a = call.channels, call.args
    h = a.h
    kv = h if a.kv is None else a.kv
    conditions: list[Condition] = [
        divides(kv, h, f"needs the key/value heads kv={kv} to divide the heads h={h}")
    ]
    if a.k is None:  # nn.MultiheadAttention's head_dim = embed_dim // num_heads, which must divide
        conditions.append(divides(h, c, f"needs the width {c} divisible by the heads h={h}"))
        return h, kv, exact_div(c, h), conditions
    return h, kv, a.k, conditions


# ---------------------------------------------------------------- embeddings and tokens
@register(
    "E", "Embedding", params=(size("v", doc="vocabulary size"), size("d", doc="width"), flag("tied", False))
)
def embedding(call: LayerCall) -> LayerOut:
    """Token ids (t) → (t, d): a table of v·d weights, which `O(v, tied=true)` may share;
    `tied=true` reads the table of an earlier E(v, d) (an encoder–decoder's shared
    embedding: BART's and T5's `shared`), so it has no parameters of its own.

    >>> import symparams
    >>> symparams.parse("I(t)-E(50257,768)").params
    38597376
    >>> symparams.parse("a := I(s)-E(100,8); b := I(t)-E(100,8,tied=true); a, b").params
    800
    """
    if call.rank != 1:
        raise ShapeError(
            f"needs token ids (t), got a tensor of shape {shape_text(call.shape, call.convention)}"
        )
    v, d = call.args.v, call.args.d
    if call.args.tied:
        earlier = call.facts.get("embeddings", ())
        if not any(
            provably_equal(v, v0, simplify=True) and provably_equal(d, d0, simplify=True)
            for v0, d0 in earlier
        ):
            raise ShapeError(f"tied=true needs an earlier E({v}, {d}) whose table it shares")
        # A lookup (index_select) of the shared table: no MACs.
        return LayerOut((call.shape[0], d), "Embedding (tied)", 0)
    # A lookup (index_select): no MACs; it saves its int64 ids, not counted here.
    return LayerOut((call.shape[0], d), "Embedding", v * d, facts={"embeddings": (v, d)})


@register("PE", "PosEmbedding", params=(size("m", doc="the most positions"),))
def positions(call: LayerCall) -> LayerOut:
    """Learned positions, up to m of them, added to (t, d): m·d weights; t ≤ m."""
    t, d = need_sequence(call)
    m = call.args.m
    enough = at_most(t, m, f"needs at most {m} positions, got {t}")
    # Positions are added, not multiplied: no Mult-Adds, as torchinfo counts none for the
    # nn.Parameter a ViT keeps them in.
    return LayerOut(call.shape, "PositionalEmbedding", m * d, conditions=(enough,))


@register("CLS", "ClassToken")
def class_token(call: LayerCall) -> LayerOut:
    """A learned token put before the sequence (ViT, BERT): (t, c) → (t+1, c), c weights."""
    t, c = need_sequence(call)
    return LayerOut((t + 1, c), "ClassToken", c)


@register("FIRST", "FirstToken")
def first_token(call: LayerCall) -> LayerOut:
    """A sequence's first position, as a ViT head or BERT's pooler reads it: (t, c) → (c)."""
    _, c = need_sequence(call)
    return LayerOut((c,), "FirstToken")


# ---------------------------------------------------------------- recurrent layers
_RECURRENT = (size("n", doc="hidden width"), flag("seq", False), flag("bi", False), flag("bias", True))


def recurrent_biases(n: Expr, convention: str, two_vectors_in_keras: bool = False) -> Expr:
    """Bias entries of one gate of one direction: PyTorch keeps bias_ih and bias_hh (2n);
    Keras one vector (n), or two for GRU with reset_after=True."""
    return 2 * n if convention == "torch" or two_vectors_in_keras else n


def _recurrent(call: LayerCall, kind: str, gates: int, two_keras_biases: bool = False) -> LayerOut:
    t, c = need_sequence(call)
    a = call.args
    dirs = 2 if a.bi else 1
    weights = gates * dirs * (a.n * c + a.n * a.n)
    biases = gates * dirs * recurrent_biases(a.n, call.convention, two_keras_biases) if a.bias else 0
    width = dirs * a.n
    shape = (t, width) if a.seq else (width,)
    label = f"{kind} (bidirectional)" if a.bi else kind
    # Per time step and direction one product with W_ih and one with W_hh (FlopCounterMode
    # on meta, where _VF.rnn decomposes into cells): t·weights MACs; biases not counted.
    # Saved for backward (CPU paths, measured): the input and per direction h_0..h_t for
    # RNN, the input and 7·t·n for GRU; LSTM's is an opaque workspace, given the GRU rule.
    steps = (t + 1) * a.n if gates == 1 else 7 * t * a.n
    return LayerOut(shape, label, weights, biases, macs=t * weights, saved=t * c + dirs * steps)


@register("R", "RNN", params=_RECURRENT)
def simple_rnn(call: LayerCall) -> LayerOut:
    """Simple RNN over (t, c): n·c + n·n weights and 2n biases (torch) or n (keras).

    >>> import symparams
    >>> symparams.parse("I(t,c)-R(n)").params
    c*n + n**2 + 2*n
    """
    return _recurrent(call, "RNN", 1)


@register("L", "LSTM", params=_RECURRENT)
def lstm(call: LayerCall) -> LayerOut:
    """LSTM: 4 × the RNN count (input, forget, cell and output gates).

    >>> import symparams
    >>> symparams.parse("I(100,6)-L(64)", convention="keras").params
    18176
    """
    return _recurrent(call, "LSTM", 4)


@register("G", "GRU", params=_RECURRENT + (flag("reset_after", True),))
def gru(call: LayerCall) -> LayerOut:
    """GRU: 3 × (n·c + n·n + 2n); Keras with reset_after=false has one bias vector, 3 × (n·c + n·n + n).

    PyTorch's GRU always applies the reset gate after the recurrent product (its bias_hn
    sits inside r ⊙ (W_hn h + b_hn)), so under torch reset_after changes nothing.
    """
    return _recurrent(call, "GRU", 3, two_keras_biases=call.args.reset_after)


# ---------------------------------------------------------------- attention
_QKNORM = ("none", "head", "full")


@register(
    "MHA",
    "Attention",
    params=(
        size("h", doc="heads"),
        Param("k", SIZE, None, doc="width of a head"),
        Param("kv", SIZE, None, doc="key/value heads"),
        letters("bias", "qkvo", "qkvo", doc="true, false, or which of q, k, v, o have a bias"),
        choice("qknorm", "none", *_QKNORM),
        choice("qknorm_kind", "rms", "rms", "ln"),
        flag("qknorm_bias", True),
        Param("window", SIZE, None, doc="sliding window: each query sees the last W keys"),
    ),
)
def attention(call: LayerCall) -> LayerOut:
    """Self-attention over (t, c) with h heads of width k (c/h by default) and kv key/value
    heads (kv < h is grouped-query attention): projections to queries (c·h·k), keys and
    values (2·c·kv·k), and back to c (h·k·c), each with its bias.

    `bias` names the projections that have one: `bias=qkv` is Qwen2's (the output has
    none), `bias=qvo` Whisper's (the key has none). `qknorm=head` normalises queries and
    keys over the head width with one norm each, shared by the heads (Qwen3, Gemma-3:
    2k weights for RMSNorm); `qknorm=full` over the whole projection before the heads
    split (OLMo-2: h·k + kv·k). `qknorm_kind=ln` makes them LayerNorms (with a bias unless
    `qknorm_bias=false`).

    >>> import symparams
    >>> symparams.parse("I(t,d)-MHA(h)").params
    4*d**2 + 4*d
    >>> symparams.parse("I(t,4096)-MHA(32,k=128,kv=8,bias=false,qknorm=head)").params
    41943296
    """
    t, c = need_sequence(call)
    a = call.args
    h, kv, k, conditions = heads(call)
    projections = c * h * k + 2 * c * kv * k + h * k * c
    weights = projections
    sizes = {"q": h * k, "k": kv * k, "v": kv * k, "o": c}
    biases: Any = 0
    for letter in a.bias:
        biases = biases + sizes[letter]
    if a.qknorm != "none":
        # transformers' Qwen3Attention: q_norm = RMSNorm(head_dim) on (..., heads, head_dim);
        # Olmo2Attention: q_norm = RMSNorm(h·k), k_norm = RMSNorm(kv·k) before the split.
        widths = (k, k) if a.qknorm == "head" else (h * k, kv * k)
        weights = weights + widths[0] + widths[1]
        if a.qknorm_kind == "ln" and a.qknorm_bias:
            biases = biases + widths[0] + widths[1]
    kind = "MultiHeadAttention" if provably_equal(kv, h, simplify=True) else "GroupedQueryAttention"
    if a.window is not None:
        kind = f"{kind} (window {a.window})"
    # Projections per position, then q·kᵀ and attention·v: t²·k per query head each. The
    # kernels compute the full t² (FlopCounterMode's sdpa_flop_count ignores is_causal and a
    # sliding window's mask; GQA is counted with h heads).
    macs = t * expand(projections) + 2 * h * t**2 * k  # a qk-norm's weights multiply nothing
    # The cache keeps a key and a value of kv·k per token: t tokens, min(W, t) in a window.
    held = t if a.window is None else smallest(a.window, t)
    # Saved for backward (eager attention, measured with saved_tensors_hooks): the input of
    # the q/k/v projection, q, k and v, the softmax output h·t², the input of the output
    # projection.
    saved = t * c + t * (h * k + 2 * kv * k) + h * t**2 + t * h * k
    return LayerOut(
        call.shape,
        kind,
        expand(weights),
        expand(biases),
        conditions=tuple(conditions),
        macs=macs,
        kv_cache=2 * kv * k * held,
        kv_token=2 * kv * k,
        saved=saved,
    )


@register("SwiGLU", params=(size("n", doc="hidden width"), flag("bias", True)))
def swiglu(call: LayerCall) -> LayerOut:
    """The gated half of a SwiGLU MLP (LLaMA): silu(x·W_gate) ⊙ (x·W_up), two c·n matrices.

    >>> import symparams
    >>> symparams.parse("I(t,4096)-SwiGLU(11008,bias=false)").params
    90177536
    """
    one = dense(call)  # each projection is a Dense of width n, MACs included
    # Saved: the input (read by both projections), silu's input, and both factors of the product.
    gate = 3 * product(one.shape)
    return LayerOut(
        one.shape, "SwiGLU", 2 * one.weights, 2 * one.biases, macs=2 * one.macs, saved=one.saved + gate
    )


# ---------------------------------------------------------------- transformer block
# A plain MLP H(ff)-act-H(c) has the same count whatever its activation; nn.TransformerEncoderLayer
# defaults to relu, GPT-2/BERT/ViT use gelu.
_PLAIN_MLP_ACTIVATIONS = ("gelu", "relu", "silu", "tanh", "sigmoid", "elu", "relu6")
GATED_MLPS = ("swiglu", "geglu")
MLP_KINDS = (*_PLAIN_MLP_ACTIVATIONS, *GATED_MLPS)
_PLACES = ("pre", "post", "sandwich", "out")
_BLOCK_PARAMS = (
    size("h", doc="heads"),
    size("ff", doc="width of the MLP (of one expert with experts=)"),
    choice("norm", "ln", "ln", "rms"),
    choice("mlp", "gelu", *MLP_KINDS),
    flag("bias", True),
    Param("kv", SIZE, None, doc="key/value heads"),
    Param("k", SIZE, None, doc="width of a head"),
    choice("place", "pre", *_PLACES),
    Param("parallel", NONNEG, 0, doc="0, or attention and MLP side by side with 1 or 2 norms"),
    letters("attn_bias", None, "qkvo", doc="which attention projections have a bias (default: bias)"),
    Param("norm_bias", "bool", None, doc="LayerNorm biases (default: bias)"),
    choice("qknorm", "none", *_QKNORM),
    Param("experts", SIZE, None, doc="routed experts E: the MLP becomes MoE(E, topk, ff)"),
    Param("topk", SIZE, None, doc="experts run per token"),
    Param("shared", NONNEG, 0, doc="shared experts, run for every token"),
    Param("shared_ff", SIZE, None, doc="width of a shared expert (default ff)"),
    flag("router_bias", False),
    Param("window", SIZE, None, doc="sliding window of the attention"),
)


def _const(value: Any, span: S.Node) -> S.Const:
    return S.Const(span.start, span.end, value)


def _word(flag_value: bool) -> str:
    return "true" if flag_value else "false"


def make_layer(span: S.Node, name: str, *positional: Any, **keywords: Any) -> S.Layer:
    """A layer node holding evaluated values, labelled as a person would write it
    (`H(3072)`, `MHA(32, kv=8, bias=false)`); booleans become the keywords true/false.

    >>> make_layer(S.Num(0, 5, 1), "MHA", 32, kv=8, bias=False).label
    'MHA(32, kv=8, bias=false)'
    """
    written: list[tuple[str | None, Any]] = [(None, v) for v in positional] + list(keywords.items())
    values = [(k, _word(v) if isinstance(v, bool) else v) for k, v in written]
    args = tuple(S.Arg(span.start, span.end, k, _const(v, span)) for k, v in values)
    shown = ", ".join(str(v) if k is None else f"{k}={v}" for k, v in values)
    return S.Layer(span.start, span.end, name, args or None, label=f"{name}({shown})" if args else name)


def _chain(span: S.Node, *items: S.Term) -> S.Chain:
    return S.Chain(span.start, span.end, tuple(items), label="-".join(i.label for i in items))


def _sum(span: S.Node, *chains: S.Chain) -> S.Branches:
    return S.Branches(span.start, span.end, "add", chains, label=" + ".join(c.label for c in chains))


def _residual(span: S.Node, *bodies: S.Chain) -> S.Branches:
    return _sum(span, *bodies, _chain(span, make_layer(span, "id")))


def _norm_biased(a: Any) -> bool:
    return bool(a.bias) if a.norm_bias is None else bool(a.norm_bias)


def block_layers(call: LayerCall, span: S.Node) -> S.Chain:
    """TB as primitives. Pre-norm (GPT-2, ViT, LLaMA): [n-MHA + id]-[n-MLP + id];
    post-norm (BERT): [MHA + id]-n-[MLP + id]-n; sandwich (Gemma-2/3): [n-MHA-n + id]-...;
    out (OLMo-2): [MHA-n + id]-[MLP-n + id]; parallel=1 (GPT-J, Falcon, Phi):
    [n-[MHA + MLP] + id]; parallel=2 (GPT-NeoX): [n-MHA + n-MLP + id]. The MLP is
    H(ff)-act-H(c), SwiGLU(ff)-H(c), GeGLU(ff)-H(c), or MoE(...) with experts=."""
    a, c = call.args, call.channels

    def norm() -> S.Layer:
        if a.norm == "rms":
            return make_layer(span, "RMS")
        return make_layer(span, "LN") if _norm_biased(a) else make_layer(span, "LN", bias=False)

    off = {} if a.bias else {"bias": False}
    heads: dict[str, Any] = {} if a.k is None else {"k": a.k}
    heads.update({} if a.kv is None else {"kv": a.kv})
    if a.window is not None:
        heads["window"] = a.window
    attn_bias = ("qkvo" if a.bias else "") if a.attn_bias is None else a.attn_bias
    if attn_bias != "qkvo":
        heads["bias"] = attn_bias or False
    if a.qknorm != "none":
        heads.update(qknorm=a.qknorm, qknorm_kind=a.norm)
        if a.norm == "ln" and not _norm_biased(a):
            heads["qknorm_bias"] = False
    attend = [make_layer(span, "MHA", a.h, **heads)]
    if a.experts is not None:
        options: dict[str, Any] = {"mlp": a.mlp, "bias": bool(a.bias)}
        if a.shared != 0:
            options["shared"] = a.shared
        if a.shared_ff is not None:
            options["shared_ff"] = a.shared_ff
        if a.router_bias:
            options["router_bias"] = True
        mlp = [make_layer(span, "MoE", a.experts, a.topk, a.ff, **options)]
    elif a.mlp in GATED_MLPS:
        gate = "SwiGLU" if a.mlp == "swiglu" else "GeGLU"
        mlp = [make_layer(span, gate, a.ff, **off), make_layer(span, "H", c, **off)]
    else:
        mlp = [make_layer(span, "H", a.ff, **off), make_layer(span, a.mlp), make_layer(span, "H", c, **off)]
    if a.parallel == 1:
        both = _sum(span, _chain(span, *attend), _chain(span, *mlp))
        return _chain(span, _residual(span, _chain(span, norm(), both)))
    if a.parallel == 2:
        return _chain(span, _residual(span, _chain(span, norm(), *attend), _chain(span, norm(), *mlp)))
    if a.place == "post":
        return _chain(
            span,
            _residual(span, _chain(span, *attend)),
            norm(),
            _residual(span, _chain(span, *mlp)),
            norm(),
        )
    before = {"pre": 1, "sandwich": 1, "out": 0}[a.place]
    after = {"pre": 0, "sandwich": 1, "out": 1}[a.place]

    def sub(body: list[S.Layer]) -> S.Branches:
        return _residual(span, _chain(span, *([norm()] * before), *body, *([norm()] * after)))

    return _chain(span, sub(attend), sub(mlp))


@register("TB", "TransformerBlock", params=_BLOCK_PARAMS, expand=block_layers)
def transformer_block(call: LayerCall) -> LayerOut:
    """Transformer block; pre-norm with defaults: 4c² + 2c·ff + ff + 9c parameters.

    The builder builds it from `block_layers`, so the table unfolds it at a deeper --depth.

    >>> import symparams
    >>> symparams.parse("I(t,d)-TB(h,4*d)").params
    12*d**2 + 13*d
    """
    need_sequence(call)
    a = call.args
    if a.parallel not in (0, 1, 2):
        raise ShapeError(
            f"parallel must be 0, 1 (attention and MLP side by side after one shared norm) or 2 "
            f"(each after its own norm), got {a.parallel}"
        )
    if a.parallel != 0 and a.place != "pre":
        raise ShapeError(
            f"parallel={a.parallel} puts the norms before the branches; it takes no place={a.place}"
        )
    if (a.experts is None) != (a.topk is None):
        raise ShapeError("a mixture of experts needs both experts=E and topk=k")
    if a.experts is None and (a.shared != 0 or a.shared_ff is not None or a.router_bias):
        raise ShapeError(
            "shared=, shared_ff= and router_bias= describe a mixture of experts: give experts= and topk="
        )
    return LayerOut(call.shape, "TransformerBlock")
