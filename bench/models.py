"""The benchmark's models: one symparams line each, and the same model written by hand
in PyTorch and in Keras 3 (there is no torchvision here, and keras.applications would
hide what is built).

Every model carries its published parameter count. The benchmark checks that every
tool it times reports that count (or says why it differs), so a fast wrong answer can
never pass as a result.

Sources of the architectures: torchvision's vgg16 and resnet50 (v1.5, stride on the
3x3 conv), the GPT-2 paper's table 2 with Hugging Face's GPT2Model layout (fused
c_attn, tied lm_head), LLaMA's and LLaMA-2's papers with Hugging Face's LlamaModel
layout (RMSNorm, SwiGLU, no biases, untied head, grouped-query attention in 70B).
torch and keras are imported inside the builders, so importing this module is cheap.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

# ---------------------------------------------------------------- symparams texts
LENET = "I(28,28,1)-C(32,5)-P(2)-C(32,3)-P(2)-H(256)-O(10)"

_VGG_BLOCKS = ((64, 2), (128, 2), (256, 3), (512, 3), (512, 3))


def vgg16_text(height: str = "224", width: str = "224") -> str:
    """VGG-16 (configuration D) written out layer by layer, as torchvision builds it."""
    parts = [f"I({height},{width},3)"]
    for channels, convs in _VGG_BLOCKS:
        parts += [f"C({channels},3,p=1)-relu"] * convs + ["P(2)"]
    parts += ["AAP(7)", "H(4096)-relu-D(0.5)", "H(4096)-relu-D(0.5)", "O(1000)"]
    return "-".join(parts)


# ResNet-50 with definitions: `down` is the first block of a stage (projection
# shortcut, stride on the 3x3 conv as in torchvision's v1.5), `same` keeps the shape.
RESNET50_DEFS = (
    "down(k,s) = [C(k,1,bias=false)-BN-relu-C(k,3,s=s,p=1,bias=false)-BN-relu-C(4*k,1,bias=false)-BN"
    " + C(4*k,1,s=s,bias=false)-BN]-relu; "
    "same(k) = [C(k,1,bias=false)-BN-relu-C(k,3,p=1,bias=false)-BN-relu-C(4*k,1,bias=false)-BN + id]-relu; "
)
RESNET50_CHAIN = ("-C(64,7,s=2,p=3,bias=false)-BN-relu-P(3,s=2,p=1)"
                  "-down(64,1)-same(64)*2-down(128,2)-same(128)*3-down(256,2)-same(256)*5"
                  "-down(512,2)-same(512)*2-GAP-O(1000)")


def resnet50_text(height: str = "224", width: str = "224") -> str:
    """ResNet-50 as one line: definitions separated by ';', then the chain."""
    return f"{RESNET50_DEFS}I({height},{width},3){RESNET50_CHAIN}"


def gpt2_text(d: int, heads: int, layers: int, context: int = 1024, vocab: int = 50257) -> str:
    return (f"I({context})-E({vocab},{d})-PE({context})-TB({heads},{4 * d})*{layers}"
            f"-LN-O({vocab},bias=false,tied=true)")


def llama_text(d: int, heads: int, layers: int, ff: int, context: int, kv: int | None = None,
               vocab: int = 32000) -> str:
    kv_arg = f",kv={kv}" if kv is not None else ""
    return (f"I({context})-E({vocab},{d})-TB({heads},{ff},norm=rms,mlp=swiglu,bias=false{kv_arg})*{layers}"
            f"-RMS-O({vocab},bias=false)")


# ---------------------------------------------------------------- PyTorch, by hand
def torch_lenet() -> Any:
    from torch import nn

    return nn.Sequential(nn.Conv2d(1, 32, 5), nn.MaxPool2d(2), nn.Conv2d(32, 32, 3), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(800, 256), nn.Linear(256, 10))


def torch_vgg16() -> Any:
    from torch import nn

    layers: list[Any] = []
    channels = 3
    for width, convs in _VGG_BLOCKS:
        for _ in range(convs):
            layers += [nn.Conv2d(channels, width, 3, padding=1), nn.ReLU(inplace=True)]
            channels = width
        layers.append(nn.MaxPool2d(2))
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(7), nn.Flatten(),
                         nn.Linear(512 * 7 * 7, 4096), nn.ReLU(True), nn.Dropout(),
                         nn.Linear(4096, 4096), nn.ReLU(True), nn.Dropout(), nn.Linear(4096, 1000))


def torch_resnet50() -> Any:
    from torch import nn

    class Bottleneck(nn.Module):
        def __init__(self, cin: int, k: int, stride: int) -> None:
            super().__init__()
            self.body = nn.Sequential(
                nn.Conv2d(cin, k, 1, bias=False), nn.BatchNorm2d(k), nn.ReLU(True),
                nn.Conv2d(k, k, 3, stride, 1, bias=False), nn.BatchNorm2d(k), nn.ReLU(True),
                nn.Conv2d(k, 4 * k, 1, bias=False), nn.BatchNorm2d(4 * k))
            self.skip: nn.Module = nn.Identity()
            if stride != 1 or cin != 4 * k:
                self.skip = nn.Sequential(nn.Conv2d(cin, 4 * k, 1, stride, bias=False), nn.BatchNorm2d(4 * k))
            self.relu = nn.ReLU(True)

        def forward(self, x: Any) -> Any:
            return self.relu(self.body(x) + self.skip(x))

    blocks: list[Any] = []
    cin = 64
    for k, count, stride in ((64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2)):
        for i in range(count):
            blocks.append(Bottleneck(cin, k, stride if i == 0 else 1))
            cin = 4 * k
    return nn.Sequential(nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64), nn.ReLU(True),
                         nn.MaxPool2d(3, 2, 1), *blocks, nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                         nn.Linear(2048, 1000))


def torch_gpt2(d: int, heads: int, layers: int, context: int = 1024, vocab: int = 50257) -> Any:
    import torch
    from torch import nn

    class Block(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.ln_1, self.ln_2 = nn.LayerNorm(d), nn.LayerNorm(d)
            self.c_attn, self.c_proj = nn.Linear(d, 3 * d), nn.Linear(d, d)
            self.mlp = nn.Sequential(nn.Linear(d, 4 * d), nn.GELU(), nn.Linear(4 * d, d))

        def forward(self, x: Any) -> Any:
            b, t, _ = x.shape
            q, k, v = (z.view(b, t, heads, d // heads).transpose(1, 2)
                       for z in self.c_attn(self.ln_1(x)).split(d, dim=2))
            y = nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True)
            x = x + self.c_proj(y.transpose(1, 2).reshape(b, t, d))
            return x + self.mlp(self.ln_2(x))

    class GPT2(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.wte, self.wpe = nn.Embedding(vocab, d), nn.Embedding(context, d)
            self.h = nn.ModuleList(Block() for _ in range(layers))
            self.ln_f = nn.LayerNorm(d)
            self.lm_head = nn.Linear(d, vocab, bias=False)
            self.lm_head.weight = self.wte.weight  # tied: parameters() yields it once

        def forward(self, ids: Any) -> Any:
            x = self.wte(ids) + self.wpe(torch.arange(ids.shape[1], device=ids.device))
            for block in self.h:
                x = block(x)
            return self.lm_head(self.ln_f(x))

    return GPT2()


def torch_llama(d: int, heads: int, layers: int, ff: int, kv: int | None = None, vocab: int = 32000) -> Any:
    from torch import nn

    groups: int = kv or heads  # key/value heads (grouped-query attention when fewer)
    head_dim = d // heads

    class Block(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.input_layernorm, self.post_attention_layernorm = nn.RMSNorm(d), nn.RMSNorm(d)
            self.q_proj = nn.Linear(d, heads * head_dim, bias=False)
            self.k_proj = nn.Linear(d, groups * head_dim, bias=False)
            self.v_proj = nn.Linear(d, groups * head_dim, bias=False)
            self.o_proj = nn.Linear(heads * head_dim, d, bias=False)
            self.gate_proj, self.up_proj = nn.Linear(d, ff, bias=False), nn.Linear(d, ff, bias=False)
            self.down_proj = nn.Linear(ff, d, bias=False)

        def forward(self, x: Any) -> Any:
            # Rotary position embeddings have no parameters; they are left out.
            b, t, _ = x.shape
            h = self.input_layernorm(x)
            q = self.q_proj(h).view(b, t, heads, head_dim).transpose(1, 2)
            k = self.k_proj(h).view(b, t, groups, head_dim).transpose(1, 2).repeat_interleave(heads // groups, 1)
            v = self.v_proj(h).view(b, t, groups, head_dim).transpose(1, 2).repeat_interleave(heads // groups, 1)
            y = nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True)
            x = x + self.o_proj(y.transpose(1, 2).reshape(b, t, d))
            h = self.post_attention_layernorm(x)
            return x + self.down_proj(nn.functional.silu(self.gate_proj(h)) * self.up_proj(h))

    class Llama(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embed_tokens = nn.Embedding(vocab, d)
            self.layers = nn.ModuleList(Block() for _ in range(layers))
            self.norm = nn.RMSNorm(d)
            self.lm_head = nn.Linear(d, vocab, bias=False)

        def forward(self, ids: Any) -> Any:
            x = self.embed_tokens(ids)
            for block in self.layers:
                x = block(x)
            return self.lm_head(self.norm(x))

    return Llama()


# ---------------------------------------------------------------- Keras 3, by hand
def keras_lenet() -> Any:
    import keras
    from keras import layers as K

    return keras.Sequential([keras.Input((28, 28, 1)), K.Conv2D(32, 5), K.MaxPooling2D(2), K.Conv2D(32, 3),
                             K.MaxPooling2D(2), K.Flatten(), K.Dense(256), K.Dense(10)])


def keras_vgg16() -> Any:
    import keras
    from keras import layers as K

    stack: list[Any] = [keras.Input((224, 224, 3))]
    for width, convs in _VGG_BLOCKS:
        stack += [K.Conv2D(width, 3, padding="same", activation="relu") for _ in range(convs)]
        stack.append(K.MaxPooling2D(2))
    stack += [K.Flatten(), K.Dense(4096, activation="relu"), K.Dropout(0.5),
              K.Dense(4096, activation="relu"), K.Dropout(0.5), K.Dense(1000)]
    return keras.Sequential(stack)


def keras_resnet50() -> Any:
    import keras
    from keras import layers as K

    def conv_bn(x: Any, n: int, f: int, s: int = 1, relu: bool = True) -> Any:
        x = K.BatchNormalization()(K.Conv2D(n, f, strides=s, padding="same", use_bias=False)(x))
        return K.ReLU()(x) if relu else x

    inputs = keras.Input((224, 224, 3))
    x = K.MaxPooling2D(3, 2, padding="same")(conv_bn(inputs, 64, 7, 2))
    cin = 64
    for k, count, stride in ((64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2)):
        for i in range(count):
            s = stride if i == 0 else 1
            body = conv_bn(conv_bn(conv_bn(x, k, 1), k, 3, s), 4 * k, 1, relu=False)
            skip = conv_bn(x, 4 * k, 1, s, relu=False) if (s != 1 or cin != 4 * k) else x
            x = K.ReLU()(K.Add()([body, skip]))
            cin = 4 * k
    outputs = K.Dense(1000)(K.GlobalAveragePooling2D()(x))
    return keras.Model(inputs, outputs)


def keras_gpt2(d: int, heads: int, layers: int, context: int = 1024, vocab: int = 50257) -> Any:
    import keras
    from keras import layers as K
    from keras import ops

    class Positions(K.Layer):
        """Learned positions added to the tokens, as GPT-2's wpe."""

        def build(self, shape: Any) -> None:
            self.table = self.add_weight(shape=(context, d), name="wpe")

        def call(self, x: Any) -> Any:
            return x + self.table[: ops.shape(x)[1]]

    class TiedHead(K.Layer):
        """The output projection that reuses the token embedding (no new weights)."""

        def __init__(self, embedding: Any) -> None:
            super().__init__()
            self.embedding = embedding

        def call(self, x: Any) -> Any:
            return ops.matmul(x, ops.transpose(self.embedding.embeddings))

    ids = keras.Input((context,), dtype="int32")
    embedding = K.Embedding(vocab, d)
    x = Positions()(embedding(ids))
    for _ in range(layers):
        h = K.LayerNormalization(epsilon=1e-5)(x)
        x = K.Add()([x, K.MultiHeadAttention(heads, d // heads)(h, h, use_causal_mask=True)])
        h = K.LayerNormalization(epsilon=1e-5)(x)
        x = K.Add()([x, K.Dense(d)(K.Dense(4 * d, activation="gelu")(h))])
    x = K.LayerNormalization(epsilon=1e-5)(x)
    return keras.Model(ids, TiedHead(embedding)(x))


# ---------------------------------------------------------------- the table of models
@dataclass(frozen=True)
class Model:
    """One benchmark model: its symparams line, its published counts, its builders."""

    key: str
    title: str
    text: str
    params: int  # published total, PyTorch's sum of numel() (a tied weight once)
    torch: Callable[[], Any]
    torch_input: tuple[int, ...]  # what torchinfo feeds: an image batch or token ids
    tokens: bool = False
    keras: Callable[[], Any] | None = None
    keras_params: int | None = None  # Keras count_params(), BatchNorm statistics included
    keras_note: str = ""
    symbolic_text: str | None = None  # the same model with free symbols, for in-process timings
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def float32_bytes(self) -> int:
        return 4 * self.params


def _gpt2(d: int, h: int, n: int) -> Callable[[], Any]:
    return lambda: torch_gpt2(d, h, n)


MODELS: dict[str, Model] = {m.key: m for m in (
    Model("lenet", "LeNet (the seeds' MNIST net)", LENET, 217_706, torch_lenet, (1, 1, 28, 28),
          keras=keras_lenet, keras_params=217_706),
    Model("vgg16", "VGG-16", vgg16_text(), 138_357_544, torch_vgg16, (1, 3, 224, 224),
          keras=keras_vgg16, keras_params=138_357_544, symbolic_text=vgg16_text("h", "w")),
    Model("resnet50", "ResNet-50", resnet50_text(), 25_557_032, torch_resnet50, (1, 3, 224, 224),
          keras=keras_resnet50, keras_params=25_557_032 + 53_120, symbolic_text=resnet50_text("h", "w"),
          notes=("Keras counts BatchNorm's moving mean and variance: 53,120 non-trainable.",)),
    Model("gpt2", "GPT-2 small", gpt2_text(768, 12, 12), 124_439_808, _gpt2(768, 12, 12), (1, 8), True,
          keras=lambda: keras_gpt2(768, 12, 12), keras_params=124_439_808),
    Model("gpt2-xl", "GPT-2 XL", gpt2_text(1600, 25, 48), 1_557_611_200, _gpt2(1600, 25, 48), (1, 8), True,
          keras_note="not practical: Keras allocates and initialises all 6.2 GB of weights on the CPU "
                     "(run with --heavy to try)",
          keras=lambda: keras_gpt2(1600, 25, 48), keras_params=1_557_611_200),
    Model("llama-7b", "LLaMA-7B", llama_text(4096, 32, 32, 11008, 2048), 6_738_415_616,
          lambda: torch_llama(4096, 32, 32, 11008), (1, 8), True,
          keras_note="not possible: 27 GB of float32 weights do not fit in memory"),
    Model("llama2-70b", "LLaMA-2-70B", llama_text(8192, 64, 80, 28672, 4096, kv=8), 68_976_648_192,
          lambda: torch_llama(8192, 64, 80, 28672, kv=8), (1, 8), True,
          keras_note="not possible: 276 GB of float32 weights do not fit in memory"),
)}
