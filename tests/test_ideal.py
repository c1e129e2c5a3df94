"""Ideal mode: floors and ceils dropped, totals written as a person would, and the
divisibility conditions under which the closed form equals the exact count."""

import itertools

import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

import symparams
from symparams.base.expr import idealize, symbol
from symparams.modes import solve_congruence

h, w, c, n = (symbol(x) for x in "hwcn")
LENET = "I-C(32,5)-P(2)-C(32,3)-P(2)-H(256)-O(10)"


def holds_at(conditions, values):
    return all(bool(cond.subs(values)) for cond in conditions)


def test_lenet_ideal_total_is_the_paper_formula():
    net = symparams.parse(LENET, mode="ideal")
    assert net.mode == "ideal"
    assert str(net.params) == "800*c + 512*(h - 8)*(w - 8) + 12106"
    assert sympy.expand(net.params - (800 * c + 512 * (h - 8) * (w - 8) + 12106)) == 0
    assert net.ideal_conditions == (sympy.Eq(sympy.Mod(h, 4), 0), sympy.Eq(sympy.Mod(w, 4), 0))
    assert [str(x) for x in net.conditions] == ["h >= 12", "w >= 12", "Eq(Mod(h, 4), 0)", "Eq(Mod(w, 4), 0)"]
    assert net.layers[4].shape == (h / 4 - 2, w / 4 - 2, 32)


def test_square_input_factors_to_a_square():
    net = symparams.parse("I(n,n,1)-C(32,5)-P(2)-C(32,3)-P(2)-H(256)-O(10)", mode="ideal")
    assert str(net.params) == "512*(n - 8)**2 + 12906"
    assert net.ideal_conditions == (sympy.Eq(sympy.Mod(n, 4), 0),)


def test_exact_mode_keeps_floors_and_has_no_ideal_conditions():
    net = symparams.parse(LENET)
    assert net.params.has(sympy.floor)
    assert net.ideal_conditions == ()


def test_cli_ideal_prints_the_closed_form_and_its_conditions(capsys):
    from symparams.cli import main

    assert main([LENET, "--ideal"]) == 0
    out = capsys.readouterr().out
    assert "Total params: 800*c + 512*(h - 8)*(w - 8) + 12106" in out
    assert "h divisible by 4, w divisible by 4" in out


def test_odd_residues_are_listed_as_congruences(capsys):
    from symparams.cli import main

    net = symparams.parse("I-C(8,5,s=2)-P(2)-H(3)", mode="ideal")
    # floor((h-5)/2) and floor((h-3)/4) are both whole exactly when h ≡ 3 (mod 4).
    assert sympy.Eq(sympy.Mod(h, 4), 3) in net.ideal_conditions
    assert main(["I-C(8,5,s=2)-P(2)-H(3)", "--ideal"]) == 0
    assert "h ≡ 3 (mod 4)" in capsys.readouterr().out


ARCHITECTURES = [
    LENET,
    "I-C(16,3,s=2,p=1)-BN-relu-C(8,3,s=2,p=same)-A(3,s=2)-F-H(10)",
    "I-C(8,(3,5),s=(2,3))-P(2,s=1)-C(4,1,s=2)-GAP-O(3)",
    "I-DW(3,s=2)-SC(12,3,s=2,p=same)-F-O(5)",
    "I(n,n,3)-C(16,7,s=2,p=3)-P(3,s=2,p=1)-C(32,3,p=1)-F-H(20)",
]


@pytest.mark.parametrize("text", ARCHITECTURES)
def test_ideal_equals_exact_where_its_conditions_hold_and_differs_elsewhere(text):
    exact = symparams.parse(text)
    ideal = symparams.parse(text, mode="ideal")
    symbols = sorted(exact.free_symbols, key=lambda s: s.name)
    seen_equal = seen_different = 0
    sizes = range(12, 41)
    for point in itertools.product(sizes, repeat=len([s for s in symbols if s.name != "c"])):
        values = dict(zip([s for s in symbols if s.name != "c"], point))
        values.update({s: 3 for s in symbols if s.name == "c"})
        if not holds_at(exact.conditions, values):
            continue
        exact_counts = [e.subs(values) for e in (exact.params, exact.macs, *exact.shape)]
        ideal_counts = [e.subs(values) for e in (ideal.params, ideal.macs, *ideal.shape)]
        if holds_at(ideal.ideal_conditions, values):
            assert ideal_counts == exact_counts, values
            seen_equal += 1
        elif ideal_counts != exact_counts:
            seen_different += 1
    assert seen_equal and seen_different


def test_rows_add_up_to_the_ideal_totals():
    net = symparams.parse("I-C(16,3,s=2,p=1)-BN-C(8,3,s=2)-F-H(10)", mode="ideal", convention="keras")
    assert sympy.expand(sum(r.params for r in net.layers) - net.params) == 0
    assert sympy.expand(sum(r.non_trainable for r in net.layers) - net.non_trainable) == 0
    assert sympy.expand(sum(r.macs for r in net.layers) - net.macs) == 0
    assert not any(e.has(sympy.floor) for r in net.layers for e in (r.params, r.macs, *r.shape))


@settings(max_examples=25, deadline=None)
@given(
    layers=st.lists(st.tuples(st.sampled_from("CPA"), st.integers(1, 5), st.integers(1, 3), st.integers(0, 2)),
                    min_size=1, max_size=3),
    size=st.integers(24, 120),
)
def test_random_chains_ideal_equals_exact_under_its_conditions(layers, size):
    parts = []
    for kind, f, s, p in layers:
        p = min(p, f // 2)  # PyTorch's pool padding is at most f/2; keep every layer buildable
        parts.append(f"C(4,{f},s={s},p={p})" if kind == "C" else f"{kind}({f},s={s},p={p})")
    text = "I(n,n,2)-" + "-".join(parts) + "-H(3)"
    exact, ideal = symparams.parse(text), symparams.parse(text, mode="ideal")
    values = {n: size}
    if not holds_at(exact.conditions, values):
        return
    if holds_at(ideal.ideal_conditions, values):
        assert ideal.params.subs(values) == exact.params.subs(values)
        assert [x.subs(values) for x in ideal.shape] == [x.subs(values) for x in exact.shape]


@settings(max_examples=50, deadline=None)
@given(pairs=st.lists(st.tuples(st.integers(0, 11), st.integers(1, 12)), min_size=1, max_size=3))
def test_solve_congruence_matches_brute_force(pairs):
    pairs = [(r % m, m) for r, m in pairs]
    found = solve_congruence(*pairs)
    span = 1
    for _, m in pairs:
        span *= m
    members = [x for x in range(span) if all(x % m == r for r, m in pairs)]
    if found is None:
        assert members == []
    else:
        residue, modulus = found
        assert members == [x for x in range(span) if x % modulus == residue]


def test_totals_collect_terms_of_a_repeated_block():
    L, d = symbol("L"), symbol("d")
    for mode in ("exact", "ideal"):
        net = symparams.parse("I(t,d)-(LN-H(4*d)-gelu-H(d))*L", mode=mode)
        assert str(net.params) == "L*(8*d**2 + 7*d)"
        gpt = symparams.parse("I(t)-E(50257,d)-PE(1024)-TB(12,4*d)*L-LN-O(50257,bias=false,tied=true)", mode=mode)
        assert str(gpt.params) == "L*(12*d**2 + 13*d) + 51283*d"
        assert gpt.subs(L=12, d=768, t=1024).params == 124_439_808
    assert sympy.expand(net.params - L * (8 * d**2 + 7 * d)) == 0


def test_ideal_macs_and_activations_are_tidy():
    net = symparams.parse(LENET, mode="ideal")
    assert str(net.macs) == "800*c*(h - 4)*(w - 4) + 2816*(h - 8)*(w - 8) + 2560"
    assert str(net.activations) == "10*(h - 8)*(w - 8) + 40*(h - 4)*(w - 4) + 266"
    exact = symparams.parse(LENET)
    at = {h: 28, w: 36, c: 3}
    assert net.macs.subs(at) == exact.macs.subs(at)
    assert net.activations.subs(at) == exact.activations.subs(at)


def test_ideal_drops_a_floor_that_rebuilding_its_parent_would_bring_back():
    # Dropping the inner floor makes the outer argument h/4 + 1: sympy writes floor(h/4 + 1)
    # as floor(h/4) + 1, so a rebuild-then-replace leaves a floor in the closed form.
    nested = sympy.floor(sympy.floor(h / 2 + sympy.Rational(1, 2)) / 2 + sympy.Rational(3, 4))
    assert idealize(nested) == h / 4 + 1
    assert not idealize(nested).has(sympy.floor, sympy.ceiling)


def test_a_congruence_condition_is_the_relation_sympy_evaluates():
    """modes._congruence builds `Eq(Mod(h, m), r)` unevaluated (the assumption system
    costs milliseconds each); it must be the very relation evaluating gives."""
    from symparams.modes import divisibility_conditions

    h = symbol("h")
    for modulus in range(2, 40):
        for residue in range(modulus):
            made = divisibility_conditions([sympy.floor((h - residue) / modulus)])
            (condition,) = made
            evaluated = sympy.Eq(sympy.Mod(h, modulus), residue)
            assert sympy.srepr(condition.holds) == sympy.srepr(evaluated), (modulus, residue)
            assert condition.holds.subs(h, modulus + residue) is sympy.true
