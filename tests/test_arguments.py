"""Argument arithmetic: exact division for sizes, fractions for rates, powers."""

import pytest
import sympy

import symparams
from symparams.base.expr import symbol


def test_rate_may_be_a_fraction_while_a_size_may_not():
    assert symparams.parse("I(10)-D(1/2)-H(4)").params == 44
    with pytest.raises(symparams.ShapeError, match="exact division"):
        symparams.parse("I(10)-H(7/2)")


def test_symbolic_power_of_two_channels_substitutes_to_the_numeric_count():
    net = symparams.parse("I(8,8,3)-C(2^k,3)-C(2^(k+1),3)")
    k = symbol("k")
    assert net.params.free_symbols == {k}
    for value in (1, 3, 5):
        numeric = symparams.parse(f"I(8,8,3)-C({2**value},3)-C({2**(value + 1)},3)")
        assert net.params.subs(k, value) == numeric.params
        assert net.subs(k=value).params == numeric.params
    assert net.output_shape == (2 ** (k + 1), 4, 4)


def test_exact_division_of_a_symbol_is_a_condition():
    net = symparams.parse("I(t,d)-H(d/2)")
    assert sympy.Eq(sympy.Mod(symbol("d"), 2), 0) in net.conditions
    with pytest.raises(symparams.ShapeError):
        net.subs(d=7)
    assert net.subs(d=8).params == 8 * 4 + 4
