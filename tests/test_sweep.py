"""Sweeps: totals over a grid from one compiled formula equal per-point evaluation,
with exact floors even where a float floor would be wrong."""

import csv
import json

import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

import symparams
from symparams.analysis.sweep import compile_numpy, parse_values, sweep
from symparams.base.expr import symbol
from symparams.cli import main

LENET = "I-C(32,5)-P(2)-C(32,3)-P(2)-H(256)-O(10)"


def test_grid_equals_per_point_substitution():
    net = symparams.parse("I-C(k,3,s=2)-BN-P(2)-C(2*k,3,p=same)-F-O(10)")
    result = sweep(net, {"h": range(8, 41, 4), "k": [1, 16, 33]}, targets=("params", "macs", "memory"),
                   values={"w": 21, "c": 3})
    fixed = net.subs(w=21, c=3)
    h, k = symbol("h"), symbol("k")
    assert result.totals["params"].shape == (9, 3)
    for i, hv in enumerate(range(8, 41, 4)):
        for j, kv in enumerate([1, 16, 33]):
            at = {h: hv, k: kv}
            assert result.grid["h"][i, j] == hv and result.grid["k"][i, j] == kv
            assert result.totals["params"][i, j] == fixed.params.subs(at)
            assert result.totals["macs"][i, j] == fixed.macs.subs(at)
            assert result.totals["memory"][i, j] == 4 * fixed.params.subs(at)
            assert result.valid[i, j] == all(bool(c.subs(at)) for c in fixed.conditions)


def test_conditions_mark_invalid_points():
    result = sweep(symparams.parse(LENET), {"h": [8, 11, 12, 28]}, values={"w": 28, "c": 1})
    assert result.valid.tolist() == [False, False, True, True]
    assert result.totals["params"][3] == 217_706


def test_floor_is_integer_division_even_for_huge_values():
    h = symbol("h")
    big = 2**60 + 3
    f = compile_numpy(sympy.floor((h - 5) / 3) + 1, [h])
    assert f(np.array([big], dtype=np.int64)).tolist() == [(big - 5) // 3 + 1]
    # Totals beyond int64 switch to exact Python integers.
    result = sweep(symparams.parse("I(n,n,1)-C(32,5)-P(2)-C(32,3)-P(2)-H(256)-O(10)"), {"n": [10**12 + 7]})
    n = symbol("n")
    expected = symparams.parse("I(n,n,1)-C(32,5)-P(2)-C(32,3)-P(2)-H(256)-O(10)").params.subs(n, 10**12 + 7)
    assert result.totals["params"][0] == expected


def test_ideal_mode_sweeps_the_ideal_formula():
    result = sweep(symparams.parse(LENET, mode="ideal"), {"h": [28, 30]}, values={"w": 28, "c": 1})
    assert result.totals["params"].tolist()[0] == 217_706
    assert result.totals["params"].tolist()[1] == pytest.approx(800 + 512 * 22 * 20 + 12106)


def test_parse_values_and_errors():
    assert parse_values("32..512:32")[-1] == 512 and len(parse_values("32..512:32")) == 16
    assert parse_values("5") == [5]
    for bad in ("", "a..b", "5..1", "1..5:0"):
        with pytest.raises(symparams.SymparamsError):
            parse_values(bad)
    with pytest.raises(symparams.SymparamsError, match="also depend on c"):
        sweep(symparams.parse(LENET), {"h": [28], "w": [28]})


def test_cli_writes_csv(tmp_path, capsys):
    out = tmp_path / "out.csv"
    code = main(["sweep", "I-C(k,3)-GAP-O(10)", "--vary", "h=32..512:32", "--vary", "k=16,32,64",
                 "--subs", "w=32,c=3", "--params", "--macs", "--csv", str(out)])
    assert code == 0
    rows = list(csv.DictReader(out.open()))
    assert len(rows) == 16 * 3
    net = symparams.parse("I-C(k,3)-GAP-O(10)")
    for row in rows[::7]:
        point = net.subs(h=int(row["h"]), w=32, c=3, k=int(row["k"]))
        assert int(row["params"]) == point.params and int(row["macs"]) == point.macs
        assert row["valid"] == "true"
    assert "Traceback" not in capsys.readouterr().err


def test_cli_json_and_table(capsys):
    assert main(["sweep", "I(n,n,1)-C(32,5)-P(2)-C(32,3)-P(2)-H(256)-O(10)", "--vary", "n=50..56", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["n"] == list(range(50, 57))
    assert data["params"][2:6] == [1_004_138] * 4
    assert main(["sweep", LENET, "--vary", "h=8,28", "--subs", "w=28,c=1"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["h", "params", "valid"]
    assert lines[1].split() == ["8", "false"] and lines[2].split() == ["28", "217706", "true"]
    assert main(["sweep", LENET, "--vary", "h=1..3:0"]) == 2


@settings(max_examples=10, deadline=None)
@given(f=st.integers(1, 5), s=st.integers(1, 4), p=st.integers(0, 2), sizes=st.lists(st.integers(1, 300), min_size=1,
                                                                                        max_size=8))
def test_random_sweeps_equal_per_point(f, s, p, sizes):
    text = f"I(h,h,3)-C(8,{f},s={s},p={p})-A(2,ceil=true)-F-H(5)"
    net = symparams.parse(text)
    result = sweep(net, {"h": sizes}, targets=("params", "macs"))
    h = symbol("h")
    for i, v in enumerate(sizes):
        valid = all(bool(c.subs(h, v)) for c in net.conditions)
        assert bool(result.valid[i]) == valid
        if valid:
            assert result.totals["params"][i] == net.params.subs(h, v)
            assert result.totals["macs"][i] == net.macs.subs(h, v)
