"""JSON: the result as one object (LANGUAGE.md section 7)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..layers.shapes import ordered_shape
from ..result import LayerInfo, Network, dtype_name
from .text import condition_text, json_value

if TYPE_CHECKING:
    from ..analysis.compute import Ask


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
    if row.inactive != 0:
        data["active_params"] = json_value(row.active_params)
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
        "active_params": json_value(net.active_params),
        "input_shape": _shapes(net.input_shapes, len(net.input_shapes) > 1),
        "output_shape": _shapes(net.output_shapes, len(net.outputs) > 1),
        # As people write them (`k = c`); `conditions_sympy` holds what sympy reads back.
        "conditions": [condition_text(c) for c in net.condition_details],
        "conditions_sympy": [str(c) for c in net.conditions],
        "notes": list(net.notes),
        "symbols": sorted(s.name for s in net.free_symbols),
        "layers": [layer_dict(r) for r in net.layers],
    } | (graph_dict(net) if net.is_graph else {})


def graph_dict(net: Network) -> dict[str, Any]:
    """A graph's named tensors (their rows' indices, shape and subtotal) and its outputs."""
    tensors = {}
    for t in net.tensors:
        tensors[t.name] = {
            "layers": [row.index for row in net.layers[t.first : t.stop]],
            "output_shape": [json_value(x) for x in ordered_shape(net.tensor_shape(t.name), net.convention)],
            "params": json_value(net.subtotal(t.name)),
            "trainable": json_value(net.subtotal(t.name, "trainable")),
            "non_trainable": json_value(net.subtotal(t.name, "non_trainable")),
        }
    return {"tensors": tensors, "outputs": list(net.outputs)}


def _shapes(shapes: tuple[tuple[Any, ...], ...], several: bool) -> list[Any]:
    """One shape as a list of axes; several (a graph's) as a list of such lists."""
    lists = [[json_value(x) for x in shape] for shape in shapes]
    return lists if several else lists[0]


def to_json(net: Network) -> str:
    return json_text(to_dict(net))


def json_text(data: dict[str, Any]) -> str:
    """The JSON the command line prints for `data`: byte for byte `json.dumps(data,
    indent=2)`, written here for the values a result holds (str keys; str, int, finite
    float, bool, None, list, dict), as json's indenting encoder is pure Python and a
    DenseNet-121's 330 KB took it 15 ms, three times this; json.dumps writes the rest."""
    import json  # here, not on top: the table and Markdown, which import this module too, need no JSON
    from json.encoder import encode_basestring_ascii

    try:
        return "".join(_indented(data, "\n", [], encode_basestring_ascii))
    except _NotPlain:
        return json.dumps(data, indent=2)


_WORDS = {True: "true", False: "false", None: "null"}


class _NotPlain(Exception):
    """A value json_text leaves to json.dumps."""


def _indented(value: Any, pad: str, out: list[str], quoted: Callable[[str], str]) -> list[str]:
    # json.encoder._make_iterencode with indent=2: ", " between items becomes "," and a new
    # line, ": " after keys, "[]" and "{}" when empty, and ensure_ascii's escapes.
    kind = type(value)
    if kind is str:
        out.append(quoted(value))
    elif kind is int:
        out.append(int.__repr__(value))
    elif kind is list or kind is dict:
        if not value:
            out.append("[]" if kind is list else "{}")
            return out
        inner = pad + "  "
        sep = ("[" if kind is list else "{") + inner
        for item in value if kind is list else value.items():
            out.append(sep)
            if kind is dict:
                key, item = item
                if type(key) is not str:
                    raise _NotPlain
                out.append(quoted(key) + ": ")
            _indented(item, inner, out, quoted)
            sep = "," + inner
        out.append(pad + ("]" if kind is list else "}"))
    elif value is True or value is False or value is None:
        out.append(_WORDS[value])
    elif kind is float and math.isfinite(value):
        out.append(float.__repr__(value))
    else:
        raise _NotPlain
    return out


def analysis_dict(
    net: Network, macs: bool, memory: bool, dtype: str, ask: Ask | None = None
) -> dict[str, Any]:
    """MACs, FLOPs, KV cache, training memory and memory for the JSON object: totals, and
    MACs per layer."""
    from ..analysis.compute import Ask, figures  # as in report.text.analysis_lines

    dtype_name(dtype)
    data: dict[str, Any] = {}
    if macs:
        data["layer_macs"] = [json_value(row.macs) for row in net.layers]
    for key, value in figures(net, ask or Ask(macs=macs, dtype=dtype)).items():
        if key == "train_memory":
            data[key] = {part: json_value(v) for part, v in value.items()}
        elif key == "train_settings":
            data[key] = value
        else:
            data[key] = json_value(value)
    if memory or (ask is not None and (ask.kv_cache or ask.train)):
        data["dtype"] = dtype
    if memory:
        data["param_memory"] = json_value(net.memory(dtype))
        data["activation_memory"] = json_value(net.activation_memory(dtype))
    return data
