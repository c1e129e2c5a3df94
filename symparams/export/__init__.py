"""Framework code from a network: `to_torch(net)` and `to_keras(net)` return the source
of a self-contained Python module whose `build()` makes the model (README, "Export").

Each framework's exporter is a registry keyed by the layer's short name (`TORCH`,
`KERAS`), like the layer registry: a new layer adds one entry to each.
"""

from __future__ import annotations

from ..building import network
from ..result import Network
from .common import ExportError, module_name, numeric_network

__all__ = ["ExportError", "to_keras", "to_torch"]


def prepared(net: Network, convention: str) -> Network:
    """The network under `convention`, exact mode, with its values; refused with the names
    of its free symbols when some are left."""
    if net.convention != convention or net.mode != "exact":
        net = network(net.text, convention, "exact", dict(net.values))
    numeric_network(net)
    return net


def to_torch(net: Network, name: str | None = None) -> str:
    """The source of a PyTorch module for `net`: an nn.Module class named `name` (default
    `Net`) and `build()` returning an instance.

    >>> import symparams
    >>> "nn.Conv2d(1, 8, 3)" in to_torch(symparams.parse("I(28,28,1)-C(8,3)-relu-F-O(10)"))
    True
    """
    from .torch_code import torch_source

    return torch_source(prepared(net, "torch"), name or "Net")[0]


def to_keras(net: Network, name: str | None = None) -> str:
    """The source of a Keras 3 module for `net`: `build()` returns a keras.Model (the
    functional API) counting as symparams' keras convention does.

    >>> import symparams
    >>> "layers.Conv2D(8, 3" in to_keras(symparams.parse("I(28,28,1)-C(8,3)-relu-F-O(10)"))
    True
    """
    from .keras_code import keras_source

    return keras_source(prepared(net, "keras"), name or "Net")[0]


def class_name(path: str | None) -> str:
    return module_name(path)
