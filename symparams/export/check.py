"""`check`: export a network, build it with the installed framework, run a forward pass,
and compare the framework's counts and shapes with symparams', row by row and in total.

torch builds on the meta device (no memory, so a 70B model costs nothing); Keras builds
under `keras.device("meta")` with the torch back-end. A forward pass the meta device
cannot run (a kernel without a meta implementation) is run on the CPU when the model is
small, else the shapes the framework infers without running are used, and said so.

The exported module is written to a temporary file and imported from there: its source
is the exporter's own code, the architecture's text appears in it only in comments and
docstrings made safe (`common.safe`).
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import sys
import tempfile
import types
from dataclasses import dataclass, field
from typing import Any

from ..layers.shapes import ordered_shape
from ..result import LayerInfo, Network
from .common import ExportError, num

FRAMEWORKS = ("torch", "keras")
EXTRAS = {"torch": "pip install 'symparams[torch]'", "keras": "pip install 'symparams[keras]'"}
CPU_FORWARD_LIMIT = 50_000_000  # parameters: past this a forward pass on the CPU is not tried
# Samples in torch's forward pass: two, since nn.GroupNorm refuses a single value per channel
# and group, which one sample with a group of one channel at one position is (GN(c) on a vector).
TORCH_BATCH = 2


class FrameworkMissing(ExportError):
    headline = "Framework not installed"


@dataclass(frozen=True)
class RowCheck:
    text: str
    params: int
    framework_params: int
    shape: tuple[int, ...]
    framework_shape: tuple[int, ...] | None

    @property
    def agrees(self) -> bool:
        return self.params == self.framework_params and (
            self.framework_shape is None or self.shape == self.framework_shape
        )


@dataclass
class CheckResult:
    framework: str
    rows: list[RowCheck]
    params: int
    framework_params: int
    trainable: int
    framework_trainable: int
    shape: tuple[Any, ...]
    framework_shape: tuple[Any, ...]
    notes: list[str] = field(default_factory=list)

    @property
    def agrees(self) -> bool:
        return (
            all(r.agrees for r in self.rows)
            and self.params == self.framework_params
            and self.trainable == self.framework_trainable
            and self.shape == self.framework_shape
        )

    def first_difference(self) -> str | None:
        for row in self.rows:
            if row.params != row.framework_params:
                return (
                    f"{row.text}: symparams counts {row.params:,}, {self.framework} {row.framework_params:,}"
                )
            if row.framework_shape is not None and row.shape != row.framework_shape:
                return (
                    f"{row.text}: symparams gives shape {row.shape}, {self.framework} {row.framework_shape}"
                )
        if self.params != self.framework_params:
            return f"total: symparams counts {self.params:,}, {self.framework} {self.framework_params:,}"
        if self.trainable != self.framework_trainable:
            return f"trainable: symparams counts {self.trainable:,}, {self.framework} {self.framework_trainable:,}"
        if self.shape != self.framework_shape:
            return f"output: symparams gives shape {self.shape}, {self.framework} {self.framework_shape}"
        return None


def require(framework: str) -> None:
    """Refuse, naming the package to install, when the framework is not importable."""
    if framework not in FRAMEWORKS:
        raise ExportError(f"unknown framework {framework!r}: expected torch or keras")
    package = "torch" if framework == "torch" else "keras"
    if importlib.util.find_spec(package) is None:
        raise FrameworkMissing(f"{framework} is not installed: {EXTRAS[framework]}")
    if framework == "keras":
        os.environ.setdefault("KERAS_BACKEND", "torch")


def load(source: str, name: str) -> types.ModuleType:
    """The exported source as a module, imported from a temporary file."""
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, f"{name}.py")
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(source)
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
        finally:
            sys.modules.pop(name, None)
    return module


def check(net: Network, framework: str = "torch") -> CheckResult:
    """Export `net` for `framework`, build it, and compare (see the module's docstring)."""
    from . import prepared

    require(framework)
    net = prepared(net, framework)
    if framework == "torch":
        return _check_torch(net)
    return _check_keras(net)


def _shape(row: LayerInfo | Network, convention: str) -> tuple[int, ...]:
    return tuple(num(x) for x in ordered_shape(tuple(row.shape), convention))


# ---------------------------------------------------------------- torch
def _check_torch(net: Network) -> CheckResult:
    import torch

    from .torch_code import torch_source

    source, rows = torch_source(net, "Net")
    module = load(source, "symparams_check_torch")
    notes: list[str] = []
    with torch.device("meta"):
        model = module.build()
    shapes: dict[str, tuple[int, ...]] = {}

    def hook(name: str) -> Any:
        def record(_module: Any, _inputs: Any, output: Any) -> None:
            shapes[name] = tuple(output.shape[1:])

        return record

    handles = [getattr(model, attr).register_forward_hook(hook(attr)) for _, attr in rows]
    model.train(False)  # inference mode (nn.Module.eval)
    try:
        with torch.no_grad():
            out_shape = _torch_output_shape(model(*_torch_inputs(module, "meta")))
    except (NotImplementedError, RuntimeError) as err:
        total = sum(p.numel() for p in model.parameters())
        if total > CPU_FORWARD_LIMIT:
            raise ExportError(f"the meta device cannot run this model's forward pass ({err})") from None
        notes.append("the forward pass ran on the CPU (the meta device lacks a kernel it needs)")
        shapes.clear()
        model = module.build()
        for _, attr in rows:
            getattr(model, attr).register_forward_hook(hook(attr))
        model.train(False)  # inference mode (nn.Module.eval)
        with torch.no_grad():
            out_shape = _torch_output_shape(model(*_torch_inputs(module, "cpu")))
    for handle in handles:
        handle.remove()
    seen: set[int] = set()
    checked = []
    for row, attr in rows:
        own = [p for p in getattr(model, attr).parameters() if id(p) not in seen]
        seen |= {id(p) for p in own}
        checked.append(
            RowCheck(
                row.text, num(row.params), sum(p.numel() for p in own), _shape(row, "torch"), shapes.get(attr)
            )
        )
    params = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return CheckResult(
        "torch",
        checked,
        num(net.params),
        params,
        num(net.trainable),
        trainable,
        _net_shape(net, "torch"),
        out_shape,
        notes,
    )


# ---------------------------------------------------------------- keras
def _check_keras(net: Network) -> CheckResult:
    import keras
    import numpy as np

    from .keras_code import keras_source

    source, rows = keras_source(net, "Net")
    module = load(source, "symparams_check_keras")
    notes: list[str] = []
    # The meta device is torch's: under another back-end the model is built for real.
    place = keras.device("meta") if keras.backend.backend() == "torch" else contextlib.nullcontext()
    with place:
        model = module.build()
        try:
            out_shape = _keras_output_shape(model(_keras_inputs(module), training=False))
        except (
            ValueError,
            RuntimeError,
            NotImplementedError,
            TypeError,
        ):  # a kernel the meta device lacks: the shapes Keras infers instead
            notes.append("the forward pass cannot run on the meta device; the shapes are those Keras infers")
            shapes = model.output_shape
            out_shape = tuple(tuple(o[1:]) for o in shapes) if isinstance(shapes, list) else tuple(shapes[1:])
    order = {layer.name: i for i, layer in enumerate(model.layers)}
    seen: set[int] = set()
    checked = []
    for row, prefix in rows:
        own_layers = [
            layer for layer in model.layers if layer.name == prefix or layer.name.startswith(prefix + "_")
        ]
        weights = [w for layer in own_layers for w in layer.weights if id(w) not in seen]
        seen |= {id(w) for w in weights}
        count = int(sum(int(np.prod(w.shape)) for w in weights))
        last = max(own_layers, key=lambda layer: order[layer.name]) if own_layers else None
        shape = tuple(last.output.shape[1:]) if last is not None else None
        checked.append(RowCheck(row.text, num(row.params), count, _shape(row, "keras"), shape))
    trainable = int(sum(int(np.prod(w.shape)) for w in model.trainable_weights))
    return CheckResult(
        "keras",
        checked,
        num(net.params),
        int(model.count_params()),
        num(net.trainable),
        trainable,
        _net_shape(net, "keras"),
        out_shape,
        notes,
    )


def check_text(result: CheckResult) -> str:
    """The comparison as a table: each row of the main chain, the total, and the verdict."""
    fw = result.framework
    header = ("layer", "params", f"{fw} params", "shape", f"{fw} shape", "")
    lines: list[tuple[str, ...]] = [header]
    for row in result.rows:
        text = row.text if len(row.text) <= 40 else row.text[:37] + "..."
        shown = "-" if row.framework_shape is None else _shape_text(row.framework_shape)
        lines.append(
            (
                text,
                f"{row.params:,}",
                f"{row.framework_params:,}",
                _shape_text(row.shape),
                shown,
                "" if row.agrees else "<-",
            )
        )
    lines.append(
        (
            "total",
            f"{result.params:,}",
            f"{result.framework_params:,}",
            _shape_text(result.shape),
            _shape_text(result.framework_shape),
            "",
        )
    )
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    out = [
        "  ".join(
            cell.ljust(w) if i in (0, 3, 4) else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(line, widths))
        ).rstrip()
        for line in lines
    ]
    out.append(f"trainable: {result.trainable:,} (symparams), {result.framework_trainable:,} ({fw})")
    out += [f"note: {note}" for note in result.notes]
    difference = result.first_difference()
    out.append(f"{fw}: agree" if difference is None else f"{fw}: differ at {difference}")
    return "\n".join(out)


def _shape_text(shape: tuple[Any, ...]) -> str:
    if shape and isinstance(shape[0], tuple):  # several outputs
        return "[" + ", ".join(_shape_text(s) for s in shape) + "]"
    return "(" + ", ".join(str(x) for x in shape) + ")"


# ---------------------------------------------------------------- graphs: several inputs and outputs
def _net_shape(net: Network, convention: str) -> tuple[Any, ...]:
    """The output's shape, or a tuple of the outputs' shapes when a graph returns several."""
    if len(net.outputs) > 1:
        return tuple(tuple(num(x) for x in shape) for shape in net.output_shapes)
    return _shape(net, convention)


def _torch_inputs(module: types.ModuleType, device: str) -> list[Any]:
    """Zeros for each input of the exported module (INPUT_SHAPE, or INPUT_SHAPES of a graph)."""
    import torch

    shapes = getattr(module, "INPUT_SHAPES", None) or (module.INPUT_SHAPE,)
    dtypes = getattr(module, "INPUT_DTYPES", None) or (module.INPUT_DTYPE,)
    return [torch.zeros((TORCH_BATCH,) + tuple(s), dtype=d, device=device) for s, d in zip(shapes, dtypes)]


def _torch_output_shape(out: Any) -> tuple[Any, ...]:
    if isinstance(out, (tuple, list)):
        return tuple(tuple(o.shape[1:]) for o in out)
    return tuple(out.shape[1:])


def _keras_inputs(module: types.ModuleType) -> Any:
    """Zeros for the exported model's input, or a list of them for a graph's several inputs."""
    import keras

    shapes = getattr(module, "INPUT_SHAPES", None)
    if shapes is None:
        return keras.ops.zeros((1,) + tuple(module.INPUT_SHAPE), dtype=module.INPUT_DTYPE)
    return [keras.ops.zeros((1,) + tuple(s), dtype=d) for s, d in zip(shapes, module.INPUT_DTYPES)]


def _keras_output_shape(out: Any) -> tuple[Any, ...]:
    if isinstance(out, (tuple, list)):
        return tuple(tuple(o.shape[1:]) for o in out)
    return tuple(out.shape[1:])
