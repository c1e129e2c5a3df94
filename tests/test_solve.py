"""Solving for an unknown: answers checked by substituting them back and against a
brute-force search over a range, through the API and the CLI."""

import functools
import json

import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

import symparams
from symparams.base.expr import symbol
from symparams.cli import main

MNIST = "I(n,n,1)-C(32,5)-P(2)-C(32,3)-P(2)-H(256)-O(10)"


def brute(text, unknown, goal, upto, target="params", values=None):
    """Every admissible value up to `upto` with its total, by sympy substitution."""
    return _brute(text, unknown, upto, target, tuple(sorted((values or {}).items())))


@functools.cache
def _brute(text, unknown, upto, target, values):
    net = symparams.parse(text, values=dict(values))
    x = symbol(unknown)
    total = {"params": net.params, "macs": net.macs, "trainable": net.trainable}[target]
    conds = [c for c in net.conditions if c.free_symbols <= {x}]
    found = []
    for v in range(1, upto + 1):
        if all(bool(c.subs(x, v)) for c in conds):
            found.append((v, int(total.subs(x, v))))
    return found


def expected(points, goal):
    """The values hitting the goal, and the nearest below and above *in total* (of equal
    totals, the largest value below and the smallest above), as (value, total)."""
    hits = [v for v, t in points if t == goal]
    below = max(((t, v) for v, t in points if t <= goal), default=None)
    above = min(((t, v) for v, t in points if t >= goal), default=None)
    return hits, below and below[::-1], above and above[::-1]


def expected_max_min(points, goal):
    """The --max and --min answers: the largest value with a total at most the goal, the
    smallest with one at least it."""
    largest = max(((v, t) for v, t in points if t <= goal), default=None)
    smallest = min(((v, t) for v, t in points if t >= goal), default=None)
    return largest, smallest


def ranges_to_values(ranges):
    out = []
    for lo, hi in ranges:
        out.extend(range(lo, hi + 1))
    return out


def run(argv, capsys):
    code = main(argv)
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err


def test_issue_example_every_n_from_52_to_55(capsys):
    code, out, _ = run(["solve", MNIST, "--for", "n", "--params", "1004138", "--json"], capsys)
    assert code == 0
    assert json.loads(out) == {"values": [[52, 55]], "below": {"value": 55, "total": 1004138},
                               "above": {"value": 52, "total": 1004138}}


def test_max_and_min_json(capsys):
    code, out, _ = run(["solve", MNIST, "--for", "n", "--params", "1000000", "--max", "--json"], capsys)
    assert code == 0 and json.loads(out) == {"value": 51, "total": 832106}
    code, out, _ = run(["solve", MNIST, "--for", "n", "--params", "1_000_000", "--min", "--json"], capsys)
    assert code == 0 and json.loads(out) == {"value": 52, "total": 1004138}
    net = symparams.parse(MNIST)
    assert net.subs(n=51).params == 832106 and net.subs(n=52).params == 1004138


def test_text_answer_has_neighbours_and_the_closed_form(capsys):
    code, out, _ = run(["solve", MNIST, "--for", "n", "--params", "1000000"], capsys)
    assert code == 0
    assert "below: n = 48..51: params = 832,106" in out  # every n with the nearest total
    assert "above: n = 52..55: params = 1,004,138" in out
    assert "n = 8 + sqrt((N - 12906)/512)" in out


def test_closed_form_is_the_ideal_formula_solved():
    s = symparams.parse(MNIST).solve("n", 1_004_138)
    assert s.closed_form == ("n = 8 + sqrt((N - 12906)/512)",)
    ideal = symparams.parse(MNIST, mode="ideal").params
    n = symbol("n")
    assert ideal.subs(n, s.closed_value[0]) == pytest.approx(1_004_138)


def test_no_value_at_all_is_exit_2_with_the_reason(capsys):
    code, out, err = run(["solve", MNIST, "--for", "n", "--params", "1000", "--max"], capsys)
    assert code == 2 and out == ""
    assert "never at most 1,000" in err and "21,098" in err
    code, _, err = run(["solve", MNIST, "--for", "n", "--params", "5", "--min"], capsys)
    assert code == 0  # the smallest net already has more
    code, _, err = run(["solve", "I(28,28,1)-C(32,k)-F-H(10)", "--for", "k", "--params", "1e9", "--min"], capsys)
    assert code == 2 and "never reaches 1,000,000,000" in err


@pytest.mark.parametrize("goal", [10_000, 217_706, 500_000, 1_004_138, 3_000_000, 9_999_999])
def test_square_input_matches_brute_force(goal):
    points = brute(MNIST, "n", goal, 160)
    hits, below, above = expected(points, goal)
    s = symparams.parse(MNIST).solve("n", goal)
    assert ranges_to_values(s.values) == hits
    assert (s.below.value, s.below.total) == below if below else s.below is None
    assert (s.above.value, s.above.total) == above


def test_non_monotone_total_matches_brute_force():
    # The kernel size k trades conv weights (32k²) against the dense layer (320(29-k)²).
    text = "I(28,28,1)-C(32,k)-F-H(10)"
    points = brute(text, "k", 0, 40)
    assert max(v for v, _ in points) == 28  # k <= 28 is a condition of the conv
    for goal in sorted({t for _, t in points})[::3] + [100_000, 26_000]:
        hits, below, above = expected(points, goal)
        s = symparams.parse(text).solve("k", goal)
        assert ranges_to_values(s.values) == hits, goal
        assert (s.below and (s.below.value, s.below.total)) == below, goal
        assert (s.above and (s.above.value, s.above.total)) == above, goal


@pytest.mark.parametrize("text, unknown, values, goal", [
    ("I(10,d)-MHA(4)-F-O(1)", "d", None, 20_000),  # d divisible by the 4 heads
    ("I(d)-H(d/2)-O(1)", "d", None, 5_101),  # d even
    ("I(h,w,c)-C(k,3)-GAP-O(10)", "k", {"c": 3}, 5_000),  # h and w do not matter
    ("I-C(16,3,s=2,p=1)-BN-C(8,3,s=2)-F-H(10)", "h", {"w": 33, "c": 3}, 20_000),
    ("I(n,n,3)-C(8,3)-P(3,ceil=true)-F-O(10)", "n", None, 100_000),
])
def test_conditions_and_given_symbols_match_brute_force(text, unknown, values, goal):
    points = brute(text, unknown, goal, 150, values=values)
    hits, below, above = expected(points, goal)
    s = symparams.parse(text).solve(unknown, goal, values=values)
    assert ranges_to_values(s.values) == hits
    assert (s.below.value, s.below.total) == below
    assert (s.above.value, s.above.total) == above
    net = symparams.parse(text, values={**(values or {}), unknown: s.below.value})
    assert net.params == s.below.total


def test_divisibility_condition_is_respected():
    s = symparams.parse("I(10,d)-MHA(4)-F-O(1)").solve("d", 20_000)
    assert s.below.value % 4 == 0 and s.above.value % 4 == 0


def test_symbols_sharing_a_name_and_tied_symbols_solve_together():
    square = symparams.parse("I(n,n,3)-C(8,3)-P(2)-F-O(10)").solve("n", 200_000)
    tied = symparams.parse("I-C(8,3)-P(2)-F-O(10)").solve(("h", "w"), 200_000, values={"c": 3})
    assert square.as_dict() == tied.as_dict()


def test_huge_targets_are_exact():
    net = symparams.parse(MNIST)
    goal = 10**30
    s = net.solve("n", goal)
    assert s.below.total <= goal < s.above.total
    assert s.above.value == s.below.value + 1
    n = symbol("n")
    assert net.params.subs(n, s.below.value) == s.below.total
    assert net.params.subs(n, s.above.value) == s.above.total


def test_other_targets_macs_axis_memory(capsys):
    net = symparams.parse(MNIST)
    s = net.solve("n", 10_000_000, target="macs", how="max")
    assert net.subs(n=s.answer.value).macs == s.answer.total <= 10_000_000 < net.subs(n=s.answer.value + 1).macs
    m = net.solve("n", 4_000_000, target="memory", how="max")
    assert m.answer.total == 4 * net.subs(n=m.answer.value).params
    code, out, _ = run(["solve", "I-C(8,3,s=2)", "--for", "h", "--axis", "h=16", "--json"], capsys)
    assert code == 0 and json.loads(out)["values"] == [[33, 34]]
    code, out, _ = run(["solve", MNIST, "--for", "n", "--memory", "2M", "--dtype", "bfloat16", "--max", "--json"],
                       capsys)
    assert json.loads(out)["total"] == 2 * symparams.parse(MNIST).subs(n=json.loads(out)["value"]).params


def test_stride_in_a_divisor_has_a_constant_tail():
    net = symparams.parse("I(32,32,3)-C(8,3,s=s)-F-O(10)")
    s = net.solve("s", 314)
    assert s.values == ((30, None),)
    assert [net.subs(s=v).params for v in (29, 30, 31, 1000)] == [554, 314, 314, 314]
    unbounded = net.solve("s", 1000, how="max")
    assert unbounded.answer is None and "no largest" in unbounded.reason


def test_errors_name_what_is_missing(capsys):
    code, _, err = run(["solve", "I-C(8,3)-F-O(10)", "--for", "h", "--params", "1000"], capsys)
    assert code == 2 and "--subs" in err and "w" in err
    code, _, err = run(["solve", "I-C(8,3)-GAP-O(10)", "--for", "h", "--params", "1000", "--subs", "c=1"], capsys)
    assert code == 2 and "does not depend on h" in err
    code, _, err = run(["solve", MNIST, "--for", "q", "--params", "1000"], capsys)
    assert code == 2 and "no symbol 'q'" in err
    code, _, err = run(["solve", MNIST, "--for", "n", "--params", "lots"], capsys)
    assert code == 2 and "--params" in err


@settings(max_examples=15, deadline=None)
@given(f=st.integers(1, 5), s=st.integers(1, 3), pool=st.integers(1, 3), width=st.integers(1, 40),
       goal=st.integers(1, 400_000), how=st.sampled_from(["equal", "max", "min"]))
def test_random_conv_nets_match_brute_force(f, s, pool, width, goal, how):
    text = f"I(n,n,2)-C(4,{f},s={s})-P({pool})-H({width})"
    points = brute(text, "n", goal, 400)
    hits, below, above = expected(points, goal)
    if above is None:  # the answer lies beyond the brute-force range
        return
    result = symparams.parse(text).solve("n", goal, how=how)
    if how == "equal":
        assert ranges_to_values(result.values) == hits
    assert (result.below and (result.below.value, result.below.total)) == below
    assert (result.above.value, result.above.total) == above
    assert sympy.Integer(result.above.total) == symparams.parse(text).subs(n=result.above.value).params


@pytest.mark.parametrize("goal", [100, 1_000, 5_000, 20_000, 70_000, 120_000])
def test_ceil_mode_pools_with_min_match_brute_force(goal):
    # PyTorch's ceil mode with padding gives Min(...) shapes, nested under a second pool.
    text = "I(n,n,3)-C(8,3)-P(2,s=2,p=1,ceil=true)-C(4,3,s=3)-A(2,s=3,p=1,ceil=true)-F-O(7)"
    net = symparams.parse(text)
    assert net.params.has(sympy.Min)
    points = brute(text, "n", goal, 1_200)
    hits, below, above = expected(points, goal)
    s = net.solve("n", goal)
    assert not s.notes  # searched per class, not scanned
    assert ranges_to_values(s.values) == hits
    assert (s.below and (s.below.value, s.below.total)) == below
    assert (s.above.value, s.above.total) == above


@settings(max_examples=10, deadline=None)
@given(f=st.integers(1, 4), s=st.integers(1, 3), groups=st.sampled_from([1, 2]), goal=st.integers(1, 3_000_000),
       target=st.sampled_from(["macs", "trainable"]), how=st.sampled_from(["equal", "max", "min"]))
def test_random_tied_symbols_and_targets_match_brute_force(f, s, groups, goal, target, how):
    # h and w solved as one value, the channels given; under keras, whose trainable count
    # and MACs equal torch's (the brute force), BN's moving statistics must not leak in.
    text = f"I-C(4,{f},s={s},g={groups})-BN-P(2,ceil=true)-F-H(6)"
    square = text.replace("I-", "I(n,n,c)-", 1)
    points = brute(square, "n", goal, 300, target=target, values={"c": 2 * groups})
    hits, below, above = expected(points, goal)
    if above is None:
        return
    net = symparams.parse(text, convention="keras")
    result = net.solve(("h", "w"), goal, target=target, how=how, values={"c": 2 * groups})
    if how == "equal":
        assert ranges_to_values(result.values) == hits
    assert (result.below and (result.below.value, result.below.total)) == below
    assert (result.above.value, result.above.total) == above


# ------------------------------------------------------------ totals that do not rise with the unknown
def _ranges(values):
    ranges = []
    for v in values:
        if ranges and ranges[-1][1] == v - 1:
            ranges[-1][1] = v
        else:
            ranges.append([v, v])
    return [tuple(r) for r in ranges]


def check_against_brute_force(text, goal, upto, constant_tail):
    """Every answer of solve (values, nearest in total on both sides, --max, --min, peak,
    trough, found) equals a brute force over k = 1..upto; with `constant_tail`, the total
    at `upto` holds for every larger k (a stride past the input's size)."""
    points = brute(text, "k", goal, upto)
    if not points:
        return
    s = symparams.parse(text).solve("k", goal)
    hits, below, above = expected(points, goal)
    tail_value = points[-1][1] if constant_tail else None
    want = _ranges(hits)
    if tail_value == goal:
        want[-1] = (want[-1][0], None)
    assert list(s.values) == want
    if below and tail_value == below[1]:  # infinitely many: the start of their last run
        below = (_ranges([v for v, t in points if t == below[1]])[-1][0], below[1])
    assert (s.below and (s.below.value, s.below.total)) == below
    assert (s.above and (s.above.value, s.above.total)) == above
    largest, smallest = expected_max_min(points, goal)
    if tail_value is not None and tail_value <= goal:
        start = next(v for v, _ in points if all(t <= goal for w, t in points if w >= v))
        assert s.largest is None
        m = s.__class__  # the --max query gives the exact start in its reason
        result = symparams.parse(text).solve("k", goal, how="max")
        assert isinstance(result, m) and f"from {start} on" in result.reason and "about" not in result.reason
    else:
        assert (s.largest and (s.largest.value, s.largest.total)) == largest
    assert (s.smallest and (s.smallest.value, s.smallest.total)) == smallest
    peak = max(points, key=lambda p: (p[1], -p[0]))
    trough = min(points, key=lambda p: (p[1], p[0]))
    assert (s.peak.value, s.peak.total) == peak and (s.trough.value, s.trough.total) == trough
    assert s.found == bool(hits or (below and above))
    if not s.found and peak[1] < goal:
        assert f"never reaches {goal:,}" in s.reason and f"(k = {peak[0]})" in s.reason


@settings(max_examples=40, deadline=None)
@given(size=st.integers(4, 24), n=st.integers(1, 8), width=st.integers(1, 30), goal=st.integers(1, 150_000),
       layer=st.sampled_from(["C({n},k)", "C({n},k,s=2)", "C({n},3,s=k)", "P(k)", "C({n},2,d=k)", "A(k,s=2)"]))
def test_non_monotone_totals_match_brute_force_everywhere(size, n, width, goal, layer):
    # A kernel size trades the conv's weights against the dense layer after the flatten;
    # a stride, a pool or a dilation shrinks what the flatten passes on.
    text = f"I({size},{size},3)-{layer.format(n=n)}-F-H({width})"
    check_against_brute_force(text, goal, 3 * size, constant_tail="s=k" in layer)


def test_kernel_size_traded_against_the_dense_layer(capsys):
    text = "I(64,64,3)-C(k,k)-F-H(100)-O(10)"  # params peak at 4,100,876 (k = 22), k <= 64
    for goal in (5_000_000, 3_000_000, 794_006, 100):
        check_against_brute_force(text, goal, 64, constant_tail=False)
    code, out, err = run(["solve", text, "--for", "k", "--params", "5M"], capsys)
    assert (code, out) == (2, "")
    assert "never reaches 5,000,000: the largest is 4,100,876 (k = 22)" in err
    code, out, err = run(["solve", text, "--for", "k", "--params", "3M"], capsys)
    assert code == 0
    assert "below: k = 38: params = 2,935,964" in out and "above: k = 10: params = 3,029,120" in out
    assert "Largest k with params <= 3,000,000: k = 64: params = 794,006" in out
    code, out, err = run(["solve", text, "--for", "k", "--params", "5M", "--max", "--json"], capsys)
    assert code == 0 and json.loads(out) == {"value": 64, "total": 794006}  # --max keeps its meaning


def test_stride_bound_holds_from_an_exact_point(capsys):
    text = "I(64,64,3)-C(8,3,s=k)-F-O(10)"  # params <= 5,000 for every k >= 9 (k = 8: 5,354)
    code, out, err = run(["solve", text, "--for", "k", "--params", "5000", "--max"], capsys)
    assert code == 2
    assert "stays at most 5,000 for every k from 9 on" in err and "about" not in err
    check_against_brute_force(text, 5000, 200, constant_tail=True)
