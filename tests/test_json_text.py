"""report.data.json_text writes JSON itself for speed: it must be json.dumps(indent=2)
byte for byte, for the values a result holds and for any others (which it hands over)."""

from __future__ import annotations

import json
import math

from hypothesis import given, settings
from hypothesis import strategies as st

from symparams.report.data import json_text

_leaves = (
    st.text()  # any unicode: ensure_ascii's escapes, quotes, control characters
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.booleans()
    | st.none()
)
_keys = st.text(max_size=8) | st.integers(-5, 5) | st.booleans()  # json.dumps turns int and bool keys into text
_values = st.recursive(
    _leaves,
    lambda inner: st.lists(inner, max_size=4)
    | st.tuples(inner, inner)
    | st.dictionaries(_keys, inner, max_size=4),
    max_leaves=30,
)


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(st.text(max_size=8), _values, max_size=6))
def test_json_text_is_json_dumps_with_indent_2(data):
    assert json_text(data) == json.dumps(data, indent=2)


def test_json_text_of_a_result_reads_back():
    import symparams
    from symparams.report.data import to_dict, to_json

    net = symparams.parse("I(h,w,3)-C(8,3,p=1)-[BN-relu | id]-GAP-O(10)")
    assert to_json(net) == json.dumps(to_dict(net), indent=2)
    assert json.loads(to_json(net))["symbols"] == ["h", "w"]


def test_json_text_handles_what_only_json_writes():
    for value in ({"x": math.nan}, {"x": (1, 2)}, {1: "a"}, {"x": [float("inf"), {}, []]}):
        assert json_text(value) == json.dumps(value, indent=2)


def test_the_list_of_symbols_names_one_only_the_costs_hold():
    """Network.free_symbols adds up the costs only when their rows hold a symbol the
    counts and shapes do not: a sliding window W changes only the key/value cache, a
    shared block's n only its MACs."""
    import symparams
    from symparams.report.data import to_dict

    for text, symbols in [
        ("I(t,64)-MHA(8)", ["t"]),
        ("I(t,64)-[MHA(8,window=W)+id]*2-LN", ["W", "t"]),
        ("I(t,64)-(MHA(8))**n", ["n", "t"]),
        ("I(h,w,3)-C(8,3)*2-GAP", ["h", "w"]),
    ]:
        net = symparams.parse(text)
        assert to_dict(net)["symbols"] == symbols, text
        assert to_dict(symparams.parse(text, mode="ideal"))["symbols"] == symbols, text
        exact = set().union(*(getattr(net, key).free_symbols for key in ("macs", "kv_cache", "saved")))
        assert exact <= {symparams.base.expr.symbol(s) for s in symbols}, text
