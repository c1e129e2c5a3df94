"""A network as a PyTorch module: `to_torch(net)` returns the source.

The module holds one `nn.Module` class for the network, one class per definition (and
per layer made of layers, such as TB), each with one attribute per row; the forward
runs them in order. Tensors are batch-first and, like symparams' torch convention,
channels-first for images and volumes and (t, c) for sequences, so a layer that works
on the other layout is wrapped (`ChannelsFirst(nn.Conv1d(...))` on a sequence,
`ChannelsLast(nn.LayerNorm(c))` on an image).

Adding a layer to symparams adds one entry to `TORCH`: a function of the row (its
bound `args`), its input shape (channels last) and the writer, returning one line of
code that builds the module.
"""

from __future__ import annotations

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
    camel,
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
    single,
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
Entry = Callable[[LayerInfo, Shape, "TorchWriter"], str]
TORCH: dict[str, Entry] = {}


torch_layer = registrar(TORCH)  # @torch_layer("C"): the exporter of the layers named


# ---------------------------------------------------------------- helper modules
# Small modules the exported code defines when it uses them: what torch.nn has no module for.
HELPERS: dict[str, str] = {
    "Sum": '''
class Sum(nn.Module):
    """[A + B]: branches on one input, their outputs summed (nn.Identity() is the skip path)."""

    def __init__(self, *branches: nn.Module) -> None:
        super().__init__()
        self.branches = nn.ModuleList(branches)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.branches[0](x)
        for branch in self.branches[1:]:
            out = out + branch(x)
        return out
''',
    "Concat": '''
class Concat(nn.Module):
    """[A | B] and n[A]: branches on one input, their outputs concatenated on the channels."""

    def __init__(self, *branches: nn.Module, dim: int = 1) -> None:
        super().__init__()
        self.branches = nn.ModuleList(branches)
        self.dim = dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([branch(x) for branch in self.branches], dim=self.dim)
''',
    "ChannelsFirst": '''
class ChannelsFirst(nn.Module):
    """Runs a channels-first layer (Conv1d, BatchNorm1d, ...) on a (batch, t, c) sequence."""

    def __init__(self, inner: nn.Module) -> None:
        super().__init__()
        self.inner = inner

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.inner(x.transpose(1, 2))
        return y.transpose(1, 2) if y.dim() == 3 else y
''',
    "ChannelsLast": '''
class ChannelsLast(nn.Module):
    """Runs a last-axis layer (LayerNorm, RMSNorm) on a channels-first image or volume."""

    def __init__(self, inner: nn.Module) -> None:
        super().__init__()
        self.inner = inner

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.inner(x.movedim(1, -1)).movedim(-1, 1)
''',
    "Pad": '''
class Pad(nn.Module):
    """Constant padding, in F.pad's order (last axis first: left, right, top, bottom, ...)."""

    def __init__(self, pads: tuple[int, ...], value: float = 0.0) -> None:
        super().__init__()
        self.pads = pads
        self.value = value

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.pad(x, self.pads, value=self.value)
''',
    "Crop": '''
class Crop(nn.Module):
    """Cuts (before, after) positions off each spatial axis of a channels-first tensor."""

    def __init__(self, *crops: tuple[int, int]) -> None:
        super().__init__()
        self.crops = crops

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for axis, (before, after) in enumerate(self.crops, start=2):
            x = x.narrow(axis, before, x.shape[axis] - before - after)
        return x
''',
    "Tokens": '''
class Tokens(nn.Module):
    """An image or volume (batch, c, h, w) as a sequence of positions (batch, h*w, c)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.flatten(2).transpose(1, 2)
''',
    "ClassToken": '''
class ClassToken(nn.Module):
    """A learned token put before the sequence (ViT, BERT): (batch, t, c) -> (batch, t+1, c)."""

    def __init__(self, c: int) -> None:
        super().__init__()
        self.token = nn.Parameter(torch.zeros(1, 1, c))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.token.expand(x.shape[0], -1, -1), x], dim=1)
''',
    "FirstToken": '''
class FirstToken(nn.Module):
    """A sequence's first position: (batch, t, c) -> (batch, c)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x[:, 0]
''',
    "PositionalEmbedding": '''
class PositionalEmbedding(nn.Module):
    """Learned positions, up to m of them, added to a (batch, t, d) sequence."""

    def __init__(self, m: int, d: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(1, m, d))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.weight[:, : x.shape[1]]
''',
    "Recurrent": '''
class Recurrent(nn.Module):
    """An nn.RNN, nn.LSTM or nn.GRU on (batch, t, c): every step's output, or the last state
    of each direction, concatenated."""

    def __init__(self, rnn: nn.RNNBase, sequences: bool = False) -> None:
        super().__init__()
        self.rnn = rnn
        self.sequences = sequences

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, state = self.rnn(x)
        if self.sequences:
            return out
        h = state[0] if isinstance(state, tuple) else state
        directions = 2 if self.rnn.bidirectional else 1
        return torch.cat(list(h[-directions:]), dim=-1)
''',
    "SelfAttention": '''
class SelfAttention(nn.MultiheadAttention):
    """nn.MultiheadAttention on (batch, t, c), queries, keys and values all from x."""

    def __init__(self, c: int, heads: int, bias: bool = True) -> None:
        super().__init__(c, heads, bias=bias, batch_first=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        return super().forward(x, x, x, need_weights=False)[0]
''',
    "GroupedAttention": '''
class GroupedAttention(nn.Module):
    """Self-attention with heads of width k and kv key/value heads shared by groups of query
    heads (grouped-query attention), a bias on the projections named in `bias` (of q, k, v,
    o), and optionally a norm of queries and keys: qknorm="head" over a head's width, one
    norm shared by the heads (Qwen3); "full" over the whole projection (OLMo-2).
    nn.MultiheadAttention has none of these options."""

    def __init__(
        self, c: int, heads: int, k: int, kv: int, bias: str = "qkvo",
        qknorm: str = "none", norm: str = "rms", norm_bias: bool = True,
    ) -> None:  # fmt: skip
        super().__init__()
        self.heads, self.kv, self.qknorm = heads, kv, qknorm
        self.q = nn.Linear(c, heads * k, bias="q" in bias)
        self.k = nn.Linear(c, kv * k, bias="k" in bias)
        self.v = nn.Linear(c, kv * k, bias="v" in bias)
        self.o = nn.Linear(heads * k, c, bias="o" in bias)
        if qknorm != "none":
            q_width, k_width = (k, k) if qknorm == "head" else (heads * k, kv * k)
            self.q_norm = nn.RMSNorm(q_width) if norm == "rms" else nn.LayerNorm(q_width, bias=norm_bias)
            self.k_norm = nn.RMSNorm(k_width) if norm == "rms" else nn.LayerNorm(k_width, bias=norm_bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, t, _ = x.shape
        q, k, v = self.q(x), self.k(x), self.v(x)
        if self.qknorm == "full":
            q, k = self.q_norm(q), self.k_norm(k)
        q = q.view(b, t, self.heads, -1)
        k = k.view(b, t, self.kv, -1)
        v = v.view(b, t, self.kv, -1)
        if self.qknorm == "head":
            q, k = self.q_norm(q), self.k_norm(k)
        q, k, v = q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2)
        k = k.repeat_interleave(self.heads // self.kv, dim=1)
        v = v.repeat_interleave(self.heads // self.kv, dim=1)
        y = F.scaled_dot_product_attention(q, k, v)
        return self.o(y.transpose(1, 2).reshape(b, t, -1))
''',
    "GeGLU": '''
class GeGLU(nn.Module):
    """The gated half of a GeGLU MLP (Gemma): gelu(x W_gate) * (x W_up)."""

    def __init__(self, c: int, n: int, bias: bool = True) -> None:
        super().__init__()
        self.gate = nn.Linear(c, n, bias=bias)
        self.up = nn.Linear(c, n, bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.gelu(self.gate(x), approximate="tanh") * self.up(x)
''',
    "Expert": '''
class Expert(nn.Module):
    """One expert's MLP c -> ff -> c: gated (swiglu, geglu: act(x W_gate) * (x W_up)) or plain."""

    def __init__(self, c: int, ff: int, mlp: str = "swiglu", bias: bool = False) -> None:
        super().__init__()
        self.mlp = mlp
        if mlp in ("swiglu", "geglu"):
            self.gate = nn.Linear(c, ff, bias=bias)
        self.up = nn.Linear(c, ff, bias=bias)
        self.down = nn.Linear(ff, c, bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.mlp in ("swiglu", "geglu"):
            h = (F.silu if self.mlp == "swiglu" else F.gelu)(self.gate(x)) * self.up(x)
        else:
            h = getattr(F, self.mlp)(self.up(x))
        return self.down(h)
''',
    "MoE": '''
class MoE(nn.Module):
    """A router (c -> E) and E experts, of which k run for each token (weighted by the router's
    softmax), plus `shared` experts every token runs. Written as a loop over all experts:
    the counts and shapes of the real thing, not its speed."""

    def __init__(
        self, c: int, experts: int, k: int, ff: int, mlp: str = "swiglu", bias: bool = False,
        shared: int = 0, shared_ff: int | None = None, router_bias: bool = False,
    ) -> None:  # fmt: skip
        super().__init__()
        self.k = k
        self.router = nn.Linear(c, experts, bias=router_bias)
        self.experts = nn.ModuleList(Expert(c, ff, mlp, bias) for _ in range(experts))
        self.shared = nn.ModuleList(Expert(c, shared_ff or ff, mlp, bias) for _ in range(shared))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        weights, chosen = self.router(x).softmax(-1).topk(self.k, dim=-1)
        out = torch.zeros_like(x)
        for expert in self.shared:
            out = out + expert(x)
        for i, expert in enumerate(self.experts):
            gate = (weights * (chosen == i)).sum(-1, keepdim=True)
            out = out + gate * expert(x)
        return out
''',
    "Squeeze": '''
class Squeeze(nn.Module):
    """Drops the last axis of size 1: (batch, t, 1) -> (batch, t)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.squeeze(-1)
''',
    "Parameter": '''
class Parameter(nn.Module):
    """A learned tensor (W(d1, ...)) the flow passes by unchanged, e.g. CLIP's logit scale."""

    def __init__(self, *shape: int, trainable: bool = True) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(*shape), requires_grad=trainable)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x
''',
    "ChannelSlice": '''
class ChannelSlice(nn.Module):
    """Channels a .. b-1 (CH(a, b), or one chunk of CHUNK(n, i)): x.narrow on the channel axis."""

    def __init__(self, a: int, b: int, dim: int = 1) -> None:
        super().__init__()
        self.a, self.b, self.dim = a, b, dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.narrow(self.dim, self.a, self.b - self.a)
''',
    "ChannelShuffle": '''
class ChannelShuffle(nn.Module):
    """ShuffleNet's channel shuffle in g groups: view (g, c/g), transpose, view back."""

    def __init__(self, g: int, dim: int = 1) -> None:
        super().__init__()
        self.g, self.dim = g, dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = x.movedim(self.dim, -1)
        y = y.unflatten(-1, (self.g, -1)).transpose(-1, -2).flatten(-2)
        return y.movedim(-1, self.dim)
''',
    "WindowAttention": '''
class WindowAttention(nn.Module):
    """Swin's (shifted) window attention on (batch, c, h, w): padded to whole windows, rolled
    by `shift`, attention inside each window with a learned bias per relative position
    (a table, or V2's small MLP of the relative coordinates, with its logit scale), rolled
    back and cropped. The mask between the parts of a shifted window and V2's cosine
    attention are left out: the counts and shapes, not the exact model."""

    def __init__(
        self, c: int, heads: int, win: tuple[int, int], shift: tuple[int, int] = (0, 0),
        pos: str = "table", bias: bool = True,
    ) -> None:  # fmt: skip
        super().__init__()
        self.heads, self.win, self.shift, self.pos = heads, win, shift, pos
        self.qkv = nn.Linear(c, 3 * c, bias=bias)
        self.proj = nn.Linear(c, c, bias=bias)
        m0, m1 = win
        if pos == "table":
            self.table = nn.Parameter(torch.zeros((2 * m0 - 1) * (2 * m1 - 1), heads))
        elif pos == "cpb":
            self.cpb = nn.Sequential(nn.Linear(2, 512), nn.ReLU(), nn.Linear(512, heads, bias=False))
            self.logit_scale = nn.Parameter(torch.zeros(heads, 1, 1))

    def position_bias(self) -> torch.Tensor | None:
        m0, m1 = self.win
        grid = torch.stack(torch.meshgrid(torch.arange(m0), torch.arange(m1), indexing="ij")).flatten(1)
        rel = grid[:, :, None] - grid[:, None, :]
        index = (rel[0] + m0 - 1) * (2 * m1 - 1) + rel[1] + m1 - 1
        if self.pos == "table":
            table = self.table
        elif self.pos == "cpb":
            d0, d1 = torch.arange(1 - m0, m0), torch.arange(1 - m1, m1)
            coords = torch.stack(torch.meshgrid(d0, d1, indexing="ij"), dim=-1).reshape(-1, 2)
            table = self.cpb(coords.to(self.proj.weight.dtype))
        else:
            return None
        return table[index.to(table.device)].permute(2, 0, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        (m0, m1), (s0, s1) = self.win, self.shift
        x = F.pad(x.permute(0, 2, 3, 1), (0, 0, 0, -w % m1, 0, -h % m0))
        x = torch.roll(x, (-s0, -s1), (1, 2))
        hp, wp = x.shape[1], x.shape[2]
        windows = x.view(b, hp // m0, m0, wp // m1, m1, c).transpose(2, 3).reshape(-1, m0 * m1, c)
        q, k, v = self.qkv(windows).view(-1, m0 * m1, 3, self.heads, c // self.heads).permute(2, 0, 3, 1, 4)
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=self.position_bias())
        y = self.proj(y.transpose(1, 2).reshape(-1, m0 * m1, c))
        y = y.view(b, hp // m0, wp // m1, m0, m1, c).transpose(2, 3).reshape(b, hp, wp, c)
        y = torch.roll(y, (s0, s1), (1, 2))[:, :h, :w]
        return y.permute(0, 3, 1, 2)
''',
    "Shared": '''
class Shared(nn.Module):
    """X**n: one module applied n times, its weights shared (ALBERT, Universal Transformer)."""

    def __init__(self, inner: nn.Module, n: int) -> None:
        super().__init__()
        self.inner, self.n = inner, n

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for _ in range(self.n):
            x = self.inner(x)
        return x
''',
    "RelTable": '''
class RelTable(nn.Module):
    """A relative-position table of m rows of width c, with its norm (DeBERTa-v3), kept for
    the attention layers that read it; the flow passes by unchanged."""

    def __init__(self, m: int, c: int, norm: str = "none") -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(m, c))
        self.norm = {"ln": nn.LayerNorm(c), "rms": nn.RMSNorm(c), "none": nn.Identity()}[norm]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x
''',
    "Mamba": '''
class Mamba(nn.Module):
    """Mamba's selective state-space mixer on (batch, t, c), e inner channels: in_proj to
    (u, z), a causal depthwise conv, x_proj to (dt, B, C), dt_proj, the scan
    h = exp(dt A) h + dt B u, y = C h + D u, gated by silu(z), out_proj. The scan is a plain
    loop over the positions (transformers' slow path)."""

    def __init__(
        self, c: int, n: int = 16, expand: int = 2, conv: int = 4, dt: int | None = None,
        bias: bool = False, conv_bias: bool = True,
    ) -> None:  # fmt: skip
        super().__init__()
        e = expand * c
        self.n, self.dt = n, dt or -(-c // 16)
        self.in_proj = nn.Linear(c, 2 * e, bias=bias)
        self.conv = nn.Conv1d(e, e, conv, groups=e, padding=conv - 1, bias=conv_bias)
        self.x_proj = nn.Linear(e, self.dt + 2 * n, bias=False)
        self.dt_proj = nn.Linear(self.dt, e)
        self.A_log = nn.Parameter(torch.zeros(e, n))
        self.D = nn.Parameter(torch.ones(e))
        self.out_proj = nn.Linear(e, c, bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        t = x.shape[1]
        u, z = self.in_proj(x).chunk(2, dim=-1)
        u = F.silu(self.conv(u.transpose(1, 2))[..., :t].transpose(1, 2))
        dt, B, C = self.x_proj(u).split([self.dt, self.n, self.n], dim=-1)
        dt = F.softplus(self.dt_proj(dt))
        A = -torch.exp(self.A_log)
        h = u.new_zeros(u.shape[0], u.shape[2], self.n)
        ys = []
        for i in range(t):
            h = torch.exp(dt[:, i, :, None] * A) * h + dt[:, i, :, None] * B[:, i, None, :] * u[:, i, :, None]
            ys.append((h * C[:, i, None, :]).sum(-1) + self.D * u[:, i])
        return self.out_proj(torch.stack(ys, dim=1) * F.silu(z))
''',
    "TiedLinear": '''
class TiedLinear(nn.Linear):
    """An output layer whose weight is an embedding's (O(v, tied=true)): `tie` gives each
    TiedLinear of a model the weight of the model's first nn.Embedding of its vocabulary."""

    @staticmethod
    def tie(model: nn.Module) -> None:
        embeddings: dict[int, nn.Embedding] = {}
        for module in model.modules():
            if isinstance(module, nn.Embedding):
                embeddings.setdefault(module.num_embeddings, module)
        for module in model.modules():
            if isinstance(module, TiedLinear):
                module.weight = embeddings[module.out_features].weight
''',
    "SwiGLU": '''
class SwiGLU(nn.Module):
    """The gated half of a SwiGLU MLP (LLaMA): silu(x W_gate) * (x W_up)."""

    def __init__(self, c: int, n: int, bias: bool = True) -> None:
        super().__init__()
        self.gate = nn.Linear(c, n, bias=bias)
        self.up = nn.Linear(c, n, bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.silu(self.gate(x)) * self.up(x)
''',
}


# ---------------------------------------------------------------- code as a tree
@dataclass
class Call:
    """Code of a module that spans lines: `head`, one item per line, `tail`."""

    head: str
    items: list[tuple[Any, str]]  # (code, comment)
    tail: str = ")"


def render(code: Any, indent: int, comment: str = "", end: str = "") -> list[str]:
    """Lines of `code` (a str or a Call) at `indent` spaces, `end` after it, then the comment."""
    pad = " " * indent
    note = f"  # {comment}" if comment else ""
    if isinstance(code, str):
        return [f"{pad}{code}{end}{note}"]
    lines = [f"{pad}{code.head}{note}"]
    for item, item_comment in code.items:
        lines += render(item, indent + 4, item_comment, ",")
    lines.append(f"{pad}{code.tail}{end}")
    return lines


def one_line(code: Any) -> bool:
    return isinstance(code, str)


# ---------------------------------------------------------------- the writer
@dataclass
class ClassCode:
    base: str
    variant: str
    doc: str
    lines: list[str]
    name: str = ""


@dataclass
class TorchWriter:
    net: Network
    helpers: list[str] = field(default_factory=list)
    functional: bool = False  # the code uses F
    classes: list[ClassCode] = field(default_factory=list)
    known: dict[str, int] = field(default_factory=dict)  # class body -> its index in `classes`
    ties: list[tuple[LayerInfo, LayerInfo]] = field(default_factory=list)  # (O, E) of tied weights
    nested_ties: set[int] = field(default_factory=set)  # ids of tied O rows not in the main chain
    top_rows: list[tuple[LayerInfo, str]] = field(default_factory=list)  # the main class's attributes

    notes: list[str] = field(default_factory=list)  # said by the entry of the row being written
    # A graph's tensor -> the name the class being written reads it by (common.local_names).
    local: dict[str, str] = field(default_factory=dict)

    def note(self, text: str) -> None:
        """A comment for the row being written: what the code does in place of a missing module."""
        self.notes.append(text)

    def comment(self, row: LayerInfo) -> str:
        notes, self.notes = self.notes, []
        if row.kind == "Tensor" and row.args["tensor"] in self.local:  # read by its parameter's name
            return self.local[row.args["tensor"]]
        return "; ".join([describe(row)] + notes)

    def helper(self, name: str) -> str:
        if name not in self.helpers:
            for need in HELPER_NEEDS.get(name, ()):
                self.helper(need)
            self.helpers.append(name)
            if "F." in HELPERS[name]:
                self.functional = True
        return name

    def sequential(self, reads: bool) -> str:
        """nn.Sequential, or Flow when its modules read the graph's named tensors."""
        return self.helper("Flow") if reads else "nn.Sequential"

    # -------------------------------------------------------- rows to code
    def module(self, row: LayerInfo, shape: Shape) -> Any:
        """The code that builds the module of `row` on an input of channels-last `shape`."""
        if row.children:
            return self.block(row, shape)
        if row.kind == "Tensor":  # a branch that starts from a named tensor of a graph
            return f'{self.helper("Read")}("{self.local.get(row.args["tensor"], row.args["tensor"])}")'
        entry = TORCH.get(row.name)
        if entry is None:
            raise ExportError(f"{row.text}: no PyTorch exporter for the layer {row.name or row.kind}")
        return entry(row, shape, self)

    def block(self, row: LayerInfo, shape: Shape) -> Any:
        kind = row.kind if row.kind in FORMS and not row.name else ""
        reads = bool(tensor_reads(row))  # the graph's named tensors: Flow* forms pass them on
        if kind == "Sequential":
            return Call(f"{self.sequential(reads)}(", self.chain_items(list(row.children), shape))
        if kind == "Repeat":
            return self.repeat(row, shape)
        if kind == "Multiply":  # [A * B]: written in the section of issue 18 (part A) below
            return _product(self, row, shape)
        if kind in ("Concat", "Add"):
            items = [(self.module(child, shape), self.comment(child)) for child in row.children]
            if kind == "Add":
                return Call(f"{self.helper('FlowSum' if reads else 'Sum')}(", items)
            concat = self.helper("FlowConcat" if reads else "Concat")
            return Call(f"{concat}(", items + [(f"dim={self.channel_dim(row.shape)}", "")])
        if kind == "Parallel":
            body = self.one_line_body(list(row.children), shape, "Column")
            n = num(row.count)
            concat = self.helper("FlowConcat" if reads else "Concat")
            return f"{concat}(*({body} for _ in range({n})), dim={self.channel_dim(row.shape)})"
        if row.kind == "SharedRepeat":  # X**n: one module applied n times
            body = self.one_line_body(list(row.children), shape, "Block")
            return f"{self.helper('FlowShared' if reads else 'Shared')}({body}, {num(row.count)})"
        if row.kind in ("Tensor", "SharedRepeat") or (row.kind not in FORMS and not row.name):
            raise ExportError(f"{row.text}: no PyTorch exporter for {row.kind} yet")
        # A definition's use, or a layer made of layers (TB): a class of its own.
        return self.instance(list(row.children), shape, camel(block_base(row)), row)

    def chain_items(self, rows: list[LayerInfo], shape: Shape) -> list[tuple[Any, str]]:
        items = []
        for child in rows:
            items.append((self.module(child, shape), self.comment(child)))
            shape = ints(child.shape)
        return items

    def repeat(self, row: LayerInfo, shape: Shape) -> Any:
        items: list[tuple[Any, str]] = []
        for rows, k in repeat_applications(row):
            body = self.one_line_body(rows, shape, camel(stem(rows[0])) if len(rows) == 1 else "Block")
            one = self.comment(single(rows[0])) if len(rows) == 1 else ""
            if k == 1:
                items.append((body, one))
            else:
                items.append((f"*({body} for _ in range({k}))", one))
            shape = ints(rows[-1].shape)
        head = self.sequential(bool(tensor_reads(row)))
        if len(items) == 1 and items[0][0].startswith("*("):
            return f"{head}({items[0][0]})"
        return Call(f"{head}(", items)

    def one_line_body(self, rows: list[LayerInfo], shape: Shape, base: str) -> str:
        """One line that builds `rows` (a chain): the module itself, or a class made for it."""
        if len(rows) == 1:
            code = self.module(rows[0], shape)
            if one_line(code):
                return str(code)
            if rows[0].children and rows[0].kind not in FORMS:
                return str(code)
        return self.instance(rows, shape, base, None)

    def instance(self, rows: list[LayerInfo], shape: Shape, base: str, row: LayerInfo | None) -> str:
        """`Name()`: an instance of the class whose attributes are `rows`, made once per body."""
        lines = self.class_body(rows, shape)
        key = base + "\n" + "\n".join(lines)
        if key not in self.known:
            doc = describe(row) if row is not None else " - ".join(safe(r.text) for r in rows)
            if row is None:
                total = sum(num(r.params) for r in rows)
                doc = (doc[:57] + "...") if len(doc) > 60 else doc
                doc = f"{doc}: {total:,} params" if total else doc
            self.known[key] = len(self.classes)
            self.classes.append(ClassCode(base, variant_suffix(row) if row is not None else "", doc, lines))
        return f"\x00{self.known[key]}\x00()"

    def class_body(self, rows: list[LayerInfo], shape: Shape, top: bool = False) -> list[str]:
        """__init__ and forward of a class with one attribute per row."""
        names = Names()
        init = ["    def __init__(self) -> None:", "        super().__init__()"]
        forward = ["    def forward(self, x: torch.Tensor) -> torch.Tensor:"]
        reading = any(tensor_reads(row) for row in rows)
        if reading:  # a block that reads the graph's named tensors (README "Graphs")
            init = ["    reads = True  # its forward takes the graph's named tensors", ""] + init
            forward = [
                "    def forward(self, x: torch.Tensor, tensors: dict[str, torch.Tensor]) -> torch.Tensor:"
            ]
        attrs: dict[int, str] = {}
        for row in rows:
            attr = names.new(stem(row))
            attrs[id(row)] = attr
            if top:
                self.top_rows.append((row, attr))
            init += self.assign(attr, row, shape)
            forward.append(f"        x = self.{attr}(x{', tensors' if tensor_reads(row) else ''})")
            shape = ints(row.shape)
        if top:
            for out, embed in self.ties:
                if id(out) in self.nested_ties:
                    continue
                init.append(
                    f"        self.{attrs[id(out)]}.weight = self.{attrs[id(embed)]}.weight"
                    f"  # {out.text}: the embedding's weights, counted once"
                )
            if self.nested_ties:
                init.append(
                    f"        {self.helper('TiedLinear')}.tie(self)"
                    "  # each TiedLinear shares the weight of its embedding, counted once"
                )
        forward.append("        return x")
        return init + [""] + forward

    def assign(self, attr: str, row: LayerInfo, shape: Shape) -> list[str]:
        code = self.module(row, shape)
        lines = render(code, 8, self.comment(row))
        first = lines[0].lstrip()
        lines[0] = f"        self.{attr} = {first}"
        return lines

    @staticmethod
    def channel_dim(shape: Any) -> int:
        return 1 if len(shape) >= 3 else -1

    # -------------------------------------------------------- the module
    def source(self, class_name: str) -> str:
        rows = [r for r in self.net.layers if r.kind != "Input"]
        shape = ints(self.net.layers[0].shape)
        self.find_ties()
        top = graph_body(self) if self.net.is_graph else self.class_body(rows, shape, top=True)
        self.name_classes(class_name)
        out = [
            f'"""{class_name}, exported by symparams from:',
            "",
            *indented(program_text(self.net.text)),
            "",
            f"{num(self.net.params):,} parameters (PyTorch counts).",
            '"""',
            "",
            "from __future__ import annotations",
            "",
            "import torch",
        ]
        if self.functional:
            out.append("import torch.nn.functional as F")
        out += ["from torch import nn", ""]
        out += input_constants(self.net)
        for name in self.helpers:
            out += ["", "", HELPERS[name].strip("\n")]
        for cls in self.classes:
            out += ["", "", f"class {cls.name}(nn.Module):", f'    """{cls.doc}."""', ""]
            out += [self.resolve(line) for line in cls.lines]
        doc = f"{class_name}: {num(self.net.params):,} params."
        out += ["", "", f"class {class_name}(nn.Module):", f'    """{doc}"""', ""]
        out += [self.resolve(line) for line in top]
        out += [
            "",
            "",
            f"def build() -> {class_name}:",
            f'    """A new {class_name}; on the meta device it allocates nothing:',
            '    `with torch.device(\'meta\'): model = build()`."""',
            f"    return {class_name}()",
            "",
        ]
        return "\n".join(_tidy(out))

    def find_ties(self) -> None:
        embeddings = [r for r in self.net.walk() if r.name == "E" and not r.args.get("tied")]
        main = {id(r) for r in self.net.layers}
        for tied, table in embedding_ties(self.net, embeddings):
            if id(tied) not in main or id(table) not in main:
                raise ExportError(
                    f"{tied.text}: a tied embedding is exported when it and its table are rows of a line"
                )
            self.ties.append((tied, table))
        for row in self.net.walk():
            if row.name == "O" and row.args.get("tied"):
                v = num(row.args["n"])
                match = [e for e in embeddings if num(e.args["v"]) == v]
                if not match:
                    raise ExportError(f"{row.text}: no embedding to tie to")
                self.ties.append((row, match[0]))
                main = {id(r) for r in self.net.layers}
                if id(row) not in main or id(match[0]) not in main:
                    self.nested_ties.add(id(row))

    def name_classes(self, top_name: str) -> None:
        by_base: dict[str, list[ClassCode]] = {}
        for cls in self.classes:
            by_base.setdefault(cls.base, []).append(cls)
        taken = set(HELPERS) | {top_name}
        for base, group in by_base.items():
            for cls in group:
                name = base if len(group) == 1 else f"{base}_{cls.variant}" if cls.variant else base
                cls.name = unique_name(name, taken)

    def resolve(self, line: str) -> str:
        while "\x00" in line:
            start = line.index("\x00")
            end = line.index("\x00", start + 1)
            line = line[:start] + self.classes[int(line[start + 1 : end])].name + line[end + 1 :]
        return line


def _tidy(lines: list[str]) -> list[str]:
    """At most two blank lines in a row, none before a class's first line."""
    out: list[str] = []
    for line in "\n".join(lines).split("\n"):
        if line == "" and len(out) >= 2 and out[-1] == "" and out[-2] == "":
            continue
        out.append(fit(line.rstrip()))
    return out


# ---------------------------------------------------------------- layer entries
_DIMS = {1: "1d", 2: "2d", 3: "3d"}


def dims(shape: Shape) -> str:
    rank = len(shape) - 1
    if rank not in _DIMS:
        raise ExportError(f"PyTorch has no layer over {rank} spatial axes")
    return _DIMS[rank]


def on_layout(code: str, shape: Shape, w: TorchWriter) -> str:
    """A channels-first layer, wrapped on a (t, c) sequence."""
    return f"{w.helper('ChannelsFirst')}({code})" if len(shape) == 2 else code


def keywords(**values: Any) -> str:
    return "".join(f", {k}={v}" for k, v in values.items() if v is not None)


def same_pads(x: Shape, f: Shape, s: Shape, d: Shape, out: Shape) -> list[tuple[int, int]]:
    """Keras's 'same' as explicit (before, after) zero padding per axis: the extra one after."""
    pads = []
    for xi, fi, si, di, oi in zip(x, f, s, d, out):
        total = max((oi - 1) * si + di * (fi - 1) + 1 - xi, 0)
        pads.append((total // 2, total - total // 2))
    return pads


def torch_pads(pads: list[tuple[int, int]]) -> str:
    """(before, after) per axis in F.pad's order: the last axis first."""
    return tuple_text(tuple(q for pair in reversed(pads) for q in pair))


def _conv_like(
    row: LayerInfo, shape: Shape, w: TorchWriter, out_channels: int, groups: int, bias: bool
) -> str:
    a = row.args
    f, s, d = ints(a["f"]), ints(a["s"]), ints(a["d"])
    c = shape[-1]
    conv = f"nn.Conv{dims(shape)}({c}, {out_channels}, {literal(f)}"
    p = a["p"]
    pre = ""
    padding: str | None = None
    if p == "same":
        if all(si == 1 for si in s):
            padding = '"same"'
        else:
            out = ints(row.shape[:-1])
            pads = same_pads(shape[:-1], f, s, d, out)
            if all(b == e for b, e in pads):
                padding = literal(tuple(b for b, _ in pads))
            else:
                w.note("PyTorch refuses padding='same' with a stride: the same zeros, padded first")
                pre = f"nn.ZeroPad{dims(shape)}({torch_pads(pads)}), "
    elif p != "valid":
        padding = literal(ints(p)) if any(ints(p)) else None
    code = conv + keywords(
        stride=literal(s) if any(si != 1 for si in s) else None,
        padding=padding,
        dilation=literal(d) if any(di != 1 for di in d) else None,
        groups=groups if groups != 1 else None,
        bias=None if bias else "False",
    )
    code += ")"
    return f"nn.Sequential({pre}{code})" if pre else code


@torch_layer("C")
def _conv(row: LayerInfo, shape: Shape, w: TorchWriter) -> str:
    a = row.args
    return on_layout(_conv_like(row, shape, w, num(a["n"]), num(a["g"]), bool(a["bias"])), shape, w)


@torch_layer("DW")
def _depthwise(row: LayerInfo, shape: Shape, w: TorchWriter) -> str:
    a, c = row.args, shape[-1]
    # A depthwise convolution is a Conv with one group per input channel.
    return on_layout(_conv_like(row, shape, w, c * num(a["m"]), c, bool(a["bias"])), shape, w)


@torch_layer("SC")
def _separable(row: LayerInfo, shape: Shape, w: TorchWriter) -> str:
    a, c = row.args, shape[-1]
    m = c * num(a["m"])
    depthwise = _conv_like(row, shape, w, m, c, False)
    pointwise = f"nn.Conv{dims(shape)}({m}, {num(a['n'])}, 1{keywords(bias=None if a['bias'] else 'False')})"
    # SeparableConv: a depthwise conv without bias, then a 1x1 pointwise conv.
    return on_layout(f"nn.Sequential({depthwise}, {pointwise})", shape, w)


@torch_layer("T")
def _transposed(row: LayerInfo, shape: Shape, w: TorchWriter) -> str:
    a, c = row.args, shape[-1]
    f, s, d = ints(a["f"]), ints(a["s"]), ints(a["d"])
    p = a["p"] if a["p"] is not None else (0,) * len(f)
    crop = ""
    if isinstance(p, str):
        w.note(f"PyTorch takes no padding={p!r} here: its full output, output_padding or a crop to the size")
        target = ints(row.shape[:-1])
        full = tuple((x - 1) * si + di * (fi - 1) + 1 for x, si, di, fi in zip(shape[:-1], s, d, f))
        op = tuple(max(0, t - u) for t, u in zip(target, full))
        cut = [u + o - t for u, o, t in zip(full, op, target)]
        pads: tuple[int, ...] = (0,) * len(f)
        if any(cut):
            crop = f"{w.helper('Crop')}({', '.join(tuple_text((k // 2, k - k // 2)) for k in cut)})"
    else:
        pads, op = ints(p), ints(a["op"]) if a["op"] is not None else (0,) * len(f)
    code = f"nn.ConvTranspose{dims(shape)}({c}, {num(a['n'])}, {literal(f)}" + keywords(
        stride=literal(s) if any(si != 1 for si in s) else None,
        padding=literal(pads) if any(pads) else None,
        output_padding=literal(op) if any(op) else None,
        groups=num(a["g"]) if num(a["g"]) != 1 else None,
        bias=None if a["bias"] else "False",
        dilation=literal(d) if any(di != 1 for di in d) else None,
    )
    code += ")"
    if crop:
        code = f"nn.Sequential({code}, {crop})"
    return on_layout(code, shape, w)


@torch_layer("P", "A")
def _pool(row: LayerInfo, shape: Shape, w: TorchWriter) -> str:
    a = row.args
    f = ints(a["f"])
    s = ints(a["s"]) if a["s"] is not None else f
    kind = "MaxPool" if row.name == "P" else "AvgPool"
    p = a["p"]
    pre = ""
    padding: tuple[int, ...] = (0,) * len(f)
    if p == "same":
        pads = same_pads(shape[:-1], f, s, (1,) * len(f), ints(row.shape[:-1]))
        value = 'float("-inf")' if kind == "MaxPool" else "0.0"
        if any(b or e for b, e in pads):
            w.note(
                "PyTorch pools take no padding='same': Keras's padding written out"
                + ("" if kind == "MaxPool" else " (the average counts the zeros, as count_include_pad does)")
            )
            pre = f"{w.helper('Pad')}({torch_pads(pads)}, value={value}), "
    elif p != "valid":
        padding = ints(p)
        if any(2 * q > fi for q, fi in zip(padding, f)):
            if a["ceil"]:
                raise ExportError(
                    f"{row.text}: PyTorch pools pad at most f/2, and ceil mode depends on the padding"
                )
            value = 'float("-inf")' if kind == "MaxPool" else "0.0"
            w.note("PyTorch pools pad at most half the kernel: the padding written out")
            pre = f"{w.helper('Pad')}({torch_pads([(q, q) for q in padding])}, value={value}), "
            padding = (0,) * len(f)
    code = f"nn.{kind}{dims(shape)}({literal(f)}" + keywords(
        stride=literal(s) if s != f else None,
        padding=literal(padding) if any(padding) else None,
        ceil_mode="True" if a["ceil"] else None,
    )
    code += ")"
    if pre:
        code = f"nn.Sequential({pre}{code})"
    return on_layout(code, shape, w)


@torch_layer("GAP", "GMP")
def _global_pool(row: LayerInfo, shape: Shape, w: TorchWriter) -> str:
    kind = "Avg" if row.name == "GAP" else "Max"
    return on_layout(f"nn.Sequential(nn.Adaptive{kind}Pool{dims(shape)}(1), nn.Flatten())", shape, w)


@torch_layer("AAP", "AMP")
def _adaptive_pool(row: LayerInfo, shape: Shape, w: TorchWriter) -> str:
    kind = "Avg" if row.name == "AAP" else "Max"
    return on_layout(f"nn.Adaptive{kind}Pool{dims(shape)}({literal(ints(row.args['o']))})", shape, w)


@torch_layer("Z")
def _zero_pad(row: LayerInfo, shape: Shape, w: TorchWriter) -> str:
    pads = torch_pads(zero_pad_pairs(row, len(shape) - 1))
    return on_layout(f"nn.ZeroPad{dims(shape)}({pads})", shape, w)


@torch_layer("SEQ")
def _tokens(row: LayerInfo, shape: Shape, w: TorchWriter) -> str:
    return f"{w.helper('Tokens')}()"


@torch_layer("CLS")
def _class_token(row: LayerInfo, shape: Shape, w: TorchWriter) -> str:
    return f"{w.helper('ClassToken')}({shape[-1]})"


@torch_layer("FIRST")
def _first_token(row: LayerInfo, shape: Shape, w: TorchWriter) -> str:
    return f"{w.helper('FirstToken')}()"


@torch_layer("F")
def _flatten(row: LayerInfo, shape: Shape, w: TorchWriter) -> str:
    return "nn.Flatten()"


@torch_layer("H", "O")
def _dense(row: LayerInfo, shape: Shape, w: TorchWriter) -> str:
    a = row.args
    bias = keywords(bias=None if a["bias"] else "False")
    linear = "nn.Linear"
    if id(row) in w.nested_ties:
        linear = w.helper("TiedLinear")
        w.note("its weight is the embedding's, tied by TiedLinear.tie")
    if len(shape) <= 2:  # a vector, or a sequence: per position
        return f"{linear}({shape[-1]}, {num(a['n'])}{bias})"
    if not a.get("flat", True):  # H(n, flat=false): per position on an image's channels (ConvNeXt)
        return f"{w.helper('ChannelsLast')}({linear}({shape[-1]}, {num(a['n'])}{bias}))"
    fan_in = 1
    for x in shape:
        fan_in *= x
    return f"nn.Sequential(nn.Flatten(), {linear}({fan_in}, {num(a['n'])}{bias}))"


@torch_layer("D")
def _dropout(row: LayerInfo, shape: Shape, w: TorchWriter) -> str:
    return f"nn.Dropout({rate(row.args['r'])})"


@torch_layer("BN")
def _batch_norm(row: LayerInfo, shape: Shape, w: TorchWriter) -> str:
    kind = {1: "1d", 2: "1d", 3: "2d", 4: "3d"}[len(shape)]
    if row.args["affine"] and not (row.args["scale"] and row.args["center"]):
        return _partial_batch_norm(row, shape, w, kind)  # in the section of issue 18 (part A)
    code = f"nn.BatchNorm{kind}({shape[-1]}{keywords(affine=None if row.args['affine'] else 'False')})"
    return on_layout(code, shape, w)


def _last_axis(code: str, shape: Shape, w: TorchWriter) -> str:
    return f"{w.helper('ChannelsLast')}({code})" if len(shape) >= 3 else code


@torch_layer("LN")
def _layer_norm(row: LayerInfo, shape: Shape, w: TorchWriter) -> str:
    return _last_axis(
        f"nn.LayerNorm({shape[-1]}{keywords(bias=None if row.args['bias'] else 'False')})", shape, w
    )


@torch_layer("RMS")
def _rms_norm(row: LayerInfo, shape: Shape, w: TorchWriter) -> str:
    return _last_axis(f"nn.RMSNorm({shape[-1]})", shape, w)


_ACTIVATION_MODULES = {
    "relu": "nn.ReLU()",
    "relu6": "nn.ReLU6()",
    "gelu": "nn.GELU()",
    "silu": "nn.SiLU()",
    "tanh": "nn.Tanh()",
    "sigmoid": "nn.Sigmoid()",
    "elu": "nn.ELU()",
    "id": "nn.Identity()",
}


@torch_layer(*ACTIVATIONS)
def _activation(row: LayerInfo, shape: Shape, w: TorchWriter) -> str:
    if row.name == "softmax":
        return f"nn.Softmax(dim={TorchWriter.channel_dim(shape)})"
    return _ACTIVATION_MODULES[row.name]


@torch_layer("E")
def _embedding(row: LayerInfo, shape: Shape, w: TorchWriter) -> str:
    if row.args["tied"]:
        w.note("its table is the earlier embedding's, tied in __init__")
    return f"nn.Embedding({num(row.args['v'])}, {num(row.args['d'])})"


@torch_layer("PE")
def _positions(row: LayerInfo, shape: Shape, w: TorchWriter) -> str:
    return f"{w.helper('PositionalEmbedding')}({num(row.args['m'])}, {shape[-1]})"


@torch_layer("R", "L", "G")
def _recurrent(row: LayerInfo, shape: Shape, w: TorchWriter) -> str:
    a = row.args
    kind = {"R": "RNN", "L": "LSTM", "G": "GRU"}[row.name]
    rnn = f"nn.{kind}({shape[-1]}, {num(a['n'])}, batch_first=True" + keywords(
        bias=None if a["bias"] else "False", bidirectional="True" if a["bi"] else None
    )
    rnn += ")"
    return f"{w.helper('Recurrent')}({rnn}{keywords(sequences='True' if a['seq'] else None)})"


@torch_layer("MHA")
def _attention(row: LayerInfo, shape: Shape, w: TorchWriter) -> str:
    a, c = row.args, shape[-1]
    note = window_note(row)
    if note is not None:
        w.note(note)
    h = num(a["h"])
    k = num(a["k"]) if a["k"] is not None else c // h
    kv = num(a["kv"]) if a["kv"] is not None else h
    letters, qknorm = a["bias"], a["qknorm"]
    if k * h == c and kv == h and letters in ("qkvo", "") and qknorm == "none":
        return f"{w.helper('SelfAttention')}({c}, {h}{keywords(bias=None if letters else 'False')})"
    options = keywords(
        bias=repr(letters) if letters != "qkvo" else None,
        qknorm=repr(qknorm) if qknorm != "none" else None,
        norm=repr(a["qknorm_kind"]) if qknorm != "none" and a["qknorm_kind"] != "rms" else None,
        norm_bias="False" if qknorm != "none" and a["qknorm_kind"] == "ln" and not a["qknorm_bias"] else None,
    )
    return f"{w.helper('GroupedAttention')}({c}, {h}, {k}, {kv}{options})"


@torch_layer("SwiGLU", "GeGLU")
def _gated(row: LayerInfo, shape: Shape, w: TorchWriter) -> str:
    bias = keywords(bias=None if row.args["bias"] else "False")
    return f"{w.helper(row.name)}({shape[-1]}, {num(row.args['n'])}{bias})"


@torch_layer("MoE")
def _mixture(row: LayerInfo, shape: Shape, w: TorchWriter) -> str:
    a = row.args
    w.helper("Expert")
    options = keywords(
        mlp=repr(a["mlp"]) if a["mlp"] != "swiglu" else None,
        bias="True" if a["bias"] else None,
        shared=num(a["shared"]) if num(a["shared"]) else None,
        shared_ff=num(a["shared_ff"]) if a["shared_ff"] is not None else None,
        router_bias="True" if a["router_bias"] else None,
    )
    return f"{w.helper('MoE')}({shape[-1]}, {num(a['E'])}, {num(a['k'])}, {num(a['ff'])}{options})"


@torch_layer("CH", "CHUNK")
def _channel_slice(row: LayerInfo, shape: Shape, w: TorchWriter) -> str:
    a = row.args
    if row.name == "CH":
        start, stop = num(a["a"]), num(a["b"])
    else:  # chunk i of n equal chunks
        width = shape[-1] // num(a["n"])
        start, stop = num(a["i"]) * width, (num(a["i"]) + 1) * width
    dim = keywords(dim=-1 if len(shape) < 3 else None)
    return f"{w.helper('ChannelSlice')}({start}, {stop}{dim})"


@torch_layer("SHUF")
def _shuffle(row: LayerInfo, shape: Shape, w: TorchWriter) -> str:
    dim = keywords(dim=-1 if len(shape) < 3 else None)
    return f"{w.helper('ChannelShuffle')}({num(row.args['g'])}{dim})"


def _images_only(row: LayerInfo, shape: Shape, framework: str) -> None:
    if len(shape) != 3:
        raise ExportError(
            f"{row.text}: no {framework} exporter for {row.name} over {len(shape) - 1} spatial axes"
        )


@torch_layer("S2D")
def _space_to_depth(row: LayerInfo, shape: Shape, w: TorchWriter) -> str:
    _images_only(row, shape, "PyTorch")
    r = num(row.args["r"])
    code = f"nn.PixelUnshuffle({r})"
    pads = [(0, -x % r) for x in shape[:-1]]
    if row.args["pad"] and any(after for _, after in pads):
        return f"nn.Sequential(nn.ZeroPad2d({torch_pads(pads)}), {code})"
    return code


@torch_layer("D2S")
def _depth_to_space(row: LayerInfo, shape: Shape, w: TorchWriter) -> str:
    _images_only(row, shape, "PyTorch")
    return f"nn.PixelShuffle({num(row.args['r'])})"


@torch_layer("UP")
def _upsample(row: LayerInfo, shape: Shape, w: TorchWriter) -> str:
    return on_layout(f"nn.Upsample(scale_factor={literal(ints(row.args['f']))})", shape, w)


@torch_layer("RS")
def _resize(row: LayerInfo, shape: Shape, w: TorchWriter) -> str:
    return on_layout(f"nn.Upsample(size={tuple_text(ints(row.args['size'] or row.shape[:-1]))})", shape, w)


@torch_layer("WMSA")
def _window_attention(row: LayerInfo, shape: Shape, w: TorchWriter) -> str:
    a = row.args
    w.functional = True
    w.helper("WindowAttention")  # also GridAttention's base class, defined before it
    options = keywords(
        shift=tuple_text(ints(a["shift"])) if any(ints(a["shift"])) else None,
        pos=repr(a["pos"]) if a["pos"] != "table" else None,
        bias=None if a["bias"] else "False",
    )
    win = tuple_text(ints(a["win"]))
    # MaxViT's grid attention (grid=true): GridAttention, in the section of issue 18 (part A) below
    module = w.helper("GridAttention" if a["grid"] else "WindowAttention")
    return f"{module}({shape[-1]}, {num(a['heads'])}, {win}{options})"


@torch_layer("PM")
def _patch_merging(row: LayerInfo, shape: Shape, w: TorchWriter) -> str:
    c = shape[-1]
    pads = [(0, x % 2) for x in shape[:-1]]
    # 2x2 space-to-depth (odd sizes padded), then LayerNorm(4c)-Linear(4c, 2c) (V2: the other way).
    pre = f"nn.ZeroPad2d({torch_pads(pads)}), " if any(after for _, after in pads) else ""
    norm_linear = f"nn.LayerNorm({4 * c}), nn.Linear({4 * c}, {2 * c}, bias=False)"
    if row.args["v2"]:
        norm_linear = f"nn.Linear({4 * c}, {2 * c}, bias=False), nn.LayerNorm({2 * c})"
    last = f"{w.helper('ChannelsLast')}(nn.Sequential({norm_linear}))"
    return f"nn.Sequential({pre}nn.PixelUnshuffle(2), {last})"


@torch_layer("RT")
def _relative_table(row: LayerInfo, shape: Shape, w: TorchWriter) -> str:
    norm = keywords(norm=repr(row.args["norm"]) if row.args["norm"] != "none" else None)
    return f"{w.helper('RelTable')}({num(row.args['m'])}, {shape[-1]}{norm})"


@torch_layer("RB")
def _relative_bias(row: LayerInfo, shape: Shape, w: TorchWriter) -> str:
    w.note("T5's relative attention bias, b buckets x h heads, kept for the attention layers")
    return f"{w.helper('Parameter')}({num(row.args['b'])}, {num(row.args['h'])})"


@torch_layer("Mamba")
def _mamba(row: LayerInfo, shape: Shape, w: TorchWriter) -> str:
    a = row.args
    options = keywords(
        n=num(a["N"]) if num(a["N"]) != 16 else None,
        expand=num(a["expand"]) if num(a["expand"]) != 2 else None,
        conv=num(a["conv"]) if num(a["conv"]) != 4 else None,
        dt=num(a["dt"]) if a["dt"] is not None else None,
        bias="True" if a["bias"] else None,
        conv_bias=None if a["conv_bias"] else "False",
    )
    return f"{w.helper('Mamba')}({shape[-1]}{options})"


@torch_layer("SQ")
def _squeeze(row: LayerInfo, shape: Shape, w: TorchWriter) -> str:
    return f"{w.helper('Squeeze')}()"


@torch_layer("W")
def _parameter(row: LayerInfo, shape: Shape, w: TorchWriter) -> str:
    a = row.args
    dims_ = weight_dims(a)
    # trainable=false: a parameter with requires_grad False (ultralytics' DFL conv weight).
    fixed = keywords(trainable=None if a.get("trainable", True) else "False")
    return f"{w.helper('Parameter')}({', '.join(map(str, dims_))}{fixed})"


def torch_source(net: Network, class_name: str = "Net") -> tuple[str, list[tuple[LayerInfo, str]]]:
    """The source and the main class's attribute of each row of the main chain."""
    writer = TorchWriter(net)
    source = writer.source(class_name)
    return source, writer.top_rows


# ---------------------------------------------------------------- issue 18, part A: vision layers and gates
# Exporters of the layers of the modern vision models (layers/vision.py: DP, GN, IN, LS,
# NORM, PReLU, RESCALE, lrelu, hswish, hsigmoid, mish), of the multiplying branch form
# `[A * B]` (squeeze-excitation's gate) and of WMSA's grid=true (MaxViT). Each counts what
# symparams counts under the torch convention; `check` compares them.
HELPERS.update(
    {
        "Product": '''
class Product(nn.Module):
    """[A * B]: branches on one input, their outputs multiplied elementwise (squeeze-excitation's
    gate: nn.Identity() times a (c, 1, 1) scale). Shapes broadcast as numpy broadcasts the
    channels-last shapes; `ranks` (each output's axes, without the batch) is given when they
    differ, and the outputs are then moved channels-last, a lower rank's missing axes put
    after the batch, multiplied, and moved back."""

    def __init__(self, *branches: nn.Module, ranks: tuple[int, ...] | None = None) -> None:
        super().__init__()
        self.branches = nn.ModuleList(branches)
        self.ranks = ranks

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        outs = [branch(x) for branch in self.branches]
        if self.ranks is not None:  # unequal ranks: broadcast channels-last
            top = max(self.ranks)
            outs = [y.movedim(1, -1) if r >= 3 else y for y, r in zip(outs, self.ranks)]
            outs = [y.reshape(y.shape[:1] + (1,) * (top - r) + y.shape[1:]) for y, r in zip(outs, self.ranks)]
        out = outs[0]
        for y in outs[1:]:
            out = out * y
        if self.ranks is not None and max(self.ranks) >= 3:
            out = out.movedim(-1, 1)
        return out
''',
        "DropPath": '''
class DropPath(nn.Module):
    """Stochastic depth, as torchvision.ops.StochasticDepth(p, "row"): in training each sample
    is zeroed with probability p and the others scaled by 1/(1-p); no parameters."""

    def __init__(self, p: float) -> None:
        super().__init__()
        self.p = p

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0.0:
            return x
        keep = 1.0 - self.p
        noise = x.new_empty((x.shape[0],) + (1,) * (x.dim() - 1)).bernoulli_(keep)
        return x * noise.div_(keep)
''',
        "LayerScale": '''
class LayerScale(nn.Module):
    """Layer scale: a learned gamma per channel multiplies the input, of the shape that
    broadcasts on the channels ((c, 1, 1) on an image, as torchvision's CNBlock.layer_scale;
    (c,) on a sequence or a vector): c parameters."""

    def __init__(self, *shape: int, init: float = 1e-6) -> None:
        super().__init__()
        self.gamma = nn.Parameter(torch.full(shape, init))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.gamma
''',
        "Normalization": '''
class Normalization(nn.Module):
    """Keras's Normalization, (x - mean) / sqrt(variance), a mean and a variance per channel
    (or one of each: axis=none). PyTorch has no such module: torchvision normalises in its
    transforms, outside the model, and a module that holds a fixed mean and variance keeps
    them as buffers, not parameters; so the torch convention counts 0, adapted or not, and
    here they are buffers."""

    def __init__(self, *shape: int) -> None:
        super().__init__()
        self.register_buffer("mean", torch.zeros(shape))
        self.register_buffer("variance", torch.ones(shape))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean) / torch.sqrt(self.variance.clamp_min(1e-7))
''',
        "Rescale": '''
class Rescale(nn.Module):
    """Keras's Rescaling: x * scale + offset; no parameters."""

    def __init__(self, scale: float, offset: float = 0.0) -> None:
        super().__init__()
        self.scale, self.offset = scale, offset

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.scale + self.offset
''',
        "ElementPReLU": '''
class ElementPReLU(nn.Module):
    """PReLU with one learned slope per input element (PReLU(per=element), Keras's default):
    nn.PReLU has one slope, or one per channel."""

    def __init__(self, *shape: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.full(shape, 0.25))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.where(x >= 0, x, self.weight * x)
''',
        "PartialBatchNorm": '''
class PartialBatchNorm(nn.Module):
    """BN(scale=false) or BN(center=false): Keras's BatchNormalization without gamma or
    without beta. nn.BatchNorm has both or neither (affine): the norm without them, then the
    one kept, per channel."""

    def __init__(self, norm: nn.Module, *shape: int, scale: bool = True, center: bool = True) -> None:
        super().__init__()
        self.norm = norm
        self.weight = nn.Parameter(torch.ones(shape)) if scale else None
        self.bias = nn.Parameter(torch.zeros(shape)) if center else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.norm(x)
        x = x * self.weight if self.weight is not None else x
        return x + self.bias if self.bias is not None else x
''',
        "GridAttention": '''
class GridAttention(WindowAttention):
    """MaxViT's grid attention (WMSA(grid=true)): the image cut into a win x win grid, each
    group the pixels at one place of every cell, attention inside each group. The pixels are
    reordered so that the groups become windows, window attention runs, and the order is
    restored: window attention's parameters, no padding (win divides h and w)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        m0, m1 = self.win
        y = x.reshape(b, c, m0, h // m0, m1, w // m1).permute(0, 1, 3, 2, 5, 4).reshape(b, c, h, w)
        y = super().forward(y)
        return y.reshape(b, c, h // m0, m0, w // m1, m1).permute(0, 1, 3, 2, 5, 4).reshape(b, c, h, w)
''',
    }
)


def _channel_shape(shape: Shape) -> Shape:
    """The shape of a per-channel tensor that broadcasts on the exported code's layout:
    (c, 1, 1) on a channels-first image, (c,) on a sequence or a vector."""
    return (shape[-1],) + (1,) * (len(shape) - 1) if len(shape) >= 3 else (shape[-1],)


def _product(w: TorchWriter, row: LayerInfo, shape: Shape) -> Call:
    """[A * B]: a Product of the branches, with their ranks when they differ (a gate (c) on
    an image)."""
    items = [(w.module(child, shape), w.comment(child)) for child in row.children]
    ranks = tuple(len(child.shape) for child in row.children)
    if len(set(ranks)) > 1:
        items.append((f"ranks={tuple_text(ranks)}", ""))
    return Call(f"{w.helper('Product')}(", items)


@torch_layer("DP")
def _drop_path(row: LayerInfo, shape: Shape, w: TorchWriter) -> str:
    return f"{w.helper('DropPath')}({rate(row.args['r'])})"


@torch_layer("GN")
def _group_norm(row: LayerInfo, shape: Shape, w: TorchWriter) -> str:
    affine = keywords(affine=None if row.args["affine"] else "False")
    return on_layout(f"nn.GroupNorm({num(row.args['g'])}, {shape[-1]}{affine})", shape, w)


@torch_layer("IN")
def _instance_norm(row: LayerInfo, shape: Shape, w: TorchWriter) -> str:
    # affine as the row counts it: IN's default (no affine given) is the convention's, False in torch.
    affine = keywords(affine="True" if num(row.params) else None)
    positions = 1
    for x in shape[:-1]:
        positions *= x
    if positions == 1:
        # nn.InstanceNorm refuses a single position (its forward raises); GroupNorm with a
        # group per channel is the same normalisation, the same parameters.
        w.note("nn.InstanceNorm refuses a single position: GroupNorm(c, c), the same normalisation")
        affine = keywords(affine=None if num(row.params) else "False")
        return on_layout(f"nn.GroupNorm({shape[-1]}, {shape[-1]}{affine})", shape, w)
    return on_layout(f"nn.InstanceNorm{dims(shape)}({shape[-1]}{affine})", shape, w)


@torch_layer("LS")
def _layer_scale(row: LayerInfo, shape: Shape, w: TorchWriter) -> str:
    return f"{w.helper('LayerScale')}({', '.join(map(str, _channel_shape(shape)))})"


@torch_layer("NORM")
def _normalization(row: LayerInfo, shape: Shape, w: TorchWriter) -> str:
    w.note("PyTorch has no Normalization: its mean and variance as buffers, 0 parameters")
    kept = _channel_shape(shape) if row.args["axis"] == "last" else ()
    return f"{w.helper('Normalization')}({', '.join(map(str, kept))})"


@torch_layer("PReLU")
def _prelu(row: LayerInfo, shape: Shape, w: TorchWriter) -> str:
    per = row.args["per"] or "one"  # the torch convention's default: one slope
    if per == "one":
        return "nn.PReLU()"
    if per == "channel":
        return on_layout(f"nn.PReLU({shape[-1]})", shape, w)
    w.note("nn.PReLU has no slope per element: ElementPReLU")
    return f"{w.helper('ElementPReLU')}({', '.join(map(str, _torch_layout(shape)))})"


def _torch_layout(shape: Shape) -> Shape:
    """A sample's shape as the exported code holds it: an image or volume channels first."""
    return (shape[-1],) + shape[:-1] if len(shape) >= 3 else shape


@torch_layer("RESCALE")
def _rescale(row: LayerInfo, shape: Shape, w: TorchWriter) -> str:
    offset = row.args["offset"]
    extra = f", {float_source(offset)}" if float(offset) != 0 else ""
    return f"{w.helper('Rescale')}({float_source(row.args['scale'])}{extra})"


@torch_layer("lrelu")
def _leaky_relu(row: LayerInfo, shape: Shape, w: TorchWriter) -> str:
    a = row.args["a"]  # none given: PyTorch's default slope, 0.01, as the layer's
    return f"nn.LeakyReLU({float_source(a)})" if a is not None else "nn.LeakyReLU()"


_MORE_ACTIVATIONS = {"hswish": "nn.Hardswish()", "hsigmoid": "nn.Hardsigmoid()", "mish": "nn.Mish()"}


@torch_layer(*_MORE_ACTIVATIONS)
def _more_activations(row: LayerInfo, shape: Shape, w: TorchWriter) -> str:
    return _MORE_ACTIVATIONS[row.name]


def _partial_batch_norm(row: LayerInfo, shape: Shape, w: TorchWriter, kind: str) -> str:
    shape_ = ", ".join(map(str, _channel_shape(shape)))
    keep = keywords(
        scale=None if row.args["scale"] else "False", center=None if row.args["center"] else "False"
    )
    norm = on_layout(f"nn.BatchNorm{kind}({shape[-1]}, affine=False)", shape, w)
    return f"{w.helper('PartialBatchNorm')}({norm}, {shape_}{keep})"


# ================================================================ graphs, cross-attention, latent attention
# (README "Graphs" and "Export"): the graph form's named tensors are variables of the main
# forward; a block that reads one (a branch that starts from a tensor, a cross-attention's
# memory) has `reads = True` and a forward(x, tensors) given them by name.
HELPER_NEEDS: dict[str, tuple[str, ...]] = {
    "Flow": ("run",),
    "FlowSum": ("run",),
    "FlowConcat": ("run",),
    "FlowShared": ("run",),
}

HELPERS.update(
    {
        "run": '''
def run(module: nn.Module, x: torch.Tensor, tensors: dict[str, torch.Tensor]) -> torch.Tensor:
    """Runs a module on x; a module that reads the graph's named tensors (reads = True) gets them."""
    return module(x, tensors) if getattr(module, "reads", False) else module(x)
''',
        "Read": '''
class Read(nn.Module):
    """A branch that starts from a named tensor of the graph: its input is left aside."""

    reads = True

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name

    def forward(self, x: torch.Tensor, tensors: dict[str, torch.Tensor]) -> torch.Tensor:
        return tensors[self.name]
''',
        "Flow": '''
class Flow(nn.Sequential):
    """nn.Sequential whose modules may read the graph's named tensors (passed on by name)."""

    reads = True

    def forward(  # type: ignore[override]
        self, x: torch.Tensor, tensors: dict[str, torch.Tensor]
    ) -> torch.Tensor:
        for module in self:
            x = run(module, x, tensors)
        return x
''',
        "FlowSum": '''
class FlowSum(nn.Module):
    """[A + B] whose branches may read the graph's named tensors: their outputs summed."""

    reads = True

    def __init__(self, *branches: nn.Module) -> None:
        super().__init__()
        self.branches = nn.ModuleList(branches)

    def forward(self, x: torch.Tensor, tensors: dict[str, torch.Tensor]) -> torch.Tensor:
        out = run(self.branches[0], x, tensors)
        for branch in self.branches[1:]:
            out = out + run(branch, x, tensors)
        return out
''',
        "FlowConcat": '''
class FlowConcat(nn.Module):
    """[A | B] whose branches may read the graph's named tensors: concatenated on the channels."""

    reads = True

    def __init__(self, *branches: nn.Module, dim: int = 1) -> None:
        super().__init__()
        self.branches = nn.ModuleList(branches)
        self.dim = dim

    def forward(self, x: torch.Tensor, tensors: dict[str, torch.Tensor]) -> torch.Tensor:
        return torch.cat([run(branch, x, tensors) for branch in self.branches], dim=self.dim)
''',
        "FlowShared": '''
class FlowShared(nn.Module):
    """X**n whose X reads the graph's named tensors: one module applied n times."""

    reads = True

    def __init__(self, inner: nn.Module, n: int) -> None:
        super().__init__()
        self.inner, self.n = inner, n

    def forward(self, x: torch.Tensor, tensors: dict[str, torch.Tensor]) -> torch.Tensor:
        for _ in range(self.n):
            x = run(self.inner, x, tensors)
        return x
''',
        "CrossAttention": '''
class CrossAttention(nn.MultiheadAttention):
    """XA: nn.MultiheadAttention from the (batch, t, c) queries to a named (batch, s, m)
    tensor of the graph, kdim = vdim = m (q, k, v projections of their own when m != c)."""

    reads = True

    def __init__(self, c: int, heads: int, m: int, memory: str, bias: bool = True) -> None:
        super().__init__(c, heads, bias=bias, batch_first=True, kdim=m, vdim=m)
        self.memory_name = memory

    def forward(  # type: ignore[override]
        self, x: torch.Tensor, tensors: dict[str, torch.Tensor]
    ) -> torch.Tensor:
        memory = tensors[self.memory_name]
        return super().forward(x, memory, memory, need_weights=False)[0]
''',
        "GroupedCrossAttention": '''
class GroupedCrossAttention(nn.Module):
    """XA with heads of width k, kv key/value heads, or a bias on some projections only
    (Whisper: q, v, o): queries from the (batch, t, c) input, keys and values from a named
    (batch, s, m) tensor of the graph, as transformers' cross-attention builds them.
    nn.MultiheadAttention has none of these options."""

    reads = True

    def __init__(
        self, c: int, heads: int, k: int, kv: int, m: int, memory: str, bias: str = "qkvo"
    ) -> None:  # fmt: skip
        super().__init__()
        self.heads, self.kv, self.memory_name = heads, kv, memory
        self.q = nn.Linear(c, heads * k, bias="q" in bias)
        self.k = nn.Linear(m, kv * k, bias="k" in bias)
        self.v = nn.Linear(m, kv * k, bias="v" in bias)
        self.o = nn.Linear(heads * k, c, bias="o" in bias)

    def forward(self, x: torch.Tensor, tensors: dict[str, torch.Tensor]) -> torch.Tensor:
        memory = tensors[self.memory_name]
        b, t, _ = x.shape
        s = memory.shape[1]
        q = self.q(x).view(b, t, self.heads, -1).transpose(1, 2)
        k = self.k(memory).view(b, s, self.kv, -1).transpose(1, 2)
        v = self.v(memory).view(b, s, self.kv, -1).transpose(1, 2)
        k = k.repeat_interleave(self.heads // self.kv, dim=1)
        v = v.repeat_interleave(self.heads // self.kv, dim=1)
        y = F.scaled_dot_product_attention(q, k, v)
        return self.o(y.transpose(1, 2).reshape(b, t, -1))
''',
        "LatentAttention": '''
class LatentAttention(nn.Module):
    """MLA, DeepSeek's multi-head latent attention, as transformers' DeepseekV3Attention
    builds it (torch.nn has no such module): queries through a rank-q bottleneck with its
    RMSNorm (or one full projection when q is None), keys and values through a rank-kv
    latent with its RMSNorm, a rope key of width `rope` shared by the heads, h*v -> c.
    The rotary embedding has no parameters and is left out of the forward."""

    def __init__(
        self, c: int, heads: int, kv: int, nope: int, rope: int, v: int, q: int | None = None,
        bias: bool = False,
    ) -> None:  # fmt: skip
        super().__init__()
        self.heads, self.kv_rank, self.nope, self.rope, self.v_width = heads, kv, nope, rope, v
        if q is None:
            self.q_proj = nn.Linear(c, heads * (nope + rope), bias=False)
        else:
            self.q_a_proj = nn.Linear(c, q, bias=bias)
            self.q_a_layernorm = nn.RMSNorm(q)
            self.q_b_proj = nn.Linear(q, heads * (nope + rope), bias=False)
        self.kv_a_proj_with_mqa = nn.Linear(c, kv + rope, bias=bias)
        self.kv_a_layernorm = nn.RMSNorm(kv)
        self.kv_b_proj = nn.Linear(kv, heads * (nope + v), bias=False)
        self.o_proj = nn.Linear(heads * v, c, bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, t, _ = x.shape
        if hasattr(self, "q_proj"):
            q = self.q_proj(x)
        else:
            q = self.q_b_proj(self.q_a_layernorm(self.q_a_proj(x)))
        q = q.view(b, t, self.heads, -1).transpose(1, 2)
        latent, k_rope = self.kv_a_proj_with_mqa(x).split([self.kv_rank, self.rope], dim=-1)
        kv = self.kv_b_proj(self.kv_a_layernorm(latent)).view(b, t, self.heads, -1).transpose(1, 2)
        k_nope, v = kv.split([self.nope, self.v_width], dim=-1)
        k_rope = k_rope.view(b, 1, t, self.rope).expand(-1, self.heads, -1, -1)
        y = F.scaled_dot_product_attention(q, torch.cat([k_nope, k_rope], dim=-1), v)
        return self.o_proj(y.transpose(1, 2).reshape(b, t, -1))
''',
    }
)

RESERVED = {"self", "torch", "nn", "F", "tensors", "run", "x"}


def _heads(row: LayerInfo, c: int) -> tuple[int, int, int]:
    """h, head width k and key/value heads kv of an attention row (layers.sequence.heads)."""
    a = row.args
    h = num(a["h"])
    return h, num(a["k"]) if a["k"] is not None else c // h, num(a["kv"]) if a["kv"] is not None else h


@torch_layer("XA")
def _cross_attention(row: LayerInfo, shape: Shape, w: TorchWriter) -> str:
    memory = row.args["memory"]
    c, m, name = shape[-1], num(memory[-1]), memory.name
    h, k, kv = _heads(row, c)
    letters = row.args["bias"]
    if k * h == c and kv == h and letters in ("qkvo", ""):
        bias = keywords(bias=None if letters else "False")
        return f'{w.helper("CrossAttention")}({c}, {h}, {m}, "{name}"{bias})'
    bias = keywords(bias=repr(letters) if letters != "qkvo" else None)
    return f'{w.helper("GroupedCrossAttention")}({c}, {h}, {k}, {kv}, {m}, "{name}"{bias})'


@torch_layer("MLA")
def _latent_attention(row: LayerInfo, shape: Shape, w: TorchWriter) -> str:
    a = row.args
    sizes = ", ".join(str(num(a[key])) for key in ("h", "kv", "nope", "rope", "v"))
    options = keywords(q=num(a["q"]) if a["q"] is not None else None, bias="True" if a["bias"] else None)
    return f"{w.helper('LatentAttention')}({shape[-1]}, {sizes}{options})"


def input_constants(net: Network) -> list[str]:
    """INPUT_SHAPE and INPUT_DTYPE (channels first, one sample), or INPUT_SHAPES and
    INPUT_DTYPES for a graph with several inputs."""
    found = []
    for row, ids in graph_inputs(net):
        shape = ints(row.shape)
        first = (shape[-1],) + shape[:-1] if len(shape) >= 3 else shape
        found.append((tuple_text(first), f"torch.{'long' if ids else 'float32'}"))
    if len(found) == 1:
        return [
            f"INPUT_SHAPE = {found[0][0]}  # one sample, without the batch axis",
            f"INPUT_DTYPE = {found[0][1]}",
        ]
    shapes = ", ".join(shape for shape, _ in found)
    return [
        f"INPUT_SHAPES = ({shapes})  # one sample of each input, without the batch axis",
        f"INPUT_DTYPES = ({', '.join(dtype for _, dtype in found)})",
    ]


def graph_body(w: TorchWriter) -> list[str]:
    """__init__ and forward of the main class of a graph: one attribute per row of every
    line, each named tensor a variable of the forward, the outputs returned in order."""
    net = w.net
    names = Names()
    taken = set(RESERVED)
    var = {t.name: unique_name(identifier(t.name), taken) for t in net.tensors}
    init = ["    def __init__(self) -> None:", "        super().__init__()"]
    forward: list[str] = []
    inputs: list[str] = []
    attrs: dict[int, str] = {}
    for t in net.tensors:
        rows = list(net.layers[t.first : t.stop])
        dst, src = var[t.name], "None"
        shape: Shape = ()
        for row in rows:
            if row.kind == "Input":
                src = dst if len(rows) == 1 else unique_name(f"{dst}_input", taken)
                inputs.append(src)
            elif row.kind == "Tensor":
                src = var[row.args["tensor"]]
            else:
                attr = names.new(stem(row))
                attrs[id(row)] = attr
                w.top_rows.append((row, attr))
                w.local = local_names(row)  # a cell's class reads its tensors by its parameters' names
                init += w.assign(attr, row, shape)
                reads = tensor_reads(row)
                keys = {n: w.local.get(n, n) for n in reads}
                w.local = {}
                given = ", {" + ", ".join(f'"{keys[n]}": {var[n]}' for n in reads) + "}" if reads else ""
                forward.append(f"        {dst} = self.{attr}({src}{given})")
                src = dst
            shape = ints(row.shape)
        if src != dst:
            forward.append(f"        {dst} = {src}")
    init += tie_lines(w, attrs)
    params = ", ".join(f"{name}: torch.Tensor" for name in inputs)
    outputs = [var[n] for n in net.outputs]
    returns = "torch.Tensor" if len(outputs) == 1 else "tuple[torch.Tensor, ...]"
    head = [f"    def forward(self, {params}) -> {returns}:"]
    return init + [""] + head + forward + [f"        return {', '.join(outputs)}"]


def tie_lines(w: TorchWriter, attrs: dict[int, str]) -> list[str]:
    """The lines of the main class's __init__ that tie weights (O(v, tied=true), E(v, d,
    tied=true)) to their embedding's."""
    lines = []
    for out, embed in w.ties:
        if id(out) in w.nested_ties:
            continue
        lines.append(
            f"        self.{attrs[id(out)]}.weight = self.{attrs[id(embed)]}.weight"
            f"  # {safe(out.text)}: the embedding's weights, counted once"
        )
    if w.nested_ties:
        lines.append(
            f"        {w.helper('TiedLinear')}.tie(self)"
            "  # each TiedLinear shares the weight of its embedding, counted once"
        )
    return lines


# ================================================================ XADD, UNSEQ (diffusers' UNet)
# XADD reads a named vector of the graph (reads = True, forward(x, tensors)), as XA does.
HELPERS.update(
    {
        "AddVector": '''
class AddVector(nn.Module):
    """XADD: a named (batch, m) vector of the graph added at every position of the input,
    after an activation and a Linear(m, c) when proj (diffusers' ResnetBlock2D:
    h + time_emb_proj(silu(temb))[:, :, None, None]); dim is the input's channel axis."""

    reads = True

    def __init__(
        self, c: int, m: int, memory: str, act: nn.Module, proj: bool = True, bias: bool = True, dim: int = 1
    ) -> None:  # fmt: skip
        super().__init__()
        self.memory_name, self.act, self.dim = memory, act, dim
        self.proj = nn.Linear(m, c, bias=bias) if proj else None

    def forward(self, x: torch.Tensor, tensors: dict[str, torch.Tensor]) -> torch.Tensor:
        v = self.act(tensors[self.memory_name])
        if self.proj is not None:
            v = self.proj(v)
        shape = [1] * x.dim()
        shape[0], shape[self.dim] = v.shape[0], v.shape[-1]
        return x + v.reshape(shape)
''',
        "Untokens": '''
class Untokens(nn.Module):
    """UNSEQ: a sequence (batch, h*w, c) back to the image (batch, c, h, w) of the SEQ before
    it (diffusers' Transformer2DModel: reshape(batch, height, width, inner_dim).permute(0, 3, 1, 2))."""

    def __init__(self, *spatial: int) -> None:
        super().__init__()
        self.spatial = spatial

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.transpose(1, 2).reshape(x.shape[0], x.shape[2], *self.spatial)
''',
    }
)

_XADD_ACTIVATIONS = {**_ACTIVATION_MODULES, **_MORE_ACTIVATIONS, "none": "nn.Identity()"}


@torch_layer("XADD")
def _add_vector(row: LayerInfo, shape: Shape, w: TorchWriter) -> str:
    a = row.args
    memory = a["memory"]
    c, m = shape[-1], num(memory[-1])
    options = keywords(
        proj=None if a["proj"] else "False",
        bias=None if a["bias"] or not a["proj"] else "False",
        dim=None if TorchWriter.channel_dim(shape) == 1 else "-1",
    )
    return f'{w.helper("AddVector")}({c}, {m}, "{memory.name}", {_XADD_ACTIVATIONS[a["act"]]}{options})'


@torch_layer("UNSEQ")
def _untokens(row: LayerInfo, shape: Shape, w: TorchWriter) -> str:
    return f"{w.helper('Untokens')}({', '.join(map(str, ints(row.shape)[:-1]))})"
