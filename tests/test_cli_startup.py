"""The command line's start-up (symparams/cli/startup.py): sympy's tensor module, which
Add.flatten imports on every call, is a stand-in in a CLI process; the output is the
same as with the real module, and anything else asking for the module gets the real one."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ARCH = str(ROOT / "bench" / "backbones" / "densenet121.arch")


def _run(code: str, *args: str) -> dict:
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=env,
                          timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


CLI = r"""
import contextlib, io, json, sys
defer = sys.argv[1] == "defer"
if not defer:
    import symparams.cli.startup as startup
    startup.defer_sympy_tensor = lambda: None
from symparams.cli import main
outputs = []
for extra in ([], ["--json"], ["--ideal"], ["--latex"], ["--macs", "--memory"]):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main([sys.argv[2], *extra])
    outputs.append([code, out.getvalue()])
module = sys.modules.get("sympy.tensor.tensor")
print(json.dumps({"outputs": outputs, "module": type(module).__name__,
                  "combinatorics": "sympy.combinatorics" in sys.modules}))
"""


def test_cli_output_is_the_same_without_sympys_tensor_module():
    deferred, real = _run(CLI, "defer", ARCH), _run(CLI, "real", ARCH)
    assert deferred["outputs"] == real["outputs"]
    assert all(code == 0 for code, _ in deferred["outputs"])
    assert "Total params: 6,953,856" in deferred["outputs"][0][1]
    # The stand-in answered Add.flatten every time: the real module (and combinatorics) never loaded.
    assert deferred["module"] == "DeferredTensorModule" and not deferred["combinatorics"]
    assert real["module"] == "module" and real["combinatorics"]


def test_any_other_use_gets_the_real_module():
    code = r"""
import json, sys
from symparams.cli.startup import defer_sympy_tensor
defer_sympy_tensor()
import sympy
stand_in = sys.modules["sympy.tensor.tensor"]
x = sympy.Symbol("x") + 1  # Add.flatten asks the stand-in
from sympy.tensor.tensor import TensorIndexType, tensor_heads, tensor_indices
L = TensorIndexType("L")
i = tensor_indices("i", L)
A, B = tensor_heads("A,B", [L])
total = A(i) + B(i)  # a real tensor sum, through Add with the real classes
import sympy.tensor.tensor as real
print(json.dumps({"replaced": sys.modules["sympy.tensor.tensor"] is real and real is not stand_in,
                  "tensor": isinstance(total, real.TensExpr), "x": str(x)}))
"""
    assert _run(code) == {"replaced": True, "tensor": True, "x": "x + 1"}


def test_the_python_api_leaves_sympy_alone():
    code = r"""
import json, sys
import symparams
symparams.parse("I(h,w,3)-C(8,3)-P(2)")
print(json.dumps({"module": type(sys.modules.get("sympy.tensor.tensor")).__name__}))
"""
    assert _run(code) == {"module": "module"}
