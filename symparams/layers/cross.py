"""Layers that read a second tensor of a graph (README "Graphs"): cross-attention, and a
named vector added to every position (diffusers' time-embedding projection).

Sources (parameter shapes, read in the frameworks' code):
- torch nn.MultiheadAttention(embed_dim=c, num_heads=h, kdim=m, vdim=m): with kdim or vdim
  different from embed_dim it keeps q_proj_weight (c, c), k_proj_weight (c, kdim),
  v_proj_weight (c, vdim) instead of in_proj_weight (3c, c); in_proj_bias (3c) and out_proj
  (c, c) + c either way (torch/nn/modules/activation.py). nn.TransformerDecoderLayer's
  multihead_attn is one with kdim = vdim = c.
- transformers' cross-attention (T5 EncDecAttention, BartAttention and WhisperAttention with
  is_cross_attention, CLIP has none): q from the decoder's hidden states, k and v from the
  encoder's, each an nn.Linear; the widths are the two stacks' widths.
- Keras MultiHeadAttention(num_heads=h, key_dim=k) called on (query, value): query kernel
  (c, h, k), key and value kernels (m, h, k) built from the value's last axis, output (h, k, c).
- diffusers 0.42 ResnetBlock2D (models/resnet.py): `temb = self.time_emb_proj(self.nonlinearity(temb))
  [:, :, None, None]`, `hidden_states = hidden_states + temb` after conv1: time_emb_proj is
  nn.Linear(temb_channels, out_channels), one per block.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..base.errors import ShapeError
from ..base.expr import Condition, equality, expand, is_false
from .registry import SIZE, LayerCall, LayerOut, Param, choice, flag, letters, register, size, tensor
from .sequence import heads, need_sequence
from .shapes import shape_text

if TYPE_CHECKING:
    from sympy import Expr


@register(
    "XA",
    "CrossAttention",
    params=(
        size("h", doc="heads"),
        tensor("memory", doc="the tensor attended to, bound earlier with 'name := ...'"),
        Param("k", SIZE, None, doc="width of a head"),
        Param("kv", SIZE, None, doc="key/value heads"),
        letters("bias", "qkvo", "qkvo", doc="true, false, or which of q, k, v, o have a bias (Whisper: qvo)"),
    ),
)
def cross_attention(call: LayerCall) -> LayerOut:
    """Attention from the current sequence (t, c) to a named one (s, m): queries from the
    current width (c·h·k), keys and values from the memory's width (2·m·kv·k), back to c
    (h·k·c), each with its bias; the output keeps the shape (t, c).

    >>> import symparams
    >>> symparams.parse("enc := I(s,m); I(t,d)-XA(h, memory=enc)").params
    2*d**2 + 2*d*m + 4*d
    """
    t, c = need_sequence(call)
    memory = call.args.memory
    if len(memory) != 2:
        raise ShapeError(f"attends to a sequence (s, m), got a memory of shape {shape_text(memory, 'keras')}")
    s, m = memory
    a = call.args
    h, kv, k, conditions = heads(call)
    query_out: Expr = c * h * k + h * k * c
    key_value: Expr = 2 * m * kv * k
    sizes = {"q": h * k, "k": kv * k, "v": kv * k, "o": c}
    biases: Expr = sum((sizes[letter] for letter in a.bias), start=0)  # type: ignore[assignment]
    return LayerOut(
        call.shape,
        "CrossAttention",
        expand(query_out + key_value),
        expand(biases),
        conditions=tuple(conditions),
        # FlopCounterMode's rule: projections once per position of the sequence they read (q
        # and out on the t positions, k and v on the memory's s), biases not counted, then
        # q·kᵀ and attention·v, t·s·k per query head each.
        macs=expand(t * query_out + s * key_value + 2 * h * t * s * k),
    )


# ---------------------------------------------------------------- a named vector added everywhere
_ACTS = ("none", "silu", "relu", "gelu", "mish", "tanh", "sigmoid")


@register(
    "XADD",
    "AddVector",
    params=(
        tensor("memory", doc="the vector (m) added, bound earlier with 'name := ...'"),
        choice("act", "none", *_ACTS),
        flag("proj", True),
        flag("bias", True),
    ),
)
def add_vector(call: LayerCall) -> LayerOut:
    """Adds a named vector (m) to every position of the current tensor, broadcast over its
    spatial axes (torch's `x + v[:, :, None, None]`). With proj=true (the default) the
    vector goes through `act` and a Linear(m, c) first: m·c weights and c biases, the
    time-embedding projection of diffusers' ResnetBlock2D (`time_emb_proj(silu(temb))`);
    proj=false adds the vector itself (0 parameters), which needs m = c. The shape is kept.

    >>> import symparams
    >>> symparams.parse("t := I(1280); I(8,8,320)-XADD(memory=t, act=silu)").params
    409920
    """
    memory = call.args.memory
    if len(memory) != 1:
        raise ShapeError(f"adds a vector (m), got a memory of shape {shape_text(memory, 'keras')}")
    (m,) = memory
    c = call.channels
    if not call.args.proj:
        same = equality(m, c)
        if is_false(same):
            raise ShapeError(
                f"with proj=false adds the vector as it is, which needs its width {m} = the channels {c}"
            )
        return LayerOut(
            call.shape, "AddVector", conditions=(Condition(same, f"needs the vector's width {m} = {c}"),)
        )
    biases = c if call.args.bias else 0
    # FlopCounterMode: one (1, m) × (m, c) product a sample; the add and the bias count nothing.
    return LayerOut(call.shape, "AddVector (projected)", m * c, biases, macs=m * c)
