"""What both exporters share: numeric rows, names, literals, and the refusal of what
cannot be exported.

An exporter walks the rows of a `Network` (result.py): a layer row carries its short
name (`row.name`, `C`) and its bound arguments (`row.args`); a block row is a
composition form (`row.kind` Sequential, Repeat, Concat, Add, Parallel), a definition's
use (`row.name` the definition) or a layer built from layers (`TB`), with its children.
"""

from __future__ import annotations

import keyword
import re
import textwrap
from collections.abc import Callable, Iterable
from dataclasses import replace
from fractions import Fraction
from typing import Any, TypeVar

from ..base.errors import SymparamsError
from ..base.expr import free_symbols, is_number
from ..layers.registry import lookup
from ..result import LayerInfo, Network

FORMS = ("Sequential", "Repeat", "Concat", "Add", "Parallel", "Multiply")
ACTIVATIONS = ("relu", "relu6", "gelu", "silu", "tanh", "sigmoid", "softmax", "elu", "id")

# The stem of a layer's attribute or layer name in the exported code.
STEMS = {
    "C": "conv",
    "T": "deconv",
    "DW": "depthwise",
    "SC": "separable",
    "P": "maxpool",
    "A": "avgpool",
    "GAP": "gap",
    "GMP": "gmp",
    "AAP": "avgpool",
    "AMP": "maxpool",
    "SEQ": "tokens",
    "CLS": "cls",
    "FIRST": "first",
    "F": "flatten",
    "H": "dense",
    "O": "out",
    "D": "dropout",
    "BN": "bn",
    "LN": "ln",
    "RMS": "rms",
    "Z": "pad",
    "E": "embed",
    "PE": "pos",
    "R": "rnn",
    "L": "lstm",
    "G": "gru",
    "MHA": "attn",
    "SwiGLU": "swiglu",
    "TB": "block",
}
# The layers of the modern vision models (issue 14) and the gate `[A * B]` (issue 18, part A).
STEMS.update(
    {
        "DP": "droppath",
        "GN": "gn",
        "IN": "instnorm",
        "LS": "scale",
        "NORM": "normalize",
        "PReLU": "prelu",
        "RESCALE": "rescale",
    }
)


class ExportError(SymparamsError):
    headline = "Cannot export"


def flat(value: Any) -> list[Any]:
    """An argument's values, nested tuples (Z's pairs) flattened."""
    if isinstance(value, tuple):
        return [item for part in value for item in flat(part)]
    return [value]


def numeric_network(net: Network) -> None:
    """Refuse a network with free symbols left, naming them."""
    names: set[str] = {s.name for s in net.free_symbols}
    for row in net.walk():
        for value in row.args.values():
            for item in flat(value):
                if item is not None and not isinstance(item, bool):
                    names |= {s.name for s in free_symbols(item)}
        names |= {s.name for s in free_symbols(row.count)}
    if names:
        listed = ", ".join(sorted(names))
        raise ExportError(
            f"the network has free symbols ({listed}); framework code needs numbers: "
            f"give them values, e.g. --subs {','.join(f'{n}=...' for n in sorted(names))}"
        )


def window_note(row: LayerInfo) -> str | None:
    """The comment of an attention row with a sliding window, or None: symparams counts
    a window in the key/value cache only (README, MHA), so the exported layer has the same
    weights and attends to every position, which the line says."""
    window = row.args.get("window") if row.args else None
    if window is None:
        return None
    return (
        f"window={num(window)} is counted in the key/value cache only: this layer attends to every position"
    )


def num(value: Any) -> int:
    """A numeric size as a Python int."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if is_number(value):
        return int(value)
    raise ExportError(f"expected a number, got {value}")


def ints(values: Iterable[Any]) -> tuple[int, ...]:
    return tuple(num(v) for v in values)


def literal(value: Any) -> str:
    """A value as Python source: 3, (3, 1), True, 0.5, 'same'; a tuple of equal values as one."""
    if isinstance(value, bool):
        return repr(value)
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, tuple):
        items = tuple(literal(v) for v in value)
        if items and all(i == items[0] for i in items):
            return items[0]
        return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, Fraction) or (
        hasattr(value, "is_Rational") and not getattr(value, "is_Integer", True)
    ):
        return repr(float(value))
    return str(num(value))


def float_source(value: Any) -> str:
    """A number of the text as Python source of a float: a decimal as one (0.2, -1.0), any
    other fraction as a quotient (`1 / 255`)."""
    if isinstance(value, float):
        return repr(value)
    exact = Fraction(str(value))
    d = exact.denominator
    while d % 2 == 0 or d % 5 == 0:
        d //= 2 if d % 2 == 0 else 5
    if d == 1:  # a decimal: 0.5, -1.0
        return repr(float(exact))
    return f"{exact.numerator} / {exact.denominator}"


def weight_dims(args: Any) -> tuple[int, ...]:
    """W's shape (d1, d2, d3, d4) without its trailing ones: W(1,16,1,1) is (1, 16)."""
    dims = tuple(num(args[d]) for d in ("d1", "d2", "d3", "d4"))
    while len(dims) > 1 and dims[-1] == 1:
        dims = dims[:-1]
    return dims


def indented(text: str) -> list[str]:
    """The lines of `text`, each indented by four spaces (a docstring's body)."""
    return ["    " + line for line in text.split("\n")]


def rate(value: Any) -> str:
    return repr(float(Fraction(str(value)))) if not isinstance(value, float) else repr(value)


def identifier(text: str) -> str:
    """A Python identifier from a name of the text (`bottleneck` stays, `class` becomes `class_`)."""
    name = re.sub(r"\W", "_", text)
    if not name or name[0].isdigit():
        name = "_" + name
    return name + "_" if keyword.iskeyword(name) else name


def camel(text: str) -> str:
    """A class name from a definition's name: `bottleneck` → `Bottleneck`, `conv_bn` → `ConvBn`."""
    parts = [p for p in re.split(r"[\W_]+", text) if p]
    name = "".join(p[0].upper() + p[1:] for p in parts) or "Block"
    return "_" + name if name[0].isdigit() else name


def block_base(row: LayerInfo) -> str:
    """The name of the class or function of a definition's use (`bottleneck`), or of a
    layer made of layers (its kind: `TransformerBlock`)."""
    if row.name and lookup(row.name) is not None:
        return row.kind
    return row.name or row.kind


def snake(text: str) -> str:
    """`TransformerBlock` → `transformer_block`; a definition's name stays as written."""
    return identifier(re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", text).lower())


def stem(row: LayerInfo) -> str:
    """The stem of a row's name in the code: `conv`, `bottleneck`, `residual`, ..."""
    if row.kind in FORMS and row.name in ("", None):
        if row.kind == "Add":
            return "residual" if any(c.name == "id" for c in row.children) else "sum"
        if row.kind == "Concat":
            return "concat"
        if row.kind == "Multiply":  # [id * gate] (squeeze-excitation), or a product of branches
            return "gate" if any(c.name == "id" for c in row.children) else "product"
        if row.kind == "Parallel":
            return "parallel"
        if row.kind == "Repeat":
            inner = stem(row.children[0]) if row.children else "block"
            return inner if inner.endswith("s") else inner + "s"
        return "seq"
    if row.name in STEMS:
        return STEMS[row.name]
    if row.name in ACTIVATIONS:
        return "identity" if row.name == "id" else row.name
    return identifier((row.name or row.kind).lower())


def variant_suffix(row: LayerInfo) -> str:
    """The numbers of a use (`bottleneck(128)` → `128`), to tell classes of one definition apart."""
    numbers = re.findall(
        r"(?<![A-Za-z_0-9])\d+", row.text
    )  # not the digits of a name: cell(h3, q3, 44) -> 44
    return "_".join(numbers)


class Names:
    """Attribute or layer names, numbered per stem (`conv1`, `conv2`), unique in one scope."""

    def __init__(self) -> None:
        self.used: dict[str, int] = {}

    def new(self, base: str) -> str:
        self.used[base] = self.used.get(base, 0) + 1
        return f"{base}{self.used[base]}"


def repeat_applications(row: LayerInfo) -> list[tuple[list[LayerInfo], int]]:
    """A Repeat row as (rows of one application, how many times) in order: a block that
    keeps its shape is its children run `count` times; one that changes it lists each
    application (the last maybe with a count of its own)."""
    if not row.args.get("unrolled"):
        return [(list(row.children), num(row.count))]
    applications = []
    for child in row.children:
        k = num(child.count)
        if k != 1 and child.kind in ("Repeat", "Parallel") and not child.name:
            raise ExportError(
                f"{row.text}: a repetition of a repetition that changes the shape; write it as a group"
            )
        applications.append(([single(child)], k))
    return applications


def single(row: LayerInfo) -> LayerInfo:
    """The row of one run of a row repeated `count` times by an unrolled repetition."""
    k = num(row.count)
    if k == 1:
        return row
    return replace(
        row, weights=row.weights / k, biases=row.biases / k, non_trainable=row.non_trainable / k, count=1
    )


def zero_pad_pairs(row: LayerInfo, rank: int) -> list[tuple[int, int]]:
    """Z's padding as (before, after) per spatial axis, from `p` (the text's order) or `pad`
    (torch's: last axis first)."""
    a = row.args
    if a["p"] is not None:
        return [(num(b), num(e)) for b, e in a["p"]]
    pad = ints(a["pad"])
    given = [(pad[i], pad[i + 1]) for i in range(0, len(pad), 2)][::-1]
    return [(0, 0)] * (rank - len(given)) + given


def safe(text: str) -> str:
    """Text of the architecture made safe for a comment or a docstring of the exported code:
    one line, no quotes or backslashes that could end the string."""
    text = " ".join(text.split())
    text = text.replace("\\", "/").replace('"', "'")
    return "".join(ch if ch.isprintable() else " " for ch in text)


def program_text(text: str, max_lines: int = 40) -> str:
    """The architecture without its comments, line by line, for the module's docstring."""
    lines = [safe(re.sub(r"#.*", "", line)).rstrip() for line in text.splitlines()]
    lines = [line if not line.startswith("-") else "  " + line for line in lines if line.strip()]
    if len(lines) > max_lines:
        lines = lines[: max_lines - 1] + ["..."]
    return "\n".join(lines)


def describe(row: LayerInfo) -> str:
    """The comment of a row: its text and parameter count (`C(64,3,p=1): 1,792 params`)."""
    text = safe(row.text)
    if len(text) > 60:
        text = text[:57] + "..."
    params = num(row.params)
    return f"{text}: {params:,} params" if params else text


def fit(line: str, width: int = 110) -> str:
    """A line of code with its comment, the comment put on a line of its own before the code
    when both do not fit in `width`."""
    code, sep, comment = line.partition("  # ")
    if not sep or len(line) <= width or code.lstrip().startswith("#"):
        return line
    indent = code[: len(code) - len(code.lstrip())]
    wrapped = textwrap.wrap(comment, width - len(indent) - 2, break_on_hyphens=False, break_long_words=False)
    return "\n".join(f"{indent}# {part}" for part in wrapped) + f"\n{code}"


def module_name(path: str | None) -> str:
    """The class name of an exported network: the file's stem (`resnet50.arch` → `Resnet50`),
    or `Net`."""
    if not path:
        return "Net"
    base = re.sub(r"\.arch\Z", "", path.replace("\\", "/").rsplit("/", 1)[-1])
    name = camel(base)
    return name if name.isidentifier() else "Net"


Entry = TypeVar("Entry", bound=Callable[..., Any])


def registrar(table: dict[str, Entry]) -> Callable[..., Callable[[Entry], Entry]]:
    """A decorator that registers an exporter in `table` under layers' short names, as
    the layer registry registers formulas: `@torch_layer("P", "A")`."""

    def register(*names: str) -> Callable[[Entry], Entry]:
        def decorate(fn: Entry) -> Entry:
            for name in names:
                table[name] = fn
            return fn

        return decorate

    return register


def tuple_text(values: tuple[int, ...]) -> str:
    """A tuple of ints as Python source, with its comma when it has one item: `(3,)`."""
    return "(" + ", ".join(str(v) for v in values) + ("," if len(values) == 1 else "") + ")"


def unique_name(name: str, taken: set[str]) -> str:
    """`name`, or `name_2`, `name_3`, ... the first not in `taken` (which it joins)."""
    candidate, k = name, 2
    while candidate in taken:
        candidate, k = f"{name}_{k}", k + 1
    taken.add(candidate)
    return candidate


# ---------------------------------------------------------------- graphs (README "Graphs")
def tensor_reads(row: LayerInfo) -> tuple[str, ...]:
    """The named tensors of a graph that a row (or a row inside it) reads, in order: a
    branch that starts from a tensor (a row of kind Tensor) and a cross-attention's memory."""
    found: list[str] = []
    for r in row.walk():
        name = ""
        if r.kind == "Tensor":
            name = r.args.get("tensor", "")
        elif "memory" in r.args:
            name = getattr(r.args["memory"], "name", "")
        if name and name not in found:
            found.append(name)
    return tuple(found)


def embedding_ties(net: Network, tables: list[LayerInfo]) -> list[tuple[LayerInfo, LayerInfo]]:
    """(E row with tied=true, the earlier E(v, d) whose table it reads) for every tied
    embedding, as the layer's rule finds it: the first E of the same vocabulary and width."""
    ties = []
    for row in net.walk():
        if row.name == "E" and row.args.get("tied"):
            v, d = num(row.args["v"]), num(row.args["d"])
            match = [e for e in tables if num(e.args["v"]) == v and num(e.args["d"]) == d]
            if not match:
                raise ExportError(f"{row.text}: no embedding to tie to")
            ties.append((row, match[0]))
    return ties


def graph_inputs(net: Network) -> list[tuple[LayerInfo, bool]]:
    """The inputs of a network (several for a graph), each with whether it takes token ids
    (a vector read by an embedding on its line) rather than floats."""
    if not net.is_graph:
        shape = net.layers[0].shape
        return [(net.layers[0], len(shape) == 1 and any(r.name == "E" for r in net.walk()))]
    found = []
    for t in net.tensors:
        rows = net.layers[t.first : t.stop]
        for row in rows:
            if row.kind == "Input":
                embedded = any(r.name == "E" for top in rows for r in top.walk())
                found.append((row, len(row.shape) == 1 and (embedded or _embedded_later(net, t.name))))
    return found


def _embedded_later(net: Network, name: str) -> bool:
    """True when a line that starts from the tensor `name` embeds it first (`x := I(4)` and
    then `y := x-E(10, 4)`)."""
    for t in net.tensors:
        rows = net.layers[t.first : t.stop]
        if len(rows) > 1 and rows[0].kind == "Tensor" and rows[0].args.get("tensor") == name:
            first = rows[1]
            while first.children:
                first = first.children[0]
            if first.name == "E":
                return True
    return False


class _Global(Exception):
    pass


def local_names(row: LayerInfo) -> dict[str, str]:
    """For the use of a definition that reads the graph's tensors only as its parameters
    (`normal(h3, q3, 44)` whose body starts branches from `h` and `q`), the parameter's
    name of each tensor it reads ({"h3": "h", "q3": "q"}), so that its class or function
    is one for every use; empty when it reads some other way (a cross-attention's memory,
    a definition inside that reads too) or the names do not tell them apart."""
    if not row.children or row.kind in FORMS or lookup(row.name) is not None:
        return {}
    found: dict[str, str] = {}

    def visit(r: LayerInfo) -> None:
        if r.kind == "Tensor":
            name = r.args["tensor"]
            local = r.text.split(" = ", 1)[0] if " = " in r.text else name
            if found.setdefault(name, local) != local:
                raise _Global
            return
        if "memory" in r.args:
            raise _Global
        if r.children and r.kind not in FORMS and lookup(r.name) is None and tensor_reads(r):
            raise _Global  # a definition inside that reads tensors
        for child in r.children:
            visit(child)

    try:
        for child in row.children:
            visit(child)
    except _Global:
        return {}
    locals_ = list(found.values())
    if len(set(locals_)) != len(locals_) or not all(n.isidentifier() for n in locals_):
        return {}
    return found if any(k != v for k, v in found.items()) else {}
