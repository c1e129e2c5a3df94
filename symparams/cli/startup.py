"""Start-up of the command line: what a one-shot process need not load.

sympy 1.14's `Add.flatten` runs `from sympy.tensor.tensor import TensExpr, TensAdd` on
every call, to ask whether a term is a tensor expression. `import sympy` does not load
that module, so the first sum a symbolic network builds imports it, and with it
`sympy.combinatorics`: about 170 M instructions, an eighth of `import sympy` itself,
spent to learn that no term is a tensor.

A command-line process builds no tensor expression, so it puts a stand-in module in
`sys.modules` first: the two names `Add.flatten` asks for are classes nothing is an
instance of (so every `isinstance` test answers False, as it does with the real
classes), and any other name loads the real module and puts it in the stand-in's place.
The Python API never does this: a program that imports symparams may use sympy's tensors.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import Any

TENSOR_MODULE = "sympy.tensor.tensor"


class _NoTensor:
    """No object is one: the answer `isinstance(term, TensExpr)` gives for sympy's
    own expressions."""


class DeferredTensorModule(types.ModuleType):
    """`sympy.tensor.tensor` until something other than Add.flatten's question needs it."""

    TensExpr = type("TensExpr", (_NoTensor,), {})
    TensAdd = type("TensAdd", (_NoTensor,), {})

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):  # the import system asks for __path__ and the like: a plain module has none
            raise AttributeError(name)
        return getattr(load_real_tensor_module(), name)


def load_real_tensor_module() -> types.ModuleType:
    """The real sympy.tensor.tensor, in the stand-in's place in sys.modules."""
    if isinstance(sys.modules.get(TENSOR_MODULE), DeferredTensorModule):
        del sys.modules[TENSOR_MODULE]
    return importlib.import_module(TENSOR_MODULE)


def defer_sympy_tensor() -> None:
    """Put the stand-in in place, unless the real module is loaded already."""
    if TENSOR_MODULE not in sys.modules:
        sys.modules[TENSOR_MODULE] = DeferredTensorModule(TENSOR_MODULE)
