"""Sweeps stay exact on their fast path: a network with conditions is evaluated in int64
on a sparse grid (the benchmark's 10M configurations/s needs both), a divisibility
condition is evaluated exactly, and values too large for int64 fall back to Python
integers."""

from __future__ import annotations

import numpy as np

import symparams
from symparams.analysis.sweep import per_point


def lenet(h: int, w: int, c: int) -> int:
    return 800 * c + 8192 * (h // 4 - 2) * (w // 4 - 2) + 12106


def test_conditions_keep_the_int64_path_and_the_values_exact() -> None:
    net = symparams.parse("I-C(32,5)-P(2)-C(32,3)-P(2)-H(256)-O(10)")
    assert net.conditions  # h >= 12, w >= 12: they used to force Python objects
    result = net.sweep({"h": range(8, 40), "w": [12, 13, 28, 100]}, values={"c": 3})
    params = result.totals["params"]
    assert params.dtype == np.int64 and params.shape == (32, 4)
    for i, h in enumerate(range(8, 40)):
        for j, w in enumerate([12, 13, 28, 100]):
            assert result.grid["h"][i, j] == h and result.grid["w"][i, j] == w
            assert bool(result.valid[i, j]) == (h >= 12)
            if h >= 12:
                assert params[i, j] == lenet(h, w, 3)


def test_divisibility_conditions_on_the_sparse_grid() -> None:
    net = symparams.parse("I(8,8,c)-C(k,3,g=4)-GAP-O(10)")
    result = net.sweep({"c": range(1, 17), "k": range(1, 17)})
    for i, c in enumerate(range(1, 17)):
        for j, k in enumerate(range(1, 17)):
            assert bool(result.valid[i, j]) == (c % 4 == 0 and k % 4 == 0)
            if result.valid[i, j]:  # elsewhere the formula is not a network's count
                assert result.totals["params"][i, j] == per_point(net, ["c", "k"], [c, k])


def test_values_beyond_int64_stay_exact() -> None:
    net = symparams.parse("I(h,w,3)-C(8,3)-H(n)")
    big = [10**7, 10**7 + 3]
    result = net.sweep({"h": big, "w": big, "n": [10**6]})
    params = result.totals["params"]
    assert params.dtype == object
    for i, h in enumerate(big):
        for j, w in enumerate(big):
            exact = 8 * 27 + 8 + (h - 2) * (w - 2) * 8 * 10**6 + 10**6
            assert params[i, j, 0] == exact
