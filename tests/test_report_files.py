"""Renderers against stored output (tests/expected/), read by a person when written.

A change in a report shows up here as a diff to review; SYMPARAMS_REGEN=1 rewrites the
files after such a review.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import symparams
from symparams.render import markdown
from symparams.report.latex import latex_table

EXPECTED = Path(__file__).parent / "expected"
LENET_SYMBOLIC = "I-C(32,5)-P(2)-C(32,3)-P(2)-H(256)-O(10)"
BRANCHED = "I(32,32,3)-[C(16,1) | C(16,3,p=1) | (C(8,1)-C(8,5,p=2))]-[C(40,3,p=1)-BN + id]-GAP-O(10)"

CASES = [
    ("lenet_symbolic.tex", lambda: latex_table(symparams.parse(LENET_SYMBOLIC))),
    ("lenet_symbolic_ideal.tex", lambda: latex_table(symparams.parse(LENET_SYMBOLIC, mode="ideal"))),
    ("branched_keras.md", lambda: markdown(symparams.parse(BRANCHED, convention="keras"))),
]


@pytest.mark.parametrize("name, render", CASES, ids=[c[0] for c in CASES])
def test_report_matches_stored_file(name, render):
    got = render() + "\n"
    path = EXPECTED / name
    if os.environ.get("SYMPARAMS_REGEN") == "1":
        path.write_text(got, encoding="utf-8")
    assert got == path.read_text(encoding="utf-8")
