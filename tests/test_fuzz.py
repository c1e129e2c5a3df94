"""Fuzzing (issue 8): whatever the text, symparams answers or refuses with a position.

The property and the generators live in bench/fuzz.py, shared with the longer campaign
(`python bench/fuzz.py --seconds 600`, figures in the README). Here hypothesis drives
them with a bounded budget (about a minute in all) and shrinks any failure to a small
input: random text, token soup from the grammar's vocabulary, and mutations of valid
architectures (deleted, duplicated and swapped tokens, huge and negative numbers, deep
nesting, look-alike characters, tabs, CRLF).
"""

from __future__ import annotations

import pytest
from bench_fuzz import fuzz
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

import symparams
from symparams.base.errors import LimitError, SymparamsError

BUDGET = settings(max_examples=800, deadline=None, suppress_health_check=[HealthCheck.too_slow])
conventions = st.sampled_from(["torch", "keras"])


@BUDGET
@given(st.text(max_size=80), conventions)
def test_any_unicode_text(text, convention):
    fuzz.answer(text, convention)


@BUDGET
@given(st.randoms(use_true_random=False), conventions)
def test_random_text_from_the_alphabet(rng, convention):
    text = fuzz.random_text(rng)
    note(repr(text))
    fuzz.answer(text, convention)


@BUDGET
@given(st.lists(st.sampled_from(fuzz.VOCABULARY), max_size=30), conventions)
def test_token_soup(parts, convention):
    fuzz.answer("I(28,28,1)-" + "".join(parts), convention)
    fuzz.answer("".join(parts), convention)


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.randoms(use_true_random=False), conventions, st.sampled_from(["exact", "ideal"]))
def test_mutated_architectures(rng, convention, mode):
    text = fuzz.mutant(rng)
    note(repr(text))
    fuzz.answer(text, convention, mode)


@pytest.mark.parametrize("text", fuzz.VALID)
def test_the_mutation_corpus_is_valid(text):
    """The mutations start from architectures that parse, so they probe near-misses."""
    assert isinstance(fuzz.answer(text), symparams.Network)


@pytest.mark.parametrize("text", [
    "I(28,28,1)\r\n-C(32,5)\r\n-P(2)\r\n-O(10)",
    "I(28,28,1)\t-\tC(32,5)\t-\tP(2)\t-O(10)",
    "\ufeffI(784)-O(10)",
])
def test_tabs_crlf_and_a_byte_order_mark_are_whitespace(text):
    assert fuzz.answer(text) is not None


@pytest.mark.parametrize("text, char", [
    ("I(784)−O(10)", "−"), ("I(784)-H(2×3)", "×"), ("I(784)-H(2·3)", "·"), ("I（784)-O(10)", "（"),
    ("I(784)\u00a0-O(10)", "\u00a0"), ("I(784)-\u200bO(10)", "\u200b"), ("I(784)-О(10)", "О"),
])
def test_lookalikes_are_refused_at_their_column(text, char):
    err = fuzz.answer(text)
    assert isinstance(err, SymparamsError)
    assert err.pos == text.index(char)


@pytest.mark.parametrize("text", [
    "I(784)-H(" + "1+" * 150 + "1)",
    "I(784)-H(" + "-" * 150 + "1)",
    "I(784)-H(" + "2^" * 150 + "1)",
    "I(784)-" + "(" * 201 + "id" + ")" * 201,
    "I(784)-H(" + "(" * 250 + "1" + ")" * 250 + ")",
])
def test_deep_text_is_refused_with_a_position(text):
    err = fuzz.answer(text)
    assert isinstance(err, LimitError)
    assert err.pos is not None and err.pos > 0


@settings(max_examples=150, deadline=None)
@given(st.lists(st.integers(-40, 40), min_size=5, max_size=5), st.integers(1, 64))
def test_the_fast_floor_is_sympys_floor(coefficients, den):
    """shapes.polynomial_floor skips sympy's costly range checks; it must give the very
    expression sympy's floor() gives, for the polynomials strides and pools make."""
    import sympy

    from symparams.base.expr import polynomial_floor, symbol

    h, w, k = symbol("h"), symbol("w"), symbol("k")
    a, b, c, d, e = coefficients
    arg = sympy.expand((a * h + b * w + c * h * w + d * k**2 + e) / den)
    assert polynomial_floor(arg) == sympy.floor(arg)
