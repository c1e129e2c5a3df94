"""Layer formulas, registered by name and alias (see `registry`)."""

from . import (
    core,  # noqa: F401  (registers the layers)
    sequence,  # noqa: F401  (registers the sequence layers)
    vision,  # noqa: F401  (registers the layers of issue 14: gates' companions, norms, PReLU)
)
from .registry import REGISTRY, LayerCall, LayerOut, LayerSpec, layer_names, lookup, register

__all__ = ["REGISTRY", "LayerCall", "LayerOut", "LayerSpec", "layer_names", "lookup", "register"]
