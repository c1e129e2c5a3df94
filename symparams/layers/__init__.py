"""Layer formulas, registered by name and alias (see `registry`)."""

from . import (
    core,  # noqa: F401  (registers the layers)
    llm,  # noqa: F401  (registers the layers of large language models)
    sequence,  # noqa: F401  (registers the sequence layers)
)
from .registry import REGISTRY, LayerCall, LayerOut, LayerSpec, layer_names, lookup, register

__all__ = ["REGISTRY", "LayerCall", "LayerOut", "LayerSpec", "layer_names", "lookup", "register"]
