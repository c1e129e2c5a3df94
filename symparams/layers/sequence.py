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
from .registry import SIZE, LayerCall, LayerOut, Param, choice, flag, register, size
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


# ---------------------------------------------------------------- embeddings and tokens
@register("E", "Embedding", params=(size("v", doc="vocabulary size"), size("d", doc="width")))
def embedding(call: LayerCall) -> LayerOut:
    """Token ids (t) → (t, d): a table of v·d weights, which `O(v, tied=true)` may share.

    >>> import symparams
    >>> symparams.parse("I(t)-E(50257,768)").params
    38597376
    """
    if call.rank != 1:
        raise ShapeError(
            f"needs token ids (t), got a tensor of shape {shape_text(call.shape, call.convention)}"
        )
    v, d = call.args.v, call.args.d
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
@register(
    "MHA",
    "Attention",
    params=(
        size("h", doc="heads"),
        Param("k", SIZE, None, doc="width of a head"),
        Param("kv", SIZE, None, doc="key/value heads"),
        flag("bias", True),
        Param("window", SIZE, None, doc="sliding window: each query sees the last W keys"),
    ),
)
def attention(call: LayerCall) -> LayerOut:
    """Self-attention over (t, c) with h heads of width k (c/h by default) and kv key/value
    heads (kv < h is grouped-query attention): projections to queries (c·h·k), keys and
    values (2·c·kv·k), and back to c (h·k·c), each with its bias.

    >>> import symparams
    >>> symparams.parse("I(t,d)-MHA(h)").params
    4*d**2 + 4*d
    """
    t, c = need_sequence(call)
    a = call.args
    h = a.h
    kv = h if a.kv is None else a.kv
    conditions: list[Condition] = [
        divides(kv, h, f"needs the key/value heads kv={kv} to divide the heads h={h}")
    ]
    if a.k is None:  # nn.MultiheadAttention's head_dim = embed_dim // num_heads, which must divide
        conditions.append(divides(h, c, f"needs the width {c} divisible by the heads h={h}"))
        k = exact_div(c, h)
    else:
        k = a.k
    weights = c * h * k + 2 * c * kv * k + h * k * c
    biases = h * k + 2 * kv * k + c if a.bias else 0
    kind = "MultiHeadAttention" if provably_equal(kv, h, simplify=True) else "GroupedQueryAttention"
    if a.window is not None:
        kind = f"{kind} (window {a.window})"
    # Projections per position, then q·kᵀ and attention·v: t²·k per query head each. The
    # kernels compute the full t² (FlopCounterMode's sdpa_flop_count ignores is_causal and a
    # sliding window's mask; GQA is counted with h heads).
    macs = t * expand(weights) + 2 * h * t**2 * k
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
_BLOCK_PARAMS = (
    size("h", doc="heads"),
    size("ff", doc="width of the MLP"),
    choice("norm", "ln", "ln", "rms"),
    choice("mlp", "gelu", *_PLAIN_MLP_ACTIVATIONS, "swiglu"),
    flag("bias", True),
    Param("kv", SIZE, None, doc="key/value heads"),
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


def _residual(span: S.Node, body: S.Chain) -> S.Branches:
    skip = _chain(span, make_layer(span, "id"))
    return S.Branches(span.start, span.end, "add", (body, skip), label=f"{body.label} + id")


def block_layers(call: LayerCall, span: S.Node) -> S.Chain:
    """TB as primitives: [norm-MHA + id]-[norm-MLP + id], the pre-norm block of GPT-2,
    ViT and LLaMA; the MLP is H(ff)-gelu-H(c) or SwiGLU(ff)-H(c)."""
    a, c = call.args, call.channels

    def norm() -> S.Layer:
        if a.norm == "rms":
            return make_layer(span, "RMS")
        return make_layer(span, "LN") if a.bias else make_layer(span, "LN", bias=False)

    off = {} if a.bias else {"bias": False}
    heads = {} if a.kv is None else {"kv": a.kv}
    if a.window is not None:
        heads["window"] = a.window
    attend = _chain(span, norm(), make_layer(span, "MHA", a.h, **heads, **off))
    if a.mlp == "swiglu":
        mlp = _chain(span, norm(), make_layer(span, "SwiGLU", a.ff, **off), make_layer(span, "H", c, **off))
    else:
        mlp = _chain(
            span,
            norm(),
            make_layer(span, "H", a.ff, **off),
            make_layer(span, a.mlp),
            make_layer(span, "H", c, **off),
        )
    return _chain(span, _residual(span, attend), _residual(span, mlp))


@register("TB", "TransformerBlock", params=_BLOCK_PARAMS, expand=block_layers)
def transformer_block(call: LayerCall) -> LayerOut:
    """Pre-norm transformer block; with defaults 4c² + 2c·ff + ff + 9c parameters.

    The builder builds it from `block_layers`, so the table unfolds it at a deeper --depth.

    >>> import symparams
    >>> symparams.parse("I(t,d)-TB(h,4*d)").params
    12*d**2 + 13*d
    """
    need_sequence(call)
    return LayerOut(call.shape, "TransformerBlock")
