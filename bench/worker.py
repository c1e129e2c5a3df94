"""One framework measurement in a fresh process: `python bench/worker.py TOOL MODEL`.

Builds the model the way a user of that tool would to learn its parameter count, and
prints one JSON object `{"params": N}` (for Keras also trainable and non-trainable).
bench/run.py times the whole process, import of the framework included, because that
is what a user waits for.
"""

from __future__ import annotations

import json
import os
import sys

os.environ.setdefault("KERAS_BACKEND", "torch")


def _torch_count(model_key: str, device: str) -> dict[str, int]:
    import torch
    from models import MODELS

    with torch.device(device):
        model = MODELS[model_key].torch()
    # parameters() yields a tied weight once: the count LANGUAGE.md section 6 calls PyTorch's.
    return {"params": sum(p.numel() for p in model.parameters())}


def _torchinfo_count(model_key: str, device: str) -> dict[str, int]:
    import torch
    from models import MODELS
    from torchinfo import summary

    spec = MODELS[model_key]
    with torch.device(device):
        model = spec.torch()
    stats = summary(model, input_size=spec.torch_input, dtypes=[torch.long] if spec.tokens else None,
                    device=device, verbose=0)
    # torchinfo's "Total params" counts a tied weight once per module that holds it.
    return {"params": int(stats.total_params), "trainable": int(stats.trainable_params)}


def _keras_count(model_key: str) -> dict[str, int]:
    from models import MODELS

    spec = MODELS[model_key]
    assert spec.keras is not None, f"{model_key} has no Keras model"
    model = spec.keras()
    trainable = sum(_size(w) for w in model.trainable_weights)
    return {"params": int(model.count_params()), "trainable": trainable}


def _size(weight: object) -> int:
    size = 1
    for axis in weight.shape:  # type: ignore[attr-defined]
        size *= int(axis)
    return size


TOOLS = {
    "torch-cpu": lambda key: _torch_count(key, "cpu"),
    "torch-meta": lambda key: _torch_count(key, "meta"),
    "torchinfo-cpu": lambda key: _torchinfo_count(key, "cpu"),
    "torchinfo-meta": lambda key: _torchinfo_count(key, "meta"),
    "keras": _keras_count,
}


def main(argv: list[str]) -> int:
    tool, key = argv
    print(json.dumps(TOOLS[tool](key)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
