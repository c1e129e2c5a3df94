"""A network as a Keras 3 functional model: `to_keras(net)` returns the source.

The module's `build()` applies one layer per line to `keras.Input`; a definition (and a
layer made of layers, such as TB) is a function `def name(x, name)` that applies its
layers, each named after the use (`name=f"{name}_conv1"`), as keras.applications does.
Tensors are channels-last, as in the language. The counts are the keras convention's
(BatchNormalization's moving statistics non-trainable, one recurrent bias vector).

Adding a layer to symparams adds one entry to `KERAS`: a function of the row (its bound
`args`), its input shape (channels last), the writer and the layer's `name=` argument,
returning the layers to apply, one per line.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..result import LayerInfo, Network
from .common import (
    ACTIVATIONS,
    FORMS,
    ExportError,
    Names,
    block_base,
    describe,
    embedding_ties,
    fit,
    float_source,
    graph_inputs,
    identifier,
    indented,
    ints,
    literal,
    local_names,
    num,
    program_text,
    rate,
    registrar,
    repeat_applications,
    safe,
    snake,
    stem,
    tensor_reads,
    tuple_text,
    unique_name,
    variant_suffix,
    weight_dims,
    window_note,
    zero_pad_pairs,
)

Shape = tuple[int, ...]
Namer = Callable[[str], str]  # a suffix ("" or "pad") -> `name="conv1_pad"`
Entry = Callable[[LayerInfo, Shape, "KerasWriter", Namer], list[str]]
KERAS: dict[str, Entry] = {}


keras_layer = registrar(KERAS)  # @keras_layer("C"): the exporter of the layers named


HELPERS: dict[str, str] = {
    "ClassToken": '''
class ClassToken(layers.Layer):
    """A learned token put before the sequence (ViT, BERT): (t, c) -> (t+1, c)."""

    def build(self, input_shape):
        self.token = self.add_weight(shape=(1, 1, input_shape[-1]), initializer="zeros", name="token")

    def call(self, x):
        token = ops.broadcast_to(self.token, (ops.shape(x)[0], 1, ops.shape(x)[-1]))
        return ops.concatenate([ops.cast(token, x.dtype), x], axis=1)

    def compute_output_shape(self, input_shape):
        t = None if input_shape[1] is None else input_shape[1] + 1
        return (input_shape[0], t, input_shape[2])
''',
    "FirstToken": '''
class FirstToken(layers.Layer):
    """A sequence's first position: (t, c) -> (c)."""

    def call(self, x):
        return x[:, 0]

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[2])
''',
    "PositionalEmbedding": '''
class PositionalEmbedding(layers.Layer):
    """Learned positions, up to m of them, added to a (t, d) sequence."""

    def __init__(self, m, **kwargs):
        super().__init__(**kwargs)
        self.m = m

    def build(self, input_shape):
        shape = (self.m, input_shape[-1])
        self.positions = self.add_weight(shape=shape, initializer="zeros", name="positions")

    def call(self, x):
        return x + ops.cast(self.positions[: ops.shape(x)[1]], x.dtype)
''',
    "SwiGLU": '''
class SwiGLU(layers.Layer):
    """The gated half of a SwiGLU MLP (LLaMA): silu(x W_gate) * (x W_up)."""

    def __init__(self, n, use_bias=True, **kwargs):
        super().__init__(**kwargs)
        self.gate = layers.Dense(n, use_bias=use_bias, name="gate")
        self.up = layers.Dense(n, use_bias=use_bias, name="up")

    def build(self, input_shape):
        self.gate.build(input_shape)
        self.up.build(input_shape)

    def call(self, x):
        return ops.silu(self.gate(x)) * self.up(x)

    def compute_output_shape(self, input_shape):
        return self.gate.compute_output_shape(input_shape)
''',
    "GeGLU": '''
class GeGLU(layers.Layer):
    """The gated half of a GeGLU MLP (Gemma): gelu(x W_gate) * (x W_up)."""

    def __init__(self, n, use_bias=True, **kwargs):
        super().__init__(**kwargs)
        self.gate = layers.Dense(n, use_bias=use_bias, name="gate")
        self.up = layers.Dense(n, use_bias=use_bias, name="up")

    def build(self, input_shape):
        self.gate.build(input_shape)
        self.up.build(input_shape)

    def call(self, x):
        return ops.gelu(self.gate(x), approximate=True) * self.up(x)

    def compute_output_shape(self, input_shape):
        return self.gate.compute_output_shape(input_shape)
''',
    "Attention": '''
class Attention(layers.Layer):
    """Self-attention with heads of width k, kv key/value heads, a bias on the projections
    named in `bias` (of q, k, v, o), and optionally a norm of queries and keys: qknorm="head"
    over a head's width, one norm shared by the heads (Qwen3); "full" over the whole
    projection (OLMo-2). Keras's MultiHeadAttention has none of these options."""

    def __init__(
        self, c, heads, k, kv, bias="qkvo", qknorm="none", norm="rms", norm_bias=True, **kwargs,
    ):  # fmt: skip
        super().__init__(**kwargs)
        self.heads, self.kv, self.width, self.qknorm = heads, kv, k, qknorm
        self.q = layers.Dense(heads * k, use_bias="q" in bias, name="q")
        self.k = layers.Dense(kv * k, use_bias="k" in bias, name="k")
        self.v = layers.Dense(kv * k, use_bias="v" in bias, name="v")
        self.o = layers.Dense(c, use_bias="o" in bias, name="o")
        self.norms = []
        if qknorm != "none":
            for part in ("q_norm", "k_norm"):
                if norm == "rms":
                    self.norms.append(layers.RMSNormalization(name=part))
                else:
                    self.norms.append(layers.LayerNormalization(center=norm_bias, name=part))

    def build(self, input_shape):
        for dense in (self.q, self.k, self.v):
            dense.build(input_shape)
        self.o.build((*input_shape[:-1], self.heads * self.width))
        if self.qknorm == "head":
            for norm in self.norms:
                norm.build((None, None, None, self.width))
        elif self.qknorm == "full":
            self.norms[0].build((None, None, self.heads * self.width))
            self.norms[1].build((None, None, self.kv * self.width))

    def call(self, x):
        q, k, v = self.q(x), self.k(x), self.v(x)
        if self.qknorm == "full":
            q, k = self.norms[0](q), self.norms[1](k)
        b, t = ops.shape(x)[0], ops.shape(x)[1]
        q = ops.reshape(q, (b, t, self.heads, self.width))
        k = ops.reshape(k, (b, t, self.kv, self.width))
        v = ops.reshape(v, (b, t, self.kv, self.width))
        if self.qknorm == "head":
            q, k = self.norms[0](q), self.norms[1](k)
        k = ops.repeat(k, self.heads // self.kv, axis=2)
        v = ops.repeat(v, self.heads // self.kv, axis=2)
        y = ops.dot_product_attention(q, k, v)
        return self.o(ops.reshape(y, (b, t, self.heads * self.width)))

    def compute_output_shape(self, input_shape):
        return input_shape
''',
    "Expert": '''
class Expert(layers.Layer):
    """One expert's MLP c -> ff -> c: gated (swiglu, geglu: act(x W_gate) * (x W_up)) or plain."""

    def __init__(self, c, ff, mlp="swiglu", use_bias=False, **kwargs):
        super().__init__(**kwargs)
        self.mlp = mlp
        self.gate = layers.Dense(ff, use_bias=use_bias, name="gate") if mlp in ("swiglu", "geglu") else None
        self.up = layers.Dense(ff, use_bias=use_bias, name="up")
        self.down = layers.Dense(c, use_bias=use_bias, name="down")

    def build(self, input_shape):
        if self.gate is not None:
            self.gate.build(input_shape)
        self.up.build(input_shape)
        self.down.build((*input_shape[:-1], self.up.units))

    def call(self, x):
        if self.gate is not None:
            act = ops.silu if self.mlp == "swiglu" else ops.gelu
            return self.down(act(self.gate(x)) * self.up(x))
        return self.down(layers.Activation(self.mlp)(self.up(x)))

    def compute_output_shape(self, input_shape):
        return input_shape
''',
    "MoE": '''
class MoE(layers.Layer):
    """A router (c -> E) and E experts, of which k run for each token (weighted by the router's
    softmax), plus `shared` experts every token runs. Written as a loop over all experts:
    the counts and shapes of the real thing, not its speed."""

    def __init__(
        self, c, experts, k, ff, mlp="swiglu", use_bias=False, shared=0, shared_ff=None,
        router_bias=False, **kwargs,
    ):  # fmt: skip
        super().__init__(**kwargs)
        self.k = k
        self.router = layers.Dense(experts, use_bias=router_bias, name="router")
        self.experts = [Expert(c, ff, mlp, use_bias, name=f"expert{i}") for i in range(experts)]
        self.shared = [Expert(c, shared_ff or ff, mlp, use_bias, name=f"shared{i}") for i in range(shared)]

    def build(self, input_shape):
        self.router.build(input_shape)
        for expert in self.experts + self.shared:
            expert.build(input_shape)

    def call(self, x):
        weights, chosen = ops.top_k(ops.softmax(self.router(x)), self.k)
        out = ops.zeros_like(x)
        for expert in self.shared:
            out = out + expert(x)
        for i, expert in enumerate(self.experts):
            gate = ops.sum(weights * ops.cast(ops.equal(chosen, i), weights.dtype), axis=-1, keepdims=True)
            out = out + gate * expert(x)
        return out

    def compute_output_shape(self, input_shape):
        return input_shape
''',
    "ChannelSlice": '''
class ChannelSlice(layers.Layer):
    """Channels a .. b-1 (CH(a, b), or one chunk of CHUNK(n, i))."""

    def __init__(self, a, b, **kwargs):
        super().__init__(**kwargs)
        self.a, self.b = a, b

    def call(self, x):
        return x[..., self.a : self.b]

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.b - self.a)
''',
    "ChannelShuffle": '''
class ChannelShuffle(layers.Layer):
    """ShuffleNet's channel shuffle in g groups: reshape (g, c/g), swap, reshape back."""

    def __init__(self, g, **kwargs):
        super().__init__(**kwargs)
        self.g = g

    def call(self, x):
        shape = tuple(ops.shape(x))
        y = ops.reshape(x, (-1, *shape[1:-1], self.g, shape[-1] // self.g))
        return ops.reshape(ops.swapaxes(y, -1, -2), (-1, *shape[1:]))

    def compute_output_shape(self, input_shape):
        return input_shape
''',
    "SpaceToDepth": '''
class SpaceToDepth(layers.Layer):
    """Each r x r block of pixels into the channels (zero-padded to a multiple of r first)."""

    def __init__(self, r, **kwargs):
        super().__init__(**kwargs)
        self.r = r

    def call(self, x):
        _, h, w, c = ops.shape(x)
        r = self.r
        x = ops.pad(x, ((0, 0), (0, -h % r), (0, -w % r), (0, 0)))
        y = ops.reshape(x, (-1, (h + r - 1) // r, r, (w + r - 1) // r, r, c))
        y = ops.transpose(y, (0, 1, 3, 2, 4, 5))
        return ops.reshape(y, (-1, (h + r - 1) // r, (w + r - 1) // r, r * r * c))

    def compute_output_shape(self, input_shape):
        _, h, w, c = input_shape
        return (input_shape[0], -(-h // self.r), -(-w // self.r), c * self.r * self.r)
''',
    "DepthToSpace": '''
class DepthToSpace(layers.Layer):
    """The channels into r x r blocks of pixels (PixelShuffle)."""

    def __init__(self, r, **kwargs):
        super().__init__(**kwargs)
        self.r = r

    def call(self, x):
        _, h, w, c = ops.shape(x)
        r = self.r
        y = ops.reshape(x, (-1, h, w, r, r, c // (r * r)))
        y = ops.transpose(y, (0, 1, 3, 2, 4, 5))
        return ops.reshape(y, (-1, h * r, w * r, c // (r * r)))

    def compute_output_shape(self, input_shape):
        _, h, w, c = input_shape
        return (input_shape[0], h * self.r, w * self.r, c // (self.r * self.r))
''',
    "WindowAttention": '''
class WindowAttention(layers.Layer):
    """Swin's (shifted) window attention on (batch, h, w, c): padded to whole windows, rolled
    by `shift`, attention inside each window with a learned bias per relative position
    (a table, or V2's small MLP of the relative coordinates, with its logit scale), rolled
    back and cropped. The mask between the parts of a shifted window and V2's cosine
    attention are left out: the counts and shapes, not the exact model."""

    def __init__(self, c, heads, win, shift=(0, 0), pos="table", use_bias=True, **kwargs):
        super().__init__(**kwargs)
        self.c, self.heads, self.win, self.shift, self.pos = c, heads, win, shift, pos
        m0, m1 = win
        self.qkv = layers.Dense(3 * c, use_bias=use_bias, name="qkv")
        self.proj = layers.Dense(c, use_bias=use_bias, name="proj")
        cells = [(i, j) for i in range(m0) for j in range(m1)]
        self.index = [[(a - c_) * (2 * m1 - 1) + b - d + (m0 - 1) * (2 * m1 - 1) + m1 - 1 for c_, d in cells]
                      for a, b in cells]  # fmt: skip
        self.coords = [[float(i), float(j)] for i in range(1 - m0, m0) for j in range(1 - m1, m1)]
        if pos == "table":
            self.table = self.add_weight(shape=((2 * m0 - 1) * (2 * m1 - 1), heads), initializer="zeros")
        elif pos == "cpb":
            self.cpb = [layers.Dense(512, activation="relu", name="cpb1"),
                        layers.Dense(heads, use_bias=False, name="cpb2")]  # fmt: skip
            self.logit_scale = self.add_weight(shape=(heads, 1, 1), initializer="zeros", name="logit_scale")

    def build(self, input_shape):
        self.qkv.build((None, self.c))
        self.proj.build((None, self.c))
        if self.pos == "cpb":
            self.cpb[0].build((None, 2))
            self.cpb[1].build((None, 512))

    def position_bias(self):
        if self.pos == "table":
            table = self.table
        elif self.pos == "cpb":
            table = self.cpb[1](self.cpb[0](ops.convert_to_tensor(self.coords)))
        else:
            return None
        return ops.transpose(ops.take(table, ops.convert_to_tensor(self.index), axis=0), (2, 0, 1))

    def call(self, x):
        _, h, w, c = ops.shape(x)
        (m0, m1), (s0, s1) = self.win, self.shift
        x = ops.pad(x, ((0, 0), (0, -h % m0), (0, -w % m1), (0, 0)))
        x = ops.roll(x, (-s0, -s1), (1, 2))
        hp, wp = h + (-h % m0), w + (-w % m1)
        windows = ops.transpose(ops.reshape(x, (-1, hp // m0, m0, wp // m1, m1, c)), (0, 1, 3, 2, 4, 5))
        qkv = ops.reshape(self.qkv(ops.reshape(windows, (-1, m0 * m1, c))), (-1, m0 * m1, 3, self.heads, c // self.heads))
        y = ops.dot_product_attention(qkv[:, :, 0], qkv[:, :, 1], qkv[:, :, 2], bias=self.position_bias())
        y = self.proj(ops.reshape(y, (-1, m0 * m1, c)))
        y = ops.transpose(ops.reshape(y, (-1, hp // m0, wp // m1, m0, m1, c)), (0, 1, 3, 2, 4, 5))
        y = ops.roll(ops.reshape(y, (-1, hp, wp, c)), (s0, s1), (1, 2))
        return y[:, :h, :w]

    def compute_output_shape(self, input_shape):
        return input_shape
''',
    "RelTable": '''
class RelTable(layers.Layer):
    """A relative-position table of m rows of width c, with its norm (DeBERTa-v3), kept for
    the attention layers that read it; the flow passes by unchanged."""

    def __init__(self, m, c, norm="none", **kwargs):
        super().__init__(**kwargs)
        self.table = self.add_weight(shape=(m, c), initializer="zeros", name="table")
        self.norm = {"ln": layers.LayerNormalization, "rms": layers.RMSNormalization}.get(norm)
        if self.norm is not None:
            self.norm = self.norm(name="norm")
            self.norm.build((None, c))

    def call(self, x):
        return x

    def compute_output_shape(self, input_shape):
        return input_shape
''',
    "Parameter": '''
class Parameter(layers.Layer):
    """A learned tensor (W(d1, ...)) the flow passes by unchanged, e.g. CLIP's logit scale."""

    def __init__(self, shape, trainable=True, **kwargs):
        super().__init__(**kwargs)
        self.weight = self.add_weight(shape=shape, initializer="zeros", name="weight", trainable=trainable)

    def call(self, x):
        return x

    def compute_output_shape(self, input_shape):
        return input_shape
''',
    "TiedOutput": '''
class TiedOutput(layers.Layer):
    """A dense output that shares an Embedding's weights (x @ E^T): only its bias is its own."""

    def __init__(self, embedding, use_bias=True, **kwargs):
        super().__init__(**kwargs)
        # In a list, the embedding's weights stay the embedding's: counted once.
        self.embedding = [embedding]
        self.use_bias = use_bias

    def build(self, input_shape):
        vocabulary = self.embedding[0].input_dim
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(shape=(vocabulary,), initializer="zeros", name="bias")

    def call(self, x):
        y = ops.matmul(x, ops.transpose(self.embedding[0].embeddings))
        return y + self.bias if self.bias is not None else y

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.embedding[0].input_dim,)
''',
    "Subsample": '''
class Subsample(layers.Layer):
    """Every s-th position of each spatial axis: a stride after a dilated convolution at
    stride 1, which Keras cannot combine in one layer."""

    def __init__(self, strides, **kwargs):
        super().__init__(**kwargs)
        self.strides = tuple(strides)

    def call(self, x):
        index = (slice(None),) + tuple(slice(None, None, s) for s in self.strides) + (slice(None),)
        return x[index]

    def compute_output_shape(self, input_shape):
        spatial = tuple(None if x is None else -(-x // s) for x, s in zip(input_shape[1:-1], self.strides))
        return (input_shape[0],) + spatial + (input_shape[-1],)
''',
    "ZeroInsert": '''
class ZeroInsert(layers.Layer):
    """s - 1 zeros between neighbouring positions of each spatial axis (a transposed
    convolution's stride, as a layer of its own)."""

    def __init__(self, strides, **kwargs):
        super().__init__(**kwargs)
        self.strides = tuple(strides)

    def call(self, x):
        for axis, s in enumerate(self.strides, start=1):
            if s == 1:
                continue
            n = x.shape[axis]
            spread = ops.stack([x] + [ops.zeros_like(x)] * (s - 1), axis=axis + 1)
            shape = tuple(x.shape[1:axis]) + (n * s,) + tuple(x.shape[axis + 1 :])
            x = ops.reshape(spread, (-1,) + shape)
            x = x[(slice(None),) * axis + (slice(0, (n - 1) * s + 1),)]
        return x

    def compute_output_shape(self, input_shape):
        spatial = tuple((x - 1) * s + 1 for x, s in zip(input_shape[1:-1], self.strides))
        return (input_shape[0],) + spatial + (input_shape[-1],)
''',
    "GroupedConvTranspose": '''
class GroupedConvTranspose(layers.Layer):
    """A transposed convolution with groups, which Keras's ConvTranspose lacks: one
    ConvTranspose of filters/groups per group of input channels, concatenated."""

    def __init__(self, rank, filters, kernel_size, groups, **kwargs):
        options = {k: kwargs.pop(k) for k in ("strides", "padding", "dilation_rate", "use_bias") if k in kwargs}
        super().__init__(**kwargs)
        make = {1: layers.Conv1DTranspose, 2: layers.Conv2DTranspose, 3: layers.Conv3DTranspose}[rank]
        self.groups = groups
        self.convs = [make(filters // groups, kernel_size, name=f"group{i}", **options) for i in range(groups)]

    def build(self, input_shape):
        part = tuple(input_shape[:-1]) + (input_shape[-1] // self.groups,)
        for conv in self.convs:
            conv.build(part)

    def call(self, x):
        parts = ops.split(x, self.groups, axis=-1)
        return ops.concatenate([conv(p) for conv, p in zip(self.convs, parts)], axis=-1)

    def compute_output_shape(self, input_shape):
        part = tuple(input_shape[:-1]) + (input_shape[-1] // self.groups,)
        shape = self.convs[0].compute_output_shape(part)
        return tuple(shape[:-1]) + (shape[-1] * self.groups,)
''',
}


@dataclass
class Scope:
    """Where code is written: its indentation, the template of its layer names (inside an
    f-string: "" at the top, "{name}_" in a function) and their counter."""

    indent: int
    template: str
    names: Names = field(default_factory=Names)

    def name_arg(self, local: str) -> Namer:
        def namer(suffix: str = "") -> str:
            full = self.template + local + (f"_{suffix}" if suffix else "")
            return f'name=f"{full}"' if "{" in full else f'name="{full}"'

        return namer

    def sub(self, local: str) -> Scope:
        return Scope(self.indent, self.template + local + "_")

    def name_value(self, local: str) -> str:
        full = self.template + local
        return f'f"{full}"' if "{" in full else f'"{full}"'


@dataclass
class FunctionCode:
    base: str
    variant: str
    doc: str
    lines: list[str]
    name: str = ""
    reads: bool = False  # it takes the graph's named tensors it reads, by name


RESERVED = {"keras", "layers", "ops", "build", "inputs", "x", "name", "i"}


@dataclass
class KerasWriter:
    net: Network
    helpers: list[str] = field(default_factory=list)
    functions: list[FunctionCode] = field(default_factory=list)
    known: dict[str, int] = field(default_factory=dict)
    ties: dict[int, LayerInfo] = field(default_factory=dict)  # id(O row) -> its E row
    tied_embeddings: set[int] = field(default_factory=set)
    embedding_vars: dict[int, str] = field(default_factory=dict)
    top_rows: list[tuple[LayerInfo, str]] = field(default_factory=list)
    var_count: int = 0
    tensor_vars: dict[str, str] = field(default_factory=dict)  # a graph's tensor -> its variable
    embedding_reuse: dict[int, LayerInfo] = field(default_factory=dict)  # id(E tied) -> its table's E
    # A graph's tensor -> the name the function being written reads it by (common.local_names).
    local: dict[str, str] = field(default_factory=dict)

    notes: list[str] = field(default_factory=list)  # said by the entry of the row being written

    def note(self, text: str) -> None:
        """A comment for the row being written: what the code does in place of a missing layer."""
        self.notes.append(text)

    def helper(self, name: str) -> str:
        if name not in self.helpers:
            self.helpers.append(name)
        return name

    def ref(self, name: str, scope: Scope) -> str:
        """A named tensor of the graph: its variable in build(), tensors["name"] in a function."""
        if "{" in scope.template:
            return f'tensors["{self.local.get(name, name)}"]'
        return self.tensor_vars[name]

    def tensor_arg(self, rows: list[LayerInfo], scope: Scope) -> str:
        """The argument giving a function the named tensors `rows` read ("" when none)."""
        reads = [n for r in rows for n in tensor_reads(r)]
        if not reads:
            return ""
        if "{" in scope.template:
            return ", tensors"
        given = (f'"{self.local.get(n, n)}": {self.tensor_vars[n]}' for n in dict.fromkeys(reads))
        return ", {" + ", ".join(given) + "}"

    def fresh(self, base: str) -> str:
        self.var_count += 1
        return f"{base}_{self.var_count}"

    # -------------------------------------------------------- rows to lines
    def emit(
        self, row: LayerInfo, shape: Shape, src: str, dst: str, scope: Scope, top: bool = False
    ) -> list[str]:
        if row.kind == "Tensor":  # a branch that starts from a named tensor of a graph
            return [f"{' ' * scope.indent}{dst} = {self.ref(row.args['tensor'], scope)}"]
        local = scope.names.new(stem(row))
        if top:
            self.top_rows.append((row, local))
        pad = " " * scope.indent
        comment = describe(row)
        if id(row) in self.embedding_reuse:
            return tied_embedding(self, row, src, dst, pad, comment, top)
        if not row.children:
            entry = KERAS.get(row.name)
            if entry is None:
                raise ExportError(f"{row.text}: no Keras exporter for the layer {row.name or row.kind}")
            if id(row) in self.ties and not top:
                raise ExportError(
                    f"{row.text}: tied weights are exported when the output and its embedding are in the main chain"
                )
            applied = entry(row, shape, self, scope.name_arg(local))
            notes, self.notes = self.notes, []
            comment = "; ".join([comment] + notes)
            lines = []
            if id(row) in self.tied_embeddings:
                if not top:
                    raise ExportError(
                        f"{row.text}: a tied embedding is exported when it is in the main chain"
                    )
                self.embedding_vars[id(row)] = local
                lines.append(f"{pad}{local} = {applied[0]}  # {comment}")
                lines.append(f"{pad}{dst} = {local}({src})")
                return lines
            for j, code in enumerate(applied):
                code = tensor_refs(self, code, scope)
                call = code.replace("{x}", src) if "{x}" in code else f"{code}({src})"
                lines.append(f"{pad}{dst} = {call}" + (f"  # {comment}" if j == 0 else ""))
                src = dst
            return lines
        if row.kind in FORMS and not row.name:
            return self.form(row, shape, src, dst, scope, local, comment, top)
        if row.kind == "SharedRepeat":  # X**n: one model of X, applied n times
            return shared_model(self, row, shape, src, dst, scope, local, comment)
        if row.kind not in FORMS and not row.name:
            raise ExportError(f"{row.text}: no Keras exporter for {row.kind} yet")
        fn = self.function(list(row.children), shape, snake(block_base(row)), row)
        given = self.tensor_arg([row], scope)
        return [f"{pad}{dst} = {fn}({src}, {scope.name_value(local)}{given})  # {comment}"]

    def chain(self, rows: list[LayerInfo], shape: Shape, src: str, dst: str, scope: Scope) -> list[str]:
        lines: list[str] = []
        for row in rows:
            lines += self.emit(row, shape, src, dst, scope)
            src = dst
            shape = ints(row.shape)
        if not rows and src != dst:
            lines.append(f"{' ' * scope.indent}{dst} = {src}")
        return lines

    def form(
        self,
        row: LayerInfo,
        shape: Shape,
        src: str,
        dst: str,
        scope: Scope,
        local: str,
        comment: str,
        top: bool,
    ) -> list[str]:
        pad = " " * scope.indent
        # The layers of a row of the main chain are named after it (`residual1_conv1`), so
        # that `check` finds them; deeper, a group's layers share the names of its scope.
        inner = scope.sub(local) if top or row.kind != "Sequential" else scope
        lines = [f"{pad}# {comment}"]
        if row.kind == "Sequential":
            return lines + self.chain(list(row.children), shape, src, dst, inner)
        if row.kind == "Repeat":
            for rows, k in repeat_applications(row):
                if k == 1:
                    lines += self.chain(rows, shape, src, dst, inner)
                else:
                    fn = self.function(rows, shape, "block", None)
                    if src != dst:
                        lines.append(f"{pad}{dst} = {src}")
                    where = inner.name_value(inner.names.new("block") + "_{i + 1}")
                    lines.append(f"{pad}for i in range({k}):")
                    lines.append(f"{pad}    {dst} = {fn}({dst}, {where}{self.tensor_arg(rows, scope)})")
                src = dst
                shape = ints(rows[-1].shape)
            return lines
        if row.kind == "Parallel":
            n = num(row.count)
            fn = self.function(list(row.children), shape, "column", None)
            where = inner.name_value("column_{i + 1}")
            given = self.tensor_arg(list(row.children), scope)
            if n == 1:
                return lines + [f"{pad}{dst} = {fn}({src}, {inner.name_value('column_1')}{given})"]
            copies = f"[{fn}({src}, {where}{given}) for i in range({n})]"
            return lines + [
                f"{pad}{dst} = layers.Concatenate(axis=-1, {scope.name_arg(local)('')})({copies})"
            ]
        outs = []
        for child in row.children:
            if child.name == "id" and not child.children:
                outs.append(src)
                continue
            if child.kind == "Tensor":  # a branch that is a named tensor
                outs.append(self.ref(child.args["tensor"], scope))
                continue
            var = self.fresh("branch")
            lines += self.emit(child, shape, src, var, inner)
            outs.append(var)
        join = {"Add": "layers.Add", "Multiply": "layers.Multiply"}.get(row.kind, "layers.Concatenate")
        axis = "axis=-1, " if row.kind == "Concat" else ""
        lines.append(f"{pad}{dst} = {join}({axis}{scope.name_arg(local)('')})([{', '.join(outs)}])")
        return lines

    def function(self, rows: list[LayerInfo], shape: Shape, base: str, row: LayerInfo | None) -> str:
        """A function `def f(x, name)` applying `rows`, made once per body; its placeholder."""
        saved = self.var_count
        self.var_count = 0
        body = self.chain(rows, shape, "x", "x", Scope(4, "{name}_"))
        self.var_count = saved
        key = base + "\n" + "\n".join(body)
        if key not in self.known:
            if row is not None:
                doc = describe(row)
            else:
                total = sum(num(r.params) for r in rows)
                text = " - ".join(safe(r.text) for r in rows)
                text = text[:57] + "..." if len(text) > 60 else text
                doc = f"{text}: {total:,} params" if total else text
            self.known[key] = len(self.functions)
            reads = any(tensor_reads(r) for r in rows)
            self.functions.append(
                FunctionCode(base, variant_suffix(row) if row is not None else "", doc, body, reads=reads)
            )
        return f"\x00{self.known[key]}\x00"

    # -------------------------------------------------------- the module
    def source(self, model_name: str) -> str:
        net = self.net
        self.find_ties()
        shape = ints(net.layers[0].shape)
        top = Scope(4, "")
        body: list[str] = []
        src = "inputs"
        model = f'    return keras.Model(inputs, x, name="{identifier(model_name).lower()}")'
        if net.is_graph:
            body, model = keras_graph_body(self, identifier(model_name).lower())
        else:
            body.append("    inputs = keras.Input(shape=INPUT_SHAPE, dtype=INPUT_DTYPE)")
            for row in net.layers[1:]:
                body += self.emit(row, shape, src, "x", top, top=True)
                src = "x"
                shape = ints(row.shape)
            if src == "inputs":
                body.append("    x = inputs")
        self.name_functions()
        out = [
            f'"""{model_name}, exported by symparams from:',
            "",
            *indented(program_text(net.text)),
            "",
            f"{num(net.params):,} parameters (Keras counts, {num(net.non_trainable):,} of them non-trainable).",
            '"""',
            "",
            "import keras",
        ]
        uses_ops = any("ops." in HELPERS[h] for h in self.helpers)
        out.append("from keras import layers, ops" if uses_ops else "from keras import layers")
        out += [""] + keras_input_constants(net)
        for name in self.helpers:
            out += ["", "", HELPERS[name].strip("\n")]
        for fn in self.functions:
            out += [
                "",
                "",
                f"def {fn.name}(x, name{', tensors' if fn.reads else ''}):",
                f'    """{fn.doc}."""',
            ]
            out += [self.resolve(line) for line in fn.lines]
            out.append("    return x")
        out += [
            "",
            "",
            "def build():",
            f'    """{model_name} as a keras.Model: {num(net.params):,} params."""',
        ]
        out += [self.resolve(line) for line in body]
        out += [model, ""]
        return "\n".join(fit(line.rstrip()) for line in "\n".join(out).split("\n"))

    def find_ties(self) -> None:
        embeddings = [r for r in self.net.walk() if r.name == "E" and not r.args.get("tied")]
        for tied, table in embedding_ties(self.net, embeddings):
            self.embedding_reuse[id(tied)] = table
            self.tied_embeddings.add(id(table))
        for row in self.net.walk():
            if row.name == "O" and row.args.get("tied"):
                v = num(row.args["n"])
                match = [e for e in embeddings if num(e.args["v"]) == v]
                if not match:
                    raise ExportError(f"{row.text}: no embedding to tie to")
                self.ties[id(row)] = match[0]
                self.tied_embeddings.add(id(match[0]))

    def name_functions(self) -> None:
        by_base: dict[str, list[FunctionCode]] = {}
        for fn in self.functions:
            by_base.setdefault(fn.base, []).append(fn)
        taken = set(RESERVED) | {h.lower() for h in HELPERS}
        for base, group in by_base.items():
            for fn in group:
                name = base if len(group) == 1 or not fn.variant else f"{base}_{fn.variant}"
                if name in taken and name == base:
                    name = base + "_block"
                fn.name = unique_name(name, taken)

    def resolve(self, line: str) -> str:
        while "\x00" in line:
            start = line.index("\x00")
            end = line.index("\x00", start + 1)
            line = line[:start] + self.functions[int(line[start + 1 : end])].name + line[end + 1 :]
        return line


# ---------------------------------------------------------------- layer entries
_DIMS = {1: "1D", 2: "2D", 3: "3D"}


def dims(shape: Shape) -> str:
    rank = len(shape) - 1
    if rank not in _DIMS:
        raise ExportError(f"Keras has no layer over {rank} spatial axes")
    return _DIMS[rank]


def kw(**values: Any) -> str:
    return "".join(f", {k}={v}" for k, v in values.items() if v is not None)


def pairs(pads: list[tuple[int, int]]) -> str:
    """Keras's padding/cropping argument: one (before, after) pair per spatial axis."""
    if len(pads) == 1:
        return tuple_text(pads[0])
    return "(" + ", ".join(tuple_text(p) for p in pads) + ")"


def _conv_common(
    row: LayerInfo, shape: Shape, name: Namer, w: KerasWriter
) -> tuple[list[str], str, tuple[int, ...], str]:
    """Layers before the conv (explicit padding), its keyword arguments, and the strides
    to take after it (Keras refuses strides with dilation)."""
    a = row.args
    s, d = ints(a["s"]), ints(a["d"])
    p = a["p"]
    pre: list[str] = []
    if not isinstance(p, str):
        q = ints(p)
        if any(q):
            w.note("Keras convolutions take no integer padding: the zeros as a layer of their own")
            pre.append(f"layers.ZeroPadding{dims(shape)}({literal(q)}, {name('pad')})")
        p = "valid"
    after: tuple[int, ...] = ()
    if any(x != 1 for x in s) and any(x != 1 for x in d):
        w.note("Keras refuses strides with dilation: stride 1, then every s-th position (Subsample)")
        after, s = s, (1,) * len(s)
    options = kw(
        strides=literal(s) if any(x != 1 for x in s) else None,
        padding=f'"{p}"' if p != "valid" else None,
        dilation_rate=literal(d) if any(x != 1 for x in d) else None,
        use_bias=None if a["bias"] else "False",
    )
    return pre, options, after, p


def _subsample(after: tuple[int, ...], w: KerasWriter, name: Namer) -> list[str]:
    return [f"{w.helper('Subsample')}({tuple_text(after)}, {name('stride')})"] if after else []


@keras_layer("C")
def _conv(row: LayerInfo, shape: Shape, w: KerasWriter, name: Namer) -> list[str]:
    a = row.args
    pre, options, after, _ = _conv_common(row, shape, name, w)
    groups = kw(groups=num(a["g"]) if num(a["g"]) != 1 else None)
    conv = f"layers.Conv{dims(shape)}({num(a['n'])}, {literal(ints(a['f']))}{options}{groups}, {name('')})"
    return pre + [conv] + _subsample(after, w, name)


@keras_layer("DW", "SC")
def _depthwise(row: LayerInfo, shape: Shape, w: KerasWriter, name: Namer) -> list[str]:
    a, c = row.args, shape[-1]
    pre, options, after, _ = _conv_common(row, shape, name, w)
    f, m = literal(ints(a["f"])), num(a["m"])
    if len(shape) == 4:
        w.note("Keras has no DepthwiseConv3D / SeparableConv3D: a Conv3D with one group per channel")
        if row.name == "DW":
            return (
                pre
                + [f"layers.Conv3D({c * m}, {f}{options}, groups={c}, {name('')})"]
                + _subsample(after, w, name)
            )
        depthwise_options = options.replace(", use_bias=False", "") + ", use_bias=False"
        pointwise = (
            f"layers.Conv3D({num(a['n'])}, 1{kw(use_bias=None if a['bias'] else 'False')}, {name('')})"
        )
        return (
            pre
            + [f"layers.Conv3D({c * m}, {f}{depthwise_options}, groups={c}, {name('depthwise')})"]
            + _subsample(after, w, name)
            + [pointwise]
        )
    multiplier = kw(depth_multiplier=m if m != 1 else None)
    if row.name == "DW":
        conv = f"layers.DepthwiseConv{dims(shape)}({f}{options}{multiplier}, {name('')})"
        return pre + [conv] + _subsample(after, w, name)
    if after:  # the stride between the depthwise and the pointwise part
        depthwise_options = options.replace(", use_bias=False", "") + ", use_bias=False"
        pointwise = f"layers.Conv{dims(shape)}({num(a['n'])}, 1{kw(use_bias=None if a['bias'] else 'False')}, {name('')})"
        return (
            pre
            + [f"layers.DepthwiseConv{dims(shape)}({f}{depthwise_options}{multiplier}, {name('depthwise')})"]
            + _subsample(after, w, name)
            + [pointwise]
        )
    return pre + [f"layers.SeparableConv{dims(shape)}({num(a['n'])}, {f}{options}{multiplier}, {name('')})"]


@keras_layer("T")
def _transposed(row: LayerInfo, shape: Shape, w: KerasWriter, name: Namer) -> list[str]:
    a = row.args
    f, s, d = ints(a["f"]), ints(a["s"]), ints(a["d"])
    p = a["p"] if a["p"] is not None else "valid"
    pre: list[str] = []
    post: list[str] = []
    strided_dilated = any(x != 1 for x in s) and any(x != 1 for x in d)
    # Keras's own rule takes an output padding with 'valid' and 'same' (deconv_output_length);
    # any other case is cropped or padded to the size below.
    output_padding = a["op"] if isinstance(p, str) and not strided_dilated and a["op"] is not None else None
    if strided_dilated or not isinstance(p, str):
        target = ints(row.shape[:-1])
        if strided_dilated:
            w.note(
                "Keras refuses strides with dilation: the stride's zeros inserted, then a stride-1 transposed conv"
            )
            pre.append(f"{w.helper('ZeroInsert')}({tuple_text(s)}, {name('upsample')})")
            full = [(x - 1) * si + di * (fi - 1) + 1 for x, si, di, fi in zip(shape[:-1], s, d, f)]
            s = (1,) * len(s)
        else:  # Keras's 'valid' output, which PyTorch's padding then crops
            full = [x * si + max(di * (fi - 1) + 1 - si, 0) for x, si, di, fi in zip(shape[:-1], s, d, f)]
        if p == "same":
            start = [max(u - t, 0) // 2 for u, t in zip(full, target)]
        elif p == "valid":
            start = [0] * len(full)
        else:
            start = list(ints(p))
        if not strided_dilated:
            w.note(
                "Keras's ConvTranspose takes no integer padding: 'valid', then cropped (or padded) to the size"
            )
        end = [u - b - t for u, b, t in zip(full, start, target)]
        crops = [(b, max(e, 0)) for b, e in zip(start, end)]
        if any(b or e for b, e in crops):
            post.append(f"layers.Cropping{dims(shape)}({pairs(crops)}, {name('crop')})")
        if any(e < 0 for e in end):
            post.append(
                f"layers.ZeroPadding{dims(shape)}({pairs([(0, max(-e, 0)) for e in end])}, {name('pad')})"
            )
        p = "valid"
    options = kw(
        strides=literal(s) if any(x != 1 for x in s) else None,
        padding=f'"{p}"' if p != "valid" else None,
        output_padding=literal(ints(output_padding)) if output_padding is not None else None,
        dilation_rate=literal(d) if any(x != 1 for x in d) else None,
        use_bias=None if a["bias"] else "False",
    )
    g = num(a["g"])
    if g != 1:
        w.note("Keras's ConvTranspose has no groups: one per group, concatenated (GroupedConvTranspose)")
        rank = len(shape) - 1
        conv = f"{w.helper('GroupedConvTranspose')}({rank}, {num(a['n'])}, {literal(f)}, {g}{options}, {name('')})"
    else:
        conv = f"layers.Conv{dims(shape)}Transpose({num(a['n'])}, {literal(f)}{options}, {name('')})"
    return pre + [conv] + post


@keras_layer("P", "A")
def _pool(row: LayerInfo, shape: Shape, w: KerasWriter, name: Namer) -> list[str]:
    a = row.args
    f = ints(a["f"])
    s = ints(a["s"]) if a["s"] is not None else f
    kind = "Max" if row.name == "P" else "Average"
    p = a["p"]
    pre: list[str] = []
    if not isinstance(p, str) or a["ceil"]:
        w.note(
            "Keras pools take no integer padding or ceil mode: the padding as zeros before a 'valid' pool"
            + (" (a max pool sees zeros where PyTorch sees -inf)" if kind == "Max" else "")
        )
        q = ints(p) if not isinstance(p, str) else (0,) * len(f)
        target = ints(row.shape[:-1])
        pads = [
            (qi, qi + max((o - 1) * si + fi - (x + 2 * qi), 0))
            for qi, o, si, fi, x in zip(q, target, s, f, shape[:-1])
        ]
        if any(b or e for b, e in pads):
            pre.append(f"layers.ZeroPadding{dims(shape)}({pairs(pads)}, {name('pad')})")
        p = "valid"
    options = kw(strides=literal(s) if s != f else None, padding=f'"{p}"' if p != "valid" else None)
    return pre + [f"layers.{kind}Pooling{dims(shape)}({literal(f)}{options}, {name('')})"]


@keras_layer("GAP", "GMP")
def _global_pool(row: LayerInfo, shape: Shape, w: KerasWriter, name: Namer) -> list[str]:
    kind = "Average" if row.name == "GAP" else "Max"
    return [f"layers.Global{kind}Pooling{dims(shape)}({name('')})"]


@keras_layer("AAP", "AMP")
def _adaptive_pool(row: LayerInfo, shape: Shape, w: KerasWriter, name: Namer) -> list[str]:
    kind = "Average" if row.name == "AAP" else "Max"
    return [f"layers.Adaptive{kind}Pooling{dims(shape)}({literal(ints(row.args['o']))}, {name('')})"]


@keras_layer("Z")
def _zero_pad(row: LayerInfo, shape: Shape, w: KerasWriter, name: Namer) -> list[str]:
    return [f"layers.ZeroPadding{dims(shape)}({pairs(zero_pad_pairs(row, len(shape) - 1))}, {name('')})"]


@keras_layer("SEQ")
def _tokens(row: LayerInfo, shape: Shape, w: KerasWriter, name: Namer) -> list[str]:
    return [f"layers.Reshape((-1, {shape[-1]}), {name('')})"]


@keras_layer("CLS")
def _class_token(row: LayerInfo, shape: Shape, w: KerasWriter, name: Namer) -> list[str]:
    return [f"{w.helper('ClassToken')}({name('')})"]


@keras_layer("FIRST")
def _first_token(row: LayerInfo, shape: Shape, w: KerasWriter, name: Namer) -> list[str]:
    return [f"{w.helper('FirstToken')}({name('')})"]


@keras_layer("F")
def _flatten(row: LayerInfo, shape: Shape, w: KerasWriter, name: Namer) -> list[str]:
    return [f"layers.Flatten({name('')})"]


@keras_layer("H", "O")
def _dense(row: LayerInfo, shape: Shape, w: KerasWriter, name: Namer) -> list[str]:
    a = row.args
    bias = kw(use_bias=None if a["bias"] else "False")
    # An image is flattened first, unless H(n, flat=false): Keras's Dense per position.
    flat = [f"layers.Flatten({name('flatten')})"] if len(shape) >= 3 and a.get("flat", True) else []
    if id(row) in w.ties:
        embedding = w.embedding_vars.get(id(w.ties[id(row)]))
        if embedding is None:
            raise ExportError(f"{row.text}: the tied embedding must come first in the main chain")
        return flat + [f"{w.helper('TiedOutput')}({embedding}{bias}, {name('')})"]
    return flat + [f"layers.Dense({num(a['n'])}{bias}, {name('')})"]


@keras_layer("D")
def _dropout(row: LayerInfo, shape: Shape, w: KerasWriter, name: Namer) -> list[str]:
    return [f"layers.Dropout({rate(row.args['r'])}, {name('')})"]


@keras_layer("BN")
def _batch_norm(row: LayerInfo, shape: Shape, w: KerasWriter, name: Namer) -> list[str]:
    a = row.args
    off = kw(
        center=None if a["affine"] and a["center"] else "False",
        scale=None if a["affine"] and a["scale"] else "False",
    )
    return [f"layers.BatchNormalization({off.removeprefix(', ')}{', ' if off else ''}{name('')})"]


@keras_layer("LN")
def _layer_norm(row: LayerInfo, shape: Shape, w: KerasWriter, name: Namer) -> list[str]:
    off = "" if row.args["bias"] else "center=False, "
    return [f"layers.LayerNormalization({off}{name('')})"]


@keras_layer("RMS")
def _rms_norm(row: LayerInfo, shape: Shape, w: KerasWriter, name: Namer) -> list[str]:
    return [f"layers.RMSNormalization({name('')})"]


@keras_layer(*ACTIVATIONS)
def _activation(row: LayerInfo, shape: Shape, w: KerasWriter, name: Namer) -> list[str]:
    if row.name == "id":
        return [f"layers.Identity({name('')})"]
    return [f'layers.Activation("{row.name}", {name("")})']


@keras_layer("E")
def _embedding(row: LayerInfo, shape: Shape, w: KerasWriter, name: Namer) -> list[str]:
    return [f"layers.Embedding({num(row.args['v'])}, {num(row.args['d'])}, {name('')})"]


@keras_layer("PE")
def _positions(row: LayerInfo, shape: Shape, w: KerasWriter, name: Namer) -> list[str]:
    return [f"{w.helper('PositionalEmbedding')}({num(row.args['m'])}, {name('')})"]


@keras_layer("R", "L", "G")
def _recurrent(row: LayerInfo, shape: Shape, w: KerasWriter, name: Namer) -> list[str]:
    a = row.args
    kind = {"R": "SimpleRNN", "L": "LSTM", "G": "GRU"}[row.name]
    options = kw(
        return_sequences="True" if a["seq"] else None,
        use_bias=None if a["bias"] else "False",
        reset_after="False" if row.name == "G" and not a["reset_after"] else None,
    )
    if a["bi"]:
        return [f"layers.Bidirectional(layers.{kind}({num(a['n'])}{options}), {name('')})"]
    return [f"layers.{kind}({num(a['n'])}{options}, {name('')})"]


@keras_layer("MHA")
def _attention(row: LayerInfo, shape: Shape, w: KerasWriter, name: Namer) -> list[str]:
    a, c = row.args, shape[-1]
    note = window_note(row)
    if note is not None:
        w.note(note)
    h = num(a["h"])
    k = num(a["k"]) if a["k"] is not None else c // h
    kv = num(a["kv"]) if a["kv"] is not None else h
    letters, qknorm = a["bias"], a["qknorm"]
    if letters not in ("qkvo", "") or qknorm != "none":
        options = kw(
            bias=repr(letters) if letters != "qkvo" else None,
            qknorm=repr(qknorm) if qknorm != "none" else None,
            norm=repr(a["qknorm_kind"]) if qknorm != "none" and a["qknorm_kind"] != "rms" else None,
            norm_bias="False"
            if qknorm != "none" and a["qknorm_kind"] == "ln" and not a["qknorm_bias"]
            else None,
        )
        return [f"{w.helper('Attention')}({c}, {h}, {k}, {kv}{options}, {name('')})"]
    bias = kw(use_bias=None if a["bias"] else "False")
    if kv == h:
        return [f"layers.MultiHeadAttention({h}, {k}{bias}, {name('')})({{x}}, {{x}})"]
    return [f"layers.GroupQueryAttention({k}, {h}, {kv}{bias}, {name('')})({{x}}, {{x}})"]


@keras_layer("SwiGLU", "GeGLU")
def _gated(row: LayerInfo, shape: Shape, w: KerasWriter, name: Namer) -> list[str]:
    bias = kw(use_bias=None if row.args["bias"] else "False")
    return [f"{w.helper(row.name)}({num(row.args['n'])}{bias}, {name('')})"]


@keras_layer("MoE")
def _mixture(row: LayerInfo, shape: Shape, w: KerasWriter, name: Namer) -> list[str]:
    a = row.args
    w.helper("Expert")
    options = kw(
        mlp=repr(a["mlp"]) if a["mlp"] != "swiglu" else None,
        use_bias="True" if a["bias"] else None,
        shared=num(a["shared"]) if num(a["shared"]) else None,
        shared_ff=num(a["shared_ff"]) if a["shared_ff"] is not None else None,
        router_bias="True" if a["router_bias"] else None,
    )
    head = f"{shape[-1]}, {num(a['E'])}, {num(a['k'])}, {num(a['ff'])}"
    return [f"{w.helper('MoE')}({head}{options}, {name('')})"]


@keras_layer("CH", "CHUNK")
def _channel_slice(row: LayerInfo, shape: Shape, w: KerasWriter, name: Namer) -> list[str]:
    a = row.args
    if row.name == "CH":
        start, stop = num(a["a"]), num(a["b"])
    else:  # chunk i of n equal chunks
        width = shape[-1] // num(a["n"])
        start, stop = num(a["i"]) * width, (num(a["i"]) + 1) * width
    return [f"{w.helper('ChannelSlice')}({start}, {stop}, {name('')})"]


@keras_layer("SHUF")
def _shuffle(row: LayerInfo, shape: Shape, w: KerasWriter, name: Namer) -> list[str]:
    return [f"{w.helper('ChannelShuffle')}({num(row.args['g'])}, {name('')})"]


def _images_only(row: LayerInfo, shape: Shape) -> None:
    if len(shape) != 3:
        raise ExportError(f"{row.text}: no Keras exporter for {row.name} over {len(shape) - 1} spatial axes")


@keras_layer("S2D")
def _space_to_depth(row: LayerInfo, shape: Shape, w: KerasWriter, name: Namer) -> list[str]:
    _images_only(row, shape)
    return [f"{w.helper('SpaceToDepth')}({num(row.args['r'])}, {name('')})"]


@keras_layer("D2S")
def _depth_to_space(row: LayerInfo, shape: Shape, w: KerasWriter, name: Namer) -> list[str]:
    _images_only(row, shape)
    return [f"{w.helper('DepthToSpace')}({num(row.args['r'])}, {name('')})"]


@keras_layer("UP")
def _upsample(row: LayerInfo, shape: Shape, w: KerasWriter, name: Namer) -> list[str]:
    f = ints(row.args["f"])
    return [f"layers.UpSampling{dims(shape)}({literal(f) if len(f) > 1 else f[0]}, {name('')})"]


@keras_layer("RS")
def _resize(row: LayerInfo, shape: Shape, w: KerasWriter, name: Namer) -> list[str]:
    _images_only(row, shape)
    h, w_ = ints(row.args["size"] or row.shape[:-1])
    return [f"layers.Resizing({h}, {w_}, {name('')})"]


@keras_layer("WMSA")
def _window_attention(row: LayerInfo, shape: Shape, w: KerasWriter, name: Namer) -> list[str]:
    a = row.args
    w.helper("WindowAttention")  # also GridAttention's base class, defined before it
    options = kw(
        shift=tuple_text(ints(a["shift"])) if any(ints(a["shift"])) else None,
        pos=repr(a["pos"]) if a["pos"] != "table" else None,
        use_bias=None if a["bias"] else "False",
    )
    win = tuple_text(ints(a["win"]))
    # MaxViT's grid attention (grid=true): GridAttention, in the section of issue 18 (part A) below
    layer = w.helper("GridAttention" if a["grid"] else "WindowAttention")
    return [f"{layer}({shape[-1]}, {num(a['heads'])}, {win}{options}, {name('')})"]


@keras_layer("PM")
def _patch_merging(row: LayerInfo, shape: Shape, w: KerasWriter, name: Namer) -> list[str]:
    c = shape[-1]
    # 2x2 space-to-depth (odd sizes padded), then LayerNorm(4c)-Linear(4c, 2c) (V2: the other way).
    merge = f"{w.helper('SpaceToDepth')}(2, {name('merge')})"
    norm = f"layers.LayerNormalization({name('norm')})"
    linear = f"layers.Dense({2 * c}, use_bias=False, {name('reduce')})"
    return [merge, linear, norm] if row.args["v2"] else [merge, norm, linear]


@keras_layer("RT")
def _relative_table(row: LayerInfo, shape: Shape, w: KerasWriter, name: Namer) -> list[str]:
    norm = kw(norm=repr(row.args["norm"]) if row.args["norm"] != "none" else None)
    return [f"{w.helper('RelTable')}({num(row.args['m'])}, {shape[-1]}{norm}, {name('')})"]


@keras_layer("RB")
def _relative_bias(row: LayerInfo, shape: Shape, w: KerasWriter, name: Namer) -> list[str]:
    w.note("T5's relative attention bias, b buckets x h heads, kept for the attention layers")
    return [f"{w.helper('Parameter')}({tuple_text((num(row.args['b']), num(row.args['h'])))}, {name('')})"]


@keras_layer("SQ")
def _squeeze(row: LayerInfo, shape: Shape, w: KerasWriter, name: Namer) -> list[str]:
    return [f"layers.Reshape({tuple_text(ints(row.shape))}, {name('')})"]


@keras_layer("W")
def _parameter(row: LayerInfo, shape: Shape, w: KerasWriter, name: Namer) -> list[str]:
    a = row.args
    dims_ = weight_dims(a)
    fixed = kw(trainable=None if a.get("trainable", True) else "False")  # a non-trainable weight
    return [f"{w.helper('Parameter')}({tuple_text(dims_)}{fixed}, {name('')})"]


def keras_source(net: Network, model_name: str = "Net") -> tuple[str, list[tuple[LayerInfo, str]]]:
    """The source, and the layer-name prefix of each row of the main chain."""
    writer = KerasWriter(net)
    source = writer.source(model_name)
    return source, writer.top_rows


# ---------------------------------------------------------------- issue 18, part A: vision layers and gates
# Exporters of the layers of the modern vision models (layers/vision.py: DP, GN, IN, LS,
# NORM, PReLU, RESCALE, lrelu, hswish, hsigmoid, mish) and of WMSA's grid=true (MaxViT);
# the gate `[A * B]` is layers.Multiply (KerasWriter.form), which broadcasts as the
# language does (a lower rank's missing axes put after the batch). Each counts what
# symparams counts under the keras convention; `check` compares them.
HELPERS.update(
    {
        "DropPath": '''
class DropPath(layers.Layer):
    """Stochastic depth, as torchvision's StochasticDepth(rate, "row"): in training each
    sample is zeroed with probability `rate` and the others scaled by 1/(1-rate); no weights.
    Keras has no such layer (KerasHub's and keras_cv's are the same thing)."""

    def __init__(self, rate, **kwargs):
        super().__init__(**kwargs)
        self.rate = rate
        self.seed = keras.random.SeedGenerator(0)

    def call(self, x, training=None):
        if not training or self.rate == 0:
            return x
        keep = 1.0 - self.rate
        shape = (ops.shape(x)[0],) + (1,) * (len(x.shape) - 1)
        mask = ops.floor(keep + keras.random.uniform(shape, seed=self.seed))
        return x / keep * mask

    def compute_output_shape(self, input_shape):
        return input_shape
''',
        "LayerScale": '''
class LayerScale(layers.Layer):
    """Layer scale: a learned gamma per channel multiplies the input (c weights), as
    keras.applications.convnext's LayerScale, which Keras does not export."""

    def __init__(self, init_values=1e-6, **kwargs):
        super().__init__(**kwargs)
        self.init_values = init_values

    def build(self, input_shape):
        self.gamma = self.add_weight(
            shape=(input_shape[-1],), initializer=keras.initializers.Constant(self.init_values), name="gamma"
        )

    def call(self, x):
        return x * ops.cast(self.gamma, x.dtype)

    def compute_output_shape(self, input_shape):
        return input_shape
''',
        "GridAttention": '''
class GridAttention(WindowAttention):
    """MaxViT's grid attention (WMSA(grid=true)): the image cut into a win x win grid, each
    group the pixels at one place of every cell, attention inside each group. The pixels are
    reordered so that the groups become windows, window attention runs, and the order is
    restored: window attention's weights, no padding (win divides h and w)."""

    def call(self, x):
        _, h, w, c = ops.shape(x)
        m0, m1 = self.win
        y = ops.transpose(ops.reshape(x, (-1, m0, h // m0, m1, w // m1, c)), (0, 2, 1, 4, 3, 5))
        y = super().call(ops.reshape(y, (-1, h, w, c)))
        y = ops.transpose(ops.reshape(y, (-1, h // m0, m0, w // m1, m1, c)), (0, 2, 1, 4, 3, 5))
        return ops.reshape(y, (-1, h, w, c))
''',
    }
)


@keras_layer("DP")
def _drop_path(row: LayerInfo, shape: Shape, w: KerasWriter, name: Namer) -> list[str]:
    return [f"{w.helper('DropPath')}({rate(row.args['r'])}, {name('')})"]


@keras_layer("GN")
def _group_norm(row: LayerInfo, shape: Shape, w: KerasWriter, name: Namer) -> list[str]:
    off = "" if row.args["affine"] else ", center=False, scale=False"
    return [f"layers.GroupNormalization(groups={num(row.args['g'])}{off}, {name('')})"]


@keras_layer("IN")
def _instance_norm(row: LayerInfo, shape: Shape, w: KerasWriter, name: Namer) -> list[str]:
    # Keras's instance norm is GroupNormalization(groups=-1); affine as the row counts it
    # (IN's default, no affine given, is the convention's: True in Keras).
    off = "" if num(row.params) else ", center=False, scale=False"
    return [f"layers.GroupNormalization(groups=-1{off}, {name('')})"]


@keras_layer("LS")
def _layer_scale(row: LayerInfo, shape: Shape, w: KerasWriter, name: Namer) -> list[str]:
    return [f"{w.helper('LayerScale')}({name('')})"]


@keras_layer("NORM")
def _normalization(row: LayerInfo, shape: Shape, w: KerasWriter, name: Namer) -> list[str]:
    # Not adapted (no mean and variance given): adapt_mean and adapt_variance of the kept
    # axis and a count, all non-trainable (2c + 1); given them (adapt=false), no weights.
    fixed = "" if row.args["adapt"] else "mean=0.0, variance=1.0, "
    axis = "axis=None, " if row.args["axis"] == "none" else ""
    return [f"layers.Normalization({fixed}{axis}{name('')})"]


@keras_layer("PReLU")
def _prelu(row: LayerInfo, shape: Shape, w: KerasWriter, name: Namer) -> list[str]:
    per = row.args["per"] or "element"  # the keras convention's default: a slope per element
    axes = {"element": [], "channel": list(range(1, len(shape))), "one": list(range(1, len(shape) + 1))}[per]
    shared = f"shared_axes={axes}, " if axes else ""
    return [f"layers.PReLU({shared}{name('')})"]


@keras_layer("RESCALE")
def _rescale(row: LayerInfo, shape: Shape, w: KerasWriter, name: Namer) -> list[str]:
    offset = row.args["offset"]
    extra = f", offset={float_source(offset)}" if float(offset) != 0 else ""
    return [f"layers.Rescaling({float_source(row.args['scale'])}{extra}, {name('')})"]


@keras_layer("lrelu")
def _leaky_relu(row: LayerInfo, shape: Shape, w: KerasWriter, name: Namer) -> list[str]:
    a = row.args["a"]  # none given: Keras's default slope, 0.3, as the layer's
    slope = f"negative_slope={float_source(a)}, " if a is not None else ""
    return [f"layers.LeakyReLU({slope}{name('')})"]


_MORE_ACTIVATIONS = {"hswish": "hard_swish", "hsigmoid": "hard_sigmoid", "mish": "mish"}


@keras_layer(*_MORE_ACTIVATIONS)
def _more_activations(row: LayerInfo, shape: Shape, w: KerasWriter, name: Namer) -> list[str]:
    return [f'layers.Activation("{_MORE_ACTIVATIONS[row.name]}", {name("")})']


# ================================================================ graphs, cross-attention, latent attention, Mamba
# (README "Graphs" and "Export"): the graph form's named tensors are tensors of build(),
# one keras.Input per input and a list of outputs; a function that reads one takes them
# by name (`tensors`). X**n is one functional model applied n times.
HELPERS.update(
    {
        "CrossAttention": '''
class CrossAttention(layers.Layer):
    """XA with a bias on some projections only (Whisper: q, v, o): queries from the (t, c)
    input, keys and values from the (s, m) memory, as transformers' cross-attention builds
    them. Keras's MultiHeadAttention has a bias on all its projections or none."""

    def __init__(self, c, heads, k, kv, bias="qkvo", **kwargs):
        super().__init__(**kwargs)
        self.heads, self.kv, self.width = heads, kv, k
        self.q = layers.Dense(heads * k, use_bias="q" in bias, name="q")
        self.k = layers.Dense(kv * k, use_bias="k" in bias, name="k")
        self.v = layers.Dense(kv * k, use_bias="v" in bias, name="v")
        self.o = layers.Dense(c, use_bias="o" in bias, name="o")

    def build(self, x_shape, memory_shape):
        self.q.build(x_shape)
        self.k.build(memory_shape)
        self.v.build(memory_shape)
        self.o.build((*x_shape[:-1], self.heads * self.width))

    def call(self, x, memory):
        b, t, s = ops.shape(x)[0], ops.shape(x)[1], ops.shape(memory)[1]
        q = ops.reshape(self.q(x), (b, t, self.heads, self.width))
        k = ops.reshape(self.k(memory), (b, s, self.kv, self.width))
        v = ops.reshape(self.v(memory), (b, s, self.kv, self.width))
        k = ops.repeat(k, self.heads // self.kv, axis=2)
        v = ops.repeat(v, self.heads // self.kv, axis=2)
        y = ops.dot_product_attention(q, k, v)
        return self.o(ops.reshape(y, (b, t, self.heads * self.width)))

    def compute_output_shape(self, x_shape, memory_shape):
        return x_shape
''',
        "LatentAttention": '''
class LatentAttention(layers.Layer):
    """MLA, DeepSeek's multi-head latent attention, as transformers' DeepseekV3Attention
    builds it (Keras has no such layer): queries through a rank-q bottleneck with its
    RMSNorm (or one full projection when q is None), keys and values through a rank-kv
    latent with its RMSNorm, a rope key of width `rope` shared by the heads, h*v -> c.
    The rotary embedding has no parameters and is left out of the call."""

    def __init__(self, c, heads, kv, nope, rope, v, q=None, use_bias=False, **kwargs):
        super().__init__(**kwargs)
        self.heads, self.kv_rank, self.nope, self.rope, self.v_width, self.q_rank = heads, kv, nope, rope, v, q
        qk = heads * (nope + rope)
        if q is None:
            self.q_proj = layers.Dense(qk, use_bias=False, name="q_proj")
        else:
            self.q_a_proj = layers.Dense(q, use_bias=use_bias, name="q_a_proj")
            self.q_a_layernorm = layers.RMSNormalization(name="q_a_layernorm")
            self.q_b_proj = layers.Dense(qk, use_bias=False, name="q_b_proj")
        self.kv_a_proj_with_mqa = layers.Dense(kv + rope, use_bias=use_bias, name="kv_a_proj_with_mqa")
        self.kv_a_layernorm = layers.RMSNormalization(name="kv_a_layernorm")
        self.kv_b_proj = layers.Dense(heads * (nope + v), use_bias=False, name="kv_b_proj")
        self.o_proj = layers.Dense(c, use_bias=use_bias, name="o_proj")

    def build(self, input_shape):
        lead = tuple(input_shape[:-1])
        if self.q_rank is None:
            self.q_proj.build(input_shape)
        else:
            self.q_a_proj.build(input_shape)
            self.q_a_layernorm.build(lead + (self.q_rank,))
            self.q_b_proj.build(lead + (self.q_rank,))
        self.kv_a_proj_with_mqa.build(input_shape)
        self.kv_a_layernorm.build(lead + (self.kv_rank,))
        self.kv_b_proj.build(lead + (self.kv_rank,))
        self.o_proj.build(lead + (self.heads * self.v_width,))

    def call(self, x):
        b, t = ops.shape(x)[0], ops.shape(x)[1]
        if self.q_rank is None:
            q = self.q_proj(x)
        else:
            q = self.q_b_proj(self.q_a_layernorm(self.q_a_proj(x)))
        q = ops.reshape(q, (b, t, self.heads, self.nope + self.rope))
        latent, k_rope = ops.split(self.kv_a_proj_with_mqa(x), [self.kv_rank], axis=-1)
        kv = ops.reshape(self.kv_b_proj(self.kv_a_layernorm(latent)), (b, t, self.heads, -1))
        k_nope, v = ops.split(kv, [self.nope], axis=-1)
        k_rope = ops.repeat(ops.reshape(k_rope, (b, t, 1, self.rope)), self.heads, axis=2)
        y = ops.dot_product_attention(q, ops.concatenate([k_nope, k_rope], axis=-1), v)
        return self.o_proj(ops.reshape(y, (b, t, self.heads * self.v_width)))

    def compute_output_shape(self, input_shape):
        return input_shape
''',
        "Mamba": '''
class Mamba(layers.Layer):
    """Mamba's selective state-space mixer on (t, c), e inner channels, as transformers'
    MambaMixer builds it (Keras has no such layer): in_proj to (u, z), a causal depthwise
    conv, x_proj to (dt, B, C), dt_proj, the scan h = exp(dt A) h + dt B u, y = C h + D u,
    gated by silu(z), out_proj. The scan is a plain loop over the positions."""

    def __init__(self, c, n=16, expand=2, conv=4, dt=None, use_bias=False, conv_bias=True, **kwargs):
        super().__init__(**kwargs)
        self.e, self.n, self.dt_rank = expand * c, n, dt or -(-c // 16)
        self.in_proj = layers.Dense(2 * self.e, use_bias=use_bias, name="in_proj")
        self.pad = layers.ZeroPadding1D((conv - 1, 0), name="causal_pad")
        self.conv = layers.DepthwiseConv1D(conv, use_bias=conv_bias, name="conv")
        self.x_proj = layers.Dense(self.dt_rank + 2 * n, use_bias=False, name="x_proj")
        self.dt_proj = layers.Dense(self.e, name="dt_proj")
        self.out_proj = layers.Dense(c, use_bias=use_bias, name="out_proj")

    def build(self, input_shape):
        inner = (input_shape[0], input_shape[1], self.e)
        self.in_proj.build(input_shape)
        self.conv.build(inner)
        self.x_proj.build(inner)
        self.dt_proj.build((input_shape[0], input_shape[1], self.dt_rank))
        self.out_proj.build(inner)
        self.A_log = self.add_weight(shape=(self.e, self.n), initializer="zeros", name="A_log")
        self.D = self.add_weight(shape=(self.e,), initializer="ones", name="D")

    def call(self, x):
        u, z = ops.split(self.in_proj(x), 2, axis=-1)
        u = ops.silu(self.conv(self.pad(u)))
        dt, B, C = ops.split(self.x_proj(u), [self.dt_rank, self.dt_rank + self.n], axis=-1)
        dt = ops.softplus(self.dt_proj(dt))
        A = -ops.exp(ops.cast(self.A_log, x.dtype))
        h = ops.zeros_like(ops.expand_dims(u[:, 0], -1) * A)
        ys = []
        for i in range(x.shape[1]):
            step = ops.expand_dims(dt[:, i], -1)
            h = ops.exp(step * A) * h + step * ops.expand_dims(B[:, i], 1) * ops.expand_dims(u[:, i], -1)
            ys.append(ops.sum(h * ops.expand_dims(C[:, i], 1), axis=-1) + ops.cast(self.D, x.dtype) * u[:, i])
        return self.out_proj(ops.stack(ys, axis=1) * ops.silu(z))

    def compute_output_shape(self, input_shape):
        return input_shape
''',
    }
)


def _heads(row: LayerInfo, c: int) -> tuple[int, int, int]:
    """h, head width k and key/value heads kv of an attention row (layers.sequence.heads)."""
    a = row.args
    h = num(a["h"])
    return h, num(a["k"]) if a["k"] is not None else c // h, num(a["kv"]) if a["kv"] is not None else h


@keras_layer("XA")
def _cross_attention(row: LayerInfo, shape: Shape, w: KerasWriter, name: Namer) -> list[str]:
    memory = row.args["memory"]
    c = shape[-1]
    h, k, kv = _heads(row, c)
    letters = row.args["bias"]
    # Keys and values are built from the memory's width (its last axis), as Keras's layers
    # do when called on (query, value).
    call = f"({{x}}, {{tensor:{memory.name}}})"
    bias = kw(use_bias=None if letters else "False")
    if letters in ("qkvo", "") and kv == h:
        return [f"layers.MultiHeadAttention({h}, {k}{bias}, {name('')}){call}"]
    if letters in ("qkvo", "") and num(memory[-1]) == c:
        return [f"layers.GroupQueryAttention({k}, {h}, {kv}{bias}, {name('')}){call}"]
    w.note(
        "Keras's MultiHeadAttention has a bias on every projection or none, its GroupQueryAttention "
        "needs the memory's width equal to the query's: CrossAttention"
    )
    return [f"{w.helper('CrossAttention')}({c}, {h}, {k}, {kv}, bias={letters!r}, {name('')}){call}"]


@keras_layer("MLA")
def _latent_attention(row: LayerInfo, shape: Shape, w: KerasWriter, name: Namer) -> list[str]:
    a = row.args
    sizes = ", ".join(str(num(a[key])) for key in ("h", "kv", "nope", "rope", "v"))
    options = kw(q=num(a["q"]) if a["q"] is not None else None, use_bias="True" if a["bias"] else None)
    return [f"{w.helper('LatentAttention')}({shape[-1]}, {sizes}{options}, {name('')})"]


@keras_layer("Mamba")
def _mamba(row: LayerInfo, shape: Shape, w: KerasWriter, name: Namer) -> list[str]:
    a = row.args
    options = kw(
        n=num(a["N"]) if num(a["N"]) != 16 else None,
        expand=num(a["expand"]) if num(a["expand"]) != 2 else None,
        conv=num(a["conv"]) if num(a["conv"]) != 4 else None,
        dt=num(a["dt"]) if a["dt"] is not None else None,
        use_bias="True" if a["bias"] else None,
        conv_bias=None if a["conv_bias"] else "False",
    )
    return [f"{w.helper('Mamba')}({shape[-1]}{options}, {name('')})"]


def tensor_refs(w: KerasWriter, code: str, scope: Scope) -> str:
    """An entry's code with its `{tensor:name}` marks replaced by the named tensors."""
    return re.sub(r"\{tensor:([^}]+)\}", lambda m: w.ref(m.group(1), scope), code)


def tied_embedding(
    w: KerasWriter, row: LayerInfo, src: str, dst: str, pad: str, comment: str, top: bool
) -> list[str]:
    """E(v, d, tied=true): the earlier Embedding layer applied again, its table counted once."""
    table = w.embedding_vars.get(id(w.embedding_reuse[id(row)]))
    if not top or table is None:
        raise ExportError(
            f"{row.text}: a tied embedding is exported when it and its table are rows of a line"
        )
    return [f"{pad}{dst} = {table}({src})  # {comment}; the earlier embedding's layer, applied again"]


def shared_model(
    w: KerasWriter, row: LayerInfo, shape: Shape, src: str, dst: str, scope: Scope, local: str, comment: str
) -> list[str]:
    """X**n: X written once as a functional model of its own, applied n times (its weights
    shared, counted once)."""
    if tensor_reads(row):
        raise ExportError(f"{row.text}: no Keras exporter for X**n that reads a graph's tensors")
    fn = w.function(list(row.children), shape, "block", None)
    pad, n = " " * scope.indent, num(row.count)
    inner = f"{local}_input"
    lines = [
        f"{pad}# {comment}: one model applied {n} times, its weights shared",
        f"{pad}{inner} = keras.Input(shape={tuple_text(shape)})",
        f"{pad}{local}_output = {fn}({inner}, {scope.name_value(local)})",
        f"{pad}{local} = keras.Model({inner}, {local}_output, name={scope.name_value(local)})",
    ]
    if src != dst:
        lines.append(f"{pad}{dst} = {src}")
    return lines + [f"{pad}for _ in range({n}):", f"{pad}    {dst} = {local}({dst})"]


def keras_input_constants(net: Network) -> list[str]:
    """INPUT_SHAPE and INPUT_DTYPE (one sample), or INPUT_SHAPES and INPUT_DTYPES for a
    graph with several inputs."""
    found = [
        (tuple_text(ints(row.shape)), '"int32"' if ids else '"float32"') for row, ids in graph_inputs(net)
    ]
    if len(found) == 1:
        return [
            f"INPUT_SHAPE = {found[0][0]}  # one sample, without the batch axis",
            f"INPUT_DTYPE = {found[0][1]}",
        ]
    return [
        f"INPUT_SHAPES = ({', '.join(s for s, _ in found)})  # one sample of each input, without the batch axis",
        f"INPUT_DTYPES = ({', '.join(d for _, d in found)})",
    ]


def keras_graph_body(w: KerasWriter, model_name: str) -> tuple[list[str], str]:
    """The lines of build() for a graph: one keras.Input per input, each named tensor a
    variable, and the line returning the model of its outputs."""
    net = w.net
    top = Scope(4, "")
    taken = set(RESERVED) | {"tensors", "inputs", "outputs", "_"}
    w.tensor_vars = {t.name: unique_name(identifier(t.name), taken) for t in net.tensors}
    several = len(graph_inputs(net)) > 1
    lines: list[str] = []
    inputs: list[str] = []
    for t in net.tensors:
        rows = list(net.layers[t.first : t.stop])
        dst, src = w.tensor_vars[t.name], "None"
        shape: Shape = ()
        for row in rows:
            if row.kind == "Input":
                src = dst if len(rows) == 1 else unique_name(f"{dst}_input", taken)
                k = len(inputs)
                given = (
                    f"INPUT_SHAPES[{k}], dtype=INPUT_DTYPES[{k}]"
                    if several
                    else "INPUT_SHAPE, dtype=INPUT_DTYPE"
                )
                lines.append(f"    {src} = keras.Input(shape={given})")
                inputs.append(src)
            elif row.kind == "Tensor":
                src = w.tensor_vars[row.args["tensor"]]
            else:
                w.local = local_names(row)  # a cell's function reads its tensors by its parameters' names
                lines += w.emit(row, shape, src, dst, top, top=True)
                w.local = {}
                src = dst
            shape = ints(row.shape)
        if src != dst:
            lines.append(f"    {dst} = {src}")
    outputs = [w.tensor_vars[n] for n in net.outputs]
    ins = inputs[0] if len(inputs) == 1 else "[" + ", ".join(inputs) + "]"
    outs = outputs[0] if len(outputs) == 1 else "[" + ", ".join(outputs) + "]"
    return lines, f'    return keras.Model({ins}, {outs}, name="{model_name}")'


# ================================================================ XADD, UNSEQ (diffusers' UNet)
HELPERS.update(
    {
        "AddVector": '''
class AddVector(layers.Layer):
    """XADD: a named (m) vector added at every position of the (..., c) input, after an
    activation and a Dense(c) when proj (diffusers' ResnetBlock2D:
    h + time_emb_proj(silu(temb))[:, :, None, None])."""

    def __init__(self, c, act="linear", proj=True, use_bias=True, **kwargs):
        super().__init__(**kwargs)
        self.act = layers.Activation(act, name="act")
        self.proj = layers.Dense(c, use_bias=use_bias, name="proj") if proj else None

    def build(self, x_shape, memory_shape):
        if self.proj is not None:
            self.proj.build(memory_shape)

    def call(self, x, memory):
        v = self.act(memory)
        if self.proj is not None:
            v = self.proj(v)
        return x + ops.reshape(v, (-1,) + (1,) * (len(x.shape) - 2) + (v.shape[-1],))

    def compute_output_shape(self, x_shape, memory_shape):
        return x_shape
''',
    }
)


@keras_layer("XADD")
def _add_vector(row: LayerInfo, shape: Shape, w: KerasWriter, name: Namer) -> list[str]:
    a = row.args
    act = {"none": "linear"}.get(a["act"], a["act"])
    options = kw(
        proj=None if a["proj"] else "False", use_bias=None if a["bias"] or not a["proj"] else "False"
    )
    call = f"({{x}}, {{tensor:{a['memory'].name}}})"
    return [f'{w.helper("AddVector")}({shape[-1]}, act="{act}"{options}, {name("")}){call}']


@keras_layer("UNSEQ")
def _untokens(row: LayerInfo, shape: Shape, w: KerasWriter, name: Namer) -> list[str]:
    return [f"layers.Reshape({tuple_text(ints(row.shape))}, {name('')})"]
