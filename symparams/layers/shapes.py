"""Shape rules: output sizes of convolution and pooling axes, and their smallest inputs.

The floors and ceilings they use are kept canonical by `base.expr.floor_div`.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from ..base.expr import AXIS_NAMES, ceil_div, floor_div, is_nonpositive, printed, smallest

if TYPE_CHECKING:
    from sympy import Expr


def conv_out(x: Expr, f: Expr, s: Expr, p: object, d: Any = 1) -> Expr:
    """Output size of a convolution axis (PyTorch's and Keras's rule).

    `p` is "valid", "same" or an integer padding on both sides.
    """
    if p == "same":
        return ceil_div(x, s)
    pad: Any = 0 if p == "valid" else p
    return floor_div(x + 2 * pad - d * (f - 1) - 1, s) + 1


def conv_min_input(f: Expr, p: object, d: Any = 1) -> Expr:
    """The smallest input size for which conv_out is at least 1."""
    if p == "same":
        return 1
    pad: Any = 0 if p == "valid" else p
    return d * (f - 1) + 1 - 2 * pad


def pool_out(x: Expr, f: Expr, s: Expr, p: object, ceil_mode: bool) -> Expr:
    """Output size of a pooling axis; `ceil_mode` follows PyTorch's pooling_output_shape.

    In ceil mode PyTorch drops a last window that would start in the right padding:
    out = min(ceil((x + 2p - f)/s) + 1, ceil((x + p)/s)); the min is needed only when
    p + s > f.
    """
    if p == "same":
        return ceil_div(x, s)
    pad: Any = 0 if p == "valid" else p
    if not ceil_mode:
        return floor_div(x + 2 * pad - f, s) + 1
    out = ceil_div(x + 2 * pad - f, s) + 1
    room = pad + s - f
    if is_nonpositive(room):  # no window can start in the padding
        return out
    last_start_inside = ceil_div(x + pad, s)
    return smallest(out, last_start_inside)


def pool_min_input(f: Expr, s: Expr, p: object, ceil_mode: bool) -> Expr:
    """The smallest input size for which pool_out is at least 1.

    In ceil mode a partial last window counts, so PyTorch accepts an input shorter than
    the kernel: ceil((x + 2p - f)/s) + 1 >= 1 holds for x >= f - 2p - s + 1
    (MaxPool2d(3, 2, ceil_mode=True) maps 2x2 to 1x1).

    >>> pool_min_input(3, 2, "valid", True), pool_min_input(3, 2, 1, False)
    (2, 1)
    """
    if p == "same":
        return 1
    pad: Any = 0 if p == "valid" else p
    if ceil_mode:
        return f - 2 * pad - s + 1
    return f - 2 * pad


def axis_names(rank: int) -> tuple[str, ...]:
    return AXIS_NAMES.get(rank, tuple(f"x{i}" for i in range(rank - 1)) + ("c",))


def ordered_shape(shape: tuple[Any, ...], convention: str) -> tuple[Any, ...]:
    """A channels-last shape in the convention's order: torch puts the channels of
    images and volumes first; vectors and sequences read the same in both."""
    if convention == "torch" and len(shape) >= 3:
        return (shape[-1],) + tuple(shape[:-1])
    return tuple(shape)


def shape_text(
    shape: tuple[Any, ...], convention: str, item: Callable[[Any], str] = printed, sep: str = ", "
) -> str:
    """A channels-last shape as the convention prints it: `[64, h, w]` for torch,
    `(h, w, 64)` for keras (a tuple, with its comma when it has one axis).

    >>> shape_text((28, 28, 1), "torch"), shape_text((10,), "keras")
    ('[1, 28, 28]', '(10,)')
    """
    return _shape_text(tuple(shape), convention, item, sep)


@lru_cache(maxsize=4096)  # the rows of a block share their shapes: a table prints each once
def _shape_text(shape: tuple[Any, ...], convention: str, item: Callable[[Any], str], sep: str) -> str:
    ordered = ordered_shape(shape, convention)
    inner = sep.join(item(x) for x in ordered)
    return f"[{inner}]" if convention == "torch" else f"({inner}{',' if len(ordered) == 1 else ''})"


def channels_first_hint(shape: tuple[Any, ...]) -> str | None:
    """A note for an input that looks written channels-first, PyTorch's order: a first axis
    of 1 to 4 before spatial axes and a last axis of 8 or more (`I(3,224,224)`). Inputs are
    read channels-last in both conventions; None when the input does not look so.

    >>> channels_first_hint((3, 224, 224))
    'I(3,224,224) is read channels-last (h=3, w=224, c=224): for a 3-channel 224×224 image write I(224,224,3)'
    >>> channels_first_hint((224, 224, 3)) is None
    True
    """
    if len(shape) not in (3, 4) or not all(str(x).isdigit() for x in shape):
        return None
    sizes = [int(str(x)) for x in shape]
    if not 1 <= sizes[0] <= 4 or min(sizes[1:]) < 8:
        return None
    names = AXIS_NAMES[len(sizes)]
    written = "I(" + ",".join(map(str, sizes)) + ")"
    read = ", ".join(f"{name}={size}" for name, size in zip(names, sizes, strict=True))
    meant = "I(" + ",".join(map(str, sizes[1:] + sizes[:1])) + ")"
    image = "×".join(map(str, sizes[1:])) + (" image" if len(sizes) == 3 else " volume")
    return f"{written} is read channels-last ({read}): for a {sizes[0]}-channel {image} write {meant}"
