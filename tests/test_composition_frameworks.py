"""Random nestings of groups, branches, repetition and replication against real
PyTorch models (and Keras 3 for a subset), plus symbolic repetition = unrolled.

The trees are drawn by hypothesis (composition_models.py builds both the text and
the framework models); every count and output shape must agree exactly.
"""

import pytest
import sympy
from composition_models import (
    KEEPS_SPATIAL,
    LEAVES,
    Cat,
    Leaf,
    Par,
    Rep,
    Seq,
    Sum,
    keras_result,
    text_of,
    torch_result,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import symparams
from symparams.base.expr import symbol

pytestmark = pytest.mark.frameworks

WIDTHS = st.sampled_from([1, 2, 3, 4, 6, 8])


@st.composite
def leaf(draw, c: int, h: int, keep_spatial: bool) -> Leaf:
    names = [n for n in LEAVES if not keep_spatial or n in KEEPS_SPATIAL]
    while True:
        node = Leaf(draw(st.sampled_from(names)), draw(WIDTHS))
        if node.out(c, h) is not None:
            return node


@st.composite
def chain(draw, c: int, h: int, depth: int, keep_spatial: bool, max_len: int = 3) -> Seq:
    """A chain valid on a (c, h) input; with keep_spatial its output keeps h."""
    items = []
    for _ in range(draw(st.integers(1, max_len))):
        node = draw(term(c, h, depth, keep_spatial))
        c, h = node.out(c, h)
        items.append(node)
    return Seq(tuple(items))


@st.composite
def term(draw, c: int, h: int, depth: int, keep_spatial: bool):
    forms = ["leaf"] if depth <= 0 else ["leaf", "group", "rep", "cat", "sum", "par"]
    form = draw(st.sampled_from(forms))
    if form == "leaf":
        return draw(leaf(c, h, keep_spatial))
    if form == "group":
        return draw(chain(c, h, depth - 1, keep_spatial, 2))
    if form == "rep":
        body = draw(st.one_of(leaf(c, h, keep_spatial), chain(c, h, depth - 1, keep_spatial, 2)))
        n = draw(st.integers(1, 4))
        while Rep(body, n).out(c, h) is None:  # a block that shrinks the input, applied too often
            n -= 1
        return Rep(body, n)
    if form == "cat":
        k = draw(st.integers(2, 3))
        return Cat(tuple(draw(chain(c, h, depth - 1, True, 2)) for _ in range(k)))
    if form == "sum":
        width = draw(st.sampled_from([c, c, 4]))
        branches = []
        for _ in range(draw(st.integers(2, 3))):
            if width == c and draw(st.booleans()):
                branches.append(Seq((Leaf("id"),)))
                continue
            body = draw(chain(c, h, depth - 1, True, 2))
            branches.append(Seq(body.items + (Leaf("conv1", width),)))
        return Sum(tuple(branches))
    return Par(draw(st.integers(1, 3)), draw(chain(c, h, depth - 1, keep_spatial, 2)))


@st.composite
def model(draw, max_depth: int = 3):
    c, h = draw(st.sampled_from([1, 3, 4])), draw(st.sampled_from([5, 8, 12]))
    return c, h, draw(chain(c, h, draw(st.integers(1, max_depth)), False, 4))


SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))


@SETTINGS
@given(model())
def test_random_composition_matches_torch(case):
    c, h, tree = case
    text = text_of(c, h, tree)
    net = symparams.parse(text)
    params, shape = torch_result(c, h, tree)
    assert (net.params, net.output_shape) == (params, shape), text
    assert net.non_trainable == 0


@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
@given(model(max_depth=2))
def test_random_composition_matches_keras(case):
    c, h, tree = case
    text = text_of(c, h, tree)
    net = symparams.parse(text, convention="keras")
    params, frozen, shape = keras_result(c, h, tree)
    assert (net.params, net.non_trainable, net.output_shape) == (params, frozen, shape), text


@st.composite
def shape_keeping_block(draw):
    """A block whose output shape is its input's, on the image (h, w, 4) of symbolic h, w."""
    body = draw(chain(4, 8, 2, True, 3))
    text = body.chain_text()
    if body.out(4, 8)[0] != 4:
        text += "-C(4,1)"
    return f"({text})"


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(shape_keeping_block(), st.integers(1, 4))
def test_symbolic_repetition_equals_unrolled(block, n):
    repeated = symparams.parse(f"I(h,w,4)-{block}*L")
    unrolled = symparams.parse("I(h,w,4)-" + "-".join([block] * n))
    assert sympy.expand(repeated.params.subs(symbol("L"), n) - unrolled.params) == 0, block
    assert repeated.output_shape == unrolled.output_shape
    numeric = symparams.parse(f"I(h,w,4)-{block}*{n}")
    assert sympy.expand(numeric.params - unrolled.params) == 0
    assert repeated.subs(L=n, h=9, w=7).params == unrolled.subs(h=9, w=7).params
    side_by_side, copies = symparams.parse(f"I(h,w,4)-v[{block}]"), symparams.parse(f"I(h,w,4)-{n}[{block}]")
    assert sympy.expand(side_by_side.params.subs(symbol("v"), n) - copies.params) == 0
    assert tuple(x.subs(symbol("v"), n) for x in side_by_side.output_shape) == copies.output_shape


def test_hand_written_nestings_match_torch():
    """One of each form, fixed, so a failure here names the form at once."""
    conv = lambda n: Leaf("conv3same", n)
    cases = [
        Seq((Rep(Seq((conv(4), Leaf("relu"))), 3),)),
        Seq((Rep(Seq((Leaf("conv3", 4), Leaf("pool2"))), 2),)),
        Seq((Cat((Seq((Leaf("conv1", 2),)), Seq((conv(3), Leaf("bn"))), Seq((Leaf("pool3same"),)))),)),
        Seq((Sum((Seq((conv(3), Leaf("relu"), Leaf("conv1", 3))), Seq((Leaf("id"),)))),)),
        Seq((Par(3, Seq((Leaf("conv3", 2), Leaf("pool2")))), Leaf("conv1", 5))),
        Seq((Rep(Sum((Seq((Leaf("dw"), Leaf("conv1", 3))), Seq((Leaf("id"),)))), 4),)),
    ]
    for tree in cases:
        text = text_of(3, 12, tree)
        net = symparams.parse(text)
        assert (net.params, net.output_shape) == torch_result(3, 12, tree), text


def test_residual_mlp_on_a_sequence_matches_torch():
    """Composition on sequences: the residual MLP of a transformer, repeated, then two
    dense heads concatenated on the last axis (torch keeps (batch, t, c) there too)."""
    import torch
    from torch import nn

    class Residual(nn.Module):
        def __init__(self, d: int) -> None:
            super().__init__()
            self.body = nn.Sequential(nn.LayerNorm(d), nn.Linear(d, 4 * d), nn.GELU(), nn.Linear(4 * d, d))

        def forward(self, x):
            return x + self.body(x)

    class Model(nn.Module):
        def __init__(self, d: int, layers: int) -> None:
            super().__init__()
            self.blocks = nn.Sequential(*(Residual(d) for _ in range(layers)))
            self.heads = nn.ModuleList([nn.Linear(d, 8), nn.Linear(d, 4)])

        def forward(self, x):
            x = self.blocks(x)
            return torch.cat([head(x) for head in self.heads], dim=-1)

    model = Model(16, 3)
    y = model(torch.zeros(1, 10, 16))
    net = symparams.parse("I(10,16)-[LN-H(4*d)-gelu-H(d) + id]*L-[H(8)|H(4)]", values={"d": 16, "L": 3})
    assert (net.params, net.output_shape) == (sum(p.numel() for p in model.parameters()), tuple(y.shape[1:]))
    symbolic = symparams.parse("I(t,d)-[LN-H(4*d)-gelu-H(d) + id]*L-[H(8)|H(4)]")
    assert symbolic.params.subs({symbol("d"): 16, symbol("L"): 3}) == net.params


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(model())
def test_definitions_equal_the_text_they_stand_for(case):
    """Replacing layers by uses of definitions (with and without parameters) anywhere in
    a random nesting changes nothing: not the counts, not the shapes."""
    import re

    c, h, tree = case
    text = text_of(c, h, tree)
    defined = re.sub(r"C\((\d+),3,p=1\)", r"conv(\1, 1)", text)
    defined = re.sub(r"C\((\d+),1\)", r"conv(f=0, k=\1)", defined)
    defined = defined.replace("BN", "norm")
    program = "conv(k, f) = C(k, 2*f+1, p=f)\nnorm = (BN-id)\n" + defined
    inline, via_definitions = symparams.parse(text), symparams.parse(program)
    assert (via_definitions.params, via_definitions.output_shape) == (inline.params, inline.output_shape), program
