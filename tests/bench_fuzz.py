"""bench/fuzz.py (the fuzz campaign's generators, corpus and property), loaded once for
the tests that use it: bench/ is not a package."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

_PATH = Path(__file__).resolve().parents[1] / "bench" / "fuzz.py"
_spec = importlib.util.spec_from_file_location("symparams_bench_fuzz", _PATH)
assert _spec is not None and _spec.loader is not None
fuzz = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = fuzz
_spec.loader.exec_module(fuzz)
