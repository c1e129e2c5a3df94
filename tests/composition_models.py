"""Composed architectures as small trees, rendered to symparams text, PyTorch and Keras 3.

A tree is made of `Leaf`, `Seq` (a group), `Rep` (X*n), `Cat` ([A | B]), `Sum`
([A + B]) and `Par` (n[A]). Each node knows its text and how it changes a (c, h) image
shape, and builds its own PyTorch module and Keras tensors without asking symparams
anything: X*n is n separately built copies in a row (each with its own weights),
[A | B] is torch.cat on channels / keras.layers.Concatenate, [A + B] a sum /
keras.layers.Add, n[A] n separately built copies concatenated.

torch and keras are imported lazily, inside the functions that build models.
"""

from __future__ import annotations

from dataclasses import dataclass

# ---------------------------------------------------------------- leaves
# name -> (text, out(c, h) -> (c, h) or None when the input is too small)
LEAVES = {
    "conv1": lambda n: (f"C({n},1)", lambda c, h: (n, h)),
    "conv3same": lambda n: (f"C({n},3,p=1)", lambda c, h: (n, h)),
    "conv3": lambda n: (f"C({n},3)", lambda c, h: (n, h - 2) if h >= 3 else None),
    "bn": lambda n: ("BN", lambda c, h: (c, h)),
    "relu": lambda n: ("relu", lambda c, h: (c, h)),
    "id": lambda n: ("id", lambda c, h: (c, h)),
    "pool2": lambda n: ("P(2)", lambda c, h: (c, h // 2) if h >= 2 else None),
    "pool3same": lambda n: ("P(3,s=1,p=1)", lambda c, h: (c, h)),
    "dw": lambda n: ("DW(3,p=1)", lambda c, h: (c, h)),
}
KEEPS_SPATIAL = ("conv1", "conv3same", "bn", "relu", "id", "pool3same", "dw")


@dataclass(frozen=True)
class Leaf:
    name: str
    n: int = 0  # output channels of a conv

    def text(self) -> str:
        return LEAVES[self.name](self.n)[0]

    def out(self, c: int, h: int) -> tuple[int, int] | None:
        return LEAVES[self.name](self.n)[1](c, h)

    def torch(self, c: int):
        from torch import nn

        return {
            "conv1": lambda: nn.Conv2d(c, self.n, 1),
            "conv3same": lambda: nn.Conv2d(c, self.n, 3, padding=1),
            "conv3": lambda: nn.Conv2d(c, self.n, 3),
            "bn": lambda: nn.BatchNorm2d(c),
            "relu": nn.ReLU,
            "id": nn.Identity,
            "pool2": lambda: nn.MaxPool2d(2),
            "pool3same": lambda: nn.MaxPool2d(3, stride=1, padding=1),
            "dw": lambda: nn.Conv2d(c, c, 3, padding=1, groups=c),
        }[self.name]()

    def keras(self, x):
        from keras import layers

        make = {
            "conv1": lambda: layers.Conv2D(self.n, 1),
            "conv3same": lambda: layers.Conv2D(self.n, 3, padding="same"),
            "conv3": lambda: layers.Conv2D(self.n, 3),
            "bn": layers.BatchNormalization,
            "relu": layers.ReLU,
            "id": layers.Identity,
            "pool2": lambda: layers.MaxPooling2D(2),
            # Keras pads a max pool with -inf where torch pads with -inf too: same shape, no weights.
            "pool3same": lambda: layers.MaxPooling2D(3, strides=1, padding="same"),
            "dw": lambda: layers.DepthwiseConv2D(3, padding="same"),
        }[self.name]
        return make()(x)


@dataclass(frozen=True)
class Seq:
    """A chain; written in parentheses where it stands as one term."""

    items: tuple

    def chain_text(self) -> str:
        return "-".join(i.text() for i in self.items)

    def text(self) -> str:
        return f"({self.chain_text()})"

    def out(self, c: int, h: int) -> tuple[int, int] | None:
        shape: tuple[int, int] | None = (c, h)
        for item in self.items:
            if shape is None:
                return None
            shape = item.out(*shape)
        return shape

    def torch(self, c: int):
        from torch import nn

        modules, shape = [], (c, 1 << 20)
        for item in self.items:
            modules.append(item.torch(shape[0]))
            shape = item.out(*shape)
        return nn.Sequential(*modules)

    def keras(self, x):
        for item in self.items:
            x = item.keras(x)
        return x


@dataclass(frozen=True)
class Rep:
    body: object
    n: int

    def text(self) -> str:
        return f"{self.body.text()}*{self.n}"

    def shapes(self, c: int, h: int) -> list[tuple[int, int]] | None:
        """The input shape of every application."""
        inputs: list[tuple[int, int]] = []
        shape: tuple[int, int] | None = (c, h)
        for _ in range(self.n):
            if shape is None:
                return None
            inputs.append(shape)
            shape = self.body.out(*shape)
        return inputs if shape is not None else None

    def out(self, c: int, h: int) -> tuple[int, int] | None:
        inputs = self.shapes(c, h)
        return None if inputs is None else self.body.out(*inputs[-1])

    def torch(self, c: int):
        from torch import nn

        return nn.Sequential(*(self.body.torch(ci) for ci, _ in self.shapes(c, 1 << 20)))

    def keras(self, x):
        for _ in range(self.n):
            x = self.body.keras(x)
        return x


@dataclass(frozen=True)
class Cat:
    branches: tuple  # of Seq

    def text(self) -> str:
        return "[" + " | ".join(b.chain_text() for b in self.branches) + "]"

    def out(self, c: int, h: int) -> tuple[int, int] | None:
        outs = [b.out(c, h) for b in self.branches]
        if any(o is None for o in outs) or len({o[1] for o in outs}) != 1:
            return None
        return sum(o[0] for o in outs), outs[0][1]

    def torch(self, c: int):
        return _torch_join([b.torch(c) for b in self.branches], "cat")

    def keras(self, x):
        from keras import layers

        return layers.Concatenate(axis=-1)([b.keras(x) for b in self.branches])


@dataclass(frozen=True)
class Sum:
    branches: tuple  # of Seq

    def text(self) -> str:
        return "[" + " + ".join(b.chain_text() for b in self.branches) + "]"

    def out(self, c: int, h: int) -> tuple[int, int] | None:
        outs = [b.out(c, h) for b in self.branches]
        if any(o is None for o in outs) or len(set(outs)) != 1:
            return None
        return outs[0]

    def torch(self, c: int):
        return _torch_join([b.torch(c) for b in self.branches], "sum")

    def keras(self, x):
        from keras import layers

        return layers.Add()([b.keras(x) for b in self.branches])


@dataclass(frozen=True)
class Par:
    n: int
    body: Seq

    def text(self) -> str:
        return f"{self.n}[{self.body.chain_text()}]"

    def out(self, c: int, h: int) -> tuple[int, int] | None:
        o = self.body.out(c, h)
        return None if o is None else (self.n * o[0], o[1])

    def torch(self, c: int):
        return _torch_join([self.body.torch(c) for _ in range(self.n)], "cat")

    def keras(self, x):
        from keras import layers

        outs = [self.body.keras(x) for _ in range(self.n)]
        return layers.Concatenate(axis=-1)(outs) if self.n > 1 else outs[0]


def _torch_join(modules, how: str):
    import torch
    from torch import nn

    class Join(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.branches = nn.ModuleList(modules)

        def forward(self, x):
            outs = [m(x) for m in self.branches]
            return torch.cat(outs, dim=1) if how == "cat" else sum(outs[1:], outs[0])

    return Join()


# ---------------------------------------------------------------- whole models
def text_of(c: int, h: int, chain: Seq) -> str:
    return f"I({h},{h},{c})-{chain.chain_text()}"


def torch_result(c: int, h: int, chain: Seq) -> tuple[int, tuple[int, ...]]:
    """PyTorch's parameter count and output shape (channels first, no batch)."""
    import torch

    model = chain.torch(c)
    model.eval()
    with torch.no_grad():
        y = model(torch.zeros(1, c, h, h))
    return sum(p.numel() for p in model.parameters()), tuple(y.shape[1:])


def keras_result(c: int, h: int, chain: Seq) -> tuple[int, int, tuple[int, ...]]:
    """Keras's count_params, its non-trainable part, and the output shape (channels last)."""
    import keras
    import numpy as np

    inputs = keras.Input((h, h, c))
    model = keras.Model(inputs, chain.keras(inputs))
    frozen = int(sum(np.prod(w.shape) for w in model.non_trainable_weights))
    return model.count_params(), frozen, tuple(model.output_shape[1:])
