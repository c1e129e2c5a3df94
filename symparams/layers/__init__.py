"""Layer formulas, registered by name and alias (see `registry`)."""

from . import (
    core,  # noqa: F401  (registers the layers)
    cross,  # noqa: F401  (registers the layers that read a second tensor)
    sequence,  # noqa: F401  (registers the sequence layers)
)
from .registry import REGISTRY, LayerCall, LayerOut, LayerSpec, layer_names, lookup, register

__all__ = ["REGISTRY", "LayerCall", "LayerOut", "LayerSpec", "layer_names", "lookup", "register"]
