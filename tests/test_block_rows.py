"""A repeated block's row reads as a person writes it, and still adds up."""

import sympy

import symparams
from symparams.base.expr import symbol


def test_symbolic_repeat_row_is_collected_by_its_count():
    net = symparams.parse("I(t,d)-(LN-H(4*d)-gelu-H(d))*L")
    L, d = symbol("L"), symbol("d")
    block = net.layers[1]
    assert str(block.params) == "L*(8*d**2 + 7*d)"
    assert sympy.expand(block.params - L * (8 * d**2 + 7 * d)) == 0
    assert sympy.expand(sum(r.params for r in net.layers) - net.params) == 0
    assert net.subs(L=3, d=16).params == 3 * (8 * 16**2 + 7 * 16)
