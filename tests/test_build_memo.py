"""The builder remembers a layer formula's result per call (builder.formula_key) and a
layer node's bound arguments (Builder.bound), and formulas leave MACs and saved
activations for later (expr.Later), ideal mode reading what those are made of
(Later.sources). A network must come out the same, row for row and in every report
(ideal mode's conditions too), with all three turned off."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import symparams
from symparams.base.errors import SymparamsError
from symparams.building import builder as B
from symparams.building.binding import bind
from symparams.layers import core
from symparams.report.data import to_json
from symparams.report.text import table

UNITS = [
    "BN", "relu", "D(0.5)", "P(2)", "A(3,s=1,p=1)", "C(8,3,p=1)", "C(8,1,bias=false)",
    "C(k,3,s=2,p=1)", "[id | C(4,3,p=1)]", "[C(8,1)-relu | A(3,s=1,p=1)]", "(BN-relu-C(8,3,p=1))*3",
    "unit", "unit*2", "cv(8,1)", "cv(k,3)", "SEQ-LN-UNSEQ", "DW(3,p=1)", "C(8,3,g=2,p=1)",
]
DEFINITIONS = "unit = [id | BN-relu-C(8,1,bias=false)-BN-relu-C(4,3,p=1,bias=false)]\ncv(n, f) = C(n, f, p=(f-1)/2)-BN-relu\n"


@st.composite
def programs(draw) -> str:
    head = draw(st.sampled_from(["I(h,w,3)", "I(32,32,3)", "I(h,h,c)", "I(40,24,8)"]))
    body = draw(st.lists(st.sampled_from(UNITS), min_size=1, max_size=12))
    return DEFINITIONS + "-".join([head, *body])


def outcome(text: str, convention: str) -> tuple[str, ...]:
    """Everything a user sees of the network: the reports and the figures, or the error."""
    try:
        net = symparams.parse(text, convention=convention)
        ideal = symparams.parse(text, convention=convention, mode="ideal")
    except SymparamsError as err:
        return ("error", str(err))
    figures = tuple(str(getattr(net, key)) for key in ("macs", "saved", "kv_cache"))
    rows = tuple(f"{r.index} {r.macs} {r.saved} {r.conditions}" for r in net.walk())
    return (table(net), to_json(net), table(ideal), to_json(ideal), *figures, *rows)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(programs(), st.sampled_from(["torch", "keras"]))
def test_remembered_formulas_bindings_and_later_figures_change_nothing(text, convention):
    remembered = outcome(text, convention)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(B, "formula_key", lambda spec, call: None)
        patch.setattr(B.Builder, "bound", lambda self, spec, term, shape, env: bind(spec, term, shape, self.ctx, env))
        patch.setattr(core, "Later", lambda fn, *args: fn(*args))  # every figure worked out at once
        fresh = outcome(text, convention)
    assert remembered == fresh, text


def test_the_memo_is_used_on_a_repeated_block():
    """The property above is not vacuous: a DenseNet-like chain calls formulas again with
    the same arguments and shape, which find the results of the first calls."""
    keys: list[object] = []
    original = B.formula_key

    def recording(spec, call):
        key = original(spec, call)
        keys.append(key)
        return key

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(B, "formula_key", recording)
        symparams.parse(DEFINITIONS + "I(h,w,3)-C(8,3,p=1)-unit*4")
    assert None not in keys and len(set(keys)) < len(keys)


def test_the_programs_mostly_build():
    """Most drawn programs build (the property compares networks, not only errors)."""
    built = []

    @settings(max_examples=60, deadline=None, database=None)
    @given(programs(), st.sampled_from(["torch", "keras"]))
    def count(text, convention):
        built.append(outcome(text, convention)[0] != "error")

    count()
    assert sum(built) >= len(built) // 2, (sum(built), len(built))


def test_a_remembered_formula_tells_apart_the_facts_it_reads():
    """Both UNSEQ calls see a (32, 16) sequence; each must go back to the spatial axes of
    its own SEQ (8×4, then 4×8), which only the facts in the key tell apart."""
    net = symparams.parse("a := I(8,4,16); b := I(4,8,16); x := a-SEQ-UNSEQ; y := b-SEQ-UNSEQ; x, y")
    assert (net.tensor_shape("x"), net.tensor_shape("y")) == ((8, 4, 16), (4, 8, 16))
