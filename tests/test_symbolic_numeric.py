"""Symbolic results evaluated at a point equal the numeric parse at that point.

Chains are generated with free symbols in the input (h, w, c; t, c; d, h, w, c) and in
channel counts (a, b, k, also as 2*k and k/2), then parsed once symbolically and once
with the symbols given values. Where the numeric parse succeeds, every count and shape
must agree; the symbolic conditions must be False at exactly the points where the
numeric parse raises a ShapeError.
"""

from __future__ import annotations

import os

import pytest
import sympy
from frameworks import L, Spec
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import symparams
from symparams.base.expr import symbol

# SYMPARAMS_EXAMPLES raises the count for a longer hunt outside CI.
SETTINGS = settings(max_examples=int(os.environ.get("SYMPARAMS_EXAMPLES", "60")), deadline=None, suppress_health_check=[HealthCheck.too_slow])
INPUT_AXES = {1: ("t", "c"), 2: ("h", "w", "c"), 3: ("d", "h", "w", "c")}
CHANNELS = ("a", "b", "k", "2*k", "k/2", "a+1", 3, 8)


def _spatial(draw, rank: int, values: st.SearchStrategy[int]):
    if rank > 1 and draw(st.booleans()):
        return tuple(draw(values) for _ in range(rank))
    return draw(values)


@st.composite
def layer(draw, rank: int) -> Spec:
    kind = draw(st.sampled_from(["C", "C", "C", "P", "A", "T", "DW", "SC", "Z", "BN", "LN", "relu", "AAP"]))
    if kind in ("BN", "LN", "relu"):
        return L(kind)
    if kind == "Z":
        return L("Z", p=_spatial(draw, rank, st.integers(0, 2)))
    if kind == "AAP":
        return L(draw(st.sampled_from(["AAP", "AMP"])), o=_spatial(draw, rank, st.integers(1, 3)))
    # Kernel and stride may be symbols too; `s=s` also checks that a keyword's name is a
    # name only before '='.
    f = _spatial(draw, rank, st.one_of(st.integers(1, 5), st.just("q")))
    s = _spatial(draw, rank, st.one_of(st.integers(1, 3), st.sampled_from(["s", "q"])))
    if kind in ("P", "A"):
        args = {"f": f, "s": s, "ceil": draw(st.booleans())}
        padding = draw(st.sampled_from(["valid", "same", 0, 1, 2]))
        if padding != "valid":
            args["p"] = padding
        return L(kind, **args)
    padding = draw(st.sampled_from(["valid", "same", 0, 1, 2, (1, 0)][: 6 if rank == 2 else 5]))
    args = {"f": f, "s": s, "p": padding, "d": _spatial(draw, rank, st.integers(1, 2))}
    if kind == "T":
        if padding == "same" or padding == "valid" or padding == (1, 0):
            args["p"] = draw(st.integers(0, 2))
        args["op"] = draw(st.integers(0, 1))
    if kind in ("C", "T", "SC"):
        args = {"n": draw(st.sampled_from(CHANNELS)), **args}
    if kind in ("C", "T"):
        args["g"] = draw(st.sampled_from([1, 1, 2]))
    if kind in ("DW", "SC"):
        args["m"] = draw(st.integers(1, 2))
    return L(kind, **args)


@st.composite
def symbolic_chain(draw) -> tuple[str, int]:
    rank = draw(st.sampled_from([1, 2, 2, 3]))
    layers = draw(st.lists(layer(rank), min_size=1, max_size=6))
    tail = draw(st.sampled_from(["", "-F-H(a)", "-GAP-O(10)", "-H(k)"]))
    head = "I" if rank == 2 and draw(st.booleans()) else "I(" + ",".join(INPUT_AXES[rank]) + ")"
    return head + "".join("-" + spec.text() for spec in layers) + tail, rank


@st.composite
def point(draw, rank: int) -> dict[str, int]:
    values = {name: draw(st.integers(1, 40 if rank < 3 else 14)) for name in INPUT_AXES[rank][:-1]}
    values["c"] = draw(st.integers(1, 6))
    values.update({name: draw(st.integers(1, 6)) for name in ("a", "b", "k")})
    values.update({name: draw(st.integers(1, 4)) for name in ("q", "s")})
    return values


def _at(expr: sympy.Basic, values: dict[str, int]) -> sympy.Basic:
    return expr.subs({symbol(name): v for name, v in values.items()})


@SETTINGS
@given(st.data())
def test_symbolic_equals_numeric_at_random_points(data):
    text, rank = data.draw(symbolic_chain(), label="chain")
    try:
        net = symparams.parse(text)
    except symparams.ShapeError:
        event("no symbolic network")
        return  # a rule broken for every value (e.g. a tuple of the wrong length): nothing to compare
    except symparams.LimitError:
        # limits.py refuses sizes of degree over 8 (symbolic kernels and strides on a volume).
        event("over the limits")
        return
    for _ in range(3):
        values = data.draw(point(rank), label="point")
        holds = [_at(cond, values) for cond in net.conditions]
        assert all(h in (sympy.true, sympy.false) for h in holds), (text, values, holds)
        try:
            numeric = symparams.parse(text, values=values)
        except symparams.ShapeError:
            assert sympy.false in holds, (text, values)
            event("numeric error")
            continue
        event("compared")
        assert sympy.false not in holds, (text, values, net.conditions)
        assert numeric.params == _at(net.params, values), (text, values)
        assert numeric.trainable == _at(net.trainable, values)
        assert numeric.non_trainable == _at(net.non_trainable, values)
        assert numeric.output_shape == tuple(_at(x, values) for x in net.output_shape)
        for row, sym_row in zip(numeric.walk(), net.walk()):
            assert row.shape == tuple(_at(x, values) for x in sym_row.shape), (text, values, row.text)
            assert row.params == _at(sym_row.params, values), (text, values, row.text)


@pytest.mark.parametrize("convention", ["torch", "keras"])
def test_subs_equals_parsing_the_numbers(convention):
    net = symparams.parse("I-C(32,5)-BN-P(2)-C(2*k,3)-P(2,ceil=true)-H(256)-O(10)", convention=convention)
    numeric = symparams.parse("I(28,30,3)-C(32,5)-BN-P(2)-C(8,3)-P(2,ceil=true)-H(256)-O(10)",
                              convention=convention)
    given = net.subs(h=28, w=30, c=3, k=4)
    assert (given.params, given.trainable, given.non_trainable, given.output_shape) == (
        numeric.params, numeric.trainable, numeric.non_trainable, numeric.output_shape)


def test_deep_symbolic_chain_stays_small():
    """1,000 layers, a pool after every second conv: no RecursionError, one floor per axis."""
    text = "I-" + "-".join(["C(8,3,p=1)-C(8,3,p=1)-P(2)"] * 333) + "-C(8,3,p=1)-H(10)"
    net = symparams.parse(text)
    assert len(net.layers) == 1 + 1000 + 1
    # The dense layer sees (floor(h/2^333) * floor(w/2^333) * 8): one floor per spatial axis.
    assert net.params.count(sympy.floor) == 2
    for row in net.layers:
        assert sum(x.count(sympy.floor) for x in row.shape) <= 2, row.text
    h, w = symbol("h"), symbol("w")
    assert net.layers[-2].shape == (sympy.floor(h / 2**333), sympy.floor(w / 2**333), 8)
    assert [str(c) for c in net.conditions] == [f"h >= {2**333}", f"w >= {2**333}"]


@pytest.mark.parametrize("symbolic, values, numeric", [
    ("I(2*n,n+2,3)-C(k^2,(k+1)*1)-H(4*d)", {"n": 14, "k": 5, "d": 3}, "I(28,16,3)-C(25,6)-H(12)"),
    ("I(n,n,3)-C(d,3,d=2)", {"n": 9, "d": 4}, "I(9,9,3)-C(4,3,d=2)"),  # the first d is a symbol
    ("I(t,c)-C(c/2,-(-3),s=s)-P(2,s=s,ceil=true)", {"t": 33, "c": 6, "s": 2}, "I(33,6)-C(3,3,s=2)-P(2,s=2,ceil=true)"),
    ("I(h,w,c)-T(n,(3,4),s=(2,3),p=1,op=(1,2))", {"h": 7, "w": 5, "c": 2, "n": 3},
     "I(7,5,2)-T(3,(3,4),s=(2,3),p=1,op=(1,2))"),
    ("I(d,h,w,c)-C(8,3,p=same,g=g)-A(f,s=2,p=1)", {"d": 6, "h": 7, "w": 9, "c": 4, "g": 2, "f": 3},
     "I(6,7,9,4)-C(8,3,p=same,g=2)-A(3,s=2,p=1)"),
])
@pytest.mark.parametrize("convention", ["torch", "keras"])
def test_arithmetic_and_symbols_substitute_to_the_written_numbers(symbolic, values, numeric, convention):
    net = symparams.parse(symbolic, convention=convention)
    expected = symparams.parse(numeric, convention=convention)
    given = net.subs(**values)
    assert (given.params, given.trainable, given.non_trainable, given.output_shape) == (
        expected.params, expected.trainable, expected.non_trainable, expected.output_shape)
    assert _at(net.params, values) == expected.params
    assert tuple(_at(x, values) for x in net.output_shape) == expected.output_shape
    assert all(_at(c, values) == sympy.true for c in net.conditions)
