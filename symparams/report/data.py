"""JSON: the result as one object (LANGUAGE.md section 7)."""

from __future__ import annotations

import json
from typing import Any

from ..result import LayerInfo, Network, dtype_bytes
from .text import json_value


def layer_dict(row: LayerInfo) -> dict[str, Any]:
    data: dict[str, Any] = {
        "index": row.index,
        "layer": row.text,
        "kind": row.kind,
        "output_shape": [json_value(x) for x in row.output_shape],
        "params": json_value(row.params),
        "trainable": json_value(row.trainable),
        "non_trainable": json_value(row.non_trainable),
        "weights": json_value(row.weights),
        "biases": json_value(row.biases),
    }
    if row.children:
        data["count"] = json_value(row.count)
        data["children"] = [layer_dict(c) for c in row.children]
    return data


def to_dict(net: Network) -> dict[str, Any]:
    """The object of LANGUAGE.md section 7."""
    return {
        "architecture": net.text,
        "convention": net.convention,
        "mode": net.mode,
        "params": json_value(net.params),
        "trainable": json_value(net.trainable),
        "non_trainable": json_value(net.non_trainable),
        "input_shape": [json_value(x) for x in net.input_shape],
        "output_shape": [json_value(x) for x in net.output_shape],
        "conditions": [str(c) for c in net.conditions],
        "notes": list(net.notes),
        "symbols": sorted(s.name for s in net.free_symbols),
        "layers": [layer_dict(r) for r in net.layers],
    }


def to_json(net: Network) -> str:
    return json.dumps(to_dict(net), indent=2)


def analysis_dict(net: Network, macs: bool, memory: bool, dtype: str) -> dict[str, Any]:
    """MACs and memory for the JSON object: totals, and MACs per layer."""
    dtype_bytes(dtype)
    data: dict[str, Any] = {}
    if macs:
        data["macs"] = json_value(net.macs)
        data["layer_macs"] = [json_value(row.macs) for row in net.layers]
    if memory:
        data["dtype"] = dtype
        data["param_memory"] = json_value(net.memory(dtype))
        data["activation_memory"] = json_value(net.activation_memory(dtype))
    return data
