"""Layer formulas, registered by name and alias (see `registry`)."""

from . import (
    core,  # noqa: F401  (registers the layers)
    cross,  # noqa: F401  (registers the layers that read a second tensor)
    llm,  # noqa: F401  (registers the layers of large language models)
    rearrange,  # noqa: F401  (registers channel slices, pixel moves, resizing)
    sequence,  # noqa: F401  (registers the sequence layers)
    vision,  # noqa: F401  (registers the layers of issue 14: gates' companions, norms, PReLU)
    windows,  # noqa: F401  (registers window attention, patch merging)
)
from .registry import REGISTRY, LayerCall, LayerOut, LayerSpec, layer_names, lookup, register

__all__ = ["REGISTRY", "LayerCall", "LayerOut", "LayerSpec", "layer_names", "lookup", "register"]
