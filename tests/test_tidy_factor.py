"""Ideal mode's tidy() factors a product of linear sums by their contents
(base/expr._factor_linear_product) instead of calling sympy.factor: the result must be
sympy.factor's, structurally (srepr), for every term it takes, and None for the rest."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

import symparams
from symparams.base import expr as E

ROOT = Path(__file__).resolve().parent.parent
h, w, c = E.symbol("h"), E.symbol("w"), E.symbol("c")


def _random_term(rng: random.Random) -> sympy.Expr:
    term = sympy.Rational(rng.randint(1, 100_000), rng.choice([1, 2, 3, 4, 8, 16, 32, 64]))
    for _ in range(rng.randint(0, 3)):
        symbols = rng.sample([h, w, c], rng.randint(1, 2))
        linear = sum(sympy.Rational(rng.randint(1, 9), rng.choice([1, 2, 4, 8])) * s for s in symbols)
        linear += sympy.Rational(rng.randint(-40, 40), rng.choice([1, 2, 4, 8, 16]))
        term *= linear ** rng.choice([1, 1, 1, 2])
    if rng.random() < 0.3:
        term *= rng.choice([h, w, c, h**2])
    return term


def test_random_products_factor_as_sympy_does():
    rng = random.Random(19)
    taken = 0
    for _ in range(400):
        term = _random_term(rng)
        if not (term.is_Mul or term.is_Pow):  # what tidy() hands it
            continue
        quick = E._factor_linear_product(term)
        if quick is None:
            continue
        taken += 1
        assert sympy.srepr(quick) == sympy.srepr(sympy.factor(term)), term
    assert taken > 200


@pytest.mark.parametrize(
    "term",
    [
        (h / 2 - w / 2 + 1) * 6,  # a negative symbol coefficient: left to sympy.factor
        sympy.floor(h / 2) * sympy.Rational(3, 2),
        sympy.sqrt(h) / 2,
        (h**2 / 4 + 1) * 3,  # not linear
        sympy.Mul(sympy.Rational(3, 2), h + 1, evaluate=False),  # a number times one sum
    ],
)
def test_other_forms_are_left_to_sympy(term):
    assert E._factor_linear_product(term) is None
    assert E.tidy(term) == sympy.Add(*(E._tidy_term(t) for t in sympy.Add.make_args(term)))


def test_every_backbone_term_factors_as_sympy_does():
    seen: set = set()
    original = E._tidy_term

    def spy(term):
        seen.add(term)
        return original(term)

    E._tidy_term, saved = spy, E._tidy_term
    try:
        for path in sorted((ROOT / "bench" / "backbones").glob("*.arch")):
            net = symparams.parse(path.read_text(encoding="utf-8"), mode="ideal")
            for row in net.walk():  # a row's ideal MACs and saved activations are tidied when read
                row.macs, row.saved
            net.macs, net.saved
    finally:
        E._tidy_term = saved
    taken = 0
    for term in seen:
        quick = E._factor_linear_product(term) if term.is_Mul or term.is_Pow else None
        if quick is not None and any(not r.is_Integer for r in term.atoms(sympy.Rational)):
            taken += 1
            assert sympy.srepr(quick) == sympy.srepr(sympy.factor(term)), term
    assert taken > 100


AXIS_TERMS = [E.symbol("h"), E.symbol("w"), sympy.floor(E.symbol("h") / 3), sympy.ceiling(E.symbol("w") / 5), sympy.S.One]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(-40, 40), st.sampled_from([1, 2, 3, 4, 6, 7, 8, 12, 16, 32])),
        min_size=len(AXIS_TERMS),
        max_size=len(AXIS_TERMS),
    ),
    st.lists(st.booleans(), min_size=len(AXIS_TERMS), max_size=len(AXIS_TERMS)),
)
def test_a_floor_argument_is_put_over_one_denominator_as_together_does(coefficients, used):
    arg = sympy.Add(*(sympy.Rational(p, q) * x for (p, q), u, x in zip(coefficients, used, AXIS_TERMS) if u))
    assert sympy.srepr(E.over_one_denominator(arg)) == sympy.srepr(sympy.together(arg))
